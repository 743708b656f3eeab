"""The map model: which layers, styles per status, legend entries, draw order, basemaps,
representation by size, and the GCJ-02 shift (only over AMap, by the published amount)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box
from test_webmap_fixture import HOSTILE_IMG, HOSTILE_SCRIPT, TREES, make_township

from geo_township.errors import UsageError
from geo_township.layers import load_township
from geo_township.overlay import Category, Overlay, RasterOverlay
from geo_township.results import Result
from geo_township.webmap import model as wm
from geo_township.webmap.basemaps import choose_basemaps
from geo_township.webmap.model import build_model
from geo_township.webmap.providers import MapAnalysis
from geo_township.webmap.registry import map_results

# wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915) = [116.41024449916938, 39.91640428150164]
REF_WGS84 = (116.404, 39.915)
REF_GCJ02 = (116.41024449916938, 39.91640428150164)


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return load_township(make_township(tmp_path_factory.mktemp("webmap") / "t"))


@pytest.fixture(scope="module")
def model(town):
    return build_model(town, results={}, raster_providers={})


def test_every_loaded_layer_is_an_overlay_plus_river_zones(model):
    assert set(model.keys) == {"villages", "forest_plots", "infected_trees", "rivers", "river_zones", "sand_sites",
                               "land_transfers", "basic_farmland", "outfalls", "patrols"}
    assert model.keys[:3] == ["villages", "forest_plots", "infected_trees"]  # what a township head looks for first
    assert model.layer("infected_trees").count == len(TREES)


def test_trees_are_coloured_by_status_with_outstanding_in_red(model):
    trees = model.layer("infected_trees")
    colours = {tid: trees.category_colors[c - 1] for tid, c in zip(trees.gdf["tree_id"], trees.category, strict=True)}
    expected = {"confirmed": "#d7191c", "suspected": "#f768a1", "felled": "#fd8d3c", "cleared": "#2c7bb6",
                "verified": "#253494"}
    for tid, _, _, status, *_ in TREES:
        assert colours[tid] == expected[status], tid


def test_legend_entries_name_every_status_with_counts(model):
    legend = {e.label: e.count for e in model.layer("infected_trees").legend}
    assert legend == {"outstanding: suspected": 1, "outstanding: confirmed": 2, "felled, wood not yet cleared": 2,
                      "cleared": 1, "cleared and verified": 1}
    assert {e.symbol for e in model.layer("infected_trees").legend} == {"circle"}


def test_sand_sites_use_a_different_symbol_from_trees(model):
    sand = model.layer("sand_sites")
    assert {e.symbol for e in sand.legend} == {"square"}
    assert {e.label for e in sand.legend} == {"illegal", "closed", "licensed"}
    assert {e.symbol for e in model.layer("outfalls").legend} == {"triangle"}


def test_pine_plots_are_distinguishable_and_unknown_species_kept_as_text(model):
    plots = model.layer("forest_plots")
    labels = {e.label: e.color for e in plots.legend}
    assert "Masson pine (pine-wilt host)" in labels and "slash pine (pine-wilt host)" in labels
    assert labels["Chinese fir"] != labels["Masson pine (pine-wilt host)"]
    assert HOSTILE_IMG in labels  # an unknown species is a legend entry, shown as text by the page


def test_rivers_are_coloured_per_reach_with_their_chief(model):
    labels = [e.label for e in model.layer("rivers").legend]
    assert labels == ["R1 · 青溪河 · 张三", f"R2 · {HOSTILE_IMG} · {HOSTILE_SCRIPT}"]


def test_polygon_popups_carry_area_in_mu_and_readable_labels(model, town):
    plots = model.layer("forest_plots")
    fields = {f.name: f.label for f in plots.fields if f.popup}
    assert fields["area_mu"] == "Area (mu)" and fields["species"] == "Dominant species"
    zh = build_model(town, lang="zh", results={}, raster_providers={})
    fields_zh = {f.name: f.label for f in zh.layer("forest_plots").fields if f.popup}
    assert fields_zh["area_mu"] == "面积(亩)" and fields_zh["species"] == "优势树种"
    status = next(f for f in zh.layer("infected_trees").fields if f.name == "status")
    assert status.words["felled"] == "已伐"
    assert zh.layer("infected_trees").name == "松材线虫病疫木"


def test_title_has_the_township_name_and_data_date(model, town):
    assert model.title == "Test Township"
    assert model.subtitle == "data as of 2023-03-31"
    zh = build_model(town, lang="zh", results={}, raster_providers={})
    assert zh.title == "测试乡" + HOSTILE_SCRIPT and zh.subtitle == "数据截至 2023-03-31"


def test_draw_order_polygons_then_lines_then_points(model):
    z = {lay.key: lay.z for lay in model.layers}
    assert z["villages"] < z["forest_plots"] < z["land_transfers"] < z["rivers"] < z["patrols"]
    assert max(z[k] for k in ("villages", "forest_plots", "land_transfers", "river_zones")) < z["rivers"]
    assert z["rivers"] < z["sand_sites"] < z["infected_trees"]


def test_coordinates_are_the_data_in_lon_lat(model):
    trees = model.layer("infected_trees")
    xy = dict(zip(trees.gdf["tree_id"], map(tuple, trees.coordinates()), strict=True))
    for tid, lon, lat, *_ in TREES:
        assert xy[tid] == pytest.approx((lon, lat), abs=1e-9)


# --------------------------------------------------------------------------- GCJ-02


def _reference_overlay() -> Overlay:
    gdf = gpd.GeoDataFrame({"name": ["ref"]}, geometry=[Point(*REF_WGS84)], crs=4326)
    return Overlay("reference", "Reference", "参考点", gdf, "point")


def test_gcj02_shift_only_over_amap_and_by_the_published_amount(town):
    m = build_model(town, results={}, raster_providers={}, extra_overlays=[_reference_overlay()])
    assert [b.key for b in m.basemaps] == ["osm", "satellite", "amap"]
    assert m.shifted("amap") and not m.shifted("osm") and not m.shifted("satellite")
    assert m.display_coordinates("reference", "amap")[0] == pytest.approx(REF_GCJ02, abs=1e-9)
    assert m.display_coordinates("reference", "osm")[0] == pytest.approx(REF_WGS84, abs=1e-12)
    assert m.display_coordinates("reference", "satellite")[0] == pytest.approx(REF_WGS84, abs=1e-12)


def test_gcj02_shift_moves_township_layers_by_hundreds_of_metres(model):
    from pyproj import Geod

    true = model.display_coordinates("villages", "osm")
    shifted = model.display_coordinates("villages", "amap")
    _, _, dist = Geod(ellps="WGS84").inv(true[:, 0], true[:, 1], shifted[:, 0], shifted[:, 1])
    assert 100 < dist.min() and dist.max() < 700  # the documented 100–700 m


def test_tianditu_needs_a_key_and_is_added_with_one():
    with pytest.raises(UsageError, match="Tianditu key"):
        choose_basemaps(["tianditu_vector"], tianditu_key=None)
    keys = [b.key for b in choose_basemaps(None, tianditu_key="abc")]
    assert keys == ["osm", "satellite", "tianditu_vector", "tianditu_imagery", "amap"]
    with pytest.raises(UsageError, match="unknown basemap"):
        choose_basemaps(["google"], tianditu_key=None)
    assert [b.key for b in choose_basemaps(["amap", "osm"], tianditu_key=None)] == ["amap", "osm"]


# --------------------------------------------------------------------------- size


def test_representation_by_size():
    assert wm.point_representation(10) == "symbols"
    assert wm.point_representation(wm.SYMBOLS_MAX + 1) == "dots"
    assert wm.point_representation(wm.DOTS_MAX) == "dots"
    assert wm.point_representation(wm.DOTS_MAX + 1) == "dots+grid"
    assert wm.simplify_tolerance_m(1000) == wm.SIMPLIFY_BASE_M
    assert wm.simplify_tolerance_m(wm.VERTEX_BUDGET * 4) == pytest.approx(4 * wm.SIMPLIFY_BASE_M)
    assert wm.simplify_tolerance_m(10**12) == wm.MAX_SIMPLIFY_M


def test_a_very_large_point_layer_gets_a_density_grid_whose_counts_add_up(town, monkeypatch):
    monkeypatch.setattr(wm, "SYMBOLS_MAX", 100)
    monkeypatch.setattr(wm, "DOTS_MAX", 500)
    rng = np.random.default_rng(7)
    n = 2000
    lon = rng.uniform(117.49, 117.52, n)
    lat = rng.uniform(30.49, 30.50, n)
    status = rng.choice(["confirmed", "felled"], n)
    gdf = gpd.GeoDataFrame({"tree_id": [f"t{i}" for i in range(n)], "status": status},
                           geometry=gpd.points_from_xy(lon, lat), crs=4326)
    cats = [Category("confirmed", "confirmed", "已确认", "#d7191c"), Category("felled", "felled", "已伐", "#fd8d3c")]
    big = Overlay("many", "Many trees", "大量疫木", gdf, "point", category_field="status", categories=cats,
                  fields=["tree_id", "status"], id_field="tree_id")
    m = build_model(town, results={}, raster_providers={}, extra_overlays=[big])
    dots, grid = m.layer("many"), m.layer("many_grid")
    assert dots.representation == "dots+grid" and dots.min_zoom == wm.DOT_MIN_ZOOM
    assert grid.max_zoom == wm.DOT_MIN_ZOOM - 1
    g = grid.grid
    assert g.counts[:, -1].sum() == n
    # the same cells counted independently with numpy's histogram
    ni, nj = int(g.i.max()) + 1, int(g.j.max()) + 1
    hist, _, _ = np.histogram2d(lon, lat, bins=[ni, nj], range=[[g.lon0, g.lon0 + ni * g.dx],
                                                                [g.lat0, g.lat0 + nj * g.dy]])
    assert hist[g.i, g.j].tolist() == g.counts[:, -1].tolist()
    confirmed = np.histogram2d(lon[status == "confirmed"], lat[status == "confirmed"], bins=[ni, nj],
                               range=[[g.lon0, g.lon0 + ni * g.dx], [g.lat0, g.lat0 + nj * g.dy]])[0]
    assert confirmed[g.i, g.j].tolist() == g.counts[:, 1].tolist()


def test_polygons_are_simplified_to_display_scale_without_changing_their_area(town):
    from pyproj import Geod

    m = build_model(town, results={}, raster_providers={})
    plots = m.layer("forest_plots")
    assert plots.tolerance_m == wm.SIMPLIFY_BASE_M
    geod = Geod(ellps="WGS84")
    original = town.gdf("forest_plots").to_crs(4326)
    for a, b in zip(original.geometry, plots.gdf.geometry, strict=True):
        assert abs(geod.geometry_area_perimeter(a)[0] - geod.geometry_area_perimeter(b)[0]) < 1.0  # m²


# --------------------------------------------------------------------------- indicator


def test_indicator_choropleth_classes_villages_by_outstanding_trees(town):
    m = build_model(town, results={}, raster_providers={}, indicator_key="standing")
    ind = m.layer("indicator")
    # outstanding (suspected or confirmed): 甲村 T001, T002; 乙村 none; 丙村 T006
    values = dict(zip(ind.gdf["village"], ind.gdf["value"], strict=True))
    assert list(values.values()) == [2, 0, 1]
    assert [e.label for e in ind.legend] == ["0", "1", "2"]
    colours = [ind.category_colors[c - 1] for c in ind.category]
    assert len(set(colours)) == 3
    assert ind.z == min(lay.z for lay in m.layers)  # under every other layer …
    assert m.keys[0] == "indicator"  # … and first in the layer switcher and legend
    assert not m.layer("forest_plots").show  # plots would hide the choropleth


def test_unknown_indicator_lists_the_valid_ones(town):
    with pytest.raises(UsageError, match="standing"):
        build_model(town, results={}, raster_providers={}, indicator_key="nonsense")


# --------------------------------------------------------------------------- providers


def test_a_failing_provider_becomes_a_warning_and_the_map_is_still_made(town):
    def broken(_township):
        raise RuntimeError("disk on fire")

    def wrong(_result, _township):
        return ["not an overlay"]

    analyses = {"broken": MapAnalysis(broken, wrong),
                "wrong": MapAnalysis(lambda t: Result("r", pd.DataFrame()), wrong),
                "missing": MapAnalysis(lambda t: None, wrong)}
    results, warnings = map_results(town, analyses=analyses)
    m = build_model(town, results=results, warnings=warnings, analyses=analyses, raster_providers={})
    text = " | ".join(m.warnings)
    assert "broken" in text and "disk on fire" in text
    assert "wrong" in text and "missing" in text
    assert "infected_trees" in m.keys
    # without Results, the map runs the analyses itself, with the same warnings
    assert build_model(town, analyses=analyses, raster_providers={}).warnings == m.warnings


def test_a_provider_overlay_with_a_built_in_key_replaces_it(town):
    villages = town.gdf("villages")

    def provider(_result, township):
        return [Overlay("villages", "Villages (audited)", "行政村(审计)", villages.iloc[:1], "polygon",
                        color="#ff0000"),
                Overlay("highlighted", "Findings", "问题", villages.iloc[:1], "polygon", highlight=True)]

    analyses = {"p": MapAnalysis(lambda t: Result("p", pd.DataFrame()), provider)}
    m = build_model(town, analyses=analyses, raster_providers={})
    assert m.layer("villages").name == "Villages (audited)" and m.layer("villages").count == 1
    assert m.layer("villages").source == "provider"
    z = {lay.key: lay.z for lay in m.layers}
    assert z["highlighted"] > max(z[k] for k in ("villages", "forest_plots", "land_transfers"))


def test_raster_overlays_come_from_raster_providers(town):
    image = np.zeros((4, 4, 4), dtype=np.uint8)
    image[..., 1] = 200
    image[..., 3] = 255

    def draw(_township, name):
        return RasterOverlay(name, "NDVI", "植被指数", image, (117.49, 30.49, 117.52, 30.50),
                             legend=[Category(1, "high", "高", "#00c800")])

    town.config.rasters["ndvi"] = object()  # a township raster named ndvi
    try:
        m = build_model(town, results={}, raster_providers={"r": draw}, rasters=["ndvi"])
        assert m.layer("ndvi").geometry == "raster" and m.layer("ndvi").legend[0].label == "high"
        with pytest.raises(UsageError, match="no raster"):
            build_model(town, results={}, raster_providers={"r": draw}, rasters=["dem"])
        with pytest.raises(UsageError, match="no raster provider"):
            build_model(town, results={}, raster_providers={}, rasters=["ndvi"])
    finally:
        del town.config.rasters["ndvi"]


def test_raster_overlay_checks_its_image_and_bounds():
    with pytest.raises(UsageError, match="uint8"):
        RasterOverlay("r", "R", "R", np.zeros((2, 2, 3)), (0, 0, 1, 1))
    with pytest.raises(UsageError, match="bounds"):
        RasterOverlay("r", "R", "R", np.zeros((2, 2, 4), dtype=np.uint8), (1, 0, 0, 1))


def test_overlay_without_crs_is_reported_not_drawn(town):
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[box(0, 0, 1, 1)])
    m = build_model(town, results={}, raster_providers={},
                    extra_overlays=[Overlay("nocrs", "No CRS", "无坐标系", gdf, "polygon")])
    assert "nocrs" not in m.keys
    assert any("coordinate system" in w for w in m.warnings)


# --------------------------------------------------------------------------- readable popups and opening state


def _findings_overlay(town, **options) -> Overlay:
    villages = town.gdf("villages")
    gdf = gpd.GeoDataFrame(
        {"id": ["a", "b", "c"], "check": ["overlap", "illegal_not_closed", "no_such_check"],
         "checks": ["overlap, area_mismatch", "area_mismatch", "in_river_zone, brand_new_check"],
         "layer": ["sand_sites", "land_transfers", "infected_trees"], "use": ["photovoltaic", "grain", "tea"],
         "severity": ["error", "error", "error"]},
        geometry=villages.geometry.to_numpy(), crs=villages.crs)
    return Overlay("findings", "Findings", "问题", gdf, "polygon", fields=["id", "check", "checks", "layer", "use"],
                   id_field="id", category_field="severity",
                   categories=[Category("error", "error", "错误", "#d7191c"),
                               Category("warning", "warning", "警告", "#fdae61")], **options)


def _words(model, key, name):
    return next(f for f in model.layer(key).fields if f.name == name).words


def test_coded_values_and_lists_of_codes_are_shown_as_words(town):
    overlay = _findings_overlay(town, vocab={"use": "transfer_use"})
    en = build_model(town, results={}, raster_providers={}, extra_overlays=[overlay])
    zh = build_model(town, lang="zh", results={}, raster_providers={}, extra_overlays=[overlay])
    assert _words(en, "findings", "check")["overlap"] == "counted twice (overlap)"
    assert _words(en, "findings", "check")["illegal_not_closed"] == "illegal site not closed"
    assert _words(zh, "findings", "check")["illegal_not_closed"] == "非法采砂点未关停"
    # a list of codes, item by item (English labels may hold commas, so items are joined with "; ")
    assert _words(en, "findings", "checks")["overlap, area_mismatch"] == \
        "counted twice (overlap); declared area ≠ measured"
    assert _words(zh, "findings", "checks")["overlap, area_mismatch"] == "重复流转(地块重叠)、登记面积与实测不符"
    # an item the vocabulary does not know stays as written
    assert _words(en, "findings", "checks")["in_river_zone, brand_new_check"] == \
        "in a river management zone; brand_new_check"
    assert _words(zh, "findings", "layer")["sand_sites"] == "采砂点"
    assert _words(en, "findings", "layer")["land_transfers"] == "Land transfers"
    assert _words(zh, "findings", "use")["photovoltaic"] == "光伏发电"


def test_coded_words_reach_the_page(town):
    """Decode the page's column dictionary: what the popup shows is the words."""
    import base64

    from geo_township.webmap.payload import layer_payload

    zh = build_model(town, lang="zh", results={}, raster_providers={}, extra_overlays=[_findings_overlay(town)])
    data = layer_payload(zh.layer("findings"))
    raw = base64.b64decode(data["data"]["b64"])
    shown = {}
    for head in data["columns"]:
        offset, length = data["data"]["streams"][head["dict"]] if head["type"] == "cat" else (0, 0)
        shown[head["name"]] = raw[offset:offset + length].decode("utf-8").split("\x00")
    assert shown["check"] == ["重复流转(地块重叠)", "非法采砂点未关停", "no_such_check"]
    assert shown["checks"] == ["重复流转(地块重叠)、登记面积与实测不符", "登记面积与实测不符",
                               "位于河道管理范围内、brand_new_check"]
    assert shown["layer"] == ["采砂点", "土地流转", "松材线虫病疫木"]


def test_an_overlay_can_name_another_vocabulary_for_a_generic_field(town):
    overlay = _findings_overlay(town, vocab={"check": "audit_check"})
    en = build_model(town, results={}, raster_providers={}, extra_overlays=[overlay])
    words = _words(en, "findings", "check")
    assert words["overlap"] == "counted twice (overlap)" and "illegal_not_closed" not in words


def test_empty_legend_classes_are_not_listed(town):
    m = build_model(town, results={}, raster_providers={}, extra_overlays=[_findings_overlay(town)])
    layer = m.layer("findings")
    assert [(e.label, e.count) for e in layer.legend] == [("error", 3)]
    assert layer.category_labels == ["error", "warning"]  # what tooltips name each feature's class by


def test_only_core_layers_and_audit_findings_are_on_at_opening(town):
    villages = town.gdf("villages")
    extra = [Overlay("hotspots", "Hotspots", "热点", villages, "polygon"),
             Overlay("land_transfer_audit", "Audit findings", "审计问题", villages, "polygon"),
             Overlay("asked_for", "Must see", "必看", villages, "polygon", show=True),
             Overlay("land_transfers", "Land transfers (own)", "土地流转", villages, "polygon", show=False)]
    m = build_model(town, results={}, raster_providers={}, extra_overlays=extra)
    on = [lay.key for lay in m.layers if lay.show]
    assert on == ["villages", "forest_plots", "infected_trees", "rivers", "sand_sites", "land_transfer_audit",
                  "asked_for"]
    off = {lay.key for lay in m.layers if not lay.show}
    assert off == {"river_zones", "land_transfers", "basic_farmland", "outfalls", "patrols", "hotspots"}


def test_fields_are_labelled_as_their_layer_kind_names_them(town):
    en = build_model(town, results={}, raster_providers={})
    zh = build_model(town, lang="zh", results={}, raster_providers={})
    label = {(lay.key, f.name): f.label for lay in en.layers for f in lay.fields}
    label_zh = {(lay.key, f.name): f.label for lay in zh.layers for f in lay.fields}
    assert label["rivers", "chief"] == "River chief" and label_zh["rivers", "chief"] == "河长"
    assert label["sand_sites", "name"] == "Name" and label_zh["sand_sites", "name"] == "名称"
    assert label_zh["basic_farmland", "patch_id"] == "图斑编号"


def test_descriptions_in_the_pages_language(town):
    villages = town.gdf("villages")
    both = Overlay("both", "Both", "两者", villages, "polygon", description="in English", description_zh="中文说明")
    english = Overlay("english", "English only", "仅英文", villages, "polygon", description="only English")
    zh = build_model(town, lang="zh", results={}, raster_providers={}, extra_overlays=[both, english])
    en = build_model(town, results={}, raster_providers={}, extra_overlays=[both, english])
    assert zh.layer("both").description == "中文说明" and en.layer("both").description == "in English"
    assert zh.layer("english").description == "only English"


def test_a_field_with_a_chinese_column_is_swapped_on_a_chinese_map(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    from geo_township.overlay import Overlay
    from geo_township.webmap.model import layer_from_overlay

    gdf = gpd.GeoDataFrame({"details": ["overlaps P2 by 3.00 mu", None], "details_zh": ["与 P2 重叠 3.00 亩", None]},
                           geometry=[Point(117.5, 30.5), Point(117.51, 30.5)], crs=4326)
    overlay = Overlay("t", "T", "T", gdf, "point", fields=["details"])
    zh = layer_from_overlay(overlay, lang="zh", working_crs=4548, z=1)[0]
    en = layer_from_overlay(overlay, lang="en", working_crs=4548, z=1)[0]
    assert list(zh.gdf["details"])[0] == "与 P2 重叠 3.00 亩"
    assert list(en.gdf["details"])[0] == "overlaps P2 by 3.00 mu"


def test_river_zones_on_the_map_are_the_rivers_commands_zones(town, model):
    """One rule: the map draws each reach's zone as the rivers command and the audit compute
    it, checked against the hand formula for a straight reach of length L and half-width w
    with round ends: area 2wL + πw² (R1 has zone_m 30, R2 the township's default)."""
    zones = model.layer("river_zones").gdf.to_crs(4547).set_index("reach")
    lines = town.gdf("rivers").to_crs(4547).set_index("reach_id")
    assert sorted(zones.index) == ["R1", "R2"]
    widths = {"R1": 30.0, "R2": float(town.config.parameters["zone_m"])}
    for reach, w in widths.items():
        length = lines.geometry[reach].length
        assert zones.geometry[reach].area == pytest.approx(2 * w * length + np.pi * w * w, rel=2e-3)
