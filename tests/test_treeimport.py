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
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geo_township.crs import wgs84_to_gcj02
from geo_township.errors import FieldError, UsageError
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
import geo_township.treeimport as ti

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
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the import never reached the write"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
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
    else:  # written first, so no change can reach the layer without its history
        assert len(read_history(layer)) == 3
    r = run(tiny_township, src)  # the import can simply be run again
    assert counts(r)["advanced"] == 2
    assert trees_of(tiny_township).loc["T1", "status"] == "cleared"


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
