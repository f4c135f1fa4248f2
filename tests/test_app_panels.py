"""Tests of oco2explore.app.panels: names of sources, limits that explain themselves, exports."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pandas as pd

from oco2explore.app.panels import (
    limit_explanation,
    plant_name,
    result_html,
    source_label,
    source_title,
    table_links,
)
from oco2explore.config import FitConfig


def test_sources_are_named_as_people_name_them():
    row = {
        "source_id": "CoCO2_14613",
        "name": "Kendal power station",
        "country": "ZAF",
        "fuel": "coal",
        "emission_t_per_yr": 23.33e6,
    }
    assert source_title(row) == "Kendal (ZAF) · coal · 23.3 Mt/yr"
    assert source_title({**row, "name": pd.NA}) == "CoCO2_14613 (ZAF) · coal · 23.3 Mt/yr"
    assert plant_name("Lethabo Power Station") == "Lethabo"
    assert plant_name("Power Station") == "Power Station"  # nothing left: keep it whole
    match = {
        "rank": 1,
        "source_id": "CoCO2_14613",
        "name": "Kendal power station",
        "country": "ZAF",
        "kind": "power_plant",
        "source_fuel": "coal",
        "source_emission_t_per_yr": 23.33e6,
        "source_distance_km": 17.2,
        "upwind_angle_deg": 45.0,
        "predicted_delta_ppm": 0.48,
    }
    assert source_label(match, 3.82).startswith("#1 Kendal (ZAF) · coal · 23.3 Mt/yr · 17.2 km")


def test_a_limit_that_is_not_the_sliders_says_how_it_is_computed():
    v2 = FitConfig()
    assert "false-alarm threshold" in limit_explanation(
        "significance_min", v2.significance_limit(20.0), v2, 20.0
    )
    config = FitConfig.preset(
        "v1", significance_min=25.0, significance_scale_km=10.0, min_support=3
    )
    limit = config.significance_limit(20.0)
    assert limit == 50.0
    assert limit_explanation("significance_min", limit, config, 20.0) == (
        "= 25 (slider) × σ 20.0 km / 10 km (σ scale)"
    )
    assert limit_explanation("significance_min", 25.0, config, 5.0) == ""
    assert "⌊σ 20.0 km⌋" in limit_explanation("min_support", 20, config, 20.0)
    v2 = FitConfig()  # support_km 3.5: ⌊20/3.5⌋ = 5 soundings per interval
    assert v2.support_limit(20.0) == 5
    assert "⌊σ 20.0 km / 3.5 km⌋" in limit_explanation("min_support", 5, v2, 20.0)
    checks = {"significance_min": (40.0, limit, False), "sigma_min_km": (20.0, 2.0, True)}
    html = result_html({"sigma_km": 20.0, "passed": False}, checks, config)
    assert "oco2-limit-why" in html and "limit 50<br>" in html
    assert re.search(r"oco2-check-sigma_min_km.*20 km.*limit 2 km", html)


def test_tables_export_as_csv_and_parquet():
    table = pd.DataFrame(
        {"peak_id": ["a", "b"], "delta_ppm": [1.5, np.nan], "checks": [{"x": 1}, None]}
    )
    html = table_links(table, "peaks", "orbit's peaks", "oco2-peaks")
    urls = dict(
        re.findall(r"class='oco2-peaks-(\w+)' download='[^']+' href='data:[^,]+,([^']+)'", html)
    )
    csv = pd.read_csv(io.BytesIO(base64.b64decode(urls["csv"])))
    parquet = pd.read_parquet(io.BytesIO(base64.b64decode(urls["parquet"])))
    assert csv["peak_id"].tolist() == parquet["peak_id"].tolist() == ["a", "b"]
    assert np.isnan(parquet["delta_ppm"].iloc[1])
    assert table_links(table.iloc[:0], "x", "y", "z") == ""


def test_the_learned_verdict_names_the_fit_scans_reason_outside_the_guard():
    row = {"passed": False, "reject_reason": "significance_min", "learned_threshold": 0.5}
    inside = result_html(
        {**row, "learned_probability": 0.3, "learned_passed": False, "learned_reason": "learned"},
        {},
    )
    assert "learned scorer: ✘ rejected, probability 0.30, threshold 0.50" in inside
    outside = result_html(
        {**row, "learned_probability": 0.9, "learned_passed": False, "learned_reason": "r2_min"}, {}
    )
    assert "rejected by the fit scan (r2_min; outside the model&#x27;s guard)" in outside
    passed = result_html(
        {**row, "learned_probability": 0.9, "learned_passed": True, "learned_reason": ""}, {}
    )
    assert "learned scorer: ✔ passes, probability 0.90" in passed
