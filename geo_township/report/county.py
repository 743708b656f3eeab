"""The year's report of a county: every township's indicators side by side (the townships'
own reports, run as each would be alone) and the county's, added up from them; the
paragraph is the county's.

A county indicator adds the townships' parts: counts, areas and lengths summed; the two
rates recomputed from the summed parts they are made of (the clearance rate from the trees
due and those of them cleared, patrol coverage from the river length and the length
patrolled), never averaged; the target kept when every township has the same. A layer
missing in any township leaves the county's number empty with the layer named (a sum
without that township would read as the county's).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from geo_township.county import COUNTY_CHECKS, PARTIAL_TOTAL, TOTAL, County, is_county_total, run_county
from geo_township.report.build import indicator_table, register_vocabularies, year_report
from geo_township.report.indicators import INDICATORS, Missing, Value
from geo_township.report.paragraph import paragraph
from geo_township.results import Result

RATE_PARTS = {"clearance_rate": ("due_cleared", "due", 2), "patrol_coverage_pct": ("patrolled_km", "length_km", 1)}
"""Rates recomputed for the county: indicator → (numerator part, denominator part, decimals)."""


def county_year_report(county: County, year: int) -> Result:
    """The year's report of every township of ``county`` joined (a Township column), with
    the county's indicators (township "Total") added from them and the county's paragraph."""
    return with_county_totals(run_county(county, year_report, year), year)


def with_county_totals(joined: Result, year: int) -> Result:
    """``joined`` (the townships' reports for ``year``, joined by
    :func:`geo_township.county.run_county`) with the county's indicators added from them
    (township "Total", or "Total (townships left out)" when a township failed) and the
    county's paragraph first among the notes."""
    county = str(joined.provenance.get("county", ""))
    table = joined.table
    names = table.loc[~is_county_total(table["township"]), "township"].unique()  # in the county's order
    per_township = [values_from_table(table[table["township"] == t], year) for t in names]
    values = {ind.id: {y: combine(ind.id, [v[ind.id][y] for v in per_township]) for y in (year, year - 1)}
              for ind in INDICATORS}
    partial = any(f.check == COUNTY_CHECKS.township_failed.code for f in joined.findings)
    own = indicator_table(values, year)
    own.insert(0, "township", PARTIAL_TOTAL if partial else TOTAL)
    text_en, text_zh = paragraph(values, year, "en", county=True), paragraph(values, year, "zh", county=True)
    full = pd.concat([table, own], ignore_index=True)
    register_vocabularies(set(full["part"]))  # every township's parts, not only the last one's
    return replace(joined, table=full,
                   notes=[text_en, *joined.notes], notes_zh=[text_zh, *joined.notes_in("zh")],
                   title=f"{county}: the year's report, {year}", title_zh=f"{county}{year}年度工作报告指标",
                   provenance={**joined.provenance, "analysis": "report", "year": year, "previous_year": year - 1})


def values_from_table(table: pd.DataFrame, year: int) -> dict[str, dict[int, Value]]:
    """One township's indicators back from its rows of the indicator table: id → {year:
    parts or Missing} for ``year`` and the year before."""
    out: dict[str, dict[int, Value]] = {}
    for ind in INDICATORS:
        rows = table[table["indicator"] == ind.id]
        missing = rows["note"].dropna()
        if len(missing):
            out[ind.id] = {year: Missing(str(missing.iloc[0])), year - 1: Missing(str(missing.iloc[0]))}
            continue
        parts = rows["part"].tolist()
        out[ind.id] = {year: dict(zip(parts, _numbers(rows["value"]), strict=True)),
                       year - 1: dict(zip(parts, _numbers(rows["previous"]), strict=True))}
    return out


def _numbers(values: pd.Series) -> list[float | int | None]:
    return [None if v is None or (isinstance(v, float) and pd.isna(v)) else v for v in values]


def combine(indicator_id: str, values: list[Value]) -> Value:
    """The county's parts of one indicator from the townships' (see the module's rules)."""
    missing = [v for v in values if isinstance(v, Missing)]
    if missing:
        return missing[0]
    parts: dict[str, float | int | None] = {}
    for part in dict.fromkeys(p for v in values if isinstance(v, dict) for p in v):
        given = [v.get(part) for v in values if isinstance(v, dict) and v.get(part) is not None]
        if part == "target":
            parts[part] = given[0] if given and all(g == given[0] for g in given) else None
        elif given:
            total: Any = sum(given)
            parts[part] = round(total, 2) if isinstance(total, float) else total
        else:
            parts[part] = None
    if indicator_id in RATE_PARTS:
        numerator, denominator, decimals = RATE_PARTS[indicator_id]
        top, bottom = parts.get(numerator), parts.get(denominator)
        parts["value"] = round(100.0 * top / bottom, decimals) if top is not None and bottom else None
    return parts
