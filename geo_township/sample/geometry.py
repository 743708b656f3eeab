"""Small geometry helpers shared by the sample generator (projected metres, EPSG:4548)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import pyproj
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo_township.units import M2_PER_MU

#: Working CRS: CGCS2000 3-degree Gauss-Kruger, central meridian 117°E, no zone prefix.
WORK_EPSG = 4548
#: The same projection with the zone-39 prefix in the easting (what forest surveys deliver).
ZONE39_EPSG = 4527
#: Official geographic CRS of the sample.
GEO_EPSG = 4490
#: False-easting difference between EPSG:4527 (39500000) and EPSG:4548 (500000).
ZONE39_SHIFT = 39_000_000.0

_GEOD = pyproj.Geod(ellps="GRS80")


@lru_cache(maxsize=4)
def _transformer(src: int, dst: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def xy_to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Working-CRS metres to CGCS2000 lon/lat degrees."""
    return _transformer(WORK_EPSG, GEO_EPSG).transform(np.asarray(x, float), np.asarray(y, float))


def lonlat_to_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CGCS2000 lon/lat degrees to working-CRS metres."""
    return _transformer(GEO_EPSG, WORK_EPSG).transform(
        np.asarray(lon, float), np.asarray(lat, float)
    )


def geoms_to_lonlat(geoms: Sequence[BaseGeometry] | np.ndarray) -> np.ndarray:
    """Transform geometries vertex by vertex, so shared vertices stay shared."""

    def f(c: np.ndarray) -> np.ndarray:
        lon, lat = xy_to_lonlat(c[:, 0], c[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms, dtype=object), f)


def geoms_to_zone39(geoms: Sequence[BaseGeometry] | np.ndarray) -> np.ndarray:
    """EPSG:4548 → EPSG:4527 is a pure shift of the false easting."""
    return shapely.transform(
        np.asarray(geoms, dtype=object), lambda c: c + np.array([ZONE39_SHIFT, 0.0])
    )


def geod_area_mu(geoms_lonlat: Sequence[BaseGeometry] | np.ndarray) -> np.ndarray:
    """Ellipsoidal (GRS80 = CGCS2000 ellipsoid) area in mu of lon/lat polygons."""
    out = np.empty(len(geoms_lonlat))
    for i, g in enumerate(geoms_lonlat):
        out[i] = abs(_GEOD.geometry_area_perimeter(g)[0]) / M2_PER_MU
    return out


def smooth_field(
    rng: np.random.Generator, amplitude: float, wavelengths: Sequence[float]
) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A smooth random 2-D displacement field (sum of plane waves), used to warp shapes.

    Its gradient stays well below 1 for sensible amplitude/wavelength ratios, so the warp is
    one-to-one and a valid polygon coverage stays valid.
    """
    k = len(wavelengths)
    ang = rng.uniform(0, 2 * np.pi, size=(2, k))
    phase = rng.uniform(0, 2 * np.pi, size=(2, k))
    amp = amplitude * rng.uniform(0.6, 1.0, size=(2, k)) / np.sqrt(k)
    wl = np.asarray(wavelengths, float)

    def field(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, float)[..., None]
        y = np.asarray(y, float)[..., None]
        out = []
        for c in range(2):
            arg = 2 * np.pi * (x * np.cos(ang[c]) + y * np.sin(ang[c])) / wl + phase[c]
            out.append((amp[c] * np.sin(arg)).sum(axis=-1))
        return out[0], out[1]

    return field


def warp(
    geoms: Sequence[BaseGeometry] | np.ndarray,
    field: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Move every vertex by the displacement field (pointwise, so shared edges stay shared)."""

    def f(c: np.ndarray) -> np.ndarray:
        dx, dy = field(c[:, 0], c[:, 1])
        return c + np.column_stack([dx, dy])

    return shapely.transform(np.asarray(geoms, dtype=object), f)


def polygons_of(geom: BaseGeometry | None) -> list[Polygon]:
    """The non-empty polygon parts of any geometry."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return [g for g in geom.geoms if not g.is_empty]
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]


def largest_polygon(geom: BaseGeometry) -> Polygon:
    """The largest polygon part (for results that must be a single Polygon)."""
    parts = polygons_of(geom)
    return max(parts, key=lambda p: p.area)


def polygonize(lines: Sequence[BaseGeometry]) -> list[Polygon]:
    """Node a set of lines and return the faces of the planar partition they make."""
    noded = shapely.unary_union(np.asarray(lines, dtype=object))
    return [p for p in shapely.get_parts(shapely.polygonize([noded])) if p.area > 0]


def resample_line(coords: np.ndarray, step: float) -> np.ndarray:
    """Vertices at (nearly) equal arc-length steps along a polyline."""
    seg = np.hypot(*np.diff(coords, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(round(s[-1] / step), 1)
    t = np.linspace(0.0, s[-1], n + 1)
    return np.column_stack([np.interp(t, s, coords[:, 0]), np.interp(t, s, coords[:, 1])])


def shared_length(a: BaseGeometry, b: BaseGeometry) -> float:
    """Length of the common boundary of two polygons."""
    inter = shapely.intersection(a.boundary, b.boundary)
    return float(shapely.length(inter))


def strip_cut(poly: Polygon, angle: float, widths: Sequence[float]) -> list[Polygon]:
    """Cut a polygon into strips perpendicular to `angle` with the given widths (metres)."""
    c = poly.centroid
    ca, sa = np.cos(angle), np.sin(angle)
    coords = np.asarray(poly.exterior.coords)
    u = (coords[:, 0] - c.x) * ca + (coords[:, 1] - c.y) * sa
    v = -(coords[:, 0] - c.x) * sa + (coords[:, 1] - c.y) * ca
    lo, hi = u.min() - 1.0, u.max() + 1.0
    vlo, vhi = v.min() - 10.0, v.max() + 10.0
    cuts = [lo]
    for w in widths:
        cuts.append(cuts[-1] + w)
        if cuts[-1] >= hi:
            break
    cuts[-1] = max(cuts[-1], hi)
    out: list[Polygon] = []
    for a, b in itertools.pairwise(cuts):
        box = np.array([[a, vlo], [b, vlo], [b, vhi], [a, vhi]])
        xs = c.x + box[:, 0] * ca - box[:, 1] * sa
        ys = c.y + box[:, 0] * sa + box[:, 1] * ca
        out.extend(polygons_of(poly.intersection(Polygon(np.column_stack([xs, ys])))))
    return out


def split_long_axis(
    poly: Polygon, k: int, rng: np.random.Generator, jitter: float
) -> list[Polygon]:
    """Cut a polygon across its long axis into k strips of roughly equal width.

    The cut direction is turned by up to ±jitter radians so the strips are not all parallel
    to the plot's bounding rectangle.
    """
    rect = poly.minimum_rotated_rectangle
    c = np.asarray(rect.exterior.coords)[:3]
    e1, e2 = c[1] - c[0], c[2] - c[1]
    axis = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
    ang = float(np.arctan2(axis[1], axis[0])) + (rng.uniform(-jitter, jitter) if jitter else 0.0)
    length = max(np.hypot(*e1), np.hypot(*e2))
    w = rng.uniform(0.8, 1.2, k)
    return strip_cut(poly, ang, list(w / w.sum() * length))


def chaikin(coords: np.ndarray, iterations: int = 2) -> np.ndarray:
    """Corner-cutting smoothing of an open polyline; the two end points stay where they are."""
    c = np.asarray(coords, float)
    for _ in range(iterations):
        if len(c) < 3:
            break
        q = 0.75 * c[:-1] + 0.25 * c[1:]
        r = 0.25 * c[:-1] + 0.75 * c[1:]
        mid = np.empty((2 * (len(c) - 1), 2))
        mid[0::2] = q
        mid[1::2] = r
        c = np.vstack([c[:1], mid[1:-1], c[-1:]])
    return c


def smooth_coverage(
    polys: Sequence[BaseGeometry], tolerance: float, iterations: int = 2
) -> list[Polygon]:
    """Simplify and round the shared edges of a polygon coverage, keeping it a coverage.

    The coverage is broken into the chains of edges between junction nodes; each chain is
    simplified and corner-cut with its ends fixed, and the faces are rebuilt from the chains.
    """
    noded = shapely.unary_union([p.boundary for p in polys])
    chains = shapely.get_parts(shapely.line_merge(noded))
    out = []
    for ch in chains:
        c = np.asarray(shapely.simplify(ch, tolerance).coords)
        out.append(LineString(chaikin(c, iterations)))
    return polygonize(out)


class EdgeDistance:
    """Fast distances to the boundary of a large polygon (or to lines), via its segments.

    Distance from a geometry outside a polygon to the polygon equals the distance to its
    boundary; indexing the boundary's segments avoids GEOS walking every vertex per query.
    """

    def __init__(self, geom: BaseGeometry):
        lines = shapely.get_parts(
            shapely.line_merge(shapely.boundary(geom))
            if geom.geom_type.endswith("Polygon")
            else geom
        )
        segs = []
        for ln in lines:
            c = shapely.get_coordinates(ln)
            segs.append(shapely.linestrings(np.stack([c[:-1], c[1:]], axis=1)))
        self.segments = np.concatenate(segs)
        self.tree = shapely.STRtree(self.segments)

    def distance(self, geoms: Sequence[BaseGeometry] | np.ndarray) -> np.ndarray:
        """Distance from each geometry to the nearest segment."""
        geoms = np.asarray(geoms, dtype=object)
        (idx, _), dist = self.tree.query_nearest(geoms, return_distance=True, all_matches=False)
        out = np.full(len(geoms), np.inf)
        out[idx] = dist
        return out


def line_normals(coords: np.ndarray, smooth: int = 3) -> np.ndarray:
    """Unit left-hand normals of a polyline at its vertices (direction smoothed over vertices)."""
    d = np.gradient(coords, axis=0)
    if smooth > 1:
        k = np.ones(smooth) / smooth
        d = np.column_stack(
            [
                np.convolve(np.pad(d[:, i], smooth, mode="edge"), k, "same")[smooth:-smooth]
                for i in range(2)
            ]
        )
    d /= np.hypot(d[:, 0], d[:, 1])[:, None]
    return np.column_stack([-d[:, 1], d[:, 0]])


__all__ = [
    "GEO_EPSG",
    "WORK_EPSG",
    "ZONE39_EPSG",
    "LineString",
]
