"""The township's layers: its configuration and its layers, each read on first use, in
one working CRS (the township's 3-degree Gauss–Krüger zone, metres).

:func:`load_township` reads township.toml; layers are read on first use and cached, so
a command reads only the files it needs, and a missing or broken file stops only the
commands that ask for its layer (:meth:`Township.try_layer` and
:meth:`Township.failures` let a command go on without it). Reading one file is
:mod:`geo_township.layerfile`; rows whose coordinates cannot be right are left out of
every count and named (:mod:`geo_township.leftout`, :meth:`Township.load_notes`).
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geo_township import __version__
from geo_township.config import TownshipConfig, load_config
from geo_township.crs import is_plain_lonlat, lonlat_bounds, working_crs_for
from geo_township.errors import LayerReadError, TownshipError
from geo_township.io.memory import release_freed_memory
from geo_township.io.parquet import box_in_file_crs, is_geoparquet
from geo_township.io.sample import LayerInfo, can_sample, layer_info, read_sample
from geo_township.io.xy import points_in
from geo_township.kinds import KINDS
from geo_township.layerfile import Layer, feature_ids, layer_from_raw, list_rows, read_layer, row_labels
from geo_township.leftout import COLUMNS as LEFT_OUT_COLUMNS
from geo_township.leftout import (
    OUTSIDE_PARAMETER,
    boxes_within,
    left_out_findings,
    outside_extent,
)
from geo_township.places import refuse_county
from geo_township.results import Finding

log = logging.getLogger(__name__)

__all__ = ["Layer", "LayerFailure", "Township", "feature_ids", "load_township", "read_layer", "row_labels"]


@dataclass(frozen=True)
class LayerFailure:
    """A layer that could not be read: its kind, its file and the error's message (with the fix)."""

    kind: str
    file: Path
    message: str

    def text(self, lang: str = "en") -> str:
        """One line naming the layer and the file, for notes and the map page."""
        if lang == "zh":
            return f"图层 {self.kind}（{self.file.name}）未能读取：{self.message}"
        return f"the {self.kind} layer ({self.file.name}) could not be read: {self.message}"


@dataclass(frozen=True)
class Sampled:
    """A big layer read from a sample (:meth:`Township.sample`): the sample as a layer (in the
    file's CRS), the file's metadata and how many rows were read."""

    layer: Layer
    info: LayerInfo
    rows_read: int


class Township:
    """A township folder: its configuration and its layers, loaded on first use.

    All layers are reprojected to one working CRS: ``[township] working_crs`` if set,
    else the 3-degree Gauss–Krüger zone (EPSG:4534–4554) of the villages layer by its centre
    longitude (without a readable villages layer: of the first layer read), so every command
    works in the same zone whatever layer it reads first. (A layer in longitude/latitude asked
    for with ``projected=False`` stays in them until it is asked for without: :meth:`layer`.)
    """

    def __init__(self, config: TownshipConfig) -> None:
        self.config = config
        self._layers: dict[str, Layer] = {}
        self._lenient: dict[str, Layer] = {}  # lenient reads that found bad cells (never handed to strict callers)
        self._quiet: dict[str, Layer] = {}  # read only to know the township's extent; announced when asked for
        self._failed: dict[str, LayerFailure] = {}
        self._extent: tuple[tuple[float, float, float, float], str, str] | None = None
        self._extent_known = False
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
                                     hint='add a [layers.villages] table with path = "villages.gpkg"',
                                     message_zh="township.toml 中没有写任何图层",
                                     hint_zh='请加一个 [layers.villages] 表，写 path = "villages.gpkg"')
            anchor = "villages" if "villages" in self.config.layers else next(iter(self.config.layers))
            self.layer(anchor)
        assert self._working_crs is not None
        return self._working_crs

    def layer(self, kind_name: str, *, lenient: bool = False, projected: bool = True) -> Layer:
        """The loaded layer of ``kind_name`` (read on first use).

        ``lenient=True`` reads cells that cannot be understood as missing and lists them
        in ``Layer.bad_cells`` (the audit reports them); the default refuses the layer
        with a FieldError naming them, as every other command needs. A lenient read that
        found bad cells is kept apart, so a later strict call still refuses the file.
        A layer that cannot be read raises its error (and is listed by :meth:`failures`).

        ``projected=False``: a layer read in longitude/latitude on CGCS2000 or WGS 84 may be
        handed over in them, for work that needs no projection (ellipsoidal area): reprojecting
        every vertex is most of the cost of loading a big polygon layer. It is the same layer
        otherwise (the same rows left out, the same notes); a later call without the flag
        reprojects it in place.
        """
        cached = self._layers.get(kind_name)
        if cached is None and lenient:
            cached = self._lenient.get(kind_name)
        if cached is not None:
            if projected:
                self._project(cached)
            return cached
        if kind_name not in self.config.layers:
            known = ", ".join(self.config.layers) or "none"
            raise LayerReadError(
                f"the township has no {kind_name} layer", path=self.config.path,
                hint=f"add [layers.{kind_name}] with path = \"...\" to township.toml (layers now: {known})",
                message_zh=f"本乡镇没有 {kind_name} 图层",
                hint_zh=f"请在 township.toml 中加 [layers.{kind_name}]，写 path = \"...\"(现有图层：{known})",
            )
        layer = self._quiet.pop(kind_name, None)
        if layer is None:
            try:
                layer = self._load(kind_name, lenient=lenient, project=projected)
            except TownshipError as exc:
                self._failed[kind_name] = LayerFailure(kind_name, self.config.layers[kind_name].path, str(exc))
                raise
        self._failed.pop(kind_name, None)
        self._announce(layer)
        if layer.bad_cells is not None and len(layer.bad_cells):
            self._lenient[kind_name] = layer
        else:
            self._layers[kind_name] = layer
        return layer

    def sample(self, kind_name: str, *, above: int, rows: int) -> Sampled | None:
        """A layer of more than ``above`` features, described without reading it whole: at most
        ``rows`` of its rows spread through the file (:func:`geo_township.io.sample.read_sample`)
        read as a layer is (CRS settled or inferred, fields mapped, values understood) but left
        in the file's CRS and not kept, with the file's metadata (count, box, fields). None
        when the layer is small, already read, converted from a map app's system, or not in a
        file that can be sampled: read it whole with :meth:`layer`. A layer that cannot be
        read raises its error."""
        spec = self.config.layers.get(kind_name)
        if (spec is None or kind_name in self.loaded() or spec.url is not None or spec.map_app is not None
                or is_geoparquet(spec.path) or not can_sample(spec.path)):
            return None
        kind_ = KINDS[kind_name]
        try:
            info = layer_info(spec.path, layer=spec.layer, encoding=spec.encoding, geometry=kind_.geometry[0])
            if info.features <= above:
                return None
            raw, info = read_sample(spec.path, rows=rows, layer=spec.layer, encoding=spec.encoding,
                                    geometry=kind_.geometry[0])
            return Sampled(layer_from_raw(raw, spec, self.config), info, len(raw.gdf))
        except TownshipError as exc:
            self._failed[kind_name] = LayerFailure(kind_name, spec.path, str(exc))
            raise

    def try_layer(self, kind_name: str, *, lenient: bool = False) -> Layer | None:
        """The layer, or None when it cannot be read (the error is kept in :meth:`failures`)."""
        try:
            return self.layer(kind_name, lenient=lenient)
        except TownshipError:
            return None

    def read_all(self) -> list[LayerFailure]:
        """Read every layer that can be read; return those that cannot (in township.toml order)."""
        failed = [kind for kind in self.kinds if self.try_layer(kind) is None]
        return [self._failed[kind] for kind in failed]

    def failures(self) -> dict[str, LayerFailure]:
        """The layers asked for that could not be read: kind → what and where."""
        return dict(self._failed)

    def _load(self, kind_name: str, *, lenient: bool = False, project: bool = True) -> Layer:
        """Read a layer, put it in the working CRS (``project=False``: not a layer in plain
        longitude/latitude, see :meth:`layer`) and leave out the rows far outside the township."""
        spec = self.config.layers[kind_name]
        if spec.url is None and not spec.path.exists():  # a PostGIS layer (spec.url) has no file
            raise LayerReadError("file not found", path=spec.path, where=f"[layers.{kind_name}] path",
                                 hint="correct the path (relative to township.toml) or remove the layer",
                                 message_zh="找不到文件",
                                 hint_zh="请改正路径(相对于 township.toml 所在文件夹)，或删去该图层")
        if self._working_crs is None and kind_name != "villages" and "villages" in self.config.layers:
            self._extent_layer("villages")  # the villages decide the zone (an unreadable one: this layer)
        log.info("reading %s from %s", kind_name, spec.path)
        # the zone known (the villages read first): a points layer's points are made in it at once
        layer = read_layer(spec, self.config, lenient=lenient, box=self.prune_box(kind_name),
                           crs=self._working_crs if project else None)
        release_freed_memory()  # the raw read's text and WKB, before the reprojection's own peak
        if self._working_crs is None:
            # the zone from the layer's box, not from every vertex reprojected
            lon_min, lat_min, lon_max, lat_max = lonlat_bounds(layer.gdf.total_bounds, CRS(layer.gdf.crs))
            self._working_crs = working_crs_for(lon_min, lon_max, (lat_min + lat_max) / 2.0)
        if project or not is_plain_lonlat(CRS(layer.gdf.crs)):
            self._project(layer)
        self._leave_out_far(layer)
        return layer

    def _project(self, layer: Layer) -> None:
        """Put ``layer`` in the working CRS, in place, unless it is there already."""
        if not layer.gdf.crs.equals(self.working_crs):
            to_crs(layer.gdf, self.working_crs)
            release_freed_memory()

    def _announce(self, layer: Layer) -> None:
        """Warn (on the command line: stderr) about what loading changed, once per layer."""
        name = layer.path.name
        if layer.repaired:
            rows = list_rows(layer.repaired)
            log.warning("%s: %d invalid geometr%s repaired in memory for this run (the file is unchanged; "
                        "`geo-township check` lists them): %s", name, len(layer.repaired),
                        "y" if len(layer.repaired) == 1 else "ies", rows,
                        extra={"zh": f"{name}：{len(layer.repaired)} 个无效图形已在本次运行中于内存里修复"
                                     f"（文件未改动；`geo-township check` 列出它们）：{rows}"})
        if layer.dropped is not None and len(layer.dropped):
            log.warning("%s: %d feature(s) without geometry left out of every count (`geo-township check` "
                        "lists them)", name, len(layer.dropped),
                        extra={"zh": f"{name}：{len(layer.dropped)} 个没有图形的要素未计入任何统计"
                                     "（`geo-township check` 列出它们）"})
        for en, zh in zip(layer.left_out_notes("en"), layer.left_out_notes("zh"), strict=True):
            log.warning("%s", en, extra={"zh": zh})

    # ------------------------------------------------------------------ the township's extent

    def _extent_layer(self, kind_name: str) -> Layer | None:
        """A layer read to know the township's extent, without announcing it (None if unreadable)."""
        if kind_name in self._layers:
            return self._layers[kind_name]
        if kind_name not in self._quiet:
            try:
                self._quiet[kind_name] = self._load(kind_name)
            except TownshipError:
                return None
        return self._quiet[kind_name]

    def extent(self) -> tuple[tuple[float, float, float, float], str, str] | None:
        """The township's extent in the working CRS — the bounding box of its villages, else
        of its polygon layers — with what it is (en, zh); None when no such layer can be read."""
        if not self._extent_known:
            self._extent_known = True
            sources = (["villages"] if "villages" in self.config.layers
                       else [k for k in self.config.layers if "Polygon" in KINDS[k].geometry])
            what = ("its villages", "各村范围") if sources == ["villages"] else ("its polygon layers", "各面图层范围")
            boxes = [lay.gdf.total_bounds for lay in map(self._extent_layer, sources)
                     if lay is not None and len(lay.gdf)]
            if boxes:
                b = np.vstack(boxes)
                self._extent = ((float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()),
                                 float(b[:, 3].max())), *what)
        return self._extent

    def prune_box(self, kind_name: str) -> tuple[float, float, float, float] | None:
        """For a GeoParquet layer judged against the extent: the box (in the file's CRS)
        beyond which its rows would be left out, so they need not be read; else None."""
        spec = self.config.layers[kind_name]
        if not is_geoparquet(spec.path) or kind_name == "villages" or (
                "villages" not in self.config.layers and "Polygon" in KINDS[kind_name].geometry):
            return None
        extent = self.extent()
        if extent is None:
            return None
        params = self.config.parameters
        max_m = max(float(params[OUTSIDE_PARAMETER]), float(params["import_max_outside_m"]))
        return box_in_file_crs(spec.path, extent[0], self.working_crs, max_m, spec.crs or self.config.crs)

    def _leave_out_far(self, layer: Layer) -> None:
        """Leave out the features further than ``max_outside_m`` outside the extent.
        The layers that make the extent (villages; else the polygon layers) are not judged."""
        if layer.name == "villages" or ("villages" not in self.config.layers and "Polygon" in layer.kind.geometry):
            return
        extent = self.extent()
        if extent is None or not len(layer.gdf):
            return
        box, what, what_zh = extent
        params = self.config.parameters  # never nearer than the import's limit: an imported tree always counts
        max_m = max(float(params[OUTSIDE_PARAMETER]), float(params["import_max_outside_m"]))
        held = layer.gdf.geometry.to_numpy()
        if layer.gdf.crs.equals(self.working_crs):
            far = outside_extent(held, box, max_m, what=what, what_zh=what_zh)
        else:  # held in longitude/latitude (:meth:`layer`): the features that surely lie in the box are not projected
            inner = _lonlat_box_inside(box, self.working_crs, CRS(layer.gdf.crs))
            maybe = np.flatnonzero(~boxes_within(shapely.bounds(held), inner))
            far = outside_extent(projected(held[maybe], CRS(layer.gdf.crs), self.working_crs), box, max_m,
                                 what=what, what_zh=what_zh)
            far.index = maybe[far.index.to_numpy()]
        if not len(far):
            return
        positions = far.index.to_numpy()
        geoms = held[positions]
        x, y = _first_vertex_in(geoms, CRS(layer.gdf.crs), layer.source_crs)
        gdf = layer.gdf
        rows = pd.DataFrame({
            "feature": row_labels(gdf, layer.kind, positions).to_numpy(),
            "line": (gdf["source_row"].iloc[positions].to_numpy() if "source_row" in gdf.columns
                     else np.full(len(positions), None, dtype=object)),
            "x": x, "y": y, "reason": far["reason"].to_numpy(), "detail": far["detail"].to_numpy(),
            "detail_zh": far["detail_zh"].to_numpy()})
        layer.leave_out(positions, rows[LEFT_OUT_COLUMNS])

    # ------------------------------------------------------------------ views and notes

    def with_layer(self, layer: Layer) -> Township:
        """The same township with ``layer`` (e.g. one chunk of a layer too big for memory,
        from :func:`~geo_township.layerfile.layer_from_raw`) as its layer of that kind: put in
        the working CRS and with far rows left out as on load, sharing the other layers."""
        if not CRS(layer.gdf.crs).equals(self.working_crs):
            to_crs(layer.gdf, self.working_crs)
        self._leave_out_far(layer)
        view = copy.copy(self)
        view._layers = {**self._layers, layer.name: layer}
        return view

    def without(self, kinds: Iterable[str]) -> Township:
        """The same township without the layers ``kinds`` (e.g. those that cannot be read),
        sharing the layers already loaded: for a map or summary drawn from what loads."""
        drop = set(kinds)
        view = copy.copy(self)
        view.config = copy.copy(self.config)
        view.config.layers = {k: v for k, v in self.config.layers.items() if k not in drop}
        return view

    def left_out_notes(self, lang: str = "en") -> list[str]:
        """Rows left out of every count in the layers read so far: one line per layer and
        reason (which lines or ids, why, the fix)."""
        return [line for layer in self.loaded().values() for line in layer.left_out_notes(lang)]

    def load_notes(self, lang: str = "en") -> list[str]:
        """What loading the layers asked for so far left out or could not read, one line
        each: :meth:`left_out_notes`, then the layers that could not be read. For every
        command to show with its result."""
        return self.left_out_notes(lang) + [failure.text(lang) for failure in self._failed.values()]

    def load_findings(self) -> list[Finding]:
        """A ``row_left_out`` warning per row left out of the layers read so far."""
        return [f for name, layer in self.loaded().items() for f in left_out_findings(name, layer.left_out)]

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
            stat = layer.path.stat() if layer.spec.url is None else None  # a PostGIS table has no file
            inputs.append({
                "layer": kind_name,
                "file": str(layer.path) if layer.spec.url is None else layer.spec.url,
                "source_layer": layer.spec.layer,
                "features": len(layer.gdf),
                "source_crs": layer.source_crs.to_string(),
                "crs_note": layer.crs_note,
                "modified": dt.datetime.fromtimestamp(stat.st_mtime).isoformat(timespec="seconds") if stat else None,
                "bytes": stat.st_size if stat else None,
                "geometries_repaired": layer.repaired[:100],
                "features_left_out": 0 if layer.dropped is None else len(layer.dropped),
                "rows_left_out": len(layer.left_out),
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
    """Read township.toml (from ``path``, the working folder, or ./layers) into a Township;
    a county there is refused with a message saying to run per township."""
    refuse_county(path)
    return Township(load_config(path))


REPROJECT_ROWS = 20_000
"""Lines and polygons reprojected at a time by :func:`to_crs`."""


def to_crs(gdf: gpd.GeoDataFrame, crs: CRS) -> None:
    """Reproject ``gdf`` to ``crs`` in place (no copy of its other columns).

    A layer of single points (most trees) is reprojected from its coordinate arrays
    (:func:`geo_township.io.xy.points_in`: the same transformation as
    :meth:`GeoDataFrame.to_crs`) without a round trip through the coordinates of each
    geometry; a big layer of lines or polygons :data:`REPROJECT_ROWS` at a time, as
    ``to_crs`` does it (the same coordinates); others by ``to_crs``.
    """
    geoms = gdf.geometry.to_numpy()
    if len(geoms) and bool((shapely.get_type_id(geoms) == 0).all()) and not shapely.has_z(geoms).any():
        xy = np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)])
        del geoms
        gdf[gdf.geometry.name] = gpd.GeoSeries(points_in(xy, CRS(gdf.crs), crs), index=gdf.index, crs=crs)
    elif len(geoms) > REPROJECT_ROWS and not shapely.has_z(geoms).any():
        out = projected(geoms, CRS(gdf.crs), crs)
        del geoms
        gdf[gdf.geometry.name] = gpd.GeoSeries(out, index=gdf.index, crs=crs)
    else:
        gdf.to_crs(crs, inplace=True)


def projected(geoms: np.ndarray, source: CRS, target: CRS) -> np.ndarray:
    """2-D ``geoms`` reprojected from ``source`` to ``target``, the coordinates of
    :meth:`GeoDataFrame.to_crs` (always x, y order). :data:`REPROJECT_ROWS` at a time: the
    coordinate arrays of one slice, not of the whole layer, beside its geometries (100,000
    plots: ~100 MiB less at the peak)."""
    transformer = Transformer.from_crs(source, target, always_xy=True)
    out = np.empty(len(geoms), dtype=object)
    for start in range(0, len(geoms), REPROJECT_ROWS):
        part = geoms[start:start + REPROJECT_ROWS]
        coords = shapely.get_coordinates(part)
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        out[start:start + REPROJECT_ROWS] = shapely.set_coordinates(part.copy(), np.column_stack([x, y]))
    return out


def _lonlat_box_inside(extent: tuple[float, float, float, float], working: CRS, lonlat: CRS
                       ) -> tuple[float, float, float, float]:
    """A box in ``lonlat`` whose every point lies inside ``extent`` (a box in the ``working``
    CRS) once projected: a feature whose own box lies in it is at distance 0 from the extent,
    however its vertices fall. Its sides are the innermost longitudes and latitudes of the
    extent's sides (101 points each), moved in by 1e-5° (about a metre), and its own outline,
    projected at 101 points a side, is checked to fall inside the extent by more than a
    centimetre (more than a side can bow between two of those points); an empty box when not."""
    t = np.linspace(0.0, 1.0, 101)
    ones = np.ones_like(t)

    def outline(x0: float, y0: float, x1: float, y1: float) -> tuple[np.ndarray, np.ndarray]:
        along, up = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t  # west, east, south, north sides
        return (np.concatenate([x0 * ones, x1 * ones, along, along]),
                np.concatenate([up, up, y0 * ones, y1 * ones]))

    n = len(t)
    lon, lat = Transformer.from_crs(working, lonlat, always_xy=True).transform(*outline(*extent))
    margin = 1e-5
    box = (float(lon[:n].max()) + margin, float(lat[2 * n:3 * n].max()) + margin,
           float(lon[n:2 * n].min()) - margin, float(lat[3 * n:].min()) - margin)
    x, y = Transformer.from_crs(lonlat, working, always_xy=True).transform(*outline(*box))
    inside = ((x > extent[0] + 0.01) & (x < extent[2] - 0.01) & (y > extent[1] + 0.01) & (y < extent[3] - 0.01))
    return box if box[0] < box[2] and box[1] < box[3] and bool(inside.all()) else (np.inf, np.inf, -np.inf, -np.inf)


def _first_vertex_in(geoms: np.ndarray, crs: CRS, target: CRS) -> tuple[np.ndarray, np.ndarray]:
    """The first vertex of each geometry, transformed from ``crs`` to ``target`` (the file's CRS)."""
    from pyproj import Transformer

    coords = np.array([shapely.get_coordinates(g)[0] if not shapely.is_empty(g) else (np.nan, np.nan)
                       for g in geoms], dtype="float64").reshape(-1, 2)
    if CRS(crs).equals(target):
        return coords[:, 0], coords[:, 1]
    x, y = Transformer.from_crs(crs, target, always_xy=True).transform(coords[:, 0], coords[:, 1])
    return np.asarray(x), np.asarray(y)
