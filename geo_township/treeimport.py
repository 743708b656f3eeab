"""Status updates from the field: merge a crew's survey file into the pine-wilt trees layer
by ``tree_id``, keeping the layer's own format and words, with an append-only history.

Rules
-----
* **Merge by tree_id.** A status only moves forward along suspected → confirmed → felled →
  cleared → verified; a backward move is refused with a message (``allow_regress=True``
  lets a correction through). A date earlier than the tree's previous event is reported.
  New ids are added with their location. Empty cells in the survey mean "no news" and
  never blank a value. Columns the tool does not know are kept (added to the layer; the
  placemark numbers a KML writer adds are not a column of the survey).
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
* **History.** Every change is appended (old rows are never changed) with the time, the
  import's id, user (``getpass.getuser()``), source file, tree_id, action, field, old and
  new value: in a table ``<layer>_history`` inside a GeoPackage (written in the same
  atomic step as the layer), else in a sidecar ``<layer file>.history.csv`` (UTF-8 with
  BOM), written *before* the layer so a change in the layer is never missing from the
  history, with fingerprints of the layer file before and after the import. If an import
  is killed between the two writes, the next import (or ``trees --history``) finds the
  layer still at the *before* fingerprint and removes that import's rows, with a warning
  (:func:`reconcile_history`).
* **Coordinates.** A survey's coordinates are read in ``--crs`` when given, else in the
  file's CRS, else one inferred from the numbers (8-digit Gauss–Krüger eastings carry
  their zone; 6-digit ones need ``gk_zone`` in township.toml or ``--crs``); the
  township's default ``crs`` is used only when the numbers fit it, so metres are never
  written as degrees. A new tree outside China or further than ``import_max_outside_m``
  outside the township is a bad row; survey coordinates further than
  ``import_moved_warn_m`` from a known tree's stored location are reported.
* **Setting back.** With ``allow_regress`` a tree set back (e.g. verified → felled) loses
  the dates of the events undone (清理日期, 核查日期 …); their old values are in the history.
  A tree moved to a status without that event's date is reported.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import io
import logging
import os
import re
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geo_township.crs import CGCS2000, CHINA_LAT, CHINA_LON, gcj02_to_wgs84, infer_crs, parse_crs
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
HISTORY_COLUMNS = ["time", "import_id", "user", "source", "tree_id", "action", "field", "old", "new",
                   "layer_before", "layer_after"]
"""The history's columns: one row per change; ``import_id`` groups the rows of one import and
``layer_before``/``layer_after`` fingerprint the layer file around it (sidecar histories)."""
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
    crs: CRS | None = None  # the CRS the coordinates were read in


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
    if geographic and not (readers._looks_like(x, -180, 180) and readers._looks_like(y, -180, 180)):
        geographic = False  # headed 经度/纬度 but holding metres: inferred like x/y below
    if geographic and readers._looks_like(x, 3, 54) and readers._looks_like(y, 73, 136):
        x, y = y, x
    elif not geographic and readers._looks_like(x, 1e6, 1e7) and (readers._looks_like(y, 1e5, 1e6)
                                                                 or readers._looks_like(y, 1e7, 1e8)):
        x, y = y, x  # surveyors' X is the northing
    return df.drop(columns=[xcol, ycol]), np.column_stack([x, y]), xbad | ybad, lines, [xcol, ycol], geographic


def read_survey(path: str | Path, township: Township, *, from_gcj02: bool = False,
                encoding: str | None = None, crs: Any = None) -> Survey:
    """Read a survey file (CSV, XLSX, KML/KMZ, GPX, GeoPackage, shapefile, GeoJSON …) into
    canonical values; every cell that cannot be understood marks its line as bad.

    Coordinates become CGCS2000 longitude/latitude. Their CRS is ``crs`` when given (for a
    survey whose file does not say, e.g. ``"EPSG:4548"``), else the file's own, else
    inferred from the numbers (:func:`geo_township.crs.infer_crs`); metre-sized numbers are
    never read as degrees. ``from_gcj02`` first undoes the GCJ-02 shift of points copied
    from AMap or Tencent maps (only for longitude/latitude).
    """
    path = Path(path)
    if not path.exists():
        raise LayerReadError("survey file not found", path=path, hint="check the file name and folder")
    given = parse_crs(str(crs), where="--crs") if crs is not None and not isinstance(crs, CRS) else crs
    spec = township.config.layers.get("infected_trees")
    notes: list[str] = []
    if path.suffix.lower() in readers.TABLE_SUFFIXES:
        df, xy, coord_bad, lines, cols, geographic = _read_survey_table(path, encoding)
        ok = np.isfinite(xy).all(axis=1)
        crs = None
        if given is not None:
            crs = given
        elif not ok.any():
            crs = None
        elif geographic and _in_china(xy[ok, 0], xy[ok, 1]):
            crs = CGCS2000
        else:
            crs = _infer(township, xy[ok, 0], xy[ok, 1], path, cols)
        geographic = crs is None or crs.is_geographic
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
        crs = given if given is not None else gdf.crs
        if crs is None and (has & pts).any():
            crs = _infer(township, xy[has & pts, 0], xy[has & pts, 1], path, [])
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
    if ok.any() and crs is not None and not CRS(crs).equals(CGCS2000):
        pts = gpd.GeoSeries(gpd.points_from_xy(xy[ok, 0], xy[ok, 1]), crs=crs).to_crs(CGCS2000)
        lonlat[ok] = np.column_stack([pts.x, pts.y])
    if ok.any() and not _in_china_each(lonlat[ok, 0], lonlat[ok, 1]).any():
        where = f" (read as {CRS(crs).to_string()})" if crs is not None else ""
        raise CRSError(f"none of the survey's coordinates{where} falls in China: longitude "
                       f"{np.nanmin(lonlat[ok, 0]):.6g}–{np.nanmax(lonlat[ok, 0]):.6g}, latitude "
                       f"{np.nanmin(lonlat[ok, 1]):.6g}–{np.nanmax(lonlat[ok, 1]):.6g}", path=path,
                       hint=CRS_HINT)

    columns = [str(c) for c in df.columns]
    explicit = {k: v for k, v in (spec.fields if spec else {}).items() if v in columns}
    match = match_fields(columns, KIND, explicit)
    name_col = next((c for c in columns if normalise_name(c) == "name"), None)  # KML/GPX placemark names
    kml = path.suffix.lower() in (".kml", ".kmz")
    if path.suffix.lower() in (".kml", ".kmz", ".gpx") and name_col is not None and df[name_col].notna().any() \
            and normalise_name(match.mapping.get("tree_id", "id")) == "id":
        match.mapping["tree_id"] = name_col  # the tree's id is the placemark's name
    if kml and "id" in df.columns:
        # LIBKML gives every placemark an 'id' ("drone.1"): not a field of the survey
        if match.mapping.get("tree_id") == "id":
            if _generated_ids(df["id"]):
                raise FieldError("the KML's placemarks have no names and no tree id field (only the numbers "
                                 f"the KML writer gave them, e.g. {df['id'].iloc[0]!r})", path=path,
                                 hint="name each placemark after its tree (疫木编号), or add a field 编号")
        else:
            df = df.drop(columns="id")
            columns.remove("id")
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
    return Survey(path, rows, lonlat, [c for c in match.mapping], extras, bad, notes,
                  CRS(crs) if crs is not None else None)


CRS_HINT = ("give the survey's coordinate system: geo-township import FILE --crs EPSG:4548 (CGCS2000 "
            "Gauss–Krüger 3-degree zone CM 117°E; EPSG:4534 + (CM − 75) / 3 for other central meridians, "
            "EPSG:4513–4533 for eastings with a zone prefix, EPSG:4490 for longitude/latitude)")


def _in_china_each(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Per pair: is this longitude/latitude inside China's rough extent? (NaN: False)"""
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    return (lon >= CHINA_LON[0]) & (lon <= CHINA_LON[1]) & (lat >= CHINA_LAT[0]) & (lat <= CHINA_LAT[1])


def _in_china(lon: np.ndarray, lat: np.ndarray) -> bool:
    """Are all these longitude/latitude pairs inside China's rough extent?"""
    inside = _in_china_each(lon, lat)
    return bool(len(inside)) and bool(inside.all())


def _plausible(x: np.ndarray, y: np.ndarray, crs: Any) -> bool:
    """Do the coordinates fall in China when read in ``crs``?"""
    from pyproj import Transformer

    try:
        lon, lat = Transformer.from_crs(CRS(crs), CGCS2000, always_xy=True).transform(x, y)
    except Exception:  # noqa: BLE001 - a transform that fails means the CRS does not fit the numbers
        return False
    return _in_china(np.asarray(lon), np.asarray(lat))


def _generated_ids(values: pd.Series) -> bool:
    """Are these the ids a KML writer numbers placemarks with ("layer.1", "layer.2", …)?"""
    text = values.dropna().astype(str)
    parts = text.str.rsplit(".", n=1)
    if not len(text) or not (parts.str.len() == 2).all():
        return False
    return parts.str[0].nunique() == 1 and parts.str[1].str.fullmatch(r"\d+").all()


def _infer(township: Township, x: np.ndarray, y: np.ndarray, path: Path, columns: list[str]) -> CRS:
    """The CRS of a survey's coordinates that came without one: inferred from the numbers,
    else the township's default ``crs`` — but only when the numbers fit it (metres are
    never taken for degrees); otherwise an error naming the file and the way out."""
    try:
        return infer_crs(x, y, gk_zone=township.config.gk_zone).crs
    except CRSError as exc:
        default = township.config.crs
        if default is not None and _plausible(x, y, default):
            return CRS(default)
        cols = f" (columns {'/'.join(columns)})" if columns else ""
        hint = CRS_HINT
        if "gk_zone" in (exc.hint or ""):
            hint += ("; or name the zone once for every file: gk_zone = 117 (the central meridian) under [township] "
                     "in township.toml")
        raise CRSError(f"cannot tell the coordinate system of the survey's coordinates{cols}: {exc.message}",
                       path=path, hint=hint) from None


def check_locations(township: Township, survey: Survey, known: set[str], *, max_outside_m: float,
                    moved_warn_m: float) -> list[Finding]:
    """Check the survey's coordinates against the township before anything is written.

    A **new** tree whose coordinates lie outside China, or more than ``max_outside_m``
    metres outside the township's extent (the bounding box of its villages, else of its
    trees, in the working CRS), makes its line bad (wrong coordinate system? a typo?).
    For a tree **already in the layer** the survey's coordinates are never used; when they
    lie more than ``moved_warn_m`` metres from the stored location a warning says so.
    """
    rows = survey.rows
    ok = np.isfinite(survey.lonlat).all(axis=1)
    if not ok.any():
        return []
    ids = rows["tree_id"].astype(object).to_numpy()
    new = np.array([t is not None and str(t) not in known for t in ids]) & ok
    lon, lat = survey.lonlat[:, 0], survey.lonlat[:, 1]
    china = _in_china_each(lon, lat)
    work = township.working_crs
    xy = np.full((len(rows), 2), np.nan)
    inside_ok = ok & china
    if inside_ok.any():
        pts = gpd.GeoSeries(gpd.points_from_xy(lon[inside_ok], lat[inside_ok]), crs=CGCS2000).to_crs(work)
        xy[inside_ok] = np.column_stack([pts.x, pts.y])
    ref = township.optional("villages")
    what = "its villages"
    if ref is None or not len(ref):
        ref, what = township.gdf("infected_trees"), "its trees"
    xmin, ymin, xmax, ymax = ref.total_bounds
    dx = np.maximum(np.maximum(xmin - xy[:, 0], xy[:, 0] - xmax), 0.0)
    dy = np.maximum(np.maximum(ymin - xy[:, 1], xy[:, 1] - ymax), 0.0)
    outside = np.hypot(dx, dy)
    for i in np.flatnonzero(new):
        line = int(rows["line"].iloc[i])
        if not china[i]:
            survey.bad.setdefault(line, []).append(
                f"new tree {ids[i]}: coordinates {lon[i]:.6f}, {lat[i]:.6f} are not in China (wrong coordinate "
                "system? give it with --crs)")
        elif outside[i] > max_outside_m:
            survey.bad.setdefault(line, []).append(
                f"new tree {ids[i]}: coordinates {lon[i]:.6f}, {lat[i]:.6f} lie {outside[i] / 1000:.1f} km outside "
                f"the township ({what}; at most {max_outside_m:g} m allowed, import_max_outside_m): a typo, "
                "a GCJ-02 shift (--from-gcj02) or the wrong coordinate system (--crs)?")
    findings: list[Finding] = []
    old = ok & ~new & china & np.array([t is not None for t in ids])
    if old.any():
        layer = township.layer("infected_trees")
        stored = dict(zip(layer.ids().to_numpy(), layer.gdf.geometry.to_numpy(), strict=True))
        pos = np.flatnonzero(old)
        have = np.array([str(ids[i]) in stored for i in pos], dtype=bool)
        pos = pos[have]
        if len(pos):
            geoms = np.array([stored[str(ids[i])] for i in pos], dtype=object)
            import shapely

            d = shapely.distance(geoms, shapely.points(xy[pos, 0], xy[pos, 1]))
            for i, dist in zip(pos, d, strict=True):
                if dist > moved_warn_m:
                    findings.append(Finding(
                        "infected_trees", str(ids[i]), "warning", "survey_location_differs",
                        f"survey line {int(rows['line'].iloc[i])}: the survey puts tree {ids[i]} {dist:,.0f} m from "
                        f"its stored location (more than {moved_warn_m:g} m, import_moved_warn_m); the stored "
                        "location is kept — check the id and the coordinates"))
    return findings


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
            if STATUS_RANK[row["status"]] >= STATUS_RANK["felled"]:
                findings += _status_without_date(tid, line, row["status"], None, row, rows.columns, set())
            for f in fields:
                if row[f] is not None and not (isinstance(row[f], float) and np.isnan(row[f])) and row[f] is not pd.NaT:
                    changes.append(Change(tid, "added", f, None, row[f]))
            continue
        cur = current.iloc[index[tid]]
        old_status = cur.get("status")
        new_status = row["status"] if "status" in rows.columns else None
        regress = new_status is not None and old_status is not None and \
            STATUS_RANK[new_status] < STATUS_RANK[old_status]
        if regress and not allow_regress:
            actions[tid] = "refused"
            findings.append(Finding("infected_trees", tid, "error", "status_backward",
                                    f"survey line {line}: status {old_status} → {new_status} refused: a tree only "
                                    "moves forward (suspected → confirmed → felled → cleared → verified); "
                                    "use --allow-regress to correct a mistake"))
            continue
        later = set(_later_dates(new_status)) if regress else set()
        mine: list[Change] = []
        for f in fields:
            new = row[f]
            if new is None or new is pd.NaT or (isinstance(new, float) and np.isnan(new)):
                continue
            if f in later:
                findings.append(Finding("infected_trees", tid, "warning", "date_after_status",
                                        f"survey line {line}: {f} {_plain(new)} left out: the tree is set back to "
                                        f"{new_status}, which has no {f}"))
                continue
            old = cur.get(f) if f in cur.index else None
            if _same(old, new):
                continue
            mine.append(Change(tid, "", f, old, new))
        for f in sorted(later, key=EVENT_ORDER.index):
            # set back: the dates of the events undone are emptied (their old values stay in the history)
            old = cur.get(f) if f in cur.index else None
            if _plain(old) != "":
                mine.append(Change(tid, "", f, old, None))
        advanced = any(c.field == "status" for c in mine)
        action = "advanced" if advanced else ("updated" if mine else "unchanged")
        if advanced and regress:
            action = "regressed"
        for c in mine:
            c.action = action
        changes += mine
        actions[tid] = action
        findings += _date_order(tid, line, cur, row, rows.columns)
        if advanced:
            findings += _status_without_date(tid, line, new_status, cur, row, rows.columns, later)
    return changes, actions, findings, added


def _later_dates(status: str) -> tuple[str, ...]:
    """The event dates that come after ``status`` in a tree's life (emptied when a tree is
    set back to it); the find date is never among them."""
    return EVENT_ORDER[max(STATUS_RANK[status], 0) + 1:]


def _status_without_date(tid: str, line: int, status: str, cur: pd.Series | None, row: pd.Series, columns,
                         emptied: set[str]) -> list[Finding]:
    """A tree moved to ``status`` with no date for that event (its own date field, nor the
    field used in its place — see :data:`geo_township.trees.STAGE_DATES`) is reported: it
    counts in the totals but in no period until the date is filled in."""
    from geo_township.tree_events import STAGE_DATES, STAGES

    stage = STAGES[STATUS_RANK[status]]
    for f in STAGE_DATES[stage]:
        new = row[f] if f in columns else None
        if new is not None and not pd.isna(new):
            return []
        old = cur.get(f) if cur is not None and f in cur.index and f not in emptied else None
        if old is not None and not pd.isna(old):
            return []
    own = STAGE_DATES[stage][0]
    return [Finding("infected_trees", tid, "warning", "status_without_date",
                    f"survey line {line}: {tid} is now {status} but has no {own} ({KIND.field(own).zh}); it counts in "
                    "the totals but in no period until the date is filled in")]


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
        if value is None:  # a date emptied when a tree is set back
            if lf.is_csv:
                return ""
            return pd.NaT if pd.api.types.is_datetime64_any_dtype(lf.table[col]) else None
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
        if not lf.is_csv and lf.table[col].dtype != object and not (isinstance(value, pd.Timestamp)
                                                                     or value is pd.NaT):
            lf.table[col] = lf.table[col].astype(object)
        lf.table.at[index[ch.tree_id], col] = value


def _decimals(values: pd.Series, default: int) -> int:
    """The commonest number of decimals in a text column of numbers (new rows match it)."""
    text = values.astype(str).str.strip().head(2000)
    places = text[text.str.contains(".", regex=False)].str.split(".").str[-1].str.len()
    return int(places.mode().iloc[0]) if len(places) else default


def history_path(lf: LayerFile) -> Path:
    """Where the history lives: the GeoPackage itself, else a sidecar ``<file>.history.csv``."""
    return lf.path if lf.path.suffix.lower() == ".gpkg" else sidecar_path(lf.path)


def sidecar_path(layer_path: Path) -> Path:
    """The sidecar history of a trees layer that is not a GeoPackage."""
    return layer_path.with_name(layer_path.name + ".history.csv")


def history_table_name(lf: LayerFile) -> str:
    return f"{lf.layer or lf.path.stem}_history"


def new_import_id(when: dt.datetime) -> str:
    """A unique id for one import: its time and a random suffix (20230402T093000-1a2b3c4d)."""
    return f"{when:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def _digest(data: bytes) -> str:
    """A short fingerprint of a layer file's bytes (SHA-256, first 16 hex digits)."""
    return hashlib.sha256(data).hexdigest()[:16]


def _history_rows(changes: list[Change], *, source: Path, user: str, when: dt.datetime,
                  import_id: str) -> pd.DataFrame:
    return pd.DataFrame([{"time": when.isoformat(timespec="seconds"), "import_id": import_id, "user": user,
                          "source": str(source), "tree_id": c.tree_id, "action": c.action, "field": c.field,
                          "old": _plain(c.old), "new": _plain(c.new), "layer_before": "", "layer_after": ""}
                         for c in changes], columns=HISTORY_COLUMNS)


def _write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (a temporary file; kept apart so a test can interrupt it)."""
    with open(path, "wb") as fh:
        fh.write(data)


def _csv_bytes(df: pd.DataFrame, *, encoding: str, bom: bool, sep: str = ",", newline: str = "\n") -> bytes:
    text = df.to_csv(index=False, sep=sep, lineterminator=newline)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def _read_sidecar(path: Path) -> pd.DataFrame:
    """A sidecar history with every column of :data:`HISTORY_COLUMNS` (older files lack the
    import id and layer fingerprints: those cells are empty)."""
    if not path.exists():
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for col in HISTORY_COLUMNS:
        if col not in table.columns:
            table[col] = ""
    return table[HISTORY_COLUMNS]


def write_history_csv(path: Path, rows: pd.DataFrame) -> None:
    """Append rows to a sidecar history: the old bytes are copied unchanged, then the new
    rows, into a temporary file renamed over the old one. (A history written by an older
    version, without the import id columns, is rewritten once with them, its rows kept.)"""
    old = path.read_bytes() if path.exists() else b""
    header = ",".join(HISTORY_COLUMNS).encode("utf-8")
    if old and old.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].rstrip(b"\r") != header:
        rows = pd.concat([_read_sidecar(path), rows], ignore_index=True)
        old = b""
    new = _csv_bytes(rows[HISTORY_COLUMNS], encoding="utf-8", bom=not old)
    if old:
        new = new.split(b"\n", 1)[1]  # no second header
        if not old.endswith(b"\n"):
            old += b"\n"
    with atomic_path(path) as tmp:
        _write_bytes(tmp, old + new)


def write_layer(lf: LayerFile, history: pd.DataFrame) -> Path:
    """Write the layer (and its history) back atomically; returns where the history went.

    A sidecar history is written before the new layer file is renamed into place, with the
    fingerprints of the layer before and after the import, so that an import killed between
    the two can be recognised later (:func:`reconcile_history`)."""
    hist = history_path(lf)
    if lf.is_csv:
        table = lf.table.copy()
        header = list(lf.csv["header"]) + [c for c in table.columns[len(lf.csv["header"]):]]
        table.columns = header
        data = _csv_bytes(table, encoding=lf.csv["encoding"], bom=lf.csv["bom"], sep=lf.csv["sep"],
                          newline=lf.csv["newline"])
        history = history.assign(layer_before=_digest(lf.path.read_bytes()), layer_after=_digest(data))
        write_history_csv(hist, history)
        with atomic_path(lf.path) as tmp:
            _write_bytes(tmp, data)
        return hist
    gdf = gpd.GeoDataFrame(lf.table, geometry=lf.geometry.to_numpy(), crs=lf.geometry.crs)
    suffix = lf.path.suffix.lower()
    import pyogrio

    if suffix == ".gpkg":
        name = history_table_name(lf)
        with atomic_path(lf.path) as tmp:
            shutil.copy2(lf.path, tmp)
            pyogrio.write_dataframe(gdf, tmp, layer=lf.layer, driver="GPKG")
            if len(history):
                old = _read_gpkg_history(tmp, name) if _has_layer(tmp, name) else None
                if old is not None and list(old.columns) != HISTORY_COLUMNS:
                    # an older table without the import id: rewritten once with it, its rows kept
                    history = pd.concat([old.reindex(columns=HISTORY_COLUMNS, fill_value=""), history],
                                        ignore_index=True)
                    pyogrio.write_dataframe(history, tmp, layer=name, driver="GPKG")
                else:
                    pyogrio.write_dataframe(history, tmp, layer=name, driver="GPKG", append=old is not None)
        return hist
    before = _digest(lf.path.read_bytes())
    with atomic_path(lf.path) as tmp:
        if suffix in (".parquet", ".geoparquet"):
            gdf.to_parquet(tmp)
        else:
            pyogrio.write_dataframe(gdf, tmp, driver=VECTOR_SUFFIXES[suffix])
        write_history_csv(hist, history.assign(layer_before=before, layer_after=_digest(tmp.read_bytes())))
    return hist


def _has_layer(path: Path, name: str) -> bool:
    import pyogrio

    return name in [str(n) for n, _ in pyogrio.list_layers(path)]


def _read_gpkg_history(path: Path, name: str) -> pd.DataFrame:
    import pyogrio

    table = pd.DataFrame(pyogrio.read_dataframe(path, layer=name, read_geometry=False))
    return table.astype(object).where(table.notna(), "")


def read_history(lf_path: Path, layer: str | None = None) -> pd.DataFrame:
    """Every recorded change of a trees layer (empty when none yet), oldest first."""
    lf_path = Path(lf_path)
    if lf_path.suffix.lower() == ".gpkg":
        name = f"{layer or lf_path.stem}_history"
        if not _has_layer(lf_path, name):
            return pd.DataFrame(columns=HISTORY_COLUMNS)
        return _read_gpkg_history(lf_path, name).reindex(columns=HISTORY_COLUMNS, fill_value="")
    return _read_sidecar(sidecar_path(lf_path))


def reconcile_history(layer_path: Path, *, repair: bool = True) -> tuple[list[str], list[Finding]]:
    """Make a sidecar history agree with its layer after an interrupted import.

    A sidecar is written just before its layer, so a kill between the two leaves history
    rows for changes the layer never received. Each import records the layer's fingerprint
    before and after it; when the layer still has the *before* fingerprint of the last
    recorded import, that import never reached it and its rows are removed (the sidecar is
    rewritten atomically; with ``repair=False`` only reported). When the layer matches
    neither fingerprint it was edited by other means since, and the history is left alone.
    A GeoPackage keeps its history inside, written in the same atomic step: nothing to do.
    Returns notes and warning findings.
    """
    layer_path = Path(layer_path)
    side = sidecar_path(layer_path)
    if layer_path.suffix.lower() == ".gpkg" or not side.exists() or not layer_path.exists():
        return [], []
    hist = _read_sidecar(side)
    if not len(hist) or not hist["import_id"].iloc[-1]:
        return [], []
    last = hist["import_id"].iloc[-1]
    mine = (hist["import_id"] == last).to_numpy()
    first = hist[mine].iloc[0]
    if not first["layer_before"] or not first["layer_after"]:
        return [], []
    now = _digest(layer_path.read_bytes())
    if now == first["layer_after"]:
        return [], []
    if now != first["layer_before"]:
        return [(f"{layer_path.name} was changed by other means after the last import ({first['time']}); the "
                "history records only what imports changed")], []
    what = (f"the last import in {side.name} ({int(mine.sum())} change(s) from {Path(first['source']).name} at "
            f"{first['time']}, import {last}) never reached {layer_path.name}: it was interrupted before the layer "
            "was written")
    if repair:
        keep = hist[~mine]
        with atomic_path(side) as tmp:
            _write_bytes(tmp, _csv_bytes(keep, encoding="utf-8", bom=True))
        what += "; its rows were removed from the history"
    else:
        what += "; its rows will be removed from the history by the next import (dry run: nothing changed)"
    log.warning(what)
    return [what], [Finding("infected_trees", "history", "warning", "history_repaired", what)]


# --------------------------------------------------------------------------- the import


def import_survey(township: Township, source: str | Path, *, layer: str = "infected_trees",
                  allow_regress: bool = False, skip_bad: bool = False, dry_run: bool = False,
                  from_gcj02: bool = False, encoding: str | None = None, crs: Any = None,
                  user: str | None = None, now: dt.datetime | None = None) -> Result:
    """Merge the survey file ``source`` into the township's trees layer (see the module
    docstring for the rules). The main table counts trees per action (added, advanced,
    updated, refused, unchanged, skipped); ``tables["changes"]`` lists every change.
    ``crs`` is the survey's coordinate system when its file does not say (e.g.
    ``"EPSG:4548"``). ``dry_run`` computes the same summary and writes nothing."""
    if layer != "infected_trees":
        raise UsageError(f"import merges updates into infected_trees, not {layer!r}",
                         hint="use --layer infected_trees (other layers: replace their file and edit township.toml)")
    source = Path(source)
    params = township.config.parameters
    lf = read_layer_file(township)
    notes, findings = reconcile_history(lf.path, repair=not dry_run)
    current = _current(lf, township)
    dup = current["tree_id"].notna() & current["tree_id"].duplicated(keep=False)
    if dup.any():
        raise FieldError(f"the trees layer has duplicate ids ({', '.join(map(str, current['tree_id'][dup].unique()[:5]))}"
                         "), so updates cannot be matched", path=lf.path,
                         hint="give each tree its own id (geo-township check lists them), then import again")
    survey = read_survey(source, township, from_gcj02=from_gcj02, encoding=encoding, crs=crs)
    known = {str(t) for t in current["tree_id"] if t is not None}
    findings += check_locations(township, survey, known, max_outside_m=float(params["import_max_outside_m"]),
                                moved_warn_m=float(params["import_moved_warn_m"]))
    changes, actions, merge_findings, added = plan_merge(current, survey, allow_regress=allow_regress,
                                                         skip_bad=skip_bad)
    findings += merge_findings
    user = user or _user()
    when = now or dt.datetime.now().astimezone()
    import_id = new_import_id(when)
    history = _history_rows(changes, source=source.resolve(), user=user, when=when, import_id=import_id)
    written = None
    if changes and not dry_run:
        apply_changes(lf, current, survey, changes, added)
        written = write_layer(lf, history)
    counts = Counter(actions.values())
    table = pd.DataFrame({"action": list(ACTIONS), "trees": [counts.get(a, 0) for a in ACTIONS]})
    if counts.get("regressed"):
        table = pd.concat([table, pd.DataFrame([{"action": "regressed", "trees": counts["regressed"]}])],
                          ignore_index=True)
    notes = list(survey.notes) + notes
    if dry_run:
        notes.append("dry run: nothing was written")
    elif not changes:
        notes.append("no change to write: the layer already holds everything accepted from the survey "
                     "(no file written)")
    else:
        notes.append(f"{len(changes)} change(s) written to {lf.path.name}; history in "
                     + (f"{written.name} (table {history_table_name(lf)})" if written == lf.path else written.name)
                     + f", import {import_id}")
    prov = township.provenance(analysis="import", source=str(source.resolve()), layer_file=str(lf.path),
                               history=str(history_path(lf)), import_id=import_id if changes and not dry_run else None,
                               user=user, time=when.isoformat(timespec="seconds"), dry_run=dry_run,
                               allow_regress=allow_regress, skip_bad=skip_bad, from_gcj02=from_gcj02,
                               survey_crs=survey.crs.to_string() if survey.crs is not None else None)
    changes_table = history[["tree_id", "action", "field", "old", "new"]] if len(history) else \
        pd.DataFrame(columns=["tree_id", "action", "field", "old", "new"])
    return Result(f"Import of {source.name} into {lf.path.name}" + (" (dry run)" if dry_run else ""), table,
                  tables={"changes": changes_table} if len(changes_table) else {}, findings=findings, notes=notes,
                  provenance=prov)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        return os.environ.get("USERNAME", "unknown")


def tree_history(township: Township, tree_id: str) -> Result:
    """Every recorded change of one tree, oldest first, and its current record. An
    interrupted import's rows are first removed from a sidecar history
    (:func:`reconcile_history`)."""
    layer = township.layer("infected_trees")
    notes, findings = reconcile_history(layer.path)
    hist = read_history(layer.path, layer.spec.layer)
    mine = hist[hist["tree_id"].astype(str) == str(tree_id)].reset_index(drop=True)
    ids = layer.ids()
    now = layer.gdf[ids.to_numpy() == str(tree_id)]
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
                  notes=notes, findings=findings,
                  provenance=township.provenance(analysis="history", tree_id=str(tree_id)))
