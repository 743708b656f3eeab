"""The trees layer's file as written — its own columns, words for statuses and styles of
dates — and the merge's changes applied to it in memory, in those words and styles."""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_township.crs import CGCS2000, cgcs2000_to_map_app
from geo_township.errors import LayerReadError, UsageError
from geo_township.io.points import decode_text, locate_coordinates, text_separator
from geo_township.kinds import match_fields
from geo_township.layers import Layer, Township
from geo_township.treeimport.fields import DATE_FIELDS, KIND, plain_text
from geo_township.treeimport.merge import Change
from geo_township.treeimport.survey import Survey
from geo_township.values import to_codes, to_date, to_text
from geo_township.vocabulary import TREE_STATUS, Vocabulary

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
VECTOR_SUFFIXES = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".fgb": "FlatGeobuf",
                   ".parquet": "Parquet", ".geoparquet": "Parquet"}
"""Trees layers an import can rewrite in one step, with their GDAL drivers."""
_CJK = re.compile(r"[\u4e00-\u9fff]")


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
    coord_columns: tuple[str, str] | None = None  # (easting or longitude, northing or latitude)
    geographic: bool = True
    map_app: str | None = None  # "gcj02"/"bd09": the file holds a map app's coordinates (township.toml crs)

    @property
    def is_csv(self) -> bool:
        return self.csv is not None

    @property
    def chinese(self) -> bool:
        return any(_CJK.search(str(c)) for c in self.table.columns)


def read_layer_file(township: Township) -> LayerFile:
    """The trees layer's file, for writing back: format, encoding and words as they are."""
    layer = township.layer("infected_trees")  # validates the file and settles its CRS
    path = layer.spec.path
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES or suffix in VECTOR_SUFFIXES:
        lf = _read_csv_layer(path, layer) if suffix in CSV_SUFFIXES else _read_vector_layer(path, layer)
        lf.map_app = layer.spec.map_app
        return lf
    raise UsageError(
        f"cannot merge updates into a {suffix} layer: it cannot be replaced in one safe step", path=path,
        hint="convert the trees layer to a GeoPackage (.gpkg) or CSV, point township.toml at it, and import again")


def _read_csv_layer(path: Path, layer: Layer) -> LayerFile:
    """A CSV trees layer with every cell as text, its encoding, BOM, separator, line ends
    and header as written, and its coordinate columns by the rule the layer was read with
    (:func:`geo_township.io.points.locate_coordinates`), so that new trees go where the
    layer reader will look for them."""
    spec = layer.spec
    data = path.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    text, enc = decode_text(path, spec.encoding)
    sep = text_separator(path, text)
    newline = "\r\n" if "\r\n" in text[:10000] else "\n"
    table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    header = list(table.columns)
    table.columns = [str(c).strip() for c in table.columns]
    mapping = match_fields(list(table.columns), KIND, spec.fields).mapping
    coords = locate_coordinates(table)
    if coords is None:
        raise LayerReadError("the trees file has no coordinate columns to write new trees into", path=path,
                             hint="give it 经度/纬度 (or x/y) columns")
    return LayerFile(path, table, dict(mapping), layer.source_crs,
                     csv={"encoding": "utf-8" if enc == "utf-8" else enc, "bom": bom, "sep": sep,
                          "newline": newline, "header": header},
                     coord_columns=(coords.east, coords.north), geographic=coords.geographic)


def _read_vector_layer(path: Path, layer: Layer) -> LayerFile:
    """A GeoPackage, GeoJSON, FlatGeobuf or GeoParquet trees layer as read."""
    spec = layer.spec
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".geoparquet"):
        gdf = gpd.read_parquet(path)
    else:
        import pyogrio

        gdf = pyogrio.read_dataframe(path, layer=spec.layer, encoding=spec.encoding)
    table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    mapping = match_fields(list(table.columns), KIND, spec.fields).mapping
    return LayerFile(path, table, dict(mapping), gdf.crs if gdf.crs is not None else layer.source_crs,
                     geometry=gdf.geometry, layer=spec.layer or (path.stem if suffix == ".gpkg" else None))


def current_values(lf: LayerFile, township: Township) -> pd.DataFrame:
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


def status_words(lf: Any, current: pd.DataFrame, *, field: str = "status",
                 vocabulary: Vocabulary = TREE_STATUS) -> dict[str, str]:
    """The word the file uses for each code of a coded field (the trees' status unless
    told): its most common word for that code; for codes it has never used, the Chinese
    label when it writes Chinese, else the code. ``lf`` is any layer file read for a merge
    (``mapping``, ``table``, ``chinese``)."""
    col = lf.mapping.get(field)
    words: dict[str, str] = {}
    chinese = lf.chinese
    if col is not None:
        raw = lf.table[col].astype(object)
        pairs = Counter((c, str(w).strip()) for c, w in zip(current[field], raw, strict=True)
                        if c is not None and w is not None and str(w).strip() and str(w) != "nan")
        for (code, word), _ in pairs.most_common():
            words.setdefault(code, word)
        chinese = chinese or any(_CJK.search(w) for w in words.values())
    for term in vocabulary.terms:
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
    counts: Counter[str] = Counter()
    padded: dict[str, bool] = {}  # read only for a pattern that matched
    for pattern, rx in _STYLES:
        hit = text[text.str.match(rx)]
        counts[pattern] = len(hit)
        if len(hit):
            padded[pattern] = not hit.str.contains(r"(?:^|\D)\d(?:\D|$)", regex=True).any()
    pattern, n = counts.most_common(1)[0]
    return (pattern, padded[pattern]) if n else None


def format_date(value: pd.Timestamp, style: tuple[str, bool]) -> str:
    """A date written in a style found by :func:`date_style` (2022/3/5, 2022年03月05日 …)."""
    pattern, padded = style
    if padded or pattern == "%Y%m%d":
        return value.strftime(pattern)
    return (pattern.replace("%Y", str(value.year)).replace("%m", str(value.month))
            .replace("%d", str(value.day)))


# --------------------------------------------------------------------------- applying the changes


def apply_changes(lf: LayerFile, current: pd.DataFrame, survey: Survey, changes: list[Change],
                  added: list[int]) -> None:
    """Write the changes into the file's table (in memory), in the file's words and styles."""
    cell = _cell_writer(lf, current)
    index = {str(t): i for i, t in enumerate(current["tree_id"]) if t is not None}
    if added:
        index.update(_append_new_trees(lf, survey, added))
    for ch in changes:
        if ch.field in ("tree_id", "location"):
            continue
        col = _column_for(lf, ch.field)
        value = cell(ch.field, ch.new, col)
        if not lf.is_csv and lf.table[col].dtype != object and not (isinstance(value, pd.Timestamp)
                                                                     or value is pd.NaT):
            lf.table[col] = lf.table[col].astype(object)
        lf.table.at[index[ch.tree_id], col] = value


def _cell_writer(lf: LayerFile, current: pd.DataFrame):
    """A function ``(field, value, column) -> cell`` writing a canonical value as the file
    does: its status words, its date style per column (else its commonest), plain text."""
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
        return plain_text(value) if lf.is_csv else value

    return cell


def _append_new_trees(lf: LayerFile, survey: Survey, added: list[int]) -> dict[str, int]:
    """Append a row per new tree (survey positions ``added``) with its id and location in
    the layer's CRS; returns each new id's row in the table."""
    n_old = len(lf.table)
    blank = {c: ("" if lf.is_csv else None) for c in lf.table.columns}
    new_rows = pd.DataFrame([blank] * len(added))
    lf.table = pd.concat([lf.table, new_rows], ignore_index=True)
    lonlat = survey.lonlat[added]
    if lf.map_app is not None:  # new trees go in as the file's other rows are: in the map app's system
        lonlat = np.column_stack(cgcs2000_to_map_app(lonlat[:, 0], lonlat[:, 1], lf.map_app))
    pts = gpd.GeoSeries(gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs=CGCS2000).to_crs(lf.crs)
    if lf.is_csv:
        assert lf.coord_columns is not None, "a CSV layer is read with its coordinate columns"
        xcol, ycol = lf.coord_columns
        # the file's own decimals, but never coarser than ~0.1 m
        places = max(_decimals(lf.table[xcol], 6 if lf.geographic else 2), 6 if lf.geographic else 1)
        lf.table.loc[n_old:, xcol] = [f"{v:.{places}f}" for v in pts.x]
        lf.table.loc[n_old:, ycol] = [f"{v:.{places}f}" for v in pts.y]
    else:
        assert lf.geometry is not None, "a vector layer is read with its geometry"
        lf.geometry = gpd.GeoSeries(pd.concat([lf.geometry, pts.set_crs(lf.geometry.crs, allow_override=True)],
                                              ignore_index=True), crs=lf.geometry.crs)
    ids = [str(survey.rows["tree_id"].iloc[p]) for p in added]
    lf.table.loc[n_old:, lf.mapping["tree_id"]] = ids
    return {tid: n_old + k for k, tid in enumerate(ids)}


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


def _decimals(values: pd.Series, default: int) -> int:
    """The commonest number of decimals in a text column of numbers (new rows match it)."""
    text = values.astype(str).str.strip().head(2000)
    places = text[text.str.contains(".", regex=False)].str.split(".").str[-1].str.len()
    return int(places.mode().iloc[0]) if len(places) else default
