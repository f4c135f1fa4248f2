"""Flat point files: any NetCDF, CSV or Parquet table of soundings -> sounding table (CONTRACT §1).

Users of the JPL CO2 portal (the "CO2 Virtual Science Data Environment" subset service) get
NetCDF files with one dimension ``points_dimension``, no groups, string times ``YYYYMMDDhhmmss``
at 1-s resolution and short names (``lat``, ``lon``, ``alt``, ``xco2``, ``aod_total``, ...); other
tools write CSV or Parquet tables with ``Latitude``/``longitude``/``XCO2`` and times as datetimes
or seconds. This module reads all of them into the sounding table the detector uses.

What is read
------------
Required: latitude, longitude, time and XCO2, under any of the names of :data:`COLUMN_NAMES`
(case-insensitive). Every other sounding-table column is read when the file has it under its
CONTRACT name or an alias of :data:`COLUMN_NAMES`; the retrieval diagnostics of
:data:`oco2explore.schema.DIAGNOSTIC_COLUMNS` (and ``windspeed``) are NaN when absent, as from
Lite files. A missing required variable raises one :class:`~oco2explore.errors.SchemaError`
naming the file and every missing variable.

* ``time``: datetimes (any time zone, naive = UTC), ISO 8601 strings, ``YYYYMMDDhhmmss`` strings
  or integers, numbers with CF units ``<unit> since <epoch>``, or else seconds since 1970-01-01.
* ``altitude`` (m): a variable labelled ``km`` (units attribute, or a name ending ``_km``) is
  multiplied by 1000 -- unless its values exceed :data:`MAX_SURFACE_ALTITUDE_KM`, which no surface
  reaches: then they are metres despite the label (the portal's ``alt`` is labelled km and holds
  metres, 0-3781 over California) and a warning says so.
* Fill values (``_FillValue``, ``missing_value``, ``invalid_value`` attributes, and -999999) become
  NaN; rows without a position or time are dropped with a warning.

Derived, when the file lacks them
---------------------------------
* ``orbit`` -- a *pass id*: soundings are sorted by time and a gap longer than
  :data:`PASS_GAP_S` (10 min) starts a new pass (an OCO-2 pass over a region lasts minutes,
  consecutive orbits are 99 min apart). The id is the pass's first sounding time in whole
  minutes since 1970-01-01 UTC (``pd.Timestamp(orbit, unit="min")`` gives it back): unique
  across files, fits int32 until the year 6053, and says when the pass was, which a running
  number would not.
* Order within a pass: by time, then by latitude in the pass's direction of travel (northward
  when the pass's last sounding lies north of its first), so soundings of the same second follow
  the track and ``distance_km`` (computed by :func:`oco2explore.soundings.add_distance_km`,
  each sounding its own frame) is non-decreasing.
* ``sounding_id`` -- ``YYYYMMDDhhmmss`` of the sounding's second, then two digits ``kk`` (its rank
  among the soundings of that second, in the order above), then ``0``: 17 digits, e.g.
  ``20140923205412070`` for the 8th sounding of 20:54:12. Unique within a file (at most 100
  soundings a second; OCO-2 and OCO-3 take 24); the last digit 0 is "no footprint" (Lite
  footprints are 1-8), so a synthetic id never equals a Lite id and
  :func:`oco2explore.soundings.frame_id` makes every sounding its own frame.
* ``xco2_quality_flag`` -- 0 for every sounding when the file documents that it holds good
  soundings only (global attribute ``xco2_quality_flag = 0``, as the portal writes); otherwise
  absent, and :func:`oco2explore.scan.detect` then uses every sounding.
* ``xco2_uncertainty`` -- absent when the file has none (never a constant nor NaN): the scan then
  weights the soundings equally and the fit scales its errors and its significance by the
  scatter of each window (reduced χ²), so no made-up uncertainty enters a result. A NaN column
  would be worse: the scan drops soundings whose uncertainty is not finite.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import QUALITY_POLICIES
from .errors import InputError, SchemaError
from .schema import OPTIONAL_COLUMNS, SOUNDING_COLUMNS
from .soundings import NETCDF_SUFFIXES, normalise_soundings
from .tableio import TABLE_SUFFIXES, read_table

log = logging.getLogger(__name__)

#: Columns a point file must have.
REQUIRED = ("latitude", "longitude", "time", "xco2")

#: Sounding-table column -> names it may have in a point file (matched ignoring case, first wins).
#: Columns not listed are read under their CONTRACT name.
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "lon", "long", "lng"),
    "time": ("time", "datetime", "timestamp", "date_time", "utc_time"),
    "xco2": ("xco2",),
    "xco2_uncertainty": ("xco2_uncertainty", "xco2_unc", "xco2_error", "xco2_err", "xco2_sigma"),
    "xco2_quality_flag": ("xco2_quality_flag", "quality_flag"),
    "altitude": ("altitude", "alt", "surface_altitude", "altitude_m", "altitude_km", "alt_km"),
    "windspeed": ("windspeed", "wind_speed"),
}

#: A gap between consecutive soundings longer than this starts a new pass, s.
PASS_GAP_S = 600.0

#: Highest surface on Earth, rounded up, km: a larger "km" altitude is in metres.
MAX_SURFACE_ALTITUDE_KM = 9.0

#: Soundings of one second that a synthetic ``sounding_id`` can number (two digits).
MAX_PER_SECOND = 100

#: Value OCO-2 products use for missing floats.
LITE_FILL = -999999.0

#: Plausible sounding times: numbers outside are not seconds since 1970.
_TIME_RANGE = (pd.Timestamp("2000-01-01", tz="UTC"), pd.Timestamp("2100-01-01", tz="UTC"))

_STAMP = re.compile(r"^\d{14}$")
_LITE_NAME = re.compile(r"^oco[23]_LtCO2_", re.IGNORECASE)
_CF_TIME = re.compile(r"^\s*(\w+)\s+since\s+(.+?)\s*$", re.IGNORECASE)
_CF_UNITS = {
    "seconds": "s",
    "second": "s",
    "secs": "s",
    "sec": "s",
    "s": "s",
    "milliseconds": "ms",
    "ms": "ms",
    "minutes": "m",
    "minute": "m",
    "min": "m",
    "hours": "h",
    "hour": "h",
    "h": "h",
    "days": "D",
    "day": "D",
    "d": "D",
}


def _names(column: str) -> tuple[str, ...]:
    return COLUMN_NAMES.get(column, (column,))


@dataclass
class _Source:
    """The variables of one file: lower-case name -> name, and how to read one."""

    path: Path
    names: dict[str, str]
    attrs: dict[str, Any]
    dataset: Any = None
    table: pd.DataFrame | None = None

    def find(self, column: str) -> str | None:
        """Name in the file of a sounding-table column, or None."""
        for name in _names(column):
            if name in self.names:
                return self.names[name]
        return None

    def read(self, name: str) -> tuple[np.ndarray, str]:
        """Values (fill values as NaN for floats) and units of one variable."""
        if self.table is not None:
            return self.table[name].to_numpy(), ""
        var = self.dataset.variables[name]
        return _netcdf_values(var, self.path), str(getattr(var, "units", ""))


def _netcdf_values(var: Any, path: Path) -> np.ndarray:
    """1-D values of a NetCDF variable; char arrays as strings, fills as NaN."""
    import netCDF4

    var.set_auto_mask(False)
    values = np.asarray(var[:])
    if values.dtype.kind == "S" and values.ndim == 2:
        values = netCDF4.chartostring(values)
    if values.ndim != 1:
        raise SchemaError(
            f"variable {var.name!r} has shape {values.shape}, expected one value per sounding",
            path=path,
        )
    if values.dtype.kind == "f":
        fills = [LITE_FILL, netCDF4.default_fillvals.get(values.dtype.str[1:], np.nan)]
        for attr in ("_FillValue", "missing_value", "invalid_value"):
            with contextlib.suppress(AttributeError, TypeError, ValueError):
                fills.append(float(np.ravel(getattr(var, attr))[0]))
        values = values.astype(np.float64)
        for fill in fills:
            values[np.isclose(values, fill, rtol=1e-6, atol=0.0)] = np.nan
    elif values.dtype.kind == "S":
        values = values.astype(str)
    return values


@contextlib.contextmanager
def _open(path: Path) -> Iterator[_Source]:
    """The variables of a NetCDF file (root group) or the columns of a table."""
    if path.suffix.lower() in NETCDF_SUFFIXES:
        import netCDF4

        if not path.is_file():
            raise InputError("no such file", path=path)
        try:
            ds = netCDF4.Dataset(path, "r")
        except OSError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"not a readable NetCDF file: {reason}", path=path) from exc
        try:
            attrs = {k: ds.getncattr(k) for k in ds.ncattrs()}
            yield _Source(path, {n.lower(): n for n in ds.variables}, attrs, dataset=ds)
        finally:
            ds.close()
        return
    table = read_table(path)
    yield _Source(path, {str(c).lower(): str(c) for c in table.columns}, {}, table=table)


def is_points_file(path: str | Path) -> bool:
    """Whether ``path`` is a flat point file for :func:`read_points` (not a Lite file, nor a table
    that already has the CONTRACT columns).

    A NetCDF file is one when its root has no groups (every Lite file has ``Sounding``,
    ``Retrieval``, ...) and at least one variable named like a required column; files named as
    GES DISC names Lite files (``oco2_LtCO2_*``, ``oco3_LtCO2_*``) are not opened for this
    (it would cost a sixth of reading a simulated day). A CSV or
    Parquet table when it lacks one of ``orbit, latitude, longitude, xco2``. Unreadable files
    are not (the Lite or table reader then says what is wrong with them).

    Parameters
    ----------
    path : str or Path
        Any file.

    Returns
    -------
    bool
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        return False
    if suffix in NETCDF_SUFFIXES:
        import netCDF4

        if _LITE_NAME.match(path.name):
            return False
        try:
            with netCDF4.Dataset(path, "r") as ds:
                if ds.groups:
                    return False
                names = {n.lower() for n in ds.variables}
        except OSError:
            return False
        return any(name in names for col in REQUIRED for name in _names(col))
    if suffix in TABLE_SUFFIXES:
        try:
            if suffix == ".csv":
                columns = pd.read_csv(path, nrows=0).columns
            else:
                import pyarrow.parquet as pq

                columns = pq.read_schema(path).names
        except (OSError, ValueError, pd.errors.ParserError):
            return False
        return not {"orbit", "latitude", "longitude", "xco2"} <= {str(c) for c in columns}
    return False


def parse_times(values: np.ndarray | pd.Series, units: str = "") -> pd.DatetimeIndex:
    """Sounding times from any of the encodings point files use, UTC.

    Parameters
    ----------
    values : array_like
        Datetimes (naive = UTC), ISO 8601 or ``YYYYMMDDhhmmss`` strings, ``YYYYMMDDhhmmss``
        integers, or numbers: in CF ``units`` (``"seconds since 1993-01-01"``) when given, else
        seconds since 1970-01-01.
    units : str
        CF time units of numeric values, or "".

    Returns
    -------
    DatetimeIndex
        datetime64[ns, UTC] (nanoseconds whatever the input's resolution).

    Raises
    ------
    ValueError
        Values that none of the encodings reads, or numbers outside 2000-2100 as seconds.

    Examples
    --------
    >>> parse_times(np.array(["20140923205412"]))[0]
    Timestamp('2014-09-23 20:54:12+0000', tz='UTC')
    >>> parse_times(np.array([20140923205412]))[0] == parse_times(np.array([1411505652]))[0]
    True
    """
    return _decode_times(values, units).as_unit("ns")


def _decode_times(values: np.ndarray | pd.Series, units: str) -> pd.DatetimeIndex:
    """Times at whatever resolution pandas chose (see :func:`parse_times`)."""
    values = pd.Series(np.asarray(values))
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.DatetimeIndex(pd.to_datetime(values, utc=True))
    if values.dtype.kind in "OUS":
        text = values.astype(str).str.strip()
        if text.str.match(_STAMP).all():
            return pd.DatetimeIndex(pd.to_datetime(text, format="%Y%m%d%H%M%S", utc=True))
        return pd.DatetimeIndex(pd.to_datetime(text, format="ISO8601", utc=True))
    numbers = values.astype(np.float64)
    cf = _CF_TIME.match(units or "")
    if cf and cf.group(1).lower() in _CF_UNITS:
        origin = pd.Timestamp(cf.group(2))
        origin = origin if origin.tz is None else origin.tz_convert("UTC").tz_localize(None)
        return pd.DatetimeIndex(
            pd.to_datetime(numbers, unit=_CF_UNITS[cf.group(1).lower()], origin=origin, utc=True)
        )
    finite = numbers[np.isfinite(numbers)]
    if finite.size and ((finite >= 1e13) & (finite < 1e14) & (finite % 1 == 0)).all():
        text = numbers.map(lambda v: f"{v:.0f}" if np.isfinite(v) else "")
        return pd.DatetimeIndex(
            pd.to_datetime(text.replace("", None), format="%Y%m%d%H%M%S", utc=True)
        )
    times = pd.DatetimeIndex(pd.to_datetime(numbers, unit="s", utc=True))
    valid = times[times.notna()]
    if valid.size and (valid.min() < _TIME_RANGE[0] or valid.max() >= _TIME_RANGE[1]):
        raise ValueError(
            f"numbers from {finite.min():g} to {finite.max():g} are neither seconds since 1970 "
            "(2000-2100) nor YYYYMMDDhhmmss; give the variable CF units '<unit> since <epoch>'"
        )
    return times


def _altitude_m(values: np.ndarray, units: str, name: str, path: Path) -> np.ndarray:
    """Surface altitude in metres from a variable labelled km or m."""
    labelled_km = units.strip().lower() in (
        "km",
        "kilometer",
        "kilometers",
        "kilometre",
        "kilometres",
    )
    if not (labelled_km or name.lower().endswith("_km")):
        return values
    top = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 0.0
    if top > MAX_SURFACE_ALTITUDE_KM:
        log.warning(
            "%s: %r is labelled km but reaches %.0f, higher than any surface: read as metres",
            path,
            name,
            top,
        )
        return values
    return values * 1000.0


def split_passes(time: pd.DatetimeIndex, gap_s: float = PASS_GAP_S) -> np.ndarray:
    """Pass id of each sounding from the time gaps (see the module docstring).

    Parameters
    ----------
    time : DatetimeIndex
        Sounding times (any order, no NaT).
    gap_s : float
        A gap longer than this between consecutive soundings starts a new pass, s.

    Returns
    -------
    ndarray of int32
        The first sounding time of each sounding's pass, whole minutes since 1970-01-01 UTC.
    """
    ns = pd.DatetimeIndex(time).as_unit("ns").asi8
    order = np.argsort(ns, kind="stable")
    sorted_ns = ns[order]
    new = np.diff(sorted_ns) > gap_s * 1e9
    index = np.concatenate([[0], np.cumsum(new)])
    starts = sorted_ns[np.concatenate([[0], np.flatnonzero(new) + 1])]
    out = np.empty(ns.size, dtype=np.int32)
    out[order] = (starts // (60 * 10**9))[index].astype(np.int32)
    return out


def along_pass_order(df: pd.DataFrame) -> np.ndarray:
    """Row order: by orbit, time, then latitude in each orbit's direction of travel."""
    t = df["time"].to_numpy("datetime64[ns]").astype(np.int64)
    lat = df["latitude"].to_numpy(float)
    by_time = np.lexsort((t, df["orbit"].to_numpy()))
    orbit_sorted = df["orbit"].to_numpy()[by_time]
    first = pd.Series(lat[by_time]).groupby(orbit_sorted).transform("first").to_numpy()
    last = pd.Series(lat[by_time]).groupby(orbit_sorted).transform("last").to_numpy()
    heading = np.empty(len(df))
    heading[by_time] = np.where(last >= first, 1.0, -1.0)
    return np.lexsort((heading * lat, t, df["orbit"].to_numpy()))


def synthetic_sounding_ids(time: pd.Series, path: Path | None = None) -> np.ndarray:
    """``YYYYMMDDhhmmss`` × 1000 + 10 × (rank within the second) for rows in along-pass order.

    Parameters
    ----------
    time : Series of datetime64[ns, UTC]
        Times of the soundings, in the order that ranks the soundings of one second.
    path : Path, optional
        Named in the error.

    Returns
    -------
    ndarray of int64
        Unique ids ending in 0 (see the module docstring).

    Raises
    ------
    SchemaError
        More than :data:`MAX_PER_SECOND` soundings share one second.
    """
    second = time.dt.floor("s")
    rank = second.groupby(second.to_numpy()).cumcount().to_numpy()
    if rank.size and rank.max() >= MAX_PER_SECOND:
        crowded = second.iloc[int(np.argmax(rank))]
        raise SchemaError(
            f"more than {MAX_PER_SECOND} soundings share the second {crowded}: "
            "cannot give them sounding ids",
            path=path,
        )
    dt = second.dt
    stamp = (
        dt.year.to_numpy(np.int64) * 10**10
        + dt.month.to_numpy(np.int64) * 10**8
        + dt.day.to_numpy(np.int64) * 10**6
        + dt.hour.to_numpy(np.int64) * 10**4
        + dt.minute.to_numpy(np.int64) * 100
        + dt.second.to_numpy(np.int64)
    )
    return stamp * 1000 + 10 * rank.astype(np.int64)


def read_points_file(path: str | Path, quality: str = "good") -> pd.DataFrame:
    """Read one point file into a sounding table without ``distance_km`` (along-pass order).

    Parameters
    ----------
    path : str or Path
        NetCDF (``.nc``, ``.nc4``), CSV or Parquet file with latitude, longitude, time and XCO2.
    quality : {"good", "all"}
        ``"good"`` keeps soundings with ``xco2_quality_flag == 0`` when the file has the flag
        (or documents good soundings only); without it every sounding is kept.

    Returns
    -------
    DataFrame
        The columns of CONTRACT §1 the file has or that are derived (module docstring), plus
        NaN columns for the missing optional diagnostics.

    Raises
    ------
    SchemaError
        A required variable is missing (all missing ones named), a variable is not one value per
        sounding, or times cannot be read.
    InputError
        The file does not exist or cannot be read.
    """
    path = Path(path)
    if quality not in QUALITY_POLICIES:
        raise InputError(f"unknown quality policy {quality!r}; use 'good' or 'all'")
    with _open(path) as src:
        found = {col: src.find(col) for col in SOUNDING_COLUMNS if col != "distance_km"}
        missing = [c for c in REQUIRED if found[c] is None]
        if missing:
            looked = "; ".join(f"{c} (as {', '.join(_names(c))})" for c in missing)
            raise SchemaError(f"missing variable(s): {looked}", path=path)
        raw = {col: src.read(name) for col, name in found.items() if name is not None}
        attrs = src.attrs
    lengths = {col: values.shape[0] for col, (values, _u) in raw.items()}
    n = lengths["latitude"]
    bad = [found[c] for c, m in lengths.items() if m != n]
    if bad:
        raise SchemaError(
            f"variable(s) {', '.join(bad)} not of length {n} ({found['latitude']})", path=path
        )
    data = {col: values for col, (values, _u) in raw.items()}
    try:
        data["time"] = parse_times(*raw["time"])
    except (ValueError, TypeError, OverflowError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SchemaError(f"cannot read {found['time']!r} as times: {first}", path=path) from exc
    if "altitude" in raw:
        data["altitude"] = _altitude_m(
            np.asarray(raw["altitude"][0], dtype=float), raw["altitude"][1], found["altitude"], path
        )
    df = pd.DataFrame({col: pd.Series(v).reset_index(drop=True) for col, v in data.items()})
    for col in ("latitude", "longitude", "xco2"):
        try:
            df[col] = df[col].astype(np.float64)
        except (ValueError, TypeError) as exc:
            raise SchemaError(f"variable {found[col]!r} is not numeric", path=path) from exc
    unplaced = df["time"].isna() | ~np.isfinite(df["latitude"]) | ~np.isfinite(df["longitude"])
    if unplaced.any():
        log.warning("%s: %d soundings without time or position dropped", path, unplaced.sum())
        df = df[~unplaced].reset_index(drop=True)
    if "xco2_quality_flag" not in df and _good_only(attrs):
        df["xco2_quality_flag"] = np.int8(0)
    if "orbit" not in df:
        df["orbit"] = split_passes(pd.DatetimeIndex(df["time"]))
    df = df.iloc[along_pass_order(df)].reset_index(drop=True)
    if "sounding_id" not in df:
        df["sounding_id"] = synthetic_sounding_ids(df["time"], path)
    if quality == "good" and "xco2_quality_flag" in df:
        df = df[df["xco2_quality_flag"] == 0].reset_index(drop=True)
    for col in OPTIONAL_COLUMNS:
        if col not in df:
            df[col] = np.nan
    log.info(
        "%s: %d soundings in %d pass(es)%s",
        path,
        len(df),
        df["orbit"].nunique(),
        "" if "xco2_quality_flag" in df else " (no quality flag: all kept)",
    )
    return df[[c for c in SOUNDING_COLUMNS if c in df]]


def _good_only(attrs: dict[str, Any]) -> bool:
    """Whether global attributes say every sounding passed the quality filter (flag 0)."""
    flag = attrs.get("xco2_quality_flag")
    try:
        return flag is not None and int(np.ravel(flag)[0]) == 0
    except (TypeError, ValueError):
        return False


def read_points(path: str | Path, quality: str = "good") -> pd.DataFrame:
    """Read a point file into the sounding table (CONTRACT §1) with ``distance_km``.

    Parameters
    ----------
    path : str or Path
        NetCDF, CSV or Parquet point file (see :func:`read_points_file`).
    quality : {"good", "all"}
        Quality policy (see :func:`read_points_file`).

    Returns
    -------
    DataFrame
        CONTRACT dtypes, sorted by orbit (pass) and along-track distance.
    """
    return normalise_soundings(read_points_file(path, quality=quality), source=path)
