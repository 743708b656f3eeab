"""Land-transfer audit (土地流转审计): prove every transferred mu, find what is counted
twice, misplaced or prohibited.

For the ``land_transfers`` layer (in the township's working CRS, metres) the audit checks

1. **declared vs measured**: ``declared_mu`` against the drawn parcel's area (ellipsoidal
   on CGCS2000 by default, or planar in the Gauss–Krüger zone — the township's
   ``area_method``); flagged beyond ``tolerance_pct`` (% of the measured area) or, when it
   is set, beyond ``tolerance_mu`` (``tolerance_rule = "both"``: only beyond both);
2. **overlaps**: pairs of parcels sharing more than ``overlap_min_mu`` (smaller overlaps
   are digitising slivers), measured like the parcels. When the two contracts also run at
   the same time the land is counted twice (error); when one ends before the other starts
   it is a renewal (info). A missing date counts as open-ended, so an overlap is only
   called a renewal when the dates prove it;
3. **outside its village**: the part of a parcel outside the village it is recorded under;
4. **location**: a non-farming use (``non_farming_uses``) on permanent basic farmland
   (prohibited, error); a farmland transfer on forest sub-compartments (warning); a parcel
   reaching into a river management zone (each reach buffered by its ``zone_m``, else the
   township's ``zone_m``; warning). Areas below ``overlap_min_mu`` are ignored here too;
5. **records**: duplicate or missing parcel ids, missing declared area, end before start,
   contracts longer than ``max_contract_years``, missing dates, dates or numbers the file
   holds but that cannot be understood (``2020-13-01``: reported, read as missing, and the
   audit goes on), unknown villages, invalid geometries (audited with a repaired copy,
   offered in the GeoPackage; the file is never changed) and features without geometry;
6. **totals** by village, land type, use and year of start — declared and measured — and
   the share of each village's permanent basic farmland that transfers cover.

Every finding names its parcel ids (an id several features share is followed by the
feature's place in the file, ``A (feature 3)``: findings are tracked per feature, never
per id); its geometry (the parcel, or the offending part) is in ``Result.features`` under
the check's code, ready for :func:`write_findings`. Messages are in English and
Chinese (``Finding.message_zh``).

Layout: :mod:`.findings` (the checks and the collector of their findings),
:mod:`.land_checks` (area, overlaps, villages, other layers under a parcel),
:mod:`.records` (ids, declared areas, dates, geometries, unreadable cells),
:mod:`.totals` (totals and the per-parcel layer) and :mod:`.audit` (the audit as a whole
and its GeoPackage).
"""

from geo_township.transfers.audit import (
    AUDIT_CATEGORIES,
    audit_layers,
    audit_transfers,
    township_river_zones,
    write_findings,
)
from geo_township.transfers.findings import CHECKS, LAYER, SEVERITY_ORDER

__all__ = [
    "AUDIT_CATEGORIES",
    "CHECKS",
    "LAYER",
    "SEVERITY_ORDER",
    "audit_layers",
    "audit_transfers",
    "township_river_zones",
    "write_findings",
]
