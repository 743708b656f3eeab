"""The map of a county: every township's layers on one page.

Each township's map is prepared as a township's own map is (:func:`.prepared.prepare_map`:
its readable layers, its analyses' Results drawn), and the models are joined: each
township's layers are named after it in the layer switcher ("东岭乡 · Trees"), its border
is drawn (its villages dissolved, labelled with its name), and the land two townships
both claim (:func:`geo_township.county.claimed_land`, what ``check`` reports on a county)
is one highlighted layer. Layers of one kind are sized together
(:class:`.prepared.LayerSize`), so the whole page keeps the budgets one township's page
keeps: a county of 20 townships with 10,000 trees each draws them as the dots one
township with 200,000 would get, not as 20 layers of symbols.

The key statistics are each township's (:mod:`.summary`, from the trees Result the page
drew) joined as ``trees`` joins them (:func:`geo_township.county.join_results`): a
township column, each township's villages and Total, and a county Total whose tree
numbers are the county Total row of the township trees Results joined, so the page, the
key statistics and ``trees --township county.toml`` show the same numbers.

A township that cannot be read or analysed is left out, named in the page's warnings and
in :attr:`CountyMap.failures`; the others are drawn.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo_township.county import (
    CLAIM_COLUMNS,
    County,
    CountyFailure,
    claimed_land,
    each_township,
    is_county_total,
    join_results,
)
from geo_township.errors import UsageError
from geo_township.layers import LayerFailure, Township
from geo_township.overlay import Overlay
from geo_township.results import Result
from geo_township.webmap.basemaps import choose_basemaps
from geo_township.webmap.indicators import INDICATORS, TREES
from geo_township.webmap.model import MapLayer, MapModel, draw_rank, layer_from_overlay, model_of
from geo_township.webmap.options import check_map_options
from geo_township.webmap.prepared import LayerSize, PreparedMap, prepare_map
from geo_township.webmap.summary import map_summary

log = logging.getLogger(__name__)

SEPARATOR = " · "
"""Between a township's name and its layer's name in the layer switcher."""
BORDER_KEY = "township_border"
CLAIMS_KEY = "claims"
BORDER_COLOR = "#000000"
CLAIMS_COLOR = "#e31a1c"

TEXT: dict[str, tuple[str, str]] = {
    "border": ("Township border", "乡镇界"),
    "border_desc": ("the outline of the township's villages", "本乡镇各村界合并后的外轮廓"),
    "township": ("Township", "乡镇"),
    "claims": ("Land claimed by two townships", "两个乡镇重复划入的土地"),
    "claims_desc": ("overlaps of one township's villages or forest plots with another's",
                    "一个乡镇的村界或小班与另一乡镇的重叠部分"),
    "no_border": ("{township}: no border drawn (the township has no readable villages layer)",
                  "{township}：未画乡镇界（该乡镇没有可读取的村界图层）"),
    "key_statistics": ("{county}: key statistics", "{county}主要指标"),
}
"""The county map's words, (en, zh)."""

CLAIM_LABELS: dict[str, tuple[str, str]] = {
    "layer": ("Layer", "图层"),
    "township_a": ("Township", "乡镇"),
    "feature_a": ("Village or plot", "村或小班"),
    "township_b": ("Other township", "另一乡镇"),
    "feature_b": ("Its village or plot", "另一乡镇的村或小班"),
    "overlap_mu": ("Overlap (mu)", "重叠面积(亩)"),
}


def _say(key: str, lang: str, **values: object) -> str:
    en, zh = TEXT[key]
    return (zh if lang == "zh" else en).format(**values)


@dataclass
class CountyPart:
    """One township on the county map: its name and its prepared map."""

    name: str
    prepared: PreparedMap

    @property
    def township(self) -> Township:
        """The township as drawn: its readable layers."""
        return self.prepared.township


@dataclass
class CountyMap:
    """A county's townships prepared for the map, the townships left out, and the land two
    townships claim (:data:`~geo_township.county.CLAIM_COLUMNS` and the overlaps)."""

    county: County
    parts: list[CountyPart]
    failures: list[CountyFailure] = field(default_factory=list)
    claimed: gpd.GeoDataFrame | None = None

    @property
    def failed_layers(self) -> list[tuple[str, LayerFailure]]:
        """The layers of the drawn townships that could not be read, with their township."""
        return [(p.name, f) for p in self.parts for f in p.prepared.failed]

    def sizes(self) -> dict[str, LayerSize]:
        """The size of each kind of layer over the whole county."""
        out: dict[str, LayerSize] = {}
        for part in self.parts:
            for key, size in part.prepared.sizes().items():
                out[key] = out[key] + size if key in out else size
        return out


def check_county_map_options(county: County | None = None, *, indicator: str | None = None,
                             rasters: Sequence[str] = (), printed_village: str | None = None, atlas: bool = False,
                             lang: str = "en",
                             basemaps: Sequence[str] | None = None, tianditu_key: str | None = None,
                             output: str | Path | None = None) -> None:
    """Refuse what the county map does not do, before any work: a choropleth (its classes
    would differ from township to township), rasters (named per township) and a printed
    village's page or atlas; with ``county``, also what a township's map refuses (language,
    basemaps, an output folder that does not exist: :func:`~.options.check_map_options`)."""
    if indicator:
        raise UsageError("--indicator draws one township's villages; a county map has none",
                         hint="draw the choropleth for one township: --township FOLDER --indicator …",
                         message_zh="--indicator 只能按一个乡镇的村分级设色，县级地图不支持",
                         hint_zh="请对单个乡镇绘制：--township 乡镇文件夹 --indicator …")
    if rasters:
        raise UsageError("--raster names one township's raster; a county map does not draw rasters",
                         hint="draw it on that township's map: --township FOLDER --raster NAME",
                         message_zh="--raster 指的是某个乡镇的栅格，县级地图不绘制栅格",
                         hint_zh="请在该乡镇的地图上绘制：--township 乡镇文件夹 --raster 名称")
    if printed_village or atlas:
        option = "--atlas" if atlas else "--village"
        raise UsageError(f"{option} prints one township's villages; a county is printed as one page",
                         hint="print the county without it, or that township's villages: --township FOLDER "
                         f"--print FILE.pdf {option}",
                         message_zh=f"{option} 打印的是单个乡镇的村，全县只打印一页",
                         hint_zh=f"去掉该选项打印全县，或对该乡镇打印：--township 乡镇文件夹 --print 文件.pdf {option}")
    if county is not None and county.members:
        check_map_options(county.members[0].township(), lang=lang, basemaps=basemaps, tianditu_key=tianditu_key,
                          output=output)


def prepare_county_map(county: County, *, lang: str = "en") -> CountyMap:
    """Every township of ``county`` prepared as its own map is (its analyses run once), and
    the land two of them claim. A township that cannot be read or analysed is left out
    (:attr:`CountyMap.failures`); when none can, the first error is raised."""
    done, failures = each_township(county, lambda township: prepare_map(township, lang=lang))
    parts = [CountyPart(name, prepared) for name, prepared in done]
    claimed = claimed_land([(p.name, p.township) for p in parts], min_mu=county.claim_min_mu)
    return CountyMap(county, parts, failures, claimed)


def _border_overlay(part: CountyPart) -> Overlay | None:
    """The township's outline: its villages dissolved (None without a villages layer)."""
    villages = part.township.optional("villages")
    if villages is None or not len(villages):
        return None
    outline = shapely.union_all(villages.geometry.to_numpy())
    gdf = gpd.GeoDataFrame({"township": [part.name]}, geometry=[outline], crs=villages.crs)
    return Overlay(key=BORDER_KEY, en=TEXT["border"][0], zh=TEXT["border"][1], gdf=gdf, geometry="polygon",
                   color=BORDER_COLOR, fields=["township"], labels={"township": TEXT["township"]},
                   label_field="township", show=True, highlight=True, weight=3.0, fill_opacity=0.0,
                   description=TEXT["border_desc"][0], description_zh=TEXT["border_desc"][1])


def _claims_overlay(claimed: gpd.GeoDataFrame) -> Overlay:
    return Overlay(key=CLAIMS_KEY, en=TEXT["claims"][0], zh=TEXT["claims"][1], gdf=claimed, geometry="polygon",
                   color=CLAIMS_COLOR, fields=list(CLAIM_COLUMNS), labels=dict(CLAIM_LABELS),
                   vocab={"layer": "layer_kind"}, decimals={"overlap_mu": 2}, show=True, highlight=True,
                   weight=2.0, fill_opacity=0.6, description=TEXT["claims_desc"][0],
                   description_zh=TEXT["claims_desc"][1])


def build_county_model(cmap: CountyMap, *, lang: str = "en", basemaps: Sequence[str] | None = None,
                       tianditu_key: str | None = None) -> MapModel:
    """The county's page as one model: each township's layers (keys ``t<i>.<key>``, names
    "<township> · <layer>", grouped by township in the switcher, its border first), then
    the claims layer; drawn polygons under lines under points across townships."""
    chosen = choose_basemaps(list(basemaps) if basemaps else None, tianditu_key=tianditu_key)
    sizes = cmap.sizes()
    ranked: list[tuple[tuple[int, int, int, int], int, MapLayer]] = []  # (draw rank, township, layer)
    listed: list[MapLayer] = []
    warnings: list[str] = [_failure_text(f, lang) for f in cmap.failures]
    subtitles: list[str] = []
    for i, part in enumerate(cmap.parts):
        model = model_of(part.prepared, lang=lang, basemaps=chosen, tianditu_key=tianditu_key, sizes=sizes)
        sep = "：" if lang == "zh" else ": "
        warnings += [f"{part.name}{sep}{w}" for w in model.warnings]
        subtitles.append(model.subtitle)
        border = _border_overlay(part)
        layers = list(model.layers)
        if border is None:
            warnings.append(_say("no_border", lang, township=part.name))
        else:
            layers = layer_from_overlay(border, lang=lang, working_crs=part.township.working_crs, z=0,
                                        source="county") + layers
        for lay in layers:
            ranked.append((draw_rank(lay), i, lay))
            lay.key = f"t{i}.{lay.key}"
            lay.name = f"{part.name}{SEPARATOR}{lay.name}"
        listed += layers
    if cmap.claimed is not None and len(cmap.claimed):
        claims = layer_from_overlay(_claims_overlay(cmap.claimed), lang=lang,
                                    working_crs=cmap.parts[0].township.working_crs, z=0, source="county")
        for lay in claims:
            ranked.append((draw_rank(lay), len(cmap.parts), lay))
        listed += claims
    for z, (_, _, lay) in enumerate(sorted(ranked, key=lambda r: (r[0], r[1]))):
        lay.z = z
    bounds = [lay.gdf.total_bounds for lay in listed if lay.gdf is not None and len(lay.gdf)]
    if not bounds:
        raise UsageError("there is nothing to draw: every layer of every township is empty",
                         hint="check each township.toml with `geo-township info --township FOLDER`",
                         message_zh="没有可画的内容：各乡镇的所有图层都是空的",
                         hint_zh="请用 `geo-township info --township 乡镇文件夹` 检查各乡镇的 township.toml")
    west = min(float(b[0]) for b in bounds)
    south = min(float(b[1]) for b in bounds)
    east = max(float(b[2]) for b in bounds)
    north = max(float(b[3]) for b in bounds)
    return MapModel(title=cmap.county.name, subtitle=max(subtitles), lang=lang, layers=listed, basemaps=chosen,
                    bounds=(west, south, east, north), warnings=warnings, tianditu_key=tianditu_key,
                    failed_layers=[f for _, f in cmap.failed_layers])


def _failure_text(failure: CountyFailure, lang: str) -> str:
    return failure.as_finding().message_in(lang)


def county_trees(cmap: CountyMap) -> Result | None:
    """The townships' trees Results (those the page drew) joined as ``trees`` joins them;
    None when no township has trees."""
    parts = [(p.name, p.prepared.results[TREES]) for p in cmap.parts if TREES in p.prepared.results]
    return join_results(cmap.county.name, parts) if parts else None


def county_map_summary(cmap: CountyMap) -> Result:
    """The key statistics of every township (per village and its Total, as one township's
    map prints them) under a township column, and the county Total: tree numbers from the
    county Total row of :func:`county_trees`, the other amounts summed over the townships'
    Totals; the layers' sizes per township."""
    parts = [(p.name, map_summary(p.township, p.prepared.results.get(TREES))) for p in cmap.parts]
    joined = join_results(cmap.county.name, parts, cmap.failures)
    table = joined.table
    trees = county_trees(cmap)
    county_row = is_county_total(table["township"]).to_numpy()
    if trees is not None and county_row.any():
        total = trees.table[is_county_total(trees.table["township"])].iloc[0]
        for key in table.columns:
            column = INDICATORS[key].tree_column if key in INDICATORS else None
            if column and column in total.index:
                value = float(total[column]) if pd.notna(total[column]) else float("nan")
                table.loc[county_row, key] = round(value) if INDICATORS[key].decimals == 0 else value
    name = cmap.county.name
    return replace(joined, table=table, title=_say("key_statistics", "en", county=name),
                   title_zh=_say("key_statistics", "zh", county=name))
