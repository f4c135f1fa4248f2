"""Tests of oco2explore.simulate.regions: the volume and quality of the written soundings."""

from __future__ import annotations

import numpy as np


def test_volume_and_quality_of_a_day(full_day) -> None:
    df, _ = full_day
    assert 1e5 <= len(df) <= 2e5
    bad = df["xco2_quality_flag"].to_numpy()
    assert 0.4 <= bad.mean() <= 0.6
    # Bad soundings come in runs, not salt and pepper.
    fp1 = df[df["footprint"] == 1].sort_values("time")["xco2_quality_flag"].to_numpy()
    runs = np.count_nonzero(np.diff(fp1)) + 1
    assert fp1.size / runs > 4
    # Clouds are gaps: some consecutive written frames are far apart.
    frames = df.drop_duplicates("time").sort_values("time")
    steps = np.diff(frames["time"].astype("int64").to_numpy()) / 1e9
    assert np.isclose(np.median(steps), 1 / 3, atol=0.01)
    assert (steps > 10).sum() > 100
    assert set(df["land_water_indicator"]) == {0, 1}
    assert set(df["operation_mode"]) == {0, 1}
