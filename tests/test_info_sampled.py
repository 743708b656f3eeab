"""`info` on layers bigger than the sampling threshold: count, CRS and extent from the file's
metadata, encoding / inferred CRS / field mapping judged on a spread sample, and a finding
saying so (a small threshold stands in for a big file)."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo_township import inventory
from geo_township.io.sample import read_sample, sample_offsets
from geo_township.layers import load_township

N_TREES = 300
N_PLOTS = 120


@pytest.fixture
def big_township(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """Villages (2 polygons), 300 trees (GeoPackage, EPSG:4490, Chinese fields, field n = row)
    and 120 plots (GBK shapefile in GK zone 39 with 8-digit eastings, no .prj, no .cpg)."""
    rng = np.random.default_rng(3)
    west, east = shapely.box(117.48, 30.48, 117.50, 30.52), shapely.box(117.50, 30.48, 117.52, 30.52)
    gpd.GeoDataFrame({"村名": ["甲村", "乙村"]}, geometry=[west, east], crs=4490).to_file(tmp_path / "villages.gpkg")
    lon, lat = rng.uniform(117.481, 117.519, N_TREES), rng.uniform(30.481, 30.519, N_TREES)
    gpd.GeoDataFrame({"疫木编号": [f"T{i}" for i in range(N_TREES)], "状态": ["疑似"] * N_TREES,
                      "发现日期": ["2023-05-01"] * N_TREES, "n": np.arange(N_TREES)},
                     geometry=shapely.points(lon, lat), crs=4490).to_file(tmp_path / "trees.gpkg")
    x0, y0 = rng.uniform(117.482, 117.515, N_PLOTS), rng.uniform(30.482, 30.515, N_PLOTS)
    plots = gpd.GeoDataFrame({"小班号": [f"{i:03d}" for i in range(N_PLOTS)], "村名": ["甲村"] * N_PLOTS},
                             geometry=shapely.box(x0, y0, x0 + 0.002, y0 + 0.002), crs=4490)
    plots_ll = plots.total_bounds
    plots.to_crs(4527).to_file(tmp_path / "plots.shp", encoding="GBK")
    for extra in ("plots.prj", "plots.cpg"):
        (tmp_path / extra).unlink(missing_ok=True)
    (tmp_path / "township.toml").write_text(
        '[township]\nname = "抽样乡"\nname_en = "Sampled Township"\n\n'
        '[layers.villages]\npath = "villages.gpkg"\n\n[layers.forest_plots]\npath = "plots.shp"\n\n'
        '[layers.infected_trees]\npath = "trees.gpkg"\n', encoding="utf-8")
    return tmp_path, np.array([lon.min(), lat.min(), lon.max(), lat.max()]), plots_ll


def extent_numbers(text: str) -> np.ndarray:
    """'117.4810–117.5190E 30.4810–30.5190N' (or with '≈ ' before it) → [lon_min, lat_min, lon_max, lat_max]."""
    lons, lats = text.removeprefix("≈ ").split(" ")
    lon0, lon1 = lons.rstrip("E").split("–")
    lat0, lat1 = lats.rstrip("N").split("–")
    return np.array([float(lon0), float(lat0), float(lon1), float(lat1)])


def test_big_layers_are_described_from_metadata_and_a_sample(big_township, monkeypatch):
    folder, trees_box, plots_box = big_township
    monkeypatch.setattr(inventory, "SAMPLE_ABOVE", 100)
    monkeypatch.setattr(inventory, "SAMPLE_ROWS", 50)
    result = inventory.describe_layers(load_township(folder))
    rows = result.table.set_index("layer")
    # counts: the number of features written, from the file's metadata
    assert rows.loc["infected_trees", "features"] == N_TREES
    assert rows.loc["forest_plots", "features"] == N_PLOTS
    assert rows.loc["villages", "features"] == 2
    # extents against the coordinates the fixture generated (lon/lat, CGCS2000 = WGS84 to < 1 m)
    assert np.allclose(extent_numbers(rows.loc["infected_trees", "extent"]), trees_box, atol=6e-5)
    # the plots' box comes back from the projected file's box: within its meridian convergence (~10 m),
    # and says it is approximate; the trees' lon/lat box is the file's own
    assert rows.loc["forest_plots", "extent"].startswith("≈ ")
    assert not rows.loc["infected_trees", "extent"].startswith("≈")
    assert np.allclose(extent_numbers(rows.loc["forest_plots", "extent"]), plots_box, atol=2e-4)
    # the CRS the sample inferred from the 8-digit eastings, and the trees' from the file
    assert "EPSG:4527" in str(rows.loc["forest_plots", "crs"]) and "inferred" in str(rows.loc["forest_plots", "crs"])
    assert str(rows.loc["infected_trees", "crs"]) == "EPSG:4490"
    sampled = {f.layer: f for f in result.findings if f.check == "sampled"}
    assert set(sampled) == {"infected_trees", "forest_plots"}
    assert f"50 of {N_TREES} rows read" in sampled["infected_trees"].message
    assert f"50 of {N_PLOTS} rows read" in sampled["forest_plots"].message
    assert f"共 {N_TREES} 行，读取了其中 50 行" in sampled["infected_trees"].message_in("zh")
    # the shapefile's encoding is judged by the rules of every read (GBK detected, no .cpg)
    notes = " ".join(f.message for f in result.findings if f.layer == "forest_plots" and f.check == "loading")
    assert "text read as" in notes and "GB" in notes
    # the field mapping judged on the sample is the one a full read gives
    monkeypatch.setattr(inventory, "SAMPLE_ABOVE", 10_000)
    full = inventory.describe_layers(load_township(folder))
    assert result.tables["fields"].equals(full.tables["fields"])
    assert not [f for f in full.findings if f.check == "sampled"]
    assert (full.table["features"] == result.table["features"]).all()


def test_a_sample_is_spread_through_the_file_and_keeps_each_rows_position(big_township):
    folder, _, _ = big_township
    raw, info = read_sample(folder / "trees.gpkg", rows=50)
    assert info.features == N_TREES and len(raw.gdf) == 50
    assert (raw.gdf["n"].to_numpy() == raw.gdf.index.to_numpy()).all()  # index = position in the file
    assert raw.gdf.index.min() == 0 and raw.gdf.index.max() == N_TREES - 1  # the first and the last rows
    assert raw.gdf.index.is_unique


@pytest.mark.parametrize(("features", "rows"), [(10, 50), (300, 50), (1_000_003, 10_000), (51, 50)])
def test_sample_runs_never_overlap_and_stay_in_the_file(features, rows):
    runs = sample_offsets(features, rows)
    taken = np.concatenate([np.arange(start, start + count) for start, count in runs])
    assert len(taken) == min(features, rows) or (features > rows and len(taken) <= rows)
    assert len(np.unique(taken)) == len(taken) and taken.min() >= 0 and taken.max() < features
    if features > rows:
        assert taken.min() == 0 and taken.max() == features - 1
