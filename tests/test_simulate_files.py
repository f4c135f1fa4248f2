"""Tests of oco2explore.simulate.files: Lite files and truth.csv on disk, the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest

from oco2explore.errors import InputError
from oco2explore.lite import read_lite
from oco2explore.simulate import TRUTH_COLUMNS, TRUTH_FILE, simulate, simulate_day

DAY = "2016-08-31"


@pytest.fixture(scope="module")
def highveld_files(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    simulate(out, days=1, seed=0, start=DAY, regions=["highveld"])
    return out


def test_file_has_the_b11_layout(highveld_files: Path) -> None:
    (path,) = sorted(highveld_files.glob("*.nc4"))
    assert path.name.startswith("oco2_LtCO2_160831_B11")
    with netCDF4.Dataset(path) as ds:
        assert ds.BuildId.startswith("B11")
        assert set(ds.groups) >= {"Sounding", "Meteorology", "Retrieval", "Preprocessors"}
        assert {"sounding_id", "levels", "vertices"} <= set(ds.dimensions)
        assert ds["sounding_id"].dtype == np.int64
        assert ds["time"].units == "seconds since 1970-01-01 00:00:00"
        assert ds["xco2"].dtype == np.float32
        assert ds["xco2"].units == "ppm"
        assert ds["xco2"]._FillValue == np.float32(-999999.0)
        assert ds["xco2_quality_flag"].dtype == np.int8
        assert "xco2_x2019" in ds.variables
        assert ds["vertex_latitude"].shape[1] == 4
        assert ds["pressure_levels"].shape[1] == 20
        assert ds["Sounding/orbit"].dtype == np.int32
        assert ds["Sounding/footprint"].dtype == np.int8
        assert "psurf_apriori" in ds["Meteorology"].variables
        assert ds["Meteorology/windspeed_u_met"].units == "m s-1"
        assert ds["Retrieval/tcwv"].units == "kg m-2"
        ids = ds["sounding_id"][:]
        assert (np.diff(ids) > 0).all()


def test_file_reads_back_as_the_in_memory_simulation(highveld_files: Path) -> None:
    df = read_lite(highveld_files, quality="all")
    mem, truth = simulate_day(DAY, seed=0, regions=["highveld"])
    mem = mem.sort_values(["orbit", "distance_km", "sounding_id"]).reset_index(drop=True)
    df = df.sort_values(["orbit", "distance_km", "sounding_id"]).reset_index(drop=True)
    assert len(df) == len(mem) > 100
    assert (df["sounding_id"].to_numpy() == mem["sounding_id"].to_numpy()).all()
    for col in ("latitude", "longitude", "xco2", "psurf", "windspeed_u_met", "tcwv"):
        assert np.allclose(df[col], mem[col], rtol=1e-6, atol=1e-4), col
    file_truth = pd.read_csv(highveld_files / TRUTH_FILE)
    assert list(file_truth.columns) == list(TRUTH_COLUMNS)
    assert np.allclose(file_truth["delta_ppm"], truth["delta_ppm"])
    assert set(file_truth["crossing_sounding_id"]) <= set(df["sounding_id"])


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        simulate(tmp_path / name, seed=seed, start=DAY, regions=["highveld"])
    a, b, c = (read_lite(tmp_path / n, quality="all") for n in "abc")
    pd.testing.assert_frame_equal(a, b)
    assert len(a) != len(c) or not np.allclose(a["xco2"], c["xco2"])
    ta, tb = (pd.read_csv(tmp_path / n / TRUTH_FILE) for n in "ab")
    pd.testing.assert_frame_equal(ta, tb)


def test_plume_free_simulation_writes_an_empty_truth(tmp_path: Path) -> None:
    simulate(tmp_path, start=DAY, regions=["highveld"], plumes=False)
    truth = pd.read_csv(tmp_path / TRUTH_FILE)
    assert truth.empty and list(truth.columns) == list(TRUTH_COLUMNS)


def test_days_without_a_pass_write_no_file(tmp_path: Path) -> None:
    paths = simulate(tmp_path, days=2, start="2016-09-01", regions=["highveld"])
    assert paths == []
    assert (tmp_path / TRUTH_FILE).is_file()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"regions": ["atlantis"]}, "unknown region"),
        ({"days": 0}, "at least 1"),
        ({"start": "2016-13-45"}, "YYYY-MM-DD"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        simulate(tmp_path, **kwargs)


def test_cli_simulate(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "oco2explore.cli", "simulate", "--out", str(tmp_path),
         "--region", "highveld", "--start", DAY, "--no-plumes", "-q"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(list(tmp_path.glob("oco2_LtCO2_160831_*.nc4"))) == 1
    done = subprocess.run(
        [sys.executable, "-m", "oco2explore.cli", "simulate", "--out", str(tmp_path),
         "--region", "mars"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 2
    assert "unknown region(s) mars" in done.stderr
    assert "Traceback" not in done.stderr
