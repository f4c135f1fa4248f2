"""What the orbit view shows, and its deep link (the Voilà query string).

A link such as
``?file=oco2_LtCO2_160831_....nc4&orbit=11522&centre=4501.2&scorer=learned&r2_min=0.3``
reopens the same file, orbit, window centre (along-track km), scorer of the orbit's peaks
(``fit`` or ``learned``; the default ``fit`` is left out) and fit parameters. Parameter
names are the :class:`~oco2explore.config.FitConfig` fields, parsed by
:meth:`~oco2explore.config.FitConfig.from_strings` exactly as the command line parses
``--<field>`` (``none`` switches a threshold off). The file is only a *name*: the explorer
opens it only if its data root lists it.
"""

from __future__ import annotations

import dataclasses
import math
import urllib.parse

from ..config import FitConfig
from ..errors import InputError

VIEW_KEYS = ("file", "orbit", "centre", "scorer", "source")
#: Scorers of the orbit's peaks a link may name, the default first: the fit scan's
#: thresholds, or the packaged learned model (``oco2explore detect --scorer``).
SCORERS = ("fit", "learned")


@dataclasses.dataclass(frozen=True)
class View:
    """A position in the data: Lite file key, orbit, window centre (km), fit parameters and
    the scorer of the orbit's peaks (one of :data:`SCORERS`; None keeps the one shown)."""

    file: str | None = None
    orbit: int | None = None
    centre_km: float | None = None
    config: FitConfig = dataclasses.field(default_factory=FitConfig)
    scorer: str | None = None


def parse_query(query: str | None, base: FitConfig | None = None) -> tuple[View, list[str]]:
    """Parse a query string into a :class:`View`; problems come back as messages.

    Parameters
    ----------
    query : str or None
        ``a=1&b=2`` with or without a leading ``?``.
    base : FitConfig, optional
        Parameters the query's fields override (defaults otherwise).

    Returns
    -------
    view : View
        What the query asks for (fields it does not give are ``None``/``base``).
    problems : list of str
        One line per ignored part of the query.
    """
    base = base or FitConfig()
    pairs = urllib.parse.parse_qs((query or "").lstrip("?"), keep_blank_values=True)
    values = {k: v[-1] for k, v in pairs.items()}
    problems = []
    fields = {f.name for f in dataclasses.fields(FitConfig)}
    unknown = sorted(set(values) - fields - set(VIEW_KEYS))
    if unknown:
        problems.append(f"unknown link parameter(s) ignored: {', '.join(unknown)}")
    orbit = _number(values, "orbit", int, problems)
    centre = _number(values, "centre", float, problems)
    scorer = values.get("scorer")
    if scorer is not None and scorer not in SCORERS:
        problems.append(
            f"link parameter scorer={scorer!r} is not one of {', '.join(SCORERS)}; ignored"
        )
        scorer = None
    given = [k for k in values if k in fields]
    config = base
    if given:
        try:
            config = FitConfig.from_strings({k: values[k] for k in given}, base=base)
        except InputError as exc:
            problems.append(f"link parameters ignored: {exc}")
    return View(values.get("file") or None, orbit, centre, config, scorer), problems


def _number(values: dict[str, str], key: str, kind: type, problems: list[str]) -> float | None:
    raw = values.get(key)
    if raw is None:
        return None
    try:
        number = kind(raw)
    except ValueError:
        problems.append(f"link parameter {key}={raw!r} is not a number; ignored")
        return None
    if not math.isfinite(number):
        problems.append(f"link parameter {key}={raw!r} is not finite; ignored")
        return None
    return number


def view_query(view: View) -> str:
    """Query string (without ``?``) of a view; only the scorer and parameters that differ
    from the defaults."""
    parts: list[tuple[str, str]] = []
    if view.file:
        parts.append(("file", view.file))
    if view.orbit is not None:
        parts.append(("orbit", str(view.orbit)))
    if view.centre_km is not None:
        parts.append(("centre", f"{view.centre_km:.2f}"))
    if view.scorer is not None and view.scorer != SCORERS[0]:
        parts.append(("scorer", view.scorer))
    defaults = FitConfig().to_dict()
    for name, value in view.config.to_dict().items():
        if value != defaults[name]:
            parts.append((name, "none" if value is None else str(value)))
    return urllib.parse.urlencode(parts)
