"""Is a raster's nodata value really no data?

Some files mark a value as nodata that also occurs as real data: an 8-bit index scaled to
0–255 whose saturated pixels hold 255 while the profile says 255 = nodata, or a product
exported with nodata = 0 where 0 is a valid reading. Those pixels then silently drop out of
every statistic. :func:`nodata_doubt` looks at the pixels under the polygons and says when
the file's nodata value looks like data:

* it is the largest (or smallest) value the band's integer type can hold, and the value
  next to it (254 next to 255) is frequent among the valid pixels — real data piled up
  against the end of its range; or
* the nodata pixels are a large share of the polygons' pixels and scattered among valid
  ones, rather than lying in patches (clouds, the edge of the image), and the value lies
  within the range of the valid values.

It only looks when the polygons have a noticeable share of masked pixels, and it reads at
most :data:`MAX_PIXELS` pixels, so that clean rasters cost nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geo_township.config import RasterSpec
from geo_township.raster.pixels import DEFAULT_BLOCK, blocks, pixel_boxes, rasterize_ids
from geo_township.raster.source import RasterInfo, opened, read_masked

#: At most this many pixels are read to judge (four default blocks).
MAX_PIXELS = 4 * DEFAULT_BLOCK * DEFAULT_BLOCK
#: The polygons' masked share below which nothing is read.
MIN_MASKED_SHARE = 0.01
#: Rule 1: the share of valid pixels holding the value next to nodata that makes it suspect.
MIN_NEIGHBOUR_SHARE = 0.01
#: Rule 2: the nodata share, and the share of nodata pixels touching a valid one.
MIN_SCATTERED_SHARE, MIN_SCATTERED = 0.10, 0.6


@dataclass(frozen=True)
class NodataDoubt:
    """Why a raster's nodata value looks like real data, with the numbers behind it."""

    raster: str
    value: float
    pixels: int               # pixels under the polygons (centre rule) that hold the value
    share: float              # their share of the polygons' pixels inside the raster
    reason: str
    reason_zh: str

    def message(self) -> str:
        return (f"{self.pixels:,} pixels under the polygons ({self.share:.1%}) hold {self.value:g}, which the file "
                f"marks as nodata, so they are left out of every statistic; but {self.value:g} looks like real "
                f"data: {self.reason}. If it is, keep it: write nodata = \"none\" in [rasters.{self.raster}] of "
                "township.toml (or nodata = the value that really means no data)")

    def message_zh(self) -> str:
        return (f"图斑内有 {self.pixels:,} 个像元（{self.share:.1%}）取值为 {self.value:g}，文件将其标为无数据，"
                f"因此未计入任何统计；但 {self.value:g} 看来是真实数据：{self.reason_zh}。"
                f"如果是，请在 township.toml 的 "
                f"[rasters.{self.raster}] 中写 nodata = \"none\" 保留全部取值（或写 nodata = 真正表示无数据的值）")


def masked_share(frame: pd.DataFrame, info: RasterInfo) -> float:
    """The share of the polygons' area inside the raster that has no valid pixel, from
    what :func:`~geo_township.raster.extract` returned (nothing is read)."""
    inside = float((frame["poly_area"] * frame["inside_frac"]).sum()) / info.cell_area
    return max(0.0, 1.0 - float(frame["count"].sum()) / inside) if inside > 0 else 0.0


def nodata_doubt(spec: RasterSpec, geoms: gpd.GeoSeries, frame: pd.DataFrame, info: RasterInfo, *,
                 band: int = 1) -> NodataDoubt | None:
    """A :class:`NodataDoubt` when the file's nodata value looks like real data under
    ``geoms`` (see the module docstring), else None. ``frame`` and ``info`` are what
    :func:`~geo_township.raster.extract` returned for them; only when they show a
    noticeable masked share are pixels read."""
    value = info.nodata
    if info.nodata_from != "file" or value is None or math.isnan(value) or geoms.crs is None:
        return None
    if masked_share(frame, info) < MIN_MASKED_SHARE:
        return None
    tally = _tally(spec, geoms, value, band=band)
    if tally is None:
        return None
    nodata_px, valid_px, touching, near, lo, hi = tally
    share = nodata_px / (nodata_px + valid_px)
    if nodata_px < 10 or share < MIN_MASKED_SHARE:
        return None
    reason = _end_of_range(spec, info, value, near / valid_px if valid_px else 0.0)
    if reason is None and share >= MIN_SCATTERED_SHARE and touching / nodata_px >= MIN_SCATTERED:
        step = 1.0 if np.dtype(info.dtype).kind in "iu" else 0.0
        if valid_px and lo - step <= value <= hi + step:
            pct = touching / nodata_px
            reason = ((f"they are scattered among valid pixels ({pct:.0%} of them touch one) rather than lying in "
                      "patches such as clouds or the edge of the image"),
                      f"这些像元散布在有效像元之间（{pct:.0%} 与有效像元相邻），不像云或影像边缘那样成片")
    if reason is None:
        return None
    return NodataDoubt(spec.name, float(value), int(nodata_px), share, *reason)


def _end_of_range(spec: RasterSpec, info: RasterInfo, value: float, near_share: float) -> tuple[str, str] | None:
    """Rule 1: nodata at the end of an integer type's range with the value next to it
    frequent; or a class township.toml names."""
    if int(value) in spec.classes and float(value).is_integer():
        name = spec.classes[int(value)]
        return (f"township.toml names class {value:g} ({name})", f"township.toml 把 {value:g} 定为地类（{name}）")
    kind = np.dtype(info.dtype)
    if kind.kind not in "iu" or spec.categorical:
        return None
    limits = np.iinfo(kind)
    if value not in (limits.min, limits.max) or near_share < MIN_NEIGHBOUR_SHARE:
        return None
    end, end_zh = ("largest", "最大值") if value == limits.max else ("smallest", "最小值")
    near = value - 1 if value == limits.max else value + 1
    return ((f"it is the {end} value a {info.dtype} band can hold, and {near_share:.0%} of the valid pixels hold "
            f"{near:g} next to it"),
            f"它是 {info.dtype} 波段能存的{end_zh}，而 {near_share:.0%} 的有效像元取值为相邻的 {near:g}")


def _tally(spec: RasterSpec, geoms: gpd.GeoSeries, value: float, *, band: int
           ) -> tuple[int, int, int, int, float, float] | None:
    """Counts over the pixels whose centre lies in a polygon, block by block (at most
    :data:`MAX_PIXELS`): nodata pixels, valid pixels, nodata pixels touching a valid one
    (4-neighbours), valid pixels holding a value next to nodata (±1), and the valid
    values' range. None when no pixel centre lies in a polygon."""
    with opened(spec, band=band) as (ds, info):
        if ds.scales[band - 1] not in (None, 1.0) or ds.offsets[band - 1] not in (None, 0.0):
            return None  # values are scaled on reading: the nodata value is not among them
        local = geoms.to_crs(info.crs) if not CRS(geoms.crs).equals(info.crs) else geoms
        parts = local.to_numpy()
        boxes = pixel_boxes(parts, info)
        hit = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        if not hit.any():
            return None
        window = (int(boxes[hit, 0].min()), int(boxes[hit, 1].min()), int(boxes[hit, 2].max()),
                  int(boxes[hit, 3].max()))
        counts = np.zeros(4, dtype=np.int64)
        lo, hi, read = math.inf, -math.inf, 0
        for block in blocks(window):
            if read >= MAX_PIXELS:
                break
            inside = _inside(parts[hit], boxes[hit], info, block)
            if inside is None:
                continue
            data = read_masked(ds, info, _window(block))
            read += data.size
            valid = inside & ~np.ma.getmaskarray(data)
            raw = np.ma.getdata(data)
            nodata = inside & (raw == value)
            counts += [nodata.sum(), valid.sum(), (nodata & _touches(valid)).sum(),
                       (valid & (np.abs(raw.astype("float64") - value) == 1)).sum()]
            if valid.any():
                lo, hi = min(lo, float(raw[valid].min())), max(hi, float(raw[valid].max()))
    if counts[0] + counts[1] == 0:
        return None
    return int(counts[0]), int(counts[1]), int(counts[2]), int(counts[3]), lo, hi


def _inside(parts: np.ndarray, boxes: np.ndarray, info: RasterInfo, block: tuple[int, int, int, int]
            ) -> np.ndarray | None:
    """Which pixels of ``block`` have their centre in one of the polygons (None: none can)."""
    r0, c0, r1, c1 = block
    near = (boxes[:, 0] < r1) & (boxes[:, 2] > r0) & (boxes[:, 1] < c1) & (boxes[:, 3] > c0)
    if not near.any():
        return None
    ids = np.arange(1, int(near.sum()) + 1)
    inside = rasterize_ids(parts[near], ids, info, block) > 0
    return inside if inside.any() else None


def _touches(valid: np.ndarray) -> np.ndarray:
    """Pixels with a valid 4-neighbour."""
    out = np.zeros_like(valid)
    out[1:, :] |= valid[:-1, :]
    out[:-1, :] |= valid[1:, :]
    out[:, 1:] |= valid[:, :-1]
    out[:, :-1] |= valid[:, 1:]
    return out


def _window(block: tuple[int, int, int, int]):
    from rasterio.windows import Window

    r0, c0, r1, c1 = block
    return Window(c0, r0, c1 - c0, r1 - r0)
