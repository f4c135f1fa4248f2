"""NASA GES DISC download with the real earthaccess: one-line errors without package,
login or network (this machine has no internet), argument checks, granule file names."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tomllib

import earthaccess
import pytest
from conftest import REPO

from oco2explore import nasa
from oco2explore.cli import main
from oco2explore.errors import InputError

FAKE_USER, FAKE_PASSWORD = "oco2explore-test-user", "not-a-real-password-42"
EARTHDATA_VARS = ("EARTHDATA_USERNAME", "EARTHDATA_PASSWORD", "EARTHDATA_TOKEN", "NETRC")
OFFLINE_OR_REJECTED = ("cannot reach NASA Earthdata (", "NASA Earthdata Login rejected")


@pytest.fixture
def no_login(monkeypatch, tmp_path):
    """No Earthdata credentials: no EARTHDATA_* variables, HOME without a .netrc."""
    for var in EARTHDATA_VARS:
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    assert not earthaccess.__auth__.authenticated  # nothing logged in earlier in this process
    return home


def test_missing_earthaccess_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "earthaccess", None)
    with pytest.raises(InputError) as err:
        nasa.download_lite("2016-08-31", store=tmp_path)
    assert str(err.value) == nasa.INSTALL_MESSAGE
    assert "pip install 'oco2explore[nasa]'" in str(err.value)


@pytest.mark.parametrize("netrc", [None, "machine example.org login someone password secret\n"])
def test_no_login_says_which_variables_or_netrc(no_login, tmp_path, netrc):
    if netrc is not None:
        (no_login / ".netrc").write_text(netrc)
    store = tmp_path / "lite"
    with pytest.raises(InputError) as err:
        nasa.download_lite("2016-08-31", store=store, progress=False)
    message = str(err.value)
    assert message == nasa.LOGIN_MESSAGE and "\n" not in message
    for needed in ("EARTHDATA_USERNAME", "EARTHDATA_PASSWORD", "~/.netrc", "urs.earthdata"):
        assert needed in message
    assert not store.exists()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("source", ["environment", "netrc"])
def test_fake_credentials_without_network_say_so_in_one_line(
    no_login, monkeypatch, tmp_path, source
):
    if source == "environment":
        monkeypatch.setenv("EARTHDATA_USERNAME", FAKE_USER)
        monkeypatch.setenv("EARTHDATA_PASSWORD", FAKE_PASSWORD)
    else:
        netrc = no_login / ".netrc"
        netrc.write_text(
            f"machine urs.earthdata.nasa.gov login {FAKE_USER} password {FAKE_PASSWORD}\n"
        )
        netrc.chmod(0o600)
    with pytest.raises(InputError) as err:
        nasa.download_lite("2016-08-31", store=tmp_path / "lite", progress=False)
    message = str(err.value)
    assert message.startswith(OFFLINE_OR_REJECTED) and "\n" not in message
    if message.startswith("cannot reach"):
        assert "urs.earthdata.nasa.gov" in message
    assert FAKE_PASSWORD not in message and FAKE_USER not in message
    assert not earthaccess.__auth__.authenticated


@pytest.mark.timeout(60)
def test_search_needs_no_login_but_network(no_login):
    with pytest.raises(InputError) as err:
        nasa.search_lite("2016-08-31", "2016-09-01", collection="OCO3_L2_Lite_FP")
    assert str(err.value).startswith("cannot reach NASA Earthdata (cmr.earthdata.nasa.gov")


def test_cli_without_login_exit_2_one_stderr_line(no_login, tmp_path, capsys):
    status = main(["nasa", "2016-08-31", "2016-09-01", "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert captured.err.splitlines() == [f"oco2explore nasa: error: {nasa.LOGIN_MESSAGE}"]


@pytest.mark.timeout(60)
def test_cli_with_token_offline_exit_2_one_stderr_line_without_secret(tmp_path):
    # A token logs in without a request; earthaccess then contacts Earthdata. A separate
    # process keeps the (fake) login out of this one.
    token = "fake-earthdata-token-1234567890"
    env = {k: v for k, v in os.environ.items() if k not in EARTHDATA_VARS}
    env.update(HOME=str(tmp_path), EARTHDATA_TOKEN=token)
    res = subprocess.run(
        [sys.executable, "-m", "oco2explore.cli", "nasa", "2016-08-31"]
        + ["--out", str(tmp_path / "lite"), "--collection", "OCO3_L2_Lite_FP"],
        capture_output=True,
        text=True,
        env=env,
        timeout=50,
    )
    assert res.returncode == 2 and res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("oco2explore nasa: error: ")
    assert lines[0].removeprefix("oco2explore nasa: error: ").startswith(OFFLINE_OR_REJECTED)
    assert token not in res.stderr and "Traceback" not in res.stderr


def test_cli_checks_arguments_before_login(no_login, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["nasa", "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert "the following arguments are required: start" in capsys.readouterr().err
    assert main(["nasa", "2016-09-02", "2016-09-01", "--out", str(tmp_path)]) == 2
    assert "end day 2016-09-01 is before start day 2016-09-02" in capsys.readouterr().err


def test_days_and_boxes_are_validated():
    assert nasa.day_range("2016-08-31") == (dt.date(2016, 8, 31), dt.date(2016, 8, 31))
    assert nasa.day_range(dt.date(2016, 8, 31), "2016-09-02")[1] == dt.date(2016, 9, 2)
    assert nasa.parse_bbox("-10,30.5,20,50") == (-10.0, 30.5, 20.0, 50.0)
    assert nasa.parse_bbox([26, -28, 31, -24]) == (26.0, -28.0, 31.0, -24.0)
    assert nasa.parse_bbox(None) is None
    for bad_day in ("2016-31-08", "yesterday"):
        with pytest.raises(InputError, match="want YYYY-MM-DD"):
            nasa.parse_day(bad_day)
    for bad_box in ("1,2,3", "a,b,c,d", (0, 50, 10, 40), (-200, 0, 10, 10)):
        with pytest.raises(InputError, match="bounding box"):
            nasa.parse_bbox(bad_box)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # earthaccess internals
def test_granule_file_names_from_cmr_links():
    url = (
        "https://data.gesdisc.earthdata.nasa.gov/data/OCO2_DATA/OCO2_L2_Lite_FP.11.1r/2016/"
        "oco2_LtCO2_160831_B11100Ar_230603171418s.nc4"
    )
    granule = earthaccess.DataGranule(
        {
            "meta": {"concept-id": "G0-GES_DISC", "provider-id": "GES_DISC"},
            "umm": {
                "RelatedUrls": [
                    {"URL": url, "Type": "GET DATA"},
                    {"URL": url + ".xml", "Type": "EXTENDED METADATA"},
                ]
            },
        }
    )
    assert nasa.granule_files(granule) == ["oco2_LtCO2_160831_B11100Ar_230603171418s.nc4"]


def test_earthaccess_is_an_extra_not_a_core_dependency():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not any(dep.startswith("earthaccess") for dep in project["dependencies"])
    extras = project["optional-dependencies"]
    assert any(dep.startswith("earthaccess") for dep in extras["nasa"])
    assert any(dep.startswith("earthaccess") for dep in extras["test"])
