"""What a map request names — language, basemaps, indicator, classification, rasters,
output folder — checked against the township before any layer is read or analysis run,
so a mistake is reported at once, not after minutes of work."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from geo_township.errors import UsageError
from geo_township.webmap.basemaps import choose_basemaps
from geo_township.webmap.indicators import SCHEMES, require_indicator
from geo_township.webmap.providers import RasterProvider, check_rasters

if TYPE_CHECKING:
    from geo_township.layers import Township


def check_map_options(township: Township, *, lang: str = "en", indicator: str | None = None,
                      scheme: str = "fisher_jenks", basemaps: Sequence[str] | None = None,
                      tianditu_key: str | None = None, rasters: Sequence[str] = (),
                      raster_providers: Mapping[str, RasterProvider] | None = None,
                      output: str | Path | None = None) -> None:
    """Refuse (:class:`UsageError`) a map request naming something that does not exist: a
    language other than en/zh, an unknown basemap or Tianditu without a key, an unknown
    indicator or one whose layers the township lacks, an unknown classification, a raster
    the township does not have (``raster_providers`` default to the registry's), an
    output folder that does not exist."""
    if lang not in ("en", "zh"):
        raise UsageError(f"unknown language {lang!r}", hint="use en or zh")
    choose_basemaps(list(basemaps) if basemaps else None, tianditu_key=tianditu_key)
    if indicator:
        require_indicator(township, indicator)
        if scheme not in SCHEMES:
            raise UsageError(f"unknown classification {scheme!r}", hint="use one of: " + ", ".join(SCHEMES))
    if rasters:
        providers = raster_providers
        if providers is None:  # the registry imports the analyses: only when rasters are asked for
            from geo_township.webmap.registry import RASTER_PROVIDERS

            providers = RASTER_PROVIDERS
        check_rasters(township, rasters, providers)
    if output is not None:
        folder = Path(output).parent
        if not folder.exists():
            raise UsageError(f"folder {folder} does not exist", hint="create it first or choose another -o path")
