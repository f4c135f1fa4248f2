"""Fixtures of the browser tests: the demo data, a server, a browser (see voila_browser.py).

Helpers live in ``voila_browser`` (importable by the tests and by
``benchmarks/bench_app.py``); this file only holds fixtures, so no test imports it.
"""

from __future__ import annotations

import pytest

from oco2explore.demo import demo_data_dir

from .voila_browser import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server


@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory):
    """A cache folder holding the demo data (built once for the session)."""
    cache = tmp_path_factory.mktemp("cache")
    demo_data_dir(cache)
    return cache


@pytest.fixture(scope="module")
def server(demo_cache, tmp_path_factory):
    """``oco2explore app`` on the demo data (it opens on the real Highveld pass), its URL."""
    proc, url = start_server(None, tmp_path_factory.mktemp("home"), cache=demo_cache)
    yield url
    stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
