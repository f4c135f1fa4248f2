"""The independent cases of benchmarks/bench_tracks.py: physics of the plumes and the scoring."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_tracks  # noqa: E402


def test_a_plume_carries_its_emission_across_the_track():
    """Mass balance: Q = U_perp · ∫ΔΩ ds over a crossing, whatever the angle."""
    rng = np.random.default_rng(0)
    s = np.arange(-60.0, 60.0, 0.05)
    df = pd.DataFrame({"distance_km": s, "cross_km": 0.0, "xco2": 400.0})
    row = bench_tracks.add_plume(df, rng, 0.0, 5.0, np.radians(40.0))
    delta_ppm = df["xco2"].to_numpy() - 400.0
    column = delta_ppm * 1e-6 / bench_tracks.M_RATIO * (bench_tracks.P_SURF_PA / bench_tracks.G)
    line_density = column.sum() * 50.0  # kg/m² · m = kg/m along the track
    u_perp = 5.0 * np.sin(np.radians(40.0))
    assert line_density * u_perp == pytest.approx(row["q"], rel=0.02)


def test_truth_as_peaks_scores_perfectly_and_the_oracle_ranks_targets():
    df, truth = bench_tracks.make_case("city", 1, False, seed=3)
    assert len(truth) == 3 and (truth["oracle"] > 0).all()
    peaks = pd.DataFrame(
        {"orbit": truth["orbit"], "distance_km": truth["s0"] + 2.0, "passed": True}
    )
    score = bench_tracks.score(peaks, truth, bench_tracks.clear_track_km(df))
    assert score["recall"] == 1.0 and score["precision"] == 1.0 and score["false"] == 0.0
    off = peaks.assign(distance_km=peaks["distance_km"] + 500.0)
    assert bench_tracks.score(off, truth, 1e4)["precision"] == 0.0
    # The oracle of a dome without noise correlation is Σ(Δ ⊥ line)²/u²: positive, and
    # far above 60 for a 1.5–3.5 ppm dome seen by hundreds of soundings.
    assert (truth["oracle"] > 60.0).any()


def test_plume_free_tracks_have_no_targets_and_clear_gaps():
    df, truth = bench_tracks.make_case("plume-free", 2, True, seed=1)
    assert truth.empty
    km = bench_tracks.clear_track_km(df)
    assert 0.3 * 2 * bench_tracks.TRACK_KM < km < 0.9 * 2 * bench_tracks.TRACK_KM
