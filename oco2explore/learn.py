"""A learned scorer of the fit scan's candidate windows (CONTRACT §6, issue #18).

The fit scan (:mod:`oco2explore.scan`) decides each candidate by fixed thresholds
(significance at its width, R², σ bounds, support). The learned scorer keeps the scan
and its candidates and replaces only the decision: a gradient-boosted classifier of the
candidate windows, trained on labelled tracks, gives every candidate a calibrated
``learned_probability`` and ``passed`` becomes ``learned_probability ≥ threshold``.

Candidates
    The ordinary scan (:func:`oco2explore.scan.scan_orbit`) run with a permissive
    significance threshold (:func:`candidate_config`: :data:`CANDIDATE_FRACTION` × the
    threshold; with a false-alarm threshold, detector v2, the rate whose threshold at the
    narrowest width is that fraction of the configuration's, :func:`candidate_rate`), so
    that candidates below the fit's threshold are refitted and scored too. Every other
    bound and check of the configuration is the fit's; the configuration is read at run
    time (``FitConfig()`` unless given), never fixed here. A model records its fraction in
    its card and scores the candidates of that fraction.

Features (:data:`FEATURES`, one row per candidate, :func:`candidate_features`)
    What the scan computed (significance and its margin over the configuration's
    threshold at the fitted width, area, width, height and their errors, slope, R²,
    support counts and positions), the white Δχ² of a Gaussian at the fitted centre for
    six fixed widths (1–32 km), the residual structure of the window (rms, inside/outside
    ratio, lag-1 autocorrelation), the local and orbit noise (robust scatter of
    successive soundings), footprints and frames under the peak, the retrieval
    diagnostics under the peak against the window (band albedos, aerosol optical depth,
    surface-pressure difference, altitude and its spread), the wind, and the local context
    (other candidates in the window, the candidate's rank there). A feature the table
    cannot give (no wind, no diagnostics) is NaN; the classifier handles missing values.

Labels
    ``truth`` (:func:`truth_labels`, simulated days): 1 when the candidate lies on a
    simulated crossing (same orbit, within ``max(2σ, 15 km)``, :func:`oco2explore.truth.hits`)
    of Δ ≥ :data:`TRUE_DELTA_PPM`; 0 when it lies on no crossing; candidates on weaker
    crossings only are unlabelled and dropped (neither clearly a plume nor clearly noise).
    ``inventory`` (:func:`inventory_labels`, real files a user has): 1 when the plume
    model of :mod:`oco2explore.match` predicts Δ ≥ :data:`INVENTORY_POSITIVE_PPM` at the
    candidate from a source of at least :data:`INVENTORY_LARGE_T_PER_YR` lying upwind
    (within :data:`INVENTORY_UPWIND_DEG` of the wind) within the search radius; 0 when no
    source lies upwind within the search radius; all others unlabelled and dropped.

Model (:func:`train`)
    scikit-learn's ``HistGradientBoostingClassifier`` (seeded), Platt-calibrated on
    out-of-fold scores (folds by orbit, so one orbit's candidates are never on both
    sides); the decision threshold is chosen on those out-of-fold probabilities: the
    lower of the lowest at which no more negatives pass than the fit scan passes on the
    same tracks (at least one) and the lowest keeping an out-of-fold precision of 0.95;
    at least 0.5. The model is saved with joblib, a JSON model card
    beside it (:func:`save`: data, labels, features, metrics, limits).

Guard (:data:`DEFAULT_GUARD`, :func:`within_guard`)
    The physics bound of the decision, recorded in the card: a model decides only the
    candidates the fit scan passed, and those it rejected on significance alone whose
    noise false-alarm rate is at most 1 per 10,000 km (10× the fit scan's) and whose fit at
    that rate passes every other check (R², support, the artefact check); every other
    candidate keeps the fit scan's verdict. Such models are trained, calibrated and
    thresholded on the candidates within the guard. A model without a guard in its card
    decides every candidate.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .config import FitConfig
from .errors import InputError
from .fit import best_amplitude, gaussian, line_projection
from .scan import (
    Track,
    _peak_table,
    _prepared,
    _scan_columns,
    empty_peaks,
    fit_at,
    orbit_groups,
    prepare_orbit,
)
from .track import window_slice
from .truth import hits

log = logging.getLogger(__name__)

#: Candidates are refitted down to this fraction of the significance threshold (with a
#: false-alarm threshold: of the threshold at the narrowest width, :func:`candidate_rate`).
#: 1: the fit scan's own refits, passed and rejected (the scan already refits candidates
#: down to ``scan.PRESCREEN`` of the threshold). Chosen by measurement on the training
#: days (docs/learned.md): under detector v2, 0.5 gave more positives (264 against 215 on
#: the packaged model's 200 + 4 days per noise model) but a lower out-of-fold average
#: precision (0.66 against 0.77) and a second, wider scan to pay for.
CANDIDATE_FRACTION = 1.0
#: Highest false-alarm rate of a candidate scan, per 10,000 km.
MAX_CANDIDATE_RATE = 1e4
#: Fixed widths of the white Δχ² features, km.
PROBE_SIGMAS_KM = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
#: Soundings "under the peak": within this many σ of the centre.
INNER_SIGMAS = 2.0
#: Truth labels: a crossing at least this high is a plume to find, ppm.
TRUE_DELTA_PPM = 0.5
#: Inventory labels: predicted Δ of a positive, ppm; smallest source, t CO2/yr; largest
#: angle between the source→candidate bearing and the wind, degrees.
INVENTORY_POSITIVE_PPM = 1.0
INVENTORY_LARGE_T_PER_YR = 1e6
INVENTORY_UPWIND_DEG = 30.0
#: A source more than this far off the wind's line is not upwind of the candidate, degrees.
INVENTORY_REACH_DEG = 90.0
#: Cross-validation folds (by orbit) for the calibration and the threshold.
FOLDS = 4
#: Lowest decision threshold on the calibrated probability.
MIN_THRESHOLD = 0.5
#: Out-of-fold precision the threshold keeps (issue #18's target).
TARGET_PRECISION = 0.95
#: The bound of a model's decision (its card's ``guard``, :func:`within_guard`): the scorer
#: passes only candidates that the fit scan passed or rejected on significance alone (its
#: shape, support, width-bound and artefact checks stand), and whose significance the noise
#: statistic alone expects at most this often per 10,000 km of track
#: (:func:`oco2explore.noise.false_peaks_per_10000km`, 10× the fit scan's default rate).
#: Even a scorer that passed every noise bump within the bound would then pass at most one
#: per 10,000 km, issue #15's tolerance for unexplained peaks on real tracks. Without it a
#: model trained on simulated days passed real California bumps of significance 2.6 and 10.6
#: (docs/learned.md, session 14).
GUARD_FALSE_PEAKS_PER_10000KM = 1.0
#: Candidate-scan verdicts (``reject_reason``) a guarded scorer may overturn (a significance
#: rejection only when it also meets ``r2_min``, :func:`within_guard`).
GUARD_REASONS = ("", "significance_min")
#: Column of a candidate's features (not a model feature): whether the fit at its centre
#: passes every check with the guard's rate as the threshold (:func:`candidates`); NaN where
#: not asked.
GUARD_REFIT = "guard_refit_passed"
#: The guard of models trained now (None: the scorer decides every candidate).
DEFAULT_GUARD: dict[str, Any] = {
    "max_false_peaks_per_10000km": GUARD_FALSE_PEAKS_PER_10000KM,
    "fit_reasons": list(GUARD_REASONS),
}
#: Boosting hyper-parameters (fixed, not tuned on evaluation data).
HGB_PARAMS: dict[str, Any] = {
    "max_iter": 300,
    "learning_rate": 0.05,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 20,
    "l2_regularization": 1.0,
    "early_stopping": False,
}
#: Retrieval diagnostics compared under the peak and in the window (when in the table).
DIAGNOSTICS = ("albedo_o2a", "albedo_sco2", "aod_total")

#: Feature names and meanings (units), in model order.
FEATURES: dict[str, str] = {
    "significance": "detection statistic of the fit",
    "margin": "significance / the configuration's threshold at the fitted width",
    "amplitude": "Gaussian area A, ppm km",
    "sigma_km": "Gaussian width σ, km",
    "delta_ppm": "peak height Δ, ppm",
    "amplitude_err": "1-σ error of A, ppm km",
    "sigma_km_err": "1-σ error of σ, km",
    "delta_ppm_err": "1-σ error of Δ, ppm",
    "delta_snr": "Δ / its error",
    "r2": "coefficient of determination inside ±4σ",
    "slope": "background slope, ppm/km",
    "n_soundings": "soundings in the window",
    "n_left": "soundings in [−2σ, 0]",
    "n_right": "soundings in [0, 2σ]",
    "support_ratio": "min(n_left, n_right) / the support needed at σ",
    "sigma_on_bound": "σ on a bound: −1 lower, 1 upper, 0 free",
    **{
        f"white_dchi2_{s:g}km": f"white Δχ² of a Gaussian of σ {s:g} km at the centre"
        for s in PROBE_SIGMAS_KM
    },
    "resid_rms_ppm": "rms of the fit residuals in the window, ppm",
    "resid_rms_over_noise": "rms of the fit residuals in the window / local noise",
    "resid_inner_ratio": "residual rms under the peak / outside it",
    "resid_lag1": "lag-1 autocorrelation of the residuals along the track",
    "local_noise_ppm": "robust scatter of successive soundings in the window, ppm",
    "delta_over_noise": "Δ / local noise",
    "noise_ratio": "local noise / orbit noise",
    "n_positions": "distinct 1 km positions under the peak",
    "frame_share": "largest share of the soundings under the peak at one position",
    "n_footprints": "distinct footprints under the peak",
    **{
        f"{d}_contrast": f"{d} under the peak − outside, in window standard deviations"
        for d in DIAGNOSTICS
    },
    "dpsurf_contrast": "psurf − psurf_apriori under the peak − outside, hPa",
    "altitude_contrast": "altitude under the peak − outside, m",
    "altitude_spread_m": "standard deviation of the altitude under the peak, m",
    "wind_speed": "wind speed at the centre, m/s",
    "wind_perp_abs": "|wind across the track| at the centre, m/s",
    "n_neighbours": "other candidates within the window",
    "margin_rank": "rank of the margin among the candidates within the window (1 = largest)",
    "neighbour_margin_ratio": "largest margin of another candidate in the window / own",
}
FEATURE_NAMES = tuple(FEATURES)
#: Features in absolute units of noise or terrain. The simulator's scatter (0.56–0.80 ppm on
#: its positives, 5–95 %) lies above real OCO-2's over California (0.47–0.49 ppm at the LA
#: and Las Vegas crossings) and its surface has almost no relief (altitude spread under a
#: peak ≤ 8 m on 95 % of its positives, 150–335 m at the real crossings): on real data these
#: features fall outside the training range and lowered the real city crossings' probability
#: (docs/learned.md, session 10). :data:`SCALE_FREE_FEATURES` leaves them out.
SCALE_DEPENDENT = ("local_noise_ppm", "resid_rms_ppm", "altitude_contrast", "altitude_spread_m")
SCALE_FREE_FEATURES = tuple(n for n in FEATURE_NAMES if n not in SCALE_DEPENDENT)
#: The features of models trained before session 10 (the packaged model's).
V1_FEATURES = tuple(n for n in FEATURE_NAMES if n != "resid_rms_over_noise")
#: Named feature sets of :func:`train`.
FEATURE_SETS = {"v1": V1_FEATURES, "scale-free": SCALE_FREE_FEATURES}

#: What every model card says the model cannot do.
LIMITS = (
    "Trained on the tracks named under 'data' only: a model trained on simulated days has "
    "learned the simulator's plumes, noise and clouds, and is not validated on real data "
    "beyond the real passes of the benchmark (bench_learned.py).",
    "Features the training tables lacked (e.g. band albedos and aerosol on simulated days) "
    "are constant in training and carry no weight.",
    "The threshold matches the fit scan's false-alarm count on the training tracks; on other "
    "data the false-alarm rate can differ.",
    "Scores candidates of the fit scan only: a plume the permissive scan does not refit "
    "cannot pass.",
    "A guarded model (card 'guard') passes only candidates the fit scan passed or rejected on "
    "significance alone up to the guard's noise false-alarm rate (and passing the fit's other "
    "checks there): it can add at most that rate of noise peaks to the fit scan's, and finds "
    "nothing the fit scan rejects for shape, support or artefacts.",
)


def candidate_config(config: FitConfig, fraction: float = CANDIDATE_FRACTION) -> FitConfig:
    """The permissive configuration whose scan gives the candidates.

    ``config`` with the significance threshold lowered to ``fraction`` of it: with a
    false-alarm threshold (``false_peaks_per_10000km``, detector v2) the rate of
    :func:`candidate_rate`, else ``significance_min`` × ``fraction``; unchanged when the
    threshold is off or ``fraction`` is 1 (the fit scan's own refits).

    Parameters
    ----------
    config : FitConfig
        The detector's configuration.
    fraction : float
        Candidate threshold over the detector's, in (0, 1].
    """
    if not 0 < fraction <= 1:
        raise InputError(f"candidate fraction must be in (0, 1], got {fraction!r}")
    if fraction == 1:
        return config
    if config.false_peaks_per_10000km is not None:
        return config.replace(false_peaks_per_10000km=candidate_rate(config, fraction))
    if config.significance_min is not None:
        return config.replace(significance_min=config.significance_min * fraction)
    return config


def candidate_rate(config: FitConfig, fraction: float = CANDIDATE_FRACTION) -> float:
    """False-alarm rate (per 10,000 km) of the candidate scan under a false-alarm threshold.

    The rate whose threshold at ``sigma_min_km`` (the highest of the σ range) is
    ``fraction`` × the configuration's there (:func:`oco2explore.noise.false_peaks_per_10000km`,
    the inverse of the threshold), at least the configuration's rate and at most
    :data:`MAX_CANDIDATE_RATE`. Read from ``config``, so it follows any change of defaults.
    """
    from .noise import false_peaks_per_10000km

    rate = config.false_peaks_per_10000km
    if rate is None:
        raise InputError("candidate_rate needs a configuration with false_peaks_per_10000km")
    lo, hi = config.sigma_min_km, config.sigma_max_km
    limit = config.significance_limit(lo)
    wanted = float(np.asarray(false_peaks_per_10000km(fraction * limit, lo, lo, hi)))
    return float(min(max(wanted, rate), MAX_CANDIDATE_RATE))


def _robust_scatter(y: NDArray) -> float:
    """Robust standard deviation of one sounding from successive differences, ppm."""
    if y.size < 3:
        return math.nan
    d = np.diff(y)
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(2.0))


def _contrast(values: NDArray, inner: NDArray, scale: bool) -> float:
    """Mean under the peak minus mean outside (in window standard deviations if ``scale``)."""
    ok = np.isfinite(values)
    a, b = values[inner & ok], values[~inner & ok]
    if a.size < 2 or b.size < 2:
        return math.nan
    diff = float(a.mean() - b.mean())
    if not scale:
        return diff
    sd = float(values[ok].std())
    return diff / sd if sd > 0 else 0.0


def _white_probes(t: NDArray, w: NDArray, y: NDArray, config: FitConfig) -> NDArray:
    """White Δχ² (over the reduced χ²) of a Gaussian at ``t = 0`` for each probe width."""
    sig = np.full(len(PROBE_SIGMAS_KM), math.nan)
    if t.size < 8:
        return sig
    y = y - np.median(y)
    phi = gaussian(t[None, :], 1.0, np.asarray(PROBE_SIGMAS_KM)[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2_line, gy_perp, gg_perp = line_projection(t, w, y, phi)
        amp, drop = best_amplitude(gy_perp, gg_perp, config.amplitude_min, config.amplitude_max)
        chi2 = np.maximum(chi2_line - drop, 1e-12 * float((w * w * y * y).sum()))
        out = drop / (chi2 / (t.size - 4))
    return np.where(np.isfinite(out) & (amp > config.amplitude_min), out, 0.0)


def _orbit_features(track: Track, peaks: pd.DataFrame, config: FitConfig) -> pd.DataFrame:
    """:data:`FEATURES` of one orbit's candidates (rows of ``peaks``, same order)."""
    soundings = track.soundings
    x, y, w = track.x, track.xco2, track.weight
    along = np.argsort(track.error_km, kind="stable")
    orbit_noise = _robust_scatter(y[along])
    optional = {
        c: soundings[c].to_numpy(float)
        for c in (*DIAGNOSTICS, "altitude", "psurf", "psurf_apriori")
        if c in soundings
    }
    footprint = soundings["footprint"].to_numpy() if "footprint" in soundings else None
    centres = peaks["distance_km"].to_numpy(float)
    sigmas = peaks["sigma_km"].to_numpy(float)
    limits = np.array([config.significance_limit(s) or math.nan for s in sigmas], dtype=float)
    margin = peaks["significance"].to_numpy(float) / limits
    rows = []
    half = config.half_width_km
    for k, p in enumerate(peaks.itertuples()):
        c, s = centres[k], sigmas[k]
        win = window_slice(x, c, half)
        t, yw, ww = x[win] - c, y[win], w[win]
        inner = np.abs(t) <= INNER_SIGMAS * s
        model = p.slope * t + p.intercept + gaussian(t, p.amplitude, s)
        resid = yw - model
        order = np.argsort(track.error_km[win], kind="stable")
        r_sorted = resid[order]
        lag1 = math.nan
        if r_sorted.size > 3 and r_sorted.std() > 0:
            lag1 = float(np.corrcoef(r_sorted[:-1], r_sorted[1:])[0, 1])
        rin, rout = resid[inner], resid[~inner]
        ratio = (
            float(np.sqrt(np.mean(rin**2)) / np.sqrt(np.mean(rout**2)))
            if rin.size and rout.size and np.any(rout != 0)
            else math.nan
        )
        local = _robust_scatter(yw[order])
        positions = np.round(track.error_km[win][inner])
        _, counts = np.unique(positions, return_counts=True)
        need = config.support_limit(s) or 1
        other = np.abs(centres - c) <= half
        other[k] = False
        row: dict[str, float] = {
            "significance": p.significance,
            "margin": margin[k],
            "amplitude": p.amplitude,
            "sigma_km": s,
            "delta_ppm": p.delta_ppm,
            "amplitude_err": p.amplitude_err,
            "sigma_km_err": p.sigma_km_err,
            "delta_ppm_err": p.delta_ppm_err,
            "delta_snr": p.delta_ppm / p.delta_ppm_err if p.delta_ppm_err > 0 else math.nan,
            "r2": p.r2,
            "slope": p.slope,
            "n_soundings": p.n_soundings,
            "n_left": p.n_left,
            "n_right": p.n_right,
            "support_ratio": min(p.n_left, p.n_right) / need,
            "sigma_on_bound": -1.0
            if s <= config.sigma_min_km * 1.001
            else 1.0
            if s >= config.sigma_max_km * 0.999
            else 0.0,
            "resid_rms_ppm": float(np.sqrt(np.mean(resid**2))) if resid.size else math.nan,
            "resid_rms_over_noise": float(np.sqrt(np.mean(resid**2))) / local
            if resid.size and local > 0
            else math.nan,
            "resid_inner_ratio": ratio,
            "resid_lag1": lag1,
            "local_noise_ppm": local,
            "delta_over_noise": p.delta_ppm / local if local > 0 else math.nan,
            "noise_ratio": local / orbit_noise if orbit_noise > 0 else math.nan,
            "n_positions": float(counts.size),
            "frame_share": float(counts.max() / counts.sum()) if counts.size else math.nan,
            "n_footprints": float(np.unique(footprint[win][inner]).size)
            if footprint is not None
            else math.nan,
            "wind_speed": math.hypot(p.windspeed_u, p.windspeed_v),
            "wind_perp_abs": abs(p.wind_perp),
            "n_neighbours": float(other.sum()),
            "margin_rank": 1.0 + float(np.sum(margin[other] > margin[k])),
            "neighbour_margin_ratio": float(margin[other].max() / margin[k])
            if other.any() and margin[k] > 0
            else 0.0,
        }
        for name, value in zip(
            (f"white_dchi2_{v:g}km" for v in PROBE_SIGMAS_KM),
            _white_probes(t, ww, yw, config),
            strict=True,
        ):
            row[name] = float(value)
        for d in DIAGNOSTICS:
            row[f"{d}_contrast"] = (
                _contrast(optional[d][win], inner, True) if d in optional else math.nan
            )
        if "psurf" in optional and "psurf_apriori" in optional:
            dp = optional["psurf"][win] - optional["psurf_apriori"][win]
            row["dpsurf_contrast"] = _contrast(dp, inner, False)
        else:
            row["dpsurf_contrast"] = math.nan
        if "altitude" in optional:
            alt = optional["altitude"][win]
            row["altitude_contrast"] = _contrast(alt, inner, False)
            a_in = alt[inner & np.isfinite(alt)]
            row["altitude_spread_m"] = float(a_in.std()) if a_in.size > 1 else math.nan
        else:
            row["altitude_contrast"] = row["altitude_spread_m"] = math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=list(FEATURE_NAMES), dtype=float)


def candidates(
    soundings: pd.DataFrame | Track,
    config: FitConfig | None = None,
    fraction: float = CANDIDATE_FRACTION,
    cpu: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidate windows of a sounding table and their features.

    Parameters
    ----------
    soundings : DataFrame or Track
        Sounding table (CONTRACT §1), as for :func:`oco2explore.scan.detect`; or one
        orbit already prepared for :func:`candidate_config` of ``config``
        (:func:`oco2explore.scan.prepare_orbit`, as :func:`oco2explore.scan.scan_orbit`
        takes it: the explorer keeps its orbit's Track across slider changes).
    config : FitConfig, optional
        The detector's configuration (``FitConfig()`` when None, read at call time); the
        candidates come from :func:`candidate_config` of it, the margins use it.
    fraction : float
        Candidate threshold over the configuration's (:func:`candidate_config`; a model's
        own is :func:`scorer_fraction`).
    cpu : dict, optional
        When given, CPU seconds are added to its ``"scan"`` (preparation and scan) and
        ``"features"`` entries (for benchmarks).

    Returns
    -------
    peaks : DataFrame
        Peak table (CONTRACT §2) of the permissive scan: every candidate, ``passed`` by
        the permissive thresholds.
    features : DataFrame
        :data:`FEATURES` of each row of ``peaks`` (same index), and its
        :data:`GUARD_REFIT` (not a model feature; :func:`within_guard` reads it).
    """
    config = FitConfig() if config is None else config
    permissive = candidate_config(config, fraction)
    # As :func:`oco2explore.scan.detect` does it: the orbits' columns, one peak table (with
    # fraction 1 it is detect's table), then the features of each orbit's rows.
    t0 = time.process_time()
    if isinstance(soundings, Track):
        prepared: Iterable[Track] = [_prepared(soundings, permissive)]
    else:
        groups = orbit_groups(soundings, permissive)
        prepared = (prepare_orbit(orbit_df, permissive) for _, orbit_df in groups)
    tracks, parts = [], []
    for track in prepared:
        columns = _scan_columns(track, permissive)
        if columns is not None:
            tracks.append(track)
            parts.append(columns)
    peaks = _peak_table(parts) if parts else empty_peaks()
    t1 = time.process_time()
    feats = []
    start = 0
    for track, columns in zip(tracks, parts, strict=True):
        n = len(columns["distance_km"])
        rows = peaks.iloc[start : start + n].reset_index(drop=True)
        orbit_feats = _orbit_features(track, rows, config)
        orbit_feats[GUARD_REFIT] = _guard_refits(track, rows, config)
        feats.append(orbit_feats)
        start += n
    if cpu is not None:
        cpu["scan"] = cpu.get("scan", 0.0) + t1 - t0
        cpu["features"] = cpu.get("features", 0.0) + time.process_time() - t1
    if not feats:
        return peaks, pd.DataFrame(columns=[*FEATURE_NAMES, GUARD_REFIT], dtype=float)
    return peaks, pd.concat(feats, ignore_index=True)


def _guard_refits(track: Track, rows: pd.DataFrame, config: FitConfig) -> NDArray:
    """:data:`GUARD_REFIT` of one orbit's candidates (rows of its peak table).

    A candidate rejected on significance alone, within :data:`DEFAULT_GUARD`'s rate, is
    fitted again at its centre as the scan fits it (:func:`oco2explore.scan.fit_at`, the
    orbit's other enhancements subtracted) with the guard's rate as the threshold: 1 when
    that fit passes every check (R², support, the artefact check with the diagnostics),
    else 0. NaN for every other candidate, and without a false-alarm threshold.
    """
    out = np.full(len(rows), math.nan)
    if config.false_peaks_per_10000km is None or not len(rows):
        return out
    band = (rows["reject_reason"].astype(str) == "significance_min").to_numpy()
    with np.errstate(invalid="ignore"):
        band = band & (false_rate(rows, config) <= GUARD_FALSE_PEAKS_PER_10000KM)
    if not band.any():
        return out
    rate = max(GUARD_FALSE_PEAKS_PER_10000KM, config.false_peaks_per_10000km)
    at_guard = config.replace(false_peaks_per_10000km=rate)
    for k in np.flatnonzero(band):
        fit = fit_at(track, float(rows["distance_km"].iloc[k]), at_guard, rows).fit
        out[k] = 1.0 if fit.passed else 0.0
    return out


def truth_labels(peaks: pd.DataFrame, truth: pd.DataFrame) -> NDArray:
    """Labels of candidates from a simulation's truth: 1 plume, 0 noise, NaN unlabelled.

    1 on a crossing (:func:`oco2explore.truth.hits`) of Δ ≥ :data:`TRUE_DELTA_PPM`, 0 on
    no crossing, NaN on weaker crossings only.
    """
    if not len(peaks):
        return np.zeros(0)
    if not len(truth):
        return np.zeros(len(peaks))
    _, hit = hits(peaks, truth)
    strong = truth["delta_ppm"].to_numpy(float) >= TRUE_DELTA_PPM
    labels = np.where(hit.any(axis=1), np.nan, 0.0)
    labels[hit[:, strong].any(axis=1)] = 1.0
    return labels


def inventory_labels(
    peaks: pd.DataFrame, sources: pd.DataFrame, match_config: Any = None
) -> NDArray:
    """Labels of candidates from an inventory and the wind: 1, 0 or NaN (unlabelled).

    1 when the plume model (:func:`oco2explore.match.match_peaks`) predicts Δ ≥
    :data:`INVENTORY_POSITIVE_PPM` at the candidate from a source of at least
    :data:`INVENTORY_LARGE_T_PER_YR` within :data:`INVENTORY_UPWIND_DEG` of the upwind
    line and within the search radius; 0 when no source lies within
    :data:`INVENTORY_REACH_DEG` of the upwind line within the radius (any direction
    without wind); NaN otherwise (a small or off-axis source in reach: ambiguous).
    """
    from .match import match_peaks

    if not len(peaks):
        return np.zeros(0)
    m = match_peaks(
        peaks.reset_index(drop=True).assign(_row=np.arange(len(peaks))),
        sources,
        top_k=50,
        config=match_config,
    )
    angle = m["upwind_angle_deg"].to_numpy(float)
    has = m["rank"].notna().to_numpy()
    reach = has & ~(angle > INVENTORY_REACH_DEG)
    positive = (
        has
        & (m["predicted_delta_ppm"].to_numpy(float) >= INVENTORY_POSITIVE_PPM)
        & (m["source_emission_t_per_yr"].to_numpy(float) >= INVENTORY_LARGE_T_PER_YR)
        & (angle <= INVENTORY_UPWIND_DEG)
    )
    row = m["_row"].to_numpy()
    any_reach = np.bincount(row, reach, len(peaks)) > 0
    any_pos = np.bincount(row, positive, len(peaks)) > 0
    labels = np.where(any_reach, np.nan, 0.0)
    labels[any_pos] = 1.0
    return labels


@dataclass
class LearnedScorer:
    """A trained scorer: the classifier, its calibration, threshold and model card.

    Attributes
    ----------
    model : HistGradientBoostingClassifier
        The classifier of ``features`` (a subset of :data:`FEATURE_NAMES`).
    platt : tuple of float
        ``(a, b)``: probability ``1 / (1 + exp(a·s + b))`` of the decision score ``s``.
    threshold : float
        ``passed`` when the calibrated probability reaches it.
    card : dict
        The model card (data, labels, features, metrics, limits).
    features : tuple of str
        The model's features.
    offset : float
        Log-odds of the positives' share in the training set, subtracted from the
        classifier's decision score before the calibration (:func:`train`; 0 for models
        saved without it).
    """

    model: Any
    platt: tuple[float, float]
    threshold: float
    card: dict[str, Any] = field(default_factory=dict)
    features: tuple[str, ...] = V1_FEATURES
    offset: float = 0.0

    def probability(
        self, features: pd.DataFrame, memo: dict[bytes, float] | None = None
    ) -> NDArray:
        """Calibrated probability that each candidate is a plume (0–1).

        Parameters
        ----------
        features : DataFrame
            Features of the candidates (at least :attr:`features`).
        memo : dict, optional
            Probabilities already computed by this scorer, keyed by the bytes of a
            candidate's feature vector: candidates found there are not scored again, the
            others are scored and added (the explorer keeps one per page, so a slider step
            scores only the candidates whose features it changed).
        """
        if not len(features):
            return np.zeros(0)
        values = np.ascontiguousarray(features[list(self.features)].to_numpy(float))
        if memo is None:
            return self._probability(values)
        keys = [row.tobytes() for row in values]
        new = [i for i, k in enumerate(keys) if k not in memo]
        if new:
            for i, p in zip(new, self._probability(values[new]), strict=True):
                memo[keys[i]] = float(p)
        return np.array([memo[k] for k in keys], dtype=float)

    def _probability(self, values: NDArray) -> NDArray:
        from threadpoolctl import threadpool_limits

        # One thread: the trees of a few hundred candidates take milliseconds, while idle
        # OpenMP workers spin and, on a loaded machine, cost seconds of CPU (measured in
        # bench_learned.py: 3.6 s instead of 0.01 s on 60 simulated regional days).
        with threadpool_limits(limits=1, user_api="openmp"):
            score = self.model.decision_function(values) - self.offset
        return _platt(score, self.platt)


def _platt(score: NDArray, platt: tuple[float, float]) -> NDArray:
    a, b = platt
    return 1.0 / (1.0 + np.exp(np.clip(a * score + b, -500, 500)))


def _fit_platt(score: NDArray, y: NDArray) -> tuple[float, float]:
    """Platt's sigmoid fitted to decision scores (logistic regression, almost unpenalised)."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6)
    lr.fit(score.reshape(-1, 1), y)
    return -float(lr.coef_[0, 0]), -float(lr.intercept_[0])


def _classifier(seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=seed, **HGB_PARAMS)


def _threshold(prob: NDArray, y: NDArray, allowed_false: int) -> float:
    """Lowest probability (≥ 0.5) passing at most ``allowed_false`` negatives, or precision.

    The lower of: the threshold at which at most ``allowed_false`` out-of-fold negatives
    pass, and the lowest at which the passed candidates keep a precision of at least
    :data:`TARGET_PRECISION` (a fit scan without false alarms on the training tracks would
    otherwise set it on the single highest-scored negative).
    """
    neg = np.sort(prob[y == 0])[::-1]
    by_count = (
        MIN_THRESHOLD if neg.size <= allowed_false else float(np.nextafter(neg[allowed_false], 1.0))
    )
    order = np.argsort(-prob, kind="stable")
    tp = np.cumsum(y[order] == 1)
    precision = tp / np.arange(1, order.size + 1)
    ok = np.flatnonzero(precision >= TARGET_PRECISION)
    by_precision = float(prob[order][ok[-1]]) if ok.size else 1.0
    return float(max(MIN_THRESHOLD, min(by_count, by_precision)))


def _metrics(prob: NDArray, y: NDArray, threshold: float) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    passed = prob >= threshold
    two = len(np.unique(y)) == 2
    return {
        "roc_auc": round(float(roc_auc_score(y, prob)), 4) if two else math.nan,
        "average_precision": round(float(average_precision_score(y, prob)), 4) if two else math.nan,
        "brier": round(float(brier_score_loss(y, prob)), 4),
        "precision_at_threshold": round(float(y[passed].mean()), 4) if passed.any() else math.nan,
        "recall_at_threshold": round(float(passed[y == 1].mean()), 4)
        if (y == 1).any()
        else math.nan,
        "false_at_threshold": int(np.count_nonzero(passed & (y == 0))),
    }


def train(
    features: pd.DataFrame,
    labels: NDArray,
    groups: NDArray,
    fit_false: int = 0,
    seed: int = 0,
    card: dict[str, Any] | None = None,
    fraction: float = CANDIDATE_FRACTION,
    feature_names: Sequence[str] = V1_FEATURES,
    guard: dict[str, Any] | None = None,
    inside: NDArray | None = None,
) -> LearnedScorer:
    """Train, calibrate and threshold a scorer on labelled candidates.

    Parameters
    ----------
    features : DataFrame
        :data:`FEATURES` of the candidates.
    labels : ndarray
        1 plume, 0 noise, NaN unlabelled (dropped).
    groups : ndarray
        Orbit (or day) of each candidate: cross-validation folds never split one.
    fit_false : int
        Passed peaks of the fit scan on the same tracks that are labelled 0: the
        threshold lets at most ``max(fit_false, 1)`` out-of-fold negatives pass.
    seed : int
        Random seed of the classifier.
    card : dict, optional
        Model-card entries to record (``data``, ``labels`` …; ``fit_config``: the
        configuration of the candidates).
    fraction : float
        Candidate threshold over the configuration's the candidates were found with
        (:func:`candidate_config`), recorded in the card: the model scores such candidates.
    feature_names : sequence of str
        The features the model uses (a subset of :data:`FEATURE_NAMES`, e.g. a set of
        :data:`FEATURE_SETS`), recorded in the model.
    guard : dict, optional
        The model's guard (:data:`DEFAULT_GUARD`, :func:`within_guard`), recorded in its
        card; None: the scorer decides every candidate.
    inside : ndarray of bool, optional
        Whether each candidate lies within ``guard`` (:func:`within_guard`). Candidates
        outside it are left out of the training, the calibration and the threshold: the
        model never decides them.

    Returns
    -------
    LearnedScorer

    Raises
    ------
    InputError
        No positive or no negative candidate.
    """
    from sklearn.model_selection import GroupKFold

    start = time.process_time()
    y = np.asarray(labels, dtype=float)
    labelled = np.isfinite(y)
    outside = np.zeros(y.size, dtype=bool)
    if guard is not None:
        if inside is None:
            raise InputError("a guarded model needs within_guard() of its candidates")
        outside = ~np.asarray(inside, dtype=bool)
    keep = labelled & ~outside
    out_of_guard = {
        "positive": int(np.count_nonzero(outside & labelled & (np.nan_to_num(y) == 1))),
        "negative": int(np.count_nonzero(outside & labelled & (np.nan_to_num(y, nan=1) == 0))),
    }
    names = tuple(feature_names)
    unknown = sorted(set(names) - set(FEATURE_NAMES))
    if unknown:
        raise InputError(f"unknown features: {unknown}")
    X = features.loc[keep, list(names)].to_numpy(float, copy=True)
    y, g = y[keep].astype(int), np.asarray(groups)[keep]
    # A feature the training tables never have (all NaN) is held constant: no split uses it.
    absent = ~np.isfinite(X).any(axis=0)
    X[:, absent] = 0.0
    n_pos, n_neg = int(y.sum()), int((y == 0).sum())
    if n_pos == 0 or n_neg == 0:
        where = "" if guard is None else " within the guard (give more tracks)"
        raise InputError(
            f"cannot train: {n_pos} positive and {n_neg} negative labelled candidates"
            f"{where} (need both)"
        )
    folds = min(FOLDS, len(np.unique(g)))
    oof = np.full(y.size, math.nan)
    if folds >= 2:
        for tr, te in GroupKFold(n_splits=folds).split(X, y, g):
            if len(np.unique(y[tr])) < 2:
                continue
            # Less the fold's own prior: a boosted model starts from the log-odds of its
            # training share, which for held-out orbits runs against their labels (a fold
            # with fewer positives is held out from a training set with more) and, on few
            # candidates, outweighs the evidence the trees add.
            dec = _classifier(seed).fit(X[tr], y[tr]).decision_function(X[te])
            oof[te] = dec - _log_odds(y[tr])
    scored = np.isfinite(oof)
    if scored.sum() < 2 or len(np.unique(y[scored])) < 2:
        raise InputError(
            "cannot train: too few labelled orbits for cross-validation"
            + ("" if guard is None else " within the guard (give more tracks)")
        )
    from sklearn.metrics import roc_auc_score

    platt = _fit_platt(oof[scored], y[scored])
    flat = float(np.ptp(oof[scored])) <= 1e-9
    if flat or platt[0] >= 0 or roc_auc_score(y[scored], oof[scored]) <= 0.5:
        # Out-of-fold scores that rank plumes below noise would calibrate the final model's
        # probabilities upside down (its own scores rank them the right way round); scores
        # that do not rank them at all (trees without a split) give one probability to all.
        raise InputError(
            f"cannot train: out-of-fold scores do not rank the {n_pos} positive above the "
            f"{n_neg} negative candidates (too few labelled candidates"
            + ("" if guard is None else " within the guard")
            + "; give more tracks)"
        )
    prob = _platt(oof[scored], platt)
    threshold = _threshold(prob, y[scored], max(int(fit_false), 1))
    model = _classifier(seed).fit(X, y)
    offset = _log_odds(y)
    info = dict(card or {})
    info.update(
        {
            "model": "sklearn HistGradientBoostingClassifier + Platt calibration",
            "hyperparameters": HGB_PARAMS,
            "seed": seed,
            "features": {n: FEATURES[n] for n in names},
            "candidates": _candidate_card(info.get("fit_config"), fraction),
            "n_candidates": int(keep.size),
            "n_positive": n_pos,
            "n_negative": n_neg,
            "n_unlabelled_dropped": int((~labelled).sum()),
            "guard": None if guard is None else dict(guard),
            "n_outside_guard": out_of_guard,
            "n_groups": int(len(np.unique(g))),
            "features_absent_in_training": [n for n, a in zip(names, absent, strict=True) if a],
            "threshold": threshold,
            "threshold_rule": (
                f"lowest calibrated probability (at least {MIN_THRESHOLD}) at which at most "
                f"max(fit_false, 1) = {max(int(fit_false), 1)} out-of-fold negatives pass or "
                f"the out-of-fold precision stays >= {TARGET_PRECISION}"
            ),
            "fit_scan_false_on_training": int(fit_false),
            "metrics_out_of_fold": _metrics(prob, y[scored], threshold),
            "train_cpu_s": round(time.process_time() - start, 1),
            "limits": list(LIMITS),
            "sklearn_version": _sklearn_version(),
        }
    )
    return LearnedScorer(
        model=model, platt=platt, threshold=threshold, card=info, features=names, offset=offset
    )


def _log_odds(y: NDArray) -> float:
    """Log-odds of the positives' share of labels ``y`` (0/1, both present)."""
    share = float(np.mean(y))
    return math.log(share / (1.0 - share))


def _candidate_card(fit_config: dict[str, Any] | None, fraction: float) -> dict[str, Any]:
    """The candidate rule of a model card: the fraction and the thresholds it gives."""
    out: dict[str, Any] = {"fraction_of_threshold": float(fraction)}
    if fit_config is None:
        return out
    config = FitConfig.from_record(fit_config)
    permissive = candidate_config(config, fraction)
    if permissive.false_peaks_per_10000km is not None:
        out["false_peaks_per_10000km"] = permissive.false_peaks_per_10000km
    lo = config.sigma_min_km
    limit, low = config.significance_limit(lo), permissive.significance_limit(lo)
    if limit is not None and low is not None:
        out[f"threshold_at_{lo:g}km"] = round(float(low), 3)
        out[f"detector_threshold_at_{lo:g}km"] = round(float(limit), 3)
    return out


def scorer_fraction(scorer: LearnedScorer) -> float:
    """The candidate fraction a model was trained on (its card; :data:`CANDIDATE_FRACTION`)."""
    rule = scorer.card.get("candidates") or {}
    return float(rule.get("fraction_of_threshold", CANDIDATE_FRACTION))


def _sklearn_version() -> str:
    import sklearn

    return str(sklearn.__version__)


def card_path(path: str | Path) -> Path:
    """The model card beside a model file: ``MODEL.card.json``."""
    path = Path(path)
    return (
        path.with_name(path.name + ".card.json")
        if path.suffix != ".joblib"
        else path.with_suffix(".card.json")
    )


def save(scorer: LearnedScorer, path: str | Path) -> Path:
    """Write the scorer (joblib) and its model card (JSON beside it), atomically."""
    import joblib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": "oco2explore-learned-scorer/1",
        "model": scorer.model,
        "platt": scorer.platt,
        "offset": scorer.offset,
        "threshold": scorer.threshold,
        "features": list(scorer.features),
        "card": scorer.card,
    }
    _atomic(path, lambda f: joblib.dump(payload, f, compress=3))
    text = json.dumps(_jsonable(scorer.card), indent=2, sort_keys=True)
    _atomic(card_path(path), lambda f: f.write(text.encode()))
    return path


def _atomic(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else float(value)
    return value


def load(path: str | Path | None = None) -> LearnedScorer:
    """Read a scorer written by :func:`save` (the packaged default when ``path`` is None).

    Raises
    ------
    InputError
        The file is missing, unreadable or not a scorer (one line naming it).
    """
    import joblib

    path = default_model_path() if path is None else Path(path)
    try:
        payload = joblib.load(path)
    except FileNotFoundError:
        raise InputError("no such model file", path=path) from None
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
        reason = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise InputError(f"not a readable model file ({reason})", path=path) from None
    if not isinstance(payload, dict) or payload.get("format") != "oco2explore-learned-scorer/1":
        raise InputError("not an oco2explore learned-scorer model file", path=path)
    features = tuple(payload["features"])
    if not set(features) <= set(FEATURE_NAMES):
        raise InputError(
            "model was trained on other features than this version computes; retrain it",
            path=path,
        )
    card = dict(payload["card"])
    card["file"] = str(path)
    card["sha256"] = _sha256(path)
    return LearnedScorer(
        model=payload["model"],
        platt=tuple(payload["platt"]),
        offset=float(payload.get("offset", 0.0)),
        threshold=float(payload["threshold"]),
        card=card,
        features=features,
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def default_model_path() -> Path:
    """The packaged default model (``oco2explore/data/learned_default.joblib``)."""
    return Path(__file__).resolve().parent / "data" / "learned_default.joblib"


def false_rate(peaks: pd.DataFrame, config: FitConfig) -> NDArray:
    """Expected noise peaks per 10,000 km at least as significant as each candidate.

    :func:`oco2explore.noise.false_peaks_per_10000km` of the candidates' significance at
    their width (taken within the configuration's σ bounds); NaN without a significance.
    """
    from .noise import false_peaks_per_10000km

    if not len(peaks):
        return np.zeros(0)
    lo, hi = config.sigma_min_km, config.sigma_max_km
    sig = peaks["significance"].to_numpy(float)
    sigma = np.clip(np.nan_to_num(peaks["sigma_km"].to_numpy(float), nan=lo), lo, hi)
    rate = np.asarray(false_peaks_per_10000km(np.nan_to_num(sig, nan=0.0), sigma, lo, hi))
    return np.where(np.isfinite(sig), rate, math.nan)


def within_guard(
    peaks: pd.DataFrame,
    config: FitConfig,
    guard: dict[str, Any] | None,
    features: pd.DataFrame | None = None,
) -> NDArray:
    """Whether each candidate lies within a model's guard (:data:`DEFAULT_GUARD`).

    Parameters
    ----------
    peaks : DataFrame
        Candidates (peak table of the candidate scan; ``reject_reason`` its verdict).
    config : FitConfig
        The configuration whose σ bounds the false-alarm rate uses.
    guard : dict or None
        ``max_false_peaks_per_10000km`` and ``fit_reasons`` (the verdicts the scorer may
        overturn); None: every candidate. The rate is at least the configuration's
        ``false_peaks_per_10000km``.
    features : DataFrame, optional
        The candidates' features (:func:`candidates`): with their :data:`GUARD_REFIT`, a
        significance rejection is within the guard only when its fit at the default
        guard's rate passes every check (where that fit was asked).
    """
    if guard is None:
        return np.ones(len(peaks), dtype=bool)
    reason = peaks["reject_reason"].astype(str)
    ok = reason.isin(list(guard["fit_reasons"])).to_numpy()
    # The verdict names the first failed check only: a significance rejection must still
    # meet the R² floor (the one later check the peak table records) and, with the
    # features, pass every check when fitted at the guard's rate (the artefact check runs
    # on passed fits only).
    if config.r2_min is not None:
        with np.errstate(invalid="ignore"):
            shape = peaks["r2"].to_numpy(float) >= config.r2_min
        ok = ok & ((reason != "significance_min").to_numpy() | shape)
    if features is not None and GUARD_REFIT in features:
        refit = features[GUARD_REFIT].to_numpy(float)
        # Asked at the default guard's rate: where it was not asked, the table's checks.
        ok = ok & ((reason != "significance_min").to_numpy() | (refit != 0.0))
    # Never tighter than the configuration's own rate: what the fit scan passes stays in.
    limit = max(float(guard["max_false_peaks_per_10000km"]), config.false_peaks_per_10000km or 0)
    with np.errstate(invalid="ignore"):
        return ok & (false_rate(peaks, config) <= limit)


def apply_scorer(
    peaks: pd.DataFrame,
    features: pd.DataFrame,
    scorer: LearnedScorer,
    memo: dict[bytes, float] | None = None,
    config: FitConfig | None = None,
) -> pd.DataFrame:
    """Peaks with ``learned_probability`` and ``passed`` decided by the scorer.

    The fit's own statistics stay in the row; ``fit_reject_reason`` keeps the
    permissive scan's verdict. ``passed`` needs ``learned_probability ≥ threshold`` and,
    with a guard in the model's card, the candidate within it (:func:`within_guard`,
    ``config`` the candidates' configuration, the model's own when None).
    ``reject_reason`` becomes ``learned`` where the probability is too low, and stays the
    scan's verdict where the candidate lies outside the guard. ``memo``: see
    :meth:`LearnedScorer.probability`.
    """
    out = peaks.copy()
    prob = scorer.probability(features, memo)
    out["learned_probability"] = prob
    guard = scorer.card.get("guard")
    config = model_config(scorer) if config is None else config
    inside = within_guard(peaks, config, guard, features)
    passed = (prob >= scorer.threshold) & inside
    reason = out["reject_reason"].astype(str).to_numpy()
    out["fit_reject_reason"] = out["reject_reason"]
    out["passed"] = passed
    out["reject_reason"] = np.where(
        passed, "", np.where(inside | (reason == ""), "learned", reason)
    )
    return out


def score(
    soundings: pd.DataFrame | Track,
    config: FitConfig | None = None,
    scorer: LearnedScorer | None = None,
    memo: dict[bytes, float] | None = None,
) -> pd.DataFrame:
    """Peak table of a sounding table with the learned decision (CONTRACT §6).

    Parameters
    ----------
    soundings : DataFrame or Track
        Sounding table (CONTRACT §1), or one orbit prepared for the model's candidate
        configuration (:func:`candidates`).
    config : FitConfig, optional
        Detector configuration (``FitConfig()`` when None). A model scores the
        candidates of the configuration it was trained with (its card's
        ``fit_config``): the fields of ``config`` that differ from ``FitConfig()`` are
        applied on top of that one, so the defaults mean the model's own. The candidate
        fraction is the model's too (:func:`scorer_fraction`).
    scorer : LearnedScorer, optional
        The model (the packaged default when None).
    memo : dict, optional
        Probabilities of this scorer already computed (:meth:`LearnedScorer.probability`).

    Returns
    -------
    DataFrame
        Every candidate of :func:`candidates` with ``learned_probability``,
        ``fit_reject_reason`` and ``passed`` by the scorer.
    """
    scorer = load() if scorer is None else scorer
    config = model_config(scorer, config)
    peaks, feats = candidates(soundings, config, scorer_fraction(scorer))
    return apply_scorer(peaks, feats, scorer, memo, config)


def model_config(scorer: LearnedScorer, config: FitConfig | None = None) -> FitConfig:
    """The configuration whose candidates ``scorer`` scores (see :func:`score`)."""
    config = FitConfig() if config is None else config
    trained = scorer.card.get("fit_config")
    if trained is None:
        return config
    defaults = FitConfig().to_dict()
    changes = {k: v for k, v in config.to_dict().items() if v != defaults[k]}
    base = FitConfig.from_record(trained)
    if changes:
        log.info("fit options applied to the model's configuration: %s", sorted(changes))
    return base.replace(**changes) if changes else base


def scorer_metadata(scorer: LearnedScorer) -> dict[str, Any]:
    """What a peak table records about the model that scored it."""
    card = scorer.card
    return {
        "scorer": "learned",
        "model_file": card.get("file"),
        "model_sha256": card.get("sha256"),
        "threshold": scorer.threshold,
        "trained_on": card.get("data"),
        "labels": card.get("labels"),
    }


@dataclass
class LabelledTracks:
    """Candidates, features, labels and bookkeeping of a set of labelled tracks."""

    peaks: list[pd.DataFrame] = field(default_factory=list)
    features: list[pd.DataFrame] = field(default_factory=list)
    labels: list[NDArray] = field(default_factory=list)
    groups: list[NDArray] = field(default_factory=list)
    fit_false: int = 0
    names: list[str] = field(default_factory=list)
    #: The configuration of each table's candidates (for :func:`within_guard`).
    configs: list[FitConfig] = field(default_factory=list)
    #: Candidate threshold over the configuration's (:func:`candidate_config`).
    fraction: float = CANDIDATE_FRACTION

    def add(
        self,
        name: str,
        soundings: pd.DataFrame,
        config: FitConfig,
        label: Any,
        group_offset: int = 0,
    ) -> None:
        """Add one table: its candidates, labels (``label(peaks)``) and the fit's false count."""
        from .scan import detect

        peaks, feats = candidates(soundings, config, self.fraction)
        self.peaks.append(peaks)
        self.features.append(feats)
        self.labels.append(np.asarray(label(peaks), dtype=float))
        self.groups.append(peaks["orbit"].to_numpy(np.int64) + group_offset)
        # The fit scan's own peaks: those of the candidate scan when it is the fit scan.
        fit = peaks if self.fraction == 1 else detect(soundings, config)
        fit = fit[fit["passed"]].reset_index(drop=True)
        self.fit_false += int(np.count_nonzero(np.asarray(label(fit)) == 0))
        self.names.append(name)
        self.configs.append(config)

    def train(
        self,
        seed: int = 0,
        card: dict[str, Any] | None = None,
        feature_names: Sequence[str] = V1_FEATURES,
        guard: dict[str, Any] | None = DEFAULT_GUARD,
    ) -> LearnedScorer:
        """:func:`train` on everything added (``feature_names``: the model's features;
        ``guard``: its guard, :data:`DEFAULT_GUARD` unless None)."""
        feats = pd.concat(self.features, ignore_index=True)
        inside = None
        if guard is not None:
            inside = np.concatenate(
                [
                    within_guard(p, c, guard, f)
                    for p, c, f in zip(self.peaks, self.configs, self.features, strict=True)
                ]
            )
        return train(
            feats,
            np.concatenate(self.labels),
            np.concatenate(self.groups),
            fit_false=self.fit_false,
            seed=seed,
            card=card,
            fraction=self.fraction,
            feature_names=feature_names,
            guard=guard,
            inside=inside,
        )


def learn_tracks(
    tracks: Sequence[str | Path],
    labels: str,
    config: FitConfig | None = None,
    inventories: Iterable[str] = ("coco2",),
    seed: int = 0,
    guarded: bool = True,
) -> LearnedScorer:
    """Train a scorer on files (the ``learn`` command).

    Parameters
    ----------
    tracks : sequence of path
        Sounding inputs (:func:`oco2explore.readers.read_soundings`). With ``labels ==
        "truth"`` each must be a simulation folder holding ``truth.csv`` (or a file in one).
    labels : {"truth", "inventory"}
        Label source (see the module docstring).
    config : FitConfig, optional
        Detector configuration (``FitConfig()`` when None).
    inventories : iterable of str
        Inventories for inventory labels (:func:`oco2explore.inventory.load_inventories`).
    seed : int
        Random seed.
    guarded : bool
        Bound the model's decision by :data:`DEFAULT_GUARD` (trained on the candidates
        within it); False: the model decides every candidate.
    """
    from .readers import read_soundings

    if labels not in ("truth", "inventory"):
        raise InputError(f"--labels must be truth or inventory, got {labels!r}")
    config = FitConfig() if config is None else config
    sources = None
    if labels == "inventory":
        from .inventory import load_inventories

        sources = load_inventories(list(inventories))
    data = LabelledTracks()
    for k, track in enumerate(tracks):
        path = Path(track)
        if labels == "truth":  # the truth first: a missing one fails before any work
            truth = _read_truth(path)
            label = lambda p, t=truth: truth_labels(p, t)  # noqa: E731
        else:
            label = lambda p: inventory_labels(p, sources)  # noqa: E731
        soundings = read_soundings(path, quality=config.quality)
        data.add(str(path), soundings, config, label, group_offset=k * 10**7)
    card = {
        "data": {
            "tracks": [str(t) for t in tracks],
            "trained": pd.Timestamp.now("UTC").isoformat(),
        },
        "labels": labels,
        "fit_config": config.to_dict(),
    }
    return data.train(seed=seed, card=card, guard=DEFAULT_GUARD if guarded else None)


def _read_truth(path: Path) -> pd.DataFrame:
    """``truth.csv`` of a simulation folder (or of the folder of a file)."""
    folder = path if path.is_dir() else path.parent
    file = folder / "truth.csv"
    if not file.is_file():
        raise InputError("--labels truth needs a simulation folder with truth.csv", path=path)
    try:
        return pd.read_csv(file)
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable truth table: {exc}", path=file) from None
