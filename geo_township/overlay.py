"""What an analysis hands the map: a layer of features, how to colour them, and what the
legend and popups say. Plain data (no folium here), so analyses can describe their map
layers without depending on the map module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd


@dataclass(frozen=True)
class Category:
    """One legend entry: features whose ``Overlay.category_field`` equals ``code``."""

    code: Any
    en: str
    zh: str
    color: str
    symbol: str = ""  # e.g. "circle", "square", "triangle" for point layers


@dataclass
class Overlay:
    """A map layer produced by an analysis (hotspots, audit findings, river zones …).

    Parameters
    ----------
    key:
        Unique machine name, e.g. ``"hotspots"``.
    en, zh:
        The layer's name in the layer control and legend.
    gdf:
        The features, in any CRS (the map reprojects to EPSG:4326).
    geometry:
        ``point``, ``line`` or ``polygon``.
    color:
        Colour when no category field is given.
    category_field, categories:
        Colour features by this field's value; one legend entry per category.
    fields:
        Attributes shown in tooltips and popups (canonical names; labelled in the
        chosen language through :func:`geo_township.kinds.column_label`).
    show:
        Visible when the page opens.
    """

    key: str
    en: str
    zh: str
    gdf: gpd.GeoDataFrame
    geometry: Literal["point", "line", "polygon"]
    color: str = "#3388ff"
    category_field: str | None = None
    categories: list[Category] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    show: bool = True
    description: str = ""

    def name(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en
