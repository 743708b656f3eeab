"""Bar charts for reports, as PNG (matplotlib, Agg), in a font that draws their text:
grouped bars (several series side by side), stacked bars and plain bars.

The report's charts (:mod:`geo_township.report.document`) pass their tables here, so that
matplotlib stays inside this package.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import pandas as pd

from geo_township.printmap.fonts import choose_font


def bar_chart_png(categories: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str,
                  stacked: bool = False, dpi: int = 150) -> bytes:
    """A bar chart as PNG bytes: one bar per category per series (side by side, or stacked
    with ``stacked``), a legend when there is more than one series. Text is drawn in a CJK
    font when any of it needs one (else a clear error on how to install one)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    texts = [title, *map(str, categories), *map(str, series)]
    font = font_manager.FontProperties(fname=str(choose_font(texts).path))
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=dpi)
    x = list(range(len(categories)))
    n = max(len(series), 1)
    bottom = pd.Series(0.0, index=x)
    width = 0.8 if stacked else 0.8 / n
    for k, (name, values) in enumerate(series.items()):
        heights = pd.Series(list(values), index=x, dtype=float)
        if stacked:
            ax.bar(x, heights, width=width, bottom=bottom, label=str(name))
            bottom += heights
        else:
            ax.bar([i - 0.4 + width * (k + 0.5) for i in x], heights, width=width, label=str(name))
    ax.set_xticks(x, [str(c) for c in categories])
    if all(float(v).is_integer() for values in series.values() for v in values):
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 2.5 sites
    ax.set_title(title, fontproperties=font)
    for label in ax.get_xticklabels() + ax.get_yticklabels():
        label.set_fontproperties(font)
    if len(series) > 1:
        ax.legend(prop=font)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
