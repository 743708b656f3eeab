"""`geo-township map --print FILE.pdf|FILE.png`: the printed map from the command line —
what it writes (and does not), its options, and the requests it refuses with exit code 2
before any work. Uses the hand-made township of the map tests (three villages, no DEM)."""

from __future__ import annotations

import warnings

import pytest
from test_printmap import assert_drawn_map, glyph_warnings, need_cjk_font, rendered_page
from test_webmap_fixture import VILLAGES, make_township

from geo_township.cli import main

pypdf = pytest.importorskip("pypdf")


@pytest.fixture(scope="module")
def township_dir(tmp_path_factory):
    return make_township(tmp_path_factory.mktemp("cliprint") / "t")


@pytest.fixture
def no_model(monkeypatch):
    """Make building the map fail, to prove a request was refused before any work."""
    from geo_township.webmap import model

    monkeypatch.setattr(model, "build_model", lambda *a, **k: pytest.fail("the map was built"))


def test_print_writes_the_pdf_and_not_the_page(runner, township_dir, tmp_path, monkeypatch):
    need_cjk_font()
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = runner.invoke(main, ["map", "--township", str(township_dir), "--print", "map.pdf", "--no-summary"])
    assert result.exit_code == 0, result.output + result.stderr
    assert glyph_warnings(caught) == []
    assert "Printed map written to map.pdf (1 page, A4 landscape" in result.stdout
    assert not (tmp_path / "maps").exists()
    reader = pypdf.PdfReader(str(tmp_path / "map.pdf"))
    box = reader.pages[0].mediabox
    assert len(reader.pages) == 1 and abs(float(box.width) - 842) <= 1 and abs(float(box.height) - 595) <= 1
    text = reader.pages[0].extract_text()
    assert "甲村" in text and VILLAGES[2] in text and "Legend" in text
    assert_drawn_map(rendered_page(tmp_path / "map.pdf", tmp_path), share=0.15)  # three small villages


def test_print_a_png_on_a3_portrait_in_chinese(runner, township_dir, tmp_path):
    from PIL import Image

    need_cjk_font()
    out = tmp_path / "地图.png"
    result = runner.invoke(main, ["map", "--township", str(township_dir), "--print", str(out), "--paper", "A3",
                                  "--orientation", "portrait", "--dpi", "72", "--lang", "zh", "--no-summary"])
    assert result.exit_code == 0, result.stderr
    assert "打印地图已写入" in result.stdout and "A3 纵向" in result.stdout
    image = Image.open(out)
    assert abs(image.size[0] - 842) <= 1 and abs(image.size[1] - 1191) <= 1


def test_print_the_atlas_and_the_page_together(runner, township_dir, tmp_path):
    need_cjk_font()
    page, atlas = tmp_path / "t.html", tmp_path / "atlas.pdf"
    result = runner.invoke(main, ["map", "--township", str(township_dir), "-o", str(page), "--print", str(atlas),
                                  "--atlas", "--lang", "zh", "--no-summary"])
    assert result.exit_code == 0, result.stderr
    assert page.exists() and "地图已写入" in result.stdout and "（3 页" in result.stdout
    reader = pypdf.PdfReader(str(atlas))
    assert len(reader.pages) == 3
    for pdf_page, village in zip(reader.pages, VILLAGES, strict=True):
        assert village in pdf_page.extract_text()


def test_print_one_village(runner, township_dir, tmp_path):
    need_cjk_font()
    out = tmp_path / "village.pdf"
    result = runner.invoke(main, ["map", "--township", str(township_dir), "--print", str(out), "--village", "乙村",
                                  "--no-summary"])
    assert result.exit_code == 0, result.stderr
    text = pypdf.PdfReader(str(out)).pages[0].extract_text()
    assert "乙村" in text and "Other villages greyed" in text


def test_an_unknown_village_is_refused_before_any_work_listing_the_villages(runner, township_dir, tmp_path, no_model):
    out = tmp_path / "x.pdf"
    result = runner.invoke(main, ["map", "--township", str(township_dir), "--print", str(out), "--village", "丁村"])
    assert result.exit_code == 2
    assert "no village called '丁村'" in result.stderr and "甲村, 乙村" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--village", "甲村"], "--village is an option of the printed map"),
    (["--atlas", "--paper", "A3"], "--paper, --atlas are options of the printed map"),
    (["--print", "x.svg"], "PDF or PNG"),
    (["--print", "x.png", "--atlas"], "written as a PDF"),
    (["--print", "x.pdf", "--atlas", "--village", "甲村"], "not both"),
    (["--print", "no/such/folder/x.pdf"], "does not exist"),
    (["--print", "x.pdf", "--indicator", "standing"], "--indicator only changes the interactive page"),
    (["--print", "x.pdf", "--dpi", "10"], "10"),
    (["--print", "x.pdf", "--paper", "B5"], "B5"),
])
def test_bad_print_requests_exit_2_with_a_message(runner, township_dir, tmp_path, monkeypatch, no_model, args,
                                                  message):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["map", "--township", str(township_dir), "--no-summary", *args])
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())


def test_without_a_chinese_font_the_command_says_how_to_install_one(runner, township_dir, tmp_path, monkeypatch,
                                                                   no_model):
    from geo_township.printmap import fonts

    monkeypatch.setattr(fonts, "CJK_FAMILIES", ())
    monkeypatch.setattr(fonts, "FONT_FILES", ())
    out = tmp_path / "x.pdf"
    result = runner.invoke(main, ["map", "--township", str(township_dir), "--print", str(out), "--no-summary"])
    assert result.exit_code == 2
    assert "no font that can draw Chinese" in result.stderr and "install" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()
