"""The tables ``zonal`` returns: statistics per polygon with an exactly pooled Total row
(its median and percentiles over the union of the polygons), and areas per land-cover class.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from exactextract import exact_extract
from pyproj import CRS

from geo_township.config import RasterSpec
from geo_township.errors import UsageError
from geo_township.labels import TOTAL_LABEL
from geo_township.raster.exact import (
    STATS,
    DatasetSource,
    OpSpec,
    WkbSource,
    operations,
    percentile_column,
    to_pixels,
)
from geo_township.raster.source import RasterInfo, gdal_env, open_raster, raster_info
from geo_township.vocabulary import LAND_COVER, normalise_name

_COLUMN = {"count": "pixels", "mean": "mean", "min": "min", "max": "max", "sum": "sum", "std": "std",
           "median": "median"}
MAX_CLASSES = 256

#: The Total row's median and percentiles are computed over the union of all polygons when
#: their pixels number at most this many (coverage-weighted): a weighted quantile keeps every
#: distinct value in memory, which a county of plots on a float raster would not fit.
TOTAL_QUANTILE_MAX_PIXELS = 5_000_000


def total_quantiles(polys: gpd.GeoDataFrame, frame: pd.DataFrame, spec: RasterSpec, stats: Sequence[str],
                    percentiles: Sequence[float], *, band: int, block: int
                    ) -> tuple[dict[str, float], str, str]:
    """Median and percentiles of the Total row, over the pixels under all the polygons
    together (their union, so a pixel under two overlapping polygons counts once), with a
    note; blank with a note saying why when there are too many pixels to hold."""
    wanted = (["median"] if "median" in stats else []) + [percentile_column(p) for p in percentiles]
    pixels = float(frame["count"].sum())
    if not wanted or pixels <= 0:
        return {}, "", ""
    names_en = ", ".join(wanted)
    if pixels > TOTAL_QUANTILE_MAX_PIXELS:
        note_en = (f"Total: {names_en} left blank: over {pixels:,.0f} pixels they would need every value in memory "
                   f"at once (the other statistics are pooled from the rows exactly; each row has its own {names_en}; "
                   "--by a field gives them per group)")
        note_zh = (f"合计行的中位数和百分位数留空：{pixels:,.0f} 个像元需要同时把全部取值放入内存"
                   "（其余统计量由各行精确汇总；"
                   "每行都有自己的中位数和百分位数；用 --by 可得到各组的值）")
        return {}, note_en, note_zh
    union = shapely.union_all(polys.geometry.to_numpy())
    values_, weights = _values_and_coverage(union, polys.crs, spec, band=band, block=block)
    qs = ([0.5] if "median" in stats else []) + [p / 100 for p in percentiles]
    values = dict(zip(wanted, weighted_quantiles(values_, weights, qs), strict=True))
    note_en = (f"Total: {names_en} over the pixels under all polygons together (their union: a pixel under two "
               "overlapping polygons counts once); the other statistics pooled from the rows")
    note_zh = "合计行的中位数和百分位数按全部图斑合并后覆盖的像元计算（重叠处的像元只计一次）；其余统计量由各行汇总"
    return values, note_en, note_zh


def _values_and_coverage(geom, crs, spec: RasterSpec, *, band: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """The valid values under one geometry and the fraction of each pixel it covers
    (exactextract, streamed in pieces of at most ``block``² pixels)."""
    with gdal_env():
        ds = open_raster(spec, band=band)
        try:
            info = raster_info(ds, spec, band=band)
            local = gpd.GeoSeries([geom], crs=crs)
            local = local.to_crs(info.crs) if not CRS(crs).equals(info.crs) else local
            src = DatasetSource(ds, info)
            ops: list[OpSpec] = [("values", "values", {}), ("coverage", "coverage", {})]
            frame = exact_extract(src, WkbSource(to_pixels(local.to_numpy(), info)), operations(ops, src),
                                  output="pandas", max_cells_in_memory=block * block)
        finally:
            ds.close()
    return (np.asarray(frame["values"].iloc[0], dtype="float64"),
            np.asarray(frame["coverage"].iloc[0], dtype="float64"))


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: Sequence[float]) -> list[float]:
    """Weighted quantiles (``qs`` in 0–1) exactly as exactextract computes its ``median`` and
    ``quantile`` on float64 values (the rows get float64 blocks, see
    :func:`~geo_township.raster.exact.exact_values`, so that a row and the Total follow this one
    definition): equal values merged with their weights summed, then the weighted-percentile
    method — with the N distinct values x_k sorted, w_k their weights and
    S_k = k·w_k + (N−1)·Σ_{i<k} w_i (k from 0), the q-quantile is linear between the two
    values whose S bracket q·(N−1)·Σw. Vectorised (one sort), unlike exactextract's
    per-value map, which is slow on millions of distinct float values."""
    keep = weights > 0
    x, inverse = np.unique(values[keep], return_inverse=True)
    if len(x) == 0:
        return [math.nan] * len(qs)
    w = np.bincount(inverse.ravel(), weights=weights[keep], minlength=len(x))
    n = len(x)
    if n == 1:
        return [float(x[0])] * len(qs)
    cum = np.concatenate([[0.0], np.cumsum(w)[:-1]])
    s = np.arange(n) * w + (n - 1) * cum
    out = []
    for q in qs:
        target = q * (n - 1) * w.sum()
        k = int(np.searchsorted(s, target, side="right"))
        if k == 0:
            out.append(float(x[0]))
        elif k == n:
            out.append(float(x[-1]))
        else:
            out.append(float(x[k - 1] + (target - s[k - 1]) * (x[k] - x[k - 1]) / (s[k] - s[k - 1])))
    return out


def stats_table(base: pd.DataFrame, frame: pd.DataFrame, info: RasterInfo, stats: Sequence[str],
                percentiles: Sequence[float], area_col: str, id_col: str,
                whole: dict[str, float] | None = None) -> pd.DataFrame:
    """The statistics of a continuous raster per polygon (``base`` holds their ids and areas,
    ``frame`` what :func:`~geo_township.raster.extract` returned), with ``valid_pct`` and a
    Total row pooled exactly from the rows' sums."""
    table = base.copy()
    count = frame["count"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = np.where(frame["poly_area"] > 0, count * info.cell_area / frame["poly_area"] * 100, np.nan)
    for s in STATS:
        if s in stats:
            table[_COLUMN[s]] = count if s == "count" else frame[_COLUMN[s]].to_numpy(dtype="float64")
        if s == "count":
            table["valid_pct"] = np.minimum(valid, 100.0)
    for p in percentiles:
        table[percentile_column(p)] = frame[percentile_column(p)].to_numpy(dtype="float64")
    # The total over all polygons, pooled exactly from each polygon's sums; median and
    # percentiles cannot be pooled and come from ``whole`` (see total_quantiles).
    mean = frame["mean"].to_numpy(dtype="float64")
    std = frame["std"].to_numpy(dtype="float64")
    ok = count > 0
    n_tot = count[ok].sum()
    s_tot = frame["sum"].to_numpy(dtype="float64")[ok].sum()
    total: dict[str, Any] = {c: np.nan for c in table.columns}
    if "village" in total:
        total["village"] = ""
    total[id_col] = TOTAL_LABEL["en"]
    total[area_col] = float(np.nansum(base[area_col]))
    if "pixels" in table.columns:
        total["pixels"] = n_tot
    poly_tot = frame["poly_area"].to_numpy()[ok].sum() + frame["poly_area"].to_numpy()[~ok].sum()
    if "valid_pct" in table.columns:
        total["valid_pct"] = min(n_tot * info.cell_area / poly_tot * 100, 100.0) if poly_tot > 0 else np.nan
    if n_tot > 0:
        m = s_tot / n_tot
        sq = (count[ok] * (std[ok] ** 2 + mean[ok] ** 2)).sum() / n_tot
        pooled = {"mean": m, "sum": s_tot, "min": np.nanmin(frame["min"].to_numpy(dtype="float64")[ok]),
                  "max": np.nanmax(frame["max"].to_numpy(dtype="float64")[ok]), "std": math.sqrt(max(sq - m * m, 0.0))}
        for k, v in {**pooled, **(whole or {})}.items():
            if k in table.columns:
                total[k] = v
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def class_columns(spec: RasterSpec, codes: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Class value → (table column, class code for the ``classes`` table).

    Names in ``[rasters.NAME] classes`` that are land-cover words (forest/林地, farmland/耕地,
    water/水域, built-up/建设用地 …, see :data:`geo_township.kinds.LAND_COVER`) become
    ``lc_<code>`` columns labelled in English and Chinese; any other name is used as it is
    written; values without a name become ``class N``.
    """
    lookup = LAND_COVER.lookup()
    out = {}
    for c in codes:
        name = spec.classes.get(int(c), f"class {int(c)}")
        code = lookup.get(normalise_name(name))
        out[int(c)] = (f"lc_{code}", code) if code else (name, name)
    return out


def class_table(base: pd.DataFrame, frame: pd.DataFrame, info: RasterInfo, spec: RasterSpec, area_col: str,
                id_col: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The area of each class per polygon (plus ``nodata``, so that a row sums to the
    polygon's area) with a Total row, and the ``classes`` table of each class's total area
    and share. Refuses rasters whose values are not a few whole-number classes."""
    n = len(frame)
    uniques = frame["unique"].to_numpy() if "unique" in frame.columns else np.array([None] * n, dtype=object)
    fracs = frame["frac"].to_numpy() if "frac" in frame.columns else np.array([None] * n, dtype=object)
    lens = np.array([0 if u is None or (isinstance(u, float) and math.isnan(u)) else len(u) for u in uniques])
    filled = lens > 0
    values = np.concatenate([np.asarray(u, dtype="float64") for u in uniques[filled]]) if filled.any() else np.zeros(0)
    shares = np.concatenate([np.asarray(f, dtype="float64") for f in fracs[filled]]) if filled.any() else np.zeros(0)
    owner = np.repeat(np.arange(n), lens)
    if len(values) and not np.allclose(values, np.round(values)):
        raise UsageError(f"{spec.name} holds values that are not whole numbers, so it is not a class map",
                         path=spec.path, hint="drop --categorical (and categorical/classes in township.toml) "
                         "to get statistics instead",
                         message_zh=f"{spec.name} 的取值不是整数，因此不是分类图",
                         hint_zh="请去掉 --categorical(以及 township.toml 中的 categorical/classes)，改做统计")
    codes = np.round(values).astype(np.int64)
    present = sorted(set(codes.tolist()) | set(spec.classes))
    if len(present) > MAX_CLASSES:
        raise UsageError(f"{spec.name} has {len(present)} distinct values; a land-cover map has a few classes",
                         path=spec.path, hint="drop --categorical to get statistics instead",
                         message_zh=f"{spec.name} 有 {len(present)} 种不同取值；地类图只有少数几类",
                         hint_zh="请去掉 --categorical，改做统计")
    count = frame["count"].to_numpy(dtype="float64")
    poly_area = frame["poly_area"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        # share of the polygon's area covered by each class's pixels (measured on the grid)
        part = np.where(poly_area[owner] > 0, shares * count[owner] * info.cell_area / poly_area[owner], 0.0)
    columns = class_columns(spec, present)
    ordered = list(dict.fromkeys(columns[c][0] for c in present))
    area = base[area_col].to_numpy(dtype="float64")
    table = base.copy()
    grid = np.zeros((n, len(ordered)))
    col_of = {c: ordered.index(columns[c][0]) for c in present}
    np.add.at(grid, (owner, np.array([col_of[c] for c in codes.tolist()], dtype=np.int64)), part)
    grid = np.minimum(grid, 1.0)
    covered = grid.sum(axis=1)
    scale = np.where(covered > 1.0, 1.0 / np.where(covered > 0, covered, 1.0), 1.0)  # rounding at the edges
    grid *= scale[:, None]
    for j, name in enumerate(ordered):
        table[name] = grid[:, j] * area
    table["nodata"] = np.clip(1.0 - grid.sum(axis=1), 0.0, 1.0) * area
    total = {c: (float(table[c].sum()) if c not in (id_col, "village") else "") for c in table.columns}
    total[id_col] = TOTAL_LABEL["en"]
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    grand = float(area.sum())
    first: dict[str, int] = {}
    for c in present:
        first.setdefault(columns[c][0], c)
    classes = pd.DataFrame({
        "class": [columns[first[col]][1] for col in ordered] + ["nodata"],
        "code": [str(first[col]) for col in ordered] + [""],
        area_col: [float(table[col].iloc[:-1].sum()) for col in ordered] + [float(table["nodata"].iloc[:-1].sum())],
    })
    classes["share_pct"] = classes[area_col] / grand * 100 if grand > 0 else np.nan
    classes = pd.concat([classes, pd.DataFrame([{"class": TOTAL_LABEL["en"], "code": "", area_col: grand,
                                                 "share_pct": 100.0 if grand > 0 else np.nan}])],
                        ignore_index=True)
    return table, classes
