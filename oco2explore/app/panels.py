"""Text panels: the fit result with its threshold checks, the nearest sources, the exports."""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd

from ..config import FitConfig

#: Rows of the result table: (label, value key, error key, unit, format); the values people
#: look at first go first (they stay on screen when the panel scrolls).
RESULT_ROWS: tuple[tuple[str, str, str | None, str, str], ...] = (
    ("Δ peak height", "delta_ppm", "delta_ppm_err", "ppm", ".2f"),
    ("A amplitude", "amplitude", "amplitude_err", "ppm·km", ".1f"),
    ("σ width", "sigma_km", "sigma_km_err", "km", ".1f"),
    ("centre", "center_km", "center_km_err", "km", ".1f"),
    ("significance Δχ²/χ²ν", "significance", None, "", ".1f"),
    ("learned probability (0–1)", "learned_probability", None, "", ".2f"),
    ("emission", "emission_mt_per_yr", "emission_err_mt_per_yr", "Mt CO2/yr", ".2f"),
    ("emission", "emission_kg_per_s", "emission_err_kg_per_s", "kg CO2/s", ".0f"),
    ("wind across track", "wind_perp", None, "m/s", ".2f"),
    ("soundings (left | right, 2σ)", "n_soundings", None, "", "d"),
    ("background slope", "slope", None, "ppm/km", ".4f"),
    ("background at centre", "intercept", None, "ppm", ".2f"),
    ("R (±4σ)", "r", None, "", ".3f"),
    ("R² (±4σ)", "r2", None, "", ".3f"),
)


def _fmt(value: Any, spec: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, float) and not math.isfinite(value):
        return "–"
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return html.escape(str(value))


#: Units of the thresholds' values and limits.
CHECK_UNITS = {
    "amplitude_min": "ppm·km",
    "sigma_min_km": "km",
    "sigma_max_km": "km",
    "min_soundings": "soundings",
    "min_support": "soundings",
}
#: Generic words ending plant names, left out where space is short ("Kendal power station"
#: shows as "Kendal").
GENERIC_PLANT_SUFFIX = re.compile(
    r"\s+(((thermal|coal|combined cycle|gas)\s+)?(power\s+(station|plant)|generating station)"
    r"|TPP|CHP|CCGT|PS)$",
    re.IGNORECASE,
)


def limit_explanation(
    name: str, limit: Any, config: FitConfig | None, sigma_km: float | None
) -> str:
    """How a threshold's limit is computed when it is not the slider's value ('' otherwise).

    ``significance_min`` is the false-alarm threshold at the fit's σ when
    ``false_peaks_per_10000km`` is set, else grows with σ above ``significance_scale_km``;
    ``min_support`` grows with ⌊σ/support_km⌋ (:meth:`FitConfig.significance_limit`,
    :meth:`FitConfig.support_limit`).
    """
    if config is None or limit is None or sigma_km is None or not math.isfinite(sigma_km):
        return ""
    if name == "significance_min" and config.false_peaks_per_10000km is not None:
        return (
            f"= Δχ² of {config.false_peaks_per_10000km:g} false peaks per 10⁴ km at σ "
            f"{sigma_km:.1f} km (false-alarm threshold; the slider is not used)"
        )
    if name == "significance_min" and limit != config.significance_min:
        return (
            f"= {config.significance_min:g} (slider) × σ {sigma_km:.1f} km / "
            f"{config.significance_scale_km:g} km (σ scale)"
        )
    if name == "min_support" and limit != config.min_support:
        if config.support_km is None:
            return f"= ⌊σ {sigma_km:.1f} km⌋, above the slider's {config.min_support}"
        return (
            f"= ⌊σ {sigma_km:.1f} km / {config.support_km:g} km⌋, above the slider's "
            f"{config.min_support}"
        )
    return ""


def result_html(
    row: Mapping[str, Any],
    checks: Mapping[str, tuple[Any, Any, bool]],
    config: FitConfig | None = None,
) -> str:
    """HTML of the fit's values ± 1-σ errors and each threshold's pass/fail.

    A limit that is not the slider's value says how it is computed
    (:func:`limit_explanation`); every value and limit carries its unit.
    """
    passed = bool(row.get("passed"))
    failed_fit = row.get("reject_reason") == "fit"
    detail = f" <small>{html.escape(str(row.get('message') or ''))}</small>" if failed_fit else ""
    verdict = (
        "<div class='oco2-verdict oco2-pass' style='color:#1b7f2a'><b>✔ peak passes all "
        "thresholds</b></div>"
        if passed
        else "<div class='oco2-verdict oco2-fail' style='color:#c62828'><b>✘ rejected: "
        f"{html.escape(str(row.get('reject_reason') or '?'))}</b>{detail}</div>"
    )
    n_other = int(row.get("neighbours_subtracted") or 0)
    if n_other:
        peaks = "peak" if n_other == 1 else "peaks"
        verdict += (
            f"<div class='oco2-neighbours'><small>{n_other} neighbouring {peaks} "
            "subtracted</small></div>"
        )
    if "learned_probability" in row:
        # The learned scorer decides; the fit's verdict is the candidate scan's.
        fit_verdict = (
            "✔ passes its thresholds"
            if passed
            else f"✘ rejected: {html.escape(str(row.get('reject_reason') or '?'))}"
        )
        verdict = _learned_html(row) + (
            "<div class='oco2-fit-verdict'><small>candidate scan (the thresholds below): "
            f"{fit_verdict}</small></div>"
        )
    lines = []
    for label, key, err_key, unit, spec in RESULT_ROWS:
        if key == "learned_probability" and key not in row:
            continue  # shown with the learned scorer only
        value = _fmt(row.get(key), spec)
        if key == "n_soundings":
            value += f" ({row.get('n_left', 0)} | {row.get('n_right', 0)})"
        if err_key is not None and row.get(err_key) is not None:
            value += f" ± {_fmt(row.get(err_key), spec)}"
        # The unit goes with the label: a narrow panel must never hide it.
        name = f"{label} ({unit})" if unit else label
        lines.append(f"<tr><td>{name}</td><td class='oco2-{key}'>{value}</td></tr>")
    checks_html = []
    for name, (value, limit, ok) in checks.items():
        mark = "✔" if ok else "✘"
        colour = "#1b7f2a" if ok else "#c62828"
        unit = CHECK_UNITS.get(name, "")
        value_text = f"{_fmt(value, '.3g')} {unit}".strip()
        shown = "off" if limit is None else f"{_fmt(limit, '.3g')} {unit}".strip()
        why = limit_explanation(name, limit, config, row.get("sigma_km"))
        why_html = f"<br><small class='oco2-limit-why'>{html.escape(why)}</small>" if why else ""
        checks_html.append(
            f"<tr class='oco2-check-{name}'><td style='color:{colour}'>{mark}</td>"
            f"<td>{name}</td><td>{value_text}</td>"
            f"<td>limit {shown}{why_html}</td></tr>"
        )
    return (
        f"{verdict}<table class='oco2-table'>{''.join(lines)}</table>"
        f"<b>thresholds</b><table class='oco2-table oco2-checks'>{''.join(checks_html)}</table>"
    )


def _learned_html(row: Mapping[str, Any]) -> str:
    """The learned scorer's verdict: the probability of the orbit's candidate the window is
    on and whether it reaches the model's threshold."""
    probability = row.get("learned_probability")
    threshold = _fmt(row.get("learned_threshold"), ".2f")
    if probability is None or not math.isfinite(float(probability)):
        ok, text = False, "learned scorer: no candidate of the orbit here"
    else:
        ok = bool(row.get("learned_passed"))
        mark = "✔ passes" if ok else "✘ rejected"
        reason = str(row.get("learned_reason") or "")
        if not ok and reason not in ("", "learned"):
            # Outside the model's guard: the fit scan's verdict stands (oco2explore.learn).
            mark = f"✘ rejected by the fit scan ({reason}; outside the model's guard)"
        text = (
            f"learned scorer: {mark}, probability {float(probability):.2f}, threshold {threshold}"
        )
    css, colour = ("oco2-pass", "#1b7f2a") if ok else ("oco2-fail", "#c62828")
    return (
        f"<div class='oco2-verdict oco2-learned {css}' style='color:{colour}'>"
        f"<b>{html.escape(text)}</b></div>"
    )


def plant_name(name: Any) -> str:
    """A plant's name without its generic ending ("Kendal power station" -> "Kendal")."""
    text = _text(name)
    return GENERIC_PLANT_SUFFIX.sub("", text).strip() or text


def source_title(row: Mapping[str, Any], prefix: str = "") -> str:
    """A source as people name it: "Kendal (ZAF) · coal · 23.3 Mt/yr".

    ``prefix`` selects the columns: ``""`` for a source table, ``"source_"`` for a match
    row (``source_fuel``, ``source_emission_t_per_yr``). Without a name, the source id.
    """
    name = plant_name(row.get("name")) or str(row.get("source_id") or "?")
    country = _text(row.get("country"))
    fuel = _text(row.get(f"{prefix}fuel")) or _text(row.get("kind")).replace("_", " ")
    emission = row.get(f"{prefix}emission_t_per_yr")
    parts = [f"{name} ({country})" if country else name]
    if fuel:
        parts.append(fuel)
    if emission is not None and math.isfinite(float(emission)):
        parts.append(f"{float(emission) / 1e6:.1f} Mt/yr")
    return " · ".join(parts)


def source_label(row: Mapping[str, Any], observed_delta_ppm: float) -> str:
    """One line describing a candidate source of the window's fit."""
    return (
        f"#{int(row['rank'])} {source_title(row, 'source_')} · "
        f"{row['source_distance_km']:.1f} km · {row['upwind_angle_deg']:.0f}° · "
        f"Δ {row['predicted_delta_ppm']:.2f}/{observed_delta_ppm:.2f} ppm"
    )


def _text(value: Any) -> str:
    """A table cell as text; missing values (None, NaN, NA) as ''."""
    return value if isinstance(value, str) else ""


class SourcesPanel:
    """Ranked candidate sources of the current fit; choosing one calls ``on_choose(row)``."""

    HEADER = (
        "<b>Nearest sources</b> <small>rank, plant (country) · fuel · inventory emission · "
        "distance · angle between the source→peak direction and the wind (0° = peak straight "
        "downwind) · Δ predicted from the inventory / observed; choose one to ring it on the "
        "map</small>"
    )

    def __init__(self, on_choose: Callable[[pd.Series | None], None]) -> None:
        self._on_choose = on_choose
        self.table = pd.DataFrame()
        self.select = W.Select(options=[], rows=6, layout=W.Layout(width="100%"))
        self.select.add_class("oco2-sources")
        self.select.observe(self._chosen, "index")
        self.widget = W.VBox([W.HTML(self.HEADER), self.select])

    def show(self, candidates: pd.DataFrame, observed_delta_ppm: float) -> None:
        """List the candidates (a match table for one peak, best first)."""
        self.table = candidates.reset_index(drop=True)
        labels = [source_label(row, observed_delta_ppm) for _, row in self.table.iterrows()]
        self.select.options = [(label, i) for i, label in enumerate(labels)]
        self.select.index = None

    def _chosen(self, change: dict) -> None:
        index = change["new"]
        self._on_choose(None if index is None else self.table.iloc[index])


def _data_link(body: bytes, mime: str, filename: str, text: str, css: str) -> str:
    data = base64.b64encode(body).decode()
    return (
        f"<a class='{css}' download='{html.escape(filename)}' "
        f"href='data:{mime};base64,{data}'>{html.escape(text)}</a>"
    )


def download_links(record: Mapping[str, Any], stem: str) -> str:
    """HTML links that download ``record`` as JSON and as a one-row CSV (``data:`` URLs)."""
    text = json.dumps(record, indent=2, default=str)
    flat = {k: v for k, v in record.items() if not isinstance(v, (dict, list))}
    flat.update({f"config.{k}": v for k, v in record.get("config", {}).items()})
    buffer = io.StringIO()
    pd.DataFrame([flat]).to_csv(buffer, index=False)
    links = [
        _data_link(body.encode(), mime, f"{stem}.{fmt}", f"⬇ fit as {fmt.upper()}", css)
        for fmt, mime, body, css in (
            ("json", "application/json", text, "oco2-export-json"),
            ("csv", "text/csv", buffer.getvalue(), "oco2-export-csv"),
        )
    ]
    return " &nbsp; ".join(links)


def table_links(table: pd.DataFrame, stem: str, what: str, css: str) -> str:
    """HTML links that download a table as CSV and as Parquet (``data:`` URLs).

    Parameters
    ----------
    table : DataFrame
        The rows to export (e.g. the orbit's peaks, a catalogue month).
    stem : str
        File name without extension.
    what : str
        Link text, e.g. ``"peaks"`` -> "⬇ peaks CSV".
    css : str
        Class prefix of the links (``<css>-csv``, ``<css>-parquet``).
    """
    if table.empty:
        return ""
    plain = table.copy()
    for column in plain.columns:
        if plain[column].dtype == object:  # mixed objects (dicts, lists) as text
            plain[column] = plain[column].map(lambda v: v if isinstance(v, str) else str(v))
    parquet = io.BytesIO()
    plain.to_parquet(parquet, index=False)
    csv = table.to_csv(index=False).encode()
    return " &nbsp; ".join(
        [
            _data_link(csv, "text/csv", f"{stem}.csv", f"⬇ {what} CSV", f"{css}-csv"),
            _data_link(
                parquet.getvalue(),
                "application/vnd.apache.parquet",
                f"{stem}.parquet",
                f"⬇ {what} Parquet",
                f"{css}-parquet",
            ),
        ]
    )
