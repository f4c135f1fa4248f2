"""Tests of oco2explore.simulate: layout, geometry, signal, plumes and truth, determinism."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest

from oco2explore.emission import line_density_kg_per_m, ppm_per_kg_per_m2
from oco2explore.errors import InputError
from oco2explore.geo import haversine_km
from oco2explore.lite import read_lite
from oco2explore.simulate import (
    ANCHOR_LAT,
    ANCHOR_LON,
    ANCHOR_ORBIT,
    ANCHOR_TIME,
    FRAME_S,
    REAL_CORRELATED_ERROR_PPM,
    REAL_CORRELATION_KM,
    REGIONS,
    TRUTH_COLUMNS,
    TRUTH_FILE,
    correlated_error,
    ground_track,
    land_mask,
    orbit_at,
    plume_column_kg_per_m2,
    simulate,
    simulate_day,
    simulate_orbit,
)
from oco2explore.soundings import normalise_soundings

DAY = "2016-08-31"


@pytest.fixture(scope="module")
def full_day() -> tuple[pd.DataFrame, pd.DataFrame]:
    return simulate_day(DAY, seed=0)


@pytest.fixture(scope="module")
def null_day() -> tuple[pd.DataFrame, pd.DataFrame]:
    return simulate_day(DAY, seed=0, plumes=False)


@pytest.fixture(scope="module")
def correlated_null_day() -> tuple[pd.DataFrame, pd.DataFrame]:
    return simulate_day(DAY, seed=0, plumes=False, correlated_error_ppm=REAL_CORRELATED_ERROR_PPM)


@pytest.fixture(scope="module")
def highveld_files(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    simulate(out, days=1, seed=0, start=DAY, regions=["highveld"])
    return out


def test_file_has_the_b11_layout(highveld_files: Path) -> None:
    (path,) = sorted(highveld_files.glob("*.nc4"))
    assert path.name.startswith("oco2_LtCO2_160831_B11")
    with netCDF4.Dataset(path) as ds:
        assert ds.BuildId.startswith("B11")
        assert set(ds.groups) >= {"Sounding", "Meteorology", "Retrieval", "Preprocessors"}
        assert {"sounding_id", "levels", "vertices"} <= set(ds.dimensions)
        assert ds["sounding_id"].dtype == np.int64
        assert ds["time"].units == "seconds since 1970-01-01 00:00:00"
        assert ds["xco2"].dtype == np.float32
        assert ds["xco2"].units == "ppm"
        assert ds["xco2"]._FillValue == np.float32(-999999.0)
        assert ds["xco2_quality_flag"].dtype == np.int8
        assert "xco2_x2019" in ds.variables
        assert ds["vertex_latitude"].shape[1] == 4
        assert ds["pressure_levels"].shape[1] == 20
        assert ds["Sounding/orbit"].dtype == np.int32
        assert ds["Sounding/footprint"].dtype == np.int8
        assert "psurf_apriori" in ds["Meteorology"].variables
        assert ds["Meteorology/windspeed_u_met"].units == "m s-1"
        assert ds["Retrieval/tcwv"].units == "kg m-2"
        ids = ds["sounding_id"][:]
        assert (np.diff(ids) > 0).all()


def test_file_reads_back_as_the_in_memory_simulation(highveld_files: Path) -> None:
    df = read_lite(highveld_files, quality="all")
    mem, truth = simulate_day(DAY, seed=0, regions=["highveld"])
    mem = mem.sort_values(["orbit", "distance_km", "sounding_id"]).reset_index(drop=True)
    df = df.sort_values(["orbit", "distance_km", "sounding_id"]).reset_index(drop=True)
    assert len(df) == len(mem) > 100
    assert (df["sounding_id"].to_numpy() == mem["sounding_id"].to_numpy()).all()
    for col in ("latitude", "longitude", "xco2", "psurf", "windspeed_u_met", "tcwv"):
        assert np.allclose(df[col], mem[col], rtol=1e-6, atol=1e-4), col
    file_truth = pd.read_csv(highveld_files / TRUTH_FILE)
    assert list(file_truth.columns) == list(TRUTH_COLUMNS)
    assert np.allclose(file_truth["delta_ppm"], truth["delta_ppm"])
    assert set(file_truth["crossing_sounding_id"]) <= set(df["sounding_id"])


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        simulate(tmp_path / name, seed=seed, start=DAY, regions=["highveld"])
    a, b, c = (read_lite(tmp_path / n, quality="all") for n in "abc")
    pd.testing.assert_frame_equal(a, b)
    assert len(a) != len(c) or not np.allclose(a["xco2"], c["xco2"])
    ta, tb = (pd.read_csv(tmp_path / n / TRUTH_FILE) for n in "ab")
    pd.testing.assert_frame_equal(ta, tb)


def test_a_region_is_the_same_data_as_the_full_day(full_day) -> None:
    region, _ = simulate_day(DAY, seed=0, regions=["highveld"])
    full = full_day[0].set_index("sounding_id")
    assert region["sounding_id"].isin(full.index).all()
    sub = full.loc[region["sounding_id"]]
    assert np.allclose(sub["xco2"], region["xco2"])
    assert np.allclose(sub["windspeed_v_met"], region["windspeed_v_met"])


def test_volume_and_quality_of_a_day(full_day) -> None:
    df, _ = full_day
    assert 1e5 <= len(df) <= 2e5
    bad = df["xco2_quality_flag"].to_numpy()
    assert 0.4 <= bad.mean() <= 0.6
    # Bad soundings come in runs, not salt and pepper.
    fp1 = df[df["footprint"] == 1].sort_values("time")["xco2_quality_flag"].to_numpy()
    runs = np.count_nonzero(np.diff(fp1)) + 1
    assert fp1.size / runs > 4
    # Clouds are gaps: some consecutive written frames are far apart.
    frames = df.drop_duplicates("time").sort_values("time")
    steps = np.diff(frames["time"].astype("int64").to_numpy()) / 1e9
    assert np.isclose(np.median(steps), 1 / 3, atol=0.01)
    assert (steps > 10).sum() > 100
    assert set(df["land_water_indicator"]) == {0, 1}
    assert set(df["operation_mode"]) == {0, 1}


def test_orbit_geometry(full_day) -> None:
    df, _ = full_day
    assert 14 <= df["orbit"].nunique() <= 16
    assert (df["solar_zenith_angle"] < 80.5).all()
    # Daytime side ascending: latitude grows with time in every orbit (up to the turn north).
    for _, track in df[df["latitude"].abs() < 60].groupby(["orbit", "footprint"]):
        assert (np.diff(track.sort_values("time")["latitude"].to_numpy()) > 0).all()
    # Equator crossed northbound at ~13:36 local solar time.
    eq = df[(df["latitude"].abs() < 0.05)]
    local_h = (eq["time"].dt.hour + eq["time"].dt.minute / 60 + eq["longitude"] / 15) % 24
    assert np.all(np.abs(local_h - 13.6) < 0.35)
    # Frames ~2.25 km apart, footprints ~1.3 km apart across track.
    one = df[(df["orbit"] == ANCHOR_ORBIT) & (df["footprint"] == 4)].sort_values("time")
    dt = np.diff(one["time"].astype("int64").to_numpy()) / 1e9
    step = haversine_km(
        one["latitude"].to_numpy()[:-1],
        one["longitude"].to_numpy()[:-1],
        one["latitude"].to_numpy()[1:],
        one["longitude"].to_numpy()[1:],
    )
    assert np.allclose(step[np.isclose(dt, 1 / 3, atol=0.01)], 2.25, atol=0.1)
    frame = df[df["time"] == df["time"].iloc[1000]].sort_values("footprint")
    across = haversine_km(
        frame["latitude"].to_numpy()[:-1],
        frame["longitude"].to_numpy()[:-1],
        frame["latitude"].to_numpy()[1:],
        frame["longitude"].to_numpy()[1:],
    )
    gaps = np.diff(frame["footprint"].to_numpy())
    assert np.allclose(across / gaps, 1.3, atol=0.01)


def test_sounding_ids_follow_the_real_encoding(full_day) -> None:
    df, _ = full_day
    ids = df["sounding_id"]
    assert (ids.astype(str).str.len() == 16).all()
    assert (ids % 10 == df["footprint"]).all()
    stamp = df["time"].dt.strftime("%Y%m%d%H%M%S").astype(np.int64)
    assert (ids // 100 == stamp).all()
    assert ids.is_unique


def test_land_mask_and_orbit_numbers() -> None:
    # Sahara, Atlantic, Highveld, Pacific, Germany, south of Australia.
    lat = np.array([23.0, 30.0, -26.3, 0.0, 52.0, -40.0])
    lon = np.array([12.0, -40.0, 28.9, -150.0, 10.0, 140.0])
    assert land_mask(lat, lon).tolist() == [True, False, True, False, True, False]
    assert orbit_at(ANCHOR_TIME) == ANCHOR_ORBIT
    assert orbit_at(ANCHOR_TIME + pd.Timedelta(days=16)) == ANCHOR_ORBIT + 233  # repeat cycle


def test_orbit_11522_crosses_the_highveld_at_the_real_time() -> None:
    u = np.linspace(-40, -10, 300001)
    t, lat, lon = ground_track(ANCHOR_ORBIT, u)
    d = haversine_km(lat, lon, ANCHOR_LAT, ANCHOR_LON)
    i = int(np.argmin(d))
    assert d[i] < 0.5
    assert abs(t[i] - ANCHOR_TIME.timestamp()) < 1.0


def test_terrain_drives_surface_pressure_and_water(full_day) -> None:
    df, _ = full_day
    highveld = df[REGIONS["highveld"].contains(df["latitude"], df["longitude"])]
    assert 820 < highveld["psurf"].median() < 870
    ocean = df[df["land_water_indicator"] == 1]
    assert 1000 < ocean["psurf"].median() < 1025
    assert (df["tcwv"] > 0).all()
    assert highveld["tcwv"].median() < ocean["tcwv"].median()


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


def test_background_has_undulations_of_a_few_tenths_ppm(null_day) -> None:
    df, _ = null_day
    good = df[df["xco2_quality_flag"] == 0]
    # 20 km bins along each orbit: the bin means vary by more than their noise.
    good = good.assign(bin=(good["distance_km"] // 20).astype(int))
    means = good.groupby(["orbit", "bin"])["xco2"].agg(["mean", "count"])
    means = means[means["count"] >= 40]["mean"]
    local = means - means.groupby(level=0).transform(lambda s: s.rolling(51, center=True).mean())
    assert 0.1 < np.nanstd(local) < 0.6


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


def test_plume_mass_balance_gives_back_the_emission() -> None:
    q, wind, angle = 500.0, 4.0, np.radians(55.0)
    s = np.linspace(-100, 100, 40001)  # km along a straight track through (20 km downwind, 0)
    x = 20.0 + s * np.cos(angle)
    y = s * np.sin(angle)
    column = plume_column_kg_per_m2(x, y, q, wind)
    integral = np.trapezoid(column, s * 1000.0)
    assert integral * wind * np.sin(angle) == pytest.approx(q, rel=0.01)
    assert ppm_per_kg_per_m2(848.3, 6.14) == pytest.approx(76.1, rel=0.01)


def test_truth_plumes_are_in_the_data(full_day, null_day) -> None:
    df, truth = full_day
    null, null_truth = null_day
    assert null_truth.empty
    assert list(truth.columns) == list(TRUTH_COLUMNS)
    assert len(truth) > 50
    assert (truth["delta_ppm"] >= 0.1).all()
    assert np.allclose(
        truth["amplitude"], truth["delta_ppm"] * truth["sigma_km"] * np.sqrt(2 * np.pi)
    )
    assert np.allclose(truth["emission_kg_per_s"], truth["emission_t_per_yr"] / 31557.6)
    # Cross-sectional flux of the truth gives back the emission.
    line = line_density_kg_per_m(truth["amplitude"], truth["psurf"], truth["tcwv"])
    assert np.allclose(line * truth["wind_perp"], truth["emission_kg_per_s"], rtol=1e-9)
    assert (df["sounding_id"].to_numpy() == null["sounding_id"].to_numpy()).all()
    signal = pd.Series(df["xco2"].to_numpy() - null["xco2"].to_numpy(), index=df["sounding_id"])
    strong = truth[(truth["delta_ppm"] > 1.0) & (truth["n_good_soundings"] > 0)]
    assert len(strong) >= 3
    for row in strong.itertuples():
        others = truth[(truth["orbit"] == row.orbit) & (truth["plume_id"] != row.plume_id)]
        gap = haversine_km(
            others["crossing_latitude"], others["crossing_longitude"],
            row.crossing_latitude, row.crossing_longitude,
        )  # fmt: skip
        if (gap < 5 * row.sigma_km + 20).any():
            continue  # overlapping plumes add up
        at_crossing = signal[row.crossing_sounding_id]
        # The nearest sounding may sit up to a footprint off the plume axis.
        assert 0.3 * row.delta_ppm < at_crossing < 1.3 * row.delta_ppm + 0.1, row.plume_id
    # Where the plumes add more than 0.5 ppm, a truth crossing of that orbit is near
    # (unless the wind blows along the track: such plumes never cross its centre line).
    wind_heading = np.arctan2(df["windspeed_u_met"], df["windspeed_v_met"])
    across = np.abs(np.sin(wind_heading - np.radians(df["track_heading_deg"]))) > 0.5
    hit = df[(signal.to_numpy() > 0.5) & across]
    for orbit, rows in hit.groupby("orbit"):
        crossings = truth[truth["orbit"] == orbit]
        d = haversine_km(
            rows["latitude"].to_numpy()[:, None],
            rows["longitude"].to_numpy()[:, None],
            crossings["crossing_latitude"].to_numpy()[None, :],
            crossings["crossing_longitude"].to_numpy()[None, :],
        )
        assert (d.min(axis=1) < 60).all()


def test_highveld_plume_stands_out_of_the_noise() -> None:
    soundings, truth = simulate_orbit(ANCHOR_ORBIT, seed=0, regions=["highveld"])
    kendal = truth[truth["source_id"] == "CoCO2_14613"]
    assert len(kendal) == 1
    row = kendal.iloc[0]
    assert row["emission_t_per_yr"] > 1e7
    good = soundings[soundings["xco2_quality_flag"] == 0]
    d = haversine_km(
        good["latitude"], good["longitude"], row["crossing_latitude"], row["crossing_longitude"]
    )
    near = good["xco2"][d < row["sigma_km"]].mean()
    far = good["xco2"][(d > 60) & (d < 150)].mean()
    assert near - far > 0.5 * row["delta_ppm"] > 1.0


def test_plume_free_simulation_writes_an_empty_truth(tmp_path: Path) -> None:
    simulate(tmp_path, start=DAY, regions=["highveld"], plumes=False)
    truth = pd.read_csv(tmp_path / TRUTH_FILE)
    assert truth.empty and list(truth.columns) == list(TRUTH_COLUMNS)


def test_days_without_a_pass_write_no_file(tmp_path: Path) -> None:
    paths = simulate(tmp_path, days=2, start="2016-09-01", regions=["highveld"])
    assert paths == []
    assert (tmp_path / TRUTH_FILE).is_file()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"regions": ["atlantis"]}, "unknown region"),
        ({"days": 0}, "at least 1"),
        ({"start": "2016-13-45"}, "YYYY-MM-DD"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        simulate(tmp_path, **kwargs)


def test_cli_simulate(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "oco2explore.cli", "simulate", "--out", str(tmp_path),
         "--region", "highveld", "--start", DAY, "--no-plumes", "-q"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(list(tmp_path.glob("oco2_LtCO2_160831_*.nc4"))) == 1
    done = subprocess.run(
        [sys.executable, "-m", "oco2explore.cli", "simulate", "--out", str(tmp_path),
         "--region", "mars"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 2
    assert "unknown region(s) mars" in done.stderr
    assert "Traceback" not in done.stderr


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


def test_ground_track_follows_the_real_orbit_11522(real_data: Path) -> None:
    real = pd.read_csv(real_data / "oco2_orbit11522_20160831_highveld_peak.csv")
    u = np.linspace(-40, -10, 30001)
    _, lat, lon = ground_track(ANCHOR_ORBIT, u)
    for row in real.iloc[[0, len(real) // 2, -1]].itertuples():
        # Within the 5 km half-swath of the real footprints, 250 km either side of the anchor.
        assert haversine_km(lat, lon, row.latitude, row.longitude).min() < 5.0
