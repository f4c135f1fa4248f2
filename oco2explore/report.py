"""Source report: what an archive of passes says about each known emitter (CONTRACT §5).

Three tables from a run's peaks, matches and per-orbit track summary:

``crossings``
    Every clear pass over a source's predicted plume, detected or not.
``sources``
    Per source: a combined emission with its uncertainty, the ratio to the
    inventory, an upper limit from the passes that saw nothing, and a verdict.
``unexplained``
    Passed peaks that no inventory source explains, most significant first.

The method (documented with measured numbers in ``docs/report.md``):

Crossing geometry
    A source's plume is a straight Gaussian plume along the overpass wind, as in
    :mod:`oco2explore.match` and :mod:`oco2explore.simulate`. Each track bin of an
    orbit (:func:`track_summary`) is put in the source's wind frame with the
    bin's own 10 m wind (``x`` downwind, ``y`` crosswind, km); the track crosses the
    plume axis where ``y`` changes sign between two neighbouring bins (no cloud gap
    wider than :attr:`ReportConfig.max_gap_km` between them) with ``0 < x ≤``
    reach, reach = min(``max_downwind_km``, U × ``max_plume_age_h``). The pass is
    clear when the good soundings around the crossing meet the detector's own
    support rules (:meth:`FitConfig.support_limit` on both flanks and one side,
    ``min_soundings`` in the window).
Detection limit of a crossing
    The plume's width along the track is σ_t = σ_y(x) / sin(angle between wind and
    track), with σ_y of the Gaussian plume (:func:`oco2explore.simulate.sigma_y_m`,
    Martin 1976). The detector's statistic for a Gaussian of area A is
    ``(A / σ_A)²`` with σ_A the matched-filter error of A from the local noise:
    independent noise (the track bins' scatter less the correlated part, as the
    fit does) over the soundings under the Gaussian, plus the along-track
    correlated error of :class:`FitConfig` (exact for an exponential covariance:
    ``c² · erfcx(σ/L) · 4πσ²``). The smallest detectable area is
    ``A_min = √(T σ_A²)`` with T = :meth:`FitConfig.significance_limit` (times
    :func:`oco2explore.fit.unresolved_factor` for plumes narrower than
    ``sigma_min_km``), and the emission that would have been detected is its
    cross-sectional flux (:func:`oco2explore.emission.cross_sectional_flux`).
Upper limit of a source
    Each undetected crossing i would have detected an emission Q with probability
    Φ(ln(Q / L_i) / s), s = ``detection_scatter_ln``; the upper limit solves
    Π_i (1 − P_i(Q)) = 1 − ``upper_limit_confidence``. Crossings where another
    passed peak lies on the predicted plume (``blended``) are left out.
Combined estimate
    Detected crossings are passed peaks attributed to the source at rank 1 with
    ``match_score ≥ min_match_score``. Each gives Q_i ± σ_i (the fit and wind
    error of the peak table plus ``plume_model_rel_err`` × Q_i in quadrature).
    The inventory is converted to each overpass's month, weekday and local hour
    with the CoCO2 temporal profiles (:func:`load_profiles`), i.e. each crossing is
    compared as Q_i / f_i with the annual inventory. The ln(Q_i / f_i) are combined
    with DerSimonian–Laird random-effects weights, ``1 / (σ_i² / Q_i² + τ²)``,
    τ² the between-crossing scatter beyond the per-crossing errors
    (:func:`random_effects`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import erfcx, ndtr

from .config import FitConfig
from .emission import SECONDS_PER_YEAR, cross_sectional_flux, ppm_per_kg_per_m2, wind_perpendicular
from .errors import InputError
from .fit import unresolved_factor
from .geo import bearing_deg, haversine_km, unit_vectors
from .inventory import EDGAR_THRESHOLD_T_PER_YR
from .simulate import sigma_y_m

log = logging.getLogger(__name__)

#: Width of a track-summary bin along the track, km (a few OCO-2 frames).
TRACK_BIN_KM = 5.0
#: Columns of the track summary (:func:`track_summary`).
TRACK_COLUMNS = (
    "orbit",
    "distance_km",
    "time",
    "latitude",
    "longitude",
    "n_good",
    "xco2_scatter",
    "windspeed_u",
    "windspeed_v",
    "psurf",
    "tcwv",
)
#: Columns of the ``crossings`` table.
CROSSING_COLUMNS = (
    "source_id",
    "orbit",
    "time",
    "peak_id",
    "latitude",
    "longitude",
    "distance_km",
    "downwind_km",
    "sigma_km",
    "wind_perp",
    "predicted_delta_ppm",
    "observed_delta_ppm",
    "emission_t_per_yr",
    "emission_err_t_per_yr",
    "detection_limit_t_per_yr",
    "profile_factor",
    "inventory_overpass_t_per_yr",
    "detected",
    "blended",
)
#: Columns of the ``sources`` table.
SOURCE_REPORT_COLUMNS = (
    "source_id",
    "name",
    "country",
    "kind",
    "fuel",
    "latitude",
    "longitude",
    "inventory",
    "inventory_t_per_yr",
    "inventory_overpass_t_per_yr",
    "n_crossings",
    "n_detected",
    "estimate_t_per_yr",
    "estimate_err_t_per_yr",
    "tau_ln",
    "ratio",
    "ratio_err",
    "upper_limit_t_per_yr",
    "verdict",
    "first_time",
    "last_time",
)
#: Units of the report columns (for docs and table metadata).
UNITS = {
    "latitude": "degrees",
    "longitude": "degrees",
    "downwind_km": "km",
    "sigma_km": "km",
    "wind_perp": "m/s",
    "predicted_delta_ppm": "ppm",
    "observed_delta_ppm": "ppm",
    "emission_t_per_yr": "t CO2/yr",
    "emission_err_t_per_yr": "t CO2/yr",
    "detection_limit_t_per_yr": "t CO2/yr",
    "inventory_t_per_yr": "t CO2/yr",
    "inventory_overpass_t_per_yr": "t CO2/yr",
    "estimate_t_per_yr": "t CO2/yr",
    "estimate_err_t_per_yr": "t CO2/yr",
    "upper_limit_t_per_yr": "t CO2/yr",
    "nearest_source_distance_km": "km",
    "tau_ln": "ln units",
}
VERDICTS = ("consistent", "higher", "lower", "not seen", "single crossing", "undetermined")
REPORT_TABLES = ("sources", "crossings", "unexplained")


@dataclass(frozen=True)
class ReportConfig:
    """Geometry, error and decision scales of the source report.

    Attributes
    ----------
    min_inventory_t_per_yr : float
        Sources emitting less (t CO2/yr) are not reported: OCO-2 rarely sees
        less than a mid-sized power plant (the EDGAR candidate threshold).
    max_downwind_km, max_plume_age_h : float
        Reach of a plume: min(max_downwind_km, wind speed × max_plume_age_h), km, h.
        Plumes seen by OCO-2 are mostly < 100 km and a few hours old (Nassar et al.
        2017, GRL 44, 10045).
    min_wind_m_per_s : float
        Below this wind speed (m/s) a Gaussian plume is not defined: no crossing.
    max_gap_km : float
        Largest gap between two track bins (km) across which a crossing counts (a
        wider gap is a cloud over the plume: not a clear pass).
    min_match_score : float
        A rank-1 candidate with a lower ``match_score`` does not explain its peak:
        −½ χ²₂(0.99) = −4.6, the 1 % tail of the two-term score.
    plume_model_rel_err : float
        Relative 1-σ error of a cross-sectional flux beyond the fit and wind errors
        (plume not steady, vertical structure, background): 0.3, the order of the
        total errors of single OCO-2 plume estimates (Nassar et al. 2017: 20-35 %).
    detection_scatter_ln : float
        1-σ spread, in ln Q, of the emission at which a crossing detects: the
        statistic's unit scatter at threshold (1/√T ≈ 0.2) with the wind-speed and
        plume-width errors (≈ 0.3 each) in quadrature, rounded to 0.5.
    upper_limit_confidence : float
        One-sided confidence of the upper limit.
    consistent_sigma : float
        A ratio within this many of its 1-σ errors of 1 (in ln) is ``consistent``.
    blend_km : float
        A passed peak of another explanation within 2(σ_t + σ_peak) + blend_km of
        an undetected crossing makes it ``blended``, km.
    """

    min_inventory_t_per_yr: float = EDGAR_THRESHOLD_T_PER_YR
    max_downwind_km: float = 100.0
    max_plume_age_h: float = 6.0
    min_wind_m_per_s: float = 1.0
    max_gap_km: float = 2.5 * TRACK_BIN_KM
    min_match_score: float = -0.5 * 9.21
    plume_model_rel_err: float = 0.3
    detection_scatter_ln: float = 0.5
    upper_limit_confidence: float = 0.95
    consistent_sigma: float = 2.0
    blend_km: float = 5.0

    def __post_init__(self) -> None:
        positive = [
            f.name
            for f in dataclasses.fields(self)
            if f.name not in ("min_match_score", "min_inventory_t_per_yr", "plume_model_rel_err")
            and not getattr(self, f.name) > 0
        ]
        if not 0 < self.upper_limit_confidence < 1:
            positive.append("0 < upper_limit_confidence < 1")
        if self.plume_model_rel_err < 0 or self.min_inventory_t_per_yr < 0:
            positive.append("plume_model_rel_err, min_inventory_t_per_yr >= 0")
        if positive:
            raise InputError("invalid report configuration: " + ", ".join(positive))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for table metadata)."""
        return dataclasses.asdict(self)


# --- track summary (written by the batch) ------------------------------------------------------


def track_summary(soundings: pd.DataFrame, bin_km: float = TRACK_BIN_KM) -> pd.DataFrame:
    """Per-orbit summary of the good soundings in ``bin_km`` bins along the track.

    What the report needs to know where a pass could have seen a plume, without
    the soundings: position, time, wind, column and local noise every few km.

    Parameters
    ----------
    soundings : DataFrame
        Sounding table (CONTRACT §1) with ``distance_km``; only
        ``xco2_quality_flag == 0`` rows count when the column is present.
    bin_km : float
        Bin width along the track, km.

    Returns
    -------
    DataFrame
        :data:`TRACK_COLUMNS`: one row per non-empty bin, by orbit and
        ``distance_km`` (mean of the bin's soundings, km); ``n_good`` soundings;
        ``xco2_scatter`` their standard deviation about the bin mean (ppm, NaN for
        one sounding); mean wind (m/s), ``psurf`` (hPa) and ``tcwv`` (kg/m²).
    """
    good = soundings
    if "xco2_quality_flag" in good:
        good = good[good["xco2_quality_flag"].to_numpy() == 0]
    if good.empty or "distance_km" not in good:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in TRACK_COLUMNS})
    lon = np.radians(good["longitude"].to_numpy(dtype=float))
    frame = pd.DataFrame(
        {
            "orbit": good["orbit"].to_numpy(),
            "bin": np.floor(good["distance_km"].to_numpy(dtype=float) / bin_km),
            "distance_km": good["distance_km"].to_numpy(dtype=float),
            "time": good["time"].astype("int64").to_numpy() if "time" in good else 0,
            "latitude": good["latitude"].to_numpy(dtype=float),
            "cos_lon": np.cos(lon),
            "sin_lon": np.sin(lon),
            "xco2": good["xco2"].to_numpy(dtype=float),
        }
    )
    for out, name in (
        ("windspeed_u", "windspeed_u_met"),
        ("windspeed_v", "windspeed_v_met"),
        ("psurf", "psurf"),
        ("tcwv", "tcwv"),
    ):
        frame[out] = good[name].to_numpy(dtype=float) if name in good else np.nan
    grouped = frame.groupby(["orbit", "bin"], sort=True)
    means = grouped.mean()
    out = pd.DataFrame(
        {
            "orbit": means.index.get_level_values("orbit").astype("int32"),
            "distance_km": means["distance_km"].to_numpy(),
            "time": pd.to_datetime(means["time"].to_numpy().astype("int64"), utc=True),
            "latitude": means["latitude"].to_numpy(),
            "longitude": np.degrees(np.arctan2(means["sin_lon"], means["cos_lon"])).to_numpy(),
            "n_good": grouped.size().to_numpy().astype("int32"),
            "xco2_scatter": grouped["xco2"].std(ddof=1).to_numpy(),
        }
    )
    for name in ("windspeed_u", "windspeed_v", "psurf", "tcwv"):
        out[name] = means[name].to_numpy()
    return out.reset_index(drop=True)


# --- temporal profiles ---------------------------------------------------------------------


def load_profiles() -> pd.DataFrame:
    """The packaged CoCO2 temporal profiles of each site.

    Returns
    -------
    DataFrame
        Indexed by ``source_id``: ``month_1`` … ``month_12``, ``weekday_0``
        (Monday) … ``weekday_6``, ``hour_0`` … ``hour_23`` (local time), factors of
        mean 1 (see ``oco2explore/data/README.md``).
    """
    data = resources.files("oco2explore") / "data"
    with (data / "coco2_profiles.csv").open("rb") as fh:
        factors = pd.read_csv(fh).set_index("profile_id")
    with (data / "coco2_site_profiles.csv").open("rb") as fh:
        sites = pd.read_csv(fh).set_index("source_id")
    columns = {}
    for period, n, first in (("month", 12, 1), ("weekday", 7, 0), ("hour", 24, 0)):
        values = factors.reindex(sites[period])[[f"f{i}" for i in range(n)]].to_numpy()
        for i in range(n):
            columns[f"{period}_{i + first}"] = values[:, i]
    return pd.DataFrame(columns, index=sites.index)


def profile_factor(
    source_id: pd.Series | np.ndarray,
    time: pd.Series,
    longitude: np.ndarray,
    profiles: pd.DataFrame | None,
) -> np.ndarray:
    """Inventory emission at the overpass over its annual mean: month × weekday × hour.

    The hour is local solar time (UTC + longitude / 15 h), the CoCO2 profiles
    being given in local time. Sources without a profile get 1.

    Parameters
    ----------
    source_id : array_like
        Source of each crossing.
    time : Series
        Overpass times (UTC).
    longitude : ndarray
        Longitude of the source, degrees.
    profiles : DataFrame or None
        :func:`load_profiles` (None: every factor is 1).
    """
    n = len(source_id)
    if profiles is None or n == 0:
        return np.ones(n)
    t = pd.to_datetime(pd.Series(time).reset_index(drop=True), utc=True)
    local = t + pd.to_timedelta(np.asarray(longitude, dtype=float) / 15.0, unit="h")
    rows = profiles.reindex(np.asarray(source_id))
    month = rows.to_numpy()[np.arange(n), local.dt.month.to_numpy() - 1]
    weekday = rows[[f"weekday_{d}" for d in range(7)]].to_numpy()[
        np.arange(n), local.dt.day_of_week.to_numpy()
    ]
    hour = rows[[f"hour_{h}" for h in range(24)]].to_numpy()[np.arange(n), local.dt.hour.to_numpy()]
    factor = month * weekday * hour
    return np.where(np.isfinite(factor) & (factor > 0), factor, 1.0)


# --- statistics ----------------------------------------------------------------------------


def random_effects(y: np.ndarray, var: np.ndarray) -> tuple[float, float, float]:
    """DerSimonian–Laird random-effects mean of estimates ``y`` with variances ``var``.

    τ² = max(0, (Q − (k − 1)) / (Σw − Σw²/Σw)) with w = 1/var and Cochran's
    Q = Σ w (y − ȳ_w)²; the mean weights each estimate by 1/(var + τ²)
    (DerSimonian & Laird 1986, Control. Clin. Trials 7, 177).

    Returns
    -------
    mean, standard_error, tau2 : float
        NaN for no estimate; one estimate gives itself and its own error.

    Examples
    --------
    >>> m, se, tau2 = random_effects(np.array([1.0, 3.0]), np.array([1.0, 1.0]))
    >>> round(m, 3), round(se, 3), round(tau2, 3)
    (2.0, 1.0, 1.0)
    """
    y = np.asarray(y, dtype=float)
    var = np.asarray(var, dtype=float)
    if y.size == 0:
        return math.nan, math.nan, math.nan
    w = 1.0 / var
    fixed = float(np.sum(w * y) / np.sum(w))
    q = float(np.sum(w * (y - fixed) ** 2))
    denom = float(np.sum(w) - np.sum(w * w) / np.sum(w))
    tau2 = max(0.0, (q - (y.size - 1)) / denom) if denom > 0 else 0.0
    w_star = 1.0 / (var + tau2)
    mean = float(np.sum(w_star * y) / np.sum(w_star))
    return mean, float(1.0 / math.sqrt(np.sum(w_star))), tau2


def upper_limit(limits: np.ndarray, scatter_ln: float, confidence: float) -> float:
    """Emission that the undetected crossings exclude at ``confidence``, same unit as ``limits``.

    Solves Π_i Φ(−ln(Q / L_i) / s) = 1 − confidence for Q (bisection in ln Q):
    each crossing detects Q with probability Φ(ln(Q / L_i) / s).

    Examples
    --------
    >>> round(upper_limit(np.array([1.0]), 0.5, 0.95), 3)  # exp(1.645 × 0.5)
    2.276
    """
    ln_l = np.log(np.asarray(limits, dtype=float))
    ln_l = ln_l[np.isfinite(ln_l)]
    if ln_l.size == 0:
        return math.nan
    target = math.log1p(-confidence)

    def log_miss(ln_q: float) -> float:
        return float(np.sum(np.log(np.maximum(ndtr(-(ln_q - ln_l) / scatter_ln), 1e-300))))

    lo, hi = float(ln_l.min()) - 10 * scatter_ln, float(ln_l.max()) + 10 * scatter_ln
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if log_miss(mid) > target else (lo, mid)
    return math.exp(0.5 * (lo + hi))


def amplitude_error(
    offset_km: np.ndarray,
    n_good: np.ndarray,
    white_var: float,
    sigma_km: float,
    bin_km: float,
    config: FitConfig,
) -> float:
    """Matched-filter 1-σ error of a Gaussian's area A (ppm·km) at a track crossing.

    Independent noise: ``white_var / Σ_bins n_i ∫_bin g²/bin_km`` with g the unit-area
    Gaussian of width ``sigma_km`` (the soundings spread evenly over each bin).
    Along-track correlated error of ``config`` (rms c, length L, exponential):
    ``c² erfcx(σ/L) 4πσ²`` (its spectrum against the Gaussian's).

    Parameters
    ----------
    offset_km : ndarray
        Bin centres relative to the crossing, km.
    n_good : ndarray
        Good soundings per bin.
    white_var : float
        Independent noise variance per sounding, ppm².
    sigma_km : float
        Width of the Gaussian along the track, km.
    bin_km : float
        Bin width, km.
    config : FitConfig
        Its ``error_correlation_ppm`` and ``error_correlation_km``.
    """
    s = sigma_km
    lo = (offset_km - bin_km / 2) * math.sqrt(2.0) / s
    hi = (offset_km + bin_km / 2) * math.sqrt(2.0) / s
    g2 = (ndtr(hi) - ndtr(lo)) / (2.0 * s * math.sqrt(math.pi))  # ∫_bin g², per km
    information = float(np.sum(n_good * g2 / bin_km)) / white_var
    var = 1.0 / information if information > 0 else math.inf
    c = config.error_correlation_ppm or 0.0
    if c > 0:
        length = config.error_correlation_km
        var += c * c * float(erfcx(s / length)) * 4.0 * math.pi * s * s
    return math.sqrt(var)


# --- crossings -----------------------------------------------------------------------------


def _track_headings(tracks: pd.DataFrame) -> np.ndarray:
    """Direction of travel at each track bin, degrees: from the previous to the next bin."""
    lat = tracks["latitude"].to_numpy(dtype=float)
    lon = tracks["longitude"].to_numpy(dtype=float)
    orbit = tracks["orbit"].to_numpy()
    n = len(tracks)
    prev = np.arange(n) - 1
    nxt = np.arange(n) + 1
    prev[0] = 0
    nxt[-1] = n - 1
    prev = np.where(orbit[prev] == orbit, prev, np.arange(n))
    nxt = np.where(orbit[nxt] == orbit, nxt, np.arange(n))
    return bearing_deg(lat[prev], lon[prev], lat[nxt], lon[nxt])


def _local_xy(
    lat: np.ndarray,
    lon: np.ndarray,
    lat0: np.ndarray,
    lon0: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Downwind and crosswind offsets (km) of points from sources in the wind frame."""
    km_per_deg = math.pi * 6371.0088 / 180.0
    dlon = (lon - lon0 + 180.0) % 360.0 - 180.0
    east = dlon * np.cos(np.radians(lat0)) * km_per_deg
    north = (lat - lat0) * km_per_deg
    speed = np.maximum(np.hypot(u, v), 1e-9)
    return (east * u + north * v) / speed, (north * u - east * v) / speed


def predicted_crossings(
    sources: pd.DataFrame,
    tracks: pd.DataFrame,
    fit_config: FitConfig,
    config: ReportConfig,
    bin_km: float = TRACK_BIN_KM,
) -> pd.DataFrame:
    """Clear passes over each source's predicted plume, with their detection limit.

    Parameters
    ----------
    sources : DataFrame
        Source table (CONTRACT §3) of the sources to test.
    tracks : DataFrame
        :func:`track_summary` of the passes.
    fit_config : FitConfig
        The detector's configuration (threshold, support rules, correlated error).
    config : ReportConfig
        Reach and gap rules.
    bin_km : float
        Bin width of ``tracks``, km.

    Returns
    -------
    DataFrame
        One row per (source, orbit): ``source_id, orbit, time, latitude, longitude,
        distance_km`` (crossing point), ``downwind_km``, ``sigma_km`` (plume width
        along the track), ``wind_perp`` (m/s), ``psurf, tcwv``, ``amplitude_limit``
        (ppm·km) and ``detection_limit_t_per_yr``.
    """
    columns = [
        "source_id",
        "orbit",
        "time",
        "latitude",
        "longitude",
        "distance_km",
        "downwind_km",
        "sigma_km",
        "wind_perp",
        "psurf",
        "tcwv",
        "amplitude_limit",
        "detection_limit_t_per_yr",
    ]
    if tracks.empty or sources.empty:
        return pd.DataFrame({c: [] for c in columns})
    if fit_config.significance_limit(fit_config.sigma_min_km) is None:
        raise InputError("the source report needs a significance threshold (significance_min)")
    from scipy.spatial import cKDTree

    from .geo import chord_from_km

    tracks = tracks.sort_values(["orbit", "distance_km"]).reset_index(drop=True)
    heading = _track_headings(tracks)
    t_lat = tracks["latitude"].to_numpy(dtype=float)
    t_lon = tracks["longitude"].to_numpy(dtype=float)
    u_all = tracks["windspeed_u"].to_numpy(dtype=float)
    v_all = tracks["windspeed_v"].to_numpy(dtype=float)
    orbit_all = tracks["orbit"].to_numpy()
    dist_all = tracks["distance_km"].to_numpy(dtype=float)
    s_lat = sources["latitude"].to_numpy(dtype=float)
    s_lon = sources["longitude"].to_numpy(dtype=float)

    bins = cKDTree(unit_vectors(t_lat, t_lon))
    src_tree = cKDTree(unit_vectors(s_lat, s_lon))
    radius = chord_from_km(config.max_downwind_km + bin_km)
    pairs = src_tree.sparse_distance_matrix(bins, radius, output_type="ndarray")
    s_idx, b_idx = pairs["i"].astype(np.intp), pairs["j"].astype(np.intp)
    order = np.lexsort((b_idx, s_idx))
    s_idx, b_idx = s_idx[order], b_idx[order]
    x, y = _local_xy(
        t_lat[b_idx], t_lon[b_idx], s_lat[s_idx], s_lon[s_idx], u_all[b_idx], v_all[b_idx]
    )
    speed = np.hypot(u_all[b_idx], v_all[b_idx])
    reach = np.minimum(config.max_downwind_km, speed * config.max_plume_age_h * 3.6)
    # Consecutive bins of one orbit for one source whose crosswind offset changes sign.
    same = (s_idx[1:] == s_idx[:-1]) & (orbit_all[b_idx[1:]] == orbit_all[b_idx[:-1]])
    same &= (b_idx[1:] - b_idx[:-1] == 1) & (
        dist_all[b_idx[1:]] - dist_all[b_idx[:-1]] <= config.max_gap_km
    )
    flips = same & (np.sign(y[1:]) != np.sign(y[:-1])) & (speed[:-1] >= config.min_wind_m_per_s)
    j = np.flatnonzero(flips)
    w = y[j] / (y[j] - y[j + 1])
    xc = x[j] + w * (x[j + 1] - x[j])
    keep = (xc > 0) & (xc <= reach[j])
    j, w, xc = j[keep], w[keep], xc[keep]
    b0, b1 = b_idx[j], b_idx[j + 1]
    near = np.where(w < 0.5, b0, b1)
    cand = pd.DataFrame(
        {
            "source_index": s_idx[j],
            "orbit": orbit_all[b0],
            "distance_km": dist_all[b0] + w * (dist_all[b1] - dist_all[b0]),
            "latitude": t_lat[b0] + w * (t_lat[b1] - t_lat[b0]),
            "longitude": t_lon[b0] + w * ((t_lon[b1] - t_lon[b0] + 180.0) % 360.0 - 180.0),
            "downwind_km": xc,
            "bin_index": near,
        }
    )
    # One crossing per (source, orbit): the nearest to the source.
    cand = cand.sort_values("downwind_km").drop_duplicates(["source_index", "orbit"])
    rows = []
    orbit_rows = (
        pd.Series(np.arange(len(tracks))).groupby(orbit_all).agg(lambda r: (r.min(), r.max()))
    )
    n_good_all = tracks["n_good"].to_numpy(dtype=float)
    scatter_all = tracks["xco2_scatter"].to_numpy(dtype=float)
    c2 = (fit_config.error_correlation_ppm or 0.0) ** 2
    for crossing in cand.itertuples(index=False):
        b = crossing.bin_index
        u, v = u_all[b], v_all[b]
        wind = float(np.hypot(u, v))
        perp = float(wind_perpendicular(u, v, heading[b]))
        sin_angle = abs(perp) / wind if wind > 0 else 0.0
        if not (sin_angle > 1e-3 and np.isfinite(perp)):
            continue
        sigma_t = float(sigma_y_m(crossing.downwind_km)) / 1000.0 / sin_angle
        if sigma_t >= fit_config.sigma_max_km:
            continue  # a plume this oblique is no Gaussian the fit could take
        sigma_f = max(sigma_t, fit_config.sigma_min_km)
        first, last = orbit_rows[crossing.orbit]
        d = dist_all[first : last + 1] - crossing.distance_km
        n_good = n_good_all[first : last + 1]
        in_window = np.abs(d) <= fit_config.half_width_km
        if (
            fit_config.min_soundings is not None
            and n_good[in_window].sum() < fit_config.min_soundings
        ):
            continue
        half = bin_km / 2.0
        support = [
            n_good[
                (d >= lo * sigma_f - half) & (d <= hi * sigma_f + half) & (np.sign(d) == side)
            ].sum()
            for (lo, hi), side in (((-2, 0), -1), ((0, 2), 1), ((-4, -2), -1), ((2, 4), 1))
        ]
        need = fit_config.support_limit(sigma_f)
        if need is not None and min(support[0], support[1], max(support[2], support[3])) < need:
            continue
        local = np.abs(d) <= 4.0 * sigma_f + bin_km
        dof = np.maximum(n_good[local] - 1, 0)
        scatter = scatter_all[first : last + 1][local]
        ok = np.isfinite(scatter) & (dof > 0)
        if not ok.any():
            continue
        var = float(np.sum(dof[ok] * scatter[ok] ** 2) / np.sum(dof[ok]))
        white = max(var - c2, 0.25 * var) if c2 > 0 else var
        sigma_a = amplitude_error(
            d[in_window], n_good[in_window], white, sigma_f, bin_km, fit_config
        )
        threshold = fit_config.significance_limit(sigma_f)
        if sigma_t < fit_config.sigma_min_km:
            threshold *= unresolved_factor(fit_config)
        a_min = math.sqrt(threshold) * sigma_a
        psurf = tracks["psurf"].iat[b]
        tcwv = tracks["tcwv"].iat[b]
        q_min, _ = cross_sectional_flux(a_min, psurf, tcwv, perp)
        rows.append(
            {
                "source_id": sources["source_id"].iat[crossing.source_index],
                "orbit": crossing.orbit,
                "time": tracks["time"].iat[b],
                "latitude": crossing.latitude,
                "longitude": crossing.longitude,
                "distance_km": crossing.distance_km,
                "downwind_km": crossing.downwind_km,
                "sigma_km": sigma_t,
                "wind_perp": perp,
                "psurf": psurf,
                "tcwv": tcwv,
                "amplitude_limit": a_min,
                "detection_limit_t_per_yr": float(q_min) * SECONDS_PER_YEAR / 1e3,
            }
        )
    if not rows:
        return pd.DataFrame({c: [] for c in columns})
    return pd.DataFrame(rows, columns=columns)


# --- the report ----------------------------------------------------------------------------


def _rank1(matches: pd.DataFrame) -> pd.DataFrame:
    """One row per peak: its rank-1 candidate (or the candidate-less row)."""
    rank = pd.to_numeric(matches["rank"], errors="coerce").astype(float).fillna(np.inf)
    ordered = matches.assign(_rank=rank.to_numpy()).sort_values(["peak_id", "_rank"], kind="stable")
    return ordered.drop_duplicates("peak_id").drop(columns="_rank").reset_index(drop=True)


def _passed(peaks: pd.DataFrame) -> np.ndarray:
    return (
        peaks["passed"].astype(bool).to_numpy() if "passed" in peaks else np.ones(len(peaks), bool)
    )


def explained_mask(rank1: pd.DataFrame, config: ReportConfig) -> np.ndarray:
    """Whether each peak's rank-1 candidate explains it (a source, score ≥ the threshold)."""
    score = pd.to_numeric(rank1.get("match_score"), errors="coerce")
    has_source = rank1["source_id"].notna().to_numpy() & (rank1["source_id"].astype(str) != "")
    if score is None:
        return has_source
    return has_source & (score.fillna(-np.inf).to_numpy() >= config.min_match_score)


def build_report(
    matches: pd.DataFrame,
    sources: pd.DataFrame,
    tracks: pd.DataFrame | None,
    fit_config: FitConfig | None = None,
    config: ReportConfig | None = None,
    profiles: pd.DataFrame | None = None,
    bin_km: float = TRACK_BIN_KM,
) -> dict[str, pd.DataFrame]:
    """The three report tables from a run's matches and track summary.

    Parameters
    ----------
    matches : DataFrame
        Match table (CONTRACT §3: peak columns plus ranked candidates).
    sources : DataFrame
        The inventory the run matched against (source table, CONTRACT §3).
    tracks : DataFrame or None
        :func:`track_summary` of the run's passes; None: only detected crossings
        (no upper limits).
    fit_config : FitConfig, optional
        The detector's configuration of the run.
    config : ReportConfig, optional
        Report rules.
    profiles : DataFrame, optional
        Temporal profiles by ``source_id`` (:func:`load_profiles`); None: constant
        emission.
    bin_km : float
        Bin width of ``tracks``, km.

    Returns
    -------
    dict
        ``sources``, ``crossings``, ``unexplained`` (module docstring, CONTRACT §5).
    """
    fit_config = fit_config or FitConfig()
    config = config or ReportConfig()
    big = sources[sources["emission_t_per_yr"] >= config.min_inventory_t_per_yr]
    big = big.reset_index(drop=True)
    rank1 = _rank1(matches) if len(matches) else matches.assign(source_id=[])
    passed = rank1[_passed(rank1)] if len(rank1) else rank1
    explained = explained_mask(passed, config) if len(passed) else np.zeros(0, bool)

    detected = passed[explained & passed["source_id"].isin(big["source_id"]).to_numpy()]
    detected = detected.sort_values("significance", ascending=False)
    detected = detected.drop_duplicates(["source_id", "orbit"])
    predicted = (
        predicted_crossings(big, tracks, fit_config, config, bin_km)
        if tracks is not None
        else predicted_crossings(big, pd.DataFrame(), fit_config, config, bin_km)
    )
    crossings = _crossings(predicted, detected, passed, config)
    crossings = _with_profiles(crossings, big, profiles)
    table = _source_rows(crossings, big, config)
    unexplained = unexplained_peaks(passed[~explained], sources)
    return {"sources": table, "crossings": crossings, "unexplained": unexplained}


def _crossings(
    predicted: pd.DataFrame, detected: pd.DataFrame, passed: pd.DataFrame, config: ReportConfig
) -> pd.DataFrame:
    """Predicted crossings joined with the detections (outer: every detection is a crossing)."""
    det = pd.DataFrame(
        {
            "source_id": detected["source_id"].to_numpy(),
            "orbit": detected["orbit"].to_numpy(),
            "peak_id": detected["peak_id"].astype(str).to_numpy(),
            "_time": pd.to_datetime(detected["time"], utc=True).to_numpy()
            if "time" in detected
            else pd.NaT,
            "_lat": detected["latitude"].to_numpy(dtype=float),
            "_lon": detected["longitude"].to_numpy(dtype=float),
            "_distance": pd.to_numeric(detected.get("distance_km"), errors="coerce"),
            "_wind_perp": pd.to_numeric(detected.get("wind_perp"), errors="coerce"),
            "_sigma": pd.to_numeric(detected.get("sigma_km"), errors="coerce"),
            "_along": pd.to_numeric(detected.get("along_wind_km"), errors="coerce"),
            "_predicted": pd.to_numeric(detected.get("predicted_delta_ppm"), errors="coerce"),
            "observed_delta_ppm": pd.to_numeric(detected["delta_ppm"], errors="coerce"),
            "_q": pd.to_numeric(detected["emission_kg_per_s"], errors="coerce"),
            "_q_err": pd.to_numeric(detected["emission_err_kg_per_s"], errors="coerce"),
        }
    )
    out = predicted.merge(det, on=["source_id", "orbit"], how="outer")
    out["detected"] = out["peak_id"].notna()
    out["peak_id"] = out["peak_id"].fillna("")
    for target, source in (
        ("time", "_time"),
        ("latitude", "_lat"),
        ("longitude", "_lon"),
        ("distance_km", "_distance"),
        ("wind_perp", "_wind_perp"),
        ("sigma_km", "_sigma"),
        ("downwind_km", "_along"),
    ):
        if target == "time":
            out[target] = pd.to_datetime(out[target], utc=True).fillna(
                pd.to_datetime(out[source], utc=True)
            )
        else:
            out[target] = out[target].fillna(out[source])
    to_t_per_yr = SECONDS_PER_YEAR / 1e3
    q = out["_q"].to_numpy(dtype=float) * to_t_per_yr
    err = np.hypot(
        out["_q_err"].to_numpy(dtype=float) * to_t_per_yr, config.plume_model_rel_err * q
    )
    out["emission_t_per_yr"] = q
    out["emission_err_t_per_yr"] = err
    out["_predicted_peak"] = out["_predicted"]
    out["blended"] = _blended(out, passed, config)
    return out


def _blended(out: pd.DataFrame, passed: pd.DataFrame, config: ReportConfig) -> np.ndarray:
    """Undetected crossings with a passed peak (of another explanation) on the predicted plume."""
    blended = np.zeros(len(out), dtype=bool)
    todo = np.flatnonzero(~out["detected"].to_numpy())
    if todo.size == 0 or passed.empty:
        return blended
    by_orbit = passed.groupby("orbit").indices
    p_lat = passed["latitude"].to_numpy(dtype=float)
    p_lon = passed["longitude"].to_numpy(dtype=float)
    p_sigma = pd.to_numeric(passed["sigma_km"], errors="coerce").fillna(0).to_numpy()
    for i in todo:
        rows = by_orbit.get(out["orbit"].iat[i])
        if rows is None:
            continue
        d = haversine_km(out["latitude"].iat[i], out["longitude"].iat[i], p_lat[rows], p_lon[rows])
        reach = 2.0 * (out["sigma_km"].iat[i] + p_sigma[rows]) + config.blend_km
        blended[i] = bool(np.any(d <= reach))
    return blended


def _with_profiles(
    crossings: pd.DataFrame, sources: pd.DataFrame, profiles: pd.DataFrame | None
) -> pd.DataFrame:
    """Add the profile factor, the inventory at the overpass and the predicted enhancement."""
    src = sources.set_index("source_id")
    inventory = src["emission_t_per_yr"].reindex(crossings["source_id"]).to_numpy(dtype=float)
    lon = src["longitude"].reindex(crossings["source_id"]).to_numpy(dtype=float)
    factor = profile_factor(crossings["source_id"].to_numpy(), crossings["time"], lon, profiles)
    crossings["profile_factor"] = factor
    crossings["inventory_overpass_t_per_yr"] = inventory * factor
    q_kg_per_s = inventory * factor * 1e3 / SECONDS_PER_YEAR
    perp = np.abs(crossings["wind_perp"].to_numpy(dtype=float))
    sigma_m = crossings["sigma_km"].to_numpy(dtype=float) * 1e3
    psurf = crossings["psurf"].to_numpy(dtype=float) if "psurf" in crossings else np.nan
    tcwv = crossings["tcwv"].to_numpy(dtype=float) if "tcwv" in crossings else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        model = (
            q_kg_per_s / (perp * sigma_m * math.sqrt(2 * math.pi)) * ppm_per_kg_per_m2(psurf, tcwv)
        )
    # Detections without a predicted crossing keep the matcher's prediction (its peak width).
    crossings["predicted_delta_ppm"] = np.where(
        np.isfinite(model), model, crossings["_predicted_peak"].to_numpy(dtype=float) * factor
    )
    crossings = crossings.sort_values(["source_id", "time"]).reset_index(drop=True)
    return crossings[list(CROSSING_COLUMNS)]


def _source_rows(
    crossings: pd.DataFrame, sources: pd.DataFrame, config: ReportConfig
) -> pd.DataFrame:
    """One ``sources`` row per source with at least one crossing."""
    rows = []
    z_ul = (crossings["detection_limit_t_per_yr"] / crossings["profile_factor"]).to_numpy()
    crossings = crossings.assign(_limit=z_ul)
    src = sources.set_index("source_id")
    for source_id, group in crossings.groupby("source_id", sort=True):
        s = src.loc[source_id]
        inventory = float(s["emission_t_per_yr"])
        det = group[group["detected"]]
        usable = det[(det["emission_t_per_yr"] > 0) & np.isfinite(det["emission_err_t_per_yr"])]
        y = np.log(usable["emission_t_per_yr"] / usable["profile_factor"]).to_numpy()
        var = (usable["emission_err_t_per_yr"] / usable["emission_t_per_yr"]).to_numpy() ** 2
        mean, se, tau2 = random_effects(y, var)
        estimate = math.exp(mean) if np.isfinite(mean) else math.nan
        estimate_err = estimate * se
        misses = group[~group["detected"] & ~group["blended"]]
        ul = upper_limit(
            misses["_limit"].to_numpy(), config.detection_scatter_ln, config.upper_limit_confidence
        )
        ratio = estimate / inventory
        ratio_err = estimate_err / inventory
        n_det = int(group["detected"].sum())
        if n_det == 0:
            verdict = (
                "undetermined"
                if not np.isfinite(ul)
                else "not seen"
                if ul < inventory
                else "consistent"
            )
        elif n_det == 1 or len(usable) < 2:
            verdict = "single crossing"
        elif abs(math.log(ratio)) <= config.consistent_sigma * se:
            verdict = "consistent"
        else:
            verdict = "higher" if ratio > 1 else "lower"
        basis = det if n_det else group
        rows.append(
            {
                "source_id": source_id,
                "name": s.get("name", ""),
                "country": s.get("country", ""),
                "kind": s.get("kind", ""),
                "fuel": s.get("fuel", ""),
                "latitude": float(s["latitude"]),
                "longitude": float(s["longitude"]),
                "inventory": s.get("inventory", ""),
                "inventory_t_per_yr": inventory,
                "inventory_overpass_t_per_yr": float(basis["inventory_overpass_t_per_yr"].mean()),
                "n_crossings": len(group),
                "n_detected": n_det,
                "estimate_t_per_yr": estimate,
                "estimate_err_t_per_yr": estimate_err,
                "tau_ln": math.sqrt(tau2) if np.isfinite(tau2) else math.nan,
                "ratio": ratio,
                "ratio_err": ratio_err,
                "upper_limit_t_per_yr": ul,
                "verdict": verdict,
                "first_time": group["time"].min(),
                "last_time": group["time"].max(),
            }
        )
    if not rows:
        return pd.DataFrame({c: [] for c in SOURCE_REPORT_COLUMNS})
    table = pd.DataFrame(rows, columns=list(SOURCE_REPORT_COLUMNS))
    for column in ("name", "country", "kind", "fuel", "inventory"):
        table[column] = table[column].fillna("").astype(str)
    return table.sort_values("inventory_t_per_yr", ascending=False).reset_index(drop=True)


def unexplained_peaks(peaks: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """Passed peaks no source explains, most significant first, with the nearest source.

    Parameters
    ----------
    peaks : DataFrame
        Rank-1 rows of the unexplained passed peaks (peak and candidate columns).
    sources : DataFrame
        The whole inventory (any emission).

    Returns
    -------
    DataFrame
        The peak-table columns plus ``rank1_source_id`` and ``rank1_match_score``
        (the best candidate that did not explain it, empty/NaN when none),
        ``nearest_source_id``, ``nearest_source_name`` and
        ``nearest_source_distance_km`` (km).
    """
    from .match import EXTRA_MATCH_COLUMNS
    from .schema import MATCH_COLUMNS

    candidate = [c for c in (*MATCH_COLUMNS, *EXTRA_MATCH_COLUMNS) if c in peaks]
    out = peaks.drop(columns=candidate).reset_index(drop=True)
    out["rank1_source_id"] = (
        peaks["source_id"].fillna("").astype(str).to_numpy() if len(peaks) else []
    )
    score = peaks["match_score"] if "match_score" in peaks else pd.Series(np.nan, index=peaks.index)
    out["rank1_match_score"] = pd.to_numeric(score, errors="coerce").to_numpy()
    if len(out) and len(sources):
        from scipy.spatial import cKDTree

        tree = cKDTree(unit_vectors(sources["latitude"], sources["longitude"]))
        lat = out["latitude"].to_numpy(dtype=float)
        lon = out["longitude"].to_numpy(dtype=float)
        _, nearest = tree.query(unit_vectors(lat, lon))
        out["nearest_source_id"] = sources["source_id"].to_numpy()[nearest]
        out["nearest_source_name"] = sources["name"].fillna("").to_numpy()[nearest]
        out["nearest_source_distance_km"] = haversine_km(
            lat,
            lon,
            sources["latitude"].to_numpy()[nearest],
            sources["longitude"].to_numpy()[nearest],
        )
    else:
        out["nearest_source_id"] = pd.Series(dtype=str)
        out["nearest_source_name"] = pd.Series(dtype=str)
        out["nearest_source_distance_km"] = pd.Series(dtype=float)
    if "significance" in out:
        out = out.sort_values("significance", ascending=False, kind="stable")
    return out.reset_index(drop=True)


# --- reading a run, writing the report -------------------------------------------------------


def load_run(location: str | Path, tracks: str | Path | None = None) -> dict[str, Any]:
    """The inputs of a report: a run folder (``oco2explore run`` output) or a match table.

    Parameters
    ----------
    location : str or Path
        Run folder (its ``catalogue/matches_*.parquet`` and ``tracks_*.parquet``
        and ``manifest.json``) or a match-table file.
    tracks : str or Path, optional
        Track-summary file for a match table (else: detected crossings only).

    Returns
    -------
    dict
        ``matches``, ``tracks`` (None when unknown), ``fit_config`` and
        ``inventories`` (names or files, as the run used them).
    """
    from .storage import is_swift_url
    from .tableio import read_table, read_table_metadata

    if is_swift_url(location):
        raise InputError(
            "the report reads a local run folder; fetch the run's catalogue/ and manifest.json "
            "with 'oco2explore storage get' first",
            path=location,
        )
    path = Path(location)
    if path.is_dir():
        catalogue = path / "catalogue"
        match_files = sorted(catalogue.glob("matches_*.parquet"))
        if not match_files:
            raise InputError(
                "no catalogue/matches_*.parquet: not an 'oco2explore run' output", path=path
            )
        matches = pd.concat([read_table(f) for f in match_files], ignore_index=True)
        track_files = sorted(catalogue.glob("tracks_*.parquet"))
        if len(track_files) < len(match_files):
            raise InputError(
                "the run has no track summary for every month (catalogue/tracks_*.parquet); "
                "rerun it with 'oco2explore run --force' to write them",
                path=path,
            )
        track_table = pd.concat([read_table(f) for f in track_files], ignore_index=True)
        manifest_path = path / "manifest.json"
        manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
        config = FitConfig.from_record(manifest["config"]) if "config" in manifest else FitConfig()
        inventories = manifest.get("inventories", ["coco2"])
    elif path.is_file():
        matches = read_table(path)
        meta = read_table_metadata(path)
        config = FitConfig.from_record(meta["fit_config"]) if "fit_config" in meta else FitConfig()
        inventories = meta.get("inventories", ["coco2"])
        track_table = read_table(tracks) if tracks is not None else None
    else:
        raise InputError("no such run folder or match table", path=path)
    for column in ("peak_id", "orbit", "latitude", "longitude", "source_id", "rank"):
        if column not in matches:
            raise InputError(f"missing column {column!r}: not a match table", path=path)
    return {
        "matches": matches,
        "tracks": track_table,
        "fit_config": config,
        "inventories": inventories,
    }


def write_report(
    tables: dict[str, pd.DataFrame], out_dir: str | Path, metadata: dict[str, Any] | None = None
) -> list[Path]:
    """Write the report tables (Parquet and CSV, atomically) and the summary figure (SVG).

    Returns
    -------
    list of Path
        The files written.
    """
    from .tableio import write_table, write_text_atomic

    out_dir = Path(out_dir)
    meta = {"units": UNITS, **(metadata or {})}
    written = []
    for name in REPORT_TABLES:
        for suffix in (".parquet", ".csv"):
            written.append(write_table(tables[name], out_dir / f"{name}{suffix}", metadata=meta))
    figure = out_dir / "sources.svg"
    write_text_atomic(figure, sources_svg(tables["sources"]))
    written.append(figure)
    return written


#: Colours of the verdicts in the figure.
VERDICT_COLOURS = {
    "consistent": "#1b9e77",
    "higher": "#d95f02",
    "lower": "#7570b3",
    "not seen": "#e7298a",
    "single crossing": "#66a61e",
    "undetermined": "#999999",
}


def sources_svg(sources: pd.DataFrame, size: int = 480) -> str:
    """Estimate against inventory, log-log, 1-σ error bars, upper limits as triangles (SVG text).

    Written directly as SVG (no plotting dependency): one axis pair, one mark per
    source coloured by verdict.
    """
    pad = 60
    inner = size - 2 * pad
    inv = sources["inventory_t_per_yr"].to_numpy(dtype=float)
    est = sources["estimate_t_per_yr"].to_numpy(dtype=float)
    err = sources["estimate_err_t_per_yr"].to_numpy(dtype=float)
    ul = sources["upper_limit_t_per_yr"].to_numpy(dtype=float)
    values = np.concatenate([inv, est[np.isfinite(est)], ul[np.isfinite(ul)]])
    values = values[values > 0]
    lo = math.floor(math.log10(values.min())) if values.size else 5
    hi = math.ceil(math.log10(values.max())) if values.size else 8
    hi = max(hi, lo + 1)

    def pos(value: float) -> float:
        return (math.log10(max(value, 10.0**lo)) - lo) / (hi - lo) * inner

    def xy(x: float, y: float) -> tuple[float, float]:
        return pad + pos(x), size - pad - pos(y)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" font-family="sans-serif" font-size="11">',
        f'<rect x="{pad}" y="{pad}" width="{inner}" height="{inner}" fill="none" stroke="#444"/>',
    ]
    for k in range(lo, hi + 1):
        p = pos(10.0**k)
        parts.append(
            f'<text x="{pad + p:.1f}" y="{size - pad + 15}" text-anchor="middle">1e{k}</text>'
        )
        parts.append(
            f'<text x="{pad - 5}" y="{size - pad - p + 4:.1f}" text-anchor="end">1e{k}</text>'
        )
    x0, y0 = xy(10.0**lo, 10.0**lo)
    x1, y1 = xy(10.0**hi, 10.0**hi)
    parts.append(
        f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="#aaa" stroke-dasharray="4"/>'
    )
    parts.append(
        f'<text x="{size / 2}" y="{size - 15}" text-anchor="middle">inventory (t CO2/yr)</text>'
    )
    parts.append(
        f'<text x="15" y="{size / 2}" text-anchor="middle" transform="rotate(-90 15 {size / 2})">'
        "estimate or upper limit (t CO2/yr)</text>"
    )
    for i in range(len(sources)):
        colour = VERDICT_COLOURS.get(str(sources["verdict"].iat[i]), "#000")
        if np.isfinite(est[i]) and est[i] > 0:
            x, y = xy(inv[i], est[i])
            _, y_lo = xy(inv[i], max(est[i] - err[i], 10.0**lo))
            _, y_hi = xy(inv[i], est[i] + err[i])
            parts.append(
                f'<line x1="{x:.1f}" y1="{y_lo:.1f}" x2="{x:.1f}" y2="{y_hi:.1f}" '
                f'stroke="{colour}"/>'
            )
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
        elif np.isfinite(ul[i]):
            x, y = xy(inv[i], ul[i])
            parts.append(
                f'<path d="M{x - 4:.1f},{y - 3:.1f} L{x + 4:.1f},{y - 3:.1f} '
                f'L{x:.1f},{y + 4:.1f} Z" fill="none" stroke="{colour}"/>'
            )
    for k, (verdict, colour) in enumerate(VERDICT_COLOURS.items()):
        parts.append(
            f'<text x="{pad + 8}" y="{pad + 15 + 13 * k}" fill="{colour}">{verdict}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def report_run(
    location: str | Path,
    out_dir: str | Path,
    tracks: str | Path | None = None,
    config: ReportConfig | None = None,
    profiles: bool = True,
) -> dict[str, pd.DataFrame]:
    """Build and write the report of a run folder or match table (the CLI's ``report``).

    Parameters
    ----------
    location : str or Path
        Run folder or match table (:func:`load_run`).
    out_dir : str or Path
        Where the tables and the figure go.
    tracks : str or Path, optional
        Track summary for a match table.
    config : ReportConfig, optional
        Report rules.
    profiles : bool
        Convert the inventory to the overpass month, weekday and hour with the
        packaged CoCO2 profiles (sources of other inventories keep a constant rate).

    Returns
    -------
    dict
        The three tables.
    """
    from .inventory import load_inventories

    run = load_run(location, tracks)
    sources = load_inventories(run["inventories"])
    sources = _with_names(sources)
    config = config or ReportConfig()
    tables = build_report(
        run["matches"],
        sources,
        run["tracks"],
        run["fit_config"],
        config,
        profiles=load_profiles() if profiles else None,
    )
    meta = {
        "input": str(location),
        "fit_config": run["fit_config"].to_dict(),
        "report_config": config.to_dict(),
        "inventories": list(run["inventories"]),
        "temporal_profiles": "CoCO2 v1.1 (month, weekday, local hour)" if profiles else "none",
    }
    write_report(tables, out_dir, meta)
    log.info(
        "report: %d sources, %d crossings (%d detected), %d unexplained peaks -> %s",
        len(tables["sources"]),
        len(tables["crossings"]),
        int(tables["crossings"]["detected"].sum()) if len(tables["crossings"]) else 0,
        len(tables["unexplained"]),
        out_dir,
    )
    return tables


def _with_names(sources: pd.DataFrame) -> pd.DataFrame:
    """Fill empty ``name``/``country`` from a packaged names table when one is installed.

    The names table (``oco2explore/data/names.csv``: ``source_id, name, country``) is
    built by the explorer's issue; without it the ids stand.
    """
    data = resources.files("oco2explore") / "data"
    candidates = [p for p in data.iterdir() if p.name.endswith("names.csv")]
    if not candidates:
        return sources
    with candidates[0].open("rb") as fh:
        names = pd.read_csv(fh, dtype=str).drop_duplicates("source_id").set_index("source_id")
    out = sources.copy()
    for column in ("name", "country"):
        if column not in names:
            continue
        known = names[column].reindex(out["source_id"]).to_numpy()
        current = (
            out[column].fillna("").astype(str).to_numpy()
            if column in out
            else np.full(len(out), "")
        )
        out[column] = np.where((current == "") & pd.notna(known), known, current)
    return out


def report_lite_folder(
    folder: str | Path,
    out_dir: str | Path,
    fit_config: FitConfig | None = None,
    inventories: tuple[str, ...] = ("coco2",),
) -> dict[str, pd.DataFrame]:
    """Detect, match and report a folder of Lite files in this process (no batch, no Dask).

    The batch's per-file steps (:func:`oco2explore.lite.read_lite`,
    :func:`oco2explore.scan.detect`, :func:`oco2explore.match.match_peaks`,
    :func:`track_summary`) over each file, then :func:`build_report` and
    :func:`write_report`: for small folders such as the demo data.

    Parameters
    ----------
    folder : str or Path
        Folder of Lite files.
    out_dir : str or Path
        Where the report goes.
    fit_config : FitConfig, optional
        Detector configuration.
    inventories : tuple of str
        Inventories to match against.

    Returns
    -------
    dict
        The three report tables.
    """
    from .inventory import load_inventories
    from .lite import find_lite_files, read_lite
    from .match import SourceIndex, match_peaks
    from .scan import detect

    fit_config = fit_config or FitConfig()
    sources = _with_names(load_inventories(list(inventories)))
    index = SourceIndex(sources)
    matches, tracks = [], []
    for path in find_lite_files(folder):
        soundings = read_lite([path], quality=fit_config.quality)
        matches.append(match_peaks(detect(soundings, fit_config), index))
        tracks.append(track_summary(soundings))
    tables = build_report(
        pd.concat(matches, ignore_index=True),
        sources,
        pd.concat(tracks, ignore_index=True),
        fit_config,
        profiles=load_profiles(),
    )
    meta = {"input": str(folder), "fit_config": fit_config.to_dict()}
    write_report(tables, out_dir, {**meta, "inventories": list(inventories)})
    return tables
