"""`geo-township init DIR` on a folder of one's own GIS files: the proposed township.toml
loads as it is, maps the sample's files as the sample's own township.toml does, marks
what it could not decide, and never overwrites a township.toml."""

from __future__ import annotations

import shutil
import time
import tomllib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geo_township.cli import main
from geo_township.config import load_config
from geo_township.layers import load_township
from geo_township.propose import CHECK, propose_township, write_township_toml
from geo_township.propose.decide import candidates
from geo_township.propose.scan import Source


def own_files(sample_dir: Path, dest: Path) -> Path:
    """The sample's files without its township.toml, as an officer would have them."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in sample_dir.iterdir():
        if f.is_file() and f.name != "township.toml":
            shutil.copy2(f, dest / f.name)
    return dest


@pytest.fixture(scope="module")
def proposed(sample_dir, tmp_path_factory):
    """The sample's files after `geo-township init` (through the command line)."""
    from click.testing import CliRunner

    folder = own_files(sample_dir, tmp_path_factory.mktemp("own") / "青溪")
    result = CliRunner().invoke(main, ["init", str(folder)])
    assert result.exit_code == 0, result.output + result.stderr
    return folder, result.stdout


def test_the_proposal_loads_as_the_sample_does(proposed, sample_dir):
    folder, _ = proposed
    mine, theirs = load_township(folder), load_township(sample_dir)
    for kind in ("villages", "forest_plots", "infected_trees", "rivers"):
        a, b = mine.layer(kind), theirs.layer(kind)
        assert len(a.gdf) == len(b.gdf), kind
        assert a.field_map == b.field_map, kind
        assert list(a.gdf.columns) == list(b.gdf.columns), kind
    assert mine.layer("forest_plots").field_map["plot_id"] == "小班编码"
    assert mine.layer("infected_trees").field_map["plot_id"] == "小班编码"
    # every other layer of the sample too, in the same working CRS
    assert set(mine.kinds) == set(theirs.kinds)
    for kind in theirs.kinds:
        assert len(mine.layer(kind).gdf) == len(theirs.layer(kind).gdf), kind
        assert mine.layer(kind).field_map == theirs.layer(kind).field_map, kind
    assert mine.working_crs == theirs.working_crs
    tifs = {p.stem for p in sample_dir.glob("*.tif")}
    assert tifs and set(mine.config.rasters) == tifs
    assert mine.config.rasters["landcover"].categorical and not mine.config.rasters["ndvi_2023"].categorical


def test_the_file_is_commented_in_chinese_and_english(proposed):
    folder, out = proposed
    text = (folder / "township.toml").read_text(encoding="utf-8")
    tomllib.loads(text)
    assert "乡镇名称" in text and "the township's name" in text
    assert "# 行政村 / Villages ← township.gpkg (villages)：10 个面，EPSG:4490 / 10 polygons, EPSG:4490" in text
    # the outfalls table has 6-digit eastings: the zone is taken from where the other layers lie, marked to check
    assert 'crs = "EPSG:4548"' in text and f"# {CHECK}: outfalls.xlsx" in text
    assert "fields not mapped (kept as they are): 规划期" in text  # sand zones' 规划期
    assert "Next:" in out and "geo-township info --township" in out and "geo-township check --township" in out
    assert "outfalls.xlsx" in out.split("To check")[1]


def test_proposing_reads_only_metadata_and_is_fast(sample_dir, tmp_path):
    import openpyxl  # noqa: F401 - imports are not the proposal's work
    import pyogrio  # noqa: F401

    import geo_township.raster  # noqa: F401

    folder = own_files(sample_dir, tmp_path / "t")
    started = time.perf_counter()
    proposal, _ = propose_township(folder)
    assert time.perf_counter() - started <= 2.0
    assert len(proposal.decisions) == 10


def test_an_existing_township_toml_is_never_overwritten(runner, tmp_path):
    target = tmp_path / "township.toml"
    target.write_text("# mine\n", encoding="utf-8")
    for lang, words in (("en", "already holds a township.toml; nothing was changed"), ("zh", "未做任何改动")):
        result = runner.invoke(main, ["init", str(tmp_path), "--lang", lang])
        assert result.exit_code == 2 and words in result.stderr
    assert target.read_text(encoding="utf-8") == "# mine\n"


def test_an_empty_folder_gets_a_template_that_loads(runner, tmp_path):
    folder = tmp_path / "new"
    result = runner.invoke(main, ["init", str(folder)])
    assert result.exit_code == 0 and "No GIS files found" in result.stdout
    config = load_config(folder)
    assert config.layers == {} and config.name == "new"
    text = (folder / "township.toml").read_text(encoding="utf-8")
    assert "# [layers.infected_trees]  # 松材线虫病疫木 / Pine-wilt trees (点 / points)" in text


def _trees(path: Path, n: int, *, encoding: str = "utf-8") -> None:
    pd.DataFrame({"编号": [f"T{i}" for i in range(n)], "经度": [117.5 + i / 1000 for i in range(n)],
                  "纬度": [30.5] * n, "状态": ["疑似"] * n}).to_csv(path, index=False, encoding=encoding)


def test_what_cannot_be_decided_is_marked(tmp_path, sample_dir):
    """Two tree tables (one GBK), a table without coordinates, a polygon file whose fields
    tell nothing, and two File Geodatabase folders."""
    shutil.copy2(sample_dir / "township.gpkg", tmp_path / "township.gpkg")
    _trees(tmp_path / "trees_2022.csv", 5)
    (tmp_path / "sub").mkdir()
    _trees(tmp_path / "sub" / "疫木.csv", 3, encoding="gbk")
    pd.DataFrame({"村名": ["上庄村"], "人口": [100]}).to_csv(tmp_path / "people.csv", index=False)
    villages = gpd.read_file(sample_dir / "township.gpkg", layer="villages")
    villages[["geometry"]].assign(OBJECTID=range(10)).to_file(tmp_path / "unknown.geojson")
    villages.to_file(tmp_path / "county.gdb", layer="行政村", driver="OpenFileGDB")
    (tmp_path / "broken.gdb").mkdir()

    proposal, path = write_township_toml(tmp_path)
    text = path.read_text(encoding="utf-8")
    chosen = {d.kind: d.source.rel for d in proposal.decisions}
    assert chosen == {"villages": "township.gpkg", "infected_trees": "trees_2022.csv",
                      "land_transfers": "township.gpkg", "basic_farmland": "township.gpkg"}
    checks_en = "\n".join(c.en for c in proposal.checks)
    assert "sub/疫木.csv could also be infected_trees; chosen: trees_2022.csv" in checks_en
    assert '# path = "sub/疫木.csv"' in text and '# encoding = "gbk"' in text
    assert f"# {CHECK}: 无法判断 unknown.geojson 属于哪类图层" in text
    assert "people.csv: 表格没有坐标列" in text
    assert f"# {CHECK}: county.gdb：文件地理数据库" in text and "#   图层 / layers: 行政村" in text
    assert f"# {CHECK}: broken.gdb：GDAL 无法打开" in text
    township = load_township(tmp_path)  # loads as written
    assert len(township.layer("infected_trees").gdf) == 5 and len(township.layer("villages").gdf) == 10


def test_kinds_are_scored_from_the_registry():
    def source(columns, family, name="layer"):
        return Source(Path(f"{name}.gpkg"), f"{name}.gpkg", None, family, columns, 1)

    assert candidates(source(["村名", "村代码"], "Polygon"))[0].kind == "villages"
    assert candidates(source(["图斑编号", "村名"], "Polygon"))[0].kind == "basic_farmland"
    # a required field missing rules a kind out: no tree id, no trees
    assert "infected_trees" not in {c.kind for c in candidates(source(["状态", "村名"], "Point"))}
    # the file's name counts: a line layer named 巡河轨迹 with a name field is patrols, not rivers
    assert candidates(source(["name"], "LineString", "巡河轨迹"))[0].kind == "patrols"
    assert candidates(source(["河流名称", "河段编号"], "LineString"))[0].kind == "rivers"
