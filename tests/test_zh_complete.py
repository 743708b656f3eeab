"""``--lang zh`` is complete: every line of human text a command prints, writes in a table
file or shows on the map page is Chinese.

Every command runs with ``--lang zh`` on a copy of the sample (and on copies with one
fault injected: a missing layer file, a mistyped coordinate, a CSV saved as GBK), and
every piece of text it shows is cut into *units*: a line of the terminal output (a table
row is cut into its cells; the terminal is made wide enough that no cell wraps), a cell
of an XLSX sheet, a visible string of the map page (title, legend, layer names and
descriptions, popup field labels, the page's own words). A unit fails when it has no
Chinese character and is not *data*.

Data, and only data, reads the same in both languages. A unit is data when every word
of it is one of:

* a number, a count, a percentage, a range, coordinates or an extent, possibly with a
  unit (``1,344``, ``98.5%``, ``20 m``, ``117.4280–117.5707E``, ``0.0002°``, ``715 × 524``);
* a date or a time (``2023-03-31``, ``2026-12-04T01:42:22``);
* a coordinate system's code (``EPSG:4490``, ``CGCS2000``, ``WGS84``, ``GCJ-02``);
* a file name or a path (``infected_trees.csv``, ``/tmp/…/a.gpkg``, ``township.gpkg:villages``);
* an id from the user's records (``SC2022-00812``, ``SS-13``, ``0214017``);
* a field name of the user's files, or a canonical field or column name (``plot_id``,
  ``link1_href``): these are data keys, shown as they are so people can find them;
* an absolute path, the program's name (``geo-township``), a single letter or ``1/f``
  (the symbols of a formula such as an ellipsoid's ``a = 6378137 m, 1/f = 298.257``);

or when the whole unit is a text value the user wrote (a raster's ``description`` in
township.toml, a name in a layer). Words like "the", "inferred" or "trees" are never data.
"""

from __future__ import annotations

import json
import re
import tomllib
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from messy import copy_sample, edit_csv_row, save_csv_as

from geo_township.cli import main
from geo_township.kinds import KINDS
from geo_township.labels import COLUMN_LABELS, has_cjk

WIDE = {"COLUMNS": "1000"}  # no table cell wraps
BOX = re.compile(r"[│┃┏┓┗┛┡┩└┘┌┐━─╇╈┳┻╋┣┫┠┨├┤┬┴┼═]")
SPLIT = re.compile(r"[\s,;:()（）、，；：\[\]{}<>\"'`=→←…+|]+")
NUMBER = re.compile(
    r"[-−+]?[\d.,]*\d[\d.,]*(–[-−]?[\d.,]*\d)?"  # 1,344 · 0.15 · 117.4280–117.5707
    r"(%|°|m|km|m²|km²|mu|ha|px|E|N|s|MB|KB|B|ms|°E|°N)?"
)
DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?")
CRS_WORDS = {"EPSG", "CGCS2000", "WGS84", "GCJ-02", "BD-09", "UTM", "CM"}
UNITS = {"m", "km", "mu", "ha", "m²", "km²", "px", "MB", "s"}
PROGRAM = {"geo-township"}  # the program's name, as its version line and hints give it
PATH = re.compile(r"(/|[A-Za-z]:\\|~/).*")  # an absolute path, whatever its words
FORMULA = re.compile(r"[\d.]+/[a-z]")  # 1/f, the flattening of an ellipsoid
FILE = re.compile(r".*\.(csv|xlsx|gpkg|geojson|shp|kml|kmz|gpx|tif|tiff|toml|html|json|txt|dbf|prj|cpg)$", re.I)
ID = re.compile(r"[A-Za-z]{0,6}[-_]?\d+([-_][A-Za-z0-9]+)*|NEW-\d+")


# --------------------------------------------------------------------------- what counts as data


@cache
def canonical_names() -> frozenset[str]:
    """Our field and column names (data keys)."""
    names = set(COLUMN_LABELS)
    for kind in KINDS.values():
        names |= set(kind.field_names)
    return frozenset(names)


def user_words(folder: Path) -> tuple[frozenset[str], frozenset[str]]:
    """The user's own words: (field names and single-word values, whole text values) of
    the township's layers and township.toml."""
    import geopandas as gpd
    import pyogrio

    words: set[str] = set()
    texts: set[str] = set()

    def take(value: object) -> None:
        if isinstance(value, str) and value.strip():
            texts.add(value.strip())
            if not re.search(r"\s", value.strip()):  # one word: a code, a name, an id
                words.add(value.strip())
        elif isinstance(value, dict):
            words.update(map(str, value))
            for v in value.values():
                take(v)
        elif isinstance(value, list):
            for v in value:
                take(v)

    take(tomllib.loads((folder / "township.toml").read_text(encoding="utf-8")))
    for path in folder.iterdir():
        if path.suffix.lower() in (".csv",):
            frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", encoding_errors="replace")
        elif path.suffix.lower() == ".xlsx":
            frame = pd.read_excel(path, dtype=str)
        elif path.suffix.lower() in (".gpkg", ".shp", ".geojson", ".kml", ".gpx"):
            frames = []
            for name, _ in pyogrio.list_layers(path):
                try:
                    frames.append(pd.DataFrame(gpd.read_file(path, layer=name).drop(columns="geometry")))
                except Exception:  # noqa: BLE001 - a layer GDAL cannot read has no words to take
                    continue
            frame = pd.concat(frames) if frames else pd.DataFrame()
        else:
            continue
        words.update(map(str, frame.columns))
        for column in frame.columns:
            for value in frame[column].dropna().astype(str).unique()[:5000]:
                take(value)
    return frozenset(words), frozenset(texts)


def is_data_word(word: str, fields: frozenset[str]) -> bool:
    return bool(NUMBER.fullmatch(word) or DATE.fullmatch(word) or word in CRS_WORDS or word in UNITS
                or word in PROGRAM or PATH.fullmatch(word) or FORMULA.fullmatch(word) or FILE.match(word)
                or (len(word) == 1 and word.isascii())
                or ID.fullmatch(word) or word in canonical_names() or word in fields
                or not any(ch.isalpha() for ch in word))


def english_units(text: str, fields: frozenset[str], texts: frozenset[str]) -> list[str]:
    """The units of ``text`` (lines; table rows cut into cells) that are human text without
    a Chinese character."""
    bad = []
    for line in text.splitlines():
        cells = BOX.split(line) if BOX.search(line) else [line]
        for cell in cells:
            unit = cell.strip()
            if not unit or has_cjk(unit) or unit in texts:
                continue
            if not all(is_data_word(w, fields) for w in SPLIT.split(unit) if w):
                bad.append(unit)
    return bad


NOT_YET_IN_CHINESE: list[re.Pattern[str]] = []
"""English that other parts of the program still print (their modules are being reworded
elsewhere): each pattern matches the start of such a unit. This list can only shrink; once
empty, remove it."""


def unexplained(units: list[str]) -> list[str]:
    """The units no pattern of :data:`NOT_YET_IN_CHINESE` explains."""
    return [u for u in units if not any(p.search(u) for p in NOT_YET_IN_CHINESE)]


# --------------------------------------------------------------------------- the runs


@pytest.fixture(scope="module")
def town(tmp_path_factory) -> Path:
    return copy_sample(tmp_path_factory.mktemp("zh"))


@pytest.fixture(scope="module")
def words(town) -> tuple[frozenset[str], frozenset[str]]:
    return user_words(town)


def run(runner, town: Path, *args: str) -> str:
    """stdout and stderr of one command in Chinese; fails on an internal error."""
    result = runner.invoke(main, [*args, "--township", str(town), "--lang", "zh"], env=WIDE)
    assert result.exit_code in (0, 1, 2), (args, result.output, result.exception)
    return result.stdout + "\n" + result.stderr


COMMANDS = [
    ("info",), ("check",), ("trees",), ("trees", "--by", "plot"), ("trees", "--deadline", "2023-03-31"),
    ("rivers",), ("sand",), ("area", "forest_plots"), ("area", "land_transfers", "--by", "use"),
    ("zonal", "ndvi_2022"), ("zonal", "landcover", "--by", "village"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_line_a_command_prints_is_chinese(runner, town, words, args):
    bad = unexplained(english_units(run(runner, town, *args), *words))
    assert not bad, "\n".join(bad)


def test_files_a_command_writes_and_the_lines_that_say_so_are_chinese(runner, town, words, tmp_path):
    out = tmp_path
    text = "\n".join([
        run(runner, town, "trees", "--deadline", "2023-03-31", "--list", str(out / "list.csv")),
        run(runner, town, "trees", "--deadline", "2023-03-31", "--list", str(out / "list.kml")),
        run(runner, town, "audit", "-o", str(out / "audit.gpkg")),
        run(runner, town, "audit"),
        run(runner, town, "candidates", "ndvi_2022", "ndvi_2023"),
        run(runner, town, "candidates", "ndvi_2022", "ndvi_2023", "--save", str(out / "patches.gpkg")),
    ])
    listed = (out / "list.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    kml = (out / "list.kml").read_text(encoding="utf-8")
    shown = re.findall(r"<(?:name|description)>(.*?)</(?:name|description)>", kml, re.S)
    assert len(listed) > 100 and len(shown) > 100
    text += "\n" + "\n".join(cell for line in listed for cell in line.split(",")) + "\n" + "\n".join(shown)
    bad = unexplained(english_units(text, *words))
    assert not bad, "\n".join(bad)
    assert (out / "audit.gpkg").read_bytes().startswith(b"SQLite format 3")  # -o .gpkg: the GeoPackage itself
    assert (out / "patches.gpkg").exists()


@pytest.mark.parametrize("args", [("trees",), ("audit",), ("rivers",)], ids=" ".join)
def test_every_cell_of_an_xlsx_is_chinese(runner, town, words, tmp_path, args):
    from openpyxl import load_workbook

    path = tmp_path / "out.xlsx"
    run(runner, town, *args, "-o", str(path))
    book = load_workbook(path, read_only=True)
    assert all(has_cjk(name) for name in book.sheetnames), book.sheetnames
    bad = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str):
                    bad += [f"{sheet.title}: {u}" for u in english_units(value.replace("\n", " "), *words)]
    bad = unexplained(bad)
    assert not bad, "\n".join(bad)


def test_the_about_sheet_is_one_key_and_value_per_row(runner, town, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "trees.xlsx"
    run(runner, town, "trees", "-o", str(path))
    rows = list(load_workbook(path, read_only=True)["说明"].iter_rows(values_only=True))
    assert not any(isinstance(v, str) and v.lstrip().startswith(("{", "[{")) for row in rows for v in row)
    keys = [row[0] for row in rows]
    assert "分析" in keys and any(str(k).startswith("输入图层 1 · ") for k in keys)
    files = [row[1] for row in rows if str(row[0]).endswith("· 文件")]
    assert str(town / "infected_trees.csv") in files


# --------------------------------------------------------------------------- the map page

def visible_strings(data: dict) -> list[str]:
    """The strings of the map's data that people read: title, subtitle, warnings, the page's
    own words, and per layer its name, description, legend labels, category labels and
    popup field labels (not the column names, which are data keys)."""
    out = [data["title"], data.get("subtitle") or "", *data.get("warnings", []), *data["ui"].values()]
    out += [b["name"] for b in data["basemaps"]]
    for layer in data["layers"]:
        out += [layer["name"], layer.get("desc") or "", *layer.get("catLabels", [])]
        out += [item["label"] for item in layer.get("legend", []) if "label" in item]
        out += [column["label"] for column in layer.get("columns", []) if "label" in column]
    return [s for s in out if isinstance(s, str)]


def test_the_map_page_is_chinese(runner, town, words, tmp_path):
    page = tmp_path / "map.html"
    run(runner, town, "map", "-o", str(page))
    html = page.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="township-map-data">(.*?)</script>', html, re.S)
    assert found is not None
    data = json.loads(found.group(1))
    strings = visible_strings(data)
    assert len(strings) > 100
    bad = [s for s in strings if english_units(s, *words)]
    assert not bad, "\n".join(bad)


# --------------------------------------------------------------------------- warnings and errors


def test_warnings_and_errors_on_faulty_data_are_chinese(runner, tmp_path, words):
    missing = copy_sample(tmp_path, "missing")
    (missing / "rivers.geojson").unlink()
    typo = copy_sample(tmp_path, "typo")
    edit_csv_row(typo, 7, 经度="17.449079")
    gbk = copy_sample(tmp_path, "gbk")
    save_csv_as(gbk)
    text = "\n".join([run(runner, missing, "rivers"), run(runner, missing, "check"), run(runner, missing, "info"),
                      run(runner, typo, "trees"), run(runner, typo, "check"), run(runner, gbk, "info"),
                      run(runner, gbk, "check")])
    assert "错误" in text and "GBK" in text
    bad = unexplained(english_units(text, *words))
    assert not bad, "\n".join(bad)


IMPORT_REASON_SPLIT = re.compile(r"[；;—]|第 \d+ 行：|\n")


def test_every_reason_an_import_gives_for_a_row_is_chinese(runner, tmp_path, words):
    """Each reason an import gives for refusing, skipping or changing a row, under --lang
    zh: the message that refuses the file and the findings of --skip-bad, cut into one
    reason each (a line with any Chinese would otherwise hide an English reason in it)."""
    town = copy_sample(tmp_path, "imports")
    trees = tmp_path / "trees.csv"
    trees.write_text("编号,经度,纬度,状态,发现日期\n"
                     "SC2021-00002,117.468148,30.519159,已核查,2021-13-45\n"  # not a date
                     "NEW-1,117.46,30.50,半枯,2023-04-01\n"  # not a status word
                     ",117.46,30.50,疑似,2023-04-01\n"  # no id
                     "NEW-2,117.46,30.50,疑似,2023-04-01\nNEW-2,117.46,30.50,疑似,2023-04-01\n"  # repeated id
                     "NEW-3,,,疑似,2023-04-01\n"  # a new tree without coordinates
                     "NEW-4,117.46,30.50,,2023-04-01\n"  # a new tree without status
                     "NEW-5,118.9,31.9,疑似,2023-04-01\n",  # far outside the township
                     encoding="utf-8")
    sites = tmp_path / "sites.csv"
    sites.write_text("编号,状态,关停日期,经度,纬度\n"
                     "SS-02,半停,2023-05-03,,\n"  # not a status word
                     ",关停,2023-05-03,,\n"  # no id
                     "SS-03,关停,2023年13月,,\n"  # not a date
                     "SS-40,非法,,,\n",  # a new site without geometry
                     encoding="utf-8")
    gpx = tmp_path / "track.gpx"
    gpx.write_text('<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="两步路" '
                   'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>章立新 2023-05-02 09:00</name><trkseg>'
                   '<trkpt lat="30.50" lon="117.45"></trkpt><trkpt lat="30.501" lon="117.451"></trkpt>'
                   "</trkseg></trk></gpx>", encoding="utf-8")
    runs = [("import", str(trees)), ("import", str(trees), "--skip-bad", "--dry-run"),
            ("import", str(sites), "--layer", "sand_sites"),
            ("import", str(sites), "--layer", "sand_sites", "--skip-bad", "--dry-run")]
    text = "\n".join(run(runner, town, *args) for args in runs)
    # a track's name taken apart is said in Chinese (its changes table lists field names and WKT: data)
    text += "\n" + next(line for line in run(runner, town, "import", str(gpx), "--layer", "patrols",
                                               "--dry-run").splitlines() if "已拆分" in line)
    assert "不是日期" in text and "不是状态词" in text and "没有疫木编号" in text and "重复出现" in text
    assert "没有坐标" in text and "没有状态" in text and "不在本乡镇" not in text and "km" in text
    assert "不是可识别的词" in text and "没有图形" in text and "已拆分为河长和日期" in text
    reasons = [part for line in text.splitlines() for cell in (BOX.split(line) if BOX.search(line) else [line])
               for part in IMPORT_REASON_SPLIT.split(cell)]
    bad = unexplained(english_units("\n".join(reasons), *words))
    assert not bad, "\n".join(bad)


def test_the_rule_accepts_data_and_refuses_english():
    """The exception rule itself, on hand-written units."""
    fields = frozenset({"link1_href", "cmt"})
    texts = frozenset({"NDVI, August 2022"})
    data = ["EPSG:4490", "1,344", "117.4280–117.5707E 30.4532–30.5420N", "20 m × 20 m", "2023-03-31",
            "infected_trees.csv", "SC2022-00812", "plot_id←小班编码", "link1_href, cmt", "NDVI, August 2022",
            "0214017, 0215001 … (+9)", "98.50%"]
    english = ["EPSG:4490 (inferred)", "heights (Z) ignored", "unreadable", "wrote 3 points", "NDVI, August"]
    assert english_units("\n".join(data), fields, texts) == []
    assert english_units("\n".join(english), fields, texts) == english


# --------------------------------------------------------------------------- the mechanism


def test_a_text_is_its_english_and_carries_its_chinese():
    import pickle

    from geo_township.labels import Text, joined, text_in
    from geo_township.results import Check, Result, localise

    note = Text("heights (Z) ignored", "已忽略高程(Z)")
    assert note == "heights (Z) ignored" and note.startswith("heights") and f"{note}" == "heights (Z) ignored"
    assert text_in(note, "zh") == "已忽略高程(Z)" and text_in(note, "en") == note and text_in(3, "zh") == 3
    assert pickle.loads(pickle.dumps(note)).zh == "已忽略高程(Z)"
    assert joined([note, "EPSG:4490"]).zh == "已忽略高程(Z)；EPSG:4490"

    check = Check("zh_test_only", "info", "a note", "说明", "{layer}: {note}", "{layer}：{note}")
    found = check.finding("rivers", "-", layer="rivers", note=note)
    assert (found.message, found.message_in("zh")) == ("rivers: heights (Z) ignored", "rivers：已忽略高程(Z)")

    result = Result("t", pd.DataFrame({"crs": [Text("EPSG:4490 (inferred)", "EPSG:4490(推断)"), "EPSG:4548"]}),
                    notes=[note, "plain"])
    assert result.notes_in("zh") == ["已忽略高程(Z)", "plain"] and result.notes_in("en") == [note, "plain"]
    cells = localise(result.table, "zh", headings=False)["crs"].tolist()
    assert cells == ["EPSG:4490(推断)", "EPSG:4548"]  # found again although pandas kept only the string
    frame = localise(pd.DataFrame({"feature": ["T1 (line 7)", "T2"]}), "zh", headings=False)
    assert frame["feature"].tolist() == ["T1（第 7 行）", "T2"]


def test_about_rows_flatten_nested_provenance_one_value_a_row():
    from geo_township.io.write import about_rows
    from geo_township.labels import Text

    provenance = {"tool": "geo-township 1", "analysis": "audit", "area_method": "ellipsoidal",
                  "inputs": [{"layer": "villages", "file": "/d/town.gpkg", "source_layer": "villages",
                              "crs_note": Text("from the file", "取自文件")}],
                  "non_farming_uses": ["photovoltaic", "building"], "deadline": None, "include_late": True}
    assert about_rows(provenance, "zh") == [
        ("软件", "geo-township 1"), ("分析", "土地流转审计"), ("面积算法", "椭球面"),
        ("输入图层 1 · 图层", "行政村"), ("输入图层 1 · 文件", "/d/town.gpkg"), ("输入图层 1 · 文件内图层", "villages"),
        ("输入图层 1 · 坐标系来源", "取自文件"), ("非农用途", "光伏发电、建设用地"), ("期限", ""),
        ("列出逾期清理的疫木", "是"),
    ]
    assert about_rows(provenance, "en")[3:7] == [
        ("inputs[1].layer", "villages"), ("inputs[1].file", "/d/town.gpkg"), ("inputs[1].source_layer", "villages"),
        ("inputs[1].crs_note", "from the file")]
