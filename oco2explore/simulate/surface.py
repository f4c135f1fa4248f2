"""The Earth's surface under the simulated track: land, terrain, surface pressure, water vapour.

A coarse land mask (hand-drawn continent polygons) and a few plateaus drive the altitude,
the surface pressure (isothermal barometric law) and the column water vapour of the
simulated soundings. See :mod:`oco2explore.simulate`.
"""

from __future__ import annotations

import numpy as np

from ..constants import SECONDS_PER_YEAR, STANDARD_PRESSURE_HPA
from ..geo import haversine_km

# --- physics (molar masses, gravity and the dry-air column: oco2explore.emission) -----------
#: Isothermal scale height RT/(M_air g) at 288.15 K, m (sea-level pressure: the standard one).
SCALE_HEIGHT_M = 8434.0

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
