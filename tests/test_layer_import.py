"""import --layer KIND: hand-built field files in the formats crews bring (奥维/两步路 KML and
KMZ, a GBK shapefile, GPX tracks, XLSX with DMS, CSV with zone-prefixed Gauss–Krüger
x/y) merged into a copy of the sample; outcomes worked out by hand."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from messy import copy_sample, kill_when_writing
from pyproj import Geod

from geo_township.cli import main
from geo_township.errors import CRSError, FieldError
from geo_township.layerimport import import_layer
from geo_township.layers import load_township
from geo_township.treeimport import read_history

# --------------------------------------------------------------------------- helpers


def run(town: Path, src: Path, layer: str, **kw) -> pd.DataFrame:
    result = import_layer(load_township(town), src, layer=layer, **kw)
    return result


def counts(result) -> dict[str, int]:
    t = result.table
    return dict(zip(t["action"], t.iloc[:, 1], strict=True))


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def town(tmp_path: Path) -> Path:
    return copy_sample(tmp_path)


def ovital_kml(placemarks: str) -> str:
    """A KML as 奥维 exports a favourites folder: Document > Folder > Folder > Placemark,
    fields in a description table."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>奥维收藏夹</name>
<Folder><name>采砂点核查</name><Folder><name>2023年5月</name>
{placemarks}
</Folder></Folder></Document></kml>"""


def ovital_point(name: str, rows: dict[str, str], lon: float, lat: float) -> str:
    table = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows.items())
    return (f"<Placemark><name>{name}</name><description><![CDATA[<table border=\"1\">{table}</table>]]>"
            f"</description><Point><coordinates>{lon},{lat},0</coordinates></Point></Placemark>")


# --------------------------------------------------------------------------- sand sites from 奥维 KML


def test_sand_sites_from_ovital_kml(town: Path, tmp_path: Path):
    src = tmp_path / "核查.kml"
    src.write_text(ovital_kml(
        ovital_point("上庄机制砂厂", {"编号": "SS-02", "状态": "已关停", "关停日期": "2023/5/3"}, 117.464015565908,
                     30.5041819788536)
        + ovital_point("新发现砂点", {"编号": "SS-20", "状态": "非法", "类型": "采砂点"}, 117.47, 30.49)
        + ovital_point("SS-01 站", {"编号": "SS-01", "状态": "已许可"}, 117.457902819039, 30.5025961000662)),
        encoding="utf-8")
    result = run(town, src, "sand_sites")
    assert counts(result) == {"added": 1, "updated": 2, "regressed": 0, "refused": 0, "unchanged": 0, "skipped": 0}
    sites = load_township(town).layer("sand_sites").gdf.set_index("site_id")
    assert sites.loc["SS-02", "status"] == "closed"
    assert sites.loc["SS-02", "closed_date"] == pd.Timestamp("2023-05-03")
    assert sites.loc["SS-20", "status"] == "illegal" and sites.loc["SS-20", "kind"] == "river_mining"
    assert sites.loc["SS-20", "name"] == "新发现砂点"
    # the folder path became a field; SS-01 changed only its name and folder
    assert sites.loc["SS-20", "folder"] == "采砂点核查/2023年5月"
    assert len(sites) == 15
    hist = read_history(town / "sand_sites.kml", id_column="site_id")
    ss01 = hist[hist["site_id"] == "SS-01"].set_index("field")
    assert ss01.loc["name", "old"] == "青溪河上庄段采砂点" and ss01.loc["name", "new"] == "SS-01 站"
    assert set(hist[hist["site_id"] == "SS-02"]["field"]) == {"status", "closed_date", "folder"}
    # the file itself names the column after the kind's id, not after trees
    stored = pd.read_csv(town / "sand_sites.kml.history.csv", encoding="utf-8-sig", dtype=str)
    assert "site_id" in stored.columns and "tree_id" not in stored.columns
    # the same file again changes nothing and writes nothing
    before = snapshot(town)
    again = run(town, src, "sand_sites")
    assert counts(again)["unchanged"] == 3 and "changes" not in again.tables
    assert snapshot(town) == before


def test_a_status_set_back_is_refused_unless_allowed(town: Path, tmp_path: Path):
    src = tmp_path / "back.kml"
    # SS-07 is restored in the sample: illegal would be a step back (closed → restored is the order)
    src.write_text(ovital_kml(ovital_point("x", {"编号": "SS-07", "状态": "非法"}, 117.46, 30.50)), encoding="utf-8")
    kml = (town / "sand_sites.kml").read_bytes()
    result = run(town, src, "sand_sites")
    assert counts(result)["refused"] == 1 and result.has_errors
    assert "restored → illegal" in result.findings[0].message
    assert (town / "sand_sites.kml").read_bytes() == kml
    allowed = run(town, src, "sand_sites", allow_regress=True)
    assert counts(allowed)["regressed"] == 1
    assert load_township(town).layer("sand_sites").gdf.set_index("site_id").loc["SS-07", "status"] == "illegal"


# --------------------------------------------------------------------------- forest plots from a GBK shapefile


def gbk_shapefile(path: Path, gdf: gpd.GeoDataFrame, *, cpg: bool) -> None:
    pyogrio.write_dataframe(gdf, path, driver="ESRI Shapefile", encoding="GBK")
    if not cpg:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    assert "杉木".encode("gbk") in path.with_suffix(".dbf").read_bytes()


@pytest.mark.parametrize("cpg", [True, False])
def test_forest_plots_from_a_gbk_shapefile(town: Path, tmp_path: Path, cpg: bool):
    # a new sub-compartment: a 200 m × 100 m rectangle in CGCS2000 GK CM 117°E (EPSG:4548)
    new = shapely.box(546000, 3376000, 546200, 3376100)
    old = load_township(town).layer("forest_plots").gdf.set_index("plot_id").loc["0101002", "geometry"]
    moved = shapely.affinity.translate(old, 5, 0)  # the crew redrew 0101002 five metres east
    src = tmp_path / "survey" / "xb.shp"
    src.parent.mkdir()
    gbk_shapefile(src, gpd.GeoDataFrame({"小班编码": ["0101002", "0199001"], "优势树种": ["杉木", "油茶"],
                                         "造林年度": [1983, 2023], "村名": [None, "青溪村"]},
                                        geometry=[moved, new], crs="EPSG:4548"), cpg=cpg)
    result = run(town, src, "forest_plots")
    assert counts(result)["added"] == 1 and counts(result)["updated"] == 1
    plots = load_township(town).layer("forest_plots").gdf.set_index("plot_id")
    assert len(plots) == 2055
    assert plots.loc["0101002", "species"] == "chinese_fir"
    assert plots.loc["0101002", "planted_year"] == 1983 and plots.loc["0101002", "chief"] == "汪德明"
    assert plots.loc["0199001", "species"] == "oil_tea" and plots.loc["0199001", "village"] == "青溪村"
    assert shapely.equals_exact(plots.loc["0101002", "geometry"], moved, tolerance=0.01)
    # the new plot's area: 20,000 m² in the GK plane is 30 mu (planar; the layer keeps the plane)
    assert plots.loc["0199001", "geometry"].area == pytest.approx(20000, abs=0.1)
    changed = set(result.tables["changes"].query("feature == '0101002'")["field"])
    assert changed == {"species", "geometry"}  # 1983 and the empty village are no news
    before = snapshot(town)
    assert "changes" not in run(town, src, "forest_plots").tables
    assert snapshot(town) == before


# --------------------------------------------------------------------------- land transfers from a 两步路 KMZ


def two_step_kmz(path: Path, placemarks: list[tuple[str, str, dict[str, str], str]]) -> None:
    """A KMZ as 两步路 exports it: doc.kml, one Folder per village, ExtendedData Data/value."""
    body = []
    for village in dict.fromkeys(p[0] for p in placemarks):
        body.append(f"<Folder><name>{village}</name>")
        for _, name, data, coords in (p for p in placemarks if p[0] == village):
            ext = "".join(f'<Data name="{k}"><value>{v}</value></Data>' for k, v in data.items())
            body.append(f"<Placemark><name>{name}</name><ExtendedData>{ext}</ExtendedData><Polygon><outerBoundaryIs>"
                        f"<LinearRing><coordinates>{coords}</coordinates></LinearRing></outerBoundaryIs></Polygon>"
                        "</Placemark>")
        body.append("</Folder>")
    kml = ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2" '
           'xmlns:gx="http://www.google.com/kml/ext/2.2"><Document><name>两步路标注</name>'
           + "".join(body) + "</Document></kml>")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("doc.kml", kml)


def ring(lon: float, lat: float, d: float) -> str:
    pts = [(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d), (lon, lat)]
    return " ".join(f"{x},{y},0" for x, y in pts)


def test_land_transfers_from_a_two_step_kmz(town: Path, tmp_path: Path):
    src = tmp_path / "流转.kmz"
    old = load_township(town).layer("land_transfers").gdf.set_index("parcel_id").loc["TZ-QX-0001"]
    old_ll = gpd.GeoSeries([old.geometry], crs="EPSG:4548").to_crs("EPSG:4490").iloc[0]
    coords = " ".join(f"{x},{y},0" for x, y in old_ll.exterior.coords)
    two_step_kmz(src, [
        ("青溪村", "TZ-QX-0001", {"终止日期": "2045-01-31", "合同面积": "12.00"}, coords),
        ("新塘村", "TZ-QX-9001", {"流出方": "新塘村集体", "流入方": "某光伏公司", "合同面积": "30",
                                 "起始日期": "2023-06-01", "终止日期": "2043-05-31", "用途": "光伏"},
         ring(117.50, 30.49, 0.001)),
    ])
    result = run(town, src, "land_transfers")
    assert counts(result)["added"] == 1 and counts(result)["renewed"] == 1 and counts(result)["updated"] == 0
    lt = load_township(town).layer("land_transfers").gdf.set_index("parcel_id")
    assert lt.loc["TZ-QX-0001", "end_date"] == pd.Timestamp("2045-01-31")
    assert lt.loc["TZ-QX-0001", "declared_mu"] == 12.0
    assert lt.loc["TZ-QX-0001", "start_date"] == pd.Timestamp("2015-02-01")  # untouched
    assert lt.loc["TZ-QX-9001", "use"] == "photovoltaic" and lt.loc["TZ-QX-9001", "transferee"] == "某光伏公司"
    # the new parcel's area against an independent geodesic computation of the ring drawn
    lonlat = shapely.Polygon([tuple(map(float, p.split(",")[:2])) for p in ring(117.50, 30.49, 0.001).split()])
    expect = abs(Geod(ellps="GRS80").geometry_area_perimeter(lonlat)[0])
    got = abs(Geod(ellps="GRS80").geometry_area_perimeter(
        gpd.GeoSeries([lt.loc["TZ-QX-9001", "geometry"]], crs=lt.crs).to_crs("EPSG:4490").iloc[0])[0])
    assert got == pytest.approx(expect, rel=1e-6)
    # history inside the GeoPackage: the renewal's two fields with old and new values
    hist = read_history(town / "township.gpkg", "land_transfers", id_column="parcel_id")
    renewal = hist[hist["parcel_id"] == "TZ-QX-0001"].set_index("field")
    stored = pyogrio.read_dataframe(town / "township.gpkg", layer="land_transfers_history", read_geometry=False)
    assert "parcel_id" in stored.columns and "tree_id" not in stored.columns
    assert renewal.loc["end_date", "old"] == "2035-01-31" and renewal.loc["end_date", "new"] == "2045-01-31"
    assert set(renewal.index) == {"end_date", "declared_mu", "folder"}
    assert len(hist) == len(result.tables["changes"])
    before = snapshot(town)
    assert "changes" not in run(town, src, "land_transfers").tables
    assert snapshot(town) == before


# --------------------------------------------------------------------------- outfalls from CSV and XLSX


def test_outfalls_from_csv_with_zone_prefixed_gauss_kruger(town: Path, tmp_path: Path):
    src = tmp_path / "排污口.csv"
    src.write_text("排污口编号,名称,X坐标,Y坐标\nPWK-01,上庄生活污水排放口(改),,\nPWK-99,新排口,39543500.0,3375700.0\n",
                   encoding="utf-8")
    result = run(town, src, "outfalls")
    assert counts(result)["added"] == 1 and counts(result)["updated"] == 1
    of = load_township(town).layer("outfalls").gdf.set_index("outfall_id")
    # zone 39 is the zone of CM 117°E: the same easting without its prefix in EPSG:4548
    assert (of.loc["PWK-99", "geometry"].x, of.loc["PWK-99", "geometry"].y) == pytest.approx((543500, 3375700),
                                                                                             abs=0.01)
    assert of.loc["PWK-01", "name"] == "上庄生活污水排放口(改)"
    assert of.loc["PWK-01", "geometry"].x == pytest.approx(543392.606)  # no coordinates: the place stays


def test_outfalls_from_xlsx_with_dms(town: Path, tmp_path: Path):
    src = tmp_path / "排污口.xlsx"
    pd.DataFrame({"排污口编号": ["PWK-50"], "名称": ["度分秒排口"], "经度": ["117°27'11.3\""],
                  "纬度": ["30°30'02.5\""]}).to_excel(src, index=False)
    run(town, src, "outfalls")
    pt = load_township(town).layer("outfalls").gdf.set_index("outfall_id").loc["PWK-50", "geometry"]
    lon, lat = 117 + 27 / 60 + 11.3 / 3600, 30 + 30 / 60 + 2.5 / 3600
    back = gpd.GeoSeries([pt], crs="EPSG:4548").to_crs("EPSG:4490").iloc[0]
    assert (back.x, back.y) == pytest.approx((lon, lat), abs=1e-7)


def test_bad_rows_are_named_by_line_and_nothing_is_written(town: Path, tmp_path: Path):
    src = tmp_path / "bad.csv"
    src.write_text("排污口编号,名称,经度,纬度\nPWK-01,a,,\nPWK-98,b,,\n,c,117.45,30.5\nPWK-97,d,x,30.5\n",
                   encoding="utf-8")
    before = snapshot(town)
    with pytest.raises(FieldError) as err:
        run(town, src, "outfalls")
    msg = err.value.message
    assert "line 3: new outfall_id PWK-98 has no geometry" in msg
    assert "line 4: no outfall_id" in msg and "line 5" in msg and "line 2" not in msg
    assert snapshot(town) == before
    skipped = run(town, src, "outfalls", skip_bad=True)
    assert counts(skipped)["updated"] == 1 and counts(skipped)["skipped"] == 2


# --------------------------------------------------------------------------- patrols from GPX tracks


def gpx(tracks: list[tuple[str, list[tuple[float, float]], str]]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="两步路" '
           'xmlns="http://www.topografix.com/GPX/1/1">']
    for name, pts, start in tracks:
        out.append(f"<trk><name>{name}</name><trkseg>")
        for i, (lon, lat) in enumerate(pts):
            out.append(f'<trkpt lat="{lat}" lon="{lon}">' + (f"<time>{start}</time>" if i == 0 else "") + "</trkpt>")
        out.append("</trkseg></trk>")
    return "\n".join(out) + "</gpx>"


def test_patrol_tracks_are_appended_and_duplicates_skipped(town: Path, tmp_path: Path):
    tracks = pyogrio.read_dataframe(town / "patrols.gpx", layer="tracks")
    second = list(shapely.get_coordinates(tracks.geometry.iloc[1]))
    src = tmp_path / "巡河.gpx"
    src.write_text(gpx([
        ("汪志远", [(117.4401719, 30.4953488), (117.4404367, 30.4956198)], "2022-05-01T03:19:01Z"),  # same chief+start
        ("另一人", [tuple(p) for p in second], "2024-01-01T00:00:00Z"),  # same geometry as the 2nd track
        ("李四", [(117.45, 30.50), (117.451, 30.501), (117.453, 30.502)], "2023-05-02T01:00:00Z"),
    ]), encoding="utf-8")
    result = run(town, src, "patrols")
    assert counts(result)["added"] == 1 and counts(result)["unchanged"] == 2
    assert sorted(f.message.split("(")[1].split(")")[0] for f in result.findings) == [
        "same chief and start time", "same geometry"]
    layer = load_township(town).layer("patrols").gdf
    assert len(layer) == 110
    new = layer.iloc[-1]
    assert new["chief"] == "李四" and new["date"] == pd.Timestamp("2023-05-02")
    before = snapshot(town)
    assert "changes" not in run(town, src, "patrols").tables
    assert snapshot(town) == before


# --------------------------------------------------------------------------- dry run, kill, CLI in Chinese


def test_dry_run_writes_nothing(town: Path, tmp_path: Path):
    src = tmp_path / "s.csv"
    src.write_text("编号,状态,经度,纬度\nSS-02,已关停,,\nSS-30,非法,117.46,30.50\n", encoding="utf-8")
    before = snapshot(town)
    result = run(town, src, "sand_sites", dry_run=True)
    assert snapshot(town) == before
    assert counts(result)["added"] == 1 and counts(result)["updated"] == 1
    ch = result.tables["changes"]
    assert ch[(ch["feature"] == "SS-02") & (ch["field"] == "status")][["old", "new"]].values.tolist() == [
        ["illegal", "closed"]]
    assert result.notes[-1] == "dry run: nothing was written"


HOOK = """
import os, sys, time
import pyogrio
marker = os.environ["CRASH_MARKER"]
def write_then_hang(*args, _orig=pyogrio.write_dataframe, **kwargs):
    _orig(*args, **kwargs)
    open(marker, "w").close()
    time.sleep(120)
pyogrio.write_dataframe = write_then_hang
from geo_township.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("layer, file, csv", [
    ("land_transfers", "township.gpkg", "地块编号,终止日期\nTZ-QX-0001,2045-01-31\n"),
    ("forest_plots", "forest_plots.dbf", "小班编码,林长\n0101001,张三\n"),
])
def test_killed_mid_write_leaves_the_old_file(town: Path, tmp_path: Path, layer: str, file: str, csv: str):
    src = tmp_path / "u.csv"
    src.write_text(csv, encoding="utf-8")
    before = (town / file).read_bytes()
    marker = tmp_path / "writing"
    proc = subprocess.Popen([sys.executable, "-c", HOOK, "import", str(src), "--layer", layer, "--township",
                             str(town)], env={**os.environ, "CRASH_MARKER": str(marker)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    kill_when_writing(proc, marker)
    assert (town / file).read_bytes() == before
    # the next import finds the interrupted one (if it reached the history) and completes the job once
    result = run(town, src, layer)
    assert len(result.tables["changes"]) == 1


def test_cli_import_in_chinese(runner, town: Path, tmp_path: Path):
    src = tmp_path / "s.csv"
    src.write_text("编号,状态\nSS-02,已关停\n", encoding="utf-8")
    res = runner.invoke(main, ["import", str(src), "--layer", "sand_sites", "--township", str(town),
                                   "--dry-run", "--lang", "zh"])
    assert res.exit_code == 0, res.output
    assert "试运行：未写入任何文件" in res.stdout
    assert "导入 s.csv 到" in res.stdout and "sand_sites.kml（采砂点）（试运行）" in res.stdout
    assert "已更新" in res.stdout and "updated" not in res.stdout
    text_lines = [line for line in res.stdout.splitlines() if line.strip() and line.strip()[0] not in "┏┃┡│└"]
    assert text_lines and all(re.search(r"[\u4e00-\u9fff]", line) for line in text_lines), text_lines


# --------------------------------------------------------------------------- GeoPackage and File Geodatabase sources


@pytest.mark.skipif("OpenFileGDB" not in pyogrio.list_drivers(write=True), reason="GDAL cannot write FileGDB")
def test_forest_plots_from_a_file_geodatabase(town: Path, tmp_path: Path):
    src = tmp_path / "清查.gdb"
    plots = load_township(town).layer("forest_plots").gdf.set_index("plot_id")
    gdf = gpd.GeoDataFrame({"小班编码": ["0101003"], "起源": ["天然"], "林长": ["王五"]},
                           geometry=[plots.loc["0101003", "geometry"]], crs="EPSG:4548")
    gdf.to_file(src, driver="OpenFileGDB", layer="xiaoban")
    result = run(town, src, "forest_plots")
    assert counts(result)["updated"] == 1 and counts(result)["added"] == 0
    assert set(result.tables["changes"]["field"]) == {"origin", "chief"}  # same geometry: no geometry change
    after = load_township(town).layer("forest_plots").gdf.set_index("plot_id").loc["0101003"]
    assert (after["origin"], after["chief"]) == ("natural", "王五")


def test_sand_sites_from_a_geopackage_in_gauss_kruger(town: Path, tmp_path: Path):
    src = tmp_path / "sites.gpkg"
    gpd.GeoDataFrame({"编号": ["SS-04"], "状态": ["关停"], "关停日期": ["2023年6月1日"]},
                     geometry=[shapely.Point(545000, 3376000)], crs="EPSG:4548").to_file(src, layer="核查")
    run(town, src, "sand_sites")
    site = load_township(town).layer("sand_sites").gdf.set_index("site_id").loc["SS-04"]
    assert site["status"] == "closed" and site["closed_date"] == pd.Timestamp("2023-06-01")
    assert (site.geometry.x, site.geometry.y) == pytest.approx((545000, 3376000), abs=0.01)  # the site was moved


def test_cli_exits_1_when_a_row_is_refused_and_names_unknown_kinds(runner, town: Path, tmp_path: Path):
    src = tmp_path / "s.csv"
    src.write_text("编号,状态\nSS-07,非法\n", encoding="utf-8")
    res = runner.invoke(main, ["import", str(src), "--layer", "sand_sites", "--township", str(town)])
    assert res.exit_code == 1 and "restored → illegal" in res.stdout
    res = runner.invoke(main, ["import", str(src), "--layer", "rivers", "--township", str(town)])
    assert res.exit_code == 2 and "forest_plots" in res.stderr and "Traceback" not in res.output


def test_gauss_kruger_without_zone_prefix_needs_the_zone(town: Path, tmp_path: Path):
    src = tmp_path / "of.csv"
    src.write_text("排污口编号,名称,东坐标,北坐标\nPWK-60,无带号排口,543600.0,3375800.0\n", encoding="utf-8")
    before = snapshot(town)
    with pytest.raises(CRSError) as err:
        run(town, src, "outfalls")
    assert "--crs EPSG:4548" in err.value.hint
    assert snapshot(town) == before
    run(town, src, "outfalls", crs="EPSG:4548")
    pt = load_township(town).layer("outfalls").gdf.set_index("outfall_id").loc["PWK-60", "geometry"]
    assert (pt.x, pt.y) == pytest.approx((543600, 3375800), abs=0.01)


def test_sand_sites_from_gpx_waypoints(town: Path, tmp_path: Path):
    src = tmp_path / "wpt.gpx"
    src.write_text('<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="奥维互动地图" '
                   'xmlns="http://www.topografix.com/GPX/1/1">'
                   '<wpt lat="30.4950" lon="117.4700"><name>SS-40</name><desc>非法</desc></wpt>'
                   '<wpt lat="30.5025961000662" lon="117.457902819039"><name>SS-01</name></wpt></gpx>',
                   encoding="utf-8")
    # the waypoint's name is the site id; a new site needs a status: GPX has no field for it
    with pytest.raises(FieldError, match="line 1"):
        run(town, src, "sand_sites")
    result = run(town, src, "sand_sites", skip_bad=True)
    assert counts(result)["skipped"] == 1 and counts(result)["unchanged"] == 1


def test_patrol_track_from_a_two_step_kml(town: Path, tmp_path: Path):
    src = tmp_path / "轨迹.kml"
    src.write_text('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2" '
                   'xmlns:gx="http://www.google.com/kml/ext/2.2"><Document><name>两步路轨迹</name>'
                   '<Folder><name>2023-06</name><Placemark><name>章立新</name><gx:Track>'
                   '<when>2023-06-03T00:30:00Z</when><when>2023-06-03T00:40:00Z</when><when>2023-06-03T00:50:00Z</when>'
                   '<gx:coord>117.46 30.50 20</gx:coord><gx:coord>117.47 30.505 21</gx:coord>'
                   '<gx:coord>117.48 30.51 22</gx:coord></gx:Track></Placemark></Folder></Document></kml>',
                   encoding="utf-8")
    result = run(town, src, "patrols")
    assert counts(result)["added"] == 1
    assert set(result.tables["changes"]["feature"]) == {"章立新 2023-06-03 08:30"}  # China time, to the minute
    new = load_township(town).layer("patrols").gdf.iloc[-1]
    assert new["chief"] == "章立新" and new["date"] == pd.Timestamp("2023-06-03")
    assert len(shapely.get_coordinates(new.geometry)) == 3
    assert "changes" not in run(town, src, "patrols").tables


def test_coordinates_copied_from_amap_are_shifted_back(town: Path, tmp_path: Path):
    from geo_township.crs import cgcs2000_to_map_app

    true_lon, true_lat = 117.4812, 30.4975
    lon, lat = (float(v[0]) for v in cgcs2000_to_map_app([true_lon], [true_lat], "gcj02"))
    assert abs(lon - true_lon) > 0.003  # the AMap copy is hundreds of metres off
    src = tmp_path / "amap.csv"
    src.write_text(f"排污口编号,名称,经度,纬度\nPWK-70,高德排口,{lon:.7f},{lat:.7f}\n", encoding="utf-8")
    run(town, src, "outfalls", from_crs="gcj02")
    pt = load_township(town).layer("outfalls").gdf.set_index("outfall_id").loc["PWK-70", "geometry"]
    back = gpd.GeoSeries([pt], crs="EPSG:4548").to_crs("EPSG:4490").iloc[0]
    assert (back.x, back.y) == pytest.approx((true_lon, true_lat), abs=2e-6)


def test_a_csv_layer_keeps_its_encoding_separator_and_rows(town: Path, tmp_path: Path):
    layer = town / "outfalls.csv"
    layer.write_bytes("排污口编号;名称;经度;纬度\r\nPWK-01;甲排口;117.4500000;30.5000000\r\n"
                      "PWK-02;乙排口;117.4600000;30.5010000\r\n".encode("gbk"))
    toml = (town / "township.toml").read_text(encoding="utf-8")
    toml = toml.replace('path = "outfalls.xlsx"\ncrs = "EPSG:4548"', 'path = "outfalls.csv"')
    (town / "township.toml").write_text(toml, encoding="utf-8")
    src = tmp_path / "u.csv"
    src.write_text("排污口编号,名称,经度,纬度\nPWK-02,乙排口(改),,\nPWK-03,丙排口,117.47,30.502\n", encoding="utf-8")
    result = run(town, src, "outfalls")
    assert counts(result)["added"] == 1 and counts(result)["updated"] == 1
    assert layer.read_bytes().decode("gbk") == ("排污口编号;名称;经度;纬度\r\nPWK-01;甲排口;117.4500000;30.5000000\r\n"
                                                 "PWK-02;乙排口(改);117.4600000;30.5010000\r\n"
                                                 "PWK-03;丙排口;117.4700000;30.5020000\r\n")
    before = snapshot(town)
    assert "changes" not in run(town, src, "outfalls").tables
    assert snapshot(town) == before


def test_an_old_history_with_ids_under_tree_id_is_migrated(town: Path, tmp_path: Path):
    # a sidecar written by an older version: every kind's ids in a column named tree_id,
    # without the import id and fingerprints
    side = town / "sand_sites.kml.history.csv"
    side.write_text("time,user,source,tree_id,action,field,old,new\n"
                    "2023-01-05T10:00:00+08:00,clerk,old.kml,SS-03,updated,status,licensed,closed\n",
                    encoding="utf-8-sig")
    old = read_history(town / "sand_sites.kml", id_column="site_id")
    assert list(old["site_id"]) == ["SS-03"] and list(old["new"]) == ["closed"] and "tree_id" not in old.columns
    src = tmp_path / "one.kml"
    src.write_text(ovital_kml(ovital_point("SS-02", {"编号": "SS-02", "状态": "已关停", "关停日期": "2023-05-03"},
                                           117.464015565908, 30.5041819788536)), encoding="utf-8")
    run(town, src, "sand_sites")
    stored = pd.read_csv(side, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(stored.columns[:5]) == ["time", "import_id", "user", "source", "site_id"]
    assert stored["site_id"].tolist()[0] == "SS-03" and "SS-02" in stored["site_id"].tolist()
    assert stored["import_id"].iloc[0] == "" and stored["user"].iloc[0] == "clerk"  # the old row kept as it was


def test_a_source_with_several_layers_needs_source_layer(runner, town: Path, tmp_path: Path):
    src = tmp_path / "清查.gdb"
    plots = load_township(town).layer("forest_plots").gdf.set_index("plot_id")
    gpd.GeoDataFrame({"小班编码": ["0101003"], "林长": ["王五"]}, geometry=[plots.loc["0101003", "geometry"]],
                     crs="EPSG:4548").to_file(src, driver="OpenFileGDB", layer="xiaoban")
    gpd.GeoDataFrame({"小班编码": ["0101003"], "林长": ["赵六"]}, geometry=[plots.loc["0101003", "geometry"]],
                     crs="EPSG:4548").to_file(src, driver="OpenFileGDB", layer="xiaoban_2022")
    before = snapshot(town)
    r = runner.invoke(main, ["import", str(src), "--layer", "forest_plots", "--township", str(town)])
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    assert "2 layers" in r.stderr and "xiaoban, xiaoban_2022" in r.stderr and "--source-layer" in r.stderr
    r = runner.invoke(main, ["import", str(src), "--layer", "forest_plots", "--township", str(town), "--lang", "zh"])
    assert "--source-layer" in r.stderr and "xiaoban、xiaoban_2022" in r.stderr and "未指明" in r.stderr
    assert snapshot(town) == before  # nothing written
    r = runner.invoke(main, ["import", str(src), "--layer", "forest_plots", "--township", str(town),
                             "--source-layer", "nope"])
    assert r.exit_code == 2 and "no layer 'nope'" in r.stderr and "xiaoban_2022" in r.stderr
    r = runner.invoke(main, ["import", str(src), "--layer", "forest_plots", "--township", str(town),
                             "--source-layer", "xiaoban_2022"])
    assert r.exit_code == 0, r.stderr
    assert load_township(town).layer("forest_plots").gdf.set_index("plot_id").loc["0101003", "chief"] == "赵六"


def test_trees_from_one_layer_of_a_geopackage(town: Path, tmp_path: Path):
    from geo_township.treeimport import import_survey

    src = tmp_path / "巡查.gpkg"
    trees = load_township(town).layer("infected_trees").gdf
    geom = trees.geometry.iloc[0]
    for name, tid in (("round1", "NEW-1"), ("round2", "NEW-2")):
        gpd.GeoDataFrame({"编号": [tid], "状态": ["疑似"], "发现日期": ["2023-04-01"]}, geometry=[geom],
                         crs=trees.crs).to_file(src, layer=name)
    with pytest.raises(Exception, match="--source-layer"):
        import_survey(load_township(town), src, dry_run=True)
    result = import_survey(load_township(town), src, dry_run=True, source_layer="round2")
    assert set(result.tables["changes"]["tree_id"]) == {"NEW-2"}  # only the chosen layer's tree


def test_a_gpx_track_named_chief_and_date_is_taken_apart(town: Path, tmp_path: Path):
    src = tmp_path / "两步路.gpx"
    # no point carries a time: the start comes from the name, in China time
    src.write_text(gpx([("章立新 2023-05-02 09:00", [(117.45, 30.50), (117.451, 30.501)], ""),
                        ("李四 2023年6月1日", [(117.46, 30.50), (117.461, 30.501)], ""),
                        ("巡河队", [(117.47, 30.50), (117.471, 30.501)], "2023-07-01T01:00:00Z")]).replace(
        "<time></time>", ""), encoding="utf-8")
    result = run(town, src, "patrols")
    assert counts(result)["added"] == 3
    assert set(result.tables["changes"]["feature"]) == {"章立新 2023-05-02 09:00", "李四 2023-06-01 00:00",
                                                       "巡河队 2023-07-01 09:00"}
    assert any("章立新 2023-05-02 09:00" in n and "track_name" in n for n in result.notes)
    layer = load_township(town).layer("patrols").gdf.iloc[-3:]
    assert list(layer["chief"]) == ["章立新", "李四", "巡河队"]
    assert list(layer["date"]) == [pd.Timestamp("2023-05-02"), pd.Timestamp("2023-06-01"), pd.Timestamp("2023-07-01")]
    # the GPX layer keeps the whole name as the track's comment, and the start as the first point's time (UTC)
    tracks = pyogrio.read_dataframe(town / "patrols.gpx", layer="tracks").iloc[-3:]
    assert list(tracks["cmt"].fillna("")) == ["章立新 2023-05-02 09:00", "李四 2023年6月1日", ""]
    text = (town / "patrols.gpx").read_text(encoding="utf-8")
    assert "<time>2023-05-02T01:00:00Z</time>" in text
