"""Status updates from the field: merge a crew's survey file into the pine-wilt trees layer
by ``tree_id``, keeping the layer's own format and words, with an append-only history.

Rules
-----
* **Merge by tree_id.** A status only moves forward along suspected → confirmed → felled →
  cleared → verified; a backward move is refused with a message (``allow_regress=True``
  lets a correction through). A date earlier than the tree's previous event is reported.
  New ids are added with their location. Empty cells in the survey mean "no news" and
  never blank a value. Columns the tool does not know are kept (added to the layer).
  The location of a tree already in the layer is never moved by a survey.
* **One bad row rejects the whole file**, with every bad row named by its line (an id
  missing or repeated, a status word or date not understood, coordinates that are not
  numbers, a new tree without coordinates or status) — unless ``skip_bad=True``, which
  imports the rest and lists what was skipped.
* **The layer keeps its format.** A CSV stays a CSV with the same headers, separator,
  encoding (and BOM) and line endings; statuses are written in the words the file already
  uses for them (Chinese words when it uses Chinese words); dates in the file's own style
  (2022/3/5, 2022-03-05, 2022年3月5日 …). GeoPackage, GeoJSON, FlatGeobuf and GeoParquet
  layers are rewritten in their format. (Shapefiles, KML and XLSX layers are refused:
  they cannot be replaced in one step — convert the layer to GeoPackage or CSV.)
* **Atomic and idempotent.** Every file is written to a temporary file next to it and
  renamed into place, so a crash leaves the old file; importing the same file twice
  changes nothing the second time (and writes nothing).
* **History.** Every change is appended (old rows are never changed) with the time, user
  (``getpass.getuser()``), source file, tree_id, action, field, old and new value: in a
  table ``<layer>_history`` inside a GeoPackage (written in the same atomic step as the
  layer), else in a sidecar ``<layer file>.history.csv`` (UTF-8 with BOM), written
  *before* the layer so a change in the layer is never missing from the history.
"""

from __future__ import annotations

import datetime as dt
import getpass
import io
import logging
import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_township.crs import CGCS2000, gcj02_to_wgs84, infer_crs
from geo_township.errors import CRSError, FieldError, LayerReadError, UsageError
from geo_township.io import read as readers
from geo_township.io.write import atomic_path
from geo_township.kinds import KINDS, TREE_STATUS, Kind, match_fields, normalise_name
from geo_township.layers import Township
from geo_township.results import Finding, Result
from geo_township.values import to_codes, to_date, to_text

log = logging.getLogger(__name__)

KIND: Kind = KINDS["infected_trees"]
STATUS_RANK = {code: i for i, code in enumerate(TREE_STATUS.codes)}
DATE_FIELDS = tuple(f.name for f in KIND.fields if f.dtype == "date")
EVENT_ORDER = ("found_date", "confirmed_date", "felled_date", "cleared_date", "verified_date")
HISTORY_COLUMNS = ["time", "user", "source", "tree_id", "action", "field", "old", "new"]
ACTIONS = ("added", "advanced", "updated", "refused", "unchanged", "skipped")
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
VECTOR_SUFFIXES = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".fgb": "FlatGeobuf",
                   ".parquet": "Parquet", ".geoparquet": "Parquet"}
_CJK = re.compile(r"[\u4e00-\u9fff]")
MAX_LISTED = 10


# --------------------------------------------------------------------------- the survey


@dataclass
class Survey:
    """A crew's file with canonical values: one row per line, bad lines apart."""

    path: Path
    rows: pd.DataFrame  # canonical fields present, 'line', extras; index 0..n-1
    lonlat: np.ndarray  # (n, 2) CGCS2000 lon/lat, NaN where the row has no coordinates
    fields: list[str]  # canonical fields the survey has
    extras: list[str]  # the survey's other columns, kept
    bad: dict[int, list[str]] = field(default_factory=dict)  # line -> reasons
    notes: list[str] = field(default_factory=list)


def _read_survey_table(path: Path, encoding: str | None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, pd.Series,
                                                                  list[str], bool]:
    """A CSV/XLSX survey: rows as text, x/y (NaN where blank), bad-coordinate mask, line
    numbers, the coordinate columns, and whether they are longitude/latitude. Unlike a
    layer, a survey may have no coordinates at all (status updates only)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        df, first = readers._read_excel(path, None)
    else:
        text, _ = readers._decode_text(path, encoding)
        if not text.strip():
            raise LayerReadError("the survey file is empty", path=path, hint="export the table again")
        sep = "\t" if suffix == ".tsv" else readers._sniff_separator(text.splitlines()[0])
        try:
            df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True)
        except (pd.errors.ParserError, ValueError) as exc:
            raise LayerReadError(f"the table cannot be parsed: {exc}", path=path,
                                 hint="open it in Excel and save it again as CSV UTF-8") from None
        first = 2
    df.columns = [str(c).strip() for c in df.columns]
    df = df.replace({"": None}).reset_index(drop=True)
    lines = pd.Series(np.arange(len(df)) + first, index=df.index)
    xcol, ycol = readers._find(df.columns, readers.LON_NAMES), readers._find(df.columns, readers.LAT_NAMES)
    geographic = xcol is not None and ycol is not None
    if not geographic:
        xcol, ycol = readers._find(df.columns, readers.EAST_NAMES), readers._find(df.columns, readers.NORTH_NAMES)
    if xcol is None or ycol is None:
        n = len(df)
        return df, np.full((n, 2), np.nan), np.zeros(n, dtype=bool), lines, [], geographic
    x, xbad = readers.parse_coordinate_column(df[xcol])
    y, ybad = readers.parse_coordinate_column(df[ycol])
    if geographic and readers._looks_like(x, 3, 54) and readers._looks_like(y, 73, 136) or not geographic and readers._looks_like(x, 1e6, 1e7) and (readers._looks_like(y, 1e5, 1e6)
                                                                 or readers._looks_like(y, 1e7, 1e8)):
        x, y = y, x
    return df.drop(columns=[xcol, ycol]), np.column_stack([x, y]), xbad | ybad, lines, [xcol, ycol], geographic


def read_survey(path: str | Path, township: Township, *, from_gcj02: bool = False,
                encoding: str | None = None) -> Survey:
    """Read a survey file (CSV, XLSX, KML/KMZ, GPX, GeoPackage, shapefile, GeoJSON …) into
    canonical values; every cell that cannot be understood marks its line as bad.

    Coordinates become CGCS2000 longitude/latitude; ``from_gcj02`` first undoes the GCJ-02
    shift of points copied from AMap or Tencent maps (only for longitude/latitude).
    """
    path = Path(path)
    if not path.exists():
        raise LayerReadError("survey file not found", path=path, hint="check the file name and folder")
    spec = township.config.layers.get("infected_trees")
    notes: list[str] = []
    if path.suffix.lower() in readers.TABLE_SUFFIXES:
        df, xy, coord_bad, lines, _, geographic = _read_survey_table(path, encoding)
        crs = None
        if geographic:
            crs = CGCS2000
        elif np.isfinite(xy).all(axis=1).any():
            ok = np.isfinite(xy).all(axis=1)
            crs = _infer(township, xy[ok, 0], xy[ok, 1], path)
    else:
        raw = readers.read_vector(path, encoding=encoding, geometry="Point")
        gdf = raw.gdf.reset_index(drop=True)
        notes += raw.notes
        geoms = gdf.geometry.to_numpy()
        import shapely

        has = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        pts = shapely.get_type_id(geoms) == 0
        xy = np.full((len(gdf), 2), np.nan)
        xy[has & pts] = shapely.get_coordinates(geoms[has & pts])[:, :2]
        coord_bad = has & ~pts
        crs = gdf.crs
        if crs is None and (has & pts).any():
            crs = _infer(township, xy[has & pts, 0], xy[has & pts, 1], path)
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        for col in readers.KML_HOUSEKEEPING:
            if col in df.columns:
                df = df.drop(columns=col)
        lines = pd.Series(np.arange(len(df)) + 1, index=df.index)
        geographic = crs is not None and crs.is_geographic if crs is not None else True
    if from_gcj02:
        if crs is not None and not geographic:
            raise UsageError("--from-gcj02 applies to longitude/latitude, but the survey's coordinates are "
                             f"projected ({crs.to_string()})", hint="leave out --from-gcj02 for projected files")
        ok = np.isfinite(xy).all(axis=1)
        xy[ok, 0], xy[ok, 1] = gcj02_to_wgs84(xy[ok, 0], xy[ok, 1])
        notes.append(f"{int(ok.sum())} point(s) shifted back from GCJ-02 (AMap/Tencent) to WGS84/CGCS2000")
    lonlat = xy.copy()
    ok = np.isfinite(xy).all(axis=1)
    if ok.any() and crs is not None and not (crs.is_geographic):
        pts = gpd.GeoSeries(gpd.points_from_xy(xy[ok, 0], xy[ok, 1]), crs=crs).to_crs(CGCS2000)
        lonlat[ok] = np.column_stack([pts.x, pts.y])

    columns = [str(c) for c in df.columns]
    explicit = {k: v for k, v in (spec.fields if spec else {}).items() if v in columns}
    match = match_fields(columns, KIND, explicit)
    name_col = next((c for c in columns if normalise_name(c) == "name"), None)  # KML/GPX placemark names
    if path.suffix.lower() in (".kml", ".kmz", ".gpx") and name_col is not None and df[name_col].notna().any() \
            and normalise_name(match.mapping.get("tree_id", "id")) == "id":
        # LIBKML numbers placemarks in an 'id' column ("drone.1"); the tree's id is its name
        if "id" in df.columns:
            df = df.drop(columns="id")
            columns.remove("id")
        match.mapping["tree_id"] = name_col
    if "tree_id" not in match.mapping:
        if name_col is None:
            raise FieldError("the survey has no tree id column", path=path,
                             hint="name it 编号 or 疫木编号 (or tree_id); columns in the file: " + ", ".join(columns))
        match.mapping["tree_id"] = name_col
    rows = pd.DataFrame(index=df.index)
    bad: dict[int, list[str]] = {}

    def mark(mask: np.ndarray, reason) -> None:
        for i in np.flatnonzero(mask):
            bad.setdefault(int(lines.iloc[i]), []).append(reason(i) if callable(reason) else reason)

    values_map = spec.values.get("status") if spec else None
    for canon, col in match.mapping.items():
        f = KIND.field(canon)
        if f.dtype == "date":
            rows[canon], b = to_date(df[col])
            mark(b, lambda i, col=col: f"{col} {df[col].iloc[i]!r} is not a date (write 2022-03-05)")
        elif f.vocabulary:
            rows[canon], b = to_codes(df[col], TREE_STATUS, values_map)
            mark(b, lambda i, col=col: f"{col} {df[col].iloc[i]!r} is not a status word (use one of "
                 + ", ".join(f"{t.zh}/{t.code}" for t in TREE_STATUS.terms) + ")")
        else:
            rows[canon] = to_text(df[col])
    mark(rows["tree_id"].isna().to_numpy(), "no tree id")
    ids = rows["tree_id"]
    dup = ids.notna() & ids.duplicated(keep=False)
    for tid in ids[dup].unique():
        where = lines[ids == tid].tolist()
        mark((ids == tid).to_numpy(), f"tree id {tid} appears on lines {', '.join(map(str, where))}")
    mark(coord_bad, "coordinates are not numbers or not a point")
    used = set(match.mapping.values())
    extras = [c for c in columns if c not in used and c != "source_row"]
    for c in extras:
        rows[c] = to_text(df[c])
    rows["line"] = lines.to_numpy()
    return Survey(path, rows, lonlat, [c for c in match.mapping], extras, bad, notes)


def _infer(township: Township, x: np.ndarray, y: np.ndarray, path: Path):
    try:
        return infer_crs(x, y, gk_zone=township.config.gk_zone).crs
    except CRSError as exc:
        if township.config.crs is not None:
            return township.config.crs
        raise CRSError(exc.message, path=path, hint=exc.hint) from None


# --------------------------------------------------------------------------- the layer file


@dataclass
class LayerFile:
    """The trees layer's file as written: its own columns and cell values."""

    path: Path
    table: pd.DataFrame  # CSV: every cell as text; vector: as read (geometry apart)
    mapping: dict[str, str]  # canonical -> column
    crs: Any
    csv: dict[str, Any] | None = None  # encoding, bom, sep, newline, header
    geometry: gpd.GeoSeries | None = None
    layer: str | None = None
    coord_columns: tuple[str, str] | None = None
    geographic: bool = True

    @property
    def is_csv(self) -> bool:
        return self.csv is not None

    @property
    def chinese(self) -> bool:
        return any(_CJK.search(str(c)) for c in self.table.columns)


def read_layer_file(township: Township) -> LayerFile:
    """The trees layer's file, for writing back: format, encoding and words as they are."""
    layer = township.layer("infected_trees")  # validates the file and settles its CRS
    spec = layer.spec
    path = spec.path
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        data = path.read_bytes()
        bom = data.startswith(b"\xef\xbb\xbf")
        text, enc = readers._decode_text(path, spec.encoding)
        first = text.splitlines()[0] if text else ""
        sep = "\t" if suffix == ".tsv" else readers._sniff_separator(first)
        newline = "\r\n" if "\r\n" in text[:10000] else "\n"
        table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
        header = list(table.columns)
        table.columns = [str(c).strip() for c in table.columns]
        mapping = match_fields(list(table.columns), KIND, spec.fields).mapping
        xcol, ycol = readers._find(table.columns, readers.LON_NAMES), readers._find(table.columns, readers.LAT_NAMES)
        geographic = xcol is not None and ycol is not None
        if not geographic:
            xcol = readers._find(table.columns, readers.EAST_NAMES)
            ycol = readers._find(table.columns, readers.NORTH_NAMES)
        if xcol is None or ycol is None:
            raise LayerReadError("the trees file has no coordinate columns to write new trees into", path=path,
                                 hint="give it 经度/纬度 (or x/y) columns")
        return LayerFile(path, table, dict(mapping), layer.source_crs,
                         csv={"encoding": "utf-8" if enc == "utf-8" else enc, "bom": bom, "sep": sep,
                              "newline": newline, "header": header},
                         coord_columns=(xcol, ycol), geographic=geographic)
    if suffix in VECTOR_SUFFIXES:
        if suffix in (".parquet", ".geoparquet"):
            gdf = gpd.read_parquet(path)
        else:
            import pyogrio

            gdf = pyogrio.read_dataframe(path, layer=spec.layer, encoding=spec.encoding)
        table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        mapping = match_fields(list(table.columns), KIND, spec.fields).mapping
        return LayerFile(path, table, dict(mapping), gdf.crs if gdf.crs is not None else layer.source_crs,
                         geometry=gdf.geometry, layer=spec.layer or (path.stem if suffix == ".gpkg" else None))
    raise UsageError(
        f"cannot merge updates into a {suffix} layer: it cannot be replaced in one safe step", path=path,
        hint="convert the trees layer to a GeoPackage (.gpkg) or CSV, point township.toml at it, and import again")


def _current(lf: LayerFile, township: Township) -> pd.DataFrame:
    """The layer's canonical values (codes, dates) per row of its file."""
    spec = township.config.layers["infected_trees"]
    out = pd.DataFrame(index=lf.table.index)
    for canon, col in lf.mapping.items():
        f = KIND.field(canon)
        if f.dtype == "date":
            out[canon], _ = to_date(lf.table[col])
        elif f.vocabulary:
            out[canon], _ = to_codes(lf.table[col], TREE_STATUS, spec.values.get(canon))
        else:
            out[canon] = to_text(lf.table[col])
    skip = set(lf.mapping.values()) | set(lf.coord_columns or ())
    for col in lf.table.columns:
        if col not in skip and col not in out.columns:
            out[col] = to_text(lf.table[col])
    return out


# --------------------------------------------------------------------------- words and dates as the file writes them


def status_words(lf: LayerFile, current: pd.DataFrame) -> dict[str, str]:
    """The word the file uses for each status code: its most common word for that code;
    for codes it has never used, the Chinese label when it writes Chinese, else the code."""
    col = lf.mapping.get("status")
    words: dict[str, str] = {}
    chinese = lf.chinese
    if col is not None:
        raw = lf.table[col].astype(object)
        pairs = Counter((c, str(w).strip()) for c, w in zip(current["status"], raw, strict=True)
                        if c is not None and w is not None and str(w).strip())
        for (code, word), _ in pairs.most_common():
            words.setdefault(code, word)
        chinese = chinese or any(_CJK.search(w) for w in words.values())
    for term in TREE_STATUS.terms:
        words.setdefault(term.code, term.zh if chinese else term.code)
    return words


_STYLES = (
    ("%Y年%m月%d日", re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日")),
    ("%Y/%m/%d", re.compile(r"^\d{4}/\d{1,2}/\d{1,2}")),
    ("%Y.%m.%d", re.compile(r"^\d{4}\.\d{1,2}\.\d{1,2}")),
    ("%Y-%m-%d", re.compile(r"^\d{4}-\d{1,2}-\d{1,2}")),
    ("%Y%m%d", re.compile(r"^\d{8}$")),
)


def date_style(values: pd.Series) -> tuple[str, bool] | None:
    """The commonest way a text column writes dates: (strftime pattern, zero-padded?)."""
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""].head(5000)
    if not len(text):
        return None
    counts = Counter()
    padded = Counter()
    for pattern, rx in _STYLES:
        hit = text[text.str.match(rx)]
        counts[pattern] = len(hit)
        if len(hit):
            padded[pattern] = not hit.str.contains(r"(?:^|\D)\d(?:\D|$)", regex=True).any()
    pattern, n = counts.most_common(1)[0]
    return (pattern, padded[pattern]) if n else None


def format_date(value: pd.Timestamp, style: tuple[str, bool]) -> str:
    pattern, padded = style
    if padded or pattern == "%Y%m%d":
        return value.strftime(pattern)
    return (pattern.replace("%Y", str(value.year)).replace("%m", str(value.month))
            .replace("%d", str(value.day)))


# --------------------------------------------------------------------------- the merge


@dataclass
class Change:
    tree_id: str
    action: str
    field: str
    old: Any
    new: Any


def _plain(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def _same(a: Any, b: Any) -> bool:
    return _plain(a) == _plain(b)


def plan_merge(current: pd.DataFrame, survey: Survey, *, allow_regress: bool = False,
               skip_bad: bool = False) -> tuple[list[Change], dict[str, str], list[Finding], list[int]]:
    """Decide what each survey row does: returns the changes, each row's action per
    tree_id, findings, and the survey rows (positions) that add new trees.

    Raises :class:`FieldError` naming every bad line unless ``skip_bad``.
    """
    path = survey.path
    rows = survey.rows
    index = {str(t): i for i, t in enumerate(current["tree_id"]) if t is not None}
    has_xy = np.isfinite(survey.lonlat).all(axis=1)
    bad = {k: list(v) for k, v in survey.bad.items()}
    for pos in range(len(rows)):
        tid = rows["tree_id"].iloc[pos]
        if tid is None or str(tid) in index:
            continue
        line = int(rows["line"].iloc[pos])
        if not has_xy[pos]:
            bad.setdefault(line, []).append(f"new tree {tid} has no coordinates")
        if "status" not in rows.columns or rows["status"].iloc[pos] is None:
            bad.setdefault(line, []).append(f"new tree {tid} has no status")
    findings: list[Finding] = []
    if bad and not skip_bad:
        listed = "; ".join(f"line {n}: {', '.join(r)}" for n, r in sorted(bad.items())[:MAX_LISTED])
        more = f" and {len(bad) - MAX_LISTED} more line(s)" if len(bad) > MAX_LISTED else ""
        raise FieldError(f"{len(bad)} bad row(s), so nothing was imported — {listed}{more}", path=path,
                         hint="correct these rows and import again, or add --skip-bad to import the other rows")
    for line, reasons in sorted(bad.items()):
        findings.append(Finding("survey", f"line {line}", "warning", "skipped", "; ".join(reasons)))
    skip_lines = set(bad)
    changes: list[Change] = []
    actions: dict[str, str] = {}
    added: list[int] = []
    fields = [c for c in survey.fields if c != "tree_id"] + survey.extras
    for pos in range(len(rows)):
        row = rows.iloc[pos]
        line = int(row["line"])
        tid = row["tree_id"]
        if line in skip_lines:
            if tid is not None:
                actions.setdefault(str(tid), "skipped")
            continue
        tid = str(tid)
        if tid not in index:
            added.append(pos)
            actions[tid] = "added"
            lon, lat = survey.lonlat[pos]
            changes.append(Change(tid, "added", "location", None, f"{lon:.7f}, {lat:.7f}"))
            if "found_date" not in rows.columns or pd.isna(row["found_date"]):
                findings.append(Finding("infected_trees", tid, "warning", "new_tree_without_date",
                                        f"survey line {line}: new tree without a find date (发现日期); it is counted "
                                        "in totals but in no period until the date is filled in"))
            for f in fields:
                if row[f] is not None and not (isinstance(row[f], float) and np.isnan(row[f])) and row[f] is not pd.NaT:
                    changes.append(Change(tid, "added", f, None, row[f]))
            continue
        cur = current.iloc[index[tid]]
        old_status = cur.get("status")
        new_status = row["status"] if "status" in rows.columns else None
        if new_status is not None and old_status is not None and \
                STATUS_RANK[new_status] < STATUS_RANK[old_status] and not allow_regress:
            actions[tid] = "refused"
            findings.append(Finding("infected_trees", tid, "error", "status_backward",
                                    f"survey line {line}: status {old_status} → {new_status} refused: a tree only "
                                    "moves forward (suspected → confirmed → felled → cleared → verified); "
                                    "use --allow-regress to correct a mistake"))
            continue
        mine: list[Change] = []
        for f in fields:
            new = row[f]
            if new is None or new is pd.NaT or (isinstance(new, float) and np.isnan(new)):
                continue
            old = cur.get(f) if f in cur.index else None
            if _same(old, new):
                continue
            mine.append(Change(tid, "", f, old, new))
        advanced = any(c.field == "status" for c in mine)
        action = "advanced" if advanced else ("updated" if mine else "unchanged")
        if advanced and old_status is not None and STATUS_RANK[new_status] < STATUS_RANK[old_status]:
            action = "regressed"
        for c in mine:
            c.action = action
        changes += mine
        actions[tid] = action
        findings += _date_order(tid, line, cur, row, rows.columns)
    return changes, actions, findings, added


def _date_order(tid: str, line: int, cur: pd.Series, row: pd.Series, columns) -> list[Finding]:
    """A new date earlier than the tree's previous event is reported."""
    merged = {}
    for f in EVENT_ORDER:
        new = row[f] if f in columns else None
        old = cur.get(f) if f in cur.index else None
        value = new if new is not None and not pd.isna(new) else old
        merged[f] = value if value is not None and not pd.isna(value) else None
    out = []
    for i, f in enumerate(EVENT_ORDER):
        new = row[f] if f in columns else None
        if new is None or pd.isna(new):
            continue
        earlier = [(g, merged[g]) for g in EVENT_ORDER[:i] if merged[g] is not None and merged[g] > new]
        for g, d in earlier:
            out.append(Finding("infected_trees", tid, "warning", "date_before_previous_event",
                               f"survey line {line}: {f} {new:%Y-%m-%d} is before {g} {d:%Y-%m-%d}; check the dates"))
    return out


# --------------------------------------------------------------------------- applying and writing


def _column_for(lf: LayerFile, canon_or_extra: str) -> str:
    """The file's column for a field, adding one (named as the file would) when missing."""
    if canon_or_extra in lf.mapping:
        return lf.mapping[canon_or_extra]
    if canon_or_extra in KIND.field_names:
        f = KIND.field(canon_or_extra)
        name = f.zh if lf.chinese else f.name
        if name in lf.table.columns:
            name = f.name
        lf.table[name] = "" if lf.is_csv else None
        lf.mapping[canon_or_extra] = name
        return name
    if canon_or_extra not in lf.table.columns:
        lf.table[canon_or_extra] = "" if lf.is_csv else None
    return canon_or_extra


def apply_changes(lf: LayerFile, current: pd.DataFrame, survey: Survey, changes: list[Change],
                  added: list[int]) -> None:
    """Write the changes into the file's table (in memory), in the file's words and styles."""
    words = status_words(lf, current)
    styles: dict[str, tuple[str, bool]] = {}
    default_style: tuple[str, bool] = ("%Y-%m-%d", True)
    if lf.is_csv:
        found = [s for s in (date_style(lf.table[c]) for f, c in lf.mapping.items() if f in DATE_FIELDS) if s]
        if found:
            default_style = Counter(found).most_common(1)[0][0]

    def cell(f: str, value: Any, col: str) -> Any:
        if f == "status":
            return words[value]
        if f in DATE_FIELDS:
            if not lf.is_csv and pd.api.types.is_datetime64_any_dtype(lf.table[col]):
                return pd.Timestamp(value)
            if col not in styles:
                styles[col] = date_style(lf.table[col]) or default_style
            return format_date(pd.Timestamp(value), styles[col])
        return _plain(value) if lf.is_csv else value

    index = {str(t): i for i, t in enumerate(current["tree_id"]) if t is not None}
    n_old = len(lf.table)
    if added:
        blank = {c: ("" if lf.is_csv else None) for c in lf.table.columns}
        new_rows = pd.DataFrame([blank] * len(added))
        lf.table = pd.concat([lf.table, new_rows], ignore_index=True)
        lonlat = survey.lonlat[added]
        pts = gpd.GeoSeries(gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs=CGCS2000).to_crs(lf.crs)
        if lf.is_csv:
            xcol, ycol = lf.coord_columns
            # the file's own decimals, but never coarser than ~0.1 m
            places = max(_decimals(lf.table[xcol], 6 if lf.geographic else 2), 6 if lf.geographic else 1)
            lf.table.loc[n_old:, xcol] = [f"{v:.{places}f}" for v in pts.x]
            lf.table.loc[n_old:, ycol] = [f"{v:.{places}f}" for v in pts.y]
        else:
            lf.geometry = gpd.GeoSeries(pd.concat([lf.geometry, pts.set_crs(lf.geometry.crs, allow_override=True)],
                                                  ignore_index=True), crs=lf.geometry.crs)
        for k, pos in enumerate(added):
            index[str(survey.rows["tree_id"].iloc[pos])] = n_old + k
        id_col = lf.mapping["tree_id"]
        lf.table.loc[n_old:, id_col] = [str(survey.rows["tree_id"].iloc[p]) for p in added]
    for ch in changes:
        if ch.field in ("tree_id", "location"):
            continue
        col = _column_for(lf, ch.field)
        value = cell(ch.field, ch.new, col)
        if not lf.is_csv and lf.table[col].dtype != object and not isinstance(value, pd.Timestamp):
            lf.table[col] = lf.table[col].astype(object)
        lf.table.at[index[ch.tree_id], col] = value


def _decimals(values: pd.Series, default: int) -> int:
    """The commonest number of decimals in a text column of numbers (new rows match it)."""
    text = values.astype(str).str.strip().head(2000)
    places = text[text.str.contains(".", regex=False)].str.split(".").str[-1].str.len()
    return int(places.mode().iloc[0]) if len(places) else default


def history_path(lf: LayerFile) -> Path:
    """Where the history lives: the GeoPackage itself, else a sidecar ``<file>.history.csv``."""
    return lf.path if lf.path.suffix.lower() == ".gpkg" else lf.path.with_name(lf.path.name + ".history.csv")


def history_table_name(lf: LayerFile) -> str:
    return f"{lf.layer or lf.path.stem}_history"


def _history_rows(changes: list[Change], *, source: Path, user: str, when: dt.datetime) -> pd.DataFrame:
    return pd.DataFrame([{"time": when.isoformat(timespec="seconds"), "user": user, "source": str(source),
                          "tree_id": c.tree_id, "action": c.action, "field": c.field, "old": _plain(c.old),
                          "new": _plain(c.new)} for c in changes], columns=HISTORY_COLUMNS)


def _write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (a temporary file; kept apart so a test can interrupt it)."""
    with open(path, "wb") as fh:
        fh.write(data)


def _csv_bytes(df: pd.DataFrame, *, encoding: str, bom: bool, sep: str = ",", newline: str = "\n") -> bytes:
    text = df.to_csv(index=False, sep=sep, lineterminator=newline)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def write_history_csv(path: Path, rows: pd.DataFrame) -> None:
    """Append rows to a sidecar history: the old bytes are copied unchanged, then the new
    rows, into a temporary file renamed over the old one."""
    old = path.read_bytes() if path.exists() else b""
    new = _csv_bytes(rows, encoding="utf-8", bom=not old)
    if old:
        new = new.split(b"\n", 1)[1]  # no second header
        if not old.endswith(b"\n"):
            old += b"\n"
    with atomic_path(path) as tmp:
        _write_bytes(tmp, old + new)


def write_layer(lf: LayerFile, history: pd.DataFrame) -> Path:
    """Write the layer (and its history) back atomically; returns where the history went."""
    hist = history_path(lf)
    if lf.is_csv:
        write_history_csv(hist, history)
        table = lf.table.copy()
        header = list(lf.csv["header"]) + [c for c in table.columns[len(lf.csv["header"]):]]
        table.columns = header
        data = _csv_bytes(table, encoding=lf.csv["encoding"], bom=lf.csv["bom"], sep=lf.csv["sep"],
                          newline=lf.csv["newline"])
        with atomic_path(lf.path) as tmp:
            _write_bytes(tmp, data)
        return hist
    gdf = gpd.GeoDataFrame(lf.table, geometry=lf.geometry.to_numpy(), crs=lf.geometry.crs)
    suffix = lf.path.suffix.lower()
    import pyogrio

    if suffix == ".gpkg":
        with atomic_path(lf.path) as tmp:
            shutil.copy2(lf.path, tmp)
            pyogrio.write_dataframe(gdf, tmp, layer=lf.layer, driver="GPKG")
            if len(history):
                pyogrio.write_dataframe(history, tmp, layer=history_table_name(lf), driver="GPKG",
                                        append=_has_layer(tmp, history_table_name(lf)))
        return hist
    write_history_csv(hist, history)
    with atomic_path(lf.path) as tmp:
        if suffix in (".parquet", ".geoparquet"):
            gdf.to_parquet(tmp)
        else:
            pyogrio.write_dataframe(gdf, tmp, driver=VECTOR_SUFFIXES[suffix])
    return hist


def _has_layer(path: Path, name: str) -> bool:
    import pyogrio

    return name in [str(n) for n, _ in pyogrio.list_layers(path)]


def read_history(lf_path: Path, layer: str | None = None) -> pd.DataFrame:
    """Every recorded change of a trees layer (empty when none yet)."""
    lf_path = Path(lf_path)
    if lf_path.suffix.lower() == ".gpkg":
        name = f"{layer or lf_path.stem}_history"
        if not _has_layer(lf_path, name):
            return pd.DataFrame(columns=HISTORY_COLUMNS)
        import pyogrio

        return pd.DataFrame(pyogrio.read_dataframe(lf_path, layer=name, read_geometry=False))[HISTORY_COLUMNS]
    side = lf_path.with_name(lf_path.name + ".history.csv")
    if not side.exists():
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    return pd.read_csv(side, dtype=str, keep_default_na=False, encoding="utf-8-sig")


# --------------------------------------------------------------------------- the import


def import_survey(township: Township, source: str | Path, *, layer: str = "infected_trees",
                  allow_regress: bool = False, skip_bad: bool = False, dry_run: bool = False,
                  from_gcj02: bool = False, encoding: str | None = None, user: str | None = None,
                  now: dt.datetime | None = None) -> Result:
    """Merge the survey file ``source`` into the township's trees layer (see the module
    docstring for the rules). The main table counts trees per action (added, advanced,
    updated, refused, unchanged, skipped); ``tables["changes"]`` lists every change.
    ``dry_run`` computes the same summary and writes nothing."""
    if layer != "infected_trees":
        raise UsageError(f"import merges updates into infected_trees, not {layer!r}",
                         hint="use --layer infected_trees (other layers: replace their file and edit township.toml)")
    source = Path(source)
    lf = read_layer_file(township)
    current = _current(lf, township)
    dup = current["tree_id"].notna() & current["tree_id"].duplicated(keep=False)
    if dup.any():
        raise FieldError(f"the trees layer has duplicate ids ({', '.join(map(str, current['tree_id'][dup].unique()[:5]))}"
                         "), so updates cannot be matched", path=lf.path,
                         hint="give each tree its own id (geo-township check lists them), then import again")
    survey = read_survey(source, township, from_gcj02=from_gcj02, encoding=encoding)
    changes, actions, findings, added = plan_merge(current, survey, allow_regress=allow_regress,
                                                   skip_bad=skip_bad)
    user = user or _user()
    when = now or dt.datetime.now().astimezone()
    history = _history_rows(changes, source=source.resolve(), user=user, when=when)
    written = None
    if changes and not dry_run:
        apply_changes(lf, current, survey, changes, added)
        written = write_layer(lf, history)
    counts = Counter(actions.values())
    table = pd.DataFrame({"action": list(ACTIONS), "trees": [counts.get(a, 0) for a in ACTIONS]})
    if counts.get("regressed"):
        table = pd.concat([table, pd.DataFrame([{"action": "regressed", "trees": counts["regressed"]}])],
                          ignore_index=True)
    notes = list(survey.notes)
    if dry_run:
        notes.append("dry run: nothing was written")
    elif not changes:
        notes.append("no change to write: the layer already holds everything accepted from the survey "
                     "(no file written)")
    else:
        notes.append(f"{len(changes)} change(s) written to {lf.path.name}; history in "
                     + (f"{written.name} (table {history_table_name(lf)})" if written == lf.path else written.name))
    prov = township.provenance(analysis="import", source=str(source.resolve()), layer_file=str(lf.path),
                               history=str(history_path(lf)), user=user, time=when.isoformat(timespec="seconds"),
                               dry_run=dry_run, allow_regress=allow_regress, skip_bad=skip_bad,
                               from_gcj02=from_gcj02)
    changes_table = history[["tree_id", "action", "field", "old", "new"]] if len(history) else \
        pd.DataFrame(columns=["tree_id", "action", "field", "old", "new"])
    return Result(f"Import of {source.name} into {lf.path.name}" + (" (dry run)" if dry_run else ""), table,
                  tables={"changes": changes_table} if len(changes_table) else {}, findings=findings, notes=notes, provenance=prov)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        return os.environ.get("USERNAME", "unknown")


def tree_history(township: Township, tree_id: str) -> Result:
    """Every recorded change of one tree, oldest first, and its current record."""
    layer = township.layer("infected_trees")
    hist = read_history(layer.path, layer.spec.layer)
    mine = hist[hist["tree_id"].astype(str) == str(tree_id)].reset_index(drop=True)
    ids = layer.ids()
    now = layer.gdf[ids.to_numpy() == str(tree_id)]
    notes = []
    if not len(now) and not len(mine):
        raise UsageError(f"no tree {tree_id!r} in the layer or its history", path=layer.path,
                         hint="check the id (geo-township trees --deadline lists ids)")
    if len(now):
        rec = now.iloc[0]
        parts = [f"status {TREE_STATUS.label(rec['status'])}"]
        for f in EVENT_ORDER:
            if f in rec.index and pd.notna(rec[f]):
                parts.append(f"{f} {rec[f]:%Y-%m-%d}")
        notes.append(f"now: {', '.join(parts)}")
    if not len(mine):
        notes.append("no recorded changes (the tree has not been changed by an import)")
    return Result(f"History of tree {tree_id}", mine[["time", "user", "source", "action", "field", "old", "new"]],
                  notes=notes, provenance=township.provenance(analysis="history", tree_id=str(tree_id)))
