"""Find plume-like enhancements along whole orbits: a fit centred at every sounding, fast.

Method
------
1. **Every sounding is a candidate centre.** For a fixed width σ the model
   ``m t + b + A φσ(t)`` is linear in ``(m, b, A)``, so its least-squares
   solution in the window ``|t| ≤ half_width_km`` needs only weighted window sums
   (``Σw²``, ``Σw²t``, ``Σw²t²``, ``Σw²y``, ``Σw²ty``, ``Σw²y²`` and the
   Gaussian-weighted ``Σw²φ``, ``Σw²tφ``, ``Σw²φ²``, ``Σw²φy``). The soundings are
   binned along the track (:data:`BIN_KM`) and every sum, for every centre at
   once, is a correlation of the binned data with a kernel (box, ``t``, ``t²``,
   ``φ``, ``tφ``, ``φ²``), done with real FFTs. A log-spaced σ grid
   (:data:`N_SIGMA` widths within the configured bounds) gives, at every bin
   holding soundings, the bounded best ``A`` and the same significance
   statistic as :func:`oco2explore.fit.fit_window` (Δχ² of Gaussian+line against
   line alone over the reduced χ²), for the width with the largest margin over
   its threshold.
2. **Local maxima, largest margin first.** The *margin* of a candidate is its
   statistic over the prescreen (:data:`PRESCREEN` × the threshold at its
   width), the quantity that chose its width. Local maxima of the margin
   (over the ±⌊sigma_min_km/BIN_KM⌋ neighbouring occupied bins) with margin ≥ 1 are
   refitted in order of decreasing margin with the full bounded fit
   (:func:`oco2explore.fit.fit_window`: free σ and centre), which applies every
   threshold. Maxima of the raw statistic instead would let a broad bump beside
   a narrow plume (a large Δχ² that is still far below its σ-scaled threshold)
   suppress the plume's candidate: on sparse cloudy orbits the neighbouring
   occupied bins are several km apart. With ``FitConfig.scale_space_candidates`` (v2)
   the maxima are taken over centre *and* width (every (bin, width) of the σ grid, its
   neighbouring bins and widths): a narrow plume on the flank of a broad background
   bump, where a broad width has the larger margin at every bin near it, is still a
   candidate at its own width (see :func:`_candidates`). The refit starts *at the
   candidate* (its bin centre and width, ``sigma_start_km``) and converges to the
   nearest least-squares minimum: the candidate search has already chosen the width, and
   a global restart lets the fit slide from a strong narrow plume onto the broad bump of
   a plant cluster (which has the lower χ² but fails R² or its
   threshold) and lose the plume; the broad bump has its own candidate.
   A candidate within ``2·(σ + σ_p)`` of an already passed refit
   belongs to the same plume and is not refitted; one within ``max(σ, σ_r)`` of
   a refit rejected as too weak is not refitted either, unless its own
   candidate statistic reaches the threshold (a broad weak bump must not hide
   strong narrow plumes on it: a power-plant cluster); other rejections hide
   nothing (a cloud gap may spoil one centre and not the next).
   **Nested plumes** (``FitConfig.nested_ratio``, v2): enhancements whose widths differ
   by that ratio or more (4) are separate plumes even where they overlap — a power
   plant's plume (σ 1–5 km) on a city dome (σ 15–40 km). On the data the broad fit
   takes the narrow plume in; on the data less it (the residual searches of step 3) a
   much narrower candidate inside it that reaches its threshold is refitted with the
   broad one subtracted, and each is then subtracted from the other's window, kept by
   the suppression of step 4 and settled apart. A single enhancement of another shape
   (flat-top, skewed, a cusp with heavy tails) stays one peak (tested).
3. **Deblending** (``FitConfig.deblend``, on by default). A 200 km window
   often holds several plumes (a plant cluster, a city and its power plants):
   fitted alone, a plume's window has the others' enhancements in its
   residuals, whose reduced χ² then deflates its significance (a simulated
   Δ = 1.2 ppm plume 30 km from a cluster: significance 17 alone, 183 with its
   neighbours removed). So the refits are *backfitted*: every refit that
   passed, or reached its significance threshold while failing another check
   (:func:`is_component`), is a component; each refit is done again on its
   window less the other components' Gaussians (:func:`_apart`:
   those farther than ``2·(σ_c + σ)`` or nested, nearer ones are the same plume), each
   counted as 3 fitted parameters in the reduced χ², until no verdict changes
   and no area moves by more than :data:`DEBLEND_TOLERANCE`
   (:data:`DEBLEND_PASSES` rounds at most; a refit whose neighbours did not
   change is kept as it is). Then the candidate search runs again on the orbit
   less all components, which reveals plumes whose candidates were buried under
   a neighbour's enhancement: candidates whose margin grew by
   :data:`RESIDUAL_GAIN` (or nested in a component), that reach their threshold
   and lie apart from every component are refitted with the neighbours
   subtracted and backfitted in turn (:data:`RESIDUAL_PASSES` times at most).
4. **Non-maximum suppression.** Refitted centres within ``2·max(σ)`` of each
   other are merged (unless nested), keeping passed peaks first, then the most
   significant, so one plume gives one peak; refits of one enhancement from two
   candidates count as one component.
5. **Settling.** Each enhancement found (area above its lower bound) is
   refitted by :func:`fit_at`, the window fit of the explorer and the
   notebooks, from its own centre and width, the others subtracted, until
   nothing moves (:func:`_settle`): a refit's window was centred on its
   candidate's bin, up to ``center_shift_max_km`` from the fitted centre, so
   the same fit on the window at the fitted centre may differ. The peak table
   is then what :func:`fit_at` gives at each peak with that table (tested on
   every peak of simulated days and of the real orbit 11522); on 5 simulated
   days it moved the passed peaks by < 0.4 % in Δ, σ, significance and
   emission, and the real Highveld peak from σ 29.4 km, Δ 3.78 ppm to σ
   19.7 km, Δ 3.90 ppm (its fit depends on where the window sits).
   Nested plumes that do not settle within :data:`SETTLE_ROUNDS` (the broad
   fit, refitted with the narrow ones subtracted, narrows until they are its
   own plume, and back: the real Highveld pass fitted along the wind) are
   scanned again without nesting: a peak table that is not the window fit's fixed
   point would disagree with the explorer.
6. **Emission** columns from :func:`oco2explore.emission.emissions_at`.

Wind-aligned coordinate (``FitConfig.wind_aligned``, on by default)
---------------------------------------------------------------
``distance_km`` gives every footprint of a frame the frame's distance, but the
8 footprints span ~9 km across the track: a plume crossing the track at an
angle α is seen by a footprint ``c`` km right of the centre line ``c·cot α``
further along, so at α ≈ 35° a 2 km wide plume is smeared over ~13 km with only
a few footprints of each frame enhanced, and its significance drops several-fold
(a simulated Δ = 1.7 ppm, σ = 2 km plume: 7 instead of 44). With the wind in the
table, :func:`wind_aligned_km` moves each sounding by ``−c·cot α`` so the plume
is a single Gaussian of its along-track width again; candidates and refits use
that coordinate, positions and emissions the track itself. It needs positions
and ``windspeed_u_met``/``windspeed_v_met`` (ignored without them) and trusts
the wind direction (``|cot α|`` is capped for winds nearly along the track). On
60 simulated days it raises recall from 0.37 to 0.56 (precision 1.00 and 0.97;
with the real-like correlated error: recall 0.37 to 0.55, precision 0.86 to 0.92),
so it is the default; on the real Highveld pass with its
published wind it finds the same single peak as ``distance_km`` (tested).
``FitConfig(wind_aligned=False)`` scans along ``distance_km`` as the seed did.

Calibration of the significance threshold
-----------------------------------------
The refits' significance is the Δχ² by generalised least squares under the real-like
along-track correlated error (``FitConfig.error_correlation_ppm``, 0.28 ppm over 3.5 km,
measured on the real plume-free stretches of orbit 11522; :func:`oco2explore.fit.gls_chi2`).
Its threshold, 25, was calibrated on plume-free simulated days with that error: ~0.03 false
peaks per 10,000 km of clear track (the white-noise Δχ² needs 50 for ~0.1). Above
``significance_scale_km`` = 3 km the threshold grows in proportion to σ (the undulating
background makes broad bumps reach a high Δχ² more often); fits stuck on ``sigma_min_km``
pass at :func:`oco2explore.fit.unresolved_factor` × the threshold. On the real data the
plume-free stretches stay below 18 and the Highveld plume passes far above it. The
calibration runs, the measured recall ceilings and the variants measured and not adopted
are recorded in ``docs/calibration-history.md``.

Tables without positions
------------------------
:func:`detect` needs only ``distance_km`` and ``xco2``: without ``orbit`` the
table is one orbit (numbered 0); without ``sounding_id`` the centre sounding is
named by its row number in the orbit; without positions or meteorology the
position and emission columns are NaN.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from pandas.api.typing import DataFrameGroupBy
from scipy import fft
from scipy.ndimage import maximum_filter, maximum_filter1d
from tqdm.auto import tqdm

from .config import FitConfig
from .emission import emissions_at
from .errors import SchemaError
from .fit import (
    MIN_POINTS,
    FitResult,
    FitSolution,
    best_amplitude,
    fit_solution,
    gaussian,
    gaussian_on_line,
    line_projection,
)
from .noise import NoiseModel, estimate_noise
from .schema import PEAK_COLUMNS
from .soundings import add_distance_km
from .track import cross_track_km, mean_position, nearest_index, window_slice

log = logging.getLogger(__name__)

#: Retrieval diagnostics the artefact check (``FitConfig.artefact_check``) fits beside the
#: Gaussian, when in the table: band albedos, total aerosol optical depth, surface
#: altitude (bright surfaces, aerosol and terrain bias XCO2 retrievals).
ARTEFACT_COLUMNS = ("albedo_o2a", "albedo_sco2", "aod_total", "altitude")
#: Bin width of the candidate search along the track, km.
BIN_KM = 1.0
#: Number of log-spaced widths σ in the candidate search.
N_SIGMA = 12
#: Candidates whose significance reaches this fraction of ``significance_min`` are refitted.
PRESCREEN = 0.5
#: Prescreen significance when ``significance_min`` is switched off.
PRESCREEN_FLOOR = 10.0
#: Rejections that mark a bump as too weak, so nearby candidates are not refitted.
WEAK_REASONS = ("significance_min", "r2_min")
#: Soundings in the running mean that traces the track's centre line (wind-aligned coordinate).
CENTRE_LINE_SOUNDINGS = 41
#: Largest |cot| of the wind-to-track angle in the wind-aligned coordinate (angle ≥ 18°).
MAX_COT = 3.0
#: Wind-aligned coordinate needs these columns.
WIND_COLUMNS = ("latitude", "longitude", "windspeed_u_met", "windspeed_v_met")
#: Rounds of backfitting: every refit again with the other enhancements subtracted.
DEBLEND_PASSES = 3
#: Backfitting stops when no verdict changes and no area A moves by more than this fraction.
DEBLEND_TOLERANCE = 0.02
#: Neighbour models closer than this everywhere in a window leave its refit as it was, ppm.
DEBLEND_MODEL_TOLERANCE_PPM = 0.005
#: A rejected refit is subtracted from its neighbours' windows at this multiple of its threshold.
COMPONENT_FRACTION = 1.0
#: Candidate searches on the data less the enhancements found so far.
RESIDUAL_PASSES = 2
#: A candidate of such a search is new when its margin grew by this factor.
RESIDUAL_GAIN = 1.2
#: The :class:`~oco2explore.config.FitConfig` fields :func:`prepare_orbit` reads: a prepared
#: orbit (:class:`Track`) serves every configuration with the same values of these.
PREPARATION_FIELDS = ("wind_aligned", "noise_estimated", "artefact_check")
#: Sounding columns the peak table is made from (:func:`_peak_columns`, emissions).
PEAK_SOURCE_COLUMNS = (
    "distance_km",
    "orbit",
    "sounding_id",
    "time",
    "latitude",
    "longitude",
    "windspeed_u_met",
    "windspeed_v_met",
    "psurf",
    "tcwv",
)
#: Refits a Track remembers (:func:`_refit`); the memory is emptied when full.
REFIT_MEMORY = 5_000
#: Solutions without their statistics a Track remembers (:func:`_solution`), the same way.
PENDING_MEMORY = 64
#: Stationary solutions a Track remembers by where they converged (:func:`_new_solution`);
#: one not completed holds its window's arrays (~70 kB for 750 soundings).
FIXED_POINT_MEMORY = 1_024
#: Half-span around the centre for its position (mean of the soundings there), km.
POSITION_SPAN_KM = 1.5
#: Windows a fit follows its centre at most (``_fit_at``).
SETTLE_PASSES = 6
#: Rounds of settling at most (every peak refitted at its own centre, see ``_settle``):
#: a narrow plume on a broad dome, each refitted with the other subtracted, converges
#: linearly, in up to 8 rounds on the city cases of benchmarks/cases.py (seed 0), where
#: a few orbits cycle for ever (docs/detection.md, session 12).
SETTLE_ROUNDS = 12
#: Peaks are settled when no centre moves by more than this, km ...
SETTLE_TOLERANCE_KM = 0.01
#: ... and no Δ, σ or significance by more than this fraction.
SETTLE_TOLERANCE = 1e-3


def _correlate(
    fd: NDArray, fk: NDArray, pairs: list[tuple[int, int]], size: int, n: int, h: int
) -> NDArray:
    """``out[p, k] = Σ_j data[i, j] · kernels[q, j − k + h]`` for each pair ``p = (i, q)``.

    From the spectra ``fd`` of the data rows and ``fk`` of the reversed kernels
    (odd-length windows centred on offset 0, length ``2h + 1``), both ``rfft`` at
    ``size`` ≥ ``n + 2h``; ``n`` data columns. The products are formed in place, one
    broadcast multiplication per run of pairs with one data row and consecutive
    kernels, and inverted in one batch.
    """
    prod = np.empty((len(pairs), fd.shape[1]), dtype=np.result_type(fd, fk))
    start = 0
    for p in range(1, len(pairs) + 1):
        i, q = pairs[start]
        if p < len(pairs) and pairs[p] == (i, q + p - start):
            continue  # the run goes on
        np.multiply(fd[i], fk[q : q + p - start], out=prod[start:p])
        start = p
    return fft.irfft(prod, size, axis=1)[:, h : h + n]


@functools.lru_cache(maxsize=8)
def _kernel_spectra(
    h: int, sigma_min_km: float, sigma_max_km: float, size: int
) -> tuple[NDArray, NDArray]:
    """The σ grid and the spectra of the candidate search's reversed kernels, cached.

    Kernels over the offsets ``τ = −h..h`` bins: box, ``τ``, ``τ²``, then ``φσ``,
    ``τφσ``, ``φσ²`` for each of the :data:`N_SIGMA` widths (log-spaced between the
    bounds); ``rfft`` of each reversed at ``size``. An orbit's candidate searches (one
    per residual pass) share them. Read-only arrays.
    """
    tau = np.arange(-h, h + 1) * BIN_KM
    sigmas = np.geomspace(sigma_min_km, sigma_max_km, N_SIGMA)
    phi = gaussian(tau[None, :], 1.0, sigmas[:, None])
    kernels = np.vstack([np.ones_like(tau), tau, tau * tau, phi, tau * phi, phi * phi])
    fk = fft.rfft(kernels[:, ::-1], size, axis=1)
    sigmas.setflags(write=False)
    fk.setflags(write=False)
    return sigmas, fk


def candidate_significance(
    distance_km: NDArray, xco2: NDArray, weight: NDArray, config: FitConfig
) -> pd.DataFrame:
    """Best Gaussian+line fit centred on every occupied bin, for a grid of widths.

    Parameters
    ----------
    distance_km : ndarray
        Sorted along-track positions of one orbit, km.
    xco2 : ndarray
        XCO2, ppm.
    weight : ndarray
        Weights ``1/uncertainty`` (1/ppm), or ones.
    config : FitConfig
        Window half-width, σ and A bounds, ``min_soundings``.

    Returns
    -------
    DataFrame
        One row per bin holding soundings: ``center_km`` (bin centre), ``n``
        (soundings in the window), ``sigma_km``, ``amplitude``, ``significance``
        (best over the σ grid; 0 where no positive enhancement).
    """
    grid = candidate_grid(distance_km, xco2, weight, config)
    best = np.argmax(grid.significance / grid.prescreen[:, None], axis=0)
    cols = np.arange(grid.center_km.size)
    return pd.DataFrame(
        {
            "center_km": grid.center_km,
            "n": grid.n,
            "sigma_km": grid.sigmas[best],
            "amplitude": grid.amplitude[best, cols],
            "significance": grid.significance[best, cols],
        }
    )


@dataclass(frozen=True)
class CandidateGrid:
    """The candidate search's fits for every width of its σ grid at every occupied bin.

    Attributes
    ----------
    center_km : ndarray
        Bin centres, km (occupied bins only).
    n : ndarray
        Soundings in each bin's window.
    sigmas : ndarray
        The σ grid, km (:data:`N_SIGMA` log-spaced widths within the bounds).
    amplitude, significance : ndarray
        Bounded best area A (ppm·km) and white significance, shape (N_SIGMA, bins).
    prescreen : ndarray
        Prescreen significance at each width (:func:`_prescreen`).
    """

    center_km: NDArray
    n: NDArray
    sigmas: NDArray
    amplitude: NDArray
    significance: NDArray
    prescreen: NDArray


def candidate_grid(
    distance_km: NDArray, xco2: NDArray, weight: NDArray, config: FitConfig
) -> CandidateGrid:
    """The Gaussian+line fit at every occupied bin for every width of the σ grid.

    As :func:`candidate_significance` (the same parameters), before the best width of
    each bin is chosen.
    """
    x0 = distance_km[0] - 0.5 * BIN_KM
    h = int(round(config.half_width_km / BIN_KM))
    idx, bin_of = _packed_bins(np.floor((distance_km - x0) / BIN_KM).astype(np.int64), h)
    n_bins = int(idx[-1]) + 1
    y = xco2 - np.median(xco2)
    w2 = weight * weight
    data = np.vstack(
        [
            np.bincount(idx, minlength=n_bins).astype(float),
            np.bincount(idx, w2, n_bins),
            np.bincount(idx, w2 * y, n_bins),
            np.bincount(idx, w2 * y * y, n_bins),
        ]
    )
    size = _fft_size(n_bins + 2 * h)
    sigmas, fk = _kernel_spectra(h, config.sigma_min_km, config.sigma_max_km, size)
    fd = fft.rfft(data, size, axis=1)
    # Pairs (data row, kernel row): 0 counts, 1 w², 2 w²y, 3 w²y².
    base = [(0, 0), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (3, 0)]
    k_phi, k_tphi, k_phi2 = 3, 3 + N_SIGMA, 3 + 2 * N_SIGMA
    gauss = [(1, k_phi + j) for j in range(N_SIGMA)]
    gauss += [(1, k_tphi + j) for j in range(N_SIGMA)]
    gauss += [(1, k_phi2 + j) for j in range(N_SIGMA)]
    gauss += [(2, k_phi + j) for j in range(N_SIGMA)]
    occupied = np.flatnonzero(data[0] > 0)
    sums = _correlate(fd, fk, base + gauss, size, n_bins, h)[:, occupied]
    n, s0, s1, s2, y0, y1, yy = sums[:7]
    g0, g1, gg, gy = sums[7:].reshape(4, N_SIGMA, -1)
    n = np.rint(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2_line, gy_perp, gg_perp = gaussian_on_line(s0, s1, s2, y0, y1, yy, g0, g1, gy, gg)
        amp, drop = best_amplitude(gy_perp, gg_perp, config.amplitude_min, config.amplitude_max)
        dof = n - 4
        chi2 = np.maximum(chi2_line - drop, 1e-12 * np.abs(yy))
        sig = drop / (chi2 / dof)
    usable = (amp > config.amplitude_min) & (dof > 0) & (n >= MIN_POINTS) & np.isfinite(sig)
    if config.min_soundings is not None:
        usable &= n >= config.min_soundings
    sig = np.where(usable, sig, 0.0)
    return CandidateGrid(
        center_km=x0 + (bin_of[occupied] + 0.5) * BIN_KM,
        n=n.astype(np.int64),
        sigmas=sigmas,
        amplitude=amp,
        significance=sig,
        prescreen=_prescreen(config, sigmas),
    )


def _fft_size(n: int) -> int:
    """FFT length for ``n`` bins: ``n`` rounded up on a ladder of 16 steps per octave.

    The kernel spectra (:func:`_kernel_spectra`) are cached by length, and computing
    them costs more than the search itself; on the ladder the orbits of a day share a
    few lengths (at most ~6 % more bins than ``n``).
    """
    step = 1 << max(n.bit_length() - 5, 0)
    return fft.next_fast_len(-(-n // step) * step, real=True)


def _packed_bins(idx: NDArray, h: int) -> tuple[NDArray, NDArray]:
    """Bin indices with every empty stretch longer than ``h + 1`` bins cut to ``h + 1``.

    No window of ``±h`` bins reaches across such a stretch, so the window sums of
    :func:`candidate_significance` are the same on the packed bins, and its FFTs run
    over the occupied track only (a daytime orbit is mostly cloud, night or sea:
    ~10 % of its 1 km bins hold soundings on simulated days). Returns the packed
    index of every sounding and, for every packed bin, its original index.
    """
    gap = np.diff(idx, prepend=idx[0])
    cut = np.cumsum(np.maximum(gap - (h + 1), 0))
    packed = idx - cut
    bin_of = np.empty(int(packed[-1]) + 1, dtype=np.int64)
    bin_of[packed] = idx
    return packed, bin_of


def _suppress(
    center_km: NDArray,
    sigma_km: NDArray,
    order: NDArray,
    nested_ratio: float | None = None,
    nestable: NDArray | None = None,
) -> list[int]:
    """Greedy non-maximum suppression: keep in ``order``, drop within 2·max(σ) of a kept one.

    A fit whose width differs from the kept one's by ``nested_ratio`` or more is not
    dropped (:func:`nested`: a plume on a dome) when both are ``nestable`` (all when
    None): a weak rejected bump inside a plume is no plume of its own.
    """
    kept: list[int] = []
    for i in order:
        if kept:
            k = np.array(kept)
            radius = 2.0 * np.maximum(sigma_km[k], sigma_km[i])
            near = np.abs(center_km[k] - center_km[i]) < radius
            apart = nested(sigma_km[k], sigma_km[i], nested_ratio)
            if nestable is not None:
                apart &= nestable[k] & nestable[i]
            near &= ~apart
            if np.any(near):
                continue
        kept.append(int(i))
    return kept


def nested(sigma_a: ArrayLike, sigma_b: ArrayLike, ratio: float | None) -> NDArray:
    """Whether enhancements of widths σ_a and σ_b (km) are separate even when they overlap.

    True where the broader is at least ``ratio`` times the narrower
    (``FitConfig.nested_ratio``; None: never): a near-source plume (σ 1–5 km) on a city
    dome or a regional bump (σ 20–40 km) is a plume of its own, which the overlap rules
    of the scan (a candidate near a peak is that peak's plume) would otherwise merge
    into the broad fit. A single plume's own shape (skewed, two-lobed) differs from a
    Gaussian at a similar width, not at a ratio of 4.
    """
    a = np.asarray(sigma_a, dtype=float)
    b = np.asarray(sigma_b, dtype=float)
    if ratio is None:
        return np.zeros(np.broadcast(a, b).shape, dtype=bool)
    return np.maximum(a, b) >= ratio * np.minimum(a, b)


def _prescreen(config: FitConfig, sigma_km: NDArray) -> NDArray:
    """Candidate significance worth a refit: a fraction of the threshold at that width."""
    if config.false_peaks_per_10000km is not None:
        # One threshold per distinct width (the candidates' widths are the σ grid's).
        widths, inverse = np.unique(np.ravel(sigma_km), return_inverse=True)
        limits = np.array([config.significance_limit(float(s)) for s in widths], dtype=float)
        return PRESCREEN * np.reshape(limits[inverse], np.shape(sigma_km))
    if config.significance_min is None:
        return np.full(sigma_km.shape, PRESCREEN_FLOOR)
    sigma_km = np.asarray(sigma_km, dtype=float)
    if config.significance_scale_km is None:
        return np.full(sigma_km.shape, PRESCREEN * config.significance_min)
    # FitConfig.significance_limit, for many widths at once.
    scale = np.maximum(1.0, sigma_km / config.significance_scale_km)
    return PRESCREEN * config.significance_min * scale


@dataclass(frozen=True)
class Track:
    """One orbit ready to fit: the usable soundings sorted along the fit coordinate.

    Built by :func:`prepare_orbit`; the scan and :func:`fit_at` fit the same arrays.

    Attributes
    ----------
    soundings : DataFrame
        The usable rows (finite ``distance_km`` and ``xco2``, positive
        ``xco2_uncertainty`` when present), in the order of ``x``.
    x : ndarray
        Fit coordinate, km: :func:`wind_aligned_km` when ``wind_aligned``, else
        ``distance_km``.
    xco2 : ndarray
        XCO2, ppm.
    weight : ndarray
        ``1/xco2_uncertainty`` (1/ppm), or ones without uncertainties.
    uncertainty : ndarray or None
        ``xco2_uncertainty`` (ppm), None without it (equal weights).
    error_km : ndarray
        ``distance_km`` (km): the correlated error follows the frames, not ``x``.
    wind_aligned : bool
        Whether ``x`` is the wind-aligned coordinate.
    noise : NoiseModel or None
        The orbit's error covariance estimated from its soundings
        (``config.noise_estimated``, :func:`oco2explore.noise.estimate_noise`), else None.
    diagnostics : ndarray or None
        Retrieval diagnostics per sounding, shape (n, k) (:data:`ARTEFACT_COLUMNS`
        present in the table), for ``config.artefact_check``; else None.
    key : tuple or None
        :func:`preparation_key` of the configuration it was prepared with (None: unknown).
    """

    soundings: pd.DataFrame
    x: NDArray
    xco2: NDArray
    weight: NDArray
    uncertainty: NDArray | None
    error_km: NDArray
    wind_aligned: bool
    noise: NoiseModel | None = None
    diagnostics: NDArray | None = None
    key: tuple | None = None
    #: Refits already done on this orbit (:func:`_refit`), by their exact inputs.
    refits: dict = field(default_factory=dict, compare=False, repr=False)
    #: Solutions whose statistics were not needed yet (:func:`_solution`), by the same keys.
    pending: dict = field(default_factory=dict, compare=False, repr=False)
    #: Solutions by the window's soundings, neighbours and fitted centre and width
    #: (:func:`_new_solution`): a refit started there is that solution.
    fixed_points: dict = field(default_factory=dict, compare=False, repr=False)

    def along_track(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The soundings sorted by ``distance_km`` (positions and meteorology of the peaks).

        Only ``columns`` (those present) when given, else every column.
        """
        table = self.soundings
        if columns is not None:
            table = table[[c for c in table.columns if c in set(columns)]]
        if not self.wind_aligned:
            return table
        order = np.argsort(self.error_km, kind="stable")
        return table.iloc[order].reset_index(drop=True)


def preparation_key(config: FitConfig) -> tuple:
    """The values of :data:`PREPARATION_FIELDS` in ``config``: equal keys, equal :class:`Track`."""
    return tuple(getattr(config, name) for name in PREPARATION_FIELDS)


def prepare_orbit(
    soundings: pd.DataFrame,
    config: FitConfig = FitConfig(),  # noqa: B008
) -> Track:
    """The usable soundings of one orbit sorted along the coordinate the fits use.

    Rows with a non-finite ``distance_km`` or ``xco2``, or a non-positive or
    non-finite ``xco2_uncertainty``, are dropped; ``config.wind_aligned`` (with
    positions and wind in the table) makes :func:`wind_aligned_km` the fit
    coordinate, else ``distance_km``.
    """
    orb = soundings
    keep = np.isfinite(orb["distance_km"].to_numpy(float)) & np.isfinite(
        orb["xco2"].to_numpy(float)
    )
    weight = np.ones(len(orb))
    if "xco2_uncertainty" in orb:
        unc = orb["xco2_uncertainty"].to_numpy(float)
        keep &= np.isfinite(unc) & (unc > 0)
        weight = 1.0 / np.where(keep, unc, 1.0)
    # One take of the whole table: the usable rows in the order of the fit coordinate.
    rows = np.flatnonzero(keep)
    order = np.argsort(orb["distance_km"].to_numpy(float)[rows], kind="stable")
    rows = rows[order]
    weight = weight[rows]
    x = orb["distance_km"].to_numpy(float)[rows]
    wind_aligned = config.wind_aligned and set(WIND_COLUMNS) <= set(orb.columns) and len(rows) > 0
    if wind_aligned:
        x = wind_aligned_km(orb[["distance_km", *WIND_COLUMNS]].iloc[rows].reset_index(drop=True))
        along = np.argsort(x, kind="stable")
        rows, x, weight = rows[along], x[along], weight[along]
    orb = orb.iloc[rows].reset_index(drop=True)
    xco2 = orb["xco2"].to_numpy(float)
    uncertainty = 1.0 / weight if "xco2_uncertainty" in orb else None
    error_km = orb["distance_km"].to_numpy(float)
    noise = None
    if config.noise_estimated and len(orb):
        # One estimate per orbit, from all its usable soundings in along-track order.
        order = np.argsort(error_km, kind="stable")
        noise = estimate_noise(
            error_km[order], xco2[order], None if uncertainty is None else uncertainty[order]
        )
    diagnostics = None
    if config.artefact_check:
        columns = _artefact_columns(orb)
        diagnostics = np.column_stack(columns) if columns else None
    return Track(
        soundings=orb,
        x=x,
        xco2=xco2,
        weight=weight,
        uncertainty=uncertainty,
        error_km=error_km,
        wind_aligned=bool(wind_aligned),
        noise=noise,
        diagnostics=diagnostics,
        key=preparation_key(config),
    )


def _prepared(orbit: pd.DataFrame | Track, config: FitConfig) -> Track:
    """``orbit`` prepared for ``config`` (:func:`prepare_orbit`), or the Track given.

    Raises
    ------
    ValueError
        A Track prepared with other values of :data:`PREPARATION_FIELDS`.
    """
    if not isinstance(orbit, Track):
        return prepare_orbit(orbit, config)
    if orbit.key is not None and orbit.key != preparation_key(config):
        raise ValueError(
            f"orbit prepared with {dict(zip(PREPARATION_FIELDS, orbit.key, strict=True))}, "
            f"fitted with {dict(zip(PREPARATION_FIELDS, preparation_key(config), strict=True))}"
        )
    return orbit


def _artefact_columns(orb: pd.DataFrame) -> list[NDArray]:
    """The retrieval diagnostics of :data:`ARTEFACT_COLUMNS` in the table, as arrays.

    ``psurf − psurf_apriori`` (hPa) stands for the surface-pressure difference when
    both are present.
    """
    columns = [orb[c].to_numpy(float) for c in ARTEFACT_COLUMNS if c in orb]
    if {"psurf", "psurf_apriori"} <= set(orb.columns):
        columns.append(orb["psurf"].to_numpy(float) - orb["psurf_apriori"].to_numpy(float))
    return [c for c in columns if np.isfinite(c).any()]


def scan_orbit(
    soundings: pd.DataFrame | Track,
    config: FitConfig = FitConfig(),  # noqa: B008
) -> pd.DataFrame:
    """Peaks of one orbit (CONTRACT §2 peak table, passed and rejected refits).

    Parameters
    ----------
    soundings : DataFrame or Track
        Soundings of one orbit with at least ``distance_km`` (km) and ``xco2``
        (ppm); ``xco2_uncertainty`` (ppm) weights the fits when present;
        ``orbit``, ``sounding_id``, ``time``, positions, wind, ``psurf`` and
        ``tcwv`` fill the other columns when present. Or the orbit already
        prepared by :func:`prepare_orbit` for this ``config`` (the same result).
    config : FitConfig
        Bounds and thresholds; ``config.wind_aligned`` fits along
        :func:`wind_aligned_km` instead of ``distance_km`` (needs positions and
        wind; ignored without them).

    Returns
    -------
    DataFrame
        One row per refitted local enhancement, ordered by ``distance_km``. Each
        row is :func:`fit_at` at its own centre with the other rows as neighbours.

    Raises
    ------
    ValueError
        A Track prepared for another configuration (:func:`preparation_key`).
    """
    columns = _scan_columns(soundings, config)
    return empty_peaks() if columns is None else _peak_table([columns])


def _scan_columns(soundings: pd.DataFrame | Track, config: FitConfig) -> dict[str, NDArray] | None:
    """The peak-table columns of one orbit (:func:`scan_orbit`), None without peaks."""
    track = _prepared(soundings, config)
    if track.x.size < MIN_POINTS:
        return None
    found = [f for f in _search(track, config) if _found(f)]
    fits, settled = _settle(track, found, config)
    if not settled and config.nested_ratio is not None:
        # Nested plumes whose window fits do not agree (the broad one, refitted with the
        # narrow ones subtracted, narrows until they are its own plume, and back): the
        # orbit as without nesting.
        log.debug("nested peaks not settled: the orbit scanned without nesting")
        flat = config.replace(nested_ratio=None)
        found = [f for f in _search(track, flat) if _found(f)]
        fits, _ = _settle(track, found, flat)
    if not fits:
        return None
    return _peak_columns(track.along_track(PEAK_SOURCE_COLUMNS), fits, config)


def _search(track: Track, config: FitConfig) -> list[FitResult]:
    """Candidate search, refits and deblending: where the orbit's enhancements are.

    Returns the refits after non-maximum suppression (passed peaks first, then the
    most significant), ordered by centre.
    """
    x, y, weight = track.x, track.xco2, track.weight
    fits: list[_Refit] = []
    model = np.zeros_like(y)
    comps = _no_components()
    best_margin: NDArray | None = None
    for step in range(1 + RESIDUAL_PASSES):
        # Candidates on the data less the enhancements already found (none at first).
        centers, sigmas, sig, prescreen, margin, local_max = _candidates(
            x, y - model, weight, config
        )
        wanted = local_max & (margin >= 1.0)
        if best_margin is not None:
            # Only candidates that reach their threshold on the data less the components,
            # apart from every component (nearer, it is the component's plume), ...
            wanted &= sig >= prescreen / PRESCREEN
            inside = np.zeros(wanted.shape, dtype=bool)
            for c, w in zip(comps[0], comps[1], strict=True):
                near = np.abs(centers - c) < 2.0 * (w + sigmas)
                # (a much narrower one on a broad component is a plume of its own)
                nest = near & (sigmas < w) & nested(w, sigmas, config.nested_ratio)
                wanted &= ~near | nest
                inside |= nest
            # ... and that the subtraction brought out: the others were dealt with in an
            # earlier pass. A plume nested in a component was not (the broad fit took
            # it in, and its subtraction takes part of the plume away with it).
            wanted &= (margin > RESIDUAL_GAIN * best_margin) | inside
        best_margin = margin if best_margin is None else np.maximum(best_margin, margin)
        idx = np.flatnonzero(wanted)
        order = idx[np.argsort(-margin.ravel()[idx], kind="stable")]
        new = _refit_candidates(
            track,
            centers.ravel()[order],
            sigmas.ravel()[order],
            sig.ravel()[order],
            config,
            fits,
            comps,
            nesting=bool(step),
        )
        log.debug("pass %d: %d candidates, %d refitted", step, idx.size, len(new))
        if step and not new:
            break
        fits = fits + new
        if not config.deblend:
            break
        fits = _deblend(track, fits, config)
        comps = _components(fits, config)
        if not comps[0].size:
            break
        model = _components_model(x, comps)
    return _suppressed([r.fit for r in fits], config)


def _candidates(
    x: NDArray, y: NDArray, weight: NDArray, config: FitConfig
) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray, NDArray]:
    """Candidate centres, widths, significance, prescreen, margin and local maxima.

    The margin is a candidate's significance over the prescreen at its width. Without
    ``config.scale_space_candidates`` each bin has one candidate, the width of the
    largest margin, and the local maxima are over the ±⌊sigma_min_km/BIN_KM⌋
    neighbouring occupied bins. With it every (bin, width) of the σ grid is a
    candidate and the local maxima are over those bins and the neighbouring widths:
    the maxima of the field over centre and ln σ that the false-alarm threshold counts
    (:func:`oco2explore.noise.false_peaks_per_10000km`). Then a narrow plume on the
    flank of a broad bump of the background, where a broad width has the larger margin
    at every bin near the plume, is still proposed at its own width. All arrays have
    one shape: (bins,) or (widths, bins).
    """
    size = 2 * max(1, int(config.sigma_min_km / BIN_KM)) + 1
    if not config.scale_space_candidates:
        cand = candidate_significance(x, y, weight, config)
        sig = cand["significance"].to_numpy()
        centers = cand["center_km"].to_numpy()
        sigmas = cand["sigma_km"].to_numpy()
        prescreen = _prescreen(config, sigmas)
        margin = sig / prescreen
        local_max = margin == maximum_filter1d(margin, size, mode="constant")
        return centers, sigmas, sig, prescreen, margin, local_max
    grid = candidate_grid(x, y, weight, config)
    shape = grid.significance.shape
    prescreen = np.broadcast_to(grid.prescreen[:, None], shape)
    margin = grid.significance / prescreen
    local_max = margin == maximum_filter(margin, size=(3, size), mode="constant")
    centers = np.broadcast_to(grid.center_km[None, :], shape)
    sigmas = np.broadcast_to(grid.sigmas[:, None], shape)
    return centers, sigmas, grid.significance, prescreen, margin, local_max


def _suppressed(fits: list[FitResult], config: FitConfig) -> list[FitResult]:
    """Non-maximum suppression of refits (passed first, then the most significant), by centre."""
    return [fits[i] for i in _suppressed_indices(fits, config)]


def _suppressed_indices(fits: list[FitResult], config: FitConfig) -> list[int]:
    """Indices of the refits :func:`_suppressed` keeps, in the order of their centres."""
    if not fits:
        return []
    c = np.array([f.center_km for f in fits])
    s = np.array([f.sigma_km for f in fits])
    rank = np.lexsort(
        (-np.array([f.significance for f in fits]), ~np.array([f.passed for f in fits]))
    )
    # Only fits that stand for real structure are plumes of their own when nested.
    strong = None
    if config.nested_ratio is not None:
        strong = np.array(
            [is_component(f.passed, f.significance, f.sigma_km, config) for f in fits]
        )
    return sorted(_suppress(c, s, rank, config.nested_ratio, strong), key=lambda i: c[i])


def _settle(track: Track, fits: list[FitResult], config: FitConfig) -> tuple[list[FitResult], bool]:
    """Each enhancement refitted as :func:`fit_at` does, at its own centre, until stable.

    The search refits a candidate on the window around the candidate's bin, so its
    fitted centre is up to ``center_shift_max_km`` off its window and its start
    width is the candidate's. Here every enhancement is refitted by
    :func:`_fit_at` from its fitted centre and width (the window following the
    fit), with the others' components (:func:`_components_of`) subtracted, until no centre
    moves by more than :data:`SETTLE_TOLERANCE_KM`, no verdict changes and no Δ, σ
    or significance moves by more than :data:`SETTLE_TOLERANCE` (:data:`SETTLE_ROUNDS`
    rounds at most): the peak table is then what the explorer's window fit finds at
    each peak. Returns the fits and whether they settled; fits that come back to an
    earlier round's are a cycle and stop the rounds (not settled).
    """
    last: list[WindowFit | None] = [None] * len(fits)
    seen: list[list[FitResult]] = []
    for _ in range(SETTLE_ROUNDS):
        # In turn, each with the others as last refitted (Gauss-Seidel): refitted all at
        # once from the previous round (Jacobi), two overlapping fits can swap the
        # enhancement between them every round (a cycle of period 2).
        current = list(fits)
        comps = _components_of(current, config) if config.deblend else None
        windows = []
        for i, w in enumerate(last):
            if not _unchanged(track, w, comps, config):
                w = _fit_at(track, fits[i].center_km, config, comps, fits[i].sigma_km)
                current[i] = w.fit
                comps = _components_of(current, config) if config.deblend else None
            windows.append(w)
        windows = [w for w in windows if _found(w.fit)]
        kept = _suppressed_indices([w.fit for w in windows], config)
        new, last = [windows[i].fit for i in kept], [windows[i] for i in kept]
        if _same_fits(fits, new):
            return new, True
        back = next((k for k, old in enumerate(seen) if _same_fits(new, old)), None)
        if back is not None:
            # Back to an earlier round's fits: a cycle, which more rounds repeat.
            log.debug("peaks not settled: a cycle of %d rounds", len(seen) + 1 - back)
            return new, False
        seen.append(fits)
        fits = new
    log.debug("peaks not settled after %d rounds", SETTLE_ROUNDS)
    return fits, False


def _unchanged(
    track: Track, window: WindowFit | None, comps: _Components | None, config: FitConfig
) -> bool:
    """Whether refitting a settled window fit would give it again (so it is kept as it is).

    True when its fit is centred on its window and the neighbours a refit from it
    would subtract differ from the ones it subtracted by less than
    :data:`DEBLEND_MODEL_TOLERANCE_PPM` everywhere in the window (as :func:`_deblend`
    keeps refits).
    """
    if window is None or abs(window.fit.center_km - window.centre_km) > SETTLE_TOLERANCE_KM:
        return False
    near = _neighbours_of(window.fit.center_km, window.fit.sigma_km, comps, config)
    return _same_window_data(track.x, window.centre_km, near, window.neighbours, config)


def _found(fit: FitResult) -> bool:
    """Whether a fit found an enhancement: converged, area above its lower bound.

    Other fits are no peak: their centre and width mean nothing.
    """
    return fit.success and bool(fit.checks.get("amplitude_min", (None, None, False))[2])


def _same_fits(a: list[FitResult], b: list[FitResult]) -> bool:
    """Whether two lists of fits agree within the settling tolerances."""
    if len(a) != len(b):
        return False
    tol = SETTLE_TOLERANCE
    return all(
        abs(f.center_km - g.center_km) <= SETTLE_TOLERANCE_KM
        and f.passed == g.passed
        and f.reject_reason == g.reject_reason
        and math.isclose(f.delta_ppm, g.delta_ppm, rel_tol=tol, abs_tol=1e-9)
        and math.isclose(f.sigma_km, g.sigma_km, rel_tol=tol)
        and math.isclose(f.significance, g.significance, rel_tol=tol, abs_tol=1e-9)
        for f, g in zip(a, b, strict=True)
    )


@dataclass
class WindowFit:
    """A window fit as the scan does it (:func:`fit_at`) and what it was fitted to.

    Attributes
    ----------
    fit : FitResult
        The fit; ``center_km`` is in the fit coordinate (``Track.x``).
    centre_km : float
        Centre of the window fitted, km (within :data:`SETTLE_TOLERANCE_KM` of the
        fitted centre once the window has followed the fit, see :func:`fit_at`).
    x : ndarray
        Fit coordinate of the window's soundings, km (sorted).
    xco2 : ndarray
        Their XCO2, ppm (the neighbours not subtracted).
    sigma_start_km : float
        Width the fit started from, km.
    neighbours : tuple of ndarray
        Centres, σ (km) and areas A (ppm·km) of the neighbouring enhancements
        subtracted before the fit (each 3 fitted parameters in the reduced χ²).
    """

    fit: FitResult
    centre_km: float
    x: NDArray
    xco2: NDArray
    sigma_start_km: float
    neighbours: _Components

    @property
    def n_neighbours(self) -> int:
        """How many neighbouring enhancements were subtracted."""
        return int(self.neighbours[0].size)

    def model(self, x: NDArray) -> NDArray:
        """Fitted Gaussian + background plus the subtracted neighbours at sorted ``x`` (km), ppm."""
        x = np.asarray(x, dtype=float)
        return self.fit.model(x) + _components_model(x, self.neighbours)


def fit_at(
    orbit: pd.DataFrame | Track,
    centre_km: float,
    config: FitConfig = FitConfig(),  # noqa: B008
    peaks: pd.DataFrame | None = None,
) -> WindowFit:
    """Fit the window around ``centre_km`` of an orbit exactly as the scan fits its peaks.

    The same coordinate and soundings (:func:`prepare_orbit`: wind-aligned when
    ``config.wind_aligned`` and the wind is in the table), the same start (at a
    peak of ``peaks``, the peak's width, as the scan refits its peaks; elsewhere
    the width the candidate search gives at ``centre_km``, :func:`start_sigma`),
    the same neighbours subtracted (with ``config.deblend``, the components of
    ``peaks``, see :func:`peak_components`, apart from this one) and the same
    thresholds; the window then follows the fitted centre until it stays (see
    :func:`_fit_at`). At a peak of :func:`scan_orbit`, with that scan's peak
    table, it gives the peak's row: the scan's peaks are this fit at their own
    centres (:func:`_settle`).

    Parameters
    ----------
    orbit : DataFrame or Track
        Soundings of one orbit (as for :func:`scan_orbit`), or the orbit already
        prepared by :func:`prepare_orbit` for this ``config`` (the same
        :func:`preparation_key`; another raises ValueError).
    centre_km : float
        Window centre in the fit coordinate, km (a peak's ``distance_km``).
    config : FitConfig
        Bounds and thresholds.
    peaks : DataFrame, optional
        Peak table of the orbit (e.g. from :func:`scan_orbit`); its other
        enhancements are subtracted from the window, and a peak within
        :data:`SETTLE_TOLERANCE_KM` of ``centre_km`` gives the start width.

    Returns
    -------
    WindowFit
        The fit, the window's soundings and the neighbours subtracted.
    """
    track = _prepared(orbit, config)
    centre_km = float(centre_km)
    comps, sigma_km = None, None
    if peaks is not None and len(peaks):
        if config.deblend:
            comps = peak_components(peaks, config)
        gap = np.abs(peaks["distance_km"].to_numpy(float) - centre_km)
        own = int(np.argmin(gap))
        width = float(peaks["sigma_km"].iloc[own])
        if gap[own] <= SETTLE_TOLERANCE_KM and math.isfinite(width):
            sigma_km = width
    return _fit_at(track, centre_km, config, comps, sigma_km)


def _fit_at(
    track: Track,
    centre_km: float,
    config: FitConfig,
    comps: _Components | None,
    sigma_km: float | None = None,
) -> WindowFit:
    """:func:`fit_at` on a prepared orbit with the orbit's components ``comps`` (or None).

    The neighbours subtracted are chosen at ``centre_km`` (:func:`_neighbours_of`).
    The first fit starts from width ``sigma_km`` (the enhancement's own, when known)
    or else from :func:`start_sigma`; the window follows a fit that found an
    enhancement (area above its lower bound), every next fit starting from the
    width of the one before: it is centred again on the fitted centre until that
    moves by less than :data:`SETTLE_TOLERANCE_KM` (:data:`SETTLE_PASSES` windows at
    most). Where the windows cycle (soundings at a window edge enter and leave, and
    the centre of a broad fit jumps between two values), the most significant fit
    of the cycle is the result, whichever window the cycle was entered from. The
    windows left are only solved (:func:`_solution`): where their fit went is all the
    following needs.
    """
    near = _neighbours_of(centre_km, sigma_km, comps, config)
    # Windows left: (centre, start width); only where the fit went is needed of them.
    seen: list[tuple[float, float]] = []
    for _ in range(SETTLE_PASSES):
        if sigma_km is None:
            sigma_km = _start_sigma_at(track, centre_km, config, near)
        last = (centre_km, sigma_km)
        solution = _solution(track, centre_km, sigma_km, config, near)
        if not solution.found:
            break  # nothing for the window to follow
        seen.append(last)
        after = solution.center_km
        if abs(after - centre_km) <= SETTLE_TOLERANCE_KM:
            break
        for j, (prev, _) in enumerate(seen[:-1]):
            if abs(prev - after) <= SETTLE_TOLERANCE_KM:
                cycle = [_fit_window_at(track, c, config, near, s) for c, s in seen[j:]]
                return max(cycle, key=lambda w: (w.fit.significance, -w.centre_km))
        centre_km, sigma_km = after, solution.sigma_km
    return _fit_window_at(track, last[0], config, near, last[1])


def _fit_window_at(
    track: Track,
    centre_km: float,
    config: FitConfig,
    near: _Components,
    sigma_km: float | None = None,
) -> WindowFit:
    """One fit on the window around ``centre_km`` less the neighbours ``near``.

    It starts from width ``sigma_km`` (km), or without it from :func:`start_sigma`
    on the window less the neighbours.
    """
    window = window_slice(track.x, centre_km, config.half_width_km)
    xs, ys = track.x[window], track.xco2[window]
    if sigma_km is None:
        sigma_km = _start_sigma_at(track, centre_km, config, near)
    fit = _refit(track, centre_km, sigma_km, config, near)
    used = np.abs(xs - centre_km) <= config.half_width_km  # the soundings fit_window fits
    return WindowFit(fit, centre_km, xs[used], ys[used], sigma_km, near)


def _start_sigma_at(track: Track, centre_km: float, config: FitConfig, near: _Components) -> float:
    """:func:`start_sigma` on the window around ``centre_km`` less the neighbours ``near``."""
    window = window_slice(track.x, centre_km, config.half_width_km)
    xs, ys, ws = track.x[window], track.xco2[window], track.weight[window]
    return start_sigma(xs, ys - _components_model(xs, near), ws, centre_km, config)


def _neighbours_of(
    centre_km: float, sigma_km: float | None, comps: _Components | None, config: FitConfig
) -> _Components:
    """The components a fit at ``centre_km`` subtracts: those apart from it (:func:`_apart`).

    Apart from an enhancement of width ``sigma_km``, or when it is unknown (None) of
    the narrowest width ``sigma_min_km`` and not nested (:func:`nested`): only a
    component that would be this fit's own plume at any width is then left in.
    """
    if comps is None or not comps[0].size:
        return _no_components()
    if sigma_km is None:
        return _apart(centre_km, config.sigma_min_km, comps, config, nesting=False)
    return _apart(centre_km, sigma_km, comps, config)


def start_sigma(
    x: NDArray, xco2: NDArray, weight: NDArray, centre_km: float, config: FitConfig
) -> float:
    """Width at which a fit centred at ``centre_km`` starts: the candidate search's choice.

    As :func:`candidate_significance` does for a bin: the Gaussian+line fit at
    ``centre_km`` for each width of its σ grid (:data:`N_SIGMA` log-spaced within
    the bounds, bounded area), and the width with the largest margin of its white
    significance over the prescreen at that width; ``sigma_min_km`` when no width
    gives a positive enhancement.

    Parameters
    ----------
    x, xco2, weight : ndarray
        Positions (km), XCO2 (ppm) and weights ``1/uncertainty`` (1/ppm, or ones)
        of the window's soundings.
    centre_km : float
        Centre of the fit, km.
    config : FitConfig
        σ and A bounds, thresholds.
    """
    half = config.half_width_km
    inside = np.abs(x - centre_km) <= half
    t, y, w = x[inside] - centre_km, xco2[inside], weight[inside]
    if t.size < MIN_POINTS:
        return float(config.sigma_min_km)
    y = y - np.median(y)
    sigmas = np.geomspace(config.sigma_min_km, config.sigma_max_km, N_SIGMA)
    phi = gaussian(t[None, :], 1.0, sigmas[:, None])
    w2 = w * w
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2_line, gy_perp, gg_perp = line_projection(t, w, y, phi)
        amp, drop = best_amplitude(gy_perp, gg_perp, config.amplitude_min, config.amplitude_max)
        chi2 = np.maximum(chi2_line - drop, 1e-12 * float((w2 * y * y).sum()))
        sig = drop / (chi2 / (t.size - 4))
    sig = np.where((amp > config.amplitude_min) & np.isfinite(sig), sig, 0.0)
    return float(sigmas[int(np.argmax(sig / _prescreen(config, sigmas)))])


def wind_aligned_km(orbit: pd.DataFrame) -> NDArray:
    """Along-track coordinate in which a plume crosses every footprint at once, km.

    A plume axis along the wind crosses the track's centre line at ``s0`` with
    an angle α between wind and track; a footprint ``c`` km right of the centre
    line sees it at ``s0 + c·cot α``. OCO-2's 8 footprints span ~9 km across
    the track, so at α = 35° a 2 km wide plume is smeared over ~13 km of
    ``distance_km`` with only a few footprints of each frame enhanced.
    ``x' = distance_km − c·cot α`` puts it back at ``s0`` with its width along
    the centre line. ``c`` is measured from the centre line (a running mean of
    :data:`CENTRE_LINE_SOUNDINGS` positions), the heading from that line, α from
    the sounding's wind (``windspeed_u_met``/``windspeed_v_met``); ``|cot α|``
    is capped at :data:`MAX_COT` (wind nearly along the track) and is 0 where
    the wind is missing.

    Parameters
    ----------
    orbit : DataFrame
        Soundings of one orbit sorted by ``distance_km`` (km), with latitude,
        longitude (degrees) and wind (m/s).

    Returns
    -------
    ndarray
        ``x'`` for each row, km.
    """
    right_km, heading_deg = cross_track_km(
        orbit["latitude"], orbit["longitude"], CENTRE_LINE_SOUNDINGS
    )
    heading = np.radians(heading_deg)
    u = orbit["windspeed_u_met"].to_numpy(float)
    v = orbit["windspeed_v_met"].to_numpy(float)
    alpha = np.arctan2(u, v) - heading
    with np.errstate(divide="ignore", invalid="ignore"):
        cot = np.clip(np.cos(alpha) / np.sin(alpha), -MAX_COT, MAX_COT)
    cot = np.where(np.isfinite(cot) & (np.hypot(u, v) > 0), cot, 0.0)
    return orbit["distance_km"].to_numpy(float) - right_km * cot


#: Components: centres (km), widths σ (km) and areas A (ppm·km) of found enhancements.
_Components = tuple[NDArray, NDArray, NDArray]


def _no_components() -> _Components:
    return np.zeros(0), np.zeros(0), np.zeros(0)


@dataclass
class _Refit:
    """A full fit and the candidate (centre, width) it started from, km."""

    fit: FitResult
    start_km: float
    start_sigma_km: float
    #: The neighbouring components subtracted for this fit.
    neighbours: _Components = field(default_factory=lambda: _no_components())


def _refit_candidates(
    track: Track,
    centers: NDArray,
    sigmas: NDArray,
    significance: NDArray,
    config: FitConfig,
    done: Sequence[_Refit] = (),
    comps: _Components | None = None,
    nesting: bool = False,
) -> list[_Refit]:
    """Full fits at candidate centres (km), in the given order, skipping known plumes.

    A candidate is not refitted when it lies within ``2·(σ + σ_p)`` of an
    already passed peak (it sits on that plume or its tails), or within
    ``max(σ, σ_r)`` of a refit rejected as too weak (significance or R²: it
    would converge to the same weak bump) unless its own candidate
    ``significance`` already reaches the threshold at its width (a strong
    narrow plume on a broad weak bump, or beside it in a cluster). Other
    rejections (a σ bound, one side short of soundings) hide nothing: another
    start may fit well. ``done`` are refits of earlier passes (they hide
    candidates the same way); ``comps`` are enhancements subtracted from each
    window (see :func:`_refit`). With ``nesting`` (the searches on the data less
    the components) a passed peak does not hide a much narrower candidate nested in
    it (:func:`nested`); on the data themselves it does, as a narrow candidate on a
    broad plume is then the broad plume's.
    """
    fits: list[_Refit] = []
    prior = [r.fit for r in done]
    done_c = np.array([f.center_km for f in prior])
    done_s = np.array([f.sigma_km for f in prior])
    done_ok = np.array([f.passed for f in prior], dtype=bool)
    weak = np.array([f.reject_reason in WEAK_REASONS for f in prior], dtype=bool)
    for center, sigma, sig in zip(centers, sigmas, significance, strict=True):
        limit = config.significance_limit(sigma)
        strong = limit is not None and sig >= limit
        radius = np.where(done_ok, 2.0 * (done_s + sigma), np.maximum(done_s, sigma))
        own = done_ok
        if nesting:
            own = own & ~((done_s > sigma) & nested(done_s, sigma, config.nested_ratio))
        hiding = own | (weak & ~strong)
        if np.any((np.abs(done_c - center) < radius) & hiding):
            continue
        near = _apart(center, sigma, comps, config) if comps is not None else _no_components()
        fit = _refit(track, center, sigma, config, near)
        if not fit.success:
            continue
        fits.append(_Refit(fit, float(center), float(sigma), near))
        done_c = np.append(done_c, fit.center_km)
        done_s = np.append(done_s, fit.sigma_km)
        done_ok = np.append(done_ok, fit.passed)
        weak = np.append(weak, fit.reject_reason in WEAK_REASONS)
    return fits


def is_component(passed: bool, significance: float, sigma_km: float, config: FitConfig) -> bool:
    """Whether a refit stands for real structure, subtracted from its neighbours' windows.

    Passed peaks, and rejected ones at least :data:`COMPONENT_FRACTION` × the
    significance threshold at their width (a plume of a cluster whose neighbours
    inflate its window's reduced χ², or that fails another check).
    """
    if passed:
        return True
    limit = config.significance_limit(sigma_km)
    return limit is not None and significance >= COMPONENT_FRACTION * limit


def _components(fits: list[_Refit], config: FitConfig) -> _Components:
    """Centres, widths and areas of the refits that count as components."""
    return _components_of([r.fit for r in fits], config)


def _components_of(fits: Sequence[FitResult], config: FitConfig) -> _Components:
    """Centres, widths and areas of the fits counted as components (as :func:`peak_components`).

    Refits of one enhancement from several candidates count once: the one
    :func:`_suppressed` keeps (the sum of both would subtract it twice).
    """
    keep = [
        f
        for f in fits
        if f.success
        and f.amplitude > config.amplitude_min
        and is_component(f.passed, f.significance, f.sigma_km, config)
    ]
    keep = _suppressed(keep, config)
    return (
        np.array([f.center_km for f in keep]),
        np.array([f.sigma_km for f in keep]),
        np.array([f.amplitude for f in keep]),
    )


def peak_components(peaks: pd.DataFrame, config: FitConfig) -> _Components:
    """Components (:func:`is_component`) of a peak table: centres, widths σ (km), areas A."""
    if not len(peaks):
        return _no_components()
    amplitude = peaks["amplitude"].to_numpy(float)
    ok = np.array(
        [
            np.isfinite(a)
            and a > config.amplitude_min
            and is_component(bool(p), float(g), float(w), config)
            for a, p, g, w in zip(
                amplitude,
                peaks["passed"].to_numpy(),
                peaks["significance"].to_numpy(float),
                peaks["sigma_km"].to_numpy(float),
                strict=True,
            )
        ],
        dtype=bool,
    )
    rows = peaks[ok]
    return (
        rows["distance_km"].to_numpy(float),
        rows["sigma_km"].to_numpy(float),
        rows["amplitude"].to_numpy(float),
    )


def _components_model(x: NDArray, comps: _Components) -> NDArray:
    """Sum of the component Gaussians at ``x`` (km, sorted), ppm (each within ±8σ)."""
    model = np.zeros_like(x)
    for c, s, a in zip(*comps, strict=True):
        near = window_slice(x, c, 8.0 * s)
        model[near] += gaussian(x[near] - c, a, s)
    return model


def _apart(
    center_km: float,
    sigma_km: float,
    comps: _Components,
    config: FitConfig,
    nesting: bool = True,
) -> _Components:
    """The components apart from an enhancement at ``center_km`` reaching into its window.

    Apart: farther than ``2·(σ_c + σ)``, or (with ``nesting``) of a width
    ``config.nested_ratio`` times this one's or more either way (:func:`nested`).
    """
    cc, cs, ca = comps
    gap = np.abs(cc - center_km)
    apart = gap >= 2.0 * (cs + sigma_km)
    if nesting:
        apart |= nested(cs, sigma_km, config.nested_ratio)
    apart &= gap <= config.half_width_km + 4.0 * cs
    return cc[apart], cs[apart], ca[apart]


def _refit(
    track: Track,
    center: float,
    sigma: float,
    config: FitConfig,
    neighbours: _Components | None = None,
) -> FitResult:
    """The full fit on the window around ``center``, started at width ``sigma``: every refit.

    The scan's refits (:func:`_refit_candidates`, :func:`_deblend`) and
    :func:`fit_at` all fit here. The ``neighbours``' enhancement (components
    apart from this one, see :func:`_apart`) is subtracted from the data first,
    each counted as 3 fitted parameters in the reduced χ²; the correlated error
    follows ``track.error_km``. A refit with exactly the inputs of an earlier one on
    this Track is that one's result (the fit is deterministic; backfitting and
    settling ask for some again, the explorer for every slider position it met);
    at most :data:`REFIT_MEMORY` are kept. Results are shared: never change them.
    """
    key = _refit_key(center, sigma, config, neighbours)
    known = track.refits.get(key)
    if known is not None:
        return known
    solution = track.pending.pop(key, None)
    if solution is None:
        solution = _new_solution(track, key, config, neighbours)
    if len(track.refits) >= REFIT_MEMORY:
        track.refits.clear()
    fit = solution.result()
    track.refits[key] = fit
    return fit


def _refit_key(
    center: float, sigma: float, config: FitConfig, neighbours: _Components | None
) -> tuple:
    """The exact inputs of a :func:`_refit`, as a dictionary key."""
    return (
        float(center),
        float(sigma),
        config,
        None if neighbours is None else tuple(np.asarray(a, float).tobytes() for a in neighbours),
    )


def _solution(
    track: Track,
    center: float,
    sigma: float,
    config: FitConfig,
    neighbours: _Components | None = None,
) -> FitSolution:
    """Where the :func:`_refit` with these inputs goes, its statistics left for later.

    :func:`_fit_at` needs only the fitted centre and width of the windows it leaves;
    the solution is kept (:data:`PENDING_MEMORY`), so that the :func:`_refit` of the
    window it stays on completes it without solving again.
    """
    key = _refit_key(center, sigma, config, neighbours)
    known = track.refits.get(key)
    if known is not None:
        return FitSolution(known)
    solution = track.pending.get(key)
    if solution is None:
        if len(track.pending) >= PENDING_MEMORY:
            track.pending.clear()
        solution = _new_solution(track, key, config, neighbours)
        track.pending[key] = solution
    return solution


def _new_solution(
    track: Track, key: tuple, config: FitConfig, neighbours: _Components | None
) -> FitSolution:
    """The solution of the refit with inputs ``key`` (:func:`_refit_key`), not met before.

    A fit started at the centre and width where an earlier fit on the same soundings
    with the same neighbours converged at an interior stationary point
    (:attr:`~oco2explore.fit.FitSolution.stationary`) starts at that least-squares
    minimum: that fit is the result (its window moved to this centre; solved again it
    would differ by rounding only). Such starts are common: the window
    follows its fitted centre (:func:`_fit_at`), and on a sparse track the moved window
    often holds the same soundings. Every other fit is solved (:func:`_fit_window_of`).
    """
    center, sigma, _, neighbour_key = key
    window = window_slice(track.x, center, config.half_width_km)
    soundings = (window.start, window.stop, config, neighbour_key)
    prior = track.fixed_points.get((*soundings, center, sigma))
    if prior is not None:
        fit = prior.result()
        half = config.half_width_km
        return FitSolution(
            dataclasses.replace(
                fit, window_km=(center - half, center + half), checks=dict(fit.checks)
            )
        )
    solution = _fit_window_of(track, center, sigma, config, neighbours)
    if solution.found and solution.stationary:
        if len(track.fixed_points) >= FIXED_POINT_MEMORY:
            track.fixed_points.clear()
        track.fixed_points[(*soundings, solution.center_km, solution.sigma_km)] = solution
    return solution


def _fit_window_of(
    track: Track,
    center: float,
    sigma: float,
    config: FitConfig,
    neighbours: _Components | None,
) -> FitSolution:
    """:func:`fit_solution` on the window of a :func:`_refit`, the neighbours subtracted."""
    window = window_slice(track.x, center, config.half_width_km)
    xs, ys = track.x[window], track.xco2[window]
    n_other = 0
    if neighbours is not None and neighbours[0].size:
        n_other = int(neighbours[0].size)
        ys = ys - _components_model(xs, neighbours)
    u = None if track.uncertainty is None else track.uncertainty[window]
    return fit_solution(
        xs,
        ys,
        center,
        config,
        u,
        sigma_start_km=sigma,
        extra_params=3 * n_other,
        error_km=track.error_km[window],
        noise=track.noise,
        diagnostics=None if track.diagnostics is None else track.diagnostics[window],
    )


def _deblend(track: Track, fits: list[_Refit], config: FitConfig) -> list[_Refit]:
    """Refit every enhancement with the others subtracted, until nothing changes.

    Backfitting (Gauss–Seidel on the sum of Gaussians): the other components
    (:func:`_components`) of the previous round are subtracted from each
    window (:func:`_refit`), so a plume next to a plant cluster is judged
    against the noise of its window, not against its neighbours' plumes. At
    most :data:`DEBLEND_PASSES` rounds.
    """
    for _ in range(DEBLEND_PASSES):
        comps = _components(fits, config)
        if not comps[0].size:
            return fits
        out, changed = [], False
        for r in fits:
            sigma = max(r.start_sigma_km, r.fit.sigma_km)
            near = _apart(r.start_km, sigma, comps, config)
            if _same_components(near, r.neighbours) or _same_window_data(
                track.x, r.start_km, near, r.neighbours, config
            ):
                out.append(r)  # the same data as its last fit: the same result
                continue
            fit = _refit(track, r.start_km, sigma, config, near)
            if not fit.success:
                out.append(r)
                continue
            old = r.fit
            changed |= fit.passed != old.passed or not math.isclose(
                fit.amplitude, old.amplitude, rel_tol=DEBLEND_TOLERANCE, abs_tol=1e-6
            )
            out.append(_Refit(fit, r.start_km, r.start_sigma_km, near))
        fits = out
        if not changed:
            break
    return fits


def _same_window_data(
    x: NDArray, center_km: float, a: _Components, b: _Components, config: FitConfig
) -> bool:
    """Whether two neighbour sets subtract the same enhancement from the window.

    True when their models differ by less than :data:`DEBLEND_MODEL_TOLERANCE_PPM`
    everywhere in the window around ``center_km`` (e.g. a component added or
    moved beyond the window edge, whose tail there is negligible).
    """
    xs = x[window_slice(x, center_km, config.half_width_km)]
    diff = _components_model(xs, a) - _components_model(xs, b)
    return bool(np.all(np.abs(diff) < DEBLEND_MODEL_TOLERANCE_PPM))


def _same_components(a: _Components, b: _Components) -> bool:
    """Whether two sets of components differ by less than the backfitting tolerance."""
    if a[0].size != b[0].size:
        return False
    return bool(
        np.allclose(a[0], b[0], rtol=0.0, atol=0.1)
        and np.allclose(a[1], b[1], rtol=DEBLEND_TOLERANCE, atol=0.0)
        and np.allclose(a[2], b[2], rtol=DEBLEND_TOLERANCE, atol=1e-6)
    )


def _peak_columns(
    orb: pd.DataFrame, fits: list[FitResult], config: FitConfig
) -> dict[str, NDArray]:
    """The peak-table columns (untyped arrays) for the refits of one orbit.

    ``orb``: the orbit's soundings sorted by ``distance_km``.
    """
    x = orb["distance_km"].to_numpy(float)
    center = np.array([f.center_km for f in fits])
    nearest = nearest_index(x, center)
    cols: dict[str, NDArray] = {}
    for k in _FIT_FIELDS:
        values = [getattr(f, k) for f in fits]
        cols[k] = np.array(values, dtype=object if isinstance(values[0], str) else None)
    cols["distance_km"] = center
    orbit = orb["orbit"].to_numpy()[nearest] if "orbit" in orb else np.zeros(len(fits), int)
    cols["orbit"] = orbit.astype(np.int32)
    if "sounding_id" in orb:
        sid = orb["sounding_id"].to_numpy(np.int64)[nearest]
    else:
        sid = nearest.astype(np.int64)
    cols["sounding_id"] = sid
    cols["peak_id"] = np.array(
        [f"{o}-{s}" for o, s in zip(cols["orbit"], sid, strict=True)], dtype=object
    )
    if "time" in orb:
        cols["time"] = orb["time"].iloc[nearest].to_numpy()
    else:
        cols["time"] = np.full(len(fits), np.datetime64("NaT"), dtype="datetime64[ns]")
    if {"latitude", "longitude"} <= set(orb.columns):
        lat, lon, _ = mean_position(
            x,
            orb["latitude"],
            orb["longitude"],
            center - POSITION_SPAN_KM,
            center + POSITION_SPAN_KM,
        )
        bad = ~np.isfinite(lat)
        lat[bad] = orb["latitude"].to_numpy(float)[nearest[bad]]
        lon[bad] = orb["longitude"].to_numpy(float)[nearest[bad]]
    else:
        lat = lon = np.full(len(fits), np.nan)
    cols["latitude"], cols["longitude"] = lat, lon
    em = emissions_at(
        orb, center, cols["amplitude"], cols["amplitude_err"], config.wind_uncertainty_m_per_s
    )
    for name in em.columns:
        cols.setdefault(name, em[name].to_numpy())
    return cols


def _peak_table(parts: Sequence[dict[str, NDArray]]) -> pd.DataFrame:
    """One typed peak table (:func:`_typed`) from the columns of one or more orbits."""
    names = list(parts[0])
    return _typed(pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in names}))


#: Peak-table columns that come straight from a :class:`FitResult` (CONTRACT order).
_FIT_FIELDS = (
    *PEAK_COLUMNS[PEAK_COLUMNS.index("slope") : PEAK_COLUMNS.index("n_right") + 1],
    "passed",
    "reject_reason",
)


def _typed(rows: pd.DataFrame) -> pd.DataFrame:
    """CONTRACT column order and dtypes."""
    out = rows.reindex(columns=list(PEAK_COLUMNS))
    out["orbit"] = out["orbit"].astype(np.int32)
    out["sounding_id"] = out["sounding_id"].astype(np.int64)
    out["time"] = pd.to_datetime(out["time"], utc=True).astype("datetime64[ns, UTC]")
    for col in ("n_soundings", "n_left", "n_right"):
        out[col] = out[col].astype(np.int64)
    out["passed"] = out["passed"].astype(bool)
    out["peak_id"] = out["peak_id"].astype(str)
    out["reject_reason"] = out["reject_reason"].astype(str)
    return out


def empty_peaks() -> pd.DataFrame:
    """A peak table with no rows and the CONTRACT columns and dtypes."""
    rows = pd.DataFrame({c: pd.Series(dtype=float) for c in PEAK_COLUMNS})
    for col in ("peak_id", "reject_reason"):
        rows[col] = pd.Series(dtype=object)
    rows["passed"] = pd.Series(dtype=bool)
    return _typed(rows)


def orbit_groups(
    soundings: pd.DataFrame,
    config: FitConfig = FitConfig(),  # noqa: B008
) -> DataFrameGroupBy:
    """The soundings :func:`detect` scans, grouped by orbit (sorted).

    Rows with a non-zero ``xco2_quality_flag`` are dropped with ``config.quality ==
    "good"``; a table without ``orbit`` is orbit 0; ``distance_km`` is computed when
    absent.

    Raises
    ------
    SchemaError
        ``xco2`` is missing, or both ``distance_km`` and the positions are.
    """
    needed = ["xco2"] + ([] if "distance_km" in soundings else ["latitude", "longitude"])
    missing = [c for c in needed if c not in soundings]
    if missing:
        raise SchemaError(f"missing column(s) {', '.join(missing)} in sounding table")
    df = soundings
    if config.quality == "good" and "xco2_quality_flag" in df:
        df = df[df["xco2_quality_flag"] == 0]
    if "orbit" not in df:
        df = df.assign(orbit=np.int32(0))
    if "distance_km" not in df:
        df = add_distance_km(df)
    return df.groupby("orbit", sort=True)


def detect(
    soundings: pd.DataFrame,
    config: FitConfig = FitConfig(),  # noqa: B008
    progress: bool = False,
) -> pd.DataFrame:
    """Peak table (CONTRACT §2) of every orbit in a sounding table.

    Parameters
    ----------
    soundings : DataFrame
        Sounding table (CONTRACT §1). Minimal: ``distance_km`` and ``xco2``, or
        ``orbit, latitude, longitude, xco2`` (``distance_km`` is then computed).
        With ``config.quality == "good"`` rows with a non-zero
        ``xco2_quality_flag`` are ignored.
    config : FitConfig
        Bounds and thresholds.
    progress : bool
        Show a progress bar over orbits.

    Returns
    -------
    DataFrame
        Peaks of all orbits, passed and rejected, ordered by orbit and distance.

    Raises
    ------
    SchemaError
        ``xco2`` is missing, or both ``distance_km`` and the positions are.
    """
    groups = orbit_groups(soundings, config)
    parts = [
        _scan_columns(orbit_df, config)
        for _, orbit_df in tqdm(groups, total=groups.ngroups, desc="orbits", disable=not progress)
    ]
    parts = [p for p in parts if p is not None]
    if not parts:
        return empty_peaks()
    peaks = _peak_table(parts)  # built once for every orbit
    log.info("%d orbits: %d peaks, %d passed", groups.ngroups, len(peaks), peaks["passed"].sum())
    return peaks
