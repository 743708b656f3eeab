"""Rivers under the river-chief system (河长制): length per chief, level, reach and village,
management zones (河道管理范围) and what lies inside them, and patrol coverage (巡河) from
GPS tracks.

Conventions (reaches and management zones are defined once, in :mod:`geo_township.zones`,
which the sand report and the land-transfer audit share):

* **Reach** — the unit a chief answers for (:func:`~geo_township.zones.reach_keys`).
  Line features are river reaches; polygon features (lakes, wide river reaches) get
  their own table (area and shoreline) and are left out of the river lengths.
* **Lengths** — ellipsoidal by default (geodesic on CGCS2000, :func:`measure.length_m`),
  or planar in the township's Gauss–Krüger zone; the method is stated in every result.
* **Management zone** — each feature buffered by its reach's ``zone_m``, dissolved per
  reach (:func:`~geo_township.zones.management_zones`).
* **Distances** — planar metres in the township's working CRS (a 3-degree Gauss–Krüger
  zone; its scale error is under 1.3e-4, a centimetre per 100 m).
* **Patrol coverage** — the share of a reach's length lying within ``patrol_buffer_m`` of
  a patrol track. A chief's coverage counts only their own tracks on their own reaches,
  per calendar month; a reach counts as patrolled when anyone's track came near it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.errors import UsageError
from geo_township.kinds import KINDS, TOTAL_LABEL, UNASSIGNED_LABEL, normalise_name
from geo_township.layers import Township, feature_ids
from geo_township.locate import fill_villages
from geo_township.measure import Method, area, length_m
from geo_township.overlay import Category, Overlay
from geo_township.results import OUTSIDE_LABEL, Finding, Result
from geo_township.zones import (
    POLYGON_TYPE_IDS,
    QUAD_SEGS,
    is_polygon,
    management_zones,
    reach_attributes,
    reach_keys,
    reach_lines,
)

log = logging.getLogger(__name__)

LENGTH_NOTES = {
    "ellipsoidal": "lengths are ellipsoidal: geodesic on the CGCS2000 ellipsoid",
    "planar": "lengths are planar, in the township's 3-degree Gauss–Krüger zone",
}
LENGTH_NOTES_ZH = {
    "ellipsoidal": "长度按CGCS2000椭球面测地线计算",
    "planar": "长度按本乡3度带高斯-克吕格投影平面计算",
}
#: Pieces of river shorter than this (m) where a reach is cut by village boundaries are
#: digitising slivers (a river drawn along or ending on a boundary) and are left out of
#: the per-village table.
SLIVER_M = 0.5
#: Layers whose features are looked for inside the management zones, in table order.
ZONE_LAYERS = ("sand_sites", "outfalls", "land_transfers", "forest_plots")


# --------------------------------------------------------------------------- lengths


def _with_total(table: pd.DataFrame, first: str, sums: dict[str, float]) -> pd.DataFrame:
    total = {c: None for c in table.columns}
    total[first] = TOTAL_LABEL["en"]
    total.update(sums)
    return pd.concat([table, pd.DataFrame([total], columns=table.columns)], ignore_index=True)


def _labels(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), UNASSIGNED_LABEL["en"]).astype(str)


def river_lengths(rivers: gpd.GeoDataFrame, villages: gpd.GeoDataFrame | None = None, *,
                  method: Method = "ellipsoidal") -> dict[str, pd.DataFrame]:
    """River length (km) per chief, chief level, reach and village, each with a total row.

    ``rivers`` and ``villages`` must share a CRS. A reach crossing villages is cut at the
    village boundaries (in that CRS) and each piece measured by ``method``; pieces outside
    every village form an "(outside)" row; pieces shorter than :data:`SLIVER_M` are
    digitising slivers and left out. Only line features count; lakes are
    tabulated by area and shoreline in ``lakes``.

    Returns tables ``by_chief``, ``by_level``, ``by_reach``, ``by_village`` (when villages
    are given) and ``lakes`` (when there are polygons).
    """
    polygons = is_polygon(rivers)
    lines = rivers[~polygons]
    keys = reach_keys(rivers)
    attrs = reach_attributes(rivers)
    lengths = length_m(lines.geometry, method=method)
    per_feature = pd.DataFrame({"reach": keys[~polygons].to_numpy(), "length_m": lengths})
    per_reach = per_feature.groupby("reach", sort=False)["length_m"].sum()
    reach_order = [k for k in attrs.index if k in per_reach.index]

    villages_crossed: dict[str, str] = {}
    by_village = None
    if villages is not None and "village" in villages.columns and len(lines):
        line_geoms = lines.geometry.to_numpy()
        vgeoms = villages.geometry.to_numpy()
        tree = shapely.STRtree(vgeoms)
        li, vi = tree.query(line_geoms, predicate="intersects")
        pieces = shapely.intersection(line_geoms[li], vgeoms[vi])
        piece_len = length_m(gpd.GeoSeries(pieces, crs=rivers.crs), method=method)
        outside = shapely.difference(line_geoms, shapely.union_all(vgeoms))
        outside_len = length_m(gpd.GeoSeries(outside, crs=rivers.crs), method=method)
        vnames = _labels(villages["village"]).to_numpy()
        line_keys = keys[~polygons].to_numpy()
        split = pd.DataFrame({"village": vnames[vi], "reach": line_keys[li], "length_m": piece_len})
        split = pd.concat([split, pd.DataFrame({"village": OUTSIDE_LABEL["en"], "reach": line_keys,
                                                "length_m": outside_len})], ignore_index=True)
        split = split[split["length_m"] >= SLIVER_M]
        for reach, grp in split[split["village"] != OUTSIDE_LABEL["en"]].groupby("reach", sort=False):
            villages_crossed[str(reach)] = "、".join(sorted(grp["village"].unique()))
        agg = split.groupby("village", sort=True).agg(reaches=("reach", "nunique"), length_m=("length_m", "sum"))
        order = [v for v in agg.index if v != OUTSIDE_LABEL["en"]] + [v for v in agg.index
                                                                      if v == OUTSIDE_LABEL["en"]]
        agg = agg.loc[order]
        by_village = pd.DataFrame({"village": agg.index.astype(str), "reaches": agg["reaches"].astype(int).to_numpy(),
                                   "length_km": agg["length_m"].to_numpy() / 1000.0})
        by_village = _with_total(by_village, "village", {"reaches": len(per_reach),
                                                         "length_km": float(split["length_m"].sum()) / 1000.0})

    by_reach = pd.DataFrame({
        "reach": reach_order,
        "river_name": attrs.loc[reach_order, "name"].to_numpy(),
        "river_chief": attrs.loc[reach_order, "chief"].to_numpy(),
        "chief_level": attrs.loc[reach_order, "chief_level"].to_numpy(),
        "length_km": per_reach.loc[reach_order].to_numpy() / 1000.0,
    })
    if villages_crossed or by_village is not None:
        by_reach["villages_crossed"] = [villages_crossed.get(r) for r in reach_order]
    total_km = float(per_reach.sum()) / 1000.0
    by_reach = _with_total(by_reach, "reach", {"length_km": total_km})

    reach_frame = pd.DataFrame({"reach": reach_order,
                                "chief": _labels(attrs.loc[reach_order, "chief"]).to_numpy(),
                                "chief_level": attrs.loc[reach_order, "chief_level"].to_numpy(),
                                "length_m": per_reach.loc[reach_order].to_numpy()})
    chief_agg = reach_frame.groupby("chief", sort=True).agg(
        chief_level=("chief_level", "first"), reaches=("reach", "count"), length_m=("length_m", "sum"))
    by_chief = pd.DataFrame({"river_chief": chief_agg.index.astype(str),
                             "chief_level": chief_agg["chief_level"].to_numpy(),
                             "reaches": chief_agg["reaches"].astype(int).to_numpy(),
                             "length_km": chief_agg["length_m"].to_numpy() / 1000.0})
    by_chief = _with_total(by_chief, "river_chief", {"reaches": len(reach_order), "length_km": total_km})

    levels = reach_frame.assign(chief_level=_labels(reach_frame["chief_level"]))
    level_order = {code: i for i, code in enumerate(("county", "township", "village"))}
    level_agg = levels.groupby("chief_level").agg(chiefs=("chief", "nunique"), reaches=("reach", "count"),
                                                  length_m=("length_m", "sum"))
    level_agg = level_agg.loc[sorted(level_agg.index, key=lambda c: (level_order.get(c, 9), c))]
    named = reach_frame["chief"] != UNASSIGNED_LABEL["en"]
    level_agg["chiefs"] = reach_frame[named].groupby(
        _labels(reach_frame["chief_level"])[named])["chief"].nunique().reindex(level_agg.index).fillna(0)
    by_level = pd.DataFrame({"chief_level": level_agg.index.astype(str),
                             "chiefs": level_agg["chiefs"].astype(int).to_numpy(),
                             "reaches": level_agg["reaches"].astype(int).to_numpy(),
                             "length_km": level_agg["length_m"].to_numpy() / 1000.0})
    by_level = _with_total(by_level, "chief_level", {"chiefs": int(reach_frame.loc[named, "chief"].nunique()),
                                                     "reaches": len(reach_order), "length_km": total_km})
    tables = {"by_chief": by_chief, "by_level": by_level, "by_reach": by_reach}
    if by_village is not None:
        tables["by_village"] = by_village
    if polygons.any():
        lakes = rivers[polygons]
        frame = pd.DataFrame({"reach": keys[polygons].to_numpy(),
                              "area_m2": area(lakes.geometry, unit="m2", method=method),
                              "shore_m": length_m(lakes.geometry, method=method)})
        agg = frame.groupby("reach", sort=False).sum()
        tables["lakes"] = _with_total(pd.DataFrame({
            "reach": agg.index.astype(str),
            "river_name": attrs.loc[agg.index, "name"].to_numpy(),
            "river_chief": attrs.loc[agg.index, "chief"].to_numpy(),
            "area_km2": agg["area_m2"].to_numpy() / 1e6,
            "shoreline_km": agg["shore_m"].to_numpy() / 1000.0,
        }), "reach", {"area_km2": float(agg["area_m2"].sum()) / 1e6,
                      "shoreline_km": float(agg["shore_m"].sum()) / 1000.0})
    return tables


# --------------------------------------------------------------------------- inside the zones


def features_in_zones(zones: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame,
                      layers: Mapping[str, gpd.GeoDataFrame], *, method: Method = "ellipsoidal",
                      villages: gpd.GeoDataFrame | None = None,
                      ) -> tuple[pd.DataFrame, dict[str, gpd.GeoDataFrame]]:
    """Features of ``layers`` (kind name → GeoDataFrame, all in the zones' CRS, which must
    be projected in metres) that intersect a management zone.

    One row per (feature, reach) pair: ``layer``, ``feature`` (its id), ``village``,
    ``reach``, ``river_chief``, ``distance_m`` (planar, from the feature to the reach's
    river line; 0 when it touches it) and, for polygons, ``inside_mu`` (the part inside
    the zone, by ``method``). Rows are ordered by layer, then distance.

    ``village`` is the record's; where the record has none (a layer without a village
    field, or a blank) it is the village the feature lies in, from ``villages`` (same CRS;
    a polygon by a point inside it, see :func:`geo_township.locate.village_by_location`). The number so located
    is in ``table.attrs["villages_located"]``.

    Also returns, per layer, the features inside a zone with those columns joined (one
    feature per reach it lies in), for maps and GeoPackages.
    """
    columns = ["layer", "feature", "village", "reach", "river_chief", "distance_m", "inside_mu"]
    rows = []
    features: dict[str, gpd.GeoDataFrame] = {}
    located = 0
    if not len(zones):
        empty = pd.DataFrame(columns=columns)
        empty.attrs["villages_located"] = 0
        return empty, features
    lines = reach_lines(rivers).set_index("reach")
    zone_geoms = zones.geometry.to_numpy()
    zone_reach = zones["reach"].to_numpy()
    line_of_zone = lines.loc[zone_reach].geometry.to_numpy()
    tree = shapely.STRtree(zone_geoms)
    for kind_name, gdf in layers.items():
        if gdf is None or not len(gdf):
            continue
        geoms = gdf.geometry.to_numpy()
        fi, zi = tree.query(geoms, predicate="intersects")
        if not len(fi):
            continue
        ids = feature_ids(gdf, KINDS[kind_name]).to_numpy()
        dist = shapely.distance(geoms[fi], line_of_zone[zi])
        polys = np.isin(shapely.get_type_id(geoms[fi]), POLYGON_TYPE_IDS)
        inside = np.full(len(fi), np.nan)
        if polys.any():
            parts = shapely.intersection(geoms[fi][polys], zone_geoms[zi][polys])
            inside[polys] = area(gpd.GeoSeries(parts, crs=zones.crs), unit="mu", method=method)
        recorded = gdf["village"].to_numpy(dtype=object)[fi] if "village" in gdf.columns else np.full(len(fi), None)
        village, filled = fill_villages(recorded, geoms[fi], villages)
        located += len(np.unique(fi[filled]))
        frame = pd.DataFrame({"layer": kind_name, "feature": ids[fi], "village": village, "reach": zone_reach[zi],
                              "river_chief": zones["river_chief"].to_numpy()[zi], "distance_m": dist,
                              "inside_mu": inside})
        rows.append(frame.sort_values(["distance_m", "feature"], kind="stable"))
        found = gdf.iloc[fi].copy()
        for col in ("village", "reach", "river_chief", "distance_m", "inside_mu"):
            found[col] = frame[col].to_numpy()
        features[f"in_zone_{kind_name}"] = gpd.GeoDataFrame(found, geometry=found.geometry.name,
                                                            crs=gdf.crs).reset_index(drop=True)
    table = (pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns))[columns]
    table.attrs["villages_located"] = located
    return table, features


# --------------------------------------------------------------------------- patrols


def _month_range(start: dt.date, end: dt.date) -> list[str]:
    months = pd.period_range(pd.Timestamp(start).to_period("M"), pd.Timestamp(end).to_period("M"), freq="M")
    return [str(p) for p in months]


def match_chiefs(track_chiefs: pd.Series, chiefs: list[str]) -> pd.Series:
    """The river chief each track belongs to: the chief whose name equals the track's
    (ignoring case, spaces and punctuation), else the longest chief name the track's text
    contains (GPS apps name tracks like "张伟 巡河 3月5日"); None when neither."""
    folded = {normalise_name(c): c for c in chiefs if c}
    by_length = sorted(folded, key=len, reverse=True)
    cache: dict[str, str | None] = {}

    def one(text: object) -> str | None:
        if text is None or (isinstance(text, float) and np.isnan(text)):
            return None
        key = normalise_name(text)
        if key not in cache:
            cache[key] = folded.get(key) or next((folded[c] for c in by_length if c and c in key), None)
        return cache[key]

    return track_chiefs.map(one)


def patrol_coverage(rivers: gpd.GeoDataFrame, patrols: gpd.GeoDataFrame, *, buffer_m: float,
                    start: dt.date | None = None, end: dt.date | None = None,
                    min_coverage_pct: float = 80.0, method: Method = "ellipsoidal",
                    ) -> tuple[dict[str, pd.DataFrame], list[Finding], gpd.GeoDataFrame]:
    """Patrol coverage of the river reaches by GPS tracks, in the period ``start``–``end``
    (inclusive; default: the months the dated tracks span).

    ``rivers`` and ``patrols`` share a projected CRS in metres. A stretch of river is
    patrolled when a track passes within ``buffer_m`` of it. Tables:

    * ``patrol_chiefs``: per chief — their reaches' length, tracks, the share of that length
      their own tracks came near in the whole period, the mean of their monthly shares, the
      months below ``min_coverage_pct`` and the last patrol date;
    * ``patrol_monthly``: per chief and month — tracks, patrolled km, coverage %;
    * ``patrol_reach_monthly``: per reach and month — its chief, the chief's own tracks that
      patrolled it, the km and share of it their tracks came near (the chief's monthly
      figures are these summed over their reaches) and the share anyone's tracks came near;
    * ``patrol_reaches``: per reach — patrolled km and coverage % by anyone's tracks, the
      tracks that patrolled it and the last patrol date;
    * ``unpatrolled``: reaches no track patrolled in the period.

    A track *patrols* a reach when more than ``2 × buffer_m`` of the track runs within
    ``buffer_m`` of that reach and nearer to it than to any other: crossing a river stays
    within reach of it for at most that much, and a chief walking the main river past a
    confluence is nearer the main river than the tributary.

    Findings: chiefs whose mean monthly coverage is below the minimum and reaches not
    patrolled (warnings); tracks without a date or whose walker is no river chief (info).
    Also returns the river split into patrolled and unpatrolled stretches (``status``)
    for the map.
    """
    if buffer_m < 0:
        raise UsageError(f"the patrol distance must be 0 m or more, not {buffer_m}",
                         hint="set patrol_buffer_m in township.toml, e.g. 50")
    findings: list[Finding] = []
    lines = rivers[~is_polygon(rivers)]
    keys = reach_keys(lines).to_numpy()
    attrs = reach_attributes(rivers)
    chief_of_reach = attrs["chief"]
    line_geoms = lines.geometry.to_numpy()
    line_len = length_m(lines.geometry, method=method)
    line_chief = chief_of_reach.reindex(keys).to_numpy()
    chiefs = sorted({str(c) for c in chief_of_reach.dropna()})
    line_chiefs = sorted({str(c) for c in line_chief if c is not None and not pd.isna(c)})

    tracks = patrols.copy()
    tracks["_chief"] = match_chiefs(tracks["chief"], chiefs) if "chief" in tracks.columns else None
    dates = (pd.to_datetime(tracks["date"]) if "date" in tracks.columns
             else pd.Series(pd.NaT, index=tracks.index, dtype="datetime64[ns]"))
    tracks["_date"] = dates.dt.normalize()
    track_ids = feature_ids(tracks, KINDS["patrols"])
    undated = tracks["_date"].isna()
    if undated.any():
        findings.append(Finding("patrols", ", ".join(track_ids[undated].head(5)) + (" …" if undated.sum() > 5 else ""),
                                "info", "track_without_date",
                                f"{int(undated.sum())} track(s) have no date and are left out of the periods; "
                                "give the tracks a date field or GPS times",
                                f"{int(undated.sum())}条轨迹无日期，未计入统计期：请为轨迹补充日期字段或GPS时间"))
    tracks = tracks[~undated]
    if start is not None and end is not None and end < start:
        raise UsageError(f"the period ends ({end}) before it starts ({start})", hint="swap --from and --to")
    if len(tracks):
        first, last = tracks["_date"].min().date(), tracks["_date"].max().date()
        # a period open at one end runs to the record's first or last track: say so when that
        # leaves nothing, rather than blame an end the user never gave
        if end is None and start is not None and start > last:
            raise UsageError(f"no patrol track is dated on or after {start}: the tracks run from {first} to {last}",
                             hint="choose an earlier --from, add the newer tracks, or give --to as well to report "
                             "the period as not patrolled")
        if start is None and end is not None and end < first:
            raise UsageError(f"no patrol track is dated on or before {end}: the tracks run from {first} to {last}",
                             hint="choose a later --to, or give --from as well to report the period as not "
                             "patrolled")
        start = first if start is None else start
        end = last if end is None else end
    if start is not None:
        tracks = tracks[tracks["_date"] >= pd.Timestamp(start)]
    if end is not None:
        tracks = tracks[tracks["_date"] <= pd.Timestamp(end)]
    months = _month_range(start, end) if start is not None and end is not None else []
    if "chief" not in tracks.columns:
        findings.append(Finding("patrols", "-", "warning", "no_chief_field",
                                "the patrol tracks have no chief field (河长/巡河人, or a GPX track name): coverage is "
                                "computed per reach but not per chief; name the field in township.toml",
                                "巡河轨迹无河长字段(河长/巡河人，或GPX轨迹名)：只按河段计算覆盖率，不按河长统计；"
                                "请在township.toml中指定该字段"))
    else:
        unknown = tracks["_chief"].isna()
        walkers = tracks.loc[unknown, "chief"].fillna(UNASSIGNED_LABEL["en"]).astype(str).value_counts()
        for walker, n in walkers.items():
            findings.append(Finding("patrols", walker, "info", "track_not_a_chief",
                                    f"{n} track(s) by {walker!r}, who is chief of no reach: they count for the "
                                    "reaches they pass but for no chief; check the name",
                                    f"{walker}的{n}条轨迹：此人不是任何河段的河长，轨迹计入所经河段的覆盖率，"
                                    "但不计入任何河长；请核对姓名"))
    tracks = tracks.assign(_month=tracks["_date"].dt.to_period("M").astype(str))

    line_index = pd.Series(np.arange(len(keys)))
    planar = shapely.length(line_geoms)
    # lengths by `method` per planar metre of each line: pieces are measured along their line
    scale = np.divide(line_len, planar, out=np.zeros(len(planar)), where=planar > 0)
    track_chief = tracks["_chief"].to_numpy(dtype=object)
    track_month = tracks["_month"].to_numpy(dtype=object)
    track_date = tracks["_date"].to_numpy()
    buffers = shapely.buffer(tracks.geometry.to_numpy(), buffer_m, quad_segs=QUAD_SEGS)
    li, ti = shapely.STRtree(buffers).query(line_geoms, predicate="intersects")
    pieces = shapely.intersection(line_geoms[li], buffers[ti])
    iv = _intervals(line_geoms, pieces, li, ti)
    iv["chief"] = track_chief[iv["track"].to_numpy()]
    iv["month"] = track_month[iv["track"].to_numpy()]
    own = iv[iv["chief"].notna() & (iv["chief"].to_numpy() == line_chief[iv["line"].to_numpy()])]

    def by_method(covered: pd.Series) -> pd.Series:
        """Planar covered metres per (…, line) → metres by `method`, summed over the lines."""
        lines_of = covered.index.get_level_values("line")
        values = covered.to_numpy() * scale[lines_of]
        rest = [n for n in covered.index.names if n != "line"]
        out = pd.Series(values, index=covered.index)
        return out.groupby(level=rest).sum() if rest else pd.Series(values, index=lines_of)

    # by anyone, per reach, over the period
    everyone = by_method(_union_length(iv, ["line"])).reindex(line_index.index, fill_value=0.0).to_numpy()
    along = _followed(tracks.geometry.to_numpy(), line_geoms, buffer_m)
    along = along.assign(reach=keys[along["line"].to_numpy()]).groupby(["reach", "track"], as_index=False)["m"].sum()
    touch = along[along["m"] > 2 * buffer_m].assign(date=lambda d: track_date[d["track"].to_numpy()])
    per_line = pd.DataFrame({"reach": keys, "length_m": line_len, "patrolled_m": everyone})
    reach_agg = per_line.groupby("reach", sort=False).sum()
    reach_tracks = touch.groupby("reach")["track"].nunique()
    reach_last = touch.groupby("reach")["date"].max()
    patrol_reaches = pd.DataFrame({
        "reach": reach_agg.index.astype(str),
        "river_chief": chief_of_reach.reindex(reach_agg.index).to_numpy(),
        "length_km": reach_agg["length_m"].to_numpy() / 1000.0,
        "patrolled_km": reach_agg["patrolled_m"].to_numpy() / 1000.0,
        "coverage_pct": _pct(reach_agg["patrolled_m"].to_numpy(), reach_agg["length_m"].to_numpy()),
        "tracks": reach_tracks.reindex(reach_agg.index).fillna(0).astype(int).to_numpy(),
        "last_patrol": reach_last.reindex(reach_agg.index).to_numpy(),
    })
    unpatrolled = patrol_reaches[patrol_reaches["tracks"] == 0][["reach", "river_chief", "length_km"]]
    period = f"{start} – {end}" if start is not None else "the whole record"
    period_zh = f"{start}至{end}" if start is not None else "全部记录期间"
    for reach, chief, km in unpatrolled.itertuples(index=False):
        findings.append(Finding("rivers", str(reach), "warning", "not_patrolled",
                                f"no patrol track followed this reach ({km:.2f} km, chief "
                                f"{chief or 'none'}) in {period}",
                                f"{period_zh}无巡河轨迹沿此河段巡查({km:.2f}公里，河长{chief or '无'})"))

    # per chief: their own tracks on their own reaches, per month and over the period
    total_of = pd.Series(line_len).groupby(line_chief).sum() if len(line_chiefs) else pd.Series(dtype=float)
    grid = pd.MultiIndex.from_product([line_chiefs, months], names=["chief", "month"])
    monthly_done = by_method(_union_length(own, ["chief", "month", "line"])).reindex(grid, fill_value=0.0)
    monthly_tracks = tracks.groupby(["_chief", "_month"]).size().rename_axis(["chief", "month"]).reindex(
        grid, fill_value=0)
    totals = total_of.reindex(grid.get_level_values("chief")).to_numpy()
    patrol_monthly = pd.DataFrame({
        "river_chief": grid.get_level_values("chief"), "month": grid.get_level_values("month"),
        "tracks": monthly_tracks.to_numpy().astype(int), "length_km": totals / 1000.0,
        "patrolled_km": monthly_done.to_numpy() / 1000.0, "coverage_pct": _pct(monthly_done.to_numpy(), totals),
    })
    period_done = by_method(_union_length(own, ["chief", "line"])).reindex(line_chiefs, fill_value=0.0)
    stats = patrol_monthly.assign(below=patrol_monthly["coverage_pct"] < min_coverage_pct).groupby(
        "river_chief").agg(mean=("coverage_pct", "mean"), below=("below", "sum"))
    stats = stats.reindex(line_chiefs).fillna({"mean": 0.0, "below": 0})
    mine = tracks[tracks["_chief"].notna()].groupby("_chief")["_date"].agg(["size", "max"]).reindex(line_chiefs)
    level_of = attrs.dropna(subset=["chief"]).groupby("chief")["chief_level"].first()
    reaches_of = pd.Series(keys).groupby(line_chief).nunique() if len(line_chiefs) else pd.Series(dtype=int)
    chief_total = total_of.reindex(line_chiefs).to_numpy()
    patrol_chiefs = pd.DataFrame({
        "river_chief": line_chiefs,
        "chief_level": level_of.reindex(line_chiefs).to_numpy(),
        "reaches": reaches_of.reindex(line_chiefs).fillna(0).astype(int).to_numpy(),
        "length_km": chief_total / 1000.0,
        "tracks": mine["size"].fillna(0).astype(int).to_numpy(),
        "patrolled_km": period_done.to_numpy() / 1000.0,
        "coverage_pct": _pct(period_done.to_numpy(), chief_total),
        "mean_monthly_pct": stats["mean"].to_numpy(dtype="float64"),
        "months_below": stats["below"].astype(int).to_numpy(),
        "last_patrol": mine["max"].to_numpy(),
    })
    for chief, mean, below in zip(patrol_chiefs["river_chief"], patrol_chiefs["mean_monthly_pct"],
                                  patrol_chiefs["months_below"], strict=True):
        if mean < min_coverage_pct:
            findings.append(Finding("patrols", chief, "warning", "coverage_below_minimum",
                                    f"mean monthly patrol coverage {mean:.1f}% is below the minimum "
                                    f"{min_coverage_pct:g}% ({below} of {len(months)} month(s) below) in {period}",
                                    f"{period_zh}月均巡河覆盖率{mean:.1f}%，低于{min_coverage_pct:g}%"
                                    f"({len(months)}个月中{below}个月未达标)"))
    patrol_chiefs = patrol_chiefs.sort_values(["mean_monthly_pct", "river_chief"], kind="stable").reset_index(
        drop=True)

    # per reach and month: its chief's own tracks (as the chief's monthly coverage counts them)
    # and anyone's
    reach_order = list(pd.unique(keys))
    reach_grid = pd.MultiIndex.from_product([reach_order, months], names=["reach", "month"])

    def per_reach_month(covered: pd.Series) -> np.ndarray:
        """Planar covered metres per (month, line) → metres by `method` per (reach, month)."""
        lines_of = covered.index.get_level_values("line").to_numpy(dtype=int)
        frame = pd.DataFrame({"reach": keys[lines_of], "month": covered.index.get_level_values("month"),
                              "m": covered.to_numpy() * scale[lines_of]})
        return frame.groupby(["reach", "month"])["m"].sum().reindex(reach_grid, fill_value=0.0).to_numpy()

    reach_total = pd.Series(line_len).groupby(keys).sum().reindex(reach_grid.get_level_values("reach")).to_numpy()
    walker = track_chief[touch["track"].to_numpy()]
    own_touch = touch[pd.notna(walker) & (walker == chief_of_reach.reindex(touch["reach"]).to_numpy())]
    own_tracks = (own_touch.assign(month=track_month[own_touch["track"].to_numpy()])
                  .groupby(["reach", "month"])["track"].nunique().reindex(reach_grid, fill_value=0))
    by_chief_m = per_reach_month(_union_length(own, ["month", "line"]))
    by_anyone_m = per_reach_month(_union_length(iv, ["month", "line"]))
    patrol_reach_monthly = pd.DataFrame({
        "reach": reach_grid.get_level_values("reach").astype(str),
        "river_chief": chief_of_reach.reindex(reach_grid.get_level_values("reach")).to_numpy(),
        "month": reach_grid.get_level_values("month"),
        "length_km": reach_total / 1000.0,
        "tracks": own_tracks.to_numpy().astype(int),
        "patrolled_km": by_chief_m / 1000.0,
        "coverage_pct": _pct(by_chief_m, reach_total),
        "anyone_pct": _pct(by_anyone_m, reach_total),
    })
    tables = {"patrol_chiefs": patrol_chiefs, "patrol_monthly": patrol_monthly,
              "patrol_reach_monthly": patrol_reach_monthly,
              "patrol_reaches": patrol_reaches, "unpatrolled": unpatrolled.reset_index(drop=True)}

    # the river split into patrolled / unpatrolled stretches, for the map
    done = np.array([shapely.from_wkt("LINESTRING EMPTY")] * len(line_geoms), dtype=object)
    if len(li):
        merged = pd.Series(pieces).groupby(li).agg(lambda g: shapely.union_all(g.to_numpy()))
        done[merged.index.to_numpy()] = merged.to_numpy()
    todo = shapely.difference(line_geoms, done)
    split = gpd.GeoDataFrame({
        "reach": np.concatenate([keys, keys]),
        "river_chief": np.concatenate([line_chief, line_chief]),
        "status": ["patrolled"] * len(keys) + ["unpatrolled"] * len(keys),
    }, geometry=np.concatenate([done, todo]), crs=rivers.crs)
    split = split[~shapely.is_empty(split.geometry.to_numpy())].reset_index(drop=True)
    return tables, findings, split


def _followed(track_geoms: np.ndarray, line_geoms: np.ndarray, buffer_m: float) -> pd.DataFrame:
    """How far each track runs beside each river line: the track is cut into steps of at
    most ``buffer_m / 2``, each vertex goes to its nearest line within ``buffer_m``, and a
    step whose two ends go to the same line counts for it. Columns ``track``, ``line``, ``m``."""
    parts, part_of = shapely.get_parts(track_geoms, return_index=True)
    dense = shapely.segmentize(parts, max(buffer_m / 2.0, 1.0))
    coords, vertex_part = shapely.get_coordinates(dense, return_index=True)
    nearest = np.full(len(coords), -1)
    if len(coords) and len(line_geoms):
        # the tree holds the rivers' single segments: tight boxes and two-vertex distances
        lparts, lpart_of = shapely.get_parts(line_geoms, return_index=True)
        lc, lv = shapely.get_coordinates(lparts, return_index=True)
        same_part = lv[1:] == lv[:-1]
        segments = shapely.linestrings(np.stack([lc[:-1][same_part], lc[1:][same_part]], axis=1))
        segment_line = lpart_of[lv[:-1][same_part]]
        pi, sj = shapely.STRtree(segments).query_nearest(shapely.points(coords), max_distance=max(buffer_m, 1e-9),
                                                         all_matches=False)
        nearest[pi] = segment_line[sj]
    same = (vertex_part[1:] == vertex_part[:-1]) & (nearest[1:] == nearest[:-1]) & (nearest[1:] >= 0)
    step = np.hypot(*(coords[1:] - coords[:-1]).T)
    return (pd.DataFrame({"track": part_of[vertex_part[:-1][same]], "line": nearest[:-1][same], "m": step[same]})
            .groupby(["track", "line"], as_index=False)["m"].sum())


def _intervals(line_geoms: np.ndarray, pieces: np.ndarray, li: np.ndarray, ti: np.ndarray) -> pd.DataFrame:
    """Each stretch of line ``li[k]`` inside track buffer ``ti[k]`` (``pieces[k]``) as an
    interval ``s``–``e`` of planar distance along the line (its linear reference)."""
    parts, which = shapely.get_parts(pieces, return_index=True)
    lines = shapely.get_type_id(parts) == 1
    parts, which = parts[lines], which[lines]
    host = line_geoms[li[which]]
    a = shapely.line_locate_point(host, shapely.get_point(parts, 0))
    b = shapely.line_locate_point(host, shapely.get_point(parts, -1))
    return pd.DataFrame({"line": li[which], "track": ti[which], "s": np.minimum(a, b), "e": np.maximum(a, b)})


def _union_length(iv: pd.DataFrame, by: list[str]) -> pd.Series:
    """Length of the union of the intervals ``s``–``e`` per group of ``by`` (overlapping
    patrols of the same stretch count once), vectorised: sort, then start a new run where
    an interval begins after every earlier one in its group has ended."""
    if iv.empty:
        return pd.Series([], index=pd.MultiIndex.from_arrays([[]] * len(by), names=by), dtype="float64")
    d = iv.sort_values([*by, "s"], kind="stable").reset_index(drop=True)
    keys = [d[c] for c in by]
    reach_end = d.groupby(keys, sort=False)["e"].cummax()
    before = reach_end.groupby(keys, sort=False).shift()
    run = (before.isna() | (d["s"] > before)).cumsum()
    runs = d.assign(_run=run).groupby("_run").agg(**{c: (c, "first") for c in by}, s=("s", "min"), e=("e", "max"))
    return (runs["e"] - runs["s"]).groupby([runs[c] for c in by]).sum()


def _pct(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(whole > 0, 100.0 * np.asarray(part) / np.where(whole > 0, whole, 1.0), 0.0)
    return np.minimum(out, 100.0)


# --------------------------------------------------------------------------- the whole analysis


def _reach_findings(rivers: gpd.GeoDataFrame) -> list[Finding]:
    """Reaches whose features name different chiefs (the first is used)."""
    out = []
    if "chief" not in rivers.columns:
        return [Finding("rivers", "-", "warning", "no_chief_field",
                        "the rivers layer has no chief field (河长): lengths per chief and patrol coverage need it; "
                        'name it in township.toml, e.g. fields = { chief = "河长姓名" }',
                        "河流图层无河长字段：按河长统计河长和巡河覆盖率需要该字段；请在township.toml中指定，"
                        '如 fields = { chief = "河长姓名" }')]
    frame = pd.DataFrame({"reach": reach_keys(rivers).to_numpy(), "chief": rivers["chief"].to_numpy()})
    counts = frame.dropna().groupby("reach")["chief"].unique()
    for reach, names in counts.items():
        if len(names) > 1:
            out.append(Finding("rivers", str(reach), "warning", "several_chiefs",
                               f"the reach's features name different chiefs ({', '.join(map(str, names))}); "
                               f"{names[0]} is used: give each reach one chief or its own reach_id",
                               f"该河段各要素的河长不一致({'、'.join(map(str, names))})，采用{names[0]}："
                               "每个河段应只有一名河长，或分别编号"))
    missing = frame.groupby("reach", sort=False)["chief"].apply(lambda s: s.isna().all())
    for reach in missing[missing].index:
        out.append(Finding("rivers", str(reach), "warning", "no_chief", "the reach has no river chief (河长)",
                           "该河段无河长"))
    return out


def river_report(township: Township, *, start: dt.date | None = None, end: dt.date | None = None,
                 method: Method | None = None, zone_m: float | None = None, patrol_buffer_m: float | None = None,
                 min_coverage_pct: float | None = None) -> Result:
    """Everything ``geo-township rivers`` shows: river length per chief (the main table),
    per chief level, reach and village; what lies inside the management zones; and patrol
    coverage in the period ``start``–``end`` when the township has patrol tracks.

    Parameters default to the township's: ``area_method`` (for lengths and areas),
    ``zone_m``, ``patrol_buffer_m`` and ``patrol_min_coverage_pct``.
    """
    params = township.config.parameters
    method = method or params["area_method"]
    zone_m = params["zone_m"] if zone_m is None else zone_m
    buffer_m = params["patrol_buffer_m"] if patrol_buffer_m is None else patrol_buffer_m
    min_pct = params["patrol_min_coverage_pct"] if min_coverage_pct is None else min_coverage_pct
    rivers = township.gdf("rivers")
    villages = township.optional("villages")
    findings = _reach_findings(rivers)
    crs_name = township.working_crs.to_string()
    notes = [f"{LENGTH_NOTES[method]}; distances are planar metres in {crs_name}"]
    notes_zh = [f"{LENGTH_NOTES_ZH[method]}；距离为{crs_name}平面米数"]

    tables = river_lengths(rivers, villages, method=method)
    if "lakes" in tables:
        notes.append(f"{len(tables['lakes']) - 1} lake(s) or wide reach(es) drawn as polygons are listed by area and "
                     "shoreline and left out of the river lengths and patrol coverage")
        notes_zh.append(f"{len(tables['lakes']) - 1}处以面表示的湖泊或宽河段按面积和岸线长度列出，不计入河长和巡河覆盖率")
    if villages is None:
        notes.append("no villages layer: lengths per village are not computed")
        notes_zh.append("无行政村图层：未按村统计河长")
    zones = management_zones(rivers, default_zone_m=zone_m, method=method)
    by_reach = tables["by_reach"]
    widths = zones.set_index("reach")["zone_m"]
    by_reach.insert(by_reach.columns.get_loc("length_km") + 1, "zone_m", by_reach["reach"].map(widths))
    by_reach.insert(by_reach.columns.get_loc("zone_m") + 1, "zone_area_mu",
                    by_reach["reach"].map(zones.set_index("reach")["zone_area_mu"]))
    total = by_reach["reach"] == TOTAL_LABEL["en"]
    union = gpd.GeoSeries([shapely.union_all(zones.geometry.to_numpy())], crs=zones.crs)
    by_reach.loc[total, "zone_area_mu"] = float(area(union, unit="mu", method=method)[0]) if len(zones) else 0.0
    notes.append(f"management zones: each reach's zone_m from the centre line (default {zone_m:g} m), dissolved per "
                 "reach; the total zone area counts overlapping zones once")
    notes_zh.append(f"管理范围：各河段自河道中心线外扩其管理范围宽度(未填者取{zone_m:g}米)，按河段合并；合计面积中重叠部分只计一次")

    layers = {k: township.gdf(k) for k in ZONE_LAYERS if township.has(k)}
    in_zone, in_zone_features = features_in_zones(zones, rivers, layers, method=method, villages=villages)
    tables["in_zone"] = in_zone
    if in_zone.attrs["villages_located"]:
        n = in_zone.attrs["villages_located"]
        notes.append(f"inside the zones: village by location for {n} feature(s) whose record names none")
        notes_zh.append(f"管理范围内要素：{n}个记录未填村的要素按位置确定所在村")
    counts = in_zone.groupby("layer")["feature"].nunique() if len(in_zone) else pd.Series(dtype=int)
    tables["in_zone_counts"] = pd.DataFrame({
        "layer": list(layers), "count": [int(counts.get(k, 0)) for k in layers]}, columns=["layer", "count"])
    for kind_name in layers:
        n = int(counts.get(kind_name, 0))
        if n and kind_name in ("sand_sites", "outfalls"):
            findings.append(Finding(kind_name, "-", "info", "in_zone",
                                    f"{n} {KINDS[kind_name].en.lower()} inside a river management zone",
                                    f"{n}个{KINDS[kind_name].zh}位于河道管理范围内"))

    features: dict[str, gpd.GeoDataFrame] = {"zones": zones, **in_zone_features}
    provenance_extra = {}
    if township.has("patrols"):
        patrol_tables, patrol_findings, split = patrol_coverage(
            rivers, township.gdf("patrols"), buffer_m=buffer_m, start=start, end=end,
            min_coverage_pct=min_pct, method=method)
        tables.update(patrol_tables)
        findings += patrol_findings
        features["patrol_coverage"] = split
        months = patrol_tables["patrol_monthly"]["month"].unique()
        first, last = (months[0], months[-1]) if len(months) else ("-", "-")
        notes.append(f"patrol coverage: river within {buffer_m:g} m of a track counts as patrolled; a chief's coverage "
                     f"counts their own tracks on their own reaches; minimum {min_pct:g}% of the mean monthly "
                     f"coverage; period {first} to {last}")
        notes_zh.append(f"巡河覆盖：轨迹{buffer_m:g}米以内的河道计为已巡；河长覆盖率只计本人轨迹在本人河段上的部分；"
                        f"月均覆盖率低于{min_pct:g}%的河长列出；统计期{first}至{last}")
        provenance_extra.update(patrol_buffer_m=buffer_m, patrol_min_coverage_pct=min_pct,
                                period_start=str(start) if start else None, period_end=str(end) if end else None)
    elif start is not None or end is not None:
        raise UsageError("--from/--to select patrol tracks, but the township has no patrols layer",
                         hint='add [layers.patrols] with path = "patrols.gpx" to township.toml')
    else:
        notes.append("no patrols layer: patrol coverage is not computed")
        notes_zh.append("无巡河轨迹图层：未计算巡河覆盖率")

    main = tables.pop("by_chief")
    return Result(
        f"Rivers of {township.name}: length per river chief", main, tables=tables, findings=findings,
        features=features, notes=notes, notes_zh=notes_zh, title_zh=f"{township.name}河长制：各河长负责河道长度",
        vocab={"chief_level": "chief_level"},
        decimals={"length_km": 3, "zone_m": 0, "zone_area_mu": 2, "area_km2": 4, "shoreline_km": 3,
                  "distance_m": 1, "inside_mu": 2, "patrolled_km": 3, "coverage_pct": 1, "mean_monthly_pct": 1,
                  "anyone_pct": 1},
        provenance=township.provenance(analysis="rivers", length_method=method, length_note=LENGTH_NOTES[method],
                                       zone_m_default=zone_m, **provenance_extra),
    )


# --------------------------------------------------------------------------- map


ZONE_COLOR = "#1f78b4"
IN_ZONE_CATEGORIES = {
    "sand_sites": ("#e31a1c", "circle"),
    "outfalls": ("#6a3d9a", "square"),
    "land_transfers": ("#ff7f00", ""),
    "forest_plots": ("#33a02c", ""),
}


def river_overlays(township: Township) -> list[Overlay]:
    """Map layers of the rivers analysis: management zones, what lies inside them (points
    and polygons), and the river split into patrolled and unpatrolled stretches. An empty
    list when the township has no rivers layer."""
    if not township.has("rivers"):
        return []
    result = river_report(township)
    overlays = [Overlay("river_zones", "River management zones", "河道管理范围", result.features["zones"], "polygon",
                        color=ZONE_COLOR, fields=["reach", "river_name", "river_chief", "zone_m", "zone_area_mu"],
                        description="each reach buffered by its zone_m, dissolved per reach",
                        description_zh="各河段按管理范围宽度(米)外扩，按河段合并", id_field="reach",
                        vocab={"chief_level": "chief_level"}, decimals={"zone_m": 0, "zone_area_mu": 2},
                        fill_opacity=0.2, weight=1.0)]
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
    cats = [Category(k, KINDS[k].en, KINDS[k].zh, color, symbol) for k, (color, symbol) in IN_ZONE_CATEGORIES.items()]
    fields = ["layer", "feature", "reach", "river_chief", "distance_m"]
    crs = township.working_crs
    for key, en, zh, geometry, parts in (
        ("river_zone_polygons", "Inside river zones (areas)", "管理范围内地块", "polygon", polygons),
        ("river_zone_points", "Inside river zones (points)", "管理范围内点位", "point", points),
    ):
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


# --------------------------------------------------------------------------- output


def write_layers(features: Mapping[str, gpd.GeoDataFrame], path) -> list[str]:
    """Write a Result's feature layers (the non-empty ones) to one GeoPackage, one layer
    per key, atomically: the file appears complete or not at all. Dates are written as
    dates and the layers keep the township's working CRS. Returns the layers written."""
    from pathlib import Path

    from geo_township.io.write import atomic_path, ensure_writable

    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        raise UsageError(f"{path.name} is not a GeoPackage", hint="give a file name ending in .gpkg")
    ensure_writable(path)
    written = []
    with atomic_path(path) as tmp:
        for name, gdf in features.items():
            if gdf is None or not len(gdf):
                continue
            out = gdf.copy()
            for col in out.columns:
                if col != out.geometry.name and pd.api.types.is_datetime64_any_dtype(out[col]):
                    out[col] = out[col].dt.strftime("%Y-%m-%d").where(out[col].notna(), None)
            out.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
            written.append(name)
        if not written:
            raise UsageError("there are no features to write", hint="nothing lies in the zones; omit --gpkg")
    return written
