"""Raster statistics per polygon, land-cover class areas, and rasters for the map.

The one package that imports rasterio and exactextract (with the vegetation-loss
candidates built on it and the sample generator). Its modules, lowest first:

* :mod:`~geo_township.raster.source`: a raster's township.toml name, opening it, its grid
  and CRS, masked reads, the table of the township's rasters;
* :mod:`~geo_township.raster.exact`: exactextract plumbing;
* :mod:`~geo_township.raster.pixels`: pixel-wise work in blocks (windows, warped reads,
  polygons burnt into and traced out of a block);
* :mod:`~geo_township.raster.reader`: the block reader behind ``zonal``;
* :mod:`~geo_township.raster.polygons`, :mod:`~geo_township.raster.tables`,
  :mod:`~geo_township.raster.nodata`, :mod:`~geo_township.raster.zonal`: the ``zonal``
  analysis (:mod:`~geo_township.raster.nodata` tells when a file's nodata value looks like
  real data);
* :mod:`~geo_township.raster.display`: a raster's values resampled for the map (which
  colours them: :mod:`geo_township.webmap.layers_raster`).

* **Coverage-weighted statistics.** Each pixel counts by the fraction of it that lies
  inside the polygon (exactextract computes that fraction exactly from the polygon's
  edges). A plot of 3 mu is 2,000 m², about two 30 m Landsat pixels: a rule that takes
  pixels whose centre falls inside would give it 1, 2 or 3 whole pixels, or none, depending
  on where the grid happens to fall. Weighting by coverage gives every polygon, even one
  smaller than a pixel, the value of the pixels it actually covers, and makes the pixel
  count an area.
* **CRS.** Polygons are reprojected to the raster's CRS; the raster is never resampled
  (resampling would change the very values being summarised). A raster without a CRS
  whose bounds are longitude/latitude in China is read as CGCS2000.
* **Nodata** (the file's nodata value, its mask band, NaN) is left out of every statistic;
  ``nodata`` in the ``[rasters.NAME]`` table replaces the file's value (a number) or keeps
  every value (``"none"``); ``valid_pct`` says how much of each polygon had valid pixels.
* **Quantiles** have one definition for each row and the Total: coverage weights, equal
  values merged, the weighted-percentile method, in float64
  (:func:`~geo_township.raster.weighted_quantiles`).
* **Memory.** The raster is read in blocks (``block`` × ``block`` pixels, 2048 by default):
  polygons are grouped by the block their box centre lies in and each block is read once,
  together with the margin its polygons reach into; polygons larger than half a block are
  streamed by exactextract in pieces of at most a block. Peak memory is a few blocks,
  whatever the raster's size (see ``benchmarks/zonal_memory.py``).

All areas are ellipsoidal (CGCS2000) unless the township's ``area_method`` says planar.
"""

from geo_township.raster.display import MAX_OVERLAY_PX, display_values
from geo_township.raster.exact import STATS
from geo_township.raster.nodata import NodataDoubt, nodata_doubt
from geo_township.raster.pixels import (
    DEFAULT_BLOCK,
    ProgressFn,
    blocks,
    pixel_window,
    polygonize_ids,
    rasterize_ids,
    read_block,
    same_grid,
    window_transform,
)
from geo_township.raster.polygons import polygon_layers
from geo_township.raster.reader import extract
from geo_township.raster.source import (
    GDAL_CACHE_MB,
    RasterInfo,
    open_raster,
    opened,
    raster_info,
    raster_spec,
    raster_table,
    read_masked,
    value_percentiles,
)
from geo_township.raster.tables import MAX_CLASSES, class_columns, weighted_quantiles
from geo_township.raster.zonal import COVERAGE_NOTE, RASTER_CHECKS, save_joined, zonal_stats

__all__ = [
    "COVERAGE_NOTE", "DEFAULT_BLOCK", "GDAL_CACHE_MB", "MAX_CLASSES", "MAX_OVERLAY_PX", "RASTER_CHECKS", "STATS",
    "NodataDoubt", "ProgressFn",
    "RasterInfo", "blocks", "class_columns", "display_values", "extract", "nodata_doubt", "open_raster", "opened",
    "pixel_window", "polygon_layers", "polygonize_ids", "raster_info", "raster_spec", "raster_table", "rasterize_ids",
    "read_block", "read_masked", "same_grid", "save_joined", "value_percentiles", "weighted_quantiles",
    "window_transform", "zonal_stats",
]
