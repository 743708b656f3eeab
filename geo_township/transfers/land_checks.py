"""Audit checks on the land a transfer covers: declared against measured area, parcels
that overlap (counted twice, or renewed), parts outside the recorded village, and what
other layers lie under a parcel (basic farmland, forest land, river management zones).

Every check reports to a :class:`~geo_township.transfers.findings.Collector`; areas are
measured by the audit's method and given in mu.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.engine import LOCAL, Engine
from geo_township.kinds import KINDS
from geo_township.layers import feature_ids
from geo_township.measure import Method, area
from geo_township.overlaps import covered, intersection_pairs, overlap_pairs, polygonal
from geo_township.transfers.findings import (
    Collector,
    join_unique,
    period_text,
    single_rows,
    use_label,
)
from geo_township.units import from_m2, to_m2


def ids_of(gdf: gpd.GeoDataFrame | None, kind_name: str) -> np.ndarray:
    """Each feature's id in its kind's id field, else its feature number."""
    if gdf is None:
        return np.zeros(0, dtype=object)
    return feature_ids(gdf, KINDS[kind_name]).to_numpy() if kind_name in KINDS else np.array(
        [f"feature {i + 1}" for i in range(len(gdf))], dtype=object)


def dissolve_villages(villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One (multi)polygon per village name (a village drawn in several pieces is one)."""
    named = villages[villages["village"].notna()] if "village" in villages.columns else villages.iloc[0:0]
    rows = []
    for name, group in named.groupby("village", sort=True):
        geoms = group.geometry.to_numpy()
        rows.append((str(name), geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)))
    return gpd.GeoDataFrame({"village": [r[0] for r in rows]},
                            geometry=gpd.GeoSeries([r[1] for r in rows], crs=villages.crs))


def tolerance_text(tolerance_pct: float, tolerance_mu: float, rule: str, lang: str = "en") -> str:
    """The tolerance as words, e.g. ``5% or 1 mu`` (``lang`` 'en' or 'zh')."""
    if tolerance_mu <= 0:
        return f"{tolerance_pct:g}%"
    if lang == "zh":
        return f"{tolerance_pct:g}%{'或' if rule == 'any' else '且'} {tolerance_mu:g} 亩"
    return f"{tolerance_pct:g}% {'or' if rule == 'any' else 'and'} {tolerance_mu:g} mu"


def check_area(p: gpd.GeoDataFrame, out: Collector, *, tolerance_pct: float, tolerance_mu: float,
                rule: str) -> None:
    """Declared areas that differ from the drawn parcel's beyond the tolerance."""
    out.ran("area_mismatch")
    declared = p["declared_mu"].to_numpy(dtype="float64")
    measured = p["measured_mu"].to_numpy(dtype="float64")
    diff = declared - measured
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(measured > 0, diff / measured * 100.0, np.inf)
    known = np.isfinite(declared) & (declared > 0)
    beyond = np.abs(pct) > tolerance_pct
    if tolerance_mu > 0:
        by_mu = np.abs(diff) > tolerance_mu
        beyond = (beyond | by_mu) if rule == "any" else (beyond & by_mu)
    flag = known & beyond
    if not flag.any():
        return
    sub = p[flag].copy()
    sub["diff_mu"] = diff[flag]
    sub["diff_pct"] = pct[flag]
    en, zh = (tolerance_text(tolerance_pct, tolerance_mu, rule, lang) for lang in ("en", "zh"))
    rows = list(zip(sub["declared_mu"], sub["measured_mu"], sub["diff_mu"], sub["diff_pct"], strict=True))
    values = [{"declared": d, "measured": m, "diff": abs(x), "pct": abs(q), "direction": "more" if x > 0 else "less",
               "direction_zh": "多" if x > 0 else "少", "tolerance": en, "tolerance_zh": zh} for d, m, x, q in rows]
    frame = sub[["parcel_id", "village", "land_type", "use", "declared_mu", "measured_mu", "diff_mu", "diff_pct",
                 "geometry"]]
    out.add("area_mismatch", frame, features=sub["parcel_id"].tolist(), values=values,
            rows=single_rows(sub.index), area_mu=float(np.abs(sub["diff_mu"]).sum()))


def check_overlaps(p: gpd.GeoDataFrame, out: Collector, *, method: Method, min_mu: float,
                   engine: Engine = LOCAL) -> None:
    """Pairs of parcels sharing more than ``min_mu``: counted twice when their contracts
    run at the same time, else a renewal. The pairs are found and measured on ``engine``."""
    out.ran("overlap")
    out.ran("renewal")
    pairs = overlap_pairs(p.geometry, method=method, min_area_m2=to_m2(min_mu, "mu"),
                          pieces_of=engine.overlap_pieces, area_of=engine.area_m2)
    if not len(pairs):
        return
    left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()
    a = p.iloc[left].reset_index(drop=True)
    b = p.iloc[right].reset_index(drop=True)
    overlap_mu = from_m2(pairs["area_m2"].to_numpy(), "mu")
    sa, ea, sb, eb = a["start_date"], a["end_date"], b["start_date"], b["end_date"]
    # a missing date is open-ended: the periods overlap unless known dates show they do not
    in_time = ((sa.isna() | eb.isna() | (sa < eb)) & (sb.isna() | ea.isna() | (sb < ea))).to_numpy()
    undated = (a["start_date"].isna() | a["end_date"].isna() | b["start_date"].isna() | b["end_date"].isna()
               ).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        share_a = overlap_mu / a["measured_mu"].to_numpy() * 100.0
        share_b = overlap_mu / b["measured_mu"].to_numpy() * 100.0
    frame = gpd.GeoDataFrame({
        "parcel_a": a["parcel_id"], "parcel_b": b["parcel_id"], "village_a": a["village"], "village_b": b["village"],
        "overlap_mu": overlap_mu, "share_a_pct": share_a, "share_b_pct": share_b,
        "start_a": a["start_date"], "end_a": a["end_date"], "start_b": b["start_date"], "end_b": b["end_date"],
    }, geometry=pairs.geometry.reset_index(drop=True), crs=p.crs)
    for code, mask in (("overlap", in_time), ("renewal", ~in_time)):
        if not mask.any():
            continue
        sub = frame[mask]
        values = [{"a": row.parcel_a, "b": row.parcel_b, "mu": row.overlap_mu, "share_a": row.share_a_pct,
                   "share_b": row.share_b_pct,
                   "periods": f"{period_text(row.start_a, row.end_a)} and {period_text(row.start_b, row.end_b)}",
                   "periods_zh": f"{period_text(row.start_a, row.end_a)} 与 {period_text(row.start_b, row.end_b)}",
                   "open_ended": ", a missing date counts as open-ended" if und else "",
                   "open_ended_zh": "，缺少的日期按不限期计" if und else ""}
                  for row, und in zip(sub.itertuples(index=False), undated[mask], strict=True)]
        ids = [f"{x} / {y}" for x, y in zip(sub["parcel_a"], sub["parcel_b"], strict=True)]
        la, rb = left[mask], right[mask]
        out.add(code, sub, features=ids, values=values,
                rows=[(int(x), int(y)) for x, y in zip(la, rb, strict=True)], area_mu=float(sub["overlap_mu"].sum()))
        partner = "double_counted_with" if code == "overlap" else "renewal_with"
        out.attach(partner, np.concatenate([la, rb]), [*sub["parcel_b"], *sub["parcel_a"]])
        if code == "overlap":
            out.attach("double_counted_mu", np.concatenate([la, rb]), np.concatenate([sub["overlap_mu"]] * 2))


def _lies_in(geoms: gpd.GeoSeries, dissolved: gpd.GeoDataFrame, *, method: Method,
             total_mu: np.ndarray | None = None, exclude: list | None = None) -> tuple[list[str], list[str]]:
    """Per geometry, the villages it lies in with the mu in each (largest first), and
    what lies outside every village, in English and Chinese; ``exclude`` leaves out one
    village name per geometry."""
    names = dissolved["village"].to_numpy()
    pairs = intersection_pairs(geoms, dissolved.geometry)
    amounts = area(pairs.geometry, unit="mu", method=method) if len(pairs) else np.zeros(0)
    frame = pd.DataFrame({"row": pairs["left"].to_numpy(), "name": names[pairs["right"].to_numpy()],
                          "mu": amounts}).sort_values(["row", "mu"], ascending=[True, False])
    if total_mu is None:
        total_mu = area(geoms, unit="mu", method=method)
    out, out_zh = [], []
    grouped = dict(tuple(frame.groupby("row", sort=False)))
    for i in range(len(geoms)):
        group = grouped.get(i)
        text, text_zh = [], []
        inside = 0.0
        if group is not None:
            for name, mu in zip(group["name"], group["mu"], strict=True):
                inside += mu
                if (exclude is None or name != exclude[i]) and mu >= 0.005:
                    text.append(f"{name} {mu:,.2f} mu")
                    text_zh.append(f"{name} {mu:,.2f} 亩")
        rest = float(total_mu[i]) - inside
        if rest >= 0.005:
            text.append(f"outside every village {rest:,.2f} mu")
            text_zh.append(f"不在任何村内 {rest:,.2f} 亩")
        out.append(", ".join(text) or "-")
        out_zh.append("、".join(text_zh) or "-")
    return out, out_zh


def check_villages(p: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, out: Collector, *, method: Method,
                    min_mu: float) -> None:
    """Parts of parcels outside their recorded village; missing and unknown village names."""
    for code in ("outside_village", "missing_village", "unknown_village"):
        out.ran(code)
    dissolved = dissolve_villages(villages)
    names = dissolved["village"].tolist()
    pos = p["village"].map({n: i for i, n in enumerate(names)})
    known = pos.notna().to_numpy()
    listed = join_unique(names[:12]) + (" …" if len(names) > 12 else "")
    for code, mask in (("missing_village", p["village"].isna().to_numpy()),
                       ("unknown_village", p["village"].notna().to_numpy() & ~known)):
        if not mask.any():
            continue
        sub = p[mask].copy()
        sub["lies_in"], lies_zh = _lies_in(sub.geometry, dissolved, method=method,
                                           total_mu=sub["measured_mu"].to_numpy())
        values = [{"village": v, "listed": listed, "lies_in": w, "lies_in_zh": w_zh}
                  for v, w, w_zh in zip(sub["village"], sub["lies_in"], lies_zh, strict=True)]
        out.add(code, sub[["parcel_id", "village", "measured_mu", "lies_in", "geometry"]],
                features=sub["parcel_id"].tolist(), values=values,
                rows=single_rows(sub.index), area_mu=float(sub["measured_mu"].sum()))
    if not known.any():
        return
    idx = np.flatnonzero(known)
    villages_arr = dissolved.geometry.to_numpy()
    own = villages_arr[pos.to_numpy()[known].astype(int)]
    shapely.prepare(villages_arr)
    try:  # most parcels lie inside their village: a prepared covers test spares them the overlay
        inside = shapely.covers(own, p.geometry.to_numpy()[idx])
    finally:
        shapely.destroy_prepared(villages_arr)
    idx, own = idx[~inside], own[~inside]
    outside = polygonal(shapely.difference(p.geometry.to_numpy()[idx], own))
    outside_mu = np.zeros(len(idx))
    nonempty = ~shapely.is_empty(outside)
    if nonempty.any():
        outside_mu[nonempty] = area(gpd.GeoSeries(outside[nonempty], crs=p.crs), unit="mu", method=method)
    flag = outside_mu > min_mu
    if not flag.any():
        return
    sub = p.iloc[idx[flag]].copy()
    parts = gpd.GeoSeries(outside[flag], index=sub.index, crs=p.crs)
    sub["outside_mu"] = outside_mu[flag]
    sub["outside_pct"] = sub["outside_mu"] / sub["measured_mu"] * 100.0
    sub["lies_in"], lies_zh = _lies_in(parts.reset_index(drop=True), dissolved, method=method,
                                       total_mu=sub["outside_mu"].to_numpy())
    rows = list(zip(sub["outside_mu"], sub["outside_pct"], sub["village"], strict=True))
    values = [{"outside": o, "pct": q, "village": v, "lies_in": w, "lies_in_zh": w_zh}
              for (o, q, v), w, w_zh in zip(rows, sub["lies_in"], lies_zh, strict=True)]
    frame = gpd.GeoDataFrame(sub[["parcel_id", "village", "measured_mu", "outside_mu", "outside_pct", "lies_in"]],
                             geometry=parts, crs=p.crs)
    out.add("outside_village", frame, features=sub["parcel_id"].tolist(), values=values,
            rows=single_rows(sub.index), area_mu=float(sub["outside_mu"].sum()))
    out.attach("outside_mu", sub.index, sub["outside_mu"])


def check_cover(p: gpd.GeoDataFrame, mask: np.ndarray, target: gpd.GeoDataFrame, target_ids: np.ndarray,
                 out: Collector, *, code: str, column: str, ids_column: str, method: Method, min_mu: float) -> None:
    """Parcels (``mask``) whose part covered by ``target`` exceeds ``min_mu``; the
    check's message has the covered ``mu`` and ``pct``, the parcel's ``use`` and the ids
    of the covering features under ``ids_column``."""
    out.ran(code)
    if not mask.any() or not len(target):
        return
    sub = p[mask]
    parts, areas, which = covered(sub.geometry, target.geometry, method=method)
    inside_mu = from_m2(areas, "mu")
    flag = inside_mu > min_mu
    if not flag.any():
        return
    hits = sub[flag].copy()
    hits[f"{column}_mu"] = inside_mu[flag]
    hits[f"{column}_pct"] = hits[f"{column}_mu"] / hits["measured_mu"] * 100.0
    hits[ids_column] = [join_unique(target_ids[w]) for w, f in zip(which, flag, strict=True) if f]
    frame = gpd.GeoDataFrame(
        hits[["parcel_id", "village", "land_type", "use", "measured_mu", f"{column}_mu", f"{column}_pct",
              ids_column]],
        geometry=gpd.GeoSeries(parts.to_numpy()[flag], index=hits.index, crs=p.crs), crs=p.crs)
    records = list(frame.itertuples(index=False))
    values = [{"mu": getattr(r, f"{column}_mu"), "pct": getattr(r, f"{column}_pct"), "use": use_label(r.use),
               "use_zh": use_label(r.use, "zh"), ids_column: getattr(r, ids_column)} for r in records]
    out.add(code, frame, features=hits["parcel_id"].tolist(), values=values, rows=single_rows(hits.index),
            area_mu=float(hits[f"{column}_mu"].sum()))
    out.attach(f"{column}_mu", hits.index, hits[f"{column}_mu"])


def check_basic_farmland(p: gpd.GeoDataFrame, basic_farmland: gpd.GeoDataFrame, out: Collector, *,
                         non_farming: list[str], method: Method, min_mu: float) -> None:
    """A non-farming use (one of ``non_farming``) on permanent basic farmland: prohibited."""
    check_cover(p, p["use"].isin(non_farming).to_numpy(), basic_farmland,
                ids_of(basic_farmland, "basic_farmland"), out,
                code="on_basic_farmland", column="on_farmland", ids_column="patches", method=method,
                min_mu=min_mu)


def check_forest_land(p: gpd.GeoDataFrame, forest_plots: gpd.GeoDataFrame, out: Collector, *, method: Method,
                      min_mu: float) -> None:
    """A farmland transfer on forest sub-compartments."""
    check_cover(p, (p["land_type"] == "farmland").to_numpy(), forest_plots,
                ids_of(forest_plots, "forest_plots"), out,
                code="on_forest_land", column="on_forest", ids_column="plots", method=method,
                min_mu=min_mu)


def check_river_zones(p: gpd.GeoDataFrame, river_zones: gpd.GeoDataFrame, out: Collector, *, method: Method,
                      min_mu: float) -> None:
    """Any parcel reaching into a river management zone (named by ``reach_id``, else
    ``reach``, else the feature's id)."""
    key = next((c for c in ("reach_id", "reach") if c in river_zones.columns), None)
    zone_ids = (river_zones[key].astype(str).to_numpy() if key else ids_of(river_zones, "rivers"))
    check_cover(p, np.ones(len(p), dtype=bool), river_zones, zone_ids, out, code="in_river_zone",
                column="in_zone", ids_column="in_zone_of", method=method, min_mu=min_mu)
