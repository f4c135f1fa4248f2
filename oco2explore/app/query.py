"""The page's query string in a Voilà kernel, without importing the Voilà server into it.

A preheated kernel runs the notebook before any page asks for it; when a page takes the
kernel, Voilà sends that page's request (``QUERY_STRING`` and the other CGI-like
variables) on the websocket ``voila/query/<kernel id>``. ``voila.utils.get_query_string``
receives it, but importing ``voila.utils`` imports the whole Voilà server (jupyter-server,
jupyter-events, jsonschema with its format checkers, whose RFC 3987 grammar is compiled at
import): 6.8 s of CPU in a kernel on this machine, more than the rest of the notebook
together, paid by every pool kernel while a visitor may be waiting for it.
:func:`page_query_string` follows the same protocol (Voilà 0.5's ``wait_for_request``:
the same environment variables and URL, one JSON message) with the ``websockets`` client
alone.
"""

from __future__ import annotations

import json
import logging
import os

log = logging.getLogger(__name__)

#: Seconds to wait for the server to accept the websocket (as Voilà's own client).
OPEN_TIMEOUT_S = 5.0


def request_info_url(environ: os._Environ | dict[str, str] | None = None) -> str:
    """Websocket URL on which Voilà sends a preheated kernel its page's request.

    Built from the variables Voilà gives its kernels (``VOILA_WS_PROTOCOL``,
    ``VOILA_APP_IP``, ``VOILA_APP_PORT``, ``VOILA_WS_BASE_URL`` or ``VOILA_SERVER_URL``,
    ``VOILA_KERNEL_ID``), with Voilà's defaults.
    """
    env = os.environ if environ is None else environ
    protocol = env.get("VOILA_WS_PROTOCOL", "ws")
    ip = env.get("VOILA_APP_IP", "127.0.0.1")
    port = env.get("VOILA_APP_PORT", "8866")
    base = env.get("VOILA_WS_BASE_URL", env.get("VOILA_SERVER_URL", "/"))
    return f"{protocol}://{ip}:{port}{base}voila/query/{env.get('VOILA_KERNEL_ID')}"


def page_query_string() -> str:
    """The query string of the page this kernel serves (``""`` if none).

    In a preheated kernel (``VOILA_PREHEAT=True``) this blocks until a page takes the
    kernel, then puts the page's request variables into ``os.environ`` (as Voilà does);
    otherwise the kernel was started for its page and ``$QUERY_STRING`` already holds it.
    A server that cannot be reached leaves a warning in the log and ``$QUERY_STRING``.
    """
    if os.environ.get("VOILA_PREHEAT", "False") != "False":
        from websockets.sync.client import connect

        url = request_info_url()
        try:
            with connect(url, open_timeout=OPEN_TIMEOUT_S) as websocket:
                message = websocket.recv()
        except (OSError, TimeoutError) as exc:
            log.warning("no page request from %s: %s", url, exc)
        else:
            os.environ.update({str(k): str(v) for k, v in json.loads(message).items()})
    return os.environ.get("QUERY_STRING", "")
