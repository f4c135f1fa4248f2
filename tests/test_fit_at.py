"""The window fit of the explorer and the notebooks is the scan's refit (:func:`scan.fit_at`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oco2explore.config import FitConfig
from oco2explore.scan import fit_at, prepare_orbit, scan_orbit
from oco2explore.simulate import REAL_CORRELATED_ERROR_PPM, simulate_day

#: The real meteorology of the Highveld pass (shared/data/real/README.md).
HIGHVELD_MET = {
    "windspeed_u_met": -1.6995,
    "windspeed_v_met": -1.5996,
    "psurf": 848.3,
    "tcwv": 6.14,
}


def mismatches(orbit: pd.DataFrame, config: FitConfig) -> tuple[pd.DataFrame, list[str]]:
    """The orbit's peaks, and every peak whose fit_at at its centre differs from its row."""
    peaks = scan_orbit(orbit, config)
    track = prepare_orbit(orbit, config)
    bad = []
    for p in peaks.itertuples():
        fit = fit_at(track, p.distance_km, config, peaks).fit
        # A fit stuck on the σ_max bound (rejected) has no Δ of its own: its value follows
        # the window edges (seen once on simulated days under v2: 0.39 vs 0.36 ppm).
        on_bound = p.reject_reason == "sigma_max_km" and not p.passed
        same = (
            fit.passed == p.passed
            and fit.reject_reason == p.reject_reason
            and (on_bound or fit.delta_ppm == pytest.approx(p.delta_ppm, rel=0.01))
            and fit.sigma_km == pytest.approx(p.sigma_km, rel=0.01)
        )
        if not same:
            bad.append(
                f"{p.peak_id} at {p.distance_km:.2f} km: scan {p.passed} {p.reject_reason!r} "
                f"Δ {p.delta_ppm:.4f} σ {p.sigma_km:.4f}; fit_at {fit.passed} "
                f"{fit.reject_reason!r} Δ {fit.delta_ppm:.4f} σ {fit.sigma_km:.4f}"
            )
    return peaks, bad


@pytest.fixture(scope="module", params=[0.0, REAL_CORRELATED_ERROR_PPM], ids=["white", "real-like"])
def simulated_orbits(request) -> list[pd.DataFrame]:
    """Good soundings of the orbits of a simulated day, two seeds, white or real-like noise."""
    orbits = []
    for seed in (0, 1):
        day, _ = simulate_day("2016-08-31", seed=seed, correlated_error_ppm=request.param)
        orbits += [o for _, o in day[day["xco2_quality_flag"] == 0].groupby("orbit")]
    return orbits


@pytest.mark.parametrize("wind_aligned", [True, False])
def test_fit_at_every_simulated_peak_gives_its_row(simulated_orbits, wind_aligned):
    config = FitConfig(wind_aligned=wind_aligned)
    n_peaks = n_passed = 0
    problems = []
    for orbit in simulated_orbits:
        peaks, bad = mismatches(orbit, config)
        n_peaks += len(peaks)
        n_passed += int(peaks["passed"].sum())
        problems += bad
    assert n_passed >= 3 and n_peaks > 3 * n_passed  # passed and rejected peaks were checked
    assert not problems, "\n".join(problems)


def test_fit_at_every_simulated_peak_gives_its_row_under_detector_v2(simulated_orbits):
    """The per-orbit noise model is estimated once per orbit, by the scan and by fit_at alike."""
    config = FitConfig.preset("v2")
    n_peaks = n_passed = 0
    problems = []
    for orbit in simulated_orbits[:10]:
        peaks, bad = mismatches(orbit, config)
        n_peaks += len(peaks)
        n_passed += int(peaks["passed"].sum())
        problems += bad
    assert n_passed >= 1 and n_peaks > 3 * n_passed
    assert not problems, "\n".join(problems)


def test_fit_at_without_deblending_gives_each_row(simulated_orbits):
    config = FitConfig(deblend=False)
    problems = []
    for orbit in simulated_orbits[:8]:
        problems += mismatches(orbit, config)[1]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("preset", ["v1", "v2"])
@pytest.mark.parametrize("wind", [False, True])
def test_fit_at_real_highveld_peaks(real_data, wind, preset):
    df = pd.read_csv(real_data / "oco2_orbit11522_20160831_highveld_peak.csv").assign(orbit=11522)
    if wind:
        df = df.assign(**HIGHVELD_MET)
    peaks, bad = mismatches(df, FitConfig.preset(preset))
    assert peaks["passed"].sum() == 1
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("preset", ["v1", "v2"])
@pytest.mark.parametrize("name", ["segment_5700_6400km", "segment_6400_6700km"])
def test_fit_at_real_plume_free_peaks(real_data, name, preset):
    df = pd.read_csv(real_data / f"oco2_orbit11522_20160831_{name}.csv")
    peaks, bad = mismatches(df, FitConfig.preset(preset))
    assert len(peaks) and not peaks["passed"].any()
    assert not bad, "\n".join(bad)


def test_fit_at_subtracts_the_other_peaks_and_draws_them():
    x = np.arange(0.0, 600.0, 0.5)
    rng = np.random.default_rng(2)
    plumes = [(250.0, 60.0, 4.0), (290.0, 80.0, 5.0)]
    y = 400.0 + sum(
        a / (s * np.sqrt(2 * np.pi)) * np.exp(-0.5 * ((x - c) / s) ** 2) for c, a, s in plumes
    )
    orbit = pd.DataFrame({"distance_km": x, "xco2": y + rng.normal(0.0, 0.4, x.size)})
    config = FitConfig()
    peaks = scan_orbit(orbit, config)
    assert peaks["passed"].sum() == 2
    first = peaks[peaks["passed"]].iloc[0]
    alone = fit_at(orbit, first["distance_km"], config)
    deblended = fit_at(orbit, first["distance_km"], config, peaks)
    assert alone.n_neighbours == 0 and deblended.n_neighbours == 1
    assert deblended.fit.significance > alone.fit.significance
    # The drawn model holds the neighbour: it follows the data at the other plume too.
    near_other = np.abs(deblended.x - 290.0) < 3.0
    resid = deblended.xco2[near_other] - deblended.model(deblended.x)[near_other]
    assert abs(resid.mean()) < 0.3
