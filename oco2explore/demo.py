"""The embedded demo dataset: one real OCO-2 pass and simulated Lite files, built once.

The demo opens on a *real* OCO-2 pass: 1,598 soundings of orbit 11522 on 2016-08-31 over
the Highveld coal power stations of South Africa (packaged in
``oco2explore/data/oco2_orbit11522_20160831_highveld.csv``; NASA/JPL public domain;
oco2peak, Apache-2.0; see ``oco2explore/data/README.md``), written as a Lite file by
:func:`real_highveld_lite`. Beside it, simulated Lite files over big emitters cover one
16-day ground-track repeat cycle of OCO-2 (so every region of
:data:`oco2explore.simulate.REGIONS` is crossed a few times), with their true plumes in
``truth.csv``. The demo is built on first use in a few seconds, into a temporary folder
renamed into place, so a reader never sees a half-built dataset and concurrent builders
do not clash.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .lite import write_lite_file
from .report import report_lite_folder
from .simulate import REGIONS, TRUTH_FILE, simulate

log = logging.getLogger(__name__)

#: Environment variable overriding the cache folder.
CACHE_ENV = "OCO2EXPLORE_CACHE"
#: Demo parameters; change :data:`DEMO_VERSION` whenever the simulator's output changes.
DEMO_VERSION = 5
DEMO_SEED = 0
DEMO_START = "2016-08-24"
DEMO_DAYS = 16
#: Folder of the demo's source report (CONTRACT §5), read by the explorer's Sources tab.
REPORT_DIR = "report"

#: The packaged real pass (``oco2explore/data/``) and the Lite file written from it.
REAL_CSV = "oco2_orbit11522_20160831_highveld.csv"
REAL_LITE = "oco2_LtCO2_160831_B10206Ar_real-highveld.nc4"
REAL_ORBIT = 11522
#: The real pass's soundings carry no time: the first frame's (UTC), frames 1/3 s apart.
REAL_T0 = pd.Timestamp("2016-08-31T11:55:00Z")
#: First sounding id of the real pass (YYYYMMDDhhmm + frame and footprint digits).
REAL_SOUNDING_ID0 = 2016083111550000
#: Meteorology at the real Highveld peak (``oco2explore/data/README.md``): 10 m wind (m/s),
#: surface pressure (hPa), total column water vapour (kg/m²).
REAL_MET = {
    "windspeed_u_met": -1.6995,
    "windspeed_v_met": -1.5996,
    "psurf": 848.3,
    "psurf_apriori": 848.3,
    "tcwv": 6.14,
}
#: The real CSV has no error estimates: a constant XCO2 uncertainty, ppm.
REAL_XCO2_UNCERTAINTY = 0.5
#: Provenance labels shown by the explorer.
REAL_LABEL = "real OCO-2"
SIMULATED_LABEL = "simulated"


def default_cache_dir() -> Path:
    """The cache folder: ``$OCO2EXPLORE_CACHE``, else ``$XDG_CACHE_HOME/oco2explore``, else
    ``~/.cache/oco2explore``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "oco2explore"


def real_highveld_soundings(csv: str | Path | None = None) -> pd.DataFrame:
    """The real orbit-11522 Highveld soundings as a Lite sounding table.

    The CSV has no ids, times, flags or meteorology: footprints are numbered within
    frames (a frame starts where the longitude jumps back east), frames get
    consecutive ids 1/3 s apart from :data:`REAL_T0`, every sounding is good-quality
    land, and the meteorology is the one known at the peak (:data:`REAL_MET`).

    Parameters
    ----------
    csv : str or Path, optional
        ``oco2_orbit11522_20160831_highveld[_peak].csv``; the packaged copy by default.

    Returns
    -------
    DataFrame
        Every column :func:`oco2explore.lite.write_lite_file` needs.
    """
    if csv is None:
        with resources.as_file(resources.files(__package__) / "data" / REAL_CSV) as path:
            df = pd.read_csv(path)
    else:
        df = pd.read_csv(csv)
    frame = np.concatenate([[0], np.cumsum(np.diff(df["longitude"].to_numpy()) > 0)])
    footprint = df.groupby(frame).cumcount().to_numpy() + 1
    return df[["latitude", "longitude", "xco2"]].assign(
        sounding_id=REAL_SOUNDING_ID0 + 10 * frame + footprint,
        time=REAL_T0 + pd.to_timedelta(frame / 3.0, unit="s"),
        orbit=REAL_ORBIT,
        footprint=footprint,
        xco2_uncertainty=REAL_XCO2_UNCERTAINTY,
        xco2_quality_flag=0,
        land_water_indicator=0,
        land_fraction=100.0,
        altitude=1500.0,
        operation_mode=0,
        **REAL_MET,
    )


def real_highveld_lite(folder: str | Path, csv: str | Path | None = None) -> Path:
    """Write the real Highveld pass as ``<folder>/``:data:`REAL_LITE`; returns its path.

    Parameters
    ----------
    folder : str or Path
        Destination folder (must exist).
    csv : str or Path, optional
        The real CSV (default: the packaged copy).
    """
    return write_lite_file(real_highveld_soundings(csv), Path(folder) / REAL_LITE)


def provenance(key: str) -> str:
    """:data:`SIMULATED_LABEL` for a simulated Lite file (``*_sim.nc4``), else
    :data:`REAL_LABEL`."""
    return SIMULATED_LABEL if key.rsplit("/", 1)[-1].endswith("_sim.nc4") else REAL_LABEL


def demo_data_dir(cache_dir: str | Path | None = None) -> Path:
    """Folder of the demo Lite files and their ``truth.csv``, built on first use.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Where to keep the demo data (default :func:`default_cache_dir`).

    Returns
    -------
    Path
        ``<cache_dir>/demo-v<version>-seed<seed>``, holding the real pass
        (:data:`REAL_LITE`), the simulated ``oco2_LtCO2_*_sim.nc4`` files (one per day
        with a pass over a region), their ``truth.csv`` and the source report of all
        those files in ``report/`` (:func:`oco2explore.report.report_lite_folder`).
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
        real_highveld_lite(tmp)
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
