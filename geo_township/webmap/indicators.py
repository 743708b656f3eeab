"""Per-village indicators for the choropleth (``--indicator``) and the map's key
statistics, as a registry of data.

Where a feature belongs, by the township's one rule in each case, so the map, its key
statistics and the tables show the same numbers:

* **Trees** are read from the per-village table of `geo-township trees`: the table of the
  trees Result the map was drawn from (``tree_counts(township)``, run once by
  :func:`geo_township.webmap.registry.map_results`), else
  :func:`geo_township.trees.village_tree_counts` (the same table): every record as of the
  data date, so *found* = every tree; *standing*
  (outstanding) = suspected or confirmed; *felled* = felled, cleared or verified;
  *cleared* = cleared or verified; and the cohort clearance rate. A tree's village is its
  record's, else its location's, with its plot's village on a village border.
* **Other features** (plots, transfers, sand sites) belong to the village their record
  names, else the village polygon that covers a point inside them
  (:mod:`geo_township.locate`, shared edges by the village order).

Features in no village form an "(outside)" group, never dropped. Areas are ellipsoidal (or
planar, per ``area_method``) in mu.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from geo_township.errors import UsageError
from geo_township.vocabulary import PINE_SPECIES

if TYPE_CHECKING:  # imported in the functions, so the command line's --help stays fast
    import geopandas as gpd
    import pandas as pd

    from geo_township.layers import Township
    from geo_township.results import Result

OUTSIDE = "(outside)"  # geo_township.results.OUTSIDE_LABEL["en"]
TOTAL = "Total"  # geo_township.kinds.TOTAL_LABEL["en"]


def village_of(gdf: gpd.GeoDataFrame, villages: gpd.GeoDataFrame | None) -> pd.Series:
    """The village each feature belongs to by :mod:`geo_township.locate` (its ``village``
    field, else the village covering a point inside it), as text; ``"(outside)"`` for a
    feature in none. Both layers must be in the same CRS (a township's layers are)."""
    import pandas as pd

    from geo_township.locate import blank_to_none, fill_villages

    recorded = (gdf["village"].to_numpy(dtype=object) if "village" in gdf.columns
                else np.full(len(gdf), None, dtype=object))
    values, _ = fill_villages(recorded, gdf.geometry.to_numpy(), villages)
    named = blank_to_none(pd.Series(values, index=gdf.index, dtype=object))
    return named.where(named.notna(), OUTSIDE).astype(str)


TREES = "trees"
"""The name of the trees Result (``tree_counts(township)``) among the map's Results."""


def tree_rows(township: Township, trees: Result | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """The per-village table of `geo-township trees` (``tree_counts(township).table``, or
    the table of ``trees`` when given): its village rows indexed by village, and its Total
    row. Every tree indicator and the key statistics' tree columns come from it."""
    if trees is None:
        from geo_township.trees import village_tree_counts

        table = village_tree_counts(township)
    elif "village" not in trees.table.columns or "plot_id" in trees.table.columns:
        raise UsageError("the map's tree numbers come from the trees per village",
                         hint="pass tree_counts(township) (by village) as the trees Result")
    else:
        table = trees.table
    is_total = (table["village"] == TOTAL).to_numpy()
    return table[~is_total].set_index("village"), table[is_total].iloc[0]


def _tree_column(column: str) -> Callable[[Township], pd.Series]:
    return lambda township: tree_rows(township)[0][column].astype(float)


def _group_count(township: Township, kind: str, mask: Callable[[gpd.GeoDataFrame], np.ndarray] | None = None
                 ) -> pd.Series:
    import pandas as pd

    gdf = township.gdf(kind)
    keys = village_of(gdf, township.optional("villages"))
    sel = np.ones(len(gdf), dtype=bool) if mask is None else mask(gdf)
    return pd.Series(sel.astype(int), index=gdf.index).groupby(keys.to_numpy()).sum().astype(float)


def _group_area(township: Township, kind: str, mask: Callable[[gpd.GeoDataFrame], np.ndarray] | None = None
                ) -> pd.Series:
    import pandas as pd

    from geo_township.measure import area

    gdf = township.gdf(kind)
    keys = village_of(gdf, township.optional("villages"))
    mu = area(gdf.geometry, unit="mu", method=township.config.parameters.get("area_method", "ellipsoidal"))
    if mask is not None:
        mu = np.where(mask(gdf), mu, 0.0)
    return pd.Series(mu, index=gdf.index).groupby(keys.to_numpy()).sum()


def _status_in(codes: tuple[str, ...]) -> Callable[[gpd.GeoDataFrame], np.ndarray]:
    return lambda gdf: gdf["status"].isin(codes).to_numpy()


def _pine(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return gdf["species"].isin(PINE_SPECIES).to_numpy() if "species" in gdf.columns else np.zeros(len(gdf), bool)


@dataclass(frozen=True)
class Indicator:
    """A number per village: what it is, its unit, the layer it needs, how to compute it,
    and whether more is worse (red ramp) or better (green ramp)."""

    key: str
    en: str
    zh: str
    unit_en: str
    unit_zh: str
    layer: str
    compute: Callable[[Township], pd.Series]
    decimals: int = 0
    ramp: str = "reds"
    tree_column: str | None = None
    """The column of `geo-township trees`' per-village table it is (None: not a tree count)."""

    def name(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en

    def unit(self, lang: str = "en") -> str:
        return self.unit_zh if lang == "zh" else self.unit_en


INDICATORS: dict[str, Indicator] = {
    i.key: i
    for i in (
        Indicator("standing", "Outstanding infected trees", "未除治疫木", "trees", "株", "infected_trees",
                  _tree_column("standing"), tree_column="standing"),
        Indicator("found", "Infected trees found", "发现疫木", "trees", "株", "infected_trees",
                  _tree_column("found"), tree_column="found"),
        Indicator("felled", "Infected trees felled", "已伐疫木", "trees", "株", "infected_trees",
                  _tree_column("felled"), ramp="greens", tree_column="felled"),
        Indicator("cleared", "Infected trees cleared", "已清理疫木", "trees", "株", "infected_trees",
                  _tree_column("cleared"), ramp="greens", tree_column="cleared"),
        Indicator("clearance_pct", "Clearance rate", "除治率", "%", "%", "infected_trees",
                  _tree_column("clearance_pct"), decimals=1, ramp="greens", tree_column="clearance_pct"),
        Indicator("forest_mu", "Forest area", "林地面积", "mu", "亩", "forest_plots",
                  lambda t: _group_area(t, "forest_plots"), decimals=2, ramp="greens"),
        Indicator("pine_mu", "Pine forest area", "松林面积", "mu", "亩", "forest_plots",
                  lambda t: _group_area(t, "forest_plots", _pine), decimals=2, ramp="oranges"),
        Indicator("transferred_mu", "Land transferred", "土地流转面积", "mu", "亩", "land_transfers",
                  lambda t: _group_area(t, "land_transfers"), decimals=2, ramp="blues"),
        Indicator("sites_illegal", "Illegal sand-mining sites", "非法采砂点", "sites", "处", "sand_sites",
                  lambda t: _group_count(t, "sand_sites", _status_in(("illegal",)))),
    )
}
"""Indicators by key (the ``--indicator`` choices and the summary's columns)."""

RAMPS: dict[str, tuple[str, ...]] = {
    "reds": ("#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#f16913", "#d94801", "#8c2d04"),
    "greens": ("#f7fcf5", "#d9f0d3", "#addd8e", "#78c679", "#41ab5d", "#238443", "#005a32"),
    "oranges": ("#fff7ec", "#fee8c8", "#fdd49e", "#fdbb84", "#fc8d59", "#e34a33", "#b30000"),
    "blues": ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"),
}
"""Sequential colour ramps (light → dark), sampled evenly for the number of classes."""


def indicator(key: str) -> Indicator:
    """The indicator called ``key``; an unknown key lists the valid ones."""
    try:
        return INDICATORS[key]
    except KeyError:
        raise UsageError(f"unknown indicator {key!r}", hint="use one of: " + ", ".join(INDICATORS)) from None


def require_indicator(township: Township, key: str) -> Indicator:
    """The indicator ``key``, refused when the township lacks a villages layer or the
    layer the indicator counts."""
    ind = indicator(key)
    if not township.has("villages"):
        raise UsageError("a per-village indicator needs a villages layer",
                         hint="add [layers.villages] to township.toml")
    if not township.has(ind.layer):
        raise UsageError(f"indicator {key!r} needs the {ind.layer} layer, which the township does not have",
                         hint=f"add [layers.{ind.layer}] to township.toml or choose another indicator")
    return ind


def per_village(township: Township, key: str, *, trees: Result | None = None) -> pd.Series:
    """The indicator for every village of the villages layer (0 where nothing counts; NaN
    where a rate has no denominator), in the villages layer's order. Tree indicators read
    the trees Result ``trees`` when given (see :func:`tree_rows`)."""
    ind = require_indicator(township, key)
    import pandas as pd

    names = township.gdf("villages")["village"].astype(str).to_numpy()
    series = (tree_rows(township, trees)[0][ind.tree_column].astype(float) if ind.tree_column
              else ind.compute(township))
    values = pd.Series(series.reindex(names).to_numpy(), index=names)
    return values if key == "clearance_pct" else values.fillna(0.0)


@dataclass(frozen=True)
class Classes:
    """A classification of values: upper bounds of each class, its colour, its label."""

    bins: tuple[float, ...]
    colors: tuple[str, ...]
    labels: tuple[str, ...]
    scheme: str

    def classify(self, values: np.ndarray) -> np.ndarray:
        """Class index of each value (-1 for missing)."""
        v = np.asarray(values, dtype="float64")
        idx = np.searchsorted(np.asarray(self.bins), v, side="left")
        idx = np.minimum(idx, len(self.bins) - 1)
        return np.where(np.isfinite(v), idx, -1)


SCHEMES = {"fisher_jenks": "FisherJenks", "quantiles": "Quantiles", "equal_interval": "EqualInterval",
           "natural_breaks": "NaturalBreaks"}
"""Classification schemes offered (mapclassify classes)."""
SCHEME_NAMES = {"fisher_jenks": ("natural breaks (Fisher–Jenks)", "自然断点(Fisher-Jenks)"),
                "quantiles": ("quantiles", "分位数"), "equal_interval": ("equal intervals", "等间距"),
                "natural_breaks": ("natural breaks (k-means)", "自然断点(k均值)")}


def _fmt(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def classify(values: pd.Series | np.ndarray, *, scheme: str = "fisher_jenks", k: int = 5, decimals: int = 0,
             ramp: str = "reds") -> Classes:
    """Classify ``values`` with mapclassify into at most ``k`` classes (fewer when there
    are fewer distinct values), coloured from ``ramp``.

    Labels read ``a – b`` with the indicator's decimals; the first class starts at the
    minimum.
    """
    import mapclassify

    if scheme not in SCHEMES:
        raise UsageError(f"unknown classification {scheme!r}", hint="use one of: " + ", ".join(SCHEMES))
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return Classes((0.0,), (RAMPS[ramp][3],), ("–",), scheme)
    distinct = np.unique(v)
    k = max(1, min(int(k), len(distinct)))
    if k == 1:
        bins = np.array([distinct[-1]])
    elif k == len(distinct):
        bins = distinct
    else:
        with warnings.catch_warnings():  # mapclassify lowers k itself when values repeat; so do we
            warnings.simplefilter("ignore", UserWarning)
            bins = np.asarray(getattr(mapclassify, SCHEMES[scheme])(v, k=k).bins, dtype="float64")
        bins = np.unique(bins)
    ramp_colors = RAMPS[ramp]
    picks = np.round(np.linspace(1, len(ramp_colors) - 1, len(bins))).astype(int) if len(bins) > 1 else [4]
    labels = []
    lower = float(v.min())
    one_per_value = len(bins) == len(distinct)
    for upper in bins:
        # integer indicators: a class holds the whole numbers in (previous bound, bound]
        upper = float(np.floor(upper)) if decimals == 0 else float(upper)
        labels.append(_fmt(upper, decimals) if one_per_value or np.isclose(lower, upper)
                      else f"{_fmt(lower, decimals)} – {_fmt(upper, decimals)}")
        # the next class starts above this one's upper bound (inclusive upper bounds)
        lower = np.floor(upper) + 1 if decimals == 0 else upper
    return Classes(tuple(float(b) for b in bins), tuple(ramp_colors[i] for i in picks), tuple(labels), scheme)
