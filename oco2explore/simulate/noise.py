"""Random fields of the simulator: an orbit's draws, smooth noise and the correlated error.

Every random number of an orbit is drawn per (seed, orbit) for its whole daytime half,
frame by frame and footprint by footprint (:func:`_draw_orbit`), so a time window or a
region selection sees exactly the values of the full orbit. The optional along-track
correlated error (:func:`correlated_error`) has its own generator, so the other fields
are the same with and without it. See :mod:`oco2explore.simulate`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.ndimage import gaussian_filter1d

# Re-exported: the simulator's real-like noise (see the calibration note below).
from ..config import REAL_CORRELATED_ERROR_PPM as REAL_CORRELATED_ERROR_PPM
from ..config import REAL_CORRELATION_KM as REAL_CORRELATION_KM
from ..errors import InputError
from .geometry import N_FOOTPRINTS

# --- signal ----------------------------------------------------------------------------------
#: RMS of the along-track background undulations, ppm.
UNDULATION_RMS_PPM = 0.3
#: RMS of the per-footprint biases, ppm.
FOOTPRINT_BIAS_RMS_PPM = 0.1
#: Extra noise of bad-quality soundings, ppm.
BAD_NOISE_PPM = 1.5
# Calibration of the real-like along-track correlated XCO2 error,
# REAL_CORRELATED_ERROR_PPM and REAL_CORRELATION_KM (defined in oco2explore.config, the
# default of FitConfig.error_correlation_ppm; opt-in here: ``correlated_error_ppm`` of
# :func:`simulate_day`): RMS, ppm, and correlation length, km, of an exponentially
# correlated error (:func:`correlated_error`) shared by the footprints of a frame.
# Calibrated on the real plume-free stretches of orbit 11522 (``segment_5700_6400km``
# and ``segment_6400_6700km``, 1,677 good soundings) against 6 simulated plume-free days
# (2016-08-31 on, seeds 0 and 1, good soundings), residuals from a 60 km running median:
#
# * residual covariance at lag 0-0.5 km: real 0.060 ppm² (0.045-0.063 up to 2 km,
#   0.040 at 2-2.5 km, ≲ 0.017 beyond 2.5 km); simulated 0.004 without the error,
#   0.066 with it (frames share it: lag 0), 0.030 at 2.25 km, 0.010 at 4.5 km;
# * robust spread (1.4826·MAD) of the engine's signed candidate statistic
#   (:func:`oco2explore.scan.candidate_significance`, unweighted) on the residuals, the
#   simulated bins weighted to the real local sounding density (real stretches are
#   denser than a simulated orbit on average), at σ = 2 / 3.3 / 5.5 km: real
#   1.76 / 1.92 / 1.99, simulated 1.15 / 1.23 / 1.30 without the error, 1.64 / 1.77 / 1.85
#   with it.
#
# The statistic on the raw data over all simulated bins stays below the real one
# (σ = 2 km: 1.53 against 2.08; 1.18 without the error): the real stretches are denser
# and carry more structure at scales above 60 km than the background undulations.
# Matching that with this error alone would take ~0.65 ppm, a lag-0 covariance ~5 times
# the real one.


@dataclasses.dataclass(frozen=True)
class _OrbitDraws:
    """The random numbers of one orbit's ``n`` daytime frames (see :func:`_draw_orbit`).

    Attributes
    ----------
    cloud, bad : ndarray
        Smooth standard-normal series per frame (scales 12 and 4 frames, times 0.95)
        driving the clear footprints and the bad-quality runs.
    weather_hpa : ndarray
        Smooth surface-pressure weather per frame, hPa (3 hPa rms, 200 frames scale).
    wavelength, amp, phase : ndarray
        Background undulation modes: wavelengths (km, 50-1000), amplitudes (ppm) and
        phases (rad); :data:`UNDULATION_RMS_PPM` rms in all.
    normal : ndarray
        Standard normals, shape ``(7, n, N_FOOTPRINTS)``: 0 clouds, 1 water vapour,
        2 quality, 3 noise, 4 bad-sounding noise, 5 retrieved and 6 prior surface pressure.
    uniform : ndarray
        Uniforms in [0, 1), shape ``(n, N_FOOTPRINTS)``: the reported uncertainty.
    bias : ndarray
        Per-footprint biases, ppm (:data:`FOOTPRINT_BIAS_RMS_PPM`; per seed, all orbits).
    """

    cloud: np.ndarray
    bad: np.ndarray
    weather_hpa: np.ndarray
    wavelength: np.ndarray
    amp: np.ndarray
    phase: np.ndarray
    normal: np.ndarray
    uniform: np.ndarray
    bias: np.ndarray

    def undulation_ppm(self, s_km: np.ndarray) -> np.ndarray:
        """Background undulation (ppm) at along-track positions ``s_km`` (km)."""
        waves = np.sin(2 * np.pi * s_km[:, None] / self.wavelength + self.phase)
        return (self.amp * waves).sum(axis=1)


def _draw_orbit(seed: int, orbit: int, n: int, n_modes: int = 10) -> _OrbitDraws:
    """Draw the random numbers of ``n`` daytime frames of ``orbit`` (deterministic in seed)."""
    rng = np.random.default_rng([seed, orbit, 2])
    cloud = 0.95 * _smooth_normal(rng, n, 12.0)
    bad = 0.95 * _smooth_normal(rng, n, 4.0)
    weather_hpa = 3.0 * _smooth_normal(rng, n, 200.0)
    wavelength = np.exp(rng.uniform(np.log(50.0), np.log(1000.0), n_modes))
    amp = (wavelength / 1000.0) ** 0.3
    amp *= UNDULATION_RMS_PPM / np.sqrt(0.5 * np.sum(amp**2))
    phase = rng.uniform(0, 2 * np.pi, n_modes)
    normal = rng.standard_normal((7, n, N_FOOTPRINTS))
    uniform = rng.random((n, N_FOOTPRINTS))
    bias = np.random.default_rng([seed, 0, 4]).normal(0.0, FOOTPRINT_BIAS_RMS_PPM, N_FOOTPRINTS)
    return _OrbitDraws(cloud, bad, weather_hpa, wavelength, amp, phase, normal, uniform, bias)


def correlated_error(
    rng: np.random.Generator, s_km: np.ndarray, rms_ppm: float, correlation_km: float
) -> np.ndarray:
    """Stationary along-track error with an exponential covariance, ppm.

    An Ornstein-Uhlenbeck (continuous AR(1)) process sampled exactly at the sorted
    along-track positions ``s_km``: ``cov(e(s), e(s')) = rms² · exp(-|s - s'| / L)``.
    With ``rms_ppm == 0`` nothing is drawn from ``rng``.

    Parameters
    ----------
    rng : Generator
        Source of the standard normals (``len(s_km)`` of them).
    s_km : ndarray
        Non-decreasing along-track positions, km.
    rms_ppm : float
        Standard deviation of the error, ppm (≥ 0).
    correlation_km : float
        Correlation length ``L``, km (> 0).

    Returns
    -------
    ndarray
        The error at each position, ppm (zeros when ``rms_ppm == 0``).
    """
    s = np.asarray(s_km, dtype=float)
    if rms_ppm == 0.0 or s.size == 0:
        return np.zeros(s.shape)
    step = np.diff(s)
    if np.any(step < 0):
        raise ValueError("correlated_error needs non-decreasing positions s_km")
    rho = np.exp(-step / correlation_km)
    shocks = rng.standard_normal(s.size)
    shocks[1:] *= np.sqrt(1.0 - rho * rho)
    if rho.size == 0 or np.ptp(rho) <= 1e-9:  # evenly spaced (frames): one linear filter
        # Imported here: scipy.signal costs ~0.7 s of CPU to import, and the explorer's
        # kernels import this package (through the report) without ever simulating.
        from scipy.signal import lfilter

        field = lfilter([1.0], [1.0, -rho.mean()], shocks) if rho.size else shocks
    else:
        field = shocks.copy()
        for i in range(1, s.size):
            field[i] += rho[i - 1] * field[i - 1]
    return rms_ppm * field


def _smooth_normal(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    """Standard-normal series with a Gaussian correlation of ``scale`` samples.

    Long scales are drawn on a grid of ``scale / 4`` samples and interpolated (fast).
    """
    step = max(1, int(scale // 4))
    coarse = scale / step
    m = n // step + 2
    noise = rng.standard_normal(m + int(8 * coarse))
    field = gaussian_filter1d(noise, coarse, mode="wrap")[:m]
    field /= np.sqrt(1.0 / (2.0 * np.sqrt(np.pi) * coarse))
    return field if step == 1 else np.interp(np.arange(n) / step, np.arange(m), field)


def _check_correlated_error(rms_ppm: float, correlation_km: float) -> None:
    """Raise :class:`InputError` unless ``rms_ppm >= 0`` and ``correlation_km > 0``."""
    if not (np.isfinite(rms_ppm) and rms_ppm >= 0.0):
        raise InputError(f"correlated_error_ppm must be >= 0, got {rms_ppm}")
    if not (np.isfinite(correlation_km) and correlation_km > 0.0):
        raise InputError(f"correlation_km must be > 0, got {correlation_km}")
