"""Village partition of the township: Voronoi cells of jittered seeds, warped so borders wind."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon

from .geometry import polygonize, smooth_field, warp
from .names import VILLAGES
from .terrain import CENTRE_X, CENTRE_Y


def village_polygons(outline: Polygon, rng: np.random.Generator) -> list[Polygon]:
    """Ten polygons, in the order of `names.VILLAGES`, that tile the (warped) outline exactly.

    The Voronoi edges and the outline are noded into one set of lines, densified, and every
    vertex is moved by one smooth displacement field; polygonizing the warped lines gives
    faces that share their edges vertex for vertex, so there are no gaps or overlaps.
    """
    seeds = np.array([[CENTRE_X + dx, CENTRE_Y + dy] for _, _, (dx, dy), _ in VILLAGES])
    seeds = seeds + rng.uniform(-250.0, 250.0, seeds.shape)
    env = outline.buffer(5000.0).envelope
    cells = shapely.get_parts(shapely.voronoi_polygons(MultiPoint(seeds), extend_to=env))
    lines = [c.boundary for c in cells] + [outline.boundary]
    noded = shapely.unary_union(lines)
    noded = shapely.segmentize(noded, 40.0)
    field = smooth_field(rng, 260.0, (1400.0, 2300.0, 3700.0, 5200.0))
    warped = warp([noded], field)[0]
    (wseeds,) = warp([MultiPoint(seeds)], field)
    faces = polygonize([warped])
    inside = shapely.Polygon(warp([outline], field)[0].exterior)
    faces = [f for f in faces if inside.contains(f.representative_point())]
    out: list[Polygon] = []
    for p in shapely.get_parts(wseeds):
        hit = [f for f in faces if f.contains(p)]
        if len(hit) != 1:
            raise RuntimeError("village seed not in exactly one face")
        out.append(hit[0])
    if len(out) != len(faces):
        raise RuntimeError("village faces and seeds do not match")
    return out
