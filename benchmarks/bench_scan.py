"""Engine against the seed method on the same simulated days: speed and accuracy.

Usage::

    python benchmarks/bench_scan.py [--days 4] [--seeds 0 1] [--start 2016-08-31] [--list]
    python benchmarks/bench_scan.py --calibrate [--days 30] [--seeds 0 1]

Either form takes ``--correlated-noise``: every simulated day (the plume run and its
plume-free twin alike, so the enhancement stays exact) then carries the real-like
along-track correlated error (:data:`oco2explore.simulate.REAL_CORRELATED_ERROR_PPM`
rms, :data:`oco2explore.simulate.REAL_CORRELATION_KM` correlation length) on top of
the white noise; the header line names the noise model.

The first form simulates the days in memory (:func:`oco2explore.simulate.simulate_day`),
computes ``distance_km`` over the whole run (an orbit crossing midnight UTC is split
between two days: per-day distances would overlap), keeps the good soundings, runs
:func:`oco2explore.scan.detect` in the :data:`VARIANTS` (defaults of
:class:`~oco2explore.config.FitConfig`, which scan along the wind-aligned coordinate
and subtract neighbouring enhancements; without that deblending; along
``distance_km`` as the seed did; the white-noise Δχ² statistic with its own
threshold 50 instead of the one that knows the correlated error) and the
seed procedure (``seed_baseline.py``, skipped with ``--no-seed``), and prints one table.
Several seeds are pooled (orbit numbers of the k-th seed are offset by k·:data:`SEED_ORBIT_OFFSET`).
``--list`` also prints every missed target plume and every false passed peak of the
default engine, with what the engine made of it (nearest refit: offset, σ,
significance, reject reason).

Targets, honestly counted (the bench prints each count):

* a *target* plume is a truth crossing with Δ ≥ 1 ppm and σ ≤ 15 km that is
  *observed*: at least :data:`MIN_SIDE` good soundings in each of [−2σ, 0] and
  [0, 2σ] along the track around the crossing (the crossing's along-track position
  is that of the nearest written sounding; a crossing with no written sounding
  within max(2σ, 5 km) is under clouds). Truth ``n_good_soundings`` (good soundings
  within 2σ *in space*) is not used: the 8 footprints span 9 km across the track,
  so a narrow plume crossing at an angle is seen by soundings farther than 2σ;
* every target also gets its *signal* ``Σ(enhancement/uncertainty)²`` over the good
  soundings within ±4σ (the enhancement is the plume run minus the plume-free run
  with the same seed: same noise, clouds and background); recall is also printed
  by signal class (a plume with signal below ~25 is below the noise for any method);
* a *recall ceiling* line: the share of targets an oracle would pass at the engine's
  threshold, knowing each crossing's position, its exact enhancement and the noise
  covariance, with the other plumes removed (:func:`oracle_significance`): no
  detector with that threshold, which must search positions and widths and
  estimate the background and noise, can beat it; the same line says how many of
  the targets the oracle passes at the σ-scaled threshold the engine finds (the
  part of the gap that is the engine's);

the table rows:

* soundings/s per core: good soundings over the CPU time of the process, on the
  simulated days (where the seed skips most windows, having fewer than 400
  soundings) and on a dense orbit made of the real Highveld soundings tiled 20
  times (where it fits every 15th sounding);
* recall: share of target plumes with a passed peak within ``max(2σ_true, 15 km)``
  of the crossing point (haversine);
* precision: share of passed peaks within that distance of any simulated crossing;
* peaks per found plume: passed peaks within that distance, averaged over found targets;
* median ``|ln(estimated/true emission)|`` over found targets, the estimate being the
  cross-sectional flux of the nearest passed peak with the *true* cross-track wind,
  the truth the summed emission of the target and of the other crossings matched to
  that peak within 2σ of its fitted width (plumes that close are inside the one
  Gaussian and cannot be told apart; farther ones are separate bumps outside its
  area).

``--calibrate`` runs each variant on plume-free days (``plumes=False``) with the
significance threshold off and prints, for candidate thresholds, the passed peaks
per 10,000 km of clear track (track length holding good soundings, in 1 km bins),
in total and by fitted width; then the passed peaks of the variant as configured
(fits with σ stuck on ``sigma_min_km``, rejected when the threshold is off, pass
there at :func:`oco2explore.fit.unresolved_factor` × the threshold).
No timing is asserted anywhere: this script prints, it does not test.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from seed_baseline import seed_detect

from oco2explore.config import FitConfig
from oco2explore.emission import line_density_kg_per_m
from oco2explore.fit import gls_chi2
from oco2explore.scan import detect
from oco2explore.simulate import (
    REAL_CORRELATED_ERROR_PPM,
    REAL_CORRELATION_KM,
    simulate_day,
)
from oco2explore.soundings import add_distance_km
from oco2explore.truth import (
    MIN_SIDE,
    clear_track_km,
    detection_score,
    hits,
    is_target,
    observability,
)

#: Orbit-number offset between pooled seeds.
SEED_ORBIT_OFFSET = 100_000
#: Real OCO-2 soundings beside the checkout, or in ``$OCO2EXPLORE_REAL_DATA`` (see
#: tests/conftest.py).
REAL_HIGHVELD = (
    Path(
        os.environ.get("OCO2EXPLORE_REAL_DATA")
        or Path(__file__).resolve().parents[2] / "shared/data/real"
    )
    / "oco2_orbit11522_20160831_highveld_peak.csv"
)


def simulated_days(
    days: int,
    seeds: list[int],
    start: str,
    plumes: bool = True,
    correlated_error_ppm: float = 0.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Good soundings and truth (with observability columns) of consecutive simulated days.

    With ``plumes`` the plume-free run of the same seed gives each good sounding's
    plume ``enhancement`` (ppm) and each crossing :func:`oco2explore.truth.observability` columns.
    ``correlated_error_ppm`` (ppm rms, :data:`REAL_CORRELATION_KM` long) goes to every
    :func:`~oco2explore.simulate.simulate_day` call, the plume-free twin included.
    """
    noise = {"correlated_error_ppm": correlated_error_ppm, "correlation_km": REAL_CORRELATION_KM}
    goods, truths = [], []
    for k, seed in enumerate(seeds):
        parts, twins, truth = [], [], []
        for day in pd.date_range(start, periods=days, freq="D"):
            s, t = simulate_day(day, seed=seed, plumes=plumes, **noise)
            parts.append(s.drop(columns="distance_km"))
            truth.append(t)
            if plumes:
                twins.append(simulate_day(day, seed=seed, plumes=False, **noise)[0]["xco2"])
        soundings = pd.concat(parts, ignore_index=True)
        if plumes:
            soundings["enhancement"] = soundings["xco2"] - pd.concat(twins, ignore_index=True)
        soundings["orbit"] += np.int32(k * SEED_ORBIT_OFFSET)
        truth = pd.concat(truth, ignore_index=True)
        truth["orbit"] += k * SEED_ORBIT_OFFSET
        # One distance per orbit over the whole run (orbits cross midnight).
        soundings = add_distance_km(soundings)
        if plumes:
            truth = observability(truth, soundings)
        goods.append(soundings[soundings["xco2_quality_flag"] == 0])
        truths.append(truth)
    return pd.concat(goods, ignore_index=True), pd.concat(truths, ignore_index=True)


def oracle_significance(
    good: pd.DataFrame, truth: pd.DataFrame, rms_ppm: float, config: FitConfig
) -> np.ndarray:
    """Δχ² of each target for a detector that knows everything but the noise draw.

    For every target crossing: the line + ``A``·(its exact simulated enhancement
    within ±4σ) against the line alone, by generalised least squares under the
    simulated noise covariance (the uncertainties, plus ``rms_ppm`` correlated over
    :data:`REAL_CORRELATION_KM`), on the ``half_width_km`` window around the
    crossing with every *other* plume's enhancement removed, and *not* divided by
    a reduced χ² (the noise is known). No position, width or background to search,
    no other checks: a bound no detector with the same threshold can beat.
    """
    target = truth[is_target(truth)]
    by_orbit = good.groupby("orbit").indices
    out = np.zeros(len(target))
    for j, row in enumerate(target.itertuples()):
        orb = good.iloc[by_orbit[row.orbit]]
        d = orb["distance_km"].to_numpy()
        win = np.abs(d - row.crossing_km) <= config.half_width_km
        t = d[win] - row.crossing_km
        enh = orb["enhancement"].to_numpy()[win]
        inside = np.abs(t) <= 4.0 * row.sigma_km
        y = orb["xco2"].to_numpy()[win] - np.where(inside, 0.0, enh)
        design = np.column_stack([t, np.ones_like(t), np.where(inside, enh, 0.0)])
        var = orb["xco2_uncertainty"].to_numpy()[win] ** 2
        chi2, _ = gls_chi2(design, y - y.mean(), var, d[win], rms_ppm, REAL_CORRELATION_KM)
        out[j] = chi2[2] - chi2[3]
    return out


def oracle_line(
    good: pd.DataFrame, truth: pd.DataFrame, rms_ppm: float, passed: pd.DataFrame
) -> str:
    """The recall ceiling of :func:`oracle_significance`, and the engine's recall under it.

    ``passed`` are the engine's passed peaks; the line also gives how many of the
    targets the oracle passes at the σ-scaled threshold they lie on.
    """
    config = FitConfig()
    delta_chi2 = oracle_significance(good, truth, rms_ppm, config)
    target = is_target(truth)
    sigma = truth.loc[target, "sigma_km"].to_numpy()
    flat = np.mean(delta_chi2 >= config.significance_min)
    detectable = delta_chi2 >= [config.significance_limit(s) for s in sigma]
    found = (
        hits(passed, truth)[1].any(axis=0)[target] if len(passed) else np.zeros(sigma.size, bool)
    )
    n_detectable = np.count_nonzero(detectable)
    n_found = np.count_nonzero(found & detectable)
    return (
        f"recall ceiling (known position, shape and noise; other plumes removed): "
        f"Δχ² ≥ {config.significance_min:g} for {flat:.2f} of the targets, "
        f"≥ the engine's threshold at their width for {detectable.mean():.2f}; the engine finds "
        f"{n_found} of those {n_detectable} ({n_found / max(n_detectable, 1):.2f})"
    )


def target_counts(truth: pd.DataFrame) -> str:
    """How many crossings each step of the target definition keeps."""
    strong = (truth["delta_ppm"] >= 1.0) & (truth["sigma_km"] <= 15.0)
    seen = strong & truth["crossing_km"].notna()
    return (
        f"crossings {len(truth)}; Δ ≥ 1 ppm and σ ≤ 15 km: {int(strong.sum())}; "
        f"of these not under clouds: {int(seen.sum())}; with ≥ {MIN_SIDE} good soundings "
        f"in [−2σ, 0] and in [0, 2σ] (targets): {int(is_target(truth).sum())}"
    )


def listing(peaks: pd.DataFrame, truth: pd.DataFrame) -> None:
    """Print missed targets and false passed peaks with the engine's nearest refit."""
    passed = peaks[peaks["passed"]].reset_index(drop=True)
    _, hit = hits(passed, truth)
    missed = truth[is_target(truth) & ~hit.any(axis=0)]
    print(f"\nmissed targets ({len(missed)}): nearest refit (offset km, σ, significance, reason)")
    for row in missed.itertuples():
        near = peaks[peaks["orbit"] == row.orbit]
        off = near["distance_km"].to_numpy() - row.crossing_km
        refit = "none"
        if len(near):
            i = int(np.argmin(np.abs(off)))
            reason = near["reject_reason"].iloc[i] or "passed"
            refit = (
                f"{off[i]:+.1f} km, σ {near['sigma_km'].iloc[i]:.1f}, "
                f"sig {near['significance'].iloc[i]:.0f}, {reason}"
            )
        print(
            f"  orbit {row.orbit} {row.source_id}: Δ {row.delta_ppm:.2f} ppm, σ "
            f"{row.sigma_km:.1f} km, sides {row.n_left}/{row.n_right}, signal "
            f"{row.signal:.0f} -> {refit}"
        )
    false = passed[~hit.any(axis=1)]
    print(f"false passed peaks ({len(false)}):")
    for row in false.itertuples():
        print(
            f"  orbit {row.orbit} at {row.distance_km:.0f} km: Δ {row.delta_ppm:.2f} ppm, "
            f"σ {row.sigma_km:.1f} km, significance {row.significance:.0f}, r2 {row.r2:.2f}"
        )


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


def dense_speeds(seed: bool = True) -> tuple[list[float], int]:
    """Soundings/s per core of each of :data:`VARIANTS` (and the seed) on :func:`dense_orbit`."""
    dense = dense_orbit()
    n_columns = len(VARIANTS) + int(seed)
    if dense is None:
        return [np.nan] * n_columns, 0
    speeds = [len(dense) / run_engine(dense, config)[1] for _, config in VARIANTS]
    if seed:
        speeds.append(len(dense) / run_seed(dense)[1])
    return speeds, len(dense)


#: Engine variants of the table: (column, configuration).
VARIANTS = (
    ("engine (v2)", FitConfig()),
    ("detector v1", FitConfig.preset("v1")),
    ("no deblending", FitConfig(deblend=False)),
    ("along distance_km", FitConfig(wind_aligned=False)),
    ("v1, white Δχ² 50", FitConfig.preset("v1", error_correlation_ppm=None, significance_min=50.0)),
)


def correlated_error_ppm(args: argparse.Namespace) -> float:
    """RMS of the simulated correlated error, ppm: real-like with ``--correlated-noise``, else 0."""
    return REAL_CORRELATED_ERROR_PPM if args.correlated_noise else 0.0


def noise_model(args: argparse.Namespace) -> str:
    """The simulated noise model, for the header line."""
    base = "noise: white + footprint biases + undulations"
    if args.correlated_noise:
        return (
            f"{base} + correlated {REAL_CORRELATED_ERROR_PPM:g} ppm rms over "
            f"{REAL_CORRELATION_KM:g} km (--correlated-noise)"
        )
    return f"{base} (no correlated error)"


def benchmark(args: argparse.Namespace) -> None:
    good, truth = simulated_days(
        args.days, args.seeds, args.start, correlated_error_ppm=correlated_error_ppm(args)
    )
    columns, speeds, scores = [], [], []
    for name, config in VARIANTS:
        peaks, seconds = run_engine(good, config)
        passed = peaks[peaks["passed"]].reset_index(drop=True)
        # Line density = emission / |cross-track wind| (the table's own wind), re-scaled in score.
        density = (passed["emission_kg_per_s"] / passed["wind_perp"].abs()).to_numpy()
        columns.append(name)
        speeds.append(len(good) / seconds)
        scores.append(detection_score(passed, truth, density))
        if name == VARIANTS[0][0]:
            engine = peaks
    if not args.no_seed:
        seed, t_seed = run_seed(good)
        seed_density = (
            line_density_kg_per_m(seed["amplitude"], seed["psurf"], seed["tcwv"])
            if len(seed)
            else np.zeros(0)
        )
        if not len(seed):
            seed = pd.DataFrame(columns=["latitude", "longitude", "orbit"], dtype=float)
        columns.append("seed method")
        speeds.append(len(good) / t_seed)
        scores.append(detection_score(seed, truth, seed_density))
    dense, n_dense = dense_speeds(seed=not args.no_seed)
    print(f"machine: {platform.processor() or platform.machine()}, {_cpu_name()}")
    print(
        f"{args.days} simulated day(s) from {args.start}, seed(s) "
        f"{' '.join(map(str, args.seeds))}: {len(good):,} good soundings, "
        f"{clear_track_km(good):,.0f} km of clear track; dense real orbit: {n_dense:,} soundings; "
        f"{noise_model(args)}"
    )
    print(target_counts(truth))
    print(f"{'':30s}" + "".join(f" {c:>13s}" for c in columns))
    print(f"{'soundings/s per core':30s}" + "".join(f" {_fmt(v):>13s}" for v in speeds))
    print(f"{'  same, dense real orbit':30s}" + "".join(f" {_fmt(v):>13s}" for v in dense))
    for key in scores[0]:
        print(f"{key:30s}" + "".join(f" {_fmt(sc[key]):>13s}" for sc in scores))
    engine_passed = engine[engine["passed"]].reset_index(drop=True)
    print(oracle_line(good, truth, correlated_error_ppm(args), engine_passed))
    if args.list:
        listing(engine, truth)


def calibrate(args: argparse.Namespace) -> None:
    good, _ = simulated_days(
        args.days,
        args.seeds,
        args.start,
        plumes=False,
        correlated_error_ppm=correlated_error_ppm(args),
    )
    per = clear_track_km(good) / 10_000.0
    print(
        f"{args.days} plume-free day(s), seed(s) {' '.join(map(str, args.seeds))}: "
        f"{clear_track_km(good):,.0f} km of clear track; {noise_model(args)}"
    )
    edges = (0.0, 3.0, 6.0, 12.0, np.inf)
    widths = [
        f"σ {lo:g}-{hi:g}" if np.isfinite(hi) else f"σ > {lo:g}"
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
    ]
    for name, config in VARIANTS:
        peaks, _ = run_engine(good, config.replace(significance_min=None))
        peaks = peaks[peaks["passed"]]
        # Significance over the width factor of the threshold: a peak passes a
        # threshold t when this ratio is at least t.
        unit = config.replace(significance_min=1.0)
        ratio = np.array(
            [r.significance / unit.significance_limit(r.sigma_km) for r in peaks.itertuples()]
        )
        sigma = peaks["sigma_km"].to_numpy()
        print(
            f"\n{name}: significance_scale_km = {config.significance_scale_km}, "
            f"sigma_min_km = {config.sigma_min_km}"
        )
        print(
            f"{'significance_min':>16s} {'false peaks / 10,000 km':>24s} "
            + " ".join(f"{w:>9s}" for w in widths)
        )
        for threshold in (10, 15, 20, 25, 30, 35, 40, 50, 60):
            ok = ratio >= threshold
            by_width = [
                np.count_nonzero(ok & (sigma >= lo) & (sigma < hi))
                for lo, hi in zip(edges[:-1], edges[1:], strict=True)
            ]
            print(
                f"{threshold:16d} {np.count_nonzero(ok) / per:24.3f} "
                + " ".join(f"{n:9d}" for n in by_width)
            )
        peaks, _ = run_engine(good, config)
        print(
            f"{'as configured':>16s} {peaks['passed'].sum() / per:24.3f} "
            f"(significance_min = {config.significance_min})"
        )


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
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--start", default="2016-08-31")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--list", action="store_true", help="missed targets and false peaks")
    parser.add_argument("--no-seed", action="store_true", help="skip the seed method")
    parser.add_argument(
        "--correlated-noise",
        action="store_true",
        help="add the real-like along-track correlated error to every simulated day",
    )
    args = parser.parse_args()
    (calibrate if args.calibrate else benchmark)(args)


if __name__ == "__main__":
    main()
