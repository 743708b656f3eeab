"""The year's report as a Result: one row per indicator and part, with the year's value, the
previous year's and the change; tables per village; the paragraph for the work report.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from geo_township.county import is_county_total
from geo_township.kinds import KINDS
from geo_township.layers import Township
from geo_township.report.indicators import BY_ID, INDICATORS, UNITS, Analyses, Missing, Value, compute_all
from geo_township.report.paragraph import paragraph
from geo_township.report.tables import chart_tables, village_tables
from geo_township.results import CHECKS, Result
from geo_township.vocabulary import CHIEF_LEVEL, VOCABULARIES, Term, Vocabulary

PARTS: dict[str, tuple[str, str, str | None]] = {
    "value": ("value", "数值", None),
    "declared": ("declared", "合同面积", "mu"),
    "difference": ("measured − declared", "实测−合同", "mu"),
    "parcels": ("parcels", "地块数", "count"),
    "plots": ("plots", "小班数", "plots"),
    "mu": ("area", "面积", "mu"),
    "due": ("trees due", "应除治株数", "trees"),
    "target": ("target", "目标", "pct"),
    "in_force": ("in force on 31 December", "年末在期面积", "mu"),
    "in_force_declared": ("in force on 31 December, declared", "年末在期合同面积", "mu"),
    "cumulative": ("cumulative", "累计", None),
    "plants": ("manufactured-sand plants", "机制砂企业", "plants"),
    "plants_cumulative": ("manufactured-sand plants, cumulative", "累计机制砂企业", "plants"),
    "mining_sites": ("river sand-mining sites", "河道采砂点", "sites"),
    "mining_sites_cumulative": ("river sand-mining sites, cumulative", "累计河道采砂点", "sites"),
    "walked_km": ("walked", "巡河里程", "km"),
    "due_cleared": ("trees due, cleared", "应除治中已清理株数", "trees"),
    "length_km": ("river length under the chiefs", "河长负责河道长度", "km"),
    "patrolled_km": ("river length patrolled", "已巡查河道长度", "km"),
    "in_zone": ("inside a management zone", "位于河道管理范围内", None),
}
"""Each part of an indicator: English and Chinese label and its unit (None: the indicator's)."""

COLUMN_LABELS = {
    "indicator": ("Indicator", "指标"),
    "part": ("Part", "分项"),
    "value": ("Value", "本年"),
    "previous": ("Previous year", "上年"),
    "change": ("Change", "变化"),
    "unit": ("Unit", "单位"),
    "note": ("Note", "说明"),
    "definition": ("Definition", "定义"),
}
"""The columns of the indicator table and their headings."""
OTHER_LABELS = {"start_year": ("Start year", "起始年份")}
"""Headings of the report's other tables' own columns."""


def _part_term(code: str) -> Term:
    if code in PARTS:
        en, zh, _ = PARTS[code]
        return Term(code, en, zh)
    level = CHIEF_LEVEL.term(code)
    if level is not None:
        return Term(code, f"{level.en} chiefs", f"{level.zh}河长")
    check = CHECKS.get(code)
    if check is not None:
        return Term(code, check.name_en, check.name_zh)
    return Term(code, code, code)


def register_vocabularies(parts: set[str]) -> None:
    """The words of the report's coded columns, for :func:`geo_township.results.localise`."""
    VOCABULARIES["report_indicator"] = Vocabulary(
        "report_indicator", tuple(Term(i.id, i.name_en, i.name_zh) for i in INDICATORS))
    VOCABULARIES["report_definition"] = Vocabulary(
        "report_definition", tuple(Term(i.id, i.definition_en, i.definition_zh) for i in INDICATORS))
    VOCABULARIES["report_unit"] = Vocabulary("report_unit", tuple(Term(c, en, zh) for c, (en, zh) in UNITS.items()))
    VOCABULARIES["report_missing"] = Vocabulary(
        "report_missing", tuple(Term(k, f"no layer {k}", f"缺少图层 {k}") for k in KINDS))
    VOCABULARIES["report_part"] = Vocabulary("report_part", tuple(_part_term(p) for p in sorted(parts)))


def part_unit(indicator_id: str, part: str) -> str:
    """The unit code of one part of an indicator."""
    own = PARTS.get(part, ("", "", None))[2]
    if own is not None:
        return own
    if indicator_id == "clearance_rate" and part == "due":
        return "trees"
    return BY_ID[indicator_id].unit


def _change(now: float | int | None, before: float | int | None) -> float | int | None:
    if now is None or before is None:
        return None
    diff = now - before
    return round(diff, 2) if isinstance(diff, float) else diff


def indicator_table(values: dict[str, dict[int, Value]], year: int) -> pd.DataFrame:
    """One row per indicator and part: value, previous, change, unit, note (the missing
    layer), definition (the indicator's id, shown as its definition)."""
    rows: list[dict[str, Any]] = []
    for ind in INDICATORS:
        now, before = values[ind.id][year], values[ind.id][year - 1]
        if isinstance(now, Missing):
            rows.append({"indicator": ind.id, "part": "value", "value": None, "previous": None, "change": None,
                         "unit": ind.unit, "note": now.kind, "definition": ind.id})
            continue
        prev = before if isinstance(before, dict) else {}
        for part, v in now.items():
            rows.append({"indicator": ind.id, "part": part, "value": v, "previous": prev.get(part),
                         "change": _change(v, prev.get(part)), "unit": part_unit(ind.id, part), "note": None,
                         "definition": ind.id if part == "value" else None})
    table = pd.DataFrame(rows, columns=list(COLUMN_LABELS))
    for col in ("value", "previous", "change"):  # counts stay integers beside areas
        table[col] = pd.Series([r[col] for r in rows], dtype=object)
    return table


def year_report(township: Township, year: int) -> Result:
    """The year's report of ``township``: every indicator for ``year`` and the year before
    (main table ``indicators``), the per-village tables of the analyses behind them, and
    the paragraph in English and Chinese (``notes`` / ``notes_zh``, first line)."""
    analyses = Analyses(township)
    values = compute_all(township, year, analyses)
    table = indicator_table(values, year)
    register_vocabularies(set(table["part"]))
    tables = {**village_tables(analyses, year), **chart_tables(analyses, year)}
    text_en, text_zh = paragraph(values, year, "en"), paragraph(values, year, "zh")
    name = township.config.display_name("en")
    name_zh = township.config.display_name("zh")
    labels = {**COLUMN_LABELS, **OTHER_LABELS, "value": (str(year), f"{year}年"),
              "previous": (str(year - 1), f"{year - 1}年")}
    return Result(
        f"{name}: the year's report, {year}", table, tables=tables,
        title_zh=f"{name_zh}{year}年度工作报告指标", notes=[text_en], notes_zh=[text_zh], labels=labels,
        vocab={"indicator": "report_indicator", "part": "report_part", "unit": "report_unit",
               "note": "report_missing", "definition": "report_definition", "land_type": "land_type",
               "use": "transfer_use", "status": "sand_status"},
        decimals={"measured_mu": 2, "declared_mu": 2, "length_km": 2, "clearance_pct": 2},
        table_name="indicators",
        provenance=township.provenance(analysis="report", year=year, previous_year=year - 1,
                                       area_method=township.config.parameters["area_method"],
                                       indicators={i.id: i.definition_en for i in INDICATORS}),
    )


def values_of(result: Result) -> dict[str, dict[str, dict[str, float | int | None] | str]]:
    """The report's numbers by indicator id: for each, ``value`` / ``previous`` / ``change``
    dicts of parts, or ``missing`` naming the layer (what the JSON output holds)."""
    out: dict[str, dict] = {}
    table = result.table
    if "township" in table.columns:  # a county's report: its own numbers are the county's rows
        table = table[is_county_total(table["township"])]
    for ind in INDICATORS:
        rows = table[table["indicator"] == ind.id]
        entry: dict = {"name_en": ind.name_en, "name_zh": ind.name_zh, "unit": ind.unit,
                       "definition_en": ind.definition_en, "definition_zh": ind.definition_zh}
        if rows["note"].notna().any():
            entry["missing"] = str(rows["note"].dropna().iloc[0])
        else:
            for col in ("value", "previous", "change"):
                entry[col] = {p: _plain(v) for p, v in zip(rows["part"], rows[col], strict=True)}
        out[ind.id] = entry
    return out


def _plain(v: object) -> float | int | None:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    if hasattr(v, "item"):
        v = v.item()  # numpy scalar
    return v  # type: ignore[return-value]


def for_terminal(result: Result) -> Result:
    """``result`` with its value, previous and change columns as text (8,792; 204.82): a
    column mixing counts, areas and blanks would otherwise print every count as 8792.0."""
    from dataclasses import replace

    def text(v: object) -> str:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            return ""
        if isinstance(v, float):
            return f"{v:,.2f}".rstrip("0").rstrip(".")
        return f"{v:,}"

    table = result.table.copy()
    for col in ("value", "previous", "change"):
        table[col] = [text(v) for v in table[col]]
    return replace(result, table=table)
