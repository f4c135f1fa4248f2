"""Text panels: the fit result with its threshold checks, the nearest sources, the export."""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd

#: Rows of the result table: (label, value key, error key, unit, format).
RESULT_ROWS: tuple[tuple[str, str, str | None, str, str], ...] = (
    ("Δ peak height", "delta_ppm", "delta_ppm_err", "ppm", ".2f"),
    ("A amplitude", "amplitude", "amplitude_err", "ppm·km", ".1f"),
    ("σ width", "sigma_km", "sigma_km_err", "km", ".1f"),
    ("centre", "center_km", "center_km_err", "km", ".1f"),
    ("background slope", "slope", None, "ppm/km", ".4f"),
    ("background at centre", "intercept", None, "ppm", ".2f"),
    ("R (±4σ)", "r", None, "", ".3f"),
    ("R² (±4σ)", "r2", None, "", ".3f"),
    ("significance Δχ²/χ²ν", "significance", None, "", ".1f"),
    ("soundings (left | right, 2σ)", "n_soundings", None, "", "d"),
    ("wind across track", "wind_perp", None, "m/s", ".2f"),
    ("emission", "emission_kg_per_s", "emission_err_kg_per_s", "kg CO2/s", ".0f"),
    ("emission", "emission_mt_per_yr", "emission_err_mt_per_yr", "Mt CO2/yr", ".2f"),
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


def result_html(row: Mapping[str, Any], checks: Mapping[str, tuple[Any, Any, bool]]) -> str:
    """HTML of the fit's values ± 1-σ errors and each threshold's pass/fail."""
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
    lines = []
    for label, key, err_key, unit, spec in RESULT_ROWS:
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
        shown = "off" if limit is None else _fmt(limit, "g")
        checks_html.append(
            f"<tr class='oco2-check-{name}'><td style='color:{colour}'>{mark}</td>"
            f"<td>{name}</td><td>{_fmt(value, '.3g')}</td><td>limit {shown}</td></tr>"
        )
    return (
        f"{verdict}<table class='oco2-table'>{''.join(lines)}</table>"
        f"<b>thresholds</b><table class='oco2-table'>{''.join(checks_html)}</table>"
    )


def source_label(row: Mapping[str, Any], observed_delta_ppm: float) -> str:
    """One line describing a candidate source of the window's fit."""
    name = f"{row['source_id']} {_text(row.get('name'))}".strip()
    return (
        f"#{int(row['rank'])} {name[:22]:<22} {_text(row.get('kind'))[:11]:<11} "
        f"{_text(row.get('source_fuel'))[:8]:<8} "
        f"{row['source_emission_t_per_yr'] / 1e6:5.1f} Mt/yr "
        f"{row['source_distance_km']:5.1f} km "
        f"{row['upwind_angle_deg']:4.0f}° "
        f"Δ {row['predicted_delta_ppm']:4.2f}/{observed_delta_ppm:4.2f} ppm"
    )


def _text(value: Any) -> str:
    """A table cell as text; missing values (None, NaN, NA) as ''."""
    return value if isinstance(value, str) else ""


class SourcesPanel:
    """Ranked candidate sources of the current fit; choosing one calls ``on_choose(row)``."""

    HEADER = (
        "<b>Nearest sources</b> <small>rank, id, kind, fuel, inventory emission, distance, "
        "angle between the source→peak direction and the wind (0° = peak straight downwind), "
        "Δ predicted from the inventory / observed; choose one to ring it on the map</small>"
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


def download_links(record: Mapping[str, Any], stem: str) -> str:
    """HTML links that download ``record`` as JSON and as a one-row CSV (``data:`` URLs)."""
    text = json.dumps(record, indent=2, default=str)
    flat = {k: v for k, v in record.items() if not isinstance(v, (dict, list))}
    flat.update({f"config.{k}": v for k, v in record.get("config", {}).items()})
    buffer = io.StringIO()
    pd.DataFrame([flat]).to_csv(buffer, index=False)
    links = []
    for fmt, mime, body in (
        ("json", "application/json", text),
        ("csv", "text/csv", buffer.getvalue()),
    ):
        data = base64.b64encode(body.encode()).decode()
        links.append(
            f"<a class='oco2-export-{fmt}' download='{html.escape(stem)}.{fmt}' "
            f"href='data:{mime};base64,{data}'>⬇ fit as {fmt.upper()}</a>"
        )
    return " &nbsp; ".join(links)
