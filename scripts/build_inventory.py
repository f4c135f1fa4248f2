"""Build the packaged site-level power-plant table from the CoCO2 catalogue.

The CoCO2 global point-source catalogue (Guevara et al., 2024, Earth Syst. Sci.
Data 16, 337-373, doi:10.5194/essd-16-337-2024; data doi:10.24380/mxjo-nram;
CC BY 4.0) ships inside the PyPI wheel ``ddeq==1.1``. This script downloads the
wheel with pip (without installing ddeq or its dependencies), reads the
catalogue from the zip, aggregates generator units that share a location into
one site, and writes ``oco2explore/data/coco2_sites.csv`` in the source-table
schema (CONTRACT.md §3).

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

CATALOGUE = "ddeq/data/coco2_ps_database/coco2_ps_catalogue_v1.1.csv"
OUT = Path(__file__).resolve().parents[1] / "oco2explore" / "data" / "coco2_sites.csv"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="an already downloaded ddeq-1.1 wheel")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        with zipfile.ZipFile(wheel) as zf, zf.open(CATALOGUE) as fh:
            units = pd.read_csv(fh)
    sites = aggregate_sites(units)
    tmp_out = args.out.with_suffix(".tmp")
    sites.to_csv(tmp_out, index=False)
    tmp_out.replace(args.out)
    print(
        f"{len(units)} units -> {len(sites)} sites, "
        f"{sites['emission_t_per_yr'].sum() / 1e9:.2f} Gt CO2/yr -> {args.out}"
    )


if __name__ == "__main__":
    main()
