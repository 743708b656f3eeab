"""The page's data: a :class:`~.model.MapModel` as one JSON-able object that
``static/township-map.js`` reads — layer styles, legends, labels, basemaps, and each
layer's features as an encoded buffer (:mod:`.encode`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo_township.webmap.encode import (
    GZIP_MIN_BYTES,
    Buffer,
    encode_column,
    encode_coords,
    encode_geometry,
    png_data_url,
    varints,
)
from geo_township.webmap.model import MapLayer, MapModel, ui_strings

POINT_RADIUS = {"symbols": 6, "dots": 4, "dots+grid": 4}
"""Symbol radius in pixels by representation."""


def _features(layer: MapLayer, buf: Buffer) -> dict[str, Any]:
    assert layer.gdf is not None and layer.category is not None
    geoms = layer.gdf.geometry.to_numpy()
    encode_geometry(geoms, layer.geometry, buf)
    buf.add("cat", varints(layer.category.astype(np.uint64)))
    if layer.label_field and layer.geometry == "polygon":
        buf.add("lxy", encode_coords(shapely.get_coordinates(shapely.point_on_surface(geoms))))
    columns = []
    for spec in layer.fields:
        series = layer.gdf[spec.name]
        head = encode_column(spec.name, series, spec.kind, buf, decimals=spec.decimals, words=spec.words)
        head.update(label=spec.label, popup=spec.popup)
        columns.append(head)
    return {"columns": columns}


def _grid(layer: MapLayer, buf: Buffer) -> dict[str, Any]:
    grid = layer.grid
    assert grid is not None and layer.category is not None
    buf.add("gi", varints(grid.i.astype(np.uint64)))
    buf.add("gj", varints(grid.j.astype(np.uint64)))
    buf.add("cat", varints(layer.category.astype(np.uint64)))
    columns = []
    last = len(layer.fields) - 1
    for k, spec in enumerate(layer.fields):
        # fields: one per category (counts column k + 1; column 0 counts uncategorised features), then the total
        counts = grid.counts[:, -1] if k == last else grid.counts[:, k + 1]
        head = encode_column(spec.name, pd.Series(counts), "num", buf, decimals=0)
        head.update(label=spec.label, popup=True)
        columns.append(head)
    return {"columns": columns, "grid": {"lon0": grid.lon0, "lat0": grid.lat0, "dx": grid.dx, "dy": grid.dy,
                                         "cellM": grid.cell_m, "n": len(grid.i)}}


def layer_payload(layer: MapLayer, *, gzip_min: int = GZIP_MIN_BYTES) -> dict[str, Any]:
    """One layer as the page reads it."""
    out: dict[str, Any] = {
        "key": layer.key, "name": layer.name, "geom": layer.geometry, "rep": layer.representation,
        "show": layer.show, "z": layer.z, "desc": layer.description, "source": layer.source,
        "color": layer.color, "weight": layer.weight, "fillOpacity": layer.fill_opacity, "dash": layer.dash,
        "symbol": layer.symbol, "highlight": layer.highlight, "radius": POINT_RADIUS.get(layer.representation, 5),
        "minZoom": layer.min_zoom, "maxZoom": layer.max_zoom,
        "legend": [{"label": e.label, "color": e.color, "symbol": e.symbol, "count": e.count, "dash": e.dash}
                   for e in layer.legend],
        "catColors": layer.category_colors, "catSymbols": layer.category_symbols,
        "catLabels": layer.category_labels,
        "n": layer.count if layer.grid is None else len(layer.grid.i),
        "idField": layer.id_field, "labelField": layer.label_field,
    }
    if layer.raster is not None:
        r = layer.raster
        west, south, east, north = r.bounds
        out["raster"] = {"url": png_data_url(r.image), "bounds": [[south, west], [north, east]],
                         "opacity": r.opacity}
        return out
    buf = Buffer()
    out.update(_grid(layer, buf) if layer.grid is not None else _features(layer, buf))
    out["data"] = buf.payload(gzip_min=gzip_min)
    return out


def page_data(model: MapModel, basemap_vars: dict[str, str] | None = None, *,
              gzip_min: int = GZIP_MIN_BYTES) -> dict[str, Any]:
    """The whole page's data: title, words, basemaps (with the folium variable of each
    tile layer), bounds and layers (in layer-switcher order)."""
    west, south, east, north = model.bounds
    return {
        "title": model.title, "subtitle": model.subtitle, "lang": model.lang, "ui": ui_strings(model.lang),
        "bounds": [[south, west], [north, east]],
        "basemaps": [{"key": b.key, "name": b.name(model.lang), "gcj02": b.gcj02,
                      "var": (basemap_vars or {}).get(b.key), "urls": list(b.urls), "subdomains": b.subdomains,
                      "maxNativeZoom": b.max_native_zoom} for b in model.basemaps],
        "warnings": model.warnings,
        "layers": [layer_payload(lay, gzip_min=gzip_min) for lay in model.layers],
    }
