"""Sliders bound to :class:`~oco2explore.config.FitConfig`, built from the dataclass fields.

A new ``FitConfig`` field gets a control automatically (float -> slider,
int -> integer slider, bool -> check box, ``Optional`` -> slider with an on/off
box, str -> text or a choice); :data:`SPECS` only makes the known fields nicer to use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import ipywidgets as W
import numpy as np

from ..config import QUALITY_POLICIES, FitConfig, field_kind

#: Label, minimum, maximum and step of the sliders of known fields.
SPECS: dict[str, tuple[str, float, float, float]] = {
    "half_width_km": ("window ½-width (km)", 25.0, 400.0, 5.0),
    "sigma_min_km": ("σ min (km)", 0.5, 30.0, 0.5),
    "sigma_max_km": ("σ max (km)", 5.0, 150.0, 1.0),
    "amplitude_min": ("A min (ppm·km)", 0.0, 500.0, 5.0),
    "amplitude_max": ("A max (ppm·km)", 100.0, 5000.0, 50.0),
    "min_soundings": ("min soundings (n)", 0, 400, 5),
    "min_support": ("min support/side (n)", 0, 60, 1),
    "support_km": ("flank km/sounding", 0.5, 20.0, 0.5),
    "r2_min": ("min R² ±4σ (0–1)", 0.0, 1.0, 0.01),
    "significance_min": ("min signif. (Δχ²/χ²ν)", 0.0, 300.0, 1.0),
    "wind_uncertainty_m_per_s": ("wind error (m/s)", 0.0, 5.0, 0.1),
    "center_shift_max_km": ("centre shift (km)", 0.0, 50.0, 1.0),
    "significance_scale_km": ("signif. σ scale (km)", 0.5, 50.0, 0.5),
    "slope_max": ("max |slope| (ppm/km)", 0.0, 0.1, 0.001),
    "intercept_min": ("min backgr. (ppm)", 350.0, 450.0, 0.5),
    "intercept_max": ("max backgr. (ppm)", 350.0, 450.0, 0.5),
    "error_correlation_ppm": ("corr. error (ppm)", 0.0, 1.0, 0.01),
    "error_correlation_km": ("its length (km)", 0.5, 20.0, 0.5),
    "false_peaks_per_10000km": ("false peaks /10⁴ km", 0.001, 10.0, 0.001),
    "min_positions": ("min positions/flank (n)", 0, 10, 1),
    "nested_ratio": ("nested width ratio (×)", 2.0, 20.0, 0.5),
}
#: Labels of boolean fields (shown as check boxes).
LABELS: dict[str, str] = {
    "wind_aligned": "scan along the wind-aligned coordinate",
    "deblend": "subtract the neighbouring peaks",
    "noise_estimated": "noise model estimated per orbit",
    "artefact_check": "reject what diagnostics explain",
    "scale_space_candidates": "candidates over centre and width",
}
#: Allowed values of string fields.
CHOICES: dict[str, tuple[str, ...]] = {"quality": QUALITY_POLICIES}
#: Width of the labels (they hold their unit: never cut) and of one control row.
DESCRIPTION_WIDTH = "150px"
CONTROL_WIDTH = "318px"


def _value_widget(name: str, kind: type, default: object) -> W.ValueWidget:
    style = {"description_width": DESCRIPTION_WIDTH}
    layout = W.Layout(width=CONTROL_WIDTH)
    if kind is bool:
        label = LABELS.get(name, name)
        return W.Checkbox(description=label, indent=False, layout=layout)
    if kind is str:
        if name in CHOICES:
            return W.ToggleButtons(
                options=list(CHOICES[name]),
                description="quality flag",
                style={**style, "button_width": "70px"},
            )
        return W.Text(description=name, style=style, layout=layout)
    ref = float(default) if isinstance(default, (int, float)) else 1.0
    label, lo, hi, step = SPECS.get(name, (name, 0.0, max(4.0 * ref, 1.0), max(ref, 1.0) / 25.0))
    common = dict(
        description=label, continuous_update=False, style=style, layout=layout, readout=True
    )
    if kind is int:
        return W.IntSlider(min=int(lo), max=int(hi), step=max(int(step), 1), **common)
    digits = max(0, -int(np.floor(np.log10(step)))) if step < 1 else 0
    return W.FloatSlider(min=lo, max=hi, step=step, readout_format=f".{digits}f", **common)


class Controls:
    """One widget per FitConfig field; ``config`` reads them, ``set_config`` writes them.

    Parameters
    ----------
    config : FitConfig
        Initial values.
    """

    def __init__(self, config: FitConfig | None = None) -> None:
        config = config or FitConfig()
        self.values: dict[str, W.ValueWidget] = {}
        self.switches: dict[str, W.Checkbox] = {}
        self._callbacks: list[Callable[[], None]] = []
        self._silent = False
        rows = []
        for field in dataclasses.fields(FitConfig):
            kind, optional = field_kind(FitConfig, field.name)
            widget = _value_widget(field.name, kind, field.default)
            widget.add_class(f"oco2-ctl-{field.name}")
            widget.observe(self._changed, "value")
            self.values[field.name] = widget
            row = [widget]
            if optional:
                switch = W.Checkbox(
                    value=True, indent=False, layout=W.Layout(width="30px"), tooltip="on/off"
                )
                switch.add_class(f"oco2-on-{field.name}")
                switch.observe(self._changed, "value")
                self.switches[field.name] = switch
                row.append(switch)
            rows.append(W.HBox(row))
        self.reset = W.Button(description="defaults", icon="undo", layout=W.Layout(width="110px"))
        self.reset.on_click(lambda _: self.set_config(FitConfig(), notify=True))
        self.preset_v1 = W.Button(
            description="detector v1",
            icon="history",
            layout=W.Layout(width="130px"),
            tooltip="the detector before v2: fixed correlated error, threshold 25 growing "
            "with σ, σ 2–33 km",
        )
        self.preset_v1.on_click(lambda _: self.set_config(FitConfig.preset("v1"), notify=True))
        self.widget = W.VBox([*rows, W.HBox([self.reset, self.preset_v1])])
        self.widget.add_class("oco2-controls")
        self.set_config(config)

    @property
    def config(self) -> FitConfig:
        """The FitConfig shown (raises :class:`~oco2explore.errors.InputError` if invalid)."""
        changes = {}
        for name, widget in self.values.items():
            switch = self.switches.get(name)
            value = widget.value
            if isinstance(value, float):
                value = round(value, 9)  # slider steps accumulate binary rounding errors
            changes[name] = None if switch is not None and not switch.value else value
        return FitConfig(**changes)

    def set_config(self, config: FitConfig, notify: bool = False) -> None:
        """Show ``config``; callbacks run once afterwards if ``notify``."""
        self._silent = True
        try:
            for name, value in config.to_dict().items():
                widget = self.values[name]
                switch = self.switches.get(name)
                if switch is not None:
                    switch.value = value is not None
                    widget.disabled = value is None
                if value is not None:
                    widget.value = value
        finally:
            self._silent = False
        if notify:
            self._notify()

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever a control changes; it reads :attr:`config`."""
        self._callbacks.append(callback)

    def _changed(self, _change: dict) -> None:
        for name, switch in self.switches.items():
            self.values[name].disabled = not switch.value
        if not self._silent:
            self._notify()

    def _notify(self) -> None:
        for callback in self._callbacks:
            callback()
