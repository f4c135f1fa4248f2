"""Column names, dtypes and units of the three tables of CONTRACT.md.

Every module reads and writes these names; users script against them. Columns
may be added; none listed here may be renamed or change unit.
"""

from __future__ import annotations

#: Sounding table (CONTRACT §1): column -> (dtype, unit).
SOUNDING_COLUMNS: dict[str, tuple[str, str]] = {
    "sounding_id": ("int64", ""),
    "time": ("datetime64[ns, UTC]", ""),
    "orbit": ("int32", ""),
    "footprint": ("int8", ""),
    "latitude": ("float64", "degrees_north"),
    "longitude": ("float64", "degrees_east"),
    "xco2": ("float64", "ppm"),
    "xco2_uncertainty": ("float64", "ppm"),
    "xco2_quality_flag": ("int8", ""),
    "windspeed_u_met": ("float64", "m/s"),
    "windspeed_v_met": ("float64", "m/s"),
    "psurf": ("float64", "hPa"),
    "psurf_apriori": ("float64", "hPa"),
    "tcwv": ("float64", "kg/m2"),
    "land_water_indicator": ("int8", ""),
    "land_fraction": ("float64", "%"),
    "altitude": ("float64", "m"),
    "operation_mode": ("int8", ""),
    "albedo_o2a": ("float64", ""),
    "albedo_wco2": ("float64", ""),
    "albedo_sco2": ("float64", ""),
    "aod_total": ("float64", ""),
    "altitude_stddev": ("float64", "m"),
    "windspeed": ("float64", "m/s"),
    "distance_km": ("float64", "km"),
}

#: Retrieval diagnostics that correlate with XCO2 biases (bright surfaces, aerosol, rough
#: terrain): band albedos (O2 A, weak CO2, strong CO2), total cloud+aerosol optical depth at
#: 0.755 µm, and the spread of the surface altitude within the footprint (m).
DIAGNOSTIC_COLUMNS = ("albedo_o2a", "albedo_wco2", "albedo_sco2", "aod_total", "altitude_stddev")

#: Float columns every reader returns, NaN when a file lacks them: the diagnostics and the
#: retrieved surface wind speed (m/s, no direction; the emission uses the met wind components).
OPTIONAL_COLUMNS = (*DIAGNOSTIC_COLUMNS, "windspeed")

#: Minimal input for fitting and detection.
SOUNDING_REQUIRED = ("orbit", "latitude", "longitude", "xco2")

#: Peak table (CONTRACT §2), in output order.
PEAK_COLUMNS: tuple[str, ...] = (
    "peak_id",
    "orbit",
    "sounding_id",
    "time",
    "latitude",
    "longitude",
    "distance_km",
    "slope",
    "intercept",
    "amplitude",
    "sigma_km",
    "delta_ppm",
    "amplitude_err",
    "sigma_km_err",
    "delta_ppm_err",
    "r",
    "r2",
    "significance",
    "n_soundings",
    "n_left",
    "n_right",
    "windspeed_u",
    "windspeed_v",
    "wind_perp",
    "emission_kg_per_s",
    "emission_err_kg_per_s",
    "emission_mt_per_yr",
    "passed",
    "reject_reason",
)

#: Source table (CONTRACT §3): column -> (dtype, unit).
SOURCE_COLUMNS: dict[str, tuple[str, str]] = {
    "source_id": ("string", ""),
    "name": ("string", ""),
    "kind": ("string", ""),
    "fuel": ("string", ""),
    "latitude": ("float64", "degrees_north"),
    "longitude": ("float64", "degrees_east"),
    "emission_t_per_yr": ("float64", "t CO2/yr"),
    "inventory": ("string", ""),
}

#: Columns a match row adds to a peak row (CONTRACT §3).
MATCH_COLUMNS: tuple[str, ...] = (
    "source_id",
    "name",
    "kind",
    "source_latitude",
    "source_longitude",
    "source_emission_t_per_yr",
    "source_distance_km",
    "bearing_deg",
    "upwind_angle_deg",
    "predicted_delta_ppm",
    "rank",
)
