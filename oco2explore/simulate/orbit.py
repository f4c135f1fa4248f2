"""Simulated soundings of one orbit and of one UTC day, in memory.

:func:`simulate_orbit` chains the steps: select the daytime frames to simulate, draw the
orbit's random numbers, keep the clear footprints, add the plumes, build the sounding
table and the truth rows; :func:`simulate_day` joins the orbits of a day. See
:mod:`oco2explore.simulate`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..constants import EARTH_RADIUS_KM
from ..soundings import normalise_soundings
from .atmosphere import Wind, background_xco2
from .geometry import (
    MAX_SZA_DEG,
    _daytime_frames,
    _footprint_positions,
    _frame_headings,
    orbit_at,
    orbit_day,
    solar_zenith_deg,
    sounding_ids,
)
from .noise import (
    BAD_NOISE_PPM,
    REAL_CORRELATION_KM,
    _check_correlated_error,
    _draw_orbit,
    _OrbitDraws,
    correlated_error,
)
from .plumes import TRUTH_COLUMNS, _nearest_soundings, _plumes
from .regions import Region, _inside_any, _regional_fractions, _resolve_regions
from .surface import land_mask, surface_pressure_hpa, terrain_altitude_m, water_vapour_kg_per_m2


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
        RMS (ppm) of an along-track, exponentially correlated XCO2 error
        (:func:`correlated_error`), one value per frame shared by its footprints, as real
        OCO-2 errors are correlated over a few km (:data:`REAL_CORRELATED_ERROR_PPM` is
        real-like). 0 (default): exactly the output without it (no random numbers drawn).
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
    frames = _frames_to_simulate(orbit, start, end, region_list)
    draws = _draw_orbit(seed, orbit, frames["k"].size)
    frame_error = _frame_error(seed, orbit, frames, correlated_error_ppm, correlation_km)
    centre = _frame_centres(frames, draws)
    sounding = _written_soundings(frames, draws)
    if correlated_error_ppm:
        sounding["noise"] = sounding["noise"] + frame_error[sounding["frame"]]
    wind = Wind.for_day(seed, orbit_day(orbit))
    enhancement, truth_rows = np.zeros(sounding["frame"].size), []
    if plumes and frames["select"].any():
        enhancement, truth_rows = _plumes(orbit, wind, centre, sounding)
    soundings = _sounding_table(orbit, frames, sounding, draws, wind, enhancement)
    return soundings, _truth_table(truth_rows, soundings)


def _frames_to_simulate(
    orbit: int,
    start: str | pd.Timestamp | None,
    end: str | pd.Timestamp | None,
    regions: list[Region] | None,
) -> dict[str, np.ndarray]:
    """The daytime frames of ``orbit`` and which of them to simulate.

    Returns the keys of :func:`~oco2explore.simulate.geometry._daytime_frames` plus
    ``select`` (sunlit, in ``[start, end)`` and inside ``regions`` if given), ``s_km``
    (along-track position, km), ``heading`` (degrees), ``clear_fraction``,
    ``bad_fraction`` (:func:`~oco2explore.simulate.regions._regional_fractions`) and
    ``land`` (evaluated at the selected frames only, False elsewhere). With no frame
    selected every array is empty (nothing to simulate: the random draws are empty).
    """
    frames = _daytime_frames(orbit)
    lat, lon, t = frames["latitude"], frames["longitude"], frames["time"]
    select = solar_zenith_deg(t, lat, lon) < MAX_SZA_DEG
    if start is not None:
        select &= t >= pd.Timestamp(start).timestamp()
    if end is not None:
        select &= t < pd.Timestamp(end).timestamp()
    if regions is not None:
        select &= _inside_any(regions, lat, lon)
    if not select.any():
        frames, select = {key: values[:0] for key, values in frames.items()}, select[:0]
        lat, lon = frames["latitude"], frames["longitude"]
    frames["select"] = select
    frames["s_km"] = frames["u"] * np.pi / 180.0 * EARTH_RADIUS_KM
    frames["heading"] = _frame_headings(lat, lon)
    frames["clear_fraction"], frames["bad_fraction"] = _regional_fractions(lat, lon)
    frames["land"] = np.zeros(select.size, dtype=bool)
    frames["land"][select] = land_mask(lat[select], lon[select])
    return frames


def _frame_error(
    seed: int, orbit: int, frames: dict[str, np.ndarray], rms_ppm: float, correlation_km: float
) -> np.ndarray:
    """The along-track correlated error of each frame, ppm (:func:`correlated_error`).

    It has its own generator, so the other fields are the same with and without it.
    """
    rng = np.random.default_rng([seed, orbit, 7])
    return correlated_error(rng, frames["s_km"], rms_ppm, correlation_km)


def _frame_centres(frames: dict[str, np.ndarray], draws: _OrbitDraws) -> dict[str, np.ndarray]:
    """State of the selected frame centres, for the truth at the plume crossings.

    Keys: ``latitude``, ``longitude``, ``time``, ``heading``, ``consecutive`` (the next
    selected frame is the next frame), ``psurf`` (hPa) and ``tcwv`` (kg/m²).
    """
    idx = np.flatnonzero(frames["select"])
    lat, lon, t = frames["latitude"][idx], frames["longitude"][idx], frames["time"][idx]
    altitude = terrain_altitude_m(lat, lon, frames["land"][idx])
    return {
        "latitude": lat,
        "longitude": lon,
        "time": t,
        "heading": frames["heading"][idx],
        "consecutive": np.diff(idx) == 1,
        "psurf": surface_pressure_hpa(altitude) + draws.weather_hpa[idx],
        "tcwv": water_vapour_kg_per_m2(lat, altitude, t),
    }


def _clear_footprints(
    frames: dict[str, np.ndarray], draws: _OrbitDraws
) -> tuple[np.ndarray, np.ndarray]:
    """Frame index and footprint index (0-7) of the clear footprints of the selected frames."""
    threshold = ndtri(frames["clear_fraction"])[:, None]
    written = (draws.cloud[:, None] + 0.31 * draws.normal[0]) < threshold
    written[~frames["select"]] = False
    return np.nonzero(written)


def _written_soundings(frames: dict[str, np.ndarray], draws: _OrbitDraws) -> dict[str, np.ndarray]:
    """Position, column, quality and noise of the written (clear) soundings.

    Keys: ``frame`` and ``fp0`` (frame and footprint index 0-7), ``footprint`` (1-8),
    ``latitude``, ``longitude``, ``time``, ``heading``, ``land``, ``altitude`` (m),
    ``psurf`` (true surface pressure, hPa), ``tcwv`` (kg/m²), ``bad`` (quality flag 1),
    ``good``, ``uncertainty`` (reported, ppm) and ``noise`` (ppm, without the correlated
    error).
    """
    f_idx, fp0 = _clear_footprints(frames, draws)
    footprint = fp0 + 1
    heading = frames["heading"][f_idx]
    lat, lon = _footprint_positions(
        frames["latitude"][f_idx], frames["longitude"][f_idx], heading, footprint
    )
    t = frames["time"][f_idx]
    land = frames["land"][f_idx]
    altitude = terrain_altitude_m(lat, lon, land)
    normal, uniform = draws.normal[:, f_idx, fp0], draws.uniform[f_idx, fp0]
    bad_threshold = ndtri(1.0 - frames["bad_fraction"][f_idx])
    flag_bad = (draws.bad[f_idx] + 0.31 * normal[2]) > bad_threshold
    unc = np.where(land, 0.45 + 0.45 * uniform, 0.4 + 0.25 * uniform)
    return {
        "frame": f_idx,
        "fp0": fp0,
        "footprint": footprint,
        "latitude": lat,
        "longitude": lon,
        "time": t,
        "heading": heading,
        "land": land,
        "altitude": altitude,
        "psurf": surface_pressure_hpa(altitude) + draws.weather_hpa[f_idx],
        "tcwv": water_vapour_kg_per_m2(lat, altitude, t) * np.exp(0.15 * normal[1]),
        "bad": flag_bad,
        "good": ~flag_bad,
        "uncertainty": unc,
        "noise": unc * normal[3] + flag_bad * BAD_NOISE_PPM * normal[4],
    }


def _sounding_table(
    orbit: int,
    frames: dict[str, np.ndarray],
    sounding: dict[str, np.ndarray],
    draws: _OrbitDraws,
    wind: Wind,
    enhancement: np.ndarray,
) -> pd.DataFrame:
    """The soundings table of :func:`simulate_orbit`: XCO2 is background + undulation +
    footprint bias + plumes + noise; retrieved and prior surface pressure get their noise."""
    lat, lon, t, land = (
        sounding["latitude"],
        sounding["longitude"],
        sounding["time"],
        sounding["land"],
    )
    f_idx, fp0, footprint = sounding["frame"], sounding["fp0"], sounding["footprint"]
    undulation = draws.undulation_ppm(frames["s_km"][f_idx])
    prior = background_xco2(t, lat)
    xco2 = prior + undulation + draws.bias[fp0] + enhancement + sounding["noise"]
    u_met, v_met = wind(lat, lon)
    sza = solar_zenith_deg(t, lat, lon)
    psurf_true = sounding["psurf"]
    return pd.DataFrame(
        {
            "sounding_id": sounding_ids(t, footprint),
            "time": pd.to_datetime(t, unit="s", utc=True),
            "orbit": np.full(f_idx.size, orbit, dtype=np.int32),
            "footprint": footprint.astype(np.int8),
            "latitude": lat,
            "longitude": lon,
            "xco2": xco2,
            "xco2_uncertainty": sounding["uncertainty"],
            "xco2_quality_flag": sounding["bad"].astype(np.int8),
            "windspeed_u_met": u_met,
            "windspeed_v_met": v_met,
            "psurf": psurf_true + 1.5 * draws.normal[5, f_idx, fp0],
            "psurf_apriori": psurf_true + 0.8 * draws.normal[6, f_idx, fp0],
            "tcwv": sounding["tcwv"],
            "land_water_indicator": np.where(land, 0, 1).astype(np.int8),
            "land_fraction": np.where(land, 100.0, 0.0),
            "altitude": sounding["altitude"],
            "operation_mode": np.where(land, 0, 1).astype(np.int8),
            "solar_zenith_angle": sza,
            "sensor_zenith_angle": np.where(land, 0.5 + 0.1 * footprint, sza),
            "xco2_apriori": prior,
            "xco2_x2019": xco2 + 0.18,
            "track_heading_deg": sounding["heading"],
        }
    )


def _truth_table(rows: list[dict], soundings: pd.DataFrame) -> pd.DataFrame:
    """The truth rows as a table (:data:`TRUTH_COLUMNS`), each with its nearest sounding."""
    truth = pd.DataFrame(rows, columns=list(TRUTH_COLUMNS))
    if len(soundings) and len(truth):
        truth["crossing_sounding_id"] = _nearest_soundings(truth, soundings)
    return truth


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
