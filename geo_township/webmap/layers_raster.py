"""Rasters on the map (``geo-township map --raster NAME``): colour ramps and land-cover
colours, the raster as an RGBA picture, and :func:`raster_overlay`, its map layer. The
pixels are read and resampled by :func:`geo_township.raster.display_values`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from geo_township.config import RasterSpec
from geo_township.overlay import Category, RasterOverlay
from geo_township.raster import MAX_OVERLAY_PX, class_columns, display_values
from geo_township.vocabulary import LAND_COVER

if TYPE_CHECKING:  # pragma: no cover
    from geo_township.layers import Township

#: Colour ramps (low → high) for continuous rasters, chosen by the raster's name.
RAMPS: dict[str, tuple[str, ...]] = {
    "vegetation": ("#a6611a", "#dfc27d", "#f5f5c8", "#a6d96a", "#1a9641", "#0b5d2a"),
    "terrain": ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#c8a07a", "#8c6d55", "#f2f2f2"),
    "viridis": ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"),
}
RAMP_WORDS = (("vegetation", ("ndvi", "evi", "savi", "veg", "植被")),
              ("terrain", ("dem", "dtm", "dsm", "elev", "height", "高程", "地形")))
"""Words of a raster's name (or description) that choose its ramp."""
#: Colours of land-cover classes (codes of geo_township.vocabulary.LAND_COVER).
CLASS_COLOURS: dict[str, str] = {
    "forest": "#1b7837", "shrub": "#7fbc41", "grassland": "#c7e9a0", "farmland": "#f6d55c",
    "orchard": "#d8a13a", "water": "#2c7fb8", "wetland": "#66c2a4", "built_up": "#d6604d",
    "bare": "#bdbdbd", "nodata": "#ffffff",
}
PALETTE = ("#8dd3c7", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5", "#bc80bd",
           "#ccebc5", "#ffed6f")
"""Colours of classes that are not land-cover codes, in turn."""
RAMP_ZH = {"vegetation": "植被", "terrain": "地形", "viridis": "连续"}


def ramp_for(name: str) -> str:
    """The colour ramp for a raster, by the words in its name (NDVI → vegetation, DEM → terrain)."""
    lowered = name.lower()
    for ramp, words in RAMP_WORDS:
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


def _paint_classes(spec: RasterSpec, out: np.ndarray, valid: np.ndarray, rgba: np.ndarray) -> list[dict[str, Any]]:
    """Colour a class raster by class (land-cover colours, else the palette); its legend."""
    legend: list[dict[str, Any]] = []
    codes = sorted({int(v) for v in np.unique(out[valid])} | set(spec.classes))
    columns = class_columns(spec, codes)
    for i, code in enumerate(codes):
        lc = columns[code][0][3:] if columns[code][0].startswith("lc_") else None
        colour = CLASS_COLOURS.get(lc or "", PALETTE[i % len(PALETTE)])
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
    return legend


def _paint_ramp(spec: RasterSpec, out: np.ndarray, valid: np.ndarray, rgba: np.ndarray) -> list[dict[str, Any]]:
    """Colour continuous values on the raster's ramp over their 2–98% range; five legend stops."""
    legend: list[dict[str, Any]] = []
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
    return legend


def raster_picture(spec: RasterSpec, *, max_size: int = MAX_OVERLAY_PX, band: int = 1
                   ) -> tuple[np.ndarray, tuple[float, float, float, float], list[dict[str, Any]]]:
    """The raster as an RGBA picture on a Web Mercator grid (≤ ``max_size`` px a side),
    its (west, south, east, north) bounds in degrees, and legend entries
    (``{"code", "en", "zh", "color"}``). Nodata is transparent. Large rasters are read
    decimated (from overviews when present), never whole."""
    out, bounds = display_values(spec, max_size=max_size, band=band)
    valid = np.isfinite(out)
    rgba = np.zeros((*out.shape, 4), dtype=np.uint8)
    legend: list[dict[str, Any]] = []
    if spec.categorical:
        legend = _paint_classes(spec, out, valid, rgba)
    elif valid.any():
        legend = _paint_ramp(spec, out, valid, rgba)
    return rgba, bounds, legend


def raster_overlay(township: Township, name: str, *, max_size: int = MAX_OVERLAY_PX, opacity: float = 0.7
                   ) -> RasterOverlay | None:
    """The map layer of one of the township's rasters (``geo-township map --raster NAME``):
    a :class:`~geo_township.overlay.RasterOverlay` coloured by class (land cover) or on a
    colour ramp (NDVI, DEM …), with its legend; None when the township has no such raster.
    The raster provider of :data:`geo_township.webmap.registry.RASTER_PROVIDERS`."""
    spec = township.config.rasters.get(name)
    if spec is None:
        return None
    image, bounds, legend = raster_picture(spec, max_size=max_size)
    ramp = ramp_for(spec.name + " " + spec.description)
    kind = "classes" if spec.categorical else f"2–98% range, {ramp} colours"
    kind_zh = "按类别着色" if spec.categorical else f"按 2%–98% 取值范围{RAMP_ZH[ramp]}色带着色"
    return RasterOverlay(
        key=f"raster_{name}", en=f"Raster: {name}", zh=f"栅格: {name}", image=image, bounds=bounds,
        legend=[Category(e["code"], e["en"], e["zh"], e["color"]) for e in legend], opacity=opacity,
        show=True, description=spec.description or f"{name} ({kind}); transparent where there is no data",
        description_zh=spec.description or f"{name}（{kind_zh}）；无数据处透明",
    )
