"""An import into any layer kind as one step: read the layer and the source, plan the
merge, write layer and history — or, in a dry run, only say what would change."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from geo_township.errors import FieldError
from geo_township.layerimport.merge import as_recorded, plan_layer_merge
from geo_township.layerimport.rules import MergeRule, rule
from geo_township.layerimport.source import read_source
from geo_township.layerimport.target import (
    LayerTable,
    apply_changes,
    current_values,
    feature_key,
    read_layer_table,
)
from geo_township.layerimport.write import write_layer_table
from geo_township.layers import Township
from geo_township.results import Result
from geo_township.treeimport import reconcile_history
from geo_township.treeimport.history import history_rows, new_import_id
from geo_township.treeimport.importer import current_user

ACTIONS = ("added", "updated", "renewed", "regressed", "refused", "unchanged", "skipped")
"""The rows of a layer import's summary table, in order (``renewed`` only for kinds with
renewals, land transfers)."""
CHANGE_COLUMNS = ["feature", "action", "field", "old", "new"]


def import_layer(township: Township, source: str | Path, *, layer: str, allow_regress: bool = False,
                 skip_bad: bool = False, dry_run: bool = False, encoding: str | None = None, crs: Any = None,
                 from_crs: str | None = None, user: str | None = None,
                 now: dt.datetime | None = None, source_layer: str | None = None) -> Result:
    """Merge the file ``source`` into the township's layer ``layer`` (a kind of
    :data:`geo_township.layerimport.rules.RULES`) by the kind's id, with the rules of
    :mod:`geo_township.layerimport.merge`. The main table counts features per action;
    ``tables["changes"]`` lists every change (id, action, field, old → new). ``dry_run``
    computes the same and writes nothing. ``source_layer`` chooses the layer of a
    GeoPackage or File Geodatabase source that holds several."""
    merge_rule = rule(layer)
    source = Path(source)
    lt = read_layer_table(township, merge_rule)
    notes, findings = reconcile_history(lt.path, repair=not dry_run)
    current = current_values(lt, township, merge_rule)
    _refuse_duplicate_ids(current, lt, merge_rule)
    src = read_source(source, township, merge_rule, encoding=encoding, crs=crs, from_crs=from_crs,
                      source_layer=source_layer)
    changes, actions, found, new = plan_layer_merge(current, src, merge_rule, allow_regress=allow_regress,
                                                    skip_bad=skip_bad)
    findings += found
    user = user or current_user()
    when = now or dt.datetime.now().astimezone()
    import_id = new_import_id(when)
    history = history_rows(as_recorded(changes), source=source.resolve(), user=user, when=when, import_id=import_id,
                           id_column=merge_rule.history_id)
    written = None
    if changes and not dry_run:
        rows = apply_changes(lt, current, merge_rule, changes, new)
        if "start" in merge_rule.same_keys:
            starts = {key: src.rows["start"].iloc[pos] for pos in range(len(src.rows))
                      for key in [feature_key(merge_rule, src.rows.iloc[pos], pos)] if key in new}
            lt.starts = {rows[k]: v for k, v in starts.items()}
        written = write_layer_table(lt, history)
    en, zh = _outcome(lt, len(changes), written, import_id, dry_run)
    prov = township.provenance(analysis="import", layer=layer, source=str(source.resolve()),
                               layer_file=str(lt.path), import_id=import_id if written else None, user=user,
                               time=when.isoformat(timespec="seconds"), dry_run=dry_run,
                               allow_regress=allow_regress, skip_bad=skip_bad, from_crs=from_crs)
    table = history.rename(columns={merge_rule.history_id: "feature"})[CHANGE_COLUMNS] if len(history) else \
        pd.DataFrame(columns=CHANGE_COLUMNS)
    title = f"Import of {source.name} into {lt.path.name} ({layer})" + (" (dry run)" if dry_run else "")
    title_zh = f"导入 {source.name} 到 {lt.path.name}（{merge_rule.spec.zh}）" + ("（试运行）" if dry_run else "")
    return Result(title, _action_counts(actions, merge_rule), tables={"changes": table} if len(table) else {},
                  findings=findings, notes=[*src.notes, *notes, en], notes_zh=[*src.notes_zh, *notes, zh],
                  provenance=prov, vocab={"action": "import_action"}, title_zh=title_zh)


def _refuse_duplicate_ids(current: pd.DataFrame, lt: LayerTable, merge_rule: MergeRule) -> None:
    """Updates are matched by id: a layer with one id on two features cannot take them."""
    if merge_rule.id_field is None or merge_rule.id_field not in current.columns:
        if merge_rule.id_field is not None:
            raise FieldError(f"the layer has no {merge_rule.id_field} field to match updates by", path=lt.path,
                             message_zh=f"图层没有用于匹配更新的 {merge_rule.id_field} 字段",
                             hint_zh=f"添加该字段，或在 township.toml 中映射：fields = {{ {merge_rule.id_field} = "
                             '"列名" }',
                             hint=f"add the field, or map it in township.toml: fields = {{ {merge_rule.id_field} = "
                             '"COLUMN" }')
        return
    ids = current[merge_rule.id_field]
    dup = ids.notna() & ids.duplicated(keep=False)
    if dup.any():
        shown = ", ".join(map(str, ids[dup].unique()[:5]))
        raise FieldError(f"the layer has duplicate ids ({shown}), so updates cannot be matched", path=lt.path,
                         message_zh=f"图层中有重复编号（{shown}），无法匹配更新",
                         hint_zh="为每个要素设置唯一编号（geo-township check 会列出重复项），然后重新导入",
                         hint="give each feature its own id (geo-township check lists them), then import again")


def _action_counts(actions: dict[str, str], merge_rule: MergeRule) -> pd.DataFrame:
    """Features per action, in the order of :data:`ACTIONS`."""
    counts = Counter(actions.values())
    shown = [a for a in ACTIONS if a != "renewed" or merge_rule.renew_field]
    return pd.DataFrame({"action": shown, "features": [counts.get(a, 0) for a in shown]})


def _outcome(lt: LayerTable, n: int, written: Path | None, import_id: str, dry_run: bool) -> tuple[str, str]:
    """What the import wrote, in English and Chinese."""
    if dry_run:
        return "dry run: nothing was written", "试运行：未写入任何文件"
    if not n:
        return ("no change to write: the layer already holds everything in the source (no file written)",
                "没有需要写入的变更：图层已包含源文件的全部内容（未写入文件）")
    assert written is not None, "changes outside a dry run are written"
    where = f"{written.name}" + (f" (table {lt.layer}_history)" if written == lt.path else "")
    where_zh = f"{written.name}" + (f"（表 {lt.layer}_history）" if written == lt.path else "")
    return (f"{n} change(s) written to {lt.path.name}; history in {where}, import {import_id}",
            f"已将 {n} 项变更写入 {lt.path.name}；变更历史见 {where_zh}，导入编号 {import_id}")

