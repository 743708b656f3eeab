"""io.kml: placemarks of KML/KMZ as 奥维 and 两步路 write them — folder paths, description
tables, ExtendedData, tracks — read by hand-built documents."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from geo_township.errors import LayerReadError
from geo_township.io.kml import read_kml

DOC = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"><Document><name>导出</name>
<Folder><name>青溪村</name>
  <Placemark><name>P1</name><description><![CDATA[<table><tr><td>状态：</td><td>已关停</td></tr>
  <tr><th>备注</th><td>&lt;b&gt;河边&lt;/b&gt;</td></tr></table>]]></description>
  <Point><coordinates>117.5,30.5,12</coordinates></Point></Placemark>
  <Folder><name>5月</name>
    <Placemark><name>巡河</name><ExtendedData><Data name="河长"><value>汪志远</value></Data></ExtendedData>
    <gx:Track><when>2023-05-02T01:00:00Z</when><when>2023-05-02T01:10:00Z</when>
      <gx:coord>117.45 30.50 0</gx:coord><gx:coord>117.46 30.51 0</gx:coord></gx:Track></Placemark>
  </Folder>
</Folder>
<Placemark><name>面</name><description>just words</description><MultiGeometry>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>0,0 1,0 1,1 0,0</coordinates></LinearRing></outerBoundaryIs>
  <innerBoundaryIs><LinearRing><coordinates>0.5,0.2 0.8,0.2 0.8,0.5 0.5,0.2</coordinates></LinearRing>
  </innerBoundaryIs></Polygon>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>2,2 3,2 3,3 2,2</coordinates></LinearRing></outerBoundaryIs>
  </Polygon></MultiGeometry></Placemark>
</Document></kml>"""


def test_folders_tables_data_and_tracks(tmp_path: Path):
    path = tmp_path / "a.kml"
    path.write_text(DOC, encoding="utf-8")
    gdf = read_kml(path)
    assert list(gdf["name"]) == ["P1", "巡河", "面"]
    assert list(gdf["folder"].fillna("")) == ["青溪村", "青溪村/5月", ""]
    assert gdf["状态"].iloc[0] == "已关停" and gdf["备注"].iloc[0] == "<b>河边</b>"
    assert gdf["河长"].iloc[1] == "汪志远" and gdf["time"].iloc[1] == "2023-05-02T01:00:00Z"
    assert gdf["description"].iloc[2] == "just words"
    assert (gdf.geometry.iloc[0].x, gdf.geometry.iloc[0].y) == (117.5, 30.5)
    assert gdf.geometry.iloc[1].geom_type == "LineString" and len(gdf.geometry.iloc[1].coords) == 2
    # the multipolygon: a triangle of area 0.5 with a hole of 0.3 × 0.3 / 2, and another of 0.5
    assert gdf.geometry.iloc[2].geom_type == "MultiPolygon"
    assert gdf.geometry.iloc[2].area == pytest.approx(0.5 - 0.045 + 0.5)
    assert gdf.crs.to_epsg() == 4326


def test_kmz_reads_doc_kml_and_refuses_a_non_zip(tmp_path: Path):
    kmz = tmp_path / "a.kmz"
    with zipfile.ZipFile(kmz, "w") as z:
        z.writestr("files/icon.png", b"\x89PNG")
        z.writestr("doc.kml", DOC)
    assert len(read_kml(kmz)) == 3
    bad = tmp_path / "b.kmz"
    bad.write_text(DOC, encoding="utf-8")
    with pytest.raises(LayerReadError, match="not a zip"):
        read_kml(bad)
