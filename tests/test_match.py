import numpy as np
import pandas as pd
import pytest

from oco2explore import cli
from oco2explore.config import FitConfig
from oco2explore.emission import ppm_per_kg_per_m2
from oco2explore.errors import InputError
from oco2explore.geo import destination, haversine_km
from oco2explore.inventory import load_inventory
from oco2explore.match import (
    EXTRA_MATCH_COLUMNS,
    MatchConfig,
    SourceIndex,
    match_peaks,
    nearest_sources,
)
from oco2explore.schema import MATCH_COLUMNS
from oco2explore.tableio import read_table, read_table_metadata
from oco2explore.truth import evaluate_attribution, truth_as_peaks

HIGHVELD = {"CoCO2_14613", "CoCO2_14668", "CoCO2_14638"}  # Kendal, Matla, Kriel
#: The Highveld peak of orbit 11522 with the published oco2peak fit (shared/data/real/README.md).
HIGHVELD_PEAK = {
    "peak_id": "11522-2016083111560007",
    "orbit": 11522,
    "sounding_id": 2016083111560007,
    "latitude": -26.278584,
    "longitude": 28.930351,
    "slope": -0.01159,
    "intercept": 403.773,
    "amplitude": 137.96,
    "sigma_km": 12.88,
    "delta_ppm": 4.27,
    "windspeed_u": -1.6995,
    "windspeed_v": -1.5996,
    "psurf": 848.3,
    "tcwv": 6.14,
}


@pytest.fixture(scope="module")
def coco2():
    return load_inventory("coco2")


def sources_at(points, emission=1e7):
    lat, lon = zip(*points, strict=True)
    return pd.DataFrame(
        {
            "source_id": [f"s{i}" for i in range(len(points))],
            "kind": "power_plant",
            "latitude": lat,
            "longitude": lon,
            "emission_t_per_yr": emission,
        }
    )


def test_highveld_peak_ranks_a_highveld_plant_in_top_3(coco2):
    matched = match_peaks(pd.DataFrame([HIGHVELD_PEAK]), coco2, top_k=5)
    assert list(matched["rank"]) == [1, 2, 3, 4, 5]
    top3 = matched.loc[matched["rank"] <= 3, "source_id"].tolist()
    assert set(top3) & HIGHVELD, top3
    kendal = matched.set_index("source_id").loc["CoCO2_14613"]
    assert kendal["source_distance_km"] == pytest.approx(21.3, abs=0.1)
    assert kendal["bearing_deg"] == pytest.approx(190.4, abs=0.2)  # the peak is SSW of Kendal
    assert kendal["upwind_angle_deg"] == pytest.approx(36.4, abs=0.2)  # wind toward 226.7°
    assert 0.1 < kendal["predicted_delta_ppm"] < 10
    assert kendal["name"] == "Kendal power station" and kendal["country"] == "ZAF"


def test_highveld_peak_detected_on_real_soundings_is_attributed(real_data, coco2):
    scan = pytest.importorskip("oco2explore.scan")
    from oco2explore.soundings import normalise_soundings

    raw = pd.read_csv(real_data / "oco2_orbit11522_20160831_highveld_peak.csv")
    soundings = normalise_soundings(
        raw.drop(columns="seed_fit_xco2").assign(
            orbit=11522,
            windspeed_u_met=HIGHVELD_PEAK["windspeed_u"],
            windspeed_v_met=HIGHVELD_PEAK["windspeed_v"],
            psurf=HIGHVELD_PEAK["psurf"],
            tcwv=HIGHVELD_PEAK["tcwv"],
            xco2_uncertainty=0.5,
        )
    )
    peaks = scan.detect(soundings, FitConfig())
    peaks = peaks[peaks["passed"].astype(bool)]
    near = haversine_km(peaks["latitude"], peaks["longitude"], -26.2786, 28.9304) < 30
    assert near.any()
    peak = peaks[near].sort_values("delta_ppm", ascending=False).head(1)
    matched = match_peaks(peak, coco2, top_k=3)
    assert set(matched["source_id"]) & HIGHVELD


@pytest.fixture(scope="module")
def demo_truth(tmp_path_factory):
    demo = pytest.importorskip("oco2explore.demo")
    return pd.read_csv(demo.demo_data_dir(tmp_path_factory.mktemp("cache")) / "truth.csv")


def test_true_source_ranks_first_for_simulated_plumes_of_big_sources(demo_truth, coco2):
    truth = demo_truth
    # Plumes a detector can see (>= 1 ppm) from sources >= 5 Mt/yr, at their exact crossing.
    plumes = truth[(truth["emission_t_per_yr"] >= 5e6) & (truth["delta_ppm"] >= 1.0)]
    assert len(plumes) >= 20
    peaks = truth_as_peaks(plumes)
    default = MatchConfig()
    speed = np.hypot(plumes["windspeed_u"], plumes["windspeed_v"]).to_numpy()
    age_h = plumes["downwind_km"].to_numpy() / (speed * 3.6)
    for config, attributable in (
        # The default radius covers plumes up to max_plume_age_h old ...
        (default, age_h <= default.max_plume_age_h),
        # ... the simulator's steady plumes at 1 m/s reach 150 km (40 h): a fixed radius.
        (MatchConfig(radius_km=150.0), np.ones(len(plumes), dtype=bool)),
    ):
        subset = plumes[attributable]
        matched = match_peaks(peaks[attributable], coco2, config=config)
        evaluated = evaluate_attribution(matched, subset, max_distance_km=1e-3)
        assert len(evaluated) == len(subset) >= 20
        rank1 = (evaluated["true_rank"] == 1).fillna(False).mean()
        assert rank1 >= 0.9, evaluated[evaluated["true_rank"] != 1]


def test_downwind_geometry_and_ranking():
    wind_u, wind_v = 3.0, 0.0  # blowing toward the east (heading 90°)
    upwind = destination(0.0, 0.0, 270.0, 20.0)  # the peak is 20 km downwind of it
    downwind = destination(0.0, 0.0, 90.0, 15.0)  # nearer, but downwind of the peak
    aside = destination(0.0, 0.0, 0.0, 12.0)  # nearest, due north (cross-wind)
    sources = sources_at([upwind, downwind, aside])
    peak = pd.DataFrame(
        {"latitude": [0.0], "longitude": [0.0], "windspeed_u": [wind_u], "windspeed_v": [wind_v]}
    )
    matched = match_peaks(peak, sources).set_index("source_id")
    assert matched.loc["s0", "rank"] == 1
    assert matched.loc["s0", "upwind_angle_deg"] == pytest.approx(0.0, abs=1e-6)
    assert matched.loc["s0", "along_wind_km"] == pytest.approx(20.0, rel=1e-6)
    assert matched.loc["s0", "cross_wind_km"] == pytest.approx(0.0, abs=1e-6)
    assert matched.loc["s0", "plume_age_h"] == pytest.approx(20.0 / (3.0 * 3.6), rel=1e-6)
    assert matched.loc["s1", "upwind_angle_deg"] == pytest.approx(180.0, abs=1e-6)
    assert matched.loc["s2", "upwind_angle_deg"] == pytest.approx(90.0, abs=1e-6)
    assert matched.loc["s2", "cross_wind_km"] == pytest.approx(12.0, rel=1e-6)  # right of axis
    assert set(matched["rank"]) == {1, 2, 3}


def test_predicted_enhancement_is_the_gaussian_plume_peak():
    sources = sources_at([destination(0.0, 0.0, 270.0, 10.0)], emission=31.5576e6)  # 1 t/s
    peak = {"latitude": 0.0, "longitude": 0.0, "windspeed_u": 4.0, "windspeed_v": 0.0}
    peak.update(sigma_km=10.0, wind_perp=2.0, psurf=1000.0, tcwv=20.0)
    got = match_peaks(pd.DataFrame([peak]), sources)["predicted_delta_ppm"].iloc[0]
    column_kg_per_m2 = 1000.0 / (2.0 * 10e3 * np.sqrt(2 * np.pi))
    assert got == pytest.approx(column_kg_per_m2 * ppm_per_kg_per_m2(1000.0, 20.0), rel=1e-9)
    # 1 kg/m² of CO2 in a standard dry column (10,332 kg/m² of air) is ~63.7 ppm.
    assert ppm_per_kg_per_m2(1013.25, 0.0) == pytest.approx(63.70, abs=0.01)


def test_size_term_prefers_the_source_whose_emission_fits():
    east = 3.0, 0.0
    big = destination(0.0, 0.0, 265.0, 20.0)
    small = destination(0.0, 0.0, 275.0, 20.0)
    sources = sources_at([big, small]).assign(emission_t_per_yr=[2e7, 2e5])
    base = {"latitude": 0.0, "longitude": 0.0, "windspeed_u": east[0], "windspeed_v": east[1]}
    strong = match_peaks(pd.DataFrame([{**base, "delta_ppm": 3.0, "sigma_km": 8.0}]), sources)
    weak = match_peaks(pd.DataFrame([{**base, "delta_ppm": 0.03, "sigma_km": 8.0}]), sources)
    assert strong["source_id"].iloc[0] == "s0"
    assert weak["source_id"].iloc[0] == "s1"


def test_every_peak_kept_and_top_k_ranked(coco2):
    rng = np.random.default_rng(1)
    lat = np.r_[-26.2786, 0.0, rng.uniform(20, 50, 30)]
    lon = np.r_[28.9304, -30.0, rng.uniform(-100, 20, 30)]
    peaks = pd.DataFrame(
        {
            "peak_id": [f"p{i}" for i in range(lat.size)],
            "latitude": lat,
            "longitude": lon,
            "windspeed_u": rng.normal(0, 5, lat.size),
            "windspeed_v": rng.normal(0, 5, lat.size),
        }
    )
    matched = match_peaks(peaks, coco2, top_k=2)
    assert list(matched.columns) == list(peaks.columns) + list(MATCH_COLUMNS) + list(
        EXTRA_MATCH_COLUMNS
    )
    assert set(matched["peak_id"]) == set(peaks["peak_id"])
    ocean = matched[matched["peak_id"] == "p1"]
    assert len(ocean) == 1 and ocean["rank"].isna().all() and ocean["source_id"].isna().all()
    for _, group in matched.dropna(subset=["rank"]).groupby("peak_id"):
        assert list(group["rank"]) == list(range(1, len(group) + 1)) and len(group) <= 2
        assert np.all(np.diff(group["match_score"]) <= 0)
    radius = MatchConfig().radius_max_km
    assert (matched["source_distance_km"].dropna() <= radius + 1e-6).all()


def test_peaks_without_position_or_sources_are_kept(coco2):
    peaks = pd.DataFrame({"peak_id": ["a", "b"], "latitude": [-26.3, np.nan], "longitude": [29, 3]})
    for sources, n_matched in ((coco2, 1), (coco2.iloc[:0], 0)):
        matched = match_peaks(peaks, sources, top_k=1)
        assert matched["peak_id"].tolist() == ["a", "b"]
        assert matched["rank"].notna().sum() == n_matched
    assert match_peaks(peaks.iloc[:0], coco2).empty


def test_spatial_index_agrees_with_brute_force():
    rng = np.random.default_rng(7)
    # Cluster points near the pole and the date line, where lat/lon boxes fail.
    src_lat = np.r_[rng.uniform(85, 90, 200), rng.uniform(-10, 10, 300)]
    src_lon = np.r_[rng.uniform(-180, 180, 200), rng.uniform(175, 185, 300)]
    sources = pd.DataFrame(
        {"latitude": src_lat, "longitude": src_lon, "emission_t_per_yr": 1.0}
    ).assign(longitude=lambda d: (d["longitude"] + 180) % 360 - 180)
    index = SourceIndex(sources)
    q_lat = np.r_[rng.uniform(84, 90, 20), rng.uniform(-5, 5, 20)]
    q_lon = np.r_[
        rng.uniform(-180, 180, 20), rng.uniform(-180, -175, 10), rng.uniform(175, 180, 10)
    ]
    radius = rng.uniform(20, 150, q_lat.size)
    query, src = index.within(q_lat, q_lon, radius)
    got = set(zip(query.tolist(), src.tolist(), strict=True))
    d = haversine_km(q_lat[:, None], q_lon[:, None], index.lat[None, :], index.lon[None, :])
    want = set(zip(*np.nonzero(d <= radius[:, None]), strict=True))
    assert got == {(int(a), int(b)) for a, b in want} and len(got) > 100


def test_radius_follows_the_wind():
    config = MatchConfig(max_plume_age_h=2.0, radius_min_km=10.0, radius_max_km=50.0)
    sources = sources_at([destination(0.0, 0.0, 270.0, 30.0)])
    calm = pd.DataFrame(
        {"latitude": [0.0], "longitude": [0.0], "windspeed_u": [1.0], "windspeed_v": [0.0]}
    )
    windy = calm.assign(windspeed_u=6.0)  # 6 m/s × 2 h = 43 km
    assert match_peaks(calm, sources, config=config)["rank"].isna().all()  # 7.2 km -> 10 km
    assert match_peaks(windy, sources, config=config)["rank"].tolist() == [1]
    fixed = MatchConfig(radius_km=40.0)
    assert match_peaks(calm, sources, config=fixed)["rank"].tolist() == [1]
    with pytest.raises(InputError, match="radius_min_km"):
        MatchConfig(radius_min_km=100.0, radius_max_km=50.0)


def test_nearest_sources_for_one_fit(coco2):
    index = SourceIndex(coco2)
    wind = (-1.6995, -1.5996)
    got = nearest_sources(-26.2786, 28.9304, *wind, index, top_k=3, sigma_km=12.88, delta_ppm=4.27)
    assert list(got.columns) == list(MATCH_COLUMNS) + list(EXTRA_MATCH_COLUMNS)
    assert got["rank"].tolist() == [1, 2, 3] and set(got["source_id"]) & HIGHVELD
    # Without an observed Δ only the direction counts: the best-aligned source wins.
    aligned = nearest_sources(-26.2786, 28.9304, *wind, index, top_k=3)
    assert aligned["upwind_angle_deg"].iloc[0] == aligned["upwind_angle_deg"].min() < 5.0
    no_wind = nearest_sources(-26.2786, 28.9304, np.nan, np.nan, index, top_k=1)
    assert no_wind["upwind_angle_deg"].isna().all() and no_wind["source_id"].iloc[0] in HIGHVELD
    assert nearest_sources(0.0, -30.0, 1.0, 1.0, index).empty


def test_cli_match_writes_the_match_table(tmp_path):
    peaks = tmp_path / "peaks.csv"
    pd.DataFrame([HIGHVELD_PEAK]).to_csv(peaks, index=False)
    out = tmp_path / "matched.parquet"
    assert cli.main(["match", str(peaks), "--out", str(out), "--top-k", "2", "-q"]) == 0
    matched = read_table(out)
    assert len(matched) == 2 and set(matched["source_id"]) & HIGHVELD
    meta = read_table_metadata(out)
    assert meta["inventories"] == ["CoCO2-2018"]
    assert meta["match_config"]["max_plume_age_h"] == MatchConfig().max_plume_age_h


def test_cli_match_bad_inventory_is_one_line_error(tmp_path, capsys):
    peaks = tmp_path / "peaks.csv"
    pd.DataFrame([HIGHVELD_PEAK]).to_csv(peaks, index=False)
    bad = tmp_path / "sources.csv"
    pd.DataFrame({"source_id": ["a"], "latitude": [np.nan], "longitude": [1.0]}).assign(
        emission_t_per_yr=1.0
    ).to_csv(bad, index=False)
    code = cli.main(
        ["match", str(peaks), "--inventory", str(bad), "--out", str(tmp_path / "m.csv")]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert str(bad) in err and "'latitude'" in err
