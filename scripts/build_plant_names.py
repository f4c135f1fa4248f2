"""Build the packaged plant names of the CoCO2 sites by joining the WRI Global Power Plant Database.

CoCO2 (``oco2explore/data/coco2_sites.csv``) has no plant names. The WRI Global Power
Plant Database v1.3.0 (CC BY 4.0, © World Resources Institute and data contributors) has
names, countries and capacities. The join's rule, for every CoCO2 site:

* candidates are GPPD plants of the same country (ISO3) and of a matching primary fuel
  (:data:`FUELS`) within :data:`MAX_KM` of the site (great-circle distance);
* pairs are taken nearest first, each site and each GPPD plant at most once (a greedy
  one-to-one assignment, so two CoCO2 sites never get the same plant's name).

Writes ``oco2explore/data/coco2_names.csv`` (``source_id, name, country, capacity_mw,
gppd_idnr, distance_km``) and prints the match rate (by count and by emission, per fuel)
recorded in ``oco2explore/data/README.md``.

Usage::

    python scripts/build_plant_names.py [--gppd ../shared/data/gppd/global_power_plant_database.csv]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from oco2explore.geo import haversine_km

REPO = Path(__file__).resolve().parents[1]
SITES = REPO / "oco2explore" / "data" / "coco2_sites.csv"
OUT = REPO / "oco2explore" / "data" / "coco2_names.csv"
GPPD = REPO.parent / "shared" / "data" / "gppd" / "global_power_plant_database.csv"
#: CoCO2 fuel -> GPPD primary fuels it may be named after.
FUELS = {
    "coal": ("Coal", "Petcoke"),
    "natural gas": ("Gas", "Cogeneration"),
    "oil": ("Oil",),
    "biomass": ("Biomass",),
    "waste": ("Waste",),
}
#: Largest distance between a CoCO2 site and the GPPD plant it is named after, km.
MAX_KM = 10.0


def candidate_pairs(sites: pd.DataFrame, gppd: pd.DataFrame) -> pd.DataFrame:
    """Every (site, plant) pair of one country and a matching fuel within :data:`MAX_KM`."""
    plants = gppd.assign(_plant=np.arange(len(gppd)))
    parts = []
    for fuel, gppd_fuels in FUELS.items():
        left = sites[sites["fuel"] == fuel].assign(_site=lambda d: d.index)
        right = plants[plants["primary_fuel"].isin(gppd_fuels)]
        pairs = left[["_site", "country", "latitude", "longitude"]].merge(
            right[["_plant", "country", "latitude", "longitude"]],
            on="country",
            suffixes=("", "_gppd"),
        )
        pairs["distance_km"] = haversine_km(
            pairs["latitude"], pairs["longitude"], pairs["latitude_gppd"], pairs["longitude_gppd"]
        )
        parts.append(pairs[pairs["distance_km"] <= MAX_KM])
    return pd.concat(parts, ignore_index=True)


def join_names(sites: pd.DataFrame, gppd: pd.DataFrame) -> pd.DataFrame:
    """The names table: one row per named CoCO2 site (see the module docstring's rule)."""
    pairs = candidate_pairs(sites.reset_index(drop=True), gppd).sort_values(
        "distance_km", kind="stable"
    )
    used_sites: set[int] = set()
    used_plants: set[int] = set()
    keep = []
    for i, site, plant in zip(pairs.index, pairs["_site"], pairs["_plant"], strict=True):
        if site not in used_sites and plant not in used_plants:
            used_sites.add(site)
            used_plants.add(plant)
            keep.append(i)
    chosen = pairs.loc[keep]
    site_rows = sites.reset_index(drop=True).loc[chosen["_site"]]
    plant_rows = gppd.iloc[chosen["_plant"].to_numpy()]
    out = pd.DataFrame(
        {
            "source_id": site_rows["source_id"].to_numpy(),
            "name": plant_rows["name"].to_numpy(),
            "country": plant_rows["country"].to_numpy(),
            "capacity_mw": plant_rows["capacity_mw"].to_numpy(),
            "gppd_idnr": plant_rows["gppd_idnr"].to_numpy(),
            "distance_km": chosen["distance_km"].round(3).to_numpy(),
        }
    )
    return out.sort_values("source_id").reset_index(drop=True)


def match_rates(sites: pd.DataFrame, names: pd.DataFrame) -> pd.DataFrame:
    """Share of sites named, by count and by emission, per fuel and in all (%)."""
    named = sites["source_id"].isin(names["source_id"])
    rows = []
    for fuel, group in [*sites.groupby("fuel"), ("all", sites)]:
        hit = named[group.index]
        emission = group["emission_t_per_yr"]
        rows.append(
            {
                "fuel": fuel,
                "sites": len(group),
                "named": int(hit.sum()),
                "by count %": 100.0 * hit.mean(),
                "by emission %": 100.0 * emission[hit].sum() / emission.sum(),
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gppd", type=Path, default=GPPD, help="GPPD v1.3.0 CSV")
    args = parser.parse_args(argv)
    sites = pd.read_csv(SITES)
    gppd = pd.read_csv(args.gppd, low_memory=False)
    names = join_names(sites, gppd)
    fd, tmp = tempfile.mkstemp(dir=OUT.parent, suffix=".csv.tmp")
    os.close(fd)
    names.to_csv(tmp, index=False)
    os.chmod(tmp, 0o644)
    os.replace(tmp, OUT)
    print(f"{OUT.name}: {len(names)} named sites of {len(sites)}")
    print(match_rates(sites, names).to_string(index=False, float_format="%.1f"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
