"""The explorer: an orbit view (map, window, live fit, sources) and a monthly catalogue view.

:class:`Explorer` composes the widgets of this package and calls the same core
functions as the command line (:func:`oco2explore.scan.fit_at`, the scan's own
window fit, and :func:`oco2explore.scan.scan_orbit`, :mod:`oco2explore.emission`,
:func:`oco2explore.match.nearest_sources`) with the same
:class:`~oco2explore.config.FitConfig`.
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as W
import numpy as np
import pandas as pd

from ..config import FitConfig
from ..emission import emissions_at
from ..errors import InputError
from ..fit import FitResult
from ..geo import haversine_km
from ..inventory import load_inventories
from ..lite import lite_file_day
from ..match import SourceIndex, nearest_sources
from ..scan import (
    Track,
    WindowFit,
    fit_at,
    peak_components,
    preparation_key,
    prepare_orbit,
    scan_orbit,
)
from ..track import nearest_index, window_slice
from .controls import Controls
from .data import DataRoot
from .mapview import OrbitMap
from .panels import SourcesPanel, download_links, result_html, table_links
from .profile import MODEL_POINTS, ProfilePlot
from .state import SCORERS as LINK_SCORERS
from .state import View, parse_query, view_query

if TYPE_CHECKING:
    from ..learn import LearnedScorer
    from .catalogue import CatalogueView
    from .sources import SourcesView

log = logging.getLogger(__name__)

#: Environment variable naming the data root (folder or swift://...), set by ``serve``.
DATA_ENV = "OCO2EXPLORE_DATA"
#: Environment variable naming a file created once the first view is drawn (``serve``
#: opens the browser then, so the first page finds a preheated kernel).
READY_ENV = "OCO2EXPLORE_READY_FILE"
#: Environment variable naming a file created once the first view is drawn, set by the
#: server for each preheated kernel (:class:`~.kernels.PageKernelManager` starts the
#: pool's next kernel then).
WARM_ENV = "OCO2EXPLORE_WARM_FILE"
#: The map opens on the track within this distance of the window centre, km.
ZOOM_HALF_SPAN_KM = 250.0
#: Candidate sources listed for one fit.
TOP_K_SOURCES = 8
#: Sources drawn on the orbit map: the largest ones near the orbit, above a floor.
MAX_MAP_SOURCES = 1500
MIN_MAP_SOURCE_T_PER_YR = 0.5e6
#: Margin around the orbit's soundings within which sources are drawn, degrees.
SOURCE_MARGIN_DEG = 2.0
#: The scorers of the orbit's peaks (label, link value): the fit scan's thresholds, or the
#: learned model (:func:`oco2explore.learn.score`, as ``oco2explore detect --scorer learned``).
SCORERS = tuple(zip(("fit scan", "learned"), LINK_SCORERS, strict=True))
#: Learned probabilities kept per page (by feature vector) before the memo is emptied.
MAX_KEPT_PROBABILITIES = 20_000
#: A true plume is marked when its crossing lies this close to the orbit's track, km.
TRUTH_TRACK_KM = 10.0
#: Page style: compact lists and tables, legends, a result panel that never cuts a value.
STYLE = """<style>
.oco2-sources select, .oco2-peaks select, .oco2-catalogue-peaks select {
  font-family: monospace; font-size: 12px;
}
.oco2-table td {padding: 1px 4px; font-size: 12px; white-space: nowrap;}
.oco2-result {min-width: 0; overflow-x: auto;}
.oco2-checks td {white-space: normal; overflow-wrap: anywhere;}
.oco2-checks td:nth-child(3) {white-space: nowrap;}
.oco2-legend, .oco2-colourbar {font-size: 11px; line-height: 1.35;}
.oco2-legend {background: rgba(255,255,255,0.92); padding: 3px 6px;}
.oco2-legend-line {font-size: 11px; white-space: normal;}
.oco2-badge {display: inline-block; padding: 1px 8px; border-radius: 10px; color: white;
  font-size: 13px; margin-left: 8px; vertical-align: middle;}
.oco2-badge-real {background: #1b7f2a;} .oco2-badge-simulated {background: #6a1b9a;}
.oco2-help {font-size: 13px; max-width: 1100px;}
.oco2-panels > .oco2-controls, .oco2-panels > .oco2-result {
  height: 100%; overflow-y: auto; scrollbar-gutter: stable;
}
.oco2-panels > .oco2-controls > * {flex-shrink: 0;}
</style>"""
#: Heights (CSS) that keep the map with its window handle, the sliders and the result values
#: on a 1280×800 screen: the map and the sliders/result panels end above the viewport's
#: bottom (the panels scroll inside themselves; larger screens show more of them).
MAP_HEIGHT = "max(360px, 100vh - 420px)"
PANELS_HEIGHT = "max(250px, 100vh - 540px)"
#: The "How to use" panel.
HELP = """<div class='oco2-help'>
<p><b>What OCO-2 sees.</b> NASA's OCO-2 satellite measures XCO2, the column-averaged CO₂
(ppm), in a narrow swath of footprints along its orbit. Downwind of a big emitter the column
rises by a few ppm over a few tens of km: a bump on the along-track profile.</p>
<p><b>The window.</b> Drag the marker on the map (or choose a peak in the list) to move the
fit window along the track; the red band shows it. The profile on the right shows the
soundings in the window and the fitted Gaussian on a linear background; the table gives its
height Δ, width σ and the emission it implies with the wind (blue arrow, at the fitted
centre).</p>
<p><b>The sliders</b> are the detector's parameters, exactly those of the command line and
the batch (<code>oco2explore detect</code>, <code>run</code>): window half-width, limits on
σ and the amplitude A, and the thresholds a peak must pass. Some limits grow with σ: the
thresholds table says how when a limit is not the slider's value.</p>
<p><b>✔ / ✘</b>: a peak that passes every threshold is ✔ (red on the map), one rejected
is ✘ (grey) with the threshold that failed. <b>Nearest sources</b>: power plants (CoCO2
2018 with WRI GPPD names) ranked by distance, wind direction and the plume they would make.
</p>
<p><b>Days</b> marked <i>real OCO-2</i> are NASA measurements; <i>simulated</i> days are
made by <code>oco2explore simulate</code>, with "show truth" to compare the detector with
the true plumes. The notebooks in <code>notebooks/</code> go further (batch, matching,
validation).</p></div>"""


class Messages:
    """One line of status or error text at the top of the app, and a progress bar."""

    def __init__(self) -> None:
        self.text = W.HTML()
        self.text.add_class("oco2-message")
        # The bar takes no room when idle: the status line starts at the left and fits one line.
        self.bar = W.IntProgress(min=0, max=1, layout=W.Layout(width="240px", display="none"))
        self.bar.add_class("oco2-progress")
        self.widget = W.HBox([self.bar, self.text])

    def show(self, text: str, level: str = "info") -> None:
        """Show a message (``info``, ``warning`` or ``error``)."""
        colour = {"info": "#333", "warning": "#9a6700", "error": "#c62828"}[level]
        self.text.value = (
            f"<span class='oco2-{level}' style='color:{colour}'>{html.escape(text)}</span>"
        )
        log.info("%s: %s", level, text)  # shown in the app; the log is for the server side

    @contextlib.contextmanager
    def busy(self, text: str, steps: int = 1) -> Iterator[W.IntProgress]:
        """Show ``text`` and a progress bar of ``steps`` while the block runs."""
        self.bar.max, self.bar.value = max(steps, 1), 0
        self.bar.layout.display = None
        self.show(f"⏳ {text}")
        try:
            yield self.bar
        finally:
            self.bar.layout.display = "none"

    @contextlib.contextmanager
    def guard(self, what: str) -> Iterator[None]:
        """Turn any error of the block into a message (the page never dies)."""
        try:
            yield
        except InputError as exc:
            self.show(f"{what}: {exc}", "error")
        except Exception as exc:  # noqa: BLE001 - a widget callback must not kill the app
            log.exception("%s failed", what)
            self.show(f"{what} failed: {type(exc).__name__}: {exc}", "error")


class OrbitView:
    """One orbit: soundings on the map, a draggable fit window, the live fit and its sources.

    Parameters
    ----------
    data : DataRoot
        The files this view may open.
    sources : SourceIndex
        Known emitters (inventories).
    messages : Messages
        Where status and errors are shown.
    config : FitConfig, optional
        Initial fit parameters.
    basemap : bool
        Add online map tiles beneath the packaged outlines.
    """

    def __init__(
        self,
        data: DataRoot,
        sources: SourceIndex,
        messages: Messages,
        config: FitConfig | None = None,
        basemap: bool = True,
    ) -> None:
        self.data = data
        self.sources = sources
        self.messages = messages
        self.file: str | None = None
        self.orbit: int | None = None
        self.quality: str | None = None
        self.soundings = pd.DataFrame()
        self.track = pd.DataFrame()
        self.peaks = pd.DataFrame()
        self.centre_km = float("nan")
        self.handle_latlon = (float("nan"), float("nan"))
        self.fit: FitResult | None = None
        self.row: dict[str, Any] = {}
        self.candidates = pd.DataFrame()
        self.truth = pd.DataFrame()
        self._track: Track | None = None
        self._sources_key: tuple | None = None  # what the candidate sources were ranked for
        self._exported: tuple[str, pd.DataFrame] = ("", pd.DataFrame())  # peaks in the links
        self._busy = False
        self.scorer: LearnedScorer | None = None  # the packaged model, loaded when chosen
        # The model's probabilities by feature vector: a slider step scores only the
        # candidates whose features it changed (LearnedScorer.probability).
        self._probabilities: dict[bytes, float] = {}

        self.file_select = W.Dropdown(
            options=[(self._file_label(k), k) for k in data.files],
            value=None,
            description="day / file",
            layout=W.Layout(width="100%"),
        )
        self.file_select.add_class("oco2-file")
        self.orbit_select = W.Dropdown(description="orbit", layout=W.Layout(width="260px"))
        self.orbit_select.add_class("oco2-orbit")
        self.peak_select = W.Select(rows=5, layout=W.Layout(width="100%"))
        self.peak_select.add_class("oco2-peaks")
        self.rescan = W.Button(
            description="re-scan orbit", icon="search", layout=W.Layout(width="130px")
        )
        self.rescan.add_class("oco2-rescan")
        self.truth_toggle = W.Checkbox(
            description="show truth", indent=False, layout=W.Layout(width="110px")
        )
        self.truth_toggle.add_class("oco2-truth")
        self.scorer_select = W.ToggleButtons(
            options=list(SCORERS),
            value="fit",
            tooltip="decide which peaks pass: the fit's thresholds, or the learned model "
            "(the packaged one; it adds learned_probability)",
            style={"button_width": "72px"},
        )
        self.scorer_select.add_class("oco2-scorer")
        self.badge = W.HTML()
        self.badge.add_class("oco2-provenance")
        self.controls = Controls(config)
        self.map = OrbitMap(
            self.move_to_latlon,
            lambda peak_id: self._guarded("jump to peak", self.jump_to_peak, peak_id),
            basemap=basemap,
        )
        self.profile = ProfilePlot()
        self.result = W.HTML()
        self.result.add_class("oco2-result")
        self.sources_panel = SourcesPanel(self._source_chosen)
        self.link = W.HTML()
        self.link.add_class("oco2-link")
        self.export = W.HTML()
        self.export.add_class("oco2-export")
        self.peaks_export = W.HTML()
        self.peaks_export.add_class("oco2-peaks-export")
        figure_buttons = []
        for fmt in ("png", "svg"):
            button = W.Button(
                description=f"profile {fmt.upper()}",
                icon="download",
                layout=W.Layout(width="120px"),
            )
            button.add_class(f"oco2-figure-{fmt}")
            button.on_click(lambda _, f=fmt: self.save_profile(f))
            figure_buttons.append(button)

        self.file_select.observe(self._file_changed, "value")
        self.orbit_select.observe(self._orbit_changed, "value")
        self.peak_select.observe(self._peak_chosen, "value")
        self.rescan.on_click(lambda _: self._guarded("re-scan", self.scan))
        self.scorer_select.observe(
            lambda _: None if self._busy else self._guarded("switch scorer", self._scorer_changed),
            "value",
        )
        self.truth_toggle.observe(lambda _: self._guarded("show truth", self._draw_truth), "value")
        self.controls.on_change(lambda: self._guarded("fit", self._config_changed))

        navigation = W.VBox(
            [
                self.file_select,
                W.HBox([self.orbit_select, self.rescan, self.truth_toggle]),
                W.HBox(
                    [
                        W.HTML(
                            "<b>Peaks detected on this orbit</b> <small>(choose one to jump)"
                            "</small>&nbsp; scorer:"
                        ),
                        self.scorer_select,
                    ],
                    layout=W.Layout(align_items="center"),
                ),
                self.peak_select,
            ]
        )
        exports = W.VBox(
            [self.link, self.export, self.peaks_export, W.HBox(figure_buttons)],
            layout=W.Layout(width="100%"),
        )
        # The map keeps its height (a flex column would stretch it to the right column's).
        self.map.map.layout.height = MAP_HEIGHT
        self.map.map.layout.flex = "0 0 auto"
        left = W.VBox(
            [navigation, self.map.map, self.sources_panel.widget, exports],
            layout=W.Layout(width="46%", min_width="0"),
        )
        self.controls.widget.layout.flex = "0 0 336px"
        self.result.layout.flex = "1 1 auto"
        panels = W.HBox([self.controls.widget, self.result], layout=W.Layout(height=PANELS_HEIGHT))
        panels.add_class("oco2-panels")
        right = W.VBox(
            [self.profile.widget, panels],
            layout=W.Layout(width="54%", min_width="0", padding="0 0 0 8px"),
        )
        self.widget = W.HBox([left, right], layout=W.Layout(width="100%"))
        self.widget.add_class("oco2-orbit-view")

    # --- navigation --------------------------------------------------------------------------

    def _file_label(self, key: str) -> str:
        """ "2016-08-31 · real OCO-2 · oco2_LtCO2_160831_....nc4"."""
        day = lite_file_day(key)
        return f"{day:%Y-%m-%d} · {self.data.provenance(key)} · {key.rsplit('/', 1)[-1]}"

    def _guarded(self, what: str, action: Any, *args: Any) -> None:
        with self.messages.guard(what):
            action(*args)

    def _file_changed(self, change: dict) -> None:
        if not self._busy and change["new"] is not None:
            view = View(file=change["new"], config=self.controls.config)
            self._guarded("open file", self.open, view)

    def _orbit_changed(self, change: dict) -> None:
        if not self._busy and change["new"] is not None:
            view = View(self.file, change["new"], config=self.controls.config)
            self._guarded("open orbit", self.open, view)

    def _peak_chosen(self, change: dict) -> None:
        if not self._busy and change["new"] is not None:
            self._guarded("jump to peak", self.jump_to_peak, change["new"])

    def open(self, view: View) -> None:
        """Show ``view``: load its file and orbit if needed, place the window, refit.

        Missing parts of the view keep the current value (file, parameters) or take
        a default (the root's default orbit; the strongest peak, else the orbit's middle).
        """
        if view.config != self.controls.config:
            self.controls.set_config(view.config)
        if view.scorer is not None and view.scorer != self.scorer_select.value:
            self._busy = True  # the orbit is scanned below, with this scorer
            try:
                self.scorer_select.value = view.scorer
            finally:
                self._busy = False
            self._load_scorer()
        config = self.controls.config
        default_file, default_orbit = self.data.default_view()
        file = view.file or self.file or default_file
        if file not in self.data.files:
            raise InputError(f"{file!r} is not a file of the data root {self.data.label}")
        self._busy = True
        try:
            with self.messages.busy(f"loading {file.rsplit('/', 1)[-1]}", steps=3) as bar:
                soundings = self.data.soundings(file, config.quality)
                if soundings.empty:
                    raise InputError(f"no soundings of quality {config.quality!r}", path=file)
                bar.value = 1
                orbits = soundings["orbit"].value_counts().sort_index()
                orbit = view.orbit
                if orbit is None:
                    orbit = default_orbit if default_orbit in orbits.index else int(orbits.index[0])
                if orbit not in orbits.index:
                    raise InputError(f"orbit {orbit} is not in this file", path=file)
                file_changed = file != self.file
                if file_changed:
                    self.file = file
                    self.file_select.value = file
                    self.orbit_select.options = [
                        (f"{o} ({n:,} soundings)", int(o)) for o, n in orbits.items()
                    ]
                self.orbit_select.value = orbit
                if orbit != self.orbit or config.quality != self.quality or file_changed:
                    self._load_orbit(soundings, orbit, config.quality)
                bar.value = 2
                self.scan()
                bar.value = 3
        finally:
            self._busy = False
        centre = view.centre_km
        if centre is None:
            centre = self._strongest_peak_km()
        self.move_to_km(centre)
        self.map.zoom_to(
            *self.track_near(self.centre_km, ZOOM_HALF_SPAN_KM), centre=self.handle_latlon
        )
        self.show_status()

    def show_status(self) -> None:
        """The status line: what is shown and how many of its peaks pass the current
        parameters (called after every scan, so it never keeps an old count)."""
        n_passed = int(self.peaks["passed"].sum()) if len(self.peaks) else 0
        self.messages.show(
            f"{self.data.label}: {self._file_label(self.file)}, orbit {self.orbit}, "
            f"{len(self.soundings):,} soundings, {n_passed} of {len(self.peaks)} peaks pass "
            f"(scorer: {self.scorer_label()})"
        )

    def scorer_label(self) -> str:
        """The scorer that decides ``passed``: "fit scan", or the learned model's file and
        the candidates it scores."""
        if self.scorer_select.value != "learned" or self.scorer is None:
            return "fit scan"
        from ..learn import model_config

        path = Path(str(self.scorer.card.get("file", "")))
        shown = self.controls.config.to_dict()
        own = model_config(self.scorer, self.controls.config).to_dict()
        differ = sorted(k for k, v in own.items() if v != shown[k])
        note = f", candidates with the model's {', '.join(differ)}" if differ else ""
        return f"learned, {path.name}{note}"

    def _load_scorer(self) -> None:
        """Load the packaged learned model the first time the learned scorer is chosen."""
        if self.scorer_select.value == "learned" and self.scorer is None:
            from ..learn import load

            with self.messages.busy("loading the learned model"):
                self.scorer = load()

    def _scorer_changed(self) -> None:
        """Re-score the orbit with the chosen scorer and refit the window."""
        self._load_scorer()
        if len(self.soundings):
            self.scan()
            self.refit()
            self.show_status()

    def fit_config(self, config: FitConfig | None = None) -> FitConfig:
        """The configuration of the orbit's scan and of the window fit.

        The sliders' (``config``, default the shown one) with the fit scan; with the
        learned scorer, the permissive configuration whose candidates the model scores
        (:func:`oco2explore.learn.candidate_config` of
        :func:`oco2explore.learn.model_config`), so a peak of the list gives its row here.
        """
        config = self.controls.config if config is None else config
        if self.scorer_select.value != "learned" or self.scorer is None:
            return config
        from ..learn import candidate_config, model_config, scorer_fraction

        return candidate_config(model_config(self.scorer, config), scorer_fraction(self.scorer))

    def _strongest_peak_km(self) -> float:
        """Where a view opens: the most significant passed peak, else the most significant
        peak, else the middle of the orbit (km)."""
        if len(self.peaks) == 0:
            return float(self.soundings["distance_km"].median())
        ranked = self.peaks.sort_values(["passed", "significance"], ascending=False)
        return float(ranked["distance_km"].iloc[0])

    def _config_changed(self) -> None:
        config = self.controls.config
        if config.quality != self.quality:
            self.open(View(self.file, self.orbit, self.centre_km, config))
        else:
            # The window first (what the user waits for), with the peaks shown; then the
            # orbit's peaks with the new parameters, and the window again if its
            # subtracted neighbours changed.
            self.refit()
            own = self.fit_config(config)
            before = self._neighbours(own)
            self.scan(redraw_changed_only=True)
            if not _same(before, self._neighbours(own)):
                self.refit()
            self.show_status()

    def _neighbours(self, config: FitConfig) -> tuple[np.ndarray, ...] | None:
        """The peaks the window's fit subtracts (centres, σ, A), None without deblending."""
        return peak_components(self.peaks, config) if config.deblend else None

    def _load_orbit(self, soundings: pd.DataFrame, orbit: int, quality: str) -> None:
        one = soundings[soundings["orbit"] == orbit].sort_values("distance_km", kind="stable")
        self.orbit = orbit
        self.quality = quality
        self.soundings = one.reset_index(drop=True)
        self._track = None
        self._sources_key = None
        # Frame centres: the track without the footprints' cross-track zig-zag.
        self.track = (
            self.soundings.groupby("distance_km", sort=True)[["latitude", "longitude"]]
            .mean()
            .reset_index()
        )
        self.map.show_soundings(self.soundings)
        self.map.show_sources(self._sources_near(self.soundings))
        self._load_truth()

    def _load_truth(self) -> None:
        """The true plumes of a simulated orbit (with their along-track km), else none."""
        kind = self.data.provenance(self.file)
        simulated = kind == "simulated"
        css = "simulated" if simulated else "real"
        self.badge.value = f"<span class='oco2-badge oco2-badge-{css}'>{kind}</span>"
        self.truth_toggle.layout.display = None if simulated else "none"
        truth = self.data.truth(self.file) if simulated else pd.DataFrame()
        if len(truth):
            truth = truth[truth["orbit"] == self.orbit]
        if len(truth) and len(self.track):
            d = haversine_km(
                truth["crossing_latitude"].to_numpy()[:, None],
                truth["crossing_longitude"].to_numpy()[:, None],
                self.track["latitude"].to_numpy()[None, :],
                self.track["longitude"].to_numpy()[None, :],
            )
            nearest = np.argmin(d, axis=1)
            truth = truth.assign(distance_km=self.track["distance_km"].to_numpy()[nearest])
            truth = truth[d[np.arange(len(truth)), nearest] <= TRUTH_TRACK_KM]
        self.truth = truth.reset_index(drop=True) if len(truth) else pd.DataFrame()
        self._draw_truth()

    def _draw_truth(self) -> None:
        """Show or hide the true plumes on the profile and the map (the "show truth" box)."""
        shown = self.truth_toggle.value and len(self.truth) > 0
        empty = pd.DataFrame(columns=["crossing_latitude", "crossing_longitude"])
        self.map.show_truth(self.truth if shown else empty)
        km = self.truth["distance_km"].to_numpy() - self.centre_km if shown else np.zeros(0)
        self.profile.show_truth(km)

    def track_near(self, centre_km: float, half_span_km: float) -> tuple[np.ndarray, np.ndarray]:
        """Latitudes and longitudes (degrees) of the track within ``half_span_km`` of a point."""
        near = self.track.iloc[
            window_slice(self.track["distance_km"].to_numpy(), centre_km, half_span_km)
        ]
        return near["latitude"].to_numpy(), near["longitude"].to_numpy()

    def _sources_near(self, soundings: pd.DataFrame) -> pd.DataFrame:
        table = self.sources.sources
        lat, lon = soundings["latitude"], soundings["longitude"]
        inside = table["latitude"].between(
            lat.min() - SOURCE_MARGIN_DEG, lat.max() + SOURCE_MARGIN_DEG
        )
        inside &= table["longitude"].between(
            lon.min() - SOURCE_MARGIN_DEG, lon.max() + SOURCE_MARGIN_DEG
        )
        inside &= table["emission_t_per_yr"] >= MIN_MAP_SOURCE_T_PER_YR
        return table[inside].nlargest(MAX_MAP_SOURCES, "emission_t_per_yr")

    def scan(self, redraw_changed_only: bool = False) -> None:
        """Detect the orbit's peaks with the current parameters (as ``oco2explore detect``).

        With ``redraw_changed_only`` (a parameter change on the same orbit) the map
        and the peak list are left alone when the peaks they show did not change.
        """
        config = self.controls.config
        if not len(self.soundings):
            self.peaks = pd.DataFrame()
        elif self.scorer_select.value == "learned" and self.scorer is not None:
            from ..learn import score

            # As `oco2explore detect --scorer learned`: the model's candidates, scored, on
            # the orbit prepared once for them (the window fit's Track too).
            if len(self._probabilities) > MAX_KEPT_PROBABILITIES:
                self._probabilities.clear()
            self.peaks = score(
                self._prepared(self.fit_config(config)), config, self.scorer, self._probabilities
            )
        else:
            self.peaks = scan_orbit(self._prepared(config), config)
        learned = "learned_probability" in self.peaks.columns
        options = []
        for _, p in self.peaks.sort_values("distance_km").iterrows():
            mark = "✔" if p["passed"] else "✘"
            probability = f"  p {p['learned_probability']:4.2f}" if learned else ""
            options.append(
                (
                    f"{mark} {p['distance_km']:8.1f} km  Δ {p['delta_ppm']:5.2f} ppm  "
                    f"σ {p['sigma_km']:5.1f} km  S {p['significance']:6.1f}{probability}  "
                    f"{p['emission_mt_per_yr']:6.2f} Mt/yr",
                    str(p["peak_id"]),
                )
            )
        stem = f"oco2explore_peaks_orbit{self.orbit}"
        old_stem, old_peaks = self._exported
        if stem != old_stem or not self.peaks.equals(old_peaks):
            # Written again only when the table changed (a CSV and a Parquet file per scan).
            self.peaks_export.value = table_links(self.peaks, stem, "orbit's peaks", "oco2-peaks")
            self._exported = (stem, self.peaks)
        if redraw_changed_only and options == list(self.peak_select.options):
            return
        self.map.show_peaks(self.peaks)
        self._busy, busy = True, self._busy
        try:
            self.peak_select.options = options
            self.peak_select.value = None
        finally:
            self._busy = busy

    def jump_to_peak(self, peak_id: str) -> None:
        """Centre the window on a detected peak of this orbit."""
        match = self.peaks[self.peaks["peak_id"].astype(str) == str(peak_id)]
        if match.empty:
            raise InputError(f"peak {peak_id} is not on this orbit")
        # The window goes exactly on the peak's centre: the fit there is the peak's row.
        self.move_to_km(float(match["distance_km"].iloc[0]), exact=True)
        self.map.map.center = self._position(self.centre_km)

    def move_to_latlon(self, lat: float, lon: float) -> None:
        """Snap the window to the sounding nearest to (lat, lon) (degrees) and refit."""
        with self.messages.guard("move window"):
            d = haversine_km(lat, lon, self.soundings["latitude"], self.soundings["longitude"])
            self._move_to(int(np.argmin(d)))

    def move_to_km(self, centre_km: float, exact: bool = False) -> None:
        """Snap the window to the sounding nearest to ``centre_km`` along track and refit.

        With ``exact`` the window is centred on ``centre_km`` itself (a peak's centre)
        and only the handle snaps to the nearest sounding.
        """
        distance = self.soundings["distance_km"].to_numpy()
        self._move_to(int(nearest_index(distance, centre_km)[0]), centre_km if exact else None)

    def _move_to(self, index: int, centre_km: float | None = None) -> None:
        """Put the handle on the ``index``-th sounding of the orbit, centre the window there
        (or on ``centre_km``) and refit."""
        sounding = self.soundings.iloc[index]
        self.centre_km = float(sounding["distance_km"]) if centre_km is None else centre_km
        self.handle_latlon = (float(sounding["latitude"]), float(sounding["longitude"]))
        self.refit()

    # --- the live fit --------------------------------------------------------------------------

    def _prepared(self, config: FitConfig) -> Track:
        """The orbit prepared for fitting (as the scan prepares it), kept while it holds.

        It is prepared again when a field the preparation reads changes
        (:func:`oco2explore.scan.preparation_key`: the coordinate, the estimated noise
        model, the diagnostics of the artefact check).
        """
        if self._track is None or self._track.key != preparation_key(config):
            self._track = prepare_orbit(self.soundings, config)
        return self._track

    def refit(self) -> None:
        """Fit the window with the current parameters and redraw everything that depends on it.

        The fit is :func:`oco2explore.scan.fit_at`, the scan's own window fit: the
        same coordinate, start, subtracted neighbours (the orbit's other peaks) and
        thresholds, so a peak of the list gives its row here.
        """
        config = self.fit_config()
        window = fit_at(self._prepared(config), self.centre_km, config, self.peaks)
        fit = window.fit
        self.fit = fit
        self.row = {**fit.to_dict(), **self._emission(fit, config)}
        self.row.pop("checks", None)
        self.row["neighbours_subtracted"] = window.n_neighbours
        self.row.update(self._learned_at(fit))
        self._draw(window, config)

    def _learned_at(self, fit: FitResult) -> dict[str, Any]:
        """With the learned scorer: the probability and verdict of the orbit's candidate the
        window is on (its centre within the fit's σ of the candidate's), else NaN."""
        if "learned_probability" not in self.peaks.columns or self.scorer is None:
            return {}
        out: dict[str, Any] = {
            "learned_probability": float("nan"),
            "learned_threshold": self.scorer.threshold,
        }
        if len(self.peaks) and np.isfinite(fit.center_km):
            offset = np.abs(self.peaks["distance_km"].to_numpy() - fit.center_km)
            i = int(np.argmin(offset))
            if offset[i] <= max(_float(fit.sigma_km), 1.0):
                out["learned_probability"] = float(self.peaks["learned_probability"].iloc[i])
                out["learned_passed"] = bool(self.peaks["passed"].iloc[i])
                out["learned_reason"] = str(self.peaks["reject_reason"].iloc[i])
        return out

    def _emission(self, fit: FitResult, config: FitConfig) -> dict[str, Any]:
        """Wind, psurf, tcwv at the fitted centre and the emission (as the peak table has them)."""
        at = fit.center_km if np.isfinite(fit.center_km) else self.centre_km
        flux = emissions_at(
            self.soundings,
            [at],
            [fit.amplitude],
            [fit.amplitude_err],
            config.wind_uncertainty_m_per_s,
        ).iloc[0]
        return {k: float(v) for k, v in flux.items()}

    def _draw(self, window: WindowFit, config: FitConfig) -> None:
        half = config.half_width_km
        fit = window.fit
        grid = np.linspace(self.centre_km - half, self.centre_km + half, MODEL_POINTS)
        # Soundings and model in the fit's coordinate; the model holds the subtracted
        # neighbouring peaks.
        curves = (
            (
                (grid - self.centre_km, window.model(grid)),
                (grid - self.centre_km, fit.background(grid)),
            )
            if np.isfinite(fit.amplitude)
            else (None, None)
        )
        peaks_km = (
            self.peaks["distance_km"].to_numpy() - self.centre_km
            if len(self.peaks)
            else np.zeros(0)
        )
        self.profile.show(
            window.x - self.centre_km,
            window.xco2,
            half,
            *curves,
            peaks_km[np.abs(peaks_km) <= half],
        )
        self._draw_truth()
        self.result.value = result_html(self.row, fit.checks, config)
        wind = (self.row.get("windspeed_u"), self.row.get("windspeed_v"))
        self.map.show_window(
            self.handle_latlon,
            np.column_stack(self.track_near(self.centre_km, half)),
            wind if None not in wind else None,
        )
        # Sources are sought around the fitted plume centre, not the handle.
        self._show_sources(
            self._position(fit.center_km if np.isfinite(fit.center_km) else self.centre_km)
        )
        stem = f"oco2explore_fit_{self.orbit}_{self.centre_km:.0f}km"
        self.export.value = download_links(self.record(), stem)
        # The link goes last: tests and benchmarks take its change as "page up to date".
        query = view_query(self.view())
        self.link.value = (
            f"<a class='oco2-deeplink' href='?{html.escape(query)}'>"
            f"link to this view</a> <small><code>?{html.escape(query)}</code></small>"
        )

    def view(self) -> View:
        """What is shown: file, orbit, window centre, parameters and scorer (the deep link)."""
        return View(
            self.file, self.orbit, self.centre_km, self.controls.config, self.scorer_select.value
        )

    def save_profile(self, fmt: str) -> None:
        """Download the profile figure as ``png`` or ``svg`` (drawn by the browser)."""
        name = f"oco2explore_profile_{self.orbit}_{self.centre_km:.0f}km.{fmt}"
        if fmt == "png":
            self.profile.figure.save_png(name)
        else:
            self.profile.figure.save_svg(name)

    def _position(self, km: float) -> tuple[float, float]:
        track = self.track
        lat = float(np.interp(km, track["distance_km"], track["latitude"]))
        lon = float(np.interp(km, track["distance_km"], track["longitude"]))
        return lat, lon

    def _show_sources(self, centre: tuple[float, float]) -> None:
        """Rank the sources of the current fit; kept when the fit's plume did not change (a
        threshold slider changes the verdict, not the plume), so the list is not redrawn."""
        row = self.row
        args = (
            centre[0],
            centre[1],
            _float(row.get("windspeed_u")),
            _float(row.get("windspeed_v")),
        )
        plume = {
            k: _float(row.get(k)) for k in ("sigma_km", "delta_ppm", "wind_perp", "psurf", "tcwv")
        }
        key = (args, tuple(plume.values()))
        if key == self._sources_key:
            return
        self.candidates = nearest_sources(*args, self.sources, top_k=TOP_K_SOURCES, **plume)
        self._sources_key = key
        self.sources_panel.show(self.candidates, plume["delta_ppm"])
        self.map.highlight(None, None)

    def _source_chosen(self, row: pd.Series | None) -> None:
        if row is None:
            self.map.highlight(None, None)
        else:
            self.map.highlight(row["source_latitude"], row["source_longitude"])

    def record(self) -> dict[str, Any]:
        """The current fit as plain data: where, with which parameters, result, checks, sources."""
        fit = self.fit
        return {
            "file": self.file,
            "orbit": self.orbit,
            "centre_km": self.centre_km,
            "link": view_query(self.view()),
            **{k: _plain(v) for k, v in self.row.items()},
            "checks": {k: [_plain(x) for x in v] for k, v in (fit.checks if fit else {}).items()},
            "config": self.controls.config.to_dict(),
            "scorer": self.scorer_label(),
            "sources": [
                {k: _plain(v) for k, v in r.items()}
                for r in self.candidates.to_dict(orient="records")
            ],
        }


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if value is pd.NA:
        return None
    return value


class Explorer:
    """The whole app: an orbit tab and a catalogue tab over one data root.

    Parameters
    ----------
    data : str, Path, DataRoot or None
        Folder, ``swift://container/prefix`` or an opened root; the demo data when
        ``None``.
    inventories : sequence
        Inventory names or files for the sources (default the packaged CoCO2 table).
    config : FitConfig, optional
        Initial fit parameters.
    basemap : bool
        Add online map tiles beneath the packaged outlines.
    """

    def __init__(
        self,
        data: Any = None,
        inventories: tuple[str, ...] = ("coco2",),
        config: FitConfig | None = None,
        basemap: bool = True,
    ) -> None:
        self.messages = Messages()
        self._started: str | None = None
        self._basemap = basemap
        self._catalogue: CatalogueView | None = None
        self._report: SourcesView | None = None
        title = W.HTML("<h3 style='margin:4px 0'>oco2explore — CO₂ hot spots in OCO-2 data</h3>")
        self.header = W.HBox([title], layout=W.Layout(align_items="center"))
        self.help = W.Accordion(children=[W.HTML(HELP)], selected_index=None)
        self.help.set_title(0, "How to use")
        self.help.add_class("oco2-help-panel")
        self.widget = W.VBox([self.header, self.help, self.messages.widget, W.HTML(STYLE)])
        self.widget.add_class("oco2-explorer")
        self.orbit: OrbitView | None = None
        # A data root that cannot be opened leaves a page with the reason, not a traceback.
        with self.messages.guard("open data"):
            self.data = data if isinstance(data, DataRoot) else DataRoot(data)
            self.sources = SourceIndex(load_inventories(list(inventories)))
            self.orbit = OrbitView(self.data, self.sources, self.messages, config, basemap)
            self.header.children = [*self.header.children, self.orbit.badge]
            # The Catalogue and Sources tabs are built when first opened (their maps,
            # figures and lists are ~80 widgets the page would otherwise create and draw
            # before its first view): until then each is an empty box.
            self._tab_boxes = (W.Box(), W.Box())
            self.tabs = W.Tab(children=[self.orbit.widget, *self._tab_boxes])
            self.tabs.titles = ("Orbit", "Catalogue", "Sources")
            self.tabs.observe(self._tab_changed, "selected_index")
            self.widget.children = [*self.widget.children, self.tabs]

    @property
    def catalogue(self) -> CatalogueView:
        """The Catalogue tab's view, built (and put in its tab) on first use."""
        if self._catalogue is None:
            from .catalogue import CatalogueView

            self._catalogue = CatalogueView(
                self.data,
                self.sources,
                self.messages,
                self.orbit.controls,
                self.open_peak,
                self._basemap,
            )
            self._tab_boxes[0].children = [self._catalogue.widget]
        return self._catalogue

    @property
    def report(self) -> SourcesView:
        """The Sources tab's view, built (and put in its tab) on first use."""
        if self._report is None:
            from .sources import SourcesView

            self._report = SourcesView(self.data, self.messages, self.open_peak, self._basemap)
            self._tab_boxes[1].children = [self._report.widget]
        return self._report

    @classmethod
    def from_env(cls, **kwargs: Any) -> Explorer:
        """The explorer on the data root named by ``$OCO2EXPLORE_DATA`` (demo data if unset)."""
        return cls(os.environ.get(DATA_ENV) or None, **kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _tab_changed(self, change: dict) -> None:
        if change["new"] == 1:
            with self.messages.guard("catalogue"):
                self.catalogue.refresh()
        if change["new"] == 2:
            with self.messages.guard("sources"):
                self.report.refresh()

    def start(self, query: str | None = None) -> None:
        """Open the view of a deep link (the Voilà query string), else the default view.

        Calling it again with the same query does nothing, so the notebook may
        call it before and after Voilà hands over the page's query string.
        """
        query = (query or "").lstrip("?")
        if self.orbit is None:  # the page shows why the data root cannot be opened
            self._signal_ready()
            return
        if query == self._started:
            return
        self._started = query
        view, problems = parse_query(query, self.orbit.controls.config)
        with self.messages.guard("open link"):
            if view.file is not None and view.file not in self.data.files:
                problems.append(f"link file {view.file!r} is not in the data root; ignored")
                view = View(None, None, None, view.config, view.scorer)
            self.orbit.open(view)
        if problems:
            self.messages.show("; ".join(problems), "warning")
        source = urllib.parse.parse_qs(query).get("source")
        if source:
            self.tabs.selected_index = 2
            with self.messages.guard("open source"):
                self.report.select(source[-1])
        self._signal_ready()

    @staticmethod
    def _signal_ready() -> None:
        """Create the files named by :data:`READY_ENV` (``serve`` opens the browser) and
        :data:`WARM_ENV` (the server starts the pool's next kernel)."""
        for name in (READY_ENV, WARM_ENV):
            if os.environ.get(name):
                Path(os.environ[name]).touch()

    def open_peak(self, file: str, orbit: int, centre_km: float) -> None:
        """Switch to the orbit tab at a peak (called by the catalogue)."""
        self.tabs.selected_index = 0
        with self.messages.guard("open peak"):
            self.orbit.open(View(file, orbit, centre_km, self.orbit.controls.config))


def _same(a: tuple[np.ndarray, ...] | None, b: tuple[np.ndarray, ...] | None) -> bool:
    """Whether two sets of subtracted peaks are identical."""
    if a is None or b is None:
        return a is b
    return all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
