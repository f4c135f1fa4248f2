"""Optional download of real OCO-2/OCO-3 Lite files from NASA GES DISC (via ``earthaccess``).

The Lite files (collection ``OCO2_L2_Lite_FP``; OCO-3: ``OCO3_L2_Lite_FP``) are free but
need a NASA Earthdata login (https://urs.earthdata.nasa.gov, with the "NASA GESDISC DATA
ARCHIVE" application authorised). Install the optional package with
``pip install 'oco2explore[nasa]'`` and provide the login without prompts, either as
``EARTHDATA_USERNAME`` + ``EARTHDATA_PASSWORD`` (or ``EARTHDATA_TOKEN``) in the environment
or as a ``~/.netrc`` line ``machine urs.earthdata.nasa.gov login USER password PASS``.
Then::

    oco2explore nasa 2016-08-31 2016-09-02 --out lite/
    oco2explore nasa 2020-03-01 --collection OCO3_L2_Lite_FP --out swift://lite/oco3

or from Python ``download_lite("2016-08-31", "2016-09-02", store="lite/")``. Each daily
file is downloaded into a temporary folder and put into the store (a folder or
``swift://container/prefix``, see :mod:`oco2explore.storage`) atomically; files already in
the store are skipped, so an interrupted download is resumed by running it again. The
result feeds ``oco2explore run lite/ --out results/``. Without network, login or
``earthaccess`` the command says so in one line (exit status 2). Credentials are never
printed or logged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import posixpath
import socket
import tempfile
import urllib.parse
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from tqdm.auto import tqdm

from .errors import InputError
from .storage import Store, open_store

log = logging.getLogger(__name__)

#: Lite collections at GES DISC (CMR short names).
COLLECTIONS = {"OCO-2": "OCO2_L2_Lite_FP", "OCO-3": "OCO3_L2_Lite_FP"}
#: NASA Earthdata Login host (the ``machine`` of the ``.netrc`` entry).
EARTHDATA_LOGIN_HOST = "urs.earthdata.nasa.gov"

INSTALL_MESSAGE = (
    "NASA download needs the optional package earthaccess: pip install 'oco2explore[nasa]'"
)
LOGIN_MESSAGE = (
    "no NASA Earthdata login: set EARTHDATA_USERNAME and EARTHDATA_PASSWORD (or "
    f"EARTHDATA_TOKEN), or add 'machine {EARTHDATA_LOGIN_HOST} login USER password PASS' "
    "to ~/.netrc (free account: https://urs.earthdata.nasa.gov)"
)


def _import_earthaccess() -> ModuleType:
    """The ``earthaccess`` module, or an :class:`InputError` telling how to install it."""
    try:
        import earthaccess
    except ImportError:
        raise InputError(INSTALL_MESSAGE) from None
    return earthaccess


def parse_day(value: str | dt.date) -> dt.date:
    """A calendar day from ``YYYY-MM-DD`` (or a ``date``); one-line error otherwise."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"invalid date {value!r} (want YYYY-MM-DD)") from None


def day_range(start: str | dt.date, end: str | dt.date | None = None) -> tuple[dt.date, dt.date]:
    """First and last day (``end`` defaults to ``start``); one-line error if reversed."""
    first = parse_day(start)
    last = parse_day(end) if end is not None else first
    if last < first:
        raise InputError(f"end day {last} is before start day {first}")
    return first, last


def parse_bbox(bbox: str | Sequence[float] | None) -> tuple[float, float, float, float] | None:
    """Bounding box ``(west, south, east, north)`` in degrees, from a sequence or ``"W,S,E,N"``."""
    if bbox is None:
        return None
    parts = bbox.split(",") if isinstance(bbox, str) else list(bbox)
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise InputError(f"invalid bounding box {bbox!r} (want W,S,E,N in degrees)") from None
    lon_ok = all(-180.0 <= v <= 180.0 for v in (west, east))
    if not (lon_ok and -90.0 <= south < north <= 90.0):
        raise InputError(
            f"invalid bounding box {bbox!r}: want -180 <= W, E <= 180 and -90 <= S < N <= 90"
        )
    return west, south, east, north


def _network_reason(exc: BaseException) -> str:
    """Short cause of a failed request: host and DNS failure, timeout or refusal."""
    request = getattr(exc, "request", None)
    host = urllib.parse.urlsplit(request.url).hostname if request is not None else None
    cause: BaseException | None = exc
    reason = type(exc).__name__
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            reason = "DNS lookup failed"
            break
        if isinstance(cause, TimeoutError) or "Timeout" in type(cause).__name__:
            reason = "timed out"
            break
        if isinstance(cause, ConnectionRefusedError):
            reason = "connection refused"
            break
        cause = cause.__cause__ or cause.__context__
    return f"{host}: {reason}" if host else reason


@contextlib.contextmanager
def _earthdata_errors() -> Iterator[None]:
    """Turn ``earthaccess``/``requests`` failures into one-line :class:`InputError`.

    ``earthaccess`` logs its own multi-line errors (some with server replies), so its
    logger is silenced meanwhile unless this module logs at DEBUG; its API-change
    ``FutureWarning`` (about its own internals) is not shown to our users either.
    """
    import requests
    from earthaccess.exceptions import DownloadFailure, EulaNotAccepted, LoginAttemptFailure

    ea_log = logging.getLogger("earthaccess")
    level = ea_log.level
    if not log.isEnabledFor(logging.DEBUG):
        ea_log.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module="earthaccess")
            yield
    except LoginAttemptFailure:
        raise InputError(
            "NASA Earthdata Login rejected the login (check EARTHDATA_USERNAME/"
            "EARTHDATA_PASSWORD, EARTHDATA_TOKEN or ~/.netrc)"
        ) from None
    except EulaNotAccepted:
        raise InputError(
            f"accept the GES DISC data licence at https://{EARTHDATA_LOGIN_HOST} "
            "(Applications > Authorized Apps: 'NASA GESDISC DATA ARCHIVE') and retry"
        ) from None
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise InputError(f"NASA Earthdata refused a request (HTTP {status})") from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise InputError(f"cannot reach NASA Earthdata ({_network_reason(exc)})") from None
    except (DownloadFailure, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"NASA Earthdata request failed: {first[:200]}") from None
    finally:
        ea_log.setLevel(level)


def login() -> None:
    """Log in to NASA Earthdata without prompting: environment first, then ``~/.netrc``.

    Raises
    ------
    InputError
        No credentials found (naming the variables and file to set), credentials
        rejected, or Earthdata unreachable.
    """
    earthaccess = _import_earthaccess()
    from earthaccess.exceptions import LoginStrategyUnavailable

    with _earthdata_errors():
        for strategy in ("environment", "netrc"):
            try:
                auth = earthaccess.login(strategy=strategy)
            except LoginStrategyUnavailable as exc:
                log.debug("Earthdata login via %s unavailable: %s", strategy, exc)
                continue
            if auth.authenticated:
                log.debug("logged in to NASA Earthdata (%s)", strategy)
                return
    raise InputError(LOGIN_MESSAGE)


def search_lite(
    start: str | dt.date,
    end: str | dt.date | None = None,
    *,
    collection: str = COLLECTIONS["OCO-2"],
    version: str | None = None,
    bbox: str | Sequence[float] | None = None,
) -> list[Any]:
    """Granules of a Lite collection from ``start`` to ``end`` (whole days, inclusive).

    Parameters
    ----------
    start, end : str or date
        First and last day, ``YYYY-MM-DD`` (``end`` defaults to ``start``).
    collection : str
        CMR short name: ``OCO2_L2_Lite_FP`` or ``OCO3_L2_Lite_FP``.
    version : str, optional
        Collection version (e.g. ``"11.1r"``); all versions otherwise.
    bbox : str or sequence of float, optional
        ``(west, south, east, north)`` in degrees. Lite files are daily and global,
        so this drops only days that never cross the box.

    Returns
    -------
    list of earthaccess.DataGranule
    """
    first, last = day_range(start, end)
    query: dict[str, Any] = {
        "short_name": collection,
        "temporal": (first.isoformat(), last.isoformat()),
    }
    if version:
        query["version"] = version
    box = parse_bbox(bbox)
    if box is not None:
        query["bounding_box"] = box
    earthaccess = _import_earthaccess()
    with _earthdata_errors():
        granules = earthaccess.search_data(**query)
    log.info("%d %s granules from %s to %s", len(granules), collection, first, last)
    return granules


def granule_files(granule: Any) -> list[str]:
    """File names of a granule's download links (``earthaccess.DataGranule``)."""
    return [posixpath.basename(urllib.parse.urlsplit(url).path) for url in granule.data_links()]


def download_lite(
    start: str | dt.date,
    end: str | dt.date | None = None,
    store: str | Path | Store = ".",
    *,
    collection: str = COLLECTIONS["OCO-2"],
    version: str | None = None,
    bbox: str | Sequence[float] | None = None,
    progress: bool = True,
    swift_config: str | Path | None = None,
) -> list[str]:
    """Download Lite files of ``start`` to ``end`` from NASA GES DISC into ``store``.

    Logs in (:func:`login`, so a missing login is reported before any network use),
    searches the collection (:func:`search_lite`), skips granules whose files are all
    in the store already, downloads each other granule into a temporary folder and puts
    its files into the store (atomic, MD5-verified :meth:`Store.put`).

    Parameters
    ----------
    start, end : str or date
        First and last day, ``YYYY-MM-DD`` (``end`` defaults to ``start``).
    store : str, Path or Store
        Destination folder or ``swift://container[/prefix]``; keys are the file names.
    collection, version, bbox
        As for :func:`search_lite` (``OCO3_L2_Lite_FP`` for OCO-3).
    progress : bool
        Show a progress bar over the granules.
    swift_config : str or Path, optional
        Swift settings for a ``swift://`` store (see :func:`~oco2explore.storage.open_store`).

    Returns
    -------
    list of str
        Keys written to the store (skipped files are not listed).

    Raises
    ------
    InputError
        ``earthaccess`` missing, no or rejected login, NASA Earthdata unreachable, or a
        bad date/box; always one line.
    """
    first, last = day_range(start, end)
    box = parse_bbox(bbox)
    target = open_store(store, swift_config=swift_config)
    login()
    granules = search_lite(first, last, collection=collection, version=version, bbox=box)
    todo = []
    for granule in granules:
        names = granule_files(granule)
        if names and all(target.exists(name) for name in names):
            log.info("already in %s: %s", target, ", ".join(names))
        else:
            todo.append(granule)
    if not todo:
        return []
    earthaccess = _import_earthaccess()
    written: list[str] = []
    bar = tqdm(todo, desc=f"{collection} download", unit="file", disable=not progress)
    with tempfile.TemporaryDirectory(prefix="oco2explore-nasa-") as tmp:
        for granule in bar:
            with _earthdata_errors():
                paths = earthaccess.download([granule], tmp, threads=1, show_progress=False)
            if not paths:
                raise InputError(f"NASA Earthdata returned no file for {granule_files(granule)}")
            for path in map(Path, paths):
                written.append(target.put(path, path.name).key)
                path.unlink()
    log.info("%d Lite files written to %s", len(written), target)
    return written
