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
import shapely
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


def test_join_writes_kml_through_the_exporter(runner, town, tmp_path):
    out = tmp_path / "plots_ndvi.kml"
    result = run(runner, "zonal", "ndvi", "--join", out, "--format", "csv", "--township", town)
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout.lstrip("\ufeff")), dtype={"plot_id": str})
    assert [name for name, _ in pyogrio.list_layers(out)] == ["forest_plots_ndvi"]  # GDAL's own KML reader
    back = pyogrio.read_dataframe(out, layer="forest_plots_ndvi")
    assert list(back["Name"]) == ["001", "002"]  # placemarks named by plot id
    assert np.allclose(back["ndvi_mean"].astype(float), table["mean"].iloc[:2], atol=1e-4)


def test_join_keeps_every_field_of_the_layer_row_for_row(runner, town, tmp_path):
    """Four plots, listed out of id order, with fields of their own: every field comes back,
    and each row's statistics are those of its own polygon (a hand-worked mean on the
    linear NDVI ramp, checked against an exact pixel overlap)."""
    plots = gpd.GeoDataFrame(
        {"小班号": ["104", "101", "103", "102"], "村名": ["乙村", "甲村", "乙村", "甲村"],
         "优势树种": ["马尾松", "杉木", "湿地松", "马尾松"], "起源": ["天然", "人工", "人工", "天然"],
         "造林年度": [0, 2005, 2012, 0], "备注": ["坡陡", "", "近河", "路边"]},
        geometry=[shapely.box(117.5022, 30.4911, 117.5081, 30.4953), shapely.box(117.4903, 30.4907, 117.4962, 30.4988),
                  shapely.box(117.5013, 30.4957, 117.5097, 30.4993), shapely.box(117.4921, 30.4912, 117.4933, 30.4925)],
        crs=4490).to_crs(4527)
    plots.to_file(town / "plots.shp", encoding="GBK")
    (town / "plots.cpg").unlink(missing_ok=True)
    out = tmp_path / "joined.gpkg"
    result = run(runner, "zonal", "ndvi", "--join", out, "--township", town)
    assert result.exit_code == 0, result.stderr
    joined = gpd.read_file(out, layer="forest_plots_ndvi")
    assert list(joined["plot_id"]) == ["104", "101", "103", "102"]  # the layer's own order
    assert list(joined["village"]) == ["乙村", "甲村", "乙村", "甲村"]
    assert list(joined["species"]) == ["masson_pine", "chinese_fir", "slash_pine", "masson_pine"]
    assert list(joined["origin"]) == ["natural", "planted", "planted", "natural"]
    assert list(joined["planted_year"]) == [0, 2005, 2012, 0]
    assert list(joined["备注"].fillna("")) == ["坡陡", "", "近河", "路边"]  # the file's own field
    with rasterio.open(town / "ndvi.tif") as ds:
        data, transform = ds.read(1), ds.transform
    rows, cols = np.mgrid[0:data.shape[0], 0:data.shape[1]]
    x0, y0 = transform @ (cols, rows)
    x1, y1 = transform @ (cols + 1, rows + 1)
    cells = shapely.box(x0, y1, x1, y0)
    for geom, mean, area in zip(joined.to_crs(4490).geometry, joined["ndvi_mean"], joined["area_mu"], strict=True):
        cover = shapely.area(shapely.intersection(cells, geom)) / shapely.area(cells)
        assert mean == pytest.approx((cover * data).sum() / cover.sum(), rel=1e-6)
        assert area == pytest.approx(abs(GEOD.geometry_area_perimeter(geom)[0]) / M2_PER_MU, rel=1e-4)
    # in Chinese, coded values are words; field names stay
    zh = tmp_path / "zh.gpkg"
    assert run(runner, "zonal", "ndvi", "--join", zh, "--lang", "zh", "--township", town).exit_code == 0
    joined = gpd.read_file(zh, layer="forest_plots_ndvi")
    assert list(joined["species"]) == ["马尾松", "杉木", "湿地松", "马尾松"]
    assert list(joined["origin"]) == ["天然", "人工", "人工", "天然"]


def test_layers_without_polygons(runner, town):
    """Lines only, points only (a KML), or a point kind: exit 2 naming the layer and the layers
    that really hold polygons; a layer mixing lines with a lake: the lake's statistics and the
    lines listed as left out."""
    gpd.GeoDataFrame({"name": ["青溪", "石河"], "reach_id": ["R1", "R2"]},
                     geometry=[shapely.LineString([(117.49, 30.495), (117.51, 30.497)]),
                               shapely.LineString([(117.50, 30.49), (117.505, 30.50)])],
                     crs=4490).to_file(town / "rivers.geojson")
    gpd.GeoDataFrame({"name": ["沙场"], "status": ["illegal"]}, geometry=[shapely.Point(117.495, 30.495)],
                     crs=4490).to_file(town / "sand.kml", driver="KML")
    with open(town / "township.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[layers.rivers]\npath = "rivers.geojson"\n\n[layers.sand_sites]\npath = "sand.kml"\n')
    for layer, what in (("rivers", "rivers holds no polygons: its 2 feature(s) are lines"),
                        ("sand_sites", "sand_sites holds no polygons: its 1 feature(s) are points"),
                        ("infected_trees", "infected_trees holds points")):
        result = run(runner, "zonal", "ndvi", "--layer", layer, "--township", town)
        assert result.exit_code == 2, layer
        assert what in result.stderr
        assert " ".join(result.stderr.split("--layer: ")[1].split()) == "villages, forest_plots"
        assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    lakes = gpd.read_file(town / "rivers.geojson")
    lakes.loc[len(lakes)] = {"name": "龙潭", "reach_id": "L1",
                             "geometry": shapely.box(117.500, 30.492, 117.503, 30.494)}
    lakes.to_file(town / "rivers.geojson")
    result = run(runner, "zonal", "ndvi", "--layer", "rivers", "--format", "json", "--township", town)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [r["reach_id"] for r in doc["tables"]["summary"]] == ["L1", "Total"]
    assert doc["tables"]["summary"][0]["mean"] > 0.2
    assert {(f["feature"], f["check"]) for f in doc["tables"]["findings"]} == {("R1", "not_polygon"),
                                                                             ("R2", "not_polygon")}


def test_chinese_workbook_sheets(runner, town, tmp_path):
    out = tmp_path / "x.xlsx"
    result = run(runner, "zonal", "landcover", "--layer", "villages", "--lang", "zh", "-o", out, "--township", town)
    assert result.exit_code == 0, result.stderr
    import openpyxl

    assert openpyxl.load_workbook(out).sheetnames[:2] == ["汇总", "各地类合计"]


@pytest.mark.parametrize(("args", "message"), [
    (["nope"], "no raster called 'nope'"),
    (["landcover.tif"], "'landcover.tif' is the raster landcover"),
    (["ndvi", "--stats", "mode"], "'mode' is not a statistic"),
    (["ndvi", "--percentiles", "0,50"], "between 0 and 100"),
    (["ndvi", "--join", "out.txt"], "cannot tell the format of out.txt"),
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


def test_info_lists_the_rasters_with_their_grid(runner, town):
    """`info` shows each [rasters] entry's size, pixel and CRS from its header, and says why
    a raster cannot be read instead of failing."""
    (town / "broken.tif").write_bytes(b"not a raster")
    with open(town / "township.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[rasters.broken]\npath = "broken.tif"\n')
    result = run(runner, "info", "--format", "json", "--township", town)
    assert result.exit_code == 0, result.stderr
    rasters = {r["raster"]: r for r in json.loads(result.stdout)["tables"]["rasters"]}
    assert list(rasters) == ["landcover", "ndvi", "broken"]
    assert rasters["landcover"]["size"] == "46 × 26"
    assert rasters["landcover"]["pixel"] == "0.0005° × 0.0005°"
    assert rasters["ndvi"]["crs"] == "EPSG:4490"
    assert rasters["landcover"]["description"] == "1=forest, 2=耕地"
    assert rasters["broken"]["size"] is None
    assert rasters["broken"]["description"].startswith("cannot be read:")


def test_info_without_rasters_has_no_raster_table(runner, tiny_township):
    result = run(runner, "info", "--format", "json", "--township", tiny_township)
    assert result.exit_code == 0, result.stderr
    assert "rasters" not in json.loads(result.stdout)["tables"]
