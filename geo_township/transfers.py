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
the check's code, ready for :func:`write_findings_gpkg`. Messages are in English and
Chinese (``Finding.message_zh``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.config import PARAMETERS, validate_parameter
from geo_township.errors import UsageError
from geo_township.kinds import AUDIT_CHECK, KINDS, TOTAL_LABEL, TRANSFER_USE
from geo_township.layers import Township, feature_ids
from geo_township.measure import METHOD_NOTES, METHOD_NOTES_ZH, Method, area, group_labels
from geo_township.overlaps import covered, intersection_pairs, overlap_pairs, polygonal
from geo_township.overlay import Category, Overlay
from geo_township.results import Finding, Result, localise
from geo_township.units import from_m2, to_m2
from geo_township.zones import management_zones

log = logging.getLogger(__name__)

LAYER = "land_transfers"
DAYS_PER_YEAR = 365.2425


@dataclass(frozen=True)
class AuditCheck:
    """One rule of the audit: its code (also the name of its table and GeoPackage layer),
    severity, and what it means. Labels (en/zh) are in ``kinds.AUDIT_CHECK``."""

    code: str
    severity: str
    doc: str


CHECKS: dict[str, AuditCheck] = {
    c.code: c
    for c in (
        AuditCheck("area_mismatch", "error", "declared area differs from the drawn parcel beyond the tolerance"),
        AuditCheck("overlap", "error", "two contracts cover the same land at the same time: counted twice"),
        AuditCheck("renewal", "info", "two contracts cover the same land one after the other"),
        AuditCheck("outside_village", "error", "part of the parcel lies outside the village it is recorded under"),
        AuditCheck("on_basic_farmland", "error", "a non-farming use on permanent basic farmland (prohibited)"),
        AuditCheck("on_forest_land", "warning", "a farmland transfer on forest land (forest sub-compartments)"),
        AuditCheck("in_river_zone", "warning", "the parcel reaches into a river management zone"),
        AuditCheck("duplicate_id", "error", "several parcels share one parcel id"),
        AuditCheck("missing_id", "error", "the parcel has no id"),
        AuditCheck("missing_declared", "error", "no declared area (or zero)"),
        AuditCheck("end_before_start", "error", "the contract ends before it starts"),
        AuditCheck("contract_too_long", "error", "the contract is longer than allowed"),
        AuditCheck("missing_dates", "warning", "no start or end date"),
        AuditCheck("bad_date", "error", "a date the file holds cannot be understood (read as missing)"),
        AuditCheck("bad_value", "error", "a value the file holds cannot be understood (read as missing)"),
        AuditCheck("missing_village", "warning", "no village recorded"),
        AuditCheck("unknown_village", "warning", "the recorded village is not in the villages layer"),
        AuditCheck("invalid_geometry", "error", "invalid geometry, audited with a repaired copy"),
        AuditCheck("empty_geometry", "error", "the parcel has no geometry and is left out of every number"),
    )
}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2, "ok": 3}

_DECIMALS = {"declared_mu": 2, "measured_mu": 2, "diff_mu": 2, "diff_pct": 1, "overlap_mu": 2,
             "share_a_pct": 1, "share_b_pct": 1, "outside_mu": 2, "outside_pct": 1, "on_farmland_mu": 2,
             "on_farmland_pct": 1, "on_forest_mu": 2, "on_forest_pct": 1, "in_zone_mu": 2, "in_zone_pct": 1,
             "years": 1, "concerned_mu": 2, "basic_farmland_mu": 2, "transferred_farmland_mu": 2,
             "farmland_share_pct": 1}
_VOCAB = {"check": "audit_check", "use": "transfer_use", "land_type": "land_type"}
_BASE = ["parcel_id", "village", "land_type", "use", "declared_mu", "measured_mu", "start_date", "end_date"]


# --------------------------------------------------------------------------- helpers


def _fmt_date(value) -> str:
    return "?" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _period(start, end) -> str:
    return f"{_fmt_date(start)}–{_fmt_date(end)}"


def _join(values: Iterable) -> str:
    return ", ".join(dict.fromkeys(str(v) for v in values))


def _ids_of(gdf: gpd.GeoDataFrame | None, kind_name: str) -> np.ndarray:
    if gdf is None:
        return np.zeros(0, dtype=object)
    return feature_ids(gdf, KINDS[kind_name]).to_numpy() if kind_name in KINDS else np.array(
        [f"feature {i + 1}" for i in range(len(gdf))], dtype=object)


def _dissolve_villages(villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One (multi)polygon per village name (a village drawn in several pieces is one)."""
    named = villages[villages["village"].notna()] if "village" in villages.columns else villages.iloc[0:0]
    rows = []
    for name, group in named.groupby("village", sort=True):
        geoms = group.geometry.to_numpy()
        rows.append((str(name), geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)))
    return gpd.GeoDataFrame({"village": [r[0] for r in rows]},
                            geometry=gpd.GeoSeries([r[1] for r in rows], crs=villages.crs))


Keys = tuple  # the parcels one finding concerns: row positions in the audited frame (or "dropped N")


class _Collector:
    """Gathers findings, one table and one feature layer per check, and the summary.

    Parcels are tracked by their row in the audited frame, never by their id, so two
    features sharing an id keep their own findings.
    """

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.tables: dict[str, pd.DataFrame] = {}
        self.features: dict[str, gpd.GeoDataFrame] = {}
        self.summary: dict[str, dict] = {}
        self.flags: dict[str, set] = {}
        self.details: dict[int, list[tuple[str, str]]] = {}
        self.values: dict[str, dict[int, list]] = {}

    def ran(self, code: str) -> None:
        self.summary.setdefault(code, {"check": code, "severity": CHECKS[code].severity, "findings": 0,
                                       "parcels": 0, "concerned_mu": 0.0})

    def add(self, code: str, frame: gpd.GeoDataFrame, *, features: list[str], messages: list[str],
            messages_zh: list[str], rows: list[Keys], area_mu: float) -> None:
        """Record a check's rows (with geometry), its findings (English and Chinese
        messages), the parcels each finding concerns (``rows``) and the area concerned (mu)."""
        self.ran(code)
        check = CHECKS[code]
        self.findings += [Finding(LAYER, f, check.severity, code, m, z)
                          for f, m, z in zip(features, messages, messages_zh, strict=True)]
        concerned = self.flags.setdefault(code, set())
        for keys, en, zh in zip(rows, messages, messages_zh, strict=True):
            concerned.update(keys)
            for key in keys:
                if not isinstance(key, str):
                    self.details.setdefault(int(key), []).append((en, zh))
        row = self.summary[code]
        row["findings"] += len(messages)
        row["parcels"] = len(concerned)
        row["concerned_mu"] += float(area_mu)
        frame = frame.reset_index(drop=True)
        self.features[code] = frame
        self.tables[code] = pd.DataFrame(frame.drop(columns=frame.geometry.name))

    def attach(self, column: str, rows, values) -> None:
        """Per-parcel values for the ``parcels`` layer (numbers are summed, words listed)."""
        slot = self.values.setdefault(column, {})
        for r, v in zip(rows, values, strict=True):
            slot.setdefault(int(r), []).append(v)

    def layer_finding(self, code: str, message: str, message_zh: str) -> None:
        """One finding for the whole layer (a field it lacks), instead of one per parcel."""
        self.ran(code)
        self.findings.append(Finding(LAYER, "-", CHECKS[code].severity, code, message, message_zh))
        self.summary[code]["findings"] += 1


def _single(index) -> list[Keys]:
    return [(int(i),) for i in index]


# --------------------------------------------------------------------------- river zones


def _management_zones(township: Township) -> gpd.GeoDataFrame | None:
    """The township's river management zones, as the rivers command draws them (one
    definition: :func:`geo_township.zones.management_zones`), one polygon per ``reach``."""
    rivers = township.optional("rivers")
    if rivers is None:
        return None
    return management_zones(rivers, default_zone_m=township.config.parameters["zone_m"])


# --------------------------------------------------------------------------- the checks


def _tolerance_rule(tolerance_pct: float, tolerance_mu: float, rule: str, lang: str = "en") -> str:
    if tolerance_mu <= 0:
        return f"{tolerance_pct:g}%"
    if lang == "zh":
        return f"{tolerance_pct:g}%{'或' if rule == 'any' else '且'} {tolerance_mu:g} 亩"
    return f"{tolerance_pct:g}% {'or' if rule == 'any' else 'and'} {tolerance_mu:g} mu"


def _check_area(p: gpd.GeoDataFrame, out: _Collector, *, tolerance_pct: float, tolerance_mu: float,
                rule: str) -> None:
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
    en, zh = (_tolerance_rule(tolerance_pct, tolerance_mu, rule, lang) for lang in ("en", "zh"))
    rows = list(zip(sub["declared_mu"], sub["measured_mu"], sub["diff_mu"], sub["diff_pct"], strict=True))
    messages = [f"declared {d:,.2f} mu but the drawn parcel measures {m:,.2f} mu: declared is {abs(x):,.2f} mu "
                f"({abs(q):.1f}%) {'more' if x > 0 else 'less'}, beyond the tolerance of {en}" for d, m, x, q in rows]
    messages_zh = [f"登记 {d:,.2f} 亩，实测 {m:,.2f} 亩：登记{'多' if x > 0 else '少'} {abs(x):,.2f} 亩"
                   f"（{abs(q):.1f}%），超过容差 {zh}" for d, m, x, q in rows]
    frame = sub[["parcel_id", "village", "land_type", "use", "declared_mu", "measured_mu", "diff_mu", "diff_pct",
                 "geometry"]]
    out.add("area_mismatch", frame, features=sub["parcel_id"].tolist(), messages=messages, messages_zh=messages_zh,
            rows=_single(sub.index), area_mu=float(np.abs(sub["diff_mu"]).sum()))


def _check_overlaps(p: gpd.GeoDataFrame, out: _Collector, *, method: Method, min_mu: float) -> None:
    out.ran("overlap")
    out.ran("renewal")
    pairs = overlap_pairs(p.geometry, method=method, min_area_m2=to_m2(min_mu, "mu"))
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
        messages, messages_zh = [], []
        for row, und in zip(sub.itertuples(index=False), undated[mask], strict=True):
            periods = f"{_period(row.start_a, row.end_a)} and {_period(row.start_b, row.end_b)}"
            periods_zh = f"{_period(row.start_a, row.end_a)} 与 {_period(row.start_b, row.end_b)}"
            head = (f"{row.parcel_a} and {row.parcel_b} overlap by {row.overlap_mu:,.2f} mu "
                    f"({row.share_a_pct:.1f}% of {row.parcel_a}, {row.share_b_pct:.1f}% of {row.parcel_b})")
            head_zh = (f"{row.parcel_a} 与 {row.parcel_b} 重叠 {row.overlap_mu:,.2f} 亩（占 {row.parcel_a} 的 "
                       f"{row.share_a_pct:.1f}%，占 {row.parcel_b} 的 {row.share_b_pct:.1f}%）")
            if code == "overlap":
                tail = (f"; their contracts run at the same time ({periods}"
                        + (", a missing date counts as open-ended" if und else "")
                        + "): the same land is counted twice")
                tail_zh = (f"；两份合同期限重叠（{periods_zh}" + ("，缺少的日期按不限期计" if und else "")
                           + "）：同一块地被重复计算")
            else:
                tail = f"; one contract ends before the other starts ({periods}): a renewal, not double counting"
                tail_zh = f"；一份合同结束后另一份才开始（{periods_zh}）：属续签，不是重复流转"
            messages.append(head + tail)
            messages_zh.append(head_zh + tail_zh)
        ids = [f"{x} / {y}" for x, y in zip(sub["parcel_a"], sub["parcel_b"], strict=True)]
        la, rb = left[mask], right[mask]
        out.add(code, sub, features=ids, messages=messages, messages_zh=messages_zh,
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


def _check_villages(p: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, out: _Collector, *, method: Method,
                    min_mu: float) -> None:
    """Parts of parcels outside their recorded village; missing and unknown village names."""
    for code in ("outside_village", "missing_village", "unknown_village"):
        out.ran(code)
    dissolved = _dissolve_villages(villages)
    names = dissolved["village"].tolist()
    pos = p["village"].map({n: i for i, n in enumerate(names)})
    known = pos.notna().to_numpy()
    listed = _join(names[:12]) + (" …" if len(names) > 12 else "")
    for code, mask in (("missing_village", p["village"].isna().to_numpy()),
                       ("unknown_village", p["village"].notna().to_numpy() & ~known)):
        if not mask.any():
            continue
        sub = p[mask].copy()
        sub["lies_in"], lies_zh = _lies_in(sub.geometry, dissolved, method=method,
                                           total_mu=sub["measured_mu"].to_numpy())
        if code == "missing_village":
            messages = [f"no village recorded; the parcel lies in {w}" for w in sub["lies_in"]]
            messages_zh = [f"未填写所属村；地块实际位于 {w}" for w in lies_zh]
        else:
            messages = [f"village {v!r} is not in the villages layer ({listed}); the parcel lies in {w}"
                        for v, w in zip(sub["village"], sub["lies_in"], strict=True)]
            messages_zh = [f"村名“{v}”不在行政村图层中（{listed}）；地块实际位于 {w}"
                           for v, w in zip(sub["village"], lies_zh, strict=True)]
        out.add(code, sub[["parcel_id", "village", "measured_mu", "lies_in", "geometry"]],
                features=sub["parcel_id"].tolist(), messages=messages, messages_zh=messages_zh,
                rows=_single(sub.index), area_mu=float(sub["measured_mu"].sum()))
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
    messages = [f"{o:,.2f} mu ({q:.1f}%) of the parcel lies outside {v}, the village it is recorded under (in {w})"
                for (o, q, v), w in zip(rows, sub["lies_in"], strict=True)]
    messages_zh = [f"地块有 {o:,.2f} 亩（{q:.1f}%）超出登记所属的{v}（位于 {w}）"
                   for (o, q, v), w in zip(rows, lies_zh, strict=True)]
    frame = gpd.GeoDataFrame(sub[["parcel_id", "village", "measured_mu", "outside_mu", "outside_pct", "lies_in"]],
                             geometry=parts, crs=p.crs)
    out.add("outside_village", frame, features=sub["parcel_id"].tolist(), messages=messages,
            messages_zh=messages_zh, rows=_single(sub.index), area_mu=float(sub["outside_mu"].sum()))
    out.attach("outside_mu", sub.index, sub["outside_mu"])


def _check_cover(p: gpd.GeoDataFrame, mask: np.ndarray, target: gpd.GeoDataFrame, target_ids: np.ndarray,
                 out: _Collector, *, code: str, column: str, ids_column: str, method: Method, min_mu: float,
                 describe, describe_zh) -> None:
    """Parcels (``mask``) whose part covered by ``target`` exceeds ``min_mu``."""
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
    hits[ids_column] = [_join(target_ids[w]) for w, f in zip(which, flag, strict=True) if f]
    frame = gpd.GeoDataFrame(
        hits[["parcel_id", "village", "land_type", "use", "measured_mu", f"{column}_mu", f"{column}_pct",
              ids_column]],
        geometry=gpd.GeoSeries(parts.to_numpy()[flag], index=hits.index, crs=p.crs), crs=p.crs)
    records = list(frame.itertuples(index=False))
    out.add(code, frame, features=hits["parcel_id"].tolist(), messages=[describe(r) for r in records],
            messages_zh=[describe_zh(r) for r in records], rows=_single(hits.index),
            area_mu=float(hits[f"{column}_mu"].sum()))
    out.attach(f"{column}_mu", hits.index, hits[f"{column}_mu"])


def _use_label(code, lang: str = "en") -> str:
    return TRANSFER_USE.label(code, lang) if code is not None else ("(no use)" if lang == "en" else "（未填用途）")


def _absent_field(out: _Collector, code: str, fields: list[str], consequence: str, consequence_zh: str) -> None:
    kind = KINDS[LAYER]
    names = "; ".join(f"{f} ({'/'.join(kind.field(f).aliases[1:4])} …)" for f in fields)
    names_zh = "、".join(f"{kind.field(f).zh}（{'/'.join(kind.field(f).aliases[1:4])} …）" for f in fields)
    out.layer_finding(code, f"the layer has no field for {names}: {consequence}; if the file has it under another "
                            f'name, map it in township.toml: [layers.{LAYER}] fields = {{ {fields[0]} = "YOUR FIELD" }}',
                      f"图层缺少字段 {names_zh}：{consequence_zh}；如文件中该字段另有名称，请在 township.toml 中对应："
                      f'[layers.{LAYER}] fields = {{ {fields[0]} = "文件中的字段名" }}')


_FIELD_WORDS = {"start_date": ("start date", "起始日期"), "end_date": ("end date", "终止日期"),
                "declared_mu": ("declared area", "登记面积")}


def _check_bad_cells(p: gpd.GeoDataFrame, bad_cells: pd.DataFrame, out: _Collector) -> None:
    """Cells the loader could not understand (read as missing): a date such as 2020-13-01
    is one ``bad_date`` finding, any other value one ``bad_value`` finding."""
    out.ran("bad_date")
    if not len(bad_cells):
        return
    cells = bad_cells[bad_cells["row"].between(0, len(p) - 1)]
    dates = cells["field"].map(lambda f: KINDS[LAYER].field(f).dtype == "date" if f in KINDS[LAYER].field_names
                               else False).astype(bool)
    for code, sel in (("bad_date", cells[dates.to_numpy()]), ("bad_value", cells[~dates.to_numpy()])):
        if not len(sel):
            continue
        rows = sel["row"].to_numpy(dtype=int)
        sub = p.iloc[rows].copy()
        sub["field"] = sel["field"].to_numpy()
        sub["value"] = sel["value"].to_numpy()
        sub["expected"] = sel["expected"].to_numpy()
        messages, messages_zh = [], []
        for f, v, e in zip(sub["field"], sub["value"], sub["expected"], strict=True):
            en, zh = _FIELD_WORDS.get(f, (f, KINDS[LAYER].field(f).zh if f in KINDS[LAYER].field_names else f))
            if code == "bad_date":
                messages.append(f"{en} {v!r} is not a date (write it as 2022-03-05): read as missing, so the "
                                "contract's period cannot be checked and overlaps count it as open-ended")
                messages_zh.append(f"{zh}“{v}”不是有效日期（应写作 2022-03-05）：按缺失处理，无法核对合同期限，"
                                   "重叠检查按不限期计")
            else:
                messages.append(f"{en} {v!r} is not understood (expected {e}): read as missing; correct it in the file")
                messages_zh.append(f"{zh}“{v}”无法识别：按缺失处理；请在文件中改正")
        out.add(code, sub[["parcel_id", "village", "field", "value", "declared_mu", "measured_mu", "geometry"]],
                features=sub["parcel_id"].tolist(), messages=messages, messages_zh=messages_zh,
                rows=_single(rows), area_mu=float(sub.drop_duplicates("parcel_id")["measured_mu"].sum()))
        out.attach("bad_values", rows, [f"{f} {v!r}" for f, v in zip(sub["field"], sub["value"], strict=True)])


def _check_records(p: gpd.GeoDataFrame, raw_id: pd.Series, out: _Collector, *, max_years: float,
                   repaired: Mapping[str, str], dropped: pd.DataFrame | None, absent: set[str],
                   bad: pd.DataFrame, where: np.ndarray) -> None:
    for code in ("duplicate_id", "missing_id", "missing_declared", "end_before_start", "contract_too_long",
                 "missing_dates", "invalid_geometry", "empty_geometry"):
        out.ran(code)
    if "declared_mu" in absent:
        _absent_field(out, "missing_declared", ["declared_mu"], "declared areas cannot be checked",
                      "无法核对登记面积")
    no_dates: list[str] = [f for f in ("start_date", "end_date") if f in absent]
    if no_dates:
        _absent_field(out, "missing_dates", no_dates, "contract periods cannot be checked and every overlap "
                      "counts as double counting", "无法核对合同期限，所有重叠都按重复流转计")
    base = ["parcel_id", "village", "declared_mu", "measured_mu", "start_date", "end_date", "geometry"]

    def unreadable(field: str) -> np.ndarray:
        """Rows whose ``field`` was in the file but not understood (reported as bad_date/bad_value)."""
        mask = np.zeros(len(p), dtype=bool)
        mask[bad.loc[bad["field"] == field, "row"].to_numpy(dtype=int)] = True
        return mask

    dup = (raw_id.notna() & raw_id.duplicated(keep=False)).to_numpy()
    if dup.any():
        sub = p[dup].copy()
        sub["raw_id"] = raw_id[dup].to_numpy()
        sub["where"] = where[dup]
        sub["features"] = sub.groupby("raw_id")["raw_id"].transform("size").astype(int)
        groups = list(sub.groupby("raw_id", sort=False))
        messages = [f"parcel id {i} is used by {len(g)} parcels ({', '.join(g['where'])}; "
                    f"{g['measured_mu'].sum():,.2f} mu drawn in all); give each its own id" for i, g in groups]
        messages_zh = [f"地块编号 {i} 被 {len(g)} 个地块重复使用（{'、'.join(g['where'])}；共 "
                       f"{g['measured_mu'].sum():,.2f} 亩）；请给每个地块唯一编号" for i, g in groups]
        out.add("duplicate_id", sub[["parcel_id", "village", "declared_mu", "measured_mu", "features", "geometry"]],
                features=[str(i) for i, _ in groups], messages=messages, messages_zh=messages_zh,
                rows=[tuple(int(r) for r in g.index) for _, g in groups], area_mu=float(sub["measured_mu"].sum()))

    missing_id = raw_id.isna().to_numpy()
    if missing_id.any():
        sub = p[missing_id]
        out.add("missing_id", sub[base], features=sub["parcel_id"].tolist(),
                messages=[f"no parcel id ({m:,.2f} mu drawn); give the parcel its contract's id"
                          for m in sub["measured_mu"]],
                messages_zh=[f"缺少地块编号（实测 {m:,.2f} 亩）；请按合同补填编号" for m in sub["measured_mu"]],
                rows=_single(sub.index), area_mu=float(sub["measured_mu"].sum()))

    declared = p["declared_mu"]
    no_area = ((declared.isna() | (declared <= 0)).to_numpy() & ~unreadable("declared_mu")
               & ("declared_mu" not in absent))
    if no_area.any():
        sub = p[no_area]
        pairs = list(zip(sub["declared_mu"], sub["measured_mu"], strict=True))
        messages = [("no declared area" if pd.isna(d) else f"declared area is {d:g}")
                    + f"; the drawn parcel measures {m:,.2f} mu: fill in the contract's area" for d, m in pairs]
        messages_zh = [("缺少登记面积" if pd.isna(d) else f"登记面积为 {d:g}") + f"；实测 {m:,.2f} 亩：请按合同补填面积"
                       for d, m in pairs]
        out.add("missing_declared", sub[base], features=sub["parcel_id"].tolist(), messages=messages,
                messages_zh=messages_zh, rows=_single(sub.index), area_mu=float(sub["measured_mu"].sum()))

    start, end = p["start_date"], p["end_date"]
    years = (end - start).dt.days / DAYS_PER_YEAR
    backwards = (start.notna() & end.notna() & (end < start)).to_numpy()
    if backwards.any():
        sub = p[backwards]
        pairs = list(zip(sub["start_date"], sub["end_date"], strict=True))
        out.add("end_before_start", sub[base], features=sub["parcel_id"].tolist(),
                messages=[f"the contract ends {_fmt_date(e)}, before it starts {_fmt_date(s)}; correct one of the "
                          "dates" for s, e in pairs],
                messages_zh=[f"合同终止日期 {_fmt_date(e)} 早于起始日期 {_fmt_date(s)}；请改正其中一个日期"
                             for s, e in pairs],
                rows=_single(sub.index), area_mu=float(sub["measured_mu"].sum()))

    whole = int(max_years)
    limit = start + pd.DateOffset(years=whole) + pd.to_timedelta((max_years - whole) * DAYS_PER_YEAR, unit="D")
    too_long = (start.notna() & end.notna() & (end > limit)).to_numpy()
    if too_long.any():
        sub = p[too_long].copy()
        sub["years"] = years[too_long]
        rows = list(zip(sub["years"], sub["start_date"], sub["end_date"], strict=True))
        out.add("contract_too_long", sub[[*base[:-1], "years", "geometry"]], features=sub["parcel_id"].tolist(),
                messages=[f"the contract runs {y:.1f} years ({_period(s, e)}), longer than the {max_years:g} years "
                          "allowed" for y, s, e in rows],
                messages_zh=[f"合同期限 {y:.1f} 年（{_period(s, e)}），超过上限 {max_years:g} 年" for y, s, e in rows],
                rows=_single(sub.index), area_mu=float(sub["measured_mu"].sum()))

    blank_start = start.isna().to_numpy() & ~unreadable("start_date")
    blank_end = end.isna().to_numpy() & ~unreadable("end_date")
    undated = (blank_start | blank_end) & (not no_dates)
    if undated.any():
        sub = p[undated]
        flags = list(zip(blank_start[undated], blank_end[undated], strict=True))
        messages = ["no " + " and no ".join(n for n, v in (("start date", s), ("end date", e)) if v)
                    + ": the contract's period cannot be checked (overlaps count it as open-ended)" for s, e in flags]
        messages_zh = ["缺少" + "和".join(n for n, v in (("起始日期", s), ("终止日期", e)) if v)
                       + "：无法核对合同期限（重叠检查按不限期计）" for s, e in flags]
        out.add("missing_dates", sub[base], features=sub["parcel_id"].tolist(), messages=messages,
                messages_zh=messages_zh, rows=_single(sub.index), area_mu=float(sub["measured_mu"].sum()))

    if repaired:
        hit = raw_id.astype(object).where(raw_id.notna(), pd.Series(where)).astype(str).isin(list(repaired)).to_numpy()
        if hit.any():
            sub = p[hit].copy()
            key = raw_id[hit].astype(object).where(raw_id[hit].notna(), pd.Series(where[hit], index=sub.index))
            sub["reason"] = [repaired.get(str(i), "invalid") for i in key]
            pairs = list(zip(sub["reason"], sub["measured_mu"], strict=True))
            out.add("invalid_geometry", sub[["parcel_id", "village", "declared_mu", "measured_mu", "reason",
                                             "geometry"]],
                    features=sub["parcel_id"].tolist(),
                    messages=[f"invalid geometry ({r}); audited with a repaired copy ({m:,.2f} mu, layer "
                              "invalid_geometry of the GeoPackage); the file is unchanged: fix it in your GIS, e.g. "
                              "QGIS 'Fix geometries'" for r, m in pairs],
                    messages_zh=[f"图形无效（{r}）；按修复后的副本审计（{m:,.2f} 亩，见 GeoPackage 的 invalid_geometry "
                                 "图层）；原文件未改动：请在 GIS 中修复（如 QGIS“修复几何图形”）" for r, m in pairs],
                    rows=_single(sub.index), area_mu=float(sub["measured_mu"].sum()))

    if dropped is not None and len(dropped):
        table = pd.DataFrame({
            "parcel_id": dropped.get("feature", pd.Series(["?"] * len(dropped))).astype(str).to_numpy(),
            "village": dropped["village"].to_numpy() if "village" in dropped.columns else None,
            "declared_mu": (pd.to_numeric(dropped["declared_mu"], errors="coerce").to_numpy()
                            if "declared_mu" in dropped.columns else np.nan),
            "reason": dropped.get("reason", pd.Series(["no geometry"] * len(dropped))).astype(str).to_numpy(),
        })
        frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries([None] * len(table), crs=p.crs), crs=p.crs)
        pairs = list(zip(table["reason"], table["declared_mu"], strict=True))
        out.add("empty_geometry", frame, features=table["parcel_id"].tolist(),
                messages=[f"{r}: the parcel" + (f" (declared {d:,.2f} mu)" if pd.notna(d) else "")
                          + " is left out of every number; draw it in your GIS" for r, d in pairs],
                messages_zh=["缺少图形：该地块" + (f"（登记 {d:,.2f} 亩）" if pd.notna(d) else "")
                             + "未计入任何统计；请在 GIS 中补绘" for _, d in pairs],
                rows=[(f"dropped {k}",) for k in range(len(table))], area_mu=0.0)


# --------------------------------------------------------------------------- totals


def _totals(p: gpd.GeoDataFrame, key: pd.Series, column: str, extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """Parcels, declared and measured mu per group, groups sorted, with a Total row."""
    frame = pd.DataFrame({column: group_labels(key).to_numpy(), "declared_mu": p["declared_mu"].to_numpy(),
                          "measured_mu": p["measured_mu"].to_numpy()})
    table = frame.groupby(column, sort=True).agg(parcels=("measured_mu", "size"), declared_mu=("declared_mu", "sum"),
                                                 measured_mu=("measured_mu", "sum"))
    if extra is not None:
        table = table.join(extra, how="outer").sort_index()
        table["parcels"] = table["parcels"].fillna(0)
        table[["declared_mu", "measured_mu"]] = table[["declared_mu", "measured_mu"]].fillna(0.0)
    table = table.reset_index().rename(columns={"index": column})
    total = {column: TOTAL_LABEL["en"], "parcels": len(p), "declared_mu": float(np.nansum(p["declared_mu"])),
             "measured_mu": float(p["measured_mu"].sum())}
    if extra is not None:
        for col in extra.columns:
            if col.endswith("_mu"):
                total[col] = float(table[col].sum())
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    table["parcels"] = table["parcels"].astype(int)
    return table


def _farmland_share(p: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, farmland: gpd.GeoDataFrame, *,
                    method: Method) -> pd.DataFrame:
    """Per village (by location): its permanent basic farmland, the part of it that
    transfers cover (each piece of land once, however many contracts cover it), and the share."""
    dissolved = _dissolve_villages(villages)
    pieces = intersection_pairs(farmland.geometry, dissolved.geometry)
    names = dissolved["village"].to_numpy()
    farm_mu = area(pieces.geometry, unit="mu", method=method) if len(pieces) else np.zeros(0)
    _, cov_m2, _ = covered(pieces.geometry, p.geometry, method=method)
    frame = pd.DataFrame({"village": names[pieces["right"].to_numpy()] if len(pieces) else [],
                          "basic_farmland_mu": farm_mu, "transferred_farmland_mu": from_m2(cov_m2, "mu")})
    table = frame.groupby("village").sum().reindex(names, fill_value=0.0)
    table.index.name = "village"
    return table


def _share_column(table: pd.DataFrame) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        share = table["transferred_farmland_mu"] / table["basic_farmland_mu"] * 100.0
    table["farmland_share_pct"] = share.where(table["basic_farmland_mu"] > 0)
    return table


# --------------------------------------------------------------------------- the audit


def _param(name: str, value):
    """A parameter's value checked against its declaration; a clear error names it."""
    try:
        return validate_parameter(name, value)
    except ValueError as exc:
        raise UsageError(f"{name}: {exc}", hint=PARAMETERS[name].doc) from None


def _where_in_file(transfers: gpd.GeoDataFrame) -> np.ndarray:
    """Each row's place in the file: 'line N' for tables, else 'feature N' (its number
    among the file's features, also when features without geometry were left out)."""
    if "source_row" in transfers.columns:
        return ("line " + transfers["source_row"].astype(str)).to_numpy(dtype=object)
    numbers = transfers.attrs.get("feature_numbers")
    if numbers is None or len(numbers) != len(transfers):
        numbers = range(1, len(transfers) + 1)
    return np.array([f"feature {n}" for n in numbers], dtype=object)


_PER_PARCEL = {  # column of the parcels layer → how a parcel's values from several findings combine
    "double_counted_with": "list", "double_counted_mu": "sum", "renewal_with": "list", "outside_mu": "sum",
    "on_farmland_mu": "sum", "on_forest_mu": "sum", "in_zone_mu": "sum", "bad_values": "list",
}


def _parcels_layer(p: gpd.GeoDataFrame, out: _Collector, where: np.ndarray) -> gpd.GeoDataFrame:
    """Every parcel with its worst finding (``audit``), its checks, the numbers behind them
    and the findings' messages (``details`` / ``details_zh``): what the map's popup and
    the GeoPackage's ``parcels`` layer show."""
    n = len(p)
    worst = np.full(n, SEVERITY_ORDER["ok"])
    listed: list[list[str]] = [[] for _ in range(n)]
    for code in CHECKS:  # in the order of CHECKS, so a parcel's checks read most serious first within a severity
        rows = [k for k in out.flags.get(code, ()) if not isinstance(k, str)]
        if not rows:
            continue
        idx = np.asarray(rows, dtype=int)
        worst[idx] = np.minimum(worst[idx], SEVERITY_ORDER[CHECKS[code].severity])
        for r in idx:
            listed[r].append(code)
    rank = {c: (SEVERITY_ORDER[CHECKS[c].severity], k) for k, c in enumerate(CHECKS)}
    names = {v: k for k, v in SEVERITY_ORDER.items()}
    parcels = p.copy()
    parcels.insert(1, "feature", where)
    parcels["diff_mu"] = parcels["declared_mu"] - parcels["measured_mu"]
    parcels["audit"] = [names[w] for w in worst]
    parcels["checks"] = [", ".join(sorted(c, key=lambda code: rank[code])) for c in listed]
    for column, how in _PER_PARCEL.items():
        slot = out.values.get(column, {})
        if how == "sum":
            values = np.full(n, np.nan)
            for r, v in slot.items():
                values[r] = float(np.sum(v))
        else:
            values = np.full(n, None, dtype=object)
            for r, v in slot.items():
                values[r] = _join(v)
        parcels[column] = values
    for column, k in (("details", 0), ("details_zh", 1)):
        values = np.full(n, None, dtype=object)
        for r, msgs in out.details.items():
            values[r] = (" | " if k == 0 else "｜").join(m[k] for m in msgs)
        parcels[column] = values
    return parcels


def audit_layers(
    transfers: gpd.GeoDataFrame,
    *,
    villages: gpd.GeoDataFrame | None = None,
    basic_farmland: gpd.GeoDataFrame | None = None,
    forest_plots: gpd.GeoDataFrame | None = None,
    river_zones: gpd.GeoDataFrame | None = None,
    repaired: Mapping[str, str] | None = None,
    dropped: pd.DataFrame | None = None,
    bad_cells: pd.DataFrame | None = None,
    method: Method = "ellipsoidal",
    tolerance_pct: float = PARAMETERS["tolerance_pct"].default,
    tolerance_mu: float = PARAMETERS["tolerance_mu"].default,
    tolerance_rule: str = PARAMETERS["tolerance_rule"].default,
    overlap_min_mu: float = PARAMETERS["overlap_min_mu"].default,
    max_contract_years: float = PARAMETERS["max_contract_years"].default,
    non_farming_uses: Iterable[str] = tuple(PARAMETERS["non_farming_uses"].default),
) -> Result:
    """Audit land-transfer parcels against the other layers (see the module docstring).

    Parameters
    ----------
    transfers:
        The ``land_transfers`` layer with canonical fields, in a projected CRS (metres);
        every other layer in the same CRS.
    villages, basic_farmland, forest_plots, river_zones:
        Optional layers; a check that needs a missing layer is skipped and a note says so.
        ``river_zones`` are zone polygons (:func:`geo_township.zones.management_zones`)
        with ``reach_id`` (or ``reach``).
    repaired:
        Parcel id → validity reason for geometries the loader repaired (``Layer.repaired``).
    dropped:
        Features left out for lack of geometry (``Layer.dropped``).
    bad_cells:
        Cells read as missing because they could not be understood (``Layer.bad_cells``
        of a lenient read: ``row`` positions in ``transfers``, ``field``, ``value``,
        ``expected``); each is reported as ``bad_date`` or ``bad_value``.
    method:
        ``ellipsoidal`` (CGCS2000) or ``planar`` (Gauss–Krüger) for every area, overlaps included.
    tolerance_pct, tolerance_mu, tolerance_rule, overlap_min_mu, max_contract_years, non_farming_uses:
        As the township.toml parameters of the same names (percent, mu, ``any``/``both``,
        mu, years, use codes).

    Returns
    -------
    Result
        ``table``: one row per check that ran (findings, parcels, area concerned in mu);
        ``tables``: one per check with findings (named by its code) and the totals
        ``by_village``, ``by_land_type``, ``by_use``, ``by_start_year``; ``features``: the
        geometry behind each check's rows under the same names, and ``parcels`` (every
        parcel with its measured area, worst finding, checks, their numbers and messages).
        A parcel id used by several features is shown with its place in the file, e.g.
        ``A (feature 3)``, wherever the audit names it.
    """
    tolerance_pct = _param("tolerance_pct", tolerance_pct)
    tolerance_mu = _param("tolerance_mu", tolerance_mu)
    tolerance_rule = _param("tolerance_rule", tolerance_rule)
    overlap_min_mu = _param("overlap_min_mu", overlap_min_mu)
    max_contract_years = _param("max_contract_years", max_contract_years)
    non_farming = list(_param("non_farming_uses", list(non_farming_uses)))
    notes: list[str] = []
    notes_zh: list[str] = []

    def note(en: str, zh: str) -> None:
        notes.append(en)
        notes_zh.append(zh)

    unknown_uses = [u for u in non_farming if u not in TRANSFER_USE.codes]
    if unknown_uses:
        note(f"non_farming_uses {', '.join(unknown_uses)} are not use codes ({', '.join(TRANSFER_USE.codes)}); "
             "they match parcels whose use is written exactly so",
             f"non_farming_uses 中的 {', '.join(unknown_uses)} 不是用途代码（{', '.join(TRANSFER_USE.codes)}），"
             "只匹配用途字段原文完全相同的地块")

    kind = KINDS[LAYER]
    absent = {f.name for f in kind.fields if f.name not in transfers.columns}
    where = _where_in_file(transfers)
    p = transfers.copy()
    for f in kind.fields:
        if f.name not in p.columns:
            p[f.name] = pd.Series(pd.NaT if f.dtype == "date" else np.nan if f.dtype == "float" else None,
                                  index=p.index, dtype="datetime64[ns]" if f.dtype == "date" else
                                  "float64" if f.dtype == "float" else object)
    raw_id = p["parcel_id"].astype(object).where(p["parcel_id"].notna(), None).reset_index(drop=True)
    labels = raw_id.where(raw_id.notna(), pd.Series(where)).astype(str).to_numpy(dtype=object)
    dup = (raw_id.notna() & raw_id.duplicated(keep=False)).to_numpy()
    labels[dup] = [f"{i} ({w})" for i, w in zip(labels[dup], where[dup], strict=True)]
    p["parcel_id"] = labels
    p["declared_mu"] = pd.to_numeric(p["declared_mu"], errors="coerce")
    p["measured_mu"] = area(p.geometry, unit="mu", method=method)
    p = gpd.GeoDataFrame(p[[*_BASE, p.geometry.name]], geometry=p.geometry.name, crs=transfers.crs)
    if p.geometry.name != "geometry":
        p = p.rename_geometry("geometry")
    p = p.reset_index(drop=True)
    bad = (bad_cells if bad_cells is not None
           else pd.DataFrame({"row": pd.Series(dtype=int), "field": pd.Series(dtype=object),
                              "value": pd.Series(dtype=object), "expected": pd.Series(dtype=object)}))

    out = _Collector()
    _check_area(p, out, tolerance_pct=tolerance_pct, tolerance_mu=tolerance_mu, rule=tolerance_rule)
    _check_overlaps(p, out, method=method, min_mu=overlap_min_mu)
    if villages is not None and len(villages):
        if "village" in absent:
            _absent_field(out, "missing_village", ["village"], "parcels cannot be checked against their village",
                          "无法核对地块是否在所属村内")
        else:
            _check_villages(p, villages, out, method=method, min_mu=overlap_min_mu)
    else:
        note("outside-village check skipped: the township has no villages layer",
             "未检查是否超出村界：缺少行政村图层 (villages)")
    if basic_farmland is not None:
        _check_cover(p, p["use"].isin(non_farming).to_numpy(), basic_farmland,
                     _ids_of(basic_farmland, "basic_farmland"), out,
                     code="on_basic_farmland", column="on_farmland", ids_column="patches", method=method,
                     min_mu=overlap_min_mu,
                     describe=lambda r: (f"{_use_label(r.use)} on {r.on_farmland_mu:,.2f} mu "
                                         f"({r.on_farmland_pct:.1f}%) of permanent basic farmland (patches "
                                         f"{r.patches}): a non-farming use there is prohibited"),
                     describe_zh=lambda r: (f"{_use_label(r.use, 'zh')}占用永久基本农田 {r.on_farmland_mu:,.2f} 亩"
                                            f"（{r.on_farmland_pct:.1f}%，图斑 {r.patches}）：永久基本农田禁止非农用途"))
    else:
        note("basic-farmland check skipped: the township has no basic_farmland layer",
             "未检查是否占用永久基本农田：缺少永久基本农田图层 (basic_farmland)")
    if forest_plots is not None:
        _check_cover(p, (p["land_type"] == "farmland").to_numpy(), forest_plots,
                     _ids_of(forest_plots, "forest_plots"), out,
                     code="on_forest_land", column="on_forest", ids_column="plots", method=method,
                     min_mu=overlap_min_mu,
                     describe=lambda r: (f"farmland transfer on {r.on_forest_mu:,.2f} mu ({r.on_forest_pct:.1f}%) "
                                         f"of forest sub-compartments {r.plots}: forest land cannot be transferred "
                                         "as farmland"),
                     describe_zh=lambda r: (f"耕地流转涉及林地 {r.on_forest_mu:,.2f} 亩（{r.on_forest_pct:.1f}%，"
                                            f"小班 {r.plots}）：林地不能作为耕地流转"))
    else:
        note("forest-land check skipped: the township has no forest_plots layer",
             "未检查耕地流转是否涉及林地：缺少森林小班图层 (forest_plots)")
    if river_zones is not None:
        key = next((c for c in ("reach_id", "reach") if c in river_zones.columns), None)
        zone_ids = (river_zones[key].astype(str).to_numpy() if key else _ids_of(river_zones, "rivers"))
        _check_cover(p, np.ones(len(p), dtype=bool), river_zones, zone_ids, out, code="in_river_zone",
                     column="in_zone", ids_column="in_zone_of", method=method, min_mu=overlap_min_mu,
                     describe=lambda r: (f"{r.in_zone_mu:,.2f} mu ({r.in_zone_pct:.1f}%) of the parcel lies in the "
                                         f"management zone of reach {r.in_zone_of}: check that its use is allowed "
                                         "there"),
                     describe_zh=lambda r: (f"地块有 {r.in_zone_mu:,.2f} 亩（{r.in_zone_pct:.1f}%）位于河段 "
                                            f"{r.in_zone_of} 的河道管理范围内：请核实该用途是否允许"))
    else:
        note("river-zone check skipped: the township has no rivers layer",
             "未检查河道管理范围：缺少河流图层 (rivers)")
    _check_bad_cells(p, bad, out)
    _check_records(p, raw_id, out, max_years=max_contract_years, repaired=repaired or {}, dropped=dropped,
                   absent=absent, bad=bad, where=where)

    # totals
    extra = None
    if villages is not None and len(villages) and basic_farmland is not None:
        extra = _share_column(_farmland_share(p, villages, basic_farmland, method=method))
    by_village = _totals(p, p["village"], "village", extra)
    if extra is not None:
        last = by_village.index[-1]
        by_village.loc[last, "farmland_share_pct"] = (
            by_village.loc[last, "transferred_farmland_mu"] / by_village.loc[last, "basic_farmland_mu"] * 100.0
            if by_village.loc[last, "basic_farmland_mu"] > 0 else np.nan)
    else:
        note("share of farmland transferred: needs the villages and basic_farmland layers",
             "流转占基本农田比例：需要行政村 (villages) 和永久基本农田 (basic_farmland) 图层")
    start_year = p["start_date"].dt.year.astype("Int64")
    totals = {
        "by_village": by_village,
        "by_land_type": _totals(p, p["land_type"], "land_type"),
        "by_use": _totals(p, p["use"], "use"),
        "by_start_year": _totals(p, start_year, "start_year"),
    }

    summary = pd.DataFrame([out.summary[c] for c in CHECKS if c in out.summary],
                           columns=["check", "severity", "findings", "parcels", "concerned_mu"])
    features = {"parcels": _parcels_layer(p, out, where), **out.features}

    total = totals["by_village"].iloc[-1]
    notes.insert(0, f"{len(p)} parcels audited: declared {total['declared_mu']:,.2f} mu, measured "
                    f"{total['measured_mu']:,.2f} mu ({METHOD_NOTES[method]}; 1 mu = 10000/15 m²)")
    notes_zh.insert(0, f"共审计 {len(p)} 宗地块：登记面积 {total['declared_mu']:,.2f} 亩，实测面积 "
                       f"{total['measured_mu']:,.2f} 亩（{METHOD_NOTES_ZH[method]}；1 亩 = 10000/15 平方米）")
    rule, rule_zh = (_tolerance_rule(tolerance_pct, tolerance_mu, tolerance_rule, lang) for lang in ("en", "zh"))
    both = tolerance_mu > 0 and tolerance_rule == "both"
    note(f"tolerances: declared vs measured {rule}{' (both must be exceeded)' if both else ''}; overlaps and areas "
         f"in other layers under {overlap_min_mu:g} mu are ignored as slivers; contracts up to "
         f"{max_contract_years:g} years; non-farming uses: {', '.join(_use_label(u) for u in non_farming)}",
         f"容差：登记与实测面积相差超过 {rule_zh}{'（两者同时超过）' if both else ''} 列出；重叠及与其他图层相交不足 "
         f"{overlap_min_mu:g} 亩的视为绘图误差不计；流转期限上限 {max_contract_years:g} 年；非农用途："
         f"{'、'.join(_use_label(u, 'zh') for u in non_farming)}")
    return Result(
        "Land-transfer audit", summary, tables={**out.tables, **totals}, findings=out.findings, features=features,
        notes=notes, notes_zh=notes_zh, title_zh="土地流转审计", vocab=dict(_VOCAB), decimals=dict(_DECIMALS),
        provenance={"analysis": "audit", "area_method": method, "method_note": METHOD_NOTES[method],
                    "tolerance_pct": tolerance_pct, "tolerance_mu": tolerance_mu, "tolerance_rule": tolerance_rule,
                    "overlap_min_mu": overlap_min_mu, "max_contract_years": max_contract_years,
                    "non_farming_uses": non_farming},
    )


def audit_transfers(
    township: Township,
    *,
    method: Method | None = None,
    tolerance_pct: float | None = None,
    tolerance_mu: float | None = None,
    tolerance_rule: str | None = None,
    overlap_min_mu: float | None = None,
    max_contract_years: float | None = None,
    non_farming_uses: Iterable[str] | None = None,
) -> Result:
    """Audit the township's ``land_transfers`` layer; every parameter left as None comes
    from township.toml (or its default). Uses the villages, basic_farmland, forest_plots
    and rivers layers when the township has them. See :func:`audit_layers`.

    The land_transfers layer is read leniently: a value that cannot be understood (a date
    such as 2020-13-01) is reported as a finding and read as missing, instead of stopping
    the audit as it stops other commands."""
    params = township.config.parameters
    layer = township.layer(LAYER, lenient=True)
    pick = {"method": (method, "area_method"), "tolerance_pct": (tolerance_pct, "tolerance_pct"),
            "tolerance_mu": (tolerance_mu, "tolerance_mu"), "tolerance_rule": (tolerance_rule, "tolerance_rule"),
            "overlap_min_mu": (overlap_min_mu, "overlap_min_mu"),
            "max_contract_years": (max_contract_years, "max_contract_years"),
            "non_farming_uses": (list(non_farming_uses) if non_farming_uses is not None else None,
                                 "non_farming_uses")}
    chosen: dict[str, Any] = {k: params[name] if v is None else v for k, (v, name) in pick.items()}
    if chosen["method"] not in METHOD_NOTES:
        raise UsageError(f"unknown area method {chosen['method']!r}", hint="use ellipsoidal or planar")
    result = audit_layers(
        layer.gdf,
        villages=township.optional("villages"),
        basic_farmland=township.optional("basic_farmland"),
        forest_plots=township.optional("forest_plots"),
        river_zones=_management_zones(township),
        repaired={str(i): layer.invalid_reasons.get(str(i), "invalid") for i in layer.repaired},
        dropped=layer.dropped,
        bad_cells=layer.bad_cells,
        **chosen,
    )
    result.title = f"Land-transfer audit of {township.config.display_name('en')}"
    result.title_zh = f"{township.config.display_name('zh')}土地流转审计"
    result.provenance = township.provenance(**result.provenance)
    return result


# --------------------------------------------------------------------------- outputs


def write_findings_gpkg(result: Result, path: str | Path, *, lang: str = "en") -> list[str]:
    """Write the audit's features to one GeoPackage, one layer per finding type plus
    ``parcels`` (every parcel with its measured area, worst finding, checks and the
    findings' messages), in the working CRS; field names, coded values and messages in
    ``lang`` ('en' machine names, or 'zh' labels).

    The file is written to a temporary name and renamed into place when complete.
    Returns the layer names written.
    """
    from geo_township.io.write import atomic_path, write_vector

    names = []
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, gdf in result.features.items():
            frame = gdf
            if "details_zh" in gdf.columns:  # the messages in the file's language
                frame = gdf.drop(columns="details_zh") if lang != "zh" else (
                    gdf.drop(columns="details").rename(columns={"details_zh": "details"}))
            if lang == "zh":
                attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name))
                if "audit" in attrs.columns:
                    attrs["audit"] = attrs["audit"].map({c.code: c.zh for c in AUDIT_CATEGORIES})
                if "checks" in attrs.columns:
                    attrs["checks"] = attrs["checks"].map(lambda v: "、".join(
                        AUDIT_CHECK.label(c, "zh") for c in v.split(", ")) if v else v)
                attrs = localise(attrs, lang, vocab=result.vocab)
                frame = gpd.GeoDataFrame(attrs, geometry=frame.geometry.to_numpy(), crs=frame.crs)
            write_vector(frame, tmp, layer=name, append_layers=True)
            names.append(name)
    return names


# --------------------------------------------------------------------------- the map

AUDIT_CATEGORIES = [
    Category("error", "audit error", "审计错误", "#d7191c"),
    Category("warning", "audit warning", "审计警告", "#fdae61"),
    Category("info", "renewal (note)", "续签(提示)", "#2c7bb6"),
    Category("ok", "no finding", "无问题", "#1a9641"),
]

_MAP_FIELDS = ["parcel_id", "village", "land_type", "use", "declared_mu", "measured_mu", "diff_mu", "start_date",
               "end_date", "checks", "double_counted_with", "double_counted_mu", "renewal_with", "outside_mu",
               "on_farmland_mu", "on_forest_mu", "in_zone_mu", "bad_values", "details"]


def audit_overlays(township: Township) -> list[Overlay]:
    """Map layers of the audit (for :data:`geo_township.webmap.OVERLAY_PROVIDERS`): the
    land-transfer parcels with findings, coloured by their worst finding and drawn
    emphasised, and the land two contracts claim at the same time. An empty list when
    the township has no land_transfers layer.

    A parcel's popup shows its checks (codes labelled through the ``audit_check``
    vocabulary), the numbers behind them (the parcel it is counted twice with and the
    mu, the mu outside its village, on basic farmland …) and the findings' messages
    (``details``). Only legend classes that occur are listed."""
    if not township.has(LAYER):
        return []
    result = audit_transfers(township)
    parcels = result.features["parcels"]
    flagged = parcels[parcels["audit"] != "ok"].copy()
    flagged["check"] = flagged["checks"].str.split(", ").str[0]  # the most serious one
    present = set(flagged["audit"])
    vocab = {**_VOCAB, "checks": "audit_check"}
    overlays = [Overlay(
        key="land_transfer_audit", en="Land-transfer audit findings", zh="土地流转审计问题", gdf=flagged,
        geometry="polygon", category_field="audit", categories=[c for c in AUDIT_CATEGORIES if c.code in present],
        fields=[f for f in _MAP_FIELDS if f in flagged.columns],
        description="parcels with audit findings, by the worst one (details in the popup and in geo-township audit)",
        description_zh="有审计问题的流转地块，按最严重的问题着色（详情见弹窗及 geo-township audit）",
        id_field="parcel_id", vocab=vocab, decimals=dict(_DECIMALS),
        highlight=True, weight=3.0, fill_opacity=0.45,
    )]
    if "overlap" in result.features:
        overlays.append(Overlay(
            key="land_transfer_double_counted", en="Land counted twice", zh="重复流转地块", gdf=result.features["overlap"],
            geometry="polygon", color="#7b3294",
            fields=["parcel_a", "parcel_b", "overlap_mu", "share_a_pct", "share_b_pct", "start_a", "end_a", "start_b",
                    "end_b"],
            description="land two contracts cover at the same time", description_zh="两份期限重叠的合同同时覆盖的土地",
            decimals=dict(_DECIMALS), highlight=True, weight=3.0, fill_opacity=0.6, dash="4 3",
        ))
    return overlays
