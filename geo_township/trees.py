"""Pine-wilt trees (松材线虫病疫木): counts per village or sub-compartment, per period or
clearing season, outstanding trees after a deadline, infected sub-compartments (疫情小班),
hotspots, and the clearance target.

Rules (also in the README and in each Result's provenance):

* **Where a tree is.** Village and plot come from the record when it names them; else from
  the tree's location in the township's working CRS. A point on the shared edge of two
  plots is counted once, in the one with the lowest plot_id (text order) among those whose
  closed polygon covers it; on a village border it goes with its plot's village when that
  village covers it, else with the lowest village name (``boundary_rule``). A record that names a village
  or plot whose polygon does not cover the point gets a warning finding, and the record
  wins. Trees outside every plot or village form their own "(outside)" row and are listed
  as findings, never dropped.
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
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.errors import UsageError
from geo_township.kinds import PINE_SPECIES, TOTAL_LABEL, TREE_STATUS
from geo_township.layers import Township
from geo_township.locate import Located, blank_to_none, locate, village_order
from geo_township.measure import area
from geo_township.results import OUTSIDE_LABEL, Finding, Result

log = logging.getLogger(__name__)

STAGES = ("found", "confirmed", "felled", "cleared", "verified")
"""The events of a tree's life that the tables count, in order."""

STATUS_RANK = {code: i for i, code in enumerate(TREE_STATUS.codes)}
STAGE_MIN_RANK = {"found": 0, "confirmed": 1, "felled": 2, "cleared": 3, "verified": 4}
STAGE_DATES = {
    "found": ("found_date",),
    "confirmed": ("confirmed_date", "found_date"),
    "felled": ("felled_date", "cleared_date"),
    "cleared": ("cleared_date", "verified_date"),
    "verified": ("verified_date",),
}
"""Each event's date field, then the field used when it is empty."""

BOUNDARY_RULE = ("a tree on the shared edge of several plots is counted once, in the one with the lowest plot_id "
                 "in text order among those whose closed polygon covers it; on a village border, in its plot's "
                 "village when that covers it, else in the first village in the village order (by code, else as "
                 "in the villages layer)")
RECORD_RULE = ("village and plot_id come from the tree's record when given, else from its location; a record that "
               "disagrees with the location is reported as a warning and the record wins")
BOUNDARY_RULE_ZH = ("位于两个小班共用边界上的疫木只计一次，计入覆盖它的小班中编号（按文本顺序）最小者；位于村界上的，"
                    "计入其所在小班所属的村（该村覆盖它时），否则计入村排列顺序（有村代码按代码，否则按图层顺序）最前者")
PERIOD_RULE_ZH = ("发现/确认/采伐/清理/核查按各自日期落在期间内的株数统计；未伐、未清理为期间末的状态，"
                  "统计截至期间末发现的全部疫木")
PERIOD_RULE = ("found/confirmed/felled/cleared/verified count the trees whose event date falls in the period; "
               "standing and not_cleared are states at the end of the period over every tree found by then")
RATE_RULE = ("clearance_pct = due_cleared ÷ due × 100, a cohort rate: 'due' are the trees found in the period (with "
             "no period: all trees) up to the last season cut-off (season_end) on or before the period's end (with "
             "no period: the as-of date) — the trees that had to be cleared by then; 'due_cleared' are those of them "
             "cleared by the period's end (with no period: by the as-of date). Trees found after that cut-off are "
             "not yet due and are left out, so the rate never exceeds 100%; the clearance target is judged on it. "
             "'cleared' still counts the clearing events in the period, whenever the tree was found")
COUNT_COLUMNS = ("found", "confirmed", "felled", "cleared", "verified", "standing", "not_cleared", "due",
                 "due_cleared")
OUTSIDE = OUTSIDE_LABEL["en"]
TOTAL = TOTAL_LABEL["en"]
MAX_FINDINGS = 200  # per check; the rest are counted in one line
_WHAT_ZH = {"plot": "小班", "village": "村"}


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """A closed range of calendar days; ``None`` ends are open."""

    start: dt.date | None = None
    end: dt.date | None = None
    label: str = "all records"

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None

    @property
    def label_zh(self) -> str:
        """The period in Chinese, for titles with ``--lang zh``."""
        if not self.bounded:
            return "全部记录"
        start = self.start.isoformat() if self.start else "最早"
        end = self.end.isoformat() if self.end else "最新"
        return f"{start} 至 {end}"

    def contains(self, dates: pd.Series) -> np.ndarray:
        """True where a date lies in the period (missing dates never do, unless unbounded)."""
        ok = np.array(dates.notna(), dtype=bool) if self.bounded else np.ones(len(dates), dtype=bool)
        if self.start is not None:
            ok &= (dates >= pd.Timestamp(self.start)).fillna(False).to_numpy(dtype=bool)
        if self.end is not None:
            ok &= (dates <= pd.Timestamp(self.end)).fillna(False).to_numpy(dtype=bool)
        return ok


def _month_day(year: int, text: str) -> dt.date:
    month, day = (int(p) for p in text.split("-"))
    return dt.date(year, month, day)


def season_bounds(year: int, *, season_start: str = "10-01", season_end: str = "03-31") -> tuple[dt.date, dt.date]:
    """The clearing season that starts in ``year``: ``season_start`` of that year to
    ``season_end`` of the next (or of the same year when the end falls later in the year)."""
    start = _month_day(year, season_start)
    end = _month_day(year, season_end)
    if end < start:
        end = _month_day(year + 1, season_end)
    return start, end


def season_of(day: dt.date, *, season_start: str = "10-01", season_end: str = "03-31") -> int:
    """The year of the latest clearing season that started on or before ``day``."""
    year = day.year
    while season_bounds(year, season_start=season_start, season_end=season_end)[0] > day:
        year -= 1
    return year


def last_cutoff(day: dt.date, *, season_start: str = "10-01", season_end: str = "03-31") -> dt.date:
    """The last season cut-off (a season's ``season_end``) on or before ``day``: the trees
    found up to it had to be cleared by it."""
    year = season_of(day, season_start=season_start, season_end=season_end)
    end = season_bounds(year, season_start=season_start, season_end=season_end)[1]
    while end > day:
        year -= 1
        end = season_bounds(year, season_start=season_start, season_end=season_end)[1]
    return end


def make_period(township: Township | None = None, *, start: dt.date | None = None, end: dt.date | None = None,
                season: int | None = None) -> Period:
    """A Period from ``--from/--to`` or ``--season YEAR`` (bounds from township.toml)."""
    if season is not None:
        if start is not None or end is not None:
            raise UsageError("--season cannot be combined with --from/--to",
                             hint="use either --season 2022 or --from 2022-10-01 --to 2023-03-31")
        params = township.config.parameters if township is not None else {}
        s, e = season_bounds(season, season_start=params.get("season_start", "10-01"),
                             season_end=params.get("season_end", "03-31"))
        return Period(s, e, f"season {season}: {s.isoformat()} to {e.isoformat()}")
    if start is not None and end is not None and end < start:
        raise UsageError(f"--to {end} is before --from {start}", hint="swap the two dates")
    if start is None and end is None:
        return Period()
    label = f"{start.isoformat() if start else 'the first record'} to {end.isoformat() if end else 'the last record'}"
    return Period(start, end, label)


# --------------------------------------------------------------------------- where each tree is


def _mismatch_findings(at: Located, id_field: str, what: str, tree_ids: pd.Series) -> list[Finding]:
    """A warning per tree whose record names a plot or village that does not cover it."""
    findings: list[Finding] = []
    for i in at.disagree[:MAX_FINDINGS]:
        where, said = at.located.iloc[i], at.record.iloc[i]
        findings.append(Finding(
            "infected_trees", str(tree_ids.iloc[i]), "warning", f"{id_field}_mismatch",
            f"the record says {what} {said}, but the tree lies "
            + (f"in {what} {where}" if where is not None else f"outside every {what}")
            + f"; counted under {said} (the record wins): correct the record or the coordinates",
            f"记录中的{_WHAT_ZH[what]}为 {said}，但该树位于"
            + (f"{_WHAT_ZH[what]} {where}" if where is not None else f"所有{_WHAT_ZH[what]}之外")
            + f"；按记录计入 {said}：请更正记录或坐标"))
    if len(at.disagree) > MAX_FINDINGS:
        findings.append(Finding("infected_trees", "…", "warning", f"{id_field}_mismatch",
                                f"and {len(at.disagree) - MAX_FINDINGS} more like these",
                                f"另有 {len(at.disagree) - MAX_FINDINGS} 条同类问题"))
    return findings


def locate_trees(township: Township) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """The trees layer with ``village`` and ``plot_id`` settled by :data:`RECORD_RULE` and
    :data:`BOUNDARY_RULE`, plus findings for mismatches and trees outside every polygon."""
    layer = township.layer("infected_trees")
    trees = layer.gdf.copy()
    ids = layer.ids()
    plots = township.optional("forest_plots")
    villages = township.optional("villages")
    findings: list[Finding] = []
    plot_at = locate(trees, plots, "plot_id")
    findings += _mismatch_findings(plot_at, "plot_id", "plot", ids)
    plot_located = plot_at.located
    trees["plot_id"] = plot_at.values
    plot_village = None
    if plots is not None and "village" in plots.columns:
        lookup = dict(zip(plots["plot_id"].astype(str), plots["village"], strict=False))
        plot_village = trees["plot_id"].map(lambda p: lookup.get(str(p)) if p is not None else None)
    if villages is not None:
        village_at = locate(trees, villages, "village", prefer=plot_village)
        findings += _mismatch_findings(village_at, "village", "village", ids)
        village_values, village_located = village_at.values, village_at.located
    else:
        village_values = (blank_to_none(trees["village"]) if "village" in trees.columns
                          else pd.Series(None, index=trees.index))
        village_located = pd.Series(None, index=trees.index, dtype=object)
    if plot_village is not None:
        # No villages layer, or a tree outside it: the village of the tree's plot.
        village_values = village_values.where(village_values.notna(), plot_village)
    trees["village"] = village_values
    if plots is not None:
        findings += _outside_findings(ids, plot_located.isna() & blank_to_none(trees["plot_id"]).isna(), "plot")
    if villages is not None:
        findings += _outside_findings(ids, village_located.isna() & trees["village"].isna(), "village")
    return trees, findings


def _outside_findings(ids: pd.Series, mask: pd.Series, what: str) -> list[Finding]:
    out = [Finding("infected_trees", str(fid), "warning", f"outside_{what}s",
                   f"lies outside every {what} and names none: counted in the '(outside)' row; check its "
                   "coordinates (a GCJ-02 shift? a neighbouring township?)",
                   f"不在任何{_WHAT_ZH[what]}内且记录未填写：计入“(范围外)”行；请核对坐标（火星坐标偏移？邻乡的树？）")
           for fid in ids[mask.to_numpy()].head(MAX_FINDINGS)]
    extra = int(mask.sum()) - MAX_FINDINGS
    if extra > 0:
        out.append(Finding("infected_trees", "…", "warning", f"outside_{what}s", f"and {extra} more like these",
                           f"另有 {extra} 条同类问题"))
    return out


# --------------------------------------------------------------------------- events


def event_dates(trees: pd.DataFrame) -> dict[str, pd.Series]:
    """Each event's date per tree (NaT when the event has not happened or has no date)."""
    rank = trees["status"].map(STATUS_RANK)
    out = {}
    for stage in STAGES:
        date = pd.Series(pd.NaT, index=trees.index, dtype="datetime64[ns]")
        for col in reversed(STAGE_DATES[stage]):
            if col in trees.columns:
                date = trees[col].where(trees[col].notna(), date)
        out[stage] = date.where(rank >= STAGE_MIN_RANK[stage])
    return out


def event_flags(trees: pd.DataFrame, period: Period) -> tuple[pd.DataFrame, list[str]]:
    """Per tree: one boolean per count column (see :data:`PERIOD_RULE`), and notes on
    trees whose dates are missing."""
    rank = trees["status"].map(STATUS_RANK).to_numpy()
    dates = event_dates(trees)
    flags = pd.DataFrame(index=trees.index)
    notes: list[str] = []
    for stage in STAGES:
        reached = rank >= STAGE_MIN_RANK[stage]
        flags[stage] = reached & period.contains(dates[stage]) if period.bounded else reached
        undated = reached & dates[stage].isna().to_numpy()
        if period.bounded and undated.any():
            notes.append(f"{int(undated.sum())} tree(s) {stage} without a date are left out of the period's "
                         f"'{stage}' count (fill in {STAGE_DATES[stage][0]})")
    if period.end is None:
        found_by_end = np.ones(len(trees), dtype=bool)
        felled_by_end = rank >= STAGE_MIN_RANK["felled"]
        cleared_by_end = rank >= STAGE_MIN_RANK["cleared"]
    else:
        end = pd.Timestamp(period.end)
        found_by_end = (dates["found"].isna() | (dates["found"] <= end)).to_numpy()

        def done_by(stage: str) -> np.ndarray:
            d = dates[stage]
            # reached with no date: the status says it is done, so it counts as done
            return (rank >= STAGE_MIN_RANK[stage]) & (d.isna() | (d <= end)).to_numpy()

        felled_by_end, cleared_by_end = done_by("felled"), done_by("cleared")
    flags["standing"] = found_by_end & ~felled_by_end
    flags["not_cleared"] = found_by_end & ~cleared_by_end
    return flags, notes


def _counts(flags: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    frame = flags.astype("int64")
    frame["_key"] = keys.to_numpy()
    return frame.groupby("_key", sort=False)[list(COUNT_COLUMNS)].sum()


def _rate(table: pd.DataFrame) -> pd.Series:
    """The cohort clearance rate (%, see :data:`RATE_RULE`); empty where no tree was due."""
    due = table["due"].astype(float)
    return (table["due_cleared"].astype(float) / due.where(due > 0) * 100.0).round(2)


@dataclass(frozen=True)
class Cohort:
    """Which trees the clearance rate is over (see :data:`RATE_RULE`)."""

    cutoff: dt.date  # trees found up to this day were due
    by: dt.date  # … and count as cleared when cleared by this day

    def flags(self, trees: pd.DataFrame, dates: dict[str, pd.Series], found_in_period: np.ndarray,
              period: Period) -> tuple[np.ndarray, np.ndarray]:
        """Per tree: due, and due and cleared by :attr:`by`."""
        found = dates["found"]
        by_cutoff = (found <= pd.Timestamp(self.cutoff)).fillna(False).to_numpy(dtype=bool)
        if period.bounded:
            due = found_in_period & by_cutoff
        else:  # every tree; one without a find date is taken as due
            due = by_cutoff | found.isna().to_numpy()
        rank = trees["status"].map(STATUS_RANK).to_numpy()
        cleared = dates["cleared"]
        cleared_by = (rank >= STAGE_MIN_RANK["cleared"]) & (cleared.isna()
                                                            | (cleared <= pd.Timestamp(self.by))).to_numpy()
        return due, due & cleared_by


def clearance_cohort(township: Township, period: Period, as_of: dt.date) -> Cohort:
    """The cut-off and the clearing day of the clearance rate for ``period`` (see
    :data:`RATE_RULE`): the period's end (never after ``as_of``), else ``as_of``."""
    params = township.config.parameters
    by = min(period.end, as_of) if period.end is not None else as_of
    cutoff = last_cutoff(by, season_start=params["season_start"], season_end=params["season_end"])
    return Cohort(cutoff, by)


# --------------------------------------------------------------------------- plots


def plot_table(township: Township) -> pd.DataFrame | None:
    """Forest plots: plot_id, village, area_mu, pine (bool) and geometry (working CRS)."""
    plots = township.optional("forest_plots")
    if plots is None:
        return None
    method = township.config.parameters["area_method"]
    out = gpd.GeoDataFrame({
        "plot_id": plots["plot_id"].astype(object).where(plots["plot_id"].notna(), None),
        "village": plots["village"] if "village" in plots.columns else None,
        "area_mu": area(plots.geometry, unit="mu", method=method),
        "pine": plots["species"].isin(PINE_SPECIES).to_numpy() if "species" in plots.columns else False,
    }, geometry=plots.geometry.to_numpy(), crs=plots.crs)
    return out


def infected_plots(township: Township, trees: gpd.GeoDataFrame, infected: np.ndarray,
                   plots: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Infected sub-compartments (疫情小班) per village: plots with at least one tree marked
    in ``infected``, their number and area (mu), their pine area, and the pine area at risk
    (pine plots within ``risk_radius_m`` of an infected tree, the infected ones included)."""
    columns = ["village", "infected_plots", "infected_mu", "infected_pine_mu", "pine_at_risk_mu"]
    plots = plot_table(township) if plots is None else plots
    if plots is None:
        return pd.DataFrame(columns=columns)
    radius = float(township.config.parameters["risk_radius_m"])
    hit_ids = set(trees.loc[infected, "plot_id"].dropna().astype(str))
    is_infected = plots["plot_id"].astype(str).isin(hit_ids).to_numpy()
    at_risk = np.zeros(len(plots), dtype=bool)
    points = trees.geometry.to_numpy()[infected]
    pine = plots["pine"].to_numpy(dtype=bool)
    if len(points) and pine.any():
        tree = shapely.STRtree(points)
        pine_idx = np.flatnonzero(pine)
        poly_idx, _ = tree.query(plots.geometry.to_numpy()[pine_idx], predicate="dwithin", distance=radius)
        at_risk[pine_idx[np.unique(poly_idx)]] = True
    at_risk |= is_infected & pine
    frame = pd.DataFrame({
        "village": plots["village"].astype(object).where(plots["village"].notna(), OUTSIDE),
        "infected_plots": is_infected.astype(int),
        "infected_mu": np.where(is_infected, plots["area_mu"], 0.0),
        "infected_pine_mu": np.where(is_infected & pine, plots["area_mu"], 0.0),
        "pine_at_risk_mu": np.where(at_risk, plots["area_mu"], 0.0),
    })
    table = frame.groupby("village", sort=False)[columns[1:]].sum().reset_index()
    order = _village_order(township, table["village"])
    table = table.set_index("village").reindex(order).reset_index()
    total = pd.DataFrame([{"village": TOTAL, **{c: frame[c].sum() for c in columns[1:]}}])
    table = pd.concat([table, total], ignore_index=True)
    table["infected_plots"] = table["infected_plots"].astype(int)
    return table[columns]


def _village_order(township: Township, present: pd.Series) -> list[str]:
    """Villages in :func:`~geo_township.locate.village_order`, then (outside) when present."""
    names = [v for v in present.dropna().astype(str) if v != OUTSIDE]
    order = village_order(township.optional("villages"), names)
    if (present.astype(str) == OUTSIDE).any():
        order.append(OUTSIDE)
    return order


# --------------------------------------------------------------------------- the main table


def tree_counts(township: Township, *, by: str = "village", start: dt.date | None = None,
                end: dt.date | None = None, season: int | None = None, deadline: dt.date | None = None,
                as_of: dt.date | None = None, hotspots: bool = True) -> Result:
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
    """
    if by not in ("village", "plot"):
        raise UsageError(f"cannot count trees by {by!r}", hint="use --by village or --by plot")
    params = township.config.parameters
    period = make_period(township, start=start, end=end, season=season)
    as_of = as_of or township.config.data_date or dt.date.today()
    trees, findings = locate_trees(township)
    flags, notes = event_flags(trees, period)
    plots = plot_table(township)
    dates = event_dates(trees)
    cohort = clearance_cohort(township, period, as_of)
    flags["due"], flags["due_cleared"] = cohort.flags(trees, dates, flags["found"].to_numpy(), period)

    if by == "village":
        keys = trees["village"].astype(object).where(trees["village"].notna(), OUTSIDE).astype(str)
        counts = _counts(flags, keys)
        order = _village_order(township, keys)
        if OUTSIDE in order and not (counts.loc[OUTSIDE] > 0).any():
            order.remove(OUTSIDE)  # trees outside every village, but none with an event in the period
        table = counts.reindex(order, fill_value=0).reset_index().rename(columns={"index": "village",
                                                                                   "_key": "village"})
        table.columns = ["village", *COUNT_COLUMNS]
    else:
        keys = trees["plot_id"].astype(object).where(trees["plot_id"].notna(), OUTSIDE).astype(str)
        counts = _counts(flags, keys)
        counts = counts[(counts > 0).any(axis=1)]
        table = _plot_rows(counts, trees, keys, flags, dates, plots, _village_order(township, trees["village"]))
    total = {c: int(flags[c].sum()) for c in COUNT_COLUMNS}
    total_row = {"village": TOTAL, **total}
    if by == "plot":
        total_row.update({"plot_id": None, "pine_mu": float(table["pine_mu"].sum()),
                          "first_found": table["first_found"].min(), "last_cleared": table["last_cleared"].max()})
    table = pd.concat([table, pd.DataFrame([total_row])], ignore_index=True)
    for c in COUNT_COLUMNS:
        table[c] = table[c].astype(int)
    table["clearance_pct"] = _rate(table)
    if by == "plot":
        table = table[["village", "plot_id", "pine_mu", "found", "confirmed", "felled", "cleared", "verified",
                       "standing", "not_cleared", "due", "due_cleared", "clearance_pct", "first_found",
                       "last_cleared"]]

    infected = flags["found"].to_numpy() if period.bounded else np.ones(len(trees), dtype=bool)
    tables: dict[str, pd.DataFrame] = {"infected_plots": infected_plots(township, trees, infected, plots)}
    features: dict[str, gpd.GeoDataFrame] = {}
    hotspot_note = ""
    if hotspots:
        from geo_township.hotspots import find_hotspots, new_infections

        chosen, hotspot_note = new_infections(township, trees, period)
        spots = find_hotspots(trees.loc[chosen], plots=plots, eps_m=params["hotspot_eps_m"],
                              min_trees=params["hotspot_min_trees"])
        tables["hotspots"] = pd.DataFrame(spots.drop(columns=spots.geometry.name))
        features["hotspots"] = spots

    target = float(params["clearance_target_pct"])
    findings += _target_findings(table if by == "village" else _village_rates(flags, trees), target, cohort)
    if deadline is None and season is not None:
        deadline = period.end
    if deadline is not None and as_of > deadline:
        findings += _zero_findings(trees, dates, deadline, as_of)

    rate_note = (f"clearance rate: of the {int(flags['due'].sum()):,} trees found "
                 + ("in the period " if period.bounded else "")
                 + f"up to the season cut-off {cohort.cutoff.isoformat()} (due by then), the share cleared by "
                 f"{cohort.by.isoformat()}" + ("" if period.end is not None else " (the as-of date)")
                 + f"; trees found later are not yet due; target {target:g}% per village")
    if period.bounded and period.start is not None and cohort.cutoff < period.start:
        rate_note = (f"clearance rate: none — no season cut-off falls in the period before {cohort.by.isoformat()}, "
                     "so no tree found in it was due yet")
    rate_note_zh = (f"除治率：截至除治期截止日 {cohort.cutoff.isoformat()} " + ("期间内" if period.bounded else "")
                    + f"发现（应除治）的 {int(flags['due'].sum()):,} 株中，至 {cohort.by.isoformat()} 已清理的比例；"
                    f"其后发现的尚未到期，不计入；各村目标 {target:g}%")
    if period.bounded and period.start is not None and cohort.cutoff < period.start:
        rate_note_zh = f"除治率：无——{cohort.by.isoformat()} 之前期间内没有除治期截止日，期间内发现的疫木均未到期"
    notes_zh = [f"统计期间：{period.label_zh}", f"规则：{PERIOD_RULE_ZH}", rate_note_zh, f"边界规则：{BOUNDARY_RULE_ZH}",
                *notes]
    notes = [f"period: {period.label}", f"rule: {PERIOD_RULE}", rate_note, f"boundary rule: {BOUNDARY_RULE}",
             *notes]
    if hotspot_note:
        notes.append(hotspot_note)
        notes_zh.append(hotspot_note)
    title = ("Pine-wilt trees by " + ("village" if by == "village" else "sub-compartment (ledger)")
             + f" — {township.config.display_name()}, {period.label}")
    prov = township.provenance(
        analysis="trees", by=by, period_start=period.start.isoformat() if period.start else None,
        period_end=period.end.isoformat() if period.end else None, season=season,
        boundary_rule=BOUNDARY_RULE, record_rule=RECORD_RULE, period_rule=PERIOD_RULE, rate_rule=RATE_RULE,
        clearance_cutoff=cohort.cutoff.isoformat(), cleared_by=cohort.by.isoformat(), as_of=as_of.isoformat(),
        clearance_target_pct=target, deadline=deadline.isoformat() if deadline else None,
        area_method=params["area_method"], risk_radius_m=params["risk_radius_m"],
        hotspot_eps_m=params["hotspot_eps_m"], hotspot_min_trees=params["hotspot_min_trees"])
    decimals = {"clearance_pct": 2, "pine_mu": 2, "infected_mu": 2, "infected_pine_mu": 2, "pine_at_risk_mu": 2,
                "radius_m": 0, "lon": 6, "lat": 6, "x": 1, "y": 1}
    title_zh = (f"{township.config.name}松材线虫病疫木统计（" + ("按村" if by == "village" else "按小班，台账")
                + f"），{period.label_zh}")
    labels = {"due": (f"Due by {cohort.cutoff.isoformat()}", f"截至{cohort.cutoff.isoformat()}应除治(株)"),
              "due_cleared": (f"Of these, cleared by {cohort.by.isoformat()}",
                              f"其中截至{cohort.by.isoformat()}已除治(株)")}
    return Result(title, table, tables=tables, findings=findings, features=features, provenance=prov,
                  notes=notes, notes_zh=notes_zh, decimals=decimals, title_zh=title_zh, labels=labels)


def _plot_rows(counts: pd.DataFrame, trees: gpd.GeoDataFrame, keys: pd.Series, flags: pd.DataFrame,
               dates: dict[str, pd.Series], plots: gpd.GeoDataFrame | None, villages: list[str]) -> pd.DataFrame:
    """Ledger rows (one per plot with any count), ordered by village (as in the villages
    layer) then plot_id."""
    table = counts.reset_index().rename(columns={"_key": "plot_id"})
    frame = pd.DataFrame({"plot_id": keys.to_numpy(), "found": dates["found"].where(flags["found"]),
                          "cleared": dates["cleared"].where(flags["cleared"]), "village": trees["village"].to_numpy()})
    grouped = frame.groupby("plot_id", sort=False)
    table["first_found"] = table["plot_id"].map(grouped["found"].min())
    table["last_cleared"] = table["plot_id"].map(grouped["cleared"].max())
    tree_village = grouped["village"].agg(lambda s: s.mode().iloc[0] if s.notna().any() else None)
    plot_village: dict[str, Any] = {}
    pine_mu: dict[str, float] = {}
    if plots is not None:
        ids = plots["plot_id"].astype(str)
        plot_village = dict(zip(ids, plots["village"], strict=True))
        pine_mu = dict(zip(ids, np.where(plots["pine"], plots["area_mu"], 0.0), strict=True))
    table["village"] = [plot_village.get(p) if plot_village.get(p) is not None else tree_village.get(p)
                        for p in table["plot_id"]]
    table["pine_mu"] = table["plot_id"].map(pine_mu).astype(float)
    outside = table["plot_id"] == OUTSIDE
    table.loc[outside, "village"] = OUTSIDE
    table.loc[outside, "plot_id"] = None
    rank = {v: i for i, v in enumerate(villages)}
    table["_order"] = [len(rank) + 1 if o else rank.get(str(v), len(rank)) for v, o in zip(table["village"], outside,
                                                                                          strict=True)]
    table = table.sort_values(["_order", "village", "plot_id"], na_position="last", kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)


def _village_rates(flags: pd.DataFrame, trees: pd.DataFrame) -> pd.DataFrame:
    keys = trees["village"].astype(object).where(trees["village"].notna(), OUTSIDE).astype(str)
    table = _counts(flags, keys).reset_index().rename(columns={"_key": "village"})
    table["clearance_pct"] = _rate(table)
    return table


def _target_findings(table: pd.DataFrame, target: float, cohort: Cohort) -> list[Finding]:
    """Villages whose clearance rate (of the trees due) is below ``target``."""
    rows = table[(table["village"] != TOTAL) & (table["village"] != OUTSIDE)]
    below = rows[rows["clearance_pct"].notna() & (rows["clearance_pct"] < target)]
    return [Finding("villages", str(r.village), "warning", "clearance_below_target",
                    f"clearance rate {r.clearance_pct:.2f}% ({r.due_cleared} of the {r.due} trees due by "
                    f"{cohort.cutoff.isoformat()} cleared by {cohort.by.isoformat()}) is below the target {target:g}%",
                    f"除治率 {r.clearance_pct:.2f}%（截至 {cohort.cutoff.isoformat()} 应除治 {r.due} 株，至 "
                    f"{cohort.by.isoformat()} 已清理 {r.due_cleared} 株），低于目标 {target:g}%")
            for r in below.itertuples(index=False)]


def _zero_findings(trees: pd.DataFrame, dates: dict[str, pd.Series], deadline: dt.date,
                   as_of: dt.date, *, cutoff: dt.date | None = None) -> list[Finding]:
    """Plots with trees found by the cut-off (default: the deadline) and still standing at
    the deadline (动态清零 not reached)."""
    end = pd.Timestamp(deadline)
    found_by = (dates["found"].isna() | (dates["found"] <= pd.Timestamp(cutoff or deadline))).to_numpy()
    rank = trees["status"].map(STATUS_RANK).to_numpy()
    felled_by = (rank >= STAGE_MIN_RANK["felled"]) & (dates["felled"].isna() | (dates["felled"] <= end)).to_numpy()
    standing = found_by & ~felled_by
    frame = pd.DataFrame({"plot": trees["plot_id"].astype(object).where(trees["plot_id"].notna(), OUTSIDE),
                          "village": trees["village"], "standing": standing})
    per_plot = frame[frame["standing"]].groupby("plot", sort=True).agg(n=("standing", "size"),
                                                                      village=("village", "first"))
    return [Finding("forest_plots", str(plot), "warning", "not_zeroed",
                    f"{row.n} infected tree(s) still standing after the deadline {deadline.isoformat()} "
                    f"(village {row.village if row.village is not None else OUTSIDE}): 动态清零 not reached",
                    f"截止日期 {deadline.isoformat()} 后仍有 {row.n} 株疫木未伐（"
                    f"{row.village if row.village is not None else '范围外'}）：未实现动态清零")
            for plot, row in per_plot.iterrows()]


# --------------------------------------------------------------------------- the deadline list


def deadline_cutoff(township: Township, deadline: dt.date, season: int | None = None) -> dt.date:
    """The last find date a deadline answers for: the end of ``season`` when given, else
    the end of the clearing season that started last on or before the deadline (trees
    found later belong to the next season), but never after the deadline itself."""
    params = township.config.parameters
    bounds = {"season_start": params["season_start"], "season_end": params["season_end"]}
    year = season if season is not None else season_of(deadline, **bounds)
    return min(deadline, season_bounds(year, **bounds)[1])


def overdue_trees(township: Township, *, deadline: dt.date, season: int | None = None,
                  as_of: dt.date | None = None, by: str = "village", include_late: bool = False) -> Result:
    """Trees found by the season's cut-off and not cleared by ``deadline``, for the field
    crews.

    Each column has one reference date (stated in its heading and the notes):
    ``not_cleared_by_deadline`` is judged on the deadline; ``outstanding`` (still not
    cleared), split into ``standing`` (not felled) and ``felled_not_cleared``, and
    ``cleared_late`` (cleared after the deadline) are judged on ``as_of`` — the township's
    data date, else today — so ``not_cleared_by_deadline = outstanding + cleared_late`` and
    ``outstanding = standing + felled_not_cleared``. ``tables["overdue_trees"]`` lists the
    outstanding trees (with ``include_late`` also those cleared late, flagged in
    ``state``) with lon/lat (EPSG:4326), plot, village and days overdue (from the deadline
    to ``as_of``, or to the clearing date for a tree cleared late; negative: days left
    when the deadline is after ``as_of``); ``features["overdue_trees"]`` holds the same
    points for a GeoPackage/KML.
    """
    if by not in ("village", "plot"):
        raise UsageError(f"cannot count trees by {by!r}", hint="use --by village or --by plot")
    as_of = as_of or township.config.data_date or dt.date.today()
    cutoff = deadline_cutoff(township, deadline, season)
    trees, findings = locate_trees(township)
    dates = event_dates(trees)
    rank = trees["status"].map(STATUS_RANK).to_numpy()

    def done_by(stage: str, day: dt.date) -> np.ndarray:
        d = dates[stage]
        # reached with no date: the status says it is done, so it counts as done
        return (rank >= STAGE_MIN_RANK[stage]) & (d.isna() | (d <= pd.Timestamp(day))).to_numpy()

    found_ok = (dates["found"].isna() | (dates["found"] <= pd.Timestamp(cutoff))).to_numpy()
    late = found_ok & ~done_by("cleared", deadline)
    cleared_now = done_by("cleared", as_of)
    outstanding = late & ~cleared_now
    cleared_late = late & cleared_now
    state = np.where(cleared_late, "cleared_late",
                     np.where(done_by("felled", as_of), "felled_not_cleared", "standing"))
    listed = late if include_late else outstanding
    sel = trees[listed]
    sel_dates = {k: v[listed] for k, v in dates.items()}
    sel_state = state[listed]
    stop = pd.Series(pd.Timestamp(as_of), index=sel.index)
    stop = stop.where(sel_state != "cleared_late", sel_dates["cleared"])
    days = (stop - pd.Timestamp(deadline)).dt.days
    ll = sel.geometry.to_crs(4326)
    layer = township.layer("infected_trees")
    listing = gpd.GeoDataFrame({
        "tree_id": layer.ids()[listed].to_numpy(),
        "state": sel_state,
        "status": sel["status"].to_numpy(),
        "village": sel["village"].to_numpy(),
        "plot_id": sel["plot_id"].to_numpy(),
        "found_date": sel_dates["found"].to_numpy(),
        "felled_date": sel_dates["felled"].to_numpy(),
        "cleared_date": sel_dates["cleared"].to_numpy(),
        "days_overdue": days.astype("Int64").to_numpy(),
        "lon": ll.x.round(7).to_numpy(),
        "lat": ll.y.round(7).to_numpy(),
    }, geometry=sel.geometry.to_numpy(), crs=trees.crs)
    if not include_late:
        listing = listing.drop(columns="cleared_date")
    listing = listing.sort_values(["days_overdue", "found_date", "tree_id"], ascending=[False, True, True],
                                  kind="stable", na_position="last")
    listing = listing.reset_index(drop=True)

    key = "village" if by == "village" else "plot_id"
    group = trees[key].astype(object).where(trees[key].notna(), OUTSIDE).astype(str)
    frame = pd.DataFrame({key: group.to_numpy(), "not_cleared_by_deadline": late, "outstanding": outstanding,
                          "standing": outstanding & (state == "standing"),
                          "felled_not_cleared": outstanding & (state == "felled_not_cleared"),
                          "cleared_late": cleared_late})
    columns = ["not_cleared_by_deadline", "outstanding", "standing", "felled_not_cleared", "cleared_late"]
    frame[columns] = frame[columns].astype(int)
    frame = frame[late]
    counts = frame.groupby(key, sort=False)[columns].sum()
    if by == "village":
        order = [v for v in _village_order(township, group) if v != OUTSIDE or (frame[key] == OUTSIDE).any()]
        counts = counts.reindex(order, fill_value=0)
    else:
        counts = counts.sort_index()
        if OUTSIDE in counts.index:
            counts = pd.concat([counts.drop(index=OUTSIDE), counts.loc[[OUTSIDE]]])
    table = counts.reset_index().rename(columns={"index": key})
    total = {key: TOTAL, **{c: int(frame[c].sum()) for c in columns}}
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)[[key, *columns]]

    if as_of > deadline:
        findings += _zero_findings(trees, dates, deadline, as_of, cutoff=cutoff)
    d, a = deadline.isoformat(), as_of.isoformat()
    notes = [f"trees found up to {cutoff.isoformat()} (the season's cut-off) and not cleared by the deadline {d}",
             (f"'not cleared by {d}' is judged on the deadline; 'outstanding', 'standing', 'felled, not cleared' and "
             f"'cleared late' on {a} (the as-of date: --as-of, else data_date in township.toml)"),
             ("the list holds the trees still outstanding on " + a if not include_late else
              f"the list holds the trees still outstanding on {a} and, flagged 'cleared late' in its state column, "
              f"those cleared between {d} and {a}")
             + f"; days overdue run from {d} to {a}" + (", or to the clearing date" if include_late else "")]
    if as_of < deadline:
        notes.append(f"the deadline {d} is after the as-of date {a}: the list shows what is still to clear, and a "
                     "negative 'days overdue' counts the days left")
    notes.append(f"boundary rule: {BOUNDARY_RULE}")
    prov = township.provenance(analysis="trees-deadline", deadline=d, cutoff=cutoff.isoformat(), as_of=a,
                               include_late=include_late, boundary_rule=BOUNDARY_RULE, record_rule=RECORD_RULE)
    labels = {"not_cleared_by_deadline": (f"Not cleared by {d}", f"截至{d}未清理(株)"),
              "outstanding": (f"Outstanding on {a}", f"截至{a}仍未清理(株)"),
              "standing": (f"Standing on {a}", f"截至{a}未伐(株)"),
              "felled_not_cleared": (f"Felled, not cleared, on {a}", f"截至{a}已伐未清理(株)"),
              "cleared_late": (f"Cleared {d} – {a}", f"逾期清理(截至{a})(株)"),
              "state": (f"State on {a}", f"截至{a}状态")}
    title = f"Trees not cleared by {d} — {township.config.display_name()}"
    return Result(title, table, title_zh=f"{township.config.name}截至 {d} 未清理疫木",
                  tables={"overdue_trees": pd.DataFrame(listing.drop(columns="geometry"))},
                  features={"overdue_trees": listing}, findings=findings, notes=notes, provenance=prov,
                  vocab={"status": "tree_status", "state": "overdue_state"}, decimals={"lon": 6, "lat": 6},
                  labels=labels)


LIST_SUFFIXES = (".gpkg", ".csv", ".kml", ".geojson")


def write_tree_list(result: Result, path: Any, *, lang: str = "en") -> None:
    """Write the trees of :func:`overdue_trees` as points for field crews, atomically:
    GeoPackage (layer ``overdue_trees``), GeoJSON, CSV (lon/lat, UTF-8 with BOM) or KML —
    each placemark named after its tree id with its state, village, plot and days overdue
    as description, in a document and folder named after the list, not the file."""
    from pathlib import Path

    from geo_township.io.write import atomic_path, write_vector

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in LIST_SUFFIXES:
        raise UsageError(f"cannot write the tree list as {path.suffix or 'a file without suffix'}",
                         hint="use a .gpkg, .csv, .kml or .geojson file name")
    gdf = result.features["overdue_trees"]
    if suffix == ".csv":
        write_vector(gdf.drop(columns=["lon", "lat"]), path, layer="overdue_trees")  # lon/lat added first
        return
    if suffix != ".kml":
        write_vector(gdf, path, layer="overdue_trees")
        return
    import pyogrio

    from geo_township.kinds import VOCABULARIES

    out = gdf.to_crs(4326)
    state = VOCABULARIES["overdue_state"]
    zh = lang == "zh"

    def part(values: pd.Series, en: str, zh_: str) -> pd.Series:
        text = values.astype(object).where(values.notna(), None)
        return text.map(lambda v: "" if v is None or str(v) == "" else (zh_ if zh else en).format(v))

    pieces = [out["state"].map(lambda c: state.label(c, lang)),
              part(out["village"], "village {}", "村 {}"), part(out["plot_id"], "plot {}", "小班 {}"),
              part(out["found_date"].dt.strftime("%Y-%m-%d"), "found {}", "发现 {}"),
              part(out["days_overdue"], "{} days overdue", "超期 {} 天")]
    unit = "\x1f"  # joins the pieces, then the empty ones are squeezed out
    describe = (pieces[0].str.cat(pieces[1:], sep=unit).str.replace(f"{unit}+", unit, regex=True).str.strip(unit)
                .str.replace(unit, "；" if zh else "; ", regex=False))
    for col in ("found_date", "felled_date", "cleared_date"):
        if col in out.columns:
            out[col] = out[col].dt.strftime("%Y-%m-%d").where(out[col].notna(), None)
    out.insert(0, "description", describe)
    out.insert(0, "name", out["tree_id"].astype(str))
    out["days_overdue"] = out["days_overdue"].astype("float64")
    doc = result.title_in(lang)
    with atomic_path(path) as tmp:
        pyogrio.write_dataframe(out, tmp, driver="LIBKML", layer="overdue_trees",
                                dataset_options={"NAME": doc},
                                layer_options={"NAME": "逾期未清理疫木" if zh else "Trees not cleared by the deadline"})
