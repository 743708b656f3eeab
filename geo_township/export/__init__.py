"""Export a township layer, or an analysis's features, for crews' phones and other systems.

:func:`export_layer` selects a layer's features (``where``: the small filter language of
:mod:`geo_township.export.select`; ``village``: the one location rule of
:mod:`geo_township.locate`) and writes them with :func:`export_features`, which every
command that writes features for people outside the tool can use:

=========  ======================================================================
format     what is written
=========  ======================================================================
kml, kmz   placemarks named by id, key fields as description, status styles
gpx        waypoints (points), tracks (lines; polygons as their outlines)
csv, xlsx  one row per feature, lon/lat (points) or WKT, CGCS2000
gpkg, shp  the layer in its working CRS; shp with ``encoding="gbk"`` for old GIS
geojson    WGS84 longitude/latitude (RFC 7946)
parquet    GeoParquet
postgis    a table in a PostGIS database, replaced in one transaction
=========  ======================================================================

Every file is written atomically: complete, or the old file is left as it was.

:func:`export_sets` writes an analysis's named feature sets (deadline lists, candidates,
audit findings, zonal statistics, the features behind an indicator, ``--save`` of any
command) with the same writers: a GeoPackage holds each set as a layer, a KML/KMZ each
as a folder, an XLSX each as a sheet; the other formats hold one set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from geo_township.errors import NotFoundError, UsageError
from geo_township.export.select import where_mask
from geo_township.kinds import KINDS, Kind
from geo_township.locate import locate

if TYPE_CHECKING:
    from geo_township.layers import Township

#: Format name → file suffixes that choose it (``postgis`` takes a URL instead of a file).
FORMATS: dict[str, tuple[str, ...]] = {
    "kml": (".kml",), "kmz": (".kmz",), "gpx": (".gpx",), "csv": (".csv",), "xlsx": (".xlsx",),
    "gpkg": (".gpkg",), "shp": (".shp",), "geojson": (".geojson",), "parquet": (".parquet", ".geoparquet"),
    "postgis": (),
}


@dataclass
class ExportSummary:
    """What an export wrote: the layer, where, in which format, how many features, and
    notes for the user (field names shortened, polygons written as outlines …)."""

    layer: str
    target: str
    format: str
    features: int
    notes: list[tuple[str, str]] = field(default_factory=list)

    def notes_in(self, lang: str = "en") -> list[str]:
        """The notes in ``lang``."""
        return [zh if lang == "zh" else en for en, zh in self.notes]


def export_format(target: str | Path, to: str | None = None) -> str:
    """The format: ``to`` when given, else the one ``target``'s suffix names (a
    ``postgresql://`` URL names ``postgis``)."""
    if to is not None:
        fmt = to.lower()
        if fmt not in FORMATS:
            raise UsageError(f"--to {to}: not a format the tool writes", hint="use one of " + ", ".join(FORMATS),
                             message_zh=f"--to {to}：不支持的格式", hint_zh="可用格式：" + ", ".join(FORMATS))
        return fmt
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        return "postgis"
    suffix = Path(text).suffix.lower()
    for fmt, suffixes in FORMATS.items():
        if suffix in suffixes:
            return fmt
    known = ", ".join(s for ss in FORMATS.values() for s in ss)
    raise UsageError(f"cannot tell the format of {Path(text).name} from its suffix",
                     hint="give --to (" + ", ".join(FORMATS) + f") or a file ending in {known}",
                     message_zh=f"无法从扩展名判断 {Path(text).name} 的格式",
                     hint_zh="用 --to 指定（" + ", ".join(FORMATS) + f"），或使用扩展名 {known}")


def export_features(gdf: gpd.GeoDataFrame, target: str | Path, *, name: str, fmt: str | None = None,
                    kind: Kind | None = None, encoding: str | None = None, lang: str = "en",
                    table: str | None = None, names: pd.Series | None = None,
                    descriptions: pd.Series | None = None, folder: str | None = None,
                    all_fields: bool = False) -> list[tuple[str, str]]:
    """Write ``gdf`` (any CRS) to ``target`` in ``fmt`` (else chosen by the suffix); return
    notes for the user. ``name`` names the layer, sheet or KML document; ``kind`` gives ids,
    labels and status styles; ``encoding`` is for shapefiles; ``table`` (``schema.name``)
    for PostGIS. An analysis's list may give KML/GPX its own placemark ``names``, one-line
    ``descriptions`` (both aligned with ``gdf``) and one KML ``folder``. Notes are (English,
    Chinese) pairs."""
    fmt = export_format(target, fmt)
    if encoding is not None and fmt != "shp":
        raise UsageError(f"--encoding is for shapefiles, not {fmt}",
                         hint="leave out --encoding (the other formats are UTF-8), or export to .shp",
                         message_zh=f"--encoding 只用于 shapefile，不用于 {fmt}",
                         hint_zh="去掉 --encoding（其他格式均为 UTF-8），或导出为 .shp")
    if fmt != "postgis":
        from geo_township.io.write import ensure_writable

        ensure_writable(target)
    notes: list[tuple[str, str]] = []
    if fmt in ("kml", "kmz"):
        from geo_township.export.kml import write_kml

        write_kml(gdf, target, name=name, kind=kind, lang=lang, kmz=fmt == "kmz", names=names,
                  descriptions=descriptions, folder=folder, all_fields=all_fields)
    elif fmt == "gpx":
        from geo_township.export.gpx import write_gpx

        if gdf.geom_type.isin(["Polygon", "MultiPolygon"]).any():
            notes.append(("polygons are written as tracks along their outlines (GPX has no polygons)",
                          "GPX 没有面要素，面按其边界线写为轨迹"))
        write_gpx(gdf, target, name=name, kind=kind, lang=lang, names=names, descriptions=descriptions,
                  all_fields=all_fields)
    elif fmt in ("csv", "xlsx"):
        from geo_township.export.tables import write_table

        write_table(gdf, target, name=name, kind=kind, lang=lang, xlsx=fmt == "xlsx")
    elif fmt == "gpkg":
        from geo_township.export.gis import write_geopackage

        write_geopackage({name: gdf}, target)
    elif fmt == "geojson":
        from geo_township.export.gis import write_geojson

        write_geojson(gdf, target)
    elif fmt == "shp":
        from geo_township.export.gis import write_shapefile

        notes += write_shapefile(gdf, target, encoding=encoding)
    elif fmt == "parquet":
        from geo_township.export.gis import write_parquet

        write_parquet(gdf, target)
    else:
        from geo_township.io.postgis import write_postgis

        if not table:
            raise UsageError("exporting to PostGIS needs a table name", hint="add --table schema.name",
                             message_zh="导出到 PostGIS 需要表名", hint_zh="加上 --table 模式名.表名")
        write_postgis(gdf, str(target), table)
    return notes


def select_features(township: Township, layer: str, *, where: str | None = None,
                    village: str | None = None) -> gpd.GeoDataFrame:
    """The features of ``layer`` that ``where`` selects and that lie in ``village`` (by the
    record, else the location: :func:`geo_township.locate.locate`); housekeeping columns
    dropped."""
    loaded = township.layer(layer)
    gdf = loaded.gdf
    if where:
        gdf = gdf[where_mask(gdf, where, kind=loaded.kind, field_map=loaded.field_map)]
    if village:
        villages = township.layer("villages").gdf if township.has("villages") else None
        if villages is None:
            instead = "--where \"village == '...'\""
            raise NotFoundError("--village needs a villages layer", path=township.config.path,
                                hint=f"add [layers.villages] to township.toml, or use {instead}",
                                message_zh="--village 需要村界图层",
                                hint_zh=f"在 township.toml 中添加 [layers.villages]，或改用 {instead}")
        names = [str(v) for v in villages["village"].dropna()]
        if village not in names:
            raise NotFoundError(f"--village {village}: no such village", hint="villages: " + ", ".join(names),
                                message_zh=f"--village {village}：没有这个村", hint_zh="村：" + "、".join(names))
        located = locate(gdf, villages, "village").values
        gdf = gdf[(located == village).to_numpy(dtype=bool)]
    return gdf.drop(columns=[c for c in ("source_row",) if c in gdf.columns])


def export_layer(township: Township, layer: str, target: str | Path, *, to: str | None = None,
                 where: str | None = None, village: str | None = None, encoding: str | None = None,
                 lang: str = "en", table: str | None = None) -> ExportSummary:
    """Export a township layer's features (all, or those ``where`` and ``village`` select)
    to ``target``; see the module's table of formats."""
    fmt = export_format(target, to)
    gdf = selected_features(township, layer, where=where, village=village)
    return export_selected(gdf, layer, target, fmt=fmt, encoding=encoding, lang=lang, table=table)


def selected_features(township: Township, layer: str, *, where: str | None = None, village: str | None = None
                      ) -> gpd.GeoDataFrame:
    """The features of a township layer that ``where`` and ``village`` select (all without
    them); :class:`~geo_township.errors.NotFoundError` when the township has no such layer
    or no feature matches (in a county, such a township is passed over)."""
    if layer not in township.config.layers:
        names = township.config.layers
        raise NotFoundError(f"the township has no layer {layer!r}", path=township.config.path,
                            hint="layers: " + ", ".join(names), message_zh=f"本乡镇没有图层 {layer!r}",
                            hint_zh="图层：" + ", ".join(names))
    gdf = select_features(township, layer, where=where, village=village)
    if not len(gdf):
        chosen = " and ".join(x for x in (f"--where {where!r}" if where else "",
                                          f"--village {village}" if village else "") if x)
        raise NotFoundError(f"no feature of {layer} matches {chosen}",
                            hint="check the values with `geo-township info`, or loosen the selection",
                            message_zh=f"{layer} 中没有符合 {chosen} 的要素",
                            hint_zh="用 `geo-township info` 核对取值，或放宽条件")
    return gdf


def export_selected(gdf: gpd.GeoDataFrame, layer: str, target: str | Path, *, fmt: str, encoding: str | None = None,
                    lang: str = "en", table: str | None = None) -> ExportSummary:
    """Write features of ``layer`` (:func:`selected_features`, or a county's, with their
    township) to ``target`` in ``fmt`` (:func:`export_format`)."""
    notes = export_features(gdf, target, name=layer, fmt=fmt, kind=KINDS.get(layer), encoding=encoding, lang=lang,
                            table=table)
    return ExportSummary(layer, str(target), fmt, len(gdf), notes)


#: Formats whose file holds several named feature sets (layers, folders, sheets).
MULTI_SET_FORMATS = ("gpkg", "kml", "kmz", "xlsx")


def export_sets(sets: Mapping[str, gpd.GeoDataFrame | None], target: str | Path, *, fmt: str | None = None,
                lang: str = "en", kinds: Mapping[str, Kind | None] | None = None, title: str | None = None,
                keep_layers: bool = False, encoding: str | None = None) -> tuple[list[str], list[tuple[str, str]]]:
    """Write an analysis's named feature sets (any CRS) to ``target``, the format chosen by
    ``fmt`` or the suffix (see the module's table); return the names written (the
    non-empty sets, in order) and notes (English, Chinese) for the user.

    A GeoPackage gets one layer per set (in the sets' own CRS; ``keep_layers`` keeps an
    existing file's other layers), KML/KMZ one folder per set (named after it, so GDAL
    reads it back as a layer of that name) in a document named ``title``, XLSX one sheet
    per set; the other formats hold one set, so several are
    refused with a hint to use one that holds them all. ``kinds`` gives a set's layer kind
    (ids, labels, status styles). Written atomically, like every export."""
    fmt = export_format(target, fmt)
    chosen = {name: gdf for name, gdf in sets.items() if gdf is not None and len(gdf)}
    name_of = Path(str(target)).name
    if not chosen:
        raise UsageError(f"there are no features to write to {name_of}", hint="leave out the file option",
                         message_zh=f"没有可写入 {name_of} 的要素", hint_zh="去掉写文件的选项")
    if fmt == "postgis":
        raise UsageError("an analysis's features are written to a file, not to PostGIS",
                         hint="write a .gpkg file, then `geo-township export` a layer to PostGIS",
                         message_zh="分析结果的要素只能写入文件，不能直接写入 PostGIS",
                         hint_zh="先写成 .gpkg 文件，再用 `geo-township export` 把图层导出到 PostGIS")
    kinds = kinds or {}
    if len(chosen) > 1 and fmt not in MULTI_SET_FORMATS:
        stem = Path(str(target)).stem
        raise UsageError(f"a {fmt} file holds one set of features, and there are {len(chosen)}: " + ", ".join(chosen),
                         hint=f"write a .gpkg, .kml or .xlsx file, which holds them all ({stem}.gpkg)",
                         message_zh=f"{fmt} 文件只能容纳一组要素，而这里有 {len(chosen)} 组：" + "、".join(chosen),
                         hint_zh=f"改写为 .gpkg、.kml 或 .xlsx 文件，可容纳全部（{stem}.gpkg）")
    if fmt in MULTI_SET_FORMATS and (len(chosen) > 1 or keep_layers or fmt in ("kml", "kmz")):
        from geo_township.io.write import ensure_writable

        ensure_writable(target)
        if fmt == "gpkg":
            from geo_township.export.gis import write_geopackage

            write_geopackage(chosen, target, keep_layers=keep_layers)
        elif fmt in ("kml", "kmz"):
            from geo_township.export.kml import write_kml

            document = title or (next(iter(chosen)) if len(chosen) == 1 else Path(str(target)).stem)
            write_kml(chosen, target, name=document, kinds=kinds, lang=lang, kmz=fmt == "kmz")
        else:
            from geo_township.export.tables import write_tables

            write_tables(chosen, target, kinds=kinds, lang=lang)
        return list(chosen), []
    (name, gdf), = chosen.items()
    notes = export_features(gdf, target, name=name, fmt=fmt, kind=kinds.get(name), encoding=encoding, lang=lang,
                            all_fields=True)
    return [name], notes
