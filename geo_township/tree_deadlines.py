"""Pine-wilt trees against a deadline: the trees found by the season's cut-off and not
cleared by the deadline (the list for field crews, with its counts per village or plot),
the plots where trees still stand after a deadline (动态清零 not reached), and the list
written as points (GeoPackage, GeoJSON, CSV or KML)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_township.errors import UsageError
from geo_township.labels import Text
from geo_township.layers import Township
from geo_township.results import Finding, Result
from geo_township.tree_checks import TREE_CHECKS
from geo_township.tree_events import (
    done_by,
    due_dates,
    event_dates,
    found_by,
    season_bounds,
    season_of,
    season_params,
    status_rank,
)
from geo_township.tree_places import (
    BOUNDARY_RULE,
    BOUNDARY_RULE_ZH,
    OUTSIDE,
    RECORD_RULE,
    RECORD_RULE_ZH,
    TOTAL,
    locate_trees,
    row_keys,
    village_listing,
)

LIST_SUFFIXES = (".gpkg", ".csv", ".kml", ".geojson")
DEADLINE_COLUMNS = ["not_cleared_by_deadline", "outstanding", "standing", "felled_not_cleared", "cleared_late"]
"""The count columns of :func:`overdue_trees`, in order."""


def deadline_cutoff(township: Township, deadline: dt.date, season: int | None = None) -> dt.date:
    """The last find date a deadline answers for: the end of ``season`` when given, else
    the end of the clearing season that started last on or before the deadline (trees
    found later belong to the next season), but never after the deadline itself."""
    bounds = season_params(township)
    year = season if season is not None else season_of(deadline, **bounds)
    return min(deadline, season_bounds(year, **bounds)[1])


def not_zeroed_findings(trees: pd.DataFrame, dates: dict[str, pd.Series], deadline: dt.date, *,
                        cutoff: dt.date | None = None) -> list[Finding]:
    """Plots with trees found by the cut-off (default: the deadline) and still standing at
    the deadline (动态清零 not reached)."""
    standing = found_by(dates, cutoff or deadline) & ~done_by(status_rank(trees), dates, "felled", deadline)
    frame = pd.DataFrame({"plot": trees["plot_id"].astype(object).where(trees["plot_id"].notna(), OUTSIDE),
                          "village": trees["village"], "standing": standing})
    per_plot = frame[frame["standing"]].groupby("plot", sort=True).agg(n=("standing", "size"),
                                                                      village=("village", "first"))
    findings = []
    for plot, row in per_plot.iterrows():
        village = row.village if pd.notna(row.village) else None
        in_plot = plot != OUTSIDE
        where = ("in plot " + str(plot) if in_plot else "in no plot") + (
            f", village {village}" if village is not None else ", in no village")
        where_zh = (f"小班 {plot}" if in_plot else "不在任何小班") + (
            f"，{village}" if village is not None else "，不在任何村")
        findings.append(TREE_CHECKS.not_zeroed.finding("forest_plots", str(plot) if in_plot else "-", n=row.n,
                                                       deadline=deadline.isoformat(), where=where,
                                                       where_zh=where_zh))
    return findings


@dataclass(frozen=True)
class DeadlineStates:
    """Per tree, against a deadline and an as-of date: found by the cut-off and not
    cleared by the deadline (``late``), still not cleared on the as-of date
    (``outstanding``), cleared after the deadline by the as-of date (``cleared_late``), and
    its state on the as-of date (``standing``, ``felled_not_cleared`` or ``cleared_late``)."""

    late: np.ndarray
    outstanding: np.ndarray
    cleared_late: np.ndarray
    state: np.ndarray


def deadline_states(trees: pd.DataFrame, dates: dict[str, pd.Series], *, cutoff: dt.date, deadline: dt.date,
                    as_of: dt.date) -> DeadlineStates:
    """Where each tree stands against ``deadline`` (see :class:`DeadlineStates`)."""
    rank = status_rank(trees)
    late = found_by(dates, cutoff) & ~done_by(rank, dates, "cleared", deadline)
    cleared_now = done_by(rank, dates, "cleared", as_of)
    cleared_late = late & cleared_now
    state = np.where(cleared_late, "cleared_late",
                     np.where(done_by(rank, dates, "felled", as_of), "felled_not_cleared", "standing"))
    return DeadlineStates(late, late & ~cleared_now, cleared_late, state)


def _listing(township: Township, trees: gpd.GeoDataFrame, dates: dict[str, pd.Series], states: DeadlineStates, *,
             deadline: dt.date, as_of: dt.date, include_late: bool) -> gpd.GeoDataFrame:
    """The listed trees as points, most overdue first, with lon/lat (EPSG:4326) and days
    overdue: from the tree's own due date (:func:`~geo_township.tree_events.due_dates`, at
    the latest the deadline) to ``as_of``, or to the clearing date of a tree cleared late."""
    listed = states.late if include_late else states.outstanding
    sel = trees[listed]
    sel_dates = {k: v[listed] for k, v in dates.items()}
    sel_state = states.state[listed]
    stop = pd.Series(pd.Timestamp(as_of), index=sel.index)
    stop = stop.where(sel_state != "cleared_late", sel_dates["cleared"])
    due = due_dates(sel_dates["found"], latest=deadline, **season_params(township))
    days = (stop - due).dt.days
    ll = sel.geometry.to_crs(4326)
    listing = gpd.GeoDataFrame({
        "tree_id": township.layer("infected_trees").ids()[listed].to_numpy(),
        "state": sel_state,
        "status": sel["status"].to_numpy(),
        "village": sel["village"].to_numpy(),
        "plot_id": sel["plot_id"].to_numpy(),
        "found_date": sel_dates["found"].to_numpy(),
        "felled_date": sel_dates["felled"].to_numpy(),
        "cleared_date": sel_dates["cleared"].to_numpy(),
        "days_overdue": days.astype("Int64").to_numpy(),
        "lon": ll.x.round(7).to_numpy(),
        "lat": ll.y.round(7).to_numpy(),
    }, geometry=sel.geometry.to_numpy(), crs=trees.crs)
    if not include_late:
        listing = listing.drop(columns="cleared_date")
    listing = listing.sort_values(["days_overdue", "found_date", "tree_id"], ascending=[False, True, True],
                                  kind="stable", na_position="last")
    return listing.reset_index(drop=True)


def _deadline_table(township: Township, trees: gpd.GeoDataFrame, states: DeadlineStates, by: str) -> pd.DataFrame:
    """The counts of :data:`DEADLINE_COLUMNS` per village (in the village order) or per
    plot (text order, the trees outside every plot last), with a Total row."""
    key = "village" if by == "village" else "plot_id"
    group = row_keys(trees[key])
    outstanding, state = states.outstanding, states.state
    frame = pd.DataFrame({key: group.to_numpy(), "not_cleared_by_deadline": states.late, "outstanding": outstanding,
                          "standing": outstanding & (state == "standing"),
                          "felled_not_cleared": outstanding & (state == "felled_not_cleared"),
                          "cleared_late": states.cleared_late})
    columns = DEADLINE_COLUMNS
    frame[columns] = frame[columns].astype(int)
    frame = frame[states.late]
    counts = frame.groupby(key, sort=False)[columns].sum()
    if by == "village":
        order = [v for v in village_listing(township, group) if v != OUTSIDE or (frame[key] == OUTSIDE).any()]
        counts = counts.reindex(order, fill_value=0)
    else:
        counts = counts.sort_index()
        if OUTSIDE in counts.index:
            counts = pd.concat([counts.drop(index=OUTSIDE), counts.loc[[OUTSIDE]]])
    table = counts.reset_index().rename(columns={"index": key})
    total = {key: TOTAL, **{c: int(frame[c].sum()) for c in columns}}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)[[key, *columns]]


def _deadline_notes(cutoff: dt.date, deadline: dt.date, as_of: dt.date, include_late: bool) -> list[str]:
    """What the list and each column of :func:`overdue_trees` are judged on (each note a
    :class:`~geo_township.labels.Text`: English with its Chinese twin)."""
    d, a, c = deadline.isoformat(), as_of.isoformat(), cutoff.isoformat()
    listed = (Text(f"the list holds the trees still outstanding on {a}", f"清单列出截至 {a} 仍未清理的疫木")
              if not include_late else
              Text(f"the list holds the trees still outstanding on {a} and, flagged 'cleared late' in its state "
                   f"column, those cleared between {d} and {a}",
                   f"清单列出截至 {a} 仍未清理的疫木，以及在 {d} 至 {a} 之间清理、在状态栏标为“逾期清理”的疫木"))
    notes: list[str] = [
        Text(f"trees found up to {c} (the season's cut-off) and not cleared by the deadline {d}",
             f"统计 {c}（除治季截止日）前发现、到期限 {d} 仍未清理的疫木"),
        Text(f"'not cleared by {d}' is judged on the deadline; 'outstanding', 'standing', 'felled, not cleared' and "
             f"'cleared late' on {a} (the as-of date: --as-of, else data_date in township.toml)",
             f"“截至{d}未清理”按期限判断；“仍未清理”“未伐”“已伐未清理”“逾期清理”按 {a}（判断日期："
             "--as-of，否则为 township.toml 的 data_date）判断"),
        Text(f"{listed}; days overdue run from each tree's own due date (the end of the clearing season it was "
             f"found in, at the latest the deadline {d}) to {a}"
             + (", or to the clearing date" if include_late else ""),
             f"{listed.zh}；超期天数从每株疫木自己的到期日（它被发现的那个除治季的截止日，最晚为期限 {d}）"
             f"算到 {a}" + ("，已清理的算到清理日期" if include_late else "")),
    ]
    if as_of < deadline:
        notes.append(Text(f"the deadline {d} is after the as-of date {a}: the list shows what is still to clear, "
                          "and a negative 'days overdue' counts the days left",
                          f"期限 {d} 晚于判断日期 {a}：清单列出仍需清理的疫木，超期天数为负数表示还剩的天数"))
    notes.append(Text(f"boundary rule: {BOUNDARY_RULE}", f"边界规则：{BOUNDARY_RULE_ZH}"))
    return notes


def _deadline_labels(deadline: dt.date, as_of: dt.date) -> dict[str, tuple[str, str]]:
    """Column headings of :func:`overdue_trees`, each naming its reference date."""
    d, a = deadline.isoformat(), as_of.isoformat()
    return {"not_cleared_by_deadline": (f"Not cleared by {d}", f"截至{d}未清理(株)"),
            "outstanding": (f"Outstanding on {a}", f"截至{a}仍未清理(株)"),
            "standing": (f"Standing on {a}", f"截至{a}未伐(株)"),
            "felled_not_cleared": (f"Felled, not cleared, on {a}", f"截至{a}已伐未清理(株)"),
            "cleared_late": (f"Cleared {d} – {a}", f"逾期清理(截至{a})(株)"),
            "state": (f"State on {a}", f"截至{a}状态")}


def overdue_trees(township: Township, *, deadline: dt.date, season: int | None = None,
                  as_of: dt.date | None = None, by: str = "village", include_late: bool = False) -> Result:
    """Trees found by the season's cut-off and not cleared by ``deadline``, for the field
    crews.

    Each column has one reference date (stated in its heading and the notes):
    ``not_cleared_by_deadline`` is judged on the deadline; ``outstanding`` (still not
    cleared), split into ``standing`` (not felled) and ``felled_not_cleared``, and
    ``cleared_late`` (cleared after the deadline) are judged on ``as_of`` — the township's
    data date, else today — so ``not_cleared_by_deadline = outstanding + cleared_late`` and
    ``outstanding = standing + felled_not_cleared``. ``tables["overdue_trees"]`` lists the
    outstanding trees (with ``include_late`` also those cleared late, flagged in
    ``state``) with lon/lat (EPSG:4326), plot, village and days overdue (from the tree's
    own due date — the end of the clearing season it was found in, at the latest the
    deadline — to ``as_of``, or to the clearing date for a tree cleared late; negative:
    days left when that due date is after ``as_of``); ``features["overdue_trees"]`` holds the same
    points for a GeoPackage/KML.
    """
    if by not in ("village", "plot"):
        raise UsageError(f"cannot count trees by {by!r}", hint="use --by village or --by plot")
    as_of = as_of or township.config.data_date or dt.date.today()
    cutoff = deadline_cutoff(township, deadline, season)
    trees, findings = locate_trees(township)
    dates = event_dates(trees)
    states = deadline_states(trees, dates, cutoff=cutoff, deadline=deadline, as_of=as_of)
    listing = _listing(township, trees, dates, states, deadline=deadline, as_of=as_of, include_late=include_late)
    table = _deadline_table(township, trees, states, by)
    if as_of > deadline:
        findings += not_zeroed_findings(trees, dates, deadline, cutoff=cutoff)
    d, a = deadline.isoformat(), as_of.isoformat()
    prov = township.provenance(analysis="trees-deadline", deadline=d, cutoff=cutoff.isoformat(), as_of=a,
                               include_late=include_late, boundary_rule=Text(BOUNDARY_RULE, BOUNDARY_RULE_ZH),
                               record_rule=Text(RECORD_RULE, RECORD_RULE_ZH))
    title = f"Trees not cleared by {d} — {township.config.display_name()}"
    return Result(title, table, title_zh=f"{township.config.name}截至 {d} 未清理疫木",
                  tables={"overdue_trees": pd.DataFrame(listing.drop(columns="geometry"))},
                  features={"overdue_trees": listing}, findings=findings,
                  notes=_deadline_notes(cutoff, deadline, as_of, include_late), provenance=prov,
                  vocab={"status": "tree_status", "state": "overdue_state"}, decimals={"lon": 6, "lat": 6},
                  labels=_deadline_labels(deadline, as_of))


def write_tree_list(result: Result, path: Any, *, lang: str = "en") -> None:
    """Write the trees of :func:`overdue_trees` as points for field crews, atomically:
    GeoPackage (layer ``overdue_trees``), GeoJSON, CSV (lon/lat, UTF-8 with BOM) or KML —
    each placemark named after its tree id with its state, village, plot and days overdue
    as description, in a document and folder named after the list, not the file."""
    from pathlib import Path

    from geo_township.export import export_features

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in LIST_SUFFIXES:
        raise UsageError(f"cannot write the tree list as {path.suffix or 'a file without suffix'}",
                         hint="use a .gpkg, .csv, .kml or .geojson file name")
    gdf = result.features["overdue_trees"]
    if suffix == ".csv":  # lon/lat put first by the exporter, from the points themselves
        from geo_township.kinds import KINDS

        export_features(_coded_as_words(gdf, lang).drop(columns=["lon", "lat"]), path, name="overdue_trees",
                        fmt="csv", kind=KINDS["infected_trees"], lang=lang)
        return
    if suffix != ".kml":  # GeoPackage or GeoJSON: every field as the list has it
        export_features(gdf, path, name="overdue_trees")
        return
    out = _kml_frame(gdf, lang)
    zh = lang == "zh"
    export_features(out.drop(columns=["name", "description"]), path, name=result.title_in(lang), fmt="kml",
                    lang=lang, names=out["name"], descriptions=out["description"],
                    folder="逾期未清理疫木" if zh else "Trees not cleared by the deadline")


def _coded_as_words(gdf: gpd.GeoDataFrame, lang: str) -> gpd.GeoDataFrame:
    """The list with its state codes as words and the outside row named in ``lang`` ('en'
    keeps the codes, which other programs read); the exporter words the kind's own fields."""
    if lang != "zh":
        return gdf
    from geo_township.results import OUTSIDE_LABEL
    from geo_township.vocabulary import VOCABULARIES

    out = gdf.copy()
    if "state" in out.columns:
        words = VOCABULARIES["overdue_state"]
        out["state"] = out["state"].map(lambda c: words.label(c, "zh") if isinstance(c, str) else c)
    if "village" in out.columns:
        out["village"] = out["village"].replace({OUTSIDE: OUTSIDE_LABEL["zh"]})
    return out


def _kml_frame(gdf: gpd.GeoDataFrame, lang: str) -> gpd.GeoDataFrame:
    """The list in EPSG:4326 with a placemark ``name`` (the tree id) and ``description``
    (state, township for a county's list, village, plot, find date, days overdue) in
    ``lang``, dates as text."""
    from geo_township.vocabulary import VOCABULARIES

    out = gdf.to_crs(4326)
    state = VOCABULARIES["overdue_state"]
    zh = lang == "zh"

    def part(values: pd.Series, en: str, zh_: str) -> pd.Series:
        text = values.astype(object).where(values.notna(), None)
        return text.map(lambda v: "" if v is None or str(v) == "" else (zh_ if zh else en).format(v))

    township = out["township"] if "township" in out.columns else pd.Series(None, index=out.index, dtype=object)
    pieces = [out["state"].map(lambda c: state.label(c, lang)), part(township, "{}", "{}"),
              part(out["village"], "village {}", "村 {}"), part(out["plot_id"], "plot {}", "小班 {}"),
              part(out["found_date"].dt.strftime("%Y-%m-%d"), "found {}", "发现 {}"),
              part(out["days_overdue"], "{} days overdue", "超期 {} 天")]
    unit = "\x1f"  # joins the pieces, then the empty ones are squeezed out
    describe = (pieces[0].str.cat(pieces[1:], sep=unit).str.replace(f"{unit}+", unit, regex=True).str.strip(unit)
                .str.replace(unit, "；" if zh else "; ", regex=False))
    for col in ("found_date", "felled_date", "cleared_date"):
        if col in out.columns:
            out[col] = out[col].dt.strftime("%Y-%m-%d").where(out[col].notna(), None)
    out.insert(0, "description", describe)
    out.insert(0, "name", out["tree_id"].astype(str))
    out["days_overdue"] = out["days_overdue"].astype("float64")
    return out
