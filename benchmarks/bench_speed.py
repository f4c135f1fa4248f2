"""Scan and explorer speed of the current code beside a base commit, in one run.

Usage::

    python benchmarks/bench_speed.py [--base main] [--days 1] [--repeat 3] [--steps 12]

The base commit's package is exported by ``git archive`` (:mod:`trees`); each workload
runs in a process of its own for the base and for the current checkout, alternately,
``--repeat`` times, and the best CPU time (``time.process_time``: one core) counts:

* **scan**: good soundings per CPU second of :func:`oco2explore.scan.detect` with
  ``FitConfig()``, ``FitConfig.preset("v1")`` and ``FitConfig.preset("v2")`` on
  ``--days`` simulated days (``bench_scan.py``'s :func:`simulated_days`, seed 0, white
  noise) and on the dense plume-rich orbit of ``bench_scan.py`` (the real Highveld
  soundings tiled 20 times);
* **explorer**: CPU ms of one step of the window-½-width slider (100 ↔ 105 km) in the
  explorer on the real Highveld pass (in-process, no browser: the window refitted, the
  orbit scanned again, everything redrawn), median and p95 over ``--steps`` steps.

Targets of issue 15: ≥ 150,000 soundings/s on the dense case, ≥ 400,000 on simulated days;
issue 16: slider → page p95 ≤ 300 ms (in a browser, ``bench_app.py``). Prints a table;
nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
#: Configurations of the scan rows.
CONFIGS = ("FitConfig()", "v1", "v2")


def scan_seconds(inputs: Path, config_name: str) -> float:
    """Best-of-one CPU seconds of :func:`detect` on the pickled soundings (after a warm-up)."""
    from oco2explore.config import FitConfig
    from oco2explore.scan import detect

    soundings = pd.read_pickle(inputs)
    config = FitConfig() if config_name == "FitConfig()" else FitConfig.preset(config_name)
    detect(soundings.iloc[: min(len(soundings), 5000)], config)  # imports, caches
    start = time.process_time()
    detect(soundings, config)
    return time.process_time() - start


def slider_ms(steps: int) -> list[float]:
    """CPU ms of each window-½-width slider step in the explorer on the real Highveld pass."""
    sys.path[:0] = [str(HERE)]
    from bench_scan import REAL_HIGHVELD

    from oco2explore.app import Explorer
    from oco2explore.demo import real_highveld_lite

    folder = Path(tempfile.mkdtemp(prefix="bench-speed-"))
    real_highveld_lite(folder, REAL_HIGHVELD)
    app = Explorer(folder, basemap=False)
    app.start("")
    slider = app.orbit.controls.values["half_width_km"]
    out = []
    for i in range(steps + 1):
        start = time.process_time()
        slider.value = 105.0 if i % 2 == 0 else 100.0
        out.append(1e3 * (time.process_time() - start))
    return out[1:]  # the first step warms up


def child(args: argparse.Namespace) -> None:
    """One measurement in this process (the imported package), as JSON on stdout."""
    from trees import check_package

    check_package(Path.cwd())
    if args.child[0] == "scan":
        value = scan_seconds(Path(args.child[1]), args.child[2])
    else:
        value = slider_ms(int(args.child[1]))
    print(json.dumps(value))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="main", help="commit, branch or tag to compare with")
    parser.add_argument("--days", type=int, default=1, help="simulated days (1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each scan (best counts)")
    parser.add_argument("--steps", type=int, default=12, help="explorer slider steps (12)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0

    sys.path[:0] = [str(HERE)]
    from bench_scan import _cpu_name, dense_orbit, simulated_days
    from trees import REPO, export_tree, resolve, run_in_tree

    work = Path(tempfile.mkdtemp(prefix="bench-speed-"))
    sha = resolve(args.base)
    trees = {"base": export_tree(sha, work), "current": REPO}
    good, _ = simulated_days(args.days, [0], "2016-08-31")
    cases = {f"simulated {args.days} d (white noise)": good.drop(columns="enhancement")}
    dense = dense_orbit()
    if dense is not None:
        cases["dense (real Highveld ×20)"] = dense

    def run(tree: Path, what: list[str]) -> object:
        out = run_in_tree(tree, Path(__file__), ["--child", *what])
        return json.loads(out.stdout.strip().splitlines()[-1])

    print(
        f"speed: base {args.base} ({sha[:10]}) vs current checkout; CPU time per core "
        f"({_cpu_name()}), best of {args.repeat}"
    )
    print(f"{'case':34s} {'config':12s} {'base /s':>11s} {'current /s':>11s} {'speed-up':>9s}")
    for name, soundings in cases.items():
        path = work / f"{len(soundings)}.pkl"
        soundings.to_pickle(path)
        for config in CONFIGS:
            best = {label: np.inf for label in trees}
            for _ in range(args.repeat):
                for label, tree in trees.items():
                    best[label] = min(best[label], run(tree, ["scan", str(path), config]))
            rate = {label: len(soundings) / best[label] for label in trees}
            print(
                f"{name:34s} {config:12s} {rate['base']:11,.0f} {rate['current']:11,.0f} "
                f"{rate['current'] / rate['base']:8.2f}×"
            )
    if dense is not None:
        steps = {label: run(tree, ["slider", str(args.steps)]) for label, tree in trees.items()}
        print(
            "\nexplorer, window-½-width slider step on the real Highveld pass, "
            f"CPU ms ({args.steps} steps)"
        )
        print(f"{'':34s} {'':12s} {'base':>11s} {'current':>11s}")
        for stat, fn in (("median", np.median), ("p95", lambda v: np.percentile(v, 95))):
            print(
                f"{stat:34s} {'FitConfig()':12s} {fn(steps['base']):11.1f} "
                f"{fn(steps['current']):11.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
