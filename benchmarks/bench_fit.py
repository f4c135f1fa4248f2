"""Refit speed: the variable-projection Newton fit against the former scipy fit, one run.

Usage::

    python benchmarks/bench_fit.py [--days 4] [--seeds 0] [--start 2016-08-31] [--repeat 20]

Prints three tables, each with the former fit (``scipy.optimize.least_squares``, trust-region
reflective, kept as ``tests/reference_fit.py``) and the new one
(:func:`oco2explore.fit.fit_window` as it is) side by side, measured in the same process:

* **refit per window**: CPU time (``time.process_time``) of one ``fit_window`` call,
  median and 95th percentile, on the ~470 windows of ``tests/reference_fit.py``
  (simulated orbits with white and real-like correlated noise at the scan's candidates
  and at random centres, the real Highveld pass, its plume-free segments and the real
  California passes, windows on the σ, centre and linear bounds), and how many verdicts
  differ;
* **scan speed**: good soundings per CPU second of :func:`oco2explore.scan.detect`
  (defaults) on the dense real orbit of ``bench_scan.py`` (the real Highveld soundings
  tiled 20 times, plume-rich) and on ``--days`` simulated days (``bench_scan.py``'s
  :func:`simulated_days`), without and with the real-like correlated error, and how
  many passed peaks each finds (peaks whose verdicts differ between the two fits);
* **explorer**: the window fit the explorer does at each step of the window-½-width
  slider (``fit_window`` from its global start, neighbours none) on the real Highveld
  window at ½-widths 90–110 km, CPU ms; and the milliseconds (wall clock) after a slider
  step in-process (``bench_app.py``'s server side: the orbit is scanned again with the
  new half-width and the window refitted and redrawn), median and p95.

Targets of issue 15: ≥ 150,000 soundings/s on the dense case, ≥ 400,000 on simulated
days. Nothing is asserted: this script prints.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests")]

from bench_app import data_root, server_side  # noqa: E402
from bench_scan import _cpu_name, dense_orbit, simulated_days  # noqa: E402
from conftest import REAL_DATA  # noqa: E402
from reference_fit import comparison_windows, reference_solver  # noqa: E402

from oco2explore.config import FitConfig  # noqa: E402
from oco2explore.fit import fit_window  # noqa: E402
from oco2explore.scan import detect  # noqa: E402
from oco2explore.simulate import REAL_CORRELATED_ERROR_PPM  # noqa: E402

#: The two fits: column name and the context in which ``fit_window`` uses it.
SOLVERS: tuple[tuple[str, Callable[[], AbstractContextManager]], ...] = (
    ("former (scipy)", reference_solver),
    ("new", nullcontext),
)


def refit_times() -> tuple[dict[str, np.ndarray], int, int]:
    """CPU ms per window of each fit, the number of windows and of differing verdicts."""
    windows = comparison_windows(REAL_DATA)
    times: dict[str, np.ndarray] = {}
    verdicts = {}
    for name, solver in SOLVERS:
        ms, reasons = [], []
        with solver():
            for window in windows:
                start = time.process_time()
                res = window.fit()
                ms.append(1e3 * (time.process_time() - start))
                reasons.append(res.reject_reason)
        times[name], verdicts[name] = np.array(ms), reasons
    a, b = (verdicts[name] for name, _ in SOLVERS)
    return times, len(windows), sum(x != y for x, y in zip(a, b, strict=True))


def scan_speed(good: pd.DataFrame) -> tuple[dict[str, float], dict[str, pd.DataFrame]]:
    """Soundings per CPU second and the peaks of each fit on one sounding table."""
    speed, peaks = {}, {}
    for name, solver in SOLVERS:
        with solver():
            start = time.process_time()
            peaks[name] = detect(good, FitConfig())
            speed[name] = len(good) / (time.process_time() - start)
    return speed, peaks


def slider_fits() -> dict[str, np.ndarray]:
    """CPU ms of the explorer's window fit on the real Highveld window, ½-width 90–110 km."""
    real = pd.read_csv(REAL_DATA / "oco2_orbit11522_20160831_highveld_peak.csv")
    x, y = real["distance_km"].to_numpy(), real["xco2"].to_numpy()
    out = {}
    for name, solver in SOLVERS:
        ms = []
        with solver():
            for _ in range(5):
                for half in np.arange(90.0, 111.0, 1.0):
                    start = time.process_time()
                    fit_window(x, y, 0.0, FitConfig(half_width_km=half))
                    ms.append(1e3 * (time.process_time() - start))
        out[name] = np.array(ms)
    return out


def changed_verdicts(peaks: dict[str, pd.DataFrame]) -> int:
    """Peaks whose verdict differs between the fits (a peak only one of them has counts)."""
    keys = [
        set(zip(p["orbit"], p["sounding_id"], p["reject_reason"], strict=True))
        for p in peaks.values()
    ]
    return len(keys[0] ^ keys[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--start", default="2016-08-31")
    parser.add_argument("--repeat", type=int, default=20, help="slider steps per fit (20)")
    args = parser.parse_args(argv)
    if not REAL_DATA.is_dir():
        sys.exit(f"bench_fit needs the real data in {REAL_DATA}")
    names = [name for name, _ in SOLVERS]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {platform.machine()}, {_cpu_name()}; load average {load}")

    times, n_windows, differ = refit_times()
    print(f"\nrefit per window, CPU ms ({n_windows} windows of tests/reference_fit.py)")
    print(f"{'':24s}" + "".join(f" {c:>15s}" for c in names))
    for label, q in (("median", 50), ("p95", 95)):
        print(f"{label:24s}" + "".join(f" {np.percentile(times[c], q):15.2f}" for c in names))
    print(f"{'verdicts that differ':24s} {differ:>15d}")

    cases = [("dense real orbit (Highveld ×20)", dense_orbit())]
    for rms in (0.0, REAL_CORRELATED_ERROR_PPM):
        good, _ = simulated_days(args.days, args.seeds, args.start, correlated_error_ppm=rms)
        cases.append((f"{args.days} simulated days, corr. {rms:g} ppm", good))
    print("\nscan (detect, defaults): good soundings per CPU second; passed peaks")
    print(f"{'':38s} {'soundings':>10s}" + "".join(f" {c:>15s}" for c in names) + "  peaks")
    for label, good in cases:
        speed, peaks = scan_speed(good)
        passed = "/".join(str(int(peaks[c]["passed"].sum())) for c in names)
        print(
            f"{label:38s} {len(good):>10,d}"
            + "".join(f" {speed[c]:>15,.0f}" for c in names)
            + f"  {passed} passed, {changed_verdicts(peaks)} verdicts differ"
        )

    print("\nexplorer, window-½-width slider step on the real Highveld orbit")
    print(f"{'':40s}" + "".join(f" {c + ' median':>22s} {'p95':>7s}" for c in names))
    slider = slider_fits()
    print(
        f"{'window fit, CPU ms':40s}"
        + "".join(
            f" {np.median(slider[c]):>22.2f} {np.percentile(slider[c], 95):>7.2f}" for c in names
        )
    )
    with tempfile.TemporaryDirectory(prefix="bench-fit-") as tmp:
        data = data_root(Path(tmp))
        results = {}
        for name, solver in SOLVERS:
            with solver():
                results[name] = server_side(data, args.repeat)
    for measure in results[names[0]]:
        row = ""
        for name in names:
            ms = np.array(results[name][measure])
            row += f" {np.median(ms):>22.1f} {np.percentile(ms, 95):>7.1f}"
        print(f"{measure + ', wall ms':40s}" + row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
