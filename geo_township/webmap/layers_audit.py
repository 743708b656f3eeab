"""The map layers of the land-transfer audit (:func:`geo_township.transfers.audit_transfers`):
how its Result looks on the map."""

from __future__ import annotations

from geo_township.layers import Township
from geo_township.overlay import Overlay
from geo_township.results import Result
from geo_township.transfers import AUDIT_CATEGORIES

#: The parcel fields the map's popup lists, in order.
AUDIT_MAP_FIELDS = ["parcel_id", "village", "land_type", "use", "declared_mu", "measured_mu", "diff_mu", "start_date",
                    "end_date", "checks", "double_counted_with", "double_counted_mu", "renewal_with", "outside_mu",
                    "on_farmland_mu", "on_forest_mu", "in_zone_mu", "bad_values", "details"]


def audit_overlays(result: Result, township: Township) -> list[Overlay]:
    """Map layers of the audit: the land-transfer parcels with findings, coloured by their
    worst finding and drawn emphasised, and the land two contracts claim at the same time.

    A parcel's popup shows its checks (codes labelled through the ``audit_check``
    vocabulary), the numbers behind them (the parcel it is counted twice with and the
    mu, the mu outside its village, on basic farmland …) and the findings' messages
    (``details``). Only legend classes that occur are listed."""
    parcels = result.features["parcels"]
    flagged = parcels[parcels["audit"] != "ok"].copy()
    flagged["check"] = flagged["checks"].str.split(", ").str[0]  # the most serious one
    present = set(flagged["audit"])
    vocab = {**result.vocab, "checks": "audit_check"}
    overlays = [Overlay(
        key="land_transfer_audit", en="Land-transfer audit findings", zh="土地流转审计问题", gdf=flagged,
        geometry="polygon", category_field="audit", categories=[c for c in AUDIT_CATEGORIES if c.code in present],
        fields=[f for f in AUDIT_MAP_FIELDS if f in flagged.columns],
        description="parcels with audit findings, by the worst one (details in the popup and in geo-township audit)",
        description_zh="有审计问题的流转地块，按最严重的问题着色（详情见弹窗及 geo-township audit）",
        id_field="parcel_id", vocab=vocab, decimals=dict(result.decimals),
        highlight=True, weight=3.0, fill_opacity=0.45,
    )]
    if "overlap" in result.features:
        overlays.append(Overlay(
            key="land_transfer_double_counted", en="Land counted twice", zh="重复流转地块",
            gdf=result.features["overlap"],
            geometry="polygon", color="#7b3294",
            fields=["parcel_a", "parcel_b", "overlap_mu", "share_a_pct", "share_b_pct", "start_a", "end_a", "start_b",
                    "end_b"],
            description="land two contracts cover at the same time", description_zh="两份期限重叠的合同同时覆盖的土地",
            decimals=dict(result.decimals), highlight=True, weight=3.0, fill_opacity=0.6, dash="4 3",
        ))
    return overlays
