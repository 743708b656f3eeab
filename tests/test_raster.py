"""Zonal statistics and class areas against brute-force pixel computations, across CRSs,
with nodata, polygons smaller than a pixel, block sizes, and the real Sierra rasters."""

from __future__ import annotations

import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Geod, Transformer
from rasterio.transform import from_origin

from geo_township.config import RasterSpec
from geo_township.errors import CRSError, UsageError
from geo_township.layers import load_township
from geo_township.raster import extract, zonal_stats
from geo_township.units import M2_PER_MU
from geo_township.webmap.layers_raster import raster_overlay, raster_picture

GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid to 0.1 mm
X0, Y1, RES = 548_000.0, 3_376_000.0, 30.0  # EPSG:4548, ≈117.5°E 30.5°N


def write_tif(path: Path, data: np.ndarray, *, crs="EPSG:4548", transform=None, nodata=None) -> Path:
    transform = transform or from_origin(X0, Y1, RES, RES)
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype=data.dtype, crs=crs, transform=transform, nodata=nodata) as ds:
        ds.write(data, 1)
    return path


def cell_boxes(transform, shape) -> np.ndarray:
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]]
    x0, y0 = transform @ (cols, rows)
    x1, y1 = transform @ (cols + 1, rows + 1)
    return shapely.box(np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1))


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The weighted percentile method (Wikipedia, 'Percentile'): S_k = (k−1)w_k + (N−1)Σ_{i<k} w_i,
    linear between the two values whose S brackets q·(N−1)Σw."""
    order = np.argsort(values)
    x, w = values[order], weights[order]
    n = len(x)
    if n == 1:
        return float(x[0])
    cum = np.concatenate([[0.0], np.cumsum(w)[:-1]])
    s = np.arange(n) * w + (n - 1) * cum
    target = q * (n - 1) * w.sum()
    k = np.searchsorted(s, target, side="right")
    if k == 0:
        return float(x[0])
    if k == n:
        return float(x[-1])
    return float(x[k - 1] + (target - s[k - 1]) * (x[k] - x[k - 1]) / (s[k] - s[k - 1]))


def brute_force(polygon, data: np.ndarray, valid: np.ndarray, transform, *, percentiles=(10, 90)
                ) -> dict[str, float]:
    """Coverage-weighted statistics from the exact overlap of the polygon with every pixel."""
    cells = cell_boxes(transform, data.shape)
    cover = shapely.area(shapely.intersection(cells, polygon)) / shapely.area(cells)
    use = (cover > 1e-12) & valid
    w, v = cover[use], data[use].astype("float64")
    mean = float((w * v).sum() / w.sum())
    out = {"count": float(w.sum()), "mean": mean, "min": float(v.min()), "max": float(v.max()),
           "sum": float((w * v).sum()), "std": math.sqrt(float((w * (v - mean) ** 2).sum() / w.sum())),
           "median": weighted_quantile(v, w, 0.5)}
    out.update({f"p{p}": weighted_quantile(v, w, p / 100) for p in percentiles})
    return out


@pytest.fixture
def grid(tmp_path):
    """A 12 × 9 float raster of distinct values with two nodata pixels (-9999)."""
    rng = np.random.default_rng(7)
    data = rng.permutation(12 * 9).reshape(9, 12).astype("float32") / 10 + 0.05
    data[2, 3] = -9999
    data[6, 8] = -9999
    return write_tif(tmp_path / "grid.tif", data, nodata=-9999), data


POLYGONS = [
    # an irregular plot over many pixels, with a hole
    shapely.Polygon([(X0 + 17, Y1 - 11), (X0 + 250, Y1 - 40), (X0 + 205, Y1 - 190), (X0 + 40, Y1 - 160)],
                    holes=[[(X0 + 100, Y1 - 80), (X0 + 130, Y1 - 80), (X0 + 130, Y1 - 110), (X0 + 100, Y1 - 110)]]),
    # smaller than a pixel, inside one pixel
    shapely.box(X0 + 65, Y1 - 85, X0 + 75, Y1 - 70),
    # smaller than a pixel, straddling two pixels (a quarter in one, three quarters in the other)
    shapely.box(X0 + 85, Y1 - 20, X0 + 105, Y1 - 10),
    # overhanging the raster's west and south edges
    shapely.box(X0 - 50, Y1 - 300, X0 + 100, Y1 - 200),
    # covering a nodata pixel (row 2, column 3) and its neighbours
    shapely.box(X0 + 80, Y1 - 100, X0 + 130, Y1 - 50),
]


@pytest.mark.parametrize("block", [2048, 16])
def test_statistics_match_brute_force(grid, block):
    path, data = grid
    geoms = gpd.GeoSeries(POLYGONS, crs=4548)
    frame, _ = extract(geoms, RasterSpec("grid", path), percentiles=(10, 90), block=block)
    transform = from_origin(X0, Y1, RES, RES)
    for i, poly in enumerate(POLYGONS):
        expected = brute_force(poly, data, data != -9999, transform)
        for stat, value in expected.items():
            assert frame[stat].iloc[i] == pytest.approx(value, rel=1e-6, abs=1e-9), (i, stat)


def test_polygon_smaller_than_a_pixel_gets_its_pixels_values(grid):
    path, data = grid
    geoms = gpd.GeoSeries(POLYGONS[1:3], crs=4548)
    frame, _ = extract(geoms, RasterSpec("grid", path))
    # 10 m × 15 m inside pixel (row 2, column 2): 150 / 900 of a pixel, its value exactly
    assert frame["count"].iloc[0] == pytest.approx(150 / 900)
    assert frame["mean"].iloc[0] == pytest.approx(data[2, 2])
    # 20 m × 10 m: 5 m in column 2 and 15 m in column 3 of row 0
    assert frame["count"].iloc[1] == pytest.approx(200 / 900)
    assert frame["mean"].iloc[1] == pytest.approx(0.25 * data[0, 2] + 0.75 * data[0, 3], rel=1e-6)


def test_nodata_nan_and_override_are_left_out(tmp_path):
    data = np.array([[1.0, 2.0], [np.nan, 0.0]], dtype="float32")
    path = write_tif(tmp_path / "n.tif", data)  # no nodata value in the file: NaN still counts as no data
    whole = gpd.GeoSeries([shapely.box(X0, Y1 - 60, X0 + 60, Y1)], crs=4548)
    frame, _ = extract(whole, RasterSpec("n", path))
    assert frame["count"].iloc[0] == pytest.approx(3.0)
    assert frame["mean"].iloc[0] == pytest.approx(1.0)
    frame, _ = extract(whole, RasterSpec("n", path, nodata=0.0))  # nodata = 0 in township.toml
    assert frame["count"].iloc[0] == pytest.approx(2.0)
    assert frame["mean"].iloc[0] == pytest.approx(1.5)
    only_nan = gpd.GeoSeries([shapely.box(X0 + 5, Y1 - 55, X0 + 25, Y1 - 35)], crs=4548)
    frame, _ = extract(only_nan, RasterSpec("n", path))
    assert frame["count"].iloc[0] == 0
    assert np.isnan(frame["mean"].iloc[0])


def test_raster_in_another_crs_polygons_are_reprojected(tmp_path):
    """A lon/lat raster under Gauss–Krüger polygons: the same numbers as reprojecting the
    polygons with plain geopandas and intersecting them with every pixel."""
    rng = np.random.default_rng(3)
    data = rng.random((50, 40)).astype("float32")
    transform = from_origin(117.498, 30.505, 0.0002, 0.0002)
    path = write_tif(tmp_path / "ll.tif", data, crs="EPSG:4326", transform=transform)
    polys = gpd.GeoSeries([shapely.box(548_000, 3_375_600, 548_300, 3_375_900).buffer(40),
                           shapely.box(548_400, 3_375_200, 548_420, 3_375_215)], crs=4548)
    frame, info = extract(polys, RasterSpec("ll", path))
    assert info.crs.to_epsg() == 4326
    for i, poly in enumerate(polys.to_crs(4326)):
        expected = brute_force(poly, data, np.ones(data.shape, bool), transform)
        assert frame["count"].iloc[i] == pytest.approx(expected["count"], rel=1e-6)
        assert frame["mean"].iloc[i] == pytest.approx(expected["mean"], rel=1e-6)


def test_raster_without_crs_in_lonlat_is_read_as_cgcs2000(tmp_path):
    data = np.full((10, 10), 5, dtype="int16")
    path = write_tif(tmp_path / "nocrs.tif", data, crs=None, transform=from_origin(117.49, 30.51, 0.001, 0.001))
    frame, info = extract(gpd.GeoSeries([shapely.Point(117.495, 30.505).buffer(0.002)], crs=4490),
                          RasterSpec("nocrs", path))
    assert info.crs.to_epsg() == 4490
    assert frame["mean"].iloc[0] == 5
    bad = write_tif(tmp_path / "nowhere.tif", data, crs=None, transform=from_origin(10, 10, 1, 1))
    with pytest.raises(CRSError, match="no coordinate system"):
        extract(gpd.GeoSeries([shapely.box(0, 0, 1, 1)], crs=4548), RasterSpec("x", bad))


# --------------------------------------------------------------------------- through a township


@pytest.fixture
def town(tiny_township):
    """The tiny township with a lon/lat land-cover raster (0 = nodata) and a UTM NDVI raster."""
    # Land cover: columns west of 117.5°E are class 1 (forest), east are class 2 (farmland),
    # except the northernmost row (class 3, water) and a nodata column at the far east.
    transform = from_origin(117.489, 30.501, 0.0005, 0.0005)
    lc = np.ones((26, 46), dtype="uint8")
    lc[:, 22:] = 2  # 117.489 + 22 × 0.0005 = 117.5
    lc[:2, :] = 3   # north of 30.5
    lc[:, 44:] = 0  # east of 117.511: nodata
    write_tif(tiny_township / "landcover.tif", lc, crs="EPSG:4490", transform=transform, nodata=0)
    rng = np.random.default_rng(11)
    ndvi = rng.normal(0.6, 0.1, (80, 130)).astype("float32")
    ndvi[10:14, 20:30] = -1  # nodata
    west, north = Transformer.from_crs(4490, 32650, always_xy=True).transform(117.4895, 30.5005)
    write_tif(tiny_township / "ndvi.tif", ndvi, crs="EPSG:32650",
              transform=from_origin(round(west), round(north), 15, 15), nodata=-1)
    with open(tiny_township / "township.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[rasters.landcover]\npath = "landcover.tif"\n'
                 'classes = { "1" = "林地", "2" = "farmland", "3" = "water", "4" = "my class" }\n'
                 '\n[rasters.ndvi]\npath = "ndvi.tif"\n')
    return tiny_township


def geod_mu(poly_lonlat) -> float:
    return abs(GEOD.geometry_area_perimeter(poly_lonlat)[0]) / M2_PER_MU


def test_class_areas_sum_to_each_polygons_area(town):
    from township_shapes import EAST, WEST

    result = zonal_stats(load_township(town), "landcover", layer="villages")
    table = result.table.set_index("village")
    classes = ["lc_forest", "lc_farmland", "lc_water", "my class", "nodata"]
    assert list(result.table.columns) == ["village", "area_mu", *classes]
    for name, poly in (("甲村", WEST), ("乙村", EAST)):
        expected = geod_mu(poly)
        assert table.loc[name, "area_mu"] == pytest.approx(expected, rel=1e-4)
        assert table.loc[name, classes].sum() == pytest.approx(table.loc[name, "area_mu"], rel=1e-12)
    # The west village (117.49–117.50°E) is all forest, the east one (117.50–117.51°E) all
    # farmland; the water band north of 30.50°N and the nodata strip east of 117.511°E lie
    # outside both; class 4 is named but absent.
    for name, full, empty in (("甲村", "lc_forest", "lc_farmland"), ("乙村", "lc_farmland", "lc_forest")):
        assert table.loc[name, full] == pytest.approx(table.loc[name, "area_mu"], rel=1e-6)
        for col in (empty, "lc_water", "my class", "nodata"):
            assert table.loc[name, col] == pytest.approx(0, abs=1e-3)
    assert table.loc["Total", "area_mu"] == pytest.approx(geod_mu(WEST) + geod_mu(EAST), rel=1e-4)
    classes_table = result.tables["classes"].set_index("class")
    assert classes_table.loc["forest", "area_mu"] == pytest.approx(geod_mu(WEST), rel=1e-4)
    assert classes_table.loc["Total", "share_pct"] == 100


def test_class_areas_split_by_a_hand_worked_line(town):
    """A plot across the forest/farmland line at 117.5°E and the nodata edge at 117.511°E."""
    poly = shapely.box(117.498, 30.495, 117.512, 30.497)
    spec = load_township(town).config.rasters["landcover"]
    frame, _ = extract(gpd.GeoSeries([poly], crs=4490), spec, categorical=True)
    codes = dict(zip(frame["unique"].iloc[0].tolist(), frame["frac"].iloc[0].tolist(), strict=True))
    # widths: forest 0.002°, farmland 0.011° (117.500–117.511), nodata 0.001° (outside the sum)
    assert codes[1] == pytest.approx(2 / 13)
    assert codes[2] == pytest.approx(11 / 13)
    # 4 rows × (4 forest + 22 farmland) valid pixels; the 4 × 2 nodata pixels are left out
    assert frame["count"].iloc[0] == pytest.approx(104)


def test_zonal_per_plot_in_another_crs_agrees_with_geopandas(town):
    township = load_township(town)
    result = zonal_stats(township, "ndvi", percentiles=(25,))
    plots = township.gdf("forest_plots").to_crs(32650)
    with rasterio.open(town / "ndvi.tif") as ds:
        data, transform = ds.read(1), ds.transform
    table = result.table.set_index("plot_id")
    for plot_id, poly in zip(township.layer("forest_plots").ids(), plots.geometry, strict=True):
        expected = brute_force(poly, data, data != -1, transform, percentiles=(25,))
        for stat in ("mean", "min", "max", "std", "median", "p25"):
            assert table.loc[plot_id, stat] == pytest.approx(expected[stat], rel=1e-6), stat
        assert table.loc[plot_id, "pixels"] == pytest.approx(expected["count"], rel=1e-6)
    assert result.table["plot_id"].iloc[-1] == "Total"
    total_count = result.table["pixels"].iloc[:-1].sum()
    assert result.table["pixels"].iloc[-1] == pytest.approx(total_count)
    assert result.table["mean"].iloc[-1] == pytest.approx(result.table["sum"].iloc[:-1].sum() / total_count)


# Five plots over the NDVI raster of `town`: in 甲村 two that share an edge (pixels on the
# line are split between them) and a triangle with a hole over the nodata block; in 乙村 two
# that overlap (the overlap belongs to the village once).
PLOTS = {
    "001": ("甲村", "马尾松", shapely.box(117.490, 30.490, 117.495, 30.495)),
    "003": ("甲村", "杉木", shapely.box(117.495, 30.490, 117.4993, 30.4951)),
    "004": ("甲村", "马尾松", shapely.Polygon([(117.491, 30.496), (117.499, 30.4965), (117.494, 30.4995)],
                                            holes=[[(117.4935, 30.4968), (117.4950, 30.4968), (117.4942, 30.4980)]])),
    "002": ("乙村", "杉木", shapely.box(117.501, 30.491, 117.507, 30.496)),
    "005": ("乙村", "湿地松", shapely.box(117.504, 30.494, 117.509, 30.499)),
}


@pytest.fixture
def plots5(town):
    """`town` with the five plots of PLOTS (GBK shapefile in EPSG:4527, as in tiny_township)."""
    gpd.GeoDataFrame({"小班号": list(PLOTS), "村名": [v[0] for v in PLOTS.values()],
                      "优势树种": [v[1] for v in PLOTS.values()]},
                     geometry=[v[2] for v in PLOTS.values()], crs=4490).to_crs(4527).to_file(
        town / "plots.shp", encoding="GBK")
    (town / "plots.cpg").unlink(missing_ok=True)
    return town


def _ndvi(town):
    with rasterio.open(town / "ndvi.tif") as ds:
        return ds.read(1), ds.transform


def _in_raster_crs(plot_ids) -> list:
    """The plots as the file holds them (EPSG:4527), reprojected to the raster's by plain geopandas."""
    frame = gpd.GeoSeries([PLOTS[i][2] for i in plot_ids], crs=4490).to_crs(4527).to_crs(32650)
    return list(frame)


def test_by_village_is_over_the_union_of_its_plots(plots5):
    """Each village's statistics equal a brute-force computation over the union of its
    plots (not a pooling of the plots' rows): the shared edge and the overlap count once."""
    township = load_township(plots5)
    by = zonal_stats(township, "ndvi", by="village", percentiles=(25, 75)).table.set_index("village")
    data, transform = _ndvi(plots5)
    for village, ids in (("甲村", ["001", "003", "004"]), ("乙村", ["002", "005"])):
        union = shapely.union_all(_in_raster_crs(ids))
        expected = brute_force(union, data, data != -1, transform, percentiles=(25, 75))
        for stat in ("mean", "min", "max", "sum", "std", "median", "p25", "p75"):
            assert by.loc[village, stat] == pytest.approx(expected[stat], rel=1e-6), (village, stat)
        assert by.loc[village, "pixels"] == pytest.approx(expected["count"], rel=1e-6)
    # the overlap of 002 and 005 is counted once: fewer pixels than the two plots' own sum
    per = zonal_stats(township, "ndvi").table.set_index("plot_id")
    assert by.loc["乙村", "pixels"] < per.loc["002", "pixels"] + per.loc["005", "pixels"] - 10
    # the nodata block lies under the triangle: 甲村 is not wholly covered
    assert by.loc["甲村", "valid_pct"] < 99.5


def test_total_row_median_and_percentiles_over_all_polygons(plots5):
    """The Total row's median and percentiles are those of the union of every plot; its
    mean and pixels are pooled from the rows (Σ sum / Σ pixels)."""
    township = load_township(plots5)
    result = zonal_stats(township, "ndvi", percentiles=(10, 90))
    total = result.table.iloc[-1]
    assert total["plot_id"] == "Total"
    data, transform = _ndvi(plots5)
    union = shapely.union_all(_in_raster_crs(list(PLOTS)))
    expected = brute_force(union, data, data != -1, transform, percentiles=(10, 90))
    for stat in ("median", "p10", "p90", "min", "max"):
        assert total[stat] == pytest.approx(expected[stat], rel=1e-6), stat
    rows = result.table.iloc[:-1]
    assert total["pixels"] == pytest.approx(rows["pixels"].sum())
    assert total["mean"] == pytest.approx(rows["sum"].sum() / rows["pixels"].sum())
    assert any("Total: median, p10, p90 over the pixels under all polygons" in n for n in result.notes)


def test_total_quantiles_blank_with_a_reason_beyond_the_limit(plots5, monkeypatch):
    from geo_township.raster import tables

    monkeypatch.setattr(tables, "TOTAL_QUANTILE_MAX_PIXELS", 100)
    result = zonal_stats(load_township(plots5), "ndvi", percentiles=(10,))
    total = result.table.iloc[-1]
    assert np.isnan(total["median"]) and np.isnan(total["p10"])
    assert not np.isnan(total["mean"])
    assert any("left blank" in n and "in memory" in n for n in result.notes)
    assert any("合计行的中位数和百分位数留空" in n for n in result.notes_zh)


def _rivers(town, features) -> None:
    gpd.GeoDataFrame({"name": [f[0] for f in features], "reach_id": [f[1] for f in features]},
                     geometry=[f[2] for f in features], crs=4490).to_file(town / "rivers.geojson")
    with open(town / "township.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[layers.rivers]\npath = "rivers.geojson"\n')


def test_only_real_polygons_of_a_mixed_layer_get_statistics(town):
    """Rivers as lines with one lake as a polygon: the lake gets its statistics (checked by
    brute force), the lines are left out as findings, not rows of zeros."""
    lake = shapely.box(117.500, 30.492, 117.503, 30.494)
    _rivers(town, [("青溪", "R1", shapely.LineString([(117.49, 30.495), (117.51, 30.497)])),
                   ("石河", "R2", shapely.LineString([(117.50, 30.49), (117.505, 30.50)])),
                   ("龙潭", "L1", lake)])
    result = zonal_stats(load_township(town), "ndvi", layer="rivers")
    assert list(result.table["reach_id"]) == ["L1", "Total"]
    data, transform = _ndvi(town)
    expected = brute_force(gpd.GeoSeries([lake], crs=4490).to_crs(32650).iloc[0], data, data != -1, transform)
    assert result.table["mean"].iloc[0] == pytest.approx(expected["mean"], rel=1e-6)
    assert result.table["pixels"].iloc[0] == pytest.approx(expected["count"], rel=1e-6)
    left_out = {(f.feature, f.check) for f in result.findings}
    assert left_out == {("R1", "not_polygon"), ("R2", "not_polygon")}
    assert any("2 feature(s) of rivers left out: lines" in n for n in result.notes)
    joined = result.features["zonal"]
    assert list(joined["reach_id"]) == ["L1"] and list(joined["name"]) == ["龙潭"]


def test_a_layer_without_polygons_is_refused_naming_the_layers_that_have_them(town):
    _rivers(town, [("青溪", "R1", shapely.LineString([(117.49, 30.495), (117.51, 30.497)]))])
    gpd.GeoDataFrame({"name": ["沙场"], "status": ["illegal"]}, geometry=[shapely.Point(117.495, 30.495)],
                     crs=4490).to_file(town / "sand.kml", driver="KML")
    with open(town / "township.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[layers.sand_sites]\npath = "sand.kml"\n')
    township = load_township(town)
    for layer, what in (("rivers", "holds no polygons: its 1 feature(s) are lines"),
                        ("sand_sites", "holds no polygons: its 1 feature(s) are points"),
                        ("infected_trees", "holds points")):
        with pytest.raises(UsageError, match=re.escape(what)) as caught:
            zonal_stats(township, "ndvi", layer=layer)
        assert caught.value.hint.endswith("--layer: villages, forest_plots"), caught.value.hint


def test_rasters_are_named_not_given_as_files(town):
    township = load_township(town)
    with pytest.raises(UsageError, match="ndvi.tif' is the raster ndvi") as caught:
        zonal_stats(township, str(town / "ndvi.tif"))
    assert caught.value.hint == "give its name: ndvi"
    (town / "other.tif").write_bytes((town / "ndvi.tif").read_bytes())
    with pytest.raises(UsageError, match="not given as files") as caught:
        zonal_stats(township, str(town / "other.tif"))
    assert '[rasters.other] with path = "other.tif"' in caught.value.hint
    with pytest.raises(UsageError, match=r"no raster called 'nvdi' in township.toml \(did you mean ndvi\?\)"):
        zonal_stats(township, "nvdi")


def test_findings_for_polygons_off_the_raster(town, tmp_path):
    # a raster covering only the west village
    data = np.ones((20, 20), dtype="float32")
    write_tif(town / "west.tif", data, crs="EPSG:4490", transform=from_origin(117.49, 30.50, 0.0005, 0.0005))
    with open(town / "township.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[rasters.west]\npath = "west.tif"\n')
    result = zonal_stats(load_township(town), "west", layer="villages")
    checks = {(f.feature, f.check) for f in result.findings}
    assert ("乙村", "no_pixels") in checks
    assert not any(f.feature == "甲村" for f in result.findings)
    table = result.table.set_index("village")
    assert table.loc["乙村", "pixels"] == 0
    assert np.isnan(table.loc["乙村", "mean"])


def test_bad_requests_are_clear(town):
    township = load_township(town)
    with pytest.raises(UsageError, match="no raster called 'nope'"):
        zonal_stats(township, "nope")
    with pytest.raises(UsageError, match="need polygons"):
        zonal_stats(township, "ndvi", layer="infected_trees")
    with pytest.raises(UsageError, match="not whole numbers"):
        zonal_stats(township, "ndvi", categorical=True)
    with pytest.raises(UsageError, match="unknown statistic"):
        zonal_stats(township, "ndvi", stats=["mode"])
    with pytest.raises(UsageError, match="no field 'colour'"):
        zonal_stats(township, "ndvi", by="colour")


def test_raster_overlay_for_the_map(town):
    township = load_township(town)
    overlay = raster_overlay(township, "landcover")
    assert overlay.image.dtype == np.uint8 and overlay.image.shape[2] == 4
    west, south, east, north = overlay.bounds
    assert west == pytest.approx(117.489, abs=1e-3) and north == pytest.approx(30.501, abs=1e-3)
    assert east == pytest.approx(117.512, abs=1e-3) and south == pytest.approx(30.488, abs=1e-3)
    legend = {c.code: (c.en, c.zh) for c in overlay.legend}
    assert legend[1] == ("forest", "林地") and legend[2] == ("farmland", "耕地")
    assert 0 not in legend
    # the nodata strip (the eastmost columns) is transparent; the picture's north-west is forest green
    assert (overlay.image[:, -1, 3] == 0).all()
    assert tuple(overlay.image[5, 2, :3]) == (0x1B, 0x78, 0x37)
    assert raster_overlay(township, "not_a_raster") is None


def test_raster_picture_stays_small(tmp_path):
    data = np.arange(3000 * 2000, dtype="float32").reshape(2000, 3000)
    path = write_tif(tmp_path / "big.tif", data)
    image, _, legend = raster_picture(RasterSpec("dem", path), max_size=256)
    assert max(image.shape[:2]) <= 256
    assert len(legend) == 5 and legend[0]["en"].startswith("≤")
    assert (image[..., 3] == 255).mean() > 0.95


# --------------------------------------------------------------------------- real data


def test_real_sierra_mortality_matches_gdal_statistics(realdata, tmp_path):
    """Hemming-Schroeder et al. (2023) 30 m mortality raster (UTM 11N) and its study polygon,
    which overhangs the raster: GDAL's own statistics of the 2017 band are the reference."""
    src = realdata / "tree-mortality-sierra"
    (tmp_path / "township.toml").write_text(
        '[township]\nname = "Soaproot Saddle"\n\n'
        f'[layers.villages]\npath = "{(src / "soap_mask_polygon.shp").as_posix()}"\n\n'
        f'[rasters.mortality_2017]\npath = "{(src / "soap_mortality_2017.tif").as_posix()}"\n', encoding="utf-8")
    result = zonal_stats(load_township(tmp_path), "mortality_2017", layer="villages")
    row = result.table.iloc[0]
    assert row["pixels"] == pytest.approx(36_849, abs=1e-6)
    assert row["mean"] == pytest.approx(0.47527984355595, rel=1e-9)
    assert row["std"] == pytest.approx(0.32355242225288, rel=1e-6)
    assert row["min"] == 0 and row["max"] == 1
    assert row["sum"] * 900 / 10_000 == pytest.approx(1_576.22, abs=0.01)  # mortality-weighted hectares
    assert any(f.check == "outside_raster" for f in result.findings)  # the polygon overhangs the raster


def test_geographic_grid_blocks_read_only_real_pixels(tmp_path):
    """A 0.0002° grid (its cell size is not exact in binary) with a nodata rim, and many
    polygons read together in one block: every polygon's class shares and pixel count
    equal the brute-force overlap, and the nodata rim never appears as a class."""
    rng = np.random.default_rng(2)
    transform = from_origin(117.426, 30.5442, 0.0002, 0.0002)
    classes = np.repeat(np.repeat(rng.integers(1, 5, (24, 37)), 20, axis=0), 20, axis=1)[:466, :734]
    classes = classes.astype("uint8")
    classes[:10, :] = classes[-10:, :] = 0
    classes[:, :10] = classes[:, -10:] = 0
    path = write_tif(tmp_path / "lc.tif", classes, crs="EPSG:4490", transform=transform, nodata=0)
    centres = np.column_stack([rng.uniform(117.428, 117.57, 40), rng.uniform(30.453, 30.542, 40)])
    polys = shapely.buffer(shapely.points(centres), rng.uniform(0.0008, 0.006, 40), quad_segs=5)
    frame, _ = extract(gpd.GeoSeries(polys, crs=4490), RasterSpec("lc", path), categorical=True)
    cells = cell_boxes(transform, classes.shape)
    for i, poly in enumerate(polys):
        x0, y0, x1, y1 = poly.bounds  # only the cells under the polygon's box
        rows = slice(max(int((30.5442 - y1) / 0.0002) - 1, 0), int((30.5442 - y0) / 0.0002) + 2)
        cols = slice(max(int((x0 - 117.426) / 0.0002) - 1, 0), int((x1 - 117.426) / 0.0002) + 2)
        cover = np.zeros(classes.shape)
        cover[rows, cols] = (shapely.area(shapely.intersection(cells[rows, cols], poly))
                             / shapely.area(cells[rows, cols]))
        valid = classes > 0
        assert frame["count"].iloc[i] == pytest.approx(cover[valid].sum(), rel=1e-6), i
        got = dict(zip(np.asarray(frame["unique"].iloc[i]).tolist(), np.asarray(frame["frac"].iloc[i]), strict=True))
        assert 0 not in got
        for value, share in got.items():
            assert share == pytest.approx(cover[classes == value].sum() / cover[valid].sum(), rel=1e-6, abs=1e-9)


def test_sample_dem_is_the_terrain_the_layers_follow(sample_dir):
    """layers/dem.tif holds elevation() of the sample generator at its pixel centres."""
    from geo_township.sample import elevation

    with rasterio.open(sample_dir / "dem.tif") as ds:
        assert ds.crs.to_epsg() == 4548
        dem, transform = ds.read(1), ds.transform
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, dem.shape[0], 500), rng.integers(0, dem.shape[1], 500)
    x, y = transform @ (cols + 0.5, rows + 0.5)
    assert np.allclose(dem[rows, cols], elevation(np.asarray(x), np.asarray(y)), atol=0.051)
    # the rivers run along the valley floors: the DEM under them is lower than around them
    township = load_township(sample_dir)
    rivers = township.gdf("rivers").to_crs(4548)
    low = zonal_stats(township, "dem", layer="villages", stats=["mean"]).table
    pts = rivers.geometry.interpolate(0.5, normalized=True)
    c, r = ~transform @ (pts.x.to_numpy(), pts.y.to_numpy())
    assert dem[r.astype(int), c.astype(int)].mean() < low["mean"].iloc[-1] - 50


def test_weighted_quantiles_merge_equal_values_like_exactextract():
    """Hand-worked: values 1, 2, 2, 3, 5, 6, 7, 8 with weights ¼ ½ ¼ ½ ½ ¼ ½ ¼. The two 2s merge
    (weight ¾), leaving N = 7 distinct values, Σw = 3; S_k = k·w_k + 6·Σ_{i<k} w_i gives
    S = 0, 2.25, 7, 10.5, 13, 16, 18. The median's target 0.5·6·3 = 9 lies between S = 7 (x = 3)
    and S = 10.5 (x = 5): 3 + 2·2/3.5 = 29/7. exactextract's own median of the same pixels
    agrees."""
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    from geo_township.raster import weighted_quantiles
    from geo_township.raster.exact import WkbSource, operations

    values = np.array([1, 2, 2, 3, 5, 6, 7, 8], dtype=float)
    weights = np.array([0.25, 0.5, 0.25, 0.5, 0.5, 0.25, 0.5, 0.25])
    assert weighted_quantiles(values, weights, [0.5, 0.0, 1.0]) == pytest.approx([29 / 7, 1, 8])
    nodata = np.zeros((3, 3), dtype=bool)
    nodata[1, 1] = True  # the 4 in the middle
    grid = np.ma.MaskedArray(np.array([[1.0, 2, 2], [3, 4, 5], [6, 7, 8]]), mask=nodata)
    src = NumPyRasterSource(grid, 0.0, -3.0, 3.0, 0.0)
    frame = exact_extract(src, WkbSource(np.array([shapely.box(0.5, -2.5, 2.5, -0.5)])),
                          operations([("median", "median", {})], src), output="pandas")
    assert frame["median"].iloc[0] == pytest.approx(29 / 7)


def test_inventory_and_raster_do_not_import_each_other():
    """The raster package sits beside inventory, not under or over it: neither imports the
    other (the info command hands inventory the raster table)."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "geo_township"

    def imports(path: Path) -> set[str]:
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
        return names

    assert not {m for m in imports(package / "inventory.py") if m.startswith("geo_township.raster")}
    for path in (package / "raster").glob("*.py"):
        assert "geo_township.inventory" not in imports(path), path.name
