"""The report's documents on the sample: the Word file (opened with python-docx) and the
HTML page hold the paragraph whose numbers are the indicators, the tables, the charts and
the map; JSON keys are the indicator ids; --lang zh heads everything in Chinese."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import pytest
from docx import Document
from test_report import check_paragraph_en, check_paragraph_zh

from geo_township.cli import main
from geo_township.layers import load_township
from geo_township.report import INDICATORS, values_of, year_report

REPO = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def values() -> dict:
    return values_of(year_report(load_township(REPO / "layers" / "township.toml"), 2022))


def test_docx_holds_the_paragraph_tables_charts_and_map(runner, sample_dir, tmp_path, values):
    out = tmp_path / "report.docx"
    result = runner.invoke(main, ["report", "--township", str(sample_dir), "--year", "2022", "--lang", "zh",
                                  "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    doc = Document(str(out))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "青溪乡2022年度工作报告指标"
    paragraph = next(t for t in texts if t.startswith("推深做实林长制"))
    check_paragraph_zh(paragraph, values)
    headings = {t for p, t in zip(doc.paragraphs, texts, strict=True) if p.style.name.startswith("Heading")}
    assert {"指标", "各村松材线虫病疫木", "各村新增土地流转", "图表", "地图", "方法与来源"} <= headings
    first = doc.tables[0]
    assert [c.text for c in first.rows[0].cells][:5] == ["指标", "分项", "2022年", "2021年", "变化"]
    cleared = next(r for r in first.rows if r.cells[0].text == "疫木清理")
    assert cleared.cells[2].text == f"{values['cleared_trees']['value']['value']:,}"
    images = [r for r in doc.part.rels.values() if "image" in r.reltype]
    assert len(images) == 4  # three charts and the map
    assert all(r.target_part.blob.startswith(PNG) for r in images)


def test_html_is_self_contained_with_charts_and_the_map(runner, sample_dir, tmp_path, values):
    out = tmp_path / "report.html"
    result = runner.invoke(main, ["report", "--township", str(sample_dir), "--year", "2022", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    charts = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(charts) == 3 and all(base64.b64decode(c).startswith(PNG) for c in charts)
    srcdoc = re.search(r'<iframe class=\'map\' title=\'map\' srcdoc="([^"]*)"', page)
    assert srcdoc and "leaflet" in html.unescape(srcdoc[1]).lower()
    assert "<script src=\"http" not in page.split("<iframe")[0]  # nothing fetched by the report itself
    total = values["cleared_trees_cumulative"]["value"]["value"]
    assert f"{total:,} in all" in page
    check_paragraph_en(html.unescape(page), values)


def test_json_keys_are_the_indicator_ids(runner, sample_dir):
    result = runner.invoke(main, ["report", "--township", str(sample_dir), "--year", "2022", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data["indicators"]) == [i.id for i in INDICATORS]
    # by hand from layers/sand_sites.kml: closed in 2022 SS-07, SS-08, SS-10, SS-12 (plants SS-08, SS-10),
    # before it SS-05, SS-13 (plants) and SS-06, SS-11 (river sites)
    assert data["indicators"]["sand_closed"]["value"] == {"value": 4, "cumulative": 8, "plants": 2,
                                                          "plants_cumulative": 4, "mining_sites": 2,
                                                          "mining_sites_cumulative": 4}
    assert data["paragraph"]["zh"].startswith("推深做实林长制")


def test_lang_zh_labels_every_line(runner, sample_dir):
    result = runner.invoke(main, ["report", "--township", str(sample_dir), "--year", "2022", "--lang", "zh"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for word in ("指标", "分项", "2022年", "2021年", "疫木清理", "新增人工造林", "光伏电站土地流转",
                 "各村松材线虫病疫木", "累计清理疫木"):
        assert word in out, word
    assert "Infected trees cleared" not in out and "new_afforestation_mu" not in out


def test_every_table_and_column_of_the_report_is_labelled():
    """Each table name and column heading of the report reads in English and in Chinese
    (its own labels, or the package's), like tests/test_labels.py asks of every analysis."""
    from geo_township.kinds import has_label
    from geo_township.labels import TABLE_LABELS, has_cjk

    result = year_report(load_township(REPO / "layers" / "township.toml"), 2022)
    for name, table in result.all_tables().items():
        assert name in TABLE_LABELS and has_cjk(TABLE_LABELS[name][1]), name
        for col in table.columns:
            own = result.labels.get(str(col))
            assert (own is not None and has_cjk(own[1])) or has_label(str(col)) or re.fullmatch(r"20\d\d", str(col)), (
                name, col)


def test_the_explain_help_names_every_file_kind_it_writes():
    from click.testing import CliRunner

    from geo_township.cli import main
    from geo_township.report.explain import SUFFIXES

    shown = CliRunner().invoke(main, ["report", "--help"], terminal_width=200).output
    assert all(suffix in shown for suffix in SUFFIXES), shown


def test_chinese_csv_writes_counts_as_whole_numbers(runner, sample_dir, values):
    """A column mixing counts and areas keeps 8792 a count in Chinese too (not 8792.0)."""
    result = runner.invoke(main, ["report", "--township", str(sample_dir), "--year", "2022", "--lang", "zh",
                                  "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = {line.split(",")[0]: line.split(",") for line in result.stdout.lstrip("\ufeff").splitlines()}
    cleared = values["cleared_trees"]["value"]["value"]
    assert rows["疫木清理"][2] == str(cleared)  # the 2022 column
