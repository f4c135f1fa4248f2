"""Tests of oco2explore.app.data: only listed files open; local and Swift roots; provenance."""

from __future__ import annotations

import pytest

from oco2explore.app import DataRoot
from oco2explore.errors import InputError
from oco2explore.storage import open_store


def test_data_root_opens_only_listed_files(highveld, tmp_path):
    root = DataRoot(highveld)
    (tmp_path / "secret.nc4").write_text("x")
    (highveld / "sub").mkdir(exist_ok=True)
    (highveld / "sub" / "oco2_LtCO2_160901_link.nc4").symlink_to(tmp_path / "secret.nc4")
    for key in ("../secret.nc4", str(tmp_path / "secret.nc4"), "truth.csv", "nope.nc4"):
        with pytest.raises(InputError, match="not a file of the data root"):
            root.local(key)
    with pytest.raises(InputError, match="outside the data root"):
        DataRoot(highveld).local("sub/oco2_LtCO2_160901_link.nc4")
    (highveld / "sub" / "oco2_LtCO2_160901_link.nc4").unlink()
    with pytest.raises(InputError, match="data folder not found"):
        DataRoot(tmp_path / "missing")


@pytest.mark.swift
def test_data_root_on_swift(swift_server, highveld, tmp_path):
    url = "swift://explorer-test/lite"
    store = open_store(url, swift_config=swift_server.config())
    (lite,) = highveld.glob("*.nc4")
    store.put(lite, f"2016/{lite.name}")
    store.put(lite, "notes.txt")
    root = DataRoot(url, scratch=tmp_path, swift_config=swift_server.config())
    assert root.files == [f"2016/{lite.name}"]
    assert len(root.soundings(root.files[0])) == 1598
    with pytest.raises(InputError, match="not a file of the data root"):
        root.local("notes.txt")


def test_demo_root_opens_on_the_real_pass_and_has_the_truth_of_simulated_days():
    root = DataRoot(None)
    file, orbit = root.default_view()
    assert root.provenance(file) == "real OCO-2" and orbit == 11522
    simulated = [k for k in root.files if root.provenance(k) == "simulated"]
    assert len(simulated) >= 10
    assert root.truth(file).empty
    truth = root.truth(next(k for k in simulated if "160831" in k))
    assert (truth["orbit"] == 11522).any() and {"crossing_latitude", "delta_ppm"} <= set(truth)
