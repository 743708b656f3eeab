"""Where polygons overlap: pairs within one layer, and the part of each polygon another
layer covers. Found through a spatial index (shapely's STRtree), never by testing all
pairs, and measured like any other area (:func:`geo_township.measure.area_m2`), so an
overlap of two parcels is in the same units and method as the parcels themselves.

Geometries are expected in one projected CRS (the township's working CRS, metres);
positions in the returned frames are positions in the input arrays (0-based).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.errors import CRSError
from geo_township.measure import Method, area_m2

log = logging.getLogger(__name__)

_POLYGONAL = (3, 6)  # Polygon, MultiPolygon
_EMPTY_POLYGON = shapely.from_wkt("POLYGON EMPTY")


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """The polygonal part of each geometry (an empty polygon when there is none).

    The intersection of two polygons that share an edge as well as some area is a
    collection of a polygon and a line; only the polygon is land.
    """
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return geoms
    out = geoms.copy()
    types = shapely.get_type_id(out)
    mixed = np.flatnonzero(~np.isin(types, _POLYGONAL))
    if len(mixed):
        parts, owner = shapely.get_parts(out[mixed], return_index=True)
        keep = np.isin(shapely.get_type_id(parts), _POLYGONAL)
        out[mixed] = _EMPTY_POLYGON
        if keep.any():
            frame = pd.DataFrame({"owner": owner[keep], "geom": parts[keep]})
            for i, group in frame.groupby("owner", sort=False)["geom"]:
                out[mixed[i]] = group.iloc[0] if len(group) == 1 else shapely.union_all(group.to_numpy())
    return out


def _series(geoms: np.ndarray, crs) -> gpd.GeoSeries:
    return gpd.GeoSeries(geoms, crs=crs)


def _same_crs(a: gpd.GeoSeries, b: gpd.GeoSeries) -> None:
    if a.crs is None or b.crs is None or not a.crs.equals(b.crs):
        raise CRSError(f"layers in different coordinate systems ({a.crs} and {b.crs}) cannot be overlaid",
                       hint="reproject both to the township's working CRS with to_crs() first")


def _interiors_meet(la: np.ndarray, ra: np.ndarray, li: np.ndarray, ri: np.ndarray, *, min_area: float = 0.0
                    ) -> np.ndarray:
    """Which candidate pairs (``la[li]``, ``ra[ri]``) share interior, i.e. overlap by an area.

    Two cheap steps first: a pair whose bounding boxes overlap by no more than
    ``min_area`` cannot overlap by more (planar units of the CRS), so it is dropped
    without a geometric test; the rest get an exact DE-9IM test (interiors intersect) on
    prepared geometries. Neighbours that only share an edge are most candidates in a
    tiled layer, and the relate test is what tells them apart.
    """
    if not len(li):
        return np.zeros(0, dtype=bool)
    lb, rb = shapely.bounds(la[li]), shapely.bounds(ra[ri])
    w = np.minimum(lb[:, 2], rb[:, 2]) - np.maximum(lb[:, 0], rb[:, 0])
    h = np.minimum(lb[:, 3], rb[:, 3]) - np.maximum(lb[:, 1], rb[:, 1])
    out = (w > 0) & (h > 0) & (w * h > min_area)
    if out.any():
        fresh = [a[~shapely.is_prepared(a)] for a in (la, ra)]
        for a in fresh:
            shapely.prepare(a)
        try:
            k = np.flatnonzero(out)
            out[k] = shapely.relate_pattern(la[li[k]], ra[ri[k]], "T********")
        finally:
            for a in fresh:
                shapely.destroy_prepared(a)
    return out


def overlap_pieces(a: np.ndarray, b: np.ndarray, *, min_area: float = 0.0) -> np.ndarray:
    """For each pair (``a[i]``, ``b[i]``): the polygon they share when their interiors
    overlap (beyond the bounding-box shortcut of ``min_area``, planar units), else None.
    The per-pair kernel of :func:`overlap_pairs`; pairs are independent, so an engine may
    run it in parts."""
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    out = np.full(len(a), None, dtype=object)
    idx = np.arange(len(a))
    inner = _interiors_meet(a, b, idx, idx, min_area=min_area)
    if inner.any():
        out[inner] = polygonal(shapely.intersection(a[inner], b[inner]))
    return out


def overlap_pairs(geoms: gpd.GeoSeries, *, method: Method = "ellipsoidal", min_area_m2: float = 0.0,
                  pieces_of: Callable[..., np.ndarray] | None = None,
                  area_of: Callable[..., np.ndarray] | None = None) -> gpd.GeoDataFrame:
    """Every pair of geometries in ``geoms`` whose interiors overlap by more than ``min_area_m2``.

    Returns a GeoDataFrame with ``left`` < ``right`` (positions in ``geoms``), ``area_m2``
    (the overlap's area, ``method`` as for the geometries themselves) and the overlap's
    polygon as geometry, in the CRS of ``geoms``. Neighbours that only touch are left out.

    Candidate pairs come from an STRtree query on bounding boxes, so the work grows with
    the number of neighbours, not with n²; ``geoms`` should be in a projected CRS in
    metres (the bounding-box shortcut compares planar areas with ``min_area_m2``).
    ``pieces_of`` and ``area_of`` run :func:`overlap_pieces` and
    :func:`geo_township.measure.area_m2` (defaults: those, here; an engine may pass its own).
    """
    arr = np.asarray(geoms.to_numpy(), dtype=object)
    empty = gpd.GeoDataFrame({"left": np.zeros(0, dtype=int), "right": np.zeros(0, dtype=int),
                              "area_m2": np.zeros(0)}, geometry=_series(np.zeros(0, dtype=object), geoms.crs))
    if len(arr) < 2:
        return empty
    left, right = shapely.STRtree(arr).query(arr)
    keep = left < right
    left, right = left[keep], right[keep]
    # the planar bounding-box shortcut is safe only below the ellipsoidal/planar difference
    pieces = (pieces_of or overlap_pieces)(arr[left], arr[right],
                                           min_area=0.99 * min_area_m2 if geoms.crs.is_projected else 0.0)
    inner = ~pd.isna(pieces)
    left, right, pieces = left[inner], right[inner], pieces[inner]
    log.debug("overlap_pairs: %d geometries, %d pairs sharing interior", len(arr), len(left))
    if not len(left):
        return empty
    areas = (area_of or area_m2)(_series(pieces, geoms.crs), method=method)
    big = areas > min_area_m2
    return gpd.GeoDataFrame({"left": left[big], "right": right[big], "area_m2": areas[big]},
                            geometry=_series(pieces[big], geoms.crs)).reset_index(drop=True)


def intersection_pairs(left: gpd.GeoSeries, right: gpd.GeoSeries) -> gpd.GeoDataFrame:
    """Each (left, right) pair whose interiors overlap, with the polygon they share.

    Returns a GeoDataFrame with ``left`` and ``right`` (positions) and the shared polygon
    as geometry, in the CRS of ``left`` (both inputs must share one CRS).
    """
    _same_crs(left, right)
    la = np.asarray(left.to_numpy(), dtype=object)
    ra = np.asarray(right.to_numpy(), dtype=object)
    out = gpd.GeoDataFrame({"left": np.zeros(0, dtype=int), "right": np.zeros(0, dtype=int)},
                           geometry=_series(np.zeros(0, dtype=object), left.crs))
    if not len(la) or not len(ra):
        return out
    li, ri = shapely.STRtree(ra).query(la)
    inner = _interiors_meet(la, ra, li, ri)
    li, ri = li[inner], ri[inner]
    pieces = polygonal(shapely.intersection(la[li], ra[ri]))
    ok = ~shapely.is_empty(pieces)
    return gpd.GeoDataFrame({"left": li[ok], "right": ri[ok]},
                            geometry=_series(pieces[ok], left.crs)).reset_index(drop=True)


def covered(left: gpd.GeoSeries, right: gpd.GeoSeries, *, method: Method = "ellipsoidal"
            ) -> tuple[gpd.GeoSeries, np.ndarray, list[np.ndarray]]:
    """How much of each ``left`` geometry the ``right`` layer covers.

    Returns ``(parts, area_m2, which)``: per left geometry the covered part (the union of
    its intersections with right geometries, so right geometries that overlap each other
    are not counted twice; an empty polygon when nothing covers it), its area in m²
    (``method``), and the positions of the right geometries involved.
    """
    pairs = intersection_pairs(left, right)
    n = len(left)
    parts = np.full(n, _EMPTY_POLYGON, dtype=object)
    which: list[np.ndarray] = [np.zeros(0, dtype=int)] * n
    if len(pairs):
        pieces = pairs.geometry.to_numpy()
        li = pairs["left"].to_numpy()
        ri = pairs["right"].to_numpy()
        order = np.argsort(li, kind="stable")
        li, ri, pieces = li[order], ri[order], pieces[order]
        owners, starts, counts = np.unique(li, return_index=True, return_counts=True)
        single = counts == 1
        parts[owners[single]] = pieces[starts[single]]
        for owner, start, count in zip(owners[~single], starts[~single], counts[~single], strict=True):
            parts[owner] = polygonal(np.array([shapely.union_all(pieces[start:start + count])], dtype=object))[0]
        for owner, start, count in zip(owners, starts, counts, strict=True):
            which[owner] = ri[start:start + count]
    series = _series(parts, left.crs)
    areas = np.zeros(n)
    nonempty = ~shapely.is_empty(parts)
    if nonempty.any():
        areas[nonempty] = area_m2(_series(parts[nonempty], left.crs), method=method)
    return series, areas, which
