"""Helpers of the browser tests and of ``benchmarks/bench_app.py``: servers, pages, kernels.

Servers are real: ``oco2explore app`` (Voilà standalone with its pool of preheated
kernels) and jupyter-server with the Voilà extension and ``binder/``'s configuration (the
Binder path ``voila/render/...``). Pages are real headless Chromium pages (Playwright).
Every wait is explicit and sized for a 2-core machine under load: a test waits for the
kernel's first view, never for a wall time.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]
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
#: A server's first view (kernel started, notebook run) on a loaded 2-core machine, s.
SERVER_TIMEOUT_S = 300.0
#: A page's first render (with a preheated kernel it takes a few seconds), ms.
LOAD_TIMEOUT_MS = 180_000
#: One interaction shown on the page, ms.
UPDATE_TIMEOUT_MS = 60_000
#: Kernels started or shut down by the server, s.
KERNEL_TIMEOUT_S = 180.0
#: Viewports the layout must fit (width, height), px.
VIEWPORTS = ((1280, 800), (1400, 1000))
#: The notebook as Binder opens it.
BINDER_PAGE = "voila/render/apps/explorer.ipynb"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
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
    env.update(extra)
    return env


def _need_chromium() -> None:
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make browser)")


def _wait_for(condition, what: str, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode} ({what})")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(0.25)


def start_server(
    data: Path | None,
    home: Path,
    *,
    pool_size: int = 2,
    cull_idle_s: int = 600,
    cache: Path | None = None,
    wait_for_view: bool = True,
) -> tuple[subprocess.Popen, str]:
    """``oco2explore app --no-browser`` on a free port, returned once its first view is drawn.

    Parameters
    ----------
    data : Path or None
        Data root; the demo data when None (built in ``cache``).
    home : Path
        Temporary home of Jupyter's state.
    pool_size, cull_idle_s : int
        ``--pool-size`` and ``--cull-idle``.
    cache : Path, optional
        ``$OCO2EXPLORE_CACHE`` (where the demo data are).
    wait_for_view : bool
        Wait for a preheated kernel's first view; else only until the server answers.
    """
    _need_chromium()
    port = free_port()
    ready = home / "first-view-ready"
    extra = {"OCO2EXPLORE_READY_FILE": str(ready)}
    if cache is not None:
        extra["OCO2EXPLORE_CACHE"] = str(cache)
    command = [sys.executable, "-m", "oco2explore.cli", "app", "--no-browser"]
    command += ["--port", str(port), "--pool-size", str(pool_size)]
    command += ["--cull-idle", str(cull_idle_s)]
    if data is not None:
        command += ["--data", str(data)]
    proc = subprocess.Popen(
        command,
        env=isolated_env(home, **extra),
        stdout=subprocess.DEVNULL,
        stderr=open(home / "server.log", "wb"),  # noqa: SIM115 - the server owns it
        start_new_session=True,
    )
    try:
        if pool_size > 0 and wait_for_view:
            _wait_for(ready.exists, "first view of a preheated kernel", proc, SERVER_TIMEOUT_S)
        else:
            _wait_for(
                lambda: _answers(f"http://127.0.0.1:{port}/voila/static/"), "server", proc, 60
            )
    except BaseException:
        stop_server(proc)
        raise
    return proc, f"http://127.0.0.1:{port}/"


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def start_binder_server(home: Path, cache: Path) -> tuple[subprocess.Popen, str, str]:
    """jupyter-server with the Voilà extension and ``binder/jupyter_server_config.json``.

    Returns the process, the base URL and the token (the Binder path:
    ``<url>voila/render/apps/explorer.ipynb?token=...``).
    """
    _need_chromium()
    port = free_port()
    token = "oco2explore-e2e"
    config = home / "jupyter-config"
    config.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(
        REPO / "binder" / "jupyter_server_config.json", config / "jupyter_server_config.json"
    )
    command = [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}"]
    command += ["--allow-root"] if os.geteuid() == 0 else []
    command += [f"--ServerApp.root_dir={REPO}", f"--IdentityProvider.token={token}"]
    proc = subprocess.Popen(
        command,
        env=isolated_env(home, OCO2EXPLORE_CACHE=str(cache)),
        stdout=subprocess.DEVNULL,
        stderr=open(home / "server.log", "wb"),  # noqa: SIM115 - the server owns it
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for(lambda: _answers(url + "api/status"), "jupyter-server", proc, 120)
    except BaseException:
        stop_server(proc)
        raise
    return proc, url, token


def api_kernels(url: str, token: str) -> list[dict]:
    """Kernels of a jupyter-server (its REST API)."""
    with urllib.request.urlopen(f"{url}api/kernels?token={token}", timeout=10) as answer:
        return json.load(answer)


def stop_server(proc: subprocess.Popen) -> None:
    """Stop a server started here and every process of its session (kernels too)."""
    try:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
    except ProcessLookupError:
        pass


def kernel_processes(proc: subprocess.Popen) -> list[psutil.Process]:
    """The running kernels of a server (its ``ipykernel_launcher`` descendants)."""
    found = []
    for child in psutil.Process(proc.pid).children(recursive=True):
        try:
            if "ipykernel_launcher" in " ".join(child.cmdline()) and child.is_running():
                if child.status() != psutil.STATUS_ZOMBIE:
                    found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def wait_for_kernels(count, n: int, proc: subprocess.Popen | None = None) -> int:
    """Wait until ``count()`` (kernels) equals ``n``; returns it (raises on timeout)."""
    deadline = time.monotonic() + KERNEL_TIMEOUT_S
    while (found := count()) != n:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{found} kernels, not {n}, after {KERNEL_TIMEOUT_S:.0f} s")
        time.sleep(0.5)
    return found


def wait_for_idle(
    proc: subprocess.Popen, cpu_percent: float = 10.0, timeout_s: float = KERNEL_TIMEOUT_S
) -> float:
    """Wait until a server and all its processes (kernels) use less than ``cpu_percent`` of
    one core over a second (a refilled pool's kernel has run the notebook); returns the
    seconds waited (raises on timeout)."""
    start = time.monotonic()
    while True:
        procs = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        for p in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.cpu_percent(None)
        time.sleep(1.0)
        used = 0.0
        for p in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                used += p.cpu_percent(None)
        if used < cpu_percent:
            return time.monotonic() - start
        if time.monotonic() - start > timeout_s:
            raise TimeoutError(f"server still at {used:.0f} % CPU after {timeout_s:.0f} s")


def server_memory_mb(proc: subprocess.Popen) -> float:
    """Resident memory of a server and all its processes (kernels included), MB."""
    total = 0
    for p in [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


def new_page(browser, viewport: tuple[int, int] = (1280, 800)):
    """A blank page of the given viewport with this module's timeouts."""
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.set_default_timeout(UPDATE_TIMEOUT_MS)
    page.set_default_navigation_timeout(LOAD_TIMEOUT_MS)
    return page


def wait_for_first_view(page) -> None:
    """Wait until the kernel's first view is drawn: fit result, profile, map handle."""
    page.wait_for_selector(".oco2-result .oco2-verdict", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(".oco2-profile .dot", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(".oco2-map .leaflet-marker-icon", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(".oco2-link code", timeout=LOAD_TIMEOUT_MS)


def open_app(browser, url: str, viewport: tuple[int, int] = (1280, 800)):
    """A new page on ``url``, returned once the kernel's first view is drawn."""
    page = new_page(browser, viewport)
    page.goto(url, timeout=LOAD_TIMEOUT_MS)
    wait_for_first_view(page)
    return page


def close_page(page) -> None:
    """Leave a page, then close it, as a user does: its ``beforeunload`` handlers run.

    Voilà's handler sends the kernel's shutdown request with ``navigator.sendBeacon``.
    Headless Chromium drops a beacon sent while Playwright destroys the page
    (``page.close(run_before_unload=True)`` runs the handler, the request never leaves),
    so the page first navigates away, which sends it as a closed browser tab does.
    """
    page.goto("about:blank")
    page.close()


def text_changes(page, selector: str, before: str) -> str:
    """Wait until the text of ``selector`` differs from ``before``; return it."""
    page.wait_for_function(
        "([sel, old]) => { const e = document.querySelector(sel);"
        " return e && e.textContent !== old; }",
        arg=[selector, before],
        timeout=UPDATE_TIMEOUT_MS,
    )
    return page.text_content(selector)
