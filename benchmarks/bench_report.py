"""Source report on a simulated archive with known emissions: estimates, upper limits, speed.

Simulates ``--days`` consecutive days over every simulator region
(:func:`oco2explore.simulate.simulate_day`, plumes of the packaged CoCO2 sites at
their constant inventory emission), runs the batch's per-file steps in memory
(:func:`oco2explore.scan.detect`, :func:`oco2explore.match.match_peaks`,
:func:`oco2explore.report.track_summary`), builds the report
(:func:`oco2explore.report.build_report`, constant emission: the simulated plants
have no temporal profile) and prints, per noise model (``white``: the simulator's
default; ``real``: with the real-like along-track correlated error of
:data:`oco2explore.config.REAL_CORRELATED_ERROR_PPM`):

* sources with ≥ 3 detected crossings: median |ln(estimate / truth)| and the
  fraction whose 1-σ interval holds the truth (targets ≤ 0.25 and 50-85 %);
* sources crossed but never detected: the fraction whose upper limit lies above
  the truth (target ≥ 90 %);
* the same days without plumes (``--null-days`` of them): unexplained peaks
  (target: none);
* the detected fraction of the clear crossings binned by truth / detection limit
  (about half at 1 if the limit is right);
* the report's time on the archive's peaks, one core.

Run: ``.venv/bin/python benchmarks/bench_report.py [--days 384] [--null-days 64]
[--noise both] [--cache DIR]`` (per-day results are cached in DIR, so a rerun only
rebuilds the report).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # "one core" for the timing

import numpy as np
import pandas as pd

from oco2explore.config import REAL_CORRELATED_ERROR_PPM, FitConfig
from oco2explore.inventory import load_coco2
from oco2explore.match import SourceIndex, match_peaks
from oco2explore.report import ReportConfig, build_report, track_summary
from oco2explore.scan import detect
from oco2explore.simulate import REGIONS, plume_sources, simulate_day

NOISE = {"white": 0.0, "real": REAL_CORRELATED_ERROR_PPM}


def day_tables(
    day: pd.Timestamp, seed: int, noise_ppm: float, plumes: bool, index: SourceIndex
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Matches and track summary of one simulated day (the batch's per-file steps)."""
    soundings, _ = simulate_day(
        day, seed=seed, regions=list(REGIONS), plumes=plumes, correlated_error_ppm=noise_ppm
    )
    good = soundings[soundings["xco2_quality_flag"] == 0].reset_index(drop=True)
    if good.empty:
        return pd.DataFrame(), pd.DataFrame()
    peaks = detect(good, FitConfig())
    return match_peaks(peaks, index), track_summary(good)


def archive(
    days: int, start: str, seed: int, noise: str, plumes: bool, cache: Path, index: SourceIndex
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Matches and tracks of ``days`` simulated days, computed once and cached per day."""
    from tqdm.auto import tqdm

    folder = cache / f"{noise}-seed{seed}-{'plumes' if plumes else 'null'}"
    folder.mkdir(parents=True, exist_ok=True)
    matches, tracks = [], []
    first = pd.Timestamp(start, tz="UTC")
    for d in tqdm(range(days), desc=f"{noise} {'plumes' if plumes else 'null'}", unit="day"):
        day = first + pd.Timedelta(days=d)
        m_path = folder / f"{day:%Y%m%d}-matches.parquet"
        t_path = folder / f"{day:%Y%m%d}-tracks.parquet"
        if not (m_path.is_file() and t_path.is_file()):
            m, t = day_tables(day, seed, NOISE[noise], plumes, index)
            m.to_parquet(m_path)
            t.to_parquet(t_path)
        m, t = pd.read_parquet(m_path), pd.read_parquet(t_path)
        if len(m):
            matches.append(m)
        if len(t):
            tracks.append(t)
    return pd.concat(matches, ignore_index=True), pd.concat(tracks, ignore_index=True)


def score(sources: pd.DataFrame, truth: pd.Series) -> dict[str, float]:
    """The validation numbers of one report against the simulated emissions."""
    t = truth.reindex(sources["source_id"]).fillna(0.0).to_numpy()
    est = sources["estimate_t_per_yr"].to_numpy()
    err = sources["estimate_err_t_per_yr"].to_numpy()
    many = sources["n_detected"].to_numpy() >= 3
    ln_err = np.abs(np.log(est[many] / t[many]))
    covered = np.abs(est[many] - t[many]) <= err[many]
    never = (sources["n_detected"].to_numpy() == 0) & np.isfinite(
        sources["upper_limit_t_per_yr"].to_numpy()
    )
    above = sources["upper_limit_t_per_yr"].to_numpy()[never] > t[never]
    return {
        "sources": len(sources),
        "crossed_sources_>=3_detected": int(many.sum()),
        "median_abs_ln": float(np.median(ln_err)) if many.any() else np.nan,
        "1sigma_coverage": float(covered.mean()) if many.any() else np.nan,
        "never_detected_with_limit": int(never.sum()),
        "limit_above_truth": float(above.mean()) if never.any() else np.nan,
        "median_limit_over_truth": float(
            np.median(sources["upper_limit_t_per_yr"].to_numpy()[never] / t[never])
        )
        if never.any()
        else np.nan,
    }


#: Bins of truth / detection limit for the detection-limit calibration table.
LIMIT_BINS = (0.0, 0.5, 1.0, 2.0, np.inf)


def limit_calibration(crossings: pd.DataFrame, truth: pd.Series, noise: str) -> list[dict]:
    """Detected fraction of the predicted crossings by truth / detection limit (not blended)."""
    c = crossings[crossings["detection_limit_t_per_yr"].notna() & ~crossings["blended"]]
    ratio = truth.reindex(c["source_id"]).fillna(0.0).to_numpy() / c["detection_limit_t_per_yr"]
    rows = []
    for lo, hi in zip(LIMIT_BINS[:-1], LIMIT_BINS[1:], strict=True):
        inside = (ratio >= lo) & (ratio < hi)
        rows.append(
            {
                "noise": noise,
                "truth_over_limit": f"{lo:g}-{hi:g}",
                "crossings": int(inside.sum()),
                "detected_fraction": round(float(c["detected"][inside].mean()), 3)
                if inside.any()
                else np.nan,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=384, help="simulated days (default 384)")
    parser.add_argument("--null-days", type=int, default=64, help="plume-free days (default 64)")
    parser.add_argument("--start", default="2016-01-01")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise", choices=["white", "real", "both"], default="both")
    parser.add_argument("--cache", type=Path, default=Path(".bench-report-cache"))
    args = parser.parse_args()

    sources = load_coco2()
    index = SourceIndex(sources)
    truth = plume_sources().set_index("source_id")["emission_t_per_yr"]
    noises = ["white", "real"] if args.noise == "both" else [args.noise]
    rows, null_rows, crossing_rows, calibration = [], [], [], []
    for noise in noises:
        matches, tracks = archive(args.days, args.start, args.seed, noise, True, args.cache, index)
        t0 = time.perf_counter()
        tables = build_report(matches, sources, tracks, FitConfig(), ReportConfig())
        seconds = time.perf_counter() - t0
        passed = int(matches.drop_duplicates("peak_id")["passed"].astype(bool).sum())
        rows.append(
            {
                "noise": noise,
                "days": args.days,
                "passed_peaks": passed,
                "track_bins": len(tracks),
                **score(tables["sources"], truth),
                "unexplained": len(tables["unexplained"]),
                "report_s_one_core": round(seconds, 2),
            }
        )
        c = tables["crossings"]
        calibration += limit_calibration(c, truth, noise)
        crossing_rows.append(
            {
                "noise": noise,
                "crossings": len(c),
                "detected": int(c["detected"].sum()),
                "blended": int(c["blended"].sum()),
                "median_limit_Mt_per_yr": round(
                    float(np.nanmedian(c["detection_limit_t_per_yr"])) / 1e6, 2
                ),
            }
        )
        if args.null_days:
            null_m, null_t = archive(
                args.null_days, args.start, args.seed, noise, False, args.cache, index
            )
            null = build_report(null_m, sources, null_t, FitConfig(), ReportConfig())
            null_rows.append(
                {
                    "noise": noise,
                    "plume_free_days": args.null_days,
                    "passed_peaks": int(null_m.drop_duplicates("peak_id")["passed"].sum()),
                    "unexplained": len(null["unexplained"]),
                    "detected_crossings": int(null["crossings"]["detected"].sum()),
                }
            )
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(
            "\nReport against the simulated truth (targets: median |ln| <= 0.25, "
            "1-sigma coverage 50-85 %, limit above truth >= 90 %, report <= 10 s)"
        )
        print(pd.DataFrame(rows).to_string(index=False))
        print("\nCrossings")
        print(pd.DataFrame(crossing_rows).to_string(index=False))
        print("\nDetection limit: detected fraction of clear crossings by truth / limit")
        print(pd.DataFrame(calibration).to_string(index=False))
        if null_rows:
            print("\nPlume-free days (target: unexplained empty)")
            print(pd.DataFrame(null_rows).to_string(index=False))


if __name__ == "__main__":
    main()
