"""In the browser, the window fit at every listed peak gives the verdict the list shows.

The orbit's peak list comes from the scan (:func:`oco2explore.scan.scan_orbit`), the
window from :func:`oco2explore.scan.fit_at`: choosing an entry of the list must show
the same ✔/✘ in the window. Checked on the demo (its default view, the packaged real
Highveld pass), on the real Highveld soundings of ``../shared/data/real`` and on simulated
days, in Voilà served by ``oco2explore app`` and headless Chromium (``tests/e2e/conftest.py``).
"""

from __future__ import annotations

import pytest

from oco2explore.demo import real_highveld_lite
from oco2explore.simulate import simulate

from .voila_browser import LOAD_TIMEOUT_MS, UPDATE_TIMEOUT_MS, start_server, stop_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["demo", "real-highveld", "simulated"])
def server(request, demo_cache, tmp_path_factory):
    """The demo (it opens on the packaged real pass), the real Highveld soundings of
    ``../shared/data/real`` alone, and simulated days over the Highveld."""
    home = tmp_path_factory.mktemp("home")
    if request.param == "demo":
        proc, url = start_server(None, home, cache=demo_cache)
    else:
        data = tmp_path_factory.mktemp("data")
        if request.param == "real-highveld":
            real = request.getfixturevalue("real_data")
            real_highveld_lite(data, real / "oco2_orbit11522_20160831_highveld_peak.csv")
        else:
            simulate(data, days=2, seed=0, start="2016-08-31", regions=["highveld"])
        proc, url = start_server(data, home)
    yield url
    stop_server(proc)


def open_orbit_view(browser, url: str):
    """A new page on ``url`` once the window's verdict and the peak list are drawn.

    Voilà runs the notebook before it answers the first request, so the navigation
    itself gets the page-load budget too.
    """
    page = browser.new_page(viewport={"width": 1500, "height": 1250})
    page.set_default_navigation_timeout(LOAD_TIMEOUT_MS)
    # "commit": the page's load event waits on map tiles that cannot load offline.
    page.goto(url, wait_until="commit")
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
