"""Tests of oco2explore.lite: every Lite layout, bad files, extract, the CLI."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest

from oco2explore.errors import InputError, LiteFormatError
from oco2explore.lite import (
    BUILD_IDS,
    OPTIONAL_VARIABLES,
    extract,
    find_lite_files,
    read_lite,
    read_lite_file,
    write_lite_file,
)
from oco2explore.schema import DIAGNOSTIC_COLUMNS, OPTIONAL_COLUMNS, SOUNDING_COLUMNS
from oco2explore.simulate import simulate_orbit
from oco2explore.tableio import read_table, read_table_metadata

N_FRAMES = 6
T0 = pd.Timestamp("2016-08-31T11:56:00Z").timestamp()

#: The layouts as the real files have them, written here independently of the library:
#: file name, BuildId, name of the prior surface pressure, has xco2_x2019.
LAYOUTS = {
    "B9": ("oco2_LtCO2_160831_B9003r_180928013408s.nc4", "B9003r", "psurf_apriori", False),
    "B10": ("oco2_LtCO2_160831_B10206Ar_200729175909s.nc4", "B10206Ar", "psurf_apriori_o2a", False),
    "B11": ("oco2_LtCO2_160831_B11100Ar_230601000000s.nc4", "B11100Ar", "psurf_apriori", True),
    "OCO-3": (
        "oco3_LtCO2_200301_B10400Br_220317234818s.nc4",
        "B10400Br",
        "psurf_apriori_o2a",
        False,
    ),
}


def _values(n_frames: int = N_FRAMES) -> dict[str, np.ndarray]:
    """A straight northbound stretch: frames 2.25 km apart, 8 footprints across track."""
    frame = np.repeat(np.arange(n_frames), 8)
    fp = np.tile(np.arange(1, 9), n_frames)
    t = T0 + frame / 3.0
    stamp = pd.to_datetime(np.floor(t), unit="s").strftime("%Y%m%d%H%M%S").astype(np.int64)
    tenths = np.floor((t % 1) * 10).astype(np.int64)
    n = frame.size
    return {
        "sounding_id": stamp.to_numpy() * 100 + tenths * 10 + fp,
        "time": t,
        "latitude": (-26.5 + frame * 2.25 / 111.2).astype(np.float32),
        "longitude": (28.9 + (fp - 4.5) * 1.3 / 99.5).astype(np.float32),
        "xco2": (403.0 + 0.1 * np.arange(n)).astype(np.float32),
        "xco2_uncertainty": np.full(n, 0.6, np.float32),
        "xco2_quality_flag": (np.arange(n) % 3 == 0).astype(np.int8),
        "orbit": np.full(n, 11522, np.int32),
        "footprint": fp.astype(np.int8),
        "operation_mode": np.zeros(n, np.int8),
    }


def make_lite_file(
    path: Path,
    layout: str = "B11",
    drop: str | None = None,
    fill_xco2_at: int | None = None,
) -> Path:
    """Write a tiny Lite file of ``layout`` (drop one variable/group path to break it)."""
    _name, build, psurf_apriori, x2019 = LAYOUTS[layout]
    v = _values()
    n = v["sounding_id"].size
    xco2 = v["xco2"].copy()
    if fill_xco2_at is not None:
        xco2[fill_xco2_at] = -999999.0
    groups = {
        "": {
            "sounding_id": ("i8", v["sounding_id"]),
            "time": ("f8", v["time"]),
            "latitude": ("f4", v["latitude"]),
            "longitude": ("f4", v["longitude"]),
            "xco2": ("f4", xco2),
            "xco2_uncertainty": ("f4", v["xco2_uncertainty"]),
            "xco2_quality_flag": ("i1", v["xco2_quality_flag"]),
            "solar_zenith_angle": ("f4", np.full(n, 40.0)),
            **({"xco2_x2019": ("f4", xco2 + 0.18)} if x2019 else {}),
        },
        "Sounding": {
            "orbit": ("i4", v["orbit"]),
            "footprint": ("i1", v["footprint"]),
            "land_water_indicator": ("i1", np.zeros(n)),
            "land_fraction": ("f4", np.full(n, 100.0)),
            "altitude": ("f4", np.full(n, 1600.0)),
            "operation_mode": ("i1", v["operation_mode"]),
        },
        "Meteorology": {
            "windspeed_u_met": ("f4", np.full(n, -1.7)),
            "windspeed_v_met": ("f4", np.full(n, -1.6)),
            psurf_apriori: ("f4", np.full(n, 849.0)),
        },
        "Retrieval": {"psurf": ("f4", np.full(n, 848.3)), "tcwv": ("f4", np.full(n, 6.14))},
        "Preprocessors": {"co2_ratio": ("f4", np.ones(n))},
    }
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.BuildId = build
        ds.createDimension("sounding_id", n)
        for group, variables in groups.items():
            if group == drop:
                continue
            node = ds.createGroup(group) if group else ds
            for name, (dtype, values) in variables.items():
                if f"{group}/{name}".lstrip("/") == drop:
                    continue
                fill = -999999.0 if dtype == "f4" else None
                var = node.createVariable(name, dtype, ("sounding_id",), fill_value=fill)
                var[:] = np.asarray(values).astype(dtype)
    return path


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_layout_gives_the_contract_table(tmp_path: Path, layout: str) -> None:
    path = make_lite_file(tmp_path / LAYOUTS[layout][0], layout)
    df = read_lite(path, quality="all")
    assert list(df.columns) == list(SOUNDING_COLUMNS)
    for col, (dtype, _unit) in SOUNDING_COLUMNS.items():
        assert str(df[col].dtype) == dtype, col
    assert len(df) == N_FRAMES * 8
    # B10 and OCO-3 name the prior surface pressure psurf_apriori_o2a: same column.
    assert np.allclose(df["psurf_apriori"], 849.0)
    assert np.allclose(df["psurf"], 848.3)
    assert np.allclose(df["windspeed_u_met"], -1.7, atol=1e-6)
    assert df["time"].iloc[0] == pd.Timestamp("2016-08-31T11:56:00Z")
    assert (df["sounding_id"] % 10 == df["footprint"]).all()
    assert (df["sounding_id"].astype(str).str.len() == 16).all()


@pytest.mark.parametrize(
    ("layout", "instrument"),
    [("B9", "OCO-2"), ("B10", "OCO-2"), ("B10", "OCO-3"), ("B11", "OCO-2")],
)
def test_written_layouts_read_back(tmp_path: Path, layout: str, instrument: str) -> None:
    table, _ = simulate_orbit(11522, regions=["highveld"], plumes=False)
    path = write_lite_file(table, tmp_path / "x.nc4", layout=layout, instrument=instrument)
    with netCDF4.Dataset(path) as ds:
        assert ds.BuildId == BUILD_IDS[(instrument, layout)]
        assert ("psurf_apriori_o2a" in ds["Meteorology"].variables) == (layout == "B10")
    back = read_lite(path, quality="all")
    assert len(back) == len(table)
    assert np.allclose(back["psurf_apriori"].sort_values(), table["psurf_apriori"].sort_values())


def test_quality_policy(tmp_path: Path) -> None:
    path = make_lite_file(tmp_path / "oco2_LtCO2_160831_B11.nc4")
    good = read_lite_file(path, quality="good")
    everything = read_lite_file(path, quality="all")
    assert len(everything) == N_FRAMES * 8
    assert len(good) == (everything["xco2_quality_flag"] == 0).sum() == 32
    assert (good["xco2_quality_flag"] == 0).all()
    with pytest.raises(InputError, match="quality"):
        read_lite_file(path, quality="best")


def test_reader_keeps_float32_until_the_end(tmp_path: Path) -> None:
    df = read_lite_file(make_lite_file(tmp_path / "a.nc4"), quality="all")
    assert df["xco2"].dtype == np.float32
    assert df["latitude"].dtype == np.float32
    assert df["time"].dtype == "datetime64[ns, UTC]"


def test_fill_values_become_nan(tmp_path: Path) -> None:
    df = read_lite_file(make_lite_file(tmp_path / "a.nc4", fill_xco2_at=3), quality="all")
    assert np.isnan(df["xco2"].iloc[3])
    assert np.isfinite(df["xco2"].drop(index=3)).all()


def test_several_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / "2016").mkdir()
    make_lite_file(tmp_path / "2016" / LAYOUTS["B10"][0], "B10")
    make_lite_file(tmp_path / LAYOUTS["OCO-3"][0], "OCO-3")
    (tmp_path / ".oco2_LtCO2_partial.nc4.tmp.nc4").write_bytes(b"half written")
    (tmp_path / "notes.txt").write_text("not a Lite file")
    files = find_lite_files(tmp_path)
    assert [f.name for f in files] == [LAYOUTS["B10"][0], LAYOUTS["OCO-3"][0]]
    df = read_lite(tmp_path, quality="all")
    assert len(df) == 2 * N_FRAMES * 8
    with pytest.raises(InputError, match="no such file"):
        find_lite_files(tmp_path / "missing")


#: The retrieval diagnostics as real Lite files (B9, B10, B11, OCO-3) have them: path -> values
#: (row-dependent, so a misaligned read shows).
DIAGNOSTICS = {
    "Retrieval/albedo_o2a": lambda i: 0.20 + 0.001 * i,
    "Retrieval/albedo_wco2": lambda i: 0.25 + 0.001 * i,
    "Retrieval/albedo_sco2": lambda i: 0.15 + 0.001 * i,
    "Retrieval/aod_total": lambda i: 0.05 + 0.0001 * i,
    "Sounding/altitude_stddev": lambda i: 10.0 + i,
    "Retrieval/windspeed": lambda i: 3.0 + 0.01 * i,
}


def _add_variables(path: Path, names: dict, length: int | None = None) -> Path:
    """Append float32 variables (Lite fill value) at ``group/name`` paths to a Lite file."""
    with netCDF4.Dataset(path, "a") as ds:
        n = ds.dimensions["sounding_id"].size
        if length is not None:
            ds.createDimension("other", length)
        for var_path, value in names.items():
            group, name = var_path.split("/")
            dims = ("other",) if length is not None else ("sounding_id",)
            var = ds[group].createVariable(name, "f4", dims, fill_value=-999999.0)
            var[:] = value(np.arange(length or n)).astype(np.float32)
    return path


def test_optional_variables_are_the_schema_columns() -> None:
    names = tuple(p.rsplit("/", 1)[-1] for p, _u, _l in OPTIONAL_VARIABLES)
    assert names == OPTIONAL_COLUMNS
    assert set(DIAGNOSTIC_COLUMNS) <= set(names)
    assert {p for p, _u, _l in OPTIONAL_VARIABLES} == set(DIAGNOSTICS)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_retrieval_diagnostics_are_read_in_every_layout(tmp_path: Path, layout: str) -> None:
    path = _add_variables(make_lite_file(tmp_path / LAYOUTS[layout][0], layout), DIAGNOSTICS)
    everything = read_lite_file(path, quality="all")
    row = np.arange(len(everything))
    for var_path, value in DIAGNOSTICS.items():
        col = var_path.rsplit("/", 1)[-1]
        assert np.allclose(everything[col], value(row), rtol=1e-6), col
    # The quality filter keeps the diagnostics of the soundings it keeps.
    good = read_lite(path, quality="good")
    kept = everything[everything["xco2_quality_flag"] == 0]
    merged = good.merge(kept, on="sounding_id", suffixes=("", "_raw"))
    assert len(merged) == len(good) == 32
    for col in OPTIONAL_COLUMNS:
        assert str(good[col].dtype) == "float64"
        assert np.allclose(merged[col], merged[f"{col}_raw"]), col
    # psurf, psurf_apriori, altitude, footprint, operation_mode are there too (CONTRACT §1).
    for col in ("psurf", "psurf_apriori", "altitude", "footprint", "operation_mode"):
        assert good[col].notna().all(), col


def test_missing_diagnostics_are_nan_with_a_log_message(tmp_path: Path, caplog) -> None:
    partial = {k: v for k, v in DIAGNOSTICS.items() if k == "Retrieval/albedo_o2a"}
    path = _add_variables(make_lite_file(tmp_path / "a.nc4"), partial)
    _add_variables(path, {"Retrieval/aod_total": DIAGNOSTICS["Retrieval/aod_total"]}, length=5)
    with netCDF4.Dataset(path, "a") as ds:
        ds["Retrieval/albedo_o2a"][2] = -999999.0
    with caplog.at_level(logging.INFO, logger="oco2explore.lite"):
        df = read_lite(path, quality="all")
    assert np.isnan(df["albedo_o2a"].iloc[2]) and df["albedo_o2a"].notna().sum() == len(df) - 1
    for col in ("albedo_wco2", "albedo_sco2", "aod_total", "altitude_stddev", "windspeed"):
        assert df[col].isna().all(), col  # absent, or (aod_total) not one value per sounding
    (message,) = [r.getMessage() for r in caplog.records if "NaN columns" in r.getMessage()]
    assert str(path) in message
    assert "Retrieval/aod_total" in message and "Sounding/altitude_stddev" in message
    assert "albedo_o2a" not in message
    # A file without any of them reads as before, with NaN columns.
    bare = read_lite(make_lite_file(tmp_path / "b.nc4"), quality="all")
    assert bare[list(OPTIONAL_COLUMNS)].isna().all().all()


def test_written_diagnostics_read_back_at_their_lite_paths(tmp_path: Path) -> None:
    table, _ = simulate_orbit(11522, regions=["highveld"], plumes=False)
    row = np.arange(len(table))
    for var_path, value in DIAGNOSTICS.items():
        table[var_path.rsplit("/", 1)[-1]] = value(row)
    table["windspeed"] = np.nan  # all NaN: not written
    path = write_lite_file(table, tmp_path / "x.nc4")
    with netCDF4.Dataset(path) as ds:
        assert ds["Retrieval/albedo_sco2"].dtype == np.float32
        assert "windspeed" not in ds["Retrieval"].variables
        assert ds["Sounding/altitude_stddev"].units == "m"
    back = read_lite_file(path, quality="all")
    for col in DIAGNOSTIC_COLUMNS:
        assert np.allclose(back[col], table[col], rtol=1e-6), col
    assert back["windspeed"].isna().all()


def _truncated(path: Path) -> Path:
    make_lite_file(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _garbage(path: Path) -> Path:
    path.write_bytes(b"CDF\x01" + bytes(range(256)) * 4)
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _not_lite(path: Path) -> Path:
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("x", 3)
        ds.createVariable("temperature", "f4", ("x",))[:] = [1, 2, 3]
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_empty, "empty file"),
        (_truncated, "truncated or corrupt"),
        (_garbage, "truncated or corrupt"),
        (_not_lite, "missing variable 'sounding_id'"),
        (lambda p: make_lite_file(p, drop="Meteorology"), "missing group 'Meteorology'"),
        (lambda p: make_lite_file(p, drop="Retrieval/tcwv"), "missing variable 'Retrieval/tcwv'"),
        (lambda p: make_lite_file(p, drop="xco2"), "missing variable 'xco2'"),
    ],
    ids=["empty", "truncated", "garbage", "not-lite", "no-group", "no-tcwv", "no-xco2"],
)
def test_bad_files_raise_one_line_errors_naming_the_file(tmp_path, make, message) -> None:
    path = make(tmp_path / "oco2_LtCO2_160831_B11100Ar_bad.nc4")
    with pytest.raises(LiteFormatError) as info:
        read_lite_file(path)
    text = str(info.value)
    assert str(path) in text
    assert message in text
    assert "\n" not in text


def test_variable_of_wrong_length_is_rejected(tmp_path: Path) -> None:
    path = make_lite_file(tmp_path / "a.nc4")
    with netCDF4.Dataset(path, "a") as ds:
        ds.createDimension("other", 2)
        ds["Retrieval"].renameVariable("tcwv", "tcwv_old")
        ds["Retrieval"].createVariable("tcwv", "f4", ("other",))[:] = [1, 2]
    with pytest.raises(LiteFormatError, match="Retrieval/tcwv"):
        read_lite_file(path)


def test_extract_writes_good_files_and_lists_failures(tmp_path: Path) -> None:
    good = make_lite_file(tmp_path / LAYOUTS["B11"][0])
    bad = _truncated(tmp_path / "oco2_LtCO2_160901_B11100Ar_x.nc4")
    out = tmp_path / "out" / "soundings.parquet"
    failures = extract([good, bad], out, quality="good", progress=False)
    assert [p for p, _ in failures] == [bad]
    assert "truncated or corrupt" in failures[0][1]
    table = read_table(out)
    assert len(table) == 32
    assert table["distance_km"].is_monotonic_increasing
    meta = read_table_metadata(out)
    assert meta["quality"] == "good"
    assert meta["failed"][0][0] == str(bad)


def test_extract_with_only_bad_files_keeps_the_existing_table(tmp_path: Path) -> None:
    bad = _empty(tmp_path / "a.nc4")
    out = tmp_path / "t.csv"
    out.write_text("xco2\n400.0\n")
    with pytest.raises(InputError, match="a.nc4: empty file.*not written"):
        extract([bad], out, progress=False)
    assert len(read_table(out)) == 1


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "oco2explore.cli", *args], capture_output=True, text=True
    )


def test_cli_extract_exit_status_and_failure_lines(tmp_path: Path) -> None:
    good = make_lite_file(tmp_path / LAYOUTS["B9"][0], "B9")
    bad = _not_lite(tmp_path / "oco2_LtCO2_160902_B9003r_x.nc4")
    out = tmp_path / "s.parquet"
    done = _cli("extract", str(tmp_path), "--out", str(out), "--quality", "all", "-q")
    assert done.returncode == 3, done.stderr
    failed = [line for line in done.stderr.splitlines() if line.startswith("failed:")]
    assert failed == [f"failed: {bad}: not a Lite file: missing variable 'sounding_id'"]
    assert "Traceback" not in done.stderr
    assert len(read_table(out)) == N_FRAMES * 8
    assert good.exists()

    done = _cli("extract", str(tmp_path / "nothing-here"), "--out", str(out))
    assert done.returncode == 2
    assert "no such file or folder" in done.stderr
    assert "Traceback" not in done.stderr
