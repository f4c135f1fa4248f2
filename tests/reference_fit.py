"""The former bounded fit of :func:`oco2explore.fit.fit_window`, kept as a test reference.

:func:`reference_solve` is the solver ``fit_window`` used before its variable-projection
Newton fit (``oco2explore.fit._solve``): :func:`scipy.optimize.least_squares`
(trust-region reflective, analytic Jacobian, ``ftol = xtol = gtol = 1e-6``) on all five
parameters, started from the linear solution at the starting (σ, shift) with ``A`` clipped
to its bounds and the line fitted under that Gaussian. It has the signature of
``_solve``, so :func:`reference_solver` swaps it in: ``tests/test_fit.py`` compares the
two on the windows of :func:`comparison_windows`, and ``benchmarks/bench_fit.py`` times
both on the same windows and in the scan.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import netCDF4
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import least_squares

from oco2explore import fit
from oco2explore.config import FitConfig
from oco2explore.fit import FitResult, best_amplitude, fit_window, gaussian, gaussian_on_line
from oco2explore.geo import haversine_km
from oco2explore.scan import candidate_significance
from oco2explore.simulate import REAL_CORRELATED_ERROR_PPM, simulate_orbit
from oco2explore.soundings import add_distance_km

#: Tolerance (``ftol``, ``xtol``, ``gtol``) of the former fit.
FIT_TOL = 1e-6


def _residuals(p: NDArray, t: NDArray, w: NDArray, y: NDArray) -> NDArray:
    m, b0, a, s, c = p
    return w * (m * t + b0 + gaussian(t - c, a, s) - y)


def _jacobian(p: NDArray, t: NDArray, w: NDArray) -> NDArray:
    m, b0, a, s, c = p
    u = t - c
    phi = gaussian(u, 1.0, s)
    return (
        np.column_stack(
            [t, np.ones_like(t), phi, a * phi * (u * u / s**3 - 1.0 / s), a * phi * u / s**2]
        )
        * w[:, None]
    )


def start_params(
    t: NDArray, w: NDArray, y: NDArray, lower: NDArray, upper: NDArray, sigma: float, shift: float
) -> NDArray:
    """The former starting point: A clipped at (σ, shift), then the line under that Gaussian."""
    w2 = w * w
    phi = gaussian(t - shift, 1.0, sigma)
    sums = [w2.sum(), w2 @ t, w2 @ (t * t), w2 @ y, w2 @ (t * y), w2 @ (y * y)]
    _, gy, gg = gaussian_on_line(*sums, w2 @ phi, w2 @ (t * phi), w2 @ (y * phi), w2 @ (phi * phi))
    amp, _ = best_amplitude(np.array([gy]), np.array([gg]), lower[2], upper[2])
    design = np.column_stack([t, np.ones_like(t)]) * w[:, None]
    (m, b0), *_ = np.linalg.lstsq(design, (y - amp[0] * phi) * w, rcond=None)
    return np.clip(np.array([m, b0, amp[0], sigma, shift]), lower, upper)


def reference_solve(
    t: NDArray, w: NDArray, y: NDArray, lower: NDArray, upper: NDArray, start: tuple[float, float]
) -> fit._Solution:
    """The former bounded least-squares fit, with the interface of ``oco2explore.fit._solve``."""
    fixed_center = lower[4] == upper[4]
    p0 = start_params(t, w, y, lower, upper, *start)
    free = np.arange(4 if fixed_center else 5)

    def full(q: NDArray) -> NDArray:
        return np.concatenate([q, [0.0]]) if fixed_center else q

    sol = least_squares(
        lambda q: _residuals(full(q), t, w, y),
        p0[free],
        jac=lambda q: _jacobian(full(q), t, w)[:, free],
        bounds=(lower[free], upper[free]),
        x_scale="jac",
        method="trf",
        ftol=FIT_TOL,
        xtol=FIT_TOL,
        gtol=FIT_TOL,
    )
    return fit._Solution(
        full(sol.x), float(2.0 * sol.cost), sol.jac, bool(sol.success), sol.message
    )


@contextmanager
def reference_solver() -> Iterator[None]:
    """Within the block, :func:`oco2explore.fit.fit_window` (and the scan) use the former fit."""
    with mock.patch.object(fit, "_solve", reference_solve):
        yield


@dataclass
class Window:
    """One call of :func:`oco2explore.fit.fit_window`: data, centre, start and bounds."""

    label: str
    x: NDArray
    y: NDArray
    uncertainty: NDArray | None
    center_km: float
    sigma_start_km: float | None
    config: FitConfig

    def fit(self) -> FitResult:
        """``fit_window`` on this window (with whichever solver is in place)."""
        return fit_window(
            self.x,
            self.y,
            self.center_km,
            self.config,
            self.uncertainty,
            sigma_start_km=self.sigma_start_km,
        )

    def chi2(self, res: FitResult) -> float:
        """Weighted χ² of a fit's model over its window (NaN for a failed fit)."""
        if not res.success:
            return np.nan
        inside = np.abs(self.x - self.center_km) <= self.config.half_width_km
        w = 1.0 if self.uncertainty is None else 1.0 / self.uncertainty[inside]
        return float((((self.y[inside] - res.model(self.x[inside])) * w) ** 2).sum())


#: Simulated orbits of the comparison: 11522 crosses the Highveld plants, 11530 others.
ORBITS = (11522, 11530)


def comparison_windows(real: Path, seed: int = 0) -> list[Window]:
    """Windows on which the new and the former fit are compared (about 470).

    * simulated orbits (:func:`oco2explore.simulate.simulate_orbit`, white noise and the
      real-like correlated error): the scan's strongest candidates, started at their
      width as the scan does, and random centres with the global start;
    * the real OCO-2 soundings in ``real``: the Highveld pass (equal weights, global
      start; 0.5 ppm, started at 4 km), its plume-free segments, and the California
      passes (``california/``, the JPL subset file: passes from time gaps, distance
      along the latitude-sorted pass), also with σ up to 40 km started at 20 km;
    * synthetic frames on the bounds: plumes narrower than ``sigma_min_km``, broader
      than ``sigma_max_km``, beyond ``center_shift_max_km``, dips (A on its bound),
      with a fixed centre, and with bounds on the slope and the intercept.
    """
    rng = np.random.default_rng(seed)
    config = FitConfig.preset("v1")  # the former fit's bounds and thresholds
    out: list[Window] = []
    for rms in (0.0, REAL_CORRELATED_ERROR_PPM):
        for orbit in ORBITS:
            s, _ = simulate_orbit(orbit, seed=1, correlated_error_ppm=rms)
            s = add_distance_km(s)
            s = s[s["xco2_quality_flag"] == 0].sort_values("distance_km")
            x, y = s["distance_km"].to_numpy(), s["xco2"].to_numpy()
            u = s["xco2_uncertainty"].to_numpy()
            cand = candidate_significance(x, y, 1.0 / u, config)
            strong = cand[cand["significance"] > 5.0].nlargest(40, "significance")
            label = f"simulated orbit {orbit}, correlated error {rms:g} ppm"
            for c, sigma in zip(strong["center_km"], strong["sigma_km"], strict=True):
                out.append(Window(f"{label}, candidate", x, y, u, c, sigma, config))
            for c in rng.uniform(x.min(), x.max(), 25):
                out.append(Window(f"{label}, random centre", x, y, u, c, None, config))
    highveld = pd.read_csv(real / "oco2_orbit11522_20160831_highveld_peak.csv")
    x, y = highveld["distance_km"].to_numpy(), highveld["xco2"].to_numpy()
    for c in np.arange(-150.0, 151.0, 10.0):
        out.append(Window("real Highveld", x, y, None, c, None, config))
        out.append(Window("real Highveld, 0.5 ppm", x, y, np.full(x.size, 0.5), c, 4.0, config))
    for name in ("segment_5700_6400km", "segment_6400_6700km"):
        seg = pd.read_csv(real / f"oco2_orbit11522_20160831_{name}.csv")
        x, y = seg["distance_km"].to_numpy(), seg["xco2"].to_numpy()
        for c in np.linspace(x.min() + 20.0, x.max() - 20.0, 20):
            out.append(Window(f"real plume-free {name}", x, y, None, c, None, config))
    wide = config.replace(sigma_max_km=40.0)
    for x, y in california_passes(real / "california"):
        for c in rng.uniform(x.min(), x.max(), 6):
            out.append(Window("real California", x, y, None, c, None, config))
            out.append(Window("real California, σ ≤ 40 km", x, y, np.ones(x.size), c, 20.0, wide))
    frames = np.repeat(np.arange(-100.0, 100.0, 2.25), 8)
    fixed = config.replace(center_shift_max_km=0.0)
    bounded = config.replace(slope_max=0.005, intercept_min=399.9, intercept_max=400.05)
    for k in range(20):
        y = 400.0 + rng.normal(0.0, 0.6, frames.size)
        kind, sigma = [
            ("narrower than sigma_min_km", 2.0),
            ("broader than sigma_max_km", 20.0),
            ("beyond center_shift_max_km", 5.0),
            ("a dip", 5.0),
        ][k % 4]
        y += [
            gaussian(frames - rng.uniform(-3.0, 3.0), 6.0, 1.0),
            gaussian(frames, 250.0, 60.0),
            gaussian(frames - 16.0, 40.0, 5.0),
            -gaussian(frames, 40.0, 5.0),
        ][k % 4]
        u = np.full(frames.size, 0.6)
        out.append(Window(f"bounds: {kind}", frames, y, u, 0.0, sigma, config))
        out.append(Window(f"bounds: {kind}, fixed centre", frames, y, None, 0.0, None, fixed))
        out.append(
            Window(
                f"bounds: {kind}, slope and intercept",
                frames,
                y + 0.02 * frames,
                None,
                0.0,
                sigma,
                bounded,
            )
        )
    return out


def california_passes(folder: Path) -> Iterator[tuple[NDArray, NDArray]]:
    """(distance km, xco2 ppm) of each long pass of the real California subset file.

    Passes are split at time gaps over 10 minutes; passes under 300 soundings or
    1° of latitude (target-mode clusters) are skipped; the distance is along the
    pass sorted by latitude.
    """
    (path,) = folder.glob("*.nc")
    with netCDF4.Dataset(path) as ds:
        time = pd.to_datetime(np.asarray(ds["time"][:]), format="%Y%m%d%H%M%S")
        lat, lon, xco2 = (np.asarray(ds[v][:], dtype=float) for v in ("lat", "lon", "xco2"))
    seconds = time.to_numpy().astype("datetime64[s]").astype(np.int64)
    order = np.argsort(seconds, kind="stable")
    cuts = np.flatnonzero(np.diff(seconds[order]) > 600) + 1
    for part in np.split(order, cuts):
        if part.size < 300 or np.ptp(lat[part]) < 1.0:
            continue
        part = part[np.argsort(lat[part], kind="stable")]
        step = haversine_km(lat[part][:-1], lon[part][:-1], lat[part][1:], lon[part][1:])
        yield np.concatenate([[0.0], np.cumsum(step)]), xco2[part]
