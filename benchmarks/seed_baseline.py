"""The seed method (oco2peak, 2020), re-implemented faithfully, only to compare with the engine.

Procedure of ``oco2peak``'s ``peak_detection``/``gaussian_fit_on_df``:

* orbits with fewer than 500 soundings are skipped; soundings are sorted by distance;
* a window of 200 km (±100 km) is centred on every 15th sounding; it needs ≥ 400
  soundings;
* ``m·x + b + A/(σ√(2π))·exp(−x²/2σ²)`` is fitted with ``scipy.optimize.curve_fit``
  weighted by ``xco2_uncertainty``, ``p0 = (0, median, 30·(xco2_centre − median), 10)``,
  ``maxfev = 20000`` and ``ftol = xtol = 0.5`` (which stops the optimiser almost at
  its start); a ``RuntimeError`` skips the window;
* filters: σ ≥ 2 km, 3σ ≤ 100 km, Δ ≥ 0, at least ⌊σ⌋ soundings in each of
  [−σ, 0], [0, σ], [−3σ, −2σ], [2σ, 3σ], and R² ≥ 0.25 where R is the correlation
  of data and model inside ±4σ.

Every window that passes is a peak: one plume is typically reported several times.
The seed measured distance from each orbit's first sounding; here the along-track
``distance_km`` of the sounding table is used (the same along a straight track).
This module is not part of the package and is not used by the engine.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeWarning, curve_fit

STRIDE = 15
WINDOW_KM = 200.0
MIN_WINDOW_SOUNDINGS = 400
MIN_ORBIT_SOUNDINGS = 500


def seed_model(x: np.ndarray, m: float, b: float, a: float, sig: float) -> np.ndarray:
    """The seed's Gaussian-on-a-line model (x in km relative to the centre sounding)."""
    return m * x + b + a / (sig * (2 * np.pi) ** 0.5) * np.exp(-(x**2) / (2 * sig**2))


def _window_peak(x: np.ndarray, y: np.ndarray, u: np.ndarray, i: int) -> dict | None:
    """The seed's fit and filters for the window centred on sounding ``i``, or None."""
    lo = np.searchsorted(x, x[i] - WINDOW_KM / 2, side="left")
    hi = np.searchsorted(x, x[i] + WINDOW_KM / 2, side="right")
    if hi - lo < MIN_WINDOW_SOUNDINGS:
        return None
    xs, ys, us = x[lo:hi] - x[i], y[lo:hi], u[lo:hi]
    med = float(np.median(ys))
    p0 = (0.0, med, 30.0 * (y[i] - med), 10.0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            popt, _ = curve_fit(
                seed_model, xs, ys, sigma=us, p0=p0, maxfev=20000, ftol=0.5, xtol=0.5
            )
    except RuntimeError:
        return None
    m, b, a, s = popt
    sig = abs(s)
    delta = a / (s * (2 * np.pi) ** 0.5)
    if sig < 2 or 3 * sig > WINDOW_KM / 2 or delta < 0:
        return None
    for lo_k, hi_k in ((-sig, 0), (0, sig), (-3 * sig, -2 * sig), (2 * sig, 3 * sig)):
        if np.count_nonzero((xs >= lo_k) & (xs <= hi_k)) < int(sig):
            return None
    inner = (xs >= -4 * sig) & (xs <= 4 * sig)
    r = np.corrcoef(seed_model(xs[inner], *popt), ys[inner])[0, 1]
    if not r**2 >= 0.25:
        return None
    return {
        "index": i,
        "slope": m,
        "intercept": b,
        "amplitude": a,
        "sigma_km": s,
        "delta_ppm": delta,
        "r": r,
    }


def seed_detect(soundings: pd.DataFrame) -> pd.DataFrame:
    """All peaks the seed method reports on a sounding table (good soundings only).

    Returns
    -------
    DataFrame
        One row per passing window: ``orbit, sounding_id, latitude, longitude,
        distance_km`` of the centre sounding and the fit (``slope, intercept,
        amplitude, sigma_km, delta_ppm, r``), plus the centre's ``windspeed_u_met,
        windspeed_v_met, psurf, tcwv`` for the emission.
    """
    rows = []
    for orbit, orb in soundings.groupby("orbit", sort=True):
        if len(orb) < MIN_ORBIT_SOUNDINGS:
            continue
        orb = orb.sort_values("distance_km", kind="stable").reset_index(drop=True)
        x = orb["distance_km"].to_numpy(float)
        y = orb["xco2"].to_numpy(float)
        u = orb["xco2_uncertainty"].to_numpy(float)
        for i in range(0, len(orb), STRIDE):
            peak = _window_peak(x, y, u, i)
            if peak is None:
                continue
            centre = orb.iloc[peak.pop("index")]
            peak.update(
                orbit=orbit,
                sounding_id=centre["sounding_id"],
                latitude=centre["latitude"],
                longitude=centre["longitude"],
                distance_km=centre["distance_km"],
                windspeed_u_met=centre["windspeed_u_met"],
                windspeed_v_met=centre["windspeed_v_met"],
                psurf=centre["psurf"],
                tcwv=centre["tcwv"],
            )
            rows.append(peak)
    return pd.DataFrame(rows)
