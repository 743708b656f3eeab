"""Density-based clusters of projected points (DBSCAN), exact, in memory that grows with
the number of points rather than with points × neighbours.

The rule is DBSCAN's (Ester et al. 1996) as scikit-learn's ``DBSCAN(eps, min_samples)``
applies it, and the labels are the same:

* a point is *core* when at least ``min_samples`` points (itself included) lie within
  ``eps`` of it (distance ≤ eps, compared as dx² + dy² ≤ eps²);
* core points within ``eps`` of each other are in one cluster;
* a point that is not core but lies within ``eps`` of a core point is a *border* point of
  the first cluster (in the numbering below) with a core point that near;
* every other point is noise (label -1);
* clusters are numbered 0, 1, … in the order of their first core point.

How (a grid, as in Gunawan 2013 and Gan & Tao 2015): points go into square cells of side
eps/√2, so two points of one cell are always within eps of each other. A cell holding
``min_samples`` points is therefore all core, and the core points of one cell are all in
one cluster: only the points of sparse cells are counted one by one, and only against the
5 × 5 cells around them. Two neighbouring cells' core points are linked when some pair of
them is within eps — found first by a nearest-point probe, which settles nearly every pair
of dense cells, and otherwise by testing every pair. All pair tests run in chunks of at
most :data:`CHUNK` pairs, so memory stays a few arrays per point and per cell however
dense an outbreak is (scikit-learn keeps every neighbourhood: points × neighbours).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

CHUNK = 1 << 21
"""Point pairs tested at once (about 2 million: a few tens of MB of work arrays)."""

_SLACK = 1e-7
"""Relative margin on cell-rectangle distances, far above the rounding of cell bounds."""

_OFFSETS = np.array([(dx, dy) for dx in range(-2, 3) for dy in range(-2, 3)], dtype="int64")
"""The 5 × 5 cells around a cell (itself included): every point within eps of a point of
the centre cell lies in one of them (cells are eps/√2 wide)."""
_NEAREST_FIRST = np.array(sorted((i for i, o in enumerate(_OFFSETS) if o.any()),
                                 key=lambda i: (int(_OFFSETS[i] @ _OFFSETS[i]), i)), dtype="int64")
"""The 24 neighbouring cells, nearest first."""
_FORWARD = np.array([i for i, (dx, dy) in enumerate(_OFFSETS) if dx > 0 or (dx == 0 and dy > 0)], dtype="int64")
"""Half of the neighbouring cells, so each pair of cells is looked at once."""


@dataclass(frozen=True)
class _Grid:
    """Points sorted by cell, and the cells: their integer position, first point, count
    and the indices of the 5 × 5 cells around each (-1 where empty)."""

    x: np.ndarray
    y: np.ndarray
    order: np.ndarray  # sorted position → original index
    cell_of: np.ndarray  # per sorted point
    start: np.ndarray
    count: np.ndarray
    ix: np.ndarray
    iy: np.ndarray
    neighbours: np.ndarray  # (cells, 25)
    x0: float
    y0: float
    side: float


def _grid(x: np.ndarray, y: np.ndarray, eps: float) -> _Grid:
    """Bucket the points into cells of side just under eps/√2."""
    side = eps / np.sqrt(2.0) * (1.0 - 1e-9)
    x0, y0 = float(x.min()), float(y.min())
    gx = np.floor((x - x0) / side).astype("int64")
    gy = np.floor((y - y0) / side).astype("int64")
    height = int(gy.max()) + 5
    key = (gx + 2) * height + (gy + 2)
    order = np.argsort(key, kind="stable")
    keys, start, count = np.unique(key[order], return_index=True, return_counts=True)
    wanted = keys[:, None] + (_OFFSETS[:, 0] * height + _OFFSETS[:, 1])[None, :]
    pos = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    neighbours = np.where(keys[pos] == wanted, pos, -1)
    return _Grid(x[order], y[order], order, np.repeat(np.arange(len(keys)), count), start, count,
                 keys // height - 2, keys % height - 2, neighbours, x0, y0, side)


def _members(cells: np.ndarray, start: np.ndarray, count: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """For query ``i`` asking about cell ``cells[i]``: chunks of (query, member) index
    pairs, members being positions ``start[c] … start[c] + count[c] - 1``; at most about
    :data:`CHUNK` pairs a chunk (one query with a larger cell makes its own chunk)."""
    lens = count[cells]
    ends = np.cumsum(lens)
    first = 0
    while first < len(cells):
        base = ends[first - 1] if first else 0
        last = max(int(np.searchsorted(ends, base + CHUNK, side="right")), first + 1)
        q = np.arange(first, last)
        n = lens[first:last]
        query = np.repeat(q, n)
        offset = np.arange(len(query)) - np.repeat(np.cumsum(n) - n, n)
        yield query, np.repeat(start[cells[first:last]], n) + offset
        first = last


def _core(grid: _Grid, eps: float, min_samples: int) -> np.ndarray:
    """Per sorted point: core or not."""
    dense = grid.count >= min_samples
    core = dense[grid.cell_of]
    around = np.where(grid.neighbours >= 0, grid.count[np.maximum(grid.neighbours, 0)], 0).sum(axis=1)
    todo = np.flatnonzero(~core & (around[grid.cell_of] >= min_samples))
    block = max(CHUNK // len(_OFFSETS), 1)
    for first in range(0, len(todo), block):
        some = todo[first:first + block]
        core[some] = _count_near(grid, some, eps, min_samples) >= min_samples
    return core


def _count_near(grid: _Grid, todo: np.ndarray, eps: float, min_samples: int) -> np.ndarray:
    """How many points lie within eps of each point ``todo`` (sorted positions), itself
    included — exactly up to ``min_samples``; beyond that the count may stop early.

    The neighbouring cells are taken nearest first; a cell whose rectangle lies wholly
    within eps of the point counts whole, one wholly beyond it not at all, and only the
    cells in between are tested point by point."""
    cell = grid.cell_of[todo]
    u = grid.x[todo] - (grid.x0 + grid.ix[cell] * grid.side)  # the point within its cell
    v = grid.y[todo] - (grid.y0 + grid.iy[cell] * grid.side)
    n_near = grid.count[cell].astype("int64")  # its own cell: all within eps
    eps2 = eps * eps
    for k in _NEAREST_FIRST:
        open_ = n_near < min_samples
        nb = grid.neighbours[cell, k]
        dx, dy = _OFFSETS[k]
        lo_x, hi_x = dx * grid.side - u, (dx + 1) * grid.side - u  # the cell's sides, seen from the point
        lo_y, hi_y = dy * grid.side - v, (dy + 1) * grid.side - v
        near = np.hypot(np.maximum(np.maximum(lo_x, -hi_x), 0.0), np.maximum(np.maximum(lo_y, -hi_y), 0.0))
        far = np.hypot(np.maximum(np.abs(lo_x), np.abs(hi_x)), np.maximum(np.abs(lo_y), np.abs(hi_y)))
        whole = open_ & (nb >= 0) & (far <= eps * (1 - _SLACK))
        n_near[whole] += grid.count[nb[whole]]
        some = np.flatnonzero(open_ & (nb >= 0) & (near <= eps * (1 + _SLACK)) & ~whole)
        for q, m in _members(nb[some], grid.start, grid.count):
            p = todo[some[q]]
            d2 = (grid.x[p] - grid.x[m]) ** 2 + (grid.y[p] - grid.y[m]) ** 2
            n_near += np.bincount(some[q][d2 <= eps2], minlength=len(todo))
    return n_near


@dataclass(frozen=True)
class _Cores:
    """The core points (sorted positions), grouped by cell: per cell the first core, how
    many, and the bounding box of its cores."""

    index: np.ndarray
    start: np.ndarray
    count: np.ndarray
    box: np.ndarray  # (cells, 4): xmin, ymin, xmax, ymax (NaN without cores)


def _cores(grid: _Grid, core: np.ndarray) -> _Cores:
    index = np.flatnonzero(core)
    n_cells = len(grid.count)
    count = np.bincount(grid.cell_of[index], minlength=n_cells)
    start = np.cumsum(count) - count
    box = np.full((n_cells, 4), np.nan)
    has = count > 0
    if has.any():
        cx, cy = grid.x[index], grid.y[index]
        at = start[has]
        box[has] = np.column_stack([np.minimum.reduceat(cx, at), np.minimum.reduceat(cy, at),
                                    np.maximum.reduceat(cx, at), np.maximum.reduceat(cy, at)])
    return _Cores(index, start, count, box)


def _box_gap(box: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The distance between the core boxes of cells ``a`` and ``b``."""
    gx = np.maximum(np.maximum(box[a, 0] - box[b, 2], box[b, 0] - box[a, 2]), 0.0)
    gy = np.maximum(np.maximum(box[a, 1] - box[b, 3], box[b, 1] - box[a, 3]), 0.0)
    return np.hypot(gx, gy)


def _nearest(grid: _Grid, cores: _Cores, cells: np.ndarray, qx: np.ndarray, qy: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Per query: the core of ``cells[i]`` (each holding cores) nearest to (qx[i], qy[i])
    — its sorted position — and its squared distance."""
    best = np.full(len(cells), np.inf)
    which = np.zeros(len(cells), dtype="int64")
    for q, m in _members(cells, cores.start, cores.count):
        p = cores.index[m]
        d2 = (qx[q] - grid.x[p]) ** 2 + (qy[q] - grid.y[p]) ** 2
        starts = np.flatnonzero(np.r_[True, q[1:] != q[:-1]])  # queries come in runs
        low = np.minimum.reduceat(d2, starts)
        run = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(q)]))
        at = np.flatnonzero(d2 == low[run])
        at = at[np.r_[True, run[at][1:] != run[at][:-1]]]  # the first nearest of each run
        mine = q[starts]
        better = low < best[mine]
        best[mine[better]] = low[better]
        which[mine[better]] = p[at][better]
    return which, best


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of ``n`` cells linked by the pairs (a, b): each cell's label
    is the lowest cell of its component (min-label hooking and pointer jumping)."""
    label = np.arange(n)
    while len(a):
        la, lb = label[a], label[b]
        if np.array_equal(la, lb):
            break
        low = np.minimum(la, lb)
        np.minimum.at(label, la, low)
        np.minimum.at(label, lb, low)
        while True:
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped
    return label


def _extremes(grid: _Grid, cores: _Cores) -> np.ndarray:
    """Per cell with cores: its outermost cores in 8 directions (least and most x, y,
    x + y and x - y), as sorted positions (cells, 8)."""
    has = np.flatnonzero(cores.count > 0)
    at = cores.start[has]
    run = np.repeat(np.arange(len(has)), cores.count[has])
    x, y = grid.x[cores.index], grid.y[cores.index]
    out = np.zeros((len(cores.count), 8), dtype="int64")
    for j, value in enumerate((x, -x, y, -y, x + y, -x - y, x - y, y - x)):
        low = np.minimum.reduceat(value, at)
        hit = np.flatnonzero(value == low[run])
        hit = hit[np.r_[True, run[hit][1:] != run[hit][:-1]]]  # the first of each cell
        out[has, j] = cores.index[hit]
    return out


def _extremes_within(grid: _Grid, cores: _Cores, a: np.ndarray, b: np.ndarray, eps2: float) -> np.ndarray:
    """Which cell pairs have one of a's outermost cores within eps of one of b's: the cheap
    first probe, enough for nearly every pair of cells inside an outbreak."""
    ends = _extremes(grid, cores)
    linked = np.zeros(len(a), dtype=bool)
    block = max(CHUNK // 64, 1)
    for first in range(0, len(a), block):
        pa, pb = ends[a[first:first + block]], ends[b[first:first + block]]
        d2 = ((grid.x[pa][:, :, None] - grid.x[pb][:, None, :]) ** 2
              + (grid.y[pa][:, :, None] - grid.y[pb][:, None, :]) ** 2)
        linked[first:first + block] = (d2 <= eps2).any(axis=(1, 2))
    return linked


def _probe(grid: _Grid, cores: _Cores, a: np.ndarray, b: np.ndarray, eps2: float) -> np.ndarray:
    """Which cell pairs a nearest-point walk shows linked: from the middle of b's cores,
    the nearest core of a, the nearest of b to it, and back, twice."""
    qx = (cores.box[b, 0] + cores.box[b, 2]) / 2
    qy = (cores.box[b, 1] + cores.box[b, 3]) / 2
    linked = np.zeros(len(a), dtype=bool)
    for _ in range(2):
        pa, _ = _nearest(grid, cores, a, qx, qy)
        pb, d2 = _nearest(grid, cores, b, grid.x[pa], grid.y[pa])
        linked |= d2 <= eps2
        qx, qy = grid.x[pb], grid.y[pb]
    return linked


def _any_within(grid: _Grid, cores: _Cores, a: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    """Which cell pairs have a core of a within eps of a core of b (every pair tested)."""
    # each core of a against the cores of b, the hopeless ones (far from b's box) left out
    n_a = cores.count[a]
    pair = np.repeat(np.arange(len(a)), n_a)
    p = cores.index[np.repeat(cores.start[a], n_a) + np.arange(n_a.sum()) - np.repeat(np.cumsum(n_a) - n_a, n_a)]
    box = cores.box[b[pair]]
    gx = np.maximum(np.maximum(box[:, 0] - grid.x[p], grid.x[p] - box[:, 2]), 0.0)
    gy = np.maximum(np.maximum(box[:, 1] - grid.y[p], grid.y[p] - box[:, 3]), 0.0)
    keep = np.hypot(gx, gy) <= eps * (1 + _SLACK)
    pair, p = pair[keep], p[keep]
    found = np.zeros(len(a), dtype=bool)
    _, d2 = _nearest(grid, cores, b[pair], grid.x[p], grid.y[p])
    found[pair[d2 <= eps * eps]] = True
    return found


def _link_cells(grid: _Grid, cores: _Cores, eps: float) -> np.ndarray:
    """The component of each cell (cells without cores: their own)."""
    n_cells = len(grid.count)
    with_cores = np.flatnonzero(cores.count > 0)
    a = np.repeat(with_cores, len(_FORWARD))
    b = grid.neighbours[with_cores][:, _FORWARD].ravel()
    keep = b >= 0
    a, b = a[keep], b[keep]
    keep = cores.count[b] > 0
    a, b = a[keep], b[keep]
    keep = _box_gap(cores.box, a, b) <= eps * (1 + _SLACK)
    a, b = a[keep], b[keep]
    linked = _extremes_within(grid, cores, a, b, eps * eps)
    rest = np.flatnonzero(~linked)
    linked[rest] = _probe(grid, cores, a[rest], b[rest], eps * eps)
    comp = _components(n_cells, a[linked], b[linked])
    rest = np.flatnonzero(~linked)
    edges_a, edges_b = [a[linked]], [b[linked]]
    while len(rest):
        rest = rest[comp[a[rest]] != comp[b[rest]]]
        if not len(rest):
            break
        work = np.cumsum(cores.count[a[rest]] * 1.0)
        batch = rest[: max(int(np.searchsorted(work, CHUNK)), 1)]
        found = _any_within(grid, cores, a[batch], b[batch], eps)
        edges_a.append(a[batch][found])
        edges_b.append(b[batch][found])
        comp = _components(n_cells, np.concatenate(edges_a), np.concatenate(edges_b))
        rest = rest[len(batch):]
    return comp


def _borders(grid: _Grid, cores: _Cores, core: np.ndarray, cell_label: np.ndarray, eps: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """The non-core points within eps of a core point, and for each the lowest cluster
    label among those core points' clusters."""
    near_cores = np.asarray((np.where(grid.neighbours >= 0, cores.count[np.maximum(grid.neighbours, 0)], 0) > 0)
                            .any(axis=1))
    free = np.flatnonzero(~core & near_cores[grid.cell_of])
    block = max(CHUNK // len(_OFFSETS), 1)
    points, labels = [], []
    for first in range(0, len(free), block):
        some = free[first:first + block]
        best = _lowest_label(grid, cores, some, cell_label, eps)
        has = best >= 0
        points.append(some[has])
        labels.append(best[has])
    if not points:
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    return np.concatenate(points), np.concatenate(labels)


def _lowest_label(grid: _Grid, cores: _Cores, free: np.ndarray, cell_label: np.ndarray, eps: float) -> np.ndarray:
    """Per point of ``free``: the lowest label of a cluster with a core point within eps of
    it, else -1."""
    cells = grid.neighbours[grid.cell_of[free]].ravel()
    point = np.repeat(np.arange(len(free)), len(_OFFSETS))
    keep = cells >= 0
    point, cells = point[keep], cells[keep]
    keep = cores.count[cells] > 0
    point, cells = point[keep], cells[keep]
    px, py = grid.x[free[point]], grid.y[free[point]]
    box = cores.box[cells]
    gx = np.maximum(np.maximum(box[:, 0] - px, px - box[:, 2]), 0.0)
    gy = np.maximum(np.maximum(box[:, 1] - py, py - box[:, 3]), 0.0)
    keep = np.hypot(gx, gy) <= eps * (1 + _SLACK)
    point, cells = point[keep], cells[keep]
    _, d2 = _nearest(grid, cores, cells, grid.x[free[point]], grid.y[free[point]])
    near = d2 <= eps * eps
    top = np.iinfo("int64").max
    best = np.full(len(free), top, dtype="int64")
    np.minimum.at(best, point[near], cell_label[cells[near]])
    return np.where(best < top, best, -1)


def dbscan(x: np.ndarray, y: np.ndarray, *, eps: float, min_samples: int) -> np.ndarray:
    """DBSCAN labels (0, 1, … per cluster in the order of its first core point; -1 for
    noise) of points in a projected CRS, exactly as ``sklearn.cluster.DBSCAN(eps=eps,
    min_samples=min_samples).fit_predict`` gives them (see the module's rules)."""
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    if not eps > 0:
        raise ValueError(f"eps must be positive, not {eps!r}")
    labels = np.full(len(x), -1, dtype="int64")
    if len(x) == 0:
        return labels
    grid = _grid(x, y, float(eps))
    core = _core(grid, float(eps), int(min_samples))
    if not core.any():
        return labels
    cores = _cores(grid, core)
    comp = _link_cells(grid, cores, float(eps))
    # clusters numbered by their first core point in the original order
    core_comp = comp[grid.cell_of[cores.index]]
    first = np.full(comp.max() + 1, len(x), dtype="int64")
    np.minimum.at(first, core_comp, grid.order[cores.index])
    used = np.flatnonzero(first < len(x))
    number = np.full(len(first), -1, dtype="int64")
    number[used[np.argsort(first[used], kind="stable")]] = np.arange(len(used))
    cell_label = number[comp]
    sorted_labels = np.full(len(x), -1, dtype="int64")
    sorted_labels[cores.index] = cell_label[grid.cell_of[cores.index]]
    border, label = _borders(grid, cores, core, cell_label, float(eps))
    sorted_labels[border] = label
    labels[grid.order] = sorted_labels
    return labels
