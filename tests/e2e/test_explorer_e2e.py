"""The explorer as users see it: ``oco2explore app`` served by Voilà, driven in headless Chromium.

One server for the module (real OCO-2 soundings of the Highveld pass as its data
root), one browser; screenshots go to ``test-artifacts/``. With
``OCO2EXPLORE_UPDATE_SCREENSHOT=1`` the first one also replaces the README's
``docs/explorer.png`` (a test run does not touch tracked files otherwise).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO
from test_app import real_highveld_lite

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts"
#: Page-load budget (the first render target is 5 s; CI machines are slower).
LOAD_TIMEOUT_MS = 60_000
#: Budget for one interaction to show up on the page.
UPDATE_TIMEOUT_MS = 15_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, proc: subprocess.Popen, timeout_s: float = 60.0) -> None:
    """Wait for any HTTP answer from a static path (a probe of / would run the notebook)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"oco2explore app exited with status {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"no answer from {url} within {timeout_s} s")


def isolated_env(home: Path) -> dict[str, str]:
    """Environment with Jupyter's and IPython's state under a temporary home."""
    env = dict(os.environ)
    for var, sub in (
        ("HOME", ""),
        ("JUPYTER_CONFIG_DIR", "jupyter-config"),
        ("JUPYTER_DATA_DIR", "jupyter-data"),
        ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"),
        ("IPYTHONDIR", "ipython"),
    ):
        env[var] = str(home / sub)
    return env


def start_server(data: Path, home: Path) -> tuple[subprocess.Popen, str]:
    """``oco2explore app --no-browser`` on a free port; returns the process and its URL."""
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make browser)")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "oco2explore.cli", "app", "--no-browser", "--port", str(port)]
        + ["--data", str(data)],
        env=isolated_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    wait_until_serving(url + "voila/files/probe.png", proc)
    return proc, url


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()


@pytest.fixture(scope="module")
def server(real_data, tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    real_highveld_lite(real_data, data)
    proc, url = start_server(data, tmp_path_factory.mktemp("home"))
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_app(browser, url: str):
    """A new page on ``url``, returned once the fit result and the profile are drawn."""
    page = browser.new_page(viewport={"width": 1500, "height": 1250})
    page.goto(url)
    page.wait_for_selector(".oco2-result .oco2-verdict", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(".oco2-profile .dot", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(".oco2-map .leaflet-marker-icon", timeout=LOAD_TIMEOUT_MS)
    return page


def text_changes(page, selector: str, before: str) -> str:
    """Wait until the text of ``selector`` differs from ``before``; return it."""
    page.wait_for_function(
        "([sel, old]) => { const e = document.querySelector(sel);"
        " return e && e.textContent !== old; }",
        arg=[selector, before],
        timeout=UPDATE_TIMEOUT_MS,
    )
    return page.text_content(selector)


@pytest.fixture(scope="module")
def page(server, browser):
    """One page of the default view, shared by the tests that render, slide and drag."""
    page = open_app(browser, server)
    yield page
    page.close()


def test_map_profile_and_sliders_render(page):
    assert page.locator(".oco2-map.leaflet-container, .oco2-map .leaflet-container").count() >= 1
    assert page.locator(".oco2-profile .dot").count() > 100
    assert page.locator(".oco2-controls .noUi-handle").count() >= 8
    assert re.fullmatch(r"\d+\.\d+ ± \d+\.\d+", page.text_content(".oco2-result .oco2-delta_ppm"))
    assert re.search(r"CoCO2_146\d\d", page.text_content(".oco2-sources"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(500)  # let the map's canvas layers paint
    shot = ARTIFACTS / "explorer.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 50_000  # a drawn page, not a blank one
    if os.environ.get("OCO2EXPLORE_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, REPO / "docs" / "explorer.png")


def test_slider_step_refits(page):
    cell = ".oco2-result .oco2-n_soundings"
    before = page.text_content(cell)
    link = page.text_content(".oco2-link code")  # read before the key: the update can be quick
    page.focus(".oco2-ctl-half_width_km .noUi-handle")
    page.keyboard.press("ArrowLeft")
    # The link is redrawn last after a refit: once it changed, the page is up to date.
    link = text_changes(page, ".oco2-link code", link)
    assert "half_width_km=95.0" in link
    assert int(page.text_content(cell).split()[0]) < int(before.split()[0])
    page.screenshot(path=str(ARTIFACTS / "explorer-slider.png"))


def test_window_drag_refits(page):
    cell = ".oco2-result .oco2-center_km"
    before = page.text_content(cell)
    link = page.text_content(".oco2-link code")
    box = page.locator(".oco2-map .leaflet-marker-icon").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 4
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 4 * step, y + 12 * step)
    page.mouse.up()
    text_changes(page, ".oco2-link code", link)  # the window centre moved
    after = page.text_content(cell)
    assert float(after.split()[0]) != pytest.approx(float(before.split()[0]), abs=1.0)
    page.screenshot(path=str(ARTIFACTS / "explorer-drag.png"))


def test_deep_link_restores_the_view(server, browser, page):
    link = page.locator(".oco2-link code").text_content()
    assert link.startswith("?file=") and "orbit=11522" in link
    query = re.sub(r"&centre=[0-9.]+.*", "&centre=150&half_width_km=60.0", link)
    page = open_app(browser, server + query)
    page.wait_for_function(
        "() => document.querySelector('.oco2-link code').textContent.includes('half_width_km=60')",
        timeout=UPDATE_TIMEOUT_MS,
    )
    restored = page.text_content(".oco2-link code")
    centre = float(re.search(r"centre=([0-9.]+)", restored).group(1))
    assert centre == pytest.approx(150, abs=5)
    assert page.text_content(".oco2-ctl-half_width_km .widget-readout").strip().startswith("60")
    page.screenshot(path=str(ARTIFACTS / "explorer-deeplink.png"))
    page.close()


def test_catalogue_peak_opens_the_orbit_view(page):
    page.click(".oco2-explorer .lm-TabBar-tab >> text=Catalogue")
    page.click(".oco2-catalogue .widget-checkbox input")  # show rejected peaks too
    page.wait_for_selector(".oco2-catalogue-peaks option", timeout=UPDATE_TIMEOUT_MS)
    page.screenshot(path=str(ARTIFACTS / "explorer-catalogue.png"))
    first = page.text_content(".oco2-catalogue-peaks option").replace("\xa0", " ")
    assert first.startswith("2016-08-31 orbit 11522 ")
    before = page.text_content(".oco2-link code")
    page.select_option(".oco2-catalogue-peaks select", index=0)
    page.wait_for_selector(".oco2-orbit-view", state="visible", timeout=UPDATE_TIMEOUT_MS)
    page.wait_for_function(
        "(old) => document.querySelector('.oco2-link code').textContent !== old",
        arg=before,
        timeout=UPDATE_TIMEOUT_MS,
    )
    assert "orbit=11522" in page.text_content(".oco2-link code")
