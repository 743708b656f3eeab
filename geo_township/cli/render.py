"""Showing a Result: a readable table on the terminal, or CSV / JSON / XLSX for Excel and
programs. CSV and XLSX keep machine column names in English (``area_mu``) and take
Chinese headings with ``--lang zh``; JSON keys are always machine names.
"""

from __future__ import annotations

import io
import sys
from dataclasses import replace
from pathlib import Path

import click
import numpy as np
import pandas as pd

from geo_township.errors import UsageError
from geo_township.io.write import (
    csv_text,
    ensure_writable,
    tables_to_json,
    write_csv,
    write_json,
    write_xlsx,
)
from geo_township.labels import table_label
from geo_township.results import Result, localise

SUFFIX_FORMATS = {".csv": "csv", ".json": "json", ".xlsx": "xlsx", ".txt": "table"}
MAX_FINDINGS_SHOWN = 40


def choose_format(fmt: str | None, output: Path | None) -> str:
    """The format asked for, else the one the output file's suffix implies, else table."""
    if fmt:
        return fmt
    if output is not None:
        return SUFFIX_FORMATS.get(output.suffix.lower(), "table")
    return "table"


def counts_as_integers(df: pd.DataFrame, decimals: dict[str, int]) -> pd.DataFrame:
    """``df`` with each float column that holds only whole numbers and some blanks (a count
    column turned float by a missing row, e.g. the features of a layer that failed to load)
    as whole numbers with blanks, so 2054 never shows as 2,054.00. Columns with declared
    decimals are left alone."""
    out = df
    for col in df.columns:
        values = df[col]
        if col in decimals or not pd.api.types.is_float_dtype(values) or not values.isna().any():
            continue
        known = values.dropna()
        if len(known) and np.isfinite(known).all() and (known == known.round()).all():
            out = out.copy() if out is df else out
            out[col] = values.astype("Int64")
    return out


def _rounded(df: pd.DataFrame, decimals: dict[str, int], default: int | None) -> pd.DataFrame:
    out = counts_as_integers(df, decimals)
    out = out.copy() if out is df else out
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            places = decimals.get(col, default)
            if places is not None:
                out[col] = out[col].round(places)
    return out


def _prepared(result: Result, lang: str, *, headings: bool, default_decimals: int | None) -> dict[str, pd.DataFrame]:
    tables = {}
    for name, df in result.all_tables(lang).items():
        df = _rounded(df, result.decimals, default_decimals)
        tables[name] = localise(df, lang, vocab=result.vocab, headings=headings, labels=result.labels)
    return tables


def render(result: Result, *, fmt: str | None, output: Path | None, lang: str) -> None:
    """Print or write ``result`` in the chosen format — the one way every command shows
    its Result.

    * table: the terminal text (or a .txt file)
    * csv: the main table to stdout, a note on stderr naming the tables not shown; with
      ``-o FILE.csv`` the main table to FILE.csv and every other table next to it as
      ``FILE.<table>.csv`` (UTF-8 with BOM, so Excel shows Chinese)
    * json: every table and the provenance, to stdout or ``-o``
    * xlsx: one sheet per table plus how the numbers were made (needs ``-o``)
    """
    fmt = choose_format(fmt, output)
    if output is not None:
        ensure_writable(output)
    if fmt == "table":
        text = table_text(result, lang)
        if output is not None:
            output.write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)
        return
    zh_headings = lang == "zh"
    if fmt == "csv":
        _render_csv(_prepared(result, lang, headings=zh_headings, default_decimals=4), output, lang)
        return
    if fmt == "json":
        tables = _prepared(result, lang, headings=False, default_decimals=None)
        if output is not None:
            write_json(tables, result.provenance, output)
        else:
            click.echo(tables_to_json(tables, result.provenance))
        return
    if fmt == "xlsx":
        if output is None:
            raise UsageError("xlsx needs a file to write", hint="add -o result.xlsx")
        tables = _prepared(result, lang, headings=zh_headings, default_decimals=4)
        if zh_headings:
            tables = {table_label(k, "zh"): v for k, v in tables.items()}
        write_xlsx(tables, result.provenance, output, about_title="说明" if lang == "zh" else "About")
        return
    raise UsageError(f"unknown format {fmt!r}", hint="use table, csv, json or xlsx")


def csv_paths(output: Path, names: list[str]) -> dict[str, Path]:
    """Where each table goes with ``-o FILE.csv``: the first (main) table to FILE.csv, every
    other one next to it as FILE.<table>.csv."""
    suffix = output.suffix or ".csv"
    return {name: output if i == 0 else output.with_name(f"{output.stem}.{name}{suffix}")
            for i, name in enumerate(names)}


def _render_csv(tables: dict[str, pd.DataFrame], output: Path | None, lang: str) -> None:
    """CSV of every table: see :func:`render`."""
    names = list(tables)
    main, others = names[0], names[1:]
    if output is None:
        sys.stdout.write("\ufeff" + csv_text(tables[main]))
        if others:
            _note(f"未显示的表：{'、'.join(others)}；用 --format csv -o 文件.csv 每表写一个文件，或 -o 文件.xlsx。"
                  if lang == "zh" else f"Tables not shown: {', '.join(others)}; write every table with "
                  "--format csv -o FILE.csv (one file each, next to it) or -o FILE.xlsx.")
        return
    paths = csv_paths(output, names)
    for name in others:  # every file checked before any is written
        ensure_writable(paths[name])
    for name, path in paths.items():
        write_csv(tables[name], path)
    if others:
        files = ", ".join(paths[n].name for n in others)
        _note(f"CSV：{output}（{main}），旁边另有 {len(others)} 个表：{files}" if lang == "zh" else
              f"CSV: {output} ({main}) and {len(others)} tables next to it: {files}")


def _note(text: str) -> None:
    """A line on stderr for the user, unless -q was given."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or not ctx.find_root().ensure_object(dict).get("quiet"):
        click.echo(text, err=True)


def findings_first(result: Result, lang: str, *, feature_column: str = "feature") -> Result:
    """The same Result with its findings as the main table (``findings``: the feature named
    ``feature_column``, severity, check, message in ``lang``) and every other table after
    it, the summary first — for checks of one layer, whose list of problems is what people
    open first in a CSV."""
    findings = result.findings_frame(lang).drop(columns="layer").rename(columns={"feature": feature_column})
    return replace(result, table=findings, table_name="findings",
                   tables={result.table_name: result.table, **result.tables}, findings=[])


def table_text(result: Result, lang: str, *, width: int | None = None) -> str:
    """The result as terminal text: title, main table, other tables, findings, notes."""
    import shutil

    from rich.console import Console

    if width is None:
        width = shutil.get_terminal_size((160, 40)).columns  # $COLUMNS, the terminal, else 160
    console = Console(record=True, width=width, file=_Null(), force_terminal=False,
                      color_system=None, highlight=False, emoji=False)
    for name, df in result.all_tables(lang).items():
        if name == "findings" and result.findings:  # shown below, at most MAX_FINDINGS_SHOWN of them
            continue
        title = result.title_in(lang) if name == result.table_name else table_label(name, lang)
        console.print(_rich_table(df, title, result, lang))
    if result.findings:
        findings = result.findings_frame(lang)
        n = len(findings)
        title = table_label("findings", lang) + f" ({n})"
        console.print(_rich_table(findings.head(MAX_FINDINGS_SHOWN), title, result, lang))
        if n > MAX_FINDINGS_SHOWN:
            more = n - MAX_FINDINGS_SHOWN
            console.print(f"… and {more} more; write them all with --format xlsx -o findings.xlsx (or csv/json)."
                          if lang == "en" else f"… 另有 {more} 条；用 --format xlsx -o 问题清单.xlsx 导出全部。",
                          markup=False)
    for note in result.notes_in(lang):
        console.print(note, markup=False)
    return console.export_text()


class _Null(io.StringIO):
    """A text stream that keeps nothing (the console records what it prints)."""

    def write(self, _: str) -> int:
        return 0

    def flush(self) -> None:
        pass


def _rich_table(df: pd.DataFrame, title: str, result: Result, lang: str):
    """A rich Table: numbers right-aligned with the column's decimals, words in ``lang``."""
    from rich.table import Table
    from rich.text import Text

    df = counts_as_integers(df, result.decimals)
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]
    text = df.copy().astype(object)
    for col, is_num in zip(df.columns, numeric, strict=True):
        if is_num:
            places = result.decimals.get(col, 2 if pd.api.types.is_float_dtype(df[col]) else 0)
            grouped = not _is_year(col)  # 2,022 is a count; a year is written 2022
            text[col] = [_number(v, places, grouped=grouped) for v in df[col]]
        else:
            text[col] = [_cell(v) for v in df[col]]
    text = localise(text, lang, vocab=result.vocab, labels=result.labels)
    # Text(...) everywhere: values are data, never console markup ("[/]" or "[link=…]" in a file stays as typed)
    table = Table(title=Text(title), title_justify="left", min_width=min(len(title) + 4, 100))
    for col, is_num in zip(text.columns, numeric, strict=True):
        table.add_column(Text(str(col)), justify="right" if is_num else "left", overflow="fold")
    for row in text.itertuples(index=False):
        table.add_row(*[Text(str(v)) if v is not None and not (isinstance(v, float) and pd.isna(v)) else Text("")
                        for v in row])
    return table


def _is_year(column) -> bool:
    """Whether a column holds years (``year``, ``start_year``, ``planted_year`` …)."""
    return str(column) == "year" or str(column).endswith("_year")


def _number(value, places: int, *, grouped: bool = True) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{float(value):{',' if grouped else ''}.{places}f}"


def _cell(value):
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return value


def with_saved_features(result: Result, save: Path | None) -> Result:
    """Write the Result's feature layers to ``save`` (when given, by its suffix) and return
    the Result with a note naming the layers written."""
    if save is None:
        return result
    from geo_township.export import export_sets

    written, notes = export_sets(result.features, save)
    result = with_note(result, f"layers written to {save}: {', '.join(written)}",
                       f"图层已写入 {save}：{'、'.join(written)}")
    for en, zh in notes:
        result = with_note(result, en, zh)
    return result


def with_note(result: Result, note: str, note_zh: str | None = None) -> Result:
    """The same Result with one more note (e.g. which file was written), carrying its Chinese
    twin whether or not the Result keeps separate Chinese notes; the Result itself is never
    changed."""
    from geo_township.labels import Text

    text = Text(note, note_zh) if note_zh else note
    notes_zh = [*result.notes_zh, note_zh or note] if result.notes_zh else result.notes_zh
    return replace(result, notes=[*result.notes, text], notes_zh=notes_zh)
