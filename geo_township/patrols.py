"""Patrol coverage (巡河) of river reaches by GPS tracks, per reach, per chief and per month.

* A stretch of river is *patrolled* when a track passes within ``patrol_buffer_m`` of it;
  lengths are measured along the river by the township's method (ellipsoidal or planar).
* A chief's coverage counts only their own tracks on their own reaches, per calendar
  month; a reach counts as patrolled when anyone's track came near it.
* A track *patrols* a reach (is counted among its tracks) when it runs beside the reach
  for more than twice the patrol distance, nearer to it than to any other reach.
* *Walked* kilometres are geodesic lengths of the GPS tracks (on the CGCS2000 ellipsoid,
  whatever the township's area method): per chief, all of their own tracks; per reach, the
  stretches of anyone's tracks within ``patrol_buffer_m`` of the reach (a stretch near two
  reaches, at a confluence, counts for both, so the reaches' walked km need not add up to
  the chiefs').

Reaches and their chiefs are those of :mod:`geo_township.zones`; lakes drawn as polygons
are left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.errors import UsageError
from geo_township.kinds import KINDS
from geo_township.labels import UNASSIGNED_LABEL
from geo_township.layers import feature_ids
from geo_township.measure import Method, length_m
from geo_township.results import Check, Finding, declare
from geo_township.units import from_m
from geo_township.vocabulary import normalise_name
from geo_township.zones import QUAD_SEGS, is_polygon, reach_attributes, reach_keys

PATROL_CHECKS = declare(
    Check("track_without_date", "info", "track without a date", "轨迹缺少日期",
          "{n} track(s) have no date and are left out of the periods; give the tracks a date field or GPS times",
          "{n}条轨迹无日期，未计入统计期：请为轨迹补充日期字段或GPS时间"),
    Check("no_chief_field", "warning", "tracks name no chief", "轨迹缺少河长字段",
          "the patrol tracks have no chief field (河长/巡河人, or a GPX track name): coverage is computed per reach "
          "but not per chief; name the field in township.toml",
          "巡河轨迹无河长字段(河长/巡河人，或GPX轨迹名)：只按河段计算覆盖率，不按河长统计；请在township.toml中指定该字段"),
    Check("track_not_a_chief", "info", "track of an unknown chief", "轨迹人员不是河长",
          "{n} track(s) by {walker!r}, who is chief of no reach: they count for the reaches they pass but for no "
          "chief; check the name",
          "{walker}的{n}条轨迹：此人不是任何河段的河长，轨迹计入所经河段的覆盖率，但不计入任何河长；请核对姓名"),
    Check("not_patrolled", "warning", "reach not patrolled", "河段未巡查",
          "no patrol track followed this reach ({km:.2f} km, chief {chief}) in {period}",
          "{period_zh}无巡河轨迹沿此河段巡查({km:.2f}公里，河长{chief_zh})"),
    Check("coverage_below_minimum", "warning", "patrol coverage below minimum", "巡河覆盖率不足",
          "mean monthly patrol coverage {mean:.1f}% is below the minimum {minimum:g}% ({below} of {months} "
          "month(s) below) in {period}",
          "{period_zh}月均巡河覆盖率{mean:.1f}%，低于{minimum:g}%({months}个月中{below}个月未达标)"),
)


def _month_range(start: dt.date, end: dt.date) -> list[str]:
    months = pd.period_range(pd.Timestamp(start).to_period("M"), pd.Timestamp(end).to_period("M"), freq="M")
    return [str(p) for p in months]


def match_chiefs(track_chiefs: pd.Series, chiefs: list[str]) -> pd.Series:
    """The river chief each track belongs to: the chief whose name equals the track's
    (ignoring case, spaces and punctuation), else the longest chief name the track's text
    contains (GPS apps name tracks like "张伟 巡河 3月5日"); None when neither."""
    folded = {normalise_name(c): c for c in chiefs if c}
    by_length = sorted(folded, key=len, reverse=True)
    cache: dict[str, str | None] = {}

    def one(text: object) -> str | None:
        if text is None or (isinstance(text, float) and np.isnan(text)):
            return None
        key = normalise_name(text)
        if key not in cache:
            cache[key] = folded.get(key) or next((folded[c] for c in by_length if c and c in key), None)
        return cache[key]

    return track_chiefs.map(one)


def patrol_coverage(rivers: gpd.GeoDataFrame, patrols: gpd.GeoDataFrame, *, buffer_m: float,
                    start: dt.date | None = None, end: dt.date | None = None,
                    min_coverage_pct: float = 80.0, method: Method = "ellipsoidal",
                    ) -> tuple[dict[str, pd.DataFrame], list[Finding], gpd.GeoDataFrame]:
    """Patrol coverage of the river reaches by GPS tracks, in the period ``start``–``end``
    (inclusive; default: the months the dated tracks span).

    ``rivers`` and ``patrols`` share a projected CRS in metres. A stretch of river is
    patrolled when a track passes within ``buffer_m`` of it. Tables:

    * ``patrol_chiefs``: per chief — their reaches' length, tracks, km walked, the share of that
      length their own tracks came near in the whole period, the mean of their monthly shares,
      the months below ``min_coverage_pct`` and the last patrol date;
    * ``patrol_monthly``: per chief and month — tracks, km walked, patrolled km, coverage %;
    * ``patrol_reach_monthly``: per reach and month — its chief, the chief's own tracks that
      patrolled it, the km and share of it their tracks came near (the chief's monthly
      figures are these summed over their reaches) and the share anyone's tracks came near;
    * ``patrol_reaches``: per reach — patrolled km and coverage % by anyone's tracks, the
      tracks that patrolled it, the km of track walked within ``buffer_m`` of it and the
      last patrol date;
    * ``unpatrolled``: reaches no track patrolled in the period.

    A track *patrols* a reach when more than ``2 × buffer_m`` of the track runs within
    ``buffer_m`` of that reach and nearer to it than to any other: crossing a river stays
    within reach of it for at most that much, and a chief walking the main river past a
    confluence is nearer the main river than the tributary.

    Walked km (``walked_km``) are geodesic track lengths: a chief's own tracks whole; for a
    reach, the stretches of anyone's tracks within ``buffer_m`` of its lines (see the module).

    Findings: chiefs whose mean monthly coverage is below the minimum and reaches not
    patrolled (warnings); tracks without a date or whose walker is no river chief (info).
    Also returns the river split into patrolled and unpatrolled stretches (``status``)
    for the map.
    """
    if buffer_m < 0:
        raise UsageError(f"the patrol distance must be 0 m or more, not {buffer_m}",
                         hint="set patrol_buffer_m in township.toml, e.g. 50",
                         message_zh=f"巡河距离应为 0 米或以上，不能是 {buffer_m}",
                         hint_zh="请在 township.toml 中设置 patrol_buffer_m，例如 50")
    net = _network(rivers, method)
    tracks, findings = _dated_tracks(patrols, net.chiefs)
    tracks, start, end = _in_period(tracks, start, end)
    months = _month_range(start, end) if start is not None and end is not None else []
    findings += _walker_findings(tracks)
    tracks = tracks.assign(_month=tracks["_date"].dt.to_period("M").astype(str))
    passes = _passes(net, tracks, buffer_m)
    walked = _walked(net, tracks, buffer_m)

    period = f"{start} – {end}" if start is not None else "the whole record"
    period_zh = f"{start}至{end}" if start is not None else "全部记录期间"
    patrol_reaches = _reach_table(net, passes, walked)
    unpatrolled = patrol_reaches[patrol_reaches["tracks"] == 0][["reach", "river_chief", "length_km"]]
    findings += _unpatrolled_findings(unpatrolled, period, period_zh)
    patrol_monthly = _chief_monthly(net, tracks, passes, months, walked)
    patrol_chiefs = _chief_period(net, tracks, passes, patrol_monthly, min_coverage_pct, walked)
    findings += _coverage_findings(patrol_chiefs, min_coverage_pct, len(months), period, period_zh)
    patrol_chiefs = patrol_chiefs.sort_values(["mean_monthly_pct", "river_chief"], kind="stable").reset_index(
        drop=True)
    tables = {"patrol_chiefs": patrol_chiefs, "patrol_monthly": patrol_monthly,
              "patrol_reach_monthly": _reach_monthly(net, tracks, passes, months),
              "patrol_reaches": patrol_reaches, "unpatrolled": unpatrolled.reset_index(drop=True)}
    return tables, findings, _patrolled_split(net, passes, rivers.crs)


# --------------------------------------------------------------------------- the steps


@dataclass(frozen=True)
class _Network:
    """The river lines patrols are measured on (lakes left out), one entry per feature."""

    keys: np.ndarray  # the reach of each line
    geoms: np.ndarray
    length: np.ndarray  # metres by the method
    scale: np.ndarray  # metres by the method per planar metre: pieces are measured along their line
    chief: np.ndarray  # the chief of each line's reach
    chief_of_reach: pd.Series
    attrs: pd.DataFrame  # reach_attributes of every feature, lakes included
    chiefs: list[str]  # every chief the rivers name
    line_chiefs: list[str]  # the chiefs of river lines


def _network(rivers: gpd.GeoDataFrame, method: Method) -> _Network:
    """The river lines with their reach, chief and length by ``method``."""
    lines = rivers[~is_polygon(rivers)]
    keys = reach_keys(lines).to_numpy()
    attrs = reach_attributes(rivers)
    chief_of_reach = attrs["chief"]
    line_geoms = lines.geometry.to_numpy()
    line_len = length_m(lines.geometry, method=method)
    line_chief = chief_of_reach.reindex(keys).to_numpy()
    planar = shapely.length(line_geoms)
    scale = np.divide(line_len, planar, out=np.zeros(len(planar)), where=planar > 0)
    return _Network(keys=keys, geoms=line_geoms, length=line_len, scale=scale, chief=line_chief,
                    chief_of_reach=chief_of_reach, attrs=attrs,
                    chiefs=sorted({str(c) for c in chief_of_reach.dropna()}),
                    line_chiefs=sorted({str(c) for c in line_chief if c is not None and not pd.isna(c)}))


def _dated_tracks(patrols: gpd.GeoDataFrame, chiefs: list[str]) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """The tracks with their chief (``_chief``) and day (``_date``); tracks without a date
    are left out, with one finding naming them."""
    findings: list[Finding] = []
    tracks = patrols.copy()
    tracks["_chief"] = match_chiefs(tracks["chief"], chiefs) if "chief" in tracks.columns else None
    dates = (pd.to_datetime(tracks["date"]) if "date" in tracks.columns
             else pd.Series(pd.NaT, index=tracks.index, dtype="datetime64[ns]"))
    tracks["_date"] = dates.dt.normalize()
    track_ids = feature_ids(tracks, KINDS["patrols"])
    undated = tracks["_date"].isna()
    if undated.any():
        named = ", ".join(track_ids[undated].head(5)) + (" …" if undated.sum() > 5 else "")
        findings.append(PATROL_CHECKS.track_without_date.finding("patrols", named, n=int(undated.sum())))
    return tracks[~undated], findings


def _in_period(tracks: gpd.GeoDataFrame, start: dt.date | None, end: dt.date | None
               ) -> tuple[gpd.GeoDataFrame, dt.date | None, dt.date | None]:
    """The tracks dated ``start``–``end`` and the period itself: an end left open runs to
    the record's first or last track; a period that leaves nothing is refused."""
    if start is not None and end is not None and end < start:
        raise UsageError(f"the period ends ({end}) before it starts ({start})", hint="swap --from and --to",
                         message_zh=f"统计期的结束日({end})早于开始日({start})", hint_zh="请对调 --from 和 --to")
    if len(tracks):
        first, last = tracks["_date"].min().date(), tracks["_date"].max().date()
        # a period open at one end runs to the record's first or last track: say so when that
        # leaves nothing, rather than blame an end the user never gave
        if end is None and start is not None and start > last:
            raise UsageError(f"no patrol track is dated on or after {start}: the tracks run from {first} to {last}",
                             hint="choose an earlier --from, add the newer tracks, or give --to as well to report "
                             "the period as not patrolled",
                             message_zh=f"没有 {start} 当天或之后的巡河轨迹：轨迹日期从 {first} 到 {last}",
                             hint_zh="请选更早的 --from，补充较新的轨迹，或同时给出 --to，把该时段报为未巡河")
        if start is None and end is not None and end < first:
            raise UsageError(f"no patrol track is dated on or before {end}: the tracks run from {first} to {last}",
                             hint="choose a later --to, or give --from as well to report the period as not "
                             "patrolled",
                             message_zh=f"没有 {end} 当天或之前的巡河轨迹：轨迹日期从 {first} 到 {last}",
                             hint_zh="请选更晚的 --to，或同时给出 --from，把该时段报为未巡河")
        start = first if start is None else start
        end = last if end is None else end
    if start is not None:
        tracks = tracks[tracks["_date"] >= pd.Timestamp(start)]
    if end is not None:
        tracks = tracks[tracks["_date"] <= pd.Timestamp(end)]
    return tracks, start, end


def _walker_findings(tracks: gpd.GeoDataFrame) -> list[Finding]:
    """A layer without a chief field (one warning), or tracks by someone who is chief of
    no reach (one note per walker)."""
    findings: list[Finding] = []
    if "chief" not in tracks.columns:
        findings.append(PATROL_CHECKS.no_chief_field.finding("patrols", "-"))
        return findings
    unknown = tracks["_chief"].isna()
    walkers = tracks.loc[unknown, "chief"].fillna(UNASSIGNED_LABEL["en"]).astype(str).value_counts()
    for walker, n in walkers.items():
        findings.append(PATROL_CHECKS.track_not_a_chief.finding("patrols", walker, n=n, walker=walker))
    return findings


@dataclass(frozen=True)
class _Passes:
    """Where the tracks came near the river lines."""

    li: np.ndarray  # the line of each piece
    pieces: np.ndarray  # the stretch of line li[k] inside a track's buffer
    iv: pd.DataFrame  # those stretches as intervals along their line, with the track's chief and month
    own: pd.DataFrame  # the intervals of a chief's own tracks on their own reaches
    touch: pd.DataFrame  # reach, track, m, date: the tracks that patrol each reach


def _passes(net: _Network, tracks: gpd.GeoDataFrame, buffer_m: float) -> _Passes:
    """The stretches of river within ``buffer_m`` of each track, and the tracks that ran
    beside a reach for more than ``2 × buffer_m`` (those that patrol it)."""
    track_chief = tracks["_chief"].to_numpy(dtype=object)
    track_month = tracks["_month"].to_numpy(dtype=object)
    track_date = tracks["_date"].to_numpy()
    buffers = shapely.buffer(tracks.geometry.to_numpy(), buffer_m, quad_segs=QUAD_SEGS)
    li, ti = shapely.STRtree(buffers).query(net.geoms, predicate="intersects")
    pieces = shapely.intersection(net.geoms[li], buffers[ti])
    iv = _intervals(net.geoms, pieces, li, ti)
    iv["chief"] = track_chief[iv["track"].to_numpy()]
    iv["month"] = track_month[iv["track"].to_numpy()]
    own = iv[iv["chief"].notna() & (iv["chief"].to_numpy() == net.chief[iv["line"].to_numpy()])]
    along = _followed(tracks.geometry.to_numpy(), net.geoms, buffer_m)
    along = (along.assign(reach=net.keys[along["line"].to_numpy()])
             .groupby(["reach", "track"], as_index=False)["m"].sum())
    touch = along[along["m"] > 2 * buffer_m].assign(date=lambda d: track_date[d["track"].to_numpy()])
    return _Passes(li=li, pieces=pieces, iv=iv, own=own, touch=touch)


@dataclass(frozen=True)
class _Walked:
    """How far the tracks went: each track's geodesic length, and per reach the geodesic
    length of track within the patrol distance of it."""

    track_m: np.ndarray  # per track (row of ``tracks``)
    reach_m: pd.Series  # reach → metres of anyone's tracks within buffer_m of it


def _walked(net: _Network, tracks: gpd.GeoDataFrame, buffer_m: float) -> _Walked:
    """Geodesic metres walked per track, and per reach the stretches of the tracks inside the
    reach's patrol buffer (its lines buffered by ``buffer_m``, dissolved per reach)."""
    track_m = length_m(tracks.geometry, method="ellipsoidal") if len(tracks) else np.zeros(0)
    reaches = list(pd.unique(net.keys))
    if not len(tracks) or not reaches or buffer_m <= 0:
        return _Walked(track_m, pd.Series(0.0, index=pd.Index(reaches, dtype=object)))
    line_buffers = shapely.buffer(net.geoms, buffer_m, quad_segs=QUAD_SEGS)
    zones = np.array([shapely.union_all(line_buffers[net.keys == r]) for r in reaches], dtype=object)
    ti, zi = shapely.STRtree(zones).query(tracks.geometry.to_numpy(), predicate="intersects")
    inside = shapely.intersection(tracks.geometry.to_numpy()[ti], zones[zi])
    metres = length_m(gpd.GeoSeries(inside, crs=tracks.crs), method="ellipsoidal") if len(inside) else np.zeros(0)
    reach_m = pd.Series(metres).groupby(np.asarray(reaches, dtype=object)[zi]).sum()
    return _Walked(track_m, reach_m.reindex(pd.Index(reaches, dtype=object), fill_value=0.0))


def _by_method(covered: pd.Series, scale: np.ndarray) -> pd.Series:
    """Planar covered metres per (…, line) → metres by the method, summed over the lines."""
    lines_of = covered.index.get_level_values("line")
    values = covered.to_numpy() * scale[lines_of]
    rest = [n for n in covered.index.names if n != "line"]
    out = pd.Series(values, index=covered.index)
    return out.groupby(level=rest).sum() if rest else pd.Series(values, index=lines_of)


def _reach_table(net: _Network, passes: _Passes, walked: _Walked) -> pd.DataFrame:
    """Per reach over the period: patrolled km and share by anyone's tracks, the tracks
    that patrolled it, the km of track walked beside it and the last patrol date."""
    everyone = _by_method(_union_length(passes.iv, ["line"]), net.scale).reindex(
        pd.RangeIndex(len(net.keys)), fill_value=0.0).to_numpy()
    per_line = pd.DataFrame({"reach": net.keys, "length_m": net.length, "patrolled_m": everyone})
    reach_agg = per_line.groupby("reach", sort=False).sum()
    reach_tracks = passes.touch.groupby("reach")["track"].nunique()
    reach_last = passes.touch.groupby("reach")["date"].max()
    return pd.DataFrame({
        "reach": reach_agg.index.astype(str),
        "river_chief": net.chief_of_reach.reindex(reach_agg.index).to_numpy(),
        "length_km": from_m(reach_agg["length_m"].to_numpy(), "km"),
        "patrolled_km": from_m(reach_agg["patrolled_m"].to_numpy(), "km"),
        "coverage_pct": _pct(reach_agg["patrolled_m"].to_numpy(), reach_agg["length_m"].to_numpy()),
        "tracks": reach_tracks.reindex(reach_agg.index).fillna(0).astype(int).to_numpy(),
        "walked_km": from_m(walked.reach_m.reindex(reach_agg.index).fillna(0.0).to_numpy(dtype="float64"), "km"),
        "last_patrol": reach_last.reindex(reach_agg.index).to_numpy(),
    })


def _unpatrolled_findings(unpatrolled: pd.DataFrame, period: str, period_zh: str) -> list[Finding]:
    """One warning per reach no track patrolled in the period."""
    return [PATROL_CHECKS.not_patrolled.finding("rivers", str(reach), km=km, chief=chief or "none",
                                                chief_zh=chief or "无", period=period, period_zh=period_zh)
            for reach, chief, km in unpatrolled.itertuples(index=False)]


def _length_per_chief(net: _Network) -> pd.Series:
    """Metres of river line each chief answers for."""
    return pd.Series(net.length).groupby(net.chief).sum() if len(net.line_chiefs) else pd.Series(dtype=float)


def _chief_monthly(net: _Network, tracks: gpd.GeoDataFrame, passes: _Passes, months: list[str],
                   walked: _Walked) -> pd.DataFrame:
    """Per chief and month: their own tracks, the km they walked, and the km and share of
    their reaches those tracks came near."""
    total_of = _length_per_chief(net)
    grid = pd.MultiIndex.from_product([net.line_chiefs, months], names=["chief", "month"])
    monthly_done = _by_method(_union_length(passes.own, ["chief", "month", "line"]), net.scale).reindex(
        grid, fill_value=0.0)
    monthly_tracks = tracks.groupby(["_chief", "_month"]).size().rename_axis(["chief", "month"]).reindex(
        grid, fill_value=0)
    monthly_walked = pd.Series(walked.track_m, index=tracks.index).groupby(
        [tracks["_chief"], tracks["_month"]]).sum().rename_axis(["chief", "month"]).reindex(grid, fill_value=0.0)
    totals = total_of.reindex(grid.get_level_values("chief")).to_numpy()
    return pd.DataFrame({
        "river_chief": grid.get_level_values("chief"), "month": grid.get_level_values("month"),
        "tracks": monthly_tracks.to_numpy().astype(int),
        "walked_km": from_m(monthly_walked.to_numpy(dtype="float64"), "km"), "length_km": from_m(totals, "km"),
        "patrolled_km": from_m(monthly_done.to_numpy(), "km"), "coverage_pct": _pct(monthly_done.to_numpy(), totals),
    })


def _chief_period(net: _Network, tracks: gpd.GeoDataFrame, passes: _Passes, patrol_monthly: pd.DataFrame,
                  min_coverage_pct: float, walked: _Walked) -> pd.DataFrame:
    """Per chief over the period: reaches, length, own tracks, the km they walked, the share
    their tracks came near, the mean of their monthly shares, the months below the minimum
    and the last patrol date (in the order of the chiefs' names)."""
    line_chiefs = net.line_chiefs
    total_of = _length_per_chief(net)
    period_done = _by_method(_union_length(passes.own, ["chief", "line"]), net.scale).reindex(
        line_chiefs, fill_value=0.0)
    stats = patrol_monthly.assign(below=patrol_monthly["coverage_pct"] < min_coverage_pct).groupby(
        "river_chief").agg(mean=("coverage_pct", "mean"), below=("below", "sum"))
    stats = stats.reindex(line_chiefs).fillna({"mean": 0.0, "below": 0})
    mine = tracks[tracks["_chief"].notna()].groupby("_chief")["_date"].agg(["size", "max"]).reindex(line_chiefs)
    level_of = net.attrs.dropna(subset=["chief"]).groupby("chief")["chief_level"].first()
    reaches_of = pd.Series(net.keys).groupby(net.chief).nunique() if len(line_chiefs) else pd.Series(dtype=int)
    chief_total = total_of.reindex(line_chiefs).to_numpy()
    chief_walked = pd.Series(walked.track_m, index=tracks.index).groupby(tracks["_chief"]).sum().reindex(
        line_chiefs, fill_value=0.0)
    return pd.DataFrame({
        "river_chief": line_chiefs,
        "chief_level": level_of.reindex(line_chiefs).to_numpy(),
        "reaches": reaches_of.reindex(line_chiefs).fillna(0).astype(int).to_numpy(),
        "length_km": from_m(chief_total, "km"),
        "tracks": mine["size"].fillna(0).astype(int).to_numpy(),
        "walked_km": from_m(chief_walked.to_numpy(dtype="float64"), "km"),
        "patrolled_km": from_m(period_done.to_numpy(), "km"),
        "coverage_pct": _pct(period_done.to_numpy(), chief_total),
        "mean_monthly_pct": stats["mean"].to_numpy(dtype="float64"),
        "months_below": stats["below"].astype(int).to_numpy(),
        "last_patrol": mine["max"].to_numpy(),
    })


def _coverage_findings(patrol_chiefs: pd.DataFrame, min_coverage_pct: float, n_months: int, period: str,
                       period_zh: str) -> list[Finding]:
    """One warning per chief whose mean monthly coverage is below the minimum."""
    findings = []
    for chief, mean, below in zip(patrol_chiefs["river_chief"], patrol_chiefs["mean_monthly_pct"],
                                  patrol_chiefs["months_below"], strict=True):
        if mean < min_coverage_pct:
            findings.append(PATROL_CHECKS.coverage_below_minimum.finding(
                "patrols", chief, mean=mean, minimum=min_coverage_pct, below=below, months=n_months, period=period,
                period_zh=period_zh))
    return findings


def _reach_monthly(net: _Network, tracks: gpd.GeoDataFrame, passes: _Passes, months: list[str]) -> pd.DataFrame:
    """Per reach and month: its chief's own tracks (as the chief's monthly coverage counts
    them) and the share anyone's tracks came near."""
    keys = net.keys
    reach_grid = pd.MultiIndex.from_product([list(pd.unique(keys)), months], names=["reach", "month"])

    def per_reach_month(covered: pd.Series) -> np.ndarray:
        """Planar covered metres per (month, line) → metres by `method` per (reach, month)."""
        lines_of = covered.index.get_level_values("line").to_numpy(dtype=int)
        frame = pd.DataFrame({"reach": keys[lines_of], "month": covered.index.get_level_values("month"),
                              "m": covered.to_numpy() * net.scale[lines_of]})
        return frame.groupby(["reach", "month"])["m"].sum().reindex(reach_grid, fill_value=0.0).to_numpy()

    track_chief = tracks["_chief"].to_numpy(dtype=object)
    track_month = tracks["_month"].to_numpy(dtype=object)
    touch = passes.touch
    reach_total = pd.Series(net.length).groupby(keys).sum().reindex(reach_grid.get_level_values("reach")).to_numpy()
    walker = track_chief[touch["track"].to_numpy()]
    own_touch = touch[pd.notna(walker) & (walker == net.chief_of_reach.reindex(touch["reach"]).to_numpy())]
    own_tracks = (own_touch.assign(month=track_month[own_touch["track"].to_numpy()])
                  .groupby(["reach", "month"])["track"].nunique().reindex(reach_grid, fill_value=0))
    by_chief_m = per_reach_month(_union_length(passes.own, ["month", "line"]))
    by_anyone_m = per_reach_month(_union_length(passes.iv, ["month", "line"]))
    return pd.DataFrame({
        "reach": reach_grid.get_level_values("reach").astype(str),
        "river_chief": net.chief_of_reach.reindex(reach_grid.get_level_values("reach")).to_numpy(),
        "month": reach_grid.get_level_values("month"),
        "length_km": from_m(reach_total, "km"),
        "tracks": own_tracks.to_numpy().astype(int),
        "patrolled_km": from_m(by_chief_m, "km"),
        "coverage_pct": _pct(by_chief_m, reach_total),
        "anyone_pct": _pct(by_anyone_m, reach_total),
    })


def _patrolled_split(net: _Network, passes: _Passes, crs) -> gpd.GeoDataFrame:
    """The river split into patrolled and unpatrolled stretches (``status``), for the map."""
    done = np.array([shapely.from_wkt("LINESTRING EMPTY")] * len(net.geoms), dtype=object)
    if len(passes.li):
        merged = pd.Series(passes.pieces).groupby(passes.li).agg(lambda g: shapely.union_all(g.to_numpy()))
        done[merged.index.to_numpy()] = merged.to_numpy()
    todo = shapely.difference(net.geoms, done)
    keys = net.keys
    split = gpd.GeoDataFrame({
        "reach": np.concatenate([keys, keys]),
        "river_chief": np.concatenate([net.chief, net.chief]),
        "status": ["patrolled"] * len(keys) + ["unpatrolled"] * len(keys),
    }, geometry=np.concatenate([done, todo]), crs=crs)
    return split[~shapely.is_empty(split.geometry.to_numpy())].reset_index(drop=True)


# --------------------------------------------------------------------------- geometry


def _followed(track_geoms: np.ndarray, line_geoms: np.ndarray, buffer_m: float) -> pd.DataFrame:
    """How far each track runs beside each river line: the track is cut into steps of at
    most ``buffer_m / 2``, each vertex goes to its nearest line within ``buffer_m``, and a
    step whose two ends go to the same line counts for it. Columns ``track``, ``line``, ``m``."""
    parts, part_of = shapely.get_parts(track_geoms, return_index=True)
    dense = shapely.segmentize(parts, max(buffer_m / 2.0, 1.0))
    coords, vertex_part = shapely.get_coordinates(dense, return_index=True)
    nearest = np.full(len(coords), -1)
    if len(coords) and len(line_geoms):
        # the tree holds the rivers' single segments: tight boxes and two-vertex distances
        lparts, lpart_of = shapely.get_parts(line_geoms, return_index=True)
        lc, lv = shapely.get_coordinates(lparts, return_index=True)
        same_part = lv[1:] == lv[:-1]
        segments = shapely.linestrings(np.stack([lc[:-1][same_part], lc[1:][same_part]], axis=1))
        segment_line = lpart_of[lv[:-1][same_part]]
        pi, sj = shapely.STRtree(segments).query_nearest(shapely.points(coords), max_distance=max(buffer_m, 1e-9),
                                                         all_matches=False)
        nearest[pi] = segment_line[sj]
    same = (vertex_part[1:] == vertex_part[:-1]) & (nearest[1:] == nearest[:-1]) & (nearest[1:] >= 0)
    step = np.hypot(*(coords[1:] - coords[:-1]).T)
    return (pd.DataFrame({"track": part_of[vertex_part[:-1][same]], "line": nearest[:-1][same], "m": step[same]})
            .groupby(["track", "line"], as_index=False)["m"].sum())


def _intervals(line_geoms: np.ndarray, pieces: np.ndarray, li: np.ndarray, ti: np.ndarray) -> pd.DataFrame:
    """Each stretch of line ``li[k]`` inside track buffer ``ti[k]`` (``pieces[k]``) as an
    interval ``s``–``e`` of planar distance along the line (its linear reference)."""
    parts, which = shapely.get_parts(pieces, return_index=True)
    lines = shapely.get_type_id(parts) == 1
    parts, which = parts[lines], which[lines]
    host = line_geoms[li[which]]
    a = shapely.line_locate_point(host, shapely.get_point(parts, 0))
    b = shapely.line_locate_point(host, shapely.get_point(parts, -1))
    return pd.DataFrame({"line": li[which], "track": ti[which], "s": np.minimum(a, b), "e": np.maximum(a, b)})


def _union_length(iv: pd.DataFrame, by: list[str]) -> pd.Series:
    """Length of the union of the intervals ``s``–``e`` per group of ``by`` (overlapping
    patrols of the same stretch count once), vectorised: sort, then start a new run where
    an interval begins after every earlier one in its group has ended."""
    if iv.empty:
        return pd.Series([], index=pd.MultiIndex.from_arrays([[]] * len(by), names=by), dtype="float64")
    d = iv.sort_values([*by, "s"], kind="stable").reset_index(drop=True)
    keys = [d[c] for c in by]
    reach_end = d.groupby(keys, sort=False)["e"].cummax()
    before = reach_end.groupby(keys, sort=False).shift()
    run = (before.isna() | (d["s"] > before)).cumsum()
    runs = d.assign(_run=run).groupby("_run").agg(**{c: (c, "first") for c in by}, s=("s", "min"), e=("e", "max"))
    return (runs["e"] - runs["s"]).groupby([runs[c] for c in by]).sum()


def _pct(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(whole > 0, 100.0 * np.asarray(part) / np.where(whole > 0, whole, 1.0), 0.0)
    return np.minimum(out, 100.0)
