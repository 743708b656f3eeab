"""Hotspots: planted clusters are found, ranked by size, with the right centre, radius
and plots; scattered trees make none; the sample's planted foci are found."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from geo_township.errors import CRSError
from geo_township.hotspots import cluster_labels, find_hotspots
from geo_township.trees import tree_counts
from geo_township.webmap.layers_trees import hotspot_overlays

X0, Y0 = 548_000.0, 3_374_000.0
CENTRES = [(X0 + 1000, Y0 + 1000, 60), (X0 + 4000, Y0 + 1500, 35), (X0 + 2500, Y0 + 4000, 20)]


def planted(seed: int = 1) -> gpd.GeoDataFrame:
    """Three tight Gaussian clusters (σ = 40 m) of 60, 35 and 20 trees, and 40 trees
    scattered over 6 km × 6 km."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for cx, cy, n in CENTRES:
        xs.append(rng.normal(cx, 40, n))
        ys.append(rng.normal(cy, 40, n))
    xs.append(rng.uniform(X0, X0 + 6000, 40))
    ys.append(rng.uniform(Y0, Y0 + 6000, 40))
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(np.concatenate(xs), np.concatenate(ys)), crs=4548)


def test_planted_clusters_are_found_and_ranked():
    pts = planted()
    plots = gpd.GeoDataFrame({"plot_id": ["A1", "A2", "B1"], "village": ["甲村", "甲村", "乙村"]},
                             geometry=[box(X0, Y0, X0 + 1000, Y0 + 2000), box(X0 + 1000, Y0, X0 + 2000, Y0 + 2000),
                                       box(X0 + 3500, Y0 + 1000, X0 + 4500, Y0 + 2000)], crs=4548)
    spots = find_hotspots(pts, eps_m=100, min_trees=10, plots=plots)
    assert list(spots["hotspot"]) == [1, 2, 3]
    for (cx, cy, n), (_, s) in zip(CENTRES, spots.iterrows(), strict=True):
        assert abs(s["x"] - cx) < 25 and abs(s["y"] - cy) < 25
        assert n <= s["trees"] <= n + 3  # a scattered tree may fall inside a cluster
        assert 50 < s["radius_m"] < 250
    first = spots.iloc[0]
    assert first["plots"] == "A1, A2" and first["plots_touched"] == 2 and first["villages"] == "甲村"
    assert spots.iloc[1]["plots"] == "B1"
    lon, lat = gpd.GeoSeries(gpd.points_from_xy([first["x"]], [first["y"]]), crs=4548).to_crs(4326).iloc[0].coords[0]
    assert first["lon"] == pytest.approx(lon) and first["lat"] == pytest.approx(lat)


def test_radius_holds_90_percent_of_the_trees():
    # 11 trees on a line 10 m apart: centre at 50 m; distances 0, 10, 10, 20, 20, … 50, 50
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(np.arange(11) * 10.0, np.zeros(11)), crs=4548)
    spots = find_hotspots(pts.set_geometry(pts.translate(X0, Y0)), eps_m=15, min_trees=3)
    assert len(spots) == 1
    assert spots.iloc[0]["trees"] == 11
    assert spots.iloc[0]["x"] == pytest.approx(X0 + 50)
    d = np.abs(np.arange(11) * 10.0 - 50)
    assert spots.iloc[0]["radius_m"] == pytest.approx(np.quantile(d, 0.9))


def test_scattered_trees_make_no_hotspot():
    rng = np.random.default_rng(3)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(X0, X0 + 10000, 50),
                                                       rng.uniform(Y0, Y0 + 10000, 50)), crs=4548)
    assert len(find_hotspots(pts, eps_m=100, min_trees=5)) == 0
    assert (cluster_labels(np.zeros(0), np.zeros(0), eps_m=10, min_trees=2)).size == 0


def test_degrees_are_refused():
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([117.5], [30.5]), crs=4490)
    with pytest.raises(CRSError):
        find_hotspots(pts, eps_m=100, min_trees=2)


MATCH_M = 150.0
"""How close a hotspot's centre must be to a planted focus: less than the smallest planted
focus radius (187 m) and than the clustering distance (hotspot_eps_m = 250 m)."""


def test_sample_planted_foci_are_found(sample_dir):
    """Every focus the sample generator planted has its own hotspot, centred within
    MATCH_M metres of it (distances in the township's GK zone, computed here)."""
    from geo_township.layers import load_township
    from geo_township.sample import planted_truth
    from geo_township.trees import tree_counts

    foci = planted_truth()["tree_foci"]
    town = load_township(sample_dir)
    spots = tree_counts(town, hotspots=True).features["hotspots"]
    centres = gpd.GeoSeries(gpd.points_from_xy(spots["lon"], spots["lat"]), crs=4326).to_crs(town.working_crs)
    planted = gpd.GeoSeries(gpd.points_from_xy([f["lon"] for f in foci], [f["lat"] for f in foci]),
                            crs=4326).to_crs(town.working_crs)
    d = np.array([[c.distance(p) for c in centres] for p in planted])  # foci × hotspots, metres
    nearest = d.argmin(axis=1)
    assert (d.min(axis=1) < MATCH_M).all(), dict(enumerate(d.min(axis=1).round(1)))
    assert len(set(nearest)) == len(foci)  # one hotspot per focus, none counted twice
    assert len(spots) == len(foci)  # and no hotspot where nothing was planted


def test_overlay_provider_on_the_sample(sample_dir):
    from geo_township.layers import load_township

    township = load_township(sample_dir)
    overlays = hotspot_overlays(tree_counts(township), township)
    assert len(overlays) == 1 and overlays[0].key == "hotspots" and len(overlays[0].gdf) >= 1


@pytest.mark.parametrize("seed", range(12))
def test_grid_dbscan_gives_scikit_learns_labels(seed, monkeypatch):
    """The bounded-memory DBSCAN labels every point as scikit-learn does (same clusters,
    same numbering, border points to the same cluster), also when it tests pairs in tiny
    chunks; with duplicates, lattices at exactly eps and dense outbreaks."""
    from sklearn.cluster import DBSCAN

    from geo_township import density

    rng = np.random.default_rng(seed)
    parts = [rng.uniform(0, 3000, (int(rng.integers(0, 300)), 2))]
    for _ in range(int(rng.integers(1, 6))):
        parts.append(rng.uniform(0, 3000, 2) + rng.normal(0, rng.uniform(5, 200), (int(rng.integers(5, 400)), 2)))
    parts.append(np.repeat(rng.uniform(0, 3000, (3, 2)), 10, axis=0))
    parts.append(np.stack(np.meshgrid(np.arange(8) * 20.0, np.arange(8) * 20.0), -1).reshape(-1, 2) + 500)
    xy = np.vstack(parts) + [X0, Y0]
    if seed % 3 == 0:
        monkeypatch.setattr(density, "CHUNK", 50)
    for eps, min_samples in ((20.0, 2), (50.0, 5), (250.0, 15), (100.0, 10)):
        expected = DBSCAN(eps=eps, min_samples=min_samples).fit_predict(xy)
        got = cluster_labels(xy[:, 0], xy[:, 1], eps_m=eps, min_trees=min_samples)
        assert np.array_equal(got, expected), (eps, min_samples)
