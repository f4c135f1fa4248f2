"""Tests of oco2explore.app.query: a kernel receives its page's request as Voilà sends it."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading

from websockets.sync.server import serve

from oco2explore.app import page_query_string
from oco2explore.app.query import request_info_url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_request_info_url_follows_voilas_variables():
    env = {"VOILA_APP_PORT": "9001", "VOILA_SERVER_URL": "/base/", "VOILA_KERNEL_ID": "k1"}
    assert request_info_url(env) == "ws://127.0.0.1:9001/base/voila/query/k1"
    env["VOILA_WS_BASE_URL"] = "/ws/"
    env["VOILA_WS_PROTOCOL"] = "wss"
    assert request_info_url(env) == "wss://127.0.0.1:9001/ws/voila/query/k1"


def test_preheated_kernel_waits_for_its_pages_request(monkeypatch):
    """A server like Voilà's ``RequestInfoSocketHandler``: one JSON message per kernel."""
    paths = []

    def handler(websocket):
        paths.append(websocket.request.path)
        websocket.send(json.dumps({"QUERY_STRING": "orbit=11522&scorer=learned", "X": "1"}))

    port = _free_port()
    with serve(handler, "127.0.0.1", port) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        monkeypatch.setenv("VOILA_PREHEAT", "True")
        monkeypatch.setenv("VOILA_APP_PORT", str(port))
        monkeypatch.setenv("VOILA_SERVER_URL", "/")
        monkeypatch.setenv("VOILA_KERNEL_ID", "abc")
        monkeypatch.setenv("QUERY_STRING", "")
        monkeypatch.setenv("X", "")
        assert page_query_string() == "orbit=11522&scorer=learned"
        assert os.environ["X"] == "1"
        server.shutdown()
    assert paths == ["/voila/query/abc"]


def test_a_kernel_started_for_its_page_has_the_query_already(monkeypatch):
    monkeypatch.setenv("VOILA_PREHEAT", "False")
    monkeypatch.setenv("QUERY_STRING", "centre=150")
    assert page_query_string() == "centre=150"
    monkeypatch.delenv("VOILA_PREHEAT")
    monkeypatch.delenv("QUERY_STRING")
    assert page_query_string() == ""


def test_an_unreachable_server_leaves_a_warning(monkeypatch, caplog):
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    monkeypatch.setenv("VOILA_APP_PORT", str(_free_port()))  # nothing listens there
    monkeypatch.setenv("QUERY_STRING", "orbit=1")
    with caplog.at_level(logging.WARNING, logger="oco2explore.app.query"):
        assert page_query_string() == "orbit=1"
    assert "no page request" in caplog.text
