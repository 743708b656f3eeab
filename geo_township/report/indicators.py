"""The indicators of the year's report: each declared once (id, names, unit, definition) and
computed from the Result of the analysis its command shows, never by a rule of its own.

An indicator's value is a dict of *parts* (``value`` for a single number; ``declared``,
``measured`` and ``difference`` for contract areas; ``year`` and ``cumulative``; one part
per chief level or check), or :class:`Missing` when a layer it needs is absent.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_township.layers import Township
from geo_township.measure import area
from geo_township.results import MORE_FEATURE, Result
from geo_township.rivers import river_report
from geo_township.sand import sand_report
from geo_township.transfers import audit_transfers
from geo_township.trees import tree_counts

UNITS = {"trees": ("trees", "株"), "plots": ("plots", "个"), "mu": ("mu", "亩"), "sites": ("sites", "处"),
         "plants": ("plants", "家"),
         "km": ("km", "公里"), "pct": ("%", "%"), "count": ("", "个"), "findings": ("findings", "条")}
"""Each unit code: its English and Chinese word."""


@dataclass(frozen=True)
class Indicator:
    """One number of the work report: a stable id, names, unit and the rule behind it."""

    id: str
    name_en: str
    name_zh: str
    unit: str
    definition_en: str
    definition_zh: str
    layers: tuple[str, ...]

    def name(self, lang: str = "en") -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def definition(self, lang: str = "en") -> str:
        return self.definition_zh if lang == "zh" else self.definition_en

    def unit_word(self, lang: str = "en") -> str:
        return UNITS[self.unit][1 if lang == "zh" else 0]


@dataclass(frozen=True)
class Missing:
    """An indicator that cannot be computed because the township has no layer ``kind``."""

    kind: str

    def text(self, lang: str = "en") -> str:
        return f"缺少图层 {self.kind}" if lang == "zh" else f"no layer {self.kind}"


Value = dict[str, float | int | None] | Missing

_TREES = ("infected_trees",)
INDICATORS: tuple[Indicator, ...] = (
    Indicator("cleared_trees", "Infected trees cleared", "疫木清理", "trees",
              "infected_trees: trees whose clearing date (cleared_date, else verified_date) falls in the year and "
              "whose status is cleared or verified, as `trees --from YEAR-01-01 --to YEAR-12-31` counts them",
              "infected_trees 图层：清理日期(无则核查日期)在当年内、状态为已清理或已核查的疫木株数，"
              "与 `trees --from 当年1月1日 --to 12月31日` 一致", _TREES),
    Indicator("cleared_trees_cumulative", "Infected trees cleared, cumulative", "累计清理疫木", "trees",
              "infected_trees: trees cleared (as cleared_trees) on or before 31 December of the year, since the "
              "first record", "infected_trees 图层：自首条记录起至当年12月31日已清理的疫木株数", _TREES),
    Indicator("found_trees", "Infected trees found", "新发现疫木", "trees",
              "infected_trees: trees whose found_date falls in the year",
              "infected_trees 图层：发现日期在当年内的疫木株数", _TREES),
    Indicator("clearance_rate", "Clearance rate", "疫木除治率", "pct",
              "infected_trees: the cohort rate of `trees` for the year (trees found in the year up to the last "
              "season cut-off on or before 31 December, cleared by 31 December), with the township's "
              "clearance_target_pct as the target",
              "infected_trees 图层：`trees` 的当年队列除治率(当年发现、截至12月31日前最近一次除治期截止日"
              "应除治的疫木中，截至12月31日已清理的比例)，目标为 clearance_target_pct", _TREES),
    Indicator("infected_plots", "Infected sub-compartments", "疫情小班", "plots",
              "infected_trees and forest_plots: sub-compartments with an infected tree found in the year, and "
              "their area, as the infected_plots table of `trees` for the year",
              "infected_trees、forest_plots 图层：当年发现疫木的小班数及其面积，同 `trees` 当年的疫情小班表",
              ("infected_trees", "forest_plots")),
    Indicator("new_afforestation_mu", "New plantations", "新增人工造林", "mu",
              "forest_plots: ellipsoidal area of the plots with origin planted and planted_year equal to the year",
              "forest_plots 图层：起源为人工且造林年度为当年的小班椭球面积", ("forest_plots",)),
    Indicator("new_forest_transfer_mu", "New forest-land transfers", "新增林地流转", "mu",
              "land_transfers: parcels with land_type forest whose start_date falls in the year; contract "
              "(declared_mu) and measured area as `audit` measures it, and their difference (measured − declared)",
              "land_transfers 图层：地类为林地、起始日期在当年的流转地块，合同面积与 `audit` 实测面积及其差(实测−合同)",
              ("land_transfers",)),
    Indicator("farmland_transfer_mu", "Farmland transfers", "农田流转", "mu",
              "land_transfers: parcels with land_type farmland starting in the year (new) and in force on "
              "31 December (start_date on or before it, end_date on or after it); measured area as `audit`",
              "land_transfers 图层：地类为耕地、当年起始(新增)及12月31日仍在期内(起始日期不晚于、终止日期不早于该日)"
              "的流转地块实测面积，同 `audit`", ("land_transfers",)),
    Indicator("pv_transfer_mu", "Photovoltaic land transfers", "光伏电站土地流转", "mu",
              "land_transfers: parcels with use photovoltaic in force on 31 December; contract (declared_mu) and "
              "measured area and their difference (measured − declared)",
              "land_transfers 图层：用途为光伏、12月31日仍在期内的地块，合同面积与实测面积及其差(实测−合同)",
              ("land_transfers",)),
    Indicator("sand_closed", "Illegal sand sites closed", "关停非法采砂场点", "sites",
              "sand_sites: sites with status closed or restored whose closed_date falls in the year, and all "
              "closed on or before 31 December (cumulative); of them, by kind, manufactured-sand plants (家) and "
              "river sand-mining sites (处)",
              "sand_sites 图层：状态为已关停或已复绿、关停日期在当年的场点数，及截至12月31日累计关停数；"
              "其中按类型分机制砂企业(家)和河道采砂点(处)",
              ("sand_sites",)),
    Indicator("sand_sites_in_no_mining_zones", "Sand sites in no-mining zones", "禁采区内采砂场点", "sites",
              "sand_sites and sand_zones: sites whose sand-plan zone (the strictest zone they touch) is no-mining, "
              "as `sand` finds them", "sand_sites、sand_zones 图层：`sand` 判定位于禁采区的采砂场点数",
              ("sand_sites", "sand_zones")),
    Indicator("river_km", "River length under chiefs", "河长制河道长度", "km",
              "rivers: ellipsoidal length of the reaches by their chief's level (county, township, village) and in "
              "total, as `rivers` measures them",
              "rivers 图层：按河长级别(县、乡、村)及合计的河段椭球长度，同 `rivers`", ("rivers",)),
    Indicator("patrol_coverage_pct", "River patrol coverage", "巡河覆盖率", "pct",
              "rivers and patrols: river length patrolled in the year (tracks within patrol_buffer_m) ÷ length of "
              "the chiefs' reaches × 100, and the kilometres walked, as `rivers --from --to` for the year",
              "rivers、patrols 图层：当年巡河轨迹(缓冲 patrol_buffer_m)覆盖的河长÷各河长负责河段总长×100，及巡河里程，"
              "同 `rivers --from --to` 当年", ("rivers", "patrols")),
    Indicator("outfalls", "Sewage outfalls", "入河排污口", "count",
              "outfalls: outfalls recorded, and those inside a river management zone, as `rivers` finds them",
              "outfalls 图层：排污口个数，及 `rivers` 判定位于河道管理范围内的个数", ("outfalls", "rivers")),
    Indicator("oil_tea_mu", "Oil-tea plantations", "油茶种植基地", "mu",
              "forest_plots: ellipsoidal area of the plots whose species is oil-tea, planted by the year's end "
              "(planted_year on or before the year, or unknown)",
              "forest_plots 图层：优势树种为油茶、造林年度不晚于当年(或未填)的小班椭球面积", ("forest_plots",)),
    Indicator("open_audit_findings", "Open land-transfer audit findings", "土地流转审计问题", "findings",
              "land_transfers: the findings of `audit` on the layer as it is now (errors and warnings), by check",
              "land_transfers 图层：`audit` 对现有图层发现的问题(错误和警告)，按检查项统计", ("land_transfers",)),
)
BY_ID = {i.id: i for i in INDICATORS}


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """1 January and 31 December of ``year``."""
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


class Analyses:
    """The analyses one report needs, each run once per year and kept: the Results every
    indicator (and its --explain listing) is read from."""

    def __init__(self, township: Township) -> None:
        self.township = township
        self._cache: dict[tuple[str, int | None], Result] = {}

    def missing(self, indicator: Indicator) -> Missing | None:
        """The first layer ``indicator`` needs that the township lacks or cannot read."""
        for kind in indicator.layers:
            if not self.township.has(kind) or self.township.try_layer(kind) is None:
                return Missing(kind)
        return None

    def _get(self, key: str, year: int | None, make) -> Result:
        if (key, year) not in self._cache:
            self._cache[(key, year)] = make()
        return self._cache[(key, year)]

    def trees(self, year: int) -> Result:
        start, end = year_bounds(year)
        return self._get("trees", year, lambda: tree_counts(self.township, start=start, end=end, hotspots=False))

    def trees_until(self, year: int) -> Result:
        return self._get("trees_until", year,
                         lambda: tree_counts(self.township, end=year_bounds(year)[1], hotspots=False))

    def audit(self) -> Result:
        return self._get("audit", None, lambda: audit_transfers(self.township))

    def sand(self) -> Result:
        return self._get("sand", None, lambda: sand_report(self.township))

    def rivers(self, year: int) -> Result:
        start, end = year_bounds(year)
        return self._get("rivers", year, lambda: river_report(self.township, start=start, end=end))


def total_row(table: pd.DataFrame, column: str) -> pd.Series:
    """The Total row of an analysis table (its first column reads Total)."""
    from geo_township.labels import TOTAL_LABEL

    return table[table[column] == TOTAL_LABEL["en"]].iloc[-1]


def afforested(plots: gpd.GeoDataFrame, year: int) -> np.ndarray:
    """Per plot: planted in ``year``."""
    return ((plots["origin"] == "planted") & (pd.to_numeric(plots["planted_year"], errors="coerce") == year)).to_numpy()


def oil_tea(plots: gpd.GeoDataFrame, year: int) -> np.ndarray:
    """Per plot: oil-tea, planted by the end of ``year`` (or planting year unknown)."""
    planted = pd.to_numeric(plots["planted_year"], errors="coerce")
    return ((plots["species"] == "oil_tea") & (planted.isna() | (planted <= year) | (planted == 0))).to_numpy()


def transfer_masks(parcels: gpd.GeoDataFrame, year: int) -> dict[str, np.ndarray]:
    """Per parcel of the audit: forest/farmland started in the year, farmland and
    photovoltaic in force on 31 December."""
    start, end = year_bounds(year)
    s = pd.to_datetime(parcels["start_date"], errors="coerce")
    e = pd.to_datetime(parcels["end_date"], errors="coerce")
    new = (s >= pd.Timestamp(start)) & (s <= pd.Timestamp(end))
    in_force = (s <= pd.Timestamp(end)) & (e >= pd.Timestamp(end))
    return {"forest_new": (new & (parcels["land_type"] == "forest")).to_numpy(),
            "farmland_new": (new & (parcels["land_type"] == "farmland")).to_numpy(),
            "farmland_in_force": (in_force & (parcels["land_type"] == "farmland")).to_numpy(),
            "pv_in_force": (in_force & (parcels["use"] == "photovoltaic")).to_numpy()}


def _contract(parcels: gpd.GeoDataFrame, mask: np.ndarray) -> dict[str, float | int | None]:
    declared = float(parcels.loc[mask, "declared_mu"].sum())
    measured = float(parcels.loc[mask, "measured_mu"].sum())
    return {"declared": round(declared, 2), "measured": round(measured, 2),
            "difference": round(measured - declared, 2), "parcels": int(mask.sum())}


def sand_closed_mask(sites: pd.DataFrame, year: int, *, cumulative: bool, kind: str | None = None) -> np.ndarray:
    """Per site of `sand`: closed (or restored) with a closed date in ``year`` (or by its end);
    with ``kind`` (a sand_kind code: sand_plant, river_mining), only sites of that kind."""
    closed_year = pd.to_datetime(sites["closed_date"], errors="coerce").dt.year
    done = sites["status"].isin(["closed", "restored"])
    if kind is not None:
        done = done & (sites["kind"] == kind)
    return (done & ((closed_year <= year) if cumulative else (closed_year == year))).to_numpy()


def compute(analyses: Analyses, indicator: Indicator, year: int) -> Value:
    """The parts of ``indicator`` for ``year``, or Missing."""
    missing = analyses.missing(indicator)
    if missing is not None:
        return missing
    return _COMPUTE[indicator.id](analyses, year)


def _trees_total(a: Analyses, year: int, column: str) -> dict[str, float | int | None]:
    return {"value": int(total_row(a.trees(year).table, "village")[column])}


def _clearance(a: Analyses, year: int) -> dict[str, float | int | None]:
    row = total_row(a.trees(year).table, "village")
    rate = row["clearance_pct"]
    return {"value": None if pd.isna(rate) else round(float(rate), 2), "due": int(row["due"]),
            "due_cleared": int(row["due_cleared"]),
            "target": float(a.township.config.parameters["clearance_target_pct"])}


def _infected(a: Analyses, year: int) -> dict[str, float | int | None]:
    row = total_row(a.trees(year).tables["infected_plots"], "village")
    return {"value": int(row["infected_plots"]), "mu": round(float(row["infected_mu"]), 2)}


def _plots_mu(a: Analyses, year: int, pick) -> dict[str, float | int | None]:
    plots = a.township.gdf("forest_plots")
    mask = pick(plots, year)
    method = a.township.config.parameters["area_method"]
    mu = area(plots.geometry[mask], unit="mu", method=method)
    return {"value": round(float(np.sum(mu)), 2), "plots": int(mask.sum())}


def _transfers(part: str):
    def run(a: Analyses, year: int) -> dict[str, float | int | None]:
        parcels = a.audit().features["parcels"]
        masks = transfer_masks(parcels, year)
        if part == "farmland":
            new, now = _contract(parcels, masks["farmland_new"]), _contract(parcels, masks["farmland_in_force"])
            return {"value": new["measured"], "declared": new["declared"], "in_force": now["measured"],
                    "in_force_declared": now["declared"], "parcels": new["parcels"]}
        got = _contract(parcels, masks[part])
        return {"value": got["measured"], **{k: v for k, v in got.items() if k != "measured"}}
    return run


def _sand_closed(a: Analyses, year: int) -> dict[str, float | int | None]:
    sites = a.sand().features["sites"]
    out: dict[str, float | int | None] = {}
    for prefix, kind in SAND_CLOSED_PARTS.items():
        out[prefix or "value"] = int(sand_closed_mask(sites, year, cumulative=False, kind=kind).sum())
        out[f"{prefix}_cumulative" if prefix else "cumulative"] = int(
            sand_closed_mask(sites, year, cumulative=True, kind=kind).sum())
    return out


SAND_CLOSED_PARTS = {"": None, "plants": "sand_plant", "mining_sites": "river_mining"}
"""The parts of ``sand_closed`` (in the year, and ``…_cumulative``): every closed site, the
manufactured-sand plants (counted in 家 as enterprises) and the river sand-mining sites (处)."""


def _no_mining(a: Analyses, year: int) -> dict[str, float | int | None]:
    return {"value": int((a.sand().features["sites"]["sand_zone"] == "no_mining").sum())}


def _river_km(a: Analyses, year: int) -> dict[str, float | int | None]:
    by_level = a.rivers(year).tables["by_level"]
    out: dict[str, float | int | None] = {}
    for level, km in zip(by_level["chief_level"], by_level["length_km"], strict=True):
        out["value" if level is None or level == "Total" else str(level)] = round(float(km), 2)
    return out


def _patrols(a: Analyses, year: int) -> dict[str, float | int | None]:
    chiefs = a.rivers(year).tables["patrol_chiefs"]
    chiefs = chiefs[chiefs["river_chief"] != "Total"]
    length, patrolled = float(chiefs["length_km"].sum()), float(chiefs["patrolled_km"].sum())
    pct = 100.0 * patrolled / length if length else None
    return {"value": None if pct is None else round(pct, 1), "walked_km": round(float(chiefs["walked_km"].sum()), 1),
            "length_km": round(length, 2), "patrolled_km": round(patrolled, 2)}


def _outfalls(a: Analyses, year: int) -> dict[str, float | int | None]:
    counts = a.rivers(year).tables["in_zone_counts"]
    inside = counts.loc[counts["layer"] == "outfalls", "count"]
    return {"value": len(a.township.gdf("outfalls")), "in_zone": int(inside.iloc[0]) if len(inside) else 0}


def _findings(a: Analyses, year: int) -> dict[str, float | int | None]:
    counts: Counter[str] = Counter()
    for f in a.audit().findings:
        if f.severity in ("error", "warning") and f.feature != MORE_FEATURE:
            counts[f.check] += 1
    return {"value": sum(counts.values()), **dict(sorted(counts.items()))}


_COMPUTE = {
    "cleared_trees": lambda a, y: _trees_total(a, y, "cleared"),
    "cleared_trees_cumulative": lambda a, y: {"value": int(total_row(a.trees_until(y).table, "village")["cleared"])},
    "found_trees": lambda a, y: _trees_total(a, y, "found"),
    "clearance_rate": _clearance,
    "infected_plots": _infected,
    "new_afforestation_mu": lambda a, y: _plots_mu(a, y, afforested),
    "new_forest_transfer_mu": _transfers("forest_new"),
    "farmland_transfer_mu": _transfers("farmland"),
    "pv_transfer_mu": _transfers("pv_in_force"),
    "sand_closed": _sand_closed,
    "sand_sites_in_no_mining_zones": _no_mining,
    "river_km": _river_km,
    "patrol_coverage_pct": _patrols,
    "outfalls": _outfalls,
    "oil_tea_mu": lambda a, y: _plots_mu(a, y, oil_tea),
    "open_audit_findings": _findings,
}


def compute_all(township: Township, year: int, analyses: Analyses | None = None) -> dict[str, dict[int, Value]]:
    """Every indicator for ``year`` and ``year - 1``: id → {year: parts or Missing}.
    ``analyses``: the Results already run (shared with the report's other tables)."""
    analyses = analyses or Analyses(township)
    out: dict[str, dict[int, Value]] = {}
    for ind in INDICATORS:
        out[ind.id] = {y: compute(analyses, ind, y) for y in (year, year - 1)}
    return out
