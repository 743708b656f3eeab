"""GPX 1.1 for handheld GPS and the phone apps: points as waypoints, lines as tracks
(one track segment per part), polygons as tracks along their outlines (outer ring and
holes each one segment), so a crew can walk a parcel's boundary. Named by the feature's
id, described by its key fields; WGS84 longitude/latitude (CGCS2000 to centimetres)."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas as gpd
import pandas as pd
import shapely

from geo_township.export.fields import attribute_columns, display_value, feature_names, key_fields, label
from geo_township.export.xml import sub_element
from geo_township.io.write import atomic_path
from geo_township.kinds import Kind

GPX_NS = "http://www.topografix.com/GPX/1/1"


def _parts(geom) -> list:
    """The point sequences of a geometry, each a track segment (polygons: their rings)."""
    if geom.geom_type.startswith("Multi"):
        return [seq for part in geom.geoms for seq in _parts(part)]
    if geom.geom_type == "Polygon":
        return [geom.exterior, *geom.interiors]
    return [geom]


def gpx_document(gdf: gpd.GeoDataFrame, *, name: str, kind: Kind | None, lang: str = "en",
                 names: pd.Series | None = None, descriptions: pd.Series | None = None,
                 all_fields: bool = False) -> ET.Element:
    """The GPX tree of a layer: ``wpt`` per point, ``trk`` per line or polygon outline;
    ``names`` and ``descriptions`` (aligned with ``gdf``) replace the id and key fields;
    ``all_fields`` describes every attribute, not only the kind's key fields."""
    ET.register_namespace("", GPX_NS)
    lonlat = gdf.to_crs(4326) if gdf.crs is not None else gdf
    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "geo-township"})
    meta = _sub(root, "metadata")
    _sub(meta, "name", name)
    marks = feature_names(lonlat, kind) if names is None else pd.Series(list(names), index=lonlat.index).astype(str)
    texts = None if descriptions is None else pd.Series(list(descriptions), index=lonlat.index)
    fields = attribute_columns(lonlat) if all_fields else key_fields(lonlat, kind)
    points = lonlat.geom_type.isin(["Point", "MultiPoint"])
    tracks: list[tuple[str, str, list]] = []
    for idx, row in lonlat.iterrows():
        desc = str(texts[idx]) if texts is not None else "; ".join(
            f"{label(f, kind, lang)}: {v}" for f in fields if (v := display_value(row[f], f, kind, lang)) != "")
        if points[idx]:
            for x, y in shapely.get_coordinates(row.geometry).tolist():
                wpt = _sub(root, "wpt", lat=f"{y:.8f}", lon=f"{x:.8f}")
                _sub(wpt, "name", marks[idx])
                _sub(wpt, "desc", desc)
        else:
            tracks.append((marks[idx], desc, _parts(row.geometry)))
    for trk_name, desc, parts in tracks:  # GPX 1.1 lists waypoints before tracks
        trk = _sub(root, "trk")
        _sub(trk, "name", trk_name)
        _sub(trk, "desc", desc)
        for seq in parts:
            seg = _sub(trk, "trkseg")
            for x, y in shapely.get_coordinates(seq).tolist():
                _sub(seg, "trkpt", lat=f"{y:.8f}", lon=f"{x:.8f}")
    return root


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    return sub_element(parent, GPX_NS, tag, text, **attrs)


def write_gpx(gdf: gpd.GeoDataFrame, path: str | Path, *, name: str, kind: Kind | None, lang: str = "en",
              names: pd.Series | None = None, descriptions: pd.Series | None = None, all_fields: bool = False) -> None:
    """Write a layer as GPX 1.1, atomically."""
    tree = ET.ElementTree(gpx_document(gdf, name=name, kind=kind, lang=lang, names=names, descriptions=descriptions,
                                       all_fields=all_fields))
    ET.indent(tree, space=" ")
    with atomic_path(path) as tmp:
        tree.write(tmp, encoding="utf-8", xml_declaration=True)
