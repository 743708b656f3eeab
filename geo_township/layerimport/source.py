"""Reading a source file for any layer kind: features with canonical values per line, the
bad lines named, and geometries in CGCS2000 longitude/latitude.

Sources: CSV/XLSX with coordinate columns (decimal degrees, degree-minute-second text
such as 117°30'15.2", Gauss–Krüger x/y with or without the zone prefix; see
:mod:`geo_township.io.points`), KML/KMZ as phone apps write them (folders become the field
``folder``; :mod:`geo_township.io.kml`), GPX (waypoints for points, tracks for lines),
shapefiles (GBK text recognised with or without a .cpg), GeoPackage and File Geodatabase.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo_township.config import LayerSpec
from geo_township.crs import CGCS2000, in_china, infer_crs, map_app_to_cgcs2000, parse_crs
from geo_township.errors import CRSError, FieldError, LayerReadError
from geo_township.io.kml import read_kml
from geo_township.io.points import TABLE_SUFFIXES, read_point_table
from geo_township.io.read import choose_source_layer, read_vector
from geo_township.kinds import Kind, match_fields
from geo_township.labels import Text, quoted_name
from geo_township.layerimport.rules import MergeRule
from geo_township.layers import Township
from geo_township.values import to_codes, to_date, to_number, to_text
from geo_township.vocabulary import VOCABULARIES, normalise_name

CRS_HINT_ZH = ("请用 --crs 注明源文件的坐标系：EPSG:4548（CGCS2000 高斯-克吕格 3 度带，中央经线 117°E，不带带号），"
               "带带号的用 EPSG:4513–4533，经纬度用 EPSG:4490")
CRS_HINT = ("give the source's coordinate system: --crs EPSG:4548 (CGCS2000 Gauss–Krüger 3-degree zone CM "
            "117°E without zone prefix), EPSG:4513–4533 with a zone prefix, EPSG:4490 for longitude/latitude")


@dataclass
class Source:
    """A source file in canonical values: one row per feature, bad lines apart."""

    path: Path
    rows: pd.DataFrame  # canonical fields present, extras, 'line'; index 0..n-1
    geometry: gpd.GeoSeries  # CGCS2000 lon/lat; None where the row has no geometry
    fields: list[str]  # canonical fields the source has
    extras: list[str]  # the source's other columns, kept as text
    bad: dict[int, list[Text]] = field(default_factory=dict)  # line -> reasons (English with Chinese twin)
    notes: list[str] = field(default_factory=list)
    notes_zh: list[str] = field(default_factory=list)  # the same notes in Chinese


def read_source(path: str | Path, township: Township, rule: MergeRule, *, encoding: str | None = None,
                crs: Any = None, from_crs: str | None = None, source_layer: str | None = None) -> Source:
    """Read ``path`` for a layer of ``rule.kind`` (see the module docstring for formats).

    ``crs`` is the source's coordinate system when its file does not say; else the file's
    own, else one inferred from the numbers (8-digit Gauss–Krüger eastings carry their
    zone). ``from_crs`` (``"gcj02"``, ``"bd09"``) converts coordinates copied from a map app.
    ``source_layer`` chooses the layer of a GeoPackage or File Geodatabase that holds
    several (:func:`geo_township.io.read.choose_source_layer`).
    """
    path = Path(path)
    if not path.exists():
        raise LayerReadError("source file not found", path=path, hint="check the file name and folder",
                             message_zh="找不到源文件", hint_zh="请检查文件名和所在文件夹")
    given = parse_crs(str(crs), where="--crs") if crs is not None else None
    kind = rule.spec
    if path.suffix.lower() in TABLE_SUFFIXES:
        df, geoms, coord_bad, lines, notes = _read_table(path, township, encoding, given)
    else:
        df, geoms, coord_bad, lines, notes = _read_features(path, kind, encoding, given,
                                                            choose_source_layer(path, source_layer))
    if from_crs is not None:
        geoms = _undo_map_app(geoms, from_crs)
        notes.append((f"coordinates converted from {from_crs.upper()} to CGCS2000",
                      f"坐标已从 {from_crs.upper()} 转换为 CGCS2000"))
    _refuse_outside_china(geoms, path)
    spec = township.config.layers.get(rule.kind)
    mapping = _match(df, kind, rule, spec, path)
    df, mapping, named = split_track_names(df, mapping, kind)
    notes += named
    rows, bad, extras = _canonical(df, kind, rule, mapping, lines, coord_bad, spec)
    if "start" in rule.same_keys:
        rows["start"] = start_times(df, mapping)
    return Source(path, rows, geoms, list(mapping), extras, bad, [en for en, _ in notes], [zh for _, zh in notes])


def _read_table(path: Path, township: Township, encoding: str | None, given: CRS | None):
    """A CSV/XLSX source: points from its coordinate columns, in ``given``, CGCS2000 when
    they are longitude/latitude in China, else the CRS the numbers betray."""
    table = read_point_table(path, encoding=encoding, what="source file")
    n = len(table.table)
    lines = pd.Series(table.lines.to_numpy())
    df = table.attributes.reset_index(drop=True)
    if table.coords is None:
        return df, gpd.GeoSeries([None] * n, crs=CGCS2000), np.zeros(n, bool), lines, [(t, t) for t in table.notes]
    x, y = table.coords.x, table.coords.y
    ok = np.isfinite(x) & np.isfinite(y)
    notes = [(t, t) for t in table.notes] + ([(table.coords.note, table.coords.note)] if table.coords.note else [])
    if given is not None:
        crs = given
    elif table.coords.geographic:
        crs = CGCS2000
    elif ok.any():
        try:
            crs = infer_crs(x[ok], y[ok], gk_zone=township.config.gk_zone).crs
        except CRSError as exc:
            raise CRSError(f"cannot tell the coordinate system of the coordinates: {exc.message}", path=path,
                           message_zh=f"无法判断坐标的坐标系：{exc.message}", hint_zh=CRS_HINT_ZH,
                           hint=CRS_HINT) from None
        notes.append((f"coordinates read as {CRS(crs).name}", f"坐标按 {CRS(crs).name} 读取"))
    else:
        crs = CGCS2000
    pts = np.array([shapely.Point(a, b) if good else None for a, b, good in zip(x, y, ok, strict=True)],
                   dtype=object)
    geoms = gpd.GeoSeries(pts, crs=crs).to_crs(CGCS2000)
    return df, geoms, np.asarray(table.coords.bad, bool), lines, notes


def _read_features(path: Path, kind: Kind, encoding: str | None, given: CRS | None, layer: str | None):
    """A source in a GIS format, its geometries in CGCS2000; a feature whose geometry is
    not of the kind's family is a bad line."""
    notes: list[tuple[str, str]] = []
    if path.suffix.lower() in (".kml", ".kmz"):
        gdf = read_kml(path)
    else:
        raw = read_vector(path, layer=layer, encoding=encoding, geometry=kind.geometry[0])
        gdf, notes = raw.gdf, [(t, t) for t in raw.notes]
    gdf = gdf.reset_index(drop=True)
    crs = given if given is not None else gdf.crs
    if crs is None:
        raise CRSError("the source file does not say its coordinate system", path=path, hint=CRS_HINT,
                       message_zh="源文件没有注明坐标系", hint_zh=CRS_HINT_ZH)
    geoms = gpd.GeoSeries(gdf.geometry.to_numpy(), crs=crs).to_crs(CGCS2000)
    arr = geoms.to_numpy()
    present = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    types = np.array([g.geom_type.removeprefix("Multi") if g is not None else "" for g in arr])
    coord_bad = present & ~np.isin(types, kind.geometry)
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    lines = pd.Series(np.arange(len(df)) + 1)
    return df, geoms, coord_bad, lines, notes


def _undo_map_app(geoms: gpd.GeoSeries, system: str) -> gpd.GeoSeries:
    """Geometries copied from a map app (GCJ-02 / BD-09) moved to CGCS2000."""
    def shift(xy: np.ndarray) -> np.ndarray:
        lon, lat = map_app_to_cgcs2000(xy[:, 0], xy[:, 1], system)
        return np.column_stack([lon, lat])

    return gpd.GeoSeries(shapely.transform(geoms.to_numpy(), shift), crs=CGCS2000)


def _refuse_outside_china(geoms: gpd.GeoSeries, path: Path) -> None:
    """No coordinate in China means the wrong coordinate system, not a survey of elsewhere."""
    arr = geoms.to_numpy()
    present = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    if not present.any():
        return
    c = shapely.centroid(arr[present])
    lon, lat = shapely.get_x(c), shapely.get_y(c)
    if not in_china(lon, lat).any():
        raise CRSError(f"none of the source's features falls in China (longitude {np.nanmin(lon):.6g}–"
                       f"{np.nanmax(lon):.6g}, latitude {np.nanmin(lat):.6g}–{np.nanmax(lat):.6g})", path=path,
                       hint=CRS_HINT, message_zh="源文件的要素都不在中国境内：坐标系很可能不对", hint_zh=CRS_HINT_ZH)


def _match(df: pd.DataFrame, kind: Kind, rule: MergeRule, spec: LayerSpec | None, path: Path) -> dict[str, str]:
    """The source's columns matched to the kind's fields (canonical -> column). In KML/GPX
    the id is the placemark's (waypoint's) name when no column names it, even where the
    kind has a name field."""
    columns = [str(c) for c in df.columns]
    explicit = {k: v for k, v in (spec.fields if spec else {}).items() if v in columns}
    mapping = match_fields(columns, kind, explicit).mapping
    name_col = next((c for c in columns if normalise_name(c) == "name"), None)
    if rule.id_field is not None and rule.id_field not in mapping and name_col is not None \
            and path.suffix.lower() in (".kml", ".kmz", ".gpx"):
        # a placemark's or waypoint's name is its id when no column names one
        mapping = {k: v for k, v in mapping.items() if v != name_col}
    if rule.id_field is not None and rule.id_field not in mapping:
        if name_col is None or name_col in mapping.values():
            raise FieldError(f"the source has no {kind.field(rule.id_field).zh} ({rule.id_field}) column",
                             message_zh=f"源文件没有 {kind.field(rule.id_field).zh}（{rule.id_field}）列",
                             hint_zh=f"请添加 {kind.field(rule.id_field).zh} 列；文件中的列：" + "、".join(columns),
                             path=path, hint=f"add a column {kind.field(rule.id_field).zh}; columns in the file: "
                             + ", ".join(columns))
        mapping[rule.id_field] = name_col
    return mapping


#: A track's name as phones write it (两步路, 奥维): the chief, then the date and maybe the
#: time, e.g. "章立新 2023-05-02 09:00", "章立新 2023年5月2日", "章立新 2023/5/2 9:00".
TRACK_NAME = (r"^\s*(?P<chief>[^\d\s]\S*?)\s+(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?"
              r"(?:\s*(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2}))?)?\s*$")
#: The field that keeps a track's whole name once it is taken apart.
TRACK_NAME_FIELD = "track_name"


def split_track_names(df: pd.DataFrame, mapping: dict[str, str], kind: Kind
                      ) -> tuple[pd.DataFrame, dict[str, str], list[tuple[str, str]]]:
    """Take apart track names that hold the chief and the date (and time) — when a kind's
    ``chief`` comes from a GPX/KML ``name`` — into the chief, and the start (China time)
    where the file gives none; the whole name is kept in ``track_name``. Names of any
    other shape are left as they are. Returns the columns, the mapping and notes."""
    col = mapping.get("chief")
    if col is None or normalise_name(col) != "name" or "date" not in [f.name for f in kind.fields]:
        return df, mapping, []
    names = df[col].astype("string")
    parts = names.str.extract(TRACK_NAME)
    hit = parts["chief"].notna().to_numpy(dtype=bool)
    if not hit.any():
        return df, mapping, []
    df = df.copy()
    df[TRACK_NAME_FIELD] = df[col].astype(object).where(hit, None)  # only the names taken apart
    df.loc[hit, col] = parts.loc[hit, "chief"]
    text = (parts["y"] + "-" + parts["m"].str.zfill(2) + "-" + parts["d"].str.zfill(2) + " "
            + parts["H"].fillna("0").str.zfill(2) + ":" + parts["M"].fillna("00") + ":" + parts["S"].fillna("00"))
    when = pd.to_datetime(text, errors="coerce", format="%Y-%m-%d %H:%M:%S").dt.tz_localize("Asia/Shanghai")
    if "time" not in df.columns:
        df["time"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    if isinstance(df["time"].dtype, pd.DatetimeTZDtype):
        fill = hit & df["time"].isna().to_numpy(dtype=bool) & when.notna().to_numpy(dtype=bool)
        df.loc[fill, "time"] = when[fill].dt.tz_convert(df["time"].dt.tz)
        if "date" not in mapping:
            mapping = {**mapping, "date": "time"}
    first = str(names[hit].iloc[0])
    n = int(hit.sum())
    return df, mapping, [(f"{n} track name(s) such as {first!r} taken apart into the chief and the date; the whole "
                          f"name is kept in {TRACK_NAME_FIELD}",
                          f"{n} 条轨迹名（如“{first}”）已拆分为河长和日期；完整名称保存在 {TRACK_NAME_FIELD} 字段")]


def canonical_values(df: pd.DataFrame, kind: Kind, mapping: dict[str, str],
                     spec: LayerSpec | None) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """A file's columns as the kind's canonical values (codes, dates, numbers, text), and
    per field the cells that could not be understood."""
    rows = pd.DataFrame(index=df.index)
    bad: dict[str, np.ndarray] = {}
    for canon, col in mapping.items():
        f = kind.field(canon)
        if f.dtype == "date":
            rows[canon], bad[canon] = to_date(df[col])
        elif f.vocabulary:
            vocab = VOCABULARIES[f.vocabulary]
            rows[canon], b = to_codes(df[col], vocab, spec.values.get(canon) if spec else None)
            bad[canon] = b & vocab.closed
        elif f.dtype in ("int", "float"):
            rows[canon], bad[canon] = to_number(df[col], integer=f.dtype == "int")
        else:
            rows[canon] = to_text(df[col])
    return rows, bad


def start_times(df: pd.DataFrame, mapping: dict[str, str]) -> pd.Series:
    """A track's start, to the minute, in China time without zone: the GPX/KML ``time``
    when the file has one, else the date (patrols already present are matched by it)."""
    col = "time" if "time" in df.columns else mapping.get("date")
    if col is None:
        return pd.Series([pd.NaT] * len(df), dtype="datetime64[ns]")
    values = df[col]
    if not pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values.astype("string"), errors="coerce", utc=True, format="mixed")
        if parsed.isna().all():
            return to_date(values)[0].reset_index(drop=True)
        values = parsed
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    return values.dt.floor("min").astype("datetime64[ns]").reset_index(drop=True)


def _expected(kind: Kind, canon: str) -> tuple[str, str]:
    """How a field's value should be written, for the message naming a bad cell (English,
    Chinese)."""
    f = kind.field(canon)
    if f.dtype == "date":
        return "is not a date (write 2022-03-05)", "不是日期（应写作 2022-03-05）"
    if f.vocabulary:
        terms = VOCABULARIES[f.vocabulary].terms
        words = ", ".join(f"{t.zh}/{t.code}" for t in terms)
        words_zh = "、".join(t.zh for t in terms)
        return f"is not a known word (use one of {words})", f"不是可识别的词（可用：{words_zh}）"
    return "is not a number", "不是数字"


def _canonical(df: pd.DataFrame, kind: Kind, rule: MergeRule, mapping: dict[str, str], lines: pd.Series,
               coord_bad: np.ndarray, spec: LayerSpec | None):
    """Each line's canonical values, the other columns as text, and the bad lines."""
    rows, bad_cells = canonical_values(df, kind, mapping, spec)
    bad: dict[int, list[Text]] = {}

    def mark(mask: np.ndarray, reason) -> None:
        for i in np.flatnonzero(mask):
            bad.setdefault(int(lines.iloc[i]), []).append(reason(i))

    for canon, mask in bad_cells.items():
        col = mapping[canon]
        en, zh = _expected(kind, canon)
        mark(mask, lambda i, col=col, en=en, zh=zh: Text(f"{col} {quoted_name(df[col].iloc[i])} {en}",
                                                         f"{col} {quoted_name(df[col].iloc[i])} {zh}"))
    if rule.id_field is not None:
        ids = rows[rule.id_field]
        label_zh = kind.field(rule.id_field).zh
        mark(ids.isna().to_numpy(), lambda i: Text(f"no {rule.id_field}", f"没有{label_zh}（{rule.id_field}）"))
        dup = ids.notna() & ids.duplicated(keep=False)
        for fid in ids[dup].unique():
            at = lines[(ids == fid).to_numpy()].tolist()
            mark((ids == fid).to_numpy(), lambda i, fid=fid, at=at: Text(
                f"id {fid} appears on lines {', '.join(map(str, at))}",
                f"编号 {fid} 在第 {'、'.join(map(str, at))} 行重复出现"))
    families_zh = {"Point": "点", "LineString": "线", "Polygon": "面"}
    mark(coord_bad, lambda i: Text(f"the geometry is not a {' or '.join(kind.geometry)}",
                                   "图形不是" + "或".join(families_zh.get(g, g) for g in kind.geometry)))
    used = set(mapping.values())
    extras = [c for c in map(str, df.columns) if c not in used and c not in ("source_row", "id")]
    for c in extras:
        rows[c] = to_text(df[c])
    rows["line"] = lines.to_numpy()
    return rows.reset_index(drop=True), bad, extras
