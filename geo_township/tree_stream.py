"""Pine-wilt trees counted from a layer too big for memory: the trees are read in chunks
(:mod:`geo_township.io.chunks`: Arrow batches from GeoParquet or GeoPackage), each chunk
is settled and flagged exactly as the whole layer would be (:func:`geo_township.trees.
tally_trees` on the township with that chunk as its trees layer, so the one location rule
of :mod:`geo_township.locate` places every tree), and only small state is kept:

* **per plot and village** (one row per pair met): the count columns summed, the number of
  trees, the first find and the last clearing counted — all that the village table, the
  ledger (台账), its villages by the trees' records and the clearance target need. Rows
  keep the order in which their first tree comes, as the in-memory tally does;
* **per forest plot**: infected (an infected tree's plot) and pine at risk (a pine plot
  within ``risk_radius_m`` of an infected tree; each chunk searches only the pine plots
  not yet known to be at risk);
* **the hotspots' trees**: only the latest season's finds (or the period's), kept as the
  chunks go and dropped when a later find moves the season on;
* **findings**: the first of each kind up to the cap, and how many more;
* **with a deadline**: the plot and village of each tree still standing then.

Each chunk is counted (:class:`_Counter`) on a worker process, one per core
(:mod:`geo_township.parallel`: forked, so the plots and villages are shared, not copied);
what it adds (:class:`_Part`: small tables and arrays) is folded into the state here in the
layer's order, so the Result does not depend on how many workers counted it.

The Result is built by :func:`geo_township.trees.count_result`, as the in-memory path's
is, so tables, numbers, findings and notes are the same (tests compare every one).

When: :func:`should_stream` — the trees layer's row count (from its metadata: GeoParquet,
GeoPackage, FlatGeobuf) exceeds ``stream_rows`` (default :data:`STREAM_ROWS`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.config import LayerSpec
from geo_township.engine import LOCAL, Engine
from geo_township.errors import UsageError
from geo_township.hotspots import hotspots_at, infections_among
from geo_township.io.chunks import Chunk, chunks, row_count
from geo_township.io.memory import release_freed_memory
from geo_township.kinds import KINDS
from geo_township.layerfile import layer_from_raw
from geo_township.layers import Township
from geo_township.locate import reusing_polygons
from geo_township.parallel import default_workers, ordered_map
from geo_township.results import CHECKS, MORE_FEATURE, Finding, Result
from geo_township.tree_deadlines import not_zeroed_findings
from geo_township.tree_events import (
    COUNT_COLUMNS,
    Period,
    done_by,
    found_by,
    make_period,
    season_bounds,
    season_of,
    season_params,
    status_rank,
)
from geo_township.tree_places import MAX_FINDINGS
from geo_township.tree_plots import (
    INFECTED_COLUMNS,
    TREES_PER_ROW,
    distinct_text,
    first_and_last,
    infected_table,
    pine_at_risk,
    plot_table,
    plots_hit,
)
from geo_township.trees import TreeTally, count_result, tally_trees

log = logging.getLogger(__name__)

STREAM_ROWS = 2_000_000
"""Trees layers with more rows than this (by their metadata) are counted in chunks."""
CHUNK_ROWS = 250_000
"""Rows per chunk. Each worker holds one chunk's working memory (about 0.3 GiB at this size
beside the plots it shares): 10M trees in 100,000 plots counted on two workers peak at about
1.7 GiB for the whole command; 500,000 a chunk was 2.5 GiB for 10% less CPU."""
_FIRST, _LAST = "_first_found", "_last_cleared"  # a pair's first find and last clearing counted
_NONE = "\x00none"  # a missing plot or village while grouping (groupby keeps it in its place)
_FINDING_ORDER = ("plot_id_mismatch", "village_mismatch", "outside_plots", "outside_villages")
_COUNTED_NOTE = re.compile(r"^(\d+) (.*)$", re.S)


def should_stream(township: Township, *, stream_rows: int = STREAM_ROWS) -> bool:
    """Whether the trees layer is big enough (by its metadata) to be counted in chunks."""
    spec = township.config.layers.get("infected_trees")
    if spec is None or not spec.path.exists():
        return False
    n = row_count(spec.path, spec.layer)
    return n is not None and n > stream_rows


@dataclass
class _State:
    """What is kept across chunks."""

    pairs: list[pd.DataFrame] = field(default_factory=list)
    findings: dict[tuple[str, str], list[Finding]] = field(default_factory=dict)
    more: dict[tuple[str, str], int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)
    plain_notes: list[str] = field(default_factory=list)
    infected: np.ndarray | None = None
    near: np.ndarray | None = None
    hot: list[pd.DataFrame] = field(default_factory=list)
    latest: pd.Timestamp | None = None
    standing: list[pd.DataFrame] = field(default_factory=list)
    rows: int = 0
    left_out: int = 0
    cohort: object = None


def _pairs(tally: TreeTally) -> pd.DataFrame:
    """The chunk's counts per (plot, village) pair, in order of first appearance (what
    :func:`_regroup` gives for one row per tree, made with codes and ``bincount``: a chunk
    of 500,000 trees in a few hundredths of a second instead of a grouping of objects)."""
    trees, flags, dates = tally.trees, tally.flags, tally.dates
    plot_codes, plots = pd.factorize(trees["plot_id"].astype(object).where(trees["plot_id"].notna(), _NONE)
                                     .to_numpy())
    village_codes, villages = pd.factorize(trees["village"].astype(object).where(trees["village"].notna(), _NONE)
                                           .to_numpy())
    width = max(len(villages), 1)
    codes, pairs = pd.factorize(plot_codes.astype("int64") * width + village_codes)  # first appearance
    n = len(pairs)
    frame = pd.DataFrame({"plot_id": np.asarray(plots, dtype=object)[pairs // width],
                          "village": np.asarray(villages, dtype=object)[pairs % width]})
    for c in COUNT_COLUMNS:
        frame[c] = np.bincount(codes, weights=flags[c].to_numpy().astype("float64"), minlength=n).astype("int64")
    frame[TREES_PER_ROW] = np.bincount(codes, minlength=n).astype("int64")
    frame[_FIRST], frame[_LAST] = first_and_last(codes, n, flags, dates)
    return frame


def _regroup(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the same (plot, village) pair as one: counts summed, first find, last clearing."""
    how = {**{c: "sum" for c in COUNT_COLUMNS}, TREES_PER_ROW: "sum", _FIRST: "min", _LAST: "max"}
    return frame.groupby(["plot_id", "village"], sort=False).agg(how).reset_index()


def _keep_findings(state: _State, findings: list[Finding]) -> None:
    """Each kind of finding up to the cap, the rest counted (the per-kind 'and N more')."""
    for f in findings:
        key = (f.layer, f.check)
        if f.feature == MORE_FEATURE:
            state.more[key] = state.more.get(key, 0) + int(re.findall(r"\d+", f.message)[0])
            continue
        kept = state.findings.setdefault(key, [])
        if len(kept) < MAX_FINDINGS:
            kept.append(f)
        else:
            state.more[key] = state.more.get(key, 0) + 1


def _merged_findings(state: _State) -> list[Finding]:
    """The kept findings in the in-memory order of their kinds, each kind's 'more' last."""
    keys = list(dict.fromkeys([*state.findings, *state.more]))
    rank = {c: i for i, c in enumerate(_FINDING_ORDER)}
    keys.sort(key=lambda k: rank.get(k[1], len(rank)))
    out: list[Finding] = []
    for key in keys:
        kept = state.findings.get(key, [])
        out += kept
        extra = state.more.get(key, 0)
        if extra:
            layer, code = key
            out.append(CHECKS[code].more(layer, extra))
    return out


def _keep_notes(state: _State, notes: list[str]) -> None:
    """Notes that count trees ("12 tree(s) felled without a date …") added up across chunks."""
    for note in notes:
        m = _COUNTED_NOTE.match(note)
        if m:
            state.notes[m.group(2)] = state.notes.get(m.group(2), 0) + int(m.group(1))
        elif note not in state.plain_notes:
            state.plain_notes.append(note)


def _hot_candidates(tally: TreeTally, period: Period, bounds: dict[str, str]
                    ) -> tuple[pd.DataFrame, pd.Timestamp | None]:
    """The chunk's trees that may be the hotspots' new infections (see module docstring), as
    coordinates and find date only (no geometry objects, no text), and its latest find.
    Unbounded, those found before the season of the chunk's latest find are left out here
    already: a later chunk can only move the season on."""
    trees, found = tally.trees, tally.dates["found"]
    frame = pd.DataFrame({"found_date": found.to_numpy(),
                          "x": shapely.get_x(trees.geometry.to_numpy()), "y": shapely.get_y(trees.geometry.to_numpy())})
    if period.bounded:
        return frame[period.contains(found)], None
    if not found.notna().any():
        return frame, None
    latest = found.max()
    return frame[(frame["found_date"] >= _season_start(latest, bounds)).to_numpy()], latest


def _season_start(day: pd.Timestamp, bounds: dict[str, str]) -> pd.Timestamp:
    """The first day of the clearing season ``day`` falls in."""
    return pd.Timestamp(season_bounds(season_of(day.date(), **bounds), **bounds)[0])


def _keep_hot(state: _State, frame: pd.DataFrame, latest: pd.Timestamp | None, period: Period,
              bounds: dict[str, str]) -> None:
    """Fold a chunk's hotspot candidates in: only those of the latest season met so far."""
    if period.bounded:
        state.hot.append(frame)
        return
    if latest is not None:
        state.latest = latest if state.latest is None else max(state.latest, latest)
    if state.latest is None:  # no find date yet: every tree may count (hotspots of every tree)
        state.hot.append(frame)
        return
    start = _season_start(state.latest, bounds)
    state.hot = [h[(h["found_date"] >= start).to_numpy()] for h in state.hot] + [
        frame[(frame["found_date"] >= start).to_numpy()]]


@dataclass
class _Part:
    """What one chunk adds to the state, made where the chunk is counted (maybe another
    process: only small tables and arrays, no geometry)."""

    rows: int
    left_out: int
    cohort: object
    pairs: pd.DataFrame
    findings: list[Finding]
    notes: list[str]
    infected: np.ndarray | None = None  # forest plots with an infected tree, by position in the plots
    near: np.ndarray | None = None  # pine plots at risk, by position in the plots
    hot: pd.DataFrame | None = None
    latest: pd.Timestamp | None = None
    standing: pd.DataFrame | None = None


@dataclass
class _Counter:
    """Counts one chunk (:meth:`count`) the same way in whichever process it runs; ``known``
    (plots already infected or at risk in this process's chunks) spares the pine-at-risk
    search, each process keeping its own."""

    township: Township
    spec: LayerSpec
    plots: gpd.GeoDataFrame | None
    period: Period
    as_of: dt.date
    hotspots: bool
    deadline: dt.date | None
    radius: float
    bounds: dict[str, str]
    engine: Engine = LOCAL
    known: np.ndarray | None = None

    def count(self, chunk: Chunk) -> _Part | None:
        crs = self.township.working_crs
        raw = chunk.raw(points_as_xy=True)
        del chunk  # its Arrow rows, now decoded: not held while the trees are counted
        if len(raw.gdf) == 0:
            return None
        view = self.township.with_layer(layer_from_raw(raw, self.spec, self.township.config, crs=crs))
        layer = view.layer("infected_trees")
        left_out = len(layer.left_out) + (0 if layer.dropped is None else len(layer.dropped))
        tally = tally_trees(view, self.period, self.as_of, engine=self.engine)
        trees = tally.trees
        part = _Part(len(trees), left_out, tally.cohort, _pairs(tally), tally.findings, tally.notes)
        if self.plots is not None:
            hit = plots_hit(self.plots, _infected_ids(part.pairs, tally.period.bounded))
            part.infected = hit
            infected = (tally.flags["found"].to_numpy(dtype=bool) if tally.period.bounded
                        else np.ones(len(trees), bool))
            # an infected pine plot is at risk whatever the distance (``infected_table``): searched for by no chunk
            known = hit if self.known is None else self.known | hit
            part.near = pine_at_risk(self.plots, trees.geometry.to_numpy()[infected], self.radius, known=known)
            self.known = known | part.near
        if self.hotspots:
            part.hot, part.latest = _hot_candidates(tally, tally.period, self.bounds)
        if self.deadline is not None:
            standing = (found_by(tally.dates, self.deadline)
                        & ~done_by(status_rank(trees), tally.dates, "felled", self.deadline))
            part.standing = pd.DataFrame({"plot_id": trees["plot_id"].to_numpy(dtype=object)[standing],
                                          "village": trees["village"].to_numpy(dtype=object)[standing]})
        release_freed_memory()  # the chunk's text, WKB and Arrow buffers, before the next chunk
        return part


def _fold(state: _State, part: _Part, period: Period, bounds: dict[str, str]) -> None:
    """Fold one chunk's part into ``state``, chunks in the layer's order."""
    state.rows += part.rows
    state.left_out += part.left_out
    state.cohort = part.cohort
    state.pairs.append(part.pairs)
    if len(state.pairs) > 8:
        state.pairs = [_regroup(pd.concat(state.pairs, ignore_index=True))]
    _keep_findings(state, part.findings)
    _keep_notes(state, part.notes)
    if part.infected is not None:
        state.infected = part.infected if state.infected is None else state.infected | part.infected
    if part.near is not None:
        state.near = part.near if state.near is None else state.near | part.near
    if part.hot is not None:
        _keep_hot(state, part.hot, part.latest, period, bounds)
    if part.standing is not None:
        state.standing.append(part.standing)


def _infected_ids(pairs: pd.DataFrame, bounded: bool) -> np.ndarray:
    """The distinct plot ids (text) with an infected tree in a chunk, from its pairs: every
    tree's plot, or (a bounded period) those of the trees found in it — what
    :func:`~geo_township.tree_plots.infected_plot_ids` gives from the trees, from a few
    thousand pairs instead of every tree."""
    hit = pairs["plot_id"][(pairs["found"] > 0).to_numpy() if bounded else np.ones(len(pairs), dtype=bool)]
    return distinct_text(hit[hit != _NONE].to_numpy(dtype=object))


def _summary_tally(state: _State, period: Period) -> TreeTally:
    """A tally whose rows are the (plot, village) pairs, each standing for its trees."""
    pairs = (_regroup(pd.concat(state.pairs, ignore_index=True)) if state.pairs
             else pd.DataFrame(columns=["plot_id", "village", *COUNT_COLUMNS, TREES_PER_ROW, _FIRST, _LAST]))
    trees = gpd.GeoDataFrame({
        "plot_id": pairs["plot_id"].astype(object).where(pairs["plot_id"] != _NONE, None),
        "village": pairs["village"].astype(object).where(pairs["village"] != _NONE, None),
        TREES_PER_ROW: pairs[TREES_PER_ROW].astype("int64")})
    flags = pairs[list(COUNT_COLUMNS)].astype("int64")
    dates = {"found": pd.to_datetime(pairs[_FIRST]), "cleared": pd.to_datetime(pairs[_LAST])}
    notes = [f"{n} {rest}" for rest, n in state.notes.items()] + state.plain_notes
    return TreeTally(trees, _merged_findings(state), dates, flags, notes, period, state.cohort)  # type: ignore[arg-type]


def _side(state: _State, township: Township, plots: gpd.GeoDataFrame | None, period: Period, hotspots: bool
          ) -> tuple[dict[str, pd.DataFrame], dict[str, gpd.GeoDataFrame], str]:
    """The infected plots and hotspots from the state, as the in-memory path makes them."""
    if plots is None:
        infected = pd.DataFrame(columns=INFECTED_COLUMNS)
    else:
        is_infected = state.infected if state.infected is not None else np.zeros(len(plots), dtype=bool)
        near = state.near if state.near is not None else np.zeros(len(plots), dtype=bool)
        infected = infected_table(township, plots, is_infected, near)
    tables: dict[str, pd.DataFrame] = {"infected_plots": infected}
    features: dict[str, gpd.GeoDataFrame] = {}
    if not hotspots:
        return tables, features, ""
    params = township.config.parameters
    crs = township.working_crs
    hot = (pd.concat(state.hot, ignore_index=True) if state.hot else pd.DataFrame(
        {"found_date": pd.Series([], dtype="datetime64[ns]"), "x": [], "y": []}))
    chosen, note = infections_among(township, pd.to_datetime(hot["found_date"]), period)
    picked = hot[chosen]  # as coordinates: millions of point geometries would double the command's memory
    spots = hotspots_at(picked["x"].to_numpy(), picked["y"].to_numpy(), crs, plots=plots,
                        eps_m=params["hotspot_eps_m"], min_trees=params["hotspot_min_trees"])
    tables["hotspots"] = pd.DataFrame(spots.drop(columns=spots.geometry.name))
    features["hotspots"] = spots
    return tables, features, note


def _fold_chunks(state: _State, counter: _Counter, *, chunk_rows: int, total: int, workers: int | None,
                 progress: Callable[[int, int], None] | None) -> None:
    """Read the trees ``chunk_rows`` at a time, count each chunk (on ``workers`` processes)
    and fold it into ``state`` in the layer's order."""
    township, spec = counter.township, counter.spec
    read = chunks(spec.path, KINDS["infected_trees"], layer=spec.layer, encoding=spec.encoding,
                  explicit=spec.fields, box=township.prune_box("infected_trees"), chunk_rows=chunk_rows)
    for part in ordered_map(counter.count, read, workers=workers):
        if part is None:
            continue
        _fold(state, part, counter.period, counter.bounds)
        if progress is not None:
            progress(state.rows, max(total, state.rows))


def streamed_tree_counts(township: Township, *, by: str = "village", start: dt.date | None = None,
                         end: dt.date | None = None, season: int | None = None, deadline: dt.date | None = None,
                         as_of: dt.date | None = None, hotspots: bool = True, chunk_rows: int = CHUNK_ROWS,
                         workers: int | None = None, progress: Callable[[int, int], None] | None = None) -> Result:
    """:func:`geo_township.trees.tree_counts` with the trees read ``chunk_rows`` at a time:
    the same Result, in memory bounded by the chunks in flight, the plots and the hotspots'
    trees. The chunks are counted on ``workers`` processes (default: one per core, see
    :func:`geo_township.parallel.default_workers`). ``progress(rows done, rows in all)`` is
    called after each chunk."""
    if by not in ("village", "plot"):
        raise UsageError(f"cannot count trees by {by!r}", hint="use --by village or --by plot")
    if chunk_rows < 1:
        raise UsageError("a chunk needs at least one row", hint="give a chunk size of 100,000 or more")
    spec = township.config.layers.get("infected_trees")
    if spec is None:
        township.layer("infected_trees")  # raises the ordinary error: the township has no trees layer
        raise AssertionError("unreachable")
    period = make_period(township, start=start, end=end, season=season)
    as_of = as_of or township.config.data_date or dt.date.today()
    if deadline is None and season is not None:
        deadline = period.end
    late_deadline = deadline if deadline is not None and as_of > deadline else None
    plots = plot_table(township)  # the plots and villages are read before the trees, once
    township.optional("villages")
    radius = float(township.config.parameters["risk_radius_m"])
    bounds = season_params(township)
    total = row_count(spec.path, spec.layer) or 0
    state = _State()
    # chunks on several processes, or one process asked for: each locates its trees on one thread
    engine = Engine(threads=1) if (workers or default_workers()) > 1 or workers == 1 else LOCAL
    counter = _Counter(township, spec, plots, period, as_of, hotspots, late_deadline, radius, bounds, engine)
    with reusing_polygons():  # the plots' and villages' search trees are made once (per process), not per chunk
        _fold_chunks(state, counter, chunk_rows=chunk_rows, total=total, workers=workers, progress=progress)
    if state.cohort is None:
        township.layer("infected_trees")  # no chunk: the ordinary read says why (an empty layer)
    tally = _summary_tally(state, period)
    side = _side(state, township, plots, period, hotspots)
    late: list[Finding] = []
    if late_deadline is not None:
        standing = (pd.concat(state.standing, ignore_index=True) if state.standing
                    else pd.DataFrame({"plot_id": [], "village": []}, dtype=object))
        empty = pd.Series(pd.NaT, index=standing.index, dtype="datetime64[ns]")
        standing["status"] = "suspected"
        late = not_zeroed_findings(standing, {"found": empty, "felled": empty}, late_deadline)
    result = count_result(township, tally, plots, by=by, season=season, deadline=deadline, as_of=as_of,
                          side=side, late=late)
    result.provenance["streamed"] = {"chunk_rows": chunk_rows, "trees": state.rows, "rows_left_out": state.left_out}
    result.provenance["inputs"] = [*result.provenance.get("inputs", []), {
        "layer": "infected_trees", "file": str(spec.path), "source_layer": spec.layer, "features": state.rows,
        "rows_left_out": state.left_out}]
    if state.left_out:
        name = spec.path.name
        log.warning("%s: %d row(s) without usable coordinates or far outside the township left out of every count "
                    "(`geo-township check` lists them)", name, state.left_out,
                    extra={"zh": f"{name}：{state.left_out} 行没有可用坐标或远在乡镇范围之外，未计入任何统计"
                                 "（`geo-township check` 列出它们）"})
    return result
