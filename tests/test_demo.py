"""Tests of oco2explore.demo: built once, atomically, into the cache; covers every region."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from oco2explore.demo import CACHE_ENV, default_cache_dir, demo_data_dir
from oco2explore.lite import find_lite_files, read_lite
from oco2explore.simulate import REGIONS, TRUTH_FILE


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return demo_data_dir(tmp_path_factory.mktemp("cache"))


def test_demo_has_lite_files_and_truth(demo: Path) -> None:
    files = find_lite_files(demo)
    assert len(files) >= 5
    assert all(f.name.startswith("oco2_LtCO2_16") for f in files)
    assert "oco2_LtCO2_160831_B11100Ar_sim.nc4" in {f.name for f in files}
    truth = pd.read_csv(demo / TRUTH_FILE)
    assert (truth["orbit"] == 11522).any()
    assert (truth["delta_ppm"] > 2.0).sum() >= 5
    # No leftovers of the build next to it.
    assert [p.name for p in demo.parent.iterdir()] == [demo.name]


def test_demo_covers_every_region(demo: Path) -> None:
    df = read_lite(demo)
    for name, region in REGIONS.items():
        assert region.contains(df["latitude"], df["longitude"]).sum() > 100, name


def test_second_call_reuses_the_cache(demo: Path) -> None:
    stamps = {p: p.stat().st_mtime_ns for p in demo.iterdir()}
    assert demo_data_dir(demo.parent) == demo
    assert {p: p.stat().st_mtime_ns for p in demo.iterdir()} == stamps


def test_cache_folder_from_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "oco2explore"


def test_demo_opens_on_the_packaged_real_pass(demo: Path, real_data: Path) -> None:
    from oco2explore.demo import REAL_LITE, real_highveld_soundings

    packaged = real_highveld_soundings()
    shared = real_highveld_soundings(real_data / "oco2_orbit11522_20160831_highveld_peak.csv")
    pd.testing.assert_frame_equal(packaged, shared)
    real = read_lite([demo / REAL_LITE])
    assert len(real) == 1598 and set(real["orbit"]) == {11522}
