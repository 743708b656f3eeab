"""A township's big layer written as GeoParquet: read once as every command reads it
(fields mapped to our names, values understood, CRS settled), then stored so that later
reads are fast and small (:mod:`geo_township.io.parquet`).

What is written:

* the layer's features as the township uses them, in the township's working CRS (so the
  coordinates are the very ones every command computes with, not a round trip through
  another CRS), with our canonical field names (so township.toml needs no ``fields``) and
  ``source_row`` when the original was a table (so findings still name its lines);
* sorted along a Hilbert curve over the layer's extent and cut into row groups of
  ``row_group_rows`` rows, with the GeoParquet 1.1 ``bbox`` covering column: each row
  group covers a compact patch of ground, so a reader asking for one township's box skips
  the row groups of the others by their statistics;
* with ``partition_by``, a folder of hive partitions (``year=2023/part-0.parquet``): by a
  field of the layer, or ``year`` — the year of the kind's first date field (found_date
  for trees); rows without one go to ``year=unknown``.

The write is atomic: a file is written beside the target and renamed over it; a folder is
written beside it and swapped in, so a stopped run leaves the old layer (or nothing), never
half a file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo_township.errors import UsageError
from geo_township.io.write import atomic_path, geoparquet_file
from geo_township.layers import Township

ROW_GROUP_ROWS = 50_000
"""Rows per row group: small enough that a township's corner of a county file is a few."""
YEAR = "year"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Converted:
    """What :func:`convert_layer` wrote: the file or folder, rows, row groups, partitions
    and the township.toml table that uses it."""

    path: Path
    kind: str
    rows: int
    row_groups: int
    partitions: list[str]
    toml: str


def layer_frame(township: Township, kind_name: str) -> gpd.GeoDataFrame:
    """The layer as the township uses it, with canonical field names (and ``source_row``)
    only, in the working CRS."""
    layer = township.layer(kind_name)
    gdf = layer.gdf
    keep = [c for c in layer.kind.field_names if c in gdf.columns]
    if "source_row" in gdf.columns:
        keep.append("source_row")
    out = gpd.GeoDataFrame(gdf[keep].copy(), geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    for c in keep:  # text stays text (object columns of mixed values confuse Arrow)
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: v if v is None or isinstance(v, str) else str(v), na_action="ignore")
    return out


def spatial_order(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` sorted along a Hilbert curve over its extent (empty geometries last)."""
    if len(gdf) == 0:
        return gdf
    empty = gdf.geometry.is_empty.to_numpy() | gdf.geometry.isna().to_numpy()
    key = pd.Series(-1, index=gdf.index, dtype="int64")
    if (~empty).any():
        valid = gdf.geometry[~empty]
        key[~empty] = valid.hilbert_distance(total_bounds=valid.total_bounds).to_numpy()
    key[empty] = key.max() + 1
    return gdf.iloc[key.argsort(kind="stable").to_numpy()]


def partition_values(gdf: gpd.GeoDataFrame, township: Township, kind_name: str, by: str) -> pd.Series:
    """The partition value of each row: the field ``by``, or for ``year`` the year of the
    kind's first date field."""
    if by in gdf.columns:
        return gdf[by].astype(object).where(gdf[by].notna(), UNKNOWN).astype(str)
    if by != YEAR:
        raise UsageError(f"the {kind_name} layer has no field {by!r} to partition by",
                         hint="use --partition-by year or one of: " + ", ".join(map(str, gdf.columns[:-1])))
    kind_ = township.layer(kind_name).kind
    dated = [f.name for f in kind_.fields if f.name.endswith("date") and f.name in gdf.columns]
    if not dated:
        raise UsageError(f"the {kind_name} layer has no date field to take a year from",
                         hint="partition by one of its fields instead (--partition-by FIELD)")
    dates = pd.to_datetime(gdf[dated[0]], errors="coerce")
    return dates.dt.year.astype("Int64").astype(object).where(dates.notna(), UNKNOWN).astype(str)


def _write_file(gdf: gpd.GeoDataFrame, path: Path, row_group_rows: int) -> int:
    """One GeoParquet file with the bbox covering column; its number of row groups."""
    geoparquet_file(gdf, path, write_covering_bbox=True, row_group_size=row_group_rows, index=False)
    return -(-len(gdf) // row_group_rows) if len(gdf) else 0


def _swap_in(tmp: Path, target: Path) -> None:
    """Put the finished folder ``tmp`` at ``target``, replacing what was there."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.replace(target, old / target.name)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def toml_table(township: Township, kind_name: str, path: Path) -> str:
    """The ``[layers.KIND]`` table that reads ``path`` (relative to township.toml when it
    is beside or below it)."""
    root = township.config.path.parent.resolve()
    try:
        shown = path.resolve().relative_to(root).as_posix()
    except ValueError:
        shown = path.resolve().as_posix()
    return f'[layers.{kind_name}]\npath = "{shown}"\n'


def convert_layer(township: Township, kind_name: str, target: str | Path, *, partition_by: str | None = None,
                  row_group_rows: int = ROW_GROUP_ROWS) -> Converted:
    """Write the township's ``kind_name`` layer as GeoParquet at ``target`` (a file, or a
    folder of hive partitions with ``partition_by``), atomically."""
    target = Path(target)
    if partition_by is None and target.suffix.lower() not in (".parquet", ".geoparquet"):
        raise UsageError(f"{target.name}: a GeoParquet file name ends in .parquet",
                         hint=f"write -o {target.with_suffix('.parquet').name}")
    if not target.parent.exists():
        raise UsageError(f"folder {target.parent} does not exist", hint="create it first or choose another -o path")
    if row_group_rows < 1:
        raise UsageError("row groups need at least one row", hint="give --row-group-rows 10000 or more")
    gdf = spatial_order(layer_frame(township, kind_name))
    if partition_by is None:
        with atomic_path(target) as tmp:
            groups = _write_file(gdf, tmp, row_group_rows)
        return Converted(target, kind_name, len(gdf), groups, [], toml_table(township, kind_name, target))
    values = partition_values(gdf, township, kind_name, partition_by)
    data = gdf.drop(columns=[partition_by]) if partition_by in gdf.columns else gdf
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        groups, names = 0, []
        for value in sorted(values.unique()):
            part = tmp / f"{partition_by}={value}"
            part.mkdir()
            groups += _write_file(data[(values == value).to_numpy()], part / "part-0.parquet", row_group_rows)
            names.append(part.name)
        _swap_in(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return Converted(target, kind_name, len(gdf), groups, names, toml_table(township, kind_name, target))
