"""The sample township's land form: outline, rivers, valley floors and the elevation function.

Everything here is in EPSG:4548 (CGCS2000 3-degree Gauss-Kruger, central meridian 117°E)
metres. Rivers are drawn first as smooth meanders; the elevation function is then built so
that it is low (a flat valley floor a few hundred metres wide) along every river and rises
into Gaussian hills between them. `elevation()` is public so that a DEM raster rasterised
later matches the vector layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Polygon

from .geometry import resample_line

DEFAULT_SEED = 20230430
#: Township centre in EPSG:4548 (≈ 117.5°E, 30.5°N).
CENTRE_X = 548_000.0
CENTRE_Y = 3_375_600.0
TOWNSHIP_AREA_M2 = 100e6

#: Step of the densified river centre lines used by the elevation function.
_KD_STEP = 10.0


@dataclass(frozen=True)
class RiverSpec:
    """Fixed description of one river (the random parts come from the seed)."""

    name: str
    prefix: str
    zone_m: float
    n_reaches: int


MAIN_RIVER = RiverSpec("青溪河", "QXH", 30.0, 4)
#: Tributaries: spec, source position relative to the centre (m), junction as a fraction of
#: the main river's length, valley half-width near the junction.
TRIBUTARIES: tuple[tuple[RiverSpec, tuple[float, float], float], ...] = (
    (RiverSpec("竹山溪", "ZSX", 15.0, 1), (-4300.0, -4200.0), 0.24),
    (RiverSpec("石门河", "SMH", 20.0, 2), (-2600.0, 4700.0), 0.36),
    (RiverSpec("桃源溪", "TYX", 15.0, 2), (1000.0, -4400.0), 0.55),
    (RiverSpec("龙潭溪", "LTX", 20.0, 1), (3400.0, 3500.0), 0.74),
)


@dataclass
class River:
    """A river centre line with its valley description along the arc length."""

    spec: RiverSpec
    line: LineString  # vertices every ~50 m, clipped to the township
    dense: np.ndarray  # (n, 2) vertices every _KD_STEP metres (unclipped)
    half_width: np.ndarray  # valley floor half-width at each dense vertex (m)
    floor: np.ndarray  # valley floor elevation at each dense vertex (m)
    tree: cKDTree = field(repr=False)


@dataclass
class Landscape:
    """Township, villages, rivers and valley floors, plus the parameters of the hill field."""

    seed: int
    township: Polygon  # union of the villages
    villages: list[Polygon]  # in the order of names.VILLAGES, tiling the township exactly
    rivers: list[River]
    valley: Polygon | shapely.MultiPolygon  # low farmland valley floors (all rivers)
    hills: np.ndarray = field(repr=False)  # (k, 4): x, y, amplitude, sigma
    waves: np.ndarray = field(repr=False)  # (k, 4): kx, ky, phase, amplitude


def rng_stream(seed: int, stream: int) -> np.random.Generator:
    """The random generator of one numbered stream of a seed: each part of the sample draws
    from its own stream, so changing one part leaves the others' draws unchanged."""
    return np.random.default_rng(np.random.SeedSequence([seed, stream]))


def _outline(rng: np.random.Generator) -> Polygon:
    """A rounded, wavy ~12 km × 9 km outline of about 100 km²."""
    th = np.linspace(0, 2 * np.pi, 721)[:-1]
    n = 2.6
    a, b = 6200.0, 4550.0
    c, s = np.cos(th), np.sin(th)
    r = 1.0 / (np.abs(c / a) ** n + np.abs(s / b) ** n) ** (1 / n)
    wav = np.ones_like(th)
    for k, amp in ((2, 0.03), (3, 0.045), (5, 0.03), (8, 0.018), (13, 0.01), (21, 0.006)):
        wav += amp * np.sin(k * th + rng.uniform(0, 2 * np.pi))
    r = r * wav
    pts = np.column_stack([r * c, r * s])
    poly = Polygon(pts)
    scale = np.sqrt(TOWNSHIP_AREA_M2 / poly.area)
    return Polygon(pts * scale + [CENTRE_X, CENTRE_Y])


def _main_river(rng: np.random.Generator, outline: Polygon) -> np.ndarray:
    minx, _, maxx, _ = outline.bounds
    x = np.arange(minx - 800.0, maxx + 800.0, 5.0)
    xr = x - CENTRE_X
    y = CENTRE_Y + 150.0 + 0.06 * xr
    for amp, wl in ((650.0, 5600.0), (230.0, 2300.0), (70.0, 950.0)):
        y = y + amp * rng.uniform(0.8, 1.1) * np.sin(2 * np.pi * xr / wl + rng.uniform(0, 6.28))
    return resample_line(np.column_stack([x, y]), 5.0)


def _tributary(rng: np.random.Generator, source: np.ndarray, junction: np.ndarray) -> np.ndarray:
    t = np.linspace(0.0, 1.0, 2001)
    base = source[None, :] + t[:, None] * (junction - source)[None, :]
    d = junction - source
    nrm = np.array([-d[1], d[0]]) / np.hypot(*d)
    env = np.sin(np.pi * t) ** 0.9 * (1 - t) ** 0.6
    off = env * (
        rng.uniform(250, 420) * np.sin(2 * np.pi * rng.uniform(0.8, 1.3) * t + rng.uniform(0, 6.28))
        + rng.uniform(60, 120)
        * np.sin(2 * np.pi * rng.uniform(2.5, 3.5) * t + rng.uniform(0, 6.28))
    )
    return resample_line(base + off[:, None] * nrm[None, :], 5.0)


def _arc(coords: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])


def valley_polygon(dense: np.ndarray, half_width: np.ndarray) -> shapely.Geometry:
    """Union of tapered capsules along the line: a smooth band of varying width."""
    idx = np.arange(0, len(dense), 4)
    if idx[-1] != len(dense) - 1:
        idx = np.append(idx, len(dense) - 1)
    circles = shapely.buffer(shapely.points(dense[idx]), half_width[idx], quad_segs=12)
    hulls = [
        shapely.convex_hull(shapely.union(circles[i], circles[i + 1])) for i in range(len(idx) - 1)
    ]
    return shapely.union_all(hulls)


def _build_rivers(rng: np.random.Generator, outline: Polygon) -> list[River]:
    main = _main_river(rng, outline)
    s_main = _arc(main)
    L = s_main[-1]
    ph = rng.uniform(0, 6.28, 3)
    w_main = (
        330.0
        + 110.0 * np.sin(2 * np.pi * s_main / 3700.0 + ph[0])
        + 50.0 * np.sin(2 * np.pi * s_main / 1500.0 + ph[1])
    )
    floor_main = 78.0 - 42.0 * s_main / L + 2.0 * np.sin(2 * np.pi * s_main / 2000 + ph[2])
    rivers_raw = [(MAIN_RIVER, main, w_main, floor_main)]
    main_line = LineString(main)
    for spec, (sx, sy), frac in TRIBUTARIES:
        src = np.array([CENTRE_X + sx, CENTRE_Y + sy]) + rng.uniform(-150, 150, 2)
        for attempt in range(40):
            f = frac + (attempt % 2 * 2 - 1) * 0.006 * ((attempt + 1) // 2)
            j = main_line.interpolate(f * L)
            jxy = np.array([j.x, j.y])
            trib = _tributary(rng, src, jxy)
            line = LineString(trib[:-8])  # all but the last 40 m must stay clear of the main river
            if not line.intersects(main_line.buffer(25.0)):
                break
        else:  # pragma: no cover - guarded by the fixed layout
            raise RuntimeError(f"could not route tributary {spec.name}")
        s = _arc(trib)
        lt = s[-1]
        jdx = int(np.argmin(np.hypot(*(main - jxy).T)))
        q = rng.uniform(0, 6.28)
        w = (85.0 + 170.0 * (s / lt) ** 0.8) * (1.0 + 0.18 * np.sin(2 * np.pi * s / 1100.0 + q))
        w = np.minimum(w, w_main[jdx] * 0.85)
        grad = rng.uniform(0.016, 0.024)
        fl = floor_main[jdx] + (lt - s) * grad
        rivers_raw.append((spec, trib, w, fl))

    rivers: list[River] = []
    for spec, coords, w, fl in rivers_raw:
        dense = resample_line(coords, _KD_STEP)
        s_src = _arc(coords)
        s_den = _arc(dense) * s_src[-1] / max(_arc(dense)[-1], 1e-9)
        hw = np.interp(s_den, s_src, w)
        fd = np.interp(s_den, s_src, fl)
        line = LineString(resample_line(coords, 50.0))  # clipped to the township later
        rivers.append(River(spec, line, dense, hw, fd, cKDTree(dense)))
    return rivers


def _clip_line(line: LineString, township: shapely.Geometry) -> LineString:
    clipped = line.intersection(township)
    if clipped.geom_type != "LineString":
        clipped = max(shapely.get_parts(clipped), key=lambda g: g.length)
    return LineString(resample_line(np.asarray(clipped.coords), 50.0))


def _hill_field(rng: np.random.Generator, outline: Polygon) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = outline.buffer(2000).bounds
    k = 34
    hills = np.column_stack(
        [
            rng.uniform(minx, maxx, k),
            rng.uniform(miny, maxy, k),
            rng.uniform(70.0, 240.0, k),
            rng.uniform(600.0, 1700.0, k),
        ]
    )
    nw = 7
    ang = rng.uniform(0, 2 * np.pi, nw)
    wl = rng.uniform(1200.0, 4500.0, nw)
    waves = np.column_stack(
        [
            2 * np.pi * np.cos(ang) / wl,
            2 * np.pi * np.sin(ang) / wl,
            rng.uniform(0, 2 * np.pi, nw),
            rng.uniform(12.0, 35.0, nw),
        ]
    )
    return hills, waves


@lru_cache(maxsize=4)
def landscape(seed: int = DEFAULT_SEED) -> Landscape:
    """Build (once per seed) the township, its villages, the rivers and the valley floors."""
    from .villages import village_polygons

    outline = _outline(rng_stream(seed, 1))
    villages = village_polygons(outline, rng_stream(seed, 4))
    township = shapely.union_all(villages)
    rivers = _build_rivers(rng_stream(seed, 2), outline)
    for r in rivers:
        r.line = _clip_line(r.line, township)
    main = rivers[0].line
    for r in rivers[1:]:  # end every tributary exactly on the main river's line
        c = np.asarray(r.line.coords)
        end = main.interpolate(main.project(shapely.Point(c[-1])))
        c[-1] = (end.x, end.y)
        r.line = LineString(c)
    valleys = [valley_polygon(r.dense, r.half_width) for r in rivers]
    valley = shapely.union_all(valleys).intersection(township)
    hills, waves = _hill_field(rng_stream(seed, 3), outline)
    return Landscape(seed, township, villages, rivers, valley, hills, waves)


def _hills(land: Landscape, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    h = np.full(x.shape, 90.0)
    for hx, hy, amp, sig in land.hills:
        h += amp * np.exp(-((x - hx) ** 2 + (y - hy) ** 2) / (2 * sig * sig))
    for kx, ky, ph, amp in land.waves:
        h += amp * np.sin(kx * x + ky * y + ph)
    # higher ground towards the south (the foothills of the Jiuhua range)
    h += 140.0 / (1.0 + np.exp((y - (CENTRE_Y - 1500.0)) / 1500.0))
    return 500.0 * np.tanh(np.maximum(h, 20.0) / 500.0)


def elevation(
    x: np.ndarray | float, y: np.ndarray | float, *, seed: int = DEFAULT_SEED
) -> np.ndarray:
    """Ground elevation in metres at EPSG:4548 coordinates (x east, y north).

    Smooth and deterministic for a given seed: a flat valley floor along every river that
    falls gently downstream, rising into hills between the rivers (about 30–600 m). Use it to
    rasterise a DEM that matches the bundled sample (same seed as the sample: 20230430).
    """
    land = landscape(seed)
    xa = np.asarray(x, float)
    ya = np.asarray(y, float)
    shape = np.broadcast(xa, ya).shape
    pts = np.column_stack([np.broadcast_to(xa, shape).ravel(), np.broadcast_to(ya, shape).ravel()])
    ds, ws, fs = [], [], []
    for r in land.rivers:
        d, i = r.tree.query(pts, k=1)
        ds.append(d)
        ws.append(r.half_width[i])
        fs.append(r.floor[i])
    D = np.vstack(ds)
    dmin = D.min(axis=0)
    sharp = np.exp(-(D - dmin) / 60.0)
    soft = np.exp(-(D - dmin) / 700.0)
    W = (sharp * np.vstack(ws)).sum(axis=0) / sharp.sum(axis=0)
    F = (soft * np.vstack(fs)).sum(axis=0) / soft.sum(axis=0)
    t = np.minimum(dmin / W, 1.0)
    u = np.maximum(dmin - W, 0.0)
    g = 1.0 - np.exp(-((u / 650.0) ** 2))
    z = F + 6.0 * t * t + g * _hills(land, pts[:, 0], pts[:, 1])
    return np.clip(z, 30.0, 600.0).reshape(shape)
