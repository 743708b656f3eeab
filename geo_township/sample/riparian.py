"""A riparian shelter belt (护岸林): the sample's one forest plot and one land transfer that
reach into a river management zone.

Every other forest plot lies on the slopes, outside the valley floors, and every other
contract keeps clear of the zones, so without this plot the rivers command, its map layer
and the audit's river-zone rule would never show a polygon inside a zone. The belt is a
planted broadleaf strip along one bank of a tributary, from ``zone_m − 8`` to ``zone_m + 12``
metres from the centre line and 300 m long: its river-side edge lies 8 m inside the zone,
and it stays inside the field-free ring the farm fields keep around each zone
(``fields.ZONE_MARGIN``), so it touches no field, contract or basic farmland. It joins an
existing compartment (林班) of its village as the next sub-compartment (小班).

Its management right was contracted out by the village collective to a nursery company
(林地, 苗木花卉): the audit's ``in_river_zone`` rule flags it as a **warning** (the use must
be checked against the river's rules), never an error.

Nothing here draws on the other layers' random streams (only stream 44, for the declared
area), and it is added after the rasters are planned, so every other layer and every
raster stays as it was: the land-cover raster burns the valley floor over forest plots, so
the belt's pixels keep their class (耕地) and NDVI.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon
from shapely.ops import substring

from . import names
from .fields import ZONE_MARGIN
from .geometry import (
    GEO_EPSG,
    WORK_EPSG,
    ZONE39_EPSG,
    ZONE39_SHIFT,
    geod_area_mu,
    geoms_to_lonlat,
    geoms_to_zone39,
    largest_polygon,
)
from .terrain import Landscape, rng_stream

#: Metres of the belt inside the zone, outside it, and its length along the river.
INSIDE_M, OUTSIDE_M, LENGTH_M = 8.0, 12.0, 300.0
#: Where to look for it, in order: reach, then centre of the stretch (fraction of the reach).
REACHES = ("LTX-01", "SMH-01", "SMH-02", "QXH-03", "QXH-02")
FRACTIONS = (0.65, 0.75, 0.55, 0.35, 0.25)
#: Points (outfalls, sand sites, trees) and hamlets keep at least this far from the belt.
CLEAR_M = 60.0
SPECIES, ORIGIN, PLANTED = "阔叶混交", "人工", 2016
TRANSFEREE, USE, START, YEARS = "池州青山苗木花卉有限公司", "苗木花卉", dt.date(2023, 3, 1), 15
assert INSIDE_M > 0 and OUTSIDE_M < ZONE_MARGIN  # the belt crosses the zone line, short of the fields


@dataclass
class Riparian:
    """The forest plots and land transfers with the belt added, and its truth."""

    forest_plots: gpd.GeoDataFrame  # EPSG:4527, as written
    land_transfers: gpd.GeoDataFrame  # EPSG:4490, as written
    truth: dict


def _strip(line, a: float, b: float, side: float, inner: float, outer: float) -> Polygon | None:
    """The band between ``inner`` and ``outer`` metres from ``line`` on one side, along the
    stretch ``a``–``b`` (metres along it), with square ends."""
    seg = substring(line, a, b)
    far = shapely.buffer(seg, side * outer, single_sided=True, quad_segs=16)
    near = shapely.buffer(seg, side * inner, single_sided=True, quad_segs=16)
    parts = shapely.difference(far, near)
    if parts.is_empty:
        return None
    strip = largest_polygon(parts)
    return strip if strip.is_valid and abs(strip.area - (outer - inner) * (b - a)) < 0.05 * strip.area else None


def _place(land: Landscape, rivers_gk: gpd.GeoDataFrame, points: np.ndarray, hamlets: list[dict]
           ) -> tuple[Polygon, str, int]:
    """The first stretch (in REACHES × FRACTIONS × both banks order) where the belt lies in
    one village, clear of other reaches' zones (+ margin), of every point and hamlet."""
    lines = dict(zip(rivers_gk["河段编号"], rivers_gk.geometry, strict=True))
    zone_of = dict(zip(rivers_gk["河段编号"], rivers_gk["管理范围"].astype(float), strict=True))
    pts = shapely.points(points)
    discs = [shapely.Point(h["x"], h["y"]).buffer(h["radius_m"] + CLEAR_M) for h in hamlets]
    for code in REACHES:
        line, zone = lines[code], zone_of[code]
        others = shapely.union_all([lines[c].buffer(zone_of[c] + ZONE_MARGIN) for c in lines if c != code])
        for frac in FRACTIONS:
            mid = frac * line.length
            for side in (1.0, -1.0):
                strip = _strip(line, mid - LENGTH_M / 2, mid + LENGTH_M / 2, side, zone - INSIDE_M, zone + OUTSIDE_M)
                if strip is None or strip.intersects(others) or not land.valley.contains(strip):
                    continue
                village = [i for i, v in enumerate(land.villages) if v.buffer(-5.0).contains(strip)]
                if not village or shapely.intersects(strip.buffer(CLEAR_M), pts).any():
                    continue
                if any(strip.intersects(d) for d in discs):
                    continue
                return strip, code, village[0]
    raise RuntimeError("no room for the riparian belt")  # pragma: no cover - fixed layout


def riparian(land: Landscape, rivers: gpd.GeoDataFrame, forest: gpd.GeoDataFrame,
             transfers: gpd.GeoDataFrame, points: np.ndarray, hamlets: list[dict], seed: int
             ) -> Riparian:
    """Add the belt to ``forest`` (EPSG:4527, as written) and its contract to ``transfers``
    (EPSG:4490), clear of ``points`` (trees, sand sites, outfalls: an (n, 2) array of
    EPSG:4548 metres) and of the ``hamlets`` (EPSG:4548 discs)."""
    rivers_gk = rivers.to_crs(WORK_EPSG)
    strip, reach, vi = _place(land, rivers_gk, points, hamlets)
    # as the other plots: snapped to 1 mm in the zone-39 frame the shapefile holds
    g39 = shapely.set_precision(geoms_to_zone39([strip])[0], 0.001)
    plot = shapely.transform(g39, lambda c: c - np.array([ZONE39_SHIFT, 0.0]))
    vname, chief = names.VILLAGES[vi][0], names.VILLAGES[vi][3]

    # the next sub-compartment of the nearest compartment of its village
    own = forest[forest["村名"] == vname]
    nearest = own.iloc[int(np.argmin(own.to_crs(WORK_EPSG).distance(plot).to_numpy()))]
    compartment = str(nearest["林班号"])
    sub = int(own.loc[own["林班号"] == compartment, "小班号"].astype(int).max()) + 1
    code = f"{vi + 1:02d}{compartment}{sub:03d}"
    plot_ll = geoms_to_lonlat([plot])
    row = {"林班号": compartment, "小班号": f"{sub:03d}", "小班编码": code, "村名": vname, "优势树种": SPECIES,
           "起源": ORIGIN, "造林年度": np.int32(PLANTED), "面积": round(float(geod_area_mu(plot_ll)[0]), 2),
           "林长": chief}
    added = gpd.GeoDataFrame([row], geometry=[g39], crs=ZONE39_EPSG).astype(forest.dtypes.drop("geometry").to_dict())
    forest = pd.concat([forest, added], ignore_index=True)

    # its contract: the plot 2 m in from its edges, as the other forest-land contracts
    parcel = largest_polygon(plot.buffer(-2.0, join_style="mitre"))
    parcel_ll = geoms_to_lonlat([parcel])
    measured = float(geod_area_mu(parcel_ll)[0])
    declared = round(measured * (1.0 + rng_stream(seed, 44).uniform(-0.015, 0.015)), 2)
    parcel_id = f"TZ-QX-{len(transfers) + 1:04d}"
    end = START.replace(year=START.year + YEARS) - dt.timedelta(days=1)
    contract = {"地块编号": parcel_id, "村名": vname, "地类": "林地", "流出方": f"{vname}集体", "流入方": TRANSFEREE,
                "合同面积": declared, "起始日期": START.isoformat(), "终止日期": end.isoformat(), "用途": USE}
    transfers = pd.concat([transfers, gpd.GeoDataFrame([contract], geometry=parcel_ll, crs=GEO_EPSG)],
                          ignore_index=True)

    # truth: the part inside the reach's zone (its line buffered by zone_m), ellipsoidal
    zone = rivers_gk.loc[rivers_gk["河段编号"] == reach]
    zone_poly = zone.geometry.iloc[0].buffer(float(zone["管理范围"].iloc[0]), quad_segs=16)
    line = zone.geometry.iloc[0]

    def inside_mu(g: Polygon) -> float:
        return round(float(geod_area_mu(geoms_to_lonlat([g.intersection(zone_poly)]))[0]), 4)

    truth = {
        "forest_plots_in_zone": [{"plot_id": code, "village": vname, "reach": reach, "species": SPECIES,
                                  "inside_mu": inside_mu(plot), "distance_m": round(plot.distance(line), 3)}],
        "land_transfers_in_zone": [{"parcel_id": parcel_id, "village": vname, "reach": reach, "use": USE,
                                    "inside_mu": inside_mu(parcel), "distance_m": round(parcel.distance(line), 3)}],
    }
    return Riparian(forest, transfers, truth)
