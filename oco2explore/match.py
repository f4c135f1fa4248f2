"""Wind-aware attribution of peaks to the inventory sources that most likely emitted them.

For each peak, candidate sources are those within a search radius on the sphere
(a k-d tree on unit vectors, :func:`oco2explore.geo.unit_vectors`). The radius is
the distance the wind carries a plume in ``max_plume_age_h`` hours, clipped to
``[radius_min_km, radius_max_km]`` (:class:`MatchConfig`).

Geometry of a candidate (angles in degrees, clockwise from north)
    ``bearing_deg`` is the bearing of the peak seen from the source, the wind
    heading is the direction the wind blows *toward* (``atan2(u, v)``), and
    ``upwind_angle_deg`` = |bearing − heading| in [0, 180]: 0 means the peak lies
    straight downwind of the source. With θ the signed angle and d the distance,
    ``along_wind_km`` x = d cos θ (> 0 downwind) and ``cross_wind_km`` y = d sin θ
    (the peak's distance from the modelled plume axis, > 0 to the right of the
    axis looking downwind).

Predicted enhancement (``predicted_delta_ppm``)
    The peak height the track would see where it crosses this source's plume,
    from a Gaussian plume carrying the inventory emission Q (kg/s): the line
    density across the track is Q / u⊥ (u⊥ = the wind across the track,
    ``wind_perp`` when present, else the wind speed, i.e. a perpendicular crossing;
    at least ``min_wind_m_per_s``), spread as a Gaussian of the peak's along-track
    width ``sigma_km``; so Δ = Q / (u⊥ σ √(2π)) as a column mass (kg/m²),
    converted to ppm with the dry-air column of ``psurf``/``tcwv``
    (:func:`ppm_per_kg_per_m2`). Missing values take the defaults of
    :class:`MatchConfig`.

Score (``match_score``, a log-likelihood up to a constant; higher is better, rank 1 = highest)
    ``score = −½ (θ / τ_θ)² − ½ (ln(Δ_obs / Δ_pred) / s)²``

    * direction: θ is the signed upwind angle and the tolerance
      τ_θ² = σ_θ² + atan(σ_p / d)² combines the error of the 10 m wind direction
      σ_θ (``wind_direction_sigma_deg``) with the peak-centre and site-position
      error σ_p (``position_sigma_km``) seen from the source at distance d: a far
      source must lie close to the upwind line, a source within a few km of the
      peak may lie in any direction, and a source downwind of the peak (θ > 90°)
      is very unlikely;
    * size: the observed ``delta_ppm`` against ``predicted_delta_ppm`` in log
      space with σ = ``size_sigma_ln`` (inventories, winds and the fit agree
      within a factor of about 3); skipped when either is missing or ≤ 0.

    Plume age enters only through the search radius: on simulated truth a
    further age penalty mostly preferred a nearer source lying close to the
    upwind line of the true, farther one (``benchmarks/bench_match.py``).
    Without a wind vector the direction term is dropped (``upwind_angle_deg``
    NaN): candidates rank by size, then distance. ``along_wind_km``,
    ``cross_wind_km`` and ``plume_age_h`` (x / wind speed) are reported for the
    user but not scored separately.

Output of :func:`match_peaks`: one row per (peak, candidate), the peak's columns
plus :data:`oco2explore.schema.MATCH_COLUMNS` and ``country, source_fuel,
source_inventory, along_wind_km, cross_wind_km, plume_age_h, match_score``,
best ``top_k`` per peak, ``rank`` 1 = most likely. A peak with no source in its
radius keeps one row with the candidate columns empty (NaN, rank NA), so no
peak is lost.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .config import MatchConfig
from .constants import SECONDS_PER_YEAR, STANDARD_PRESSURE_HPA
from .emission import ppm_per_kg_per_m2
from .errors import InputError, SchemaError
from .geo import bearing_deg, chord_from_km, haversine_km, unit_vectors
from .inventory import validate_sources
from .schema import MATCH_COLUMNS

log = logging.getLogger(__name__)

#: Global-mean total column water vapour, kg/m² (Trenberth et al., J. Climate 18, 2005).
MEAN_TCWV_KG_PER_M2 = 25.0

#: Columns added to a peak row besides :data:`MATCH_COLUMNS`.
EXTRA_MATCH_COLUMNS = (
    "country",
    "source_fuel",
    "source_inventory",
    "along_wind_km",
    "cross_wind_km",
    "plume_age_h",
    "match_score",
)


class SourceIndex:
    """Sources with a k-d tree on the unit sphere, built once and queried many times.

    Parameters
    ----------
    sources : DataFrame
        Source table (CONTRACT §3): ``latitude, longitude, emission_t_per_yr`` and
        ``source_id, name, kind, fuel, inventory`` when present.
    """

    def __init__(self, sources: pd.DataFrame) -> None:
        self.sources = validate_sources(sources, "<source table>")
        self.lat = self.sources["latitude"].to_numpy(dtype=float)
        self.lon = self.sources["longitude"].to_numpy(dtype=float)
        self.emission_t_per_yr = self.sources["emission_t_per_yr"].to_numpy(dtype=float)
        self.tree = cKDTree(unit_vectors(self.lat, self.lon))

    def __len__(self) -> int:
        return len(self.sources)

    def within(
        self, lat: np.ndarray, lon: np.ndarray, radius_km: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """All (query, source) index pairs closer than each query's radius.

        Parameters
        ----------
        lat, lon : ndarray
            Query positions, degrees.
        radius_km : ndarray
            Search radius of each query, km.

        Returns
        -------
        query_idx, source_idx : ndarray of int
        """
        if len(self) == 0 or len(lat) == 0:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
        chord = chord_from_km(np.asarray(radius_km, dtype=float))
        # One tree over the queries and a sparse distance matrix up to the largest
        # radius: no Python list per query, ~4x faster than query_ball_point.
        queries = cKDTree(unit_vectors(lat, lon))
        pairs = queries.sparse_distance_matrix(self.tree, float(chord.max()), output_type="ndarray")
        keep = pairs["v"] <= chord[pairs["i"]]
        return pairs["i"][keep].astype(np.intp), pairs["j"][keep].astype(np.intp)


def _column(df: pd.DataFrame, names: tuple[str, ...], default: float) -> np.ndarray:
    """First present column of ``names`` as float with NaN replaced by ``default``."""
    for name in names:
        if name in df:
            values = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
            return np.where(np.isfinite(values), values, default)
    return np.full(len(df), default)


def search_radius_km(wind_speed_m_per_s: np.ndarray, config: MatchConfig) -> np.ndarray:
    """Search radius of each peak, km: wind speed × ``max_plume_age_h``, clipped."""
    if config.radius_km is not None:
        return np.full(np.shape(wind_speed_m_per_s), config.radius_km)
    speed = np.where(
        np.isfinite(wind_speed_m_per_s), wind_speed_m_per_s, config.default_wind_m_per_s
    )
    radius = speed * config.max_plume_age_h * 3.6
    return np.clip(radius, config.radius_min_km, config.radius_max_km)


def _candidates(
    peaks: pd.DataFrame, index: SourceIndex, config: MatchConfig
) -> dict[str, np.ndarray]:
    """Every (peak, source) pair within the radius with its geometry, prediction and score."""
    lat = pd.to_numeric(peaks["latitude"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(peaks["longitude"], errors="coerce").to_numpy(dtype=float)
    u = _column(peaks, ("windspeed_u", "windspeed_u_met"), np.nan)
    v = _column(peaks, ("windspeed_v", "windspeed_v_met"), np.nan)
    speed = np.hypot(u, v)
    ok = np.isfinite(lat) & np.isfinite(lon)
    query, src = index.within(lat[ok], lon[ok], search_radius_km(speed[ok], config))
    p = np.flatnonzero(ok)[query]

    d = haversine_km(index.lat[src], index.lon[src], lat[p], lon[p])
    bearing = bearing_deg(index.lat[src], index.lon[src], lat[p], lon[p])
    heading = np.degrees(np.arctan2(u[p], v[p])) % 360.0
    signed = (bearing - heading + 180.0) % 360.0 - 180.0
    has_wind = np.isfinite(signed) & (speed[p] > 0)
    theta = np.radians(np.where(has_wind, signed, 0.0))
    along = d * np.cos(theta)
    cross = d * np.sin(theta)

    transport = np.maximum(np.where(has_wind, speed[p], config.default_wind_m_per_s), 0)
    transport = np.maximum(transport, config.min_wind_m_per_s)
    age_h = np.maximum(along, 0.0) / (transport * 3.6)

    sigma_km = _column(peaks, ("sigma_km",), config.default_sigma_km)[p]
    sigma_km = np.where(sigma_km > 0, sigma_km, config.default_sigma_km)
    u_perp = np.abs(_column(peaks, ("wind_perp",), np.nan)[p])
    u_perp = np.where(np.isfinite(u_perp), u_perp, transport)
    u_perp = np.maximum(u_perp, config.min_wind_m_per_s)
    psurf = _column(peaks, ("psurf", "surface_pressure"), STANDARD_PRESSURE_HPA)[p]
    tcwv = _column(peaks, ("tcwv",), MEAN_TCWV_KG_PER_M2)[p]
    q_kg_per_s = index.emission_t_per_yr[src] * 1e3 / SECONDS_PER_YEAR
    column_kg_per_m2 = q_kg_per_s / (u_perp * sigma_km * 1e3 * np.sqrt(2.0 * np.pi))
    predicted = column_kg_per_m2 * ppm_per_kg_per_m2(psurf, tcwv)

    # Angular misfit to the wind, tolerant of the wind-direction error and, for
    # sources close to the peak, of the position error.
    position_deg = np.degrees(np.arctan2(config.position_sigma_km, d))
    tolerance_deg = np.hypot(config.wind_direction_sigma_deg, position_deg)
    score = -0.5 * (np.where(has_wind, signed, 0.0) / tolerance_deg) ** 2
    observed = _column(peaks, ("delta_ppm",), np.nan)[p]
    sized = (observed > 0) & (predicted > 0)
    ratio = np.log(np.where(sized, observed, 1.0) / np.where(sized, predicted, 1.0))
    score = score - np.where(sized, 0.5 * (ratio / config.size_sigma_ln) ** 2, 0.0)

    return {
        "_peak": p,
        "_source": src,
        "source_distance_km": d,
        "bearing_deg": bearing,
        "upwind_angle_deg": np.where(has_wind, np.abs(signed), np.nan),
        "predicted_delta_ppm": predicted,
        "along_wind_km": along,
        "cross_wind_km": np.where(has_wind, cross, np.nan),
        "plume_age_h": age_h,
        "match_score": score,
    }


def _top_k(candidates: dict[str, np.ndarray], top_k: int) -> dict[str, np.ndarray]:
    """Best ``top_k`` candidates per peak with ``rank`` 1 = highest score (ties: nearest)."""
    # Nearest first, then a stable sort by peak and score: cheaper than a 3-key lexsort.
    nearest = np.argsort(candidates["source_distance_km"])
    score = candidates["match_score"][nearest]
    order = nearest[np.lexsort((-score, candidates["_peak"][nearest]))]
    peak = candidates["_peak"][order]
    starts = np.flatnonzero(np.r_[True, peak[1:] != peak[:-1]]) if len(peak) else peak
    counts = np.diff(np.r_[starts, len(peak)])
    rank = np.arange(len(peak)) - np.repeat(starts, counts) + 1
    keep = order[rank <= top_k]
    best = {name: values[keep] for name, values in candidates.items()}
    best["rank"] = rank[rank <= top_k].astype(float)
    return best


def _with_unmatched(best: dict[str, np.ndarray], n_peaks: int) -> dict[str, np.ndarray]:
    """Add one empty candidate row (NaN, source -1) for each peak without a candidate."""
    unmatched = np.setdiff1d(np.arange(n_peaks), best["_peak"])
    if unmatched.size == 0:
        return best
    log.info("%d of %d peaks have no source within their radius", unmatched.size, n_peaks)
    filler = {"_peak": unmatched, "_source": np.full(unmatched.size, -1)}
    out = {
        name: np.concatenate([values, filler.get(name, np.full(unmatched.size, np.nan))])
        for name, values in best.items()
    }
    order = np.lexsort((np.nan_to_num(out["rank"], nan=np.inf), out["_peak"]))
    return {name: values[order] for name, values in out.items()}


def _candidate_frame(best: dict[str, np.ndarray], index: SourceIndex) -> pd.DataFrame:
    """The candidate columns (MATCH_COLUMNS + EXTRA_MATCH_COLUMNS) of the kept pairs."""
    src = best["_source"]
    found = src >= 0
    sources = index.sources

    def source_column(column: str) -> pd.Series:
        return sources[column].reindex(src).reset_index(drop=True)

    def source_values(values: np.ndarray) -> np.ndarray:
        out = np.full(src.size, np.nan)
        out[found] = values[src[found]]
        return out

    columns = {
        "source_id": source_column("source_id"),
        "name": source_column("name"),
        "kind": source_column("kind"),
        "source_latitude": source_values(index.lat),
        "source_longitude": source_values(index.lon),
        "source_emission_t_per_yr": source_values(index.emission_t_per_yr),
        **{c: best[c] for c in ("source_distance_km", "bearing_deg", "upwind_angle_deg")},
        "predicted_delta_ppm": best["predicted_delta_ppm"],
        "rank": pd.array(best["rank"], dtype="Int64"),
        "country": source_column("country")
        if "country" in sources
        else pd.Series(pd.NA, index=range(src.size), dtype="string"),
        "source_fuel": source_column("fuel"),
        "source_inventory": source_column("inventory"),
        **{c: best[c] for c in ("along_wind_km", "cross_wind_km", "plume_age_h", "match_score")},
    }
    return pd.DataFrame(columns)


def _as_index(sources: pd.DataFrame | SourceIndex) -> SourceIndex:
    return sources if isinstance(sources, SourceIndex) else SourceIndex(sources)


def match_peaks(
    peaks: pd.DataFrame,
    sources: pd.DataFrame | SourceIndex,
    top_k: int = 5,
    config: MatchConfig | None = None,
) -> pd.DataFrame:
    """Rank the likely emitters of every peak (CONTRACT §3 match table).

    Parameters
    ----------
    peaks : DataFrame
        Peak table (CONTRACT §2); needs ``latitude, longitude``; uses
        ``windspeed_u, windspeed_v, wind_perp, sigma_km, delta_ppm, psurf, tcwv``
        when present.
    sources : DataFrame or SourceIndex
        Source table (CONTRACT §3), or a prebuilt :class:`SourceIndex`.
    top_k : int
        Candidates kept per peak.
    config : MatchConfig, optional
        Radius and scoring scales.

    Returns
    -------
    DataFrame
        One row per (peak, candidate) in peak order then rank; peaks without a
        candidate keep one row with NaN candidate columns and ``rank`` NA.
    """
    if top_k < 1:
        raise InputError(f"top_k must be >= 1, got {top_k}")
    for column in ("latitude", "longitude"):
        if column not in peaks:
            raise SchemaError(f"missing column {column!r} in peak table")
    config = config or MatchConfig()
    index = _as_index(sources)
    peaks = peaks.reset_index(drop=True)
    best = _with_unmatched(_top_k(_candidates(peaks, index, config), top_k), len(peaks))
    candidates = _candidate_frame(best, index)
    peak_part = peaks.drop(columns=[c for c in candidates.columns if c in peaks])
    out = pd.concat([peak_part.take(best["_peak"]).reset_index(drop=True), candidates], axis=1)
    log.info("matched %d peaks to %d sources: %d rows", len(peaks), len(index), len(out))
    return out


def nearest_sources(
    lat: float,
    lon: float,
    u: float,
    v: float,
    sources: pd.DataFrame | SourceIndex,
    top_k: int = 5,
    *,
    sigma_km: float | None = None,
    delta_ppm: float | None = None,
    wind_perp: float | None = None,
    psurf: float | None = None,
    tcwv: float | None = None,
    config: MatchConfig | None = None,
) -> pd.DataFrame:
    """Ranked candidate emitters of one plume (for the app's single fit).

    Parameters
    ----------
    lat, lon : float
        Peak centre, degrees.
    u, v : float
        Eastward and northward wind, m/s (NaN if unknown).
    sources : DataFrame or SourceIndex
        Source table or a prebuilt index (reuse it for repeated calls).
    top_k : int
        Candidates returned.
    sigma_km, delta_ppm, wind_perp, psurf, tcwv : float, optional
        Fitted width (km), peak height (ppm), wind across the track (m/s),
        surface pressure (hPa) and water column (kg/m²) of the plume.
    config : MatchConfig, optional
        Radius and scoring scales.

    Returns
    -------
    DataFrame
        The candidate columns of :func:`match_peaks` (no peak columns), by rank;
        empty when no source is within the radius.
    """
    peak = {
        "latitude": lat,
        "longitude": lon,
        "windspeed_u": u,
        "windspeed_v": v,
        "sigma_km": sigma_km,
        "delta_ppm": delta_ppm,
        "wind_perp": wind_perp,
        "psurf": psurf,
        "tcwv": tcwv,
    }
    frame = pd.DataFrame({k: [np.nan if x is None else float(x)] for k, x in peak.items()})
    matched = match_peaks(frame, sources, top_k=top_k, config=config)
    columns = list(MATCH_COLUMNS) + list(EXTRA_MATCH_COLUMNS)
    return matched.loc[matched["rank"].notna(), columns].reset_index(drop=True)
