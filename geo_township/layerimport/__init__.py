"""Field data into any layer: ``geo-township import SRC --layer KIND`` for forest plots,
land transfers, sand sites, outfalls and patrol tracks, with the guarantees of the trees
import (:mod:`geo_township.treeimport`): merged by the kind's id, statuses only forward
where they have an order, an append-only history, atomic writes, idempotent, and a dry
run that says what would change.

Modules
-------
:mod:`~geo_township.layerimport.rules` the per-kind rules (data),
:mod:`~geo_township.layerimport.source` reads the source file (CSV/XLSX, KML/KMZ, GPX,
shapefile, GeoPackage, File Geodatabase), :mod:`~geo_township.layerimport.target` reads
the layer's file and applies changes in its own words,
:mod:`~geo_township.layerimport.merge` plans the merge,
:mod:`~geo_township.layerimport.write` writes layer and history atomically,
:mod:`~geo_township.layerimport.importer` runs it.
"""

from geo_township.layerimport.importer import ACTIONS, import_layer
from geo_township.layerimport.rules import RULES, MergeRule, rule
from geo_township.layerimport.source import Source, read_source

__all__ = ["ACTIONS", "RULES", "MergeRule", "Source", "import_layer", "read_source", "rule"]
