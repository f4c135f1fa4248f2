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
import functools
import hashlib
import json
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .errors import InputError

QUALITY_POLICIES = ("good", "all")
#: Real OCO-2 along-track correlated XCO2 error: RMS, ppm, and correlation length, km,
#: measured on the real plume-free stretches of orbit 11522 (calibration noted in
#: ``oco2explore/simulate/noise.py``, whose real-like noise uses them).
REAL_CORRELATED_ERROR_PPM = 0.28
REAL_CORRELATION_KM = 3.5
#: Largest correlated XCO2 error accepted, ppm: real OCO-2 errors are below 1 ppm, and far
#: larger values overflow the generalised least squares (cause 11 of issue #14).
MAX_CORRELATED_ERROR_PPM = 10.0
#: Longest fit window accepted, km: a quarter of an orbit.
MAX_HALF_WIDTH_KM = 10_000.0


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints(cls)``, cached: every FitConfig checks its fields with it."""
    return typing.get_type_hints(cls)


def field_kind(cls: type, name: str) -> tuple[type, bool]:
    """(base type, optional?) of the field ``name`` of the dataclass ``cls``.

    ``float | None`` gives ``(float, True)``; ``int`` gives ``(int, False)``.
    """
    hint = _type_hints(cls)[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    optional = type(None) in typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return args[0], optional
    return hint, optional


def option_name(name: str) -> str:
    """The command-line option of a parameter: ``r2_min`` -> ``--r2-min``."""
    return "--" + name.replace("_", "-")


def _parse_bool(raw: str) -> bool:
    """``true/yes/on/1`` or ``false/no/off/0`` (any case)."""
    value = raw.strip().lower()
    if value in ("true", "yes", "on", "1"):
        return True
    if value in ("false", "no", "off", "0"):
        return False
    raise ValueError(raw)


class ConfigFields:
    """Typed, validated parameter dataclass: one set of checks for code, JSON, options and links.

    A subclass is a frozen dataclass whose fields are annotated ``float``, ``int``, ``bool``
    or ``str``, optionally ``| None``. :meth:`check_fields` (called by its
    ``__post_init__``) refuses NaN, infinities, booleans for numbers, non-integral
    numbers for integers and strings for numbers, whatever the source, so a new field
    is checked as soon as it is declared; the subclass adds its range checks.
    """

    #: Word naming the parameters in messages ("fit", "match").
    KIND = "configuration"

    def check_fields(self) -> None:
        """Check every field against its annotation; integers of float fields become floats.

        Raises
        ------
        InputError
            One line naming every field of the wrong type.
        """
        problems = []
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            kind, optional = field_kind(type(self), f.name)
            value = getattr(self, f.name)
            if value is None:
                if not optional:
                    problems.append(f"{f.name} must not be None")
                continue
            is_bool = isinstance(value, (bool, np.bool_))
            if kind is bool:
                ok, value = is_bool, bool(value) if is_bool else value
            elif kind is int:
                ok = isinstance(value, (int, np.integer)) and not is_bool
                value = int(value) if ok else value
            elif kind is float:
                ok = isinstance(value, (int, float, np.integer, np.floating)) and not is_bool
                if ok and not math.isfinite(value):
                    problems.append(f"{f.name} must be finite, got {value!r}")
                    continue
                value = float(value) if ok else value
            else:
                ok = isinstance(value, kind)
            if not ok:
                expected = {int: "an integer", float: "a number", bool: "true or false"}
                problems.append(
                    f"{f.name} must be {expected.get(kind, kind.__name__)}, got {value!r}"
                )
                continue
            object.__setattr__(self, f.name, value)
        if problems:
            raise InputError(f"invalid {self.KIND} configuration: " + "; ".join(problems))

    def replace(self, **changes: Any) -> Any:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, recorded with every output."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: Any, source: str | Path | None = None) -> Any:
        """Build from a dict; unknown keys or bad values are an :class:`InputError` naming them."""
        if not isinstance(data, Mapping):
            raise InputError(
                f"{cls.KIND} configuration must be a JSON object, got {type(data).__name__}",
                path=source,
            )
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(map(str, data)) - names)
        if unknown:
            # Keys shown on the one line of the error: unprintable ones (a newline) escaped.
            shown = ", ".join(k if k.isprintable() else repr(k) for k in unknown)
            raise InputError(f"unknown {cls.KIND} parameter(s): {shown}", path=source)
        try:
            return cls(**data)
        except InputError as exc:
            raise InputError(exc.reason, path=source) from None

    @classmethod
    def from_json(cls, path: str | Path, key: str | None = None) -> Any:
        """Read a configuration written by :meth:`to_json` (or any subset of fields).

        Parameters
        ----------
        path : str or Path
            JSON file: the fields, or an object holding them under ``key``
            (``fit_config`` for :class:`FitConfig`, as peak tables record it).
        key : str, optional
            That key; ``<KIND>_config`` by default.
        """
        path = Path(path)
        key = key or f"{cls.KIND}_config"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise InputError(f"cannot read {cls.KIND} configuration: {reason}", path=path) from None
        if isinstance(data, dict) and key in data:
            data = data[key]
        return cls.from_dict(data, source=path)

    @classmethod
    def from_strings(
        cls, values: Mapping[str, str], base: Any = None, source: str | Path | None = None
    ) -> Any:
        """``base`` (defaults when None) with fields given as text, as typed by a user.

        Used alike by the command line (``--<field> VALUE``), the explorer's links
        (``?field=value``) and any script. ``none`` switches an optional field off;
        booleans are ``true/yes/on/1`` or ``false/no/off/0``.

        Raises
        ------
        InputError
            An unknown field or a value that is not of the field's type or range,
            named as its command-line option (``--r2-min expects float, got 'x'``).
        """
        base = cls() if base is None else base
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(values) - names)
        if unknown:
            # Keys shown on the one line of the error: unprintable ones (a newline) escaped.
            shown = ", ".join(k if k.isprintable() else repr(k) for k in unknown)
            raise InputError(f"unknown {cls.KIND} parameter(s): {shown}", path=source)
        changes: dict[str, Any] = {}
        for name, raw in values.items():
            kind, optional = field_kind(cls, name)
            text = str(raw).strip()
            if optional and text.lower() == "none":
                changes[name] = None
                continue
            try:
                value = _parse_bool(text) if kind is bool else kind(text)
            except ValueError:
                raise InputError(
                    f"{option_name(name)} expects {kind.__name__}, got {raw!r}", path=source
                ) from None
            if kind is float and not math.isfinite(value):
                raise InputError(f"{option_name(name)} must be finite, got {raw!r}", path=source)
            changes[name] = value
        try:
            return base.replace(**changes) if changes else base
        except InputError as exc:
            raise InputError(exc.reason, path=source) from None

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def digest(self) -> str:
        """Short stable hash of the configuration (12 hex digits), for manifests."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class FitConfig(ConfigFields):
    """Bounds and thresholds of the Gaussian-plus-line plume fit.

    Every threshold can be switched off with ``None``.

    Attributes
    ----------
    half_width_km : float
        Half-width of the fit window along the track, km (seed and v1: 100 km; 120 km
        holds 3σ of the widest city dome).
    sigma_min_km, sigma_max_km : float
        Bounds of the Gaussian width σ, km: 1 km (a footprint is 1.3 km wide; plumes
        5–15 km downwind are 1–3 km wide along the track) to 40 km (city domes are
        20–40 km wide). Real plume-free orbits hold σ ≈ 1 km bumps of ~1 ppm; the
        false-alarm threshold, highest at the narrowest widths, and ``min_positions``
        keep them out (the seed and v1: 2–33 km). Fits stuck on the lower bound pass
        at :func:`oco2explore.fit.unresolved_factor` × the threshold.
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
        Minimum number of soundings in the window (20: the five parameters and 15
        degrees of freedom; detector v1 asked 50, which rejected significant
        near-source plumes on cloudy passes — 8 of 96 oracle-detectable plants
        on ``benchmarks/bench_cases.py``'s correlated case).
    min_support : int or None
        Minimum soundings (see ``support_km``) on each flank of the peak, [−2σ, 0]
        and [0, 2σ], and beside it on at least one side, [−4σ, −2σ] or [2σ, 4σ];
        broad fits need more (:meth:`support_limit`), this is the floor
        for narrow plumes: 1, a sounding on each side, because a σ 1 km plume's
        2σ flank is narrower than two footprints (1.3 km each) and holds one or
        two; one-frame spikes are left to ``min_positions``. (v1: 3. The seed used
        [−σ, 0], [0, σ], [−3σ, −2σ] and [2σ, 3σ], all four: the wider intervals
        and one free side keep plumes next to a cloud gap.)
    support_km : float or None
        Along-track km of flank per sounding that broad fits need, km: ``⌊σ/support_km⌋``
        soundings per interval; and the soundings of an interval at least two cells of
        ``support_km`` long count once when they all lie in one cell (from the centre).
        3.5 km is the length of the correlated error that the footprints of a frame and
        of nearby frames share (:data:`oco2explore.noise.LENGTHS_KM`): within it they
        are about one sample, so a flank of 2σ holds about 2σ/3.5 km independent
        samples and the rule asks for soundings of half of them, and one frame's
        footprints at the edge of a cloud gap cannot hold a flank. None: the seed's
        rule (v1), ``⌊σ/km⌋`` soundings, which on cloudy passes (0.5–2 soundings per
        clear km) rejected significant city domes with 16–18 soundings on a 35–40 km
        flank (``bench_cases.py --list``).
    r2_min : float or None
        Minimum coefficient of determination inside ±4σ (seed: 0.25).
    significance_min : float or None
        Minimum detection statistic (Δχ² of Gaussian+line against line only, in
        units of the reduced χ²) for widths up to ``significance_scale_km``, used when
        ``false_peaks_per_10000km`` is None (v1); calibrated on plume-free simulated
        orbits with real-like correlated errors (see :mod:`oco2explore.scan`): 25 with
        the fixed correlated-error statistic (``error_correlation_ppm`` 0.28) allows
        ~0.02 false peaks per 10,000 km of clear track; with the white-noise statistic
        (None) 50 allows ~0.1.
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
    noise_estimated : bool
        Estimate the error covariance of each orbit from its own soundings
        (:func:`oco2explore.noise.estimate_noise`: white error, 3.5 km and 15 km
        correlated errors and a smooth 50–150 km background, from a robust variogram
        with plumes and domes masked) and use it in the significance instead of
        ``error_correlation_ppm``/``_km``: no fixed noise model is right for every
        orbit (detector v2, the default; ``docs/detection.md``).
    false_peaks_per_10000km : float or None
        Target false-alarm rate, expected false peaks per 10,000 km of track: when set,
        the significance threshold at width σ is the Δχ² at which that many noise peaks
        are expected over the scanned centres and widths
        (:func:`oco2explore.noise.significance_threshold`, with the null variance
        calibrated on real plume-free passes), replacing ``significance_min`` and
        ``significance_scale_km``. None: the σ-scaled rule (v1).
    min_positions : int or None
        Distinct positions needed under the peak (where the fitted Gaussian is above
        half its maximum, in the fit coordinate): a bump carried by one frame, whose 8
        footprints share a position without the wind, or by one sounding cannot pass
        however significant. None: off.
    artefact_check : bool
        Reject (reason ``artefact``) an enhancement that the retrieval diagnostics in
        the window explain (albedo, aerosol, surface-pressure difference, altitude):
        the Gaussian is refitted together with a linear term in each diagnostic, and
        fails when its significance then falls below the threshold.
    scale_space_candidates : bool
        Propose every local maximum of the candidate search's margin over centre *and*
        width (the maxima the false-alarm threshold counts), not only the best width of
        each bin: a near-source plume (σ 1–3 km) on the flank of a broad background bump,
        where a broad width has the larger margin at every bin near the plume, is then
        still refitted at its own width (session 11, ``docs/detection.md``). False: one
        width per bin (v1 and configurations recorded before the field existed).
    nested_ratio : float or None
        Width ratio from which two overlapping enhancements are separate plumes: a
        near-source plume on a city dome or a regional bump (σ 2.5 km beside σ 20 km)
        is then fitted, subtracted from the broad fit's window and reported as a peak
        of its own, where the scan's overlap rules (a candidate within ``2·(σ+σ')`` of
        a peak is that peak's plume) merged it into the broad fit (session 12,
        ``docs/detection.md``). None: overlapping fits are one plume whatever their
        widths (v1 and configurations recorded before the field existed).

    Presets
    -------
    :meth:`preset` names whole configurations (:data:`PRESETS`): ``"v2"``, the defaults
    (the estimated noise model with a false-alarm threshold, σ from 1 km, near-source
    plumes, to 40 km, city domes, in ±120 km windows), and ``"v1"``, the detector before
    it, for comparison.
    """

    half_width_km: float = 120.0
    sigma_min_km: float = 1.0
    sigma_max_km: float = 40.0
    amplitude_min: float = 0.0
    amplitude_max: float = 2000.0
    slope_max: float | None = None
    intercept_min: float | None = None
    intercept_max: float | None = None
    center_shift_max_km: float = 10.0
    min_soundings: int | None = 20
    min_support: int | None = 1
    support_km: float | None = 3.5
    r2_min: float | None = 0.25
    significance_min: float | None = 25.0
    significance_scale_km: float | None = 3.0
    quality: str = "good"
    wind_uncertainty_m_per_s: float = 1.0
    wind_aligned: bool = True
    deblend: bool = True
    error_correlation_ppm: float | None = REAL_CORRELATED_ERROR_PPM
    error_correlation_km: float = REAL_CORRELATION_KM
    noise_estimated: bool = True
    false_peaks_per_10000km: float | None = 0.1
    min_positions: int | None = 2
    artefact_check: bool = True
    scale_space_candidates: bool = True
    nested_ratio: float | None = 4.0

    KIND = "fit"
    #: Fields added after configurations were first recorded, with the value each had
    #: in effect before it existed: :meth:`from_record` gives them to a recorded
    #: configuration that lacks them (a model card, a run's manifest, a table's metadata).
    ADDED_FIELDS: ClassVar[dict[str, Any]] = {
        "support_km": None,
        "scale_space_candidates": False,
        "nested_ratio": None,
    }

    @classmethod
    def from_record(cls, data: Any, source: str | Path | None = None) -> FitConfig:
        """The configuration a run recorded (:meth:`to_dict`), read back as it ran.

        Fields the record lacks because they did not exist yet take their value of
        that time (:data:`ADDED_FIELDS`), not today's default; otherwise as
        :meth:`from_dict`.
        """
        if isinstance(data, Mapping):
            data = {**{k: v for k, v in cls.ADDED_FIELDS.items() if k not in data}, **data}
        return cls.from_dict(data, source)

    @classmethod
    def preset(cls, name: str, **changes: Any) -> FitConfig:
        """The named configuration of :data:`PRESETS` (``"v1"``, ``"v2"``), with ``changes``.

        Raises
        ------
        InputError
            An unknown name.
        """
        if name not in PRESETS:
            raise InputError(f"unknown fit preset {name!r}: choose from {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **changes})

    def __post_init__(self) -> None:
        self.check_fields()
        problems = []
        if not 0 < self.half_width_km <= MAX_HALF_WIDTH_KM:
            problems.append(f"need 0 < half_width_km <= {MAX_HALF_WIDTH_KM:g}")
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
        if self.error_correlation_ppm is not None and not (
            0 <= self.error_correlation_ppm <= MAX_CORRELATED_ERROR_PPM
        ):
            problems.append(f"need 0 <= error_correlation_ppm <= {MAX_CORRELATED_ERROR_PPM:g}")
        for name in ("min_soundings", "min_support"):
            if getattr(self, name) is not None and getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0")
        if self.r2_min is not None and self.r2_min > 1:
            problems.append("r2_min must be <= 1")
        if self.support_km is not None and not self.support_km > 0:
            problems.append("support_km must be > 0")
        if not self.error_correlation_km > 0:
            problems.append("error_correlation_km must be > 0")
        rate = self.false_peaks_per_10000km
        if rate is not None and not 0 < rate <= 1e4:
            problems.append("need 0 < false_peaks_per_10000km <= 10000")
        if self.min_positions is not None and self.min_positions < 0:
            problems.append("min_positions must be >= 0")
        if problems:
            raise InputError("invalid fit configuration: " + "; ".join(problems))

    def support_limit(self, sigma_km: float) -> int | None:
        """Soundings needed per support interval for a Gaussian of width ``sigma_km``.

        ``max(min_support, ⌊σ/support_km⌋)`` soundings, or with ``support_km`` None the
        seed's ``⌊σ/km⌋``; ``min_support`` is the floor; None if off.
        """
        if self.min_support is None:
            return None
        if not math.isfinite(sigma_km):
            return self.min_support
        per_km = 1.0 if self.support_km is None else self.support_km
        return max(self.min_support, int(sigma_km / per_km))

    def significance_limit(self, sigma_km: float) -> float | None:
        """Significance threshold for a Gaussian of width ``sigma_km`` (km); None if off.

        ``significance_min × max(1, σ / significance_scale_km)``; with
        ``false_peaks_per_10000km`` set, the false-alarm threshold at that width (σ
        taken within its bounds, :func:`oco2explore.noise.significance_threshold`).
        """
        if self.false_peaks_per_10000km is not None:
            return _false_alarm_limit(
                min(max(float(sigma_km), self.sigma_min_km), self.sigma_max_km)
                if math.isfinite(sigma_km)
                else self.sigma_min_km,
                self.false_peaks_per_10000km,
                self.sigma_min_km,
                self.sigma_max_km,
            )
        if self.significance_min is None:
            return None
        if self.significance_scale_km is None:
            return self.significance_min
        return self.significance_min * max(1.0, sigma_km / self.significance_scale_km)


@functools.lru_cache(maxsize=4096)
def _false_alarm_limit(
    sigma_km: float, rate: float, sigma_min_km: float, sigma_max_km: float
) -> float:
    """:func:`oco2explore.noise.significance_threshold`, cached (the scan asks it often)."""
    from .noise import significance_threshold

    return float(significance_threshold(sigma_km, rate, sigma_min_km, sigma_max_km))


#: Named configurations (:meth:`FitConfig.preset`). ``"v2"``: detector v2, the defaults
#: (issue #15, ``docs/detection.md``): the per-orbit noise model, a false-alarm threshold
#: of 0.1 expected noise peaks per 10,000 km, σ from 1 km (a footprint is 1.3 km wide)
#: to 40 km (city domes are 20–40 km wide) in ±120 km windows (3σ at the widest), two
#: distinct positions under the peak and the artefact check. ``"v1"``: the detector
#: before it (fixed 0.28 ppm / 3.5 km correlated error, a threshold of 25 growing with
#: σ above 3 km, σ 2–33 km in ±100 km windows), kept for comparison.
PRESETS: dict[str, dict[str, Any]] = {
    "v1": {
        "half_width_km": 100.0,
        "sigma_min_km": 2.0,
        "sigma_max_km": 33.0,
        "noise_estimated": False,
        "false_peaks_per_10000km": None,
        "min_positions": None,
        "artefact_check": False,
        "min_soundings": 50,
        "min_support": 3,
        "support_km": None,
        "scale_space_candidates": False,
        "nested_ratio": None,
    },
    "v2": {},
}


@dataclass(frozen=True)
class MatchConfig(ConfigFields):
    """Search radius and scoring scales of the attribution (see the module docstring).

    The defaults were chosen on simulated truth (``benchmarks/bench_match.py``):
    plumes of weak winds (1–2 m/s) stay visible 50–150 km downwind, so the plume
    age defining the radius is a generous 12 h, with the radius kept within
    50–150 km; the direction term, not the radius, keeps far sources off the top
    ranks. σ_θ = 15° is the typical error of a reanalysis 10 m wind direction
    against the plume's transport direction.

    Attributes
    ----------
    max_plume_age_h : float
        Plume age defining the search radius, h (radius = wind speed × age).
    radius_min_km, radius_max_km : float
        Bounds of the search radius, km.
    radius_km : float or None
        Fixed search radius, km, overriding the wind-based one.
    wind_direction_sigma_deg : float
        1-σ error of the wind direction, degrees.
    position_sigma_km : float
        1-σ scale of the peak-centre and site-position mismatch, km.
    size_sigma_ln : float
        1-σ of ln(observed / predicted Δ).
    min_wind_m_per_s : float
        Floor of the wind across the track and of the transport speed, m/s.
    default_wind_m_per_s : float
        Wind speed used when the peak has none, m/s.
    default_sigma_km : float
        Along-track plume width used when the peak has none, km.
    """

    max_plume_age_h: float = 12.0
    radius_min_km: float = 50.0
    radius_max_km: float = 150.0
    radius_km: float | None = None
    wind_direction_sigma_deg: float = 15.0
    position_sigma_km: float = 5.0
    size_sigma_ln: float = float(np.log(3.0))
    min_wind_m_per_s: float = 0.5
    default_wind_m_per_s: float = 3.0
    default_sigma_km: float = 10.0

    KIND = "match"

    def __post_init__(self) -> None:
        self.check_fields()
        positive = [f.name for f in dataclasses.fields(self) if f.name != "radius_km"]
        bad = [name for name in positive if not getattr(self, name) > 0]
        if self.radius_km is not None and not self.radius_km > 0:
            bad.append("radius_km")
        if not self.radius_min_km <= self.radius_max_km:
            bad.append("radius_min_km <= radius_max_km")
        if bad:
            raise InputError("invalid match configuration: need > 0: " + ", ".join(bad))
