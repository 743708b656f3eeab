"""Village names that differ between layers (issue 11, item 1): where a feature lies decides
where it is counted, its record's name is kept and `check` names both names and the row;
spellings that match only after normalising spaces and full-width forms are reported.

Each case copies the sample, changes one record's text (tests/messy.py) and compares the
numbers with the clean sample's: a name is only a name, so no count may move.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from messy import SAMPLE, copy_sample, csv_row, drop_shapefile_field, edit_csv_row, invoke, set_gpkg_text, tables

from geo_township.locate import match_place_names, normalise_place_name

NAMED_LINE = 3  # SC2021-00002, its record says 石门村 and it lies in 石门村




def counts(folder: Path, *extra: str) -> list[dict]:
    return tables("trees", "--township", folder, *extra)["summary"]


@pytest.fixture(scope="module")
def clean() -> dict:
    return {"village": counts(SAMPLE), "plot": counts(SAMPLE, "--by", "plot")}


def findings(folder: Path, command: str = "check") -> list[dict]:
    return tables(command, "--township", folder)["findings"]


def test_the_named_row_is_where_the_sample_says():
    row = csv_row(SAMPLE, NAMED_LINE)
    assert (row["编号"], row["村名"]) == ("SC2021-00002", "石门村")


@pytest.mark.parametrize("name", ["青溪一村", "石门", "Shimen", "青溪村"])
def test_a_record_naming_another_village_is_reported_and_counted_where_it_lies(tmp_path, clean, name):
    folder = copy_sample(tmp_path)
    edit_csv_row(folder, NAMED_LINE, 村名=name)
    # the location decides: every number is the clean sample's, per village and per plot
    assert counts(folder) == clean["village"]
    assert counts(folder, "--by", "plot") == clean["plot"]
    differs = [f for f in findings(folder) if f["check"] == "village_differs"]
    assert len(differs) == 1
    assert differs[0]["feature"] == "SC2021-00002"
    assert name in differs[0]["message"] and "石门村" in differs[0]["message"]
    assert "line 3" in differs[0]["message"]
    mismatch = [f for f in findings(folder, "trees") if f["check"] == "village_mismatch"]
    assert [f["feature"] for f in mismatch] == ["SC2021-00002"]
    assert "counted under 石门村" in mismatch[0]["message"] and name in mismatch[0]["message"]


def test_the_map_counts_where_the_tree_lies(tmp_path, clean):
    from geo_township.layers import load_township
    from geo_township.trees import village_tree_counts

    folder = copy_sample(tmp_path)
    edit_csv_row(folder, NAMED_LINE, 村名="青溪一村")
    per_village = village_tree_counts(load_township(folder / "township.toml"))
    assert per_village.set_index("village")["found"].to_dict() == {r["village"]: r["found"] for r in clean["village"]}


@pytest.mark.parametrize("spelling", ["石\u3000门村", "石 门村", "石门\u3000村"])
def test_spaces_are_normalised_and_said(tmp_path, clean, spelling):
    folder = copy_sample(tmp_path)
    edit_csv_row(folder, NAMED_LINE, 村名=spelling)
    assert counts(folder) == clean["village"]
    found = findings(folder)
    assert not [f for f in found if f["check"] == "village_differs"]
    said = [f for f in found if f["check"] == "village_normalised"]
    assert len(said) == 1 and "石门村" in said[0]["message"] and "SC2021-00002 (line 3)" in said[0]["message"]
    in_trees = [f for f in findings(folder, "trees") if f["check"] == "village_spelling"]
    assert len(in_trees) == 1 and "SC2021-00002" in in_trees[0]["message"]
    # the spelling is shown as written (the ideographic space itself), never escaped as '\u3000'
    for message in (said[0]["message"], in_trees[0]["message"]):
        assert f"“{spelling}”" in message and "\\u3000" not in message


def test_the_name_rule_folds_width_and_every_space_only():
    assert normalise_place_name("Ｃｕｎ\u3000１ ") == "Cun1"
    assert normalise_place_name("青溪一村") != normalise_place_name("青溪村")
    assert normalise_place_name("石门") != normalise_place_name("石门村")
    match = match_place_names(__import__("pandas").Series(["石 门村", "石门村", None, "石门", "ＡＢ村"]),
                              ["石门村", "AB村"])
    assert match.values.tolist() == ["石门村", "石门村", None, "石门", "AB村"]
    assert match.normalised.tolist() == [True, False, False, False, True]


def test_a_transfer_parcel_naming_another_village_is_reported(tmp_path):
    folder = copy_sample(tmp_path)
    before = {f["feature"] for f in findings(folder) if f["check"] == "village_differs"}
    set_gpkg_text(folder, "land_transfers", "村名", {1: "青溪一村"})
    differs = [f for f in findings(folder) if f["check"] == "village_differs" and f["feature"] not in before]
    assert len(differs) == 1 and differs[0]["layer"] == "land_transfers" and "青溪一村" in differs[0]["message"]


def test_plots_without_a_village_field_under_a_villages_layer(tmp_path, clean):
    folder = copy_sample(tmp_path)
    drop_shapefile_field(folder, "forest_plots.shp", "村名")
    # trees are placed by where they lie, so the per-village table is the clean one
    assert counts(folder) == clean["village"]
    plots = counts(folder, "--by", "plot")
    assert sum(r["found"] for r in plots if r["village"] != "Total") == clean["plot"][-1]["found"]
    infected = tables("trees", "--township", folder)["infected_plots"]
    clean_infected = tables("trees", "--township", SAMPLE)["infected_plots"]
    assert infected == clean_infected  # a plot's village by where it lies, as the sample's records say
    for args in (["check"], ["map", "-o", folder / "m.html", "--no-summary"], ["info"], ["zonal", "ndvi_2022"]):
        result = invoke(*args, "--township", folder)
        assert result.exit_code in (0, 1), (args, result.stderr)


def test_area_by_village_of_plots_without_a_village_field_goes_by_where_they_lie(tmp_path):
    """With 村名 removed from the plots, each plot's area goes to the village it lies in: on the
    sample, whose plots lie in the villages their records name, the table is the clean one."""
    town = copy_sample(tmp_path)
    drop_shapefile_field(town, "forest_plots.shp", "村名")
    clean = tables("area", "forest_plots", "--by", "village", "--township", SAMPLE)
    broken = tables("area", "forest_plots", "--by", "village", "--township", town)
    assert broken == clean
