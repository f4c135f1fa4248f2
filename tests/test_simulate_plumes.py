"""Tests of oco2explore.simulate.plumes: the plume model, its sources and the truth crossings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oco2explore.emission import line_density_kg_per_m, ppm_per_kg_per_m2
from oco2explore.geo import haversine_km
from oco2explore.simulate import ANCHOR_ORBIT, TRUTH_COLUMNS, plume_column_kg_per_m2, simulate_orbit


def test_plume_mass_balance_gives_back_the_emission() -> None:
    q, wind, angle = 500.0, 4.0, np.radians(55.0)
    s = np.linspace(-100, 100, 40001)  # km along a straight track through (20 km downwind, 0)
    x = 20.0 + s * np.cos(angle)
    y = s * np.sin(angle)
    column = plume_column_kg_per_m2(x, y, q, wind)
    integral = np.trapezoid(column, s * 1000.0)
    assert integral * wind * np.sin(angle) == pytest.approx(q, rel=0.01)
    assert ppm_per_kg_per_m2(848.3, 6.14) == pytest.approx(76.1, rel=0.01)


def test_truth_plumes_are_in_the_data(full_day, null_day) -> None:
    df, truth = full_day
    null, null_truth = null_day
    assert null_truth.empty
    assert list(truth.columns) == list(TRUTH_COLUMNS)
    assert len(truth) > 50
    assert (truth["delta_ppm"] >= 0.1).all()
    assert np.allclose(
        truth["amplitude"], truth["delta_ppm"] * truth["sigma_km"] * np.sqrt(2 * np.pi)
    )
    assert np.allclose(truth["emission_kg_per_s"], truth["emission_t_per_yr"] / 31557.6)
    # Cross-sectional flux of the truth gives back the emission.
    line = line_density_kg_per_m(truth["amplitude"], truth["psurf"], truth["tcwv"])
    assert np.allclose(line * truth["wind_perp"], truth["emission_kg_per_s"], rtol=1e-9)
    assert (df["sounding_id"].to_numpy() == null["sounding_id"].to_numpy()).all()
    signal = pd.Series(df["xco2"].to_numpy() - null["xco2"].to_numpy(), index=df["sounding_id"])
    strong = truth[(truth["delta_ppm"] > 1.0) & (truth["n_good_soundings"] > 0)]
    assert len(strong) >= 3
    for row in strong.itertuples():
        others = truth[(truth["orbit"] == row.orbit) & (truth["plume_id"] != row.plume_id)]
        gap = haversine_km(
            others["crossing_latitude"], others["crossing_longitude"],
            row.crossing_latitude, row.crossing_longitude,
        )  # fmt: skip
        if (gap < 5 * row.sigma_km + 20).any():
            continue  # overlapping plumes add up
        at_crossing = signal[row.crossing_sounding_id]
        # The nearest sounding may sit up to a footprint off the plume axis.
        assert 0.3 * row.delta_ppm < at_crossing < 1.3 * row.delta_ppm + 0.1, row.plume_id
    # Where the plumes add more than 0.5 ppm, a truth crossing of that orbit is near
    # (unless the wind blows along the track: such plumes never cross its centre line).
    wind_heading = np.arctan2(df["windspeed_u_met"], df["windspeed_v_met"])
    across = np.abs(np.sin(wind_heading - np.radians(df["track_heading_deg"]))) > 0.5
    hit = df[(signal.to_numpy() > 0.5) & across]
    for orbit, rows in hit.groupby("orbit"):
        crossings = truth[truth["orbit"] == orbit]
        d = haversine_km(
            rows["latitude"].to_numpy()[:, None],
            rows["longitude"].to_numpy()[:, None],
            crossings["crossing_latitude"].to_numpy()[None, :],
            crossings["crossing_longitude"].to_numpy()[None, :],
        )
        assert (d.min(axis=1) < 60).all()


def test_highveld_plume_stands_out_of_the_noise() -> None:
    soundings, truth = simulate_orbit(ANCHOR_ORBIT, seed=0, regions=["highveld"])
    kendal = truth[truth["source_id"] == "CoCO2_14613"]
    assert len(kendal) == 1
    row = kendal.iloc[0]
    assert row["emission_t_per_yr"] > 1e7
    good = soundings[soundings["xco2_quality_flag"] == 0]
    d = haversine_km(
        good["latitude"], good["longitude"], row["crossing_latitude"], row["crossing_longitude"]
    )
    near = good["xco2"][d < row["sigma_km"]].mean()
    far = good["xco2"][(d > 60) & (d < 150)].mean()
    assert near - far > 0.5 * row["delta_ppm"] > 1.0
