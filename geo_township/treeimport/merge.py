"""The merge rules: what each survey line does to the trees layer — statuses only move
forward, empty cells are no news, new trees need a place and a status, one bad line
rejects the file unless bad lines are skipped."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_township.errors import FieldError
from geo_township.labels import Text, joined, text_in
from geo_township.record_checks import RECORD_CHECKS
from geo_township.results import Check, Finding, declare
from geo_township.tree_events import STAGE_DATES, STAGES, STATUS_RANK
from geo_township.treeimport.fields import EVENT_ORDER, KIND, plain_text
from geo_township.treeimport.survey import Survey

MAX_LISTED = 10
"""Bad lines named in the message that rejects a file (the rest are counted)."""

MERGE_CHECKS = declare(
    Check("skipped", "warning", "row skipped", "已跳过的行", "{reasons}", "已跳过：{reasons}"),
    Check("new_tree_without_date", "warning", "new tree without a find date", "新增疫木缺少发现日期",
          "survey line {line}: new tree without a find date (发现日期); it is counted in totals but in no period "
          "until the date is filled in",
          "调查表第 {line} 行：新增疫木缺少发现日期；计入总数，但在补填日期前不计入任何时段"),
    Check("status_backward", "error", "status would move backwards", "状态倒退",
          "survey line {line}: status {old} → {new} refused: a tree only moves forward (suspected → confirmed → "
          "felled → cleared → verified); use --allow-regress to correct a mistake",
          "调查表第 {line} 行：状态 {old} → {new} 被拒绝：疫木状态只能向前推进（疑似 → 已确认 → 已伐 → 已清理 → "
          "已核查）；如需更正错误，请加 --allow-regress"),
    Check("date_after_status", "warning", "date of an event undone (left out)", "已撤销环节的日期(未导入)",
          "survey line {line}: {field} {value} left out: the tree is set back to {status}, which has no {field}",
          "调查表第 {line} 行：{field} {value} 未导入：该疫木回退到 {status}，该状态没有 {field}"),
    Check("date_before_previous_event", "warning", "date before the previous event", "日期早于上一环节",
          "survey line {line}: {field} {date:%Y-%m-%d} is before {previous} {previous_date:%Y-%m-%d}; check the dates",
          "调查表第 {line} 行：{field} {date:%Y-%m-%d} 早于 {previous} {previous_date:%Y-%m-%d}，请核对日期"),
)
STATUS_WITHOUT_DATE = RECORD_CHECKS.status_without_date.reworded(
    "survey line {line}: {tree} is now {status} but has no {field} ({field_zh}); it counts in the totals but in no "
    "period until the date is filled in",
    "调查表第 {line} 行：{tree} 现为 {status}，但缺少{field_zh}（{field}）；计入总数，但在补填日期前不计入任何时段")
"""A tree a survey moves to a status without that event's date (the layer check, worded for the import)."""


@dataclass
class Change:
    """One field of one tree changed by an import (a history row)."""

    tree_id: str
    action: str
    field: str
    old: Any
    new: Any


def _same(a: Any, b: Any) -> bool:
    return plain_text(a) == plain_text(b)


def _missing(value: Any) -> bool:
    """An empty survey cell: no news."""
    return value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value))


def plan_merge(current: pd.DataFrame, survey: Survey, *, allow_regress: bool = False,
               skip_bad: bool = False) -> tuple[list[Change], dict[str, str], list[Finding], list[int]]:
    """Decide what each survey row does: returns the changes, each row's action per
    tree_id, findings, and the survey rows (positions) that add new trees.

    Raises :class:`FieldError` naming every bad line unless ``skip_bad``.
    """
    rows = survey.rows
    index = {str(t): i for i, t in enumerate(current["tree_id"]) if t is not None}
    bad = _bad_lines(survey, index)
    findings = refuse_or_skip(bad, survey.path, skip_bad)
    changes: list[Change] = []
    actions: dict[str, str] = {}
    added: list[int] = []
    fields = [c for c in survey.fields if c != "tree_id"] + survey.extras
    for pos in range(len(rows)):
        row = rows.iloc[pos]
        line = int(row["line"])
        tid = row["tree_id"]
        if line in bad:
            if tid is not None:
                actions.setdefault(str(tid), "skipped")
            continue
        tid = str(tid)
        if tid not in index:
            added.append(pos)
            actions[tid] = "added"
            mine, found = _plan_new_tree(tid, line, row, survey.lonlat[pos], rows.columns, fields)
        else:
            actions[tid], mine, found = _plan_known_tree(tid, line, row, current.iloc[index[tid]], rows.columns,
                                                         fields, allow_regress)
        changes += mine
        findings += found
    return changes, actions, findings, added


def _bad_lines(survey: Survey, index: dict[str, int]) -> dict[int, list[Text]]:
    """The survey's bad lines with their reasons, and new trees without coordinates or status."""
    rows = survey.rows
    has_xy = np.isfinite(survey.lonlat).all(axis=1)
    bad = {k: list(v) for k, v in survey.bad.items()}
    for pos in range(len(rows)):
        tid = rows["tree_id"].iloc[pos]
        if tid is None or str(tid) in index:
            continue
        line = int(rows["line"].iloc[pos])
        if not has_xy[pos]:
            bad.setdefault(line, []).append(Text(f"new tree {tid} has no coordinates", f"新疫木 {tid} 没有坐标"))
        if "status" not in rows.columns or rows["status"].iloc[pos] is None:
            bad.setdefault(line, []).append(Text(f"new tree {tid} has no status", f"新疫木 {tid} 没有状态"))
    return bad


def refuse_or_skip(bad: dict[int, list[Text]], path: Path, skip_bad: bool, *, skipped: Check | None = None,
                   layer: str = "survey") -> list[Finding]:
    """Reject the whole file ``path`` naming its bad lines (a :class:`FieldError`), or
    (``skip_bad``) list them as findings of ``skipped`` (default: the trees' ``skipped``)."""
    if bad and not skip_bad:
        shown = sorted(bad.items())[:MAX_LISTED]
        listed = "; ".join(f"line {n}: {', '.join(r)}" for n, r in shown)
        listed_zh = "；".join(f"第 {n} 行：{'，'.join(str(text_in(x, 'zh')) for x in r)}" for n, r in shown)
        more = f" and {len(bad) - MAX_LISTED} more line(s)" if len(bad) > MAX_LISTED else ""
        more_zh = f"，另有 {len(bad) - MAX_LISTED} 行" if len(bad) > MAX_LISTED else ""
        raise FieldError(f"{len(bad)} bad row(s), so nothing was imported — {listed}{more}", path=path,
                         message_zh=f"有 {len(bad)} 行有误，未导入任何内容 — {listed_zh}{more_zh}",
                         hint_zh="请改正这些行后重新导入，或加 --skip-bad 导入其余各行",
                         hint="correct these rows and import again, or add --skip-bad to import the other rows")
    check = skipped or MERGE_CHECKS.skipped
    return [check.finding(layer, Text(f"line {line}", f"第 {line} 行"), reasons=joined(list(reasons)))
            for line, reasons in sorted(bad.items())]


def _plan_new_tree(tid: str, line: int, row: pd.Series, lonlat: np.ndarray, columns,
                   fields: list[str]) -> tuple[list[Change], list[Finding]]:
    """A tree not in the layer: its location and every filled field are added."""
    findings: list[Finding] = []
    lon, lat = lonlat
    changes = [Change(tid, "added", "location", None, f"{lon:.7f}, {lat:.7f}")]
    if "found_date" not in columns or pd.isna(row["found_date"]):
        findings.append(MERGE_CHECKS.new_tree_without_date.finding("infected_trees", tid, line=line))
    if STATUS_RANK[row["status"]] >= STATUS_RANK["felled"]:
        findings += _status_without_date(tid, line, row["status"], None, row, columns, set())
    for f in fields:
        if not _missing(row[f]):
            changes.append(Change(tid, "added", f, None, row[f]))
    return changes, findings


def _plan_known_tree(tid: str, line: int, row: pd.Series, cur: pd.Series, columns, fields: list[str],
                     allow_regress: bool) -> tuple[str, list[Change], list[Finding]]:
    """A tree already in the layer: its action (refused, regressed, advanced, updated,
    unchanged), its changes and findings."""
    old_status = cur.get("status")
    new_status = row["status"] if "status" in columns else None
    regress = new_status is not None and old_status is not None and \
        STATUS_RANK[new_status] < STATUS_RANK[old_status]
    if regress and not allow_regress:
        refused = MERGE_CHECKS.status_backward.finding("infected_trees", tid, line=line, old=old_status,
                                                       new=new_status)
        return "refused", [], [refused]
    later = set(_later_dates(new_status)) if regress and new_status is not None else set()  # regress implies a status
    mine, findings = _field_changes(tid, line, row, cur, fields, later, new_status)
    advanced = any(c.field == "status" for c in mine)
    action = "advanced" if advanced else ("updated" if mine else "unchanged")
    if advanced and regress:
        action = "regressed"
    for c in mine:
        c.action = action
    findings += _date_order(tid, line, cur, row, columns)
    if advanced:
        assert new_status is not None  # the status changed, so the row gave one
        findings += _status_without_date(tid, line, new_status, cur, row, columns, later)
    return action, mine, findings


def _field_changes(tid: str, line: int, row: pd.Series, cur: pd.Series, fields: list[str], later: set[str],
                   new_status: str | None) -> tuple[list[Change], list[Finding]]:
    """The fields a known tree's survey line changes (action not yet set). A tree set back
    loses the dates of the events undone (``later``); a survey date for one is left out."""
    findings: list[Finding] = []
    mine: list[Change] = []
    for f in fields:
        new = row[f]
        if _missing(new):
            continue
        if f in later:
            findings.append(MERGE_CHECKS.date_after_status.finding("infected_trees", tid, line=line, field=f,
                                                                   value=plain_text(new), status=new_status))
            continue
        old = cur.get(f) if f in cur.index else None
        if _same(old, new):
            continue
        mine.append(Change(tid, "", f, old, new))
    for f in sorted(later, key=EVENT_ORDER.index):
        # set back: the dates of the events undone are emptied (their old values stay in the history)
        old = cur.get(f) if f in cur.index else None
        if plain_text(old) != "":
            mine.append(Change(tid, "", f, old, None))
    return mine, findings


def _later_dates(status: str) -> tuple[str, ...]:
    """The event dates that come after ``status`` in a tree's life (emptied when a tree is
    set back to it); the find date is never among them."""
    return EVENT_ORDER[max(STATUS_RANK[status], 0) + 1:]


def _status_without_date(tid: str, line: int, status: str, cur: pd.Series | None, row: pd.Series, columns,
                         emptied: set[str]) -> list[Finding]:
    """A tree moved to ``status`` with no date for that event (its own date field, nor the
    field used in its place — see :data:`geo_township.tree_events.STAGE_DATES`) is reported: it
    counts in the totals but in no period until the date is filled in."""
    stage = STAGES[STATUS_RANK[status]]
    for f in STAGE_DATES[stage]:
        new = row[f] if f in columns else None
        if new is not None and not pd.isna(new):
            return []
        old = cur.get(f) if cur is not None and f in cur.index and f not in emptied else None
        if old is not None and not pd.isna(old):
            return []
    own = STAGE_DATES[stage][0]
    return [STATUS_WITHOUT_DATE.finding("infected_trees", tid, line=line, tree=tid, status=status, field=own,
                                        field_zh=KIND.field(own).zh)]


def _date_order(tid: str, line: int, cur: pd.Series, row: pd.Series, columns) -> list[Finding]:
    """A new date earlier than the tree's previous event is reported."""
    merged = {}
    for f in EVENT_ORDER:
        new = row[f] if f in columns else None
        old = cur.get(f) if f in cur.index else None
        value = new if new is not None and not pd.isna(new) else old
        merged[f] = value if value is not None and not pd.isna(value) else None
    out = []
    for i, f in enumerate(EVENT_ORDER):
        new = row[f] if f in columns else None
        if new is None or pd.isna(new):
            continue
        earlier = [(g, merged[g]) for g in EVENT_ORDER[:i] if merged[g] is not None and merged[g] > new]
        for g, d in earlier:
            out.append(MERGE_CHECKS.date_before_previous_event.finding(
                "infected_trees", tid, line=line, field=f, date=new, previous=g, previous_date=d))
    return out
