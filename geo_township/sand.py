"""Sand mining (采砂) and manufactured-sand plants (机制砂厂): sites by kind and status, per
village and per year of closure (关停); each site's nearest reach, distance to it and
whether it lies inside a river management zone; its zone in the river's sand-mining plan
(禁采区 no-mining, 保留区 reserved, 可采区 permitted); and status histories that do not add up.

Rules (each a :class:`~geo_township.results.Check`, in :data:`SAND_CHECKS`):

* an active site (``licensed`` or ``illegal``) in a no-mining or a reserved zone — error;
* a ``closed`` or ``restored`` site without a closed date, or restored before it was
  closed — error (the closures per year would be wrong);
* an ``illegal`` site not yet closed, a licensed river-mining site outside every
  permitted zone (when the township has sand zones), an active site with a closed
  date, a restored site without a restored date, a closed site with a restored date —
  warnings.

Distances are planar metres in the township's working CRS (a Gauss–Krüger zone); a
polygon site's distance is from its nearest edge, and it is "inside" a zone when any
part of it is.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.kinds import KINDS
from geo_township.labels import TOTAL_LABEL, UNASSIGNED_LABEL
from geo_township.layers import Township, feature_ids
from geo_township.locate import fill_villages
from geo_township.measure import Method
from geo_township.results import Check, Finding, Result, declare
from geo_township.vocabulary import SAND_STATUS, SAND_ZONE
from geo_township.zones import management_zones, reach_attributes, reach_lines

ACTIVE = ("licensed", "illegal")
"""Statuses of a site that is (or may be) working."""
BANNED_ZONES = ("no_mining", "reserved")
"""Sand-plan zones where no site may be active."""
STATUS_COLUMNS = {code: f"sites_{code}" for code in SAND_STATUS.codes}

_IN_BANNED_ZONE = ("{status} site lies in {zone} {zone_id}: no site may work there; close it",
                   "{status_zh}采砂点位于{zone_zh}{zone_id}：该区域内不得开采，应予关停")
SAND_CHECKS = declare(
    Check("active_in_no_mining", "error", "working site in a no-mining zone", "禁采区内仍在开采", *_IN_BANNED_ZONE),
    Check("active_in_reserved", "error", "working site in a reserved zone", "保留区内仍在开采", *_IN_BANNED_ZONE),
    Check("illegal_not_closed", "warning", "illegal site not closed", "非法采砂点未关停",
          "illegal site not yet closed{where}", "非法采砂点尚未关停{where_zh}"),
    Check("licensed_outside_plan", "warning", "licensed mining outside the plan", "许可采砂点不在可采区",
          "licensed river sand mining outside every permitted zone (可采区) of the plan",
          "许可河道采砂点不在采砂规划的任何可采区内"),
    Check("closed_without_date", "error", "closed without a closed date", "已关停但缺少关停日期",
          "status is {status} but there is no closed date (关停日期): the site is missing from the closures per "
          "year; fill in the date it was closed",
          "状态为{status_zh}但无关停日期：逐年关停统计中缺少该点，请补填关停日期"),
    Check("restored_before_closed", "error", "restored before it was closed", "复绿日期早于关停日期",
          "restored {restored:%Y-%m-%d} before it was closed {closed:%Y-%m-%d}; correct one date",
          "复绿日期{restored:%Y-%m-%d}早于关停日期{closed:%Y-%m-%d}，请更正其一"),
    Check("active_with_closed_date", "warning", "working site with a closed date", "在产但有关停日期",
          "status is {status} but the site has a closed date {closed:%Y-%m-%d}: did it reopen, or was the status "
          "not updated?",
          "状态为{status_zh}但有关停日期{closed:%Y-%m-%d}：是否已复产，或状态未更新？"),
    Check("site_status_not_understood", "warning", "site status blank or not understood", "采砂点状态为空或无法识别",
          "status {value}: the site is counted in the sites total, its kind and village, but in no status column; "
          "{fix}",
          "状态{value_zh}：该采砂点计入总数、类型和村，但不计入任何状态列；{fix_zh}"),
    Check("restored_without_date", "warning", "restored without a date", "已复绿但缺少复绿日期",
          "status is restored but there is no restored date (复绿日期)", "状态为已复绿但无复绿日期"),
    Check("closed_but_restored_date", "warning", "closed but with a restored date", "已关停但有复绿日期",
          "status is closed but a restored date {restored:%Y-%m-%d} is given; update the status to restored?",
          "状态为已关停但有复绿日期{restored:%Y-%m-%d}：是否应改为已复绿？"),
)


def nearest_reach(geoms: np.ndarray, rivers: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For each geometry, the nearest reach (its key, see :func:`geo_township.zones.reach_keys`) and
    the planar distance to its river line in the CRS's units (metres)."""
    lines = reach_lines(rivers)
    tree = shapely.STRtree(lines.geometry.to_numpy())
    gi, li = tree.query_nearest(geoms, all_matches=False)
    reach = np.full(len(geoms), None, dtype=object)
    reach[gi] = lines["reach"].to_numpy()[li]
    dist = np.full(len(geoms), np.nan)
    dist[gi] = shapely.distance(geoms[gi], lines.geometry.to_numpy()[li])
    return reach, dist


def zones_of(geoms: np.ndarray, zones: gpd.GeoDataFrame) -> np.ndarray:
    """The reaches whose management zone each geometry intersects, joined by ', ' (None
    when outside every zone)."""
    out = np.full(len(geoms), None, dtype=object)
    if not len(zones) or not len(geoms):
        return out
    tree = shapely.STRtree(zones.geometry.to_numpy())
    gi, zi = tree.query(geoms, predicate="intersects")
    reaches = pd.Series(zones["reach"].to_numpy()[zi], index=gi)
    joined = reaches.groupby(level=0).agg(lambda s: ", ".join(sorted(set(map(str, s)))))
    out[joined.index.to_numpy()] = joined.to_numpy()
    return out


def sand_zone_of(geoms: np.ndarray, sand_zones: gpd.GeoDataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """The strictest sand-plan zone (no_mining, then reserved, then permitted) each
    geometry intersects, and that zone's id; None where it lies in no zone."""
    code = np.full(len(geoms), None, dtype=object)
    zone_id = np.full(len(geoms), None, dtype=object)
    if sand_zones is None or not len(sand_zones) or not len(geoms):
        return code, zone_id
    rank = {c: i for i, c in enumerate(SAND_ZONE.codes)}
    ids = feature_ids(sand_zones, KINDS["sand_zones"]).to_numpy()
    tree = shapely.STRtree(sand_zones.geometry.to_numpy())
    gi, zi = tree.query(geoms, predicate="intersects")
    hits = pd.DataFrame({"g": gi, "z": zi, "rank": sand_zones["zone"].map(rank).to_numpy()[zi]})
    hits = hits.dropna(subset=["rank"]).sort_values(["g", "rank", "z"]).drop_duplicates("g")
    code[hits["g"].to_numpy()] = sand_zones["zone"].to_numpy()[hits["z"].to_numpy()]
    zone_id[hits["g"].to_numpy()] = ids[hits["z"].to_numpy()]
    return code, zone_id


def unknown_status_findings(sites: gpd.GeoDataFrame, ids: pd.Series, unknown_words: pd.DataFrame | None
                            ) -> list[Finding]:
    """A warning per site whose status is blank or not understood: it is counted in the
    ``sites`` total (and its kind and village) but in no status column, so one site
    does not stop the report."""
    missing = np.flatnonzero(sites["status"].isna().to_numpy())
    raw = dict.fromkeys(missing.tolist(), "")
    if unknown_words is not None and len(unknown_words):
        words = unknown_words[unknown_words["field"] == "status"]
        raw.update(zip(words["row"].tolist(), words["value"].astype(str).tolist(), strict=True))
    return [SAND_CHECKS.site_status_not_understood.finding(
                "sand_sites", str(ids.iloc[i]), value=repr(raw[i]) if raw[i] else "blank",
                value_zh=f"“{raw[i]}”无法识别" if raw[i] else "为空",
                fix=(f'teach the tool the word in township.toml: [layers.sand_sites.values] status = {{ "{raw[i]}" = '
                     '"closed" } (or licensed/illegal/restored)' if raw[i] else
                     "fill in 状态 (licensed/illegal/closed/restored)"),
                fix_zh=(f'请在 township.toml 中说明该词：[layers.sand_sites.values] status = {{ "{raw[i]}" = '
                        '"closed" }（或 licensed/illegal/restored）' if raw[i]
                        else "请填写状态（已许可/非法/已关停/已复绿）"))
            for i in map(int, missing)]


def status_history_findings(sites: gpd.GeoDataFrame, ids: pd.Series) -> list[Finding]:
    """Statuses and dates that contradict each other (see the module docstring)."""
    out: list[Finding] = []
    status = sites["status"]
    closed = sites["closed_date"] if "closed_date" in sites.columns else pd.Series(pd.NaT, index=sites.index)
    restored = sites["restored_date"] if "restored_date" in sites.columns else pd.Series(pd.NaT, index=sites.index)
    def zh(i) -> str:
        return SAND_STATUS.label(status[i], "zh")

    rules = [  # mask, check, the values of its message for the site labelled i
        (status.isin(["closed", "restored"]) & closed.isna(), SAND_CHECKS.closed_without_date,
         lambda i: {"status": status[i], "status_zh": zh(i)}),
        (restored.notna() & closed.notna() & (restored < closed), SAND_CHECKS.restored_before_closed,
         lambda i: {"restored": restored[i], "closed": closed[i]}),
        (status.isin(ACTIVE) & closed.notna(), SAND_CHECKS.active_with_closed_date,
         lambda i: {"status": status[i], "status_zh": zh(i), "closed": closed[i]}),
        ((status == "restored") & restored.isna(), SAND_CHECKS.restored_without_date, lambda i: {}),
        ((status == "closed") & restored.notna(), SAND_CHECKS.closed_but_restored_date,
         lambda i: {"restored": restored[i]}),
    ]
    for mask, check, values in rules:
        for i in np.flatnonzero(mask.fillna(False).to_numpy()):
            out.append(check.finding("sand_sites", str(ids.iloc[i]), **values(sites.index[i])))
    return out


def _count_table(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Sites per ``by`` value and status, with a total column and a total row."""
    counts = pd.crosstab(frame[by], frame["status"]).reindex(columns=list(SAND_STATUS.codes), fill_value=0)
    counts = counts.rename(columns=STATUS_COLUMNS)
    counts["sites"] = frame.groupby(by).size().reindex(counts.index).fillna(0).astype(int)
    counts = counts.reset_index().rename(columns={"index": by})
    total = {by: TOTAL_LABEL["en"], **{c: int(counts[c].sum()) for c in counts.columns if c != by}}
    return pd.concat([counts, pd.DataFrame([total])], ignore_index=True)


def _closures_by_village(closed: pd.DataFrame) -> pd.DataFrame:
    """Closed (and restored) sites per village (rows) and year of closure (one column per
    year, oldest first), with a total column ``sites_closed`` and a total row."""
    years = sorted(closed["closed_year"].unique())
    counts = pd.crosstab(closed["village"], closed["closed_year"]).reindex(columns=years, fill_value=0)
    counts.columns = [str(y) for y in counts.columns]
    counts["sites_closed"] = counts.sum(axis=1)
    counts = counts.rename_axis(index="village", columns=None).reset_index()
    numbers = [c for c in counts.columns if c != "village"]
    total = {"village": TOTAL_LABEL["en"], **{c: int(counts[c].sum()) for c in numbers}}
    out = pd.concat([counts, pd.DataFrame([total], columns=counts.columns)], ignore_index=True)
    return out.astype(dict.fromkeys(numbers, int))


def sand_report(township: Township, *, zone_m: float | None = None, method: Method | None = None) -> Result:
    """Everything ``geo-township sand`` shows.

    Main table: sites per kind and status. Further tables: ``by_village`` (the record's
    village, else the village the site lies in), ``closures`` (closed and restored sites
    per year of their closed date and kind), ``closures_by_village`` (the same sites per
    village and year of closure, a column per year), ``sites`` (each site with its nearest reach,
    distance in metres, the management zones it lies in and its sand-plan zone; illegal
    sites inside a zone first, then other active sites inside a zone, then the rest by
    distance) and ``by_sand_zone`` when the township has ``sand_zones``.
    """
    params = township.config.parameters
    method = method or params["area_method"]
    zone_m = params["zone_m"] if zone_m is None else zone_m
    layer = township.layer("sand_sites")
    sites = layer.gdf
    ids = layer.ids()
    geoms = sites.geometry.to_numpy()
    notes: list[str] = []
    notes_zh: list[str] = []
    status_findings = unknown_status_findings(sites, ids, layer.unknown_words)

    frame = _site_frame(sites, ids, township.optional("villages"), notes, notes_zh)
    _add_river_columns(frame, geoms, township, zone_m=zone_m, method=method, notes=notes, notes_zh=notes_zh)
    sand_zones = township.optional("sand_zones")
    frame["sand_zone"], zone_ids = sand_zone_of(geoms, sand_zones)

    kinds = frame["kind"].astype(object).where(frame["kind"].notna(), UNASSIGNED_LABEL["en"])
    summary = _count_table(frame.assign(kind=kinds), "kind")
    by_village = _count_table(frame.assign(village=frame["village"].astype(object).where(
        frame["village"].notna(), UNASSIGNED_LABEL["en"])), "village")
    closures, closures_by_village = _closures(frame, kinds)
    findings = _plan_findings(frame, zone_ids, has_sand_zones=sand_zones is not None)
    findings += status_history_findings(sites, ids) + status_findings

    tables = {"by_village": by_village, "closures": closures, "closures_by_village": closures_by_village,
              "sites": _site_table(frame)}
    features = {"sites": gpd.GeoDataFrame(frame, geometry=geoms, crs=sites.crs)}
    if sand_zones is not None:
        tables["by_sand_zone"] = _by_sand_zone(frame)
        features["sand_zones"] = sand_zones
        notes.append("sand-plan zone: the strictest zone a site touches (no-mining, then reserved, then permitted)")
        notes_zh.append("采砂分区：采砂点涉及多个分区时取最严格者(禁采区、保留区、可采区)")
    if findings:
        features["site_findings"] = _findings_layer(frame, geoms, findings, sites.crs)
    return Result(
        f"Sand-mining sites of {township.name}: by kind and status", summary, tables=tables, findings=findings,
        features=features, notes=notes, notes_zh=notes_zh, title_zh=f"{township.name}采砂点：按类型和状态统计",
        vocab={"kind": "sand_kind", "status": "sand_status", "sand_zone": "sand_zone"},
        decimals={"distance_m": 0},
        provenance=township.provenance(analysis="sand", zone_m_default=zone_m, area_method=method),
    )


def _site_frame(sites: gpd.GeoDataFrame, ids: pd.Series, villages: gpd.GeoDataFrame | None, notes: list[str],
                notes_zh: list[str]) -> pd.DataFrame:
    """One row per site: id, name, kind, status, village (the record's, else by location,
    with a note) and its closed and restored dates."""
    geoms = sites.geometry.to_numpy()
    frame = pd.DataFrame({"site_id": ids.to_numpy(),
                          "site_name": sites["name"].to_numpy() if "name" in sites.columns else None,
                          "kind": sites["kind"].to_numpy() if "kind" in sites.columns else None,
                          "status": sites["status"].to_numpy()})
    recorded = sites["village"].to_numpy(dtype=object) if "village" in sites.columns else np.full(len(sites), None)
    village, located = fill_villages(recorded, geoms, villages)
    if located.any():
        notes.append(f"village by location for {int(located.sum())} site(s) without one in the record")
        notes_zh.append(f"{int(located.sum())}个记录未填村的采砂点按位置确定所在村")
    frame["village"] = village
    for col in ("closed_date", "restored_date"):
        frame[col] = sites[col].to_numpy() if col in sites.columns else pd.NaT
    return frame


def _add_river_columns(frame: pd.DataFrame, geoms: np.ndarray, township: Township, *, zone_m: float,
                       method: Method, notes: list[str], notes_zh: list[str]) -> None:
    """Each site's nearest reach, its chief, the distance to its river line and the
    management zones the site lies in (blank, with a note, when there are no rivers)."""
    if township.has("rivers"):
        rivers = township.gdf("rivers")
        zones = management_zones(rivers, default_zone_m=zone_m, method=method)
        reach, dist = nearest_reach(geoms, rivers)
        chiefs = reach_attributes(rivers)["chief"]
        frame["reach"] = reach
        frame["river_chief"] = chiefs.reindex(reach).to_numpy()
        frame["distance_m"] = dist
        frame["in_zone_of"] = zones_of(geoms, zones)
        notes_zh.append(f"距离为至最近河段中心线的平面米数({township.working_crs.to_string()})；管理范围按各河段宽度"
                        f"(未填者取{zone_m:g}米)")
        notes.append(f"distances are planar metres in {township.working_crs.to_string()} to the nearest reach's river "
                     f"line; management zones use each reach's zone_m (default {zone_m:g} m)")
    else:
        for col in ("reach", "river_chief", "distance_m", "in_zone_of"):
            frame[col] = None
        notes.append("no rivers layer: nearest reach, distance and management zones are not computed")
        notes_zh.append("无河流图层：未计算最近河段、距离和管理范围")


def _closures(frame: pd.DataFrame, kinds: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Closed and restored sites with a closed date: per year of closure and kind, and per
    village and year of closure."""
    closed = frame[frame["status"].isin(["closed", "restored"]) & frame["closed_date"].notna()]
    closures = (closed.assign(closed_year=pd.to_datetime(closed["closed_date"]).dt.year.astype(str),
                              kind=kinds[closed.index])
                .groupby(["closed_year", "kind"]).size().rename("sites_closed").reset_index())
    closures = pd.concat([closures, pd.DataFrame([{"closed_year": TOTAL_LABEL["en"], "kind": None,
                                                   "sites_closed": int(closures["sites_closed"].sum())}])],
                         ignore_index=True)
    closures_by_village = _closures_by_village(closed.assign(
        closed_year=pd.to_datetime(closed["closed_date"]).dt.year.astype(str),
        village=closed["village"].astype(object).where(closed["village"].notna(), UNASSIGNED_LABEL["en"])))
    return closures, closures_by_village


def _site_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The sites, most urgent first: illegal sites inside a zone, other active sites inside
    a zone, other sites inside a zone, then the rest, each by distance."""
    active = frame["status"].isin(ACTIVE)
    in_zone = frame["in_zone_of"].notna()
    priority = np.select([in_zone & (frame["status"] == "illegal"), in_zone & active, in_zone], [0, 1, 2], 3)
    ordered = frame.assign(_p=priority).sort_values(["_p", "distance_m", "site_id"], kind="stable",
                                                    na_position="last")
    # the river chief and the restored date stay in the GeoPackage layer (and the findings):
    # the table is read on a screen
    return ordered[["site_id", "site_name", "kind", "status", "village", "closed_date", "reach", "distance_m",
                    "in_zone_of", "sand_zone"]].reset_index(drop=True)


def _plan_findings(frame: pd.DataFrame, zone_ids: np.ndarray, *, has_sand_zones: bool) -> list[Finding]:
    """Active sites in a no-mining or reserved zone, illegal sites not closed, and (with a
    sand plan) licensed river mining outside every permitted zone."""
    findings: list[Finding] = []
    active = frame["status"].isin(ACTIVE)
    in_zone = frame["in_zone_of"].notna()
    zone_id_of = dict(zip(frame.index, zone_ids, strict=True))
    for i in frame.index[active & frame["sand_zone"].isin(BANNED_ZONES)]:
        code, status = frame.at[i, "sand_zone"], frame.at[i, "status"]
        findings.append(SAND_CHECKS[f"active_in_{code}"].finding(
            "sand_sites", str(frame.at[i, "site_id"]), status=status, status_zh=SAND_STATUS.label(status, "zh"),
            zone=SAND_ZONE.label(code), zone_zh=SAND_ZONE.label(code, "zh"), zone_id=zone_id_of[i]))
    for i in frame.index[(frame["status"] == "illegal")]:
        where = f" inside the management zone of {frame.at[i, 'in_zone_of']}" if in_zone[i] else ""
        where_zh = f"，位于{frame.at[i, 'in_zone_of']}河道管理范围内" if in_zone[i] else ""
        findings.append(SAND_CHECKS.illegal_not_closed.finding("sand_sites", str(frame.at[i, "site_id"]), where=where,
                                                               where_zh=where_zh))
    if has_sand_zones:
        lic = (frame["status"] == "licensed") & (frame["kind"] == "river_mining") & (frame["sand_zone"] != "permitted")
        for i in frame.index[lic & ~frame["sand_zone"].isin(BANNED_ZONES)]:
            findings.append(SAND_CHECKS.licensed_outside_plan.finding("sand_sites", str(frame.at[i, "site_id"])))
    return findings


def _by_sand_zone(frame: pd.DataFrame) -> pd.DataFrame:
    """Sites per sand-plan zone and status, in the plan's order, outside every zone last."""
    zone_frame = frame.assign(sand_zone=frame["sand_zone"].astype(object).where(frame["sand_zone"].notna(),
                                                                                   UNASSIGNED_LABEL["en"]))
    counts = _count_table(zone_frame, "sand_zone")
    order = {c: i for i, c in enumerate((*SAND_ZONE.codes, UNASSIGNED_LABEL["en"], TOTAL_LABEL["en"]))}
    return counts.sort_values("sand_zone", key=lambda s: s.map(order)).reset_index(drop=True)


def _findings_layer(frame: pd.DataFrame, geoms: np.ndarray, findings: list[Finding], crs) -> gpd.GeoDataFrame:
    """The sites with a finding, with their checks, for the map and the GeoPackage."""
    flagged = {f.feature for f in findings}
    checks = pd.DataFrame([(f.feature, f.check) for f in findings], columns=["site_id", "check"]) \
        .groupby("site_id")["check"].agg(", ".join)
    mask = frame["site_id"].isin(flagged).to_numpy()
    bad = gpd.GeoDataFrame(frame[mask], geometry=geoms[mask], crs=crs)
    bad["check"] = bad["site_id"].map(checks)
    return bad.reset_index(drop=True)
