"""`geo-township import SURVEY` through the command line: summary, exit codes, dry run,
the history shown by `trees --history`, and the round trip on a copy of the sample."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from geo_township.cli import main
from geo_township.layers import load_township


def write(folder: Path, text: str, name: str = "survey.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_summary_and_history(runner, tiny_township):
    src = write(tiny_township, "编号,状态,清理日期\nT1,已清理,2022-03-01\n")
    r = runner.invoke(main, ["import", str(src), "--township", str(tiny_township)])
    assert r.exit_code == 0, r.output
    assert "advanced" in r.stdout and "history in trees.csv.history.csv" in r.stdout
    r = runner.invoke(main, ["trees", "--township", str(tiny_township), "--history", "T1", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["tables"]["summary"]
    assert [(x["field"], x["old"], x["new"]) for x in rows] == [("status", "felled", "cleared"),
                                                              ("cleared_date", "", "2022-03-01")]
    assert rows[0]["source"] == str(src.resolve())
    r = runner.invoke(main, ["import", str(src), "--township", str(tiny_township), "--format", "json"])
    assert r.exit_code == 0 and '"unchanged"' in r.stdout


def test_refused_exits_1_and_bad_file_exits_2(runner, tiny_township):
    layer = tiny_township / "trees.csv"
    before = layer.read_bytes()
    r = runner.invoke(main, ["import", str(write(tiny_township, "编号,状态\nT3,疑似\n")), "--township",
                             str(tiny_township)])
    assert r.exit_code == 1 and "refused" in r.stdout and "--allow-regress" in r.stdout
    r = runner.invoke(main, ["import", str(write(tiny_township, "编号,状态\nT1,什么\n", "bad.csv")),
                             "--township", str(tiny_township)])
    assert r.exit_code == 2 and "line 2" in r.stderr and "什么" in r.stderr and "--skip-bad" in r.stderr
    assert "Traceback" not in r.output
    assert layer.read_bytes() == before


def test_dry_run_and_layer_option(runner, tiny_township):
    layer = tiny_township / "trees.csv"
    before = layer.read_bytes()
    src = write(tiny_township, "编号,状态\nT2,已伐\n")
    r = runner.invoke(main, ["import", str(src), "--township", str(tiny_township), "--dry-run"])
    assert r.exit_code == 0 and "dry run" in r.stdout and layer.read_bytes() == before
    r = runner.invoke(main, ["import", str(src), "--township", str(tiny_township), "--layer", "rivers"])
    assert r.exit_code == 2 and "infected_trees" in r.stderr


def test_round_trip_on_the_sample(runner, sample_copy):
    """Advance some trees and add one on a copy of the sample; nothing else changes."""
    town = load_township(sample_copy)
    layer = town.layer("infected_trees")
    before = layer.gdf.set_index("tree_id")
    standing = before[before["status"].isin(["suspected", "confirmed"])].index[:5].tolist()
    lines = ["编号,状态,采伐日期,经度,纬度"] + [f"{t},已伐,2023-04-20,," for t in standing]
    lines.append("NEW-0001,疑似,,117.50,30.50")
    src = write(sample_copy, "\n".join(lines) + "\n")
    r = runner.invoke(main, ["import", str(src), "--township", str(sample_copy)])
    assert r.exit_code == 0, r.output
    after = load_township(sample_copy).gdf("infected_trees").set_index("tree_id")
    assert len(after) == len(before) + 1
    assert (after.loc[standing, "status"] == "felled").all()
    others = before.index.difference(standing)
    pd.testing.assert_series_equal(after.loc[others, "status"], before.loc[others, "status"])
    r = runner.invoke(main, ["import", str(src), "--township", str(sample_copy)])
    assert r.exit_code == 0 and "no change to write" in r.stdout


def test_tree_import_speaks_chinese(runner, tiny_township):
    src = write(tiny_township, "编号,状态,清理日期\nT1,已清理,2022-03-01\n")
    r = runner.invoke(main, ["import", str(src), "--township", str(tiny_township), "--dry-run", "--lang", "zh"])
    assert r.exit_code == 0, r.output
    assert "试运行：未写入任何文件" in r.stdout and "（疫木）（试运行）" in r.stdout
    assert "状态推进" in r.stdout and "advanced" not in r.stdout
