"""Where each pine-wilt tree is: its plot and village settled by the township's one rule
(:mod:`geo_township.locate`), the findings on records that disagree with the location or
trees outside every polygon, and the order in which per-village rows are listed.

Rule (:data:`BOUNDARY_RULE`, :data:`RECORD_RULE`; also in each Result's provenance):
village and plot come from the record when it names them, else from the tree's location
in the township's working CRS. A point on the shared edge of two plots is counted once, in
the one with the lowest plot_id (text order) among those whose closed polygon covers it;
on a village border it goes with its plot's village when that village covers it, else
with the first village in the village order. Trees outside every plot or village form
their own "(outside)" row and are listed as findings, never dropped.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_township.engine import LOCAL, Engine
from geo_township.labels import TOTAL_LABEL, quoted_name
from geo_township.layers import Township
from geo_township.locate import Located, blank_to_none, locate, match_place_names, reused, village_order
from geo_township.results import OUTSIDE_LABEL, Finding
from geo_township.tree_checks import TREE_CHECKS

BOUNDARY_RULE = ("a tree on the shared edge of several plots is counted once, in the one with the lowest plot_id "
                 "in text order among those whose closed polygon covers it; on a village border, in its plot's "
                 "village when that covers it, else in the first village in the village order (by code, else as "
                 "in the villages layer)")
RECORD_RULE = ("a tree's village is where it lies (the location decides); its record's village is kept "
               "(village_record) and, where it names another village, reported as a warning; the record's village "
               "counts only for a tree outside every village. plot_id comes from the record when given, else from "
               "the location; a record that disagrees with the location is reported and the record wins. Names are "
               "compared after normalising spaces and full-width forms (reported)")
RECORD_RULE_ZH = ("疫木归哪个村按它的位置确定（位置为准）；记录中的村名保留(village_record)，与位置不符的作为警告列出；"
                  "只有落在所有村之外的疫木才按记录的村名计。小班号有记录的按记录，没有的按位置；记录与位置不符的"
                  "予以提示，以记录为准。名称比较前先统一空格和全角/半角（并说明）")
BOUNDARY_RULE_ZH = ("位于两个小班共用边界上的疫木只计一次，计入覆盖它的小班中编号（按文本顺序）最小者；位于村界上的，"
                    "计入其所在小班所属的村（该村覆盖它时），否则计入村排列顺序（有村代码按代码，否则按图层顺序）最前者")
OUTSIDE = OUTSIDE_LABEL["en"]
TOTAL = TOTAL_LABEL["en"]
MAX_FINDINGS = 200  # per check; the rest are counted in one line
_WHAT_ZH = {"plot": "小班", "village": "村"}


def row_keys(values: pd.Series) -> pd.Series:
    """``values`` (a village or plot_id per tree) as the text that names its row, with
    "(outside)" for a tree in none."""
    keys = values.astype(object).where(values.notna(), OUTSIDE)
    if pd.api.types.infer_dtype(keys.to_numpy(), skipna=False) == "string":
        return keys  # text already (the usual case): no second copy as text
    return keys.astype(str)


def village_listing(township: Township, present: pd.Series) -> list[str]:
    """Villages in :func:`~geo_township.locate.village_order` (with the names in
    ``present`` that only records use), then "(outside)" when ``present`` holds it."""
    # distinct values first (in order of first appearance): a million trees name a few villages
    distinct = pd.Series(pd.unique(present.to_numpy(dtype=object)), dtype=object)
    names = [v for v in distinct.dropna().astype(str) if v != OUTSIDE]
    order = village_order(township.optional("villages"), names)
    if (distinct.astype(str) == OUTSIDE).any():
        order.append(OUTSIDE)
    return order


def mismatch_findings(at: Located, id_field: str, what: str, tree_ids: pd.Series) -> list[Finding]:
    """A warning per tree whose record names a plot or village that does not cover it."""
    findings: list[Finding] = []
    for i in at.disagree[:MAX_FINDINGS]:
        where, said = at.located.iloc[i], at.record.iloc[i]
        counted = where if (id_field == "village" and where is not None) else said
        findings.append(TREE_CHECKS[f"{id_field}_mismatch"].finding(
            "infected_trees", str(tree_ids.iloc[i]), said=said, counted=counted,
            lies=f"in {what} {where}" if where is not None else f"in no {what}",
            lies_zh=f"位于{_WHAT_ZH[what]} {where}" if where is not None else f"不在任何{_WHAT_ZH[what]}"))
    if len(at.disagree) > MAX_FINDINGS:
        findings.append(TREE_CHECKS[f"{id_field}_mismatch"].more("infected_trees", len(at.disagree) - MAX_FINDINGS))
    return findings


def spelling_findings(records: pd.Series, normalised: np.ndarray, tree_ids: pd.Series) -> list[Finding]:
    """An info finding per spelling of a village name that matched the villages layer's
    only once spaces and full-width forms were normalised: never silent."""
    out: list[Finding] = []
    if not normalised.any():
        return out
    said = records[normalised].astype(str)
    for spelling, group in tree_ids[normalised].groupby(said.to_numpy(), sort=False):
        rows = ", ".join(group.astype(str).head(5)) + (f" and {len(group) - 5} more" if len(group) > 5 else "")
        out.append(TREE_CHECKS.village_spelling.finding("infected_trees", str(group.iloc[0]),
                                                        said=quoted_name(spelling), n=len(group), rows=rows))
    return out


def outside_findings(ids: pd.Series, mask: pd.Series, what: str) -> list[Finding]:
    """A warning per tree (in ``mask``) that lies outside every plot or village and whose
    record names none."""
    out = [TREE_CHECKS[f"outside_{what}s"].finding("infected_trees", str(fid))
           for fid in ids[mask.to_numpy()].head(MAX_FINDINGS)]
    extra = int(mask.sum()) - MAX_FINDINGS
    if extra > 0:
        out.append(TREE_CHECKS[f"outside_{what}s"].more("infected_trees", extra))
    return out


def _plot_villages(trees: gpd.GeoDataFrame, plots: gpd.GeoDataFrame | None, villages: gpd.GeoDataFrame | None
                   ) -> pd.Series | None:
    """The village of each tree's plot (by the plots layer, its names matched to the
    villages layer's spelling), or None without one."""
    if plots is None or "village" not in plots.columns or "plot_id" not in plots.columns:
        return None
    def plot_to_village() -> pd.Series:
        names = plots["village"]
        if villages is not None and "village" in villages.columns:
            names = match_place_names(names, villages["village"]).values
        lookup = pd.Series(np.asarray(names, dtype=object), index=plots["plot_id"].astype(str).to_numpy(dtype=object))
        return lookup[~lookup.index.duplicated(keep="last")]  # a plot id given twice: the last plot's village

    # the same plots and villages for every chunk of a streamed count: made once
    lookup = reused(f"plot villages {id(villages)}", plots, plot_to_village)
    codes, distinct = pd.factorize(trees["plot_id"].to_numpy(dtype=object), use_na_sentinel=True)
    found = lookup.reindex(pd.Index(distinct, dtype=object).astype(str)).to_numpy(dtype=object)
    per_id = np.empty(len(found) + 1, dtype=object)  # the last: for code -1 (no plot), None
    per_id[:-1] = np.where(pd.isna(found), None, found)
    return pd.Series(per_id[codes], index=trees.index, dtype=object)  # code -1 (no plot): the None at the end


def _villages_of(trees: gpd.GeoDataFrame, villages: gpd.GeoDataFrame | None, plot_village: pd.Series | None,
                 ids: pd.Series, engine: Engine = LOCAL) -> tuple[pd.Series, pd.Series, list[Finding]]:
    """Each tree's village (its location, preferring its plot's village; else the record;
    else its plot's village), where the villages layer alone puts it, and the mismatch
    findings."""
    findings: list[Finding] = []
    if villages is not None:
        village_at = locate(trees, villages, "village", prefer=plot_village, cover=engine.covering_first)
        findings += mismatch_findings(village_at, "village", "village", ids)
        located = village_at.located
        values = located.where(located.notna(), village_at.record)
    else:
        values = (blank_to_none(trees["village"]) if "village" in trees.columns
                  else pd.Series(None, index=trees.index))
        located = pd.Series(None, index=trees.index, dtype=object)
    if plot_village is not None:
        # No villages layer, or a tree outside it: the village of the tree's plot.
        values = values.where(values.notna(), plot_village)
    return values, located, findings


def locate_trees(township: Township, *, engine: Engine = LOCAL) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """The trees layer with ``village`` and ``plot_id`` settled by :data:`RECORD_RULE` and
    :data:`BOUNDARY_RULE`, plus findings for mismatches and trees outside every polygon
    (the point-in-polygon kernel runs on ``engine``)."""
    layer = township.layer("infected_trees")
    # a shallow copy: the columns settled here are new arrays, and under Copy-on-Write
    # (pandas 3) nothing done to this frame reaches the layer's (1M trees: 80 MiB less)
    trees = layer.gdf.copy(deep=False)
    ids = layer.ids()
    plots = township.optional("forest_plots")
    villages = township.optional("villages")
    findings: list[Finding] = []
    if "village" in trees.columns:
        trees["village_record"] = trees["village"]
        if villages is not None and "village" in villages.columns:
            match = match_place_names(trees["village"], villages["village"])
            findings += spelling_findings(trees["village"], match.normalised, ids)
            trees["village"] = match.values
    plot_at = locate(trees, plots, "plot_id", cover=engine.covering_first)
    findings += mismatch_findings(plot_at, "plot_id", "plot", ids)
    trees["plot_id"] = plot_at.values
    plot_village = _plot_villages(trees, plots, villages)
    village_values, village_located, village_findings = _villages_of(trees, villages, plot_village, ids, engine)
    findings += village_findings
    trees["village"] = village_values
    if plots is not None:
        findings += outside_findings(ids, plot_at.located.isna() & plot_at.values.isna(), "plot")  # blanks: None
    if villages is not None:
        findings += outside_findings(ids, village_located.isna() & trees["village"].isna(), "village")
    return trees, findings
