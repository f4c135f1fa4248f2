import dataclasses
import logging

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oco2explore import geo, scan
from oco2explore.config import FitConfig
from oco2explore.emission import cross_sectional_flux, wind_perpendicular
from oco2explore.fit import fit_window, gaussian
from oco2explore.scan import (
    _refit_candidates,
    _same_window_data,
    candidate_significance,
    detect,
    empty_peaks,
    fit_at,
    peak_components,
    preparation_key,
    prepare_orbit,
    scan_orbit,
    wind_aligned_km,
)
from oco2explore.schema import PEAK_COLUMNS

SEED_CENTRE = (-26.2786, 28.9304)
#: Detector v1 (σ-scaled threshold, fixed correlated-error statistic).
V1 = FitConfig.preset("v1")
#: The white-noise Δχ² statistic with the threshold these tests were written for.
WHITE = V1.replace(error_correlation_ppm=None, significance_min=30.0)


def orbit_table(x, xco2, heading=350.0, orbit=11522, wind=(3.0, 1.0)):
    """A northbound-ish orbit through the Highveld with the given along-track values."""
    lat, lon = geo.destination(-30.0, 29.0, heading, x)
    n = x.size
    return pd.DataFrame(
        {
            "sounding_id": 2016083111000000 + np.arange(n) * 10 + 1,
            "time": pd.Timestamp("2016-08-31T11:00Z") + pd.to_timedelta(np.arange(n) * 0.04, "s"),
            "orbit": np.int32(orbit),
            "latitude": lat,
            "longitude": lon,
            "xco2": xco2,
            "xco2_uncertainty": 0.5,
            "windspeed_u_met": wind[0],
            "windspeed_v_met": wind[1],
            "psurf": 850.0,
            "tcwv": 10.0,
            "distance_km": x,
        }
    )


def two_plumes(noise=0.5, seed=0):
    rng = np.random.default_rng(seed)
    x = np.arange(0.0, 2000.0, 0.3)
    y = 400.0 + 0.0005 * x + gaussian(x - 600.0, 40.0, 4.0) + gaussian(x - 1400.0, 60.0, 8.0)
    return x, y + rng.normal(0.0, noise, x.size)


def test_candidate_statistic_matches_the_direct_linear_fit():
    rng = np.random.default_rng(4)
    x = np.arange(0.0, 600.0, 1.0) + 0.25  # one sounding per bin, at the bin centre
    y = 400 + 0.002 * x + gaussian(x - 300.25, 30.0, 5.0) + rng.normal(0, 0.4, x.size)
    config = WHITE.replace(significance_scale_km=None)
    cand = candidate_significance(x, y, np.ones_like(x), config)
    row = cand.iloc[int(np.argmax(cand["significance"]))]
    assert row["center_km"] == pytest.approx(300.25, abs=3.0)
    inside = np.abs(x - row["center_km"]) <= config.half_width_km
    t = x[inside] - row["center_km"]
    design = np.column_stack([np.ones_like(t), t, gaussian(t, 1.0, row["sigma_km"])])
    coef, rss, *_ = np.linalg.lstsq(design, y[inside], rcond=None)
    _, rss_line, *_ = np.linalg.lstsq(design[:, :2], y[inside], rcond=None)
    expected = (rss_line[0] - rss[0]) / (rss[0] / (t.size - 4))
    assert row["amplitude"] == pytest.approx(coef[2], rel=1e-6)
    assert row["significance"] == pytest.approx(expected, rel=1e-6)
    # ... and the full fit with the centre and σ left free does at least as well.
    full = fit_window(x, y, row["center_km"], config)
    assert full.significance >= expected * 0.95


def test_one_peak_per_plume_and_contract_columns():
    x, y = two_plumes()
    peaks = detect(orbit_table(x, y))
    assert list(peaks.columns) == list(PEAK_COLUMNS)
    passed = peaks[peaks["passed"]]
    assert len(passed) == 2
    np.testing.assert_allclose(passed["distance_km"], [600.0, 1400.0], atol=1.5)
    np.testing.assert_allclose(passed["sigma_km"], [4.0, 8.0], rtol=0.2)
    assert passed["peak_id"].str.match(r"^11522-2016083111\d+$").all()
    assert peaks["orbit"].dtype == np.int32 and peaks["sounding_id"].dtype == np.int64
    assert str(peaks["time"].dtype) == "datetime64[ns, UTC]"
    assert peaks["passed"].dtype == bool


def test_emission_of_a_noiseless_plume():
    x = np.arange(0.0, 600.0, 0.3)
    y = 400.0 + gaussian(x - 300.0, 50.0, 5.0)
    peaks = detect(orbit_table(x, y, heading=10.0, wind=(3.0, 1.0)))
    peak = peaks[peaks["passed"]].iloc[0]
    # The local direction of travel at 300 km along the great circle.
    (lat0, lat1), (lon0, lon1) = geo.destination(-30.0, 29.0, 10.0, np.array([299.0, 301.0]))
    heading = geo.bearing_deg(lat0, lon0, lat1, lon1)
    perp = wind_perpendicular(3.0, 1.0, heading)
    assert peak["wind_perp"] == pytest.approx(perp, abs=0.02)
    expected, _ = cross_sectional_flux(50.0, 850.0, 10.0, perp)
    assert peak["emission_kg_per_s"] == pytest.approx(expected, rel=1e-3)
    assert peak["emission_mt_per_yr"] == pytest.approx(expected * 365.25 * 86400 / 1e9, rel=1e-3)
    lat, lon = geo.destination(-30.0, 29.0, 10.0, 300.0)
    assert geo.haversine_km(peak["latitude"], peak["longitude"], lat, lon) < 0.5


def test_plume_free_noise_gives_no_passed_peak():
    rng = np.random.default_rng(12)
    x = np.arange(0.0, 5000.0, 0.4)
    peaks = detect(orbit_table(x, 400.0 + rng.normal(0, 0.7, x.size)))
    assert not peaks["passed"].any()


def test_orbits_are_scanned_separately_and_bad_quality_ignored():
    x, y = two_plumes(seed=1)
    a = orbit_table(x, y, orbit=1)
    b = orbit_table(x, y, orbit=2).assign(xco2_quality_flag=np.int8(0))
    b.loc[b.index[::2], "xco2_quality_flag"] = 1
    b.loc[b.index[::2], "xco2"] = 0.0  # would ruin the fits if used
    peaks = detect(pd.concat([a.assign(xco2_quality_flag=np.int8(0)), b]))
    assert peaks.groupby("orbit")["passed"].sum().to_dict() == {1: 2, 2: 2}


def test_distance_and_xco2_alone_are_enough():
    x, y = two_plumes()
    peaks = scan_orbit(pd.DataFrame({"distance_km": x, "xco2": y}))
    passed = peaks[peaks["passed"]]
    assert len(passed) == 2
    assert (passed["orbit"] == 0).all()
    idx = passed["sounding_id"].to_numpy()
    np.testing.assert_allclose(x[idx], passed["distance_km"], atol=0.2)
    assert passed[["latitude", "emission_kg_per_s"]].isna().all(axis=None)


def test_empty_and_tiny_inputs():
    assert list(empty_peaks().columns) == list(PEAK_COLUMNS)
    assert len(detect(pd.DataFrame({"distance_km": [], "xco2": []}))) == 0
    tiny = pd.DataFrame({"distance_km": [1.0, 2.0], "xco2": [400.0, np.nan]})
    assert len(detect(tiny, progress=True)) == 0


def test_thresholds_come_from_the_config():
    x, y = two_plumes()
    table = orbit_table(x, y)
    strict = detect(table, V1.replace(significance_min=1e6))
    assert not strict["passed"].any()
    rare = detect(table, FitConfig(false_peaks_per_10000km=1e-250))  # threshold ~1,500
    assert not rare.loc[rare["significance"] < 1400.0, "passed"].any()
    narrow = detect(table, FitConfig(sigma_max_km=6.0))
    assert narrow.loc[narrow["passed"], "sigma_km"].max() < 6.0


def test_a_weak_broad_refit_does_not_hide_a_strong_narrow_candidate():
    # A cluster: the broad fit centred between the plumes is rejected as too weak,
    # but the narrow candidate 10 km away is significant on its own and is refitted.
    rng = np.random.default_rng(1)
    x = np.arange(0.0, 400.0, 0.3)
    y = 400.0 + gaussian(x - 210.0, 12.0, 3.0) + rng.normal(0.0, 0.4, x.size)
    config = WHITE.replace(center_shift_max_km=0.0)
    centers, sigmas = np.array([200.0, 210.0]), np.array([12.0, 3.0])
    track = prepare_orbit(pd.DataFrame({"distance_km": x, "xco2": y}), config)
    fits = [
        r.fit for r in _refit_candidates(track, centers, sigmas, np.array([60.0, 100.0]), config)
    ]
    assert [f.reject_reason for f in fits] == ["significance_min", ""]
    assert fits[1].sigma_km == pytest.approx(3.0, rel=0.3)
    # A candidate below the threshold at its width stays hidden by the weak refit.
    weak = _refit_candidates(track, centers, sigmas, np.array([60.0, 20.0]), config)
    assert len(weak) == 1


@pytest.mark.parametrize("preset", ["v1", "v2"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_narrow_plume_beside_a_broad_weak_bump_is_found(seed, preset):
    # Frames every 2.25 km (8 soundings each): the broad bump's raw statistic beside
    # the plume is larger, but far below its own (σ-scaled) threshold under v1. Under
    # v2 the broad candidate is refitted first and converges between the two (R² too
    # low); the plume, nested in it (σ 2.5 km on σ 20 km), is found on the data less
    # that fit and then fitted with the broad one subtracted (FitConfig.nested_ratio).
    x = np.repeat(np.arange(0.0, 600.0, 2.25), 8)
    rng = np.random.default_rng(seed)
    y = 400.0 + gaussian(x - 300.0, 45.0, 20.0) + gaussian(x - 318.0, 12.0, 2.5)
    table = pd.DataFrame(
        {"distance_km": x, "xco2": y + rng.normal(0.0, 0.7, x.size), "xco2_uncertainty": 0.7}
    )
    passed = detect(table, FitConfig.preset(preset)).query("passed")
    assert len(passed) == 1
    assert passed["distance_km"].iloc[0] == pytest.approx(318.0, abs=4.0)
    assert passed["sigma_km"].iloc[0] < 6.0


def _frames(seed: int, length_km: float = 700.0) -> tuple[np.ndarray, np.random.Generator]:
    """Positions of 8 soundings per 2.25 km frame, jittered (km, sorted), and the generator."""
    rng = np.random.default_rng(seed)
    x = np.repeat(np.arange(0.0, length_km, 2.25), 8)
    return np.sort(x + rng.uniform(-0.6, 0.6, x.size)), rng


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_plant_on_a_city_dome_is_a_peak_of_its_own(seed):
    # A city dome (Δ 2.5 ppm, σ 25 km) and a power plant's plume 10 km from its centre
    # (Δ 3 ppm, σ 2 km), 0.5 ppm noise. Without nesting (before session 12) the scan gave
    # one blended peak (Δ ~2.9 ppm, σ ~22 km): neither the city's nor the plant's.
    x, rng = _frames(seed)
    t = x - 350.0
    y = 2.5 * np.exp(-0.5 * (t / 25.0) ** 2) + 3.0 * np.exp(-0.5 * ((t - 10.0) / 2.0) ** 2)
    table = pd.DataFrame(
        {
            "distance_km": x,
            "xco2": 400.0 + y + rng.normal(0.0, 0.5, x.size),
            "xco2_uncertainty": 0.5,
        }
    )
    passed = detect(table).query("passed").sort_values("sigma_km")
    assert len(passed) == 2
    plant, dome = passed.iloc[0], passed.iloc[1]
    assert plant["distance_km"] == pytest.approx(360.0, abs=1.0)
    assert plant["sigma_km"] == pytest.approx(2.0, rel=0.25)
    assert plant["delta_ppm"] == pytest.approx(3.0, rel=0.25)
    assert dome["distance_km"] == pytest.approx(350.0, abs=3.0)
    assert dome["sigma_km"] == pytest.approx(25.0, rel=0.15)
    assert dome["delta_ppm"] == pytest.approx(2.5, rel=0.1)
    blended = detect(table, FitConfig(nested_ratio=None)).query("passed")
    assert len(blended) == 1


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("shape", ["flat-top", "skewed", "cusp"])
def test_one_enhancement_of_another_shape_is_one_peak(shape, seed):
    # Nesting must not split a single enhancement that is not Gaussian: a flat-top dome
    # (Δ 3 exp(−½ (t/25 km)⁴)), a skewed plume (σ 3 km upwind side, 9 km the other) and
    # a cusp with heavy tails (Δ 3 exp(−|t|/4 km)), 0.5 ppm noise.
    x, rng = _frames(seed)
    t = x - 350.0
    profile = {
        "flat-top": 3.0 * np.exp(-0.5 * (t / 25.0) ** 4),
        "skewed": 3.0 * np.exp(-0.5 * (t / np.where(t < 0.0, 3.0, 9.0)) ** 2),
        "cusp": 3.0 * np.exp(-np.abs(t) / 4.0),
    }[shape]
    table = pd.DataFrame(
        {
            "distance_km": x,
            "xco2": 400.0 + profile + rng.normal(0.0, 0.5, x.size),
            "xco2_uncertainty": 0.5,
        }
    )
    passed = detect(table).query("passed")
    assert len(passed) == 1
    assert passed["distance_km"].iloc[0] == pytest.approx(350.0, abs=5.0)


def test_nested_widths_and_components_counted_once():
    assert scan.nested(20.0, 5.0, 4.0) and scan.nested(5.0, 20.0, 4.0)
    assert not scan.nested(20.0, 5.1, 4.0)
    assert not np.any(scan.nested(np.array([40.0, 1.0]), 1.0, None))
    # Suppression keeps a narrow fit nested in a broad one only when both stand for
    # structure: a weak rejected bump inside a plume is dropped as before.
    centres, widths, order = np.array([100.0, 105.0]), np.array([30.0, 3.0]), np.array([0, 1])
    assert scan._suppress(centres, widths, order) == [0]
    assert scan._suppress(centres, widths, order, 4.0) == [0, 1]
    assert scan._suppress(centres, widths, order, 4.0, np.array([True, False])) == [0]
    # Two refits of one enhancement from two candidates are one component, not two.
    x, rng = _frames(0)
    y = 400.0 + gaussian(x - 350.0, 60.0, 8.0) + rng.normal(0.0, 0.5, x.size)
    config = FitConfig()
    track = prepare_orbit(pd.DataFrame({"distance_km": x, "xco2": y}), config)
    fits = [scan._refit(track, centre, 8.0, config) for centre in (345.0, 356.0)]
    assert all(f.passed for f in fits) and fits[0].center_km != fits[1].center_km
    assert scan._components_of(fits, config)[0].size == 1


@pytest.mark.parametrize("seed", [0, 2])
def test_a_narrow_plume_on_a_broad_bump_is_proposed_at_its_own_width(seed):
    # Frames every 2.25 km (8 footprints, jittered along the track), a broad bump
    # (Δ 2 ppm, σ 40 km) and 40 km from its centre a near-source plume (Δ 4 ppm,
    # σ 1.5 km). At every bin near the plume the broad width has the larger margin, so
    # one width per bin proposes no narrow candidate there; the plume is a maximum over
    # centre and width. (With seed 1 both searches find the plume.) Without those
    # candidates the plume is still found when the broad fit's residuals are searched for
    # plumes nested in it (FitConfig.nested_ratio); with neither it is lost.
    rng = np.random.default_rng(seed)
    x = np.repeat(np.arange(0.0, 900.0, 2.25), 8)
    x = x + rng.uniform(-0.6, 0.6, x.size)
    y = 400.0 + gaussian(x - 450.0, 2.0 * 40.0 * np.sqrt(2 * np.pi), 40.0)
    y = y + gaussian(x - 490.0, 4.0 * 1.5 * np.sqrt(2 * np.pi), 1.5)
    table = pd.DataFrame(
        {"distance_km": x, "xco2": y + rng.normal(0.0, 0.6, x.size), "xco2_uncertainty": 0.6}
    ).sort_values("distance_km")
    one_width = FitConfig(scale_space_candidates=False)
    for config, proposed, found in (
        (FitConfig(), True, True),
        (one_width, False, True),
        (dataclasses.replace(one_width, nested_ratio=None), False, False),
    ):
        track = prepare_orbit(table, config)
        centres, sigmas, _sig, _pre, margin, local_max = scan._candidates(
            track.x, track.xco2, track.weight, config
        )
        near = local_max & (margin >= 1.0) & (np.abs(centres - 490.0) < 3.0) & (sigmas < 5.0)
        assert near.any() == proposed
        passed = detect(table, config).query("passed")
        plume = (np.abs(passed["distance_km"] - 490.0) < 3.0) & (passed["sigma_km"] < 3.0)
        assert plume.any() == found


def test_real_highveld_gives_one_peak(real_data):
    df = pd.read_csv(real_data / "oco2_orbit11522_20160831_highveld_peak.csv")
    peaks = detect(df.assign(orbit=11522))
    passed = peaks[peaks["passed"]]
    assert len(passed) == 1
    peak = passed.iloc[0]
    assert geo.haversine_km(peak["latitude"], peak["longitude"], *SEED_CENTRE) < 15.0
    assert 2.0 < peak["delta_ppm"] < 6.0


@pytest.mark.parametrize("wind_aligned", [False, True])
def test_real_highveld_with_its_wind(real_data, wind_aligned):
    """The published wind of the pass (u = -1.6995, v = -1.5996 m/s) and meteorology."""
    df = pd.read_csv(real_data / "oco2_orbit11522_20160831_highveld_peak.csv").assign(
        orbit=11522, windspeed_u_met=-1.6995, windspeed_v_met=-1.5996, psurf=848.3, tcwv=6.14
    )
    peaks = detect(df, FitConfig(wind_aligned=wind_aligned))
    passed = peaks[peaks["passed"]]
    assert len(passed) == 1
    peak = passed.iloc[0]
    assert geo.haversine_km(peak["latitude"], peak["longitude"], *SEED_CENTRE) < 15.0
    assert 2.0 < peak["delta_ppm"] < 6.0
    assert peak["emission_kg_per_s"] > 0 and np.isfinite(peak["emission_err_kg_per_s"])


def test_nested_peaks_that_do_not_settle_are_scanned_without_nesting(real_data, caplog):
    # Fitted along its wind, the real Highveld pass shows narrow plumes on its broad
    # enhancement (-40, -5 and +17 km), but the nested fits cycle: the broad one, refitted
    # with the narrow ones subtracted, narrows to σ ~18 km, where they are its own plume.
    # A table that is not the window fit's fixed point would disagree with the explorer,
    # so the orbit is scanned as without nesting.
    df = pd.read_csv(real_data / "oco2_orbit11522_20160831_highveld_peak.csv").assign(
        orbit=11522, windspeed_u_met=-1.6995, windspeed_v_met=-1.5996, psurf=848.3, tcwv=6.14
    )
    config = FitConfig(wind_aligned=True)
    with caplog.at_level(logging.DEBUG, logger="oco2explore.scan"):
        nested_peaks = detect(df, config)
    # (a cycle of two rounds, found when the fits come back: no more rounds are fitted)
    assert "a cycle of 2 rounds" in caplog.text and "after 12 rounds" not in caplog.text
    assert "nested peaks not settled" in caplog.text
    flat = detect(df, config.replace(nested_ratio=None))
    pd.testing.assert_frame_equal(nested_peaks, flat)


@pytest.mark.parametrize("name", ["segment_5700_6400km", "segment_6400_6700km"])
def test_real_plume_free_segments_give_no_peak(real_data, name):
    df = pd.read_csv(real_data / f"oco2_orbit11522_20160831_{name}.csv")
    peaks = detect(df)  # distance_km and xco2 only: one orbit
    assert not peaks["passed"].any()


def oblique_plume(angle_deg=35.0, sigma_y_km=1.2, delta_ppm=3.0, noise=0.4, seed=3):
    """8 footprints 1.3 km apart, frames every 2.25 km northward, a plume along the wind
    crossing the centre line at 300 km with ``angle_deg`` between wind and track."""
    rng = np.random.default_rng(seed)
    s = np.repeat(np.arange(0.0, 600.0, 2.25), 8)
    c = np.tile((np.arange(8) - 3.5) * 1.3, s.size // 8)
    lat0, lon0 = geo.destination(-30.0, 29.0, 0.0, s)
    lat, lon = geo.destination(lat0, lon0, 90.0, c)
    alpha = np.radians(angle_deg)
    across_axis_km = (s - 300.0 - c / np.tan(alpha)) * np.sin(alpha)
    y = 400.0 + delta_ppm * np.exp(-0.5 * (across_axis_km / sigma_y_km) ** 2)
    wind = 4.0 * np.array([np.sin(alpha), np.cos(alpha)])  # blowing towards 35° east of north
    table = orbit_table(s, y + rng.normal(0.0, noise, s.size), heading=0.0, wind=wind)
    return table.assign(latitude=lat, longitude=lon), sigma_y_km / np.sin(alpha)


def test_wind_aligned_coordinate_undoes_the_footprint_smear():
    table, sigma_along = oblique_plume(noise=0.0)
    x_wind = wind_aligned_km(table)
    enhanced = table["xco2"].to_numpy() > 401.0
    # In distance_km the footprints see the plume over ~±6 km; aligned, within its width.
    assert np.ptp(table["distance_km"].to_numpy()[enhanced]) > 10.0
    assert np.abs(x_wind[enhanced] - 300.0).max() < 2.0 * sigma_along
    plain = detect(table, FitConfig(wind_aligned=False))
    aligned = detect(table, FitConfig(wind_aligned=True))
    peak = aligned[aligned["passed"]].iloc[0]
    assert peak["distance_km"] == pytest.approx(300.0, abs=0.5)
    assert peak["sigma_km"] == pytest.approx(sigma_along, rel=0.1)
    assert peak["delta_ppm"] == pytest.approx(3.0, rel=0.1)
    assert plain.loc[plain["passed"], "delta_ppm"].max() < 0.6 * peak["delta_ppm"]


def test_wind_aligned_detection_with_noise_and_without_wind():
    table, sigma_along = oblique_plume()
    aligned = detect(table, FitConfig(wind_aligned=True))
    passed = aligned[aligned["passed"]]
    assert len(passed) == 1
    assert passed["sigma_km"].iloc[0] == pytest.approx(sigma_along, rel=0.3)
    # Without wind columns the option changes nothing.
    bare = table.drop(columns=["windspeed_u_met", "windspeed_v_met"])
    pd.testing.assert_frame_equal(
        detect(bare, FitConfig(wind_aligned=True)), detect(bare, FitConfig(wind_aligned=False))
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_weak_plume_beside_a_strong_pair_is_found_by_deblending(seed):
    # Two strong plumes 60-90 km away inflate the weak plume's window χ²: judged on
    # its own it is not even refitted; with the neighbours subtracted it passes.
    x = np.repeat(np.arange(0.0, 600.0, 2.25), 8)
    rng = np.random.default_rng(seed)
    y = 400.0 + gaussian(x - 300.0, 100.0, 3.0) + gaussian(x - 330.0, 80.0, 4.0)
    y = y + gaussian(x - 240.0, 12.0, 3.0) + rng.normal(0.0, 0.7, x.size)
    table = pd.DataFrame({"distance_km": x, "xco2": y, "xco2_uncertainty": 0.7})
    alone = detect(table, WHITE.replace(deblend=False)).query("passed")
    together = detect(table, WHITE).query("passed")
    assert sorted(np.rint(alone["distance_km"] / 10.0) * 10.0) == [300.0, 330.0]
    assert sorted(np.rint(together["distance_km"] / 10.0) * 10.0) == [240.0, 300.0, 330.0]
    weak = together.iloc[int(np.argmin(np.abs(together["distance_km"] - 240.0)))]
    assert weak["amplitude"] == pytest.approx(12.0, rel=0.35)
    assert weak["sigma_km"] == pytest.approx(3.0, rel=0.4)


def test_the_window_fit_subtracts_the_other_peaks_only():
    peaks = pd.DataFrame(
        {
            "distance_km": [100.0, 130.0, 400.0],
            "sigma_km": [3.0, 4.0, 5.0],
            "amplitude": [50.0, 40.0, 30.0],
            "significance": [500.0, 300.0, 400.0],
            "passed": [True, False, True],
        }
    )
    config = FitConfig()
    comps = peak_components(peaks, config)
    assert comps[0].tolist() == [100.0, 130.0, 400.0]
    x = np.linspace(0.0, 500.0, 5001)
    orbit = pd.DataFrame({"distance_km": x, "xco2": 400.0 + gaussian(x - 100.0, 50.0, 3.0)})
    window = fit_at(orbit, 100.0, config, peaks)
    # The peak at 100 km is the window's own (its width starts the fit); 400 km lies beyond.
    assert window.n_neighbours == 1 and window.neighbours[0].tolist() == [130.0]
    assert window.sigma_start_km == 3.0
    grid = np.linspace(0.0, 200.0, 201)
    drawn = window.model(grid) - window.fit.model(grid)
    assert drawn == pytest.approx(gaussian(grid - 130.0, 40.0, 4.0))
    weak = peaks.assign(significance=[500.0, 10.0, 400.0])
    assert peak_components(weak, config)[0].tolist() == [100.0, 400.0]


def test_a_prepared_orbit_serves_only_configurations_with_its_preparation():
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(0.0, 600.0, 1500))
    xco2 = 400.0 + gaussian(x - 300.0, 60.0, 4.0) + rng.normal(0.0, 0.5, x.size)
    orbit = orbit_table(x, xco2)
    v1, v2 = FitConfig.preset("v1"), FitConfig.preset("v2")
    track = prepare_orbit(orbit, v1)
    assert track.key == preparation_key(v1) != preparation_key(v2)
    # Same preparation (other thresholds): the Track gives the table of the soundings.
    other = v1.replace(significance_min=40.0, half_width_km=80.0)
    pd.testing.assert_frame_equal(scan_orbit(track, other), scan_orbit(orbit, other))
    with pytest.raises(ValueError, match="noise_estimated"):
        scan_orbit(track, v2)
    with pytest.raises(ValueError, match="prepared with"):
        fit_at(track, 300.0, v2)


def test_a_track_remembers_its_refits_and_gives_the_same_results(monkeypatch):
    rng = np.random.default_rng(4)
    x = np.sort(rng.uniform(0.0, 600.0, 1500))
    orbit = orbit_table(x, 400.0 + gaussian(x - 300.0, 60.0, 4.0) + rng.normal(0.0, 0.5, x.size))
    config = FitConfig()
    track = prepare_orbit(orbit, config)
    first = fit_at(track, 300.0, config)
    assert track.refits and fit_at(track, 300.0, config).fit is first.fit
    fresh = fit_at(prepare_orbit(orbit, config), 300.0, config)
    assert fresh.fit.to_dict() == first.fit.to_dict()
    # Another configuration is another refit; a full memory is emptied.
    wider = fit_at(track, 300.0, config.replace(half_width_km=config.half_width_km + 20.0))
    assert wider.fit is not first.fit
    monkeypatch.setattr(scan, "REFIT_MEMORY", len(track.refits))
    before = set(track.refits)
    fit_at(track, 150.0, config)
    assert track.refits and not before & set(track.refits)


def test_backfitting_keeps_a_fit_whose_window_data_did_not_change():
    config = FitConfig()
    x = np.linspace(0.0, 400.0, 4001)
    one = (np.array([130.0]), np.array([4.0]), np.array([40.0]))
    # A second component whose tail barely reaches the window around 100 km: same data.
    beyond = (np.array([130.0, 236.0]), np.array([4.0, 3.0]), np.array([40.0, 30.0]))
    assert _same_window_data(x, 100.0, beyond, one, config)
    # ... one well inside it changes the data: refit.
    inside = (np.array([130.0, 170.0]), np.array([4.0, 3.0]), np.array([40.0, 30.0]))
    assert not _same_window_data(x, 100.0, inside, one, config)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.floats(20.0, 580.0), st.floats(1.0, 25.0), st.floats(0.0, 300.0)
        ),  # centre (km), σ (km), area A (ppm·km) of each plume
        max_size=6,
    ),
    st.floats(0.2, 1.5),  # noise, ppm
    st.lists(st.tuples(st.floats(0.0, 600.0), st.floats(0.5, 40.0)), max_size=4),  # gaps
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_scan_with_deblending_is_robust(plumes, noise, gaps, seed, with_uncertainty):
    # Any mix of plumes (overlapping, clustered, strong, weak), noise and cloud gaps:
    # no exception, CONTRACT columns, passed peaks more than their width apart unless one
    # is nested in the other (widths FitConfig().nested_ratio apart or more).
    x = np.repeat(np.arange(0.0, 600.0, 2.25), 8)
    for start, length in gaps:
        x = x[(x < start) | (x > start + length)]
    rng = np.random.default_rng(seed)
    y = 400.0 + 0.002 * x + rng.normal(0.0, noise, x.size)
    for centre, sigma, area in plumes:
        y = y + gaussian(x - centre, area, sigma)
    table = pd.DataFrame({"distance_km": x, "xco2": y})
    if with_uncertainty:
        table["xco2_uncertainty"] = noise
    peaks = detect(table)
    assert list(peaks.columns) == list(PEAK_COLUMNS)
    passed = peaks[peaks["passed"]].sort_values("distance_km")
    gap = np.diff(passed["distance_km"].to_numpy())
    widths = passed["sigma_km"].to_numpy()
    apart = gap >= 2.0 * np.maximum(widths[1:], widths[:-1]) - 1e-9
    assert np.all(apart | scan.nested(widths[1:], widths[:-1], FitConfig().nested_ratio))
    assert np.all(np.isfinite(passed[["amplitude", "sigma_km", "significance"]].to_numpy()))


# --- detector v2 on the real passes (FitConfig.preset("v2"); benchmarks/bench_real.py) ----


@pytest.fixture(scope="module")
def bench_real():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import bench_real

    return bench_real


@pytest.fixture(scope="module")
def v2_real(real_data, bench_real):
    return bench_real.evaluate(FitConfig.preset("v2"), real=real_data)


def test_v2_real_highveld_one_peak_and_plume_free_none(v2_real):
    assert len(v2_real.highveld) == 1
    peak = v2_real.highveld.iloc[0]
    assert geo.haversine_km(peak["latitude"], peak["longitude"], *SEED_CENTRE) < 20.0
    assert 2.0 < peak["delta_ppm"] < 6.0
    assert len(v2_real.plume_free) == 0


def test_v2_real_california_city_crossings_pass(v2_real):
    """The LA basin dome of 2014-09-23 (σ ≈ 30 km) and Las Vegas on 2014-10-09 (σ ≈ 9 km)."""
    la, lv = v2_real.crossings["LA basin"], v2_real.crossings["Las Vegas"]
    assert la is not None and 2.0 < la["delta_ppm"] < 4.0 and 20.0 < la["sigma_km"] <= 40.0
    assert lv is not None and 3.0 < lv["delta_ppm"] < 6.0 and 5.0 < lv["sigma_km"] < 15.0


def test_v2_real_california_false_alarms(v2_real):
    """At most 1 passed peak per 10,000 km of clear track far from every city and large site."""
    assert v2_real.clear_km > 3000.0
    assert v2_real.unexplained_per_10000km <= 1.0


def test_v2_explorer_window_fit_is_the_scan_row_on_real_california(bench_real, real_data):
    """fit_at at each v2 peak of the LA pass, with the pass's peak table, gives its row."""
    config = FitConfig.preset("v2")
    ca = bench_real.read_california(real_data)
    day = ca[ca["time"].dt.strftime("%Y-%m-%d") == "2014-09-23"]
    orbit = day[day["orbit"] == day["orbit"].value_counts().idxmax()]
    peaks = scan_orbit(orbit, config)
    track = prepare_orbit(orbit, config)
    assert track.noise is not None and track.diagnostics is not None
    for row in peaks.itertuples():
        fit = fit_at(track, row.distance_km, config, peaks).fit
        assert fit.passed == row.passed and fit.reject_reason == row.reject_reason
        assert fit.delta_ppm == pytest.approx(row.delta_ppm, rel=0.01)
        assert fit.sigma_km == pytest.approx(row.sigma_km, rel=0.01)


def test_fixed_point_refits_change_no_peak(monkeypatch):
    """A refit started at a stationary solution is that solution: the peaks stay (to 1e-4)."""
    from oco2explore import fit
    from oco2explore.simulate import simulate_day

    day, _ = simulate_day("2016-08-31", seed=0)
    good = day[day["xco2_quality_flag"] == 0]
    busiest = good["orbit"].value_counts().index[:4]
    orbits = [good[good["orbit"] == o] for o in sorted(busiest)]
    solved = []
    fit_window_of = scan._fit_window_of

    def counted(*args):
        solved.append(1)
        return fit_window_of(*args)

    monkeypatch.setattr(scan, "_fit_window_of", counted)
    with_shortcut = [scan_orbit(o) for o in orbits]
    n_with = len(solved)
    monkeypatch.setattr(fit.FitSolution, "stationary", property(lambda self: False))
    without = [scan_orbit(o) for o in orbits]
    assert len(solved) - n_with > n_with  # the shortcut saved solves
    for a, b in zip(with_shortcut, without, strict=True):
        assert len(a) == len(b) and len(a) > 0
        assert (a["passed"].to_numpy() == b["passed"].to_numpy()).all()
        assert (a["reject_reason"].to_numpy() == b["reject_reason"].to_numpy()).all()
        for col in ("distance_km", "sigma_km", "delta_ppm", "significance", "emission_mt_per_yr"):
            assert a[col].to_numpy() == pytest.approx(b[col].to_numpy(), rel=1e-4, nan_ok=True), col
