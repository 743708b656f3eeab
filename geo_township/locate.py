"""Where a feature lies: the one rule for point → plot, point → village, polygon → village,
and the one order in which villages are listed. Every analysis and the map use it, so a
village's numbers are the same wherever they are shown.

Rules (:data:`EDGE_RULE`, :data:`RECORD_RULE`; also in each Result's provenance):

* **Covering.** A point lies in a polygon when the closed polygon covers it (its edge
  included). A line or polygon lies where a point inside it lies
  (:func:`shapely.point_on_surface` for polygons, the first vertex's side does not matter).
* **Shared edges.** A point on the edge shared by several polygons goes to the first of
  them in the layer's listing order: plots by plot_id in text order, villages in the
  village order below. A preferred polygon that also covers the point wins: a tree on a
  village border goes with its plot's village.
* **Records.** A feature whose record names a village or plot keeps it; the location only
  fills the blanks, and disagreements are returned for the analysis to report.
* **Village order.** Villages are listed by their ``code`` when every village has one, else
  in the villages layer's order; then names that only records use (in order of first
  appearance), then the unassigned and outside rows, then the Total.

Every function takes geometries that share one CRS (a township's layers do).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

EDGE_RULE = ("a point on the edge shared by several polygons goes to the first of those whose closed polygon "
             "covers it: the lowest plot_id in text order, or the first village in the village order (by code, "
             "else as in the villages layer); on a village border a tree goes with its plot's village when "
             "that village covers it; lines and polygons lie where a point inside them lies")
EDGE_RULE_ZH = ("位于多个多边形公共边上的点归入覆盖它的多边形中排序最前者：小班按小班号文本顺序，"
                "村按村的排列顺序（有村代码按代码，否则按图层顺序）；村界上的树优先归入其所在小班的村"
                "（若该村覆盖此点）；线和面按其内部一点定位")
RECORD_RULE = ("a record that names its village or plot keeps it; the location fills only blank records, "
               "and a record the location contradicts is reported")
RECORD_RULE_ZH = "记录已填写村或小班的以记录为准；仅空白记录按位置补填，记录与位置不符的予以提示"

POINT_CHUNK = 200_000
"""Points matched to polygons at a time (their candidate pairs are held only for the chunk)."""
PREPARE_FROM = 50
"""Points per polygon from which the polygons are searched from the points and prepared
(villages: thousands of trees each); below it (a county's plots: ~10 trees each) the points
are searched from each polygon (:func:`covering_first`). The answer is the same either way:
both tests are exact."""
_POLYGON_TYPE_IDS = (3, 6)  # shapely type ids of Polygon and MultiPolygon


_T = TypeVar("_T")
_reused: dict[tuple[str, int], tuple[Any, Any]] | None = None  # open while :func:`reusing_polygons` runs


@contextmanager
def reusing_polygons() -> Iterator[None]:
    """While open, what locating derives from a polygon layer alone (its search tree, its
    prepared polygons, its ids in listing order) is made once per layer and reused: for a
    layer of points located chunk by chunk against the same plots and villages
    (:mod:`geo_township.tree_stream`). The polygons' preparation is released on leaving."""
    global _reused
    if _reused is not None:  # already open: the outer one releases
        yield
        return
    _reused = {}
    try:
        yield
    finally:
        held, _reused = _reused, None
        for obj, value in held.values():
            if isinstance(value, _Search):
                shapely.destroy_prepared(obj[value.fresh])


def reused(what: str, obj: Any, make: Callable[[], _T]) -> _T:
    """``make()``, kept for ``obj`` (held, so never mistaken for a later object) while
    :func:`reusing_polygons` is open; made afresh otherwise."""
    if _reused is None:
        return make()
    key = (what, id(obj))
    hit = _reused.get(key)
    if hit is not None and hit[0] is obj:
        return hit[1]
    value = make()
    _reused[key] = (obj, value)
    return value


@dataclass(frozen=True)
class _Search:
    """An STRtree on polygons prepared for point tests; ``fresh``: those prepared here."""

    tree: shapely.STRtree
    fresh: np.ndarray


def _search(polygons: np.ndarray) -> _Search:
    """The tree, and the polygons prepared for point tests (each will meet many points,
    :data:`PREPARE_FROM`)."""
    tree = shapely.STRtree(polygons)
    fresh = ~shapely.is_prepared(polygons)
    shapely.prepare(polygons)
    return _Search(tree, fresh)


def blank_to_none(values: pd.Series) -> pd.Series:
    """``values`` as objects, with missing values and blank text (spaces only) as None.

    Text columns are judged by Arrow's vectorised strip; others once per distinct value (a
    million trees name a few thousand plots), never through a second copy as text.
    """
    if isinstance(values.dtype, pd.StringDtype):
        blank = (values.isna() | (values.str.strip() == "")).to_numpy(dtype=bool)
        out = values.astype(object)
        out[blank] = None
        return out
    out = values.astype(object)
    codes, distinct = pd.factorize(out.to_numpy(), use_na_sentinel=True)
    keep = np.fromiter((not isinstance(v, str) or bool(v.strip()) for v in distinct), dtype=bool,
                       count=len(distinct))
    return out.where(np.append(keep, False)[codes], None)  # code -1 (missing): the False at the end


def inside_points(geoms: np.ndarray) -> np.ndarray:
    """A point inside each geometry: polygons by :func:`shapely.point_on_surface`, other
    geometries as they are (a point is its own; a line is located by itself)."""
    geoms = np.asarray(geoms, dtype=object)
    polys = np.isin(shapely.get_type_id(geoms), _POLYGON_TYPE_IDS)
    out = geoms.copy()
    if polys.any():
        out[polys] = shapely.point_on_surface(geoms[polys])
    return out


def covering_lowest(points: np.ndarray, polygons: np.ndarray, ids: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each point, the index of the polygon with the lowest id (text order) whose closed
    polygon covers it, or -1. See :func:`covering_first`."""
    return covering_first(points, polygons, np.argsort(np.asarray(ids).astype(str), kind="stable"))


def covering_first(points: np.ndarray, polygons: np.ndarray, order: np.ndarray, *, threads: int = 1
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each point, the index of the first polygon in ``order`` (polygon indices, first
    first) whose closed polygon covers it, or -1.

    Vectorised (a point intersects a polygon exactly when the closed polygon covers it).
    Points many for the polygons (:data:`PREPARE_FROM` per polygon: trees in villages): an
    STRtree on the polygons gives each point the few whose box holds it, then one covering
    test against the prepared polygons, 4× faster than the other direction. Otherwise (trees
    in sub-compartments, other geometries): an STRtree on the features is queried with each
    polygon, which the query prepares once; 25% faster than unprepared point tests.
    Returns ``(best, pair_point, pair_polygon)``; the pairs list every (point, covering
    polygon) for checking records against locations. ``threads``: the polygons' queries are
    shared between that many threads (:func:`_query_each`), the same pairs in the same order.
    """
    n = len(points)
    best = np.full(n, -1, dtype="int64")
    if n == 0 or len(polygons) == 0:
        empty = np.zeros(0, dtype="int64")
        return best, empty, empty
    points = np.asarray(points, dtype=object)
    polygons = np.asarray(polygons, dtype=object)
    if not bool((shapely.get_type_id(points) == 0).all()) or n < PREPARE_FROM * len(polygons):
        # other geometries, or points few for the polygons (1M trees in 100k plots): a tree
        # on the features, queried with each polygon (prepared by the query itself)
        poly_idx, pt_idx = _query_each(shapely.STRtree(points), polygons, threads)
    else:
        search = reused("search", polygons, lambda: _search(polygons))
        tree = search.tree
        x, y = np.full(n, np.nan), np.full(n, np.nan)  # an empty point lies nowhere
        solid = ~shapely.is_empty(points)
        x[solid], y[solid] = shapely.get_x(points[solid]), shapely.get_y(points[solid])
        pt_parts, poly_parts = [], []
        for start in range(0, n, POINT_CHUNK):  # candidates a chunk at a time: bounded memory
            cand_pt, cand_poly = tree.query(points[start:start + POINT_CHUNK])
            cand_pt += start
            inside = shapely.intersects_xy(polygons[cand_poly], x[cand_pt], y[cand_pt])
            pt_parts.append(cand_pt[inside])
            poly_parts.append(cand_poly[inside])
        if _reused is None:
            shapely.destroy_prepared(polygons[search.fresh])  # the caller's polygons as they came
        pt_idx, poly_idx = np.concatenate(pt_parts), np.concatenate(poly_parts)
    order = np.asarray(order, dtype="int64")
    rank = np.empty(len(order), dtype="int64")
    rank[order] = np.arange(len(order))
    key = np.full(n, len(order), dtype="int64")
    np.minimum.at(key, pt_idx, rank[poly_idx])
    hit = key < len(order)
    best[hit] = order[key[hit]]
    return best, pt_idx, poly_idx


THREAD_FROM = 10_000
"""Polygons queried at least, for :func:`_query_each` to share them between threads."""


def _query_each(tree: shapely.STRtree, polygons: np.ndarray, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """``tree.query(polygons, predicate="intersects")``, the polygons cut into ``threads``
    consecutive parts queried at once: GEOS runs them without Python's lock (two cores: 1M
    trees in 100,000 plots located in 1.0 s instead of 1.9 s). Each polygon is prepared by
    the one thread that queries it, and the tree, built on its first query, is built before
    they start; a polygon object listed twice keeps the work on one thread."""
    threads = min(threads, len(polygons) // THREAD_FROM)
    if threads <= 1 or len({id(g) for g in polygons}) < len(polygons):
        return tree.query(polygons, predicate="intersects")
    tree.query(polygons[:1])  # builds the tree, here, before the threads read it
    cuts = np.linspace(0, len(polygons), threads + 1).astype("int64")
    with ThreadPoolExecutor(threads) as pool:
        parts = list(pool.map(lambda i: tree.query(polygons[cuts[i]:cuts[i + 1]], predicate="intersects"),
                              range(threads)))
    return (np.concatenate([part[0] + cuts[i] for i, part in enumerate(parts)]),
            np.concatenate([part[1] for part in parts]))


@dataclass(frozen=True)
class Located:
    """Where features lie in one polygon layer, and what their records say.

    ``values`` is the answer of :data:`RECORD_RULE` (the record, else the location);
    ``located`` the location's own answer (None outside every polygon); ``record`` the
    record's value (None when blank); ``disagree`` the positions of records that name a
    polygon which does not cover the feature.
    """

    values: pd.Series
    located: pd.Series
    record: pd.Series
    disagree: np.ndarray


Cover = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""A function with the contract of :func:`covering_first` (an engine may run it in parts)."""


def locate(features: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame | None, id_field: str, *,
           prefer: pd.Series | None = None, cover: Cover | None = None) -> Located:
    """Settle ``id_field`` (``plot_id`` or ``village``) of each feature by :data:`EDGE_RULE`
    and :data:`RECORD_RULE` against the polygons that carry it.

    ``prefer`` (per feature) wins over the lowest-id rule when its polygon also covers the
    feature. With no polygon layer (or no such field in it) the records stand alone.
    ``cover`` runs :func:`covering_first` (default: here, in one piece).
    """
    index = features.index
    record = (blank_to_none(features[id_field]) if id_field in features.columns
              else pd.Series(None, index=index, dtype=object))
    located = pd.Series(None, index=index, dtype=object)
    if polygons is None or id_field not in polygons.columns or len(polygons) == 0 or len(features) == 0:
        return Located(record, located, record, np.zeros(0, dtype="int64"))
    poly_ids, order, codes, uniques, lookup = reused(f"ids {id_field}", polygons,
                                                     lambda: _polygon_ids(polygons, id_field))
    points = inside_points(features.geometry.to_numpy())
    best, pair_pt, pair_poly = (cover or covering_first)(points, polygons.geometry.to_numpy(), order)
    hit = best >= 0
    located[hit] = poly_ids[best[hit]]
    k = len(uniques) + 1
    n_features = len(features)

    first_code = np.where(hit, codes[np.maximum(best, 0)], -1)

    def covered(positions: np.ndarray, names: pd.Series) -> np.ndarray:
        """Whether the polygon named ``names[i]`` covers the feature at ``positions[i]``."""
        name_codes, distinct = pd.factorize(names.astype(object))  # each name looked up once
        found = lookup.get_indexer(pd.Index(distinct, dtype=object).astype(str))  # -1: no polygon has it
        known = np.append(np.where(found >= 0, found, len(uniques)), len(uniques)).astype("int64")
        wanted = known[name_codes]
        positions = positions.astype("int64")
        ok = first_code[positions] == wanted  # most features: the first covering polygon bears the name
        rest = np.flatnonzero(~ok)
        if len(rest):  # the others: every polygon covering them (an O(n) mask, then a small search)
            asked = np.zeros(n_features, dtype=bool)
            asked[positions[rest]] = True
            sel = asked[pair_pt]
            keys = pair_pt[sel].astype("int64") * k + codes[pair_poly[sel]]
            ok[rest] = np.isin(positions[rest] * k + wanted[rest], keys)
        return ok

    given = np.flatnonzero(record.notna().to_numpy())
    agree = covered(given, record.iloc[given])
    if prefer is not None:
        pref = prefer.astype(object)
        p_idx = np.flatnonzero(pref.notna().to_numpy() & hit)
        ok = covered(p_idx, pref.iloc[p_idx])
        located.iloc[p_idx[ok]] = pref.iloc[p_idx[ok]].to_numpy()
    values = record.where(record.notna(), located)
    return Located(values, located, record, given[~agree])


def _polygon_ids(polygons: gpd.GeoDataFrame, id_field: str
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, pd.Index]:
    """The polygons' ids (None where blank), listing order, and a code per polygon for its
    id's text (the distinct texts and text → code)."""
    poly_ids = polygons[id_field].astype(object).where(polygons[id_field].notna(), None).to_numpy()
    id_text = np.array([str(v) if v is not None else "" for v in poly_ids])
    codes, uniques = pd.factorize(pd.Series(id_text, dtype=object))
    lookup = pd.Index(np.asarray(uniques, dtype=object))  # distinct texts: text → code by position
    return poly_ids, listing_order(polygons, id_field), codes, np.asarray(uniques), lookup


def listing_order(polygons: gpd.GeoDataFrame, id_field: str) -> np.ndarray:
    """Positions of ``polygons`` in their listing order: villages in :func:`village_order`
    (by code when every village has one, else as in the layer), anything else by
    ``id_field`` in text order."""
    if id_field == "village" and "code" in polygons.columns and polygons["code"].notna().all():
        return np.argsort(polygons["code"].astype(str).to_numpy(), kind="stable")
    if id_field == "village":
        return np.arange(len(polygons))
    return np.argsort(polygons[id_field].astype(str).to_numpy(), kind="stable")


def village_by_location(geoms: np.ndarray, villages: gpd.GeoDataFrame | None) -> np.ndarray:
    """The village each geometry lies in by :data:`EDGE_RULE`, else None (records ignored)."""
    out = np.full(len(geoms), None, dtype=object)
    if villages is None or "village" not in villages.columns or not len(geoms):
        return out
    frame = gpd.GeoDataFrame(geometry=gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=villages.crs))
    return locate(frame, villages, "village").located.to_numpy(dtype=object)


def fill_villages(recorded: np.ndarray, geoms: np.ndarray, villages: gpd.GeoDataFrame | None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``recorded`` (the record's village per feature) with the blanks (None, NaN or empty
    text) filled in by location (:data:`RECORD_RULE`); also returns which were filled."""
    values = np.asarray(recorded, dtype=object).copy()
    blank = blank_to_none(pd.Series(values, dtype=object)).isna().to_numpy(dtype=bool)
    filled = np.zeros(len(values), dtype=bool)
    if not blank.any() or villages is None:
        return values, filled
    found = village_by_location(np.asarray(geoms, dtype=object)[blank], villages)
    values[blank] = found
    filled[blank] = pd.notna(found)
    return values, filled


def village_order(villages: gpd.GeoDataFrame | None, present: Iterable[object] = ()) -> list[str]:
    """Village names in the one listing order (see the module's rules): by code when every
    village has one, else as in the layer; then names in ``present`` the layer lacks."""
    order: list[str] = []
    if villages is not None and "village" in villages.columns:
        names = villages["village"].to_numpy(dtype=object)[listing_order(villages, "village")]
        order += [str(v) for v in names if pd.notna(v)]
    order += [str(v) for v in present if v is not None and not (isinstance(v, float) and np.isnan(v))]
    return list(dict.fromkeys(order))


def order_rows_by_village(table: pd.DataFrame, villages: gpd.GeoDataFrame | None, *, column: str,
                          last: Iterable[str] = ()) -> pd.DataFrame:
    """Rows of a per-village table in :func:`village_order`; names in ``last`` (the
    unassigned, outside and Total rows, in that order) after every village."""
    tail = list(last)
    names = [v for v in village_order(villages, table[column].tolist()) if v not in tail]
    rank = {name: i for i, name in enumerate(names + tail)}
    key = table[column].map(lambda g: rank.get(str(g), len(rank)))
    return table.assign(_order=key).sort_values("_order", kind="stable").drop(columns="_order").reset_index(
        drop=True)


NAME_RULE = ("names of villages (and plots) are compared after normalising: full-width and half-width forms "
             "alike (Unicode NFKC) and every space removed (ideographic, leading, trailing and inner); any other "
             "difference (青溪一村 vs 青溪村, a missing 村) is a different name")
NAME_RULE_ZH = ("村名（及小班号）比较前先统一全角/半角（NFKC）并去掉所有空格（含全角空格、首尾及中间空格）；"
                "其他差异（如青溪一村与青溪村、缺少“村”字）视为不同名称")
_SPACES = re.compile(r"\s+")


def normalise_place_name(value: object) -> str:
    """A place name folded for comparison by :data:`NAME_RULE`: NFKC (full-width letters,
    digits and the ideographic space become their plain forms), then every space removed."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(value)))


@dataclass(frozen=True)
class NameMatch:
    """Record names matched to a polygon layer's names by :data:`NAME_RULE`.

    ``values`` are the records with each name that equals one of the layer's names after
    normalising replaced by the layer's spelling (others unchanged, blanks None);
    ``normalised`` marks the records so replaced (their spelling differed)."""

    values: pd.Series
    normalised: np.ndarray


def match_place_names(records: pd.Series, names: Iterable[object]) -> NameMatch:
    """Match each record's name to one of ``names`` (the layer's spellings) by
    :data:`NAME_RULE`, so that 石门村 with a trailing or ideographic space, or written in
    full-width forms, is the layer's 石门村; what normalising changed is returned, so it is
    reported, never silent. A normalised form shared by several layer names keeps the first."""
    spelling: dict[str, str] = {}
    for name in names:
        if name is not None and not (isinstance(name, float) and np.isnan(name)):
            spelling.setdefault(normalise_place_name(name), str(name))
    values = blank_to_none(records)
    codes, distinct = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    matched = np.array([spelling.get(normalise_place_name(v), v) for v in distinct] + [None], dtype=object)
    changed = np.array([spelling.get(normalise_place_name(v), v) != v for v in distinct] + [False], dtype=bool)
    return NameMatch(pd.Series(matched[codes], index=records.index, dtype=object), changed[codes])
