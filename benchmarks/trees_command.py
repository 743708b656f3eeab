"""`geo-township trees` run as a user runs it, against a plain geopandas script on the same
files in the same run: wall time, CPU time and peak memory of each whole process, and
whether both give the same counts per plot.

    python benchmarks/trees_command.py                          # 100k trees × 10k plots
    python benchmarks/trees_command.py --sizes 1000000x10000 1000000x100000 --runs 3
    python benchmarks/trees_command.py --township /tmp/county   # an existing folder

Each size is a synthetic county (``benchmarks/county.py``, cached under ``--data``). Every
run starts each command as its own process (``python -m geo_township trees ... --format
csv -o FILE``, every default on), so imports, reading the files, reprojection and writing
the CSV all count, as they do for a user:

* ``plot``: ``trees --by plot --no-hotspots`` (the 台账 ledger);
* ``village``: ``trees --no-hotspots`` (per village);
* ``default``: ``trees`` (per village, hotspots on);
* ``baseline``: plain geopandas — ``read_file`` both layers, ``sjoin`` (a tree on a shared
  edge to the lowest plot id), ``groupby`` plot and status, ``to_csv``;
* ``duckdb``: DuckDB spatial (``ST_Read``, a spatial join, ``PIVOT``, ``COPY``; see
  ``benchmarks/peers.py``), when ``duckdb`` and ``duckdb-extension-spatial`` are installed
  (``--duckdb-path`` names a ``pip install --target`` folder); its table must equal the baseline's.

The commands of one run go back to back (the machine may be shared, so ratios to the
baseline of the same run are what to read). Prints the median over ``--runs`` of wall
seconds, CPU seconds (user + system) and peak RSS (MiB), each command's ratio to the
baseline, and checks that the ledger's found/confirmed/felled/cleared/verified per plot
equal the baseline's counts by status.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from processes import measured  # noqa: E402

ROOT = HERE.parent
COMMANDS = {
    "plot": ["trees", "--by", "plot", "--no-hotspots"],
    "village": ["trees", "--no-hotspots"],
    "default": ["trees"],
}
STATUS_RANK = {"疑似": 0, "已确认": 1, "已伐": 2, "已清理": 3, "已核查": 4}
STAGES = ("found", "confirmed", "felled", "cleared", "verified")


def baseline(township: Path, out: Path) -> None:
    """The plain geopandas way: read, spatial join, group, CSV."""
    import geopandas as gpd

    trees = gpd.read_file(township / "infected_trees.gpkg")
    plots = gpd.read_file(township / "forest_plots.gpkg")
    plots = plots[["小班号", "geometry"]].rename(columns={"小班号": "plot"})
    joined = gpd.sjoin(trees, plots, how="left", predicate="intersects")
    joined = joined.sort_values("plot").reset_index()
    joined = joined.drop_duplicates("index", keep="first")  # a tree on a shared edge: the lowest plot id
    joined["plot"] = joined["plot"].fillna("(outside)")
    joined.groupby(["plot", "状态"]).size().unstack(fill_value=0).to_csv(out)


def run(argv: list[str], out: Path, code: Path = ROOT) -> dict[str, float]:
    """Run one command (with the package found in ``code``); its wall time, CPU time
    (user + system) and peak memory (``benchmarks/processes.py``: worker processes included)."""
    env = {**os.environ, "PYTHONPATH": str(code) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    # run from the code's folder: `python -m` puts the working folder before PYTHONPATH
    returncode, stderr, measures = measured(argv, env=env, cwd=code)
    if returncode not in (0, 1):  # 1: the township has findings (e.g. a village below target)
        raise SystemExit(f"{' '.join(argv)} failed ({returncode}):\n{stderr[-3000:]}")
    if not out.exists():
        raise SystemExit(f"{' '.join(argv)} wrote no {out}:\n{stderr[-3000:]}")
    return measures


DUCKDB_PATH: Path | None = None  # set by --duckdb-path


def command_argv(name: str, township: Path, out: Path) -> list[str]:
    if name == "baseline":
        return [sys.executable, str(Path(__file__).resolve()), "--baseline-of", str(township), "-o", str(out)]
    if name == "duckdb":
        extra = ["--duckdb-path", str(DUCKDB_PATH)] if DUCKDB_PATH else []
        return [sys.executable, str(Path(__file__).resolve()), "--duckdb-of", str(township), "-o", str(out), *extra]
    return [sys.executable, "-m", "geo_township", *COMMANDS[name], "--township", str(township), "--format", "csv",
            "-o", str(out)]


EDGE_TREES_PER_MILLION = 1
"""Trees per million that may sit in a neighbouring plot in the baseline: it tests the points
in the file's longitude/latitude, the command in the working CRS (metres), and a tree within
rounding of a shared edge can fall on either side of it (seen: 1 of 10,000,000)."""


def check_counts(ledger_csv: Path, baseline_csv: Path) -> tuple[str, str]:
    """``(problem, note)``: the problem '' when the ledger's counts per plot equal the
    baseline's, else what differs; equal totals with at most :data:`EDGE_TREES_PER_MILLION`
    trees in a neighbouring plot (each moved whole: in "found" and in every stage it reached)
    are no problem, and the note says which."""
    import pandas as pd

    ours = pd.read_csv(ledger_csv, encoding="utf-8-sig", dtype={"plot_id": str})
    ours = ours[ours["village"] != "Total"]
    ours["plot_id"] = ours["plot_id"].fillna("(outside)")
    ours = ours.set_index("plot_id")[list(STAGES)].sort_index()
    plain = pd.read_csv(baseline_csv, dtype={"plot": str}).set_index("plot")
    cumulative = pd.DataFrame(index=plain.index)
    for rank, stage in enumerate(STAGES):
        cumulative[stage] = plain[[c for c in plain.columns if STATUS_RANK[c] >= rank]].sum(axis=1)
    cumulative = cumulative[cumulative["found"] > 0].sort_index()
    every = ours.index.union(cumulative.index)
    diff = ours.reindex(every, fill_value=0) - cumulative.reindex(every, fill_value=0)
    differ = diff[(diff != 0).any(axis=1)]
    if not len(differ):
        return "", ""
    moved = int(differ.abs().sum().max()) // 2  # trees in another plot, at any stage
    trees = int(cumulative["found"].sum())
    found = differ["found"]
    # a tree counted in another plot moves in "found" and in each stage it reached, the same way
    whole_trees = bool(((differ.abs().le(found.abs(), axis=0)) & (differ.mul(found, axis=0) >= 0)).all().all())
    if whole_trees and (diff.sum() == 0).all() and moved <= max(1, trees * EDGE_TREES_PER_MILLION // 1_000_000):
        return "", (f"{moved} of {trees:,} trees in a neighbouring plot (a shared edge, tested in longitude/"
                     f"latitude by the baseline, in metres by the command; every total equal): "
                     + ", ".join(differ.index))
    return (f"{len(differ)} plots differ ({moved} trees moved; totals "
            f"{'equal' if (diff.sum() == 0).all() else 'differ'})"), ""


def same_table(peer_csv: Path, baseline_csv: Path) -> str:
    """'' when a peer's plot × status counts equal the baseline's, else what differs."""
    import pandas as pd

    plain = pd.read_csv(baseline_csv, dtype={"plot": str}).set_index("plot").sort_index()
    peer = pd.read_csv(peer_csv, dtype={"plot": str}).set_index("plot").sort_index()
    if not peer.index.equals(plain.index) or set(peer.columns) != set(plain.columns):
        return f"different plots or statuses: {peer.shape} against {plain.shape}"
    diff = (peer[plain.columns].fillna(0).astype(int) != plain).any(axis=1)
    return f"{int(diff.sum())} plots differ" if diff.any() else ""


def measure(township: Path, names: list[str], runs: int, work: Path, code: Path = ROOT
            ) -> dict[str, list[dict[str, float]]]:
    """``runs`` rounds of every command (and the baseline) back to back."""
    results: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    for r in range(runs):
        for name in names:
            out = work / f"{name}.csv"
            out.unlink(missing_ok=True)
            results[name].append(run(command_argv(name, township, out), out, code))
            m = results[name][-1]
            print(f"  run {r + 1} {name:<9} {m['wall']:7.1f} s wall {m['cpu']:7.1f} s cpu {m['rss_mib']:7.0f} MiB",
                  flush=True)
    return results


def report(label: str, results: dict[str, list[dict[str, float]]], pick: str = "median") -> None:
    """The table of one size: each command's ``pick`` (median or min, the least disturbed
    run on a shared machine) over the runs, and its ratios to the baseline's."""
    how = statistics.median if pick == "median" else min
    med = {n: {k: how(m[k] for m in ms) for k in ("wall", "cpu", "rss_mib")} for n, ms in results.items()}
    base = med.get("baseline")
    print(f"\n{label} ({pick} of {len(next(iter(results.values())))} run(s))")
    print(f"{'command':<32}{'wall s':>8}{'cpu s':>8}{'peak MiB':>10}{'wall ×':>8}{'cpu ×':>7}{'mem ×':>7}")
    for n, m in med.items():
        shown = ("plain geopandas" if n == "baseline" else "DuckDB spatial" if n == "duckdb"
                 else "trees " + " ".join(COMMANDS[n][1:]))
        ratios = (f"{m['wall'] / base['wall']:>8.2f}{m['cpu'] / base['cpu']:>7.2f}"
                  f"{m['rss_mib'] / base['rss_mib']:>7.2f}"
                  if base else "")
        print(f"{shown:<32}{m['wall']:>8.1f}{m['cpu']:>8.1f}{m['rss_mib']:>10.0f}{ratios}")
    if "default" in med and "village" in med:
        print(f"hotspots on / off: {med['default']['wall'] / med['village']['wall']:.2f}× wall, "
              f"{med['default']['cpu'] / med['village']['cpu']:.2f}× cpu")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["100000x10000"], help="TREESxPLOTS, e.g. 1000000x100000")
    ap.add_argument("--township", type=Path, help="measure this folder (from benchmarks/county.py) instead")
    ap.add_argument("--commands", nargs="+", default=["plot", "village", "default"], choices=list(COMMANDS))
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--data", type=Path, default=Path("/tmp/geo-township-bench"), help="where counties are cached")
    ap.add_argument("--code", type=Path, default=ROOT,
                    help="the folder holding the geo_township package to measure (default: this checkout)")
    ap.add_argument("--duckdb-path", type=Path,
                    help="a folder holding duckdb and duckdb-extension-spatial (pip install --target DIR ...)")
    ap.add_argument("--no-duckdb", action="store_true", help="leave DuckDB out")
    ap.add_argument("--baseline-of", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--duckdb-of", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("-o", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from peers import duckdb_available, duckdb_trees

    if args.baseline_of:
        baseline(args.baseline_of, args.o)
        return
    if args.duckdb_of:
        duckdb_trees(args.duckdb_of, args.o, args.duckdb_path)
        return
    from county import make_county

    global DUCKDB_PATH
    DUCKDB_PATH = args.duckdb_path

    folders = []
    if args.township:
        folders.append((str(args.township), args.township))
    else:
        for size in args.sizes:
            trees, plots = (int(v) for v in size.lower().split("x"))
            folder = args.data / f"county_{trees}x{plots}"
            if not (folder / "township.toml").exists():
                print(f"making {folder} …", flush=True)
                make_county(folder, trees=trees, plots=plots)
            folders.append((f"{trees:,} trees × {plots:,} plots", folder))
    names = [*args.commands, "baseline"]
    why_not = "left out (--no-duckdb)" if args.no_duckdb else duckdb_available(args.duckdb_path)
    if why_not:
        print(f"DuckDB spatial: {why_not}; measured without it", flush=True)
    else:
        names.append("duckdb")
    for label, folder in folders:
        work = args.data / "out" / folder.name
        work.mkdir(parents=True, exist_ok=True)
        print(f"{label}: {folder}", flush=True)
        results = measure(folder, names, args.runs, work, args.code)
        report(label, results)
        if args.runs > 2:
            report(label, results, "min")
        if "plot" in names:
            problem, note = check_counts(work / "plot.csv", work / "baseline.csv")
            print("per-plot counts: " + (problem or note or "identical to the baseline"))
            if problem:
                raise SystemExit(1)
        if "duckdb" in names:
            problem = same_table(work / "duckdb.csv", work / "baseline.csv")
            print("DuckDB's counts: " + (problem or "identical to the baseline"))
            if problem:
                raise SystemExit(1)


if __name__ == "__main__":
    main()
