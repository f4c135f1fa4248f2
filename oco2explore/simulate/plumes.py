"""Power-plant plumes of the simulator: the Gaussian plume model, its sources and the truth.

Every packaged CoCO2 site emitting ≥ :data:`MIN_SOURCE_T_PER_YR` adds a steady,
vertically integrated Gaussian plume advected by the daily wind
(:class:`~oco2explore.simulate.atmosphere.Wind`); each crossing of a plume axis by an
orbit's frame-centre line is a row of ``truth.csv`` (:data:`TRUTH_COLUMNS`). The
equations and references are in :mod:`oco2explore.simulate`.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..constants import EARTH_RADIUS_KM, SECONDS_PER_YEAR
from ..emission import ppm_per_kg_per_m2
from ..geo import chord_from_km, haversine_km, unit_vectors
from ..inventory import load_coco2
from .atmosphere import Wind
from .geometry import FRAME_S

# --- plume model -----------------------------------------------------------------------------
#: Martin (1976) σ_y = a x^0.894 (x in km, σ_y in m), stability class C, and σ0 (m).
SIGMA_Y_A_M = 104.0
SIGMA_Y_EXPONENT = 0.894
SIGMA_Y0_M = 1000.0
#: Plumes are followed this far downwind, km (steady-state assumption).
MAX_DOWNWIND_KM = 150.0
#: Age beyond which a plume is no longer a coherent steady plume, hours: wind shear and
#: direction changes disperse it (plumes seen by OCO-2 are typically < 100 km, a few hours
#: old; Nassar et al. 2017). A plume reaches min(MAX_DOWNWIND_KM, U · MAX_PLUME_AGE_H).
MAX_PLUME_AGE_H = 8.0
#: Sources at least this strong (t CO2/yr) emit plumes.
MIN_SOURCE_T_PER_YR = 1.0e6
#: A plume crossing enters truth.csv when its peak enhancement reaches this, ppm.
MIN_TRUTH_DELTA_PPM = 0.1
#: Lowest wind speed used in the plume model, m/s (the Gaussian plume needs advection).
MIN_WIND_M_PER_S = 1.0


#: Columns of truth.csv: one row per crossing of a plume axis by an orbit's frame-centre
#: line with a peak enhancement ≥ MIN_TRUTH_DELTA_PPM (a plume blown along the track that
#: never crosses the centre line has no row). ``delta_ppm`` is the peak enhancement on the
#: track, ``sigma_km`` the along-track Gaussian width, ``amplitude`` (ppm·km) their area,
#: ``wind_perp`` (m/s) the wind across the track (speeds below MIN_WIND_M_PER_S count as
#: that), ``psurf`` (hPa) and ``tcwv`` (kg/m²) the column at the crossing, so that
#: ``emission_kg_per_s = amplitude · 1000 · wind_perp / ppm_per_kg_per_m2(psurf, tcwv)``;
#: ``n_good_soundings`` counts good soundings within 2 σ of the crossing (0: under clouds).
TRUTH_COLUMNS: tuple[str, ...] = (
    "plume_id",
    "orbit",
    "source_id",
    "source_latitude",
    "source_longitude",
    "emission_t_per_yr",
    "emission_kg_per_s",
    "windspeed_u",
    "windspeed_v",
    "wind_perp",
    "crossing_angle_deg",
    "downwind_km",
    "crossing_latitude",
    "crossing_longitude",
    "crossing_sounding_id",
    "time",
    "psurf",
    "tcwv",
    "delta_ppm",
    "sigma_km",
    "amplitude",
    "n_good_soundings",
)


def sigma_y_m(downwind_km: np.ndarray) -> np.ndarray:
    """Horizontal plume width σ_y (m) at ``downwind_km`` (Martin 1976, class C, plus σ0)."""
    x = np.maximum(np.asarray(downwind_km, dtype=float), 0.0)
    return np.hypot(SIGMA_Y0_M, SIGMA_Y_A_M * x**SIGMA_Y_EXPONENT)


def plume_column_kg_per_m2(
    downwind_km: np.ndarray, crosswind_km: np.ndarray, q_kg_per_s: float, wind_m_per_s: float
) -> np.ndarray:
    """Vertically integrated Gaussian plume ΔΩ (kg CO2/m²); zero upwind of the source."""
    x = np.asarray(downwind_km, dtype=float)
    sig = sigma_y_m(x)
    y_m = np.asarray(crosswind_km, dtype=float) * 1000.0
    col = q_kg_per_s / (np.sqrt(2 * np.pi) * sig * wind_m_per_s) * np.exp(-0.5 * (y_m / sig) ** 2)
    return np.where(x > 0.0, col, 0.0)


@functools.lru_cache(maxsize=1)
def plume_sources() -> pd.DataFrame:
    """Packaged CoCO2 sites emitting at least :data:`MIN_SOURCE_T_PER_YR` (source table)."""
    sites = load_coco2()
    sites = sites[sites["emission_t_per_yr"] >= MIN_SOURCE_T_PER_YR].reset_index(drop=True)
    sites["emission_kg_per_s"] = sites["emission_t_per_yr"] * 1000.0 / SECONDS_PER_YEAR
    return sites


def _local_xy_km(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> tuple:
    """East/north offsets (km) from (lat0, lon0), local tangent plane (fine within ~200 km)."""
    dlon = (np.asarray(lon) - lon0 + 180.0) % 360.0 - 180.0
    east = np.radians(dlon) * EARTH_RADIUS_KM * np.cos(np.radians(lat0))
    north = np.radians(np.asarray(lat) - lat0) * EARTH_RADIUS_KM
    return east, north


@dataclasses.dataclass(frozen=True)
class _Plume:
    """One source's plume in the day's wind: its source, emission, wind and reach.

    Attributes
    ----------
    source : Series
        The row of :func:`plume_sources`.
    latitude, longitude : float
        Source position, degrees.
    u, v : float
        Wind at the source, m/s (east, north).
    speed : float
        Wind speed used by the plume model, m/s (at least :data:`MIN_WIND_M_PER_S`).
    norm : float
        Wind speed of the direction vector, m/s (the raw speed, > 0).
    q : float
        Emission, kg CO2/s.
    reach_km : float
        How far downwind the plume is followed, km.
    """

    source: pd.Series
    latitude: float
    longitude: float
    u: float
    v: float
    speed: float
    norm: float
    q: float
    reach_km: float

    @classmethod
    def at(cls, source: pd.Series, wind: Wind) -> _Plume:
        """The plume of ``source`` (a :func:`plume_sources` row) in ``wind``."""
        s_lat, s_lon = float(source["latitude"]), float(source["longitude"])
        u, v = (float(w) for w in wind(np.array(s_lat), np.array(s_lon)))
        speed = max(np.hypot(u, v), MIN_WIND_M_PER_S)
        norm = max(np.hypot(u, v), 1e-9)
        q = float(source["emission_kg_per_s"])
        reach_km = min(MAX_DOWNWIND_KM, speed * MAX_PLUME_AGE_H * 3.6)
        return cls(source, s_lat, s_lon, u, v, speed, norm, q, reach_km)

    def downwind_crosswind_km(
        self, lat: np.ndarray, lon: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Downwind ``x`` and crosswind ``y`` (km, left of the wind > 0) of points (degrees)."""
        east, north = _local_xy_km(lat, lon, self.latitude, self.longitude)
        x = (east * self.u + north * self.v) / self.norm
        y = (-east * self.v + north * self.u) / self.norm
        return x, y


def _plumes(
    orbit: int, wind: Wind, centre: dict[str, np.ndarray], sounding: dict[str, np.ndarray]
) -> tuple[np.ndarray, list[dict]]:
    """Plume enhancement (ppm) at each sounding and the truth rows of the plume crossings.

    ``centre`` holds the selected frame centres (latitude, longitude, time, heading,
    consecutive, psurf, tcwv); ``sounding`` the written soundings (latitude, longitude,
    psurf, tcwv, good).
    """
    sources = plume_sources()
    tree = cKDTree(unit_vectors(centre["latitude"], centre["longitude"]))
    near = tree.query_ball_point(
        unit_vectors(sources["latitude"], sources["longitude"]),
        r=chord_from_km(MAX_DOWNWIND_KM + 20.0),
    )
    enhancement = np.zeros(sounding["latitude"].size)
    rows: list[dict] = []
    for s_i in np.flatnonzero([len(n) > 0 for n in near]):
        plume = _Plume.at(sources.iloc[s_i], wind)
        _add_enhancement(enhancement, plume, sounding)
        rows += _crossings(orbit, plume, centre, sounding)
    return enhancement, rows


def _add_enhancement(
    enhancement: np.ndarray, plume: _Plume, sounding: dict[str, np.ndarray]
) -> None:
    """Add the plume's XCO2 enhancement (ppm) to ``enhancement`` at the soundings, in place."""
    x, y = plume.downwind_crosswind_km(sounding["latitude"], sounding["longitude"])
    close = (x > 0) & (x < plume.reach_km) & (np.abs(y) < 50.0)
    if close.any():
        col = plume_column_kg_per_m2(x[close], y[close], plume.q, plume.speed)
        conv = ppm_per_kg_per_m2(sounding["psurf"][close], sounding["tcwv"][close])
        enhancement[close] += col * conv


def _crossings(
    orbit: int, plume: _Plume, centre: dict[str, np.ndarray], sounding: dict[str, np.ndarray]
) -> list[dict]:
    """Truth rows of the crossings of the plume axis (y = 0) by the frame-centre line."""
    lat_c, lon_c = centre["latitude"], centre["longitude"]
    cx, cy = plume.downwind_crosswind_km(lat_c, lon_c)
    sign_change = (np.sign(cy[:-1]) != np.sign(cy[1:])) & centre["consecutive"]
    rows: list[dict] = []
    for j in np.flatnonzero(sign_change & (cx[:-1] > 0) & (cx[:-1] < plume.reach_km)):
        w = cy[j] / (cy[j] - cy[j + 1])
        xc = cx[j] + w * (cx[j + 1] - cx[j])
        c_lat = lat_c[j] + w * (lat_c[j + 1] - lat_c[j])
        c_lon = lon_c[j] + w * (lon_c[j + 1] - lon_c[j])
        track = np.radians(centre["heading"][j])
        sin_angle = abs(np.sin(np.arctan2(plume.u, plume.v) - track))  # wind heading vs track
        sig_m = float(sigma_y_m(xc))
        conv = float(ppm_per_kg_per_m2(centre["psurf"][j], centre["tcwv"][j]))
        delta = plume.q / (np.sqrt(2 * np.pi) * sig_m * plume.speed) * conv
        if delta < MIN_TRUTH_DELTA_PPM or sin_angle < 1e-3:
            continue
        sigma_km = sig_m / 1000.0 / sin_angle
        dist_km = haversine_km(sounding["latitude"], sounding["longitude"], c_lat, c_lon)
        src = plume.source
        rows.append(
            {
                "plume_id": f"{orbit}-{src['source_id']}",
                "orbit": orbit,
                "source_id": src["source_id"],
                "source_latitude": plume.latitude,
                "source_longitude": plume.longitude,
                "emission_t_per_yr": float(src["emission_t_per_yr"]),
                "emission_kg_per_s": plume.q,
                "windspeed_u": plume.u,
                "windspeed_v": plume.v,
                "wind_perp": plume.speed * sin_angle,
                "crossing_angle_deg": float(np.degrees(np.arcsin(sin_angle))),
                "downwind_km": xc,
                "crossing_latitude": c_lat,
                "crossing_longitude": c_lon,
                "crossing_sounding_id": -1,
                "time": pd.Timestamp(centre["time"][j] + w * FRAME_S, unit="s", tz="UTC"),
                "psurf": float(centre["psurf"][j]),
                "tcwv": float(centre["tcwv"][j]),
                "delta_ppm": delta,
                "sigma_km": sigma_km,
                "amplitude": delta * sigma_km * np.sqrt(2 * np.pi),
                "n_good_soundings": int(((dist_km <= 2.0 * sigma_km) & sounding["good"]).sum()),
            }
        )
    return rows


def _nearest_soundings(truth: pd.DataFrame, soundings: pd.DataFrame) -> np.ndarray:
    """Id of the written sounding nearest to each crossing."""
    tree = cKDTree(unit_vectors(soundings["latitude"], soundings["longitude"]))
    _, nearest = tree.query(unit_vectors(truth["crossing_latitude"], truth["crossing_longitude"]))
    return soundings["sounding_id"].to_numpy()[nearest]
