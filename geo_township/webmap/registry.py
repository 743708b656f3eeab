"""The analyses the map shows, as data, and :func:`map_results`, which runs them.

Each entry of :data:`MAP_ANALYSES` names the analysis function (called with the township's
defaults), the layers it needs and the function that draws its Result (``webmap.layers_*``).
Imported only when a map is made, so the analyses cost nothing elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from geo_township.candidates import default_pair, find_candidates
from geo_township.layers import Township
from geo_township.results import Result
from geo_township.rivers import river_report
from geo_township.sand import sand_report
from geo_township.transfers import LAYER as LAND_TRANSFERS
from geo_township.transfers import audit_transfers
from geo_township.trees import tree_counts
from geo_township.webmap.indicators import TREES
from geo_township.webmap.layers_audit import audit_overlays
from geo_township.webmap.layers_raster import raster_overlay
from geo_township.webmap.layers_rivers import river_overlays
from geo_township.webmap.layers_sand import sand_overlays
from geo_township.webmap.layers_trees import candidate_overlays, hotspot_overlays
from geo_township.webmap.providers import (
    Collected,
    MapAnalysis,
    RasterProvider,
    choose_analyses,
    draw_results,
    readable_township,
    run_analyses,
)


def has_ndvi_pair(township: Township) -> bool:
    """Whether the township has two rasters to look for vegetation loss between."""
    return default_pair(township) is not None


def ndvi_pair_candidates(township: Township) -> Result:
    """:func:`~geo_township.candidates.find_candidates` between the township's NDVI pair
    (:func:`~geo_township.candidates.default_pair`), thresholds from township.toml."""
    pair = default_pair(township)
    if pair is None:
        raise ValueError("the township has no pair of NDVI rasters")
    return find_candidates(township, *pair)


#: The analyses the map shows, in drawing order: name → MapAnalysis, one entry each. The
#: trees Result (``TREES``) also gives the key statistics' and the choropleth's tree numbers.
MAP_ANALYSES: dict[str, MapAnalysis] = {
    "audit": MapAnalysis(audit_transfers, audit_overlays, needs=(LAND_TRANSFERS,)),
    TREES: MapAnalysis(tree_counts, hotspot_overlays, needs=("infected_trees",)),
    "rivers": MapAnalysis(river_report, river_overlays, needs=("rivers",)),
    "sand": MapAnalysis(sand_report, sand_overlays, needs=("sand_sites",)),
    "candidates": MapAnalysis(ndvi_pair_candidates, candidate_overlays, needs=("forest_plots",),
                              applies=has_ndvi_pair),
}

#: Raster providers for ``--raster NAME``: name → ``(township, raster_name) -> RasterOverlay | None``.
RASTER_PROVIDERS: dict[str, RasterProvider] = {
    "raster": raster_overlay,
}


def map_results(township: Township, names: Iterable[str] | None = None, *,
                analyses: Mapping[str, MapAnalysis] | None = None) -> tuple[dict[str, Result], list[str]]:
    """Run the map's analyses (``names``, default all of :data:`MAP_ANALYSES`; ``analyses``
    replaces the registry) on the layers of ``township`` that can be read, each with the
    township's defaults, skipping those whose layers the township lacks.

    Returns the Results by name and one warning per analysis that failed (naming it and
    the error). An unknown name is refused before anything is read."""
    chosen = choose_analyses(MAP_ANALYSES if analyses is None else analyses, names)
    readable, _ = readable_township(township)
    return run_analyses(readable, chosen)


def map_overlays(township: Township, names: Iterable[str] | None = None) -> Collected:
    """The overlays the analyses ``names`` (default all) add to the map: their Results
    (:func:`map_results`) drawn, with a warning per failure. None for an analysis whose
    layers the township lacks."""
    chosen = choose_analyses(MAP_ANALYSES, names)
    results, warnings = map_results(township, names)
    readable, _ = readable_township(township)
    drawn = draw_results(readable, results, chosen)
    return Collected(drawn.overlays, [*warnings, *drawn.warnings])
