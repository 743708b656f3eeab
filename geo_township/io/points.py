"""Tables whose rows are points: CSV/TSV/TXT and XLSX files with coordinate columns.

One reader (:func:`read_point_table`) and one rule for coordinate columns
(:func:`locate_coordinates`), shared by the layer reader (:mod:`geo_township.io.read`) and
the survey import (:mod:`geo_township.treeimport`):

* columns are found by name — longitude/latitude (经度/纬度, lon/lat …) first, else
  easting/northing (东坐标/北坐标, x/y …);
* cells may be numbers or degree-minute-second text (117°30'15.2");
* columns named as longitude/latitude but holding numbers beyond ±180 are metres, not
  degrees;
* latitude/longitude written the other way round, and surveyors' X/Y (X = north in Chinese
  practice), are recognised by their values and put right.

Row numbers are the lines a user sees in Excel or a text editor (header = line 1).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo_township.crs import CHINA_LAT, CHINA_LON
from geo_township.errors import LayerReadError
from geo_township.io.failures import explain, is_empty_file, read_failure
from geo_township.labels import Text
from geo_township.vocabulary import normalise_name

TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
TABLE_SUFFIXES = TEXT_SUFFIXES | EXCEL_SUFFIXES

LON_NAMES = ("经度", "lon", "lng", "long", "longitude", "东经", "gps经度", "经度(°)", "x经度")
LAT_NAMES = ("纬度", "lat", "latitude", "北纬", "gps纬度", "纬度(°)", "y纬度")
EAST_NAMES = ("东坐标", "x", "easting", "east", "x坐标", "横坐标", "e", "坐标x", "东向坐标")
NORTH_NAMES = ("北坐标", "y", "northing", "north", "y坐标", "纵坐标", "n", "坐标y", "北向坐标")
WKT_NAMES = ("wkt", "geometry", "geom", "shape", "几何")

_DMS = re.compile(
    r"^\s*(?P<deg>-?\d+(?:\.\d+)?)\s*[°度:]\s*(?:(?P<min>\d+(?:\.\d+)?)\s*['′分:]?\s*)?"
    r"(?:(?P<sec>\d+(?:\.\d+)?)\s*(?:\"|″|''|秒)?)?\s*(?P<hem>[NSEW东西南北])?\s*$"
)


# --------------------------------------------------------------------------- text and sheets


def decode_text(path: Path, encoding: str | None) -> tuple[str, str]:
    """A text file's contents and the encoding they were read in.

    Without ``encoding`` the file is read as UTF-8 (a BOM is allowed); one that is not
    UTF-8 but decodes cleanly as GBK into Chinese text (a CSV saved by Chinese Excel or
    WPS) is read as GBK, and the encoding returned says so (``"gbk"``; see
    :func:`guessed_encoding_note`). Any other file gets an error naming the first bad line."""
    data = path.read_bytes()
    if encoding:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise LayerReadError(f"the file is not valid {encoding} text (line {line})", path=path,
                                 hint="correct encoding in township.toml, or save the file as CSV UTF-8",
                                 message_zh=f"文件不是有效的 {encoding} 文本(第 {line} 行)",
                                 hint_zh="请改正 township.toml 中的 encoding，或把文件另存为 CSV UTF-8") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
    chinese = _as_chinese_text(data)
    if chinese is not None:
        return chinese
    raise LayerReadError(
        f"the file is not UTF-8 text (first bad byte on line {line}), nor Chinese GBK text", path=path,
        hint='if you know its encoding, add encoding = "NAME" to this layer in township.toml (e.g. "gbk", '
        '"big5", "latin1"), or in Excel use Save As → \'CSV UTF-8 (Comma delimited)\'',
        message_zh=f"文件既不是 UTF-8 文本(第 {line} 行起有无法识别的字节)，也不是中文 GBK 文本",
        hint_zh='如知道编码，请在 township.toml 该图层下加 encoding = "编码名"(如 "gbk"、"big5"、"latin1")，'
        "或在 Excel 中“另存为”→“CSV UTF-8(逗号分隔)”",
    ) from None


#: Characters GBK text from Chinese Excel holds besides ASCII: CJK ideographs and
#: punctuation, full-width forms, and the general punctuation and symbols of GB2312.
_CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u2010-\u2030\u00b0\u00b7\u00d7"
                      r"\u2103\u2116\u2160-\u216b\u2460-\u2473\u25a0-\u25cf\u3220-\u3229]")


def _as_chinese_text(data: bytes) -> tuple[str, str] | None:
    """``data`` decoded as GBK (or GB18030) when it decodes cleanly and what is not ASCII
    is Chinese text (at least 95 % of it); None otherwise. Latin-1 or Big5 bytes that happen
    to decode as GBK come out as rare or private-use characters and are refused."""
    for name in ("gbk", "gb18030"):
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        wide = [c for c in text if ord(c) > 127]
        if wide and sum(1 for c in wide if _CHINESE.match(c)) >= 0.95 * len(wide):
            return text, name
    return None


def guessed_encoding_note(encoding: str | None, given: str | None) -> str | None:
    """The note for a text table read as GBK without being told (None otherwise)."""
    if given or encoding not in ("gbk", "gb18030"):
        return None
    name = encoding.upper()
    return Text(f"text read as {name}: the file is not UTF-8 but decodes cleanly as Chinese {name} "
                f"text (a CSV saved by Chinese Excel or WPS); to say so, add encoding = \"{encoding}\" to this "
                "layer in township.toml",
                f"按 {name} 编码解读文字(文件不是 UTF-8，但可完整按中文 {name} 解码，"
                "是中文版 Excel 或 WPS 保存的 CSV)；"
                f"如需写明，请在 township.toml 该图层下加 encoding = \"{encoding}\"")


def sniff_separator(first_line: str) -> str:
    """The separator a text table uses: the commonest of , TAB ; | in its header line."""
    counts = {sep: first_line.count(sep) for sep in (",", "\t", ";", "|")}
    return max(counts, key=lambda sep: counts[sep]) if max(counts.values()) else ","


def text_separator(path: Path, text: str) -> str:
    """The separator of a decoded text table: TAB for .tsv, else sniffed from the header."""
    return "\t" if path.suffix.lower() == ".tsv" else sniff_separator(text.splitlines()[0] if text else "")


def read_text_table(path: Path, encoding: str | None, *, what: str = "file") -> tuple[pd.DataFrame, str]:
    """A CSV/TSV/TXT table with every cell as text, and the encoding it was read in.
    ``what`` names the file in the message for an empty one ("the survey file is empty")."""
    if is_empty_file(path):
        raise LayerReadError(f"the {what} is empty (0 bytes)", path=path, hint=explain(path, "").hint,
                             message_zh="文件是空的(0 字节)", hint_zh=explain(path, "").hint_zh)
    text, encoding = decode_text(path, encoding)
    if not text.strip():
        raise LayerReadError(f"the {what} is empty", path=path, hint="export the table again",
                             message_zh="文件是空的", hint_zh="请重新导出表格")
    try:
        df = pd.read_csv(io.StringIO(text), sep=text_separator(path, text), dtype=str, keep_default_na=False,
                         skipinitialspace=True)
    except (pd.errors.ParserError, ValueError) as exc:
        raise LayerReadError(f"the table cannot be parsed: {exc}", path=path,
                             hint="open it in Excel and save it again as CSV UTF-8",
                             message_zh=f"表格无法解析：{exc}", hint_zh="请用 Excel 打开后另存为 CSV UTF-8") from None
    return df, encoding


def read_sheet(path: Path, sheet: str | None) -> tuple[pd.DataFrame, int]:
    """A sheet of a workbook with every cell as text, and the Excel line of its first data
    row. The header is the first of the top 10 rows that names coordinates (title rows
    above it are skipped); wholly empty rows and unnamed empty columns are left out."""
    try:
        book = pd.ExcelFile(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure becomes a message naming the file
        raise read_failure(path, exc, prefix="cannot open the workbook: ",
                           fallback_hint="save it again from Excel as .xlsx") from None
    if sheet is not None and sheet not in book.sheet_names:
        raise LayerReadError(f"no sheet {sheet!r} in the workbook", path=path,
                             hint='set layer = "SHEET" in township.toml to one of: ' + ", ".join(book.sheet_names),
                             message_zh=f"工作簿中没有工作表 {sheet!r}",
                             hint_zh='请在 township.toml 中把 layer = "工作表名" 设为其中之一：'
                             + "、".join(book.sheet_names))
    name = sheet if sheet is not None else book.sheet_names[0]
    raw = pd.read_excel(book, sheet_name=name, header=None, dtype=str, nrows=10)
    header = 0
    wanted = {normalise_name(n) for n in (*LON_NAMES, *LAT_NAMES, *EAST_NAMES, *NORTH_NAMES, *WKT_NAMES)}
    for i in range(len(raw)):
        cells = {normalise_name(v) for v in raw.iloc[i].dropna()}
        if len(cells & wanted) >= 1 and len(cells) >= 2:
            header = i
            break
    df = pd.read_excel(book, sheet_name=name, header=header, dtype=str)
    df = df.dropna(how="all")
    df = df.loc[:, [not str(c).startswith("Unnamed:") or df[c].notna().any() for c in df.columns]]
    df = df.where(df.notna(), None)
    return df, header + 2


# --------------------------------------------------------------------------- coordinate columns


def find_column(columns, names) -> str | None:
    """The first of ``names`` found among ``columns`` (compared by :func:`normalise_name`)."""
    folded = {normalise_name(c): c for c in columns}
    for name in names:
        col = folded.get(normalise_name(name))
        if col is not None:
            return col
    return None


def find_coordinate_columns(columns) -> tuple[str | None, str | None, bool]:
    """The coordinate columns by name: ``(x column, y column, named as longitude/latitude)``.
    Longitude/latitude names win; else easting/northing names; a column missing is None."""
    xcol, ycol = find_column(columns, LON_NAMES), find_column(columns, LAT_NAMES)
    if xcol is not None and ycol is not None:
        return xcol, ycol, True
    return find_column(columns, EAST_NAMES), find_column(columns, NORTH_NAMES), False


def parse_coordinate_column(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numbers or degree-minute-second text (117°30'15.2") → floats.

    Returns ``(values, bad)``: ``bad`` marks non-empty cells that are not coordinates.
    """
    text = values.astype("string").str.strip()
    num = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce").to_numpy(dtype="float64",
                                                                                          na_value=np.nan)
    empty = text.isna() | (text == "")
    todo = np.isnan(num) & ~empty.to_numpy()
    if todo.any():
        parts = text[todo].str.extract(_DMS)
        deg = pd.to_numeric(parts["deg"], errors="coerce")
        minutes = pd.to_numeric(parts["min"], errors="coerce").fillna(0.0)
        sec = pd.to_numeric(parts["sec"], errors="coerce").fillna(0.0)
        sign = np.where(parts["hem"].isin(["S", "W", "西", "南"]).to_numpy(dtype=bool)
                        | (deg < 0).fillna(False).to_numpy(dtype=bool), -1.0, 1.0)
        val = sign * (deg.abs() + minutes / 60.0 + sec / 3600.0)
        num[todo] = val.to_numpy(dtype="float64", na_value=np.nan)
    bad = np.isnan(num) & ~empty.to_numpy()
    return num, bad


def mostly_within(values: np.ndarray, lo: float, hi: float) -> bool:
    """Do more than 95 % of the finite values lie in [lo, hi]? (False when there are none.)"""
    v = values[np.isfinite(values)]
    return bool(len(v)) and bool(((v >= lo) & (v <= hi)).mean() > 0.95)


@dataclass(frozen=True)
class PointColumns:
    """A table's coordinate columns, as named and as they turned out to be."""

    named: tuple[str, str]  # the (x, y) columns as found by name
    x: np.ndarray  # eastings or longitudes, NaN where blank or not a coordinate
    y: np.ndarray  # northings or latitudes
    bad: np.ndarray  # non-empty cells (in either column) that are not coordinates
    geographic: bool  # longitude/latitude (by name, and the values fit degrees)
    swapped: bool = False  # the named x column held the y values (and the other way round)
    note: str | None = None  # what was put right, for the user

    @property
    def east(self) -> str:
        """The column that holds the eastings or longitudes."""
        return self.named[1] if self.swapped else self.named[0]

    @property
    def north(self) -> str:
        """The column that holds the northings or latitudes."""
        return self.named[0] if self.swapped else self.named[1]


def locate_coordinates(df: pd.DataFrame) -> PointColumns | None:
    """Find and parse a table's coordinate columns (the rule in the module docstring);
    None when no pair of columns is named as coordinates."""
    xcol, ycol, geographic = find_coordinate_columns(df.columns)
    if xcol is None or ycol is None:
        return None
    x, xbad = parse_coordinate_column(df[xcol])
    y, ybad = parse_coordinate_column(df[ycol])
    if geographic and not (mostly_within(x, -180, 180) and mostly_within(y, -180, 180)):
        geographic = False  # headed 经度/纬度 but holding metres: read as eastings/northings
    if geographic and mostly_within(x, *CHINA_LAT) and mostly_within(y, *CHINA_LON):
        return PointColumns((xcol, ycol), y, x, xbad | ybad, geographic, True,
                            Text(f"columns {xcol}/{ycol} hold latitude/longitude the other way round; swapped",
                                 f"{xcol}/{ycol} 两列的经纬度写反了(先纬度后经度)；已对调"))
    if not geographic and mostly_within(x, 1e6, 1e7) and (mostly_within(y, 1e5, 1e6) or mostly_within(y, 1e7, 1e8)):
        return PointColumns((xcol, ycol), y, x, xbad | ybad, geographic, True,
                            Text(f"{xcol} holds northings and {ycol} eastings (surveyors' convention, X = north); "
                                 "swapped",
                                 f"{xcol} 列是北坐标、{ycol} 列是东坐标(测绘习惯 X 为北)；已对调"))
    return PointColumns((xcol, ycol), x, y, xbad | ybad, geographic)


# --------------------------------------------------------------------------- the reader


@dataclass
class PointTable:
    """A table read by :func:`read_point_table`."""

    path: Path
    table: pd.DataFrame  # every cell as text, None when empty; coordinate columns included
    lines: pd.Series  # per row (same index as ``table``): the line a user sees
    encoding: str | None  # of a text table; None for a workbook
    coords: PointColumns | None  # None when no columns are named as coordinates
    notes: list[str] = field(default_factory=list)  # how it was read, for the user (an encoding guessed)

    @property
    def attributes(self) -> pd.DataFrame:
        """The table without its coordinate columns."""
        return self.table if self.coords is None else self.table.drop(columns=list(self.coords.named))


def read_point_table(path: str | Path, *, sheet: str | None = None, encoding: str | None = None,
                     what: str = "file") -> PointTable:
    """Read a CSV/TSV/TXT or XLSX table of points: cells as text, the lines a user sees,
    and its coordinate columns found and parsed by :func:`locate_coordinates`.

    ``sheet`` picks a workbook's sheet (default: the first); ``encoding`` a text file's
    encoding (default UTF-8, or GBK with a note when the file is Chinese GBK text and not
    UTF-8; see :func:`decode_text`); ``what`` names the file
    in the message for an empty one. Blank or unparsable coordinates are left to the
    caller (NaN / ``coords.bad``): a layer refuses them, a survey names their lines.
    """
    path = Path(path)
    given = encoding
    if path.suffix.lower() in EXCEL_SUFFIXES:
        df, first_line = read_sheet(path, sheet)
        encoding = None
    else:
        df, encoding = read_text_table(path, encoding, what=what)
        first_line = 2
    note = guessed_encoding_note(encoding, given)
    df.columns = [str(c).strip() for c in df.columns]
    df = df.replace({"": None})
    lines = pd.Series(np.asarray(df.index, dtype="int64") + first_line, index=df.index)
    return PointTable(path, df, lines, encoding, locate_coordinates(df), [note] if note else [])
