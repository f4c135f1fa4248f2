"""Orbit geometry of the simulator: orbit numbers, ground track, sun, frames and footprints.

A circular sun-synchronous orbit (inclination 98.2°, 233 orbits in 16 days, ascending on
the day side; Crisp et al. 2017, AMT 10, 59; OCO-2 Data Product User's Guide) anchored on
the real orbit 11522 over the South African Highveld. See :mod:`oco2explore.simulate`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..geo import bearing_deg, destination

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


def orbit_day(orbit: int) -> pd.Timestamp:
    """UTC day (midnight) of the ascending-node crossing of ``orbit``: the day of its wind."""
    t_node, _ = _node_of_orbit(orbit)
    return pd.Timestamp(t_node, unit="s").normalize()


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


def _daytime_frames(orbit: int) -> dict[str, np.ndarray]:
    """Frame centres of the daytime (ascending) half of ``orbit``.

    Keys: ``k`` (frame number from the ascending node), ``u`` (argument of latitude,
    degrees), ``time`` (s since 1970), ``latitude``, ``longitude`` (degrees).
    """
    t_node, _ = _node_of_orbit(orbit)
    half = int(np.ceil(110.0 / 360.0 * ORBIT_PERIOD_S / FRAME_S))
    k = np.arange(-half, half + 1)
    u = k * FRAME_S / ORBIT_PERIOD_S * 360.0
    t, lat, lon = ground_track(orbit, u)
    return {"k": k, "u": u, "time": t, "latitude": lat, "longitude": lon}


def _frame_headings(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Track heading at each frame centre, degrees (from its neighbours; ends one-sided)."""
    n = lat.size
    prev, nxt = np.maximum(np.arange(n) - 1, 0), np.minimum(np.arange(n) + 1, n - 1)
    return bearing_deg(lat[prev], lon[prev], lat[nxt], lon[nxt])


def _footprint_positions(
    lat: np.ndarray, lon: np.ndarray, heading: np.ndarray, footprint: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Centres (degrees) of footprints 1-8, spread across track about their frame centres."""
    offset_km = (footprint - (N_FOOTPRINTS + 1) / 2.0) * FOOTPRINT_SPACING_KM
    return destination(lat, lon, heading + 90.0, offset_km)
