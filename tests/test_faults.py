"""Fault and fuzz suite: bad files, tables, options and configs for every command (issue #14).

Each case runs the command line (``cli.main`` in this process; a few through a real
subprocess to see stderr as a user does) and checks the promise of
``docs/reliability.md``: the exit status of CONTRACT §4, one line on stderr naming the
file and what is wrong, no traceback, and nothing already good lost.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest

from oco2explore import cli
from oco2explore.lite import LITE_VARIABLES
from oco2explore.simulate import simulate_orbit
from oco2explore.tableio import read_table, write_table

N_FRAMES = 300  # 2,400 soundings: enough for a scan, fast to write and read


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """A stretch of one simulated orbit (CONTRACT §1 columns)."""
    soundings, _truth = simulate_orbit(11522, seed=5)
    return soundings.iloc[: N_FRAMES * 8].reset_index(drop=True)


def write_lite(path: Path, table: pd.DataFrame, **override: tuple[object, np.ndarray]) -> Path:
    """A Lite file of ``table``; ``column=(dtype, values)`` replaces one variable as stored."""
    seconds = (table["time"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.createDimension("sounding_id", len(table))
        for column, (var_path, dtype, _units, _name) in LITE_VARIABLES.items():
            values = seconds if column == "time" else table[column].to_numpy()
            dtype, values = override.get(column, (dtype, values))
            *groups, name = var_path.split("/")
            node = ds
            for group in groups:
                node = node.groups[group] if group in node.groups else node.createGroup(group)
            var = node.createVariable(name, dtype, ("sounding_id",))
            var[:] = values if dtype is str else np.asarray(values).astype(dtype)
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """Exit status and stderr lines of ``oco2explore argv`` (usage errors included)."""
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse
        code = int(exc.code)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    return code, lines


def one_line(lines: list[str], *words: str) -> str:
    """The single stderr line, checked to contain every word."""
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


# --- extract: bad Lite files next to a good one --------------------------------------------

N = N_FRAMES * 8
BAD_LITE_FILES = {
    # name: (column override, word naming what is wrong)
    "xco2_text": ({"xco2": (str, np.array(["high"] * N, dtype=object))}, "'xco2'"),
    "flag_nan": (
        {"xco2_quality_flag": ("f4", np.where(np.arange(N) == 7, np.nan, 0.0))},
        "xco2_quality_flag",
    ),
    "time_1e20": ({"time": ("f8", np.full(N, 1e20))}, "'time'"),
    "time_text": ({"time": (str, np.array(["yesterday"] * N, dtype=object))}, "'time'"),
    "footprint_300": ({"footprint": ("i2", np.full(N, 300))}, "'footprint'"),
    "orbit_2e40": ({"orbit": ("i8", np.full(N, 2**40))}, "'orbit'"),
    "latitude_200": ({"latitude": ("f4", np.full(N, 200.0))}, "'latitude'"),
}


@pytest.mark.parametrize("name", sorted(BAD_LITE_FILES))
def test_extract_skips_a_bad_file_names_it_and_keeps_the_good_rows(name, table, tmp_path, capsys):
    override, word = BAD_LITE_FILES[name]
    good = write_lite(tmp_path / "good.nc4", table)
    bad = write_lite(tmp_path / f"{name}.nc4", table, **override)
    out = tmp_path / "out.parquet"
    code, lines = run(["extract", str(good), str(bad), "--out", str(out), "-q"], capsys)
    assert code == 3
    one_line(lines, f"{name}.nc4", word)
    kept = read_table(out)
    assert len(kept) == int((table["xco2_quality_flag"] == 0).sum())
    assert kept["footprint"].between(1, 8).all() and kept["orbit"].eq(11522).all()


def test_extract_of_only_bad_files_keeps_the_existing_table(table, tmp_path, capsys):
    out = tmp_path / "keep.parquet"
    write_table(table, out)
    zero = tmp_path / "zero.nc4"
    zero.write_bytes(b"")
    junk = tmp_path / "junk.nc4"
    junk.write_bytes(b"CDF\x01 not really")
    code, lines = run(["extract", str(zero), str(junk), "--out", str(out), "-q"], capsys)
    assert code == 2
    one_line(lines, "zero.nc4", "not written")
    assert len(read_table(out)) == len(table)


# --- detect / match: bad tables ------------------------------------------------------------

BAD_SOUNDING_TABLES = {
    "orbit_2e40.csv": ("orbit", 2**40, "'orbit'"),
    "footprint_300.parquet": ("footprint", 300, "'footprint'"),
    "latitude_200.csv": ("latitude", 200.0, "'latitude'"),
    "xco2_text.csv": ("xco2", "high", "'xco2'"),
    "time_text.csv": ("time", "soon", "'time'"),
    "time_huge.parquet": ("time", 1e20, "'time'"),
    "no_xco2.csv": ("xco2", None, "xco2"),
}


@pytest.mark.parametrize("name", sorted(BAD_SOUNDING_TABLES))
def test_detect_refuses_a_bad_sounding_table_naming_file_and_column(name, table, tmp_path, capsys):
    column, value, word = BAD_SOUNDING_TABLES[name]
    bad = table.head(400).copy()
    if value is None:
        bad = bad.drop(columns=[column])
    else:
        bad[column] = bad[column].astype(object)
        bad.loc[bad.index[5], column] = value
        if name.endswith(".parquet"):
            bad[column] = bad[column].map(lambda v: v if v is value else 0)
            bad[column] = bad[column].astype(type(value))
    path = tmp_path / name
    if name.endswith(".csv"):
        bad.to_csv(path, index=False)
    else:
        write_table(bad, path)
    out = tmp_path / "peaks.csv"
    out.write_text("good,old\n1,2\n")
    code, lines = run(["detect", str(path), "--out", str(out), "-q"], capsys)
    assert code == 2
    one_line(lines, name, word)
    assert out.read_text() == "good,old\n1,2\n"


@pytest.fixture()
def peaks_csv(tmp_path: Path) -> Path:
    path = tmp_path / "peaks.csv"
    pd.DataFrame(
        {
            "peak_id": ["11522-2016083111560007"],
            "orbit": [11522],
            "latitude": [-26.28],
            "longitude": [28.93],
            "sigma_km": [12.9],
            "delta_ppm": [4.3],
            "windspeed_u": [-1.7],
            "windspeed_v": [-1.6],
        }
    ).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("column", "value", "word"),
    [("latitude", "north", "'north' is not a number"), ("latitude", 200.0, "value 200")],
)
def test_match_refuses_bad_peak_values(column, value, word, peaks_csv, tmp_path, capsys):
    peaks = pd.read_csv(peaks_csv).astype({column: object})
    peaks.loc[0, column] = value
    peaks.to_csv(peaks_csv, index=False)
    code, lines = run(["match", str(peaks_csv), "--out", str(tmp_path / "m.csv")], capsys)
    assert code == 2
    one_line(lines, "peaks.csv", f"'{column}'", word)
    assert not (tmp_path / "m.csv").exists()


def test_match_refuses_a_sounding_table_as_peaks(table, tmp_path, capsys):
    path = tmp_path / "soundings.parquet"
    write_table(table.head(50), path)
    code, lines = run(["match", str(path), "--out", str(tmp_path / "m.csv")], capsys)
    assert code == 2
    one_line(lines, "soundings.parquet", "peak_id", "peak table")


# --- options and configuration files ------------------------------------------------------

BAD_OPTIONS = [
    (["detect", "x.csv", "--out", "p.csv", "--half-width-km", "inf"], "--half-width-km"),
    (["detect", "x.csv", "--out", "p.csv", "--error-correlation-ppm", "1e200"], "error_corr"),
    (["detect", "x.csv", "--out", "p.csv", "--r2-min", "nan"], "--r2-min"),
    (["detect", "x.csv", "--out", "p.csv", "--significance-min", "nan"], "--significance-min"),
    (["detect", "x.csv", "--out", "p.csv", "--wind-uncertainty-m-per-s", "nan"], "--wind-unc"),
    (["detect", "x.csv", "--out", "p.csv", "--min-soundings", "2.7"], "--min-soundings"),
    (["match", "x.csv", "--out", "m.csv", "--radius-km", "nan"], "--radius-km"),
    (["match", "x.csv", "--out", "m.csv", "--top-k", "0"], "--top-k"),
    (["run", "in", "--out", "o", "--workers", "-1"], "--workers"),
    (["run", "in", "--out", "o", "--workers", "0"], "--workers"),
    (["simulate", "--out", "s", "--seed", "-1"], "--seed"),
    (["simulate", "--out", "s", "--start", "9999-12-31"], "--start"),
    (["simulate", "--out", "s", "--start", "0000-01-01"], "--start"),
    (["simulate", "--out", "s", "--days", "0"], "--days"),
    (["app", "--port", "-5"], "--port"),
    (["app", "--port", "99999"], "--port"),
]


@pytest.mark.parametrize(("argv", "word"), BAD_OPTIONS, ids=[" ".join(a) for a, _w in BAD_OPTIONS])
def test_bad_option_is_one_line_exit_2(argv, word, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, lines = run([*argv, "-q"], capsys)
    assert code == 2
    one_line(lines[-1:], word)
    assert not any(tmp_path.iterdir())  # nothing written


BAD_CONFIG_FILES = {
    "text.json": ('{"half_width_km": "abc"}', "half_width_km must be a number"),
    "null.json": ("null", "must be a JSON object"),
    "list.json": ('{"fit_config": [1, 2]}', "must be a JSON object"),
    "latin1.json": (b'{"quality": "g\xe9"}', "cannot read fit configuration"),
    "bool.json": ('{"sigma_min_km": true}', "sigma_min_km must be a number"),
    "float_int.json": ('{"min_soundings": 2.7}', "min_soundings must be an integer"),
    "quality.json": ('{"quality": 3}', "quality must be str"),
    "nan.json": ('{"r2_min": NaN}', "r2_min must be finite"),
    "unknown.json": ('{"sigma_km": 3}', "unknown fit parameter"),
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIG_FILES))
def test_bad_config_file_is_named(name, tmp_path, capsys):
    content, word = BAD_CONFIG_FILES[name]
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    argv = ["detect", "x.csv", "--out", str(tmp_path / "p.csv"), "--config", str(path)]
    code, lines = run(argv, capsys)
    assert code == 2
    one_line(lines, name, word)


def test_bad_match_config_file_is_named(tmp_path, capsys):
    path = tmp_path / "match.json"
    path.write_text('{"match_config": {"radius_km": "far"}}')
    argv = ["match", "x.csv", "--out", str(tmp_path / "m.csv"), "--match-config", str(path)]
    code, lines = run(argv, capsys)
    assert code == 2
    one_line(lines, "match.json", "radius_km must be a number")


@pytest.mark.parametrize(
    ("content", "word"),
    [
        ({"swift_storage": {"auth_url": "http://x", "options": "x"}}, "options"),
        ({"swift_storage": {"auth_url": 5}}, "auth_url"),
        ([1], "swift_storage"),
    ],
)
def test_bad_swift_config_is_named(content, word, tmp_path, capsys):
    path = tmp_path / "swift.json"
    path.write_text(json.dumps(content))
    argv = ["storage", "ls", "swift://c/p", "--swift-config", str(path)]
    code, lines = run(argv, capsys)
    assert code == 2
    one_line(lines, "swift.json", word)


def test_scheduler_that_is_not_an_address(table, tmp_path, capsys):
    lite = write_lite(tmp_path / "oco2_LtCO2_160831_B11_x.nc4", table)
    argv = ["run", str(lite), "--out", str(tmp_path / "out"), "--scheduler", "not an address"]
    code, lines = run([*argv, "-q"], capsys)
    assert code == 2
    one_line(lines, "not an address")


@pytest.mark.timeout(180)
def test_scheduler_without_workers_times_out_clearly(table, tmp_path, capsys, monkeypatch):
    from dask.distributed import LocalCluster

    from oco2explore import pipeline

    monkeypatch.setattr(pipeline, "WORKER_TIMEOUT_S", 2.0)
    lite = write_lite(tmp_path / "oco2_LtCO2_160831_B11_x.nc4", table)
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        argv = ["run", str(lite), "--out", str(tmp_path / "out"), "--scheduler"]
        code, lines = run([*argv, cluster.scheduler_address, "-q"], capsys)
    assert code == 2
    one_line(lines, "no workers", "2 s")


# --- write errors ---------------------------------------------------------------------------


def _unwritable(kind: str, tmp_path: Path) -> Path:
    if kind == "a folder":
        (tmp_path / "t.parquet").mkdir()
        return tmp_path / "t.parquet"
    if kind == "under a file":
        (tmp_path / "file").write_text("x")
        return tmp_path / "file" / "t.parquet"
    return Path("/proc/oco2explore-test/t.parquet")


@pytest.mark.parametrize("kind", ["a folder", "under a file", "/proc"])
def test_unwritable_output_is_one_line_exit_2(kind, table, tmp_path, capsys):
    good = write_lite(tmp_path / "good.nc4", table)
    out = _unwritable(kind, tmp_path)
    code, lines = run(["extract", str(good), "--out", str(out), "-q"], capsys)
    assert code == 2
    one_line(lines, "cannot write", str(out))


def test_simulate_into_an_unwritable_folder(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, lines = run(["simulate", "--out", str(tmp_path / "file" / "sim"), "-q"], capsys)
    assert code == 2
    one_line(lines, "file")


def test_commands_in_a_real_process_print_one_line(tmp_path):
    """What a user sees: exit 2, one line naming the file, no traceback."""
    bad = tmp_path / "fit.json"
    bad.write_bytes(b"\xff\xfe")
    res = subprocess.run(
        [sys.executable, "-m", "oco2explore.cli", "detect", "x.csv", "--out", "p.csv"]
        + ["--config", str(bad)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert len(res.stderr.splitlines()) == 1 and "fit.json" in res.stderr


# --- disk full (a small tmpfs, when the machine lets us mount one) ---------------------------


@pytest.fixture()
def small_disk(tmp_path: Path):
    """A 1 MiB tmpfs at ``tmp_path/disk``; skipped where mounting is not allowed."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_disk_full_keeps_the_old_output_and_leaves_no_temp_file(
    small_disk, table, tmp_path, capsys
):
    good = write_lite(tmp_path / "good.nc4", table)
    out = small_disk / "t.csv"
    out.write_text("old,table\n1,2\n")
    (small_disk / "filler").write_bytes(b"\0" * (900 << 10))  # ~100 KiB left; the CSV is more
    code, lines = run(["extract", str(good), "--out", str(out), "-q"], capsys)
    assert code == 2
    one_line(lines, "t.csv", "No space left on device")
    assert out.read_text() == "old,table\n1,2\n"
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "t.csv"]


def test_detect_on_a_lite_file_with_bad_times(table, tmp_path, capsys):
    bad = write_lite(tmp_path / "times.nc4", table, time=("f8", np.full(N, 1e20)))
    code, lines = run(["detect", str(bad), "--out", str(tmp_path / "p.csv"), "-q"], capsys)
    assert code == 2
    one_line(lines, "times.nc4", "'time'")


# --- the batch: SIGKILL and resume, markers of the wrong shape, damaged outputs --------------


@pytest.fixture(scope="module")
def lite3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three small Lite files of three simulated orbits."""
    folder = tmp_path_factory.mktemp("lite3")
    for i, orbit in enumerate((11522, 11523, 11524)):
        soundings, _truth = simulate_orbit(orbit, seed=5)
        write_lite(folder / f"oco2_LtCO2_16083{i + 1}_B11_x.nc4", soundings.iloc[: N_FRAMES * 8])
    return folder


@pytest.fixture(scope="module")
def reference_run(lite3: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from oco2explore.pipeline import run_pipeline

    out = tmp_path_factory.mktemp("reference")
    report = run_pipeline(lite3, out, workers=1, progress=False)
    assert len(report.done) == 3 and not report.failed
    return out


def _catalogue(out: Path) -> pd.DataFrame:
    parts = [read_table(p) for p in sorted((out / "catalogue").glob("peaks_*.parquet"))]
    return pd.concat(parts, ignore_index=True).sort_values("peak_id", ignore_index=True)


def _cli(*argv: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "oco2explore.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its Dask workers die with it
    )


@pytest.mark.timeout(300)
def test_run_killed_mid_way_resumes_to_the_same_results(lite3, reference_run, tmp_path):
    import signal
    import time

    out = tmp_path / "out"
    proc = _cli("run", str(lite3), "--out", str(out), "--workers", "1", "-q")
    deadline = time.monotonic() + 240
    while not list(out.glob("files/*/done.json")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    done_before = len(list(out.glob("files/*/done.json")))
    assert done_before < 3 and not (out / "manifest.json").exists()
    rerun = _cli("run", str(lite3), "--out", str(out), "--workers", "1", "-q")
    _stdout, err = rerun.communicate(timeout=240)
    assert rerun.returncode == 0 and "Traceback" not in err and "error" not in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["files"]) == 3
    pd.testing.assert_frame_equal(_catalogue(out), _catalogue(reference_run))


@pytest.mark.timeout(300)
def test_run_redoes_markers_of_the_wrong_shape_and_names_bad_inputs_once(
    lite3, reference_run, table, tmp_path
):
    out = tmp_path / "out"
    shutil.copytree(reference_run, out)
    markers = sorted(out.glob("files/*/done.json"))
    markers[0].write_text('{"outputs": []}')
    markers[1].write_text("[1]")
    lite = tmp_path / "lite"
    shutil.copytree(lite3, lite)
    write_lite(lite / "oco2_LtCO2_160901_B11_times.nc4", table, time=("f8", np.full(N, 1e20)))
    proc = _cli("run", str(lite), "--out", str(out), "--workers", "1", "-q")
    _stdout, err = proc.communicate(timeout=240)
    assert proc.returncode == 3
    assert "Traceback" not in err
    failed = [line for line in err.splitlines() if "oco2_LtCO2_160901_B11_times" in line]
    one_line(failed, "failed:", "'time'")
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(f["status"] for f in manifest["files"]) == ["done"] * 3 + ["failed"]
    pd.testing.assert_frame_equal(_catalogue(out), _catalogue(reference_run))


def test_run_on_an_output_damaged_behind_its_marker_says_force(
    lite3, reference_run, tmp_path, capsys
):
    out = tmp_path / "out"
    shutil.copytree(reference_run, out)
    (next(out.glob("files/*/peaks.parquet"))).write_bytes(b"PAR1 damaged")
    shutil.rmtree(out / "catalogue")
    code, lines = run(["run", str(lite3), "--out", str(out), "-q"], capsys)
    assert code == 2
    one_line(lines, "peaks.parquet", "damaged", "--force")
