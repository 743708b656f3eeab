"""A hand-made township with every layer kind, for the map's tests (unit and browser).

Three villages side by side near 117.5°E 30.5°N (each 0.01° × 0.01°), forest plots,
pine-wilt trees in every status, two river reaches, sand sites, land transfers, basic
farmland, outfalls and a patrol track. Hostile values (markup, a closing script tag) sit
in the township name, a village name, a species, a tree id, a river name and a chief, and
Jinja template syntax in a transferee and a land use (a legend entry), so the tests can prove they are shown as text
everywhere.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point, box

HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_SCRIPT = "</script><script>window.__pwned=1</script>"
HOSTILE_TEMPLATE = "{{ 7*7 }}{% if true %}jinja{% endif %}"
LON0, LAT0 = 117.49, 30.49
VILLAGES = ["甲村", "乙村", "丙村" + HOSTILE_IMG]

# trees: (id, lon, lat, status, found, felled, cleared)
TREES = [
    ("T001", 117.4950, 30.4950, "confirmed", "2022-10-03", None, None),
    ("T002", 117.4960, 30.4960, "suspected", "2022-11-05", None, None),
    ("T003", 117.4970, 30.4930, "felled", "2022-10-10", "2022-12-01", None),
    ("T004", 117.5050, 30.4950, "cleared", "2022-10-11", "2022-12-02", "2023-01-15"),
    ("T005", 117.5060, 30.4940, "verified", "2022-10-12", "2022-12-03", "2023-01-16"),
    ("T006", 117.5150, 30.4950, "confirmed", "2022-10-20", None, None),
    (HOSTILE_SCRIPT, 117.5160, 30.4960, "felled", "2022-10-21", "2023-02-01", None),
]


def _villages() -> gpd.GeoDataFrame:
    geoms = [box(LON0 + 0.01 * i, LAT0, LON0 + 0.01 * (i + 1), LAT0 + 0.01) for i in range(3)]
    return gpd.GeoDataFrame({"village": VILLAGES, "code": ["341001", "341002", "341003"]}, geometry=geoms,
                            crs=4490)


def make_township(root: Path, *, name: str = "测试乡" + HOSTILE_SCRIPT, extra_trees: int = 0,
                  double_counted: bool = False) -> Path:
    """Write the township into ``root`` and return ``root``. ``extra_trees`` adds that many
    confirmed trees on a regular grid inside the first village (ids X000000 …);
    ``double_counted`` adds a fourth parcel (id :data:`HOSTILE_IMG`) that covers part of L1
    at the same time, so the audit finds land counted twice."""
    root.mkdir(parents=True, exist_ok=True)
    gpkg = root / "town.gpkg"
    _villages().to_file(gpkg, layer="villages")
    plots = gpd.GeoDataFrame(
        {"plot_id": ["P01", "P02", "P03", "P04", "P05", "P06"],
         "village": [VILLAGES[0], VILLAGES[0], VILLAGES[1], VILLAGES[1], VILLAGES[2], VILLAGES[2]],
         "species": ["马尾松", "杉木", "湿地松", "油茶", HOSTILE_IMG, "阔叶混交"],
         "origin": ["天然", "人工", "人工", "人工", "天然", "天然"],
         "planted_year": [None, 2005, 2010, 2015, None, None]},
        geometry=[box(117.491, 30.491, 117.499, 30.499), box(117.4905, 30.4905, 117.491, 30.4995),
                  box(117.501, 30.491, 117.509, 30.499), box(117.5005, 30.4905, 117.501, 30.4995),
                  box(117.511, 30.491, 117.519, 30.499), box(117.5105, 30.4905, 117.511, 30.4995)],
        crs=4490)
    plots.to_file(gpkg, layer="forest_plots")
    rivers = gpd.GeoDataFrame(
        {"name": ["青溪河", HOSTILE_IMG], "reach_id": ["R1", "R2"], "chief": ["张三", HOSTILE_SCRIPT],
         "chief_level": ["township", "village"], "zone_m": [30.0, None]},
        geometry=[LineString([(117.490, 30.4975), (117.500, 30.4978)]),
                  LineString([(117.500, 30.4978), (117.520, 30.4982)])], crs=4490)
    rivers.to_file(gpkg, layer="rivers")
    sand = gpd.GeoDataFrame(
        {"site_id": ["S1", "S2", "S3"], "name": ["东砂场", "西砂场", "北砂场"],
         "kind": ["机制砂厂", "河道采砂", "机制砂厂"],
         "status": ["非法", "已关停", "已许可"], "closed_date": [None, "2022-06-30", None]},
        geometry=[Point(117.4985, 30.4980), Point(117.5085, 30.4983), Point(117.5185, 30.4985)], crs=4490)
    sand.to_file(gpkg, layer="sand_sites")
    transfers = gpd.GeoDataFrame(
        {"parcel_id": ["L1", "L2", "L3"], "village": VILLAGES, "land_type": ["耕地", "耕地", "林地"],
         "transferee": ["合作社", HOSTILE_TEMPLATE, "家庭农场"], "declared_mu": [10.5, 20.0, 8.25],
         "start_date": ["2021-01-01", "2022-03-01", "2020-05-01"], "use": ["粮食", "光伏", HOSTILE_TEMPLATE]},
        geometry=[box(117.4915, 30.4915, 117.4935, 30.4930), box(117.5015, 30.4915, 117.5040, 30.4935),
                  box(117.5115, 30.4915, 117.5130, 30.4930)], crs=4490)
    if double_counted:
        l4 = gpd.GeoDataFrame(
            {"parcel_id": [HOSTILE_IMG], "village": [VILLAGES[0]], "land_type": ["耕地"], "transferee": ["种粮大户"],
             "declared_mu": [12.0], "start_date": ["2022-01-01"], "use": ["蔬菜"]},
            geometry=[box(117.4925, 30.4920, 117.4945, 30.4935)], crs=4490)
        transfers = gpd.GeoDataFrame(pd.concat([transfers, l4], ignore_index=True), crs=4490)
    transfers.to_file(gpkg, layer="land_transfers")
    farmland = gpd.GeoDataFrame({"patch_id": ["B1"], "village": [VILLAGES[1]]},
                                geometry=[box(117.5010, 30.4910, 117.5050, 30.4940)], crs=4490)
    farmland.to_file(gpkg, layer="basic_farmland")
    outfalls = gpd.GeoDataFrame({"outfall_id": ["O1", "O2"], "name": ["一号排口", "二号排口"],
                                 "river": ["青溪河", "青溪河"]},
                                geometry=[Point(117.4930, 30.4976), Point(117.5130, 30.4981)], crs=4490)
    outfalls.to_file(gpkg, layer="outfalls")
    patrols = gpd.GeoDataFrame({"chief": ["张三"], "date": ["2023-03-01"], "reach_id": ["R1"]},
                               geometry=[LineString([(117.491, 30.4976), (117.499, 30.4978)])], crs=4490)
    patrols.to_file(gpkg, layer="patrols")
    rows = [{"tree_id": t[0], "lon": t[1], "lat": t[2], "status": t[3], "found_date": t[4], "felled_date": t[5],
             "cleared_date": t[6]} for t in TREES]
    for k in range(extra_trees):
        rows.append({"tree_id": f"X{k:06d}", "lon": 117.4905 + 0.009 * ((k % 97) / 97),
                     "lat": 30.4905 + 0.009 * ((k // 97 % 97) / 97), "status": "confirmed",
                     "found_date": "2022-11-01", "felled_date": None, "cleared_date": None})
    pd.DataFrame(rows).to_csv(root / "trees.csv", index=False, encoding="utf-8-sig")
    layer_names = ("villages", "forest_plots", "rivers", "sand_sites", "land_transfers", "basic_farmland",
                   "outfalls", "patrols")
    toml = [f'[township]\nname = "{_toml_text(name)}"\nname_en = "Test Township"\ndata_date = "2023-03-31"\n']
    toml += [f'[layers.{k}]\npath = "town.gpkg"\nlayer = "{k}"\n' for k in layer_names]
    toml.append('[layers.infected_trees]\npath = "trees.csv"\n')
    (root / "township.toml").write_text("\n".join(toml), encoding="utf-8")
    return root


def _toml_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def test_fixture_township_loads_every_layer(tmp_path):
    from geo_township.layers import load_township

    town = load_township(make_township(tmp_path / "t"))
    assert len(town.kinds) == 9
    trees = town.gdf("infected_trees")
    assert sorted(trees["status"].unique()) == ["cleared", "confirmed", "felled", "suspected", "verified"]
    assert HOSTILE_SCRIPT in set(trees["tree_id"])
    assert town.config.name.endswith(HOSTILE_SCRIPT)
