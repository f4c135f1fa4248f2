"""Cross-sectional flux: from a fitted Gaussian enhancement to an emission rate.

A plume crossed by the track adds ``A`` ppm·km of XCO2 along the track (the
Gaussian area). Multiplying by the dry-air column turns it into a CO2 mass per
metre of track (line density), and by the wind blowing across the track into a
mass flux (Varon et al. 2018, *Atmos. Meas. Tech.* 11, 5673, cross-sectional
flux method; Nassar et al. 2017, *GRL* 44, 10045 for OCO-2 power plants):

.. math::

    Q = A \\cdot 10^{-3} \\cdot \\frac{M_{CO_2}}{M_{air}}
        \\cdot \\left(\\frac{100\\,p_{surf}}{g} - \\mathrm{TCWV}\\right) \\cdot |u_\\perp|

with ``A`` in ppm·km (``10⁻⁶ × 10³ m``), ``p_surf`` in hPa, TCWV in kg/m² and
``u⊥`` the wind component perpendicular to the local track direction (m/s),
giving kg CO2/s. The track direction is computed from the soundings'
positions, not assumed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .constants import (
    G_STANDARD_M_PER_S2,
    M_AIR_G_PER_MOL,
    M_CO2_G_PER_MOL,
    PA_PER_HPA,
    PPM_KM_TO_M,
    SECONDS_PER_YEAR,
)
from .track import nearest_index, track_heading_at


def dry_air_column_kg_per_m2(psurf_hpa: ArrayLike, tcwv_kg_per_m2: ArrayLike) -> NDArray:
    """Mass of dry air above a square metre, kg/m²: ``psurf·100/g − tcwv``.

    Parameters
    ----------
    psurf_hpa : array_like
        Surface pressure, hPa.
    tcwv_kg_per_m2 : array_like
        Total column water vapour, kg/m².

    Examples
    --------
    >>> round(float(dry_air_column_kg_per_m2(1013.25, 0.0)), 1)
    10332.3
    """
    psurf = np.asarray(psurf_hpa, dtype=float)
    return psurf * PA_PER_HPA / G_STANDARD_M_PER_S2 - np.asarray(tcwv_kg_per_m2, dtype=float)


def ppm_per_kg_per_m2(psurf_hpa: ArrayLike, tcwv_kg_per_m2: ArrayLike) -> NDArray:
    """XCO2 change (ppm) of one kg/m² of CO2 added to the column.

    ``1e6 × (M_air / M_CO2) / m_dry`` with the dry-air column mass ``m_dry`` of
    :func:`dry_air_column_kg_per_m2` (kg/m²); the inverse, per metre of track, of
    :func:`line_density_kg_per_m`.

    Examples
    --------
    >>> round(float(ppm_per_kg_per_m2(1013.25, 0.0)), 1)
    63.7
    """
    column = dry_air_column_kg_per_m2(psurf_hpa, tcwv_kg_per_m2)
    return 1e6 * (M_AIR_G_PER_MOL / M_CO2_G_PER_MOL) / column


def line_density_kg_per_m(
    amplitude_ppm_km: ArrayLike, psurf_hpa: ArrayLike, tcwv_kg_per_m2: ArrayLike
) -> NDArray:
    """CO2 mass per metre of track in the plume cross-section, kg/m.

    Parameters
    ----------
    amplitude_ppm_km : array_like
        Gaussian area A of the XCO2 enhancement along the track, ppm·km.
    psurf_hpa, tcwv_kg_per_m2 : array_like
        Surface pressure (hPa) and total column water vapour (kg/m²).

    Examples
    --------
    >>> round(float(line_density_kg_per_m(100.0, 1000.0, 20.0)), 1)
    1546.3
    """
    column = dry_air_column_kg_per_m2(psurf_hpa, tcwv_kg_per_m2)
    ratio = M_CO2_G_PER_MOL / M_AIR_G_PER_MOL
    return np.asarray(amplitude_ppm_km, dtype=float) * PPM_KM_TO_M * ratio * column


def wind_perpendicular(
    windspeed_u: ArrayLike, windspeed_v: ArrayLike, track_heading_deg: ArrayLike
) -> NDArray:
    """Wind component across the track, m/s; positive toward the right of the direction of travel.

    Parameters
    ----------
    windspeed_u, windspeed_v : array_like
        Eastward and northward wind, m/s.
    track_heading_deg : array_like
        Direction of travel, degrees clockwise from north.

    Examples
    --------
    >>> float(wind_perpendicular(3.0, 0.0, 0.0))  # northbound track, wind to the east
    3.0
    >>> float(wind_perpendicular(3.0, 4.0, 90.0))  # eastbound, wind has 4 m/s to the north
    -4.0
    """
    theta = np.radians(np.asarray(track_heading_deg, dtype=float))
    u = np.asarray(windspeed_u, dtype=float)
    v = np.asarray(windspeed_v, dtype=float)
    return u * np.cos(theta) - v * np.sin(theta)


def cross_sectional_flux(
    amplitude_ppm_km: ArrayLike,
    psurf_hpa: ArrayLike,
    tcwv_kg_per_m2: ArrayLike,
    wind_perp_m_per_s: ArrayLike,
    amplitude_err: ArrayLike = 0.0,
    wind_uncertainty_m_per_s: ArrayLike = 0.0,
) -> tuple[NDArray, NDArray]:
    """Emission rate and its 1-σ uncertainty, kg CO2/s.

    ``Q = line density × |u⊥|``; the uncertainty adds in quadrature the fit error
    of ``A`` and the wind uncertainty: ``σ_Q² = (L σ_A/A · |u⊥|)² + (L σ_u)²``.

    Parameters
    ----------
    amplitude_ppm_km : array_like
        Gaussian area A, ppm·km.
    psurf_hpa, tcwv_kg_per_m2 : array_like
        Surface pressure (hPa) and total column water vapour (kg/m²).
    wind_perp_m_per_s : array_like
        Wind across the track, m/s (its sign does not matter).
    amplitude_err : array_like
        1-σ error of A, ppm·km.
    wind_uncertainty_m_per_s : array_like
        1-σ uncertainty of the cross-track wind, m/s.

    Returns
    -------
    emission_kg_per_s, emission_err_kg_per_s : ndarray

    Examples
    --------
    >>> q, err = cross_sectional_flux(100.0, 1000.0, 20.0, 2.0, 10.0, 1.0)
    >>> round(float(q), 1), round(float(err), 1)
    (3092.7, 1577.0)
    """
    density = line_density_kg_per_m(amplitude_ppm_km, psurf_hpa, tcwv_kg_per_m2)
    per_area = line_density_kg_per_m(amplitude_err, psurf_hpa, tcwv_kg_per_m2)
    wind = np.abs(np.asarray(wind_perp_m_per_s, dtype=float))
    wind_err = np.asarray(wind_uncertainty_m_per_s, dtype=float)
    flux = density * wind
    err = np.hypot(per_area * wind, density * wind_err)
    return flux, err


def kg_per_s_to_t_per_h(emission_kg_per_s: ArrayLike) -> NDArray:
    """Convert kg/s to t/h (× 3.6)."""
    return np.asarray(emission_kg_per_s, dtype=float) * 3600.0 / 1000.0


def kg_per_s_to_mt_per_yr(emission_kg_per_s: ArrayLike) -> NDArray:
    """Convert kg/s to Mt/yr (Julian year)."""
    return np.asarray(emission_kg_per_s, dtype=float) * SECONDS_PER_YEAR / 1e9


def emissions_at(
    soundings: pd.DataFrame,
    center_km: ArrayLike,
    amplitude: ArrayLike,
    amplitude_err: ArrayLike,
    wind_uncertainty_m_per_s: float,
) -> pd.DataFrame:
    """Wind, cross-track wind and emission for peaks of one orbit (peak-table columns).

    Wind, ``psurf`` and ``tcwv`` are taken from the sounding nearest each centre;
    the track direction from the soundings' positions
    (:func:`oco2explore.track.track_heading_at`).
    Columns missing from ``soundings`` give NaN.

    Parameters
    ----------
    soundings : DataFrame
        Soundings of one orbit sorted by ``distance_km``.
    center_km, amplitude, amplitude_err : array_like
        Fitted centres (km), Gaussian areas and their errors (ppm·km).
    wind_uncertainty_m_per_s : float
        1-σ uncertainty of the cross-track wind, m/s.

    Returns
    -------
    DataFrame
        ``windspeed_u, windspeed_v, wind_perp, psurf, tcwv, emission_kg_per_s,
        emission_err_kg_per_s, emission_mt_per_yr, emission_err_mt_per_yr``, one row
        per centre (the peak table keeps the CONTRACT columns of these).
    """
    at = np.asarray(center_km, dtype=float)
    x = soundings["distance_km"].to_numpy(dtype=float)
    nan = np.full(at.size, np.nan)
    nearest = nearest_index(x, at)

    def column(name: str) -> NDArray:
        if name not in soundings or x.size == 0:
            return nan
        return soundings[name].to_numpy(dtype=float)[nearest]

    u, v = column("windspeed_u_met"), column("windspeed_v_met")
    if {"latitude", "longitude"} <= set(soundings.columns) and x.size:
        heading = track_heading_at(x, soundings["latitude"], soundings["longitude"], at)
    else:
        heading = nan
    perp = wind_perpendicular(u, v, heading)
    psurf, tcwv = column("psurf"), column("tcwv")
    flux, err = cross_sectional_flux(
        amplitude, psurf, tcwv, perp, amplitude_err, wind_uncertainty_m_per_s
    )
    return pd.DataFrame(
        {
            "windspeed_u": u,
            "windspeed_v": v,
            "wind_perp": perp,
            "psurf": psurf,
            "tcwv": tcwv,
            "emission_kg_per_s": flux,
            "emission_err_kg_per_s": err,
            "emission_mt_per_yr": kg_per_s_to_mt_per_yr(flux),
            "emission_err_mt_per_yr": kg_per_s_to_mt_per_yr(err),
        }
    )
