"""What a map layer's popups show: each field's heading in the page's language, its
storage kind, its decimals and, for coded values, the words of its vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo_township.checklist import all_checks
from geo_township.kinds import KINDS, column_label
from geo_township.overlay import Overlay
from geo_township.vocabulary import VOCABULARIES, Vocabulary
from geo_township.webmap.encode import column_kind
from geo_township.webmap.styles import GENERIC_VOCABULARIES, is_text, vocabulary_for


@dataclass
class FieldSpec:
    """A field shown in popups: name, label in the page's language, storage kind."""

    name: str
    label: str
    kind: str  # date, num, cat, text
    decimals: int = 2
    words: dict[Any, str] | None = None
    popup: bool = True  # False: kept for search or labels only


def field_label(name: str, overlay: Overlay, lang: str) -> str:
    """A field's heading: the overlay's own label, else the layer kind's label of that field
    (a river's ``chief`` is its river chief, a sand site's ``name`` its name), else the
    general column label."""
    if name in overlay.labels:
        en, zh = overlay.labels[name]
        return zh if lang == "zh" else en
    kind = KINDS.get(overlay.key)
    if kind is not None and name in kind.field_names:
        f = kind.field(name)
        return f.zh if lang == "zh" else f.en
    return column_label(name, lang)


LIST_SEPARATOR = {"en": "; ", "zh": "、"}
"""How the words of a list of codes are joined (English labels may hold commas)."""


def vocabulary_words(values: pd.Series, vocab: Vocabulary, lang: str) -> dict[Any, str]:
    """Code → word for every code of ``vocab``, plus, for each comma-separated list of codes
    among ``values`` (e.g. ``"overlap, area_mismatch"``), the list in words item by item
    (items the vocabulary does not know are kept as they are)."""
    labels: dict[Any, str] = {t.code: (t.zh if lang == "zh" else t.en) for t in vocab.terms}
    words = dict(labels)
    for value in pd.unique(values.dropna()):
        if isinstance(value, str) and value not in labels and "," in value:
            items = [item.strip() for item in value.split(",") if item.strip()]
            if any(item in labels for item in items):
                words[value] = LIST_SEPARATOR[lang].join(labels.get(item, item) for item in items)
    return words


def decimals_for(overlay: Overlay, series: pd.Series) -> int:
    """Decimals to show: the overlay's choice, else 0 for whole numbers and 2 otherwise."""
    if series.name in overlay.decimals:
        return overlay.decimals[series.name]
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = pd.to_numeric(series, errors="coerce").dropna().to_numpy(dtype="float64")
        if len(values) == 0 or np.all(values == np.round(values)):
            return 0
    return 2


def field_specs(overlay: Overlay, gdf: pd.DataFrame, lang: str) -> list[FieldSpec]:
    """The popup fields of an overlay present in ``gdf``, coded ones with their words (the
    overlay's vocabulary, else the layer kind's, else a generic one for the field name)."""
    specs = []
    for name in dict.fromkeys([*overlay.fields]):
        if name not in gdf.columns:
            continue
        kind = column_kind(gdf[name])
        vocab_name = overlay.vocab.get(name)
        if vocab_name is None and is_text(gdf[name]):
            vocab_name = vocabulary_for(overlay.key, name, gdf[name]) or GENERIC_VOCABULARIES.get(name)
        words = None
        if vocab_name == "check_name" or (vocab_name is not None and vocab_name not in VOCABULARIES):
            all_checks()  # checks name themselves where declared: have every analysis's (audit_check …)
        if vocab_name in VOCABULARIES:
            words = vocabulary_words(gdf[name], VOCABULARIES[vocab_name], lang)
            kind = "cat"
        specs.append(FieldSpec(name, field_label(name, overlay, lang), kind, decimals_for(overlay, gdf[name]), words))
    return specs


def hidden_specs(overlay: Overlay, gdf: pd.DataFrame, lang: str, shown: set[str]) -> list[FieldSpec]:
    """Fields kept for search and labels but not in the popup: the overlay's fields, id
    field and label field that ``field_specs`` did not already list (``shown``)."""
    out = []
    for name in dict.fromkeys([*overlay.fields, overlay.id_field, overlay.label_field]):
        if name and name not in shown and name in gdf.columns:
            out.append(FieldSpec(name, field_label(name, overlay, lang), column_kind(gdf[name]),
                                 decimals_for(overlay, gdf[name]), popup=False))
    return out
