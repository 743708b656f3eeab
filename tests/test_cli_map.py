"""`geo-township map`: writes maps/township.html, prints the key statistics, refuses bad
options with exit code 2 and a message."""

from __future__ import annotations

import pytest
from test_webmap_fixture import make_township

from geo_township.cli import COMMANDS, main


@pytest.fixture(scope="module")
def township_dir(tmp_path_factory):
    return make_township(tmp_path_factory.mktemp("climap") / "t")


def test_map_is_registered():
    assert COMMANDS["map"] == "map"


def test_map_with_no_options_writes_maps_township_html_and_prints_statistics(runner, township_dir, monkeypatch):
    monkeypatch.chdir(township_dir)
    result = runner.invoke(main, ["map"])
    assert result.exit_code == 0, result.output + result.stderr
    page = township_dir / "maps" / "township.html"
    assert page.exists() and page.stat().st_size > 10_000
    out = result.stdout
    assert "key statistics" in out and "Total" in out and "Forest (mu)" in out
    assert "Map written to maps/township.html" in out
    # the total row: 7 trees found, 3 outstanding (T001, T002, T006)
    total = next(line for line in out.splitlines() if "Total" in line)
    cells = [c.strip() for c in total.split("│") if c.strip()]
    assert cells[3] == "7" and cells[4] == "3"


def test_map_in_chinese_with_indicator_and_output(runner, township_dir, tmp_path):
    out = tmp_path / "地图.html"
    result = runner.invoke(main, ["map", "--township", str(township_dir), "--lang", "zh", "--indicator", "standing",
                                  "--scheme", "quantiles", "--classes", "3", "-o", str(out), "--basemap", "amap",
                                  "--basemap", "osm", "--no-summary"])
    assert result.exit_code == 0, result.stderr
    assert out.exists() and "地图已写入" in result.stdout and "合计" not in result.stdout
    page = out.read_text(encoding="utf-8")
    assert "未除治疫木" in page and "高德地图" in page and "OpenStreetMap" in page and "Satellite" not in page


def test_offline_map(runner, township_dir, tmp_path):
    pytest.importorskip("xstatic.pkg.leaflet")
    out = tmp_path / "offline.html"
    result = runner.invoke(main, ["map", "--township", str(township_dir), "--offline", "-o", str(out),
                                  "--no-summary"])
    assert result.exit_code == 0, result.stderr
    assert "<script src=" not in out.read_text(encoding="utf-8")


def _asset_urls(page: str) -> list[str]:
    """The src/href of every script and stylesheet tag of a page."""
    import re

    return re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', page)


def test_the_default_map_inlines_leaflet_and_cdn_links_it(runner, township_dir, tmp_path):
    default, cdn = tmp_path / "default.html", tmp_path / "cdn.html"
    for out, extra in ((default, []), (cdn, ["--cdn"])):
        result = runner.invoke(main, ["map", "--township", str(township_dir), "-o", str(out), "--no-summary", *extra])
        assert result.exit_code == 0, result.stderr
    page = default.read_text(encoding="utf-8")
    assert not [u for u in _asset_urls(page) if u.startswith(("http:", "https:", "//"))]
    assert "Leaflet 1.9.3" in page  # inlined
    assert '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "SimHei", sans-serif' in page
    linked = [u for u in _asset_urls(cdn.read_text(encoding="utf-8")) if u.startswith("https://")]
    assert sorted(linked) == sorted(u for u in linked if "leaflet" in u) and len(linked) == 2
    assert cdn.stat().st_size < default.stat().st_size - 100_000


@pytest.mark.parametrize(("args", "message"), [
    (["--indicator", "bogus"], "bogus"),
    (["--basemap", "tianditu_vector"], "Tianditu key"),
    (["--raster", "ndvi"], "no raster 'ndvi'"),
    (["-o", "no/such/folder/map.html"], "does not exist"),
    (["--classes", "9"], "9"),
])
def test_bad_options_exit_2_with_a_message(runner, township_dir, monkeypatch, args, message):
    monkeypatch.chdir(township_dir)
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    result = runner.invoke(main, ["map", "--no-summary", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_tianditu_key_from_the_environment(runner, township_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TIANDITU_KEY", "k3y")
    out = tmp_path / "t.html"
    result = runner.invoke(main, ["map", "--township", str(township_dir), "-o", str(out), "--no-summary"])
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "tk=k3y" in page and "Tianditu vector" in page and "Tianditu imagery" in page


def test_map_outside_a_township_says_how_to_fix_it(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["map"])
    assert result.exit_code == 2 and "township.toml" in result.stderr


def test_raster_with_opacity_on_the_sample(runner, sample_dir, tmp_path):
    from geo_township.cli import main

    out = tmp_path / "ndvi.html"
    result = runner.invoke(main, ["map", "--township", str(sample_dir), "--raster", "landcover",
                                  "--raster-opacity", "0.4", "--no-summary", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert '"opacity":0.4' in page.replace(" ", "")
    assert "data:image/png;base64," in page
    bad = runner.invoke(main, ["map", "--township", str(sample_dir), "--raster-opacity", "1.5"])
    assert bad.exit_code == 2 and "1.5" in bad.stderr


def test_names_are_checked_before_any_analysis_runs(runner, township_dir, tmp_path, monkeypatch):
    from geo_township.webmap import registry
    from geo_township.webmap.providers import MapAnalysis

    ran = []
    for name, analysis in list(registry.MAP_ANALYSES.items()):
        monkeypatch.setitem(registry.MAP_ANALYSES, name, MapAnalysis(
            lambda t, run=analysis.run, name=name: ran.append(name) or run(t), analysis.draw, analysis.needs,
            analysis.applies))
    for args, message in ((["--raster", "ndvi"], "no raster 'ndvi'"),
                          (["-o", str(tmp_path / "no" / "map.html")], "does not exist")):
        result = runner.invoke(main, ["map", "--township", str(township_dir), "--no-summary", *args])
        assert result.exit_code == 2 and message in result.stderr
    assert ran == []


def test_the_page_and_the_key_statistics_come_from_one_run_of_the_analyses(runner, township_dir, tmp_path,
                                                                          monkeypatch):
    import geo_township.trees
    from geo_township.webmap import registry

    calls = []
    real = registry.map_results
    monkeypatch.setattr(registry, "map_results", lambda *a, **k: calls.append(a) or real(*a, **k))

    def recount(_township):
        raise AssertionError("the trees were counted a second time")

    monkeypatch.setattr(geo_township.trees, "village_tree_counts", recount)
    result = runner.invoke(main, ["map", "--township", str(township_dir), "-o", str(tmp_path / "m.html"),
                                  "--indicator", "standing"])
    assert result.exit_code == 0, result.stderr
    assert len(calls) == 1
    total = next(line for line in result.stdout.splitlines() if "Total" in line)
    cells = [c.strip() for c in total.split("│") if c.strip()]
    assert cells[3] == "7" and cells[4] == "3"
