"""Points read as coordinates and made once, in the working CRS (geo_township.io.xy): the
same layer, to the last bit, as points read as geometries and then reprojected."""

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely
from pyproj import CRS
from shapely.geometry import MultiPoint, Point, Polygon

from geo_township.config import load_config
from geo_township.io.chunks import chunks
from geo_township.io.parquet import read_geoparquet
from geo_township.io.read import read_vector
from geo_township.io.xy import points_in, wkb_point_xy
from geo_township.kinds import KINDS
from geo_township.layerfile import read_layer
from geo_township.layers import load_township

GK = CRS.from_epsg(4545)  # CGCS2000 3-degree Gauss–Krüger zone 39 (117°E)


def _lonlat(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(116.5, 118.5, n), rng.uniform(29.0, 31.0, n)])


def test_wkb_point_xy_reads_what_geos_writes():
    xy = np.vstack([_lonlat(1000), [[-0.0, 1e-300], [1e308, -123456.789]]])
    points = shapely.points(xy)
    wkb = pa.array(shapely.to_wkb(points, byte_order=1), type=pa.binary())
    got = wkb_point_xy(wkb)
    assert np.array_equal(got[:, 0], shapely.get_x(points)) and np.array_equal(got[:, 1], shapely.get_y(points))
    # a slice of an array (its offset), large binary and a chunked column read the same
    assert np.array_equal(wkb_point_xy(wkb.slice(7, 20)), got[7:27])
    assert np.array_equal(wkb_point_xy(pa.array(wkb.to_pylist(), type=pa.large_binary())), got)
    assert np.array_equal(wkb_point_xy(pa.chunked_array([wkb.slice(0, 5), wkb.slice(5)])), got)
    # an empty point is NaN, NaN, as WKB writes it; so is a missing one (shapefiles, GeoJSON)
    empty = wkb_point_xy(pa.array([shapely.to_wkb(Point(), byte_order=1)], type=pa.binary()))
    assert empty.shape == (1, 2) and np.isnan(empty).all()
    gaps = wkb_point_xy(pa.array([None, *wkb.to_pylist()[:3], None], type=pa.binary()))
    assert np.isnan(gaps[[0, 4]]).all() and np.array_equal(gaps[1:4], got[:3])


@pytest.mark.parametrize("odd", [
    shapely.to_wkb(Point(117, 30), byte_order=0),  # big-endian
    shapely.to_wkb(Point(117, 30, 5), byte_order=1),  # with Z
    shapely.to_wkb(MultiPoint([(117, 30)]), byte_order=1),
    shapely.to_wkb(Polygon([(117, 30), (117.1, 30), (117, 30.1)]), byte_order=1),
], ids=["big-endian", "Z", "multipoint", "polygon"])
def test_anything_but_single_2d_little_endian_points_is_left_to_geos(odd):
    values = [shapely.to_wkb(Point(117.5, 30.5), byte_order=1)] * 3 + [odd]
    assert wkb_point_xy(pa.array(values, type=pa.binary())) is None
    assert wkb_point_xy(pa.array([], type=pa.binary())) is None


def test_points_in_makes_the_coordinates_to_crs_makes():
    xy = _lonlat(5000, seed=2)
    expected = gpd.GeoSeries(shapely.points(xy), crs=4490).to_crs(GK)
    made = points_in(xy, CRS.from_epsg(4490), GK)
    assert np.array_equal(shapely.get_coordinates(made), shapely.get_coordinates(expected.to_numpy()))
    with_empty = points_in(np.array([[117.0, 30.0], [math.nan, math.nan], [math.nan, 30.0]]))
    assert with_empty[1] is None and shapely.get_x(with_empty[0]) == 117.0 and math.isnan(shapely.get_x(with_empty[2]))


def _messy_trees(folder, suffix: str = ".gpkg") -> None:
    """A township: two villages and trees (in a ``suffix`` file) with an empty point, a
    mistyped longitude (17.4 for 117.4) and a tree 50 km away, among good ones."""
    west = Polygon([(117.0, 30.0), (117.5, 30.0), (117.5, 30.4), (117.0, 30.4)])
    east = Polygon([(117.5, 30.0), (118.0, 30.0), (118.0, 30.4), (117.5, 30.4)])
    gpd.GeoDataFrame({"村名": ["西村", "东村"]}, geometry=[west, east], crs=4490).to_file(folder / "villages.gpkg")
    xy = np.vstack([np.column_stack([np.linspace(117.05, 117.95, 40), np.linspace(30.05, 30.35, 40)]),
                    [[17.4, 30.2], [119.0, 30.2]]])
    geoms = [*shapely.points(xy), Point()]
    n = len(geoms)
    names = (("tree_id", "status", "found_date", "village") if suffix == ".shp"  # 10 bytes at most
             else ("疫木编号", "状态", "发现日期", "村名"))
    trees = gpd.GeoDataFrame(dict(zip(names, [
        [f"T{i:03d}" for i in range(n)],
        ["已清理" if i % 3 else "已发现" for i in range(n)],
        ["2023-04-0" + str(1 + i % 9) for i in range(n)],
        ["西村" if i % 2 else "东村" for i in range(n)],
    ], strict=True)), geometry=geoms, crs=4490)
    if suffix == ".parquet":
        trees.to_parquet(folder / "trees.parquet")
    else:
        trees.to_file(folder / f"trees{suffix}")
    (folder / "township.toml").write_text(
        '[township]\nname = "t"\n\n[layers.villages]\npath = "villages.gpkg"\n\n'
        f'[layers.infected_trees]\npath = "trees{suffix}"\n', encoding="utf-8")


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".parquet"])
def test_a_messy_points_file_reads_the_same_made_once_as_reprojected(tmp_path, suffix):
    _messy_trees(tmp_path, suffix)
    config = load_config(tmp_path / "township.toml")
    spec = config.layers["infected_trees"]
    raw = (read_geoparquet(spec.path, KINDS["infected_trees"], points_as_xy=True) if suffix == ".parquet"
           else read_vector(spec.path, geometry="Point", points_as_xy=True))
    assert raw.xy is not None and raw.gdf.geometry.isna().all()  # the coordinates' path is the one taken

    usual = read_layer(spec, config)
    once = read_layer(spec, config, crs=GK)
    assert CRS(usual.gdf.crs).equals(CRS.from_epsg(4490)) and CRS(once.gdf.crs).equals(GK)
    assert once.source_crs.equals(usual.source_crs)
    usual.gdf.to_crs(GK, inplace=True)
    pd.testing.assert_frame_equal(once.gdf.drop(columns="geometry"), usual.gdf.drop(columns="geometry"))
    assert np.array_equal(shapely.get_coordinates(once.gdf.geometry.to_numpy()),
                          shapely.get_coordinates(usual.gdf.geometry.to_numpy()))
    # the mistyped longitude left out with its coordinates as in the file; the empty point dropped
    pd.testing.assert_frame_equal(once.left_out, usual.left_out)
    assert once.left_out["reason"].tolist() == ["outside_china"] and once.left_out["x"].tolist() == [17.4]
    pd.testing.assert_frame_equal(once.dropped, usual.dropped)
    assert once.dropped["feature"].tolist() == ["T042"]
    assert once.notes == usual.notes and len(once.gdf) == 41


def test_the_township_makes_its_trees_once_in_its_zone(tmp_path):
    _messy_trees(tmp_path)
    township = load_township(tmp_path / "township.toml")
    trees = township.layer("infected_trees")
    assert CRS(trees.gdf.crs).equals(township.working_crs)
    far = trees.left_out.set_index("feature")["reason"]
    assert far.to_dict() == {"T040": "outside_china", "T041": "outside_township"}
    expected = gpd.GeoSeries(shapely.points(np.column_stack([np.linspace(117.05, 117.95, 40),
                                                             np.linspace(30.05, 30.35, 40)])),
                             crs=4490).to_crs(township.working_crs)
    assert np.array_equal(shapely.get_coordinates(trees.gdf.geometry.to_numpy()),
                          shapely.get_coordinates(expected.to_numpy()))


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet"])
def test_chunks_of_points_come_as_their_coordinates(tmp_path, suffix):
    _messy_trees(tmp_path, suffix)
    path = tmp_path / f"trees{suffix}"
    parts = list(chunks(path, KINDS["infected_trees"], chunk_rows=10))
    assert len(parts) == 5
    whole = pd.concat([part.raw().gdf for part in parts])
    xy = np.vstack([part.raw(points_as_xy=True).xy for part in parts])
    solid = ~whole.geometry.is_empty.to_numpy()
    assert np.array_equal(xy[solid], shapely.get_coordinates(whole.geometry.to_numpy()[solid]))
    assert np.isnan(xy[~solid]).all() and (~solid).sum() == 1


def test_geojson_points_are_read_as_geometries(tmp_path):
    """GeoJSON is text: reading it twice (fields, then coordinates) costs more than the points save."""
    _messy_trees(tmp_path, ".geojson")
    raw = read_vector(tmp_path / "trees.geojson", geometry="Point", points_as_xy=True)
    assert raw.xy is None and raw.gdf.geometry.notna().sum() == 42
