"""KML and KMZ as phone apps write them (奥维 Ovital, 两步路, Google Earth): placemarks in
nested folders, with fields in ExtendedData or in a description table.

GDAL reads each folder as a layer and drops the folder path, and a KMZ's schema; field
crews file their points *by* folder (one folder per village, per day, per status), so
this reader walks the document itself:

* the folder path becomes the field ``folder`` ("青溪村/5月" for a placemark two folders
  deep; the document's own name is not part of it);
* ``<ExtendedData>`` ``<Data name=…><value>`` and ``<SchemaData><SimpleData name=…>``
  become fields, and so do the rows of a two-column table in ``<description>``
  (``<tr><td>状态</td><td>已关停</td></tr>``); a description that is not such a table is
  kept as the field ``description``;
* geometry: Point, LineString, LinearRing, Polygon (with holes), MultiGeometry and
  ``gx:Track``; a placemark's ``TimeStamp``/``TimeSpan`` start or its track's first
  ``when`` becomes the field ``time``.

Coordinates are longitude/latitude on WGS84 (the KML standard), returned as EPSG:4326.
"""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas as gpd
import pandas as pd
import shapely

from geo_township.errors import LayerReadError

_ROW = re.compile(r"<tr[^>]*>\s*<t[dh][^>]*>(.*?)</t[dh]>\s*<t[dh][^>]*>(.*?)</t[dh]>\s*</tr>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")


def _local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in el if _local(c.tag) == name), None)


def _text(el: ET.Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    text = el.text.strip()
    return text or None


def kml_text(path: Path) -> bytes:
    """The KML document of a .kml file, or the first .kml inside a .kmz (zip)."""
    if path.suffix.lower() != ".kmz":
        return path.read_bytes()
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.lower().endswith(".kml")]
            if not names:
                raise LayerReadError("the KMZ holds no .kml document", path=path,
                                     hint="export the file again from the app as KML or KMZ")
            main = "doc.kml" if "doc.kml" in names else names[0]
            return z.read(main)
    except zipfile.BadZipFile:
        raise LayerReadError("the KMZ is not a zip file", path=path,
                             hint="export it again, or rename it .kml if it is plain KML") from None


def _coords(text: str | None) -> list[tuple[float, float]]:
    out = []
    for token in (text or "").split():
        parts = token.split(",")
        out.append((float(parts[0]), float(parts[1])))
    return out


def _geometry(el: ET.Element):
    """The shapely geometry of a KML geometry element (None for one it does not know)."""
    name = _local(el.tag)
    if name == "Point":
        pts = _coords(_text(_child(el, "coordinates")))
        return shapely.Point(pts[0]) if pts else None
    if name in ("LineString", "LinearRing"):
        return shapely.LineString(_coords(_text(_child(el, "coordinates"))))
    if name == "Polygon":
        rings = []
        for boundary in ("outerBoundaryIs", "innerBoundaryIs"):
            for b in el:
                if _local(b.tag) == boundary:
                    ring = _child(b, "LinearRing")
                    if ring is not None:
                        rings.append(_coords(_text(_child(ring, "coordinates"))))
        return shapely.Polygon(rings[0], rings[1:]) if rings else None
    if name == "Track":
        pts = [(float(v[0]), float(v[1])) for v in ((c.text or "").split() for c in el if _local(c.tag) == "coord")]
        return shapely.LineString(pts) if len(pts) >= 2 else None
    if name in ("MultiGeometry", "MultiTrack"):
        parts = [g for g in (_geometry(c) for c in el) if g is not None]
        if len(parts) <= 1:
            return parts[0] if parts else None
        kinds = {p.geom_type for p in parts}
        multi = {"Point": shapely.MultiPoint, "LineString": shapely.MultiLineString, "Polygon": shapely.MultiPolygon}
        return multi[kinds.pop()](parts) if len(kinds) == 1 and next(iter(kinds)) in multi \
            else shapely.GeometryCollection(parts)
    return None


def _time(pm: ET.Element) -> str | None:
    """A placemark's time: its TimeStamp, the start of its TimeSpan, or its track's first ``when``."""
    for el in pm.iter():
        name = _local(el.tag)
        if name in ("when", "begin") and _text(el):
            return _text(el)
    return None


def _fields(pm: ET.Element) -> dict[str, str | None]:
    """A placemark's fields: name, description table rows (or the description), ExtendedData."""
    row: dict[str, str | None] = {"name": _text(_child(pm, "name"))}
    desc = _text(_child(pm, "description"))
    if desc:
        pairs = _ROW.findall(desc)
        if pairs:
            for key, value in pairs:
                key = html.unescape(_TAG.sub("", key)).strip().rstrip(":：")
                if key:
                    row[key] = html.unescape(_TAG.sub("", value)).strip() or None
        else:
            row["description"] = html.unescape(_TAG.sub(" ", desc)).strip()
    ext = _child(pm, "ExtendedData")
    if ext is not None:
        for el in ext.iter():
            name = _local(el.tag)
            if name == "Data" and el.get("name"):
                row[el.get("name", "")] = _text(_child(el, "value"))
            elif name == "SimpleData" and el.get("name"):
                row[el.get("name", "")] = _text(el)
    return row


def read_kml(path: str | Path) -> gpd.GeoDataFrame:
    """Every placemark of a KML/KMZ file as one row: its fields (module docstring), the
    folder path as ``folder``, and its geometry in EPSG:4326. Rows keep the document's order."""
    path = Path(path)
    try:
        root = ET.fromstring(kml_text(path))
    except ET.ParseError as exc:
        raise LayerReadError(f"the KML is not well-formed XML ({exc})", path=path,
                             hint="export it again from the app") from None
    rows: list[dict] = []
    geoms: list = []

    def walk(el: ET.Element, folders: tuple[str, ...]) -> None:
        for child in el:
            name = _local(child.tag)
            if name == "Folder":
                walk(child, (*folders, _text(_child(child, "name")) or ""))
            elif name == "Document":
                walk(child, folders)
            elif name == "Placemark":
                row = _fields(child)
                row["folder"] = "/".join(f for f in folders if f) or None
                row["time"] = _time(child)
                geom = next((g for g in (_geometry(c) for c in child) if g is not None), None)
                rows.append(row)
                geoms.append(geom)

    walk(root, ())
    table = pd.DataFrame(rows)
    for col in ("folder", "time"):
        if col in table.columns and table[col].isna().all():
            table = table.drop(columns=col)
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")
