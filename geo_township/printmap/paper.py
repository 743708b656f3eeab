"""Paper sizes, the page's frames (title, map, legend, notes), the map's scale and the
scale bar — plain numbers, no matplotlib, so the rules can be tested on their own.

Everything is drawn in the township's working CRS (CGCS2000 Gauss–Krüger, or UTM outside
China), whose unit is the metre. A representative fraction ``1:N`` then means one
millimetre on paper is ``N`` millimetres on the ground, and a scale bar of ``L`` metres is
``L / N`` metres long on paper — true to within the projection's scale factor (about
1.00003 near a GK zone's central meridian; the page's note states it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from geo_township.errors import UsageError

MM_PER_INCH = 25.4
PT_PER_INCH = 72.0

PAPERS: dict[str, tuple[float, float]] = {
    "A4": (210.0, 297.0),
    "A3": (297.0, 420.0),
    "A2": (420.0, 594.0),
}
"""ISO paper sizes (short side, long side) in millimetres."""

ORIENTATIONS = ("landscape", "portrait")

NICE_SCALE_STEPS = (1.0, 1.2, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 7.5, 8.0, 9.0)
"""Mantissas of the round scales a map is printed at (1:10 000, 1:12 000, 1:12 500 …):
close enough together that the township fills most of its frame."""

BAR_STEPS = (1.0, 2.0, 5.0)
"""Mantissas of scale bar lengths (100 m, 200 m, 500 m, 1 km …)."""

BAR_SHARE = 0.25
"""A scale bar is at most this share of the map's width (and, by the 1-2-5 steps, more
than a tenth of it)."""

MARGIN_MM = 9.0
"""White border around everything printed (most office printers cannot print closer)."""


def page_size_mm(paper: str = "A4", orientation: str = "landscape") -> tuple[float, float]:
    """Width and height of the page in millimetres."""
    if paper not in PAPERS:
        raise UsageError(f"unknown paper size {paper!r}", hint=f"use one of {', '.join(PAPERS)}")
    if orientation not in ORIENTATIONS:
        raise UsageError(f"unknown orientation {orientation!r}", hint="use landscape or portrait")
    short, long = PAPERS[paper]
    return (long, short) if orientation == "landscape" else (short, long)


def page_size_pt(paper: str = "A4", orientation: str = "landscape") -> tuple[float, float]:
    """Width and height of the page in PostScript points (A4 landscape: 841.9 × 595.3)."""
    w, h = page_size_mm(paper, orientation)
    return w / MM_PER_INCH * PT_PER_INCH, h / MM_PER_INCH * PT_PER_INCH


@dataclass(frozen=True)
class Frame:
    """A rectangle on the page in millimetres from the bottom-left corner."""

    x: float
    y: float
    w: float
    h: float

    def fraction(self, page_w: float, page_h: float) -> tuple[float, float, float, float]:
        """``(left, bottom, width, height)`` as fractions of the page (matplotlib's axes rectangle)."""
        return self.x / page_w, self.y / page_h, self.w / page_w, self.h / page_h


@dataclass(frozen=True)
class Layout:
    """Where the title, the map, the legend and the notes go on a page."""

    page_w: float
    page_h: float
    title: Frame
    map: Frame
    legend: Frame
    notes: Frame


def layout(paper: str = "A4", orientation: str = "landscape") -> Layout:
    """The page's frames: a title band on top and a notes band at the bottom, both across
    the page; between them the map with the legend on its right (landscape) or below it
    (portrait). Sizes grow with the paper, so an A3 page is an enlarged A4 one."""
    w, h = page_size_mm(paper, orientation)
    k = w / 297.0 if orientation == "landscape" else w / 210.0
    m = MARGIN_MM * k
    title_h, notes_h, gap = 15.0 * k, 12.0 * k, 4.0 * k
    title = Frame(m, h - m - title_h, w - 2 * m, title_h)
    notes = Frame(m, m, w - 2 * m, notes_h)
    body_y, body_h = m + notes_h + gap, h - 2 * m - title_h - notes_h - 2 * gap
    if orientation == "landscape":
        legend_w = 62.0 * k
        body = Frame(m, body_y, w - 2 * m - legend_w - gap, body_h)
        legend = Frame(body.x + body.w + gap, body_y, legend_w, body_h)
    else:
        legend_h = 62.0 * k
        legend = Frame(m, body_y, w - 2 * m, legend_h)
        body = Frame(m, body_y + legend_h + gap, w - 2 * m, body_h - legend_h - gap)
    return Layout(w, h, title, body, legend, notes)


def nice_scale(minimum: float) -> int:
    """The smallest round scale denominator (:data:`NICE_SCALE_STEPS` × 10ⁿ) not below
    ``minimum``: the map is printed at 1:that, so the stated scale is exact."""
    if not math.isfinite(minimum) or minimum <= 0:
        raise ValueError(f"a scale needs a positive denominator, not {minimum!r}")
    power = 10.0 ** math.floor(math.log10(minimum))
    for step in (*NICE_SCALE_STEPS, 10.0):
        if step * power >= minimum * (1 - 1e-12):
            return round(step * power)
    raise AssertionError("unreachable")  # pragma: no cover


def map_scale(extent_m: tuple[float, float], frame_mm: tuple[float, float], *, padding: float = 0.04) -> int:
    """The round scale denominator at which an extent (width, height in metres) fits a map
    frame (width, height in millimetres) with ``padding`` (share of the frame) on each side."""
    width_m, height_m = (max(v, 1.0) for v in extent_m)
    usable_w = frame_mm[0] * (1 - 2 * padding) / 1000.0
    usable_h = frame_mm[1] * (1 - 2 * padding) / 1000.0
    return nice_scale(max(width_m / usable_w, height_m / usable_h))


def map_extent(centre: tuple[float, float], frame_mm: tuple[float, float], scale: int
               ) -> tuple[float, float, float, float]:
    """``(xmin, xmax, ymin, ymax)`` in metres of a frame of ``frame_mm`` printed at 1:``scale``
    around ``centre`` — the frame's aspect, so a metre is as long across as up."""
    half_w = frame_mm[0] / 1000.0 * scale / 2.0
    half_h = frame_mm[1] / 1000.0 * scale / 2.0
    return centre[0] - half_w, centre[0] + half_w, centre[1] - half_h, centre[1] + half_h


def scale_bar_length(map_width_m: float, *, share: float = BAR_SHARE) -> float:
    """The scale bar's length in metres for a map ``map_width_m`` wide: the longest round
    length (1, 2 or 5 × 10ⁿ m) not over ``share`` of the width — so always more than
    ``share / 2.5`` of it."""
    if not math.isfinite(map_width_m) or map_width_m <= 0:
        raise ValueError(f"a map width must be positive, not {map_width_m!r}")
    limit = map_width_m * share
    power = 10.0 ** math.floor(math.log10(limit))
    best = power
    for step in BAR_STEPS:
        if step * power <= limit * (1 + 1e-12):
            best = step * power
    return best


def bar_ticks(length_m: float) -> list[float]:
    """Where the scale bar's segments end (m): five for 1 and 5 × 10ⁿ, four for 2 × 10ⁿ."""
    mantissa = length_m / 10.0 ** math.floor(math.log10(length_m))
    parts = 4 if round(mantissa) == 2 else 5
    return [length_m * i / parts for i in range(parts + 1)]


def distance_text(metres: float) -> str:
    """``500 m``, ``1 km``, ``2.5 km``: a scale-bar label."""
    if metres >= 1000:
        return f"{metres / 1000:g} km"
    return f"{metres:g} m"


def scale_text(scale: int) -> str:
    """``1:60 000`` with a space between thousands (as printed maps write it)."""
    return "1:" + f"{scale:,}".replace(",", " ")
