"""Forest plots seen from the pine-wilt trees: the plot table (id, village, area, pine),
infected sub-compartments (疫情小班) and the pine area at risk per village, and the rows of
the per-plot ledger (台账)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.engine import LOCAL, Engine
from geo_township.layers import Township
from geo_township.locate import blank_to_none, match_place_names, village_by_location
from geo_township.tree_places import OUTSIDE, TOTAL, village_listing
from geo_township.vocabulary import PINE_SPECIES


def plot_villages(plots: gpd.GeoDataFrame, villages: gpd.GeoDataFrame | None) -> pd.Series:
    """Each plot's village: the village it lies in (the location decides, as for trees),
    else the name its record gives (matched to the villages layer's spelling), else None."""
    record = (pd.Series(plots["village"].to_numpy(dtype=object), index=plots.index, dtype=object)
              if "village" in plots.columns else pd.Series(None, index=plots.index, dtype=object))
    if villages is None or "village" not in villages.columns:
        return blank_to_none(record)
    record = match_place_names(record, villages["village"]).values
    located = pd.Series(village_by_location(plots.geometry.to_numpy(), villages), index=plots.index, dtype=object)
    return located.where(located.notna(), record)


def plot_table(township: Township, *, engine: Engine = LOCAL) -> pd.DataFrame | None:
    """Forest plots: plot_id, village (:func:`plot_villages`), area_mu (measured on
    ``engine``), pine (bool) and
    geometry (working CRS)."""
    plots = township.optional("forest_plots")
    if plots is None:
        return None
    method = township.config.parameters["area_method"]
    out = gpd.GeoDataFrame({
        "plot_id": (plots["plot_id"].astype(object).where(plots["plot_id"].notna(), None)
                    if "plot_id" in plots.columns else pd.Series(None, index=plots.index, dtype=object)),
        "village": plot_villages(plots, township.optional("villages")),
        "area_mu": engine.area(plots.geometry, unit="mu", method=method),
        "pine": plots["species"].isin(PINE_SPECIES).to_numpy() if "species" in plots.columns else False,
    }, geometry=plots.geometry.to_numpy(), crs=plots.crs)
    return out


def pine_at_risk(plots: gpd.GeoDataFrame, points: np.ndarray, radius: float,
                  known: np.ndarray | None = None) -> np.ndarray:
    """Per plot: a pine plot within ``radius`` metres of one of ``points`` (``known``: plots
    already known to be at risk, not searched again).

    Each pine plot asks for its one nearest point within the radius, rather than for every
    point within it: near an outbreak a plot has thousands, and one answers the question.
    """
    at_risk = np.zeros(len(plots), dtype=bool)
    pine = plots["pine"].to_numpy(dtype=bool)
    if known is not None:
        at_risk |= pine & known
        pine = pine & ~known
    if len(points) and pine.any():
        tree = shapely.STRtree(points)
        pine_idx = np.flatnonzero(pine)
        polygons = plots.geometry.to_numpy()[pine_idx]
        if radius > 0:
            # a little beyond the radius, then the exact test on the one nearest point found
            poly_idx, point_idx = tree.query_nearest(polygons, max_distance=radius * (1 + 1e-9) + 1e-9,
                                                     all_matches=False)
            near = shapely.dwithin(polygons[poly_idx], points[point_idx], radius)
            poly_idx = poly_idx[near]
        else:
            poly_idx, _ = tree.query(polygons, predicate="dwithin", distance=radius)
        at_risk[pine_idx[np.unique(poly_idx)]] = True
    return at_risk


INFECTED_COLUMNS = ["village", "infected_plots", "infected_mu", "infected_pine_mu", "pine_at_risk_mu"]


def infected_plots(township: Township, trees: gpd.GeoDataFrame, infected: np.ndarray,
                   plots: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Infected sub-compartments (疫情小班) per village: plots with at least one tree marked
    in ``infected``, their number and area (mu), their pine area, and the pine area at risk
    (pine plots within ``risk_radius_m`` of an infected tree, the infected ones included)."""
    plots = plot_table(township) if plots is None else plots
    if plots is None:
        return pd.DataFrame(columns=INFECTED_COLUMNS)
    hit = infected_plot_ids(trees["plot_id"], infected)
    is_infected = plots_hit(plots, hit)
    at_risk = pine_at_risk(plots, trees.geometry.to_numpy()[infected], float(township.config.parameters[
        "risk_radius_m"]), known=is_infected)
    return infected_table(township, plots, is_infected, at_risk)


def infected_plot_ids(plot_ids: pd.Series, infected: np.ndarray) -> np.ndarray:
    """The distinct plot ids (text) of the trees marked in ``infected``."""
    return distinct_text(plot_ids.to_numpy(dtype=object)[infected])


def distinct_text(values: np.ndarray) -> np.ndarray:
    """The distinct values, missing ones left out, as text (as :func:`plots_hit` compares them)."""
    once = pd.Series(pd.unique(np.asarray(values, dtype=object)), dtype=object).dropna()
    return np.asarray(pd.unique(once.astype(str).to_numpy(dtype=object)), dtype=object)


def plots_hit(plots: gpd.GeoDataFrame, hit_ids: np.ndarray) -> np.ndarray:
    """Per plot: its id is one of ``hit_ids``."""
    plot_ids = pd.Series(plots["plot_id"].astype(str).to_numpy(dtype=object), dtype=object)
    return plot_ids.isin(hit_ids).to_numpy()  # object dtype: one hash table, not a loop


def infected_table(township: Township, plots: gpd.GeoDataFrame, is_infected: np.ndarray, at_risk: np.ndarray
                   ) -> pd.DataFrame:
    """The table of :func:`infected_plots` from which plots are infected and which pine
    plots are at risk (both per plot of ``plots``)."""
    columns = INFECTED_COLUMNS
    pine = plots["pine"].to_numpy(dtype=bool)
    at_risk = at_risk | (pine & is_infected)
    frame = pd.DataFrame({
        "village": plots["village"].astype(object).where(plots["village"].notna(), OUTSIDE),
        "infected_plots": is_infected.astype(int),
        "infected_mu": np.where(is_infected, plots["area_mu"], 0.0),
        "infected_pine_mu": np.where(is_infected & pine, plots["area_mu"], 0.0),
        "pine_at_risk_mu": np.where(at_risk, plots["area_mu"], 0.0),
    })
    table = frame.groupby("village", sort=False)[columns[1:]].sum().reset_index()
    order = village_listing(township, table["village"])
    table = table.set_index("village").reindex(order, fill_value=0).reset_index()
    total = pd.DataFrame([{"village": TOTAL, **{c: frame[c].sum() for c in columns[1:]}}])
    table = pd.concat([table, total], ignore_index=True)
    table["infected_plots"] = table["infected_plots"].astype(int)
    return table[columns]


def _most_common_village(plot_ids: np.ndarray, villages: pd.Series, weights: np.ndarray | None = None
                         ) -> pd.Series:
    """Per plot_id, the village most of its trees name (the first in text order on a tie;
    plots whose trees name none are left out) — what ``Series.mode().iloc[0]`` gives per
    group, in one pass. ``weights``: how many trees each row stands for (default 1)."""
    frame = pd.DataFrame({"plot_id": plot_ids, "village": villages.to_numpy(),
                          "n": np.ones(len(plot_ids), dtype="int64") if weights is None else weights})
    groups = frame["plot_id"].drop_duplicates().tolist()
    named = frame.dropna(subset=["village"])
    pairs = named.groupby(["plot_id", "village"], sort=True)["n"].sum().reset_index(name="n")
    pairs = pairs.sort_values(["plot_id", "n", "village"], ascending=[True, False, True], kind="stable")
    best = dict(zip(*(pairs.drop_duplicates("plot_id")[c].tolist() for c in ("plot_id", "village")), strict=True))
    # built like a groupby-aggregate result, so a plot whose trees name no village reads the same
    return pd.Series([best.get(p) for p in groups], index=groups, dtype=None if groups else object)


def _plot_facts(plots: gpd.GeoDataFrame | None, plot_ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per plot id: its village in the plots layer (None when the layer has no such plot)
    and its pine area in mu (NaN likewise); a plot_id listed twice reads as its last."""
    village = np.full(len(plot_ids), None, dtype=object)
    pine_mu = np.full(len(plot_ids), np.nan)
    if plots is None:
        return village, pine_mu
    ids = plots["plot_id"].astype(str)
    last = ~ids.duplicated(keep="last").to_numpy()
    pos = pd.Index(ids.to_numpy()[last]).get_indexer(plot_ids)
    known = pos >= 0
    village[known] = plots["village"].to_numpy(dtype=object)[last][pos[known]]
    pine_mu[known] = np.where(plots["pine"], plots["area_mu"], 0.0)[last][pos[known]]
    return village, pine_mu


def first_and_last(codes: np.ndarray, groups: int, flags: pd.DataFrame, dates: dict[str, pd.Series]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per group (``codes``: each tree's group, 0 … ``groups`` - 1): the first find and the
    last clearing counted in the period (NaT when none), as ``datetime64[ns]``."""
    nat, top = np.iinfo("int64").min, np.iinfo("int64").max  # NaT is the least int64
    found = dates["found"].where(flags["found"].to_numpy() > 0).to_numpy("datetime64[ns]").view("int64")
    first = np.full(groups, top)
    np.minimum.at(first, codes, np.where(found == nat, top, found))
    cleared = dates["cleared"].where(flags["cleared"].to_numpy() > 0).to_numpy("datetime64[ns]").view("int64")
    last = np.full(groups, nat)
    np.maximum.at(last, codes, cleared)
    return np.where(first == top, nat, first).view("datetime64[ns]"), last.view("datetime64[ns]")


def _first_last(factorized: tuple[np.ndarray, np.ndarray], flags: pd.DataFrame, dates: dict[str, pd.Series],
                plot_ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per plot id: the first find and the last clearing counted in the period (NaT when
    none); ``factorized``: ``pd.factorize`` of each tree's plot key."""
    codes, uniques = factorized
    row = pd.Index(uniques).get_indexer(plot_ids)
    first, last = first_and_last(codes, len(uniques), flags, dates)
    return first[row], last[row]


TREES_PER_ROW = "trees_per_row"
"""A column of ``trees`` saying how many trees a row stands for (a streamed tally's rows
are one per plot and village, :mod:`geo_township.tree_stream`); 1 when absent."""


def ledger_rows(counts: pd.DataFrame, trees: gpd.GeoDataFrame, keys: pd.Series, flags: pd.DataFrame,
                dates: dict[str, pd.Series], plots: gpd.GeoDataFrame | None, villages: list[str],
                factorized: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """Ledger rows (one per plot in ``counts``, indexed by plot key), with the plot's
    village (from the plots layer, else the one most of its trees name), pine area, first
    find and last clearing; ordered by village (``villages``) then plot_id, the trees
    outside every plot last. ``factorized``: ``pd.factorize(keys)`` when known."""
    table = counts.reset_index().rename(columns={"_key": "plot_id"})
    factorized = factorized if factorized is not None else pd.factorize(keys)
    table["first_found"], table["last_cleared"] = _first_last(factorized, flags, dates, table["plot_id"])
    plot_village, pine_mu = _plot_facts(plots, table["plot_id"])
    ids = table["plot_id"].tolist()
    # the village most of a plot's trees name: only for plots the plots layer gives none
    unnamed = [p for p, v in zip(ids, plot_village, strict=True) if v is None and p != OUTSIDE]
    mine = keys.isin(unnamed).to_numpy() if unnamed else np.zeros(len(keys), dtype=bool)
    weights = trees[TREES_PER_ROW].to_numpy()[mine] if TREES_PER_ROW in trees.columns else None
    by_trees = _most_common_village(keys.to_numpy()[mine], trees["village"][mine], weights)
    tree_village = dict(zip(by_trees.index.tolist(), by_trees.tolist(), strict=True))
    table["village"] = [v if v is not None else tree_village.get(p) for p, v in zip(ids, plot_village, strict=True)]
    table["pine_mu"] = pine_mu
    outside = table["plot_id"] == OUTSIDE
    table.loc[outside, "village"] = OUTSIDE
    table.loc[outside, "plot_id"] = None
    rank = {v: i for i, v in enumerate(villages)}
    table["_order"] = [len(rank) + 1 if o else rank.get(str(v), len(rank))
                       for v, o in zip(table["village"].tolist(), outside.tolist(), strict=True)]
    table = table.sort_values(["_order", "village", "plot_id"], na_position="last", kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)
