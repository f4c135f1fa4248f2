"""Tests of oco2explore.app.profile: the window's profile, its legend and the true plumes."""

from __future__ import annotations

import numpy as np

from oco2explore.app.profile import ProfilePlot


def test_profile_draws_the_window_and_only_the_true_plumes_inside_it():
    plot = ProfilePlot()
    x = np.linspace(-100, 100, 50)
    plot.show(x, 400 + np.exp(-(x**2) / 200), 100.0, None, None, np.array([0.0]))
    assert plot.x_scale.min == -100 and plot.x_scale.max == 100
    assert "true plumes" in plot.legend.value and plot.figure.marks[0].labels == []
    plot.show_truth(np.array([-30.0, 250.0]))
    assert plot.truth.x.tolist() == [-30.0]
    assert plot.truth.y[0] < plot.y_scale.min + 0.5  # at the bottom, below the data
    plot.show_truth(np.zeros(0))
    assert len(plot.truth.x) == 0
