"""Rasters on the map: colour ramps and land-cover colours, the raster as a picture on a Web
Mercator grid, and :func:`raster_overlay`, the map layer of ``geo-township map --raster``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from geo_township.config import RasterSpec
from geo_township.raster.source import RasterInfo, opened, read_masked
from geo_township.raster.tables import class_columns
from geo_township.vocabulary import LAND_COVER

if TYPE_CHECKING:  # pragma: no cover
    from geo_township.layers import Township

#: Colour ramps (low → high) for continuous rasters, chosen by the raster's name.
RAMPS: dict[str, tuple[str, ...]] = {
    "vegetation": ("#a6611a", "#dfc27d", "#f5f5c8", "#a6d96a", "#1a9641", "#0b5d2a"),
    "terrain": ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#c8a07a", "#8c6d55", "#f2f2f2"),
    "viridis": ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"),
}
_RAMP_WORDS = (("vegetation", ("ndvi", "evi", "savi", "veg", "植被")),
               ("terrain", ("dem", "dtm", "dsm", "elev", "height", "高程", "地形")))
#: Colours of land-cover classes (codes of geo_township.kinds.LAND_COVER).
CLASS_COLOURS: dict[str, str] = {
    "forest": "#1b7837", "shrub": "#7fbc41", "grassland": "#c7e9a0", "farmland": "#f6d55c",
    "orchard": "#d8a13a", "water": "#2c7fb8", "wetland": "#66c2a4", "built_up": "#d6604d",
    "bare": "#bdbdbd", "nodata": "#ffffff",
}
_PALETTE = ("#8dd3c7", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5", "#bc80bd",
            "#ccebc5", "#ffed6f")
_RAMP_ZH = {"vegetation": "植被", "terrain": "地形", "viridis": "连续"}
MAX_OVERLAY_PX = 1024


def ramp_for(name: str) -> str:
    """The colour ramp for a raster, by the words in its name (NDVI → vegetation, DEM → terrain)."""
    lowered = name.lower()
    for ramp, words in _RAMP_WORDS:
        if any(w in lowered for w in words):
            return ramp
    return "viridis"


def _hex_rgb(colours: Sequence[str]) -> np.ndarray:
    return np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in colours], dtype="float64")


def colour_ramp(values: np.ndarray, vmin: float, vmax: float, ramp: str) -> np.ndarray:
    """RGB bytes (…, 3) of ``values`` on a ramp from ``vmin`` to ``vmax`` (clipped)."""
    stops = _hex_rgb(RAMPS[ramp])
    span = vmax - vmin if vmax > vmin else 1.0
    t = np.clip((values - vmin) / span, 0.0, 1.0) * (len(stops) - 1)
    pos = np.arange(len(stops))
    return np.stack([np.interp(t, pos, stops[:, k]) for k in range(3)], axis=-1).round().astype(np.uint8)


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


def raster_picture(spec: RasterSpec, *, max_size: int = MAX_OVERLAY_PX, band: int = 1
                   ) -> tuple[np.ndarray, tuple[float, float, float, float], list[dict[str, Any]]]:
    """The raster as an RGBA picture on a Web Mercator grid (≤ ``max_size`` px a side),
    its (west, south, east, north) bounds in degrees, and legend entries
    (``{"code", "en", "zh", "color"}``). Nodata is transparent. Large rasters are read
    decimated (from overviews when present), never whole."""
    from pyproj import Transformer
    from rasterio.warp import Resampling, reproject

    with opened(spec, band=band) as (ds, info):
        factor = max(1.0, max(info.width, info.height) / (2 * max_size))
        shape = (max(1, math.ceil(info.height / factor)), max(1, math.ceil(info.width / factor)))
        averaging = not spec.categorical and spec.nodata is None and factor > 1
        data = read_masked(ds, info, out_shape=shape, resampling="average" if averaging else "nearest")
    from affine import Affine

    src_transform = info.transform @ Affine.scale(info.width / shape[1], info.height / shape[0])
    dst_transform, width, height = _display_grid(info, max_size)
    out = np.full((height, width), np.nan, dtype="float64")
    reproject(np.ma.filled(data.astype("float64"), np.nan), out, src_transform=src_transform, src_crs=info.crs,
              src_nodata=np.nan, dst_transform=dst_transform, dst_crs="EPSG:3857", dst_nodata=np.nan,
              resampling=Resampling.nearest if spec.categorical else Resampling.bilinear)
    valid = np.isfinite(out)
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    legend: list[dict[str, Any]] = []
    if spec.categorical:
        codes = sorted({int(v) for v in np.unique(out[valid])} | set(spec.classes))
        columns = class_columns(spec, codes)
        for i, code in enumerate(codes):
            lc = columns[code][0][3:] if columns[code][0].startswith("lc_") else None
            colour = CLASS_COLOURS.get(lc or "", _PALETTE[i % len(_PALETTE)])
            hit = valid & (np.round(np.where(valid, out, -1)) == code)
            if lc == "nodata":
                continue
            rgba[hit, :3] = _hex_rgb([colour])[0].astype(np.uint8)
            rgba[hit, 3] = 255
            name = spec.classes.get(code, f"class {code}")
            en = LAND_COVER.label(lc, "en") if lc else name
            zh = LAND_COVER.label(lc, "zh") if lc else name
            if hit.any() or code in spec.classes:
                legend.append({"code": code, "en": en, "zh": zh, "color": colour})
    elif valid.any():
        ramp = ramp_for(spec.name + " " + spec.description)
        vmin, vmax = (float(v) for v in np.percentile(out[valid], [2, 98]))
        if vmax <= vmin:
            vmin, vmax = float(out[valid].min()), float(out[valid].max())
        rgba[valid, :3] = colour_ramp(out[valid], vmin, vmax, ramp)
        rgba[valid, 3] = 255
        places = 2 if vmax - vmin < 10 else 0
        for k, v in enumerate(np.linspace(vmin, vmax, 5)):
            label = f"{v:.{places}f}"
            label = ("≤ " + label) if k == 0 else ("≥ " + label) if k == 4 else label
            r, g, b = colour_ramp(np.array([v]), vmin, vmax, ramp)[0]
            legend.append({"code": float(v), "en": label, "zh": label, "color": f"#{r:02x}{g:02x}{b:02x}"})
    to_lonlat = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    west, north = to_lonlat.transform(*(dst_transform @ (0, 0)))
    east, south = to_lonlat.transform(*(dst_transform @ (width, height)))
    return rgba, (west, south, east, north), legend


def raster_overlay(township: Township, name: str, *, max_size: int = MAX_OVERLAY_PX, opacity: float = 0.7):
    """The map layer of one of the township's rasters (``geo-township map --raster NAME``):
    a :class:`~geo_township.overlay.RasterOverlay` coloured by class (land cover) or on a
    colour ramp (NDVI, DEM …), with its legend. Registered in
    ``geo_township.webmap.RASTER_PROVIDERS``."""
    from geo_township.overlay import Category, RasterOverlay

    spec = township.config.rasters.get(name)
    if spec is None:
        return None
    image, bounds, legend = raster_picture(spec, max_size=max_size)
    ramp = ramp_for(spec.name + " " + spec.description)
    kind = "classes" if spec.categorical else f"2–98% range, {ramp} colours"
    kind_zh = "按类别着色" if spec.categorical else f"按 2%–98% 取值范围{_RAMP_ZH[ramp]}色带着色"
    return RasterOverlay(
        key=f"raster_{name}", en=f"Raster: {name}", zh=f"栅格: {name}", image=image, bounds=bounds,
        legend=[Category(e["code"], e["en"], e["zh"], e["color"]) for e in legend], opacity=opacity,
        show=True, description=spec.description or f"{name} ({kind}); transparent where there is no data",
        description_zh=spec.description or f"{name}（{kind_zh}）；无数据处透明",
    )
