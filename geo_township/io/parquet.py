"""GeoParquet layers: one ``.parquet`` file or a partitioned folder of them (hive style,
``year=2023/part-0.parquet``), read with column and bounding-box pruning.

A province's survey may hold millions of trees a year in one GeoParquet dataset; a
township needs its own corner of it. Two things keep the read small:

* **Columns.** Only the columns that the layer kind maps (by township.toml's ``fields``
  or by the well-known names), ``source_row`` and the geometry are read; other columns of
  the file stay on disk (and so are not listed by ``info``).
* **Bounding box.** Given a box (the township's extent widened by ``max_outside_m``, in
  the file's CRS), only the row groups whose statistics may hold features in it are read:
  the GeoParquet 1.1 ``covering`` bbox column (``xmin``/``ymin``/``xmax``/``ymax``) has
  per-row-group statistics, so a row group or a partition file lying wholly outside the
  box is skipped without reading it, and rows outside the box are dropped. A file without
  a covering column is read whole, then its rows outside the box dropped.

The CRS comes from the GeoParquet ``geo`` metadata (a missing ``crs`` means OGC:CRS84, as
the specification says; an explicit null means unknown, and the layer's or township's
``crs`` applies). :func:`geoparquet_tables` yields the same rows in chunks of Arrow rows
(decoded by :func:`arrow_frame`), for analyses that stream a layer too big for memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import shapely
from pyproj import CRS

from geo_township.errors import LayerReadError
from geo_township.io.read import PARQUET_SUFFIXES, RawLayer
from geo_township.io.xy import wkb_point_xy
from geo_township.kinds import Kind, match_fields

Box = tuple[float, float, float, float]
KEEP_COLUMNS = ("source_row",)
"""Columns read with every layer when the file has them (the line of the original file)."""


@dataclass
class ReadStats:
    """What a read touched: row groups and rows read, and row groups skipped by their
    statistics. Pass one to see that pruning worked."""

    row_groups_read: int = 0
    row_groups_skipped: int = 0
    rows_read: int = 0
    files: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class ParquetSource:
    """An opened GeoParquet file or folder: its dataset, geometry column, CRS (None when
    the metadata says unknown) and covering bbox column (None when it has none)."""

    path: Path
    dataset: ds.Dataset
    geometry: str
    crs: CRS | None
    bbox_column: str | None

    @property
    def columns(self) -> list[str]:
        """The attribute columns (partition keys included), without geometry and bbox."""
        return [n for n in self.dataset.schema.names if n not in (self.geometry, self.bbox_column)]


def is_geoparquet(path: str | Path) -> bool:
    """A GeoParquet file (by suffix) or a folder holding ``.parquet`` files."""
    p = Path(path)
    if p.is_dir():
        return p.suffix.lower() != ".gdb" and any(p.rglob("*.parquet"))
    return p.suffix.lower() in PARQUET_SUFFIXES


def _geo_metadata(dataset: ds.Dataset, path: Path) -> dict[str, Any]:
    """The ``geo`` key of the first file's metadata."""
    metadata = dataset.schema.metadata or {}
    if b"geo" not in metadata:
        for fragment in dataset.get_fragments():
            metadata = fragment.physical_schema.metadata or {}
            break
    if b"geo" not in metadata:
        raise LayerReadError("a Parquet file without GeoParquet metadata (no geometry column is named)",
                             path=path, hint="write it with GeoPandas' to_parquet, GDAL >= 3.8 or "
                                             "`geo-township convert`")
    return dict(json.loads(metadata[b"geo"]))


def open_geoparquet(path: str | Path) -> ParquetSource:
    """Open a GeoParquet file or hive-partitioned folder (reads metadata only)."""
    p = Path(path)
    try:
        dataset = ds.dataset(str(p), format="parquet", partitioning="hive" if p.is_dir() else None,
                             exclude_invalid_files=p.is_dir())
    except (OSError, pa.ArrowInvalid) as exc:
        raise LayerReadError(f"cannot read the GeoParquet {'folder' if p.is_dir() else 'file'}: {exc}", path=p,
                             hint="write it again with GeoPandas' to_parquet, GDAL >= 3.8 or "
                                  "`geo-township convert`") from None
    geo = _geo_metadata(dataset, p)
    name = str(geo.get("primary_column", "geometry"))
    column = geo.get("columns", {}).get(name, {})
    if column.get("encoding", "WKB").upper() != "WKB":
        raise LayerReadError(f"geometry encoding {column.get('encoding')!r} is not supported", path=p,
                             hint="write the file with WKB geometry (GeoPandas' default)")
    crs: CRS | None
    if "crs" not in column:
        crs = CRS.from_user_input("OGC:CRS84")
    elif column["crs"] is None:
        crs = None
    else:
        crs = CRS.from_user_input(column["crs"] if isinstance(column["crs"], str) else json.dumps(column["crs"]))
    bbox = column.get("covering", {}).get("bbox")
    bbox_column = None
    if bbox and all(isinstance(bbox.get(k), list) and len(bbox[k]) == 2 for k in ("xmin", "ymin", "xmax", "ymax")):
        parents = {bbox[k][0] for k in ("xmin", "ymin", "xmax", "ymax")}
        if len(parents) == 1 and next(iter(parents)) in dataset.schema.names:
            bbox_column = next(iter(parents))
    return ParquetSource(p, dataset, name, crs, bbox_column)


def row_count(path: str | Path) -> int:
    """The number of rows of a GeoParquet file or folder, from its metadata."""
    return int(open_geoparquet(path).dataset.count_rows())


def layer_columns(source: ParquetSource, kind_: Kind, explicit: dict[str, str] | None = None) -> list[str]:
    """The attribute columns a layer of ``kind_`` needs (column pruning): those its fields
    map to, then ``source_row`` when present, in the file's order."""
    wanted = set(match_fields(source.columns, kind_, explicit).mapping.values()) | set(KEEP_COLUMNS)
    return [c for c in source.columns if c in wanted]


def _box_filter(source: ParquetSource, box: Box | None) -> ds.Expression | None:
    """A filter on the covering bbox column for features that may meet ``box``."""
    if box is None or source.bbox_column is None:
        return None
    c = source.bbox_column
    x0, y0, x1, y1 = box
    return ((ds.field(c, "xmin") <= x1) & (ds.field(c, "xmax") >= x0)
            & (ds.field(c, "ymin") <= y1) & (ds.field(c, "ymax") >= y0))


def _fragments(source: ParquetSource, flt: ds.Expression | None, stats: ReadStats | None
               ) -> Iterator[ds.Fragment]:
    """Row-group fragments that may hold rows passing ``flt`` (by their statistics)."""
    for fragment in source.dataset.get_fragments():
        every = fragment.split_by_row_group()
        kept = fragment.split_by_row_group(flt) if flt is not None else every
        if stats is not None:
            stats.row_groups_skipped += len(every) - len(kept)
            if kept:
                stats.files.add(str(fragment.path))
        yield from kept


def _in_box(bbox: pa.ChunkedArray, box: Box) -> pa.ChunkedArray:
    """Per row, whether its covering box (a struct of xmin, ymin, xmax, ymax) meets ``box``:
    the test of :func:`_box_filter`, on one batch."""
    x0, y0, x1, y1 = box
    def side(name: str) -> pa.ChunkedArray:
        return pc.struct_field(bbox, name)

    inside = pc.and_(pc.and_(pc.less_equal(side("xmin"), x1), pc.greater_equal(side("xmax"), x0)),
                     pc.and_(pc.less_equal(side("ymin"), y1), pc.greater_equal(side("ymax"), y0)))
    return pc.fill_null(inside, False)


def arrow_frame(table: pa.Table, geometry: str, crs: CRS | None, box: Box | None = None, *,
                points_as_xy: bool = False) -> tuple[gpd.GeoDataFrame, np.ndarray | None]:
    """Arrow rows → a GeoDataFrame (WKB decoded); with ``box``, rows whose geometry lies
    outside it are dropped (for a file with no covering column to filter by). The index is
    the row's position in ``table``. ``points_as_xy``: rows that are all single 2-D points
    come back as their coordinates (n × 2, :func:`geo_township.io.xy.wkb_point_xy`), their
    geometries missing; else the second value is None."""
    xy = wkb_point_xy(table.column(geometry)) if points_as_xy else None
    if xy is None:
        geoms = shapely.from_wkb(table.column(geometry).to_numpy(zero_copy_only=False))
        b = shapely.bounds(geoms) if box is not None and len(geoms) else None
    else:
        geoms = np.full(len(xy), None, dtype=object)
        b = np.column_stack([xy, xy]) if box is not None else None
    frame = table.drop_columns([geometry]).to_pandas()
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index, crs=crs), crs=crs)
    if b is not None and box is not None:
        keep = ~((b[:, 0] > box[2]) | (b[:, 2] < box[0]) | (b[:, 1] > box[3]) | (b[:, 3] < box[1]))
        keep |= np.isnan(b[:, 0])  # a row without geometry is kept, to be reported as such
        gdf = gdf[keep]
        xy = None if xy is None else xy[keep]
    return gdf, xy


def unfiltered_box(source: ParquetSource, box: Box | None) -> Box | None:
    """The box rows must still be tested against after reading: ``box`` when the file has no
    covering column (the reader could not filter by it), else None."""
    return box if source.bbox_column is None else None


def _fragment_batches(fragment: ds.ParquetFileFragment, file: pq.ParquetFile, source: ParquetSource,
                      wanted: list[str], box: Box | None, batch_rows: int) -> Iterator[pa.Table]:
    """One row-group fragment's rows whose covering box meets ``box``, ``wanted`` columns
    (partition keys included), about ``batch_rows`` at a time. Read with the file's own batch reader, which
    decodes a batch's pages, not the whole row group first as the dataset scanner does
    (a streamed layer's reader held 130 MiB instead of 290)."""
    keys = ds.get_partition_keys(fragment.partition_expression)
    schema = pa.schema([source.dataset.schema.field(c) for c in wanted])  # the types the dataset unifies to
    stored = set(file.schema_arrow.names)
    read = [c for c in wanted if c in stored]
    if box is not None and source.bbox_column not in read:
        read.append(source.bbox_column)  # type: ignore[arg-type]
    groups = [g.id for g in fragment.row_groups]
    for batch in file.iter_batches(batch_size=batch_rows, row_groups=groups, columns=read, use_threads=False):
        table = pa.Table.from_batches([batch])
        if box is not None:
            inside = _in_box(table.column(source.bbox_column), box)
            if (pc.sum(inside).as_py() or 0) < table.num_rows:  # else kept as read: no copy of every column
                table = table.filter(inside)
        for name in wanted:
            if name not in table.column_names:  # a partition key, or a column this file lacks (null)
                value = keys.get(name)
                table = table.append_column(name, pa.array([value] * table.num_rows).cast(schema.field(name).type))
        yield table.select(wanted).cast(schema)


def geoparquet_tables(source: ParquetSource, columns: Iterable[str], *, box: Box | None = None,
                      batch_rows: int = 1_000_000, stats: ReadStats | None = None) -> Iterator[pa.Table]:
    """The rows of ``source`` (``columns`` and the geometry) that may lie in ``box`` (by the
    covering column, when the file has one), as Arrow tables of about ``batch_rows`` rows,
    in file order, not yet decoded."""
    flt = _box_filter(source, box)
    wanted = [*columns, source.geometry]
    buffered: list[pa.Table] = []
    rows = 0
    opened: tuple[str, pq.ParquetFile] | None = None  # the file of the row groups being read, opened once
    for fragment in _fragments(source, flt, stats):
        if stats is not None:
            stats.row_groups_read += 1
        if opened is None or opened[0] != fragment.path:
            opened = (fragment.path, pq.ParquetFile(fragment.path, filesystem=fragment.filesystem))
        for table in _fragment_batches(fragment, opened[1], source, wanted, box if flt is not None else None,
                                       batch_rows):
            if table.num_rows == 0:
                continue
            if stats is not None:
                stats.rows_read += table.num_rows
            buffered.append(table)
            rows += table.num_rows
            if rows >= batch_rows:
                yield pa.concat_tables(buffered)
                buffered, rows = [], 0
    if buffered:
        yield pa.concat_tables(buffered)


def read_geoparquet(path: str | Path, kind_: Kind, *, explicit: dict[str, str] | None = None,
                    box: Box | None = None, stats: ReadStats | None = None, points_as_xy: bool = False) -> RawLayer:
    """A GeoParquet layer read whole (the columns ``kind_`` maps; the rows that may lie in
    ``box``, given in the file's CRS), as the other readers return it (``points_as_xy``: see
    :func:`geo_township.io.read.read_vector`)."""
    source = open_geoparquet(path)
    columns = layer_columns(source, kind_, explicit)
    exact = unfiltered_box(source, box)
    parts = [arrow_frame(t, source.geometry, source.crs, exact, points_as_xy=points_as_xy)
             for t in geoparquet_tables(source, columns, box=box, batch_rows=1 << 22, stats=stats)]
    if not parts:
        empty = gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=source.crs),
                                 crs=source.crs)
        return RawLayer(empty, Path(path))
    xy: np.ndarray | None = None
    if any(part_xy is None for _, part_xy in parts):  # not every batch single points: every row a geometry
        frames = [RawLayer(frame, Path(path), xy=part_xy).with_points().gdf for frame, part_xy in parts]
    else:
        frames, xy = [frame for frame, _ in parts], np.vstack([part_xy for _, part_xy in parts if part_xy is not None])
    gdf = frames[0] if len(frames) == 1 else gpd.GeoDataFrame(pd.concat(frames), geometry="geometry", crs=source.crs)
    return RawLayer(gdf.reset_index(drop=True), Path(path), xy=xy)


def box_in_file_crs(path: str | Path, box: Box, box_crs: CRS, margin_m: float, fallback: CRS | None) -> Box | None:
    """``box`` (in the planar ``box_crs``, metres) widened by ``margin_m`` and given in the
    CRS of the GeoParquet at ``path`` (``fallback`` when its metadata names none); None
    when neither is known, so nothing is pruned."""
    from pyproj import Transformer

    crs = open_geoparquet(path).crs or fallback
    if crs is None:
        return None
    x0, y0, x1, y1 = box[0] - margin_m, box[1] - margin_m, box[2] + margin_m, box[3] + margin_m
    if CRS(crs).equals(box_crs):
        return (x0, y0, x1, y1)
    out = Transformer.from_crs(box_crs, crs, always_xy=True).transform_bounds(x0, y0, x1, y1, densify_pts=21)
    return (float(out[0]), float(out[1]), float(out[2]), float(out[3]))
