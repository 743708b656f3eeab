"""KML and KMZ for the phone apps crews carry (奥维 Ovital, 两步路, Google Earth).

One Document, one Folder per status (or one folder for the layer when it has no status),
one Placemark per feature named by its id, with the key fields as a two-column table in
the description (and as ExtendedData, which the apps list as attributes). Styles are
shared and referenced by ``styleUrl``: a point's icon colour and a line's or polygon
outline's colour and width by status, a polygon filled at 25 % so the map shows through.
Coordinates are longitude,latitude in CGCS2000 (EPSG:4490), which equals WGS84 to
centimetres, the system the apps expect.
"""

from __future__ import annotations

import html
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas as gpd
import pandas as pd
import shapely

from geo_township.export.fields import attribute_columns, display_value, feature_names, key_fields, label
from geo_township.export.xml import sub_element
from geo_township.io.write import atomic_path
from geo_township.kinds import Kind
from geo_township.vocabulary import VOCABULARIES

KML_NS = "http://www.opengis.net/kml/2.2"

#: Colour (RRGGBB) of each status code; statuses of every kind share one table.
STATUS_COLOURS: dict[str, str] = {
    "suspected": "FFD700", "confirmed": "E31A1C", "felled": "FF7F00", "cleared": "1F78B4", "verified": "33A02C",
    "licensed": "1F78B4", "illegal": "E31A1C", "closed": "808080", "restored": "33A02C",
}
#: Colour of features without a status, by geometry family.
DEFAULT_COLOURS = {"Point": "E31A1C", "LineString": "1F78B4", "Polygon": "33A02C"}
LINE_WIDTH = {"LineString": 3, "Polygon": 2}
ICON = "http://maps.google.com/mapfiles/kml/shapes/placemark_circle.png"


def kml_colour(rrggbb: str, alpha: int = 255) -> str:
    """KML's colour order: alpha, blue, green, red (``aabbggrr``)."""
    r, g, b = rrggbb[0:2], rrggbb[2:4], rrggbb[4:6]
    return f"{alpha:02x}{b}{g}{r}".lower()


def _family(gdf: gpd.GeoDataFrame) -> str:
    types = set(gdf.geom_type)
    if types <= {"Point", "MultiPoint"}:
        return "Point"
    if types <= {"LineString", "MultiLineString"}:
        return "LineString"
    return "Polygon"


def kml_document(gdf: gpd.GeoDataFrame, *, name: str, kind: Kind | None, lang: str = "en",
                 names: pd.Series | None = None, descriptions: pd.Series | None = None,
                 folder: str | None = None, all_fields: bool = False) -> ET.Element:
    """The KML tree of a layer (any CRS; written in EPSG:4490 longitude/latitude).

    An analysis's list can give its own placemark ``names`` and one-line ``descriptions``
    (aligned with ``gdf``) and one ``folder`` name instead of a folder per status; the
    styles by status stay. ``all_fields`` describes every attribute, not only the kind's
    key fields (an analysis's own columns: statistics, findings)."""
    ET.register_namespace("", KML_NS)
    lonlat = gdf.to_crs(4490) if gdf.crs is not None else gdf
    family = _family(lonlat)
    root = ET.Element(f"{{{KML_NS}}}kml")
    doc = _sub(root, "Document")
    _sub(doc, "name", name)
    status_field = "status" if "status" in lonlat.columns else None
    statuses = _status_order(lonlat, kind) if status_field else [None]
    for status in statuses:
        _style(doc, status, family)
    marks = feature_names(lonlat, kind) if names is None else pd.Series(list(names), index=lonlat.index).astype(str)
    texts = None if descriptions is None else pd.Series(list(descriptions), index=lonlat.index)
    fields = attribute_columns(lonlat) if all_fields else key_fields(lonlat, kind)
    vocab = _status_vocab(kind)
    groups = [(folder, lonlat)] if folder is not None else [
        (name if status is None else (vocab.label(status, lang) if vocab else str(status)),
         lonlat[lonlat[status_field].isna()] if status is None and status_field else
         lonlat if status is None else lonlat[lonlat[status_field].astype(object) == status])
        for status in statuses]
    headings = [label(f, kind, lang) for f in fields]
    shown = {f: _shown(lonlat[f], f, kind, lang) for f in fields}  # each distinct value formatted once
    for folder_name, rows in groups:
        if not len(rows):
            continue
        box = _sub(doc, "Folder")
        _sub(box, "name", folder_name)
        statuses_of = (rows[status_field].astype(object).where(rows[status_field].notna(), None).tolist()
                       if status_field else [None] * len(rows))
        for idx, geom, status in zip(rows.index, rows.geometry.to_numpy(), statuses_of, strict=True):
            mark = _sub(box, "Placemark")
            _sub(mark, "name", marks[idx])
            cells = [(h, shown[f][idx]) for f, h in zip(fields, headings, strict=True)]
            _sub(mark, "description", _table_html(cells) if texts is None else str(texts[idx]))
            _sub(mark, "styleUrl", f"#{_style_id(status)}")
            data = _sub(mark, "ExtendedData")
            for f, (heading, text) in zip(fields, cells, strict=True):
                item = _sub(data, "Data", name=f)
                _sub(item, "displayName", heading)
                _sub(item, "value", text)
            _geometry(mark, geom)
    return root


def _shown(values: pd.Series, name: str, kind: Kind | None, lang: str) -> pd.Series:
    """``values`` as text for people (:func:`display_value`), each distinct value formatted once."""
    cache: dict[object, str] = {}

    def one(value: object) -> str:
        key = value if isinstance(value, (str, int, float, pd.Timestamp)) or value is None else repr(value)
        if key not in cache:
            cache[key] = display_value(value, name, kind, lang)
        return cache[key]

    return pd.Series([one(v) for v in values.astype(object).tolist()], index=values.index, dtype=object)


def _status_order(gdf: gpd.GeoDataFrame, kind: Kind | None) -> list[str | None]:
    present = [s for s in dict.fromkeys(gdf["status"].astype(object).tolist()) if s is not None and s == s]
    vocab = _status_vocab(kind)
    if vocab is not None:
        present = sorted(present, key=lambda s: vocab.codes.index(s) if s in vocab.codes else len(vocab.codes))
    missing = gdf["status"].isna().any()
    return [*present, *([None] if missing else [])]


def _status_vocab(kind: Kind | None):
    if kind is None:
        return None
    for f in kind.fields:
        if f.name == "status" and f.vocabulary:
            return VOCABULARIES[f.vocabulary]
    return None


def _style_id(status: str | None) -> str:
    return f"status-{status}" if status is not None else "feature"


def _style(doc: ET.Element, status: str | None, family: str) -> None:
    colour = STATUS_COLOURS.get(str(status), DEFAULT_COLOURS[family])
    style = _sub(doc, "Style", id=_style_id(status))
    icon_style = _sub(style, "IconStyle")
    _sub(icon_style, "color", kml_colour(colour))
    _sub(icon_style, "scale", "1.0")
    _sub(_sub(icon_style, "Icon"), "href", ICON)
    line = _sub(style, "LineStyle")
    _sub(line, "color", kml_colour(colour))
    _sub(line, "width", str(LINE_WIDTH.get(family, 2)))
    poly = _sub(style, "PolyStyle")
    _sub(poly, "color", kml_colour(colour, 64))
    _sub(poly, "outline", "1")


def _table_html(cells: Iterable[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in cells if v != "")
    return f'<table border="1" cellpadding="2">{rows}</table>'


def _coords(seq) -> str:
    return " ".join(f"{x:.8f},{y:.8f}" for x, y in shapely.get_coordinates(seq).tolist())


def _geometry(parent: ET.Element, geom) -> None:
    kind = geom.geom_type
    if kind == "Point":
        _sub(_sub(parent, "Point"), "coordinates", _coords(geom))
    elif kind == "LineString":
        line = _sub(parent, "LineString")
        _sub(line, "tessellate", "1")
        _sub(line, "coordinates", _coords(geom))
    elif kind == "Polygon":
        poly = _sub(parent, "Polygon")
        _sub(_sub(_sub(poly, "outerBoundaryIs"), "LinearRing"), "coordinates", _coords(geom.exterior))
        for ring in geom.interiors:
            _sub(_sub(_sub(poly, "innerBoundaryIs"), "LinearRing"), "coordinates", _coords(ring))
    else:  # Multi*: one MultiGeometry of the parts
        multi = _sub(parent, "MultiGeometry")
        for part in geom.geoms:
            _geometry(multi, part)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    return sub_element(parent, KML_NS, tag, text, **attrs)


def kml_sets_document(sets: Mapping[str, gpd.GeoDataFrame], *, name: str,
                      kinds: Mapping[str, Kind | None] | None = None, lang: str = "en") -> ET.Element:
    """One KML document holding several feature sets, one Folder per set named after its
    key (GDAL reads each folder back as a layer); the styles by status are shared."""
    root = ET.Element(f"{{{KML_NS}}}kml")
    doc = _sub(root, "Document")
    _sub(doc, "name", name)
    styles: set[str] = set()
    folders: list[ET.Element] = []
    for set_name, gdf in sets.items():
        one = kml_document(gdf, name=set_name, kind=(kinds or {}).get(set_name), lang=lang, folder=set_name,
                           all_fields=True)
        inner = one.find(f"{{{KML_NS}}}Document")
        for child in list(inner) if inner is not None else []:
            if child.tag == f"{{{KML_NS}}}Style" and child.get("id") not in styles:
                styles.add(str(child.get("id")))
                doc.append(child)
            elif child.tag == f"{{{KML_NS}}}Folder":
                folders.append(child)
    doc.extend(folders)
    return root


def write_kml(gdf: gpd.GeoDataFrame | Mapping[str, gpd.GeoDataFrame], path: str | Path, *, name: str,
              kind: Kind | None = None, lang: str = "en", kmz: bool = False, names: pd.Series | None = None,
              descriptions: pd.Series | None = None, folder: str | None = None,
              kinds: Mapping[str, Kind | None] | None = None, all_fields: bool = False) -> None:
    """Write a layer, or several named feature sets (a folder each, ``kinds`` by set), as
    KML (or KMZ: the KML zipped as ``doc.kml``), atomically; see :func:`kml_document` for
    the optional names, descriptions and folder of one layer."""
    if isinstance(gdf, gpd.GeoDataFrame):
        root = kml_document(gdf, name=name, kind=kind, lang=lang, names=names, descriptions=descriptions,
                            folder=folder, all_fields=all_fields)
    else:
        root = kml_sets_document(gdf, name=name, kinds=kinds, lang=lang)
    tree = ET.ElementTree(root)
    ET.indent(tree, space=" ")
    with atomic_path(path) as tmp:
        if kmz:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zf.writestr("doc.kml", ET.tostring(root, encoding="utf-8", xml_declaration=True))
        else:
            tree.write(tmp, encoding="utf-8", xml_declaration=True)
