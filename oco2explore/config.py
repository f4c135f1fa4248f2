"""One parameter object for fit bounds and detection thresholds.

The command line, the app's sliders and the batch pipeline all read and write
:class:`FitConfig`; every peak table records the configuration it was made
with, so any result can be reproduced. Defaults follow the published rules of
the oco2peak seed method (200 km window, σ ≥ 2 km, 3σ ≤ half window, Δ > 0,
R² ≥ 0.25 inside ±4σ, enough soundings on both sides), with a significance
threshold calibrated on plume-free simulated orbits (see :mod:`oco2explore.scan`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError

QUALITY_POLICIES = ("good", "all")
#: Real OCO-2 along-track correlated XCO2 error: RMS, ppm, and correlation length, km,
#: measured on the real plume-free stretches of orbit 11522 (calibration noted in
#: ``oco2explore/simulate.py``, whose real-like noise uses them).
REAL_CORRELATED_ERROR_PPM = 0.28
REAL_CORRELATION_KM = 3.5


@dataclass(frozen=True)
class FitConfig:
    """Bounds and thresholds of the Gaussian-plus-line plume fit.

    Every threshold can be switched off with ``None``.

    Attributes
    ----------
    half_width_km : float
        Half-width of the fit window along the track, km (seed: 100 km).
    sigma_min_km, sigma_max_km : float
        Bounds of the Gaussian width σ, km (seed: σ ≥ 2 km and 3σ ≤ half window).
        Simulated plumes a few km downwind are 1-2 km wide along the track and a
        1 km bound finds more of them, but real plume-free OCO-2 orbits hold
        σ ≈ 1 km bumps of ~1 ppm (white-noise significance 40-65, tested; 23 under
        the default correlated-error statistic, threshold 25), so the seed's 2 km
        stays. Fits stuck on the lower bound pass at
        :func:`oco2explore.fit.unresolved_factor` × the threshold.
    amplitude_min, amplitude_max : float
        Bounds of the Gaussian area A, ppm·km (seed: Δ > 0, so A ≥ 0). A fit whose
        A sits on ``amplitude_min`` found no enhancement and is rejected.
    slope_max : float or None
        Bound on the background slope, abs(m) ≤ slope_max, ppm/km (None: unbounded).
    intercept_min, intercept_max : float or None
        Bounds of the background at the centre b, ppm (None: unbounded).
    center_shift_max_km : float
        How far the fitted Gaussian centre may move from the requested centre, km
        (0 fixes it there, as the seed did).
    min_soundings : int or None
        Minimum number of soundings in the window.
    min_support : int or None
        Minimum soundings on each flank of the peak, [−2σ, 0] and [0, 2σ], and
        beside it on at least one side, [−4σ, −2σ] or [2σ, 4σ]. As in the seed,
        at least ⌊σ/km⌋ are needed (:meth:`support_limit`); this is the floor
        for narrow plumes. (The seed used [−σ, 0], [0, σ], [−3σ, −2σ] and
        [2σ, 3σ], all four: the wider intervals and one free side keep plumes
        next to a cloud gap.)
    r2_min : float or None
        Minimum coefficient of determination inside ±4σ (seed: 0.25).
    significance_min : float or None
        Minimum detection statistic (Δχ² of Gaussian+line against line only, in
        units of the reduced χ²) for widths up to ``significance_scale_km``;
        calibrated on plume-free simulated orbits with real-like correlated
        errors (see :mod:`oco2explore.scan`): 25 with the default statistic
        (``error_correlation_ppm`` 0.28) allows ~0.02 false peaks per 10,000 km
        of clear track; with the white-noise statistic (None) 50 allows ~0.1.
    significance_scale_km : float or None
        Width σ above which the significance threshold grows in proportion to σ,
        km: the undulating background makes broad bumps reach a high Δχ² far more
        often than narrow plumes (None: the same threshold for every width).
    quality : {"good", "all"}
        Which soundings to use: ``xco2_quality_flag == 0`` only, or all.
    wind_uncertainty_m_per_s : float
        1-σ uncertainty of the wind across the track, m/s, for the emission error.
    wind_aligned : bool
        Scan along the wind-aligned coordinate (:func:`oco2explore.scan.wind_aligned_km`),
        which undoes the along-track smear of an oblique plume across the 8 footprints;
        needs positions and wind, ignored without them. On by default: better recall and
        precision on simulated orbits, the same single peak on the real Highveld pass.
    deblend : bool
        Judge each enhancement with the orbit's other enhancements subtracted from
        its window (backfitting, see :mod:`oco2explore.scan`): a plume beside a
        plant cluster is measured against the noise, not against its neighbours'
        plumes. Off: every window is a single Gaussian on a line, as in the seed.
    error_correlation_ppm : float or None
        RMS of an along-track correlated XCO2 error, ppm, that the significance
        accounts for (generalised least squares, :func:`oco2explore.fit.gls_chi2`):
        real OCO-2 errors are correlated over a few km (0.28 ppm over 3.5 km
        measured on real plume-free data, see
        :data:`REAL_CORRELATED_ERROR_PPM`, the default). None: the white-noise
        Δχ². The statistic is then on another scale: set
        ``significance_min`` with it (see ``benchmarks/bench_scan.py``).
    error_correlation_km : float
        Correlation length of that error along the track, km.
    """

    half_width_km: float = 100.0
    sigma_min_km: float = 2.0
    sigma_max_km: float = 33.0
    amplitude_min: float = 0.0
    amplitude_max: float = 2000.0
    slope_max: float | None = None
    intercept_min: float | None = None
    intercept_max: float | None = None
    center_shift_max_km: float = 10.0
    min_soundings: int | None = 50
    min_support: int | None = 3
    r2_min: float | None = 0.25
    significance_min: float | None = 25.0
    significance_scale_km: float | None = 3.0
    quality: str = "good"
    wind_uncertainty_m_per_s: float = 1.0
    wind_aligned: bool = True
    deblend: bool = True
    error_correlation_ppm: float | None = REAL_CORRELATED_ERROR_PPM
    error_correlation_km: float = REAL_CORRELATION_KM

    def __post_init__(self) -> None:
        problems = []
        if not self.half_width_km > 0:
            problems.append("half_width_km must be > 0")
        if not 0 < self.sigma_min_km < self.sigma_max_km:
            problems.append("need 0 < sigma_min_km < sigma_max_km")
        if not self.amplitude_min < self.amplitude_max:
            problems.append("need amplitude_min < amplitude_max")
        if self.slope_max is not None and not self.slope_max > 0:
            problems.append("slope_max must be > 0")
        lo, hi = self.intercept_min, self.intercept_max
        if lo is not None and hi is not None and not lo < hi:
            problems.append("need intercept_min < intercept_max")
        if not 0 <= self.center_shift_max_km < self.half_width_km:
            problems.append("need 0 <= center_shift_max_km < half_width_km")
        if self.significance_scale_km is not None and not self.significance_scale_km > 0:
            problems.append("significance_scale_km must be > 0")
        if self.quality not in QUALITY_POLICIES:
            problems.append(f"quality must be one of {QUALITY_POLICIES}")
        if self.wind_uncertainty_m_per_s < 0:
            problems.append("wind_uncertainty_m_per_s must be >= 0")
        if self.error_correlation_ppm is not None and not self.error_correlation_ppm >= 0:
            problems.append("error_correlation_ppm must be >= 0")
        if not self.error_correlation_km > 0:
            problems.append("error_correlation_km must be > 0")
        if problems:
            raise InputError("invalid fit configuration: " + "; ".join(problems))

    def support_limit(self, sigma_km: float) -> int | None:
        """Soundings needed per support interval for a Gaussian of width ``sigma_km``.

        ``max(min_support, ⌊σ/km⌋)``: the seed's ⌊σ⌋, with a floor; None if off.
        """
        if self.min_support is None:
            return None
        if not math.isfinite(sigma_km):
            return self.min_support
        return max(self.min_support, int(sigma_km))

    def significance_limit(self, sigma_km: float) -> float | None:
        """Significance threshold for a Gaussian of width ``sigma_km`` (km); None if off.

        ``significance_min × max(1, σ / significance_scale_km)``.
        """
        if self.significance_min is None:
            return None
        if self.significance_scale_km is None:
            return self.significance_min
        return self.significance_min * max(1.0, sigma_km / self.significance_scale_km)

    def replace(self, **changes: Any) -> FitConfig:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, recorded with every output."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | Path | None = None) -> FitConfig:
        """Build from a dict; unknown keys are an :class:`InputError` naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(f"unknown fit parameter(s): {', '.join(unknown)}", path=source)
        return cls(**data)

    @classmethod
    def from_json(cls, path: str | Path) -> FitConfig:
        """Read a configuration written by :meth:`to_json` (or any subset of fields)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read fit configuration: {exc}", path=path) from exc
        if not isinstance(data, dict):
            raise InputError("fit configuration must be a JSON object", path=path)
        return cls.from_dict(data.get("fit_config", data), source=path)

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def digest(self) -> str:
        """Short stable hash of the configuration (12 hex digits), for manifests."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
