"""The learned scorer side by side with the fit scan: held-out simulated days, labels, real data.

Usage::

    python benchmarks/bench_learned.py [--model PATH] [--regional-days 60] [--null-days 2]
                                       [--label-days 200] [--label-full-days 20] [--no-real]
                                       [--figure docs/learned-pr.svg]

Sections (one run, both scorers on the same data, the detector configuration ``FitConfig()``
read at run time):

1. **Held-out simulated days**, both noise models (white: seed 0; real-like correlated error:
   seed 1; from 2016-08-31: days and seeds ``train_default_model.py`` never trains on).
   ``--regional-days`` days of the passes over the simulator's emitter regions give the
   targets; ``--null-days`` whole plume-free days (``plumes=False``) the false-alarm rate.
   Targets are *oracle-detectable*: observed crossings (Δ ≥ 1 ppm, σ ≤ 15 km, ≥ 3 good
   soundings on each flank, :func:`oco2explore.truth.is_target`) whose exact enhancement has
   an oracle Δχ² ≥ 60 (``bench_scan.oracle_significance``: known position, shape and noise
   covariance; the criterion of the detector-v2 cases). Recall is over those; precision is
   the share of passed peaks on any simulated crossing (:func:`oco2explore.truth.hits`);
   false alarms are passed peaks per 10,000 km of clear plume-free track. The learned
   scorer's threshold is the model's own (chosen on its training days to match the fit
   scan's false-alarm count there), not tuned here.
2. **Precision–recall curves** of both on the held-out candidates (truth-labelled; the fit's
   curve ranks candidates by its margin, significance over threshold), written as an SVG.
3. **Inventory labels vs truth labels**: two models trained on the same smaller training set
   (``--label-days`` regional days and ``--label-full-days`` whole days per noise model,
   training seeds; the benchmarked model's features and guard), one
   with truth labels, one with inventory labels (CoCO2, the wind), both evaluated on the
   held-out days with truth.
4. **Real data** (``bench_real.py``'s passes): the Highveld pass (1 peak expected), the two
   plume-free stretches of orbit 11522 (0), California 2014-09/10 (LA basin, Las Vegas,
   passed peaks far from every city and large site).
5. **Independent cases** (``cases.py``'s :func:`cases.build_cases`, as ``bench_cases.py``
   builds them: plants, city domes and dense clusters injected with their own plume physics
   into real California tracks and into synthetic noise on the real Highveld and California
   geometry, plume-free and artefact cases): recall over oracle-detectable targets,
   precision and false peaks per 10,000 km (:func:`cases.score`) of both scorers. The model
   never saw these cases nor the code that makes them (``--cases N`` targets per case,
   ``--cases 0`` skips).
6. **CPU**: the fit scan against the learned scorer (permissive scan + features + model).

Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from bench_scan import oracle_significance
from train_default_model import TRAIN_SEEDS, TRAIN_START, simulated

from oco2explore import learn
from oco2explore.config import FitConfig
from oco2explore.errors import InputError
from oco2explore.inventory import load_inventories
from oco2explore.scan import detect
from oco2explore.simulate import REAL_CORRELATED_ERROR_PPM, REGIONS
from oco2explore.truth import clear_track_km, hits, is_target, observability

#: Held-out data: (noise model, seed, correlated error ppm), from this day.
HELD_OUT = (("white", 0, 0.0), ("correlated", 1, REAL_CORRELATED_ERROR_PPM))
HELD_OUT_START = "2016-08-31"
#: Oracle-detectable: oracle Δχ² at least this (as in benchmarks/cases.py).
ORACLE_MIN = 60.0
DOCS = Path(__file__).resolve().parents[1] / "docs"


def held_out(noise: str, seed: int, rms: float, regional_days: int, null_days: int) -> dict:
    """Soundings, truth (with oracle) and plume-free soundings of one held-out noise model."""
    good, truth = simulated(seed, HELD_OUT_START, regional_days, list(REGIONS), rms, twin=True)
    truth = observability(truth, good)
    target = is_target(truth)
    oracle = np.zeros(len(truth))
    oracle[target] = oracle_significance(good, truth, rms, FitConfig())
    truth["oracle"] = oracle
    start = (pd.Timestamp(HELD_OUT_START) + pd.Timedelta(days=regional_days)).strftime("%F")
    null, _ = simulated(seed, start, null_days, None, rms, plumes=False)
    return {"noise": noise, "good": good, "truth": truth, "null": null}


def _timed(fn, *args):
    t0 = time.process_time()
    out = fn(*args)
    return out, time.process_time() - t0


def scores(passed: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Recall over oracle-detectable targets and precision of passed peaks."""
    detectable = is_target(truth) & (truth["oracle"].to_numpy() >= ORACLE_MIN)
    if len(passed):
        _, hit = hits(passed.reset_index(drop=True), truth)
        found = hit.any(axis=0)
        precision = float(hit.any(axis=1).mean())
    else:
        found, precision = np.zeros(len(truth), bool), np.nan
    return {
        "targets": int(detectable.sum()),
        "recall": float(found[detectable].mean()) if detectable.any() else np.nan,
        "precision": precision,
        "passed": len(passed),
    }


def run_both(data: dict, scorer: learn.LearnedScorer, config: FitConfig) -> dict:
    """Fit scan and learned scorer on one held-out set: scores, false rates, CPU, candidates."""
    fit, t_fit = _timed(detect, data["good"], config)
    cpu: dict[str, float] = {}
    own = learn.model_config(scorer, config)
    fraction = learn.scorer_fraction(scorer)
    (cand, feats), t_cand = _timed(learn.candidates, data["good"], own, fraction, cpu)
    scored, t_score = _timed(learn.apply_scorer, cand, feats, scorer)
    fit_null, t_fit_null = _timed(detect, data["null"], config)
    learned_null, t_l_null = _timed(learn.score, data["null"], config, scorer)
    km = clear_track_km(data["null"])
    return {
        "fit": {
            **scores(fit[fit["passed"]], data["truth"]),
            "false/1e4 km": 1e4 * int(fit_null["passed"].sum()) / km,
            "cpu": t_fit + t_fit_null,
        },
        "learned": {
            **scores(scored[scored["passed"]], data["truth"]),
            "false/1e4 km": 1e4 * int(learned_null["passed"].sum()) / km,
            "cpu": t_cand + t_score + t_l_null,
        },
        "cpu_parts": {"fit": t_fit, "candidates": t_cand, "score": t_score, **cpu},
        "candidates": scored,
        "features": feats,
        "null_km": km,
    }


def pr_curve(score: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall of ``score ≥ t`` for every threshold t (labels 1/0)."""
    order = np.argsort(-score, kind="stable")
    tp = np.cumsum(y[order] == 1)
    fp = np.cumsum(y[order] == 0)
    return tp / np.maximum(tp + fp, 1), tp / max(int((y == 1).sum()), 1)


def pr_svg(curves: dict[str, tuple[np.ndarray, np.ndarray, tuple[float, float]]]) -> str:
    """An SVG of precision–recall curves, each with its operating point (a dot)."""
    size, pad = 420, 50
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]

    def xy(r: float, p: float) -> tuple[float, float]:
        return pad + r * (size - 2 * pad), size - pad - p * (size - 2 * pad)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect x="{pad}" y="{pad}" width="{size - 2 * pad}" height="{size - 2 * pad}" '
        'fill="none" stroke="#444"/>',
        f'<text x="{size / 2}" y="{size - 12}" text-anchor="middle">recall (candidates)</text>',
        f'<text x="14" y="{size / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {size / 2})">precision</text>',
    ]
    for v in (0.0, 0.5, 1.0):
        x, y = xy(v, 0)
        parts.append(f'<text x="{x}" y="{y + 16}" text-anchor="middle">{v:g}</text>')
        x, y = xy(0, v)
        parts.append(f'<text x="{x - 6}" y="{y + 4}" text-anchor="end">{v:g}</text>')
    for k, (name, (prec, rec, point)) in enumerate(curves.items()):
        c = colours[k % len(colours)]
        pts = " ".join(
            f"{a:.1f},{b:.1f}" for a, b in (xy(r, p) for r, p in zip(rec, prec, strict=True))
        )
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="1.5"/>')
        px, py = xy(point[1], point[0])
        parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{c}"/>')
        parts.append(f'<text x="{pad + 8}" y="{pad + 16 + 16 * k}" fill="{c}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def label_comparison(
    days: int,
    held: list[dict],
    results: list[dict],
    config: FitConfig,
    fraction: float,
    feature_names: tuple[str, ...] = learn.V1_FEATURES,
    guard: dict | None = None,
    full_days: int = 2,
) -> list[str]:
    """Truth-labelled and inventory-labelled models on the same training set, on held-out truth.

    ``feature_names`` and ``guard``: those of the models (the benchmarked model's);
    ``full_days``: whole days per noise model in the training set."""
    from train_default_model import training_chunks

    sources = load_inventories(["coco2"])
    feats, y_truth, y_inv, groups, inside = [], [], [], [], []
    fit_false = {"truth": 0, "inventory": 0}
    for k, (_name, good, truth) in enumerate(training_chunks(days, full_days)):
        peaks, f = learn.candidates(good, config, fraction)
        feats.append(f)
        inside.append(learn.within_guard(peaks, config, guard))
        y_truth.append(learn.truth_labels(peaks, truth))
        y_inv.append(learn.inventory_labels(peaks, sources))
        groups.append(peaks["orbit"].to_numpy(np.int64) + k * 10**7)
        fit = peaks if fraction == 1 else detect(good, config)
        fit = fit[fit["passed"]].reset_index(drop=True)
        fit_false["truth"] += int(np.sum(learn.truth_labels(fit, truth) == 0))
        fit_false["inventory"] += int(np.sum(learn.inventory_labels(fit, sources) == 0))
    X = pd.concat(feats, ignore_index=True)
    g = np.concatenate(groups)
    yt, yi = np.concatenate(y_truth), np.concatenate(y_inv)
    both = np.isfinite(yi) & np.isfinite(yt)
    lines = [
        f"training set: {days} regional + {full_days} whole days per noise model (seeds "
        f"{TRAIN_SEEDS}, from {TRAIN_START}), {len(X)} candidates",
        f"  inventory labels: {int(np.nansum(yi))} positive, {int((yi == 0).sum())} negative, "
        f"{int(np.isnan(yi).sum())} unlabelled; agreement with truth where both label: "
        f"{np.mean(yi[both] == yt[both]):.2f}",
        f"  truth labels:     {int(np.nansum(yt))} positive, {int((yt == 0).sum())} negative, "
        f"{int(np.isnan(yt).sum())} unlabelled",
        f"{'labels':<12}{'noise':<12}{'recall':>8}{'prec':>8}{'false/1e4km':>13}{'thr':>7}",
    ]
    within = np.concatenate(inside)
    lines.insert(
        -1,
        f"  within the guard {guard}: truth {int(np.nansum(yt[within]))} positive, "
        f"{int((yt[within] == 0).sum())} negative; inventory {int(np.nansum(yi[within]))} "
        f"positive, {int((yi[within] == 0).sum())} negative",
    )
    for name, y in (("truth", yt), ("inventory", yi)):
        try:
            model = learn.train(
                X,
                y,
                g,
                fit_false=fit_false[name],
                seed=0,
                fraction=fraction,
                feature_names=feature_names,
                guard=guard,
                inside=within,
            )
        except InputError as exc:
            lines.append(f"{name:<12}not trained: {exc}")
            continue
        for data, res in zip(held, results, strict=True):
            cand = learn.apply_scorer(res["candidates"], res["features"], model)
            sc = scores(cand[cand["passed"]], data["truth"])
            null = learn.score(data["null"], config, model)
            false = 1e4 * int(null["passed"].sum()) / res["null_km"]
            lines.append(
                f"{name:<12}{data['noise']:<12}{sc['recall']:>8.2f}{sc['precision']:>8.2f}"
                f"{false:>13.2f}{model.threshold:>7.2f}"
            )
    return lines


def real_section(scorer: learn.LearnedScorer, config: FitConfig) -> str:
    """bench_real.py's table for the fit scan and the learned scorer."""
    from bench_real import evaluate, read_california, table

    ca = read_california()
    results = {
        "fit scan": evaluate(config, california=ca),
        "learned": evaluate(
            config, california=ca, detector=lambda df, c: learn.score(df, c, scorer)
        ),
    }
    return table(results)


def cases_section(scorer: learn.LearnedScorer, config: FitConfig, n: int, seed: int = 0) -> str:
    """``cases.py``'s cases (bench_cases.py) scored for the fit scan and the learned scorer."""
    from cases import build_cases
    from cases import score as case_score

    t0 = time.process_time()
    cases = build_cases(n, seed)
    lines = [
        f"cases.py build_cases(n={n}, seed={seed}) ({time.process_time() - t0:.0f} s CPU to "
        "build); recall over oracle-detectable targets (expected Δχ² ≥ 60)",
        f"{'case':<24}{'km':>7}{'targets':>8} | {'fit recall':>10}{'prec':>6}{'false':>7} | "
        f"{'learned recall':>14}{'prec':>6}{'false':>7}",
    ]

    def fmt(v: float) -> str:
        return "—" if not np.isfinite(v) else f"{v:.2f}"

    for case in cases:
        fit = case_score(detect(case.soundings, config), case)
        lrn = case_score(learn.score(case.soundings, config, scorer), case)
        lines.append(
            f"{case.kind + ' / ' + case.noise:<24}{case.clear_km:>7.0f}{fit['n targets']:>8} | "
            f"{fmt(fit['recall']):>10}{fmt(fit['precision']):>6}{fmt(fit['false/1e4 km']):>7} | "
            f"{fmt(lrn['recall']):>14}{fmt(lrn['precision']):>6}{fmt(lrn['false/1e4 km']):>7}"
        )
    lines.append("'false': passed peaks on no injected target per 10,000 km of clear track")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="default: the packaged model")
    parser.add_argument("--regional-days", type=int, default=60)
    parser.add_argument("--null-days", type=int, default=2)
    parser.add_argument("--label-days", type=int, default=200)
    parser.add_argument("--label-full-days", type=int, default=20)
    parser.add_argument("--no-real", action="store_true")
    parser.add_argument("--no-labels", action="store_true", help="skip section 3")
    parser.add_argument(
        "--cases", type=int, default=30, help="targets per cases.py case (0: skip section 5)"
    )
    parser.add_argument("--figure", type=Path, default=DOCS / "learned-pr.svg")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    warnings.filterwarnings("ignore")
    config = FitConfig()
    scorer = learn.load(args.model)
    print(
        f"model {scorer.card['file']} (sha256 {scorer.card['sha256']}), threshold "
        f"{scorer.threshold:.3f}, trained on: {scorer.card['data'].get('source')}"
    )
    same = learn.model_config(scorer, config) == config
    print(
        f"fit scan: FitConfig() (digest {config.digest()}); the model's candidates: "
        f"{'the same configuration' if same else 'ANOTHER configuration (its card)'}, "
        f"{scorer.card.get('candidates')}"
    )
    held, results = [], []
    print(
        f"\n1. held-out simulated days ({HELD_OUT_START} on, {args.regional_days} regional days + "
        f"{args.null_days} plume-free whole days per noise model); recall over oracle-detectable "
        f"targets (oracle Δχ² ≥ {ORACLE_MIN:g})"
    )
    print(
        f"{'noise':<12}{'targets':>8} | {'fit recall':>10}{'prec':>6}{'false':>7} | "
        f"{'learned recall':>14}{'prec':>6}{'false':>7} | {'plume-free km':>13}"
    )
    for noise, seed, rms in HELD_OUT:
        data = held_out(noise, seed, rms, args.regional_days, args.null_days)
        res = run_both(data, scorer, config)
        held.append(data)
        results.append(res)
        f, lrn = res["fit"], res["learned"]
        print(
            f"{noise + f' (s{seed})':<12}{f['targets']:>8} | {f['recall']:>10.2f}"
            f"{f['precision']:>6.2f}{f['false/1e4 km']:>7.2f} | {lrn['recall']:>14.2f}"
            f"{lrn['precision']:>6.2f}{lrn['false/1e4 km']:>7.2f} | {res['null_km']:>13,.0f}"
        )
    print("'false': passed peaks per 10,000 km of clear plume-free track; 'prec': precision")

    print("\n2. precision-recall on the held-out candidates (truth labels, unlabelled dropped)")
    curves = {}
    for data, res in zip(held, results, strict=True):
        cand = res["candidates"]
        y = learn.truth_labels(cand, data["truth"])
        ok = np.isfinite(y)
        for name, s, passed in (
            ("learned", cand["learned_probability"].to_numpy(), cand["passed"].to_numpy()),
            ("fit margin", res["features"]["margin"].to_numpy(), None),
        ):
            prec, rec = pr_curve(np.nan_to_num(s[ok], nan=-1.0), y[ok])
            if passed is None:  # the fit's operating point: margin ≥ 1 and its other checks
                fit_pass = (cand["fit_reject_reason"] == "") & (s >= 1.0)
                passed = fit_pass.to_numpy()
            tp = int(np.sum(passed[ok] & (y[ok] == 1)))
            point = (tp / max(int(np.sum(passed[ok])), 1), tp / max(int(np.sum(y[ok] == 1)), 1))
            curves[f"{name}, {data['noise']}"] = (prec, rec, point)
            ap = float(np.sum(np.diff(np.r_[0.0, rec]) * prec))
            print(
                f"  {name:<11}{data['noise']:<12} average precision {ap:.2f}, operating point "
                f"precision {point[0]:.2f} recall {point[1]:.2f} ({int(ok.sum())} candidates, "
                f"{int(np.sum(y[ok] == 1))} positive)"
            )
    args.figure.parent.mkdir(parents=True, exist_ok=True)
    args.figure.write_text(pr_svg(curves), encoding="utf-8")
    print(f"  figure: {args.figure}")

    if not args.no_labels:
        print("\n3. inventory labels vs truth labels (held-out days, truth)")
        fraction = learn.scorer_fraction(scorer)
        for line in label_comparison(
            args.label_days,
            held,
            results,
            config,
            fraction,
            scorer.features,
            scorer.card.get("guard"),
            args.label_full_days,
        ):
            print("  " + line)

    if not args.no_real:
        print("\n4. real data")
        print(real_section(scorer, config))

    if args.cases:
        print("\n5. independent cases (cases.py; never seen by the model)")
        print(cases_section(scorer, config, args.cases))

    print("\n6. CPU seconds on the held-out regional days (fit scan vs learned scorer)")
    for data, res in zip(held, results, strict=True):
        parts = res["cpu_parts"]
        total = parts["candidates"] + parts["score"]
        print(
            f"  {data['noise']:<12} fit scan {parts['fit']:.1f} s; learned {total:.1f} s = "
            f"candidate scan {parts['scan']:.1f} s + features {parts['features']:.2f} s + model "
            f"{parts['score']:.2f} s ({100 * (total / parts['fit'] - 1):+.0f} % over the fit scan)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
