"""What a township holds (``info``) and how much area it covers (``area``)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geo_township.crs import MAP_APP_SYSTEMS, lonlat_bounds
from geo_township.engine import LOCAL, Engine
from geo_township.errors import TownshipError, UsageError
from geo_township.kinds import KINDS, column_label
from geo_township.labels import Text
from geo_township.layers import Layer, Township, projected
from geo_township.locate import blank_to_none, fill_villages, order_rows_by_village
from geo_township.measure import METHOD_NOTES, METHOD_NOTES_ZH, Method, area_by
from geo_township.record_checks import RECORD_CHECKS
from geo_township.results import Check, Finding, Result, declare
from geo_township.units import area_unit

CHECKS = declare(
    Check("crs", "info", "coordinate system", "坐标系", "{crs}: {note}", "坐标系 {crs}：{note}"),
    Check("sampled", "info", "sampled", "抽样查看",
          "sampled: {read:,} of {total:,} rows read — the count, extent and fields are the file's own "
          "(rows a full read leaves out are still counted); the encoding, the CRS and how the fields map are "
          "judged on these rows; `geo-township check` reads every row",
          "抽样：共 {total:,} 行，读取了其中 {read:,} 行——要素数、范围和字段取自文件自身的记录"
          "(完整读取时会剔除的行也计在内)；编码、坐标系和字段对应按这些行判断；"
          "`geo-township check` 会逐行检查全部数据"),
)
SAMPLE_ABOVE = 50_000
"""``info`` describes a layer of more features than this from the file's metadata and a
sample of its rows (:meth:`Township.sample`), not by reading it whole."""
SAMPLE_ROWS = 10_000
"""The rows of such a layer ``info`` reads, spread through the file."""
UNREADABLE = RECORD_CHECKS.unreadable.reworded("{error}", "{error}")
"""A layer that cannot be read, as the listing words it (the error's message and fix)."""


def _extent(gdf: gpd.GeoDataFrame) -> str:
    return _lonlat_text(gdf.to_crs(4326).total_bounds)


def _lonlat_text(bounds: tuple[float, float, float, float] | np.ndarray) -> str:
    """A lon/lat box as the listing shows it: 117.4280–117.5707E 30.4532–30.5420N."""
    lon_min, lat_min, lon_max, lat_max = bounds
    return f"{lon_min:.4f}–{lon_max:.4f}E {lat_min:.4f}–{lat_max:.4f}N"


def _crs_text(layer: Layer) -> str:
    """The layer's CRS for the listing, with where it came from: the file, inferred,
    township.toml, or a map app's system converted on load (a :class:`Text` when it says more
    than the code)."""
    crs = layer.source_crs.to_string()
    if layer.spec.map_app is not None:
        return f"{MAP_APP_SYSTEMS[layer.spec.map_app][0].split(' ')[0]} → {crs} (township.toml)"
    if layer.crs_note == "from the file":
        return crs
    if layer.crs_note.startswith("inferred"):
        return Text(f"{crs} (inferred)", f"{crs}(推断)")
    return f"{crs} (township.toml)"


def _with_alias(text: str, field: str, aliases: dict[str, str]) -> str:
    """A field in the listing with its alias (a File Geodatabase's) when it has one: CM (村名)."""
    return f"{text} ({aliases[field]})" if field in aliases else text


def describe_layers(township: Township, *, rasters: pd.DataFrame | None = None) -> Result:
    """What the township holds: one row per configured layer (file, features, source CRS,
    extent in lon/lat) and a second table of how each file's fields map to ours. A layer
    that cannot be read is listed with the reason. ``rasters``, the table of the township's
    rasters (:func:`geo_township.raster.raster_table`, given by the caller so that this
    module reads no raster), becomes a third table when it has rows."""
    rows: list[dict[str, object]] = []
    field_rows: list[dict[str, str]] = []
    findings: list[Finding] = []
    for kind_name in township.kinds:
        spec = township.config.layers[kind_name]
        file = spec.path.name + (f":{spec.layer}" if spec.layer else "")
        try:
            sampled = township.sample(kind_name, above=SAMPLE_ABOVE, rows=SAMPLE_ROWS)
            layer = sampled.layer if sampled else township.layer(kind_name)
        except TownshipError as exc:
            rows.append({"layer": kind_name, "file": file, "features": None, "crs": Text("unreadable", "无法读取"),
                         "extent": None})
            findings.append(UNREADABLE.finding(kind_name, "-", error=Text(str(exc), exc.text("zh"))))
            continue
        others = [str(c) for c in layer.gdf.columns if c not in layer.field_map and c != layer.gdf.geometry.name
                  and c != "source_row" and not str(c).endswith("_original")]
        crs = _crs_text(layer)
        if sampled:
            info = sampled.info
            extent = (None if info.bounds is None
                      else _lonlat_text(lonlat_bounds(info.bounds, layer.source_crs)))
            if extent is not None and not CRS(layer.source_crs).is_geographic:
                extent = "≈ " + extent  # the file's box in lon/lat holds the features but is a little wider
            rows.append({"layer": kind_name, "file": file, "features": info.features, "crs": crs, "extent": extent})
            findings.append(CHECKS.sampled.finding(kind_name, "-", read=sampled.rows_read, total=info.features))
        else:
            rows.append({"layer": kind_name, "file": file, "features": len(layer.gdf), "crs": crs,
                         "extent": _extent(layer.gdf)})
        field_rows.append({
            "layer": kind_name,
            "fields": ", ".join(_with_alias(f"{canon}←{src}" if canon != src else canon, src, layer.aliases)
                                for canon, src in layer.field_map.items()),
            "other_fields": ", ".join(_with_alias(c, c, layer.aliases) for c in others),
        })
        if layer.spec.map_app is not None:
            findings.append(CHECKS.crs.reworded("{note}").finding(kind_name, "-", note=layer.crs_note))
        elif layer.crs_note != "from the file":
            findings.append(CHECKS.crs.finding(kind_name, "-", crs=crs.split(" ")[0], note=layer.crs_note))
        for note in layer.notes:
            findings.append(RECORD_CHECKS.loading.finding(kind_name, "-", note=note))
    table = pd.DataFrame(rows, columns=["layer", "file", "features", "crs", "extent"])
    table["features"] = table["features"].astype("Int64")
    fields = pd.DataFrame(field_rows, columns=["layer", "fields", "other_fields"])
    tables = {"fields": fields}
    if rasters is not None and len(rasters):
        tables["rasters"] = rasters
    notes, notes_zh = [], []
    if township.loaded():
        working = township.working_crs
        notes.append(f"working CRS for planar work: {working.to_string()} ({working.name})")
        notes_zh.append(f"平面计算坐标系：{working.to_string()}（{working.name}）")
    return Result(f"Layers of {township.config.display_name()}", table, tables=tables,
                  title_zh=f"{township.config.name}图层", findings=findings, notes=notes, notes_zh=notes_zh,
                  provenance=township.provenance())


def order_by_villages(table: pd.DataFrame, township: Township, column: str = "group") -> pd.DataFrame:
    """Rows of a per-village table in the village order; other groups (none, outside, Total) after."""
    return order_rows_by_village(table, township.optional("villages"), column=column, last=["Total"])


def area_summary(township: Township, kind_name: str, *, by: str | None = None, unit: str = "mu",
                 method: Method | None = None, engine: Engine = LOCAL) -> Result:
    """Area of a layer per group (``by`` a field, canonical or the file's own), in ``unit``,
    measured by ``method`` (the township's ``area_method`` when None) on ``engine``."""
    method = method or township.config.parameters["area_method"]
    unit_ = area_unit(unit)
    # on the ellipsoid a layer in longitude/latitude is measured where it was read: no projection
    layer = township.layer(kind_name, projected=method != "ellipsoidal")
    if not layer.gdf.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        polygon_layers = [k for k in township.kinds if "Polygon" in KINDS[k].geometry]
        holds = "points" if layer.gdf.geom_type.str.contains("Point").any() else "lines"
        raise UsageError(
            f"{kind_name} holds {holds}, which have no area",
            hint="measure a polygon layer (" + ", ".join(polygon_layers) + "); for river lengths run "
            "`geo-township rivers`",
            message_zh=f"{kind_name} 是{'点' if holds == 'points' else '线'}图层，没有面积",
            hint_zh="请量算面图层(" + "、".join(polygon_layers) + ")；河道长度请运行 `geo-township rivers`")
    gdf = layer.gdf
    villages = township.optional("villages") if by == "village" and kind_name != "villages" else None
    if villages is not None:
        # the record's village, else where the feature lies: also when the layer has no village field
        recorded = gdf["village"].to_numpy(dtype=object) if "village" in gdf.columns else np.full(len(gdf), None)
        geoms = gdf.geometry.to_numpy()
        if not gdf.crs.equals(villages.crs):  # held in lon/lat: only the features to be located are projected
            geoms = geoms.copy()
            blank = blank_to_none(pd.Series(recorded, dtype=object)).isna().to_numpy(dtype=bool)
            geoms[blank] = projected(geoms[blank], gdf.crs, villages.crs)
        gdf = gdf.assign(village=fill_villages(recorded, geoms, villages)[0])
    table = area_by(gdf, by, unit=unit, method=method, area_of=engine.area)
    if by == "village" and kind_name != "villages" and township.has("villages"):
        table = order_by_villages(table, township)
    vocab: dict[str, str] = {}
    group_vocabulary = layer.kind.field(by).vocabulary if by and by in layer.kind.field_names else None
    if group_vocabulary:
        vocab["group"] = group_vocabulary
    note = f"method: {METHOD_NOTES[method]}; unit: {unit_.en} ({unit_.zh})"
    note_zh = f"面积算法：{METHOD_NOTES_ZH[method]}；单位：{unit_.zh}"
    if unit == "mu":
        note += ", 1 mu = 10000/15 m²"
        note_zh += "（1亩 = 10000/15 平方米）"
    labels = {}
    if by:
        labels["group"] = (column_label(by, "en"), column_label(by, "zh"))
    kind_ = layer.kind
    return Result(
        f"Area of {kind_.en.lower()}" + (f" by {labels['group'][0].lower()}" if by else ""), table,
        title_zh=f"{kind_.zh}面积" + (f"（按{labels['group'][1]}）" if by else ""),
        notes=[note], notes_zh=[note_zh], vocab=vocab, labels=labels,
        decimals={f"area_{unit_.code}": unit_.decimals},
        provenance=township.provenance(analysis="area", layer=kind_name, group_by=by, unit=unit,
                                       area_method=method, method_note=Text(METHOD_NOTES[method],
                                                                                        METHOD_NOTES_ZH[method])),
    )
