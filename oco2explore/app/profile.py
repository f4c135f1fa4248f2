"""The profile plot: XCO2 against along-track distance in the window, with the live fit."""

from __future__ import annotations

import contextlib

import bqplot as bq
import ipywidgets as W
import numpy as np

#: Points on which the fitted model is drawn.
MODEL_POINTS = 241
#: The profile's legend, drawn above the plot.
LEGEND = (
    "<div class='oco2-legend-line'>"
    "<span style='color:#31688e'>●</span> soundings &nbsp;"
    "<span style='color:#e53935'>━</span> Gaussian + background fit &nbsp;"
    "<span style='color:#333'>╌</span> background &nbsp;"
    "<span style='color:#9e9e9e'>│</span> window &nbsp;"
    "<span style='color:#e53935'>▼</span> peaks &nbsp;"
    "<span style='color:#00c853'>◆</span> true plumes</div>"
)


class ProfilePlot:
    """bqplot figure of one window, x in km from the window centre.

    Marks: the soundings (dots), the Gaussian + background fit (red line), the
    background alone (dashed), the window edges (grey verticals), the orbit's
    detected peaks inside the view (triangles at the top) and, on simulated days when
    asked, the true plumes (green diamonds at the bottom). The legend is a line of
    HTML above the plot (:attr:`widget`), so it never covers the data.
    """

    def __init__(self) -> None:
        self.x_scale = bq.LinearScale()
        self.y_scale = bq.LinearScale()
        scales = {"x": self.x_scale, "y": self.y_scale}
        # The soundings: markers of a Lines mark whose line is not drawn (stroke width 0).
        # bqplot draws each point of a Scatter as a group, a path and a label, each one of a
        # Lines' markers as one path: 754 soundings of the real pass's window made 2,262
        # SVG elements, 70 % of the page's, created at its first view and at every window.
        self.points = bq.Lines(
            x=np.zeros(0),
            y=np.zeros(0),
            scales=scales,
            marker="circle",
            marker_size=10,
            colors=["#31688e"],
            opacities=[0.6],
            stroke_width=0,
        )
        self.model = bq.Lines(
            x=np.zeros(0),
            y=np.zeros(0),
            scales=scales,
            colors=["#e53935"],
            stroke_width=2.5,
        )
        self.background = bq.Lines(
            x=np.zeros(0),
            y=np.zeros(0),
            scales=scales,
            colors=["#333333"],
            line_style="dashed",
        )
        self.edges = bq.Lines(
            x=np.zeros((2, 2)), y=np.zeros((2, 2)), scales=scales, colors=["#9e9e9e"]
        )
        self.peaks = bq.Scatter(
            x=np.zeros(0),
            y=np.zeros(0),
            scales=scales,
            marker="triangle-down",
            colors=["#e53935"],
            default_size=64,
        )
        self.truth = bq.Scatter(
            x=np.zeros(0),
            y=np.zeros(0),
            scales=scales,
            marker="diamond",
            colors=["#00c853"],
            default_size=80,
        )
        axes = [
            bq.Axis(scale=self.x_scale, label="along-track distance from the window centre (km)"),
            bq.Axis(
                scale=self.y_scale,
                side="left",
                label="XCO2 (ppm)",
                label_offset="48px",
                tick_format=".1f",
            ),
        ]
        self.figure = bq.Figure(
            marks=[self.points, self.background, self.model, self.edges, self.peaks, self.truth],
            axes=axes,
            fig_margin={"top": 20, "bottom": 45, "left": 70, "right": 15},
            layout=W.Layout(height="270px", width="100%"),
            animation_duration=0,
        )
        self.figure.add_class("oco2-profile")
        self.legend = W.HTML(LEGEND)
        self.legend.add_class("oco2-profile-legend")
        self.widget = W.VBox([self.legend, self.figure], layout=W.Layout(width="100%"))
        self._lo_pad = (0.0, 0.0)  # lower y limit and margin of the last window drawn, ppm

    def _held(self, *widgets: W.Widget) -> contextlib.ExitStack:
        """Hold the sync of the figure and of ``widgets``: each sends its changes in one
        message (x and y of a mark together, a scale's min and max together), so the browser
        redraws a mark once per change, not once per trait."""
        stack = contextlib.ExitStack()
        for widget in (self.figure, self.edges, self.peaks, *widgets):
            stack.enter_context(widget.hold_sync())
        return stack

    def show(
        self,
        x_km: np.ndarray,
        xco2: np.ndarray,
        half_width_km: float,
        model: tuple[np.ndarray, np.ndarray] | None,
        background: tuple[np.ndarray, np.ndarray] | None,
        peaks_km: np.ndarray,
    ) -> None:
        """Redraw the window.

        Parameters
        ----------
        x_km, xco2 : ndarray
            Soundings in the window: km from the centre, ppm.
        half_width_km : float
            Window half-width, km (the edges are drawn at ±half_width_km).
        model, background : (x_km, ppm) or None
            Fitted curves on a fine grid; ``None`` when the fit failed.
        peaks_km : ndarray
            Positions of detected peaks inside the window, km from the centre.
        """
        finite = xco2[np.isfinite(xco2)]
        lo, hi = (float(np.min(finite)), float(np.max(finite))) if finite.size else (0.0, 1.0)
        pad = max(0.05 * (hi - lo), 0.2)
        lo, hi = lo - pad, hi + pad
        with self._held(self.x_scale, self.y_scale, self.points, self.model, self.background):
            self.x_scale.min, self.x_scale.max = -float(half_width_km), float(half_width_km)
            self.y_scale.min, self.y_scale.max = lo, hi
            self.points.x, self.points.y = x_km, xco2
            empty = (np.zeros(0), np.zeros(0))
            self.model.x, self.model.y = model if model is not None else empty
            self.background.x, self.background.y = background if background is not None else empty
            self.edges.x = np.array([[-half_width_km] * 2, [half_width_km] * 2], dtype=float)
            self.edges.y = np.array([[lo, hi], [lo, hi]])
            self.peaks.x = np.asarray(peaks_km, dtype=float)
            self.peaks.y = np.full(len(peaks_km), hi - 0.5 * pad)
        self._lo_pad = (lo, pad)

    def show_truth(self, truth_km: np.ndarray) -> None:
        """Mark true plumes at ``truth_km`` (km from the window centre; empty hides them)."""
        lo, pad = self._lo_pad
        half = float(self.x_scale.max or 0.0)
        inside = np.asarray(truth_km, dtype=float)
        inside = inside[np.abs(inside) <= half]
        with self._held(self.truth):
            self.truth.x = inside
            self.truth.y = np.full(len(inside), lo + 0.5 * pad)
