"""Loading layers: canonical fields, coded values, dates, geometry repair, CRS, one working CRS."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from geo_township.errors import CRSError, FieldError, GeometryError, LayerReadError
from geo_township.layers import load_township
from geo_township.leftout import judge_rows


def toml(tmp_path: Path, layers: str, township: str = "") -> Path:
    (tmp_path / "township.toml").write_text(f'[township]\nname = "测试乡"\n{township}\n{layers}', encoding="utf-8")
    return tmp_path


def test_tiny_township_loads_with_canonical_fields(tiny_township):
    town = load_township(tiny_township)
    villages = town.gdf("villages")
    assert list(villages["village"]) == ["甲村", "乙村"]
    assert town.working_crs.to_epsg() == 4548  # GK zone CM 117°E from the villages' extent
    plots = town.layer("forest_plots")
    assert plots.gdf.crs.to_epsg() == 4548
    assert plots.source_crs.to_epsg() == 4527  # the fixture wrote the shapefile with that .prj (GK zone 39)
    assert list(plots.gdf["plot_id"]) == ["001", "002"]
    assert list(plots.gdf["species"]) == ["masson_pine", "chinese_fir"]  # 马尾松, 杉木 as codes
    assert plots.field_map["species"] == "优势树种"
    trees = town.gdf("infected_trees")
    assert list(trees["status"]) == ["felled", "suspected", "cleared"]
    assert list(trees["found_date"].dt.strftime("%Y-%m-%d")) == ["2021-10-03", "2022-01-05", "2021-11-01"]
    # the plot written in lon/lat degrees and re-projected lies where the village is
    assert plots.gdf.geometry.iloc[0].intersection(villages.geometry.iloc[0]).area / villages.geometry.iloc[0].area \
        == pytest.approx(1.0, abs=1e-6)


def test_explicit_mapping_wins_and_wrong_names_are_explained(tmp_path):
    gpd.GeoDataFrame({"VNAME": ["甲村"], "村名": ["错"]}, geometry=[box(117.49, 30.49, 117.5, 30.5)],
                     crs=4490).to_file(tmp_path / "v.gpkg")
    town = load_township(toml(tmp_path, '[layers.villages]\npath = "v.gpkg"\nfields = { village = "VNAME" }\n'))
    assert town.gdf("villages")["village"].tolist() == ["甲村"]
    toml(tmp_path, '[layers.villages]\npath = "v.gpkg"\nfields = { village = "VNAM" }\n')
    with pytest.raises(FieldError) as err:
        load_township(tmp_path).layer("villages")
    assert "'VNAM'" in str(err.value) and "did you mean 'VNAME'" in err.value.hint


def test_required_field_missing(tmp_path):
    pd.DataFrame({"经度": [117.5], "纬度": [30.5], "状态": ["已伐"]}).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(FieldError, match="tree_id") as err:
        load_township(toml(tmp_path, '[layers.infected_trees]\npath = "t.csv"\n')).layer("infected_trees")
    assert "fields = { tree_id" in err.value.hint


def test_unknown_status_word_is_read_as_missing_named_then_taught(tmp_path):
    pd.DataFrame({"编号": ["a", "b", "c"], "经度": [117.5] * 3, "纬度": [30.5] * 3,
                  "状态": ["已伐", "砍了", "已除治"]}).to_csv(tmp_path / "t.csv", index=False)
    layer = load_township(toml(tmp_path, '[layers.infected_trees]\npath = "t.csv"\n')).layer("infected_trees")
    assert layer.gdf["status"].tolist() == ["felled", None, "cleared"]  # one word does not stop the layer
    assert layer.unknown_words[["row", "feature", "field", "value"]].values.tolist() == [
        [1, "b (line 3)", "status", "砍了"]]
    note = next(n for n in layer.notes if "砍了" in n)
    assert "b (line 3)" in note and '[layers.infected_trees.values] status = { "砍了" = "suspected" }' in note
    town = load_township(toml(tmp_path, '[layers.infected_trees]\npath = "t.csv"\n'
                                        '[layers.infected_trees.values]\nstatus = { "砍了" = "felled" }\n'))
    assert town.gdf("infected_trees")["status"].tolist() == ["felled", "felled", "cleared"]


def test_dates_in_every_common_form(tmp_path):
    dates = ["2022-03-05", "2022/3/5", "2022.3.5", "2022年3月5日", "20220305", "44625", "", "2022-03-05 14:30:00"]
    pd.DataFrame({"编号": list("abcdefgh"), "经度": [117.5] * 8, "纬度": [30.5] * 8, "状态": ["已伐"] * 8,
                  "发现日期": dates}).to_csv(tmp_path / "t.csv", index=False)
    township = load_township(toml(tmp_path, '[layers.infected_trees]\npath = "t.csv"\n'))
    found = township.gdf("infected_trees")["found_date"]
    assert found.iloc[6] is pd.NaT or pd.isna(found.iloc[6])
    assert {d.strftime("%Y-%m-%d") for d in found.dropna()} == {"2022-03-05"}  # Excel serial 44625 = 2022-03-05


def test_bad_date_names_row_and_value(tmp_path):
    pd.DataFrame({"编号": ["a", "b"], "经度": [117.5] * 2, "纬度": [30.5] * 2, "状态": ["已伐"] * 2,
                  "发现日期": ["2022-03-05", "去年秋天"]}).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(FieldError, match=r"b \(line 3\) \('去年秋天'\)"):
        load_township(toml(tmp_path, '[layers.infected_trees]\npath = "t.csv"\n')).layer("infected_trees")


def test_invalid_polygon_is_repaired_in_memory_and_reported(tmp_path):
    bowtie = Polygon([(117.49, 30.49), (117.50, 30.50), (117.50, 30.49), (117.49, 30.50)])
    gpd.GeoDataFrame({"村名": ["甲村", "乙村"]}, geometry=[bowtie, box(117.5, 30.49, 117.51, 30.5)],
                     crs=4490).to_file(tmp_path / "v.gpkg")
    before = (tmp_path / "v.gpkg").read_bytes()
    layer = load_township(toml(tmp_path, '[layers.villages]\npath = "v.gpkg"\n')).layer("villages")
    assert layer.gdf.geometry.is_valid.all()
    assert layer.repaired == ["甲村"]
    assert "Self-intersection" in layer.invalid_reasons["甲村"]
    assert any("repaired" in n for n in layer.notes)
    assert (tmp_path / "v.gpkg").read_bytes() == before  # the file is never changed


def test_wrong_geometry_type(tmp_path):
    gpd.GeoDataFrame({"村名": ["甲村"]}, geometry=[Point(117.5, 30.5)], crs=4490).to_file(tmp_path / "v.gpkg")
    with pytest.raises(GeometryError, match="must be polygons"):
        load_township(toml(tmp_path, '[layers.villages]\npath = "v.gpkg"\n')).layer("villages")


def test_empty_layer(tmp_path):
    gpd.GeoDataFrame({"村名": []}, geometry=gpd.GeoSeries([], crs=4490)).to_file(tmp_path / "v.gpkg")
    with pytest.raises(LayerReadError, match="empty"):
        load_township(toml(tmp_path, '[layers.villages]\npath = "v.gpkg"\n')).layer("villages")


def test_gk_shapefile_without_prj_is_inferred(tmp_path):
    gpd.GeoDataFrame({"村名": ["甲村"]}, geometry=[box(117.49, 30.49, 117.5, 30.5)], crs=4490
                     ).to_crs(4527).to_file(tmp_path / "v.shp", encoding="UTF-8")
    (tmp_path / "v.prj").unlink()
    layer = load_township(toml(tmp_path, '[layers.villages]\npath = "v.shp"\n')).layer("villages")
    assert layer.source_crs.to_epsg() == 4527
    assert layer.crs_note.startswith("inferred")
    lon = layer.gdf.to_crs(4490).total_bounds[0]
    assert lon == pytest.approx(117.49, abs=1e-7)


def test_six_digit_eastings_need_gk_zone(tmp_path):
    gpd.GeoDataFrame({"村名": ["甲村"]}, geometry=[box(117.49, 30.49, 117.5, 30.5)], crs=4490
                     ).to_crs(4548).to_file(tmp_path / "v.shp", encoding="UTF-8")
    (tmp_path / "v.prj").unlink()
    with pytest.raises(CRSError) as err:
        load_township(toml(tmp_path, '[layers.villages]\npath = "v.shp"\n')).layer("villages")
    assert err.value.path.name == "v.shp" and "gk_zone" in err.value.hint
    layer = load_township(toml(tmp_path, '[layers.villages]\npath = "v.shp"\n', "gk_zone = 117")).layer("villages")
    assert layer.gdf.to_crs(4490).total_bounds[0] == pytest.approx(117.49, abs=1e-7)


def test_layer_crs_in_toml_overrides_the_file(tmp_path):
    gpd.GeoDataFrame({"村名": ["甲村"]}, geometry=[box(117.49, 30.49, 117.5, 30.5)], crs=4326
                     ).to_file(tmp_path / "v.gpkg")
    layer = load_township(toml(tmp_path, '[layers.villages]\npath = "v.gpkg"\ncrs = "EPSG:4490"\n')).layer("villages")
    assert layer.source_crs.to_epsg() == 4490 and "overrides" in layer.crs_note


def test_missing_layer_kind(tiny_township):
    with pytest.raises(LayerReadError, match="no rivers layer") as err:
        load_township(tiny_township).layer("rivers")
    assert "[layers.rivers]" in err.value.hint


def test_real_campus_trees_3d_points_and_mixed_case_words(realdata, tmp_path):
    """Real GPS tree points with Z and health words: loaded as a user would map them."""
    src = realdata / "tree-points-campus" / "campus_trees.geojson"
    (tmp_path / "township.toml").write_text(
        f'[township]\nname = "campus"\n[layers.infected_trees]\npath = "{src.as_posix()}"\n'
        'fields = { tree_id = "id", status = "note" }\n', encoding="utf-8")
    # Healthy / Sick … are not pine-wilt statuses: read as missing and named, the layer still loads
    unknown = load_township(tmp_path).layer("infected_trees").unknown_words
    assert {"Healthy", "Sick", "Dead"} <= set(unknown["value"])
    (tmp_path / "township.toml").write_text(
        f'[township]\nname = "campus"\n[layers.infected_trees]\npath = "{src.as_posix()}"\n'
        'fields = { tree_id = "id", status = "note" }\n'
        '[layers.infected_trees.values]\nstatus = { Healthy = "suspected", Sick = "confirmed", '
        'Unhealthy = "confirmed", Dying = "confirmed", Dead = "felled" }\n', encoding="utf-8")
    layer = load_township(tmp_path).layer("infected_trees")
    counts = layer.gdf["status"].value_counts(dropna=False)
    # PROVENANCE.md: Sick 32 + sick 1 + Dying 11 + Unhealthy 7 = 51 confirmed; Dead 10; 2 blank
    assert counts["confirmed"] == 51 and counts["felled"] == 10 and counts["suspected"] == 1565
    assert layer.gdf["status"].isna().sum() == 2
    assert not layer.gdf.geometry.has_z.any()  # heights dropped
    assert layer.gdf.crs.is_projected and layer.gdf.crs.to_epsg() == 32616  # UTM outside China


def test_feature_numbers_stay_those_of_the_file_when_features_are_left_out(tmp_path):
    geoms = [box(117.49 + i * 0.001, 30.49, 117.4905 + i * 0.001, 30.4905) for i in range(5)]
    geoms[3] = None  # the 4th feature has no geometry and is left out
    gpd.GeoDataFrame({"地块编号": ["A", "B", "C", "D", None]}, geometry=geoms, crs=4490).to_file(tmp_path / "t.gpkg")
    layer = load_township(toml(tmp_path, '[layers.land_transfers]\npath = "t.gpkg"\n')).layer("land_transfers")
    assert list(layer.ids()) == ["A", "B", "C", "feature 5"]  # not 'feature 4', which is D's place
    assert list(layer.dropped["feature"]) == ["D"]


def _trees(folder: Path, rows: list[tuple[str, float, float, str]]) -> None:
    pd.DataFrame({"编号": [r[0] for r in rows], "经度": [r[1] for r in rows], "纬度": [r[2] for r in rows],
                  "状态": "已伐", "发现日期": [r[3] for r in rows]}).to_csv(folder / "trees.csv", index=False)


def test_a_mistyped_row_is_left_out_named_and_never_counted(tiny_township):
    _trees(tiny_township, [("T1", 117.495, 30.495, "2021-10-03"), ("T2", 117.505, 30.495, "2022-01-05"),
                           ("T3", 117.6, 30.5, "2021-11-01"), ("T4", 17.496, 30.496, "2021-11-02")])
    town = load_township(tiny_township)
    trees = town.layer("infected_trees")
    assert trees.ids().tolist() == ["T1", "T2", "T3"]  # T3, 9.6 km out, is a tree of the township's edge
    assert trees.source_crs.to_epsg() == 4490 and "1 of 4 rows do not fit it" in trees.crs_note  # all but one
    row = trees.left_out.iloc[0]
    assert (row["feature"], row["line"], row["reason"]) == ("T4 (line 5)", 5, "crs_misfit")
    assert (row["x"], row["y"]) == (17.496, 30.496)
    assert "17.496000, 30.496000 do not fit the coordinate system of the other rows" in row["detail"]
    assert town.load_notes() == [("trees.csv: 1 row left out of every count: line 5 — coordinates that do not fit "
                                 "the coordinate system of the other rows (fix the coordinates: a digit missing or "
                                 "mistyped?)")]
    assert [f.check for f in town.load_findings()] == ["row_left_out"]


def test_rows_far_outside_the_township_are_left_out(tiny_township):
    _trees(tiny_township, [("T1", 117.495, 30.495, "2021-10-03"), ("T2", 117.505, 30.495, "2022-01-05"),
                           ("T3", 117.6, 30.5, "2021-11-01"), ("FAR", 117.5, 30.8, "2021-11-02")])
    town = load_township(tiny_township)
    trees = town.layer("infected_trees")
    assert trees.ids().tolist() == ["T1", "T2", "T3"]
    row = trees.left_out.iloc[0]
    assert (row["feature"], row["line"], row["reason"]) == ("FAR (line 5)", 5, "outside_township")
    assert row["x"] == pytest.approx(117.5) and row["y"] == pytest.approx(30.8)
    assert "lies 33.3 km outside the township (its villages; at most 20000 m allowed, max_outside_m)" in row["detail"]
    assert list(town.loaded()) == ["infected_trees"]  # the villages were read for the extent, not as an input
    assert town.provenance()["inputs"][0]["rows_left_out"] == 1


def test_left_out_rows_keep_the_positions_of_lenient_bad_cells(tiny_township):
    _trees(tiny_township, [("T1", 117.495, 30.495, "2021-10-03"), ("FAR", 117.5, 30.8, "2021-11-02"),
                           ("T3", 117.505, 30.495, "2021-13-01")])
    trees = load_township(tiny_township).layer("infected_trees", lenient=True)
    assert trees.ids().tolist() == ["T1", "T3"]
    assert trees.bad_cells[["row", "feature", "value"]].values.tolist() == [[1, "T3 (line 4)", "2021-13-01"]]


def test_coordinates_that_are_not_numbers_or_not_in_china():
    from pyproj import CRS
    from shapely.geometry import Point

    geoms = np.array([Point(117.5, 30.5)] * 8 + [Point(float("nan"), 30.5), Point(2.35, 48.85)], dtype=object)
    judged = judge_rows(geoms, CRS.from_epsg(4490), None)
    assert judged.index.tolist() == [8, 9] and judged["reason"].tolist() == ["not_numbers", "outside_china"]
    assert judged["detail"].iloc[1] == "coordinates 2.350000, 48.850000 are not in China (read in EPSG:4490)"
    abroad = np.array([Point(2.35, 48.85)] * 3, dtype=object)  # a township outside China keeps its rows
    assert judge_rows(abroad, CRS.from_epsg(4326), None).empty


def test_infinite_coordinates_are_not_numbers_and_huge_finite_ones_are():
    """Non-numbers are looked for only when the coordinates' sum is not finite: an infinity
    is found, and huge finite numbers whose sum overflows are not taken for one."""
    from pyproj import CRS
    from shapely.geometry import LineString

    geoms = np.array([LineString([(117.5, 30.5), (117.6, 30.6)])] * 8
                     + [LineString([(117.5, 30.5), (float("inf"), 30.6)]),
                        LineString([(1e308, 30.5), (1e308, 30.6)])], dtype=object)
    judged = judge_rows(geoms, CRS.from_epsg(4490), None)
    assert judged.index.tolist() == [8, 9] and judged["reason"].tolist() == ["not_numbers", "impossible"]


def test_a_missing_file_stops_only_its_layer(tiny_township):
    (tiny_township / "plots.shp").unlink()
    town = load_township(tiny_township)  # township.toml itself is fine
    assert town.gdf("infected_trees").shape[0] == 3
    with pytest.raises(LayerReadError, match="file not found") as err:
        town.layer("forest_plots")
    assert err.value.where == "[layers.forest_plots] path" and "correct the path" in err.value.hint
    assert town.try_layer("forest_plots") is None and town.try_layer("villages") is not None
    failure = town.failures()["forest_plots"]
    assert failure.file.name == "plots.shp" and "file not found" in failure.message
    assert town.load_notes() == [failure.text()] and failure.text().startswith(
        "the forest_plots layer (plots.shp) could not be read: ")
    view = town.without(["forest_plots"])
    assert view.kinds == ["villages", "infected_trees"] and not view.has("forest_plots")
    assert view.layer("villages") is town.layer("villages")  # the layers read are shared


def test_the_villages_decide_the_working_zone_whatever_layer_is_read_first(tiny_township):
    # the trees' box alone is centred at 118.65°E, in the zone of CM 120°E (EPSG:4549); the villages
    # (around 117.5°E) lie in the zone of CM 117°E (EPSG:4548), which every layer must share
    _trees(tiny_township, [("T1", 117.495, 30.495, "2021-10-03"), ("T2", 119.8, 30.5, "2022-01-05")])
    town = load_township(tiny_township)
    trees = town.layer("infected_trees")  # read before any other layer
    assert town.working_crs.to_epsg() == 4548
    assert trees.gdf.crs.to_epsg() == 4548
    assert trees.ids().tolist() == ["T1"]  # T2, 220 km east, is left out and named


def test_the_coordinates_of_points_are_read_as_those_of_any_geometry():
    """Points (most trees) are read by their x and y alone: the same coordinates, counts and
    first positions as the general reading, empty points included; a point whose coordinates
    are not numbers is still found."""
    import shapely

    from geo_township.leftout import coordinate_counts

    points = np.array([shapely.Point(1, 2), shapely.Point(), shapely.Point(3, 4), shapely.Point(np.nan, 5)],
                      dtype=object)
    coords, counts, first = coordinate_counts(points)
    assert np.array_equal(coords, shapely.get_coordinates(points, include_z=False), equal_nan=True)
    assert counts.tolist() == shapely.get_num_coordinates(points).tolist() == [1, 0, 1, 1]
    assert first.tolist() == [0, -1, 1, 2]
    mixed = np.array([shapely.Point(1, 2), shapely.LineString([(0, 0), (1, 1)])], dtype=object)
    coords, counts, first = coordinate_counts(mixed)
    assert coords.tolist() == [[1, 2], [0, 0], [1, 1]] and counts.tolist() == [1, 2] and first.tolist() == [0, 1]
