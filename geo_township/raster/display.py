"""A raster resampled for display: its values on a Web Mercator grid of at most a given
size, and the grid's bounds in degrees. The map colours them (:mod:`geo_township.webmap.layers_raster`);
reading stays here, the one package that imports rasterio.
"""

from __future__ import annotations

import math

import numpy as np

from geo_township.config import RasterSpec
from geo_township.raster.source import RasterInfo, opened, read_masked

MAX_OVERLAY_PX = 1024
"""The longest side (pixels) of a raster drawn on the map."""


def _display_grid(info: RasterInfo, max_size: int):
    """A Web Mercator grid over the raster, at most ``max_size`` pixels on its long side.

    Leaflet stretches a picture linearly in Web Mercator between its corner coordinates,
    so the picture is resampled onto a Mercator grid (not a lon/lat one) to sit exactly
    where the raster is, whatever the latitude span.
    """
    from affine import Affine
    from rasterio.warp import calculate_default_transform

    transform, width, height = calculate_default_transform(info.crs, "EPSG:3857", info.width, info.height,
                                                           *info.bounds)
    factor = max(width, height) / max_size
    if factor > 1:
        new_w, new_h = max(1, math.ceil(width / factor)), max(1, math.ceil(height / factor))
        transform = transform @ Affine.scale(width / new_w, height / new_h)
        width, height = new_w, new_h
    return transform, int(width), int(height)


def display_values(spec: RasterSpec, *, max_size: int = MAX_OVERLAY_PX, band: int = 1
                   ) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """The raster's values on a Web Mercator grid (≤ ``max_size`` px a side), as float64
    with NaN where there is no data, and the grid's (west, south, east, north) bounds in
    degrees. Classes are resampled by nearest neighbour, continuous values bilinearly.
    Large rasters are read decimated (from overviews when present), never whole."""
    from affine import Affine
    from pyproj import Transformer
    from rasterio.warp import Resampling, reproject

    with opened(spec, band=band) as (ds, info):
        factor = max(1.0, max(info.width, info.height) / (2 * max_size))
        shape = (max(1, math.ceil(info.height / factor)), max(1, math.ceil(info.width / factor)))
        averaging = not spec.categorical and spec.nodata is None and factor > 1
        data = read_masked(ds, info, out_shape=shape, resampling="average" if averaging else "nearest")
    src_transform = info.transform @ Affine.scale(info.width / shape[1], info.height / shape[0])
    dst_transform, width, height = _display_grid(info, max_size)
    out = np.full((height, width), np.nan, dtype="float64")
    reproject(np.ma.filled(data.astype("float64"), np.nan), out, src_transform=src_transform, src_crs=info.crs,
              src_nodata=np.nan, dst_transform=dst_transform, dst_crs="EPSG:3857", dst_nodata=np.nan,
              resampling=Resampling.nearest if spec.categorical else Resampling.bilinear)
    to_lonlat = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    west, north = to_lonlat.transform(*(dst_transform @ (0, 0)))
    east, south = to_lonlat.transform(*(dst_transform @ (width, height)))
    return out, (west, south, east, north)
