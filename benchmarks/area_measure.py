"""Ellipsoidal area of many parcels: geo-township's vectorised equal-area projection against
a per-polygon ``pyproj.Geod`` loop (the usual way), side by side, and how far they differ.

    python benchmarks/area_measure.py                  # 100,000 parcels of ~36 vertices
    python benchmarks/area_measure.py --parcels 20000

Prints wall time per method, the ratio, and the largest relative difference per parcel and
in the total (the numbers must agree; the speed is what is measured).
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod

from geo_township.measure import area_by, area_m2

X0, Y0 = 480_000.0, 3_350_000.0  # GK zone CM 117°E (EPSG:4548), metres


def make_parcels(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """Irregular 36-vertex parcels of 1–60 mu scattered over a county-sized square."""
    rng = np.random.default_rng(seed)
    cx = rng.uniform(X0, X0 + 40_000, n)
    cy = rng.uniform(Y0, Y0 + 30_000, n)
    angles = np.linspace(0, 2 * np.pi, 36, endpoint=False)
    radius = rng.uniform(15, 110, (n, 1)) * (1 + 0.25 * np.sin(3 * angles + rng.uniform(0, 6, (n, 1))))
    xs = cx[:, None] + radius * np.cos(angles)
    ys = cy[:, None] + radius * np.sin(angles)
    rings = np.stack([xs, ys], axis=-1)
    polys = shapely.polygons(rings)
    village = rng.integers(0, 200, n).astype(str)
    return gpd.GeoDataFrame({"village": village}, geometry=polys, crs=4548)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parcels", type=int, default=100_000)
    args = ap.parse_args()
    parcels = make_parcels(args.parcels)

    t0 = time.perf_counter()
    ours = area_m2(parcels.geometry)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = area_by(parcels, "village", unit="mu")
    t_table = time.perf_counter() - t0

    geod = Geod(ellps="GRS80")
    t0 = time.perf_counter()
    lonlat = parcels.geometry.to_crs(4490)
    loop = np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in lonlat])
    t_loop = time.perf_counter() - t0

    rel = np.abs(ours - loop) / loop
    print(f"{args.parcels:,} parcels, {int(shapely.get_num_coordinates(parcels.geometry.to_numpy()).sum()):,} vertices")
    print(f"  geo-township area_m2 (equal-area projection): {t_ours:7.2f} s")
    print(f"  geo-township area_by village (200 groups):    {t_table:7.2f} s")
    print(f"  baseline: pyproj.Geod loop per polygon:       {t_loop:7.2f} s")
    print(f"  speed-up: {t_loop / t_ours:.0f}x")
    print(f"  largest difference per parcel: {rel.max():.2e} relative, {np.abs(ours - loop).max():.1e} m² absolute "
          "(Geod's own rounding on small polygons); in the total: "
          f"{abs(ours.sum() - loop.sum()) / loop.sum():.2e}")
    print(f"  total: {table['area_mu'].iloc[-1]:,.2f} mu")


if __name__ == "__main__":
    main()
