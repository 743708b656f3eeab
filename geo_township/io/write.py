"""Writing tables and layers atomically: a temporary file in the same folder, renamed into
place only when complete, so a crash or a full disk never leaves a half-written file.

CSV is UTF-8 with BOM (Excel on Windows shows Chinese only then); XLSX has one sheet per
table plus a sheet saying how the numbers were made. Features (layers and analyses'
feature sets) are written by :mod:`geo_township.export`, with these atomic writes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_township.errors import LayerReadError, UsageError
from geo_township.labels import PROVENANCE_NAMES, PROVENANCE_WORDS, Text, has_cjk, provenance_label
from geo_township.vocabulary import VOCABULARIES


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success rename it over ``target``.

    The rename is atomic on one file system, so readers see either the old file or the
    new one, never a mixture. On any error the temporary file is removed and ``target``
    is untouched.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.exists():
        raise UsageError(f"folder {folder} does not exist", hint="create it first or choose another -o path")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers such as GDAL want to create the file themselves
    try:
        yield tmp
        with open(tmp, "rb+") as fh:  # make sure the bytes are on disk before the rename
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def geoparquet_file(gdf: gpd.GeoDataFrame, path: str | Path, **options: Any) -> None:
    """Write ``gdf`` as GeoParquet at ``path`` (options as ``to_parquet`` takes them) without the
    frame's ``attrs``: they hold run-time bookkeeping (a layer's row numbers in its file) that
    pandas would otherwise store in the file's metadata, a million numbers for a million trees."""
    plain = gdf.copy(deep=False)
    plain.attrs = {}
    plain.to_parquet(path, **options)


def _plain(value: Any) -> Any:
    """A value JSON and Excel can hold: dates as ISO text, NaN as empty, numpy as Python."""
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return None if pd.isna(value) else pd.Timestamp(value).date().isoformat()
    if value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells that Excel would run as a formula (starting with = + - @) get a leading
    apostrophe, so a value such as ``=HYPERLINK(...)`` from a survey file stays text.
    Numbers (``-5``) are left alone."""
    out = df
    for col in df.columns:
        if df[col].dtype != object and not pd.api.types.is_string_dtype(df[col]):
            continue
        text = df[col]
        risky = _risky(text)
        if risky.any():
            if out is df:
                out = df.copy()
            out[col] = text.where(~risky, "'" + text.astype(str))
    return out


def _risky(text: pd.Series) -> pd.Series:
    """Which cells of a text column Excel would run as a formula. The first character is
    looked at for the whole column at once; only the few cells starting with = + - @ are
    looked at one by one."""
    def one(v: object) -> bool:
        return isinstance(v, str) and v.startswith(_FORMULA_START) and not _is_number(v)

    try:
        first = text.str[:1]
    except AttributeError:  # no text in the column (e.g. only missing values)
        return text.map(one).astype(bool)
    candidates = first.isin(list(_FORMULA_START)).to_numpy(dtype=bool)
    risky = pd.Series(False, index=text.index)
    if candidates.any():
        risky[candidates] = text[candidates].map(one).astype(bool).to_numpy()
    return risky


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_text(df: pd.DataFrame) -> str:
    """A table as CSV text (dates as 2022-03-05; formulas defused), without a BOM."""
    return defuse_formulas(df).to_csv(index=False, date_format="%Y-%m-%d")


def write_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write a table as UTF-8 CSV with BOM so Excel shows Chinese."""
    with atomic_path(path) as tmp:
        defuse_formulas(df).to_csv(tmp, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")


def tables_to_json(tables: Mapping[str, pd.DataFrame], provenance: Mapping[str, Any]) -> str:
    """Tables as JSON: ``{"provenance": {...}, "tables": {name: [row, ...]}}``."""
    out = {
        "provenance": {k: _plain(v) if not isinstance(v, (list, dict)) else v for k, v in provenance.items()},
        "tables": {name: [{str(k): _plain(v) for k, v in row.items()} for row in df.to_dict("records")]
                   for name, df in tables.items()},
    }
    return json.dumps(out, ensure_ascii=False, indent=2, default=str)


def write_json(tables: Mapping[str, pd.DataFrame], provenance: Mapping[str, Any], path: str | Path) -> None:
    """Write :func:`tables_to_json` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(tables_to_json(tables, provenance) + "\n", encoding="utf-8")


def write_xlsx(tables: Mapping[str, pd.DataFrame], provenance: Mapping[str, Any], path: str | Path, *,
               about_title: str | None = "About", lang: str | None = None) -> None:
    """Write one sheet per table and an ``About`` sheet of provenance (none when
    ``about_title`` is None), formatted for reading: bold frozen header, columns sized to
    their content. The About sheet is in ``lang`` (by default the language its title is
    written in: 说明 → Chinese)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for name, df in tables.items():
        title = _sheet_title(name, used)
        ws = wb.create_sheet(title)
        ws.append([str(c) for c in df.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in df.itertuples(index=False):
            ws.append([_plain(v) if not isinstance(v, (list, dict)) else json.dumps(v, ensure_ascii=False)
                       for v in row])
            for cell in ws[ws.max_row]:
                if cell.data_type == "f":  # text from the data that looks like a formula stays text
                    cell.data_type = "s"
        ws.freeze_panes = "A2"
        for i, col in enumerate(df.columns, start=1):
            sample = [str(col)] + [str(v) for v in df[col].head(200).tolist()]
            width = max(_display_width(s) for s in sample)
            ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 60)
    if about_title is not None:
        if lang is None:
            lang = "zh" if has_cjk(about_title) else "en"
        _about_sheet(wb.create_sheet(_sheet_title(about_title, used)), provenance, lang)
    with atomic_path(path) as tmp:
        wb.save(tmp)


def _about_sheet(ws: Any, provenance: Mapping[str, Any], lang: str) -> None:
    """Fill a sheet with how the numbers were made: one key and its value per row, in
    ``lang``; nested entries flattened (``输入图层 1 · 文件``)."""
    for key, value in about_rows(provenance, lang):
        ws.append([key, value])
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":
                cell.data_type = "s"
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 100


def about_rows(provenance: Mapping[str, Any], lang: str = "en") -> list[tuple[str, Any]]:
    """Provenance as (key, value) rows for people, one value per row. In English the keys
    are the machine names, as CSV and XLSX columns are (``inputs[2].file``); in Chinese they
    are labelled (``输入图层 2 · 文件``) and codes and sentences (:class:`~geo_township.labels.Text`)
    are in Chinese. Lists of values are joined."""
    rows: list[tuple[str, Any]] = []
    zh = lang == "zh"

    def add(prefix: str, key: str, value: Any) -> None:
        label = provenance_label(key, "zh") if zh else key
        name = (f"{prefix} · {label}" if zh else f"{prefix}.{label}") if prefix else label
        if isinstance(value, Mapping):
            for k, v in value.items():
                add(name, str(k), v)
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            for i, item in enumerate(value, start=1):
                for k, v in item.items():
                    add(f"{name} {i}" if zh else f"{name}[{i}]", str(k), v)
        else:
            rows.append((name, _plain(value) if key in PROVENANCE_NAMES or key.endswith("_file")
                         else _about_value(value, lang)))

    for key, value in provenance.items():
        add("", str(key), value)
    return rows


def _about_value(value: Any, lang: str) -> Any:
    """One provenance value for the About sheet, in ``lang``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, (list, tuple)):
        parts = [str(_about_value(v, lang)) for v in value]
        return ("、" if lang == "zh" else ", ").join(parts)
    if isinstance(value, Text):
        return value.in_lang(lang)
    if isinstance(value, str):
        if lang != "zh":
            return value
        return PROVENANCE_WORDS[value][1] if value in PROVENANCE_WORDS else _code_word(value)
    return _plain(value)


def _code_word(code: str) -> str:
    """A code of one of the vocabularies (``photovoltaic``) as its Chinese word; any other
    text as it is."""
    for vocab in VOCABULARIES.values():
        term = vocab.term(code) if code in getattr(vocab, "codes", ()) else None
        if term is not None:
            return term.zh
    return code


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _sheet_title(name: str, used: set[str]) -> str:
    base = "".join(ch for ch in str(name) if ch not in '[]:*?/\\')[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def datetimes_as_dates(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Write datetime columns as dates so QGIS and Excel show 2022-03-05, not a timestamp."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name and pd.api.types.is_datetime64_any_dtype(gdf[c])]
    if not cols:
        return gdf
    gdf = gdf.copy()
    for c in cols:
        gdf[c] = gdf[c].dt.strftime("%Y-%m-%d").where(gdf[c].notna(), None)
    return gdf


def ensure_writable(path: str | Path) -> Path:
    """Fail early, with a clear message, when an output path cannot be written."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise UsageError(f"folder {folder} does not exist", hint="create it or choose another -o path")
    if path.exists() and path.is_dir():
        raise UsageError(f"{path} is a folder", hint="give -o a file name such as result.xlsx")
    if not os.access(folder, os.W_OK):
        raise LayerReadError("cannot write here", path=folder, hint="choose a folder you can write to")
    return path
