"""One reader per format officers bring: GeoPackage, Shapefile, GeoJSON, KML/KMZ, GPX,
GeoParquet, and CSV/XLSX with coordinate columns.

Readers return the file's own fields and CRS (or none); mapping to canonical fields,
CRS inference and reprojection happen in :mod:`geo_township.layers`. Every failure is a
:class:`~geo_township.errors.LayerReadError` that names the file and, where it can, the
row, with a fix. CSV/XLSX tables are read by :mod:`geo_township.io.points`, which holds
the rule for coordinate columns.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_township.errors import LayerReadError
from geo_township.io.failures import check_shapefile_lengths, is_empty_file, read_failure
from geo_township.io.gdb import GDB_SUFFIX, choose_gdb_layer, read_gdb_layer
from geo_township.io.points import (
    TABLE_SUFFIXES,
    WKT_NAMES,
    PointTable,
    find_column,
    read_point_table,
)
from geo_township.labels import Text, text_in

log = logging.getLogger(__name__)

GDAL_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".kml", ".kmz", ".gpx", ".zip", ".fgb", ".gml", ".tab", ".mif"}
PARQUET_SUFFIXES = {".parquet", ".geoparquet"}

# Housekeeping columns the LIBKML driver adds to every placemark.
KML_HOUSEKEEPING = ("timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude", "visibility",
                    "drawOrder", "icon", "snippet")


@dataclass
class RawLayer:
    """What a reader found: the features with the file's own field names, the file's CRS
    (None when it has none), and notes worth telling the user."""

    gdf: gpd.GeoDataFrame
    path: Path
    layer: str | None = None
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    dropped: pd.DataFrame | None = None  # rows without usable coordinates, with a 'reason'
    aliases: dict[str, str] = field(default_factory=dict)  # field name → its alias (File Geodatabase)
    # single 2-D points read as coordinates (n × 2, the file's CRS; NaN, NaN: an empty point),
    # the gdf's geometry then missing: made once, in the CRS they are worked in (layerfile)
    xy: np.ndarray | None = None

    def with_points(self) -> RawLayer:
        """The same read with the points it holds as coordinates made, in the file's CRS."""
        if self.xy is None:
            return self
        from geo_township.io.xy import points_in

        geometry = gpd.GeoSeries(points_in(self.xy), index=self.gdf.index, crs=self.gdf.crs)
        return replace(self, gdf=self.gdf.set_geometry(geometry), xy=None)


def read_vector(path: str | Path, *, layer: str | None = None, encoding: str | None = None,
                geometry: str | None = None, points_as_xy: bool = False) -> RawLayer:
    """Read any supported vector file.

    Parameters
    ----------
    path:
        The file. Its suffix chooses the reader.
    layer:
        A layer inside a GeoPackage, File Geodatabase (a ``.gdb`` folder) or KML, or a
        sheet of an XLSX.
    encoding:
        Text encoding, when the file does not say (e.g. ``"gbk"`` for an old CSV).
    geometry:
        The expected geometry family (``"Point"``, ``"LineString"``, ``"Polygon"``), used
        to choose between the waypoint and track layers of a GPX file.
    points_as_xy:
        A layer of single 2-D points (a GeoPackage, Shapefile …) may come back as
        coordinates (``RawLayer.xy``) with its geometries missing, so they are made once, in
        the CRS they are worked in; any other layer comes back as usual.
    """
    path = Path(path)
    if not path.exists():
        raise LayerReadError("file not found", path=path,
                             hint="check the path in township.toml (it is relative to that file)",
                             message_zh="找不到文件", hint_zh="请检查 township.toml 中的路径(相对于该文件所在文件夹)")
    if path.is_dir():
        if path.suffix.lower() == GDB_SUFFIX:
            return _read_gdb(path, layer)
        raise LayerReadError("is a folder, not a file", path=path, hint="name the file inside it",
                             message_zh="这是文件夹，不是文件", hint_zh="请写出文件夹里的文件名")
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return read_table_points(path, sheet=layer, encoding=encoding)
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path)
    if suffix in GDAL_SUFFIXES:
        return _read_gdal(path, layer=layer, encoding=encoding, geometry=geometry, points_as_xy=points_as_xy)
    raise LayerReadError(
        f"unsupported file type {suffix or '(no suffix)'}", path=path,
        hint="use a GeoPackage, Shapefile, GeoJSON, KML/KMZ, GPX, GeoParquet, CSV or XLSX file",
        message_zh=f"不支持的文件类型 {suffix or '(无后缀)'}",
        hint_zh="请使用 GeoPackage、Shapefile、GeoJSON、KML/KMZ、GPX、GeoParquet、CSV 或 XLSX 文件",
    )


# --------------------------------------------------------------------------- File Geodatabase


def _read_gdb(path: Path, layer: str | None) -> RawLayer:
    """One feature class of a File Geodatabase (:mod:`geo_township.io.gdb`), with its
    fields' aliases."""
    chosen = choose_gdb_layer(path, layer)
    gdf, aliases = read_gdb_layer(path, chosen)
    return RawLayer(gdf, path, chosen, aliases=aliases)


# --------------------------------------------------------------------------- GDAL formats


_UTF8_REASON = Text("no .cpg; the text decodes as UTF-8", "没有 .cpg 文件；文字可按 UTF-8 解码")


def detect_dbf_encoding(shp: Path) -> tuple[str | None, str]:
    """The encoding of a shapefile's attribute table when it has no ``.cpg``.

    Chinese desktop GIS writes GBK without saying so; GDAL would then read it as
    ISO-8859-1 and every Chinese value comes out garbled. Returns ``(encoding, reason)``;
    ``encoding`` is None when GDAL's own choice is right (a .cpg exists, or all ASCII).
    """
    for cpg in (shp.with_suffix(".cpg"), shp.with_suffix(".CPG")):
        if cpg.exists():
            return None, Text(f"{cpg.name} names the encoding", f"{cpg.name} 文件注明了编码")
    dbf = next((p for p in (shp.with_suffix(".dbf"), shp.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        return None, Text("no .dbf", "缺少 .dbf 文件")
    with dbf.open("rb") as fh:
        head = fh.read(32)
        sample = fh.read(4_000_000)
    ldid = head[29] if len(head) > 29 else 0
    if ldid in (0x4D, 0x7A):
        return "GBK", Text(f"the .dbf language driver byte (0x{ldid:02X}) says GBK",
                            f".dbf 的语言驱动字节(0x{ldid:02X})表明是 GBK")
    if not re.search(rb"[\x80-\xff]", sample):
        return None, Text("all text is ASCII", "文字全为 ASCII")
    try:
        sample.decode("utf-8")
        return "UTF-8", _UTF8_REASON
    except UnicodeDecodeError as exc:
        # A UTF-8 sequence cut at the end of the sample is still UTF-8.
        if exc.start > len(sample) - 4:
            return "UTF-8", _UTF8_REASON
    try:
        sample.decode("gb18030")
        return "GB18030", Text("no .cpg; the text is not UTF-8 but decodes as GBK/GB18030 (Chinese desktop GIS)",
                               "没有 .cpg 文件；文字不是 UTF-8，但可按 GBK/GB18030 解码(国产桌面 GIS 常见)")
    except UnicodeDecodeError:
        return None, Text("no .cpg and the text is neither UTF-8 nor GBK; read as ISO-8859-1",
                          "没有 .cpg 文件，文字既不是 UTF-8 也不是 GBK；按 ISO-8859-1 读取")


def _gdal_layers(path: Path | str) -> list[str]:
    import pyogrio

    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # noqa: BLE001 - pyogrio raises DataSourceError for corrupt files
        raise read_failure(Path(path), exc, prefix="cannot open the file: ") from None


#: Sources that can hold several layers with geometry, one of which an import reads.
MULTI_LAYER_SUFFIXES = (".gpkg", GDB_SUFFIX, ".sqlite")


def choose_source_layer(path: str | Path, layer: str | None, *, option: str = "--source-layer") -> str | None:
    """The layer of a multi-layer source (GeoPackage, File Geodatabase) to read: ``layer``
    when the file has it, else its only layer with geometry (tables without geometry,
    such as an import history, do not count). Several layers and none named, or a name
    the file lacks, is an error listing the layers and saying to pass ``option``. Other
    files: ``layer`` unchanged (a GPX file's waypoints or tracks are chosen by the kind)."""
    import pyogrio

    path = Path(path)
    if path.suffix.lower() not in MULTI_LAYER_SUFFIXES or not path.exists():
        return layer
    try:
        listed = pyogrio.list_layers(path)
    except Exception as exc:  # noqa: BLE001 - pyogrio raises DataSourceError for corrupt files
        raise read_failure(path, exc, prefix="cannot open the file: ") from None
    names = [str(name) for name, _ in listed]
    spatial = [str(name) for name, kind in listed if kind is not None]
    shown = ", ".join(spatial or names)
    if layer is not None:
        if layer not in names:
            raise LayerReadError(f"no layer {layer!r} in the file", path=path,
                                 hint=f"pass {option} with one of its layers: {shown}",
                                 message_zh=f"文件中没有图层 {layer!r}",
                                 hint_zh=f"请用 {option} 指定文件中的一个图层：" + "、".join(spatial or names))
        return layer
    if len(spatial) == 1:
        return spatial[0]
    if not spatial:
        raise LayerReadError("the file holds no layer with geometry", path=path,
                             hint=f"tables in it: {shown}; export the features to a layer with geometry",
                             message_zh="文件中没有带几何的图层",
                             hint_zh="文件中的表：" + "、".join(names) + "；请导出带几何的图层")
    raise LayerReadError(f"the file holds {len(spatial)} layers ({shown}) and none was chosen", path=path,
                         hint=f"pass {option} NAME with one of: {shown}",
                         message_zh=f"文件中有 {len(spatial)} 个图层（" + "、".join(spatial) + "），未指明导入哪一个",
                         hint_zh=f"请用 {option} 图层名 指定其中一个：" + "、".join(spatial))


@dataclass
class GdalSource:
    """What to read from a file GDAL opens, settled before reading any feature: the source
    (a KMZ's KML inside it), the layers to read, the text encoding (None: GDAL's own
    choice) and the notes worth telling the user (an encoding detected)."""

    path: Path
    source: Path | str
    layers: list[str | None]
    encoding: str | None
    notes: list[str]


def open_gdal(path: Path, *, layer: str | None = None, encoding: str | None = None,
              geometry: str | None = None) -> GdalSource:
    """The rules every read of a GDAL file follows before its features: a shapefile's parts
    are all there and its encoding is detected (:func:`detect_dbf_encoding`) when not given;
    the layer named exists, or the file holds one (a GPX file's waypoints or tracks as
    ``geometry`` asks, every folder of a KML). A :class:`LayerReadError` says what is wrong."""
    import pyogrio

    suffix = path.suffix.lower()
    notes: list[str] = []
    if suffix == ".shp":
        for part in (".shx", ".dbf"):
            if not path.with_suffix(part).exists() and not path.with_suffix(part.upper()).exists():
                raise LayerReadError(f"the shapefile's {part} file is missing", path=path,
                                     hint=f"copy {path.stem}{part} next to {path.name}: a shapefile is "
                                     ".shp, .shx and .dbf (and .prj, .cpg) together",
                                     message_zh=f"缺少 shapefile 的 {part} 文件",
                                     hint_zh=f"请把 {path.stem}{part} 复制到 {path.name} 旁边：shapefile 由 "
                                     ".shp、.shx、.dbf(以及 .prj、.cpg)几个文件一起组成")
        check_shapefile_lengths(path)
        if encoding is None:
            encoding, reason = detect_dbf_encoding(path)
            if encoding:
                notes.append(Text(f"text read as {encoding}: {reason}",
                                  f"按 {encoding} 编码解读文字({text_in(reason, 'zh')})"))
    source: Path | str = path
    if suffix == ".kmz":  # LIBKML ignores a KMZ's schema (ExtendedData fields); read the KML inside instead
        source = _kml_in_kmz(path)
    layers = _gdal_layers(source)
    chosen: list[str | None]
    if layer is not None:
        if layer not in layers:
            raise LayerReadError(f"no layer {layer!r} in the file", path=path,
                                 hint="layers in it: " + ", ".join(layers),
                                 message_zh=f"文件中没有图层 {layer!r}", hint_zh="文件中的图层：" + "、".join(layers))
        chosen = [layer]
    elif suffix == ".gpx":
        wanted = ("tracks", "routes") if geometry == "LineString" else ("waypoints", "track_points")
        present = [name for name in wanted if name in layers]
        filled = [name for name in present if pyogrio.read_info(path, layer=name)["features"] > 0]
        chosen = [*(filled or present)[:1]] or [None]
    elif suffix in (".kml", ".kmz"):
        chosen = list(layers)  # none: a document without placemarks, read as an empty layer
    elif len(layers) > 1:
        raise LayerReadError(
            f"the file holds {len(layers)} layers and township.toml does not say which to use", path=path,
            hint='add layer = "NAME" to this layer in township.toml; layers in it: ' + ", ".join(layers),
            message_zh=f"文件中有 {len(layers)} 个图层，township.toml 没有指明用哪一个",
            hint_zh='请在 township.toml 该图层下加 layer = "图层名"；文件中的图层：' + "、".join(layers),
        )
    else:
        chosen = [None]
    return GdalSource(path, source, chosen, encoding, notes)


def _read_gdal(path: Path, *, layer: str | None, encoding: str | None, geometry: str | None,
               points_as_xy: bool = False) -> RawLayer:
    import pyogrio

    suffix = path.suffix.lower()
    opened = open_gdal(path, layer=layer, encoding=encoding, geometry=geometry)
    source, chosen, encoding, notes = opened.source, opened.layers, opened.encoding, opened.notes
    if points_as_xy and geometry == "Point" and encoding is None and len(chosen) == 1 and suffix in XY_SUFFIXES:
        read = _read_points_xy(source, chosen[0])
        if read is not None:
            return RawLayer(read[0], path, layer, encoding, notes, xy=read[1])
    if suffix == ".gpx":
        layer = chosen[0]
    frames = []
    for name in chosen:
        if suffix in (".kml", ".kmz") and _feature_count(source, name) == 0:
            continue  # a folder or document without placemarks (the Arrow reader fails on it)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                try:
                    gdf = pyogrio.read_dataframe(source, layer=name, encoding=encoding,
                                                 use_arrow=encoding is None and suffix not in NO_ARROW_SUFFIXES)
                except UnicodeDecodeError:
                    # e.g. a UTF-8 shapefile whose field names were cut mid-character at 10 bytes
                    gdf = _read_recoded(source, name, encoding or _declared_encoding(path))
                    notes.append(Text("some field names or values end in a broken character (cut at the "
                                      "shapefile's 10-byte limit); the broken bytes were dropped",
                                      "部分字段名或取值末尾有残缺字符(被 shapefile 的 10 字节上限截断)；"
                                      "残缺的字节已去掉"))
        except Exception as exc:  # noqa: BLE001 - any GDAL/driver failure becomes a message naming the file
            raise read_failure(path, exc, prefix="cannot read the file: ",
                               where=f"layer {name}" if name else None) from None
        if len(gdf):
            frames.append(gdf)
    if not frames:
        return RawLayer(gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=None)), path, layer, encoding, notes)
    gdf = frames[0] if len(frames) == 1 else gpd.GeoDataFrame(pd.concat(frames, ignore_index=True),
                                                              crs=frames[0].crs)
    if suffix in (".kml", ".kmz"):
        gdf = _drop_kml_housekeeping(gdf)
    if suffix in (".kml", ".kmz", ".gpx"):  # GPS apps pad names with CDATA whitespace
        for col in gdf.columns:
            if col != gdf.geometry.name and pd.api.types.is_string_dtype(gdf[col]):
                gdf[col] = gdf[col].str.strip()
    if suffix == ".gpx":
        gdf = _gpx_dates(path, gdf, layer)
    return RawLayer(gdf, path, layer, encoding, notes)


NO_ARROW_SUFFIXES = {".fgb"}
"""Files not read through GDAL's Arrow interface: its FlatGeobuf reader hands a feature
without geometry over as a broken array, on which pyarrow crashes the process."""

XY_SUFFIXES = {".gpkg", ".shp", ".zip"}
"""Files whose point layers :func:`_read_gdal` may hand over as coordinates: read twice (the
fields, then the coordinates), which costs little in these binary formats; not GeoJSON (its
text parsed twice cost more than the points saved), KML or GPX (their placemarks and
waypoints are tidied after the read)."""


def _read_points_xy(source: Path | str, layer: str | None) -> tuple[gpd.GeoDataFrame, np.ndarray] | None:
    """A layer of single 2-D points as its fields (geometry missing) and its coordinates
    (:func:`geo_township.io.xy.wkb_point_xy`); None when any feature is not such a point, or
    the fields cannot be read this way (the usual read then says why)."""
    import pyogrio

    from geo_township.io.xy import wkb_point_xy

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fields = pyogrio.read_dataframe(source, layer=layer, read_geometry=False, use_arrow=True)
            meta, table = pyogrio.read_arrow(source, layer=layer, columns=[])
            xy = wkb_point_xy(table.column(meta["geometry_name"] or "wkb_geometry")) if table.num_columns else None
            del table
            if xy is None:
                return None
    except Exception:  # noqa: BLE001 - the usual read reports any real failure, naming the file
        return None
    if len(fields) != len(xy):
        return None
    geometry = gpd.GeoSeries(np.full(len(xy), None, dtype=object), index=fields.index, crs=meta["crs"])
    return gpd.GeoDataFrame(fields, geometry=geometry, crs=meta["crs"]), xy


def _feature_count(source: Path | str, layer: str | None) -> int | None:
    """How many features GDAL counts in a layer, or None when it cannot tell."""
    import pyogrio

    try:
        return int(pyogrio.read_info(source, layer=layer)["features"])
    except Exception:  # noqa: BLE001 - the read that follows reports any real failure
        return None


def _declared_encoding(path: Path) -> str:
    cpg = path.with_suffix(".cpg")
    if cpg.exists():
        text = cpg.read_text(errors="ignore").strip()
        return {"65001": "utf-8", "936": "gbk"}.get(text, text or "utf-8")
    return "utf-8"


def _read_recoded(source, layer: str | None, encoding: str) -> gpd.GeoDataFrame:
    """Read with a byte-preserving encoding, then decode names and text ourselves,
    dropping undecodable bytes instead of failing."""
    import pyogrio

    gdf = pyogrio.read_dataframe(source, layer=layer, encoding="latin1", use_arrow=False)

    def fix(text):
        if not isinstance(text, str):
            return text
        return text.encode("latin1").decode(encoding, errors="ignore")

    gdf = gdf.rename(columns={c: fix(c) for c in gdf.columns if c != gdf.geometry.name})
    for col in gdf.columns:
        if col != gdf.geometry.name and not pd.api.types.is_numeric_dtype(gdf[col]):
            gdf[col] = gdf[col].map(fix)
    return gdf


def _kml_in_kmz(path: Path) -> str:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            members = [n for n in zf.namelist() if n.lower().endswith(".kml")]
    except zipfile.BadZipFile:
        if is_empty_file(path):
            raise read_failure(path, "", prefix="cannot open the file: ") from None
        raise LayerReadError("the KMZ file is not a valid zip archive", path=path,
                             hint="export it again from the GPS app, or save it as .kml",
                             message_zh="KMZ 文件不是有效的压缩包",
                             hint_zh="请从 GPS 软件重新导出，或另存为 .kml") from None
    if not members:
        raise LayerReadError("the KMZ file holds no .kml document", path=path, hint="export it again as .kml",
                             message_zh="KMZ 文件里没有 .kml 文档", hint_zh="请重新导出为 .kml")
    member = "doc.kml" if "doc.kml" in members else members[0]
    return f"/vsizip/{path.resolve()}/{member}"


def _drop_kml_housekeeping(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    drop = [c for c in KML_HOUSEKEEPING if c in gdf.columns]
    if "description" in gdf.columns and gdf["description"].fillna("").astype(str).str.strip().eq("").all():
        drop.append("description")
    return gdf.drop(columns=drop)


def _gpx_dates(path: Path, gdf: gpd.GeoDataFrame, layer: str | None) -> gpd.GeoDataFrame:
    """Give each GPX track the time of its first point (tracks carry no time of their own)."""
    if layer not in ("tracks", "routes") or "time" in gdf.columns:
        return gdf
    import pyogrio

    pts_layer = "track_points" if layer == "tracks" else "route_points"
    try:
        pts = pyogrio.read_dataframe(path, layer=pts_layer, columns=["track_fid" if layer == "tracks"
                                                                     else "route_fid", "time"],
                                     read_geometry=False)
    except Exception:  # noqa: BLE001 - no points layer or no time: the tracks stay without a date
        return gdf
    fid = "track_fid" if layer == "tracks" else "route_fid"
    if "time" not in pts.columns or pts["time"].isna().all():
        return gdf
    first = pts.dropna(subset=["time"]).groupby(fid)["time"].first()
    gdf = gdf.copy()
    gdf["time"] = pd.Series(range(len(gdf))).map(first).to_numpy()
    return gdf


def _read_parquet(path: Path) -> RawLayer:
    try:
        gdf = gpd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any GDAL/driver failure becomes a message naming the file
        raise read_failure(path, exc, prefix="cannot read the GeoParquet file: ",
                           fallback_hint="write it again with GeoPandas' to_parquet or GDAL >= 3.8") from None
    return RawLayer(gdf, path)


# --------------------------------------------------------------------------- CSV / XLSX


def read_table_points(path: Path, *, sheet: str | None = None, encoding: str | None = None) -> RawLayer:
    """Read a CSV or XLSX table whose rows are points with coordinate columns.

    Coordinate columns are found by name (经度/纬度, lon/lat, 东坐标/北坐标, x/y …; the rule
    of :func:`geo_township.io.points.locate_coordinates`) or a WKT column. Surveyors' X/Y
    (X = north in Chinese practice) and swapped lon/lat are recognised by their values and
    put right, with a note. Row numbers in messages are the lines a user sees in Excel
    (header = line 1). A row with a coordinate that is not a number refuses the file; rows
    without coordinates are left out and listed.
    """
    table = read_point_table(path, sheet=sheet, encoding=encoding)
    df, rows, coords = table.table, table.lines, table.coords
    if coords is None:
        wkt_col = find_column(df.columns, WKT_NAMES)
        if wkt_col is not None:
            return _wkt_table(path, df, wkt_col, rows, table.encoding, table.notes)
        raise LayerReadError(
            "no coordinate columns found", path=path,
            hint="name them 经度/纬度 or lon/lat (degrees), or 东坐标/北坐标 or x/y (metres); columns in the "
            "file: " + ", ".join(map(str, df.columns)),
            message_zh="找不到坐标列",
            hint_zh="请把列名写成 经度/纬度 或 lon/lat(度)，或 东坐标/北坐标 或 x/y(米)；文件中的列："
            + "、".join(map(str, df.columns)),
        )
    _refuse_bad_coordinates(table)
    notes = list(table.notes) + ([coords.note] if coords.note else [])
    x, y = coords.x, coords.y
    missing = ~np.isfinite(x) | ~np.isfinite(y)
    dropped = None
    if missing.any():
        dropped = df[missing].copy()
        dropped["row"] = rows[missing].to_numpy()
        dropped["reason"] = "no coordinates"
        lines = rows[missing].tolist()
        more = " …" if len(lines) > 10 else ""
        notes.append(Text(f"{len(lines)} row(s) without coordinates left out: "
                          + ", ".join(f"line {n}" for n in lines[:10]) + more,
                          f"{len(lines)} 行没有坐标，未计入：" + "、".join(f"第 {n} 行" for n in lines[:10]) + more))
    keep = ~missing
    attrs = table.attributes[keep].reset_index(drop=True)
    attrs["source_row"] = rows[keep].to_numpy()
    gdf = gpd.GeoDataFrame(attrs, geometry=gpd.points_from_xy(x[keep], y[keep]), crs=None)
    return RawLayer(gdf, path, sheet, table.encoding, notes, dropped)


def _refuse_bad_coordinates(table: PointTable) -> None:
    """A layer's coordinates must all be numbers: name the lines that are not."""
    coords, df = table.coords, table.table
    assert coords is not None  # called only once the coordinate columns are known
    bad = coords.bad
    if not bad.any():
        return
    xcol, ycol = coords.named
    lines = table.lines[bad].tolist()
    more = " …" if len(lines) > 5 else ""
    sample = ", ".join(f"line {n}" for n in lines[:5]) + more
    sample_zh = "、".join(f"第 {n} 行" for n in lines[:5]) + more
    example = f"{df[xcol][bad].iloc[0]!r}, {df[ycol][bad].iloc[0]!r}"
    raise LayerReadError(
        f"{len(lines)} row(s) have coordinates that are not numbers ({sample}; e.g. {example})", path=table.path,
        hint=f"write {xcol}/{ycol} as decimal numbers such as 117.512345 or as 117°30'44\"",
        message_zh=f"{len(lines)} 行的坐标不是数字({sample_zh}；例如 {example})",
        hint_zh=f"请把 {xcol}/{ycol} 写成 117.512345 这样的小数，或 117°30'44\" 这样的度分秒",
    )


def _wkt_table(path: Path, df: pd.DataFrame, col: str, rows: pd.Series, encoding: str | None,
               notes: list[str]) -> RawLayer:
    import shapely

    text = df[col]
    geoms = shapely.from_wkt(text.fillna("").to_numpy(dtype=object), on_invalid="ignore")
    bad = shapely.is_missing(geoms) & text.notna().to_numpy()
    if bad.any():
        lines = rows[bad].tolist()
        raise LayerReadError(f"{len(lines)} row(s) hold text that is not WKT geometry (line {lines[0]} …)",
                             path=path, where=f"column {col}",
                             hint="write geometries as WKT, e.g. POINT (117.5 30.5)",
                             message_zh=f"{len(lines)} 行的内容不是 WKT 图形(第 {lines[0]} 行 …)",
                             hint_zh="请把图形写成 WKT，例如 POINT (117.5 30.5)")
    attrs = df.drop(columns=[col]).reset_index(drop=True)
    attrs["source_row"] = rows.to_numpy()
    return RawLayer(gpd.GeoDataFrame(attrs, geometry=geoms, crs=None), path, None, encoding, list(notes))
