"""Writing layers and tables: atomic, readable by QGIS and Excel."""

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box

from geo_township.errors import UsageError
from geo_township.io.write import atomic_path, write_csv, write_features, write_vector

POINTS = gpd.GeoDataFrame({"编号": ["T1", "T2"], "日期": pd.to_datetime(["2022-03-05", None])},
                          geometry=[Point(117.5, 30.5), Point(117.51, 30.5)], crs=4490)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".kml", ".shp", ".csv"])
def test_every_vector_format_reads_back(tmp_path, suffix):
    path = tmp_path / f"trees{suffix}"
    write_vector(POINTS, path, layer="trees")
    if suffix == ".csv":
        back = pd.read_csv(path, encoding="utf-8-sig")
        assert list(back["编号"]) == ["T1", "T2"] and back["lon"].iloc[0] == pytest.approx(117.5)
        assert back["日期"].iloc[0] == "2022-03-05"
        return
    back = gpd.read_file(path)
    assert list(back["编号"]) == ["T1", "T2"]
    assert back.geometry.iloc[0].x == pytest.approx(117.5)
    assert not list(tmp_path.glob(".*"))  # no temporary file or folder left behind


def test_kml_document_is_named_after_the_layer_not_the_temp_file(tmp_path):
    path = tmp_path / "overdue.kml"
    write_vector(POINTS, path)
    assert [name for name, _ in pyogrio.list_layers(path)] == ["overdue"]
    assert ".tmp" not in path.read_text(encoding="utf-8")


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "table.csv"
    write_csv(pd.DataFrame({"a": [1]}), path)
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("disk full")
    assert pd.read_csv(path, encoding="utf-8-sig")["a"].tolist() == [1]
    assert not list(tmp_path.glob(".*"))


# --------------------------------------------------------------------------- write_features

ZONES = gpd.GeoDataFrame({"zone": ["Z1"], "since": pd.to_datetime(["2021-06-01"])},
                         geometry=[box(117.5, 30.5, 117.51, 30.51)], crs=4490)


def test_a_geopackage_gets_one_layer_per_feature_set_and_skips_empty_ones(tmp_path):
    path = tmp_path / "out.gpkg"
    empty = POINTS.iloc[:0]
    assert write_features({"trees": POINTS, "none": empty, "zones": ZONES, "missing": None}, path) == ["trees", "zones"]
    assert [name for name, _ in pyogrio.list_layers(path)] == ["trees", "zones"]
    zones = pyogrio.read_dataframe(path, layer="zones")
    assert zones["since"].iloc[0] == "2021-06-01"  # a date, not a timestamp
    assert not list(tmp_path.glob(".*"))


def test_keep_layers_adds_to_an_existing_geopackage(tmp_path):
    path = tmp_path / "out.gpkg"
    write_features({"trees": POINTS}, path)
    write_features({"zones": ZONES}, path, keep_layers=True)
    assert [name for name, _ in pyogrio.list_layers(path)] == ["trees", "zones"]
    write_features({"zones": ZONES}, path)  # without: the file is replaced
    assert [name for name, _ in pyogrio.list_layers(path)] == ["zones"]


@pytest.mark.parametrize("suffix", [".geojson", ".kml", ".shp", ".csv", ".xlsx"])
def test_single_set_formats(tmp_path, suffix):
    path = tmp_path / f"trees{suffix}"
    assert write_features({"trees": POINTS, "nothing": POINTS.iloc[:0]}, path) == ["trees"]
    if suffix in (".csv", ".xlsx"):
        back = pd.read_csv(path, encoding="utf-8-sig") if suffix == ".csv" else pd.read_excel(path)
        assert list(back.columns[:2]) == ["lon", "lat"] and list(back["编号"]) == ["T1", "T2"]
        assert back["日期"].iloc[0] == "2022-03-05"
    else:
        assert list(gpd.read_file(path)["编号"]) == ["T1", "T2"]
    with pytest.raises(UsageError, match="holds one set of features, and there are 2: trees, zones"):
        write_features({"trees": POINTS, "zones": ZONES}, tmp_path / f"two{suffix}")


@pytest.mark.parametrize("name", ["out.txt", "out", "out.gpx"])
def test_unknown_suffixes_are_refused_with_the_ones_that_work(tmp_path, name):
    with pytest.raises(UsageError, match="cannot write features") as err:
        write_features({"trees": POINTS}, tmp_path / name)
    assert ".gpkg" in str(err.value) and not (tmp_path / name).exists()


def test_nothing_to_write_is_refused(tmp_path):
    with pytest.raises(UsageError, match="no features"):
        write_features({"trees": POINTS.iloc[:0]}, tmp_path / "x.gpkg")
