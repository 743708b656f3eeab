"""The page `geo-township map` writes by default, of the bundled sample, opened in headless
Chromium with every request outside file:// refused: Leaflet is there, every layer is
drawn, and nothing but basemap tiles was asked of the network (they fail, as they would
without internet; the map still works)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # chromium.py, beside this file

from chromium import TILE_HOSTS, Browser, chromium_available

from geo_township.cli import main

CJK_STACK = '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "SimHei", sans-serif'


@pytest.fixture(scope="module")
def browser():
    missing = chromium_available()
    if missing:
        if os.environ.get("GEO_TOWNSHIP_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests are required here but cannot run: {missing}")
        pytest.skip(missing)
    b = Browser()
    yield b
    b.close()


@pytest.fixture(scope="module")
def default_page(tmp_path_factory, sample_dir) -> Path:
    """`geo-township map` of the sample with no asset option (the default)."""
    from click.testing import CliRunner

    out = tmp_path_factory.mktemp("offline") / "township.html"
    result = CliRunner().invoke(main, ["map", "--township", str(sample_dir), "-o", str(out), "--no-summary"])
    assert result.exit_code == 0, result.output + result.stderr
    return out


class Offline:
    """A page opened with every request outside file:// (and inline data:/blob: URLs) refused."""

    def __init__(self, browser: Browser, html: Path) -> None:
        self.refused: list[str] = []
        self.console: list[tuple[str, str, str]] = []  # (type, text, url of the resource)
        self.errors: list[str] = []
        page = self.page = browser.context.new_page()
        page.on("console", lambda m: self.console.append((m.type, m.text, (m.location or {}).get("url", ""))))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r) -> None:
            url = r.request.url
            if url.startswith(("file:", "data:", "blob:")):
                r.continue_()
            else:
                self.refused.append(url)
                r.abort()

        page.route("**/*", route)
        page.goto(html.resolve().as_uri())
        page.wait_for_selector("body[data-map-ready='1']", timeout=60_000, state="attached")
        page.wait_for_timeout(300)

    def foreign_requests(self) -> list[str]:
        """Refused requests other than basemap tiles (scripts, styles, fonts … would be here)."""
        return [u for u in self.refused if not any(host in u for host in TILE_HOSTS)]

    def console_errors(self) -> list[str]:
        """Console errors, except the failed loads of the refused basemap tiles."""
        tiles = set(self.refused) - set(self.foreign_requests())
        return [f"{text} ({url})" for kind, text, url in self.console
                if kind == "error" and not (text.startswith("Failed to load resource") and url in tiles)]


@pytest.fixture(scope="module")
def offline(browser, default_page):
    session = Offline(browser, default_page)
    yield session
    session.page.close()


def test_the_default_page_needs_no_network_but_for_tiles(offline):
    assert offline.refused  # the basemap tiles were asked for, and refused
    assert offline.foreign_requests() == []
    assert offline.errors == []
    assert offline.console_errors() == []


def test_leaflet_is_inlined_and_the_map_drew_every_layer(offline, sample_dir):
    import tomllib

    page = offline.page
    assert page.evaluate("typeof L === 'object' && L.version") == "1.9.3"
    assert page.evaluate("window.townshipMap.map instanceof L.Map")
    kinds = tomllib.loads((sample_dir / "township.toml").read_text(encoding="utf-8"))["layers"]
    keys = page.evaluate("Object.keys(window.townshipMap.layers)")
    assert set(kinds) <= set(keys)
    # the trees (points) and the polygons/lines are drawn on canvases that hold pixels
    assert page.locator(".leaflet-gt-points-pane canvas").count() >= 1
    painted = """sel => [...document.querySelectorAll(sel)].some(c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i]) return true;
        return false; })"""
    assert page.evaluate(painted, ".leaflet-gt-points-pane canvas")
    assert page.evaluate(painted, ".leaflet-overlay-pane canvas")
    assert "Pine-wilt trees" in page.inner_text(".gt-legend-body")


def test_the_page_names_a_cjk_font_stack(offline):
    family = offline.page.evaluate("getComputedStyle(document.querySelector('.leaflet-container')).fontFamily")
    names = [name.strip().strip("'\"") for name in family.split(",")]
    assert names == [name.strip().strip('"') for name in CJK_STACK.split(",")]
