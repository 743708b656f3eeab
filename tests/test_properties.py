"""Whatever text the layers hold, every command ends with exit 0, 1 or 2 — never an
internal error (issue 11, item 1).

Hypothesis writes text into the text fields of every kind of file of a copy of the sample:
the trees' CSV (village, status, id, method), the GeoPackage's villages and land transfers
(village names, land type, use — edited in place with SQLite, no rewrite), the rivers'
and sand zones' GeoJSON, the sand sites' KML and the outfalls' XLSX: renames, blanks,
markup, spreadsheet formulas, very long strings, mixed scripts and control characters.
Then every command runs in-process. Few examples, so the whole file takes about a minute.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from messy import copy_sample, edit_csv_row, set_gpkg_text

from geo_township.cli import main

HOSTILE = ["", " ", "\u3000", "青溪一村", "石门", " 石门村\u3000", "石门村", "<script>alert(1)</script>", "{{x}}",
           "${x}", "=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "待定", "x" * 2000, "Ωмир村ǅ😀", "\u202eevil",
           "a\tb", "line\nbreak", "\x07\x1b[31mred", "NaN", "None", "null", "-1", "1e308", "'; DROP TABLE x;--"]
TEXT = st.one_of(st.sampled_from(HOSTILE),
                 st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                         max_size=40))

COMMANDS = (
    ["info"], ["check"], ["trees"], ["trees", "--by", "plot"], ["trees", "--deadline", "2023-03-31"], ["rivers"],
    ["sand"], ["audit"], ["area", "forest_plots", "--by", "village"], ["zonal", "ndvi_2022", "--layer", "villages"],
    ["candidates", "ndvi_2022", "ndvi_2023"], ["map", "--no-summary", "-o", "{dir}/m.html"],
)


def _perturb(folder: Path, text: dict[str, str]) -> None:
    """Write the drawn texts into one or two features of every layer file."""
    for line, column in ((2, "村名"), (3, "村名"), (4, "状态"), (5, "编号"), (6, "除治方式"), (7, "村名")):
        edit_csv_row(folder, line, **{column: text[f"trees_{line}"]})
    set_gpkg_text(folder, "villages", "村名", {1: text["village"]})
    for column, key in (("村名", "transfer_village"), ("用途", "use"), ("地类", "land_type")):
        set_gpkg_text(folder, "land_transfers", column, {2: text[key]})
    for name, key, value in (("rivers.geojson", "河流名称", text["river"]), ("rivers.geojson", "河长", text["chief"]),
                             ("sand_zones.geojson", "分区类型", text["zone"])):
        path = folder / name
        data = json.loads(path.read_text(encoding="utf-8"))
        data["features"][0]["properties"][key] = value
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    kml = folder / "sand_sites.kml"
    kml.write_text(kml.read_text(encoding="utf-8").replace(
        '<SimpleData name="状态">非法', f'<SimpleData name="状态">{escape(text["site_status"])}', 1), encoding="utf-8")
    import openpyxl

    book = openpyxl.load_workbook(folder / "outfalls.xlsx")
    sheet = book.active
    sheet.cell(row=3, column=2).value = text["outfall"]
    book.save(folder / "outfalls.xlsx")


KEYS = ["trees_2", "trees_3", "trees_4", "trees_5", "trees_6", "trees_7", "village", "transfer_village", "use",
        "land_type", "river", "chief", "zone", "site_status", "outfall"]


@settings(max_examples=2, deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(st.fixed_dictionaries(dict.fromkeys(KEYS, TEXT)))
def test_every_command_survives_any_text(text):
    with tempfile.TemporaryDirectory() as tmp:
        folder = copy_sample(Path(tmp))
        try:
            _perturb(folder, text)
        except (ValueError, UnicodeError):  # a text the file format itself cannot hold (openpyxl refuses some)
            return
        runner = CliRunner()
        for args in COMMANDS:
            args = [a.replace("{dir}", tmp) for a in args]
            result = runner.invoke(main, [*args, "--township", str(folder)])
            assert result.exit_code in (0, 1, 2), (args, text, result.output[-2000:])
            assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
