"""Tests of oco2explore.pipeline on simulated Lite files, with real Dask schedulers and workers."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from oco2explore.cli import main
from oco2explore.config import FitConfig, MatchConfig
from oco2explore.pipeline import file_prefix, month_of, run_pipeline, window_soundings
from oco2explore.simulate import REGIONS, simulate
from oco2explore.tableio import read_table, read_table_metadata

DASK = Path(sys.executable).parent / "dask"
CONFIG = FitConfig()


@pytest.fixture(scope="module")
def lite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three days of simulated Lite files, passes over the big-emitter regions only (small)."""
    folder = tmp_path_factory.mktemp("lite")
    simulate(folder, days=3, seed=1, start="2016-08-31", regions=list(REGIONS))
    (folder / "truth.csv").unlink()
    return folder


@pytest.fixture(scope="module")
def reference(lite_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Output of a run on a one-worker LocalCluster (the default engine)."""
    out = tmp_path_factory.mktemp("reference")
    report = run_pipeline(lite_dir, out, CONFIG, workers=1, progress=False)
    assert not report.failed and len(report.done) == len(list(lite_dir.glob("*.nc4")))
    return out


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``folder``: modification time (ns) and content."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _assert_same_results(a: Path, b: Path) -> None:
    """Two run outputs hold the same tables and the same manifest records."""
    tables = sorted(p.relative_to(a) for p in a.rglob("*.parquet"))
    assert tables and tables == sorted(p.relative_to(b) for p in b.rglob("*.parquet"))
    for rel in tables:
        pd.testing.assert_frame_equal(read_table(a / rel), read_table(b / rel))
    manifest_a, manifest_b = (json.loads((x / "manifest.json").read_text()) for x in (a, b))
    for name in ("files", "months", "status", "config_digest"):
        assert manifest_a[name] == manifest_b[name]


def _scheduler_address(scheduler_file: Path) -> str | None:
    """The address in a dask scheduler file, None while it is missing or half written."""
    try:
        return json.loads(scheduler_file.read_text())["address"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return None


@contextlib.contextmanager
def dask_cluster(folder: Path, n_workers: int = 2) -> Iterator[tuple[str, list]]:
    """A real ``dask scheduler`` and ``n_workers`` ``dask worker`` processes on 127.0.0.1."""
    from dask.distributed import Client

    scheduler_file = folder / "scheduler.json"
    log = open(folder / "dask.log", "ab")
    common = {"stdout": log, "stderr": subprocess.STDOUT, "start_new_session": True}
    procs = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
            + ["--scheduler-file", str(scheduler_file)],
            **common,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        address = _scheduler_address(scheduler_file)
        while address is None:  # the file may exist before the scheduler has written it
            assert procs[0].poll() is None and time.monotonic() < deadline, "no scheduler"
            time.sleep(0.05)
            address = _scheduler_address(scheduler_file)
        workers = [
            subprocess.Popen(
                [DASK, "worker", address, "--host", "127.0.0.1", "--nthreads", "1"]
                + ["--no-nanny", "--no-dashboard", "--name", f"w{i}"],
                **common,
            )
            for i in range(n_workers)
        ]
        procs += workers
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(n_workers, timeout=60)
        yield address, workers
    finally:
        # Workers first: a worker that loses its scheduler keeps trying to reconnect.
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def test_month_and_prefix_of_inputs():
    assert month_of("2016/oco2_LtCO2_160831_B11100Ar_sim.nc4") == "2016-08"
    assert month_of("no-date.nc4") is None
    assert file_prefix("2016/oco2_LtCO2_160831_B11.nc4") == "files/2016/oco2_LtCO2_160831_B11/"


def test_window_soundings_cut_each_peak_window():
    soundings = pd.DataFrame(
        {"orbit": [1] * 5 + [2] * 3, "distance_km": [0, 50, 100, 150, 300, 0, 10, 20.0]}
    )
    peaks = pd.DataFrame({"peak_id": ["1-a", "2-b"], "orbit": [1, 2], "distance_km": [100, 5]})
    windows = window_soundings(soundings, peaks, half_width_km=50)
    assert windows["peak_id"].tolist() == ["1-a"] * 3 + ["2-b"] * 3
    assert windows["distance_km"].tolist() == [50, 100, 150, 0, 10, 20]


def test_outputs_catalogues_and_manifest(reference: Path, lite_dir: Path):
    manifest = json.loads((reference / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["config_digest"] == CONFIG.digest()
    assert manifest["config"] == CONFIG.to_dict()
    inputs = sorted(p.name for p in lite_dir.glob("*.nc4"))
    assert [f["key"] for f in manifest["files"]] == inputs
    for entry in manifest["files"]:
        assert entry["size"] == (lite_dir / entry["key"]).stat().st_size
        assert len(entry["md5"]) == 32 and entry["status"] == "done"
    assert list(manifest["months"]) == ["2016-08", "2016-09"]
    n_peaks = 0
    for month, record in manifest["months"].items():
        peaks = read_table(reference / "catalogue" / f"peaks_{month}.parquet")
        csv = read_table(reference / "catalogue" / f"peaks_{month}.csv")
        assert len(peaks) == len(csv) == record["n_peaks"]
        matches = read_table(reference / "catalogue" / f"matches_{month}.parquet")
        assert set(matches["peak_id"]) == set(peaks["peak_id"])
        windows = read_table(reference / "catalogue" / f"windows_{month}.parquet")
        assert set(windows["peak_id"]) == set(peaks.loc[peaks["passed"], "peak_id"])
        assert all(pd.to_datetime(peaks["time"]).dt.strftime("%Y-%m") == month)
        n_peaks += len(peaks)
    assert n_peaks > 0
    assert (reference / "files" / inputs[0].removesuffix(".nc4") / "done.json").is_file()


def test_second_run_does_nothing(reference: Path, lite_dir: Path):
    before = _snapshot(reference)
    report = run_pipeline(lite_dir, reference, CONFIG, workers=1, progress=False)
    assert report.done == [] and report.failed == [] and report.outputs == []
    assert sorted(report.skipped) == sorted(p.name for p in lite_dir.glob("*.nc4"))
    assert _snapshot(reference) == before


def test_changed_input_is_redone(reference: Path, lite_dir: Path, tmp_path: Path):
    inputs, out = tmp_path / "in", tmp_path / "out"
    shutil.copytree(lite_dir, inputs)  # copies keep size and modification time
    shutil.copytree(reference, out)
    touched = sorted(inputs.glob("*.nc4"))[1]
    os.utime(touched)
    report = run_pipeline(inputs, out, CONFIG, workers=1, progress=False)
    assert report.done == [touched.name] and len(report.skipped) == 2
    _assert_same_results(reference, out)


def test_changed_config_or_force_redoes(reference: Path, lite_dir: Path, tmp_path: Path):
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    report = run_pipeline(lite_dir, out, CONFIG, workers=1, progress=False, force=True)
    assert len(report.done) == 3 and not report.skipped
    _assert_same_results(reference, out)
    strict = CONFIG.replace(r2_min=0.9)
    report = run_pipeline(lite_dir, out, strict, workers=1, progress=False)
    assert len(report.done) == 3
    assert json.loads((out / "manifest.json").read_text())["config_digest"] == strict.digest()
    for table in (out / "catalogue").glob("*.parquet"):
        assert read_table_metadata(table)["config_digest"] == strict.digest()
    peaks = read_table(out / "catalogue" / "peaks_2016-08.parquet")
    assert (peaks.loc[peaks["passed"], "r2"] >= 0.9).all()
    loose = read_table(reference / "catalogue" / "peaks_2016-08.parquet")
    assert peaks["passed"].sum() < loose["passed"].sum()


def test_external_scheduler_two_workers_same_results(reference, lite_dir, tmp_path):
    out = tmp_path / "out"
    with dask_cluster(tmp_path) as (address, _workers):
        report = run_pipeline(lite_dir, out, CONFIG, scheduler=address, progress=False)
    assert not report.failed and len(report.done) == 3
    _assert_same_results(reference, out)


def test_killed_worker_loses_nothing(reference, lite_dir, tmp_path):
    from dask.distributed import Client

    out = tmp_path / "out"
    result = {}
    with dask_cluster(tmp_path) as (address, workers):
        run = threading.Thread(
            target=lambda: result.update(
                report=run_pipeline(lite_dir, out, CONFIG, scheduler=address, progress=False)
            )
        )
        with Client(address) as watcher:
            names = {a: w["name"] for a, w in watcher.scheduler_info()["workers"].items()}
            run.start()
            deadline = time.monotonic() + 60
            while True:  # freeze a worker while the scheduler sees it busy, then kill it
                assert time.monotonic() < deadline and run.is_alive()
                busy = [a for a, keys in watcher.processing().items() if keys]
                if not busy:
                    time.sleep(0.005)
                    continue
                victim = workers[int(names[busy[0]].removeprefix("w"))]
                os.kill(victim.pid, signal.SIGSTOP)
                if watcher.processing().get(busy[0]):
                    break
                os.kill(victim.pid, signal.SIGCONT)
            os.kill(victim.pid, signal.SIGKILL)
        run.join(120)
    assert not run.is_alive()
    report = result["report"]
    assert not report.failed and len(report.done) == 3
    _assert_same_results(reference, out)


def test_corrupt_input_is_listed_and_exits_3(lite_dir, tmp_path, capsys):
    inputs = tmp_path / "in"
    shutil.copytree(lite_dir, inputs)
    bad = inputs / "oco2_LtCO2_160901_B11100Ar_sim.nc4"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)  # truncated
    out = tmp_path / "out"
    status = main(["run", str(inputs), "--out", str(out), "--workers", "1", "-q"])
    assert status == 3
    assert bad.name in capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "partial"
    failed = [f for f in manifest["files"] if f["status"] == "failed"]
    assert [f["key"] for f in failed] == [bad.name] and failed[0]["reason"]
    assert not (out / file_prefix(bad.name) / "done.json").exists()
    assert (out / "catalogue" / "peaks_2016-08.parquet").is_file()


@pytest.mark.swift
def test_swift_input_and_output(swift_server, reference, lite_dir, tmp_path):
    from oco2explore.storage import open_store

    config = swift_server.config()
    inputs = open_store("swift://pipeline-in/lite", swift_config=config)
    for path in sorted(lite_dir.glob("*.nc4")):
        inputs.put(path, path.name)
    url = "swift://pipeline-out/run1"
    report = run_pipeline(str(inputs), url, CONFIG, workers=1, progress=False, swift_config=config)
    assert not report.failed and len(report.done) == 3
    again = run_pipeline(str(inputs), url, CONFIG, workers=1, progress=False, swift_config=config)
    assert again.done == [] and again.outputs == []
    local = tmp_path / "copy"
    store = open_store(url, swift_config=config)
    for key in store.list():
        store.get(key, local / key)
    _assert_same_results(reference, local)


def test_match_config_is_recorded_with_every_match_table(reference: Path):
    expected = MatchConfig().to_dict()
    tables = sorted(reference.glob("files/*/matches.parquet"))
    tables += sorted(reference.glob("catalogue/matches_*.parquet"))
    assert tables
    for path in tables:
        assert read_table_metadata(path)["match_config"] == expected, path
    manifest = json.loads((reference / "manifest.json").read_text())
    assert manifest["match_config"] == expected
    assert manifest["match_digest"] == MatchConfig().digest()
