"""Audit checks on the land-transfer records themselves: fields the layer lacks, cells the
loader could not understand, duplicate and missing ids, missing declared areas, contract
dates (backwards, too long, missing), and geometries that were repaired or are missing.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_township.kinds import KINDS
from geo_township.transfers.findings import (
    CHECKS,
    LAYER,
    Collector,
    date_text,
    period_text,
    single_rows,
)

DAYS_PER_YEAR = 365.2425
_RECORD_COLUMNS = ["parcel_id", "village", "declared_mu", "measured_mu", "start_date", "end_date", "geometry"]

ABSENT_FIELD = (
    ("the layer has no field for {names}: {consequence}; if the file has it under another name, map it in "
     'township.toml: [layers.{layer}] fields = {{ {field} = "YOUR FIELD" }}'),
    ('图层缺少字段 {names_zh}：{consequence_zh}；如文件中该字段另有名称，请在 township.toml 中对应：[layers.{layer}] '
     'fields = {{ {field} = "文件中的字段名" }}'))
"""How a check words the one finding for a field the whole layer lacks (en, zh)."""


def absent_field(out: Collector, code: str, fields: list[str], consequence: str, consequence_zh: str) -> None:
    """One finding for a field the whole layer lacks, saying what cannot be checked and
    how to map the field in township.toml."""
    kind = KINDS[LAYER]
    names = "; ".join(f"{f} ({'/'.join(kind.field(f).aliases[1:4])} …)" for f in fields)
    names_zh = "、".join(f"{kind.field(f).zh}（{'/'.join(kind.field(f).aliases[1:4])} …）" for f in fields)
    out.layer_finding(CHECKS[code].reworded(*ABSENT_FIELD), names=names, names_zh=names_zh, consequence=consequence,
                      consequence_zh=consequence_zh, layer=LAYER, field=fields[0])


_FIELD_WORDS = {"start_date": ("start date", "起始日期"), "end_date": ("end date", "终止日期"),
                "declared_mu": ("declared area", "登记面积")}


def check_bad_cells(p: gpd.GeoDataFrame, bad_cells: pd.DataFrame, out: Collector) -> None:
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
        values = []
        for f, v, e in zip(sub["field"], sub["value"], sub["expected"], strict=True):
            en, zh = _FIELD_WORDS.get(f, (f, KINDS[LAYER].field(f).zh if f in KINDS[LAYER].field_names else f))
            values.append({"field": en, "field_zh": zh, "value": v, "expected": e})
        out.add(code, sub[["parcel_id", "village", "field", "value", "declared_mu", "measured_mu", "geometry"]],
                features=sub["parcel_id"].tolist(), values=values,
                rows=single_rows(rows), area_mu=float(sub.drop_duplicates("parcel_id")["measured_mu"].sum()))
        out.attach("bad_values", rows, [f"{f} {v!r}" for f, v in zip(sub["field"], sub["value"], strict=True)])


def check_records(p: gpd.GeoDataFrame, raw_id: pd.Series, out: Collector, *, max_years: float,
                  repaired: Mapping[str, str], dropped: pd.DataFrame | None, absent: set[str],
                  bad: pd.DataFrame, where: np.ndarray) -> None:
    """The record checks, in this order: fields the layer lacks, duplicate and missing ids,
    missing declared areas, contract dates, repaired geometries, features without geometry."""
    for code in ("duplicate_id", "missing_id", "missing_declared", "end_before_start", "contract_too_long",
                 "missing_dates", "invalid_geometry", "empty_geometry"):
        out.ran(code)
    if "declared_mu" in absent:
        absent_field(out, "missing_declared", ["declared_mu"], "declared areas cannot be checked",
                     "无法核对登记面积")
    no_dates: list[str] = [f for f in ("start_date", "end_date") if f in absent]
    if no_dates:
        absent_field(out, "missing_dates", no_dates, "contract periods cannot be checked and every overlap "
                     "counts as double counting", "无法核对合同期限，所有重叠都按重复流转计")
    _check_ids(p, raw_id, out, where=where)
    _check_declared(p, out, unreadable=_unreadable(p, bad, "declared_mu"), absent=absent)
    _check_dates(p, out, max_years=max_years, bad=bad, fields_absent=bool(no_dates))
    if repaired:
        _check_repaired(p, raw_id, out, repaired=repaired, where=where)
    if dropped is not None and len(dropped):
        _check_dropped(p, dropped, out)


def _unreadable(p: gpd.GeoDataFrame, bad: pd.DataFrame, field: str) -> np.ndarray:
    """Rows whose ``field`` was in the file but not understood (reported as bad_date/bad_value)."""
    mask = np.zeros(len(p), dtype=bool)
    mask[bad.loc[bad["field"] == field, "row"].to_numpy(dtype=int)] = True
    return mask


def _check_ids(p: gpd.GeoDataFrame, raw_id: pd.Series, out: Collector, *, where: np.ndarray) -> None:
    """An id several parcels share (one finding per id), and parcels without an id."""
    dup = (raw_id.notna() & raw_id.duplicated(keep=False)).to_numpy()
    if dup.any():
        sub = p[dup].copy()
        sub["raw_id"] = raw_id[dup].to_numpy()
        sub["where"] = where[dup]
        sub["features"] = sub.groupby("raw_id")["raw_id"].transform("size").astype(int)
        groups = list(sub.groupby("raw_id", sort=False))
        values = [{"id": i, "n": len(g), "where": ", ".join(g["where"]), "where_zh": "、".join(g["where"]),
                   "mu": g["measured_mu"].sum()} for i, g in groups]
        out.add("duplicate_id", sub[["parcel_id", "village", "declared_mu", "measured_mu", "features", "geometry"]],
                features=[str(i) for i, _ in groups], values=values,
                rows=[tuple(int(r) for r in g.index) for _, g in groups], area_mu=float(sub["measured_mu"].sum()))

    missing_id = raw_id.isna().to_numpy()
    if missing_id.any():
        sub = p[missing_id]
        out.add("missing_id", sub[_RECORD_COLUMNS], features=sub["parcel_id"].tolist(),
                values=[{"mu": m} for m in sub["measured_mu"]],
                rows=single_rows(sub.index), area_mu=float(sub["measured_mu"].sum()))


def _check_declared(p: gpd.GeoDataFrame, out: Collector, *, unreadable: np.ndarray, absent: set[str]) -> None:
    """A declared area that is missing or not above zero (an unreadable one is reported
    as bad_value instead)."""
    declared = p["declared_mu"]
    no_area = ((declared.isna() | (declared <= 0)).to_numpy() & ~unreadable
               & ("declared_mu" not in absent))
    if no_area.any():
        sub = p[no_area]
        pairs = list(zip(sub["declared_mu"], sub["measured_mu"], strict=True))
        values = [{"declared": "no declared area" if pd.isna(d) else f"declared area is {d:g}",
                   "declared_zh": "缺少登记面积" if pd.isna(d) else f"登记面积为 {d:g}", "measured": m}
                  for d, m in pairs]
        out.add("missing_declared", sub[_RECORD_COLUMNS], features=sub["parcel_id"].tolist(), values=values,
                rows=single_rows(sub.index), area_mu=float(sub["measured_mu"].sum()))


def _check_dates(p: gpd.GeoDataFrame, out: Collector, *, max_years: float, bad: pd.DataFrame,
                 fields_absent: bool) -> None:
    """Contracts that end before they start or run longer than ``max_years``, and blank
    dates (unless the layer lacks the date fields altogether)."""
    start, end = p["start_date"], p["end_date"]
    years = (end - start).dt.days / DAYS_PER_YEAR
    backwards = (start.notna() & end.notna() & (end < start)).to_numpy()
    if backwards.any():
        sub = p[backwards]
        pairs = list(zip(sub["start_date"], sub["end_date"], strict=True))
        out.add("end_before_start", sub[_RECORD_COLUMNS], features=sub["parcel_id"].tolist(),
                values=[{"end": date_text(e), "start": date_text(s)} for s, e in pairs],
                rows=single_rows(sub.index), area_mu=float(sub["measured_mu"].sum()))

    whole = int(max_years)
    limit = start + pd.DateOffset(years=whole) + pd.to_timedelta((max_years - whole) * DAYS_PER_YEAR, unit="D")
    too_long = (start.notna() & end.notna() & (end > limit)).to_numpy()
    if too_long.any():
        sub = p[too_long].copy()
        sub["years"] = years[too_long]
        rows = list(zip(sub["years"], sub["start_date"], sub["end_date"], strict=True))
        out.add("contract_too_long", sub[[*_RECORD_COLUMNS[:-1], "years", "geometry"]],
                features=sub["parcel_id"].tolist(),
                values=[{"years": y, "period": period_text(s, e), "max_years": max_years} for y, s, e in rows],
                rows=single_rows(sub.index), area_mu=float(sub["measured_mu"].sum()))

    blank_start = start.isna().to_numpy() & ~_unreadable(p, bad, "start_date")
    blank_end = end.isna().to_numpy() & ~_unreadable(p, bad, "end_date")
    undated = (blank_start | blank_end) & (not fields_absent)
    if undated.any():
        sub = p[undated]
        flags = list(zip(blank_start[undated], blank_end[undated], strict=True))
        values = [{"missing": " and no ".join(n for n, v in (("start date", s), ("end date", e)) if v),
                   "missing_zh": "和".join(n for n, v in (("起始日期", s), ("终止日期", e)) if v)} for s, e in flags]
        out.add("missing_dates", sub[_RECORD_COLUMNS], features=sub["parcel_id"].tolist(), values=values,
                rows=single_rows(sub.index), area_mu=float(sub["measured_mu"].sum()))


def _check_repaired(p: gpd.GeoDataFrame, raw_id: pd.Series, out: Collector, *, repaired: Mapping[str, str],
                    where: np.ndarray) -> None:
    """Parcels whose invalid geometry the loader repaired (audited with the repaired copy)."""
    hit = raw_id.astype(object).where(raw_id.notna(), pd.Series(where)).astype(str).isin(list(repaired)).to_numpy()
    if hit.any():
        sub = p[hit].copy()
        key = raw_id[hit].astype(object).where(raw_id[hit].notna(), pd.Series(where[hit], index=sub.index))
        sub["reason"] = [repaired.get(str(i), "invalid") for i in key]
        pairs = list(zip(sub["reason"], sub["measured_mu"], strict=True))
        out.add("invalid_geometry", sub[["parcel_id", "village", "declared_mu", "measured_mu", "reason",
                                         "geometry"]],
                features=sub["parcel_id"].tolist(),
                values=[{"reason": r, "mu": m} for r, m in pairs],
                rows=single_rows(sub.index), area_mu=float(sub["measured_mu"].sum()))


def _check_dropped(p: gpd.GeoDataFrame, dropped: pd.DataFrame, out: Collector) -> None:
    """Features left out for lack of geometry: one finding each, in no number."""
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
            values=[{"reason": r, "declared": f" (declared {d:,.2f} mu)" if pd.notna(d) else "",
                     "declared_zh": f"（登记 {d:,.2f} 亩）" if pd.notna(d) else ""} for r, d in pairs],
            rows=[(f"dropped {k}",) for k in range(len(table))], area_mu=0.0)
