"""oco2explore: find CO2 emission hot spots in NASA OCO-2/OCO-3 Lite data."""

from __future__ import annotations

__version__ = "0.1.0"

from .config import FitConfig  # noqa: E402
from .errors import InputError, LiteFormatError, SchemaError  # noqa: E402

__all__ = ["FitConfig", "InputError", "LiteFormatError", "SchemaError", "__version__"]
