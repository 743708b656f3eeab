"""The merge rules for every kind: what each source line does to the layer.

* A line whose id is in the layer updates its fields (an empty cell is no news and never
  blanks a value) and, when the source has a geometry that differs, its geometry.
* A status with an order (:data:`geo_township.layerimport.rules.RULES`) only moves
  forward; a backward move is refused, or with ``allow_regress`` recorded as ``regressed``.
* A line with a new id adds a feature; it needs a geometry and the kind's required fields
  (a sand site's status, a contract's parcel id).
* Append-only kinds (patrols): a feature already present — the same key fields (chief and
  start time to the minute) or the same geometry — is skipped and reported,
  any other is added.
* One bad line rejects the whole file, naming every bad line, unless ``skip_bad``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo_township.labels import Text
from geo_township.layerimport.rules import MergeRule
from geo_township.layerimport.source import Source
from geo_township.layerimport.target import feature_key
from geo_township.results import Check, Finding, declare
from geo_township.treeimport import Change
from geo_township.treeimport.fields import plain_text
from geo_township.treeimport.merge import refuse_or_skip
from geo_township.vocabulary import VOCABULARIES

SAME_GEOMETRY_DEG = 1e-6
"""Geometries closer than this (degrees, about 0.1 m) everywhere are the same geometry."""

LAYER_MERGE_CHECKS = declare(
    Check("import_skipped", "warning", "source line skipped", "已跳过的源文件行", "{reasons}",
          "已跳过：{reasons}"),
    Check("import_status_backward", "error", "status would move backwards", "状态倒退",
          "source line {line}: {id} status {old} → {new} refused: the status only moves forward; use "
          "--allow-regress to correct a mistake",
          "源文件第 {line} 行：{id} 的状态 {old_zh} → {new_zh} 被拒绝：状态只能向前推进；"
          "如需更正错误，请加 --allow-regress"),
    Check("import_already_present", "info", "already in the layer (skipped)", "图层中已有(已跳过)",
          "source line {line}: {id} is already in the layer ({why}); skipped",
          "源文件第 {line} 行：{id} 已在图层中（{why_zh}），已跳过"),
)

SAME_ZH = {"same chief and start time": "同一巡河人、同一开始时间", "same geometry": "轨迹相同"}
"""Why a patrol track counts as already present, in Chinese."""

Plan = tuple[list[Change], dict[str, str], list[Finding], dict[str, Any]]


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value))


def same_geometry(a, b) -> bool:
    """The same shape to :data:`SAME_GEOMETRY_DEG`, whatever the start vertex and ring
    orientation (desktop GIS writes rings clockwise, others anticlockwise) or single/multi."""
    def norm(g):
        if g.geom_type.startswith("Multi") and len(g.geoms) == 1:
            g = g.geoms[0]
        return shapely.normalize(g)
    return bool(shapely.equals_exact(norm(a), norm(b), tolerance=SAME_GEOMETRY_DEG))


def as_recorded(changes: list[Change]) -> list[Change]:
    """The changes as the history records them: geometries as WKT (CGCS2000, 7 decimals)."""
    return [replace(c, old=_wkt(c.old), new=_wkt(c.new)) if c.field == "geometry" else c for c in changes]


def _wkt(geom) -> str | None:
    return None if geom is None else shapely.to_wkt(geom, rounding_precision=7)


def plan_layer_merge(current: pd.DataFrame, source: Source, rule: MergeRule, *, allow_regress: bool = False,
                     skip_bad: bool = False) -> Plan:
    """Decide what each source line does. Returns the changes (one per field), each
    feature's action by key, findings, and the new features' geometries by key.

    Raises :class:`FieldError` naming every bad line unless ``skip_bad``."""
    bad = {k: list(v) for k, v in source.bad.items()}
    geoms = source.geometry.to_numpy()
    has_geom = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    rows = source.rows
    if rule.id_field is not None:
        known = {str(v) for v in current[rule.id_field] if v is not None}
        required = [f.name for f in rule.spec.fields if f.required and f.name != rule.id_field]
        for pos in range(len(rows)):
            fid = rows[rule.id_field].iloc[pos]
            if fid is None or str(fid) in known:
                continue
            why = ([] if has_geom[pos] else [("has no geometry", "没有图形")]) + [
                (f"has no {f}", f"没有{rule.spec.field(f).zh}（{f}）") for f in required
                if f not in rows.columns or _missing(rows[f].iloc[pos])]
            if why:
                bad.setdefault(int(rows["line"].iloc[pos]), []).append(Text(
                    f"new {rule.id_field} {fid} {', '.join(en for en, _ in why)}",
                    f"新{rule.spec.field(rule.id_field).zh} {fid} {'，'.join(zh for _, zh in why)}"))
    elif not has_geom.all():
        for line in rows["line"][~has_geom]:
            bad.setdefault(int(line), []).append(Text("no geometry", "没有图形"))
    findings = refuse_or_skip(bad, source.path, skip_bad, skipped=LAYER_MERGE_CHECKS.import_skipped,
                              layer="source")
    if rule.id_field is None:
        return _plan_appends(current, source, rule, bad, findings)
    return _plan_by_id(current, source, rule, bad, findings, allow_regress)


def _plan_by_id(current: pd.DataFrame, source: Source, rule: MergeRule, bad: dict[int, list[Text]],
                findings: list[Finding], allow_regress: bool) -> Plan:
    rows = source.rows
    geoms = source.geometry.to_numpy()
    index = {str(v): i for i, v in enumerate(current[rule.id_field]) if v is not None}
    fields = [c for c in source.fields if c != rule.id_field] + source.extras
    changes: list[Change] = []
    actions: dict[str, str] = {}
    new: dict[str, Any] = {}
    for pos in range(len(rows)):
        row = rows.iloc[pos]
        line = int(row["line"])
        fid = row[rule.id_field]
        if line in bad:
            if fid is not None:
                actions.setdefault(str(fid), "skipped")
            continue
        fid = str(fid)
        geom = geoms[pos]
        if fid not in index:
            actions[fid] = "added"
            new[fid] = geom
            changes.append(Change(fid, "added", "geometry", None, geom))
            changes += [Change(fid, "added", f, None, row[f]) for f in fields if not _missing(row[f])]
            continue
        cur = current.iloc[index[fid]]
        old_s, new_s = cur.get("status"), row.get("status")
        if rule.status_rank and not _missing(old_s) and not _missing(new_s) \
                and rule.status_rank.get(new_s, 0) < rule.status_rank.get(old_s, 0):
            if not allow_regress:
                actions[fid] = "refused"
                words = VOCABULARIES[rule.spec.field("status").vocabulary or ""]
                findings.append(LAYER_MERGE_CHECKS.import_status_backward.finding(
                    rule.kind, fid, line=line, id=fid, old=old_s, new=new_s, old_zh=words.label(old_s, "zh"),
                    new_zh=words.label(new_s, "zh")))
                continue
        mine = [Change(fid, "", f, cur.get(f) if f in cur.index else None, row[f]) for f in fields
                if not _missing(row[f]) and plain_text(cur.get(f) if f in cur.index else None) != plain_text(row[f])]
        old_geom = cur["geometry"]
        if rule.geometry_updates and geom is not None and not shapely.is_empty(geom) and (
                old_geom is None or not same_geometry(old_geom, geom)):
            mine.append(Change(fid, "", "geometry", old_geom, geom))
        regressed = any(c.field == "status" for c in mine) and not _missing(old_s) and \
            rule.status_rank.get(row.get("status"), 0) < rule.status_rank.get(old_s, 0)
        action = "regressed" if regressed else ("updated" if mine else "unchanged")
        if action == "updated" and any(c.field == rule.renew_field and not _missing(c.old) and c.new > c.old
                                       for c in mine):
            action = "renewed"
        for c in mine:
            c.action = action
        actions[fid] = action
        changes += mine
    return changes, actions, findings, new


def _plan_appends(current: pd.DataFrame, source: Source, rule: MergeRule, bad: dict[int, list[Text]],
                  findings: list[Finding]) -> Plan:
    """Append-only kinds: each source feature is added unless already present."""
    rows = source.rows
    geoms = source.geometry.to_numpy()
    keys = {feature_key(rule, current.iloc[i], i) for i in range(len(current))}
    have = [g for g in current["geometry"] if g is not None]
    tree = shapely.STRtree(have) if have else None
    fields = list(source.fields) + source.extras
    changes: list[Change] = []
    actions: dict[str, str] = {}
    new: dict[str, Any] = {}
    for pos in range(len(rows)):
        row = rows.iloc[pos]
        line = int(row["line"])
        key = feature_key(rule, row, pos)
        if line in bad:
            actions.setdefault(f"line {line}", "skipped")
            continue
        why = None
        if key in keys or key in new:
            why = "same chief and start time"
        elif tree is not None and any(same_geometry(have[j], geoms[pos]) for j in tree.query(geoms[pos])):
            why = "same geometry"
        if why is not None:
            actions[f"line {line}"] = "unchanged"
            findings.append(LAYER_MERGE_CHECKS.import_already_present.finding(
                rule.kind, key, line=line, id=key, why=why, why_zh=SAME_ZH[why]))
            continue
        actions[key] = "added"
        new[key] = geoms[pos]
        changes.append(Change(key, "added", "geometry", None, geoms[pos]))
        changes += [Change(key, "added", f, None, row[f]) for f in fields if f != "start" and not _missing(row[f])]
    return changes, actions, findings, new
