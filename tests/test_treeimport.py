"""Merging field surveys into the trees layer: forward-only statuses, new trees, the
file's own format and words, idempotence, bad rows, history, GCJ-02, GeoPackage layers,
and atomicity when the process is killed mid-write."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from messy import kill_when_writing

from geo_township.crs import wgs84_to_gcj02
from geo_township.errors import CRSError, FieldError, UsageError
from geo_township.layers import load_township
from geo_township.treeimport import (
    date_style,
    format_date,
    import_survey,
    read_history,
    tree_history,
)

NOW = dt.datetime(2023, 4, 2, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def survey(folder: Path, text: str, name: str = "survey.csv") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def run(town_dir: Path, src: Path, **kw):
    return import_survey(load_township(town_dir), src, user="crew1", now=NOW, **kw)


def trees_of(town_dir: Path) -> pd.DataFrame:
    return load_township(town_dir).gdf("infected_trees").set_index("tree_id")


def counts(result) -> dict[str, int]:
    return dict(zip(result.table["action"], result.table["trees"], strict=True))


def test_forward_moves_and_new_trees_keep_the_files_words(tiny_township: Path):
    layer = tiny_township / "trees.csv"
    before = layer.read_bytes()
    src = survey(tiny_township, """
        编号,状态,采伐日期,清理日期,经度,纬度,备注
        T1,已清理,,2022/3/1,,,粉碎
        T2,已伐,2022-02-10,,,,
        T9,疑似,,,117.496,30.496,无人机
    """)
    r = run(tiny_township, src)
    assert counts(r)["advanced"] == 2 and counts(r)["added"] == 1
    after = layer.read_bytes()
    assert after.startswith(b"\xef\xbb\xbf")  # the BOM is kept
    text = after.decode("utf-8-sig").splitlines()
    assert text[0].startswith("编号,经度,纬度,状态,发现日期")  # same headers, new ones appended
    assert "采伐日期" in text[0] and "清理日期" in text[0] and "备注" in text[0]
    raw = pd.read_csv(layer, dtype=str, keep_default_na=False, encoding="utf-8-sig").set_index("编号")
    assert raw.loc["T1", "状态"] == "已清理" and raw.loc["T2", "状态"] == "已伐"  # Chinese words, not codes
    assert raw.loc["T3", "状态"] == "已清理" and raw.loc["T3", "发现日期"] == "2021-11-01"  # untouched rows stay
    assert raw.loc["T1", "备注"] == "粉碎"  # an unknown column is kept
    t = trees_of(tiny_township)
    assert t.loc["T1", "status"] == "cleared" and t.loc["T1", "cleared_date"] == pd.Timestamp("2022-03-01")
    assert t.loc["T2", "felled_date"] == pd.Timestamp("2022-02-10")
    assert t.loc["T9", "status"] == "suspected"
    p = gpd.GeoSeries([t.loc["T9", "geometry"]], crs=t.crs if hasattr(t, "crs") else None)
    lonlat = gpd.GeoSeries(p.values, crs=load_township(tiny_township).working_crs).to_crs(4490).iloc[0]
    assert lonlat.x == pytest.approx(117.496, abs=1e-7) and lonlat.y == pytest.approx(30.496, abs=1e-7)
    assert before != after


def test_backward_move_is_refused_unless_allowed(tiny_township: Path):
    layer = tiny_township / "trees.csv"
    before = layer.read_bytes()
    src = survey(tiny_township, """
        编号,状态
        T3,已伐
    """)
    r = run(tiny_township, src)
    assert counts(r)["refused"] == 1
    refused = [f for f in r.findings if f.check == "status_backward"]
    assert refused and refused[0].feature == "T3" and "cleared → felled" in refused[0].message
    assert layer.read_bytes() == before
    r = run(tiny_township, src, allow_regress=True)
    assert counts(r).get("regressed") == 1
    assert trees_of(tiny_township).loc["T3", "status"] == "felled"


def test_second_import_changes_nothing(tiny_township: Path):
    src = survey(tiny_township, """
        编号,状态,清理日期,经度,纬度,备注
        T1,已清理,2022-03-01,,,done
        T9,已确认,,117.497,30.497,
    """)
    run(tiny_township, src)
    layer, hist = tiny_township / "trees.csv", tiny_township / "trees.csv.history.csv"
    snapshot = layer.read_bytes(), hist.read_bytes(), layer.stat().st_mtime_ns
    r = run(tiny_township, src)
    assert counts(r)["unchanged"] == 2 and counts(r)["added"] == 0 and counts(r)["advanced"] == 0
    assert (layer.read_bytes(), hist.read_bytes(), layer.stat().st_mtime_ns) == snapshot


def test_one_bad_row_rejects_the_whole_file(tiny_township: Path):
    layer = tiny_township / "trees.csv"
    before = layer.read_bytes()
    src = survey(tiny_township, """
        编号,状态,清理日期,经度,纬度
        T1,已清理,2022-03-01,,
        T2,砍了一半,,,
        T8,疑似,,,
        T1,已核查,,,
    """)
    with pytest.raises(FieldError) as err:
        run(tiny_township, src)
    msg = str(err.value)
    assert "line 3" in msg and "砍了一半" in msg  # the unknown status word, by its line in Excel
    assert "line 4" in msg and "T8" in msg and "no coordinates" in msg  # a new tree needs a location
    assert "line 2" in msg and "line 5" in msg and "appears on lines 2, 5" in msg  # a repeated id
    assert layer.read_bytes() == before
    assert not (tiny_township / "trees.csv.history.csv").exists()


def test_skip_bad_imports_the_rest_and_lists_the_skipped(tiny_township: Path):
    src = survey(tiny_township, """
        编号,状态,清理日期
        T1,已清理,2022-03-01
        T2,已伐,2022-13-45
    """)
    r = run(tiny_township, src, skip_bad=True)
    assert counts(r)["advanced"] == 1 and counts(r)["skipped"] == 1
    skipped = [f for f in r.findings if f.check == "skipped"]
    assert skipped[0].feature == "line 3" and "2022-13-45" in skipped[0].message
    t = trees_of(tiny_township)
    assert t.loc["T1", "status"] == "cleared" and t.loc["T2", "status"] == "suspected"


def test_dates_before_the_previous_event_are_reported(tiny_township: Path):
    src = survey(tiny_township, """
        编号,状态,采伐日期
        T2,已伐,2021-12-01
    """)
    r = run(tiny_township, src)  # T2 was found 2022-01-05
    warn = [f for f in r.findings if f.check == "date_before_previous_event"]
    assert warn and warn[0].feature == "T2" and "found_date 2022-01-05" in warn[0].message
    assert trees_of(tiny_township).loc["T2", "status"] == "felled"  # reported, still applied


def test_history_is_append_only_and_shown_per_tree(tiny_township: Path):
    run(tiny_township, survey(tiny_township, """
        编号,状态
        T2,已确认
    """, "a.csv"))
    hist = tiny_township / "trees.csv.history.csv"
    first = hist.read_bytes()
    run(tiny_township, survey(tiny_township, """
        编号,状态,采伐日期
        T2,已伐,2022-02-01
    """, "b.csv"))
    assert hist.read_bytes().startswith(first)  # old rows untouched
    h = read_history(tiny_township / "trees.csv")
    mine = h[h["tree_id"] == "T2"]
    assert list(mine["field"]) == ["status", "status", "felled_date"]
    assert list(mine["old"]) == ["suspected", "confirmed", ""]
    assert list(mine["new"]) == ["confirmed", "felled", "2022-02-01"]
    assert set(mine["user"]) == {"crew1"} and mine["source"].iloc[0].endswith("a.csv")
    assert mine["time"].iloc[0] == "2023-04-02T09:30:00+08:00"
    shown = tree_history(load_township(tiny_township), "T2")
    assert len(shown.table) == 3 and "status felled" in shown.notes[0]


def test_dry_run_writes_nothing(tiny_township: Path):
    layer = tiny_township / "trees.csv"
    before = layer.read_bytes()
    r = run(tiny_township, survey(tiny_township, "编号,状态\nT2,已伐\n"), dry_run=True)
    assert counts(r)["advanced"] == 1 and "dry run" in r.notes[-1]
    assert layer.read_bytes() == before and not (tiny_township / "trees.csv.history.csv").exists()


def test_from_gcj02_puts_amap_points_back(tiny_township: Path):
    true_lon, true_lat = 117.4987, 30.4962
    glon, glat = wgs84_to_gcj02(true_lon, true_lat)
    assert abs(glon - true_lon) > 1e-3  # a real shift, hundreds of metres
    src = survey(tiny_township, f"编号,状态,经度,纬度\nT7,疑似,{float(glon):.8f},{float(glat):.8f}\n")
    run(tiny_township, src, from_gcj02=True)
    town = load_township(tiny_township)
    p = town.gdf("infected_trees").set_index("tree_id").geometry.to_crs(4490).loc["T7"]
    assert p.x == pytest.approx(true_lon, abs=6e-7) and p.y == pytest.approx(true_lat, abs=6e-7)  # 6 decimals


def test_date_styles_follow_the_file():
    assert date_style(pd.Series(["2021/10/3", "2022/1/15", ""])) == ("%Y/%m/%d", False)
    assert date_style(pd.Series(["2021-10-03", "2022-01-15"])) == ("%Y-%m-%d", True)
    assert date_style(pd.Series(["2021年10月3日"])) == ("%Y年%m月%d日", False)
    day = pd.Timestamp("2023-03-05")
    assert format_date(day, ("%Y/%m/%d", False)) == "2023/3/5"
    assert format_date(day, ("%Y-%m-%d", True)) == "2023-03-05"
    assert format_date(day, ("%Y年%m月%d日", False)) == "2023年3月5日"


def test_csv_with_slash_dates_gets_slash_dates(tmp_path: Path):
    pd.DataFrame({"编号": ["A1"], "经度": [117.5], "纬度": [30.5], "状态": ["已伐"], "发现日期": ["2021/10/3"],
                  "采伐日期": ["2021/11/4"], "清理日期": [""]}).to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "township.toml").write_text('[township]\nname = "x"\n[layers.infected_trees]\npath = "t.csv"\n',
                                            encoding="utf-8")
    import_survey(load_township(tmp_path), survey(tmp_path, "编号,状态,清理日期\nA1,已清理,2022-03-09\n"))
    raw = (tmp_path / "t.csv").read_text(encoding="utf-8")
    assert raw.splitlines()[1] == "A1,117.5,30.5,已清理,2021/10/3,2021/11/4,2022/3/9"
    assert not raw.startswith("\ufeff")  # no BOM added where there was none


def gpkg_township(folder: Path) -> Path:
    gdf = gpd.GeoDataFrame({"tree_id": ["G1", "G2"], "status": ["confirmed", "felled"],
                            "found_date": pd.to_datetime(["2022-10-01", "2022-10-02"])},
                           geometry=gpd.points_from_xy([117.50, 117.51], [30.50, 30.51]), crs=4490)
    gdf.to_file(folder / "trees.gpkg", layer="trees")
    (folder / "township.toml").write_text('[township]\nname = "x"\n[layers.infected_trees]\npath = "trees.gpkg"\n'
                                          'layer = "trees"\n', encoding="utf-8")
    return folder


def test_geopackage_layer_keeps_history_inside(tmp_path: Path):
    import pyogrio

    gpkg_township(tmp_path)
    src = survey(tmp_path, "tree_id,status,cleared_date,lon,lat\nG2,cleared,2023-01-05,,\nG3,suspected,,117.52,30.52\n")
    r = run(tmp_path, src)
    assert counts(r)["advanced"] == 1 and counts(r)["added"] == 1
    layers = [str(n) for n, _ in pyogrio.list_layers(tmp_path / "trees.gpkg")]
    assert "trees" in layers and "trees_history" in layers
    t = trees_of(tmp_path)
    assert t.loc["G2", "status"] == "cleared" and t.loc["G2", "cleared_date"] == pd.Timestamp("2023-01-05")
    assert "G3" in t.index
    h = read_history(tmp_path / "trees.gpkg", "trees")
    assert set(h["tree_id"]) == {"G2", "G3"}
    r = run(tmp_path, src)
    assert counts(r)["unchanged"] == 2
    assert len(read_history(tmp_path / "trees.gpkg", "trees")) == len(h)


def test_shapefile_layers_are_refused_with_a_way_out(tiny_township: Path):
    (tiny_township / "township.toml").write_text(
        '[township]\nname = "x"\n[layers.infected_trees]\npath = "pts.shp"\n', encoding="utf-8")
    gpd.GeoDataFrame({"tree_id": ["S1"], "status": ["confirmed"]}, geometry=gpd.points_from_xy([117.5], [30.5]),
                     crs=4490).to_file(tiny_township / "pts.shp")
    with pytest.raises(UsageError, match="GeoPackage"):
        run(tiny_township, survey(tiny_township, "tree_id,status\nS1,felled\n"))


# --------------------------------------------------------------------------- killed mid-write

HOOK = """
import os, sys, time
import pyogrio
import geo_township.treeimport.history as ti

stage, marker = os.environ["CRASH_STAGE"], os.environ["CRASH_MARKER"]

def wait_to_be_killed():
    open(marker, "w").close()
    time.sleep(120)

def half_then_hang(path, data, _orig=ti._write_bytes):
    is_history = ".history" in os.path.basename(path)
    if (stage == "history") == is_history:
        with open(path, "wb") as fh:
            fh.write(data[: len(data) // 2])
            fh.flush()
            os.fsync(fh.fileno())
        wait_to_be_killed()
    _orig(path, data)

def write_then_hang(*args, _orig=pyogrio.write_dataframe, **kwargs):
    _orig(*args, **kwargs)
    wait_to_be_killed()

ti._write_bytes = half_then_hang
pyogrio.write_dataframe = write_then_hang
from geo_township.cli import main
main(sys.argv[1:])
"""


def kill_mid_write(town: Path, src: Path, stage: str, tmp_path: Path) -> None:
    marker = tmp_path / f"writing-{stage}"
    env = {**os.environ, "CRASH_STAGE": stage, "CRASH_MARKER": str(marker)}
    proc = subprocess.Popen([sys.executable, "-c", HOOK, "import", str(src), "--township", str(town)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    kill_when_writing(proc, marker)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("stage", ["history", "layer"])
def test_killed_mid_write_leaves_the_old_csv(tiny_township: Path, tmp_path: Path, stage: str):
    layer = tiny_township / "trees.csv"
    before = layer.read_bytes()
    src = survey(tiny_township, "编号,状态,清理日期\nT1,已清理,2022-03-01\nT2,已确认,\n")
    kill_mid_write(tiny_township, src, stage, tmp_path)
    assert layer.read_bytes() == before
    t = trees_of(tiny_township)  # still opens, with the old content
    assert t.loc["T1", "status"] == "felled" and t.loc["T2", "status"] == "suspected"
    hist = tiny_township / "trees.csv.history.csv"
    if stage == "history":
        assert not hist.exists()
    else:  # written first, so no change can reach the layer without its history …
        assert len(read_history(layer)) == 3  # … but these three changes never reached the layer
    r = run(tiny_township, src)  # the import can simply be run again
    assert counts(r)["advanced"] == 2
    assert trees_of(tiny_township).loc["T1", "status"] == "cleared"
    h = read_history(layer)
    assert len(h) == 3 and h["import_id"].nunique() == 1  # the killed import's rows are gone, no duplicates
    assert list(h["field"]) == ["status", "cleared_date", "status"]
    repaired = [f for f in r.findings if f.check == "history_repaired"]
    assert bool(repaired) == (stage == "layer")
    if repaired:
        assert "never reached trees.csv" in repaired[0].message


def test_history_of_a_killed_import_is_removed_by_trees_history(tiny_township: Path, tmp_path: Path):
    layer = tiny_township / "trees.csv"
    run(tiny_township, survey(tiny_township, "编号,状态\nT2,已确认\n", "first.csv"))  # a complete import
    first = read_history(layer)
    src = survey(tiny_township, "编号,状态,清理日期\nT1,已清理,2022-03-01\n")
    kill_mid_write(tiny_township, src, "layer", tmp_path)
    assert len(read_history(layer)) == len(first) + 2  # the phantom rows
    shown = tree_history(load_township(tiny_township), "T1")
    assert len(shown.table) == 0  # T1 never changed
    assert [f.check for f in shown.findings] == ["history_repaired"]
    after = read_history(layer)
    pd.testing.assert_frame_equal(after, first)  # the complete import's rows are kept as they were
    assert trees_of(tiny_township).loc["T2", "status"] == "confirmed"
    # the layer was then edited by hand: the history is left alone
    layer.write_bytes(layer.read_bytes().replace("已伐".encode(), "已清理".encode()))
    shown = tree_history(load_township(tiny_township), "T2")
    assert len(read_history(layer)) == len(first) and "changed by other means" in " ".join(shown.notes)


def test_dry_run_reports_a_killed_import_but_changes_nothing(tiny_township: Path, tmp_path: Path):
    layer = tiny_township / "trees.csv"
    src = survey(tiny_township, "编号,状态\nT2,已确认\n")
    kill_mid_write(tiny_township, src, "layer", tmp_path)
    hist = tiny_township / "trees.csv.history.csv"
    before = hist.read_bytes()
    r = run(tiny_township, src, dry_run=True)
    assert [f.check for f in r.findings] == ["history_repaired"] and "dry run" in r.findings[0].message
    assert hist.read_bytes() == before
    assert len(read_history(layer)) == 1


def test_a_history_without_import_ids_is_kept_and_extended(tiny_township: Path):
    hist = tiny_township / "trees.csv.history.csv"
    hist.write_text("time,user,source,tree_id,action,field,old,new\n"
                    "2023-01-01T08:00:00+08:00,old,/x/a.csv,T2,advanced,status,suspected,confirmed\n",
                    encoding="utf-8-sig")
    run(tiny_township, survey(tiny_township, "编号,状态\nT1,已清理\n"))
    h = read_history(tiny_township / "trees.csv")
    assert list(h["user"]) == ["old", "crew1"] and list(h["import_id"].astype(bool)) == [False, True]
    assert h.loc[0, "new"] == "confirmed"


def test_killed_mid_write_leaves_the_old_geopackage(tmp_path: Path):
    import pyogrio

    (tmp_path / "town").mkdir()
    town = gpkg_township(tmp_path / "town")
    gpkg = town / "trees.gpkg"
    before = gpkg.read_bytes()
    src = survey(town, "tree_id,status\nG1,felled\n")
    kill_mid_write(town, src, "gpkg", tmp_path)
    assert gpkg.read_bytes() == before
    assert "trees_history" not in [str(n) for n, _ in pyogrio.list_layers(gpkg)]
    assert trees_of(town).loc["G1", "status"] == "confirmed"


def test_xlsx_and_kml_surveys(tiny_township: Path):
    xlsx = tiny_township / "crew.xlsx"
    pd.DataFrame({"编号": ["T2"], "状态": ["已确认"], "确认日期": ["2022-01-20"]}).to_excel(xlsx, index=False)
    assert counts(run(tiny_township, xlsx))["advanced"] == 1
    kml = tiny_township / "drone.kml"
    gpd.GeoDataFrame({"Name": ["K1"], "状态": ["疑似"], "发现日期": ["2023-04-01"]},
                     geometry=gpd.points_from_xy([117.4991], [30.4992]), crs=4326).to_file(kml, driver="LIBKML")
    r = run(tiny_township, kml)
    assert counts(r)["added"] == 1
    t = trees_of(tiny_township)
    assert t.loc["T2", "status"] == "confirmed" and t.loc["T2", "confirmed_date"] == pd.Timestamp("2022-01-20")
    assert t.loc["K1", "found_date"] == pd.Timestamp("2023-04-01")


# --------------------------------------------------------------------------- coordinates of surveys


def gk(lon: float, lat: float, epsg: int) -> tuple[float, float]:
    """Projected coordinates computed here with pyproj, independently of the import."""
    from pyproj import Transformer

    return Transformer.from_crs(4490, epsg, always_xy=True).transform(lon, lat)


def lonlat_of(town_dir: Path, tree_id: str) -> tuple[float, float]:
    p = load_township(town_dir).gdf("infected_trees").set_index("tree_id").geometry.to_crs(4490).loc[tree_id]
    return p.x, p.y


def with_default_crs(town_dir: Path, extra: str = "") -> None:
    """The township says crs = "EPSG:4490" (as the sample does): the default the old import fell back to."""
    toml = town_dir / "township.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('name_en = "Test Township"\n',
                                                             'name_en = "Test Township"\ncrs = "EPSG:4490"\n' + extra),
                    encoding="utf-8")


def test_six_digit_gk_survey_needs_its_zone(tiny_township: Path):
    with_default_crs(tiny_township)
    layer = tiny_township / "trees.csv"
    before = layer.read_bytes()
    x, y = gk(117.497, 30.497, 4548)
    xlsx = tiny_township / "crew.xlsx"
    pd.DataFrame({"编号": ["NEW-X1"], "状态": ["疑似"], "东坐标": [round(x, 3)], "北坐标": [round(y, 3)]}).to_excel(
        xlsx, index=False)
    with pytest.raises(CRSError) as err:
        run(tiny_township, xlsx)
    msg = str(err.value)
    assert "crew.xlsx" in msg and "gk_zone" in msg and "--crs EPSG:4548" in msg
    assert layer.read_bytes() == before  # metres were not written as degrees
    r = run(tiny_township, xlsx, crs="EPSG:4548")
    assert counts(r)["added"] == 1
    lon, lat = lonlat_of(tiny_township, "NEW-X1")
    assert lon == pytest.approx(117.497, abs=1e-6) and lat == pytest.approx(30.497, abs=1e-6)
    assert load_township(tiny_township).gdf("infected_trees").shape[0] == 4  # the layer still loads


def test_six_digit_gk_survey_with_gk_zone_in_township_toml(tiny_township: Path):
    with_default_crs(tiny_township, "gk_zone = 117\n")
    x, y = gk(117.4975, 30.4975, 4548)
    run(tiny_township, survey(tiny_township, f"编号,状态,X,Y\nNEW-X2,疑似,{x:.3f},{y:.3f}\n"))
    lon, lat = lonlat_of(tiny_township, "NEW-X2")
    assert lon == pytest.approx(117.4975, abs=1e-6) and lat == pytest.approx(30.4975, abs=1e-6)


def test_eight_digit_gk_survey_carries_its_zone(tiny_township: Path):
    with_default_crs(tiny_township)
    x, y = gk(117.498, 30.498, 4527)  # zone 39, eastings with the zone prefix
    assert 39_000_000 < x < 40_000_000
    run(tiny_township, survey(tiny_township, f"编号,状态,东坐标,北坐标\nNEW-X3,疑似,{x:.3f},{y:.3f}\n"))
    lon, lat = lonlat_of(tiny_township, "NEW-X3")
    assert lon == pytest.approx(117.498, abs=1e-6) and lat == pytest.approx(30.498, abs=1e-6)


def test_surveyors_x_north_y_east_is_swapped(tiny_township: Path):
    with_default_crs(tiny_township)
    x, y = gk(117.4985, 30.4985, 4548)
    # Chinese surveyors' X is the northing and Y the easting
    run(tiny_township, survey(tiny_township, f"编号,状态,X,Y\nNEW-X4,疑似,{y:.3f},{x:.3f}\n"), crs="EPSG:4548")
    lon, lat = lonlat_of(tiny_township, "NEW-X4")
    assert lon == pytest.approx(117.4985, abs=1e-6) and lat == pytest.approx(30.4985, abs=1e-6)


def test_metres_under_longitude_headings_are_not_degrees(tiny_township: Path):
    with_default_crs(tiny_township)
    layer = tiny_township / "trees.csv"
    before = layer.read_bytes()
    with pytest.raises(CRSError, match="survey.csv"):
        run(tiny_township, survey(tiny_township, "编号,状态,经度,纬度\nNEW-X5,疑似,547713.2,3375314.2\n"))
    assert layer.read_bytes() == before


def test_new_trees_far_from_the_township_are_bad_rows(tiny_township: Path):
    layer = tiny_township / "trees.csv"
    before = layer.read_bytes()
    src = survey(tiny_township, "编号,状态,经度,纬度\nNEW-1,疑似,117.497,30.497\nNEW-2,疑似,118.6,30.497\n")
    with pytest.raises(FieldError) as err:
        run(tiny_township, src)
    assert "line 3" in str(err.value) and "km outside the township" in str(err.value)
    assert layer.read_bytes() == before
    r = run(tiny_township, src, skip_bad=True)
    assert counts(r)["added"] == 1 and counts(r)["skipped"] == 1
    assert "NEW-2" not in trees_of(tiny_township).index


def test_far_survey_coordinates_of_a_known_tree_are_reported(tiny_township: Path):
    # T2 is stored at 117.505, 30.495; the survey says 0.002° (≈190 m) further east
    r = run(tiny_township,
            survey(tiny_township, "编号,状态,经度,纬度\nT2,已确认,117.507,30.495\nT1,已伐,117.4951,30.495\n"))
    moved = [f for f in r.findings if f.check == "survey_location_differs"]
    assert [f.feature for f in moved] == ["T2"] and "192 m" in moved[0].message  # T1 is 10 m off: no warning
    lon, lat = lonlat_of(tiny_township, "T2")
    assert (lon, lat) == (pytest.approx(117.505, abs=1e-7), pytest.approx(30.495, abs=1e-7))  # the stored one is kept


def test_kml_survey_without_names_adds_no_id_column(tiny_township: Path):
    kml = tiny_township / "s3.kml"
    gpd.GeoDataFrame({"编号": ["T2", "K2"], "状态": ["已确认", "疑似"], "发现日期": ["", "2023-04-02"]},
                     geometry=gpd.points_from_xy([117.505, 117.4993], [30.495, 30.4994]), crs=4326).to_file(
        kml, driver="LIBKML")
    assert "s3.1" in kml.read_text(encoding="utf-8")  # LIBKML numbers the placemarks
    r = run(tiny_township, kml)
    assert counts(r)["added"] == 1 and counts(r)["advanced"] == 1
    header = (tiny_township / "trees.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert "id" not in header and "Name" not in header
    assert not (r.tables["changes"]["field"] == "id").any()


def test_kml_without_names_or_ids_is_refused(tiny_township: Path):
    kml = tiny_township / "drone.kml"
    gpd.GeoDataFrame({"状态": ["疑似"]}, geometry=gpd.points_from_xy([117.4993], [30.4994]), crs=4326).to_file(
        kml, driver="LIBKML")
    with pytest.raises(FieldError, match="no names and no tree id"):
        run(tiny_township, kml)


def test_allow_regress_empties_the_dates_of_the_events_undone(tiny_township: Path):
    run(tiny_township, survey(tiny_township, "编号,状态,清理日期,核查日期\nT1,已核查,2022-03-01,2022-04-01\n", "a.csv"))
    r = run(tiny_township, survey(tiny_township, "编号,状态\nT1,已伐\n", "b.csv"), allow_regress=True)
    assert counts(r).get("regressed") == 1
    raw = pd.read_csv(tiny_township / "trees.csv", dtype=str, keep_default_na=False,
                      encoding="utf-8-sig").set_index("编号")
    assert raw.loc["T1", "状态"] == "已伐" and raw.loc["T1", "清理日期"] == "" and raw.loc["T1", "核查日期"] == ""
    t = trees_of(tiny_township)
    assert pd.isna(t.loc["T1", "cleared_date"]) and pd.isna(t.loc["T1", "verified_date"])
    h = read_history(tiny_township / "trees.csv")
    mine = h[h["source"].str.endswith("b.csv")]
    assert set(zip(mine["field"], mine["old"], mine["new"], strict=True)) == {
        ("status", "verified", "felled"), ("cleared_date", "2022-03-01", ""), ("verified_date", "2022-04-01", "")}


def test_allow_regress_on_a_geopackage_layer(tmp_path: Path):
    gpkg_township(tmp_path)
    run(tmp_path, survey(tmp_path, "tree_id,status,cleared_date\nG2,cleared,2023-01-05\n", "a.csv"))
    run(tmp_path, survey(tmp_path, "tree_id,status\nG2,confirmed\n", "b.csv"), allow_regress=True)
    t = trees_of(tmp_path)
    assert t.loc["G2", "status"] == "confirmed" and pd.isna(t.loc["G2", "cleared_date"])


def test_a_status_without_its_date_is_reported(tiny_township: Path):
    r = run(tiny_township, survey(tiny_township, "编号,状态,清理日期\nT2,已核查,2023-01-01\nT1,已清理,2022-03-01\n"))
    warned = {f.feature: f.message for f in r.findings if f.check == "status_without_date"}
    assert set(warned) == {"T2"} and "verified_date (核查日期)" in warned["T2"]  # T1 has its date
    r = run(tiny_township, survey(tiny_township, "编号,状态,经度,纬度\nT8,已伐,117.4992,30.4992\n", "new.csv"))
    assert {f.feature for f in r.findings if f.check == "status_without_date"} == {"T8"}


def test_new_trees_go_into_a_layer_with_surveyors_xy_the_right_way_round(tiny_township: Path):
    # The trees file writes X = northing, Y = easting (GK zone 39 with prefix): a new tree must be
    # written the same way round, or the layer no longer reads back.
    trees = pd.DataFrame({"编号": ["T1", "T2"], "状态": ["已伐", "疑似"], "发现日期": ["2021-10-03", "2022-01-05"]})
    east, north = zip(*(gk(lon, 30.495, 4527) for lon in (117.495, 117.505)), strict=True)
    trees["X"], trees["Y"] = [f"{v:.2f}" for v in north], [f"{v:.2f}" for v in east]
    trees.to_csv(tiny_township / "trees.csv", index=False, encoding="utf-8-sig")
    run(tiny_township, survey(tiny_township, "编号,状态,经度,纬度\nNEW-1,疑似,117.497,30.497\n"))
    lon, lat = lonlat_of(tiny_township, "NEW-1")
    assert lon == pytest.approx(117.497, abs=1e-6) and lat == pytest.approx(30.497, abs=1e-6)
    x, y = gk(117.497, 30.497, 4527)
    row = pd.read_csv(tiny_township / "trees.csv", dtype=str).set_index("编号").loc["NEW-1"]
    assert float(row["X"]) == pytest.approx(y, abs=0.1) and float(row["Y"]) == pytest.approx(x, abs=0.1)


def test_xlsx_survey_names_the_excel_line_after_an_empty_row(tiny_township: Path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["编号", "状态"])
    ws.append(["T2", "已确认"])
    ws.append([None, None])
    ws.append(["T1", "砍了"])
    xlsx = tiny_township / "crew.xlsx"
    wb.save(xlsx)
    with pytest.raises(FieldError, match="line 4: 状态 “砍了” is not a status word"):
        run(tiny_township, xlsx)
