"""How each layer kind looks on the map, as data: colour per code, symbol, outline, which
field colours it, what a popup shows. :func:`builtin_overlays` turns a township's layers
into :class:`~geo_township.overlay.Overlay` objects with these styles — the same contract
other analyses use, so built-in layers and provider layers are drawn by one code path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.kinds import KINDS
from geo_township.layers import Township
from geo_township.measure import Method, area, length
from geo_township.overlay import Category, Overlay
from geo_township.vocabulary import VOCABULARIES
from geo_township.zones import management_zones

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KindStyle:
    """The look of one layer kind.

    ``palette`` maps codes of ``category_field`` to colours (legend order); ``names``
    overrides the vocabulary's labels of some codes with (en, zh); ``measure`` adds a
    computed ``area_mu`` (polygons) or ``length_km`` (lines) field to popups.
    """

    kind: str
    color: str
    category_field: str | None = None
    palette: dict[str, str] = field(default_factory=dict)
    names: dict[str, tuple[str, str]] = field(default_factory=dict)
    symbol: str = "circle"
    weight: float = 2.0
    fill_opacity: float = 0.35
    dash: str | None = None
    label_field: str | None = None
    measure: str | None = None
    description: tuple[str, str] = ("", "")


TREE_COLORS = {"suspected": "#f768a1", "confirmed": "#d7191c", "felled": "#fd8d3c", "cleared": "#2c7bb6",
               "verified": "#253494"}

STYLES: dict[str, KindStyle] = {
    s.kind: s
    for s in (
        KindStyle("villages", "#303030", weight=2.5, fill_opacity=0.03, label_field="village", measure="area",
                  description=("Village boundaries and names", "行政村界线与村名")),
        KindStyle("forest_plots", "#74a662", "species",
                  palette={"masson_pine": "#a6611a", "slash_pine": "#d8a04b", "black_pine": "#7a4a12",
                           "chinese_fir": "#1b7837", "oil_tea": "#a6dba0", "broadleaf": "#5aae61",
                           "mixed": "#80cdc1", "bamboo": "#c2e699"},
                  names={"masson_pine": ("Masson pine (pine-wilt host)", "马尾松(松材线虫病寄主)"),
                         "slash_pine": ("slash pine (pine-wilt host)", "湿地松(松材线虫病寄主)"),
                         "black_pine": ("Japanese black pine (pine-wilt host)", "黑松(松材线虫病寄主)")},
                  weight=0.8, fill_opacity=0.45, measure="area",
                  description=("Sub-compartments by dominant species; pines in browns",
                               "森林小班按优势树种着色，松类为棕色")),
        KindStyle("infected_trees", "#d7191c", "status", palette=TREE_COLORS,
                  names={"suspected": ("outstanding: suspected", "未除治：疑似"),
                         "confirmed": ("outstanding: confirmed", "未除治：已确认"),
                         "felled": ("felled, wood not yet cleared", "已伐未清理"),
                         "cleared": ("cleared", "已清理"),
                         "verified": ("cleared and verified", "已清理并核查")},
                  symbol="circle",
                  description=("Pine-wilt trees by status: red outstanding, orange felled, blue cleared",
                               "松材线虫病疫木按状态：红色未除治，橙色已伐，蓝色已清理")),
        KindStyle("rivers", "#2171b5", "reach_id", weight=3.5, measure="length",
                  description=("River reaches with their river chiefs", "河段及河长")),
        KindStyle("river_zones", "#4292c6", weight=1.0, fill_opacity=0.15, dash="4 4", measure="area",
                  description=("River management zones (河道管理范围) around each reach", "河道管理范围")),
        KindStyle("sand_sites", "#737373", "status",
                  palette={"illegal": "#d73027", "licensed": "#4575b4", "closed": "#737373", "restored": "#1a9850"},
                  symbol="square", weight=1.5, fill_opacity=0.5, measure="area",
                  description=("Sand-mining sites by status (squares)", "采砂点按状态（方块）")),
        KindStyle("sand_zones", "#fee08b", "zone",
                  palette={"no_mining": "#d73027", "reserved": "#fee08b", "permitted": "#91cf60"},
                  weight=1.0, fill_opacity=0.2, dash="2 4", measure="area",
                  description=("Sand-mining plan zones", "河道采砂规划分区")),
        KindStyle("land_transfers", "#b15928", "use",
                  palette={"grain": "#e6ab02", "vegetables": "#66a61e", "oil_tea": "#1b9e77", "tea": "#a6d854",
                           "fruit": "#e7298a", "nursery": "#7570b3", "aquaculture": "#1f78b4",
                           "livestock": "#a6761d", "photovoltaic": "#6a3d9a", "building": "#525252"},
                  weight=1.5, fill_opacity=0.5, measure="area",
                  description=("Land-transfer parcels by use", "土地流转地块按用途")),
        KindStyle("basic_farmland", "#e6c229", weight=0.8, fill_opacity=0.3, measure="area",
                  description=("Permanent basic farmland (永久基本农田)", "永久基本农田")),
        KindStyle("outfalls", "#7b3294", symbol="triangle",
                  description=("Sewage outfalls into rivers (triangles)", "入河排污口（三角）")),
        KindStyle("patrols", "#e66101", weight=2.0, dash="6 4", measure="length",
                  description=("River-chief patrol tracks", "河长巡河轨迹")),
    )
}
"""Styles of the built-in layers by overlay key."""

DRAW_ORDER = ("villages", "basic_farmland", "forest_plots", "land_transfers", "sand_zones", "river_zones",
              "rivers", "patrols", "sand_sites", "outfalls", "infected_trees")
"""Bottom to top within each geometry family (polygons < lines < points)."""

SHOWN_AT_OPENING = ("villages", "forest_plots", "infected_trees", "rivers", "sand_sites", "land_transfers",
                    "land_transfer_audit")
"""Layers on when the page opens (unless an overlay says otherwise with ``show``): the core
layers and the audit findings. Every other layer (zones, farmland, outfalls, patrols and the
other analyses' layers) is listed in the layer switcher and drawn, with its legend, once
ticked — so the opening page and its legend stay readable."""

GENERIC_VOCABULARIES = {"check": "check_name", "checks": "check_name", "layer": "layer_kind"}
"""Vocabularies of fields that analyses' layers commonly carry without naming one in
``Overlay.vocab``: the name of a check (or a comma-separated list of them) and a layer kind."""

LIST_ORDER = ("villages", "forest_plots", "infected_trees", "rivers", "river_zones", "sand_sites", "sand_zones",
              "land_transfers", "basic_farmland", "outfalls", "patrols")
"""Order of the layer switcher and legend (what a township head looks for first)."""

QUALITATIVE = ("#1f78b4", "#33a02c", "#6a3d9a", "#ff7f00", "#e31a1c", "#b15928", "#a6cee3", "#b2df8a",
               "#cab2d6", "#fdbf6f", "#fb9a99", "#ffff99")
"""Colours for codes that no palette names (Paired)."""
RIVER_COLORS = ("#08519c", "#17becf", "#3182bd", "#0e7c7b", "#6baed6", "#5e3c99", "#2b8cbe", "#045a8d",
                "#41b6c4", "#225ea8", "#1d91c0", "#7fcdbb")
"""Colours of river reaches (blues and teals), cycled when a township has more reaches."""
MAX_REACH_CATEGORIES = 12


def is_text(series: pd.Series) -> bool:
    """Whether a column holds text (object or pandas string dtype), i.e. may hold codes."""
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def vocabulary_for(kind_name: str | None, field_name: str, values: pd.Series | None = None) -> str | None:
    """The vocabulary of a canonical field: the kind's own, else the one (of any kind's
    field of that name) that knows most of ``values``."""
    if kind_name in KINDS:
        k = KINDS[kind_name]
        if field_name in k.field_names:
            return k.field(field_name).vocabulary
    candidates = {f.vocabulary for k in KINDS.values() for f in k.fields if f.name == field_name and f.vocabulary}
    if not candidates:
        return None
    if len(candidates) == 1 or values is None:
        return min(candidates)
    present = {str(v) for v in pd.unique(values.dropna())}
    return max(sorted(candidates), key=lambda v: len(present & set(VOCABULARIES[v].codes)))


def _categories(style: KindStyle, gdf: gpd.GeoDataFrame) -> list[Category]:
    fld = style.category_field
    if fld is None or fld not in gdf.columns:
        return []
    present = {str(v) for v in pd.unique(gdf[fld].dropna())}
    vocab_name = vocabulary_for(style.kind if style.kind in KINDS else None, fld, gdf[fld])
    vocab = VOCABULARIES.get(vocab_name) if vocab_name else None
    out = []
    codes = list(style.palette) + sorted(present - set(style.palette))
    for i, code in enumerate(codes):
        if code not in present:
            continue
        color = style.palette.get(code) or QUALITATIVE[i % len(QUALITATIVE)]
        if code in style.names:
            en, zh = style.names[code]
        elif vocab is not None:
            en, zh = vocab.label(code, "en"), vocab.label(code, "zh")
        else:
            en = zh = code
        out.append(Category(code, en, zh, color, style.symbol))
    return out


def _reach_categories(gdf: gpd.GeoDataFrame) -> tuple[str | None, list[Category]]:
    """Rivers coloured per reach (legend: reach, river, chief) when there are few reaches,
    else by the chief's level."""
    if "reach_id" in gdf.columns and 0 < gdf["reach_id"].nunique() <= MAX_REACH_CATEGORIES:
        cats = []
        first = gdf.drop_duplicates("reach_id")
        for i, row in enumerate(first.sort_values("reach_id", key=lambda s: s.astype(str)).itertuples()):
            parts = [str(row.reach_id)]
            for col in ("name", "chief"):
                val = getattr(row, col, None)
                if val is not None and not (isinstance(val, float) and np.isnan(val)):
                    parts.append(str(val))
            label = " · ".join(parts)
            cats.append(Category(row.reach_id, label, label, RIVER_COLORS[i % len(RIVER_COLORS)]))
        return "reach_id", cats
    if "chief_level" in gdf.columns:
        vocab = VOCABULARIES["chief_level"]
        colors = {"county": "#08306b", "township": "#2171b5", "village": "#6baed6"}
        cats = [Category(c, f"{vocab.label(c, 'en')} chief", f"{vocab.label(c, 'zh')}河长", colors[c])
                for c in colors if (gdf["chief_level"] == c).any()]
        return "chief_level", cats
    return None, []


def _measured(gdf: gpd.GeoDataFrame, style: KindStyle, method: Method) -> tuple[gpd.GeoDataFrame, list[str]]:
    gdf = gdf.copy()
    polygonal = np.isin(shapely.get_type_id(gdf.geometry.to_numpy()), (3, 6))
    if style.measure == "area" and polygonal.any():
        gdf["area_mu"] = np.where(polygonal, area(gdf.geometry, unit="mu", method=method), np.nan)
        return gdf, ["area_mu"]
    if style.measure == "length":
        gdf["length_km"] = length(gdf.geometry, unit="km", method=method)
        return gdf, ["length_km"]
    return gdf, []


def river_zones(township: Township) -> gpd.GeoDataFrame:
    """Each reach's management zone as the rivers command and the audit draw it (one
    definition: :func:`geo_township.zones.management_zones`)."""
    return management_zones(township.gdf("rivers"), default_zone_m=float(township.config.parameters["zone_m"]),
                            method=township.config.parameters.get("area_method", "ellipsoidal"))


def _overlay_for(key: str, gdf: gpd.GeoDataFrame, style: KindStyle, kind_name: str | None, method: Method
                 ) -> Overlay:
    k = KINDS.get(kind_name) if kind_name else None
    geometry_type = shapely.get_type_id(gdf.geometry.to_numpy())
    family: Literal["point", "line", "polygon"] = "point" if np.isin(geometry_type, (0, 4)).all() else \
        "line" if np.isin(geometry_type, (1, 2, 5)).all() else "polygon"
    gdf, extra = _measured(gdf, style, method)
    fields = [f for f in (k.field_names if k else gdf.columns) if f in gdf.columns and f != gdf.geometry.name]
    if key == "river_zones":
        fields = [f for f in ("reach", "river_name", "river_chief", "chief_level", "zone_m") if f in gdf.columns]
    fields += extra
    category_field, categories = style.category_field, _categories(style, gdf)
    if key == "rivers":
        category_field, categories = _reach_categories(gdf)
    vocab = {}
    for f in fields:
        v = vocabulary_for(kind_name, f, gdf[f]) if is_text(gdf[f]) else None
        if v:
            vocab[f] = v
    en, zh = (k.en, k.zh) if k else ("River management zones", "河道管理范围")
    return Overlay(
        key=key, en=en, zh=zh, gdf=gdf[[*fields, gdf.geometry.name]], geometry=family, color=style.color,
        category_field=category_field, categories=categories, fields=fields,
        description=style.description[0], id_field=k.id_field if k else "reach_id",
        label_field=style.label_field, symbol=style.symbol, vocab=vocab, weight=style.weight, show=None,
        fill_opacity=style.fill_opacity, dash=style.dash, description_zh=style.description[1],
        decimals={"area_mu": 2, "declared_mu": 2, "length_km": 3, "zone_m": 0},
    )


def builtin_overlays(township: Township) -> list[Overlay]:
    """An overlay per loaded layer (and river management zones when there are rivers),
    styled from :data:`STYLES`; kinds without a style get a generic one."""
    method: Method = township.config.parameters.get("area_method", "ellipsoidal")
    out = []
    for kind_name in township.kinds:
        gdf = township.gdf(kind_name)
        style = STYLES.get(kind_name) or _generic_style(kind_name, gdf)
        out.append(_overlay_for(kind_name, gdf, style, kind_name, method))
        if kind_name == "rivers":
            out.append(_overlay_for("river_zones", river_zones(township), STYLES["river_zones"], None, method))
    return out


def _generic_style(kind_name: str, gdf: gpd.GeoDataFrame) -> KindStyle:
    k = KINDS[kind_name]
    coded = next((f.name for f in k.fields if f.vocabulary and f.name in gdf.columns), None)
    polygonal = k.geometry[0] == "Polygon"
    return KindStyle(kind_name, QUALITATIVE[len(kind_name) % len(QUALITATIVE)], coded, symbol="diamond",
                     measure="area" if polygonal else None,
                     description=(k.en, k.zh))
