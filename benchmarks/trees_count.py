"""Count synthetic pine-wilt trees per plot and status: geo-township's way (an STRtree on
the points queried with the prepared plots, lowest plot_id on shared edges, numpy
group counts) against a plain geopandas baseline (``gpd.sjoin`` + ``groupby``), side by
side, each in its own process so peak memory is its own.

    python benchmarks/trees_count.py                 # 1,000,000 trees in 10,000 plots
    python benchmarks/trees_count.py --trees 100000 --plots 1000

Prints wall time and peak memory per method, the ratio, and checks that both give the
same count for every (plot, status).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

X0, Y0 = 500_000.0, 3_370_000.0  # GK zone CM 117°E (EPSG:4548), metres
STATUSES = np.array(["suspected", "confirmed", "felled", "cleared", "verified"], dtype=object)


def make_data(n_trees: int, n_plots: int, seed: int = 0):
    """Square-ish plots on a grid, each edge densified to ~36 vertices, and trees in
    Gaussian clusters (as infections are) plus a scatter; some exactly on shared edges."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_plots)))
    size = 120.0
    i, j = np.divmod(np.arange(n_plots), side)
    boxes = shapely.box(X0 + j * size, Y0 + i * size, X0 + (j + 1) * size, Y0 + (i + 1) * size)
    polys = shapely.segmentize(boxes, size / 9)
    ids = np.array([f"P{k:06d}" for k in rng.permutation(n_plots)], dtype=object)
    plots = gpd.GeoDataFrame({"plot_id": ids}, geometry=polys, crs=4548)
    width, height = side * size, (i.max() + 1) * size
    n_cluster = int(n_trees * 0.8)
    centres = rng.uniform([X0, Y0], [X0 + width, Y0 + height], size=(200, 2))
    which = rng.integers(0, len(centres), n_cluster)
    xy = centres[which] + rng.normal(0, 150, size=(n_cluster, 2))
    scatter = rng.uniform([X0, Y0], [X0 + width, Y0 + height], size=(n_trees - n_cluster, 2))
    xy = np.vstack([xy, scatter])
    edge = rng.choice(n_trees, n_trees // 1000, replace=False)
    xy[edge, 0] = X0 + np.round((xy[edge, 0] - X0) / size) * size  # on a vertical shared edge
    trees = gpd.GeoDataFrame({"status": STATUSES[rng.integers(0, 5, n_trees)]},
                             geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=4548)
    return trees, plots


def ours(trees, plots):
    import pandas as pd

    from geo_township.locate import covering_lowest

    best, _, _ = covering_lowest(trees.geometry.to_numpy(), plots.geometry.to_numpy(),
                                 plots["plot_id"].to_numpy().astype(str))
    plot = np.where(best >= 0, plots["plot_id"].to_numpy()[np.maximum(best, 0)], "(outside)")
    codes, uniques = pd.factorize(pd.Series(plot))
    scodes, suniques = pd.factorize(trees["status"])
    flat = np.bincount(codes * len(suniques) + scodes, minlength=len(uniques) * len(suniques))
    table = pd.DataFrame(flat.reshape(len(uniques), len(suniques)), index=uniques, columns=suniques)
    return table.stack()


def baseline(trees, plots):
    import geopandas as gpd

    joined = gpd.sjoin(trees, plots, how="left", predicate="intersects")
    joined = joined.sort_values("plot_id").reset_index()
    joined = joined.drop_duplicates("index", keep="first")  # a tree on a shared edge: lowest plot_id
    joined["plot_id"] = joined["plot_id"].fillna("(outside)")
    return joined.groupby(["plot_id", "status"]).size()


def run_one(method: str, n_trees: int, n_plots: int) -> None:
    t0 = time.perf_counter()
    trees, plots = make_data(n_trees, n_plots)
    t1 = time.perf_counter()
    counts = {"ours": ours, "baseline": baseline}[method](trees, plots)
    t2 = time.perf_counter()
    counts = counts[counts > 0]
    print(json.dumps({"method": method, "make_s": t1 - t0, "count_s": t2 - t1,
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "counts": {f"{k[0]}|{k[1]}": int(v) for k, v in counts.items()}}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trees", type=int, default=1_000_000)
    ap.add_argument("--plots", type=int, default=10_000)
    ap.add_argument("--method", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.method:
        run_one(args.method, args.trees, args.plots)
        return
    results = {}
    for method in ("ours", "baseline"):
        out = subprocess.run([sys.executable, __file__, "--method", method, "--trees", str(args.trees),
                              "--plots", str(args.plots)], capture_output=True, text=True, check=True)
        results[method] = json.loads(out.stdout.strip().splitlines()[-1])
    same = results["ours"]["counts"] == results["baseline"]["counts"]
    print(f"{args.trees:,} trees in {args.plots:,} plots, counted per plot and status "
          f"(data generation not timed)")
    print(f"{'method':<34}{'count (s)':>10}{'peak MiB':>10}")
    names = {"ours": "geo-township (STRtree on points)", "baseline": "geopandas sjoin + groupby"}
    for m in ("ours", "baseline"):
        r = results[m]
        print(f"{names[m]:<34}{r['count_s']:>10.2f}{r['peak_mib']:>10.0f}")
    o, b = results["ours"], results["baseline"]
    print(f"speed-up: {b['count_s'] / o['count_s']:.2f}×; memory ratio (baseline/ours): "
          f"{b['peak_mib'] / o['peak_mib']:.2f}; identical counts: {same}")
    if not same:
        raise SystemExit("the two methods disagree")


if __name__ == "__main__":
    main()
