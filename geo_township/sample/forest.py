"""Forest sub-compartments (小班): terrain-following polygons on the slopes of every village.

Plots are the cells of a Voronoi diagram in (x, y, k·elevation) space, computed on a fine
grid: because a change of height counts as distance, cells stretch along the contours like
real sub-compartments do. The raster cells are turned into a polygon coverage, simplified as
a coverage (shared edges stay shared), warped a little, and cut exactly to each village's
forest land (the village minus the farmland valley floors).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import ndimage
from scipy.spatial import cKDTree
from shapely.geometry import Polygon, shape

from geo_township.units import M2_PER_MU

from .geometry import (
    ZONE39_SHIFT,
    EdgeDistance,
    geoms_to_zone39,
    largest_polygon,
    polygons_of,
    shared_length,
    smooth_coverage,
    smooth_field,
    split_long_axis,
    warp,
)
from .terrain import Landscape, elevation

log = logging.getLogger(__name__)

_RES = 25.0  # grid step of the labelling raster (m)
_SPACING = 200.0  # mean distance between plot seeds (m)
_Z_WEIGHT = 5.0  # metres of horizontal distance per metre of height difference
_MIN_MU = 6.0  # pieces smaller than this merge into a neighbour
_MAX_MU = 330.0  # plots larger than this are split


@dataclass
class PlotGeometry:
    """One forest plot polygon (EPSG:4548) and the index of its village."""

    geom: Polygon
    village: int


def _seeds(land: Landscape, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = land.township.bounds
    a = _SPACING
    h = a * np.sqrt(3) / 2
    ys = np.arange(miny - a, maxy + a, h)
    pts = []
    for i, y in enumerate(ys):
        xs = np.arange(minx - a, maxx + a, a) + (a / 2 if i % 2 else 0.0)
        pts.append(np.column_stack([xs, np.full_like(xs, y)]))
    p = np.vstack(pts)
    p = p + rng.uniform(-0.38 * a, 0.38 * a, p.shape)
    # remote high ground is divided into larger plots than the slopes above the villages
    z = elevation(p[:, 0], p[:, 1], seed=land.seed)
    keep = rng.uniform(size=len(p)) < np.interp(z, [120.0, 420.0], [1.0, 0.4])
    return p[keep]


def _coverage(land: Landscape, rng: np.random.Generator) -> list[Polygon]:
    """The raster Voronoi-in-3-D coverage over the township's bounding box."""
    seeds = _seeds(land, rng)
    zs = elevation(seeds[:, 0], seeds[:, 1], seed=land.seed)
    tree = cKDTree(np.column_stack([seeds, _Z_WEIGHT * zs]))
    minx, miny, maxx, maxy = land.township.buffer(3 * _RES).bounds
    nx = int(np.ceil((maxx - minx) / _RES))
    ny = int(np.ceil((maxy - miny) / _RES))
    xc = minx + (np.arange(nx) + 0.5) * _RES
    yc = maxy - (np.arange(ny) + 0.5) * _RES
    X, Y = np.meshgrid(xc, yc)
    # elevation on a grid twice as coarse, interpolated: plenty for shaping plots, 4x cheaper
    Xc, Yc = np.meshgrid(xc[::2], yc[::2])
    Zc = elevation(Xc, Yc, seed=land.seed)
    rows, cols = np.meshgrid(np.arange(ny) / 2.0, np.arange(nx) / 2.0, indexing="ij")
    Z = ndimage.map_coordinates(Zc, [rows, cols], order=1, mode="nearest")
    _, lab = tree.query(np.column_stack([X.ravel(), Y.ravel(), _Z_WEIGHT * Z.ravel()]))
    lab = (lab.astype(np.int32) + 1).reshape(ny, nx)
    from rasterio import features  # here, not at import: rasterio pulls in click
    from rasterio.transform import Affine

    transform = Affine(_RES, 0.0, minx, 0.0, -_RES, maxy)
    polys = [shape(g) for g, _ in features.shapes(lab, transform=transform, connectivity=4)]
    # raster shapes do not repeat the vertices where a neighbour's edge ends: node them so the
    # cells form a valid coverage (shared edges vertex for vertex) before simplifying
    polys = smooth_coverage(polys, 0.9 * _RES, 3)
    field = smooth_field(rng, 18.0, (330.0, 520.0, 800.0))
    return list(warp(polys, field))


def _merge_small(pieces: list[PlotGeometry]) -> list[PlotGeometry]:
    """Merge pieces below _MIN_MU into the same-village neighbour with the longest shared edge."""
    geoms = [p.geom for p in pieces]
    alive = [True] * len(pieces)
    order = sorted(range(len(pieces)), key=lambda i: geoms[i].area)
    tree = shapely.STRtree(geoms)
    for i in order:
        a = geoms[i].area
        thin = 4 * np.pi * a / geoms[i].length ** 2 < 0.18 and a < 25.0 * M2_PER_MU
        if a >= _MIN_MU * M2_PER_MU and not thin:
            continue
        best, best_len = -1, 0.0
        for j in tree.query(geoms[i], predicate="intersects"):
            j = int(j)
            if j == i or not alive[j] or pieces[j].village != pieces[i].village:
                continue
            ln = shared_length(geoms[i], geoms[j])
            if ln > best_len:
                best, best_len = j, ln
        alive[i] = False
        if best >= 0 and best_len > 1.0:
            merged = shapely.union(geoms[best], geoms[i])
            parts = polygons_of(merged)
            if len(parts) == 1:
                geoms[best] = parts[0]
            else:  # touching at a point only: keep the neighbour as it was
                pass
    return [
        PlotGeometry(geoms[i], pieces[i].village)
        for i in range(len(pieces))
        if alive[i] and geoms[i].area >= 3.0 * M2_PER_MU
    ]


def _split_large(pieces: list[PlotGeometry], rng: np.random.Generator) -> list[PlotGeometry]:
    out: list[PlotGeometry] = []
    for p in pieces:
        mu = p.geom.area / M2_PER_MU
        if mu <= _MAX_MU:
            out.append(p)
            continue
        k = int(np.ceil(mu / 180.0))
        for part in split_long_axis(p.geom, k, rng, 0.25):
            out.append(PlotGeometry(part, p.village))
    return out


def forest_plot_geometries(land: Landscape, rng: np.random.Generator) -> list[PlotGeometry]:
    """Forest plot polygons (EPSG:4548), each inside one village's forest land, not overlapping."""
    cover = _coverage(land, rng)
    log.debug("forest coverage: %d raw cells", len(cover))
    forest_land = [shapely.difference(v, land.valley) for v in land.villages]
    for f in forest_land:
        shapely.prepare(f)
    pieces: list[PlotGeometry] = []
    cover_arr = np.asarray(cover, dtype=object)
    tree = shapely.STRtree(cover_arr)
    for vi, fl in enumerate(forest_land):
        idx = tree.query(fl, predicate="intersects")
        cells = cover_arr[idx]
        inside = shapely.contains_properly(fl, cells)
        for g in cells[inside]:
            pieces.append(PlotGeometry(g, vi))
        clipped = shapely.intersection(cells[~inside], fl)
        for g in clipped:
            for part in polygons_of(g):
                pieces.append(PlotGeometry(part, vi))
    pieces = _split_large(pieces, rng)
    pieces = _merge_small(pieces)
    pieces = [PlotGeometry(g, p.village) for g, p in zip(_as_written(pieces), pieces, strict=True)]
    log.debug("forest plots: %d", len(pieces))
    return pieces


def _as_written(pieces: list[PlotGeometry]) -> list[Polygon]:
    """Snap the plots to a 1 mm grid in the zone-39 frame they are written in.

    Coordinates near 39,500,000 m carry less precision than near 500,000 m, which can turn
    a needle-thin spike left by clipping into a self-intersection; snap-rounding there
    removes such spikes, and shifting back is exact, so every later step works on the
    geometry the shapefile holds.
    """
    g39 = geoms_to_zone39([p.geom for p in pieces])
    g39 = shapely.set_precision(g39, 0.001)
    out = []
    for g in g39:
        if not g.is_valid or g.geom_type != "Polygon":
            g = largest_polygon(shapely.make_valid(g))
        out.append(g)
    back = shapely.transform(
        np.asarray(out, dtype=object), lambda c: c - np.array([ZONE39_SHIFT, 0.0])
    )
    return list(back)


SPECIES_SHARE = (
    ("马尾松", 0.55),
    ("杉木", 0.20),
    ("阔叶混交", 0.12),
    ("油茶", 0.10),
    ("湿地松", 0.03),
)
PINES = ("马尾松", "湿地松")


def _ranked_pick(score: np.ndarray, free: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest scores among the free entries."""
    idx = np.flatnonzero(free)
    return idx[np.argsort(-score[idx], kind="stable")[:n]]


def plot_attributes(
    plots: list[PlotGeometry], land: Landscape, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Dominant species, origin and planting year of every plot, spatially coherent.

    Oil-tea sits low near the villages, broadleaf on the high ground, Chinese fir and slash
    pine in patches given by smooth random fields, Masson pine everywhere else.
    """
    n = len(plots)
    cent = np.array(
        [[g.x, g.y] for g in shapely.centroid(np.asarray([p.geom for p in plots], dtype=object))]
    )
    z = elevation(cent[:, 0], cent[:, 1], seed=land.seed)
    dval = EdgeDistance(land.valley).distance(shapely.points(cent))
    dval[shapely.contains_xy(land.valley, cent[:, 0], cent[:, 1])] = 0.0
    f1 = smooth_field(rng, 1.0, (1800.0, 2600.0, 3900.0))(cent[:, 0], cent[:, 1])[0]
    f2 = smooth_field(rng, 1.0, (900.0, 1400.0))(cent[:, 0], cent[:, 1])[0]
    species = np.full(n, "马尾松", dtype=object)
    free = np.ones(n, bool)
    counts = {name: round(share * n) for name, share in SPECIES_SHARE}
    zr = (z - z.mean()) / z.std()
    pick = _ranked_pick(-dval / 300.0 - 0.6 * zr + rng.normal(0, 0.6, n), free, counts["油茶"])
    species[pick] = "油茶"
    free[pick] = False
    pick = _ranked_pick(zr + rng.normal(0, 0.9, n), free, counts["阔叶混交"])
    species[pick] = "阔叶混交"
    free[pick] = False
    pick = _ranked_pick(f1 * 3.0 + rng.normal(0, 0.6, n), free, counts["杉木"])
    species[pick] = "杉木"
    free[pick] = False
    pick = _ranked_pick(f2 * 3.0 + rng.normal(0, 0.4, n), free, counts["湿地松"])
    species[pick] = "湿地松"
    free[pick] = False

    planted_share = {"马尾松": 0.25, "杉木": 0.85, "阔叶混交": 0.1, "油茶": 1.0, "湿地松": 1.0}
    years = {
        "马尾松": (1975, 1995),
        "杉木": (1978, 2015),
        "阔叶混交": (2000, 2020),
        "油茶": (2008, 2020),
        "湿地松": (1982, 2002),
    }
    u = rng.uniform(size=n)
    origin = np.array(
        ["人工" if u[i] < planted_share[species[i]] else "天然" for i in range(n)], dtype=object
    )
    year = np.zeros(n, dtype=np.int32)
    for i in range(n):
        if origin[i] == "人工":
            lo, hi = years[species[i]]
            year[i] = int(rng.integers(lo, hi + 1))
    return {"species": species, "origin": origin, "year": year}


def number_plots(plots: list[PlotGeometry], n_villages: int) -> dict[str, np.ndarray]:
    """Compartment (林班) and sub-compartment (小班) numbers, numbered north-west first.

    Plots of a village are grouped into at most 20 compartments of ~10 neighbouring plots by
    a small deterministic k-means on their centroids.
    """
    n = len(plots)
    cent = np.array(
        [[g.x, g.y] for g in shapely.centroid(np.asarray([p.geom for p in plots], dtype=object))]
    )
    vil = np.array([p.village for p in plots])
    lb = np.zeros(n, dtype=np.int32)
    xb = np.zeros(n, dtype=np.int32)
    for v in range(n_villages):
        idx = np.flatnonzero(vil == v)
        if len(idx) == 0:
            continue
        pts = cent[idx]
        k = int(min(20, max(1, round(len(idx) / 11))))
        # farthest-point initialisation from the north-west corner: deterministic
        start = int(np.argmin(pts[:, 0] - pts[:, 1]))
        centres = [pts[start]]
        for _ in range(k - 1):
            d = np.min([np.hypot(*(pts - c).T) for c in centres], axis=0)
            centres.append(pts[int(np.argmax(d))])
        c = np.array(centres)
        for _ in range(25):
            lab = np.argmin(((pts[:, None, :] - c[None, :, :]) ** 2).sum(-1), axis=1)
            c = np.array(
                [pts[lab == j].mean(axis=0) if np.any(lab == j) else c[j] for j in range(k)]
            )
        lab = np.argmin(((pts[:, None, :] - c[None, :, :]) ** 2).sum(-1), axis=1)
        used = [j for j in range(k) if np.any(lab == j)]
        # number compartments north to south in 1.5 km bands, west to east inside a band
        order = sorted(used, key=lambda j: (-round(c[j, 1] / 1500.0), c[j, 0]))
        for num, j in enumerate(order, start=1):
            members = idx[lab == j]
            mp = cent[members]
            o = np.lexsort((mp[:, 0], -np.round(mp[:, 1] / 250.0)))
            lb[members] = num
            xb[members[o]] = np.arange(1, len(members) + 1)
    return {"compartment": lb, "subcompartment": xb}
