"""The Sources tab as users see it: a data root with a source report, Voilà, headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from oco2explore.report import report_lite_folder
from oco2explore.simulate import simulate

from .voila_browser import LOAD_TIMEOUT_MS, UPDATE_TIMEOUT_MS, start_server, stop_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def report_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four simulated days over the Highveld with their source report in ``report/``."""
    data = tmp_path_factory.mktemp("data")
    simulate(data, days=4, seed=0, start="2016-08-31", regions=["highveld"])
    report_lite_folder(data, data / "report")
    return data


@pytest.fixture(scope="module")
def server(report_root: Path, tmp_path_factory: pytest.TempPathFactory):
    proc, url = start_server(report_root, tmp_path_factory.mktemp("home"))
    yield url
    stop_server(proc)


def test_source_link_table_series_filters_and_crossing(server, browser, report_root, tmp_path):
    sources = pd.read_parquet(report_root / "report" / "sources.parquet")
    detected = sources[sources["n_detected"] > 0].iloc[0]
    page = browser.new_page(viewport={"width": 1500, "height": 1250})
    # "commit": the page's load event waits on map tiles that cannot load offline.
    page.goto(server + f"?source={detected['source_id']}", wait_until="commit")
    page.wait_for_selector(".oco2-source-summary b", timeout=LOAD_TIMEOUT_MS)
    assert detected["source_id"] in page.text_content(".oco2-source-summary")
    # The series: one dot per detected crossing; every crossing listed; the map drawn (canvas).
    page.wait_for_selector(".oco2-source-series .dot", timeout=UPDATE_TIMEOUT_MS)
    assert page.locator(".oco2-source-series .dot").count() >= int(detected["n_detected"])
    assert page.locator(".oco2-crossing-list option").count() == int(detected["n_crossings"])
    assert page.locator(".oco2-sources-map canvas").count() >= 1
    listed = page.locator(".oco2-source-list option").count()
    assert listed == len(sources)
    page.screenshot(path=str(tmp_path / "explorer-sources.png"))

    # Filter by verdict: only that verdict's sources stay listed.
    verdict = sources["verdict"].value_counts().index[-1]
    page.select_option(".oco2-sources-verdict select", verdict)
    expected = int((sources["verdict"] == verdict).sum())
    page.wait_for_function(
        "n => document.querySelectorAll('.oco2-source-list option').length === n",
        arg=expected,
        timeout=UPDATE_TIMEOUT_MS,
    )
    assert all(verdict in t for t in page.locator(".oco2-source-list option").all_text_contents())

    # Choosing a crossing opens the orbit view there (its deep link names the orbit).
    page.select_option(".oco2-sources-verdict select", "(all)")
    page.locator(".oco2-source-list option").nth(0).click()
    page.wait_for_selector(".oco2-crossing-list option", timeout=UPDATE_TIMEOUT_MS)
    first = page.locator(".oco2-crossing-list option").nth(0)
    orbit = re.search(r"orbit\s(\d+)", first.text_content()).group(1)  # \s: Select uses nbsp
    first.click()
    page.wait_for_function(
        "o => { const e = document.querySelector('.oco2-link code');"
        " return e && e.textContent.includes('orbit=' + o); }",
        arg=orbit,
        timeout=UPDATE_TIMEOUT_MS,
    )
    page.close()
