"""A county (county.toml naming several township folders): every table command run on it
equals the same command run on each township alone, with the county's totals the sums of
the townships' totals (added here, independently) and rates recomputed from those sums;
land claimed by two townships is reported by check; a bad county.toml gets a clear
message; commands that run on one township only refuse a county."""

from __future__ import annotations

import io
import json
import math
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from county_copies import county, township_copy

from geo_township.cli import main
from geo_township.county import county_total, load_county
from geo_township.errors import ConfigError

NAMES = ("东岭乡", "西河乡")
TOTAL = "Total"
MU = 10000 / 15


@pytest.fixture(scope="module")
def apart(tmp_path_factory) -> Path:
    """Two copies of the sample, the second moved 0.5° north: no land claimed twice."""
    return county(tmp_path_factory.mktemp("apart"))


@pytest.fixture(scope="module")
def together(tmp_path_factory) -> Path:
    """Two copies of the sample in the same place: every village and plot claimed twice."""
    return county(tmp_path_factory.mktemp("together"), dlat=0.0)


def run_json(runner, args: list[str], place: Path) -> tuple[int, dict[str, list[dict]], str]:
    result = runner.invoke(main, [*args, "--township", str(place), "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr + result.output
    return result.exit_code, json.loads(result.stdout)["tables"], result.stderr


COMMANDS = {
    "trees": ["trees", "--no-hotspots"],
    "trees_by_plot": ["trees", "--by", "plot", "--no-hotspots"],
    "trees_deadline": ["trees", "--deadline", "2023-03-31", "--season", "2022"],
    "area": ["area", "forest_plots", "--by", "village"],
    "transfers_area": ["area", "land_transfers"],
    "audit": ["audit", "--no-save"],
    "sand": ["sand"],
    "rivers": ["rivers"],
    "check": ["check"],
    "info": ["info"],
}


def _close(a, b, n: int = 1) -> bool:
    """Equal, or numbers equal to the rounding of n values shown with 2 decimals."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if math.isnan(a) and math.isnan(b):
            return True
        return abs(a - b) <= 0.006 * n + 1e-9
    return a == b


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_county_is_its_townships_side_by_side_with_their_totals_added(runner, apart, name):
    assert_side_by_side(runner, apart, COMMANDS[name])


@pytest.fixture(scope="module")
def with_rasters(tmp_path_factory) -> Path:
    """Two copies of the sample in the same place, each with the sample's rasters."""
    return county(tmp_path_factory.mktemp("rasters"), dlat=0.0, rasters=True)


@pytest.mark.parametrize("args", [["zonal", "ndvi_2022"], ["zonal", "dem", "--by", "village", "--percentiles", "10,90"],
                                  ["zonal", "landcover", "--layer", "villages"],
                                  ["candidates", "ndvi_2022", "ndvi_2023"]])
def test_raster_commands_on_a_county_are_each_townships_own_raster_side_by_side(runner, with_rasters, args):
    assert_side_by_side(runner, with_rasters, args)


def test_zonal_on_a_county_saves_every_townships_polygons_in_one_layer(runner, with_rasters, tmp_path):
    out = tmp_path / "zonal.gpkg"
    result = runner.invoke(main, ["zonal", "dem", "--save", str(out), "--township", str(with_rasters)])
    assert result.exit_code in (0, 1), result.stderr
    saved = gpd.read_file(out, layer="forest_plots_dem")
    one = gpd.read_file(with_rasters / "east" / "forest_plots.shp", encoding="gbk")
    assert saved["township"].value_counts().to_dict() == {NAMES[0]: len(one), NAMES[1]: len(one)}


def assert_side_by_side(runner, root: Path, args: list[str]) -> None:
    """``args`` on the county at ``root`` give each township's own tables (its rows, with a
    township column) and, where the townships' tables have a Total row, a county Total of
    their sums with rates recomputed."""
    code, joined, _ = run_json(runner, args, root / "county.toml")
    alone = {t: run_json(runner, args, root / folder) for t, folder in zip(NAMES, ("east", "west"), strict=True)}
    assert code == max(c for c, _, _ in alone.values())
    for table, rows in joined.items():
        if table == "findings":
            for t, (_, tables, _) in alone.items():
                assert len([r for r in rows if r["township"] == t]) == len(tables.get("findings", []))
            continue
        for t, (_, tables, _) in alone.items():
            mine = [{k: v for k, v in r.items() if k != "township"} for r in rows if r["township"] == t]
            assert mine == tables.get(table, []), (table, t)
        single_totals = [r for _, tables, _ in alone.values() for r in tables.get(table, [])
                         if next(iter(r.values())) == TOTAL]
        county_rows = [r for r in rows if r["township"] == TOTAL]
        if not single_totals:
            assert county_rows == []
            continue
        assert len(county_rows) == 1
        row = county_rows[0]
        for col, value in row.items():
            if col == "township" or col.endswith("_pct"):
                continue
            if col == "chiefs":  # a county-level chief serves both townships: one person, not a sum
                assert value is None, (table, col)
                continue
            values = [r[col] for r in single_totals]
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                continue
            if col in ("min", "max", "drop_max", "max_contract_years"):  # the lowest / highest
                assert value == (min(values) if col == "min" else max(values)), (table, col)
            elif col == "mean":  # coverage-weighted: the summed sum over the summed pixels
                want = sum(r["sum"] for r in single_totals) / sum(r["pixels"] for r in single_totals)
                assert value == pytest.approx(want, abs=0.006), (table, col)
            elif col in ("std", "median", "drop_mean", "before_mean", "after_mean") or (
                    col.startswith("p") and col[1:].isdigit()):  # a percentile, e.g. p10
                assert value is None, (table, col)  # not to be made from the townships' totals
            else:
                assert _close(value, sum(values), len(values)), (table, col)
        if "clearance_pct" in row:
            due = sum(r["due"] for r in single_totals)
            cleared = sum(r["due_cleared"] for r in single_totals)
            assert row["clearance_pct"] == pytest.approx(100 * cleared / due, abs=0.006)
        if "farmland_share_pct" in row:
            share = 100 * sum(r["transferred_farmland_mu"] for r in single_totals) / sum(
                r["basic_farmland_mu"] for r in single_totals)
            assert row["farmland_share_pct"] == pytest.approx(share, abs=0.06)


def test_the_county_total_recomputes_rates_from_summed_counts_never_averages_them():
    """Hand-worked: 9 of 10 trees cleared (90%) and 15 of 30 (50%) make 24 of 40, 60% — not 70%."""
    totals = pd.DataFrame({"village": [TOTAL, TOTAL], "due": [10, 30], "due_cleared": [9, 15],
                           "clearance_pct": [90.0, 50.0], "pine_mu": [1.5, 2.25], "zone_pct": [3.0, 4.0],
                           "first_found": pd.to_datetime(["2021-05-01", "2020-03-02"]),
                           "last_cleared": pd.to_datetime(["2023-01-01", "2022-01-01"])})
    row = county_total(totals)
    assert row["due"] == 40 and row["due_cleared"] == 24
    assert row["clearance_pct"] == pytest.approx(60.0)
    assert row["pine_mu"] == pytest.approx(3.75)
    assert math.isnan(row["zone_pct"])  # a percentage without a known formula is not averaged
    assert row["first_found"] == pd.Timestamp("2020-03-02") and row["last_cleared"] == pd.Timestamp("2023-01-01")


def test_check_on_a_county_reports_land_two_townships_both_claim(runner, together):
    result = runner.invoke(main, ["check", "--township", str(together), "--format", "json"])
    assert result.exit_code == 1, result.stderr
    tables = json.loads(result.stdout)["tables"]
    claims = pd.DataFrame(tables["claims"])
    # independently: overlay the two copies' layers in an equal-area projection
    east, west = (together / "east"), (together / "west")
    expected = {}
    for kind, file, layer in (("villages", "township.gpkg", "villages"), ("forest_plots", "forest_plots.shp", None)):
        a = gpd.read_file(east / file, layer=layer).to_crs("+proj=aea +lat_1=25 +lat_2=47 +lon_0=117.5 +ellps=GRS80")
        b = gpd.read_file(west / file, layer=layer).to_crs(a.crs)
        pieces = gpd.overlay(a, b, how="intersection", keep_geom_type=True)
        expected[kind] = int((pieces.area / MU > 0.1).sum())
    assert expected["villages"] == 10  # each village overlaps its twin; neighbours only touch
    assert (claims["layer"] == "villages").sum() == expected["villages"]
    assert (claims["layer"] == "forest_plots").sum() == expected["forest_plots"]
    twins = claims[claims["layer"] == "villages"]
    assert (twins["feature_a"] == twins["feature_b"]).all()
    assert set(twins["township_a"]) == {NAMES[0]} and set(twins["township_b"]) == {NAMES[1]}
    findings = tables["findings"]
    assert sum(f["check"] == "village_claimed_twice" for f in findings) == 10
    village = next(f for f in findings if f["check"] == "village_claimed_twice")
    assert NAMES[0] in village["message"] and NAMES[1] in village["message"] and village["severity"] == "error"


def test_check_on_townships_apart_claims_nothing(runner, apart):
    result = runner.invoke(main, ["check", "--township", str(apart / "county.toml"), "--format", "json"])
    tables = json.loads(result.stdout)["tables"]
    assert "claims" not in tables
    assert not any(f["check"].endswith("_claimed_twice") for f in tables.get("findings", []))


def test_a_folder_holding_county_toml_is_picked_up(runner, apart, monkeypatch):
    monkeypatch.chdir(apart)
    result = runner.invoke(main, ["area", "forest_plots", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["tables"]["summary"]
    assert [r["township"] for r in rows] == [NAMES[0], NAMES[1], TOTAL]
    assert rows[2]["count"] == rows[0]["count"] + rows[1]["count"]


def test_the_county_total_is_named_in_chinese(runner, apart):
    result = runner.invoke(main, ["area", "forest_plots", "--township", str(apart), "--lang", "zh"])
    assert result.exit_code == 0, result.stderr
    assert "乡镇" in result.stdout and "合计" in result.stdout and "青山县" in result.stdout


@pytest.mark.parametrize("args", [["import", "x.csv", "--layer", "infected_trees"]])
def test_commands_for_one_township_refuse_a_county(runner, apart, args):
    result = runner.invoke(main, [*args, "--township", str(apart / "county.toml")])
    assert result.exit_code == 2
    assert "county file" in result.stderr and "--township FOLDER" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_countys_deadline_list_for_crews_holds_every_townships_trees_named_with_their_township(
        runner, apart, tmp_path):
    args = ["trees", "--deadline", "2023-03-31", "--season", "2022"]
    alone = {}
    for name, folder in zip(NAMES, ("east", "west"), strict=True):
        out = tmp_path / f"{folder}.gpkg"
        done = runner.invoke(main, [*args, "--township", str(apart / folder), "--save", str(out)])
        assert done.exit_code == 0, done.stderr
        alone[name] = gpd.read_file(out)
    both = tmp_path / "county.gpkg"
    done = runner.invoke(main, [*args, "--township", str(apart / "county.toml"), "--save", str(both)])
    assert done.exit_code == 0, done.stderr
    assert f"{sum(len(g) for g in alone.values())} tree(s) written to {both}" in done.output
    listed = gpd.read_file(both)
    assert list(listed.columns[:2]) == ["township", "tree_id"]
    for name, own in alone.items():
        mine = listed[listed["township"] == name].drop(columns="township").reset_index(drop=True)
        assert mine["tree_id"].tolist() == own["tree_id"].tolist() and len(mine) > 0
        # the second township lies 0.5° north of the first: each tree stays where its township has it
        assert mine.geometry.geom_equals_exact(own.geometry, tolerance=1e-9).all()
    kml = tmp_path / "county.kml"
    done = runner.invoke(main, [*args, "--township", str(apart / "county.toml"), "--save", str(kml), "--lang", "zh"])
    assert done.exit_code == 0, done.stderr
    text = kml.read_text(encoding="utf-8")
    assert text.count("<Placemark>") == len(listed)
    assert all(f"；{name}；村 " in text for name in NAMES)  # each placemark says its township


def test_a_trees_history_in_a_county_is_looked_up_in_every_township(runner, tmp_path):
    root = county(tmp_path)
    survey = tmp_path / "survey.csv"
    survey.write_text("编号,状态,清理日期\nSC2021-00915,已清理,2023-04-20\n", encoding="utf-8")
    done = runner.invoke(main, ["import", str(survey), "--layer", "infected_trees", "--township", str(root / "east")])
    assert done.exit_code == 0, done.stderr
    code, tables, _ = run_json(runner, ["trees", "--history", "SC2021-00915"], root / "county.toml")
    assert code == 0
    changes = tables["summary"]
    # the import changed the tree in 东岭乡 only: its status and its clearing date, nothing in 西河乡
    assert {r["township"] for r in changes} == {NAMES[0]}
    assert sorted((r["field"], r["new"]) for r in changes) == [("cleared_date", "2023-04-20"),
                                                                ("status", "cleared")]
    done = runner.invoke(main, ["trees", "--history", "NO-SUCH-TREE", "--township", str(root / "county.toml")])
    assert done.exit_code == 2
    assert "no tree 'NO-SUCH-TREE'" in done.stderr and "nor in any other township of 青山县" in done.stderr
    assert "Traceback" not in done.stderr
    zh = runner.invoke(main, ["trees", "--history", "NO-SUCH-TREE", "--township", str(root / "county.toml"),
                              "--lang", "zh"])
    assert "全县（青山县）其他乡镇也没有" in zh.stderr


def test_export_on_a_county_writes_every_townships_selection_in_one_file(runner, apart, tmp_path):
    args = ["export", "infected_trees", "--where", "status == 'felled'"]
    alone = {}
    for name, folder in zip(NAMES, ("east", "west"), strict=True):
        done = runner.invoke(main, [*args, "-o", str(tmp_path / f"{folder}.gpkg"), "--township", str(apart / folder)])
        assert done.exit_code == 0, done.stderr
        alone[name] = gpd.read_file(tmp_path / f"{folder}.gpkg")
    out = tmp_path / "county.gpkg"
    done = runner.invoke(main, [*args, "-o", str(out), "--township", str(apart / "county.toml")])
    assert done.exit_code == 0, done.stderr
    both = gpd.read_file(out)
    assert f"Exported {len(both)} features" in done.output and len(both) == sum(len(g) for g in alone.values())
    assert both.columns[0] == "township" and both.crs == alone[NAMES[0]].crs
    for name, own in alone.items():
        mine = both[both["township"] == name].reset_index(drop=True)
        assert mine["tree_id"].tolist() == own["tree_id"].tolist() and (mine["status"] == "felled").all()
        assert mine.geometry.geom_equals_exact(own.geometry.to_crs(both.crs), tolerance=1e-6).all()
    done = runner.invoke(main, ["export", "water_bodies", "-o", str(tmp_path / "w.gpkg"), "--township",
                                str(apart / "county.toml")])
    assert done.exit_code == 2 and "nor in any other township of 青山县" in done.stderr
    assert not (tmp_path / "w.gpkg").exists()


def test_export_of_one_village_on_a_county_and_its_placemarks_name_their_township(runner, apart, tmp_path):
    out = tmp_path / "qingxi.kml"
    done = runner.invoke(main, ["export", "infected_trees", "--village", "青溪村", "-o", str(out), "--lang", "zh",
                                "--township", str(apart / "county.toml")])
    assert done.exit_code == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    alone = runner.invoke(main, ["export", "infected_trees", "--village", "青溪村", "-o", str(tmp_path / "e.kml"),
                                 "--township", str(apart / "east")])
    assert alone.exit_code == 0
    n = (tmp_path / "e.kml").read_text(encoding="utf-8").count("<Placemark>")
    assert text.count("<Placemark>") == 2 * n > 0  # both copies hold the village
    assert all(text.count(name) >= n for name in NAMES)  # each placemark says its township
    done = runner.invoke(main, ["export", "infected_trees", "--village", "无此村", "-o", str(out), "--township",
                                str(apart / "county.toml")])
    assert done.exit_code == 2 and "nor in any other township" in done.stderr


def test_export_on_a_county_passes_over_a_township_without_the_layer(runner, tmp_path):
    root = county(tmp_path)
    toml = root / "west" / "township.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('[layers.outfalls]\npath = "outfalls.xlsx"\ncrs = "EPSG:4548"\n', ""),
                    encoding="utf-8")
    out = tmp_path / "outfalls.csv"
    done = runner.invoke(main, ["export", "outfalls", "-o", str(out), "--township", str(root / "county.toml")])
    assert done.exit_code == 0, done.stderr
    assert f"Note: {NAMES[1]}: the township has no layer 'outfalls'" in done.stderr  # passed over, not silently
    own = runner.invoke(main, ["export", "outfalls", "-o", str(tmp_path / "east.csv"), "--township",
                               str(root / "east")])
    assert own.exit_code == 0
    rows = pd.read_csv(out, encoding="utf-8-sig")
    assert set(rows["township"]) == {NAMES[0]} and len(rows) == len(pd.read_csv(tmp_path / "east.csv",
                                                                                   encoding="utf-8-sig"))


def test_a_township_that_does_not_hold_what_was_asked_for_is_passed_over(apart):
    """A tree id that only some townships hold: the others are neither an error nor a row."""
    from geo_township.county import run_county
    from geo_township.errors import NotFoundError
    from geo_township.results import Result

    def lookup(township):
        if township.config.name == NAMES[0]:
            raise NotFoundError("no tree 'X' in the layer or its history")
        return Result("History of tree X", pd.DataFrame({"action": ["felled"]}))

    result = run_county(load_county(apart / "county.toml"), lookup)
    assert result.table.to_dict("records") == [{"township": NAMES[1], "action": "felled"}]
    assert result.findings == []


@pytest.fixture(scope="module")
def one_broken(tmp_path_factory) -> Path:
    """A county of 好乡 (the sample) and 坏乡, whose trees file is missing."""
    root = tmp_path_factory.mktemp("broken") / "c"
    root.mkdir()
    township_copy(root / "good", "好乡")
    township_copy(root / "bad", "坏乡")
    (root / "bad" / "infected_trees.csv").unlink()
    (root / "county.toml").write_text('[county]\nname = "县"\ntownships = ["*"]\n', encoding="utf-8")
    return root


def test_a_township_that_fails_is_named_and_the_others_go_on(runner, one_broken):
    root = one_broken
    result = runner.invoke(main, ["trees", "--no-hotspots", "--township", str(root), "--format", "json"])
    assert result.exit_code == 1
    assert "坏乡" in result.stderr and "infected_trees.csv" in result.stderr
    tables = json.loads(result.stdout)["tables"]
    # the total is of 好乡 alone and says so, in every table written
    assert {r["township"] for r in tables["summary"]} == {"好乡", "Total (townships left out)"}
    assert any(f["check"] == "township_failed" and f["township"] == "坏乡" for f in tables["findings"])
    result = runner.invoke(main, ["trees", "--no-hotspots", "--township", str(root), "--lang", "zh"])
    assert result.exit_code == 1 and "警告：乡镇 坏乡" in result.stderr and "未计入" in result.stderr
    assert "合计（有乡镇未计入）" in result.stdout
    # area needs no trees: both townships, exit 0
    result = runner.invoke(main, ["area", "forest_plots", "--township", str(root), "--format", "json"])
    assert result.exit_code == 0, result.stderr


def _bad_county(tmp_path: Path, townships: str) -> Path:
    root = tmp_path / "c"
    if not root.exists():
        root.mkdir()
        township_copy(root / "a", "甲乡")
    (root / "county.toml").write_text(f'[county]\nname = "县"\ntownships = {townships}\n', encoding="utf-8")
    return root / "county.toml"


@pytest.mark.parametrize(("townships", "said", "said_zh"), [
    ('["a", "nowhere"]', "'nowhere': folder", "文件夹"),
    ('["a", "towns/*"]', "'towns/*' matches nothing", "没有匹配到任何文件夹"),
    ('["a", "empty"]', "has no township.toml", "没有 township.toml"),
])
def test_a_bad_county_file_gets_a_clear_message(runner, tmp_path, townships, said, said_zh):
    path = _bad_county(tmp_path, townships)
    (path.parent / "empty").mkdir(exist_ok=True)
    with pytest.raises(ConfigError) as caught:
        load_county(path)
    assert said in str(caught.value) and str(path) in str(caught.value) and "remove the entry" in str(caught.value) \
        or "point at the folder" in str(caught.value)
    result = runner.invoke(main, ["area", "forest_plots", "--township", str(path), "--lang", "zh"])
    assert result.exit_code == 2
    assert said_zh in result.stderr and "Traceback" not in result.stderr


def test_two_townships_of_the_same_name_are_refused(runner, tmp_path):
    path = _bad_county(tmp_path, '["a", "b"]')
    shutil.copytree(path.parent / "a", path.parent / "b")
    result = runner.invoke(main, ["area", "forest_plots", "--township", str(path)])
    assert result.exit_code == 2
    assert "both named '甲乡'" in result.stderr and "[township]" in result.stderr


def test_a_county_of_unreadable_toml_is_refused(runner, tmp_path):
    path = tmp_path / "county.toml"
    path.write_text("[county\nname=", encoding="utf-8")
    result = runner.invoke(main, ["area", "forest_plots", "--township", str(path)])
    assert result.exit_code == 2 and "not valid TOML" in result.stderr


def test_a_county_workbook_says_in_chinese_which_townships_it_pools(runner, apart, tmp_path):
    out = tmp_path / "全县.xlsx"
    result = runner.invoke(main, ["area", "forest_plots", "--township", str(apart), "--lang", "zh", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    sheets = pd.read_excel(out, sheet_name=None, header=None)
    summary = next(iter(sheets.values()))
    assert {"东岭乡", "西河乡", "合计"} <= set(summary.iloc[:, 0].astype(str))
    about = sheets["说明"].astype(str)
    assert (about.iloc[:, 0] == "县").any() and about.iloc[:, 0].str.startswith("全县各乡镇").any()


def test_headings_that_name_one_townships_dates_are_not_put_over_the_others(tmp_path):
    """Two townships whose data run to different dates: the trees table's "Due by DATE" heading
    of either would be wrong for the other's rows, so the county table keeps the general
    heading and each township's own is in the notes."""
    from county_copies import township_copy

    from geo_township.county import run_county
    from geo_township.trees import tree_counts

    root = tmp_path / "c"
    root.mkdir()
    township_copy(root / "a", "甲乡")
    township_copy(root / "b", "乙乡", dlat=0.5)
    toml = (root / "b" / "township.toml").read_text(encoding="utf-8")
    (root / "b" / "township.toml").write_text(toml.replace('data_date = "2023-04-30"', 'data_date = "2022-12-31"'),
                                              encoding="utf-8")
    (root / "county.toml").write_text('[county]\nname = "县"\ntownships = ["a", "b"]\n', encoding="utf-8")
    result = run_county(load_county(root / "county.toml"), tree_counts, hotspots=False)
    assert "due" not in result.labels and "due_cleared" not in result.labels
    headings = result.localised("en")[result.table_name].columns
    assert not any(str(h).startswith("Due by") for h in headings)
    notes = result.notes_in("en")
    assert any(n.startswith("甲乡: Due by 2023-03-31") for n in notes)
    assert any(n.startswith("乙乡: Due by 2022-03-31") for n in notes)


def test_a_township_in_layers_wins_over_a_county_file_in_the_working_folder(tmp_path):
    """The working folder's township is looked for as ./township.toml, then
    ./layers/township.toml; either wins over ./county.toml."""
    from county_copies import township_copy

    from geo_township.places import county_file

    (tmp_path / "county.toml").write_text('[county]\nname = "县"\ntownships = ["a"]\n', encoding="utf-8")
    assert county_file(cwd=tmp_path) == tmp_path / "county.toml"
    township_copy(tmp_path / "layers", "甲乡")
    assert county_file(cwd=tmp_path) is None


@pytest.fixture(scope="module")
def uneven(tmp_path_factory) -> Path:
    """Two townships that differ: the second keeps every third tree record only and has no
    sand-sites layer."""
    root = county(tmp_path_factory.mktemp("uneven"))
    west = root / "west"
    trees = pd.read_csv(west / "infected_trees.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    trees.iloc[::3].to_csv(west / "infected_trees.csv", index=False, encoding="utf-8-sig")
    toml = (west / "township.toml").read_text(encoding="utf-8")
    start = toml.index("[layers.sand_sites]")
    (west / "township.toml").write_text(toml[:start] + toml[toml.index("[layers.land_transfers]"):], encoding="utf-8")
    return root


def test_a_countys_report_is_its_townships_reports_and_their_sums(uneven):
    from geo_township.layers import load_township
    from geo_township.report import values_of, year_report
    from geo_township.report.county import county_year_report

    joined = county_year_report(load_county(uneven / "county.toml"), 2022)
    alone = {t: year_report(load_township(uneven / folder), 2022) for t, folder in zip(NAMES, ("east", "west"),
                                                                                         strict=True)}
    for name, own in alone.items():  # each township's rows are its own report, as it is alone
        rows = joined.table[joined.table["township"] == name].drop(columns="township").reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, own.table.reset_index(drop=True), check_dtype=False)
    county_values = values_of(joined)
    single = {t: values_of(r) for t, r in alone.items()}

    def parts(key: str) -> list[dict]:
        return [single[t][key]["value"] for t in NAMES]

    east, west = parts("cleared_trees")
    assert east["value"] != west["value"]  # the townships differ, so a sum is told from a double
    for key in ("cleared_trees", "cleared_trees_cumulative", "found_trees", "open_audit_findings"):
        assert county_values[key]["value"]["value"] == sum(p["value"] for p in parts(key)), key
    for key in ("farmland_transfer_mu", "new_afforestation_mu", "river_km"):
        assert county_values[key]["value"]["value"] == pytest.approx(sum(p["value"] for p in parts(key)), abs=0.011)
    rate = parts("clearance_rate")
    due, cleared = sum(p["due"] for p in rate), sum(p["due_cleared"] for p in rate)
    assert county_values["clearance_rate"]["value"]["value"] == pytest.approx(100 * cleared / due, abs=0.005)
    patrol = parts("patrol_coverage_pct")
    covered = sum(p["patrolled_km"] for p in patrol) / sum(p["length_km"] for p in patrol)
    assert county_values["patrol_coverage_pct"]["value"]["value"] == pytest.approx(100 * covered, abs=0.05)
    # a layer one township lacks: the county's number is missing, not the other township's alone
    assert single[NAMES[1]]["sand_closed"]["missing"] == "sand_sites"
    assert county_values["sand_closed"]["missing"] == "sand_sites"
    cleared_total = county_values["cleared_trees"]["value"]["value"]
    assert f"清理疫木{cleared_total:,}株" in joined.notes_in("zh")[0]


def test_a_countys_report_is_written_as_a_workbook_and_refuses_word(runner, uneven, tmp_path):
    place = str(uneven / "county.toml")
    result = runner.invoke(main, ["report", "--year", "2022", "--township", place, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["title"].startswith("青山县")
    assert data["indicators"]["cleared_trees"]["value"]["value"] > 0  # the county's own number
    assert "the county had in 2022" in data["paragraph"]["en"] and "the township" not in data["paragraph"]["en"]
    out = tmp_path / "report.xlsx"
    result = runner.invoke(main, ["report", "--year", "2022", "--township", place, "-o", str(out), "--lang", "zh"])
    assert result.exit_code == 0, result.stderr
    import openpyxl

    sheet = openpyxl.load_workbook(out).worksheets[0]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert {*NAMES, "合计"} <= {row[0] for row in rows}
    # every township's parts are named, also those the last township (no sand layer) lacks
    assert "机制砂企业" in {row[2] for row in rows if row[0] == NAMES[0]}


def test_a_countys_word_and_html_reports_hold_the_countys_numbers_and_map(runner, uneven, tmp_path):
    import base64
    import html
    import re

    from docx import Document
    from test_printmap import need_cjk_font

    need_cjk_font()
    place = str(uneven / "county.toml")
    numbers = json.loads(runner.invoke(main, ["report", "--year", "2022", "--format", "json", "--township",
                                              place]).stdout)["indicators"]
    out = tmp_path / "report.docx"
    result = runner.invoke(main, ["report", "--year", "2022", "--township", place, "-o", str(out), "--lang", "zh"])
    assert result.exit_code == 0, result.stderr
    doc = Document(str(out))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0].startswith("青山县")  # the county's title and paragraph, with the county's number
    assert f"清理疫木{numbers['cleared_trees']['value']['value']:,}株" in texts[1]
    headings = {t for p, t in zip(doc.paragraphs, texts, strict=True) if p.style.name.startswith("Heading")}
    assert {"指标", "图表", "地图", "方法与来源"} <= headings
    rows = [[c.text for c in r.cells] for r in doc.tables[0].rows]
    assert rows[0][:4] == ["乡镇", "指标", "分项", "2022年"]
    cleared = {r[0]: r[3] for r in rows if r[1] == "疫木清理"}  # each township's, then the county's
    assert list(cleared) == [*NAMES, "合计"]
    assert cleared["合计"] == f"{numbers['cleared_trees']['value']['value']:,}"
    images = [r for r in doc.part.rels.values() if "image" in r.reltype]
    assert len(images) >= 2 and all(r.target_part.blob.startswith(b"\x89PNG") for r in images)
    page_out = tmp_path / "report.html"
    result = runner.invoke(main, ["report", "--year", "2022", "--township", place, "-o", str(page_out)])
    assert result.exit_code == 0, result.stderr
    page = page_out.read_text(encoding="utf-8")
    charts = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert charts and all(base64.b64decode(c).startswith(b"\x89PNG") for c in charts)
    srcdoc = html.unescape(re.search(r'<iframe class=\'map\' title=\'map\' srcdoc="([^"]*)"', page)[1])
    assert "t0.township_border" in srcdoc and "t1.township_border" in srcdoc  # both townships on the map


@pytest.mark.parametrize("indicator", ["cleared_trees", "sand_closed", "clearance_rate"])
def test_the_features_behind_a_countys_number_are_every_townships_with_their_township(runner, uneven, tmp_path,
                                                                                       indicator):
    """--explain on a county: each township's own features behind the number, and their
    report_value sums to the county's number (the clearance rate's cleared trees each add
    100 ÷ the county's due trees, not the township's); a township without the layer (no sand
    sites in the second) adds none."""
    out = tmp_path / "behind.gpkg"
    done = runner.invoke(main, ["report", "--year", "2022", "--explain", indicator, "-o", str(out), "--township",
                                str(uneven / "county.toml")])
    assert done.exit_code == 0, done.stderr
    behind = gpd.read_file(out)
    county_number = json.loads(runner.invoke(main, ["report", "--year", "2022", "--format", "json", "--township",
                                                    str(uneven / "county.toml")]).stdout)["indicators"][indicator]
    if indicator == "sand_closed":  # the second township has no sand sites: the county's number is missing …
        assert county_number["missing"] == "sand_sites" and "value" not in county_number
        # … and the file holds the first township's, with a note naming the second
        assert f"Note: {NAMES[1]}: sand_closed needs the sand_sites layer" in done.stderr
    else:
        assert behind["report_value"].sum() == pytest.approx(county_number["value"]["value"])
    for name, folder in zip(NAMES, ("east", "west"), strict=True):
        mine = behind[behind["township"] == name]
        own_out = tmp_path / f"{folder}.gpkg"
        alone = runner.invoke(main, ["report", "--year", "2022", "--explain", indicator, "-o", str(own_out),
                                     "--township", str(uneven / folder)])
        if alone.exit_code == 2:  # the township lacks the layer: none of its features
            assert folder == "west" and indicator == "sand_closed" and len(mine) == 0
            continue
        own = gpd.read_file(own_out)
        assert len(mine) == len(own) > 0
        if indicator != "clearance_rate":  # a sum: each township's part is its own number
            assert mine["report_value"].sum() == pytest.approx(own["report_value"].sum())


def test_a_township_whose_layer_cannot_be_read_is_named_not_passed_over(runner, tmp_path):
    root = county(tmp_path)
    (root / "west" / "sand_sites.kml").write_text("<kml><broken", encoding="utf-8")
    out = tmp_path / "closed.gpkg"
    done = runner.invoke(main, ["report", "--year", "2022", "--explain", "sand_closed", "-o", str(out),
                                "--township", str(root / "county.toml")])
    assert done.exit_code == 1, done.stderr  # the others' features are written; the broken township is named
    assert NAMES[1] in done.stderr and "sand_sites" in done.stderr
    assert set(gpd.read_file(out)["township"]) == {NAMES[0]}
    done = runner.invoke(main, ["report", "--year", "2022", "--explain", "no_such_number", "-o", str(out),
                                "--township", str(root / "county.toml")])
    assert done.exit_code == 2 and "no indicator 'no_such_number'" in done.stderr


def test_a_countys_report_with_a_township_left_out_says_so_in_its_total(runner, one_broken):
    root = one_broken
    result = runner.invoke(main, ["report", "--year", "2022", "--township", str(root), "--format", "csv"])
    assert result.exit_code == 1 and "坏乡" in result.stderr
    rows = pd.read_csv(io.StringIO(result.stdout.lstrip("\ufeff")))
    assert set(rows["township"]) == {"好乡", "Total (townships left out)"}
    alone = runner.invoke(main, ["report", "--year", "2022", "--township", str(root / "good"), "--format", "json"])
    good = json.loads(alone.stdout)["indicators"]["cleared_trees"]["value"]["value"]
    total = rows[(rows["township"] != "好乡") & (rows["indicator"] == "Infected trees cleared")]
    assert total["value"].astype(int).tolist() == [good]


def test_a_countys_candidates_for_a_handheld_are_named_with_their_township(runner, with_rasters, tmp_path):
    out = tmp_path / "c.gpx"
    result = runner.invoke(main, ["candidates", "ndvi_2022", "ndvi_2023", "--save", str(out),
                                  "--township", str(with_rasters)])
    assert result.exit_code in (0, 1), result.stderr
    names = gpd.read_file(out, layer="waypoints")["name"].tolist()
    assert len(names) == len(set(names)) > 0  # ids restart per township: the township tells them apart
    assert {n.split(" ")[0] for n in names} == set(NAMES)
