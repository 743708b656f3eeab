"""The folium page of a :class:`~.model.MapModel`.

Folium provides the page, the Leaflet map, the basemap tile layers, one empty feature
group per overlay (so Leaflet's layer switcher lists and toggles them) and the switcher
itself; ``static/township-map.js`` fills the groups from the page's data block, draws
the legend and the controls, and shifts the layers to GCJ-02 over AMap.

Folium's default jQuery, Bootstrap and awesome-markers assets are not used (see
:mod:`.assets`). Layer names go into the switcher escaped, because Leaflet writes them
as HTML; every other text reaches the page inside a JSON block and is set as text.
"""

from __future__ import annotations

import html
import logging
import re

from geo_township.webmap.assets import page_assets
from geo_township.webmap.encode import GZIP_MIN_BYTES, safe_json
from geo_township.webmap.model import MapModel
from geo_township.webmap.payload import page_data

log = logging.getLogger(__name__)

DATA_ID = "township-map-data"


def _raw(text: str):
    """A page element whose text is written as it is — never parsed as a Jinja template
    (folium's own elements are templates, so a value such as ``{{ 7*7 }}`` in the data
    would otherwise be evaluated when the page is built)."""
    from branca.element import Element

    class Raw(Element):
        def render(self, **kwargs) -> str:
            return text

    return Raw()


def _tile_url(url: str, key: str | None) -> str:
    return url.replace("{tk}", key or "")


def render_html(model: MapModel, *, offline: bool = False, gzip_min: int = GZIP_MIN_BYTES) -> str:
    """The map page as one HTML document (UTF-8 text)."""
    import folium
    from branca.element import Figure, MacroElement
    from folium.template import Template

    class StartPage(MacroElement):
        """Calls TownshipMap.start once folium has declared the map, layers and switcher."""

        _template = Template("{% macro script(this, kwargs) %}\n{{ this.code }}\n{% endmacro %}")

        def __init__(self, code: str) -> None:
            super().__init__()
            self.code = code

    west, south, east, north = model.bounds
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=12, tiles=None,
                      prefer_canvas=True, control_scale=False, max_zoom=20, zoom_control=True)
    assets = page_assets(offline=offline)
    fmap.default_js = [(f"gt_link_{i}", url) for i, (kind, url) in enumerate(assets.links) if kind == "js"]
    fmap.default_css = [(f"gt_link_{i}", url) for i, (kind, url) in enumerate(assets.links) if kind == "css"]
    figure = fmap.get_root()
    assert isinstance(figure, Figure)
    figure.header.add_child(_raw(f"<title>{html.escape(model.title)}</title>"), name="gt_title")
    for i, (kind, text) in enumerate(assets.inline):
        if kind == "css":
            figure.header.add_child(_raw(f"<style>\n{text}\n</style>"), name=f"gt_css_{i}")
    # inline scripts after the linked Leaflet (the header renders in insertion order; the map's
    # own links are added when the map renders, so inline scripts go in the body, before the map script)
    for i, (kind, text) in enumerate(assets.inline):
        if kind == "js":
            figure.html.add_child(_raw(f"<script>\n{text}\n</script>"), name=f"gt_js_{i}")

    basemap_vars: dict[str, str] = {}
    for i, b in enumerate(model.basemaps):
        urls = [_tile_url(u, model.tianditu_key) for u in b.urls]
        name = html.escape(b.name(model.lang))
        # one tile layer, shown at opening when first; or (imagery + its annotation) tile layers always in a
        # group that is the basemap
        single = len(urls) == 1
        tiles = [folium.TileLayer(tiles=url, attr=b.attribution, name=name, overlay=False,
                                  show=(i == 0) if single else True, control=single, max_zoom=20,
                                  max_native_zoom=b.max_native_zoom, subdomains=b.subdomains or "abc")
                 for url in urls]
        if single:
            base: folium.map.Layer = tiles[0]
        else:
            base = folium.FeatureGroup(name=name, overlay=False, show=i == 0)
            for tile in tiles:
                tile.add_to(base)
        base.add_to(fmap)
        basemap_vars[b.key] = base.get_name()

    groups: dict[str, str] = {}
    for lay in model.layers:
        group = folium.FeatureGroup(name=html.escape(lay.name), overlay=True, show=lay.show)
        group.add_to(fmap)
        groups[lay.key] = group.get_name()
    control = folium.LayerControl(position="topright", collapsed=False)
    control.add_to(fmap)

    data = page_data(model, basemap_vars, gzip_min=gzip_min)
    for b in data["basemaps"]:
        b["urls"] = [_tile_url(u, model.tianditu_key) for u in b["urls"]]
    figure.html.add_child(_raw(f'<script type="application/json" id="{DATA_ID}">{safe_json(data)}</script>'),
                          name="gt_data")

    start = StartPage("TownshipMap.start({map: " + fmap.get_name() + ", dataId: " + safe_json(DATA_ID)
                      + ", groups: {" + ", ".join(f"{safe_json(k)}: {v}" for k, v in groups.items()) + "}"
                      + ", basemaps: {" + ", ".join(f"{safe_json(k)}: {v}" for k, v in basemap_vars.items()) + "}"
                      + ", layerControl: " + control.get_name() + "});")
    fmap.add_child(start, name="gt_start")
    page = figure.render()
    _check_no_foreign_assets(page, offline=offline, allowed=[u for _, u in assets.links])
    return page


def _check_no_foreign_assets(page: str, *, offline: bool, allowed: list[str]) -> None:
    """Fail loudly if folium slipped in a script or stylesheet we did not choose."""
    srcs = re.findall(r'<(?:script[^>]+src|link[^>]+href)="([^"]+)"', page)
    unexpected = [s for s in srcs if s not in allowed]
    if unexpected or (offline and srcs):
        raise RuntimeError(f"unexpected assets in the map page: {unexpected or srcs}")
