"""River reaches and their management zones (河道管理范围): the one definition the rivers
report, the sand report and the land-transfer audit share.

* **Reach** — the unit a chief answers for: features with the same ``reach_id``; a
  feature without one is keyed by its river ``name``, else by its feature number
  (:func:`reach_keys`). Line features are river reaches; polygon features (lakes, wide
  river reaches) are kept apart where lengths are measured (:func:`is_polygon`).
* **Management zone** — each feature buffered by its reach's ``zone_m`` (metres from the
  centre line; the township's ``zone_m`` parameter when blank), computed in metres in a
  projected CRS (never in degrees), dissolved per reach (:func:`management_zones`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo_township.errors import CRSError, FieldError, UsageError
from geo_township.measure import Method, area, planar_crs_for

#: Segments per quarter circle when buffering: the round ends and bends of a zone are
#: then within 0.2% of a true circle's area.
QUAD_SEGS = 16
#: shapely type ids of Polygon and MultiPolygon.
POLYGON_TYPE_IDS = (3, 6)


def is_polygon(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Which features are polygons (lakes, wide reaches) rather than river lines."""
    return np.isin(shapely.get_type_id(gdf.geometry.to_numpy()), POLYGON_TYPE_IDS)


def reach_keys(rivers: gpd.GeoDataFrame) -> pd.Series:
    """The reach each feature belongs to, as text: its ``reach_id``, else its river
    ``name``, else ``"feature N"`` (N counted from 1)."""
    key = pd.Series([f"feature {i + 1}" for i in range(len(rivers))], index=rivers.index, dtype=object)
    for col in ("name", "reach_id"):
        if col in rivers.columns:
            values = rivers[col]
            key = values.astype(object).where(values.notna(), key)
    return key.astype(str)


def reach_attributes(rivers: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per reach (indexed by its key): river name, chief, chief level and zone
    width, each the first non-blank value among the reach's features."""
    frame = pd.DataFrame({"reach": reach_keys(rivers).to_numpy()})
    for col in ("name", "chief", "chief_level", "zone_m"):
        frame[col] = rivers[col].to_numpy() if col in rivers.columns else None
    grouped = frame.groupby("reach", sort=False)
    out = grouped[["name", "chief", "chief_level", "zone_m"]].first()  # first non-blank value
    text = ["name", "chief", "chief_level"]
    out[text] = out[text].astype(object).where(out[text].notna(), None)
    out["zone_m"] = pd.to_numeric(out["zone_m"], errors="coerce")
    return out


def in_metres(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, CRS]:
    """``gdf`` in a CRS whose unit is the metre (its own, else its Gauss–Krüger zone), so
    a buffer in metres is never drawn in degrees."""
    if gdf.crs is None:
        raise CRSError("the rivers have no coordinate system, so a zone in metres cannot be drawn",
                       hint='set the layer\'s crs in township.toml, e.g. crs = "EPSG:4490"',
                       message_zh="河流图层没有坐标系，无法按米划定管理范围",
                       hint_zh='请在 township.toml 中为该图层设置 crs，例如 crs = "EPSG:4490"')
    crs = CRS(gdf.crs)
    if crs.is_projected and crs.axis_info and all(a.unit_name in ("metre", "meter") for a in crs.axis_info):
        return gdf, crs
    target = planar_crs_for(gdf.geometry)
    return gdf.to_crs(target), target


def zone_widths(rivers: gpd.GeoDataFrame, default_zone_m: float) -> np.ndarray:
    """Each feature's zone width in metres: its ``zone_m``, else ``default_zone_m``; a
    negative width (or default) is refused, naming the reaches."""
    if default_zone_m is None or not np.isfinite(default_zone_m) or default_zone_m < 0:
        raise UsageError(f"the default management zone width must be 0 m or more, not {default_zone_m!r}",
                         hint="set zone_m in [parameters] of township.toml, e.g. zone_m = 30",
                         message_zh=f"默认管理范围宽度应为 0 米或以上，不能是 {default_zone_m!r}",
                         hint_zh="请在 township.toml 的 [parameters] 中设置 zone_m，例如 zone_m = 30")
    widths = (pd.to_numeric(rivers["zone_m"], errors="coerce") if "zone_m" in rivers.columns
              else pd.Series(np.nan, index=rivers.index)).to_numpy(dtype="float64")
    negative = np.isfinite(widths) & (widths < 0)
    if negative.any():
        keys = reach_keys(rivers)[negative]
        raise FieldError(f"negative management zone width (zone_m) on reach(es) {', '.join(keys.unique()[:5])}",
                         hint="zone_m is the width in metres from the river's centre line; write 0 or more",
                         message_zh=f"河段 {'、'.join(keys.unique()[:5])} 的管理范围宽度(zone_m)为负数",
                         hint_zh="zone_m 是从河道中心线起算的宽度(米)；请填 0 或以上")
    return np.where(np.isfinite(widths), widths, float(default_zone_m))


def management_zones(rivers: gpd.GeoDataFrame, *, default_zone_m: float,
                     method: Method = "ellipsoidal") -> gpd.GeoDataFrame:
    """River management zones (河道管理范围): one polygon per reach.

    Each feature is buffered by its ``zone_m`` (metres from the centre line, or from a
    lake's shore; ``default_zone_m`` where blank), with round ends, in a projected CRS in
    metres — the input's own when it is one, else its Gauss–Krüger zone — and the
    buffers of a reach are dissolved into one polygon. Reaches whose width is 0 m have
    no zone and are left out (a lake with 0 m keeps the lake itself).

    Returns a GeoDataFrame in the input's CRS with columns ``reach``, ``river_name``,
    ``river_chief``, ``chief_level``, ``zone_m`` (the widest width used in the reach) and
    ``zone_area_mu`` (the zone's area by ``method``).
    """
    empty = gpd.GeoDataFrame({"reach": [], "river_name": [], "river_chief": [], "chief_level": [],
                              "zone_m": [], "zone_area_mu": []}, geometry=gpd.GeoSeries([], crs=rivers.crs),
                             crs=rivers.crs)
    if len(rivers) == 0:
        return empty
    projected, crs = in_metres(rivers)
    widths = zone_widths(rivers, default_zone_m)
    buffers = shapely.buffer(projected.geometry.to_numpy(), widths, quad_segs=QUAD_SEGS)
    keys = reach_keys(rivers).to_numpy()
    frame = gpd.GeoDataFrame({"reach": keys, "zone_m": widths}, geometry=buffers, crs=crs)
    frame = frame[~shapely.is_empty(buffers)]
    if not len(frame):
        return empty
    dissolved = _dissolve(frame)
    attrs = reach_attributes(rivers)
    zones = gpd.GeoDataFrame({
        "reach": dissolved.index.astype(str),
        "river_name": attrs.loc[dissolved.index, "name"].to_numpy(),
        "river_chief": attrs.loc[dissolved.index, "chief"].to_numpy(),
        "chief_level": attrs.loc[dissolved.index, "chief_level"].to_numpy(),
        "zone_m": dissolved["zone_m"].to_numpy(),
        "zone_area_mu": area(gpd.GeoSeries(dissolved.geometry.to_numpy(), crs=crs), unit="mu", method=method),
    }, geometry=dissolved.geometry.to_numpy(), crs=crs)
    if not crs.equals(CRS(rivers.crs)):
        zones = zones.to_crs(rivers.crs)
    return zones.reset_index(drop=True)


def _dissolve(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One geometry per reach (the union of its features'), widest ``zone_m``, in order of
    first appearance; reaches of a single feature are taken as they are (no union)."""
    counts = frame["reach"].map(frame["reach"].value_counts())
    single = frame[counts.to_numpy() == 1].set_index("reach")
    several = frame[counts.to_numpy() > 1]
    if len(several):
        merged = several.dissolve(by="reach", aggfunc={"zone_m": "max"}, sort=False)
        single = pd.concat([single, merged])
    order = pd.unique(frame["reach"])
    return single.loc[order]


def reach_lines(rivers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The river line of each reach (lakes as their polygon), dissolved: columns ``reach``
    and geometry, in the input's CRS. Used for distances to the river."""
    frame = gpd.GeoDataFrame({"reach": reach_keys(rivers).to_numpy(), "zone_m": 0.0},
                             geometry=rivers.geometry.to_numpy(), crs=rivers.crs)
    return _dissolve(frame).drop(columns="zone_m").reset_index()
