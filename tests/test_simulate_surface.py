"""Tests of oco2explore.simulate.surface: land mask, terrain, surface pressure and water vapour."""

from __future__ import annotations

import numpy as np

from oco2explore.simulate import REGIONS, land_mask


def test_land_mask() -> None:
    # Sahara, Atlantic, Highveld, Pacific, Germany, south of Australia.
    lat = np.array([23.0, 30.0, -26.3, 0.0, 52.0, -40.0])
    lon = np.array([12.0, -40.0, 28.9, -150.0, 10.0, 140.0])
    assert land_mask(lat, lon).tolist() == [True, False, True, False, True, False]


def test_terrain_drives_surface_pressure_and_water(full_day) -> None:
    df, _ = full_day
    highveld = df[REGIONS["highveld"].contains(df["latitude"], df["longitude"])]
    assert 820 < highveld["psurf"].median() < 870
    ocean = df[df["land_water_indicator"] == 1]
    assert 1000 < ocean["psurf"].median() < 1025
    assert (df["tcwv"] > 0).all()
    assert highveld["tcwv"].median() < ocean["tcwv"].median()
