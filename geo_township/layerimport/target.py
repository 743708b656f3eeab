"""The layer's own file as written — its columns, words and date styles — read for a
merge, the merge's changes applied to it in memory, in those words and styles.

Formats rewritten: GeoPackage (the layer inside it), shapefile (in its own encoding),
GeoJSON, FlatGeobuf, GeoParquet, KML (placemarks and their fields), GPX (patrol tracks
appended to the file as it is), XLSX (cells changed and rows appended in the sheet, its
title rows and other sheets kept) and CSV (its header, encoding, BOM, separator and line
ends kept).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.crs import CGCS2000, cgcs2000_to_map_app, map_app_to_cgcs2000
from geo_township.errors import UsageError
from geo_township.io.points import decode_text, locate_coordinates, read_point_table, read_sheet, text_separator
from geo_township.io.read import KML_HOUSEKEEPING, detect_dbf_encoding
from geo_township.kinds import match_fields
from geo_township.layerimport.rules import MergeRule
from geo_township.layerimport.source import canonical_values, start_times
from geo_township.layers import Township
from geo_township.treeimport import Change, date_style, format_date, status_words
from geo_township.values import to_text
from geo_township.vocabulary import VOCABULARIES

FORMATS = {".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".geojson": "GeoJSON", ".json": "GeoJSON",
           ".fgb": "FlatGeobuf", ".parquet": "Parquet", ".geoparquet": "Parquet", ".kml": "KML", ".gpx": "GPX",
           ".xlsx": "XLSX", ".csv": "CSV", ".txt": "CSV", ".tsv": "CSV"}
"""The layer files an import rewrites, by suffix."""
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class LayerTable:
    """A layer's file as written, for a merge: its own columns and cells, its geometries."""

    path: Path
    fmt: str  # a value of FORMATS
    table: pd.DataFrame  # the file's columns (geometry apart)
    geometry: gpd.GeoSeries  # in the file's CRS
    mapping: dict[str, str]  # canonical -> column
    layer: str | None = None
    encoding: str | None = None
    map_app: str | None = None
    sheet_header: int = 1  # XLSX: the Excel row of the header
    coord_columns: tuple[str, str] | None = None  # XLSX: (easting or longitude, northing or latitude)
    appended: list[int] = field(default_factory=list)  # rows added by the import
    touched: set[tuple[int, str]] = field(default_factory=set)  # (row, column) cells changed
    sheet_lines: list[int] = field(default_factory=list)  # XLSX: the Excel row of each table row
    starts: dict[int, Any] = field(default_factory=dict)  # GPX: new tracks' start times by row
    text: dict[str, Any] = field(default_factory=dict)  # CSV: encoding, bom, sep, newline, header as written

    @property
    def chinese(self) -> bool:
        """Does the file name its columns in Chinese (new columns are named likewise)?"""
        return any(_CJK.search(str(c)) for c in self.table.columns)


def read_layer_table(township: Township, rule: MergeRule) -> LayerTable:
    """The layer file of ``rule.kind`` as written (refused when it cannot be rewritten in one step)."""
    layer = township.layer(rule.kind)  # validates the file and settles its CRS
    spec = layer.spec
    path = spec.path
    suffix = path.suffix.lower()
    if path.is_dir() or suffix not in FORMATS:
        raise UsageError(f"cannot merge into a {suffix or 'folder'} layer: it cannot be rewritten in one safe step",
                         message_zh=f"不能导入到 {suffix or '文件夹'} 图层：它无法一步安全地改写",
                         hint_zh="请把该图层转换为 GeoPackage（.gpkg），在 township.toml 中指向它，然后重新导入",
                         path=path, hint="convert the layer to a GeoPackage (.gpkg), point township.toml at it "
                         "and import again")
    fmt = FORMATS[suffix]
    encoding = spec.encoding
    if fmt == "XLSX":
        return _read_sheet_layer(path, layer.source_crs, spec, rule, township)
    if fmt == "CSV":
        return _read_text_layer(path, layer.source_crs, spec, rule)
    if fmt == "ESRI Shapefile" and encoding is None:
        encoding = detect_dbf_encoding(path)[0]
    if fmt == "Parquet":
        gdf = gpd.read_parquet(path)
    else:
        import pyogrio

        name = spec.layer if fmt == "GPKG" else ("tracks" if fmt == "GPX" else None)
        gdf = pyogrio.read_dataframe(path, layer=name, encoding=encoding)
    table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    if fmt == "KML":  # the KML driver's own columns are not fields of the layer
        table = table.drop(columns=[c for c in ("id", *KML_HOUSEKEEPING) if c in table.columns])
        if "description" in table.columns and table["description"].fillna("").astype(str).str.strip().eq("").all():
            table = table.drop(columns="description")
    if fmt == "GPX":
        table["time"] = _gpx_starts(path, len(table))
    crs = gdf.crs if gdf.crs is not None else layer.source_crs
    mapping = match_fields([str(c) for c in table.columns], rule.spec, spec.fields).mapping
    return LayerTable(path, fmt, table, gpd.GeoSeries(gdf.geometry.to_numpy(), crs=crs), dict(mapping),
                      layer=spec.layer or (path.stem if fmt == "GPKG" else None), encoding=encoding,
                      map_app=spec.map_app)


def _gpx_starts(path: Path, n: int) -> pd.Series:
    """Each GPX track's first point time (tracks carry no time of their own)."""
    import pyogrio

    try:
        pts = pyogrio.read_dataframe(path, layer="track_points", columns=["track_fid", "time"], read_geometry=False)
    except Exception:  # noqa: BLE001 - no track points or no time: the tracks have no start
        return pd.Series([None] * n, dtype=object)
    first = pts.dropna(subset=["time"]).groupby("track_fid")["time"].first()
    return pd.Series(range(n)).map(first)


def _read_sheet_layer(path: Path, crs: Any, spec, rule: MergeRule, township: Township) -> LayerTable:
    """An XLSX layer of points: its cells as text, the header's Excel row, the coordinate columns."""
    table = read_point_table(path, sheet=spec.layer)
    assert table.coords is not None, "a loaded table layer has coordinate columns"
    df = table.table.reset_index(drop=True)
    geoms = gpd.GeoSeries(gpd.points_from_xy(table.coords.x, table.coords.y), crs=crs)
    mapping = match_fields(list(df.columns), rule.spec, spec.fields).mapping
    lines = [int(v) for v in table.lines]
    header = read_sheet(path, spec.layer)[1] - 1
    return LayerTable(path, "XLSX", df, geoms, dict(mapping), layer=spec.layer, map_app=spec.map_app,
                      sheet_header=header, coord_columns=(table.coords.east, table.coords.north), sheet_lines=lines)


def _read_text_layer(path: Path, crs: Any, spec, rule: MergeRule) -> LayerTable:
    """A CSV layer of points with every cell as text, its encoding, BOM, separator, line
    ends and header as written, and its coordinate columns (new points go where the layer
    reader looks for them)."""
    data = path.read_bytes()
    text, enc = decode_text(path, spec.encoding)
    sep = text_separator(path, text)
    df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    header = list(df.columns)
    df.columns = [str(c).strip() for c in df.columns]
    coords = locate_coordinates(df)
    assert coords is not None, "a loaded table layer has coordinate columns"
    geoms = gpd.GeoSeries(gpd.points_from_xy(coords.x, coords.y), crs=crs)
    mapping = match_fields(list(df.columns), rule.spec, spec.fields).mapping
    return LayerTable(path, "CSV", df, geoms, dict(mapping), layer=spec.layer, map_app=spec.map_app,
                      coord_columns=(coords.east, coords.north),
                      text={"encoding": enc, "bom": data.startswith(b"\xef\xbb\xbf"), "sep": sep,
                            "newline": "\r\n" if "\r\n" in text[:10000] else "\n", "header": header,
                            "geographic": coords.geographic})


def current_values(lt: LayerTable, township: Township, rule: MergeRule) -> pd.DataFrame:
    """The layer's canonical values per row of its file, with ``geometry`` in CGCS2000."""
    spec = township.config.layers.get(rule.kind)
    rows, _ = canonical_values(lt.table, rule.spec, lt.mapping, spec)
    used = set(lt.mapping.values()) | set(lt.coord_columns or ())
    for col in lt.table.columns:  # the file's other columns, as text (a source may update them too)
        if col not in used and col not in rows.columns:
            rows[col] = to_text(lt.table[col])
    if "start" in rule.same_keys:
        rows["start"] = start_times(lt.table, lt.mapping).to_numpy()
    geoms = lt.geometry
    if lt.map_app is not None:
        system = lt.map_app

        def undo(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(map_app_to_cgcs2000(xy[:, 0], xy[:, 1], system))
        geoms = gpd.GeoSeries(shapely.transform(geoms.to_crs(CGCS2000).to_numpy(), undo), crs=CGCS2000)
    rows["geometry"] = geoms.to_crs(CGCS2000).to_numpy()
    return rows


# --------------------------------------------------------------------------- applying changes


def apply_changes(lt: LayerTable, current: pd.DataFrame, rule: MergeRule, changes: list[Change],
                  new_rows: dict[str, Any]) -> dict[str, int]:
    """Write the changes into the file's table (in memory): new features appended (their
    geometry in the file's CRS), fields in the file's words for coded values and its date
    style, geometries replaced. ``new_rows`` maps each new feature's key to its geometry.
    Returns each feature's row by key."""
    index = _row_index(current, rule)
    cell = _cell_writer(lt, current, rule)  # the file's words, before new rows are appended
    for key, geom in new_rows.items():
        index[key] = _append(lt, geom)
        if rule.id_field is not None:
            col = _column_for(lt, rule, rule.id_field)
            lt.table.at[index[key], col] = key
            lt.touched.add((index[key], col))
    for ch in changes:
        row = index[ch.tree_id]
        if ch.field == "geometry":
            lt.geometry.iloc[row] = _to_file(lt, ch.new)
            continue
        col = _column_for(lt, rule, ch.field)
        value = cell(ch.field, ch.new, col)
        if lt.table[col].dtype != object and not isinstance(value, pd.Timestamp):
            lt.table[col] = lt.table[col].astype(object)
        lt.table.at[row, col] = value
        lt.touched.add((row, col))
    return index


def feature_key(rule: MergeRule, values: pd.Series | dict, pos: int) -> str:
    """A feature's key in the history: its id, or for append-only kinds its key fields."""
    if rule.id_field is not None:
        return str(values[rule.id_field])
    parts = [values.get(k) for k in rule.same_keys]
    text = " ".join(f"{p:%Y-%m-%d %H:%M}" if isinstance(p, pd.Timestamp) and not pd.isna(p)
                    else ("" if p is None or (not isinstance(p, str) and pd.isna(p)) else str(p)) for p in parts)
    return text.strip() or f"#{pos + 1}"


def _row_index(current: pd.DataFrame, rule: MergeRule) -> dict[str, int]:
    return {feature_key(rule, current.iloc[i], i): i for i in range(len(current))}


def _to_file(lt: LayerTable, geom) -> Any:
    """A CGCS2000 geometry in the file's CRS (and map-app system, when the file holds one)."""
    if lt.map_app is not None:
        system = lt.map_app

        def shift(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(cgcs2000_to_map_app(xy[:, 0], xy[:, 1], system))
        geom = shapely.transform(geom, shift)
    out = gpd.GeoSeries([geom], crs=CGCS2000).to_crs(lt.geometry.crs).iloc[0]
    if lt.fmt in ("GPKG", "ESRI Shapefile", "GPX") and len(lt.geometry):
        multi = lt.geometry.iloc[0].geom_type if lt.geometry.iloc[0] is not None else ""
        if multi.startswith("Multi") and not out.geom_type.startswith("Multi"):
            out = getattr(shapely, multi)([out])
    return out


def _append(lt: LayerTable, geom) -> int:
    """A blank row with ``geom``; returns its position."""
    row = len(lt.table)
    lt.table = pd.concat([lt.table, pd.DataFrame([{c: None for c in lt.table.columns}])], ignore_index=True)
    lt.geometry = gpd.GeoSeries([*lt.geometry.to_numpy(), _to_file(lt, geom)], crs=lt.geometry.crs)
    lt.appended.append(row)
    return row


def _cell_writer(lt: LayerTable, current: pd.DataFrame, rule: MergeRule):
    """``(field, value, column) -> cell``: a canonical value written as the file writes it."""
    kind = rule.spec
    words = {f.name: status_words(lt, current, field=f.name, vocabulary=VOCABULARIES[f.vocabulary])
             for f in kind.fields if f.vocabulary}

    def cell(name: str, value: Any, col: str) -> Any:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
            return None
        if name in words:
            return words[name].get(value, value)
        f = kind.field(name) if name in kind.field_names else None
        if f is not None and f.dtype == "date":
            if pd.api.types.is_datetime64_any_dtype(lt.table[col]):
                return pd.Timestamp(value)
            style = date_style(lt.table[col]) or ("%Y-%m-%d", True)
            return format_date(pd.Timestamp(value), style)
        if f is not None and f.dtype in ("int", "float") and lt.fmt not in ("XLSX", "CSV"):
            return int(value) if f.dtype == "int" else float(value)
        return value if lt.fmt not in ("XLSX", "CSV") else str(value)

    return cell


def _column_for(lt: LayerTable, rule: MergeRule, name: str) -> str:
    """The file's column for a field, adding one (named as the file would) when missing."""
    if name in lt.mapping:
        return lt.mapping[name]
    if name in rule.spec.field_names:
        f = rule.spec.field(name)
        col = f.zh if lt.chinese and f.zh not in lt.table.columns else f.name
        lt.table[col] = None
        lt.mapping[name] = col
        return col
    if name not in lt.table.columns:
        lt.table[name] = None
    return name
