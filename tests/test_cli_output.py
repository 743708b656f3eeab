"""What every command shares: one renderer (every table in every format), one option that
writes features, exit codes decided in one place, options declared once."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
import pyogrio
import pytest
from _rivers_township import make_township

from geo_township.cli import main
from geo_township.cli.exitcodes import (
    EXIT_BAD_INPUT,
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_OK,
    exit_code,
)
from geo_township.cli.options import METHODS, Percent
from geo_township.results import Finding, Result


def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


@pytest.fixture
def town(tmp_path):
    return make_township(tmp_path / "t")


# --------------------------------------------------------------------------- one renderer


def test_csv_file_holds_the_main_table_and_every_other_table_lies_next_to_it(runner, town, tmp_path):
    out = tmp_path / "rivers.csv"
    result = runner.invoke(main, ["rivers", "--township", str(town), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    tables = json.loads(runner.invoke(main, ["rivers", "--township", str(town), "--format", "json"]).stdout)["tables"]
    others = [name for name in tables if name != "summary"]
    assert others and "findings" in others
    assert sorted(p.name for p in tmp_path.glob("rivers*.csv")) == sorted(["rivers.csv"] + [f"rivers.{n}.csv"
                                                                                          for n in others])
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel shows Chinese
    assert [r["river_chief"] for r in read_csv(out)] == [r["river_chief"] for r in tables["summary"]]
    by_reach = read_csv(tmp_path / "rivers.by_reach.csv")
    assert [r["reach"] for r in by_reach] == [r["reach"] for r in tables["by_reach"]]
    findings = read_csv(tmp_path / "rivers.findings.csv")
    assert len(findings) == len(tables["findings"])
    assert f"CSV: {out} (summary) and {len(others)} tables next to it" in result.stderr
    assert "rivers.by_reach.csv" in result.stderr


def test_csv_to_stdout_names_the_tables_not_shown(runner, town):
    result = runner.invoke(main, ["rivers", "--township", str(town), "--format", "csv"])
    assert result.exit_code == 0
    assert result.stdout.startswith("\ufeff")
    assert "Tables not shown:" in result.stderr and "by_reach" in result.stderr and "findings" in result.stderr
    quiet = runner.invoke(main, ["-q", "rivers", "--township", str(town), "--format", "csv"])
    assert quiet.stdout == result.stdout and "Tables not shown" not in quiet.stderr


def test_a_single_table_is_a_single_csv_file_without_a_note(runner, tiny_township, tmp_path):
    out = tmp_path / "area.csv"
    result = runner.invoke(main, ["area", "forest_plots", "--township", str(tiny_township), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in tmp_path.glob("area*.csv")] == ["area.csv"]
    assert "CSV:" not in result.stderr
    stdout = runner.invoke(main, ["area", "forest_plots", "--township", str(tiny_township), "--format", "csv"])
    assert "not shown" not in stdout.stderr


def test_zh_csv_files_have_chinese_headings(runner, town, tmp_path):
    out = tmp_path / "河长.csv"
    result = runner.invoke(main, ["rivers", "--township", str(town), "--lang", "zh", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert out.read_text(encoding="utf-8-sig").splitlines()[0] == "河长,河长级别,河段数,长度(公里)"
    assert (tmp_path / "河长.by_reach.csv").exists()
    assert "CSV：" in result.stderr


# --------------------------------------------------------------------------- one option writes features


def test_save_and_its_older_name_write_the_same_geopackage(runner, town, tmp_path):
    a, b = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    ra = runner.invoke(main, ["sand", "--township", str(town), "--save", str(a)])
    rb = runner.invoke(main, ["sand", "--township", str(town), "--gpkg", str(b)])
    assert ra.exit_code == rb.exit_code == EXIT_FINDINGS
    assert [n for n, _ in pyogrio.list_layers(a)] == [n for n, _ in pyogrio.list_layers(b)] == [
        "sites", "sand_zones", "site_findings"]
    assert f"layers written to {a}: sites, sand_zones, site_findings" in ra.stdout


@pytest.mark.parametrize("command, alias", [(["sand"], "--gpkg"), (["rivers"], "--gpkg"), (["audit"], "--gpkg"),
                                            (["zonal", "ndvi"], "--join"), (["trees"], "--list"),
                                            (["candidates", "a", "b"], None)])
def test_every_command_that_writes_features_takes_save(runner, command, alias):
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert ("--save, " + alias if alias else "--save FILE") in result.stdout


def test_a_save_path_in_a_missing_folder_is_refused_before_the_work(runner, town, tmp_path):
    result = runner.invoke(main, ["rivers", "--township", str(town), "--save", str(tmp_path / "no" / "x.gpkg")])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "folder" in result.stderr and "--save/--gpkg" in result.stderr and "Traceback" not in result.stderr
    folder = runner.invoke(main, ["rivers", "--township", str(town), "--save", str(tmp_path)])
    assert folder.exit_code == EXIT_BAD_INPUT


# --------------------------------------------------------------------------- exit codes


def _result(*severities: str, check: str = "c") -> Result:
    import pandas as pd

    return Result("t", pd.DataFrame(), findings=[Finding("l", "f", s, check, "m") for s in severities])


def test_exit_code_from_the_result():
    assert exit_code(_result()) == EXIT_OK == 0
    assert exit_code(_result("warning", "info")) == 0
    assert exit_code(_result("warning", "error")) == EXIT_FINDINGS == 1
    assert exit_code(_result("error"), bad_input=True) == EXIT_BAD_INPUT == 2
    assert exit_code(_result("warning", check="skipped"), also={"skipped"}) == 1


def test_the_four_exit_codes(runner, tiny_township, monkeypatch):
    assert runner.invoke(main, ["check", "--township", str(tiny_township)]).exit_code == 0
    assert runner.invoke(main, ["area", "forest_plots", "--unit", "acre", "--township",
                                str(tiny_township)]).exit_code == 2  # click's usage error
    assert runner.invoke(main, ["area", "rivers", "--township", str(tiny_township)]).exit_code == 2  # TownshipError
    (tiny_township / "trees.csv").write_text("编号,经度,纬度,状态\nT1,117.495,30.495,已伐\nT1,117.496,30.495,已伐\n",
                                             encoding="utf-8")
    assert runner.invoke(main, ["check", "--township", str(tiny_township)]).exit_code == 1

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero in a bug")

    monkeypatch.setattr("geo_township.inventory.area_summary", broken)
    result = runner.invoke(main, ["area", "forest_plots", "--township", str(tiny_township)])
    assert result.exit_code == EXIT_INTERNAL == 3
    assert "internal error" in result.stderr and "ZeroDivisionError: division by zero in a bug" in result.stderr
    assert "report" in result.stderr and "-v" in result.stderr and "Traceback" not in result.stderr
    loud = runner.invoke(main, ["-v", "area", "forest_plots", "--township", str(tiny_township)])
    assert loud.exit_code == 3 and "Traceback" in loud.stderr and "broken" in loud.stderr


# --------------------------------------------------------------------------- options declared once


def test_method_choices_are_the_measure_methods():
    from geo_township.measure import METHODS as MEASURE_METHODS

    assert METHODS == MEASURE_METHODS


@pytest.mark.parametrize("text, value", [("5", 5.0), ("5%", 5.0), (" 7.5 % ", 7.5), (80, 80.0)])
def test_percent_reads_a_number_or_a_percentage(text, value):
    assert Percent().convert(text, None, None) == value


def test_percent_refuses_words_and_values_out_of_range():
    with pytest.raises(click.BadParameter, match="write it as 80% or 80"):
        Percent(0, 100, example="80").convert("most", None, None)
    with pytest.raises(click.BadParameter, match="between 0 and 100"):
        Percent(0, 100).convert("120", None, None)


def test_the_progress_bar_has_its_own_module():
    from geo_township.cli.commands import candidates, zonal
    from geo_township.cli.progress import progress_bar

    assert candidates.progress_bar is progress_bar and zonal.progress_bar is progress_bar


def test_counts_have_thousands_separators_and_years_do_not():
    """A terminal table writes 8,792 trees but the year 2022 (not 2,022)."""
    import pandas as pd

    from geo_township.cli.render import _rich_table
    from geo_township.results import Result

    frame = pd.DataFrame({"start_year": [2021, 2022], "trees": [8792, 13208]})
    result = Result("t", frame)
    table = _rich_table(frame, "t", result, "en")
    cells = [[str(c) for c in col._cells] for col in table.columns]
    assert cells == [["2021", "2022"], ["8,792", "13,208"]]
