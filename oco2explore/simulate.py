"""Simulated OCO-2 Lite files with known power-plant plumes (ground truth).

The simulator writes files in the layout of real B11 Lite files (read by the same
reader as real data) and a ``truth.csv`` with one row per (plume, orbit crossing).

Geometry
    Circular sun-synchronous orbit, inclination 98.2°, 233 orbits in a 16-day repeat
    cycle (14.5625 orbits/day), ascending (northbound) on the day side, crossing the
    equator at ~13:36 local time (Crisp et al. 2017, AMT 10, 59). The orbit numbering and
    phase are anchored on the real orbit 11522, which crossed the South African Highveld
    at 2016-08-31 11:56:00 UTC (sounding 2016083111560007 at -26.2786°, 28.9304°).
    Frames every 1/3 s (~2.25 km along track), 8 footprints ~1.3 km apart across track,
    daytime only (solar zenith angle < 80°). ``sounding_id`` is the frame time
    ``YYYYMMDDhhmmss`` + tenths of a second + footprint (1-8), as in real files.
Signal
    Background XCO2 with a trend, a seasonal latitude gradient and along-track
    undulations at 50-1000 km scales (~0.3 ppm rms), small footprint biases, per-sounding
    uncertainty 0.4-0.9 ppm with matching Gaussian noise, clouds as gaps in runs, ~50 %
    of written soundings flagged bad (in runs, noisier). Optionally (``correlated_error_ppm``,
    off by default) an along-track correlated error shared by the footprints of a frame,
    as real OCO-2 errors are correlated over a few km (:data:`REAL_CORRELATED_ERROR_PPM`,
    :data:`REAL_CORRELATION_KM`). Terrain from a coarse land mask
    (hand-drawn continent polygons) and a few plateaus drives altitude, surface pressure
    and water vapour.
Plumes
    Every packaged CoCO2 power-plant site emitting ≥ :data:`MIN_SOURCE_T_PER_YR` adds a
    steady Gaussian plume (vertically integrated) advected by the daily 10 m wind, which
    is written to ``Meteorology/windspeed_u_met``/``windspeed_v_met``::

        ΔΩ(x, y) = Q / (√(2π) σ_y(x) U) · exp(-y² / 2σ_y(x)²)          [kg CO2 / m²]
        ΔXCO2 = ΔΩ · M_air / M_CO2 / Ω_dry,   Ω_dry = p_surf / g - tcwv   [mol/mol]

    with x downwind and y crosswind of the source, U the wind speed and the horizontal
    dispersion σ_y(x) = √(σ0² + (a·x^0.894)²), x in km, σ_y in m, a = 104 m (Pasquill
    class C) from Martin (1976, J. Air Pollut. Control Assoc. 26, 145), the form used for
    OCO-2 power-plant plumes by Nassar et al. (2017, GRL 44, 10045); σ0 = 1 km stands for
    the initial plume size and the footprint averaging. Integrated along the track, the
    enhancement gives back ``Q = wind_perp · ∫ΔΩ ds`` (mass conservation), so the truth
    emission is recoverable by cross-sectional flux. A plume ends after
    :data:`MAX_PLUME_AGE_H` hours of transport (at most :data:`MAX_DOWNWIND_KM`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter1d
from scipy.signal import lfilter
from scipy.spatial import cKDTree
from scipy.special import ndtri

# Re-exported: the simulator's real-like noise (see the calibration note below).
from .config import REAL_CORRELATED_ERROR_PPM as REAL_CORRELATED_ERROR_PPM
from .config import REAL_CORRELATION_KM
from .constants import EARTH_RADIUS_KM, SECONDS_PER_YEAR, STANDARD_PRESSURE_HPA
from .emission import ppm_per_kg_per_m2
from .errors import InputError
from .geo import (
    bearing_deg,
    chord_from_km,
    destination,
    haversine_km,
    unit_vectors,
)
from .inventory import load_coco2
from .lite import BUILD_IDS, lite_file_name, write_lite_file
from .soundings import normalise_soundings
from .tableio import write_table

log = logging.getLogger(__name__)

# --- orbit (Crisp et al. 2017, AMT 10, 59; OCO-2 Data Product User's Guide) -----------------
#: Orbit inclination, degrees.
INCLINATION_DEG = 98.2
#: 233 orbits in the 16-day ground-track repeat cycle.
ORBITS_PER_DAY = 233 / 16
#: Orbit period, s.
ORBIT_PERIOD_S = 86400.0 / ORBITS_PER_DAY
#: Frame (readout) interval, s (3 Hz).
FRAME_S = 1.0 / 3.0
#: Footprints per frame and their across-track spacing, km.
N_FOOTPRINTS = 8
FOOTPRINT_SPACING_KM = 1.3
#: Footprint length along track, km (for the footprint corners).
FOOTPRINT_LENGTH_KM = 2.25
#: Largest solar zenith angle with soundings, degrees.
MAX_SZA_DEG = 80.0
#: Real anchor: orbit 11522 over the Highveld (sounding 2016083111560007).
ANCHOR_ORBIT = 11522
ANCHOR_TIME = pd.Timestamp("2016-08-31T11:56:00Z")
ANCHOR_LAT, ANCHOR_LON = -26.278584, 28.930351
#: Earth's rotation relative to a sun-synchronous orbit plane, degrees/s (one turn a solar day).
EARTH_RATE_DEG_PER_S = 360.0 / 86400.0

# --- physics (molar masses, gravity and the dry-air column: oco2explore.emission) -----------
#: Isothermal scale height RT/(M_air g) at 288.15 K, m (sea-level pressure: the standard one).
SCALE_HEIGHT_M = 8434.0
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

# --- signal ----------------------------------------------------------------------------------
#: Fraction of daytime soundings written outside the regions (real Lite files keep ~15 %).
CLEAR_FRACTION = 0.15
#: Fraction of written soundings flagged bad (xco2_quality_flag = 1).
BAD_FRACTION = 0.5
#: RMS of the along-track background undulations, ppm.
UNDULATION_RMS_PPM = 0.3
#: RMS of the per-footprint biases, ppm.
FOOTPRINT_BIAS_RMS_PPM = 0.1
#: Extra noise of bad-quality soundings, ppm.
BAD_NOISE_PPM = 1.5
# Calibration of the real-like along-track correlated XCO2 error,
# REAL_CORRELATED_ERROR_PPM and REAL_CORRELATION_KM (defined in oco2explore.config, the
# default of FitConfig.error_correlation_ppm; opt-in here: ``correlated_error_ppm`` of
# :func:`simulate_day`): RMS, ppm, and correlation length, km, of an exponentially
# correlated error (:func:`correlated_error`) shared by the footprints of a frame.
# Calibrated on the real plume-free stretches of orbit 11522 (``segment_5700_6400km``
# and ``segment_6400_6700km``, 1,677 good soundings) against 6 simulated plume-free days
# (2016-08-31 on, seeds 0 and 1, good soundings), residuals from a 60 km running median:
#
# * residual covariance at lag 0-0.5 km: real 0.060 ppm² (0.045-0.063 up to 2 km,
#   0.040 at 2-2.5 km, ≲ 0.017 beyond 2.5 km); simulated 0.004 without the error,
#   0.066 with it (frames share it: lag 0), 0.030 at 2.25 km, 0.010 at 4.5 km;
# * robust spread (1.4826·MAD) of the engine's signed candidate statistic
#   (:func:`oco2explore.scan.candidate_significance`, unweighted) on the residuals, the
#   simulated bins weighted to the real local sounding density (real stretches are
#   denser than a simulated orbit on average), at σ = 2 / 3.3 / 5.5 km: real
#   1.76 / 1.92 / 1.99, simulated 1.15 / 1.23 / 1.30 without the error, 1.64 / 1.77 / 1.85
#   with it.
#
# The statistic on the raw data over all simulated bins stays below the real one
# (σ = 2 km: 1.53 against 2.08; 1.18 without the error): the real stretches are denser
# and carry more structure at scales above 60 km than the background undulations.
# Matching that with this error alone would take ~0.65 ppm, a lag-0 covariance ~5 times
# the real one.

#: Name of the truth table written beside the Lite files.
TRUTH_FILE = "truth.csv"
#: Build id in the simulated files' names and attributes.
BUILD_ID = BUILD_IDS[("OCO-2", "B11")]


@dataclasses.dataclass(frozen=True)
class Region:
    """A box with big emitters; with ``regions`` only its orbit stretches are simulated.

    Attributes
    ----------
    label : str
        Human-readable name.
    lat_min, lat_max, lon_min, lon_max : float
        Box, degrees.
    clear_fraction : float
        Fraction of daytime soundings written (not cloudy) inside the box.
    bad_fraction : float
        Fraction of the written soundings flagged bad inside the box.
    """

    label: str
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float
    clear_fraction: float = 0.35
    bad_fraction: float = BAD_FRACTION

    def contains(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Whether points (degrees) are inside the box."""
        return (
            (lat >= self.lat_min)
            & (lat <= self.lat_max)
            & (lon >= self.lon_min)
            & (lon <= self.lon_max)
        )


#: Regions with big emitters (names usable in ``--region``).
REGIONS: dict[str, Region] = {
    "highveld": Region(
        "South African Highveld (Kendal, Matla, Kriel …) in the dry season",
        -28.0,
        -25.0,
        27.0,
        31.0,
        clear_fraction=0.97,
        bad_fraction=0.05,
    ),
    "poland_germany": Region(
        "Poland/Germany lignite belt (Bełchatów, Jänschwalde, Niederaußem …)",
        50.0,
        52.5,
        6.0,
        20.0,
    ),
    "shandong": Region("Shandong, China", 34.5, 38.5, 114.5, 122.5),
    "us_midwest": Region("US Midwest / Ohio valley", 36.0, 42.0, -92.0, -80.0),
    "india_singrauli": Region("Singrauli, India", 23.0, 25.5, 81.0, 84.0, 0.5),
}


# --- geography ---------------------------------------------------------------------------------

#: Coarse continent outlines (lon, lat), a few degrees accurate: enough for land/water and
#: terrain of simulated soundings, not for anything else.
# fmt: off
_LAND_POLYGONS: tuple[tuple[tuple[float, float], ...], ...] = (
    (  # North and Central America
        (-168, 65), (-165, 71), (-140, 70), (-95, 72), (-80, 73), (-62, 60), (-55, 52),
        (-66, 45), (-70, 42), (-76, 35), (-81, 31), (-80, 25), (-82, 27), (-84, 30), (-90, 29),
        (-97, 26), (-97, 22), (-92, 18), (-87, 21), (-83, 15), (-77, 8), (-80, 8), (-86, 12),
        (-92, 14), (-105, 20), (-112, 29), (-115, 30), (-117, 33), (-124, 40), (-124, 48),
        (-133, 56), (-150, 60), (-158, 57), (-165, 60),
    ),
    (  # South America
        (-77, 8), (-72, 12), (-62, 11), (-50, 2), (-35, -5), (-39, -13), (-41, -22),
        (-48, -26), (-58, -34), (-62, -39), (-66, -45), (-68, -52), (-72, -54), (-75, -48),
        (-73, -38), (-71, -30), (-70, -18), (-76, -14), (-81, -6), (-80, 0), (-77, 4),
    ),
    (  # Africa
        (-17, 21), (-16, 28), (-9, 33), (-6, 36), (10, 37), (11, 33), (20, 31), (30, 31),
        (33, 31), (35, 28), (43, 12), (51, 12), (48, 5), (40, -3), (40, -15), (35, -24),
        (33, -26), (27, -34), (20, -35), (18, -32), (12, -18), (13, -9), (9, -1), (9, 4),
        (4, 6), (-8, 4), (-14, 10), (-17, 15),
    ),
    (  # Eurasia
        (-10, 36), (-9, 43), (-2, 43.5), (-5, 48), (2, 51), (8, 54), (9, 57), (12, 56),
        (10, 60), (5, 62), (15, 69), (28, 71), (40, 67), (60, 70), (80, 73), (105, 78),
        (140, 72), (180, 69), (180, 65), (170, 60), (163, 58), (156, 51), (157, 58), (142, 59),
        (135, 55), (141, 52), (140, 47), (130, 42), (129, 35), (126, 35), (125, 39), (122, 40),
        (118, 38), (122, 37), (120, 33), (122, 30), (117, 23), (109, 21), (106, 18), (109, 12),
        (105, 9), (101, 13), (104, 1), (98, 8), (98, 16), (94, 16), (92, 22), (87, 21),
        (80, 15), (77, 8), (73, 18), (72, 21), (67, 25), (57, 26), (56, 24), (52, 24), (50, 26),
        (48, 30), (50, 30), (56, 27), (59, 22), (52, 16), (43, 13), (39, 21), (35, 28),
        (33, 31), (35, 36), (27, 37), (26, 40), (23, 38), (22, 37), (20, 40), (13, 45),
        (12, 44), (16, 41), (18, 40), (15, 38), (12, 38), (9, 44), (3, 43), (0, 39), (-6, 36),
    ),
    (  # Australia
        (114, -22), (114, -34), (118, -35), (124, -33), (131, -31), (138, -35), (141, -38),
        (147, -38), (150, -37), (153, -31), (153, -25), (146, -19), (142, -11), (141, -17),
        (136, -12), (131, -11), (126, -14), (122, -18),
    ),
    ((-73, 78), (-60, 82), (-30, 83), (-20, 80), (-22, 70), (-43, 60), (-50, 64), (-55, 70)),
    ((-5, 50), (1, 51), (2, 53), (-2, 56), (-2, 58.5), (-5, 58.5), (-6, 56), (-3, 54), (-5, 52)),
    ((130, 31), (132, 34), (136, 34), (140, 35), (142, 40), (141, 45), (145, 44), (140, 41),
     (136, 37), (131, 35)),
    ((44, -25), (47, -25), (50, -15), (49, -12), (44, -16)),
    ((109, 1), (115, 5), (119, 5), (118, 1), (116, -4), (110, -3)),
    ((95, 5), (98, 4), (106, -6), (104, -6), (100, -1)),
    ((-180, -90), (180, -90), (180, -66), (-180, -66)),
)
# fmt: on

#: Plateaus added to the terrain: (lat, lon, height m, radius km).
_PLATEAUS = (
    (-26.5, 29.0, 1300.0, 350.0),  # Highveld (~1,600 m: 848 hPa at the real peak)
    (33.0, 88.0, 4300.0, 700.0),  # Tibet
    (-18.0, -68.0, 3500.0, 350.0),  # Altiplano
    (40.0, -107.0, 1800.0, 600.0),  # Rocky Mountains
    (9.0, 39.0, 2000.0, 400.0),  # Ethiopian highlands
    (32.0, 54.0, 1200.0, 700.0),  # Iranian plateau
    (22.0, -102.0, 1800.0, 400.0),  # Mexican plateau
    (72.0, -40.0, 2500.0, 700.0),  # Greenland ice sheet
    (-80.0, 0.0, 2500.0, 1500.0),  # Antarctic ice sheet
)


def land_mask(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """True over land, from coarse continent polygons (ray casting).

    Parameters
    ----------
    lat, lon : ndarray
        Degrees.

    Returns
    -------
    ndarray of bool
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    land = np.zeros(lat.shape, dtype=bool)
    for poly in _LAND_POLYGONS:
        px, py = np.array(poly, dtype=float).T
        box = (lon >= px.min()) & (lon <= px.max()) & (lat >= py.min()) & (lat <= py.max())
        if not box.any():
            continue
        x, y = lon[box], lat[box]
        inside = np.zeros(x.shape, dtype=bool)
        for x1, y1, x2, y2 in zip(px, py, np.roll(px, -1), np.roll(py, -1), strict=True):
            crosses = (y1 > y) != (y2 > y)
            with np.errstate(divide="ignore", invalid="ignore"):
                xc = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            inside ^= crosses & (x < xc)
        land[box] |= inside
    return land


def terrain_altitude_m(lat: np.ndarray, lon: np.ndarray, land: np.ndarray) -> np.ndarray:
    """Smooth surface altitude (m): rolling lowlands plus :data:`_PLATEAUS`, 0 over water."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    alt = 250.0 + 175.0 * (1.0 + np.sin(np.radians(lat) * 6.3) * np.cos(np.radians(lon) * 4.0))
    for plat, plon, height, radius in _PLATEAUS:
        d = haversine_km(lat, lon, plat, plon)
        alt = alt + height * np.exp(-0.5 * (d / radius) ** 4)
    return np.where(land, alt, 0.0)


# --- orbit geometry ----------------------------------------------------------------------------


def _node_of_orbit(orbit: int) -> tuple[float, float]:
    """Ascending-node time (s since 1970) and longitude (degrees) of ``orbit``."""
    inc = np.radians(INCLINATION_DEG)
    u_a = np.arcsin(np.sin(np.radians(ANCHOR_LAT)) / np.sin(inc))  # ascending: cos u > 0
    t_anchor = ANCHOR_TIME.timestamp()
    t_node = t_anchor - np.degrees(u_a) / 360.0 * ORBIT_PERIOD_S
    dlon = np.degrees(np.arctan2(np.cos(inc) * np.sin(u_a), np.cos(u_a)))
    lon_node = ANCHOR_LON - dlon + EARTH_RATE_DEG_PER_S * (t_anchor - t_node)
    dt = (orbit - ANCHOR_ORBIT) * ORBIT_PERIOD_S
    return t_node + dt, lon_node - EARTH_RATE_DEG_PER_S * dt


def orbit_at(time: str | pd.Timestamp) -> int:
    """Orbit number flying at ``time``.

    Here an orbit runs from one descending (night-side) equator crossing to the next, so
    its whole daytime half carries one number.
    """
    t_node, _ = _node_of_orbit(ANCHOR_ORBIT)
    return ANCHOR_ORBIT + int(
        np.floor((pd.Timestamp(time).timestamp() - t_node) / ORBIT_PERIOD_S + 0.5)
    )


def ground_track(orbit: int, u_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sub-satellite points of ``orbit`` at arguments of latitude ``u_deg`` (0 = ascending node).

    Returns
    -------
    time_s, lat, lon : ndarray
        Seconds since 1970-01-01 UTC and degrees.
    """
    t_node, lon_node = _node_of_orbit(orbit)
    u = np.radians(u_deg)
    inc = np.radians(INCLINATION_DEG)
    t = t_node + np.asarray(u_deg) / 360.0 * ORBIT_PERIOD_S
    lat = np.degrees(np.arcsin(np.sin(inc) * np.sin(u)))
    lon = lon_node + np.degrees(np.arctan2(np.cos(inc) * np.sin(u), np.cos(u)))
    lon = lon - EARTH_RATE_DEG_PER_S * (t - t_node)
    return t, lat, (lon + 180.0) % 360.0 - 180.0


def solar_zenith_deg(time_s: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Solar zenith angle, degrees (Cooper 1969 declination; no equation of time, ~1° error)."""
    day = np.asarray(time_s) / 86400.0
    doy = (day - 10957.0) % 365.25  # days since 2000-01-01, folded to a year
    decl = np.radians(-23.44) * np.cos(2 * np.pi * (doy + 10.0) / 365.25)
    hours = (day % 1.0) * 24.0
    hour_angle = np.radians((hours + np.asarray(lon) / 15.0 - 12.0) * 15.0)
    phi = np.radians(lat)
    cos_z = np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(hour_angle)
    return np.degrees(np.arccos(np.clip(cos_z, -1.0, 1.0)))


def sounding_ids(time_s: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """Real-style sounding ids: ``YYYYMMDDhhmmss`` + tenths of a second + footprint (16 digits)."""
    t = pd.to_datetime(np.floor(np.asarray(time_s)), unit="s")
    stamp = (
        t.year.to_numpy(np.int64) * 10**10
        + t.month.to_numpy(np.int64) * 10**8
        + t.day.to_numpy(np.int64) * 10**6
        + t.hour.to_numpy(np.int64) * 10**4
        + t.minute.to_numpy(np.int64) * 10**2
        + t.second.to_numpy(np.int64)
    )
    tenths = np.floor((np.asarray(time_s) % 1.0) * 10.0).astype(np.int64)
    return stamp * 100 + tenths * 10 + np.asarray(footprint, dtype=np.int64)


# --- fields -----------------------------------------------------------------------------------


def correlated_error(
    rng: np.random.Generator, s_km: np.ndarray, rms_ppm: float, correlation_km: float
) -> np.ndarray:
    """Stationary along-track error with an exponential covariance, ppm.

    An Ornstein-Uhlenbeck (continuous AR(1)) process sampled exactly at the sorted
    along-track positions ``s_km``: ``cov(e(s), e(s')) = rms² · exp(-|s - s'| / L)``.
    With ``rms_ppm == 0`` nothing is drawn from ``rng``.

    Parameters
    ----------
    rng : Generator
        Source of the standard normals (``len(s_km)`` of them).
    s_km : ndarray
        Non-decreasing along-track positions, km.
    rms_ppm : float
        Standard deviation of the error, ppm (≥ 0).
    correlation_km : float
        Correlation length ``L``, km (> 0).

    Returns
    -------
    ndarray
        The error at each position, ppm (zeros when ``rms_ppm == 0``).
    """
    s = np.asarray(s_km, dtype=float)
    if rms_ppm == 0.0 or s.size == 0:
        return np.zeros(s.shape)
    step = np.diff(s)
    if np.any(step < 0):
        raise ValueError("correlated_error needs non-decreasing positions s_km")
    rho = np.exp(-step / correlation_km)
    shocks = rng.standard_normal(s.size)
    shocks[1:] *= np.sqrt(1.0 - rho * rho)
    if rho.size == 0 or np.ptp(rho) <= 1e-9:  # evenly spaced (frames): one linear filter
        field = lfilter([1.0], [1.0, -rho.mean()], shocks) if rho.size else shocks
    else:
        field = shocks.copy()
        for i in range(1, s.size):
            field[i] += rho[i - 1] * field[i - 1]
    return rms_ppm * field


def _smooth_normal(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    """Standard-normal series with a Gaussian correlation of ``scale`` samples.

    Long scales are drawn on a grid of ``scale / 4`` samples and interpolated (fast).
    """
    step = max(1, int(scale // 4))
    coarse = scale / step
    m = n // step + 2
    noise = rng.standard_normal(m + int(8 * coarse))
    field = gaussian_filter1d(noise, coarse, mode="wrap")[:m]
    field /= np.sqrt(1.0 / (2.0 * np.sqrt(np.pi) * coarse))
    return field if step == 1 else np.interp(np.arange(n) / step, np.arange(m), field)


@dataclasses.dataclass(frozen=True)
class Wind:
    """A smooth daily 10 m wind field: zonal bands plus random large-scale modes (m/s)."""

    k_lat: np.ndarray
    k_lon: np.ndarray
    phase: np.ndarray
    amp_u: np.ndarray
    amp_v: np.ndarray

    @classmethod
    def for_day(cls, seed: int, day: pd.Timestamp, modes: int = 6) -> Wind:
        """Random modes for one day (wavelengths ~2,000-6,000 km), deterministic in seed/day."""
        rng = np.random.default_rng([seed, day.toordinal(), 1])
        return cls(
            k_lat=rng.uniform(2.0, 6.0, modes),
            k_lon=rng.uniform(2.0, 6.0, modes) * rng.choice([-1, 1], modes),
            phase=rng.uniform(0, 2 * np.pi, modes),
            amp_u=rng.normal(0.0, 2.0, modes),
            amp_v=rng.normal(0.0, 2.0, modes),
        )

    def __call__(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Eastward and northward wind (m/s) at points (degrees)."""
        phi = np.radians(np.asarray(lat, dtype=float))[..., None]
        lam = np.radians(np.asarray(lon, dtype=float))[..., None]
        wave = np.sin(self.k_lat * phi + self.k_lon * lam + self.phase)
        zonal = np.where(np.abs(phi[..., 0]) < np.radians(60), -4.0 * np.cos(3 * phi[..., 0]), 4.0)
        return zonal + wave @ self.amp_u, wave @ self.amp_v


def background_xco2(time_s: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Smooth background XCO2 (ppm): 2.35 ppm/yr trend from 401.5 ppm in 2016 and a seasonal
    interhemispheric gradient (northern summer drawdown of ~1.5 ppm at high latitudes)."""
    years = np.asarray(time_s) / (SECONDS_PER_YEAR) + 1970.0
    season = np.cos(2 * np.pi * (years % 1.0 - 45.0 / 365.25))
    return 401.5 + 2.35 * (years - 2016.0) + 1.5 * np.sin(np.radians(lat)) * season


def surface_pressure_hpa(altitude_m: np.ndarray) -> np.ndarray:
    """Surface pressure (hPa) at ``altitude_m`` (isothermal barometric law, 288.15 K)."""
    return STANDARD_PRESSURE_HPA * np.exp(-np.asarray(altitude_m) / SCALE_HEIGHT_M)


def water_vapour_kg_per_m2(
    lat: np.ndarray, altitude_m: np.ndarray, time_s: np.ndarray
) -> np.ndarray:
    """Total column water vapour (kg/m²): moist band following the sun, drier aloft."""
    season = np.sin(2 * np.pi * ((np.asarray(time_s) / SECONDS_PER_YEAR) % 1.0 - 0.22))
    wet_lat = np.degrees(np.arcsin(np.sin(np.radians(23.44)) * season))
    moist = np.exp(-(((np.asarray(lat) - wet_lat) / 28.0) ** 2))
    return 2.0 + 45.0 * moist * np.exp(-np.asarray(altitude_m) / 2200.0)


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


def _check_correlated_error(rms_ppm: float, correlation_km: float) -> None:
    """Raise :class:`InputError` unless ``rms_ppm >= 0`` and ``correlation_km > 0``."""
    if not (np.isfinite(rms_ppm) and rms_ppm >= 0.0):
        raise InputError(f"correlated_error_ppm must be >= 0, got {rms_ppm}")
    if not (np.isfinite(correlation_km) and correlation_km > 0.0):
        raise InputError(f"correlation_km must be > 0, got {correlation_km}")


def _resolve_regions(regions: Iterable[str] | None) -> list[Region] | None:
    if regions is None:
        return None
    names = [regions] if isinstance(regions, str) else list(regions)
    unknown = [r for r in names if r not in REGIONS]
    if unknown:
        known = ", ".join(REGIONS)
        raise InputError(f"unknown region(s) {', '.join(unknown)}; choose from {known}")
    return [REGIONS[r] for r in names]


# --- one orbit ----------------------------------------------------------------------------------


def _daytime_frames(orbit: int) -> dict[str, np.ndarray]:
    """Frame centres of the daytime (ascending) half of ``orbit``."""
    t_node, _ = _node_of_orbit(orbit)
    half = int(np.ceil(110.0 / 360.0 * ORBIT_PERIOD_S / FRAME_S))
    k = np.arange(-half, half + 1)
    u = k * FRAME_S / ORBIT_PERIOD_S * 360.0
    t, lat, lon = ground_track(orbit, u)
    return {"k": k, "u": u, "time": t, "latitude": lat, "longitude": lon}


def simulate_orbit(
    orbit: int,
    seed: int = 0,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    regions: Sequence[str] | None = None,
    plumes: bool = True,
    correlated_error_ppm: float = 0.0,
    correlation_km: float = REAL_CORRELATION_KM,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate the daytime soundings of one orbit, in memory.

    Random fields are drawn per (seed, orbit) over the whole daytime half-orbit, so a
    time window or region selection gives exactly the matching subset of the full orbit.

    Parameters
    ----------
    orbit : int
        OCO-2 orbit number (11522 crossed the Highveld on 2016-08-31).
    seed : int
        Random seed.
    start, end : str or Timestamp, optional
        Keep frames with ``start <= time < end`` (UTC).
    regions : sequence of str, optional
        Keep only frames inside these :data:`REGIONS`.
    plumes : bool
        Add the power-plant plumes (False: plume-free truth, for false-alarm studies).
    correlated_error_ppm : float
        RMS (ppm) of an along-track correlated XCO2 error added to every written
        sounding (:func:`correlated_error`): one value per frame, shared by its
        footprints, exponentially correlated along the track. Real OCO-2 errors are
        correlated over a few km; :data:`REAL_CORRELATED_ERROR_PPM` is real-like.
        0 (default) leaves the output exactly as without it (no random numbers drawn).
    correlation_km : float
        Correlation length of that error, km (:data:`REAL_CORRELATION_KM`).

    Returns
    -------
    soundings : DataFrame
        Every written sounding (both quality flags), CONTRACT §1 columns plus
        ``solar_zenith_angle``, ``sensor_zenith_angle`` (deg), ``xco2_apriori``,
        ``xco2_x2019`` (ppm), ``track_heading_deg``; in time order, without ``distance_km``.
    truth : DataFrame
        One row per plume crossing of this orbit's track (see :data:`TRUTH_COLUMNS`).
    """
    region_list = _resolve_regions(regions)
    _check_correlated_error(correlated_error_ppm, correlation_km)
    frames = _daytime_frames(orbit)
    n_all = frames["k"].size
    lat_all, lon_all, t_all = frames["latitude"], frames["longitude"], frames["time"]
    select = solar_zenith_deg(t_all, lat_all, lon_all) < MAX_SZA_DEG
    if start is not None:
        select &= t_all >= pd.Timestamp(start).timestamp()
    if end is not None:
        select &= t_all < pd.Timestamp(end).timestamp()
    clear_fraction = np.full(n_all, CLEAR_FRACTION)
    bad_fraction = np.full(n_all, BAD_FRACTION)
    in_region = np.zeros(n_all, dtype=bool)
    for region in REGIONS.values():
        inside = region.contains(lat_all, lon_all)
        clear_fraction[inside] = region.clear_fraction
        bad_fraction[inside] = region.bad_fraction
        if region_list is not None and region in region_list:
            in_region |= inside
    if region_list is not None:
        select &= in_region
    if not select.any():  # nothing to simulate: skip the random draws
        frames = {key: values[:0] for key, values in frames.items()}
        select, clear_fraction, bad_fraction = select[:0], clear_fraction[:0], bad_fraction[:0]
        n_all = 0
        lat_all, lon_all, t_all = frames["latitude"], frames["longitude"], frames["time"]
    # Every random number is drawn for the whole daytime half-orbit, frame by frame and
    # footprint by footprint, so any selection sees the same values.
    rng = np.random.default_rng([seed, orbit, 2])
    cloud = 0.95 * _smooth_normal(rng, n_all, 12.0)
    bad = 0.95 * _smooth_normal(rng, n_all, 4.0)
    weather_hpa = 3.0 * _smooth_normal(rng, n_all, 200.0)
    n_modes = 10
    wavelength = np.exp(rng.uniform(np.log(50.0), np.log(1000.0), n_modes))
    amp = (wavelength / 1000.0) ** 0.3
    amp *= UNDULATION_RMS_PPM / np.sqrt(0.5 * np.sum(amp**2))
    phase = rng.uniform(0, 2 * np.pi, n_modes)
    normal = rng.standard_normal((7, n_all, N_FOOTPRINTS))
    uniform = rng.random((n_all, N_FOOTPRINTS))
    bias = np.random.default_rng([seed, 0, 4]).normal(0.0, FOOTPRINT_BIAS_RMS_PPM, N_FOOTPRINTS)
    # Own generator: the other fields are the same with and without it.
    frame_error = correlated_error(
        np.random.default_rng([seed, orbit, 7]),
        frames["u"] * np.pi / 180.0 * EARTH_RADIUS_KM,
        correlated_error_ppm,
        correlation_km,
    )
    idx = np.flatnonzero(select)
    prev, nxt = np.maximum(np.arange(n_all) - 1, 0), np.minimum(np.arange(n_all) + 1, n_all - 1)
    heading_all = bearing_deg(lat_all[prev], lon_all[prev], lat_all[nxt], lon_all[nxt])
    # Frame-centre state of the selected frames (for the truth at the plume crossings).
    land_all = np.zeros(n_all, dtype=bool)
    land_all[idx] = land_mask(lat_all[idx], lon_all[idx])
    alt_c = terrain_altitude_m(lat_all[idx], lon_all[idx], land_all[idx])
    centre = {
        "latitude": lat_all[idx],
        "longitude": lon_all[idx],
        "time": t_all[idx],
        "heading": heading_all[idx],
        "consecutive": np.diff(idx) == 1,
        "psurf": surface_pressure_hpa(alt_c) + weather_hpa[idx],
        "tcwv": water_vapour_kg_per_m2(lat_all[idx], alt_c, t_all[idx]),
    }
    # Soundings: the clear footprints of the selected frames.
    threshold = ndtri(clear_fraction)[:, None]
    written = (cloud[:, None] + 0.31 * normal[0]) < threshold
    written[~select] = False
    f_idx, fp0 = np.nonzero(written)
    footprint = fp0 + 1
    heading = heading_all[f_idx]
    offset_km = (footprint - (N_FOOTPRINTS + 1) / 2.0) * FOOTPRINT_SPACING_KM
    lat, lon = destination(lat_all[f_idx], lon_all[f_idx], heading + 90.0, offset_km)
    t = t_all[f_idx]
    land = land_all[f_idx]
    altitude = terrain_altitude_m(lat, lon, land)
    psurf_true = surface_pressure_hpa(altitude) + weather_hpa[f_idx]
    tcwv = water_vapour_kg_per_m2(lat, altitude, t) * np.exp(0.15 * normal[1, f_idx, fp0])
    t_node, _ = _node_of_orbit(orbit)
    wind = Wind.for_day(seed, pd.Timestamp(t_node, unit="s").normalize())
    u_met, v_met = wind(lat, lon)
    flag_bad = (bad[f_idx] + 0.31 * normal[2, f_idx, fp0]) > ndtri(1.0 - bad_fraction[f_idx])
    unc = np.where(land, 0.45 + 0.45 * uniform[f_idx, fp0], 0.4 + 0.25 * uniform[f_idx, fp0])
    noise = unc * normal[3, f_idx, fp0] + flag_bad * BAD_NOISE_PPM * normal[4, f_idx, fp0]
    if correlated_error_ppm:
        noise = noise + frame_error[f_idx]
    s_km = frames["u"][f_idx] * np.pi / 180.0 * EARTH_RADIUS_KM
    undulation = (amp * np.sin(2 * np.pi * s_km[:, None] / wavelength + phase)).sum(axis=1)
    enhancement = np.zeros(f_idx.size)
    truth_rows: list[dict] = []
    if plumes and idx.size:
        sounding = {
            "latitude": lat,
            "longitude": lon,
            "psurf": psurf_true,
            "tcwv": tcwv,
            "good": ~flag_bad,
        }
        enhancement, truth_rows = _plumes(orbit, wind, centre, sounding)
    xco2 = background_xco2(t, lat) + undulation + bias[fp0] + enhancement + noise
    sza = solar_zenith_deg(t, lat, lon)
    soundings = pd.DataFrame(
        {
            "sounding_id": sounding_ids(t, footprint),
            "time": pd.to_datetime(t, unit="s", utc=True),
            "orbit": np.full(f_idx.size, orbit, dtype=np.int32),
            "footprint": footprint.astype(np.int8),
            "latitude": lat,
            "longitude": lon,
            "xco2": xco2,
            "xco2_uncertainty": unc,
            "xco2_quality_flag": flag_bad.astype(np.int8),
            "windspeed_u_met": u_met,
            "windspeed_v_met": v_met,
            "psurf": psurf_true + 1.5 * normal[5, f_idx, fp0],
            "psurf_apriori": psurf_true + 0.8 * normal[6, f_idx, fp0],
            "tcwv": tcwv,
            "land_water_indicator": np.where(land, 0, 1).astype(np.int8),
            "land_fraction": np.where(land, 100.0, 0.0),
            "altitude": altitude,
            "operation_mode": np.where(land, 0, 1).astype(np.int8),
            "solar_zenith_angle": sza,
            "sensor_zenith_angle": np.where(land, 0.5 + 0.1 * footprint, sza),
            "xco2_apriori": background_xco2(t, lat),
            "xco2_x2019": xco2 + 0.18,
            "track_heading_deg": heading,
        }
    )
    truth = pd.DataFrame(truth_rows, columns=list(TRUTH_COLUMNS))
    if len(soundings) and len(truth):
        truth["crossing_sounding_id"] = _nearest_soundings(truth, soundings)
    return soundings, truth


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


def _plumes(
    orbit: int, wind: Wind, centre: dict[str, np.ndarray], sounding: dict[str, np.ndarray]
) -> tuple[np.ndarray, list[dict]]:
    """Plume enhancement (ppm) at each sounding and the truth rows of the plume crossings.

    ``centre`` holds the selected frame centres (latitude, longitude, time, heading,
    consecutive, psurf, tcwv); ``sounding`` the written soundings (latitude, longitude,
    psurf, tcwv, good).
    """
    sources = plume_sources()
    lat, lon = sounding["latitude"], sounding["longitude"]
    lat_c, lon_c = centre["latitude"], centre["longitude"]
    tree = cKDTree(unit_vectors(lat_c, lon_c))
    near = tree.query_ball_point(
        unit_vectors(sources["latitude"], sources["longitude"]),
        r=chord_from_km(MAX_DOWNWIND_KM + 20.0),
    )
    enhancement = np.zeros(lat.size)
    rows: list[dict] = []
    for s_i in np.flatnonzero([len(n) > 0 for n in near]):
        src = sources.iloc[s_i]
        s_lat, s_lon = float(src["latitude"]), float(src["longitude"])
        u, v = (float(w) for w in wind(np.array(s_lat), np.array(s_lon)))
        speed = max(np.hypot(u, v), MIN_WIND_M_PER_S)
        norm = max(np.hypot(u, v), 1e-9)
        q = float(src["emission_kg_per_s"])
        reach_km = min(MAX_DOWNWIND_KM, speed * MAX_PLUME_AGE_H * 3.6)
        east, north = _local_xy_km(lat, lon, s_lat, s_lon)
        x = (east * u + north * v) / norm
        y = (-east * v + north * u) / norm
        close = (x > 0) & (x < reach_km) & (np.abs(y) < 50.0)
        if close.any():
            col = plume_column_kg_per_m2(x[close], y[close], q, speed)
            conv = ppm_per_kg_per_m2(sounding["psurf"][close], sounding["tcwv"][close])
            enhancement[close] += col * conv
        # Crossings of the plume axis (y = 0) by the frame-centre line.
        ce, cn = _local_xy_km(lat_c, lon_c, s_lat, s_lon)
        cx = (ce * u + cn * v) / norm
        cy = (-ce * v + cn * u) / norm
        sign_change = (np.sign(cy[:-1]) != np.sign(cy[1:])) & centre["consecutive"]
        for j in np.flatnonzero(sign_change & (cx[:-1] > 0) & (cx[:-1] < reach_km)):
            w = cy[j] / (cy[j] - cy[j + 1])
            xc = cx[j] + w * (cx[j + 1] - cx[j])
            c_lat = lat_c[j] + w * (lat_c[j + 1] - lat_c[j])
            c_lon = lon_c[j] + w * (lon_c[j + 1] - lon_c[j])
            track = np.radians(centre["heading"][j])
            sin_angle = abs(np.sin(np.arctan2(u, v) - track))  # wind heading vs track
            sig_m = float(sigma_y_m(xc))
            conv = float(ppm_per_kg_per_m2(centre["psurf"][j], centre["tcwv"][j]))
            delta = q / (np.sqrt(2 * np.pi) * sig_m * speed) * conv
            if delta < MIN_TRUTH_DELTA_PPM or sin_angle < 1e-3:
                continue
            sigma_km = sig_m / 1000.0 / sin_angle
            near_axis = haversine_km(lat, lon, c_lat, c_lon) <= 2.0 * sigma_km
            rows.append(
                {
                    "plume_id": f"{orbit}-{src['source_id']}",
                    "orbit": orbit,
                    "source_id": src["source_id"],
                    "source_latitude": s_lat,
                    "source_longitude": s_lon,
                    "emission_t_per_yr": float(src["emission_t_per_yr"]),
                    "emission_kg_per_s": q,
                    "windspeed_u": u,
                    "windspeed_v": v,
                    "wind_perp": speed * sin_angle,
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
                    "n_good_soundings": int((near_axis & sounding["good"]).sum()),
                }
            )
    return enhancement, rows


def _nearest_soundings(truth: pd.DataFrame, soundings: pd.DataFrame) -> np.ndarray:
    """Id of the written sounding nearest to each crossing."""
    tree = cKDTree(unit_vectors(soundings["latitude"], soundings["longitude"]))
    _, nearest = tree.query(unit_vectors(truth["crossing_latitude"], truth["crossing_longitude"]))
    return soundings["sounding_id"].to_numpy()[nearest]


# --- days and files ----------------------------------------------------------------------------


def simulate_day(
    day: str | pd.Timestamp,
    seed: int = 0,
    regions: Sequence[str] | None = None,
    plumes: bool = True,
    correlated_error_ppm: float = 0.0,
    correlation_km: float = REAL_CORRELATION_KM,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate one UTC day in memory (no files).

    Parameters
    ----------
    day : str or Timestamp
        The day, e.g. ``"2016-08-31"``.
    seed : int
        Random seed.
    regions : sequence of str, optional
        Only the orbit stretches over these :data:`REGIONS`.
    plumes : bool
        Add the power-plant plumes.
    correlated_error_ppm : float
        RMS of the along-track correlated error, ppm (see :func:`simulate_orbit`); 0
        (default) gives exactly the output without it. For real-like noise pass
        :data:`REAL_CORRELATED_ERROR_PPM`.
    correlation_km : float
        Its correlation length, km (:data:`REAL_CORRELATION_KM`).

    Returns
    -------
    soundings : DataFrame
        Sounding table (CONTRACT §1, both quality flags, with ``distance_km``) plus the
        extra columns of :func:`simulate_orbit`.
    truth : DataFrame
        Plume crossings (:data:`TRUTH_COLUMNS`).
    """
    start = pd.Timestamp(day)
    start = (start.tz_localize("UTC") if start.tzinfo is None else start).normalize()
    end = start + pd.Timedelta(days=1)
    first = orbit_at(start) - 1
    last = orbit_at(end) + 1
    parts = [
        simulate_orbit(
            o,
            seed=seed,
            start=start,
            end=end,
            regions=regions,
            plumes=plumes,
            correlated_error_ppm=correlated_error_ppm,
            correlation_km=correlation_km,
        )
        for o in range(first, last + 1)
    ]
    soundings = pd.concat([p[0] for p in parts if len(p[0])] or [parts[0][0]], ignore_index=True)
    truth = pd.concat([p[1] for p in parts if len(p[1])] or [parts[0][1]], ignore_index=True)
    return normalise_soundings(soundings), truth


def _extras(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """The remaining B11 variables of a simulated day (corners, profiles, dates …)."""
    n = len(df)
    lat, lon = df["latitude"].to_numpy(), df["longitude"].to_numpy()
    heading = df["track_heading_deg"].to_numpy()
    corners = [(-1, -1), (-1, 1), (1, 1), (1, -1)]  # (along, across) signs
    v_lat = np.empty((n, 4))
    v_lon = np.empty((n, 4))
    half_len, half_wid = FOOTPRINT_LENGTH_KM / 2.0, FOOTPRINT_SPACING_KM / 2.0
    for i, (a, c) in enumerate(corners):
        dist = np.hypot(half_len, half_wid)
        bearing = heading + np.degrees(np.arctan2(c * half_wid, a * half_len))
        v_lat[:, i], v_lon[:, i] = destination(lat, lon, bearing, dist)
    t = df["time"]
    date = np.column_stack(
        [
            t.dt.year,
            t.dt.month,
            t.dt.day,
            t.dt.hour,
            t.dt.minute,
            t.dt.second,
            t.dt.microsecond // 1000,
        ]
    )
    sigma = np.linspace(0.0, 1.0, 20)
    psurf = df["psurf"].to_numpy()[:, None]
    prior = df["xco2_apriori"].to_numpy()[:, None]
    return {
        "date": date,
        "vertex_latitude": v_lat,
        "vertex_longitude": v_lon,
        "solar_zenith_angle": df["solar_zenith_angle"].to_numpy(),
        "sensor_zenith_angle": df["sensor_zenith_angle"].to_numpy(),
        "xco2_apriori": prior[:, 0],
        "xco2_x2019": df["xco2_x2019"].to_numpy(),
        "pressure_levels": np.maximum(psurf * sigma, 0.1),
        "co2_profile_apriori": prior - 4.0 * (1.0 - sigma) ** 3,
        "xco2_averaging_kernel": np.broadcast_to(0.5 + 0.5 * sigma, (n, 20)),
        "pressure_weight": np.broadcast_to(np.gradient(sigma), (n, 20)),
        "file_index": np.ones(n, dtype=np.int16),
        "Retrieval/xco2_raw": df["xco2"].to_numpy() - 0.4,
        "Preprocessors/co2_ratio": np.full(n, 1.01),
        "Preprocessors/h2o_ratio": np.full(n, 0.99),
    }


def simulate(
    out_dir: str | Path,
    days: int = 1,
    seed: int = 0,
    start: str = "2016-08-31",
    regions: Sequence[str] | None = None,
    progress: bool = False,
    plumes: bool = True,
) -> list[Path]:
    """Write simulated OCO-2 B11 Lite files (one per day) and ``truth.csv`` into ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created).
    days : int
        Number of consecutive days.
    seed : int
        Random seed; the output is deterministic for a seed.
    start : str
        First day, ``YYYY-MM-DD``.
    regions : sequence of str, optional
        Only the orbit stretches over these :data:`REGIONS` (fast; days without a pass
        write no file).
    progress : bool
        tqdm progress bar over the days.
    plumes : bool
        Add the power-plant plumes (False: plume-free data, truth.csv empty).

    Returns
    -------
    list of Path
        The Lite files written; the truth table is ``out_dir / TRUTH_FILE``.
    """
    if days < 1:
        raise InputError(f"--days must be at least 1, got {days}")
    try:
        first = pd.Timestamp(start, tz="UTC").normalize()
    except ValueError as exc:
        raise InputError(f"--start expects YYYY-MM-DD, got {start!r}") from exc
    if isinstance(regions, str):
        regions = [regions]
    _resolve_regions(regions)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    day_list = [first + pd.Timedelta(days=d) for d in range(days)]
    if progress:
        from tqdm.auto import tqdm

        day_list = tqdm(day_list, desc="simulate", unit="day")
    written: list[Path] = []
    truths: list[pd.DataFrame] = []
    for day in day_list:
        soundings, truth = simulate_day(day, seed=seed, regions=regions, plumes=plumes)
        truths.append(truth)
        if soundings.empty:
            log.info("%s: no pass over the selected regions", day.date())
            continue
        soundings = soundings.sort_values("sounding_id", kind="stable").reset_index(drop=True)
        attrs = {
            "simulated": f"oco2explore.simulate seed={seed} plumes={plumes}",
            "regions": ",".join(regions) if regions else "global",
        }
        path = out_dir / lite_file_name(day, BUILD_ID, "sim")
        write_lite_file(soundings, path, layout="B11", attrs=attrs, extras=_extras(soundings))
        written.append(path)
    truth_all = pd.concat(truths, ignore_index=True)
    write_table(truth_all, out_dir / TRUTH_FILE)
    return written
