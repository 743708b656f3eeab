"""Fixtures of the browser tests: one headless Chromium (Debian's, driven by Playwright)
and map pages written with --offline from the hand-made township of the map tests.

When Chromium or Playwright is missing the tests are skipped with the reason, except
when GEO_TOWNSHIP_REQUIRE_BROWSER is set (as .ci/run does): then they fail.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the map tests' township fixture

from chromium import Browser, chromium_available
from test_webmap_fixture import make_township


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
    model = build_model(township, providers={}, raster_providers={}, **options)
    kwargs = {} if gzip_min is None else {"gzip_min": gzip_min}
    path.write_text(render_html(model, offline=True, **kwargs), encoding="utf-8")
    return path


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
