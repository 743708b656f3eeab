"""A layer read in chunks, for analyses that stream a layer too big for memory: GeoParquet
files and folders as Arrow batches (:mod:`geo_township.io.parquet`, with column and
bounding-box pruning), GeoPackage and FlatGeobuf as Arrow batches from GDAL
(:func:`pyogrio.open_arrow`, with column pruning), and every other format read whole by
:func:`geo_township.io.read.read_vector` and then handed out in slices (a CSV or a
shapefile is never big enough to need more, and the chunked analysis still runs the same).

Each chunk is a :class:`~geo_township.io.read.RawLayer` whose index continues the
previous chunk's, so row numbers in findings are those of the whole layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import shapely

from geo_township.io.parquet import ReadStats, is_geoparquet, iter_geoparquet, layer_columns, open_geoparquet
from geo_township.io.read import RawLayer, read_vector
from geo_township.kinds import Kind, match_fields

ARROW_SUFFIXES = {".gpkg", ".fgb"}
"""Formats read batch by batch through GDAL's Arrow interface."""


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
                 ) -> Iterator[RawLayer]:
    import pyogrio

    fields = list(pyogrio.read_info(path, layer=layer)["fields"])
    wanted = set(match_fields(fields, kind_, explicit).mapping.values())
    columns = [f for f in fields if f in wanted]
    start = 0
    with pyogrio.open_arrow(path, layer=layer, columns=columns, batch_size=chunk_rows, use_pyarrow=True) as (
            meta, reader):
        geometry = meta["geometry_name"] or "wkb_geometry"
        for batch in reader:
            if batch.num_rows == 0:
                continue
            table = pa.Table.from_batches([batch])
            geoms = shapely.from_wkb(table.column(geometry).to_numpy(zero_copy_only=False))
            frame = table.drop_columns([geometry]).to_pandas()
            gdf = gpd.GeoDataFrame(frame, geometry=geoms, crs=meta["crs"])
            gdf.index = np.arange(start, start + len(gdf))
            start += len(gdf)
            yield RawLayer(gdf, path, layer, encoding=meta.get("encoding"))


def raw_chunks(path: Path, kind_: Kind, *, layer: str | None = None, encoding: str | None = None,
               explicit: dict[str, str] | None = None, box: tuple[float, float, float, float] | None = None,
               chunk_rows: int = 1_000_000, stats: ReadStats | None = None) -> Iterator[RawLayer]:
    """The layer at ``path`` in chunks of about ``chunk_rows`` rows (``box``: for GeoParquet,
    only the rows that may lie in it, in the file's CRS)."""
    explicit = explicit or {}
    if is_geoparquet(path):
        source = open_geoparquet(path)
        for gdf in iter_geoparquet(source, layer_columns(source, kind_, explicit), box=box, batch_rows=chunk_rows,
                                   stats=stats):
            yield RawLayer(gdf, path)
        return
    if path.suffix.lower() in ARROW_SUFFIXES:
        yield from _gdal_chunks(path, kind_, layer, explicit, chunk_rows)
        return
    raw = read_vector(path, layer=layer, encoding=encoding, geometry=kind_.geometry[0])
    for i, first in enumerate(range(0, max(len(raw.gdf), 1), chunk_rows)):
        yield RawLayer(raw.gdf.iloc[first:first + chunk_rows], path, raw.layer, raw.encoding,
                       raw.notes if i == 0 else [], raw.dropped if i == 0 else None, raw.aliases)
