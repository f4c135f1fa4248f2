from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from oco2explore import inventory
from oco2explore.constants import EARTH_RADIUS_KM, SECONDS_PER_YEAR
from oco2explore.errors import InputError, SchemaError
from oco2explore.schema import SOURCE_COLUMNS

#: Column layout of the WRI Global Power Plant Database v1.3.0 CSV.
WRI_COLUMNS = (
    ["country", "country_long", "name", "gppd_idnr", "capacity_mw", "latitude", "longitude"]
    + ["primary_fuel", "other_fuel1", "other_fuel2", "other_fuel3", "commissioning_year"]
    + ["owner", "source", "url", "geolocation_source", "wepp_id", "year_of_capacity_data"]
    + [f"generation_gwh_{y}" for y in range(2013, 2020)]
    + ["generation_data_source"]
    + [f"estimated_generation_gwh_{y}" for y in range(2013, 2018)]
    + [f"estimated_generation_note_{y}" for y in range(2013, 2018)]
)


def wri_table(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame([{c: row.get(c, np.nan) for c in WRI_COLUMNS} for row in rows])
    return df[WRI_COLUMNS]


WRI_ROWS = [
    # Reported generation (latest year wins).
    dict(country="ZAF", name="Kendal", gppd_idnr="WRI1018679", capacity_mw=4116.0,
         latitude=-26.0882, longitude=28.9681, primary_fuel="Coal",
         generation_gwh_2018=20000.0, generation_gwh_2019=25000.0),
    # Estimated generation only.
    dict(country="ZAF", name="Gas A", gppd_idnr="WRI0000002", capacity_mw=500.0,
         latitude=-30.0, longitude=25.0, primary_fuel="Gas", estimated_generation_gwh_2017=1500.0),
    # Capacity only.
    dict(country="ZAF", name="Oil B", gppd_idnr="WRI0000003", capacity_mw=100.0,
         latitude=-31.0, longitude=26.0, primary_fuel="Oil"),
    # Not fossil.
    dict(country="ZAF", name="Hydro C", gppd_idnr="WRI0000004", capacity_mw=900.0,
         latitude=-29.0, longitude=27.0, primary_fuel="Hydro", generation_gwh_2019=3000.0),
]  # fmt: skip


def test_packaged_coco2_has_the_contract_columns_and_highveld_plants():
    sources = inventory.load_inventory("coco2")
    assert list(sources.columns[: len(SOURCE_COLUMNS)]) == list(SOURCE_COLUMNS)
    assert len(sources) == 12310 and sources["source_id"].is_unique
    for column, (dtype, _) in SOURCE_COLUMNS.items():
        assert str(sources[column].dtype) == dtype
    kendal = sources.set_index("source_id").loc["CoCO2_14613"]
    assert kendal["latitude"] == pytest.approx(-26.090, abs=1e-3)
    assert kendal["longitude"] == pytest.approx(28.969, abs=1e-3)
    assert kendal["emission_t_per_yr"] > 1e7


def test_wri_fossil_plants_get_generation_times_emission_factor(tmp_path):
    path = tmp_path / "global_power_plant_database.csv"
    wri_table(WRI_ROWS).to_csv(path, index=False)
    sources = inventory.load_inventory(path).set_index("name")
    assert list(sources.index) == ["Kendal", "Gas A", "Oil B"]
    factor = inventory.ELECTRICITY_CO2_T_PER_MWH
    assert factor["Coal"] == pytest.approx(94.6 * 3.6e-3 / 0.35)
    assert sources.loc["Kendal", "emission_t_per_yr"] == pytest.approx(25000e3 * factor["Coal"])
    assert sources.loc["Kendal", "generation_basis"] == "reported 2019"
    assert sources.loc["Gas A", "emission_t_per_yr"] == pytest.approx(1500e3 * factor["Gas"])
    assert sources.loc["Gas A", "generation_basis"] == "estimated 2017"
    # Capacity × a Julian year (8,766 h) × capacity factor.
    oil = 100.0 * 8766.0 * inventory.CAPACITY_FACTOR["Oil"] * factor["Oil"]
    assert sources.loc["Oil B", "emission_t_per_yr"] == pytest.approx(oil)
    assert set(sources["kind"]) == {"power_plant"}
    assert set(sources["inventory"]) == {"WRI-GPPD"}
    assert sources.loc["Kendal", "source_id"] == "WRI1018679"


@pytest.mark.parametrize(
    ("change", "column"),
    [
        (lambda df: df.drop(columns="primary_fuel"), "primary_fuel"),
        (lambda df: df.assign(latitude=[np.nan, -30.0, -31.0, -29.0]), "latitude"),
        (lambda df: df.assign(longitude=["28.9", "x", "26", "27"]), "longitude"),
    ],
)
def test_bad_wri_file_names_file_and_column(tmp_path, change, column):
    path = tmp_path / "gppd.csv"
    change(wri_table(WRI_ROWS)).to_csv(path, index=False)
    with pytest.raises(SchemaError) as err:
        inventory.load_inventory(path)
    assert str(path) in str(err.value) and repr(column) in str(err.value)


def edgar_dataset(variable: str, units: str, values: np.ndarray, lon0: float) -> xr.Dataset:
    lat = -27.0 + 0.05 + 0.1 * np.arange(values.shape[-2])
    lon = lon0 + 0.05 + 0.1 * np.arange(values.shape[-1])
    dims = ("lat", "lon") if values.ndim == 2 else ("time", "lat", "lon")
    ds = xr.Dataset({variable: (dims, values, {"units": units})}, coords={"lat": lat, "lon": lon})
    ds["lat"].attrs["units"] = "degrees_north"
    ds["lon"].attrs["units"] = "degrees_east"
    return ds


def test_edgar_flux_cells_above_threshold_become_grid_cells(tmp_path):
    flux = np.full((20, 30), 1e-12)
    lat_c = -27.0 + 0.05 + 0.1 * 4
    area = inventory.cell_area_m2(np.array([lat_c]), 0.1, 0.1)[0]
    flux[4, 7] = 5e9 / (area * SECONDS_PER_YEAR)  # 5 Mt/yr
    path = tmp_path / "v6.0_CO2_excl_short-cycle_org_C_2018_TOTALS.0.1x0.1.nc"
    # EDGAR v6 stores longitudes 0..360: 350.05 + 0.7 = 350.75 -> -9.25.
    edgar_dataset("emi_co2", "kg m-2 s-1", flux, lon0=350.0).to_netcdf(path)
    sources = inventory.load_inventory(path)
    assert len(sources) == 1
    row = sources.iloc[0]
    assert row["emission_t_per_yr"] == pytest.approx(5e6, rel=1e-6)
    assert row["latitude"] == pytest.approx(lat_c)
    assert row["longitude"] == pytest.approx(-9.25)
    assert row["kind"] == "grid_cell" and row["inventory"] == "EDGAR-2018"


def test_edgar_v8_tonnes_per_cell_are_summed_over_time(tmp_path):
    monthly = np.zeros((12, 5, 5))
    monthly[:, 2, 3] = 2e5  # 2.4 Mt/yr over the year
    path = tmp_path / "EDGAR_2022_GHG_CO2_2022_TOTALS_emi.nc"
    edgar_dataset("emissions", "Tonnes", monthly, lon0=28.0).to_netcdf(path)
    sources = inventory.load_edgar(path, threshold_t_per_yr=1e6)
    assert len(sources) == 1
    assert sources["emission_t_per_yr"].iloc[0] == pytest.approx(2.4e6)
    assert sources["longitude"].iloc[0] == pytest.approx(28.35)


def test_edgar_unknown_units_or_variable_name_the_file(tmp_path):
    path = tmp_path / "edgar.nc"
    edgar_dataset("emi_co2", "furlongs", np.ones((3, 3)), lon0=0.0).to_netcdf(path)
    with pytest.raises(SchemaError, match="'emi_co2': unknown units 'furlongs'") as err:
        inventory.load_inventory(path)
    assert str(path) in str(err.value)
    ds = edgar_dataset("emi_co2", "kg m-2 s-1", np.ones((3, 3)), lon0=0.0)
    ds.rename({"lat": "y"}).to_netcdf(path)
    with pytest.raises(SchemaError, match="missing coordinate 'lat'"):
        inventory.load_inventory(path)


def test_cell_areas_tile_the_sphere():
    lat = -90 + 0.5 + np.arange(180.0)
    total_m2 = inventory.cell_area_m2(lat, 1.0, 1.0).sum() * 360
    assert total_m2 == pytest.approx(4 * np.pi * (EARTH_RADIUS_KM * 1e3) ** 2, rel=1e-9)


def test_cities_from_population_or_emission(tmp_path):
    path = tmp_path / "cities.csv"
    pd.DataFrame(
        {
            "name": ["Johannesburg", "Pretoria"],
            "lat": [-26.2041, -25.7479],
            "lon": [28.0473, 28.2293],
            "population": [5.6e6, 2.5e6],
        }
    ).to_csv(path, index=False)
    cities = inventory.load_inventory(path)
    assert set(cities["kind"]) == {"city"}
    assert cities["emission_t_per_yr"].tolist() == pytest.approx(
        [5.6e6 * inventory.PER_CAPITA_T_PER_YR, 2.5e6 * inventory.PER_CAPITA_T_PER_YR]
    )
    assert cities["source_id"].tolist() == ["city:Johannesburg", "city:Pretoria"]
    low = inventory.load_cities(path, per_capita_t_per_yr=1.0)
    assert low["emission_t_per_yr"].tolist() == [5.6e6, 2.5e6]

    pd.DataFrame(
        {"name": ["X"], "latitude": [1.0], "longitude": [2.0], "emission_mt_per_yr": [3]}
    ).to_csv(path, index=False)
    assert inventory.load_inventory(path)["emission_t_per_yr"].tolist() == [3e6]
    pd.DataFrame({"name": ["X"], "latitude": [1.0], "longitude": [2.0], "area": [3]}).to_csv(
        path, index=False
    )
    with pytest.raises(SchemaError, match="'emission_t_per_yr'") as err:
        inventory.load_inventory(path)
    assert str(path) in str(err.value)


def test_source_table_csv_is_validated(tmp_path):
    path = tmp_path / "my_sources.csv"
    table = pd.DataFrame(
        {
            "source_id": ["a", "b"],
            "latitude": [10.0, 11.0],
            "longitude": [190.0, 20.0],
            "emission_t_per_yr": [1e6, 2e6],
        }
    )
    table.to_csv(path, index=False)
    sources = inventory.load_inventory(path)
    assert sources["longitude"].tolist() == [-170.0, 20.0]
    assert sources["inventory"].tolist() == ["my_sources", "my_sources"]
    assert list(sources.columns[:8]) == list(SOURCE_COLUMNS)
    table.assign(latitude=[10.0, np.nan]).to_csv(path, index=False)
    with pytest.raises(SchemaError, match=r"'latitude': 1 row\(s\) without a value") as err:
        inventory.load_inventory(path)
    assert str(path) in str(err.value)
    table.drop(columns="emission_t_per_yr").to_csv(path, index=False)
    with pytest.raises(SchemaError, match="missing column 'emission_t_per_yr'"):
        inventory.load_inventory(path)


def test_unknown_inventory_name_is_a_user_error():
    with pytest.raises(InputError, match="not a packaged inventory"):
        inventory.load_inventory("edgar_v99")


def test_combined_inventories_drop_duplicates_of_higher_priority(tmp_path, caplog):
    wri = tmp_path / "gppd.csv"
    wri_table(WRI_ROWS).to_csv(wri, index=False)
    cities = pd.DataFrame(
        {"name": ["Ogies"], "latitude": [-26.09], "longitude": [28.97], "population": [1e5]}
    )
    cities_path = tmp_path / "cities.csv"
    cities.to_csv(cities_path, index=False)
    cell = pd.DataFrame(
        {
            "source_id": ["EDGAR_x", "EDGAR_y"],
            "kind": "grid_cell",
            "latitude": [-26.10, -20.0],
            "longitude": [28.95, 20.0],
            "emission_t_per_yr": [3e7, 2e6],
        }
    )
    with caplog.at_level("INFO"):
        combined = inventory.load_inventories(["coco2", wri, cities_path, cell])
    ids = set(combined["source_id"])
    assert "CoCO2_14613" in ids
    assert "WRI1018679" not in ids  # Kendal again, 200 m from CoCO2's Kendal
    assert {"WRI0000002", "WRI0000003"} <= ids  # no CoCO2 site within 5 km
    assert "city:Ogies" in ids  # a city is not a duplicate of a power plant
    assert "EDGAR_x" not in ids and "EDGAR_y" in ids  # the cell around Kendal is dropped
    assert len(combined) == 12310 + 2 + 1 + 1
    assert "dropped as duplicates" in caplog.text
    assert len(inventory.load_inventories(["coco2", wri], dedup_km=0)) == 12310 + 3


def test_coco2_sites_carry_the_gppd_plant_names():
    sites = inventory.load_inventory("coco2")
    kendal = sites[sites["source_id"] == "CoCO2_14613"].iloc[0]
    assert kendal["name"] == "Kendal power station" and kendal["country"] == "ZAF"
    assert kendal["capacity_mw"] == 4116.0
    named = sites["name"].str.len() > 0
    assert 0.4 < named.mean() < 0.6  # 46.1 % of the sites (README), 72 % of the emission
    assert sites.loc[named, "emission_t_per_yr"].sum() / sites["emission_t_per_yr"].sum() > 0.7


def test_packaged_names_are_what_the_join_script_builds(real_data):
    import importlib.util

    gppd = real_data.parent / "gppd" / "global_power_plant_database.csv"
    if not gppd.is_file():
        pytest.skip(f"GPPD not found at {gppd}")
    script = Path(__file__).resolve().parents[1] / "scripts" / "build_plant_names.py"
    spec = importlib.util.spec_from_file_location("build_plant_names", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sites = pd.read_csv(module.SITES)
    built = module.join_names(sites, pd.read_csv(gppd, low_memory=False))
    packaged = pd.read_csv(module.OUT)
    pd.testing.assert_frame_equal(built, packaged, check_dtype=False)
    assert built["source_id"].is_unique and built["gppd_idnr"].is_unique
    assert (built["distance_km"] <= module.MAX_KM).all()
