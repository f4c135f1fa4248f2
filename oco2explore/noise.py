"""The along-track error covariance of an orbit, estimated from its soundings, and what it implies.

Real OCO-2 XCO2 errors are not white: the footprints of a frame share a correlated error
of a few km (0.28 ppm over 3.5 km on the real plume-free stretches of orbit 11522), and the
retrieval and the atmosphere add a background variability over tens of km (0.3–0.7 ppm
over 15 km on the real California passes). No fixed noise model is right for every orbit,
so detector v2 (``FitConfig.noise_estimated``, ``docs/detection.md``) estimates one per
orbit:

* :class:`NoiseModel`: ``C = diag(v) + Σ_k r_k² exp(−|Δs|/L_k)``, white per-sounding
  variance ``v`` plus exponentially correlated components at along-track positions ``s``;
* :func:`estimate_noise`: the amplitudes from the orbit's robust semivariogram
  (median-based, so the few large differences a plume or a city dome makes barely move
  it), by non-negative least squares;
* :func:`gls_chi2`: generalised least squares under that covariance in O(n) (each
  component a latent Ornstein–Uhlenbeck process, the Woodbury identity and one banded
  Cholesky solve);
* :func:`false_peaks_per_10000km` and :func:`significance_threshold`: the expected number
  of noise peaks per 10,000 km of track at least as significant as a fit, from the
  Euler-characteristic heuristic for the maxima of a Gaussian field over centre and
  ln σ (Adler & Taylor 2007, *Random Fields and Geometry*; Siegmund & Worsley 1995,
  *Ann. Stat.* 23, 608, for scale space), and its inverse: the significance threshold
  of a target false-alarm rate.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import solveh_banded
from scipy.optimize import brentq, nnls

log = logging.getLogger(__name__)

#: Correlation lengths of the estimated components, km: the frame-shared retrieval error
#: (3.5 km, measured on the real plume-free stretches of orbit 11522) and the background
#: variability (15 km: chosen by the variogram on those stretches and on the Highveld
#: window among 15, 30 and 60 km, see ``docs/detection.md``).
LENGTHS_KM = (3.5, 15.0)
#: Upper bound of every estimated amplitude, ppm (real OCO-2 errors are below 1 ppm).
RMS_MAX_PPM = 1.5
#: Lag bins of the semivariogram, km; the first, [0, 0.05), holds soundings at one position.
LAG_EDGES_KM = (0.0, 0.05, 1, 2, 3, 4, 6, 8, 10, 13, 16, 20, 25, 30, 40, 50, 65, 80, 100)
#: Soundings closer than this share an along-track position (a frame), km.
SAME_POSITION_KM = 0.05
#: Anchor soundings sampled for the variogram (each paired once per lag bin).
MAX_ANCHORS = 20_000
#: Fewest soundings for an estimate; fewer give :func:`fallback_noise`.
MIN_SOUNDINGS = 50
#: median(|d|)² of a Gaussian difference d of variance 2γ is 2γ·0.4549 (0.6745²).
_MEDIAN_FACTOR = 2.0 * 0.4549
#: Variance of the detection statistic's z under the real null, in units of the Gaussian
#: null's: real plume-free fits are 5–16× more frequent than the Gaussian formula says at
#: nominal rates of 1–10 per 10,000 km (real California passes far from cities, 1,760 km;
#: real orbit 11522 stretches, 713 km): heavier tails than the model. 1.3 reproduces the
#: real counts (``docs/detection.md``).
NULL_VARIANCE = 1.3


@dataclass(frozen=True)
class NoiseModel:
    """White error plus exponentially correlated components along the track.

    Attributes
    ----------
    white_ppm : float
        RMS of the independent error of a sounding, ppm (of a typical one when the
        file's uncertainties give relative weights, see :meth:`white_var`).
    scales : tuple of (float, float)
        ``(rms_ppm, length_km)`` of each component shared by soundings at nearby
        positions: covariance ``rms² exp(−|Δs|/length)``.
    """

    white_ppm: float
    scales: tuple[tuple[float, float], ...] = ()

    def white_var(self, uncertainty: ArrayLike | None = None, size: int | None = None) -> NDArray:
        """Independent error variance of each sounding, ppm².

        ``white_ppm² · u²/median(u²)`` with uncertainties ``u`` (ppm; their relative
        weights are kept, their scale is the estimate's), else ``white_ppm²`` for each
        of ``size`` soundings.
        """
        v = self.white_ppm**2
        if uncertainty is None:
            return np.full(int(size or 0), v)
        u2 = np.asarray(uncertainty, dtype=float) ** 2
        return v * u2 / np.median(u2)

    def covariance(self, position_km: ArrayLike, white_var: ArrayLike | None = None) -> NDArray:
        """Dense covariance matrix at ``position_km`` (km), ppm²: for tests and small n."""
        s = np.asarray(position_km, dtype=float)
        v = self.white_var(size=s.size) if white_var is None else np.asarray(white_var, float)
        lag = np.abs(s[:, None] - s[None, :])
        cov = np.diag(v)
        for rms, length in self.scales:
            cov = cov + rms * rms * np.exp(-lag / length)
        return cov

    def to_dict(self) -> dict[str, object]:
        """Plain-JSON form."""
        return {"white_ppm": self.white_ppm, "scales": [list(s) for s in self.scales]}

    @classmethod
    def from_dict(cls, data: dict) -> NoiseModel:
        """From :meth:`to_dict`."""
        return cls(float(data["white_ppm"]), tuple((float(r), float(L)) for r, L in data["scales"]))


def gls_chi2(
    design: NDArray,
    y: NDArray,
    white_var: NDArray,
    position_km: NDArray,
    scales: tuple[tuple[float, float], ...] | list[tuple[float, float]],
) -> tuple[NDArray, NDArray]:
    """χ² of generalised least squares under white plus several correlated errors, O(n).

    The covariance is ``diag(white_var) + Σ_k r_k² exp(−|Δs|/L_k)`` at the soundings'
    positions ``s``; soundings at one position share the correlated parts. Each
    component is a latent exponentially correlated (Ornstein–Uhlenbeck) process at the
    ``m`` distinct positions, with a tridiagonal precision; the ``K`` processes
    interleaved (state ``i·K + k``) and the data's ``AᵀD⁻¹A`` (one full K×K block per
    position) make a banded precision of half-bandwidth ``K``, so the Woodbury identity
    ``C⁻¹ = D⁻¹ − D⁻¹A(P + AᵀD⁻¹A)⁻¹AᵀD⁻¹`` needs one banded Cholesky solve.

    Parameters
    ----------
    design : ndarray, shape (n, p)
        Regressors (columns).
    y : ndarray, shape (n,)
        Data, ppm.
    white_var : ndarray, shape (n,)
        Independent error variance of each sounding, ppm².
    position_km : ndarray, shape (n,)
        Along-track position of each sounding, km.
    scales : sequence of (float, float)
        ``(rms_ppm, length_km)`` of each correlated component (rms 0: skipped).

    Returns
    -------
    chi2 : ndarray, shape (p + 1,)
        ``chi2[j]``: the GLS χ² of ``y`` on the first ``j`` columns (``j = 0``: ``yᵀC⁻¹y``).
    beta : ndarray, shape (p,)
        GLS coefficients on all ``p`` columns.
    """
    z = np.column_stack([y, design])
    white_var = np.asarray(white_var, dtype=float)
    dz = z / white_var[:, None]
    active = [(float(r), float(length)) for r, length in scales if r > 0]
    if active:
        pos, frame = np.unique(np.round(np.asarray(position_km, float), 6), return_inverse=True)
        m, k_n = pos.size, len(active)
        states = m * k_n
        ab = np.zeros((k_n + 1, states))  # upper form: ab[K + i - j, j] = M[i, j], i <= j
        for k, (rms, length) in enumerate(active):
            rho = np.exp(-np.diff(pos) / length)
            inv = 1.0 / (1.0 - rho * rho)
            diag = np.ones(m)
            diag[:-1] += rho * rho * inv
            diag[1:] += inv - 1.0
            idx = np.arange(m) * k_n + k
            ab[k_n, idx] += diag / rms**2
            ab[0, idx[1:]] += -rho * inv / rms**2
        inv_white = np.bincount(frame, 1.0 / white_var, m)
        for k in range(k_n):
            for j in range(k, k_n):
                ab[k_n - (j - k), np.arange(m) * k_n + j] += inv_white
        per_position = np.vstack([np.bincount(frame, col, m) for col in dz.T]).T
        sol = solveh_banded(ab, np.repeat(per_position, k_n, axis=0))
        back = sol.reshape(m, k_n, -1).sum(axis=1)
        dz = dz - back[frame] / white_var[:, None]
    gram = z.T @ dz  # zᵀ C⁻¹ z
    out = [float(gram[0, 0])]
    beta = np.zeros(0)
    for j in range(1, design.shape[1] + 1):
        beta = np.linalg.solve(gram[1 : j + 1, 1 : j + 1], gram[1 : j + 1, 0])
        # From the residuals, not yᵀC⁻¹y − bᵀβ: no cancellation for a near-perfect fit.
        resid = z[:, 0] - z[:, 1 : j + 1] @ beta
        out.append(max(float(resid @ (dz[:, 0] - dz[:, 1 : j + 1] @ beta)), 0.0))
    return np.array(out), beta


def fallback_noise(xco2: NDArray) -> NoiseModel:
    """Model of a stretch too short to estimate one: its robust scatter, real-data scales.

    White: the median absolute difference of consecutive soundings over √2 (×1.4826);
    the correlated components: the real OCO-2 values, 0.28 ppm over 3.5 km and none
    over 15 km.
    """
    d = np.diff(np.asarray(xco2, dtype=float))
    white = 1.4826 * float(np.median(np.abs(d))) / math.sqrt(2.0) if d.size else 1.0
    white = white if math.isfinite(white) and white > 0 else 1.0
    return NoiseModel(white, ((0.28, LENGTHS_KM[0]), (0.0, LENGTHS_KM[1])))


def semivariogram(
    position_km: NDArray, xco2: NDArray, seed: int = 0
) -> tuple[NDArray, NDArray, NDArray]:
    """Robust semivariogram over :data:`LAG_EDGES_KM`: mean lag (km), γ (ppm²), pairs.

    Pairs are sampled: up to :data:`MAX_ANCHORS` random soundings, each paired with
    one random other sounding in every lag bin (seeded, reproducible). ``γ =
    median(|Δy|)² / (2·0.4549)`` per bin, the Gaussian value of a median-based
    estimate: the few large differences a plume or a dome makes barely move it.
    """
    s = np.asarray(position_km, dtype=float)
    y = np.asarray(xco2, dtype=float)
    rng = np.random.default_rng(seed)
    n = s.size
    anchors = np.sort(rng.choice(n, size=min(n, MAX_ANCHORS), replace=False))
    edges = np.asarray(LAG_EDGES_KM, dtype=float)
    lags, gammas, counts = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        first = np.searchsorted(s, s[anchors] + lo, side="left")
        last = np.searchsorted(s, s[anchors] + hi, side="left")
        if lo == 0:
            first = anchors + 1  # another sounding at (nearly) the same position, after it
        avail = last - first
        ok = avail > 0
        if ok.sum() < 20:
            continue
        partner = first[ok] + (rng.random(ok.sum()) * avail[ok]).astype(np.int64)
        a = anchors[ok]
        d = np.abs(y[partner] - y[a])
        lags.append(float(np.mean(s[partner] - s[a])))
        gammas.append(float(np.median(d)) ** 2 / _MEDIAN_FACTOR)
        counts.append(int(ok.sum()))
    return np.array(lags), np.array(gammas), np.array(counts)


def estimate_noise(
    position_km: ArrayLike,
    xco2: ArrayLike,
    uncertainty: ArrayLike | None = None,
    *,
    lengths_km: tuple[float, ...] = LENGTHS_KM,
    rms_max_ppm: float = RMS_MAX_PPM,
    seed: int = 0,
) -> NoiseModel:
    """The orbit's error covariance from its robust semivariogram.

    ``γ(h) = a + Σ_k r_k²(1 − e^(−h/L_k)) + q·h²`` is fitted to :func:`semivariogram`
    by non-negative least squares with Cressie's weights ``√N/γ``: ``a`` the white
    variance (the only part left between soundings at one position, whose shared
    error cancels), ``r_k`` the correlated amplitudes, ``q`` the large-scale drift
    that a window's line follows (not part of the model). Amplitudes are bounded by
    ``rms_max_ppm``. On the real plume-free stretches of orbit 11522 earlier estimates
    were white 0.38 / 0.27, 3.5 km 0.20 / 0.29, 15 km 0.33 / 0 ppm (``docs/detection.md``).

    Parameters
    ----------
    position_km : array_like
        Along-track positions, km (``distance_km``; the footprints of a frame share one).
    xco2 : array_like
        XCO2, ppm.
    uncertainty : array_like, optional
        Per-sounding uncertainty, ppm; only their relative values are used
        (:meth:`NoiseModel.white_var`), so it is not needed here.
    lengths_km : tuple of float
        Correlation lengths of the components, km.
    rms_max_ppm : float
        Bound of every amplitude, ppm.
    seed : int
        Seed of the pair sampling.

    Returns
    -------
    NoiseModel
        :func:`fallback_noise` for fewer than :data:`MIN_SOUNDINGS` finite soundings or
        too few lags.
    """
    s = np.asarray(position_km, dtype=float)
    y = np.asarray(xco2, dtype=float)
    ok = np.isfinite(s) & np.isfinite(y)
    s, y = s[ok], y[ok]
    order = np.argsort(s, kind="stable")
    s, y = s[order], y[order]
    if s.size < MIN_SOUNDINGS:
        return fallback_noise(y)
    lag, gamma, count = semivariogram(s, y, seed)
    good = gamma > 0
    lag, gamma, count = lag[good], gamma[good], count[good]
    if lag.size < len(lengths_km) + 2:
        return fallback_noise(y)
    cols = [np.ones_like(lag)] + [1.0 - np.exp(-lag / length) for length in lengths_km]
    cols.append(lag * lag)
    design = np.column_stack(cols)
    weight = np.sqrt(count) / gamma
    coef, _ = nnls(design * weight[:, None], gamma * weight)
    amps = np.minimum(np.sqrt(coef[:-1]), rms_max_ppm)
    white = float(amps[0]) if amps[0] > 0 else float(np.sqrt(gamma.min()))
    model = NoiseModel(
        white, tuple((float(r), float(L)) for r, L in zip(amps[1:], lengths_km, strict=True))
    )
    log.debug("noise model: %s", model)
    return model


def _rho2(u: NDArray) -> NDArray:
    """Euler-characteristic density of a 2-D Gaussian field above ``u``, per unit area."""
    return u * np.exp(-0.5 * u * u) / (2.0 * math.pi) ** 1.5


def false_peaks_per_10000km(
    delta_chi2: ArrayLike,
    sigma_km: ArrayLike,
    sigma_min_km: float,
    sigma_max_km: float,
    null_variance: float = NULL_VARIANCE,
) -> NDArray:
    """Expected noise peaks per 10,000 km of track at least as significant as a fit.

    Under the null the Δχ² at a fixed centre and width is ``z²`` of a Gaussian ``z``
    (divided here by ``null_variance``). The scan maximises it over centres ``c`` and
    widths, so its false peaks are the maxima of the field ``z(c, ln σ)`` above
    ``u = √Δχ²``, expected ``ρ₂(u)·√(λ_c λ_s)`` per km and unit ln σ, with ``ρ₂(u) =
    u e^(−u²/2)/(2π)^(3/2)`` and, for a Gaussian kernel of width σ, ``λ_c = 1/(2σ²)``
    and ``λ_s = 1/2``: ``ρ₂(u)/(2σ)``. With the rate shared equally over ln σ between
    the bounds, a fit of width σ has ``10⁴ · ln(σ_max/σ_min) · ρ₂(u)/(2σ)``.

    Parameters
    ----------
    delta_chi2 : array_like
        Significance of the fits (Δχ² over the reduced χ²).
    sigma_km : array_like
        Their widths, km.
    sigma_min_km, sigma_max_km : float
        The scanned width range, km.
    null_variance : float
        Variance of ``z`` under the real null (:data:`NULL_VARIANCE`).

    Returns
    -------
    ndarray
        Expected false peaks per 10,000 km (the value at ``u = 1``, the most, for
        weaker fits).
    """
    u = np.sqrt(np.maximum(np.asarray(delta_chi2, dtype=float), 0.0) / null_variance)
    u = np.maximum(u, 1.0)  # ρ₂ peaks at u = 1: a weaker fit is no rarer
    sigma = np.asarray(sigma_km, dtype=float)
    return 1e4 * math.log(sigma_max_km / sigma_min_km) * _rho2(u) / (2.0 * sigma)


def significance_threshold(
    sigma_km: float,
    false_peaks: float,
    sigma_min_km: float,
    sigma_max_km: float,
    null_variance: float = NULL_VARIANCE,
) -> float:
    """Significance at which a fit of width ``sigma_km`` has ``false_peaks`` per 10,000 km.

    The inverse of :func:`false_peaks_per_10000km` in Δχ² (``null_variance`` when the
    target exceeds the most the formula gives). E.g. for 0.1 per 10,000 km, σ in
    [1, 40] km and the real null variance 1.3: 28.4 at σ 1 km, 22.1 at 10 km, 18.2 at 40 km.
    """

    def excess(u: float) -> float:
        log_rate = math.log(1e4 * math.log(sigma_max_km / sigma_min_km) / (2.0 * sigma_km))
        log_rate += math.log(u) - 0.5 * u * u - 1.5 * math.log(2.0 * math.pi)
        return log_rate - math.log(false_peaks)

    if excess(1.0) <= 0:
        return float(null_variance)
    u = brentq(excess, 1.0, 60.0, xtol=1e-10)
    return float(u * u * null_variance)
