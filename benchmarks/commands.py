"""`geo-township --help`, `info`, `area` and `map` run as a user runs them, each paired
with its baselines in the same round: wall time, CPU time (user + system) and peak memory
of every whole process, medians over the runs, ratios to the baseline, and a check that
the numbers agree.

    python benchmarks/commands.py --township /tmp/county               # every case, 1 run
    python benchmarks/commands.py --township /tmp/county --cases area info --runs 3
    python benchmarks/commands.py --sizes 1000000x10000 --duckdb-path /tmp/duckdb-env

Cases and their baselines (a county from ``benchmarks/county.py``):

* ``help``: ``geo-township --help``; baseline ``python -c pass`` (the interpreter alone).
  Target: ≤ 0.3 s.
* ``info``: ``info --format json``; baseline: plain geopandas reading every layer
  (``read_file``, Arrow) and printing its count, CRS and extent. Counts must agree.
* ``area``: ``area forest_plots --by village`` (ellipsoidal, the default); baselines: plain
  geopandas planar (``read_file`` → ``to_crs`` Gauss–Krüger → ``.area`` → ``groupby`` →
  CSV) and DuckDB spatial (``ST_Transform`` → ``ST_Area`` → ``GROUP BY``). Counts per
  village must agree and areas to 5e-4 (planar exceeds ellipsoidal by the zone's scale
  factor, 2e-5–1.3e-4). Target: ≤ 1.0× planar geopandas.
* ``map``: ``map -o FILE`` (every layer, offline page); no baseline. Targets: ≤ 20 s,
  ≤ 2 GiB at 1M trees; the page's size is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from processes import measured  # noqa: E402

ROOT = HERE.parent
GK_ZONE_EPSG = 4549  # CGCS2000 3-degree Gauss–Krüger zone 40 (CM 120°E): the synthetic county's zone
SELF = str(Path(__file__).resolve())


def run(argv: list[str], code: Path = ROOT, stdout: Path | None = None) -> dict[str, float]:
    """One process (the package found in ``code``): wall s, CPU s (user + system), peak memory MiB
    (``benchmarks/processes.py``)."""
    env = {**os.environ, "PYTHONPATH": str(code) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code_, stderr, measures = measured(argv, env=env, cwd=code, stdout=stdout)
    if code_ not in (0, 1):  # 1: findings
        raise SystemExit(f"{' '.join(argv)} failed ({code_}):\n{stderr[-3000:]}")
    return measures


def ours(*args: str) -> list[str]:
    return [sys.executable, "-m", "geo_township", *args]


# --------------------------------------------------------------------------- baselines (run as children)


def baseline_info(township: Path) -> None:
    """Plain geopandas: read every layer, print its count, CRS and extent."""
    import geopandas as gpd

    out = {}
    for path in sorted(township.glob("*.gpkg")):
        gdf = gpd.read_file(path, use_arrow=True)
        out[path.stem] = {"features": len(gdf), "crs": str(gdf.crs), "bounds": gdf.total_bounds.tolist()}
    print(json.dumps(out))


def baseline_area(township: Path, out: Path) -> None:
    """Plain geopandas, planar: read, to the GK zone, area, group by village, CSV (m²)."""
    import geopandas as gpd

    plots = gpd.read_file(township / "forest_plots.gpkg", use_arrow=True).to_crs(GK_ZONE_EPSG)
    plots["area_m2"] = plots.area
    plots["村名"] = plots["村名"].fillna("(none)")
    plots.groupby("村名")["area_m2"].agg(["count", "sum"]).rename(
        columns={"sum": "area_m2"}).rename_axis("village").to_csv(out)


# --------------------------------------------------------------------------- checks


def check_info(work: Path) -> str:
    ours_ = json.loads((work / "info.json").read_text(encoding="utf-8"))
    plain = json.loads((work / "info_baseline.out").read_text(encoding="utf-8"))
    rows = ours_["tables"]["main"] if "main" in ours_["tables"] else next(iter(ours_["tables"].values()))
    counts = {Path(str(r["file"]).split(":")[0]).stem: r["features"] for r in rows}
    differ = [f"{k}: {counts.get(k)} against {v['features']}" for k, v in plain.items()
              if counts.get(k) != v["features"]]
    return "; ".join(differ)


def check_area(work: Path, peers: list[str]) -> str:
    import pandas as pd

    mine = pd.read_csv(work / "area.csv", encoding="utf-8-sig")
    mine = mine[mine["group"] != "Total"].set_index("group")  # plots without a village: (none)
    problems = []
    for peer in peers:
        other = pd.read_csv(work / f"{peer}.csv").set_index("village")
        if not mine.index.sort_values().equals(other.index.sort_values()):
            problems.append(f"{peer}: different villages")
            continue
        other = other.loc[mine.index]
        if not (mine["count"] == other["count"]).all():
            problems.append(f"{peer}: different counts")
        ours_m2 = mine.filter(like="area_").iloc[:, 0] * 10000 / 15  # mu → m²
        rel = (other["area_m2"] / ours_m2 - 1).abs().max()
        if rel > 5e-4:
            problems.append(f"{peer}: areas differ by up to {rel:.1e}")
    return "; ".join(problems)


# --------------------------------------------------------------------------- cases


def cases(township: Path, work: Path, duckdb_path: Path | None, with_duckdb: bool
          ) -> dict[str, tuple[dict[str, tuple[list[str], Path | None]], Callable[[], str]]]:
    """Each case: its processes (name → argv, file receiving stdout) and the check of their numbers."""
    t = str(township)
    duck = [] if not with_duckdb else [
        ("duckdb", [sys.executable, SELF, "--child", "duckdb_area", t, str(work / "duckdb.csv")]
         + (["--duckdb-path", str(duckdb_path)] if duckdb_path else []))]
    return {
        "help": ({"help": (ours("--help"), None), "python": ([sys.executable, "-c", "pass"], None)},
                 lambda: ""),
        "info": ({"info": (ours("info", "--township", t, "--format", "json", "-o", str(work / "info.json")), None),
                  "info_baseline": ([sys.executable, SELF, "--child", "info", t], work / "info_baseline.out")},
                 lambda: check_info(work)),
        "area": ({"area": (ours("area", "forest_plots", "--by", "village", "--township", t, "--format", "csv",
                                "-o", str(work / "area.csv")), None),
                  "area_baseline": ([sys.executable, SELF, "--child", "area", t, str(work / "area_baseline.csv")],
                                    None),
                  **{name: (argv, None) for name, argv in duck}},
                 lambda: check_area(work, ["area_baseline"] + [n for n, _ in duck])),
        "map": ({"map": (ours("map", "--township", t, "-o", str(work / "map.html")), None)},
                lambda: f"page {(work / 'map.html').stat().st_size / 1e6:.1f} MB"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--township", type=Path, help="a county folder from benchmarks/county.py")
    ap.add_argument("--sizes", nargs="+", default=["100000x10000"], help="TREESxPLOTS, made and cached in --data")
    ap.add_argument("--cases", nargs="+", default=["help", "info", "area", "map"],
                    choices=["help", "info", "area", "map"])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--data", type=Path, default=Path("/tmp/geo-township-bench"))
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose geo_township is measured")
    ap.add_argument("--duckdb-path", type=Path,
                    help="folder of `pip install --target DIR duckdb duckdb-extension-spatial`")
    ap.add_argument("--no-duckdb", action="store_true")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from peers import duckdb_area, duckdb_available

    if args.child:
        what, *rest = args.child
        if what == "info":
            baseline_info(Path(rest[0]))
        elif what == "area":
            baseline_area(Path(rest[0]), Path(rest[1]))
        elif what == "duckdb_area":
            duckdb_area(Path(rest[0]), Path(rest[1]), GK_ZONE_EPSG, args.duckdb_path)
        return
    if args.township:
        folders = [args.township]
    else:
        from county import make_county

        folders = []
        for size in args.sizes:
            trees, plots = (int(v) for v in size.lower().split("x"))
            folder = args.data / f"county_{trees}x{plots}"
            if not (folder / "township.toml").exists():
                make_county(folder, trees=trees, plots=plots)
            folders.append(folder)
    why_not = "left out (--no-duckdb)" if args.no_duckdb else duckdb_available(args.duckdb_path)
    if why_not:
        print(f"DuckDB spatial: {why_not}; measured without it")
    failed = False
    for folder in folders:
        work = args.data / "out" / f"commands_{folder.name}"
        work.mkdir(parents=True, exist_ok=True)
        print(f"{folder}", flush=True)
        for case in args.cases:
            procs, check = cases(folder, work, args.duckdb_path, not why_not)[case]
            results: dict[str, list[dict[str, float]]] = {n: [] for n in procs}
            for r in range(args.runs):
                for name, (argv, stdout) in procs.items():
                    results[name].append(run(argv, args.code, stdout))
                    m = results[name][-1]
                    print(f"  run {r + 1} {name:<14} {m['wall']:7.2f} s wall {m['cpu']:7.2f} s cpu "
                          f"{m['rss_mib']:7.0f} MiB", flush=True)
            med = {n: {k: statistics.median(m[k] for m in ms) for k in ("wall", "cpu", "rss_mib")}
                   for n, ms in results.items()}
            base = med[list(procs)[1]] if len(procs) > 1 else None
            print(f"{case} (median of {args.runs})")
            for n, m in med.items():
                ratio = f"{m['cpu'] / base['cpu']:7.2f}× cpu" if base and n == case else ""
                print(f"  {n:<16}{m['wall']:8.2f} s wall{m['cpu']:8.2f} s cpu{m['rss_mib']:8.0f} MiB {ratio}")
            verdict = check()
            if case == "map":
                print(f"  {verdict}")
            elif verdict:
                print(f"  numbers differ: {verdict}")
                failed = True
            else:
                print("  numbers agree")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
