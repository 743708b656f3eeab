"""Helpers of the GeoParquet and streaming tests: a township copy whose trees layer is
another file, and the comparison of two Results table by table."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd

from geo_township.results import Result


def point_trees_at(town: Path, path: str) -> None:
    """Make ``town``'s township.toml read its trees layer from ``path`` (no field mapping:
    a converted layer has our field names)."""
    toml = town / "township.toml"
    text = toml.read_text(encoding="utf-8")
    table = r"\[layers\.infected_trees\]\n(?:(?!\[)[^\n]*\n)*"
    text, n = re.subn(table, f'[layers.infected_trees]\npath = "{path}"\n\n', text)
    assert n == 1
    toml.write_text(text, encoding="utf-8")


def copy_township(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def assert_same_result(a: Result, b: Result, *, ordered: bool = True) -> None:
    """Every table (main, side tables, findings), every finding and note, the title.
    ``ordered=False``: the findings in any order (layers whose rows are in another order)."""
    ta, tb = a.all_tables(), b.all_tables()
    assert list(ta) == list(tb)
    for name in ta:
        pd.testing.assert_frame_equal(ta[name].reset_index(drop=True), tb[name].reset_index(drop=True),
                                      check_dtype=False, obj=name)
    if ordered:
        assert a.findings == b.findings
    else:
        assert sorted(a.findings, key=repr) == sorted(b.findings, key=repr)
    assert a.notes == b.notes and a.notes_zh == b.notes_zh
    assert (a.title, a.title_zh) == (b.title, b.title_zh)
