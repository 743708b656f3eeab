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
from geo_township.kinds import KINDS
from geo_township.labels import TOTAL_LABEL, UNASSIGNED_LABEL, Text
from geo_township.layers import Township, feature_ids
from geo_township.locate import fill_villages
from geo_township.measure import Method, area, length_m
from geo_township.patrols import PATROL_CHECKS, patrol_coverage
from geo_township.results import OUTSIDE_LABEL, Check, Finding, Result, declare
from geo_township.units import from_m, from_m2
from geo_township.zones import (
    POLYGON_TYPE_IDS,
    is_polygon,
    management_zones,
    reach_attributes,
    reach_keys,
    reach_lines,
)

log = logging.getLogger(__name__)

RIVER_CHECKS = declare(
    Check("several_chiefs", "warning", "reach with several chiefs", "河段有多名河长",
          "the reach's features name different chiefs ({names}); {first} is used: give each reach one chief or its "
          "own reach_id",
          "该河段各要素的河长不一致({names_zh})，采用{first}：每个河段应只有一名河长，或分别编号"),
    Check("no_chief", "warning", "reach without a chief", "河段无河长", "the reach has no river chief (河长)",
          "该河段无河长"),
    Check("in_zone", "info", "inside a management zone", "位于河道管理范围内",
          "{n} {kind} inside a river management zone", "{n}个{kind_zh}位于河道管理范围内"),
)
NO_CHIEF_FIELD = PATROL_CHECKS.no_chief_field.reworded(
    "the rivers layer has no chief field (河长): lengths per chief and patrol coverage need it; name it in "
    'township.toml, e.g. fields = {{ chief = "河长姓名" }}',
    '河流图层无河长字段：按河长统计河长和巡河覆盖率需要该字段；'
    '请在township.toml中指定，如 fields = {{ chief = "河长姓名" }}')
"""The rivers layer lacks the chief field (the patrol tracks' check, worded for the rivers)."""

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
    total: dict[str, object] = {c: None for c in table.columns}
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
        by_village, villages_crossed = _by_village(lines, keys[~polygons].to_numpy(), villages, method=method,
                                                   reaches=len(per_reach))
    total_km = from_m(float(per_reach.sum()), "km")
    by_reach = _by_reach(attrs, per_reach, reach_order, villages_crossed if villages_crossed or by_village is not None
                         else None, total_km)
    reach_frame = pd.DataFrame({"reach": reach_order,
                                "chief": _labels(attrs.loc[reach_order, "chief"]).to_numpy(),
                                "chief_level": attrs.loc[reach_order, "chief_level"].to_numpy(),
                                "length_m": per_reach.loc[reach_order].to_numpy()})
    tables = {"by_chief": _by_chief(reach_frame, total_km), "by_level": _by_level(reach_frame, total_km),
              "by_reach": by_reach}
    if by_village is not None:
        tables["by_village"] = by_village
    if polygons.any():
        tables["lakes"] = _lakes(rivers[polygons], keys[polygons].to_numpy(), attrs, method=method)
    return tables


def _by_village(lines: gpd.GeoDataFrame, line_keys: np.ndarray, villages: gpd.GeoDataFrame, *, method: Method,
                reaches: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """River length per village (the lines cut at the village boundaries, slivers left
    out, the part outside every village last), and the villages each reach crosses."""
    line_geoms = lines.geometry.to_numpy()
    vgeoms = villages.geometry.to_numpy()
    tree = shapely.STRtree(vgeoms)
    li, vi = tree.query(line_geoms, predicate="intersects")
    pieces = shapely.intersection(line_geoms[li], vgeoms[vi])
    piece_len = length_m(gpd.GeoSeries(pieces, crs=lines.crs), method=method)
    outside = shapely.difference(line_geoms, shapely.union_all(vgeoms))
    outside_len = length_m(gpd.GeoSeries(outside, crs=lines.crs), method=method)
    vnames = _labels(villages["village"]).to_numpy()
    split = pd.DataFrame({"village": vnames[vi], "reach": line_keys[li], "length_m": piece_len})
    split = pd.concat([split, pd.DataFrame({"village": OUTSIDE_LABEL["en"], "reach": line_keys,
                                            "length_m": outside_len})], ignore_index=True)
    split = split[split["length_m"] >= SLIVER_M]
    villages_crossed: dict[str, str] = {}
    for reach, grp in split[split["village"] != OUTSIDE_LABEL["en"]].groupby("reach", sort=False):
        villages_crossed[str(reach)] = "、".join(sorted(grp["village"].unique()))
    agg = split.groupby("village", sort=True).agg(reaches=("reach", "nunique"), length_m=("length_m", "sum"))
    order = [v for v in agg.index if v != OUTSIDE_LABEL["en"]] + [v for v in agg.index
                                                                  if v == OUTSIDE_LABEL["en"]]
    agg = agg.loc[order]
    by_village = pd.DataFrame({"village": agg.index.astype(str), "reaches": agg["reaches"].astype(int).to_numpy(),
                               "length_km": from_m(agg["length_m"].to_numpy(), "km")})
    by_village = _with_total(by_village, "village", {"reaches": reaches,
                                                     "length_km": from_m(float(split["length_m"].sum()), "km")})
    return by_village, villages_crossed


def _by_reach(attrs: pd.DataFrame, per_reach: pd.Series, reach_order: list[str],
              villages_crossed: dict[str, str] | None, total_km: float) -> pd.DataFrame:
    """One row per reach: river, chief, level, length and (when villages are known) the
    villages it crosses."""
    by_reach = pd.DataFrame({
        "reach": reach_order,
        "river_name": attrs.loc[reach_order, "name"].to_numpy(),
        "river_chief": attrs.loc[reach_order, "chief"].to_numpy(),
        "chief_level": attrs.loc[reach_order, "chief_level"].to_numpy(),
        "length_km": from_m(per_reach.loc[reach_order].to_numpy(), "km"),
    })
    if villages_crossed is not None:
        by_reach["villages_crossed"] = [villages_crossed.get(r) for r in reach_order]
    return _with_total(by_reach, "reach", {"length_km": total_km})


def _by_chief(reach_frame: pd.DataFrame, total_km: float) -> pd.DataFrame:
    """Reaches and length per chief (by name; reaches without one together)."""
    chief_agg = reach_frame.groupby("chief", sort=True).agg(
        chief_level=("chief_level", "first"), reaches=("reach", "count"), length_m=("length_m", "sum"))
    by_chief = pd.DataFrame({"river_chief": chief_agg.index.astype(str),
                             "chief_level": chief_agg["chief_level"].to_numpy(),
                             "reaches": chief_agg["reaches"].astype(int).to_numpy(),
                             "length_km": from_m(chief_agg["length_m"].to_numpy(), "km")})
    return _with_total(by_chief, "river_chief", {"reaches": len(reach_frame), "length_km": total_km})


def _by_level(reach_frame: pd.DataFrame, total_km: float) -> pd.DataFrame:
    """Chiefs, reaches and length per chief level (county, township, village, then others)."""
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
                             "length_km": from_m(level_agg["length_m"].to_numpy(), "km")})
    return _with_total(by_level, "chief_level", {"chiefs": int(reach_frame.loc[named, "chief"].nunique()),
                                                 "reaches": len(reach_frame), "length_km": total_km})


def _lakes(lakes: gpd.GeoDataFrame, keys: np.ndarray, attrs: pd.DataFrame, *, method: Method) -> pd.DataFrame:
    """Lakes and wide reaches drawn as polygons: area and shoreline per reach."""
    frame = pd.DataFrame({"reach": keys,
                          "area_m2": area(lakes.geometry, unit="m2", method=method),
                          "shore_m": length_m(lakes.geometry, method=method)})
    agg = frame.groupby("reach", sort=False).sum()
    return _with_total(pd.DataFrame({
        "reach": agg.index.astype(str),
        "river_name": attrs.loc[agg.index, "name"].to_numpy(),
        "river_chief": attrs.loc[agg.index, "chief"].to_numpy(),
        "area_km2": from_m2(agg["area_m2"].to_numpy(), "km2"),
        "shoreline_km": from_m(agg["shore_m"].to_numpy(), "km"),
    }), "reach", {"area_km2": from_m2(float(agg["area_m2"].sum()), "km2"),
                  "shoreline_km": from_m(float(agg["shore_m"].sum()), "km")})


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


# --------------------------------------------------------------------------- the whole analysis


def _reach_findings(rivers: gpd.GeoDataFrame) -> list[Finding]:
    """Reaches whose features name different chiefs (the first is used)."""
    out = []
    if "chief" not in rivers.columns:
        return [NO_CHIEF_FIELD.finding("rivers", "-")]
    frame = pd.DataFrame({"reach": reach_keys(rivers).to_numpy(), "chief": rivers["chief"].to_numpy()})
    counts = frame.dropna().groupby("reach")["chief"].unique()
    for reach, names in counts.items():
        if len(names) > 1:
            out.append(RIVER_CHECKS.several_chiefs.finding("rivers", str(reach), names=", ".join(map(str, names)),
                                                           names_zh="、".join(map(str, names)), first=names[0]))
    missing = frame.groupby("reach", sort=False)["chief"].apply(lambda s: s.isna().all())
    for reach in missing[missing].index:
        out.append(RIVER_CHECKS.no_chief.finding("rivers", str(reach)))
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
    _length_notes(tables, villages, notes, notes_zh)
    zones = management_zones(rivers, default_zone_m=zone_m, method=method)
    _add_zone_columns(tables["by_reach"], zones, method=method)
    notes.append(f"management zones: each reach's zone_m from the centre line (default {zone_m:g} m), dissolved per "
                 "reach; the total zone area counts overlapping zones once")
    notes_zh.append(f"管理范围：各河段自河道中心线外扩其管理范围宽度(未填者取{zone_m:g}米)，按河段合并；合计面积中重叠部分只计一次")

    in_zone_features = _inside_zones(township, zones, rivers, villages, method=method, tables=tables,
                                     findings=findings, notes=notes, notes_zh=notes_zh)
    features: dict[str, gpd.GeoDataFrame] = {"zones": zones, **in_zone_features}
    provenance_extra: dict[str, object] = {}
    if township.has("patrols"):
        patrol_tables, patrol_findings, split = patrol_coverage(
            rivers, township.gdf("patrols"), buffer_m=buffer_m, start=start, end=end,
            min_coverage_pct=min_pct, method=method)
        tables.update(patrol_tables)
        findings += patrol_findings
        features["patrol_coverage"] = split
        _patrol_notes(patrol_tables, buffer_m, min_pct, notes, notes_zh)
        provenance_extra.update(patrol_buffer_m=buffer_m, patrol_min_coverage_pct=min_pct,
                                period_start=str(start) if start else None, period_end=str(end) if end else None)
    elif start is not None or end is not None:
        raise UsageError("--from/--to select patrol tracks, but the township has no patrols layer",
                         hint='add [layers.patrols] with path = "patrols.gpx" to township.toml',
                         message_zh="--from/--to 用于选择巡河轨迹，但本乡镇没有巡河轨迹图层",
                         hint_zh='请在 township.toml 中加 [layers.patrols]，写 path = "patrols.gpx"')
    else:
        notes.append("no patrols layer: patrol coverage is not computed")
        notes_zh.append("无巡河轨迹图层：未计算巡河覆盖率")

    main = tables.pop("by_chief")
    return Result(
        f"Rivers of {township.name}: length per river chief", main, tables=tables, findings=findings,
        features=features, notes=notes, notes_zh=notes_zh, title_zh=f"{township.name}河长制：各河长负责河道长度",
        vocab={"chief_level": "chief_level"},
        decimals={"length_km": 3, "zone_m": 0, "zone_area_mu": 2, "area_km2": 4, "shoreline_km": 3,
                  "distance_m": 1, "inside_mu": 2, "patrolled_km": 3, "walked_km": 3, "coverage_pct": 1,
                  "mean_monthly_pct": 1, "anyone_pct": 1},
        provenance=township.provenance(analysis="rivers", length_method=method,
                                       length_note=Text(LENGTH_NOTES[method], LENGTH_NOTES_ZH[method]),
                                       zone_m_default=zone_m, **provenance_extra),
    )


def _length_notes(tables: dict[str, pd.DataFrame], villages: gpd.GeoDataFrame | None, notes: list[str],
                  notes_zh: list[str]) -> None:
    """Notes on what the length tables leave out: lakes, and villages when there are none."""
    if "lakes" in tables:
        notes.append(f"{len(tables['lakes']) - 1} lake(s) or wide reach(es) drawn as polygons are listed by area and "
                     "shoreline and left out of the river lengths and patrol coverage")
        notes_zh.append(f"{len(tables['lakes']) - 1}处以面表示的湖泊或宽河段按面积和岸线长度列出，"
                        "不计入河长和巡河覆盖率")
    if villages is None:
        notes.append("no villages layer: lengths per village are not computed")
        notes_zh.append("无行政村图层：未按村统计河长")


def _add_zone_columns(by_reach: pd.DataFrame, zones: gpd.GeoDataFrame, *, method: Method) -> None:
    """Each reach's zone width and zone area, after its length; the total row's area counts
    overlapping zones once."""
    widths = zones.set_index("reach")["zone_m"]
    by_reach.insert(by_reach.columns.get_loc("length_km") + 1, "zone_m", by_reach["reach"].map(widths))
    by_reach.insert(by_reach.columns.get_loc("zone_m") + 1, "zone_area_mu",
                    by_reach["reach"].map(zones.set_index("reach")["zone_area_mu"]))
    total = by_reach["reach"] == TOTAL_LABEL["en"]
    union = gpd.GeoSeries([shapely.union_all(zones.geometry.to_numpy())], crs=zones.crs)
    by_reach.loc[total, "zone_area_mu"] = float(area(union, unit="mu", method=method)[0]) if len(zones) else 0.0


def _inside_zones(township: Township, zones: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame,
                  villages: gpd.GeoDataFrame | None, *, method: Method, tables: dict[str, pd.DataFrame],
                  findings: list[Finding], notes: list[str], notes_zh: list[str]) -> dict[str, gpd.GeoDataFrame]:
    """What of :data:`ZONE_LAYERS` lies inside the zones: the ``in_zone`` and
    ``in_zone_counts`` tables, a note on villages found by location, a finding per layer
    of sand sites or outfalls inside; returns the features inside, per layer."""
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
            findings.append(RIVER_CHECKS.in_zone.finding(kind_name, "-", n=n, kind=KINDS[kind_name].en.lower(),
                                                         kind_zh=KINDS[kind_name].zh))
    return in_zone_features


def _patrol_notes(patrol_tables: dict[str, pd.DataFrame], buffer_m: float, min_pct: float, notes: list[str],
                  notes_zh: list[str]) -> None:
    """The note on how patrol coverage is counted, with the period the months span."""
    months = patrol_tables["patrol_monthly"]["month"].unique()
    first, last = (months[0], months[-1]) if len(months) else ("-", "-")
    notes.append(f"patrol coverage: river within {buffer_m:g} m of a track counts as patrolled; a chief's coverage "
                 f"counts their own tracks on their own reaches; minimum {min_pct:g}% of the mean monthly "
                 f"coverage; period {first} to {last}")
    notes_zh.append(f"巡河覆盖：轨迹{buffer_m:g}米以内的河道计为已巡；河长覆盖率只计本人轨迹在本人河段上的部分；"
                    f"月均覆盖率低于{min_pct:g}%的河长列出；统计期{first}至{last}")
