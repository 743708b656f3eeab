"""Validate every layer of a township: readable, CRS, rows left out for coordinates that
cannot be right, geometry, duplicates, required values, dates, coordinates outside the
township, a likely GCJ-02 shift, garbled encoding.

Errors are what would make the numbers wrong or break a rule; warnings are worth a look.
Every problem is collected (one bad layer does not hide the others).
"""

from __future__ import annotations

import datetime as dt
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.crs import gcj02_to_wgs84
from geo_township.engine import LOCAL, Engine
from geo_township.errors import TownshipError
from geo_township.layers import Layer, Township
from geo_township.leftout import LEFT_OUT_CHECKS, left_out_findings
from geo_township.record_checks import RECORD_CHECKS
from geo_township.results import MORE_MESSAGE, Check, Finding, Result, declare
from geo_township.shift_fit import References, gcj02_fits
from geo_township.village_names import village_name_findings
from geo_township.vocabulary import TREE_STATUS

# Date fields that must come in this order within a feature, per kind.
DATE_ORDER = {
    "infected_trees": ("found_date", "confirmed_date", "felled_date", "cleared_date", "verified_date"),
    "land_transfers": ("start_date", "end_date"),
    "sand_sites": ("closed_date", "restored_date"),
}
# The date a tree status implies must be present.
STATUS_DATE = {"felled": "felled_date", "cleared": "cleared_date", "verified": "verified_date"}
_GARBLED = re.compile("[ÃÂâäåæçèéêëìíîïðñòóôõö][\u0080-\u00ff]|\ufffd|锟斤拷")
MAX_PER_CHECK = 200  # findings listed per check and layer; the rest are counted in one line
SAMPLE_POINTS = 20_000

CHECKS = declare(
    Check("crs_inferred", "warning", "coordinate system inferred", "坐标系为推断",  # info for lon/lat
          "the file has no coordinate system; using {crs} ({note}); add a .prj or set crs for this layer in "
          "township.toml to confirm",
          "文件没有坐标系；按 {crs} 读取（推断）；请补充 .prj 或在 township.toml 中为该图层设置 crs 以确认"),
    Check("duplicate_geometry", "warning", "identical geometry", "图形重复",
          "same geometry as {first}: a feature entered twice?", "与 {first} 图形完全相同：是否重复录入？"),
    Check("missing_value", "error", "required value missing", "缺少必填值",
          "no {field} ({field_zh}); fill it in", "缺少{field_zh}；请补填"),
    Check("date_order", "error", "dates out of order", "日期先后顺序错误",
          "{field} {date:%Y-%m-%d} is before {earlier} {earlier_date:%Y-%m-%d}; correct one of them",
          "{field_zh} {date:%Y-%m-%d} 早于{earlier_zh} {earlier_date:%Y-%m-%d}；请更正其中之一"),
    Check("future_date", "warning", "date after the data date", "日期晚于数据日期",
          "{field} {date:%Y-%m-%d} is after the data date {today:%Y-%m-%d}; a typing slip?",
          "{field_zh} {date:%Y-%m-%d} 晚于数据日期 {today:%Y-%m-%d}；是否录入错误？"),
    Check("old_date", "warning", "date before 1950", "日期早于1950年",
          "{field} {date:%Y-%m-%d} is before 1950", "{field_zh} {date:%Y-%m-%d} 早于1950年"),
    Check("encoding", "warning", "garbled text (encoding)", "文字乱码(编码错误)",
          "text in field {field!r} looks garbled (e.g. {sample!r}): the file's encoding was probably read wrong; "
          'add a .cpg file next to a shapefile, or set encoding = "gbk" for this layer in township.toml',
          "字段 {field!r} 的文字疑似乱码（如 {sample!r}）：文件编码可能识别错误；请在 shapefile 旁放置 .cpg 文件，"
          '或在 township.toml 中为该图层设置 encoding = "gbk"'),
    Check("outside_township", "warning", "outside the township", "位于乡镇范围外",
          "lies {distance:,.0f} m outside the township's villages: wrong coordinates, or a feature of a "
          "neighbouring township?", "位于本乡各村范围外 {distance:,.0f} 米：坐标有误，还是邻乡的要素？"),
    Check("gcj02_shift", "warning", "likely GCJ-02 (AMap) coordinates", "疑似火星坐标(GCJ-02)",
          "only {raw:.0%} of the points fall inside the {reference} layer, but {fixed:.0%} do after undoing the "
          "GCJ-02 shift: the coordinates were probably copied from AMap/Tencent; convert them with "
          "`geo-township import --from-gcj02`",
          "仅 {raw:.0%} 的点落在参照图层内，按 GCJ-02（火星坐标）纠偏后为 {fixed:.0%}：坐标很可能取自高德/腾讯地图；"
          "请用 `geo-township import --from-gcj02` 转换"),
    Check("overlapping_polygons", "warning", "polygons overlap", "图斑重叠",
          "{a} and {b} overlap by {m2:,.0f} m²; areas per group count it twice",
          "{a} 与 {b} 重叠 {m2:,.0f} 平方米；分组面积会重复计算"),
    # the checks a layer's findings beyond MAX_PER_CHECK are counted under, one line per group
    Check("geometry", "error", "geometry problems", "图形问题", *MORE_MESSAGE),
    Check("duplicates", "error", "duplicate or missing ids, identical geometries", "编号重复或缺失、图形重复",
          *MORE_MESSAGE),
    Check("required", "error", "required values missing", "缺少必填值", *MORE_MESSAGE),
    Check("dates", "error", "date problems", "日期问题", *MORE_MESSAGE),
)
"""The layer checks' own checks; those other analyses report too are in :mod:`geo_township.record_checks`."""


def _cap(findings: list[Finding], layer: str, check: Check) -> list[Finding]:
    """The first :data:`MAX_PER_CHECK` findings, and one of ``check`` counting the rest."""
    if len(findings) <= MAX_PER_CHECK:
        return findings
    return findings[:MAX_PER_CHECK] + [check.more(layer, len(findings) - MAX_PER_CHECK)]


def _zh(layer: Layer, field: str) -> str:
    """A field's Chinese name in messages."""
    return layer.kind.field(field).zh if field in layer.kind.field_names else field


def check_geometry(layer: Layer) -> list[Finding]:
    """Invalid geometries (repaired in memory) and features left out for lack of geometry."""
    out = [RECORD_CHECKS.invalid_geometry.finding(layer.name, fid, reason=layer.invalid_reasons.get(fid, "invalid"))
           for fid in layer.repaired]
    if layer.dropped is not None:
        for _, row in layer.dropped.iterrows():
            fid = str(row.get("feature", row.get("row", "?")))
            if "row" in row and pd.notna(row.get("row")):
                fid = f"line {int(row['row'])}"
            out.append(RECORD_CHECKS.empty_geometry.finding(layer.name, fid, reason=row.get("reason", "no geometry")))
    return _cap(out, layer.name, CHECKS.geometry)


def check_duplicates(layer: Layer) -> list[Finding]:
    """Duplicate ids (error) and identical geometries (warning)."""
    out: list[Finding] = []
    gdf = layer.gdf
    idf = layer.kind.id_field
    if idf and idf in gdf.columns:
        ids = gdf[idf]
        dup = ids.notna() & ids.duplicated(keep=False)
        for value, n in ids[dup].value_counts().items():
            out.append(RECORD_CHECKS.duplicate_id.finding(layer.name, str(value), id_field=idf, value=value, n=n))
        missing = ids.isna()
        if missing.any() and layer.kind.field(idf).required:
            for fid in layer.ids()[missing]:
                out.append(RECORD_CHECKS.missing_id.finding(layer.name, fid, id_field=idf))
    wkb = pd.Series(shapely.to_wkb(shapely.normalize(gdf.geometry.to_numpy()), hex=True), index=gdf.index)
    dup_geom = wkb.duplicated(keep="first")
    if dup_geom.any():
        first_of = {h: fid for h, fid in zip(wkb[~dup_geom], layer.ids()[~dup_geom], strict=True)}
        for fid, h in zip(layer.ids()[dup_geom], wkb[dup_geom], strict=True):
            out.append(CHECKS.duplicate_geometry.finding(layer.name, fid, first=first_of[h]))
    return _cap(out, layer.name, CHECKS.duplicates)


def check_required(layer: Layer) -> list[Finding]:
    """Blank values in required fields (other than the id, checked with duplicates); a word
    the vocabulary does not know is not blank (the loading note names it with the fix)."""
    out: list[Finding] = []
    for f in layer.kind.fields:
        if not f.required or f.name == layer.kind.id_field or f.name not in layer.gdf.columns:
            continue
        blank = layer.gdf[f.name].isna().to_numpy().copy()
        words = layer.unknown_words
        if words is not None and len(words):  # a word not understood is not a blank: its note names it
            blank[words.loc[words["field"] == f.name, "row"].to_numpy(dtype=int)] = False
        for fid in layer.ids()[blank]:
            out.append(CHECKS.missing_value.finding(layer.name, fid, field=f.name, field_zh=f.zh))
    return _cap(out, layer.name, CHECKS.required)


def check_dates(layer: Layer, *, today: dt.date) -> list[Finding]:
    """Dates out of order within a feature, dates after the data date, tree statuses
    without the date they imply."""
    out: list[Finding] = []
    gdf = layer.gdf
    order = [c for c in DATE_ORDER.get(layer.name, ()) if c in gdf.columns]
    ids = layer.ids()
    for a_i, a in enumerate(order):
        for b in order[a_i + 1:]:
            bad = gdf[a].notna() & gdf[b].notna() & (gdf[b] < gdf[a])
            for fid, da, db in zip(ids[bad], gdf[a][bad], gdf[b][bad], strict=True):
                out.append(CHECKS.date_order.finding(layer.name, fid, field=b, field_zh=_zh(layer, b), date=db,
                                                     earlier=a, earlier_zh=_zh(layer, a), earlier_date=da))
    limit = pd.Timestamp(today)
    for col in [f.name for f in layer.kind.fields if f.dtype == "date" and f.name in gdf.columns]:
        if layer.name == "land_transfers" and col == "end_date":
            continue  # contracts end in the future
        late = gdf[col].notna() & (gdf[col] > limit)
        for fid, d in zip(ids[late], gdf[col][late], strict=True):
            out.append(CHECKS.future_date.finding(layer.name, fid, field=col, field_zh=_zh(layer, col), date=d,
                                                  today=today))
        early = gdf[col].notna() & (gdf[col] < pd.Timestamp("1950-01-01"))
        for fid, d in zip(ids[early], gdf[col][early], strict=True):
            out.append(CHECKS.old_date.finding(layer.name, fid, field=col, field_zh=_zh(layer, col), date=d))
    if layer.name == "infected_trees" and "status" in gdf.columns:
        rank = {code: i for i, code in enumerate(TREE_STATUS.codes)}
        status_rank = gdf["status"].map(rank)
        for status, col in STATUS_DATE.items():
            if col not in gdf.columns:
                continue
            lacking = (status_rank >= rank[status]) & gdf[col].isna()
            for fid, st in zip(ids[lacking], gdf["status"][lacking], strict=True):
                out.append(RECORD_CHECKS.status_without_date.finding(
                    layer.name, fid, status=st, status_zh=TREE_STATUS.label(st, "zh"), field=col,
                    field_zh=_zh(layer, col)))
    return _cap(out, layer.name, CHECKS.dates)


def check_encoding(layer: Layer) -> list[Finding]:
    """Text that looks like Chinese read in the wrong encoding (Ã¥…, �)."""
    gdf = layer.gdf
    for col in gdf.columns:
        if col == gdf.geometry.name or gdf[col].dtype != object:
            continue
        sample = gdf[col].dropna().astype(str).head(2000)
        hits = sample[sample.str.contains(_GARBLED)]
        if len(hits):
            return [CHECKS.encoding.finding(layer.name, "-", field=col, sample=hits.iloc[0][:30])]
    return []


def check_crs(layer: Layer) -> list[Finding]:
    """A CRS that had to be inferred is stated, so the user can confirm or fix it
    (a warning for projected metres, which can be mistaken; a note for lon/lat)."""
    if layer.crs_note.startswith("inferred") or layer.crs_note.startswith("the township's default"):
        severity = "info" if layer.source_crs.is_geographic else "warning"
        return [CHECKS.crs_inferred.with_severity(severity).finding(layer.name, "-", crs=layer.source_crs.to_string(),
                                                                    note=layer.crs_note)]
    return []


def check_left_out(layer: Layer) -> list[Finding]:
    """The rows loading left out of every count (coordinates not numbers, not fitting the
    layer's CRS, outside China, far outside the township): one warning each, naming the
    row (id and line) and the fix."""
    return _cap(left_out_findings(layer.name, layer.left_out), layer.name, LEFT_OUT_CHECKS.row_left_out)


def check_outside(layer: Layer, villages: gpd.GeoDataFrame | None, tolerance_m: float, *,
                  engine: Engine = LOCAL) -> list[Finding]:
    """Features lying more than ``tolerance_m`` outside every village (distances on ``engine``)."""
    if villages is None or layer.name == "villages" or not len(villages):
        return []
    area = shapely.union_all(villages.geometry.to_numpy())
    geoms = layer.gdf.geometry.to_numpy()
    dist = engine.elementwise(shapely.distance, geoms, shared=(area,))
    far = dist > tolerance_m
    out = [CHECKS.outside_township.finding(layer.name, fid, distance=d)
           for fid, d in zip(layer.ids()[far], dist[far], strict=True)]
    return _cap(out, layer.name, CHECKS.outside_township)


def check_gcj02(layer: Layer, reference: gpd.GeoDataFrame | None) -> list[Finding]:
    """Points copied from AMap/Tencent are 100–700 m off. If shifting them back from
    GCJ-02 puts clearly more of them inside the reference polygons, say so."""
    if reference is None or not layer.source_crs.is_geographic or layer.kind.geometry[0] != "Point":
        return []
    pts = layer.gdf.geometry
    if len(pts) > SAMPLE_POINTS:
        pts = pts.sample(SAMPLE_POINTS, random_state=0)
    ll = pts.to_crs(4326)
    lon, lat = gcj02_to_wgs84(ll.x.to_numpy(), ll.y.to_numpy())
    shifted = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(pts.crs)
    tree = shapely.STRtree(reference.geometry.to_numpy())

    def inside_share(points: gpd.GeoSeries) -> float:
        idx = tree.query(points.to_numpy(), predicate="within")
        return len(np.unique(idx[0])) / max(len(points), 1)

    raw, fixed = inside_share(pts), inside_share(shifted)
    if fixed > 0.8 and fixed - raw > 0.2:
        return [CHECKS.gcj02_shift.finding(layer.name, "-", raw=raw, fixed=fixed,
                                           reference=reference.attrs.get("kind", "reference"))]
    return []


def check_gcj02_lines_polygons(layer: Layer, others: References) -> list[Finding]:
    """Lines and polygons traced over AMap/Tencent are 100–700 m off, like points: if undoing
    the GCJ-02 shift makes the layer fit another layer far better (by the rule of
    :mod:`geo_township.shift_fit`, with moves of the same size in other directions as the
    control), say so, naming that layer. Layers declared ``crs = "gcj02"``/``"bd09"`` are
    already converted and not judged. ``others``: the township's layers
    (:class:`geo_township.shift_fit.References`, built once for every layer)."""
    if layer.kind.geometry[0] == "Point" or layer.spec.map_app is not None or not len(layer.gdf):
        return []
    fits, shift_m = gcj02_fits(layer.gdf.geometry.to_numpy(), layer.gdf.crs, others, own=layer.name)
    if not fits:
        return []
    best = fits[0]
    if best.by == "share":
        how = (f"{best.on_share[1]:.0%} of its vertices then lie on the {best.reference} layer, "
               f"{best.on_share[0]:.0%} as it is")
        how_zh = (f"纠偏后 {best.on_share[1]:.0%} 的节点落在 {best.reference} 图层的边线上，"
                  f"纠偏前为 {best.on_share[0]:.0%}")
    else:
        how = (f"its vertices then lie a median {best.median_m[1]:.0f} m from the {best.reference} layer, "
               f"{best.median_m[0]:.0f} m as it is and at least {min(best.median_m[2:]):.0f} m when moved as far in "
               "other directions")
        how_zh = (f"纠偏后节点距 {best.reference} 图层的中位距离为 {best.median_m[1]:.0f} 米，纠偏前为 "
                  f"{best.median_m[0]:.0f} 米")
    fix = 'declare crs = "gcj02" for this layer in township.toml (the tool then converts it on load)'
    fix_zh = '请在 township.toml 中为该图层设置 crs = "gcj02"（读取时自动转换）'
    if not layer.source_crs.is_geographic:  # the shift survives reprojection: the file was made from lon/lat
        fix = "export the layer as longitude/latitude and " + fix + ", or convert it to CGCS2000 in your GIS"
        fix_zh = "请将该图层导出为经纬度后" + fix_zh.removeprefix("请") + "，或在 GIS 中转换为 CGCS2000"
    also = f" (also: {', '.join(f.reference for f in fits[1:])})" if len(fits) > 1 else ""
    return [SHIFTED_LAYER.finding(layer.name, "-", shift_m=f"{shift_m:.0f}", how=how, also=also, fix=fix,
                                  how_zh=how_zh, fix_zh=fix_zh)]


SHIFTED_LAYER = CHECKS.gcj02_shift.reworded(
    "the layer fits the others far better after undoing the GCJ-02 shift ({shift_m} m here): {how}{also}; the "
    "coordinates were probably copied from (or traced over) AMap/Tencent maps: {fix}",
    "按 GCJ-02（火星坐标）纠偏（此处约 {shift_m} 米）后该图层与其他图层吻合得多：{how_zh}；"
    "坐标很可能取自高德/腾讯地图：{fix_zh}")
"""The GCJ-02 check worded for a line or polygon layer as a whole."""


def check_overlaps(layer: Layer, *, min_m2: float = 10.0, engine: Engine = LOCAL) -> list[Finding]:
    """Polygons of a layer that should tile (villages, forest plots) but overlap (the shared
    parts cut and measured on ``engine``)."""
    if layer.name not in ("villages", "forest_plots"):
        return []
    geoms = layer.gdf.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if not len(left):
        return []
    inter = gpd.GeoSeries(engine.elementwise(shapely.intersection, geoms[left], geoms[right]), crs=layer.gdf.crs)
    areas = engine.area_m2(inter)
    ids = layer.ids().to_numpy()
    out = [CHECKS.overlapping_polygons.finding(layer.name, f"{ids[a]} / {ids[b]}", a=ids[a], b=ids[b], m2=m2)
           for a, b, m2 in zip(left, right, areas, strict=True) if m2 > min_m2]
    return _cap(out, layer.name, CHECKS.overlapping_polygons)


def check_township(township: Township, *, today: dt.date | None = None, engine: Engine = LOCAL) -> Result:
    """Run every check on every layer; a layer that cannot be read (a missing file, an
    empty KML, …) is one error finding naming the file, and the other layers are checked.
    The per-feature geometry kernels run on ``engine``."""
    today = today or township.config.data_date or dt.date.today()
    findings: list[Finding] = []
    layers: dict[str, Layer] = {}
    for kind_name in township.kinds:
        try:
            layers[kind_name] = township.layer(kind_name)
        except TownshipError as exc:
            findings.append(RECORD_CHECKS.unreadable.finding(kind_name, "-", error=str(exc)))
    villages = layers["villages"].gdf if "villages" in layers else None
    plots = layers["forest_plots"].gdf if "forest_plots" in layers else None
    if plots is not None:
        plots.attrs["kind"] = "forest_plots"
    if villages is not None:
        villages.attrs["kind"] = "villages"
    tol = township.config.parameters["outside_tolerance_m"]
    references = References({name: layer.gdf.geometry.to_numpy() for name, layer in layers.items()})
    for name, layer in layers.items():
        findings += check_crs(layer)
        findings += check_left_out(layer)
        findings += [RECORD_CHECKS.loading.finding(name, "-", note=note) for note in layer.notes]
        findings += check_geometry(layer)
        findings += check_duplicates(layer)
        findings += check_required(layer)
        findings += check_dates(layer, today=today)
        findings += check_encoding(layer)
        findings += check_outside(layer, villages, tol, engine=engine)
        findings += village_name_findings(layer, villages)
        findings += check_gcj02(layer, plots if name == "infected_trees" and plots is not None else villages)
        findings += check_gcj02_lines_polygons(layer, references)
        findings += check_overlaps(layer, engine=engine)
    rows = []
    for name in township.kinds:
        mine = [f for f in findings if f.layer == name]
        rows.append({"layer": name, "features": len(layers[name].gdf) if name in layers else None,
                     "errors": sum(f.severity == "error" for f in mine),
                     "warnings": sum(f.severity == "warning" for f in mine)})
    table = pd.DataFrame(rows, columns=["layer", "features", "errors", "warnings"])
    return Result(f"Check of {township.config.display_name()}", table, findings=findings,
                  title_zh=f"{township.config.name}数据检查",
                  provenance=township.provenance(analysis="check", data_date_used=today.isoformat()))
