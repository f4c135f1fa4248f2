"""Source attribution: matching throughput and rank-1 accuracy on simulated truth.

Prints two tables:

1. throughput of :func:`oco2explore.match.match_peaks` for 10³–10⁵ peaks against
   the packaged CoCO2 sites (12,310 sources; peaks placed 0–80 km from random
   sites with random winds, so every peak has candidates);
2. how often the true source is rank 1 on simulated days over the big-emitter
   regions, for sources ≥ 5 Mt/yr: with the truth crossings as peaks (exact
   position, wind and width), and with the peaks found by
   :func:`oco2explore.scan.detect` in the simulated soundings.

Run: ``.venv/bin/python benchmarks/bench_match.py [--days 300] [--peaks 100000]``
(300 days: ~2 min on 2 cores; peaks then number a few dozen).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from oco2explore.config import FitConfig
from oco2explore.geo import destination
from oco2explore.inventory import load_inventory
from oco2explore.match import MatchConfig, SourceIndex, match_peaks
from oco2explore.truth import attribution_score, evaluate_attribution, truth_as_peaks

MIN_EMISSION_T_PER_YR = 5e6


def synthetic_peaks(sources: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` peaks 0–80 km from random sources with random winds and plume sizes."""
    rng = np.random.default_rng(seed)
    site = rng.integers(0, len(sources), n)
    lat, lon = destination(
        sources["latitude"].to_numpy()[site],
        sources["longitude"].to_numpy()[site],
        rng.uniform(0, 360, n),
        rng.uniform(0, 80, n),
    )
    return pd.DataFrame(
        {
            "peak_id": np.arange(n).astype(str),
            "orbit": 0,
            "latitude": lat,
            "longitude": lon,
            "windspeed_u": rng.normal(0, 4, n),
            "windspeed_v": rng.normal(0, 4, n),
            "sigma_km": rng.uniform(2, 20, n),
            "delta_ppm": rng.lognormal(0, 0.7, n),
        }
    )


def throughput(sources: pd.DataFrame, sizes: list[int]) -> pd.DataFrame:
    rows = []
    t0 = time.perf_counter()
    index = SourceIndex(sources)
    build_s = time.perf_counter() - t0
    for n in sizes:
        peaks = synthetic_peaks(sources, n)
        t0 = time.perf_counter()
        matched = match_peaks(peaks, index, top_k=5)
        elapsed = time.perf_counter() - t0
        rows.append(
            {
                "peaks": n,
                "sources": len(index),
                "index_build_s": round(build_s, 3),
                "match_s": round(elapsed, 3),
                "peaks_per_s": round(n / elapsed),
                "rows": len(matched),
                "no_candidate": int(matched["rank"].isna().sum()),
            }
        )
    return pd.DataFrame(rows)


def simulated_days(days: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Good soundings and truth of ``days`` simulated days over the big-emitter regions."""
    from oco2explore.simulate import REGIONS, simulate_day
    from oco2explore.soundings import normalise_soundings

    soundings, truths = [], []
    for day in pd.date_range("2016-08-31", periods=days):
        s, t = simulate_day(day, seed=seed, regions=list(REGIONS))
        # distance_km restarts every day; recomputed below per orbit over the whole run.
        soundings.append(s[s["xco2_quality_flag"] == 0].drop(columns="distance_km"))
        if len(t):
            truths.append(t)
    return normalise_soundings(pd.concat(soundings, ignore_index=True)), pd.concat(
        truths, ignore_index=True
    )


def summary(peaks: str, config: str, evaluated: pd.DataFrame) -> dict:
    scores = attribution_score(evaluated, MIN_EMISSION_T_PER_YR)
    return {"peaks": peaks, "radius": config, "n (>= 5 Mt/yr)": scores.pop("n"), **scores}


def accuracy(sources: pd.DataFrame, days: int, seed: int) -> pd.DataFrame:
    soundings, truth = simulated_days(days, seed)
    index = SourceIndex(sources)
    configs = {"default": MatchConfig(), "fixed 150 km": MatchConfig(radius_km=150.0)}
    sets = {
        "truth crossings": truth,
        "truth crossings >= 1 ppm": truth[truth["delta_ppm"] >= 1.0],
    }
    rows = []
    for label, subset in sets.items():
        for name, config in configs.items():
            # Each crossing is its own peak: evaluate against its own source only.
            matched = match_peaks(truth_as_peaks(subset), index, config=config)
            evaluated = evaluate_attribution(matched, subset, max_distance_km=1e-3)
            rows.append(summary(label, name, evaluated))
    try:
        from oco2explore.scan import detect
    except ImportError:
        return pd.DataFrame(rows)
    peaks = detect(soundings, FitConfig())
    peaks = peaks[peaks["passed"].astype(bool)]
    for name, config in configs.items():
        evaluated = evaluate_attribution(match_peaks(peaks, index, config=config), truth)
        rows.append(summary(f"detected ({len(peaks)} passed)", name, evaluated))
        explained = evaluated[evaluated["explained_fraction"] >= 0.5]
        rows.append(summary("detected, >= 50 % from the plume", name, explained))
        young = evaluated[evaluated["true_plume_age_h"] <= MatchConfig().max_plume_age_h]
        rows.append(summary("detected, plume age <= 12 h", name, young))
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=300, help="simulated days (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--peaks", type=int, default=100_000, help="largest peak count")
    args = parser.parse_args()
    sources = load_inventory("coco2")
    sizes = [n for n in (1_000, 10_000, 100_000) if n < args.peaks] + [args.peaks]
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print("Matching throughput (top_k=5)")
        print(throughput(sources, sizes).to_string(index=False))
        print(f"\nAttribution on {args.days} simulated days (seed {args.seed})")
        print(accuracy(sources, args.days, args.seed).to_string(index=False))


if __name__ == "__main__":
    main()
