"""The sounding table (CONTRACT §1): checking, normalising, along-track distance.

Reading one from a file of any format is :func:`oco2explore.readers.read_soundings`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SchemaError
from .geo import along_track_km, bearing_deg, haversine_km, lat_lon_of_vectors, unit_vectors
from .schema import SOUNDING_REQUIRED
from .validate import SOUNDING_RULES, check_table

log = logging.getLogger(__name__)

#: Suffixes of Lite NetCDF files.
NETCDF_SUFFIXES = (".nc4", ".nc")

#: Shortest typical chord (km) over which :func:`add_distance_km` measures the track direction:
#: long enough to average out the ±5 km cross-track jitter of the frame centres.
HEADING_CHORD_KM = 50.0


def frame_id(sounding_id: np.ndarray | pd.Series) -> np.ndarray:
    """Frame of each sounding: ``sounding_id // 10`` (the last digit is the footprint)."""
    return np.asarray(sounding_id, dtype=np.int64) // 10


def _smooth_heading_deg(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Track direction (degrees) at each point, from the mean positions of the k points
    before and after it, with k doubled until their median distance is >= HEADING_CHORD_KM.

    Window means, not single points, so that the direction hardly changes from one point
    to the next and the cross-track jitter of the points cancels when their steps are
    projected on it.
    """
    n = lat.size
    idx = np.arange(n)
    cum = np.vstack([np.zeros(3), np.cumsum(unit_vectors(lat, lon), axis=0)])
    k = 4
    while True:
        lo, hi = np.maximum(idx - k, 0), np.minimum(idx + k + 1, n)
        lat_b, lon_b = lat_lon_of_vectors(cum[idx + 1] - cum[lo])
        lat_a, lon_a = lat_lon_of_vectors(cum[hi] - cum[idx])
        if k >= n or np.median(haversine_km(lat_b, lon_b, lat_a, lon_a)) >= HEADING_CHORD_KM:
            return bearing_deg(lat_b, lon_b, lat_a, lon_a)
        k *= 2


def add_distance_km(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` sorted by orbit and time with an along-track ``distance_km`` column (km).

    The distance is the cumulative great-circle length of the path through the
    *frame centres* (mean position of the footprints of each frame), per orbit,
    counting only the component of each step along the local track direction
    (measured over ≥ HEADING_CHORD_KM), so it is non-decreasing in time and free of
    the cross-track zig-zag between footprints and between frames that kept
    different footprints. Every sounding of a frame gets its frame's distance.
    Without ``sounding_id`` each row is its own frame.

    Parameters
    ----------
    df : DataFrame
        Sounding table with at least ``orbit, latitude, longitude``.

    Returns
    -------
    DataFrame
        A sorted copy with ``distance_km`` (km) filled in.
    """
    order = ["orbit", "time", "sounding_id"] if "time" in df else ["orbit", "sounding_id"]
    order = [c for c in order if c in df]
    out = df.sort_values(order, kind="stable").reset_index(drop=True) if order else df.copy()
    dist = np.zeros(len(out))
    frames = (
        frame_id(out["sounding_id"])
        if "sounding_id" in out
        else np.arange(len(out), dtype=np.int64)
    )
    for _, idx in out.groupby("orbit", sort=False).indices.items():
        f = frames[idx]
        # Frame ids encode the frame time, so np.unique orders frames in time.
        _, inverse = np.unique(f, return_inverse=True)
        lat_c = np.bincount(inverse, out["latitude"].to_numpy()[idx]) / np.bincount(inverse)
        lon = out["longitude"].to_numpy()[idx]
        # Average longitudes as unit vectors so frames straddling ±180° stay correct.
        lam = np.radians(lon)
        cx = np.bincount(inverse, np.cos(lam))
        cy = np.bincount(inverse, np.sin(lam))
        lon_c = np.degrees(np.arctan2(cy, cx))
        # Cloud-screened frames keep only some footprints, so their centres jitter by up to
        # ±5 km across track; count only the along-track part of each step.
        step = np.diff(along_track_km(lat_c, lon_c))
        if step.size:
            turn = (
                bearing_deg(lat_c[:-1], lon_c[:-1], lat_c[1:], lon_c[1:])
                - _smooth_heading_deg(lat_c, lon_c)[:-1]
            )
            step = step * np.cos(np.radians(turn))
        # A running maximum keeps it non-decreasing without counting back-and-forth twice.
        d_frames = np.maximum.accumulate(np.concatenate([[0.0], np.cumsum(step)]))
        dist[idx] = d_frames[inverse]
    out["distance_km"] = dist
    return out


def normalise_soundings(df: pd.DataFrame, source: str | Path | None = None) -> pd.DataFrame:
    """Check the minimal columns, cast known columns to their CONTRACT dtypes, add distance.

    Parameters
    ----------
    df : DataFrame
        A sounding table from any source (Lite reader, Parquet, CSV).
    source : str or Path, optional
        Where it came from, named in error messages.

    Returns
    -------
    DataFrame
        Sorted by orbit and time, with ``distance_km`` (computed when absent).

    Raises
    ------
    SchemaError
        A required column is missing, or a value is of the wrong type or out of range
        (:mod:`oco2explore.validate`).
    """
    missing = [c for c in SOUNDING_REQUIRED if c not in df.columns]
    if missing:
        raise SchemaError(f"missing column(s) {', '.join(missing)} in sounding table", path=source)
    out = check_table(df, SOUNDING_RULES, source=source)
    if "distance_km" not in out.columns:
        out = add_distance_km(out)
    else:
        order = [c for c in ("orbit", "distance_km") if c in out]
        out = out.sort_values(order, kind="stable").reset_index(drop=True)
    return out
