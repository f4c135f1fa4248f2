"""Geometry along one orbit's track: windows, nearest soundings, positions, direction.

Every function takes the soundings of one orbit sorted by an along-track coordinate
(``distance_km``, or the scan's wind-aligned coordinate), km. Spherical geometry of
points (distances, bearings, destinations) lives in :mod:`oco2explore.geo`, which
knows nothing of a track's along-track coordinate; the along-track distance itself
is computed from the frames by :func:`oco2explore.soundings.add_distance_km`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.ndimage import uniform_filter1d

from .constants import EARTH_RADIUS_KM
from .geo import bearing_deg, lat_lon_of_vectors, track_heading_deg, unit_vectors

#: Along-track half-span used to measure the track direction, km.
HEADING_SPAN_KM = 10.0


def window_slice(x: NDArray, centre_km: float, half_width_km: float) -> slice:
    """The soundings of sorted ``x`` (km) with ``centre_km − h ≤ x ≤ centre_km + h``.

    Parameters
    ----------
    x : ndarray
        Sorted along-track positions, km.
    centre_km : float
        Window centre, km.
    half_width_km : float
        Half-width ``h``, km.
    """
    lo = np.searchsorted(x, centre_km - half_width_km, side="left")
    hi = np.searchsorted(x, centre_km + half_width_km, side="right")
    return slice(int(lo), int(hi))


def nearest_index(x: NDArray, at: ArrayLike) -> NDArray:
    """Index of the element of sorted ``x`` nearest each of ``at`` (``x`` non-empty).

    Ties go to the lower index.
    """
    at = np.atleast_1d(np.asarray(at, dtype=float))
    if x.size < 2:
        return np.zeros(at.size, dtype=int)
    i = np.clip(np.searchsorted(x, at), 1, x.size - 1)
    return np.where(np.abs(x[i - 1] - at) <= np.abs(x[i] - at), i - 1, i)


def mean_position(
    distance_km: ArrayLike,
    latitude: ArrayLike,
    longitude: ArrayLike,
    lo_km: ArrayLike,
    hi_km: ArrayLike,
) -> tuple[NDArray, NDArray, NDArray]:
    """Mean position of the soundings with ``lo_km <= distance_km <= hi_km``.

    Positions are averaged as unit vectors (correct across ±180°).

    Parameters
    ----------
    distance_km, latitude, longitude : array_like
        Soundings sorted by ``distance_km`` (km, degrees).
    lo_km, hi_km : array_like
        Along-track intervals, km.

    Returns
    -------
    latitude, longitude : ndarray
        Degrees; NaN for empty intervals.
    count : ndarray
        Soundings in each interval.
    """
    x = np.asarray(distance_km, dtype=float)
    cum = np.vstack([np.zeros(3), np.cumsum(unit_vectors(latitude, longitude), axis=0)])
    i0 = np.searchsorted(x, np.asarray(lo_km, dtype=float), side="left")
    i1 = np.searchsorted(x, np.asarray(hi_km, dtype=float), side="right")
    count = i1 - i0
    lat, lon = lat_lon_of_vectors(cum[i1] - cum[i0])
    empty = count <= 0
    return np.where(empty, np.nan, lat), np.where(empty, np.nan, lon), count


def track_heading_at(
    distance_km: ArrayLike,
    latitude: ArrayLike,
    longitude: ArrayLike,
    at_km: ArrayLike,
    span_km: float = HEADING_SPAN_KM,
) -> NDArray:
    """Local direction of travel at along-track positions, degrees clockwise from north.

    The heading at ``x`` is the bearing from the mean position of the soundings
    in ``[x − span_km, x)`` to that of the soundings in ``(x, x + span_km]``;
    averaging over many soundings removes the cross-track zig-zag between
    footprints. NaN where either side has no sounding.

    Parameters
    ----------
    distance_km, latitude, longitude : array_like
        Soundings of one orbit, sorted by ``distance_km`` (km, degrees).
    at_km : array_like
        Where the heading is wanted, km.
    span_km : float
        Half-span on each side, km.
    """
    at = np.atleast_1d(np.asarray(at_km, dtype=float))
    before = mean_position(
        distance_km, latitude, longitude, at - span_km, np.nextafter(at, -math.inf)
    )
    after = mean_position(
        distance_km, latitude, longitude, np.nextafter(at, math.inf), at + span_km
    )
    heading = bearing_deg(before[0], before[1], after[0], after[1])
    return np.where((before[2] > 0) & (after[2] > 0), heading, np.nan)


def cross_track_km(
    latitude: ArrayLike, longitude: ArrayLike, soundings: int
) -> tuple[NDArray, NDArray]:
    """Offset of each sounding right of the track's centre line, and the line's heading.

    The centre line is the running mean of ``soundings`` consecutive positions (the
    8 footprints of OCO-2 span ~9 km across the track); its heading is the bearing
    along it over the same span. The offset is measured on the local tangent plane.

    Parameters
    ----------
    latitude, longitude : array_like
        Soundings of one orbit in along-track order, degrees.
    soundings : int
        Length of the running mean, soundings.

    Returns
    -------
    right_km : ndarray
        Distance right of the centre line (looking along the track), km.
    heading_deg : ndarray
        Heading of the centre line, degrees clockwise from north.
    """
    lat = np.asarray(latitude, dtype=float)
    lon = np.asarray(longitude, dtype=float)
    size = min(soundings, lat.size)
    lat_c = uniform_filter1d(lat, size, mode="nearest")
    # Longitudes unwrapped around the first one so the mean never jumps at ±180°.
    lon_u = lon[0] + (lon - lon[0] + 180.0) % 360.0 - 180.0
    lon_c = uniform_filter1d(lon_u, size, mode="nearest")
    heading_deg = track_heading_deg(lat_c, lon_c, half_span=size // 2)
    heading = np.radians(heading_deg)
    km_per_deg = np.pi / 180.0 * EARTH_RADIUS_KM
    east = (lon_u - lon_c) * np.cos(np.radians(lat_c)) * km_per_deg
    north = (lat - lat_c) * km_per_deg
    return east * np.cos(heading) - north * np.sin(heading), heading_deg
