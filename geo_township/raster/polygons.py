"""Which polygons ``zonal`` summarises: the real Polygon/MultiPolygon features of a layer
(one per feature, or one union per group), and which of the township's layers hold any.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from geo_township.errors import TownshipError, UsageError
from geo_township.kinds import KINDS
from geo_township.measure import group_labels

if TYPE_CHECKING:  # pragma: no cover
    from geo_township.layers import Township

_POLYGON_TYPES = ("Polygon", "MultiPolygon")
_TYPE_WORDS = {"Point": "points", "MultiPoint": "points", "LineString": "lines", "MultiLineString": "lines",
               "LinearRing": "lines", "Polygon": "polygons", "MultiPolygon": "polygons",
               "GeometryCollection": "collections"}


def _declared_family(spec) -> str | None:
    """The geometry family a vector file declares ('Polygon', 'Point', 'LineString'), or None
    when it declares none or a mix (KML, CSV, generic GeoPackage columns): then only reading
    the features tells."""
    import pyogrio

    try:
        declared = pyogrio.read_info(spec.path, layer=spec.layer).get("geometry_type")
    except Exception:  # noqa: BLE001 - any reader trouble: fall back to loading the layer
        return None
    base = str(declared or "").split(" ")[0].replace("Multi", "")
    return base if base in ("Polygon", "Point", "LineString") else None


def polygon_layers(township: Township, *, exclude: str | None = None) -> list[str]:
    """The township's layers that really hold polygons (at least one Polygon or MultiPolygon
    feature), in township.toml order. Layers already loaded are looked at; others are judged
    by the geometry type their file declares, and read only when the file does not say
    (a KML or CSV may hold anything). Layers that cannot be read are left out."""
    out = []
    for kind_name in township.kinds:
        if kind_name == exclude or kind_name not in KINDS or "Polygon" not in KINDS[kind_name].geometry:
            continue
        loaded = township.loaded().get(kind_name)
        family = None if loaded is not None else _declared_family(township.config.layers[kind_name])
        if family is None:
            try:
                gdf = township.gdf(kind_name)
            except TownshipError:
                continue
            if gdf.geom_type.isin(_POLYGON_TYPES).any():
                out.append(kind_name)
        elif family == "Polygon":
            out.append(kind_name)
    return out


@dataclass
class ZonalPolygons:
    """What ``zonal`` summarises: one polygon per feature (or one union per group)."""

    frame: gpd.GeoDataFrame        # id column (+ village), geometry
    id_col: str
    vocab: dict[str, str]
    source: gpd.GeoDataFrame       # the layer's kept features with every field (for --join); groups with --by
    left_out: pd.Series            # the features that are not polygons: id → 'points' / 'lines' …


def zonal_polygons(township: Township, layer: str, by: str | None) -> ZonalPolygons:
    """The polygons to summarise (one per feature, or one union per group), the name of
    their id column, and its vocabulary (for coded groups such as species). Only real
    Polygon/MultiPolygon features count: points and lines of a mixed layer (sand sites,
    lakes among river lines) are left out and returned by id."""
    if layer in KINDS and "Polygon" not in KINDS[layer].geometry:  # refused before reading a million points
        holds = "/".join(g.lower() + "s" for g in KINDS[layer].geometry)
        raise UsageError(f"{layer} holds {holds}; statistics of a raster need polygons",
                         hint=_polygon_hint(township, layer))
    lay = township.layer(layer)
    gdf = lay.gdf
    is_poly = gdf.geom_type.isin(_POLYGON_TYPES).to_numpy()
    if not is_poly.any():
        found = sorted({_TYPE_WORDS.get(t, t) for t in gdf.geom_type.dropna().unique()})
        raise UsageError(f"{layer} holds no polygons: its {len(gdf)} feature(s) are {' and '.join(found)}; "
                         "statistics of a raster need polygons", path=lay.path, hint=_polygon_hint(township, layer))
    ids = lay.ids()
    left_out = pd.Series(gdf.geom_type[~is_poly].map(lambda t: _TYPE_WORDS.get(t, t)).to_numpy(),
                         index=ids[~is_poly].to_numpy(), dtype=object)
    gdf = gdf[is_poly]
    vocab: dict[str, str] = {f.name: f.vocabulary for f in lay.kind.fields if f.vocabulary}
    if by is None:
        id_col = lay.kind.id_field or "feature"
        out = gpd.GeoDataFrame({id_col: ids[is_poly].to_numpy()}, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
        if "village" in gdf.columns and id_col != "village":
            out.insert(1, "village", gdf["village"].to_numpy())
        return ZonalPolygons(out, id_col, vocab, gdf.reset_index(drop=True), left_out)
    if by not in gdf.columns:
        fields = [c for c in gdf.columns if c != gdf.geometry.name and c != "source_row"]
        raise UsageError(f"{layer} has no field {by!r}", hint="group by one of: " + ", ".join(map(str, fields)),
                         message_zh=f"{layer} 没有字段 {by!r}",
                         hint_zh="请按以下字段之一分组：" + "、".join(map(str, fields)))
    keys = group_labels(gdf[by])
    frame = gpd.GeoDataFrame({by: keys.to_numpy()}, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    out = frame.dissolve(by=by, sort=True).reset_index()[[by, "geometry"]]
    group_vocab = {by: vocab[by]} if by in vocab else {}
    return ZonalPolygons(out, by, group_vocab, out, left_out)


def _polygon_hint(township: Township, layer: str) -> str:
    polys = polygon_layers(township, exclude=layer)
    if not polys:
        return "the township has no layer with polygons; add one (forest_plots, villages …) to township.toml"
    return "choose a layer that holds polygons with --layer: " + ", ".join(polys)
