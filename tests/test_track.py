"""Geometry along one orbit's track (oco2explore.track)."""

import numpy as np
import pytest
from test_emission import zigzag_track

from oco2explore import geo, track


def test_window_slice_holds_the_soundings_within_the_half_width_inclusive():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    assert x[track.window_slice(x, 2.5, 1.5)].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert x[track.window_slice(x, 2.0, 1.0)].tolist() == [1.0, 2.0, 3.0]
    assert x[track.window_slice(x, 10.0, 1.0)].size == 0


def test_nearest_index_takes_the_lower_one_on_ties():
    x = np.array([0.0, 2.0, 4.0])
    assert track.nearest_index(x, [-1.0, 0.9, 1.0, 1.1, 9.0]).tolist() == [0, 0, 0, 1, 2]
    assert track.nearest_index(np.array([3.0]), [0.0, 7.0]).tolist() == [0, 0]


def test_mean_position_of_an_interval_across_the_antimeridian():
    x = np.arange(4.0)
    lat, lon, n = track.mean_position(
        x, [0.0, 0.0, 0.0, 0.0], [179.0, 179.5, -179.5, -179.0], [0.5, 9.0], [3.5, 10.0]
    )
    assert n.tolist() == [3, 0]
    # 179.5, 180.5 and 181 degrees east average to 180.33 (not to the arithmetic mean 59.7).
    assert lat[0] == pytest.approx(0.0, abs=1e-9)
    assert lon[0] == pytest.approx(-179.6667, abs=1e-3)
    assert np.isnan(lat[1]) and np.isnan(lon[1])


@pytest.mark.parametrize("heading", [0.0, 190.0, 347.0])
def test_track_heading_ignores_the_footprint_zigzag(heading):
    x, lat, lon = zigzag_track(heading)
    got = track.track_heading_at(x, lat, lon, [100.0, 200.0, 2000.0])
    np.testing.assert_allclose((got[:2] - heading + 180) % 360 - 180, 0.0, atol=0.2)
    assert np.isnan(got[2])


@pytest.mark.parametrize("heading", [20.0, 200.0])
def test_cross_track_offset_of_the_footprints(heading):
    x, lat, lon = zigzag_track(heading, n_frames=100)
    right, line = track.cross_track_km(lat, lon, 41)
    across = np.tile(np.linspace(-5, 5, 8), 100)
    middle = slice(200, 600)  # away from the ends, where the running mean is one-sided
    # 41 soundings are not whole frames of 8: the centre line wobbles by ~0.1 km.
    np.testing.assert_allclose(right[middle], across[middle], atol=0.2)
    # The track is a great circle: its bearing drifts by < 1° over these 225 km.
    np.testing.assert_allclose((line[middle] - heading + 180) % 360 - 180, 0.0, atol=1.0)
    assert geo.haversine_km(lat[0], lon[0], lat[-1], lon[-1]) > 200.0
