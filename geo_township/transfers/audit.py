"""The land-transfer audit as a whole: :func:`audit_layers` runs every check of
:mod:`.land_checks` and :mod:`.records` on GeoDataFrames and adds the totals;
:func:`audit_transfers` runs it on a township; :func:`write_findings` writes the
findings (the map draws them: :mod:`geo_township.webmap.layers_audit`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_township.config import PARAMETERS, validate_parameter
from geo_township.engine import LOCAL, Engine
from geo_township.errors import UsageError
from geo_township.kinds import KINDS
from geo_township.labels import Text
from geo_township.layers import Township
from geo_township.measure import METHOD_NOTES, METHOD_NOTES_ZH, Method
from geo_township.overlay import Category
from geo_township.results import Result, localise
from geo_township.transfers.findings import CHECKS, LAYER, Collector, use_label
from geo_township.transfers.land_checks import (
    check_area,
    check_basic_farmland,
    check_forest_land,
    check_overlaps,
    check_river_zones,
    check_villages,
    tolerance_text,
)
from geo_township.transfers.records import absent_field, check_bad_cells, check_records
from geo_township.transfers.totals import parcels_layer, totals_tables
from geo_township.vocabulary import TRANSFER_USE
from geo_township.zones import management_zones

log = logging.getLogger(__name__)

#: Decimals of the audit's columns in tables and on the map.
AUDIT_DECIMALS = {"declared_mu": 2, "measured_mu": 2, "diff_mu": 2, "diff_pct": 1, "overlap_mu": 2,
             "share_a_pct": 1, "share_b_pct": 1, "outside_mu": 2, "outside_pct": 1, "on_farmland_mu": 2,
             "on_farmland_pct": 1, "on_forest_mu": 2, "on_forest_pct": 1, "in_zone_mu": 2, "in_zone_pct": 1,
             "years": 1, "concerned_mu": 2, "basic_farmland_mu": 2, "transferred_farmland_mu": 2,
             "farmland_share_pct": 1}
#: The vocabulary that labels each coded column of the audit.
AUDIT_VOCAB = {"check": "audit_check", "use": "transfer_use", "land_type": "land_type"}
_BASE = ["parcel_id", "village", "land_type", "use", "declared_mu", "measured_mu", "start_date", "end_date"]


@dataclass
class _Notes:
    """The audit's notes, in English and Chinese, in step."""

    en: list[str] = field(default_factory=list)
    zh: list[str] = field(default_factory=list)

    def add(self, en: str, zh: str) -> None:
        self.en.append(en)
        self.zh.append(zh)


@dataclass(frozen=True)
class _Settings:
    """The audit's parameters, each checked against its declaration."""

    method: Method
    tolerance_pct: float
    tolerance_mu: float
    tolerance_rule: str
    overlap_min_mu: float
    max_contract_years: float
    non_farming: list[str]

    @classmethod
    def checked(cls, method: Method, tolerance_pct, tolerance_mu, tolerance_rule, overlap_min_mu,
                max_contract_years, non_farming_uses: Iterable[str]) -> _Settings:
        """The settings, each parameter validated in this order; a bad one is named."""
        return cls(method, _param("tolerance_pct", tolerance_pct), _param("tolerance_mu", tolerance_mu),
                   _param("tolerance_rule", tolerance_rule), _param("overlap_min_mu", overlap_min_mu),
                   _param("max_contract_years", max_contract_years),
                   list(_param("non_farming_uses", list(non_farming_uses))))

    def provenance(self) -> dict[str, Any]:
        """The method and parameters, as the Result's provenance records them."""
        note = Text(METHOD_NOTES[self.method], METHOD_NOTES_ZH[self.method])
        return {"analysis": "audit", "area_method": self.method, "method_note": note,
                "tolerance_pct": self.tolerance_pct, "tolerance_mu": self.tolerance_mu,
                "tolerance_rule": self.tolerance_rule, "overlap_min_mu": self.overlap_min_mu,
                "max_contract_years": self.max_contract_years, "non_farming_uses": self.non_farming}


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
    engine: Engine = LOCAL,
) -> Result:
    """Audit land-transfer parcels against the other layers (the checks: :mod:`geo_township.transfers`).

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
    engine:
        Where the parcels' areas and the overlapping pairs are computed (:mod:`geo_township.engine`).

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
    s = _Settings.checked(method, tolerance_pct, tolerance_mu, tolerance_rule, overlap_min_mu, max_contract_years,
                          non_farming_uses)
    notes = _Notes()
    _note_unknown_uses(s.non_farming, notes)
    p, raw_id, where, absent = _audited_frame(transfers, method=method, engine=engine)
    bad = bad_cells if bad_cells is not None else _NO_BAD_CELLS.copy()
    out = Collector()
    check_area(p, out, tolerance_pct=s.tolerance_pct, tolerance_mu=s.tolerance_mu, rule=s.tolerance_rule)
    check_overlaps(p, out, method=method, min_mu=s.overlap_min_mu, engine=engine)
    _check_location(p, out, notes, s, absent=absent, villages=villages, basic_farmland=basic_farmland,
                    forest_plots=forest_plots, river_zones=river_zones)
    check_bad_cells(p, bad, out)
    check_records(p, raw_id, out, max_years=s.max_contract_years, repaired=repaired or {}, dropped=dropped,
                  absent=absent, bad=bad, where=where)
    totals = totals_tables(p, villages, basic_farmland, method=method)
    _note_totals(notes, s, parcels=len(p), by_village=totals["by_village"])
    return Result(
        "Land-transfer audit", out.summary_table(), tables={**out.tables, **totals}, findings=out.findings,
        features={"parcels": parcels_layer(p, out, where), **out.features}, notes=notes.en, notes_zh=notes.zh,
        title_zh="土地流转审计", vocab=dict(AUDIT_VOCAB), decimals=dict(AUDIT_DECIMALS), provenance=s.provenance(),
    )


_NO_BAD_CELLS = pd.DataFrame({"row": pd.Series(dtype=int), "field": pd.Series(dtype=object),
                              "value": pd.Series(dtype=object), "expected": pd.Series(dtype=object)})


def _note_unknown_uses(non_farming: list[str], notes: _Notes) -> None:
    """A note when ``non_farming_uses`` names something that is no use code."""
    unknown_uses = [u for u in non_farming if u not in TRANSFER_USE.codes]
    if unknown_uses:
        notes.add(f"non_farming_uses {', '.join(unknown_uses)} are not use codes ({', '.join(TRANSFER_USE.codes)}); "
                  "they match parcels whose use is written exactly so",
                  f"non_farming_uses 中的 {', '.join(unknown_uses)} 不是用途代码（{', '.join(TRANSFER_USE.codes)}），"
                  "只匹配用途字段原文完全相同的地块")


def _audited_frame(transfers: gpd.GeoDataFrame, *, method: Method, engine: Engine = LOCAL
                   ) -> tuple[gpd.GeoDataFrame, pd.Series, np.ndarray, set[str]]:
    """The parcels as the checks see them: every canonical field (blank where the layer
    lacks it), ids labelled by their place in the file where several features share one,
    the measured area in mu. Also returns the raw ids, each row's place in the file and
    the fields the layer lacks."""
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
    p["measured_mu"] = engine.area(p.geometry, unit="mu", method=method)
    p = gpd.GeoDataFrame(p[[*_BASE, p.geometry.name]], geometry=p.geometry.name, crs=transfers.crs)
    if p.geometry.name != "geometry":
        p = p.rename_geometry("geometry")
    return p.reset_index(drop=True), raw_id, where, absent


def _check_location(p: gpd.GeoDataFrame, out: Collector, notes: _Notes, s: _Settings, *, absent: set[str],
                    villages: gpd.GeoDataFrame | None, basic_farmland: gpd.GeoDataFrame | None,
                    forest_plots: gpd.GeoDataFrame | None, river_zones: gpd.GeoDataFrame | None) -> None:
    """The checks against other layers — villages, basic farmland, forest land, river
    zones — each skipped with a note when its layer is missing."""
    method, min_mu = s.method, s.overlap_min_mu
    if villages is not None and len(villages):
        if "village" in absent:
            absent_field(out, "missing_village", ["village"], "parcels cannot be checked against their village",
                         "无法核对地块是否在所属村内")
        else:
            check_villages(p, villages, out, method=method, min_mu=min_mu)
    else:
        notes.add("outside-village check skipped: the township has no villages layer",
                  "未检查是否超出村界：缺少行政村图层 (villages)")
    if basic_farmland is not None:
        check_basic_farmland(p, basic_farmland, out, non_farming=s.non_farming, method=method, min_mu=min_mu)
    else:
        notes.add("basic-farmland check skipped: the township has no basic_farmland layer",
                  "未检查是否占用永久基本农田：缺少永久基本农田图层 (basic_farmland)")
    if forest_plots is not None:
        check_forest_land(p, forest_plots, out, method=method, min_mu=min_mu)
    else:
        notes.add("forest-land check skipped: the township has no forest_plots layer",
                  "未检查耕地流转是否涉及林地：缺少森林小班图层 (forest_plots)")
    if river_zones is not None:
        check_river_zones(p, river_zones, out, method=method, min_mu=min_mu)
    else:
        notes.add("river-zone check skipped: the township has no rivers layer",
                  "未检查河道管理范围：缺少河流图层 (rivers)")


def _note_totals(notes: _Notes, s: _Settings, *, parcels: int, by_village: pd.DataFrame) -> None:
    """The headline note (parcels audited, declared and measured mu) first; a note when the
    farmland share could not be computed, and the tolerances, last."""
    if "farmland_share_pct" not in by_village.columns:
        notes.add("share of farmland transferred: needs the villages and basic_farmland layers",
                  "流转占基本农田比例：需要行政村 (villages) 和永久基本农田 (basic_farmland) 图层")
    method = s.method
    total = by_village.iloc[-1]
    notes.en.insert(0, f"{parcels} parcels audited: declared {total['declared_mu']:,.2f} mu, measured "
                       f"{total['measured_mu']:,.2f} mu ({METHOD_NOTES[method]}; 1 mu = 10000/15 m²)")
    notes.zh.insert(0, f"共审计 {parcels} 宗地块：登记面积 {total['declared_mu']:,.2f} 亩，实测面积 "
                       f"{total['measured_mu']:,.2f} 亩（{METHOD_NOTES_ZH[method]}；1 亩 = 10000/15 平方米）")
    rule, rule_zh = (tolerance_text(s.tolerance_pct, s.tolerance_mu, s.tolerance_rule, lang) for lang in ("en", "zh"))
    both = s.tolerance_mu > 0 and s.tolerance_rule == "both"
    notes.add(f"tolerances: declared vs measured {rule}{' (both must be exceeded)' if both else ''}; overlaps and "
              f"areas in other layers under {s.overlap_min_mu:g} mu are ignored as slivers; contracts up to "
              f"{s.max_contract_years:g} years; non-farming uses: {', '.join(use_label(u) for u in s.non_farming)}",
              f"容差：登记与实测面积相差超过 {rule_zh}{'（两者同时超过）' if both else ''} 列出；"
              "重叠及与其他图层相交不足 "
              f"{s.overlap_min_mu:g} 亩的视为绘图误差不计；流转期限上限 {s.max_contract_years:g} 年；非农用途："
              f"{'、'.join(use_label(u, 'zh') for u in s.non_farming)}")


def _param(name: str, value):
    """A parameter's value checked against its declaration; a clear error names it."""
    try:
        return validate_parameter(name, value)
    except ValueError as exc:
        raise UsageError(f"{name}: {exc}", hint=PARAMETERS[name].doc,
                         message_zh=f"参数 {name} 的取值不对：{exc}") from None


def _where_in_file(transfers: gpd.GeoDataFrame) -> np.ndarray:
    """Each row's place in the file: 'line N' for tables, else 'feature N' (its number
    among the file's features, also when features without geometry were left out)."""
    if "source_row" in transfers.columns:
        return ("line " + transfers["source_row"].astype(str)).to_numpy(dtype=object)
    numbers = transfers.attrs.get("feature_numbers")
    if numbers is None or len(numbers) != len(transfers):
        numbers = range(1, len(transfers) + 1)
    return np.array([f"feature {n}" for n in numbers], dtype=object)


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
    engine: Engine = LOCAL,
) -> Result:
    """Audit the township's ``land_transfers`` layer; every parameter left as None comes
    from township.toml (or its default); the heavy kernels run on ``engine``. Uses the villages,
    basic_farmland, forest_plots and rivers layers when the township has them. See :func:`audit_layers`.

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
        raise UsageError(f"unknown area method {chosen['method']!r}", hint="use ellipsoidal or planar",
                         message_zh=f"未知的面积算法 {chosen['method']!r}",
                         hint_zh="请用 ellipsoidal(椭球面)或 planar(平面)")
    result = audit_layers(
        layer.gdf,
        villages=township.optional("villages"),
        basic_farmland=township.optional("basic_farmland"),
        forest_plots=township.optional("forest_plots"),
        river_zones=township_river_zones(township),
        repaired={str(i): layer.invalid_reasons.get(str(i), "invalid") for i in layer.repaired},
        dropped=layer.dropped,
        bad_cells=layer.bad_cells,
        engine=engine,
        **chosen,
    )
    return replace(result, title=f"Land-transfer audit of {township.config.display_name('en')}",
                   title_zh=f"{township.config.display_name('zh')}土地流转审计",
                   provenance=township.provenance(**result.provenance))


def township_river_zones(township: Township) -> gpd.GeoDataFrame | None:
    """The township's river management zones, as the rivers command draws them (one
    definition: :func:`geo_township.zones.management_zones`), one polygon per ``reach``."""
    rivers = township.optional("rivers")
    if rivers is None:
        return None
    return management_zones(rivers, default_zone_m=township.config.parameters["zone_m"])


def write_findings(result: Result, path: str | Path, *, lang: str = "en") -> list[str]:
    """Write the audit's features with the exporter, one set per finding type plus
    ``parcels`` (every parcel with its measured area, worst finding, checks and the
    findings' messages): a GeoPackage layer (working CRS) or a KML/KMZ folder each; field
    names, coded values and messages in ``lang`` ('en' machine names, or 'zh' labels).

    Written atomically (complete, or the old file is left). Returns the names written.
    """
    from geo_township.export import export_sets

    frames: dict[str, gpd.GeoDataFrame] = {}
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
                    CHECKS[c].name("zh") for c in v.split(", ")) if v else v)
            attrs = localise(attrs, lang, vocab=result.vocab)
            frame = gpd.GeoDataFrame(attrs, geometry=frame.geometry.to_numpy(), crs=frame.crs)
        frames[name] = frame
    written, _ = export_sets(frames, path, lang=lang, title=result.title_in(lang))
    return written


AUDIT_CATEGORIES = [
    Category("error", "audit error", "审计错误", "#d7191c"),
    Category("warning", "audit warning", "审计警告", "#fdae61"),
    Category("info", "renewal (note)", "续签(提示)", "#2c7bb6"),
    Category("ok", "no finding", "无问题", "#1a9641"),
]
