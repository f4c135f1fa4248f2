"""Train the packaged default learned scorer (``oco2explore/data/learned_default.joblib``).

Usage: ``python benchmarks/train_default_model.py [--out PATH] [--regional-days N] [--full-days N]
[--candidate-fraction F] [--features v1|scale-free] [--no-cities] [--no-guard]``

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
Highveld pass come. With ``--cities`` (default) the regional chunks also get city area
sources (:func:`add_cities`): the simulator has power plants only, and real city domes
(the LA basin, σ 30 km) are what the scorer must also pass. Labels: simulated truth
(:func:`oco2explore.learn.truth_labels`). The candidates are those of the default
detector, ``FitConfig()`` read at run time (recorded in the card), refitted down to
``--candidate-fraction`` of its threshold
(:func:`oco2explore.learn.candidate_config`). With ``--guard`` (default) the model decides
only the candidates within :data:`oco2explore.learn.DEFAULT_GUARD` (the fit scan's passed
peaks and its significance rejections whose noise false-alarm rate is at most 1 per
10,000 km); it is trained on those. Inside the guard the simulator's noise gives few
negatives, so the default takes 20 whole days per noise model (4 whole days gave 10
negatives inside the guard, 20 give 47; docs/learned.md, session 14). Seeded: the same inputs
give the same model.
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
from oco2explore.constants import EARTH_RADIUS_KM, SECONDS_PER_YEAR
from oco2explore.emission import ppm_per_kg_per_m2
from oco2explore.learn import (
    CANDIDATE_FRACTION,
    DEFAULT_GUARD,
    FEATURE_SETS,
    LabelledTracks,
    default_model_path,
    save,
    truth_labels,
)
from oco2explore.simulate import REAL_CORRELATED_ERROR_PPM, REGIONS, simulate_day
from oco2explore.simulate.plumes import (
    MAX_DOWNWIND_KM,
    MAX_PLUME_AGE_H,
    MIN_WIND_M_PER_S,
    plume_column_kg_per_m2,
)
from oco2explore.soundings import add_distance_km

#: Seeds of the training days (white, correlated): never used by bench_learned.py.
TRAIN_SEEDS = (1001, 1002)
TRAIN_START = "2018-01-01"
#: Columns of the minimal table (as the real Highveld pass has them).
MINIMAL_COLUMNS = ("orbit", "latitude", "longitude", "xco2", "distance_km")
#: Regional days simulated per call (one chunk: one orbit-number range).
CHUNK_DAYS = 10
#: City area sources of the training days (:func:`add_cities`): share of orbit passes that
#: get one; emission range, t CO2/yr (log-uniform; Las Vegas ~ 2e7, the LA basin ~ 1e8 or more);
#: scale of the emission density, km (2-D Gaussian of sub-sources); sub-sources per city.
CITY_SHARE = 0.5
CITY_T_PER_YR = (1e7, 2e8)
CITY_SCALE_KM = (3.0, 15.0)
CITY_SUBSOURCES = 40
#: Seed offset of the cities' random draws (independent of the simulator's seeds).
CITY_SEED = 7_000


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


def add_cities(
    good: pd.DataFrame, truth: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Good soundings with city area sources added to XCO2, and the truth with their crossings.

    A city is :data:`CITY_SUBSOURCES` point sources scattered as a 2-D Gaussian of scale
    :data:`CITY_SCALE_KM` around a centre drawn as a 2-D Gaussian of the same scale around a
    sounding, its emission (:data:`CITY_T_PER_YR`) shared among them, each plume the
    simulator's own vertically integrated Gaussian plume
    (:func:`oco2explore.simulate.plumes.plume_column_kg_per_m2`, Martin σ_y, followed as
    far downwind as the simulator follows a plume) in the wind of the soundings at the city;
    XCO2 from the column with each sounding's psurf and TCWV. The
    sum of many overlapping plumes is a broad, wind-smeared dome (σ along the track from a
    few to tens of km). The truth row is the crossing of the along-track profile (1 km bins):
    its maximum (``delta_ppm``, position), ``sigma_km`` = area / (Δ √(2π)). At most one city
    per orbit pass, on :data:`CITY_SHARE` of them, 150 km from the ends of the pass.
    """
    out = good.sort_values(["orbit", "distance_km"]).reset_index(drop=True)
    xco2 = out["xco2"].to_numpy(float).copy()
    rows = []
    for orbit, idx in out.groupby("orbit").indices.items():
        d = out["distance_km"].to_numpy(float)[idx]
        if d[-1] - d[0] < 400.0 or rng.random() > CITY_SHARE:
            continue
        inside = np.flatnonzero((d > d[0] + 150.0) & (d < d[-1] - 150.0))
        if not inside.size:
            continue
        k = int(rng.choice(inside))
        lat = out["latitude"].to_numpy(float)[idx]
        lon = out["longitude"].to_numpy(float)[idx]
        lat0, lon0 = lat[k], lon[k]
        east = np.radians((lon - lon0 + 180.0) % 360.0 - 180.0) * EARTH_RADIUS_KM
        east *= np.cos(np.radians(lat0))
        north = np.radians(lat - lat0) * EARTH_RADIUS_KM
        u = float(out["windspeed_u_met"].to_numpy(float)[idx][k])
        v = float(out["windspeed_v_met"].to_numpy(float)[idx][k])
        norm = max(float(np.hypot(u, v)), 1e-9)
        speed = max(norm, MIN_WIND_M_PER_S)
        reach = min(MAX_DOWNWIND_KM, speed * MAX_PLUME_AGE_H * 3.6)
        scale = rng.uniform(*CITY_SCALE_KM)
        q = np.exp(rng.uniform(*np.log(CITY_T_PER_YR))) * 1000.0 / SECONDS_PER_YEAR
        centre = rng.normal(0.0, scale, 2)
        subs = centre + rng.normal(0.0, scale, (CITY_SUBSOURCES, 2))
        near = np.hypot(east, north) < reach + 5 * scale
        col = np.zeros(int(near.sum()))
        for se, sn in subs:
            de, dn = east[near] - se, north[near] - sn
            x = (de * u + dn * v) / norm
            y = (-de * v + dn * u) / norm
            c = plume_column_kg_per_m2(x, y, q / CITY_SUBSOURCES, speed)
            col += np.where(x < reach, c, 0.0)
        conv = ppm_per_kg_per_m2(
            out["psurf"].to_numpy(float)[idx][near], out["tcwv"].to_numpy(float)[idx][near]
        )
        enh = col * conv
        if not enh.size or enh.max() < 0.1:
            continue
        xco2[idx[near]] += enh
        bins = np.floor(d[near]).astype(int)
        sums = pd.Series(enh).groupby(bins).mean()
        profile = sums.reindex(range(bins.min(), bins.max() + 1)).interpolate().to_numpy()
        j = int(np.argmax(profile))
        delta = float(profile[j])
        sigma = float(profile.sum()) / (delta * np.sqrt(2 * np.pi))
        at = int(np.argmin(np.abs(d[near] - (bins.min() + j + 0.5))))
        rows.append(
            {
                "plume_id": f"{orbit}-city",
                "orbit": int(orbit),
                "source_id": "city",
                "emission_kg_per_s": q,
                "crossing_latitude": float(lat[near][at]),
                "crossing_longitude": float(lon[near][at]),
                "delta_ppm": delta,
                "sigma_km": sigma,
                "amplitude": delta * sigma * np.sqrt(2 * np.pi),
            }
        )
    out["xco2"] = xco2
    return out, pd.concat([truth, pd.DataFrame(rows)], ignore_index=True)


def minimal(soundings: pd.DataFrame) -> pd.DataFrame:
    """The sounding table reduced to :data:`MINIMAL_COLUMNS`."""
    return soundings[list(MINIMAL_COLUMNS)].copy()


def training_chunks(
    regional_days: int, full_days: int, cities: bool = False
) -> Iterator[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """(name, soundings, truth) of every training chunk, both noise models.

    With ``cities`` the regional chunks get city area sources (:func:`add_cities`).
    """
    start = pd.Timestamp(TRAIN_START)
    for seed, rms in zip(TRAIN_SEEDS, (0.0, REAL_CORRELATED_ERROR_PPM), strict=True):
        noise = "correlated" if rms else "white"
        rng = np.random.default_rng(CITY_SEED + seed)
        for k in range(0, regional_days, CHUNK_DAYS):
            day = (start + pd.Timedelta(days=k)).strftime("%Y-%m-%d")
            n = min(CHUNK_DAYS, regional_days - k)
            good, truth = simulated(seed, day, n, list(REGIONS), rms)
            if cities and len(good):
                good, truth = add_cities(good, truth, rng)
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
    parser.add_argument("--full-days", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--candidate-fraction", type=float, default=CANDIDATE_FRACTION)
    parser.add_argument(
        "--cities",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add city area sources to the regional days (add_cities)",
    )
    parser.add_argument(
        "--features",
        choices=sorted(FEATURE_SETS),
        default="scale-free",
        help="feature set (oco2explore.learn.FEATURE_SETS; v1: the packaged model's)",
    )
    parser.add_argument(
        "--guard",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="bound the decision by oco2explore.learn.DEFAULT_GUARD (--no-guard: every "
        "candidate is the model's)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    config = FitConfig()  # the default detector, read at run time
    t0 = time.process_time()
    data = LabelledTracks(fraction=args.candidate_fraction)
    chunks = training_chunks(args.regional_days, args.full_days, args.cities)
    for k, (name, good, truth) in enumerate(chunks):
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
            "city_area_sources": (
                {
                    "share_of_passes": CITY_SHARE,
                    "t_per_yr": list(CITY_T_PER_YR),
                    "scale_km": list(CITY_SCALE_KM),
                    "subsources": CITY_SUBSOURCES,
                    "seed": CITY_SEED,
                }
                if args.cities
                else None
            ),
            "chunks": data.names,
            "evaluation_data_not_used": "bench_learned.py: seeds 0 and 1 from 2016-08-31",
            "script": "benchmarks/train_default_model.py",
        },
        "labels": "truth",
        "fit_config": config.to_dict(),
        "data_cpu_s": round(t_data, 1),
    }
    card["feature_set"] = args.features
    scorer = data.train(
        seed=args.seed,
        card=card,
        feature_names=FEATURE_SETS[args.features],
        guard=DEFAULT_GUARD if args.guard else None,
    )
    save(scorer, args.out)
    size_kb = args.out.stat().st_size / 1024
    c = scorer.card
    print(
        f"trained on {len(data.names)} chunks: {c['n_candidates']} candidates, "
        f"{c['n_positive']} positive, {c['n_negative']} negative, "
        f"{c['n_unlabelled_dropped']} unlabelled (dropped); outside the guard "
        f"{c['guard']}: {c['n_outside_guard']}; fit scan false on training: "
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
