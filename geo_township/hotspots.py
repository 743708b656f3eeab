"""Hotspots of new pine-wilt infections: density-based clusters (DBSCAN) of tree points in
the township's projected working CRS (metres), ranked by size, so crews and drones know
where to look next.

A cluster is a set of at least ``hotspot_min_trees`` trees in which every tree lies within
``hotspot_eps_m`` of another tree of the set (DBSCAN with ``eps = hotspot_eps_m`` and
``min_samples = hotspot_min_trees``; both in township.toml; :mod:`geo_township.density`
computes scikit-learn's labels in bounded memory). Each hotspot is reported with
its centre (the mean of its trees), its radius (the distance from the centre within which
90% of its trees lie), its count and the forest plots its circle touches.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.density import dbscan
from geo_township.errors import CRSError
from geo_township.labels import Text
from geo_township.tree_events import Period, event_dates, season_bounds, season_of, season_params

if TYPE_CHECKING:
    from geo_township.layers import Township

log = logging.getLogger(__name__)

COLUMNS = ["hotspot", "trees", "lon", "lat", "x", "y", "radius_m", "plots_touched", "plots", "villages"]
MAX_PLOTS_LISTED = 12
RADIUS_SHARE = 0.9
"""A hotspot's radius holds this share of its trees (the farthest stragglers of a
density cluster would make the circle too large to search)."""


def cluster_labels(x: np.ndarray, y: np.ndarray, *, eps_m: float, min_trees: int) -> np.ndarray:
    """DBSCAN labels (0, 1, … per cluster; -1 for trees in no cluster) of projected points
    (metres): scikit-learn's labels, computed on a grid (:func:`geo_township.density.dbscan`)
    in memory that grows with the trees, not with trees × neighbours."""
    return dbscan(np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64"), eps=float(eps_m),
                  min_samples=int(min_trees))


def find_hotspots(trees: gpd.GeoDataFrame, *, eps_m: float, min_trees: int,
                  plots: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Hotspots among ``trees`` (points in a projected CRS in metres), ranked by size.

    Returns a GeoDataFrame (same CRS; geometry = the hotspot's circle) with columns
    hotspot (rank, 1 = largest), trees, lon/lat of the centre (EPSG:4326), x/y of the
    centre (the working CRS), radius_m, plots_touched, plots (their ids, text order) and
    villages (of those plots). ``plots`` needs ``plot_id`` (and optionally ``village``).
    """
    if trees.crs is None or not trees.crs.is_projected:
        raise CRSError("hotspots need points in a projected CRS (metres)",
                       hint="pass the layer in the township's working CRS (Township.gdf does so)")
    return hotspots_at(trees.geometry.x.to_numpy(), trees.geometry.y.to_numpy(), trees.crs, eps_m=eps_m,
                       min_trees=min_trees, plots=plots)


def hotspots_at(x: np.ndarray, y: np.ndarray, crs: object, *, eps_m: float, min_trees: int,
                plots: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """:func:`find_hotspots` of the trees at ``x``, ``y`` (metres, in the projected ``crs``):
    for trees held as coordinates (a streamed count keeps millions so, never as points)."""
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    empty = gpd.GeoDataFrame({c: [] for c in COLUMNS}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    if len(x) == 0:
        return empty
    labels = cluster_labels(x, y, eps_m=eps_m, min_trees=min_trees)
    member = labels >= 0
    if not member.any():
        return empty
    frame = pd.DataFrame({"label": labels[member], "x": x[member], "y": y[member]})
    grouped = frame.groupby("label")
    stats = grouped.agg(trees=("x", "size"), x=("x", "mean"), y=("y", "mean"))
    cx = stats["x"].reindex(frame["label"]).to_numpy()
    cy = stats["y"].reindex(frame["label"]).to_numpy()
    frame["d"] = np.hypot(frame["x"].to_numpy() - cx, frame["y"].to_numpy() - cy)
    stats["radius_m"] = frame.groupby("label")["d"].quantile(RADIUS_SHARE)
    stats = stats.sort_values(["trees", "radius_m"], ascending=[False, True], kind="stable").reset_index()
    stats["hotspot"] = np.arange(1, len(stats) + 1)
    centres = shapely.points(stats["x"].to_numpy(), stats["y"].to_numpy())
    # A circle at least eps/2 in radius, so a tight cluster still shows and touches its plot.
    circles = shapely.buffer(centres, np.maximum(stats["radius_m"].to_numpy(), eps_m / 2.0), quad_segs=16)
    ll = gpd.GeoSeries(centres, crs=crs).to_crs(4326)
    stats["lon"] = ll.x.to_numpy()
    stats["lat"] = ll.y.to_numpy()
    plot_lists: list[str] = []
    village_lists: list[str] = []
    touched = np.zeros(len(stats), dtype="int64")
    if plots is not None and len(plots) and "plot_id" in plots.columns:
        tree = shapely.STRtree(plots.geometry.to_numpy())
        circle_idx, plot_idx = tree.query(circles, predicate="intersects")
        ids = plots["plot_id"].astype(str).to_numpy()
        vills = plots["village"].astype(object).to_numpy() if "village" in plots.columns else None
        for i in range(len(stats)):
            mine = plot_idx[circle_idx == i]
            names = sorted(set(ids[mine]))
            touched[i] = len(names)
            shown = names[:MAX_PLOTS_LISTED]
            plot_lists.append(", ".join(shown) + (f" … (+{len(names) - len(shown)})" if len(names) > len(shown)
                                                  else ""))
            village_lists.append(", ".join(sorted({str(v) for v in vills[mine] if v is not None}))
                                 if vills is not None else "")
    else:
        plot_lists = [""] * len(stats)
        village_lists = [""] * len(stats)
    stats["plots_touched"] = touched
    stats["plots"] = plot_lists
    stats["villages"] = village_lists
    out = gpd.GeoDataFrame(stats[COLUMNS], geometry=circles, crs=crs)
    out["trees"] = out["trees"].astype(int)
    return out


def new_infections(township: Township, trees: gpd.GeoDataFrame, period: Period) -> tuple[np.ndarray, Text]:
    """Which trees are 'new infections' for hotspots: those found in ``period``; with no
    period, those found since the start of the latest clearing season that began on or
    before the latest find (so spring finds after the season's end, the newest of all,
    are included).

    Returns the boolean selection and a note saying what was used.
    """
    return infections_among(township, event_dates(trees)["found"], period)


def infections_among(township: Township, found: pd.Series, period: Period) -> tuple[np.ndarray, Text]:
    """:func:`new_infections` from the trees' find dates alone (``found``, parsed)."""
    if period.bounded:
        return period.contains(found), Text(f"hotspots: trees found in {period.label}",
                                            f"疫情热点：按 {period.label_zh} 期间发现的疫木划定")
    if found.notna().sum() == 0:
        return np.ones(len(found), dtype=bool), Text("hotspots: every tree (no find dates)",
                                                     "疫情热点：按全部疫木划定(没有发现日期)")
    bounds = season_params(township)
    latest: dt.date = found.max().date()
    year = season_of(latest, **bounds)
    start = season_bounds(year, **bounds)[0]
    chosen = Period(start, latest).contains(found)
    return chosen, Text(f"hotspots: trees found since the start of the latest season, {year} ({start.isoformat()} "
                        f"to the latest find, {latest.isoformat()})",
                        f"疫情热点：按最近一个除治季({year} 年度，{start.isoformat()} 起至最近一次发现 "
                        f"{latest.isoformat()})发现的疫木划定")
