"""Do the scan and the window fits give exactly what they gave at a base commit?

Usage::

    python benchmarks/check_identity.py [--base main] [--days 2] [--seed 0] [--fits 20]

A speed change must not change a result. This script builds the inputs once with the
current checkout, then runs the same computations with the package of ``--base``
(exported by ``git archive``, :mod:`trees`) and with the current package, each in its own
process, and compares every output exactly (bit for bit; NaN equals NaN):

* **inputs**: ``--days`` simulated days from ``--start`` (``bench_scan.py``'s
  :func:`simulated_days`, seed ``--seed``) with white noise and with the real-like
  correlated error (0.28 ppm over 3.5 km); the real Highveld pass of orbit 11522 and its
  two real plume-free segments; the dense orbit of ``bench_scan.py`` (the real Highveld
  soundings tiled 20 times, plume-rich); the real California passes of 2014-09-23 (Los
  Angeles) and 2014-10-09 (Las Vegas);
* **configurations**: ``FitConfig()``, ``FitConfig.preset("v1")``,
  ``FitConfig.preset("v2")`` and v1 with the white-noise Δχ² statistic (threshold 50),
  each built by the package under test (a default that differs between the two trees
  shows as a configuration difference);
* **outputs**: the peak table of :func:`oco2explore.scan.detect` for every input and
  configuration; window fits (:func:`oco2explore.scan.fit_at`, the explorer's fit) on the
  ``--orbits`` orbits with the most peaks of each, at every peak and at ``--fits`` random
  centres, with the orbit's peak table and without; the explorer's window-½-width slider
  emulated on the real Highveld pass (½-width 90–110 km: the window refitted with the
  previous peaks, the orbit scanned again); and the explorer itself on the real Highveld
  pass (sliders moved, every result row and peak table).

Prints one line per output and exits 1 if any differs. Nothing is timed here
(``bench_speed.py`` times the same code).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import pickle
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
#: Configurations compared, by name (built in the process under test).
CONFIGS = ("FitConfig()", "v1", "v2", "v1, white Δχ² (50)")
#: Half-widths of the emulated window-½-width slider, km.
SLIDER_KM = tuple(float(v) for v in range(90, 111, 2))
#: Explorer slider moves: (slider, value).
EXPLORER_MOVES = (
    ("half_width_km", 95.0),
    ("half_width_km", 105.0),
    ("half_width_km", 100.0),
    ("r2_min", 0.3),
    ("significance_min", 40.0),
    ("deblend", False),
)


def make_config(name: str) -> Any:
    """The configuration ``name`` of :data:`CONFIGS`, by the imported package."""
    from oco2explore.config import FitConfig

    if name == "FitConfig()":
        return FitConfig()
    if name == "v1, white Δχ² (50)":
        return FitConfig.preset("v1", error_correlation_ppm=None, significance_min=50.0)
    return FitConfig.preset(name)


def build_inputs(args: argparse.Namespace) -> dict[str, pd.DataFrame]:
    """Sounding tables (good soundings, ``orbit`` and ``distance_km`` present) by name."""
    sys.path[:0] = [str(HERE)]
    from bench_real import read_california
    from bench_scan import REAL_HIGHVELD, dense_orbit, simulated_days

    from oco2explore.simulate import REAL_CORRELATED_ERROR_PPM
    from oco2explore.soundings import add_distance_km

    out: dict[str, pd.DataFrame] = {}
    for label, rms in (("white", 0.0), ("correlated", REAL_CORRELATED_ERROR_PPM)):
        good, _ = simulated_days(args.days, [args.seed], args.start, correlated_error_ppm=rms)
        out[f"simulated {args.days} d, {label} noise"] = good.drop(columns="enhancement")
    real = REAL_HIGHVELD.parent
    if real.is_dir():
        out["real Highveld (orbit 11522)"] = pd.read_csv(REAL_HIGHVELD)
        for seg in ("5700_6400", "6400_6700"):
            name = f"oco2_orbit11522_20160831_segment_{seg}km.csv"
            out[f"real plume-free {seg.replace('_', '–')} km"] = pd.read_csv(real / name)
        out["dense (Highveld ×20)"] = dense_orbit()
        ca = read_california(real)
        days = ca["time"].dt.strftime("%Y-%m-%d")
        out["real California 2014-09-23, 10-09"] = ca[days.isin(["2014-09-23", "2014-10-09"])]
    for name, df in out.items():
        if "xco2_quality_flag" in df:
            df = df[df["xco2_quality_flag"] == 0]
        if "orbit" not in df:
            df = df.assign(orbit=np.int32(0))
        if "distance_km" not in df:
            df = add_distance_km(df)
        out[name] = df.reset_index(drop=True)
    return out


def _fit_record(window: Any) -> dict[str, Any]:
    """A window fit as plain data: the fit's fields and what was fitted."""
    return {
        **window.fit.to_dict(),
        "window_centre_km": window.centre_km,
        "sigma_start_km": window.sigma_start_km,
        "neighbours": tuple(np.asarray(a).tolist() for a in window.neighbours),
    }


def window_fits(
    soundings: pd.DataFrame, peaks: pd.DataFrame, config: Any, n_orbits: int, n_random: int
) -> list[dict[str, Any]]:
    """:func:`fit_at` at every peak and at random centres of the orbits with most peaks."""
    from oco2explore.scan import fit_at, prepare_orbit

    out = []
    if not len(peaks):
        return out
    busiest = peaks["orbit"].value_counts().index[:n_orbits]
    rng = np.random.default_rng(0)
    for orbit in sorted(busiest):
        orb = soundings[soundings["orbit"] == orbit]
        own = peaks[peaks["orbit"] == orbit]
        track = prepare_orbit(orb, config)
        lo, hi = float(track.x.min()), float(track.x.max())
        centres = [*own["distance_km"], *rng.uniform(lo, hi, n_random)]
        for c in centres:
            out.append(_fit_record(fit_at(track, c, config, own)))
            out.append(_fit_record(fit_at(track, c, config)))
    return out


def slider(soundings: pd.DataFrame, config: Any) -> list[Any]:
    """The explorer's ½-width slider on one orbit: refit with the old peaks, then rescan."""
    from oco2explore.scan import fit_at, prepare_orbit, scan_orbit

    peaks = scan_orbit(soundings, config)
    ranked = peaks.sort_values(["passed", "significance"], ascending=False)
    centre = float(ranked["distance_km"].iloc[0]) if len(peaks) else float(soundings.iloc[0, 0])
    track = prepare_orbit(soundings, config)
    out: list[Any] = []
    for half in SLIDER_KM:
        cfg = config.replace(half_width_km=half)
        out.append(_fit_record(fit_at(track, centre, cfg, peaks)))
        peaks = scan_orbit(soundings, cfg)
        out.append(peaks)
        out.append(_fit_record(fit_at(track, centre, cfg, peaks)))
    return out


def explorer_run() -> list[Any] | None:
    """The explorer on the real Highveld pass: result rows and peak tables after each move."""
    from oco2explore.app import Explorer
    from oco2explore.demo import real_highveld_lite

    sys.path[:0] = [str(HERE)]
    from bench_scan import REAL_HIGHVELD

    if not REAL_HIGHVELD.is_file():
        return None
    folder = Path(tempfile.mkdtemp(prefix="identity-explorer-"))
    real_highveld_lite(folder, REAL_HIGHVELD)
    app = Explorer(folder, basemap=False)
    app.start("")
    orbit = app.orbit
    out: list[Any] = [dict(orbit.row), orbit.peaks.copy()]
    for name, value in EXPLORER_MOVES:
        orbit.controls.values[name].value = value
        out += [dict(orbit.row), orbit.peaks.copy()]
    return out


def emit(inputs: Path, output: Path, args: argparse.Namespace) -> None:
    """Every output of the imported package on the saved inputs, pickled to ``output``."""
    from trees import check_package

    from oco2explore.scan import detect

    check_package(Path.cwd())
    tables = pd.read_pickle(inputs)
    results: dict[str, Any] = {}
    for config_name in CONFIGS:
        config = make_config(config_name)
        results[f"config {config_name}"] = config.to_dict()
        for name, soundings in tables.items():
            peaks = detect(soundings, config)
            results[f"peaks | {name} | {config_name}"] = peaks
            results[f"window fits | {name} | {config_name}"] = window_fits(
                soundings, peaks, config, args.orbits, args.fits
            )
    highveld = "real Highveld (orbit 11522)"
    if highveld in tables:
        for config_name in ("FitConfig()", "v2"):
            results[f"½-width slider | {highveld} | {config_name}"] = slider(
                tables[highveld], make_config(config_name)
            )
    results["explorer | real Highveld | sliders"] = explorer_run()
    with open(output, "wb") as f:
        pickle.dump(results, f)


def differences(a: Any, b: Any) -> list[float]:
    """Relative sizes of the differences between two outputs (``inf``: not comparable)."""
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        if list(a.columns) != list(b.columns) or len(a) != len(b):
            return [math.inf]
        if not (a.dtypes == b.dtypes).all():
            return [math.inf]
        out: list[float] = []
        for col in a.columns:
            out += differences(a[col].to_numpy(), b[col].to_numpy())
        return out
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.shape != b.shape:
            return [math.inf]
        if a.dtype.kind in "fc":
            same = (a == b) | (np.isnan(a) & np.isnan(b))
            if same.all():
                return []
            bad = ~same
            scale = np.maximum(np.abs(a[bad]), np.abs(b[bad]))
            rel = np.abs(a[bad] - b[bad]) / np.where(scale > 0, scale, 1.0)
            return [float(v) if np.isfinite(v) else math.inf for v in rel]
        if a.dtype.kind in "mM":
            same = (a == b) | (np.isnat(a) & np.isnat(b))
            return [] if a.dtype == b.dtype and same.all() else [math.inf]
        if a.dtype.kind == "O":
            return differences(a.tolist(), b.tolist())
        return [] if np.array_equal(a, b) else [math.inf]
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [math.inf]
        return [d for k in a for d in differences(a[k], b[k])]
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return [math.inf]
        return [d for u, v in zip(a, b, strict=True) for d in differences(u, v)]
    if isinstance(a, float | np.floating) and isinstance(b, float | np.floating):
        if a == b or (math.isnan(a) and math.isnan(b)):
            return []
        scale = max(abs(a), abs(b))
        return [abs(a - b) / scale if math.isfinite(scale) and scale > 0 else math.inf]
    if a is pd.NaT and b is pd.NaT:
        return []
    return [] if type(a) is type(b) and a == b else [math.inf]


def size(value: Any) -> int:
    """Rows or items of an output."""
    if isinstance(value, pd.DataFrame | list | tuple | dict):
        return len(value)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="main", help="commit, branch or tag to compare with")
    parser.add_argument("--days", type=int, default=2, help="simulated days (2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", default="2016-08-31")
    parser.add_argument("--orbits", type=int, default=3, help="orbits with window fits (3)")
    parser.add_argument("--fits", type=int, default=20, help="random window centres (20)")
    parser.add_argument(
        "--cache", type=Path, help="folder keeping the base's outputs between runs (by commit)"
    )
    parser.add_argument("--emit", nargs=2, metavar=("INPUTS", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emit:
        emit(Path(args.emit[0]), Path(args.emit[1]), args)
        return 0

    from trees import REPO, export_tree, resolve, run_in_tree

    work = Path(tempfile.mkdtemp(prefix="check-identity-"))
    inputs = work / "inputs.pkl"
    tables = build_inputs(args)
    pd.to_pickle(tables, inputs)
    base_sha = resolve(args.base)
    trees = {"base": export_tree(base_sha, work), "current": REPO}
    digest = hashlib.sha256(inputs.read_bytes()).hexdigest()[:12]
    cached = None
    if args.cache is not None:
        args.cache.mkdir(parents=True, exist_ok=True)
        cached = args.cache / f"{base_sha[:12]}-{digest}-{args.orbits}-{args.fits}.pkl"
    child = [
        "--days",
        str(args.days),
        "--orbits",
        str(args.orbits),
        "--fits",
        str(args.fits),
        "--emit",
        str(inputs),
    ]
    results = {}
    for label, tree in trees.items():
        out = work / f"{label}.pkl"
        if label == "base" and cached is not None and cached.is_file():
            out = cached
        else:
            run_in_tree(tree, Path(__file__), [*child, str(out)])
            if label == "base" and cached is not None:
                shutil.copyfile(out, cached)
        with open(out, "rb") as f:
            results[label] = pickle.load(f)
    base, current = results["base"], results["current"]
    head = run_git_describe(REPO)
    print(
        f"identity: base {args.base} ({base_sha[:10]}) vs current checkout ({head}); "
        f"inputs: {', '.join(f'{k} ({len(v):,} soundings)' for k, v in tables.items())}"
    )
    print(f"{'output':88s} {'items':>7s}  result")
    n_diff = 0
    for key in sorted(set(base) | set(current)):
        if key not in base or key not in current:
            print(f"{key[:88]:88s} {'':>7s}  only in {'current' if key in current else 'base'}")
            n_diff += 1
            continue
        diffs = differences(base[key], current[key])
        if diffs:
            n_diff += 1
            verdict = f"DIFFERENT: {len(diffs)} values, largest relative {max(diffs):.2g}"
        else:
            verdict = "identical"
        print(f"{key[:88]:88s} {size(current[key]):7d}  {verdict}")
    n_fits = sum(size(v) for k, v in current.items() if k.startswith("window fits"))
    print(
        f"{len(current)} outputs ({n_fits:,} window fits), {n_diff} different "
        f"({'all identical' if not n_diff else 'NOT identical'})"
    )
    return 1 if n_diff else 0


def run_git_describe(repo: Path) -> str:
    """``git describe --always --dirty`` of the checkout."""
    import subprocess

    out = subprocess.run(
        ["git", "-C", str(repo), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
