"""`geo-township audit` through Click: exit codes, the GeoPackage of findings, XLSX sheets,
CSV/JSON, options and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from openpyxl import load_workbook
from shapely.geometry import box

from geo_township.cli import COMMANDS, main

CRS = "EPSG:4548"
X0, Y0 = 548_000.0, 3_375_000.0
MU = 10000.0 / 15.0


def sq(x: float, y: float, w: float) -> box:
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + w)


def write_township(folder: Path, rows: list[dict]) -> Path:
    """Two villages (甲村 | 乙村 at x = 1000 m) and the transfers, as officers' files:
    Chinese field names, lon/lat (EPSG:4490)."""
    gpd.GeoDataFrame({"村名": ["甲村", "乙村"]}, geometry=[sq(0, 0, 1000), sq(1000, 0, 1000)], crs=CRS
                     ).to_crs(4490).to_file(folder / "villages.gpkg")
    records = [{"地块编号": r["id"], "村名": r.get("village", "甲村"), "地类": "耕地", "用途": r.get("use", "水稻"),
                "流转面积": r.get("declared", round(r["geometry"].area / MU, 2)),
                "起始日期": r.get("start", "2020-01-01"), "终止日期": r.get("end", "2029-12-31"),
                "geometry": r["geometry"]} for r in rows]
    gpd.GeoDataFrame(records, geometry="geometry", crs=CRS).to_crs(4490).to_file(folder / "transfers.gpkg")
    (folder / "township.toml").write_text(
        '[township]\nname = "测试乡"\n\n[layers.villages]\npath = "villages.gpkg"\n\n'
        '[layers.land_transfers]\npath = "transfers.gpkg"\n', encoding="utf-8")
    return folder


@pytest.fixture
def faulty(tmp_path: Path) -> Path:
    """An overlap counted twice (7.5 mu), a renewal, a parcel 25% in the next village, a declared area 6% high."""
    folder = tmp_path / "town"
    folder.mkdir()
    return write_township(folder, [
        {"id": "A", "geometry": sq(100, 100, 100)},
        {"id": "B", "geometry": sq(150, 100, 100), "start": "2021-01-01"},
        {"id": "C", "geometry": sq(100, 400, 100), "start": "2010-01-01", "end": "2019-12-31"},
        {"id": "D", "geometry": sq(100, 400, 100)},
        {"id": "F", "geometry": sq(925, 100, 100)},
        {"id": "H", "geometry": sq(500, 600, 100), "declared": 15.9},
    ])


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    folder = tmp_path / "clean"
    folder.mkdir()
    return write_township(folder, [{"id": "A", "geometry": sq(100, 100, 100)},
                                   {"id": "B", "geometry": sq(1100, 100, 100), "village": "乙村"}])


def test_audit_is_registered():
    assert COMMANDS["audit"] == "audit"


def test_errors_exit_1_and_the_geopackage_goes_to_maps(runner, faulty, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["audit", "--township", str(faulty)])
    assert result.exit_code == 1, result.stderr
    assert "Land-transfer audit of 测试乡" in result.stdout
    assert "A / B" in result.stdout and "counted twice" in result.stdout
    gpkg = tmp_path / "maps" / "audit.gpkg"
    assert f"GeoPackage: {Path('maps') / 'audit.gpkg'}" in result.stderr
    layers = [name for name, _ in pyogrio.list_layers(gpkg)]
    assert layers == ["parcels", "area_mismatch", "overlap", "renewal", "outside_village"]
    overlap = gpd.read_file(gpkg, layer="overlap")
    assert overlap[["parcel_a", "parcel_b"]].values.tolist() == [["A", "B"]]
    assert overlap["overlap_mu"].iloc[0] == pytest.approx(7.5, rel=1e-3)  # ellipsoidal, a hair under planar


def test_a_clean_township_exits_0(runner, clean, tmp_path):
    result = runner.invoke(main, ["audit", "--township", str(clean), "--gpkg", str(tmp_path / "a.gpkg")])
    assert result.exit_code == 0, result.stderr
    assert [name for name, _ in pyogrio.list_layers(tmp_path / "a.gpkg")] == ["parcels"]


def test_xlsx_has_a_sheet_per_finding_type_and_the_totals(runner, faulty, tmp_path):
    out = tmp_path / "audit.xlsx"
    result = runner.invoke(main, ["audit", "--township", str(faulty), "-o", str(out)])
    assert result.exit_code == 1, result.stderr
    sheets = load_workbook(out).sheetnames
    assert sheets == ["summary", "area_mismatch", "overlap", "renewal", "outside_village", "by_village",
                      "by_land_type", "by_use", "by_start_year", "findings", "About"]
    assert (tmp_path / "audit.gpkg").exists()  # next to -o
    ws = load_workbook(out)["outside_village"]
    header = [c.value for c in ws[1]]
    row = dict(zip(header, [c.value for c in ws[2]], strict=True))
    assert row["parcel_id"] == "F" and row["outside_pct"] == pytest.approx(25.0, abs=0.01)


def test_zh_csv_has_chinese_headings_and_words(runner, faulty):
    result = runner.invoke(main, ["audit", "--township", str(faulty), "--format", "csv", "--lang", "zh",
                                  "--no-gpkg"])
    assert result.exit_code == 1
    lines = result.stdout.lstrip("\ufeff").splitlines()
    assert lines[0] == "检查项,级别,问题数,地块数,涉及面积(亩)"
    assert lines[2].startswith("重复流转(地块重叠),错误,1,2,7.")


def test_json_and_no_gpkg(runner, faulty, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["audit", "--township", str(faulty), "--format", "json", "--no-gpkg"])
    data = json.loads(result.stdout)
    assert data["provenance"]["analysis"] == "audit"
    assert data["provenance"]["area_method"] == "ellipsoidal"
    by_village = {r["village"]: r for r in data["tables"]["by_village"]}
    assert by_village["Total"]["parcels"] == 6
    assert not (tmp_path / "maps").exists()


@pytest.mark.parametrize("value", ["10%", "10", " 10 % "])
def test_tolerance_as_percent_or_number(runner, faulty, value):
    result = runner.invoke(main, ["audit", "--township", str(faulty), "--tolerance", value, "--format", "json",
                                  "--no-gpkg"])
    tables = json.loads(result.stdout)["tables"]
    assert "area_mismatch" not in tables  # H is 6% high: within 10%
    assert tables["summary"][0]["findings"] == 0


def test_tolerance_mu_and_max_years(runner, faulty):
    result = runner.invoke(main, ["audit", "--township", str(faulty), "--tolerance", "50", "--tolerance-mu", "0.5",
                                  "--max-years", "5", "--format", "json", "--no-gpkg"])
    tables = json.loads(result.stdout)["tables"]
    assert [r["parcel_id"] for r in tables["area_mismatch"]] == ["H"]
    assert len(tables["contract_too_long"]) == 6  # every contract runs 9 or 10 years


def test_bad_tolerance_is_a_usage_error(runner, faulty):
    result = runner.invoke(main, ["audit", "--township", str(faulty), "--tolerance", "five"])
    assert result.exit_code == 2
    assert "--tolerance" in result.stderr and "5%" in result.stderr


def test_no_land_transfers_layer(runner, tiny_township):
    result = runner.invoke(main, ["audit", "--township", str(tiny_township), "--no-gpkg"])
    assert result.exit_code == 2
    assert "land_transfers" in result.stderr and "Traceback" not in result.stderr
