"""No kernel outlives its page: real servers, real Chromium pages opened and closed."""

from __future__ import annotations

import pytest

from .voila_browser import (
    BINDER_PAGE,
    api_kernels,
    close_page,
    kernel_processes,
    new_page,
    open_app,
    start_binder_server,
    start_server,
    stop_server,
    wait_for_first_view,
    wait_for_kernels,
)

pytestmark = pytest.mark.e2e

POOL_SIZE = 2


def test_closed_pages_shut_their_kernels_down(demo_cache, browser, tmp_path):
    proc, url = start_server(None, tmp_path, pool_size=POOL_SIZE, cache=demo_cache)
    try:
        count = lambda: len(kernel_processes(proc))  # noqa: E731
        wait_for_kernels(count, POOL_SIZE, proc)
        for _ in range(6):
            page = open_app(browser, url)
            close_page(page)
        assert wait_for_kernels(count, POOL_SIZE, proc) == POOL_SIZE
        log = (tmp_path / "server.log").read_text(errors="replace")
        assert "_xsrf" not in log and "403 POST" not in log
    finally:
        stop_server(proc)


def test_a_kernel_whose_page_vanished_is_culled_but_not_the_pool(demo_cache, browser, tmp_path):
    proc, url = start_server(None, tmp_path, pool_size=1, cull_idle_s=5, cache=demo_cache)
    try:
        count = lambda: len(kernel_processes(proc))  # noqa: E731
        page = open_app(browser, url)
        wait_for_kernels(count, 2, proc)  # the page's kernel and the refilled pool
        page.close()  # no beforeunload: the shutdown request is never sent
        assert wait_for_kernels(count, 1, proc) == 1  # culled; the pool kernel stays
    finally:
        stop_server(proc)


def test_binder_path_shuts_kernels_down(demo_cache, browser, tmp_path):
    proc, url, token = start_binder_server(tmp_path, demo_cache)
    try:
        count = lambda: len(api_kernels(url, token))  # noqa: E731
        for _ in range(3):
            page = new_page(browser)
            page.goto(f"{url}{BINDER_PAGE}?token={token}")
            wait_for_first_view(page)
            assert count() >= 1
            close_page(page)
        assert wait_for_kernels(count, 0, proc) == 0
        assert "403 POST" not in (tmp_path / "server.log").read_text(errors="replace")
    finally:
        stop_server(proc)
