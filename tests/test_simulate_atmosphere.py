"""Tests of oco2explore.simulate.atmosphere: the background XCO2."""

from __future__ import annotations

import numpy as np


def test_background_has_undulations_of_a_few_tenths_ppm(null_day) -> None:
    df, _ = null_day
    good = df[df["xco2_quality_flag"] == 0]
    # 20 km bins along each orbit: the bin means vary by more than their noise.
    good = good.assign(bin=(good["distance_km"] // 20).astype(int))
    means = good.groupby(["orbit", "bin"])["xco2"].agg(["mean", "count"])
    means = means[means["count"] >= 40]["mean"]
    local = means - means.groupby(level=0).transform(lambda s: s.rolling(51, center=True).mean())
    assert 0.1 < np.nanstd(local) < 0.6
