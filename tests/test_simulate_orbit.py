"""Tests of oco2explore.simulate.orbit: a selection gives the same data as the whole day."""

from __future__ import annotations

import numpy as np

from oco2explore.simulate import simulate_day

DAY = "2016-08-31"


def test_a_region_is_the_same_data_as_the_full_day(full_day) -> None:
    region, _ = simulate_day(DAY, seed=0, regions=["highveld"])
    full = full_day[0].set_index("sounding_id")
    assert region["sounding_id"].isin(full.index).all()
    sub = full.loc[region["sounding_id"]]
    assert np.allclose(sub["xco2"], region["xco2"])
    assert np.allclose(sub["windspeed_v_met"], region["windspeed_v_met"])
