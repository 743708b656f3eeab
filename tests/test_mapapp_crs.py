"""Map-app coordinates: layers declared crs = "gcj02" or "bd09" in township.toml are
converted to CGCS2000 on load (points, lines and polygons), say so in info and provenance,
and measure as the originals; the inverse is sub-decimetre; import --from-crs; check finds
lines and polygons that fit far better with the GCJ-02 shift undone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from geo_township.checks import check_township
from geo_township.cli import main
from geo_township.config import load_config
from geo_township.crs import (
    cgcs2000_to_map_app,
    geometries_from_map_app,
    geometries_to_map_app,
    map_app_system,
    map_app_to_cgcs2000,
)
from geo_township.errors import ConfigError, UsageError
from geo_township.inventory import area_summary, describe_layers
from geo_township.layers import load_township
from geo_township.measure import length
from geo_township.shift_fit import References, gcj02_fits
from geo_township.treeimport import import_survey

GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid to 1e-11


def to_map_app(gdf: gpd.GeoDataFrame, system: str) -> gpd.GeoDataFrame:
    """A copy of ``gdf`` as a map app shows it: lon/lat shifted by the forward formulas."""
    out = gdf.to_crs(4490)
    out = out.set_geometry(gpd.GeoSeries(geometries_to_map_app(out.geometry.to_numpy(), system), crs=4490))
    return out


def declare(town: Path, kind: str, path: str, crs: str, *, layer: str | None = None) -> None:
    """Point the township's ``kind`` layer at ``path`` with ``crs`` in township.toml."""
    toml = (town / "township.toml").read_text(encoding="utf-8")
    start = toml.index(f"[layers.{kind}]")
    end = toml.find("\n[", start + 1)
    end = len(toml) if end < 0 else end
    section = f'[layers.{kind}]\npath = "{path}"\ncrs = "{crs}"\n' + (f'layer = "{layer}"\n' if layer else "")
    (town / "township.toml").write_text(toml[:start] + section + toml[end:], encoding="utf-8")


# --------------------------------------------------------------------------- the formulas


def grid(lon0: float, lon1: float, lat0: float, lat1: float, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(np.linspace(lon0, lon1, n), np.linspace(lat0, lat1, n))
    return lon.ravel(), lat.ravel()


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
@pytest.mark.parametrize("where", [(117.42, 117.58, 30.45, 30.55),   # the sample township
                                   (73.7, 134.7, 18.2, 53.4)])       # across China
def test_round_trip_is_sub_decimetre(system, where):
    lon, lat = grid(*where)
    slon, slat = cgcs2000_to_map_app(lon, lat, system)
    _, _, shift = GEOD.inv(lon, lat, slon, slat)
    assert np.median(shift) > 100  # a real shift (GCJ-02 100–700 m; BD-09 adds about 1 km)
    back_lon, back_lat = map_app_to_cgcs2000(slon, slat, system)
    _, _, err = GEOD.inv(lon, lat, back_lon, back_lat)
    assert err.max() < 0.1  # metres
    assert err.max() < 1e-3  # in fact under a millimetre


def test_geometries_are_converted_vertex_by_vertex():
    line = shapely.LineString([(117.5, 30.5), (117.51, 30.5), (117.51, 30.51)])
    poly = shapely.box(117.45, 30.46, 117.47, 30.48)
    pts = shapely.points([117.5, 117.52], [30.5, 30.49])
    geoms = np.array([line, poly, *pts], dtype=object)
    for system in ("gcj02", "bd09"):
        shifted = geometries_to_map_app(geoms, system)
        back = geometries_from_map_app(shifted, system)
        assert shapely.get_type_id(back).tolist() == shapely.get_type_id(geoms).tolist()
        assert np.abs(shapely.get_coordinates(back) - shapely.get_coordinates(geoms)).max() < 1e-9
        assert np.abs(shapely.get_coordinates(shifted) - shapely.get_coordinates(geoms)).max() > 1e-3


def test_map_app_names():
    assert [map_app_system(t) for t in ("gcj02", "GCJ-02", "gcj_02", "BD-09", "bd09", "bd09ll")] == [
        "gcj02", "gcj02", "gcj02", "bd09", "bd09", "bd09"]
    assert map_app_system("EPSG:4490") is None and map_app_system(4490) is None


# --------------------------------------------------------------------------- township.toml


def test_config_accepts_map_app_systems(tiny_township):
    toml = tiny_township / "township.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('path = "trees.csv"\n', 'path = "trees.csv"\ncrs = "GCJ-02"\n'), encoding="utf-8")
    spec = load_config(tiny_township).layers["infected_trees"]
    assert spec.map_app == "gcj02" and spec.crs.to_epsg() == 4490
    assert load_config(tiny_township).layers["villages"].map_app is None
    toml.write_text(text.replace('path = "trees.csv"\n', 'path = "trees.csv"\ncrs = "gcj03"\n'), encoding="utf-8")
    with pytest.raises(ConfigError, match="gcj03"):
        load_config(tiny_township)


# --------------------------------------------------------------------------- the done-when test


@pytest.fixture(scope="module")
def amap_town(sample_dir, tmp_path_factory) -> Path:
    """A copy of the sample whose villages are a GCJ-02 copy (made here with the forward
    transform), declared crs = "gcj02"."""
    town = tmp_path_factory.mktemp("amap") / "sample"
    shutil.copytree(sample_dir, town)
    villages = gpd.read_file(town / "township.gpkg", layer="villages")
    to_map_app(villages, "gcj02").to_file(town / "villages_amap.geojson")
    declare(town, "villages", "villages_amap.geojson", "gcj02")
    return town


def test_gcj02_villages_give_the_same_areas(amap_town, sample_dir):
    got = area_summary(load_township(amap_town), "villages", by="village").table.set_index("group")["area_mu"]
    want = area_summary(load_township(sample_dir), "villages", by="village").table.set_index("group")["area_mu"]
    assert list(got.index) == list(want.index)
    assert np.allclose(got, want, rtol=1e-3)  # the brief: 0.1 %
    assert np.allclose(got, want, rtol=1e-8)  # in fact to the floating point of the forward shift


def test_gcj02_villages_are_back_in_place(amap_town, sample_dir):
    got = load_township(amap_town).gdf("villages")
    want = load_township(sample_dir).gdf("villages")
    assert (got.geometry.hausdorff_distance(want.geometry, align=False) < 0.01).all()  # metres


def test_info_and_provenance_say_the_layer_was_converted(amap_town):
    town = load_township(amap_town)
    result = describe_layers(town)
    row = result.table.set_index("layer").loc["villages"]
    assert row["crs"] == "GCJ-02 → EPSG:4490 (township.toml)"
    notes = [f.message for f in result.findings if f.layer == "villages" and f.check == "crs"]
    assert notes and "GCJ-02 (AMap/Tencent) converted to CGCS2000" in notes[0]
    inputs = {i["layer"]: i for i in town.provenance()["inputs"]}
    assert "GCJ-02 (AMap/Tencent) converted to CGCS2000" in inputs["villages"]["crs_note"]
    assert inputs["villages"]["source_crs"] == "EPSG:4490"


def test_bd09_lines_and_points_are_converted(sample_dir, tmp_path):
    town = tmp_path / "sample"
    shutil.copytree(sample_dir, town)
    original = load_township(sample_dir)
    to_map_app(original.gdf("rivers"), "bd09").to_file(town / "rivers_baidu.geojson")
    to_map_app(original.layer("sand_sites").gdf, "bd09").to_file(town / "sites_baidu.gpkg")
    declare(town, "rivers", "rivers_baidu.geojson", "bd09")
    declare(town, "sand_sites", "sites_baidu.gpkg", "bd09")
    converted = load_township(town)
    assert np.allclose(length(converted.gdf("rivers").geometry), length(original.gdf("rivers").geometry), rtol=1e-6)
    moved = converted.gdf("sand_sites").geometry.distance(original.gdf("sand_sites").geometry, align=False)
    assert len(moved) == len(original.gdf("sand_sites")) and (moved < 0.01).all()
    assert "BD-09 (Baidu) converted to CGCS2000" in converted.layer("rivers").crs_note


# --------------------------------------------------------------------------- import --from-crs


def survey_csv(folder: Path, lon: float, lat: float, tree: str = "T7") -> Path:
    path = folder / "survey.csv"
    path.write_text(f"编号,状态,经度,纬度\n{tree},疑似,{lon:.10f},{lat:.10f}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_import_from_crs_puts_the_tree_in_place(tiny_township, runner, system):
    true_lon, true_lat = 117.4987, 30.4962
    slon, slat = cgcs2000_to_map_app(true_lon, true_lat, system)
    src = survey_csv(tiny_township, float(slon), float(slat))
    result = runner.invoke(main, ["import", str(src), "--from-crs", system.upper(), "--township", str(tiny_township),
                                  "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["provenance"]["from_crs"] == system
    p = load_township(tiny_township).gdf("infected_trees").set_index("tree_id").geometry.to_crs(4490).loc["T7"]
    assert p.x == pytest.approx(true_lon, abs=6e-7) and p.y == pytest.approx(true_lat, abs=6e-7)  # 6 decimals


def test_from_gcj02_is_from_crs_gcj02(tiny_township):
    slon, slat = cgcs2000_to_map_app(117.4987, 30.4962, "gcj02")
    src = survey_csv(tiny_township, float(slon), float(slat))
    a = import_survey(load_township(tiny_township), src, from_gcj02=True, dry_run=True)
    b = import_survey(load_township(tiny_township), src, from_crs="gcj02", dry_run=True)
    assert a.notes[0] == b.notes[0] and "shifted back from GCJ-02" in a.notes[0]
    with pytest.raises(UsageError, match="contradict"):
        import_survey(load_township(tiny_township), src, from_gcj02=True, from_crs="bd09", dry_run=True)
    with pytest.raises(UsageError, match="not a map app"):
        import_survey(load_township(tiny_township), src, from_crs="EPSG:4490", dry_run=True)


def test_from_crs_refuses_projected_surveys(tiny_township):
    src = tiny_township / "survey.csv"
    src.write_text("编号,状态,东坐标,北坐标\nT7,疑似,39549000.0,3374700.0\n", encoding="utf-8")
    with pytest.raises(UsageError, match="--from-crs bd09 applies to longitude/latitude"):
        import_survey(load_township(tiny_township), src, from_crs="bd09", dry_run=True)


# --------------------------------------------------------------------------- check


def shift_findings(result, layer: str) -> list:
    return [f for f in result.findings if f.layer == layer and f.check == "gcj02_shift"]


def test_check_flags_gcj02_polygons_and_lines(sample_dir, tmp_path):
    town = tmp_path / "sample"
    shutil.copytree(sample_dir, town)
    original = load_township(sample_dir)
    to_map_app(gpd.read_file(town / "township.gpkg", layer="villages"), "gcj02").to_file(town / "v_amap.geojson")
    to_map_app(original.gdf("rivers"), "gcj02").to_file(town / "r_amap.geojson")
    toml = (town / "township.toml").read_text(encoding="utf-8")
    toml = toml.replace('path = "township.gpkg"\nlayer = "villages"', 'path = "v_amap.geojson"', 1)
    toml = toml.replace('path = "rivers.geojson"', 'path = "r_amap.geojson"', 1)
    (town / "township.toml").write_text(toml, encoding="utf-8")
    result = check_township(load_township(town))
    villages = shift_findings(result, "villages")
    assert len(villages) == 1 and villages[0].severity == "warning"
    assert "forest_plots layer" in villages[0].message and 'crs = "gcj02"' in villages[0].message
    assert "高德" in villages[0].message_zh
    assert len(shift_findings(result, "rivers")) == 1
    for other in ("forest_plots", "land_transfers", "basic_farmland", "patrols", "sand_zones"):
        assert shift_findings(result, other) == [], other


def test_check_is_quiet_on_the_sample_and_on_declared_layers(sample_dir, amap_town):
    for town in (sample_dir, amap_town):
        result = check_township(load_township(town))
        assert [f for f in result.findings if f.check == "gcj02_shift"] == []


def test_every_gcj02_copy_of_a_sample_layer_is_found_and_random_layers_are_not(sample_dir):
    town = load_township(sample_dir)
    town.read_all()
    layers = {k: town.layer(k).gdf for k in town.kinds}
    crs = town.working_crs
    for kind, gdf in layers.items():
        if gdf.geom_type.str.contains("Point").all():
            continue
        moved = to_map_app(gdf, "gcj02").to_crs(crs)
        refs = References({k: (moved if k == kind else g).geometry.to_numpy() for k, g in layers.items()})
        fits, shift_m = gcj02_fits(moved.geometry.to_numpy(), crs, refs, own=kind)
        assert fits, kind
        assert 100 < shift_m < 700
    refs = References({k: g.geometry.to_numpy() for k, g in layers.items()})
    x0, y0, x1, y1 = layers["villages"].total_bounds
    rng = np.random.default_rng(7)
    for _ in range(60):
        n = int(rng.integers(5, 30))
        cx, cy, size = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n), rng.uniform(20, 200, n)
        boxes = shapely.box(cx, cy, cx + size, cy + size)
        assert gcj02_fits(boxes, crs, refs, own="random")[0] == []


def test_small_layers_are_not_judged(sample_dir):
    town = load_township(sample_dir)
    villages = town.gdf("villages")
    refs = References({"villages": villages.geometry.to_numpy()})
    one = to_map_app(villages.head(1), "gcj02").to_crs(town.working_crs).envelope  # a box: 5 vertices
    assert gcj02_fits(one.to_numpy(), town.working_crs, refs)[0] == []


@pytest.mark.parametrize("fmt", ["csv", "gpkg"])
def test_new_trees_go_into_a_map_app_layer_in_its_own_system(tmp_path, fmt):
    """A trees layer declared crs = "gcj02" keeps GCJ-02 coordinates: an import writes new
    trees shifted like the others, and they read back where the survey put them."""
    true = {"A1": (117.4987, 30.4962), "A2": (117.5012, 30.4951)}
    glon, glat = cgcs2000_to_map_app([true["A1"][0]], [true["A1"][1]], "gcj02")
    rows = pd.DataFrame({"编号": ["A1"], "经度": glon, "纬度": glat, "状态": ["疑似"]})
    if fmt == "csv":
        rows.to_csv(tmp_path / "trees.csv", index=False, encoding="utf-8-sig")
    else:
        gpd.GeoDataFrame(rows.drop(columns=["经度", "纬度"]), geometry=gpd.points_from_xy(glon, glat),
                         crs=4490).to_file(tmp_path / "trees.gpkg")
    (tmp_path / "township.toml").write_text(
        f'[township]\nname = "x"\n[layers.infected_trees]\npath = "trees.{fmt}"\ncrs = "gcj02"\n'
        + ('layer = "trees"\n' if fmt == "gpkg" else ""), encoding="utf-8")
    src = tmp_path / "survey.csv"
    src.write_text(f"编号,状态,经度,纬度\nA2,疑似,{true['A2'][0]},{true['A2'][1]}\n", encoding="utf-8")
    import_survey(load_township(tmp_path), src)
    trees = load_township(tmp_path).gdf("infected_trees").to_crs(4490).set_index("tree_id")
    for tree, (lon, lat) in true.items():
        p = trees.geometry.loc[tree]
        assert p.x == pytest.approx(lon, abs=1e-6) and p.y == pytest.approx(lat, abs=1e-6), tree
    stored = (pd.read_csv(tmp_path / "trees.csv") if fmt == "csv"
              else gpd.read_file(tmp_path / "trees.gpkg").assign(经度=lambda d: d.geometry.x))
    assert stored["经度"].iloc[-1] == pytest.approx(float(cgcs2000_to_map_app(*true["A2"], "gcj02")[0]), abs=1e-6)
