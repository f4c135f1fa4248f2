"""The scoring of benchmarks/bench_scan.py (oco2explore.truth) and its oracle ceiling.

The benchmark's numbers go into the README and the closing notes, so its scoring is
tested on two simulated days (8 targets, most of them at the Highveld on orbit 11522)
against peak tables whose right answers are known: the truth itself, and the truth
with one peak moved off the track.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_scan  # noqa: E402

from oco2explore.truth import MIN_SIDE, detection_score, is_target  # noqa: E402


@pytest.fixture(scope="module")
def days() -> tuple[pd.DataFrame, pd.DataFrame]:
    return bench_scan.simulated_days(2, [0], "2016-08-31")


def truth_peaks(truth: pd.DataFrame) -> pd.DataFrame:
    """A peak table with one peak exactly on every target crossing."""
    target = truth[is_target(truth)]
    return pd.DataFrame(
        {
            "orbit": target["orbit"].to_numpy(),
            "latitude": target["crossing_latitude"].to_numpy(),
            "longitude": target["crossing_longitude"].to_numpy(),
            "sigma_km": target["sigma_km"].to_numpy(),
        }
    )


def test_targets_are_observed_strong_narrow_crossings(days):
    _, truth = days
    target = is_target(truth)
    assert target.sum() >= 3
    rows = truth[target]
    assert (rows["delta_ppm"] >= 1.0).all() and (rows["sigma_km"] <= 15.0).all()
    assert (rows[["n_left", "n_right"]] >= MIN_SIDE).all().all()
    assert (rows["signal"] > 0).all()


def test_score_of_the_truth_is_perfect_and_an_off_track_peak_costs_precision(days):
    _, truth = days
    peaks = truth_peaks(truth)
    density = np.ones(len(peaks))
    perfect = detection_score(peaks, truth, density)
    assert perfect["recall"] == 1.0
    assert perfect["precision"] == 1.0
    assert perfect["peaks per found plume"] >= 1.0
    moved = peaks.copy()
    moved.loc[0, "latitude"] += 1.0  # ~111 km away from any crossing of that orbit
    off = detection_score(moved, truth, density)
    n = len(peaks)
    assert off["precision"] == pytest.approx((n - 1) / n)


def test_oracle_follows_the_signal_and_counts_what_the_engine_finds(days):
    good, truth = days
    config = bench_scan.FitConfig()
    oracle = bench_scan.oracle_significance(good, truth, 0.0, config)
    signal = truth.loc[is_target(truth), "signal"].to_numpy()
    assert oracle.shape == signal.shape
    # White noise and the exact template: the oracle's Δχ² is the signal plus noise.
    rank = pd.Series(oracle).rank().corr(pd.Series(signal).rank())
    assert rank > 0.8
    strong = signal > 400
    assert np.all(oracle[strong] > config.significance_min)
    line = bench_scan.oracle_line(good, truth, 0.0, truth_peaks(truth))
    detectable = int(
        np.count_nonzero(
            oracle
            >= [config.significance_limit(s) for s in truth.loc[is_target(truth), "sigma_km"]]
        )
    )
    assert f"the engine finds {detectable} of those {detectable} (1.00)" in line
    nothing = bench_scan.oracle_line(good, truth, 0.0, truth_peaks(truth).iloc[:0])
    assert f"the engine finds 0 of those {detectable} (0.00)" in nothing
