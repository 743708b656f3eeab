"""The year's report written by the suffix of ``-o``: ``.json`` (indicator ids as keys),
``.xlsx`` (a sheet per table, the paragraph and a provenance sheet), ``.docx`` and ``.html``
(:mod:`geo_township.report.document`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from geo_township.errors import UsageError
from geo_township.report.build import values_of
from geo_township.results import Result

REPORT_SUFFIXES = (".json", ".xlsx", ".docx", ".html", ".csv")


def report_json(result: Result, lang: str = "en") -> str:
    """The report as JSON: ``indicators`` (id → names, unit, definition and the value,
    previous and change of each part, or ``missing``), the paragraph and the provenance."""
    out: dict[str, Any] = {
        "title": result.title_in(lang),
        "year": result.provenance.get("year"),
        "indicators": values_of(result),
        "paragraph": {"en": result.notes[0], "zh": result.notes_zh[0]},
        "provenance": json.loads(json.dumps(result.provenance, ensure_ascii=False, default=str)),
    }
    return json.dumps(out, ensure_ascii=False, indent=2, default=str)


def write_report(result: Result, path: str | Path, *, lang: str = "en", township: Any = None,
                 county_map: Any = None) -> None:
    """Write ``result`` (of :func:`~geo_township.report.build.year_report`) to ``path`` by its
    suffix, atomically. .docx and .html show the map of ``township``, or of a county
    (``county_map``, prepared by :func:`geo_township.webmap.prepare_county_map`)."""
    from geo_township.io.write import atomic_path, write_xlsx

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        with atomic_path(path) as tmp:
            tmp.write_text(report_json(result, lang) + "\n", encoding="utf-8")
    elif suffix == ".xlsx":
        import pandas as pd

        from geo_township.labels import table_label

        tables = {table_label(k, lang) if lang == "zh" else k: v for k, v in result.localised(lang).items()}
        heading = "工作报告段落" if lang == "zh" else "Paragraph"
        tables = {**tables, ("段落" if lang == "zh" else "paragraph"): pd.DataFrame({heading: result.notes_in(lang)})}
        write_xlsx(tables, result.provenance, path, about_title="来源" if lang == "zh" else "Provenance")
    elif suffix in (".docx", ".html"):
        from geo_township.report.document import write_docx, write_html

        (write_docx if suffix == ".docx" else write_html)(result, path, lang=lang, township=township,
                                                          county_map=county_map)
    else:
        raise UsageError(f"cannot write the report as {suffix or 'a file without suffix'}",
                         hint="use report.docx, report.xlsx, report.html or report.json (or --format csv -o FILE.csv)")
