"""The land-transfer audit's checks and how their findings are gathered: the audit's
checks (:data:`CHECKS`: code, severity, names and message templates), the
:class:`Collector` every check reports to, and how messages write dates, periods, lists
and uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import pandas as pd

from geo_township.record_checks import RECORD_CHECKS
from geo_township.results import Check, CheckSet, Finding, check_vocabulary, declare
from geo_township.vocabulary import TRANSFER_USE

LAYER = "land_transfers"
"""The layer the audit reads."""


_OVERLAP_HEAD = ("{a} and {b} overlap by {mu:,.2f} mu ({share_a:.1f}% of {a}, {share_b:.1f}% of {b})",
                 "{a} 与 {b} 重叠 {mu:,.2f} 亩（占 {a} 的 {share_a:.1f}%，占 {b} 的 {share_b:.1f}%）")
_AUDIT_OWN = declare(
    Check("area_mismatch", "error", "declared area ≠ measured", "登记面积与实测不符",
          "declared {declared:,.2f} mu but the drawn parcel measures {measured:,.2f} mu: declared is {diff:,.2f} mu "
          "({pct:.1f}%) {direction}, beyond the tolerance of {tolerance}",
          "登记 {declared:,.2f} 亩，实测 {measured:,.2f} 亩：登记{direction_zh} {diff:,.2f} 亩（{pct:.1f}%），超过容差 "
          "{tolerance_zh}"),
    Check("overlap", "error", "counted twice (overlap)", "重复流转(地块重叠)",
          _OVERLAP_HEAD[0] + "; their contracts run at the same time ({periods}{open_ended}): the same land is "
          "counted twice",
          _OVERLAP_HEAD[1] + "；两份合同期限重叠（{periods_zh}{open_ended_zh}）：同一块地被重复计算"),
    Check("renewal", "info", "renewal (overlap, not at once)", "续签(地块重叠、期限不重叠)",
          _OVERLAP_HEAD[0] + "; one contract ends before the other starts ({periods}): a renewal, not double counting",
          _OVERLAP_HEAD[1] + "；一份合同结束后另一份才开始（{periods_zh}）：属续签，不是重复流转"),
    Check("outside_village", "error", "outside its village", "超出所属村界",
          "{outside:,.2f} mu ({pct:.1f}%) of the parcel lies outside {village}, the village it is recorded under "
          "(in {lies_in})",
          "地块有 {outside:,.2f} 亩（{pct:.1f}%）超出登记所属的{village}（位于 {lies_in_zh}）"),
    Check("on_basic_farmland", "error", "non-farming use on basic farmland", "非农用途占用永久基本农田",
          "{use} on {mu:,.2f} mu ({pct:.1f}%) of permanent basic farmland (patches {patches}): a non-farming use "
          "there is prohibited",
          "{use_zh}占用永久基本农田 {mu:,.2f} 亩（{pct:.1f}%，图斑 {patches}）：永久基本农田禁止非农用途"),
    Check("on_forest_land", "warning", "farmland transfer on forest land", "耕地流转涉及林地",
          "farmland transfer on {mu:,.2f} mu ({pct:.1f}%) of forest sub-compartments {plots}: forest land cannot be "
          "transferred as farmland",
          "耕地流转涉及林地 {mu:,.2f} 亩（{pct:.1f}%，小班 {plots}）：林地不能作为耕地流转"),
    Check("in_river_zone", "warning", "in a river management zone", "位于河道管理范围内",
          "{mu:,.2f} mu ({pct:.1f}%) of the parcel lies in the management zone of reach {in_zone_of}: "
          "check that its use is allowed there",
          "地块有 {mu:,.2f} 亩（{pct:.1f}%）位于河段 {in_zone_of} 的河道管理范围内：请核实该用途是否允许"),
    Check("missing_declared", "error", "no declared area", "缺少登记面积",
          "{declared}; the drawn parcel measures {measured:,.2f} mu: fill in the contract's area",
          "{declared_zh}；实测 {measured:,.2f} 亩：请按合同补填面积"),
    Check("end_before_start", "error", "ends before it starts", "终止日期早于起始日期",
          "the contract ends {end}, before it starts {start}; correct one of the dates",
          "合同终止日期 {end} 早于起始日期 {start}；请改正其中一个日期"),
    Check("contract_too_long", "error", "contract too long", "流转期限超过上限",
          "the contract runs {years:.1f} years ({period}), longer than the {max_years:g} years allowed",
          "合同期限 {years:.1f} 年（{period}），超过上限 {max_years:g} 年"),
    Check("missing_dates", "warning", "no start or end date", "缺少起止日期",
          "no {missing}: the contract's period cannot be checked (overlaps count it as open-ended)",
          "缺少{missing_zh}：无法核对合同期限（重叠检查按不限期计）"),
    Check("bad_date", "error", "date not understood", "日期无法识别",
          "{field} {value!r} is not a date (write it as 2022-03-05): read as missing, so the contract's period cannot "
          "be checked and overlaps count it as open-ended",
          "{field_zh}“{value}”不是有效日期（应写作 2022-03-05）：按缺失处理，无法核对合同期限，重叠检查按不限期计"),
    Check("bad_value", "error", "value not understood", "取值无法识别",
          "{field} {value!r} is not understood (expected {expected}): read as missing; correct it in the file",
          "{field_zh}“{value}”无法识别：按缺失处理；请在文件中改正"),
    Check("missing_village", "warning", "no village", "缺少村名",
          "no village recorded; the parcel lies in {lies_in}", "未填写所属村；地块实际位于 {lies_in_zh}"),
    Check("unknown_village", "warning", "unknown village", "村名不在行政村图层中",
          "village {village!r} is not in the villages layer ({listed}); the parcel lies in {lies_in}",
          "村名“{village}”不在行政村图层中（{listed}）；地块实际位于 {lies_in_zh}"),
)
CHECKS = CheckSet((c.code, c) for c in (
    *(_AUDIT_OWN[code] for code in ("area_mismatch", "overlap", "renewal", "outside_village", "on_basic_farmland",
                                    "on_forest_land", "in_river_zone")),
    RECORD_CHECKS.duplicate_id.reworded(
        "parcel id {id} is used by {n} parcels ({where}; {mu:,.2f} mu drawn in all); give each its own id",
        "地块编号 {id} 被 {n} 个地块重复使用（{where_zh}；共 {mu:,.2f} 亩）；请给每个地块唯一编号"),
    RECORD_CHECKS.missing_id.reworded("no parcel id ({mu:,.2f} mu drawn); give the parcel its contract's id",
                                      "缺少地块编号（实测 {mu:,.2f} 亩）；请按合同补填编号"),
    *(_AUDIT_OWN[code] for code in ("missing_declared", "end_before_start", "contract_too_long", "missing_dates",
                                    "bad_date", "bad_value", "missing_village", "unknown_village")),
    RECORD_CHECKS.invalid_geometry.reworded(
        "invalid geometry ({reason}); audited with a repaired copy ({mu:,.2f} mu, layer invalid_geometry of the "
        "GeoPackage); the file is unchanged: fix it in your GIS, e.g. QGIS 'Fix geometries'",
        "图形无效（{reason}）；按修复后的副本审计（{mu:,.2f} 亩，见 GeoPackage 的 invalid_geometry 图层）；"
        "原文件未改动："
        "请在 GIS 中修复（如 QGIS“修复几何图形”）"),
    RECORD_CHECKS.empty_geometry.reworded(
        "{reason}: the parcel{declared} is left out of every number; draw it in your GIS",
        "缺少图形：该地块{declared_zh}未计入任何统计；请在 GIS 中补绘"),
))
"""The audit's checks in the order its summary lists them (the most serious first within
a severity): their code is also the name of their table and GeoPackage layer. Those the
layer check shares (ids, geometry) are declared in :mod:`geo_township.record_checks` and
worded here for parcels."""
AUDIT_CHECK = check_vocabulary("audit_check", CHECKS.values())
"""The audit's checks' names, the vocabulary its tables and map layers name (``audit_check``)."""
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2, "ok": 3}


Keys = tuple  # the parcels one finding concerns: row positions in the audited frame (or "dropped N")


class Collector:
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

    def add(self, code: str, frame: gpd.GeoDataFrame, *, features: list[str], values: list[dict[str, Any]],
            rows: list[Keys], area_mu: float) -> None:
        """Record a check's rows (with geometry), its findings (one per feature, its
        messages filled in from its ``values``), the parcels each finding concerns
        (``rows``) and the area concerned (mu)."""
        self.ran(code)
        found = [CHECKS[code].finding(LAYER, f, **v) for f, v in zip(features, values, strict=True)]
        self.findings += found
        concerned = self.flags.setdefault(code, set())
        for keys, finding in zip(rows, found, strict=True):
            concerned.update(keys)
            for key in keys:
                if not isinstance(key, str):
                    self.details.setdefault(int(key), []).append((finding.message, finding.message_zh))
        row = self.summary[code]
        row["findings"] += len(found)
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

    def summary_table(self) -> pd.DataFrame:
        """One row per check that ran, in the order of :data:`CHECKS`: findings, parcels
        and the area concerned (mu)."""
        return pd.DataFrame([self.summary[c] for c in CHECKS if c in self.summary],
                            columns=["check", "severity", "findings", "parcels", "concerned_mu"])

    def layer_finding(self, check: Check, **values: Any) -> None:
        """One finding of ``check`` (one of :data:`CHECKS`, perhaps reworded) for the whole
        layer (a field it lacks), instead of one per parcel."""
        self.ran(check.code)
        self.findings.append(check.finding(LAYER, "-", **values))
        self.summary[check.code]["findings"] += 1


def single_rows(index) -> list[Keys]:
    """One finding per parcel: the row positions in ``index``, each on its own."""
    return [(int(i),) for i in index]


def date_text(value) -> str:
    """A date as 2022-03-05, or ``?`` when it is missing."""
    return "?" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def period_text(start, end) -> str:
    """A contract's period, e.g. ``2020-01-01–2029-12-31``."""
    return f"{date_text(start)}–{date_text(end)}"


def join_unique(values: Iterable) -> str:
    """The values as text, each once, in order, joined by ', '."""
    return ", ".join(dict.fromkeys(str(v) for v in values))


def use_label(code, lang: str = "en") -> str:
    """A use code's label in ``lang``; a parcel without a use says so."""
    return TRANSFER_USE.label(code, lang) if code is not None else ("(no use)" if lang == "en" else "（未填用途）")
