"""Messy real data: never crash, never miscount, always name the row.

Each case copies the sample township, breaks one thing (tests/messy.py) and runs the
commands an officer would: the exit code, the numbers of everything the break does not
touch (compared with the clean sample, computed here), and what the message names and
tells the user to do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from messy import (
    SAMPLE,
    TREES,
    copy_sample,
    csv_row,
    delete_csv_row,
    delete_file,
    edit_csv_row,
    empty_file,
    empty_kml,
    lonlat_beyond,
)

from geo_township.cli import main
from geo_township.errors import LayerReadError
from geo_township.layers import load_township

BROKEN_LINE = 2  # SC2021-00001 at 117.449079, 30.484576 (no village name: placed by where it lies)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def trees_json(folder: Path) -> tuple[object, dict]:
    result = invoke("trees", "--township", folder, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return result, json.loads(result.stdout)["tables"]


def check_json(folder: Path) -> tuple[object, dict]:
    result = invoke("check", "--township", folder, "--format", "json")
    return result, json.loads(result.stdout)["tables"]


def total(tables: dict) -> dict:
    return next(row for row in tables["summary"] if row["village"] == "Total")


@pytest.fixture(scope="module")
def clean() -> dict:
    """The clean sample's tree numbers and check."""
    _, trees = trees_json(SAMPLE)
    check, checked = check_json(SAMPLE)
    return {"trees": trees, "check": checked, "check_exit": check.exit_code}


@pytest.fixture(scope="module")
def without_broken_row(tmp_path_factory) -> dict:
    """The tree numbers when the broken row is not in the file at all: what leaving it out must give."""
    folder = copy_sample(tmp_path_factory.mktemp("reference"))
    delete_csv_row(folder, BROKEN_LINE)
    return trees_json(folder)[1]


def _far(folder: Path) -> dict[str, str]:
    lon, lat = lonlat_beyond(folder, 50)
    return {"经度": f"{lon:.6f}", "纬度": f"{lat:.6f}"}


CASES = {
    "longitude 17.449 for 117.449": (lambda folder: {"经度": "17.449079"},
                                     "17.449079, 30.484576 do not fit the coordinate system of the other rows",
                                     "mistyped"),
    "a tree at 0,0": (lambda folder: {"经度": "0", "纬度": "0"},
                      "0.000000, 0.000000 do not fit the coordinate system of the other rows", "mistyped"),
    "a tree 50 km outside the township": (_far, "50.0 km outside the township", "max_outside_m"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_bad_tree_is_left_out_named_and_the_rest_counted(case, tmp_path, clean, without_broken_row):
    change, detail, fix = CASES[case]
    folder = copy_sample(tmp_path)
    row = csv_row(folder, BROKEN_LINE)
    edit_csv_row(folder, BROKEN_LINE, **change(folder))

    result, tables = trees_json(folder)
    # every number is the one of the file without that row; the clean totals lose just that tree
    for name in ("summary", "infected_plots", "hotspots"):
        assert tables[name] == without_broken_row[name], name
    assert total(tables)["found"] == total(clean["trees"])["found"] - 1
    assert tables["summary"] != clean["trees"]["summary"]
    # the message names the file, the line and the fix, once; never "give the layer a CRS"
    lines = [line for line in result.stderr.splitlines() if "left out" in line]
    assert len(lines) == 1, result.stderr
    assert f"{TREES}: 1 row left out of every count: line {BROKEN_LINE} — " in lines[0]
    assert fix in lines[0]
    assert "crs =" not in result.stderr and "CRS in township.toml" not in result.stderr

    check, checked = check_json(folder)
    assert check.exit_code == clean["check_exit"] == 1  # the sample's own SS-13 date error
    left_out = [f for f in checked["findings"] if f["check"] == "row_left_out"]
    assert len(left_out) == 1 and left_out[0]["severity"] == "warning"
    assert left_out[0]["feature"] == f"{row['编号']} (line {BROKEN_LINE})"
    assert detail in left_out[0]["message"] and fix in left_out[0]["message"]
    counts = {r["layer"]: r["features"] for r in checked["summary"]}
    assert counts == {r["layer"]: r["features"] - (r["layer"] == "infected_trees") for r in clean["check"]["summary"]}


def test_several_bad_rows_are_summarised_in_one_line_per_reason(tmp_path):
    folder = copy_sample(tmp_path)
    far = _far(folder)
    for line in (12, 407, 9001):
        edit_csv_row(folder, line, **far)
    edit_csv_row(folder, 30, 经度="17.5")
    town = load_township(folder)
    trees = town.layer("infected_trees")
    assert len(trees.gdf) == 18_588 - 4
    assert sorted(trees.left_out["line"].tolist()) == [12, 30, 407, 9001]
    assert set(trees.left_out["reason"]) == {"outside_township", "crs_misfit"}
    notes = town.load_notes("en")
    assert notes[0].startswith(f"{TREES}: 1 row left out of every count: line 30 — coordinates that do not fit")
    assert notes[1].startswith(f"{TREES}: 3 rows left out of every count: lines 12, 407, 9,001 — coordinates "
                               "outside the township (fix the coordinates, or widen max_outside_m")
    zh = town.load_notes("zh")
    assert zh[1].startswith(f"{TREES}：3 行未计入任何统计：第 12、407、9001 行——坐标位于本乡范围之外（请更正坐标")
    assert "1 of 18,588 rows do not fit it" in trees.crs_note  # the inference says what did not fit
    assert [f.feature for f in town.load_findings()] == [
        f"{csv_row(folder, n)['编号']} (line {n})" for n in (30, 12, 407, 9001)]
    assert town.provenance()["inputs"][0]["rows_left_out"] == 4


def test_a_missing_rivers_file_stops_only_what_reads_rivers(tmp_path, clean):
    folder = copy_sample(tmp_path)
    delete_file(folder, "rivers.geojson")

    _, tables = trees_json(folder)
    assert tables == clean["trees"]

    check, checked = check_json(folder)
    assert check.exit_code == 1
    unreadable = [f for f in checked["findings"] if f["check"] == "unreadable"]
    assert len(unreadable) == 1 and unreadable[0]["layer"] == "rivers"
    assert "rivers.geojson" in unreadable[0]["message"] and "file not found" in unreadable[0]["message"]
    assert "correct the path" in unreadable[0]["message"]
    counts = {r["layer"]: r["features"] for r in checked["summary"]}
    assert counts == {r["layer"]: (None if r["layer"] == "rivers" else r["features"])
                      for r in clean["check"]["summary"]}
    others = [f for f in checked["findings"] if f["check"] != "unreadable"]
    assert others == [f for f in clean["check"]["findings"] if f["layer"] != "rivers"]

    rivers = invoke("rivers", "--township", folder)
    assert rivers.exit_code == 2
    assert rivers.stderr.startswith("Error: ") and "rivers.geojson" in rivers.stderr
    assert "file not found" in rivers.stderr and "Traceback" not in rivers.stderr


def test_an_emptied_sand_sites_kml_leaves_the_rest_of_the_map(tmp_path):
    folder = copy_sample(tmp_path)
    empty_file(folder, "sand_sites.kml")
    page = tmp_path / "map.html"
    result = invoke("map", "--township", folder, "-o", page, "--no-summary")
    assert page.exists(), result.stderr
    html = page.read_text(encoding="utf-8")
    assert "the sand_sites layer (sand_sites.kml) could not be read" in html
    assert "export it again" in html
    assert "sand_sites.kml" in result.stderr

    from geo_township.webmap import build_map

    model, _ = build_map(load_township(folder))
    assert [(f.kind, f.file.name) for f in model.failed_layers] == [("sand_sites", "sand_sites.kml")]
    assert "cannot open the file" in model.failed_layers[0].message
    assert "sand_sites" not in model.keys and {"villages", "infected_trees", "rivers"} <= set(model.keys)


def test_a_kml_without_placemarks_is_called_empty(tmp_path):
    folder = copy_sample(tmp_path)
    empty_kml(folder, "sand_sites.kml")
    with pytest.raises(LayerReadError, match="the layer is empty"):
        load_township(folder).layer("sand_sites")


def test_map_exits_1_and_names_a_layer_it_could_not_read(tmp_path):
    folder = copy_sample(tmp_path)
    empty_file(folder, "sand_sites.kml")
    page = tmp_path / "map.html"
    result = invoke("map", "--township", folder, "-o", page)
    assert page.exists()
    assert result.exit_code == 1, result.stderr
    assert "sand_sites.kml" in result.stderr
