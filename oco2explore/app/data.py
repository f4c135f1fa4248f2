"""The explorer's data root: the Lite files (and monthly peak catalogues) it may open.

The root is a local folder or a ``swift://container/prefix`` (via
:func:`oco2explore.storage.open_store`); by default the demo data. Only keys
*listed* in the root can be opened, so a deep link can never make the app read
anything else.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import tempfile
from pathlib import Path

import pandas as pd

from ..demo import REAL_LITE, REAL_ORBIT, SIMULATED_LABEL, demo_data_dir, provenance
from ..errors import InputError
from ..lite import lite_file_day, read_lite
from ..simulate import TRUTH_FILE
from ..storage import LocalStore, open_store
from ..tableio import read_table

log = logging.getLogger(__name__)

#: Monthly peak catalogues written by the batch pipeline: ``.../peaks_YYYY-MM.parquet|csv``.
CATALOGUE_NAME = re.compile(r"peaks_(\d{4}-\d{2})\.(parquet|csv)$")


class DataRoot:
    """The files the explorer may open.

    Parameters
    ----------
    location : str or Path, optional
        Folder or ``swift://container/prefix``; the demo data when omitted.
    scratch : str or Path, optional
        Where Swift objects are downloaded (a temporary folder by default).
    swift_config : str, Path or dict, optional
        Swift settings (see :func:`oco2explore.storage.open_store`); the environment
        (``ST_*`` or ``OS_*`` variables) otherwise.
    """

    def __init__(
        self,
        location: str | Path | None = None,
        scratch: str | Path | None = None,
        swift_config: str | Path | dict | None = None,
    ) -> None:
        if location is None or str(location) == "":
            location = demo_data_dir()
            self.label = "demo data"
            self.is_demo = True
        else:
            self.label = str(location)
            self.is_demo = False
        self.store = open_store(location, swift_config=swift_config)
        if isinstance(self.store, LocalStore) and not self.store.root.is_dir():
            raise InputError("data folder not found", path=self.store.root)
        self._scratch = Path(scratch or tempfile.mkdtemp(prefix="oco2explore-app-"))
        keys = self.store.list()
        self.files: list[str] = [k for k in keys if lite_file_day(k) is not None]
        self.catalogues: dict[str, str] = {
            m.group(1): k for k in keys if (m := CATALOGUE_NAME.search(k))
        }
        self._soundings: dict[tuple[str, str], pd.DataFrame] = {}
        self.truth_key = next((k for k in keys if k.rsplit("/", 1)[-1] == TRUTH_FILE), None)
        self._truth: pd.DataFrame | None = None
        if not self.files:
            raise InputError(
                "no OCO-2 Lite files (oco2_LtCO2_*.nc4) in the data root", path=location
            )

    def local(self, key: str) -> Path:
        """Local file of a *listed* key; anything else is an :class:`InputError`."""
        if key not in self.files and key not in self.catalogues.values():
            raise InputError(f"{key!r} is not a file of the data root {self.label}")
        path = self.store.local_path(key, self._scratch)
        if isinstance(self.store, LocalStore) and not path.resolve().is_relative_to(
            self.store.root
        ):
            raise InputError(f"{key!r} points outside the data root {self.label}")
        return path

    def default_view(self) -> tuple[str, int | None]:
        """File and orbit opened first: the demo's real Highveld pass, else the first file."""
        if self.is_demo:
            featured = next((k for k in self.files if k.rsplit("/", 1)[-1] == REAL_LITE), None)
            if featured is not None:
                return featured, REAL_ORBIT
        return self.files[0], None

    def provenance(self, key: str) -> str:
        """ "real OCO-2" or "simulated" (see :func:`oco2explore.demo.provenance`)."""
        return provenance(key)

    def truth(self, key: str) -> pd.DataFrame:
        """True plumes of a simulated file's day from the root's ``truth.csv`` (else empty)."""
        if self.provenance(key) != SIMULATED_LABEL or self.truth_key is None:
            return pd.DataFrame()
        if self._truth is None:
            self._truth = read_table(self.store.local_path(self.truth_key, self._scratch))
        day = lite_file_day(key)
        times = pd.to_datetime(self._truth["time"], utc=True).dt.date
        return self._truth[times == day].reset_index(drop=True)

    def soundings(self, key: str, quality: str = "good") -> pd.DataFrame:
        """Sounding table of one listed Lite file (cached per quality policy)."""
        cached = self._soundings.get((key, quality))
        if cached is None:
            cached = read_lite([self.local(key)], quality=quality)
            self._soundings[(key, quality)] = cached
        return cached

    def months(self) -> list[str]:
        """Months (``YYYY-MM``) with Lite files, sorted."""
        return sorted({f"{lite_file_day(k):%Y-%m}" for k in self.files})

    def files_of_month(self, month: str) -> list[str]:
        """Listed Lite files of one month (``YYYY-MM``)."""
        return [k for k in self.files if f"{lite_file_day(k):%Y-%m}" == month]

    def file_of_day(self, day: dt.date) -> str | None:
        """The Lite file of a UTC day, if listed."""
        return next((k for k in self.files if lite_file_day(k) == day), None)

    def catalogue(self, month: str) -> pd.DataFrame | None:
        """The batch pipeline's peak catalogue of a month, if the root has one."""
        key = self.catalogues.get(month)
        return None if key is None else read_table(self.local(key))
