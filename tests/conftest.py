"""Shared fixtures: the real OCO-2 data beside the checkout, temporary folders, the explorer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: Real OCO-2 soundings for regression tests (not copied into the repo).
REAL_DATA = Path(
    os.environ.get("OCO2EXPLORE_REAL_DATA") or REPO.parent / "shared" / "data" / "real"
)
#: CoCO2 site ids of the Highveld coal power stations Kendal, Matla and Kriel.
HIGHVELD_PLANTS = {"CoCO2_14613", "CoCO2_14668", "CoCO2_14638"}


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Folder of real OCO-2 soundings; required in CI, skipped only outside it."""
    if not REAL_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"real data missing in CI: {REAL_DATA}")
        pytest.skip(f"real data not found at {REAL_DATA}")
    return REAL_DATA


@pytest.fixture(scope="session")
def swift_server(tmp_path_factory: pytest.TempPathFactory):
    """A real OpenStack Swift on 127.0.0.1 (see tests/swift_server.py), for the session."""
    from swift_server import start, stop, swift_python

    python = swift_python()
    if python is None:
        message = "Swift venv missing (.venv-swift): run `make swift-venv`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = start(tmp_path_factory.mktemp("swift"), python)
    yield server
    stop(server)


@pytest.fixture(scope="module")
def highveld(real_data, tmp_path_factory) -> Path:
    """A data root with one Lite file: the real Highveld stretch of orbit 11522."""
    from oco2explore.demo import real_highveld_lite

    folder = tmp_path_factory.mktemp("highveld")
    real_highveld_lite(folder, real_data / "oco2_orbit11522_20160831_highveld_peak.csv")
    return folder


@pytest.fixture
def explorer(highveld):
    """The explorer on the real Highveld pass, its first view drawn (no map tiles)."""
    from oco2explore.app import Explorer

    app = Explorer(highveld, basemap=False)
    app.start("")
    return app


#: The simulated day of the shared simulator fixtures (tests/test_simulate_*.py).
SIM_DAY = "2016-08-31"


@pytest.fixture(scope="session")
def full_day():
    """The whole simulated 2016-08-31 (seed 0, plumes): soundings and truth."""
    from oco2explore.simulate import simulate_day

    return simulate_day(SIM_DAY, seed=0)


@pytest.fixture(scope="session")
def null_day():
    """The same day without plumes (seed 0): soundings and an empty truth."""
    from oco2explore.simulate import simulate_day

    return simulate_day(SIM_DAY, seed=0, plumes=False)


@pytest.fixture(scope="session")
def correlated_null_day():
    """The plume-free day with the real-like along-track correlated error."""
    from oco2explore.simulate import REAL_CORRELATED_ERROR_PPM, simulate_day

    return simulate_day(
        SIM_DAY, seed=0, plumes=False, correlated_error_ppm=REAL_CORRELATED_ERROR_PPM
    )
