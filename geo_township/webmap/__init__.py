"""The interactive map: every layer of a township on one Leaflet page (folium), readable
by a township head, in English or Chinese. The only package that imports folium.

Layout: :mod:`.model` (the map as plain data: layers, legend, draw order, basemaps, the
GCJ-02 shift — no folium, unit-tested), :mod:`.styles` (how each layer kind looks, as
data), :mod:`.encode` and :mod:`.payload` (compact columnar encoding of the features for
the page), :mod:`.build` (the folium page), :mod:`.assets` (Leaflet from a CDN, or
inlined from installed XStatic packages with ``offline=True``), :mod:`.basemaps` and
:mod:`.indicators` (registries as data), :mod:`.summary` (the key numbers printed with
the map), :mod:`.providers` (the extension point below), and ``static/`` (the page's own
script and style: decoding, canvas drawing, legend, search, measuring, coordinates,
mini-map, full screen, the GCJ-02 shift).

Adding layers from another analysis — the provider contract
-----------------------------------------------------------
Register a function in :data:`OVERLAY_PROVIDERS` with a one-line edit::

    OVERLAY_PROVIDERS: dict[str, Provider] = {
        "hotspots": "geo_township.trees:hotspot_overlays",
    }

* The value is ``"package.module:function"`` (imported only when a map is built) or
  the function itself.
* The function takes the loaded :class:`~geo_township.layers.Township` and returns a
  list of :class:`~geo_township.overlay.Overlay` (vector) and/or
  :class:`~geo_township.overlay.RasterOverlay` objects — an empty list when the
  township lacks what it needs (e.g. no rivers layer). It must not print or write files.
* Geometries may be in any CRS (the map reprojects to EPSG:4326 and, over AMap,
  shifts to GCJ-02 for display). Canonical field names are labelled automatically;
  give others ``labels={"trees": ("Trees", "株数")}``. Coded values are shown as words
  through ``vocab={"check": "audit_check"}`` (a comma-separated list of codes item by
  item; canonical fields, and fields named ``check``, ``checks`` and ``layer``, get theirs
  automatically). Values are always shown as text (escaped), so data can go in unchanged.
* Leave ``show`` unset: the page opens with the core layers and the audit findings on,
  and every other layer listed in the layer switcher, drawn (with its legend) once
  ticked. Give ``description_zh`` so the Chinese legend explains the layer too.
* A click lists every feature under the pointer in one popup; where a provider's layer
  draws the same feature as a built-in layer (a finding on a parcel, a site in a zone),
  the built-in layer's record comes first, so providers need not repeat its fields.
* An overlay whose ``key`` equals a built-in layer's key replaces that layer (e.g. the
  rivers analysis may hand its own ``river_zones``; the audit may hand
  ``land_transfers`` with findings highlighted). ``highlight=True`` draws an overlay
  emphasised above the others of its geometry.
* If the function raises (or returns something else), the map is drawn without its
  layers and shows a warning naming the provider and the error; the command line
  prints the warning too. Providers are called in registry order.

Rasters (``geo-township map --raster NAME``): register a function
``provider(township, name) -> RasterOverlay | None`` in :data:`RASTER_PROVIDERS`; it is
called for each requested raster name (one of the township's ``[rasters]``) and returns
``None`` when it does not draw that raster. The :class:`~geo_township.overlay.RasterOverlay`
carries an RGBA array already coloured, its ``(west, south, east, north)`` bounds in
degrees and its legend entries.

Programs can also pass overlays directly: ``build_map(township, extra_overlays=[...])``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from geo_township.webmap.providers import (
    AnyOverlay,
    Collected,
    Provider,
    RasterProvider,
    collect_overlays,
)

#: Overlay providers of other analyses: name → "package.module:function" or a callable
#: ``(township) -> list[Overlay | RasterOverlay]``. One line per provider (see above).
OVERLAY_PROVIDERS: dict[str, Provider] = {
    "audit": "geo_township.transfers.audit:audit_overlays",
    "hotspots": "geo_township.hotspots:hotspot_overlays",
    "rivers": "geo_township.rivers:river_overlays",
    "sand": "geo_township.sand:sand_overlays",
    "candidates": "geo_township.candidates:candidate_overlays",
}

#: Raster providers for ``--raster NAME``: name → "package.module:function" or a callable
#: ``(township, raster_name) -> RasterOverlay | None``.
RASTER_PROVIDERS: dict[str, RasterProvider] = {
    "raster": "geo_township.raster.colours:raster_overlay",
}

if TYPE_CHECKING:
    from geo_township.layers import LayerFailure, Township
    from geo_township.results import Result
    from geo_township.webmap.model import MapModel

log = logging.getLogger(__name__)

DEFAULT_PATH = Path("maps") / "township.html"
"""Where ``geo-township map`` writes the page, relative to the working folder."""


@dataclass
class WrittenMap:
    """A map page written to disk: where, how big (bytes), how long it took (s), what it shows.

    ``failed_layers`` lists the township's layers that could not be read (kind, file, the
    error's message) and are not drawn; the page names them too. A command should report
    them and exit 1."""

    path: Path
    bytes: int
    seconds: float
    model: MapModel
    warnings: list[str] = field(default_factory=list)
    failed_layers: list[LayerFailure] = field(default_factory=list)


def build_map(township: Township, *, lang: str = "en", indicator: str | None = None, scheme: str = "fisher_jenks",
              classes: int = 5, basemaps: Sequence[str] | None = None, tianditu_key: str | None = None,
              extra_overlays: Sequence[AnyOverlay] = (), rasters: Sequence[str] = (),
              raster_opacity: float | None = None, offline: bool = False) -> tuple[MapModel, str]:
    """The map of ``township`` as a model and its HTML page.

    Every layer that can be read is an overlay with a legend entry (the others are listed
    in ``model.failed_layers`` and named on the page); ``indicator`` adds a per-village
    choropleth (:data:`~geo_township.webmap.indicators.INDICATORS`) classified by
    ``scheme`` into at most ``classes`` classes; ``basemaps`` names the basemaps (first
    shown; default OSM, satellite, AMap, and Tianditu when ``tianditu_key`` is given);
    ``rasters`` names township rasters drawn by :data:`RASTER_PROVIDERS` (``raster_opacity``
    0–1 overrides their opacity); ``offline``
    inlines Leaflet from XStatic-Leaflet. Layers are reprojected to EPSG:4326 for the
    page only; the data are not changed.
    """
    from geo_township.webmap.build import render_html
    from geo_township.webmap.model import build_model

    model = build_model(township, lang=lang, indicator_key=indicator, scheme=scheme, classes=classes,
                        basemaps=basemaps, tianditu_key=tianditu_key, extra_overlays=extra_overlays,
                        rasters=rasters, raster_opacity=raster_opacity)
    return model, render_html(model, offline=offline)


def write_map(township: Township, path: str | Path | None = None, **options) -> WrittenMap:
    """Build the map (options as :func:`build_map`) and write it atomically to ``path``
    (default ``maps/township.html`` in the working folder, which is created if needed)."""
    from geo_township.io.write import atomic_path

    started = time.perf_counter()
    if path is None:
        target = DEFAULT_PATH
        target.parent.mkdir(parents=True, exist_ok=True)
    else:
        target = Path(path)
    model, page = build_map(township, **options)
    data = page.encode("utf-8")
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    seconds = time.perf_counter() - started
    log.info("map written to %s (%d bytes, %.1f s)", target, len(data), seconds)
    return WrittenMap(target, len(data), seconds, model, list(model.warnings), list(model.failed_layers))


def map_summary(township: Township, *, without: Iterable[str] = ()) -> Result:
    """The township's key statistics per village and layer sizes (see :mod:`.summary`),
    leaving out the layers ``without`` (e.g. ``f.kind for f in written.failed_layers``)."""
    from geo_township.webmap.summary import map_summary as _summary

    skip = list(without)
    return _summary(township.without(skip) if skip else township)


__all__ = [
    "DEFAULT_PATH",
    "OVERLAY_PROVIDERS",
    "RASTER_PROVIDERS",
    "AnyOverlay",
    "Collected",
    "Provider",
    "RasterProvider",
    "WrittenMap",
    "build_map",
    "collect_overlays",
    "map_summary",
    "write_map",
]
