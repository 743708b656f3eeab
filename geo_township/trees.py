"""Pine-wilt trees (松材线虫病疫木): counts per village or sub-compartment, per period or
clearing season, outstanding trees after a deadline, infected sub-compartments (疫情小班),
hotspots, and the clearance target.

Rules (also in the README and in each Result's provenance):

* **Where a tree is.** Village and plot come from the record when it names them; else from
  the tree's location in the township's working CRS. A point on the shared edge of two
  plots is counted once, in the one with the lowest plot_id (text order) among those whose
  closed polygon covers it; on a village border it goes with its plot's village when that
  village covers it, else with the first village in the village order (by code, else as
  in the villages layer; ``boundary_rule``). A record that names a village or plot whose
  polygon does not cover the point gets a warning finding, and the record wins. Trees outside
  every plot or village form their own "(outside)" row and are listed as findings, never dropped.
* **Events and dates.** A tree is *found* on ``found_date``; *confirmed* on
  ``confirmed_date`` (else ``found_date``: ground-census finds are confirmed when found);
  *felled* on ``felled_date`` (else ``cleared_date``); *cleared* on ``cleared_date`` (else
  ``verified_date``); *verified* on ``verified_date``. Its status says which events have
  happened (suspected → confirmed → felled → cleared → verified).
* **Periods.** ``start``/``end`` select each event by its own date: a tree found in 2021
  and cleared in March 2022 counts as cleared in 2022, not as found. *Still standing*
  (found, not felled) and *not cleared* are states at the end of the period, over every
  tree found by then.
* **Clearance rate** (除治率, :data:`RATE_RULE`): a cohort rate. *Due* are the trees found
  in the period (no period: every tree) up to the last season cut-off on or before the
  period's end (no period: the as-of date, ``data_date`` in township.toml); the rate is
  the share of them cleared by that end. Trees found after the cut-off are not yet due,
  so a spring find does not pull a village below target, and the rate never exceeds
  100%. The target (``clearance_target_pct``) is judged on it.

Layout: :mod:`geo_township.tree_events` (periods, seasons, event dates, the clearance
cohort), :mod:`geo_township.tree_places` (where each tree is), :mod:`geo_township.tree_plots`
(plot table, infected plots, ledger rows), :mod:`geo_township.tree_deadlines` (the overdue
list) and :mod:`geo_township.hotspots` build below this module, which counts
(:func:`tree_counts`) and re-exports their public names. :func:`village_tree_counts` is
the per-village table the map reads, so the map and this table agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_township.engine import LOCAL, Engine
from geo_township.errors import UsageError
from geo_township.hotspots import find_hotspots, new_infections
from geo_township.io.memory import release_freed_memory
from geo_township.labels import Text
from geo_township.layers import Township
from geo_township.results import Finding, Result
from geo_township.tree_checks import TREE_CHECKS
from geo_township.tree_deadlines import (
    LIST_SUFFIXES,
    deadline_cutoff,
    not_zeroed_findings,
    overdue_trees,
    write_tree_list,
)
from geo_township.tree_events import (
    COUNT_COLUMNS,
    PERIOD_RULE,
    PERIOD_RULE_ZH,
    RATE_RULE,
    RATE_RULE_ZH,
    STAGE_DATES,
    STAGE_MIN_RANK,
    STAGES,
    STATUS_RANK,
    UNKNOWN_STATUS_RULE,
    UNKNOWN_STATUS_RULE_ZH,
    Cohort,
    Period,
    clearance_cohort,
    cohort_rate,
    event_dates,
    event_flags,
    last_cutoff,
    make_period,
    season_bounds,
    season_of,
)
from geo_township.tree_places import (
    BOUNDARY_RULE,
    BOUNDARY_RULE_ZH,
    OUTSIDE,
    RECORD_RULE,
    RECORD_RULE_ZH,
    TOTAL,
    locate_trees,
    row_keys,
    village_listing,
)
from geo_township.tree_plots import infected_plots, ledger_rows, plot_table

__all__ = [
    "BOUNDARY_RULE",
    "BOUNDARY_RULE_ZH",
    "COUNT_COLUMNS",
    "LEDGER_COLUMNS",
    "LIST_SUFFIXES",
    "OUTSIDE",
    "PERIOD_RULE",
    "PERIOD_RULE_ZH",
    "RATE_RULE",
    "RATE_RULE_ZH",
    "RECORD_RULE",
    "RECORD_RULE_ZH",
    "STAGES",
    "STAGE_DATES",
    "STAGE_MIN_RANK",
    "STATUS_RANK",
    "TOTAL",
    "Cohort",
    "Period",
    "TreeTally",
    "clearance_cohort",
    "count_result",
    "count_rows",
    "deadline_cutoff",
    "event_dates",
    "event_flags",
    "infected_plots",
    "last_cutoff",
    "locate_trees",
    "make_period",
    "overdue_trees",
    "plot_ledger",
    "plot_table",
    "season_bounds",
    "season_of",
    "tally_trees",
    "target_findings",
    "tree_counts",
    "village_rates",
    "village_table",
    "village_tree_counts",
    "write_tree_list",
]

MAX_STATUS_FINDINGS = 200  # trees with a blank or unknown status listed one by one; the rest in one line

LEDGER_COLUMNS = ["village", "plot_id", "pine_mu", *COUNT_COLUMNS, "clearance_pct", "first_found", "last_cleared"]
"""The columns of the per-plot ledger (``tree_counts(by="plot")``), in order."""


# --------------------------------------------------------------------------- counting


@dataclass(frozen=True)
class TreeTally:
    """A township's trees settled in place (:func:`locate_trees`) with, per tree, the
    event dates and one flag per count column for ``period`` (:data:`COUNT_COLUMNS`:
    the events, the states at the period's end and the clearance cohort)."""

    trees: gpd.GeoDataFrame
    findings: list[Finding]
    dates: dict[str, pd.Series]
    flags: pd.DataFrame
    notes: list[str]
    period: Period
    cohort: Cohort


def tally_trees(township: Township, period: Period, as_of: dt.date | None = None, *,
                engine: Engine = LOCAL) -> TreeTally:
    """Locate the trees (on ``engine``) and flag their events for ``period``; the clearance
    cohort ends on ``as_of`` (default: ``data_date``, else today) when the period has no end."""
    as_of = as_of or township.config.data_date or dt.date.today()
    trees, findings = locate_trees(township, engine=engine)
    release_freed_memory()  # the search's candidate pairs and prepared polygons, before counting
    findings = status_findings(township, trees) + findings
    dates = event_dates(trees)
    flags, notes = event_flags(trees, period, dates=dates)
    cohort = clearance_cohort(township, period, as_of)
    flags["due"], flags["due_cleared"] = cohort.flags(trees, dates, flags["found"].to_numpy(), period)
    return TreeTally(trees, findings, dates, flags, notes, period, cohort)


def status_findings(township: Township, trees: pd.DataFrame) -> list[Finding]:
    """A warning per tree whose status is blank or not understood (read as missing by the
    loader): it counts as found and standing (:data:`UNKNOWN_STATUS_RULE`); the finding
    names the row and the file's text, and the fix."""
    missing = np.flatnonzero(trees["status"].isna().to_numpy())
    if not len(missing):
        return []
    layer = township.layer("infected_trees")
    raw = pd.Series("", index=range(len(trees)), dtype=object)
    words = layer.unknown_words
    if words is not None and len(words):
        words = words[words["field"] == "status"]
        raw.iloc[words["row"].to_numpy()] = words["value"].to_numpy()
    ids = layer.ids().reset_index(drop=True)
    if "source_row" in trees.columns:
        where = ids + " (line " + trees["source_row"].astype(str).reset_index(drop=True) + ")"
    else:
        where = ids
    check = TREE_CHECKS.status_not_understood
    findings = []
    for i in missing[:MAX_STATUS_FINDINGS]:
        word = str(raw.iloc[i])
        fix = ("fill in the status (疑似/已确认/已伐/已清理/已核查)" if not word else
               f'teach the tool the word in township.toml: [layers.infected_trees.values] status = {{ "{word}" = '
               '"suspected" } (or confirmed/felled/cleared/verified), or correct the file')
        fix_zh = ("请填写状态（疑似/已确认/已伐/已清理/已核查）" if not word else
                  f'请在 township.toml 中说明该词：[layers.infected_trees.values] status = {{ "{word}" = '
                  '"suspected" }（或 confirmed/felled/cleared/verified），或更正文件')
        findings.append(check.finding("infected_trees", str(ids.iloc[i]), value=repr(word) if word else "blank",
                                      value_zh=f"“{word}”无法识别" if word else "为空", row=where.iloc[i],
                                      fix=fix, fix_zh=fix_zh))
    if len(missing) > MAX_STATUS_FINDINGS:
        findings.append(check.more("infected_trees", len(missing) - MAX_STATUS_FINDINGS))
    return findings


def count_rows(flags: pd.DataFrame, keys: pd.Series, factorized: tuple[np.ndarray, np.ndarray] | None = None
               ) -> pd.DataFrame:
    """The flags summed per key (a village or plot per tree), keys in order of first
    appearance, one column per :data:`COUNT_COLUMNS`. ``factorized``: ``pd.factorize(keys)``
    when the caller has it already (a million keys take a quarter of a second)."""
    codes, uniques = factorized if factorized is not None else pd.factorize(keys)  # order of first appearance
    sums = {}
    for c in COUNT_COLUMNS:
        values = flags[c].to_numpy()
        if values.dtype == bool:
            sums[c] = np.bincount(codes[values], minlength=len(uniques)).astype("int64")
        else:  # whole numbers (rows standing for several trees): exact in float64 below 2**53
            sums[c] = np.bincount(codes, weights=values.astype("float64"), minlength=len(uniques)).astype("int64")
    return pd.DataFrame(sums, index=pd.Index(uniques, name="_key"))


def _add_total(table: pd.DataFrame, flags: pd.DataFrame, **extra: object) -> pd.DataFrame:
    """``table`` with a Total row (the flags summed over every tree, plus ``extra``), the
    counts as integers and the cohort clearance rate of each row."""
    total_row = {"village": TOTAL, **{c: int(flags[c].sum()) for c in COUNT_COLUMNS}, **extra}
    table = pd.concat([table, pd.DataFrame([total_row])], ignore_index=True)
    for c in COUNT_COLUMNS:
        table[c] = table[c].astype(int)
    table["clearance_pct"] = cohort_rate(table)
    return table


def village_table(township: Township, tally: TreeTally) -> pd.DataFrame:
    """Counts per village in the village order (every village of the layer, 0 where none
    counts; "(outside)" when a tree outside every village counts), then the Total row;
    with the clearance rate. The table of ``tree_counts(by="village")``."""
    keys = row_keys(tally.trees["village"])
    counts = count_rows(tally.flags, keys)
    order = village_listing(township, keys)
    if OUTSIDE in order and not (counts.loc[OUTSIDE] > 0).any():
        order.remove(OUTSIDE)  # trees outside every village, but none with an event in the period
    table = counts.reindex(order, fill_value=0).reset_index()
    table.columns = ["village", *COUNT_COLUMNS]
    return _add_total(table, tally.flags)


def plot_ledger(township: Township, tally: TreeTally, plots: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Counts per plot with any count (the 台账 ledger, :data:`LEDGER_COLUMNS`), ordered by
    village then plot_id, the trees outside every plot last, then the Total row."""
    keys = row_keys(tally.trees["plot_id"])
    factorized = pd.factorize(keys)
    counts = count_rows(tally.flags, keys, factorized)
    counts = counts[(counts > 0).any(axis=1)]
    table = ledger_rows(counts, tally.trees, keys, tally.flags, tally.dates, plots,
                        village_listing(township, tally.trees["village"]), factorized)
    table = _add_total(table, tally.flags, plot_id=None, pine_mu=float(table["pine_mu"].sum()),
                       first_found=table["first_found"].min(), last_cleared=table["last_cleared"].max())
    return table[LEDGER_COLUMNS]


def village_rates(tally: TreeTally) -> pd.DataFrame:
    """Counts and clearance rate per village (in order of first appearance, no Total):
    what the target is judged on when the main table is per plot."""
    table = count_rows(tally.flags, row_keys(tally.trees["village"])).reset_index().rename(
        columns={"_key": "village"})
    table["clearance_pct"] = cohort_rate(table)
    return table


def village_tree_counts(township: Township) -> pd.DataFrame:
    """The per-village table of ``tree_counts(township)`` (every record, as of the data
    date): the one source of every per-village tree number, so the map, its key statistics
    and `geo-township trees` show the same."""
    return village_table(township, tally_trees(township, make_period(township)))


# --------------------------------------------------------------------------- findings and notes


def target_findings(table: pd.DataFrame, target: float, cohort: Cohort) -> list[Finding]:
    """Villages whose clearance rate (of the trees due) is below ``target``."""
    rows = table[(table["village"] != TOTAL) & (table["village"] != OUTSIDE)]
    below = rows[rows["clearance_pct"].notna() & (rows["clearance_pct"] < target)]
    return [TREE_CHECKS.clearance_below_target.finding(
                "villages", str(r.village), rate=r.clearance_pct, cleared=r.due_cleared, due=r.due,
                cutoff=cohort.cutoff.isoformat(), by=cohort.by.isoformat(), target=target)
            for r in below.itertuples(index=False)]


def _rate_notes(tally: TreeTally, target: float) -> tuple[str, str]:
    """The clearance rate's note (English, Chinese): which trees were due, and by when."""
    period, cohort = tally.period, tally.cohort
    due = int(tally.flags["due"].sum())
    if period.bounded and period.start is not None and cohort.cutoff < period.start:
        return ((f"clearance rate: none — no season cut-off falls in the period before {cohort.by.isoformat()}, "
                 "so no tree found in it was due yet"),
                f"除治率：无——{cohort.by.isoformat()} 之前期间内没有除治期截止日，期间内发现的疫木均未到期")
    en = (f"clearance rate: of the {due:,} trees found " + ("in the period " if period.bounded else "")
          + f"up to the season cut-off {cohort.cutoff.isoformat()} (due by then), the share cleared by "
          f"{cohort.by.isoformat()}" + ("" if period.end is not None else " (the as-of date)")
          + f"; trees found later are not yet due; target {target:g}% per village")
    zh = (f"除治率：截至除治期截止日 {cohort.cutoff.isoformat()} " + ("期间内" if period.bounded else "")
          + f"发现（应除治）的 {due:,} 株中，至 {cohort.by.isoformat()} 已清理的比例；"
          f"其后发现的尚未到期，不计入；各村目标 {target:g}%")
    return en, zh


def _count_notes(tally: TreeTally, target: float, hotspot_note: str) -> tuple[list[str], list[str]]:
    """The notes of :func:`tree_counts` in English and Chinese: period, rules, rate."""
    rate_note, rate_note_zh = _rate_notes(tally, target)
    period = tally.period
    notes_zh = [f"统计期间：{period.label_zh}", f"规则：{PERIOD_RULE_ZH}", rate_note_zh,
                f"边界规则：{BOUNDARY_RULE_ZH}", *tally.notes]
    notes = [f"period: {period.label}", f"rule: {PERIOD_RULE}", rate_note, f"boundary rule: {BOUNDARY_RULE}",
             *tally.notes]
    unknown = tally.trees["status"].isna().any() if "status" in tally.trees.columns else any(
        f.check == "status_not_understood" for f in tally.findings)
    if unknown:
        notes.append(f"status rule: {UNKNOWN_STATUS_RULE}")
        notes_zh.append(f"状态规则：{UNKNOWN_STATUS_RULE_ZH}")
    if hotspot_note:
        notes.append(hotspot_note)
        notes_zh.append(hotspot_note)
    return notes, notes_zh


# --------------------------------------------------------------------------- the main table


def _side_tables(township: Township, tally: TreeTally, plots: gpd.GeoDataFrame | None, hotspots: bool
                 ) -> tuple[dict[str, pd.DataFrame], dict[str, gpd.GeoDataFrame], str]:
    """The infected plots per village and (with ``hotspots``) the hotspots of the new
    infections: tables, features, and the note on which trees the hotspots are of."""
    trees, period = tally.trees, tally.period
    infected = tally.flags["found"].to_numpy() if period.bounded else np.ones(len(trees), dtype=bool)
    tables: dict[str, pd.DataFrame] = {"infected_plots": infected_plots(township, trees, infected, plots)}
    features: dict[str, gpd.GeoDataFrame] = {}
    if not hotspots:
        return tables, features, ""
    params = township.config.parameters
    chosen, hotspot_note = new_infections(township, trees, period)
    spots = find_hotspots(trees.loc[chosen], plots=plots, eps_m=params["hotspot_eps_m"],
                          min_trees=params["hotspot_min_trees"])
    tables["hotspots"] = pd.DataFrame(spots.drop(columns=spots.geometry.name))
    features["hotspots"] = spots
    return tables, features, hotspot_note


def _provenance(township: Township, tally: TreeTally, *, by: str, season: int | None, as_of: dt.date,
                target: float, deadline: dt.date | None) -> dict[str, object]:
    """How a :func:`tree_counts` table was made: the inputs, every rule and parameter."""
    params = township.config.parameters
    period, cohort = tally.period, tally.cohort
    return township.provenance(
        analysis="trees", by=by, period_start=period.start.isoformat() if period.start else None,
        period_end=period.end.isoformat() if period.end else None, season=season,
        boundary_rule=Text(BOUNDARY_RULE, BOUNDARY_RULE_ZH), record_rule=Text(RECORD_RULE, RECORD_RULE_ZH),
        period_rule=Text(PERIOD_RULE, PERIOD_RULE_ZH), rate_rule=Text(RATE_RULE, RATE_RULE_ZH),
        clearance_cutoff=cohort.cutoff.isoformat(), cleared_by=cohort.by.isoformat(), as_of=as_of.isoformat(),
        clearance_target_pct=target, deadline=deadline.isoformat() if deadline else None,
        area_method=params["area_method"], risk_radius_m=params["risk_radius_m"],
        hotspot_eps_m=params["hotspot_eps_m"], hotspot_min_trees=params["hotspot_min_trees"])


def tree_counts(township: Township, *, by: str = "village", start: dt.date | None = None,
                end: dt.date | None = None, season: int | None = None, deadline: dt.date | None = None,
                as_of: dt.date | None = None, hotspots: bool = True, engine: Engine = LOCAL) -> Result:
    """Pine-wilt trees per village (``by="village"``) or per infected sub-compartment
    (``by="plot"``, the 台账 ledger), with a Total row.

    Columns: found, confirmed, felled, cleared, verified (events in the period), standing
    and not_cleared (at its end), due, due_cleared and clearance_pct (the cohort rate of
    :data:`RATE_RULE`, judged against the target); per plot also village, pine_mu (the
    plot's area in mu when its dominant species is a pine, else 0), first_found and
    last_cleared. ``as_of`` (default: ``data_date``, else today) ends the cohort when there
    is no period.
    Further tables: ``infected_plots`` (疫情小班 per village) and ``hotspots``. Villages below
    ``clearance_target_pct`` and plots with trees standing after the deadline (动态清零 not
    reached; the deadline is ``deadline``, else the end of ``season``) are findings.
    ``engine`` runs the heavy kernels (:mod:`geo_township.engine`; the same numbers on each).
    """
    if by not in ("village", "plot"):
        raise UsageError(f"cannot count trees by {by!r}", hint="use --by village or --by plot")
    period = make_period(township, start=start, end=end, season=season)
    as_of = as_of or township.config.data_date or dt.date.today()
    tally = tally_trees(township, period, as_of, engine=engine)
    plots = plot_table(township, engine=engine)
    side = _side_tables(township, tally, plots, hotspots)
    if deadline is None and season is not None:
        deadline = period.end
    late = (not_zeroed_findings(tally.trees, tally.dates, deadline)
            if deadline is not None and as_of > deadline else [])
    return count_result(township, tally, plots, by=by, season=season, deadline=deadline, as_of=as_of, side=side,
                        late=late)


def count_result(township: Township, tally: TreeTally, plots: gpd.GeoDataFrame | None, *, by: str,
                 season: int | None, deadline: dt.date | None, as_of: dt.date,
                 side: tuple[dict[str, pd.DataFrame], dict[str, gpd.GeoDataFrame], str],
                 late: list[Finding]) -> Result:
    """The Result of :func:`tree_counts` from a tally, the side tables (infected plots,
    hotspots and the hotspots' note) and the plots not cleared by the deadline: shared by
    the in-memory path and the streamed one (:mod:`geo_township.tree_stream`)."""
    period = tally.period
    table = village_table(township, tally) if by == "village" else plot_ledger(township, tally, plots)
    tables, features, hotspot_note = side

    target = float(township.config.parameters["clearance_target_pct"])
    findings = tally.findings + target_findings(table if by == "village" else village_rates(tally), target,
                                                tally.cohort)
    findings += late

    notes, notes_zh = _count_notes(tally, target, hotspot_note)
    title = ("Pine-wilt trees by " + ("village" if by == "village" else "sub-compartment (ledger)")
             + f" — {township.config.display_name()}, {period.label}")
    prov = _provenance(township, tally, by=by, season=season, as_of=as_of, target=target, deadline=deadline)
    decimals = {"clearance_pct": 2, "pine_mu": 2, "infected_mu": 2, "infected_pine_mu": 2, "pine_at_risk_mu": 2,
                "radius_m": 0, "lon": 6, "lat": 6, "x": 1, "y": 1}
    title_zh = (f"{township.config.name}松材线虫病疫木统计（" + ("按村" if by == "village" else "按小班，台账")
                + f"），{period.label_zh}")
    cutoff, cleared_by = tally.cohort.cutoff.isoformat(), tally.cohort.by.isoformat()
    labels = {"due": (f"Due by {cutoff}", f"截至{cutoff}应除治(株)"),
              "due_cleared": (f"Of these, cleared by {cleared_by}", f"其中截至{cleared_by}已除治(株)")}
    return Result(title, table, tables=tables, findings=findings, features=features, provenance=prov,
                  notes=notes, notes_zh=notes_zh, decimals=decimals, title_zh=title_zh, labels=labels)
