"""Tests of oco2explore.app.explorer: the orbit view driven from Python (sliders, window, links)."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import HIGHVELD_PLANTS

from oco2explore.app import Explorer
from oco2explore.app.explorer import READY_ENV, WARM_ENV
from oco2explore.config import FitConfig
from oco2explore.geo import haversine_km
from oco2explore.scan import fit_at, scan_orbit


def _data_url(html: str, fmt: str) -> bytes:
    m = re.search(rf"oco2-export-{fmt}' download='[^']+' href='data:[^;]+;base64,([^']+)'", html)
    return base64.b64decode(m.group(1))


def test_default_view_is_the_strongest_peak(explorer):
    orbit = explorer.orbit
    assert orbit.orbit == 11522
    assert orbit.fit.passed and orbit.fit.delta_ppm > 2.0
    # The real peak's centre sounding is 248.6 km from the start of the stretch.
    assert orbit.fit.center_km == pytest.approx(248.6, abs=10)
    assert "✔ peak passes" in orbit.result.value
    assert len(orbit.profile.points.x) == orbit.fit.n_soundings
    assert len(orbit.peak_select.options) >= 1


def test_slider_refits_and_shows_why_a_peak_is_rejected(explorer):
    orbit = explorer.orbit
    before = orbit.fit.n_soundings
    orbit.controls.values["half_width_km"].value = 50.0
    assert orbit.fit.n_soundings < before
    assert orbit.profile.x_scale.max == 50.0
    assert len(orbit.profile.points.x) == orbit.fit.n_soundings
    assert "half_width_km=50.0" in orbit.link.value
    orbit.controls.values["half_width_km"].value = 100.0  # the plume (σ 15 km) fits again

    orbit.controls.values["r2_min"].value = 0.99
    assert not orbit.fit.passed and orbit.fit.reject_reason == "r2_min"
    assert "rejected: r2_min" in orbit.result.value
    assert re.search(r"oco2-check-r2_min'><td style='color:#c62828'>✘", orbit.result.value)
    orbit.controls.switches["r2_min"].value = False
    assert orbit.fit.passed
    assert "limit off" in orbit.result.value
    orbit.controls.values["quality"].value = "all"  # reloads the file with every sounding
    assert orbit.quality == "all" and orbit.fit.passed


def test_moving_the_window_snaps_refits_and_changes_the_sources(explorer):
    orbit = explorer.orbit
    kendal_centre = orbit.centre_km
    sources = orbit.sources_panel.table
    assert len(HIGHVELD_PLANTS & set(sources["source_id"].iloc[:5])) >= 2
    # Drop the handle 120 km further along the track, off the soundings.
    far = orbit.track.iloc[int(np.argmin(np.abs(orbit.track["distance_km"] - kendal_centre + 120)))]
    orbit.map.handle.location = (far["latitude"] + 0.01, far["longitude"] - 0.01)
    assert orbit.centre_km in set(orbit.soundings["distance_km"])
    assert abs(orbit.centre_km - (kendal_centre - 120)) < 10
    lat, lon = orbit.map.handle.location
    d = haversine_km(lat, lon, orbit.soundings["latitude"], orbit.soundings["longitude"])
    assert d.min() == 0.0  # the handle sits on the window's centre sounding
    assert orbit.fit.center_km != pytest.approx(kendal_centre, abs=20)
    assert orbit.sources_panel.table["source_id"].tolist() != sources["source_id"].tolist()
    # Back to the peak by the peak list.
    peak = orbit.peaks.iloc[0]
    orbit.peak_select.value = str(peak["peak_id"])
    assert orbit.centre_km == pytest.approx(peak["distance_km"], abs=1.0)


def test_the_window_fit_subtracts_the_neighbouring_peaks(explorer):
    orbit = explorer.orbit
    plume = orbit.peaks[orbit.peaks["passed"]].iloc[0]
    orbit.move_to_km(plume["distance_km"] - 90.0)  # the plume is now a neighbour
    assert orbit.row["neighbours_subtracted"] == 1
    assert "1 neighbouring peak subtracted" in orbit.result.value
    # The drawn model carries the neighbour's Gaussian on top of this window's fit.
    x = np.asarray(orbit.profile.model.x) + orbit.centre_km
    drawn = np.asarray(orbit.profile.model.y)
    own = orbit.fit.model(x)
    at = int(np.argmin(np.abs(x - plume["distance_km"])))
    assert drawn[at] - own[at] == pytest.approx(plume["delta_ppm"], rel=0.05)
    orbit.controls.values["deblend"].value = False
    assert orbit.row["neighbours_subtracted"] == 0
    assert "subtracted" not in orbit.result.value


def test_parameter_changes_rescan_the_orbit_and_redraw_only_changed_peaks(explorer):
    orbit = explorer.orbit
    drawn = []
    show_peaks = orbit.map.show_peaks
    orbit.map.show_peaks = lambda peaks: (drawn.append(len(peaks)), show_peaks(peaks))
    labels = list(orbit.peak_select.options)
    # The wind error changes emission errors only: same peaks, nothing redrawn.
    orbit.controls.values["wind_uncertainty_m_per_s"].value = 2.0
    assert drawn == [] and list(orbit.peak_select.options) == labels
    # A threshold no peak reaches: the list shows every peak rejected, the map is redrawn
    # (the false-alarm threshold switched off, the σ-scaled rule's slider at 300).
    orbit.controls.switches["false_peaks_per_10000km"].value = False
    orbit.controls.values["significance_min"].value = 300.0
    assert drawn and not orbit.peaks["passed"].any()
    assert all(label.startswith("✘") for label, _ in orbit.peak_select.options)


def test_after_a_preset_the_window_fit_is_the_scans_on_the_orbit_prepared_for_it(explorer):
    orbit = explorer.orbit
    # The explorer opens on the defaults (v2: estimated noise model, artefact check);
    # detector v1 needs neither: a new preparation.
    orbit.controls.preset_v1.click()
    config = orbit.controls.config
    assert config == FitConfig.preset("v1")
    fresh = fit_at(orbit.soundings, orbit.centre_km, config, orbit.peaks).fit
    assert orbit.fit.significance == pytest.approx(fresh.significance, rel=1e-9)
    assert orbit.fit.delta_ppm == pytest.approx(fresh.delta_ppm, rel=1e-9)
    peaks = scan_orbit(orbit.soundings, config)
    pd.testing.assert_frame_equal(orbit.peaks, peaks)
    assert peaks["passed"].any()
    for peak in peaks.itertuples():
        # At each peak: the window fit on the orbit prepared afresh, and at a passed peak
        # the scan's row (a rejected one at the orbit's edge settles only to ~0.2 %).
        orbit.jump_to_peak(peak.peak_id)
        fresh = fit_at(orbit.soundings, peak.distance_km, config, peaks).fit
        assert orbit.fit.significance == pytest.approx(fresh.significance, rel=1e-9)
        if peak.passed:
            assert orbit.fit.passed
            assert orbit.fit.significance == pytest.approx(peak.significance, rel=1e-9)
            assert orbit.fit.delta_ppm == pytest.approx(peak.delta_ppm, rel=1e-9)
    # Back to the defaults: the orbit is prepared again with the noise model.
    orbit.controls.reset.click()
    config = orbit.controls.config
    fresh = fit_at(orbit.soundings, orbit.centre_km, config, orbit.peaks).fit
    assert orbit.fit.significance == pytest.approx(fresh.significance, rel=1e-9)


def test_choosing_a_source_rings_it_on_the_map(explorer):
    orbit = explorer.orbit
    assert orbit.map.chosen.opacity == 0
    orbit.sources_panel.select.index = 0
    row = orbit.sources_panel.table.iloc[0]
    assert orbit.map.chosen.opacity == 1
    assert orbit.map.chosen.location == pytest.approx(
        [row["source_latitude"], row["source_longitude"]]
    )


def test_export_holds_the_fit_and_its_parameters(explorer):
    orbit = explorer.orbit
    record = json.loads(_data_url(orbit.export.value, "json"))
    assert record["orbit"] == 11522
    assert record["delta_ppm"] == pytest.approx(orbit.fit.delta_ppm)
    assert record["config"] == orbit.controls.config.to_dict()
    assert [s["source_id"] for s in record["sources"]] == orbit.candidates["source_id"].tolist()
    assert len(HIGHVELD_PLANTS & {source["source_id"] for source in record["sources"]}) >= 2
    assert record["checks"]["r2_min"][2] is True
    csv = _data_url(orbit.export.value, "csv").decode()
    assert "emission_mt_per_yr" in csv.splitlines()[0]


def test_deep_link_restores_a_view_and_refuses_other_files(highveld, explorer):
    orbit = explorer.orbit
    orbit.controls.values["half_width_km"].value = 80.0
    link = re.search(r"href='\?([^']+)'", orbit.link.value).group(1).replace("&amp;", "&")
    other = Explorer(highveld, basemap=False)
    other.start(link)
    assert other.orbit.file == orbit.file and other.orbit.orbit == orbit.orbit
    assert other.orbit.centre_km == pytest.approx(orbit.centre_km, abs=0.01)
    assert other.orbit.controls.config.half_width_km == 80.0
    assert other.orbit.fit.delta_ppm == pytest.approx(orbit.fit.delta_ppm, rel=1e-6)

    outside = Explorer(highveld, basemap=False)
    outside.start("file=../../etc/passwd&orbit=1")
    assert "not in the data root" in outside.messages.text.value
    assert outside.orbit.file in outside.data.files


def test_first_view_signals_ready_to_serve(highveld, tmp_path, monkeypatch):
    ready, warm = tmp_path / "ready", tmp_path / "warm"
    monkeypatch.setenv(READY_ENV, str(ready))
    monkeypatch.setenv(WARM_ENV, str(warm))  # the server starts the pool's next kernel
    app = Explorer(highveld, basemap=False)
    assert not ready.exists() and not warm.exists()
    app.start("")
    assert ready.exists() and warm.exists() and app.orbit.fit is not None
    # A data root that cannot be opened: its first view is the reason, signalled too.
    ready.unlink()
    warm.unlink()
    Explorer(tmp_path / "empty", basemap=False).start("")
    assert ready.exists() and warm.exists()


def test_an_unusable_data_root_leaves_a_message(tmp_path):
    app = Explorer(tmp_path, basemap=False)
    app.start("orbit=1")
    assert app.orbit is None
    assert "no OCO-2 Lite files" in app.messages.text.value


def test_errors_become_messages_not_exceptions(explorer):
    orbit = explorer.orbit
    orbit.controls.values["sigma_min_km"].value = 30.0
    orbit.controls.values["sigma_max_km"].value = 10.0
    assert "oco2-error" in explorer.messages.text.value
    assert "sigma_min_km &lt; sigma_max_km" in explorer.messages.text.value


def test_learned_scorer_adds_its_probability_beside_the_significance(tmp_path, monkeypatch):
    from oco2explore.learn import load, score

    monkeypatch.setenv("OCO2EXPLORE_CACHE", str(tmp_path))
    app = Explorer(None, basemap=False)  # the demo data: it opens on the real Highveld pass
    app.start("")
    orbit = app.orbit
    assert orbit.scorer_select.value == "fit"
    assert "scorer: fit scan" in app.messages.text.value
    assert "learned_probability" not in orbit.peaks.columns
    assert "learned probability" not in orbit.result.value

    orbit.scorer_select.value = "learned"
    # The same function as `oco2explore detect --scorer learned`, on the orbit's soundings.
    expected = score(orbit.soundings, orbit.controls.config, load())
    pd.testing.assert_frame_equal(orbit.peaks, expected)
    probability = orbit.peaks["learned_probability"]
    assert len(probability) and probability.between(0.0, 1.0).all()
    labels = [label for label, _ in orbit.peak_select.options]
    rows = orbit.peaks.sort_values("distance_km").iterrows()
    for (_, peak), label in zip(rows, labels, strict=True):
        assert f"S {peak['significance']:6.1f}  p {peak['learned_probability']:4.2f}" in label
    status = app.messages.text.value
    assert "scorer: learned, learned_default.joblib" in status
    assert re.search(rf"{int(orbit.peaks['passed'].sum())} of {len(orbit.peaks)} peaks", status)
    # The window on a candidate: its row, its probability in the result panel.
    peak = orbit.peaks.sort_values("significance").iloc[-1]
    orbit.jump_to_peak(peak["peak_id"])
    assert orbit.fit.significance == pytest.approx(peak["significance"], rel=1e-9)
    assert orbit.row["learned_probability"] == pytest.approx(peak["learned_probability"])
    assert f"probability {peak['learned_probability']:.2f}" in orbit.result.value
    assert "oco2-learned_probability" in orbit.result.value
    assert orbit.record()["scorer"].startswith("learned")

    # The deep link names the scorer and reopens the same learned view (the window on a
    # sounding, as a link places it).
    orbit.move_to_km(orbit.centre_km)
    link = re.search(r"href='\?([^']+)'", orbit.link.value).group(1).replace("&amp;", "&")
    assert "scorer=learned" in link and orbit.record()["link"] == link
    other = Explorer(None, basemap=False)
    other.start(link)
    assert other.orbit.scorer_select.value == "learned"
    pd.testing.assert_frame_equal(other.orbit.peaks, orbit.peaks)
    assert other.orbit.centre_km == pytest.approx(orbit.centre_km, abs=0.01)
    assert other.orbit.row["learned_probability"] == orbit.row["learned_probability"]
    assert "scorer: learned" in other.messages.text.value

    orbit.scorer_select.value = "fit"
    assert "learned_probability" not in orbit.peaks.columns
    assert "scorer: fit scan" in app.messages.text.value
    assert "oco2-learned_probability" not in orbit.result.value
    assert "scorer=" not in orbit.link.value  # the default is left out
