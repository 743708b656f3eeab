"""Zonal statistics of a county-size raster over 10,000 plots in bounded memory: geo-township's
block reader against reading the whole raster at once and against plain exactextract on the
file, side by side, each in its own process (peak RSS is the process's own; CPU time is
reported beside wall time because a shared machine stretches wall time).

    python benchmarks/zonal_memory.py                       # 20,000 × 20,000 px, 10,000 plots
    python benchmarks/zonal_memory.py --size 5000 --plots 2500 --methods blocks-2048,blocks-2048-nomedian

The raster is float32, 10 m pixels in EPSG:4548, tiled 256 × 256 and uncompressed (1.6 GB at
20,000²), holding a smooth surface plus noise, with a nodata square; it is written strip by
strip into --workdir (deleted afterwards unless --keep). The plots are 36-vertex circles on
a jittered grid covering the whole raster, so every block must be read.

Statistics: those `geo-township zonal` computes by default (geo_township.raster.STATS: count,
mean, min, max, sum, std, median, coverage-weighted) for every method, so the times are what a
user waits for; the extra row ``blocks-2048-nomedian`` leaves the median out (what
``--stats count,mean,min,max,sum,std`` costs), because on a float raster the weighted median
keeps every distinct value of a polygon and costs several times the rest together. Every
method's means and medians are compared with the first method's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

X0, Y1, RES = 400_000.0, 3_500_000.0, 10.0  # EPSG:4548 metres
NODATA = -9999.0


def make_raster(path: Path, size: int) -> None:
    """A size × size float32 GeoTIFF written 1024 rows at a time (never whole in memory)."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    rng = np.random.default_rng(1)
    profile = {"driver": "GTiff", "width": size, "height": size, "count": 1, "dtype": "float32",
               "crs": "EPSG:4548", "transform": from_origin(X0, Y1, RES, RES), "nodata": NODATA,
               "tiled": True, "blockxsize": 256, "blockysize": 256, "BIGTIFF": "IF_SAFER"}
    cols = np.arange(size)
    with rasterio.open(path, "w", **profile) as ds:
        for r0 in range(0, size, 1024):
            rows = np.arange(r0, min(r0 + 1024, size))[:, None]
            data = (0.5 + 0.3 * np.sin(cols / 700.0) * np.cos(rows / 900.0)
                    + rng.normal(0, 0.05, (len(rows), size))).astype("float32")
            hole = (rows >= size // 3) & (rows < size // 3 + size // 20)
            data[np.broadcast_to(hole, data.shape) & (cols >= size // 2) & (cols < size // 2 + size // 20)] = NODATA
            ds.write(data, 1, window=Window(0, r0, size, len(rows)))


def make_plots(size: int, n: int):
    """``n`` 36-vertex circles on a jittered grid over the raster (GeoSeries, EPSG:4548)."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(2)
    side = int(np.ceil(np.sqrt(n)))
    step = size * RES / side
    k = np.arange(n)
    r, c = np.divmod(k, side)
    x = X0 + (c + 0.5) * step + rng.uniform(-0.1, 0.1, n) * step
    y = Y1 - (r + 0.5) * step + rng.uniform(-0.1, 0.1, n) * step
    return gpd.GeoSeries(shapely.buffer(shapely.points(x, y), 0.45 * step, quad_segs=9), crs=4548)


def peak_rss_mib() -> float:
    """This process's peak resident memory (MiB). Linux's VmHWM belongs to the process's own
    address space; ru_maxrss would also carry the parent's resident size at fork time."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux, bytes on macOS


def statistics(method: str) -> tuple[str, ...]:
    """The statistics a method computes: the command's defaults, less the median for ``*-nomedian``."""
    from geo_township.raster import STATS

    return tuple(s for s in STATS if s != "median") if method.endswith("-nomedian") else STATS


def run_method(method: str, raster: Path, size: int, n: int) -> dict:
    """Run one method in this process; return its means, medians and timings."""
    plots = make_plots(size, n)
    stats = statistics(method)
    base = method.removesuffix("-nomedian")
    t0, c0 = time.perf_counter(), time.process_time()
    if base.startswith("blocks") or base == "whole":
        from geo_township.config import RasterSpec
        from geo_township.raster import extract

        # "whole": one block as large as the raster, so the whole raster is read at once
        block = 2 * size + 2 if base == "whole" else int(base.split("-")[1])
        frame, _ = extract(plots, RasterSpec("bench", raster), stats=stats, block=block)
    elif base == "exactextract":
        import geopandas as gpd
        from exactextract import exact_extract

        ops = ["stdev" if s == "std" else s for s in stats]
        frame = exact_extract(str(raster), gpd.GeoDataFrame(geometry=plots), ops, output="pandas")
    else:
        raise SystemExit(f"unknown method {method}")
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = peak_rss_mib()
    medians = np.round(frame["median"].to_numpy(), 9).tolist() if "median" in frame.columns else None
    return {"method": method, "seconds": seconds, "cpu": cpu, "peak_mib": peak,
            "means": np.round(frame["mean"].to_numpy(), 9).tolist(), "medians": medians}


def child(method: str, raster: Path, size: int, n: int) -> dict:
    cmd = [sys.executable, __file__, "--child", method, "--raster", str(raster), "--size", str(size),
           "--plots", str(n)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


LABELS = {
    "blocks-2048": "geo-township, blocks of 2048 px (default)",
    "blocks-2048-nomedian": "geo-township, 2048 px, without the median",
    "blocks-512": "geo-township, blocks of 512 px",
    "whole": "baseline: whole raster read at once",
    "exactextract": "baseline: plain exactextract on the file",
}


def max_diff(a: list | None, b: list | None) -> float:
    if a is None or b is None:
        return float("nan")
    return float(np.nanmax(np.abs(np.array(a, float) - np.array(b, float))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=20_000, help="raster width and height (px)")
    parser.add_argument("--plots", type=int, default=10_000)
    parser.add_argument("--methods", default="blocks-2048,blocks-2048-nomedian,blocks-512,whole,exactextract",
                        help="comma-separated: blocks-N, whole, exactextract; a -nomedian suffix leaves the "
                        "median out")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--raster", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_method(args.child, args.raster, args.size, args.plots)))
        return
    work = Path(tempfile.mkdtemp(prefix="zonal-bench-", dir=args.workdir))
    try:
        raster = work / f"county_{args.size}.tif"
        t0 = time.perf_counter()
        make_raster(raster, args.size)
        size_gb = os.path.getsize(raster) / 1e9
        print(f"raster {args.size:,} × {args.size:,} px ({args.size ** 2 / 1e6:,.0f} Mpx, float32, "
              f"{size_gb:.2f} GB on disk) written in {time.perf_counter() - t0:.1f} s; {args.plots:,} plots; "
              f"statistics (the command's defaults): {', '.join(statistics('default'))}")
        results = []
        for method in args.methods.split(","):
            res = child(method, raster, args.size, args.plots)
            results.append(res)
            print(f"  {LABELS.get(method, method):<44} {res['seconds']:8.1f} s wall, {res['cpu']:8.1f} s CPU, "
                  f"peak RSS {res['peak_mib']:8.0f} MiB", flush=True)
        ref = results[0]
        print(f"\n{'method':<44} {'wall':>8} {'CPU':>8} {'peak RSS':>12} {'CPU ×':>7} {'RSS ×':>7} "
              f"{'max |Δ mean|':>13} {'max |Δ median|':>15}")
        for res in results:
            print(f"{LABELS.get(res['method'], res['method']):<44} {res['seconds']:7.1f}s {res['cpu']:7.1f}s "
                  f"{res['peak_mib']:8.0f} MiB {res['cpu'] / ref['cpu']:7.2f} {res['peak_mib'] / ref['peak_mib']:7.2f} "
                  f"{max_diff(res['means'], ref['means']):13.2e} {max_diff(res['medians'], ref['medians']):15.2e}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
