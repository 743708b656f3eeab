"""`geo-township export`: every format read back with a reader of its own (csv, openpyxl,
gpxpy, ElementTree / zipfile, pyogrio, pyarrow) and compared with the sample's source
files read directly (pandas, pyogrio), not with the tool's own loading; the --where and
--village subsets against id sets worked out from those files."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from geo_township.cli import main

KML = "{http://www.opengis.net/kml/2.2}"


@pytest.fixture(scope="module")
def raw_trees(sample_dir: Path) -> pd.DataFrame:
    """The sample's tree CSV as the file has it (CGCS2000 lon/lat)."""
    return pd.read_csv(sample_dir / "infected_trees.csv", dtype=str, encoding="utf-8-sig")


@pytest.fixture(scope="module")
def raw_villages(sample_dir: Path) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(sample_dir / "township.gpkg", layer="villages")


def run(runner, *args):
    return runner.invoke(main, [str(a) for a in args])


def ids_where(raw: pd.DataFrame, mask) -> set[str]:
    return set(raw.loc[mask, "编号"])


def in_village(raw: pd.DataFrame, villages: gpd.GeoDataFrame, name: str) -> set[str]:
    """Trees whose record names ``name``, plus the unrecorded ones inside its polygon
    (shapely's covers, worked in the sample's GK zone so that edges are straight as the tool
    draws them)."""
    to_gk = Transformer.from_crs(4490, 4548, always_xy=True)
    polygon = villages.to_crs(4548).loc[villages["村名"] == name].geometry.iloc[0]
    x, y = to_gk.transform(raw["经度"].astype(float).to_numpy(), raw["纬度"].astype(float).to_numpy())
    inside = shapely.covers(polygon, shapely.points(x, y))
    blank = raw["村名"].isna() | (raw["村名"].astype(str).str.strip() == "")
    return set(raw.loc[(raw["村名"] == name) | (blank & inside), "编号"])


def test_csv_where_status_gives_the_confirmed_trees_with_their_coordinates(runner, sample_dir, raw_trees, tmp_path):
    out = tmp_path / "confirmed.csv"
    result = run(runner, "export", "infected_trees", "--where", "status == 'confirmed'", "-o", out,
                 "--township", sample_dir)
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel shows the Chinese
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    expected = raw_trees[raw_trees["状态"] == "已确认"].set_index("编号")
    assert {r["tree_id"] for r in rows} == set(expected.index)
    assert len(rows) == len(expected) == 1524
    for r in rows:
        assert abs(float(r["lon"]) - float(expected.at[r["tree_id"], "经度"])) < 1e-7
        assert abs(float(r["lat"]) - float(expected.at[r["tree_id"], "纬度"])) < 1e-7
    assert "1524" in result.stdout


def test_where_takes_chinese_names_words_lists_and_dates(runner, sample_dir, raw_trees, tmp_path):
    out = tmp_path / "some.csv"
    expr = "状态 in ['疑似', '已伐'] and (found_date >= '2022-09-01' or 村名 == '上庄村')"
    result = run(runner, "export", "infected_trees", "--where", expr, "-o", out, "--township", sample_dir)
    assert result.exit_code == 0, result.stderr
    found = pd.to_datetime(raw_trees["发现日期"], format="mixed")
    mask = raw_trees["状态"].isin(["疑似", "已伐"]) & ((found >= "2022-09-01") | (raw_trees["村名"] == "上庄村"))
    assert set(pd.read_csv(out, dtype=str, encoding="utf-8-sig")["tree_id"]) == ids_where(raw_trees, mask)


@pytest.mark.parametrize("expr, words", [
    ("stauts == 'confirmed'", ["no field 'stauts'", "tree_id", "status"]),
    ("status === 'confirmed'", ["expected a value"]),
    ("status == 'burnt'", ["'burnt' is not a status value", "confirmed"]),
    ("__import__('os').system('touch HACKED')", ["no field '__import__'", "--where"]),
    ("found_date > 'last year'", ["is a date"]),
])
def test_a_bad_where_is_a_user_error_naming_the_problem(runner, sample_dir, tmp_path, expr, words, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(runner, "export", "infected_trees", "--where", expr, "-o", tmp_path / "x.csv",
                 "--township", sample_dir)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "HACKED").exists()


def test_gpx_of_a_village_holds_its_trees_as_waypoints(runner, sample_dir, raw_trees, raw_villages, tmp_path):
    import gpxpy

    out = tmp_path / "shimen.gpx"
    result = run(runner, "export", "infected_trees", "--village", "石门村", "-o", out, "--township", sample_dir)
    assert result.exit_code == 0, result.stderr
    gpx = gpxpy.parse(out.read_text(encoding="utf-8"))
    expected = in_village(raw_trees, raw_villages, "石门村")
    assert {w.name for w in gpx.waypoints} == expected
    assert len(gpx.waypoints) == len(expected) and not gpx.tracks
    raw = raw_trees.set_index("编号")
    for w in gpx.waypoints:
        assert abs(w.longitude - float(raw.at[w.name, "经度"])) < 1e-7
        assert abs(w.latitude - float(raw.at[w.name, "纬度"])) < 1e-7


def test_gpx_writes_lines_as_tracks_and_polygons_as_their_outlines(runner, sample_dir, tmp_path):
    import gpxpy

    out = tmp_path / "patrols.gpx"
    assert run(runner, "export", "patrols", "-o", out, "--township", sample_dir).exit_code == 0
    raw = pyogrio.read_dataframe(sample_dir / "patrols.gpx", layer="tracks")
    gpx = gpxpy.parse(out.read_text(encoding="utf-8"))
    assert len(gpx.tracks) == len(raw) and not gpx.waypoints
    first = np.array([(p.longitude, p.latitude) for s in gpx.tracks[0].segments for p in s.points])
    assert np.allclose(first, shapely.get_coordinates(raw.geometry.iloc[0]), atol=1e-7)

    out = tmp_path / "transfers.gpx"
    result = run(runner, "export", "land_transfers", "--to", "gpx", "-o", out, "--township", sample_dir)
    assert result.exit_code == 0 and "outlines" in result.stderr
    raw = pyogrio.read_dataframe(sample_dir / "township.gpkg", layer="land_transfers")
    tracks = {t.name: t for t in gpxpy.parse(out.read_text(encoding="utf-8")).tracks}
    assert set(tracks) == set(raw["地块编号"])
    ring = raw.geometry.iloc[0].geoms[0].exterior if raw.geometry.iloc[0].geom_type == "MultiPolygon" \
        else raw.geometry.iloc[0].exterior
    pts = np.array([(p.longitude, p.latitude) for p in tracks[raw["地块编号"].iloc[0]].segments[0].points])
    assert len(pts) == len(ring.coords) and np.allclose(pts, np.asarray(ring.coords), atol=1e-7)


def test_kml_has_status_folders_styles_and_named_placemarks(runner, sample_dir, raw_trees, raw_villages, tmp_path):
    out = tmp_path / "taoyuan.kml"
    result = run(runner, "export", "infected_trees", "--village", "桃源村", "--lang", "zh", "-o", out,
                 "--township", sample_dir)
    assert result.exit_code == 0, result.stderr
    doc = ET.parse(out).getroot().find(f"{KML}Document")
    styles = {s.get("id"): s for s in doc.findall(f"{KML}Style")}
    folders = {f.findtext(f"{KML}name"): f for f in doc.findall(f"{KML}Folder")}
    expected = in_village(raw_trees, raw_villages, "桃源村")
    raw = raw_trees.set_index("编号")
    names: set[str] = set()
    for folder_name, folder in folders.items():
        for mark in folder.findall(f"{KML}Placemark"):
            name = mark.findtext(f"{KML}name")
            names.add(name)
            assert raw.at[name, "状态"].endswith(folder_name)  # folder 已确认 ↔ the record's 已确认
            assert mark.findtext(f"{KML}styleUrl").lstrip("#") in styles
            lon, lat = map(float, mark.findtext(f"{KML}Point/{KML}coordinates").split(","))
            assert abs(lon - float(raw.at[name, "经度"])) < 1e-7 and abs(lat - float(raw.at[name, "纬度"])) < 1e-7
            assert "状态" in mark.findtext(f"{KML}description")
    assert names == expected
    confirmed = styles["status-confirmed"].findtext(f"{KML}IconStyle/{KML}color")
    verified = styles["status-verified"].findtext(f"{KML}IconStyle/{KML}color")
    assert confirmed != verified and len(confirmed) == 8  # aabbggrr
    layers = pyogrio.list_layers(out)[:, 0].tolist()  # GDAL reads it too: one layer per folder
    assert sorted(layers) == sorted(folders)
    assert sum(len(pyogrio.read_dataframe(out, layer=name)) for name in layers) == len(expected)


def test_kmz_is_a_zipped_kml_of_the_polygons(runner, sample_dir, tmp_path):
    out = tmp_path / "plots.kmz"
    assert run(runner, "export", "forest_plots", "--where", "species == 'masson_pine'", "-o", out,
               "--township", sample_dir).exit_code == 0
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist() == ["doc.kml"]
        root = ET.fromstring(zf.read("doc.kml"))
    marks = root.findall(f".//{KML}Placemark")
    raw = pyogrio.read_dataframe(sample_dir / "forest_plots.shp", encoding="gbk")
    pine = raw[raw["优势树种"] == "马尾松"]
    assert {m.findtext(f"{KML}name") for m in marks} == set(pine["小班编码"])
    assert all(m.find(f".//{KML}Polygon/{KML}outerBoundaryIs") is not None for m in marks)


def test_xlsx_rows_and_wkt_match_the_parcels(runner, sample_dir, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "transfers.xlsx"
    assert run(runner, "export", "land_transfers", "-o", out, "--township", sample_dir).exit_code == 0
    ws = load_workbook(out).active
    rows = list(ws.iter_rows(values_only=True))
    head = list(rows[0])
    raw = pyogrio.read_dataframe(sample_dir / "township.gpkg", layer="land_transfers").set_index("地块编号")
    got = {r[head.index("parcel_id")]: shapely.from_wkt(r[head.index("wkt")]) for r in rows[1:]}
    assert set(got) == set(raw.index) and len(rows) - 1 == len(raw)
    for pid, geom in got.items():
        source = raw.at[pid, "geometry"]
        if source.is_valid:  # an invalid parcel is exported as the tool repairs it
            assert shapely.hausdorff_distance(geom, source) < 1e-7, pid


def test_gpkg_and_parquet_hold_the_layer(runner, sample_dir, tmp_path):
    import pyarrow.parquet as pq

    raw = pyogrio.read_dataframe(sample_dir / "township.gpkg", layer="villages").to_crs(4548).set_index("村名")
    for suffix in (".gpkg", ".parquet"):
        out = tmp_path / f"villages{suffix}"
        assert run(runner, "export", "villages", "-o", out, "--township", sample_dir).exit_code == 0
        if suffix == ".gpkg":
            assert pyogrio.list_layers(out)[:, 0].tolist() == ["villages"]
            got = pyogrio.read_dataframe(out)
            geoms = got.geometry.to_numpy()
        else:
            table = pq.read_table(out)
            assert b"geo" in table.schema.metadata
            got = table.to_pandas()
            geoms = shapely.from_wkb(got["geometry"].to_numpy())
        assert set(got["village"]) == set(raw.index)
        for name, geom in zip(got["village"], geoms, strict=True):
            assert abs(geom.area - raw.at[name, "geometry"].area) < 1e-6 * geom.area


def test_gbk_shapefile_has_a_cpg_and_reads_back_in_chinese(runner, sample_dir, tmp_path):
    out = tmp_path / "plots_gbk.shp"
    result = run(runner, "export", "forest_plots", "--village", "石门村", "--encoding", "gbk", "-o", out,
                 "--township", sample_dir)
    assert result.exit_code == 0, result.stderr
    assert out.with_suffix(".cpg").read_text().strip() == "936"
    assert "planted_year → planted_ye" in result.stderr  # the shortened names are listed
    dbf = out.with_suffix(".dbf").read_bytes()
    assert "石门村".encode("gbk") in dbf and "石门村".encode() not in dbf
    got = pyogrio.read_dataframe(out)  # the .cpg tells GDAL the encoding
    assert set(got["village"]) == {"石门村"}
    raw = pyogrio.read_dataframe(sample_dir / "forest_plots.shp", encoding="gbk")
    assert set(got["plot_id"]) == set(raw.loc[raw["村名"] == "石门村", "小班编码"])


def test_failed_export_leaves_the_old_file(runner, sample_dir, tmp_path):
    from geo_township.export import export_features

    out = tmp_path / "keep.shp"
    assert run(runner, "export", "villages", "-o", out, "--township", sample_dir).exit_code == 0
    before = {p.suffix: p.read_bytes() for p in tmp_path.iterdir()}
    bad = gpd.GeoDataFrame({"name": ["🌲 forest"]}, geometry=[shapely.Point(117.5, 30.5)], crs=4490)
    with pytest.raises(Exception, match="cannot be written in gbk"):
        export_features(bad, out, name="x", encoding="gbk")
    assert {p.suffix: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_csv_defuses_formulas(tmp_path):
    from geo_township.export import export_features

    gdf = gpd.GeoDataFrame({"name": ["=HYPERLINK(\"http://x\")", "-5"]},
                           geometry=[shapely.Point(117.5, 30.5), shapely.Point(117.6, 30.6)], crs=4490)
    export_features(gdf, tmp_path / "x.csv", name="x")
    with open(tmp_path / "x.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["name"].startswith("'=") and rows[1]["name"] == "-5"
    assert float(rows[1]["lon"]) == 117.6


def test_format_from_suffix_and_unknown_suffix(runner, sample_dir, tmp_path):
    result = run(runner, "export", "rivers", "-o", tmp_path / "rivers.dwg", "--township", sample_dir)
    assert result.exit_code == 2 and "--to" in result.stderr
    result = run(runner, "export", "rivers", "--village", "无此村", "-o", tmp_path / "r.csv", "--township", sample_dir)
    assert result.exit_code == 2 and "石门村" in result.stderr


def test_chinese_headings_words_and_errors(runner, sample_dir, raw_trees, tmp_path):
    out = tmp_path / "zh.csv"
    result = run(runner, "export", "infected_trees", "--where", "状态 == '已确认'", "--lang", "zh", "-o", out,
                 "--township", sample_dir)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("已导出 1524 个要素")
    table = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    assert {"疫木编号", "状态", "村", "小班"} <= set(table.columns)
    assert set(table["状态"]) == {"已确认"}  # the word for the code, as the survey file writes it
    assert set(table["疫木编号"]) == ids_where(raw_trees, raw_trees["状态"] == "已确认")
    result = run(runner, "export", "infected_trees", "--where", "树种 == '马尾松'", "--lang", "zh", "-o", out,
                 "--township", sample_dir)
    assert result.exit_code == 2 and result.stderr.startswith("错误：") and "没有字段 '树种'" in result.stderr


def test_kml_lines_and_polygons_get_line_widths_and_translucent_fills(runner, sample_dir, tmp_path):
    for layer, geometry in (("rivers", "LineString"), ("land_transfers", "Polygon")):
        out = tmp_path / f"{layer}.kml"
        assert run(runner, "export", layer, "-o", out, "--township", sample_dir).exit_code == 0
        doc = ET.parse(out).getroot().find(f"{KML}Document")
        (style,) = doc.findall(f"{KML}Style")  # no status: one style for the layer
        assert int(style.findtext(f"{KML}LineStyle/{KML}width")) >= 2
        assert style.findtext(f"{KML}PolyStyle/{KML}color")[:2] == "40"  # 25 % opaque fill
        marks = doc.findall(f".//{KML}Placemark")
        assert marks and all(m.find(f".//{KML}{geometry}") is not None for m in marks)
    raw = gpd.read_file(sample_dir / "rivers.geojson")
    assert len(ET.parse(tmp_path / "rivers.kml").getroot().findall(f".//{KML}Placemark")) == len(raw)
