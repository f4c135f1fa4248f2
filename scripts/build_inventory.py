"""Build the packaged site-level power-plant table from the CoCO2 catalogue.

The CoCO2 global point-source catalogue (Guevara et al., 2024, Earth Syst. Sci.
Data 16, 337-373, doi:10.5194/essd-16-337-2024; data doi:10.24380/mxjo-nram;
CC BY 4.0) ships inside the PyPI wheel ``ddeq==1.1``. This script downloads the
wheel with pip (without installing ddeq or its dependencies), reads the
catalogue from the zip, aggregates generator units that share a location into
one site, and writes ``oco2explore/data/coco2_sites.csv`` in the source-table
schema (CONTRACT.md §3). From the same wheel it takes the catalogue's monthly,
day-of-week and hourly emission profiles and writes them to
``oco2explore/data/coco2_profiles.csv``, and the profile ids of each site to
``coco2_site_profiles.csv`` (read by :func:`oco2explore.report.load_profiles`).

Usage::

    python scripts/build_inventory.py [--wheel PATH]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

DATABASE = "ddeq/data/coco2_ps_database/"
CATALOGUE = DATABASE + "coco2_ps_catalogue_v1.1.csv"
#: Profile files of the wheel: period -> (file, id column, factor columns in order).
PROFILES = {
    "month": (
        "coco2_ps_monthly_profiles_v1.1.csv",
        "ID_MonthFact",
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    ),
    "weekday": (
        "coco2_ps_weekly_profiles_v1.1.csv",
        "ID_WeekFact",
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    ),
    "hour": ("coco2_ps_hourly_profiles_v1.1.csv", "ID_HourFact", [f"H{h}" for h in range(24)]),
}
DATA = Path(__file__).resolve().parents[1] / "oco2explore" / "data"
OUT = DATA / "coco2_sites.csv"
PROFILES_OUT = DATA / "coco2_profiles.csv"
SITE_PROFILES_OUT = DATA / "coco2_site_profiles.csv"


def download_wheel(folder: Path) -> Path:
    """Download the ddeq 1.1 wheel (no dependencies) into ``folder`` with pip."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "ddeq==1.1", "-d", folder],
        check=True,
    )
    return next(folder.glob("ddeq-1.1-*.whl"))


def aggregate_sites(units: pd.DataFrame) -> pd.DataFrame:
    """Aggregate generator units that share country and coordinates into sites.

    Parameters
    ----------
    units : DataFrame
        CoCO2 catalogue rows (``ID, ISO3, fuel, longitude, latitude, co2_emis_ty``).

    Returns
    -------
    DataFrame
        One row per site: ``source_id`` (lowest unit ID of the site), ``name``
        (empty: CoCO2 has no plant names), ``kind``, ``fuel`` (the fuel with the
        largest share of the site's CO2), ``latitude``, ``longitude``,
        ``emission_t_per_yr`` (sum over units, t CO2/yr, 2018), ``inventory``,
        ``country`` (ISO3) and ``n_units``.
    """
    units = units.copy()
    units["lat_key"] = units["latitude"].round(5)
    units["lon_key"] = units["longitude"].round(5)
    keys = ["ISO3", "lat_key", "lon_key"]
    by_fuel = units.groupby([*keys, "fuel"], as_index=False)["co2_emis_ty"].sum()
    main_fuel = by_fuel.sort_values("co2_emis_ty", ascending=False).drop_duplicates(keys)
    sites = units.groupby(keys, as_index=False).agg(
        source_id=("ID", "min"),
        latitude=("latitude", "mean"),
        longitude=("longitude", "mean"),
        emission_t_per_yr=("co2_emis_ty", "sum"),
        n_units=("ID", "size"),
    )
    sites = sites.merge(main_fuel[[*keys, "fuel"]], on=keys)
    sites = sites.rename(columns={"ISO3": "country"})
    sites["name"] = ""
    sites["kind"] = "power_plant"
    sites["inventory"] = "CoCO2-2018"
    cols = [
        "source_id",
        "name",
        "kind",
        "fuel",
        "latitude",
        "longitude",
        "emission_t_per_yr",
        "inventory",
        "country",
        "n_units",
    ]
    sites = sites[cols].sort_values("source_id").reset_index(drop=True)
    sites["latitude"] = sites["latitude"].round(6)
    sites["longitude"] = sites["longitude"].round(6)
    sites["emission_t_per_yr"] = sites["emission_t_per_yr"].round(1)
    return sites


def site_profiles(
    units: pd.DataFrame, profiles: dict[str, pd.DataFrame]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The temporal profiles of the catalogue and which profiles each site follows.

    A site takes the profiles of its largest-emitting unit (21 of the 12,310 sites
    have units with different profiles).

    Parameters
    ----------
    units : DataFrame
        CoCO2 catalogue rows (with ``ID_MonthFact, ID_WeekFact, ID_HourFact``).
    profiles : dict
        Period (``month``, ``weekday``, ``hour``) -> the wheel's profile table.

    Returns
    -------
    factors : DataFrame
        One row per profile: ``profile_id``, ``period`` and ``f0`` … ``f23`` (month
        January … December, weekday Monday … Sunday, hour 0-23 local time; mean 1
        over the period, 3 decimals as in CoCO2; empty beyond the period's length).
    sites : DataFrame
        ``source_id`` (as in ``coco2_sites.csv``) and its ``month``, ``weekday`` and
        ``hour`` profile ids.
    """
    units = units.copy()
    units["lat_key"] = units["latitude"].round(5)
    units["lon_key"] = units["longitude"].round(5)
    ids = units.groupby(["ISO3", "lat_key", "lon_key"])["ID"].transform("min")
    largest = units.assign(source_id=ids).sort_values("co2_emis_ty", ascending=False)
    largest = largest.drop_duplicates("source_id").sort_values("source_id")
    sites = pd.DataFrame({"source_id": largest["source_id"].to_numpy()})
    tables = []
    for period, (_, id_column, columns) in PROFILES.items():
        sites[period] = largest[id_column].to_numpy()
        table = profiles[period][[id_column, *columns]]
        table.columns = ["profile_id", *(f"f{i}" for i in range(len(columns)))]
        tables.append(table.assign(period=period))
    factors = pd.concat(tables, ignore_index=True)
    order = ["profile_id", "period", *(f"f{i}" for i in range(24))]
    return factors[order], sites


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="an already downloaded ddeq-1.1 wheel")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            with zf.open(CATALOGUE) as fh:
                units = pd.read_csv(fh)
            profiles = {}
            for period, (name, _, _) in PROFILES.items():
                with zf.open(DATABASE + name) as fh:
                    profiles[period] = pd.read_csv(fh)
    sites = aggregate_sites(units)
    factors, site_ids = site_profiles(units, profiles)
    outputs = ((sites, args.out), (factors, PROFILES_OUT), (site_ids, SITE_PROFILES_OUT))
    for table, out in outputs:
        tmp_out = out.with_suffix(".tmp")
        table.to_csv(tmp_out, index=False)
        tmp_out.replace(out)
    print(
        f"{len(units)} units -> {len(sites)} sites, "
        f"{sites['emission_t_per_yr'].sum() / 1e9:.2f} Gt CO2/yr -> {args.out}; "
        f"profiles -> {PROFILES_OUT}, {SITE_PROFILES_OUT}"
    )


if __name__ == "__main__":
    main()
