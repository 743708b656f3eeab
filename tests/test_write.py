"""Writing layers and tables: atomic, readable by QGIS and Excel."""

from xml.etree import ElementTree as ET

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box

from geo_township.errors import UsageError
from geo_township.export import export_sets
from geo_township.io.write import atomic_path, write_csv

POINTS = gpd.GeoDataFrame({"编号": ["T1", "T2"], "日期": pd.to_datetime(["2022-03-05", None])},
                          geometry=[Point(117.5, 30.5), Point(117.51, 30.5)], crs=4490)


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "table.csv"
    write_csv(pd.DataFrame({"a": [1]}), path)
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("disk full")
    assert pd.read_csv(path, encoding="utf-8-sig")["a"].tolist() == [1]
    assert not list(tmp_path.glob(".*"))


# --------------------------------------------------------------------------- export_sets

ZONES = gpd.GeoDataFrame({"zone": ["Z1"], "since": pd.to_datetime(["2021-06-01"])},
                         geometry=[box(117.5, 30.5, 117.51, 30.51)], crs=4490)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".kml", ".shp", ".csv"])
def test_every_vector_format_reads_back(tmp_path, suffix):
    path = tmp_path / f"trees{suffix}"
    export_sets({"trees": POINTS}, path)
    if suffix == ".csv":
        back = pd.read_csv(path, encoding="utf-8-sig")
        assert list(back["编号"]) == ["T1", "T2"] and back["lon"].iloc[0] == pytest.approx(117.5)
        assert back["日期"].iloc[0] == "2022-03-05"
        return
    back = gpd.read_file(path)
    if suffix == ".kml":  # GDAL reads KML's Chinese field names as '_' (its limit): read the values as text
        values = [e.text for e in ET.parse(path).iter("{http://www.opengis.net/kml/2.2}value")]
        assert values == ["T1", "2022-03-05", "T2", None] and len(back) == 2  # the missing date is empty
    else:
        assert list(back["编号"]) == ["T1", "T2"]
    assert back.to_crs(4490).geometry.iloc[0].x == pytest.approx(117.5)
    assert not list(tmp_path.glob(".*"))  # no temporary file or folder left behind


def test_a_geopackage_gets_one_layer_per_feature_set_and_skips_empty_ones(tmp_path):
    path = tmp_path / "out.gpkg"
    empty = POINTS.iloc[:0]
    written, _ = export_sets({"trees": POINTS, "none": empty, "zones": ZONES, "missing": None}, path)
    assert written == ["trees", "zones"]
    assert [name for name, _ in pyogrio.list_layers(path)] == ["trees", "zones"]
    zones = pyogrio.read_dataframe(path, layer="zones")
    assert zones["since"].iloc[0] == "2021-06-01"  # a date, not a timestamp
    assert not list(tmp_path.glob(".*"))


def test_a_kml_gets_one_folder_per_feature_set_that_gdal_reads_as_layers(tmp_path):
    path = tmp_path / "out.kml"
    export_sets({"trees": POINTS, "zones": ZONES}, path, title="two sets")
    assert [name for name, _ in pyogrio.list_layers(path)] == ["trees", "zones"]
    trees = pyogrio.read_dataframe(path, layer="trees")
    assert list(trees["Name"]) == ["1", "2"] and len(trees) == 2
    assert pyogrio.read_dataframe(path, layer="zones")["zone"].tolist() == ["Z1"]
    assert ".tmp" not in path.read_text(encoding="utf-8")


def test_keep_layers_adds_to_an_existing_geopackage(tmp_path):
    path = tmp_path / "out.gpkg"
    export_sets({"trees": POINTS}, path)
    export_sets({"zones": ZONES}, path, keep_layers=True)
    assert [name for name, _ in pyogrio.list_layers(path)] == ["trees", "zones"]
    export_sets({"zones": ZONES}, path)  # without: the file is replaced
    assert [name for name, _ in pyogrio.list_layers(path)] == ["zones"]


@pytest.mark.parametrize("suffix", [".geojson", ".shp", ".csv", ".gpx", ".parquet"])
def test_single_set_formats(tmp_path, suffix):
    path = tmp_path / f"trees{suffix}"
    assert export_sets({"trees": POINTS, "nothing": POINTS.iloc[:0]}, path)[0] == ["trees"]
    if suffix == ".csv":
        back = pd.read_csv(path, encoding="utf-8-sig")
        assert list(back.columns[:2]) == ["lon", "lat"] and list(back["编号"]) == ["T1", "T2"]
        assert back["日期"].iloc[0] == "2022-03-05"
    elif suffix == ".gpx":
        assert list(pyogrio.read_dataframe(path, layer="waypoints")["name"]) == ["1", "2"]
    elif suffix == ".parquet":
        assert list(gpd.read_parquet(path)["编号"]) == ["T1", "T2"]
    else:
        assert list(gpd.read_file(path)["编号"]) == ["T1", "T2"]
    with pytest.raises(UsageError, match="holds one set of features, and there are 2: trees, zones"):
        export_sets({"trees": POINTS, "zones": ZONES}, tmp_path / f"two{suffix}")


def test_an_xlsx_gets_one_sheet_per_set(tmp_path):
    path = tmp_path / "out.xlsx"
    export_sets({"trees": POINTS, "zones": ZONES}, path)
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["trees", "zones"]
    assert list(sheets["trees"].columns[:2]) == ["lon", "lat"] and list(sheets["trees"]["编号"]) == ["T1", "T2"]
    assert sheets["zones"]["wkt"].iloc[0].startswith("POLYGON")


@pytest.mark.parametrize("name", ["out.txt", "out"])
def test_unknown_suffixes_are_refused_with_the_ones_that_work(tmp_path, name):
    with pytest.raises(UsageError, match="cannot tell the format") as err:
        export_sets({"trees": POINTS}, tmp_path / name)
    assert ".gpkg" in err.value.hint and not (tmp_path / name).exists()


def test_nothing_to_write_is_refused(tmp_path):
    with pytest.raises(UsageError, match="no features"):
        export_sets({"trees": POINTS.iloc[:0]}, tmp_path / "x.gpkg")
