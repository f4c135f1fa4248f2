"""Tests of oco2explore.simulate.noise: noise, reported uncertainty, correlated error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oco2explore.errors import InputError
from oco2explore.simulate import (
    ANCHOR_ORBIT,
    FRAME_S,
    REAL_CORRELATED_ERROR_PPM,
    REAL_CORRELATION_KM,
    correlated_error,
    simulate_day,
    simulate_orbit,
)
from oco2explore.soundings import normalise_soundings

DAY = "2016-08-31"


def test_noise_matches_the_reported_uncertainty(null_day) -> None:
    df, _ = null_day
    good = df[df["xco2_quality_flag"] == 0]
    assert good["xco2_uncertainty"].between(0.4, 0.9).all()
    # Neighbouring soundings of a footprint differ by noise only (background is smooth).
    fp = good[good["footprint"] == 2].sort_values("time")
    close = np.diff(fp["time"].astype("int64").to_numpy()) / 1e9 < 0.4
    dx = np.diff(fp["xco2"].to_numpy())[close]
    unc = fp["xco2_uncertainty"].to_numpy()
    pair = np.hypot(unc[:-1], unc[1:])[close]
    assert 0.85 < np.std(dx / pair) < 1.15


def _frame_lag_covariance(df: pd.DataFrame, values: np.ndarray, lags: list[int]) -> np.ndarray:
    """Mean product of ``values`` over pairs of distinct soundings ``lag`` frames apart.

    Lag 0 pairs the different footprints of a frame; frames are 2.25 km apart.
    """
    frame = np.rint(df["time"].astype("int64").to_numpy() / 1e9 / FRAME_S).astype(np.int64)
    frames, inverse = np.unique(frame, return_inverse=True)
    total = np.bincount(inverse, values)
    count = np.bincount(inverse).astype(float)
    square = np.bincount(inverse, values * values)
    out = []
    for lag in lags:
        if lag == 0:
            out.append((total * total - square).sum() / (count * (count - 1)).sum())
            continue
        j = np.minimum(np.searchsorted(frames, frames + lag), frames.size - 1)
        pair = frames[j] == frames + lag
        out.append((total[pair] * total[j[pair]]).sum() / (count[pair] * count[j[pair]]).sum())
    return np.array(out)


def _residuals(df: pd.DataFrame, window_km: float = 60.0) -> np.ndarray:
    """XCO2 minus its running median over ``window_km`` along the track, per orbit."""
    out = np.empty(len(df))
    for _, idx in df.groupby("orbit").indices.items():
        orb = df.iloc[idx]
        # A time-like index of distance (1 km = 1 s) gives a distance window.
        xco2 = pd.Series(orb["xco2"].to_numpy(), index=pd.to_timedelta(orb["distance_km"], "s"))
        median = xco2.rolling(pd.Timedelta(seconds=window_km), center=True).median()
        out[idx] = xco2.to_numpy() - median.to_numpy()
    return out


def test_correlated_error_is_off_by_default(null_day) -> None:
    explicit = simulate_day(DAY, seed=0, plumes=False, correlated_error_ppm=0.0)
    np.testing.assert_array_equal(explicit[0]["xco2"].to_numpy(), null_day[0]["xco2"].to_numpy())
    pd.testing.assert_frame_equal(explicit[0], null_day[0])


def test_correlated_error_changes_only_xco2_and_is_shared_by_a_frame(
    null_day, correlated_null_day
) -> None:
    off, on = null_day[0], correlated_null_day[0]
    # Own random stream: clouds, flags, noise and everything else stay the same.
    same = [c for c in off.columns if c not in ("xco2", "xco2_x2019")]
    pd.testing.assert_frame_equal(on[same], off[same])
    error = (on["xco2"] - off["xco2"]).to_numpy()
    np.testing.assert_allclose(on["xco2_x2019"] - off["xco2_x2019"], error, atol=1e-9)
    assert 0.85 < np.std(error) / REAL_CORRELATED_ERROR_PPM < 1.15
    # All footprints of a frame share it.
    frame = on["sounding_id"].to_numpy() // 10
    by_frame = pd.Series(error).groupby(frame)
    assert ((by_frame.max() - by_frame.min()) < 1e-9).all()
    # Exponential correlation between frames (2.25 km apart), gone after a few lengths.
    corr = _frame_lag_covariance(on, error, [1, 2, 6, 7, 8]) / np.var(error)
    expected = np.exp(-np.array([1, 2]) * 2.249 / REAL_CORRELATION_KM)
    np.testing.assert_allclose(corr[:2], expected, atol=0.08)
    assert np.all(np.abs(corr[2:]) < 0.08)


def test_correlated_error_shows_in_the_residual_autocovariance(
    null_day, correlated_null_day
) -> None:
    a2 = REAL_CORRELATED_ERROR_PPM**2
    cov = {}
    for name, (df, _) in (("off", null_day), ("on", correlated_null_day)):
        good = df[df["xco2_quality_flag"] == 0].reset_index(drop=True)
        cov[name] = _frame_lag_covariance(good, _residuals(good), [0, 1, 6, 7, 8])
    # Lag 0 (footprints of one frame, < 1 km apart) and one frame (2.25 km): positive,
    # near rms² and rms² exp(-2.25 km / length) (the running median takes ~15 % off).
    assert abs(cov["off"][0]) < 0.15 * a2
    assert 0.6 * a2 < cov["on"][0] < 1.2 * a2
    assert 0.2 * a2 < cov["on"][1] < cov["on"][0]
    # Beyond ~4 correlation lengths (13.5-18 km) the excess over the error-free day is
    # only the running median's bias (~-0.15 rms²).
    excess = cov["on"] - cov["off"]
    assert excess[0] > 0.6 * a2
    assert abs(np.mean(excess[2:])) < 0.25 * a2


def test_correlated_error_is_reproducible_and_the_same_in_a_region() -> None:
    kwargs = {"seed": 0, "plumes": False, "correlated_error_ppm": REAL_CORRELATED_ERROR_PPM}
    a, _ = simulate_orbit(ANCHOR_ORBIT, regions=["highveld"], **kwargs)
    b, _ = simulate_orbit(ANCHOR_ORBIT, regions=["highveld"], **kwargs)
    pd.testing.assert_frame_equal(a, b)
    full, _ = simulate_orbit(ANCHOR_ORBIT, **kwargs)
    sub = full.set_index("sounding_id").loc[a["sounding_id"]]
    np.testing.assert_array_equal(sub["xco2"].to_numpy(), a["xco2"].to_numpy())


def test_correlated_error_process() -> None:
    rms, length = 0.3, 2.0
    s = np.arange(200_000) * 0.25
    e = correlated_error(np.random.default_rng(1), s, rms, length)
    assert abs(np.std(e) / rms - 1.0) < 0.05
    for lag in (4, 8, 16):  # 1, 2 and 4 km
        rho = np.mean(e[lag:] * e[:-lag]) / np.var(e)
        assert abs(rho - np.exp(-lag * 0.25 / length)) < 0.05
    # Uneven positions: the same exponential covariance.
    rng = np.random.default_rng(2)
    pairs = np.array([correlated_error(rng, [0.0, 1.0], rms, length) for _ in range(4000)])
    assert abs(np.mean(pairs[:, 0] * pairs[:, 1]) / rms**2 - np.exp(-0.5)) < 0.06
    x = np.sort(rng.uniform(0.0, 20_000.0, 40_000))
    assert abs(np.std(correlated_error(rng, x, rms, length)) / rms - 1.0) < 0.05
    # Off: zeros, and nothing drawn from the generator.
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    assert not correlated_error(rng_a, s, 0.0, length).any()
    assert rng_a.random() == rng_b.random()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"correlated_error_ppm": -0.1}, "correlated_error_ppm"),
        ({"correlated_error_ppm": 0.3, "correlation_km": 0.0}, "correlation_km"),
    ],
)
def test_bad_correlated_error_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        simulate_orbit(ANCHOR_ORBIT, regions=["highveld"], **kwargs)


def test_scatter_and_density_are_like_the_real_orbit(real_data: Path) -> None:
    real = [
        pd.read_csv(real_data / f"oco2_orbit11522_20160831_segment_{name}km.csv")
        for name in ("5700_6400", "6400_6700")
    ]
    soundings, _ = simulate_orbit(ANCHOR_ORBIT, seed=0, regions=["highveld"], plumes=False)
    sim = normalise_soundings(soundings[soundings["xco2_quality_flag"] == 0])

    def scatter(df: pd.DataFrame) -> float:
        return float(np.std(np.diff(df.sort_values("distance_km")["xco2"])) / np.sqrt(2))

    def density(df: pd.DataFrame) -> float:
        return len(df) / np.ptp(df["distance_km"])

    real_scatter = [scatter(r) for r in real]  # 0.28 and 0.54 ppm
    assert min(real_scatter) / 2 < scatter(sim) < 2 * max(real_scatter)
    real_density = [density(r) for r in real]  # 1.4 and 2.3 good soundings per km
    assert min(real_density) / 2 < density(sim) < 2 * max(real_density)
