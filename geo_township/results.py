"""The one result type every analysis returns: tables plus the findings and features
behind them, so the table, the map and the report show the same numbers.

Tables use canonical column names and coded values; :meth:`Result.localised` turns them
into headings and words in English or Chinese for people.

Every finding comes from a :class:`Check` (code, severity, names and message templates in
English and Chinese) that its analysis declares once with :func:`declare`; the registry
:data:`CHECKS` names the checks in tables and on the map (the vocabulary ``check_name``,
and one per analysis that asks for it, :func:`check_vocabulary`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import pandas as pd

from geo_township.kinds import column_label
from geo_township.labels import PARTIAL_TOTAL_LABEL, SAID, TOTAL_LABEL, UNASSIGNED_LABEL, text_in
from geo_township.vocabulary import VOCABULARIES, Term, Vocabulary

SEVERITIES = ("error", "warning", "info")
_LINE = re.compile(r" \(line (\d+)\)$")
OUTSIDE_LABEL = {"en": "(outside)", "zh": "(范围外)"}
_SENTINELS = {TOTAL_LABEL["en"]: TOTAL_LABEL, UNASSIGNED_LABEL["en"]: UNASSIGNED_LABEL,
              OUTSIDE_LABEL["en"]: OUTSIDE_LABEL, PARTIAL_TOTAL_LABEL["en"]: PARTIAL_TOTAL_LABEL}


@dataclass(frozen=True)
class Finding:
    """One thing a check or audit found, tied to a feature of a layer.

    ``severity`` is ``error`` (the numbers would be wrong or a rule is broken),
    ``warning`` (worth a look) or ``info``. ``check`` is a short code such as
    ``invalid_geometry``. ``township`` names the township it came from when a county's
    townships were analysed together (:mod:`geo_township.county`); empty otherwise.
    """

    layer: str
    feature: str
    severity: str
    check: str
    message: str
    message_zh: str = ""
    township: str = ""

    def message_in(self, lang: str) -> str:
        """The message in ``lang`` (the English one when no Chinese message is given)."""
        return self.message_zh if lang == "zh" and self.message_zh else self.message


MORE_FEATURE = "…"
"""The feature of the one finding that stands for the findings beyond a cap."""
MORE_MESSAGE = ("and {extra} more like these", "另有 {extra} 条同类问题")
"""The message (en, zh) of the finding that counts the findings beyond a cap."""


@dataclass(frozen=True)
class Check:
    """One rule an analysis applies, declared once next to it: the code its findings carry
    (``check``), their severity, the check's name in English and Chinese (how tables and
    the map name it) and the message of a finding as :meth:`str.format` templates with
    named fields, e.g. ``"declared {declared:,.2f} mu"``.

    An empty ``message_zh`` means the message has no Chinese wording yet: the English one
    is shown (:meth:`Finding.message_in`).
    """

    code: str
    severity: str
    name_en: str
    name_zh: str
    message_en: str
    message_zh: str = ""

    def __post_init__(self) -> None:
        if not self.code.isidentifier():
            raise ValueError(f"a check code is a name like invalid_geometry, not {self.code!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"check {self.code}: severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")

    def finding(self, layer: str, feature: Any, /, **values: Any) -> Finding:
        """A finding of this check on ``feature`` of ``layer``, both messages filled in from
        ``values``; a field a template names but ``values`` lacks is a KeyError (a bug).
        A :class:`~geo_township.labels.Text` value fills the Chinese template with its Chinese."""
        zh = {key: text_in(value, "zh") for key, value in values.items()}
        return Finding(layer, feature, self.severity, self.code, self.message_en.format(**values),
                       self.message_zh.format(**zh))

    def more(self, layer: str, extra: int) -> Finding:
        """The one finding that stands for ``extra`` more findings of this check beyond a
        cap on how many are listed."""
        en, zh = MORE_MESSAGE
        return Finding(layer, MORE_FEATURE, self.severity, self.code, en.format(extra=extra), zh.format(extra=extra))

    def reworded(self, message_en: str, message_zh: str = "") -> Check:
        """This check with other message templates (code, severity and names unchanged):
        for an analysis that reports a check declared elsewhere in its own words. Not
        registered: the declaration stays the one that names the check."""
        return replace(self, message_en=message_en, message_zh=message_zh)

    def with_severity(self, severity: str) -> Check:
        """This check at another severity, for a finding that is more or less serious
        than the check usually is (e.g. an inferred lon/lat CRS is only a note)."""
        return replace(self, severity=severity)

    def name(self, lang: str = "en") -> str:
        """The check's name in ``lang``."""
        return self.name_zh if lang == "zh" else self.name_en


class CheckSet(dict[str, Check]):
    """Checks by code, also reachable as attributes: ``TREE_CHECKS.not_zeroed``."""

    def __getattr__(self, code: str) -> Check:
        try:
            return self[code]
        except KeyError:
            raise AttributeError(f"no check {code!r} among {', '.join(self)}") from None


CHECKS: dict[str, Check] = {}
"""Every declared check by code, in the order declared: the one home of each check's
severity and names. It holds the checks of the modules imported so far; for all of them,
call :func:`geo_township.checklist.all_checks`."""


def declare(*checks: Check) -> CheckSet:
    """Register ``checks`` (a code declared again must be declared identically) and return
    them by code."""
    for check in checks:
        known = CHECKS.setdefault(check.code, check)
        if known != check:
            raise ValueError(f"check {check.code!r} is declared twice, differently: {known} and {check}; "
                             "declare it once and use Check.reworded for another wording")
    return CheckSet((c.code, c) for c in checks)


class CheckNames(Vocabulary):
    """The names of declared checks as a vocabulary, so tables (:func:`localise`) and the
    map's popups show a check's name in the language. It reads :data:`CHECKS` when asked:
    with ``codes``, the names of those checks; without, of every check declared so far."""

    _codes: tuple[str, ...] | None

    def __init__(self, name: str, codes: tuple[str, ...] | None = None) -> None:
        # not the dataclass's __init__: the terms are the registry's, read when asked
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "closed", False)
        object.__setattr__(self, "_codes", codes)

    def _check(self, code: object) -> Check | None:
        if not isinstance(code, str) or (self._codes is not None and code not in self._codes):
            return None
        return CHECKS.get(code)

    @property
    def terms(self) -> tuple[Term, ...]:
        """One term per check: code, English and Chinese name."""
        codes = CHECKS if self._codes is None else self._codes
        return tuple(Term(c.code, c.name_en, c.name_zh) for c in map(CHECKS.__getitem__, codes))

    def label(self, code: object, lang: str = "en") -> str:
        """The name of a check in the language, or the value itself when it names none."""
        check = self._check(code)
        if check is None:
            return "" if code is None else str(code)
        return check.name(lang)

    def term(self, code: str) -> Term | None:
        """The term of a check's code, or None when it names none."""
        check = self._check(code)
        return None if check is None else Term(check.code, check.name_en, check.name_zh)


def check_vocabulary(name: str, checks: Iterable[Check]) -> CheckNames:
    """The names of ``checks`` (declared ones) as the vocabulary ``name``, added to
    :data:`~geo_township.vocabulary.VOCABULARIES`: for the tables and map layers of one
    analysis, whose ``vocab`` names it."""
    codes = tuple(c.code for c in checks)
    undeclared = [c for c in codes if c not in CHECKS]
    if undeclared:
        raise ValueError(f"vocabulary {name}: checks {', '.join(undeclared)} are not declared")
    vocab = VOCABULARIES[name] = CheckNames(name, codes)
    return vocab


VOCABULARIES["check_name"] = CheckNames("check_name")


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
        """The notes in ``lang``: under 'zh' the Chinese notes when given, else the notes;
        a note that is a :class:`~geo_township.labels.Text` shows its Chinese twin."""
        if lang != "zh":
            return list(self.notes)
        return [str(text_in(n, "zh")) for n in (self.notes_zh or self.notes)]

    @property
    def has_errors(self) -> bool:
        """True when a finding has severity ``error``."""
        return any(f.severity == "error" for f in self.findings)

    def findings_frame(self, lang: str = "en") -> pd.DataFrame:
        """Findings as a table ordered by severity, layer and feature, messages in ``lang``;
        a county's findings (:attr:`Finding.township` set) lead with the township's name."""
        columns = ["layer", "feature", "severity", "check", "message"]
        county = any(f.township for f in self.findings)
        if county:
            columns.insert(0, "township")
        frame = pd.DataFrame([{"township": f.township, "layer": f.layer, "feature": f.feature,
                               "severity": f.severity, "check": f.check, "message": f.message_in(lang)}
                              for f in self.findings], columns=columns)
        if len(frame):
            frame["_order"] = frame["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
            frame = frame.sort_values(["_order", *(["township"] if county else []), "layer", "check", "feature"],
                                      kind="stable").drop(columns="_order")
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
    # the key column's Total / (none) / (outside) rows; a county's tables lead with the township
    keys = out.columns[:2] if len(out.columns) > 1 and out.columns[0] == "township" else out.columns[:1]
    for key in keys:
        if out[key].dtype == object or pd.api.types.is_string_dtype(out[key]):
            out[key] = out[key].map(lambda x: _SENTINELS[x][lang] if isinstance(x, str) and x in _SENTINELS else x)
    if lang == "zh":  # sentences the library wrote (labels.Text) in the language; a feature's line as 第 N 行
        for col in out.columns:
            if out[col].dtype == object:  # cell by cell: a column mixing counts and areas keeps 8792, not 8792.0
                out[col] = pd.Series([SAID.get(x, x) if isinstance(x, str) else x for x in out[col]],
                                     index=out.index, dtype=object)
            elif pd.api.types.is_string_dtype(out[col]):
                out[col] = out[col].map(lambda x: SAID.get(x, x) if isinstance(x, str) else x)
        if "feature" in out.columns:
            out["feature"] = out["feature"].map(
                lambda x: _LINE.sub(r"（第 \1 行）", x) if isinstance(x, str) else x)
    if "severity" in out.columns and lang == "zh":
        severity_zh = {"error": "错误", "warning": "警告", "info": "提示"}
        out["severity"] = out["severity"].map(severity_zh).fillna(out["severity"])
    if headings:
        labels = labels or {}
        out.columns = [labels[c][1 if lang == "zh" else 0] if c in labels else column_label(str(c), lang)
                       for c in out.columns]
    return out
