"""`geo-township rivers` through Click: formats, languages, options, bad input, and the real
national river shapefile (GBK, no .prj, LENGTH in degrees) through a township.toml."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from _rivers_township import make_township
from openpyxl import load_workbook
from pyproj import Geod

from geo_township.cli import COMMANDS, main

GEOD = Geod(ellps="GRS80")


def run(runner, *args):
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def town(tmp_path):
    return make_township(tmp_path / "t")


def test_registered():
    assert "rivers" in COMMANDS and main.get_command(None, "rivers") is not None


def test_table_on_the_terminal(runner, town):
    result = run(runner, "rivers", "--township", town)
    assert result.exit_code == 0, result.stderr
    for text in ("Rivers of 河湖测试乡", "张伟", "李娜", "乙村", "(outside)", "Patrol coverage per chief and month",
                 "Patrol coverage per reach and month", "Reaches not patrolled", "not_patrolled",
                 "lengths are ellipsoidal", "forest_plots", "F1"):
        assert text in result.stdout, text


def test_csv_is_the_chief_table_with_bom(runner, town):
    result = run(runner, "rivers", "--township", town, "--format", "csv", "--method", "planar")
    assert result.exit_code == 0
    assert result.stdout.startswith("\ufeff")
    table = pd.read_csv(io.StringIO(result.stdout.lstrip("\ufeff")))
    assert list(table.columns) == ["river_chief", "chief_level", "reaches", "length_km"]
    assert table.set_index("river_chief").loc["Total", "length_km"] == pytest.approx(6.0)


def test_json_with_a_period_and_minimum(runner, town):
    result = run(runner, "rivers", "--township", town, "--format", "json", "--from", "2022-04-01", "--to",
                 "2022/4/30", "--min-coverage", "40%", "--method", "planar")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    monthly = doc["tables"]["patrol_monthly"]
    assert {r["month"] for r in monthly} == {"2022-04"}
    lina = next(r for r in monthly if r["river_chief"] == "李娜")
    assert lina["coverage_pct"] == pytest.approx(50.0)
    below = [f["feature"] for f in doc["tables"]["findings"] if f["check"] == "coverage_below_minimum"]
    assert below == ["张伟"]
    assert doc["provenance"]["period_start"] == "2022-04-01"
    assert doc["provenance"]["length_method"] == "planar"


def test_xlsx_in_chinese(runner, town, tmp_path):
    out = tmp_path / "河长.xlsx"
    result = run(runner, "rivers", "--township", town, "--lang", "zh", "-o", out)
    assert result.exit_code == 0, result.stderr
    book = load_workbook(out)
    assert book.sheetnames[0] == "汇总" and "说明" in book.sheetnames
    header = [c.value for c in book["汇总"][1]]
    assert header == ["河长", "河长级别", "河段数", "长度(公里)"]
    levels = [row[1].value for row in book["汇总"].iter_rows(min_row=2)]
    assert "乡级" in levels and "村级" in levels
    assert book["汇总"]["A4"].value == "合计"
    messages = " ".join(str(c.value) for row in book["问题清单"].iter_rows() for c in row)
    assert "无巡河轨迹沿此河段巡查(1.00公里，河长张伟)" in messages  # R3, in Chinese


def test_zone_width_option_and_gpkg(runner, town, tmp_path):
    out = tmp_path / "zones.gpkg"
    result = run(runner, "rivers", "--township", town, "--zone-m", "50", "--gpkg", out, "--format", "json")
    assert result.exit_code == 0, result.stderr
    layers = [name for name, _ in pyogrio.list_layers(out)]
    assert "zones" in layers and "patrol_coverage" in layers
    zones = gpd.read_file(out, layer="zones").set_index("reach")
    assert zones.loc["R2", "zone_m"] == 50  # R2 has no zone_m of its own
    assert zones.loc["R1", "zone_m"] == 30  # R1 keeps its own
    # a 50 m zone around R2 reaches O-, S- and P- features no farther than 50 m
    doc = json.loads(result.stdout)
    assert {r["feature"] for r in doc["tables"]["in_zone"]} >= {"S1", "S2", "O1", "P1"}


@pytest.mark.parametrize("args, message", [
    (["--from", "2022-05-01", "--to", "2022-04-01"], "before it starts"),
    (["--from", "2022-13-01"], "is not a date"),
    (["--min-coverage", "120"], "between 0 and 100"),
    (["--patrol-buffer", "-5"], "-5"),
    (["--gpkg", "out.shp"], "cannot write .shp here; use .gpkg, .kml, .kmz"),
])
def test_bad_options_exit_2_with_a_message(runner, town, args, message):
    result = run(runner, "rivers", "--township", town, *args)
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--from", "2022-05-01"], "no patrol track is dated on or after 2022-05-01"),
    (["--to", "2022-01-31"], "no patrol track is dated on or before 2022-01-31"),
])
def test_a_period_open_at_one_end_beyond_the_tracks(runner, town, args, message):
    """The tracks run 2022-03-05 … 2022-04-20; the user gave one end only, so the error must
    not tell them to swap --from and --to."""
    result = run(runner, "rivers", "--township", town, *args)
    assert result.exit_code == 2
    assert message in result.stderr and "2022-03-05 to 2022-04-20" in result.stderr
    assert "swap" not in result.stderr and "Traceback" not in result.stderr


def test_per_reach_and_month_table_in_chinese(runner, town, tmp_path):
    out = tmp_path / "巡河.xlsx"
    result = run(runner, "rivers", "--township", town, "--lang", "zh", "--method", "planar", "-o", out)
    assert result.exit_code == 0, result.stderr
    sheet = load_workbook(out)["各河段逐月巡河覆盖率"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0] == ["河段", "河长", "月份", "长度(公里)", "轨迹数", "已巡河长(公里)", "巡河覆盖率(%)",
                       "含他人轨迹覆盖率(%)"]
    r1_april = next(r for r in rows[1:] if r[0] == "R1" and r[2] == "2022-04")
    assert r1_april[1] == "张伟" and r1_april[5] == 0 and r1_april[7] == pytest.approx(33.3, abs=0.05)


def test_a_period_without_patrols(runner, tmp_path):
    town = make_township(tmp_path / "t", patrols=False)
    result = run(runner, "rivers", "--township", town, "--from", "2022-01-01")
    assert result.exit_code == 2
    assert "no patrols layer" in result.stderr and "[layers.patrols]" in result.stderr


def test_no_rivers_layer(runner, tiny_township):
    result = run(runner, "rivers", "--township", tiny_township)
    assert result.exit_code == 2
    assert "no rivers layer" in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------------------- real data


def test_national_rivers_shapefile_as_a_user_would(runner, realdata, tmp_path):
    shp = realdata / "rivers-ngcc-4m" / "hyd1_4l.shp"
    (tmp_path / "township.toml").write_text(
        f'[township]\nname = "全国主要河流"\n\n[layers.rivers]\npath = "{shp.as_posix()}"\n', encoding="utf-8")
    result = run(runner, "rivers", "--township", tmp_path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)

    # independent: read the file ourselves (GBK, lon/lat) and measure geodesics with pyproj
    raw = pyogrio.read_dataframe(shp, encoding="gb18030")
    geod_m = [GEOD.geometry_length(g) for g in raw.geometry]
    total = next(r for r in doc["tables"]["summary"] if r["river_chief"] == "Total")
    assert total["length_km"] * 1000 == pytest.approx(sum(geod_m), rel=1e-6)
    yangtze = sum(m for m, name in zip(geod_m, raw["NAME"], strict=True) if name == "长江")
    by_reach = {r["reach"]: r for r in doc["tables"]["by_reach"]}
    assert by_reach["长江"]["length_km"] * 1000 == pytest.approx(yangtze, rel=1e-6)  # GBK names decoded
    assert by_reach["黄河"]["river_name"] == "黄河"
    # LENGTH is in degrees: reporting it as km would be ~100 times too small
    assert total["length_km"] > 50 * raw["LENGTH"].sum()
    # no .prj: the coordinates were recognised as CGCS2000 lon/lat
    inputs = doc["provenance"]["inputs"][0]
    assert inputs["source_crs"] == "EPSG:4490" and inputs["crs_note"].startswith("inferred")
    # the layer has no chief: said once, not per reach
    checks = [f["check"] for f in doc["tables"]["findings"]]
    assert checks.count("no_chief_field") == 1
