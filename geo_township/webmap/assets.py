"""The page's JavaScript and CSS: Leaflet inlined (``offline=True``, what
``geo-township map`` writes unless given ``--cdn``) from the XStatic-Leaflet package, a
dependency of this one, so the page needs no internet except for basemap tiles; or
linked to a CDN for a smaller page. This package's own script and style are always
inlined.

Only Leaflet is needed: the controls (legend, search, measuring, coordinates, mini-map,
full screen) and the canvas point layers are this package's own code in ``static/``, so
folium's default jQuery, Bootstrap, awesome-markers and Font Awesome are never loaded.
Nothing is copied into the repository and nothing is downloaded at build time.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from geo_township.errors import UsageError

LEAFLET_VERSION = "1.9.3"
CDN_JS = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.js"
CDN_CSS = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.css"
OFFLINE_HINT = ("reinstall geo-township (pip install geo-township): XStatic-Leaflet is one of its dependencies; "
                "or write a page that loads Leaflet from the web (geo-township map --cdn)")


@dataclass(frozen=True)
class Assets:
    """Scripts and styles for the page: ``links`` are (kind, url) for a CDN; ``inline``
    are (kind, text) written into the page."""

    links: tuple[tuple[str, str], ...]
    inline: tuple[tuple[str, str], ...]


def _static(name: str) -> str:
    return resources.files("geo_township.webmap").joinpath("static", name).read_text(encoding="utf-8")


def _xstatic_leaflet() -> Path:
    try:
        from xstatic.pkg import leaflet
    except ImportError:
        raise UsageError("a map that works offline needs the XStatic-Leaflet package, which is not installed",
                         hint=OFFLINE_HINT) from None
    return Path(leaflet.BASE_DIR)


def _without_source_map(text: str) -> str:
    return re.sub(r"/[/*]# sourceMappingURL=[^\n]*", "", text)


def _data_url(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def leaflet_inline() -> tuple[str, str]:
    """Leaflet's script and stylesheet from XStatic-Leaflet, images as data URLs (the
    layer switcher's icon) and the unused default-marker image dropped."""
    base = _xstatic_leaflet()
    js = _without_source_map((base / "leaflet.js").read_text(encoding="utf-8"))
    css = (base / "leaflet.css").read_text(encoding="utf-8")
    for name in ("layers.png", "layers-2x.png"):
        css = css.replace(f"url(images/{name})", f"url({_data_url(base / 'images' / name)})")
    css = css.replace("url(images/marker-icon.png)", "none")
    if "</script" in js.lower() or "</style" in css.lower():
        raise UsageError("the installed Leaflet files cannot be inlined safely", hint=OFFLINE_HINT)
    return js, css


def page_assets(*, offline: bool) -> Assets:
    """The assets of a page, inlined (``offline``) or linked to the CDN."""
    own = (("css", _static("township-map.css")), ("js", _static("township-map.js")))
    if offline:
        js, css = leaflet_inline()
        return Assets(links=(), inline=(("css", css), ("js", js), *own))
    return Assets(links=(("css", CDN_CSS), ("js", CDN_JS)), inline=own)
