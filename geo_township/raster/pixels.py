"""Pixel-wise work in blocks: windows of a raster's grid, blocks of at most ``block`` ×
``block`` pixels, reading a block (warped onto another raster's grid when needed), and
polygons burnt into or traced out of a block. Peak memory is a few blocks, whatever the
raster's size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import shapely

from geo_township.raster.source import RasterInfo, read_masked

DEFAULT_BLOCK = 2048

ProgressFn = Callable[[int, int], None]
"""``progress(done, total)``: features finished so far and in all."""


def pixel_boxes(geoms: np.ndarray, info: RasterInfo) -> np.ndarray:
    """Each geometry's bounding box in pixel space (row0, col0, row1, col1), rounded outward
    and clipped to the raster; empty boxes where a geometry misses the raster."""
    b = shapely.bounds(geoms)
    t = info.transform
    with np.errstate(invalid="ignore"):
        col0 = np.floor((b[:, 0] - t.c) / t.a)
        col1 = np.ceil((b[:, 2] - t.c) / t.a)
        row0 = np.floor((b[:, 3] - t.f) / t.e)
        row1 = np.ceil((b[:, 1] - t.f) / t.e)
    boxes = np.stack([row0, col0, row1, col1], axis=1)
    boxes = np.nan_to_num(boxes, nan=0.0)
    boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, info.height)
    boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, info.width)
    return boxes.astype(np.int64)


def pixel_window(info: RasterInfo, bounds: Sequence[float]) -> tuple[int, int, int, int]:
    """The pixel window ``(row0, col0, row1, col1)`` covering ``bounds`` (minx, miny, maxx,
    maxy in the raster's CRS), rounded outward and clipped to the raster."""
    box = pixel_boxes(np.array([shapely.box(*bounds)]), info)[0]
    return int(box[0]), int(box[1]), int(box[2]), int(box[3])


def blocks(window: tuple[int, int, int, int], block: int = DEFAULT_BLOCK) -> list[tuple[int, int, int, int]]:
    """Split a pixel window into blocks of at most ``block`` × ``block`` pixels, row by row."""
    r0, c0, r1, c1 = window
    return [(r, c, min(r + block, r1), min(c + block, c1))
            for r in range(r0, r1, block) for c in range(c0, c1, block)]


def window_transform(info: RasterInfo, row0: int, col0: int):
    """The affine transform of a window whose top-left pixel is (row0, col0)."""
    from affine import Affine

    return info.transform @ Affine.translation(col0, row0)


def same_grid(a: RasterInfo, b: RasterInfo) -> bool:
    """Do two rasters share CRS, pixel size, origin and size (to 1e-6 of a pixel)?"""
    return (a.crs.equals(b.crs) and a.width == b.width and a.height == b.height
            and a.transform.almost_equals(b.transform, precision=1e-6 * min(a.res)))


def read_block(ds, info: RasterInfo, window: tuple[int, int, int, int], *, grid: RasterInfo | None = None
               ) -> np.ma.MaskedArray:
    """A block of the raster on its own grid, or — when ``grid`` is another raster's grid —
    warped onto that grid's block (bilinear; nodata stays nodata)."""
    from rasterio.windows import Window

    r0, c0, r1, c1 = window
    if grid is None or same_grid(info, grid):
        return read_masked(ds, info, Window(c0, r0, c1 - c0, r1 - r0))
    from rasterio.warp import Resampling, reproject, transform_bounds

    dst_transform = window_transform(grid, r0, c0)
    left, top = dst_transform @ (0, 0)
    right, bottom = dst_transform @ (c1 - c0, r1 - r0)
    src_bounds = transform_bounds(grid.crs, info.crs, left, bottom, right, top, densify_pts=21)
    sr0, sc0, sr1, sc1 = pixel_window(info, src_bounds)
    sr0, sc0 = max(sr0 - 2, 0), max(sc0 - 2, 0)
    sr1, sc1 = min(sr1 + 2, info.height), min(sc1 + 2, info.width)
    out = np.full((r1 - r0, c1 - c0), np.nan, dtype="float64")
    if sr1 > sr0 and sc1 > sc0:
        src = read_masked(ds, info, Window(sc0, sr0, sc1 - sc0, sr1 - sr0))
        reproject(np.ma.filled(src.astype("float64"), np.nan), out, src_transform=window_transform(info, sr0, sc0),
                  src_crs=info.crs, src_nodata=np.nan, dst_transform=dst_transform, dst_crs=grid.crs,
                  dst_nodata=np.nan, resampling=Resampling.bilinear)
    return np.ma.MaskedArray(out, ~np.isfinite(out))


def rasterize_ids(geoms: np.ndarray, ids: np.ndarray, info: RasterInfo, window: tuple[int, int, int, int]
                  ) -> np.ndarray:
    """Burn polygons into a block (int32, 0 = none) by the pixel-centre rule: a pixel
    belongs to the polygon that holds its centre."""
    from rasterio.features import rasterize

    r0, c0, r1, c1 = window
    shape = (r1 - r0, c1 - c0)
    if len(geoms) == 0:
        return np.zeros(shape, dtype=np.int32)
    return rasterize(zip(geoms, ids.astype(np.int32), strict=True), out_shape=shape, fill=0,
                     transform=window_transform(info, r0, c0), dtype=np.int32)


def polygonize_ids(labels: np.ndarray, info: RasterInfo, window: tuple[int, int, int, int]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Polygons of the 4-connected regions of equal non-zero value in a block, with their
    values (in the raster's CRS; edges follow pixel edges)."""
    from rasterio.features import shapes

    r0, c0, _, _ = window
    geoms, values = [], []
    for geom, value in shapes(labels.astype(np.int32), mask=labels > 0, connectivity=4,
                              transform=window_transform(info, r0, c0)):
        geoms.append(shapely.geometry.shape(geom))
        values.append(int(value))
    return np.array(geoms, dtype=object), np.array(values, dtype=np.int64)
