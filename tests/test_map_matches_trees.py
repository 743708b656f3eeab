"""The map shows the trees command's numbers: every per-village tree number on the map (the
choropleth of each tree indicator and the key statistics printed with it) equals the
column of ``tree_counts(township).table`` for that village — on the bundled sample, and
on a hand-made township whose trees sit exactly on village borders and plot edges, with
and without village codes (which decide the village order, and so a border tree's
village). Where each border tree lands is worked out here by hand from the documented
rule (:data:`geo_township.locate.EDGE_RULE`, :data:`geo_township.tree_places.BOUNDARY_RULE`)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo_township.layers import load_township
from geo_township.tree_places import locate_trees
from geo_township.trees import tree_counts
from geo_township.webmap import map_summary
from geo_township.webmap.indicators import INDICATORS, per_village
from geo_township.webmap.model import build_model

TREE_KEYS = [k for k, ind in INDICATORS.items() if ind.tree_column]
M2_PER_MU = 10000 / 15

# --------------------------------------------------------------------------- a township of border trees

# GK zone CM 117°E (EPSG:4548), metres, so points on shared edges stay exactly on them.
X0, Y0 = 548_000.0, 3_374_000.0
EAST, MIDDLE, WEST = "东村", "中村", "西村"  # text order: 东 (U+4E1C) < 中 (U+4E2D) < 西 (U+897F)
NORTH = "北村"  # named only by a record
LAYER_ORDER = [EAST, MIDDLE, WEST]  # the villages layer lists them east to west …
CODES = {EAST: "341003", MIDDLE: "341001", WEST: "341002"}  # … their codes order them middle, west, east
VILLAGE_BOXES = {WEST: (0, 0, 1000, 1000), MIDDLE: (1000, 0, 2000, 1000), EAST: (2000, 0, 3000, 1000)}

# plot_id, box, village (record; "" = none), species — listed out of id order ("P10" < "P02" in the layer,
# but "P02" < "P10" in text order). P07's record names a village that does not cover it.
PLOTS = [
    ("P10", (0, 0, 500, 1000), WEST, "马尾松"),
    ("P02", (500, 0, 1000, 1000), WEST, "马尾松"),
    ("P03", (1000, 0, 1500, 1000), MIDDLE, "杉木"),
    ("P04", (1500, 0, 2000, 500), MIDDLE, "马尾松"),
    ("P05", (2000, 0, 3000, 500), EAST, "马尾松"),
    ("P07", (2000, 900, 2500, 1000), WEST, "马尾松"),
    ("P08", (2500, 600, 2900, 800), "", "杉木"),
]

# id, x, y, status, found, felled, cleared, verified, village (record), plot (record)
TREES = [
    ("I1", 250, 500, "已清理", "2022-10-05", "2022-11-01", "2022-12-01", "", "", ""),  # inside P10, west
    ("I2", 1250, 500, "已确认", "2022-11-01", "", "", "", "", ""),  # inside P03, middle
    ("I3", 2500, 250, "已伐", "2023-04-10", "2023-04-20", "", "", "", ""),  # inside P05, east; found after the cut-off
    ("I4", 1750, 250, "已核查", "2022-10-20", "2022-11-10", "2022-12-10", "2023-01-05", "", ""),  # inside P04
    ("E1", 500, 500, "疑似", "2022-12-01", "", "", "", "", ""),  # edge P10/P02 inside the west village
    ("B1", 1000, 300, "已伐", "2022-10-15", "2023-01-10", "", "", "", ""),  # west/middle border, edge P02/P03
    ("B2", 2000, 800, "已清理", "2022-11-20", "2022-12-01", "2023-02-01", "", "", ""),  # middle/east border, no plot
    ("B3", 2000, 500, "已确认", "2023-01-15", "", "", "", "", ""),  # middle/east border, corner of P04 and P05
    ("B4", 2000, 950, "已伐", "2022-12-20", "2023-03-01", "", "", "", ""),  # middle/east border, edge of P07 only
    ("B5", 1000, 1000, "疑似", "2023-04-02", "", "", "", "", ""),  # west/middle border at the top, corner P02/P03
    ("R1", 1000, 700, "已确认", "2022-10-10", "", "", "", EAST, ""),  # west/middle border, record says east
    # record: a village not mapped
    ("R2", 1250, 200, "已清理", "2022-10-10", "2022-10-20", "2022-11-15", "", NORTH, ""),
    ("O1", 3500, 500, "已伐", "2022-11-11", "2022-12-12", "", "", "", ""),  # outside every village and plot
    ("O2", 3000, 250, "已确认", "2022-10-30", "", "", "", "", ""),  # on the township's outer edge (P05, east)
]

# Worked out by hand. Plots: the lowest plot_id in text order among those covering the point. Villages: where
# the tree lies (a record naming another village is reported; it counts only outside every village): the
# village of the tree's plot when that village covers the point, else the first covering village in the
# village order — by code (middle, west, east) when every village has one, else in the layer's order
# (east, middle, west).
EXPECTED_PLOT = {"I1": "P10", "I2": "P03", "I3": "P05", "I4": "P04",
                 "E1": "P02",  # P02 and P10 cover it: "P02" < "P10"
                 "B1": "P02", "B2": None, "B3": "P04", "B4": "P07", "B5": "P02", "R1": "P02", "R2": "P03",
                 "O1": None, "O2": "P05"}
SAME_EITHER_WAY = {"I1": WEST, "I2": MIDDLE, "I3": EAST, "I4": MIDDLE, "E1": WEST,
                   "B1": WEST,  # on the west/middle border in P02, whose village (west) covers it
                   "B3": MIDDLE,  # on the middle/east border in P04, whose village (middle) covers it
                   "B5": WEST,  # corner of P02 and P03: P02 → west, which covers it
                   "R1": WEST,  # the record says east: where it lies decides (P02's west), reported
                   "R2": MIDDLE,  # the record names a village not mapped: where it lies decides, reported
                   "O1": None, "O2": EAST}
EXPECTED_VILLAGE = {
    # B2 has no plot; B4's plot P07 names the west village, which does not cover it: the first of the
    # covering villages (middle, east) in the village order decides.
    True: {**SAME_EITHER_WAY, "B2": MIDDLE, "B4": MIDDLE},  # by code: middle (341001) before east (341003)
    False: {**SAME_EITHER_WAY, "B2": EAST, "B4": EAST},  # by the layer: east is listed first
}


def make_township(folder: Path, *, codes: bool) -> Path:
    """Three villages side by side (1 km × 1 km each), seven plots and the trees above, in
    GK metres; the villages carry ``code`` only when ``codes``."""
    folder.mkdir(parents=True, exist_ok=True)
    columns: dict[str, list[str]] = {"村名": LAYER_ORDER}
    if codes:
        columns["村代码"] = [CODES[v] for v in LAYER_ORDER]
    villages = gpd.GeoDataFrame(columns, geometry=[box(*_shift(VILLAGE_BOXES[v])) for v in LAYER_ORDER], crs=4548)
    villages.to_file(folder / "villages.gpkg", layer="villages")
    plots = gpd.GeoDataFrame({"小班号": [p[0] for p in PLOTS], "村名": [p[2] or None for p in PLOTS],
                              "优势树种": [p[3] for p in PLOTS]},
                             geometry=[box(*_shift(p[1])) for p in PLOTS], crs=4548)
    plots.to_file(folder / "plots.gpkg", layer="plots")
    rows = [{"编号": t[0], "东坐标": X0 + t[1], "北坐标": Y0 + t[2], "状态": t[3], "发现日期": t[4],
             "采伐日期": t[5], "清理日期": t[6], "核查日期": t[7], "村名": t[8], "小班号": t[9]} for t in TREES]
    pd.DataFrame(rows).to_csv(folder / "trees.csv", index=False, encoding="utf-8-sig")
    (folder / "township.toml").write_text(
        '[township]\nname = "边界乡"\ngk_zone = 117\ndata_date = 2023-05-01\n\n'
        '[layers.villages]\npath = "villages.gpkg"\n\n[layers.forest_plots]\npath = "plots.gpkg"\n\n'
        '[layers.infected_trees]\npath = "trees.csv"\n', encoding="utf-8")
    return folder


def _shift(b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    return (X0 + b[0], Y0 + b[1], X0 + b[2], Y0 + b[3])


@pytest.fixture(scope="module", params=[True, False], ids=["with codes", "without codes"])
def border_town(request, tmp_path_factory):
    codes = request.param
    return codes, load_township(make_township(tmp_path_factory.mktemp("border") / "t", codes=codes))


@pytest.fixture(scope="module")
def sample_town(sample_dir):
    return load_township(sample_dir / "township.toml")


# --------------------------------------------------------------------------- the comparison


def _same(a: object, b: object) -> bool:
    """Equal numbers, or both missing (a rate with no tree due)."""
    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    return float(a) == float(b)


def assert_map_matches_trees(town) -> pd.DataFrame:
    """Every tree number the map shows, per village, equals `trees`' per-village table."""
    table = tree_counts(town, hotspots=False).table.set_index("village")
    villages = town.gdf("villages")["village"].astype(str).tolist()
    for key in TREE_KEYS:
        column = INDICATORS[key].tree_column
        # the choropleth as the page draws it, and the per-village series behind it
        layer = build_model(town, results={}, raster_providers={}, indicator_key=key).layer("indicator")
        shown = dict(zip(layer.gdf["village"].astype(str), layer.gdf["value"], strict=True))
        assert list(shown) == villages
        values = per_village(town, key)
        for village in villages:
            assert _same(shown[village], table.loc[village, column]), (key, village)
            assert _same(values[village], table.loc[village, column]), (key, village)
    # the key statistics printed with the map: every row of the trees table, Total included
    summary = map_summary(town).table.set_index("village")
    assert [v for v in summary.index if v in table.index] == list(table.index)  # one village order
    for village in table.index:
        for key in TREE_KEYS:
            column = INDICATORS[key].tree_column
            assert _same(summary.loc[village, key], table.loc[village, column]), (key, village)
    # … and no tree anywhere else
    others = summary.index.difference(table.index)
    assert (summary.loc[others, ["found", "standing", "felled", "cleared"]] == 0).all().all()
    return table


def test_sample_map_matches_trees(sample_town):
    table = assert_map_matches_trees(sample_town)
    assert table.loc["Total", "found"] == len(sample_town.gdf("infected_trees"))


def test_border_trees_land_where_the_rule_says(border_town):
    codes, town = border_town
    trees, findings = locate_trees(town)
    trees = trees.set_index(town.layer("infected_trees").ids().to_numpy())
    got_plot = {t: (None if pd.isna(p) else p) for t, p in trees["plot_id"].items()}
    got_village = {t: (None if pd.isna(v) else v) for t, v in trees["village"].items()}
    assert got_plot == EXPECTED_PLOT
    assert got_village == EXPECTED_VILLAGE[codes]
    mismatches = {(f.check, f.feature) for f in findings if f.check.endswith("_mismatch")}
    assert mismatches == {("village_mismatch", "R1"), ("village_mismatch", "R2")}
    # edge trees inside the township are never "outside"
    outside = {f.feature for f in findings if f.check == "outside_villages"}
    assert outside == {"O1"}


def test_border_town_counts_by_hand(border_town):
    codes, town = border_town
    table = tree_counts(town, hotspots=False).table.set_index("village")
    expected_order = ([MIDDLE, WEST, EAST] if codes else LAYER_ORDER) + ["(outside)", "Total"]
    assert list(table.index) == expected_order
    # (found, standing, felled, cleared, due, due_cleared); due = found by the cut-off 2023-03-31, cleared by
    # the data date 2023-05-01. West: I1, E1, B1, B5 (B5 found 2023-04-02, not yet due) and R1 (its record says
    # east, it lies in the west); R2 (its record names 北村, not mapped) lies in the middle village.
    hand = {WEST: (5, 3, 2, 1, 4, 1), "(outside)": (1, 0, 1, 0, 1, 0)}
    if codes:  # middle: I2, I4, B2, B3, B4, R2; east: I3 (not yet due), O2
        hand |= {MIDDLE: (6, 2, 4, 3, 6, 3), EAST: (2, 1, 1, 0, 1, 0)}
    else:  # middle: I2, I4, B3, R2; east: I3, O2, B2, B4
        hand |= {MIDDLE: (4, 2, 2, 2, 4, 2), EAST: (4, 1, 3, 1, 3, 1)}
    for village, numbers in hand.items():
        got = tuple(int(table.loc[village, c]) for c in ("found", "standing", "felled", "cleared", "due",
                                                         "due_cleared"))
        assert got == numbers, village
        assert table.loc[village, "clearance_pct"] == pytest.approx(round(100 * numbers[5] / numbers[4], 2))
    assert table.loc["Total", "found"] == len(TREES)


def test_border_town_map_matches_trees(border_town):
    _, town = border_town
    assert_map_matches_trees(town)


def test_border_town_areas_follow_the_record_else_the_location(border_town):
    """Plots belong to the village their record names (P07: west, though it lies in the east
    village), else to the village covering a point inside them (P08, no record: east)."""
    _, town = border_town
    forest = per_village(town, "forest_mu")
    mu = {p[0]: (p[1][2] - p[1][0]) * (p[1][3] - p[1][1]) / M2_PER_MU for p in PLOTS}
    expected = {WEST: mu["P10"] + mu["P02"] + mu["P07"], MIDDLE: mu["P03"] + mu["P04"],
                EAST: mu["P05"] + mu["P08"]}
    for village, value in expected.items():
        assert forest[village] == pytest.approx(value, rel=1e-3)  # ellipsoidal ≈ planar at this size
    pine = per_village(town, "pine_mu")
    assert pine[MIDDLE] == pytest.approx(mu["P04"], rel=1e-3)  # P03 is Chinese fir
    assert pine[EAST] == pytest.approx(mu["P05"], rel=1e-3)  # P08 is Chinese fir
    summary = map_summary(town).table.set_index("village")
    assert summary.loc["Total", "forest_mu"] == pytest.approx(sum(mu.values()), rel=1e-3)
    assert np.isclose(summary.loc[list(expected), "forest_mu"].to_numpy(), forest[list(expected)].to_numpy()).all()
