"""`geo-township trees` at county scale (10 million trees × 100,000 plots by default), the
trees read in chunks from GeoParquet, run as a user runs it, against a plain geopandas
script on the same files in the same run: wall time, CPU time and peak memory of each
whole process, and whether both give the same counts per plot.

    python benchmarks/trees_stream.py      # makes /tmp/geo-township-bench/county_10000000x100000_parquet
    python benchmarks/trees_stream.py --trees 1000000 --plots 100000
    python benchmarks/trees_stream.py --township /tmp/county --commands plot

Commands (each its own process, ``--format csv -o FILE``): ``plot`` is ``trees --by plot
--no-hotspots`` (the ledger), ``village`` ``trees --no-hotspots``, ``default`` ``trees``;
past 2,000,000 rows they stream (``tree_stream``). ``baseline`` is plain geopandas:
``read_parquet`` both layers, ``sjoin`` (a tree on a shared edge to the lowest plot id),
``groupby`` plot and status, ``to_csv`` — whole layers in memory, so at 10M it may run out
of memory on a small machine (the run then says so and goes on).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from trees_command import COMMANDS, check_counts, report, run  # noqa: E402


def baseline(township: Path, out: Path) -> None:
    """The plain geopandas way on the GeoParquet files: read, spatial join, group, CSV."""
    import geopandas as gpd

    trees = gpd.read_parquet(township / "infected_trees.parquet", columns=["状态", "geometry"])
    plots = gpd.read_parquet(township / "forest_plots.parquet", columns=["小班号", "geometry"])
    plots = plots.rename(columns={"小班号": "plot"})
    joined = gpd.sjoin(trees, plots, how="left", predicate="intersects")
    joined = joined.sort_values("plot").reset_index()
    joined = joined.drop_duplicates("index", keep="first")  # a tree on a shared edge: the lowest plot id
    joined["plot"] = joined["plot"].fillna("(outside)")
    joined.groupby(["plot", "状态"]).size().unstack(fill_value=0).to_csv(out)


def argv_of(name: str, township: Path, out: Path) -> list[str]:
    if name == "baseline":
        return [sys.executable, str(Path(__file__).resolve()), "--baseline-of", str(township), "-o", str(out)]
    return [sys.executable, "-m", "geo_township", *COMMANDS[name], "--township", str(township), "--format", "csv",
            "-o", str(out)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trees", type=int, default=10_000_000)
    ap.add_argument("--plots", type=int, default=100_000)
    ap.add_argument("--township", type=Path, help="measure this folder (benchmarks/county.py --format parquet)")
    ap.add_argument("--commands", nargs="+", default=["plot", "default"], choices=list(COMMANDS))
    ap.add_argument("--no-baseline", action="store_true", help="skip the plain geopandas script")
    ap.add_argument("--data", type=Path, default=Path("/tmp/geo-township-bench"), help="where counties are cached")
    ap.add_argument("--baseline-of", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("-o", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.baseline_of:
        baseline(args.baseline_of, args.o)
        return
    folder = args.township or args.data / f"county_{args.trees}x{args.plots}_parquet"
    if not (folder / "township.toml").exists():
        from county import make_county

        print(f"making {folder} …", flush=True)
        make_county(folder, trees=args.trees, plots=args.plots, fmt="parquet")
    work = args.data / "out" / (folder.name + "_stream")
    work.mkdir(parents=True, exist_ok=True)
    names = [*args.commands] + ([] if args.no_baseline else ["baseline"])
    results = {}
    for name in names:
        out = work / f"{name}.csv"
        out.unlink(missing_ok=True)
        try:
            m = run(argv_of(name, folder, out), out)
        except SystemExit as exc:  # e.g. the baseline killed for memory
            print(f"  {name}: failed — {str(exc)[-400:]}", flush=True)
            continue
        results[name] = [m]
        print(f"  {name:<9} {m['wall']:7.1f} s wall {m['cpu']:7.1f} s cpu {m['rss_mib']:7.0f} MiB", flush=True)
    report(f"{folder}", results)
    if "plot" in results and "baseline" in results:
        problem, note = check_counts(work / "plot.csv", work / "baseline.csv")
        print("per-plot counts: " + (problem or note or "identical to the baseline"))
        if problem:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
