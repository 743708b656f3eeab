"""Overlap pairs and coverage through the spatial index agree with a plain all-pairs loop."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import GeometryCollection, LineString, box

from geo_township.overlaps import covered, intersection_pairs, overlap_pairs, polygonal

CRS = "EPSG:4548"


def random_boxes(n: int, seed: int) -> gpd.GeoSeries:
    rng = np.random.default_rng(seed)
    x = rng.uniform(500_000, 502_000, n)
    y = rng.uniform(3_375_000, 3_377_000, n)
    w = rng.uniform(20, 150, n)
    h = rng.uniform(20, 150, n)
    geoms = shapely.box(x, y, x + w, y + h)
    geoms[::7] = shapely.buffer(shapely.points(x[::7], y[::7]), 60)  # some round ones too
    return gpd.GeoSeries(geoms, crs=CRS)


def test_overlap_pairs_agree_with_all_pairs():
    geoms = random_boxes(300, 1)
    got = overlap_pairs(geoms, method="planar", min_area_m2=5.0)
    expected = {}
    for i, j in itertools.combinations(range(len(geoms)), 2):
        a = geoms.iloc[i].intersection(geoms.iloc[j]).area
        if a > 5.0:
            expected[(i, j)] = a
    assert len(expected) > 50
    found = {(int(i), int(j)): a for i, j, a in zip(got["left"], got["right"], got["area_m2"], strict=True)}
    assert found.keys() == expected.keys()
    for key, a in expected.items():
        assert found[key] == pytest.approx(a, rel=1e-9)


def test_touching_polygons_are_not_pairs_and_overlaps_are_polygons():
    geoms = gpd.GeoSeries([box(0, 0, 10, 10), box(10, 0, 20, 10), box(5, 5, 15, 15)], crs=CRS)
    got = overlap_pairs(geoms, method="planar")
    assert got[["left", "right"]].values.tolist() == [[0, 2], [1, 2]]
    assert got["area_m2"].tolist() == pytest.approx([25.0, 25.0])
    assert set(got.geom_type) == {"Polygon"}


def test_covered_counts_overlapping_covers_once():
    left = gpd.GeoSeries([box(0, 0, 100, 100), box(200, 0, 300, 100)], crs=CRS)
    right = gpd.GeoSeries([box(-10, -10, 50, 110), box(40, -10, 60, 110), box(500, 0, 600, 10)], crs=CRS)
    parts, areas, which = covered(left, right, method="planar")
    assert areas.tolist() == pytest.approx([6000.0, 0.0])  # x 0–60 covered; the 10 m both cover counted once
    assert sorted(which[0].tolist()) == [0, 1] and which[1].tolist() == []
    assert parts.iloc[0].symmetric_difference(box(0, 0, 60, 100)).area < 1e-6
    assert parts.iloc[1].is_empty


def test_intersection_pairs_refuse_different_crs():
    from geo_township.errors import CRSError

    with pytest.raises(CRSError):
        intersection_pairs(gpd.GeoSeries([box(0, 0, 1, 1)], crs=CRS), gpd.GeoSeries([box(0, 0, 1, 1)], crs=4490))


def test_polygonal_keeps_only_the_area():
    mixed = GeometryCollection([box(0, 0, 1, 1), LineString([(1, 0), (2, 0)])])
    out = polygonal(np.array([mixed, LineString([(0, 0), (1, 1)]), box(0, 0, 2, 2)], dtype=object))
    assert out[0].equals(box(0, 0, 1, 1))
    assert out[1].is_empty and out[1].geom_type == "Polygon"
    assert out[2].area == 4.0
