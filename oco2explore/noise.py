"""The along-track error covariance of an orbit, estimated from its soundings, and what it implies.

Real OCO-2 XCO2 errors are not white: the footprints of a frame share a correlated error
of a few km (0.28 ppm over 3.5 km on the real plume-free stretches of orbit 11522), and the
retrieval and the atmosphere add a background variability over tens of km (0.3–0.7 ppm
over 15 km on the real California passes). No fixed noise model is right for every orbit,
so detector v2 (``FitConfig.noise_estimated``, ``docs/detection.md``) estimates one per
orbit:

* :class:`NoiseModel`: ``C = diag(v) + Σ_k r_k² exp(−|Δs|/L_k) + Σ_j q_j²
  exp(−Δs²/(2ℓ_j²))``, white per-sounding variance ``v``, exponentially correlated
  components (3.5 and 15 km) and a smooth background (50 and 150 km) at along-track
  positions ``s``;
* :func:`estimate_noise`: the amplitudes from the orbit's robust semivariogram
  (median-based, with the clear excursions of :func:`excursion_mask`, plumes and city
  domes, left out, so they do not count as noise), by non-negative least squares;
* :func:`gls_chi2`: generalised least squares under that covariance in O(n) (each
  exponential component a latent Ornstein–Uhlenbeck process, the Woodbury identity, one
  banded Cholesky factor and a banded triangular solve per column; the smooth components
  a reduced-rank sine basis and a second, small Woodbury step; the factorisation of the
  most recent windows kept, as a scan refits a window several times);
* :func:`false_peaks_per_10000km` and :func:`significance_threshold`: the expected number
  of noise peaks per 10,000 km of track at least as significant as a fit, from the
  Euler-characteristic heuristic for the maxima of a Gaussian field over centre and
  ln σ (Adler & Taylor 2007, *Random Fields and Geometry*; Siegmund & Worsley 1995,
  *Ann. Stat.* 23, 608, for scale space), and its inverse: the significance threshold
  of a target false-alarm rate.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg.lapack import dpbtrf, dpotrf, dpotrs, dtbtrs
from scipy.optimize import brentq, nnls

log = logging.getLogger(__name__)

#: Correlation lengths of the estimated components, km: the frame-shared retrieval error
#: (3.5 km, measured on the real plume-free stretches of orbit 11522) and the background
#: variability (15 km: chosen by the variogram on those stretches and on the Highveld
#: window among 15, 30 and 60 km, see ``docs/detection.md``).
LENGTHS_KM = (3.5, 15.0)
#: Lengths of the smooth (squared-exponential) background components, km: the slow
#: variability of the retrieval and of the atmosphere over tens to a hundred km that a
#: window's straight line does not follow. In the covariance it makes a broad bump in
#: an orbit with such variability less significant than the white statistic says;
#: without it (``smooth_km=()``) the variogram gives that variability to a drift term
#: outside the model and broad noise bumps pass (``docs/detection.md``).
SMOOTH_KM = (50.0, 150.0)
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
#: Width of the running mean of :func:`excursion_mask`, km (a plume crossing's scale).
EXCURSION_MEAN_KM = 10.0
#: Half-width of its running-median baseline, km, and the bins it is computed on, km.
BASELINE_HALF_KM = 100.0
BASELINE_BIN_KM = 10.0
#: An excursion is a run above ``EXCURSION_LOW`` scales that reaches ``EXCURSION_HIGH``
#: scales; runs closer than ``EXCURSION_GAP_KM`` are one.
EXCURSION_LOW = 1.0
EXCURSION_HIGH = 3.5
EXCURSION_GAP_KM = 10.0
#: Each excursion's extent is widened by this fraction of its length on both sides (at
#: least :data:`EXCURSION_MEAN_KM`): the run above 1 scale of a Gaussian of peak h scales
#: spans ±σ√(2 ln h), ±1.6–2.1σ for h = 3.5–10, and its flanks beyond still hold up to a
#: scale; widened by half, the mask reaches ±2.4–3.2σ, where a Gaussian is below 6 % of
#: its peak. Unmasked flanks of closely spaced domes raised the 50 km component.
EXCURSION_DILATION = 0.5
#: median(|d|)² of a Gaussian difference d of variance 2γ is 2γ·0.4549 (0.6745²).
_MEDIAN_FACTOR = 2.0 * 0.4549
#: Variance of the detection statistic's z under the real null, in units of the Gaussian
#: null's: real plume-free fits are 5–16× more frequent than the Gaussian formula says at
#: nominal rates of 1–10 per 10,000 km: heavier tails than the model. Calibrated on real
#: plume-free data only (``benchmarks/bench_real.py --calibrate``: the real California
#: passes far from every city and large source and the plume-free stretches of orbit
#: 11522, ``docs/detection.md``): the smallest value whose false-peak counts stay at or
#: below the nominal rate at every rate tried.
NULL_VARIANCE = 1.6


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
    smooth : tuple of (float, float)
        ``(rms_ppm, length_km)`` of each smooth background component: covariance
        ``rms² exp(−Δs²/(2 length²))``.
    """

    white_ppm: float
    scales: tuple[tuple[float, float], ...] = ()
    smooth: tuple[tuple[float, float], ...] = ()

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
        return v * u2 / _median(u2)

    def covariance(self, position_km: ArrayLike, white_var: ArrayLike | None = None) -> NDArray:
        """Dense covariance matrix at ``position_km`` (km), ppm²: for tests and small n."""
        s = np.asarray(position_km, dtype=float)
        v = self.white_var(size=s.size) if white_var is None else np.asarray(white_var, float)
        lag = np.abs(s[:, None] - s[None, :])
        cov = np.diag(v)
        for rms, length in self.scales:
            cov = cov + rms * rms * np.exp(-lag / length)
        for rms, length in self.smooth:
            cov = cov + rms * rms * np.exp(-0.5 * (lag / length) ** 2)
        return cov

    def to_dict(self) -> dict[str, object]:
        """Plain-JSON form."""
        return {
            "white_ppm": self.white_ppm,
            "scales": [list(s) for s in self.scales],
            "smooth": [list(s) for s in self.smooth],
        }

    @classmethod
    def from_dict(cls, data: dict) -> NoiseModel:
        """From :meth:`to_dict` (``smooth`` optional: models written before it had none)."""

        def pairs(key: str) -> tuple[tuple[float, float], ...]:
            return tuple((float(r), float(L)) for r, L in data.get(key, ()))

        return cls(float(data["white_ppm"]), pairs("scales"), pairs("smooth"))


def _median(a: NDArray) -> float:
    """``np.median`` of a 1-D array, without its overhead (one partition; NaN if any)."""
    n = a.size
    if a.ndim != 1 or n == 0:
        return float(np.median(a))
    part = np.partition(a, [(n - 1) // 2, n // 2, n - 1])
    if np.isnan(part[-1]):
        return math.nan
    return float(part[n // 2] if n % 2 else (part[(n - 1) // 2] + part[n // 2]) / 2.0)


def gls_chi2(
    design: NDArray,
    y: NDArray,
    white_var: NDArray,
    position_km: NDArray,
    scales: tuple[tuple[float, float], ...] | list[tuple[float, float]],
    smooth: tuple[tuple[float, float], ...] | list[tuple[float, float]] = (),
) -> tuple[NDArray, NDArray]:
    """χ² of generalised least squares under white, correlated and smooth errors, O(n).

    The covariance is ``diag(white_var) + Σ_k r_k² exp(−|Δs|/L_k) + Σ_j q_j²
    exp(−Δs²/(2ℓ_j²))`` at the soundings' positions ``s``; soundings at one position
    share the correlated parts. Each exponential component is a latent
    Ornstein–Uhlenbeck process at the ``m`` distinct positions, with a tridiagonal
    precision; the ``K`` processes interleaved (state ``i·K + k``) and the data's
    ``AᵀD⁻¹A`` (one full K×K block per position) make a banded precision
    ``M = P + AᵀD⁻¹A`` of half-bandwidth ``K``, so by the Woodbury identity
    ``aᵀC⁻¹b = aᵀD⁻¹b − (U⁻ᵀAᵀD⁻¹a)ᵀ(U⁻ᵀAᵀD⁻¹b)`` with ``M = UᵀU`` its banded
    Cholesky factor: one banded triangular solve per column. The smooth components
    are a reduced-rank Hilbert-space expansion (Solin & Särkkä 2020, *Stat. Comput.*
    30, 419): sines on the window widened by 2ℓ on each side, frequencies up to 4/ℓ,
    weighted by the squared-exponential spectral density; a second Woodbury step with
    that small basis adds them (equal to the dense inverse to ~1e-4). The window's
    factorisation and the solved columns are kept (:class:`_Factor`): a scan fits a
    window several times, from other starts and with other neighbours subtracted.

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
        ``(rms_ppm, length_km)`` of each exponentially correlated component (rms 0:
        skipped).
    smooth : sequence of (float, float)
        ``(rms_ppm, length_km)`` of each squared-exponential component (rms 0: skipped).

    Returns
    -------
    chi2 : ndarray, shape (p + 1,)
        ``chi2[j]``: the GLS χ² of ``y`` on the first ``j`` columns (``j = 0``: ``yᵀC⁻¹y``).
    beta : ndarray, shape (p,)
        GLS coefficients on all ``p`` columns.
    """
    z = np.column_stack([y, design]).astype(float, copy=False)
    factor = _factor(white_var, position_km, scales, smooth)
    n, states, q = z.shape[0], factor.states, factor.q
    # aᵀC⁻¹b = leftᵀright with left = (z; U⁻ᵀAᵀD⁻¹z; ΦᵀC_ou⁻¹z) and right = (D⁻¹z;
    # −U⁻ᵀAᵀD⁻¹z; −(S⁻¹ + ΦᵀC_ou⁻¹Φ)⁻¹ΦᵀC_ou⁻¹z), stacked rows.
    left = np.empty((n + states + q, z.shape[1]))
    right = np.empty_like(left)
    left[:n] = z
    np.multiply(z, factor.inv_white[:, None], out=right[:n])
    solved = factor.solved(z, right[:n])
    left[n:] = solved[: states + q]
    np.negative(solved[:states], out=right[n : n + states])
    np.negative(solved[states + q :], out=right[n + states :])
    gram = left.T @ right  # zᵀC⁻¹z
    n_col = design.shape[1]
    if n_col == 0:
        return np.array([float(gram[0, 0])]), np.zeros(0)
    # The GLS coefficients on the first j columns, every j at once: the leading j×j
    # block of the Gram matrix padded with the identity.
    lead, mask, eye = _nested(n_col)
    system = np.where(mask, gram[None, 1:, 1:], eye)
    betas = np.linalg.solve(system, np.where(lead, gram[None, 1:, 0], 0.0)[:, :, None])[..., 0]
    # From the residuals, not yᵀC⁻¹y − bᵀβ: no cancellation for a near-perfect fit.
    coef = np.vstack([np.ones(n_col), -betas.T])  # column j − 1: residual of the first j
    chi2 = np.einsum("ij,ij->j", left @ coef, right @ coef)
    return np.concatenate([[gram[0, 0]], np.maximum(chi2, 0.0)]), betas[-1].copy()


@functools.lru_cache(maxsize=8)
def _nested(n_col: int) -> tuple[NDArray, NDArray, NDArray]:
    """Masks of the nested designs of :func:`gls_chi2`: (j, column), (j, row, column), identity."""
    lead = np.arange(n_col)[None, :] < np.arange(1, n_col + 1)[:, None]
    mask = lead[:, :, None] & lead[:, None, :]
    eye = np.eye(n_col)[None]
    for a in (lead, mask, eye):
        a.setflags(write=False)
    return lead, mask, eye


#: Window factorisations :func:`gls_chi2` keeps, most recently used last: it depends only
#: on the window's positions, white variances and components, which stay the same while a
#: scan refits the window (other starts, other neighbours subtracted, other widths).
FACTOR_MEMORY = 128
#: Solved columns each kept factorisation remembers (the window's line, its data).
COLUMN_MEMORY = 8
_FACTORS: OrderedDict[tuple, _Factor] = OrderedDict()
#: Guards :data:`_FACTORS` and the factorisations' column memories (threads share them).
_LOCK = threading.Lock()


def _factor(
    white_var: NDArray,
    position_km: NDArray,
    scales: tuple[tuple[float, float], ...] | list[tuple[float, float]],
    smooth: tuple[tuple[float, float], ...] | list[tuple[float, float]],
) -> _Factor:
    """The :class:`_Factor` of a window, from :data:`_FACTORS` when it was met recently."""
    white_var = np.ascontiguousarray(white_var, dtype=float)
    position_km = np.ascontiguousarray(position_km, dtype=float)
    active = tuple((float(r), float(length)) for r, length in scales if r > 0)
    smooth_on = tuple((float(r), float(length)) for r, length in smooth if r > 0)
    key = (position_km.tobytes(), white_var.tobytes(), active, smooth_on)
    with _LOCK:
        factor = _FACTORS.get(key)
        if factor is not None:
            _FACTORS.move_to_end(key)
            return factor
    factor = _Factor(white_var, position_km, active, smooth_on)
    with _LOCK:
        _FACTORS[key] = factor
        while len(_FACTORS) > FACTOR_MEMORY:
            _FACTORS.popitem(last=False)
    return factor


def _positions(position_km: NDArray) -> tuple[NDArray, NDArray, NDArray | None]:
    """Distinct positions (rounded to 1e-6 km), each sounding's index among them, run starts.

    As ``np.unique(..., return_inverse=True)``; for sorted positions (a window of the
    track) from their runs, with the index of each run's first sounding (else None).
    """
    r = np.round(position_km, 6)
    step = np.diff(r)
    if not np.all(step >= 0):
        pos, frame = np.unique(r, return_inverse=True)
        return pos, frame, None
    starts = np.concatenate([[0], np.flatnonzero(step > 0) + 1])
    frame = np.zeros(r.size, dtype=np.intp)
    frame[starts[1:]] = 1
    return r[starts], np.cumsum(frame), starts


class _Factor:
    """The covariance of one window, factorised for :func:`gls_chi2`.

    ``C = D + A P⁻¹ Aᵀ + Φ S Φᵀ``: ``D`` the white variances, ``A`` the map of the
    soundings to the latent Ornstein–Uhlenbeck states at their positions, ``P`` their
    banded precision, ``Φ`` the smooth basis with spectral weights ``S``
    (:func:`_smooth_basis`). Keeps ``U`` (``M = P + AᵀD⁻¹A = UᵀU``, banded upper
    Cholesky), ``U⁻ᵀAᵀD⁻¹Φ`` and the Cholesky factor of the smooth Woodbury matrix
    ``S⁻¹ + ΦᵀC_ou⁻¹Φ``.

    Raises
    ------
    ValueError
        Non-finite positions or variances.
    numpy.linalg.LinAlgError
        A precision that is not positive definite.
    """

    def __init__(
        self,
        white_var: NDArray,
        position_km: NDArray,
        active: tuple[tuple[float, float], ...],
        smooth: tuple[tuple[float, float], ...],
    ):
        self.n = white_var.size
        self.inv_white = 1.0 / white_var
        self.chol: NDArray | None = None
        self.states = 0
        if active:
            self._factorise(white_var, position_km, active)
        #: Solved columns by their bytes: ``U⁻ᵀAᵀD⁻¹z``, ``ΦᵀC_ou⁻¹z`` and the smooth
        #: Woodbury matrix's inverse times the latter, stacked (see :meth:`solved`).
        self.columns: OrderedDict[bytes, NDArray] = OrderedDict()
        self.q = 0
        basis, spectrum = _smooth_basis(position_km, smooth)
        self.basis_t: NDArray | None = None
        if basis is not None:
            d_phi = basis * self.inv_white[:, None]
            h_phi = self._half(d_phi)
            inner = np.diag(1.0 / spectrum) + basis.T @ d_phi - h_phi.T @ h_phi
            if not np.isfinite(inner).all():
                raise ValueError("the smooth components' matrix holds infs or NaNs")
            self.inner, info = dpotrf(inner, lower=0, clean=0)
            if info > 0:
                raise np.linalg.LinAlgError(f"{info}th leading minor not positive definite")
            self.basis_t, self.h_phi_t = np.ascontiguousarray(basis.T), h_phi.T
            self.q = basis.shape[1]

    def _factorise(
        self, white_var: NDArray, position_km: NDArray, active: tuple[tuple[float, float], ...]
    ) -> None:
        """Banded upper Cholesky factor of ``M = P + AᵀD⁻¹A`` (LAPACK ``dpbtrf``)."""
        pos, frame, self.starts = _positions(position_km)
        m, k_n = pos.size, len(active)
        ab = np.zeros((k_n + 1, m * k_n))  # upper form: ab[K + i - j, j] = M[i, j], i <= j
        for k, (rms, length) in enumerate(active):
            rho = np.exp(-np.diff(pos) / length)
            inv = 1.0 / (1.0 - rho * rho)
            diag = np.ones(m)
            diag[:-1] += rho * rho * inv
            diag[1:] += inv - 1.0
            ab[k_n, k::k_n] += diag / rms**2  # the states i·K + k
            ab[0, k_n + k :: k_n] += -rho * inv / rms**2
        if m == self.n:  # one sounding per position
            inv_white = np.empty(m)
            inv_white[frame] = self.inv_white
        else:
            inv_white = np.bincount(frame, self.inv_white, m)
        for k in range(k_n):
            for j in range(k, k_n):
                ab[k_n - (j - k), j::k_n] += inv_white
        if not np.isfinite(ab).all():
            raise ValueError("the noise precision holds infs or NaNs")
        chol, info = dpbtrf(ab)
        if info > 0:
            raise np.linalg.LinAlgError(f"{info}th leading minor not positive definite")
        self.chol, self.frame, self.m, self.k_n = chol, frame, m, k_n
        self.states = m * k_n

    def _half(self, dz: NDArray) -> NDArray:
        """``U⁻ᵀAᵀ·dz`` (states × columns) of columns ``dz = D⁻¹z``; empty without states."""
        if self.chol is None:
            return np.zeros((0, dz.shape[1]))
        if not np.isfinite(dz).all():
            raise ValueError("array must not contain infs or NaNs")
        if self.m == self.n:  # one sounding per position
            per_position = np.empty_like(dz)
            per_position[self.frame] = dz
        elif self.starts is None:
            per_position = np.empty((self.m, dz.shape[1]))
            for c in range(dz.shape[1]):
                per_position[:, c] = np.bincount(self.frame, dz[:, c], self.m)
        else:
            per_position = np.add.reduceat(dz, self.starts, axis=0)
        rhs = np.empty((self.m * self.k_n, dz.shape[1]), order="F")  # each state its position's
        for k in range(self.k_n):
            rhs[k :: self.k_n] = per_position
        half, info = dtbtrs(self.chol, rhs, trans="T", overwrite_b=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"banded triangular solve failed ({info})")
        return half

    def solved(self, z: NDArray, dz: NDArray) -> NDArray:
        """``U⁻ᵀAᵀD⁻¹z``, ``ΦᵀC_ou⁻¹z`` and ``(S⁻¹ + ΦᵀC_ou⁻¹Φ)⁻¹ΦᵀC_ou⁻¹z`` of columns ``z``.

        Stacked rows: :attr:`states`, then :attr:`q` and :attr:`q`.

        Columns met before on this window come from :attr:`columns` (at most
        :data:`COLUMN_MEMORY` kept); the others are solved together.
        """
        keys = [z[:, c].tobytes() for c in range(z.shape[1])]
        with _LOCK:
            known = [self.columns.get(k) for k in keys]
        new = [c for c, v in enumerate(known) if v is None]
        if new:
            h_new = self._half(dz[:, new])
            if self.basis_t is None:
                stacked = h_new
            else:
                p_new = self.basis_t @ dz[:, new] - self.h_phi_t @ h_new
                if not np.isfinite(p_new).all():
                    raise ValueError("array must not contain infs or NaNs")
                w_new, info = dpotrs(self.inner, p_new, lower=0)
                if info != 0:
                    raise ValueError(f"illegal value in {-info}th argument of internal potrs")
                stacked = np.vstack([h_new, p_new, w_new])
            with _LOCK:
                for i, c in enumerate(new):
                    known[c] = stacked[:, i]
                    self.columns[keys[c]] = known[c]
                while len(self.columns) > COLUMN_MEMORY:
                    self.columns.popitem(last=False)
        with _LOCK:
            for k in keys:
                if k in self.columns:
                    self.columns.move_to_end(k)
        return np.column_stack(known)


def _smooth_basis(
    position_km: NDArray, smooth: tuple[tuple[float, float], ...] | list[tuple[float, float]]
) -> tuple[NDArray | None, NDArray]:
    """Reduced-rank basis ``Φ`` (n, q) and spectral weights (q,), ppm², of the smooth parts.

    ``Σ_j q_j² exp(−Δs²/(2ℓ_j²)) ≈ Φ diag(S) Φᵀ``: for each component the Laplacian's
    sine eigenfunctions on ``[min s − 2ℓ, max s + 2ℓ]`` with frequencies ``ω ≤ 4/ℓ``
    and ``S(ω) = q² √(2π) ℓ e^(−ω²ℓ²/2)`` (None, empty: no active component).
    """
    blocks, weights = [], []
    if position_km.size == 0:
        return None, np.zeros(0)
    lo, hi = float(np.min(position_km)), float(np.max(position_km))
    for rms, length in smooth:
        rms, length = float(rms), float(length)
        if rms <= 0:
            continue
        start, half = lo - 2.0 * length, 0.5 * (hi - lo) + 2.0 * length
        omega_step = math.pi / (2.0 * half)
        count = max(int(4.0 / length / omega_step), 1)
        omega = omega_step * np.arange(1, count + 1)
        blocks.append(np.sin((position_km - start)[:, None] * omega) / math.sqrt(half))
        weights.append(
            rms * rms * math.sqrt(2.0 * math.pi) * length * np.exp(-0.5 * (omega * length) ** 2)
        )
    if not blocks:
        return None, np.zeros(0)
    return np.hstack(blocks), np.concatenate(weights)


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
    # Where each anchor's lag bins start: bin k ends where bin k + 1 starts.
    at = s[anchors]
    starts = np.searchsorted(s, (at[None, :] + edges[:, None]).ravel()).reshape(edges.size, -1)
    for k, lo in enumerate(edges[:-1]):
        first, last = starts[k], starts[k + 1]
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
        gammas.append(_median(d) ** 2 / _MEDIAN_FACTOR)
        counts.append(int(ok.sum()))
    return np.array(lags), np.array(gammas), np.array(counts)


def _running_mean(s: NDArray, y: NDArray, width_km: float) -> NDArray:
    """Mean of ``y`` over ``[s − width/2, s + width/2]`` at each sorted position ``s``."""
    csum = np.concatenate([[0.0], np.cumsum(y)])
    lo = np.searchsorted(s, s - 0.5 * width_km, side="left")
    hi = np.searchsorted(s, s + 0.5 * width_km, side="right")
    return (csum[hi] - csum[lo]) / (hi - lo)


def _baseline(s: NDArray, y: NDArray) -> NDArray:
    """Running median of ``y`` over ±:data:`BASELINE_HALF_KM` on :data:`BASELINE_BIN_KM` bins.

    The median of the bin medians in the window, interpolated to each position: robust
    to a plume or a dome, which fills a few bins of the twenty-one.
    """
    bins = np.floor((s - s[0]) / BASELINE_BIN_KM).astype(np.int64)
    edges = np.flatnonzero(np.diff(bins)) + 1
    starts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [s.size]])
    medians = np.full(int(bins[-1]) + 1, np.nan)
    # The median of every bin at once: its values sorted, the middle one or the mean of
    # the middle two (as np.median; NaN in a bin gives NaN).
    ranked = y[np.lexsort((y, bins))]
    count = stops - starts
    lo, hi = ranked[starts + (count - 1) // 2], ranked[starts + count // 2]
    mid = np.where(count % 2 == 1, lo, (lo + hi) / 2.0)
    has_nan = np.add.reduceat(np.isnan(y), starts) > 0
    medians[bins[starts]] = np.where(has_nan, np.nan, mid)
    half = int(round(BASELINE_HALF_KM / BASELINE_BIN_KM))
    padded = np.concatenate([np.full(half, np.nan), medians, np.full(half, np.nan)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    # np.nanmedian over each window, at once: the sorted window (NaN last), its middle
    # finite value or the mean of the middle two; all-NaN windows (gaps wider than
    # 200 km) stay NaN.
    ranked = np.sort(windows, axis=1)
    k = np.count_nonzero(~np.isnan(windows), axis=1)
    rows = np.arange(windows.shape[0])
    lo = ranked[rows, np.maximum(k - 1, 0) // 2]
    hi = ranked[rows, np.minimum(k // 2, windows.shape[1] - 1)]
    running = np.where(k > 0, np.where(k % 2 == 1, lo, (lo + hi) / 2.0), np.nan)
    centre = s[0] + (np.arange(medians.size) + 0.5) * BASELINE_BIN_KM
    good = np.isfinite(running)
    return np.interp(s, centre[good], running[good])


def excursion_mask(position_km: ArrayLike, xco2: ArrayLike) -> NDArray:
    """Soundings in clear positive excursions (plumes, city domes), to leave out of the variogram.

    ``r``: the :data:`EXCURSION_MEAN_KM` running mean of XCO2 minus its running-median
    baseline (:func:`_baseline`). Its scale is taken from the lower side, ``median(r) −
    P15.87(r)`` (one standard deviation of a Gaussian), which enhancements do not
    inflate. An excursion is a connected run of ``r − median(r)`` above
    :data:`EXCURSION_LOW` scales (gaps up to :data:`EXCURSION_GAP_KM`) that reaches
    :data:`EXCURSION_HIGH` scales; all soundings within its extent, widened by
    :data:`EXCURSION_DILATION` of its length on each side (the flanks), are masked. Without
    the mask a 3 ppm, σ 30 km dome raises the estimated background components and
    costs the dome its significance.

    Parameters
    ----------
    position_km : array_like
        Along-track positions, km, sorted.
    xco2 : array_like
        XCO2, ppm.

    Returns
    -------
    ndarray of bool
        True where a sounding lies in an excursion.
    """
    s = np.asarray(position_km, dtype=float)
    y = np.asarray(xco2, dtype=float)
    mask = np.zeros(s.size, dtype=bool)
    if s.size < MIN_SOUNDINGS:
        return mask
    r = _running_mean(s, y, EXCURSION_MEAN_KM) - _baseline(s, y)
    centre = float(np.median(r))
    scale = centre - float(np.percentile(r, 15.87))
    if not scale > 0:
        return mask
    u = (r - centre) / scale
    above = np.flatnonzero(u > EXCURSION_LOW)
    if above.size == 0:
        return mask
    split = np.flatnonzero(np.diff(s[above]) > EXCURSION_GAP_KM) + 1
    for run in np.split(above, split):
        if u[run].max() >= EXCURSION_HIGH:
            lo, hi = s[run[0]], s[run[-1]]
            grow = EXCURSION_DILATION * max(hi - lo, EXCURSION_MEAN_KM)
            mask[np.searchsorted(s, lo - grow, "left") : np.searchsorted(s, hi + grow, "right")] = (
                True
            )
    return mask


def estimate_noise(
    position_km: ArrayLike,
    xco2: ArrayLike,
    uncertainty: ArrayLike | None = None,
    *,
    lengths_km: tuple[float, ...] = LENGTHS_KM,
    smooth_km: tuple[float, ...] = SMOOTH_KM,
    mask_excursions: bool = True,
    rms_max_ppm: float = RMS_MAX_PPM,
    seed: int = 0,
) -> NoiseModel:
    """The orbit's error covariance from its robust semivariogram.

    ``γ(h) = a + Σ_k r_k²(1 − e^(−h/L_k)) + Σ_j q_j²(1 − e^(−h²/(2ℓ_j²)))`` is fitted to
    :func:`semivariogram` by non-negative least squares with Cressie's weights
    ``√N/γ``: ``a`` the white variance (the only part left between soundings at one
    position, whose shared error cancels), ``r_k`` the exponentially correlated
    amplitudes, ``q_j`` the smooth background (:data:`SMOOTH_KM`). With ``smooth_km=()``
    a drift term ``c·h²`` takes the large scales instead (outside the model: a window's
    line is assumed to follow it). Soundings in clear excursions (:func:`excursion_mask`)
    are left out, so plumes and domes do not count as noise. Amplitudes are bounded by
    ``rms_max_ppm``.

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
        Correlation lengths of the exponential components, km.
    smooth_km : tuple of float
        Lengths of the squared-exponential components, km (``()``: a drift term instead).
    mask_excursions : bool
        Leave the soundings of :func:`excursion_mask` out of the variogram.
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
    if mask_excursions:
        keep = ~excursion_mask(s, y)
        if keep.sum() >= MIN_SOUNDINGS:
            s, y = s[keep], y[keep]
    lag, gamma, count = semivariogram(s, y, seed)
    good = gamma > 0
    lag, gamma, count = lag[good], gamma[good], count[good]
    if lag.size < len(lengths_km) + len(smooth_km) + 2:
        return fallback_noise(y)
    cols = [np.ones_like(lag)] + [1.0 - np.exp(-lag / length) for length in lengths_km]
    cols += [1.0 - np.exp(-0.5 * (lag / length) ** 2) for length in smooth_km]
    if not smooth_km:
        cols.append(lag * lag)
    design = np.column_stack(cols)
    weight = np.sqrt(count) / gamma
    coef, _ = nnls(design * weight[:, None], gamma * weight)
    amps = np.minimum(np.sqrt(coef), rms_max_ppm)
    white = float(amps[0]) if amps[0] > 0 else float(np.sqrt(gamma.min()))
    n_exp = len(lengths_km)
    model = NoiseModel(
        white,
        tuple((float(r), float(L)) for r, L in zip(amps[1 : 1 + n_exp], lengths_km, strict=True)),
        tuple(
            (float(r), float(L))
            for r, L in zip(amps[1 + n_exp : 1 + n_exp + len(smooth_km)], smooth_km, strict=True)
        ),
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
    [1, 40] km and the real null variance 1.6: 34.9 at σ 1 km, 27.1 at 10 km, 22.4 at 40 km.
    """

    # The constant terms once (the same values, so the same root).
    log_base = math.log(1e4 * math.log(sigma_max_km / sigma_min_km) / (2.0 * sigma_km))
    log_norm, log_target = 1.5 * math.log(2.0 * math.pi), math.log(false_peaks)

    def excess(u: float) -> float:
        return log_base + (math.log(u) - 0.5 * u * u - log_norm) - log_target

    if excess(1.0) <= 0:
        return float(null_variance)
    u = brentq(excess, 1.0, 60.0, xtol=1e-10)
    return float(u * u * null_variance)
