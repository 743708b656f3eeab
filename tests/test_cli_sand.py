"""`geo-township sand` through Click: exit codes, formats, languages, the GeoPackage, bad input."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyogrio
import pytest
from _rivers_township import X0, Y0, make_township
from openpyxl import load_workbook

from geo_township.cli import COMMANDS, main


def run(runner, *args):
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def town(tmp_path):
    return make_township(tmp_path / "t")


def test_registered():
    assert "sand" in COMMANDS and main.get_command(None, "sand") is not None


def test_errors_exit_1_and_are_listed(runner, town):
    result = run(runner, "sand", "--township", town)
    assert result.exit_code == 1
    for text in ("active_in_no_mining", "active_in_reserved", "closed_without_date", "restored_before_closed",
                 "manufactured-sand plant", "Year closed", "Closures per village and year"):
        assert text in result.stdout, text


def test_a_clean_township_exits_0(runner, town):
    rows = [{"编号": "A", "类型": "机制砂厂", "状态": "关停", "关停日期": "2022-03-01", "东坐标": X0 + 500,
             "北坐标": Y0 + 500},
            {"编号": "B", "类型": "河道采砂", "状态": "许可", "关停日期": None, "东坐标": X0 + 2450, "北坐标": Y0}]
    pd.DataFrame(rows).to_csv(town / "sand.csv", index=False, encoding="utf-8-sig")
    result = run(runner, "sand", "--township", town)
    assert result.exit_code == 0, result.stdout + result.stderr


def test_csv_and_json(runner, town):
    result = run(runner, "sand", "--township", town, "--format", "csv")
    table = pd.read_csv(io.StringIO(result.stdout.lstrip("\ufeff")))
    assert list(table.columns) == ["kind", "sites_licensed", "sites_illegal", "sites_closed", "sites_restored", "sites"]
    assert table.set_index("kind").loc["Total", "sites"] == 7
    doc = json.loads(run(runner, "sand", "--township", town, "--format", "json").stdout)
    first = doc["tables"]["sites"][0]
    assert first["site_id"] == "S1" and first["in_zone_of"] == "R1" and first["sand_zone"] == "reserved zone"
    assert doc["provenance"]["analysis"] == "sand"


def test_chinese_workbook(runner, town, tmp_path):
    out = tmp_path / "采砂.xlsx"
    result = run(runner, "sand", "--township", town, "--lang", "zh", "-o", out)
    assert result.exit_code == 1  # the errors are still reported
    book = load_workbook(out)
    header = [c.value for c in book["汇总"][1]]
    assert header == ["类型", "已许可", "非法", "已关停", "已复绿", "采砂点数"]
    kinds = [r[0].value for r in book["汇总"].iter_rows(min_row=2)]
    assert kinds == ["河道采砂", "机制砂厂", "合计"]
    assert "问题清单" in book.sheetnames
    messages = " ".join(str(c.value) for row in book["问题清单"].iter_rows() for c in row)
    assert "复绿日期2021-01-01早于关停日期2021-06-01，请更正其一" in messages  # S6, in Chinese
    assert "已许可采砂点位于禁采区Z1" in messages


def test_gpkg_layers(runner, town, tmp_path):
    out = tmp_path / "sand.gpkg"
    run(runner, "sand", "--township", town, "--gpkg", out, "--format", "json")
    assert [n for n, _ in pyogrio.list_layers(out)] == ["sites", "sand_zones", "site_findings"]
    sites = pyogrio.read_dataframe(out, layer="sites")
    assert len(sites) == 7 and sites.crs.to_epsg() == 4548
    # the same sets for a phone: a KML folder each, read back by GDAL as layers with their fields
    kml = tmp_path / "sand.kml"
    result = run(runner, "sand", "--township", town, "--save", kml, "--format", "json")
    assert result.exit_code in (0, 1), result.stderr  # 1: the sample's sites have findings
    assert [n for n, _ in pyogrio.list_layers(kml)] == ["sites", "sand_zones", "site_findings"]
    back = pyogrio.read_dataframe(kml, layer="sites")
    assert len(back) == 7 and sorted(back["site_id"]) == sorted(sites["site_id"])
    same = sites.set_index("site_id").loc[back["site_id"]].geometry.reset_index(drop=True)
    assert back.to_crs(4548).geometry.distance(same).max() < 0.01  # the same places


def test_no_sand_sites_layer(runner, tiny_township):
    result = run(runner, "sand", "--township", tiny_township)
    assert result.exit_code == 2
    assert "no sand_sites layer" in result.stderr


def test_unknown_status_word_names_the_row(runner, town):
    text = (town / "sand.csv").read_text(encoding="utf-8-sig").replace("非法", "半停产")
    (town / "sand.csv").write_text(text, encoding="utf-8-sig")
    result = run(runner, "sand", "--township", town, "--format", "json")
    assert result.exit_code == 1, result.stderr  # a finding, not a stop
    named = [f for f in json.loads(result.stdout)["tables"]["findings"] if f["check"] == "site_status_not_understood"]
    assert [f["feature"] for f in named] == ["S1"] and "'半停产'" in named[0]["message"]
