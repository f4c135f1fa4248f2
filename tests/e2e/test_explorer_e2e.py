"""The explorer as users see it: ``oco2explore app`` on the demo data, in headless Chromium.

One server for the module (the demo data: it opens on the real Highveld pass), one
browser; screenshots go to ``<pytest basetemp>/screenshots/`` (printed by
``pytest -rA``). With ``OCO2EXPLORE_UPDATE_SCREENSHOT=1`` the 1280×800 one also replaces
``docs/explorer.png`` (a test run does not touch tracked files otherwise).
"""

from __future__ import annotations

import os
import re
import shutil

import pytest

from oco2explore.app.controls import SPECS
from oco2explore.app.explorer import Explorer, View
from oco2explore.config import FitConfig
from oco2explore.demo import demo_data_dir

from .voila_browser import (
    REPO,
    UPDATE_TIMEOUT_MS,
    VIEWPORTS,
    close_page,
    open_app,
    text_changes,
)

pytestmark = pytest.mark.e2e

#: Elements whose boxes must lie inside the viewport's width and show all their content.
LAYOUT_ELEMENTS = (
    ".oco2-result",
    ".oco2-controls",
    ".oco2-profile",
    ".oco2-profile-legend",
    ".oco2-map",
    ".oco2-sources",
    ".oco2-file",
    ".oco2-message",
)
#: Elements that must lie wholly on the first screen (no scrolling): the map and its window
#: handle, the profile, the slider and result panels (they scroll inside themselves), the
#: first slider with its unit and value, the fit's main values.
ON_SCREEN = (
    ".oco2-map",
    ".oco2-map .leaflet-marker-icon",
    ".oco2-profile",
    ".oco2-controls",
    ".oco2-result",
    ".oco2-ctl-half_width_km .widget-label",
    ".oco2-ctl-half_width_km .widget-readout",
    ".oco2-result .oco2-verdict",
    ".oco2-result .oco2-delta_ppm",
    ".oco2-result .oco2-significance",
    ".oco2-result .oco2-emission_mt_per_yr",
)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    folder = tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def page(server, browser):
    """One page of the default view at 1280×800, shared by the tests that render and slide."""
    page = open_app(browser, server, VIEWPORTS[0])
    yield page
    close_page(page)


def clipped(page, selector: str) -> list[str]:
    """Problems of the elements matching ``selector``: outside the viewport's width, or
    content wider than the element (cut values, hidden units)."""
    return page.evaluate(
        """(sel) => {
          const out = [];
          const width = document.documentElement.clientWidth;
          for (const e of document.querySelectorAll(sel)) {
            const box = e.getBoundingClientRect();
            if (box.width === 0) continue;  // hidden tab
            if (box.left < -1 || box.right > width + 1)
              out.push(`${sel}: box ${box.left.toFixed(0)}–${box.right.toFixed(0)} px`);
            if (e.scrollWidth > e.clientWidth + 2)
              out.push(`${sel}: content ${e.scrollWidth} px in ${e.clientWidth} px`);
          }
          for (const l of document.querySelectorAll(`${sel} .widget-label`)) {
            if (l.scrollWidth > l.clientWidth + 1) out.push(`label cut: ${l.textContent}`);
          }
          return out;
        }""",
        selector,
    )


def off_screen(page, selector: str) -> list[str]:
    """Problems of the elements matching ``selector``: missing, or not wholly inside the
    viewport (below the fold, cut at an edge)."""
    return page.evaluate(
        """(sel) => {
          const found = [...document.querySelectorAll(sel)];
          if (!found.length) return [`${sel}: not found`];
          const [w, h] = [document.documentElement.clientWidth, window.innerHeight];
          return found.map(e => e.getBoundingClientRect())
            .filter(b => b.left < -1 || b.top < -1 || b.right > w + 1 || b.bottom > h + 1)
            .map(b => `${sel}: box x ${b.left.toFixed(0)}–${b.right.toFixed(0)}, `
                      + `y ${b.top.toFixed(0)}–${b.bottom.toFixed(0)} px in ${w}×${h}`);
        }""",
        selector,
    )


def test_opens_on_the_real_pass_with_names_help_and_legends(page):
    header = page.text_content(".oco2-provenance")
    assert "real OCO-2" in header
    assert "real OCO-2" in page.text_content(".oco2-message")
    assert page.locator(".oco2-profile .dot").count() > 100
    assert page.locator(".oco2-controls .noUi-handle").count() >= 8
    assert re.fullmatch(r"\d+\.\d+ ± \d+\.\d+", page.text_content(".oco2-result .oco2-delta_ppm"))
    sources = page.text_content(".oco2-sources").replace("\xa0", " ")
    assert re.search(r"Kendal \(ZAF\) · coal · 23\.3 Mt/yr", sources)
    legend = page.text_content(".oco2-map-legend").replace("\xa0", " ")
    for item in ("XCO2 (ppm)", "peak passed", "rejected", "sources (Mt CO₂/yr)", "wind"):
        assert item in legend
    assert "soundings" in page.text_content(".oco2-profile-legend")
    page.click(".oco2-help-panel .jupyter-widget-Collapse-header")
    page.wait_for_selector(".oco2-help", state="visible")
    assert "What OCO-2 sees" in page.text_content(".oco2-help")
    page.click(".oco2-help-panel .jupyter-widget-Collapse-header")
    links = page.locator(".oco2-peaks-export a")
    assert links.count() == 2 and links.nth(1).get_attribute("download").endswith(".parquet")


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_layout_fits_the_viewport(server, browser, screenshots, viewport):
    page = open_app(browser, server, viewport)
    try:
        page.wait_for_timeout(500)  # let the map's canvas layers paint
        problems = [p for selector in LAYOUT_ELEMENTS for p in clipped(page, selector)]
        problems += [p for selector in ON_SCREEN for p in off_screen(page, selector)]
        shot = screenshots / f"explorer-{viewport[0]}x{viewport[1]}.png"
        page.screenshot(path=str(shot))
        assert problems == []
        assert shot.stat().st_size > 50_000  # a drawn page, not a blank one
        if viewport == VIEWPORTS[0] and os.environ.get("OCO2EXPLORE_UPDATE_SCREENSHOT") == "1":
            shutil.copyfile(shot, REPO / "docs" / "explorer.png")
    finally:
        close_page(page)


def test_slider_step_refits_and_shows_how_limits_are_computed(page, screenshots):
    cell = ".oco2-result .oco2-n_soundings"
    before = page.text_content(cell)
    link = page.text_content(".oco2-link code")  # read before the key: the update can be quick
    page.focus(".oco2-ctl-half_width_km .noUi-handle")
    page.keyboard.press("ArrowLeft")
    # The link is redrawn last after a refit: once it changed, the page is up to date.
    link = text_changes(page, ".oco2-link code", link)
    # One slider step down from the default window (the app opens on the defaults).
    expected = FitConfig().half_width_km - SPECS["half_width_km"][3]
    assert f"half_width_km={expected:.1f}" in link
    assert int(page.text_content(cell).split()[0]) < int(before.split()[0])
    why = page.text_content(".oco2-check-significance_min")
    if FitConfig().false_peaks_per_10000km is not None:
        assert "false-alarm threshold; the slider is not used" in why
    else:
        assert "(slider) × σ" in why
    page.screenshot(path=str(screenshots / "explorer-slider.png"))


def test_status_line_follows_the_parameters(page):
    status = page.text_content(".oco2-message").replace("\xa0", " ")
    assert re.search(r"[1-9]\d* of \d+ peaks pass", status)
    handle = ".oco2-ctl-r2_min .noUi-handle"
    page.focus(handle)
    page.keyboard.press("End")  # R² ≥ 1, the slider's maximum: no peak passes
    page.wait_for_function(
        "() => / 0 of \\d+ peaks pass/.test(document.querySelector('.oco2-message').textContent)",
        timeout=UPDATE_TIMEOUT_MS,
    )
    assert all(o.startswith("✘") for o in page.locator(".oco2-peaks option").all_text_contents())
    page.click(".oco2-controls button >> text=defaults")
    page.wait_for_function(
        "() => /[1-9]\\d* of \\d+ peaks pass/"
        ".test(document.querySelector('.oco2-message').textContent)",
        timeout=UPDATE_TIMEOUT_MS,
    )


def test_window_drag_refits(page, screenshots):
    cell = ".oco2-result .oco2-center_km"
    before = page.text_content(cell)
    link = page.text_content(".oco2-link code")
    handle = page.locator(".oco2-map .leaflet-marker-icon")
    handle.scroll_into_view_if_needed()  # on screen at first; earlier steps may scroll
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 4
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 4 * step, y + 12 * step)
    page.mouse.up()
    text_changes(page, ".oco2-link code", link)  # the window centre moved
    after = page.text_content(cell)
    assert float(after.split()[0]) != pytest.approx(float(before.split()[0]), abs=1.0)
    page.screenshot(path=str(screenshots / "explorer-drag.png"))


def test_deep_link_restores_the_view(server, browser, page, screenshots):
    link = page.locator(".oco2-link code").text_content()
    assert link.startswith("?file=") and "orbit=11522" in link
    assert "scorer=" not in link  # the default scorer (fit scan) is left out
    query = re.sub(r"&centre=[0-9.]+.*", "&centre=150&scorer=learned&half_width_km=60.0", link)
    other = open_app(browser, server + query)
    try:
        other.wait_for_function(
            "() => document.querySelector('.oco2-link code').textContent"
            ".includes('half_width_km=60')",
            timeout=UPDATE_TIMEOUT_MS,
        )
        restored = other.text_content(".oco2-link code")
        centre = float(re.search(r"centre=([0-9.]+)", restored).group(1))
        assert centre == pytest.approx(150, abs=5)
        readout = other.text_content(".oco2-ctl-half_width_km .widget-readout")
        assert readout.strip().startswith("60")
        assert "scorer=learned" in restored
        assert other.text_content(".oco2-scorer button.mod-active").strip() == "learned"
        assert "scorer: learned" in other.text_content(".oco2-message")
        other.screenshot(path=str(screenshots / "explorer-deeplink.png"))
        # Back to the fit scan in the page: the link drops the scorer.
        other.click(".oco2-scorer button:has-text('fit scan')")
        back = text_changes(other, ".oco2-link code", restored)
        assert "scorer=" not in back and "half_width_km=60" in back
    finally:
        close_page(other)


def test_simulated_day_shows_its_truth(page, server, browser, demo_cache):
    day = page.locator(".oco2-file select option", has_text="simulated").first
    before = page.text_content(".oco2-link code")
    page.select_option(".oco2-file select", label=day.text_content())
    text_changes(page, ".oco2-link code", before)
    page.wait_for_selector(".oco2-truth", state="visible")
    assert "simulated" in page.text_content(".oco2-provenance")
    # A window on a true plume of that day (placed by the explorer's own truth table),
    # opened by its link: "show truth" marks it with a green diamond on the profile.
    explorer = Explorer(demo_data_dir(demo_cache))
    explorer.start("")
    orbit_view = explorer.orbit
    label = day.text_content()
    key = next(k for k in orbit_view.data.files if k.rsplit("/", 1)[-1] in label)
    orbit_view.open(View(key, None, None, FitConfig()))
    assert len(orbit_view.truth), "the demo's first simulated day has true plumes"
    plume = orbit_view.truth.iloc[0]
    query = f"?file={orbit_view.file}&orbit={orbit_view.orbit}&centre={plume.distance_km:.2f}"
    other = open_app(browser, server + query)
    try:
        other.wait_for_selector(".oco2-truth", state="visible")
        other.click(".oco2-truth input")
        other.wait_for_function(
            "() => [...document.querySelectorAll('.oco2-profile .dot')]"
            ".some(e => getComputedStyle(e).fill === 'rgb(0, 200, 83)')",
            timeout=UPDATE_TIMEOUT_MS,
        )
    finally:
        close_page(other)


def test_catalogue_peak_opens_the_orbit_view(page, screenshots):
    page.click(".oco2-explorer .lm-TabBar-tab >> text=Catalogue")
    page.wait_for_selector(".oco2-catalogue-peaks option", timeout=UPDATE_TIMEOUT_MS)
    page.screenshot(path=str(screenshots / "explorer-catalogue.png"))
    first = page.text_content(".oco2-catalogue-peaks option").replace("\xa0", " ")
    assert re.match(r"2016-0[89]-\d\d orbit \d+ \((real OCO-2|simulated)\) ", first)
    assert page.locator(".oco2-month-export a").count() == 2
    before = page.text_content(".oco2-link code")
    page.select_option(".oco2-catalogue-peaks select", index=0)
    page.wait_for_selector(".oco2-orbit-view", state="visible", timeout=UPDATE_TIMEOUT_MS)
    after = text_changes(page, ".oco2-link code", before)
    assert "orbit=" in after
