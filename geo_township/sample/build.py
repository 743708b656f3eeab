"""Assemble every layer of the sample township in memory, with the planted truth."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

from . import names
from .fields import valley_fields
from .forest import (
    PINES,
    PlotGeometry,
    forest_plot_geometries,
    number_plots,
    plot_attributes,
)
from .geometry import (
    GEO_EPSG,
    WORK_EPSG,
    ZONE39_EPSG,
    geod_area_mu,
    geoms_to_lonlat,
    geoms_to_zone39,
    lonlat_to_xy,
)
from .indicators import expected_indicators
from .plantations import replant
from .rasters import plan_rasters
from .riparian import riparian
from .river_work import PATROL_BUFFER_M, RiverWork, river_work
from .sand import sand_sites
from .terrain import DEFAULT_SEED, Landscape, landscape, rng_stream
from .transfers import plan_transfers
from .trees import TreeResult, infected_trees

log = logging.getLogger(__name__)


@dataclass
class Sample:
    """All layers, in the CRS each file is written in, plus the planted truth."""

    villages: gpd.GeoDataFrame  # EPSG:4490
    land_transfers: gpd.GeoDataFrame  # EPSG:4490
    basic_farmland: gpd.GeoDataFrame  # EPSG:4490
    forest_plots: gpd.GeoDataFrame  # EPSG:4527
    infected_trees: pd.DataFrame  # strings, as written to the CSV
    rivers: gpd.GeoDataFrame  # EPSG:4490 (written as RFC 7946 GeoJSON)
    sand_sites: gpd.GeoDataFrame  # EPSG:4490
    truth: dict


def _mu(x: float) -> float:
    return round(float(x), 4)


def _rivers(land: Landscape, rng: np.random.Generator) -> gpd.GeoDataFrame:
    chiefs = {  # reach code → (chief, level)
        "QXH-01": (names.COUNTY_CHIEF, "县级"),
        "QXH-02": (names.TOWNSHIP_CHIEFS[0], "乡级"),
        "QXH-03": (names.TOWNSHIP_CHIEFS[0], "乡级"),
        "QXH-04": (names.TOWNSHIP_CHIEFS[1], "乡级"),
    }
    rows = []
    for r in land.rivers:
        line = r.line
        n = r.spec.n_reaches
        cuts = [0.0]
        for k in range(1, n):
            cuts.append(line.length * (k / n + rng.uniform(-0.05, 0.05)))
        cuts.append(line.length)
        for k in range(n):
            code = f"{r.spec.prefix}-{k + 1:02d}"
            seg = substring(line, cuts[k], cuts[k + 1])
            if code in chiefs:
                chief, level = chiefs[code]
            elif k == 0 and r.spec.zone_m >= 20:
                chief, level = names.TOWNSHIP_CHIEFS[2], "乡级"
            else:
                mid = seg.interpolate(0.5, normalized=True)
                vi = next((i for i, v in enumerate(land.villages) if v.contains(mid)), 0)
                chief, level = names.VILLAGES[vi][3], "村级"
            rows.append(
                {
                    "河流名称": r.spec.name,
                    "河段编号": code,
                    "河长": chief,
                    "河长级别": level,
                    "管理范围": int(r.spec.zone_m),
                    "geometry": seg,
                }
            )
    g = gpd.GeoDataFrame(rows, geometry="geometry", crs=4548)
    g["geometry"] = geoms_to_lonlat(g.geometry.values)
    return g.set_crs(GEO_EPSG, allow_override=True)


@dataclass
class _Forest:
    """The forest plots in file order, with what the later layers need of them."""

    plots: list[PlotGeometry]  # EPSG:4548
    species: np.ndarray
    village: np.ndarray  # index into names.VILLAGES, per plot
    geoms: np.ndarray  # EPSG:4548
    codes: np.ndarray  # 小班编码
    table: gpd.GeoDataFrame  # EPSG:4527, as written


def build_sample(seed: int = DEFAULT_SEED) -> Sample:
    """Compute every layer and the truth for a seed (from scratch, every call)."""
    t0 = time.perf_counter()
    land = landscape(seed)
    vnames = np.array([v[0] for v in names.VILLAGES], dtype=object)
    log.info("terrain, villages and rivers: %.1f s", time.perf_counter() - t0)
    villages = gpd.GeoDataFrame(
        {"村名": vnames, "村代码": [v[1] for v in names.VILLAGES]},
        geometry=geoms_to_lonlat(land.villages),
        crs=GEO_EPSG,
    )
    fp = _forest_plots(land, vnames, seed)
    log.info("forest plots: %d (%.1f s)", len(fp.table), time.perf_counter() - t0)
    transfers, tfaults, basic = _farmland(land, fp, vnames, seed)
    log.info(
        "land transfers: %d, basic farmland: %d (%.1f s)",
        len(transfers),
        len(basic),
        time.perf_counter() - t0,
    )
    tr = infected_trees(
        land.township, land.valley, fp.geoms, fp.species, fp.codes, vnames[fp.village],
        rng_stream(seed, 9),
    )
    log.info("infected trees: %d (%.1f s)", len(tr.table), time.perf_counter() - t0)
    rivers = _rivers(land, rng_stream(seed, 11))
    sites = sand_sites(land, rng_stream(seed, 10))
    sand = _sand_layer(sites)
    forest = fp.table
    truth = _truth(seed, tfaults, tr, sites, villages, forest, transfers, basic, sand, rivers)
    truth["rasters"] = plan_rasters(
        land, forest, transfers, basic, tr.foci, seed
    )  # own RNG streams
    work = river_work(land, rivers, sand, seed)  # own RNG streams: patrols, outfalls, sand zones
    sand, truth["river_work"] = work.sand_sites, work.truth  # sand sites gain 复绿日期
    forest, transfers = _riparian_belt(land, rivers, forest, transfers, tr, sand, work, truth)
    forest, truth["replanted_plots"] = replant(forest, rng_stream(seed, 50))  # own RNG stream
    _check_valid(villages, forest, transfers, basic, rivers)
    log.info("sample built in %.1f s", time.perf_counter() - t0)
    sample = Sample(villages, transfers, basic, forest, tr.table, rivers, sand, truth)
    truth["indicators"] = expected_indicators(sample, work.patrols, PATROL_BUFFER_M)
    return sample


def _forest_plots(land: Landscape, vnames: np.ndarray, seed: int) -> _Forest:
    """The forest plots with their attributes and numbers, sorted by village, compartment and
    sub-compartment, and their table as written (EPSG:4527)."""
    plots = forest_plot_geometries(land, rng_stream(seed, 5))
    attrs = plot_attributes(plots, land, rng_stream(seed, 7))
    numbers = number_plots(plots, len(names.VILLAGES))
    pv = np.array([p.village for p in plots])
    order = np.lexsort((numbers["subcompartment"], numbers["compartment"], pv))
    plots = [plots[i] for i in order]
    attrs = {k: v[order] for k, v in attrs.items()}
    numbers = {k: v[order] for k, v in numbers.items()}
    pv = pv[order]
    plot_geoms = np.asarray([p.geom for p in plots], dtype=object)
    codes = np.array(
        [
            f"{v + 1:02d}{lb:02d}{xb:03d}"
            for v, lb, xb in zip(pv, numbers["compartment"], numbers["subcompartment"], strict=True)
        ],
        dtype=object,
    )
    plot_ll = geoms_to_lonlat(plot_geoms)
    forest = gpd.GeoDataFrame(
        {
            "林班号": [f"{x:02d}" for x in numbers["compartment"]],
            "小班号": [f"{x:03d}" for x in numbers["subcompartment"]],
            "小班编码": codes,
            "村名": vnames[pv],
            "优势树种": attrs["species"],
            "起源": attrs["origin"],
            "造林年度": attrs["year"].astype(np.int32),
            "面积": np.round(geod_area_mu(plot_ll), 2),
            "林长": [names.VILLAGES[v][3] for v in pv],
        },
        geometry=geoms_to_zone39(plot_geoms),
        crs=ZONE39_EPSG,
    )
    return _Forest(plots, attrs["species"], pv, plot_geoms, codes, forest)


def _farmland(
    land: Landscape, fp: _Forest, vnames: np.ndarray, seed: int
) -> tuple[gpd.GeoDataFrame, dict, gpd.GeoDataFrame]:
    """Valley fields, the land transfers on them (with their planted faults) and the basic
    farmland; the photovoltaic fault's overlap with basic farmland is measured here."""
    fields = valley_fields(land, rng_stream(seed, 6))
    plan = plan_transfers(land, fields, fp.plots, fp.species, rng_stream(seed, 8))
    transfers, tfaults = _transfer_table(plan, land, vnames, rng_stream(seed, 12))
    bf_sorted = sorted(plan.basic_farmland, key=lambda t: (t[1], -t[0].centroid.y, t[0].centroid.x))
    basic = gpd.GeoDataFrame(
        {
            "图斑编号": [
                f"JBNT-{v + 1:02d}-{k:03d}" for k, (_, v) in _enumerate_by_village(bf_sorted)
            ],
            "村名": [vnames[v] for _, v in bf_sorted],
        },
        geometry=geoms_to_lonlat([g for g, _ in bf_sorted]),
        crs=GEO_EPSG,
    )
    pvf = tfaults["pv_on_basic_farmland"]
    pid = pvf["parcel_id"]
    g = transfers.geometry[transfers["地块编号"] == pid].iloc[0]
    pvf["overlap_mu"] = _mu(
        geod_area_mu([shapely.intersection(g, shapely.union_all(basic.geometry.values))])[0]
    )
    return transfers, tfaults, basic


def _sand_layer(sites: list[dict]) -> gpd.GeoDataFrame:
    """The sand sites as a layer in EPSG:4490."""
    sand = gpd.GeoDataFrame(
        [
            {k: s[k] for k in ("Name", "编号", "类型", "状态", "关停日期", "geometry")}
            for s in sites
        ],
        geometry="geometry",
        crs=4548,
    )
    sand["geometry"] = geoms_to_lonlat(sand.geometry.values)
    return sand.set_crs(GEO_EPSG, allow_override=True)


def _truth(
    seed: int,
    tfaults: dict,
    tr: TreeResult,
    sites: list[dict],
    villages: gpd.GeoDataFrame,
    forest: gpd.GeoDataFrame,
    transfers: gpd.GeoDataFrame,
    basic: gpd.GeoDataFrame,
    sand: gpd.GeoDataFrame,
    rivers: gpd.GeoDataFrame,
) -> dict:
    """The planted truth of the vector layers (the renewal pairs move out of the faults)."""
    return {
        "seed": seed,
        "data_date": names.DATA_DATE,
        "transfer_faults": tfaults,
        "renewal_pairs": tfaults.pop("renewal_pairs"),
        "tree_foci": tr.foci,
        "edge_tree_ids": tr.edge_ids,
        "outside_plot_tree_ids": tr.outside_plot_ids,
        "outside_township_tree_ids": tr.outside_township_ids,
        "gps_noise_tree_ids": tr.noise_ids,
        "felled_not_cleared_2021_tree_ids": tr.stuck_2021_ids,
        "sand_sites_in_zone": [s["编号"] for s in sites if s["in_zone"]],
        "pine_species": list(PINES),
        "counts": {
            "villages": len(villages),
            "forest_plots": len(forest),
            "infected_trees": len(tr.table),
            "land_transfers": len(transfers),
            "basic_farmland": len(basic),
            "sand_sites": len(sand),
            "rivers": len(rivers),
        },
    }


def _riparian_belt(
    land: Landscape,
    rivers: gpd.GeoDataFrame,
    forest: gpd.GeoDataFrame,
    transfers: gpd.GeoDataFrame,
    tr: TreeResult,
    sand: gpd.GeoDataFrame,
    work: RiverWork,
    truth: dict,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Add the riparian belt and its contract inside a management zone (added last, away from
    every tree, sand site and outfall; see riparian) and record it in `truth`; returns the
    forest plots and land transfers with the belt."""
    tx, ty = lonlat_to_xy(tr.table["经度"].astype(float), tr.table["纬度"].astype(float))
    points = np.vstack([
        np.column_stack([tx, ty]),
        shapely.get_coordinates(sand.to_crs(WORK_EPSG).geometry.to_numpy()),
        work.outfalls[["东坐标", "北坐标"]].to_numpy(dtype=float),
    ])
    belt = riparian(
        land, rivers, forest, transfers, points, truth["rasters"]["hamlets"], truth["seed"]
    )
    forest, transfers = belt.forest_plots, belt.land_transfers
    truth["river_work"].update(belt.truth)
    truth["transfer_faults"]["in_river_zone"] = {
        "parcel_id": belt.truth["land_transfers_in_zone"][0]["parcel_id"],
        "reach": belt.truth["land_transfers_in_zone"][0]["reach"],
        "in_zone_mu": belt.truth["land_transfers_in_zone"][0]["inside_mu"],
        "severity": "warning",
    }
    truth["counts"].update(forest_plots=len(forest), land_transfers=len(transfers))
    return forest, transfers


def _check_valid(
    villages: gpd.GeoDataFrame,
    forest: gpd.GeoDataFrame,
    transfers: gpd.GeoDataFrame,
    basic: gpd.GeoDataFrame,
    rivers: gpd.GeoDataFrame,
) -> None:
    """Raise RuntimeError when a polygon or line layer has an invalid geometry."""
    for name, layer in (
        ("villages", villages),
        ("forest_plots", forest),
        ("land_transfers", transfers),
        ("basic_farmland", basic),
        ("rivers", rivers),
    ):
        bad = int((~layer.geometry.is_valid).sum())
        if bad:  # pragma: no cover - a generator bug, not a user error
            raise RuntimeError(f"sample layer {name}: {bad} invalid geometries")


def _enumerate_by_village(items: list) -> list[tuple[int, tuple]]:
    seen: dict[int, int] = {}
    out = []
    for it in items:
        v = it[1]
        seen[v] = seen.get(v, 0) + 1
        out.append((seen[v], it))
    return out


def _transfer_table(
    plan, land: Landscape, vnames: np.ndarray, rng: np.random.Generator
) -> tuple[gpd.GeoDataFrame, dict]:
    """Ids, declared areas and the planted-fault part of the truth."""
    ps = sorted(
        plan.parcels,
        key=lambda p: (p.start, p.village, round(p.geom.centroid.x), round(p.geom.centroid.y)),
    )
    ll = geoms_to_lonlat([p.geom for p in ps])
    measured = geod_area_mu(ll)
    ids = [f"TZ-QX-{k:04d}" for k in range(1, len(ps) + 1)]
    noise = rng.uniform(-0.015, 0.015, len(ps))
    declared = np.round(measured * (1.0 + noise), 2)
    role = {p.role: k for k, p in enumerate(ps) if p.role}
    k_off = role["area_off"]
    declared[k_off] = round(measured[k_off] * 1.20, 2)
    df = gpd.GeoDataFrame(
        {
            "地块编号": ids,
            "村名": [vnames[p.village] for p in ps],
            "地类": [p.land_type for p in ps],
            "流出方": [p.transferor for p in ps],
            "流入方": [p.transferee for p in ps],
            "合同面积": declared,
            "起始日期": [p.start.isoformat() for p in ps],
            "终止日期": [p.end.isoformat() for p in ps],
            "用途": [p.use for p in ps],
        },
        geometry=ll,
        crs=GEO_EPSG,
    )
    ka, kb = role["overlap_a"], role["overlap_b"]
    kc = role["crosses_village"]
    vil_ll = geoms_to_lonlat(land.villages)
    rec = ps[kc].village
    outside = geod_area_mu([shapely.difference(ll[kc], vil_ll[rec])])[0]
    renewals = []
    n = 0
    while f"renewal{n}_a" in role:
        renewals.append([ids[role[f"renewal{n}_a"]], ids[role[f"renewal{n}_b"]]])
        n += 1
    faults = {
        "overlap_pair": [ids[ka], ids[kb]],
        "overlap_mu": _mu(geod_area_mu([shapely.intersection(ll[ka], ll[kb])])[0]),
        "renewal_pair": renewals[0],
        "area_off": {
            "parcel_id": ids[k_off],
            "declared_mu": float(declared[k_off]),
            "measured_mu": _mu(measured[k_off]),
        },
        "crosses_village": {
            "parcel_id": ids[kc],
            "recorded_village": str(vnames[rec]),
            "outside_mu": _mu(outside),
            "outside_share": round(float(outside / measured[kc]), 4),
        },
        "pv_on_basic_farmland": {"parcel_id": ids[role["pv_on_basic_farmland"]], "overlap_mu": 0.0},
        "renewal_pairs": renewals,
    }
    return df, faults
