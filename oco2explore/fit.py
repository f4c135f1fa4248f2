"""Fit one along-track window with a Gaussian plume on a linear background.

The model of XCO2 (ppm) along the track coordinate ``x`` (km) is

.. math::

    f(x) = m\\,(x - c) + b + \\frac{A}{\\sigma\\sqrt{2\\pi}}
           \\exp\\left(-\\frac{(x - c)^2}{2\\sigma^2}\\right)

with background slope ``m`` (ppm/km), background at the centre ``b`` (ppm),
Gaussian area ``A`` (ppm·km), width ``σ`` (km) and centre ``c`` (km, absolute
``distance_km``). The peak height is ``Δ = A/(σ√(2π))`` (ppm).

How the fit works
-----------------
For fixed ``σ`` and ``c`` the model is linear in ``(m, b, A)``: their bounded
least-squares solution is exact and cheap (:meth:`_Window.linear`: ``A`` clipped
once the line is solved, or the best face of the box when the slope or intercept
bounds bind, :func:`_box_lstsq`). So the fit is a *variable projection*: χ² is
minimised over the two nonlinear parameters only, with ``(m, b, A)`` solved at
every ``(σ, c)`` (:func:`_solve`). The start is the best point of a coarse grid
over ``σ`` (log-spaced within the bounds) and ``c`` (within
``center_shift_max_km`` of the requested centre), solved in closed form with
``A`` clipped to its bounds. From there a bounded Levenberg–Marquardt iteration
on ``(σ, c)`` runs on the five-parameter Hessian with the free linear parameters
eliminated: the Gauss–Newton one while a step still lowers χ² by more than
:data:`NEWTON_SWITCH` of it (the steps the former trust-region fit took, so it
reaches the same minima), the exact one after that (quadratic convergence), until
a Newton step would lower χ² by less than :data:`FIT_RTOL` of it. A parameter on
its bound stays there while the gradient pushes it out. This is robust (no bad
local minimum from a poor start) and takes under a millisecond per 200 km window,
about four times less than the bounded five-parameter trust-region fit it
replaced (:func:`scipy.optimize.least_squares`), which ``tests/test_fit.py``
compares it with on ~470 simulated and real windows (``benchmarks/bench_fit.py``
times both). With ``sigma_start_km`` the fit instead starts from that width at
the requested centre and refines the local minimum there (:mod:`oco2explore.scan`
starts from each candidate, so a narrow plume is not traded for a broad
neighbouring bump). :func:`fit_solution` stops after the solution (its
:meth:`FitSolution.result` adds the statistics and checks below), for callers that first
need only where the fit went.

Statistics
----------
* Residuals are weighted by ``1/uncertainty`` when uncertainties (ppm) are
  given, else equally.
* 1-σ errors come from the covariance ``(JᵀJ)⁻¹`` at the solution, scaled by the
  reduced χ² when no uncertainties are given (as :func:`scipy.optimize.curve_fit`
  does with ``absolute_sigma=False``).
* ``significance = Δχ² / χ²_ν``: the drop in χ² from the best line alone to
  the line plus the fitted Gaussian, in units of the reduced χ² of the
  Gaussian+line fit. By default (``FitConfig.error_correlation_ppm``) the χ² are
  those of generalised least squares (:func:`gls_chi2`) under the real OCO-2
  error structure: each sounding's independent error (its uncertainty, or
  without uncertainties the window's scatter less the correlated part) plus an
  error correlated along the track (0.28 ppm rms over 3.5 km, shared by the
  footprints of a frame), which makes a noise bump a few km wide far less
  significant than the white-noise Δχ² says. With ``error_correlation_ppm``
  None it is the weighted white-noise Δχ², which the scan's candidate search
  uses too. Dividing by χ²_ν keeps it independent of the overall scale of the
  uncertainties (OCO-2's ``xco2_uncertainty`` underestimates the real scatter).
  :mod:`oco2explore.scan` calibrates the threshold on plume-free simulated
  orbits with the real-like correlated error.
* ``r`` is the Pearson correlation between observed and modelled XCO2 inside
  ±4σ of the centre; ``r2 = 1 − SS_res/SS_tot`` there (coefficient of
  determination).
* ``n_left``/``n_right`` count soundings within 2σ on each side of the centre.

Checks (``FitResult.checks``, in this order; the first failure is the
``reject_reason``): ``fit`` (converged on a usable window), ``min_soundings``,
``amplitude_min`` (A above its lower bound: an enhancement was found),
``sigma_min_km``/``sigma_max_km`` (σ not stuck on a bound: the seed's "too
narrow"/"too large"; a σ stuck on ``sigma_min_km`` passes when the significance
reaches :func:`unresolved_factor` × its threshold: 1 with the correlated-error
statistic, 2 with the white one),
``min_support`` (soundings on both flanks and beside the peak on one side at
least, see :data:`SUPPORT_INTERVALS`),
``significance_min`` (threshold ``FitConfig.significance_limit(σ)``, growing
with σ above ``significance_scale_km``) and ``r2_min``. A threshold set to
None is off and reported with limit None.

:func:`fit_window` never raises on bad data (NaN/inf, too few points, duplicate
``x``, flat data): the result's ``success``/``message`` and ``passed``/
``reject_reason`` say what happened.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .config import FitConfig
from .noise import NoiseModel
from .noise import gls_chi2 as noise_gls_chi2

log = logging.getLogger(__name__)

SQRT_2PI = math.sqrt(2.0 * math.pi)
#: Fewest soundings for which the 5-parameter fit is attempted at all.
MIN_POINTS = 8
#: Grid of the starting-point search: widths and centre step (km).
N_SIGMA_GRID = 10
CENTER_STEP_KM = 2.0
#: Support intervals, in units of σ from the centre: both flanks of the peak and the
#: background just outside it on either side. A fit needs soundings on both flanks
#: and on at least one of the two outer intervals (the seed asked for all four, with
#: intervals half as wide): a plume beside a cloud gap is kept (on 60 simulated days,
#: with the former threshold 30, 5 more of 78 target plumes at the same false-peak rate
#: on plume-free days), a bump standing on one isolated cluster of soundings is not.
SUPPORT_INTERVALS = ((-2.0, 0.0), (0.0, 2.0), (-4.0, -2.0), (2.0, 4.0))
#: The checks of a fit, in the order ``reject_reason`` reports the first failure.
CHECK_ORDER = (
    "fit",
    "min_soundings",
    "amplitude_min",
    "sigma_min_km",
    "sigma_max_km",
    "min_support",
    "min_positions",
    "significance_min",
    "r2_min",
    "artefact",
)
#: Half width at half maximum of a Gaussian, in σ: the distinct-position support
#: (``min_positions``) counts the positions within it.
HALF_MAXIMUM = math.sqrt(2.0 * math.log(2.0))
#: Soundings at along-track positions closer than this share a position (a frame), km.
POSITION_RESOLUTION_KM = 0.05
#: Relative distance to a σ bound at which σ counts as stuck on it.
BOUND_TOLERANCE = 1e-3
#: The fit has converged when a Newton step on (σ, centre) would lower χ² by less than
#: this fraction of it: the parameters are then within ~√(FIT_RTOL·n) of their
#: 1-σ errors of the minimum (n soundings), far closer than the former trust-region fit's
#: tolerance of 1e-6 on χ², parameters and gradient.
FIT_RTOL = 1e-12
#: The message of a fit converged by that criterion.
NEWTON_CONVERGED = "converged: a Newton step lowers χ² by < 1e-12 of it"
#: A converged fit counts as stationary (:attr:`FitSolution.stationary`) when that criterion
#: bounds its distance to the exact minimum, ``√(FIT_RTOL·χ²·(JᵀJ)⁻¹ᵢᵢ)``, below this
#: fraction of σ in σ and in the centre.
STATIONARY_TOLERANCE = 1e-5
#: ... or when a step moves σ and the centre by less than this fraction of σ.
STEP_RTOL = 1e-10
#: Most χ² evaluations of one fit (the former fit allowed 100 per parameter); a fit
#: stopped there has ``success`` False.
MAX_EVALUATIONS = 500
#: Levenberg–Marquardt damping (relative to the scaled Gauss–Newton Hessian): first
#: value, and the value past which no step lowers χ² any more (converged).
DAMPING_START = 1e-3
DAMPING_MAX = 1e16
#: Gauss–Newton steps while a step lowers χ² by more than this fraction of it, then
#: Newton steps (exact Hessian). Far from the minimum the Gauss–Newton steps follow the
#: former trust-region fit: with Newton steps from the start, 3 of the ~470 compared
#: windows (real Highveld, started at σ = 4 km) stopped in a nearer minimum of larger χ².
NEWTON_SWITCH = 1e-1
#: Ridge added to the unit-diagonal scaled normal equations, so a parameter without
#: influence (a Gaussian that vanishes on every sounding) gets a finite solution.
RIDGE = 1e-13
#: A fit with σ stuck on ``sigma_min_km`` (narrower than the bound: unresolved, e.g. a
#: plume of σ ≈ 1.3 km seen in one or two 2.25 km frames) passes the ``sigma_min_km``
#: check under the *white-noise* statistic (``error_correlation_ppm`` None) only with at
#: least this multiple of the significance threshold: that statistic takes the
#: frame-to-frame correlated error for signal, so such fits collect every structure
#: narrower than the bound; the real plume-free segments of orbit 11522 hold one at
#: white-noise significance 56. With the threshold off (``significance_min`` None) they
#: are rejected as the seed did.
UNRESOLVED_SIGNIFICANCE_FACTOR = 2.0
#: The same multiple under the correlated-error (GLS) statistic, which models those
#: narrow structures: the real bump above reaches 18 there (threshold 25). At 1 rather
#: than 2, on 60 simulated days (``bench_scan.py``, seeds 0 and 1) recall rises from 0.54
#: to 0.56 with white noise (precision 0.97 both) and from 0.51 to 0.55 with the
#: real-like correlated error (precision 0.93 to 0.92; plume-free days 0.018 to 0.027
#: false peaks per 10,000 km); on seeds 2 and 3, used for no choice, from 0.37 to 0.45
#: and from 0.30 to 0.44, precision 1.00 throughout.
UNRESOLVED_SIGNIFICANCE_FACTOR_GLS = 1.0


def gaussian(t: NDArray, amplitude: float, sigma_km: float) -> NDArray:
    """Gaussian of area ``amplitude`` (ppm·km) and width ``sigma_km`` at offsets ``t`` (km)."""
    return amplitude / (sigma_km * SQRT_2PI) * np.exp(-0.5 * (t / sigma_km) ** 2)


@dataclass
class FitResult:
    """Outcome of :func:`fit_window`; the peak-table fields of CONTRACT §2 plus diagnostics.

    Attributes
    ----------
    slope : float
        Background slope m, ppm/km.
    intercept : float
        Background at the fitted centre b, ppm.
    amplitude, amplitude_err : float
        Gaussian area A and its 1-σ error, ppm·km.
    sigma_km, sigma_km_err : float
        Gaussian width σ and its 1-σ error, km.
    delta_ppm, delta_ppm_err : float
        Peak height Δ = A/(σ√(2π)) and its 1-σ error, ppm.
    r, r2 : float
        Correlation and coefficient of determination inside ±4σ.
    significance : float
        Δχ² of Gaussian+line against line only, in units of the reduced χ²
        (whose degrees of freedom also count ``extra_params``).
    n_soundings, n_left, n_right : int
        Soundings in the window; soundings within 2σ left and right of the centre.
    support : int
        Fewest soundings on a flank of the peak ([−2σ, 0] and [0, 2σ]) or beside
        it (the fuller of [−4σ, −2σ] and [2σ, 4σ]); see :data:`SUPPORT_INTERVALS`.
    passed : bool
        All active thresholds passed.
    reject_reason : str
        Name of the first failed check ("" when passed).
    center_km : float
        Fitted Gaussian centre, along-track km (absolute ``distance_km``).
    center_km_err : float
        Its 1-σ error, km (0 when the centre is fixed).
    window_km : tuple of float
        The window ``(low, high)`` used, km.
    success : bool
        The optimiser converged on a usable window.
    message : str
        What happened, in words.
    checks : dict
        Threshold name -> (value, limit, passed); limit None means switched off.
    """

    slope: float = math.nan
    intercept: float = math.nan
    amplitude: float = math.nan
    sigma_km: float = math.nan
    delta_ppm: float = math.nan
    amplitude_err: float = math.nan
    sigma_km_err: float = math.nan
    delta_ppm_err: float = math.nan
    r: float = math.nan
    r2: float = math.nan
    significance: float = math.nan
    n_soundings: int = 0
    n_left: int = 0
    n_right: int = 0
    support: int = 0
    passed: bool = False
    reject_reason: str = ""
    center_km: float = math.nan
    center_km_err: float = math.nan
    window_km: tuple[float, float] = (math.nan, math.nan)
    success: bool = False
    message: str = ""
    checks: dict[str, tuple[Any, Any, bool]] = field(default_factory=dict)

    def background(self, x: ArrayLike) -> NDArray:
        """Fitted linear background at along-track positions ``x`` (km), ppm."""
        x = np.asarray(x, dtype=float)
        return self.slope * (x - self.center_km) + self.intercept

    def model(self, x: ArrayLike) -> NDArray:
        """Fitted Gaussian + background at along-track positions ``x`` (km), ppm."""
        x = np.asarray(x, dtype=float)
        return self.background(x) + gaussian(x - self.center_km, self.amplitude, self.sigma_km)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field (``checks`` included)."""
        return dataclasses.asdict(self)


def gaussian_on_line(
    s0: Any, s1: Any, s2: Any, y0: Any, y1: Any, yy: Any, g0: Any, g1: Any, gy: Any, gg: Any
) -> tuple[Any, Any, Any]:
    """Closed-form weighted least squares of ``y ≈ m t + b + A g`` from window sums.

    With weights ``w²`` the sums are ``s_k = Σw²tᵏ``, ``y0 = Σw²y``, ``y1 = Σw²ty``,
    ``yy = Σw²y²``, ``g0 = Σw²g``, ``g1 = Σw²tg``, ``gy = Σw²gy``, ``gg = Σw²g²``
    (arrays broadcast: many windows or many Gaussians at once).

    Returns
    -------
    chi2_line : array
        Weighted χ² of the best line alone.
    gy_perp, gg_perp : array
        ``<g⊥, y>`` and ``<g⊥, g⊥>`` with ``g⊥`` the part of ``g`` orthogonal to
        the line; the best unconstrained area is ``A = gy_perp / gg_perp`` and
        it lowers χ² by ``Δχ² = 2A·gy_perp − A²·gg_perp`` (``gy_perp²/gg_perp``).
    """
    det = s0 * s2 - s1 * s1
    proj_gy = (g0 * (s2 * y0 - s1 * y1) + g1 * (s0 * y1 - s1 * y0)) / det
    proj_gg = (g0 * (s2 * g0 - s1 * g1) + g1 * (s0 * g1 - s1 * g0)) / det
    chi2_line = yy - (y0 * (s2 * y0 - s1 * y1) + y1 * (s0 * y1 - s1 * y0)) / det
    return chi2_line, gy - proj_gy, gg - proj_gg


def best_amplitude(
    gy_perp: NDArray, gg_perp: NDArray, amplitude_min: float, amplitude_max: float
) -> tuple[NDArray, NDArray]:
    """Bounded best area ``A`` (ppm·km) and the χ² drop it gives, from :func:`gaussian_on_line`.

    ``A = gy_perp/gg_perp`` clipped to the bounds; ``Δχ² = 2A·gy_perp − A²·gg_perp``.
    Where ``gg_perp ≤ 0`` (the Gaussian is a line inside the window) ``A`` is the
    lower bound and the drop is computed from it.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        amp = np.where(gg_perp > 0, gy_perp / gg_perp, amplitude_min)
    amp = np.clip(amp, amplitude_min, amplitude_max)
    return amp, 2.0 * amp * gy_perp - amp * amp * gg_perp


def line_projection(t: NDArray, w: NDArray, y: NDArray, g: NDArray) -> tuple[NDArray, ...]:
    """:func:`gaussian_on_line` for one window and the Gaussians in the rows of ``g``."""
    w2 = w * w
    return gaussian_on_line(
        w2.sum(),
        (w2 * t).sum(),
        (w2 * t * t).sum(),
        (w2 * y).sum(),
        (w2 * t * y).sum(),
        (w2 * y * y).sum(),
        g @ w2,
        g @ (w2 * t),
        g @ (w2 * y),
        (g * g) @ w2,
    )


def _bounds(config: FitConfig, y_ref: float) -> tuple[NDArray, NDArray]:
    """Lower and upper bounds of (m, b − y_ref, A, σ, shift)."""
    slope = math.inf if config.slope_max is None else config.slope_max
    lo_b = -math.inf if config.intercept_min is None else config.intercept_min - y_ref
    hi_b = math.inf if config.intercept_max is None else config.intercept_max - y_ref
    shift = config.center_shift_max_km
    lower = np.array([-slope, lo_b, config.amplitude_min, config.sigma_min_km, -shift])
    upper = np.array([slope, hi_b, config.amplitude_max, config.sigma_max_km, shift])
    return lower, upper


def _start(
    t: NDArray, w: NDArray, y: NDArray, config: FitConfig, sigma_start_km: float | None = None
) -> tuple[float, float]:
    """Starting (σ, shift) of the fit, km: the best of a (σ, shift) grid, solved linearly.

    On each grid point the line and ``A`` (clipped to its bounds) are solved in closed
    form (:func:`gaussian_on_line`). With ``sigma_start_km`` the start is that σ, no shift.
    """
    if sigma_start_km is not None:
        return float(sigma_start_km), 0.0
    sigmas = np.geomspace(config.sigma_min_km, config.sigma_max_km, N_SIGMA_GRID)
    n_shift = int(config.center_shift_max_km // CENTER_STEP_KM)
    half = n_shift * CENTER_STEP_KM
    shifts = np.linspace(-half, half, 2 * n_shift + 1)
    sig, sh = (a.ravel() for a in np.meshgrid(sigmas, shifts))
    phi = gaussian(t[None, :] - sh[:, None], 1.0, sig[:, None])
    chi2_line, gy, gg = line_projection(t, w, y, phi)
    _, drop = best_amplitude(gy, gg, config.amplitude_min, config.amplitude_max)
    chi2 = chi2_line - drop
    best = int(np.nanargmin(chi2)) if np.isfinite(chi2).any() else 0
    return float(sig[best]), float(sh[best])


def gls_chi2(
    design: NDArray,
    y: NDArray,
    white_var: NDArray,
    error_km: NDArray,
    rms_ppm: float,
    length_km: float,
) -> tuple[NDArray, NDArray]:
    """χ² of generalised least squares under white plus along-track correlated errors.

    The error covariance is ``diag(white_var) + rms² · exp(−|Δs|/L)`` over the
    soundings' along-track positions ``s = error_km`` (soundings at the same
    position, the footprints of a frame, share the correlated part). Written as
    a latent exponentially correlated (Ornstein–Uhlenbeck) process at the
    distinct positions, whose precision matrix is tridiagonal, the Woodbury
    identity reduces ``C⁻¹`` to one banded solve, O(n).

    Parameters
    ----------
    design : ndarray, shape (n, k)
        Regressors (columns).
    y : ndarray, shape (n,)
        Data, ppm.
    white_var : ndarray, shape (n,)
        Independent error variance of each sounding, ppm².
    error_km : ndarray, shape (n,)
        Along-track position of each sounding for the correlated error, km.
    rms_ppm, length_km : float
        RMS (ppm) and correlation length (km) of the correlated error.

    Returns
    -------
    chi2 : ndarray
        For ``j = 0..k``: the GLS χ² of ``y`` on the first ``j`` columns of
        ``design`` (``j = 0``: ``yᵀC⁻¹y``).
    beta : ndarray
        GLS coefficients on all ``k`` columns.
    """
    return noise_gls_chi2(design, y, white_var, error_km, ((rms_ppm, length_km),))


class _Solution(NamedTuple):
    """Outcome of :func:`_solve`."""

    #: (m, b, A, σ, shift): slope (ppm/km), background at the requested centre (ppm,
    #: relative to the window's reference), area (ppm·km), width and centre shift (km).
    params: NDArray
    #: Weighted χ² at ``params``.
    chi2: float
    #: Weighted Jacobian of the residuals at ``params``, n × (4 with a fixed centre, else 5).
    jac: NDArray
    success: bool
    message: str
    #: Weighted χ² of the best unbounded line alone on the same window (NaN: not known).
    line_chi2: float = math.nan


@functools.lru_cache(maxsize=64)
def _faces(lower: tuple[float, ...], upper: tuple[float, ...]) -> tuple[NDArray, NDArray]:
    """Faces of a box: which parameters sit on a bound there, and at which value.

    Every combination of free / on its lower / on its upper bound (finite bounds
    only) for each parameter; the interior (all free) first. Read-only arrays,
    cached: the scan fits many windows with the same bounds.
    """
    options = [
        [(False, 0.0)] + [(True, float(v)) for v in (lo, hi) if math.isfinite(v)]
        for lo, hi in zip(lower, upper, strict=True)
    ]
    combos = list(itertools.product(*options))
    on_bound = np.array([[f for f, _ in c] for c in combos], dtype=bool)
    value = np.array([[v for _, v in c] for c in combos])
    on_bound.setflags(write=False)
    value.setflags(write=False)
    return on_bound, value


def _box_lstsq(
    gram: NDArray, rhs: NDArray, lower: NDArray, upper: NDArray, faces: tuple[NDArray, NDArray]
) -> tuple[NDArray, NDArray]:
    """Exact minimum of ``βᵀGβ − 2hᵀβ`` over ``lower ≤ β ≤ upper`` (a few parameters).

    A convex quadratic: its minimum is the best feasible one of the minima on the
    box's faces (:func:`_faces`: some parameters on a bound, the others free), all
    solved at once (unit-diagonal scaling plus :data:`RIDGE`). Returns β and which
    of its parameters sit on a bound.
    """
    on_bound, value = faces
    diag = np.diag(gram)
    scale = np.sqrt(np.where(diag > 0, diag, 1.0))
    eye = np.eye(scale.size)
    scaled = gram / np.outer(scale, scale) + RIDGE * eye
    # Face k: the rows of the parameters on a bound replaced by "β_i = bound".
    system = np.where(on_bound[:, :, None], eye[None], scaled[None])
    target = np.where(on_bound, value * scale, rhs / scale)
    betas = np.linalg.solve(system, target[:, :, None])[:, :, 0] / scale
    slack = 1e-9 * (np.abs(betas) + 1.0)
    feasible = np.all((betas >= lower - slack) & (betas <= upper + slack), axis=1)
    betas = np.clip(betas, lower, upper)
    objective = np.einsum("ki,ij,kj->k", betas, gram, betas) - 2.0 * betas @ rhs
    best = int(np.argmin(np.where(feasible, objective, np.inf)))
    return betas[best], on_bound[best]


class _Window:
    """Sums of one window for the bounded linear solution of (m, b, A) at any (σ, shift)."""

    def __init__(self, t: NDArray, w: NDArray, y: NDArray, lower: NDArray, upper: NDArray):
        self.w = w
        self.wt, self.wy = w * t, w * y
        self.s0, self.s1, self.s2 = float(w @ w), float(w @ self.wt), float(self.wt @ self.wt)
        self.y0, self.y1 = float(w @ self.wy), float(self.wt @ self.wy)
        self.det = self.s0 * self.s2 - self.s1 * self.s1
        #: Weighted χ² of the best unbounded line (:func:`_line_chi2`, the same sums).
        self.line_chi2 = float(self.wy @ self.wy) - (
            self.y0 * (self.s2 * self.y0 - self.s1 * self.y1)
            + self.y1 * (self.s0 * self.y1 - self.s1 * self.y0)
        ) / (self.s0 * self.s2 - self.s1 * self.s1)
        self.lower, self.upper = lower[:3], upper[:3]
        self.bounds = [float(v) for v in (*lower[:3], *upper[:3])]
        self.faces = _faces(tuple(self.bounds[:3]), tuple(self.bounds[3:]))

    def linear(self, wphi: NDArray) -> tuple[list[float], list[bool]]:
        """Bounded least-squares (m, b, A) under the weighted Gaussian ``wphi``; which are bound.

        With (m, b) free the best bounded ``A`` is the unconstrained one clipped (χ² is
        quadratic in ``A`` once the line is solved, :func:`gaussian_on_line`); that is
        exact unless the line under it breaks its own bounds, then :func:`_box_lstsq`.
        """
        s0, s1, s2, y0, y1, det = self.s0, self.s1, self.s2, self.y0, self.y1, self.det
        g0, g1 = float(self.w @ wphi), float(self.wt @ wphi)
        gy, gg = float(self.wy @ wphi), float(wphi @ wphi)
        gy_perp = gy - (g0 * (s2 * y0 - s1 * y1) + g1 * (s0 * y1 - s1 * y0)) / det
        gg_perp = gg - (g0 * (s2 * g0 - s1 * g1) + g1 * (s0 * g1 - s1 * g0)) / det
        m_lo, b_lo, a_lo, m_hi, b_hi, a_hi = self.bounds
        amp = gy_perp / gg_perp if gg_perp > 0 else a_lo
        amp_fixed = not a_lo < amp < a_hi
        amp = min(max(amp, a_lo), a_hi)
        r0, r1 = y0 - amp * g0, y1 - amp * g1
        m, b = (s0 * r1 - s1 * r0) / det, (s2 * r0 - s1 * r1) / det
        if m_lo <= m <= m_hi and b_lo <= b <= b_hi:
            return [m, b, amp], [False, False, amp_fixed]
        gram = np.array([[s2, s1, g1], [s1, s0, g0], [g1, g0, gg]])
        beta, fixed = _box_lstsq(gram, np.array([y1, y0, gy]), self.lower, self.upper, self.faces)
        return beta.tolist(), fixed.tolist()


def _reduced(
    hess: list[list[float]], grad: list[float], pivots: list[int], keep: list[int]
) -> tuple[list[list[float]], list[float]]:
    """Hessian and gradient of the ``keep`` parameters with the ``pivots`` eliminated.

    Gaussian elimination (the Schur complement of the pivots' block); a pivot
    whose column lies in the span of the earlier ones (relative size below
    :data:`RIDGE`) is skipped.
    """
    h = [row[:] for row in hess]
    g = grad[:]
    for i, k in enumerate(pivots):
        hkk = h[k][k]
        if not hkk > RIDGE * hess[k][k]:
            continue
        for r in (*pivots[i + 1 :], *keep):
            f = h[r][k] / hkk
            if f:
                row_r, row_k = h[r], h[k]
                for c in (*pivots[i + 1 :], *keep):
                    row_r[c] -= f * row_k[c]
                g[r] -= f * g[k]
    return [[h[r][c] for c in keep] for r in keep], [g[r] for r in keep]


def _damped_step(
    h: list[list[float]], g: list[float], scale: list[float], damping: float
) -> list[float] | None:
    """``−(H + damping·diag(scale²))⁻¹ g`` for one or two parameters.

    ``scale`` (> 0) makes the damping scale-free (Marquardt). None when the damped
    matrix is not positive definite (the exact Hessian far from a minimum): more
    damping is needed.
    """
    hs = [[h[i][j] / (scale[i] * scale[j]) for j in range(len(g))] for i in range(len(g))]
    gs = [g[i] / scale[i] for i in range(len(g))]
    a = hs[0][0] + damping + RIDGE
    if len(g) == 1:
        return [-gs[0] / a / scale[0]] if a > 0 else None
    c = hs[1][1] + damping + RIDGE
    r = hs[0][1]
    det = a * c - r * r
    if not (a > 0 and det > 0):
        return None
    return [-(c * gs[0] - r * gs[1]) / det / scale[0], -(a * gs[1] - r * gs[0]) / det / scale[1]]


def _solve(
    t: NDArray, w: NDArray, y: NDArray, lower: NDArray, upper: NDArray, start: tuple[float, float]
) -> _Solution:
    """Bounded least squares of ``w (m t + b + A φ(t − shift; σ) − y)`` by variable projection.

    Parameters
    ----------
    t, w, y : ndarray
        Offsets from the requested centre (km), weights (1/ppm) and XCO2 (ppm).
    lower, upper : ndarray
        Bounds of (m, b, A, σ, shift) (:func:`_bounds`); ``shift`` bounds both 0 fix
        the centre.
    start : tuple of float
        Starting (σ, shift), km (clipped to the bounds).

    Returns
    -------
    _Solution
        The parameters, χ², the Jacobian at the solution and whether it converged.

    Notes
    -----
    At every (σ, shift) the linear parameters are solved exactly within their bounds
    (:meth:`_Window.linear`), so χ² is a function of (σ, shift) alone. Its quadratic
    model is that of the five-parameter problem with the free linear parameters
    eliminated (:func:`_reduced`; the gradient needs no correction as they are
    optimal): with the Gauss–Newton Hessian ``JᵀJ`` while steps still lower χ² by more
    than :data:`NEWTON_SWITCH`, then with the exact one (``JᵀJ + Σ rᵢ∇²rᵢ``, from the
    moments ``Σ r w φ zᵏ``, k ≤ 4, of ``z = (t − shift)/σ``). Levenberg–Marquardt
    steps with Marquardt scaling on that model (:func:`_damped_step`), projected on
    the bounds, with a parameter on its bound held there while the gradient pushes it
    out; the damping follows the gain ratio (Nielsen's rule). Small algebra in Python
    floats: only the window's vectors go through numpy.
    """
    n = t.size
    n_par = 4 if lower[4] == upper[4] else 5
    nl = list(range(3, n_par))
    lo_nl = [float(v) for v in lower[3:n_par]]
    hi_nl = [float(v) for v in upper[3:n_par]]
    win = _Window(t, w, y, lower, upper)
    norm = 1.0 / SQRT_2PI

    def evaluate(
        q: list[float],
    ) -> tuple[float, list[float], list[bool], NDArray, NDArray, NDArray, NDArray]:
        """χ², linear solution, its bound mask, residuals, z = (t − shift)/σ, w·φ and z² at q."""
        z = (t - q[1]) / q[0] if n_par == 5 else t / q[0]
        zz = z * z
        # −0.5·z·z exactly (a power-of-two factor commutes with rounding).
        wphi = np.multiply(zz, -0.5)
        np.exp(wphi, out=wphi)
        wphi *= w
        wphi *= norm / q[0]
        beta, fixed = win.linear(wphi)
        resid = beta[0] * win.wt
        resid += beta[1] * w
        resid += beta[2] * wphi
        resid -= win.wy
        return float(resid @ resid), beta, fixed, resid, z, wphi, zz

    q = [min(max(float(v), lo), hi) for v, lo, hi in zip(start, lo_nl, hi_nl, strict=False)]
    chi2, beta, fixed, resid, z, wphi, zz = evaluate(q)
    evaluations, damping, growth = 1, DAMPING_START, 2.0
    jac = np.empty((n_par, n))
    jac[0], jac[1] = win.wt, w
    success, message, negligible = False, "", False
    use_newton = False
    while True:
        jac[2] = wphi
        sigma = q[0]
        a_over_s = beta[2] / sigma
        np.multiply(wphi, zz - 1.0, out=jac[3])
        jac[3] *= a_over_s
        if n_par == 5:
            np.multiply(wphi, z, out=jac[4])
            jac[4] *= a_over_s
        if negligible:
            success, message = True, "converged: the last step moved σ and the centre by < 1e-10 σ"
            break
        hess, grad = (jac @ jac.T).tolist(), (jac @ resid).tolist()
        scale = [math.sqrt(hess[k][k]) for k in nl]
        # Exact Hessian: JᵀJ plus Σ rᵢ∇²rᵢ, from the moments Σ r w φ zᵏ (k = 0..4).
        if use_newton:
            rw = resid * wphi
            rwz2 = rw * zz
            m0, m1, m2 = float(rw.sum()), float(rw @ z), float(rwz2.sum())
            inv_s, a_s2 = 1.0 / sigma, beta[2] / (sigma * sigma)
            hess[2][3] += (m2 - m0) * inv_s
            hess[3][2] = hess[2][3]
            hess[3][3] += a_s2 * (float(rwz2 @ zz) - 5.0 * m2 + 2.0 * m0)
            if n_par == 5:
                hess[2][4] += m1 * inv_s
                hess[4][2] = hess[2][4]
                hess[3][4] += a_s2 * (float(rwz2 @ z) - 3.0 * m1)
                hess[4][3] = hess[3][4]
                hess[4][4] += a_s2 * (m2 - m0)
        pivots = [k for k in range(3) if not fixed[k]]
        h_red, g_red = _reduced(hess, grad, pivots, nl)
        # A nonlinear parameter on its bound with the gradient pushing it out is held;
        # one without influence on χ² (A = 0: no Gaussian) too.
        free = [
            i
            for i in range(n_par - 3)
            if scale[i] > 0
            and not ((q[i] <= lo_nl[i] and g_red[i] > 0) or (q[i] >= hi_nl[i] and g_red[i] < 0))
        ]
        h_red = [[h_red[i][j] for j in free] for i in free]
        g_red = [g_red[i] for i in free]
        scale = [scale[i] for i in free]
        newton = _damped_step(h_red, g_red, scale, 0.0) if free else None
        if not free or (
            newton is not None
            and -sum(a * b for a, b in zip(g_red, newton, strict=True)) <= FIT_RTOL * chi2
        ):
            success, message = True, NEWTON_CONVERGED
            break
        accepted = False
        while not accepted and damping <= DAMPING_MAX and evaluations < MAX_EVALUATIONS:
            delta = _damped_step(h_red, g_red, scale, damping)
            if delta is not None:
                trial = q[:]
                for i, d in zip(free, delta, strict=True):
                    trial[i] = min(max(q[i] + d, lo_nl[i]), hi_nl[i])
                step = [trial[i] - q[i] for i in free]
                h_step = [sum(a * b for a, b in zip(row, step, strict=True)) for row in h_red]
                predicted = -sum(
                    d * (2.0 * g + hd) for d, g, hd in zip(step, g_red, h_step, strict=True)
                )
                if predicted > 0:
                    out = evaluate(trial)
                    evaluations += 1
                    if out[0] < chi2:
                        gain = (chi2 - out[0]) / predicted
                        use_newton = use_newton or (chi2 - out[0]) <= NEWTON_SWITCH * chi2
                        damping *= max(1.0 / 3.0, 1.0 - (2.0 * gain - 1.0) ** 3)
                        growth = 2.0
                        negligible = all(abs(v) <= STEP_RTOL * trial[0] for v in step)
                        q, (chi2, beta, fixed, resid, z, wphi, zz) = trial, out
                        accepted = True
                        continue
            damping = max(damping, RIDGE) * growth
            growth *= 2.0
        if not accepted:
            if damping > DAMPING_MAX:
                success, message = True, "converged: no step lowers χ² any more"
            else:
                message = f"no convergence within {MAX_EVALUATIONS} evaluations of χ²"
            break
    params = np.array([*beta, *q, *([0.0] * (5 - n_par))])
    return _Solution(params, chi2, jac.T, success, message, win.line_chi2)


def _line_chi2(t: NDArray, w: NDArray, y: NDArray) -> float:
    """Weighted χ² of the best unbounded line ``m t + b`` through ``y``."""
    wt, wy = w * t, w * y
    s0, s1, s2 = float(w @ w), float(w @ wt), float(wt @ wt)
    y0, y1 = float(w @ wy), float(wt @ wy)
    return float(wy @ wy) - (y0 * (s2 * y0 - s1 * y1) + y1 * (s0 * y1 - s1 * y0)) / (
        s0 * s2 - s1 * s1
    )


def _covariance(jac: NDArray) -> NDArray:
    """``(JᵀJ)⁻¹`` by SVD of R (``J = QR``: J's V and singular values); NaN if singular."""
    if not np.isfinite(jac).all():
        return np.full((jac.shape[1], jac.shape[1]), np.nan)
    r = np.linalg.qr(jac, mode="r") if jac.shape[0] > jac.shape[1] else jac
    _, sv, vt = np.linalg.svd(r, full_matrices=False)
    if sv.size == 0 or sv[-1] <= np.finfo(float).eps * max(jac.shape) * sv[0]:
        return np.full((jac.shape[1], jac.shape[1]), np.nan)
    return (vt.T / sv**2) @ vt


def _check(value: Any, limit: Any, ok: bool) -> tuple[Any, Any, bool]:
    return (value, limit, bool(ok) if limit is not None else True)


def fit_window(
    distance_km: ArrayLike,
    xco2: ArrayLike,
    center_km: float,
    config: FitConfig = FitConfig(),  # noqa: B008 (frozen, immutable)
    uncertainty: ArrayLike | None = None,
    sigma_start_km: float | None = None,
    extra_params: int = 0,
    error_km: ArrayLike | None = None,
    noise: NoiseModel | None = None,
    diagnostics: ArrayLike | None = None,
) -> FitResult:
    """Fit a Gaussian on a linear background to the window around ``center_km``.

    Parameters
    ----------
    distance_km : array_like
        Along-track position of each sounding, km (absolute ``distance_km``).
    xco2 : array_like
        XCO2 of each sounding, ppm.
    center_km : float
        Requested centre, km; the window is ``center_km ± config.half_width_km``
        and the Gaussian centre may move by ``config.center_shift_max_km``.
    config : FitConfig
        Bounds and thresholds.
    uncertainty : array_like, optional
        1-σ XCO2 uncertainty of each sounding, ppm (weights ``1/u²``); equal
        weights when omitted.
    sigma_start_km : float, optional
        Start the nonlinear fit from this width at ``center_km`` (a *local*
        refinement, as :mod:`oco2explore.scan` does for its candidates) instead
        of from the best point of the global (σ, shift) grid, km.
    extra_params : int
        Parameters already fitted to these data and removed from ``xco2``
        (e.g. 3 per neighbouring plume subtracted by :mod:`oco2explore.scan`):
        they reduce the degrees of freedom of the reduced χ².
    error_km : array_like, optional
        Along-track position of each sounding for the correlated error of
        ``config.error_correlation_ppm``, km (default ``distance_km``; the scan
        fits along the wind-aligned coordinate while the error follows the frames).
    noise : NoiseModel, optional
        Error covariance of the orbit (:func:`oco2explore.noise.estimate_noise`) for
        the significance, replacing ``config.error_correlation_ppm``; with
        uncertainties it keeps their relative weights.
    diagnostics : array_like, shape (n, k), optional
        Retrieval diagnostics of each sounding (albedo, aerosol, altitude, ...) for
        ``config.artefact_check``; columns with non-finite values in the window or
        without variation there are not used.

    Returns
    -------
    FitResult
        Parameters, errors, statistics and threshold checks. Never raises for bad
        data: ``success`` is False and ``message`` says why.

    Examples
    --------
    >>> x = np.linspace(-100, 100, 801)
    >>> y = 400 + 0.01 * x + gaussian(x - 3, 60.0, 8.0)
    >>> res = fit_window(x, y, 0.0)
    >>> round(res.delta_ppm, 2), round(res.sigma_km, 2), round(res.center_km, 2)
    (2.99, 8.0, 3.0)
    """
    return fit_solution(
        distance_km,
        xco2,
        center_km,
        config,
        uncertainty,
        sigma_start_km,
        extra_params,
        error_km,
        noise,
        diagnostics,
    ).result()


class FitSolution:
    """A window's bounded least-squares solution, before its statistics and checks.

    :func:`fit_solution` solves the window; :meth:`result` completes the fit
    (covariance, significance, R², support, checks: :func:`fit_window`'s result) on
    the first call and keeps it. A caller that only needs where the fit went (the
    scan's window following the fitted centre, :func:`oco2explore.scan.fit_at`) reads
    :attr:`found`, :attr:`center_km` and :attr:`sigma_km` and skips the statistics of
    the windows it leaves.
    """

    def __init__(self, done: FitResult | None = None, stage: _Stage | None = None):
        self._done = done
        self._stage = stage

    @property
    def found(self) -> bool:
        """Converged with the area above its lower bound (``amplitude_min`` check passed)."""
        if self._done is not None:
            fit = self._done
            return fit.success and bool(fit.checks.get("amplitude_min", (None, None, False))[2])
        stage = self._stage
        return stage.sol.success and not _amplitude_at_floor(
            float(stage.sol.params[2]), stage.config
        )

    @property
    def stationary(self) -> bool:
        """Converged at an interior stationary point of χ², so a fit started there stays.

        The Newton criterion met (:data:`NEWTON_CONVERGED`), with the slope, the area, σ
        and the centre strictly inside their bounds (and no intercept bounds, which are
        set at the window's centre), and a well-determined minimum: the criterion puts σ
        and the centre within :data:`STATIONARY_TOLERANCE` × σ of the exact minimum (not
        so for a degenerate fit, a Gaussian on one or two soundings). False for a failed
        or completed solution.
        """
        stage = self._stage
        if stage is None:
            return False
        config, sol = stage.config, stage.sol
        m, _, amp, sig, shift = (float(v) for v in sol.params)
        interior = (
            sol.success
            and sol.message == NEWTON_CONVERGED
            and config.intercept_min is None
            and config.intercept_max is None
            and (config.slope_max is None or abs(m) < config.slope_max)
            and config.amplitude_min < amp < config.amplitude_max
            and config.sigma_min_km < sig < config.sigma_max_km
            and abs(shift) < config.center_shift_max_km
        )
        if not interior:
            return False
        if stage.cov is None:
            stage.cov = _covariance(sol.jac)
        bound = FIT_RTOL * sol.chi2 * np.diag(stage.cov)[3:]
        return bool(np.all(bound <= (STATIONARY_TOLERANCE * sig) ** 2))

    @property
    def center_km(self) -> float:
        """Fitted centre, km (the requested one when the fit failed)."""
        if self._done is not None:
            return self._done.center_km
        return self._stage.center + float(self._stage.sol.params[4])

    @property
    def sigma_km(self) -> float:
        """Fitted width σ, km (NaN when the fit failed)."""
        if self._done is not None:
            return self._done.sigma_km
        return float(self._stage.sol.params[3])

    def result(self) -> FitResult:
        """The complete fit, as :func:`fit_window` returns it (computed once)."""
        if self._done is None:
            stage = self._stage
            try:
                with np.errstate(all="ignore"):
                    self._done = _fit_statistics(stage)
            except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
                self._done = _failed(
                    stage.before, f"numerical failure: {type(exc).__name__}: {exc}"
                )
            self._stage = None
        return self._done


def fit_solution(
    distance_km: ArrayLike,
    xco2: ArrayLike,
    center_km: float,
    config: FitConfig = FitConfig(),  # noqa: B008 (frozen, immutable)
    uncertainty: ArrayLike | None = None,
    sigma_start_km: float | None = None,
    extra_params: int = 0,
    error_km: ArrayLike | None = None,
    noise: NoiseModel | None = None,
    diagnostics: ArrayLike | None = None,
) -> FitSolution:
    """:func:`fit_window`'s solution of the window, its statistics left for later.

    The same arguments; ``fit_solution(...).result()`` is ``fit_window(...)``. Never
    raises for bad data (the solution then holds the failed fit).
    """
    result = FitResult()
    try:
        x = np.asarray(distance_km, dtype=float).ravel()
        y = np.asarray(xco2, dtype=float).ravel()
        u = None if uncertainty is None else np.asarray(uncertainty, dtype=float).ravel()
        e = x if error_km is None else np.asarray(error_km, dtype=float).ravel()
        d = (
            None
            if diagnostics is None
            else np.asarray(diagnostics, dtype=float).reshape(x.size, -1)
        )
        center = float(center_km)
        sigma_start = None if sigma_start_km is None else float(sigma_start_km)
    except (TypeError, ValueError) as exc:
        return FitSolution(_failed(result, f"inputs are not numeric: {exc}"))
    if x.shape != y.shape or (u is not None and u.shape != x.shape) or e.shape != x.shape:
        return FitSolution(
            _failed(result, "distance_km, xco2, uncertainty and error_km differ in length")
        )
    if not math.isfinite(center):
        return FitSolution(_failed(result, "centre is not finite"))
    if sigma_start is not None and not math.isfinite(sigma_start):
        return FitSolution(_failed(result, "sigma_start_km is not finite"))

    half = config.half_width_km
    result.window_km = (center - half, center + half)
    with np.errstate(all="ignore"):
        ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(e) & (np.abs(x - center) <= half)
        if u is not None:
            ok &= np.isfinite(u) & (u > 0)
        n = int(ok.sum())
        result.n_soundings = n
        result.center_km = center
        min_n = config.min_soundings
        result.checks["min_soundings"] = _check(n, min_n, min_n is None or n >= min_n)
        # A window with every sounding usable (the scan's) is taken as it is: no copies.
        keep = slice(None) if n == x.size else ok
        t = x[keep] - center
        y_ok = y[keep]
        w = np.ones(n) if u is None else 1.0 / u[keep]
    if n < MIN_POINTS:
        return FitSolution(_failed(result, f"too few soundings in the window ({n} < {MIN_POINTS})"))
    if np.ptp(t) <= 0:
        return FitSolution(_failed(result, "all soundings of the window are at the same distance"))

    before = FitResult(
        n_soundings=n, center_km=center, window_km=result.window_km, checks=dict(result.checks)
    )
    try:
        with np.errstate(all="ignore"):
            stage = _solve_window(
                result,
                t,
                w,
                y_ok,
                center,
                config,
                weighted=u is not None,
                sigma_start_km=sigma_start,
                extra_params=extra_params,
                error_km=e[keep],
                noise=noise,
                diagnostics=None if d is None else d[keep],
                before=before,
            )
    except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
        # Values at the edge of the floating-point range (e.g. an error_correlation_ppm
        # whose square overflows): the window cannot be fitted, the caller goes on.
        return FitSolution(_failed(before, f"numerical failure: {type(exc).__name__}: {exc}"))
    if isinstance(stage, FitResult):
        return FitSolution(stage)
    return FitSolution(stage=stage)


@dataclass
class _Stage:
    """A solved window (:func:`_solve_window`) waiting for its statistics."""

    result: FitResult
    before: FitResult
    t: NDArray
    w: NDArray
    wr: NDArray
    yr: NDArray
    w_scale: float
    y_ref: float
    center: float
    config: FitConfig
    weighted: bool
    extra_params: int
    error_km: NDArray | None
    noise: NoiseModel | None
    diagnostics: NDArray | None
    sol: _Solution
    #: ``(JᵀJ)⁻¹`` at the solution (:func:`_covariance`), once computed.
    cov: NDArray | None = None


def _solve_window(
    result: FitResult,
    t: NDArray,
    w: NDArray,
    y_ok: NDArray,
    center: float,
    config: FitConfig,
    weighted: bool,
    sigma_start_km: float | None = None,
    extra_params: int = 0,
    error_km: NDArray | None = None,
    noise: NoiseModel | None = None,
    diagnostics: NDArray | None = None,
    before: FitResult | None = None,
) -> _Stage | FitResult:
    """The solution on a cleaned window (offsets ``t`` from ``center``, km); a failed fit."""
    n = t.size
    w2_sum = float((w * w).sum())
    if not 0.0 < w2_sum < math.inf:
        return _failed(
            result, "uncertainty values out of range: their weights 1/u² vanish or overflow"
        )
    # The fit works with relative weights (mean square 1), which it does not depend on,
    # so that extreme uncertainties neither underflow nor overflow in its sums; and
    # relative to the window mean, so that the intercept is well conditioned.
    w_scale = math.sqrt(w2_sum / n)
    wr = w / w_scale
    y_ref = float((wr * wr * y_ok).sum() / (wr * wr).sum())
    yr = y_ok - y_ref
    if not (math.isfinite(y_ref) and np.isfinite(yr @ yr)):
        return _failed(result, "xco2 or uncertainty values too large to fit")
    lower, upper = _bounds(config, y_ref)
    sol = _solve(t, wr, yr, lower, upper, _start(t, wr, yr, config, sigma_start_km))
    return _Stage(
        result,
        result if before is None else before,
        t,
        w,
        wr,
        yr,
        w_scale,
        y_ref,
        center,
        config,
        weighted,
        extra_params,
        error_km,
        noise,
        diagnostics,
        sol,
    )


def _fit_statistics(stage: _Stage) -> FitResult:
    """Errors, significance, R², support and checks of a solved window: the complete fit."""
    result, t, w, wr, yr = stage.result, stage.t, stage.w, stage.wr, stage.yr
    w_scale, y_ref, center, config = stage.w_scale, stage.y_ref, stage.center, stage.config
    weighted, extra_params, error_km = stage.weighted, stage.extra_params, stage.error_km
    noise, diagnostics, sol = stage.noise, stage.diagnostics, stage.sol
    n = t.size
    fixed_center = config.center_shift_max_km == 0
    m, b0, amp, sig, shift = (float(v) for v in sol.params)
    chi2 = sol.chi2
    dof = n - sol.jac.shape[1] - extra_params
    chi2_red = chi2 / dof if dof > 0 else math.nan

    cov = _covariance(sol.jac) if stage.cov is None else stage.cov
    # Absolute uncertainties: (JᵀJ)⁻¹ with the true weights; else scaled by the scatter.
    cov = cov / w_scale / w_scale if weighted else cov * chi2_red
    err = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    result.center_km_err = 0.0 if fixed_center else float(err[4])
    d_delta = np.array([1.0 / (sig * SQRT_2PI), -amp / (sig * sig * SQRT_2PI)])
    delta_var = float(d_delta @ cov[2:4, 2:4] @ d_delta)

    result.slope = m
    result.intercept = b0 + m * shift + y_ref
    result.amplitude = amp
    result.sigma_km = sig
    result.delta_ppm = amp / (sig * SQRT_2PI)
    result.amplitude_err = float(err[2])
    result.sigma_km_err = float(err[3])
    result.delta_ppm_err = math.sqrt(delta_var) if delta_var >= 0 else math.nan
    result.center_km = center + shift

    line_chi2 = sol.line_chi2 if math.isfinite(sol.line_chi2) else _line_chi2(t, wr, yr)
    delta_chi2 = max(line_chi2 - chi2, 0.0)
    result.significance = delta_chi2 / chi2_red if chi2_red > 0 else 0.0
    gls = (noise is not None or config.error_correlation_ppm is not None) and dof > 0
    if gls and error_km is not None:
        result.significance = _gls_significance(
            t, yr, w, weighted, error_km, amp, sig, shift, chi2_red, dof, config, noise
        )

    uc = t - shift
    # The scan's windows come sorted (uc ascending): every interval of the statistics is
    # then a slice, found by one search (the same soundings as the masks select).
    cuts = _sorted_cuts(uc, sig)
    if cuts is None:
        inner = np.abs(uc) <= 4.0 * sig
        yi, ti, ui = yr[inner], t[inner], uc[inner]
    else:
        inner = slice(cuts[0], cuts[5])
        yi, ti, ui = yr[inner], t[inner], uc[inner]
    mi = m * ti + b0 + gaussian(ui, amp, sig)
    yc = yi - yi.mean() if yi.size else yi
    ss_tot = float(yc @ yc)
    if yi.size > 2 and ss_tot > 0:
        res_i = yi - mi
        result.r2 = 1.0 - float(res_i @ res_i) / ss_tot
        if np.ptp(mi) > 0:
            mc = mi - mi.mean()
            result.r = float(yc @ mc) / math.sqrt(ss_tot * float(mc @ mc))
    if cuts is None:
        near = np.abs(uc) <= 2.0 * sig
        result.n_left = int(np.count_nonzero(near & (uc < 0)))
        result.n_right = int(np.count_nonzero(near & (uc > 0)))
        left, right, outer_left, outer_right = (
            _support(uc, lo * sig, hi * sig, config.support_km) for lo, hi in SUPPORT_INTERVALS
        )
    else:
        result.n_left, result.n_right = cuts[2] - cuts[1], cuts[7] - cuts[6]
        left, right, outer_left, outer_right = (
            _support_sorted(uc, cuts[a], cuts[b], lo * sig, hi * sig, config.support_km)
            for (lo, hi), (a, b) in zip(SUPPORT_INTERVALS, _SUPPORT_CUTS, strict=True)
        )
    result.support = min(left, right, max(outer_left, outer_right))
    result.success = sol.success
    result.message = sol.message
    if config.min_positions is not None:
        if cuts is None:
            result.checks["min_positions"] = _positions_check(uc, sig, config.min_positions)
        else:
            count = _distinct_sorted(uc[cuts[3] : cuts[8]] / POSITION_RESOLUTION_KM)
            needed = config.min_positions
            result.checks["min_positions"] = (count, needed, count >= needed)
    result = _judge(result, config)
    if config.artefact_check and result.passed and diagnostics is not None and dof > 0:
        explained = _significance_given(
            t,
            yr,
            w,
            weighted,
            error_km if error_km is not None else t,
            sig,
            shift,
            diagnostics,
            dof,
            config,
            noise,
            chi2_red,
        )
        lim = config.significance_limit(sig)
        ok = explained is None or lim is None or explained >= lim
        result.checks["artefact"] = (explained if explained is not None else math.nan, lim, ok)
        if not ok:
            result.passed = False
            result.reject_reason = "artefact"
    return result


#: Slices of the support intervals (:data:`SUPPORT_INTERVALS`) in :func:`_sorted_cuts`.
_SUPPORT_CUTS = ((1, 6), (2, 7), (0, 9), (4, 5))


def _sorted_cuts(uc: NDArray, sigma: float) -> NDArray | None:
    """Where the statistics' intervals start and end in ascending offsets ``uc``; None if not.

    With ``s = sigma`` (km) and ``h = HALF_MAXIMUM·s``: indices 0–4 are the first ``uc ≥
    v`` for ``v`` = −4s, −2s, 0, −h, 2s; 5–9 the first ``uc > v`` for 4s, 0, 2s, h, −2s.
    So ``[−4s, 4s]`` is ``uc[c0:c5]``, ``[−2s, 0)`` ``uc[c1:c2]``, ``(0, 2s]``
    ``uc[c6:c7]``, ``[−h, h]`` ``uc[c3:c8]`` and the support intervals
    :data:`_SUPPORT_CUTS`: the soundings the masks of :func:`_fit_statistics` select,
    in the same order. None when ``uc`` is not ascending or ``sigma`` is not finite.
    """
    if uc.size == 0 or not (math.isfinite(sigma) and bool(np.all(uc[1:] >= uc[:-1]))):
        return None
    h = HALF_MAXIMUM * sigma
    left = np.searchsorted(uc, [-4.0 * sigma, -2.0 * sigma, 0.0, -h, 2.0 * sigma])
    right = np.searchsorted(uc, [4.0 * sigma, 0.0, 2.0 * sigma, h, -2.0 * sigma], side="right")
    return np.concatenate([left, right]).tolist()


def _support_sorted(
    u: NDArray, start: int, stop: int, lo: float, hi: float, cell_km: float | None
) -> int:
    """:func:`_support` of ``[lo, hi]`` (km) when its soundings are ``u[start:stop]``, ascending."""
    size = stop - start
    if cell_km is None or size < 2 or hi - lo < 2.0 * cell_km:
        return int(size)
    return int(size) if math.floor(u[start] / cell_km) < math.floor(u[stop - 1] / cell_km) else 1


def _distinct_sorted(v: NDArray) -> int:
    """Distinct values of ``np.round(v)`` for ascending ``v`` (``np.unique(...).size``)."""
    if v.size == 0:
        return 0
    r = np.round(v)
    return 1 + int(np.count_nonzero(r[1:] != r[:-1]))


def _positions_check(uc: NDArray, sigma: float, needed: int) -> tuple[int, int, bool]:
    """Distinct positions (fit coordinate) where the fitted Gaussian is above half its peak.

    ``|t − centre| ≤ 1.1774σ`` (half the full width at half maximum); positions
    closer than :data:`POSITION_RESOLUTION_KM` count once. Without the wind the 8
    footprints of a frame share a position, so a bump carried by one frame or one
    sounding has one; along the wind-aligned coordinate an oblique plume spreads the
    footprints of each frame.
    """
    pos = np.round(uc[np.abs(uc) <= HALF_MAXIMUM * sigma] / POSITION_RESOLUTION_KM)
    count = int(np.unique(pos).size)
    return count, needed, count >= needed


def _white_variance(
    w: NDArray, weighted: bool, chi2_red: float, config: FitConfig, noise: NoiseModel | None
) -> NDArray:
    """Independent error variance of each sounding for the GLS statistics, ppm²."""
    if noise is not None:
        return noise.white_var(1.0 / w if weighted else None, size=w.size)
    rms = float(config.error_correlation_ppm or 0.0)
    if weighted:
        return 1.0 / (w * w)
    scatter = chi2_red  # unweighted: the residual variance, ppm²
    return np.full(w.size, max(scatter - rms * rms, 0.25 * scatter, 1e-12))


def _gls(
    design: NDArray,
    y: NDArray,
    white: NDArray,
    error_km: NDArray,
    config: FitConfig,
    noise: NoiseModel | None,
) -> tuple[NDArray, NDArray]:
    """GLS χ² under the orbit's noise model, or the fixed correlated error of ``config``."""
    if noise is not None:
        return noise_gls_chi2(design, y, white, error_km, noise.scales, noise.smooth)
    rms = float(config.error_correlation_ppm or 0.0)
    return gls_chi2(design, y, white, error_km, rms, config.error_correlation_km)


def _significance_given(
    t: NDArray,
    y: NDArray,
    w: NDArray,
    weighted: bool,
    error_km: NDArray,
    sigma: float,
    shift: float,
    diagnostics: NDArray,
    dof: int,
    config: FitConfig,
    noise: NoiseModel | None,
    chi2_red: float,
) -> float | None:
    """Significance of the Gaussian when the diagnostics are fitted with it (artefact check).

    The design is the line, a linear term in each usable diagnostic (finite in the
    whole window, varying there; standardised) and the Gaussian of the fitted width
    and centre; the statistic is its GLS Δχ² over the reduced χ², as
    :func:`_gls_significance`. None when no diagnostic is usable; 0 when the
    Gaussian's area given the diagnostics is not positive.
    """
    d = diagnostics
    finite = np.all(np.isfinite(d), axis=0)
    d = d[:, finite]
    if d.size:
        spread = d.std(axis=0)
        d = (d[:, spread > 0] - d[:, spread > 0].mean(axis=0)) / spread[spread > 0]
    k = d.shape[1] if d.ndim == 2 else 0
    if k == 0 or dof - k <= 0:
        return None
    white = _white_variance(w, weighted, chi2_red, config, noise)
    g = gaussian(t - shift, 1.0, sigma)
    design = np.column_stack([t, np.ones_like(t), d, g])
    try:
        chi2, beta = _gls(design, y, white, error_km, config, noise)
    except (np.linalg.LinAlgError, ValueError):
        return None
    if not beta[-1] > 0:
        return 0.0
    without, with_g = chi2[k + 2], chi2[k + 3]
    return float(max(without - with_g, 0.0) / (max(with_g, 1e-12 * chi2[0]) / (dof - k)))


def _gls_significance(
    t: NDArray,
    y: NDArray,
    w: NDArray,
    weighted: bool,
    error_km: NDArray,
    amplitude: float,
    sigma: float,
    shift: float,
    chi2_red: float,
    dof: int,
    config: FitConfig,
    noise: NoiseModel | None = None,
) -> float:
    """Δχ² of line + the fitted Gaussian against line alone under correlated errors.

    Generalised least squares with the fitted width and centre, over the GLS
    reduced χ²: under the orbit's ``noise`` model when given
    (:func:`oco2explore.noise.gls_chi2`), else under the fixed correlated error of
    ``config`` (:func:`gls_chi2`). The independent variance is the noise model's,
    or ``1/w²`` with uncertainties, else the window's scatter less the correlated
    variance (at least a quarter of the scatter). 0 when the GLS area is not positive.
    """
    white = _white_variance(w, weighted, chi2_red, config, noise)
    design = np.column_stack([t, np.ones_like(t), gaussian(t - shift, 1.0, sigma)])
    try:
        chi2, beta = _gls(design, y, white, error_km, config, noise)
    except (np.linalg.LinAlgError, ValueError):
        return 0.0
    if not (amplitude > 0 and beta[2] > 0):
        return 0.0
    # A perfect fit (noiseless data) leaves no χ²: floor it as the white statistic does.
    return float(max(chi2[2] - chi2[3], 0.0) / (max(chi2[3], 1e-12 * chi2[0]) / dof))


def _failed(result: FitResult, message: str) -> FitResult:
    log.debug("fit failed: %s", message)
    result.message = message
    result.checks["fit"] = (False, True, False)
    result.passed = False
    result.reject_reason = "fit"
    return result


def unresolved_factor(config: FitConfig) -> float:
    """Multiple of the threshold a fit with σ stuck on ``sigma_min_km`` needs to pass.

    :data:`UNRESOLVED_SIGNIFICANCE_FACTOR_GLS` with a correlated-error statistic
    (``config.error_correlation_ppm`` set, or ``config.noise_estimated``), else
    :data:`UNRESOLVED_SIGNIFICANCE_FACTOR`.
    """
    if config.error_correlation_ppm is not None or config.noise_estimated:
        return UNRESOLVED_SIGNIFICANCE_FACTOR_GLS
    return UNRESOLVED_SIGNIFICANCE_FACTOR


def _support(u: NDArray, lo: float, hi: float, cell_km: float | None) -> int:
    """Support of ``[lo, hi]`` (km from the centre; :attr:`FitConfig.support_km`).

    Its soundings; with ``cell_km``, soundings that all lie in one ``cell_km`` cell (from
    the centre) of an interval spanning two or more count once: one frame's footprints
    at the edge of a cloud gap are one sample of the frame's shared error.
    """
    inside = u[(u >= lo) & (u <= hi)]
    if cell_km is None or inside.size < 2 or hi - lo < 2.0 * cell_km:
        return int(inside.size)
    cells = np.floor(inside / cell_km)
    return int(inside.size) if cells.min() < cells.max() else 1


def _amplitude_at_floor(amplitude: float, config: FitConfig) -> bool:
    """The area (ppm·km) on its lower bound: no enhancement found (``amplitude_min``)."""
    return amplitude <= config.amplitude_min + BOUND_TOLERANCE * abs(
        config.amplitude_max - config.amplitude_min
    )


def _judge(result: FitResult, config: FitConfig) -> FitResult:
    """Fill ``checks``, ``passed`` and ``reject_reason`` from the thresholds."""
    checks = result.checks
    checks["fit"] = (result.success, True, result.success)
    at_floor = _amplitude_at_floor(result.amplitude, config)
    checks["amplitude_min"] = (result.amplitude, config.amplitude_min, not at_floor)
    # σ stuck on a bound: the best Gaussian is narrower (the seed's "too narrow") or
    # broader (its "too large") than allowed. An unresolved narrow one is kept when
    # above the significance threshold (see unresolved_factor).
    at_floor = result.sigma_km <= config.sigma_min_km * (1.0 + BOUND_TOLERANCE)
    lim = config.significance_limit(config.sigma_min_km)
    unresolved_ok = lim is not None and result.significance >= unresolved_factor(config) * lim
    checks["sigma_min_km"] = (
        result.sigma_km,
        config.sigma_min_km,
        not at_floor or unresolved_ok,
    )
    at_ceiling = result.sigma_km >= config.sigma_max_km * (1.0 - BOUND_TOLERANCE)
    checks["sigma_max_km"] = (result.sigma_km, config.sigma_max_km, not at_ceiling)
    lim = config.support_limit(result.sigma_km)
    checks["min_support"] = _check(result.support, lim, lim is None or result.support >= lim)
    lim = config.significance_limit(result.sigma_km)
    checks["significance_min"] = _check(
        result.significance, lim, lim is None or result.significance >= lim
    )
    lim = config.r2_min
    checks["r2_min"] = _check(result.r2, lim, lim is None or result.r2 >= lim)
    failed = [name for name, (_v, _l, ok) in checks.items() if not ok]
    failed.sort(key=CHECK_ORDER.index)
    result.passed = not failed
    result.reject_reason = failed[0] if failed else ""
    return result
