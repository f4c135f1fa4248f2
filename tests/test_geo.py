import numpy as np
import pytest

from oco2explore import geo


def test_haversine_one_degree_of_equator():
    assert geo.haversine_km(0, 0, 0, 1) == pytest.approx(111.195, rel=1e-4)


def test_bearing_cardinal_directions():
    got = geo.bearing_deg(0, 0, [1, 0, -1, 0], [0, 1, 0, -1])
    np.testing.assert_allclose(got, [0, 90, 180, 270], atol=1e-9)


def test_destination_inverts_distance_and_bearing():
    lat2, lon2 = geo.destination(-26.0, 29.0, 37.0, 55.0)
    assert geo.haversine_km(-26.0, 29.0, lat2, lon2) == pytest.approx(55.0, rel=1e-9)
    assert geo.bearing_deg(-26.0, 29.0, lat2, lon2) == pytest.approx(37.0, abs=1e-6)


def test_along_track_is_cumulative_and_non_decreasing():
    lat = np.linspace(-30, -20, 101)
    lon = np.full(101, 28.0)
    d = geo.along_track_km(lat, lon)
    assert d[0] == 0 and np.all(np.diff(d) >= 0)
    assert d[-1] == pytest.approx(geo.haversine_km(-30, 28, -20, 28), rel=1e-9)


def test_track_heading_of_a_southbound_track():
    lat = np.linspace(10, 0, 50)
    lon = np.zeros(50)
    np.testing.assert_allclose(geo.track_heading_deg(lat, lon), 180.0, atol=1e-6)


def test_chord_matches_unit_vectors():
    u = geo.unit_vectors([0, 0], [0, 1])
    assert np.linalg.norm(u[0] - u[1]) == pytest.approx(geo.chord_from_km(111.195), rel=1e-4)


def test_lat_lon_of_vectors_inverts_unit_vectors_across_the_dateline():
    lat, lon = geo.lat_lon_of_vectors(geo.unit_vectors([10.0, -45.0], [179.5, -120.0]))
    np.testing.assert_allclose(lat, [10.0, -45.0], atol=1e-9)
    np.testing.assert_allclose(lon, [179.5, -120.0], atol=1e-9)
    mean_lat, mean_lon = geo.lat_lon_of_vectors(geo.unit_vectors([0, 0], [179.0, -179.0]).sum(0))
    assert abs(mean_lat) < 1e-9 and abs(abs(mean_lon) - 180.0) < 1e-9
