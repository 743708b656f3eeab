"""A synthetic county for performance work: a township folder that geo-township reads
(township.toml, villages, forest sub-compartments, pine-wilt trees), as big as asked.

    python benchmarks/county.py /tmp/county --trees 1000000 --plots 100000
    python benchmarks/county.py /tmp/county --trees 100000 --plots 10000 --format parquet

What it makes, around 119.6°E, 29.4°N (built in EPSG:4549, CGCS2000 Gauss–Krüger CM 120°E,
stored in EPSG:4490 as forestry offices deliver their files):

* an irregular county outline of about 1,500 km²;
* ``--villages`` villages (Voronoi cells of random seeds, warped), with 村名 and a
  12-digit 村代码;
* ``--plots`` forest sub-compartments (小班): Voronoi cells of more seeds than asked, the
  least forested dropped as non-forest land, every edge densified and displaced by one
  smooth field, so outlines are irregular while shared edges stay shared. Fields 小班号,
  林班号, 村名, 优势树种 (马尾松/湿地松/杉木/…), 起源, 小班面积;
* ``--trees`` infected pines (疫木): Gaussian clusters around outbreak foci in pine plots
  plus a uniform scatter, about 15% outside every plot. Fields 疫木编号, 状态 (疑似 …
  已核查), 发现日期/采伐日期/清理日期 written as officers write them (2023-10-05,
  2023/10/5, 2023年10月5日, 20231005), 村名 and 小班号 on part of the records (always
  where the tree lies, so a plain spatial join gives the same per-plot counts).

Layers are written as GeoPackage (default) or GeoParquet. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

WORK_EPSG = 4549  # CGCS2000 / 3-degree Gauss-Kruger CM 120E
STORE_EPSG = 4490  # CGCS2000 geographic
CENTRE_LONLAT = (119.6, 29.4)
COUNTY_RADIUS_M = 22_000.0
MU_PER_M2 = 15.0 / 10_000.0

SPECIES = np.array(["马尾松", "湿地松", "杉木", "针阔混交", "阔叶混交", "毛竹", "油茶"], dtype=object)
SPECIES_SHARE = np.array([0.38, 0.08, 0.2, 0.14, 0.12, 0.05, 0.03])
PINE = {"马尾松", "湿地松"}
STATUS = np.array(["疑似", "已确认", "已伐", "已清理", "已核查"], dtype=object)
STATUS_SHARE = np.array([0.06, 0.14, 0.1, 0.45, 0.25])
SURNAMES = list("张王李赵陈刘杨黄吴周徐朱胡郭何罗高林郑梁宋谢唐韩冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋"
                 "蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段")
PLACES = list("溪坑坞岭山塘湾源口头坪垄畈岗桥埠铺店庄坂田洋")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------- shapes


def smooth_field(rng: np.random.Generator, wavelength: float, amplitude: float, terms: int = 4):
    """A smooth random displacement (sum of a few plane waves per axis); its gradient is
    kept below 1 so polygons stay simple when every vertex is moved by it."""
    k = 2 * np.pi / (wavelength * rng.uniform(0.6, 1.6, (2, terms)))
    theta = rng.uniform(0, 2 * np.pi, (2, terms))
    phase = rng.uniform(0, 2 * np.pi, (2, terms))
    weight = rng.uniform(0.3, 1.0, (2, terms))
    weight *= amplitude / weight.sum(axis=1, keepdims=True)
    max_grad = float((weight * k).sum(axis=1).max())
    if max_grad > 0.8:
        weight *= 0.8 / max_grad

    def move(xy: np.ndarray) -> np.ndarray:
        out = xy.copy()
        for axis in (0, 1):
            along = (xy[:, 0, None] * np.cos(theta[axis]) + xy[:, 1, None] * np.sin(theta[axis])) * k[axis]
            out[:, axis] += (weight[axis] * np.sin(along + phase[axis])).sum(axis=1)
        return out

    return move


def county_outline(rng: np.random.Generator, centre: tuple[float, float]) -> shapely.Polygon:
    """A star-shaped outline whose radius wobbles at several scales, like a county on a map."""
    angle = np.linspace(0, 2 * np.pi, 2000, endpoint=False)
    radius = np.ones_like(angle)
    for harmonic, size in ((2, 0.12), (3, 0.1), (5, 0.06), (9, 0.035), (17, 0.02), (33, 0.01), (61, 0.006)):
        radius += size * np.sin(harmonic * angle + rng.uniform(0, 2 * np.pi))
    radius *= COUNTY_RADIUS_M
    return shapely.Polygon(np.column_stack([centre[0] + radius * np.cos(angle), centre[1] + radius * np.sin(angle)]))


def random_inside(polygon: shapely.Polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside ``polygon`` (rejection sampling on its box)."""
    x0, y0, x1, y1 = polygon.bounds
    shapely.prepare(polygon)
    chunks, got = [], 0
    while got < n:
        m = int((n - got) * 1.5) + 64
        xy = rng.uniform((x0, y0), (x1, y1), (m, 2))
        xy = xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]
        chunks.append(xy)
        got += len(xy)
    return np.vstack(chunks)[:n]


def cells_of(seeds: np.ndarray, clip: shapely.Polygon) -> np.ndarray:
    """The Voronoi cell of each seed (in seed order), clipped to ``clip``."""
    extent = shapely.box(*clip.buffer(2_000).bounds)
    cells = np.asarray(shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=extent)))
    owner = shapely.STRtree(cells).query(shapely.points(seeds), predicate="within")
    ordered = np.empty(len(seeds), dtype=object)
    ordered[owner[0]] = cells[owner[1]]
    return shapely.intersection(ordered, clip)


def warped(geoms: np.ndarray, move, spacing: float) -> np.ndarray:
    """``geoms`` with edges densified to ``spacing`` and every vertex moved by ``move``;
    the few rings a move folds are repaired."""
    out = shapely.transform(shapely.segmentize(geoms, spacing), move)
    bad = ~shapely.is_valid(out)
    if bad.any():
        fixed = shapely.make_valid(out[bad])
        out[bad] = [g if shapely.get_type_id(g) in (3, 6) else
                    shapely.union_all([p for p in shapely.get_parts(g) if shapely.get_type_id(p) in (3, 6)])
                    for g in fixed]
    return out


def forest_cover(xy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A smooth 'how forested' surface: hills forested, valleys farmed."""
    total = np.zeros(len(xy))
    for wavelength in (9_000.0, 4_000.0, 1_500.0):
        angle = rng.uniform(0, np.pi)
        along = xy[:, 0] * np.cos(angle) + xy[:, 1] * np.sin(angle)
        across = -xy[:, 0] * np.sin(angle) + xy[:, 1] * np.cos(angle)
        total += (np.sin(along * 2 * np.pi / wavelength + rng.uniform(0, 6))
                  * np.cos(across * 2 * np.pi / (wavelength * 1.3) + rng.uniform(0, 6)))
    return total


# --------------------------------------------------------------------------- layers


def make_villages(county: shapely.Polygon, n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Villages: warped Voronoi cells with unique names and 12-digit codes."""
    cells = cells_of(random_inside(county, n, rng), county)
    cells = warped(cells, smooth_field(rng, 5_000.0, 250.0), 150.0)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        name = rng.choice(SURNAMES) + rng.choice(PLACES) + "村"
        if name not in seen:
            seen.add(name)
            names.append(name)
    towns = rng.integers(1, 13, n)
    codes = [f"330881{t:03d}{i:03d}" for i, t in enumerate(towns, start=1)]
    return gpd.GeoDataFrame({"村名": names, "村代码": codes}, geometry=cells, crs=WORK_EPSG)


def make_plots(county: shapely.Polygon, villages: gpd.GeoDataFrame, n: int, rng: np.random.Generator
               ) -> gpd.GeoDataFrame:
    """Forest sub-compartments: Voronoi cells of n/0.72 seeds, the least forested 28%
    dropped, warped; each named after its village (by a point inside it)."""
    seeds = random_inside(county, int(n / 0.72), rng)
    cover = forest_cover(seeds, np.random.default_rng(7)) + rng.normal(0, 0.35, len(seeds))
    keep = np.sort(np.argsort(-cover, kind="stable")[:n])
    cells = cells_of(seeds, county)[keep]
    size = np.sqrt(county.area / len(seeds))
    cells = warped(cells, smooth_field(rng, 1.1 * size, 0.06 * size), size / 7)
    cells = cells[~shapely.is_empty(cells)]
    inside = shapely.point_on_surface(cells)
    pos, vil = shapely.STRtree(villages.geometry.to_numpy()).query(inside, predicate="intersects")
    first = pd.Series(vil, index=pos).groupby(level=0).min()
    village_of = np.full(len(cells), -1)
    village_of[first.index.to_numpy()] = first.to_numpy()
    names = villages["村名"].to_numpy(dtype=object)
    codes = villages["村代码"].to_numpy(dtype=object)
    order = np.lexsort((shapely.get_y(inside), village_of))
    rank = np.empty(len(cells), dtype="int64")
    seq = pd.Series(village_of[order]).groupby(village_of[order]).cumcount().to_numpy()
    rank[order] = seq
    compartment = rank // 40 + 1
    sub = rank % 40 + 1
    plot_id = [f"{codes[v][-6:] if v >= 0 else '000000'}{c:02d}{s:03d}" for v, c, s in zip(village_of, compartment, sub,
                                                                                                strict=True)]
    species = rng.choice(SPECIES, len(cells), p=SPECIES_SHARE)
    area_mu = shapely.area(cells) * MU_PER_M2
    declared = np.round(area_mu * (1 + rng.normal(0, 0.02, len(cells))), 1)
    return gpd.GeoDataFrame({
        "小班号": plot_id,
        "林班号": [f"{c:02d}" for c in compartment],
        "村名": np.where(village_of >= 0, names[np.maximum(village_of, 0)], None),
        "优势树种": species,
        "起源": rng.choice(np.array(["天然", "人工"], dtype=object), len(cells), p=[0.6, 0.4]),
        "小班面积": declared,
    }, geometry=cells, crs=WORK_EPSG)


def tree_positions(county: shapely.Polygon, plots: gpd.GeoDataFrame, n: int, rng: np.random.Generator
                   ) -> np.ndarray:
    """Infected trees: Gaussian clusters around foci in pine plots (sizes heavy-tailed)
    plus a uniform scatter over the county (the scatter is what falls outside plots)."""
    pine = plots[plots["优势树种"].isin(PINE)].geometry.to_numpy()
    n_foci = max(30, int(1.5 * np.sqrt(n)))
    foci = shapely.get_coordinates(shapely.point_on_surface(pine[rng.integers(0, len(pine), n_foci)]))
    spread = rng.lognormal(np.log(180.0), 0.5, n_foci)
    weight = rng.pareto(1.4, n_foci) + 1.0
    weight /= weight.sum()
    n_scatter = int(0.3 * n)
    which = rng.choice(n_foci, n - n_scatter, p=weight)
    clustered = foci[which] + rng.normal(0, 1, (len(which), 2)) * spread[which, None]
    xy = np.vstack([clustered, random_inside(county, n_scatter, rng)])
    shapely.prepare(county)
    outside = ~shapely.contains_xy(county, xy[:, 0], xy[:, 1])
    xy[outside] = random_inside(county, int(outside.sum()), rng)
    return xy[rng.permutation(n)]


def date_text(days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dates (datetime64[D], NaT for none) as officers type them: mostly 2023-10-05, some
    2023/10/5, 2023年10月5日 and 20231005; none as an empty cell."""
    out = np.full(len(days), None, dtype=object)
    has = ~np.isnat(days)
    ymd = pd.DatetimeIndex(days[has])
    y, m, d = ymd.year.astype(str), ymd.month.astype(str), ymd.day.astype(str)
    style = rng.choice(4, int(has.sum()), p=[0.7, 0.15, 0.1, 0.05])
    iso = pd.Series(ymd.strftime("%Y-%m-%d"))
    slash = pd.Series(y) + "/" + pd.Series(m) + "/" + pd.Series(d)
    zh = pd.Series(y) + "年" + pd.Series(m) + "月" + pd.Series(d) + "日"
    compact = pd.Series(ymd.strftime("%Y%m%d"))
    text = np.select([style == 0, style == 1, style == 2], [iso, slash, zh], compact)
    out[has] = text
    return out


def make_trees(county: shapely.Polygon, plots: gpd.GeoDataFrame, n: int, rng: np.random.Generator,
               ) -> gpd.GeoDataFrame:
    """Infected trees with status, dates and (on part of the records) village and plot."""
    xy = tree_positions(county, plots, n, rng)
    status = rng.choice(len(STATUS), n, p=STATUS_SHARE)
    found = np.datetime64("2022-09-01") + rng.integers(0, 600, n).astype("timedelta64[D]")
    felled = found + rng.integers(3, 90, n).astype("timedelta64[D]")
    cleared = felled + rng.integers(0, 20, n).astype("timedelta64[D]")
    nat = np.datetime64("NaT")
    felled = np.where(status >= 2, felled, nat)
    cleared = np.where(status >= 3, cleared, nat)
    points = shapely.points(xy)
    tree = shapely.STRtree(plots.geometry.to_numpy())
    pt, pl = tree.query(points, predicate="intersects")
    ids = plots["小班号"].to_numpy(dtype=object)
    lowest = pd.Series(ids[pl], index=pt).groupby(level=0).min()  # a tree on a shared edge: lowest id
    plot_of = np.full(n, None, dtype=object)
    plot_of[lowest.index.to_numpy()] = lowest.to_numpy()
    village_of = pd.Series(plot_of).map(dict(zip(ids, plots["村名"], strict=True))).to_numpy(dtype=object)
    named = rng.random(n) < 0.5
    frame = pd.DataFrame({
        "疫木编号": [f"YM{i:08d}" for i in range(1, n + 1)],
        "状态": STATUS[status],
        "发现日期": date_text(found, rng),
        "采伐日期": date_text(felled, rng),
        "清理日期": date_text(cleared, rng),
        "村名": np.where(named, village_of, None),
        "小班号": np.where(named, plot_of, None),
        "胸径": np.round(np.clip(rng.normal(19, 6, n), 5, 60), 1),
    })
    return gpd.GeoDataFrame(frame, geometry=points, crs=WORK_EPSG)


# --------------------------------------------------------------------------- writing


TOML = """[township]
name = "{name}"
name_en = "{name_en}"
crs = "EPSG:4490"
data_date = "2024-04-30"

[layers.villages]
path = "villages.{ext}"

[layers.forest_plots]
path = "forest_plots.{ext}"

[layers.infected_trees]
path = "infected_trees.{ext}"
"""


def write_layer(gdf: gpd.GeoDataFrame, folder: Path, name: str, fmt: str) -> Path:
    """``gdf`` in EPSG:4490 as ``folder/name.gpkg`` (layer ``name``) or ``.parquet``."""
    stored = gdf.to_crs(STORE_EPSG)
    path = folder / f"{name}.{'gpkg' if fmt == 'gpkg' else 'parquet'}"
    path.unlink(missing_ok=True)
    if fmt == "gpkg":
        stored.to_file(path, layer=name, engine="pyogrio", use_arrow=True)
    else:
        stored.to_parquet(path, write_covering_bbox=True)
    return path


def make_county(folder: Path, *, trees: int, plots: int, villages: int = 250, fmt: str = "gpkg", seed: int = 2024
                ) -> dict[str, float]:
    """Write the township folder; returns a few facts about it (counts, share outside)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    centre = Transformer.from_crs(4490, WORK_EPSG, always_xy=True).transform(*CENTRE_LONLAT)
    county = county_outline(rng, centre)
    county = shapely.make_valid(shapely.transform(shapely.segmentize(county, 200.0),
                                                  smooth_field(rng, 8_000.0, 400.0)))
    village_layer = make_villages(county, villages, rng)
    log(f"{len(village_layer)} villages")
    plot_layer = make_plots(county, village_layer, plots, rng)
    log(f"{len(plot_layer)} plots, {shapely.get_num_coordinates(plot_layer.geometry.to_numpy()).mean():.0f} "
        "vertices each on average")
    tree_layer = make_trees(county, plot_layer, trees, rng)
    located = shapely.STRtree(plot_layer.geometry.to_numpy()).query(tree_layer.geometry.to_numpy(),
                                                                     predicate="intersects")[0]
    outside = 1.0 - len(np.unique(located)) / len(tree_layer)
    log(f"{len(tree_layer)} trees, {outside:.1%} outside every plot")
    ext = "gpkg" if fmt == "gpkg" else "parquet"
    for gdf, name in ((village_layer, "villages"), (plot_layer, "forest_plots"), (tree_layer, "infected_trees")):
        write_layer(gdf, folder, name, fmt)
        log(f"wrote {name}.{ext}")
    (folder / "township.toml").write_text(TOML.format(name="示例县", name_en="Synthetic County", ext=ext),
                                          encoding="utf-8")
    return {"villages": len(village_layer), "plots": len(plot_layer), "trees": len(tree_layer),
            "outside_share": outside}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--trees", type=int, default=100_000)
    ap.add_argument("--plots", type=int, default=10_000)
    ap.add_argument("--villages", type=int, default=250)
    ap.add_argument("--format", choices=["gpkg", "parquet"], default="gpkg")
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()
    facts = make_county(args.folder, trees=args.trees, plots=args.plots, villages=args.villages, fmt=args.format,
                        seed=args.seed)
    log(", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v:,}" for k, v in facts.items()))


if __name__ == "__main__":
    main()
