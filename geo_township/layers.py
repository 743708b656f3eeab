"""Loaded layers: features with canonical fields, valid geometries of the expected type,
in the township's one working CRS (its 3-degree Gauss–Krüger zone, metres).

:func:`load_township` reads township.toml; layers are read on first use and cached, so
a command that needs one layer reads one file.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo_township import __version__
from geo_township.config import LayerSpec, TownshipConfig, load_config
from geo_township.crs import infer_crs, working_crs_for
from geo_township.errors import CRSError, FieldError, GeometryError, LayerReadError
from geo_township.io.read import RawLayer, read_vector
from geo_township.kinds import KINDS, VOCABULARIES, Kind, match_fields
from geo_township.values import to_codes, to_date, to_number, to_text

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
    never changed).
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

    @property
    def path(self) -> Path:
        return self.spec.path

    @property
    def name(self) -> str:
        return self.kind.name

    def ids(self) -> pd.Series:
        """Each feature's id (its id field, else its 1-based feature number) as text."""
        return feature_ids(self.gdf, self.kind)


def feature_ids(gdf: pd.DataFrame, kind_: Kind) -> pd.Series:
    """A readable id per feature for messages: the kind's id field, else 'line N' for
    tables, else 'feature N'."""
    numbers = gdf.attrs.get("feature_numbers")  # positions in the file, kept when features were left out
    if numbers is None or len(numbers) != len(gdf):
        numbers = range(1, len(gdf) + 1)
    fallback = (("line " + gdf["source_row"].astype(str)) if "source_row" in gdf.columns
                else pd.Series([f"feature {n}" for n in numbers], index=gdf.index))
    if kind_.id_field and kind_.id_field in gdf.columns:
        ids = gdf[kind_.id_field].astype(object)
        return ids.where(ids.notna(), fallback).astype(str)
    return fallback


def row_labels(gdf: pd.DataFrame, kind_: Kind) -> pd.Series:
    """Feature labels for error messages: the id and, for tables, the line in the file
    ('T12 (line 14)'), so the user can find the row in Excel."""
    ids = feature_ids(gdf, kind_)
    if "source_row" in gdf.columns and kind_.id_field and kind_.id_field in gdf.columns:
        has_id = gdf[kind_.id_field].notna()
        with_line = ids + " (line " + gdf["source_row"].astype(str) + ")"
        return with_line.where(has_id, ids)
    return ids


def _list_rows(labels, limit: int = 5) -> str:
    labels = list(labels)
    shown = ", ".join(map(str, labels[:limit]))
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


# --------------------------------------------------------------------------- CRS


def _plausible(gdf: gpd.GeoDataFrame, crs: CRS) -> bool:
    """Do the coordinates fall in China when read in ``crs``?"""
    try:
        lon_min, lat_min, lon_max, lat_max = gpd.GeoSeries(
            shapely.box(*gdf.total_bounds), crs=crs).to_crs(4326).total_bounds
    except Exception:  # noqa: BLE001 - a transform that fails means the CRS does not fit the numbers
        return False
    return bool(73 <= lon_min and lon_max <= 136 and 3 <= lat_min and lat_max <= 54)


def _resolve_crs(raw: RawLayer, spec: LayerSpec, config: TownshipConfig) -> tuple[CRS, str]:
    gdf = raw.gdf
    if spec.crs is not None:
        note = "from township.toml"
        if gdf.crs is not None and not CRS(gdf.crs).equals(spec.crs):
            note += f" (overrides the file's {CRS(gdf.crs).to_string()})"
        return spec.crs, note
    if gdf.crs is not None:
        return CRS(gdf.crs), "from the file"
    coords = shapely.get_coordinates(gdf.geometry.to_numpy()[:50_000])
    try:
        inferred = infer_crs(coords[:, 0], coords[:, 1], gk_zone=config.gk_zone)
        return inferred.crs, "inferred: " + inferred.reason
    except CRSError as exc:
        if config.crs is not None and _plausible(gdf, config.crs):
            return config.crs, "the township's default crs in township.toml"
        raise CRSError(exc.message, path=spec.path, hint=exc.hint) from None


# --------------------------------------------------------------------------- geometry


def _prepare_geometries(gdf: gpd.GeoDataFrame, kind_: Kind, spec: LayerSpec, notes: list[str]
                        ) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None, list[str], dict[str, str]]:
    """Drop Z, leave out missing geometries, refuse wrong types, repair invalid ones."""
    geoms = gdf.geometry.to_numpy()
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
        notes.append("heights (Z) ignored; positions are 2-D")
    ids = feature_ids(gdf, kind_)
    labels = row_labels(gdf, kind_)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    coords_ok = np.array([True] * len(geoms))
    if len(geoms):
        finite = np.isfinite(shapely.bounds(geoms)).all(axis=1)
        coords_ok = finite | missing
    if not coords_ok.all():
        bad = labels[~coords_ok]
        raise GeometryError(f"{len(bad)} feature(s) have coordinates that are not numbers: {_list_rows(bad)}",
                            path=spec.path, hint="fix or delete these features in your GIS and save again")
    dropped = None
    if missing.any():
        dropped = pd.DataFrame(gdf[missing].drop(columns=gdf.geometry.name))
        dropped.insert(0, "feature", ids[missing].to_numpy())
        dropped["reason"] = "empty geometry"
        notes.append(f"{int(missing.sum())} feature(s) without geometry left out: {_list_rows(labels[missing])}")
        gdf = gdf[~missing]
        geoms = geoms[~missing]
        ids = ids[~missing]
        labels = labels[~missing]
    if len(gdf) == 0:
        raise LayerReadError("the layer has no features with a geometry", path=spec.path,
                             hint="check that the right file and layer are named in township.toml")
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
            f"({_list_rows(labels[wrong])})",
            path=spec.path,
            hint="point the layer at the right file, or convert the geometries in your GIS",
        )
    repaired: list[str] = []
    reasons: dict[str, str] = {}
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        for i in np.flatnonzero(invalid)[:10_000]:
            reasons[str(ids.iloc[i])] = shapely.is_valid_reason(geoms[i])
        originals = geoms[invalid]
        base_types = np.array([{0: 0, 4: 0, 1: 1, 5: 1, 2: 1, 3: 3, 6: 3}.get(t, 3)
                               for t in shapely.get_type_id(originals)])
        fixed = np.array([_extract(g, t) for g, t in zip(shapely.make_valid(originals), base_types, strict=True)],
                         dtype=object)
        geoms = geoms.copy()
        geoms[invalid] = fixed
        repaired = ids[invalid].astype(str).tolist()
        notes.append(f"{len(repaired)} invalid geometr{'y' if len(repaired) == 1 else 'ies'} repaired in memory "
                     f"(the file is unchanged): {_list_rows(repaired)}")
        still_empty = shapely.is_empty(geoms)
        if still_empty.any():
            raise GeometryError(f"{int(still_empty.sum())} feature(s) have geometries that cannot be repaired: "
                                f"{_list_rows(labels[still_empty])}", path=spec.path,
                                hint="redraw these features in your GIS")
    # single-part points: a one-point MultiPoint becomes a Point
    if kind_.geometry == ("Point",):
        multi = shapely.get_type_id(geoms) == 4
        if multi.any():
            nparts = shapely.get_num_geometries(geoms[multi])
            if (nparts > 1).any():
                bad = labels[multi][nparts > 1]
                raise GeometryError(f"{len(bad)} feature(s) hold several points each: {_list_rows(bad)}",
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


def _apply_fields(gdf: gpd.GeoDataFrame, kind_: Kind, spec: LayerSpec) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    columns = [c for c in gdf.columns if c != gdf.geometry.name and c != "source_row"]
    match = match_fields(columns, kind_, spec.fields)
    for canon in match.explicit:
        source = match.mapping[canon]
        if source not in columns:
            close = difflib.get_close_matches(source, columns, n=1)
            raise FieldError(
                f"township.toml maps {canon} to field {source!r}, which the file does not have",
                path=spec.path, where=f"[layers.{kind_.name}.fields] {canon}",
                hint=(f"did you mean {close[0]!r}? " if close else "") + "fields in the file: " + ", ".join(columns),
            )
    missing = [f.name for f in kind_.fields if f.required and f.name not in match.mapping]
    if missing:
        raise FieldError(
            f"no field for {', '.join(missing)} ({', '.join(kind_.field(m).zh for m in missing)})",
            path=spec.path,
            hint=f"name the field in township.toml, e.g. under [layers.{kind_.name}] write "
            f'fields = {{ {missing[0]} = "YOUR FIELD NAME" }}; fields in the file: ' + ", ".join(map(str, columns)),
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


def _coerce(gdf: gpd.GeoDataFrame, kind_: Kind, spec: LayerSpec, *, lenient: bool = False
            ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Give canonical fields their types; collect every cell that cannot be understood.

    Strict (the default): any such cell is a FieldError naming them all. ``lenient``:
    they become missing and are returned as a table (index label, feature, field, value,
    expected) for the caller to report.
    """
    ids = row_labels(gdf, kind_)
    problems: list[str] = []
    hints: list[str] = []
    bad_cells: list[pd.DataFrame] = []
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
            gdf[f.name] = to_text(col)
            continue
        if bad.any() and lenient:
            expected = ("a date such as 2022-03-05" if f.dtype == "date" else "a whole number" if f.dtype == "int"
                        else "a number" if f.dtype == "float" else "one of " + ", ".join(vocab.codes))
            bad_cells.append(pd.DataFrame({"label": gdf.index[bad], "feature": ids[bad].to_numpy(),
                                           "field": f.name, "value": col[bad].astype(str).to_numpy(),
                                           "expected": expected}))
        elif bad.any():
            shown = ", ".join(f"{i} ({col.iloc[j]!r})" for i, j in
                              zip(ids[bad][:5], np.flatnonzero(bad)[:5], strict=False))
            more = f" and {int(bad.sum()) - 5} more" if bad.sum() > 5 else ""
            problems.append(f"{f.name} ({f.zh}): {int(bad.sum())} value(s) not understood: {shown}{more}")
            hints.append(hint)
    if problems:
        raise FieldError("; ".join(problems), path=spec.path, hint="; ".join(hints))
    cells = (pd.concat(bad_cells, ignore_index=True) if bad_cells
             else pd.DataFrame(columns=["label", "feature", "field", "value", "expected"]))
    return gdf, cells


# --------------------------------------------------------------------------- loading


def read_layer(spec: LayerSpec, config: TownshipConfig, *, lenient: bool = False) -> Layer:
    """Read one layer in its own CRS with canonical fields and repaired geometries.

    ``lenient``: cells that cannot be understood (a date such as 2020-13-01, a number
    such as "twelve", an unknown status) are read as missing and listed in
    ``Layer.bad_cells`` instead of stopping the read (for the audit, which reports them).
    """
    kind_ = KINDS[spec.kind]
    raw = read_vector(spec.path, layer=spec.layer, encoding=spec.encoding, geometry=kind_.geometry[0])
    if len(raw.gdf) == 0:
        raise LayerReadError("the layer is empty (no features)", path=spec.path,
                             where=f"layer {spec.layer}" if spec.layer else None,
                             hint="check that township.toml names the right file and layer")
    notes = list(raw.notes)
    source_crs, crs_note = _resolve_crs(raw, spec, config)
    gdf = raw.gdf.set_crs(source_crs, allow_override=True)
    gdf, field_map = _apply_fields(gdf, kind_, spec)
    gdf, cells = _coerce(gdf, kind_, spec, lenient=lenient)
    gdf, dropped, repaired, reasons = _prepare_geometries(gdf, kind_, spec, notes)
    bad_cells = None
    if lenient:  # index labels → positions in the layer (cells of features left out go with them)
        rows = pd.Index(gdf.index).get_indexer(cells.pop("label"))
        bad_cells = cells[rows >= 0].assign(row=rows[rows >= 0])[["row", "feature", "field", "value", "expected"]]
        bad_cells = bad_cells.reset_index(drop=True)
        if len(bad_cells):
            notes.append(f"{len(bad_cells)} value(s) not understood, read as missing: "
                         + _list_rows(f"{r.feature} {r.field} {r.value!r}" for r in bad_cells.itertuples()))
    if raw.dropped is not None:
        dropped = pd.concat([d for d in (raw.dropped, dropped) if d is not None], ignore_index=True)
    numbers = (np.asarray(gdf.index) + 1).tolist()  # 1-based positions in the file, before any reset
    gdf = gdf.reset_index(drop=True)
    if "source_row" not in gdf.columns and numbers != list(range(1, len(gdf) + 1)):
        gdf.attrs["feature_numbers"] = numbers
    return Layer(kind_, gdf, spec, source_crs, crs_note, field_map, raw.encoding, notes, dropped, repaired, reasons,
                 bad_cells)


class Township:
    """A township folder: its configuration and its layers, loaded on first use.

    All layers are reprojected to one working CRS: ``[township] working_crs`` if set,
    else the 3-degree Gauss–Krüger zone (EPSG:4534–4554) of the villages layer (or the
    first layer) by its centre longitude.
    """

    def __init__(self, config: TownshipConfig) -> None:
        self.config = config
        self._layers: dict[str, Layer] = {}
        self._lenient: dict[str, Layer] = {}  # lenient reads that found bad cells (never handed to strict callers)
        self._working_crs: CRS | None = config.working_crs

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def kinds(self) -> list[str]:
        """The layer kinds configured, in the order of the file."""
        return list(self.config.layers)

    def has(self, kind_name: str) -> bool:
        return kind_name in self.config.layers

    @property
    def working_crs(self) -> CRS:
        """The planar CRS (metres) that every layer is loaded in."""
        if self._working_crs is None:
            if not self.config.layers:
                raise LayerReadError("township.toml names no layers", path=self.config.path,
                                     hint='add a [layers.villages] table with path = "villages.gpkg"')
            anchor = "villages" if "villages" in self.config.layers else next(iter(self.config.layers))
            self.layer(anchor)
        assert self._working_crs is not None
        return self._working_crs

    def layer(self, kind_name: str, *, lenient: bool = False) -> Layer:
        """The loaded layer of ``kind_name`` (read on first use).

        ``lenient=True`` reads cells that cannot be understood as missing and lists them
        in ``Layer.bad_cells`` (the audit reports them); the default refuses the layer
        with a FieldError naming them, as every other command needs. A lenient read that
        found bad cells is kept apart, so a later strict call still refuses the file.
        """
        if kind_name in self._layers:
            return self._layers[kind_name]
        if lenient and kind_name in self._lenient:
            return self._lenient[kind_name]
        if kind_name not in self.config.layers:
            known = ", ".join(self.config.layers) or "none"
            raise LayerReadError(
                f"the township has no {kind_name} layer", path=self.config.path,
                hint=f"add [layers.{kind_name}] with path = \"...\" to township.toml (layers now: {known})",
            )
        spec = self.config.layers[kind_name]
        log.info("reading %s from %s", kind_name, spec.path)
        layer = read_layer(spec, self.config, lenient=lenient)
        if self._working_crs is None:
            lon_min, lat_min, lon_max, lat_max = layer.gdf.to_crs(4326).total_bounds
            self._working_crs = working_crs_for(lon_min, lon_max, (lat_min + lat_max) / 2.0)
        if not CRS(layer.gdf.crs).equals(self._working_crs):
            layer.gdf = layer.gdf.to_crs(self._working_crs)
        if layer.repaired:
            log.warning("%s: %d invalid geometr%s repaired in memory for this run (the file is unchanged; "
                        "`geo-township check` lists them): %s", spec.path.name, len(layer.repaired),
                        "y" if len(layer.repaired) == 1 else "ies", _list_rows(layer.repaired))
        if layer.dropped is not None and len(layer.dropped):
            log.warning("%s: %d feature(s) without geometry left out of every count (`geo-township check` "
                        "lists them)", spec.path.name, len(layer.dropped))
        if layer.bad_cells is not None and len(layer.bad_cells):
            self._lenient[kind_name] = layer
        else:
            self._layers[kind_name] = layer
        return layer

    def gdf(self, kind_name: str) -> gpd.GeoDataFrame:
        """Shortcut: the loaded layer's GeoDataFrame."""
        return self.layer(kind_name).gdf

    def optional(self, kind_name: str) -> gpd.GeoDataFrame | None:
        """The layer's GeoDataFrame when the township has it, else None."""
        return self.gdf(kind_name) if self.has(kind_name) else None

    def loaded(self) -> dict[str, Layer]:
        return {**self._lenient, **self._layers}

    def provenance(self, **extra: Any) -> dict[str, Any]:
        """How a result was made, for the JSON/XLSX outputs: tool, township, inputs, CRS, date."""
        inputs = []
        for kind_name, layer in self.loaded().items():
            stat = layer.path.stat()
            inputs.append({
                "layer": kind_name,
                "file": str(layer.path),
                "source_layer": layer.spec.layer,
                "features": len(layer.gdf),
                "source_crs": layer.source_crs.to_string(),
                "crs_note": layer.crs_note,
                "modified": dt.datetime.fromtimestamp(stat.st_mtime).isoformat(timespec="seconds"),
                "bytes": stat.st_size,
                "geometries_repaired": layer.repaired[:100],
                "features_left_out": 0 if layer.dropped is None else len(layer.dropped),
            })
        prov: dict[str, Any] = {
            "tool": f"geo-township {__version__}",
            "township": self.config.name,
            "township_file": str(self.config.path),
            "data_date": self.config.data_date.isoformat() if self.config.data_date else None,
            "working_crs": self.working_crs.to_string() if (self._working_crs or self._layers) else None,
            "ellipsoid": "CGCS2000 (a = 6378137 m, 1/f = 298.257222101)",
            "created": dt.datetime.now().isoformat(timespec="seconds"),
            "inputs": inputs,
        }
        prov.update(extra)
        return prov


def load_township(path: str | Path | None = None) -> Township:
    """Read township.toml (from ``path``, the working folder, or ./layers) into a Township."""
    return Township(load_config(path))
