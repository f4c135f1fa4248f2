"""Atomic reading and writing of tables (Parquet or CSV, chosen by extension).

A table's provenance (for example the fit configuration a peak table was made
with) travels with it: in the Parquet schema metadata under the key
``oco2explore``, or in a sidecar ``<file>.meta.json`` next to a CSV file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError

META_KEY = b"oco2explore"
TABLE_SUFFIXES = (".parquet", ".pq", ".csv")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A reader never sees a half-written file, and a failure leaves an existing
    ``path`` untouched. Any :class:`OSError` of the write (disk full, read-only
    file system, a folder in the way) becomes an :class:`InputError` naming ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _write_error(path, exc) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
            # mkstemp creates 0600; give the result the permissions an ordinary write would.
            os.chmod(tmp_path, 0o666 & ~_UMASK)
            os.replace(tmp_path, path)
        except OSError as exc:  # disk full, a folder in the way, ...
            raise _write_error(path, exc) from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _write_error(path: Path, exc: OSError) -> InputError:
    """One line saying why ``path`` cannot be written (CONTRACT §4: exit status 2)."""
    reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    return InputError(f"cannot write: {reason}", path=path)


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Read once at import: os.umask can only be read by setting it, which is not thread-safe.
_UMASK = _umask()


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def table_suffix(path: str | Path) -> str:
    """The table format of ``path`` (``.parquet``, ``.pq`` or ``.csv``), else :class:`InputError`.

    Call it before long work whose result goes to ``path``, so a wrong name fails at once.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(
            f"unknown table format {suffix or '(none)'!r}; use .parquet or .csv", path=path
        )
    return suffix


def write_table(df: pd.DataFrame, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Write a table atomically as Parquet or CSV (by the extension of ``path``).

    Parameters
    ----------
    df : DataFrame
        The table.
    path : str or Path
        Destination ending in ``.parquet``/``.pq`` or ``.csv``.
    metadata : dict, optional
        JSON-serialisable provenance, stored in the Parquet schema metadata or
        in a ``.meta.json`` sidecar for CSV.

    Returns
    -------
    Path
        The written path.
    """
    path = Path(path)
    suffix = table_suffix(path)
    if suffix == ".csv":
        with atomic_path(path) as tmp:
            df.to_csv(tmp, index=False)
        if metadata is not None:
            write_text_atomic(_sidecar(path), json.dumps(metadata, indent=2, default=str))
        return path
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    if metadata is not None:
        meta = dict(table.schema.metadata or {})
        meta[META_KEY] = json.dumps(metadata, default=str).encode()
        table = table.replace_schema_metadata(meta)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a Parquet or CSV table; a bad file raises :class:`InputError` naming it."""
    path = Path(path)
    suffix = table_suffix(path)
    if not path.is_file():
        raise InputError("no such file", path=path)
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        return pd.read_parquet(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot read table: {first}", path=path) from exc


def read_table_metadata(path: str | Path) -> dict[str, Any]:
    """Provenance stored with a table by :func:`write_table` (empty dict if none)."""
    path = Path(path)
    if table_suffix(path) == ".csv":
        side = _sidecar(path)
        return json.loads(side.read_text(encoding="utf-8")) if side.is_file() else {}
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta[META_KEY]) if META_KEY in meta else {}
