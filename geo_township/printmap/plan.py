"""What the printed map's pages show: the township, or one village, at what scale, with
which layers, relief, font and notes — decided before anything is drawn.

A page is drawn in the township's working CRS (metres): the map is printed at a round
scale (1:N, exact on the paper size chosen) and its scale bar is drawn in the map's own
coordinates, so both are true in that projection; the notes say which projection it is,
its scale factor at the map's centre and how far true north is from the page's up.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely
from pyproj import CRS, Proj, Transformer

from geo_township.errors import UsageError
from geo_township.layers import Township
from geo_township.printmap import paper as pp
from geo_township.printmap.draw import Prepared, prepare
from geo_township.printmap.fonts import FontChoice, choose_font
from geo_township.printmap.furniture import legend_rows
from geo_township.printmap.relief import Relief, dem_name, load_relief
from geo_township.printmap.words import joined, word
from geo_township.webmap.model import MapLayer, MapModel

if TYPE_CHECKING:
    from geo_township.webmap.county_map import CountyMap

FORMATS = (".pdf", ".png")
"""What a printed map can be written as (by the file's suffix)."""
DPI_RANGE = (72, 1200)
RELIEF_PDF_DPI = 200
"""The relief's pixels per inch in a PDF (the features stay vectors at any zoom)."""


@dataclass(frozen=True)
class Page:
    """One printed page: the township (``village`` None) or one village, the extent shown
    (xmin, xmax, ymin, ymax in metres of the working CRS), the scale 1:``scale``, the map
    frame's size on paper (mm) and the scale bar's length (m)."""

    village: str | None
    extent: tuple[float, float, float, float]
    scale: int
    frame_mm: tuple[float, float]
    bar_m: float

    @property
    def width_m(self) -> float:
        return self.extent[1] - self.extent[0]

    @property
    def bar_mm(self) -> float:
        """The scale bar's length on paper: ``bar_m`` at 1:``scale``."""
        return self.bar_m / self.scale * 1000.0


@dataclass
class Sheet:
    """Everything the pages share: the township, its map model, the prepared layers, the
    relief, the font, the page's layout and its texts."""

    township: Township
    model: MapModel
    lang: str
    layout: pp.Layout
    layers: list[Prepared]
    villages: dict[str, object]
    relief: Relief | None
    font: FontChoice
    title: str
    subtitle: str
    date: dt.date
    sources: dict[str, str] = field(default_factory=dict)  # a drawn layer's key → its source as the notes name it
    legend: list[MapLayer] | None = None  # the legend's layers, when not the drawn ones (a county's, merged)

    @property
    def legend_layers(self) -> list[MapLayer]:
        """The layers the legend lists: ``legend``, else those drawn."""
        return self.legend if self.legend is not None else [p.layer for p in self.layers]

    @functools.cached_property
    def outline(self):
        """The township's outline (the union of its villages), or None without villages."""
        return shapely.union_all(list(self.villages.values())) if self.villages else None


def village_names(township: Township) -> list[str]:
    """The township's village names in the one listing order (by code when all have one)."""
    from geo_township.locate import village_order

    if "villages" not in township.config.layers:
        return []
    return village_order(township.gdf("villages"))


def check_village(township: Township, name: str) -> str:
    """``name`` when it is one of the township's villages; otherwise a usage error listing them."""
    names = village_names(township)
    if name in names:
        return name
    if not names:
        raise UsageError(f"there is no village {name!r}: the township has no villages layer",
                         hint="add [layers.villages] to township.toml, or leave out --village")
    close = difflib.get_close_matches(name, names, n=1)
    raise UsageError(f"no village called {name!r}" + (f" (did you mean {close[0]}?)" if close else ""),
                     hint=f"give one of the township's villages: {', '.join(names)}")


def check_request(path: str | Path | None, *, paper: str, orientation: str, dpi: int, village: str | None,
                  atlas: bool, lang: str) -> str:
    """Refuse a request that cannot be honoured before any work; the format (``pdf``/``png``)."""
    pp.page_size_mm(paper, orientation)
    if lang not in ("en", "zh"):
        raise UsageError(f"unknown language {lang!r}", hint="use en or zh")
    if not DPI_RANGE[0] <= dpi <= DPI_RANGE[1]:
        raise UsageError(f"a resolution of {dpi} dpi is out of range", hint=f"use {DPI_RANGE[0]}–{DPI_RANGE[1]}")
    fmt = "png" if path is None else Path(path).suffix.lower().lstrip(".")
    if f".{fmt}" not in FORMATS:
        suffix = Path(str(path)).suffix or "a file without a suffix"
        raise UsageError(f"a printed map is written as PDF or PNG, not {suffix}",
                         hint="name the file map.pdf or map.png")
    if atlas and fmt != "pdf":
        raise UsageError("an atlas has one page per village, so it is written as a PDF",
                         hint="name the file atlas.pdf")
    if atlas and village:
        raise UsageError("give either a village or the atlas of every village, not both",
                         hint="leave out --village to print every village, or --atlas to print one")
    if path is not None and not Path(path).parent.is_dir():
        raise UsageError(f"the folder {Path(path).parent} does not exist", hint="create it first or give another path")
    return fmt


def build_sheet(township: Township, *, lang: str, paper: str, orientation: str, model: MapModel | None,
                hillshade: bool | str) -> Sheet:
    """Choose the font (refused at once when Chinese text has none), build (or take) the
    interactive map's model, prepare its shown layers in the working CRS, read the relief,
    and check the font has every character the legend needs."""
    from geo_township.webmap.model import build_model

    villages = village_outlines(township)
    names = [township.config.display_name(lang), *villages, *fixed_texts(lang)]
    choose_font(names)  # before the slow part: no font, no work
    model = model if model is not None else build_model(township, lang=lang)
    layers = prepare(model, township.working_crs)
    today, title, subtitle, font = _titles(model, lang, names, [p.layer for p in layers])
    name = dem_name(township) if hillshade is True else (hillshade or None)
    relief = load_relief(township, name) if name else None
    specs = township.config.layers
    sources = {p.key: f"{p.layer.name} {specs[p.key].path.name}" for p in layers if p.key in specs}
    return Sheet(township, model, lang, pp.layout(paper, orientation), layers, villages, relief, font, title,
                 subtitle, today, sources)


def _titles(model: MapModel, lang: str, names: list[str], legend: list[MapLayer]
            ) -> tuple[dt.date, str, str, FontChoice]:
    """The page's date, title and subtitle, and the font that draws them, ``names`` and every
    row of the legend of ``legend``."""
    today = dt.date.today()
    title = word("title", lang, township=model.title)
    subtitle = "  ·  ".join(t for t in (model.subtitle, word("printed", lang, date=today.isoformat())) if t)
    font = choose_font([*names, title, subtitle, *[r.text for r in legend_rows(legend)]])
    return today, title, subtitle, font


def build_county_sheet(cmap: CountyMap, *, lang: str, paper: str, orientation: str) -> Sheet:
    """The sheet of a county's printed map: every township's layers as the county's page
    shows them at opening (:func:`~geo_township.webmap.county_map.build_county_model`),
    drawn in the first township's working CRS and framed on every township (its border, the
    union of its villages; without villages, the box of its layers), township names the
    only labels (village names would crowd a county), one legend for the townships' like
    layers (:func:`merged_legend`), the townships' folders as sources, no relief (each
    township has its own DEM)."""
    from geo_township.webmap.county_map import BORDER_KEY, SEPARATOR, build_county_model

    names = [cmap.county.name, *(part.name for part in cmap.parts), *fixed_texts(lang)]
    choose_font(names)  # before the slow part: no font, no work
    model = build_county_model(cmap, lang=lang)
    first = cmap.parts[0].township
    layers = prepare(model, first.working_crs)
    for prep in layers:
        if not prep.key.endswith(f".{BORDER_KEY}"):
            prep.labels = prep.label_xy = None
    outlines: dict[str, object] = {}  # each township's outline in the page's CRS: the page is framed on them all
    sources: dict[str, str] = {}
    for i, part in enumerate(cmap.parts):
        own = [p for p in layers if p.key.startswith(f"t{i}.")]
        if not own:
            continue
        border = next((p for p in own if p.key.endswith(f".{BORDER_KEY}")), None)
        outlines[part.name] = (shapely.union_all(border.geoms) if border is not None
                               else shapely.box(*_bounds_of(own)))  # no villages: the box of its layers
        sources[own[0].key] = f"{part.name} {part.township.config.root.name}/{part.township.config.path.name}"
    legend = merged_legend([p.layer for p in layers], SEPARATOR)
    today, title, subtitle, font = _titles(model, lang, names, legend)
    return Sheet(first, model, lang, pp.layout(paper, orientation), layers, outlines, None, font, title, subtitle,
                 today, sources, legend)


def merged_legend(layers: list[MapLayer], separator: str) -> list[MapLayer]:
    """One legend heading per kind of layer across townships ("东岭乡 · 森林小班" and
    "西河乡 · 森林小班" are 森林小班), its entries those of every township's layer of that kind,
    alike entries (same text and symbol) once with their counts added."""
    merged: dict[str, MapLayer] = {}
    for lay in layers:
        name = lay.name.split(separator, 1)[1] if separator in lay.name else lay.name
        held = merged.get(name)
        if held is None:
            merged[name] = replace(lay, name=name, legend=[replace(e) for e in lay.legend])
            continue
        for entry in lay.legend:
            same = next((e for e in held.legend if (e.label, e.color, e.symbol, e.dash) ==
                         (entry.label, entry.color, entry.symbol, entry.dash)), None)
            if same is None:
                held.legend.append(replace(entry))
            elif entry.count is not None:
                same.count = entry.count + (same.count or 0)
    return list(merged.values())


def _bounds_of(layers: list[Prepared]) -> tuple[float, float, float, float]:
    """The box of every feature of ``layers``."""
    b = np.vstack([p.bounds for p in layers])
    return (float(np.nanmin(b[:, 0])), float(np.nanmin(b[:, 1])), float(np.nanmax(b[:, 2])),
            float(np.nanmax(b[:, 3])))


def village_outlines(township: Township) -> dict[str, object]:
    """Each village's outline by name (the union of its features), in the working CRS."""
    if "villages" not in township.config.layers:
        return {}
    gdf = township.gdf("villages")
    named = gdf[gdf["village"].notna()]
    return {str(name): shapely.union_all(group.geometry.to_numpy())
            for name, group in named.groupby("village", sort=False)}


def fixed_texts(lang: str) -> list[str]:
    """Every fixed text a page may carry, with sample values, for the font check."""
    from geo_township.printmap.words import WORDS

    samples = {"township": "", "village": "", "date": "2000-01-01", "scale": "1:0", "files": "", "file": "",
               "res": "", "crs": "", "k": "1.0", "gamma": "0.0°", "version": "0"}
    return [word(key, lang, **samples) for key in WORDS]


def plan_page(sheet: Sheet, village: str | None) -> Page:
    """The page of the township (``village`` None) or of one village: its extent at a round
    scale that fits the map frame, and its scale bar."""
    frame = (sheet.layout.map.w, sheet.layout.map.h)
    if village is not None:
        box = shapely.bounds(sheet.villages[village])
    elif sheet.villages:
        box = shapely.bounds(sheet.outline)
    else:
        box = np.array(_bounds_of(sheet.layers))
    xmin, ymin, xmax, ymax = (float(v) for v in box)
    scale = pp.map_scale((xmax - xmin, ymax - ymin), frame, padding=0.04 if village is None else 0.07)
    extent = pp.map_extent(((xmin + xmax) / 2, (ymin + ymax) / 2), frame, scale)
    return Page(village, extent, scale, frame, pp.scale_bar_length(extent[1] - extent[0]))


def grid_figures(crs: CRS, extent: tuple[float, float, float, float]) -> tuple[float, float]:
    """The projection's scale factor and the grid convergence (degrees clockwise from the
    page's up to true north) at the centre of ``extent``."""
    x = (extent[0] + extent[1]) / 2
    y = (extent[2] + extent[3]) / 2
    lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    k = float(Proj(crs).get_factors(lon, lat).meridional_scale)
    to_grid = Transformer.from_crs(4326, crs, always_xy=True)
    x1, y1 = to_grid.transform(lon, lat + 0.01)
    x0, y0 = to_grid.transform(lon, lat)
    return k, math.degrees(math.atan2(x1 - x0, y1 - y0))


def notes(sheet: Sheet, page: Page) -> list[str]:
    """The notes under the map: sources, relief, projection and how it was made."""
    from geo_township import __version__

    lang, crs = sheet.lang, CRS(sheet.township.working_crs)
    k, gamma = grid_figures(crs, page.extent)
    files = [sheet.sources[prep.key] for prep in sheet.layers if prep.key in sheet.sources]
    lines = [word("sources", lang, files=joined(files, lang))]
    second = word("layers_note", lang)
    if page.village is not None:
        second += " " + word("atlas_note", lang)
    if sheet.relief is not None:
        res = f"{sheet.relief.res_m:g} m" if lang != "zh" else f"{sheet.relief.res_m:g} 米"
        second = word("hillshade", lang, file=sheet.relief.file, res=res) + " " + second
    name = f"EPSG:{crs.to_epsg()} {crs.name}" if crs.to_epsg() else crs.name
    lines += [second, word("projection", lang, crs=name, k=f"{k:.5f}", gamma=f"{gamma:+.2f}°"),
              word("made_with", lang, version=__version__)]
    return lines
