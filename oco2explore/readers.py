"""Open any sounding or peak input by what it is: the dispatcher above the format readers.

As xarray's ``open_dataset`` sits above its backends, :func:`read_soundings` sits above
:mod:`oco2explore.lite` (Lite NetCDF files and folders of them) and
:mod:`oco2explore.tableio` (Parquet, CSV). Each backend is a :class:`Backend` — a name,
a sniffer that says whether it can read a path, and a reader — in the ordered list
:data:`BACKENDS`; the first whose sniffer accepts the path reads it. A new format is one
more entry (:func:`register`). Every table read is checked against the CONTRACT by
:mod:`oco2explore.validate`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import InputError
from .soundings import NETCDF_SUFFIXES, normalise_soundings
from .tableio import TABLE_SUFFIXES, read_table
from .validate import PEAK_REQUIRED, PEAK_RULES, check_table


@dataclass(frozen=True)
class Backend:
    """One input format.

    Attributes
    ----------
    name : str
        Short name, for messages.
    sniff : callable
        ``sniff(path) -> bool``: whether this backend reads ``path``.
    read : callable
        ``read(path, quality) -> DataFrame``: the sounding table (CONTRACT §1), checked.
    """

    name: str
    sniff: Callable[[Path], bool]
    read: Callable[[Path, str], pd.DataFrame]


def _is_lite(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() in NETCDF_SUFFIXES


def _read_lite(path: Path, quality: str) -> pd.DataFrame:
    from .lite import find_lite_files, read_lite

    files = find_lite_files(path) if path.is_dir() else [path]
    if not files:
        raise InputError("no Lite NetCDF files (*.nc4) found", path=path)
    return read_lite(files, quality=quality)


def _is_table(path: Path) -> bool:
    return path.suffix.lower() in TABLE_SUFFIXES


def _read_sounding_table(path: Path, quality: str) -> pd.DataFrame:
    df = normalise_soundings(read_table(path), source=path)
    if quality == "good" and "xco2_quality_flag" in df.columns:
        df = df[df["xco2_quality_flag"] == 0].reset_index(drop=True)
    return df


def _is_points(path: Path) -> bool:
    from .points import is_points_file

    return path.is_file() and is_points_file(path)


def _read_points(path: Path, quality: str) -> pd.DataFrame:
    from .points import read_points

    return read_points(path, quality=quality)


#: The backends, tried in order: flat point files (:mod:`oco2explore.points`) first, as
#: they share suffixes with Lite files and tables.
BACKENDS: list[Backend] = [
    Backend("point file", _is_points, _read_points),
    Backend("Lite NetCDF", _is_lite, _read_lite),
    Backend("table", _is_table, _read_sounding_table),
]


def register(backend: Backend, first: bool = True) -> None:
    """Add a backend, tried before (``first``) or after the others."""
    BACKENDS.insert(0 if first else len(BACKENDS), backend)


def read_soundings(path: str | Path, quality: str = "good") -> pd.DataFrame:
    """Read a sounding table from any supported input.

    Parameters
    ----------
    path : str or Path
        ``.parquet``/``.csv`` table, ``.nc4`` Lite file, a folder of Lite files, a flat
        point file (:mod:`oco2explore.points`), or whatever a registered backend reads.
    quality : {"good", "all"}
        Quality policy: ``xco2_quality_flag == 0`` only, or all soundings.

    Returns
    -------
    DataFrame
        Sounding table (CONTRACT §1), checked, sorted by orbit and along-track distance.

    Raises
    ------
    InputError
        No backend reads ``path``, or it is unreadable or holds bad values (named).
    """
    path = Path(path)
    for backend in BACKENDS:
        if backend.sniff(path):
            return backend.read(path, quality)
    known = ", ".join(b.name for b in BACKENDS)
    raise InputError(f"unknown input format {path.suffix or '(none)'!r}; readers: {known}", path)


def read_peaks(path: str | Path) -> pd.DataFrame:
    """Read a peak table (CONTRACT §2) from Parquet or CSV, checked.

    Raises
    ------
    SchemaError
        Not a peak table (no ``peak_id``, ``latitude`` or ``longitude``) or a bad value.
    """
    return check_table(read_table(path), PEAK_RULES, path, PEAK_REQUIRED, "peak table")
