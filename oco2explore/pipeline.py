"""The batch: many Lite files -> peaks -> matched sources, in parallel on Dask, resumable.

:func:`run_pipeline` runs, for every input file, *read -> detect -> match* as one
``dask.distributed`` task (a :class:`~distributed.LocalCluster` by default, any
running scheduler when given) and then assembles monthly catalogues. INPUT and
OUTPUT are folders or ``swift://container/prefix`` URLs (:mod:`oco2explore.storage`).

Output layout (keys relative to OUTPUT)::

    files/<input stem>/peaks.parquet      peak table of one input file (CONTRACT §2)
    files/<input stem>/matches.parquet    its ranked candidate sources (CONTRACT §3)
    files/<input stem>/windows.parquet    soundings within ±half_width_km of each passed
                                          peak, with the column ``peak_id``
    files/<input stem>/done.json          marker, written last: input MD5, config hash, counts
    catalogue/peaks_YYYY-MM.parquet|.csv      all peaks of the month (every input file of it)
    catalogue/matches_YYYY-MM.parquet|.csv    their candidate sources
    catalogue/windows_YYYY-MM.parquet         their window soundings (for the app)
    manifest.json                         the run: inputs (size, MD5, status, reason),
                                          config and its hash, months and outputs

With ``swift://`` locations the workers talk to Swift themselves: the store,
credentials included, travels to them inside each task over the Dask
connection (use TLS between client, scheduler and workers off a trusted
network). Local folders must be visible to every worker at the same path.

Every file is written atomically and every marker after what it describes, so
an interrupted run never leaves a partial output looking done, and a rerun
skips a file whose marker matches the input (:class:`InputFile`), the
configuration hash, the inventories and ``top_k`` (``force=True`` redoes it). A file that fails is
listed with its reason and keeps any earlier outputs; the catalogues then
hold the files that succeeded. A rerun with nothing to do writes nothing.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import posixpath
import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .config import FitConfig, MatchConfig
from .errors import InputError
from .soundings import NETCDF_SUFFIXES
from .storage import LocalStore, Store, is_swift_url, md5_file, open_store
from .tableio import read_table, write_table

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "oco2explore-run/1"
STAGES = ("read", "scan", "match", "write")
#: Per-file output tables, written before the marker.
FILE_TABLES = ("peaks", "matches", "windows")
#: Monthly catalogue tables and their formats.
CATALOGUE_FORMATS = {"peaks": (".parquet", ".csv"), "matches": (".parquet", ".csv")}
CATALOGUE_FORMATS["windows"] = (".parquet",)
_DATE_IN_NAME = re.compile(r"_(\d{2})(\d{2})\d{2}_")


@dataclass
class RunReport:
    """What a run did.

    Attributes
    ----------
    input, output : str
        The input and output locations.
    config_digest : str
        :meth:`FitConfig.digest` of the run's configuration.
    done : list of str
        Input keys processed in this run.
    skipped : list of str
        Input keys already done with the same configuration (resume).
    failed : list of (str, str)
        Input keys that failed, with the reason.
    outputs : list of str
        Output keys written in this run.
    n_soundings : int
        Soundings read in this run.
    seconds : dict
        Time per stage, s: ``read``, ``scan``, ``match``, ``write`` summed over
        the workers, and ``cpu`` the CPU time of those tasks (less than their
        sum when the workers had to share cores); on the client ``cluster``
        (starting or connecting to Dask), ``catalogue`` (monthly tables and
        manifest) and ``wall`` (all).
    """

    input: str
    output: str
    config_digest: str
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    n_soundings: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class InputFile:
    """One input as listed: key, size (bytes), and what tells whether it changed.

    A Swift listing gives the MD5 (ETag) for free; a local file gives its
    modification time (ns) and is hashed by the worker that reads it anyway, so
    the client never reads the inputs. A rerun trusts a marker whose MD5 (Swift)
    or size and modification time (local, as ``rsync`` and ``make`` do) match.
    """

    key: str
    size: int
    mtime_ns: int | None = None
    md5: str | None = None

    def matches(self, marker: dict[str, Any]) -> bool:
        """Whether ``marker`` was made from this very input."""
        if self.md5 is not None:
            return marker.get("md5") == self.md5
        return (marker.get("size"), marker.get("mtime_ns")) == (self.size, self.mtime_ns)


# --- one input file (runs on a Dask worker) -------------------------------------------------


def file_prefix(key: str) -> str:
    """Output folder of one input file: ``files/<key without its suffix>/``."""
    stem = posixpath.splitext(key)[0]
    return f"files/{stem}/"


def month_of(key: str, soundings: pd.DataFrame | None = None) -> str | None:
    """Month ``YYYY-MM`` of an input: its first sounding, else the Lite name's YYMMDD."""
    if soundings is not None and len(soundings) and "time" in soundings:
        return pd.Timestamp(soundings["time"].min()).strftime("%Y-%m")
    found = _DATE_IN_NAME.search(posixpath.basename(key))
    return f"20{found.group(1)}-{found.group(2)}" if found else None


def window_soundings(
    soundings: pd.DataFrame, peaks: pd.DataFrame, half_width_km: float
) -> pd.DataFrame:
    """Soundings within ``half_width_km`` (km, along track) of each peak, tagged by ``peak_id``.

    Parameters
    ----------
    soundings : DataFrame
        Sounding table (CONTRACT §1) sorted by orbit and ``distance_km``.
    peaks : DataFrame
        Peaks with ``peak_id, orbit, distance_km``.
    half_width_km : float
        Half-width of the window, km.

    Returns
    -------
    DataFrame
        ``peak_id`` followed by the sounding columns, peaks in the given order.
    """
    parts = []
    orbits = soundings.groupby("orbit", sort=False).indices
    distance = soundings["distance_km"].to_numpy()
    for peak_id, orbit, centre in peaks[["peak_id", "orbit", "distance_km"]].itertuples(
        index=False
    ):
        rows = orbits.get(orbit)
        if rows is None:
            continue
        d = distance[rows]
        lo = np.searchsorted(d, centre - half_width_km, "left")
        hi = np.searchsorted(d, centre + half_width_km, "right")
        part = soundings.iloc[rows[lo:hi]]
        parts.append(part.assign(peak_id=peak_id)[["peak_id", *soundings.columns]])
    if not parts:
        return pd.DataFrame(columns=["peak_id", *soundings.columns])
    return pd.concat(parts, ignore_index=True)


@functools.lru_cache(maxsize=4)
def _source_index(inventories: tuple[str, ...]) -> Any:
    """The matcher's spatial index of the inventories, built once per worker process."""
    from .inventory import load_inventories
    from .match import SourceIndex

    return SourceIndex(load_inventories(list(inventories)))


def process_file(
    in_store: Store,
    item: InputFile,
    out_store: Store,
    config: FitConfig,
    inventories: tuple[str, ...],
    top_k: int = 5,
    match_config: MatchConfig | None = None,
) -> dict[str, Any]:
    """Read, detect and match one input file; write its outputs and then its marker.

    Runs on a Dask worker. Errors of the file (unreadable, bad content) are
    returned as ``{"status": "failed", "reason": ...}`` rather than raised, so a
    bad file is reported once instead of being retried.

    Returns
    -------
    dict
        The marker written to ``files/<stem>/done.json``, or the failure (with the
        input's MD5 when it could be read).
    """
    seconds = dict.fromkeys(STAGES, 0.0)
    clock = time.perf_counter()
    cpu_start = time.process_time()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] += now - clock
        clock = now

    key = item.key
    prefix = file_prefix(key)
    md5 = item.md5
    match_config = match_config or MatchConfig()
    try:
        from .lite import read_lite
        from .match import match_peaks
        from .scan import detect

        with tempfile.TemporaryDirectory(prefix="oco2explore-") as scratch:
            local = in_store.local_path(key, scratch)
            md5 = md5 or md5_file(local)
            soundings = read_lite([local], quality=config.quality)
            lap("read")
            peaks = detect(soundings, config)
            passed = peaks[peaks["passed"].astype(bool)]
            windows = window_soundings(soundings, passed, config.half_width_km)
            lap("scan")
            matches = match_peaks(
                peaks, _source_index(inventories), top_k=top_k, config=match_config
            )
            lap("match")
            meta = {
                "input": key,
                "input_md5": md5,
                "fit_config": config.to_dict(),
                "config_digest": config.digest(),
                "match_config": match_config.to_dict(),
                "match_digest": match_config.digest(),
                "inventories": list(inventories),
            }
            outputs = []
            for name, table in zip(FILE_TABLES, (peaks, matches, windows), strict=True):
                path = write_table(table, Path(scratch) / f"{name}.parquet", metadata=meta)
                outputs.append(out_store.put(path, prefix + path.name).key)
            lap("write")
    except Exception as exc:  # one bad file must not stop the batch
        reason = _reason(exc)
        # The client reports every failure once (the CLI: one line each); the worker's
        # own log keeps the details for debugging only.
        log.debug("%s: failed: %s", key, reason, exc_info=True)
        return {"input": key, "status": "failed", "reason": reason, "md5": md5}
    marker = {
        "input": key,
        "status": "done",
        "md5": md5,
        "size": item.size,
        "mtime_ns": item.mtime_ns,
        "config_digest": config.digest(),
        "match_digest": match_config.digest(),
        "match_config": match_config.to_dict(),
        "inventories": list(inventories),
        "top_k": top_k,
        "month": month_of(key, soundings),
        "n_soundings": len(soundings),
        "n_peaks": len(peaks),
        "n_passed": len(passed),
        "outputs": outputs,
        "seconds": seconds,
    }
    out_store.put_bytes(_json(marker), prefix + "done.json")
    seconds["write"] += time.perf_counter() - clock
    seconds["cpu"] = time.process_time() - cpu_start
    return marker


def _reason(exc: BaseException) -> str:
    """One line saying why a file failed: an :class:`InputError`'s reason, else the exception."""
    text = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
    return " ".join(str(text).split()) or type(exc).__name__


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True, default=str) + "\n").encode()


# --- the run (client side) -----------------------------------------------------------------


def _inputs(location: str | Path, swift_config: Any) -> tuple[Store, list[str]]:
    """The input store and the keys of its Lite files (a single file is its own folder)."""
    if not is_swift_url(location) and Path(location).is_file():
        path = Path(location)
        return LocalStore(path.parent), [path.name]
    if not is_swift_url(location) and not Path(location).is_dir():
        raise InputError("no such file or folder", path=location)
    store = open_store(location, swift_config=swift_config)
    keys = [
        k
        for k in store.list()
        if posixpath.splitext(k)[1].lower() in NETCDF_SUFFIXES
        and not posixpath.basename(k).startswith(".")
    ]
    if not keys:
        raise InputError("no Lite NetCDF files (*.nc4) found", path=location)
    return store, keys


def _describe(store: Store, keys: Sequence[str]) -> dict[str, InputFile]:
    """:class:`InputFile` of each key (size and MD5 from a Swift listing, stat of a file)."""
    if isinstance(store, LocalStore):
        stats = {k: store.path(k).stat() for k in keys}
        return {k: InputFile(k, st.st_size, mtime_ns=st.st_mtime_ns) for k, st in stats.items()}
    listed = {info.key: info for info in store.list_info()}
    return {k: InputFile(k, listed[k].size, md5=listed[k].md5) for k in keys}


def _markers(store: Store) -> dict[str, dict[str, Any]]:
    """``input key -> marker`` of every file done in an earlier run."""
    markers = {}
    existing = set(store.list("files/"))
    for k in sorted(existing):
        if posixpath.basename(k) != "done.json":
            continue
        try:
            marker = json.loads(store.get_bytes(k))
        except (InputError, ValueError) as exc:
            log.warning("ignoring unreadable marker %s: %s", k, exc)
            continue
        if not _is_marker(marker):
            log.warning("ignoring marker %s of the wrong shape (the file is redone)", k)
            continue
        if all(o in existing for o in marker["outputs"]):
            markers[marker["input"]] = marker
    return markers


#: Fields of a ``done.json`` marker a rerun relies on, and their types.
_MARKER_FIELDS: dict[str, type | tuple[type, ...]] = {
    "input": str,
    "status": str,
    "outputs": list,
    "config_digest": str,
    "n_soundings": int,
    "n_peaks": int,
    "n_passed": int,
}


def _is_marker(marker: Any) -> bool:
    """Whether ``marker`` has the shape :func:`process_file` writes (a hand-edited or
    foreign ``done.json`` must not break every later run)."""
    return (
        isinstance(marker, dict)
        and all(isinstance(marker.get(k), t) for k, t in _MARKER_FIELDS.items())
        and all(isinstance(o, str) for o in marker["outputs"])
        and (marker.get("month") is None or isinstance(marker["month"], str))
    )


#: How long a run waits for the first worker of an external scheduler, s.
WORKER_TIMEOUT_S = 60.0


def _open_client(scheduler: str | None, workers: int | None) -> tuple[Any, Any]:
    """A Dask client on ``scheduler``, or on a new LocalCluster of ``workers`` processes."""
    from dask.distributed import Client, LocalCluster

    if not log.isEnabledFor(logging.DEBUG):
        # Dask sets its logger to INFO on import; its cluster start/stop chatter would drown
        # the run's own messages, so keep only its warnings unless debugging.
        logging.getLogger("distributed").setLevel(logging.WARNING)
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise InputError(
                f"cannot connect to the Dask scheduler {scheduler!r}: {reason}"
            ) from None
        try:
            client.wait_for_workers(1, timeout=WORKER_TIMEOUT_S)
        except TimeoutError:
            client.close()
            raise InputError(
                f"the Dask scheduler {scheduler} has no workers "
                f"(none joined within {WORKER_TIMEOUT_S:g} s)"
            ) from None
        return client, None
    n = workers or os.cpu_count() or 1
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,  # the fits hold the GIL: parallelism comes from processes
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.WARNING,
    )
    return Client(cluster), cluster


def _run_files(
    client: Any,
    todo: Sequence[str],
    job: functools.partial,
    inputs: dict[str, InputFile],
    progress: bool,
) -> Iterable[dict[str, Any]]:
    """Submit one task per input and yield their results as they finish."""
    from dask.distributed import as_completed
    from tqdm.auto import tqdm

    # pure=False: a shared scheduler must never merge tasks of two runs (other config or output).
    # Largest files first (priority = size) so that no big file is left alone at the end.
    futures = {
        client.submit(job, inputs[key], pure=False, priority=inputs[key].size): key for key in todo
    }
    with tqdm(total=len(futures), desc="files", unit="file", disable=not progress) as bar:
        for future in as_completed(futures):
            key = futures[future]
            try:
                yield future.result()
            except Exception as exc:  # e.g. KilledWorker after repeated worker deaths
                yield {"input": key, "status": "failed", "reason": _reason(exc)}
            bar.update()


def _catalogue(
    out_store: Store, month: str, inputs: Sequence[str], markers: dict[str, dict[str, Any]]
) -> list[str]:
    """Concatenate the per-file tables of one month into catalogue tables; returns their keys."""
    written = []
    with tempfile.TemporaryDirectory(prefix="oco2explore-") as scratch:
        for name, suffixes in CATALOGUE_FORMATS.items():
            frames = []
            for i, key in enumerate(inputs):
                part = file_prefix(key) + f"{name}.parquet"
                if part in markers[key]["outputs"]:
                    try:
                        local = out_store.local_path(part, Path(scratch) / str(i))
                        frames.append(read_table(local))
                    except InputError as exc:
                        raise InputError(
                            f"{part} of {key} is damaged behind its done.json ({exc.reason}); "
                            "rerun with --force to redo it"
                        ) from None
            frames = [f for f in frames if len(f)] or frames[:1]
            table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
            meta = {"month": month, "inputs": list(inputs), "kind": name}
            first = markers[inputs[0]]
            meta.update({k: first.get(k) for k in ("config_digest", "inventories", "match_config")})
            for suffix in suffixes:
                path = write_table(table, Path(scratch) / f"{name}_{month}{suffix}", meta)
                written.append(out_store.put(path, f"catalogue/{path.name}").key)
    return written


def run_pipeline(
    input: str | Path,
    out: str | Path,
    config: FitConfig | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    force: bool = False,
    inventories: Iterable[str] = ("coco2",),
    progress: bool = True,
    *,
    top_k: int = 5,
    swift_config: Any = None,
    match_config: MatchConfig | None = None,
) -> RunReport:
    """Run read -> detect -> match over every Lite file of ``input``; write catalogues to ``out``.

    Parameters
    ----------
    input : str or Path
        A Lite file, a folder of them, or ``swift://container/prefix``.
    out : str or Path
        Output folder or ``swift://container/prefix`` (layout in the module docstring).
    config : FitConfig, optional
        Fit and detection parameters (defaults when omitted).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:port``); a
        LocalCluster is started (and stopped) when omitted.
    workers : int, optional
        Worker processes of the LocalCluster (default: one per core).
    force : bool
        Redo files already done with the same configuration.
    inventories : iterable of str
        Inventory names or source-table files for matching, in priority order.
    progress : bool
        Show a progress bar over the files.
    top_k : int
        Candidate sources kept per peak.
    swift_config : str, Path or dict, optional
        Swift settings for ``swift://`` locations (see :func:`open_store`).
    match_config : MatchConfig, optional
        Attribution parameters (defaults when omitted), recorded with every match table.

    Returns
    -------
    RunReport
        ``failed`` lists the files that failed and why (the CLI then exits 3).
    """
    from .inventory import load_inventories

    t_start = time.perf_counter()
    config = config or FitConfig()
    match_config = match_config or MatchConfig()
    if workers is not None and workers < 1:
        raise InputError(f"workers must be >= 1, got {workers}")
    inventories = tuple(str(i) for i in inventories)
    load_inventories(list(inventories))  # a bad name is a usage error, before any work
    in_store, keys = _inputs(input, swift_config)
    out_store = open_store(out, swift_config=swift_config)
    digest = config.digest()
    report = RunReport(str(in_store), str(out_store), digest)
    report.seconds = dict.fromkeys((*STAGES, "cpu", "cluster", "catalogue", "wall"), 0.0)
    inputs = _describe(in_store, keys)
    markers = _markers(out_store)
    wanted = {
        "config_digest": digest,
        "match_digest": match_config.digest(),
        "inventories": list(inventories),
        "top_k": top_k,
    }

    def is_done(key: str) -> bool:
        marker = markers.get(key)
        return (
            marker is not None
            and inputs[key].matches(marker)
            and all(marker.get(k) == v for k, v in wanted.items())
        )

    todo = [k for k in keys if force or not is_done(k)]
    report.skipped = [k for k in keys if k not in todo]
    failures: dict[str, str] = {}
    failed_md5: dict[str, str | None] = {}
    if todo:
        log.info("%d file(s) to process, %d already done", len(todo), len(report.skipped))
        t_cluster = time.perf_counter()
        client, cluster = _open_client(scheduler, workers)
        report.seconds["cluster"] = time.perf_counter() - t_cluster
        job = functools.partial(
            process_file,
            in_store,
            out_store=out_store,
            config=config,
            inventories=inventories,
            top_k=top_k,
            match_config=match_config,
        )
        try:
            for result in _run_files(client, todo, job, inputs, progress):
                key = result["input"]
                if result["status"] == "done":
                    markers[key] = result
                    report.done.append(key)
                    report.outputs += result["outputs"]
                    report.n_soundings += result["n_soundings"]
                    for stage, s in result["seconds"].items():
                        report.seconds[stage] += s
                else:
                    failures[key] = result["reason"]
                    failed_md5[key] = result.get("md5")
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    report.failed = [(k, failures[k]) for k in keys if k in failures]
    report.done.sort()

    # A file that failed now but was done before with the same input and settings keeps
    # its earlier outputs in the catalogues: a failure never replaces good results.
    current = {k: markers[k] for k in keys if is_done(k)}
    t_cat = time.perf_counter()
    report.outputs += _write_catalogues(
        out_store,
        in_store,
        inputs,
        current,
        failures,
        failed_md5,
        config,
        inventories,
        top_k,
        match_config,
    )
    report.seconds["catalogue"] = time.perf_counter() - t_cat
    report.seconds["wall"] = time.perf_counter() - t_start
    log.info(
        "%d done, %d skipped, %d failed -> %s",
        len(report.done),
        len(report.skipped),
        len(report.failed),
        out_store,
    )
    return report


def _write_catalogues(
    out_store: Store,
    in_store: Store,
    inputs: dict[str, InputFile],
    current: dict[str, dict[str, Any]],
    failures: dict[str, str],
    failed_md5: dict[str, str | None],
    config: FitConfig,
    inventories: tuple[str, ...],
    top_k: int,
    match_config: MatchConfig,
) -> list[str]:
    """(Re)write the monthly catalogues whose inputs or settings changed, then the manifest.

    ``current`` holds the markers of the inputs done with this run's settings.
    """
    previous: dict[str, Any] = {}
    if out_store.exists(MANIFEST):
        try:
            previous = json.loads(out_store.get_bytes(MANIFEST))
        except ValueError:
            log.warning("%s: unreadable previous manifest, rewriting it", out_store)
    digest = config.digest()
    settings = {
        "config_digest": digest,
        "match_digest": match_config.digest(),
        "inventories": list(inventories),
        "top_k": top_k,
    }
    same_settings = all(previous.get(k) == v for k, v in settings.items())
    by_month: dict[str, list[str]] = {}
    for key, marker in current.items():
        if marker.get("month"):
            by_month.setdefault(marker["month"], []).append(key)
    existing = set(out_store.list("catalogue/"))
    months = {}
    written = []
    for month, month_keys in sorted(by_month.items()):
        record = {
            "inputs": [[k, current[k]["md5"]] for k in month_keys],
            "n_peaks": sum(current[k]["n_peaks"] for k in month_keys),
            "n_passed": sum(current[k]["n_passed"] for k in month_keys),
        }
        old = previous.get("months", {}).get(month, {})
        outputs = [
            f"catalogue/{name}_{month}{suffix}"
            for name, suffixes in CATALOGUE_FORMATS.items()
            for suffix in suffixes
        ]
        unchanged = same_settings and old.get("inputs") == record["inputs"]
        if not unchanged or not set(outputs) <= existing:
            outputs = _catalogue(out_store, month, month_keys, current)
            written += outputs
        months[month] = {**record, "outputs": outputs}
    for month, old in previous.get("months", {}).items():
        if month not in months:  # none of its inputs is done any more: drop, don't mislead
            for key in set(old.get("outputs", [])) & existing:
                out_store.delete(key)
    files = []
    for key, item in inputs.items():
        md5 = current[key]["md5"] if key in current else failed_md5.get(key) or item.md5
        entry = {"key": key, "size": item.size, "md5": md5}
        if key in current:
            m = current[key]
            entry.update(status="done", month=m["month"], outputs=m["outputs"])
            entry.update({c: m[c] for c in ("n_soundings", "n_peaks", "n_passed")})
        if key in failures:
            # With earlier outputs kept (see run_pipeline) the entry still lists them.
            entry.update(status="failed", reason=failures[key])
        files.append(entry)
    manifest = {
        "format": MANIFEST_FORMAT,
        "oco2explore_version": __version__,
        "input": str(in_store),
        "config": config.to_dict(),
        "match_config": match_config.to_dict(),
        **settings,
        "status": "complete" if all(f["status"] == "done" for f in files) else "partial",
        "files": files,
        "months": months,
    }
    text = _json(manifest)
    if written or previous != json.loads(text):
        out_store.put_bytes(text, MANIFEST)
        written.append(MANIFEST)
    return written
