"""The point-table reader shared by layers and surveys: Excel lines, one rule for coordinate
columns (names, degrees or metres, swapped columns), and China's extent."""

import numpy as np
import pandas as pd
import pytest

from geo_township.crs import in_china
from geo_township.io.points import locate_coordinates, read_point_table


def test_in_china_is_per_point_with_bounds_included():
    lon = np.array([117.5, 73.0, 136.0, 72.9, np.nan, 117.5])
    lat = np.array([30.5, 3.0, 54.0, 30.5, 30.5, 54.1])
    assert in_china(lon, lat).tolist() == [True, True, True, False, False, False]
    assert in_china(117.5, 30.5)  # scalars too


def test_point_table_keeps_excel_lines_and_finds_coordinates(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["编号", "经度", "纬度"])
    ws.append(["A", 117.5, 30.5])
    ws.append([None, None, None])  # an empty row: left out, but the lines after it keep their numbers
    ws.append(["B", "117°30'36\"", ""])
    path = tmp_path / "pts.xlsx"
    wb.save(path)
    table = read_point_table(path)
    assert list(table.lines) == [2, 4]
    assert table.coords.named == ("经度", "纬度") and table.coords.geographic
    assert table.coords.x.tolist()[1] == pytest.approx(117.51)
    assert list(table.attributes.columns) == ["编号"]


def test_one_rule_for_coordinate_columns():
    # surveyors' X = north under x/y names
    c = locate_coordinates(pd.DataFrame({"X": ["3375000.5"], "Y": ["39512345.2"]}))
    assert c.swapped and (c.east, c.north) == ("Y", "X") and not c.geographic
    # latitude/longitude the other way round under 经度/纬度
    c = locate_coordinates(pd.DataFrame({"经度": ["30.5"], "纬度": ["117.5"]}))
    assert c.swapped and c.geographic and c.x.tolist() == [117.5]
    # metres under 经度/纬度 headings are eastings/northings, X = north swapped like x/y
    c = locate_coordinates(pd.DataFrame({"经度": ["3375314.2"], "纬度": ["547713.2"]}))
    assert not c.geographic and c.swapped and c.x.tolist() == [547713.2]
    assert locate_coordinates(pd.DataFrame({"a": ["1"], "b": ["2"]})) is None
