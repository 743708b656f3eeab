"""Shared fixtures: the CLI runner, the bundled sample, real third-party data, and a tiny
hand-made township whose answers can be worked out by hand."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point
from township_shapes import EAST, WEST

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "layers"
REALDATA = REPO.parent / "shared" / "realdata"


@pytest.fixture
def runner() -> CliRunner:
    """A Click runner (stdout and stderr kept apart, as Click ≥ 8.2 does)."""
    return CliRunner()


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The bundled sample township (read-only: copy it before changing anything)."""
    if not (SAMPLE / "township.toml").exists():
        pytest.fail("the bundled sample township is missing: run python -m geo_township.sample layers")
    return SAMPLE


@pytest.fixture
def sample_copy(tmp_path: Path, sample_dir: Path) -> Path:
    """A private copy of the sample township that a test may change."""
    dest = tmp_path / "sample"
    shutil.copytree(sample_dir, dest)
    return dest


@pytest.fixture
def realdata() -> Path:
    """../shared/realdata when present (CI has it); the test is skipped in a user's clone."""
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not present")
    return REALDATA




@pytest.fixture
def tiny_township(tmp_path: Path) -> Path:
    """Two villages (GeoPackage), two plots (GBK shapefile in GK zone 39, EPSG:4527, without .cpg) and
    three trees (CSV with Chinese headers, one outside every village)."""
    villages = gpd.GeoDataFrame({"村名": ["甲村", "乙村"], "村代码": ["341", "342"]}, geometry=[WEST, EAST], crs=4490)
    villages.to_file(tmp_path / "town.gpkg", layer="villages")
    plots = gpd.GeoDataFrame({"小班号": ["001", "002"], "村名": ["甲村", "乙村"], "优势树种": ["马尾松", "杉木"]},
                             geometry=[WEST, EAST], crs=4490).to_crs(4527)
    plots.to_file(tmp_path / "plots.shp", encoding="GBK")
    (tmp_path / "plots.cpg").unlink(missing_ok=True)
    trees = pd.DataFrame({"编号": ["T1", "T2", "T3"], "经度": [117.495, 117.505, 117.6], "纬度": [30.495, 30.495, 30.5],
                          "状态": ["已伐", "疑似", "已清理"], "发现日期": ["2021/10/3", "2022-01-05", "2021-11-01"]})
    trees.to_csv(tmp_path / "trees.csv", index=False, encoding="utf-8-sig")
    (tmp_path / "township.toml").write_text(
        '[township]\nname = "测试乡"\nname_en = "Test Township"\n\n'
        '[layers.villages]\npath = "town.gpkg"\nlayer = "villages"\n\n'
        '[layers.forest_plots]\npath = "plots.shp"\n\n'
        '[layers.infected_trees]\npath = "trees.csv"\n',
        encoding="utf-8",
    )
    return tmp_path


def point_lonlat(lon: float, lat: float) -> Point:
    return Point(lon, lat)


@pytest.fixture(autouse=True)
def _library_log_level_restored():
    """-v and -q set the library logger's level for the process; a test that passes them
    must not change what the next test's command prints."""
    import logging

    logger = logging.getLogger("geo_township")
    level = logger.level
    yield
    logger.setLevel(level)
