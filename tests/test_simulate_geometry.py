"""Tests of oco2explore.simulate.geometry: orbit numbers, ground track, frames, sounding ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from oco2explore.geo import haversine_km
from oco2explore.simulate import (
    ANCHOR_LAT,
    ANCHOR_LON,
    ANCHOR_ORBIT,
    ANCHOR_TIME,
    ground_track,
    orbit_at,
)


def test_orbit_geometry(full_day) -> None:
    df, _ = full_day
    assert 14 <= df["orbit"].nunique() <= 16
    assert (df["solar_zenith_angle"] < 80.5).all()
    # Daytime side ascending: latitude grows with time in every orbit (up to the turn north).
    for _, track in df[df["latitude"].abs() < 60].groupby(["orbit", "footprint"]):
        assert (np.diff(track.sort_values("time")["latitude"].to_numpy()) > 0).all()
    # Equator crossed northbound at ~13:36 local solar time.
    eq = df[(df["latitude"].abs() < 0.05)]
    local_h = (eq["time"].dt.hour + eq["time"].dt.minute / 60 + eq["longitude"] / 15) % 24
    assert np.all(np.abs(local_h - 13.6) < 0.35)
    # Frames ~2.25 km apart, footprints ~1.3 km apart across track.
    one = df[(df["orbit"] == ANCHOR_ORBIT) & (df["footprint"] == 4)].sort_values("time")
    dt = np.diff(one["time"].astype("int64").to_numpy()) / 1e9
    step = haversine_km(
        one["latitude"].to_numpy()[:-1],
        one["longitude"].to_numpy()[:-1],
        one["latitude"].to_numpy()[1:],
        one["longitude"].to_numpy()[1:],
    )
    assert np.allclose(step[np.isclose(dt, 1 / 3, atol=0.01)], 2.25, atol=0.1)
    frame = df[df["time"] == df["time"].iloc[1000]].sort_values("footprint")
    across = haversine_km(
        frame["latitude"].to_numpy()[:-1],
        frame["longitude"].to_numpy()[:-1],
        frame["latitude"].to_numpy()[1:],
        frame["longitude"].to_numpy()[1:],
    )
    gaps = np.diff(frame["footprint"].to_numpy())
    assert np.allclose(across / gaps, 1.3, atol=0.01)


def test_sounding_ids_follow_the_real_encoding(full_day) -> None:
    df, _ = full_day
    ids = df["sounding_id"]
    assert (ids.astype(str).str.len() == 16).all()
    assert (ids % 10 == df["footprint"]).all()
    stamp = df["time"].dt.strftime("%Y%m%d%H%M%S").astype(np.int64)
    assert (ids // 100 == stamp).all()
    assert ids.is_unique


def test_orbit_numbers() -> None:
    assert orbit_at(ANCHOR_TIME) == ANCHOR_ORBIT
    assert orbit_at(ANCHOR_TIME + pd.Timedelta(days=16)) == ANCHOR_ORBIT + 233  # repeat cycle


def test_orbit_11522_crosses_the_highveld_at_the_real_time() -> None:
    u = np.linspace(-40, -10, 300001)
    t, lat, lon = ground_track(ANCHOR_ORBIT, u)
    d = haversine_km(lat, lon, ANCHOR_LAT, ANCHOR_LON)
    i = int(np.argmin(d))
    assert d[i] < 0.5
    assert abs(t[i] - ANCHOR_TIME.timestamp()) < 1.0


def test_ground_track_follows_the_real_orbit_11522(real_data: Path) -> None:
    real = pd.read_csv(real_data / "oco2_orbit11522_20160831_highveld_peak.csv")
    u = np.linspace(-40, -10, 30001)
    _, lat, lon = ground_track(ANCHOR_ORBIT, u)
    for row in real.iloc[[0, len(real) // 2, -1]].itertuples():
        # Within the 5 km half-swath of the real footprints, 250 km either side of the anchor.
        assert haversine_km(lat, lon, row.latitude, row.longitude).min() < 5.0
