"""``oco2explore app``: serve ``apps/explorer.ipynb`` with Voilà on a data root.

The data root (a folder or ``swift://container/prefix``; the demo data by
default) reaches the notebook's kernel through ``$OCO2EXPLORE_DATA``. Voilà
keeps a pool of preheated kernels (:data:`~.kernels.DEFAULT_POOL_SIZE`), so a page
renders from an already executed notebook; the deep link's query string is applied
when the page is requested. A closed page's kernel is shut down, and kernels left
without a page are culled after :data:`~.kernels.DEFAULT_CULL_IDLE_S` (see
:mod:`.kernels`).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import webbrowser
from pathlib import Path
from types import FrameType

from ..errors import InputError
from ..storage import is_swift_url
from .data import DataRoot
from .explorer import DATA_ENV, READY_ENV
from .kernels import CULL_INTERVAL_S, DEFAULT_CULL_IDLE_S, DEFAULT_POOL_SIZE

log = logging.getLogger(__name__)

#: Longest wait for the first view before the browser is opened anyway, s.
READY_TIMEOUT_S = 120.0

#: Address ``oco2explore app`` listens on by default (this machine only).
DEFAULT_IP = "127.0.0.1"
#: A host name as RFC 1123 allows it (labels of letters, digits and hyphens).
HOST_NAME = re.compile(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+")

#: The notebook in a source checkout (what Binder opens at /voila/render/apps/explorer.ipynb).
CHECKOUT_NOTEBOOK = Path(__file__).resolve().parents[2] / "apps" / "explorer.ipynb"
#: The notebook's code cells: build the app, then apply the page's deep link.
NOTEBOOK_CELLS = (
    "import os\n"
    "\n"
    "from oco2explore.app import Explorer, page_query_string\n"
    "\n"
    "explorer = Explorer.from_env()  # data root: $OCO2EXPLORE_DATA, else the demo data\n"
    'explorer.start(os.environ.get("QUERY_STRING"))\n'
    "explorer",
    "# With preheated kernels the query string arrives with the page request.\n"
    "explorer.start(page_query_string())",
)


def notebook_json() -> dict:
    """The explorer notebook (nbformat 4): a few lines around :class:`Explorer`."""
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": f"explorer-{i}",
            "metadata": {},
            "outputs": [],
            "source": source.splitlines(keepends=True),
        }
        for i, source in enumerate(NOTEBOOK_CELLS)
    ]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def notebook_path() -> Path:
    """``apps/explorer.ipynb`` of the checkout, or a copy written for an installed package."""
    if CHECKOUT_NOTEBOOK.is_file():
        return CHECKOUT_NOTEBOOK
    path = Path(tempfile.mkdtemp(prefix="oco2explore-app-")) / "explorer.ipynb"
    path.write_text(json.dumps(notebook_json(), indent=1) + "\n", encoding="utf-8")
    return path


def resolve_data(data: str | Path | None) -> str:
    """The data root as the kernel will see it: absolute folder, swift URL, or "" for the demo.

    The demo data are built here (once, cached) so the page never waits for them.
    """
    if data is None or str(data) == "":
        from ..demo import demo_data_dir

        log.info("demo data: %s", demo_data_dir())
        return ""
    location = str(data) if is_swift_url(data) else str(Path(data).expanduser().resolve())
    DataRoot(location)  # a missing folder or one without Lite files fails here, in one line
    return location


def check_ip(ip: str) -> str:
    """``ip`` if it is an IPv4/IPv6 address or a host name, else :class:`InputError`."""
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        if HOST_NAME.fullmatch(ip) and not ip.replace(".", "").isdigit():
            return ip
    raise InputError(f"--ip {ip!r} is neither an IP address nor a host name")


def check_port(port: int) -> int:
    """``port`` if it is a TCP port (1–65535), else :class:`InputError`."""
    if not 1 <= port <= 65535:
        raise InputError(f"--port {port} is outside 1–65535")
    return port


def voila_command(
    notebook: Path,
    port: int,
    ip: str = DEFAULT_IP,
    pool_size: int = DEFAULT_POOL_SIZE,
    cull_idle_s: int = DEFAULT_CULL_IDLE_S,
) -> list[str]:
    """The Voilà command line serving ``notebook`` on ``ip``:``port`` (no browser).

    Parameters
    ----------
    notebook : Path
        The explorer notebook.
    port : int
        TCP port.
    ip : str
        Address to listen on.
    pool_size : int
        Preheated kernels kept ready (0: none, each page starts its own kernel).
    cull_idle_s : int
        Seconds after which a kernel idle and without a page is shut down (0: never).
    """
    return [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--port={port}",
        f"--Voila.ip={ip}",
        f"--preheat_kernel={pool_size > 0}",
        f"--pool_size={max(pool_size, 0)}",
        "--theme=light",
        "--no-browser",
        "--Voila.identity_provider_class=oco2explore.app.kernels.PageIdentityProvider",
        "--VoilaConfiguration.multi_kernel_manager_class=oco2explore.app.kernels.PageKernelManager",
        f"--MappingKernelManager.cull_idle_timeout={max(cull_idle_s, 0)}",
        f"--MappingKernelManager.cull_interval={min(CULL_INTERVAL_S, max(cull_idle_s, 1))}",
        "--MappingKernelManager.cull_connected=False",
    ]


def open_when_ready(url: str, ready_file: Path, proc: subprocess.Popen) -> None:
    """Open ``url`` in a browser once the preheated kernel has drawn the default view.

    Opening it at once would make the very first page wait for the kernel to start.
    """
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not ready_file.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if proc.poll() is None:
        log.info("the explorer is ready: %s", url)
        webbrowser.open(url)


def serve(
    data: str | Path | None = None,
    port: int = 8866,
    open_browser: bool = True,
    ip: str = DEFAULT_IP,
    pool_size: int = DEFAULT_POOL_SIZE,
    cull_idle_s: int = DEFAULT_CULL_IDLE_S,
) -> int:
    """Serve the explorer with Voilà until interrupted; returns Voilà's exit status.

    Parameters
    ----------
    data : str or Path, optional
        Folder or ``swift://container/prefix`` of Lite files; the demo data when omitted.
    port : int
        TCP port (1–65535).
    open_browser : bool
        Open the page in a web browser.
    ip : str
        Address to listen on (``0.0.0.0``: every interface).
    pool_size : int
        Preheated kernels kept ready.
    cull_idle_s : int
        Seconds after which a kernel idle and without a page is shut down (0: never).
    """
    ip, port = check_ip(ip), check_port(port)
    env = dict(os.environ)
    env[DATA_ENV] = resolve_data(data)
    # A caller waiting for the first view (a test, a benchmark) may name the file.
    ready_file = Path(
        env.get(READY_ENV) or Path(tempfile.mkdtemp(prefix="oco2explore-app-")) / "ready"
    )
    env[READY_ENV] = str(ready_file)
    host = DEFAULT_IP if ip in ("0.0.0.0", "::") else ip
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
    where = env[DATA_ENV] or "demo data"
    log.info("serving the explorer on %s (data: %s); preparing the first view", url, where)
    command = voila_command(notebook_path(), port, ip, pool_size, cull_idle_s)
    proc = subprocess.Popen(command, env=env)
    if open_browser:
        threading.Thread(target=open_when_ready, args=(url, ready_file, proc), daemon=True).start()

    def stop(signum: int, _frame: FrameType | None) -> None:
        proc.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        proc.wait()
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
