"""A polygon layer in longitude/latitude handed over where it was read (``projected=False``,
as ``area`` asks for it): the same rows, notes and rows left out as the layer projected to
the working zone, and areas per village against pyproj.Geod."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS, Geod
from shapely.geometry import MultiPolygon, Polygon, box
from township_shapes import EAST, WEST

from geo_township.inventory import area_summary
from geo_township.layers import load_township
from geo_township.units import M2_PER_MU

GEOD = Geod(ellps="GRS80")  # CGCS2000 and GRS80 share a and f to 1e-11


def _plot(x: float, y: float, size: float = 0.002) -> Polygon:
    return box(x, y, x + size, y + size * 0.8)


#: id, recorded village, geometry, the village it counts in (None: left out of every count)
PLOTS = [
    ("P01", "甲村", _plot(117.491, 30.491), "甲村"),
    ("P02", "甲村", _plot(117.495, 30.494), "甲村"),
    ("P03", "乙村", _plot(117.502, 30.492), "乙村"),
    ("P04", "乙村", Polygon(_plot(117.505, 30.495, 0.004).exterior, [_plot(117.506, 30.496, 0.001).exterior]),
     "乙村"),
    ("P05", None, _plot(117.507, 30.491), "乙村"),  # no village recorded: located in 乙村
    ("P06", "甲村", MultiPolygon([_plot(117.492, 30.497, 0.001), _plot(117.4945, 30.4975, 0.001)]), "甲村"),
    ("P07", "甲村", _plot(117.49, 30.4915, 0.001), "甲村"),  # on the extent's west edge
    ("P08", "乙村", _plot(117.5085, 30.4985, 0.0015), "乙村"),  # over the north-east corner, 40 m out
    ("P09", "甲村", _plot(117.495, 30.53), "甲村"),  # 3 km north: outside the villages, not far
    ("P10", "甲村", _plot(117.495, 30.8), None),  # 33 km north: left out
    ("P11", "乙村", _plot(117.75, 30.495), None),  # 23 km east: left out
]


@pytest.fixture
def lonlat_township(tmp_path: Path) -> Path:
    villages = gpd.GeoDataFrame({"村名": ["甲村", "乙村"], "村代码": ["341", "342"]}, geometry=[WEST, EAST], crs=4490)
    villages.to_file(tmp_path / "town.gpkg", layer="villages")
    plots = gpd.GeoDataFrame({"小班号": [p[0] for p in PLOTS], "村名": [p[1] for p in PLOTS]},
                             geometry=[p[2] for p in PLOTS], crs=4490)
    plots.to_file(tmp_path / "plots.gpkg", layer="forest_plots")
    (tmp_path / "township.toml").write_text(
        '[township]\nname = "测试乡"\nname_en = "Test Township"\n\n'
        '[layers.villages]\npath = "town.gpkg"\nlayer = "villages"\n\n'
        '[layers.forest_plots]\npath = "plots.gpkg"\nlayer = "forest_plots"\n', encoding="utf-8")
    return tmp_path


def test_a_lonlat_layer_handed_over_where_read_is_the_projected_layer(lonlat_township):
    held = load_township(lonlat_township)
    where_read = held.layer("forest_plots", projected=False)
    town = load_township(lonlat_township)
    projected = town.layer("forest_plots")
    assert CRS(where_read.gdf.crs).equals(CRS.from_epsg(4490))
    assert CRS(projected.gdf.crs).equals(town.working_crs) and town.working_crs.to_epsg() == 4548
    assert where_read.ids().tolist() == projected.ids().tolist() == [p[0] for p in PLOTS if p[3] is not None]
    assert where_read.left_out["feature"].tolist() == ["P10", "P11"]
    columns = ["feature", "line", "reason", "detail", "detail_zh"]
    pd.testing.assert_frame_equal(where_read.left_out[columns], projected.left_out[columns])
    np.testing.assert_allclose(where_read.left_out[["x", "y"]].to_numpy(dtype=float),
                               projected.left_out[["x", "y"]].to_numpy(dtype=float), rtol=0, atol=1e-9)
    assert held.load_notes() == town.load_notes() and held.load_notes("zh") == town.load_notes("zh")
    assert held.provenance()["inputs"][0]["rows_left_out"] == 2
    # asked for again without the flag, it is projected in place: the same coordinates as loaded projected
    assert held.layer("forest_plots") is where_read
    assert CRS(where_read.gdf.crs).equals(town.working_crs)
    assert np.array_equal(shapely.get_coordinates(where_read.gdf.geometry.to_numpy()),
                          shapely.get_coordinates(projected.gdf.geometry.to_numpy()))


def test_area_by_village_of_a_lonlat_layer_against_geod(lonlat_township):
    table = area_summary(load_township(lonlat_township), "forest_plots", by="village").table.set_index("group")
    expected: dict[str, list[float]] = {}
    for _, _, geom, village in PLOTS:
        if village is not None:
            dense = shapely.orient_polygons(shapely.segmentize(geom, 2e-6))  # edges straight in lon/lat
            expected.setdefault(village, []).append(abs(GEOD.geometry_area_perimeter(dense)[0]) / M2_PER_MU)
    assert table.index.tolist() == ["甲村", "乙村", "Total"]
    for village, areas in expected.items():
        assert table.loc[village, "count"] == len(areas)
        assert table.loc[village, "area_mu"] == pytest.approx(sum(areas), rel=1e-10)
    assert table.loc["Total", "area_mu"] == pytest.approx(sum(map(sum, expected.values())), rel=1e-10)


def test_planar_area_of_a_lonlat_layer_is_measured_in_the_working_zone(lonlat_township):
    town = load_township(lonlat_township)
    table = area_summary(town, "forest_plots", by="village", method="planar").table.set_index("group")
    assert CRS(town.layer("forest_plots").gdf.crs).equals(town.working_crs)
    gk = gpd.GeoSeries([p[2] for p in PLOTS if p[3] is not None], crs=4490).to_crs(4548)
    assert table.loc["Total", "area_mu"] == pytest.approx(gk.area.sum() / M2_PER_MU, rel=1e-12)
