import dataclasses
import json

import pytest

from oco2explore.cli import build_parser, config_from_args
from oco2explore.config import FitConfig
from oco2explore.errors import InputError


def test_defaults_follow_the_seed_rules():
    config = FitConfig()
    assert config.half_width_km == 100.0  # 200 km window
    assert config.sigma_min_km == 2.0  # σ ≥ 2 km
    assert 3 * config.sigma_max_km <= config.half_width_km  # 3σ ≤ half window
    assert config.amplitude_min == 0.0  # Δ > 0
    assert config.r2_min == 0.25


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
    ],
)
def test_invalid_values_are_one_line_input_errors(changes, message):
    with pytest.raises(InputError, match=message):
        FitConfig(**changes)


def test_significance_limit_grows_with_width_above_the_scale():
    config = FitConfig(significance_min=20.0, significance_scale_km=4.0)
    assert config.significance_limit(2.0) == 20.0
    assert config.significance_limit(4.0) == 20.0
    assert config.significance_limit(12.0) == pytest.approx(60.0)
    assert config.replace(significance_scale_km=None).significance_limit(30.0) == 20.0
    assert config.replace(significance_min=None).significance_limit(3.0) is None


def test_json_round_trip_and_digest(tmp_path):
    config = FitConfig(sigma_max_km=25.0, r2_min=None, slope_max=0.05)
    path = tmp_path / "fit.json"
    path.write_text(json.dumps({"fit_config": config.to_dict()}))
    assert FitConfig.from_json(path) == config
    assert config.digest() == FitConfig.from_json(path).digest()
    assert config.digest() != FitConfig().digest()


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
