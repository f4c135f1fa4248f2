"""Scoring against simulated truth (oco2explore.truth) on small hand-made tables.

The end-to-end scoring of simulated days is tested in tests/test_benchmarks.py.
"""

import numpy as np
import pandas as pd
import pytest

from oco2explore.geo import destination
from oco2explore.truth import (
    MIN_SIDE,
    attribution_score,
    detection_score,
    evaluate_attribution,
    hits,
    is_target,
    truth_as_peaks,
)


def truth_table() -> pd.DataFrame:
    """Three crossings of orbit 1: a target, a weak one and a broad one; one on orbit 2."""
    return pd.DataFrame(
        {
            "plume_id": ["a", "b", "c", "d"],
            "source_id": ["S1", "S2", "S3", "S4"],
            "emission_t_per_yr": [10e6, 1e6, 8e6, 6e6],
            "emission_kg_per_s": [317.0, 31.7, 253.0, 190.0],
            "orbit": [1, 1, 1, 2],
            "crossing_latitude": [-26.0, -25.0, -24.0, -26.0],
            "crossing_longitude": [29.0, 29.0, 29.0, 29.0],
            "delta_ppm": [2.0, 0.5, 2.0, 3.0],
            "sigma_km": [3.0, 3.0, 20.0, 4.0],
            "windspeed_u": [3.0, 3.0, 3.0, 3.0],
            "windspeed_v": [0.0, 0.0, 0.0, 0.0],
            "wind_perp": [3.0, 3.0, 3.0, 3.0],
            "n_left": [MIN_SIDE, 9, 9, MIN_SIDE - 1],
            "n_right": [5, 9, 9, 9],
            "signal": [150.0, 20.0, 300.0, 400.0],
        }
    )


def test_targets_are_strong_narrow_observed_crossings():
    assert is_target(truth_table()).tolist() == [True, False, False, False]


def test_a_peak_hits_crossings_of_its_own_orbit_within_the_radius():
    truth = truth_table()
    lat, lon = destination(-26.0, 29.0, 90.0, 10.0)  # 10 km east of crossings a and d
    peaks = pd.DataFrame({"orbit": [1], "latitude": [lat], "longitude": [lon]})
    d, hit = hits(peaks, truth)
    assert d[0, 0] == pytest.approx(10.0, rel=1e-6)
    assert hit.tolist() == [[True, False, False, False]]  # d is on orbit 2


def test_detection_score_of_a_perfect_and_a_false_peak():
    truth = truth_table()
    on = {"orbit": 1, "latitude": -26.0, "longitude": 29.0, "sigma_km": 3.0}
    off = {"orbit": 1, "latitude": -27.0, "longitude": 29.0, "sigma_km": 3.0}
    density = np.array([317.0 / 3.0, 1.0])  # the exact emission at the true cross wind
    score = detection_score(pd.DataFrame([on, off]), truth, density)
    assert score["target plumes"] == 1 and score["recall"] == 1.0
    assert score["precision"] == 0.5
    assert score["peaks per found plume"] == 1.0
    assert score["median |ln(est/true Q)|"] == pytest.approx(0.0, abs=1e-12)
    assert score["  signal >= 100 (n)"] == 1 and score["  signal >= 100 recall"] == 1.0


def test_attribution_of_the_truth_as_peaks():
    truth = truth_table()
    peaks = truth_as_peaks(truth)
    assert list(peaks["peak_id"]) == ["a#0", "b#1", "c#2", "d#3"]
    matched = peaks[["peak_id", "orbit", "latitude", "longitude", "delta_ppm"]].assign(
        source_id=["S1", "S9", "S3", "S4"], rank=[1, 1, 2, 4]
    )
    evaluated = evaluate_attribution(matched, truth, max_distance_km=1e-3)
    assert evaluated["true_source_id"].tolist() == ["S1", "S2", "S3", "S4"]
    assert evaluated["true_rank"].iloc[0] == 1
    assert pd.isna(evaluated["true_rank"].iloc[1])  # S2 is not a candidate of b
    assert evaluated["explained_fraction"].tolist() == pytest.approx([1.0] * 4)
    score = attribution_score(evaluated, 5e6)  # a, c, d
    assert score == {
        "n": 3,
        "rank1": round(1 / 3, 3),
        "top3": round(2 / 3, 3),
        "not_candidate": 0.0,
    }


def test_clear_track_counts_occupied_bins_per_orbit():
    from oco2explore.truth import clear_track_km

    soundings = pd.DataFrame(
        {"orbit": [1, 1, 1, 1, 2, 2], "distance_km": [0.1, 0.9, 1.5, 10.2, 0.5, 0.7]}
    )
    assert clear_track_km(soundings) == 4.0  # orbit 1: bins 0, 1, 10; orbit 2: bin 0
    assert clear_track_km(soundings, bin_km=5.0) == 15.0  # orbit 1: bins 0, 2; orbit 2: bin 0
