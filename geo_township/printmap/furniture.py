"""What a printed map carries besides its features: the title, the legend, the north
arrow, the scale bar and the notes on sources and method.

The legend lists the layers the interactive map shows at opening with the page's own
entries (label, colour, symbol, count). It flows into as many columns as its frame needs
and shrinks its type, down to :data:`MIN_LEGEND_PT`, to fit.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Polygon, Rectangle

from geo_township.printmap.draw import MARKERS, OUTLINE_ONLY, PT_PER_PX
from geo_township.printmap.paper import bar_ticks, distance_text
from geo_township.webmap.model import LegendEntry, MapLayer

INK = "#1a1a1a"
LEGEND_PT = (7.5, 7.0, 6.5, 6.0, 5.5, 5.0)
"""Legend type sizes tried, largest first."""
MIN_LEGEND_PT = LEGEND_PT[-1]
SWATCH_EM = 2.2
"""Width of a legend swatch and its gap, in ems of the legend's type."""

Measure = Callable[[str, float, bool], float]
"""``measure(text, size_pt, bold) -> width in points``."""


@dataclass(frozen=True)
class Row:
    """A line of the legend: a layer's heading (``entry`` None) or one of its entries."""

    text: str
    layer: MapLayer
    entry: LegendEntry | None = None

    @property
    def heading(self) -> bool:
        return self.entry is None


def legend_rows(layers: list[MapLayer]) -> list[Row]:
    """Headings and entries of the layers, in the page's legend order, counts in brackets."""
    rows = []
    for lay in layers:
        rows.append(Row(lay.name, lay))
        for entry in lay.legend:
            count = f" ({entry.count:,})" if entry.count is not None else ""
            rows.append(Row(entry.label + count, lay, entry))
    return rows


def _row_height(row: Row, size: float) -> float:
    return size * (1.75 if row.heading else 1.42)


def flow(rows: list[Row], size: float, height: float) -> list[list[Row]]:
    """Rows in columns no taller than ``height`` (pt); a heading never ends a column."""
    columns: list[list[Row]] = [[]]
    used = 0.0
    for i, row in enumerate(rows):
        need = _row_height(row, size)
        if row.heading and i + 1 < len(rows):
            need += _row_height(rows[i + 1], size)
        if columns[-1] and used + need > height:
            columns.append([])
            used = 0.0
        columns[-1].append(row)
        used += _row_height(row, size)
    return columns


def _width(row: Row, size: float, measure: Measure) -> float:
    return measure(row.text, size, row.heading) + (0 if row.heading else SWATCH_EM * size)


def fit_legend(rows: list[Row], width: float, height: float, measure: Measure) -> tuple[float, list[list[Row]]]:
    """The largest type size of :data:`LEGEND_PT` at which the rows fit ``width`` × ``height``
    (pt), and the columns; at the smallest size, as many columns as needed. A few very long
    labels (the longest tenth) do not shrink the rest: they are shortened with an ellipsis."""
    columns: list[list[Row]] = []
    for size in LEGEND_PT:
        columns = flow(rows, size, height - size * 2.2)
        widths = sorted(_width(r, size, measure) for r in rows)
        typical = widths[int(0.9 * (len(widths) - 1))] if widths else 0.0
        if len(columns) * (typical + size * 1.5) <= width:
            return size, columns
    return MIN_LEGEND_PT, columns


def shortened(text: str, room: float, size: float, bold: bool, measure: Measure) -> str:
    """``text``, or its longest beginning that fits ``room`` points followed by an ellipsis."""
    if measure(text, size, bold) <= room:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid] + "…", size, bold) <= room:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…"


def _swatch(ax, row: Row, x: float, y: float, size: float) -> None:
    """A legend entry's swatch at (x, y) (left, middle), like the page's."""
    entry, lay = row.entry, row.layer
    assert entry is not None
    w, h = size * 1.6, size * 0.95
    color = entry.color
    if entry.symbol == "fill":
        face = "none" if lay.fill_opacity < OUTLINE_ONLY else to_rgba(color, max(lay.fill_opacity, 0.25))
        ax.add_patch(Rectangle((x, y - h / 2), w, h, facecolor=face, edgecolor=color,
                               linewidth=max(lay.weight * PT_PER_PX, 0.6)))
    elif entry.symbol == "line":
        width = max(lay.weight * PT_PER_PX * 1.2, 0.8)
        dashes = tuple(float(v) * 0.75 / width for v in entry.dash.split()) if entry.dash else None
        line = Line2D([x, x + w], [y, y], color=color, linewidth=width, solid_capstyle="butt")
        if dashes:
            line.set_linestyle((0, dashes))
        ax.add_line(line)
    else:
        marker = MARKERS.get(entry.symbol, "o")
        ax.plot([x + w / 2], [y], marker=marker, markersize=size * 0.8, color=color, markeredgecolor="white",
                markeredgewidth=0.3, linestyle="none")


def draw_legend(ax, layers: list[MapLayer], heading: str, measure: Measure) -> float:
    """The legend in ``ax`` (its data units are points from the frame's bottom-left);
    returns the type size used."""
    x1, y1 = ax.get_xlim()[1], ax.get_ylim()[1]
    rows = legend_rows(layers)
    size, columns = fit_legend(rows, x1, y1, measure)
    ax.text(0, y1, heading, ha="left", va="top", fontsize=size * 1.45, fontweight="bold", color=INK)
    col_w = x1 / max(len(columns), 1)
    for c, column in enumerate(columns):
        x, y = c * col_w, y1 - size * 2.2
        for row in column:
            h = _row_height(row, size)
            mid = y - h * (0.62 if row.heading else 0.5)
            if row.heading:
                text = shortened(row.text, col_w - size, size * 1.05, True, measure)
                ax.text(x, mid, text, ha="left", va="center", fontsize=size * 1.05, fontweight="bold", color=INK)
            else:
                _swatch(ax, row, x, mid, size)
                text = shortened(row.text, col_w - (SWATCH_EM + 1) * size, size, False, measure)
                ax.text(x + SWATCH_EM * size, mid, text, ha="left", va="center", fontsize=size, color=INK)
            y -= h
    return size


def draw_north_arrow(ax, label: str, *, convergence_deg: float, size_pt: float = 30.0) -> None:
    """A north arrow in the map's top-right corner pointing to true north: turned
    ``convergence_deg`` clockwise from the page's up (grid north); negative turns it
    anticlockwise, as east of a Gauss–Krüger zone's central meridian."""
    fig = ax.figure
    bbox = ax.get_window_extent().transformed(fig.dpi_scale_trans.inverted())  # inches
    h = size_pt / 72.0 / bbox.height
    w = h * bbox.height / bbox.width
    cx, cy = 1 - w * 1.6, 1 - h * 1.25
    theta = np.radians(convergence_deg)
    rot = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])

    def place(points):
        pts = np.asarray(points) @ rot.T
        return np.column_stack([cx + pts[:, 0] * w, cy + pts[:, 1] * h])

    tip, left, right, notch = (0, 0.5), (-0.32, -0.5), (0.32, -0.5), (0, -0.25)
    ax.add_patch(FancyBboxPatch((cx - w * 0.95, cy - h * 0.8), w * 1.9, h * 1.95,
                                boxstyle="round,pad=0,rounding_size=0.01",
                                transform=ax.transAxes, facecolor=(1, 1, 1, 0.85), edgecolor="none", zorder=9))
    ax.add_patch(Polygon(place([tip, left, notch]), closed=True, transform=ax.transAxes, facecolor="white",
                         edgecolor=INK, linewidth=0.7, zorder=10))
    ax.add_patch(Polygon(place([tip, notch, right]), closed=True, transform=ax.transAxes, facecolor=INK,
                         edgecolor=INK, linewidth=0.7, zorder=10))
    lx, ly = place([(0, 0.78)])[0]
    ax.text(lx, ly, label, transform=ax.transAxes, ha="center", va="center", fontsize=size_pt * 0.34,
            fontweight="bold", color=INK, zorder=10)


def draw_scale_bar(ax, length_m: float, caption: str) -> None:
    """A scale bar of ``length_m`` metres in the map's bottom-left corner, drawn in the
    map's own coordinates (metres of the working CRS), so its length is true: alternate
    black and white segments, labelled at the start, the end and (when it is a tick) the middle."""
    xmin, xmax = ax.get_xlim()
    ymin, ymax = ax.get_ylim()
    width, height = xmax - xmin, ymax - ymin
    x0, y0 = xmin + width * 0.035, ymin + height * 0.06
    bar_h = height * 0.011
    ticks = bar_ticks(length_m)
    ax.add_patch(FancyBboxPatch((x0 - width * 0.015, ymin + height * 0.018), length_m + width * 0.05,
                                height * 0.095, boxstyle="round,pad=0,rounding_size=0", facecolor=(1, 1, 1, 0.85),
                                edgecolor="none", zorder=9))
    for i, (a, b) in enumerate(itertools.pairwise(ticks)):
        ax.add_patch(Rectangle((x0 + a, y0), b - a, bar_h, facecolor=INK if i % 2 == 0 else "white",
                               edgecolor=INK, linewidth=0.5, zorder=10))
    labelled = {0: "0", len(ticks) - 1: distance_text(length_m)}
    if len(ticks) % 2:  # an even number of segments: the middle is a tick too
        labelled[len(ticks) // 2] = distance_text(ticks[len(ticks) // 2]).split()[0]
    for i, text in labelled.items():
        ax.text(x0 + ticks[i], y0 - bar_h * 0.6, text, ha="center", va="top", fontsize=6.5, color=INK, zorder=10)
    ax.text(x0, y0 + bar_h * 1.8, caption, ha="left", va="bottom", fontsize=7, color=INK, zorder=10)


def draw_title(ax, title: str, subtitle: str, measure: Measure) -> None:
    """The title, centred on the title band (smaller when a long name needs it), and under
    it the dates."""
    size, width = 17.0, ax.get_xlim()[1]
    while size > 9 and measure(title, size, True) > width:
        size -= 0.5
    ax.text(0.5, 0.98, shortened(title, width, size, True, measure), ha="center", va="top", fontsize=size,
            fontweight="bold", color=INK, transform=ax.transAxes)
    ax.text(0.5, 0.06, subtitle, ha="center", va="bottom", fontsize=8.5, color="#444444", transform=ax.transAxes)


def draw_notes(ax, lines: list[str], measure: Measure) -> None:
    """The notes, one line each, in the largest type (≤ 6.5 pt) at which the longest fits."""
    width = ax.get_xlim()[1]
    height = ax.get_ylim()[1]
    size = 6.5
    while size > 4.5 and max(measure(line, size, False) for line in lines) > width:
        size -= 0.25
    size = min(size, height / (len(lines) * 1.35))
    y = height
    for line in lines:
        ax.text(0, y, line, ha="left", va="top", fontsize=size, color="#333333")
        y -= size * 1.35
