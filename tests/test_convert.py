"""`geo-township convert`: what it writes (our field names, the working CRS, a bbox
column, spatial order) and that a failed or stopped write leaves no half file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pyarrow.parquet as pq
import pytest

from geo_township.cli import main
from geo_township.convert import convert_layer
from geo_township.errors import UsageError
from geo_township.layers import load_township


def test_convert_writes_the_layer_as_the_township_reads_it(sample_copy: Path, runner) -> None:
    target = sample_copy / "trees.parquet"
    r = runner.invoke(main, ["convert", "infected_trees", "-o", str(target), "--township", str(sample_copy)])
    assert r.exit_code == 0, r.output
    assert '[layers.infected_trees]\npath = "trees.parquet"' in r.output
    township = load_township(sample_copy)
    layer = township.gdf("infected_trees")
    written = gpd.read_parquet(target)
    assert len(written) == len(layer)
    assert written.crs.equals(township.working_crs)
    assert {"tree_id", "status", "found_date", "plot_id", "source_row"} <= set(written.columns)
    geo = pq.read_schema(target).metadata[b"geo"].decode()
    assert '"covering"' in geo and "bbox" in pq.read_schema(target).names
    # the same trees, the same coordinates (no round trip through another CRS)
    a = layer.set_index("source_row").geometry.sort_index()
    b = written.set_index("source_row").geometry.sort_index()
    assert (a.x.to_numpy() == b.x.to_numpy()).all() and (a.y.to_numpy() == b.y.to_numpy()).all()


def test_rows_are_in_spatial_order(sample_copy: Path) -> None:
    target = sample_copy / "t.parquet"
    done = convert_layer(load_township(sample_copy), "infected_trees", target, row_group_rows=1000)
    groups = pq.ParquetFile(target)
    assert groups.num_row_groups == done.row_groups == -(-done.rows // 1000)
    # row groups of a curve-sorted layer cover small patches: far less than the layer's extent
    whole = gpd.read_parquet(target).total_bounds
    area = (whole[2] - whole[0]) * (whole[3] - whole[1])
    bbox = pq.read_table(target, columns=["bbox"]).column("bbox").combine_chunks()
    xmin, ymin, xmax, ymax = (bbox.field(k).to_numpy() for k in ("xmin", "ymin", "xmax", "ymax"))
    sizes = []
    for i in range(groups.num_row_groups):
        rows = slice(i * 1000, (i + 1) * 1000)
        sizes.append((xmax[rows].max() - xmin[rows].min()) * (ymax[rows].max() - ymin[rows].min()) / area)
    assert sum(sizes) / len(sizes) < 0.5


def test_bad_target_and_field_are_usage_errors(sample_copy: Path, runner) -> None:
    r = runner.invoke(main, ["convert", "infected_trees", "-o", str(sample_copy / "t.gpkg"), "--township",
                             str(sample_copy)])
    assert r.exit_code == 2 and ".parquet" in r.output + (r.stderr or "")
    with pytest.raises(UsageError, match="no field"):
        convert_layer(load_township(sample_copy), "infected_trees", sample_copy / "d", partition_by="nonesuch")


def test_a_failed_write_leaves_the_old_file(sample_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = sample_copy / "trees.parquet"
    target.write_bytes(b"the old layer")

    def broken(self, path, **kwargs):  # half a file, then the disk is full
        Path(path).write_bytes(b"PAR1 half")
        raise OSError("No space left on device")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_parquet", broken)
    with pytest.raises(OSError):
        convert_layer(load_township(sample_copy), "infected_trees", target)
    with pytest.raises(OSError):
        convert_layer(load_township(sample_copy), "infected_trees", sample_copy / "parts", partition_by="year")
    assert target.read_bytes() == b"the old layer"
    assert not (sample_copy / "parts").exists()
    assert not [p for p in sample_copy.iterdir() if p.name.startswith(".")]  # no temporary left


def test_a_killed_convert_leaves_no_half_file(sample_copy: Path, tmp_path: Path) -> None:
    """The process is killed while writing: the target is absent (or whole), never half."""
    script = tmp_path / "slow.py"
    script.write_text(
        "import sys, time\nimport geopandas as gpd\nfrom pathlib import Path\n"
        "orig = gpd.GeoDataFrame.to_parquet\n"
        "def slow(self, path, **kw):\n"
        "    orig(self, path, **kw)\n"
        "    Path(sys.argv[2]).write_text('written')\n"
        "    time.sleep(60)\n"
        "gpd.GeoDataFrame.to_parquet = slow\n"
        "from geo_township.layers import load_township\nfrom geo_township.convert import convert_layer\n"
        "convert_layer(load_township(sys.argv[1]), 'infected_trees', Path(sys.argv[1]) / 'trees.parquet')\n",
        encoding="utf-8")
    flag = tmp_path / "flag"
    proc = subprocess.Popen([sys.executable, str(script), str(sample_copy), str(flag)], env=os.environ.copy())
    try:
        for _ in range(600):
            if flag.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert flag.exists(), "the write never started"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (sample_copy / "trees.parquet").exists()


def test_the_layer_bookkeeping_stays_out_of_the_file(sample_copy: Path) -> None:
    # a loaded layer may carry its rows' numbers in the file as frame attrs (when rows are left
    # out); pandas would store them (18,588 numbers) in the GeoParquet metadata, which must hold
    # only the schema and CRS
    town = load_township(sample_copy)
    trees = town.gdf("infected_trees")
    trees.attrs["feature_numbers"] = list(range(len(trees)))
    target = sample_copy / "t.parquet"
    convert_layer(town, "infected_trees", target)
    metadata = pq.read_schema(target).metadata
    assert b"PANDAS_ATTRS" not in metadata and sum(map(len, metadata.values())) < 20_000
