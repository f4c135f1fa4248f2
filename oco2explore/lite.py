"""OCO-2 / OCO-3 Lite NetCDF files: find, read (B9, B10, B11, OCO-3), write, extract.

A Lite file (NASA GES DISC ``OCO2_L2_Lite_FP``, ``OCO3_L2_Lite_FP``) is a NetCDF-4 file with one
dimension ``sounding_id``, the core per-sounding variables at the root (``sounding_id``, ``time``,
``latitude``, ``longitude``, ``xco2``, ``xco2_uncertainty``, ``xco2_quality_flag`` …) and the rest
in groups (``Sounding``, ``Meteorology``, ``Retrieval``, ``Preprocessors`` …). Floating-point
variables are float32 with ``_FillValue = -999999``. Build differences handled here:

* B9 and B11 have ``Meteorology/psurf_apriori``; B10 renamed it ``Meteorology/psurf_apriori_o2a``.
* B11 adds the root variable ``xco2_x2019`` (XCO2 on the WMO X2019 scale; not read).
* OCO-3 files (``oco3_LtCO2_YYMMDD_B10400Br_*.nc4``) share the layout; their
  ``Sounding/operation_mode`` also takes the value 4 (snapshot area map, SAM).

The reader reads only the variables of the sounding table (CONTRACT §1), keeps them float32
while filtering and converts once, at the end, to the CONTRACT dtypes. The retrieval diagnostics
of :data:`OPTIONAL_VARIABLES` (band albedos, AOD, altitude spread, retrieved wind speed) are read
when a file has them and are NaN columns, with a log message, when it does not (older or trimmed
files). Flat point files (:mod:`oco2explore.points`) are read wherever a Lite file is
(:func:`read_sounding_file`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import QUALITY_POLICIES
from .errors import InputError, LiteFormatError, SchemaError
from .points import is_points_file, read_points_file
from .schema import SOUNDING_COLUMNS
from .soundings import NETCDF_SUFFIXES, normalise_soundings
from .tableio import atomic_path, write_table
from .validate import SOUNDING_RULES, check_column, check_table

log = logging.getLogger(__name__)

#: Fill value of the float variables of Lite files.
FILL_VALUE = -999999.0


#: Sounding-table column -> (Lite variable path, NetCDF dtype, units, long name).
#: ``psurf_apriori`` is the B9/B11 name; see :data:`PSURF_APRIORI_B10`.
LITE_VARIABLES: dict[str, tuple[str, str, str, str]] = {
    "sounding_id": ("sounding_id", "i8", "", "OCO-2 sounding id YYYYMMDDhhmmssmf"),
    "time": ("time", "f8", "seconds since 1970-01-01 00:00:00", "sounding time"),
    "latitude": ("latitude", "f4", "degrees_north", "latitude of the footprint centre"),
    "longitude": ("longitude", "f4", "degrees_east", "longitude of the footprint centre"),
    "xco2": ("xco2", "f4", "ppm", "column-averaged dry-air mole fraction of CO2"),
    "xco2_uncertainty": ("xco2_uncertainty", "f4", "ppm", "XCO2 posterior error"),
    "xco2_quality_flag": ("xco2_quality_flag", "i1", "", "0 = good, 1 = bad"),
    "orbit": ("Sounding/orbit", "i4", "", "orbit number"),
    "footprint": ("Sounding/footprint", "i1", "", "footprint 1-8"),
    "land_water_indicator": (
        "Sounding/land_water_indicator",
        "i1",
        "",
        "0 land, 1 water, 2 inland water, 3 mixed",
    ),
    "land_fraction": ("Sounding/land_fraction", "f4", "%", "land fraction of the footprint"),
    "altitude": ("Sounding/altitude", "f4", "m", "surface altitude"),
    "operation_mode": (
        "Sounding/operation_mode",
        "i1",
        "",
        "0 nadir, 1 glint, 2 target, 3 transition, 4 SAM (OCO-3)",
    ),
    "windspeed_u_met": ("Meteorology/windspeed_u_met", "f4", "m s-1", "10 m eastward wind"),
    "windspeed_v_met": ("Meteorology/windspeed_v_met", "f4", "m s-1", "10 m northward wind"),
    "psurf_apriori": ("Meteorology/psurf_apriori", "f4", "hPa", "prior surface pressure"),
    "psurf": ("Retrieval/psurf", "f4", "hPa", "retrieved surface pressure"),
    "tcwv": ("Retrieval/tcwv", "f4", "kg m-2", "total column water vapour"),
}

#: Optional Lite variables, read when present and NaN otherwise: (path, units, long name).
#: The sounding-table column is the variable's name (the last part of the path).
OPTIONAL_VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("Retrieval/albedo_o2a", "", "band 1 (O2 A-band, 0.76 um) albedo"),
    ("Retrieval/albedo_wco2", "", "band 2 (weak CO2, 1.6 um) albedo"),
    ("Retrieval/albedo_sco2", "", "band 3 (strong CO2, 2.06 um) albedo"),
    ("Retrieval/aod_total", "", "total cloud+aerosol optical depth at 0.755 um"),
    (
        "Sounding/altitude_stddev",
        "m",
        "standard deviation of the surface altitude in the footprint",
    ),
    ("Retrieval/windspeed", "m s-1", "retrieved surface wind speed"),
)

#: B10 name of the prior surface pressure.
PSURF_APRIORI_B10 = "Meteorology/psurf_apriori_o2a"

#: Lite build families: (name of the prior surface pressure, has ``xco2_x2019``).
LAYOUTS: dict[str, tuple[str, bool]] = {
    "B9": ("Meteorology/psurf_apriori", False),
    "B10": (PSURF_APRIORI_B10, False),
    "B11": ("Meteorology/psurf_apriori", True),
}

#: Example BuildId global attribute per (instrument, layout).
BUILD_IDS: dict[tuple[str, str], str] = {
    ("OCO-2", "B9"): "B9003r",
    ("OCO-2", "B10"): "B10206r",
    ("OCO-2", "B11"): "B11100Ar",
    ("OCO-3", "B10"): "B10400Br",
    ("OCO-3", "B11"): "B11072Ar",
}

#: Extra variables written (not read) to complete the layout: name -> (dtype, units, long name).
#: Arrays with a second dimension name it in :data:`EXTRA_DIMS`.
EXTRA_VARIABLES: dict[str, tuple[str, str, str]] = {
    "date": ("i2", "", "year, month, day, hour, minute, second, millisecond"),
    "vertex_latitude": ("f4", "degrees_north", "latitudes of the footprint corners"),
    "vertex_longitude": ("f4", "degrees_east", "longitudes of the footprint corners"),
    "solar_zenith_angle": ("f4", "degrees", "solar zenith angle"),
    "sensor_zenith_angle": ("f4", "degrees", "sensor zenith angle"),
    "xco2_apriori": ("f4", "ppm", "prior XCO2"),
    "xco2_x2019": ("f4", "ppm", "XCO2 on the WMO X2019 scale"),
    "pressure_levels": ("f4", "hPa", "pressure levels of the retrieval"),
    "co2_profile_apriori": ("f4", "ppm", "prior CO2 profile"),
    "xco2_averaging_kernel": ("f4", "", "normalised column averaging kernel"),
    "pressure_weight": ("f4", "", "pressure weighting function"),
    "file_index": ("i2", "", "index into source_files (1-based)"),
    "Retrieval/xco2_raw": ("f4", "ppm", "XCO2 before bias correction"),
    "Preprocessors/co2_ratio": ("f4", "", "IMAP-DOAS strong/weak CO2 ratio"),
    "Preprocessors/h2o_ratio": ("f4", "", "IMAP-DOAS strong/weak H2O ratio"),
}

#: Second dimension of the two-dimensional variables: name -> (dimension, size).
EXTRA_DIMS: dict[str, tuple[str, int]] = {
    "date": ("epoch_dimension", 7),
    "vertex_latitude": ("vertices", 4),
    "vertex_longitude": ("vertices", 4),
    "pressure_levels": ("levels", 20),
    "co2_profile_apriori": ("levels", 20),
    "xco2_averaging_kernel": ("levels", 20),
    "pressure_weight": ("levels", 20),
}


def find_lite_files(folder: str | Path) -> list[Path]:
    """Lite NetCDF files (``*.nc4``, ``*.nc``) in ``folder`` and its sub-folders, sorted.

    Hidden files (names starting with ``.``, such as half-written temporary files) are skipped.

    Parameters
    ----------
    folder : str or Path
        A folder, or a single file (returned as a one-element list).

    Returns
    -------
    list of Path
        Sorted by file name (Lite names start with the instrument and the date).

    Raises
    ------
    InputError
        ``folder`` does not exist.
    """
    folder = Path(folder)
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise InputError("no such file or folder", path=folder)
    files = [
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in NETCDF_SUFFIXES and p.is_file() and not p.name.startswith(".")
    ]
    return sorted(files, key=lambda p: (p.name, str(p)))


def _expand(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """Files given as a path, a folder or an iterable of them."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[Path] = []
    for p in paths:
        out.extend(find_lite_files(p))
    return out


def _variable(ds: Any, path: str, file: Path) -> Any:
    """The netCDF4 variable at ``group/name``; LiteFormatError naming what is missing."""
    *groups, name = path.split("/")
    node = ds
    for group in groups:
        if group not in node.groups:
            raise LiteFormatError(f"not a Lite file: missing group {group!r}", path=file)
        node = node.groups[group]
    if name not in node.variables:
        raise LiteFormatError(f"not a Lite file: missing variable {path!r}", path=file)
    return node.variables[name]


def _optional_variable(ds: Any, path: str, n: int) -> Any:
    """The netCDF4 variable at ``group/name`` if the file has it with ``n`` values, else None."""
    *groups, name = path.split("/")
    node = ds
    for group in groups:
        node = node.groups.get(group)
        if node is None:
            return None
    var = node.variables.get(name)
    return var if var is not None and var.shape == (n,) else None


def _psurf_apriori_path(ds: Any) -> str:
    """``psurf_apriori`` (B9/B11) or ``psurf_apriori_o2a`` (B10), whichever the file has."""
    met = ds.groups.get("Meteorology")
    if met is not None and "psurf_apriori_o2a" in met.variables:
        return PSURF_APRIORI_B10
    return LITE_VARIABLES["psurf_apriori"][0]


def read_lite_file(path: str | Path, quality: str = "good") -> pd.DataFrame:
    """Read one OCO-2/OCO-3 Lite file into a sounding table (file order, no ``distance_km``).

    Only the variables of CONTRACT §1 are read. Floats stay float32 and fill values
    (-999999) become NaN; :func:`read_lite` converts to the CONTRACT dtypes.

    Parameters
    ----------
    path : str or Path
        A Lite NetCDF-4 file of build B9, B10 or B11, OCO-2 or OCO-3.
    quality : {"good", "all"}
        ``"good"`` keeps soundings with ``xco2_quality_flag == 0``; ``"all"`` keeps all.

    Returns
    -------
    DataFrame
        One row per sounding; ``time`` as datetime64[ns, UTC].

    Raises
    ------
    LiteFormatError
        Empty, truncated or corrupt file, not NetCDF, a missing group/variable, or a
        value of the wrong type or range (:mod:`oco2explore.validate`).
    """
    import netCDF4

    path = Path(path)
    if quality not in QUALITY_POLICIES:
        raise InputError(f"unknown quality policy {quality!r}; use 'good' or 'all'")
    if not path.is_file():
        raise InputError("no such file", path=path)
    if path.stat().st_size == 0:
        raise LiteFormatError("empty file", path=path)
    try:
        ds = netCDF4.Dataset(path, "r")
    except OSError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LiteFormatError(
            f"not a readable NetCDF-4 file (truncated or corrupt?): {reason}", path=path
        ) from exc
    try:
        ds.set_auto_mask(False)
        paths = {col: spec[0] for col, spec in LITE_VARIABLES.items()}
        paths["psurf_apriori"] = _psurf_apriori_path(ds)
        variables = {col: _variable(ds, p, path) for col, p in paths.items()}
        n = variables["sounding_id"].shape[0] if variables["sounding_id"].ndim == 1 else -1
        bad = [p for col, p in paths.items() if variables[col].shape != (n,)]
        if bad:
            raise LiteFormatError(
                f"variable(s) {', '.join(bad)} not of length {n} (sounding_id)", path=path
            )
        try:
            flag = check_column(  # every flag, before the policy drops any
                pd.Series(variables["xco2_quality_flag"][:]),
                "xco2_quality_flag",
                SOUNDING_RULES["xco2_quality_flag"],
                path,
            ).to_numpy()
            keep = flag == 0 if quality == "good" else np.ones(n, dtype=bool)
            data = {col: _read_values(var, keep) for col, var in variables.items()}
            absent = []
            for var_path, _units, _long_name in OPTIONAL_VARIABLES:
                var = _optional_variable(ds, var_path, n)
                col = var_path.rsplit("/", 1)[-1]
                if var is None:
                    absent.append(var_path)
                    data[col] = np.full(int(keep.sum()), np.nan, np.float32)
                else:
                    data[col] = _read_values(var, keep)
        except SchemaError as exc:
            raise LiteFormatError(exc.reason, path=path) from None
        except (OSError, RuntimeError, IndexError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise LiteFormatError(f"corrupt data: {reason}", path=path) from exc
    finally:
        ds.close()
    if absent:
        log.info("%s: no per-sounding %s: NaN columns", path, ", ".join(absent))
    df = pd.DataFrame({col: data[col] for col in SOUNDING_COLUMNS if col in data})
    try:  # every conversion (time included) and range check inside this file's handling
        return check_table(df, SOUNDING_RULES, source=path, cast=False)
    except SchemaError as exc:
        raise LiteFormatError(exc.reason, path=path) from None


def read_sounding_file(path: str | Path, quality: str = "good") -> pd.DataFrame:
    """Read one file of soundings: a flat point file if :func:`~oco2explore.points.is_points_file`
    says so (:func:`~oco2explore.points.read_points_file`), else a Lite file
    (:func:`read_lite_file`). No ``distance_km``; :func:`read_lite` adds it."""
    if is_points_file(path):
        return read_points_file(path, quality=quality)
    return read_lite_file(path, quality=quality)


def _read_values(var: Any, keep: np.ndarray) -> np.ndarray:
    """Values of a 1-D variable at ``keep``; float fill values -> NaN, floats as float32."""
    values = np.asarray(var[:])[keep]
    if values.dtype.kind == "f":
        fill = getattr(var, "_FillValue", FILL_VALUE)
        if values.dtype == np.float64 and var.name != "time":
            values = values.astype(np.float32)
        values = np.where(values == fill, np.nan, values).astype(values.dtype, copy=False)
    return values


def _empty_soundings() -> pd.DataFrame:
    """A sounding table with no rows and the CONTRACT dtypes."""
    return pd.DataFrame(
        {col: pd.Series(dtype=dtype) for col, (dtype, _u) in SOUNDING_COLUMNS.items()}
    )


def read_lite(
    paths: str | Path | Iterable[str | Path], quality: str = "good", progress: bool = False
) -> pd.DataFrame:
    """Read Lite files into one sounding table (CONTRACT §1) with ``distance_km``.

    Parameters
    ----------
    paths : path, folder or iterable of them
        Lite files, or folders searched with :func:`find_lite_files`.
    quality : {"good", "all"}
        Quality policy (see :func:`read_lite_file`).
    progress : bool
        Show a tqdm progress bar over the files.

    Returns
    -------
    DataFrame
        Sorted by orbit and time, CONTRACT dtypes, ``distance_km`` in km.

    Raises
    ------
    LiteFormatError
        The first unreadable file (use :func:`extract` to skip and list bad files).
    """
    files = _expand(paths)
    frames = [read_sounding_file(f, quality=quality) for f in _progress(files, progress, "read")]
    return _combine(frames, files[0] if len(files) == 1 else None)


def _combine(frames: Sequence[pd.DataFrame], source: Path | None) -> pd.DataFrame:
    """Concatenate per-file tables and normalise them once (CONTRACT dtypes, distance)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return normalise_soundings(_empty_soundings(), source=source)
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return normalise_soundings(df, source=source)


def _progress(items: Sequence[Any], enabled: bool, desc: str) -> Iterable[Any]:
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit="file")


def extract(
    files: str | Path | Iterable[str | Path],
    out: str | Path,
    quality: str = "good",
    progress: bool = True,
) -> list[tuple[Path, str]]:
    """Read Lite files into one sounding table on disk, skipping and listing bad files.

    Parameters
    ----------
    files : path, folder or iterable of them
        Lite files or folders of them.
    out : str or Path
        Sounding table to write (``.parquet`` or ``.csv``), atomically.
    quality : {"good", "all"}
        Quality policy (see :func:`read_lite_file`).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    list of (Path, str)
        Files that could not be read and why; the table holds all the others.

    Raises
    ------
    InputError
        No input files at all, or none readable: an existing ``out`` is then kept.
    """
    paths = _expand(files)
    if not paths:
        named = [files] if isinstance(files, (str, Path)) else list(files)
        raise InputError("no Lite NetCDF files (*.nc4) found", path=", ".join(map(str, named)))
    frames: list[pd.DataFrame] = []
    failures: list[tuple[Path, str]] = []
    for path in _progress(paths, progress, "extract"):
        try:
            frames.append(read_sounding_file(path, quality=quality))
        except (LiteFormatError, SchemaError) as exc:
            log.debug("%s", exc)  # the caller lists failures (the CLI: one line each)
            failures.append((path, exc.reason))
    if not frames and failures:  # never replace a good table by an empty one
        raise InputError(
            f"none of the {len(paths)} input file(s) could be read (first: {failures[0][0]}: "
            f"{failures[0][1]}); {out} not written"
        )
    table = _combine(frames, None)
    meta = {
        "inputs": [str(p) for p in paths],
        "quality": quality,
        "failed": [[str(p), r] for p, r in failures],
    }
    write_table(table, out, metadata=meta)
    log.info("%d soundings from %d file(s) -> %s", len(table), len(paths) - len(failures), out)
    return failures


def write_lite_file(
    df: pd.DataFrame,
    path: str | Path,
    layout: str = "B11",
    instrument: str = "OCO-2",
    attrs: dict[str, Any] | None = None,
    extras: dict[str, np.ndarray] | None = None,
) -> Path:
    """Write a sounding table as a Lite NetCDF-4 file of the given layout, atomically.

    Parameters
    ----------
    df : DataFrame
        Sounding table with every column of :data:`LITE_VARIABLES`; ``time`` as datetime
        or seconds since 1970-01-01. Columns of :data:`OPTIONAL_VARIABLES` it has (not all
        NaN) are written too, float32, at their Lite paths.
    path : str or Path
        Destination file.
    layout : {"B9", "B10", "B11"}
        Build family (names of the prior surface pressure, ``xco2_x2019``).
    instrument : {"OCO-2", "OCO-3"}
        Written to the global attributes.
    attrs : dict, optional
        Extra global attributes.
    extras : dict, optional
        Arrays for names of :data:`EXTRA_VARIABLES` (first dimension = soundings);
        ``xco2_x2019`` is only written for B11.

    Returns
    -------
    Path
        The written path.
    """
    import netCDF4

    if layout not in LAYOUTS:
        raise ValueError(f"unknown Lite layout {layout!r}; use one of {sorted(LAYOUTS)}")
    psurf_apriori_path, has_x2019 = LAYOUTS[layout]
    path = Path(path)
    n = len(df)
    time = df["time"]
    if pd.api.types.is_datetime64_any_dtype(time):
        seconds = (time.dt.tz_convert("UTC") - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
        time = seconds.to_numpy()
    columns = {col: np.asarray(time if col == "time" else df[col]) for col in LITE_VARIABLES}
    with atomic_path(path) as tmp:
        with netCDF4.Dataset(tmp, "w", format="NETCDF4") as ds:
            ds.setncatts(
                {
                    "BuildId": BUILD_IDS.get((instrument, layout), layout),
                    "Conventions": "CF-1.6",
                    "title": f"{instrument} Lite XCO2 (Level 2 full physics, bias corrected)",
                    "institution": "Jet Propulsion Laboratory, California Institute of Technology",
                    "platform": instrument,
                    "product": "LtCO2",
                    **(attrs or {}),
                }
            )
            ds.createDimension("sounding_id", n)
            for dim, size in set(EXTRA_DIMS.values()):
                ds.createDimension(dim, size)
            for col, (var_path, dtype, units, long_name) in LITE_VARIABLES.items():
                var_path = psurf_apriori_path if col == "psurf_apriori" else var_path
                _write_variable(ds, var_path, dtype, units, long_name, columns[col])
            for var_path, units, long_name in OPTIONAL_VARIABLES:
                col = var_path.rsplit("/", 1)[-1]
                if col in df and df[col].notna().any() and var_path not in (extras or {}):
                    _write_variable(ds, var_path, "f4", units, long_name, df[col].to_numpy(float))
            for name, values in (extras or {}).items():
                if name == "xco2_x2019" and not has_x2019:
                    continue
                dtype, units, long_name = EXTRA_VARIABLES[name]
                _write_variable(ds, name, dtype, units, long_name, values)
    return path


def _write_variable(
    ds: Any, path: str, dtype: str, units: str, long_name: str, values: np.ndarray
) -> None:
    """Create ``group/name`` (groups on demand) with the Lite fill value and attributes."""
    *groups, name = path.split("/")
    node = ds
    for group in groups:
        node = node.groups[group] if group in node.groups else node.createGroup(group)
    dims = ("sounding_id",) + ((EXTRA_DIMS[path][0],) if path in EXTRA_DIMS else ())
    fill = FILL_VALUE if dtype.startswith("f") and name != "time" else None
    var = node.createVariable(
        name, dtype, dims, zlib=True, complevel=1, shuffle=True, fill_value=fill
    )
    if units:
        var.units = units
    var.long_name = long_name
    values = np.asarray(values)
    if fill is not None:
        values = np.where(np.isnan(values), fill, values)
    var[:] = values.astype(dtype)
