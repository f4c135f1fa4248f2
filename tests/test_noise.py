"""Tests of oco2explore.noise: banded GLS against the dense inverse, the variogram estimate
on data of known covariance and on the real plume-free stretches, the false-alarm formula."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oco2explore import noise
from oco2explore.noise import (
    NULL_VARIANCE,
    NoiseModel,
    estimate_noise,
    excursion_mask,
    fallback_noise,
    false_peaks_per_10000km,
    gls_chi2,
    significance_threshold,
)


def _ou(rng: np.random.Generator, pos: np.ndarray, rms: float, length: float) -> np.ndarray:
    """An exponentially correlated error at the distinct positions, shared at each one."""
    up = np.unique(pos)
    x = np.empty(up.size)
    x[0] = rng.normal() * rms
    rho = np.exp(-np.diff(up) / length)
    for i in range(1, up.size):
        x[i] = rho[i - 1] * x[i - 1] + np.sqrt(1 - rho[i - 1] ** 2) * rms * rng.normal()
    return x[np.searchsorted(up, pos)]


def _frames(n_frames: int) -> np.ndarray:
    """8 footprints per frame sharing its along-track position, frames 2.25 km apart."""
    return np.repeat(np.arange(n_frames) * 2.25, 8)


@pytest.mark.parametrize(
    "scales", [(), ((0.3, 3.5),), ((0.3, 3.5), (0.4, 15.0)), ((0.2, 1.0), (0.3, 5.0), (0.5, 40.0))]
)
def test_gls_chi2_is_the_dense_generalised_least_squares(scales):
    rng = np.random.default_rng(len(scales))
    n = 400
    pos = np.round(np.sort(rng.uniform(0, 250, n)), 1)  # with repeated positions
    white = rng.uniform(0.1, 0.5, n)
    model = NoiseModel(1.0, scales)
    inv = np.linalg.inv(model.covariance(pos, white))
    design = np.column_stack([pos, np.ones(n), rng.normal(size=n)])
    y = rng.normal(size=n)
    chi2, beta = gls_chi2(design, y, white, pos, scales)
    for j in range(4):
        x = design[:, :j]
        b = np.linalg.solve(x.T @ inv @ x, x.T @ inv @ y) if j else np.zeros(0)
        r = y - x @ b
        assert chi2[j] == pytest.approx(r @ inv @ r, rel=1e-7)
    np.testing.assert_allclose(beta, b, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("smooth", [((0.3, 50.0),), ((0.2, 50.0), (0.4, 150.0))])
def test_gls_chi2_with_smooth_components_is_the_dense_one(smooth):
    """The reduced-rank smooth basis gives the dense GLS χ² and Δχ² to ~1e-4."""
    rng = np.random.default_rng(3)
    pos = np.round(np.sort(rng.uniform(0, 240, 500)), 1)
    white = rng.uniform(0.1, 0.5, pos.size)
    model = NoiseModel(1.0, ((0.3, 3.5), (0.2, 15.0)), smooth)
    cov = model.covariance(pos, white)
    inv = np.linalg.inv(cov)
    bump = np.exp(-0.5 * ((pos - 120.0) / 20.0) ** 2)
    design = np.column_stack([pos - 120.0, np.ones(pos.size), bump])
    y = np.linalg.cholesky(cov) @ rng.normal(size=pos.size) + 1.5 * bump
    chi2, beta = gls_chi2(design, y, white, pos, model.scales, model.smooth)
    dense = []
    for j in range(4):
        x = design[:, :j]
        b = np.linalg.solve(x.T @ inv @ x, x.T @ inv @ y) if j else np.zeros(0)
        r = y - x @ b
        dense.append(r @ inv @ r)
    np.testing.assert_allclose(chi2, dense, rtol=1e-4)
    assert chi2[2] - chi2[3] == pytest.approx(dense[2] - dense[3], rel=1e-3)
    np.testing.assert_allclose(beta, b, rtol=1e-2, atol=1e-3)


@pytest.mark.parametrize("frames", [False, True])
def test_gls_chi2_of_a_kept_window_factorisation_is_the_fresh_one(frames):
    """Refits of one window (other data, other Gaussians) reuse its factorisation and its
    solved columns: the same χ² and coefficients as with nothing kept, in any order of
    the soundings (one per position, or the 8 footprints of a frame at one)."""
    rng = np.random.default_rng(5)
    pos = _frames(40) if frames else np.sort(rng.uniform(0, 200, 300))
    white = rng.uniform(0.1, 0.5, pos.size)
    model = NoiseModel(1.0, ((0.3, 3.5), (0.2, 15.0)), ((0.3, 50.0),))
    line = np.column_stack([pos - 100.0, np.ones(pos.size)])
    fits = []
    for k in range(6):
        bump = np.exp(-0.5 * ((pos - 60.0 - 15.0 * k) / (2.0 + k)) ** 2)
        y = rng.normal(size=pos.size) + bump
        fits.append((np.column_stack([line, bump]), y if k % 2 else y + 1.0))
    noise._FACTORS.clear()
    kept = [gls_chi2(d, y, white, pos, model.scales, model.smooth) for d, y in fits]
    assert len(noise._FACTORS) == 1
    order = rng.permutation(pos.size)
    for (d, y), (chi2, beta) in zip(fits, kept, strict=True):
        noise._FACTORS.clear()
        fresh = gls_chi2(d, y, white, pos, model.scales, model.smooth)
        shuffled = gls_chi2(
            d[order], y[order], white[order], pos[order], model.scales, model.smooth
        )
        for other in (fresh, shuffled):
            np.testing.assert_allclose(chi2, other[0], rtol=1e-10)
            np.testing.assert_allclose(beta, other[1], rtol=1e-8, atol=1e-12)


def test_the_excursion_mask_finds_plumes_and_domes_not_noise():
    rng = np.random.default_rng(4)
    pos = _frames(2000)  # 4,500 km
    noise = rng.normal(0.0, 0.5, pos.size) + _ou(rng, pos, 0.3, 3.5)
    assert excursion_mask(pos, 400.0 + noise).mean() < 0.03  # noise's own rare excursions
    dome = 3.0 * np.exp(-0.5 * ((pos - 1500.0) / 25.0) ** 2)
    plume = 4.0 * np.exp(-0.5 * ((pos - 3000.0) / 4.0) ** 2)
    mask = excursion_mask(pos, 400.0 + noise + dome + plume)
    assert mask[np.abs(pos - 1500.0) < 20.0].all()
    assert mask[np.abs(pos - 1500.0) < 2.4 * 25.0].mean() > 0.9  # the flanks too
    assert mask[np.abs(pos - 3000.0) < 3.0].all()
    assert mask.mean() < 0.07
    assert not excursion_mask(pos[:10], np.zeros(10)).any()  # too short: nothing masked


def test_a_noise_model_round_trips_through_json():
    model = NoiseModel(0.5, ((0.2, 3.5), (0.1, 15.0)), ((0.3, 50.0), (0.0, 150.0)))
    assert NoiseModel.from_dict(model.to_dict()) == model
    old = {"white_ppm": 0.5, "scales": [[0.2, 3.5]]}  # written before the smooth part
    assert NoiseModel.from_dict(old) == NoiseModel(0.5, ((0.2, 3.5),))


@pytest.mark.parametrize(
    ("white", "r_short", "r_long"),
    [(0.5, 0.0, 0.0), (0.5, 0.3, 0.0), (0.5, 0.3, 0.4), (0.4, 0.0, 0.5)],
)
def test_the_estimate_recovers_a_known_covariance(white, r_short, r_long):
    rng = np.random.default_rng(11)
    pos = _frames(12_000)  # 27,000 km of frames
    y = 400.0 + rng.normal(0.0, white, pos.size)
    if r_short:
        y += _ou(rng, pos, r_short, 3.5)
    if r_long:
        y += _ou(rng, pos, r_long, 15.0)
    # The estimator itself, on all soundings (no excursion mask): each component found.
    model = estimate_noise(pos, y, mask_excursions=False)
    assert model.white_ppm == pytest.approx(white, rel=0.1)
    (short, _), (long, _) = model.scales
    assert short == pytest.approx(r_short, abs=0.1)  # ppm: 0.01 ppm² of variance
    assert long == pytest.approx(r_long, abs=0.1)
    assert all(rms < 0.15 for rms, _ in model.smooth)  # no smooth part where there is none
    # With the mask, a strong correlated error's own upper tail is partly masked (with
    # the dilated flanks): the white error stays right, the total correlated variance
    # within 0.1 ppm² (0.33 for 0.25 with 0.5 ppm over 15 km: conservative), the split
    # between components may not.
    masked = estimate_noise(pos, y)
    assert masked.white_ppm == pytest.approx(white, rel=0.1)
    total = sum(r * r for r, _ in masked.scales + masked.smooth)
    assert total == pytest.approx(r_short**2 + r_long**2, abs=0.1)  # ppm²


def test_a_smooth_background_goes_into_the_smooth_components():
    """A 0.4 ppm variability over ~60 km is covariance, not a drift outside the model."""
    rng = np.random.default_rng(5)
    pos = _frames(4000)
    y = 400.0 + rng.normal(0.0, 0.4, pos.size)
    grid = np.arange(pos.min() - 100.0, pos.max() + 100.0, 5.0)
    cov = 0.16 * np.exp(-0.5 * ((grid[:, None] - grid[None, :]) / 60.0) ** 2)
    chol = np.linalg.cholesky(cov + 1e-9 * np.eye(grid.size))
    field = np.interp(pos, grid, chol @ rng.normal(size=grid.size))
    model = estimate_noise(pos, y + field, mask_excursions=False)
    assert model.white_ppm == pytest.approx(0.4, rel=0.1)
    # Its semivariogram of the correlated parts at the lags a window sees, ppm².
    lags = np.array([0.0, 20.0, 50.0, 100.0])
    cov = model.covariance(lags, np.zeros(4))[0]
    true = 0.16 * (1.0 - np.exp(-0.5 * (lags / 60.0) ** 2))
    np.testing.assert_allclose((cov[0] - cov)[1:], true[1:], rtol=0.3)
    assert sum(r * r for r, _ in model.smooth) > 0.1  # mostly in the smooth components
    assert estimate_noise(pos, y + field, smooth_km=()).smooth == ()


def test_a_city_dome_barely_moves_the_estimate():
    rng = np.random.default_rng(2)
    pos = _frames(3000)
    y = 400.0 + rng.normal(0.0, 0.5, pos.size) + _ou(rng, pos, 0.3, 15.0)
    dome = 3.0 * np.exp(-0.5 * ((pos - 3000.0) / 30.0) ** 2)
    a, b = estimate_noise(pos, y), estimate_noise(pos, y + dome)
    assert b.white_ppm == pytest.approx(a.white_ppm, rel=0.05)
    # The correlated variance (its split between 3.5 and 15 km is poorly identified).
    exp_var = [sum(r * r for r, _ in m.scales) for m in (a, b)]
    assert exp_var[1] == pytest.approx(exp_var[0], rel=0.2)


def test_real_plume_free_stretches(real_data):
    """Orbit 11522: white error, a few-km correlated error, little 15 km variability."""
    for name in ("5700_6400", "6400_6700"):
        df = pd.read_csv(real_data / f"oco2_orbit11522_20160831_segment_{name}km.csv")
        model = estimate_noise(df["distance_km"], df["xco2"])
        assert 0.2 < model.white_ppm < 0.5
        # The real 0.28 ppm shared over a few km (3.5 km; with the excursion mask on the
        # longer stretch it moves to the 15 km component): 0.25–0.4 ppm in all.
        assert 0.25 < np.hypot(*(r for r, _ in model.scales)) < 0.4


def test_short_or_empty_stretches_fall_back():
    y = np.array([400.0, 400.5, 399.8, 400.2])
    model = estimate_noise(np.arange(4.0), y)
    assert model == fallback_noise(y)
    assert model.scales[0] == (0.28, 3.5)
    assert estimate_noise([], []).white_ppm == 1.0


def test_white_variance_keeps_relative_weights():
    model = NoiseModel(0.6)
    v = model.white_var(np.array([1.0, 2.0, 1.0]))
    np.testing.assert_allclose(v, [0.36, 1.44, 0.36])
    np.testing.assert_allclose(model.white_var(size=2), [0.36, 0.36])
    assert NoiseModel.from_dict(NoiseModel(0.5, ((0.2, 3.5),)).to_dict()) == NoiseModel(
        0.5, ((0.2, 3.5),)
    )


def test_false_alarm_threshold_and_its_inverse():
    widths = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 40.0)
    gaussian_null = [significance_threshold(s, 0.1, 1.0, 40.0, 1.0) for s in widths]
    np.testing.assert_allclose(gaussian_null, [21.8, 20.4, 18.4, 17.0, 15.5, 14.6, 14.0], atol=0.06)
    real_null = [significance_threshold(s, 0.1, 1.0, 40.0) for s in widths]
    np.testing.assert_allclose(real_null, np.array(gaussian_null) * NULL_VARIANCE, rtol=1e-9)
    for s, t in zip(widths, real_null, strict=True):
        assert false_peaks_per_10000km(t, s, 1.0, 40.0) == pytest.approx(0.1, rel=1e-6)
    # More significant, rarer; a target beyond the formula's maximum gives the floor.
    rates = false_peaks_per_10000km([10.0, 20.0, 40.0], 5.0, 1.0, 40.0)
    assert rates[0] > rates[1] > rates[2]
    assert significance_threshold(5.0, 1e6, 1.0, 40.0) == NULL_VARIANCE


def test_the_rice_rate_of_a_matched_filter_on_white_noise():
    """The 1-D part of the formula: upcrossings of z(c) per km, λ_c = 1/(2σ²)."""
    rng = np.random.default_rng(0)
    sigma, step, n = 3.0, 0.25, 400_000
    noise = rng.normal(size=n)
    tau = np.arange(-8 * sigma, 8 * sigma + step, step)
    kernel = np.exp(-0.5 * (tau / sigma) ** 2)
    z = np.convolve(noise, kernel / np.sqrt((kernel * kernel).sum()), mode="valid")
    u = 2.0
    crossings = np.count_nonzero((z[:-1] < u) & (z[1:] >= u))
    km = z.size * step
    expected = np.sqrt(1.0 / (2.0 * sigma**2)) / (2.0 * np.pi) * np.exp(-0.5 * u * u) * km
    assert crossings == pytest.approx(expected, rel=0.2)
