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

Modules
    :mod:`~oco2explore.simulate.geometry`
        Orbit numbers and phase, ground track, solar zenith angle, daytime frames,
        footprint positions, sounding ids.
    :mod:`~oco2explore.simulate.surface`
        Land mask, terrain altitude, surface pressure, water vapour.
    :mod:`~oco2explore.simulate.regions`
        :class:`Region`, :data:`REGIONS` and their clear and bad fractions.
    :mod:`~oco2explore.simulate.noise`
        An orbit's random draws, smooth noise, the correlated error and its checks.
    :mod:`~oco2explore.simulate.atmosphere`
        Background XCO2 and the daily :class:`Wind`.
    :mod:`~oco2explore.simulate.plumes`
        σ_y, the plume column, the plume sources, the plume crossings (truth rows).
    :mod:`~oco2explore.simulate.orbit`
        :func:`simulate_orbit` and :func:`simulate_day` (in memory).
    :mod:`~oco2explore.simulate.files`
        :func:`simulate`: Lite files and ``truth.csv`` on disk.

Every public name is re-exported here: ``from oco2explore.simulate import …`` works for
all of them.
"""

from __future__ import annotations

from .atmosphere import Wind, background_xco2
from .files import BUILD_ID, TRUTH_FILE, simulate
from .geometry import (
    ANCHOR_LAT,
    ANCHOR_LON,
    ANCHOR_ORBIT,
    ANCHOR_TIME,
    EARTH_RATE_DEG_PER_S,
    FOOTPRINT_LENGTH_KM,
    FOOTPRINT_SPACING_KM,
    FRAME_S,
    INCLINATION_DEG,
    MAX_SZA_DEG,
    N_FOOTPRINTS,
    ORBIT_PERIOD_S,
    ORBITS_PER_DAY,
    ground_track,
    orbit_at,
    orbit_day,
    solar_zenith_deg,
    sounding_ids,
)
from .noise import (
    BAD_NOISE_PPM,
    FOOTPRINT_BIAS_RMS_PPM,
    REAL_CORRELATED_ERROR_PPM,
    REAL_CORRELATION_KM,
    UNDULATION_RMS_PPM,
    correlated_error,
)
from .orbit import simulate_day, simulate_orbit
from .plumes import (
    MAX_DOWNWIND_KM,
    MAX_PLUME_AGE_H,
    MIN_SOURCE_T_PER_YR,
    MIN_TRUTH_DELTA_PPM,
    MIN_WIND_M_PER_S,
    SIGMA_Y0_M,
    SIGMA_Y_A_M,
    SIGMA_Y_EXPONENT,
    TRUTH_COLUMNS,
    plume_column_kg_per_m2,
    plume_sources,
    sigma_y_m,
)
from .regions import BAD_FRACTION, CLEAR_FRACTION, REGIONS, Region
from .surface import (
    SCALE_HEIGHT_M,
    land_mask,
    surface_pressure_hpa,
    terrain_altitude_m,
    water_vapour_kg_per_m2,
)

__all__ = [
    "ANCHOR_LAT",
    "ANCHOR_LON",
    "ANCHOR_ORBIT",
    "ANCHOR_TIME",
    "background_xco2",
    "BAD_FRACTION",
    "BAD_NOISE_PPM",
    "BUILD_ID",
    "CLEAR_FRACTION",
    "correlated_error",
    "EARTH_RATE_DEG_PER_S",
    "FOOTPRINT_BIAS_RMS_PPM",
    "FOOTPRINT_LENGTH_KM",
    "FOOTPRINT_SPACING_KM",
    "FRAME_S",
    "ground_track",
    "INCLINATION_DEG",
    "land_mask",
    "MAX_DOWNWIND_KM",
    "MAX_PLUME_AGE_H",
    "MAX_SZA_DEG",
    "MIN_SOURCE_T_PER_YR",
    "MIN_TRUTH_DELTA_PPM",
    "MIN_WIND_M_PER_S",
    "N_FOOTPRINTS",
    "orbit_at",
    "orbit_day",
    "ORBIT_PERIOD_S",
    "ORBITS_PER_DAY",
    "plume_column_kg_per_m2",
    "plume_sources",
    "REAL_CORRELATED_ERROR_PPM",
    "REAL_CORRELATION_KM",
    "Region",
    "REGIONS",
    "SCALE_HEIGHT_M",
    "SIGMA_Y0_M",
    "SIGMA_Y_A_M",
    "SIGMA_Y_EXPONENT",
    "sigma_y_m",
    "simulate",
    "simulate_day",
    "simulate_orbit",
    "solar_zenith_deg",
    "sounding_ids",
    "surface_pressure_hpa",
    "terrain_altitude_m",
    "TRUTH_COLUMNS",
    "TRUTH_FILE",
    "UNDULATION_RMS_PPM",
    "water_vapour_kg_per_m2",
    "Wind",
]
