"""The map's features on paper: the interactive map's layers (as its model describes them:
which are on at opening, their colours, symbols, outlines and draw order) drawn with
matplotlib in the township's working CRS (metres).

Sizes follow the page's: a CSS pixel of outline becomes :data:`PT_PER_PX` points, a
point symbol keeps the page's radius in proportion. Polygons whose fill is almost clear
(village boundaries) are drawn as outlines above the other polygons and the lines, as the
page draws them in its outline pane; points on top, outstanding trees last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgba
from matplotlib.path import Path as MplPath
from matplotlib.patheffects import Stroke
from pyproj import CRS

from geo_township.webmap.model import MapLayer, MapModel
from geo_township.webmap.payload import POINT_RADIUS

PT_PER_PX = 0.42
"""Outline width on paper (pt) per CSS pixel of the page's outline."""
RADIUS_PT_PER_PX = 0.36
"""Point symbol radius on paper (pt) per CSS pixel of the page's radius."""
OUTLINE_ONLY = 0.1
"""Polygons filled less than this are drawn as outlines (as the page does)."""
MARKERS = {"circle": "o", "square": "s", "triangle": "^", "diamond": "D"}
MARKER_AREA = {"o": 1.0, "s": 0.75, "^": 1.1, "D": 0.65}
"""matplotlib markers of the page's symbols, and their size factors to look alike."""
LABEL_COLOR = "#1a1a1a"
GREY_LABEL = "#8a8a8a"
MASK_ALPHA = 0.68


@dataclass
class Prepared:
    """One layer of the model, reprojected to the working CRS, ready to draw on any page."""

    layer: MapLayer
    geoms: np.ndarray
    category: np.ndarray
    bounds: np.ndarray  # (n, 4): xmin, ymin, xmax, ymax of each feature
    labels: list[str] | None = None
    label_xy: np.ndarray | None = None

    @property
    def key(self) -> str:
        return self.layer.key

    @property
    def outline_only(self) -> bool:
        return self.layer.geometry == "polygon" and self.layer.fill_opacity < OUTLINE_ONLY

    def color(self, cat: int) -> str:
        """The colour of category ``cat`` (0: the layer's own)."""
        colors = self.layer.category_colors
        return colors[cat - 1] if 0 < cat <= len(colors) else self.layer.color

    def symbol(self, cat: int) -> str:
        symbols = self.layer.category_symbols
        name = symbols[cat - 1] if 0 < cat <= len(symbols) and symbols[cat - 1] else self.layer.symbol
        return MARKERS.get(name, "o")

    def within(self, extent: tuple[float, float, float, float]) -> np.ndarray:
        """Indices of the features whose box meets ``extent`` (xmin, xmax, ymin, ymax)."""
        xmin, xmax, ymin, ymax = extent
        b = self.bounds
        return np.flatnonzero((b[:, 2] >= xmin) & (b[:, 0] <= xmax) & (b[:, 3] >= ymin) & (b[:, 1] <= ymax))


def shown_layers(model: MapModel) -> list[MapLayer]:
    """The model's layers the page shows at opening that print as vectors (a density grid
    is the page's stand-in for dots at small zooms; paper has no zoom, so the dots print)."""
    return [lay for lay in model.layers if lay.show and lay.geometry in ("point", "line", "polygon")
            and lay.gdf is not None and len(lay.gdf)]


def prepare(model: MapModel, crs: CRS) -> list[Prepared]:
    """The shown layers in draw order (the page's z), in ``crs``."""
    out = []
    for lay in sorted(shown_layers(model), key=lambda x: x.z):
        assert lay.gdf is not None
        geoms = lay.gdf.to_crs(crs).geometry.to_numpy()
        cat = lay.category if lay.category is not None else np.zeros(len(geoms), dtype=np.int64)
        prep = Prepared(lay, geoms, np.asarray(cat), shapely.bounds(geoms))
        if lay.label_field and lay.geometry == "polygon":
            prep.labels = ["" if pd.isna(v) else str(v) for v in lay.gdf[lay.label_field]]
            prep.label_xy = shapely.get_coordinates(shapely.point_on_surface(geoms))
        out.append(prep)
    return out


def polygon_path(geom) -> MplPath:
    """A (multi)polygon as one path: every ring closed, holes left open by the even-odd rule."""
    rings = []
    for part in shapely.get_parts(geom):
        rings.append(shapely.get_exterior_ring(part))
        rings += list(shapely.get_interior_ring(part, np.arange(shapely.get_num_interior_rings(part))))
    return MplPath.make_compound_path(*[MplPath(shapely.get_coordinates(r), closed=True) for r in rings])


def line_parts(geoms: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Coordinate arrays of every part of (multi)lines, and the feature each came from."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    return [shapely.get_coordinates(p) for p in parts], index


def _dash(layer: MapLayer, width: float):
    """matplotlib's line style for the page's dash (``"6 4"`` CSS px), in units of the width."""
    if not layer.dash:
        return "solid"
    pattern = tuple(float(v) * 0.75 / max(width, 0.3) for v in layer.dash.replace(",", " ").split())
    return (0, pattern)


def _width(layer: MapLayer) -> float:
    return (layer.weight + (2 if layer.highlight else 0)) * PT_PER_PX


def draw_polygons(ax, prep: Prepared, idx: np.ndarray, *, outline: bool) -> None:
    """The polygons ``idx`` of a layer, one collection per category; ``outline`` draws
    only their outlines (village boundaries)."""
    lay = prep.layer
    width = _width(lay)
    for cat in np.unique(prep.category[idx]):
        members = idx[prep.category[idx] == cat]
        paths = [polygon_path(g) for g in prep.geoms[members]]
        color = prep.color(int(cat))
        face = "none" if outline else to_rgba(color, lay.fill_opacity)
        ax.add_collection(PathCollection(paths, facecolors=face, edgecolors=[to_rgba(color, 0.95)],
                                         linewidths=width, linestyles=_dash(lay, width), zorder=2 + lay.z * 0.01))


def draw_lines(ax, prep: Prepared, idx: np.ndarray) -> None:
    """The lines ``idx`` of a layer, one collection per category."""
    lay = prep.layer
    width = _width(lay)
    parts, owner = line_parts(prep.geoms[idx])
    cats = prep.category[idx][owner]
    for cat in np.unique(cats):
        segs = [p for p, c in zip(parts, cats, strict=True) if c == cat]
        ax.add_collection(LineCollection(segs, colors=[to_rgba(prep.color(int(cat)), 0.95)], linewidths=width,
                                         linestyles=_dash(lay, width), capstyle="round", joinstyle="round",
                                         zorder=3 + lay.z * 0.01))


def draw_points(ax, prep: Prepared, idx: np.ndarray, *, scale: float = 1.0) -> None:
    """The points ``idx`` of a layer by category, the first category (the most urgent,
    e.g. outstanding trees) last so it is on top; symbols get a white rim as on the page."""
    lay = prep.layer
    radius = POINT_RADIUS.get(lay.representation, 5) * RADIUS_PT_PER_PX * scale
    xy = shapely.get_coordinates(shapely.point_on_surface(prep.geoms[idx])) if len(idx) else np.zeros((0, 2))
    cats = prep.category[idx]
    order = sorted(np.unique(cats), key=lambda c: (c == 0, -c))
    for cat in order:
        hit = cats == cat
        marker = prep.symbol(int(cat))
        size = (2 * radius) ** 2 * MARKER_AREA[marker]
        rim = 0.35 if lay.representation == "symbols" else 0.15
        ax.scatter(xy[hit, 0], xy[hit, 1], s=size, marker=marker, c=[prep.color(int(cat))], edgecolors="white",
                   linewidths=rim, zorder=5 + lay.z * 0.01)


def draw_layers(ax, layers: list[Prepared], extent: tuple[float, float, float, float], *,
                point_scale: float = 1.0) -> None:
    """Every prepared layer's features that meet ``extent``: filled polygons, lines,
    outlines, then points (each group in the page's z order)."""
    for prep in layers:
        if prep.layer.geometry == "polygon" and not prep.outline_only:
            draw_polygons(ax, prep, prep.within(extent), outline=False)
    for prep in layers:
        if prep.layer.geometry == "line":
            draw_lines(ax, prep, prep.within(extent))
    for prep in layers:
        if prep.outline_only:
            draw_polygons(ax, prep, prep.within(extent), outline=True)
    for prep in layers:
        if prep.layer.geometry == "point":
            draw_points(ax, prep, prep.within(extent), scale=point_scale)


def draw_labels(ax, layers: list[Prepared], *, size: float, focus: str | None = None) -> None:
    """Names of labelled polygons (villages) at a point inside each, with a white halo
    (the name itself stays text, so a PDF reader finds it); on a village's page the other
    villages' names are grey and smaller."""
    for prep in layers:
        if prep.labels is None or prep.label_xy is None:
            continue
        for text, (x, y) in zip(prep.labels, prep.label_xy, strict=True):
            if not text:
                continue
            main = focus is None or text == focus
            style = {"ha": "center", "va": "center", "fontsize": size * (1.35 if focus and main else 1.0),
                     "fontweight": "bold" if main else "normal", "clip_on": True}
            # the halo is an outline drawn under the name; the name itself is plain text
            ax.text(x, y, text, color="white", zorder=8,
                    path_effects=[Stroke(linewidth=2.6 if main else 2.0, foreground="white")], **style)
            ax.text(x, y, text, color=LABEL_COLOR if main else GREY_LABEL, zorder=8.1, **style)


def draw_focus(ax, outline, extent: tuple[float, float, float, float]) -> None:
    """Grey out everything outside ``outline`` (a village) and draw its boundary firmly."""
    xmin, xmax, ymin, ymax = extent
    pad = max(xmax - xmin, ymax - ymin)
    frame = shapely.box(xmin - pad, ymin - pad, xmax + pad, ymax + pad)
    outside = shapely.difference(frame, outline)
    if not outside.is_empty:
        ax.add_collection(PathCollection([polygon_path(outside)], facecolors=[to_rgba("white", MASK_ALPHA)],
                                         edgecolors="none", zorder=7))
    ax.add_collection(PathCollection([polygon_path(outline)], facecolors="none", edgecolors=[LABEL_COLOR],
                                     linewidths=1.6, zorder=7.5))
