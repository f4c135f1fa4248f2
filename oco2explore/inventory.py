"""Emission inventories loaded into one source table (CONTRACT §3).

Every loader returns a :class:`pandas.DataFrame` with the columns of
:data:`oco2explore.schema.SOURCE_COLUMNS` first (``source_id, name, kind, fuel,
latitude, longitude, emission_t_per_yr, inventory``), then any extra columns of
the inventory (country, capacity, …). Supported inputs, recognised by
:func:`load_inventory`:

``"coco2"``
    The packaged CoCO2 power-plant sites of 2018 (offline default, see
    ``oco2explore/data/README.md``).
WRI Global Power Plant Database CSV
    Recognised by its ``gppd_idnr`` column (file or http(s) URL). Fossil plants
    only (primary fuel Coal, Gas, Oil, Petcoke); CO2 = electricity generation ×
    fuel emission factor, see :func:`wri_emission_t_per_yr`.
EDGAR gridded CO2 (NetCDF, 0.1°)
    A ``.nc``/``.nc4`` file with ``lat``/``lon`` coordinates and a 2-D emission
    variable (``emi_co2`` in kg m-2 s-1 for EDGAR v4–v7, ``fluxes`` in kg m-2 s-1 or
    ``emissions`` in tonnes per cell for EDGAR v8). Cells emitting at least
    ``threshold_t_per_yr`` become ``grid_cell`` sources.
Cities table (CSV or Parquet)
    Columns ``name``, ``latitude``/``lat``, ``longitude``/``lon`` and either
    ``emission_t_per_yr``, ``emission_mt_per_yr`` or ``population`` (× a
    per-capita factor, :data:`PER_CAPITA_T_PER_YR`).
A source table (CSV or Parquet)
    Any file that already has ``latitude, longitude, emission_t_per_yr`` and
    ``source_id`` or ``kind`` (or no ``name``); missing text columns are filled in.

Combining inventories (:func:`load_inventories`): the list order is the priority
order. A source of a later inventory is a *duplicate*, dropped and logged, when it
lies within ``dedup_km`` (default 5 km) of a source already kept from an earlier
inventory and either both have the same ``kind`` (the same plant in two
databases) or one of them is a ``grid_cell`` (a gridded cell that contains a
listed plant or city). A city and a power plant close together are both kept:
they are different emitters.

Bad files (missing columns, missing coordinates, unknown units) raise
:class:`~oco2explore.errors.InputError` naming the file and the column.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .constants import EARTH_RADIUS_KM, HOURS_PER_YEAR, SECONDS_PER_YEAR
from .errors import InputError, SchemaError
from .geo import chord_from_km, unit_vectors
from .schema import SOURCE_COLUMNS
from .tableio import read_table

log = logging.getLogger(__name__)

#: Inventories known by name.
PACKAGED_INVENTORIES = {"coco2": "coco2_sites.csv"}
#: Plant names of the CoCO2 sites joined from the WRI GPPD (``scripts/build_plant_names.py``).
COCO2_NAMES = "coco2_names.csv"

NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".cdf")

#: Default CO2 emission factors of the fuels, t CO2 per TJ of fuel (net calorific
#: value): IPCC 2006 Guidelines for National GHG Inventories, Vol. 2, Ch. 1,
#: Table 1.4 (other bituminous coal, natural gas, residual fuel oil, petroleum coke).
FUEL_CO2_T_PER_TJ = {"Coal": 94.6, "Gas": 56.1, "Oil": 77.4, "Petcoke": 97.5}

#: Typical net generating efficiency of fossil power plants (fleet averages of the
#: order reported by IEA 2008, *Energy efficiency indicators for public electricity
#: production from fossil fuels*: coal ~35 %, gas ~42 %, oil ~37 %).
GENERATION_EFFICIENCY = {"Coal": 0.35, "Gas": 0.42, "Oil": 0.37, "Petcoke": 0.35}

#: TJ of fuel energy in one MWh.
TJ_PER_MWH = 3.6e-3

#: t CO2 per MWh of electricity = fuel factor × 3.6e-3 TJ/MWh / efficiency
#: (coal 0.97, gas 0.48, oil 0.75, petcoke 1.00).
ELECTRICITY_CO2_T_PER_MWH = {
    fuel: FUEL_CO2_T_PER_TJ[fuel] * TJ_PER_MWH / GENERATION_EFFICIENCY[fuel]
    for fuel in FUEL_CO2_T_PER_TJ
}

#: Capacity factors used when a plant has neither reported nor estimated
#: generation: typical global fleet averages (order of magnitude; coal and petcoke
#: base load ~0.5–0.6, gas ~0.4, oil peaking plants ~0.2). Override per call.
CAPACITY_FACTOR = {"Coal": 0.55, "Gas": 0.40, "Oil": 0.20, "Petcoke": 0.55}

#: World-average fossil CO2 per person, t/yr: 36.4 Gt CO2 (2019, Global Carbon
#: Budget 2020, Friedlingstein et al., ESSD 12, 3269) / 7.7 billion people (UN WPP
#: 2019). Urban per-capita emissions range ~1–15 t/yr: pass a regional value.
PER_CAPITA_T_PER_YR = 4.7

#: Default EDGAR threshold: a 0.1° cell must emit at least 1 Mt CO2/yr to be a
#: candidate (the size of a mid-sized power plant; OCO-2 rarely sees less).
EDGAR_THRESHOLD_T_PER_YR = 1.0e6

#: Default distance under which a lower-priority source duplicates a kept one, km.
DEDUP_KM = 5.0

#: EDGAR units (lower case, without spaces) of fluxes -> factor to kg m-2 s-1.
_FLUX_UNITS = {"kgm-2s-1": 1.0, "kgm^-2s^-1": 1.0, "kgm**-2s**-1": 1.0, "kg/m2/s": 1.0}
#: EDGAR units of masses per cell (per year, or per time step summed) -> factor to t.
_MASS_UNITS = {
    "tonnes": 1.0,
    "tonnes/year": 1.0,
    "t": 1.0,
    "t/yr": 1.0,
    "kg": 1e-3,
    "kg/yr": 1e-3,
    "kton": 1e3,
    "gg": 1e3,
}
_EDGAR_VARIABLES = ("emi_co2", "fluxes", "emissions", "emi")


def _empty_sources() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=d) for c, (d, _) in SOURCE_COLUMNS.items()})


def _numeric(df: pd.DataFrame, column: str, src: str | Path) -> np.ndarray:
    """Column as float; a non-numeric value is an error naming the file and column."""
    values = pd.to_numeric(df[column], errors="coerce")
    bad = values.isna() & df[column].notna()
    if bad.any():
        raise SchemaError(
            f"column {column!r}: non-numeric value {df[column][bad].iloc[0]!r}", path=src
        )
    return values.to_numpy(dtype=float)


def validate_sources(df: pd.DataFrame, src: str | Path = "<table>") -> pd.DataFrame:
    """Check and normalise a source table to CONTRACT §3.

    Parameters
    ----------
    df : DataFrame
        At least ``latitude``, ``longitude`` (degrees) and ``emission_t_per_yr``
        (t CO2/yr); ``source_id, name, kind, fuel, inventory`` are filled when absent.
    src : str or Path
        File (or label) named in error messages; default inventory name.

    Returns
    -------
    DataFrame
        Contract columns first with their dtypes, then the extra columns.

    Raises
    ------
    SchemaError
        A required column is missing, or has missing, non-numeric or out-of-range values.
    """
    for column in ("latitude", "longitude", "emission_t_per_yr"):
        if column not in df:
            raise SchemaError(f"missing column {column!r}", path=src)
    out = df.copy()
    limits = {"latitude": (-90.0, 90.0), "longitude": (-180.0, 360.0)}
    for column in ("latitude", "longitude", "emission_t_per_yr"):
        values = _numeric(out, column, src)
        missing = np.flatnonzero(~np.isfinite(values))
        if missing.size:
            raise SchemaError(
                f"column {column!r}: {missing.size} row(s) without a value "
                f"(first at data row {missing[0] + 1})",
                path=src,
            )
        lo, hi = limits.get(column, (0.0, np.inf))
        outside = np.flatnonzero((values < lo) | (values > hi))
        if outside.size:
            raise SchemaError(
                f"column {column!r}: value {values[outside[0]]:g} outside [{lo:g}, {hi:g}] "
                f"(data row {outside[0] + 1})",
                path=src,
            )
        out[column] = values
    out["longitude"] = (out["longitude"] + 180.0) % 360.0 - 180.0
    label = Path(str(src)).stem if not str(src).startswith("<") else "custom"
    defaults = {"name": "", "kind": "unknown", "fuel": "", "inventory": label}
    for column, value in defaults.items():
        if column not in out:
            out[column] = value
    if "source_id" not in out:
        out["source_id"] = [f"{label}_{i + 1}" for i in range(len(out))]
    for column, (dtype, _) in SOURCE_COLUMNS.items():
        out[column] = out[column].astype(dtype)
    for column in ("name", "fuel"):
        out[column] = out[column].fillna("")
    extras = [c for c in out.columns if c not in SOURCE_COLUMNS]
    return out[list(SOURCE_COLUMNS) + extras].reset_index(drop=True)


def _read_csv_or_table(src: str | Path) -> pd.DataFrame:
    """A CSV/Parquet file, or a CSV at an http(s) URL."""
    text = str(src)
    if re.match(r"https?://", text):
        try:
            return pd.read_csv(text)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise InputError(f"cannot read CSV: {str(exc).splitlines()[0]}", path=text) from exc
    return read_table(src)


def load_coco2() -> pd.DataFrame:
    """The packaged CoCO2 2018 power-plant sites (12,310 rows, t CO2/yr).

    ``name`` and ``capacity_mw`` come from the WRI GPPD plant each site was joined to
    (``oco2explore/data/README.md``: rule and match rate); empty/NaN for the others.
    """
    data = resources.files("oco2explore") / "data"
    with resources.as_file(data / PACKAGED_INVENTORIES["coco2"]) as path:
        df = pd.read_csv(path, dtype={"name": "string"})
    with resources.as_file(data / COCO2_NAMES) as names_path:
        names = pd.read_csv(names_path, usecols=["source_id", "name", "capacity_mw"])
    named = df.drop(columns="name").merge(names, on="source_id", how="left")
    return validate_sources(named, path)


def wri_emission_t_per_yr(
    df: pd.DataFrame, capacity_factor: Mapping[str, float] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Annual CO2 of WRI GPPD plants from generation and the fuel's emission factor.

    Generation is the most recent reported ``generation_gwh_YYYY``, else the most
    recent ``estimated_generation_gwh_YYYY``, else ``capacity_mw`` × 8,766 h (a Julian year) ×
    capacity factor (:data:`CAPACITY_FACTOR`). CO2 = generation (MWh) ×
    :data:`ELECTRICITY_CO2_T_PER_MWH` of ``primary_fuel``.

    Parameters
    ----------
    df : DataFrame
        GPPD rows whose ``primary_fuel`` is a key of :data:`FUEL_CO2_T_PER_TJ`.
    capacity_factor : mapping, optional
        Fuel -> capacity factor (0–1), overriding :data:`CAPACITY_FACTOR`.

    Returns
    -------
    emission_t_per_yr, generation_gwh : ndarray
        t CO2/yr and GWh/yr.
    basis : ndarray of str
        Where the generation came from, e.g. ``"reported 2019"``, ``"capacity factor"``.
    """
    factors = {**CAPACITY_FACTOR, **(capacity_factor or {})}
    n = len(df)
    generation = np.full(n, np.nan)
    basis = np.full(n, "capacity factor", dtype=object)
    for prefix, label in (
        ("generation_gwh_", "reported"),
        ("estimated_generation_gwh_", "estimated"),
    ):
        years = sorted(
            (int(c[len(prefix) :]) for c in df.columns if re.fullmatch(prefix + r"\d{4}", c)),
            reverse=True,
        )
        for year in years:
            values = pd.to_numeric(df[f"{prefix}{year}"], errors="coerce").to_numpy(dtype=float)
            take = np.isnan(generation) & np.isfinite(values) & (values > 0)
            generation[take] = values[take]
            basis[take] = f"{label} {year}"
    fuel = df["primary_fuel"].to_numpy()
    capacity = pd.to_numeric(df["capacity_mw"], errors="coerce").to_numpy(dtype=float)
    from_capacity = np.isnan(generation)
    cf = np.array([factors[f] for f in fuel], dtype=float)
    generation[from_capacity] = capacity[from_capacity] * HOURS_PER_YEAR * cf[from_capacity] / 1e3
    per_mwh = np.array([ELECTRICITY_CO2_T_PER_MWH[f] for f in fuel], dtype=float)
    return generation * 1e3 * per_mwh, generation, basis


def load_wri(
    src: str | Path,
    df: pd.DataFrame | None = None,
    capacity_factor: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Fossil power plants of a WRI Global Power Plant Database CSV as sources.

    Parameters
    ----------
    src : str or Path
        The GPPD CSV (file or URL), e.g. ``global_power_plant_database.csv`` v1.3.0.
    df : DataFrame, optional
        The already-read table (avoids reading ``src`` twice).
    capacity_factor : mapping, optional
        Fuel -> capacity factor overriding :data:`CAPACITY_FACTOR`.

    Returns
    -------
    DataFrame
        Source table (``kind`` power_plant, ``inventory`` WRI-GPPD) plus ``country``,
        ``capacity_mw``, ``generation_gwh``, ``generation_basis``.
    """
    df = _read_csv_or_table(src) if df is None else df
    for column in ("gppd_idnr", "name", "capacity_mw", "latitude", "longitude", "primary_fuel"):
        if column not in df:
            raise SchemaError(f"missing column {column!r} of a WRI power-plant table", path=src)
    fossil = df[df["primary_fuel"].isin(list(FUEL_CO2_T_PER_TJ))].reset_index(drop=True)
    log.info("%s: %d fossil plants of %d", src, len(fossil), len(df))
    emission, generation, basis = wri_emission_t_per_yr(fossil, capacity_factor)
    out = pd.DataFrame(
        {
            "source_id": fossil["gppd_idnr"].astype(str),
            "name": fossil["name"],
            "kind": "power_plant",
            "fuel": fossil["primary_fuel"].map(
                {"Coal": "coal", "Gas": "natural gas", "Oil": "oil", "Petcoke": "petcoke"}
            ),
            "latitude": fossil["latitude"],
            "longitude": fossil["longitude"],
            "emission_t_per_yr": emission,
            "inventory": "WRI-GPPD",
            "country": fossil.get("country", pd.Series("", index=fossil.index)),
            "capacity_mw": pd.to_numeric(fossil["capacity_mw"], errors="coerce"),
            "generation_gwh": generation,
            "generation_basis": basis,
        }
    )
    missing = ~np.isfinite(out["emission_t_per_yr"].to_numpy(dtype=float))
    if missing.any():
        log.warning(
            "%s: %d fossil plants without capacity or generation dropped", src, missing.sum()
        )
        out = out[~missing]
    return validate_sources(out, src)


def _first_column(df: pd.DataFrame, names: Iterable[str]) -> str | None:
    return next((c for c in names if c in df), None)


def load_cities(
    src: str | Path,
    df: pd.DataFrame | None = None,
    per_capita_t_per_yr: float = PER_CAPITA_T_PER_YR,
) -> pd.DataFrame:
    """A cities table as ``city`` sources.

    Parameters
    ----------
    src : str or Path
        CSV or Parquet with ``name``, ``latitude``/``lat``, ``longitude``/``lon``/``lng``
        and ``emission_t_per_yr`` (t CO2/yr), ``emission_mt_per_yr`` (Mt CO2/yr) or
        ``population`` (persons).
    df : DataFrame, optional
        The already-read table.
    per_capita_t_per_yr : float
        t CO2 per person per year for rows with only a population (default
        :data:`PER_CAPITA_T_PER_YR`, the world mean).

    Returns
    -------
    DataFrame
        Source table with ``kind`` city.
    """
    df = _read_csv_or_table(src) if df is None else df
    lat = _first_column(df, ("latitude", "lat"))
    lon = _first_column(df, ("longitude", "lon", "lng"))
    for column, found in (("name", "name" in df), ("latitude", lat), ("longitude", lon)):
        if not found:
            raise SchemaError(f"missing column {column!r} of a cities table", path=src)
    out = df.rename(columns={lat: "latitude", lon: "longitude"})
    if "emission_t_per_yr" in out:
        emission = _numeric(out, "emission_t_per_yr", src)
    elif "emission_mt_per_yr" in out:
        emission = _numeric(out, "emission_mt_per_yr", src) * 1e6
    elif "population" in out:
        emission = _numeric(out, "population", src) * per_capita_t_per_yr
    else:
        raise SchemaError(
            "missing column 'emission_t_per_yr' (or 'emission_mt_per_yr' or 'population') "
            "of a cities table",
            path=src,
        )
    out["emission_t_per_yr"] = emission
    out["kind"] = "city"
    if "source_id" not in out:
        out["source_id"] = "city:" + out["name"].astype(str)
    if "inventory" not in out:
        out["inventory"] = f"cities:{Path(str(src)).stem}"
    return validate_sources(out, src)


def _normalise_units(units: str) -> str:
    return re.sub(r"\s+", "", units).lower()


def cell_area_m2(lat_deg: np.ndarray, dlat_deg: float, dlon_deg: float) -> np.ndarray:
    """Area of latitude-longitude cells centred at ``lat_deg`` on the mean sphere, m².

    ``R² Δλ |sin φ₂ − sin φ₁|`` with R = :data:`~oco2explore.constants.EARTH_RADIUS_KM`.

    Examples
    --------
    >>> round(float(cell_area_m2(np.array([0.05]), 0.1, 0.1)[0]) / 1e6, 1)
    123.6
    """
    radius_m = EARTH_RADIUS_KM * 1e3
    lat = np.asarray(lat_deg, dtype=float)
    top = np.radians(np.clip(lat + dlat_deg / 2, -90, 90))
    bottom = np.radians(np.clip(lat - dlat_deg / 2, -90, 90))
    return radius_m**2 * np.radians(dlon_deg) * np.abs(np.sin(top) - np.sin(bottom))


def load_edgar(
    src: str | Path, threshold_t_per_yr: float = EDGAR_THRESHOLD_T_PER_YR
) -> pd.DataFrame:
    """Cells of an EDGAR gridded CO2 NetCDF emitting at least a threshold, as sources.

    Parameters
    ----------
    src : str or Path
        NetCDF with ``lat``/``latitude`` and ``lon``/``longitude`` coordinates and a
        2-D emission variable (``emi_co2``, ``fluxes``, ``emissions`` or the only
        lat-lon variable). Units: a flux (``kg m-2 s-1``, converted with the cell
        area and :data:`SECONDS_PER_YEAR`) or a mass per cell per year (``Tonnes``,
        ``kg``, ``kton``). A time axis is averaged (fluxes) or summed (masses).
    threshold_t_per_yr : float
        Minimum emission of a cell, t CO2/yr.

    Returns
    -------
    DataFrame
        Source table with ``kind`` grid_cell, ids ``EDGAR_<lat>_<lon>``.
    """
    import xarray as xr

    path = Path(src)
    if not path.is_file():
        raise InputError("no such file", path=path)
    try:
        ds = xr.open_dataset(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read NetCDF: {str(exc).splitlines()[0]}", path=path) from exc
    with ds:
        lat_name = _first_column(ds.variables, ("lat", "latitude"))
        lon_name = _first_column(ds.variables, ("lon", "longitude"))
        for column, found in (("lat", lat_name), ("lon", lon_name)):
            if found is None:
                raise SchemaError(f"missing coordinate {column!r}", path=path)
        gridded = [v for v in ds.data_vars if {lat_name, lon_name} <= set(ds[v].dims)]
        name = _first_column(gridded, _EDGAR_VARIABLES) or (
            gridded[0] if len(gridded) == 1 else None
        )
        if name is None:
            raise SchemaError(
                f"no emission variable: expected one of {', '.join(_EDGAR_VARIABLES)}", path=path
            )
        var = ds[name]
        units = _normalise_units(str(var.attrs.get("units", "")))
        if units not in _FLUX_UNITS and units not in _MASS_UNITS:
            raise SchemaError(
                f"variable {name!r}: unknown units {var.attrs.get('units', '(none)')!r}; "
                "expected kg m-2 s-1 or tonnes",
                path=path,
            )
        extra = [d for d in var.dims if d not in (lat_name, lon_name)]
        if units in _FLUX_UNITS:
            var = var.mean(extra) if extra else var
        else:
            var = var.sum(extra) if extra else var
        var = var.transpose(lat_name, lon_name)
        lat = ds[lat_name].to_numpy().astype(float)
        lon = ds[lon_name].to_numpy().astype(float)
        values = var.to_numpy().astype(float)
    for column, coord in ((lat_name, lat), (lon_name, lon)):
        if coord.size < 2 or not np.all(np.isfinite(coord)):
            raise SchemaError(f"coordinate {column!r} needs ≥ 2 finite values", path=path)
    if units in _FLUX_UNITS:
        dlat = float(np.median(np.abs(np.diff(lat))))
        dlon = float(np.median(np.abs(np.diff(lon))))
        per_m2_s = values * _FLUX_UNITS[units]
        emission = per_m2_s * cell_area_m2(lat, dlat, dlon)[:, None] * SECONDS_PER_YEAR / 1e3
    else:
        emission = values * _MASS_UNITS[units]
    i, j = np.nonzero(np.nan_to_num(emission, nan=0.0) >= threshold_t_per_yr)
    lon_w = (lon[j] + 180.0) % 360.0 - 180.0
    year = re.search(r"(?<!\d)(19|20)\d\d(?!\d)", path.name)
    out = pd.DataFrame(
        {
            "source_id": [f"EDGAR_{a:+.3f}_{b:+.3f}" for a, b in zip(lat[i], lon_w, strict=True)],
            "name": "",
            "kind": "grid_cell",
            "fuel": "",
            "latitude": lat[i],
            "longitude": lon_w,
            "emission_t_per_yr": emission[i, j],
            "inventory": f"EDGAR-{year.group(0)}" if year else "EDGAR",
        }
    )
    log.info("%s: %d cells >= %.3g t/yr of %d", path, len(out), threshold_t_per_yr, emission.size)
    return validate_sources(out, path)


def load_inventory(
    name_or_path: str | Path,
    *,
    threshold_t_per_yr: float = EDGAR_THRESHOLD_T_PER_YR,
    per_capita_t_per_yr: float = PER_CAPITA_T_PER_YR,
    capacity_factor: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Load one inventory into the source table, recognising its layout.

    Parameters
    ----------
    name_or_path : str or Path
        ``"coco2"``, or a file / http(s) URL: EDGAR NetCDF (by suffix), WRI GPPD CSV
        (by its ``gppd_idnr`` column), a source table (has ``source_id`` or ``kind``,
        or no ``name``) or a cities table (``name`` and an emission or population).
    threshold_t_per_yr : float
        EDGAR cell threshold, t CO2/yr.
    per_capita_t_per_yr : float
        Cities: t CO2 per person per year when only a population is given.
    capacity_factor : mapping, optional
        WRI: fuel -> capacity factor overriding :data:`CAPACITY_FACTOR`.

    Returns
    -------
    DataFrame
        Source table (CONTRACT §3).
    """
    text = str(name_or_path)
    if text.lower() in PACKAGED_INVENTORIES:
        return load_coco2()
    if Path(text).suffix.lower() in NETCDF_SUFFIXES:
        return load_edgar(text, threshold_t_per_yr=threshold_t_per_yr)
    if not re.match(r"https?://", text) and not Path(text).exists():
        raise InputError(
            f"no such file, and not a packaged inventory ({', '.join(PACKAGED_INVENTORIES)})",
            path=text,
        )
    df = _read_csv_or_table(text)
    if "gppd_idnr" in df:
        return load_wri(text, df=df, capacity_factor=capacity_factor)
    if "source_id" in df or "kind" in df or "name" not in df:
        return validate_sources(df, text)
    return load_cities(text, df=df, per_capita_t_per_yr=per_capita_t_per_yr)


def _duplicates(kept: pd.DataFrame, new: pd.DataFrame, dedup_km: float) -> np.ndarray:
    """Mask of ``new`` sources that duplicate one of ``kept`` (see the module docstring)."""
    if kept.empty or new.empty or dedup_km <= 0:
        return np.zeros(len(new), dtype=bool)
    tree = cKDTree(unit_vectors(kept["latitude"], kept["longitude"]))
    near = tree.query_ball_point(
        unit_vectors(new["latitude"], new["longitude"]), r=float(chord_from_km(dedup_km))
    )
    kept_kind = kept["kind"].to_numpy(dtype=object)
    new_kind = new["kind"].to_numpy(dtype=object)
    dup = np.zeros(len(new), dtype=bool)
    for i, neighbours in enumerate(near):
        if neighbours:
            kinds = kept_kind[neighbours]
            dup[i] = new_kind[i] == "grid_cell" or bool(
                np.any((kinds == new_kind[i]) | (kinds == "grid_cell"))
            )
    return dup


def load_inventories(
    names_or_paths: Iterable[str | Path | pd.DataFrame],
    dedup_km: float = DEDUP_KM,
    **kwargs,
) -> pd.DataFrame:
    """Load and combine several inventories, highest priority first, without duplicates.

    Parameters
    ----------
    names_or_paths : iterable
        Inventory names, files or already-loaded source tables, in priority order.
    dedup_km : float
        A later source within this distance (km) of a kept source of the same kind
        (or where either is a ``grid_cell``) is dropped and logged; 0 keeps all.
    **kwargs
        Passed to :func:`load_inventory`.

    Returns
    -------
    DataFrame
        The combined source table.
    """
    combined = _empty_sources()
    for item in names_or_paths:
        if isinstance(item, pd.DataFrame):
            sources = validate_sources(item)
        else:
            sources = load_inventory(item, **kwargs)
        dup = _duplicates(combined, sources, dedup_km)
        if dup.any():
            log.info(
                "%s: %d of %d sources within %g km of a higher-priority inventory's source "
                "dropped as duplicates",
                item if not isinstance(item, pd.DataFrame) else "table",
                dup.sum(),
                len(sources),
                dedup_km,
            )
        sources = sources[~dup]
        combined = sources if combined.empty else pd.concat([combined, sources], ignore_index=True)
    return combined.reset_index(drop=True)
