"""Wrong numbers and noise a new user met (issue 11, item 6): days overdue per tree, the
--list hint, counts printed as 2,054.00, 'plot nan', raw Python warnings from the
shapefile writer, and option values that name things checked before any work."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest
from click.testing import CliRunner
from messy import SAMPLE, copy_sample, delete_file, edit_csv_row

from geo_township.cli import main
from geo_township.tree_events import due_dates


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_due_dates_by_hand():
    # seasons run 10-01 … 03-31: a find in a season is due at its end, one between seasons at the next end
    found = pd.Series(pd.to_datetime(["2021-09-01", "2021-10-15", "2022-03-31", "2022-06-10", None, "2023-02-01"]))
    got = due_dates(found, latest=dt.date(2023, 3, 31))
    assert [d.date().isoformat() if pd.notna(d) else None for d in got] == [
        "2022-03-31", "2022-03-31", "2022-03-31", "2023-03-31", "2023-03-31", "2023-03-31"]
    # never after the deadline asked about
    assert due_dates(found.iloc[[5]], latest=dt.date(2023, 2, 15)).iloc[0].date() == dt.date(2023, 2, 15)


def test_days_overdue_is_each_trees_own(tmp_path):
    """Two trees felled and never cleared, found in different seasons: as of 2023-04-30,
    the one found 2021-09-01 has been due since 2022-03-31 (395 days), the one found
    2022-11-20 since 2023-03-31 (30 days)."""
    folder = copy_sample(tmp_path)
    edit_csv_row(folder, 2, 状态="已伐", 发现日期="2021-09-01", 采伐日期="2021-10-10", 清理日期="", 核查日期="")
    edit_csv_row(folder, 3, 状态="已伐", 发现日期="2022-11-20", 采伐日期="2022-12-01", 清理日期="", 核查日期="")
    result = invoke("trees", "--township", folder, "--deadline", "2023-03-31", "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    listing = {r["tree_id"]: r for r in json.loads(result.stdout)["tables"]["overdue_trees"]}
    assert listing["SC2021-00001"]["days_overdue"] == (dt.date(2023, 4, 30) - dt.date(2022, 3, 31)).days == 395
    assert listing["SC2021-00002"]["days_overdue"] == (dt.date(2023, 4, 30) - dt.date(2023, 3, 31)).days == 30
    days = {r["days_overdue"] for r in listing.values()}
    assert len(days) >= 2  # not one number for every tree


def test_the_save_hint_is_not_given_with_list(tmp_path):
    out = tmp_path / "late.csv"
    with_list = invoke("trees", "--township", SAMPLE, "--deadline", "2023-03-31", "--list", out)
    assert with_list.exit_code in (0, 1), with_list.stderr
    assert "write them all with --save" not in with_list.output and f"all are in {out}" in with_list.output
    without = invoke("trees", "--township", SAMPLE, "--deadline", "2023-03-31")
    assert "write them all with --save" in without.output


def test_counts_stay_whole_numbers_when_a_layer_fails(tmp_path):
    folder = copy_sample(tmp_path)
    delete_file(folder, "rivers.geojson")
    result = invoke("check", "--township", folder)
    assert result.exit_code == 1
    assert "2,054" in result.output and "2,054.00" not in result.output and "18,588.00" not in result.output
    as_csv = invoke("check", "--township", folder, "--format", "csv")
    assert "forest_plots,2054," in as_csv.output and "rivers,,1" in as_csv.output


def test_no_nan_in_messages(tmp_path):
    """A tree standing after the deadline outside every plot and village: 'in no plot', never 'plot nan'."""
    folder = copy_sample(tmp_path)
    edit_csv_row(folder, 2, 状态="疑似", 经度="117.40", 纬度="30.47", 村名="", 小班编码="", 采伐日期="", 清理日期="",
                 核查日期="")
    for lang, words in (("en", "in no plot"), ("zh", "不在任何小班")):
        result = invoke("trees", "--township", folder, "--season", "2022", "--lang", lang, "--format", "json")
        assert result.exit_code in (0, 1), result.stderr
        messages = [f["message"] for f in json.loads(result.stdout)["tables"]["findings"]]
        assert not [m for m in messages if re.search(r"\bnan\b|\bNone\b", m)]
        assert any(words in m for m in messages), messages[:5]


def test_shapefile_warnings_become_one_plain_note(tmp_path):
    out = tmp_path / "c.shp"
    result = invoke("candidates", "ndvi_2022", "ndvi_2023", "--township", SAMPLE, "--save", out)
    assert result.exit_code in (0, 1), result.stderr
    assert "site-packages" not in result.stderr and "Warning" not in result.stderr
    assert "field names shortened to 10 bytes for the shapefile: loss_pixels → loss_pixel" in result.stderr
    assert out.exists()


@pytest.mark.parametrize("args, names", [
    (["map", "--raster", "nope", "-o", "{tmp}/m.html"], "dem, ndvi_2022, ndvi_2023, landcover"),
    (["zonal", "nope"], "dem, ndvi_2022, ndvi_2023, landcover"),
    (["zonal", "ndvi_2022", "--layer", "nope"], "villages, forest_plots, infected_trees"),
    (["area", "nope"], "villages, forest_plots, infected_trees"),
    (["candidates", "nope", "ndvi_2023"], "dem, ndvi_2022, ndvi_2023, landcover"),
])
def test_names_are_checked_first_and_the_valid_ones_listed(tmp_path, args, names):
    result = invoke(*[a.replace("{tmp}", str(tmp_path)) for a in args], "--township", SAMPLE)
    assert result.exit_code == 2, result.output
    assert "nope" in result.stderr and names in result.stderr
    assert not (tmp_path / "m.html").exists()
