"""The import as one step — read the layer and the survey, check, plan the merge, write
layer and history — and the history of one tree."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from geo_township.errors import FieldError, NotFoundError, UsageError
from geo_township.layers import Township
from geo_township.results import Result
from geo_township.treeimport.fields import EVENT_ORDER
from geo_township.treeimport.history import (
    history_path,
    history_rows,
    history_table_name,
    new_import_id,
    read_history,
    reconcile_history,
    write_layer,
)
from geo_township.treeimport.layerfile import (
    LayerFile,
    apply_changes,
    current_values,
    read_layer_file,
)
from geo_township.treeimport.merge import plan_merge
from geo_township.treeimport.survey import check_locations, read_survey
from geo_township.vocabulary import TREE_STATUS

ACTIONS = ("added", "advanced", "updated", "refused", "unchanged", "skipped")
"""The rows of an import's summary table, in order (``regressed`` is added when it occurs)."""
CHANGE_COLUMNS = ["tree_id", "action", "field", "old", "new"]


def import_survey(township: Township, source: str | Path, *, layer: str = "infected_trees",
                  allow_regress: bool = False, skip_bad: bool = False, dry_run: bool = False,
                  from_gcj02: bool = False, encoding: str | None = None, crs: Any = None,
                  user: str | None = None, now: dt.datetime | None = None, from_crs: str | None = None,
                  source_layer: str | None = None) -> Result:
    """Merge the survey file ``source`` into the township's trees layer (see
    :mod:`geo_township.treeimport` for the rules). The main table counts trees per action
    (added, advanced, updated, refused, unchanged, skipped); ``tables["changes"]`` lists
    every change. ``crs`` is the survey's coordinate system when its file does not say
    (e.g. ``"EPSG:4548"``); ``from_crs`` (``"gcj02"``, ``"bd09"``) converts coordinates copied
    from a map app (``from_gcj02=True`` is ``from_crs="gcj02"``). ``source_layer`` chooses
    the layer of a GeoPackage or File Geodatabase that holds several. ``dry_run`` computes
    the same summary and writes nothing."""
    if layer != "infected_trees":
        raise UsageError(f"import merges updates into infected_trees, not {layer!r}",
                         hint="use --layer infected_trees (other layers: replace their file and edit township.toml)")
    source = Path(source)
    params = township.config.parameters
    lf = read_layer_file(township)
    notes, findings = reconcile_history(lf.path, repair=not dry_run)
    current = current_values(lf, township)
    _refuse_duplicate_ids(current, lf)
    survey = read_survey(source, township, from_gcj02=from_gcj02, encoding=encoding, crs=crs,
                         from_crs=from_crs, source_layer=source_layer)
    known = {str(t) for t in current["tree_id"] if t is not None}
    findings += check_locations(township, survey, known, max_outside_m=float(params["import_max_outside_m"]),
                                moved_warn_m=float(params["import_moved_warn_m"]))
    changes, actions, merge_findings, added = plan_merge(current, survey, allow_regress=allow_regress,
                                                         skip_bad=skip_bad)
    findings += merge_findings
    user = user or current_user()
    when = now or dt.datetime.now().astimezone()
    import_id = new_import_id(when)
    history = history_rows(changes, source=source.resolve(), user=user, when=when, import_id=import_id)
    written = None
    if changes and not dry_run:
        apply_changes(lf, current, survey, changes, added)
        written = write_layer(lf, history)
    notes_zh = list(survey.notes_zh) + notes
    notes = list(survey.notes) + notes
    en, zh = _outcome_note(lf, len(changes), written, import_id, dry_run)
    notes_zh.append(zh)
    notes.append(en)
    prov = township.provenance(analysis="import", source=str(source.resolve()), layer_file=str(lf.path),
                               history=str(history_path(lf)), import_id=import_id if changes and not dry_run else None,
                               user=user, time=when.isoformat(timespec="seconds"), dry_run=dry_run,
                               allow_regress=allow_regress, skip_bad=skip_bad, from_gcj02=from_gcj02,
                               from_crs=from_crs,
                               survey_crs=survey.crs.to_string() if survey.crs is not None else None)
    changes_table = history[CHANGE_COLUMNS] if len(history) else pd.DataFrame(columns=CHANGE_COLUMNS)
    return Result(f"Import of {source.name} into {lf.path.name}" + (" (dry run)" if dry_run else ""),
                  _action_counts(actions), tables={"changes": changes_table} if len(changes_table) else {},
                  findings=findings, notes=notes, provenance=prov, notes_zh=notes_zh, vocab={"action": "import_action"},
                  title_zh=f"导入 {source.name} 到 {lf.path.name}（疫木）" + ("（试运行）" if dry_run else ""))


def _refuse_duplicate_ids(current: pd.DataFrame, lf: LayerFile) -> None:
    """Updates are matched by id: a layer with an id on two trees cannot take them."""
    dup = current["tree_id"].notna() & current["tree_id"].duplicated(keep=False)
    if dup.any():
        shown = ", ".join(map(str, current["tree_id"][dup].unique()[:5]))
        raise FieldError(f"the trees layer has duplicate ids ({shown}), so updates cannot be matched", path=lf.path,
                         hint="give each tree its own id (geo-township check lists them), then import again")


def _action_counts(actions: dict[str, str]) -> pd.DataFrame:
    """Trees per action, in the order of :data:`ACTIONS` (and ``regressed`` when any)."""
    counts = Counter(actions.values())
    table = pd.DataFrame({"action": list(ACTIONS), "trees": [counts.get(a, 0) for a in ACTIONS]})
    if counts.get("regressed"):
        table = pd.concat([table, pd.DataFrame([{"action": "regressed", "trees": counts["regressed"]}])],
                          ignore_index=True)
    return table


def _outcome_note(lf: LayerFile, n_changes: int, written: Path | None, import_id: str,
                  dry_run: bool) -> tuple[str, str]:
    """What the import wrote, in English and Chinese: nothing (dry run, or no change), or
    how many changes where."""
    if dry_run:
        return "dry run: nothing was written", "试运行：未写入任何文件"
    if not n_changes:
        return ("no change to write: the layer already holds everything accepted from the survey "
                "(no file written)", "没有需要写入的变更：图层已包含调查表中可接受的全部内容（未写入文件）")
    assert written is not None, "changes outside a dry run are written"
    table = f" (table {history_table_name(lf)})" if written == lf.path else ""
    table_zh = f"（表 {history_table_name(lf)}）" if written == lf.path else ""
    return (f"{n_changes} change(s) written to {lf.path.name}; history in {written.name}{table}, import {import_id}",
            f"已将 {n_changes} 项变更写入 {lf.path.name}；变更历史见 {written.name}{table_zh}，导入编号 {import_id}")


def current_user() -> str:
    """The login name recorded in the history (``unknown`` where there is none)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        return os.environ.get("USERNAME", "unknown")


def tree_history(township: Township, tree_id: str) -> Result:
    """Every recorded change of one tree, oldest first, and its current record. An
    interrupted import's rows are first removed from a sidecar history
    (:func:`reconcile_history`)."""
    layer = township.layer("infected_trees")
    notes, findings = reconcile_history(layer.path)
    hist = read_history(layer.path, layer.spec.layer)
    mine = hist[hist["tree_id"].astype(str) == str(tree_id)].reset_index(drop=True)
    ids = layer.ids()
    now = layer.gdf[ids.to_numpy() == str(tree_id)]
    if not len(now) and not len(mine):
        raise NotFoundError(f"no tree {tree_id!r} in the layer or its history", path=layer.path,
                            hint="check the id (geo-township trees --deadline lists ids)",
                            message_zh=f"图层及其变更记录中没有编号为 {tree_id!r} 的疫木",
                            hint_zh="请核对编号（geo-township trees --deadline 会列出编号）")
    if len(now):
        rec = now.iloc[0]
        parts = [f"status {TREE_STATUS.label(rec['status'])}"]
        for f in EVENT_ORDER:
            if f in rec.index and pd.notna(rec[f]):
                parts.append(f"{f} {rec[f]:%Y-%m-%d}")
        notes.append(f"now: {', '.join(parts)}")
    if not len(mine):
        notes.append("no recorded changes (the tree has not been changed by an import)")
    return Result(f"History of tree {tree_id}", mine[["time", "user", "source", "action", "field", "old", "new"]],
                  notes=notes, findings=findings,
                  provenance=township.provenance(analysis="history", tree_id=str(tree_id)))
