"""Plain words for why a file cannot be read.

GDAL, SQLite, libtiff and the zip reader say what failed inside them ("not recognized as
being in a supported file format … 'CSV:path'", "sqlite3_prepare_v2(…) failed: database
disk image is malformed"). An officer needs to hear what is wrong with the file and what
to do: it is empty, it was cut short while being copied, the GeoPackage is damaged. Every
reader (vector layers, point tables, workbooks, rasters) turns a library's failure into a
:class:`Failure` here, so that the same fault reads the same everywhere.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

from geo_township.errors import LayerReadError

#: The fix for a file that was cut short or emptied on its way.
COPY_AGAIN = ("it was probably cut short while being copied, downloaded or exported: copy it again from where "
              "it came from, or export it again")
COPY_AGAIN_ZH = "文件可能在复制、下载或导出时被截断：请从原处重新复制，或重新导出"
_FALLBACK_HINT = "the file may be damaged or only partly copied; export it again"
_FALLBACK_HINT_ZH = "文件可能已损坏或未复制完整；请重新导出"
_PREFIX_ZH = {"cannot open the file: ": "无法打开文件：", "cannot read the file: ": "无法读取文件：",
              "cannot open the workbook: ": "无法打开工作簿：", "cannot open the raster: ": "无法打开栅格："}

_FORMATS = {".gpkg": "GeoPackage", ".shp": "shapefile", ".geojson": "GeoJSON", ".json": "GeoJSON",
            ".kml": "KML", ".kmz": "KMZ", ".gpx": "GPX", ".fgb": "FlatGeobuf", ".gml": "GML", ".tab": "MapInfo",
            ".mif": "MapInfo", ".zip": "zipped", ".tif": "GeoTIFF", ".tiff": "GeoTIFF", ".xlsx": "Excel",
            ".xlsm": "Excel", ".xls": "Excel", ".parquet": "GeoParquet", ".geoparquet": "GeoParquet"}

_SQLITE = re.compile(r"(database disk image is malformed|file is not a database|file is encrypted or is not a "
                     r"database|unable to open database file)")
_GEOJSON = re.compile(r"Failed to read GeoJSON data; At line (\d+), character (\d+): (.+)")
_KML = re.compile(r"ERROR parsing kml .*?:\s*(.*?) on line (\d+)")


def exception_text(exc: BaseException) -> str:
    """The first line of a library's error message (at most 300 characters), for messages
    that name the file and say what went wrong without a traceback's noise."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


@dataclass(frozen=True)
class Failure:
    """What is wrong with a file, in plain words, and what to do about it."""

    message: str
    hint: str
    message_zh: str | None = None
    hint_zh: str | None = None


def format_name(path: Path) -> str:
    """The kind of file its suffix says it is ("GeoPackage", "KML" …), for messages."""
    return _FORMATS.get(path.suffix.lower(), (path.suffix.lstrip(".").upper() or "this kind of")) + " file"


def is_empty_file(path: Path) -> bool:
    """Is ``path`` a file of 0 bytes (as an interrupted copy or export leaves it)?"""
    try:
        return path.is_file() and path.stat().st_size == 0
    except OSError:
        return False


def empty_failure() -> Failure:
    """The words for a file of 0 bytes."""
    return Failure("the file is empty (0 bytes)", COPY_AGAIN, "文件是空的(0 字节)", COPY_AGAIN_ZH)


def explain(path: Path, exc: BaseException | str, *, fallback_hint: str = "the file may be damaged or only "
            "partly copied; export it again") -> Failure:
    """Plain words for a library's failure to open or read ``path``.

    Recognised: a file of 0 bytes; a damaged GeoPackage (SQLite's own words kept in
    brackets); GeoJSON and KML text broken off (the line where it stops); a shapefile's
    damaged .shx or .dbf; a workbook that is not a whole zip archive; a file GDAL does not
    recognise; a GeoTIFF whose header or tiles cannot be read. Anything else keeps the
    library's first line, with ``fallback_hint``.
    """
    text = exc if isinstance(exc, str) else exception_text(exc)
    if is_empty_file(path):
        return empty_failure()
    sqlite = _SQLITE.search(text)
    if sqlite:
        return Failure(f"the GeoPackage is damaged (SQLite: {sqlite.group(1)})",
                       "copy it again from where it came from, or restore it from a backup; if every copy is "
                       "damaged, open it in QGIS and export its layers to a new GeoPackage",
                       f"GeoPackage 文件已损坏(SQLite：{sqlite.group(1)})",
                       "请从原处重新复制，或从备份恢复；如所有副本都已损坏，"
                       "请在 QGIS 中打开并把各图层导出到新的 GeoPackage")
    for failure in (_broken_text(text), _broken_shapefile(path, text), _broken_workbook(text), _broken_tiff(text)):
        if failure is not None:
            return failure
    if "not recognized as being in a supported file format" in text or "not recognised as" in text:
        return Failure(f"it is not a {format_name(path)} that GDAL can read: it may be damaged, cut short, or "
                       "another kind of file under this name",
                       "open it in QGIS to see what it holds, or export it again",
                       f"GDAL 无法把它作为 {format_name(path)} 读取：文件可能已损坏、被截断，或其实是别的文件改了名",
                       "请在 QGIS 中打开看看内容，或重新导出")
    return Failure(text, fallback_hint, f"读取出错(程序库原文：{text})",
                   _FALLBACK_HINT_ZH if fallback_hint == _FALLBACK_HINT else None)


def _broken_text(text: str) -> Failure | None:
    """GeoJSON or KML text that breaks off: where it stops."""
    found = _GEOJSON.search(text)
    if found:
        line, char, what = found.groups()
        return Failure(f"the GeoJSON text breaks off at line {line}, character {char} ({what.strip().lower()}): "
                       "the file is incomplete or damaged", COPY_AGAIN,
                       f"GeoJSON 文本在第 {line} 行第 {char} 个字符处中断({what.strip().lower()})：文件不完整或已损坏",
                       COPY_AGAIN_ZH)
    found = _KML.search(text)
    if found:
        what, line = found.groups()
        detail = f" ({what.strip()})" if what.strip() else ""
        return Failure(f"the KML text breaks off at line {line}{detail}: the file is incomplete or damaged",
                       COPY_AGAIN, f"KML 文本在第 {line} 行中断{detail}：文件不完整或已损坏", COPY_AGAIN_ZH)
    return None


def _broken_shapefile(path: Path, text: str) -> Failure | None:
    """GDAL's words for a damaged .shx or .dbf."""
    if ".shx file" in text:
        return Failure("the shapefile's .shx file (its index of shapes) is damaged or cut short",
                       f"copy {path.stem}.shx again together with the .shp and .dbf, or export the shapefile again",
                       "shapefile 的 .shx 文件(图形索引)已损坏或被截断",
                       f"请把 {path.stem}.shx 与 .shp、.dbf 一起重新复制，或重新导出 shapefile")
    if "failed on DBF file" in text or ("DBF" in text and "fread" in text):
        return Failure("the shapefile's .dbf file (its attribute table) is damaged or cut short",
                       f"copy {path.stem}.dbf again together with the .shp and .shx, or export the shapefile again",
                       "shapefile 的 .dbf 文件(属性表)已损坏或被截断",
                       f"请把 {path.stem}.dbf 与 .shp、.shx 一起重新复制，或重新导出 shapefile")
    if "not encoded in UTF-8" in text and path.suffix.lower() == ".shp":
        return Failure("the shapefile's attribute table (.dbf) holds text that is not UTF-8, or is damaged",
                       'if its text is Chinese from desktop GIS, add encoding = "gbk" to this layer in '
                       "township.toml; otherwise export the shapefile again",
                       "shapefile 的属性表(.dbf)含有非 UTF-8 文字，或已损坏",
                       '如是国产桌面 GIS 导出的中文，请在 township.toml 该图层下加 encoding = "gbk"；否则请重新导出')
    return None


def _broken_workbook(text: str) -> Failure | None:
    """A workbook that is not a whole .xlsx (zip) or not a workbook at all."""
    if "File is not a zip file" in text or "Bad magic number" in text or ("zip" in text and "truncated" in text):
        return Failure("the workbook is damaged or cut short (an .xlsx file is a zip archive, and this one is "
                       "incomplete)", "copy it again from where it came from, or open it in Excel or WPS and "
                       "save it again as .xlsx",
                       "工作簿已损坏或被截断(.xlsx 文件是一个压缩包，此文件不完整)",
                       "请从原处重新复制，或用 Excel 或 WPS 打开后重新保存为 .xlsx")
    if "Excel file format cannot be determined" in text:
        return Failure("the file is not an Excel workbook (neither .xlsx nor .xls inside)",
                       "open it in Excel or WPS and save it as .xlsx; if it is a CSV, rename it to .csv",
                       "文件不是 Excel 工作簿(内容既非 .xlsx 也非 .xls)",
                       "请用 Excel 或 WPS 打开后保存为 .xlsx；如果其实是 CSV，请把后缀改为 .csv")
    return None


def _broken_tiff(text: str) -> Failure | None:
    """libtiff's words for a GeoTIFF whose header, directory or tiles cannot be read."""
    if re.search(r"TIFFReadDirectory|Cannot read TIFF header|TIFFReadEncoded|IReadBlock failed|TIFFFetch", text):
        pixels = "IReadBlock" in text or "TIFFReadEncoded" in text
        return Failure("the GeoTIFF is damaged or cut short: GDAL cannot read " + ("its pixels" if pixels else
                                                                                   "its header"),
                       COPY_AGAIN, "GeoTIFF 已损坏或被截断：GDAL 无法读取其" + ("像元" if pixels else "文件头"),
                       COPY_AGAIN_ZH)
    return None


def read_failure(path: Path, exc: BaseException | str, *, prefix: str = "", where: str | None = None,
                 fallback_hint: str = _FALLBACK_HINT) -> LayerReadError:
    """A :class:`LayerReadError` naming ``path``, with :func:`explain`'s words after
    ``prefix`` ("cannot open the file: " …), in English and Chinese."""
    failure = explain(Path(path), exc, fallback_hint=fallback_hint)
    message_zh = None if failure.message_zh is None else _PREFIX_ZH.get(prefix, "") + failure.message_zh
    return LayerReadError(prefix + failure.message, path=path, where=where, hint=failure.hint,
                          message_zh=message_zh, hint_zh=failure.hint_zh)


# --------------------------------------------------------------------------- shapefile lengths


def check_shapefile_lengths(shp: Path) -> None:
    """Refuse a shapefile whose .shp, .shx or .dbf is shorter than its own header says.

    GDAL reads a .shp cut short without complaint: the shapes past the cut come back empty
    and would be left out of every count as "without geometry". Each part's header states
    its length (the .shp and .shx in 16-bit words; the .dbf as header + records × record
    length), so a part that was cut short while being copied shows at once.
    """
    for part in (".shp", ".shx", ".dbf"):
        file = next((p for p in (shp.with_suffix(part), shp.with_suffix(part.upper())) if p.exists()), None)
        if file is None:
            continue
        size = file.stat().st_size
        if size == 0:
            raise LayerReadError(f"the shapefile's {part} file is empty (0 bytes)", path=shp,
                                 hint=f"copy {file.name} again together with the other parts, or export the "
                                 "shapefile again", message_zh=f"shapefile 的 {part} 文件是空的(0 字节)",
                                 hint_zh=f"请把 {file.name} 与其他几个文件一起重新复制，或重新导出 shapefile")
        expected = _declared_length(file, part)
        if expected is not None and size < expected:
            declared = "its index (.shx) places shapes in" if part == ".shp" else "its header declares"
            raise LayerReadError(f"the shapefile's {part} file is cut short: it holds {size:,} of the "
                                 f"{expected:,} bytes {declared}", path=shp,
                                 hint=f"copy {file.name} again together with the other parts (it was probably cut "
                                 "short while being copied), or export the shapefile again",
                                 message_zh=f"shapefile 的 {part} 文件被截断：只有 {size:,} 字节，"
                                 f"应有 {expected:,} 字节",
                                 hint_zh=f"请把 {file.name} 与其他几个文件一起重新复制(它可能在复制时被截断)，"
                                 "或重新导出 shapefile")


def _declared_length(file: Path, part: str) -> int | None:
    """The length in bytes a shapefile part must have (None when it cannot tell): for the
    .shx and .dbf what their headers declare; for the .shp the end of its last shape, as
    the .shx places it."""
    if part == ".shp":
        shx = next((p for p in (file.with_suffix(".shx"), file.with_suffix(".SHX")) if p.exists()), None)
        if shx is None or shx.stat().st_size < 108:
            return None
        with shx.open("rb") as fh:
            fh.seek((shx.stat().st_size - 100) // 8 * 8 + 100 - 8)
            offset, length = struct.unpack(">ii", fh.read(8))
        return (offset + 4 + length) * 2
    with file.open("rb") as fh:
        head = fh.read(32)
    if part == ".shx":
        if len(head) < 28 or struct.unpack(">i", head[:4])[0] != 9994:
            return None
        return struct.unpack(">i", head[24:28])[0] * 2
    if len(head) < 12:
        return None
    records = struct.unpack("<I", head[4:8])[0]
    header, record = struct.unpack("<HH", head[8:12])
    return header + records * record
