import numpy as np
import pandas as pd
import pytest

from oco2explore import emission, geo


def test_dry_air_column_of_a_standard_atmosphere():
    # 1013.25 hPa / g = 10,332 kg/m², less the water vapour.
    col = emission.dry_air_column_kg_per_m2([1013.25, 1013.25], [0.0, 30.0])
    np.testing.assert_allclose(col, [10332.27, 10302.27], atol=0.01)


def test_line_density_by_hand():
    # 1 ppm over 1 km of a 10,000 kg/m² dry column of air: 1e-3 m · 10,000 · 44.0095/28.9647.
    got = emission.line_density_kg_per_m(1.0, 10000.0 * 9.80665 / 100.0, 0.0)
    assert got == pytest.approx(1e-3 * 10000.0 * 44.0095 / 28.9647)


@pytest.mark.parametrize(
    "u, v, heading, expected",
    [(3, 0, 0, 3), (3, 0, 180, -3), (0, 2, 90, -2), (0, 2, 270, 2), (1, 1, 45, 0)],
)
def test_wind_perpendicular_to_the_track(u, v, heading, expected):
    assert emission.wind_perpendicular(u, v, heading) == pytest.approx(expected, abs=1e-12)


def test_flux_and_uncertainty_add_in_quadrature():
    q, err = emission.cross_sectional_flux(100.0, 900.0, 10.0, -2.0, 10.0, 0.5)
    density = emission.line_density_kg_per_m(100.0, 900.0, 10.0)
    assert q == pytest.approx(2.0 * density)
    assert err == pytest.approx(density * np.hypot(0.1 * 2.0, 0.5))
    assert emission.kg_per_s_to_t_per_h(1.0) == pytest.approx(3.6)
    assert emission.kg_per_s_to_mt_per_yr(1000.0) == pytest.approx(31.5576)


def test_seed_highveld_numbers_are_reproduced():
    # README: A = 137.96 ppm·km, psurf 848.3 hPa, tcwv 6.14 kg/m², u = −1.6995, v = −1.5996 m/s.
    density = emission.line_density_kg_per_m(137.961788, 848.2998, 6.142912)
    assert density == pytest.approx(1812.0, rel=1e-3)
    speed = np.hypot(-1.699455, -1.599629)
    assert emission.kg_per_s_to_t_per_h(density * speed) == pytest.approx(15_220, rel=0.01)


def zigzag_track(heading, n_frames=200):
    """Soundings of a straight track: 8 footprints per frame spread across the swath."""
    along = np.repeat(np.arange(n_frames) * 2.25, 8)
    across = np.tile(np.linspace(-5, 5, 8), n_frames)
    lat, lon = geo.destination(-26.0, 29.0, heading, along)
    lat, lon = geo.destination(lat, lon, heading + 90.0, across)
    return along, lat, lon


def test_emissions_at_centres_of_an_orbit():
    x, lat, lon = zigzag_track(190.0)
    soundings = pd.DataFrame(
        {
            "distance_km": x,
            "latitude": lat,
            "longitude": lon,
            "windspeed_u_met": 3.0,
            "windspeed_v_met": 0.0,
            "psurf": 900.0,
            "tcwv": 10.0,
        }
    )
    out = emission.emissions_at(soundings, [100.0, 300.0], [100.0, 50.0], [10.0, 5.0], 0.5)
    perp = emission.wind_perpendicular(3.0, 0.0, 190.0)
    np.testing.assert_allclose(out["wind_perp"], perp, atol=0.02)
    q, _ = emission.cross_sectional_flux([100.0, 50.0], 900.0, 10.0, perp, [10.0, 5.0], 0.5)
    np.testing.assert_allclose(out["emission_kg_per_s"], q, rtol=1e-3)
    assert (out["emission_err_kg_per_s"] > 0).all()
    np.testing.assert_allclose(
        out["emission_mt_per_yr"], emission.kg_per_s_to_mt_per_yr(out["emission_kg_per_s"])
    )
    np.testing.assert_allclose(
        out["emission_err_mt_per_yr"],
        emission.kg_per_s_to_mt_per_yr(out["emission_err_kg_per_s"]),
    )
    np.testing.assert_allclose(out[["psurf", "tcwv"]], [[900.0, 10.0], [900.0, 10.0]])


def test_emissions_without_meteorology_are_nan():
    soundings = pd.DataFrame({"distance_km": np.arange(100.0), "xco2": 400.0})
    out = emission.emissions_at(soundings, [50.0], [100.0], [10.0], 1.0)
    assert out[["wind_perp", "emission_kg_per_s"]].isna().all(axis=None)
