"""Range and dtype checks of the CONTRACT tables (soundings, peaks, sources), in one place.

Every reader (:mod:`oco2explore.readers`, the Lite reader, the matcher's peak input)
passes its table through :func:`check_table` before anything uses it, so a bad value is
refused with one line naming the file, the column and the value, and never stored
silently changed: an orbit of 2⁴⁰ would wrap to 0 in int32 and a footprint of 300 to 44
in int8; a latitude of 200° would be written into peak tables.

A column absent from the table is not checked (CONTRACT: columns may be missing, only
:data:`oco2explore.schema.SOUNDING_REQUIRED` are needed); NaN is accepted in float
columns (Lite fill values, wind-less peaks) but not ±inf, and not in integer columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SchemaError


@dataclass(frozen=True)
class Rule:
    """What one column may hold.

    Attributes
    ----------
    dtype : str
        Target dtype: ``int8``/``int32``/``int64``, ``float64``, ``bool``,
        ``datetime64[ns, UTC]`` or ``string`` (kept as read).
    lo, hi : float or None
        Inclusive bounds of the values (None: only the dtype's own range).
    """

    dtype: str
    lo: float | None = None
    hi: float | None = None


#: Times a table may hold: nanosecond timestamps run from 1677 to 2262; OCO-2 data
#: starts in 2014 and the simulator writes any day from 1970.
TIME_RANGE = (pd.Timestamp("1970-01-01", tz="UTC"), pd.Timestamp("2200-12-31", tz="UTC"))

_LAT = Rule("float64", -90.0, 90.0)
_LON = Rule("float64", -180.0, 360.0)

#: Sounding table (CONTRACT §1).
SOUNDING_RULES: dict[str, Rule] = {
    "sounding_id": Rule("int64", 0),
    "time": Rule("datetime64[ns, UTC]"),
    "orbit": Rule("int32", 0),
    "footprint": Rule("int8", 1, 8),
    "latitude": _LAT,
    "longitude": _LON,
    "xco2": Rule("float64", 0.0, 10_000.0),
    "xco2_uncertainty": Rule("float64", 0.0, 1000.0),
    "xco2_quality_flag": Rule("int8", 0),
    "windspeed_u_met": Rule("float64", -200.0, 200.0),
    "windspeed_v_met": Rule("float64", -200.0, 200.0),
    "psurf": Rule("float64", 0.0, 2000.0),
    "psurf_apriori": Rule("float64", 0.0, 2000.0),
    "tcwv": Rule("float64", 0.0),
    "land_water_indicator": Rule("int8", 0, 3),
    "land_fraction": Rule("float64", 0.0, 100.0),
    "altitude": Rule("float64", -1000.0, 10_000.0),
    "operation_mode": Rule("int8", 0, 4),
    "distance_km": Rule("float64"),
    # Retrieval diagnostics: optional, NaN when a file lacks them; no range check, so an
    # odd diagnostic value never costs a file its soundings.
    "albedo_o2a": Rule("float64"),
    "albedo_wco2": Rule("float64"),
    "albedo_sco2": Rule("float64"),
    "aod_total": Rule("float64"),
    "altitude_stddev": Rule("float64"),
    "windspeed": Rule("float64"),
}

#: Peak table (CONTRACT §2): the columns read back by ``match`` and ``report``.
PEAK_RULES: dict[str, Rule] = {
    "peak_id": Rule("string"),
    "orbit": Rule("int32", 0),
    "sounding_id": Rule("int64", 0),
    "time": Rule("datetime64[ns, UTC]"),
    "latitude": _LAT,
    "longitude": _LON,
    "distance_km": Rule("float64"),
    "slope": Rule("float64"),
    "intercept": Rule("float64"),
    "amplitude": Rule("float64"),
    "sigma_km": Rule("float64", 0.0),
    "delta_ppm": Rule("float64"),
    "r2": Rule("float64", None, 1.0),
    "significance": Rule("float64"),
    "windspeed_u": Rule("float64", -200.0, 200.0),
    "windspeed_v": Rule("float64", -200.0, 200.0),
    "wind_perp": Rule("float64", -200.0, 200.0),
}

#: Columns without which a table is not a peak table (a sounding table has no ``peak_id``).
PEAK_REQUIRED = ("latitude", "longitude", "peak_id")

#: Source table (CONTRACT §3).
SOURCE_RULES: dict[str, Rule] = {
    "latitude": _LAT,
    "longitude": _LON,
    "emission_t_per_yr": Rule("float64", 0.0),
}

_INT_RANGE = {name: np.iinfo(name) for name in ("int8", "int32", "int64")}


def _show(value: object) -> str:
    """A value as a user would type it: ``300``, ``1e+20``, ``'high'``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    return repr(value)


def _where(index: int) -> str:
    return f"(data row {index + 1})"


def _fail(source: str | Path | None, column: str, message: str) -> SchemaError:
    return SchemaError(f"column {column!r}: {message}", path=source)


def _one_time(text: object) -> pd.Timestamp:
    try:
        time = pd.to_datetime(text, utc=True, format="ISO8601")
    except (ValueError, OverflowError, TypeError):
        return pd.NaT
    return time if TIME_RANGE[0] <= time <= TIME_RANGE[1] else pd.NaT


def _parse_times(text: pd.Series) -> pd.Series:
    """ISO 8601 times of a text column; NaT where a cell is not a time in :data:`TIME_RANGE`."""
    try:
        times = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    except (ValueError, OverflowError):  # beyond the nanosecond range: cell by cell
        return pd.to_datetime(text.map(_one_time), utc=True)
    return times.where((times >= TIME_RANGE[0]) & (times <= TIME_RANGE[1]))


def _as_time(values: pd.Series, column: str, source: str | Path | None) -> pd.Series:
    """Times from datetimes, ISO strings or seconds since 1970; bad ones named."""
    if pd.api.types.is_datetime64_any_dtype(values):
        times = pd.to_datetime(values, utc=True)
    elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        seconds = values.to_numpy(dtype=np.float64)
        lo, hi = (t.timestamp() for t in TIME_RANGE)
        bad = np.flatnonzero(~((seconds >= lo) & (seconds <= hi)))
        if bad.size:
            raise _fail(
                source,
                column,
                f"{_show(seconds[bad[0]])} s is not a time in range {_where(bad[0])}",
            )
        times = pd.to_datetime(seconds, unit="s", utc=True)
    else:
        text = values.astype("string")
        times = _parse_times(text)
        bad = np.flatnonzero(times.isna().to_numpy() & text.notna().to_numpy())
        if bad.size:
            raise _fail(
                source, column, f"{_show(text.iloc[bad[0]])} is not a time {_where(bad[0])}"
            )
    times = pd.Series(times, index=values.index).astype("datetime64[ns, UTC]")
    missing = np.flatnonzero(times.isna().to_numpy())
    if missing.size:
        raise _fail(source, column, f"no time {_where(missing[0])}")
    outside = np.flatnonzero(((times < TIME_RANGE[0]) | (times > TIME_RANGE[1])).to_numpy())
    if outside.size:
        raise _fail(
            source, column, f"{times.iloc[outside[0]]} outside the data range {_where(outside[0])}"
        )
    return times


def _as_number(values: pd.Series, column: str, source: str | Path | None) -> np.ndarray:
    """Float64 values of a column, refusing text, booleans and ±inf (NaN stays)."""
    if pd.api.types.is_bool_dtype(values):
        raise _fail(source, column, "holds true/false, not numbers")
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(np.isnan(numbers) & values.notna().to_numpy())
        if bad.size:
            raise _fail(
                source, column, f"{_show(values.iloc[bad[0]])} is not a number {_where(bad[0])}"
            )
    infinite = np.flatnonzero(np.isinf(numbers))
    if infinite.size:
        raise _fail(source, column, f"{_show(numbers[infinite[0]])} {_where(infinite[0])}")
    return numbers


def check_column(
    values: pd.Series,
    column: str,
    rule: Rule,
    source: str | Path | None = None,
    cast: bool = True,
) -> pd.Series:
    """One column cast to ``rule.dtype``, its values checked against the rule.

    With ``cast=False`` a float column keeps its float dtype (the Lite reader keeps
    float32 until its files are combined).

    Raises
    ------
    SchemaError
        One line naming ``source``, the column, the first bad value and its row.
    """
    if rule.dtype == "string":
        return values
    if rule.dtype.startswith("datetime64"):
        return _as_time(values, column, source)
    numbers = _as_number(values, column, source)
    lo = -np.inf if rule.lo is None else rule.lo
    hi = np.inf if rule.hi is None else rule.hi
    if rule.dtype.startswith("int"):
        info = _INT_RANGE[rule.dtype]
        lo, hi = max(lo, info.min), min(hi, info.max)
        missing = np.flatnonzero(np.isnan(numbers))
        if missing.size:
            raise _fail(source, column, f"no value {_where(missing[0])} in an integer column")
        fractional = np.flatnonzero(numbers != np.round(numbers))
        if fractional.size:
            at = fractional[0]
            raise _fail(source, column, f"{_show(numbers[at])} is not an integer {_where(at)}")
    outside = np.flatnonzero((numbers < lo) | (numbers > hi))
    if outside.size:
        at = outside[0]
        shown = values.iloc[at] if rule.dtype.startswith("int") else numbers[at]
        raise _fail(source, column, f"value {_show(shown)} outside [{lo:g}, {hi:g}] {_where(at)}")
    if rule.dtype.startswith("int"):
        # Exact for int64 ids above 2**53: cast the original integers, not the floats.
        if pd.api.types.is_integer_dtype(values):
            return values.astype(rule.dtype)
        return pd.Series(numbers, index=values.index).astype(rule.dtype)
    if not cast and pd.api.types.is_float_dtype(values):
        return values
    return pd.Series(numbers, index=values.index)


def check_table(
    df: pd.DataFrame,
    rules: Mapping[str, Rule],
    source: str | Path | None = None,
    required: tuple[str, ...] = (),
    kind: str = "table",
    cast: bool = True,
) -> pd.DataFrame:
    """A copy of ``df`` with every column of ``rules`` it has cast and checked.

    Parameters
    ----------
    df : DataFrame
        The table as read.
    rules : mapping
        Column -> :class:`Rule` (:data:`SOUNDING_RULES`, :data:`PEAK_RULES`, :data:`SOURCE_RULES`).
    source : str or Path, optional
        The file, named in messages.
    required : tuple of str
        Columns that must be present.
    kind : str
        What the table is (``"sounding table"``), for messages.
    cast : bool
        Cast float columns to float64 (else only check them).

    Raises
    ------
    SchemaError
        A required column is missing, or a value is of the wrong type or out of range.
    """
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise SchemaError(f"missing column {missing[0]!r} in {kind}", path=source)
    out = df.copy()
    for column, rule in rules.items():
        if column in out.columns:
            out[column] = check_column(out[column], column, rule, source, cast)
    return out
