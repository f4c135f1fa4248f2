"""The explorer's widgets driven from Python: sliders, the window handle, links, catalogue."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from oco2explore.app import Controls, DataRoot, Explorer, View, parse_query, view_query
from oco2explore.app.explorer import READY_ENV
from oco2explore.app.mapview import binned_points, coastlines, colour_index
from oco2explore.app.serve import NOTEBOOK_CELLS, resolve_data
from oco2explore.config import FitConfig
from oco2explore.errors import InputError
from oco2explore.geo import haversine_km
from oco2explore.lite import write_lite_file
from oco2explore.storage import open_store

#: CoCO2 site ids of the Highveld coal power stations Kendal, Matla and Kriel.
HIGHVELD_PLANTS = {"CoCO2_14613", "CoCO2_14668", "CoCO2_14638"}
#: Meteorology at the real Highveld peak (shared/data/real/README.md).
HIGHVELD_MET = {
    "windspeed_u_met": -1.6995,
    "windspeed_v_met": -1.5996,
    "psurf": 848.3,
    "psurf_apriori": 848.3,
    "tcwv": 6.14,
}


def real_highveld_lite(real_data, folder):
    """The real orbit-11522 Highveld soundings as a Lite file (the app's input format).

    The CSV has no ids or times: footprints are numbered within frames (a frame
    starts where the longitude jumps back east), frames get consecutive ids 1/3 s apart.
    """
    df = pd.read_csv(real_data / "oco2_orbit11522_20160831_highveld_peak.csv")
    frame = np.concatenate([[0], np.cumsum(np.diff(df["longitude"].to_numpy()) > 0)])
    footprint = df.groupby(frame).cumcount().to_numpy() + 1
    t0 = pd.Timestamp("2016-08-31T11:55:00Z")
    lite = df[["latitude", "longitude", "xco2"]].assign(
        sounding_id=2016083111550000 + 10 * frame + footprint,
        time=t0 + pd.to_timedelta(frame / 3.0, unit="s"),
        orbit=11522,
        footprint=footprint,
        xco2_uncertainty=0.5,
        xco2_quality_flag=0,
        land_water_indicator=0,
        land_fraction=100.0,
        altitude=1500.0,
        operation_mode=0,
        **HIGHVELD_MET,
    )
    return write_lite_file(lite, folder / "oco2_LtCO2_160831_B10206Ar_highveld.nc4")


@pytest.fixture(scope="module")
def highveld(real_data, tmp_path_factory):
    """A data root with one Lite file: the real Highveld stretch of orbit 11522."""
    folder = tmp_path_factory.mktemp("highveld")
    real_highveld_lite(real_data, folder)
    return folder


@pytest.fixture
def explorer(highveld):
    app = Explorer(highveld, basemap=False)
    app.start("")
    return app


def _data_url(html: str, fmt: str) -> bytes:
    m = re.search(rf"oco2-export-{fmt}' download='[^']+' href='data:[^;]+;base64,([^']+)'", html)
    return base64.b64decode(m.group(1))


# --- controls and deep links ---------------------------------------------------------------------


def test_controls_have_one_widget_per_fitconfig_field_and_round_trip():
    config = FitConfig(half_width_km=150.0, r2_min=None, quality="all", min_support=7)
    controls = Controls(config)
    assert set(controls.values) == {f.name for f in dataclasses.fields(FitConfig)}
    assert controls.config == config
    assert controls.values["r2_min"].disabled
    controls.switches["r2_min"].value = True
    controls.values["r2_min"].value = 0.5
    assert controls.config == config.replace(r2_min=0.5)


def test_every_slider_stays_within_what_fitconfig_accepts():
    # Each slider, at its lowest and highest position, gives a valid FitConfig.
    controls = Controls()
    for name, widget in controls.values.items():
        if not hasattr(widget, "min"):
            continue
        for value in (widget.min, widget.max):
            widget.value = value
            if name in ("sigma_min_km", "sigma_max_km"):
                continue  # the pair is checked together (see the next test)
            assert controls.config is not None, name
        controls.set_config(FitConfig())


def test_controls_report_an_impossible_combination():
    controls = Controls()
    calls = []
    controls.on_change(lambda: calls.append(1))
    controls.values["sigma_min_km"].value = 30.0
    controls.values["sigma_max_km"].value = 10.0
    assert len(calls) == 2
    with pytest.raises(InputError, match="sigma_min_km < sigma_max_km"):
        _ = controls.config


def test_query_round_trip_and_problems():
    view = View("a/oco2_LtCO2_160831_x.nc4", 11522, 240.5, FitConfig(r2_min=None, half_width_km=75))
    parsed, problems = parse_query("?" + view_query(view))
    assert problems == [] and parsed == view
    parsed, problems = parse_query("orbit=x&centre=nan&bogus=1&r2_min=high")
    assert parsed == View()
    assert len(problems) == 4
    assert any("--r2-min expects float" in p for p in problems)


# --- data root ------------------------------------------------------------------------------------


def test_data_root_opens_only_listed_files(highveld, tmp_path):
    root = DataRoot(highveld)
    (tmp_path / "secret.nc4").write_text("x")
    (highveld / "sub").mkdir(exist_ok=True)
    (highveld / "sub" / "oco2_LtCO2_160901_link.nc4").symlink_to(tmp_path / "secret.nc4")
    for key in ("../secret.nc4", str(tmp_path / "secret.nc4"), "truth.csv", "nope.nc4"):
        with pytest.raises(InputError, match="not a file of the data root"):
            root.local(key)
    with pytest.raises(InputError, match="outside the data root"):
        DataRoot(highveld).local("sub/oco2_LtCO2_160901_link.nc4")
    (highveld / "sub" / "oco2_LtCO2_160901_link.nc4").unlink()
    with pytest.raises(InputError, match="data folder not found"):
        DataRoot(tmp_path / "missing")


@pytest.mark.swift
def test_data_root_on_swift(swift_server, highveld, tmp_path):
    url = "swift://explorer-test/lite"
    store = open_store(url, swift_config=swift_server.config())
    (lite,) = highveld.glob("*.nc4")
    store.put(lite, f"2016/{lite.name}")
    store.put(lite, "notes.txt")
    root = DataRoot(url, scratch=tmp_path, swift_config=swift_server.config())
    assert root.files == [f"2016/{lite.name}"]
    assert len(root.soundings(root.files[0])) == 1598
    with pytest.raises(InputError, match="not a file of the data root"):
        root.local("notes.txt")


# --- the orbit view -------------------------------------------------------------------------------


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
    # A threshold no peak reaches: the list shows every peak rejected, the map is redrawn.
    orbit.controls.values["significance_min"].value = 300.0
    assert drawn and not orbit.peaks["passed"].any()
    assert all(label.startswith("✘") for label, _ in orbit.peak_select.options)


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
    ready = tmp_path / "ready"
    monkeypatch.setenv(READY_ENV, str(ready))
    app = Explorer(highveld, basemap=False)
    assert not ready.exists()
    app.start("")
    assert ready.exists() and app.orbit.fit is not None


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


def test_catalogue_lists_the_month_and_opens_a_peak(explorer):
    explorer.tabs.selected_index = 1
    catalogue = explorer.catalogue
    assert catalogue.month.value == "2016-08"
    assert catalogue.peaks["passed"].all()
    catalogue.only_passed.value = False
    assert len(catalogue.peaks) >= 1
    assert len(catalogue.peak_layer.data["features"]) == len(catalogue.peaks)
    explorer.orbit.move_to_km(0.0)
    catalogue.list.value = 0
    assert explorer.tabs.selected_index == 0
    peak = catalogue.peaks.iloc[0]
    assert explorer.orbit.orbit == peak["orbit"]
    assert explorer.orbit.fit.center_km == pytest.approx(peak["distance_km"], abs=5)


# --- map helpers, serving -------------------------------------------------------------------------


def test_soundings_are_one_layer_of_a_few_colour_bins():
    lat = np.linspace(-30, -20, 10_000)
    values = np.linspace(400, 410, 10_000)
    data = binned_points(lat, lat * 0 + 28, values, 400, 410)
    assert 1 < len(data["features"]) <= 10
    assert sum(len(f["geometry"]["coordinates"]) for f in data["features"]) == 10_000
    assert colour_index(np.array([np.nan, -1e9, 1e9]), 0, 1).tolist() == [0, 0, 9]


def test_packaged_coastlines_cover_the_world():
    lines = coastlines()["features"][0]["geometry"]["coordinates"]
    lons = np.concatenate([np.array(line)[:, 0] for line in lines])
    assert len(lines) > 200 and lons.min() < -170 and lons.max() > 170


def test_checkout_notebook_is_the_served_notebook():
    cells = json.loads((REPO / "apps" / "explorer.ipynb").read_text())["cells"]
    assert ["".join(c["source"]) for c in cells] == list(NOTEBOOK_CELLS)


def test_app_command_rejects_a_missing_data_folder(tmp_path):
    with pytest.raises(InputError, match="no OCO-2 Lite files"):
        resolve_data(tmp_path)
    res = subprocess.run(
        [sys.executable, "-m", "oco2explore.cli", "app", "--data", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "data folder not found" in res.stderr
