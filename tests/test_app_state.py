"""Tests of oco2explore.app.state: deep links round-trip and report what they ignore."""

from __future__ import annotations

from oco2explore.app import View, parse_query, view_query
from oco2explore.config import FitConfig


def test_query_round_trip_and_problems():
    view = View("a/oco2_LtCO2_160831_x.nc4", 11522, 240.5, FitConfig(r2_min=None, half_width_km=75))
    parsed, problems = parse_query("?" + view_query(view))
    assert problems == [] and parsed == view
    parsed, problems = parse_query("orbit=x&centre=nan&bogus=1&r2_min=high")
    assert parsed == View()
    assert len(problems) == 4
    assert any("--r2-min expects float" in p for p in problems)
