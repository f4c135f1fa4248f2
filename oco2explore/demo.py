"""The embedded demo dataset: simulated Lite files over big emitters, built once into a cache.

The demo covers one 16-day ground-track repeat cycle of OCO-2 (so every region of
:data:`oco2explore.simulate.REGIONS` is crossed a few times), including the real Highveld
pass of orbit 11522 on 2016-08-31. It is built on first use in a few seconds, into a
temporary folder renamed into place, so a reader never sees a half-built dataset and
concurrent builders do not clash.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from .report import report_lite_folder
from .simulate import REGIONS, TRUTH_FILE, simulate

log = logging.getLogger(__name__)

#: Environment variable overriding the cache folder.
CACHE_ENV = "OCO2EXPLORE_CACHE"
#: Demo parameters; change :data:`DEMO_VERSION` whenever the simulator's output changes.
DEMO_VERSION = 4
DEMO_SEED = 0
DEMO_START = "2016-08-24"
DEMO_DAYS = 16
#: Folder of the demo's source report (CONTRACT §5), read by the explorer's Sources tab.
REPORT_DIR = "report"


def default_cache_dir() -> Path:
    """The cache folder: ``$OCO2EXPLORE_CACHE``, else ``$XDG_CACHE_HOME/oco2explore``, else
    ``~/.cache/oco2explore``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "oco2explore"


def demo_data_dir(cache_dir: str | Path | None = None) -> Path:
    """Folder of the demo Lite files and their ``truth.csv``, built on first use.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Where to keep the demo data (default :func:`default_cache_dir`).

    Returns
    -------
    Path
        ``<cache_dir>/demo-v<version>-seed<seed>``, holding ``oco2_LtCO2_*.nc4`` files
        (one per day with a pass over a region), ``truth.csv`` and the source report
        of those files in ``report/`` (:func:`oco2explore.report.report_lite_folder`).
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache / f"demo-v{DEMO_VERSION}-seed{DEMO_SEED}"
    if (target / TRUTH_FILE).is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    log.info("building the demo data in %s (once)", target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=cache))
    try:
        simulate(tmp, days=DEMO_DAYS, seed=DEMO_SEED, start=DEMO_START, regions=list(REGIONS))
        report_lite_folder(tmp, tmp / REPORT_DIR)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / TRUTH_FILE).is_file():  # not a concurrent builder's result
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return target
