"""Land-transfer contracts (土地流转) and permanent basic farmland, with the planted faults.

Farmland transfers are valley fields (see `fields`), forest-land transfers are forest plots on
the slopes, and the photovoltaic project is a group of hillside plots cut into panels plus
one valley parcel. Exactly five things are wrong on purpose (`Parcel.role` names them);
everything else passes every audit rule of the design.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon

from geo_township.units import M2_PER_MU

from . import names
from .fields import Field
from .forest import PlotGeometry
from .geometry import (
    EdgeDistance,
    largest_polygon,
    polygons_of,
    shared_length,
    split_long_axis,
)
from .terrain import Landscape

_INSET = 5.0  # parcels keep this far inside their village border (m)
N_FARMLAND = 270  # ordinary farmland contracts
N_FOREST = 40  # ordinary forest-land contracts (油茶 / 苗木)


@dataclass
class Parcel:
    """One contract before ids and declared areas are attached (geometry in EPSG:4548)."""

    geom: Polygon
    village: int
    land_type: str
    use: str
    transferor: str
    transferee: str
    start: dt.date
    end: dt.date
    role: str = ""  # planted fault or special role, "" for ordinary contracts


@dataclass
class TransferPlan:
    """Contracts and basic-farmland patches (EPSG:4548)."""

    parcels: list[Parcel]
    basic_farmland: list[tuple[Polygon, int]]


def _add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _term(start: dt.date, years: int) -> dt.date:
    return _add_years(start, years) - dt.timedelta(days=1)


def _start_date(rng: np.random.Generator, lo: int = 2015, hi: int = 2023) -> dt.date:
    years = np.arange(lo, hi + 1)
    w = np.linspace(1.0, 1.8, len(years))
    w /= w.sum()
    y = int(rng.choice(years, p=w))
    month = int(rng.integers(1, 13)) if y < 2023 else int(rng.integers(1, 5))
    day = 1 if rng.uniform() < 0.6 else int(rng.integers(1, 29))
    return dt.date(y, month, day)


def _duration(rng: np.random.Generator) -> int:
    return int(rng.choice([3, 5, 5, 6, 8, 10, 10, 10, 12, 15, 15, 20]))


def _households(rng: np.random.Generator, mu: float) -> str:
    n = max(1, round(mu / rng.uniform(1.8, 4.5)))
    p = names.person(rng)
    return p if n == 1 else f"{p}等{n}户"


def _transferor(rng: np.random.Generator, village: str, mu: float, collective: float) -> str:
    if rng.uniform() < collective:
        return f"{village}集体"
    return _households(rng, mu)


def _inset(geom: Polygon, village_inset: Polygon) -> Polygon | None:
    parts = polygons_of(shapely.intersection(geom, village_inset))
    if not parts:
        return None
    return max(parts, key=lambda p: p.area)


def _grow_into(base: Polygon, other: Polygon, target_m2: float) -> Polygon:
    """The part of `other` within distance t of `base`, t chosen so its area ≈ target."""
    lo, hi = 0.5, 600.0
    piece = other
    for _ in range(40):
        t = 0.5 * (lo + hi)
        piece = largest_polygon(shapely.intersection(other, base.buffer(t, quad_segs=4)))
        if piece.area < target_m2:
            lo = t
        else:
            hi = t
    return piece


def _adjacency(fields: list[Field], min_len: float) -> list[tuple[int, int, float]]:
    geoms = np.asarray([f.geom for f in fields], dtype=object)
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="touches")
    out = []
    for i, j in zip(a, b, strict=True):
        if i < j:
            ln = shared_length(geoms[i], geoms[j])
            if ln >= min_len:
                out.append((int(i), int(j), ln))
    return out


@dataclass
class _Planning:
    """What the steps of :func:`plan_transfers` share: the inputs, the fields' neighbours
    (``adj``, visited in ``order``), the blocks of neighbouring fields, the contracts so
    far and the fields already taken (``reserved``)."""

    land: Landscape
    fields: list[Field]
    plots: list[PlotGeometry]
    rng: np.random.Generator
    vnames: list[str]
    insets: list[Polygon]
    mu: np.ndarray
    adj: list[tuple[int, int, float]]
    order: np.ndarray
    block_key: list[tuple]
    keys: list[tuple]
    is_bf_block: dict[tuple, bool]
    plot_geoms: np.ndarray
    parcels: list[Parcel] = field(default_factory=list)
    reserved: set[int] = field(default_factory=set)
    pv_plots: list[int] = field(default_factory=list)


def plan_transfers(
    land: Landscape,
    fields: list[Field],
    plots: list[PlotGeometry],
    species: np.ndarray,
    rng: np.random.Generator,
) -> TransferPlan:
    """Choose the contracts, draw the planted faults and the basic farmland.

    The steps run in a fixed order and draw from ``rng`` in that order, so the sample
    stays the same for a seed."""
    plan = _planning(land, fields, plots, rng)
    _plant_crossing_village(plan)
    _plan_photovoltaic(plan)
    _plant_overlap(plan)
    _plan_renewals(plan)
    block_members = _plan_farmland(plan)
    _plant_area_off(plan)
    _plan_forest_land(plan, species)
    return TransferPlan(plan.parcels, _basic_farmland(plan, block_members))


def _planning(
    land: Landscape, fields: list[Field], plots: list[PlotGeometry], rng: np.random.Generator
) -> _Planning:
    """The fields' neighbours and blocks of neighbouring fields (one operator per block,
    basic farmland by block)."""
    vnames = [v[0] for v in names.VILLAGES]
    insets = [v.buffer(-_INSET) for v in land.villages]
    mu = np.array([f.geom.area / M2_PER_MU for f in fields])
    adj = _adjacency(fields, 30.0)
    order = rng.permutation(len(adj))

    # blocks of neighbouring fields: one operator per block, basic farmland by block
    blen = {ri: rng.uniform(380.0, 620.0) for ri in range(len(land.rivers))}
    boff = {ri: rng.uniform(0.0, 300.0) for ri in range(len(land.rivers))}
    block_key = [
        (f.village, f.river, f.side, int((f.s + boff[f.river]) // blen[f.river])) for f in fields
    ]
    keys = sorted(set(block_key))
    is_bf_block = {k: bool(rng.uniform() < 0.72) for k in keys}
    plot_geoms = np.asarray([p.geom for p in plots], dtype=object)
    return _Planning(
        land,
        fields,
        plots,
        rng,
        vnames,
        insets,
        mu,
        adj,
        order,
        block_key,
        keys,
        is_bf_block,
        plot_geoms,
    )


def _plant_crossing_village(plan: _Planning) -> None:
    """Planted fault: a parcel reaching into the neighbouring village."""
    fields, mu, rng, vnames = plan.fields, plan.mu, plan.rng, plan.vnames
    for k in plan.order:
        i, j, ln = plan.adj[k]
        fi, fj = fields[i], fields[j]
        if fi.village == fj.village or ln < 40.0:
            continue
        if not (12.0 <= mu[i] <= 40.0 and mu[j] >= 0.6 * mu[i]):
            continue
        piece = _grow_into(fi.geom, fj.geom, 0.26 * fi.geom.area)
        geom = largest_polygon(shapely.union(fi.geom, piece))
        start = dt.date(2019, 3, 1)
        plan.parcels.append(
            Parcel(
                geom,
                fi.village,
                "耕地",
                "粮食种植",
                _households(rng, mu[i] * 1.26),
                f"{names.short(vnames[fi.village])}粮食种植专业合作社",
                start,
                _term(start, 10),
                role="crosses_village",
            )
        )
        plan.reserved |= {i, j}
        break


def _plan_photovoltaic(plan: _Planning) -> None:
    """The photovoltaic project: hillside plots cut into panels plus one valley parcel on
    basic farmland (the planted fault)."""
    fields, mu, land, plots = plan.fields, plan.mu, plan.land, plan.plots
    plot_geoms = plan.plot_geoms
    plot_tree = shapely.STRtree(plot_geoms)
    for k in plan.order:
        i, j, _ = plan.adj[k]
        if i in plan.reserved or j in plan.reserved:
            continue
        fi, fj = fields[i], fields[j]
        if fi.village != fj.village or not (5.0 <= mu[i] <= 35 and 5.0 <= mu[j] <= 35):
            continue
        bi, bj = plan.is_bf_block[plan.block_key[i]], plan.is_bf_block[plan.block_key[j]]
        if bi == bj:
            continue
        a, b = (i, j) if not bi else (j, i)  # a: not basic farmland, b: basic farmland
        if fields[a].geom.distance(land.valley.boundary) > 1.0:
            continue  # the project starts at the foot of the hill
        hits = plot_tree.query(fields[a].geom.buffer(450.0), predicate="intersects")
        near = [int(p) for p in hits if plots[int(p)].village == fi.village]
        near.sort(key=lambda p: plot_geoms[int(p)].distance(fields[a].geom))
        chosen, total = [], 0.0
        for p in near:
            pm = plot_geoms[p].area / M2_PER_MU
            if pm > 160:
                continue
            chosen.append(p)
            total += pm
            if total > 260.0:
                break
        if total < 220.0 or len(chosen) > 7:
            continue
        plan.pv_plots = chosen
        _add_photovoltaic(plan, a, b, fi.village)
        plan.reserved |= {a, b}
        break


def _add_photovoltaic(plan: _Planning, a: int, b: int, village: int) -> None:
    """The project's contracts: the valley parcel of fields ``a`` and ``b``, and its
    hillside plots cut into strips of panels."""
    rng, fields, mu = plan.rng, plan.fields, plan.mu
    start = dt.date(2021, 6, 1)
    end = _term(start, 20)
    geom = _inset(shapely.union(fields[a].geom, fields[b].geom), plan.insets[village])
    vn = plan.vnames[village]
    plan.parcels.append(
        Parcel(
            geom,
            village,
            "耕地",
            "光伏发电",
            _households(rng, mu[a] + mu[b]),
            names.PV_COMPANY,
            start,
            end,
            role="pv_on_basic_farmland",
        )
    )
    for p in plan.pv_plots:
        g = plan.plot_geoms[p].buffer(-2.0)
        pm = g.area / M2_PER_MU
        k_strips = max(1, round(pm / rng.uniform(15.0, 24.0)))
        for piece in split_long_axis(g, k_strips, rng, 0.0):
            piece = piece.buffer(-1.0)
            for part in polygons_of(piece):
                if part.area >= 3.0 * M2_PER_MU:
                    plan.parcels.append(
                        Parcel(
                            part,
                            village,
                            "林地",
                            "光伏发电",
                            _transferor(rng, vn, part.area / M2_PER_MU, 0.5),
                            names.PV_COMPANY,
                            start,
                            end,
                            role="pv",
                        )
                    )


def _plant_overlap(plan: _Planning) -> None:
    """Planted fault: two contracts on overlapping land at the same time."""
    fields, mu, rng = plan.fields, plan.mu, plan.rng
    for k in plan.order:
        i, j, ln = plan.adj[k]
        if i in plan.reserved or j in plan.reserved or ln < 50.0:
            continue
        fi, fj = fields[i], fields[j]
        if fi.village != fj.village or not (22.0 <= mu[i] <= 60.0 and 8.0 <= mu[j] <= 40.0):
            continue
        piece = _grow_into(fj.geom, fi.geom, 8.0 * M2_PER_MU)
        gb = largest_polygon(shapely.union(fj.geom, piece))
        ga = _inset(fi.geom, plan.insets[fi.village])
        gb = _inset(gb, plan.insets[fi.village])
        if ga is None or gb is None or gb.area / M2_PER_MU > 75.0:
            continue
        vs = names.short(plan.vnames[fi.village])
        s1, s2 = dt.date(2018, 3, 1), dt.date(2020, 10, 1)
        plan.parcels.append(
            Parcel(
                ga,
                fi.village,
                "耕地",
                "粮食种植",
                _households(rng, mu[i]),
                f"{vs}粮食种植专业合作社",
                s1,
                _term(s1, 10),
                role="overlap_a",
            )
        )
        plan.parcels.append(
            Parcel(
                gb,
                fi.village,
                "耕地",
                "蔬菜种植",
                _households(rng, gb.area / M2_PER_MU),
                f"{names.person(rng)}家庭农场",
                s2,
                _term(s2, 8),
                role="overlap_b",
            )
        )
        plan.reserved |= {i, j}
        break


def _plan_renewals(plan: _Planning) -> None:
    """Renewals: the same land contracted again after the first contract ended."""
    fields, mu, rng = plan.fields, plan.mu, plan.rng
    cand = [
        i for i in rng.permutation(len(fields)) if i not in plan.reserved and 10.0 <= mu[i] <= 60.0
    ]
    for n_ren, i in enumerate(cand[:3]):
        f = fields[i]
        g1 = _inset(f.geom, plan.insets[f.village])
        if g1 is None:
            continue
        g2 = largest_polygon(g1.buffer(-1.0, join_style="mitre"))
        s1 = dt.date(2015 + n_ren, int(rng.integers(1, 7)), 1)
        e1 = _term(s1, int(rng.choice([3, 4, 5])))
        s2 = e1 + dt.timedelta(days=1)
        vs = names.short(plan.vnames[f.village])
        who = f"{vs}粮食种植专业合作社"
        use = "粮食种植"
        hh = _households(rng, mu[i])
        plan.parcels.append(
            Parcel(g1, f.village, "耕地", use, hh, who, s1, e1, role=f"renewal{n_ren}_a")
        )
        plan.parcels.append(
            Parcel(
                g2,
                f.village,
                "耕地",
                use,
                hh,
                who if n_ren else f"{names.person(rng)}家庭农场",
                s2,
                _term(s2, int(rng.choice([5, 10]))),
                role=f"renewal{n_ren}_b",
            )
        )
        plan.reserved.add(i)


def _plan_farmland(plan: _Planning) -> dict[tuple, list[int]]:
    """Ordinary farmland contracts, block by block (up to :data:`N_FARMLAND`); returns the
    fields of each block."""
    rng, keys = plan.rng, plan.keys
    block_members: dict[tuple, list[int]] = {}
    for i, k in enumerate(plan.block_key):
        block_members.setdefault(k, []).append(i)
    n_farm = 0
    visits = [keys[i] for i in rng.permutation(len(keys))]
    visits = visits + [keys[i] for i in rng.permutation(len(keys))]  # a second pass if needed
    taken: set[tuple] = set()
    for bk in visits:
        if n_farm >= N_FARMLAND:
            break
        bf = plan.is_bf_block[bk]
        if bk in taken or rng.uniform() > (0.55 if bf else 0.35):
            continue
        taken.add(bk)
        n_farm = _farm_block(plan, bk, block_members[bk], n_farm)
    return block_members


def _block_operator(rng: np.random.Generator, vs: str, bf: bool) -> tuple[str, str]:
    """A block's use (grain or vegetables on basic farmland) and the operator who farms it."""
    if bf:
        use = "粮食种植" if rng.uniform() < 0.68 else "蔬菜种植"
    else:
        use = str(
            rng.choice(
                ["粮食种植", "蔬菜种植", "水产养殖", "畜禽养殖", "苗木花卉"],
                p=[0.25, 0.2, 0.22, 0.18, 0.15],
            )
        )
    who = {
        "粮食种植": [
            f"{vs}粮食种植专业合作社",
            f"{names.person(rng)}家庭农场",
            f"{vs}农机服务专业合作社",
            *names.COMPANIES_FARM,
        ],
        "蔬菜种植": [
            f"{vs}蔬菜种植专业合作社",
            f"{names.person(rng)}家庭农场",
            "池州绿源农业科技有限公司",
        ],
        "水产养殖": [f"{names.person(rng)}家庭渔场", "池州清水渔业有限公司"],
        "畜禽养殖": [f"{names.person(rng)}家庭牧场", "安徽牧丰畜禽养殖有限公司"],
        "苗木花卉": ["池州青山苗木花卉有限公司", f"{names.person(rng)}家庭农场"],
    }[use]
    return use, str(who[int(rng.integers(len(who)))])


def _farm_block(plan: _Planning, bk: tuple, members: list[int], n_farm: int) -> int:
    """The contracts of one block (most of its free fields, one operator); returns the
    number of farmland contracts so far."""
    rng = plan.rng
    vi = bk[0]
    vn = plan.vnames[vi]
    use, transferee = _block_operator(rng, names.short(vn), plan.is_bf_block[bk])
    start0 = _start_date(rng)
    years0 = _duration(rng)
    for i in members:
        if i in plan.reserved or n_farm >= N_FARMLAND:
            continue
        if rng.uniform() > 0.75:
            continue
        g = _inset(plan.fields[i].geom, plan.insets[vi])
        if g is None:
            continue
        gm = g.area / M2_PER_MU
        if not (4.0 <= gm <= 78.0) or 4 * np.pi * g.area / g.length**2 < 0.25:
            continue
        start = start0 if rng.uniform() < 0.7 else _start_date(rng)
        plan.parcels.append(
            Parcel(
                g,
                vi,
                "耕地",
                use,
                _transferor(rng, vn, gm, 0.15),
                transferee,
                start,
                _term(start, years0 if start == start0 else _duration(rng)),
            )
        )
        plan.reserved.add(i)
        n_farm += 1
    return n_farm


def _plant_area_off(plan: _Planning) -> None:
    """Planted fault: one ordinary contract declares 20 % more than it measures."""
    farm_idx = [
        k
        for k, p in enumerate(plan.parcels)
        if p.role == "" and 10 <= p.geom.area / M2_PER_MU <= 50
    ]
    plan.parcels[farm_idx[int(plan.rng.integers(len(farm_idx)))]].role = "area_off"


def _plan_forest_land(plan: _Planning, species: np.ndarray) -> None:
    """Forest-land contracts: oil-tea and nursery plots above the valleys, a little in every
    village."""
    rng, plots, plot_geoms = plan.rng, plan.plots, plan.plot_geoms
    dval = EdgeDistance(plan.land.valley).distance(plot_geoms)  # plots lie outside the valley
    pm_all = np.array([g.area / M2_PER_MU for g in plot_geoms])
    ok = (dval < 700.0) & (pm_all >= 8.0) & (pm_all <= 76.0)
    ok[plan.pv_plots] = False
    perm = rng.permutation(len(plots))
    cand_tea = [int(p) for p in perm if ok[p] and species[p] == "油茶"]
    cand_other = [int(p) for p in perm if ok[p] and species[p] in ("杉木", "马尾松")]
    chosen: list[tuple[int, str]] = []
    for vi in range(len(plan.land.villages)):  # every village has a little oil-tea and nursery land
        chosen += [(p, "油茶种植") for p in cand_tea if plots[p].village == vi][:2]
        chosen += [(p, "苗木花卉") for p in cand_other if plots[p].village == vi][:1]
    used = {p for p, _ in chosen}
    n_tea = sum(1 for _, u in chosen if u == "油茶种植")
    chosen += [(p, "油茶种植") for p in cand_tea if p not in used][: max(0, 27 - n_tea)]
    used = {p for p, _ in chosen}
    chosen += [(p, "苗木花卉") for p in cand_other if p not in used][
        : max(0, N_FOREST - len(chosen))
    ]
    for p, use in chosen:
        vi = plots[p].village
        vn = plan.vnames[vi]
        g = largest_polygon(plot_geoms[p].buffer(-2.0))
        gm = g.area / M2_PER_MU
        if use == "油茶种植":
            opts = list(names.COMPANIES_FOREST[:1]) + [
                f"{names.short(vn)}油茶种植专业合作社",
                f"{names.person(rng)}家庭林场",
            ]
        else:
            opts = ["池州青山苗木花卉有限公司", f"{names.person(rng)}家庭林场"]
        start = _start_date(rng)
        plan.parcels.append(
            Parcel(
                g,
                vi,
                "林地",
                use,
                _transferor(rng, vn, gm, 0.5),
                str(opts[int(rng.integers(len(opts)))]),
                start,
                _term(start, int(rng.choice([10, 15, 20]))),
            ),
        )


def _basic_farmland(
    plan: _Planning, block_members: dict[tuple, list[int]]
) -> list[tuple[Polygon, int]]:
    """Permanent basic farmland: the fields of the basic-farmland blocks."""
    bf_polys: list[tuple[Polygon, int]] = []
    for bk in plan.keys:
        if not plan.is_bf_block[bk]:
            continue
        u = shapely.union_all([plan.fields[i].geom for i in block_members[bk]])
        for part in polygons_of(u.buffer(-0.3, join_style="mitre")):
            if part.area >= 1.0 * M2_PER_MU:
                bf_polys.append((part, bk[0]))
    return bf_polys
