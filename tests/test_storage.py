"""Tests of oco2explore.storage against a local folder and a real OpenStack Swift server."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

from oco2explore.cli import main
from oco2explore.errors import InputError
from oco2explore.storage import (
    LocalStore,
    SwiftAuth,
    SwiftStore,
    check_key,
    md5_file,
    open_store,
)


def _swift_store(server, prefix: str = "", **options) -> SwiftStore:
    container = f"t{uuid.uuid4().hex[:10]}"
    url = f"swift://{container}/{prefix}" if prefix else f"swift://{container}"
    return open_store(url, swift_config=server.config(), **options)


@pytest.fixture(params=["local", pytest.param("swift", marks=pytest.mark.swift)])
def store(request, tmp_path):
    """A fresh empty store of each kind."""
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    return _swift_store(request.getfixturevalue("swift_server"), prefix="runs/a")


def test_round_trip_list_and_delete(store, tmp_path):
    files = {"catalogue/peaks_2016-08.csv": b"peak_id\n1-2\n", "manifest.json": b"{}"}
    files["catalogue/windows 2016-08.parquet"] = os.urandom(300_000)
    for key, data in files.items():
        local = tmp_path / "up" / key.replace("/", "_")
        local.parent.mkdir(exist_ok=True)
        local.write_bytes(data)
        info = store.put(local, key)
        assert info.size == len(data) and info.md5 == md5_file(local)

    assert store.list() == sorted(files)
    assert store.list("catalogue/") == sorted(k for k in files if k.startswith("catalogue/"))
    assert store.list("cat") == store.list("catalogue/")
    assert store.list("nothing/") == []
    for key, data in files.items():
        got = store.get(key, tmp_path / "down" / key)
        assert got.read_bytes() == data
        assert store.get_bytes(key) == data
        assert store.stat(key).size == len(data)

    store.put_bytes(b"v2", "manifest.json")  # overwrite
    assert store.get_bytes("manifest.json") == b"v2"
    store.delete("manifest.json")
    assert not store.exists("manifest.json") and store.stat("manifest.json") is None
    assert "manifest.json" not in store.list()
    with pytest.raises(InputError, match="manifest.json"):
        store.get("manifest.json", tmp_path / "missing")
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a"])
def test_bad_keys_are_refused(key):
    with pytest.raises(InputError, match="invalid storage key"):
        check_key(key)


def test_local_store_hides_partial_writes_and_gives_file_urls(tmp_path):
    store = LocalStore(tmp_path)
    (tmp_path / "day").mkdir()
    (tmp_path / "day" / ".peaks.parquet.x1y2.tmp").write_bytes(b"half")  # a write in progress
    (tmp_path / "day" / "peaks.parquet").write_bytes(b"done")
    assert store.list() == ["day/peaks.parquet"]
    assert store.url("day/peaks.parquet") == (tmp_path / "day" / "peaks.parquet").as_uri()
    public = LocalStore(tmp_path, base_url="https://example.org/data/")
    assert public.url("day/a b.csv") == "https://example.org/data/day/a%20b.csv"
    assert store.local_path("day/peaks.parquet", tmp_path / "x") == tmp_path / "day/peaks.parquet"


def test_credentials_from_environment_and_seed_json(tmp_path):
    auth = SwiftAuth.from_env({"ST_AUTH": "http://h/auth/v1.0", "ST_USER": "u", "ST_KEY": "s3"})
    assert (auth.auth_url, auth.user, auth.key, auth.auth_version) == (
        "http://h/auth/v1.0",
        "u",
        "s3",
        "1",
    )
    keystone = SwiftAuth.from_env(
        {
            "OS_AUTH_URL": "https://ks/v3",
            "OS_USERNAME": "u",
            "OS_PASSWORD": "pw",
            "OS_PROJECT_NAME": "proj",
            "OS_REGION_NAME": "GRA",
            "OS_USER_DOMAIN_NAME": "Default",
        }
    )
    assert keystone.auth_version == "3" and keystone.tenant_name == "proj"
    assert keystone.os_options["region_name"] == "GRA"
    seed = {
        "swift_storage": {
            "user": "u",
            "key": "topsecret",
            "auth_url": "https://auth.example/v3",
            "tenant_name": "t",
            "auth_version": "3",
            "options": {"region_name": "GRA"},
            "base_url": "https://storage.example/v1/AUTH_x/oco2/",
        }
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(seed))
    store = open_store("swift://oco2/runs", swift_config=path)
    assert store.auth.os_options == {"region_name": "GRA"} and store.auth.tenant_name == "t"
    assert store.url("m/p.csv") == "https://storage.example/v1/AUTH_x/oco2/runs/m/p.csv"
    assert "topsecret" not in repr(store) + repr(store.auth) + str(store)
    with pytest.raises(InputError, match="no Swift credentials"):
        SwiftAuth.from_env({})
    path.write_text("{not json")
    with pytest.raises(InputError, match="config.json"):
        open_store("swift://oco2", swift_config=path)


@pytest.mark.swift
def test_public_read_by_plain_http(swift_server, tmp_path):
    store = _swift_store(swift_server, prefix="pub")
    store.put_bytes(b"peak_id,orbit\n1-2,1\n", "peaks.csv")
    with pytest.raises(urllib.error.HTTPError) as private:
        urllib.request.urlopen(store.url("peaks.csv"), timeout=5)
    assert private.value.code in (401, 403)
    store.set_public()
    with urllib.request.urlopen(store.url("peaks.csv"), timeout=5) as resp:
        assert resp.read() == b"peak_id,orbit\n1-2,1\n"
    listing_url = store.url("peaks.csv").rsplit("/pub/", 1)[0] + "?format=json"
    with urllib.request.urlopen(listing_url, timeout=5) as resp:
        assert [o["name"] for o in json.load(resp)] == ["pub/peaks.csv"]


@pytest.mark.swift
def test_wrong_credentials_give_one_clear_error(swift_server):
    config = swift_server.config(key="not-the-key")
    store = open_store("swift://c", swift_config=config, retries=1, starting_backoff=0.01)
    with pytest.raises(InputError, match="authentication failed") as err:
        store.list()
    assert swift_server.auth_url in str(err.value)
    assert "not-the-key" not in str(err.value) and "\n" not in str(err.value)


def _written_bytes(pid: int) -> int:
    """Bytes the process has written to files so far (Linux /proc/PID/io)."""
    with open(f"/proc/{pid}/io") as f:
        return int(next(line for line in f if line.startswith("wchar:")).split()[1])


@pytest.mark.swift
def test_interrupted_upload_leaves_previous_object(swift_server, tmp_path):
    store = _swift_store(swift_server)
    store.put_bytes(b"good version", "big.bin")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(64 << 20))
    config = tmp_path / "swift.json"
    config.write_text(json.dumps(swift_server.config()))
    script = textwrap.dedent(
        f"""
        from oco2explore.storage import open_store
        open_store({str(store)!r}, swift_config={str(config)!r}).put({str(big)!r}, "big.bin")
        """
    )
    object_server = swift_server.procs["object"].pid
    start = _written_bytes(object_server)
    uploader = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    # Kill the client once the object server has written a quarter of the body to disk.
    while _written_bytes(object_server) - start < (16 << 20):
        assert uploader.poll() is None, "upload finished before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.001)
    os.kill(uploader.pid, signal.SIGKILL)
    uploader.wait()
    time.sleep(0.2)
    assert store.get_bytes("big.bin") == b"good version"
    assert [(i.key, i.size) for i in store.list_info()] == [("big.bin", 12)]


@pytest.mark.swift
def test_storage_command_line(swift_server, tmp_path, capsys):
    config = tmp_path / "swift.json"
    config.write_text(json.dumps(swift_server.config()))
    folder = tmp_path / "run"
    (folder / "catalogue").mkdir(parents=True)
    (folder / "catalogue" / "peaks_2016-08.csv").write_text("peak_id\n")
    (folder / "manifest.json").write_text("{}")
    url = f"swift://cli{uuid.uuid4().hex[:8]}/results"
    opts = ["--store", url, "--swift-config", str(config), "-q"]
    assert main(["storage", "put", str(folder), "r1", *opts]) == 0
    capsys.readouterr()
    assert main(["storage", "ls", "r1/cat", *opts]) == 0
    assert capsys.readouterr().out.split() == ["8", "r1/catalogue/peaks_2016-08.csv"]
    assert main(["storage", "get", "r1", str(tmp_path / "back"), *opts]) == 0
    assert (tmp_path / "back" / "catalogue" / "peaks_2016-08.csv").read_text() == "peak_id\n"
    assert main(["storage", "url", "r1/manifest.json", *opts]) == 0
    assert capsys.readouterr().out.strip().endswith("/results/r1/manifest.json")
    assert main(["storage", "rm", "r1/manifest.json", *opts]) == 0
    assert main(["storage", "get", "r1/manifest.json", str(tmp_path / "m"), *opts]) == 2
    assert "r1/manifest.json" in capsys.readouterr().err
    assert main(["storage", "rm", *opts]) == 2
    assert "usage: oco2explore storage rm KEY" in capsys.readouterr().err


@pytest.mark.swift
def test_download_of_damaged_object_is_refused(swift_server, tmp_path):
    store = _swift_store(swift_server, retries=1, starting_backoff=0.01)
    body = b"damaged-object-test" * 200
    store.put_bytes(body, "peaks.parquet")
    (data,) = (p for p in (swift_server.base / "srv").rglob("*.data") if p.read_bytes() == body)
    damaged = bytearray(data.read_bytes())
    damaged[100] ^= 0xFF  # bit rot on the server's disk
    data.write_bytes(bytes(damaged))
    with pytest.raises(InputError, match="peaks.parquet"):
        store.get("peaks.parquet", tmp_path / "peaks.parquet")
    assert not (tmp_path / "peaks.parquet").exists()


@pytest.mark.swift
def test_debug_logs_reveal_no_secret(swift_server, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="swiftclient")
    store = _swift_store(swift_server)
    store.put_bytes(b"x", "a.txt")
    assert store.list() == ["a.txt"]
    token = store.connection.get_auth()[1]
    assert "X-Auth-Token" in caplog.text  # swiftclient did log the requests
    assert token[5:13] not in caplog.text and swift_server.key not in caplog.text


@pytest.mark.swift
def test_storage_paths_as_users_type_them(swift_server, tmp_path, capsys):
    """``put FILE swift://c/prefix/``, ``ls swift://c/prefix/``, ``get swift://c/key LOCAL``."""
    config = tmp_path / "swift.json"
    config.write_text(json.dumps(swift_server.config()))
    local = tmp_path / "peaks.csv"
    local.write_text("peak_id\n1\n")
    container = f"url{uuid.uuid4().hex[:8]}"
    opts = ["--swift-config", str(config), "-q"]
    assert main(["storage", "put", str(local), f"swift://{container}/runs/r1/", *opts]) == 0
    assert capsys.readouterr().out.split() == ["runs/r1/peaks.csv"]
    assert main(["storage", "put", str(local), f"swift://{container}/other.csv", *opts]) == 0
    capsys.readouterr()
    assert main(["storage", "ls", f"swift://{container}/runs/", *opts]) == 0
    assert capsys.readouterr().out.split() == ["10", "runs/r1/peaks.csv"]
    back = tmp_path / "back.csv"
    assert main(["storage", "get", f"swift://{container}/runs/r1/peaks.csv", str(back), *opts]) == 0
    assert back.read_text() == "peak_id\n1\n"
    # The same object through --store and a key relative to it.
    store = ["--store", f"swift://{container}/runs"]
    assert main(["storage", "get", "r1/peaks.csv", str(tmp_path / "b2.csv"), *store, *opts]) == 0
    assert (tmp_path / "b2.csv").read_text() == "peak_id\n1\n"
    assert main(["storage", "rm", f"swift://{container}/other.csv", *opts]) == 0
    assert main(["storage", "ls", f"swift://{container}", *opts]) == 0
    assert capsys.readouterr().out.split()[-1] == "runs/r1/peaks.csv"
    assert main(["storage", "ls", "swift:///x", *opts]) == 2
    assert "no container" in capsys.readouterr().err


@pytest.mark.swift
def test_damaged_object_once_quarantined_is_not_called_missing(swift_server, tmp_path):
    """Swift quarantines an object whose data fails its MD5: the next GET is a 404, but the
    listing still shows it; the message must say so, not "not found" (issue #14, cause 12)."""
    store = _swift_store(swift_server, retries=0, starting_backoff=0.01)
    body = b"quarantine-test" * 300
    store.put_bytes(body, "peaks.parquet")
    (data,) = (p for p in (swift_server.base / "srv").rglob("*.data") if p.read_bytes() == body)
    data.write_bytes(body[:100] + b"X" + body[101:])
    with pytest.raises(InputError, match="MD5 does not match"):
        store.get("peaks.parquet", tmp_path / "a")
    deadline = time.monotonic() + 10
    while data.exists() and time.monotonic() < deadline:  # the object server quarantines it
        time.sleep(0.05)
    with pytest.raises(InputError) as err:
        store.get("peaks.parquet", tmp_path / "b")
    assert "quarantined" in str(err.value) and "not found" not in str(err.value)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.swift
@pytest.mark.timeout(120)
def test_server_stopped_mid_upload_is_one_line_and_keeps_the_old_object(swift_server, tmp_path):
    store = _swift_store(swift_server, retries=1, starting_backoff=0.01)
    store.put_bytes(b"good version", "big.bin")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(64 << 20))
    server = swift_server.procs["object"]
    start = _written_bytes(server.pid)
    errors: list[BaseException] = []

    def upload() -> None:
        try:
            store.put(big, "big.bin")
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            errors.append(exc)

    thread = threading.Thread(target=upload)
    thread.start()
    deadline = time.monotonic() + 60
    while _written_bytes(server.pid) - start < (16 << 20):
        assert thread.is_alive(), "upload finished before the server could be stopped"
        assert time.monotonic() < deadline
        time.sleep(0.001)
    os.killpg(server.pid, signal.SIGKILL)  # the object server dies mid-upload
    server.wait()
    thread.join(60)
    # Restart the object server with its configuration, for the check and the other tests.
    swift_server.procs["object"] = subprocess.Popen(
        server.args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert len(errors) == 1 and isinstance(errors[0], InputError), errors
    assert "\n" not in str(errors[0]) and "big.bin" in str(errors[0])
    deadline = time.monotonic() + 30
    while True:
        try:
            assert store.get_bytes("big.bin") == b"good version"
            break
        except InputError:
            assert time.monotonic() < deadline
            time.sleep(0.2)
