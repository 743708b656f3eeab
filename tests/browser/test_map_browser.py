"""The map page in a real browser (headless Chromium, network blocked, --offline page):
the map exists, every overlay is in the layer switcher, switching one changes what is
drawn, clicking a tree opens its popup, search, measuring, coordinates, GCJ-02 over AMap,
large layers, and hostile attribute values shown as text without running anything."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # chromium.py, beside this file
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the map tests' township fixture

from chromium import Browser, chromium_available
from test_webmap_fixture import (
    HOSTILE_IMG,
    HOSTILE_SCRIPT,
    HOSTILE_TEMPLATE,
    TREES,
    VILLAGES,
    make_township,
)

from geo_township.crs import wgs84_to_gcj02

# --------------------------------------------------------------------------- fixtures
# One headless Chromium (Debian's, driven by Playwright) and map pages written with --offline
# from the hand-made township of the map tests. When Chromium or Playwright is missing the
# tests are skipped with the reason, except when GEO_TOWNSHIP_REQUIRE_BROWSER is set (as
# .ci/run does): then they fail. (Kept here rather than in a conftest.py, whose module name
# would shadow tests/conftest.py for the other test modules.)


@pytest.fixture(scope="session")
def browser():
    missing = chromium_available()
    if missing:
        if os.environ.get("GEO_TOWNSHIP_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests are required here but cannot run: {missing}")
        pytest.skip(missing)
    b = Browser()
    yield b
    b.close()


@pytest.fixture(scope="session")
def township_dir(tmp_path_factory):
    return make_township(tmp_path_factory.mktemp("browser") / "t")


@pytest.fixture(scope="session")
def township(township_dir):
    from geo_township.layers import load_township

    return load_township(township_dir)


def write_page(township, path: Path, **options) -> Path:
    """Write an --offline page of ``township`` (registered providers off, for a stable page)."""
    from geo_township.webmap.build import render_html
    from geo_township.webmap.model import build_model

    gzip_min = options.pop("gzip_min", None)
    model = build_model(township, results={}, raster_providers={}, **options)
    kwargs = {} if gzip_min is None else {"gzip_min": gzip_min}
    path.write_text(render_html(model, offline=True, **kwargs), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def page_providers(tmp_path_factory):
    """The page `geo-township map --offline` writes, with every registered overlay provider
    (audit, hotspots, rivers, sand …), of the test township with a cluster of new trees
    (a hotspot) and a parcel counted twice whose id is hostile markup."""
    from geo_township.layers import load_township
    from geo_township.webmap import write_map

    root = make_township(tmp_path_factory.mktemp("providers") / "t", extra_trees=40, double_counted=True)
    written = write_map(load_township(root), tmp_path_factory.mktemp("pages") / "providers.html", offline=True)
    assert written.warnings == []
    return written.path


@pytest.fixture
def providers_session(browser, page_providers):
    s = browser.open(page_providers)
    yield s
    problems = s.problems()
    s.page.close()
    assert not problems, problems


@pytest.fixture(scope="session")
def page_en(township, tmp_path_factory):
    return write_page(township, tmp_path_factory.mktemp("pages") / "en.html")


@pytest.fixture(scope="session")
def page_zh(township, tmp_path_factory):
    return write_page(township, tmp_path_factory.mktemp("pages") / "zh.html", lang="zh", indicator_key="standing")


@pytest.fixture
def session(browser, page_en):
    """The English page, opened fresh; fails the test on any console error, page error,
    dialog or non-tile request."""
    s = browser.open(page_en)
    yield s
    problems = s.problems()
    s.page.close()
    assert not problems, problems


BUILTIN_OVERLAYS = ["Villages", "Forest sub-compartments", "Pine-wilt trees", "Rivers", "River management zones",
                    "Sand-mining sites", "Land transfers", "Permanent basic farmland", "Sewage outfalls",
                    "Patrol tracks"]
PROVIDER_OVERLAYS = ["Land-transfer audit findings", "Land counted twice", "Pine-wilt hotspots",
                     "Inside river zones (areas)", "Inside river zones (points)", "Patrol coverage",
                     "Sand sites with problems"]

# wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915) = [116.41024449916938, 39.91640428150164]
REF_WGS84 = (116.404, 39.915)
REF_GCJ02 = (116.41024449916938, 39.91640428150164)

FIND = """([key, id]) => {
  const m = window.townshipMap, st = m.layers[key];
  for (let i = 0; i < st.def.n; i++) if (m.featureId(st, i) === id) return i;
  return -1;
}"""
SCREEN = """([key, i]) => {
  const m = window.townshipMap, st = m.layers[key];
  const p = m.map.latLngToContainerPoint(m.featureLatLng(st, i));
  const r = m.map.getContainer().getBoundingClientRect();
  return [p.x + r.left, p.y + r.top];
}"""


def _point(page, key, feature_id):
    index = page.evaluate(FIND, [key, feature_id])
    assert index >= 0, feature_id
    return index, page.evaluate(SCREEN, [key, index])


def _zoom_to(page, key, index, zoom=17):
    page.evaluate("""([key, i, z]) => { const m = window.townshipMap;
        m.map.setView(m.featureLatLng(m.layers[key], i), z, {animate: false}); }""", [key, index, zoom])
    page.wait_for_timeout(150)


def _click_feature(page, key, feature_id, zoom=17):
    page.evaluate("window.townshipMap.map.closePopup()")
    index, _ = _point(page, key, feature_id)
    _zoom_to(page, key, index, zoom)
    _, (x, y) = _point(page, key, feature_id)
    page.mouse.click(x, y)
    page.wait_for_selector(".leaflet-popup-content .gt-popup")
    return page.inner_text(".leaflet-popup-content .gt-popup-id")


def _switch(page, label_text):
    page.locator(".leaflet-control-layers label", has_text=label_text).first.locator("input").click()
    page.wait_for_timeout(100)


def test_the_leaflet_map_exists_with_the_title(session):
    page = session.page
    assert page.evaluate("window.townshipMap.map instanceof L.Map")
    assert page.locator(".leaflet-container").count() >= 2  # the map and its mini-map
    assert page.inner_text(".gt-title-name") == "Test Township"
    assert page.inner_text(".gt-title-date") == "data as of 2023-03-31"
    assert session.tiles > 0 and session.refused == []  # only tiles were asked for: everything else is inlined


def _switcher(page) -> tuple[list[str], list[str]]:
    """The overlay names in the layer switcher, and those ticked."""
    labels = page.locator(".leaflet-control-layers-overlays label")
    names, ticked = [], []
    for k in range(labels.count()):
        name = labels.nth(k).locator("span span").inner_text().strip()
        names.append(name)
        if labels.nth(k).locator("input").is_checked():
            ticked.append(name)
    return names, ticked


def test_every_overlay_is_listed_in_the_layer_switcher(session):
    names, ticked = _switcher(session.page)
    assert names == BUILTIN_OVERLAYS
    # the core layers are on at opening; zones, farmland, outfalls and patrols wait until ticked
    assert ticked == ["Villages", "Forest sub-compartments", "Pine-wilt trees", "Rivers", "Sand-mining sites",
                      "Land transfers"]
    sections = session.page.locator(".gt-legend-section .gt-legend-title").all_inner_texts()
    assert sections == ticked  # the legend explains what is drawn, nothing else
    bases = [n.strip() for n in session.page.locator(".leaflet-control-layers-base label span span").all_inner_texts()]
    assert bases == ["OpenStreetMap", "Satellite (Esri World Imagery)", "AMap (GCJ-02)"]


def test_switching_a_layer_off_changes_what_is_drawn(session):
    page = session.page
    points = ".leaflet-gt-points-pane canvas"
    before = page.locator(points).count()
    _switch(page, "Pine-wilt trees")
    assert page.locator(points).count() == before - 1
    assert "Pine-wilt trees" not in page.inner_text(".gt-legend-body")
    _switch(page, "Pine-wilt trees")
    assert page.locator(points).count() == before
    canvas = ".leaflet-overlay-pane canvas"
    drawn = page.evaluate(f"document.querySelector('{canvas}').toDataURL()")
    _switch(page, "Forest sub-compartments")
    assert page.evaluate(f"document.querySelector('{canvas}').toDataURL()") != drawn
    _switch(page, "Forest sub-compartments")
    assert page.evaluate(f"document.querySelector('{canvas}').toDataURL()") == drawn


def test_clicking_a_tree_opens_its_popup(session):
    page = session.page
    assert _click_feature(page, "infected_trees", "T004") == "T004"
    text = page.inner_text(".leaflet-popup-content")
    assert "cleared" in text and "2023-01-15" in text and "Pine-wilt trees" in text
    assert _click_feature(page, "infected_trees", "T001") == "T001"
    assert "confirmed" in page.inner_text(".leaflet-popup-content")


def test_clicking_a_plot_shows_its_area_in_mu(session):
    page = session.page
    page.evaluate("window.townshipMap.map.setView([30.4985, 117.495], 16, {animate: false})")
    page.wait_for_timeout(150)
    box = page.evaluate("""() => { const m = window.townshipMap.map;
        const p = m.latLngToContainerPoint([30.4918, 117.4975]), r = m.getContainer().getBoundingClientRect();
        return [p.x + r.left, p.y + r.top]; }""")
    page.mouse.click(*box)
    page.wait_for_selector(".leaflet-popup-content .gt-popup")
    assert page.inner_text(".leaflet-popup-content .gt-popup-id") == "P01"
    assert "Area (mu)" in page.inner_text(".leaflet-popup-content")


def test_hostile_values_are_shown_as_text_and_run_nothing(session):
    page = session.page
    assert _click_feature(page, "infected_trees", HOSTILE_SCRIPT) == HOSTILE_SCRIPT
    legend = page.inner_text(".gt-legend-body")
    assert HOSTILE_IMG in legend and HOSTILE_SCRIPT in legend  # species, river name and chief
    labels = page.locator(".gt-label").all_inner_texts()
    assert VILLAGES[2] in labels
    page.fill(".gt-search-input", "<img")
    page.wait_for_selector(".gt-search-hit")
    assert HOSTILE_IMG in page.inner_text(".gt-search-results")
    # hover the hostile village's label area to show a tooltip with the name
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    # the value sits only in the JSON data block (inert, its "<" escaped), never in a script that runs
    runnable = "[...document.scripts].filter(s => !s.type || s.type === 'text/javascript')"
    assert page.evaluate(f"{runnable}.filter(s => s.textContent.includes('__pwned')).length") == 0
    assert session.dialogs == []


def test_template_syntax_is_shown_as_written(session):
    page = session.page
    assert _click_feature(page, "land_transfers", "L2") == "L2"
    assert HOSTILE_TEMPLATE in page.inner_text(".leaflet-popup-content")
    assert HOSTILE_TEMPLATE in page.inner_text(".gt-legend-body")


def test_search_finds_a_plot_by_id_and_opens_it(session):
    page = session.page
    page.fill(".gt-search-input", "p03")
    page.wait_for_selector(".gt-search-hit")
    assert page.inner_text(".gt-search-hit .gt-search-text") == "P03"
    page.click(".gt-search-hit")
    page.wait_for_selector(".leaflet-popup-content .gt-popup")
    assert page.inner_text(".leaflet-popup-content .gt-popup-id") == "P03"
    page.fill(".gt-search-input", "乙村")
    page.wait_for_selector(".gt-search-hit")
    assert page.locator(".gt-search-hit .gt-search-text").first.inner_text() == "乙村"
    page.fill(".gt-search-input", "nothing-like-this")
    page.wait_for_selector(".gt-search-none")


def test_hovering_a_tree_shows_a_tooltip_and_coordinates(session):
    page = session.page
    index, _ = _point(page, "infected_trees", "T002")
    _zoom_to(page, "infected_trees", index)
    _, (x, y) = _point(page, "infected_trees", "T002")
    page.mouse.move(x, y)
    page.wait_for_selector(".gt-tip")
    assert "T002" in page.inner_text(".gt-tip")
    lon, lat = (float(v) for v in page.inner_text(".gt-coords").split(","))
    assert lon == pytest.approx(117.4960, abs=2e-5) and lat == pytest.approx(30.4960, abs=2e-5)


def test_measuring_a_village_gives_its_area(session, township):
    from pyproj import Geod

    page = session.page
    # a zoom animation still running from the opening would undo the setView when it ends;
    # zoom 16 keeps the four corners inside the map, clear of the legend and the layer switcher
    page.wait_for_function("!window.townshipMap.map._animatingZoom")
    page.evaluate("window.townshipMap.map.setView([30.495, 117.495], 16, {animate: false})")
    page.wait_for_timeout(200)
    page.click(".gt-measure-button")
    corners = [(30.49, 117.49), (30.49, 117.50), (30.50, 117.50), (30.50, 117.49)]
    for lat, lon in corners:
        x, y = page.evaluate("""([lat, lon]) => { const m = window.townshipMap.map;
            const p = m.latLngToContainerPoint([lat, lon]), r = m.getContainer().getBoundingClientRect();
            return [p.x + r.left, p.y + r.top]; }""", [lat, lon])
        on_map = page.evaluate("([x, y]) => !document.elementFromPoint(x, y).closest('.leaflet-control')", [x, y])
        assert on_map, f"corner {lat}, {lon} lies under a control at pixel {x}, {y}"
        page.mouse.click(x, y)
        page.wait_for_timeout(50)
    text = page.inner_text(".gt-measure-out")
    area_mu = float(text.split("Area: ")[1].split(" mu")[0].replace(",", ""))
    geod_m2 = abs(Geod(ellps="WGS84").polygon_area_perimeter([117.49, 117.50, 117.50, 117.49],
                                                             [30.49, 30.49, 30.50, 30.50])[0])
    # clicks land on whole pixels (about 2 m here), so compare to 1%
    assert area_mu == pytest.approx(geod_m2 / (10000 / 15), rel=0.01)
    assert "Distance" in text
    page.click(".gt-measure-button")
    assert not page.is_visible(".gt-measure-out")


def test_amap_shifts_every_layer_to_gcj02_and_back(session):
    page = session.page
    assert page.evaluate(f"TownshipMap.toGcj({REF_WGS84[0]}, {REF_WGS84[1]})") == pytest.approx(REF_GCJ02, abs=1e-9)
    index = page.evaluate(FIND, ["infected_trees", "T006"])
    lon, lat = next((t[1], t[2]) for t in TREES if t[0] == "T006")
    shown = ("([k, i]) => { const ll = window.townshipMap.featureLatLng(window.townshipMap.layers[k], i); "
             "return [ll.lng, ll.lat]; }")
    assert page.evaluate(shown, ["infected_trees", index]) == pytest.approx((lon, lat), abs=1e-9)
    assert not page.is_visible(".gt-gcj-note")
    _switch(page, "AMap (GCJ-02)")
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert page.evaluate(shown, ["infected_trees", index]) == pytest.approx((float(glon), float(glat)), abs=1e-9)
    assert page.is_visible(".gt-gcj-note")
    village = page.evaluate("() => { const f = window.townshipMap.layers.villages.features[0].getLatLngs()[0][0];"
                            " return [f.lng, f.lat]; }")
    assert village[0] != pytest.approx(117.49, abs=1e-4)  # polygons move too
    # the tree is drawn where it is now shown: clicking there opens it
    assert _click_feature(page, "infected_trees", "T006") == "T006"
    # coordinates read back as WGS84 over AMap
    _, (x, y) = _point(page, "infected_trees", "T006")
    page.mouse.move(x + 1, y + 1)
    page.mouse.move(x, y)
    page.wait_for_timeout(100)
    clon, clat = (float(v) for v in page.inner_text(".gt-coords").split(","))
    assert clon == pytest.approx(lon, abs=3e-5) and clat == pytest.approx(lat, abs=3e-5)
    _switch(page, "OpenStreetMap")
    assert page.evaluate(shown, ["infected_trees", index]) == pytest.approx((lon, lat), abs=1e-9)
    assert not page.is_visible(".gt-gcj-note")


def test_decoded_coordinates_match_the_data(session):
    xy = session.page.evaluate("Array.from(window.townshipMap.layers.infected_trees.xy)")
    ids = session.page.evaluate("""() => { const m = window.townshipMap, st = m.layers.infected_trees;
        return Array.from({length: st.def.n}, (_, i) => m.featureId(st, i)); }""")
    expected = {t[0]: (t[1], t[2]) for t in TREES}
    for k, tid in enumerate(ids):
        assert (xy[2 * k], xy[2 * k + 1]) == pytest.approx(expected[tid], abs=1e-6)


def test_chinese_page_with_indicator(browser, page_zh):
    s = browser.open(page_zh)
    page = s.page
    try:
        assert page.inner_text(".gt-title-name") == "测试乡" + HOSTILE_SCRIPT
        legend = page.inner_text(".gt-legend-body")
        assert "未除治疫木" in legend and "松材线虫病疫木" in legend and "未除治：已确认" in legend
        assert page.get_attribute(".gt-search-input", "placeholder") == "搜索村、小班或编号…"
        assert page.evaluate("window.__pwned") is None and s.dialogs == []
        assert _click_feature(page, "infected_trees", "T003") == "T003"
        assert "已伐" in page.inner_text(".leaflet-popup-content")
        assert "发现日期" in page.inner_text(".leaflet-popup-content")
        assert page.title() == "测试乡" + HOSTILE_SCRIPT
    finally:
        problems = s.problems()
        page.close()
    assert not problems, problems


def test_large_layer_is_a_grid_when_zoomed_out_and_dots_when_zoomed_in(browser, township_dir, tmp_path, monkeypatch):
    """A layer over DOTS_MAX (lowered here) with its buffer gzip-compressed."""
    from test_webmap_fixture import make_township

    from geo_township.layers import load_township
    from geo_township.webmap import model as wm

    monkeypatch.setattr(wm, "SYMBOLS_MAX", 100)
    monkeypatch.setattr(wm, "DOTS_MAX", 1000)
    town = load_township(make_township(tmp_path / "big", extra_trees=3000))
    path = write_page(town, tmp_path / "big.html", gzip_min=1)
    s = browser.open(path)
    page = s.page
    try:
        layer = page.evaluate("window.townshipMap.layers.infected_trees.def")
        assert layer["rep"] == "dots+grid" and layer["data"]["gzip"] is True and layer["n"] == 3007
        grid = page.evaluate("window.townshipMap.layers.infected_trees_grid.def")
        assert grid["geom"] == "grid"
        page.evaluate("window.townshipMap.map.setView([30.495, 117.495], 13, {animate: false})")
        page.wait_for_timeout(200)
        assert page.evaluate("window.townshipMap.layers.infected_trees.canvas.drawn") is None
        assert page.evaluate("window.townshipMap.layers.infected_trees_grid.canvas.drawn.idx.length") > 0
        assert _click_feature(page, "infected_trees", "X000100", zoom=18) == "X000100"
        assert page.evaluate("window.townshipMap.layers.infected_trees_grid.canvas.drawn") is None
    finally:
        problems = s.problems()
        page.close()
    assert not problems, problems


def test_tianditu_basemaps_load_their_annotation_with_the_key(browser, township, tmp_path):
    path = write_page(township, tmp_path / "tdt.html", tianditu_key="K3Y",
                      basemaps=["osm", "tianditu_imagery", "tianditu_vector"])
    s = browser.open(path)
    page = s.page
    try:
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        _switch(page, "Tianditu imagery")
        page.wait_for_timeout(500)
        layers = {u.split("LAYER=")[1].split("&")[0] for u in requested if "tianditu.gov.cn" in u}
        assert layers == {"img", "cia"}  # imagery and its annotation
        assert all("tk=K3Y" in u for u in requested if "tianditu.gov.cn" in u)
        assert not page.is_visible(".gt-gcj-note")  # Tianditu is true position: nothing is shifted
    finally:
        problems = s.problems()
        page.close()
    assert not problems, problems


# --------------------------------------------------------------------------- the page with every provider


def _tick(page, name: str, on: bool) -> None:
    """Tick (or untick) the overlay called exactly ``name`` in the layer switcher."""
    labels = page.locator(".leaflet-control-layers-overlays label")
    for k in range(labels.count()):
        if labels.nth(k).locator("span span").inner_text().strip() == name:
            box = labels.nth(k).locator("input")
            if box.is_checked() != on:
                box.click()
                page.wait_for_timeout(100)
            return
    raise AssertionError(f"no overlay {name!r} in the layer switcher")


def _click_at(page, lat: float, lon: float, zoom: int = 17) -> None:
    page.evaluate("window.townshipMap.map.closePopup()")
    page.evaluate("([lat, lon, z]) => window.townshipMap.map.setView([lat, lon], z, {animate: false})",
                  [lat, lon, zoom])
    page.wait_for_timeout(150)
    x, y = page.evaluate("""([lat, lon]) => { const m = window.townshipMap.map;
        const p = m.latLngToContainerPoint([lat, lon]), r = m.getContainer().getBoundingClientRect();
        return [p.x + r.left, p.y + r.top]; }""", [lat, lon])
    page.mouse.click(x, y)
    page.wait_for_selector(".leaflet-popup-content .gt-popup")


def _records(page) -> list[tuple[str, str]]:
    """(layer, id) of every record the open popup lists, in its order."""
    items = page.locator(".leaflet-popup-content .gt-popup-item")
    if items.count() == 0:  # a single record
        return [(page.inner_text(".leaflet-popup-content .gt-popup-layer"),
                 page.inner_text(".leaflet-popup-content .gt-popup-id"))]
    return [(items.nth(k).locator(".gt-popup-item-layer").inner_text(),
             items.nth(k).locator(".gt-popup-item-id").inner_text()) for k in range(items.count())]


def _shown(page) -> tuple[str, str]:
    """(layer, id) of the record the popup shows."""
    return (page.inner_text(".leaflet-popup-content .gt-popup .gt-popup-layer"),
            page.inner_text(".leaflet-popup-content .gt-popup .gt-popup-id"))


def test_add_on_layers_are_listed_and_only_the_core_ones_are_on_at_opening(providers_session):
    page = providers_session.page
    names, ticked = _switcher(page)
    assert names == BUILTIN_OVERLAYS + PROVIDER_OVERLAYS
    assert ticked == ["Villages", "Forest sub-compartments", "Pine-wilt trees", "Rivers", "Sand-mining sites",
                      "Land transfers", "Land-transfer audit findings"]
    assert page.locator(".gt-legend-section .gt-legend-title").all_inner_texts() == ticked
    # an empty class is not listed: every parcel of this township has an audit error, none a warning
    audit = page.inner_text(".gt-legend-section[data-layer='land_transfer_audit']")
    assert "audit error (4)" in audit and "warning" not in audit


def _painted(page, canvas: str) -> str:
    """The canvas's pixels once Leaflet's pending redraws (queued for the next frames) have run."""
    return page.evaluate("""(sel) => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(
        () => done(document.querySelector(sel).toDataURL()))))""", canvas)


def _painted_as(page, canvas: str, expected: str, tries: int = 20) -> bool:
    """Whether the canvas settles on exactly ``expected`` within a few frames."""
    for _ in range(tries):
        if _painted(page, canvas) == expected:
            return True
        page.wait_for_timeout(100)
    return False


def test_add_on_layers_switch_on_and_off(providers_session):
    page = providers_session.page
    canvas = ".leaflet-overlay-pane canvas"
    page.wait_for_function("!window.townshipMap.map._animatingZoom")  # the opening's zoom has ended
    drawn = _painted(page, canvas)
    for name in ("Pine-wilt hotspots", "Land counted twice", "Inside river zones (areas)", "Patrol coverage"):
        _tick(page, name, True)
        assert _painted(page, canvas) != drawn, name
        assert name in page.locator(".gt-legend-section .gt-legend-title").all_inner_texts()
        _tick(page, name, False)
        assert _painted_as(page, canvas, drawn), name
        assert name not in page.locator(".gt-legend-section .gt-legend-title").all_inner_texts()
    points = ".leaflet-gt-points-pane canvas"
    before = page.locator(points).count()
    for name in ("Inside river zones (points)", "Sand sites with problems"):
        _tick(page, name, True)
    assert page.locator(points).count() == before + 2
    _tick(page, "Land-transfer audit findings", False)
    assert _painted(page, canvas) != drawn


def test_a_popup_lists_every_feature_under_the_click_base_layer_first(providers_session):
    page = providers_session.page
    _tick(page, "Inside river zones (points)", True)
    _tick(page, "Sand sites with problems", True)
    # sand site S1 (illegal, 25 m from river R1, so inside its 30 m zone), in plot P01 and village 甲村
    assert _click_feature(page, "sand_sites", "S1") == "S1"
    records = _records(page)
    assert records[0] == ("Sand-mining sites", "S1")
    assert set(records[1:3]) == {("Inside river zones (points)", "S1"), ("Sand sites with problems", "S1")}
    assert records[3:] == [("Forest sub-compartments", "P01"), ("Villages", "甲村")]
    text = page.inner_text(".leaflet-popup-content .gt-popup")
    assert "Status\tillegal" in text  # the site's own record: its status
    # paging through: the in-zone record names the layer in words, not its code
    page.click(".leaflet-popup-content .gt-popup-next")
    page.click(".leaflet-popup-content .gt-popup-next")
    page.click(".leaflet-popup-content .gt-popup-prev")
    assert _shown(page) == records[1]
    assert page.inner_text(".leaflet-popup-content .gt-popup-count") == "2 / 5"
    page.locator(".leaflet-popup-content .gt-popup-item").nth(
        records.index(("Inside river zones (points)", "S1"))).click()
    text = page.inner_text(".leaflet-popup-content .gt-popup")
    assert "Sand-mining sites" in text and "sand_sites" not in text
    page.locator(".leaflet-popup-content .gt-popup-item").nth(records.index(("Sand sites with problems", "S1"))).click()
    assert "illegal site not closed" in page.inner_text(".leaflet-popup-content .gt-popup")
    # a parcel: its own record, then its audit finding (checks as words), then the plot and village it lies in
    _click_at(page, 30.4925, 117.50275)
    assert _records(page) == [("Land transfers", "L2"), ("Land-transfer audit findings", "L2"),
                              ("Forest sub-compartments", "P03"), ("Villages", "乙村")]
    assert "Use\tphotovoltaic" in page.inner_text(".leaflet-popup-content .gt-popup")
    page.click(".leaflet-popup-content .gt-popup-next")
    text = page.inner_text(".leaflet-popup-content .gt-popup")
    assert _shown(page) == ("Land-transfer audit findings", "L2")
    assert "declared area ≠ measured" in text and "area_mismatch" not in text


def test_add_on_layers_open_popups_escape_values_and_shift_over_amap(providers_session):
    page = providers_session.page
    _tick(page, "Pine-wilt hotspots", True)
    _tick(page, "Land counted twice", True)
    _tick(page, "Sand sites with problems", True)
    # the hostile parcel (id <img …>), counted twice with L1
    _click_at(page, 30.4933, 117.4940)
    assert _records(page)[:2] == [("Land transfers", HOSTILE_IMG), ("Land-transfer audit findings", HOSTILE_IMG)]
    _click_at(page, 30.4925, 117.4930)  # where L1 and the hostile parcel overlap
    records = _records(page)
    assert records[0][0] == "Land counted twice"
    assert {("Land transfers", "L1"), ("Land transfers", HOSTILE_IMG)} <= set(records)
    assert HOSTILE_IMG in page.inner_text(".leaflet-popup-content .gt-popup")  # parcel B, as text
    # the hotspot: halfway between its centre and its north edge (its trees lie on the centre line)
    lat, lon = page.evaluate("""() => { const b = window.townshipMap.layers.hotspots.features[0].getBounds();
        const c = b.getCenter(); return [(c.lat + b.getNorth()) / 2, c.lng]; }""")
    _click_at(page, lat, lon, zoom=16)
    assert _records(page)[0] == ("Pine-wilt hotspots", "1")
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    # over AMap the add-on layers move with the rest, by the GCJ-02 formula
    first_vertex = """(k) => { const st = window.townshipMap.layers[k]; let ll = st.features[0].getLatLngs();
        while (Array.isArray(ll[0])) ll = ll[0]; return [ll[0].lng, ll[0].lat, st.xy[0], st.xy[1]]; }"""
    point = """(k) => { const m = window.townshipMap, st = m.layers[k], ll = m.featureLatLng(st, 0);
        return [ll.lng, ll.lat, st.xy[0], st.xy[1]]; }"""
    _tick(page, "Inside river zones (points)", True)
    _switch(page, "AMap (GCJ-02)")
    for key, script in (("hotspots", first_vertex), ("land_transfer_audit", first_vertex),
                        ("land_transfer_double_counted", first_vertex), ("sand_findings", point),
                        ("river_zone_points", point)):
        shown_lon, shown_lat, lon, lat = page.evaluate(script, key)
        glon, glat = wgs84_to_gcj02(lon, lat)
        assert (shown_lon, shown_lat) == pytest.approx((float(glon), float(glat)), abs=1e-9), key
    assert _click_feature(page, "sand_findings", "S1") == "S1"  # drawn, and clickable, where it is shown
    _switch(page, "OpenStreetMap")
    shown_lon, shown_lat, lon, lat = page.evaluate(point, "sand_findings")
    assert (shown_lon, shown_lat) == pytest.approx((lon, lat), abs=1e-12)


def test_search_opens_the_same_feature_number_in_another_layer(providers_session):
    """The hostile parcel is feature 4 of both the land transfers and the audit findings,
    at the same place: opening one hit and then the other must open the other's popup
    although the map does not move."""
    import re

    page = providers_session.page
    for layer in ("Land transfers", "Land-transfer audit findings", "Land transfers"):
        page.fill(".gt-search-input", "<img")
        page.wait_for_selector(".gt-search-hit")
        hit = page.locator(".gt-search-hit").filter(
            has=page.locator(".gt-search-layer", has_text=re.compile(f"^{re.escape(layer)}$")))
        hit.first.click()
        page.wait_for_function("""(layer) => { const e = document.querySelector(
            '.leaflet-popup-content .gt-popup .gt-popup-layer'); return e && e.textContent === layer; }""",
                               arg=layer, timeout=5000)
        assert _shown(page) == (layer, HOSTILE_IMG)


def test_search_results_sit_above_the_legend(providers_session):
    page = providers_session.page  # 1280 × 800
    for name in BUILTIN_OVERLAYS + PROVIDER_OVERLAYS:
        _tick(page, name, True)
    assert page.locator(".gt-legend").bounding_box()["height"] > 300  # the legend is as tall as it gets
    page.fill(".gt-search-input", "X0")
    page.wait_for_selector(".gt-search-hit")
    hits = page.locator(".gt-search-hit")
    assert hits.count() == 12
    last = hits.nth(11)
    wanted = last.locator(".gt-search-text").inner_text()
    last.click(timeout=5000)  # Playwright refuses to click a hit that the legend covers
    page.wait_for_selector(".leaflet-popup-content .gt-popup")
    assert _shown(page)[1] == wanted
