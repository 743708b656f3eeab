"""Which feature of the file each row of a layer is, kept cheaply and labelled on demand.

A message names a row as the user finds it in the file: 'feature 12' (its 1-based
position among the file's features) or 'line 14' (tables). When rows are left out
(no geometry, impossible coordinates) or a layer is read in chunks, a row's position in
the frame is no longer its place in the file, so the layer keeps the file's numbers in
``gdf.attrs["feature_numbers"]``.

For a million trees these numbers must cost neither time nor memory on every pandas
operation: pandas deep-copies ``attrs`` with every new frame, and a list of a million
Python ints took seconds per copy. :class:`FeatureNumbers` is a list that copies share
instead of copying, and labels are built only for the rows a message names
(:func:`feature_labels`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

ATTR = "feature_numbers"
"""The key of ``DataFrame.attrs`` holding a layer's :class:`FeatureNumbers`."""


class FeatureNumbers(list[int]):
    """The 1-based number in the file of each row of a frame.

    Never changed in place, so a copy of the frame (pandas deep-copies ``attrs`` at every
    operation) shares it instead of copying a million numbers one by one. A list, so a
    frame written with its ``attrs`` (GeoParquet keeps them as JSON) still writes.
    """

    @classmethod
    def from_index(cls, index: pd.Index) -> FeatureNumbers | None:
        """The numbers of rows whose index is their 0-based position in the file, or None
        when they are simply 1..n (nothing to keep)."""
        positions = np.asarray(index, dtype="int64")
        if len(positions) == 0 or (positions[0] == 0 and positions[-1] == len(positions) - 1
                                   and bool((np.diff(positions) == 1).all())):
            return None
        return cls((positions + 1).tolist())

    def array(self) -> np.ndarray:
        """The numbers as an int64 array."""
        return np.asarray(self, dtype="int64")

    def kept(self, keep: np.ndarray) -> FeatureNumbers:
        """The numbers of the rows still there after keeping those marked in ``keep``."""
        return FeatureNumbers(self.array()[np.asarray(keep, dtype=bool)].tolist())

    def __copy__(self) -> FeatureNumbers:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FeatureNumbers:
        return self


def numbers_of(frame: pd.DataFrame) -> np.ndarray:
    """The 1-based number in the file of every row of ``frame`` (its position + 1 when
    the frame keeps no numbers of its own)."""
    kept = frame.attrs.get(ATTR)
    if kept is None or len(kept) != len(frame):
        return np.arange(1, len(frame) + 1, dtype="int64")
    return kept.array() if isinstance(kept, FeatureNumbers) else np.asarray(kept, dtype="int64")


def keep_numbers(frame: pd.DataFrame, numbers: FeatureNumbers | None) -> None:
    """Record ``numbers`` as the file numbers of ``frame``'s rows (None: they are 1..n)."""
    if numbers is None:
        frame.attrs.pop(ATTR, None)
    else:
        frame.attrs[ATTR] = numbers


def feature_labels(frame: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
    """'line N' (tables, from ``source_row``) or 'feature N' for the rows at ``positions``
    only: a message about a few rows of a big layer labels just those."""
    positions = np.asarray(positions, dtype="int64")
    if "source_row" in frame.columns:
        lines = frame["source_row"].iloc[positions].astype(str).to_numpy(dtype=object)
        return np.array(["line " + s for s in lines], dtype=object)
    kept = frame.attrs.get(ATTR)
    if kept is None or len(kept) != len(frame):
        numbers = positions + 1
    else:
        numbers = numbers_of(frame)[positions]
    return np.array([f"feature {n}" for n in numbers.tolist()], dtype=object)
