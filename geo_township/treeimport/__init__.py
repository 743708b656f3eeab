"""Status updates from the field: merge a crew's survey file into the pine-wilt trees layer
by ``tree_id``, keeping the layer's own format and words, with an append-only history.

Rules
-----
* **Merge by tree_id.** A status only moves forward along suspected → confirmed → felled →
  cleared → verified; a backward move is refused with a message (``allow_regress=True``
  lets a correction through). A date earlier than the tree's previous event is reported.
  New ids are added with their location. Empty cells in the survey mean "no news" and
  never blank a value. Columns the tool does not know are kept (added to the layer; the
  placemark numbers a KML writer adds are not a column of the survey).
  The location of a tree already in the layer is never moved by a survey.
* **One bad row rejects the whole file**, with every bad row named by its line (an id
  missing or repeated, a status word or date not understood, coordinates that are not
  numbers, a new tree without coordinates or status) — unless ``skip_bad=True``, which
  imports the rest and lists what was skipped.
* **The layer keeps its format.** A CSV stays a CSV with the same headers, separator,
  encoding (and BOM) and line endings; statuses are written in the words the file already
  uses for them (Chinese words when it uses Chinese words); dates in the file's own style
  (2022/3/5, 2022-03-05, 2022年3月5日 …). GeoPackage, GeoJSON, FlatGeobuf and GeoParquet
  layers are rewritten in their format. (Shapefiles, KML and XLSX layers are refused:
  they cannot be replaced in one step — convert the layer to GeoPackage or CSV.)
* **Atomic and idempotent.** Every file is written to a temporary file next to it and
  renamed into place, so a crash leaves the old file; importing the same file twice
  changes nothing the second time (and writes nothing).
* **History.** Every change is appended (old rows are never changed) with the time, the
  import's id, user (``getpass.getuser()``), source file, tree_id, action, field, old and
  new value: in a table ``<layer>_history`` inside a GeoPackage (written in the same
  atomic step as the layer), else in a sidecar ``<layer file>.history.csv`` (UTF-8 with
  BOM), written *before* the layer so a change in the layer is never missing from the
  history, with fingerprints of the layer file before and after the import. If an import
  is killed between the two writes, the next import (or ``trees --history``) finds the
  layer still at the *before* fingerprint and removes that import's rows, with a warning
  (:func:`~geo_township.treeimport.history.reconcile_history`).
* **Coordinates.** A survey's coordinates are read in ``--crs`` when given, else in the
  file's CRS, else one inferred from the numbers (8-digit Gauss–Krüger eastings carry
  their zone; 6-digit ones need ``gk_zone`` in township.toml or ``--crs``); the
  township's default ``crs`` is used only when the numbers fit it, so metres are never
  written as degrees. A new tree outside China or further than ``import_max_outside_m``
  outside the township is a bad row; survey coordinates further than
  ``import_moved_warn_m`` from a known tree's stored location are reported.
* **Setting back.** With ``allow_regress`` a tree set back (e.g. verified → felled) loses
  the dates of the events undone (清理日期, 核查日期 …); their old values are in the history.
  A tree moved to a status without that event's date is reported.

Modules
-------
:mod:`~geo_township.treeimport.survey` reads and checks the survey,
:mod:`~geo_township.treeimport.merge` holds the merge rules,
:mod:`~geo_township.treeimport.layerfile` reads the layer's file and writes the changes
into it in its own words, :mod:`~geo_township.treeimport.history` keeps the history and
writes layer and history atomically, :mod:`~geo_township.treeimport.importer` runs an
import and shows one tree's history.
"""

from geo_township.tree_events import STATUS_RANK
from geo_township.treeimport.fields import DATE_FIELDS, EVENT_ORDER, KIND
from geo_township.treeimport.history import (
    HISTORY_COLUMNS,
    history_path,
    read_history,
    reconcile_history,
    sidecar_path,
    write_history_csv,
    write_layer,
)
from geo_township.treeimport.importer import ACTIONS, import_survey, tree_history
from geo_township.treeimport.layerfile import (
    LayerFile,
    apply_changes,
    date_style,
    format_date,
    read_layer_file,
    status_words,
)
from geo_township.treeimport.merge import Change, plan_merge
from geo_township.treeimport.survey import CRS_HINT, Survey, check_locations, read_survey

__all__ = [
    "ACTIONS",
    "CRS_HINT",
    "DATE_FIELDS",
    "EVENT_ORDER",
    "HISTORY_COLUMNS",
    "KIND",
    "STATUS_RANK",
    "Change",
    "LayerFile",
    "Survey",
    "apply_changes",
    "check_locations",
    "date_style",
    "format_date",
    "history_path",
    "import_survey",
    "plan_merge",
    "read_history",
    "read_layer_file",
    "read_survey",
    "reconcile_history",
    "sidecar_path",
    "status_words",
    "tree_history",
    "write_history_csv",
    "write_layer",
]
