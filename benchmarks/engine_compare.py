"""Both engines on one township: the same numbers, and how long each took.

    python benchmarks/county.py /tmp/county1m --trees 1000000 --plots 10000
    python benchmarks/engine_compare.py /tmp/county1m
    python benchmarks/engine_compare.py /tmp/county1m --scheduler tcp://10.0.0.5:8786

Runs ``trees`` (by village and by plot, without hotspots), ``area forest_plots --by
village`` and ``check`` through the library, first on the local engine, then on the dask
engine (a LocalCluster with one worker per core, or the cluster at ``--scheduler``), and
compares every table, finding and feature layer of the two Results. Prints one line per
analysis: seconds on each engine and whether the Results are equal. Exits 1 when any
differs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from geo_township.checks import check_township  # noqa: E402
from geo_township.engine import LOCAL, Engine, start_engine  # noqa: E402
from geo_township.inventory import area_summary  # noqa: E402
from geo_township.layers import load_township  # noqa: E402
from geo_township.results import Result  # noqa: E402
from geo_township.trees import tree_counts  # noqa: E402


def same(a: Result, b: Result) -> str:
    """'equal', or what differs first."""
    tables = {"table": (a.table, b.table), **{k: (a.tables[k], b.tables.get(k)) for k in a.tables}}
    for name, (x, y) in tables.items():
        if y is None or not x.equals(y):
            try:
                pd.testing.assert_frame_equal(x, y, check_exact=True)
            except AssertionError as exc:
                return f"{name} differs: {str(exc).splitlines()[0]}"
    if a.findings != b.findings:
        return "findings differ"
    for name, gdf in a.features.items():
        other = b.features.get(name)
        if other is None or not gdf.equals(other):
            return f"features {name} differ"
    return "equal"


ANALYSES = {
    "trees --by village --no-hotspots": lambda t, e: tree_counts(t, by="village", hotspots=False, engine=e),
    "trees --by plot --no-hotspots": lambda t, e: tree_counts(t, by="plot", hotspots=False, engine=e),
    "area forest_plots --by village": lambda t, e: area_summary(t, "forest_plots", by="village", engine=e),
    "check": lambda t, e: check_township(t, engine=e),
}


def timed(folder: Path, run, engine: Engine) -> tuple[Result, float]:
    township = load_township(folder)
    for kind in township.kinds:  # read the layers first: the engines share the reading
        township.optional(kind)
    start = time.perf_counter()
    result = run(township, engine)
    return result, time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("township", type=Path)
    ap.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    ap.add_argument("--only", action="append", choices=list(ANALYSES), help="run only these analyses")
    args = ap.parse_args()
    dask = start_engine("dask", scheduler=args.scheduler)
    print(dask.describe())
    bad = 0
    try:
        for name in args.only or list(ANALYSES):
            local_result, local_s = timed(args.township, ANALYSES[name], LOCAL)
            dask_result, dask_s = timed(args.township, ANALYSES[name], dask)
            verdict = same(local_result, dask_result)
            bad += verdict != "equal"
            print(f"{name:36s} local {local_s:7.1f} s   dask {dask_s:7.1f} s   {verdict}", flush=True)
    finally:
        dask.close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
