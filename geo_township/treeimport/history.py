"""The trees layer's append-only history and the atomic write of layer and history.

A GeoPackage keeps its history in a table ``<layer>_history`` written in the same atomic
step as the layer. Any other layer has a sidecar ``<layer file>.history.csv`` (UTF-8 with
BOM), written *before* the layer with fingerprints of the layer file before and after
the import, so that an import killed between the two writes is recognised and its rows
removed (:func:`reconcile_history`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
import uuid
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo_township.io.write import atomic_path, geoparquet_file
from geo_township.results import Check, Finding, declare
from geo_township.treeimport.fields import plain_text
from geo_township.treeimport.layerfile import VECTOR_SUFFIXES, LayerFile
from geo_township.treeimport.merge import Change

log = logging.getLogger(__name__)

HISTORY_CHECKS = declare(
    Check("history_repaired", "warning", "interrupted import removed from the history", "已从变更历史中删除中断的导入",
          "{what}", "已从变更历史中删除一次中断的导入：{what}"),
)

HISTORY_COLUMNS = ["time", "import_id", "user", "source", "tree_id", "action", "field", "old", "new",
                   "layer_before", "layer_after"]
"""The trees layer's history columns: one row per change; ``import_id`` groups the rows of
one import and ``layer_before``/``layer_after`` fingerprint the layer file around it
(sidecar histories). Other kinds name the fifth column after their own id
(:func:`history_columns`)."""

#: The column older versions wrote the changed feature's id to, whatever the layer's kind.
OLD_ID_COLUMN = "tree_id"


def history_columns(id_column: str = "tree_id") -> list[str]:
    """The history's columns for a layer whose features are identified by ``id_column``
    (``plot_id``, ``parcel_id``, ``site_id``, ``outfall_id``; ``track`` for patrols)."""
    return [id_column if c == OLD_ID_COLUMN else c for c in HISTORY_COLUMNS]


def _id_column_of(columns: list[str]) -> str:
    """The id column of a history table as stored: the one column that is not a standard one."""
    standard = set(HISTORY_COLUMNS) - {OLD_ID_COLUMN}
    return next((str(c) for c in columns if c not in standard), OLD_ID_COLUMN)


def migrate_history(table: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """A history table with the columns :func:`history_columns` gives for ``id_column``:
    one written by an older version (ids in ``tree_id`` for every kind, no import id or
    fingerprints) has its id column renamed and the missing columns empty; rows kept."""
    if id_column not in table.columns and OLD_ID_COLUMN in table.columns:
        table = table.rename(columns={OLD_ID_COLUMN: id_column})
    return table.reindex(columns=history_columns(id_column), fill_value="")


def history_path(lf: LayerFile) -> Path:
    """Where the history lives: the GeoPackage itself, else a sidecar ``<file>.history.csv``."""
    return lf.path if lf.path.suffix.lower() == ".gpkg" else sidecar_path(lf.path)


def sidecar_path(layer_path: Path) -> Path:
    """The sidecar history of a trees layer that is not a GeoPackage."""
    return layer_path.with_name(layer_path.name + ".history.csv")


def history_table_name(lf: LayerFile) -> str:
    """The history table inside a GeoPackage layer: ``<layer>_history``."""
    return f"{lf.layer or lf.path.stem}_history"


def new_import_id(when: dt.datetime) -> str:
    """A unique id for one import: its time and a random suffix (20230402T093000-1a2b3c4d)."""
    return f"{when:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def _digest(data: bytes) -> str:
    """A short fingerprint of a layer file's bytes (SHA-256, first 16 hex digits)."""
    return hashlib.sha256(data).hexdigest()[:16]


def history_rows(changes: list[Change], *, source: Path, user: str, when: dt.datetime,
                 import_id: str, id_column: str = "tree_id") -> pd.DataFrame:
    """One history row per change, the feature's id in ``id_column`` (the kind's own id
    field); fingerprints empty until the layer is written."""
    return pd.DataFrame([{"time": when.isoformat(timespec="seconds"), "import_id": import_id, "user": user,
                          "source": str(source), id_column: c.tree_id, "action": c.action, "field": c.field,
                          "old": plain_text(c.old), "new": plain_text(c.new), "layer_before": "",
                          "layer_after": ""}
                         for c in changes], columns=history_columns(id_column))


def _write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (a temporary file; kept apart so a test can interrupt it)."""
    with open(path, "wb") as fh:
        fh.write(data)


def _csv_bytes(df: pd.DataFrame, *, encoding: str, bom: bool, sep: str = ",", newline: str = "\n") -> bytes:
    text = df.to_csv(index=False, sep=sep, lineterminator=newline)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def _read_sidecar(path: Path, id_column: str | None = None) -> pd.DataFrame:
    """A sidecar history with every column of :func:`history_columns` for ``id_column``
    (default: the id column the file has), migrated from an older file by
    :func:`migrate_history`."""
    if not path.exists():
        return pd.DataFrame(columns=history_columns(id_column or OLD_ID_COLUMN))
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return migrate_history(table, id_column or _id_column_of(list(table.columns)))


def write_history_csv(path: Path, rows: pd.DataFrame) -> None:
    """Append rows to a sidecar history: the old bytes are copied unchanged, then the new
    rows, into a temporary file renamed over the old one. (A history written by an older
    version, without the import id columns or with its ids under ``tree_id`` for another
    kind, is rewritten once with the new columns, its rows kept.)"""
    columns = history_columns(_id_column_of(list(rows.columns)))
    old = path.read_bytes() if path.exists() else b""
    header = ",".join(columns).encode("utf-8")
    if old and old.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].rstrip(b"\r") != header:
        rows = pd.concat([_read_sidecar(path, columns[4]), rows], ignore_index=True)
        old = b""
    new = _csv_bytes(rows[columns], encoding="utf-8", bom=not old)
    if old:
        new = new.split(b"\n", 1)[1]  # no second header
        if not old.endswith(b"\n"):
            old += b"\n"
    with atomic_path(path) as tmp:
        _write_bytes(tmp, old + new)


# --------------------------------------------------------------------------- writing layer and history


def write_layer(lf: LayerFile, history: pd.DataFrame) -> Path:
    """Write the layer (and its history) back atomically; returns where the history went.

    A sidecar history is written before the new layer file is renamed into place, with the
    fingerprints of the layer before and after the import, so that an import killed between
    the two can be recognised later (:func:`reconcile_history`)."""
    if lf.is_csv:
        return _write_csv_layer(lf, history)
    assert lf.geometry is not None, "a vector layer is read with its geometry"
    gdf = gpd.GeoDataFrame(lf.table, geometry=lf.geometry.to_numpy(), crs=lf.geometry.crs)
    if lf.path.suffix.lower() == ".gpkg":
        return _write_gpkg_layer(lf, gdf, history)
    return _write_vector_layer(lf, gdf, history)


def _write_csv_layer(lf: LayerFile, history: pd.DataFrame) -> Path:
    """A CSV layer in its own header, encoding, BOM, separator and line ends; the sidecar
    history (with both fingerprints) first."""
    csv = lf.csv
    assert csv is not None, "only a CSV layer is written as CSV"
    hist = history_path(lf)
    table = lf.table.copy()
    header = list(csv["header"]) + [c for c in table.columns[len(csv["header"]):]]
    table.columns = header
    data = _csv_bytes(table, encoding=csv["encoding"], bom=csv["bom"], sep=csv["sep"],
                      newline=csv["newline"])
    history = history.assign(layer_before=_digest(lf.path.read_bytes()), layer_after=_digest(data))
    write_history_csv(hist, history)
    with atomic_path(lf.path) as tmp:
        _write_bytes(tmp, data)
    return hist


def _write_gpkg_layer(lf: LayerFile, gdf: gpd.GeoDataFrame, history: pd.DataFrame) -> Path:
    """A GeoPackage with the layer and its history table rewritten in one atomic step."""
    import pyogrio

    name = history_table_name(lf)
    with atomic_path(lf.path) as tmp:
        shutil.copy2(lf.path, tmp)
        pyogrio.write_dataframe(gdf, tmp, layer=lf.layer, driver="GPKG")
        if len(history):
            columns = history_columns(_id_column_of(list(history.columns)))
            old = _read_gpkg_history(tmp, name) if _has_layer(tmp, name) else None
            if old is not None and list(old.columns) != columns:
                # an older table (no import id, or ids under tree_id): rewritten once, its rows kept
                history = pd.concat([migrate_history(old, columns[4]), history[columns]], ignore_index=True)
                pyogrio.write_dataframe(history, tmp, layer=name, driver="GPKG")
            else:
                pyogrio.write_dataframe(history, tmp, layer=name, driver="GPKG", append=old is not None)
    return history_path(lf)


def _write_vector_layer(lf: LayerFile, gdf: gpd.GeoDataFrame, history: pd.DataFrame) -> Path:
    """A GeoJSON, FlatGeobuf or GeoParquet layer; its sidecar history is written (with both
    fingerprints) while the new layer is still a temporary file."""
    import pyogrio

    hist = history_path(lf)
    suffix = lf.path.suffix.lower()
    before = _digest(lf.path.read_bytes())
    with atomic_path(lf.path) as tmp:
        if suffix in (".parquet", ".geoparquet"):
            geoparquet_file(gdf, tmp)
        else:
            pyogrio.write_dataframe(gdf, tmp, driver=VECTOR_SUFFIXES[suffix])
        write_history_csv(hist, history.assign(layer_before=before, layer_after=_digest(tmp.read_bytes())))
    return hist


def _has_layer(path: Path, name: str) -> bool:
    import pyogrio

    return name in [str(n) for n, _ in pyogrio.list_layers(path)]


def _read_gpkg_history(path: Path, name: str) -> pd.DataFrame:
    import pyogrio

    table = pd.DataFrame(pyogrio.read_dataframe(path, layer=name, read_geometry=False))
    return table.astype(object).where(table.notna(), "")


# --------------------------------------------------------------------------- reading and repairing


def read_history(lf_path: Path, layer: str | None = None, *, id_column: str = "tree_id") -> pd.DataFrame:
    """Every recorded change of a layer (empty when none yet), oldest first, the features'
    ids in ``id_column`` (the kind's id field; a history written the old way, with every
    kind's ids under ``tree_id``, is read as if written the new way)."""
    lf_path = Path(lf_path)
    if lf_path.suffix.lower() == ".gpkg":
        name = f"{layer or lf_path.stem}_history"
        if not _has_layer(lf_path, name):
            return pd.DataFrame(columns=history_columns(id_column))
        return migrate_history(_read_gpkg_history(lf_path, name), id_column)
    return _read_sidecar(sidecar_path(lf_path), id_column)


def reconcile_history(layer_path: Path, *, repair: bool = True) -> tuple[list[str], list[Finding]]:
    """Make a sidecar history agree with its layer after an interrupted import.

    A sidecar is written just before its layer, so a kill between the two leaves history
    rows for changes the layer never received. Each import records the layer's fingerprint
    before and after it; when the layer still has the *before* fingerprint of the last
    recorded import, that import never reached it and its rows are removed (the sidecar is
    rewritten atomically; with ``repair=False`` only reported). When the layer matches
    neither fingerprint it was edited by other means since, and the history is left alone.
    A GeoPackage keeps its history inside, written in the same atomic step: nothing to do.
    Returns notes and warning findings.
    """
    layer_path = Path(layer_path)
    side = sidecar_path(layer_path)
    if layer_path.suffix.lower() == ".gpkg" or not side.exists() or not layer_path.exists():
        return [], []
    hist = _read_sidecar(side)
    if not len(hist) or not hist["import_id"].iloc[-1]:
        return [], []
    last = hist["import_id"].iloc[-1]
    mine = (hist["import_id"] == last).to_numpy()
    first = hist[mine].iloc[0]
    if not first["layer_before"] or not first["layer_after"]:
        return [], []
    now = _digest(layer_path.read_bytes())
    if now == first["layer_after"]:
        return [], []
    if now != first["layer_before"]:
        return [(f"{layer_path.name} was changed by other means after the last import ({first['time']}); the "
                "history records only what imports changed")], []
    what = (f"the last import in {side.name} ({int(mine.sum())} change(s) from {Path(first['source']).name} at "
            f"{first['time']}, import {last}) never reached {layer_path.name}: it was interrupted before the layer "
            "was written")
    if repair:
        keep = hist[~mine]
        with atomic_path(side) as tmp:
            _write_bytes(tmp, _csv_bytes(keep, encoding="utf-8", bom=True))
        what += "; its rows were removed from the history"
    else:
        what += "; its rows will be removed from the history by the next import (dry run: nothing changed)"
    log.warning(what)
    return [what], [HISTORY_CHECKS.history_repaired.finding("infected_trees", "history", what=what)]
