"""`geo-township trees` through the command line: tables, Chinese ledger in XLSX, the
deadline list as GeoPackage/CSV/KML, a tree's history, and bad options."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook
from test_trees import LATE, TREES, make_township

from geo_township.cli import COMMANDS, main


@pytest.fixture
def town(tmp_path: Path) -> Path:
    return make_township(tmp_path)


def test_registered():
    assert COMMANDS["trees"] == "trees" and COMMANDS["import"] == "import_"


def test_table_by_village(runner, town):
    r = runner.invoke(main, ["trees", "--township", str(town), "--no-hotspots"])
    assert r.exit_code == 0, r.output
    assert "Pine-wilt trees by village" in r.stdout and "Clearance (%)" in r.stdout
    assert "甲村" in r.stdout and "(outside)" in r.stdout and "Total" in r.stdout
    assert "boundary rule" in r.stdout


def test_csv_in_chinese(runner, town):
    r = runner.invoke(main, ["trees", "--township", str(town), "--season", "2022", "--format", "csv", "--lang", "zh",
                             "--no-hotspots"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.lstrip("\ufeff").splitlines()
    assert lines[0].split(",")[:4] == ["村", "发现(株)", "确认(株)", "已伐(株)"]
    assert lines[-1].startswith("合计,5,")
    assert any(line.startswith("(范围外)") for line in lines) is False  # O1 was found in Jan 2022, not in season


def test_ledger_xlsx_headed_in_chinese(runner, town, tmp_path):
    out = tmp_path / "台账.xlsx"
    r = runner.invoke(main, ["trees", "--township", str(town), "--by", "plot", "--format", "xlsx", "--lang", "zh",
                             "-o", str(out)])
    assert r.exit_code == 0, r.output
    wb = load_workbook(out)
    ws = wb[wb.sheetnames[0]]
    header = [c.value for c in ws[1]]
    assert header == ["村", "小班", "松林面积(亩)", "发现(株)", "确认(株)", "已伐(株)", "已清理(株)", "已核查(株)",
                      "未伐(株)", "未清理(株)", "截至2023-03-31应除治(株)", "其中截至2023-05-01已除治(株)", "除治率(%)",
                      "首次发现日期", "最后清理日期"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert rows[-1][0] == "合计" and rows[-1][3] == 9
    assert {r[1] for r in rows} >= {"P01", "P02", "P03", "P04"}
    assert "说明" in wb.sheetnames  # provenance, with the boundary rule
    about = {r[0].value: r[1].value for r in wb["说明"].iter_rows()}  # keys and rules in Chinese
    assert "编号（按文本顺序）最小" in about["边界归属规则"]
    assert "按批次" in about["除治率计算规则"] and about["除治率采用的除治期截止日"] == "2023-03-31"
    p01 = next(r for r in rows if r[1] == "P01")  # T1, T2, E2: all due, T1 cleared
    assert p01[10:13] == [3, 1, pytest.approx(33.33)]


@pytest.fixture
def late_town(tmp_path: Path) -> Path:
    (tmp_path / "late").mkdir()
    return make_township(tmp_path / "late", TREES + LATE)


@pytest.mark.parametrize("suffix", [".gpkg", ".csv", ".kml", ".geojson"])
def test_deadline_list_files(runner, late_town, tmp_path, suffix):
    out = tmp_path / f"overdue{suffix}"
    r = runner.invoke(main, ["trees", "--township", str(late_town), "--deadline", "2023-03-31", "--list", str(out)])
    assert r.exit_code == 0, r.output
    assert "Trees not cleared by 2023-03-31" in r.stdout
    assert "Outstanding on" in r.stdout and "2023-05-01" in r.stdout
    if suffix == ".csv":
        table = pd.read_csv(out, encoding="utf-8-sig")
        assert {"lon", "lat", "plot_id", "village", "days_overdue", "state"} <= set(table.columns)
        ids = set(table["tree_id"])
    else:
        gdf = gpd.read_file(out)
        ids = set(gdf["tree_id"])
    # still outstanding on the data date; L1 (cleared after the deadline) and the trees cleared in time are left out
    assert ids == {"T2", "T4", "T5", "E1", "E2", "R1", "L2"}
    if suffix == ".kml":
        assert set(gdf["Name"]) == ids  # each placemark is named after its tree
        text = out.read_text(encoding="utf-8")
        assert "<name>Trees not cleared by 2023-03-31 — 测试乡</name>" in text
        assert "<name>Trees not cleared by the deadline</name>" in text
        assert ".tmp" not in text  # no name taken from the temporary file
        assert "standing; village 甲村; plot P01; found 2022-02-01; 396 days overdue" in text  # T2, due 2022-03-31


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_deadline_list_to_xlsx_says_what_was_written(runner, late_town, tmp_path, lang):
    out = tmp_path / "late.xlsx"
    r = runner.invoke(main, ["trees", "--township", str(late_town), "--deadline", "2023-03-31", "-o", str(out),
                             "--lang", lang])
    assert r.exit_code == 0, r.output
    wb = load_workbook(out)
    sheet = next(ws for ws in wb.worksheets if ws.title not in ("About", "说明") and ws.max_row == 8)
    rows = sheet.max_row - 1  # the seven trees still outstanding (see test_deadline_list_files), read from the file
    assert rows == 7
    expected = f"已将 {rows} 株写入 {out}" if lang == "zh" else f"{rows} tree(s) written to {out}"
    assert expected in r.stderr and r.stdout == ""


def test_include_late_in_the_list(runner, late_town, tmp_path):
    out = tmp_path / "all.csv"
    r = runner.invoke(main, ["trees", "--township", str(late_town), "--deadline", "2023-03-31", "--include-late",
                             "--list", str(out)])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out, encoding="utf-8-sig").set_index("tree_id")
    assert table.loc["L1", "state"] == "cleared_late" and table.loc["L1", "days_overdue"] == 12
    assert len(table) == 8
    r = runner.invoke(main, ["trees", "--township", str(late_town), "--include-late"])
    assert r.exit_code == 2 and "--include-late needs --deadline" in r.stderr


def test_history_and_bad_options(runner, town):
    r = runner.invoke(main, ["trees", "--township", str(town), "--history", "T1"])
    assert r.exit_code == 0, r.output
    assert "History of tree T1" in r.stdout and "no recorded changes" in r.stdout
    r = runner.invoke(main, ["trees", "--township", str(town), "--history", "NOPE"])
    assert r.exit_code == 2 and "no tree 'NOPE'" in r.stderr
    r = runner.invoke(main, ["trees", "--township", str(town), "--season", "2022", "--from", "2022-01-01"])
    assert r.exit_code == 2 and "--season cannot be combined" in r.stderr
    r = runner.invoke(main, ["trees", "--township", str(town), "--list", "x.gpkg"])
    assert r.exit_code == 2 and "--list needs --deadline" in r.stderr
    r = runner.invoke(main, ["trees", "--township", str(town), "--from", "2022-13-01"])
    assert r.exit_code == 2 and "not a date" in r.stderr


def test_sample_runs(runner, sample_dir):
    r = runner.invoke(main, ["trees", "--township", str(sample_dir)])
    assert r.exit_code == 0, r.output
    assert "Total" in r.stdout and "hotspots" in r.stdout
