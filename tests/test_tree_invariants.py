"""The tree tables add up (issue 11, item 4), on the sample and on a copy whose statuses
are blank or words the tool does not know: such a record is still a tree, counted as found
and still standing, and named in a warning with its line and its text.

The column algebra (tree_events.event_flags, with no period): every tree is found;
confirmed ⊇ felled ⊇ cleared ⊇ verified (a status is a stage reached); standing = found −
felled and not_cleared = found − cleared; due_cleared ≤ due; every row's clearance rate is
due_cleared ÷ due; the Total row is the sum of the rows, and found in it is the number of
rows in the file. The expected numbers come from the CSV, read here with the csv module.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from messy import SAMPLE, TREES, copy_sample, csv_row, edit_csv_row

from geo_township.cli import main

COLUMNS = ("found", "confirmed", "felled", "cleared", "verified", "standing", "not_cleared", "due", "due_cleared")
# status words of the sample and the stage each reaches (0 found … 4 verified)
RANK = {"疑似": 0, "已确认": 1, "已伐": 2, "已清理": 3, "已核查": 4}
CHANGED = {2: "", 3: "待定", 4: "  "}  # line → the status written there (SC2021-00001…3, all 已核查 in the sample)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def trees(folder: Path, *extra: str) -> dict:
    result = invoke("trees", "--township", folder, "--format", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["tables"]


def statuses(folder: Path) -> Counter:
    text = (folder / TREES).read_bytes().decode("utf-8-sig")
    return Counter(row["状态"] for row in csv.DictReader(io.StringIO(text)))


def expected_totals(folder: Path) -> dict[str, int]:
    """Found, felled, cleared … over the whole file, from its status words alone (a blank
    or unknown word is a tree found, nothing more)."""
    ranks = Counter()
    for word, n in statuses(folder).items():
        ranks[RANK.get(word.strip(), 0)] += n
    reached = {stage: sum(n for r, n in ranks.items() if r >= k)
               for k, stage in enumerate(("found", "confirmed", "felled", "cleared", "verified"))}
    return {**reached, "standing": reached["found"] - reached["felled"],
            "not_cleared": reached["found"] - reached["cleared"]}


def check_algebra(rows: list[dict], key: str) -> None:
    body = [r for r in rows if r[key] != "Total" and r.get("village") != "Total"]
    total = next(r for r in rows if r.get("village") == "Total")
    for c in COLUMNS:
        assert sum(r[c] for r in body) == total[c], c
    for r in rows:
        assert r["found"] >= r["confirmed"] >= r["felled"] >= r["cleared"] >= r["verified"] >= 0, r
        assert r["standing"] == r["found"] - r["felled"], r
        assert r["not_cleared"] == r["found"] - r["cleared"], r
        assert 0 <= r["due_cleared"] <= r["due"] <= r["found"], r
        if r["due"]:
            assert r["clearance_pct"] == pytest.approx(round(100 * r["due_cleared"] / r["due"], 2)), r


@pytest.fixture(scope="module")
def unknown(tmp_path_factory) -> Path:
    folder = copy_sample(tmp_path_factory.mktemp("statuses"))
    for line, word in CHANGED.items():
        assert csv_row(folder, line)["状态"] == "已核查"
        edit_csv_row(folder, line, 状态=word)
    return folder


@pytest.mark.parametrize("which", ["sample", "unknown"])
def test_the_columns_add_up_per_village_and_per_plot(which, unknown):
    folder = SAMPLE if which == "sample" else unknown
    by_village = trees(folder)["summary"]
    by_plot = trees(folder, "--by", "plot")["summary"]
    check_algebra(by_village, "village")
    check_algebra(by_plot, "plot_id")
    total_v = next(r for r in by_village if r["village"] == "Total")
    total_p = next(r for r in by_plot if r["village"] == "Total")
    assert {c: total_v[c] for c in COLUMNS} == {c: total_p[c] for c in COLUMNS}
    want = expected_totals(folder)
    assert {c: total_v[c] for c in want} == want
    assert total_v["found"] == sum(statuses(folder).values())  # every row of the file is a tree


def test_blank_and_unknown_statuses_are_found_standing_and_named(unknown):
    clean = next(r for r in trees(SAMPLE)["summary"] if r["village"] == "Total")
    got_tables = trees(unknown)
    got = next(r for r in got_tables["summary"] if r["village"] == "Total")
    n = len(CHANGED)
    assert got["found"] == clean["found"]
    assert got["standing"] == clean["standing"] + n and got["felled"] == clean["felled"] - n
    assert got["verified"] == clean["verified"] - n and got["not_cleared"] == clean["not_cleared"] + n
    named = [f for f in got_tables["findings"] if f["check"] == "status_not_understood"]
    assert [f["feature"] for f in named] == ["SC2021-00001", "SC2021-00002", "SC2021-00003"]
    assert "(line 2)" in named[0]["message"] and "blank" in named[0]["message"]
    assert "'待定'" in named[1]["message"] and "[layers.infected_trees.values]" in named[1]["message"]
    assert '"待定" = "suspected"' in named[1]["message"]
    assert all(f["severity"] == "warning" for f in named)


def test_an_unknown_status_is_a_note_in_check_not_a_stop(unknown):
    result = invoke("check", "--township", unknown, "--format", "json")
    assert result.exit_code == 1  # the blank statuses are errors of the record, as before
    found = json.loads(result.stdout)["tables"]["findings"]
    notes = [f["message"] for f in found if f["check"] == "loading" and "待定" in f["message"]]
    assert notes and "SC2021-00002 (line 3)" in notes[0]


def test_an_unknown_sand_status_is_a_finding_and_the_rest_is_counted(tmp_path):
    folder = copy_sample(tmp_path)
    clean = invoke("sand", "--township", SAMPLE, "--format", "json")
    kml = folder / "sand_sites.kml"
    text = kml.read_text(encoding="utf-8")
    kml.write_text(text.replace('<SimpleData name="状态">非法', '<SimpleData name="状态">待查', 1), encoding="utf-8")
    result = invoke("sand", "--township", folder, "--format", "json")
    assert result.exit_code == 1, result.stderr
    got = json.loads(result.stdout)["tables"]
    before = json.loads(clean.stdout)["tables"]
    total, total_before = got["summary"][-1], before["summary"][-1]
    assert total["sites"] == total_before["sites"]  # the site still counts
    assert total["sites_illegal"] == total_before["sites_illegal"] - 1
    named = [f for f in got["findings"] if f["check"] == "site_status_not_understood"]
    assert len(named) == 1 and "'待查'" in named[0]["message"] and "[layers.sand_sites.values]" in named[0]["message"]


def test_check_names_a_status_word_it_does_not_know_instead_of_calling_it_blank(tmp_path):
    """A blank status is a missing value to fill in; an unknown word (待定) is not blank: the
    loading note names it with the township.toml fix, and no 'fill it in' error is raised for it."""
    from messy import tables

    town = copy_sample(tmp_path)
    edit_csv_row(town, 2, 状态="")
    edit_csv_row(town, 3, 状态="待定")
    findings = tables("check", "--township", town)["findings"]
    missing = {f["feature"] for f in findings if f["check"] == "missing_value"}
    assert "SC2021-00001" in missing and "SC2021-00002" not in missing
    notes = [f["message"] for f in findings if f["check"] == "loading"]
    assert any("SC2021-00002 (line 3) '待定'" in n and '"待定" = "suspected"' in n for n in notes)
