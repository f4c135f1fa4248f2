"""Exceptions that carry a one-line, user-facing message.

The command line turns :class:`InputError` (and its subclasses) into a single
line on stderr and exit status 2, never a traceback (see CONTRACT.md §4).
"""

from __future__ import annotations

from pathlib import Path


class OCO2ExploreError(Exception):
    """Base class of every error raised on purpose by oco2explore."""


class InputError(OCO2ExploreError):
    """Bad usage or unreadable input; the message names the file and what is wrong.

    Parameters
    ----------
    message : str
        What is wrong, in one line.
    path : str or Path, optional
        The file concerned; prepended to the message when given.
    """

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = None if path is None else str(path)
        self.reason = message
        super().__init__(message if path is None else f"{path}: {message}")


class LiteFormatError(InputError):
    """A file is not a readable OCO-2/OCO-3 Lite file (corrupt, truncated, missing variables)."""


class SchemaError(InputError):
    """A table lacks a required column or has values of the wrong kind."""
