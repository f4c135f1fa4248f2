"""The Voilà explorer: importable, testable widgets around the same core as the CLI.

``Explorer`` composes an orbit view (:class:`OrbitView`: map, draggable window,
profile, sliders, result, nearest sources, deep link, export) and a monthly
catalogue view (:class:`CatalogueView`); ``apps/explorer.ipynb`` only builds and
displays it, and ``oco2explore app`` serves that notebook (:func:`serve.serve`).
"""

from __future__ import annotations

from .catalogue import CatalogueView
from .controls import Controls
from .data import DataRoot
from .explorer import Explorer, OrbitView
from .query import page_query_string
from .state import View, parse_query, view_query

__all__ = [
    "CatalogueView",
    "Controls",
    "DataRoot",
    "Explorer",
    "OrbitView",
    "page_query_string",
    "View",
    "parse_query",
    "view_query",
]
