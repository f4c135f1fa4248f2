"""Detector configurations side by side on the cases of ``cases.py`` (data it was not tuned on).

Usage::

    python benchmarks/bench_cases.py [--config default white50 '{"sigma_min_km": 1}' cfg.json]
                                     [--n 30] [--seed 0] [--list]

``--config`` takes presets (:data:`PRESETS`), JSON objects of :class:`FitConfig` fields, or
JSON files (:meth:`FitConfig.from_json`). The table has one row per case (kind × noise) and,
per configuration: oracle-detectable targets (expected Δχ² ≥ 60) and recall over them ("recall
1:1": found only when a peak stands for the target, ``cases.assigned``, so a peak blending a
dome and its plants finds one target); how many of those are also *observed* (≥ 3 soundings
on each flank within 2σ, the rule of ``oco2explore.truth``) and recall over those;
precision, passed peaks per found target (each peak counted for the one target it stands
for), median |ln(Q_est/Q_true)| (plants), false passed peaks per 10,000 km of clear
track (passed peaks on no injected target; on plume-free and artefact cases every passed peak)
and CPU seconds of :func:`oco2explore.scan.detect`. ``--list`` prints every missed
oracle-detectable target (Δ, σ along the track, downwind km, oracle Δχ², nearest peak) and
recall by oracle class. This script prints; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from cases import ORACLE_MIN, Case, build_cases, match, missed, score

from oco2explore.config import FitConfig
from oco2explore.scan import detect

#: Named configurations.
PRESETS = {
    "default": FitConfig(),
    "v1": FitConfig.preset("v1"),
    "v2": FitConfig.preset("v2"),
    "white50": FitConfig.preset(
        "v1", error_correlation_ppm=None, significance_min=50.0, significance_scale_km=None
    ),
}
#: Columns of the table, per configuration.
COLUMNS = (
    "n targets",
    "recall",
    "recall 1:1",
    "n observed",
    "recall obs",
    "precision",
    "peaks/target",
    "|ln Q|",
    "false/1e4 km",
    "CPU s",
)
#: Oracle classes of the recall breakdown (--list).
ORACLE_CLASSES = (60.0, 150.0, 500.0, np.inf)


def parse_config(text: str) -> tuple[str, FitConfig]:
    """(label, configuration) of a preset name, a JSON object or a JSON file."""
    if text in PRESETS:
        return text, PRESETS[text]
    if text.lstrip().startswith("{"):
        return text, FitConfig.from_dict(json.loads(text))
    return Path(text).stem, FitConfig.from_json(text)


def run(case: Case, config: FitConfig) -> tuple[pd.DataFrame, float]:
    """Peaks of one case and the CPU seconds of ``detect``."""
    t0 = time.process_time()
    peaks = detect(case.soundings, config)
    return peaks, time.process_time() - t0


def _fmt(v: float) -> str:
    if isinstance(v, (int, np.integer)):
        return f"{v:d}"
    if v is None or not np.isfinite(v):
        return "—"
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", nargs="+", default=["v1", "v2"])
    parser.add_argument("--n", type=int, default=100, help="injected targets per case")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--list", action="store_true", help="missed targets, recall by oracle")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", message=".*labelled km.*")
    configs = [parse_config(c) for c in args.config]
    t0 = time.process_time()
    cases = build_cases(args.n, args.seed)
    print(
        f"cases.py, seed {args.seed}, ~{args.n} injected targets per case "
        f"(built in {time.process_time() - t0:.1f} s CPU); oracle-detectable: expected "
        f"Δχ² ≥ {ORACLE_MIN:g}; real = California v9 nadir/glint passes > 60 km from cities and "
        f"≥ 1 Mt/yr sites + orbit 11522 plume-free stretches; white/correlated = synthetic XCO2 "
        f"on the Highveld and California positions"
    )
    for label, config in configs:
        defaults = FitConfig().to_dict()
        changed = {k: v for k, v in config.to_dict().items() if v != defaults[k]}
        print(f"  [{label}] FitConfig fields changed from the defaults: {json.dumps(changed)}")
    results = {}
    for case in cases:
        for label, config in configs:
            peaks, cpu = run(case, config)
            sc = score(peaks, case)
            sc["CPU s"] = cpu
            results[(case.kind, case.noise, label)] = (sc, peaks)
    width = 9
    head1 = f"{'case':22s} {'km':>6s}"
    head2 = f"{'':22s} {'':>6s}"
    for label, _ in configs:
        head1 += " | " + f"{label[: width * len(COLUMNS)]:^{(width + 1) * len(COLUMNS) - 1}s}"
        head2 += " | " + " ".join(f"{c[:width]:>{width}s}" for c in COLUMNS)
    print(head1)
    print(head2)
    for case in cases:
        line = f"{case.kind + ' / ' + case.noise:22s} {case.clear_km:6.0f}"
        for label, _ in configs:
            sc = results[(case.kind, case.noise, label)][0]
            line += " | " + " ".join(f"{_fmt(sc[c]):>{width}s}" for c in COLUMNS)
        print(line)
    if args.list:
        for label, _ in configs:
            print(f"\n[{label}] recall by oracle class, and missed oracle-detectable targets")
            for case in cases:
                if case.truth.empty:
                    continue
                peaks = results[(case.kind, case.noise, label)][1]
                passed = peaks[peaks["passed"]] if len(peaks) else peaks
                found = match(passed.reset_index(drop=True), case.truth).any(axis=0)
                oracle = case.truth["oracle"].to_numpy()
                parts = []
                for lo, hi in zip((0.0,) + ORACLE_CLASSES[:-1], ORACLE_CLASSES, strict=True):
                    sel = (oracle >= lo) & (oracle < hi)
                    if sel.any():
                        parts.append(f"{lo:g}-{hi:g}: {found[sel].sum()}/{sel.sum()}")
                print(f"  {case.kind} / {case.noise}: " + ", ".join(parts))
                for row in missed(peaks, case).itertuples():
                    print(
                        f"    orbit {row.orbit} at {row.distance_km:.1f} km: {row.kind}, "
                        f"Δ {row.delta_ppm:.2f} ppm, σ {row.sigma_km:.2f} km, downwind "
                        f"{row.downwind_km:.1f} km, Q {row.emission_mt_per_yr:.1f} Mt/yr, "
                        f"oracle {row.oracle:.0f}, support {row.n_left}/{row.n_right} -> "
                        f"{row.nearest}"
                    )


if __name__ == "__main__":
    main()
