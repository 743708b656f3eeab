"""What an export shows of each feature: its id, its key fields labelled in the chosen
language, and the values of coded fields as words, shared by every format."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_township.kinds import Kind, column_label
from geo_township.vocabulary import VOCABULARIES

#: Columns a loaded layer carries for the tool's own bookkeeping, never exported.
HOUSEKEEPING = ("source_row",)


def attribute_columns(gdf: gpd.GeoDataFrame) -> list[str]:
    """The attribute columns worth exporting (not the geometry, not housekeeping)."""
    return [c for c in gdf.columns if c != gdf.geometry.name and c not in HOUSEKEEPING]


def feature_names(gdf: gpd.GeoDataFrame, kind: Kind | None) -> pd.Series:
    """The name of each feature: its id (the kind's id field), else ``name``, else its
    1-based position."""
    for col in (kind.id_field if kind else None, "name"):
        if col and col in gdf.columns:
            values = gdf[col].astype(object)
            fallback = pd.Series([str(i + 1) for i in range(len(gdf))], index=gdf.index)
            return values.where(values.notna() & (values.astype(str).str.strip() != ""), fallback).astype(str)
    return pd.Series([str(i + 1) for i in range(len(gdf))], index=gdf.index)


def key_fields(gdf: gpd.GeoDataFrame, kind: Kind | None) -> list[str]:
    """The fields a placemark's description lists: the kind's canonical fields present in
    the layer (in the kind's order), else every attribute column; a county's ``township``
    first when the features have it."""
    if kind is not None:
        present = [f.name for f in kind.fields if f.name in gdf.columns]
        if present:
            return (["township"] if "township" in gdf.columns else []) + present
    return attribute_columns(gdf)


def label(name: str, kind: Kind | None, lang: str) -> str:
    """The heading of a field in ``lang``: the kind's own label, else the tool's."""
    if kind is not None:
        for f in kind.fields:
            if f.name == name:
                return f.zh if lang == "zh" else f.en
    return column_label(name, lang)


def display_value(value: object, name: str, kind: Kind | None, lang: str) -> str:
    """A cell as text for people: '' for missing, dates as 2022-03-05, coded values as
    words in ``lang``, whole floats without '.0'."""
    if value is None or (not isinstance(value, (list, tuple, np.ndarray)) and pd.isna(value)):
        return ""
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if kind is not None:
        for f in kind.fields:
            if f.name == name and f.vocabulary:
                return VOCABULARIES[f.vocabulary].label(value, lang)
    return str(value)


def labelled_table(gdf: gpd.GeoDataFrame, kind: Kind | None, lang: str) -> pd.DataFrame:
    """The attribute table for a spreadsheet: canonical names and codes in English;
    Chinese headings and words with ``lang="zh"`` (which the tool's import reads back).
    Dates stay dates."""
    cols = attribute_columns(gdf)
    table = pd.DataFrame(gdf[cols]).copy()
    if lang != "zh":
        return table
    for col in cols:
        field = _field(kind, col)
        if field is not None and field.vocabulary:
            vocab = VOCABULARIES[field.vocabulary]
            table[col] = table[col].map(
                lambda v, vocab=vocab: None if v is None or pd.isna(v) else vocab.label(v, "zh"))
    headings = [label(c, kind, "zh") for c in cols]
    if len(set(headings)) == len(headings):
        table.columns = headings
    return table


def _field(kind: Kind | None, name: str):
    if kind is None:
        return None
    for f in kind.fields:
        if f.name == name:
            return f
    return None
