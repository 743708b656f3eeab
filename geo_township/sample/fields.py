"""Farm fields on the valley floors: the cells that land transfers and basic farmland use.

Fields follow the river: lines across the valley at irregular stations (not all reaching the
foot of the hill, so fields are staggered like bricks) and lines along the valley at
irregular distances from the bank are noded with the valley edge, the village borders and
the edge of each river's management zone (plus a margin); the faces of that line work are
the fields. Nothing inside a management zone is a field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from geo_township.units import M2_PER_MU

from .geometry import line_normals, polygonize, smooth_field, warp
from .terrain import Landscape, River, valley_polygon

#: Fields keep this far outside a river's management zone (zone width + margin from the centre
#: line); the brief asks for at least zone + 10 m.
ZONE_MARGIN = 15.0


@dataclass
class Field:
    """One valley field (EPSG:4548) with where it lies."""

    geom: Polygon
    village: int
    river: int
    side: int  # +1 left bank, -1 right bank (looking downstream)
    s: float  # position along its river (m from the river's first vertex)


def _offset(dense: np.ndarray, normals: np.ndarray, dist: np.ndarray) -> np.ndarray:
    return dense + normals * dist[:, None]


def valley_fields(land: Landscape, rng: np.random.Generator) -> list[Field]:
    """Partition the valley floors (outside the river zones) into irregular fields."""
    zone_union = shapely.union_all(
        [r.line.buffer(r.spec.zone_m + ZONE_MARGIN, quad_segs=16) for r in land.rivers]
    )
    fixed: list[shapely.Geometry] = [land.valley.boundary, zone_union.boundary]
    fixed += [v.boundary for v in land.villages]
    cuts: list[shapely.Geometry] = []
    for r in land.rivers:
        cuts.extend(_river_cuts(r, rng))
    field = smooth_field(rng, 14.0, (310.0, 470.0, 730.0))
    cuts = list(warp(cuts, field))
    faces = polygonize(fixed + cuts)
    return _fields_of(land, faces, zone_union)


def _river_cuts(r: River, rng: np.random.Generator) -> np.ndarray:
    """The field edges of one river's valley: lines along it and across it, clipped to the
    river's own valley (a little wider than the valley floor)."""
    dense = r.dense[::2]  # 20 m steps
    hw = r.half_width[::2]
    nrm = line_normals(dense, smooth=11)
    s = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(dense, axis=0).T))])
    own_valley = valley_polygon(r.dense, r.half_width + 30.0)
    z0 = r.spec.zone_m + ZONE_MARGIN
    rc, steps = _along_lines(dense, hw, nrm, s, z0, rng)
    rc += _across_lines(dense, hw, nrm, s, z0, steps, rng)
    return shapely.intersection(np.asarray(rc, dtype=object), own_valley)


def _along_lines(
    dense: np.ndarray,
    hw: np.ndarray,
    nrm: np.ndarray,
    s: np.ndarray,
    z0: float,
    rng: np.random.Generator,
) -> tuple[list[LineString], list[tuple[int, int, np.ndarray]]]:
    """Lines along the valley at irregular distances from the bank, four a side, drawn only
    in runs where the valley is wide enough; also their distances (side, k, distance)."""
    rc: list[LineString] = []
    steps = []
    for side in (1, -1):
        d = np.full(s.shape, z0)  # distance from the bank at each vertex
        for k in range(4):
            w = 120.0 + 35.0 * np.sin(
                2 * np.pi * s / rng.uniform(700, 1300) + rng.uniform(0, 6.3)
            )
            w += rng.uniform(-15, 15)
            d = d + w
            steps.append((side, k, d.copy()))
            pts = _offset(dense, nrm, side * d)
            inside = d < hw - 40.0
            # only draw where the valley is wide enough, in runs
            run = []
            for i, ok in enumerate(inside):
                if ok:
                    run.append(pts[i])
                elif len(run) > 3:
                    rc.append(LineString(run))
                    run = []
                else:
                    run = []
            if len(run) > 3:
                rc.append(LineString(run))
    return rc, steps


def _across_lines(
    dense: np.ndarray,
    hw: np.ndarray,
    nrm: np.ndarray,
    s: np.ndarray,
    z0: float,
    steps: list[tuple[int, int, np.ndarray]],
    rng: np.random.Generator,
) -> list[LineString]:
    """Lines across the valley at irregular stations, slightly skewed, each side reaching the
    foot of the hill or stopping at the first or second line along (staggered like bricks)."""
    rc: list[LineString] = []
    pos = rng.uniform(0, 60.0)
    while pos < s[-1]:
        i = int(np.searchsorted(s, pos))
        i = min(i, len(s) - 1)
        ang = rng.normal(0.0, np.radians(9.0))
        c, sn = np.cos(ang), np.sin(ang)
        n = nrm[i]
        n = np.array([c * n[0] - sn * n[1], sn * n[0] + c * n[1]])
        for side in (1, -1):
            u = rng.uniform()
            if u < 0.55:
                reach = hw[i] + 220.0
            else:
                k = 0 if u < 0.8 else 1
                d = next(st[2] for st in steps if st[0] == side and st[1] == k)
                reach = d[i] + 25.0
            start = dense[i] + side * n * (z0 - 25.0)
            end = dense[i] + side * n * reach
            rc.append(LineString([start, end]))
        pos += rng.gamma(4.0, 22.0) + 20.0
    return rc


def _fields_of(land: Landscape, faces: list[Polygon], zone_union: shapely.Geometry) -> list[Field]:
    """The faces on the valley floor, outside every zone and in one village, as fields with
    their river, bank side and position along the river."""
    reps = shapely.point_on_surface(np.asarray(faces, dtype=object))
    valley_ok = shapely.contains_xy(land.valley, *shapely.get_coordinates(reps).T)
    zone_ok = ~shapely.contains_xy(zone_union, *shapely.get_coordinates(reps).T)
    out: list[Field] = []
    rlines = [r.line for r in land.rivers]
    dist = np.vstack([shapely.distance(rl, reps) for rl in rlines])
    for f, rp, vok, zok, d in zip(faces, reps, valley_ok, zone_ok, dist.T, strict=True):
        if not (vok and zok):
            continue
        vil = [i for i, v in enumerate(land.villages) if v.contains(rp)]
        if len(vil) != 1:
            continue
        ri = int(np.argmin(d))
        rl = rlines[ri]
        sp = rl.project(rp)
        a = rl.interpolate(max(sp - 5, 0))
        b = rl.interpolate(min(sp + 5, rl.length))
        cross = (b.x - a.x) * (rp.y - a.y) - (b.y - a.y) * (rp.x - a.x)
        out.append(Field(f, vil[0], ri, 1 if cross > 0 else -1, float(sp)))
    return out


def field_area_mu(f: Field) -> float:
    """Planar area of a field in mu (for selection; reported areas are ellipsoidal)."""
    return f.geom.area / M2_PER_MU
