"""The Result every analysis returns is frozen: nobody changes it after it is returned."""

import dataclasses

import pandas as pd
import pytest

from geo_township.results import Finding, Result


def test_assigning_to_a_result_attribute_raises():
    result = Result("Title", pd.DataFrame({"a": [1]}))
    for name, value in [("title", "Other"), ("table", pd.DataFrame()), ("notes", ["x"]), ("tables", {})]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(result, name, value)
    assert result.title == "Title"


def test_a_changed_copy_leaves_the_original_alone():
    result = Result("Title", pd.DataFrame({"a": [1]}), notes=["one"])
    other = dataclasses.replace(result, notes=[*result.notes, "two"])
    assert result.notes == ["one"] and other.notes == ["one", "two"]


def test_the_main_table_can_be_named():
    findings = [Finding("l", "f1", "error", "c", "m")]
    result = Result("T", pd.DataFrame({"a": [1]}), tables={"more": pd.DataFrame({"b": [2]})}, findings=findings)
    assert list(result.all_tables()) == ["summary", "more", "findings"]
    renamed = dataclasses.replace(result, table_name="parcels")
    assert list(renamed.all_tables()) == ["parcels", "more", "findings"]
