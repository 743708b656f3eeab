"""`geo-township audit` through Click: exit codes, the GeoPackage of findings, XLSX sheets,
CSV/JSON, options and bad input."""

from __future__ import annotations

import csv
import io
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


def test_csv_to_stdout_is_the_findings_with_parcel_ids(runner, faulty):
    result = runner.invoke(main, ["audit", "--township", str(faulty), "--format", "csv", "--no-gpkg"])
    assert result.exit_code == 1
    assert result.stdout.startswith("\ufeff")  # Excel reads the BOM as UTF-8
    rows = list(csv.DictReader(io.StringIO(result.stdout.lstrip("\ufeff"))))
    assert list(rows[0]) == ["parcel_id", "severity", "check", "message"]
    by_parcel = {r["parcel_id"]: r for r in rows}
    assert set(by_parcel) == {"H", "A / B", "F", "C / D"}
    assert "overlap by 7.50 mu" in by_parcel["A / B"]["message"] and by_parcel["A / B"]["severity"] == "error"
    assert "declared 15.90 mu but the drawn parcel measures 15.00 mu" in by_parcel["H"]["message"]
    assert "3.75 mu (25.0%)" in by_parcel["F"]["message"]  # 25 m × 100 m over the boundary
    assert by_parcel["C / D"]["severity"] == "info"


def test_zh_csv_has_chinese_headings_and_words(runner, faulty):
    result = runner.invoke(main, ["audit", "--township", str(faulty), "--format", "csv", "--lang", "zh",
                                  "--no-gpkg"])
    assert result.exit_code == 1
    lines = result.stdout.lstrip("\ufeff").splitlines()
    assert lines[0] == "地块编号,级别,检查项,说明"
    assert any(line.startswith("A / B,错误,重复流转(地块重叠),A 与 B 重叠 7.50 亩") for line in lines)


def test_csv_file_is_the_findings_and_each_table_lies_next_to_it(runner, faulty, tmp_path):
    out = tmp_path / "audit.csv"
    result = runner.invoke(main, ["audit", "--township", str(faulty), "-o", str(out)])
    assert result.exit_code == 1, result.stderr
    names = sorted(p.name for p in tmp_path.glob("audit*.csv"))
    assert names == ["audit.area_mismatch.csv", "audit.by_land_type.csv", "audit.by_start_year.csv",
                     "audit.by_use.csv", "audit.by_village.csv", "audit.csv", "audit.outside_village.csv",
                     "audit.overlap.csv", "audit.renewal.csv", "audit.summary.csv"]
    assert "CSV: " in result.stderr and "audit.by_village.csv" in result.stderr
    findings = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert {r["parcel_id"] for r in findings} == {"H", "A / B", "F", "C / D"}
    by_village = {r["village"]: r for r in csv.DictReader(io.StringIO(
        (tmp_path / "audit.by_village.csv").read_text(encoding="utf-8-sig")))}
    assert by_village["甲村"]["parcels"] == "6"  # every parcel is recorded under 甲村
    assert float(by_village["Total"]["declared_mu"]) == pytest.approx(5 * 15.0 + 15.9)
    overlap = list(csv.DictReader(io.StringIO((tmp_path / "audit.overlap.csv").read_text(encoding="utf-8-sig"))))
    assert (overlap[0]["parcel_a"], overlap[0]["parcel_b"]) == ("A", "B")


def test_tolerance_rule_option(runner, faulty):
    # H: declared 15.9 for 15 drawn (+0.9 mu, +6 %)
    args = ["audit", "--township", str(faulty), "--tolerance-mu", "1", "--format", "json", "--no-gpkg"]
    any_ = json.loads(runner.invoke(main, args).stdout)["tables"]
    both = json.loads(runner.invoke(main, [*args, "--tolerance-rule", "both"]).stdout)["tables"]
    assert [r["parcel_id"] for r in any_["area_mismatch"]] == ["H"]
    assert "area_mismatch" not in both
    assert runner.invoke(main, [*args, "--tolerance-rule", "all"]).exit_code == 2


def test_a_gpkg_in_a_missing_folder_names_the_gpkg_option(runner, faulty, tmp_path):
    result = runner.invoke(main, ["audit", "--township", str(faulty), "--gpkg", str(tmp_path / "no" / "x.gpkg")])
    assert result.exit_code == 2
    assert "--gpkg" in result.stderr and "-o path" not in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreadable_date_is_a_finding_not_a_stop(runner, tmp_path):
    folder = tmp_path / "town"
    folder.mkdir()
    write_township(folder, [{"id": "A", "geometry": sq(100, 100, 100), "start": "2020-13-01"},
                            {"id": "B", "geometry": sq(400, 100, 100), "start": "not a date"},
                            {"id": "C", "geometry": sq(700, 100, 100)}])
    result = runner.invoke(main, ["audit", "--township", str(folder), "--format", "json", "--no-gpkg"])
    assert result.exit_code == 1, result.stderr  # an error finding, not bad input
    tables = json.loads(result.stdout)["tables"]
    assert [(r["parcel_id"], r["value"]) for r in tables["bad_date"]] == [("A", "2020-13-01"), ("B", "not a date")]
    assert tables["by_village"][-1]["parcels"] == 3
    # other commands still refuse the file, naming the values
    area = runner.invoke(main, ["area", "land_transfers", "--township", str(folder)])
    assert area.exit_code == 2 and "2020-13-01" in area.stderr


def test_duplicate_ids_are_told_apart(runner, tmp_path):
    folder = tmp_path / "town"
    folder.mkdir()
    write_township(folder, [{"id": "A", "geometry": sq(100, 100, 100), "declared": 20.0},
                            {"id": "A", "geometry": sq(400, 100, 100)}])
    result = runner.invoke(main, ["audit", "--township", str(folder), "--gpkg", str(tmp_path / "a.gpkg")])
    assert result.exit_code == 1
    assert "A (feature 1)" in result.stdout
    back = gpd.read_file(tmp_path / "a.gpkg", layer="parcels")
    assert back["checks"].tolist() == ["area_mismatch, duplicate_id", "duplicate_id"]


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
