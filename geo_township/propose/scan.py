"""What GIS files a folder holds, from their metadata only: each vector layer's geometry,
fields, feature count and CRS; each table's header and coordinate columns; each GeoTIFF's
grid. Nothing is read in full, so a township's files are scanned in about a second.

Files the tool cannot read as they are (a File Geodatabase folder, a damaged file) are
returned as :class:`Unreadable`, to be mapped by hand.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from geo_township.io.points import (
    EAST_NAMES,
    LAT_NAMES,
    LON_NAMES,
    NORTH_NAMES,
    TABLE_SUFFIXES,
    WKT_NAMES,
    sniff_separator,
)
from geo_township.io.read import GDAL_SUFFIXES, KML_HOUSEKEEPING, PARQUET_SUFFIXES, detect_dbf_encoding
from geo_township.vocabulary import normalise_name

RASTER_SUFFIXES = {".tif", ".tiff"}
#: How deep below the folder files are looked for (the folder itself is depth 0).
MAX_DEPTH = 3
#: Rows of a table read to tell its coordinate system (the header is found in the first 10).
SAMPLE_ROWS = 50
SKIPPED_FOLDERS = {"maps", "__MACOSX", "__pycache__"}


class Words(NamedTuple):
    """One text in English and Chinese."""

    en: str
    zh: str


@dataclass
class Source:
    """One vector layer (or table sheet) that could become a ``[layers.KIND]`` table."""

    path: Path
    rel: str  # the path relative to the folder, with forward slashes (as township.toml writes it)
    layer: str | None  # the layer or sheet to name in township.toml; None when the reader chooses it
    family: str | None  # "Point", "LineString" or "Polygon"; None when unknown
    columns: list[str]
    features: int | None
    crs: str | None = None  # the file's own CRS, e.g. "EPSG:4490"; None when it names none
    encoding: str | None = None  # to write into township.toml (a CSV that is not UTF-8)
    derived: dict[str, Words] = field(default_factory=dict)  # columns the reader adds, and how
    bounds: tuple[float, float, float, float] | None = None  # in the file's CRS (or raw coordinates)
    sample_xy: tuple[list[float], list[float]] | None = None  # a table's first coordinates

    @property
    def label(self) -> str:
        """The file and, when it holds several, the layer."""
        return f"{self.rel} ({self.layer})" if self.layer else self.rel


@dataclass
class RasterSource:
    """A GeoTIFF: its grid as read from the header."""

    path: Path
    rel: str
    bands: int
    width: int
    height: int
    dtype: str
    res: tuple[float, float]
    crs: str
    nodata: float | None
    geographic: bool = False  # pixel sizes in degrees


@dataclass
class Unreadable:
    """A file or folder the tool cannot use as it is, and why (to be mapped by hand)."""

    rel: str
    reason: Words
    layers: list[str] = field(default_factory=list)  # what GDAL sees inside, when it can open it


@dataclass
class Scan:
    """Everything found in a folder."""

    sources: list[Source] = field(default_factory=list)
    rasters: list[RasterSource] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    skipped: list[Unreadable] = field(default_factory=list)  # tables without coordinates and the like


def scan_folder(folder: Path) -> Scan:
    """Scan ``folder`` (and sub-folders down to :data:`MAX_DEPTH`) for GIS files."""
    scan = Scan()
    for path in _candidates(folder):
        rel = path.relative_to(folder).as_posix()
        suffix = path.suffix.lower()
        if path.is_dir():
            scan.unreadable.append(_geodatabase(path, rel))
        elif suffix in RASTER_SUFFIXES:
            _add_raster(scan, path, rel)
        elif suffix in TABLE_SUFFIXES:
            _add_table(scan, path, rel)
        else:
            _add_vector(scan, path, rel)
    return scan


def _candidates(folder: Path, depth: int = 0) -> list[Path]:
    """GIS files and .gdb folders, in name order; hidden files, Office lock files and the
    map output folder are passed over."""
    wanted = GDAL_SUFFIXES | PARQUET_SUFFIXES | TABLE_SUFFIXES | RASTER_SUFFIXES
    found: list[Path] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name.lower()):
        if entry.name.startswith((".", "~$")):
            continue
        if entry.is_dir():
            if entry.suffix.lower() == ".gdb":
                found.append(entry)
            elif depth < MAX_DEPTH and entry.name not in SKIPPED_FOLDERS:
                found.extend(_candidates(entry, depth + 1))
        elif entry.suffix.lower() in wanted:
            found.append(entry)
    return found


# --------------------------------------------------------------------------- vector files


def _family(geometry_type: str | None) -> str | None:
    """Point / LineString / Polygon from a GDAL geometry type name (None when unknown)."""
    text = (geometry_type or "").lower()
    for family, word in (("Polygon", "polygon"), ("LineString", "line"), ("Point", "point")):
        if word in text:
            return family
    return None


def _first_geometry_family(source: str | Path, layer: str | None) -> str | None:
    """The geometry of a layer's first feature (KML layers declare none)."""
    import pyogrio

    try:
        gdf = pyogrio.read_dataframe(source, layer=layer, max_features=1, columns=[])
    except Exception:  # noqa: BLE001 - a layer that cannot be read stays of unknown geometry
        return None
    return _family(gdf.geometry.iloc[0].geom_type) if len(gdf) else None


def _crs_text(crs: str | None) -> str | None:
    if not crs:
        return None
    from pyproj import CRS

    try:
        epsg = CRS.from_user_input(crs).to_epsg()
    except Exception:  # noqa: BLE001 - an unusual CRS is shown as the file gives it
        return crs
    return f"EPSG:{epsg}" if epsg else crs


def _info(source: str | Path, layer: str | None, encoding: str | None = None, *, bounds: bool = True) -> dict:
    import pyogrio

    kwargs = {"encoding": encoding} if encoding else {}
    return pyogrio.read_info(source, layer=layer, force_feature_count=True, force_total_bounds=bounds, **kwargs)


def _add_vector(scan: Scan, path: Path, rel: str) -> None:
    """Every layer of a GDAL-readable file (or GeoParquet) with geometry."""
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        _add_parquet(scan, path, rel)
        return
    encoding = None
    if suffix == ".shp":
        missing = [part for part in (".shx", ".dbf")
                   if not path.with_suffix(part).exists() and not path.with_suffix(part.upper()).exists()]
        if missing:
            scan.unreadable.append(Unreadable(rel, Words(
                f"the shapefile's {missing[0]} file is missing (copy it next to {path.name})",
                f"缺少 Shapefile 的 {missing[0]} 文件（请复制到 {path.name} 旁边）")))
            return
        encoding, _ = detect_dbf_encoding(path)
    source: str | Path = _kml_inside(path) if suffix == ".kmz" else path
    try:
        import pyogrio

        layers = [(str(name), gtype) for name, gtype in pyogrio.list_layers(source)]
    except Exception:  # noqa: BLE001 - not a GIS file after all (a plain .json), or damaged
        scan.skipped.append(Unreadable(rel, Words("GDAL cannot open it as a GIS file",
                                                  "GDAL 无法将其作为 GIS 文件打开")))
        return
    if suffix in (".kml", ".kmz"):
        _add_kml(scan, path, rel, source, [name for name, _ in layers])
    elif suffix == ".gpx":
        _add_gpx(scan, path, rel)
    else:
        spatial = [(name, gtype) for name, gtype in layers if gtype is not None]
        for name, _ in spatial:
            info = _info(source, name, encoding)
            family = _family(info["geometry_type"]) or _first_geometry_family(source, name)
            scan.sources.append(Source(path, rel, name if len(spatial) > 1 else None, family,
                                       [str(c) for c in info["fields"]], _count(info),
                                       _crs_text(info["crs"]), bounds=_bounds(info)))


def _count(info: dict) -> int | None:
    return int(info["features"]) if info.get("features", -1) >= 0 else None


def _bounds(info: dict) -> tuple[float, float, float, float] | None:
    bounds = info.get("total_bounds")
    if bounds is None:
        return None
    xmin, ymin, xmax, ymax = (float(b) for b in bounds)
    return xmin, ymin, xmax, ymax


def _kml_inside(path: Path) -> str:
    """The KML document inside a KMZ, as GDAL reads it (as the loader does)."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = [n for n in zf.namelist() if n.lower().endswith(".kml")]
    except zipfile.BadZipFile:
        return str(path)
    member = "doc.kml" if "doc.kml" in members else (members[0] if members else "")
    return f"/vsizip/{path.resolve()}/{member}" if member else str(path)


def _add_kml(scan: Scan, path: Path, rel: str, source: str | Path, layers: list[str]) -> None:
    """A KML/KMZ is read as one layer (all its folders together), as the loader does."""
    columns: list[str] = []
    features = 0
    family = None
    crs = None
    for name in layers:
        info = _info(source, name)
        features += max(int(info["features"]), 0)
        crs = crs or _crs_text(info["crs"])
        columns += [str(c) for c in info["fields"] if c not in columns and c not in KML_HOUSEKEEPING]
        if family is None and info["features"]:
            family = _family(info["geometry_type"]) or _first_geometry_family(source, name)
    scan.sources.append(Source(path, rel, None, family, columns, features, crs))


def _add_gpx(scan: Scan, path: Path, rel: str) -> None:
    """A GPX file's tracks (or routes) as lines and its waypoints as points, when filled."""
    infos = {name: _info(path, name, bounds=False) for name in ("tracks", "routes", "waypoints")}
    lines = [name for name in ("tracks", "routes") if infos[name]["features"] > 0]
    if lines:
        info = infos[lines[0]]
        derived = {"time": Words("the time of each track's first point, when the GPS recorded it",
                                 "每条轨迹第一个点的时间（GPS 记录时）")}
        scan.sources.append(Source(path, rel, None, "LineString", [str(c) for c in info["fields"]], _count(info),
                                   _crs_text(info["crs"]), derived=derived))
    info = infos["waypoints"]
    if info["features"] > 0:
        scan.sources.append(Source(path, rel, None, "Point", [str(c) for c in info["fields"]], _count(info),
                                   _crs_text(info["crs"])))


def _add_parquet(scan: Scan, path: Path, rel: str) -> None:
    """A GeoParquet file: columns and geometry types from its schema's "geo" metadata."""
    import json

    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        meta = json.loads((schema.metadata or {}).get(b"geo", b"{}"))
        rows = pq.ParquetFile(path).metadata.num_rows
    except Exception:  # noqa: BLE001 - damaged or not GeoParquet
        scan.unreadable.append(Unreadable(rel, Words("cannot be read as GeoParquet", "无法作为 GeoParquet 读取")))
        return
    geometry = meta.get("primary_column", "geometry")
    column = meta.get("columns", {}).get(geometry, {})
    types = column.get("geometry_types") or []
    crs = column.get("crs")
    crs_text = "EPSG:4326" if "crs" not in column else (_crs_text(json.dumps(crs)) if crs else None)
    scan.sources.append(Source(path, rel, None, _family(types[0]) if types else None,
                               [n for n in schema.names if n != geometry], rows, crs_text))


def _geodatabase(path: Path, rel: str) -> Unreadable:
    """A File Geodatabase folder: the loader reads files, so its layers are exported by hand."""
    import pyogrio

    try:
        layers = [f"{name} ({gtype or 'table'})" for name, gtype in pyogrio.list_layers(path)]
    except Exception:  # noqa: BLE001 - GDAL cannot open this geodatabase
        layers = []
    how = Words("export each layer to a GeoPackage (QGIS: Export > Save Features As; ArcGIS: Feature Class To "
                "Feature Class), put it in this folder and add it here",
                "请把各图层导出为 GeoPackage（QGIS：导出 > 要素另存为；ArcGIS：要素类至要素类），"
                "放入本文件夹后在此添加")
    if layers:
        return Unreadable(rel, Words("a File Geodatabase (a folder), which the tool does not read directly: "
                                     + how.en, "文件地理数据库（文件夹），本工具不能直接读取：" + how.zh), layers)
    return Unreadable(rel, Words("a File Geodatabase that GDAL cannot open (perhaps a newer ArcGIS version or "
                                 "damaged): " + how.en,
                                 "GDAL 无法打开的文件地理数据库（可能版本较新或已损坏）：" + how.zh))


# --------------------------------------------------------------------------- rasters


def _add_raster(scan: Scan, path: Path, rel: str) -> None:
    """A GeoTIFF's grid, read from its header by the raster module."""
    from geo_township.config import RasterSpec
    from geo_township.errors import TownshipError
    from geo_township.raster import open_raster, raster_info

    spec = RasterSpec(path.stem, path)
    try:
        ds = open_raster(spec)
        try:
            info = raster_info(ds, spec)
            bands = ds.count
        finally:
            ds.close()
    except TownshipError as exc:
        scan.unreadable.append(Unreadable(rel, Words(exc.message, exc.message)))
        return
    scan.rasters.append(RasterSource(path, rel, bands, info.width, info.height, info.dtype, info.res,
                                     _crs_text(info.crs.to_string()) or info.crs.to_string(), info.nodata,
                                     info.crs.is_geographic))


# --------------------------------------------------------------------------- tables


def _column_named(columns: list[str], names) -> str | None:
    """The first column whose folded name is one of ``names`` (in the order of ``names``)."""
    folded = {normalise_name(c): c for c in columns}
    for name in names:
        if normalise_name(name) in folded:
            return folded[normalise_name(name)]
    return None


def _coordinate_columns(columns: list[str]) -> tuple[str, str] | tuple[str] | None:
    """(x, y) coordinate columns as the loader finds them, (wkt,) for a WKT column, or None."""
    lon, lat = _column_named(columns, LON_NAMES), _column_named(columns, LAT_NAMES)
    if lon and lat:
        return lon, lat
    east, north = _column_named(columns, EAST_NAMES), _column_named(columns, NORTH_NAMES)
    if east and north:
        return east, north
    wkt = _column_named(columns, WKT_NAMES)
    return (wkt,) if wkt else None


def _add_table(scan: Scan, path: Path, rel: str) -> None:
    """Each sheet (or the CSV) whose header names coordinate columns is a point layer."""
    suffix = path.suffix.lower()
    try:
        sheets = _excel_sheets(path) if suffix in (".xlsx", ".xlsm", ".xls") else [_csv_head(path)]
    except Exception:  # noqa: BLE001 - a workbook or text file that cannot be opened
        scan.unreadable.append(Unreadable(rel, Words("cannot be opened as a table", "无法作为表格打开")))
        return
    for sheet, columns, rows, count, encoding in sheets:
        coords = _coordinate_columns(columns)
        if coords is None:
            if suffix != ".txt":
                where = f" (sheet {sheet})" if sheet else ""
                scan.skipped.append(Unreadable(rel, Words(
                    f"a table without coordinate columns{where}: name them 经度/纬度 or lon/lat (degrees), or "
                    "东坐标/北坐标 or x/y (metres)",
                    f"表格{('（工作表 ' + sheet + '）') if sheet else ''}没有坐标列："
                    "请命名为 经度/纬度 或 lon/lat（度），"
                    "或 东坐标/北坐标、x/y（米）")))
            continue
        source = Source(path, rel, sheet if len(sheets) > 1 else None, "Point",
                        [c for c in columns if c and c not in coords], count, None, encoding)
        if len(coords) == 1:
            source.family = _wkt_family(rows, columns.index(coords[0]))
        else:
            source.sample_xy = _numbers(rows, columns.index(coords[0]), columns.index(coords[1]))
        scan.sources.append(source)


def _numbers(rows: list[list], ix: int, iy: int) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for row in rows:
        try:
            x, y = float(str(row[ix]).replace(",", "")), float(str(row[iy]).replace(",", ""))
        except (TypeError, ValueError, IndexError):
            continue
        xs.append(x)
        ys.append(y)
    return xs, ys


def _wkt_family(rows: list[list], index: int) -> str | None:
    for row in rows:
        text = str(row[index] or "").strip() if index < len(row) else ""
        if text:
            return _family(text.split("(")[0])
    return None


def _csv_head(path: Path) -> tuple[None, list[str], list[list], int, str | None]:
    """The header, the first rows, the row count and (when not UTF-8) the encoding of a CSV."""
    import pandas as pd

    with path.open("rb") as fh:
        head = fh.read(256 * 1024)
        newlines, last = head.count(b"\n"), head[-1:]
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            newlines, last = newlines + chunk.count(b"\n"), chunk[-1:]
    lines = newlines + (1 if last not in (b"\n", b"") else 0)
    head = head[: head.rfind(b"\n") + 1] or head  # whole lines only
    encoding = None
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        text, encoding = head.decode("gb18030", errors="replace"), "gbk"
    first = text.splitlines()[0] if text.strip() else ""
    sep = "\t" if path.suffix.lower() == ".tsv" else sniff_separator(first)
    frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, nrows=SAMPLE_ROWS)
    columns = [str(c).strip() for c in frame.columns]
    return None, columns, frame.to_numpy().tolist(), max(lines - 1, 0), encoding


def _excel_sheets(path: Path) -> list[tuple[str, list[str], list[list], int, None]]:
    """Each sheet's header (the first of its top 10 rows that names coordinates, as the
    loader finds it), first rows and row count."""
    import openpyxl

    wanted = {normalise_name(n) for n in (*LON_NAMES, *LAT_NAMES, *EAST_NAMES, *NORTH_NAMES, *WKT_NAMES)}
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheets = []
    try:
        for ws in book.worksheets:
            top = [list(r) for r in ws.iter_rows(max_row=10 + SAMPLE_ROWS, values_only=True)]
            header = 0
            for i, row in enumerate(top[:10]):
                cells = {normalise_name(v) for v in row if v is not None}
                if cells & wanted and len(cells) >= 2:
                    header = i
                    break
            columns = ["" if c is None else str(c).strip() for c in (top[header] if top else [])]
            sheets.append((ws.title, columns, top[header + 1:], max((ws.max_row or 0) - header - 1, 0), None))
    finally:
        book.close()
    return sheets
