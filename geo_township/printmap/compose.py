"""One printed page as a matplotlib figure: the title band, the map (relief, layers,
village names, north arrow, scale bar), the legend and the notes, each in its frame of
:func:`geo_township.printmap.paper.layout`. No pyplot: figures are plain objects, so
printing works without a display and from any thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import PathPatch

from geo_township.printmap.draw import draw_focus, draw_labels, draw_layers, polygon_path
from geo_township.printmap.fonts import FontChoice
from geo_township.printmap.furniture import (
    INK,
    Measure,
    draw_legend,
    draw_north_arrow,
    draw_notes,
    draw_scale_bar,
    draw_title,
)
from geo_township.printmap.paper import MM_PER_INCH, PT_PER_INCH, Frame, scale_text
from geo_township.printmap.plan import Page, Sheet, grid_figures, notes
from geo_township.printmap.relief import Relief
from geo_township.printmap.words import word

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

RELIEF_INK = (0.16, 0.18, 0.22)
"""Shadows of the relief are this colour, more opaque the darker the slope."""
RELIEF_FLAT = 0.8
"""Hillshade values above this (lit slopes, flat land) leave the paper white."""
RELIEF_MAX_ALPHA = 0.5


def rc_params(font: FontChoice) -> dict[RcKeyType, Any]:
    """matplotlib settings of a printed page: its fonts, text as text (no mathtext), and
    fonts embedded as subsets."""
    return {"font.family": font.families, "text.parse_math": False, "pdf.fonttype": 3, "svg.fonttype": "path",
            "axes.unicode_minus": False, "path.simplify": True}


def measurer(fig: Figure, font: FontChoice) -> Measure:
    """``measure(text, size_pt, bold)``: a text's width in points, as it will be drawn."""
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg), "a page is drawn on an Agg canvas (see page_figure)"
    renderer = canvas.get_renderer()

    def measure(text: str, size: float, bold: bool) -> float:
        prop = FontProperties(family=font.families, size=size, weight="bold" if bold else "normal")
        width, _, _ = renderer.get_text_width_height_descent(text, prop, ismath=False)
        return width * PT_PER_INCH / fig.dpi

    return measure


def _axes_in_points(fig: Figure, frame: Frame, page_w: float, page_h: float):
    """Axes over ``frame`` whose data units are points from its bottom-left corner."""
    ax = fig.add_axes(frame.fraction(page_w, page_h))
    ax.set_xlim(0, frame.w / MM_PER_INCH * PT_PER_INCH)
    ax.set_ylim(0, frame.h / MM_PER_INCH * PT_PER_INCH)
    ax.set_axis_off()
    return ax


def draw_relief(ax, relief: Relief, page: Page, crs, ppi: float, clip=None) -> None:
    """The relief's shadows under the layers, at ``ppi`` pixels per inch of paper, within
    ``clip`` (the township's outline) when given."""
    cols = max(2, int(page.frame_mm[0] / MM_PER_INCH * ppi))
    rows = max(2, int(page.frame_mm[1] / MM_PER_INCH * ppi))
    shade = relief.on_grid(page.extent, (rows, cols), crs)
    alpha = np.clip((RELIEF_FLAT - np.nan_to_num(shade, nan=1.0)) / RELIEF_FLAT, 0, 1) * RELIEF_MAX_ALPHA
    rgba = np.zeros((rows, cols, 4))
    rgba[..., :3] = RELIEF_INK
    rgba[..., 3] = alpha
    image = ax.imshow(rgba, extent=page.extent, origin="upper", interpolation="none", zorder=0.5)
    if clip is not None and not clip.is_empty:
        image.set_clip_path(PathPatch(polygon_path(clip), transform=ax.transData))


def _map_axes(fig: Figure, sheet: Sheet, page: Page):
    """The map frame: axes in metres of the working CRS showing ``page.extent``, a metre as
    long across as up, a thin neat line around."""
    lay = sheet.layout
    ax = fig.add_axes(lay.map.fraction(lay.page_w, lay.page_h))
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.8)
        spine.set_color(INK)
    return ax


def _fix_extent(ax, page: Page) -> None:
    xmin, xmax, ymin, ymax = page.extent
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal", adjustable="box")


def draw_map(fig: Figure, sheet: Sheet, page: Page, *, relief_ppi: float) -> None:
    """The map frame of a page with everything in it."""
    ax = _map_axes(fig, sheet, page)
    crs = sheet.township.working_crs
    if sheet.relief is not None:
        draw_relief(ax, sheet.relief, page, crs, relief_ppi, clip=sheet.outline)
    _fix_extent(ax, page)
    focus = page.village
    draw_layers(ax, sheet.layers, page.extent, point_scale=1.0 if focus is None else 1.3)
    if focus is not None:
        draw_focus(ax, sheet.villages[focus], page.extent)
    draw_labels(ax, sheet.layers, size=8.5 if focus is None else 7.5, focus=focus)
    _, gamma = grid_figures(crs, page.extent)
    draw_north_arrow(ax, word("north", sheet.lang), convergence_deg=gamma)
    draw_scale_bar(ax, page.bar_m, word("scale", sheet.lang, scale=scale_text(page.scale)))
    _fix_extent(ax, page)


def page_figure(sheet: Sheet, page: Page, *, dpi: int, relief_ppi: float) -> Figure:
    """The figure of one page (call inside ``matplotlib.rc_context(rc_params(font))``)."""
    lay = sheet.layout
    fig = Figure(figsize=(lay.page_w / MM_PER_INCH, lay.page_h / MM_PER_INCH), dpi=dpi)
    FigureCanvasAgg(fig)
    measure = measurer(fig, sheet.font)
    title = sheet.title if page.village is None else word("village_title", sheet.lang, village=page.village,
                                                             township=sheet.model.title)
    title_ax = _axes_in_points(fig, lay.title, lay.page_w, lay.page_h)
    draw_title(title_ax, title, sheet.subtitle, measure)
    draw_map(fig, sheet, page, relief_ppi=relief_ppi)
    legend_ax = _axes_in_points(fig, lay.legend, lay.page_w, lay.page_h)
    draw_legend(legend_ax, sheet.legend_layers, word("legend", sheet.lang), measure)
    notes_ax = _axes_in_points(fig, lay.notes, lay.page_w, lay.page_h)
    draw_notes(notes_ax, notes(sheet, page), measure)
    return fig
