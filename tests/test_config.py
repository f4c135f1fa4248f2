import dataclasses
import json

import numpy as np
import pytest

from oco2explore.cli import build_parser, config_from_args
from oco2explore.config import FitConfig, MatchConfig
from oco2explore.errors import InputError


def test_v1_follows_the_seed_rules_and_v2_is_the_default():
    config = FitConfig.preset("v1")
    assert config.half_width_km == 100.0  # 200 km window
    assert config.sigma_min_km == 2.0  # σ ≥ 2 km
    assert 3 * config.sigma_max_km <= config.half_width_km  # 3σ ≤ half window
    assert config.amplitude_min == 0.0  # Δ > 0
    assert config.r2_min == 0.25
    default = FitConfig()
    assert default == FitConfig.preset("v2")
    assert 3 * default.sigma_max_km <= default.half_width_km  # 3σ ≤ half window still
    assert default.r2_min == 0.25 and default.amplitude_min == 0.0


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"half_width_km": 0.0}, "half_width_km"),
        ({"sigma_min_km": 40.0}, "sigma_min_km < sigma_max_km"),
        ({"amplitude_min": 5.0, "amplitude_max": 1.0}, "amplitude_min < amplitude_max"),
        ({"slope_max": 0.0}, "slope_max"),
        ({"intercept_min": 410.0, "intercept_max": 390.0}, "intercept_min < intercept_max"),
        ({"center_shift_max_km": 150.0}, "center_shift_max_km"),
        ({"significance_scale_km": -1.0}, "significance_scale_km"),
        ({"quality": "best"}, "quality"),
        ({"support_km": 0.0}, "support_km must be > 0"),
        ({"support_km": -3.5}, "support_km must be > 0"),
    ],
)
def test_invalid_values_are_one_line_input_errors(changes, message):
    with pytest.raises(InputError, match=message):
        FitConfig(**changes)


def test_significance_limit_grows_with_width_above_the_scale():
    config = FitConfig.preset("v1", significance_min=20.0, significance_scale_km=4.0)
    assert config.significance_limit(2.0) == 20.0
    assert config.significance_limit(4.0) == 20.0
    assert config.significance_limit(12.0) == pytest.approx(60.0)
    assert config.replace(significance_scale_km=None).significance_limit(30.0) == 20.0
    assert config.replace(significance_min=None).significance_limit(3.0) is None


def test_support_grows_with_sigma_over_support_km():
    v1 = FitConfig.preset("v1")
    assert v1.support_km is None and v1.support_limit(20.7) == 20  # the seed's ⌊σ/km⌋
    v2 = FitConfig()
    assert v2.support_limit(1.0) == 1  # the floor, min_support
    assert v2.support_limit(20.7) == 5  # ⌊20.7 / 3.5⌋
    assert v2.support_limit(40.0) == 11
    assert v2.replace(min_support=None).support_limit(20.0) is None


def test_a_recorded_configuration_reads_back_as_it_ran():
    recorded = FitConfig.preset("v1").to_dict()
    del recorded["support_km"]  # recorded before the field existed
    assert FitConfig.from_record(recorded).support_km is None  # the rule of that time
    assert FitConfig.from_dict(recorded).support_km == FitConfig().support_km
    assert FitConfig.from_record(FitConfig().to_dict()) == FitConfig()


def test_scale_space_candidates_are_v2s_and_not_of_older_records():
    assert FitConfig().scale_space_candidates
    assert not FitConfig.preset("v1").scale_space_candidates
    recorded = FitConfig().to_dict()
    del recorded["scale_space_candidates"]  # recorded before session 11
    assert not FitConfig.from_record(recorded).scale_space_candidates


def test_json_round_trip_and_digest(tmp_path):
    config = FitConfig(sigma_max_km=25.0, r2_min=None, slope_max=0.05)
    path = tmp_path / "fit.json"
    path.write_text(json.dumps({"fit_config": config.to_dict()}))
    assert FitConfig.from_json(path) == config
    assert config.digest() == FitConfig.from_json(path).digest()
    assert config.digest() != FitConfig().digest()


def test_unprintable_unknown_keys_keep_the_error_on_one_line():
    with pytest.raises(InputError, match=r"unknown fit parameter\(s\): '\\n'") as err:
        FitConfig.from_dict({"\n": None}, source="fit.json")
    assert "\n" not in str(err.value)


def test_unknown_keys_are_named():
    with pytest.raises(InputError, match="unknown fit parameter.*sigma_km"):
        FitConfig.from_dict({"sigma_km": 3.0})


def test_every_field_is_a_detect_option(capsys):
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["detect", "--help"])
    text = capsys.readouterr().out
    for field in dataclasses.fields(FitConfig):
        assert "--" + field.name.replace("_", "-") in text
    args = parser.parse_args(
        ["detect", "s.csv", "--out", "p.csv", "--center-shift-max-km", "0", "--slope-max", "0.1"]
    )
    assert config_from_args(args) == FitConfig(center_shift_max_km=0.0, slope_max=0.1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"r2_min": float("nan")}, "r2_min must be finite"),
        ({"half_width_km": float("inf")}, "half_width_km must be finite"),
        ({"sigma_min_km": True}, "sigma_min_km must be a number"),
        ({"min_soundings": 2.7}, "min_soundings must be an integer"),
        ({"min_soundings": "50"}, "min_soundings must be an integer"),
        ({"deblend": 1}, "deblend must be true or false"),
        ({"quality": 3}, "quality must be str"),
        ({"wind_aligned": None}, "wind_aligned must not be None"),
        ({"error_correlation_ppm": 1e200}, "error_correlation_ppm <= 10"),
        ({"r2_min": 1.5}, "r2_min must be <= 1"),
        ({"min_support": -1}, "min_support must be >= 0"),
    ],
)
def test_every_field_is_checked_against_its_type(changes, message):
    with pytest.raises(InputError, match=message):
        FitConfig(**changes)


def test_integers_for_floats_become_floats_and_the_digest_is_stable():
    config = FitConfig(half_width_km=120, sigma_min_km=np.int64(1))
    assert isinstance(config.half_width_km, float) and config == FitConfig()
    assert config.digest() == FitConfig().digest()


def test_from_strings_is_the_one_text_parser():
    base = FitConfig(sigma_min_km=3.0)
    parsed = FitConfig.from_strings({"r2_min": "none", "wind_aligned": "off"}, base=base)
    assert parsed == base.replace(r2_min=None, wind_aligned=False)
    with pytest.raises(InputError, match="--r2-min must be finite"):
        FitConfig.from_strings({"r2_min": "nan"})
    with pytest.raises(InputError, match="--min-soundings expects int"):
        FitConfig.from_strings({"min_soundings": "2.7"})
    with pytest.raises(InputError, match="unknown fit parameter"):
        FitConfig.from_strings({"radius": "1"})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"null", "must be a JSON object, got NoneType"),
        (b'{"fit_config": [1, 2]}', "must be a JSON object, got list"),
        (b"\xff\xfe", "cannot read fit configuration"),
        (b'{"half_width_km": "abc"}', "half_width_km must be a number"),
    ],
)
def test_bad_json_files_name_the_file(content, message, tmp_path):
    path = tmp_path / "fit.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        FitConfig.from_json(path)
    assert str(err.value).startswith(f"{path}: ")


def test_match_config_is_checked_the_same_way(tmp_path):
    with pytest.raises(InputError, match="radius_km must be finite"):
        MatchConfig(radius_km=float("nan"))
    with pytest.raises(InputError, match="max_plume_age_h must be a number"):
        MatchConfig.from_dict({"max_plume_age_h": True})
    assert MatchConfig.from_strings({"radius_km": "40"}).radius_km == 40.0
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"match_config": {"radius_km": 30}}))
    assert MatchConfig.from_json(path) == MatchConfig(radius_km=30.0)


def test_match_options_on_the_command_line(tmp_path):
    from oco2explore.cli import match_config_from_args

    args = build_parser().parse_args(
        ["run", "in", "--out", "o", "--radius-km", "40", "--size-sigma-ln", "0.5"]
    )
    assert match_config_from_args(args) == MatchConfig(radius_km=40.0, size_sigma_ln=0.5)


def test_presets_name_whole_configurations():
    assert FitConfig.preset("v2") == FitConfig()
    v1 = FitConfig.preset("v1")
    assert not v1.noise_estimated and v1.false_peaks_per_10000km is None
    assert v1.significance_limit(30.0) == pytest.approx(250.0)  # the σ-scaled rule
    v2 = FitConfig.preset("v2")
    assert (v2.sigma_min_km, v2.sigma_max_km, v2.half_width_km) == (1.0, 40.0, 120.0)
    assert v2.noise_estimated and v2.artefact_check and v2.min_positions == 2
    assert FitConfig.preset("v2", r2_min=None).r2_min is None
    with pytest.raises(InputError, match="unknown fit preset 'v3'"):
        FitConfig.preset("v3")


def test_false_alarm_threshold_replaces_the_sigma_scaled_rule():
    v2 = FitConfig.preset("v2")
    limits = [v2.significance_limit(s) for s in (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 40.0)]
    # Expected noise peaks per 10,000 km fall as 1/σ: broad widths need less, not more.
    assert limits == sorted(limits, reverse=True)
    # The real null variance 1.6 (noise.NULL_VARIANCE, calibrated on real plume-free passes).
    assert limits[0] == pytest.approx(34.9, abs=0.3) and limits[-1] == pytest.approx(22.4, abs=0.3)
    # Widths outside the bounds take the bound's threshold; NaN the narrowest's.
    assert v2.significance_limit(100.0) == v2.significance_limit(40.0)
    assert v2.significance_limit(float("nan")) == v2.significance_limit(1.0)
    # A tighter target asks more at every width.
    strict = v2.replace(false_peaks_per_10000km=0.01)
    assert all(strict.significance_limit(s) > v2.significance_limit(s) for s in (1.0, 10.0, 40.0))


def test_preset_on_the_command_line(tmp_path):
    args = build_parser().parse_args(
        ["detect", "x.nc", "--out", "p.csv", "--preset", "v2", "--r2-min", "0.1"]
    )
    config = config_from_args(args)
    assert config == FitConfig.preset("v2", r2_min=0.1)
    path = tmp_path / "c.json"
    path.write_text(FitConfig().to_json())
    args = build_parser().parse_args(
        ["detect", "x.nc", "--out", "p.csv", "--preset", "v2", "--config", str(path)]
    )
    with pytest.raises(InputError, match="not both"):
        config_from_args(args)
