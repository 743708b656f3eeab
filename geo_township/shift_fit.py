"""Does a layer fit the others far better after undoing the GCJ-02 shift? The test behind
``check``'s ``gcj02_shift`` finding for lines and polygons (points are judged by the share
inside the reference polygons, in :mod:`geo_township.checks`).

Rule: the layer's vertices (at most :data:`SAMPLE_VERTICES`, spread evenly) are compared
with each other layer's lines, polygon boundaries and points at five positions — as they
are, with the GCJ-02 shift undone (100–700 m in China), and moved as far as that in the
three other directions (the undone shift turned by 90°, 180° and 270°). The layer fits a
reference *far better undone* when, at the undone position,

* the median distance of its vertices to the reference is under a tenth of the
  smallest median at the other four positions (and at least :data:`MIN_GAIN_M` smaller), or
* at least 5 % of its vertices (and :data:`MIN_HITS`) lie on the reference (within
  :data:`ON_LINE_M`), more than four times the largest share at the other four positions.

A layer with fewer than :data:`MIN_VERTICES` vertices is not judged.

The turned positions are the control: a layer moved into denser data (a river moved out of
its valley into forest plots) comes nearer to that data whichever way it moves, while a
layer traced over AMap or Tencent comes right only when moved back the GCJ-02 way. On the
sample township every correct layer passes, a GCJ-02 copy of each line and polygon layer is
caught, and none of 1,000 random layers of boxes and wandering lines is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS, Transformer

from geo_township.crs import CGCS2000, gcj02_to_wgs84

SAMPLE_VERTICES = 1_000
SEARCH_M = 500.0  # distances beyond this count as this: a fit this poor is no fit
ON_LINE_M = 2.0
MIN_GAIN_M = 10.0
MEDIAN_RATIO = 0.1
SHARE_MIN = 0.05
SHARE_RATIO = 4.0
MIN_HITS = 10  # vertices on the reference the share rule needs at least (one or two prove nothing)
MIN_VERTICES = 20  # a layer with fewer vertices is not judged: too few to tell a fit from chance


@dataclass(frozen=True)
class ShiftFit:
    """How a layer fits one reference layer, as it is and with the GCJ-02 shift undone.

    ``median_m``: median distance of the vertices to the reference at the positions
    (as is, undone, the three turned controls); ``on_share``: share of the vertices within
    :data:`ON_LINE_M` of it, likewise. ``by`` says which rule found the better fit
    (``"median"``, ``"share"``) or ``""`` when neither did."""

    reference: str
    median_m: tuple[float, ...]
    on_share: tuple[float, ...]
    by: str


def sample_vertices(geoms: np.ndarray, limit: int = SAMPLE_VERTICES) -> np.ndarray:
    """At most ``limit`` vertices of ``geoms``, spread evenly over them, as an (n, 2) array."""
    xy = shapely.get_coordinates(geoms)
    if len(xy) > limit:
        xy = xy[np.linspace(0, len(xy) - 1, limit).astype(int)]
    return xy


def undone_positions(xy: np.ndarray, crs: CRS) -> tuple[list[np.ndarray], float]:
    """The five positions of the vertices ``xy`` (in ``crs``): as they are, the GCJ-02 shift
    undone, and that displacement turned by 90°, 180° and 270°; and the median size (m, in
    ``crs`` units) of the displacement."""
    to_ll = Transformer.from_crs(crs, CGCS2000, always_xy=True)
    from_ll = Transformer.from_crs(CGCS2000, crs, always_xy=True)
    lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
    wlon, wlat = gcj02_to_wgs84(lon, lat)
    fixed = np.column_stack(from_ll.transform(wlon, wlat))
    dv = fixed - xy
    turned = [xy + np.column_stack([dv[:, 0] * np.cos(a) - dv[:, 1] * np.sin(a),
                                    dv[:, 0] * np.sin(a) + dv[:, 1] * np.cos(a)])
              for a in (np.pi / 2, np.pi, 3 * np.pi / 2)]
    return [xy, fixed, *turned], float(np.median(np.hypot(dv[:, 0], dv[:, 1]))) if len(dv) else 0.0


def reference_tree(geoms: np.ndarray) -> shapely.STRtree:
    """A search tree of a reference layer's points and single segments (of its lines and
    polygon boundaries): small boxes and two-vertex distances keep the nearest-distance
    search fast on long rivers and large villages."""
    geoms = np.asarray(geoms, dtype=object).copy()
    polygons = np.isin(shapely.get_type_id(geoms), (3, 6))
    geoms[polygons] = shapely.boundary(geoms[polygons])
    parts = shapely.get_parts(geoms)
    points = parts[shapely.get_type_id(parts) == 0]
    lines = parts[shapely.get_type_id(parts) != 0]
    coords, which = shapely.get_coordinates(lines, return_index=True)
    same = which[1:] == which[:-1]
    segments = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1)) if same.any() else []
    return shapely.STRtree(np.concatenate([points, np.asarray(segments, dtype=object)]))


def _distances(tree: shapely.STRtree, xy: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest geometry in ``tree`` (at most :data:`SEARCH_M`)."""
    (found, _), near = tree.query_nearest(shapely.points(xy), max_distance=SEARCH_M, return_distance=True,
                                          all_matches=False)
    dist = np.full(len(xy), SEARCH_M)
    dist[found] = near
    return dist


def fit_to(name: str, tree: shapely.STRtree, positions: list[np.ndarray]) -> ShiftFit:
    """How the vertices at each position fit the reference ``tree``, and whether the undone
    position (the second) fits it far better than the others (the rule of this module).
    The controls are measured only when the undone position fits better than the layer as
    it is (they cannot change a "no" into a "yes")."""
    medians, shares = [], []
    for i, xy in enumerate(positions):
        dist = _distances(tree, xy)
        medians.append(float(np.median(dist)))
        shares.append(float(np.mean(dist <= ON_LINE_M)))
        if i == 1 and not (_share_rule(shares, len(xy)) or _median_rule(medians)):
            return ShiftFit(name, tuple(medians), tuple(shares), "")
    by = "share" if _share_rule(shares, len(positions[0])) else "median" if _median_rule(medians) else ""
    return ShiftFit(name, tuple(medians), tuple(shares), by)


def _share_rule(shares: list[float], n: int) -> bool:
    """The undone position (``shares[1]`` of ``n`` vertices) puts enough vertices on the
    reference, and far more than every other position measured."""
    others = [shares[0], *shares[2:]]
    return shares[1] >= SHARE_MIN and shares[1] * n >= MIN_HITS and shares[1] > SHARE_RATIO * max(others)


def _median_rule(medians: list[float]) -> bool:
    """The undone position (``medians[1]``) lies far nearer the reference than every other
    position measured."""
    best_other = min([medians[0], *medians[2:]])
    return medians[1] < MEDIAN_RATIO * best_other and best_other - medians[1] >= MIN_GAIN_M


class References:
    """The layers a layer is compared with: name → geometries (all in one CRS), with their
    search trees built on first use and kept for the next layer."""

    def __init__(self, layers: dict[str, np.ndarray]) -> None:
        self.layers = {name: geoms for name, geoms in layers.items() if len(geoms)}
        self._trees: dict[str, shapely.STRtree] = {}

    def tree(self, name: str) -> shapely.STRtree:
        """The search tree of one reference layer (:func:`reference_tree`)."""
        if name not in self._trees:
            self._trees[name] = reference_tree(self.layers[name])
        return self._trees[name]


def gcj02_fits(geoms: np.ndarray, crs: CRS, references: References, *, own: str | None = None
               ) -> tuple[list[ShiftFit], float]:
    """The reference layers (all but ``own``) that the layer ``geoms`` (in ``crs``, as the
    references) fits far better with the GCJ-02 shift undone — those found by the share rule
    first, then by the median, each best first — and the size (m) of the shift undone."""
    xy = sample_vertices(geoms)
    if len(xy) < MIN_VERTICES:
        return [], 0.0
    positions, shift_m = undone_positions(xy, crs)
    fits = [fit_to(name, references.tree(name), positions) for name in references.layers if name != own]
    by_share = sorted((f for f in fits if f.by == "share"), key=lambda f: -f.on_share[1])
    by_median = sorted((f for f in fits if f.by == "median"),
                       key=lambda f: f.median_m[1] / max(min(f.median_m[0], *f.median_m[2:]), 1e-9))
    return by_share + by_median, shift_m
