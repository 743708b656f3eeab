"""Size and build time of `geo-township map` pages for 10k, 100k and 1M synthetic trees,
side by side with plain folium baselines, and (with --browser) how long Chromium takes
to load each page.

A synthetic county of about 1,276 km² around 117.5°E 31°N: 200 villages (a 20 × 10
grid), trees clustered around 300 foci with a status, id, found date and village. Each
size is a township folder (villages GeoPackage, trees GeoParquet), measured two ways:

* the command itself: ``geo-township map --township DIR -o FILE`` run as a separate
  process, exactly as a user runs it — every analysis of the map (trees and their
  hotspots, audit, rivers, sand, candidates) and the printed key statistics included; wall time
  from start to exit, imports included;
* the map's own part: ``load_township`` + ``write_map`` in this process without the
  analyses' Results (imports excluded), and (``--provider-times``) each analysis's time.

Baselines, on the same trees: folium.GeoJson with a tooltip (one feature object per tree)
and FastMarkerCluster.

    python benchmarks/map_size.py                 # 10k, 100k, 1M; baselines at 10k
    python benchmarks/map_size.py --sizes 10000 --baseline-sizes 10000 100000 --browser
    python benchmarks/map_size.py --sizes 1000000 --provider-times
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

LON0, LAT0 = 117.30, 30.84  # south-west corner
DLON, DLAT = 0.39, 0.33  # ≈ 37 km × 36.6 km ≈ 1,350 km²
STATUSES = np.array(["suspected", "confirmed", "felled", "cleared", "verified"])


def synthetic_township(root: Path, n: int, seed: int = 42) -> Path:
    """Write a township folder with ``n`` clustered trees and 200 villages."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    cols, rows = 20, 10
    villages = gpd.GeoDataFrame(
        {"village": [f"村{i:03d}" for i in range(cols * rows)], "code": [f"34{i:04d}" for i in range(cols * rows)]},
        geometry=[box(LON0 + DLON * c / cols, LAT0 + DLAT * r / rows, LON0 + DLON * (c + 1) / cols,
                      LAT0 + DLAT * (r + 1) / rows) for r in range(rows) for c in range(cols)], crs=4490)
    villages.to_file(root / "villages.gpkg", layer="villages")
    foci = np.column_stack([rng.uniform(LON0, LON0 + DLON, 300), rng.uniform(LAT0, LAT0 + DLAT, 300)])
    pick = rng.integers(0, len(foci), n)
    lon = np.clip(foci[pick, 0] + rng.normal(0, 0.01, n), LON0, LON0 + DLON - 1e-9)
    lat = np.clip(foci[pick, 1] + rng.normal(0, 0.008, n), LAT0, LAT0 + DLAT - 1e-9)
    status = STATUSES[rng.choice(5, n, p=[0.05, 0.1, 0.05, 0.5, 0.3])]
    found = pd.Timestamp("2021-09-01") + pd.to_timedelta(rng.integers(0, 600, n), unit="D")
    col = ((lon - LON0) / (DLON / cols)).astype(int)
    row = ((lat - LAT0) / (DLAT / rows)).astype(int)
    trees = gpd.GeoDataFrame({
        "tree_id": [f"T{i:07d}" for i in range(n)], "status": status, "found_date": found,
        "village": [f"村{r * cols + c:03d}" for r, c in zip(row, col, strict=True)],
    }, geometry=gpd.points_from_xy(lon, lat), crs=4490)
    trees.to_parquet(root / "trees.parquet")
    (root / "township.toml").write_text(
        '[township]\nname = "合成县"\nname_en = "Synthetic county"\n\n'
        '[layers.villages]\npath = "villages.gpkg"\nlayer = "villages"\n\n'
        '[layers.infected_trees]\npath = "trees.parquet"\n', encoding="utf-8")
    return root


def ours(root: Path, out: Path, *, offline: bool) -> dict:
    """Load the township and write the map with geo_township.webmap (no analysis layers)."""
    from geo_township import webmap
    from geo_township.layers import load_township

    started = time.perf_counter()
    town = load_township(root)
    town.gdf("villages")
    town.gdf("infected_trees")
    loaded = time.perf_counter()
    written = webmap.write_map(town, out, results={}, offline=offline)  # no analysis Results: the map alone
    rep = written.model.layer("infected_trees").representation
    return {"load_s": loaded - started, "build_s": time.perf_counter() - loaded, "bytes": written.bytes, "rep": rep}


def command(root: Path, out: Path, *, offline: bool) -> dict:
    """Run ``geo-township map`` in a fresh process (every provider, key statistics printed)."""
    args = [sys.executable, "-c", "from geo_township.cli import main; main()", "map", "--township", str(root),
            "-o", str(out)] + (["--offline"] if offline else [])
    started = time.perf_counter()
    done = subprocess.run(args, check=False, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"geo-township map failed ({done.returncode}):\n{done.stderr}")
    warnings = [line for line in done.stderr.splitlines() if line.startswith("Warning")]
    return {"build_s": seconds, "bytes": out.stat().st_size, "warnings": warnings}


def provider_times(root: Path) -> dict[str, tuple[float, str]]:
    """Seconds each analysis of the map takes on the township (run and drawn), and what it drew."""
    from geo_township.layers import load_township
    from geo_township.webmap.registry import MAP_ANALYSES

    town = load_township(root)
    town.gdf("villages")
    town.gdf("infected_trees")
    out = {}
    for name, analysis in MAP_ANALYSES.items():
        if not analysis.applies_to(town):
            continue
        started = time.perf_counter()
        try:
            layers = analysis.draw(analysis.run(town), town)
            what = ", ".join(f"{o.key} ({len(getattr(o, 'gdf', ()))})" for o in layers) or "nothing"
        except Exception as exc:  # noqa: BLE001 - a failing provider is reported, as the map reports it
            what = f"failed: {type(exc).__name__}: {exc}"
        out[name] = (time.perf_counter() - started, what)
    return out


def baseline_geojson(root: Path, out: Path) -> dict:
    """Naive folium: one GeoJson layer of every tree with a tooltip."""
    import folium

    trees = gpd.read_parquet(root / "trees.parquet")
    trees["found_date"] = trees["found_date"].dt.strftime("%Y-%m-%d")
    started = time.perf_counter()
    m = folium.Map(location=[LAT0 + DLAT / 2, LON0 + DLON / 2], zoom_start=11)
    folium.GeoJson(trees, tooltip=folium.GeoJsonTooltip(["tree_id", "status", "found_date", "village"])).add_to(m)
    m.save(str(out))
    return {"build_s": time.perf_counter() - started, "bytes": out.stat().st_size, "rep": "folium GeoJson"}


def baseline_fast_cluster(root: Path, out: Path) -> dict:
    """folium FastMarkerCluster of the tree positions (no attributes)."""
    import folium
    from folium.plugins import FastMarkerCluster

    trees = gpd.read_parquet(root / "trees.parquet")
    started = time.perf_counter()
    m = folium.Map(location=[LAT0 + DLAT / 2, LON0 + DLON / 2], zoom_start=11)
    FastMarkerCluster(np.column_stack([trees.geometry.y, trees.geometry.x]).tolist()).add_to(m)
    m.save(str(out))
    return {"build_s": time.perf_counter() - started, "bytes": out.stat().st_size, "rep": "FastMarkerCluster"}


REDRAW = """([zoom]) => {
  const m = window.townshipMap, st = m.layers.infected_trees;
  let at;  // centre on the middle of the trees (median longitude and latitude)
  const xs = Array.from(st.xy.filter((_, i) => i % 2 === 0)).sort((a, b) => a - b);
  const ys = Array.from(st.xy.filter((_, i) => i % 2 === 1)).sort((a, b) => a - b);
  at = [ys[ys.length >> 1], xs[xs.length >> 1]];
  m.map.setView(at, zoom, {animate: false});
  const layers = Object.values(m.layers).filter(s => s.canvas);
  const t0 = performance.now();
  for (let k = 0; k < 5; k++) layers.forEach(s => s.canvas.redraw());
  const redraw = (performance.now() - t0) / 5;
  const size = m.map.getSize(), t1 = performance.now();
  for (let k = 0; k < 20; k++) m.hitPoints({x: size.x / 2 + k, y: size.y / 2});
  const hit = (performance.now() - t1) / 20;
  const drawn = st.canvas.drawn ? st.canvas.drawn.idx.length : 0;
  return {redraw_ms: redraw, hit_ms: hit, trees_drawn: drawn};
}"""


def browser_times(page: Path) -> dict | None:
    """Seconds until Chromium (headless, network blocked) has drawn every layer, and the
    time to redraw the point layers and to find the tree under the pointer at zoom 12
    (grid when the layer is large) and 16 (trees)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "browser"))
    from chromium import Browser, chromium_available

    if chromium_available():
        return None
    b = Browser()
    try:
        started = time.perf_counter()
        s = b.open(page, timeout_ms=300_000)
        out = {"browser_s": time.perf_counter() - started}
        for zoom in (12, 16):
            r = s.page.evaluate(REDRAW, [zoom])
            out.update({f"z{zoom}_{k}": v for k, v in r.items()})
        problems = s.problems()
        if problems:
            print("   browser problems:", problems[:3])
        return out
    finally:
        b.close()


def warm_imports() -> float:
    """Import what the map needs once, so build times are the work, not the imports."""
    started = time.perf_counter()
    import folium  # noqa: F401
    import mapclassify  # noqa: F401

    import geo_township.webmap.build
    import geo_township.webmap.model  # noqa: F401

    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--baseline-sizes", type=int, nargs="*", default=[10_000])
    parser.add_argument("--browser", action="store_true", help="also time loading each page in Chromium")
    parser.add_argument("--keep", type=Path, default=None, help="keep the pages in this folder")
    parser.add_argument("--no-command", action="store_true",
                        help="skip running the geo-township map command itself (every provider, statistics)")
    parser.add_argument("--provider-times", action="store_true",
                        help="also time each registered overlay provider on every size")
    args = parser.parse_args()
    print(f"imports (once per process): {warm_imports():.1f} s")
    work = Path(tempfile.mkdtemp(prefix="map-size-"))
    rows = []
    try:
        for n in args.sizes:
            root = synthetic_township(work / f"t{n}", n)
            out = work / f"ours_{n}.html"
            r = ours(root, out, offline=args.browser)
            r.update(n=n, what="write_map, providers off" + (" (offline)" if args.browser else ""))
            if args.browser:
                r.update(browser_times(out) or {})
            rows.append(r)
            print(f"{n:>9,} trees  write_map: {r['bytes'] / 1e6:7.2f} MB  load {r['load_s']:6.2f} s  "
                  f"map {r['build_s']:6.2f} s  ({r['rep']})", flush=True)
            if not args.no_command:
                c = command(root, work / f"command_{n}.html", offline=args.browser)
                c.update(n=n, what="geo-township map (command)" + (" --offline" if args.browser else ""),
                         rep="every provider + statistics")
                rows.append(c)
                warned = '; ' + '; '.join(c['warnings']) if c['warnings'] else ''
                print(f"{'':>9}        command: {c['bytes'] / 1e6:7.2f} MB  {c['build_s']:6.2f} s from start to exit "
                      f"(imports, every provider, key statistics){warned}",
                      flush=True)
            if args.provider_times:
                for name, (seconds, what) in provider_times(root).items():
                    print(f"{'':>9}        provider {name:<11} {seconds:6.2f} s  {what}", flush=True)
            if r.get("browser_s"):
                print(f"{'':>9}        Chromium: ready in {r['browser_s']:.1f} s; redraw {r['z12_redraw_ms']:.0f} ms "
                      f"at zoom 12 ({r['z12_trees_drawn']:,} trees drawn), {r['z16_redraw_ms']:.0f} ms at zoom 16 "
                      f"({r['z16_trees_drawn']:,} trees); pointer lookup {r['z16_hit_ms']:.1f} ms", flush=True)
            if n in args.baseline_sizes:
                for name, fn in (("GeoJson", baseline_geojson), ("FastMarkerCluster", baseline_fast_cluster)):
                    b = fn(root, work / f"{name}_{n}.html")
                    b.update(n=n, what=f"folium {name}")
                    rows.append(b)
                    print(f"{'':>9}        {name:<17}: {b['bytes'] / 1e6:7.2f} MB  build {b['build_s']:6.2f} s  "
                          f"→ ours is {b['bytes'] / r['bytes']:.1f}× smaller, "
                          f"{b['build_s'] / r['build_s']:.1f}× faster to build (map step)", flush=True)
        print()
        extra = ["browser_s", "z12_redraw_ms", "z16_redraw_ms", "z16_hit_ms"] if args.browser else []
        table = pd.DataFrame(rows)
        print(table[["n", "what", "bytes", "load_s", "build_s", *[c for c in extra if c in table]]]
              .to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        big = [r for r in rows if r["what"].startswith(("geo-township", "write_map")) and r["n"] >= 1_000_000]
        for r in big:
            print(f"\n1M-tree budget 25 MB, {r['what']}: {'met' if r['bytes'] < 25e6 else 'NOT met'} "
                  f"({r['bytes'] / 1e6:.1f} MB)")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for p in work.glob("*.html"):
                shutil.copy(p, args.keep / p.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
