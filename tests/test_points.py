"""Tests of oco2explore.points: the real California portal file, made-up NetCDF/CSV/Parquet
files under other common names, and every missing-variable error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest

from oco2explore.errors import InputError, SchemaError
from oco2explore.lite import extract, read_lite
from oco2explore.points import (
    MAX_PER_SECOND,
    PASS_GAP_S,
    REQUIRED,
    is_points_file,
    parse_times,
    read_points,
    read_points_file,
    split_passes,
    synthetic_sounding_ids,
)
from oco2explore.readers import read_soundings
from oco2explore.schema import DIAGNOSTIC_COLUMNS, SOUNDING_COLUMNS
from oco2explore.soundings import frame_id
from oco2explore.tableio import read_table, write_table

CALIFORNIA = "california/OCO2LtCO2v9_L2_20140905_000000_20141031_235959.nc"


@pytest.fixture(scope="module")
def california(real_data: Path) -> pd.DataFrame:
    return read_points(real_data / CALIFORNIA, quality="all")


def _pass_on(df: pd.DataFrame, day: str) -> pd.DataFrame:
    """The longest pass of a day."""
    on_day = df[df["time"].dt.strftime("%Y-%m-%d") == day]
    return on_day[on_day["orbit"] == on_day["orbit"].value_counts().idxmax()]


def test_california_file_as_it_is(california: pd.DataFrame, real_data: Path) -> None:
    df = california
    assert is_points_file(real_data / CALIFORNIA)
    assert len(df) == 30_815
    for col, (dtype, _unit) in SOUNDING_COLUMNS.items():
        if col in df:
            assert str(df[col].dtype) == dtype, col
    # Good soundings only, documented in the file: flag 0; no uncertainty, no made-up one.
    assert (df["xco2_quality_flag"] == 0).all()
    assert "xco2_uncertainty" not in df
    assert len(read_points(real_data / CALIFORNIA, quality="good")) == 30_815
    # Passes: > 10 min apart, none longer than a few minutes; pass id = start minute.
    passes = df.groupby("orbit")["time"].agg(["min", "max"]).sort_values("min")
    assert len(passes) == 19
    assert (passes["max"] - passes["min"]).max() < pd.Timedelta(minutes=4)
    assert (passes["min"].iloc[1:].to_numpy() - passes["max"].iloc[:-1].to_numpy()).min() > (
        np.timedelta64(int(PASS_GAP_S), "s")
    )
    starts = pd.to_datetime(passes.index.to_numpy(), unit="m", utc=True)
    assert (starts == passes["min"].dt.floor("min").to_numpy()).all()
    # Synthetic ids: unique, 17 digits, time of the second first, each sounding its own frame.
    sid = df["sounding_id"]
    assert sid.is_unique
    assert (sid.astype(str).str.len() == 17).all() and (sid % 10 == 0).all()
    assert (sid.astype(str).str[:14] == df["time"].dt.strftime("%Y%m%d%H%M%S")).all()
    assert pd.Series(frame_id(sid)).is_unique
    # Along each pass: distance non-decreasing, time non-decreasing.
    for _, p in df.groupby("orbit"):
        assert p["distance_km"].is_monotonic_increasing
        assert p["time"].is_monotonic_increasing
    # alt is labelled km but holds metres (0 over the ocean, ~3.8 km in the Sierra Nevada).
    assert df["altitude"].max() == pytest.approx(3781.1, abs=0.1)
    assert (df.loc[df["land_water_indicator"] == 1, "altitude"] < 50).all()
    # The diagnostics the file has are filled; the one it lacks is NaN.
    for col in ("albedo_o2a", "albedo_wco2", "albedo_sco2", "aod_total"):
        assert df[col].between(0, 1).all(), col
    assert df["altitude_stddev"].isna().all()
    assert df["windspeed"].notna().sum() == 91  # retrieved over water only


def test_california_los_angeles_and_las_vegas_passes(california: pd.DataFrame) -> None:
    la = _pass_on(california, "2014-09-23")
    assert len(la) == 1761
    assert la["time"].min() == pd.Timestamp("2014-09-23T20:53:11Z")
    assert la["latitude"].min() == pytest.approx(32.32, abs=0.01)
    assert la["latitude"].max() == pytest.approx(39.95, abs=0.01)
    basin = la[la["latitude"].between(33.7, 33.9)]
    assert len(basin) == 53  # the eastern basin (Riverside, Corona), 20:53:36-40
    assert basin["longitude"].between(-117.61, -117.47).all()
    # A northbound pass: soundings of one second ordered south to north.
    assert la["latitude"].iloc[-1] > la["latitude"].iloc[0]

    lv = _pass_on(california, "2014-10-09")
    assert len(lv) == 3394
    assert lv["latitude"].min() == pytest.approx(32.32, abs=0.01)
    assert lv["latitude"].max() == pytest.approx(42.29, abs=0.01)
    valley = lv[lv["latitude"].between(36.1, 36.25)]
    assert len(valley) == 29  # the west side of the valley, 20:53:24-27
    assert valley["longitude"].between(-115.42, -115.32).all()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "oco2explore.cli", *args], capture_output=True, text=True
    )


def test_cli_detect_and_extract_read_the_california_file(real_data: Path, tmp_path: Path) -> None:
    done = _cli("detect", str(real_data / CALIFORNIA), "--out", str(tmp_path / "peaks.csv"), "-q")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    peaks = read_table(tmp_path / "peaks.csv")
    assert len(peaks) > 0
    table = read_points(real_data / CALIFORNIA)
    assert set(peaks["orbit"]) <= set(table["orbit"])
    assert set(peaks["sounding_id"]) <= set(table["sounding_id"])

    done = _cli("extract", str(real_data / CALIFORNIA), "--out", str(tmp_path / "s.parquet"), "-q")
    assert done.returncode == 0, done.stderr
    extracted = read_soundings(tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(extracted, table)


# --- made-up files under other common names --------------------------------------------------

T0 = pd.Timestamp("2020-06-01T10:00:00Z")


def _track() -> pd.DataFrame:
    """Two passes 20 min apart: northbound (3 soundings a second), then southbound."""
    n = 30
    sec = np.repeat(np.arange(n // 3), 3)
    north = pd.DataFrame(
        {
            "time": T0 + pd.to_timedelta(sec, unit="s"),
            "lat": 30.0 + 0.02 * np.arange(n),
            "lon": -100.0 + 0.01 * (np.arange(n) % 3),
        }
    )
    south = pd.DataFrame(
        {
            "time": T0 + pd.Timedelta(minutes=20) + pd.to_timedelta(sec, unit="s"),
            "lat": 40.0 - 0.02 * np.arange(n),
            "lon": -90.0 + 0.01 * (np.arange(n) % 3),
        }
    )
    df = pd.concat([north, south], ignore_index=True)
    df["xco2"] = 410.0 + 0.01 * np.arange(len(df))
    # Shuffled rows: the reader orders them.
    return df.sample(frac=1.0, random_state=1).reset_index(drop=True)


def _check_track(df: pd.DataFrame) -> None:
    assert len(df) == 60
    assert df["orbit"].nunique() == 2
    starts = sorted(pd.to_datetime(df["orbit"].unique(), unit="m", utc=True))
    assert starts == [T0, T0 + pd.Timedelta(minutes=20)]
    assert df["sounding_id"].is_unique
    for _, p in df.groupby("orbit"):
        assert p["distance_km"].is_monotonic_increasing
        assert p["distance_km"].iloc[-1] == pytest.approx(29 * 0.02 * 111.2, rel=0.02)
        lat = p["latitude"].to_numpy()
        step = np.diff(lat)
        assert (step > 0).all() or (step < 0).all()  # along the direction of travel
    for col in DIAGNOSTIC_COLUMNS:
        assert df[col].isna().all()


def test_csv_with_iso_times_and_short_names(tmp_path: Path) -> None:
    track = _track().rename(columns={"lat": "Latitude", "lon": "Longitude", "xco2": "XCO2"})
    track["time"] = track["time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    path = tmp_path / "points.csv"
    track.to_csv(path, index=False)
    assert is_points_file(path)
    df = read_soundings(path)
    _check_track(df)
    assert "xco2_quality_flag" not in df and "xco2_uncertainty" not in df
    assert df["time"].dtype == "datetime64[ns, UTC]"


def test_parquet_with_datetimes_uncertainty_and_altitude_in_km(tmp_path: Path) -> None:
    track = _track().rename(columns={"lat": "latitude", "lon": "longitude"})
    track["time"] = track["time"].dt.tz_localize(None)  # naive = UTC
    track["xco2_error"] = 0.5
    track["altitude_km"] = 1.25
    track["quality_flag"] = (np.arange(len(track)) % 4 == 0).astype(np.int8)
    path = tmp_path / "points.parquet"
    track.to_parquet(path)
    everything = read_points(path, quality="all")
    _check_track(everything)
    assert np.allclose(everything["xco2_uncertainty"], 0.5)
    assert np.allclose(everything["altitude"], 1250.0)
    good = read_points(path, quality="good")
    assert len(good) == 45 and (good["xco2_quality_flag"] == 0).all()
    # Ids do not depend on the quality policy.
    assert set(good["sounding_id"]) < set(everything["sounding_id"])


def _write_nc(path: Path, columns: dict[str, tuple[np.ndarray, dict]], attrs=None) -> Path:
    with netCDF4.Dataset(path, "w") as ds:
        ds.setncatts(attrs or {})
        n = len(next(iter(columns.values()))[0])
        ds.createDimension("points_dimension", n)
        for name, (values, var_attrs) in columns.items():
            values = np.asarray(values)
            if values.dtype.kind in "OU":
                var = ds.createVariable(name, str, ("points_dimension",))
                var[:] = values.astype(object)
            else:
                var = ds.createVariable(name, values.dtype, ("points_dimension",))
                var[:] = values
            var.setncatts(var_attrs)
    return path


def test_netcdf_with_cf_seconds_quality_flag_and_km_altitude(tmp_path: Path) -> None:
    track = _track()
    seconds = (track["time"] - pd.Timestamp("1993-01-01", tz="UTC")).dt.total_seconds()
    flag = (np.arange(len(track)) % 5 == 0).astype(np.int8)
    path = _write_nc(
        tmp_path / "points.nc",
        {
            "Time": (seconds.to_numpy(), {"units": "seconds since 1993-01-01 00:00:00"}),
            "Latitude": (track["lat"].to_numpy(), {}),
            "Longitude": (track["lon"].to_numpy(), {}),
            "xco2": (track["xco2"].to_numpy(np.float32), {"invalid_value": -999999.0}),
            "alt": (np.full(len(track), 0.35), {"units": "km"}),
            "aod_total": (np.full(len(track), 0.1, np.float32), {}),
            "xco2_quality_flag": (flag, {}),
        },
    )
    assert is_points_file(path)
    everything = read_points(path, quality="all")
    _check_track(everything.assign(aod_total=np.nan))
    assert np.allclose(everything["altitude"], 350.0)
    assert np.allclose(everything["aod_total"], 0.1)
    assert len(read_points(path)) == (flag == 0).sum()
    # The folder reader and the Lite entry point read it too.
    pd.testing.assert_frame_equal(read_lite(path), read_points(path))
    pd.testing.assert_frame_equal(read_soundings(tmp_path), read_points(path))


def test_netcdf_with_stamp_integers_fills_and_good_only_attribute(tmp_path: Path) -> None:
    track = _track()
    stamps = track["time"].dt.strftime("%Y%m%d%H%M%S").astype(np.int64).to_numpy()
    xco2 = track["xco2"].to_numpy(np.float32)
    xco2[3] = -999999.0
    lat = track["lat"].to_numpy(copy=True)
    lat[7] = np.nan
    path = _write_nc(
        tmp_path / "points.nc4",
        {
            "time": (stamps, {}),
            "lat": (lat, {}),
            "lon": (track["lon"].to_numpy(), {}),
            "XCO2": (xco2, {"invalid_value": -999999.0}),
        },
        attrs={"xco2_quality_flag": 0},
    )
    df = read_points(path)
    assert len(df) == 59  # the sounding without a latitude is dropped
    assert df["xco2"].isna().sum() == 1
    assert (df["xco2_quality_flag"] == 0).all()
    assert df["time"].min() == T0


def test_netcdf_with_character_array_times(tmp_path: Path) -> None:
    track = _track()
    stamps = track["time"].dt.strftime("%Y%m%d%H%M%S").to_numpy().astype("S14")
    path = tmp_path / "chars.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("n", len(track))
        ds.createDimension("nchar", 14)
        ds.createVariable("time", "S1", ("n", "nchar"))[:] = netCDF4.stringtochar(stamps)
        for name in ("lat", "lon", "xco2"):
            ds.createVariable(name, "f8", ("n",))[:] = track[name].to_numpy()
    _check_track(read_points(path))


# --- errors ----------------------------------------------------------------------------------


def _table_without(tmp_path: Path, drop: tuple[str, ...], suffix: str) -> Path:
    track = _track().rename(columns={"lat": "latitude", "lon": "longitude"})
    track = track.drop(columns=list(drop))
    path = tmp_path / f"bad{suffix}"
    if suffix == ".nc":
        if "time" in track:
            track["time"] = track["time"].dt.strftime("%Y%m%d%H%M%S")
        _write_nc(path, {c: (track[c].to_numpy(), {}) for c in track})
    elif suffix == ".csv":
        track.to_csv(path, index=False)
    else:
        track.to_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".nc", ".csv", ".parquet"])
@pytest.mark.parametrize("missing", [(c,) for c in REQUIRED] + [("time", "xco2")])
def test_missing_variable_is_one_error_naming_file_and_variable(
    tmp_path: Path, suffix: str, missing: tuple[str, ...]
) -> None:
    path = _table_without(tmp_path, missing, suffix)
    with pytest.raises(SchemaError) as info:
        read_points(path)
    text = str(info.value)
    assert text.startswith(f"{path}: missing variable(s): ")
    named = [part.split(" ")[0] for part in info.value.reason.split(": ", 1)[1].split("; ")]
    assert named == list(missing)
    assert "\n" not in text


def test_cli_names_the_missing_variable_with_exit_status_2(tmp_path: Path) -> None:
    path = _table_without(tmp_path, ("xco2",), ".nc")
    done = _cli("detect", str(path), "--out", str(tmp_path / "p.csv"), "-q")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"oco2explore detect: error: {path}: missing variable(s): xco2 (as xco2)"
    )
    assert not (tmp_path / "p.csv").exists()


def test_extract_lists_a_bad_point_file_and_keeps_the_good(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    _track().to_csv(good, index=False)
    bad = _table_without(tmp_path, ("latitude",), ".csv")
    failures = extract([good, bad], tmp_path / "s.parquet", progress=False)
    assert [p for p, _ in failures] == [bad]
    assert failures[0][1].startswith("missing variable(s): latitude")
    assert len(read_table(tmp_path / "s.parquet")) == 60


def test_bad_shapes_lengths_and_times(tmp_path: Path) -> None:
    path = tmp_path / "grid.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("y", 2)
        ds.createDimension("x", 3)
        ds.createVariable("lat", "f8", ("y", "x"))[:] = np.ones((2, 3))
        for name in ("lon", "xco2", "time"):
            ds.createVariable(name, "f8", ("x",))[:] = np.ones(3)
    with pytest.raises(SchemaError, match="'lat' has shape \\(2, 3\\)"):
        read_points(path)
    with netCDF4.Dataset(path, "a") as ds:
        ds.renameVariable("lat", "grid_lat")
        ds.createVariable("lat", "f8", ("y",))[:] = np.ones(2)
    with pytest.raises(SchemaError, match="variable\\(s\\) time, lon, xco2 not of length 2"):
        read_points(path)

    track = _track()
    track["time"] = "yesterday"
    track.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(SchemaError, match="cannot read 'time' as times"):
        read_points(tmp_path / "t.csv")

    track["time"] = np.arange(len(track)) * 1.0  # 1970: not seconds of a satellite sounding
    track.to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(SchemaError, match="neither seconds since 1970"):
        read_points(tmp_path / "s.csv")

    with pytest.raises(InputError, match="no such file"):
        read_points(tmp_path / "missing.nc")
    with pytest.raises(InputError, match="quality"):
        read_points_file(tmp_path / "t.csv", quality="best")


def test_which_files_are_point_files(tmp_path: Path) -> None:
    from test_lite import _not_lite, make_lite_file

    assert not is_points_file(make_lite_file(tmp_path / "lite.nc4"))
    assert not is_points_file(_not_lite(tmp_path / "other.nc"))
    contract = read_lite(tmp_path / "lite.nc4")
    assert not is_points_file(write_table(contract, tmp_path / "contract.parquet"))
    assert not is_points_file(write_table(contract, tmp_path / "contract.csv"))
    assert not is_points_file(tmp_path / "missing.csv")
    (tmp_path / "junk.nc").write_bytes(b"not netcdf")
    assert not is_points_file(tmp_path / "junk.nc")
    _track().to_csv(tmp_path / "p.csv", index=False)
    assert is_points_file(tmp_path / "p.csv")
    # GES DISC Lite names are taken as Lite files without opening them.
    flat = _table_without(tmp_path, (), ".nc")
    assert is_points_file(flat)
    assert not is_points_file(flat.rename(tmp_path / "oco2_LtCO2_160831_B11100Ar_x.nc4"))


# --- the pure helpers ------------------------------------------------------------------------


def test_parse_times_encodings() -> None:
    want = pd.Timestamp("2014-09-23T20:54:12Z")
    for values, units in [
        (np.array(["20140923205412"]), ""),
        (np.array(["2014-09-23 20:54:12"]), ""),
        (np.array(["2014-09-23T22:54:12+02:00"]), ""),
        (np.array([20140923205412]), ""),
        (np.array([1411505652.0]), ""),
        (np.array([1411505652]), "seconds since 1970-01-01"),
        (
            np.array([(want - pd.Timestamp("2014-09-01", tz="UTC")) / pd.Timedelta(days=1)]),
            "days since 2014-09-01",
        ),
        (np.array([np.datetime64("2014-09-23T20:54:12")]), ""),
    ]:
        got = parse_times(values, units)
        assert str(got.dtype) == "datetime64[ns, UTC]"
        assert abs(got[0] - want) < pd.Timedelta(milliseconds=1), (values, units)


def test_split_passes_at_gaps_longer_than_ten_minutes() -> None:
    t = T0 + pd.to_timedelta([0, 1, 1 + PASS_GAP_S, 2 + 2 * PASS_GAP_S, 3 + 2 * PASS_GAP_S], "s")
    ids = split_passes(pd.DatetimeIndex(t[::-1]))[::-1]
    assert ids.dtype == np.int32
    assert len(set(ids[:3])) == 1 and ids[3] != ids[2] and ids[3] == ids[4]
    assert pd.to_datetime(ids[3], unit="m", utc=True) == (t[3]).floor("min")


def test_synthetic_ids_rank_soundings_of_a_second() -> None:
    time = pd.Series(pd.DatetimeIndex([T0, T0, T0 + pd.Timedelta(seconds=1)]))
    assert list(synthetic_sounding_ids(time)) == [
        20200601100000000,
        20200601100000010,
        20200601100001000,
    ]
    crowded = pd.Series(pd.DatetimeIndex([T0] * (MAX_PER_SECOND + 1)))
    with pytest.raises(SchemaError, match="share the second"):
        synthetic_sounding_ids(crowded, Path("x.csv"))
