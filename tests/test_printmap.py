"""The printed map (geo_township.printmap): paper sizes, a true scale and scale bar, the
font for Chinese text, and the sample township printed as a PDF (one page, one village,
the atlas of its ten villages) and as PNG bytes — checked in the PDF itself (page size,
embedded CJK font) and in its rendered page (a drawn map, not a blank one).

Rendering a PDF page needs poppler's ``pdftoppm`` and the Chinese text a CJK font; without
them these tests are skipped with the reason, except when GEO_TOWNSHIP_REQUIRE_BROWSER is
set (as .ci/run does, which installs poppler-utils and fonts-noto-cjk): then they fail.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import shapely

from geo_township.errors import UsageError
from geo_township.printmap import fonts, paper

pypdf = pytest.importorskip("pypdf")

CJK_FONT_WORDS = ("noto", "cjk", "wenquanyi", "wqy", "yahei", "simhei", "pingfang", "sourcehan", "heiti", "hiragino")


def required(reason: str) -> None:
    """Skip with ``reason`` — or fail, where the CI asks for every test to run."""
    if os.environ.get("GEO_TOWNSHIP_REQUIRE_BROWSER"):
        pytest.fail(f"printed-map tests are required here but cannot run: {reason}")
    pytest.skip(reason)


def need_cjk_font() -> fonts.FontChoice:
    font = fonts.find_cjk_font()
    if font is None:
        required("no CJK font on this machine (apt install fonts-noto-cjk)")
    return font


def rendered_page(pdf: Path, tmp_path: Path, page: int = 1) -> np.ndarray:
    """Page ``page`` of ``pdf`` rendered by pdftoppm at 50 dpi, as an RGB array."""
    from PIL import Image

    if shutil.which("pdftoppm") is None:
        required("pdftoppm is not installed (apt install poppler-utils)")
    stem = tmp_path / f"page{page}"
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                    str(stem)], check=True, capture_output=True)
    return np.asarray(Image.open(f"{stem}.png").convert("RGB"))


def assert_drawn_map(rgb: np.ndarray, share: float = 0.3) -> None:
    """A drawn map: a good share of the page is not white, in many distinct colours."""
    not_white = (rgb < 235).any(axis=2).mean()
    assert not_white > share, f"only {not_white:.0%} of the page is drawn"
    colours = np.unique((rgb // 32).reshape(-1, 3), axis=0)
    assert len(colours) >= 20, f"only {len(colours)} colours on the page"


def embedded_fonts(pdf_path: Path, page: int = 0) -> list[str]:
    reader = pypdf.PdfReader(str(pdf_path))
    fonts_ = reader.pages[page]["/Resources"]["/Font"]
    return [str(f.get_object()["/BaseFont"]) for f in fonts_.values()]


def glyph_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]


# --------------------------------------------------------------------------- paper and scale


@pytest.mark.parametrize(("size", "orientation", "expected"), [
    ("A4", "landscape", (842, 595)), ("A4", "portrait", (595, 842)),
    ("A3", "landscape", (1191, 842)), ("A3", "portrait", (842, 1191)),
])
def test_page_sizes_in_points(size, orientation, expected):
    w, h = paper.page_size_pt(size, orientation)
    assert abs(w - expected[0]) <= 1 and abs(h - expected[1]) <= 1


def test_unknown_paper_is_refused():
    with pytest.raises(UsageError, match="A4, A3"):
        paper.page_size_mm("B5")


@pytest.mark.parametrize("width_m", [180.0, 999.0, 1000.0, 2400.0, 7_450.0, 14_910.0, 16_000.0, 55_555.0, 2.3e6])
def test_scale_bar_length_is_round_and_a_tenth_to_a_quarter_of_the_map(width_m):
    bar = paper.scale_bar_length(width_m)
    mantissa = bar / 10 ** math.floor(math.log10(bar))
    assert round(mantissa, 9) in (1.0, 2.0, 5.0)
    assert 0.1 * width_m < bar <= 0.25 * width_m


def test_scale_bar_segments_and_labels():
    assert paper.bar_ticks(2000) == [0, 500, 1000, 1500, 2000]
    assert paper.bar_ticks(1000) == [0, 200, 400, 600, 800, 1000]
    assert paper.distance_text(2000) == "2 km" and paper.distance_text(500) == "500 m"
    assert paper.scale_text(75000) == "1:75 000"


@pytest.mark.parametrize("minimum", [1.0, 9_999.0, 10_001.0, 61_234.0, 83_000.0, 99_999.0, 123_456.0])
def test_nice_scale_is_the_next_round_scale(minimum):
    scale = paper.nice_scale(minimum)
    assert scale >= minimum
    power = 10 ** math.floor(math.log10(minimum))
    assert round(scale / power, 9) in (*paper.NICE_SCALE_STEPS, 10.0)
    smaller = [s * power for s in paper.NICE_SCALE_STEPS if s * power < scale]
    assert all(s < minimum for s in smaller)


def test_map_extent_is_true_to_scale_and_fits():
    frame = (213.0, 157.0)
    extent_m = (14_000.0, 9_800.0)
    scale = paper.map_scale(extent_m, frame)
    xmin, xmax, ymin, ymax = paper.map_extent((500_000.0, 3_370_000.0), frame, scale)
    # 1 mm of paper is `scale` mm of ground, across and up alike
    assert (xmax - xmin) / (frame[0] / 1000) == pytest.approx(scale)
    assert (ymax - ymin) / (frame[1] / 1000) == pytest.approx(scale)
    assert xmax - xmin >= extent_m[0] and ymax - ymin >= extent_m[1]


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_frames_do_not_overlap_and_stay_on_the_page(orientation):
    lay = paper.layout("A4", orientation)
    frames = [lay.title, lay.map, lay.legend, lay.notes]
    for f in frames:
        assert f.x >= 0 and f.y >= 0 and f.x + f.w <= lay.page_w and f.y + f.h <= lay.page_h
    boxes = [shapely.box(f.x, f.y, f.x + f.w, f.y + f.h) for f in frames]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a.intersection(b).area == 0


# --------------------------------------------------------------------------- fonts


def test_a_cjk_font_is_found_and_draws_chinese():
    font = need_cjk_font()
    assert any(w in font.family.lower().replace(" ", "") for w in CJK_FONT_WORDS)
    assert fonts.missing_glyphs(["青溪乡 石门村 图例 比例尺 1:75 000"], font) == set()


def test_without_a_cjk_font_chinese_text_is_refused_with_how_to_install_one(monkeypatch):
    monkeypatch.setattr(fonts, "CJK_FAMILIES", ())
    monkeypatch.setattr(fonts, "FONT_FILES", ())
    with pytest.raises(UsageError) as info:
        fonts.choose_font(["石门村"])
    assert "Chinese" in str(info.value) and "install" in str(info.value).lower()
    # a page without Chinese text still prints, in matplotlib's own font
    assert fonts.choose_font(["Village A"]).family == fonts.LATIN_FALLBACK


def test_characters_no_font_has_are_refused():
    need_cjk_font()
    with pytest.raises(UsageError, match="U\\+F0000"):
        fonts.choose_font(["石门村\U000f0000"])


# --------------------------------------------------------------------------- the sample, printed


@pytest.fixture(scope="module")
def sample_township(sample_dir):
    from geo_township.layers import load_township

    return load_township(sample_dir)


@pytest.fixture(scope="module")
def models(sample_township):
    from geo_township.webmap.model import build_model

    return {lang: build_model(sample_township, lang=lang) for lang in ("en", "zh")}


@pytest.fixture(scope="module")
def township_pdf(sample_township, models, tmp_path_factory):
    """The sample's Chinese printed map (A4 landscape), and the warnings while drawing it."""
    from geo_township.printmap import print_map

    need_cjk_font()
    path = tmp_path_factory.mktemp("print") / "青溪乡.pdf"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        printed = print_map(sample_township, path, lang="zh", model=models["zh"])
    return printed, caught


def test_the_pdf_is_a4_landscape_with_an_embedded_cjk_font(township_pdf):
    printed, _ = township_pdf
    reader = pypdf.PdfReader(str(printed.path))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 842) <= 1 and abs(float(box.height) - 595) <= 1
    names = embedded_fonts(printed.path)
    assert any(any(w in n.lower() for w in CJK_FONT_WORDS) for n in names), names
    text = reader.pages[0].extract_text()
    assert "青溪乡" in text and "石门村" in text and "图例" in text and "比例尺 1:" in text


def test_no_glyph_is_missing_while_drawing_chinese(township_pdf):
    _, caught = township_pdf
    assert glyph_warnings(caught) == []


def test_the_rendered_page_is_a_drawn_map(township_pdf, tmp_path):
    printed, _ = township_pdf
    rgb = rendered_page(printed.path, tmp_path)
    assert rgb.shape[1] == pytest.approx(842 * 50 / 72, abs=2)
    assert_drawn_map(rgb)


def test_the_printed_map_shows_the_layers_the_page_shows_at_opening(township_pdf, models):
    from geo_township.printmap.draw import shown_layers

    printed, _ = township_pdf
    at_opening = {lay.key for lay in models["zh"].layers if lay.show and lay.geometry != "raster"}
    assert set(printed.layers) == {lay.key for lay in shown_layers(models["zh"])}
    assert set(printed.layers) <= at_opening
    assert {"villages", "forest_plots", "infected_trees", "rivers", "sand_sites", "land_transfers"} <= set(
        printed.layers)
    assert "patrols" not in printed.layers and "basic_farmland" not in printed.layers
    assert printed.relief == "dem" and printed.crs == "EPSG:4548"


def test_the_scale_and_the_scale_bar_are_true_on_the_page(township_pdf, sample_township):
    printed, _ = township_pdf
    (page,) = printed.pages
    xmin, xmax, ymin, ymax = page.extent
    # the extent is the map frame at 1:scale, so a bar of bar_m metres is bar_mm on paper
    assert (xmax - xmin) == pytest.approx(page.frame_mm[0] / 1000 * page.scale)
    assert (ymax - ymin) == pytest.approx(page.frame_mm[1] / 1000 * page.scale)
    assert page.bar_m == paper.scale_bar_length(xmax - xmin)
    assert 0.1 * (xmax - xmin) < page.bar_m <= 0.25 * (xmax - xmin)
    assert page.bar_mm == pytest.approx(page.bar_m / page.scale * 1000)
    # the whole township is inside the frame at that scale
    villages = sample_township.gdf("villages").total_bounds
    assert xmin <= villages[0] and villages[2] <= xmax and ymin <= villages[1] and villages[3] <= ymax


def test_the_english_page_labels_villages_in_chinese_and_headings_in_english(sample_township, models, tmp_path):
    from geo_township.printmap import print_map

    need_cjk_font()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        printed = print_map(sample_township, tmp_path / "a3.pdf", lang="en", paper="A3", orientation="portrait",
                            model=models["en"])
    assert glyph_warnings(caught) == []
    box = pypdf.PdfReader(str(printed.path)).pages[0].mediabox
    assert abs(float(box.width) - 842) <= 1 and abs(float(box.height) - 1191) <= 1
    text = pypdf.PdfReader(str(printed.path)).pages[0].extract_text()
    assert "Legend" in text and "Qingxi Township" in text and "石门村" in text and "图例" not in text


def test_one_village_is_zoomed_to_with_the_others_greyed(sample_township, models, township_pdf, tmp_path):
    from geo_township.printmap import print_map

    printed = print_map(sample_township, tmp_path / "石门村.pdf", lang="zh", village="石门村", model=models["zh"])
    (page,) = printed.pages
    whole = township_pdf[0].pages[0]
    assert page.village == "石门村" and page.scale < whole.scale
    bounds = sample_township.gdf("villages").set_index("village").loc[["石门村"]].total_bounds
    xmin, xmax, ymin, ymax = page.extent
    assert xmin <= bounds[0] and bounds[2] <= xmax and ymin <= bounds[1] and bounds[3] <= ymax
    text = pypdf.PdfReader(str(printed.path)).pages[0].extract_text()
    assert "石门村" in text and "其他村淡化显示" in text
    assert_drawn_map(rendered_page(printed.path, tmp_path))


def test_the_atlas_has_one_page_per_village(sample_township, models, tmp_path):
    from geo_township.printmap import print_map, village_names

    need_cjk_font()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        printed = print_map(sample_township, tmp_path / "atlas.pdf", lang="zh", atlas=True, model=models["zh"])
    assert glyph_warnings(caught) == []
    reader = pypdf.PdfReader(str(printed.path))
    names = village_names(sample_township)
    assert len(names) == 10 and len(reader.pages) == 10 and len(printed.pages) == 10
    assert [p.village for p in printed.pages] == names
    for i, (pdf_page, page) in enumerate(zip(reader.pages, printed.pages, strict=True)):
        assert abs(float(pdf_page.mediabox.width) - 842) <= 1
        assert page.village in pdf_page.extract_text()
        assert 0.1 * page.width_m < page.bar_m <= 0.25 * page.width_m
        if i in (0, 9):
            assert_drawn_map(rendered_page(printed.path, tmp_path, page=i + 1))


def test_an_unknown_village_is_refused_before_any_work(sample_township, monkeypatch, tmp_path):
    from geo_township.printmap import print_map
    from geo_township.webmap import model

    def no_work(*args, **kwargs):
        raise AssertionError("the map was built before the village was checked")

    monkeypatch.setattr(model, "build_model", no_work)
    with pytest.raises(UsageError) as info:
        print_map(sample_township, tmp_path / "x.pdf", village="石门")
    message = str(info.value)
    assert "石门" in message and "石门村" in message and "新塘村" in message
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"path": "map.svg"}, "PDF or PNG"),
    ({"path": "atlas.png", "atlas": True}, "PDF"),
    ({"path": "a.pdf", "atlas": True, "village": "石门村"}, "not both"),
    ({"path": "a.pdf", "paper": "Letter"}, "A4"),
    ({"path": "a.pdf", "orientation": "sideways"}, "landscape"),
    ({"path": "a.pdf", "dpi": 20}, "dpi"),
    ({"path": "no/such/folder/a.pdf"}, "does not exist"),
])
def test_requests_that_cannot_be_honoured_are_refused(sample_township, monkeypatch, tmp_path, kwargs, message):
    from geo_township.printmap import print_map
    from geo_township.webmap import model

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(model, "build_model", lambda *a, **k: pytest.fail("work began"))
    path = kwargs.pop("path")
    with pytest.raises(UsageError, match=message):
        print_map(sample_township, path, **kwargs)


def test_png_bytes_for_a_report_figure(sample_township, models):
    from PIL import Image

    from geo_township.printmap import map_png

    need_cjk_font()
    data, printed = map_png(sample_township, dpi=100, lang="en", model=models["en"])
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert abs(image.size[0] - 297 / 25.4 * 100) <= 1 and abs(image.size[1] - 210 / 25.4 * 100) <= 1
    assert printed.path is None and printed.bytes == len(data) and printed.format == "png"
    assert_drawn_map(np.asarray(image.convert("RGB")))


# --------------------------------------------------------------------------- relief and layering


@pytest.mark.parametrize("raster", ["dem", "ndvi_2022", "landcover"])  # EPSG:4548, UTM 50N, lon/lat
def test_the_relief_lands_on_the_working_grid_whatever_the_raster_crs(sample_township, raster):
    from geo_township.printmap.relief import dem_name, load_relief

    assert dem_name(sample_township) == "dem"
    relief = load_relief(sample_township, raster)
    assert np.nanmin(relief.shade) >= 0 and np.nanmax(relief.shade) <= 1
    xmin, ymin, xmax, ymax = sample_township.gdf("villages").total_bounds
    shade = relief.on_grid((xmin, xmax, ymin, ymax), (120, 160), sample_township.working_crs)
    assert shade.shape == (120, 160)
    # land cover has no data outside the township; every raster covers its middle
    assert np.isfinite(shade).mean() > 0.6 and np.isfinite(shade[40:80, 50:110]).all()
    assert np.nanstd(shade) > 0.01


def test_the_relief_is_sampled_where_it_lies():
    from pyproj import CRS

    from geo_township.printmap.relief import Relief

    shade = np.tile(np.linspace(0, 1, 11), (5, 1))  # brighter eastwards, 10 m pixels from x = 1000
    relief = Relief("dem", "dem.tif", shade, CRS(4548), 1000.0, 2050.0, 10.0, -10.0, 10.0)
    grid = relief.on_grid((1000.0, 1110.0, 2000.0, 2050.0), (5, 11), CRS(4548))
    assert np.allclose(grid[2, :], np.linspace(0, 1, 11))
    outside = relief.on_grid((5000.0, 5100.0, 2000.0, 2050.0), (2, 2), CRS(4548))
    assert np.isnan(outside).all()


def test_only_the_printed_map_imports_matplotlib():
    from test_architecture import PACKAGE, imported_modules, python_files, rel

    offenders = [rel(p) for p in python_files() if "matplotlib" in imported_modules(p)
                 and not rel(p).startswith("printmap/")]
    assert offenders == []
    assert (PACKAGE / "printmap" / "__init__.py").exists()


def test_map_help_does_not_import_matplotlib():
    code = ("import sys\nfrom geo_township.cli import main\n"
            "try:\n    main(['map', '--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'matplotlib' not in sys.modules and 'geopandas' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
