"""Datasets store: one interface over a local folder and an OpenStack Swift container.

``open_store("results/")`` gives a :class:`LocalStore`,
``open_store("swift://container/prefix")`` a :class:`SwiftStore` (via
``python-swiftclient``). Both offer ``list(prefix)``, ``put(local, key)``,
``get(key, local)``, ``delete(key)``, ``exists(key)``, ``stat(key)`` and
``url(key)``; keys are relative POSIX paths such as ``catalogue/peaks_2016-08.csv``.

Integrity
    Every transfer is checked with MD5: a Swift upload sends the file's MD5 as
    ``ETag``, so the server refuses a body that arrived damaged, and the ETag
    it returns is compared again; a download is hashed while streaming and
    compared with the object's ETag. Failed transfers are retried with
    exponential backoff (swiftclient's ``retries``/``starting_backoff``).

No half objects
    A local write goes to a temporary name beside the target and is renamed
    onto it only once complete and verified. A Swift object becomes visible
    only when the proxy has received the whole body with a matching ETag, so
    an interrupted upload leaves the previous object (or nothing) in place,
    never a truncated one. Multi-file results (the batch pipeline) follow the
    *marker-last* rule on top of this: a file's ``done.json`` is written after
    its outputs, and a run's ``manifest.json`` after everything else.

Credentials
    Swift credentials come from, in this order: ``swift_config`` (a JSON file
    or dict in the seed's layout ``{"swift_storage": {"user", "key",
    "auth_url", "tenant_name", "auth_version", "options", "base_url"}}``), the
    swift CLI's v1 variables ``ST_AUTH``/``ST_USER``/``ST_KEY``, or Keystone
    ``OS_*`` variables (``OS_AUTH_URL``, ``OS_USERNAME``, ``OS_PASSWORD``,
    ``OS_PROJECT_NAME``, ...; or ``OS_STORAGE_URL`` + ``OS_AUTH_TOKEN``). They are
    never printed or logged; error messages name the auth URL only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import mimetypes
import os
import posixpath
import shutil
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .tableio import atomic_path

log = logging.getLogger(__name__)

SWIFT_SCHEME = "swift://"
#: Largest single Swift object (OpenStack Swift default ``max_file_size``), bytes.
SWIFT_MAX_OBJECT_BYTES = 5 * 1024**3
#: ACL that lets anyone GET objects and list the container (Swift container ACL syntax).
PUBLIC_READ_ACL = ".r:*,.rlistings"
_CHUNK = 1 << 20


def md5_file(path: str | Path) -> str:
    """Hex MD5 of a file (the Swift ETag of a simple object)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_key(key: str) -> str:
    """Validate an object key: relative POSIX path without ``.``/``..`` parts."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InputError(f"invalid storage key {key!r} (want a relative path like 'a/b.csv')")
    return key


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object: its key, size in bytes and MD5 (hex, ``None`` when unknown)."""

    key: str
    size: int
    md5: str | None


class Store:
    """The datasets-store interface; see :class:`LocalStore` and :class:`SwiftStore`."""

    def list_info(self, prefix: str = "") -> list[ObjectInfo]:
        """Objects whose key starts with ``prefix``, sorted by key."""
        raise NotImplementedError

    def put(self, local: str | Path, key: str) -> ObjectInfo:
        """Upload the file ``local`` as ``key`` (atomic, MD5-verified)."""
        raise NotImplementedError

    def get(self, key: str, local: str | Path) -> Path:
        """Download ``key`` to the file ``local`` (atomic, MD5-verified)."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is an :class:`InputError`."""
        raise NotImplementedError

    def stat(self, key: str) -> ObjectInfo | None:
        """Size and MD5 of ``key``, or ``None`` when it does not exist."""
        raise NotImplementedError

    def url(self, key: str) -> str:
        """Address of ``key`` for readers (public URL when ``base_url`` is set)."""
        raise NotImplementedError

    def list(self, prefix: str = "") -> list[str]:
        """Keys starting with ``prefix``, sorted."""
        return [info.key for info in self.list_info(prefix)]

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        return self.stat(key) is not None

    def local_path(self, key: str, scratch: str | Path) -> Path:
        """A local file with the content of ``key``: downloaded into ``scratch`` if needed."""
        return self.get(key, Path(scratch) / posixpath.basename(key))

    def put_bytes(self, data: bytes, key: str) -> ObjectInfo:
        """Store ``data`` as ``key`` (same guarantees as :meth:`put`)."""
        with tempfile.TemporaryDirectory(prefix="oco2explore-") as tmp:
            path = Path(tmp) / "object"
            path.write_bytes(data)
            return self.put(path, key)

    def get_bytes(self, key: str) -> bytes:
        """Content of ``key``."""
        with tempfile.TemporaryDirectory(prefix="oco2explore-") as tmp:
            return self.get(key, Path(tmp) / "object").read_bytes()


class LocalStore(Store):
    """A folder as a store; keys are paths relative to ``root``.

    Parameters
    ----------
    root : str or Path
        The folder (created on the first write).
    base_url : str, optional
        Public URL of the folder (e.g. a web server's); ``url()`` gives
        ``file://`` URIs without it.
    """

    def __init__(self, root: str | Path, base_url: str | None = None) -> None:
        self.root = Path(root).expanduser().resolve()
        self.base_url = base_url

    def __str__(self) -> str:
        return str(self.root)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """The file holding ``key``."""
        return self.root / check_key(key)

    def list_info(self, prefix: str = "") -> list[ObjectInfo]:
        if not self.root.is_dir():
            return []
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if name.startswith(".") and name.endswith(".tmp"):
                    continue  # an atomic write in progress (tableio.atomic_path)
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    size = (Path(dirpath) / name).stat().st_size
                    found.append(ObjectInfo(key, size, None))
        return sorted(found, key=lambda info: info.key)

    def stat(self, key: str) -> ObjectInfo | None:
        path = self.path(key)
        if not path.is_file():
            return None
        return ObjectInfo(key, path.stat().st_size, md5_file(path))

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def get_bytes(self, key: str) -> bytes:
        return self.local_path(key, self.root).read_bytes()

    def put(self, local: str | Path, key: str) -> ObjectInfo:
        local = Path(local)
        if not local.is_file():
            raise InputError("no such file to upload", path=local)
        md5 = md5_file(local)
        _copy_verified(local, self.path(key), md5)
        log.debug("stored %s in %s", key, self)
        return ObjectInfo(key, local.stat().st_size, md5)

    def get(self, key: str, local: str | Path) -> Path:
        source = self.path(key)
        if not source.is_file():
            raise InputError(f"no object {key!r} in {self}")
        local = Path(local)
        if source.resolve() != local.resolve():
            _copy_verified(source, local, md5_file(source))
        return local

    def local_path(self, key: str, scratch: str | Path) -> Path:
        path = self.path(key)
        if not path.is_file():
            raise InputError(f"no object {key!r} in {self}")
        return path

    def delete(self, key: str) -> None:
        path = self.path(key)
        if not path.is_file():
            raise InputError(f"no object {key!r} in {self}")
        path.unlink()

    def url(self, key: str) -> str:
        if self.base_url:
            return _join_url(self.base_url, check_key(key))
        return self.path(key).as_uri()


def _copy_verified(source: Path, dest: Path, md5: str) -> None:
    """Copy ``source`` to ``dest`` through a temporary file; rename only if the MD5 matches."""
    with atomic_path(dest) as tmp:
        shutil.copyfile(source, tmp)
        got = md5_file(tmp)
        if got != md5:
            raise InputError(f"copy of {source} is corrupt (MD5 {got} != {md5})", path=dest)


def _join_url(base: str, key: str) -> str:
    return base.rstrip("/") + "/" + urllib.parse.quote(key)


# --- Swift ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwiftAuth:
    """Connection settings of a Swift account; secrets are kept out of ``repr``.

    Attributes
    ----------
    auth_url : str
        Authentication endpoint (``.../auth/v1.0`` for v1, Keystone for 2/3).
    user, key : str
        User name and key/password.
    auth_version : str
        ``"1"`` (tempauth/swauth), ``"2.0"`` or ``"3"`` (Keystone).
    tenant_name : str, optional
        Project (tenant) for Keystone.
    os_options : dict
        Extra Keystone options (``region_name``, ``user_domain_name``, ...).
    storage_url, auth_token : str, optional
        A pre-authenticated endpoint and token (skip authentication).
    base_url : str, optional
        Public URL of the container, used by :meth:`SwiftStore.url`.
    """

    auth_url: str | None = None
    user: str | None = field(default=None, repr=False)
    key: str | None = field(default=None, repr=False)
    auth_version: str = "1"
    tenant_name: str | None = field(default=None, repr=False)
    os_options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    storage_url: str | None = None
    auth_token: str | None = field(default=None, repr=False)
    base_url: str | None = None

    @classmethod
    def from_config(cls, config: str | Path | Mapping[str, Any]) -> SwiftAuth:
        """Settings from the seed's JSON layout (a file or the parsed dict).

        Accepts ``{"swift_storage": {...}}`` or the inner dict with keys
        ``user, key, auth_url, tenant_name, auth_version, options, base_url``.
        """
        source = None
        if not isinstance(config, Mapping):
            source = Path(config)
            try:
                config = json.loads(source.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                reason = " ".join(str(exc).split()) or type(exc).__name__
                raise InputError(
                    f"cannot read Swift configuration: {reason}", path=source
                ) from None
        section = config.get("swift_storage", config) if isinstance(config, Mapping) else None
        if not isinstance(section, Mapping) or not isinstance(section.get("auth_url"), str):
            raise InputError(
                "Swift configuration needs {'swift_storage': {'auth_url', 'user', 'key', ...}}",
                path=source,
            )
        texts = ("auth_url", "user", "key", "auth_version", "tenant_name", "base_url")
        wrong = [k for k in texts if not isinstance(section.get(k, ""), (str, int, type(None)))]
        if wrong or not isinstance(section.get("options") or {}, Mapping):
            raise InputError(
                f"Swift configuration: {', '.join(wrong) or 'options'} must be "
                + ("text" if wrong else "an object of Keystone options"),
                path=source,
            )
        return cls(
            auth_url=section["auth_url"],
            user=section.get("user"),
            key=section.get("key"),
            auth_version=str(section.get("auth_version", "1")),
            tenant_name=section.get("tenant_name"),
            os_options=dict(section.get("options") or {}),
            base_url=section.get("base_url"),
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SwiftAuth:
        """Settings from ``ST_AUTH/ST_USER/ST_KEY`` (v1) or Keystone ``OS_*`` variables."""
        env = os.environ if environ is None else environ
        if env.get("ST_AUTH"):
            return cls(
                auth_url=env["ST_AUTH"],
                user=env.get("ST_USER"),
                key=env.get("ST_KEY"),
                base_url=env.get("OCO2EXPLORE_SWIFT_BASE_URL"),
            )
        if env.get("OS_STORAGE_URL") and env.get("OS_AUTH_TOKEN"):
            return cls(
                storage_url=env["OS_STORAGE_URL"],
                auth_token=env["OS_AUTH_TOKEN"],
                base_url=env.get("OCO2EXPLORE_SWIFT_BASE_URL"),
            )
        if env.get("OS_AUTH_URL"):
            names = {
                "OS_REGION_NAME": "region_name",
                "OS_USER_DOMAIN_NAME": "user_domain_name",
                "OS_USER_DOMAIN_ID": "user_domain_id",
                "OS_PROJECT_DOMAIN_NAME": "project_domain_name",
                "OS_PROJECT_DOMAIN_ID": "project_domain_id",
                "OS_PROJECT_ID": "project_id",
                "OS_PROJECT_NAME": "project_name",
                "OS_INTERFACE": "endpoint_type",
            }
            options = {opt: env[var] for var, opt in names.items() if env.get(var)}
            return cls(
                auth_url=env["OS_AUTH_URL"],
                user=env.get("OS_USERNAME"),
                key=env.get("OS_PASSWORD"),
                auth_version=env.get("OS_IDENTITY_API_VERSION", "3"),
                tenant_name=env.get("OS_PROJECT_NAME") or env.get("OS_TENANT_NAME"),
                os_options=options,
                base_url=env.get("OCO2EXPLORE_SWIFT_BASE_URL"),
            )
        raise InputError(
            "no Swift credentials: set ST_AUTH/ST_USER/ST_KEY or OS_AUTH_URL/OS_USERNAME/"
            "OS_PASSWORD/OS_PROJECT_NAME, or pass a JSON config (--swift-config)"
        )

    @property
    def where(self) -> str:
        """Endpoint named in messages (never the secrets)."""
        return self.auth_url or self.storage_url or "?"


class _ChecksumMismatch(Exception):
    """A downloaded body does not match its ETag (retried by :meth:`SwiftStore.get`)."""


class SwiftStore(Store):
    """A Swift container (optionally a pseudo-folder ``prefix`` in it) as a store.

    Parameters
    ----------
    container : str
        Container name; created on the first upload.
    prefix : str
        Pseudo-folder inside the container; keys are relative to it.
    auth : SwiftAuth
        Connection settings.
    retries : int
        Retries of a failed request (swiftclient), and of a download whose MD5
        does not match.
    starting_backoff, max_backoff : float
        First and longest wait between retries, seconds (doubling in between).
    timeout : float
        Socket timeout, seconds.
    """

    def __init__(
        self,
        container: str,
        prefix: str = "",
        auth: SwiftAuth | None = None,
        retries: int = 5,
        starting_backoff: float = 1.0,
        max_backoff: float = 64.0,
        timeout: float = 60.0,
    ) -> None:
        if not container or "/" in container:
            raise InputError(f"invalid Swift container name {container!r}")
        self.container = container
        self.prefix = prefix.strip("/")
        self.auth = auth if auth is not None else SwiftAuth.from_env()
        self.retries = retries
        self.starting_backoff = starting_backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self._local = threading.local()

    # Connections are per thread (swiftclient's are not thread-safe) and never pickled:
    # a store shipped to a Dask worker reconnects there.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_local"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def __str__(self) -> str:
        return SWIFT_SCHEME + self.container + (f"/{self.prefix}" if self.prefix else "")

    def __repr__(self) -> str:
        return f"SwiftStore({str(self)!r}, auth_url={self.auth.where!r})"

    @property
    def connection(self) -> Any:
        """This thread's ``swiftclient.Connection``."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            from swiftclient import client

            # swiftclient logs up to 16 characters of tokens at DEBUG: reveal none, and
            # keep its INFO lines (every expected 404) out of the user's terminal.
            client.logger_settings["reveal_sensitive_prefix"] = 0
            if not log.isEnabledFor(logging.DEBUG):
                logging.getLogger("swiftclient").setLevel(logging.WARNING)
            a = self.auth
            conn = client.Connection(
                authurl=a.auth_url,
                user=a.user,
                key=a.key,
                auth_version=a.auth_version,
                tenant_name=a.tenant_name,
                os_options=dict(a.os_options),
                preauthurl=a.storage_url,
                preauthtoken=a.auth_token,
                retries=self.retries,
                starting_backoff=self.starting_backoff,
                max_backoff=self.max_backoff,
                timeout=self.timeout,
            )
            self._local.conn = conn
        return conn

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Turn swiftclient/requests failures into one-line :class:`InputError`."""
        from requests.exceptions import RequestException
        from swiftclient.exceptions import ClientException

        try:
            yield
        except ClientException as exc:
            status = exc.http_status
            if status == 401 or "Unauthorized" in str(exc) or "Auth GET failed" in str(exc):
                raise InputError(
                    f"Swift authentication failed at {self.auth.where} "
                    f"(HTTP {status}): check the user and key"
                ) from None
            if status == 404:
                raise InputError(f"{what}: not found in {self}") from None
            if status is None and "keystoneclient" in str(exc):
                raise InputError(
                    "Keystone authentication (auth_version 2.0 or 3) needs the "
                    "python-keystoneclient package: pip install python-keystoneclient"
                ) from None
            reason = f"HTTP {status} {exc.http_reason or ''}" if status else str(exc)
            raise InputError(f"{what} in {self} failed: {' '.join(reason.split())}") from None
        except RequestException as exc:
            raise InputError(
                f"cannot reach Swift at {self.auth.where}: {type(exc).__name__}"
            ) from None

    def storage_url(self) -> str:
        """The account URL (after authentication)."""
        with self._errors("authentication"):
            url, _token = self.connection.get_auth()
        return url

    def list_info(self, prefix: str = "") -> list[ObjectInfo]:
        from swiftclient.exceptions import ClientException

        full = f"{self.prefix}/{prefix}" if self.prefix else prefix
        with self._errors("listing"):
            try:
                _headers, objects = self.connection.get_container(
                    self.container, prefix=full, full_listing=True
                )
            except ClientException as exc:
                if exc.http_status == 404:  # no container yet: an empty store
                    return []
                raise
        cut = len(self.prefix) + 1 if self.prefix else 0
        return [
            ObjectInfo(obj["name"][cut:], int(obj["bytes"]), obj.get("hash"))
            for obj in objects
            if "name" in obj
        ]

    def stat(self, key: str) -> ObjectInfo | None:
        from swiftclient.exceptions import ClientException

        with self._errors(f"HEAD {key}"):
            try:
                headers = self.connection.head_object(self.container, self._name(key))
            except ClientException as exc:
                if exc.http_status == 404:
                    return None
                raise
        return ObjectInfo(key, int(headers.get("content-length", 0)), _plain_etag(headers))

    def _ensure_container(self) -> None:
        from swiftclient.exceptions import ClientException

        if getattr(self._local, "container_ok", False):
            return
        with self._errors("creating the container"):
            try:
                self.connection.head_container(self.container)
            except ClientException as exc:
                if exc.http_status != 404:
                    raise
                self.connection.put_container(self.container)
        self._local.container_ok = True

    def put(self, local: str | Path, key: str) -> ObjectInfo:
        local = Path(local)
        if not local.is_file():
            raise InputError("no such file to upload", path=local)
        size = local.stat().st_size
        if size > SWIFT_MAX_OBJECT_BYTES:
            raise InputError("larger than a single Swift object (5 GiB)", path=local)
        md5 = md5_file(local)
        self._ensure_container()
        content_type = mimetypes.guess_type(local.name)[0] or "application/octet-stream"
        with self._errors(f"upload of {key}"), open(local, "rb") as f:
            # The proxy checks the body against this ETag and stores nothing on mismatch
            # or on a short body; swiftclient rewinds the file when it retries.
            etag = self.connection.put_object(
                self.container,
                self._name(key),
                f,
                content_length=size,
                etag=md5,
                content_type=content_type,
            )
        if etag != md5:
            raise InputError(f"upload of {key} to {self}: server ETag {etag} != MD5 {md5}")
        log.debug("uploaded %s (%d bytes) to %s", key, size, self)
        return ObjectInfo(key, size, md5)

    def get(self, key: str, local: str | Path) -> Path:
        local = Path(local)
        try:
            return self._get(key, local)
        except InputError as exc:
            # Swift quarantines an object whose data fails its checksum: the listing
            # still shows it, but a GET answers 404. Say so rather than "not found".
            if "not found" not in exc.reason or not any(
                info.key == key for info in self.list_info(key)
            ):
                raise
            raise InputError(
                f"download of {key} from {self}: listed but its data is gone (quarantined by "
                "Swift after a checksum failure?); upload it again"
            ) from None

    def _get(self, key: str, local: Path) -> Path:
        for attempt in range(self.retries + 1):
            try:
                with self._errors(f"download of {key}"), atomic_path(local) as tmp:
                    headers, body = self.connection.get_object(
                        self.container, self._name(key), resp_chunk_size=_CHUNK
                    )
                    digest = hashlib.md5(usedforsecurity=False)
                    with open(tmp, "wb") as f:
                        for chunk in body:
                            digest.update(chunk)
                            f.write(chunk)
                    expected = _plain_etag(headers)
                    if expected is not None and digest.hexdigest() != expected:
                        raise _ChecksumMismatch  # leaves ``local`` untouched
                return local
            except _ChecksumMismatch:
                log.warning("download of %s from %s: MD5 mismatch (try %d)", key, self, attempt + 1)
        raise InputError(f"download of {key} from {self}: MD5 does not match the ETag")

    def delete(self, key: str) -> None:
        with self._errors(f"delete of {key}"):
            self.connection.delete_object(self.container, self._name(key))

    def url(self, key: str) -> str:
        name = self._name(key)
        if self.auth.base_url:
            return _join_url(self.auth.base_url, name)
        return _join_url(self.storage_url(), f"{self.container}/{name}")

    def set_public(self, public: bool = True) -> None:
        """Let anyone read and list the container by plain HTTP (``X-Container-Read``)."""
        self._ensure_container()
        with self._errors("setting the container ACL"):
            self.connection.post_container(
                self.container, {"X-Container-Read": PUBLIC_READ_ACL if public else ""}
            )


def _plain_etag(headers: Mapping[str, str]) -> str | None:
    """The MD5 ETag of a simple object; ``None`` for large-object manifests (no plain MD5)."""
    if headers.get("x-static-large-object") or headers.get("x-object-manifest"):
        return None
    etag = headers.get("etag")
    return etag.strip('"') if etag else None


def is_swift_url(location: str | Path) -> bool:
    """Whether ``location`` is a ``swift://container[/prefix]`` URL."""
    return str(location).startswith(SWIFT_SCHEME)


def split_swift_url(location: str) -> tuple[str, str]:
    """``swift://container/key/or/prefix/`` -> ``(container, "key/or/prefix/")``.

    Raises
    ------
    InputError
        No container name.
    """
    container, _, rest = str(location)[len(SWIFT_SCHEME) :].partition("/")
    if not container:
        raise InputError(f"no container in {location!r}; use swift://CONTAINER/KEY")
    return container, rest


def open_store(
    location: str | Path,
    swift_config: str | Path | Mapping[str, Any] | None = None,
    **swift_options: Any,
) -> Store:
    """Open a folder or ``swift://container[/prefix]`` as a :class:`Store`.

    Parameters
    ----------
    location : str or Path
        A local folder, or ``swift://container`` / ``swift://container/prefix``.
    swift_config : str, Path or dict, optional
        Swift settings in the seed's JSON layout; the environment otherwise
        (see the module docstring).
    **swift_options
        Passed to :class:`SwiftStore` (``retries``, ``starting_backoff``, ...).

    Returns
    -------
    Store
    """
    if isinstance(location, Store):
        return location
    if not is_swift_url(location):
        return LocalStore(location)
    container, prefix = split_swift_url(str(location))
    prefix = prefix.strip("/")
    auth = SwiftAuth.from_config(swift_config) if swift_config else SwiftAuth.from_env()
    return SwiftStore(container, prefix, auth=auth, **swift_options)


# --- trees of files ------------------------------------------------------------------------


def put_tree(store: Store, local: str | Path, key: str | None = None) -> Iterator[str]:
    """Upload a file, or a folder recursively, to ``key`` (default: its name); yields the keys."""
    local = Path(local)
    if local.is_dir():
        base = (key if key is not None else local.name).rstrip("/")
        for path in sorted(p for p in local.rglob("*") if p.is_file()):
            rel = path.relative_to(local).as_posix()
            yield store.put(path, f"{base}/{rel}" if base else rel).key
    else:
        yield store.put(local, key or local.name).key


def get_tree(store: Store, key: str, local: str | Path | None = None) -> Iterator[Path]:
    """Download an object, or every object under the pseudo-folder ``key``; yields the files.

    ``local`` defaults to the key's base name; an existing folder receives the object
    under its base name, as ``cp`` does.
    """
    local = None if local is None else Path(local)
    if key and not key.endswith("/") and store.exists(key):
        dest = local or Path(posixpath.basename(key))
        if dest.is_dir():
            dest = dest / posixpath.basename(key)
        yield store.get(key, dest)
        return
    folder = key.rstrip("/") + "/" if key.strip("/") else ""
    keys = store.list(folder)
    if not keys:
        raise InputError(f"no object {key!r} in {store}")
    root = local or Path(posixpath.basename(key.rstrip("/")) or ".")
    for k in keys:
        yield store.get(k, root / k[len(folder) :])
