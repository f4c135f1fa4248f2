"""The command line: usage errors and bad input give exit 2 and one line, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from oco2explore.cli import build_parser, config_from_args, main
from oco2explore.config import FitConfig
from oco2explore.errors import InputError


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "oco2explore.cli", *args], capture_output=True, text=True
    )


def test_every_contract_command_has_help():
    for command in ("simulate", "extract", "detect", "match", "run", "storage", "app"):
        res = run_cli(command, "--help")
        assert res.returncode == 0, command
        assert "usage: oco2explore " + command in res.stdout


def test_usage_error_is_exit_2_one_line():
    res = run_cli("detect")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("oco2explore detect: error:")


def test_fit_options_mirror_the_parameter_object(tmp_path):
    parser = build_parser()
    args = parser.parse_args(
        ["detect", "x.csv", "--out", "p.csv", "--half-width-km", "60", "--r2-min", "none"]
    )
    config = config_from_args(args)
    assert config == FitConfig().replace(half_width_km=60.0, r2_min=None)


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("ON", True), ("0", False)])
def test_boolean_fit_options(raw, value):
    args = build_parser().parse_args(["detect", "x.csv", "--out", "p.csv", "--wind-aligned", raw])
    assert config_from_args(args).wind_aligned is value


def test_config_file_then_options(tmp_path):
    cfg = tmp_path / "fit.json"
    cfg.write_text(FitConfig(sigma_min_km=3.0).to_json())
    args = build_parser().parse_args(
        ["detect", "x.csv", "--out", "p.csv", "--config", str(cfg), "--sigma-max-km", "20"]
    )
    assert config_from_args(args) == FitConfig(sigma_min_km=3.0, sigma_max_km=20.0)


@pytest.mark.parametrize(
    ("option", "raw", "kind"), [("--r2-min", "high", "float"), ("--wind-aligned", "maybe", "bool")]
)
def test_bad_option_value_is_a_user_error(option, raw, kind):
    args = build_parser().parse_args(["detect", "x.csv", "--out", "p.csv", option, raw])
    with pytest.raises(InputError, match=f"{option} expects {kind}"):
        config_from_args(args)


def test_unreadable_input_names_the_file(tmp_path, capsys):
    missing = tmp_path / "missing.parquet"
    assert main(["detect", str(missing), "--out", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err] and "missing.parquet" in err
    assert not (tmp_path / "p.csv").exists()


def test_wrong_output_format_fails_before_any_work(tmp_path, capsys):
    missing_input = tmp_path / "not-read.parquet"  # would be exit 2 too, but later
    assert main(["detect", str(missing_input), "--out", str(tmp_path / "p.xlsx")]) == 2
    assert "p.xlsx: unknown table format" in capsys.readouterr().err


def test_bad_peak_table_names_its_file(tmp_path, capsys):
    bad = tmp_path / "peaks.csv"
    bad.write_text("a,b\n1,2\n")
    assert main(["match", str(bad), "--out", str(tmp_path / "m.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("peaks.csv: missing column 'latitude' in peak table")
