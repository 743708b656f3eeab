"""`geo-township zonal` with its default statistics, run as a user runs it, against plain
exactextract called directly on the same files, side by side in the same round: CPU seconds
(user + system) of each whole process, wall seconds, peak RSS, the ratio to exactextract,
and a check that every plot's count, mean, min, max and median agree.

    python benchmarks/zonal_command.py                        # 10,000 × 10,000 px, 10,000 plots
    python benchmarks/zonal_command.py --size 4000 --plots 2000 --runs 3

The raster (float32, 10 m pixels in EPSG:4548, tiled, a nodata square) and the plots (36-vertex
circles on a jittered grid over the whole raster) are those of ``zonal_memory.py``; they are
written once into --data as a township folder (``township.toml``, ``plots.gpkg`` with 小班号,
``ndvi.tif``) and kept for later rounds.

* ``zonal``: ``geo-township zonal ndvi --format csv -o FILE`` (every default: count, mean,
  min, max, sum, std, median, coverage-weighted).
* ``exactextract``: a script that reads the plots with geopandas and calls
  ``exactextract.exact_extract`` on the raster file with the same statistics, writing CSV.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SELF = str(Path(__file__).resolve())
OPS = ("count", "mean", "min", "max", "sum", "stdev", "median")  # exactextract's names of the defaults


def make_township(folder: Path, size: int, plots: int) -> None:
    """The raster and the plots as a township folder (skipped when already there)."""
    import geopandas as gpd
    from zonal_memory import make_plots, make_raster

    if (folder / "township.toml").exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    make_raster(folder / "ndvi.tif", size)
    geoms = make_plots(size, plots)
    gpd.GeoDataFrame({"小班号": [f"P{i:06d}" for i in range(plots)], "村名": ["一村"] * plots},
                     geometry=geoms.to_numpy(), crs=geoms.crs).to_file(folder / "plots.gpkg")
    (folder / "township.toml").write_text(
        '[township]\nname = "栅格县"\nname_en = "Raster County"\n\n[layers.forest_plots]\npath = "plots.gpkg"\n\n'
        '[rasters.ndvi]\npath = "ndvi.tif"\n', encoding="utf-8")


def baseline(folder: Path, out: Path) -> None:
    """Plain exactextract on the file: read the plots, the default statistics, CSV."""
    import geopandas as gpd
    from exactextract import exact_extract

    plots = gpd.read_file(folder / "plots.gpkg", use_arrow=True)
    frame = exact_extract(str(folder / "ndvi.tif"), plots, list(OPS), include_cols=["小班号"], output="pandas")
    frame.to_csv(out, index=False)


def check(work: Path) -> str:
    """Every plot's numbers in our CSV against exactextract's ('' when they agree)."""
    import numpy as np
    import pandas as pd

    ours = pd.read_csv(work / "zonal.csv", encoding="utf-8-sig")
    plain = pd.read_csv(work / "exactextract.csv").set_index("小班号")
    key = next(c for c in ours.columns if c in ("plot_id", "小班号"))
    ours = ours[ours[key].isin(plain.index)].set_index(key)
    if len(ours) != len(plain):
        return f"{len(ours)} plots against {len(plain)}"
    plain = plain.loc[ours.index]
    problems = []
    for ours_col, theirs in (("pixels", "count"), ("mean", "mean"), ("min", "min"), ("max", "max"),
                             ("median", "median"), ("std", "stdev"), ("sum", "sum")):
        col = next((c for c in ours.columns if c == ours_col or c.startswith(ours_col + "_")), None)
        if col is None:
            problems.append(f"no {ours_col} column")
            continue
        a, b = ours[col].to_numpy(float), plain[theirs].to_numpy(float)
        # our CSV rounds to the table's decimals: compare at that precision
        digits = max((len(str(v).split(".")[1]) for v in ours[col].dropna().head(200) if "." in str(v)), default=0)
        tol = 0.6 * 10.0 ** -digits + 1e-9 * np.abs(b)  # a value on a rounding edge may round either way
        bad = np.abs(a - b) > tol
        if bad.any():
            problems.append(f"{ours_col}: {int(bad.sum())} plots differ (up to {np.nanmax(np.abs(a - b)):.2e})")
    return "; ".join(problems)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=10_000, help="raster width and height (px)")
    ap.add_argument("--plots", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--data", type=Path, default=Path("/tmp/geo-township-bench"))
    ap.add_argument("--code", type=Path, default=HERE.parent, help="the checkout whose geo_township is measured")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    if args.child:
        baseline(Path(args.child[0]), Path(args.child[1]))
        return
    from commands import ours, run

    folder = args.data / f"zonal_{args.size}px_{args.plots}"
    make_township(folder, args.size, args.plots)
    work = args.data / "out" / folder.name
    work.mkdir(parents=True, exist_ok=True)
    procs = {
        "zonal": ours("zonal", "ndvi", "--township", str(folder), "--format", "csv", "-o", str(work / "zonal.csv")),
        "exactextract": [sys.executable, SELF, "--child", str(folder), str(work / "exactextract.csv")],
    }
    print(f"{args.size:,} × {args.size:,} px ({args.size ** 2 / 1e6:,.0f} Mpx), {args.plots:,} plots", flush=True)
    results: dict[str, list[dict[str, float]]] = {n: [] for n in procs}
    for r in range(args.runs):
        for name, argv in procs.items():
            results[name].append(run(argv, args.code))
            m = results[name][-1]
            print(f"  run {r + 1} {name:<13} {m['wall']:7.2f} s wall {m['cpu']:7.2f} s cpu {m['rss_mib']:7.0f} MiB",
                  flush=True)
    med = {n: {k: statistics.median(m[k] for m in ms) for k in ("wall", "cpu", "rss_mib")} for n, ms in results.items()}
    print(f"zonal (median of {args.runs})")
    for n, m in med.items():
        ratio = f"{m['cpu'] / med['exactextract']['cpu']:7.2f}× cpu" if n == "zonal" else ""
        print(f"  {n:<16}{m['wall']:8.2f} s wall{m['cpu']:8.2f} s cpu{m['rss_mib']:8.0f} MiB {ratio}")
    verdict = check(work)
    print(f"  numbers differ: {verdict}" if verdict else "  numbers agree")
    if verdict:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
