"""Physical constants and unit conversions, defined once for the whole package.

The emission (:mod:`oco2explore.emission`), the inventories
(:mod:`oco2explore.inventory`), the attribution (:mod:`oco2explore.match`), the
geometry (:mod:`oco2explore.geo`) and the simulator read them from here.

One year is the Julian year, 365.25 days (8,766 h): the annual inventories give
mean rates, and the instantaneous emissions of the peaks are scaled to a year
with the same factor they are scaled back with.
"""

from __future__ import annotations

#: Molar mass of CO2, g/mol (IUPAC standard atomic weights: C 12.0107, O 15.9994).
M_CO2_G_PER_MOL = 44.0095
#: Molar mass of dry air, g/mol (U.S. Standard Atmosphere composition, as in the
#: Engineering ToolBox "Air - Molecular Weight and Composition").
M_AIR_G_PER_MOL = 28.9647
#: Standard acceleration of gravity, m/s² (3rd CGPM, 1901; exact).
G_STANDARD_M_PER_S2 = 9.80665
#: Standard sea-level pressure, hPa (ISO 2533 standard atmosphere).
STANDARD_PRESSURE_HPA = 1013.25
#: Mean Earth radius R1 of GRS 80 (IUGG, Moritz 2000), km.
EARTH_RADIUS_KM = 6371.0088

#: Pa per hPa.
PA_PER_HPA = 100.0
#: Metres per kilometre times mole fraction per ppm: ppm·km -> (mol/mol)·m.
PPM_KM_TO_M = 1e-6 * 1e3
#: Seconds in a Julian year (365.25 days).
SECONDS_PER_YEAR = 365.25 * 86400.0
#: Hours in a Julian year (8,766 h).
HOURS_PER_YEAR = SECONDS_PER_YEAR / 3600.0
