"""The learned scorer (oco2explore.learn): candidates, labels, training, files, CLI, real data."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from oco2explore import learn
from oco2explore.cli import main
from oco2explore.config import FitConfig
from oco2explore.errors import InputError
from oco2explore.fit import gaussian
from oco2explore.noise import significance_threshold
from oco2explore.scan import SETTLE_TOLERANCE_KM, detect, fit_at, prepare_orbit
from oco2explore.simulate import REGIONS, simulate_day
from oco2explore.soundings import add_distance_km
from oco2explore.tableio import read_table, read_table_metadata

#: Days of the small training set (regional passes: many plumes, fast). Fewer (12 or 16)
#: give out-of-fold scores that do not rank the few positives first, which train refuses.
DAYS = pd.date_range("2019-03-01", periods=20, freq="D")


@pytest.fixture(scope="module")
def regional():
    """Good soundings and truth of 20 simulated days over the emitter regions (seed 7)."""
    parts, truths = [], []
    for day in DAYS:
        s, t = simulate_day(day, seed=7, regions=list(REGIONS))
        parts.append(s.drop(columns="distance_km"))
        truths.append(t)
    good = add_distance_km(pd.concat(parts, ignore_index=True))
    return good[good["xco2_quality_flag"] == 0].reset_index(drop=True), pd.concat(truths)


@pytest.fixture(scope="module")
def tiny(regional):
    """A small model trained on the regional days."""
    good, truth = regional
    data = learn.LabelledTracks(fraction=0.5)  # more candidates from few days
    data.add("regional", good, FitConfig(), lambda p: learn.truth_labels(p, truth))
    card = {"data": "20 regional days, seed 7", "labels": "truth"}
    # Unguarded: within the default guard 20 days give too few candidates to train on.
    return data.train(seed=0, card={**card, "fit_config": FitConfig().to_dict()}, guard=None)


@pytest.fixture(scope="module")
def guarded(tiny):
    """The small model with the default guard in its card (the guard acts when scoring)."""
    return dataclasses.replace(tiny, card={**tiny.card, "guard": learn.DEFAULT_GUARD})


def test_candidate_config_lowers_only_the_threshold():
    v1 = FitConfig.preset("v1")
    low = learn.candidate_config(v1, 0.5)
    assert low.significance_min == v1.significance_min * 0.5
    assert low.replace(significance_min=v1.significance_min) == v1
    off = FitConfig.preset("v1", significance_min=None)
    assert learn.candidate_config(off, 0.5) == off
    assert learn.candidate_config(v1, 1.0) == v1  # the fit scan's own refits
    with pytest.raises(InputError, match="fraction"):
        learn.candidate_config(v1, 0.0)


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.8])
def test_candidate_rate_gives_the_fraction_of_the_default_threshold(fraction):
    config = FitConfig()  # the default detector, whatever its rate and σ range
    low = learn.candidate_config(config, fraction)
    assert low.replace(false_peaks_per_10000km=config.false_peaks_per_10000km) == config
    assert low.false_peaks_per_10000km > config.false_peaks_per_10000km
    s = config.sigma_min_km
    assert low.significance_limit(s) == pytest.approx(fraction * config.significance_limit(s))
    # No width is held to more than its own threshold.
    for sigma in (s, 3.0, 10.0, config.sigma_max_km):
        assert low.significance_limit(sigma) < config.significance_limit(sigma)


def test_candidates_of_fraction_one_are_the_fit_scans_rows(regional):
    good, _ = regional
    peaks, feats = learn.candidates(good, FitConfig(), 1.0)
    fit = detect(good, FitConfig())
    assert len(feats) == len(peaks)
    np.testing.assert_allclose(peaks["distance_km"], fit["distance_km"])
    np.testing.assert_array_equal(peaks["passed"], fit["passed"])
    wide, _ = learn.candidates(good, FitConfig(), 0.5)
    assert len(wide) > len(peaks)  # a lower fraction refits more


def test_candidates_include_every_passed_peak_of_the_fit_scan(regional):
    good, _ = regional
    peaks, feats = learn.candidates(good, FitConfig())
    assert list(feats.columns) == [*learn.FEATURE_NAMES, learn.GUARD_REFIT]
    assert len(feats) == len(peaks) > 0
    # The guard's refit is asked of the significance rejections within its rate only.
    band = (peaks["reject_reason"] == "significance_min").to_numpy() & (
        learn.false_rate(peaks, FitConfig()) <= learn.GUARD_FALSE_PEAKS_PER_10000KM
    )
    asked = np.isfinite(feats[learn.GUARD_REFIT].to_numpy())
    np.testing.assert_array_equal(asked, band)
    fit = detect(good, FitConfig())
    fit = fit[fit["passed"]]
    for row in fit.itertuples():
        same = peaks[peaks["orbit"] == row.orbit]
        assert np.min(np.abs(same["distance_km"] - row.distance_km)) < 2 * row.sigma_km
    # The margin is the significance over the configuration's own threshold.
    sig, sigma = peaks["significance"].iloc[0], peaks["sigma_km"].iloc[0]
    assert feats["margin"].iloc[0] == pytest.approx(sig / FitConfig().significance_limit(sigma))


def test_features_are_nan_without_the_columns(regional):
    good, _ = regional
    minimal = good[["orbit", "latitude", "longitude", "xco2", "distance_km"]]
    _, feats = learn.candidates(minimal, FitConfig())
    assert len(feats)
    for name in ("wind_speed", "n_footprints", "altitude_spread_m", "albedo_o2a_contrast"):
        assert feats[name].isna().all(), name
    assert feats["significance"].notna().all()


def test_truth_labels():
    truth = pd.DataFrame(
        {
            "orbit": [1, 1],
            "crossing_latitude": [0.0, 1.0],
            "crossing_longitude": [0.0, 0.0],
            "sigma_km": [2.0, 2.0],
            "delta_ppm": [2.0, 0.1],
        }
    )
    peaks = pd.DataFrame(
        {"orbit": [1, 1, 1, 2], "latitude": [0.01, 1.01, 3.0, 0.0], "longitude": [0.0] * 4}
    )
    labels = learn.truth_labels(peaks, truth)
    np.testing.assert_array_equal(labels[[0, 2, 3]], [1.0, 0.0, 0.0])
    assert np.isnan(labels[1])  # on a weak crossing only: unlabelled


def test_inventory_labels():
    sources = pd.DataFrame(
        {
            "source_id": ["big"],
            "name": ["plant"],
            "kind": ["power_plant"],
            "fuel": ["coal"],
            "latitude": [0.0],
            "longitude": [0.0],
            "emission_t_per_yr": [2e7],
            "inventory": ["test"],
        }
    )
    # Wind towards the north: 0.1° north lies downwind of the plant, 0.1° south upwind of
    # it (the plant is downwind of the peak), 10° north beyond reach, north-east off the axis.
    peaks = pd.DataFrame(
        {
            "latitude": [0.1, -0.1, 10.0, 0.07],
            "longitude": [0.0, 0.0, 0.0, 0.07],
            "windspeed_u": [0.0] * 4,
            "windspeed_v": [3.0] * 4,
            "wind_perp": [3.0] * 4,
            "sigma_km": [3.0] * 4,
            "delta_ppm": [2.0] * 4,
        }
    )
    labels = learn.inventory_labels(peaks, sources)
    np.testing.assert_array_equal(labels[:3], [1.0, 0.0, 0.0])
    assert np.isnan(labels[3])  # a large source in reach, 45° off the wind: ambiguous


def test_train_is_seeded_and_calibrated(regional, tiny):
    good, truth = regional
    assert 0.5 <= tiny.threshold <= 1.0
    card = tiny.card
    for key in ("data", "labels", "features", "metrics_out_of_fold", "limits", "threshold"):
        assert key in card, key
    assert card["n_positive"] > 0 and card["n_negative"] > 0
    assert card["candidates"]["fraction_of_threshold"] == 0.5
    rate = learn.candidate_rate(FitConfig(), 0.5)
    assert card["candidates"]["false_peaks_per_10000km"] == rate
    peaks, feats = learn.candidates(good, FitConfig(), 0.5)
    prob = tiny.probability(feats)
    assert ((prob >= 0) & (prob <= 1)).all()
    again = learn.LabelledTracks(fraction=0.5)
    again.add("regional", good, FitConfig(), lambda p: learn.truth_labels(p, truth))
    np.testing.assert_array_equal(again.train(seed=0, guard=None).probability(feats), prob)


def test_train_on_a_feature_set_records_and_uses_it(regional, tmp_path):
    """A model trained on the scale-free set uses only those features, also after loading."""
    good, truth = regional
    data = learn.LabelledTracks(fraction=0.5)
    data.add("regional", good, FitConfig(), lambda p: learn.truth_labels(p, truth))
    scorer = data.train(seed=0, feature_names=learn.SCALE_FREE_FEATURES, guard=None)
    assert scorer.features == learn.SCALE_FREE_FEATURES
    assert not set(learn.SCALE_DEPENDENT) & set(scorer.card["features"])
    _, feats = learn.candidates(good, FitConfig(), 0.5)
    loaded = learn.load(learn.save(scorer, tmp_path / "m.joblib"))
    assert loaded.features == learn.SCALE_FREE_FEATURES
    # The scale-dependent columns do not enter its decision.
    changed = feats.assign(**{n: feats[n] * 10 for n in learn.SCALE_DEPENDENT})
    np.testing.assert_allclose(loaded.probability(changed), scorer.probability(feats))
    with pytest.raises(InputError, match="unknown features"):
        data.train(feature_names=("no_such_feature",), guard=None)


def test_train_needs_both_classes():
    feats = pd.DataFrame(np.zeros((4, len(learn.FEATURE_NAMES))), columns=learn.FEATURE_NAMES)
    with pytest.raises(InputError, match="positive"):
        learn.train(feats, np.zeros(4), np.arange(4))


def test_train_refuses_scores_that_rank_plumes_below_noise():
    """Out-of-fold scores ranking positives below negatives would invert the calibration."""
    rng = np.random.default_rng(0)
    n = 200
    groups = np.repeat(np.arange(4), n // 4)
    x = rng.uniform(0, 1, n)
    # High x is a plume in orbits 0 and 1, noise in 2 and 3: each held-out orbit's rule is
    # the opposite of the majority the other three teach.
    y = np.where(groups < 2, x > 0.5, x <= 0.5).astype(float)
    feats = pd.DataFrame({"significance": x})
    with pytest.raises(InputError, match="do not rank"):
        learn.train(feats, y, groups, feature_names=("significance",))


def test_save_load_round_trip(tiny, regional, tmp_path):
    path = learn.save(tiny, tmp_path / "model.joblib")
    card = json.loads(learn.card_path(path).read_text())
    assert card["labels"] == "truth" and card["threshold"] == tiny.threshold
    assert set(card["features"]) == set(tiny.features) == set(learn.V1_FEATURES)  # the default
    back = learn.load(path)
    assert back.threshold == tiny.threshold and back.card["sha256"]
    _, feats = learn.candidates(regional[0], FitConfig())
    np.testing.assert_array_equal(back.probability(feats), tiny.probability(feats))


def test_apply_scorer_decides_passed(guarded, regional):
    peaks, feats = learn.candidates(regional[0], FitConfig())
    out = learn.apply_scorer(peaks, feats, guarded)
    inside = learn.within_guard(peaks, FitConfig(), learn.DEFAULT_GUARD, feats)
    assert 0 < inside.sum() < len(peaks)
    assert (out["passed"] == ((out["learned_probability"] >= guarded.threshold) & inside)).all()
    # Rejected inside the guard: by the model; outside: the fit scan's own reason stays.
    assert (out["reject_reason"][~out["passed"] & inside] == "learned").all()
    outside = out[~inside]
    assert (outside["reject_reason"] == outside["fit_reject_reason"]).all()
    assert (out["fit_reject_reason"] == peaks["reject_reason"]).all()
    pd.testing.assert_series_equal(out["significance"], peaks["significance"])


def test_unguarded_model_decides_every_candidate(tiny, regional):
    assert tiny.card["guard"] is None
    assert tiny.card["n_outside_guard"] == {"positive": 0, "negative": 0}
    peaks, feats = learn.candidates(regional[0], FitConfig())
    out = learn.apply_scorer(peaks, feats, tiny)
    assert (out["passed"] == (out["learned_probability"] >= tiny.threshold)).all()
    assert (out["reject_reason"][~out["passed"]] == "learned").all()


def test_guarded_training_leaves_out_the_candidates_outside_the_guard(regional):
    good, truth = regional
    data = learn.LabelledTracks(fraction=0.5)
    data.add("regional", good, FitConfig(), lambda p: learn.truth_labels(p, truth))
    peaks, feats = data.peaks[0], data.features[0]
    y = np.asarray(data.labels[0])
    inside = learn.within_guard(peaks, FitConfig(), learn.DEFAULT_GUARD, feats)
    assert np.sum(inside & np.isfinite(y)) < np.sum(np.isfinite(y))
    with pytest.raises(InputError, match="within the guard"):
        data.train(seed=0)  # 20 days: too few labelled candidates inside it
    # The card counts what the guard left out; the model is trained on the rest (here a
    # guard leaving out every tenth negative, so that enough stay to train on).
    some = np.ones(len(y), dtype=bool)
    some[np.flatnonzero(y == 0)[::10]] = False
    model = learn.train(feats, y, data.groups[0], seed=0, guard=learn.DEFAULT_GUARD, inside=some)
    assert model.card["guard"] == learn.DEFAULT_GUARD
    assert model.card["n_outside_guard"] == {
        "positive": int(np.sum(~some & (y == 1))),
        "negative": int(np.sum(~some & (y == 0))),
    }
    assert model.card["n_positive"] == int(np.sum(some & (y == 1)))
    assert model.card["n_negative"] == int(np.sum(some & (y == 0)))
    with pytest.raises(InputError, match="within_guard"):
        learn.train(feats, y, data.groups[0], guard=learn.DEFAULT_GUARD)


def _candidate_rows(reasons, significance, sigma_km):
    return pd.DataFrame(
        {"reject_reason": reasons, "significance": significance, "sigma_km": sigma_km}
    )


def test_within_guard_bounds_the_noise_rate_and_keeps_the_fits_checks():
    config = FitConfig()
    guard = learn.DEFAULT_GUARD
    rate = guard["max_false_peaks_per_10000km"]
    lo, hi = config.sigma_min_km, config.sigma_max_km
    at = {s: significance_threshold(s, rate, lo, hi) for s in (2.0, 30.0)}
    rows = _candidate_rows(
        ["significance_min", "significance_min", "", "r2_min", "min_support", "significance_min"]
        + ["significance_min"],
        [at[2.0] * 1.001, at[2.0] * 0.999, 500.0, 500.0, 500.0, np.nan, at[2.0] * 1.001],
        [2.0, 2.0, 30.0, 30.0, 30.0, 2.0, 2.0],
    ).assign(r2=[0.5, 0.5, 0.9, 0.1, 0.9, 0.5, config.r2_min * 0.99])
    inside = learn.within_guard(rows, config, guard)
    # At the rate's threshold in, below it out; shape and support rejections stand; no
    # significance, out; a significance rejection below the R² floor, out.
    np.testing.assert_array_equal(inside, [True, False, True, False, False, False, False])
    np.testing.assert_allclose(learn.false_rate(rows.iloc[:1], config), [rate], rtol=0.01)
    assert learn.within_guard(rows, config, None).all()
    # Never tighter than the configuration's own rate: what the fit scan passes stays in.
    loose = config.replace(false_peaks_per_10000km=5.0)
    weak = _candidate_rows([""], [significance_threshold(2.0, 5.0, lo, hi) * 1.001], [2.0])
    weak["r2"] = 0.5
    assert learn.within_guard(weak, loose, guard).all()
    assert not learn.within_guard(weak, config, guard).any()
    # A wider width is rarer at the same significance: its threshold is lower.
    assert at[30.0] < at[2.0]


def test_probability_memo_scores_only_new_candidates(tiny, regional):
    _, feats = learn.candidates(regional[0], FitConfig())
    memo: dict[bytes, float] = {}
    used = feats[list(tiny.features)].to_numpy(float)
    first = tiny.probability(feats.iloc[: len(feats) // 2], memo)
    assert len(memo) == len(np.unique(used[: len(feats) // 2], axis=0))
    # The memo's probabilities are the model's, candidate by candidate.
    np.testing.assert_array_equal(first, tiny.probability(feats.iloc[: len(feats) // 2]))
    np.testing.assert_array_equal(tiny.probability(feats, memo), tiny.probability(feats))
    # Known candidates are taken from the memo, not scored again.
    key = next(iter(memo))
    memo[key] = -1.0
    again = tiny.probability(feats, memo)
    assert (again == -1.0).sum() >= 1
    assert len(memo) == len(np.unique(used, axis=0))


@pytest.mark.parametrize("content", [b"not a model", b""])
def test_bad_model_file_is_one_line_exit_2(tmp_path, capsys, content):
    bad = tmp_path / "bad.joblib"
    bad.write_bytes(content)
    table = tmp_path / "s.csv"
    pd.DataFrame({"distance_km": [0.0, 1.0], "xco2": [400.0, 401.0]}).to_csv(table)
    code = main(
        ["detect", str(table), "--out", str(tmp_path / "p.csv"), "--scorer", "learned"]
        + ["--model", str(bad), "-q"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "bad.joblib" in err and "Traceback" not in err


def test_model_without_learned_scorer_is_a_usage_error(tmp_path, capsys):
    code = main(["detect", "x.csv", "--out", str(tmp_path / "p.csv"), "--model", "m.joblib"])
    assert code == 2 and "--scorer learned" in capsys.readouterr().err


def test_cli_learn_then_detect_learned(tmp_path, capsys):
    sim = tmp_path / "sim"
    assert (
        main(
            ["simulate", "--out", str(sim), "--days", "20", "--seed", "3", "-q"]
            + sum((["--region", r] for r in REGIONS), [])
        )
        == 0
    )
    model = tmp_path / "m.joblib"
    learn_cmd = ["learn", str(sim), "--labels", "truth", "--out", str(model), "-q"]
    # Twenty days leave too few labelled candidates within the default guard: a clear error.
    assert main(learn_cmd) == 2
    assert "within the guard" in capsys.readouterr().err and not model.exists()
    # Unguarded, on the candidates of a permissive detector (enough to train on).
    assert main([*learn_cmd, "--no-guard", "--false-peaks-per-10000km", "100"]) == 0
    card = json.loads(learn.card_path(model).read_text())
    assert card["labels"] == "truth" and card["data"]["tracks"] == [str(sim)]
    assert card["guard"] is None
    out = tmp_path / "peaks.parquet"
    code = main(
        ["detect", str(sim), "--out", str(out), "--scorer", "learned", "--model", str(model)]
        + ["-q"]
    )
    assert code == 0
    peaks = read_table(out)
    assert peaks["learned_probability"].between(0, 1).all()
    meta = read_table_metadata(out)
    assert meta["scorer"] == "learned" and meta["model_file"] == str(model)
    assert meta["fit_config"] == card["fit_config"]  # the candidates' configuration


def test_a_model_scores_the_candidates_of_its_own_configuration():
    v1 = {"fit_config": FitConfig.preset("v1").to_dict()}
    scorer = learn.LearnedScorer(model=None, platt=(1.0, 0.0), threshold=0.5, card=v1)
    assert learn.model_config(scorer) == FitConfig.preset("v1")
    changed = learn.model_config(scorer, FitConfig(r2_min=0.5))
    assert changed == FitConfig.preset("v1", r2_min=0.5)
    bare = learn.LearnedScorer(model=None, platt=(1.0, 0.0), threshold=0.5)  # no card
    assert learn.model_config(bare, FitConfig(r2_min=0.5)) == FitConfig(r2_min=0.5)
    assert learn.scorer_fraction(bare) == learn.CANDIDATE_FRACTION


def test_score_uses_the_models_candidate_fraction(tiny, regional):
    good, _ = regional
    own = learn.LearnedScorer(
        model=tiny.model,
        platt=tiny.platt,
        threshold=tiny.threshold,
        card={**tiny.card, "candidates": {"fraction_of_threshold": 1.0}},
    )
    assert learn.scorer_fraction(own) == 1.0
    peaks = learn.score(good, FitConfig(), own)
    np.testing.assert_allclose(peaks["distance_km"], detect(good, FitConfig())["distance_km"])


def test_score_of_a_prepared_orbit_is_the_score_of_its_table(tiny, regional):
    """The explorer passes its orbit's Track (prepared once): the same rows as the table."""
    good, _ = regional
    orbit = good[good["orbit"] == good["orbit"].iloc[0]].reset_index(drop=True)
    permissive = learn.candidate_config(learn.model_config(tiny), learn.scorer_fraction(tiny))
    track = prepare_orbit(orbit, permissive)
    pd.testing.assert_frame_equal(learn.score(track, None, tiny), learn.score(orbit, None, tiny))
    other = prepare_orbit(orbit, permissive.replace(wind_aligned=not permissive.wind_aligned))
    with pytest.raises(ValueError, match="prepared with"):
        learn.score(other, None, tiny)


def test_packaged_model_scores_the_default_detectors_candidates():
    """The packaged model scores the default detector's own candidates, within the guard."""
    scorer = learn.load()
    # Trained on the current defaults (benchmarks/train_default_model.py): a change of the
    # detector's defaults needs a retrained model (docs/learned.md, "Re-running").
    assert FitConfig.from_record(scorer.card["fit_config"]) == FitConfig()
    assert learn.model_config(scorer) == FitConfig()
    assert scorer.card["guard"] == learn.DEFAULT_GUARD
    assert scorer.features == learn.SCALE_FREE_FEATURES
    rule = scorer.card["candidates"]
    fraction = learn.scorer_fraction(scorer)
    assert rule["false_peaks_per_10000km"] == pytest.approx(
        learn.candidate_rate(FitConfig(), fraction)
    )
    assert learn.default_model_path().stat().st_size <= 5 * 2**20


def test_learn_truth_needs_truth_csv(tmp_path, capsys):
    table = tmp_path / "s.csv"
    pd.DataFrame({"distance_km": [0.0, 1.0], "xco2": [400.0, 401.0]}).to_csv(table)
    code = main(["learn", str(table), "--labels", "truth", "--out", str(tmp_path / "m.joblib")])
    assert code == 2 and "truth.csv" in capsys.readouterr().err


def test_packaged_model_on_real_highveld_passes_one_peak(real_data):
    scorer = learn.load()
    assert scorer.card["labels"] == "truth"
    highveld = pd.read_csv(real_data / "oco2_orbit11522_20160831_highveld_peak.csv")
    peaks = learn.score(highveld, FitConfig(), scorer)
    passed = peaks[peaks["passed"]]
    assert len(passed) == 1
    # The Highveld plant cluster, within 30 km of the peak centre sounding (distance 0).
    assert abs(passed["distance_km"].iloc[0]) < 30.0


def test_packaged_model_on_real_plume_free_stretches_passes_none(real_data):
    scorer = learn.load()
    for name in ("segment_5700_6400km", "segment_6400_6700km"):
        table = pd.read_csv(real_data / f"oco2_orbit11522_20160831_{name}.csv")
        peaks = learn.score(table, FitConfig(), scorer)
        assert not peaks["passed"].any(), name


@pytest.fixture(scope="module")
def bench_real():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import bench_real

    return bench_real


def test_packaged_model_on_real_california_no_more_unexplained_peaks(real_data, bench_real):
    """bench_real.py's passes: the learned scorer passes the LA basin and Las Vegas crossings
    the fit scan passes, no more peaks far (> 60 km) from every city and large site than the
    fit scan, the same single Highveld peak and none on the plume-free stretches."""
    scorer = learn.load()
    ca = bench_real.read_california(real_data)
    fit = bench_real.evaluate(FitConfig(), real=real_data, california=ca)
    learned = bench_real.evaluate(
        FitConfig(),
        real=real_data,
        california=ca,
        detector=lambda df, c: learn.score(df, c, scorer),
    )
    assert len(learned.unexplained) <= len(fit.unexplained)
    assert len(learned.highveld) == 1 and len(learned.plume_free) == 0
    for name, peak in fit.crossings.items():
        assert peak is not None, name
        assert learned.crossings[name] is not None, name
        assert learned.crossings[name]["peak_id"] == peak["peak_id"], name
    # The same candidate scan: the same Highveld peak.
    assert learned.highveld["distance_km"].iloc[0] == pytest.approx(
        fit.highveld["distance_km"].iloc[0], abs=SETTLE_TOLERANCE_KM
    )


def test_guard_asks_the_fits_checks_of_a_weak_bump_the_artefact_check_included():
    """A bump below the fit scan's threshold but within the guard's rate is within the guard
    only when its fit at the guard's rate passes every check: with an albedo that follows
    the bump, the artefact check explains it and the guard keeps it out."""
    config = FitConfig()
    x = np.arange(0.0, 600.0, 0.8)
    bump = gaussian(x - 300.0, 5.0 * np.sqrt(2.0 * np.pi), 5.0)  # 1 ppm high, σ 5 km
    rng = np.random.default_rng(0)
    xco2 = 400.0 + 0.3 * rng.standard_normal(x.size) + 0.5 * bump
    plain = pd.DataFrame(
        {"orbit": 1, "distance_km": x, "latitude": x / 111.0, "longitude": 0.0, "xco2": xco2}
    )
    bright = plain.assign(albedo_o2a=0.2 + 0.1 * bump + 0.003 * rng.standard_normal(x.size))
    verdicts = []
    for table in (plain, bright):
        peaks, feats = learn.candidates(table, config)
        at = np.flatnonzero((peaks["distance_km"] - 300.0).abs().to_numpy() < 10.0)
        assert at.size == 1
        row = peaks.iloc[at]
        # Weaker than the fit scan's threshold, stronger than the guard's: in the band.
        assert row["reject_reason"].iloc[0] == "significance_min"
        assert 0.1 < learn.false_rate(row, config)[0] <= learn.GUARD_FALSE_PEAKS_PER_10000KM
        verdicts.append(learn.within_guard(peaks, config, learn.DEFAULT_GUARD, feats)[at[0]])
        refit = fit_at(
            table, row["distance_km"].iloc[0], config.replace(false_peaks_per_10000km=1.0)
        )
        assert feats[learn.GUARD_REFIT].iloc[at[0]] == float(refit.fit.passed)
    assert verdicts == [True, False]
