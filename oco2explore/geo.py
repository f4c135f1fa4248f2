"""Spherical geometry on the WGS-84 mean sphere: distances, bearings, track direction.

All angles are in degrees, all distances in kilometres. The mean Earth radius
(IUGG, Moritz 2000, *Geodetic Reference System 1980*) is accurate to ~0.5 % for
the along-track and source-to-peak distances used here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .constants import EARTH_RADIUS_KM


def haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> NDArray:
    """Great-circle distance between points, km.

    Parameters
    ----------
    lat1, lon1, lat2, lon2 : array_like
        Latitudes and longitudes, degrees (broadcast together).

    Returns
    -------
    ndarray
        Distance along the great circle, km.

    Examples
    --------
    >>> round(float(haversine_km(0.0, 0.0, 0.0, 1.0)), 1)
    111.2
    """
    p1, l1, p2, l2 = (np.radians(np.asarray(a, dtype=float)) for a in (lat1, lon1, lat2, lon2))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def bearing_deg(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> NDArray:
    """Initial bearing from point 1 to point 2, degrees clockwise from north in [0, 360).

    Examples
    --------
    >>> float(bearing_deg(0.0, 0.0, 1.0, 0.0))
    0.0
    >>> float(bearing_deg(0.0, 0.0, 0.0, 1.0))
    90.0
    """
    p1, l1, p2, l2 = (np.radians(np.asarray(a, dtype=float)) for a in (lat1, lon1, lat2, lon2))
    y = np.sin(l2 - l1) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(l2 - l1)
    return np.degrees(np.arctan2(y, x)) % 360.0


def destination(
    lat: ArrayLike, lon: ArrayLike, bearing: ArrayLike, distance_km: ArrayLike
) -> tuple[NDArray, NDArray]:
    """Point reached from (lat, lon) going ``distance_km`` along ``bearing`` (degrees).

    Returns
    -------
    lat2, lon2 : ndarray
        Degrees; longitude wrapped to [-180, 180).
    """
    p1 = np.radians(np.asarray(lat, dtype=float))
    l1 = np.radians(np.asarray(lon, dtype=float))
    th = np.radians(np.asarray(bearing, dtype=float))
    d = np.asarray(distance_km, dtype=float) / EARTH_RADIUS_KM
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(th))
    l2 = l1 + np.arctan2(np.sin(th) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), (np.degrees(l2) + 180.0) % 360.0 - 180.0


def unit_vectors(lat: ArrayLike, lon: ArrayLike) -> NDArray:
    """Points on the unit sphere (n, 3) for a k-d tree on chord distances."""
    p = np.radians(np.asarray(lat, dtype=float))
    lam = np.radians(np.asarray(lon, dtype=float))
    return np.column_stack([np.cos(p) * np.cos(lam), np.cos(p) * np.sin(lam), np.sin(p)])


def lat_lon_of_vectors(vectors: NDArray) -> tuple[NDArray, NDArray]:
    """Latitude and longitude (degrees) of (n, 3) vectors, which need not be unit length
    (sums of :func:`unit_vectors` give mean positions that are right across ±180°)."""
    x, y, z = np.asarray(vectors, dtype=float).T
    with np.errstate(invalid="ignore"):
        return np.degrees(np.arctan2(z, np.hypot(x, y))), np.degrees(np.arctan2(y, x))


def chord_from_km(distance_km: float | NDArray) -> float | NDArray:
    """Chord length on the unit sphere for a great-circle distance in km."""
    return 2.0 * np.sin(np.asarray(distance_km) / (2.0 * EARTH_RADIUS_KM))


def along_track_km(lat: ArrayLike, lon: ArrayLike) -> NDArray:
    """Cumulative along-track distance of an ordered sequence of points, km.

    Consecutive great-circle steps are summed, so the result is non-decreasing
    and starts at 0. Callers pass frame centres (the mean position of a frame's
    footprints), which follow the ground track without the ±5 km zig-zag that
    jumping between footprints across the swath would add.

    Parameters
    ----------
    lat, lon : array_like
        Ordered positions, degrees.

    Returns
    -------
    ndarray
        Distance from the first point, km.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    if lat.size == 0:
        return np.zeros(0)
    step = haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:])
    return np.concatenate([[0.0], np.cumsum(step)])


def track_heading_deg(lat: ArrayLike, lon: ArrayLike, half_span: int = 5) -> NDArray:
    """Local direction of travel of an ordered track, degrees clockwise from north.

    The heading at point *i* is the bearing from point ``i - half_span`` to
    ``i + half_span`` (clipped at the ends), which averages out footprint jitter.

    Parameters
    ----------
    lat, lon : array_like
        Ordered positions, degrees (at least two distinct points).
    half_span : int
        Points on each side used for the chord, default 5.

    Returns
    -------
    ndarray
        Heading at each point, degrees in [0, 360); NaN where fewer than two points.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    n = lat.size
    if n < 2:
        return np.full(n, np.nan)
    idx = np.arange(n)
    lo = np.clip(idx - half_span, 0, n - 1)
    hi = np.clip(idx + half_span, 0, n - 1)
    return bearing_deg(lat[lo], lon[lo], lat[hi], lon[hi])
