"""Tests of oco2explore.app.catalogue: a month of peaks, named sources, exports, opening a peak."""

from __future__ import annotations

import pytest


def test_catalogue_lists_the_month_and_opens_a_peak(explorer):
    explorer.tabs.selected_index = 1
    catalogue = explorer.catalogue
    assert catalogue.month.value == "2016-08"
    assert catalogue.peaks["passed"].all()
    catalogue.only_passed.value = False
    assert len(catalogue.peaks) >= 1
    assert len(catalogue.peak_layer.data["features"]) == len(catalogue.peaks)
    explorer.orbit.move_to_km(0.0)
    catalogue.list.value = 0
    assert explorer.tabs.selected_index == 0
    peak = catalogue.peaks.iloc[0]
    assert explorer.orbit.orbit == peak["orbit"]
    assert explorer.orbit.fit.center_km == pytest.approx(peak["distance_km"], abs=5)
