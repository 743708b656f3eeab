"""The interactive map: every layer of a township on one Leaflet page, readable by a
township head, in English or Chinese, with the layers of the analyses' Results. The only
package that imports folium.

Analyses compute; this package presents. :func:`map_results` runs the map's analyses once
(:data:`~geo_township.webmap.registry.MAP_ANALYSES`); :func:`build_map` / :func:`write_map`
draw their Results and :func:`map_summary` prints the key statistics from the same trees
Result, so the page and the table agree.

Layout: :mod:`.registry` (the analyses the map shows, as data, and :func:`map_results`),
:mod:`.providers` (:class:`~.providers.MapAnalysis`, running and drawing them, failures
as warnings), ``layers_*`` (how each analysis's Result and the rasters look),
:mod:`.options` (names checked before any work), :mod:`.model` (the map as plain data: no
folium, unit-tested), :mod:`.styles` and :mod:`.fields` (how built-in layers and popups
look), :mod:`.encode` and :mod:`.payload` (the page's compact data), :mod:`.build` (the
folium page), :mod:`.assets`, :mod:`.basemaps`, :mod:`.indicators`, :mod:`.summary`, and
``static/`` (the page's own script and style).

Adding the layers of an analysis
--------------------------------
Add one entry to :data:`~geo_township.webmap.registry.MAP_ANALYSES`::

    "trees": MapAnalysis(run=tree_counts, draw=hotspot_overlays, needs=("infected_trees",)),

* ``run(township) -> Result`` is the analysis with the township's defaults; it is called
  only when the township has the layers in ``needs`` (and ``applies(township)``, if
  given, is true), on the layers that can be read.
* ``draw(result, township)`` returns a list of :class:`~geo_township.overlay.Overlay`
  and/or :class:`~geo_township.overlay.RasterOverlay` styling what the Result carries
  (its ``features``, ``findings``, ``vocab`` …); it computes nothing and must not print or
  write files. Anything a layer needs belongs in the Result (so ``--save`` writes it too).
* Geometries may be in any CRS (the map reprojects to EPSG:4326 and, over AMap, shifts
  to GCJ-02). Canonical field names are labelled automatically; give others
  ``labels={"trees": ("Trees", "株数")}``, coded values ``vocab={"check": "audit_check"}``
  (comma-separated lists of codes item by item). Values are shown as escaped text.
* Leave ``show`` unset (the page opens with the core layers and the audit findings on)
  and give ``description_zh``. An overlay whose ``key`` is a built-in layer's replaces it;
  ``highlight=True`` draws it above the others of its geometry. A click lists every
  feature under the pointer, the built-in layer's record first.
* An analysis or draw that raises (or returns the wrong thing) leaves its layers off the
  map with a warning naming it, on the page and on the command line.

Rasters (``--raster NAME``): a provider ``(township, name) -> RasterOverlay | None`` in
:data:`~geo_township.webmap.registry.RASTER_PROVIDERS`. Programs can also pass overlays
directly: ``build_map(township, extra_overlays=[...])``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the map's modules load when a map is made, so the command line's --help stays fast
    from geo_township.county import County
    from geo_township.layers import LayerFailure, Township
    from geo_township.results import Result
    from geo_township.webmap.county_map import CountyMap
    from geo_township.webmap.model import MapModel
    from geo_township.webmap.providers import AnyOverlay

log = logging.getLogger(__name__)

DEFAULT_PATH = Path("maps") / "township.html"
"""Where ``geo-township map`` writes the page, relative to the working folder."""
COUNTY_PATH = Path("maps") / "county.html"
"""Where ``geo-township map`` writes a county's page, relative to the working folder."""


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


def map_results(township: Township, names: Iterable[str] | None = None) -> tuple[dict[str, Result], list[str]]:
    """Run the map's analyses (``names``, default all) on the layers that can be read:
    their Results by name and a warning per analysis that failed. See
    :func:`geo_township.webmap.registry.map_results`."""
    from geo_township.webmap.registry import map_results as run

    return run(township, names)


def check_map_options(township: Township, **options) -> None:
    """Refuse a map request that names something that does not exist (language, basemap,
    indicator, scheme, raster, output folder), before any work. See
    :func:`geo_township.webmap.options.check_map_options`."""
    from geo_township.webmap.options import check_map_options as check

    check(township, **options)


def build_map(township: Township, *, results: Mapping[str, Result] | None = None, warnings: Sequence[str] = (),
              lang: str = "en", indicator: str | None = None, scheme: str = "fisher_jenks", classes: int = 5,
              basemaps: Sequence[str] | None = None, tianditu_key: str | None = None,
              extra_overlays: Sequence[AnyOverlay] = (), rasters: Sequence[str] = (),
              raster_opacity: float | None = None, offline: bool = False) -> tuple[MapModel, str]:
    """The map of ``township`` as a model and its HTML page.

    ``results`` (with ``warnings``) are the Results of :func:`map_results` to draw; None
    runs the analyses here. Every layer that can be read is an overlay with a legend entry
    (the others are listed in ``model.failed_layers`` and named on the page); ``indicator``
    adds a per-village choropleth (:data:`~geo_township.webmap.indicators.INDICATORS`)
    classified by ``scheme`` into at most ``classes`` classes; ``basemaps`` names the
    basemaps (first shown; default OSM, satellite, AMap, and Tianditu when
    ``tianditu_key`` is given); ``rasters`` names township rasters (``raster_opacity`` 0–1
    overrides their opacity); ``offline`` inlines Leaflet from XStatic-Leaflet. Layers are
    reprojected to EPSG:4326 for the page only; the data are not changed.
    """
    from geo_township.webmap.build import render_html
    from geo_township.webmap.model import build_model

    model = build_model(township, lang=lang, indicator_key=indicator, scheme=scheme, classes=classes,
                        basemaps=basemaps, tianditu_key=tianditu_key, results=results, warnings=warnings,
                        extra_overlays=extra_overlays, rasters=rasters, raster_opacity=raster_opacity)
    return model, render_html(model, offline=offline)


def write_map(township: Township, path: str | Path | None = None, **options) -> WrittenMap:
    """Build the map (options as :func:`build_map`) and write it atomically to ``path``
    (default ``maps/township.html`` in the working folder, which is created if needed).
    A ``path`` in a folder that does not exist is refused before the map is built."""
    return _written(path, DEFAULT_PATH, lambda: build_map(township, **options))


def _written(path: str | Path | None, default: Path, build: Callable[[], tuple[MapModel, str]]) -> WrittenMap:
    """Build a page with ``build`` and write it atomically to ``path`` (else ``default``,
    whose folder is created)."""
    from geo_township.io.write import atomic_path

    started = time.perf_counter()
    if path is None:
        target = default
        target.parent.mkdir(parents=True, exist_ok=True)
    else:
        target = Path(path)
    with atomic_path(target) as tmp:
        model, page = build()
        data = page.encode("utf-8")
        tmp.write_bytes(data)
    seconds = time.perf_counter() - started
    log.info("map written to %s (%d bytes, %.1f s)", target, len(data), seconds)
    return WrittenMap(target, len(data), seconds, model, list(model.warnings), list(model.failed_layers))


def build_county_map(county_map: CountyMap, *, lang: str = "en", basemaps: Sequence[str] | None = None,
                     tianditu_key: str | None = None, offline: bool = False) -> tuple[MapModel, str]:
    """The map of a county (prepared by :func:`prepare_county_map`) as a model and its HTML
    page: every township's layers grouped under its name, its border, the land two
    townships claim. See :mod:`.county_map`."""
    from geo_township.webmap.build import render_html
    from geo_township.webmap.county_map import build_county_model

    model = build_county_model(county_map, lang=lang, basemaps=basemaps, tianditu_key=tianditu_key)
    return model, render_html(model, offline=offline)


def write_county_map(county_map: CountyMap, path: str | Path | None = None, **options) -> WrittenMap:
    """Build the county's map (options as :func:`build_county_map`) and write it atomically
    to ``path`` (default ``maps/county.html`` in the working folder). The townships left
    out are in ``county_map.failures`` and named on the page."""
    return _written(path, COUNTY_PATH, lambda: build_county_map(county_map, **options))


def prepare_county_map(county: County, *, lang: str = "en") -> CountyMap:
    """Every township of ``county`` prepared for the map (its analyses run once), the
    townships that could not be, and the land two townships claim. See :mod:`.county_map`."""
    from geo_township.webmap.county_map import prepare_county_map as prepare

    return prepare(county, lang=lang)


def county_map_summary(county_map: CountyMap) -> Result:
    """The county's key statistics: each township's, under a township column, and the
    county Total, tree numbers as ``trees`` on the county gives them. See :mod:`.county_map`."""
    from geo_township.webmap.county_map import county_map_summary as summary

    return summary(county_map)


def map_summary(township: Township, *, without: Iterable[str] = (), results: Mapping[str, Result] | None = None
                ) -> Result:
    """The township's key statistics per village and layer sizes (see :mod:`.summary`),
    leaving out the layers ``without`` (e.g. ``f.kind for f in written.failed_layers``);
    the tree numbers from the trees Result among ``results`` (those the map drew), else
    counted here."""
    from geo_township.webmap.indicators import TREES
    from geo_township.webmap.summary import map_summary as summary

    skip = list(without)
    return summary(township.without(skip) if skip else township, (results or {}).get(TREES))


__all__ = [
    "COUNTY_PATH",
    "DEFAULT_PATH",
    "WrittenMap",
    "build_map",
    "build_county_map",
    "check_map_options",
    "county_map_summary",
    "map_results",
    "map_summary",
    "prepare_county_map",
    "write_county_map",
    "write_map",
]
