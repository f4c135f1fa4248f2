"""Tests of oco2explore.soundings: frame ids, along-track distance, normalising, reading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oco2explore.errors import InputError, SchemaError
from oco2explore.geo import destination, haversine_km
from oco2explore.readers import read_soundings
from oco2explore.schema import SOUNDING_COLUMNS
from oco2explore.simulate import simulate, simulate_orbit
from oco2explore.soundings import add_distance_km, frame_id, normalise_soundings
from oco2explore.tableio import write_table


@pytest.fixture(scope="module")
def orbit() -> pd.DataFrame:
    """All written soundings of the real Highveld orbit over Africa (a long straight stretch)."""
    soundings, _ = simulate_orbit(
        11522, seed=0, start="2016-08-31T11:40:00Z", end="2016-08-31T12:10:00Z"
    )
    return soundings


def test_frame_id_drops_the_footprint_digit() -> None:
    ids = np.array([2016083111560007, 2016083111560001, 2016083111560338])
    assert frame_id(ids).tolist() == [201608311156000, 201608311156000, 201608311156033]


def test_distance_is_non_decreasing_in_time_and_shared_by_a_frame(orbit) -> None:
    df = add_distance_km(orbit.sample(frac=1.0, random_state=1))
    assert df["time"].is_monotonic_increasing
    assert df["distance_km"].iloc[0] == 0.0
    assert (np.diff(df["distance_km"].to_numpy()) >= 0).all()
    per_frame = df.groupby(frame_id(df["sounding_id"]))["distance_km"].nunique()
    assert (per_frame == 1).all()


def test_distance_agrees_with_great_circle_over_a_straight_stretch(orbit) -> None:
    df = add_distance_km(orbit)
    frames = df.groupby(frame_id(df["sounding_id"]))[["latitude", "longitude", "distance_km"]]
    centres = frames.mean()
    first, last = centres.iloc[0], centres.iloc[-1]
    great_circle = haversine_km(first.latitude, first.longitude, last.latitude, last.longitude)
    along = last.distance_km - first.distance_km
    assert great_circle > 5000
    assert along == pytest.approx(great_circle, rel=0.005)
    # Also between far-apart frames in the middle of the stretch.
    a, b = centres.iloc[len(centres) // 4], centres.iloc[3 * len(centres) // 4]
    middle = haversine_km(a.latitude, a.longitude, b.latitude, b.longitude)
    assert b.distance_km - a.distance_km == pytest.approx(middle, rel=0.005)


def test_distance_is_per_orbit_and_handles_the_dateline() -> None:
    # Two orbits; the second crosses 180° going east: frame centres must not jump.
    lat = np.linspace(-1.0, 1.0, 50)
    lat2, lon2 = destination(0.0, 179.9, 90.0, np.linspace(0.0, 50.0, 50))
    df = pd.DataFrame(
        {
            "orbit": np.repeat([1, 2], 50),
            "latitude": np.concatenate([lat, lat2]),
            "longitude": np.concatenate([np.full(50, 10.0), lon2]),
            "xco2": 400.0,
        }
    )
    out = add_distance_km(df)
    one, two = out[out["orbit"] == 1], out[out["orbit"] == 2]
    assert one["distance_km"].iloc[0] == two["distance_km"].iloc[0] == 0.0
    assert one["distance_km"].iloc[-1] == pytest.approx(2.0 * 111.195, rel=1e-3)
    assert two["distance_km"].iloc[-1] == pytest.approx(50.0, rel=1e-6)


def test_normalise_casts_to_the_contract_dtypes() -> None:
    df = pd.DataFrame(
        {
            "orbit": [11522, 11522],
            "footprint": [1, 2],
            "latitude": np.array([-26.0, -26.01], dtype=np.float32),
            "longitude": [28.9, 28.9],
            "xco2": [403.1, 404.2],
            "xco2_quality_flag": [0, 1],
            "time": ["2016-08-31T11:56:00Z", "2016-08-31T11:56:00.3Z"],
            "sounding_id": [2016083111560001, 2016083111560002],
        }
    )
    out = normalise_soundings(df)
    for col in out.columns:
        assert str(out[col].dtype) == SOUNDING_COLUMNS[col][0], col
    assert out["time"].iloc[0] == pd.Timestamp("2016-08-31T11:56:00Z")
    assert "distance_km" in out


def test_normalise_names_missing_and_bad_columns() -> None:
    with pytest.raises(SchemaError, match="missing column.*xco2") as info:
        normalise_soundings(pd.DataFrame({"orbit": [1], "latitude": [0.0]}), source="t.csv")
    assert str(info.value).startswith("t.csv: ")
    bad = pd.DataFrame({"orbit": [1], "latitude": [0.0], "longitude": [0.0], "xco2": ["high"]})
    with pytest.raises(SchemaError, match="column 'xco2': 'high' is not a number"):
        normalise_soundings(bad)


def test_read_soundings_from_tables_lite_files_and_folders(tmp_path: Path, orbit) -> None:
    table = normalise_soundings(orbit)
    for name in ("s.parquet", "s.csv"):
        write_table(table, tmp_path / name)
        good = read_soundings(tmp_path / name, quality="good")
        assert len(good) == (table["xco2_quality_flag"] == 0).sum()
        assert len(read_soundings(tmp_path / name, quality="all")) == len(table)
        assert good["time"].dtype == "datetime64[ns, UTC]"
    lite = tmp_path / "lite"
    (path,) = simulate(lite, start="2016-08-31", regions=["highveld"])
    from_folder = read_soundings(lite)
    from_file = read_soundings(path)
    pd.testing.assert_frame_equal(from_folder, from_file)
    assert (from_file["xco2_quality_flag"] == 0).all()
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no Lite NetCDF files"):
        read_soundings(tmp_path / "empty")
    with pytest.raises(InputError, match="no such file"):
        read_soundings(tmp_path / "missing.parquet")


def test_distance_of_real_soundings_without_ids(real_data: Path) -> None:
    # Rows are single soundings zig-zagging across the 10 km swath, in along-track order.
    real = pd.read_csv(real_data / "oco2_orbit11522_20160831_highveld_peak.csv")
    real = real.sort_values("distance_km", kind="stable")
    out = add_distance_km(real.drop(columns="distance_km").assign(orbit=11522))
    published = real["distance_km"].to_numpy() - real["distance_km"].iloc[0]
    assert out["distance_km"].iloc[-1] == pytest.approx(published[-1], rel=0.005)
    assert np.abs(out["distance_km"].to_numpy() - published).max() < 5.0
