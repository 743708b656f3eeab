"""Find overlapping land-transfer parcels: geo-township's way (an STRtree query, a relate
test to drop neighbours that only touch, intersections measured on the ellipsoid) on
100,000 synthetic parcels, against naive all-pairs baselines on a smaller n, side by side.

    python benchmarks/audit_overlaps.py                    # 100,000 parcels; baselines on 2,000
    python benchmarks/audit_overlaps.py --parcels 20000 --naive 1000 --full-audit

The parcels tile a jittered grid (neighbours share edges, as fields do), each edge
densified to about 8 vertices; 1% of them are drawn again, shifted by a few metres (the
same land counted twice), so the expected pairs are known. Prints wall time per method,
the ratio, the extrapolated time of the baselines at the full n (they grow as n²), and
checks that every method finds the same pairs with the same areas.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

X0, Y0 = 500_000.0, 3_370_000.0  # GK zone CM 117°E (EPSG:4548), metres
CELL = 60.0  # ≈ 5.4 mu per parcel


def make_parcels(n: int, seed: int = 0, *, blocks: int = 10):
    """``n`` parcels: a jittered grid of quadrilaterals sharing their edges, plus 1% copies
    shifted by 3–15 m (the same land counted twice). Returns the parcels (GeoSeries,
    EPSG:4548), each parcel's village number, and ``blocks`` × ``blocks`` villages whose
    borders follow the parcels' edges (GeoSeries)."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    n_dup = n // 100
    n_grid = n - n_dup
    side = int(np.ceil(np.sqrt(n_grid)))
    gx, gy = np.meshgrid(np.arange(side + 1) * CELL, np.arange(side + 1) * CELL)
    gx = gx + rng.uniform(-12, 12, gx.shape) + X0
    gy = gy + rng.uniform(-12, 12, gy.shape) + Y0

    def node(r, c):
        return np.column_stack([gx[r, c], gy[r, c]])

    k = np.arange(n_grid)
    r, c = np.divmod(k, side)
    rings = np.stack([node(r, c), node(r, c + 1), node(r + 1, c + 1), node(r + 1, c), node(r, c)], axis=1)
    grid = shapely.segmentize(shapely.polygons(rings), CELL / 8)
    step = int(np.ceil(side / blocks))
    village = (np.minimum(r // step, blocks - 1) * blocks + np.minimum(c // step, blocks - 1))
    rows_used = int(np.ceil(n_grid / side))
    outlines = []
    for b in range(blocks * blocks):
        br, bc = divmod(b, blocks)
        r0, c0 = br * step, bc * step
        r1, c1 = min(r0 + step, rows_used), min(c0 + step, side)
        if r0 >= rows_used:
            outlines.append(shapely.Polygon())
            continue
        cells = grid[(village == b)]
        if r1 - r0 == step and (r1 < rows_used or (r1 * side) <= n_grid):
            ring = np.vstack([node(np.full(c1 - c0 + 1, r0), np.arange(c0, c1 + 1)),
                              node(np.arange(r0 + 1, r1 + 1), np.full(r1 - r0, c1)),
                              node(np.full(c1 - c0, r1), np.arange(c1 - 1, c0 - 1, -1)),
                              node(np.arange(r1 - 1, r0 - 1, -1), np.full(r1 - r0, c0))])
            outlines.append(shapely.segmentize(shapely.Polygon(ring), CELL / 8))
        else:  # the ragged last row of villages: the union of its parcels
            outlines.append(shapely.union_all(cells))
    pick = rng.choice(n_grid, n_dup, replace=False)
    shift = rng.uniform(3, 15, (n_dup, 2)) * rng.choice([-1, 1], (n_dup, 2))
    coords, owner = shapely.get_coordinates(grid[pick], return_index=True)
    dups = shapely.set_coordinates(grid[pick].copy(), coords + shift[owner])
    geoms = np.concatenate([grid, dups])
    villages_of = np.concatenate([village, village[pick]])
    order = rng.permutation(n)
    return (gpd.GeoSeries(geoms[order], crs=4548), villages_of[order],
            gpd.GeoSeries(np.asarray(outlines, dtype=object), crs=4548))


def indexed(geoms, min_m2: float):
    from geo_township.overlaps import overlap_pairs

    pairs = overlap_pairs(geoms, method="ellipsoidal", min_area_m2=min_m2)
    return {(int(a), int(b)): float(m2) for a, b, m2 in zip(pairs["left"], pairs["right"], pairs["area_m2"],
                                                          strict=True)}


def _measure(geoms, left, right, min_m2: float):
    import geopandas as gpd
    import shapely

    from geo_township.measure import area_m2

    arr = geoms.to_numpy()
    inter = shapely.intersection(arr[left], arr[right])
    m2 = area_m2(gpd.GeoSeries(inter, crs=geoms.crs))
    keep = m2 > min_m2
    return {(int(a), int(b)): float(x) for a, b, x in zip(left[keep], right[keep], m2[keep], strict=True)}


def naive_loop(geoms, min_m2: float):
    """What one writes first: every pair in a Python double loop."""
    arr = list(geoms.to_numpy())
    left, right = [], []
    for i in range(len(arr)):
        gi = arr[i]
        for j in range(i + 1, len(arr)):
            if gi.intersects(arr[j]):
                left.append(i)
                right.append(j)
    return _measure(geoms, np.array(left, dtype=int), np.array(right, dtype=int), min_m2)


def naive_vectorised(geoms, min_m2: float):
    """All pairs without an index, but vectorised: one shapely.intersects per row."""
    import shapely

    arr = geoms.to_numpy()
    shapely.prepare(arr)
    left, right = [], []
    for i in range(len(arr) - 1):
        hits = np.flatnonzero(shapely.intersects(arr[i], arr[i + 1:])) + i + 1
        left.append(np.full(len(hits), i))
        right.append(hits)
    return _measure(geoms, np.concatenate(left), np.concatenate(right), min_m2)


def timed(fn, *args):
    """The result, wall time and CPU time of this process (others may share the machine)."""
    t, c = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - t, time.process_time() - c


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(abs(a[k] - b[k]) <= 1e-9 * max(1.0, a[k]) for k in a)


def full_audit(geoms, village_of, outlines) -> None:
    """The whole audit (areas, overlaps, outside village, records, totals) on the same parcels."""
    import geopandas as gpd
    import pandas as pd

    from geo_township.transfers import audit_layers

    n = len(geoms)
    names = np.array([f"V{i:03d}" for i in range(len(outlines))], dtype=object)
    keep = ~outlines.is_empty.to_numpy()
    villages = gpd.GeoDataFrame({"village": names[keep]}, geometry=outlines[keep].to_numpy(), crs=geoms.crs)
    rng = np.random.default_rng(1)
    transfers = gpd.GeoDataFrame({
        "parcel_id": [f"T{i:06d}" for i in range(n)],
        "village": names[village_of],
        "land_type": "farmland", "use": rng.choice(["grain", "vegetables", "aquaculture"], n),
        "declared_mu": geoms.area.to_numpy() / (10000 / 15) * rng.uniform(0.97, 1.03, n),
        "start_date": pd.to_datetime("2015-01-01") + pd.to_timedelta(rng.integers(0, 3000, n), unit="D"),
    }, geometry=geoms.to_numpy(), crs=geoms.crs)
    transfers["end_date"] = transfers["start_date"] + pd.DateOffset(years=10)
    result = audit_layers(transfers, villages=villages)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parcels", type=int, default=100_000)
    ap.add_argument("--naive", type=int, default=2_000, help="n for the all-pairs baselines")
    ap.add_argument("--full-audit", action="store_true", help="also time the whole audit on --parcels")
    args = ap.parse_args()
    min_m2 = 0.1 * 10000 / 15  # overlap_min_mu = 0.1

    t0 = time.perf_counter()
    big, village_of, outlines = make_parcels(args.parcels)
    print(f"made {len(big):,} parcels ({int(np.mean([len(g.exterior.coords) for g in big.iloc[:1000]]))} vertices "
          f"each on average) in {time.perf_counter() - t0:.1f} s")
    pairs, t_big, c_big = timed(indexed, big, min_m2)
    print(f"\nindexed (STRtree), n = {len(big):,}: {t_big:.2f} s wall, {c_big:.2f} s CPU; {len(pairs):,} pairs "
          f"overlap by more than 0.1 mu ({len(big) // 100:,} planted copies, each over 2–4 neighbours)")

    small = make_parcels(args.naive, seed=1)[0]
    ref, t_idx, c_idx = timed(indexed, small, min_m2)
    vec, t_vec, c_vec = timed(naive_vectorised, small, min_m2)
    loop, t_loop, c_loop = timed(naive_loop, small, min_m2)
    scale = (len(big) / len(small)) ** 2
    print(f"\nside by side, n = {len(small):,} ({len(small) * (len(small) - 1) // 2:,} pairs), {len(ref)} overlaps:")
    print(f"  {'method':<34}{'wall':>9}{'CPU':>9}{'CPU vs indexed':>16}{'same pairs':>12}"
          f"{'CPU at n = ' + format(len(big), ','):>26}")
    rows = [("indexed (STRtree + relate)", t_idx, c_idx, True, f"{c_big:,.1f} s (measured)"),
            ("all pairs, vectorised intersects", t_vec, c_vec, same(ref, vec), f"{c_vec * scale:,.0f} s (n², est.)"),
            ("all pairs, Python double loop", t_loop, c_loop, same(ref, loop), f"{c_loop * scale:,.0f} s (n², est.)")]
    for name, t, c, ok, at_n in rows:
        print(f"  {name:<34}{t:>8.2f}s{c:>8.2f}s{c / c_idx:>15.1f}×{ok!s:>12}{at_n:>26}")
    if args.full_audit:
        result, t_full, c_full = timed(full_audit, big, village_of, outlines)
        counts = ", ".join(f"{r.check} {r.findings:,}" for r in result.table.itertuples() if r.findings)
        print(f"\nwhole audit (areas, overlaps, 100 villages, records, totals), n = {len(big):,}: "
              f"{t_full:.2f} s wall, {c_full:.2f} s CPU; findings: {counts}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
