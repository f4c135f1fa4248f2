"""Tests of oco2explore.report: the tables of CONTRACT §5, the combination, the upper limits."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtri

from oco2explore.cli import main
from oco2explore.config import REAL_CORRELATED_ERROR_PPM, FitConfig
from oco2explore.emission import SECONDS_PER_YEAR, ppm_per_kg_per_m2
from oco2explore.geo import haversine_km
from oco2explore.inventory import load_coco2
from oco2explore.match import match_peaks
from oco2explore.report import (
    CROSSING_COLUMNS,
    SOURCE_REPORT_COLUMNS,
    TRACK_COLUMNS,
    UNITS,
    VERDICTS,
    ReportConfig,
    _local_xy,
    build_report,
    load_profiles,
    predicted_crossings,
    profile_factor,
    random_effects,
    track_summary,
    upper_limit,
)
from oco2explore.scan import detect
from oco2explore.simulate import plume_column_kg_per_m2, simulate, simulate_day
from oco2explore.tableio import read_table, read_table_metadata

T_PER_YR = SECONDS_PER_YEAR / 1e3  # (t/yr) per (kg/s)


@pytest.fixture(scope="module")
def plume_free_day() -> pd.DataFrame:
    """Good soundings of the real Highveld pass day, simulated without plumes, real-like noise."""
    soundings, _ = simulate_day(
        "2016-08-31",
        seed=0,
        regions=["highveld"],
        plumes=False,
        correlated_error_ppm=REAL_CORRELATED_ERROR_PPM,
    )
    return soundings[soundings["xco2_quality_flag"] == 0].reset_index(drop=True)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``oco2explore run --report`` output of four simulated days over the Highveld."""
    lite = tmp_path_factory.mktemp("lite")
    simulate(lite, days=4, seed=0, start="2016-08-31", regions=["highveld"])
    out = tmp_path_factory.mktemp("run")
    args = ["run", str(lite), "--out", str(out), "--workers", "1", "-q"]
    assert main([*args, "--report", str(out / "run-report")]) == 0
    return out


def test_track_summary_bins_the_good_soundings(plume_free_day: pd.DataFrame) -> None:
    tracks = track_summary(plume_free_day)
    assert tuple(tracks.columns) == TRACK_COLUMNS
    assert tracks["n_good"].sum() == len(plume_free_day)
    assert (tracks.groupby("orbit")["distance_km"].diff().dropna() > 0).all()
    assert tracks["xco2_scatter"].between(0.2, 3.0).mean() > 0.9  # ppm, a sounding's noise


def test_random_effects_two_estimates_by_hand() -> None:
    # w = 1, Q = 2, τ² = (2 − 1)/(2 − 1) = 1, weights 1/2 each: se = 1.
    mean, se, tau2 = random_effects(np.array([1.0, 3.0]), np.array([1.0, 1.0]))
    assert (mean, se, tau2) == pytest.approx((2.0, 1.0, 1.0))
    # Consistent estimates: no scatter term, the fixed-effect mean.
    mean, se, tau2 = random_effects(np.array([1.0, 1.2]), np.array([1.0, 4.0]))
    assert tau2 == 0.0 and mean == pytest.approx(1.04) and se == pytest.approx(math.sqrt(0.8))


def _detection(peak_id: str, orbit: int, q_kg_per_s: float, err_kg_per_s: float) -> dict:
    return {
        "peak_id": peak_id,
        "orbit": orbit,
        "time": pd.Timestamp("2016-08-31T12:00Z") + pd.Timedelta(days=orbit - 1),
        "latitude": -26.2,
        "longitude": 29.0,
        "sigma_km": 3.0,
        "delta_ppm": 2.0,
        "significance": 60.0,
        "wind_perp": 3.0,
        "emission_kg_per_s": q_kg_per_s,
        "emission_err_kg_per_s": err_kg_per_s,
        "passed": True,
        "source_id": "S1",
        "rank": 1,
        "match_score": -0.1,
    }


def test_two_crossings_hand_computed() -> None:
    sources = pd.DataFrame(
        {
            "source_id": ["S1"],
            "name": ["Plant"],
            "kind": ["power_plant"],
            "fuel": ["coal"],
            "latitude": [-26.1],
            "longitude": [28.97],
            "emission_t_per_yr": [40e6],
            "inventory": ["test"],
            "country": ["ZAF"],
        }
    )
    matches = pd.DataFrame([_detection("a", 1, 1000.0, 100.0), _detection("b", 2, 2000.0, 200.0)])
    tables = build_report(matches, sources, None, config=ReportConfig(plume_model_rel_err=0.3))
    row = tables["sources"].iloc[0]
    # Each crossing: relative error √(0.1² + 0.3²), ln variance 0.1. Cochran's Q = 5 ln²2,
    # τ² = (5 ln²2 − 1) / (20 − 10), mean ln √(1000·2000), se = √((0.1 + τ²) / 2).
    tau2 = (5 * math.log(2) ** 2 - 1) / 10
    expected = math.sqrt(1000.0 * 2000.0) * T_PER_YR
    assert row["n_crossings"] == 2 and row["n_detected"] == 2
    assert row["estimate_t_per_yr"] == pytest.approx(expected)
    assert row["estimate_err_t_per_yr"] == pytest.approx(expected * math.sqrt((0.1 + tau2) / 2))
    assert row["tau_ln"] == pytest.approx(math.sqrt(tau2))
    assert row["ratio"] == pytest.approx(expected / 40e6)
    assert row["verdict"] == "consistent"  # ln ratio −0.19, within 2σ (0.40)
    assert math.isnan(row["upper_limit_t_per_yr"])  # every crossing detected it
    crossing = tables["crossings"]
    assert crossing["emission_t_per_yr"].tolist() == pytest.approx(
        [1000 * T_PER_YR, 2000 * T_PER_YR]
    )
    assert crossing["detected"].all() and crossing["peak_id"].tolist() == ["a", "b"]


def test_upper_limit_single_and_many_crossings() -> None:
    one = upper_limit(np.array([1e7]), 0.5, 0.95)
    assert one == pytest.approx(1e7 * math.exp(0.5 * 1.6448536), rel=1e-6)
    # Five misses at the same limit L: Φ(−ln(Q/L)/s)⁵ = 0.05, Φ(−z) = 0.549, Q = L e^(−0.12 s):
    # an emission at L would be missed five times only with probability 1/32.
    many = upper_limit(np.full(5, 1e7), 0.5, 0.95)
    z = -float(ndtri(0.05 ** (1 / 5)))
    assert many == pytest.approx(1e7 * math.exp(0.5 * z), rel=1e-6) and many < 1e7 < one
    assert math.isnan(upper_limit(np.array([]), 0.5, 0.95))


def _inject(soundings: pd.DataFrame, lat: float, lon: float, q_kg_per_s: float) -> pd.DataFrame:
    """Add a Gaussian plume of ``q`` from (lat, lon) along each sounding's own wind."""
    u = soundings["windspeed_u_met"].to_numpy()
    v = soundings["windspeed_v_met"].to_numpy()
    x, y = _local_xy(
        soundings["latitude"].to_numpy(), soundings["longitude"].to_numpy(), lat, lon, u, v
    )
    column = plume_column_kg_per_m2(x, y, q_kg_per_s, np.hypot(u, v))
    ppm = column * ppm_per_kg_per_m2(soundings["psurf"], soundings["tcwv"])
    return soundings.assign(xco2=soundings["xco2"] + ppm)


def test_detection_limit_against_an_injected_plume(plume_free_day: pd.DataFrame) -> None:
    """A plume at 0.4× a crossing's detection limit is missed, at 2.5× it is found."""
    config, report_config = FitConfig(), ReportConfig()
    tracks = track_summary(plume_free_day)
    sites = load_coco2()
    sites = sites[sites["emission_t_per_yr"] >= 5e6]
    crossings = predicted_crossings(sites, tracks, config, report_config)
    assert len(crossings)
    best = crossings.sort_values("detection_limit_t_per_yr").iloc[0]
    site = sites.set_index("source_id").loc[best["source_id"]]
    limit = float(best["detection_limit_t_per_yr"])
    for factor, seen in ((0.4, False), (2.5, True)):
        source = site.to_frame().T.reset_index(names="source_id")
        source["emission_t_per_yr"] = factor * limit
        source = source.astype({"latitude": float, "longitude": float, "emission_t_per_yr": float})
        data = _inject(
            plume_free_day, site["latitude"], site["longitude"], factor * limit / T_PER_YR
        )
        peaks = detect(data, config)
        tables = build_report(match_peaks(peaks, source), source, tracks, config, report_config)
        row = tables["sources"].set_index("source_id").loc[best["source_id"]]
        assert bool(row["n_detected"] > 0) is seen, (factor, limit)
        if not seen:
            assert row["upper_limit_t_per_yr"] > factor * limit
            assert row["verdict"] == "consistent"  # limit above the (weak) inventory
        else:
            assert row["estimate_t_per_yr"] == pytest.approx(factor * limit, rel=0.6)


def test_profiles_are_normalised_and_applied() -> None:
    profiles = load_profiles()
    assert len(profiles) == len(load_coco2())
    months = profiles[[f"month_{m}" for m in range(1, 13)]].mean(axis=1)
    hours = profiles[[f"hour_{h}" for h in range(24)]].mean(axis=1)
    assert months.between(0.99, 1.01).all() and hours.between(0.99, 1.01).all()
    kendal = "CoCO2_14613"
    time = pd.Series(pd.to_datetime(["2016-08-31T11:56Z"], utc=True))
    factor = profile_factor(np.array([kendal]), time, np.array([28.97]), profiles)
    # local solar time 13:52 on a Wednesday in August
    row = profiles.loc[kendal]
    assert factor[0] == pytest.approx(row["month_8"] * row["weekday_2"] * row["hour_13"])
    assert profile_factor(np.array(["nobody"]), time, np.array([0.0]), profiles)[0] == 1.0
    assert profile_factor(np.array([kendal]), time, np.array([28.97]), None)[0] == 1.0


def test_report_command_writes_the_contract_tables(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["report", str(run_dir), "--out", str(out), "-q"]) == 0
    # 'run --report' wrote the same report at the end of the batch.
    pd.testing.assert_frame_equal(
        read_table(run_dir / "run-report" / "sources.parquet"), read_table(out / "sources.parquet")
    )
    sources = read_table(out / "sources.parquet")
    crossings = read_table(out / "crossings.parquet")
    unexplained = read_table(out / "unexplained.csv")
    assert tuple(sources.columns) == SOURCE_REPORT_COLUMNS
    assert tuple(crossings.columns) == CROSSING_COLUMNS
    assert {"peak_id", "significance", "nearest_source_id", "nearest_source_distance_km"} <= set(
        unexplained.columns
    )
    assert len(sources) and set(sources["verdict"]) <= set(VERDICTS)
    assert (sources["n_detected"] <= sources["n_crossings"]).all()
    assert crossings["detected"].sum() == sources["n_detected"].sum()
    assert (crossings["peak_id"].fillna("") != "").sum() == crossings["detected"].sum()
    assert (sources["inventory_t_per_yr"] >= ReportConfig().min_inventory_t_per_yr).all()
    assert sources["country"].eq("ZAF").all()  # names/country from the inventory
    # Units: the detection limits of OCO-2 crossings are Mt-scale emissions in t/yr.
    limits = crossings["detection_limit_t_per_yr"].dropna()
    assert len(limits) and limits.between(1e5, 1e9).all()
    meta = read_table_metadata(out / "sources.parquet")
    assert meta["units"]["estimate_t_per_yr"] == UNITS["estimate_t_per_yr"] == "t CO2/yr"
    assert meta["temporal_profiles"].startswith("CoCO2")
    assert (out / "sources.svg").read_text().startswith("<svg")
    pd.testing.assert_frame_equal(
        read_table(out / "crossings.csv")[["source_id", "orbit"]], crossings[["source_id", "orbit"]]
    )


def test_report_command_bad_input_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["report", str(tmp_path / "missing"), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing" in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "r").exists()


def test_plume_free_run_explains_nothing_away(plume_free_day: pd.DataFrame) -> None:
    config = FitConfig()
    peaks = detect(plume_free_day, config)
    sites = load_coco2()
    tables = build_report(match_peaks(peaks, sites), sites, track_summary(plume_free_day), config)
    assert tables["unexplained"].empty
    assert not tables["crossings"]["detected"].any()
    assert (tables["sources"]["n_detected"] == 0).all()


def test_unexplained_lists_unmatched_and_poorly_matched_peaks() -> None:
    sites = load_coco2()
    kendal = sites.set_index("source_id").loc["CoCO2_14613"]
    lonely = _detection("far", 5, 900.0, 90.0) | {"latitude": -40.0, "longitude": 0.0}
    lonely |= {"source_id": np.nan, "rank": pd.NA, "match_score": np.nan, "significance": 40.0}
    poor = _detection("poor", 6, 900.0, 90.0) | {"source_id": "CoCO2_14613", "match_score": -8.0}
    good = _detection("good", 7, 900.0, 90.0) | {"source_id": "CoCO2_14613"}
    rejected = _detection("rejected", 8, 900.0, 90.0) | {"source_id": np.nan, "passed": False}
    matches = pd.DataFrame([lonely, poor, good, rejected])
    table = build_report(matches, sites, None)["unexplained"]
    assert table["peak_id"].tolist() == ["poor", "far"]  # most significant first
    assert table["rank1_source_id"].tolist() == ["CoCO2_14613", ""]
    assert table["rank1_match_score"].iloc[0] == -8.0
    far = table.iloc[1]
    assert far["nearest_source_distance_km"] > 1000.0
    d = float(table.iloc[0]["nearest_source_distance_km"])
    assert d <= haversine_km(-26.2, 29.0, kendal["latitude"], kendal["longitude"]) + 1e-9
