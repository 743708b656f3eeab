"""Locating chunk by chunk against the same polygons (geo_township.locate.reusing_polygons):
the same answers as locating each chunk alone, and the polygons left as they came."""

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Point, box

from geo_township.locate import PREPARE_FROM, locate, reused, reusing_polygons


def _text(values) -> list:
    return values.where(values.notna(), "-").tolist()


def _plots() -> gpd.GeoDataFrame:
    # two unit squares sharing the edge x = 1, and a third apart; ids out of text order
    return gpd.GeoDataFrame({"plot_id": ["B", "A", "C"]},
                            geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)])


def test_chunks_located_with_one_search_tree_match_the_hand_worked_answer():
    plots = _plots()
    first = gpd.GeoDataFrame({"plot_id": [None, None]}, geometry=[Point(0.5, 0.5), Point(1.0, 0.5)])
    second = gpd.GeoDataFrame({"plot_id": [None, "B"]}, geometry=[Point(9, 9), Point(1.5, 0.5)])
    with reusing_polygons():
        a = locate(first, plots, "plot_id")
        b = locate(second, plots, "plot_id")
        assert not shapely.is_prepared(plots.geometry.to_numpy()).any()  # a few points each: a plain test
    # (0.5, 0.5) in B; (1, 0.5) on the shared edge: A, the lowest id in text order;
    # (9, 9) in none; (1.5, 0.5) lies in A though its record says B (kept, reported)
    assert a.values.tolist() == ["B", "A"] and _text(b.located) == ["-", "A"]
    assert _text(b.values) == ["-", "B"] and b.disagree.tolist() == [1]
    assert not shapely.is_prepared(plots.geometry.to_numpy()).any()  # released on leaving
    alone = locate(second, plots, "plot_id")
    assert _text(alone.values) == _text(b.values) and alone.disagree.tolist() == b.disagree.tolist()


def test_reused_makes_once_per_object_and_only_while_open():
    calls = []
    key = np.arange(3)

    def make() -> int:
        calls.append(1)
        return len(calls)

    assert reused("x", key, make) == 1 and reused("x", key, make) == 2  # closed: made every time
    with reusing_polygons():
        with reusing_polygons():  # nested: the outer one keeps and releases
            assert reused("x", key, make) == 3
        assert reused("x", key, make) == 3 and reused("x", np.arange(3), make) == 4
    assert reused("x", key, make) == 5


def test_polygons_meeting_many_points_are_prepared_once_and_released():
    village = gpd.GeoDataFrame({"village": ["V"]}, geometry=[box(0, 0, 10, 10)])
    xs = np.arange(PREPARE_FROM) * 10 / PREPARE_FROM  # on the edge y = 0 and inside
    trees = gpd.GeoDataFrame(geometry=[Point(x, y) for x in xs for y in (0.0, 5.0)])
    with reusing_polygons():
        first = locate(trees, village, "village")
        assert shapely.is_prepared(village.geometry.to_numpy()).all()  # kept for the next chunk
        second = locate(trees, village, "village")
    assert not shapely.is_prepared(village.geometry.to_numpy()).any()
    assert _text(first.located) == _text(second.located) == ["V"] * len(trees)
