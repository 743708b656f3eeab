"""The events of a pine-wilt tree's life and the calendar they are counted in: the event
dates and status ranks, periods (``--from/--to``), clearing seasons (``--season``) and
the cohort of the clearance rate.

Trees, hotspots and the tree import all build on these; this module builds on none of
them.

Rules (also in each Result's provenance):

* **Events and dates.** A tree is *found* on ``found_date``; *confirmed* on
  ``confirmed_date`` (else ``found_date``); *felled* on ``felled_date`` (else
  ``cleared_date``); *cleared* on ``cleared_date`` (else ``verified_date``); *verified* on
  ``verified_date``. Its status says which events have happened.
* **Periods** (:data:`PERIOD_RULE`): each event is selected by its own date; *standing*
  and *not cleared* are states at the end of the period.
* **Clearance rate** (:data:`RATE_RULE`): a cohort rate over the trees due by the last
  season cut-off on or before the period's end (no period: the as-of date).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo_township.errors import UsageError
from geo_township.vocabulary import TREE_STATUS

if TYPE_CHECKING:
    from geo_township.layers import Township

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

UNKNOWN_STATUS_RULE = ("a tree whose status is blank or not understood counts as found and still standing "
                       "(and not cleared) until its status says otherwise; its rows are reported")
UNKNOWN_STATUS_RULE_ZH = "状态为空或无法识别的疫木按已发现、未伐（未清理）计，直至状态另有说明；并列出这些行"

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
RATE_RULE_ZH = ("除治率 = 其中已除治 ÷ 应除治 × 100，按批次计算：应除治是统计期内（无统计期则为全部）发现、且在"
                "统计期末（无统计期则为判断日期）之前最近一个除治季截止日（season_end）以前发现的疫木——到那时必须"
                "清理完的一批；其中已除治是这批中到统计期末（无统计期则为判断日期）已清理的。截止日之后发现的疫木"
                "尚未到期，不计入，所以除治率不会超过 100%；除治目标按这个比率考核。“已清理”一栏仍按统计期内的"
                "清理事件计数，不论疫木何时发现")
COUNT_COLUMNS = ("found", "confirmed", "felled", "cleared", "verified", "standing", "not_cleared", "due",
                 "due_cleared")
"""The per-tree flags that the tables sum, in column order."""


# --------------------------------------------------------------------------- periods and seasons


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


def due_dates(found: pd.Series, *, latest: dt.date, season_start: str = "10-01", season_end: str = "03-31"
              ) -> pd.Series:
    """Each tree's own due date: the first season cut-off (``season_end``) on or after the
    day it was found — a tree found in a clearing season is due by that season's end, one
    found between seasons by the next season's end — but never after ``latest`` (the
    deadline asked about); a tree without a find date is due on ``latest``."""
    codes, distinct = pd.factorize(found, use_na_sentinel=True)
    per_day = []
    for day in pd.DatetimeIndex(distinct).date:
        year = season_of(day, season_start=season_start, season_end=season_end)
        end = season_bounds(year, season_start=season_start, season_end=season_end)[1]
        if end < day:
            end = season_bounds(year + 1, season_start=season_start, season_end=season_end)[1]
        per_day.append(min(end, latest))
    values = np.array([pd.Timestamp(d) for d in per_day] + [pd.Timestamp(latest)], dtype="datetime64[ns]")
    return pd.Series(values[codes], index=found.index, dtype="datetime64[ns]")  # code -1 (no date): latest


def season_params(township: Township) -> dict[str, str]:
    """The township's clearing-season bounds (``season_start``, ``season_end``) as keyword
    arguments for :func:`season_bounds`, :func:`season_of` and :func:`last_cutoff`."""
    params = township.config.parameters
    return {"season_start": params["season_start"], "season_end": params["season_end"]}


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


# --------------------------------------------------------------------------- events


def _ranks(status: pd.Series) -> pd.Series:
    """``status`` as :data:`STATUS_RANK`, looked up once per distinct status. A blank or
    unknown status ranks as found (0): the record is still a tree, standing until a
    status says otherwise (:data:`UNKNOWN_STATUS_RULE`)."""
    codes, distinct = pd.factorize(status.to_numpy(dtype=object), use_na_sentinel=True)
    per_status = np.array([STATUS_RANK.get(v, 0) for v in distinct] + [0], dtype="int64")
    return pd.Series(per_status[codes], index=status.index, name=status.name)  # code -1 (missing): the 0 at the end


def status_rank(trees: pd.DataFrame) -> np.ndarray:
    """Each tree's place in its life (0 suspected … 4 verified), from its status."""
    return _ranks(trees["status"]).to_numpy()


def event_dates(trees: pd.DataFrame) -> dict[str, pd.Series]:
    """Each event's date per tree (NaT when the event has not happened or has no date)."""
    rank = _ranks(trees["status"])
    out = {}
    for stage in STAGES:
        date = pd.Series(pd.NaT, index=trees.index, dtype="datetime64[ns]")
        for col in reversed(STAGE_DATES[stage]):
            if col in trees.columns:
                date = trees[col].where(trees[col].notna(), date)
        out[stage] = date.where(rank >= STAGE_MIN_RANK[stage])
    return out


def done_by(rank: np.ndarray, dates: dict[str, pd.Series], stage: str, day: dt.date) -> np.ndarray:
    """Per tree: ``stage`` happened on or before ``day``. A tree whose status has reached
    the stage but has no date for it counts as done: the status says so."""
    d = dates[stage]
    return (rank >= STAGE_MIN_RANK[stage]) & (d.isna() | (d <= pd.Timestamp(day))).to_numpy()


def found_by(dates: dict[str, pd.Series], day: dt.date) -> np.ndarray:
    """Per tree: found on or before ``day`` (a tree without a find date counts as found)."""
    return (dates["found"].isna() | (dates["found"] <= pd.Timestamp(day))).to_numpy()


def event_flags(trees: pd.DataFrame, period: Period, *, dates: dict[str, pd.Series] | None = None
                ) -> tuple[pd.DataFrame, list[str]]:
    """Per tree: one boolean per count column (see :data:`PERIOD_RULE`), and notes on
    trees whose dates are missing. ``dates``: :func:`event_dates` of ``trees`` when the
    caller has them already."""
    rank = status_rank(trees)
    dates = event_dates(trees) if dates is None else dates
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
        found_by_end = found_by(dates, period.end)
        felled_by_end = done_by(rank, dates, "felled", period.end)
        cleared_by_end = done_by(rank, dates, "cleared", period.end)
    flags["standing"] = found_by_end & ~felled_by_end
    flags["not_cleared"] = found_by_end & ~cleared_by_end
    return flags, notes


# --------------------------------------------------------------------------- the clearance cohort


def cohort_rate(table: pd.DataFrame) -> pd.Series:
    """The cohort clearance rate (%, see :data:`RATE_RULE`) of each row of a table with
    ``due`` and ``due_cleared``; empty where no tree was due."""
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
        return due, due & done_by(status_rank(trees), dates, "cleared", self.by)


def clearance_cohort(township: Township, period: Period, as_of: dt.date) -> Cohort:
    """The cut-off and the clearing day of the clearance rate for ``period`` (see
    :data:`RATE_RULE`): the period's end (never after ``as_of``), else ``as_of``."""
    by = min(period.end, as_of) if period.end is not None else as_of
    return Cohort(last_cutoff(by, **season_params(township)), by)
