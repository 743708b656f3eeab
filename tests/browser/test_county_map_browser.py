"""The page `geo-township map` writes for a county (two copies of the sample, one moved
0.5° north) in headless Chromium with every request but basemap tiles refused: both
townships' layers are in the layer switcher under their names, both borders are drawn
and labelled, the land claimed twice layer is absent (the copies lie apart), and the
page logs no error."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # chromium.py, beside this file
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # county_copies.py

from chromium import PAINTED, Browser, chromium_available
from county_copies import county

from geo_township.cli import main

NAMES = ("东岭乡", "西河乡")


@pytest.fixture(scope="module")
def county_page(tmp_path_factory) -> Path:
    """`geo-township map` of a county of two townships apart, in Chinese."""
    from click.testing import CliRunner

    root = county(tmp_path_factory.mktemp("county"))
    out = root / "county.html"
    result = CliRunner().invoke(main, ["map", "--township", str(root / "county.toml"), "-o", str(out),
                                       "--no-summary", "--lang", "zh"])
    assert result.exit_code == 0, result.output + result.stderr
    return out


def _visit(html: Path) -> dict:
    """Open the page in its own Chromium and return what it drew and logged."""
    browser = Browser()
    try:
        session = browser.open(html)
        page = session.page
        page.wait_for_timeout(300)
        seen: dict = {}
        seen["layers"] = page.evaluate("Object.keys(window.townshipMap.layers)")
        seen["n"] = page.evaluate("""() => { const out = {}, ls = window.townshipMap.layers;
            for (const k in ls) out[k] = ls[k].def.n; return out; }""")
        seen["on_map"] = page.evaluate("""() => { const m = window.townshipMap, out = [];
            for (const k in m.layers) if (m.map.hasLayer(m.layers[k].group)) out.push(k); return out; }""")
        labels = page.locator(".leaflet-control-layers-overlays label span span")
        seen["switcher"] = [t.strip() for t in labels.all_inner_texts()]
        seen["borders_in_view"] = page.evaluate("""() => { const m = window.townshipMap, b = m.map.getBounds();
            return ['t0.township_border', 't1.township_border'].map(k => {
                const st = m.layers[k]; return b.contains(m.featureLatLng(st, 0)); }); }""")
        seen["shapes_painted"] = page.evaluate(PAINTED, ".leaflet-overlay-pane canvas")
        seen["labels"] = page.locator(".gt-label").all_inner_texts()
        seen["problems"] = session.problems()
        page.close()
        return seen
    finally:
        browser.close()


@pytest.fixture(scope="module")
def drawn(county_page) -> dict:
    missing = chromium_available()
    if missing:
        if os.environ.get("GEO_TOWNSHIP_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests are required here but cannot run: {missing}")
        pytest.skip(missing)
    with ThreadPoolExecutor(max_workers=1) as pool:  # away from the other browser tests' Playwright session
        return pool.submit(_visit, county_page).result()


def test_the_county_page_draws_without_errors(drawn):
    assert drawn["problems"] == []
    assert drawn["shapes_painted"]


def test_both_townships_are_in_the_layer_switcher_under_their_names(drawn):
    for i, name in enumerate(NAMES):
        mine = [s for s in drawn["switcher"] if s.startswith(f"{name} · ")]
        assert f"{name} · 乡镇界" in mine and f"{name} · 松材线虫病疫木" in mine
        assert len(mine) == len([k for k in drawn["layers"] if k.startswith(f"t{i}.")])
    assert len(drawn["switcher"]) == len(drawn["layers"])
    assert "claims" not in drawn["layers"]  # the copies lie apart: no land claimed twice


def test_both_borders_are_drawn_and_labelled(drawn):
    assert drawn["n"]["t0.township_border"] == 1 and drawn["n"]["t1.township_border"] == 1
    assert {"t0.township_border", "t1.township_border", "t0.infected_trees", "t1.infected_trees"} <= set(
        drawn["on_map"])
    assert drawn["borders_in_view"] == [True, True]  # the page opens on the whole county
    assert set(NAMES) <= set(drawn["labels"])
