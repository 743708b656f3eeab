"""Pine-wilt infected trees (松材线虫病疫木): clustered points with a consistent life cycle.

Infections spread from a few foci (Gaussian clusters that widen from one survey season to
the next) plus a diffuse scatter, and fall in pine plots only - apart from a handful of
deliberate oddities whose ids go into the planted truth: GPS-noise points in other plots,
points outside every plot, points just outside the township and points exactly on the shared
edge of two pine plots.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

from .forest import PINES
from .geometry import EdgeDistance, lonlat_to_xy, xy_to_lonlat
from .names import DATA_DATE

DATA_DAY = dt.date.fromisoformat(DATA_DATE)
DEADLINE_2021 = dt.date(2022, 3, 31)

#: Survey seasons: label, first and last day a tree can be found, cluster widening factor,
#: share of all trees.
SEASONS = (
    ("2021秋季普查", dt.date(2021, 9, 1), dt.date(2021, 12, 20), 1.0, 0.30),
    ("2022春季补查", dt.date(2022, 3, 1), dt.date(2022, 4, 25), 1.15, 0.12),
    ("2022秋季普查", dt.date(2022, 9, 1), dt.date(2022, 12, 20), 1.45, 0.38),
    ("2023春季补查", dt.date(2023, 3, 1), dt.date(2023, 4, 25), 1.6, 0.20),
)
STATUS = ("疑似", "已确认", "已伐", "已清理", "已核查")
COLUMNS = (
    "编号",
    "经度",
    "纬度",
    "状态",
    "发现日期",
    "采伐日期",
    "清理日期",
    "核查日期",
    "除治方式",
    "调查方式",
    "村名",
    "小班编码",
)


@dataclass
class TreeResult:
    """The table as written (strings) and the ids/foci that the truth reports."""

    table: pd.DataFrame
    foci: list[dict]
    edge_ids: list[str]
    outside_plot_ids: list[str]
    outside_township_ids: list[str]
    noise_ids: list[str]
    stuck_2021_ids: list[str]


class _Locator:
    """Which plot contains a point, using coordinates as they will be written (6 decimals)."""

    def __init__(self, plot_geoms: np.ndarray, township: Polygon):
        self.geoms = plot_geoms
        self.tree = shapely.STRtree(plot_geoms)
        self.bounds = shapely.boundary(plot_geoms)
        self.township = township
        shapely.prepare(township)

    @staticmethod
    def round_xy(
        x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        lon, lat = xy_to_lonlat(x, y)
        lon, lat = np.round(lon, 6), np.round(lat, 6)
        xr, yr = lonlat_to_xy(lon, lat)
        return lon, lat, xr, yr

    def plot_of(self, x: np.ndarray, y: np.ndarray, margin: float = 0.5) -> np.ndarray:
        """Plot index per point, -1 outside all plots, -2 within `margin` of a plot boundary."""
        pts = shapely.points(x, y)
        out = np.full(len(x), -1, dtype=np.int64)
        a, b = self.tree.query(pts, predicate="intersects")
        out[a] = b
        near = self.tree.query(pts, predicate="dwithin", distance=margin)
        if len(near[0]):
            d = shapely.distance(pts[near[0]], self.bounds[near[1]])
            out[near[0][d < margin]] = -2
        return out


def _dates_in(rng: np.random.Generator, lo: dt.date, hi: dt.date, n: int) -> list[dt.date]:
    span = (hi - lo).days
    return [lo + dt.timedelta(days=int(d)) for d in rng.integers(0, span + 1, n)]


def _point(x: float, y: float, lon: float, lat: float, kind: str) -> dict:
    """A tree record outside the ordinary clusters (no plot, no focus; season drawn later)."""
    return {"x": x, "y": y, "lon": lon, "lat": lat, "plot": -1, "kind": kind, "focus": -1}


class _Scatter:
    """Draws tree points around a centre and keeps those that land in the wanted plots."""

    def __init__(self, loc: _Locator, is_pine: np.ndarray, rng: np.random.Generator):
        self.loc = loc
        self.is_pine = is_pine
        self.rng = rng
        self.town_in = loc.township.buffer(-1.0)
        shapely.prepare(self.town_in)
        self.recs: list[dict] = []  # x, y, lon, lat, plot, season, kind, focus

    def take(
        self, cx: float, cy: float, sig: float, n: int, want: str, season: int, focus: int
    ) -> None:
        """Add n points drawn around (cx, cy) (uniformly if sig == 0) that land in a pine
        plot (want == "pine") or in another plot (GPS noise)."""
        rng, loc = self.rng, self.loc
        got = 0
        for _ in range(60):
            if got >= n:
                return
            m = max(64, 3 * (n - got))
            if sig > 0:
                x = cx + rng.normal(0, sig, m)
                y = cy + rng.normal(0, sig, m)
            else:
                minx, miny, maxx, maxy = loc.township.bounds
                x = rng.uniform(minx, maxx, m)
                y = rng.uniform(miny, maxy, m)
            lon, lat, xr, yr = loc.round_xy(x, y)
            pl = loc.plot_of(xr, yr)
            ins = shapely.contains_xy(self.town_in, xr, yr)
            for k in range(m):
                if got >= n:
                    break
                p = pl[k]
                if p < 0 or not ins[k]:
                    continue
                if (want == "pine") != bool(self.is_pine[p]):
                    continue
                self.recs.append(
                    {
                        "x": xr[k],
                        "y": yr[k],
                        "lon": lon[k],
                        "lat": lat[k],
                        "plot": int(p),
                        "season": season,
                        "kind": "noise" if want != "pine" else "tree",
                        "focus": focus,
                    }
                )
                got += 1
        raise RuntimeError("could not place infected trees")  # pragma: no cover


def infected_trees(
    township: Polygon,
    valley: shapely.Geometry,
    plot_geoms: np.ndarray,
    species: np.ndarray,
    plot_codes: np.ndarray,
    plot_village: np.ndarray,
    rng: np.random.Generator,
) -> TreeResult:
    """Generate the infected-tree table (see module doc)."""
    loc = _Locator(plot_geoms, township)
    is_pine = np.isin(species, PINES)
    cent = shapely.get_coordinates(shapely.centroid(plot_geoms))
    foci_xy = _foci(loc, is_pine, cent, rng)
    sigma0 = rng.uniform(110.0, 250.0, len(foci_xy))
    weight = rng.uniform(0.5, 1.5, len(foci_xy))
    weight /= weight.sum()
    scatter = _Scatter(loc, is_pine, rng)
    focus_counts = _season_trees(scatter, foci_xy, sigma0, weight)
    pine_idx = np.flatnonzero(is_pine)
    specials = _outside_plot_points(loc, valley, pine_idx, cent, rng)
    specials += _outside_township_points(loc, pine_idx, cent, rng)
    specials += _edge_points(plot_geoms, is_pine, plot_village, rng)
    for s in specials:
        s["season"] = int(rng.integers(0, len(SEASONS)))
    allrec = scatter.recs + specials
    table, ids = _life_cycle(allrec, plot_codes, plot_village, rng)
    return _result(table, ids, allrec, foci_xy, sigma0, focus_counts)


def _foci(
    loc: _Locator, is_pine: np.ndarray, cent: np.ndarray, rng: np.random.Generator
) -> list[np.ndarray]:
    """Five to eight infection foci: pine-plot centres well inside the township, far apart,
    with mostly pine around them."""
    inner = loc.township.buffer(-900.0)
    n_foci = int(rng.integers(5, 9))
    foci_xy: list[np.ndarray] = []
    for p in rng.permutation(np.flatnonzero(is_pine)):
        c = cent[p]
        if not inner.contains(shapely.Point(c)):
            continue
        if any(np.hypot(*(c - f)) < 1900.0 for f in foci_xy):
            continue
        probe = c + rng.normal(0, 300.0, (300, 2))
        idx = loc.plot_of(probe[:, 0], probe[:, 1])
        if np.mean([(i >= 0 and is_pine[i]) for i in idx]) < 0.6:
            continue
        foci_xy.append(c)
        if len(foci_xy) == n_foci:
            break
    return foci_xy


def _season_trees(
    scatter: _Scatter, foci_xy: list[np.ndarray], sigma0: np.ndarray, weight: np.ndarray
) -> np.ndarray:
    """The ordinary trees of every season (a diffuse scatter, the widening clusters and a few
    GPS-noise points), added to `scatter.recs`; returns the number of trees per focus."""
    rng = scatter.rng
    total = int(rng.integers(16000, 19500))
    diffuse_share = 0.07
    focus_counts = np.zeros(len(foci_xy), dtype=int)
    for season_i, (_, _, _, grow, share) in enumerate(SEASONS):
        n_season = round(total * share)
        n_diffuse = round(n_season * diffuse_share)
        scatter.take(0.0, 0.0, 0.0, n_diffuse, "pine", season_i, -1)
        per = np.floor(weight * (n_season - n_diffuse)).astype(int)
        for focus_i, (c, s0, nf) in enumerate(zip(foci_xy, sigma0, per, strict=True)):
            scatter.take(c[0], c[1], min(s0 * grow, 600.0), int(nf), "pine", season_i, focus_i)
            focus_counts[focus_i] += nf
        # GPS noise: a few of the cluster trees are recorded inside a neighbouring non-pine plot
        n_noise = max(1, round(0.004 * n_season))
        for _ in range(n_noise):
            focus_i = int(rng.integers(len(foci_xy)))
            fx, fy = foci_xy[focus_i]
            scatter.take(fx, fy, 450.0, 1, "other", season_i, focus_i)
            focus_counts[focus_i] += 1
    return focus_counts


def _outside_plot_points(
    loc: _Locator,
    valley: shapely.Geometry,
    pine_idx: np.ndarray,
    cent: np.ndarray,
    rng: np.random.Generator,
) -> list[dict]:
    """Six to eleven points outside every plot but inside the township: just off a pine plot's
    edge into the valley."""
    specials: list[dict] = []
    near_valley = EdgeDistance(valley).distance(loc.geoms[pine_idx]) < 1.0
    pine_near_valley = [int(p) for p in pine_idx[near_valley]]
    rng.shuffle(pine_near_valley)
    n_out = int(rng.integers(6, 12))
    valley_edge = valley.buffer(0.5)
    for p in pine_near_valley:
        if len(specials) >= n_out:
            break
        edge = loc.geoms[p].boundary.intersection(valley_edge)
        if edge.length < 20:
            continue
        q = edge.interpolate(rng.uniform(0.2, 0.8), normalized=True)
        c = cent[p]
        d = np.array([q.x - c[0], q.y - c[1]])
        d /= np.hypot(*d)
        x, y = q.x + d[0] * rng.uniform(8.0, 30.0), q.y + d[1] * rng.uniform(8.0, 30.0)
        lon, lat, xr, yr = loc.round_xy(np.array([x]), np.array([y]))
        if loc.plot_of(xr, yr, margin=2.0)[0] != -1:
            continue
        if not loc.township.buffer(-5.0).contains(shapely.Point(xr[0], yr[0])):
            continue
        specials.append(_point(xr[0], yr[0], lon[0], lat[0], "outside_plot"))
    return specials


def _outside_township_points(
    loc: _Locator, pine_idx: np.ndarray, cent: np.ndarray, rng: np.random.Generator
) -> list[dict]:
    """Two or three points just outside the township boundary (GPS error), beyond a pine plot
    on the boundary."""
    township = loc.township
    specials: list[dict] = []
    ring = township.exterior
    edge_pine = [int(p) for p in pine_idx[EdgeDistance(ring).distance(loc.geoms[pine_idx]) < 1.0]]
    rng.shuffle(edge_pine)
    n_town = int(rng.integers(2, 4))
    for p in edge_pine:
        if len(specials) >= n_town:
            break
        q = ring.interpolate(ring.project(shapely.Point(cent[p])))
        d = np.array([q.x - cent[p][0], q.y - cent[p][1]])
        if np.hypot(*d) < 1:
            continue
        d /= np.hypot(*d)
        dist = rng.uniform(15.0, 60.0)
        lon, lat, xr, yr = loc.round_xy(
            np.array([q.x + d[0] * dist]), np.array([q.y + d[1] * dist])
        )
        pt = shapely.Point(xr[0], yr[0])
        if township.contains(pt) or township.distance(pt) < 5.0:
            continue
        specials.append(_point(xr[0], yr[0], lon[0], lat[0], "outside_township"))
    return specials


def _edge_points(
    plot_geoms: np.ndarray,
    is_pine: np.ndarray,
    plot_village: np.ndarray,
    rng: np.random.Generator,
) -> list[dict]:
    """Three to five points in the middle of the shared edge of two pine plots of one village,
    far apart."""
    specials: list[dict] = []
    n_edge = int(rng.integers(3, 6))
    tree = shapely.STRtree(plot_geoms)
    a_idx, b_idx = tree.query(plot_geoms, predicate="touches")
    pairs = [
        (int(a), int(b))
        for a, b in zip(a_idx, b_idx, strict=True)
        if a < b and is_pine[a] and is_pine[b] and plot_village[a] == plot_village[b]
    ]
    used_plots: set[int] = set()
    edge_pts: list[shapely.Point] = []
    for k in rng.permutation(len(pairs)):
        if len(edge_pts) >= n_edge:
            break
        a, b = pairs[k]
        if a in used_plots or b in used_plots:
            continue
        shared = shapely.line_merge(
            shapely.intersection(plot_geoms[a].boundary, plot_geoms[b].boundary)
        )
        parts = [g for g in shapely.get_parts(shared) if g.geom_type == "LineString"]
        if not parts:
            continue
        line = max(parts, key=lambda g: g.length)
        if line.length < 80.0 or any(line.distance(e) < 1500.0 for e in edge_pts):
            continue
        pt = line.interpolate(0.5, normalized=True)
        lon, lat = xy_to_lonlat(np.array([pt.x]), np.array([pt.y]))
        lon, lat = np.round(lon, 6), np.round(lat, 6)
        edge_pts.append(pt)
        used_plots |= {a, b}
        specials.append(_point(pt.x, pt.y, lon[0], lat[0], "edge"))
    return specials


def _result(
    table: pd.DataFrame,
    ids: list[str],
    allrec: list[dict],
    foci_xy: list[np.ndarray],
    sigma0: np.ndarray,
    focus_counts: np.ndarray,
) -> TreeResult:
    """The table with the foci and the ids of every kind of odd tree, for the truth."""
    kinds = np.array([r["kind"] for r in allrec])
    foci = []
    for f, (c, s0) in enumerate(zip(foci_xy, sigma0, strict=True)):
        lon, lat = xy_to_lonlat(np.array([c[0]]), np.array([c[1]]))
        foci.append(
            {
                "lon": round(float(lon[0]), 6),
                "lat": round(float(lat[0]), 6),
                "radius_m": round(float(min(s0 * SEASONS[-1][3], 600.0)), 1),
                "radius_m_by_season": [round(float(min(s0 * g[3], 600.0)), 1) for g in SEASONS],
                "n_trees": int(focus_counts[f]),
            }
        )
    stuck = [ids[i] for i, r in enumerate(allrec) if r.get("stuck")]
    return TreeResult(
        table=table,
        foci=foci,
        edge_ids=sorted(ids[i] for i in np.flatnonzero(kinds == "edge")),
        outside_plot_ids=sorted(ids[i] for i in np.flatnonzero(kinds == "outside_plot")),
        outside_township_ids=sorted(ids[i] for i in np.flatnonzero(kinds == "outside_township")),
        noise_ids=sorted(ids[i] for i in np.flatnonzero(kinds == "noise")),
        stuck_2021_ids=sorted(stuck),
    )


def _life_cycle(
    recs: list[dict], plot_codes: np.ndarray, plot_village: np.ndarray, rng: np.random.Generator
) -> tuple[pd.DataFrame, list[str]]:
    """Dates and status of every tree; returns the string table and the ids in `recs` order."""
    found, by_season = _discovery(recs, rng)
    drone = rng.uniform(size=len(recs)) < 0.3
    follow_up = _follow_up(found, rng)
    stage = _stages(recs, by_season, rng)
    dates = _settle(stage, found, *follow_up)
    order, ids = _tree_ids(recs, found)
    return _table(recs, order, ids, stage, dates, drone, plot_codes, plot_village, rng), ids


def _discovery(
    recs: list[dict], rng: np.random.Generator
) -> tuple[list[dt.date], dict[int, list[int]]]:
    """The day each tree was found (within its season) and the trees of each season."""
    found: list[dt.date] = [dt.date(2000, 1, 1)] * len(recs)
    by_season: dict[int, list[int]] = {}
    for i, r in enumerate(recs):
        by_season.setdefault(r["season"], []).append(i)
    for si, idx in by_season.items():
        _, lo, hi, _, _ = SEASONS[si]
        for i, d in zip(idx, _dates_in(rng, lo, hi, len(idx)), strict=True):
            found[i] = d
    return found, by_season


def _follow_up(
    found: list[dt.date], rng: np.random.Generator
) -> tuple[list[dt.date], list[dt.date], list[dt.date]]:
    """The days each tree would be felled, cleared and verified, if it got that far."""
    felled = [f + dt.timedelta(days=int(rng.integers(4, 46))) for f in found]
    cleared = [f + dt.timedelta(days=int(rng.integers(0, 19))) for f in felled]
    verified = [c + dt.timedelta(days=int(rng.integers(12, 76))) for c in cleared]
    return felled, cleared, verified


def _stages(
    recs: list[dict], by_season: dict[int, list[int]], rng: np.random.Generator
) -> np.ndarray:
    """How far each tree's treatment went by season (0 standing, 2 felled, 3 cleared,
    4 verified); a dozen autumn-2021 trees stay felled but not cleared (marked `stuck`)."""
    stage = np.full(len(recs), 4)
    for si, members in by_season.items():
        idx = np.asarray(members)
        u = rng.uniform(size=len(idx))
        if si == 0:
            stuck = rng.choice(idx, size=min(12, len(idx)), replace=False)
            stage[idx[u < 0.015]] = 3
            stage[stuck] = 2
            for i in stuck:
                recs[i]["stuck"] = True
        elif si == 1:
            stage[idx[u < 0.02]] = 3
        elif si == 2:
            stage[idx[u < 0.42]] = 3
            stage[idx[u < 0.04]] = 2
        else:
            stage[idx[u < 0.35]] = 0
    return stage


def _settle(
    stage: np.ndarray,
    found: list[dt.date],
    felled: list[dt.date],
    cleared: list[dt.date],
    verified: list[dt.date],
) -> list[tuple]:
    """Hold back every step after the data date (updating `stage`); the dates reached."""
    dates = []
    for i in range(len(found)):
        f, fe, cl, ve = found[i], felled[i], cleared[i], verified[i]
        st = int(stage[i])
        # nothing happens after the data date
        if st >= 2 and fe > DATA_DAY:
            st = 0
        if st >= 3 and cl > DATA_DAY:
            st = 2
        if st >= 4 and ve > DATA_DAY:
            st = 3
        stage[i] = st
        dates.append((f, fe if st >= 2 else None, cl if st >= 3 else None, ve if st >= 4 else None))
    return dates


def _tree_ids(recs: list[dict], found: list[dt.date]) -> tuple[list[int], list[str]]:
    """Ids by year of discovery, in order of discovery: the row order and the id of each tree."""
    n = len(recs)
    order = sorted(range(n), key=lambda i: (found[i], recs[i]["x"], recs[i]["y"]))
    ids = [""] * n
    seq: dict[int, int] = {}
    for i in order:
        y = found[i].year
        seq[y] = seq.get(y, 0) + 1
        ids[i] = f"SC{y}-{seq[y]:05d}"
    return order, ids


def _fmt(d: dt.date | None, slash: bool) -> str:
    """A date as ISO, or as 2022/3/5 when `slash`; empty for none."""
    if d is None:
        return ""
    return f"{d.year}/{d.month}/{d.day}" if slash else d.isoformat()


def _table(
    recs: list[dict],
    order: list[int],
    ids: list[str],
    stage: np.ndarray,
    dates: list[tuple],
    drone: np.ndarray,
    plot_codes: np.ndarray,
    plot_village: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The string table as written: some dates with slashes, plot and village filled for
    about 60% of the trees, a method for every felled tree."""
    n = len(recs)
    slash = rng.uniform(size=n) < 0.05
    filled = rng.uniform(size=n) < 0.6
    methods = rng.choice(["粉碎", "烧毁", "药物熏蒸"], size=n, p=[0.5, 0.28, 0.22])
    rows = []
    for i in order:
        r = recs[i]
        st = int(stage[i])
        if st == 0:
            status = "疑似" if drone[i] else "已确认"
        else:
            status = STATUS[st]
        f, fe, cl, ve = dates[i]
        has_plot = r["plot"] >= 0 and r["kind"] in ("tree", "noise")
        code = str(plot_codes[r["plot"]]) if has_plot and filled[i] else ""
        vil = str(plot_village[r["plot"]]) if has_plot and filled[i] else ""
        rows.append(
            (
                ids[i],
                f"{r['lon']:.6f}",
                f"{r['lat']:.6f}",
                status,
                _fmt(f, slash[i]),
                _fmt(fe, slash[i]),
                _fmt(cl, slash[i]),
                _fmt(ve, slash[i]),
                str(methods[i]) if fe is not None else "",
                "无人机" if drone[i] else "地面普查",
                vil,
                code,
            )
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))
