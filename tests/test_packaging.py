"""pyproject.toml, environment.yml and binder/ list the same packages with the same bounds."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib

import yaml
from conftest import REPO
from packaging.requirements import Requirement

# pip extras that are separate packages on conda-forge
PIP_TO_CONDA = {"dask[distributed]": {"dask", "distributed"}}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_requirements() -> dict[str, str]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    out = {}
    for spec in data["project"]["dependencies"]:
        req = Requirement(spec)
        key = f"{req.name}[{','.join(sorted(req.extras))}]" if req.extras else req.name
        for name in PIP_TO_CONDA.get(key, {req.name}):
            out[_norm(name)] = str(req.specifier)
    return out


def _conda_requirements(path) -> dict[str, str]:
    env = yaml.safe_load(path.read_text())
    out = {}
    for dep in env["dependencies"]:
        if not isinstance(dep, str):
            continue
        m = re.match(r"([A-Za-z0-9_.\-]+)(.*)", dep)
        if m.group(1) in ("python", "pip"):
            continue
        out[_norm(m.group(1))] = m.group(2).strip()
    return out


def test_environment_yml_matches_pyproject():
    assert _conda_requirements(REPO / "environment.yml") == _pyproject_requirements()


def test_binder_environment_matches_pyproject():
    assert _conda_requirements(REPO / "binder" / "environment.yml") == _pyproject_requirements()


def test_binder_installs_the_package_and_demo_data():
    post = (REPO / "binder" / "postBuild").read_text()
    assert "pip install" in post and "-e ." in post
    assert "demo_data_dir" in post


#: How repo2docker's conda buildpack reads the Python version of an environment.yml
#: dependency (repo2docker/buildpacks/conda/__init__.py, matched from the line's start).
REPO2DOCKER_PYTHON = re.compile(r"python\s*=+\s*([\d\.]*)")


def test_python_floor_agrees():
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    floor = data["project"]["requires-python"]
    deps = yaml.safe_load((REPO / "environment.yml").read_text())["dependencies"]
    assert f"python{floor}" in deps


def test_binder_pins_python_as_repo2docker_reads_it():
    # "python>=3.11" does not match: repo2docker would build its default Python.
    floor = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    deps = yaml.safe_load((REPO / "binder" / "environment.yml").read_text())["dependencies"]
    versions = [
        m.group(1) for d in deps if isinstance(d, str) and (m := REPO2DOCKER_PYTHON.match(d))
    ]
    assert versions == [floor.removeprefix(">=")], versions
    assert "python=3.11" in deps
    assert not REPO2DOCKER_PYTHON.match("python>=3.11")


def test_binder_server_shuts_closed_pages_kernels_down():
    config = json.loads((REPO / "binder" / "jupyter_server_config.json").read_text())
    provider = config["ServerApp"]["identity_provider_class"]
    assert provider == "oco2explore.app.kernels.ServerPageIdentityProvider"
    assert config["MappingKernelManager"]["cull_idle_timeout"] > 0
    assert "jupyter_server_config.json" in (REPO / "binder" / "postBuild").read_text()


def test_console_script_is_installed():
    res = subprocess.run(
        [sys.executable, "-m", "oco2explore.cli", "--version"], capture_output=True, text=True
    )
    assert res.returncode == 0 and "oco2explore" in res.stdout


def test_packaged_learned_model_is_package_data_and_small():
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = data["tool"]["setuptools"]["package-data"]["oco2explore"]
    model = REPO / "oco2explore" / "data" / "learned_default.joblib"
    card = model.with_suffix(".card.json")
    for path in (model, card):
        assert any(path.match(f"oco2explore/{g}") for g in globs), path
    assert model.stat().st_size <= 5 * 1024 * 1024
    assert json.loads(card.read_text())["labels"] == "truth"
