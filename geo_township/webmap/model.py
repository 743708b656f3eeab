"""The map as plain data: which layers, in what order, how each is drawn and what its
legend says; which basemaps, and over which of them the layers are shifted to GCJ-02.
No folium here — :mod:`.build` turns a :class:`MapModel` into the page, and the tests
check the model directly.

Representation by size (points): up to :data:`SYMBOLS_MAX` features are drawn as
symbols (radius 6 px, a tooltip on hover); up to :data:`DOTS_MAX` as small dots (4 px);
beyond that as dots from zoom :data:`DOT_MIN_ZOOM` on, and below it as a density grid
(counts per cell, classified). All point layers are drawn on a canvas from columns of
numbers, never one browser object per feature. Lines and polygons are simplified to the
display scale (:func:`simplify_tolerance_m`) and drawn on a canvas.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.crs import wgs84_to_gcj02
from geo_township.errors import UsageError
from geo_township.layers import LayerFailure, Township
from geo_township.overlay import SYMBOLS, Category, Overlay, RasterOverlay
from geo_township.results import Result
from geo_township.webmap.basemaps import Basemap, choose_basemaps
from geo_township.webmap.fields import FieldSpec, field_specs, hidden_specs
from geo_township.webmap.indicators import SCHEME_NAMES, TREES, classify, indicator, per_village
from geo_township.webmap.options import check_map_options
from geo_township.webmap.prepared import LayerSize, PreparedMap, prepare_map
from geo_township.webmap.providers import AnyOverlay, MapAnalysis, RasterProvider
from geo_township.webmap.styles import DRAW_ORDER, LIST_ORDER, SHOWN_AT_OPENING

log = logging.getLogger(__name__)

SYMBOLS_MAX = 5_000
"""Point layers up to this size are drawn as symbols with hover tooltips."""
DOTS_MAX = 200_000
"""Point layers up to this size are drawn as dots at every zoom; larger ones add a grid."""
DOT_MIN_ZOOM = 14
"""Layers larger than DOTS_MAX show their dots from this zoom on, the grid below it."""
GRID_TARGET_CELLS = 200
"""The density grid has about this many cells along the longer side of the layer."""
SIMPLIFY_BASE_M = 0.5
"""Lines and polygons are simplified by half a metre (a pixel at zoom 18) …"""
VERTEX_BUDGET = 400_000
"""… and by proportionally more when a layer has more vertices than this."""
MAX_SIMPLIFY_M = 10.0
OTHER_COLOR = "#9e9e9e"

UI: dict[str, tuple[str, str]] = {
    "layers": ("Layers", "图层"),
    "legend": ("Legend", "图例"),
    "search": ("Search village, plot or id…", "搜索村、小班或编号…"),
    "no_match": ("No match", "无匹配结果"),
    "measure": ("Measure distance and area: click points, double-click to finish",
                "量算距离和面积：单击加点，双击结束"),
    "measure_clear": ("Clear measurement", "清除量算"),
    "distance": ("Distance", "距离"),
    "area": ("Area", "面积"),
    "fullscreen": ("Full screen", "全屏"),
    "data_date": ("data as of", "数据截至"),
    "gcj_note": (("AMap tiles are in GCJ-02: over this basemap every layer is shifted to GCJ-02 for display "
                 "(by 100–700 m) so that it lines up. The data are not changed; coordinates shown are WGS84."),
                 ("高德底图为GCJ-02坐标：在此底图上各图层已临时偏移到GCJ-02显示（约100–700米）以便对齐，"
                 "原始数据未改动；显示的坐标为WGS84。")),
    "zoom_in": ("zoom in to see each feature", "放大后显示单个要素"),
    "cell": ("Cell", "网格"),
    "features": ("features", "个"),
    "other": ("(other)", "(其他)"),
    "no_data": ("no data", "无数据"),
    "warning": ("Not shown", "未能显示"),
    "too_old": ("This browser cannot unpack a large layer; open the page in a current Chrome, Edge or Firefox.",
                "此浏览器无法解压大图层，请用新版 Chrome、Edge 或 Firefox 打开。"),
    "coords": ("Lon, lat (WGS84)", "经度, 纬度 (WGS84)"),
    "per_cell": ("per cell of", "每格"),
    "minimap": ("Overview", "鹰眼图"),
    "here": ("Here", "此处要素"),
    "previous": ("Previous", "上一个"),
    "next": ("Next", "下一个"),
}
"""Words of the page's controls, (en, zh)."""


def ui_strings(lang: str) -> dict[str, str]:
    return {k: (zh if lang == "zh" else en) for k, (en, zh) in UI.items()}


def point_representation(n: int) -> str:
    """``symbols``, ``dots`` or ``dots+grid`` for a point layer of ``n`` features."""
    if n <= SYMBOLS_MAX:
        return "symbols"
    if n <= DOTS_MAX:
        return "dots"
    return "dots+grid"


def simplify_tolerance_m(n_vertices: int) -> float:
    """Simplification tolerance (m) for a line or polygon layer of ``n_vertices``:
    :data:`SIMPLIFY_BASE_M`, grown in proportion beyond :data:`VERTEX_BUDGET` (capped)."""
    scale = max(1.0, n_vertices / VERTEX_BUDGET)
    return min(SIMPLIFY_BASE_M * scale, MAX_SIMPLIFY_M)


def _nice_cell_m(span_m: float) -> float:
    raw = max(span_m / GRID_TARGET_CELLS, 50.0)
    for nice in (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000):
        if raw <= nice:
            return float(nice)
    return float(math.ceil(raw / 50000) * 50000)


# --------------------------------------------------------------------------- the model


@dataclass
class LegendEntry:
    """One line of the legend: a swatch (symbol, colour, dash) and its text."""

    label: str
    color: str
    symbol: str  # circle, square, triangle, diamond (points), line, fill
    count: int | None = None
    dash: str | None = None


@dataclass
class Grid:
    """A density grid in lon/lat: cell (i, j) covers lon0 + i·dx … and lat0 + j·dy …"""

    lon0: float
    lat0: float
    dx: float
    dy: float
    cell_m: float
    i: np.ndarray
    j: np.ndarray
    counts: np.ndarray  # (cells, categories + 1): per category, then total


@dataclass
class MapLayer:
    """One overlay of the page, ready to encode.

    ``gdf`` holds the features in EPSG:4326 (simplified for lines and polygons);
    ``category`` the legend index of each feature (0 = the layer's own colour).
    """

    key: str
    name: str
    geometry: str  # point, line, polygon, grid, raster
    representation: str
    show: bool
    z: int
    description: str = ""
    source: str = "builtin"
    color: str = "#3388ff"
    weight: float = 2.0
    fill_opacity: float = 0.35
    dash: str | None = None
    symbol: str = "circle"
    highlight: bool = False
    legend: list[LegendEntry] = field(default_factory=list)
    category_colors: list[str] = field(default_factory=list)
    category_symbols: list[str] = field(default_factory=list)
    category_labels: list[str] = field(default_factory=list)
    category: np.ndarray | None = None
    gdf: gpd.GeoDataFrame | None = None
    fields: list[FieldSpec] = field(default_factory=list)
    id_field: str | None = None
    label_field: str | None = None
    min_zoom: int | None = None
    max_zoom: int | None = None
    grid: Grid | None = None
    raster: RasterOverlay | None = None
    tolerance_m: float | None = None

    @property
    def count(self) -> int:
        if self.grid is not None:
            return int(self.grid.counts[:, -1].sum())
        return 0 if self.gdf is None else len(self.gdf)

    def coordinates(self) -> np.ndarray:
        """All vertex coordinates (lon, lat) as drawn over a true-position basemap."""
        if self.gdf is None:
            return np.zeros((0, 2))
        return shapely.get_coordinates(self.gdf.geometry.to_numpy())


@dataclass
class MapModel:
    """Everything the page shows, in the page's language."""

    title: str
    subtitle: str
    lang: str
    layers: list[MapLayer]
    basemaps: list[Basemap]
    bounds: tuple[float, float, float, float]  # west, south, east, north (degrees)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tianditu_key: str | None = None
    failed_layers: list[LayerFailure] = field(default_factory=list)
    """Layers of the township that could not be read and are not drawn (also in ``warnings``)."""

    def layer(self, key: str) -> MapLayer:
        for layer in self.layers:
            if layer.key == key:
                return layer
        raise KeyError(f"no layer {key!r}; layers: {', '.join(lay.key for lay in self.layers)}")

    @property
    def keys(self) -> list[str]:
        return [lay.key for lay in self.layers]

    def shifted(self, basemap_key: str) -> bool:
        """Whether overlays are shifted to GCJ-02 while ``basemap_key`` is shown."""
        return next(b for b in self.basemaps if b.key == basemap_key).gcj02

    def display_coordinates(self, layer_key: str, basemap_key: str) -> np.ndarray:
        """A layer's vertices (lon, lat) where the page draws them over ``basemap_key``:
        shifted to GCJ-02 over AMap, unchanged over the others (the page applies the same
        public formula, :func:`geo_township.crs.wgs84_to_gcj02`, when the basemap changes)."""
        coords = self.layer(layer_key).coordinates()
        if not self.shifted(basemap_key) or len(coords) == 0:
            return coords
        lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])


# --------------------------------------------------------------------------- building


def _to_display(overlay: Overlay, working_crs: Any, vertices: int | None = None
                ) -> tuple[gpd.GeoDataFrame, float | None]:
    """The overlay's features in EPSG:4326, points exploded to single points, lines and
    polygons simplified in the township's working CRS (metres), by the tolerance for
    ``vertices`` (default: the overlay's own count)."""
    gdf = overlay.gdf
    if gdf.crs is None:
        raise UsageError(f"overlay {overlay.key!r} has no coordinate system",
                         hint="set the GeoDataFrame's crs before handing it to the map")
    geoms = gdf.geometry.to_numpy()
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    gdf = gdf[keep]
    tolerance = None
    if overlay.geometry == "point":
        if (shapely.get_type_id(gdf.geometry.to_numpy()) == 4).any():
            gdf = gdf.explode(index_parts=False)
        return gdf.to_crs(4326), None
    metric = gdf.to_crs(working_crs)
    if vertices is None:
        vertices = int(shapely.get_num_coordinates(metric.geometry.to_numpy()).sum())
    tolerance = simplify_tolerance_m(vertices)
    simple = shapely.simplify(metric.geometry.to_numpy(), tolerance, preserve_topology=True)
    metric = metric.set_geometry(gpd.GeoSeries(simple, index=metric.index, crs=metric.crs))
    return metric.to_crs(4326), tolerance


def _categories(overlay: Overlay, gdf: gpd.GeoDataFrame, lang: str) -> tuple[np.ndarray, list[Category]]:
    """Legend index of each feature: k + 1 for the k-th category, 0 for none (codes are
    matched as they are, or as text)."""
    cats = list(overlay.categories)
    if not (overlay.category_field and overlay.category_field in gdf.columns and cats):
        return np.zeros(len(gdf), dtype=np.int64), cats
    lookup = {str(c.code): i + 1 for i, c in enumerate(cats)}
    lookup.update({c.code: i + 1 for i, c in enumerate(cats) if not isinstance(c.code, float)})
    codes, uniques = pd.factorize(gdf[overlay.category_field].astype(object), use_na_sentinel=True)
    per_unique = np.array([lookup.get(u, lookup.get(str(u), 0)) for u in uniques] + [0], dtype=np.int64)
    return per_unique[np.where(codes >= 0, codes, len(uniques))], cats


def _legend_symbol(family: str, cat_symbol: str, overlay_symbol: str) -> str:
    if family == "point":
        sym = cat_symbol or overlay_symbol
        return sym if sym in SYMBOLS else "circle"
    return "line" if family == "line" else "fill"


def _legend(overlay: Overlay, idx: np.ndarray, cats: list[Category], lang: str) -> list[LegendEntry]:
    """One legend entry per category that has features (an empty class explains nothing on
    the map), then "(other)" for features in none; the layer's name when it has no categories."""
    family = overlay.geometry
    counts = np.bincount(idx, minlength=len(cats) + 1)
    legend = [LegendEntry(c.name(lang), c.color, _legend_symbol(family, c.symbol, overlay.symbol),
                          int(counts[i + 1]), overlay.dash) for i, c in enumerate(cats) if counts[i + 1]]
    if counts[0] and cats:
        legend.append(LegendEntry(UI["other"][1 if lang == "zh" else 0], overlay.color,
                                  _legend_symbol(family, "", overlay.symbol), int(counts[0]), overlay.dash))
    elif not cats:
        legend.append(LegendEntry(overlay.name(lang), overlay.color, _legend_symbol(family, "", overlay.symbol),
                                  int(counts[0]), overlay.dash))
    return legend


def layer_from_overlay(overlay: Overlay, *, lang: str, working_crs: Any, z: int, source: str = "builtin",
                       size: LayerSize | None = None) -> list[MapLayer]:
    """The MapLayer(s) of an overlay: one, plus a density grid for very large point layers.

    ``size`` (default: the overlay's own) chooses the representation and simplification:
    a county map passes the county's total for the key, so that its townships' layers
    together keep the page budgets one township's layer keeps."""
    if overlay.geometry not in ("point", "line", "polygon"):
        raise UsageError(f"overlay {overlay.key!r}: geometry must be point, line or polygon, not "
                         f"{overlay.geometry!r}")
    gdf, tolerance = _to_display(overlay, working_crs, None if size is None else size.vertices)
    if lang == "zh":  # a column FIELD_zh holds the field's text in Chinese (e.g. an audit finding's message)
        swaps = [n for n in overlay.fields if f"{n}_zh" in gdf.columns and n in gdf.columns]
        if swaps:
            gdf = gdf.copy()
            for name in swaps:
                gdf[name] = gdf[f"{name}_zh"].where(gdf[f"{name}_zh"].notna(), gdf[name])
    idx, cats = _categories(overlay, gdf, lang)
    family = overlay.geometry
    legend = _legend(overlay, idx, cats, lang)
    rep = point_representation(len(gdf) if size is None else size.features) if family == "point" else "vector"
    specs = field_specs(overlay, gdf, lang)
    extra = hidden_specs(overlay, gdf, lang, {s.name for s in specs})
    show = overlay.show if overlay.show is not None else overlay.key in SHOWN_AT_OPENING
    layer = MapLayer(
        key=overlay.key, name=overlay.name(lang), geometry=family, representation=rep, show=show, z=z,
        description=overlay.describe(lang), source=source, color=overlay.color, weight=overlay.weight,
        fill_opacity=overlay.fill_opacity, dash=overlay.dash,
        symbol=overlay.symbol if overlay.symbol in SYMBOLS else "circle", highlight=overlay.highlight,
        legend=legend, category_colors=[c.color for c in cats],
        category_symbols=[(c.symbol if c.symbol in SYMBOLS else overlay.symbol) for c in cats],
        category_labels=[c.name(lang) for c in cats],
        category=idx, gdf=gdf, fields=specs + extra, id_field=overlay.id_field if overlay.id_field in gdf.columns
        else None, label_field=overlay.label_field if overlay.label_field in gdf.columns else None,
        tolerance_m=tolerance,
    )
    out = [layer]
    if rep == "dots+grid":
        layer.min_zoom = DOT_MIN_ZOOM
        out.append(_grid_layer(layer, cats, lang))
    return out


def _grid_layer(points: MapLayer, cats: list[Category], lang: str) -> MapLayer:
    """Counts of a large point layer per square cell (lon/lat grid, ~cell_m metres)."""
    assert points.gdf is not None and points.category is not None
    xy = points.coordinates()
    lon_min, lat_min = xy.min(axis=0)
    lon_max, lat_max = xy.max(axis=0)
    lat_mid = (lat_min + lat_max) / 2.0
    m_per_deg_lat = 111_320.0
    m_per_deg_lon = 111_320.0 * math.cos(math.radians(lat_mid))
    span = max((lon_max - lon_min) * m_per_deg_lon, (lat_max - lat_min) * m_per_deg_lat)
    cell_m = _nice_cell_m(span)
    dx, dy = cell_m / m_per_deg_lon, cell_m / m_per_deg_lat
    i = np.floor((xy[:, 0] - lon_min) / dx).astype(np.int64)
    j = np.floor((xy[:, 1] - lat_min) / dy).astype(np.int64)
    ni = int(i.max()) + 1
    cell_key = j * ni + i
    ncat = len(cats) + 1
    uniq, inverse = np.unique(cell_key, return_inverse=True)
    counts = np.zeros((len(uniq), ncat + 1), dtype=np.int64)
    np.add.at(counts, (inverse, points.category), 1)
    counts[:, -1] = counts[:, :ncat].sum(axis=1)
    grid = Grid(float(lon_min), float(lat_min), dx, dy, cell_m, uniq % ni, uniq // ni, counts)
    classes = classify(counts[:, -1], scheme="quantiles", k=5, decimals=0, ramp="reds")
    cls = classes.classify(counts[:, -1])
    noun = UI["features"][1 if lang == "zh" else 0]
    legend = [LegendEntry(f"{label} {noun}", color, "fill", int((cls == k).sum()))
              for k, (label, color) in enumerate(zip(classes.labels, classes.colors, strict=True))
              if (cls == k).any()]
    per = UI["per_cell"][1 if lang == "zh" else 0]
    unit = "米" if lang == "zh" else "m"
    name = f"{points.name} ({per} {cell_m:g} {unit})"
    return MapLayer(
        key=f"{points.key}_grid", name=name, geometry="grid", representation="grid", show=points.show,
        z=points.z - 1, description=UI["zoom_in"][1 if lang == "zh" else 0], source=points.source,
        color=points.color, fill_opacity=0.6, legend=legend, category_colors=list(classes.colors),
        category_labels=[f"{label} {noun}" for label in classes.labels],
        category=(cls + 1).astype(np.int64), max_zoom=DOT_MIN_ZOOM - 1, grid=grid,
        fields=[FieldSpec(f"n{k}", c.name(lang), "num", 0) for k, c in enumerate(cats)]
        + [FieldSpec("total", UI["features"][1 if lang == "zh" else 0], "num", 0)],
    )


def _indicator_layer(township: Township, key: str, *, lang: str, scheme: str, k: int, working_crs: Any,
                     z: int, trees: Result | None = None) -> MapLayer:
    """The choropleth of indicator ``key`` per village (tree numbers from ``trees`` when given)."""
    ind = indicator(key)
    values = per_village(township, key, trees=trees)
    villages = township.gdf("villages")[["village", "geometry"]].copy()
    villages["value"] = values.to_numpy()
    classes = classify(values.to_numpy(), scheme=scheme, k=k, decimals=ind.decimals, ramp=ind.ramp)
    cls = classes.classify(values.to_numpy())
    cats = [Category(i, label, label, color) for i, (label, color) in enumerate(zip(classes.labels,
                                                                                    classes.colors, strict=True))]
    villages["class"] = cls
    overlay = Overlay(
        key="indicator", en=f"{ind.en} ({ind.unit_en})", zh=f"{ind.zh}({ind.unit_zh})", gdf=villages,
        geometry="polygon", color=OTHER_COLOR, category_field="class", categories=cats,
        fields=["village", "value"], labels={"value": (f"{ind.en} ({ind.unit_en})", f"{ind.zh}({ind.unit_zh})")},
        decimals={"value": ind.decimals}, id_field=None, weight=1.0, fill_opacity=0.7, show=True,
        description=f"per village; classes: {SCHEME_NAMES[scheme][0]}",
        description_zh=f"按村统计；分级方法：{SCHEME_NAMES[scheme][1]}",
    )
    layer = layer_from_overlay(overlay, lang=lang, working_crs=working_crs, z=z, source="indicator")[0]
    for entry in layer.legend:
        if entry.label == UI["other"][1 if lang == "zh" else 0]:
            entry.label = UI["no_data"][1 if lang == "zh" else 0]
    return layer


def _raster_layer(r: RasterOverlay, *, lang: str, z: int, source: str) -> MapLayer:
    legend = [LegendEntry(c.name(lang), c.color, "fill") for c in r.legend]
    return MapLayer(key=r.key, name=r.name(lang), geometry="raster", representation="raster", show=r.show, z=z,
                    description=r.describe(lang), source=source, legend=legend, raster=r, fill_opacity=r.opacity)


def _order(key: str, family: str, highlight: bool, position: int) -> tuple[int, int, int, int]:
    if key == "indicator":
        return (-1, 0, 0, 0)
    fam = {"raster": 0, "grid": 1, "polygon": 1, "line": 2, "point": 3}[family]
    builtin = DRAW_ORDER.index(key) if key in DRAW_ORDER else len(DRAW_ORDER)
    return (fam, int(highlight), builtin, position)


def build_model(township: Township, *, lang: str = "en", indicator_key: str | None = None,
                scheme: str = "fisher_jenks", classes: int = 5, basemaps: Sequence[str] | None = None,
                tianditu_key: str | None = None, results: Mapping[str, Result] | None = None,
                warnings: Sequence[str] = (), analyses: Mapping[str, MapAnalysis] | None = None,
                extra_overlays: Sequence[AnyOverlay] = (), rasters: Sequence[str] = (),
                raster_providers: Mapping[str, RasterProvider] | None = None,
                raster_opacity: float | None = None) -> MapModel:
    """The map of ``township``: built-in layers, the layers of the analyses' Results, the
    optional indicator choropleth, basemaps and the title. ``raster_opacity`` (0–1)
    overrides the opacity of every raster picture.

    ``results`` are the Results to draw by analysis name, as
    :func:`~geo_township.webmap.registry.map_results` returns them (with its ``warnings``);
    each is drawn by its analysis in ``analyses`` (default: the registry's), and the trees
    Result also gives the tree indicators. None runs the analyses here. Failures become
    ``warnings``; a layer that cannot be read is left off the map, listed in
    ``failed_layers`` and named in ``warnings``, as are rows left out of a layer for
    coordinates that cannot be right. Names (language, basemaps, indicator, rasters) are
    checked before anything is read.
    """
    from geo_township.webmap.registry import RASTER_PROVIDERS  # imports the analyses

    providers = RASTER_PROVIDERS if raster_providers is None else raster_providers
    check_map_options(township, lang=lang, indicator=indicator_key, scheme=scheme, basemaps=basemaps,
                      tianditu_key=tianditu_key, rasters=rasters, raster_providers=providers)
    chosen = choose_basemaps(list(basemaps) if basemaps else None, tianditu_key=tianditu_key)
    prepared = prepare_map(township, lang=lang, results=results, warnings=warnings, analyses=analyses,
                           extra_overlays=extra_overlays, rasters=rasters, raster_providers=providers)
    return model_of(prepared, lang=lang, basemaps=chosen, tianditu_key=tianditu_key, indicator_key=indicator_key,
                    scheme=scheme, classes=classes, raster_opacity=raster_opacity)


def model_of(prepared: PreparedMap, *, lang: str, basemaps: list[Basemap], tianditu_key: str | None = None,
             indicator_key: str | None = None, scheme: str = "fisher_jenks", classes: int = 5,
             raster_opacity: float | None = None, sizes: Mapping[str, LayerSize] | None = None) -> MapModel:
    """The model of a prepared township map (see :func:`build_model`); ``sizes`` (by layer
    key, default each layer's own) choose how each layer is drawn, so that a county's
    layers of one kind together keep one layer's page budget."""
    township = prepared.township
    warnings = list(prepared.warnings)
    layers = _layers(township, prepared.overlays, lang=lang, raster_opacity=raster_opacity, warnings=warnings,
                     sizes=sizes or {})
    if indicator_key:
        layers.append(_indicator_layer(township, indicator_key, lang=lang, scheme=scheme, k=classes,
                                       working_crs=township.working_crs, z=0, trees=prepared.results.get(TREES)))
        for lay in layers:
            if lay.key == "forest_plots":
                lay.show = False  # the choropleth would be hidden under the plots
    _arrange(layers)
    return MapModel(
        title=_title(township, lang), subtitle=_subtitle(township, lang), lang=lang, layers=layers,
        basemaps=basemaps, bounds=_bounds(layers), warnings=warnings, tianditu_key=tianditu_key,
        failed_layers=prepared.failed,
    )


def _layers(township: Township, overlays: Sequence[tuple[AnyOverlay, str]], *, lang: str,
            raster_opacity: float | None, warnings: list[str], sizes: Mapping[str, LayerSize]) -> list[MapLayer]:
    """The MapLayers of ``overlays`` (built-in ones, then the analyses'), positioned in that
    order. An analysis overlay that cannot be drawn is left out with a warning."""
    layers: list[MapLayer] = []
    for position, (o, source) in enumerate(overlays, start=1):
        try:
            if isinstance(o, RasterOverlay):
                if raster_opacity is not None:
                    o = replace(o, opacity=float(raster_opacity))
                layers.append(_raster_layer(o, lang=lang, z=position, source=source))
            else:
                layers.extend(layer_from_overlay(o, lang=lang, working_crs=township.working_crs, z=position,
                                                 source=source, size=sizes.get(o.key)))
        except Exception as exc:  # one bad analysis overlay must not break the map
            if source == "builtin":
                raise
            log.warning("overlay %s not drawn: %s", o.key, exc, exc_info=log.isEnabledFor(logging.DEBUG))
            warnings.append(f"the {o.key} layer could not be drawn ({exc})")
    return layers


def draw_rank(layer: MapLayer) -> tuple[int, int, int, int]:
    """Where ``layer`` is drawn among others (lower first): choropleth, rasters, polygons,
    lines, points; built-ins in DRAW_ORDER, then the analyses' layers; highlighted overlays
    above the rest of their geometry; then by ``z``."""
    return _order(layer.key, layer.geometry, layer.highlight, layer.z)


def _arrange(layers: list[MapLayer]) -> None:
    """Set the draw order (z) and sort ``layers`` into layer-switcher order, in place.

    Draw order: choropleth, rasters, polygons, lines, points; built-ins in DRAW_ORDER, then
    the analyses' layers in registry order; highlighted overlays above the rest of their
    geometry. Switcher and legend: the indicator asked for first, then the built-in layers
    in LIST_ORDER, then the analyses' layers; a density grid right after its points."""
    ranked = sorted(layers, key=lambda lay: _order(lay.key, lay.geometry, lay.highlight, lay.z))
    for z, lay in enumerate(ranked):
        lay.z = z
    layers.sort(key=lambda lay: (-1 if lay.key == "indicator" else LIST_ORDER.index(lay.key.removesuffix("_grid"))
                                 if lay.key.removesuffix("_grid") in LIST_ORDER else len(LIST_ORDER),
                                 lay.key.endswith("_grid")))


def _title(township: Township, lang: str) -> str:
    cfg = township.config
    name = cfg.name if lang == "zh" else cfg.display_name("en")
    return name


def _subtitle(township: Township, lang: str) -> str:
    date = township.config.data_date
    if date is None:
        dates = []
        for layer in township.loaded().values():
            for col in layer.gdf.columns:
                if col.endswith("_date") and pd.api.types.is_datetime64_any_dtype(layer.gdf[col]):
                    latest = layer.gdf[col].max()
                    if pd.notna(latest):
                        dates.append(pd.Timestamp(latest).date())
        date = max(dates) if dates else None
    word = UI["data_date"][1 if lang == "zh" else 0]
    return f"{word} {date.isoformat()}" if isinstance(date, dt.date) else ""


def _bounds(layers: list[MapLayer]) -> tuple[float, float, float, float]:
    boxes = []
    for lay in layers:
        if lay.gdf is not None and len(lay.gdf):
            boxes.append(lay.gdf.total_bounds)
        elif lay.raster is not None:
            boxes.append(np.array(lay.raster.bounds))
    if not boxes:
        raise UsageError("there is nothing to draw: every layer is empty",
                         hint="check township.toml with `geo-township info`")
    b = np.vstack(boxes)
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())
