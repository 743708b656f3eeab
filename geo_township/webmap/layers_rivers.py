"""The map layers of the rivers analysis (:func:`geo_township.rivers.river_report`): how
its Result looks on the map."""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.kinds import KINDS
from geo_township.layers import Township, feature_ids
from geo_township.overlay import Category, Overlay
from geo_township.results import Result
from geo_township.zones import POLYGON_TYPE_IDS

ZONE_COLOR = "#1f78b4"
IN_ZONE_CATEGORIES = {
    "sand_sites": ("#e31a1c", "circle"),
    "outfalls": ("#6a3d9a", "square"),
    "land_transfers": ("#ff7f00", ""),
    "forest_plots": ("#33a02c", ""),
}
"""Colour and symbol of each layer's features inside a river management zone."""


def _in_zone_frames(result: Result) -> tuple[list[gpd.GeoDataFrame], list[gpd.GeoDataFrame]]:
    """The features inside the zones (``in_zone_*`` of the Result), as points and polygons
    with their layer, id, reach, chief and distance to the river."""
    points, polygons = [], []
    for key, gdf in result.features.items():
        if not key.startswith("in_zone_") or not len(gdf):
            continue
        kind_name = key.removeprefix("in_zone_")
        ids = feature_ids(gdf, KINDS[kind_name])
        frame = gpd.GeoDataFrame({"layer": kind_name, "feature": ids.to_numpy(), "reach": gdf["reach"].to_numpy(),
                                  "river_chief": gdf["river_chief"].to_numpy(),
                                  "distance_m": gdf["distance_m"].round(1).to_numpy()},
                                 geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
        is_poly = np.isin(shapely.get_type_id(frame.geometry.to_numpy()), POLYGON_TYPE_IDS)
        points.append(frame[~is_poly])
        polygons.append(frame[is_poly])
    return points, polygons


def river_overlays(result: Result, township: Township) -> list[Overlay]:
    """Map layers of the rivers analysis: management zones, what lies inside them (points
    and polygons), and the river split into patrolled and unpatrolled stretches."""
    overlays = [Overlay("river_zones", "River management zones", "河道管理范围", result.features["zones"], "polygon",
                        color=ZONE_COLOR, fields=["reach", "river_name", "river_chief", "zone_m", "zone_area_mu"],
                        description="each reach buffered by its zone_m, dissolved per reach",
                        description_zh="各河段按管理范围宽度(米)外扩，按河段合并", id_field="reach",
                        vocab={"chief_level": "chief_level"}, decimals={"zone_m": 0, "zone_area_mu": 2},
                        fill_opacity=0.2, weight=1.0)]
    points, polygons = _in_zone_frames(result)
    cats = [Category(k, KINDS[k].en, KINDS[k].zh, color, symbol) for k, (color, symbol) in IN_ZONE_CATEGORIES.items()]
    fields = ["layer", "feature", "reach", "river_chief", "distance_m"]
    crs = township.working_crs
    zone_layers: tuple[tuple[str, str, str, Literal["point", "line", "polygon"], list[gpd.GeoDataFrame]], ...] = (
        ("river_zone_polygons", "Inside river zones (areas)", "管理范围内地块", "polygon", polygons),
        ("river_zone_points", "Inside river zones (points)", "管理范围内点位", "point", points),
    )
    for key, en, zh, geometry, parts in zone_layers:
        gdf = (gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=crs) if parts
               else gpd.GeoDataFrame({f: [] for f in fields}, geometry=gpd.GeoSeries([], crs=crs), crs=crs))
        if len(gdf):
            present = set(gdf["layer"])
            overlays.append(Overlay(key, en, zh, gdf, geometry, category_field="layer",
                                    categories=[c for c in cats if c.code in present], fields=fields,
                                    id_field="feature", symbol="diamond", decimals={"distance_m": 1}, highlight=True,
                                    description="features that intersect a river management zone, with the reach, "
                                    "its chief and the distance to the river line (m)",
                                    description_zh="与河道管理范围相交的要素，含所在河段、河长及距河道距离(米)"))
    if "patrol_coverage" in result.features:
        overlays.append(Overlay(
            "patrol_coverage", "Patrol coverage", "巡河覆盖", result.features["patrol_coverage"], "line",
            category_field="status",
            categories=[Category("patrolled", "patrolled", "已巡", "#1a9850"),
                        Category("unpatrolled", "not patrolled", "未巡", "#d73027")],
            fields=["reach", "river_chief", "status"], id_field="reach", weight=4.0,
            labels={"status": ("Patrol", "巡河情况")},
            description="river within patrol_buffer_m of any patrol track in the record",
            description_zh="巡河轨迹一定距离(patrol_buffer_m)内的河道为已巡",
        ))
    return overlays
