"""Basemaps the map offers, as data: tile URL templates, attribution, and whether the tiles
are drawn in GCJ-02 (AMap), in which case every overlay is shifted to GCJ-02 for display
while that basemap is shown.

The page only names these URLs; nothing is fetched when the map is built. Tianditu
(天地图) needs a free key (``tk``) from https://console.tianditu.gov.cn; its vector and
imagery basemaps are offered only when one is given (``--tianditu-key`` or the
``TIANDITU_KEY`` environment variable), each with its annotation (place names) layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo_township.errors import UsageError


@dataclass(frozen=True)
class Basemap:
    """A basemap: one or more tile layers (e.g. imagery + its annotation) shown together.

    ``urls`` are Leaflet URL templates (``{z}/{x}/{y}``, ``{s}`` for subdomains and
    ``{tk}`` for a key); ``crs`` is ``"wgs84"`` (true position; OSM, Esri, Tianditu) or
    ``"gcj02"`` (AMap's shifted coordinates).
    """

    key: str
    en: str
    zh: str
    urls: tuple[str, ...]
    attribution: str
    subdomains: str = ""
    max_zoom: int = 19
    max_native_zoom: int = 18
    crs: str = "wgs84"
    needs_key: bool = False
    default: bool = True

    def name(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en

    @property
    def gcj02(self) -> bool:
        return self.crs == "gcj02"


def _tianditu(layer: str) -> str:
    return ("https://t{s}.tianditu.gov.cn/" + layer + "_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            "&LAYER=" + layer + "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={tk}")


_TIANDITU_ATTR = "&copy; 天地图 Tianditu (国家地理信息公共服务平台)"
_AMAP_ATTR = "&copy; 高德地图 AMap (GCJ-02)"

BASEMAPS: dict[str, Basemap] = {
    b.key: b
    for b in (
        Basemap("osm", "OpenStreetMap", "OpenStreetMap 地图",
                ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",),
                "&copy; <a href=\"https://www.openstreetmap.org/copyright\">OpenStreetMap</a> contributors",
                max_zoom=19, max_native_zoom=19),
        Basemap("satellite", "Satellite (Esri World Imagery)", "卫星影像 (Esri)",
                ("https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}",),
                "Imagery &copy; Esri, Maxar, Earthstar Geographics, and the GIS User Community",
                max_zoom=19, max_native_zoom=18),
        Basemap("tianditu_vector", "Tianditu vector", "天地图 矢量",
                (_tianditu("vec"), _tianditu("cva")), _TIANDITU_ATTR, subdomains="01234567",
                max_zoom=19, max_native_zoom=18, needs_key=True),
        Basemap("tianditu_imagery", "Tianditu imagery", "天地图 影像",
                (_tianditu("img"), _tianditu("cia")), _TIANDITU_ATTR, subdomains="01234567",
                max_zoom=19, max_native_zoom=18, needs_key=True),
        Basemap("amap", "AMap (GCJ-02)", "高德地图",
                ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",),
                _AMAP_ATTR, subdomains="1234", max_zoom=19, max_native_zoom=18, crs="gcj02"),
        Basemap("amap_imagery", "AMap imagery (GCJ-02)", "高德影像",
                ("https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}",
                 "https://webst0{s}.is.autonavi.com/appmaptile?style=8&x={x}&y={y}&z={z}"),
                _AMAP_ATTR, subdomains="1234", max_zoom=19, max_native_zoom=18, crs="gcj02", default=False),
    )
}
"""Every basemap by key, in the order of the layer switcher."""


def choose_basemaps(keys: tuple[str, ...] | list[str] | None, *, tianditu_key: str | None) -> list[Basemap]:
    """The basemaps a page offers, the first shown at opening.

    ``keys`` names them in order; None (the default) gives every basemap marked
    ``default`` plus, with a Tianditu key, both Tianditu ones. Asking for Tianditu
    without a key is an error that says where to get one.
    """
    if not keys:
        chosen = [b for b in BASEMAPS.values() if b.default and (not b.needs_key or tianditu_key)]
        return chosen
    out: list[Basemap] = []
    for key in keys:
        if key not in BASEMAPS:
            raise UsageError(f"unknown basemap {key!r}", hint="use one of: " + ", ".join(BASEMAPS))
        b = BASEMAPS[key]
        if b.needs_key and not tianditu_key:
            raise UsageError(f"the {b.en} basemap needs a Tianditu key",
                             hint="get a free key at https://console.tianditu.gov.cn and pass --tianditu-key KEY "
                             "or set TIANDITU_KEY")
        if b not in out:
            out.append(b)
    return out
