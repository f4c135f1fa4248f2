"""Shared fixtures: the real OCO-2 data beside the checkout, temporary folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: Real OCO-2 soundings for regression tests (not copied into the repo).
REAL_DATA = REPO.parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Folder of real OCO-2 soundings; required in CI, skipped only outside it."""
    if not REAL_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"real data missing in CI: {REAL_DATA}")
        pytest.skip(f"real data not found at {REAL_DATA}")
    return REAL_DATA
