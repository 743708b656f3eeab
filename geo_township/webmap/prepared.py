"""One township's map before its layers are built (:class:`PreparedMap`), and how big
each layer is for the page budgets (:class:`LayerSize`).

:func:`~.model.build_model` prepares a township's map here and turns it into a
:class:`~.model.MapModel`; a county map (:mod:`.county_map`) prepares one per township
and sizes their layers of one kind together, so the page keeps one township's budgets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import shapely

from geo_township.layers import LayerFailure, Township
from geo_township.overlay import RasterOverlay
from geo_township.results import Result
from geo_township.webmap.providers import (
    AnyOverlay,
    MapAnalysis,
    RasterProvider,
    draw_rasters,
    draw_results,
    readable_township,
    run_analyses,
)
from geo_township.webmap.styles import builtin_overlays


@dataclass(frozen=True)
class LayerSize:
    """How big a layer is for the page budgets: its features (single points for a point
    layer) and its vertices."""

    features: int
    vertices: int

    def __add__(self, other: LayerSize) -> LayerSize:
        return LayerSize(self.features + other.features, self.vertices + other.vertices)


def overlay_size(overlay: AnyOverlay) -> LayerSize:
    """The size of an overlay's features as the page budgets count them (a raster: 0)."""
    if isinstance(overlay, RasterOverlay):
        return LayerSize(0, 0)
    geoms = overlay.gdf.geometry.to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    vertices = int(shapely.get_num_coordinates(geoms).sum())
    return LayerSize(vertices if overlay.geometry == "point" else len(geoms), vertices)


@dataclass
class PreparedMap:
    """One township's map before its layers are built: the township (its readable layers),
    the layers that could not be read, the overlays in position order (each with its source,
    ``builtin`` or ``provider``), the Results drawn and the warnings so far.
    :func:`build_model` makes one and turns it into a model; a county map makes one per
    township and sizes their layers together (:meth:`sizes`)."""

    township: Township
    failed: list[LayerFailure]
    overlays: list[tuple[AnyOverlay, str]]
    results: Mapping[str, Result]
    warnings: list[str]

    def sizes(self) -> dict[str, LayerSize]:
        """Each overlay's size by key."""
        return {o.key: overlay_size(o) for o, _ in self.overlays}


def prepare_map(township: Township, *, lang: str = "en", results: Mapping[str, Result] | None = None,
                warnings: Sequence[str] = (), analyses: Mapping[str, MapAnalysis] | None = None,
                extra_overlays: Sequence[AnyOverlay] = (), rasters: Sequence[str] = (),
                raster_providers: Mapping[str, RasterProvider] | None = None) -> PreparedMap:
    """What :func:`build_model` draws for ``township`` (same arguments), before the layers
    are built: the readable layers, the analyses' Results (run here when ``results`` is
    None) drawn, the rasters named, every failure as a warning."""
    from geo_township.webmap.registry import MAP_ANALYSES, RASTER_PROVIDERS  # imports the analyses

    analyses = MAP_ANALYSES if analyses is None else analyses
    raster_providers = RASTER_PROVIDERS if raster_providers is None else raster_providers
    township, failed = readable_township(township)
    warnings = list(warnings)
    if results is None:
        results, failures = run_analyses(township, analyses)
        warnings += failures
    collected = draw_results(township, results, analyses, extra=extra_overlays)
    draw_rasters(township, rasters, raster_providers, collected)
    warnings = [*(f.text(lang) for f in failed), *township.left_out_notes(lang), *warnings, *collected.warnings]
    overlays: list[tuple[AnyOverlay, str]] = [(o, "builtin") for o in builtin_overlays(township)]
    for o in collected.overlays:
        overlays = [(b, s) for b, s in overlays if b.key != o.key]  # an analysis's layer replaces a built-in
        overlays.append((o, "provider"))
    return PreparedMap(township, failed, overlays, results, warnings)
