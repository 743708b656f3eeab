"""One layer file → a :class:`Layer`: features with canonical fields, valid geometries of
the expected type, in the layer's own CRS (given, from the file, or inferred from the
numbers), with the rows whose coordinates cannot be right left out and named.

:class:`geo_township.layers.Township` reads its layers through :func:`read_layer` and
reprojects them to the township's working CRS.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo_township.config import LayerSpec, TownshipConfig
from geo_township.crs import (
    MAP_APP_SYSTEMS,
    RowFit,
    clear_majority,
    fit_rows,
    geometries_from_map_app,
)
from geo_township.errors import CRSError, FieldError, GeometryError, LayerReadError
from geo_township.io.parquet import is_geoparquet, read_geoparquet
from geo_township.io.read import RawLayer, read_vector
from geo_township.io.xy import points_in
from geo_township.kinds import KINDS, FieldMatch, Kind, match_fields
from geo_township.labels import Text
from geo_township.leftout import COLUMNS as LEFT_OUT_COLUMNS
from geo_township.leftout import (
    coordinate_groups,
    count_in_china,
    empty_table,
    judge_rows,
    summary_lines,
)
from geo_township.rownumbers import FeatureNumbers, feature_labels, keep_numbers, numbers_of
from geo_township.values import to_codes, to_date, to_number, to_text
from geo_township.vocabulary import VOCABULARIES

log = logging.getLogger(__name__)

_FAMILY = {"Point": "Point", "MultiPoint": "Point", "LineString": "LineString",
           "MultiLineString": "LineString", "LinearRing": "LineString", "Polygon": "Polygon",
           "MultiPolygon": "Polygon"}
_SHAPELY_FAMILY = {"Point": (0, 4), "LineString": (1, 5), "Polygon": (3, 6)}  # single, multi type ids


@dataclass
class Layer:
    """A loaded layer and where it came from.

    ``gdf`` has the kind's canonical fields (plus the file's other fields, unchanged),
    geometries valid and of the kind's type, in the township's working CRS.
    ``notes`` says what loading did (encoding detected, CRS inferred, geometries
    repaired); ``dropped`` holds features left out (no geometry) with the reason, and
    ``repaired`` the ids of features whose geometry was repaired in memory (the file is
    never changed). ``left_out`` holds the rows whose coordinates cannot be right (not
    numbers, not fitting the CRS of the other rows, outside China, far outside the
    township), removed from ``gdf`` so that no count includes them: columns
    :data:`geo_township.leftout.COLUMNS` (feature, line, x, y as in the file, reason,
    detail, detail_zh).
    """

    kind: Kind
    gdf: gpd.GeoDataFrame
    spec: LayerSpec
    source_crs: CRS
    crs_note: str = ""
    field_map: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    dropped: pd.DataFrame | None = None
    repaired: list[str] = field(default_factory=list)
    invalid_reasons: dict[str, str] = field(default_factory=dict)
    bad_cells: pd.DataFrame | None = None
    """Only from a lenient read (``Township.layer(kind, lenient=True)``): the cells that
    could not be understood and were read as missing — columns ``row`` (0-based position
    in ``gdf``), ``feature`` (id, with the line for tables), ``field`` (canonical name),
    ``value`` (the file's text) and ``expected`` (how to write it)."""
    left_out: pd.DataFrame = field(default_factory=empty_table)
    aliases: dict[str, str] = field(default_factory=dict)
    """The file's field aliases (File Geodatabase): field name → alias, where they differ."""
    unknown_words: pd.DataFrame | None = None
    """Words of a closed vocabulary (a status, a use) that the tool does not know, read
    as missing instead of stopping the read: columns ``row`` (0-based position in
    ``gdf``), ``feature``, ``field`` and ``value`` (the file's text). The analyses that
    use the field report them and say how to teach the tool the word."""

    @property
    def path(self) -> Path:
        return self.spec.path

    def leave_out(self, positions: np.ndarray, rows: pd.DataFrame) -> None:
        """Remove the features at ``positions`` of ``gdf`` and record them in ``left_out``
        (``rows``: their :data:`~geo_township.leftout.COLUMNS`); positions in ``bad_cells``
        and the features' numbers in the file follow."""
        keep = np.ones(len(self.gdf), dtype=bool)
        keep[np.asarray(positions, dtype=int)] = False
        numbers = FeatureNumbers(numbers_of(self.gdf).tolist())
        new_position = np.cumsum(keep) - 1
        if self.bad_cells is not None and len(self.bad_cells):
            cells = self.bad_cells[keep[self.bad_cells["row"].to_numpy()]].copy()
            cells["row"] = new_position[cells["row"].to_numpy()]
            self.bad_cells = cells.reset_index(drop=True)
        if self.unknown_words is not None and len(self.unknown_words):
            words = self.unknown_words[keep[self.unknown_words["row"].to_numpy()]].copy()
            words["row"] = new_position[words["row"].to_numpy()]
            self.unknown_words = words.reset_index(drop=True)
        self.gdf = self.gdf[keep].reset_index(drop=True)
        if "source_row" not in self.gdf.columns:
            keep_numbers(self.gdf, numbers.kept(keep))
        rows = rows[LEFT_OUT_COLUMNS]
        self.left_out = rows.reset_index(drop=True) if not len(self.left_out) else pd.concat(
            [self.left_out, rows], ignore_index=True)

    def left_out_notes(self, lang: str = "en") -> list[str]:
        """One line per reason rows were left out (which lines or ids, why, the fix)."""
        return summary_lines(self.left_out, file_name=self.path.name, lang=lang) if len(self.left_out) else []

    @property
    def name(self) -> str:
        return self.kind.name

    def ids(self) -> pd.Series:
        """Each feature's id (its id field, else its 1-based feature number) as text."""
        return feature_ids(self.gdf, self.kind)


def feature_ids(gdf: pd.DataFrame, kind_: Kind, positions: np.ndarray | None = None) -> pd.Series:
    """A readable id per feature for messages: the kind's id field, else 'line N' for
    tables, else 'feature N'. ``positions`` (or a boolean mask): only those rows, so a
    message about a few rows of a big layer does not label them all."""
    pos = _positions(gdf, positions)
    index = gdf.index[pos]
    if kind_.id_field and kind_.id_field in gdf.columns:
        ids = gdf[kind_.id_field].iloc[pos].astype(object)
        blank = ids.isna().to_numpy()
        out = ids.astype(str)
        if blank.any():  # the fallback only where the id is missing
            out[blank] = _fallback_ids(gdf, pos[blank])
        return out
    return pd.Series(_fallback_ids(gdf, pos), index=index, dtype=object)


def _positions(gdf: pd.DataFrame, positions: np.ndarray | None) -> np.ndarray:
    """Row positions from None (every row), a boolean mask or positions."""
    if positions is None:
        return np.arange(len(gdf))
    positions = np.asarray(positions)
    return np.flatnonzero(positions) if positions.dtype == bool else positions.astype("int64")


def _fallback_ids(gdf: pd.DataFrame, pos: np.ndarray) -> np.ndarray:
    """'line N' (tables) or 'feature N' (N: the 1-based position in the file) for the rows at ``pos``."""
    return feature_labels(gdf, pos)


def row_labels(gdf: pd.DataFrame, kind_: Kind, positions: np.ndarray | None = None) -> pd.Series:
    """Feature labels for error messages: the id and, for tables, the line in the file
    ('T12 (line 14)'), so the user can find the row in Excel. ``positions``: only those rows."""
    ids = feature_ids(gdf, kind_, positions)
    if "source_row" in gdf.columns and kind_.id_field and kind_.id_field in gdf.columns:
        pos = _positions(gdf, positions)
        has_id = gdf[kind_.id_field].iloc[pos].notna()
        with_line = ids + " (line " + gdf["source_row"].iloc[pos].astype(str) + ")"
        return with_line.where(has_id, ids)
    return ids


def list_rows(labels, limit: int = 5, lang: str = "en") -> str:
    """The first ``limit`` labels joined for a message in ``lang``, and how many more there are."""
    labels = list(labels)
    more = len(labels) - limit
    if lang == "zh":
        return "、".join(map(str, labels[:limit])) + (f" 等，另有 {more} 个" if more > 0 else "")
    shown = ", ".join(map(str, labels[:limit]))
    return shown + (f" and {more} more" if more > 0 else "")


# --------------------------------------------------------------------------- CRS


FROM_THE_FILE = Text("from the file", "取自文件")
"""The CRS note of a layer whose file names its CRS."""


def _resolve_crs(raw: RawLayer, spec: LayerSpec, config: TownshipConfig) -> tuple[CRS, str, RowFit | None]:
    """The layer's CRS, how it was found, and — when inferred from the numbers — which
    coordinates fit the rule (the others are typos, left out by :func:`read_layer`)."""
    gdf = raw.gdf
    if spec.crs is not None:
        note = Text("from township.toml", "取自 township.toml")
        if gdf.crs is not None and not CRS(gdf.crs).equals(spec.crs):
            own = CRS(gdf.crs).to_string()
            note = Text(f"{note} (overrides the file's {own})", f"{note.zh}(取代文件自带的 {own})")
        return spec.crs, note, None
    if gdf.crs is not None:
        return CRS(gdf.crs), FROM_THE_FILE, None
    coords, groups, _ = coordinate_groups(gdf.geometry.to_numpy())
    try:
        fit = fit_rows(coords[:, 0], coords[:, 1], gk_zone=config.gk_zone, groups=groups)
        reason = fit.inferred.reason
        return fit.inferred.crs, Text("inferred: " + reason, f"按坐标数值推断({getattr(reason, 'zh', reason)})"), fit
    except CRSError as exc:
        if config.crs is not None and clear_majority(*count_in_china(gdf.geometry.to_numpy(), config.crs)):
            return config.crs, Text("the township's default crs in township.toml",
                                    "township.toml 中本乡镇的默认坐标系"), None
        raise CRSError(exc.message, path=spec.path, hint=exc.hint, message_zh=exc.message_zh,
                       hint_zh=exc.hint_zh) from None


def map_app_note(system: str) -> Text:
    """How a layer declared in a map app's system was read, for ``info`` and provenance:
    'GCJ-02 (AMap/Tencent) converted to CGCS2000 (EPSG:4490) on load'."""
    en, zh = MAP_APP_SYSTEMS[system]
    return Text(f"{en} converted to CGCS2000 (EPSG:4490) on load", f"{zh}已在读取时转换为 CGCS2000(EPSG:4490)")


def _from_map_app(gdf: gpd.GeoDataFrame, system: str, crs_note: str) -> tuple[gpd.GeoDataFrame, str]:
    """Every vertex converted from the map app's ``system`` to CGCS2000 (the layer's CRS is
    already CGCS2000: township.toml's crs = "gcj02" reads the numbers as lon/lat)."""
    geoms = geometries_from_map_app(gdf.geometry.to_numpy(), system)
    gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    app = map_app_note(system)
    note = Text(f'{app} (township.toml crs = "{system}")', f'{app.zh}(township.toml 中 crs = "{system}")')
    if "overrides the file's" in crs_note:
        own = crs_note[crs_note.index("overrides the file's ") + len("overrides the file's "):].rstrip(")")
        note = Text(f"{note}; overrides the file's {own}", f"{note.zh}；取代文件自带的 {own}")
    return gdf, note


def _leave_out_implausible(gdf: gpd.GeoDataFrame, kind_: Kind, crs: CRS, fit: RowFit | None,
                           xy: np.ndarray | None = None
                           ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, np.ndarray | None]:
    """Remove the rows whose coordinates cannot be right in ``crs`` (see
    :func:`geo_township.leftout.judge_rows`; ``xy``: the points' coordinates, the geometries
    being missing); return the rest, the table of those left out, and ``xy`` of the rest."""
    judged = judge_rows(gdf.geometry.to_numpy(), crs, fit, xy=xy)
    if not len(judged):
        return gdf, empty_table(), xy
    positions = judged.index.to_numpy()
    table = _left_out_rows(gdf, kind_, positions, judged)
    keep = np.ones(len(gdf), dtype=bool)
    keep[positions] = False
    return gdf[keep], table, (None if xy is None else xy[keep])


def _left_out_rows(gdf: pd.DataFrame, kind_: Kind, positions: np.ndarray, judged: pd.DataFrame) -> pd.DataFrame:
    """Rows of the left-out table for the features at ``positions`` (labels and lines from ``gdf``)."""
    lines = (gdf["source_row"].iloc[positions].to_numpy() if "source_row" in gdf.columns
             else np.full(len(positions), None, dtype=object))
    table = pd.DataFrame({"feature": row_labels(gdf, kind_, positions).to_numpy(), "line": lines},
                         index=judged.index)
    for column in ("x", "y", "reason", "detail", "detail_zh"):
        table[column] = judged[column]
    return table.reset_index(drop=True)[LEFT_OUT_COLUMNS]


# --------------------------------------------------------------------------- geometry


def _prepare_geometries(gdf: gpd.GeoDataFrame, kind_: Kind, spec: LayerSpec, notes: list[str]
                        ) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None, list[str], dict[str, str]]:
    """Drop Z, leave out missing geometries, refuse wrong types, repair invalid ones."""
    geoms = gdf.geometry.to_numpy()
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
        notes.append(Text("heights (Z) ignored; positions are 2-D", "已忽略高程(Z)，按平面(二维)位置计算"))
    source = gdf  # ids and labels are made only for the rows a message names
    kept = np.arange(len(gdf))  # positions in ``source`` of the rows still in ``gdf``

    def ids(rows: np.ndarray) -> pd.Series:
        return feature_ids(source, kind_, kept[_positions(gdf, rows)])

    def labels(rows: np.ndarray) -> pd.Series:
        return row_labels(source, kind_, kept[_positions(gdf, rows)])

    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    dropped = None
    if missing.any():
        dropped = pd.DataFrame(gdf[missing].drop(columns=gdf.geometry.name))
        dropped.insert(0, "feature", ids(missing).to_numpy())
        dropped["reason"] = "empty geometry"
        n = int(missing.sum())
        named = labels(missing)
        notes.append(Text(f"{n} feature(s) without geometry left out: {list_rows(named)}",
                          f"{n} 个要素没有图形，未计入：{list_rows(named, lang='zh')}"))
        gdf = gdf[~missing]
        geoms = geoms[~missing]
        kept = kept[~missing]
    if len(gdf) == 0:
        raise LayerReadError("the layer has no features with a geometry", path=spec.path,
                             hint="check that the right file and layer are named in township.toml",
                             message_zh="图层中没有带图形的要素", hint_zh="请检查 township.toml 写的文件和图层是否正确")
    types = shapely.get_type_id(geoms)
    allowed = [t for fam in kind_.geometry for t in _SHAPELY_FAMILY[fam]]
    wrong = ~np.isin(types, allowed)
    if wrong.any():
        found = sorted(set(shapely.get_type_id(geoms[wrong]).tolist()))
        names = {0: "points", 1: "lines", 2: "rings", 3: "polygons", 4: "multipoints", 5: "multilines",
                 6: "multipolygons", 7: "collections"}
        raise GeometryError(
            f"{kind_.name} must be {' or '.join(g.lower() + 's' for g in kind_.geometry)}, but "
            f"{int(wrong.sum())} feature(s) are {', '.join(names.get(t, str(t)) for t in found)} "
            f"({list_rows(labels(wrong))})",
            path=spec.path,
            hint="point the layer at the right file, or convert the geometries in your GIS",
        )
    repaired: list[str] = []
    reasons: dict[str, str] = {}
    # a point is valid unless its coordinates are not numbers, and those rows are left out already
    invalid = np.zeros(len(geoms), dtype=bool) if bool((types == 0).all()) else ~shapely.is_valid(geoms)
    if invalid.any():
        invalid_ids = ids(invalid).astype(str)
        for i, name in zip(np.flatnonzero(invalid)[:10_000], invalid_ids.iloc[:10_000], strict=False):
            reasons[name] = shapely.is_valid_reason(geoms[i])
        originals = geoms[invalid]
        base_types = np.array([{0: 0, 4: 0, 1: 1, 5: 1, 2: 1, 3: 3, 6: 3}.get(t, 3)
                               for t in shapely.get_type_id(originals)])
        fixed = np.array([_extract(g, t) for g, t in zip(shapely.make_valid(originals), base_types, strict=True)],
                         dtype=object)
        geoms = geoms.copy()
        geoms[invalid] = fixed
        repaired = invalid_ids.tolist()
        notes.append(Text(f"{len(repaired)} invalid geometr{'y' if len(repaired) == 1 else 'ies'} repaired in "
                          f"memory (the file is unchanged): {list_rows(repaired)}",
                          f"{len(repaired)} 个无效图形已在内存中修复(文件未改动)：{list_rows(repaired, lang='zh')}"))
        still_empty = shapely.is_empty(geoms)
        if still_empty.any():
            raise GeometryError(f"{int(still_empty.sum())} feature(s) have geometries that cannot be repaired: "
                                f"{list_rows(labels(still_empty))}", path=spec.path,
                                hint="redraw these features in your GIS")
    # single-part points: a one-point MultiPoint becomes a Point
    if kind_.geometry == ("Point",):
        multi = shapely.get_type_id(geoms) == 4
        if multi.any():
            nparts = shapely.get_num_geometries(geoms[multi])
            if (nparts > 1).any():
                bad = labels(np.flatnonzero(multi)[nparts > 1])
                raise GeometryError(f"{len(bad)} feature(s) hold several points each: {list_rows(bad)}",
                                    path=spec.path, hint="explode multipart points into single points in your GIS")
            geoms = geoms.copy()
            geoms[multi] = shapely.get_geometry(geoms[multi], 0)
    gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    return gdf, dropped, repaired, reasons


def _extract(geom, type_id: int):
    """The parts of a repaired geometry of the wanted dimension (make_valid can return a
    collection with stray lines or points)."""
    if shapely.get_type_id(geom) != 7:
        return geom
    parts = [g for g in shapely.get_parts(geom) if shapely.get_type_id(g) in (type_id, type_id + 3)]
    if not parts:
        return shapely.from_wkt("POLYGON EMPTY")
    return shapely.union_all(parts)


# --------------------------------------------------------------------------- fields


def _apply_fields(gdf: gpd.GeoDataFrame, kind_: Kind, spec: LayerSpec, aliases: dict[str, str] | None = None
                  ) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """Rename the file's fields to the kind's canonical names (township.toml's mapping,
    then the names we know). A field with an alias (a File Geodatabase's, e.g. CM with
    alias 村名) is also known by its alias: in township.toml and when no field's own name
    matches."""
    columns = [c for c in gdf.columns if c != gdf.geometry.name and c != "source_row"]
    by_alias = _alias_columns(columns, aliases or {})
    explicit = {canon: by_alias.get(source, source) if source not in columns else source
                for canon, source in spec.fields.items()}
    match = match_fields(columns, kind_, explicit)
    if by_alias:
        _match_by_alias(match, kind_, by_alias)
    shown = [f"{c} ({aliases[c]})" if aliases and c in aliases else str(c) for c in columns]
    for canon in match.explicit:
        source = match.mapping[canon]
        if source not in columns:
            close = difflib.get_close_matches(source, columns + list(by_alias), n=1)
            raise FieldError(
                f"township.toml maps {canon} to field {source!r}, which the file does not have",
                path=spec.path, where=f"[layers.{kind_.name}.fields] {canon}",
                hint=(f"did you mean {close[0]!r}? " if close else "") + "fields in the file: " + ", ".join(shown),
                message_zh=f"township.toml 把 {canon} 对应到字段 {source!r}，但文件中没有这个字段",
                hint_zh=(f"是不是 {close[0]!r}？" if close else "") + "文件中的字段：" + "、".join(shown),
            )
    missing = [f.name for f in kind_.fields if f.required and f.name not in match.mapping]
    if missing:
        raise FieldError(
            f"no field for {', '.join(missing)} ({', '.join(kind_.field(m).zh for m in missing)})",
            path=spec.path,
            hint=f"name the field in township.toml, e.g. under [layers.{kind_.name}] write "
            f'fields = {{ {missing[0]} = "YOUR FIELD NAME" }}; fields in the file: ' + ", ".join(shown),
            message_zh=f"找不到{'、'.join(kind_.field(m).zh for m in missing)}字段({', '.join(missing)})",
            hint_zh=f"请在 township.toml 中写明字段，例如在 [layers.{kind_.name}] 下写 "
            f'fields = {{ {missing[0]} = "你的字段名" }}；文件中的字段：' + "、".join(shown),
        )
    renames = {}
    for canon, source in match.mapping.items():
        if source == canon:
            continue
        if canon in columns and canon not in match.mapping.values():
            renames[canon] = f"{canon}_original"
        renames[source] = canon
    gdf = gdf.rename(columns=renames)
    return gdf, dict(match.mapping)


def _alias_columns(columns: list[str], aliases: dict[str, str]) -> dict[str, str]:
    """Alias → field, for the aliases that are not themselves a field's name."""
    out: dict[str, str] = {}
    for column, alias in aliases.items():
        if column in columns and alias not in columns:
            out.setdefault(alias, column)
    return out


def _match_by_alias(match: FieldMatch, kind_: Kind, by_alias: dict[str, str]) -> None:
    """Give the canonical fields that no field's name matched the field whose alias
    matches (a field is still used for one canonical field at most)."""
    used = set(match.mapping.values())
    for canon, alias in match_fields(list(by_alias), kind_).mapping.items():
        column = by_alias[alias]
        if canon not in match.mapping and column not in used:
            match.mapping[canon] = column
            used.add(column)


def first_code(kind_: Kind, name: str) -> str:
    """The first code of the vocabulary of ``kind_``'s field ``name`` (for a hint's example)."""
    vocabulary = kind_.field(name).vocabulary
    return VOCABULARIES[vocabulary].codes[0] if vocabulary else "..."


def _coerce(gdf: gpd.GeoDataFrame, kind_: Kind, spec: LayerSpec, *, lenient: bool = False
            ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """Give canonical fields their types; collect every cell that cannot be understood.

    Strict (the default): a date or number not understood is a FieldError naming them
    all; a word a closed vocabulary does not know (a status such as 待定) becomes missing
    and is returned in the third table (index label, feature, field, value), so one
    unknown word does not stop a layer. ``lenient``: every such cell becomes missing and
    is returned in the second table (index label, feature, field, value, expected).
    """
    source = gdf  # labels are made only for the rows a message names
    problems: list[str] = []
    hints: list[str] = []
    bad_cells: list[pd.DataFrame] = []
    unknown: list[pd.DataFrame] = []
    gdf = gdf.copy()
    for f in kind_.fields:
        if f.name not in gdf.columns:
            continue
        col = gdf[f.name]
        bad = np.zeros(len(gdf), dtype=bool)
        if f.dtype == "date":
            gdf[f.name], bad = to_date(col)
            hint = f"write {f.name} dates as 2022-03-05"
        elif f.dtype in ("int", "float"):
            gdf[f.name], bad = to_number(col, integer=f.dtype == "int")
            hint = f"write {f.name} as {'a whole number' if f.dtype == 'int' else 'a number'}"
        elif f.vocabulary:
            vocab = VOCABULARIES[f.vocabulary]
            gdf[f.name], bad = to_codes(col, vocab, spec.values.get(f.name))
            words = sorted({str(v) for v in col[bad]})
            hint = (f"use one of {', '.join(t.zh + '/' + t.code for t in vocab.terms)}, or teach the tool your "
                    f"words in township.toml: [layers.{kind_.name}.values] {f.name} = "
                    f'{{ "{words[0] if words else "WORD"}" = "{vocab.codes[0]}" }}')
        else:
            gdf[f.name] = to_text(col, ids=f.name == kind_.id_field)
            continue
        if bad.any() and lenient:
            expected = ("a date such as 2022-03-05" if f.dtype == "date" else "a whole number" if f.dtype == "int"
                        else "a number" if f.dtype == "float" else "one of " + ", ".join(vocab.codes))
            feature = row_labels(source, kind_, bad).to_numpy()
            bad_cells.append(pd.DataFrame({"label": gdf.index[bad], "feature": feature,
                                           "field": f.name, "value": col[bad].astype(str).to_numpy(),
                                           "expected": expected}))
        elif bad.any() and f.vocabulary:
            ids = row_labels(source, kind_, np.flatnonzero(np.asarray(bad)))
            unknown.append(pd.DataFrame({"label": gdf.index[bad], "feature": ids.to_numpy(), "field": f.name,
                                         "value": col[bad].astype(str).to_numpy()}))
        elif bad.any():
            shown = ", ".join(f"{i} ({col.iloc[j]!r})" for i, j in
                              zip(row_labels(source, kind_, np.flatnonzero(bad)[:5]), np.flatnonzero(bad)[:5],
                                  strict=False))
            more = f" and {int(bad.sum()) - 5} more" if bad.sum() > 5 else ""
            problems.append(f"{f.name} ({f.zh}): {int(bad.sum())} value(s) not understood: {shown}{more}")
            hints.append(hint)
    if problems:
        raise FieldError("; ".join(problems), path=spec.path, hint="; ".join(hints))
    cells = (pd.concat(bad_cells, ignore_index=True) if bad_cells
             else pd.DataFrame(columns=["label", "feature", "field", "value", "expected"]))
    words = (pd.concat(unknown, ignore_index=True) if unknown
             else pd.DataFrame(columns=["label", "feature", "field", "value"]))
    return gdf, cells, words


# --------------------------------------------------------------------------- loading


def read_layer(spec: LayerSpec, config: TownshipConfig, *, lenient: bool = False,
               box: tuple[float, float, float, float] | None = None, crs: CRS | None = None) -> Layer:
    """Read one layer in its own CRS with canonical fields and repaired geometries.

    ``lenient``: cells that cannot be understood (a date such as 2020-13-01, a number
    such as "twelve", an unknown status) are read as missing and listed in
    ``Layer.bad_cells`` instead of stopping the read (for the audit, which reports them).
    ``box``: for a GeoParquet layer, read only the rows that may lie in it (the file's CRS).
    ``crs``: the CRS the layer will be worked in; a layer of single points may be handed
    over in it already, its points made once (``Layer.source_crs`` still names the file's).
    """
    kind_ = KINDS[spec.kind]
    if spec.url is not None:
        from geo_township.io.postgis import read_postgis_layer

        raw = read_postgis_layer(spec.url, table=spec.table, sql=spec.sql)
    elif is_geoparquet(spec.path):
        raw = read_geoparquet(spec.path, kind_, explicit=spec.fields, box=box, points_as_xy=crs is not None)
    else:
        raw = read_vector(spec.path, layer=spec.layer, encoding=spec.encoding, geometry=kind_.geometry[0],
                          points_as_xy=crs is not None)
    return layer_from_raw(raw, spec, config, lenient=lenient, crs=crs)


def layer_from_raw(raw: RawLayer, spec: LayerSpec, config: TownshipConfig, *, lenient: bool = False,
                   crs: CRS | None = None) -> Layer:
    """A Layer from what a reader found (all of a file, or one chunk of a big one): CRS
    settled, fields mapped, values understood, geometries repaired; see :func:`read_layer`.
    Points the reader gave as coordinates (``raw.xy``) are made in ``crs`` when it is given
    and the file's CRS is known, else in the file's CRS."""
    kind_ = KINDS[spec.kind]
    xy = raw.xy
    if xy is not None and (crs is None or spec.map_app is not None or (spec.crs is None and raw.gdf.crs is None)):
        raw, xy = raw.with_points(), None  # a CRS to infer or a map app's shift: from the points as read
    if len(raw.gdf) == 0:
        raise LayerReadError("the layer is empty (no features)", path=spec.path,
                             where=f"layer {spec.layer}" if spec.layer else None,
                             hint="check that township.toml names the right file and layer",
                             message_zh="图层是空的(没有要素)", hint_zh="请检查 township.toml 写的文件和图层是否正确")
    notes = list(raw.notes)
    source_crs, crs_note, fit = _resolve_crs(raw, spec, config)
    gdf = raw.gdf.set_crs(source_crs, allow_override=True)
    gdf, field_map = _apply_fields(gdf, kind_, spec, raw.aliases)
    gdf, left_out, xy = _leave_out_implausible(gdf, kind_, source_crs, fit, xy)
    if len(gdf) == 0 and len(left_out):
        raise CRSError(f"no row has coordinates that can be right ({left_out['detail'].iloc[0]})", path=spec.path,
                       hint="check the coordinates and the layer's crs in township.toml",
                       message_zh=f"没有一行的坐标可能正确({left_out['detail_zh'].iloc[0]})",
                       hint_zh="请检查坐标，以及 township.toml 中该图层的 crs")
    if spec.map_app is not None:
        gdf, crs_note = _from_map_app(gdf, spec.map_app, crs_note)
    gdf, cells, words = _coerce(gdf, kind_, spec, lenient=lenient)
    if xy is not None:
        assert crs is not None
        gdf = gdf.set_geometry(gpd.GeoSeries(points_in(xy, source_crs, crs), index=gdf.index, crs=crs))
    gdf, dropped, repaired, reasons = _prepare_geometries(gdf, kind_, spec, notes)
    bad_cells = None
    if lenient:  # index labels → positions in the layer (cells of features left out go with them)
        rows = pd.Index(gdf.index).get_indexer(cells.pop("label"))
        bad_cells = cells[rows >= 0].assign(row=rows[rows >= 0])[["row", "feature", "field", "value", "expected"]]
        bad_cells = bad_cells.reset_index(drop=True)
        if len(bad_cells):
            cells_ = [f"{r.feature} {r.field} {r.value!r}" for r in bad_cells.itertuples()]
            notes.append(Text(f"{len(bad_cells)} value(s) not understood, read as missing: " + list_rows(cells_),
                              f"{len(bad_cells)} 个取值无法识别，按空值读取：" + list_rows(cells_, lang="zh")))
    unknown_words = None
    if len(words):
        rows = pd.Index(gdf.index).get_indexer(words.pop("label"))
        unknown_words = words[rows >= 0].assign(row=rows[rows >= 0])[["row", "feature", "field", "value"]]
        unknown_words = unknown_words.reset_index(drop=True)
        for name, group in unknown_words.groupby("field", sort=False):
            listed = [f"{r.feature} {r.value!r}" for r in group.itertuples()]
            word, code = group["value"].iloc[0], first_code(kind_, str(name))
            teach = f'[layers.{kind_.name}.values] {name} = {{ "{word}" = "{code}" }}'
            notes.append(Text(f"{len(group)} {name} value(s) not understood, read as missing: " + list_rows(listed)
                              + f"; teach the tool your words in township.toml: {teach}",
                              f"{len(group)} 个{name}取值无法识别，按空值读取：" + list_rows(listed, lang="zh")
                              + f"；可在 township.toml 中告诉工具这些写法：{teach}"))
    if raw.dropped is not None:
        dropped = pd.concat([d for d in (raw.dropped, dropped) if d is not None], ignore_index=True)
    numbers = FeatureNumbers.from_index(gdf.index)  # 1-based positions in the file, before any reset
    gdf = gdf.reset_index(drop=True)
    if "source_row" not in gdf.columns:
        keep_numbers(gdf, numbers)
    return Layer(kind_, gdf, spec, source_crs, crs_note, field_map, raw.encoding, notes, dropped, repaired, reasons,
                 bad_cells, left_out, dict(raw.aliases), unknown_words)
