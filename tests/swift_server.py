"""A real single-node OpenStack Swift on 127.0.0.1 for the storage tests.

The servers run from a separate virtual environment with ``swift`` installed
(``make swift-venv`` creates ``.venv-swift``; ``OCO2EXPLORE_SWIFT_VENV``
overrides), so the test process never imports swift or eventlet. Recipe (see
``shared/swift/README.md``): tempauth with fernet tokens (no memcached), one
device per ring, ``workers = 0`` (no forking), every server bound to
127.0.0.1 in its own session, stopped by SIGTERM to its PID.
"""

from __future__ import annotations

import base64
import getpass
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
USER, KEY = "test:tester", "testing"
BACKENDS = ("account", "container", "object")
SERVERS = (*BACKENDS, "proxy")

_COMMON = """[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
bind_timeout = 3
user = {user}
swift_dir = {base}/etc
log_level = {level}
log_udp_host = 127.0.0.1
"""

_BACKEND = """devices = {base}/srv
mount_check = false
disable_fallocate = true

[pipeline:main]
pipeline = healthcheck {kind}-server

[app:{kind}-server]
use = egg:swift#{kind}

[filter:healthcheck]
use = egg:swift#healthcheck
"""

_FILTERS = (
    "catch_errors gatekeeper healthcheck proxy-logging listing_formats bulk tempurl tempauth "
    "copy slo dlo versioned_writes symlink proxy-logging"
)

_PROXY = """
[pipeline:main]
pipeline = {filters} proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = {key} .admin
fernet_key_1 = {fernet}
active_fernet_key_id = 1

[filter:tempurl]
use = egg:swift#tempurl
allowed_digests = sha256 sha512

[filter:proxy-logging]
use = egg:swift#proxy_logging
"""
#: Filters of the pipeline above that need no settings (section name = egg name).
_PLAIN_FILTERS = (
    "catch_errors gatekeeper healthcheck listing_formats bulk copy slo dlo versioned_writes symlink"
)

_RINGS = r"""
import sys
from swift.common.ring import RingBuilder
etc = sys.argv[1]
for arg in sys.argv[2:]:
    kind, port = arg.split("=")
    b = RingBuilder(6, 1, 1)  # part power, replicas, min_part_hours
    b.add_dev({"region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port),
               "device": "d1", "weight": 100.0})
    b.rebalance()
    b.save(f"{etc}/{kind}.builder")
    b.get_ring().save(f"{etc}/{kind}.ring.gz")
"""


@dataclass
class SwiftServer:
    """A running Swift: its auth URL, test credentials, folder and server processes."""

    base: Path
    auth_url: str
    user: str = USER
    key: str = KEY
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def config(self, **changes: str) -> dict[str, dict[str, str]]:
        """Settings in the seed's JSON layout (``{"swift_storage": {...}}``)."""
        section = {"auth_url": self.auth_url, "user": self.user, "key": self.key}
        section.update(changes)
        section["auth_version"] = "1"
        return {"swift_storage": section}


def swift_python() -> Path | None:
    """Python of the Swift venv, or ``None`` when it is not installed."""
    venv = Path(os.environ.get("OCO2EXPLORE_SWIFT_VENV", REPO / ".venv-swift"))
    python = venv / "bin" / "python"
    return python if (venv / "bin" / "swift-proxy-server").is_file() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_ok(url: str, headers: dict[str, str] | None = None) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=1):
            return True
    except (OSError, urllib.error.URLError):
        return False


def start(base: Path, python: Path, wait_s: float = 30.0) -> SwiftServer:
    """Write configs and rings under ``base`` (empty), start the four servers, wait for auth."""
    base = Path(base).resolve()
    etc, log = base / "etc", base / "log"
    for folder in (etc, log, base / "srv" / "d1"):
        folder.mkdir(parents=True, exist_ok=True)
    ports = {kind: _free_port() for kind in SERVERS}
    user = getpass.getuser()
    (etc / "swift.conf").write_text(
        f"[swift-hash]\nswift_hash_path_suffix = {os.urandom(8).hex()}\n"
        f"swift_hash_path_prefix = {os.urandom(8).hex()}\n\n"
        "[storage-policy:0]\nname = Policy-0\ndefault = yes\n"
    )
    for kind in BACKENDS:
        common = _COMMON.format(port=ports[kind], user=user, base=base, level="WARNING")
        (etc / f"{kind}-server.conf").write_text(common + _BACKEND.format(base=base, kind=kind))
    fernet = base64.urlsafe_b64encode(os.urandom(32)).decode()
    plain = "".join(
        f"\n[filter:{name}]\nuse = egg:swift#{name}\n" for name in _PLAIN_FILTERS.split()
    )
    (etc / "proxy-server.conf").write_text(
        _COMMON.format(port=ports["proxy"], user=user, base=base, level="INFO")
        + _PROXY.format(filters=_FILTERS, key=KEY, fernet=fernet)
        + plain
    )
    subprocess.run(
        [str(python), "-c", _RINGS, str(etc)] + [f"{k}={ports[k]}" for k in BACKENDS],
        check=True,
    )
    server = SwiftServer(base, f"http://127.0.0.1:{ports['proxy']}/auth/v1.0")
    for kind in SERVERS:
        with open(log / f"{kind}.log", "ab") as out:
            proc = subprocess.Popen(
                [str(python.parent / f"swift-{kind}-server"), str(etc / f"{kind}-server.conf")]
                + ["-v"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Swift may killpg() its own process group
            )
        server.procs[kind] = proc
    deadline = time.monotonic() + wait_s
    auth = {"X-Auth-User": USER, "X-Auth-Key": KEY}
    while not (
        all(_get_ok(f"http://127.0.0.1:{ports[k]}/healthcheck") for k in SERVERS)
        and _get_ok(server.auth_url, auth)
    ):
        dead = [k for k, proc in server.procs.items() if proc.poll() is not None]
        if dead or time.monotonic() > deadline:
            stop(server)
            raise RuntimeError(f"Swift did not start ({dead or 'timeout'}); see {log}")
        time.sleep(0.05)
    return server


def stop(server: SwiftServer, timeout_s: float = 10.0) -> None:
    """SIGTERM every server, SIGKILL those still alive after ``timeout_s``."""
    for proc in server.procs.values():
        proc.terminate()
    for proc in server.procs.values():
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    server.procs.clear()
