"""Trees counted in chunks give the Result of the whole layer in memory: every table,
every number, every finding and note — on the sample (CSV, GeoPackage and GeoParquet
copies of its trees, 1,000 rows a chunk) and on a synthetic county of 100,000 trees."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
import sys
from pathlib import Path

import pandas as pd
import pytest
from _stream_helpers import assert_same_result, point_trees_at
from geopandas.testing import assert_geodataframe_equal

from geo_township.cli import main
from geo_township.convert import convert_layer, layer_frame
from geo_township.io.chunks import chunks
from geo_township.kinds import KINDS
from geo_township.layers import load_township
from geo_township.tree_stream import should_stream, streamed_tree_counts
from geo_township.trees import tree_counts

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
OPTIONS = [{}, {"by": "plot"}, {"season": 2022}, {"start": dt.date(2022, 1, 1), "end": dt.date(2022, 12, 31)},
           {"by": "plot", "hotspots": False, "deadline": dt.date(2023, 3, 31)}]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
def test_sample_in_chunks_of_1000_is_the_whole(sample_dir: Path, options: dict, workers: int) -> None:
    """In this process and on two worker processes (chunks counted out of order, folded in order)."""
    whole = tree_counts(load_township(sample_dir), **options)
    chunked = streamed_tree_counts(load_township(sample_dir), chunk_rows=1000, workers=workers, **options)
    assert len(whole.findings) > 10  # the sample's trees outside plots, mismatches, targets: all compared
    assert_same_result(whole, chunked)


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet"])
def test_geopackage_and_geoparquet_batches(sample_copy: Path, suffix: str) -> None:
    township = load_township(sample_copy)
    name = "trees" + suffix
    if suffix == ".gpkg":
        layer_frame(township, "infected_trees").to_file(sample_copy / name, layer="trees", engine="pyogrio")
    else:
        convert_layer(township, "infected_trees", sample_copy / name, row_group_rows=700)
    point_trees_at(sample_copy, name)
    for options in ({}, {"by": "plot", "season": 2022}):
        assert_same_result(tree_counts(load_township(sample_copy), **options),
                           streamed_tree_counts(load_township(sample_copy), chunk_rows=1000, **options))


def test_a_chunk_handed_to_a_worker_carries_only_its_rows(sample_copy: Path) -> None:
    """A chunk cut from a bigger Arrow buffer (row groups of 700, chunks of 300) pickles to
    about its own size and decodes to the same rows, numbered as in the whole layer."""
    township = load_township(sample_copy)
    convert_layer(township, "infected_trees", sample_copy / "t.parquet", row_group_rows=700)
    parts = list(chunks(sample_copy / "t.parquet", KINDS["infected_trees"], chunk_rows=300))
    whole = pd.concat([c.raw().gdf for c in parts])
    assert list(whole.index) == list(range(len(layer_frame(township, "infected_trees"))))
    for chunk in parts:
        for protocol in (4, pickle.HIGHEST_PROTOCOL):  # 4: copy.deepcopy's, and no out-of-band buffers
            sent = pickle.dumps(chunk, protocol=protocol)
            assert len(sent) < 1.3 * chunk.table.nbytes + 10_000
            back = pickle.loads(sent)
            assert back.table.equals(chunk.table) and back.start == chunk.start
            assert_geodataframe_equal(back.raw().gdf, chunk.raw().gdf)
    assert copy.deepcopy(parts[0]).table.equals(parts[0].table)


def test_synthetic_county_in_chunks(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from county import make_county
    finally:
        sys.path.remove(str(BENCHMARKS))
    folder = tmp_path / "county"
    make_county(folder, trees=100_000, plots=2_000, villages=60, fmt="parquet", seed=7)
    for options in ({}, {"by": "plot"}):
        whole = tree_counts(load_township(folder), **options)
        assert len(whole.tables["hotspots"]) > 0
        assert_same_result(whole, streamed_tree_counts(load_township(folder), chunk_rows=7_000, **options))


def test_when_to_stream(sample_copy: Path) -> None:
    township = load_township(sample_copy)
    assert not should_stream(township)  # a CSV: no row count without reading it
    convert_layer(township, "infected_trees", sample_copy / "t.parquet")
    point_trees_at(sample_copy, "t.parquet")
    township = load_township(sample_copy)
    assert should_stream(township, stream_rows=1000)
    assert not should_stream(township)


def test_cli_chunk_rows_writes_the_same_tables(sample_copy: Path, runner, tmp_path: Path) -> None:
    outs = []
    for extra in ([], ["--chunk-rows", "2500"], ["--chunk-rows", "2500", "--workers", "1"]):
        out = tmp_path / f"t{len(outs)}.csv"
        r = runner.invoke(main, ["trees", "--by", "plot", "--township", str(sample_copy), "--format", "csv", "-o",
                                 str(out), *extra])
        assert r.exit_code in (0, 1), r.output
        outs.append(sorted(p.read_bytes() for p in tmp_path.glob(f"{out.stem}.*csv")))
    assert outs[0] == outs[1] == outs[2] and len(outs[0]) >= 3
