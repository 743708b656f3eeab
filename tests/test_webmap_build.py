"""The written page: assets (CDN or inlined), no foreign scripts, escaped values, data
block, atomic writing."""

from __future__ import annotations

import json
import re

import pytest
from test_webmap_fixture import HOSTILE_IMG, HOSTILE_SCRIPT, HOSTILE_TEMPLATE, make_township

from geo_township.errors import UsageError
from geo_township.layers import load_township
from geo_township.webmap import DEFAULT_PATH, build_map, write_map
from geo_township.webmap.assets import CDN_CSS, CDN_JS
from geo_township.webmap.build import DATA_ID, render_html
from geo_township.webmap.model import build_model


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return load_township(make_township(tmp_path_factory.mktemp("build") / "t"))


@pytest.fixture(scope="module")
def model(town):
    return build_model(town, lang="zh", results={}, raster_providers={})


def _srcs(page: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', page)


def test_online_page_links_only_leaflet(model):
    page = render_html(model, offline=False)
    assert sorted(_srcs(page)) == sorted([CDN_JS, CDN_CSS])
    for unwanted in ("jquery", "bootstrap", "awesome", "font-awesome", "fontawesome"):
        assert unwanted not in page.lower()


def test_offline_page_inlines_everything(model):
    pytest.importorskip("xstatic.pkg.leaflet")  # the offline extra (installed by the test extra)
    page = render_html(model, offline=True)
    assert _srcs(page) == []
    assert "Leaflet 1.9.3" in page and "sourceMappingURL" not in page
    assert "images/layers.png" not in page  # the layer switcher's icon is a data URL
    # the only URLs left are tile templates and attribution links, never scripts or styles
    assert not re.search(r"\burl\((?!data:|#default)", page)


def test_hostile_values_never_reach_the_page_as_markup(model):
    page = render_html(model, offline=False)
    assert HOSTILE_IMG not in page
    assert HOSTILE_SCRIPT not in page
    assert page.lower().count("</script>") == page.lower().count("<script")  # no script closed early
    assert "<title>测试乡&lt;/script&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;</title>" in page


def test_template_syntax_in_values_is_not_evaluated(model):
    page = render_html(model, offline=False)
    assert "49jinja" not in page  # what Jinja would have made of it
    data = json.loads(re.search(rf'<script type="application/json" id="{DATA_ID}">(.*?)</script>', page,
                                re.DOTALL).group(1))
    transfers = next(lay for lay in data["layers"] if lay["key"] == "land_transfers")
    assert HOSTILE_TEMPLATE in [e["label"] for e in transfers["legend"]]  # in the JSON block, as written
    assert transfers["n"] == 3
    import base64

    raw = base64.b64decode(transfers["data"]["b64"])
    head = next(c for c in transfers["columns"] if c["name"] == "transferee")
    offset, length = transfers["data"]["streams"][head["dict"] if head["type"] == "cat" else head["data"]]
    stored = raw[offset:offset + length].decode("utf-8").split("\x00")
    assert HOSTILE_TEMPLATE in stored


def test_data_block_holds_every_layer(model):
    page = render_html(model, offline=False)
    match = re.search(rf'<script type="application/json" id="{DATA_ID}">(.*?)</script>', page, re.DOTALL)
    data = json.loads(match.group(1))
    assert [lay["key"] for lay in data["layers"]] == model.keys
    assert data["title"] == "测试乡" + HOSTILE_SCRIPT  # decoded JSON holds the text; the page shows it as text
    assert {b["key"]: b["gcj02"] for b in data["basemaps"]} == {"osm": False, "satellite": False, "amap": True}
    assert data["ui"]["legend"] == "图例"


def test_layer_switcher_names_are_escaped(town):
    from geo_township.overlay import Overlay

    villages = town.gdf("villages")
    hostile = Overlay("x", HOSTILE_IMG, HOSTILE_IMG, villages, "polygon")
    m = build_model(town, results={}, raster_providers={}, extra_overlays=[hostile])
    page = render_html(m, offline=False)
    # Leaflet writes switcher names as HTML, so the name is HTML-escaped (and then JSON-escaped by folium)
    assert '"\\u0026lt;img src=x onerror=alert(1)\\u0026gt;"' in page


def test_write_map_writes_atomically_to_maps_township_html(town, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    written = write_map(town)
    assert written.path == DEFAULT_PATH and (tmp_path / "maps" / "township.html").exists()
    assert written.bytes == (tmp_path / "maps" / "township.html").stat().st_size
    assert not [p for p in (tmp_path / "maps").iterdir() if p.name.startswith(".")]  # no temp file left
    with pytest.raises(UsageError, match="does not exist"):
        write_map(town, tmp_path / "missing" / "x.html")


def test_build_map_with_registered_providers_still_draws_the_built_in_layers(town):
    model, page = build_map(town)
    for key in ("villages", "forest_plots", "infected_trees", "rivers"):
        assert key in model.keys
    assert len(page) < 10_000_000


def test_building_the_map_never_calls_a_server(town, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError(f"the map tried to connect to {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    model, page = build_map(town, offline=True, tianditu_key="k")
    assert "infected_trees" in model.keys and len(page) > 100_000
