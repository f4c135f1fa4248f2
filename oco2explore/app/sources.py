"""The Sources tab: the source report (CONTRACT §5) of the data root, one emitter at a time.

The report is read from ``report/sources.parquet`` and ``report/crossings.parquet``
of the data root (``oco2explore report RUN --out DATA/report``; the demo data ship
one, built by :func:`oco2explore.report.report_lite_folder`). The table can be
filtered by country, fuel and verdict and sorted by any of its columns; choosing a
source draws its crossings on the map and a time series of the per-crossing
emissions (1-σ error bars) against the inventory at the overpass, with the
detection limits of the undetected crossings; choosing a crossing opens the orbit
view there. ``?source=<source_id>`` links to a source.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

import bqplot as bq
import ipywidgets as W
import numpy as np
import pandas as pd

from ..tableio import read_table
from .data import DataRoot
from .mapview import base_map, point_features, points_layer, view_of

log = logging.getLogger(__name__)

REPORT_KEYS = {"sources": "report/sources.parquet", "crossings": "report/crossings.parquet"}
#: Columns the table can be sorted by (label -> column, descending first).
SORT_COLUMNS = {
    "inventory": "inventory_t_per_yr",
    "estimate": "estimate_t_per_yr",
    "ratio": "ratio",
    "detected crossings": "n_detected",
    "crossings": "n_crossings",
    "upper limit": "upper_limit_t_per_yr",
}
ALL = "(all)"
#: The lists are aligned columns.
STYLE = (
    "<style>.oco2-source-list select, .oco2-crossing-list select "
    "{font-family: monospace; font-size: 12px;}</style>"
)


def _mt(value: float) -> str:
    return "—" if not np.isfinite(value) else f"{value / 1e6:.1f}"


def source_label(row: pd.Series) -> str:
    """One line of the source list: name (or id), country, fuel, verdict, numbers in Mt/yr."""
    name = row["name"] or row["source_id"]
    estimate = row["estimate_t_per_yr"]
    est = (
        "" if not np.isfinite(estimate) else f"{_mt(estimate)}±{_mt(row['estimate_err_t_per_yr'])}"
    )
    return (
        f"{name[:22]:22s} {row['country'][:3]:3s} {row['fuel'][:8]:8s} "
        f"inv {_mt(row['inventory_t_per_yr']):>5s}  est {est:>11s}  "
        f"{int(row['n_detected'])}/{int(row['n_crossings'])}  {row['verdict']}"
    )


class SourcesView:
    """Filters, sortable source list, map of a source's crossings and their time series.

    Parameters
    ----------
    data : DataRoot
        The data root holding the report.
    messages : Messages
        Status line of the app.
    on_open : callable(file, orbit, centre_km)
        Opens the orbit view at a crossing.
    basemap : bool
        Add online map tiles beneath the packaged outlines.
    """

    def __init__(
        self,
        data: DataRoot,
        messages: object,
        on_open: Callable[[str, int, float], None],
        basemap: bool = True,
    ) -> None:
        self.data = data
        self.messages = messages
        self.on_open = on_open
        self.sources = pd.DataFrame()
        self.crossings = pd.DataFrame()
        self.shown = pd.DataFrame()
        self.source_crossings = pd.DataFrame()
        self.loaded = False
        self.country = W.Dropdown(description="country", options=[ALL])
        self.fuel = W.Dropdown(description="fuel", options=[ALL])
        self.verdict = W.Dropdown(description="verdict", options=[ALL])
        self.sort = W.Dropdown(description="sort by", options=list(SORT_COLUMNS))
        for name, widget in (
            ("country", self.country),
            ("fuel", self.fuel),
            ("verdict", self.verdict),
            ("sort", self.sort),
        ):
            widget.add_class(f"oco2-sources-{name}")
            widget.layout = W.Layout(width="230px")
            widget.observe(self._filter_changed, "value")
        self.list = W.Select(rows=14, layout=W.Layout(width="100%"))
        self.list.add_class("oco2-source-list")
        self.list.observe(self._source_chosen, "value")
        self.summary = W.HTML()
        self.summary.add_class("oco2-source-summary")
        self.crossing_list = W.Select(rows=8, layout=W.Layout(width="100%"))
        self.crossing_list.add_class("oco2-crossing-list")
        self.crossing_list.observe(self._crossing_chosen, "value")
        self.map = base_map(basemap)
        self.map.add_class("oco2-sources-map")
        self.crossing_layer = points_layer("crossings")
        self.source_layer = points_layer("source")
        self.map.add(self.crossing_layer)
        self.map.add(self.source_layer)
        # Map and figure join the page on the first refresh: a hidden tab costs the page
        # nothing, and Leaflet sizes itself when drawn (a map drawn hidden stays blank).
        self.map_box = W.Box(layout=W.Layout(width="100%"))
        self.figure_box = W.Box(layout=W.Layout(width="100%"))
        self._build_series()
        self.widget = W.VBox(
            [
                W.HTML(STYLE),
                W.HBox([self.country, self.fuel, self.verdict, self.sort]),
                W.HBox(
                    [
                        W.VBox(
                            [
                                W.HTML("<b>Sources</b> <small>(choose one)</small>"),
                                self.list,
                                self.summary,
                                W.HTML("<b>Crossings</b> <small>(choose one to open it)</small>"),
                                self.crossing_list,
                            ],
                            layout=W.Layout(width="48%"),
                        ),
                        W.VBox([self.map_box, self.figure_box], layout=W.Layout(width="52%")),
                    ]
                ),
            ]
        )
        self.widget.add_class("oco2-sources-tab")

    def _build_series(self) -> None:
        """bqplot time series: emissions with error bars, detection limits, inventory line."""
        x = bq.DateScale()
        y = bq.LinearScale(min=0.0)
        self.points = bq.Scatter(
            x=[], y=[], scales={"x": x, "y": y}, colors=["#1f77b4"], default_size=40
        )
        self.bars = bq.Lines(x=[], y=[], scales={"x": x, "y": y}, colors=["#1f77b4"])
        self.limits = bq.Scatter(
            x=[], y=[], scales={"x": x, "y": y}, marker="triangle-down", colors=["#999999"]
        )
        self.inventory = bq.Lines(
            x=[], y=[], scales={"x": x, "y": y}, colors=["#d62728"], line_style="dashed"
        )
        self.figure = bq.Figure(
            marks=[self.inventory, self.bars, self.limits, self.points],
            axes=[
                bq.Axis(scale=x, label="overpass"),
                bq.Axis(scale=y, orientation="vertical", label="Mt CO₂/yr", tick_format=".0f"),
            ],
            title="per-crossing emission (●, 1σ), detection limit (▼), inventory (- -)",
            layout=W.Layout(width="100%", height="300px"),
            fig_margin={"top": 40, "bottom": 40, "left": 55, "right": 15},
        )
        self.figure.add_class("oco2-source-series")

    def load(self) -> bool:
        """Read the report of the data root once; False (with a message) when it has none."""
        if self.loaded:
            return not self.sources.empty
        self.loaded = True
        keys = set(self.data.store.list("report/"))
        if not set(REPORT_KEYS.values()) <= keys:
            self.messages.show(
                "no source report in this data root: write one with "
                "'oco2explore report RUN --out <data root>/report'",
                "warning",
            )
            return False
        scratch = self.data._scratch
        tables = {
            name: read_table(self.data.store.local_path(key, scratch))
            for name, key in REPORT_KEYS.items()
        }
        self.sources, self.crossings = tables["sources"], tables["crossings"]
        for widget, column in ((self.country, "country"), (self.fuel, "fuel")):
            widget.options = [ALL, *sorted(v for v in self.sources[column].unique() if v)]
        self.verdict.options = [ALL, *sorted(self.sources["verdict"].unique())]
        return True

    def refresh(self) -> None:
        """Load the report if needed and list the sources of the filters."""
        if not self.load():
            return
        shown = self.sources
        for widget, column in (
            (self.country, "country"),
            (self.fuel, "fuel"),
            (self.verdict, "verdict"),
        ):
            if widget.value != ALL:
                shown = shown[shown[column] == widget.value]
        column = SORT_COLUMNS[self.sort.value]
        self.shown = shown.sort_values(column, ascending=False, na_position="last").reset_index(
            drop=True
        )
        self.list.options = [(source_label(r), i) for i, r in self.shown.iterrows()]
        self.list.value = None
        self.map_box.children = [self.map]
        self.figure_box.children = [self.figure]
        self.messages.show(f"source report: {len(self.shown)} of {len(self.sources)} sources")

    def _filter_changed(self, _: dict) -> None:
        with self.messages.guard("sources"):
            self.refresh()

    def _source_chosen(self, change: dict) -> None:
        if change["new"] is not None:
            with self.messages.guard("source"):
                self.show_source(self.shown["source_id"].iat[int(change["new"])])

    def select(self, source_id: str) -> None:
        """Show a source (deep link): clear the filters so it is listed, then choose it."""
        if not self.load():
            return
        if source_id not in set(self.sources["source_id"]):
            self.messages.show(
                f"link source {source_id!r} is not in the report; ignored", "warning"
            )
            return
        for widget in (self.country, self.fuel, self.verdict):
            widget.value = ALL
        self.refresh()
        row = int(np.flatnonzero(self.shown["source_id"].to_numpy() == source_id)[0])
        self.list.value = row

    def show_source(self, source_id: str) -> None:
        """Draw one source: summary, crossings on the map and in the list, the time series."""
        row = self.sources.set_index("source_id").loc[source_id]
        crossings = self.crossings[self.crossings["source_id"] == source_id]
        self.source_crossings = crossings.sort_values("time").reset_index(drop=True)
        c = self.source_crossings
        name = html.escape(row["name"] or source_id)
        self.summary.value = (
            f"<b>{name}</b> ({html.escape(source_id)}, {html.escape(row['country'])}, "
            f"{html.escape(row['fuel'])}): inventory {_mt(row['inventory_t_per_yr'])} Mt/yr "
            f"({_mt(row['inventory_overpass_t_per_yr'])} at the overpasses), estimate "
            f"{_mt(row['estimate_t_per_yr'])} ± {_mt(row['estimate_err_t_per_yr'])}, upper limit "
            f"{_mt(row['upper_limit_t_per_yr'])}; {int(row['n_detected'])} of "
            f"{int(row['n_crossings'])} crossings detected: <b>{html.escape(row['verdict'])}</b>"
        )
        self.crossing_layer.data = point_features(
            c,
            lambda r: {
                "radius": 6,
                "color": "#000000",
                "weight": 1,
                "fillColor": "#1f77b4" if r["detected"] else "#ffffff",
                "fillOpacity": 0.9,
            },
            ["orbit", "peak_id"],
        )
        self.source_layer.data = point_features(
            pd.DataFrame({"latitude": [row["latitude"]], "longitude": [row["longitude"]]}),
            lambda _: {"radius": 9, "color": "#d62728", "weight": 2, "fillOpacity": 0.2},
            [],
        )
        lat = np.r_[c["latitude"].to_numpy(dtype=float), row["latitude"]]
        lon = np.r_[c["longitude"].to_numpy(dtype=float), row["longitude"]]
        self.map.center, self.map.zoom = view_of(lat, lon, min_span_deg=2.0)
        self.crossing_list.options = [
            (
                f"{pd.Timestamp(r['time']):%Y-%m-%d %H:%M} orbit {int(r['orbit'])} "
                + (
                    f"✔ {_mt(r['emission_t_per_yr'])}±{_mt(r['emission_err_t_per_yr'])} Mt/yr"
                    if r["detected"]
                    else f"✘ limit {_mt(r['detection_limit_t_per_yr'])} Mt/yr"
                ),
                i,
            )
            for i, r in c.iterrows()
        ]
        self.crossing_list.value = None
        self._draw_series(c, row)

    def _draw_series(self, c: pd.DataFrame, row: pd.Series) -> None:
        times = pd.to_datetime(c["time"], utc=True).dt.tz_localize(None).to_numpy()
        det = c["detected"].to_numpy(dtype=bool)
        q = c["emission_t_per_yr"].to_numpy(dtype=float) / 1e6
        err = c["emission_err_t_per_yr"].to_numpy(dtype=float) / 1e6
        limit = c["detection_limit_t_per_yr"].to_numpy(dtype=float) / 1e6
        miss = ~det & np.isfinite(limit)
        with self.figure.hold_sync():
            self.points.x, self.points.y = times[det], q[det]
            self.bars.x = np.column_stack([times[det], times[det]])
            self.bars.y = np.column_stack([np.maximum(q[det] - err[det], 0), q[det] + err[det]])
            self.limits.x, self.limits.y = times[miss], limit[miss]
            self.inventory.x = times
            self.inventory.y = c["inventory_overpass_t_per_yr"].to_numpy(dtype=float) / 1e6

    def _crossing_chosen(self, change: dict) -> None:
        if change["new"] is not None:
            with self.messages.guard("open crossing"):
                self.open_crossing(int(change["new"]))

    def open_crossing(self, i: int) -> None:
        """Open the orbit view at the ``i``-th crossing of the chosen source."""
        row = self.source_crossings.iloc[i]
        file = self.data.file_of_day(pd.Timestamp(row["time"]).date())
        if file is None or not np.isfinite(row["distance_km"]):
            self.messages.show(f"no Lite file in the data root for orbit {row['orbit']}", "warning")
            return
        self.on_open(file, int(row["orbit"]), float(row["distance_km"]))
