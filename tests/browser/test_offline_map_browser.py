"""The page `geo-township map` writes by default, of the bundled sample, opened in headless
Chromium with every request outside file:// refused: Leaflet is there, every layer is
drawn, and nothing but basemap tiles was asked of the network (they fail, as they would
without internet; the map still works)."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # chromium.py, beside this file

from chromium import PAINTED, TILE_HOSTS, Browser, chromium_available

from geo_township.cli import main

CJK_STACK = '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "SimHei", sans-serif'


@pytest.fixture(scope="module")
def default_page(tmp_path_factory, sample_dir) -> Path:
    """`geo-township map` of the sample with no asset option (the default)."""
    from click.testing import CliRunner

    out = tmp_path_factory.mktemp("offline") / "township.html"
    result = CliRunner().invoke(main, ["map", "--township", str(sample_dir), "-o", str(out), "--no-summary"])
    assert result.exit_code == 0, result.output + result.stderr
    return out


def _visit(html: Path) -> dict:
    """Open ``html`` in its own Chromium with every request outside file:// (and inline
    data:/blob: URLs) refused, and return what the page did and drew."""
    browser = Browser()
    try:
        page = browser.context.new_page()
        seen: dict = {"refused": [], "console": [], "errors": []}
        page.on("console", lambda m: seen["console"].append((m.type, m.text, (m.location or {}).get("url", ""))))
        page.on("pageerror", lambda e: seen["errors"].append(str(e)))

        def route(r) -> None:
            url = r.request.url
            if url.startswith(("file:", "data:", "blob:")):
                r.continue_()
            else:
                seen["refused"].append(url)
                r.abort()

        page.route("**/*", route)
        page.goto(html.resolve().as_uri())
        page.wait_for_selector("body[data-map-ready='1']", timeout=60_000, state="attached")
        page.wait_for_timeout(300)
        seen["leaflet"] = page.evaluate("typeof L === 'object' && L.version")
        seen["is_map"] = page.evaluate("window.townshipMap.map instanceof L.Map")
        seen["layers"] = page.evaluate("Object.keys(window.townshipMap.layers)")
        seen["point_canvases"] = page.locator(".leaflet-gt-points-pane canvas").count()
        seen["points_painted"] = page.evaluate(PAINTED, ".leaflet-gt-points-pane canvas")
        seen["shapes_painted"] = page.evaluate(PAINTED, ".leaflet-overlay-pane canvas")
        seen["legend"] = page.inner_text(".gt-legend-body")
        seen["font"] = page.evaluate("getComputedStyle(document.querySelector('.leaflet-container')).fontFamily")
        page.close()
        return seen
    finally:
        browser.close()


@pytest.fixture(scope="module")
def offline(default_page) -> dict:
    """What the default page did in Chromium. Chromium is driven from a thread of its own,
    so that it never meets the other browser tests' Playwright session in this thread."""
    missing = chromium_available()
    if missing:
        if os.environ.get("GEO_TOWNSHIP_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests are required here but cannot run: {missing}")
        pytest.skip(missing)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_visit, default_page).result()


def _foreign(seen: dict) -> list[str]:
    """Refused requests other than basemap tiles (scripts, styles, fonts … would be here)."""
    return [u for u in seen["refused"] if not any(host in u for host in TILE_HOSTS)]


def _console_errors(seen: dict) -> list[str]:
    """Console errors, except the failed loads of the refused basemap tiles."""
    tiles = set(seen["refused"]) - set(_foreign(seen))
    return [f"{text} ({url})" for kind, text, url in seen["console"]
            if kind == "error" and not (text.startswith("Failed to load resource") and url in tiles)]


def test_the_default_page_needs_no_network_but_for_tiles(offline):
    assert offline["refused"]  # the basemap tiles were asked for, and refused
    assert _foreign(offline) == []
    assert offline["errors"] == []
    assert _console_errors(offline) == []


def test_leaflet_is_inlined_and_the_map_drew_every_layer(offline, sample_dir):
    import tomllib

    assert offline["leaflet"] == "1.9.3" and offline["is_map"]
    kinds = tomllib.loads((sample_dir / "township.toml").read_text(encoding="utf-8"))["layers"]
    assert set(kinds) <= set(offline["layers"])
    # the trees (points) and the polygons and lines are drawn on canvases that hold pixels
    assert offline["point_canvases"] >= 1 and offline["points_painted"] and offline["shapes_painted"]
    assert "Pine-wilt trees" in offline["legend"]


def test_the_page_names_a_cjk_font_stack(offline):
    names = [name.strip().strip("'\"") for name in offline["font"].split(",")]
    assert names == [name.strip().strip('"') for name in CJK_STACK.split(",")]
