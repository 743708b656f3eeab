"""GeoParquet layers: a file and a hive-partitioned folder written by `convert` read as the
sample's CSV trees layer does (info, check, trees), CRS from the metadata, and the
pruning of columns, row groups and partitions checked by counting what was read."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from _stream_helpers import assert_same_result, point_trees_at

from geo_township.cli import main
from geo_township.inventory import describe_layers
from geo_township.io.parquet import ReadStats, open_geoparquet, read_geoparquet
from geo_township.kinds import KINDS
from geo_township.layers import load_township
from geo_township.trees import tree_counts


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> dict[str, Path]:
    """The sample, and two copies reading the trees from a GeoParquet file and a folder
    partitioned by year, both written by `geo-township convert`."""
    import shutil

    from click.testing import CliRunner

    root = tmp_path_factory.mktemp("parquet")
    csv = root / "csv"
    shutil.copytree(sample_dir, csv)
    runner = CliRunner()
    out = {"csv": csv}
    for name, extra in (("file", []), ("folder", ["--partition-by", "year", "--row-group-rows", "500"])):
        town = root / name
        shutil.copytree(sample_dir, town)
        target = town / ("trees.parquet" if name == "file" else "trees")
        r = runner.invoke(main, ["convert", "infected_trees", "-o", str(target), "--township", str(csv), *extra])
        assert r.exit_code == 0, r.output
        assert f'path = "{target.name}"' not in r.output  # written outside that township: an absolute path
        assert "[layers.infected_trees]" in r.output
        point_trees_at(town, target.name)
        out[name] = town
    return out


def test_folder_is_hive_partitioned_by_year(converted: dict[str, Path]) -> None:
    folder = converted["folder"] / "trees"
    parts = sorted(p.name for p in folder.iterdir())
    assert parts and all(p.startswith("year=") for p in parts)
    csv_trees = load_township(converted["csv"]).gdf("infected_trees")
    years = {f"year={y}" for y in csv_trees["found_date"].dt.year.dropna().astype(int)}
    assert set(parts) - {"year=unknown"} == years
    meta = pq.ParquetFile(next((folder / parts[0]).glob("*.parquet"))).metadata
    assert meta.row_group(0).num_rows <= 500


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_trees_numbers_equal_the_csv_layer(converted: dict[str, Path], kind: str) -> None:
    for options in ({}, {"by": "plot"}):
        assert_same_result(tree_counts(load_township(converted["csv"]), **options),
                           tree_counts(load_township(converted[kind]), **options), ordered=False)
    # with a deadline, the 动态清零 finding of the trees outside every plot names the village
    # of the first such tree in the file, which depends on the rows' order: tables only
    a = tree_counts(load_township(converted["csv"]), season=2022)
    b = tree_counts(load_township(converted[kind]), season=2022)
    for name in ("summary", "infected_plots", "hotspots"):
        pd.testing.assert_frame_equal(a.all_tables()[name], b.all_tables()[name], check_dtype=False)


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_info_and_check_agree_with_the_csv_layer(converted: dict[str, Path], kind: str) -> None:
    from geo_township.checks import check_township

    a = describe_layers(load_township(converted["csv"])).table.set_index("layer")
    b = describe_layers(load_township(converted[kind])).table.set_index("layer")
    assert a.loc["infected_trees", "features"] == b.loc["infected_trees", "features"]
    assert a.loc["infected_trees", "extent"] == b.loc["infected_trees", "extent"]
    assert b.loc["infected_trees", "crs"].startswith("EPSG:")  # from the GeoParquet metadata, not inferred
    ca = check_township(load_township(converted["csv"]))
    cb = check_township(load_township(converted[kind]))
    # the same findings, but the CSV's note that its CRS was inferred (the GeoParquet names its CRS)
    assert [f for f in ca.findings if f.check != "crs_inferred"] == cb.findings


def test_crs_comes_from_the_metadata(converted: dict[str, Path]) -> None:
    working = load_township(converted["csv"]).working_crs
    assert open_geoparquet(converted["file"] / "trees.parquet").crs.equals(working)


def test_bbox_prunes_row_groups_and_rows(converted: dict[str, Path]) -> None:
    path = converted["folder"] / "trees"
    whole = read_geoparquet(path, KINDS["infected_trees"]).gdf
    x0, y0, x1, y1 = whole.total_bounds
    box = (x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)
    stats = ReadStats()
    part = read_geoparquet(path, KINDS["infected_trees"], box=box, stats=stats).gdf
    # independent truth: the points of the whole layer inside the box
    b = shapely.bounds(whole.geometry.to_numpy())
    inside = (b[:, 0] <= box[2]) & (b[:, 2] >= box[0]) & (b[:, 1] <= box[3]) & (b[:, 3] >= box[1])
    assert len(part) == int(inside.sum()) > 0
    assert stats.row_groups_skipped > stats.row_groups_read > 0  # sorted along a curve: most groups lie elsewhere
    assert stats.rows_read < len(whole) / 2


def test_a_partition_outside_the_township_is_not_read(converted: dict[str, Path], tmp_path: Path) -> None:
    """A province's folder holding another township's trees: the township reads its own,
    and the other partition's file is skipped by its statistics, unopened for rows."""
    town = converted["file"]
    trees = gpd.read_parquet(town / "trees.parquet")
    folder = tmp_path / "province"
    (folder / "county=here").mkdir(parents=True)
    (folder / "county=far").mkdir()
    trees.to_parquet(folder / "county=here" / "part-0.parquet", write_covering_bbox=True)
    far = trees.copy()
    far["geometry"] = shapely.transform(trees.geometry.to_numpy(), lambda xy: xy + np.array([300_000.0, 0.0]))
    far["tree_id"] = "far-" + far["tree_id"].astype(str)
    far.to_parquet(folder / "county=far" / "part-0.parquet", write_covering_bbox=True)
    township = load_township(town)
    township.config.layers["infected_trees"].path = folder
    box = township.prune_box("infected_trees")
    stats = ReadStats()
    raw = read_geoparquet(folder, KINDS["infected_trees"], box=box, stats=stats)
    assert [Path(f).parent.name for f in stats.files] == ["county=here"]
    assert stats.rows_read == len(trees) == len(raw.gdf)
    assert len(township.gdf("infected_trees")) == len(load_township(town).gdf("infected_trees"))


def test_only_mapped_columns_are_read(converted: dict[str, Path], tmp_path: Path) -> None:
    trees = gpd.read_parquet(converted["file"] / "trees.parquet")
    trees["notes_nobody_maps"] = "x" * 50
    path = tmp_path / "wide.parquet"
    trees.to_parquet(path)
    raw = read_geoparquet(path, KINDS["infected_trees"])
    assert "notes_nobody_maps" not in raw.gdf.columns
    assert {"tree_id", "status", "found_date", "source_row"} <= set(raw.gdf.columns)


def test_a_parquet_without_geometry_metadata_is_a_clear_error(tmp_path: Path, runner) -> None:
    import pandas as pd

    path = tmp_path / "plain.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(path)
    from geo_township.errors import LayerReadError

    with pytest.raises(LayerReadError, match="GeoParquet metadata"):
        open_geoparquet(path)
