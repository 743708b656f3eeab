"""What an analysis hands the map: a layer of features, how to colour them, and what the
legend and popups say. Plain data (no folium here), so analyses can describe their map
layers without depending on the map module.

Two kinds of map layer exist:

* :class:`Overlay` — vector features (points, lines or polygons) in a GeoDataFrame, in
  any CRS (the map reprojects them to EPSG:4326 itself), coloured by one field's value
  (:class:`Category`) or in one colour, with the fields to show in tooltips and popups.
* :class:`RasterOverlay` — a small RGBA picture (e.g. a classified NDVI or land-cover
  raster already coloured by the raster module) with its lon/lat bounds and legend.

Analyses return them from an overlay provider registered in
:data:`geo_township.webmap.OVERLAY_PROVIDERS` (see that module's docstring for the
contract). Every text in them (names, field values, category labels) is shown as text,
never interpreted as markup, so values from data files can go in unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import geopandas as gpd

SYMBOLS = ("circle", "square", "triangle", "diamond")
"""Point symbols the map draws (trees are circles; other point layers pick another)."""


@dataclass(frozen=True)
class Category:
    """One legend entry: features whose ``Overlay.category_field`` equals ``code``.

    ``color`` is a CSS colour (``"#d7191c"``); ``symbol`` (points only) one of
    :data:`SYMBOLS`, empty for the overlay's own symbol.
    """

    code: Any
    en: str
    zh: str
    color: str
    symbol: str = ""  # e.g. "circle", "square", "triangle" for point layers

    def name(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en


@dataclass
class Overlay:
    """A map layer produced by an analysis (hotspots, audit findings, river zones …).

    Parameters
    ----------
    key:
        Unique machine name, e.g. ``"hotspots"``. An overlay whose key equals a
        built-in layer's key (``villages``, ``forest_plots``, ``infected_trees``,
        ``rivers``, ``river_zones``, ``sand_sites``, ``land_transfers``,
        ``basic_farmland``, ``outfalls``, ``patrols``) replaces that layer.
    en, zh:
        The layer's name in the layer control and legend.
    gdf:
        The features, in any CRS (the map reprojects to EPSG:4326).
    geometry:
        ``point``, ``line`` or ``polygon``.
    color:
        Colour when no category field is given (or for values outside the categories).
    category_field, categories:
        Colour features by this field's value; one legend entry per category.
    fields:
        Attributes shown in tooltips and popups (canonical names; labelled in the
        chosen language through :func:`geo_township.kinds.column_label`, or by
        ``labels``). Dates are shown as 2022-03-05; coded values (``vocab``) as words.
        A column ``<field>_zh`` holds the field's text in Chinese and replaces it on a
        ``--lang zh`` map (e.g. an audit finding's message).
    show:
        Visible when the page opens. ``None`` (the default) lets the map decide: the
        core layers (villages, forest plots, trees, rivers, sand sites, land transfers)
        and the audit findings are on, every other analysis layer waits until ticked in
        the layer switcher (:data:`geo_township.webmap.styles.SHOWN_AT_OPENING`). Say
        ``True`` only for a layer a reader must see first.
    description, description_zh:
        One sentence shown under the layer's legend entry (what the layer means), in
        English and Chinese (the English one is used when the Chinese one is empty).
    id_field:
        The field that identifies a feature: the popup's title and what the map's
        search box finds (e.g. ``plot_id``).
    label_field:
        A field written on the map next to each feature (e.g. village names).
    symbol:
        Point symbol when the category gives none: one of :data:`SYMBOLS`.
    labels:
        ``{field: (en, zh)}`` for fields the kinds table does not know.
    vocab:
        ``{field: vocabulary name}`` (a key of :data:`geo_township.kinds.VOCABULARIES`)
        for fields holding codes, shown as the vocabulary's words in the page's language,
        e.g. ``{"check": "audit_check", "layer": "layer_kind"}``. A value that is a
        comma-separated list of codes (``"overlap, area_mismatch"``) is labelled item by
        item; values the vocabulary does not know are shown as they are. Canonical
        fields of a layer kind get their vocabulary automatically, and so do fields named
        ``check``/``checks`` (``check_name``) and ``layer`` (``layer_kind``) unless
        ``vocab`` says otherwise.
    decimals:
        ``{field: places}`` for numbers in popups (default 2).
    highlight:
        Draw emphasised, above the other layers of its geometry (audit findings).
    weight, fill_opacity, dash:
        Outline width (px), polygon fill opacity (0–1), outline dash pattern
        (e.g. ``"6 4"``).
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
    show: bool | None = None
    description: str = ""
    id_field: str | None = None
    label_field: str | None = None
    symbol: str = "circle"
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    vocab: dict[str, str] = field(default_factory=dict)
    decimals: dict[str, int] = field(default_factory=dict)
    highlight: bool = False
    weight: float = 2.0
    fill_opacity: float = 0.35
    dash: str | None = None
    description_zh: str = ""

    def name(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en

    def describe(self, lang: str = "en") -> str:
        return self.description_zh if lang == "zh" and self.description_zh else self.description


@dataclass
class RasterOverlay:
    """A raster drawn on the map as a picture, e.g. an NDVI or land-cover grid.

    Parameters
    ----------
    key, en, zh:
        Machine name and the names in the layer control and legend.
    image:
        RGBA pixels, ``uint8`` array of shape (rows, columns, 4); row 0 is the north
        edge; alpha 0 where there is no data. Keep it small (≤ 2048 × 2048): it is
        embedded in the page as a PNG.
    bounds:
        ``(west, south, east, north)`` in degrees on CGCS2000/WGS84 (EPSG:4490/4326):
        the outer edges of the picture. The raster must already be resampled to a
        lon/lat grid (the map stretches the picture between these bounds).
    legend:
        Legend entries: for classes, one :class:`Category` per class; for a colour
        ramp, a few entries at chosen values (``code`` the value, ``en``/``zh`` its label).
    opacity, show, description:
        Picture opacity (0–1), visible at opening, one sentence for the legend.
    """

    key: str
    en: str
    zh: str
    image: np.ndarray
    bounds: tuple[float, float, float, float]
    legend: list[Category] = field(default_factory=list)
    opacity: float = 0.7
    show: bool = True
    description: str = ""
    description_zh: str = ""

    def __post_init__(self) -> None:
        from geo_township.errors import UsageError

        image = np.asarray(self.image)
        if image.ndim != 3 or image.shape[2] != 4 or image.dtype != np.uint8:
            raise UsageError(f"raster overlay {self.key!r}: image must be a uint8 array of shape (rows, cols, 4), "
                             f"got {image.dtype} {image.shape}",
                             hint="colour the raster into RGBA bytes before handing it to the map")
        west, south, east, north = (float(v) for v in self.bounds)
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise UsageError(f"raster overlay {self.key!r}: bounds {self.bounds} are not "
                             "(west, south, east, north) in degrees",
                             hint="reproject the raster to EPSG:4326 and pass its outer edges")
        self.image = image
        self.bounds = (west, south, east, north)

    def name(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en

    def describe(self, lang: str = "en") -> str:
        return self.description_zh if lang == "zh" and self.description_zh else self.description
