"""Writing layers and tables: atomic, readable by QGIS and Excel."""

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from geo_township.io.write import atomic_path, write_csv, write_vector

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
