"""``--where``: a small, safe filter language over a layer's fields.

Grammar (nothing else is accepted, and nothing is ever evaluated as Python)::

    expr    := term ("or" term)*
    term    := factor ("and" factor)*
    factor  := "not" factor | "(" expr ")" | compare
    compare := FIELD OP VALUE | FIELD ["not"] "in" "[" VALUE ("," VALUE)* "]"
             | FIELD "is" ["not"] "null"
    OP      := == | = | != | < | <= | > | >=
    VALUE   := 'text' | "text" | number

A FIELD is a canonical name (``status``), the file's own name (``状态``) or a field's
Chinese label; a name with spaces or brackets goes in backticks (`` `面积(亩)` ``). A
value of a coded field may be its code or a word for it (``status == '确认'`` is
``status == 'confirmed'``); a date field compares with dates written 2022-03-05.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo_township.errors import UsageError
from geo_township.kinds import Kind
from geo_township.vocabulary import VOCABULARIES, normalise_name

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
  | (?P<quoted>`[^`]+`)
  | (?P<op>==|!=|<=|>=|<|>|=)
  | (?P<punct>[()\[\],])
  | (?P<name>[^\s'"`()\[\],=!<>]+)
""", re.VERBOSE)

_KEYWORDS = {"and", "or", "not", "in", "is", "null"}


@dataclass(frozen=True)
class _Tok:
    kind: str  # name, string, number, op, punct, keyword, end
    text: str
    pos: int


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _error(text, pos, f"cannot read {text[pos:pos + 10]!r}")
        kind = m.lastgroup or ""
        value = m.group()
        if kind == "name" and value.lower() in _KEYWORDS:
            out.append(_Tok("keyword", value.lower(), pos))
        elif kind == "quoted":
            out.append(_Tok("name", value[1:-1], pos))
        elif kind == "string":
            out.append(_Tok("string", re.sub(r"\\(.)", r"\1", value[1:-1]), pos))
        elif kind != "space":
            out.append(_Tok(kind, value, pos))
        pos = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


def _error(text: str, pos: int, what: str, what_zh: str | None = None) -> UsageError:
    return UsageError(f"--where {text!r}: {what} at character {pos + 1}",
                      hint="write e.g. --where \"status == 'confirmed' and village == '石门村'\"; "
                      "operators: == != < <= > >= in [..] is null, joined by and / or / not",
                      message_zh=f"--where {text!r}：第 {pos + 1} 个字符处{what_zh or '无法解析'}（{what}）",
                      hint_zh="写法如 --where \"status == 'confirmed' and village == '石门村'\"；"
                      "运算符：== != < <= > >= in [..] is null，用 and / or / not 连接")


Mask = Callable[[pd.DataFrame], np.ndarray]


class _Parser:
    def __init__(self, text: str, resolve: Callable[[str, int], str], coerce: Callable[[str, object], object]):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.resolve = resolve
        self.coerce = coerce

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self, kind: str, text: str | None = None) -> _Tok | None:
        t = self.tok
        if t.kind == kind and (text is None or t.text == text):
            self.i += 1
            return t
        return None

    def expect(self, kind: str, text: str, what: str) -> None:
        if self.take(kind, text) is None:
            raise _error(self.text, self.tok.pos, f"expected {what}, found {self.tok.text or 'the end'!r}")

    def parse(self) -> Mask:
        mask = self.expr()
        if self.tok.kind != "end":
            raise _error(self.text, self.tok.pos, f"unexpected {self.tok.text!r}")
        return mask

    def expr(self) -> Mask:
        parts = [self.term()]
        while self.take("keyword", "or"):
            parts.append(self.term())
        if len(parts) == 1:
            return parts[0]
        return lambda df: np.logical_or.reduce([p(df) for p in parts])

    def term(self) -> Mask:
        parts = [self.factor()]
        while self.take("keyword", "and"):
            parts.append(self.factor())
        if len(parts) == 1:
            return parts[0]
        return lambda df: np.logical_and.reduce([p(df) for p in parts])

    def factor(self) -> Mask:
        if self.take("keyword", "not"):
            inner = self.factor()
            return lambda df: ~inner(df)
        if self.take("punct", "("):
            inner = self.expr()
            self.expect("punct", ")", "')'")
            return inner
        return self.compare()

    def value(self) -> object:
        t = self.tok
        if t.kind == "string":
            self.i += 1
            return t.text
        if t.kind == "number":
            self.i += 1
            return float(t.text) if any(c in t.text for c in ".eE") else int(t.text)
        raise _error(self.text, t.pos, f"expected a value ('text' or a number), found {t.text or 'the end'!r}")

    def compare(self) -> Mask:
        t = self.tok
        if t.kind != "name":
            raise _error(self.text, t.pos, f"expected a field name, found {t.text or 'the end'!r}")
        self.i += 1
        column = self.resolve(t.text, t.pos)
        if self.take("keyword", "is"):
            negate = self.take("keyword", "not") is not None
            self.expect("keyword", "null", "null")
            return lambda df: df[column].notna().to_numpy() if negate else df[column].isna().to_numpy()
        negate = self.take("keyword", "not") is not None
        if self.take("keyword", "in"):
            self.expect("punct", "[", "'[' after in")
            values = [self.coerce(column, self.value())]
            while self.take("punct", ","):
                values.append(self.coerce(column, self.value()))
            self.expect("punct", "]", "']'")
            return lambda df: _isin(df[column], values) != negate
        if negate:
            raise _error(self.text, self.tok.pos, "'not' after a field name must be followed by 'in'")
        op = self.take("op")
        if op is None:
            raise _error(self.text, self.tok.pos, f"expected an operator after {t.text!r}, found "
                         f"{self.tok.text or 'the end'!r}")
        value = self.coerce(column, self.value())
        return lambda df: _compare(df[column], op.text, value)


def _isin(col: pd.Series, values: list[object]) -> np.ndarray:
    return np.logical_or.reduce([_compare(col, "==", v) for v in values])


def _compare(col: pd.Series, op: str, value: object) -> np.ndarray:
    ops = {"==": "eq", "=": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
    if isinstance(value, str) and not (pd.api.types.is_string_dtype(col) or col.dtype == object):
        col = col.astype(str)
    elif isinstance(value, str):
        col = col.where(col.isna(), col.astype(str))
    result = getattr(col, ops[op])(value)
    if op != "!=":
        result = result & col.notna()
    return result.fillna(False).to_numpy(dtype=bool)


def where_mask(df: pd.DataFrame, text: str, *, kind: Kind | None = None,
               field_map: Mapping[str, str] | None = None) -> np.ndarray:
    """The rows of ``df`` (canonical field names) that ``text`` selects, as a boolean array.

    ``field_map`` (canonical → the file's own name) lets the file's names be used; the
    kind gives the fields' Chinese labels and vocabularies. A bad expression, an unknown
    field or an unknown word for a coded field is a :class:`UsageError` that names the
    problem and the fields there are.
    """
    columns = [c for c in df.columns if c not in ("geometry", "source_row")]
    names: dict[str, str] = {c: c for c in columns}
    for canon, own in (field_map or {}).items():
        if canon in names:
            names.setdefault(own, canon)
    if kind is not None:
        for f in kind.fields:
            if f.name in names:
                names.setdefault(f.zh, f.name)
    folded = {str(k).lower(): v for k, v in names.items()}

    def resolve(name: str, pos: int) -> str:
        found = names.get(name) or folded.get(name.lower())
        if found is None:
            shown = ", ".join(dict.fromkeys(str(n) for n in names))
            raise UsageError(f"--where {text!r}: no field {name!r} (character {pos + 1})",
                             hint=f"fields of this layer: {shown}",
                             message_zh=f"--where {text!r}：没有字段 {name!r}（第 {pos + 1} 个字符）",
                             hint_zh=f"本图层的字段：{shown}")
        return found

    def coerce(column: str, value: object) -> object:
        col = df[column]
        if pd.api.types.is_datetime64_any_dtype(col):
            try:
                return pd.Timestamp(str(value))
            except ValueError:
                raise UsageError(f"--where {text!r}: {column} is a date, and {value!r} is not one",
                                 hint="write dates as '2022-03-05'",
                                 message_zh=f"--where {text!r}：{column} 是日期，{value!r} 不是日期",
                                 hint_zh="日期写作 '2022-03-05'") from None
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            try:
                return float(str(value))
            except ValueError:
                raise UsageError(f"--where {text!r}: {column} is a number, and {value!r} is not one",
                                 hint=f"compare {column} with a number, e.g. {column} > 10",
                                 message_zh=f"--where {text!r}：{column} 是数值，{value!r} 不是数值",
                                 hint_zh=f"用数值比较，如 {column} > 10") from None
        field = _field(kind, column)
        if field is not None and field.vocabulary and isinstance(value, str):
            vocab = VOCABULARIES[field.vocabulary]
            code = vocab.lookup().get(normalise_name(value))
            if code is not None:
                return code
            if vocab.closed:
                known = ", ".join(f"{t.code} ({t.zh})" for t in vocab.terms)
                raise UsageError(f"--where {text!r}: {value!r} is not a {column} value",
                                 hint=f"{column} is one of {known}",
                                 message_zh=f"--where {text!r}：{value!r} 不是 {column} 的取值",
                                 hint_zh=f"{column} 的取值为：{known}")
        return value

    return _Parser(text, resolve, coerce).parse()(df)


def _field(kind: Kind | None, name: str):
    if kind is None:
        return None
    try:
        return kind.field(name)
    except KeyError:
        return None
