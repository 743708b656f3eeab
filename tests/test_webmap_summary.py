"""The map's key statistics and per-village indicators, against independent computations:
pyproj.Geod areas, a plain geopandas spatial join, hand counts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from test_webmap_fixture import TREES, VILLAGES, make_township

from geo_township.errors import UsageError
from geo_township.layers import load_township
from geo_township.webmap import map_summary
from geo_township.webmap.indicators import classify, per_village, village_of

GEOD = Geod(a=6378137.0, rf=298.257222101)  # CGCS2000
M2_PER_MU = 10000 / 15


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return load_township(make_township(tmp_path_factory.mktemp("summary") / "t"))


def _geod_mu(gdf: gpd.GeoDataFrame) -> np.ndarray:
    lonlat = gdf.to_crs(4490)
    return np.array([abs(GEOD.geometry_area_perimeter(g)[0]) for g in lonlat.geometry]) / M2_PER_MU


def test_summary_table_per_village_with_total(town):
    table = map_summary(town).table.set_index("village")
    assert list(table.index) == [*VILLAGES, "Total"]
    plots = town.gdf("forest_plots")
    mu = pd.Series(_geod_mu(plots), index=plots.index)
    forest = mu.groupby(plots["village"].to_numpy()).sum()
    pine = mu[plots["species"].isin(["masson_pine", "slash_pine", "black_pine"])].groupby(
        plots.loc[plots["species"].isin(["masson_pine", "slash_pine", "black_pine"]), "village"].to_numpy()).sum()
    for v in VILLAGES:
        assert table.loc[v, "forest_mu"] == pytest.approx(forest[v], rel=1e-4)
        assert table.loc[v, "pine_mu"] == pytest.approx(pine.get(v, 0.0), rel=1e-4, abs=1e-9)
    assert table.loc["Total", "forest_mu"] == pytest.approx(mu.sum(), rel=1e-4)
    transfers = town.gdf("land_transfers")
    assert table.loc["Total", "transferred_mu"] == pytest.approx(_geod_mu(transfers).sum(), rel=1e-4)


def test_tree_counts_per_village_match_a_plain_spatial_join(town):
    table = map_summary(town).table.set_index("village")
    trees = gpd.GeoDataFrame({"status": [t[3] for t in TREES]},
                             geometry=gpd.points_from_xy([t[1] for t in TREES], [t[2] for t in TREES]), crs=4490)
    joined = gpd.sjoin(trees, town.gdf("villages").to_crs(4490), predicate="within")
    for v in VILLAGES:
        s = joined.loc[joined["village"] == v, "status"]
        assert table.loc[v, "found"] == len(s)
        assert table.loc[v, "standing"] == s.isin(["suspected", "confirmed"]).sum()
        assert table.loc[v, "felled"] == s.isin(["felled", "cleared", "verified"]).sum()
        assert table.loc[v, "cleared"] == s.isin(["cleared", "verified"]).sum()
    assert table.loc["Total", "found"] == len(TREES) == 7
    # clearance of the total row, as `trees` reports it (2 decimals): 2 cleared (T004 cleared,
    # T005 verified) of the 7 found, all due by the last season cut-off before the data date
    assert table.loc["Total", "clearance_pct"] == pytest.approx(2 / 7 * 100, abs=0.005)
    assert table.loc[VILLAGES[1], "clearance_pct"] == pytest.approx(100.0)
    assert table.loc["Total", "sites_illegal"] == 1


def test_summary_lists_layers_and_localises_to_chinese(town):
    result = map_summary(town)
    layers = result.tables["layers"].set_index("layer")["features"]
    assert layers["infected_trees"] == 7 and layers["forest_plots"] == 6 and layers["villages"] == 3
    zh = result.localised("zh")
    assert zh["summary"].iloc[-1, 0] == "合计"
    assert "松材线虫病疫木" in set(zh["layers"]["图层"])
    assert "林地面积(亩)" in zh["summary"].columns


def test_village_comes_from_the_record_else_the_location(town):
    villages = town.gdf("villages")
    pts = gpd.GeoDataFrame({"village": ["记录村", None, None]},
                           geometry=gpd.points_from_xy([117.495, 117.515, 118.0], [30.495, 30.495, 30.5]),
                           crs=4490).to_crs(villages.crs)
    assert village_of(pts, villages).tolist() == ["记录村", VILLAGES[2], "(outside)"]


def test_per_village_needs_the_layers(town):
    assert per_village(town, "found").tolist() == [3, 2, 2]
    assert per_village(town, "clearance_pct").tolist() == pytest.approx([0.0, 100.0, 0.0])
    with pytest.raises(UsageError, match="unknown indicator"):
        per_village(town, "bogus")


def test_classification_labels_and_colours():
    # four distinct values: one class each, labelled by value
    c = classify([0, 0, 1, 5, 10], k=5)
    assert c.labels == ("0", "1", "5", "10")
    assert c.classify(np.array([0, 1, 5, 10, np.nan])).tolist() == [0, 1, 2, 3, -1]
    # 3 quantile classes of 1..9: upper bounds at the 1/3 and 2/3 quantiles (1 + 8/3, 1 + 16/3) and 9;
    # whole numbers 1–3 fall in the first class, 4–6 in the second
    q = classify(np.arange(1, 10), scheme="quantiles", k=3)
    assert q.bins == pytest.approx((11 / 3, 19 / 3, 9.0))
    assert q.classify(np.array([3, 4, 6, 7])).tolist() == [0, 1, 1, 2]
    assert q.labels == ("1 – 3", "4 – 6", "7 – 9")
    assert len(set(q.colors)) == 3
    with pytest.raises(UsageError, match="fisher_jenks"):
        classify([1, 2], scheme="bogus")


# --------------------------------------------------------------------------- one trees Result for the map and its table


def test_the_key_statistics_and_the_choropleth_read_the_trees_result_given(town):
    from dataclasses import replace

    from geo_township.trees import tree_counts
    from geo_township.webmap.model import build_model

    trees = tree_counts(town)
    assert map_summary(town, results={"trees": trees}).table.equals(map_summary(town).table)
    # a trees Result that says otherwise is what the map shows: it never counts the trees again
    doubled = trees.table.copy()
    doubled["found"] = doubled["found"] * 2
    other = replace(trees, table=doubled)
    shown = map_summary(town, results={"trees": other}).table.set_index("village")["found"]
    assert shown.to_dict() == doubled.set_index("village")["found"].to_dict()
    layer = build_model(town, results={"trees": other}, raster_providers={}, indicator_key="found").layer("indicator")
    by_village = dict(zip(layer.gdf["village"], layer.gdf["value"], strict=True))
    rows = doubled.set_index("village")
    assert all(by_village[v] == rows.loc[v, "found"] for v in VILLAGES)


def test_a_trees_result_per_plot_is_refused(town):
    from geo_township.trees import tree_counts

    with pytest.raises(UsageError, match="per village"):
        map_summary(town, results={"trees": tree_counts(town, by="plot")})


def test_map_results_runs_what_the_township_has_and_refuses_unknown_names(town):
    from geo_township.webmap import map_results

    results, warnings = map_results(town)
    assert warnings == []
    assert set(results) == {"audit", "trees", "rivers", "sand"}  # no NDVI pair: no candidates
    assert set(map_results(town, ["trees"])[0]) == {"trees"}
    with pytest.raises(UsageError, match="no analysis 'hotspot'"):
        map_results(town, ["hotspot"])
