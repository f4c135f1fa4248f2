"""Simulated days written as OCO-2 B11 Lite files with their ``truth.csv``.

One file per day in the layout of real B11 Lite files (read by the same reader as real
data, :mod:`oco2explore.lite`), with the remaining B11 variables filled in
(:func:`_extras`), and one ``truth.csv`` with a row per (plume, orbit crossing). See
:mod:`oco2explore.simulate`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..geo import destination
from ..lite import BUILD_IDS, lite_file_name, write_lite_file
from ..tableio import write_table
from .geometry import FOOTPRINT_LENGTH_KM, FOOTPRINT_SPACING_KM
from .orbit import simulate_day
from .regions import _resolve_regions

log = logging.getLogger(__name__)

#: Name of the truth table written beside the Lite files.
TRUTH_FILE = "truth.csv"
#: Build id in the simulated files' names and attributes.
BUILD_ID = BUILD_IDS[("OCO-2", "B11")]


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
    first = _first_day(days, start)
    regions = [regions] if isinstance(regions, str) else regions
    _resolve_regions(regions)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    truths: list[pd.DataFrame] = []
    for day in _days(first, days, progress):
        soundings, truth = simulate_day(day, seed=seed, regions=regions, plumes=plumes)
        truths.append(truth)
        if soundings.empty:
            log.info("%s: no pass over the selected regions", day.date())
            continue
        written.append(_write_day(out_dir, day, soundings, seed, plumes, regions))
    write_table(pd.concat(truths, ignore_index=True), out_dir / TRUTH_FILE)
    return written


def _first_day(days: int, start: str) -> pd.Timestamp:
    """The first day (UTC midnight) of ``simulate``; InputError for bad ``days``/``start``."""
    if days < 1:
        raise InputError(f"--days must be at least 1, got {days}")
    try:
        return pd.Timestamp(start, tz="UTC").normalize()
    except ValueError as exc:
        raise InputError(f"--start expects YYYY-MM-DD, got {start!r}") from exc


def _days(first: pd.Timestamp, days: int, progress: bool) -> Iterable[pd.Timestamp]:
    """``days`` consecutive days from ``first``, with a tqdm progress bar if ``progress``."""
    day_list = [first + pd.Timedelta(days=d) for d in range(days)]
    if progress:
        from tqdm.auto import tqdm

        return tqdm(day_list, desc="simulate", unit="day")
    return day_list


def _write_day(
    out_dir: Path,
    day: pd.Timestamp,
    soundings: pd.DataFrame,
    seed: int,
    plumes: bool,
    regions: Sequence[str] | None,
) -> Path:
    """Write one simulated day as a B11 Lite file in ``out_dir`` (soundings in id order)."""
    soundings = soundings.sort_values("sounding_id", kind="stable").reset_index(drop=True)
    attrs = {
        "simulated": f"oco2explore.simulate seed={seed} plumes={plumes}",
        "regions": ",".join(regions) if regions else "global",
    }
    path = out_dir / lite_file_name(day, BUILD_ID, "sim")
    write_lite_file(soundings, path, layout="B11", attrs=attrs, extras=_extras(soundings))
    return path
