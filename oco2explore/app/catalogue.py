"""The catalogue view: all peaks of a month on a map, coloured by emission, with the sources.

Peaks come from the batch pipeline's monthly catalogue when the data root has
one (``peaks_YYYY-MM.parquet``), else they are detected on the fly with
:func:`oco2explore.scan.detect` (as ``oco2explore detect``) and cached.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import ipyleaflet as L
import ipywidgets as W
import numpy as np
import pandas as pd

from ..match import SourceIndex, match_peaks
from ..scan import detect
from .controls import Controls
from .data import DataRoot
from .mapview import (
    PALETTE,
    base_map,
    colour_bar,
    colour_index,
    colour_limits,
    point_features,
    points_layer,
    source_radius,
    source_scale,
    view_of,
)
from .panels import source_title, table_links

log = logging.getLogger(__name__)

#: Sources drawn on the catalogue map: the largest ones of the inventories.
MAX_CATALOGUE_SOURCES = 2000
#: The catalogue map shows at least this many degrees around the month's peaks.
CATALOGUE_SPAN_DEG = 15.0


class CatalogueView:
    """Month slider, map of the month's peaks and sources, and a list of peaks to open.

    Parameters
    ----------
    data : DataRoot
        The files (and catalogues) of the app.
    sources : SourceIndex
        Known emitters.
    messages : Messages
        Status line and progress bar of the app.
    controls : Controls
        The fit parameters used for on-the-fly detection.
    on_open : callable(file, orbit, centre_km)
        Opens the orbit view at a peak.
    basemap : bool
        Add online map tiles beneath the packaged outlines.
    """

    def __init__(
        self,
        data: DataRoot,
        sources: SourceIndex,
        messages: object,
        controls: Controls,
        on_open: Callable[[str, int, float], None],
        basemap: bool = True,
    ) -> None:
        self.data = data
        self.sources = sources
        self.messages = messages
        self.controls = controls
        self.on_open = on_open
        self.peaks = pd.DataFrame()
        self._cache: dict[tuple[str, str], pd.DataFrame] = {}
        months = data.months()
        self.month = W.SelectionSlider(
            options=months, value=months[0], description="month", continuous_update=False
        )
        self.month.add_class("oco2-month")
        self.only_passed = W.Checkbox(value=True, description="passed peaks only", indent=False)
        self.map = base_map(basemap)
        self.map.add_class("oco2-catalogue-map")
        self.source_layer = points_layer("known sources")
        self.peak_layer = points_layer("peaks")
        self.map.add(self.source_layer)
        self.map.add(self.peak_layer)
        self.legend = W.HTML()
        self.map.add(L.WidgetControl(widget=self.legend, position="bottomleft"))
        self.peak_layer.on_click(self._clicked)
        # The map joins the page on the first refresh: Leaflet sizes itself when drawn,
        # and a map drawn inside a hidden tab stays blank.
        self.map_box = W.Box(layout=W.Layout(width="100%"))
        self.list = W.Select(rows=18, layout=W.Layout(width="100%"))
        self.list.add_class("oco2-catalogue-peaks")
        self.list.observe(self._chosen, "value")
        self.month.observe(lambda _: self._guarded(self.refresh), "value")
        self.only_passed.observe(lambda _: self._guarded(self.refresh), "value")
        self.export = W.HTML()
        self.export.add_class("oco2-month-export")
        self.widget = W.HBox(
            [
                W.VBox(
                    [W.HBox([self.month, self.only_passed]), self.map_box, self.export],
                    layout=W.Layout(width="62%"),
                ),
                W.VBox(
                    [
                        W.HTML("<b>Peaks of the month</b> <small>(choose one to open it)</small>"),
                        self.list,
                    ],
                    layout=W.Layout(width="38%"),
                ),
            ]
        )
        self.widget.add_class("oco2-catalogue")
        self._drawn_sources = False

    def _guarded(self, action: Callable[[], None]) -> None:
        with self.messages.guard("catalogue"):
            action()

    def month_peaks(self, month: str) -> pd.DataFrame:
        """Peaks of a month with a ``file`` column: the pipeline's catalogue or detected now."""
        config = self.controls.config
        key = (month, config.digest())
        if key in self._cache:
            return self._cache[key]
        table = self.data.catalogue(month)
        if table is not None:
            days = pd.to_datetime(table["time"], utc=True).dt.date
            table = table.assign(file=[self.data.file_of_day(d) for d in days])
        else:
            files = self.data.files_of_month(month)
            parts = []
            with self.messages.busy(f"detecting peaks of {month}", steps=len(files)) as bar:
                for i, file in enumerate(files):
                    peaks = detect(self.data.soundings(file, config.quality), config)
                    parts.append(peaks.assign(file=file))
                    bar.value = i + 1
            table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        if len(table) and "source_id" not in table:
            table = match_peaks(table, self.sources, top_k=1)  # the likeliest source, named
        self._cache[key] = table
        return table

    def refresh(self) -> None:
        """Draw the selected month."""
        if not self._drawn_sources:
            table = self.sources.sources.nlargest(MAX_CATALOGUE_SOURCES, "emission_t_per_yr")
            self.source_layer.data = point_features(
                table.assign(
                    _r=source_radius(table["emission_t_per_yr"].to_numpy()),
                    title=[source_title(r) for r in table.to_dict(orient="records")],
                ),
                lambda r: {
                    "radius": float(r["_r"]),
                    "color": "#202020",
                    "weight": 1,
                    "fillColor": "#ffffff",
                    "fillOpacity": 0.6,
                },
                ["source_id", "title"],
            )
            self._drawn_sources = True
        peaks = self.month_peaks(self.month.value)
        if self.only_passed.value and len(peaks):
            peaks = peaks[peaks["passed"].astype(bool)]
        self.peaks = peaks.sort_values("emission_mt_per_yr", ascending=False).reset_index(drop=True)
        emission = (
            self.peaks["emission_mt_per_yr"].to_numpy(dtype=float) if len(peaks) else np.zeros(0)
        )
        vmin, vmax = colour_limits(emission, 5.0, 95.0)
        bins = colour_index(emission, vmin, vmax)
        self.peak_layer.data = point_features(
            self.peaks.assign(_bin=bins, _row=np.arange(len(self.peaks))),
            lambda r: {
                "radius": 7,
                "color": "#000000",
                "weight": 1,
                "fillColor": PALETTE[int(r["_bin"])],
                "fillOpacity": 0.9 if r["passed"] else 0.3,  # rejected peaks: faint
            },
            ["peak_id", "_row"],
        )
        self.legend.value = (
            f"<div class='oco2-legend'>{colour_bar('peak emission (Mt CO₂/yr)', vmin, vmax)}"
            f"faint: rejected peak<br>sources (Mt CO₂/yr): {source_scale()}</div>"
        )
        self.export.value = table_links(
            self.peaks, f"oco2explore_peaks_{self.month.value}", "month's peaks", "oco2-month"
        )
        self.map_box.children = [self.map]
        self.list.options = [
            (
                f"{pd.Timestamp(r['time']):%Y-%m-%d} orbit {int(r['orbit'])} "
                f"({self._provenance(r)}) "
                f"{'✔' if r['passed'] else '✘'} "
                f"Δ {r['delta_ppm']:4.1f} ppm  {r['emission_mt_per_yr']:6.1f} Mt/yr"
                f"{self._source_text(r)}",
                i,
            )
            for i, r in self.peaks.iterrows()
        ]
        self.list.value = None
        if len(self.peaks):
            self.map.center, self.map.zoom = view_of(
                self.peaks["latitude"], self.peaks["longitude"], min_span_deg=CATALOGUE_SPAN_DEG
            )
        self.messages.show(f"{self.month.value}: {len(self.peaks)} peaks")

    def _provenance(self, row: pd.Series) -> str:
        """ "real OCO-2" or "simulated" for a peak's Lite file."""
        file = row.get("file")
        return self.data.provenance(file) if isinstance(file, str) else "?"

    @staticmethod
    def _source_text(row: pd.Series) -> str:
        """ " → Kendal (ZAF) · coal · 23.3 Mt/yr" for a peak's likeliest source, else ''."""
        if not isinstance(row.get("source_id"), str):
            return ""
        return f"  → {source_title(row, 'source_')}"

    def _clicked(self, properties: dict | None = None, **_: object) -> None:
        if properties is not None:
            self.list.value = int(properties["_row"])

    def _chosen(self, change: dict) -> None:
        if change["new"] is not None:
            self.open_row(int(change["new"]))

    def open_row(self, i: int) -> None:
        """Open the orbit view at the ``i``-th listed peak."""
        row = self.peaks.iloc[i]
        if row.get("file") is None:
            self.messages.show(
                f"no Lite file in the data root for peak {row['peak_id']}", "warning"
            )
            return
        self.on_open(row["file"], int(row["orbit"]), float(row["distance_km"]))
