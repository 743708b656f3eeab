"""A layer read in chunks, for analyses that stream a layer too big for memory: GeoParquet
files and folders as Arrow batches (:mod:`geo_township.io.parquet`, with column and
bounding-box pruning), GeoPackage as Arrow batches from GDAL (:func:`pyogrio.open_arrow`,
with column pruning), and every other format read whole by
:func:`geo_township.io.read.read_vector` and then handed out in slices (a CSV or a
shapefile is never big enough to need more, and the chunked analysis still runs the same).

Reading and decoding are two steps: :func:`chunks` yields :class:`Chunk` s holding the rows
as Arrow (cheap to hand to another process: buffers, no Python objects), and
:meth:`Chunk.raw` decodes one into a :class:`~geo_township.io.read.RawLayer` — in whichever
process counts it. Each chunk's index continues the previous chunk's, so row numbers in
findings are those of the whole layer.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from geo_township.io.memory import release_freed_memory
from geo_township.io.parquet import (
    Box,
    ReadStats,
    arrow_frame,
    geoparquet_tables,
    is_geoparquet,
    layer_columns,
    open_geoparquet,
    unfiltered_box,
)
from geo_township.io.read import RawLayer, read_vector
from geo_township.kinds import Kind, match_fields

ARROW_SUFFIXES = {".gpkg"}
"""Formats read batch by batch through GDAL's Arrow interface."""


@dataclass(frozen=True)
class Chunk:
    """Rows ``start`` … of a layer, read but not decoded (``table``), or, for a format read
    whole, the decoded slice itself (``ready``)."""

    path: Path
    start: int
    table: pa.Table | None = None
    geometry: str = "geometry"
    crs: Any = None
    layer: str | None = None
    encoding: str | None = None
    box: Box | None = None  # rows outside it dropped on decoding (the reader could not filter by it)
    ready: RawLayer | None = None

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, tuple[Any, ...]]:
        """Pickled with its rows as an Arrow IPC stream, which holds only those rows (a pickled
        Arrow slice carries the whole buffer it was cut from: twice the bytes, or more); from
        protocol 5 on, the stream's buffer goes into the pickle itself (one copy, not two)."""
        if self.table is None:
            return Chunk, tuple(getattr(self, f.name) for f in fields(self))
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, self.table.schema) as writer:
            writer.write_table(self.table)
        rows = sink.getvalue()
        held = pickle.PickleBuffer(rows) if isinstance(protocol, int) and protocol >= 5 else rows.to_pybytes()
        return _from_ipc, (replace(self, table=None), held)

    def raw(self, *, points_as_xy: bool = False) -> RawLayer:
        """The chunk decoded, indexed by row number in the whole layer (``points_as_xy``: see
        :func:`geo_township.io.read.read_vector`)."""
        if self.ready is not None:
            return self.ready
        assert self.table is not None
        gdf, xy = arrow_frame(self.table, self.geometry, self.crs, self.box, points_as_xy=points_as_xy)
        gdf.index = self.start + np.asarray(gdf.index, dtype="int64")
        return RawLayer(gdf, self.path, self.layer, encoding=self.encoding, xy=xy)


def _from_ipc(chunk: Chunk, rows: bytes | pickle.PickleBuffer) -> Chunk:
    """A pickled :class:`Chunk` with its rows back."""
    return replace(chunk, table=pa.ipc.open_stream(rows).read_all())


def row_count(path: Path, layer: str | None = None) -> int | None:
    """The layer's number of rows from its metadata (no full read), or None when the
    format does not say cheaply."""
    if is_geoparquet(path):
        return int(open_geoparquet(path).dataset.count_rows())
    if path.suffix.lower() in ARROW_SUFFIXES:
        import pyogrio

        try:
            return int(pyogrio.read_info(path, layer=layer)["features"])
        except Exception:  # noqa: BLE001 - unreadable here: the ordinary read reports it
            return None
    return None


def _gdal_chunks(path: Path, kind_: Kind, layer: str | None, explicit: dict[str, str], chunk_rows: int
                 ) -> Iterator[Chunk]:
    import pyogrio

    names = list(pyogrio.read_info(path, layer=layer)["fields"])
    wanted = set(match_fields(names, kind_, explicit).mapping.values())
    columns = [f for f in names if f in wanted]
    start = 0
    with pyogrio.open_arrow(path, layer=layer, columns=columns, batch_size=chunk_rows, use_pyarrow=True) as (
            meta, reader):
        geometry = meta["geometry_name"] or "wkb_geometry"
        for batch in reader:
            if batch.num_rows == 0:
                continue
            yield Chunk(path, start, pa.Table.from_batches([batch]), geometry, meta["crs"], layer,
                        meta.get("encoding"))
            start += batch.num_rows
            release_freed_memory()


def chunks(path: Path, kind_: Kind, *, layer: str | None = None, encoding: str | None = None,
           explicit: dict[str, str] | None = None, box: Box | None = None, chunk_rows: int = 1_000_000,
           stats: ReadStats | None = None) -> Iterator[Chunk]:
    """The layer at ``path`` in chunks of about ``chunk_rows`` rows (``box``: for GeoParquet,
    only the rows that may lie in it, in the file's CRS)."""
    explicit = explicit or {}
    if is_geoparquet(path):
        source = open_geoparquet(path)
        start, exact = 0, unfiltered_box(source, box)
        for table in geoparquet_tables(source, layer_columns(source, kind_, explicit), box=box,
                                       batch_rows=chunk_rows, stats=stats):
            yield Chunk(path, start, table, source.geometry, source.crs, box=exact)
            start += table.num_rows
            release_freed_memory()
        return
    if path.suffix.lower() in ARROW_SUFFIXES:
        yield from _gdal_chunks(path, kind_, layer, explicit, chunk_rows)
        return
    raw = read_vector(path, layer=layer, encoding=encoding, geometry=kind_.geometry[0])
    for i, first in enumerate(range(0, max(len(raw.gdf), 1), chunk_rows)):
        yield Chunk(path, first, ready=RawLayer(raw.gdf.iloc[first:first + chunk_rows], path, raw.layer,
                                                raw.encoding, raw.notes if i == 0 else [],
                                                raw.dropped if i == 0 else None, raw.aliases))

