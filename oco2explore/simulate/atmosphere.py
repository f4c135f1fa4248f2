"""The simulated atmosphere: background XCO2 and the daily 10 m wind.

Background XCO2 with a trend and a seasonal latitude gradient (the along-track
undulations are an orbit's random draws, :mod:`oco2explore.simulate.noise`), and a smooth
daily wind field that advects the plumes and is written to ``Meteorology/windspeed_u_met``
/ ``windspeed_v_met``. See :mod:`oco2explore.simulate`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..constants import SECONDS_PER_YEAR


@dataclasses.dataclass(frozen=True)
class Wind:
    """A smooth daily 10 m wind field: zonal bands plus random large-scale modes (m/s)."""

    k_lat: np.ndarray
    k_lon: np.ndarray
    phase: np.ndarray
    amp_u: np.ndarray
    amp_v: np.ndarray

    @classmethod
    def for_day(cls, seed: int, day: pd.Timestamp, modes: int = 6) -> Wind:
        """Random modes for one day (wavelengths ~2,000-6,000 km), deterministic in seed/day."""
        rng = np.random.default_rng([seed, day.toordinal(), 1])
        return cls(
            k_lat=rng.uniform(2.0, 6.0, modes),
            k_lon=rng.uniform(2.0, 6.0, modes) * rng.choice([-1, 1], modes),
            phase=rng.uniform(0, 2 * np.pi, modes),
            amp_u=rng.normal(0.0, 2.0, modes),
            amp_v=rng.normal(0.0, 2.0, modes),
        )

    def __call__(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Eastward and northward wind (m/s) at points (degrees)."""
        phi = np.radians(np.asarray(lat, dtype=float))[..., None]
        lam = np.radians(np.asarray(lon, dtype=float))[..., None]
        wave = np.sin(self.k_lat * phi + self.k_lon * lam + self.phase)
        zonal = np.where(np.abs(phi[..., 0]) < np.radians(60), -4.0 * np.cos(3 * phi[..., 0]), 4.0)
        return zonal + wave @ self.amp_u, wave @ self.amp_v


def background_xco2(time_s: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Smooth background XCO2 (ppm): 2.35 ppm/yr trend from 401.5 ppm in 2016 and a seasonal
    interhemispheric gradient (northern summer drawdown of ~1.5 ppm at high latitudes)."""
    years = np.asarray(time_s) / (SECONDS_PER_YEAR) + 1970.0
    season = np.cos(2 * np.pi * (years % 1.0 - 45.0 / 365.25))
    return 401.5 + 2.35 * (years - 2016.0) + 1.5 * np.sin(np.radians(lat)) * season
