"""Each reader on a real file of its format, and each way a file can be bad."""

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import MultiLineString, Point, box

from geo_township.errors import LayerReadError
from geo_township.io.read import detect_dbf_encoding, read_vector

PLOTS = gpd.GeoDataFrame({"小班号": ["001", "002"], "村名": ["青溪村", "石门村"], "优势树种": ["马尾松", "杉木"]},
                         geometry=[box(117.49, 30.49, 117.50, 30.50), box(117.50, 30.49, 117.51, 30.50)], crs=4490)


def test_gpkg_named_layer_and_missing_layer(tmp_path):
    path = tmp_path / "t.gpkg"
    PLOTS.to_file(path, layer="plots")
    PLOTS.to_file(path, layer="other")
    raw = read_vector(path, layer="plots")
    assert list(raw.gdf["村名"]) == ["青溪村", "石门村"]
    with pytest.raises(LayerReadError, match="2 layers") as err:
        read_vector(path)
    assert "plots" in err.value.hint and "other" in err.value.hint
    with pytest.raises(LayerReadError, match="no layer 'nope'"):
        read_vector(path, layer="nope")


def test_gbk_shapefile_without_cpg_reads_chinese(tmp_path):
    path = tmp_path / "plots.shp"
    PLOTS.to_file(path, encoding="GBK")
    (tmp_path / "plots.cpg").unlink(missing_ok=True)
    assert not (tmp_path / "plots.cpg").exists()
    # the DBF really is GBK: the raw bytes contain the GBK encoding of 青溪村
    assert "青溪村".encode("gbk") in (tmp_path / "plots.dbf").read_bytes()
    encoding, reason = detect_dbf_encoding(path)
    assert encoding in ("GBK", "GB18030"), reason
    raw = read_vector(path)
    assert list(raw.gdf["村名"]) == ["青溪村", "石门村"]
    assert "小班号" in raw.gdf.columns
    assert any("GB" in note for note in raw.notes)


def test_shapefile_with_cpg_is_respected(tmp_path):
    path = tmp_path / "plots.shp"
    PLOTS.to_file(path, encoding="UTF-8")
    assert (tmp_path / "plots.cpg").exists()
    raw = read_vector(path)
    assert list(raw.gdf["村名"]) == ["青溪村", "石门村"]
    # 优势树种 is 12 bytes in UTF-8: the 10-byte DBF limit cut it mid-character; the
    # reader keeps what decodes instead of failing
    assert "优势树" in raw.gdf.columns
    assert list(raw.gdf["优势树"]) == ["马尾松", "杉木"]


def test_gk_shapefile_without_prj_has_no_crs(tmp_path):
    path = tmp_path / "gk.shp"
    PLOTS.to_crs(4527).to_file(path, encoding="UTF-8")
    (tmp_path / "gk.prj").unlink()
    raw = read_vector(path)
    assert raw.gdf.crs is None
    assert raw.gdf.total_bounds[0] > 39_000_000


def test_shapefile_missing_dbf(tmp_path):
    path = tmp_path / "p.shp"
    PLOTS.to_file(path)
    (tmp_path / "p.dbf").unlink()
    with pytest.raises(LayerReadError, match=r"\.dbf file is missing"):
        read_vector(path)


def test_geojson_and_parquet(tmp_path):
    PLOTS.to_file(tmp_path / "p.geojson")
    PLOTS.to_parquet(tmp_path / "p.parquet")
    for name in ("p.geojson", "p.parquet"):
        raw = read_vector(tmp_path / name)
        assert len(raw.gdf) == 2 and raw.gdf.crs.to_epsg() in (4326, 4490)
        assert list(raw.gdf["小班号"]) == ["001", "002"]


def _kml(tmp_path: Path) -> Path:
    sites = gpd.GeoDataFrame({"Name": ["青溪河采砂点"], "编号": ["SS-01"], "状态": ["已关停"]},
                             geometry=[Point(117.5, 30.5)], crs=4326)
    path = tmp_path / "sites.kml"
    sites.to_file(path, driver="LIBKML")
    return path


def test_kml_extended_data(tmp_path):
    raw = read_vector(_kml(tmp_path))
    row = raw.gdf.iloc[0]
    assert row["编号"] == "SS-01" and row["状态"] == "已关停" and row["Name"] == "青溪河采砂点"
    assert "tessellate" not in raw.gdf.columns  # LIBKML housekeeping dropped


def test_kmz(tmp_path):
    kml = _kml(tmp_path)
    kmz = tmp_path / "sites.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.write(kml, "doc.kml")
    raw = read_vector(kmz)
    assert raw.gdf.iloc[0]["编号"] == "SS-01"


def test_gpx_tracks_and_waypoints(tmp_path):
    path = tmp_path / "t.gpx"
    gpd.GeoDataFrame({"name": ["张三巡河"]}, geometry=[MultiLineString([[(117.5, 30.5), (117.51, 30.5)]])],
                     crs=4326).to_file(path, driver="GPX", layer="tracks")
    tracks = read_vector(path, geometry="LineString")
    assert tracks.layer == "tracks" and tracks.gdf.iloc[0]["name"] == "张三巡河"


def test_real_2bulu_gpx(realdata):
    path = next((realdata / "gpx-tracks").glob("2bulu_*.gpx"))
    tracks = read_vector(path, geometry="LineString")
    assert len(tracks.gdf) == 2  # the app split the walk at a pause
    assert tracks.gdf["time"].notna().all()  # date from the first point of each track
    points = read_vector(path, geometry="Point")
    assert points.layer == "waypoints"
    assert "到达瀑布，原路返回" in set(points.gdf["name"])


def test_csv_with_chinese_headers_and_bom(tmp_path):
    path = tmp_path / "trees.csv"
    pd.DataFrame({"编号": ["T1", "T2"], "经度": [117.5, 117.51], "纬度": [30.5, 30.49], "状态": ["已伐", "疑似"]}
                 ).to_csv(path, index=False, encoding="utf-8-sig")
    raw = read_vector(path)
    assert list(raw.gdf["编号"]) == ["T1", "T2"]
    assert raw.gdf.geometry.iloc[0].x == pytest.approx(117.5)
    assert list(raw.gdf["source_row"]) == [2, 3]  # the line numbers a user sees


def test_csv_degree_minute_second(tmp_path):
    path = tmp_path / "dms.csv"
    path.write_text("编号,经度,纬度\nA,117°30'36\",30°30'00\"\n", encoding="utf-8")
    raw = read_vector(path)
    assert raw.gdf.geometry.iloc[0].x == pytest.approx(117.51)
    assert raw.gdf.geometry.iloc[0].y == pytest.approx(30.5)


def test_csv_surveyors_xy_are_swapped(tmp_path):
    # Chinese surveyors write X = northing, Y = easting.
    path = tmp_path / "xy.csv"
    path.write_text("id,X,Y\n1,3375000.5,39512345.2\n", encoding="utf-8")
    raw = read_vector(path)
    assert raw.gdf.geometry.iloc[0].x == pytest.approx(39512345.2)
    assert any("swapped" in n for n in raw.notes)


def test_csv_rows_without_coordinates_are_reported(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("编号,经度,纬度\nA,117.5,30.5\nB,,\nC,117.6,30.6\n", encoding="utf-8")
    raw = read_vector(path)
    assert list(raw.gdf["编号"]) == ["A", "C"]
    assert list(raw.dropped["row"]) == [3]
    assert any("line 3" in n for n in raw.notes)


def test_csv_bad_coordinate_names_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("编号,经度,纬度\nA,117.5,30.5\nB,东经一百一十七,30.5\n", encoding="utf-8")
    with pytest.raises(LayerReadError, match="line 3"):
        read_vector(path)


def test_csv_non_utf8_is_refused_with_a_fix(tmp_path):
    """A table neither UTF-8 nor Chinese GBK text (here Latin-1) is refused, saying how to
    name its encoding; named, it reads."""
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,lon,lat\nCafé,117.5,30.5\n".encode("latin-1"))
    with pytest.raises(LayerReadError, match="not UTF-8") as err:
        read_vector(path)
    assert "gbk" in err.value.hint.lower() and "CSV UTF-8" in err.value.hint
    raw = read_vector(path, encoding="latin-1")
    assert raw.gdf.iloc[0]["name"] == "Café"


def test_csv_saved_as_gbk_by_chinese_excel_is_read_as_gbk_with_a_note(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("编号,经度,纬度\n甲,117.5,30.5\n".encode("gbk"))
    raw = read_vector(path)
    assert raw.gdf.iloc[0]["编号"] == "甲" and raw.encoding == "gbk"
    assert any(n.startswith("text read as GBK: the file is not UTF-8") and 'encoding = "gbk"' in n
               for n in raw.notes)
    assert read_vector(path, encoding="gbk").notes == []


def test_csv_without_coordinates(tmp_path):
    path = tmp_path / "none.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(LayerReadError, match="no coordinate columns"):
        read_vector(path)


def test_xlsx_with_title_row_and_chinese_headers(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "疫木"
    ws.append(["青溪乡2022年秋季普查疫木清单"])
    ws.append(["编号", "东坐标", "北坐标", "状态"])
    ws.append(["T1", 39512345.0, 3375000.0, "已伐"])
    ws.append(["T2", 39512400.0, 3375100.0, "已清理"])
    path = tmp_path / "trees.xlsx"
    wb.save(path)
    raw = read_vector(path)
    assert list(raw.gdf["编号"]) == ["T1", "T2"]
    assert raw.gdf.geometry.iloc[1].x == pytest.approx(39512400.0)
    assert list(raw.gdf["source_row"]) == [3, 4]
    with pytest.raises(LayerReadError, match="no sheet"):
        read_vector(path, layer="nope")


def test_missing_unsupported_and_corrupt_files(tmp_path):
    with pytest.raises(LayerReadError, match="file not found"):
        read_vector(tmp_path / "nope.gpkg")
    (tmp_path / "x.docx").write_text("hello")
    with pytest.raises(LayerReadError, match="unsupported file type"):
        read_vector(tmp_path / "x.docx")
    (tmp_path / "broken.gpkg").write_bytes(b"SQLite format 3\x00" + b"\x00" * 50)
    with pytest.raises(LayerReadError, match="cannot"):
        read_vector(tmp_path / "broken.gpkg")
    (tmp_path / "broken.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(LayerReadError):
        read_vector(tmp_path / "broken.geojson")


def test_real_gbk_river_shapefile(realdata):
    path = realdata / "rivers-ngcc-4m" / "hyd1_4l.shp"
    raw = read_vector(path)
    names = set(raw.gdf["NAME"].dropna())
    assert "长江" in names and "淮河" in names
    assert raw.gdf.crs is None  # no .prj: the layer loader infers it
    assert len(raw.gdf) == pyogrio.read_info(path)["features"] == 840


def test_csv_metres_under_longitude_headings_are_swapped_like_xy(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("编号,经度,纬度\nA,3375000.5,39512345.2\n", encoding="utf-8")
    raw = read_vector(path)
    assert raw.gdf.geometry.iloc[0].x == pytest.approx(39512345.2)
    assert any("surveyors' convention" in n for n in raw.notes)


def test_a_flatgeobuf_with_a_feature_without_geometry_is_read(tmp_path):
    """GDAL's Arrow reader hands a FlatGeobuf feature without geometry over as a broken array
    (pyarrow then crashes the process): such a file is read without Arrow, in a child process
    here so that a crash fails this test alone."""
    import subprocess
    import sys

    path = tmp_path / "trees.fgb"
    gpd.GeoDataFrame({"疫木编号": ["T1", "T2", "T3"]}, geometry=[Point(117.1, 30.1), None, Point(117.2, 30.2)],
                     crs=4490).to_file(path, SPATIAL_INDEX="NO")
    code = ("from geo_township.io.read import read_vector; "
            f"raw = read_vector({str(path)!r}, geometry='Point', points_as_xy=True); "
            "print(len(raw.gdf), int(raw.gdf.geometry.isna().sum()), raw.gdf['疫木编号'].tolist())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[0] == "3 1 ['T1', 'T2', 'T3']"
