"""Engine against the seed method on the same simulated days: speed and accuracy.

Usage::

    python benchmarks/bench_scan.py [--days 4] [--seed 0] [--start 2016-08-31]
    python benchmarks/bench_scan.py --calibrate [--days 3]

The first form simulates the days in memory (:func:`oco2explore.simulate.simulate_day`),
keeps the good soundings, runs :func:`oco2explore.scan.detect` (defaults of
:class:`~oco2explore.config.FitConfig`) and the seed procedure
(``seed_baseline.py``), and prints one table:

* soundings/s per core: good soundings over the CPU time of the process, on the
  simulated days (where the seed skips most windows, having fewer than 400
  soundings) and on a dense orbit made of the real Highveld soundings tiled 20
  times (where it fits every 15th sounding);
* recall: share of *target* plumes (truth Δ ≥ 1 ppm, σ ≤ 15 km, at least
  :data:`MIN_GOOD` good soundings within 2σ of the crossing) with a passed peak
  within ``max(2σ_true, 15 km)`` of the crossing point (haversine);
* precision: share of passed peaks within that distance of any simulated crossing;
* peaks per found plume: passed peaks within that distance, averaged over found targets;
* median ``|ln(estimated/true emission)|`` over found targets, the estimate being the
  cross-sectional flux of the nearest passed peak with the *true* cross-track wind,
  the truth the summed emission of all crossings matched to that peak (plumes
  closer than the fitted width cannot be told apart).

``--calibrate`` runs the engine on plume-free days (``plumes=False``) with the
significance threshold off and prints, for candidate thresholds, the passed peaks
per 10,000 km of clear track (track length holding good soundings, in 1 km bins); the
default ``significance_min`` is the smallest threshold giving fewer than one.
No timing is asserted anywhere: this script prints, it does not test.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from seed_baseline import seed_detect

from oco2explore.config import FitConfig
from oco2explore.emission import line_density_kg_per_m
from oco2explore.geo import haversine_km
from oco2explore.scan import BIN_KM, detect
from oco2explore.simulate import simulate_day

#: Good soundings within 2σ of a crossing for a plume to count as observed.
MIN_GOOD = 10
MATCH_MIN_KM = 15.0
#: Real OCO-2 soundings beside the checkout (see tests/conftest.py).
REAL_HIGHVELD = (
    Path(__file__).resolve().parents[2]
    / "shared/data/real/oco2_orbit11522_20160831_highveld_peak.csv"
)


def simulated_days(
    days: int, seed: int, start: str, plumes: bool = True, regions: list[str] | None = None
) -> tuple:
    """Good soundings and truth of ``days`` consecutive simulated days."""
    parts, truths = [], []
    for day in pd.date_range(start, periods=days, freq="D"):
        s, t = simulate_day(day, seed=seed, plumes=plumes, regions=regions)
        parts.append(s[s["xco2_quality_flag"] == 0])
        truths.append(t)
    return pd.concat(parts, ignore_index=True), pd.concat(truths, ignore_index=True)


def clear_track_km(soundings: pd.DataFrame) -> float:
    """Length of track holding good soundings, km (occupied 1 km bins, per orbit)."""
    bins = np.floor(soundings["distance_km"].to_numpy() / BIN_KM).astype(np.int64)
    return float(pd.DataFrame({"o": soundings["orbit"], "b": bins}).drop_duplicates().shape[0])


def score(peaks: pd.DataFrame, truth: pd.DataFrame, line_density: np.ndarray) -> dict:
    """Recall, precision, peaks per found plume and emission error of passed peaks."""
    radius = np.maximum(2.0 * truth["sigma_km"].to_numpy(), MATCH_MIN_KM)
    d = haversine_km(
        peaks["latitude"].to_numpy()[:, None],
        peaks["longitude"].to_numpy()[:, None],
        truth["crossing_latitude"].to_numpy()[None, :],
        truth["crossing_longitude"].to_numpy()[None, :],
    )
    same_orbit = peaks["orbit"].to_numpy()[:, None] == truth["orbit"].to_numpy()[None, :]
    hit = (d <= radius[None, :]) & same_orbit
    target = (
        (truth["delta_ppm"] >= 1.0)
        & (truth["sigma_km"] <= 15.0)
        & (truth["n_good_soundings"] >= MIN_GOOD)
    ).to_numpy()
    found = hit.any(axis=0) & target
    errors = []
    for j in np.flatnonzero(found):
        i = np.flatnonzero(hit[:, j])[np.argmin(d[hit[:, j], j])]
        estimate = line_density[i] * abs(truth["wind_perp"].iloc[j])
        # Plumes closer than the fitted width are one peak: their emissions add.
        true_q = truth["emission_kg_per_s"].to_numpy()[hit[i]].sum()
        errors.append(abs(np.log(estimate / true_q)))
    return {
        "passed peaks": len(peaks),
        "target plumes": int(target.sum()),
        "recall": found.sum() / max(target.sum(), 1),
        "precision": hit.any(axis=1).mean() if len(peaks) else np.nan,
        "peaks per found plume": hit[:, found].sum(axis=0).mean() if found.any() else np.nan,
        "median |ln(est/true Q)|": np.median(errors) if errors else np.nan,
    }


def run_engine(good: pd.DataFrame, config: FitConfig) -> tuple[pd.DataFrame, float]:
    """Peaks and CPU seconds of the engine."""
    t0 = time.process_time()
    peaks = detect(good, config)
    return peaks, time.process_time() - t0


def run_seed(good: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """Peaks and CPU seconds of the seed method."""
    t0 = time.process_time()
    peaks = seed_detect(good)
    return peaks, time.process_time() - t0


def dense_orbit(copies: int = 20) -> pd.DataFrame | None:
    """The real Highveld soundings tiled into one long dense orbit (None if not found).

    500 km of real OCO-2 soundings (~3 per km, one strong plume) repeated
    ``copies`` times along the track: windows hold the ≥ 400 soundings the seed
    needs, so it fits every 15th sounding instead of skipping.
    """
    if not REAL_HIGHVELD.is_file():
        return None
    real = pd.read_csv(REAL_HIGHVELD)
    parts = [real.assign(distance_km=real["distance_km"] + 500.0 * k) for k in range(copies)]
    dense = pd.concat(parts, ignore_index=True)
    n = len(dense)
    return dense.assign(
        orbit=np.int32(11522),
        sounding_id=np.arange(n, dtype=np.int64),
        xco2_uncertainty=0.5,
        windspeed_u_met=-1.6995,
        windspeed_v_met=-1.5996,
        psurf=848.3,
        tcwv=6.14,
    )


def dense_speeds() -> tuple[float, float, int]:
    """Soundings/s per core of engine and seed on :func:`dense_orbit`."""
    dense = dense_orbit()
    if dense is None:
        return np.nan, np.nan, 0
    _, t_engine = run_engine(dense, FitConfig())
    _, t_seed = run_seed(dense)
    return len(dense) / t_engine, len(dense) / t_seed, len(dense)


def benchmark(args: argparse.Namespace) -> None:
    good, truth = simulated_days(args.days, args.seed, args.start)
    engine, t_engine = run_engine(good, FitConfig())
    passed = engine[engine["passed"]].reset_index(drop=True)
    # Line density = emission / |cross-track wind| (the table's own wind), re-scaled below.
    engine_density = (passed["emission_kg_per_s"] / passed["wind_perp"].abs()).to_numpy()
    seed, t_seed = run_seed(good)
    seed_density = (
        line_density_kg_per_m(seed["amplitude"], seed["psurf"], seed["tcwv"])
        if len(seed)
        else np.zeros(0)
    )
    if not len(seed):
        seed = pd.DataFrame(columns=["latitude", "longitude", "orbit"], dtype=float)
    dense_engine, dense_seed, n_dense = dense_speeds()
    rows = {
        "soundings/s per core": (len(good) / t_engine, len(good) / t_seed),
        "  same, dense real orbit": (dense_engine, dense_seed),
        **{
            k: (v, w)
            for (k, v), w in zip(
                score(passed, truth, engine_density).items(),
                score(seed, truth, seed_density).values(),
                strict=True,
            )
        },
    }
    print(f"machine: {platform.processor() or platform.machine()}, {_cpu_name()}")
    print(
        f"{args.days} simulated day(s) from {args.start}, seed {args.seed}: "
        f"{len(good):,} good soundings, {len(truth)} plume crossings; "
        f"dense real orbit: {n_dense:,} soundings"
    )
    print(f"{'':26s} {'engine':>12s} {'seed method':>12s}")
    for name, (a, b) in rows.items():
        print(f"{name:26s} {_fmt(a):>12s} {_fmt(b):>12s}")


def calibrate(args: argparse.Namespace) -> None:
    good, _ = simulated_days(args.days, args.seed, args.start, plumes=False)
    default = FitConfig()
    peaks, _ = run_engine(good, default.replace(significance_min=None))
    peaks = peaks[peaks["passed"]]
    # Significance over the width factor of the threshold: a peak passes a
    # threshold t when this ratio is at least t.
    ratio = np.sort(
        [
            row.significance
            / default.replace(significance_min=1.0).significance_limit(row.sigma_km)
            for row in peaks.itertuples()
        ]
    )[::-1]
    per = clear_track_km(good) / 10_000.0
    print(f"{args.days} plume-free day(s): {clear_track_km(good):,.0f} km of clear track")
    print(f"significance_scale_km = {default.significance_scale_km}")
    print(f"{'significance_min':>16s} {'false peaks / 10,000 km':>24s}")
    for threshold in (10, 15, 20, 25, 30, 35, 40, 50, 60, 80, 100):
        print(f"{threshold:16d} {np.count_nonzero(ratio >= threshold) / per:24.2f}")
    allowed = int(np.ceil(per)) - 1  # most false peaks with fewer than one per 10,000 km
    need = ratio[allowed] if ratio.size > allowed else 0.0
    print(f"smallest threshold with < 1 false peak per 10,000 km: > {need:.1f}")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def _fmt(v: float) -> str:
    if isinstance(v, (int, np.integer)):
        return f"{v:,d}"
    if not np.isfinite(v):
        return "—"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", default="2016-08-31")
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args()
    (calibrate if args.calibrate else benchmark)(args)


if __name__ == "__main__":
    main()
