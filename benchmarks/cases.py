"""Detection cases the detector was not tuned on: real tracks, physical plumes, oracle truth.

Independent of :mod:`oco2explore.simulate` (the simulator the defaults were tuned on): the
plume physics, noise, background and artefacts are written here, and the geometry and (for
the real cases) the noise come from real OCO-2 files. See ``docs/detection-cases.md``.

Tracks
------
* **real** (:func:`real_tracks`): the real nadir/glint passes of the California file
  (``../shared/data/real/california/``, OCO-2 Lite v9, 2014-09/10) with every sounding within
  :data:`EXCLUSION_KM` of a place of :data:`PLACES` or of a CoCO2 site ≥ 1 Mt CO2/yr removed,
  and the two real plume-free stretches of orbit 11522 (5,700–6,700 km). Target-mode passes
  (latitude span < :data:`TARGET_MODE_SPAN_DEG`) are left out: the spacecraft sweeps the same
  ground back and forth and ``distance_km`` is not a track. The real XCO2 is kept; the orbit
  11522 stretches have no positions, so they get a straight synthetic track with a footprint
  drawn at random per sounding (:func:`segment_positions`).
* **synthetic-noise geometry** (:func:`geometry_tracks`): positions of the real Highveld pass
  and of every California nadir/glint pass (cities included: the XCO2 is replaced), with
  ``xco2`` = 400 ppm + a smooth background (:func:`smooth_background`) + white errors
  (``xco2_uncertainty`` drawn, :data:`WHITE_MEDIAN_PPM`) and optionally an along-track
  correlated error of :data:`CORRELATED_PPM` over :data:`CORRELATED_KM` (exponential
  covariance in ``distance_km``, so soundings at one position share it).

Targets
-------
* ``plant``: a point source upwind of a crossing point, 5–15 km downwind, Q 5–40 Mt/yr,
  U 2–8 m/s, wind 20–90° to the track; vertically integrated Gaussian plume
  ``ΔΩ = Q/(√(2π) σ U) exp(−y²/2σ²)`` with Briggs (1973) open-country σ_y of the Pasquill
  class of the wind speed (:func:`briggs_sigma_y_m`), widened by the footprint's extent
  across the plume (:func:`footprint_variance_m2`); converted to XCO2 with
  ``ΔX = 10⁶ ΔΩ (M_air/M_CO2) / (100 p_s/g − TCWV)`` (:func:`column_to_ppm`).
* ``dome`` / ``dome_flat``: a 2-D Gaussian ``Δ exp(−r²/2σ²)`` or flat-top
  ``Δ exp(−½ (r/s)⁴)`` city dome, Δ 1.5–3.5 ppm, σ 15–35 km (flat-top: the Gaussian of equal
  peak and area), centred up to σ/2 off the track.
* ``dense``: 3–5 plants 20–60 km apart along the track under one wind.
* ``city``: a city dome (as ``dome``) with 1–2 plants (as ``plant``, one wind) crossing the
  track 5–30 km from the dome's crossing (0.15–2 dome σ): the power plants of a city, a
  plume on a dome (Johannesburg and the Highveld, Los Angeles). Each is a target of its own;
  the plants' cases use their own random stream (the other cases are as before).

Every enhancement is added sounding by sounding at the sounding's own position, so the 8
footprints of a frame see an oblique plume at different along-track distances. A target's
truth is on the track's centre line: ``distance_km`` of the crossing, ``delta_ppm`` and
``sigma_km`` along the centre line, ``emission_kg_per_s``, ``downwind_km``, and ``oracle``:
the expected Δχ² of the known template at the known position over a line background under
the known (synthetic) or estimated (real, :func:`estimate_noise`) covariance
(:func:`oracle_delta_chi2`). Targets with ``oracle`` ≥ :data:`ORACLE_MIN` are the
*oracle-detectable* ones recall is computed over.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.ndimage import median_filter

from oco2explore.constants import (
    EARTH_RADIUS_KM,
    G_STANDARD_M_PER_S2,
    M_AIR_G_PER_MOL,
    M_CO2_G_PER_MOL,
    SECONDS_PER_YEAR,
)
from oco2explore.fit import gls_chi2
from oco2explore.geo import haversine_km
from oco2explore.inventory import load_coco2
from oco2explore.readers import read_soundings
from oco2explore.track import cross_track_km, nearest_index
from oco2explore.truth import MIN_SIDE, clear_track_km

log = logging.getLogger(__name__)

#: Real data beside the checkout, or in ``$OCO2EXPLORE_REAL_DATA`` (a worktree elsewhere).
REAL_DIR = Path(
    os.environ.get("OCO2EXPLORE_REAL_DATA")
    or Path(__file__).resolve().parents[2] / "shared/data/real"
)
CALIFORNIA = REAL_DIR / "california/OCO2LtCO2v9_L2_20140905_000000_20141031_235959.nc"
SEGMENTS = (
    REAL_DIR / "oco2_orbit11522_20160831_segment_5700_6400km.csv",
    REAL_DIR / "oco2_orbit11522_20160831_segment_6400_6700km.csv",
)
HIGHVELD = REAL_DIR / "oco2_orbit11522_20160831_highveld_peak.csv"

#: Places whose emissions make a real stretch unusable as plume-free: (name, lat, lon, reason).
PLACES: tuple[tuple[str, float, float, str], ...] = (
    ("Los Angeles", 34.05, -118.25, "metro 13 M people, measured dome 2.5-3 ppm"),
    ("Riverside-San Bernardino", 34.03, -117.35, "Inland Empire, 4.6 M people"),
    ("San Diego", 32.72, -117.16, "metro 3.3 M"),
    ("Tijuana", 32.51, -117.04, "metro 2.2 M"),
    ("Mexicali", 32.62, -115.45, "1 M people and gas plants"),
    ("Las Vegas", 36.17, -115.14, "metro 2.3 M, measured ~4 ppm crossing"),
    ("San Francisco", 37.77, -122.42, "Bay Area 7.7 M, refineries"),
    ("San Jose", 37.34, -121.89, "Bay Area south"),
    ("Sacramento", 38.58, -121.49, "metro 2.4 M"),
    ("Stockton-Modesto", 37.80, -121.15, "1.3 M, Central Valley"),
    ("Fresno", 36.74, -119.79, "metro 1 M"),
    ("Bakersfield", 35.37, -119.02, "0.9 M and the Kern oil fields"),
    ("Reno", 39.53, -119.81, "0.5 M"),
    ("Phoenix", 33.45, -112.07, "metro 4.9 M (east of the box)"),
    ("Victorville", 34.54, -117.29, "cement plants (CEMEX, Mitsubishi Lucerne Valley)"),
    ("Salt Lake City", 40.76, -111.89, "metro 1.2 M (east of the box)"),
)
#: Real soundings within this distance of a place or a large site are dropped, km.
EXCLUSION_KM = 60.0
#: CoCO2 sites at least this large also exclude their surroundings, t CO2/yr.
EXCLUSION_SITE_T_PER_YR = 1e6
#: A pass whose latitude spans less than this is a target-mode cluster, degrees.
TARGET_MODE_SPAN_DEG = 0.3

#: OCO-2 footprint, km: along the track, across it (nominal nadir 1.29 × 2.25 km).
FOOTPRINT_ALONG_KM = 2.25
FOOTPRINT_ACROSS_KM = 1.29
#: Cross-track spacing of the 8 footprints on the synthetic track of the orbit 11522 stretches, km.
FOOTPRINT_SPACING_KM = 1.3
#: Briggs (1973) open-country σ_y = a x (1 + 1e-4 x)^-1/2 (x, σ_y in m): a per Pasquill class.
BRIGGS_RURAL_A = {"A": 0.22, "B": 0.16, "C": 0.11, "D": 0.08, "E": 0.06, "F": 0.04}
#: Daytime Pasquill class by 10 m wind speed (moderate insolation, Turner 1970):
#: (upper speed bound m/s, class or pair of classes averaged).
DAYTIME_CLASSES = ((2.0, "AB"), (3.0, "B"), (5.0, "BC"), (6.0, "CD"), (math.inf, "D"))
#: Pressure scale height for p_s from the surface altitude, m (R T / (M g) at 288 K).
SCALE_HEIGHT_M = 8_430.0
#: Total column water vapour assumed where the files have none, kg/m².
TCWV_KG_PER_M2 = 10.0
#: Surface pressure of the orbit 11522 stretches (no altitude known), hPa.
SEGMENT_PSURF_HPA = 1000.0
#: Surface pressure and TCWV at the Highveld peak (data README), hPa and kg/m².
HIGHVELD_PSURF_HPA, HIGHVELD_TCWV = 848.3, 6.14

#: White errors of the synthetic-noise cases: median and log-scatter of xco2_uncertainty, ppm.
WHITE_MEDIAN_PPM, WHITE_LOG_SCATTER = 0.5, 0.25
#: Correlated error of the synthetic-noise cases (not the project's 0.28 ppm / 3.5 km).
CORRELATED_PPM, CORRELATED_KM = 0.3, 4.0
#: Oracle-detectable: expected Δχ² of the known template at least this.
ORACLE_MIN = 60.0
#: A passed peak matches a target within max(this, 2σ) along the track, km.
MATCH_MIN_KM = 10.0
#: Orbit-number offset between copies of the tracks.
COPY_ORBIT_OFFSET = 50_000_000
#: Oracle window half-width, km (the detector's default).
ORACLE_HALF_WIDTH_KM = 100.0
#: Isolated targets lie at least this far apart along one orbit, km.
TARGET_SPACING_KM = 220.0

#: Artefact model (assumed; see :func:`artefact_bias`): ppm per unit albedo contrast,
#: ppm per unit AOD above :data:`AOD_FREE`, ppm per km of terrain step, bound (ppm).
ALBEDO_PPM, AOD_PPM, AOD_FREE, TERRAIN_PPM_PER_KM, ARTEFACT_BOUND_PPM = 5.0, 2.0, 0.1, -1.0, 2.5
#: Along-track span of the running medians defining a local contrast, km.
CONTRAST_SPAN_KM = 50.0

#: Kinds of the cases, noises, in the table's order.
KINDS = ("plant", "dome", "dense", "city", "artefact", "plume-free")
NOISES = ("real", "white", "correlated")


@dataclasses.dataclass
class Noise:
    """Error covariance of one orbit: white variance per sounding plus exponential correlation.

    Attributes
    ----------
    white_var : ndarray
        Independent variance per sounding, ppm².
    rms_ppm, length_km : float
        RMS (ppm) and correlation length (km) of the along-track correlated part.
    """

    white_var: NDArray
    rms_ppm: float
    length_km: float


@dataclasses.dataclass
class Case:
    """One benchmark case: a sounding table, its truth and what the oracle knew.

    Attributes
    ----------
    kind, noise : str
        One of :data:`KINDS` and :data:`NOISES`.
    soundings : DataFrame
        What the detector reads (CONTRACT §1 columns the files have).
    truth : DataFrame
        One row per injected target (empty for artefact and plume-free cases).
    clear_km : float
        Track holding good soundings (occupied 1 km bins per orbit), km.
    """

    kind: str
    noise: str
    soundings: pd.DataFrame
    truth: pd.DataFrame
    clear_km: float


# ---------------------------------------------------------------------------- physics


def pasquill_class(speed_m_per_s: float) -> str:
    """Daytime Pasquill stability class (one letter or two averaged) of a 10 m wind, m/s."""
    return next(c for bound, c in DAYTIME_CLASSES if speed_m_per_s < bound)


def briggs_sigma_y_m(downwind_m: NDArray, stability: str) -> NDArray:
    """Briggs (1973) open-country horizontal plume width σ_y, m, at ``downwind_m`` (m).

    ``σ_y = a x (1 + 10⁻⁴ x)^-1/2``; a class pair ("BC") averages the two ``a``.
    """
    a = float(np.mean([BRIGGS_RURAL_A[c] for c in stability]))
    x = np.maximum(np.asarray(downwind_m, dtype=float), 0.0)
    return a * x / np.sqrt(1.0 + 1e-4 * x)


def footprint_variance_m2(crosswind: NDArray, heading: NDArray) -> float:
    """Variance (m²) a footprint adds to a plume's width across the wind.

    A footprint averages XCO2 over a ``FOOTPRINT_ALONG_KM × FOOTPRINT_ACROSS_KM`` rectangle;
    a box of width w has variance w²/12, projected onto the crosswind unit vector.
    ``crosswind`` and ``heading`` are (east, north) unit vectors.
    """
    along = float(np.dot(crosswind, heading))
    across = math.sqrt(max(0.0, 1.0 - along * along))
    return 1e6 * ((FOOTPRINT_ALONG_KM * along) ** 2 + (FOOTPRINT_ACROSS_KM * across) ** 2) / 12.0


def column_to_ppm(column_kg_per_m2: NDArray, psurf_hpa: NDArray, tcwv: NDArray) -> NDArray:
    """XCO2 enhancement, ppm, of a CO2 column enhancement ΔΩ (kg/m²).

    ``10⁶ ΔΩ (M_air/M_CO2) / (100 p_s/g − TCWV)``: moles of CO2 over moles of dry air.
    """
    dry = 100.0 * np.asarray(psurf_hpa, float) / G_STANDARD_M_PER_S2 - np.asarray(tcwv, float)
    return 1e6 * np.asarray(column_kg_per_m2) * (M_AIR_G_PER_MOL / M_CO2_G_PER_MOL) / dry


def plume_column(
    east_m: NDArray,
    north_m: NDArray,
    wind_unit: NDArray,
    speed: float,
    q_kg_per_s: float,
    stability: str,
    extra_var_m2: float,
) -> NDArray:
    """Gaussian-plume CO2 column ΔΩ, kg/m², at points relative to the source (m east/north).

    ``Q/(√(2π) σ U) exp(−y²/2σ²)`` downwind (x > 0), zero upwind; σ² = σ_y(x)² + ``extra_var_m2``.
    """
    x = east_m * wind_unit[0] + north_m * wind_unit[1]
    y = -east_m * wind_unit[1] + north_m * wind_unit[0]
    # A 1 m floor keeps the source point itself finite (it is masked below anyway).
    sigma = np.maximum(np.sqrt(briggs_sigma_y_m(x, stability) ** 2 + extra_var_m2), 1.0)
    out = q_kg_per_s / (math.sqrt(2 * math.pi) * sigma * speed) * np.exp(-0.5 * (y / sigma) ** 2)
    return np.where(x > 0, out, 0.0)


def psurf_from_altitude(altitude_m: NDArray) -> NDArray:
    """Surface pressure, hPa, of an isothermal atmosphere (:data:`SCALE_HEIGHT_M`)."""
    return 1013.25 * np.exp(-np.asarray(altitude_m, float) / SCALE_HEIGHT_M)


# ---------------------------------------------------------------------------- tracks


def excluded_places() -> pd.DataFrame:
    """:data:`PLACES` and the CoCO2 sites ≥ :data:`EXCLUSION_SITE_T_PER_YR`: name, lat, lon."""
    sites = load_coco2()
    big = sites[sites["emission_t_per_yr"] >= EXCLUSION_SITE_T_PER_YR]
    places = pd.DataFrame(
        [(n, la, lo) for n, la, lo, _ in PLACES], columns=["name", "latitude", "longitude"]
    )
    coco2 = pd.DataFrame(
        {
            "name": "CoCO2 " + big["source_id"].astype(str),
            "latitude": big["latitude"],
            "longitude": big["longitude"],
        }
    )
    return pd.concat([places, coco2], ignore_index=True)


def near_places_km(soundings: pd.DataFrame, places: pd.DataFrame) -> NDArray:
    """Distance of each sounding to the nearest of ``places``, km."""
    lat = soundings["latitude"].to_numpy(float)
    lon = soundings["longitude"].to_numpy(float)
    box = places["latitude"].between(lat.min() - 2, lat.max() + 2) & places["longitude"].between(
        lon.min() - 3, lon.max() + 3
    )
    near = places[box]
    if near.empty:
        return np.full(lat.size, np.inf)
    d = haversine_km(
        lat[:, None],
        lon[:, None],
        near["latitude"].to_numpy()[None, :],
        near["longitude"].to_numpy()[None, :],
    )
    return d.min(axis=1)


def california_passes() -> pd.DataFrame:
    """Real California nadir/glint passes (target-mode clusters left out), as read."""
    df = read_soundings(CALIFORNIA)
    span = df.groupby("orbit")["latitude"].agg(lambda s: s.max() - s.min())
    keep = span.index[span >= TARGET_MODE_SPAN_DEG]
    df = df[df["orbit"].isin(keep)].reset_index(drop=True)
    df["psurf"] = psurf_from_altitude(df["altitude"].fillna(0.0))
    df["tcwv"] = TCWV_KG_PER_M2
    return df


def segment_positions(
    distance_km: NDArray, rng: np.random.Generator, footprint: NDArray | None = None
) -> pd.DataFrame:
    """Synthetic positions for soundings known only by ``distance_km`` (orbit 11522 stretches).

    A straight track heading 348° (OCO-2 ascending, 98.2° inclination) from 20°S 25°E; each
    sounding gets a footprint 1–8 (drawn at random unless given),
    :data:`FOOTPRINT_SPACING_KM` apart across the track.
    """
    heading = math.radians(-12.0)
    if footprint is None:
        footprint = rng.integers(1, 9, distance_km.size)
    across = (footprint - 4.5) * FOOTPRINT_SPACING_KM
    s = distance_km - distance_km[0]
    north = s * math.cos(heading) - across * math.sin(heading)
    east = s * math.sin(heading) + across * math.cos(heading)
    km_per_deg = math.pi / 180.0 * EARTH_RADIUS_KM
    lat = -20.0 + north / km_per_deg
    lon = 25.0 + east / (km_per_deg * np.cos(np.radians(lat)))
    return pd.DataFrame({"latitude": lat, "longitude": lon, "footprint": footprint.astype(np.int8)})


def _with_times(df: pd.DataFrame, start: str, orbit: int) -> pd.DataFrame:
    """Synthetic ``time`` (6.8 km/s ground speed), ``sounding_id`` and ``orbit`` columns."""
    t = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(
        (df["distance_km"] - df["distance_km"].iloc[0]) / 6.8, unit="s"
    )
    fp = df["footprint"] if "footprint" in df else pd.Series(0, index=df.index)
    ids = t.dt.strftime("%Y%m%d%H%M%S").astype(np.int64) * 100 + (np.arange(len(df)) % 10) * 10
    return df.assign(
        time=t,
        sounding_id=ids + fp.to_numpy(),
        orbit=np.int32(orbit),
        xco2_quality_flag=np.int8(0),
    )


def segment_tracks(rng: np.random.Generator) -> pd.DataFrame:
    """The two real plume-free stretches of orbit 11522 (real XCO2, synthetic positions)."""
    seg = pd.concat([pd.read_csv(p) for p in SEGMENTS], ignore_index=True)
    seg = seg.sort_values("distance_km").reset_index(drop=True)
    seg = pd.concat([seg, segment_positions(seg["distance_km"].to_numpy(), rng)], axis=1)
    seg = seg.assign(psurf=SEGMENT_PSURF_HPA, tcwv=TCWV_KG_PER_M2)
    return _with_times(seg, "2016-08-31 12:20:00", 11522)


def real_tracks(rng: np.random.Generator) -> pd.DataFrame:
    """Real XCO2 away from every known source: California passes and orbit 11522 stretches.

    California soundings within :data:`EXCLUSION_KM` of :func:`excluded_places` are dropped.
    """
    cal = california_passes()
    cal = cal[near_places_km(cal, excluded_places()) > EXCLUSION_KM]
    # Keep passes with enough soundings for a window.
    counts = cal.groupby("orbit")["xco2"].transform("size")
    cal = cal[counts >= 50]
    return pd.concat([cal, segment_tracks(rng)], ignore_index=True)


def geometry_tracks() -> pd.DataFrame:
    """Real positions (and diagnostics) of the Highveld pass and the California nadir passes."""
    cal = california_passes()
    hv = pd.read_csv(HIGHVELD)[["distance_km", "latitude", "longitude"]]
    hv = hv.assign(psurf=HIGHVELD_PSURF_HPA, tcwv=HIGHVELD_TCWV)
    hv = _with_times(hv, "2016-08-31 11:55:00", 11522)
    counts = cal.groupby("orbit")["xco2"].transform("size")
    return pd.concat([cal[counts >= 50], hv], ignore_index=True)


# ---------------------------------------------------------------------------- noise


def ar1_along(distance_km: NDArray, rms: float, length_km: float, rng: np.random.Generator):
    """Exponentially correlated error at sorted positions (exact AR(1) on the distances), ppm."""
    out = np.empty(distance_km.size)
    if out.size == 0:
        return out
    rho = np.exp(-np.diff(distance_km) / length_km)
    z = rng.standard_normal(distance_km.size)
    out[0] = rms * z[0]
    innov = rms * np.sqrt(1.0 - rho * rho) * z[1:]
    for k in range(1, out.size):
        out[k] = rho[k - 1] * out[k - 1] + innov[k - 1]
    return out


def smooth_background(distance_km: NDArray, rng: np.random.Generator) -> NDArray:
    """400 ppm + a slope (±0.002 ppm/km) + 3 sinusoids of 150–600 km, 0.3 ppm each, ppm."""
    s = distance_km - distance_km.mean()
    out = 400.0 + rng.uniform(-0.002, 0.002) * s
    for _ in range(3):
        wavelength = rng.uniform(150.0, 600.0)
        out += 0.3 * np.sin(2 * np.pi * s / wavelength + rng.uniform(0, 2 * np.pi))
    return out


def synthetic_xco2(
    tracks: pd.DataFrame, correlated: bool, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict[int, Noise]]:
    """``tracks`` with synthetic ``xco2`` and ``xco2_uncertainty``, and each orbit's noise."""
    out = tracks.copy()
    u = WHITE_MEDIAN_PPM * np.exp(WHITE_LOG_SCATTER * rng.standard_normal(len(out)))
    out["xco2_uncertainty"] = u
    xco2 = np.empty(len(out))
    noise = {}
    rms = CORRELATED_PPM if correlated else 0.0
    for orbit, idx in out.groupby("orbit").indices.items():
        d = out["distance_km"].to_numpy()[idx]
        x = smooth_background(d, rng) + u[idx] * rng.standard_normal(idx.size)
        if correlated:
            x += ar1_along(d, rms, CORRELATED_KM, rng)
        xco2[idx] = x
        noise[int(orbit)] = Noise(u[idx] ** 2, rms, CORRELATED_KM)
    out["xco2"] = xco2
    return out, noise


def _running_median(values: NDArray, distance_km: NDArray, span_km: float) -> NDArray:
    """Running median over about ``span_km`` of track (window in soundings from the density)."""
    if values.size < 3:
        return np.full(values.size, np.median(values))
    per_km = values.size / max(distance_km[-1] - distance_km[0], 1.0)
    size = int(np.clip(round(span_km * per_km), 3, values.size)) | 1
    return median_filter(values, size=size, mode="nearest")


def estimate_noise(distance_km: NDArray, xco2: NDArray) -> Noise:
    """White + exponentially correlated noise of a real orbit, robust to plumes and outliers.

    Residuals from a running median over :data:`CONTRAST_SPAN_KM`; the robust semivariogram
    ``γ(h) = (median|r_i − r_j| / 0.6745)² / 2`` in lag bins 0–0.5, 0.5–1, 1–2, …, 16–32 km;
    then ``γ(h) = w + c (1 − exp(−h/L))`` fitted by non-negative weighted least squares over a
    grid of L (1–16 km), weights the pair counts over γ². Medians keep a plume (a few % of the
    pairs) from inflating the estimate.
    """
    r = xco2 - _running_median(xco2, distance_km, CONTRAST_SPAN_KM)
    edges = np.array([0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
    lag_parts, diff_parts = [], []
    for k in range(1, min(r.size, 1000)):
        h = distance_km[k:] - distance_km[:-k]
        sel = h <= edges[-1]
        if not sel.any():
            break
        lag_parts.append(h[sel])
        diff_parts.append(np.abs(r[k:] - r[:-k])[sel])
    lags, gammas, counts = [], [], []
    if lag_parts:
        h_all, d_all = np.concatenate(lag_parts), np.concatenate(diff_parts)
        which = np.digitize(h_all, edges[1:-1], right=True)
        for b in range(edges.size - 1):
            dd = d_all[which == b]
            if dd.size >= 20:
                lags.append(0.5 * (edges[b] + edges[b + 1]))
                gammas.append((np.median(dd) / 0.6745) ** 2 / 2.0)
                counts.append(dd.size)
    if not lags:
        return Noise(np.full(r.size, float(np.var(r))), 0.0, 1.0)
    h, g, n = map(np.asarray, (lags, gammas, counts))
    best = None
    for length in (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0):
        design = np.column_stack([np.ones_like(h), 1.0 - np.exp(-h / length)])
        wts = np.sqrt(n) / g
        coef, *_ = np.linalg.lstsq(design * wts[:, None], g * wts, rcond=None)
        coef = np.maximum(coef, 0.0)
        if coef[0] == 0.0 or coef[1] == 0.0:
            # Refit the remaining term alone (non-negative least squares in 2-D).
            j = 0 if coef[0] > 0 else 1
            col = design[:, j] * wts
            coef = np.zeros(2)
            coef[j] = max(float(col @ (g * wts) / (col @ col)), 0.0)
        cost = float(np.sum(((design @ coef - g) * wts) ** 2))
        if best is None or cost < best[0]:
            best = (cost, coef, length)
    _, coef, length = best
    white = max(float(coef[0]), 0.01)
    return Noise(np.full(r.size, white), float(np.sqrt(coef[1])), length)


# ---------------------------------------------------------------------------- injection


#: Half-span of the straight line fitted to the positions around a crossing, km.
LINE_HALF_SPAN_KM = 20.0


def _local_frame(orb: pd.DataFrame, k: int) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """East/north (m) of an orbit's soundings around its centre line at sounding ``k``.

    The centre line is the straight line fitted (least squares in ``distance_km``) to the
    positions within :data:`LINE_HALF_SPAN_KM`: the 8 footprints scatter ±4.5 km about it.
    Returns east, north (relative to sounding ``k``), the centre-line point at sounding
    ``k``'s distance (east, north) and the heading unit vector.
    """
    lat = orb["latitude"].to_numpy()
    lon = orb["longitude"].to_numpy()
    d = orb["distance_km"].to_numpy()
    lat0, lon0 = lat[k], lon[k]
    km_per_deg = math.pi / 180.0 * EARTH_RADIUS_KM
    east = (lon - lon0) * math.cos(math.radians(lat0)) * km_per_deg * 1e3
    north = (lat - lat0) * km_per_deg * 1e3
    near = np.abs(d - d[k]) <= LINE_HALF_SPAN_KM
    t = d[near] - d[k]
    design = np.column_stack([np.ones_like(t), t])
    if np.ptp(t) < 1.0:
        _, heading_deg = cross_track_km(lat, lon, 41)
        h = math.radians(heading_deg[k])
        return east, north, np.zeros(2), np.array([math.sin(h), math.cos(h)])
    (e0, ve), *_ = np.linalg.lstsq(design, east[near], rcond=None)
    (n0, vn), *_ = np.linalg.lstsq(design, north[near], rcond=None)
    unit = np.array([ve, vn]) / math.hypot(ve, vn)
    return east, north, np.array([e0, n0]), unit


def _rotate(v: NDArray, deg: float) -> NDArray:
    """``v`` (east, north) turned clockwise by ``deg`` degrees (a compass rotation)."""
    a = math.radians(deg)
    return np.array(
        [v[0] * math.cos(a) + v[1] * math.sin(a), -v[0] * math.sin(a) + v[1] * math.cos(a)]
    )


def _centre_latlon(orb: pd.DataFrame, k: int, centre: NDArray) -> tuple[float, float]:
    km_per_deg = math.pi / 180.0 * EARTH_RADIUS_KM
    lat0 = float(orb["latitude"].iloc[k])
    lon0 = float(orb["longitude"].iloc[k])
    lat = lat0 + centre[1] / 1e3 / km_per_deg
    return lat, lon0 + centre[0] / 1e3 / (km_per_deg * math.cos(math.radians(lat0)))


def inject_plant(
    orb: pd.DataFrame, k: int, rng: np.random.Generator, wind: tuple[float, float] | None = None
) -> tuple[NDArray, dict]:
    """XCO2 enhancement (ppm) of a power-plant plume crossing the centre line at sounding ``k``.

    ``wind`` (speed m/s, compass angle from the track, degrees) is drawn when None.
    """
    east, north, centre, unit = _local_frame(orb, k)
    if wind is None:
        speed = rng.uniform(2.0, 8.0)
        angle = rng.uniform(20.0, 90.0) * rng.choice([-1.0, 1.0])
        angle += 180.0 * rng.integers(0, 2)
    else:
        speed, angle = wind
    w = _rotate(unit, angle)
    downwind_km = rng.uniform(5.0, 15.0)
    q = rng.uniform(5.0, 40.0) * 1e9 / SECONDS_PER_YEAR
    stability = pasquill_class(speed)
    source = centre - downwind_km * 1e3 * w
    cross = np.array([-w[1], w[0]])
    extra = footprint_variance_m2(cross, unit)
    column = plume_column(east - source[0], north - source[1], w, speed, q, stability, extra)
    # Support on each flank of the plume in its own frame: soundings downwind with the
    # crosswind offset y within 2σ(x) on either side.
    x = (east - source[0]) * w[0] + (north - source[1]) * w[1]
    y = -(east - source[0]) * w[1] + (north - source[1]) * w[0]
    width = np.sqrt(briggs_sigma_y_m(x, stability) ** 2 + extra)
    inside = (x > 0) & (np.abs(y) <= 2.0 * width)
    psurf = orb["psurf"].to_numpy(float)
    tcwv = orb["tcwv"].to_numpy(float)
    enh = column_to_ppm(column, psurf, tcwv)
    sigma_m = math.sqrt(float(briggs_sigma_y_m(downwind_km * 1e3, stability)) ** 2 + extra)
    sin_a = abs(float(unit[0] * w[1] - unit[1] * w[0]))
    peak_column = q / (math.sqrt(2 * math.pi) * sigma_m * speed)
    lat, lon = _centre_latlon(orb, k, centre)
    truth = {
        "kind": "plant",
        "delta_ppm": float(column_to_ppm(peak_column, psurf[k], tcwv[k])),
        "sigma_km": sigma_m / 1e3 / sin_a,
        "emission_kg_per_s": q,
        "emission_mt_per_yr": q * SECONDS_PER_YEAR / 1e9,
        "downwind_km": downwind_km,
        "wind_m_per_s": speed,
        "wind_angle_deg": math.degrees(math.asin(min(sin_a, 1.0))),
        "stability": stability,
        "latitude": lat,
        "longitude": lon,
        "windspeed_u": speed * w[0],
        "windspeed_v": speed * w[1],
        "n_left": int(np.count_nonzero(inside & (y <= 0))),
        "n_right": int(np.count_nonzero(inside & (y >= 0))),
    }
    return enh, truth


def inject_dome(orb: pd.DataFrame, k: int, rng: np.random.Generator) -> tuple[NDArray, dict]:
    """XCO2 enhancement (ppm) of a city dome centred near the centre line at sounding ``k``."""
    east, north, centre, unit = _local_frame(orb, k)
    d = orb["distance_km"].to_numpy()
    delta = rng.uniform(1.5, 3.5)
    sigma_km = rng.uniform(15.0, 35.0)
    flat = bool(rng.integers(0, 2))
    offset_km = rng.uniform(-0.5, 0.5) * sigma_km
    c = centre + offset_km * 1e3 * np.array([unit[1], -unit[0]])
    r_km = np.hypot(east - c[0], north - c[1]) / 1e3
    if flat:
        # Same peak and area along a line as a Gaussian of sigma_km: s = σ / 0.860.
        s = sigma_km / (math.sqrt(2 * math.pi) / (2 * 2**0.25 * math.gamma(1.25)))
        enh = delta * np.exp(-0.5 * (r_km / s) ** 4)
        along = delta * math.exp(-0.5 * (offset_km / s) ** 4)
    else:
        enh = delta * np.exp(-0.5 * (r_km / sigma_km) ** 2)
        along = delta * math.exp(-0.5 * (offset_km / sigma_km) ** 2)
    lat, lon = _centre_latlon(orb, k, centre)
    truth = {
        "kind": "dome_flat" if flat else "dome",
        "delta_ppm": along,
        "sigma_km": sigma_km,
        "emission_kg_per_s": np.nan,
        "emission_mt_per_yr": np.nan,
        "downwind_km": np.nan,
        "wind_m_per_s": np.nan,
        "wind_angle_deg": np.nan,
        "stability": "",
        "latitude": lat,
        "longitude": lon,
        "windspeed_u": np.nan,
        "windspeed_v": np.nan,
        "n_left": int(np.count_nonzero((d >= d[k] - 2 * sigma_km) & (d <= d[k]))),
        "n_right": int(np.count_nonzero((d >= d[k]) & (d <= d[k] + 2 * sigma_km))),
    }
    return enh, truth


def _positions(d: NDArray, rng: np.random.Generator, spacing_km: float, margin_km: float):
    """Indices of soundings at least ``spacing_km`` apart, drawn at random along sorted ``d``."""
    chosen: list[int] = []
    for k in rng.permutation(d.size):
        if d[k] - d[0] < margin_km or d[-1] - d[k] < margin_km:
            continue
        if all(abs(d[k] - d[j]) >= spacing_km for j in chosen):
            chosen.append(int(k))
    return sorted(chosen)


def inject(
    tracks: pd.DataFrame, kind: str, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``tracks`` with targets of ``kind`` ("plant", "dome", "dense", "city") added, and truth.

    Also sets ``windspeed_u_met``/``windspeed_v_met`` of every sounding to the wind of the
    nearest plant (the meteorology a Lite file would carry); 3 m/s along the track elsewhere.
    """
    out = tracks.sort_values(["orbit", "distance_km"]).reset_index(drop=True)
    xco2 = out["xco2"].to_numpy(float).copy()
    u = np.full(len(out), np.nan)
    v = np.full(len(out), np.nan)
    rows = []
    for orbit, idx in out.groupby("orbit").indices.items():
        orb = out.iloc[idx].reset_index(drop=True)
        d = orb["distance_km"].to_numpy()
        wind_at = np.full(d.size, np.inf)
        if kind == "dense":
            starts = _positions(d, rng, 300.0, 20.0)
            sites = []
            for k0 in starts:
                n = int(rng.integers(3, 6))
                gaps = np.cumsum(np.r_[0.0, rng.uniform(20.0, 60.0, n - 1)])
                where = nearest_index(d, d[k0] + gaps)
                keep = np.abs(d[where] - (d[k0] + gaps)) < 5.0
                speed = rng.uniform(2.0, 8.0)
                angle = rng.uniform(20.0, 90.0) * rng.choice([-1.0, 1.0])
                sites += [(int(k), (speed, angle)) for k in np.unique(where[keep])]
        elif kind == "city":
            sites = []
            for k0 in _positions(d, rng, TARGET_SPACING_KM, 60.0):
                sites.append((k0, "dome"))
                speed = rng.uniform(2.0, 8.0)
                angle = rng.uniform(20.0, 90.0) * rng.choice([-1.0, 1.0])
                n = int(rng.integers(1, 3))
                off = rng.uniform(5.0, 30.0, n) * rng.choice([-1.0, 1.0], n)
                where = nearest_index(d, d[k0] + off)
                sites += [(int(k), (speed, angle)) for k in np.unique(where) if k != k0]
        else:
            sites = [(k, None) for k in _positions(d, rng, TARGET_SPACING_KM, 5.0)]
        for k, wind in sites:
            if kind == "dome" or wind == "dome":
                enh, truth = inject_dome(orb, k, rng)
            else:
                enh, truth = inject_plant(orb, k, rng, wind)
                near = np.abs(d - d[k]) < wind_at
                wind_at[near] = np.abs(d - d[k])[near]
                u[idx[near]] = truth["windspeed_u"]
                v[idx[near]] = truth["windspeed_v"]
            xco2[idx] += enh
            truth.update(orbit=int(orbit), distance_km=float(d[k]), template_index=idx)
            truth["enhancement"] = enh
            rows.append(truth)
    out["xco2"] = xco2
    default_u, default_v = _along_track_wind(out)
    out["windspeed_u_met"] = np.where(np.isfinite(u), u, default_u)
    out["windspeed_v_met"] = np.where(np.isfinite(v), v, default_v)
    return out, pd.DataFrame(rows)


def _along_track_wind(df: pd.DataFrame) -> tuple[NDArray, NDArray]:
    """A 3 m/s wind across the track (a wind with no plume still has to be there)."""
    _, heading = cross_track_km(df["latitude"], df["longitude"], 41)
    h = np.radians(heading + 90.0)
    return 3.0 * np.sin(h), 3.0 * np.cos(h)


# ---------------------------------------------------------------------------- oracle


def oracle_delta_chi2(
    distance_km: NDArray, enhancement: NDArray, centre_km: float, noise: Noise
) -> float:
    """Expected Δχ² of a known template at its known position over a line background.

    ``sᵀ C⁻¹ s`` after projecting the line out (GLS, :func:`oco2explore.fit.gls_chi2`) on the
    ±:data:`ORACLE_HALF_WIDTH_KM` window: what a fit of the template's amplitude gains on
    average, independent of the noise draw.
    """
    win = np.abs(distance_km - centre_km) <= ORACLE_HALF_WIDTH_KM
    if np.count_nonzero(win) < 3:
        return 0.0
    t = distance_km[win] - centre_km
    s = enhancement[win]
    design = np.column_stack([t, np.ones_like(t)])
    chi2, _ = gls_chi2(
        design, s, noise.white_var[win], distance_km[win], noise.rms_ppm, noise.length_km
    )
    return float(chi2[2])


def with_oracle(
    soundings: pd.DataFrame, truth: pd.DataFrame, noise: dict[int, Noise]
) -> pd.DataFrame:
    """Truth with ``oracle``, the expected Δχ² of :func:`oracle_delta_chi2`."""
    if truth.empty:
        return truth
    by_orbit = soundings.groupby("orbit").indices
    oracle = []
    for row in truth.itertuples():
        idx = by_orbit[row.orbit]
        d = soundings["distance_km"].to_numpy()[idx]
        enh = np.zeros(soundings.shape[0])
        enh[row.template_index] = row.enhancement
        oracle.append(oracle_delta_chi2(d, enh[idx], row.distance_km, noise[row.orbit]))
    return truth.assign(oracle=oracle)


# ---------------------------------------------------------------------------- cases


def artefact_bias(tracks: pd.DataFrame) -> NDArray:
    """Assumed XCO2 retrieval bias from the real diagnostics of each sounding, ppm.

    ``ALBEDO_PPM × (albedo_sco2 − its running median)`` (bright patches),
    ``+ AOD_PPM × max(aod_total − AOD_FREE, 0)`` (aerosol),
    ``+ TERRAIN_PPM_PER_KM × (altitude − its running median)/1000`` (terrain steps: a
    surface-pressure error), running medians over :data:`CONTRAST_SPAN_KM`, bounded to
    ±:data:`ARTEFACT_BOUND_PPM`. Missing diagnostics contribute nothing.
    """
    bias = np.zeros(len(tracks))
    for _, idx in tracks.groupby("orbit").indices.items():
        orb = tracks.iloc[idx]
        d = orb["distance_km"].to_numpy()
        b = np.zeros(idx.size)
        if "albedo_sco2" in orb:
            alb = orb["albedo_sco2"].fillna(orb["albedo_sco2"].median()).to_numpy()
            if np.isfinite(alb).all():
                b += ALBEDO_PPM * (alb - _running_median(alb, d, CONTRAST_SPAN_KM))
        if "aod_total" in orb:
            aod = orb["aod_total"].fillna(AOD_FREE).to_numpy()
            b += AOD_PPM * np.maximum(aod - AOD_FREE, 0.0)
        if "altitude" in orb:
            alt = orb["altitude"].fillna(orb["altitude"].median()).to_numpy()
            if np.isfinite(alt).all():
                b += TERRAIN_PPM_PER_KM * (alt - _running_median(alt, d, CONTRAST_SPAN_KM)) / 1e3
        bias[idx] = np.clip(b, -ARTEFACT_BOUND_PPM, ARTEFACT_BOUND_PPM)
    return bias


def _copy(tracks: pd.DataFrame, j: int) -> pd.DataFrame:
    """``tracks`` with orbit numbers offset by ``j`` × :data:`COPY_ORBIT_OFFSET`."""
    orbit = tracks["orbit"].astype(np.int64) + j * COPY_ORBIT_OFFSET
    return tracks.assign(orbit=orbit.astype(np.int32))


def _copies(tracks: pd.DataFrame, n: int) -> pd.DataFrame:
    """``n`` copies of ``tracks`` (:func:`_copy` 0 … n−1)."""
    return pd.concat([_copy(tracks, j) for j in range(n)], ignore_index=True)


def _estimated_noise(soundings: pd.DataFrame) -> dict[int, Noise]:
    noise = {}
    for orbit, idx in soundings.groupby("orbit").indices.items():
        orb = soundings.iloc[idx]
        noise[int(orbit)] = estimate_noise(orb["distance_km"].to_numpy(), orb["xco2"].to_numpy())
    return noise


def _plume_free(soundings: pd.DataFrame) -> pd.DataFrame:
    u, v = _along_track_wind(soundings)
    return soundings.assign(windspeed_u_met=u, windspeed_v_met=v)


def build_cases(n_targets: int = 100, seed: int = 0, copies_free: int = 10) -> list[Case]:
    """Every (kind, noise) case with about ``n_targets`` injected targets each; seeded.

    Tracks are repeated (orbit numbers offset) until ``n_targets`` are injected. The
    plume-free synthetic and artefact cases use ``copies_free`` noise draws of the geometry.
    """
    rng = np.random.default_rng(seed)
    real = real_tracks(rng).sort_values(["orbit", "distance_km"]).reset_index(drop=True)
    geometry = geometry_tracks().sort_values(["orbit", "distance_km"]).reset_index(drop=True)
    real_noise = _estimated_noise(real)
    cases: list[Case] = []
    empty = pd.DataFrame()
    for noise_kind in NOISES:
        for kind in ("plant", "dome", "dense", "city"):
            # The city case (added in session 12) draws from a stream of its own, so the
            # other cases are those of earlier sessions.
            draw = rng
            if kind == "city":
                draw = np.random.default_rng([seed, NOISES.index(noise_kind)])
            parts, truths, noises, n, j = [], [], {}, 0, 0
            while n < n_targets and j < 40:
                if noise_kind == "real":
                    base = _copy(real, j)
                    noise = {o + j * COPY_ORBIT_OFFSET: nz for o, nz in real_noise.items()}
                else:
                    base = _copy(geometry, j)
                    base, noise = synthetic_xco2(base, noise_kind == "correlated", draw)
                soundings, truth = inject(base.reset_index(drop=True), kind, draw)
                parts.append(soundings)
                truths.append(with_oracle(soundings, truth, noise))
                noises.update(noise)
                n += len(truth)
                j += 1
            soundings = pd.concat(parts, ignore_index=True)
            truth = pd.concat(truths, ignore_index=True).drop(
                columns=["enhancement", "template_index"], errors="ignore"
            )
            cases.append(Case(kind, noise_kind, soundings, truth, clear_track_km(soundings)))
        if noise_kind == "real":
            free = _plume_free(real)
        else:
            base = _copies(geometry, copies_free)
            free, _ = synthetic_xco2(base, noise_kind == "correlated", rng)
            free = _plume_free(free)
        cases.append(Case("plume-free", noise_kind, free, empty, clear_track_km(free)))
        if noise_kind == "correlated":
            base = _copies(geometry, copies_free)
            art, _ = synthetic_xco2(base, True, rng)
            art["xco2"] += artefact_bias(art)
            art = _plume_free(art)
            cases.append(Case("artefact", noise_kind, art, empty, clear_track_km(art)))
    return cases


# ---------------------------------------------------------------------------- scoring


def match(peaks: pd.DataFrame, truth: pd.DataFrame) -> NDArray:
    """Peak × target: same orbit and within max(:data:`MATCH_MIN_KM`, 2σ) along the track."""
    if peaks.empty or truth.empty:
        return np.zeros((len(peaks), len(truth)), dtype=bool)
    radius = np.maximum(2.0 * truth["sigma_km"].to_numpy(), MATCH_MIN_KM)
    dist = np.abs(peaks["distance_km"].to_numpy()[:, None] - truth["distance_km"].to_numpy()[None])
    same = peaks["orbit"].to_numpy()[:, None] == truth["orbit"].to_numpy()[None, :]
    return same & (dist <= radius[None, :])


def assigned(peaks: pd.DataFrame, truth: pd.DataFrame, hit: NDArray | None = None) -> NDArray:
    """The one target each peak stands for: of those it matches, the nearest in its own σ.

    Index into ``truth`` per peak, −1 for a peak that matches none. The distance is
    ``|Δd| / max(σ_target, MATCH_MIN_KM/2)``: a plant's peak inside a city dome is the
    plant's (0 plant σ off, a fraction of the dome's), a blended peak at the dome's centre
    the dome's.
    """
    if hit is None:
        hit = match(peaks, truth)
    if not hit.size:
        return np.full(len(peaks), -1)
    scale = np.maximum(truth["sigma_km"].to_numpy(), MATCH_MIN_KM / 2.0)
    dist = np.abs(peaks["distance_km"].to_numpy()[:, None] - truth["distance_km"].to_numpy()[None])
    rank = np.where(hit, dist / scale[None, :], np.inf)
    return np.where(hit.any(axis=1), np.argmin(rank, axis=1), -1)


def observed(truth: pd.DataFrame) -> NDArray:
    """Targets with ≥ :data:`oco2explore.truth.MIN_SIDE` soundings on each flank within 2σ.

    For plants the flanks are in the plume's own frame (crosswind offset within 2σ_y, either
    side of the axis), for domes along the track.
    """
    return ((truth["n_left"] >= MIN_SIDE) & (truth["n_right"] >= MIN_SIDE)).to_numpy()


def score(peaks: pd.DataFrame, case: Case) -> dict[str, float]:
    """Recall over oracle-detectable targets, precision, peaks per found target, |ln Q|, false rate.

    A target is found when a passed peak matches it (:func:`match`). ``recall 1:1`` counts
    it only when a peak stands for it (:func:`assigned`), so one peak blending a city dome
    and its plants finds one target, not three; ``peaks/target`` is the number of peaks
    standing for each target that has any (1 when no plume is split in two).
    A passed peak on any injected target (detectable or not) is not false; the emission error
    compares the nearest matched peak's ``emission_kg_per_s`` with the summed true emission of
    the plants matched to it within 2σ of its fitted width.
    """
    passed = peaks[peaks["passed"]].reset_index(drop=True) if len(peaks) else peaks
    truth = case.truth
    hit = match(passed, truth)
    out = {"n targets": 0, "recall": np.nan, "recall obs": np.nan, "precision": np.nan}
    out["recall 1:1"] = np.nan
    out["peaks/target"] = np.nan
    out["|ln Q|"] = np.nan
    n_false = int((~hit.any(axis=1)).sum()) if len(passed) else 0
    out["false/1e4 km"] = n_false / case.clear_km * 1e4 if case.clear_km else np.nan
    out["passed"] = len(passed)
    out["n observed"] = 0
    if truth.empty:
        return out
    target = truth["oracle"].to_numpy() >= ORACLE_MIN
    found = hit.any(axis=0) & target
    out["n targets"] = int(target.sum())
    out["recall"] = found.sum() / target.sum() if target.any() else np.nan
    seen = target & observed(truth)
    out["n observed"] = int(seen.sum())
    out["recall obs"] = found[seen].sum() / seen.sum() if seen.any() else np.nan
    out["precision"] = hit.any(axis=1).mean() if len(passed) else np.nan
    owner = assigned(passed, truth, hit)
    count = np.bincount(owner[owner >= 0], minlength=len(truth))
    out["recall 1:1"] = (count[target] > 0).sum() / target.sum() if target.any() else np.nan
    stands = target & (count > 0)
    out["peaks/target"] = count[stands].mean() if stands.any() else np.nan
    errors = []
    plant = truth["kind"].to_numpy() == "plant"
    for j in np.flatnonzero(found & plant):
        cand = np.flatnonzero(hit[:, j])
        off = np.abs(passed["distance_km"].to_numpy()[cand] - truth["distance_km"].iloc[j])
        i = cand[np.argmin(off)]
        est = float(passed["emission_kg_per_s"].iloc[i])
        near = hit[i] & plant
        near &= np.abs(truth["distance_km"].to_numpy() - passed["distance_km"].iloc[i]) <= 2.0 * (
            float(passed["sigma_km"].iloc[i])
        )
        near[j] = True
        q = float(truth["emission_kg_per_s"].to_numpy()[near].sum())
        if est > 0 and np.isfinite(est):
            errors.append(abs(math.log(est / q)))
    out["|ln Q|"] = float(np.median(errors)) if errors else np.nan
    return out


def missed(peaks: pd.DataFrame, case: Case) -> pd.DataFrame:
    """Oracle-detectable targets with no passed peak, with the nearest peak's verdict."""
    if case.truth.empty:
        return case.truth
    passed = peaks[peaks["passed"]].reset_index(drop=True) if len(peaks) else peaks
    hit = match(passed, case.truth)
    target = case.truth["oracle"].to_numpy() >= ORACLE_MIN
    rows = case.truth[target & ~hit.any(axis=0)].copy()
    nearest = []
    for row in rows.itertuples():
        near = peaks[peaks["orbit"] == row.orbit] if len(peaks) else peaks
        if not len(near):
            nearest.append("no peak")
            continue
        off = near["distance_km"].to_numpy() - row.distance_km
        i = int(np.argmin(np.abs(off)))
        reason = near["reject_reason"].iloc[i] or "passed"
        nearest.append(
            f"{off[i]:+.1f} km, Δ {near['delta_ppm'].iloc[i]:.2f}, "
            f"σ {near['sigma_km'].iloc[i]:.1f}, sig {near['significance'].iloc[i]:.0f}, {reason}"
        )
    return rows.assign(nearest=nearest)
