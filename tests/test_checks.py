"""`check` finds what it should: geometry, duplicates, dates, outside, GCJ-02, encoding, overlaps."""

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Polygon, box

from geo_township.checks import check_township
from geo_township.crs import wgs84_to_gcj02
from geo_township.layers import load_township


def codes(result, layer=None):
    return {(f.check, f.feature) for f in result.findings if layer is None or f.layer == layer}


def test_clean_tiny_township_has_no_errors(tiny_township):
    result = check_township(load_township(tiny_township))
    assert not result.has_errors
    # T3 lies about 8.6 km east of the villages
    assert ("outside_township", "T3") in codes(result)
    assert result.table.set_index("layer").loc["infected_trees", "warnings"] >= 1


def test_errors_are_found(tmp_path):
    bowtie = Polygon([(117.49, 30.49), (117.50, 30.50), (117.50, 30.49), (117.49, 30.50)])
    gpd.GeoDataFrame({"村名": ["甲村", "乙村", "乙村"]},
                     geometry=[bowtie, box(117.5, 30.49, 117.51, 30.5), box(117.505, 30.49, 117.515, 30.5)],
                     crs=4490).to_file(tmp_path / "v.gpkg")
    pd.DataFrame({"编号": ["a", "a", "b", "c"], "经度": [117.495, 117.496, 117.505, 117.505],
                  "纬度": [30.495, 30.495, 30.495, 30.496], "状态": ["已清理", "已伐", "已伐", "已确认"],
                  "发现日期": ["2022-03-01", "2022-01-01", "2022-03-01", "2024-01-01"],
                  "采伐日期": ["2022-02-01", "2022-01-05", "", ""], "清理日期": ["2022-02-10", "", "", ""]}
                 ).to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "township.toml").write_text(
        '[township]\nname = "x"\ndata_date = "2023-04-30"\n[layers.villages]\npath = "v.gpkg"\n'
        '[layers.infected_trees]\npath = "t.csv"\n', encoding="utf-8")
    result = check_township(load_township(tmp_path))
    found = codes(result)
    assert ("invalid_geometry", "甲村") in found
    assert ("duplicate_id", "乙村") in found
    assert ("duplicate_id", "a") in found
    assert ("date_order", "a") in found  # felled 2022-02-01 before found 2022-03-01
    assert ("status_without_date", "b") in found  # felled without a felled date
    assert ("future_date", "c") in found
    assert any(c == "overlapping_polygons" for c, _ in found)  # the two 乙村 polygons overlap by half
    assert result.has_errors


def test_gcj02_shift_is_suspected(tmp_path):
    rng = np.random.default_rng(3)
    plots = [box(117.49 + i * 0.002, 30.49, 117.49 + i * 0.002 + 0.0012, 30.5) for i in range(10)]
    gpd.GeoDataFrame({"村名": ["甲村"]}, geometry=[box(117.48, 30.48, 117.52, 30.51)], crs=4490
                     ).to_file(tmp_path / "v.gpkg")
    gpd.GeoDataFrame({"小班号": [str(i) for i in range(10)]}, geometry=plots, crs=4490).to_file(tmp_path / "p.gpkg")
    # true positions inside the narrow plots, then written as an AMap user would copy them
    i = rng.integers(0, 10, 300)
    lon = 117.49 + i * 0.002 + rng.uniform(0.0002, 0.001, 300)
    lat = rng.uniform(30.491, 30.499, 300)
    glon, glat = wgs84_to_gcj02(lon, lat)
    pd.DataFrame({"编号": [f"t{k}" for k in range(300)], "经度": glon, "纬度": glat, "状态": "已确认"}
                 ).to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "township.toml").write_text(
        '[township]\nname = "x"\n[layers.villages]\npath = "v.gpkg"\n[layers.forest_plots]\npath = "p.gpkg"\n'
        '[layers.infected_trees]\npath = "t.csv"\n', encoding="utf-8")
    result = check_township(load_township(tmp_path))
    assert any(f.check == "gcj02_shift" and f.layer == "infected_trees" for f in result.findings)


def test_unreadable_layer_is_one_error_not_a_crash(tiny_township):
    (tiny_township / "trees.csv").write_bytes("编号,经度,纬度\n".encode() + "Café,117.5,30.5\n".encode("latin-1"))
    result = check_township(load_township(tiny_township))
    unreadable = [f for f in result.findings if f.check == "unreadable"]
    assert len(unreadable) == 1 and "UTF-8" in unreadable[0].message
    assert result.table.set_index("layer").loc["villages", "errors"] == 0


def test_garbled_text_is_flagged(tmp_path):
    gpd.GeoDataFrame({"村名": ["青溪村".encode().decode("latin1")]}, geometry=[box(117.49, 30.49, 117.5, 30.5)],
                     crs=4490).to_file(tmp_path / "v.gpkg")
    (tmp_path / "township.toml").write_text('[township]\nname = "x"\n[layers.villages]\npath = "v.gpkg"\n',
                                            encoding="utf-8")
    result = check_township(load_township(tmp_path))
    assert any(f.check == "encoding" for f in result.findings)


def test_findings_in_chinese(tiny_township):
    result = check_township(load_township(tiny_township))
    zh = result.localised("zh")["findings"]
    row = zh[zh["要素"] == "T3"].iloc[0]
    assert row["检查项"] == "位于乡镇范围外" and "米" in row["说明"] and "outside" not in row["说明"]
    en = result.localised("en")["findings"]
    assert en[en["Feature"] == "T3"].iloc[0]["Check"] == "outside_township"


def test_rows_left_out_and_missing_files_are_findings(tiny_township):
    pd.DataFrame({"编号": ["T1", "T2", "T3"], "经度": [117.495, 117.505, 117.5], "纬度": [30.495, 30.495, 30.9],
                  "状态": "已伐"}).to_csv(tiny_township / "trees.csv", index=False)
    (tiny_township / "plots.shp").unlink()
    result = check_township(load_township(tiny_township))
    assert result.has_errors
    left_out = [f for f in result.findings if f.check == "row_left_out"]
    assert [(f.layer, f.feature, f.severity) for f in left_out] == [("infected_trees", "T3 (line 4)", "warning")]
    assert "km outside the township" in left_out[0].message and "max_outside_m" in left_out[0].message
    assert "未计入任何统计" in left_out[0].message_zh
    unreadable = [f for f in result.findings if f.check == "unreadable"]
    assert [f.layer for f in unreadable] == ["forest_plots"] and "plots.shp" in unreadable[0].message
    table = result.table.set_index("layer")
    assert table.loc["infected_trees", "features"] == 2 and pd.isna(table.loc["forest_plots", "features"])
    assert table.loc["villages", "errors"] == 0
