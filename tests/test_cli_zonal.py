"""`geo-township zonal` through Click: formats, languages, --join, and bad input."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from pyproj import Geod
from rasterio.transform import from_origin

from geo_township.cli import main
from geo_township.units import M2_PER_MU

GEOD = Geod(ellps="GRS80")


def run(runner, *args):
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def town(tiny_township):
    """The tiny township with a land-cover raster: forest west of 117.5°E, farmland east."""
    lc = np.ones((26, 46), dtype="uint8")
    lc[:, 22:] = 2
    with rasterio.open(tiny_township / "landcover.tif", "w", driver="GTiff", width=46, height=26, count=1,
                       dtype="uint8", crs="EPSG:4490", transform=from_origin(117.489, 30.501, 0.0005, 0.0005),
                       nodata=0) as ds:
        ds.write(lc, 1)
    ndvi = np.linspace(0.2, 0.9, 46 * 26, dtype="float32").reshape(26, 46)
    with rasterio.open(tiny_township / "ndvi.tif", "w", driver="GTiff", width=46, height=26, count=1,
                       dtype="float32", crs="EPSG:4490", transform=from_origin(117.489, 30.501, 0.0005, 0.0005),
                       nodata=-1) as ds:
        ds.write(ndvi, 1)
    with open(tiny_township / "township.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[rasters.landcover]\npath = "landcover.tif"\nclasses = { "1" = "forest", "2" = "耕地" }\n'
                 '\n[rasters.ndvi]\npath = "ndvi.tif"\n')
    return tiny_township


def test_class_areas_csv_for_excel(runner, town):
    from township_shapes import EAST, WEST

    result = run(runner, "zonal", "landcover", "--layer", "villages", "--format", "csv", "--township", town)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("\ufeff")
    table = pd.read_csv(io.StringIO(result.stdout.lstrip("\ufeff")))
    assert list(table.columns) == ["village", "area_mu", "lc_forest", "lc_farmland", "nodata"]
    west = abs(GEOD.geometry_area_perimeter(WEST)[0]) / M2_PER_MU
    east = abs(GEOD.geometry_area_perimeter(EAST)[0]) / M2_PER_MU
    rows = table.set_index("village")
    assert rows.loc["甲村", "lc_forest"] == pytest.approx(west, rel=1e-4)
    assert rows.loc["乙村", "lc_farmland"] == pytest.approx(east, rel=1e-4)
    assert rows.loc["Total", "area_mu"] == pytest.approx(west + east, rel=1e-4)


def test_chinese_headings(runner, town):
    result = run(runner, "zonal", "landcover", "--by", "village", "--lang", "zh", "--township", town)
    assert result.exit_code == 0
    for word in ("林地", "耕地", "面积(亩)", "合计", "类别"):
        assert word in result.stdout


def test_statistics_json_with_percentiles(runner, town):
    result = run(runner, "zonal", "ndvi", "--stats", "mean,median", "--percentiles", "10,90", "--format", "json",
                 "--township", town)
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["provenance"]["raster"] == "ndvi"
    assert doc["provenance"]["raster_crs"] == "EPSG:4490"
    row = doc["tables"]["summary"][0]
    assert set(row) == {"plot_id", "village", "area_mu", "valid_pct", "mean", "median", "p10", "p90"}
    assert row["p10"] < row["median"] < row["p90"]


def test_join_writes_a_geopackage(runner, town, tmp_path):
    out = tmp_path / "plots_ndvi.gpkg"
    result = run(runner, "zonal", "ndvi", "--join", out, "--format", "csv", "--township", town)
    assert result.exit_code == 0
    assert "wrote layer forest_plots_ndvi" in result.stderr
    table = pd.read_csv(io.StringIO(result.stdout.lstrip("\ufeff")), dtype={"plot_id": str})
    joined = gpd.read_file(out, layer="forest_plots_ndvi")
    assert list(joined["plot_id"]) == ["001", "002"]
    assert np.allclose(joined["ndvi_mean"], table["mean"].iloc[:2], atol=1e-4)
    # a second raster goes into the same GeoPackage as another layer
    assert run(runner, "zonal", "landcover", "--join", out, "--township", town).exit_code == 0
    assert {name for name, _ in pyogrio.list_layers(out)} == {"forest_plots_ndvi", "forest_plots_landcover"}


@pytest.mark.parametrize(("args", "message"), [
    (["nope"], "no raster called 'nope'"),
    (["ndvi", "--stats", "mode"], "'mode' is not a statistic"),
    (["ndvi", "--percentiles", "0,50"], "between 0 and 100"),
    (["ndvi", "--join", "out.shp"], "not a GeoPackage"),
    (["ndvi", "--layer", "infected_trees"], "need polygons"),
    (["ndvi", "--by", "colour"], "no field 'colour'"),
])
def test_bad_input_exits_2_with_a_message(runner, town, args, message):
    result = run(runner, "zonal", *args, "--township", town)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_sample_land_cover_of_every_village_adds_up(runner, sample_dir):
    """The sample's land-cover map (EPSG:4490) over its villages (GeoPackage, EPSG:4490) read
    through township.toml: each village's classes add up to the area `area` reports."""
    result = run(runner, "zonal", "landcover", "--layer", "villages", "--format", "csv", "--township", sample_dir)
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout.lstrip("\ufeff"))).set_index("village")
    classes = [c for c in table.columns if c.startswith("lc_")] + ["nodata"]
    assert {"lc_forest", "lc_farmland", "lc_water", "lc_built_up"} <= set(classes)
    assert np.allclose(table[classes].sum(axis=1), table["area_mu"], atol=0.05)  # CSV has 2 decimals
    areas = run(runner, "area", "villages", "--by", "village", "--format", "csv", "--township", sample_dir)
    expected = pd.read_csv(io.StringIO(areas.stdout.lstrip("\ufeff"))).set_index("group")["area_mu"]
    assert np.allclose(table.loc[expected.index, "area_mu"], expected, atol=0.005)
    # forest is most of the township; the rim of nodata is outside every village
    assert table.loc["Total", "lc_forest"] > 0.7 * table.loc["Total", "area_mu"]
    assert table.loc["Total", "nodata"] < 1e-3 * table.loc["Total", "area_mu"]
