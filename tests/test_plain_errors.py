"""Plain words for GDAL's, SQLite's and libtiff's errors.

Each case copies the sample township, breaks one file as real copies break (emptied,
cut short, saved by Chinese Excel) and runs what an officer would: the exit code (2 for a
file that cannot be read), what the message says is wrong and what to do — never the
library's own words such as 'CSV:path' or sqlite3_prepare_v2 — and that the commands that
do not read the broken file give the clean sample's numbers.
"""

from __future__ import annotations

import json

import pytest
from messy import SAMPLE, copy_sample, empty_file, invoke, save_csv_as, tables, truncate_file

COPY_AGAIN = "copy it again from where it came from, or export it again"
LIBRARY_WORDS = ("CSV:path", "<DRIVER>", "sqlite3_prepare", "Traceback", "internal error", "IReadBlock",
                 "See previous exception")




@pytest.fixture(scope="module")
def clean() -> dict:
    """The clean sample's numbers of the commands that stay unaffected below."""
    return {"trees": tables("trees", "--township", SAMPLE),
            "zonal": tables("zonal", "ndvi_2023", "--by", "village", "--township", SAMPLE),
            "area": tables("area", "forest_plots", "--by", "species", "--township", SAMPLE),
            "villages": tables("zonal", "landcover", "--layer", "villages", "--township", SAMPLE)}


def refused(*args) -> str:
    """stderr of a command that must stop with exit 2 and a message without the library's words."""
    result = invoke(*args)
    assert result.exit_code == 2, (result.exit_code, result.stdout[-500:], result.stderr)
    for words in LIBRARY_WORDS:
        assert words not in result.stderr
    # progress lines ("Info: reading …") may come first when an earlier command raised the log level
    error = result.stderr[result.stderr.index("Error: "):]
    assert not any(line.startswith("Error: ") for line in result.stderr[: -len(error)].splitlines())
    return " ".join(error.split())


def test_an_empty_geojson_is_called_empty(tmp_path, clean):
    folder = copy_sample(tmp_path)
    empty_file(folder, "rivers.geojson")
    err = refused("rivers", "--township", folder)
    assert "rivers.geojson: cannot open the file: the file is empty (0 bytes)" in err
    assert f"Fix: it was probably cut short while being copied, downloaded or exported: {COPY_AGAIN}" in err
    assert tables("trees", "--township", folder) == clean["trees"]
    check = tables("check", "--township", folder)
    [unreadable] = [f for f in check["findings"] if f["check"] == "unreadable"]
    assert unreadable["layer"] == "rivers" and "the file is empty (0 bytes)" in unreadable["message"]


def test_a_geojson_cut_short_says_where_it_breaks_off(tmp_path, clean):
    folder = copy_sample(tmp_path)
    truncate_file(folder, "rivers.geojson", 0.5)
    err = refused("rivers", "--township", folder)
    assert "rivers.geojson: cannot open the file: the GeoJSON text breaks off at line" in err
    assert "the file is incomplete or damaged" in err and COPY_AGAIN in err
    assert tables("trees", "--township", folder) == clean["trees"]


def test_a_damaged_geopackage_is_called_damaged_with_the_fix(tmp_path, clean):
    folder = copy_sample(tmp_path)
    truncate_file(folder, "township.gpkg", 0.5)
    err = refused("area", "villages", "--township", folder)
    assert ("township.gpkg: cannot open the file: the GeoPackage is damaged (SQLite: database disk image is "
            "malformed)") in err
    assert ("Fix: copy it again from where it came from, or restore it from a backup; if every copy is damaged, "
            "open it in QGIS and export its layers to a new GeoPackage") in err
    assert tables("area", "forest_plots", "--by", "species", "--township", folder) == clean["area"]


def test_an_empty_geopackage_is_called_empty(tmp_path):
    folder = copy_sample(tmp_path)
    empty_file(folder, "township.gpkg")
    err = refused("area", "villages", "--township", folder)
    assert "township.gpkg: cannot open the file: the file is empty (0 bytes)" in err


@pytest.mark.parametrize("part, words", [
    ("forest_plots.shp", ("the shapefile's .shp file is cut short: it holds 343,562 of the 687,124 bytes its index "
                         "(.shx) places shapes in")),
    ("forest_plots.dbf", ("the shapefile's .dbf file is cut short: it holds 54,592 of the 109,183 bytes its header "
                         "declares")),
    ("forest_plots.shx", ("the shapefile's .shx file is cut short: it holds 8,266 of the 16,532 bytes its header "
                         "declares")),
])
def test_a_shapefile_part_cut_short_is_refused_not_read_as_fewer_plots(tmp_path, clean, part, words):
    """GDAL reads a .shp cut in half as 2,054 plots of which most have no shape; they would
    have been left out of every count with exit 0."""
    folder = copy_sample(tmp_path)
    kept = truncate_file(folder, part, 0.5)
    err = refused("area", "forest_plots", "--township", folder)
    assert f"{kept:,}" in words
    assert f"forest_plots.shp: {words}" in err
    assert f"Fix: copy {part} again together with the other parts (it was probably cut short" in err
    assert tables("zonal", "landcover", "--layer", "villages", "--township", folder) == clean["villages"]


def test_an_empty_kml_is_called_empty(tmp_path):
    folder = copy_sample(tmp_path)
    empty_file(folder, "sand_sites.kml")
    err = refused("sand", "--township", folder)
    assert "sand_sites.kml: cannot open the file: the file is empty (0 bytes)" in err and COPY_AGAIN in err


def test_a_workbook_cut_short_is_called_damaged(tmp_path):
    folder = copy_sample(tmp_path)
    truncate_file(folder, "outfalls.xlsx", 0.5)
    err = refused("rivers", "--township", folder)
    assert ("outfalls.xlsx: cannot open the workbook: the workbook is damaged or cut short (an .xlsx file is a "
            "zip archive, and this one is incomplete)") in err
    assert "open it in Excel or WPS and save it again as .xlsx" in err


def test_an_empty_csv_is_called_empty(tmp_path):
    folder = copy_sample(tmp_path)
    empty_file(folder, "infected_trees.csv")
    err = refused("trees", "--township", folder)
    assert "infected_trees.csv: the file is empty (0 bytes)" in err and COPY_AGAIN in err


@pytest.mark.parametrize("keep, words", [(0.0, "cannot be read as a raster: the file is empty (0 bytes)"),
                                         (0.5, ("cannot be read as a raster: the GeoTIFF is damaged or cut short: "
                                               "GDAL cannot read its pixels"))])
def test_a_raster_emptied_or_cut_short_is_bad_input_not_an_internal_error(tmp_path, clean, keep, words):
    folder = copy_sample(tmp_path)
    truncate_file(folder, "dem.tif", keep)
    err = refused("zonal", "dem", "--township", folder)
    assert f"dem.tif: {words}" in err and COPY_AGAIN in err
    assert tables("zonal", "ndvi_2023", "--by", "village", "--township", folder) == clean["zonal"]


def test_a_csv_saved_by_chinese_excel_is_read_as_gbk_with_a_note(tmp_path, clean):
    folder = copy_sample(tmp_path)
    save_csv_as(folder, encoding="gbk")
    assert (folder / "infected_trees.csv").read_bytes() == SAMPLE.joinpath("infected_trees.csv").read_bytes()[3:] \
        .decode("utf-8").encode("gbk")
    assert tables("trees", "--township", folder) == clean["trees"]
    info = invoke("info", "--township", folder, "--format", "json")
    assert info.exit_code == 0, info.stderr
    notes = [f for f in json.loads(info.stdout)["tables"]["findings"]
             if f["layer"] == "infected_trees" and f["check"] == "loading"]
    assert [f["severity"] for f in notes] == ["info"]
    assert notes[0]["message"] == ("text read as GBK: the file is not UTF-8 but decodes cleanly as Chinese GBK text "
                                   "(a CSV saved by Chinese Excel or WPS); to say so, add encoding = \"gbk\" to this "
                                   "layer in township.toml")


def test_a_csv_neither_utf8_nor_gbk_is_still_refused_with_the_fix(tmp_path):
    folder = copy_sample(tmp_path)
    path = folder / "infected_trees.csv"
    path.write_bytes(path.read_bytes() + "Café,117.5,30.5\r\n".encode("latin-1"))
    err = refused("trees", "--township", folder)
    assert "infected_trees.csv: the file is not UTF-8 text (first bad byte on line 18590), nor Chinese GBK text" in err
    assert 'add encoding = "NAME" to this layer in township.toml' in err and "CSV UTF-8" in err
