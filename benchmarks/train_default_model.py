"""Train the packaged default learned scorer (``oco2explore/data/learned_default.joblib``).

Usage: ``python benchmarks/train_default_model.py [--out PATH] [--regional-days N] [--full-days N]
[--candidate-fraction F]``

Data: the project's simulator (:func:`oco2explore.simulate.simulate_day`) on days and seeds
that ``bench_learned.py`` never evaluates on (:data:`TRAIN_SEEDS`, from :data:`TRAIN_START`;
the evaluation uses seeds 0 and 1 from 2016-08-31), with both noise models: white (plus the
simulator's footprint biases and undulations) and the real-like along-track correlated error
(:data:`oco2explore.simulate.REAL_CORRELATED_ERROR_PPM` over
:data:`oco2explore.simulate.REAL_CORRELATION_KM`). Per noise model: ``--regional-days`` days of
the passes over the simulator's emitter regions (many plumes, most positives) and
``--full-days`` whole days (mostly plume-free track: the negatives and the fit scan's false
alarms). A third of the regional days is also given as the minimal table (orbit, positions,
XCO2 and distance only: no uncertainty, wind or diagnostics), as real tables such as the
Highveld pass come. Labels: simulated truth (:func:`oco2explore.learn.truth_labels`). The
candidates are those of the default detector, ``FitConfig()`` read at run time (recorded in
the card), refitted down to ``--candidate-fraction`` of its threshold
(:func:`oco2explore.learn.candidate_config`). Seeded: the same inputs give the same model.
Prints the model card's summary; writes the model and its card.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from oco2explore.config import FitConfig
from oco2explore.learn import (
    CANDIDATE_FRACTION,
    LabelledTracks,
    default_model_path,
    save,
    truth_labels,
)
from oco2explore.simulate import REAL_CORRELATED_ERROR_PPM, REGIONS, simulate_day
from oco2explore.soundings import add_distance_km

#: Seeds of the training days (white, correlated): never used by bench_learned.py.
TRAIN_SEEDS = (1001, 1002)
TRAIN_START = "2018-01-01"
#: Columns of the minimal table (as the real Highveld pass has them).
MINIMAL_COLUMNS = ("orbit", "latitude", "longitude", "xco2", "distance_km")
#: Regional days simulated per call (one chunk: one orbit-number range).
CHUNK_DAYS = 10


def simulated(
    seed: int,
    start: str,
    days: int,
    regions: list[str] | None,
    correlated_error_ppm: float,
    plumes: bool = True,
    twin: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Good soundings and truth of consecutive simulated days (one distance per orbit).

    With ``twin`` the plume-free run of the same seed gives each sounding its plume
    ``enhancement`` (ppm), for the benchmark's oracle.
    """
    parts, twins, truths = [], [], []
    for day in pd.date_range(start, periods=days, freq="D"):
        kw = {"seed": seed, "regions": regions, "correlated_error_ppm": correlated_error_ppm}
        s, t = simulate_day(day, plumes=plumes, **kw)
        parts.append(s.drop(columns="distance_km"))
        truths.append(t)
        if twin:
            twins.append(simulate_day(day, plumes=False, **kw)[0]["xco2"])
    soundings = pd.concat(parts, ignore_index=True)
    if twin:
        soundings["enhancement"] = soundings["xco2"] - pd.concat(twins, ignore_index=True)
    soundings = add_distance_km(soundings)
    good = soundings[soundings["xco2_quality_flag"] == 0].reset_index(drop=True)
    return good, pd.concat(truths, ignore_index=True)


def minimal(soundings: pd.DataFrame) -> pd.DataFrame:
    """The sounding table reduced to :data:`MINIMAL_COLUMNS`."""
    return soundings[list(MINIMAL_COLUMNS)].copy()


def training_chunks(
    regional_days: int, full_days: int
) -> Iterator[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """(name, soundings, truth) of every training chunk, both noise models."""
    start = pd.Timestamp(TRAIN_START)
    for seed, rms in zip(TRAIN_SEEDS, (0.0, REAL_CORRELATED_ERROR_PPM), strict=True):
        noise = "correlated" if rms else "white"
        for k in range(0, regional_days, CHUNK_DAYS):
            day = (start + pd.Timedelta(days=k)).strftime("%Y-%m-%d")
            n = min(CHUNK_DAYS, regional_days - k)
            good, truth = simulated(seed, day, n, list(REGIONS), rms)
            yield f"{noise} regional {day} +{n} d seed {seed}", good, truth
            if (k // CHUNK_DAYS) % 3 == 0:
                yield (
                    f"{noise} regional {day} +{n} d seed {seed}, minimal table",
                    minimal(good),
                    truth,
                )
        for k in range(full_days):
            day = (start + pd.Timedelta(days=regional_days + k)).strftime("%Y-%m-%d")
            good, truth = simulated(seed, day, 1, None, rms)
            yield f"{noise} full day {day} seed {seed}", good, truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=default_model_path())
    parser.add_argument("--regional-days", type=int, default=200)
    parser.add_argument("--full-days", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--candidate-fraction", type=float, default=CANDIDATE_FRACTION)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    config = FitConfig()  # the default detector, read at run time
    t0 = time.process_time()
    data = LabelledTracks(fraction=args.candidate_fraction)
    for k, (name, good, truth) in enumerate(training_chunks(args.regional_days, args.full_days)):
        data.add(name, good, config, lambda p, t=truth: truth_labels(p, t), k * 10**7)
    t_data = time.process_time() - t0
    card = {
        "data": {
            "source": "oco2explore.simulate.simulate_day (the project's simulator)",
            "seeds": list(TRAIN_SEEDS),
            "noise_models": ["white", f"correlated {REAL_CORRELATED_ERROR_PPM} ppm"],
            "start": TRAIN_START,
            "regional_days_per_noise_model": args.regional_days,
            "full_days_per_noise_model": args.full_days,
            "chunks": data.names,
            "evaluation_data_not_used": "bench_learned.py: seeds 0 and 1 from 2016-08-31",
            "script": "benchmarks/train_default_model.py",
        },
        "labels": "truth",
        "fit_config": config.to_dict(),
        "data_cpu_s": round(t_data, 1),
    }
    scorer = data.train(seed=args.seed, card=card)
    save(scorer, args.out)
    size_kb = args.out.stat().st_size / 1024
    c = scorer.card
    print(
        f"trained on {len(data.names)} chunks: {c['n_candidates']} candidates, "
        f"{c['n_positive']} positive, {c['n_negative']} negative, "
        f"{c['n_unlabelled_dropped']} unlabelled (dropped); fit scan false on training: "
        f"{c['fit_scan_false_on_training']}"
    )
    print(f"candidates: {c['candidates']}")
    print(f"threshold {scorer.threshold:.3f}; out-of-fold {c['metrics_out_of_fold']}")
    print(
        f"CPU: data {t_data:.0f} s, training {c['train_cpu_s']:.0f} s; "
        f"{args.out} ({size_kb:.0f} kB)"
    )
    return 0 if np.isfinite(scorer.threshold) else 1


if __name__ == "__main__":
    sys.exit(main())
