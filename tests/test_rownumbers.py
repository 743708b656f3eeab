"""Feature numbers kept cheaply and labels made on demand (geo_township.rownumbers)."""

import copy

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from geo_township.kinds import KINDS
from geo_township.layerfile import feature_ids, row_labels
from geo_township.rownumbers import ATTR, FeatureNumbers, feature_labels, numbers_of


def test_numbers_from_an_index_of_file_positions():
    assert FeatureNumbers.from_index(pd.RangeIndex(5)) is None  # 1..5: nothing to keep
    assert FeatureNumbers.from_index(pd.Index([], dtype="int64")) is None
    assert list(FeatureNumbers.from_index(pd.Index([0, 2, 5]))) == [1, 3, 6]
    assert list(FeatureNumbers.from_index(pd.Index([500_000, 500_001]))) == [500_001, 500_002]  # a later chunk


def test_copies_of_a_frame_share_its_numbers_and_cannot_change_them():
    numbers = FeatureNumbers([3, 7, 9])
    frame = pd.DataFrame({"a": [1, 2, 3]})
    frame.attrs[ATTR] = numbers
    assert frame.copy().attrs[ATTR] is numbers and frame[["a"]].attrs[ATTR] is numbers
    assert copy.deepcopy(numbers) is numbers and copy.copy(numbers) is numbers
    assert numbers.array().dtype == "int64" and numbers == [3, 7, 9] and numbers[1] == 7 and list(numbers[1:]) == [7, 9]
    assert list(numbers.kept(np.array([True, False, True]))) == [3, 9]


def test_labels_name_the_rows_asked_for_only():
    points = [Point(i, i) for i in range(4)]
    plain = gpd.GeoDataFrame({"x": range(4)}, geometry=points)
    assert list(feature_labels(plain, np.array([0, 3]))) == ["feature 1", "feature 4"]
    kept = plain.copy()
    kept.attrs[ATTR] = FeatureNumbers([2, 5, 6, 9])  # features 1, 3, 4, 7, 8 of the file left out
    assert list(feature_labels(kept, np.array([1, 3]))) == ["feature 5", "feature 9"]
    assert list(numbers_of(kept)) == [2, 5, 6, 9] and list(numbers_of(plain)) == [1, 2, 3, 4]
    table = pd.DataFrame({"source_row": [2, 3, 5, 6]})
    assert list(feature_labels(table, np.array([2]))) == ["line 5"]


def test_ids_fall_back_to_the_file_number_where_the_id_is_blank():
    trees = gpd.GeoDataFrame({"tree_id": ["T1", None, "T3"]}, geometry=[Point(0, 0)] * 3)
    trees.attrs[ATTR] = FeatureNumbers([1, 4, 10])
    kind = KINDS["infected_trees"]
    assert list(feature_ids(trees, kind)) == ["T1", "feature 4", "T3"]
    assert list(row_labels(trees, kind, np.array([1]))) == ["feature 4"]


def test_a_frame_with_its_numbers_still_writes_to_geoparquet(tmp_path):
    frame = gpd.GeoDataFrame({"a": [1, 2]}, geometry=[Point(0, 0), Point(1, 1)], crs=4326)
    frame.attrs[ATTR] = FeatureNumbers([2, 5])  # GeoParquet keeps attrs as JSON
    frame.to_parquet(tmp_path / "t.parquet")
    assert gpd.read_parquet(tmp_path / "t.parquet")["a"].tolist() == [1, 2]
