"""The year's report as a Word document and as one self-contained HTML page: title, the
paragraph, the indicators, one table per topic per village, the charts (matplotlib, PNG),
the map, and the method and provenance.

The HTML page embeds the interactive map (:mod:`geo_township.webmap`, Leaflet inlined) in an
``<iframe srcdoc>``, so the report is one file; the charts are ``data:`` URIs.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from geo_township.labels import table_label
from geo_township.results import Result

CHARTS = ("trees_by_month", "transfers_by_use_year", "sand_by_status")
"""The tables drawn as charts, in the order they appear."""
TOPICS = ("trees_by_village", "transfers_by_village", "sand_by_village", "rivers_by_village")
"""The tables per village, one per topic."""
_CHART_TITLES = {
    "trees_by_month": ("Pine-wilt trees found and cleared per month, {year}", "{year}年各月发现和清理疫木(株)"),
    "transfers_by_use_year": ("Land transfers by use and start year (measured mu)",
                              "各年起始的土地流转面积(按用途，亩)"),
    "sand_by_status": ("Sand sites by status", "采砂场点(按状态)"),
}


def chart_pngs(result: Result, lang: str = "en") -> dict[str, bytes]:
    """Each chart of :data:`CHARTS` that the report has, as PNG bytes (150 dpi), drawn by
    :func:`geo_township.printmap.charts.bar_chart_png` from the report's own tables."""
    from geo_township.printmap.charts import bar_chart_png

    zh = lang == "zh"
    year = result.provenance.get("year")
    tables = result.localised(lang, headings=False)
    out: dict[str, bytes] = {}
    for name in CHARTS:
        if name not in tables or tables[name].empty:
            continue
        df = tables[name]
        title = _CHART_TITLES[name][1 if zh else 0].format(year=year)
        if name == "trees_by_month":
            series = {("发现" if zh else "found"): df["found"], ("清理" if zh else "cleared"): df["cleared"]}
            out[name] = bar_chart_png([m[-2:] for m in df["month"]], series, title=title)
        elif name == "transfers_by_use_year":
            pivot = df.pivot_table(index="start_year", columns="use", values="measured_mu", aggfunc="sum").fillna(0)
            out[name] = bar_chart_png([str(y) for y in pivot.index], {str(u): pivot[u] for u in pivot.columns},
                                      title=title, stacked=True)
        else:
            out[name] = bar_chart_png(df["status"].astype(str).tolist(), {"sites": df["sites"]}, title=title)
    return out


def _indicator_rows(result: Result, lang: str) -> pd.DataFrame:
    table = result.localised(lang)["indicators"]
    return table.drop(columns=table.columns[-1])  # the definitions go to the appendix


def _definitions(result: Result, lang: str) -> list[tuple[str, str]]:
    from geo_township.report.indicators import INDICATORS

    return [(i.name(lang), i.definition(lang)) for i in INDICATORS]


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _map_png(township: Any, county_map: Any, lang: str) -> bytes | None:
    """The printed map's page of the township (or of the county's prepared map) as PNG, or
    None without either."""
    from geo_township.printmap import county_map_png, map_png

    if county_map is not None:
        return county_map_png(county_map, lang=lang, dpi=150)[0]
    if township is None:
        return None
    data, _ = map_png(township, lang=lang, dpi=150, hillshade=False)
    return data


def write_docx(result: Result, path: str | Path, *, lang: str = "en", township: Any = None,
               county_map: Any = None) -> None:
    """The report as a Word document (python-docx), written atomically; its map that of
    ``township``, or of a county (``county_map``, prepared by
    :func:`geo_township.webmap.prepare_county_map`)."""
    from docx import Document
    from docx.shared import Cm

    from geo_township.io.write import atomic_path

    zh = lang == "zh"
    doc = Document()
    doc.add_heading(result.title_in(lang), level=0)
    doc.add_paragraph(result.notes_in(lang)[0])
    doc.add_heading("指标" if zh else "Indicators", level=1)
    _docx_table(doc, _indicator_rows(result, lang))
    localised = result.localised(lang)
    for name in TOPICS:
        if name in localised:
            doc.add_heading(table_label(name, lang), level=1)
            _docx_table(doc, localised[name])
    charts = chart_pngs(result, lang)
    if charts:
        doc.add_heading("图表" if zh else "Charts", level=1)
        for png in charts.values():
            doc.add_picture(io.BytesIO(png), width=Cm(16))
    map_page = _map_png(township, county_map, lang)
    if map_page is not None:
        doc.add_heading("地图" if zh else "Map", level=1)
        doc.add_picture(io.BytesIO(map_page), width=Cm(16))
    doc.add_heading("方法与来源" if zh else "Method and provenance", level=1)
    for name, definition in _definitions(result, lang):
        doc.add_paragraph(f"{name}：{definition}" if zh else f"{name}: {definition}", style="List Bullet")
    for key, value in result.provenance.items():
        if key != "indicators":
            text = json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (list, dict)) else value
            doc.add_paragraph(f"{key}: {text}")
    with atomic_path(path) as tmp:
        doc.save(str(tmp))


def _docx_table(doc: Any, df: pd.DataFrame) -> None:
    table = doc.add_table(rows=1, cols=len(df.columns))
    table.style = "Table Grid"
    for cell, col in zip(table.rows[0].cells, df.columns, strict=True):
        cell.text = str(col)
    for row in df.itertuples(index=False):
        cells = table.add_row().cells
        for cell, v in zip(cells, row, strict=True):
            cell.text = _cell(v)


def _html_table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
                   for row in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_html(result: Result, path: str | Path, *, lang: str = "en", township: Any = None,
               county_map: Any = None) -> None:
    """The report as one self-contained HTML page, written atomically: charts as data URIs,
    the interactive map of ``township`` or of a county (``county_map``; Leaflet inlined)
    inside an ``<iframe srcdoc>``."""
    from geo_township.io.write import atomic_path

    zh = lang == "zh"
    parts = [f"<h1>{html.escape(result.title_in(lang))}</h1>",
             f"<p class='paragraph'>{html.escape(result.notes_in(lang)[0])}</p>",
             f"<h2>{'指标' if zh else 'Indicators'}</h2>", _html_table(_indicator_rows(result, lang))]
    localised = result.localised(lang)
    for name in TOPICS:
        if name in localised:
            parts += [f"<h2>{html.escape(table_label(name, lang))}</h2>", _html_table(localised[name])]
    charts = chart_pngs(result, lang)
    if charts:
        parts.append(f"<h2>{'图表' if zh else 'Charts'}</h2>")
        parts += [f"<img alt='{html.escape(name)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
                  for name, png in charts.items()]
    if township is not None or county_map is not None:
        from geo_township.webmap import build_county_map, build_map

        _, page = (build_county_map(county_map, lang=lang, offline=True) if county_map is not None
                   else build_map(township, lang=lang, offline=True))
        parts += [f"<h2>{'地图' if zh else 'Map'}</h2>",
                  f"<iframe class='map' title='map' srcdoc=\"{html.escape(page, quote=True)}\"></iframe>"]
    parts.append(f"<h2>{'方法与来源' if zh else 'Method and provenance'}</h2><dl>")
    parts += [f"<dt>{html.escape(n)}</dt><dd>{html.escape(d)}</dd>" for n, d in _definitions(result, lang)]
    parts.append("</dl><pre>" + html.escape(json.dumps(
        {k: v for k, v in result.provenance.items() if k != "indicators"}, ensure_ascii=False, indent=2,
        default=str)) + "</pre>")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}table{border-collapse:collapse;"
             "margin:.5em 0}td,th{border:1px solid #bbb;padding:2px 6px;font-size:13px}img{max-width:100%}"
             "iframe.map{width:100%;height:640px;border:1px solid #bbb}")
    page = (f"<!DOCTYPE html><html lang='{'zh-CN' if zh else 'en'}'><head><meta charset='utf-8'>"
            f"<title>{html.escape(result.title_in(lang))}</title><style>{style}</style></head><body>"
            + "\n".join(parts) + "</body></html>")
    with atomic_path(path) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")
