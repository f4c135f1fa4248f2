"""Tests of oco2explore.app.controls: one widget per FitConfig field, valid at every position."""

from __future__ import annotations

import dataclasses

import pytest

from oco2explore.app import Controls
from oco2explore.config import FitConfig
from oco2explore.errors import InputError


def test_controls_have_one_widget_per_fitconfig_field_and_round_trip():
    config = FitConfig(half_width_km=150.0, r2_min=None, quality="all", min_support=7)
    controls = Controls(config)
    assert set(controls.values) == {f.name for f in dataclasses.fields(FitConfig)}
    assert controls.config == config
    assert controls.values["r2_min"].disabled
    controls.switches["r2_min"].value = True
    controls.values["r2_min"].value = 0.5
    assert controls.config == config.replace(r2_min=0.5)


def test_every_slider_stays_within_what_fitconfig_accepts():
    # Each slider, at its lowest and highest position, gives a valid FitConfig.
    controls = Controls()
    for name, widget in controls.values.items():
        if not hasattr(widget, "min"):
            continue
        for value in (widget.min, widget.max):
            widget.value = value
            if name in ("sigma_min_km", "sigma_max_km"):
                continue  # the pair is checked together (see the next test)
            assert controls.config is not None, name
        controls.set_config(FitConfig())


def test_controls_report_an_impossible_combination():
    controls = Controls()
    calls = []
    controls.on_change(lambda: calls.append(1))
    controls.values["sigma_min_km"].value = 30.0
    controls.values["sigma_max_km"].value = 10.0
    assert len(calls) == 2
    with pytest.raises(InputError, match="sigma_min_km < sigma_max_km"):
        _ = controls.config


def test_the_preset_buttons_show_detector_v1_and_the_defaults():
    controls = Controls()
    seen = []
    controls.on_change(lambda: seen.append(controls.config))
    controls.preset_v1.click()
    assert controls.config == FitConfig.preset("v1") and seen[-1] == FitConfig.preset("v1")
    assert controls.config != FitConfig()
    controls.reset.click()
    assert controls.config == FitConfig() == FitConfig.preset("v2") and len(seen) == 2
