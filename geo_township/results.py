"""The one result type every analysis returns: tables plus the findings and features
behind them, so the table, the map and the report show the same numbers.

Tables use canonical column names and coded values; :meth:`Result.localised` turns them
into headings and words in English or Chinese for people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from geo_township.kinds import column_label
from geo_township.labels import TOTAL_LABEL, UNASSIGNED_LABEL
from geo_township.vocabulary import VOCABULARIES

SEVERITIES = ("error", "warning", "info")
OUTSIDE_LABEL = {"en": "(outside)", "zh": "(范围外)"}
_SENTINELS = {TOTAL_LABEL["en"]: TOTAL_LABEL, UNASSIGNED_LABEL["en"]: UNASSIGNED_LABEL,
              OUTSIDE_LABEL["en"]: OUTSIDE_LABEL}


@dataclass(frozen=True)
class Finding:
    """One thing a check or audit found, tied to a feature of a layer.

    ``severity`` is ``error`` (the numbers would be wrong or a rule is broken),
    ``warning`` (worth a look) or ``info``. ``check`` is a short code such as
    ``invalid_geometry``.
    """

    layer: str
    feature: str
    severity: str
    check: str
    message: str
    message_zh: str = ""

    def message_in(self, lang: str) -> str:
        """The message in ``lang`` (the English one when no Chinese message is given)."""
        return self.message_zh if lang == "zh" and self.message_zh else self.message


@dataclass(frozen=True)
class Result:
    """Tables, findings and the features behind them, plus how they were made.

    ``table`` is the main table, named ``table_name`` in files (``summary``); ``tables``
    holds further named tables; ``features`` holds GeoDataFrames (e.g. the offending
    geometries per finding type) for maps and GeoPackages; ``vocab`` says which columns
    hold coded values (column → vocabulary name) so they can be shown as words;
    ``decimals`` how many decimals to show per column.

    A Result is frozen: once an analysis returns it, nobody reassigns its attributes, so
    the table, the map and the report made from one Result agree. To show something
    else, make a new one with :func:`dataclasses.replace`. (The tables inside are
    DataFrames and cannot be frozen; treat them as read-only too.)
    """

    title: str
    table: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    features: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    vocab: dict[str, str] = field(default_factory=dict)
    decimals: dict[str, int] = field(default_factory=dict)
    title_zh: str = ""
    notes_zh: list[str] = field(default_factory=list)
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    table_name: str = "summary"

    def title_in(self, lang: str) -> str:
        """The title in ``lang`` (the English one when no Chinese title is given)."""
        return self.title_zh if lang == "zh" and self.title_zh else self.title

    def notes_in(self, lang: str) -> list[str]:
        """The notes in ``lang`` (the English ones when no Chinese notes are given)."""
        return self.notes_zh if lang == "zh" and self.notes_zh else self.notes

    @property
    def has_errors(self) -> bool:
        """True when a finding has severity ``error``."""
        return any(f.severity == "error" for f in self.findings)

    def findings_frame(self, lang: str = "en") -> pd.DataFrame:
        """Findings as a table ordered by severity, layer and feature, messages in ``lang``."""
        frame = pd.DataFrame([{"layer": f.layer, "feature": f.feature, "severity": f.severity, "check": f.check,
                               "message": f.message_in(lang)} for f in self.findings],
                             columns=["layer", "feature", "severity", "check", "message"])
        if len(frame):
            frame["_order"] = frame["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
            frame = frame.sort_values(["_order", "layer", "check", "feature"], kind="stable").drop(columns="_order")
        return frame.reset_index(drop=True)

    def all_tables(self, lang: str = "en") -> dict[str, pd.DataFrame]:
        """The main table (first, under ``table_name``), the others, and the findings (when
        there are any)."""
        out = {self.table_name: self.table, **self.tables}
        if self.findings:
            out["findings"] = self.findings_frame(lang)
        return out

    def localised(self, lang: str = "en", *, headings: bool = True) -> dict[str, pd.DataFrame]:
        """Every table with coded values as words and (optionally) headings in ``lang``."""
        return {name: localise(df, lang, vocab=self.vocab, headings=headings, labels=self.labels)
                for name, df in self.all_tables(lang).items()}


def localise(df: pd.DataFrame, lang: str, *, vocab: dict[str, str] | None = None,
             headings: bool = True, labels: dict[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """A copy of ``df`` with coded values as words and headings in ``lang`` ('en' or 'zh')."""
    out = df.copy()
    vocab = dict(vocab or {})
    vocab.setdefault("severity", "")
    if lang == "zh":  # English tables keep the short codes, which are easy to search for and type
        vocab.setdefault("check", "check_name")
        vocab.setdefault("layer", "layer_kind")
    for col in out.columns:
        name = vocab.get(col)
        if name and name in VOCABULARIES:
            v = VOCABULARIES[name]
            out[col] = out[col].map(lambda x, v=v: _SENTINELS[x][lang] if x in _SENTINELS else v.label(x, lang)
                                    if x is not None and not (isinstance(x, float) and pd.isna(x)) else x)
    if len(out.columns):
        first = out.columns[0]
        if out[first].dtype == object or pd.api.types.is_string_dtype(out[first]):
            out[first] = out[first].map(lambda x: _SENTINELS[x][lang] if isinstance(x, str) and x in _SENTINELS else x)
    if "severity" in out.columns and lang == "zh":
        severity_zh = {"error": "错误", "warning": "警告", "info": "提示"}
        out["severity"] = out["severity"].map(severity_zh).fillna(out["severity"])
    if headings:
        labels = labels or {}
        out.columns = [labels[c][1 if lang == "zh" else 0] if c in labels else column_label(str(c), lang)
                       for c in out.columns]
    return out
