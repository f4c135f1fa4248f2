"""Tests of oco2explore.app.mapview: few layers for many soundings, outlines, legends."""

from __future__ import annotations

import re

import numpy as np

from oco2explore.app.mapview import (
    LEGEND_SOURCE_MT,
    binned_points,
    coastlines,
    colour_index,
    map_legend,
    source_radius,
)


def test_soundings_are_one_layer_of_a_few_colour_bins():
    lat = np.linspace(-30, -20, 10_000)
    values = np.linspace(400, 410, 10_000)
    data = binned_points(lat, lat * 0 + 28, values, 400, 410)
    assert 1 < len(data["features"]) <= 10
    assert sum(len(f["geometry"]["coordinates"]) for f in data["features"]) == 10_000
    assert colour_index(np.array([np.nan, -1e9, 1e9]), 0, 1).tolist() == [0, 0, 9]


def test_packaged_coastlines_cover_the_world():
    lines = coastlines()["features"][0]["geometry"]["coordinates"]
    lons = np.concatenate([np.array(line)[:, 0] for line in lines])
    assert len(lines) > 200 and lons.min() < -170 and lons.max() > 170


def test_map_legend_explains_every_symbol():
    legend = map_legend(400.0, 410.0)
    for item in ("XCO2 (ppm)", "400.0", "410.0", "peak passed", "rejected", "wind", "fit window"):
        assert item in legend
    # The source scale draws circles of the radii the map uses.
    radii = [float(r) for r in re.findall(r"r='([0-9.]+)' fill='#ffffff'", legend)]
    assert radii == source_radius(np.array(LEGEND_SOURCE_MT) * 1e6).round(1).tolist()
