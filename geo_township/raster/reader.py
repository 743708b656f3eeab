"""The block reader: coverage-weighted statistics of a raster for many polygons, reading
each part of the raster once.

Polygons are reprojected to the raster's CRS; the raster is never resampled (resampling
would change the very values being summarised). The raster is read in blocks (``block`` ×
``block`` pixels, 2048 by default): polygons are grouped by the block their box centre lies
in and each block is read once, together with the margin its polygons reach into; polygons
larger than half a block are streamed by exactextract in pieces of at most a block. Peak
memory is a few blocks, whatever the raster's size (see ``benchmarks/zonal_memory.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource
from pyproj import CRS

from geo_township.config import RasterSpec
from geo_township.errors import CRSError, UsageError
from geo_township.raster.exact import (
    STATS,
    DatasetSource,
    OpSpec,
    WkbSource,
    exact_values,
    operation_specs,
    operations,
    rename_percentiles,
    to_pixels,
)
from geo_township.raster.pixels import DEFAULT_BLOCK, ProgressFn, pixel_boxes
from geo_township.raster.source import RasterInfo, gdal_env, open_raster, raster_info, read_masked


def extract(geoms: gpd.GeoSeries, raster: RasterSpec, *, categorical: bool = False,
            stats: Sequence[str] = STATS, percentiles: Sequence[float] = (), band: int = 1,
            block: int = DEFAULT_BLOCK, progress: ProgressFn | None = None) -> tuple[pd.DataFrame, RasterInfo]:
    """Coverage-weighted statistics of ``raster`` for each geometry, block by block.

    ``geoms`` may be in any CRS (it is reprojected to the raster's). Returns one row per
    geometry, in order, with ``count`` (coverage-weighted valid pixels), ``mean``, ``min``,
    ``max``, ``sum`` (Σ value × coverage), ``std`` (population, coverage-weighted),
    ``median`` and ``p<N>`` when asked; for ``categorical``, ``count``, ``unique`` (class
    values) and ``frac`` (each class's share of the valid coverage). Also ``poly_area``
    (area in the raster CRS) and ``inside_frac`` (share of the polygon inside the raster's
    extent). Geometries missing the raster get count 0 and NaN statistics.
    """
    if geoms.crs is None:
        raise CRSError("polygons without a coordinate system cannot be laid over a raster",
                       hint="give the layer its CRS in township.toml")
    if block < 16:
        raise UsageError(f"a block of {block} pixels is too small", hint="use --block 256 or more")
    ops = operation_specs(stats, percentiles, categorical)
    with gdal_env():
        ds = open_raster(raster, band=band)
        try:
            info = raster_info(ds, raster, band=band)
            local = geoms.to_crs(info.crs).to_numpy() if not CRS(geoms.crs).equals(info.crs) else geoms.to_numpy()
            parts = _extract_parts(ds, info, local, ops, block, progress)
        finally:
            ds.close()
    return _tidy(parts, local, info, percentiles=percentiles, categorical=categorical), info


def _extract_parts(ds, info: RasterInfo, local: np.ndarray, ops: list[OpSpec], block: int,
                   progress: ProgressFn | None) -> list[pd.DataFrame]:
    """Statistics frames indexed by geometry position: small polygons with one read per
    block, in row-major order; large ones streamed by exactextract in pieces of at most
    ``block``² pixels. Geometries missing the raster are in none of them."""
    boxes = pixel_boxes(local, info)
    hits = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1]) & ~shapely.is_empty(local)
    rows = boxes[:, 2] - boxes[:, 0]
    cols = boxes[:, 3] - boxes[:, 1]
    large = hits & ((rows > block // 2) | (cols > block // 2))
    small = hits & ~large
    parts: list[pd.DataFrame] = []
    done = 0
    total = int(hits.sum())
    pixels = to_pixels(local, info)
    for members in _block_groups(boxes, np.flatnonzero(small), block, info.width):
        parts.append(_block_frame(ds, info, pixels, boxes, members, ops))
        done += len(members)
        if progress:
            progress(done, total)
    for i in np.flatnonzero(large):
        parts.append(_streamed_frame(ds, info, pixels, int(i), ops, block))
        done += 1
        if progress:
            progress(done, total)
    return parts


def _block_groups(boxes: np.ndarray, idx: np.ndarray, block: int, width: int) -> list[np.ndarray]:
    """The polygons ``idx`` grouped by the block their box centre lies in, blocks in
    row-major order."""
    if not len(idx):
        return []
    centre_r = (boxes[idx, 0] + boxes[idx, 2]) // 2 // block
    centre_c = (boxes[idx, 1] + boxes[idx, 3]) // 2 // block
    order = np.lexsort((centre_c, centre_r))
    idx, centre_r, centre_c = idx[order], centre_r[order], centre_c[order]
    key = centre_r * (width // block + 1) + centre_c
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(idx)]
    return [idx[s:e] for s, e in zip(starts, ends, strict=True)]


def _block_frame(ds, info: RasterInfo, pixels: np.ndarray, boxes: np.ndarray, members: np.ndarray,
                 ops: list[OpSpec]) -> pd.DataFrame:
    """Statistics of one group of small polygons from a single read of the window they
    reach into."""
    from rasterio.windows import Window

    r0, c0 = boxes[members, 0].min(), boxes[members, 1].min()
    r1, c1 = boxes[members, 2].max(), boxes[members, 3].max()
    data = exact_values(read_masked(ds, info, Window(c0, r0, c1 - c0, r1 - r0)))
    src = NumPyRasterSource(data, float(c0), float(-r1), float(c1), float(-r0))
    frame = exact_extract(src, WkbSource(pixels[members]), operations(ops, src), output="pandas")
    frame.index = members
    return frame


def _streamed_frame(ds, info: RasterInfo, pixels: np.ndarray, i: int, ops: list[OpSpec], block: int
                    ) -> pd.DataFrame:
    """Statistics of one large polygon, exactextract reading it in pieces of at most
    ``block``² pixels."""
    src = DatasetSource(ds, info)
    frame = exact_extract(src, WkbSource(pixels[[i]]), operations(ops, src),
                          output="pandas", max_cells_in_memory=block * block)
    frame.index = [i]
    return frame


def _tidy(parts: list[pd.DataFrame], local: np.ndarray, info: RasterInfo, *, percentiles: Sequence[float],
          categorical: bool) -> pd.DataFrame:
    """One row per geometry in order: percentile columns named ``p<N>``, count 0 and NaN
    statistics where there was no valid pixel, and ``poly_area`` and ``inside_frac``."""
    n = len(local)
    columns = [c for c in (parts[0].columns if parts else [])]
    out = pd.concat(parts).reindex(range(n)) if parts else pd.DataFrame(index=range(n), columns=columns)
    out = rename_percentiles(out, percentiles)
    if "count" not in out.columns:
        out["count"] = 0.0
    out["count"] = pd.to_numeric(out["count"]).fillna(0.0)
    if not categorical:
        for col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce")
        stat_cols = [c for c in out.columns if c != "count"]
        out.loc[out["count"] <= 0, stat_cols] = np.nan
    out["poly_area"] = shapely.area(local)
    inside = shapely.area(shapely.clip_by_rect(local, *info.bounds))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["inside_frac"] = np.where(out["poly_area"] > 0, inside / out["poly_area"], 0.0)
    return out
