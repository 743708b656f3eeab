"""The bundled sample township: files, formats, geometry and the planted faults.

Everything is checked from the written files with plain geopandas/shapely, independently of
how the generator builds them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import tomllib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from geo_township.sample import generate, planted_truth
from geo_township.sample.__main__ import main

REPO = Path(__file__).resolve().parents[1]
MU = 10000.0 / 15.0
#: An equal-area projection on the CGCS2000/GRS80 ellipsoid centred on the township: planar
#: areas in it are ellipsoidal areas.
EQUAL_AREA = "+proj=aea +lat_0=30.5 +lon_0=117.5 +lat_1=30.3 +lat_2=30.7 +ellps=GRS80 +units=m"
GK = "EPSG:4548"
FILES = (
    "township.gpkg",
    "forest_plots.shp",
    "forest_plots.shx",
    "forest_plots.dbf",
    "forest_plots.prj",
    "infected_trees.csv",
    "rivers.geojson",
    "sand_sites.kml",
    "township.toml",
    "README.md",
)
PINES = {"马尾松", "湿地松"}
DATA_DATE = dt.date(2023, 4, 30)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    d = tmp_path_factory.mktemp("sample")
    truth = generate(d)
    return d, truth


@pytest.fixture(scope="module")
def layers(out):
    d, _ = out
    return {
        "villages": gpd.read_file(d / "township.gpkg", layer="villages"),
        "transfers": gpd.read_file(d / "township.gpkg", layer="land_transfers"),
        "basic": gpd.read_file(d / "township.gpkg", layer="basic_farmland"),
        "plots": pyogrio.read_dataframe(d / "forest_plots.shp", encoding="GBK"),
        "trees": pd.read_csv(
            d / "infected_trees.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
        ),
        "rivers": gpd.read_file(d / "rivers.geojson"),
        "sand": pyogrio.read_dataframe(d / "sand_sites.kml"),
    }


def ea_mu(geoms: gpd.GeoSeries) -> pd.Series:
    return geoms.to_crs(EQUAL_AREA).area / MU


def parse_date(s: str) -> dt.date | None:
    if not s:
        return None
    y, m, d = (int(x) for x in s.replace("/", "-").split("-"))
    return dt.date(y, m, d)


def tree_points(trees: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        trees,
        geometry=gpd.points_from_xy(trees["经度"].astype(float), trees["纬度"].astype(float)),
        crs=4490,
    )


# ---- files and formats -----------------------------------------------------------------


def test_files_and_formats(out):
    d, _ = out
    for name in FILES:
        assert (d / name).is_file(), name
    assert not (d / "forest_plots.cpg").exists()
    total = sum(p.stat().st_size for p in d.iterdir())
    assert total < 15e6
    # GBK without .cpg: bytes are GBK, not UTF-8
    raw = (d / "forest_plots.dbf").read_bytes()
    assert "马尾松".encode("gbk") in raw and "马尾松".encode() not in raw
    info = pyogrio.read_info(d / "forest_plots.shp")
    assert info["crs"] == "EPSG:4527"  # CGCS2000 3-degree GK zone 39
    assert all(
        len(f.encode("gbk")) <= 10
        for f in pyogrio.read_info(d / "forest_plots.shp", encoding="GBK")["fields"]
    )
    assert (d / "infected_trees.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    gj = json.loads((d / "rivers.geojson").read_text(encoding="utf-8"))
    assert "crs" not in gj and gj["type"] == "FeatureCollection"
    kml = (d / "sand_sites.kml").read_text(encoding="utf-8")
    assert "<ExtendedData>" in kml and "关停日期" in kml
    for layer in ("villages", "land_transfers", "basic_farmland"):
        assert pyogrio.read_info(d / "township.gpkg", layer=layer)["crs"] == "EPSG:4490"
    cfg = tomllib.loads((d / "township.toml").read_text(encoding="utf-8"))
    assert cfg["township"] == {
        "name": "青溪乡",
        "name_en": "Qingxi Township",
        "crs": "EPSG:4490",
        "data_date": "2023-04-30",
    }
    assert cfg["layers"]["forest_plots"] == {
        "path": "forest_plots.shp",
        "fields": {"plot_id": "小班编码"},
    }
    assert cfg["layers"]["land_transfers"] == {"path": "township.gpkg", "layer": "land_transfers"}
    # the seven layers of the brief; other parts of the sample may add more (patrols, rasters…)
    assert set(cfg["layers"]) >= {
        "villages",
        "forest_plots",
        "infected_trees",
        "rivers",
        "sand_sites",
        "land_transfers",
        "basic_farmland",
    }
    assert "python -m geo_township.sample layers" in (d / "README.md").read_text(encoding="utf-8")


def test_counts_in_range(out, layers):
    _, truth = out
    assert len(layers["villages"]) == 10
    assert 1500 <= len(layers["plots"]) <= 2500
    assert 12000 <= len(layers["trees"]) <= 25000
    assert 300 <= len(layers["transfers"]) <= 400
    assert 12 <= len(layers["sand"]) <= 18
    c = truth["counts"]
    assert c["forest_plots"] == len(layers["plots"])
    assert c["infected_trees"] == len(layers["trees"])
    assert c["land_transfers"] == len(layers["transfers"])
    assert c["sand_sites"] == len(layers["sand"])
    assert c["rivers"] == len(layers["rivers"])
    json.dumps(truth)  # serialisable


# ---- villages, plots, rivers ------------------------------------------------------------


def test_villages_tile_the_township(layers):
    v = layers["villages"]
    assert v["村名"].tolist() == [
        "青溪村",
        "石门村",
        "桃源村",
        "枫林村",
        "竹山村",
        "河口村",
        "柏树村",
        "上庄村",
        "龙潭村",
        "新塘村",
    ]
    assert v["村代码"].is_unique and v["村代码"].str.fullmatch(r"\d{12}").all()
    assert v.geometry.is_valid.all() and (v.geom_type == "Polygon").all()
    g = v.to_crs(EQUAL_AREA).geometry
    union = shapely.union_all(g.values)
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    assert abs(union.area - g.area.sum()) <= 1e-6 * union.area
    assert 90e6 < union.area < 110e6


def test_forest_plots(layers):
    p = layers["plots"]
    v = layers["villages"].to_crs(p.crs)
    assert p.geometry.is_valid.all() and (p.geom_type == "Polygon").all()
    assert p.geometry.bounds["minx"].between(39_000_000, 40_000_000).all()
    assert p["小班编码"].is_unique
    assert p["小班编码"].str.fullmatch(r"\d{7}").all()
    assert (
        p["小班编码"]
        == (
            p["村名"].map(dict(zip(v["村名"], range(1, 11), strict=True))).map("{:02d}".format)
            + p["林班号"]
            + p["小班号"]
        )
    ).all()
    assert p["林班号"].astype(int).between(1, 20).all()
    # non-overlapping, each inside its own village
    assert abs(shapely.union_all(p.geometry.values).area - p.area.sum()) < 1.0
    vg = dict(zip(v["村名"], v.geometry, strict=True))
    inside = [g.intersection(vg[n]).area / g.area for g, n in zip(p.geometry, p["村名"], strict=True)]
    assert min(inside) > 0.9999
    # species shares, origin and years
    share = p["优势树种"].value_counts(normalize=True)
    for sp, s in {
        "马尾松": 0.55,
        "杉木": 0.20,
        "油茶": 0.10,
        "阔叶混交": 0.12,
        "湿地松": 0.03,
    }.items():
        assert abs(share[sp] - s) < 0.03, sp
    nat = p["起源"] == "天然"
    assert set(p["起源"]) == {"天然", "人工"}
    assert (p.loc[nat, "造林年度"] == 0).all()
    assert p.loc[~nat, "造林年度"].between(1975, 2022).all()
    # the report years' plantations: Chinese fir replanted in 2021 and 2022, and no others
    for year in (2021, 2022):
        new = p[p["造林年度"] == year]
        assert len(new) > 0 and set(new["优势树种"]) == {"杉木"} and set(new["起源"]) == {"人工"}
    assert p.loc[~nat, "造林年度"].between(2021, 2022).sum() == 7 + 11
    # area field is the ellipsoidal area
    mu = ea_mu(p.geometry)
    assert ((p["面积"] - mu).abs() <= 0.011).all()
    assert mu.median() > 20 and mu.quantile(0.95) < 300
    assert p["林长"].str.len().ge(2).all()


def test_rivers(layers):
    r = layers["rivers"]
    assert set(r.columns) >= {"河流名称", "河段编号", "河长", "河长级别", "管理范围"}
    assert r["河段编号"].is_unique
    n = r.groupby("河流名称").size()
    assert 3 <= n["青溪河"] <= 4
    trib = n.drop("青溪河")
    assert 3 <= len(trib) <= 4 and trib.between(1, 2).all()
    zone = r.groupby("河流名称")["管理范围"].first()
    assert zone["青溪河"] == 30 and zone.drop("青溪河").between(15, 20).all()
    assert set(r["河长级别"]) <= {"县级", "乡级", "村级"}
    g = r.to_crs(GK)
    for line in g.geometry:
        seg = shapely.get_coordinates(line)
        steps = [math.dist(a, b) for a, b in itertools.pairwise(seg)]
        assert max(steps) < 60.0
    # tributaries end on the main river
    main = shapely.union_all(g.geometry[r["河流名称"] == "青溪河"].values)
    for name in trib.index:
        lines = g.geometry[r["河流名称"] == name]
        ends = [shapely.Point(shapely.get_coordinates(ln)[-1]) for ln in lines]
        assert min(main.distance(e) for e in ends) < 0.01, name


def test_riparian_belt_reaches_into_one_zone(out, layers):
    """One forest plot and its contract lie partly inside a management zone (the truth says
    how much); every other plot keeps out of every zone."""
    _, truth = out
    rw = truth["river_work"]
    (fp,), (tp,) = rw["forest_plots_in_zone"], rw["land_transfers_in_zone"]
    r = layers["rivers"].to_crs(GK)
    zones = gpd.GeoDataFrame({"reach": r["河段编号"]}, geometry=r.geometry.buffer(r["管理范围"], 64), crs=GK)
    plots = layers["plots"].to_crs(GK)
    hit = gpd.sjoin(plots, zones, predicate="intersects")
    assert list(zip(hit["小班编码"], hit["reach"], strict=True)) == [(fp["plot_id"], fp["reach"])]
    transfers = layers["transfers"].to_crs(GK)
    hit = gpd.sjoin(transfers, zones, predicate="intersects")
    assert list(zip(hit["地块编号"], hit["reach"], strict=True)) == [(tp["parcel_id"], tp["reach"])]
    zone = zones.loc[zones["reach"] == fp["reach"]]
    plot = plots[plots["小班编码"] == fp["plot_id"]]
    inside = gpd.overlay(plot[["geometry"]], zone[["geometry"]], how="intersection")
    assert ea_mu(inside.geometry).sum() == pytest.approx(fp["inside_mu"], abs=0.01)
    parcel = transfers[transfers["地块编号"] == tp["parcel_id"]]
    inside = gpd.overlay(parcel[["geometry"]], zone[["geometry"]], how="intersection")
    assert ea_mu(inside.geometry).sum() == pytest.approx(tp["inside_mu"], abs=0.01)
    # the belt: a planted broadleaf plot of its village, its contract on it
    row = layers["plots"].set_index("小班编码").loc[fp["plot_id"]]
    assert (row["村名"], row["优势树种"], row["起源"]) == (fp["village"], "阔叶混交", "人工")
    assert plot.geometry.iloc[0].distance(r.geometry[r["河段编号"] == fp["reach"]].iloc[0]) == pytest.approx(
        fp["distance_m"], abs=0.01)
    assert parcel.geometry.iloc[0].within(plot.geometry.iloc[0])


# ---- land transfers ------------------------------------------------------------------------


def test_transfers_are_clean_except_the_planted_faults(out, layers):
    _, truth = out
    f = truth["transfer_faults"]
    t = layers["transfers"].copy()
    assert t["地块编号"].is_unique
    assert t["地块编号"].str.fullmatch(r"TZ-QX-\d{4}").all()
    assert t.geometry.is_valid.all()
    assert set(t["地类"]) == {"耕地", "林地"}
    t["mu"] = ea_mu(t.geometry)
    t["start"] = t["起始日期"].map(dt.date.fromisoformat)
    t["end"] = t["终止日期"].map(dt.date.fromisoformat)
    ids = t.set_index("地块编号")
    assert (t["end"] > t["start"]).all()
    assert (t["start"].map(lambda d: d.year).between(2015, 2023)).all()
    assert ((t["end"] - t["start"]).map(lambda x: x.days) <= 20 * 366).all()

    # declared vs measured
    dev = t["合同面积"] / t["mu"] - 1.0
    bad = set(t.loc[dev.abs() > 0.02, "地块编号"])
    assert bad == {f["area_off"]["parcel_id"]}
    ao = ids.loc[f["area_off"]["parcel_id"]]
    assert abs(ao["合同面积"] / ao["mu"] - 1.2) < 0.002
    assert abs(ao["mu"] - f["area_off"]["measured_mu"]) < 0.01

    # inside the recorded village
    v = layers["villages"].to_crs(EQUAL_AREA)
    vg = dict(zip(v["村名"], v.geometry, strict=True))
    tg = t.to_crs(EQUAL_AREA)
    out_mu = pd.Series(
        [g.difference(vg[n]).area / MU for g, n in zip(tg.geometry, t["村名"], strict=True)], index=t["地块编号"]
    )
    assert set(out_mu[out_mu > 0.01].index) == {f["crosses_village"]["parcel_id"]}
    cv = f["crosses_village"]
    share = out_mu[cv["parcel_id"]] / ids.loc[cv["parcel_id"], "mu"]
    assert 0.10 <= share <= 0.30
    assert abs(out_mu[cv["parcel_id"]] - cv["outside_mu"]) < 0.01
    assert ids.loc[cv["parcel_id"], "村名"] == cv["recorded_village"]

    # overlaps: only the planted pair (in time too) and the renewals (not in time)
    left, right = tg.sindex.query(tg.geometry, predicate="intersects")
    overlaps = {}
    for i, j in zip(left, right, strict=True):
        if i < j:
            a = tg.geometry.iloc[i].intersection(tg.geometry.iloc[j]).area / MU
            if a > 0.1:
                overlaps[frozenset((t["地块编号"].iloc[i], t["地块编号"].iloc[j]))] = a
    renewals = {frozenset(p) for p in truth["renewal_pairs"]}
    assert frozenset(f["renewal_pair"]) in renewals
    assert set(overlaps) == {frozenset(f["overlap_pair"])} | renewals
    op = frozenset(f["overlap_pair"])
    assert 3.0 <= overlaps[op] <= 15.0 and abs(overlaps[op] - f["overlap_mu"]) < 0.01
    a, b = (ids.loc[x] for x in f["overlap_pair"])
    assert a["start"] <= b["end"] and b["start"] <= a["end"]
    for pair in truth["renewal_pairs"]:
        assert overlaps[frozenset(pair)] > 5.0
        first, second = (ids.loc[x] for x in pair)
        assert first["end"] < second["start"]

    # no non-farming use on basic farmland except the planted photovoltaic parcel
    basic = shapely.union_all(layers["basic"].to_crs(EQUAL_AREA).geometry.values)
    on_bf = pd.Series([g.intersection(basic).area / MU for g in tg.geometry], index=t["地块编号"])
    nonfarm = t.set_index("地块编号")["用途"].isin(["光伏发电", "畜禽养殖", "水产养殖"])
    flagged = set(on_bf[(on_bf > 0.01) & nonfarm].index)
    pvf = f["pv_on_basic_farmland"]
    assert flagged == {pvf["parcel_id"]}
    assert abs(on_bf[pvf["parcel_id"]] - pvf["overlap_mu"]) < 0.01
    grain = t["用途"].isin(["粮食种植", "蔬菜种植"])
    assert (on_bf[grain.values].values > 1.0).mean() > 0.6  # most grain/vegetables on it

    # farmland never on forest plots; forest-land transfers do sit on plots
    plots = shapely.union_all(layers["plots"].to_crs(EQUAL_AREA).geometry.values)
    on_forest = pd.Series(
        [g.intersection(plots).area / MU for g in tg.geometry], index=t["地块编号"]
    )
    farm = (t["地类"] == "耕地").values
    assert on_forest[farm].max() <= 0.01
    assert (on_forest[~farm] > 1.0).all()

    # nothing within a river's management zone (+10 m) but the riparian belt's contract
    r = layers["rivers"].to_crs(GK)
    tk = t.to_crs(GK)
    belt = f["in_river_zone"]["parcel_id"]
    assert f["in_river_zone"]["severity"] == "warning"
    others = tk[t["地块编号"] != belt]
    for line, zone in zip(r.geometry, r["管理范围"], strict=True):
        assert others.distance(line).min() >= zone + 10.0
    assert ids.loc[belt, "地类"] == "林地"

    # photovoltaic project, shapes and sizes
    pv = t[t["用途"] == "光伏发电"]
    assert 10 <= len(pv) <= 25 and (pv["流入方"] == "阳光新能源开发有限公司").all()
    assert t["mu"].between(2.0, 80.0).all()
    assert set(t["用途"]) == {
        "粮食种植",
        "蔬菜种植",
        "油茶种植",
        "苗木花卉",
        "水产养殖",
        "畜禽养殖",
        "光伏发电",
    }


# ---- infected trees ------------------------------------------------------------------------


def test_infected_trees_table(layers):
    t = layers["trees"]
    assert list(t.columns) == [
        "编号",
        "经度",
        "纬度",
        "状态",
        "发现日期",
        "采伐日期",
        "清理日期",
        "核查日期",
        "除治方式",
        "调查方式",
        "村名",
        "小班编码",
    ]
    assert t["编号"].is_unique and t["编号"].str.fullmatch(r"SC20\d\d-\d{5}").all()
    assert (
        t["经度"].str.fullmatch(r"\d+\.\d{6}").all()
        and t["纬度"].str.fullmatch(r"\d+\.\d{6}").all()
    )
    assert set(t["状态"]) == {"疑似", "已确认", "已伐", "已清理", "已核查"}
    assert set(t["调查方式"]) == {"地面普查", "无人机"}
    cols = ["发现日期", "采伐日期", "清理日期", "核查日期"]
    slash = t[cols].apply(lambda c: c.str.contains("/")).any(axis=1).mean()
    assert 0.03 < slash < 0.07
    reached = {"疑似": 1, "已确认": 1, "已伐": 2, "已清理": 3, "已核查": 4}
    for row in t.itertuples(index=False):
        dates = [parse_date(getattr(row, c)) for c in cols]
        n = reached[row.状态]
        assert all(x is not None for x in dates[:n]) and all(x is None for x in dates[n:])
        have = dates[:n]
        assert have == sorted(have) and have[-1] <= DATA_DATE
        assert (row.除治方式 in ("粉碎", "烧毁", "药物熏蒸")) == (n >= 2)
        if row.状态 == "疑似":
            assert row.调查方式 == "无人机"
    found = t["发现日期"].map(parse_date)
    months = found.map(lambda d: (d.year, d.month))
    seasons = (
        {(2021, m) for m in range(9, 13)}
        | {(2022, 3), (2022, 4)}
        | {(2022, m) for m in range(9, 13)}
        | {(2023, 3), (2023, 4)}
    )
    assert set(months) <= seasons
    y2021 = t[found.map(lambda d: d.year) == 2021]
    assert (y2021["状态"] == "已核查").mean() > 0.95
    stuck = y2021[y2021["状态"] == "已伐"]
    assert 1 <= len(stuck) <= 30
    spring23 = t[found >= dt.date(2023, 1, 1)]
    assert spring23["状态"].isin(["疑似", "已确认"]).mean() > 0.2
    filled = (t["小班编码"] != "").mean()
    assert 0.55 < filled < 0.65
    assert ((t["小班编码"] != "") == (t["村名"] != "")).all()


def test_infected_trees_geometry(out, layers):
    _, truth = out
    t = tree_points(layers["trees"]).to_crs("EPSG:4527")
    p = layers["plots"]
    v = layers["villages"].to_crs("EPSG:4527")
    town = shapely.union_all(v.geometry.values)
    j = gpd.sjoin(
        t, p[["小班编码", "村名", "优势树种", "geometry"]], how="left", predicate="within"
    )
    assert j.index.is_unique
    special = set(truth["edge_tree_ids"])
    no_plot = set(j.loc[j["小班编码_right"].isna(), "编号"]) - special
    outside_town = {i for i, g in zip(t["编号"], t.geometry, strict=True) if not town.contains(g)}
    assert outside_town == set(truth["outside_township_tree_ids"])
    assert 2 <= len(outside_town) <= 3
    assert no_plot - outside_town == set(truth["outside_plot_tree_ids"])
    assert 5 <= len(truth["outside_plot_tree_ids"]) <= 15
    inplot = j[j["小班编码_right"].notna()]
    other = set(inplot.loc[~inplot["优势树种"].isin(PINES), "编号"])
    assert other == set(truth["gps_noise_tree_ids"])
    assert len(other) <= 0.01 * len(t)
    # recorded plot and village, where given, are the true ones
    given = inplot[inplot["小班编码_left"] != ""]
    assert (given["小班编码_left"] == given["小班编码_right"]).all()
    assert (given["村名_left"] == given["村名_right"]).all()
    # the edge trees sit on the shared edge of two pine plots (to the 6-decimal rounding)
    assert 3 <= len(special) <= 5
    pines = p[p["优势树种"].isin(PINES)]
    for g in t.geometry[t["编号"].isin(special)]:
        d = pines.distance(g).sort_values()
        assert d.iloc[1] < 0.2, d.iloc[:2]
    # clustered around the foci
    tg = t.to_crs(GK)
    pine_area = pines.area.sum()
    mean_density = len(t) / pine_area
    assert 5 <= len(truth["tree_foci"]) <= 8
    for focus in truth["tree_foci"]:
        c = gpd.GeoSeries(gpd.points_from_xy([focus["lon"]], [focus["lat"]]), crs=4490).to_crs(GK)[
            0
        ]
        assert 100 <= focus["radius_m"] <= 600
        near = (tg.distance(c) < focus["radius_m"]).sum()
        assert near / (math.pi * focus["radius_m"] ** 2) > 3 * mean_density
        assert (tg.distance(c) < 2.5 * focus["radius_m"]).sum() > 0.6 * focus["n_trees"]


# ---- sand sites --------------------------------------------------------------------------


def test_sand_sites(out, layers):
    _, truth = out
    s = layers["sand"]
    assert s["编号"].is_unique and s["Name"].is_unique
    assert s["状态"].value_counts().reindex(["已许可", "非法", "已关停", "已复绿"]).min() >= 2
    assert set(s["类型"]) == {"河道采砂", "机制砂厂"}
    closed = s["状态"].isin(["已关停", "已复绿"])
    dates = s["关停日期"].fillna("")
    assert (dates[~closed] == "").all()
    assert dates[closed].map(lambda x: 2021 <= dt.date.fromisoformat(x).year <= 2023).all()
    assert dates[closed].map(lambda x: dt.date.fromisoformat(x) <= DATA_DATE).all()
    r = layers["rivers"].to_crs(GK)
    g = s.to_crs(GK)
    in_zone = set()
    for sid, pt, kind in zip(s["编号"], g.geometry, s["类型"], strict=True):
        d = r.distance(pt)
        if (d <= r["管理范围"]).any():
            in_zone.add(sid)
        if kind == "河道采砂":
            assert d.min() < 90
        else:
            assert 150 < d.min() < 800
    assert in_zone == set(truth["sand_sites_in_zone"])
    mining = set(s.loc[s["类型"] == "河道采砂", "编号"])
    assert in_zone and mining - in_zone


# ---- determinism, truth and the command line --------------------------------------------


def test_deterministic_and_truth(out, tmp_path):
    """Two runs give the same bytes. The committed layers/ come from an earlier, separate run
    (python -m geo_township.sample layers), so they serve as the second run when present: that
    also catches a generator change without regenerated layers, and halves the test time."""
    d, truth = out
    assert planted_truth() == truth
    committed = REPO / "layers"
    if (committed / "township.toml").exists():
        ref, hint = committed, "layers/ is stale or the generator is not deterministic: run "
        hint += "python -m geo_township.sample layers twice and compare"
    else:
        assert generate(tmp_path) == truth
        ref, hint = tmp_path, "two runs differ"
    for name in FILES:
        assert (d / name).read_bytes() == (ref / name).read_bytes(), f"{name}: {hint}"


def test_cli_unwritable_dir(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main([str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err and "Traceback" not in err
