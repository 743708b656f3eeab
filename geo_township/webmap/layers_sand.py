"""The map layers of the sand analysis (:func:`geo_township.sand.sand_report`): how its
Result looks on the map."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from geo_township.layers import Township
from geo_township.locate import inside_points
from geo_township.overlay import Category, Overlay
from geo_township.results import Result
from geo_township.vocabulary import SAND_ZONE

SAND_ZONE_COLORS = {"no_mining": "#d7191c", "reserved": "#fdae61", "permitted": "#1a9641"}


def sand_overlays(result: Result, township: Township) -> list[Overlay]:
    """Map layers of the sand analysis: the sand-plan zones by kind, and the sites with a
    finding (polygon sites as a point inside them), by the finding's severity."""
    overlays = []
    if "sand_zones" in result.features:
        zones = result.features["sand_zones"]
        overlays.append(Overlay(
            "sand_zones", "Sand-mining plan zones", "采砂规划分区", zones, "polygon", category_field="zone",
            categories=[Category(t.code, t.en, t.zh, SAND_ZONE_COLORS[t.code]) for t in SAND_ZONE.terms],
            fields=[c for c in ("zone_id", "zone", "name", "river") if c in zones.columns], id_field="zone_id",
            fill_opacity=0.25, description="zones of the river's sand-mining plan (河道采砂规划)",
            description_zh="河道采砂规划：禁采区、保留区、可采区"))
    bad = result.features.get("site_findings")
    if bad is not None and len(bad):
        pts = bad.set_geometry(gpd.GeoSeries(inside_points(bad.geometry.to_numpy()), crs=bad.crs))
        pts = pts[["site_id", "site_name", "status", "check", "reach", "distance_m", "in_zone_of", "sand_zone",
                   pts.geometry.name]].copy()
        pts["distance_m"] = pts["distance_m"].round(0)
        severe = {f.feature for f in result.findings if f.severity == "error"}
        pts["severity"] = np.where(pts["site_id"].isin(severe), "error", "warning")
        overlays.append(Overlay(
            "sand_findings", "Sand sites with problems", "采砂点问题", pts, "point", category_field="severity",
            categories=[Category("error", "breaks a rule", "违规", "#b10026", "triangle"),
                        Category("warning", "worth a look", "需核查", "#fd8d3c", "triangle")],
            fields=["site_id", "site_name", "status", "check", "reach", "distance_m", "in_zone_of", "sand_zone"],
            id_field="site_id", highlight=True, labels={"check": ("Problem", "问题")},
            vocab={"status": "sand_status", "sand_zone": "sand_zone"}, decimals={"distance_m": 0},
            description="active sites in no-mining or reserved zones (errors), illegal sites not closed, "
            "inconsistent status histories",
            description_zh="禁采区或保留区内在产的采砂点(违规)、未关停的非法采砂点、状态与日期矛盾的采砂点"))
    return overlays
