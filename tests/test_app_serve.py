"""Tests of oco2explore.app.serve: the served notebook, the command line, Voila options."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO

from oco2explore.app.serve import (
    NOTEBOOK_CELLS,
    check_ip,
    check_port,
    resolve_data,
    voila_command,
)
from oco2explore.errors import InputError


def test_checkout_notebook_is_the_served_notebook():
    cells = json.loads((REPO / "apps" / "explorer.ipynb").read_text())["cells"]
    assert ["".join(c["source"]) for c in cells] == list(NOTEBOOK_CELLS)


def test_app_command_rejects_a_missing_data_folder(tmp_path):
    with pytest.raises(InputError, match="no OCO-2 Lite files"):
        resolve_data(tmp_path)
    res = subprocess.run(
        [sys.executable, "-m", "oco2explore.cli", "app", "--data", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "data folder not found" in res.stderr


def test_voila_runs_with_a_pool_the_xsrf_cookie_and_culling():
    command = " ".join(voila_command(REPO / "apps" / "explorer.ipynb", 9999, "0.0.0.0", 3, 120))
    assert "--Voila.ip=0.0.0.0" in command and "--pool_size=3" in command
    assert "--preheat_kernel=True" in command
    assert "identity_provider_class=oco2explore.app.kernels.PageIdentityProvider" in command
    assert "multi_kernel_manager_class=oco2explore.app.kernels.PageKernelManager" in command
    assert "--MappingKernelManager.cull_idle_timeout=120" in command
    assert "--MappingKernelManager.cull_connected=False" in command
    assert "--preheat_kernel=False" in " ".join(voila_command(REPO, 1, pool_size=0))


def test_ip_and_port_are_checked():
    assert check_ip("0.0.0.0") == "0.0.0.0" and check_ip("::1") == "::1"
    assert check_ip("my-host.example.org") == "my-host.example.org"
    for bad in ("999.1.1.1", "a b", "-x", ""):
        with pytest.raises(InputError, match="neither an IP address nor a host name"):
            check_ip(bad)
    assert check_port(8866) == 8866
    with pytest.raises(InputError, match="outside 1–65535"):
        check_port(70000)
    for args, message in ((["--ip", "999.1.1.1"], "--ip"), (["--port", "0"], "--port")):
        res = subprocess.run(
            [sys.executable, "-m", "oco2explore.cli", "app", "--no-browser", *args],
            capture_output=True,
            text=True,
        )
        assert res.returncode == 2 and message in res.stderr
        assert "Traceback" not in res.stderr
