"""Tests of oco2explore.app.state: deep links round-trip and report what they ignore."""

from __future__ import annotations

from oco2explore.app import View, parse_query, view_query
from oco2explore.config import FitConfig


def test_query_round_trip_and_problems():
    config = FitConfig(r2_min=None, half_width_km=75)
    for scorer in ("learned", None):
        view = View("a/oco2_LtCO2_160831_x.nc4", 11522, 240.5, config, scorer)
        parsed, problems = parse_query("?" + view_query(view))
        assert problems == [] and parsed == view
    # The default scorer is left out of the link, as default parameters are.
    assert "scorer" not in view_query(View(scorer="fit"))
    assert view_query(View(scorer="learned")) == "scorer=learned"
    parsed, problems = parse_query("orbit=x&centre=nan&bogus=1&r2_min=high&scorer=magic")
    assert parsed == View()
    assert len(problems) == 5
    assert any("--r2-min expects float" in p for p in problems)
    assert any("scorer='magic' is not one of fit, learned" in p for p in problems)
