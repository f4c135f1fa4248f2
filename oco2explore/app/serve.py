"""``oco2explore app``: serve ``apps/explorer.ipynb`` with Voilà on a data root.

The data root (a folder or ``swift://container/prefix``; the demo data by
default) reaches the notebook's kernel through ``$OCO2EXPLORE_DATA``. Voilà
runs with one preheated kernel, so the page renders from an already executed
notebook; the deep link's query string is applied when the page is requested.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import webbrowser
from pathlib import Path
from types import FrameType

from ..storage import is_swift_url
from .data import DataRoot
from .explorer import DATA_ENV, READY_ENV

log = logging.getLogger(__name__)

#: Longest wait for the first view before the browser is opened anyway, s.
READY_TIMEOUT_S = 120.0

#: The notebook in a source checkout (what Binder opens at /voila/render/apps/explorer.ipynb).
CHECKOUT_NOTEBOOK = Path(__file__).resolve().parents[2] / "apps" / "explorer.ipynb"
#: The notebook's code cells: build the app, then apply the page's deep link.
NOTEBOOK_CELLS = (
    "import os\n"
    "\n"
    "from voila.utils import get_query_string\n"
    "\n"
    "from oco2explore.app import Explorer\n"
    "\n"
    "explorer = Explorer.from_env()  # data root: $OCO2EXPLORE_DATA, else the demo data\n"
    'explorer.start(os.environ.get("QUERY_STRING"))\n'
    "explorer",
    "# With preheated kernels the query string arrives with the page request.\n"
    "explorer.start(get_query_string())",
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


def voila_command(notebook: Path, port: int) -> list[str]:
    """The Voilà command line serving ``notebook`` on 127.0.0.1:``port`` (no browser)."""
    return [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--preheat_kernel=True",
        "--pool_size=1",
        "--theme=light",
        "--no-browser",
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


def serve(data: str | Path | None = None, port: int = 8866, open_browser: bool = True) -> int:
    """Serve the explorer with Voilà until interrupted; returns Voilà's exit status.

    Parameters
    ----------
    data : str or Path, optional
        Folder or ``swift://container/prefix`` of Lite files; the demo data when omitted.
    port : int
        TCP port on 127.0.0.1.
    open_browser : bool
        Open the page in a web browser.
    """
    env = dict(os.environ)
    env[DATA_ENV] = resolve_data(data)
    ready_file = Path(tempfile.mkdtemp(prefix="oco2explore-app-")) / "ready"
    env[READY_ENV] = str(ready_file)
    url = f"http://127.0.0.1:{port}/"
    where = env[DATA_ENV] or "demo data"
    log.info("serving the explorer on %s (data: %s); preparing the first view", url, where)
    proc = subprocess.Popen(voila_command(notebook_path(), port), env=env)
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
