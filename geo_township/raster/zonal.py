"""``zonal``: statistics of a raster per polygon, or land-cover class areas per polygon.

Each pixel counts by the fraction of it that lies inside the polygon (exactextract). A plot
of 3 mu is 2,000 m², about two 30 m Landsat pixels: a rule that takes pixels whose centre
falls inside would give it 1, 2 or 3 whole pixels, or none, depending on where the grid
happens to fall. Weighting by coverage gives every polygon, even one smaller than a pixel,
the value of the pixels it actually covers, and makes the pixel count an area. Nodata is
left out of every statistic; ``valid_pct`` says how much of each polygon had valid pixels.
All areas are ellipsoidal (CGCS2000) unless the township's ``area_method`` says planar.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geo_township.config import RasterSpec
from geo_township.engine import LOCAL, Engine
from geo_township.errors import UsageError
from geo_township.kinds import KINDS, column_label
from geo_township.labels import TOTAL_LABEL, Text
from geo_township.locate import order_rows_by_village
from geo_township.measure import METHOD_NOTES, METHOD_NOTES_ZH, Method
from geo_township.raster.exact import STATS, percentile_column
from geo_township.raster.nodata import NodataDoubt, nodata_doubt
from geo_township.raster.pixels import DEFAULT_BLOCK, ProgressFn
from geo_township.raster.polygons import ZonalPolygons, zonal_polygons
from geo_township.raster.reader import extract
from geo_township.raster.source import RasterInfo, raster_spec
from geo_township.raster.tables import class_table, stats_table, total_quantiles
from geo_township.results import Check, Finding, Result, declare, localise
from geo_township.units import Unit, area_unit, from_m2
from geo_township.vocabulary import LAND_COVER

if TYPE_CHECKING:  # pragma: no cover
    from geo_township.layers import Township

COVERAGE_NOTE = Text("each pixel weighted by the fraction of it inside the polygon (exactextract), so polygons "
                     "smaller than a pixel still get a value",
                     "每个像元按其落在多边形内的比例加权(exactextract)，因此小于一个像元的多边形也有统计值")
_TYPE_WORDS_ZH = {"points": "点", "lines": "线", "collections": "几何集合"}

RASTER_CHECKS = declare(
    Check("not_polygon", "info", "not a polygon (left out)", "不是面要素(未统计)",
          "{what}: not a polygon, so no raster statistics; left out",
          "{what}：不是面要素，不做栅格统计，未计入"),
    Check("no_pixels", "warning", "no valid pixels", "无有效像元",
          "no valid pixel: outside the raster or only nodata there",
          "没有有效像元：位于栅格范围外，或该处全是无数据值"),
    Check("nodata_is_data", "warning", "nodata value looks like real data", "无数据值疑似真实数据",
          "{message}", "栅格的无数据值疑似真实数据：{message_zh}"),
    Check("outside_raster", "warning", "outside the raster", "位于栅格范围外",
          "{outside_pct:.1f}% of it lies outside the raster; statistics cover the rest",
          "有 {outside_pct:.1f}% 位于栅格范围外；统计只含范围内部分"),
)


def zonal_stats(township: Township, raster: str, *, layer: str = "forest_plots", by: str | None = None,
                stats: Sequence[str] | None = None, percentiles: Sequence[float] = (),
                categorical: bool | None = None, unit: str = "mu", band: int = 1, block: int = DEFAULT_BLOCK,
                progress: ProgressFn | None = None, engine: Engine = LOCAL) -> Result:
    """Statistics of a raster per polygon of ``layer`` (or per group of ``by``).

    Continuous rasters (NDVI, DEM …): coverage-weighted ``pixels``, ``valid_pct`` (share of
    the polygon with valid pixels), ``mean``, ``min``, ``max``, ``sum``, ``std``, ``median``
    and percentiles ``p<N>``, in the raster's units. Categorical rasters (land cover):
    the area of each class in ``unit`` (names from ``[rasters.NAME] classes``), plus
    ``nodata`` for the part with no valid pixel or outside the raster, so that each row sums
    to the polygon's area (ellipsoidal by default). ``features['zonal']`` holds the polygons
    with the statistics, for ``--join``. The per-polygon statistics and areas are computed
    on ``engine`` (:mod:`geo_township.engine`; its workers must reach the raster's file).
    """
    spec = raster_spec(township, raster)
    stats, percentiles = _checked_request(stats, percentiles)
    categorical = spec.categorical if categorical is None else categorical
    unit_ = area_unit(unit)
    method = township.config.parameters["area_method"]
    sel = zonal_polygons(township, layer, by)
    polys, id_col, vocab = sel.frame, sel.id_col, sel.vocab
    parts = engine.by_parts(extract, polys.geometry, spec, categorical=categorical, stats=stats,
                            percentiles=percentiles, band=band, block=block, progress=progress)
    frame = parts[0][0] if len(parts) == 1 else pd.concat([f for f, _ in parts], ignore_index=True)
    info = parts[0][1]
    area = from_m2(engine.area_m2(polys.geometry, method=method), unit)
    area_col = f"area_{unit_.code}"
    base = pd.DataFrame({c: polys[c].to_numpy() for c in polys.columns if c != "geometry"})
    base[area_col] = area
    findings = _coverage_findings(layer, base[id_col], frame, info)
    doubt = nodata_doubt(spec, polys.geometry, frame, info, band=band)
    if doubt is not None:
        findings.append(RASTER_CHECKS.nodata_is_data.finding(spec.name, spec.path.name, message=doubt.message(),
                                                             message_zh=doubt.message_zh()))
    findings += [RASTER_CHECKS.not_polygon.finding(layer, str(fid), what=Text(words.removesuffix("s"),
                                                                              _TYPE_WORDS_ZH.get(words, words)))
                 for fid, words in sel.left_out.items()]
    prov = township.provenance(analysis="zonal", raster=spec.name, layer=layer, group_by=by,
                               categorical=categorical, area_method=method, statistics=COVERAGE_NOTE,
                               features_not_polygons=len(sel.left_out), **info.describe())
    notes, notes_zh = _raster_notes(spec, info, polys, sel, layer, band=band)
    _nodata_notes(spec, info, doubt, notes, notes_zh)
    if categorical:
        table, result_tables, decimals = _class_part(base, frame, info, spec, area_col, id_col, unit_, method,
                                                     notes, notes_zh)
        vocab["class"] = LAND_COVER.name
    else:
        table, decimals = _stats_part(polys, base, frame, info, spec, stats, percentiles, area_col, id_col, unit_,
                                      notes, notes_zh, band=band, block=block)
        result_tables = {}
    features = _joined(sel, table.iloc[: len(polys)], spec.name, area_col)
    if by == "village" and layer != "villages" and township.has("villages"):
        table = order_rows_by_village(table, township.optional("villages"), column="village",
                                      last=[TOTAL_LABEL["en"]])
    title, title_zh = _titles(township, layer, by, spec.name, categorical)
    return Result(title, table, tables=result_tables, findings=findings, features={"zonal": features},
                  provenance=prov, notes=notes, notes_zh=notes_zh, title_zh=title_zh, vocab=vocab,
                  decimals=decimals)


def _checked_request(stats: Sequence[str] | None, percentiles: Sequence[float]
                     ) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The statistics asked for (all of :data:`STATS` by default) and the percentiles without
    repeats; refuses unknown statistics and percentiles outside 0–100."""
    stats = tuple(stats) if stats else STATS
    unknown = [s for s in stats if s not in STATS]
    if unknown:
        raise UsageError(f"unknown statistic {unknown[0]!r}", hint="use any of: " + ", ".join(STATS),
                         message_zh=f"未知的统计量 {unknown[0]!r}", hint_zh="可用：" + "、".join(STATS))
    bad = [p for p in percentiles if not 0 < p < 100]
    if bad:
        raise UsageError(f"percentile {bad[0]:g} is not between 0 and 100", hint="e.g. --percentiles 10,90",
                         message_zh=f"百分位数 {bad[0]:g} 不在 0 到 100 之间", hint_zh="例如 --percentiles 10,90")
    return stats, tuple(dict.fromkeys(float(p) for p in percentiles))


def _raster_notes(spec: RasterSpec, info: RasterInfo, polys: gpd.GeoDataFrame, sel: ZonalPolygons, layer: str,
                  *, band: int) -> tuple[list[str], list[str]]:
    """Notes (English, Chinese) on the raster, the reprojection, the statistics and the
    features left out for not being polygons."""
    d = info.describe()
    moved = not CRS(polys.crs).equals(info.crs)
    notes = [f"raster {spec.name}: {d['raster_size']}, pixels {d['pixel_size']}, {info.crs.to_string()}"
             + (f"; polygons reprojected from {CRS(polys.crs).to_string()} to the raster's CRS (raster not resampled)"
                if moved else ""),
             f"statistics: {COVERAGE_NOTE}; nodata pixels left out"]
    notes_zh = [f"栅格 {spec.name}：{info.width} × {info.height} 像元（第 {band} 波段，{info.dtype}），像元大小 "
                f"{d['pixel_size']}，{info.crs.to_string()}"
                + (f"；图斑已从 {CRS(polys.crs).to_string()} 投影到栅格的坐标系（栅格未重采样）" if moved else ""),
                "统计方法：每个像元按其落在图斑内的面积比例加权（exactextract），小于一个像元的图斑也有值；无数据像元不计入"]
    if len(sel.left_out):
        kinds_en = " and ".join(sorted(set(sel.left_out)))
        kinds_zh = "、".join(sorted({_TYPE_WORDS_ZH.get(w, w) for w in sel.left_out}))
        notes.append(f"{len(sel.left_out)} feature(s) of {layer} left out: {kinds_en}, not polygons "
                     "(listed among the findings)")
        notes_zh.append(f"{layer} 中 {len(sel.left_out)} 个要素不是面（{kinds_zh}），未统计（见问题清单）")
    return notes, notes_zh


def _nodata_notes(spec: RasterSpec, info: RasterInfo, doubt: NodataDoubt | None, notes: list[str],
                  notes_zh: list[str]) -> None:
    """Notes on where the nodata value came from (when township.toml set it) and on a
    nodata value that looks like real data."""
    own = "none" if info.file_nodata is None else f"{info.file_nodata:g}"
    if info.nodata_from == "none":
        notes.append(f"nodata: none, as township.toml says (nodata = \"none\"): every value counts, the file's own "
                     f"nodata ({own}) too")
        notes_zh.append(f"无数据值：按 township.toml（nodata = \"none\"）不设，"
                        f"所有取值都计入，包括文件自带的无数据值（{own}）")
    elif info.nodata_from == "township.toml":
        notes.append(f"nodata: {info.nodata:g}, from township.toml (the file's own: {own})")
        notes_zh.append(f"无数据值：{info.nodata:g}，取自 township.toml（文件自带：{own}）")
    if doubt is not None:
        notes.append(f"nodata: {doubt.value:g} may be real data in {spec.name} (see the findings); to keep it, write "
                     f"nodata = \"none\" in [rasters.{spec.name}] of township.toml")
        notes_zh.append(f"无数据值：{spec.name} 中的 {doubt.value:g} 可能是真实数据（见问题清单）；"
                        "如要保留，请在 township.toml "
                        f"的 [rasters.{spec.name}] 中写 nodata = \"none\"")


def _class_part(base: pd.DataFrame, frame: pd.DataFrame, info: RasterInfo, spec: RasterSpec, area_col: str,
                id_col: str, unit_: Unit, method: Method, notes: list[str], notes_zh: list[str]
                ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[str, int]]:
    """A land-cover raster's table, its ``classes`` table and their decimals; adds the note
    on how class areas are measured."""
    table, classes = class_table(base, frame, info, spec, area_col, id_col)
    notes.append(f"class areas in {unit_.en} ({unit_.zh}), {METHOD_NOTES[method]}; each class's share of the "
                 "polygon measured on the raster grid; nodata = no valid pixel or outside the raster")
    notes_zh.append(f"各类面积单位：{unit_.zh}，{METHOD_NOTES_ZH[method]}；各类所占比例在栅格格网上量算；"
                    "无数据 = 无有效像元或位于栅格范围外")
    decimals = dict.fromkeys([c for c in table.columns if c not in (id_col, "village")], unit_.decimals)
    decimals.update({"share_pct": 2})
    return table, {"classes": classes}, decimals


def _stats_part(polys: gpd.GeoDataFrame, base: pd.DataFrame, frame: pd.DataFrame, info: RasterInfo,
                spec: RasterSpec, stats: Sequence[str], percentiles: Sequence[float], area_col: str, id_col: str,
                unit_: Unit, notes: list[str], notes_zh: list[str], *, band: int, block: int
                ) -> tuple[pd.DataFrame, dict[str, int]]:
    """A continuous raster's table (with the Total row's median and percentiles over the
    union of the polygons) and its decimals; adds the note on the Total row's quantiles."""
    whole, note_en, note_zh = total_quantiles(polys, frame, spec, stats, percentiles, band=band, block=block)
    table = stats_table(base, frame, info, stats, percentiles, area_col, id_col, whole)
    if note_en:
        notes.append(note_en)
        notes_zh.append(note_zh)
    decimals = {area_col: unit_.decimals, "pixels": 2, "valid_pct": 1}
    decimals.update(_decimals(table, ["mean", "min", "max", "std", "median",
                                      *[percentile_column(p) for p in percentiles]]))
    decimals["sum"] = decimals.get("mean", 2)
    return table, decimals


def _titles(township: Township, layer: str, by: str | None, raster: str, categorical: bool) -> tuple[str, str]:
    """The result's title in English and Chinese."""
    kind_ = township.layer(layer).kind
    group_en, group_zh = (column_label(by, "en").lower(), column_label(by, "zh")) if by else (None, None)
    per_en, per_zh = group_en or kind_.en.lower().rstrip("s"), group_zh or kind_.zh
    if categorical:
        return f"Land-cover areas ({raster}) per {per_en}", f"各地类面积（{raster}，按{per_zh}）"
    return f"{raster} statistics per {per_en}", f"{raster} 统计（按{per_zh}）"


def _decimals(values: pd.DataFrame, columns: Iterable[str]) -> dict[str, int]:
    """Decimal places of statistic columns: 4 for small values (NDVI), 2 for large (DEM)."""
    cols = [c for c in columns if c in values.columns]
    big = float(np.nanmax(np.abs(values[cols].to_numpy(dtype="float64")))) if cols and len(values) else 0.0
    places = 4 if not np.isfinite(big) or big < 10 else 2
    return dict.fromkeys(cols, places)


def _joined(sel: ZonalPolygons, stats: pd.DataFrame, raster: str, area_col: str) -> gpd.GeoDataFrame:
    """The layer's kept features with every field (or the groups' polygons with ``--by``)
    and their statistics as ``RASTER_<column>`` (the area as ``area_<unit>`` unless the layer
    has such a field), row for row."""
    out = sel.source.copy()
    own = [c for c in sel.frame.columns if c != "geometry"]
    for col in stats.columns:
        if col in own:
            continue
        name = col if col == area_col and col not in out.columns else f"{raster}_{col}"
        out[name] = stats[col].to_numpy()
    return out


def save_joined(result: Result, path: str | Path, *, lang: str = "en") -> str:
    """Write ``zonal``'s polygons with their statistics (``features['zonal']``: every field of
    the layer plus ``RASTER_<statistic>`` columns; the groups' polygons with ``--by``) to a
    GeoPackage as layer ``LAYER_RASTER`` (``FIELD_RASTER`` with ``--by``), next to any layers
    it already holds. Coded values (species, status …) are words with ``lang='zh'``, codes in
    English; field names are kept. Returns the layer name."""
    from geo_township.export import export_sets

    path = Path(path)
    prov = result.provenance
    if "townships" in prov:  # a county: every township ran the same layer and raster name
        prov = next(iter(prov["townships"].values()))
    name = f"{prov.get('group_by') or prov['layer']}_{prov['raster']}"
    gdf = result.features["zonal"]
    if lang == "zh":
        attrs = localise(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), lang, vocab=result.vocab, headings=False)
        gdf = gpd.GeoDataFrame(attrs, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    export_sets({name: gdf}, path, lang=lang, kinds={name: KINDS.get(prov["layer"])},
                keep_layers=path.suffix.lower() == ".gpkg")
    return name


def _coverage_findings(layer: str, ids: pd.Series, frame: pd.DataFrame, info: RasterInfo) -> list[Finding]:
    """Warnings for polygons without a valid pixel and for polygons partly outside the raster."""
    findings = []
    none = (frame["count"] <= 0).to_numpy()
    for fid in ids[none]:
        findings.append(RASTER_CHECKS.no_pixels.finding(layer, str(fid)))
    partly = (~none) & (frame["inside_frac"].to_numpy() < 0.999)
    for fid, frac in zip(ids[partly], frame["inside_frac"].to_numpy()[partly], strict=True):
        findings.append(RASTER_CHECKS.outside_raster.finding(layer, str(fid), outside_pct=(1 - frac) * 100))
    return findings
