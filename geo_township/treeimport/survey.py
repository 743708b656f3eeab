"""Reading a crew's survey file: canonical values per line with the bad lines named, and
coordinates as CGCS2000 longitude/latitude read in the right coordinate system."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geo_township.config import LayerSpec
from geo_township.crs import (
    CGCS2000,
    MAP_APP_SYSTEMS,
    in_china,
    infer_crs,
    map_app_system,
    map_app_to_cgcs2000,
    parse_crs,
)
from geo_township.errors import CRSError, FieldError, LayerReadError, UsageError
from geo_township.io.points import TABLE_SUFFIXES, read_point_table
from geo_township.io.read import KML_HOUSEKEEPING, choose_source_layer, read_vector
from geo_township.kinds import match_fields
from geo_township.labels import Text, quoted_name
from geo_township.layers import Township
from geo_township.results import Check, Finding, declare
from geo_township.treeimport.fields import KIND
from geo_township.values import to_codes, to_date, to_text
from geo_township.vocabulary import TREE_STATUS, normalise_name

CRS_HINT = ("give the survey's coordinate system: geo-township import FILE --crs EPSG:4548 (CGCS2000 "
            "Gauss–Krüger 3-degree zone CM 117°E; EPSG:4534 + (CM − 75) / 3 for other central meridians, "
            "EPSG:4513–4533 for eastings with a zone prefix, EPSG:4490 for longitude/latitude)")

SURVEY_CHECKS = declare(
    Check("survey_location_differs", "warning", "survey location far from the stored one", "调查坐标与原坐标相距过远",
          "survey line {line}: the survey puts tree {tree} {distance:,.0f} m from its stored location (more than "
          "{limit:g} m, import_moved_warn_m); the stored location is kept — check the id and the coordinates",
          "调查表第 {line} 行：调查坐标距疫木 {tree} 的原坐标 {distance:,.0f} 米"
          "（超过 import_moved_warn_m 的 {limit:g} 米）；保留原坐标，请核对编号和坐标"),
)


@dataclass
class Survey:
    """A crew's file with canonical values: one row per line, bad lines apart."""

    path: Path
    rows: pd.DataFrame  # canonical fields present, 'line', extras; index 0..n-1
    lonlat: np.ndarray  # (n, 2) CGCS2000 lon/lat, NaN where the row has no coordinates
    fields: list[str]  # canonical fields the survey has
    extras: list[str]  # the survey's other columns, kept
    bad: dict[int, list[Text]] = field(default_factory=dict)  # line -> reasons (English with Chinese twin)
    notes: list[str] = field(default_factory=list)
    crs: CRS | None = None  # the CRS the coordinates were read in
    notes_zh: list[str] = field(default_factory=list)  # the notes in Chinese


@dataclass
class _Located:
    """A survey file's cells and coordinates as read, before canonical values."""

    df: pd.DataFrame  # the file's columns without the coordinate columns; index 0..n-1
    xy: np.ndarray  # (n, 2) as written in the file, NaN where blank
    coord_bad: np.ndarray  # coordinates that are not numbers or not a point
    lines: pd.Series  # the line a user sees, per row
    crs: CRS | None  # the coordinates' CRS (None: no coordinates)
    geographic: bool
    notes: list[str] = field(default_factory=list)
    notes_zh: list[str] = field(default_factory=list)


def read_survey(path: str | Path, township: Township, *, from_gcj02: bool = False,
                encoding: str | None = None, crs: Any = None, from_crs: str | None = None,
                source_layer: str | None = None) -> Survey:
    """Read a survey file (CSV, XLSX, KML/KMZ, GPX, GeoPackage, shapefile, GeoJSON …) into
    canonical values; every cell that cannot be understood marks its line as bad.

    Coordinates become CGCS2000 longitude/latitude. Their CRS is ``crs`` when given (for a
    survey whose file does not say, e.g. ``"EPSG:4548"``), else the file's own, else
    inferred from the numbers (:func:`geo_township.crs.infer_crs`); metre-sized numbers are
    never read as degrees. ``from_crs`` (``"gcj02"`` or ``"bd09"``) first converts
    longitude/latitude copied from AMap or Tencent (GCJ-02) or Baidu (BD-09) maps to
    CGCS2000; ``from_gcj02=True`` is the same as ``from_crs="gcj02"``. ``source_layer``
    chooses the layer of a GeoPackage or File Geodatabase that holds several.
    """
    path = Path(path)
    if not path.exists():
        raise LayerReadError("survey file not found", path=path, hint="check the file name and folder")
    given = parse_crs(str(crs), where="--crs") if crs is not None and not isinstance(crs, CRS) else crs
    system = survey_map_app(from_crs, from_gcj02=from_gcj02)
    spec = township.config.layers.get("infected_trees")
    if path.suffix.lower() in TABLE_SUFFIXES:
        got = _read_table(path, township, encoding, given)
    else:
        got = _read_features(path, township, encoding, given, choose_source_layer(path, source_layer))
    if system is not None:
        _undo_map_app(got, system)
    lonlat = _to_cgcs2000(got, path)
    df, columns, mapping = _match_survey_fields(path, got.df, spec)
    rows, bad, extras = _canonical_rows(df, columns, mapping, got.lines, got.coord_bad, spec)
    return Survey(path, rows, lonlat, [c for c in mapping], extras, bad, got.notes,
                  CRS(got.crs) if got.crs is not None else None, notes_zh=got.notes_zh)


def _read_table(path: Path, township: Township, encoding: str | None, given: CRS | None) -> _Located:
    """A CSV/XLSX survey: its coordinate columns by the rule of
    :func:`geo_township.io.points.locate_coordinates`, read in ``given``, else CGCS2000 when
    they are longitude/latitude in China, else an inferred CRS. Unlike a layer, a survey may
    have no coordinates at all (status updates only)."""
    table = read_point_table(path, encoding=encoding, what="survey file")
    coords = table.coords
    lines = pd.Series(table.lines.to_numpy())
    if coords is None:
        n = len(table.table)
        xy, coord_bad, cols, geographic = np.full((n, 2), np.nan), np.zeros(n, dtype=bool), [], False
    else:
        xy, coord_bad = np.column_stack([coords.x, coords.y]), coords.bad
        cols, geographic = list(coords.named), coords.geographic
    df = table.attributes.reset_index(drop=True)
    ok = np.isfinite(xy).all(axis=1)
    if given is not None:
        crs = given
    elif not ok.any():
        crs = None
    elif geographic and _all_in_china(xy[ok, 0], xy[ok, 1]):
        crs = CGCS2000
    else:
        crs = _infer(township, xy[ok, 0], xy[ok, 1], path, cols)
    geographic = crs is None or crs.is_geographic
    return _Located(df, xy, coord_bad, lines, crs, geographic)


def _read_features(path: Path, township: Township, encoding: str | None, given: CRS | None,
                   layer: str | None = None) -> _Located:
    """A survey in a GIS format (KML/KMZ, GPX, GeoPackage …): its points, read in
    ``given``, else the file's CRS, else one inferred from the numbers. A feature that is
    not a point is a bad coordinate; the KML writer's housekeeping columns are left out."""
    import shapely

    raw = read_vector(path, layer=layer, encoding=encoding, geometry="Point")
    gdf = raw.gdf.reset_index(drop=True)
    geoms = gdf.geometry.to_numpy()
    has = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    pts = shapely.get_type_id(geoms) == 0
    xy = np.full((len(gdf), 2), np.nan)
    xy[has & pts] = shapely.get_coordinates(geoms[has & pts])[:, :2]
    coord_bad = has & ~pts
    crs = given if given is not None else gdf.crs
    if crs is None and (has & pts).any():
        crs = _infer(township, xy[has & pts, 0], xy[has & pts, 1], path, [])
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    for col in KML_HOUSEKEEPING:
        if col in df.columns:
            df = df.drop(columns=col)
    lines = pd.Series(np.arange(len(df)) + 1, index=df.index)
    geographic = crs is not None and crs.is_geographic if crs is not None else True
    return _Located(df, xy, coord_bad, lines, crs, geographic, list(raw.notes), list(raw.notes))


def survey_map_app(from_crs: str | None, *, from_gcj02: bool = False) -> str | None:
    """The map-app system a survey's coordinates were copied in: ``from_crs`` (``"gcj02"``,
    ``"bd09"``, any spelling :func:`geo_township.crs.map_app_system` knows), else
    ``"gcj02"`` for ``from_gcj02``; None when neither is given."""
    if from_crs is None:
        return "gcj02" if from_gcj02 else None
    system = map_app_system(from_crs)
    if system is None:
        raise UsageError(f"--from-crs {from_crs!r} is not a map app's coordinate system",
                         hint="use --from-crs gcj02 (AMap, Tencent) or --from-crs bd09 (Baidu); for a survey in "
                         "another coordinate system use --crs EPSG:CODE")
    if from_gcj02 and system != "gcj02":
        raise UsageError(f"--from-gcj02 and --from-crs {from_crs} contradict each other",
                         hint="give one of them")
    return system


def _undo_map_app(got: _Located, system: str) -> None:
    """Convert longitude/latitude copied from AMap or Tencent (GCJ-02) or Baidu (BD-09) to
    WGS84/CGCS2000."""
    option = "--from-gcj02" if system == "gcj02" else f"--from-crs {system}"
    if got.crs is not None and not got.geographic:
        raise UsageError(f"{option} applies to longitude/latitude, but the survey's coordinates are "
                         f"projected ({got.crs.to_string()})", hint=f"leave out {option} for projected files")
    xy = got.xy
    ok = np.isfinite(xy).all(axis=1)
    xy[ok, 0], xy[ok, 1] = map_app_to_cgcs2000(xy[ok, 0], xy[ok, 1], system)
    if system == "gcj02":
        got.notes.append(f"{int(ok.sum())} point(s) shifted back from GCJ-02 (AMap/Tencent) to WGS84/CGCS2000")
        got.notes_zh.append(f"{int(ok.sum())} 个点已从 GCJ-02（高德/腾讯）坐标纠正为 WGS84/CGCS2000")
    else:
        got.notes.append(f"{int(ok.sum())} point(s) converted from {MAP_APP_SYSTEMS[system][0]} to WGS84/CGCS2000")
        got.notes_zh.append(f"{int(ok.sum())} 个点已从 {MAP_APP_SYSTEMS[system][0]} 坐标转换为 WGS84/CGCS2000")


def _to_cgcs2000(got: _Located, path: Path) -> np.ndarray:
    """The coordinates as CGCS2000 longitude/latitude; none of them in China is an error
    (the wrong coordinate system, most likely)."""
    xy, crs = got.xy, got.crs
    lonlat = xy.copy()
    ok = np.isfinite(xy).all(axis=1)
    if ok.any() and crs is not None and not CRS(crs).equals(CGCS2000):
        pts = gpd.GeoSeries(gpd.points_from_xy(xy[ok, 0], xy[ok, 1]), crs=crs).to_crs(CGCS2000)
        lonlat[ok] = np.column_stack([pts.x, pts.y])
    if ok.any() and not in_china(lonlat[ok, 0], lonlat[ok, 1]).any():
        where = f" (read as {CRS(crs).to_string()})" if crs is not None else ""
        raise CRSError(f"none of the survey's coordinates{where} falls in China: longitude "
                       f"{np.nanmin(lonlat[ok, 0]):.6g}–{np.nanmax(lonlat[ok, 0]):.6g}, latitude "
                       f"{np.nanmin(lonlat[ok, 1]):.6g}–{np.nanmax(lonlat[ok, 1]):.6g}", path=path,
                       hint=CRS_HINT)
    return lonlat


def _match_survey_fields(path: Path, df: pd.DataFrame,
                         spec: LayerSpec | None) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """The survey's columns matched to the trees' fields (canonical -> column). In a KML or
    GPX file the tree id is the placemark's name; the numbers a KML writer gives its
    placemarks are not a field of the survey."""
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
                             hint="name it 编号 or 疫木编号 (or tree_id); columns in the file: "
                             + ", ".join(columns))
        match.mapping["tree_id"] = name_col
    return df, columns, match.mapping


def _canonical_rows(df: pd.DataFrame, columns: list[str], mapping: dict[str, str], lines: pd.Series,
                    coord_bad: np.ndarray,
                    spec: LayerSpec | None) -> tuple[pd.DataFrame, dict[int, list[Text]], list[str]]:
    """Each line's canonical values (status codes, dates, text), the other columns kept as
    text, and every bad line with its reasons (a cell not understood, an id missing or
    repeated, coordinates that are not a point)."""
    rows = pd.DataFrame(index=df.index)
    bad: dict[int, list[Text]] = {}

    def mark(mask: np.ndarray, reason) -> None:
        for i in np.flatnonzero(mask):
            bad.setdefault(int(lines.iloc[i]), []).append(reason(i) if callable(reason) else reason)

    values_map = spec.values.get("status") if spec else None
    for canon, col in mapping.items():
        f = KIND.field(canon)
        if f.dtype == "date":
            rows[canon], b = to_date(df[col])
            mark(b, lambda i, col=col: Text(f"{col} {quoted_name(df[col].iloc[i])} is not a date (write 2022-03-05)",
                                            f"{col} {quoted_name(df[col].iloc[i])} 不是日期（应写作 2022-03-05）"))
        elif f.vocabulary:
            rows[canon], b = to_codes(df[col], TREE_STATUS, values_map)
            words = ", ".join(f"{t.zh}/{t.code}" for t in TREE_STATUS.terms)
            words_zh = "、".join(t.zh for t in TREE_STATUS.terms)
            mark(b, lambda i, col=col, words=words, words_zh=words_zh: Text(
                f"{col} {quoted_name(df[col].iloc[i])} is not a status word (use one of {words})",
                f"{col} {quoted_name(df[col].iloc[i])} 不是状态词（可用：{words_zh}）"))
        else:
            rows[canon] = to_text(df[col])
    mark(rows["tree_id"].isna().to_numpy(), Text("no tree id", "没有疫木编号"))
    ids = rows["tree_id"]
    dup = ids.notna() & ids.duplicated(keep=False)
    for tid in ids[dup].unique():
        where = lines[ids == tid].tolist()
        mark((ids == tid).to_numpy(), Text(f"tree id {tid} appears on lines {', '.join(map(str, where))}",
                                           f"疫木编号 {tid} 在第 {'、'.join(map(str, where))} 行重复出现"))
    mark(coord_bad, Text("coordinates are not numbers or not a point", "坐标不是数字或不是点"))
    used = set(mapping.values())
    extras = [c for c in columns if c not in used and c != "source_row"]
    for c in extras:
        rows[c] = to_text(df[c])
    rows["line"] = lines.to_numpy()
    return rows, bad, extras


def _generated_ids(values: pd.Series) -> bool:
    """Are these the ids a KML writer numbers placemarks with ("layer.1", "layer.2", …)?"""
    text = values.dropna().astype(str)
    parts = text.str.rsplit(".", n=1)
    if not len(text) or not (parts.str.len() == 2).all():
        return False
    return parts.str[0].nunique() == 1 and parts.str[1].str.fullmatch(r"\d+").all()


# --------------------------------------------------------------------------- the coordinates' CRS


def _all_in_china(lon: np.ndarray, lat: np.ndarray) -> bool:
    """Are there points, and are all of them inside China's rough extent?"""
    inside = in_china(lon, lat)
    return bool(len(inside)) and bool(inside.all())


def _plausible(x: np.ndarray, y: np.ndarray, crs: Any) -> bool:
    """Do the coordinates fall in China when read in ``crs``?"""
    from pyproj import Transformer

    try:
        lon, lat = Transformer.from_crs(CRS(crs), CGCS2000, always_xy=True).transform(x, y)
    except Exception:  # noqa: BLE001 - a transform that fails means the CRS does not fit the numbers
        return False
    return _all_in_china(np.asarray(lon), np.asarray(lat))


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


# --------------------------------------------------------------------------- the survey's places


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
    china = in_china(survey.lonlat[:, 0], survey.lonlat[:, 1])
    xy = _working_xy(township, survey.lonlat, ok & china)
    _mark_far_new_trees(township, survey, ids, new, china, xy, max_outside_m)
    old = ok & ~new & china & np.array([t is not None for t in ids])
    if not old.any():
        return []
    return _moved_warnings(township, survey, ids, old, xy, moved_warn_m)


def _working_xy(township: Township, lonlat: np.ndarray, where: np.ndarray) -> np.ndarray:
    """The points at ``where`` in the township's working CRS (NaN elsewhere)."""
    work = township.working_crs
    xy = np.full((len(lonlat), 2), np.nan)
    if where.any():
        pts = gpd.GeoSeries(gpd.points_from_xy(lonlat[where, 0], lonlat[where, 1]), crs=CGCS2000).to_crs(work)
        xy[where] = np.column_stack([pts.x, pts.y])
    return xy


def _mark_far_new_trees(township: Township, survey: Survey, ids: np.ndarray, new: np.ndarray,
                        china: np.ndarray, xy: np.ndarray, max_outside_m: float) -> None:
    """Mark the line of each new tree outside China, or further than ``max_outside_m``
    outside the township's extent (its villages, else its trees), as bad."""
    rows, lon, lat = survey.rows, survey.lonlat[:, 0], survey.lonlat[:, 1]
    ref = township.optional("villages")
    what, what_zh = "its villages", "按村界"
    if ref is None or not len(ref):
        ref, what, what_zh = township.gdf("infected_trees"), "its trees", "按已有疫木"
    xmin, ymin, xmax, ymax = ref.total_bounds
    dx = np.maximum(np.maximum(xmin - xy[:, 0], xy[:, 0] - xmax), 0.0)
    dy = np.maximum(np.maximum(ymin - xy[:, 1], xy[:, 1] - ymax), 0.0)
    outside = np.hypot(dx, dy)
    for i in np.flatnonzero(new):
        line = int(rows["line"].iloc[i])
        if not china[i]:
            survey.bad.setdefault(line, []).append(Text(
                f"new tree {ids[i]}: coordinates {lon[i]:.6f}, {lat[i]:.6f} are not in China (wrong coordinate "
                "system? give it with --crs)",
                f"新疫木 {ids[i]}：坐标 {lon[i]:.6f}, {lat[i]:.6f} 不在中国境内（坐标系不对？用 --crs 指定）"))
        elif outside[i] > max_outside_m:
            survey.bad.setdefault(line, []).append(Text(
                f"new tree {ids[i]}: coordinates {lon[i]:.6f}, {lat[i]:.6f} lie {outside[i] / 1000:.1f} km outside "
                f"the township ({what}; at most {max_outside_m:g} m allowed, import_max_outside_m): a typo, "
                "a GCJ-02 shift (--from-crs gcj02) or the wrong coordinate system (--crs)?",
                f"新疫木 {ids[i]}：坐标 {lon[i]:.6f}, {lat[i]:.6f} 在本乡镇（{what_zh}）外 {outside[i] / 1000:.1f} km"
                f"（最多允许 {max_outside_m:g} m，参数 import_max_outside_m）：是笔误、GCJ-02 偏移（--from-crs gcj02）"
                "还是坐标系不对（--crs）？"))


def _moved_warnings(township: Township, survey: Survey, ids: np.ndarray, old: np.ndarray, xy: np.ndarray,
                    moved_warn_m: float) -> list[Finding]:
    """A warning for each known tree (at ``old``) the survey puts further than
    ``moved_warn_m`` from its stored location; the stored location is kept."""
    import shapely

    rows = survey.rows
    layer = township.layer("infected_trees")
    stored = dict(zip(layer.ids().to_numpy(), layer.gdf.geometry.to_numpy(), strict=True))
    pos = np.flatnonzero(old)
    have = np.array([str(ids[i]) in stored for i in pos], dtype=bool)
    pos = pos[have]
    findings: list[Finding] = []
    if not len(pos):
        return findings
    geoms = np.array([stored[str(ids[i])] for i in pos], dtype=object)
    d = shapely.distance(geoms, shapely.points(xy[pos, 0], xy[pos, 1]))
    for i, dist in zip(pos, d, strict=True):
        if dist > moved_warn_m:
            findings.append(SURVEY_CHECKS.survey_location_differs.finding(
                "infected_trees", str(ids[i]), line=int(rows["line"].iloc[i]), tree=ids[i], distance=dist,
                limit=moved_warn_m))
    return findings
