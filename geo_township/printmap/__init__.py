"""The printed map: a static map of the township (or of one village, or an atlas of every
village) for printing and for reports, as PDF or PNG. The one package that imports
matplotlib; the command line imports it only when ``geo-township map --print`` runs, so
``--help`` stays fast.

It shows what the interactive map shows at opening — the same layers, colours, symbols,
legend entries and draw order, taken from :mod:`geo_township.webmap.model` — with a
title, the dates, village names, a legend, a north arrow, a scale bar, the notes on
sources and method, and the township DEM's hillshade as an offline background.

* Drawn in the township's working CRS (CGCS2000 Gauss–Krüger, metres), at a round scale
  1:N exact on the chosen paper; the scale bar is drawn in the map's own metres, so it is
  true in that projection (the notes give its scale factor at the map's centre, about
  1.00003 near the zone's central meridian, and the grid convergence the north arrow is
  turned by).
* Chinese text (village names are Chinese in the data either way) is drawn in a CJK font
  found on the machine (:mod:`.fonts`); with none, the request is refused with how to
  install one — never boxes.

Layout: :mod:`.paper` (paper sizes, frames, scale, scale bar — plain numbers),
:mod:`.fonts`, :mod:`.words`, :mod:`.relief` (the hillshade), :mod:`.draw` (the
layers), :mod:`.furniture` (title, legend, north arrow, scale bar, notes), :mod:`.plan`
(what each page shows), :mod:`.compose` (a page as a figure), :mod:`.output` (writing).
"""

from geo_township.printmap.fonts import FontChoice, choose_font, find_cjk_font, install_hint
from geo_township.printmap.output import PrintedMap, county_map_png, map_png, print_county_map, print_map
from geo_township.printmap.paper import (
    ORIENTATIONS,
    PAPERS,
    layout,
    map_scale,
    nice_scale,
    page_size_mm,
    page_size_pt,
    scale_bar_length,
)
from geo_township.printmap.plan import FORMATS, Page, check_request, check_village, village_names

__all__ = [
    "FORMATS", "ORIENTATIONS", "PAPERS", "FontChoice", "Page", "PrintedMap", "check_request", "check_village",
    "choose_font", "county_map_png", "find_cjk_font", "install_hint", "layout", "map_png", "map_scale", "nice_scale",
    "page_size_mm", "page_size_pt", "print_county_map", "print_map", "scale_bar_length", "village_names",
]
