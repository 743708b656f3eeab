"""`map` on a county: one page holds every township's layers (named after it in the layer
switcher), each township's border (its villages dissolved, worked out here from the
files) and the land two townships claim; the key statistics per township and village, and
the county Total, equal `trees --township county.toml`'s table; the layers of one kind
are sized over the whole county, so the page keeps one township's budgets; a township
that cannot be read is named and the others are drawn (exit 1)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from county_copies import county, township_copy

import geo_township.webmap.model as wm
from geo_township.cli import main
from geo_township.county import load_county
from geo_township.webmap import county_map_summary, prepare_county_map
from geo_township.webmap.build import DATA_ID, render_html
from geo_township.webmap.county_map import build_county_model

NAMES = ("东岭乡", "西河乡")
TOTAL = "Total"
MU = 10000 / 15
TREE_COLUMNS = ("found", "standing", "felled", "cleared", "clearance_pct")


@pytest.fixture(scope="module")
def together(tmp_path_factory) -> Path:
    """Two copies of the sample in the same place: every village and plot claimed twice."""
    return county(tmp_path_factory.mktemp("together"), dlat=0.0)


@pytest.fixture(scope="module")
def prepared(together):
    return prepare_county_map(load_county(together / "county.toml"))


@pytest.fixture(scope="module")
def model(prepared):
    return build_county_model(prepared)


def _page_layers(model) -> dict[str, dict]:
    page = render_html(model, offline=False)
    data = json.loads(re.search(rf'<script type="application/json" id="{DATA_ID}">(.*?)</script>', page,
                                re.DOTALL).group(1))
    return {lay["key"]: lay for lay in data["layers"]}


def test_the_page_holds_both_townships_layers_named_after_them(model):
    layers = _page_layers(model)
    for i, name in enumerate(NAMES):
        mine = [lay for key, lay in layers.items() if key.startswith(f"t{i}.")]
        assert {lay["key"].split(".", 1)[1] for lay in mine} >= {"township_border", "villages", "forest_plots",
                                                                "infected_trees", "rivers", "land_transfers"}
        assert all(lay["name"].startswith(f"{name} · ") for lay in mine)
        assert layers[f"t{i}.infected_trees"]["name"] == f"{name} · Pine-wilt trees"
        # the township's layers follow one another in the switcher, its border first
    keys = list(layers)
    assert keys[0] == "t0.township_border"
    assert max(keys.index(k) for k in keys if k.startswith("t0.")) < keys.index("t1.township_border")
    assert model.title == "青山县"


def test_each_township_border_is_its_villages_dissolved(model, together):
    for i, (name, folder) in enumerate(zip(NAMES, ("east", "west"), strict=True)):
        border = model.layer(f"t{i}.township_border")
        assert list(border.gdf["township"]) == [name] and border.label_field == "township"
        villages = gpd.read_file(together / folder / "township.gpkg", layer="villages")
        outline = shapely.union_all(villages.to_crs(4326).geometry.to_numpy())
        drawn = border.gdf.geometry.iloc[0]
        # simplified by half a metre for the page: the same outline to well under a millionth of a degree²
        assert abs(drawn.area - outline.area) < 1e-4 * outline.area
        assert shapely.symmetric_difference(drawn, outline).area < 1e-4 * outline.area


def test_land_claimed_twice_is_one_highlighted_layer(model, together):
    claims = model.layer("claims")
    assert claims.highlight and claims.show
    # identical copies: each village and each plot (bigger than the 0.1 mu slivers) claims itself
    villages = gpd.read_file(together / "east" / "township.gpkg", layer="villages")
    plots = gpd.read_file(together / "east" / "forest_plots.shp", encoding="gbk")
    geod = plots.to_crs(4490).geometry
    from pyproj import Geod

    mu = [abs(Geod(ellps="GRS80").geometry_area_perimeter(g)[0]) / MU for g in geod]
    expected = len(villages) + sum(m > 0.1 for m in mu)
    assert claims.count == expected
    gdf = claims.gdf
    assert (gdf["feature_a"] == gdf["feature_b"]).all()
    assert set(gdf["township_a"]) == {NAMES[0]} and set(gdf["township_b"]) == {NAMES[1]}


def test_key_statistics_equal_the_trees_table_of_the_county(prepared, together, runner, tmp_path):
    out = tmp_path / "trees.csv"
    result = runner.invoke(main, ["trees", "--township", str(together / "county.toml"), "--format", "csv",
                                  "-o", str(out)])
    assert result.exit_code in (0, 1), result.stderr
    trees = pd.read_csv(out, encoding="utf-8-sig").fillna({"village": ""})
    summary = county_map_summary(prepared).table.fillna({"village": ""})
    summary["village"] = summary["village"].replace({None: ""})
    key = ["township", "village"]
    merged = trees.merge(summary, on=key, suffixes=("_trees", "_map"), how="outer", indicator=True)
    tree_rows = merged[merged["_merge"] != "right_only"]
    assert (tree_rows["_merge"] == "both").all(), tree_rows[key]
    assert set(merged["township"]) == {*NAMES, TOTAL}
    for column in TREE_COLUMNS:
        a, b = tree_rows[f"{column}_trees"].astype(float), tree_rows[f"{column}_map"].astype(float)
        assert ((a - b).abs() <= 0.006).all(), (column, tree_rows[[*key, f"{column}_trees", f"{column}_map"]])
    county_total = summary[summary["township"] == TOTAL].iloc[0]
    for column in ("forest_mu", "transferred_mu", "sites_illegal"):  # the townships' totals added
        township_totals = summary[(summary["township"] != TOTAL) & (summary["village"] == TOTAL)]
        assert county_total[column] == pytest.approx(township_totals[column].sum())


def test_layers_of_one_kind_are_sized_over_the_whole_county(prepared, together, monkeypatch):
    trees_each = len(pd.read_csv(together / "east" / "infected_trees.csv", encoding="utf-8-sig"))
    monkeypatch.setattr(wm, "SYMBOLS_MAX", trees_each + 100)  # one township's trees would be symbols …
    plots = gpd.read_file(together / "east" / "forest_plots.shp", encoding="gbk")
    vertices = 2 * int(shapely.get_num_coordinates(plots.geometry.to_numpy()).sum())
    monkeypatch.setattr(wm, "VERTEX_BUDGET", vertices // 8)
    model = build_county_model(prepared)
    for i in range(2):
        assert model.layer(f"t{i}.infected_trees").representation == "dots"  # … the county's are dots
        assert model.layer(f"t{i}.forest_plots").tolerance_m == pytest.approx(wm.simplify_tolerance_m(vertices))
    assert wm.simplify_tolerance_m(vertices) == pytest.approx(8 * wm.SIMPLIFY_BASE_M, rel=1e-3)


def test_a_township_left_out_is_named_and_the_others_drawn(runner, tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    township_copy(root / "good", "好乡")
    (root / "good" / "sand_sites.kml").unlink()
    (root / "bad").mkdir()
    (root / "bad" / "township.toml").write_text("[township\n", encoding="utf-8")
    (root / "county.toml").write_text('[county]\nname = "县"\ntownships = ["*"]\n', encoding="utf-8")
    page = tmp_path / "county.html"
    result = runner.invoke(main, ["map", "--township", str(root), "-o", str(page), "--cdn", "--no-summary"])
    assert result.exit_code == 1, result.stderr
    assert "bad" in result.stderr and "好乡: the sand_sites layer (sand_sites.kml)" in result.stderr
    data = json.loads(re.search(rf'id="{DATA_ID}">(.*?)</script>', page.read_text(encoding="utf-8"),
                                re.DOTALL).group(1))
    assert any("bad" in w and "left out" in w for w in data["warnings"])
    assert any(w.startswith("好乡: ") and "sand_sites" in w for w in data["warnings"])
    assert {lay["key"] for lay in data["layers"]} >= {"t0.township_border", "t0.infected_trees"}
    result = runner.invoke(main, ["map", "--township", str(root), "-o", str(page), "--no-summary", "--lang", "zh"])
    assert result.exit_code == 1 and "警告：乡镇 bad" in result.stderr
    from test_printmap import need_cjk_font

    need_cjk_font()
    result = runner.invoke(main, ["map", "--township", str(root), "--print", str(tmp_path / "p.png"), "--dpi", "72",
                                  "--no-summary"])
    assert result.exit_code == 1, result.stderr
    assert result.stderr.count("township bad") == 1  # named once, though the printed map's warnings name it too


@pytest.mark.parametrize(("args", "said"), [(["--indicator", "standing"], "--indicator"),
                                            (["--raster", "ndvi_2022"], "--raster"),
                                            (["--print", "x.pdf", "--atlas"], "--atlas"),
                                            (["--print", "x.pdf", "--village", "青溪村"], "--village")])
def test_what_a_county_map_does_not_do_is_refused_clearly(runner, tmp_path, args, said):
    (tmp_path / "county.toml").write_text('[county]\nname = "县"\ntownships = ["*"]\n', encoding="utf-8")
    result = runner.invoke(main, ["map", "--township", str(tmp_path / "county.toml"), *args])
    assert result.exit_code == 2
    assert said in result.stderr and "--township FOLDER" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_countys_printed_map_is_one_page_of_every_township_with_one_legend(runner, together, tmp_path):
    from test_printmap import assert_drawn_map, need_cjk_font, rendered_page

    pypdf = pytest.importorskip("pypdf")
    need_cjk_font()
    out = tmp_path / "county.pdf"
    result = runner.invoke(main, ["map", "--township", str(together / "county.toml"), "--print", str(out),
                                  "--no-summary", "--lang", "zh"])
    assert result.exit_code == 0, result.stderr
    assert "打印地图已写入" in result.stdout and "1 页" in result.stdout
    assert not (tmp_path / "maps").exists()  # --print alone writes no page
    reader = pypdf.PdfReader(str(out))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "青山县" in text and "东岭乡" in text and "西河乡" in text  # the title and the townships' names
    assert "青溪村" not in text  # village names would crowd a county: only the townships are named
    # one legend for both townships: each kind of layer once, its counts the townships' added
    assert text.count("森林小班") == 1 and "行政村 (20)" in text
    assert "east/township.toml" in text and "west/township.toml" in text  # the sources
    assert_drawn_map(rendered_page(out, tmp_path), share=0.05)


def test_a_countys_printed_page_is_framed_on_every_township(tmp_path):
    """Townships apart (the second 0.5° north) are both on the page, each named once, and one
    without villages is framed by its layers."""
    from test_printmap import need_cjk_font

    from geo_township.printmap.plan import build_county_sheet, plan_page

    need_cjk_font()
    root = county(tmp_path)
    toml = root / "west" / "township.toml"
    text = toml.read_text(encoding="utf-8")
    start = text.index("[layers.villages]")
    toml.write_text(text[:start] + text[text.index("[layers.forest_plots]"):], encoding="utf-8")  # no villages
    sheet = build_county_sheet(prepare_county_map(load_county(root / "county.toml")), lang="zh", paper="A4",
                               orientation="landscape")
    page = plan_page(sheet, None)
    xmin, xmax, ymin, ymax = page.extent
    for prep in sheet.layers:
        b = prep.bounds
        assert b[:, 0].min() >= xmin and b[:, 2].max() <= xmax and b[:, 1].min() >= ymin and b[:, 3].max() <= ymax
    assert set(sheet.villages) == set(NAMES)  # each township frames the page, the second by its layers' box
    labels = [t for p in sheet.layers if p.labels for t in p.labels]
    assert labels == [NAMES[0]]  # only the first has a border (villages) to be named on
    assert sorted(sheet.sources.values()) == [f"{NAMES[0]} east/township.toml", f"{NAMES[1]} west/township.toml"]


def test_a_countys_merged_legend_adds_alike_entries_and_keeps_the_others():
    from geo_township.printmap.plan import merged_legend
    from geo_township.webmap.model import LegendEntry, MapLayer

    def layer(name, *entries):
        return MapLayer(key=name, name=name, geometry="point", representation="points", show=True, z=0,
                        legend=[LegendEntry(label, "#f00", "circle", count) for label, count in entries])

    merged = merged_legend([layer("甲乡 · 疫木", ("疑似", 3), ("已伐", 2)), layer("甲乡 · 河流"),
                            layer("乙乡 · 疫木", ("疑似", 4), ("已核查", 1))], " · ")
    assert [m.name for m in merged] == ["疫木", "河流"]
    assert [(e.label, e.count) for e in merged[0].legend] == [("疑似", 7), ("已伐", 2), ("已核查", 1)]


def test_an_output_folder_that_does_not_exist_is_refused_before_any_work(runner, together, tmp_path):
    result = runner.invoke(main, ["map", "--township", str(together / "county.toml"), "-o",
                                  str(tmp_path / "nowhere" / "county.html")])
    assert result.exit_code == 2
    assert "nowhere does not exist" in result.stderr and "Traceback" not in result.stderr


def test_the_refusal_is_in_chinese_with_lang_zh(runner, tmp_path):
    (tmp_path / "county.toml").write_text('[county]\nname = "县"\ntownships = ["*"]\n', encoding="utf-8")
    result = runner.invoke(main, ["map", "--township", str(tmp_path / "county.toml"), "--print", "x.pdf",
                                  "--atlas", "--lang", "zh"])
    assert result.exit_code == 2
    assert "全县只打印一页" in result.stderr and "--township 乡镇文件夹 --print 文件.pdf --atlas" in result.stderr
