"""Regions with big emitters: the boxes ``--region`` selects, and their clouds and quality.

Outside the regions ~15 % of daytime soundings are written (clear) and half of them flagged
bad; inside a region its own fractions apply. See :mod:`oco2explore.simulate`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np

from ..errors import InputError

#: Fraction of daytime soundings written outside the regions (real Lite files keep ~15 %).
CLEAR_FRACTION = 0.15
#: Fraction of written soundings flagged bad (xco2_quality_flag = 1).
BAD_FRACTION = 0.5


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


def _resolve_regions(regions: Iterable[str] | None) -> list[Region] | None:
    """The :data:`REGIONS` named in ``regions`` (None: no selection); InputError if unknown."""
    if regions is None:
        return None
    names = [regions] if isinstance(regions, str) else list(regions)
    unknown = [r for r in names if r not in REGIONS]
    if unknown:
        known = ", ".join(REGIONS)
        raise InputError(f"unknown region(s) {', '.join(unknown)}; choose from {known}")
    return [REGIONS[r] for r in names]


def _regional_fractions(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Clear and bad fractions at points (degrees): a region's own inside it, else defaults."""
    clear_fraction = np.full(lat.size, CLEAR_FRACTION)
    bad_fraction = np.full(lat.size, BAD_FRACTION)
    for region in REGIONS.values():
        inside = region.contains(lat, lon)
        clear_fraction[inside] = region.clear_fraction
        bad_fraction[inside] = region.bad_fraction
    return clear_fraction, bad_fraction


def _inside_any(regions: Iterable[Region], lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Whether points (degrees) are inside at least one of ``regions``."""
    inside = np.zeros(lat.size, dtype=bool)
    for region in regions:
        inside |= region.contains(lat, lon)
    return inside
