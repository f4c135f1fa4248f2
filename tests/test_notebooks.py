"""The teaching notebooks are stored clean and executed by the default test run (nbval).

Executing them is nbval's job (``testpaths`` includes ``notebooks`` and ``addopts``
``--nbval-lax``); these checks keep the stored files reviewable and the run wired up.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_the_five_teaching_notebooks_exist() -> None:
    assert [p.name[:3] for p in NOTEBOOKS] == ["01_", "02_", "03_", "04_", "05_"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_saved_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "no code cells"
    assert all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_cites_its_sources(path: Path) -> None:
    text = "".join(c.source for c in nbformat.read(path, as_version=4).cells)
    assert "### References" in text
    assert "https://doi.org/" in text


def test_default_pytest_run_executes_the_notebooks(pytestconfig: pytest.Config) -> None:
    assert "notebooks" in pytestconfig.getini("testpaths")
    assert "--nbval-lax" in pytestconfig.getini("addopts")
