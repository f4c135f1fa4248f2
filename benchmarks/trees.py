"""Run benchmark code against the package as it was at another git commit.

:func:`export_tree` writes the files of a commit (``git archive``) into a temporary
folder; :func:`run_in_tree` runs a script with that folder first on ``PYTHONPATH``, so
``import oco2explore`` is the commit's package while the script itself (and the data it
is given) come from the current checkout. ``check_identity.py`` and ``bench_speed.py``
compare the current code with a base commit this way, in one run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: The checkout these benchmarks belong to.
REPO = Path(__file__).resolve().parents[1]


def resolve(commit: str) -> str:
    """Full hash of ``commit`` (a hash, branch or tag) in :data:`REPO`."""
    out = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", f"{commit}^{{commit}}"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def export_tree(commit: str, into: Path | None = None) -> Path:
    """The files of ``commit`` extracted into a new folder (under ``into`` or a temp dir)."""
    sha = resolve(commit)
    root = Path(tempfile.mkdtemp(prefix=f"oco2explore-{sha[:10]}-", dir=into))
    archive = root / "tree.tar"
    subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", "-o", str(archive), sha],
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(root / "tree", filter="data")
    archive.unlink()
    return root / "tree"


def run_in_tree(tree: Path, script: Path, args: list[str]) -> subprocess.CompletedProcess:
    """Run ``python script args`` with ``tree`` first on ``PYTHONPATH`` (output captured).

    Raises
    ------
    subprocess.CalledProcessError
        The script failed (its standard error is in the exception).
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tree), *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, str(script), *args],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tree),
    )


def check_package(tree: Path) -> None:
    """Raise RuntimeError unless ``import oco2explore`` loads the package of ``tree``."""
    import oco2explore

    here = Path(oco2explore.__file__).resolve().parent
    if here != (Path(tree).resolve() / "oco2explore"):
        raise RuntimeError(f"oco2explore imported from {here}, not from {tree}")
