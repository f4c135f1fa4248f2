"""Build the explorer's offline basemap: Natural Earth 1:110m country outlines as GeoJSON.

The explorer must show coastlines and borders without internet (tile servers
are unreachable in some classrooms). Natural Earth (public domain,
https://www.naturalearthdata.com) 1:110m "admin 0 countries" ships as the
``naturalearth_lowres`` shapefile inside the PyPI wheel ``geopandas==0.14.4``.
This script downloads that wheel with pip (without installing geopandas), reads
the polygon rings from the ``.shp`` with :mod:`struct` (no GIS dependency),
rounds coordinates to 0.01° (≈1 km, finer than the 1:110m generalisation) and
writes one ``MultiLineString`` feature to
``oco2explore/app/static/ne_110m_countries.geojson``.

Usage::

    python scripts/build_basemap.py [--wheel PATH]
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

SHAPEFILE = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres.shp"
OUT = Path(__file__).resolve().parents[1] / "oco2explore" / "app" / "static"
OUT_FILE = OUT / "ne_110m_countries.geojson"
#: ESRI shapefile shape type of polygons (ESRI Shapefile Technical Description, 1998).
SHAPE_POLYGON = 5
DECIMALS = 2


def download_wheel(folder: Path) -> Path:
    """Download the geopandas 0.14.4 wheel (no dependencies) into ``folder`` with pip."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "geopandas==0.14.4",
            "-d",
            folder,
        ],
        check=True,
    )
    return next(folder.glob("geopandas-0.14.4-*.whl"))


def polygon_rings(shp: bytes) -> list[list[tuple[float, float]]]:
    """All rings of all polygon records of a ``.shp`` file, as (lon, lat) lists, degrees."""
    rings = []
    pos = 100  # fixed-size main file header
    while pos < len(shp):
        _number, length_words = struct.unpack(">ii", shp[pos : pos + 8])
        record = shp[pos + 8 : pos + 8 + 2 * length_words]
        pos += 8 + 2 * length_words
        (shape_type,) = struct.unpack("<i", record[:4])
        if shape_type != SHAPE_POLYGON:
            continue
        n_parts, n_points = struct.unpack("<ii", record[36:44])
        parts = list(struct.unpack(f"<{n_parts}i", record[44 : 44 + 4 * n_parts]))
        start = 44 + 4 * n_parts
        coords = struct.unpack(f"<{2 * n_points}d", record[start : start + 16 * n_points])
        points = list(zip(coords[0::2], coords[1::2], strict=True))
        for lo, hi in zip(parts, parts[1:] + [n_points], strict=True):
            rings.append(points[lo:hi])
    return rings


def outlines_geojson(rings: list[list[tuple[float, float]]]) -> dict:
    """One ``MultiLineString`` feature of the rounded rings (duplicate vertices dropped)."""
    lines = []
    for ring in rings:
        line: list[list[float]] = []
        for lon, lat in ring:
            point = [round(lon, DECIMALS), round(lat, DECIMALS)]
            if not line or line[-1] != point:
                line.append(point)
        if len(line) > 1:
            lines.append(line)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "name": "Natural Earth 1:110m admin-0 country outlines",
                    "attribution": "Made with Natural Earth (public domain)",
                },
                "geometry": {"type": "MultiLineString", "coordinates": lines},
            }
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """Build the GeoJSON; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="geopandas 0.14.4 wheel (default: download)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            shp = zf.read(SHAPEFILE)
    geojson = outlines_geojson(polygon_rings(shp))
    OUT.mkdir(parents=True, exist_ok=True)
    OUT_FILE.write_text(json.dumps(geojson, separators=(",", ":")) + "\n", encoding="utf-8")
    n = len(geojson["features"][0]["geometry"]["coordinates"])
    print(f"{n} outlines -> {OUT_FILE} ({OUT_FILE.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
