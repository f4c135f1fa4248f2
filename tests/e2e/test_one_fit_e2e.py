"""In the browser, the window fit at every listed peak gives the verdict the list shows.

The orbit's peak list comes from the scan (:func:`oco2explore.scan.scan_orbit`), the
window from :func:`oco2explore.scan.fit_at`: choosing an entry of the list must show
the same ✔/✘ in the window. Checked on the demo (its default view, the simulated
Highveld pass) and on the real Highveld soundings of orbit 11522, in Voilà served by
``oco2explore app`` and headless Chromium (the fixtures of ``test_explorer_e2e.py``).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_app import real_highveld_lite
from test_explorer_e2e import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LOAD_TIMEOUT_MS,
    UPDATE_TIMEOUT_MS,
    free_port,
    isolated_env,
    start_server,
    stop_server,
    wait_until_serving,
)

from oco2explore.demo import CACHE_ENV, demo_data_dir

pytestmark = pytest.mark.e2e


def start_demo_server(home, cache) -> tuple[subprocess.Popen, str]:
    """``oco2explore app`` without ``--data`` (the demo), its cache built beforehand."""
    demo_data_dir(cache)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "oco2explore.cli", "app", "--no-browser", "--port", str(port)],
        env={**isolated_env(home), CACHE_ENV: str(cache)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url + "voila/files/probe.png", proc)
    except Exception:
        stop_server(proc)
        raise
    return proc, url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module", params=["demo", "real-highveld"])
def server(request, tmp_path_factory):
    if request.param == "demo":
        proc, url = start_demo_server(
            tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("cache")
        )
    else:
        real_data = request.getfixturevalue("real_data")
        data = tmp_path_factory.mktemp("data")
        real_highveld_lite(real_data, data)
        proc, url = start_server(data, tmp_path_factory.mktemp("home"))
    yield url
    stop_server(proc)


def open_orbit_view(browser, url: str):
    """A new page on ``url`` once the window's verdict and the peak list are drawn.

    Voilà runs the notebook before it answers the first request, so the navigation
    itself gets the page-load budget too.
    """
    page = browser.new_page(viewport={"width": 1500, "height": 1250})
    page.set_default_navigation_timeout(LOAD_TIMEOUT_MS)
    page.goto(url)
    page.wait_for_selector(".oco2-result .oco2-verdict", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(".oco2-peaks select option", timeout=LOAD_TIMEOUT_MS)
    return page


def test_every_listed_peak_shows_its_verdict_in_the_window(server, browser):
    page = open_orbit_view(browser, server)
    try:
        options = page.locator(".oco2-peaks select option")
        labels = [t.replace("\xa0", " ").strip() for t in options.all_text_contents()]
        assert labels, "the orbit lists no peak"
        assert any(label.startswith("✔") for label in labels)
        seen = []
        for index, label in enumerate(labels):
            link = page.text_content(".oco2-link code")
            page.select_option(".oco2-peaks select", index=index)
            # The link is redrawn last after a refit: once it changed, the window is up to date.
            page.wait_for_function(
                "(old) => document.querySelector('.oco2-link code').textContent !== old",
                arg=link,
                timeout=UPDATE_TIMEOUT_MS,
            )
            verdict = page.text_content(".oco2-result .oco2-verdict").strip()
            seen.append((label, verdict))
            assert verdict[0] == label[0], f"list {label!r}, window {verdict!r}"
        assert len(seen) == len(labels)
    finally:
        page.close()
