"""The printed map's offline background: a hillshade of the township's DEM.

The DEM is the first raster of ``[rasters]`` in township.toml whose name or description
says it holds elevation (the same words that give it the terrain colours on the
interactive map: dem, dtm, elev, 高程 …). It is read through the raster package (decimated
to at most :data:`MAX_READ_PX` pixels a side, never whole), shaded on its own grid with
its pixel size in metres, and resampled bilinearly onto each page's grid in the working
CRS — so the relief sits exactly under the layers whatever the DEM's CRS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import CRS, Transformer

from geo_township.layers import Township

MAX_READ_PX = 2000
"""The DEM is read with at most this many pixels on its longer side."""
AZIMUTH, ALTITUDE = 315.0, 45.0
"""Light from the north-west, 45° above the horizon (the cartographic convention)."""
EXAGGERATION = 2.0
"""Vertical exaggeration: township hills read better on paper a little steeper."""
M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class Relief:
    """A hillshade (0 dark … 1 lit, NaN where the DEM has no data) on the DEM's grid:
    pixel (row, col) has its top-left corner at ``(x0 + col·dx, y0 + row·dy)`` (dy < 0)."""

    name: str
    file: str
    shade: np.ndarray
    crs: CRS
    x0: float
    y0: float
    dx: float
    dy: float
    res_m: float

    def on_grid(self, extent: tuple[float, float, float, float], shape: tuple[int, int], crs: CRS) -> np.ndarray:
        """The hillshade resampled (bilinear) onto a north-up grid of ``shape`` (rows, cols)
        covering ``extent`` (xmin, xmax, ymin, ymax) in ``crs``; NaN outside the DEM."""
        from scipy.ndimage import map_coordinates

        xmin, xmax, ymin, ymax = extent
        rows, cols = shape
        xs = xmin + (np.arange(cols) + 0.5) * (xmax - xmin) / cols
        ys = ymax - (np.arange(rows) + 0.5) * (ymax - ymin) / rows
        gx, gy = np.meshgrid(xs, ys)
        if not CRS(crs).equals(self.crs):
            gx, gy = Transformer.from_crs(crs, self.crs, always_xy=True).transform(gx, gy)
        col = (gx - self.x0) / self.dx - 0.5
        row = (gy - self.y0) / self.dy - 0.5
        return map_coordinates(self.shade, [row, col], order=1, mode="constant", cval=np.nan)


def dem_name(township: Township) -> str | None:
    """The township's elevation raster (its township.toml name), if it has one."""
    from geo_township.webmap.layers_raster import ramp_for

    for name, spec in township.config.rasters.items():
        if not spec.categorical and ramp_for(f"{name} {spec.description}") == "terrain":
            return name
    return None


def load_relief(township: Township, name: str) -> Relief:
    """The hillshade of the raster ``name`` of township.toml."""
    from matplotlib.colors import LightSource

    from geo_township.raster import opened, raster_spec, read_masked

    spec = raster_spec(township, name)
    with opened(spec) as (ds, info):
        factor = max(1.0, max(info.width, info.height) / MAX_READ_PX)
        shape = (max(2, math.ceil(info.height / factor)), max(2, math.ceil(info.width / factor)))
        dem = read_masked(ds, info, out_shape=shape, resampling="average")
    t = info.transform
    dx, dy = t.a * info.width / shape[1], t.e * info.height / shape[0]
    dx_m, dy_m = abs(dx), abs(dy)
    if info.crs.is_geographic:
        lat = math.radians(t.f + dy * shape[0] / 2)
        dx_m, dy_m = dx_m * M_PER_DEG * math.cos(lat), dy_m * M_PER_DEG
    values = np.ma.filled(dem.astype("float64"), np.nan)
    valid = np.isfinite(values)
    filled = np.where(valid, values, np.nanmean(values) if valid.any() else 0.0)
    shade = LightSource(azdeg=AZIMUTH, altdeg=ALTITUDE).hillshade(filled, vert_exag=EXAGGERATION, dx=dx_m, dy=dy_m)
    shade = np.where(valid, shade, np.nan)
    native = abs(t.a) * (M_PER_DEG if info.crs.is_geographic else 1.0)
    return Relief(name, spec.path.name, shade, info.crs, t.c, t.f, dx, dy, native)
