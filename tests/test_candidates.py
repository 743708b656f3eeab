"""Vegetation-loss candidates: planted loss patches are found, only inside pine plots, sized
and described right, whatever the block size; files for crews; the map layers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from pyproj import Geod, Transformer
from rasterio.transform import from_origin

from geo_township.candidates import find_candidates, save_candidates
from geo_township.errors import LayerReadError, UsageError
from geo_township.layers import load_township
from geo_township.vocabulary import PINE_SPECIES
from geo_township.webmap.registry import map_overlays

TO_GK = Transformer.from_crs(4490, 4548, always_xy=True)
GEOD = Geod(ellps="GRS80")
RES = 10.0


def write_tif(path: Path, data: np.ndarray, transform, crs="EPSG:4548", nodata=-9999.0) -> None:
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype="float32", crs=crs, transform=transform, nodata=nodata) as ds:
        ds.write(data.astype("float32"), 1)


class Scene:
    """NDVI at two dates over the tiny township (pine plot 001 west, fir plot 002 east) on a
    10 m grid in EPSG:4548, with loss planted at known pixels."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        x0, y1 = TO_GK.transform(117.488, 30.501)
        self.x0, self.y1 = np.floor(x0 / RES) * RES, np.ceil(y1 / RES) * RES
        self.transform = from_origin(self.x0, self.y1, RES, RES)
        self.shape = (140, 250)
        rng = np.random.default_rng(5)
        self.before = 0.8 + rng.normal(0, 0.02, self.shape)
        self.after = self.before + rng.normal(0, 0.02, self.shape)
        self.planted: dict[str, tuple[int, int, int, int]] = {}

    def cell(self, lon: float, lat: float) -> tuple[int, int]:
        x, y = TO_GK.transform(lon, lat)
        return int((self.y1 - y) // RES), int((x - self.x0) // RES)

    def plant(self, name: str, lon: float, lat: float, rows: int, cols: int, drop: float = 0.4) -> None:
        r, c = self.cell(lon, lat)
        self.after[r:r + rows, c:c + cols] -= drop
        self.planted[name] = (r, c, r + rows, c + cols)

    def footprint(self, name: str):
        r0, c0, r1, c1 = self.planted[name]
        return shapely.box(self.x0 + c0 * RES, self.y1 - r1 * RES, self.x0 + c1 * RES, self.y1 - r0 * RES)

    def write(self, after_transform=None, after_crs="EPSG:4548") -> None:
        write_tif(self.folder / "ndvi_2022.tif", self.before, self.transform)
        write_tif(self.folder / "ndvi_2023.tif", self.after, after_transform or self.transform, crs=after_crs)
        with open(self.folder / "township.toml", "a", encoding="utf-8") as fh:
            fh.write('\n[rasters.ndvi_2022]\npath = "ndvi_2022.tif"\n\n[rasters.ndvi_2023]\npath = "ndvi_2023.tif"\n')


@pytest.fixture
def scene(tiny_township) -> Scene:
    s = Scene(tiny_township)
    s.plant("group", 117.495, 30.495, 3, 2)        # 6 pixels = 600 m² in the pine plot
    s.plant("fir", 117.505, 30.495, 3, 3)          # in the Chinese-fir plot: not a candidate
    s.plant("clearcut", 117.493, 30.4975, 10, 10, drop=0.3)  # 10,000 m²: felling, too large
    s.plant("single", 117.497, 30.492, 1, 1, drop=0.6)     # one pixel, 100 m²
    s.plant("edge", 117.4962, 30.4985, 4, 4)       # 16 pixels, cut by 16-pixel blocks
    s.write()
    return s


def pine_union(township):
    plots = township.gdf("forest_plots")
    return shapely.union_all(plots[plots["species"].isin(PINE_SPECIES)].geometry.to_numpy())


def test_planted_patches_found_and_only_in_pine_plots(scene):
    township = load_township(scene.folder)
    result = find_candidates(township, "ndvi_2022", "ndvi_2023")
    polys = result.features["candidates"]
    assert len(polys) == 3 == len(result.table)
    for name in ("group", "single", "edge"):
        hits = polys[polys.intersects(scene.footprint(name))]
        assert len(hits) == 1, name
        assert shapely.equals_exact(hits.geometry.iloc[0].normalize(), scene.footprint(name).normalize(), 1e-6)
    assert not polys.intersects(scene.footprint("fir")).any()
    assert polys.buffer(-0.01).within(pine_union(township)).all()
    assert (result.table["plot_id"] == "001").all()
    assert result.tables["totals"]["excluded_large"].iloc[0] == 1
    assert len(result.features["excluded"]) == 1
    assert result.features["excluded"].geometry.iloc[0].equals(scene.footprint("clearcut"))


def test_patch_numbers_against_hand_worked_values(scene):
    township = load_township(scene.folder)
    table = find_candidates(township, "ndvi_2022", "ndvi_2023").table
    r0, c0, r1, c1 = scene.planted["group"]
    row = table[table["loss_pixels"] == 6].iloc[0]
    drop = scene.before[r0:r1, c0:c1] - scene.after[r0:r1, c0:c1]
    assert row["drop_mean"] == pytest.approx(drop.mean(), rel=1e-5)
    assert row["drop_max"] == pytest.approx(drop.max(), rel=1e-5)
    assert row["before_mean"] == pytest.approx(scene.before[r0:r1, c0:c1].mean(), rel=1e-5)
    assert row["after_mean"] == pytest.approx(scene.after[r0:r1, c0:c1].mean(), rel=1e-5)
    # ellipsoidal area of the 20 m × 30 m footprint, by pyproj.Geod on its corners
    lonlat = shapely.transform(scene.footprint("group"), lambda xy: np.column_stack(
        Transformer.from_crs(4548, 4490, always_xy=True).transform(xy[:, 0], xy[:, 1])))
    assert row["area_m2"] == pytest.approx(abs(GEOD.geometry_area_perimeter(lonlat)[0]), rel=1e-5)
    # the centre point for the crew lies in the patch
    centre = Transformer.from_crs(4326, 4548, always_xy=True).transform(row["lon"], row["lat"])
    assert scene.footprint("group").contains(shapely.Point(centre))
    # worst drop first, numbered C001 …
    assert list(table["patch_id"]) == ["C001", "C002", "C003"]
    assert table["drop_mean"].is_monotonic_decreasing


def test_result_does_not_depend_on_block_size(scene):
    township = load_township(scene.folder)
    whole = find_candidates(township, "ndvi_2022", "ndvi_2023", block=4096).table
    small = find_candidates(township, "ndvi_2022", "ndvi_2023", block=16).table
    tiny = find_candidates(township, "ndvi_2022", "ndvi_2023", block=3).table
    for other in (small, tiny):
        assert other[["patch_id", "loss_pixels"]].equals(whole[["patch_id", "loss_pixels"]])
        assert np.allclose(other["area_m2"], whole["area_m2"], rtol=1e-9)
        assert np.allclose(other["drop_max"], whole["drop_max"])


def test_size_and_drop_thresholds(scene):
    township = load_township(scene.folder)
    result = find_candidates(township, "ndvi_2022", "ndvi_2023", min_m2=150)
    assert len(result.table) == 2
    assert result.tables["totals"]["excluded_small"].iloc[0] == 1
    assert len(find_candidates(township, "ndvi_2022", "ndvi_2023", min_drop=0.5).table) == 1  # only "single"
    with pytest.raises(UsageError, match="size range"):
        find_candidates(township, "ndvi_2022", "ndvi_2023", min_m2=500, max_m2=100)
    with pytest.raises(UsageError, match="both dates"):
        find_candidates(township, "ndvi_2022", "ndvi_2022")


def test_nodata_after_hides_a_patch(tiny_township):
    s = Scene(tiny_township)
    s.plant("group", 117.495, 30.495, 3, 2)
    r0, c0, r1, c1 = s.planted["group"]
    s.after[r0:r1, c0:c1] = -9999.0  # cloud masked in the later image
    s.write()
    assert len(find_candidates(load_township(tiny_township), "ndvi_2022", "ndvi_2023").table) == 0


def test_after_on_another_grid_is_warped(tiny_township):
    s = Scene(tiny_township)
    s.plant("group", 117.495, 30.495, 6, 6)
    shifted = from_origin(s.x0 + 5, s.y1 - 5, RES, RES)  # half a pixel off
    s.write(after_transform=shifted)
    result = find_candidates(load_township(tiny_township), "ndvi_2022", "ndvi_2023")
    assert any("warped" in n for n in result.notes)
    assert len(result.table) == 1
    assert result.features["candidates"].intersects(s.footprint("group")).all()


def test_no_forest_plots_is_a_clear_error(tiny_township):
    s = Scene(tiny_township)
    s.write()
    toml = tiny_township / "township.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[layers.forest_plots]\npath = \"plots.shp\"\n", ""),
                    encoding="utf-8")
    with pytest.raises(LayerReadError, match="no forest_plots layer"):
        find_candidates(load_township(tiny_township), "ndvi_2022", "ndvi_2023")


def test_files_for_crews(scene, tmp_path):
    result = find_candidates(load_township(scene.folder), "ndvi_2022", "ndvi_2023")
    save_candidates(result, tmp_path / "c.gpkg")
    layers = dict(pyogrio.list_layers(tmp_path / "c.gpkg"))
    assert layers == {"candidate_patches": "Polygon", "candidate_points": "Point"}
    points = gpd.read_file(tmp_path / "c.gpkg", layer="candidate_points")
    assert list(points["patch_id"]) == ["C001", "C002", "C003"]
    save_candidates(result, tmp_path / "c.gpx")
    gpx = gpd.read_file(tmp_path / "c.gpx", layer="waypoints")
    assert list(gpx["name"]) == ["C001", "C002", "C003"]
    assert np.allclose(gpx.geometry.x, result.table["lon"], atol=1e-6)
    save_candidates(result, tmp_path / "c.csv")
    assert (tmp_path / "c.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    with pytest.raises(UsageError, match="cannot write candidates"):
        save_candidates(result, tmp_path / "c.xlsx")


def test_files_for_crews_have_words_and_rounded_numbers(scene, tmp_path):
    """Species as words in the chosen language, areas to the m², drops to 0.001, and in
    Chinese Chinese field names (a shapefile keeps short ASCII names)."""
    import pandas as pd

    result = find_candidates(load_township(scene.folder), "ndvi_2022", "ndvi_2023")
    save_candidates(result, tmp_path / "en.csv")
    en = pd.read_csv(tmp_path / "en.csv", encoding="utf-8-sig", dtype=str)
    assert set(en["species"]) == {"Masson pine"}
    # the 'group' patch: 20 m × 30 m, 600 m² to the m² (GK zone scale under 1e-4 here)
    assert "600" in set(en["area_m2"])
    assert all(len(v.split(".")[1]) <= 3 for v in en["drop_mean"] if "." in v)
    assert all("." not in v for v in en["area_m2"])
    save_candidates(result, tmp_path / "zh.csv", lang="zh")
    zh = pd.read_csv(tmp_path / "zh.csv", encoding="utf-8-sig", dtype=str)
    assert {"疑似斑块", "小班", "平均下降"} <= set(zh.columns)
    assert set(zh["优势树种"]) == {"马尾松"}
    save_candidates(result, tmp_path / "zh.shp", lang="zh")
    shp = gpd.read_file(tmp_path / "zh.shp")
    assert set(shp["species"]) == {"马尾松"} and "patch_id" in shp.columns
    save_candidates(result, tmp_path / "zh.kml", lang="zh")
    kml = gpd.read_file(tmp_path / "zh.kml")
    assert list(kml["Name"]) == ["C001", "C002", "C003"]
    assert all(d.startswith("小班 001，马尾松，") for d in kml["description"])
    assert [name for name, _ in pyogrio.list_layers(tmp_path / "zh.kml")] == ["疑似斑块"]
    save_candidates(result, tmp_path / "en.gpx")
    gpx = gpd.read_file(tmp_path / "en.gpx", layer="waypoints")
    assert all(d.startswith("plot 001, Masson pine, ") for d in gpx["desc"])
    save_candidates(result, tmp_path / "zh.gpkg", lang="zh")
    patches = gpd.read_file(tmp_path / "zh.gpkg", layer="candidate_patches")
    assert set(patches["优势树种"]) == {"马尾松"}
    assert (patches["面积(平方米)"] == patches["面积(平方米)"].round()).all()


def test_rasters_that_are_not_a_vegetation_index_pair_are_flagged(scene):
    """An NDVI against a DEM, or against an NDVI stored ×10,000: warnings, not silence."""
    township = load_township(scene.folder)
    assert not [f for f in find_candidates(township, "ndvi_2022", "ndvi_2023").findings
                if f.check in ("not_an_index", "index_ranges_differ")]
    dem = 200 + 150 * np.add.outer(np.arange(scene.shape[0]), np.arange(scene.shape[1])) / sum(scene.shape)
    write_tif(scene.folder / "dem.tif", dem, scene.transform)
    write_tif(scene.folder / "scaled.tif", scene.after * 10_000, scene.transform)
    with open(scene.folder / "township.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[rasters.dem]\npath = "dem.tif"\n\n[rasters.scaled]\npath = "scaled.tif"\n')
    township = load_township(scene.folder)
    for after in ("dem", "scaled"):
        found = {(f.layer, f.check, f.severity) for f in find_candidates(township, "ndvi_2022", after).findings}
        assert (after, "not_an_index", "warning") in found, after
        assert (after, "index_ranges_differ", "warning") in found, after
        assert not any(layer == "ndvi_2022" for layer, _, _ in found)


def test_rasters_are_named_not_given_as_files(scene):
    with pytest.raises(UsageError, match="ndvi_2023.tif' is the raster ndvi_2023"):
        find_candidates(load_township(scene.folder), "ndvi_2022", str(scene.folder / "ndvi_2023.tif"))


def test_map_layers(scene):
    township = load_township(scene.folder)
    overlays = map_overlays(township, ["candidates"]).overlays  # the ndvi pair is found by name
    assert [o.key for o in overlays] == ["candidate_patches", "candidate_points"]
    assert len(overlays[0].gdf) == 3 and overlays[1].geometry == "point"
    assert "松林小班" in overlays[0].describe("zh") and "中心点" in overlays[1].describe("zh")
    township.config.parameters["candidate_rasters"] = ["ndvi_2022"]
    assert map_overlays(township, ["candidates"]).overlays == []


# --------------------------------------------------------------------------- the bundled sample


def test_sample_planted_loss_is_found_and_nothing_else(sample_dir):
    """The sample's NDVI pair (UTM 50N, 20 m) over its pine plots (GK zone 39): every planted
    loss patch comes back as one candidate with exactly its pixels; the clear-cut is left out
    as too large, the felling in a Chinese-fir plot is not searched, and nothing else appears."""
    from geo_township.sample import planted_truth

    truth = planted_truth()["rasters"]
    grid = truth["grids"]["ndvi"]
    township = load_township(sample_dir)
    result = find_candidates(township, "ndvi_2022", "ndvi_2023")

    def cells(patch):
        r, c = np.array(patch["cells"]).T
        x0, y1, res = grid["x0"], grid["y1"], grid["res"]
        return shapely.union_all(shapely.box(x0 + c * res, y1 - (r + 1) * res, x0 + (c + 1) * res, y1 - r * res))

    polys = result.features["candidates"].to_crs(grid["epsg"])
    assert len(polys) == len(truth["ndvi_loss_patches"])
    for patch in truth["ndvi_loss_patches"]:
        footprint = cells(patch)
        hit = polys[polys.intersects(footprint.buffer(-1))]
        assert len(hit) == 1, patch["plot_id"]
        assert hit["plot_id"].iloc[0] == patch["plot_id"]
        assert hit["loss_pixels"].iloc[0] == patch["pixels"]
        # the planted cells, clipped to the plot where a cell reaches past its edge
        assert shapely.difference(hit.geometry.iloc[0], footprint).area < 1e-3
        assert hit.geometry.iloc[0].area > 0.9 * footprint.area
    assert polys.to_crs(township.working_crs).buffer(-0.01).within(pine_union(township)).all()
    excluded = result.features["excluded"].to_crs(grid["epsg"])
    clear = excluded[excluded.intersects(cells(truth["ndvi_clearcut"]).buffer(-1))]
    assert list(clear["reason"]) == ["too large"]
    assert not polys.intersects(cells(truth["ndvi_loss_not_pine"])).any()
