"""Scoring detections and attributions against the truth of a simulation.

The simulator (:mod:`oco2explore.simulate`) writes, for every plume crossing of an
orbit, its source, position, width, height and wind (``truth.csv``). This module
scores against it, for the benchmarks (``bench_scan.py``, ``bench_match.py``) and
the notebooks:

* :func:`observability` adds to each crossing where the track saw it
  (``crossing_km``), how many good soundings flank it (``n_left``/``n_right``) and
  its ``signal`` Σ(enhancement/uncertainty)² over ±4σ; :func:`is_target` keeps the
  crossings a detector should find (Δ ≥ 1 ppm, σ ≤ 15 km, :data:`MIN_SIDE` good
  soundings on each flank);
* :func:`hits` pairs peaks and crossings (same orbit, within
  ``max(2σ, MATCH_MIN_KM)``); :func:`detection_score` gives recall (overall and by
  signal class), precision, peaks per found plume and the emission error;
* :func:`truth_as_peaks` and :func:`evaluate_attribution` score the attribution of
  peaks to sources (the rank given to the true source); :func:`attribution_score`
  summarises those ranks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .geo import haversine_km

#: Good soundings needed on each side of a crossing (within 2σ) for a plume to be observed.
MIN_SIDE = 3
#: A peak is on a crossing within max(2σ, this), km.
MATCH_MIN_KM = 15.0
#: A crossing farther than this (or 2σ) from every written sounding is under clouds, km.
CLOUD_KM = 5.0
#: Signal classes Σ(enhancement/uncertainty)² of the recall breakdown.
SIGNAL_CLASSES = (0.0, 25.0, 100.0, np.inf)


def clear_track_km(soundings: pd.DataFrame, bin_km: float = 1.0) -> float:
    """Length of track holding soundings, km: the occupied ``bin_km`` bins of each orbit.

    The denominator of every false-peak rate ("per 10,000 km of clear track").
    """
    bins = np.floor(soundings["distance_km"].to_numpy(float) / bin_km).astype(np.int64)
    occupied = pd.DataFrame({"o": soundings["orbit"].to_numpy(), "b": bins}).drop_duplicates()
    return float(occupied.shape[0]) * bin_km


def observability(truth: pd.DataFrame, soundings: pd.DataFrame) -> pd.DataFrame:
    """Truth plus ``crossing_km``, ``n_left``/``n_right`` and ``signal`` of each crossing.

    ``crossing_km`` is the along-track distance of the nearest written sounding (NaN
    when none within max(2σ, :data:`CLOUD_KM`)); ``n_left``/``n_right`` count good
    soundings in [−2σ, 0] and [0, 2σ] of it; ``signal`` is Σ(enhancement/uncertainty)²
    over the good soundings within ±4σ.
    """
    out = truth.assign(crossing_km=np.nan, n_left=0, n_right=0, signal=0.0)
    by_orbit = soundings.groupby("orbit").indices
    for j, row in enumerate(truth.itertuples()):
        idx = by_orbit.get(row.orbit)
        if idx is None:
            continue
        orb = soundings.iloc[idx]
        d = haversine_km(
            orb["latitude"].to_numpy(),
            orb["longitude"].to_numpy(),
            row.crossing_latitude,
            row.crossing_longitude,
        )
        k = int(np.argmin(d))
        if d[k] > max(2.0 * row.sigma_km, CLOUD_KM):
            continue
        good = orb["xco2_quality_flag"].to_numpy() == 0
        dx = orb["distance_km"].to_numpy() - orb["distance_km"].iloc[k]
        s = row.sigma_km
        near = good & (np.abs(dx) <= 4.0 * s)
        snr = orb["enhancement"].to_numpy()[near] / orb["xco2_uncertainty"].to_numpy()[near]
        out.iloc[j, out.columns.get_indexer(["crossing_km", "n_left", "n_right", "signal"])] = [
            orb["distance_km"].iloc[k],
            np.count_nonzero(good & (dx >= -2.0 * s) & (dx <= 0)),
            np.count_nonzero(good & (dx >= 0) & (dx <= 2.0 * s)),
            float(snr @ snr),
        ]
    return out


def is_target(truth: pd.DataFrame) -> np.ndarray:
    """Crossings with Δ ≥ 1 ppm, σ ≤ 15 km and ≥ :data:`MIN_SIDE` good soundings each side."""
    return (
        (truth["delta_ppm"] >= 1.0)
        & (truth["sigma_km"] <= 15.0)
        & (truth["n_left"] >= MIN_SIDE)
        & (truth["n_right"] >= MIN_SIDE)
    ).to_numpy()


def hits(peaks: pd.DataFrame, truth: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Peak × crossing distance (km) and whether the peak lies on that crossing."""
    radius = np.maximum(2.0 * truth["sigma_km"].to_numpy(), MATCH_MIN_KM)
    d = haversine_km(
        peaks["latitude"].to_numpy(float)[:, None],
        peaks["longitude"].to_numpy(float)[:, None],
        truth["crossing_latitude"].to_numpy()[None, :],
        truth["crossing_longitude"].to_numpy()[None, :],
    )
    same_orbit = peaks["orbit"].to_numpy()[:, None] == truth["orbit"].to_numpy()[None, :]
    return d, (d <= radius[None, :]) & same_orbit


def detection_score(peaks: pd.DataFrame, truth: pd.DataFrame, line_density: np.ndarray) -> dict:
    """Recall, precision, peaks per found plume and emission error of passed peaks."""
    d, hit = hits(peaks, truth)
    target = is_target(truth)
    found = hit.any(axis=0) & target
    errors = []
    for j in np.flatnonzero(found):
        i = np.flatnonzero(hit[:, j])[np.argmin(d[hit[:, j], j])]
        estimate = line_density[i] * abs(truth["wind_perp"].iloc[j])
        # Plumes within the fitted Gaussian (±2σ of the peak) are one peak: their
        # emissions add; farther crossings are separate bumps outside its area.
        within = hit[i] & (d[i] <= 2.0 * float(peaks["sigma_km"].iloc[i]))
        within[j] = True
        true_q = truth["emission_kg_per_s"].to_numpy()[within].sum()
        errors.append(abs(np.log(estimate / true_q)))
    signal = truth["signal"].to_numpy()
    by_signal = {}
    for lo, hi in zip(SIGNAL_CLASSES[:-1], SIGNAL_CLASSES[1:], strict=True):
        cls = target & (signal >= lo) & (signal < hi)
        label = f"  signal {lo:g}-{hi:g}" if np.isfinite(hi) else f"  signal >= {lo:g}"
        by_signal[f"{label} (n)"] = int(cls.sum())
        by_signal[f"{label} recall"] = found[cls].sum() / cls.sum() if cls.any() else np.nan
    return {
        "passed peaks": len(peaks),
        "target plumes": int(target.sum()),
        "recall": found.sum() / max(target.sum(), 1),
        **by_signal,
        "precision": hit.any(axis=1).mean() if len(peaks) else np.nan,
        "peaks per found plume": hit[:, found].sum(axis=0).mean() if found.any() else np.nan,
        "median |ln(est/true Q)|": np.median(errors) if errors else np.nan,
    }


def truth_as_peaks(truth: pd.DataFrame) -> pd.DataFrame:
    """Plume crossings of a simulation's ``truth.csv`` in the peak-table layout.

    The exact crossing position, wind, width and height of each plume: the best
    case a detector could report, for evaluating attribution alone.

    Parameters
    ----------
    truth : DataFrame
        ``truth.csv`` of :func:`oco2explore.simulate.simulate`.

    Returns
    -------
    DataFrame
        ``peak_id`` (``<plume_id>#<row>``), ``orbit, latitude, longitude,
        windspeed_u, windspeed_v, wind_perp, sigma_km, delta_ppm`` (and ``psurf,
        tcwv`` when the truth has them).
    """
    peaks = truth.rename(
        columns={"crossing_latitude": "latitude", "crossing_longitude": "longitude"}
    ).reset_index(drop=True)
    peaks["peak_id"] = [f"{p}#{i}" for i, p in enumerate(peaks["plume_id"])]
    columns = ["peak_id", "orbit", "latitude", "longitude", "windspeed_u", "windspeed_v"]
    columns += ["wind_perp", "sigma_km", "delta_ppm"]
    return peaks[columns + [c for c in ("psurf", "tcwv") if c in peaks]]


def evaluate_attribution(
    matched: pd.DataFrame, truth: pd.DataFrame, max_distance_km: float = 25.0
) -> pd.DataFrame:
    """Rank given to the true source of each matched peak, against a simulation's truth.

    A peak's true source is that of the truth crossing of the same orbit (within
    ``max_distance_km``) whose plume adds the most XCO2 at the peak centre:
    ``delta_ppm · exp(−½ (distance / sigma_km)²)``.

    Parameters
    ----------
    matched : DataFrame
        Output of :func:`match_peaks` (needs ``peak_id, orbit, latitude, longitude``).
    truth : DataFrame
        ``truth.csv`` of :func:`oco2explore.simulate.simulate` (``orbit, source_id,
        emission_t_per_yr, crossing_latitude, crossing_longitude, delta_ppm,
        sigma_km``).
    max_distance_km : float
        Largest peak-to-crossing distance, km.

    Returns
    -------
    DataFrame
        One row per peak with a truth crossing: ``peak_id, true_source_id,
        true_emission_t_per_yr, true_delta_ppm, crossing_distance_km,
        explained_fraction`` (the true plume's XCO2 at the peak centre over the
        peak's ``delta_ppm``: near 1 when the peak is that plume, small for a noise
        peak near a weak plume or a blend of plumes), ``true_plume_age_h``
        (``downwind_km`` / wind speed of the crossing, NaN without them) and
        ``true_rank`` (NA when the true source is not among the candidates).
    """
    peaks = matched.drop_duplicates("peak_id")
    peaks = pd.DataFrame(
        {
            "peak_id": peaks["peak_id"],
            "orbit": peaks["orbit"],
            "latitude": peaks["latitude"],
            "longitude": peaks["longitude"],
            "_peak_delta": peaks["delta_ppm"] if "delta_ppm" in peaks else np.nan,
        }
    )
    pairs = peaks.merge(truth, on="orbit", suffixes=("", "_truth"))
    pairs["crossing_distance_km"] = haversine_km(
        pairs["latitude"],
        pairs["longitude"],
        pairs["crossing_latitude"],
        pairs["crossing_longitude"],
    )
    pairs = pairs[pairs["crossing_distance_km"] <= max_distance_km]
    sigma_km = pairs["sigma_km"].to_numpy(dtype=float)
    reach = np.exp(-0.5 * (pairs["crossing_distance_km"].to_numpy(dtype=float) / sigma_km) ** 2)
    pairs = pairs.assign(_at_peak=pairs["delta_ppm"] * reach)
    best = pairs.sort_values("_at_peak", ascending=False).drop_duplicates("peak_id")
    speed = np.hypot(best["windspeed_u"], best["windspeed_v"]) if "windspeed_u" in best else np.nan
    downwind_km = best["downwind_km"] if "downwind_km" in best else np.nan
    best = best.assign(
        explained_fraction=best["_at_peak"] / best["_peak_delta"],
        true_plume_age_h=downwind_km / (speed * 3.6),
    )
    out = best.rename(
        columns={
            "source_id": "true_source_id",
            "emission_t_per_yr": "true_emission_t_per_yr",
            "delta_ppm": "true_delta_ppm",
        }
    )[
        [
            "peak_id",
            "true_source_id",
            "true_emission_t_per_yr",
            "true_delta_ppm",
            "crossing_distance_km",
            "explained_fraction",
            "true_plume_age_h",
        ]
    ]
    ranks = matched.dropna(subset=["rank"]).set_index(["peak_id", "source_id"])["rank"]
    keys = pd.MultiIndex.from_arrays([out["peak_id"], out["true_source_id"]])
    out["true_rank"] = ranks.reindex(keys).to_numpy()
    out["true_rank"] = out["true_rank"].astype("Int64")
    return out.sort_values("peak_id").reset_index(drop=True)


def attribution_score(evaluated: pd.DataFrame, min_emission_t_per_yr: float) -> dict:
    """Share of the peaks from sources ≥ ``min_emission_t_per_yr`` whose true source ranks 1,
    in the top 3, or is no candidate at all (output of :func:`evaluate_attribution`).

    Returns
    -------
    dict
        ``n`` (peaks from such sources), ``rank1``, ``top3``, ``not_candidate``
        (fractions, rounded to 3 decimals).
    """
    big = evaluated[evaluated["true_emission_t_per_yr"] >= min_emission_t_per_yr]
    rank = big["true_rank"]
    return {
        "n": len(big),
        "rank1": round(float((rank == 1).fillna(False).mean()), 3),
        "top3": round(float((rank <= 3).fillna(False).mean()), 3),
        "not_candidate": round(float(rank.isna().mean()), 3),
    }
