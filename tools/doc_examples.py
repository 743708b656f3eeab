"""Real runs for the docs that write files: each example copies the bundled sample to a
temporary folder, writes the crew's file it needs there, runs the commands in that folder
and prints what they print, so a docs block can show a real write without touching
``layers/``.

    python tools/doc_examples.py import-trees      # in a docs block:
    <!-- output: python tools/doc_examples.py import-trees -->

What differs from run to run is made readable and stable: the temporary folder is left out
of paths outside tables (a table shows the example's fixed folder, the same every run), the
user is ``clerk``, and the import's id (its time and a random suffix) reads
``IMPORT-ID``. Exit code: the last command's.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SURVEY_0425 = ("编号,状态,采伐日期,清理日期,备注,经度,纬度\n"
               "SC2023-00001,已清理,2023-04-21,2023-04-22,粉碎,,\n"
               "SC2021-00915,已清理,,,,,\n"
               "SC2023-09001,疑似,,,无人机,117.4952,30.5031\n"
               "SC2021-00109,已伐,,,,,\n")
"""A crew's survey: two trees cleared (one without its clearing date), a new one, and a
verified tree set back to felled (refused)."""

PATROL_GPX = ('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="两步路" '
              'xmlns="http://www.topografix.com/GPX/1/1">\n'
              '<trk><name>章立新 2023-05-02 09:00</name><trkseg><trkpt lat="30.5012" lon="117.4610"/>'
              '<trkpt lat="30.5031" lon="117.4632"/><trkpt lat="30.5050" lon="117.4671"/></trkseg></trk>\n'
              "</gpx>\n")
"""A 两步路 track whose name holds the chief, the date and the time (no point has a time)."""


def _survey(folder: Path) -> list[list[str]]:
    (folder / "survey-0425.csv").write_text(SURVEY_0425, encoding="utf-8")
    return [["import", "survey-0425.csv"]]


def _history(folder: Path) -> list[list[str]]:
    return [[QUIET, *_survey(folder)[0]], ["trees", "--history", "SC2023-00001"]]


def _source_layer(folder: Path) -> list[list[str]]:
    import geopandas as gpd

    plots = gpd.read_file(folder / "forest_plots.shp", encoding="gbk").iloc[:1]
    for name, chief in (("xiaoban_2022", "王五"), ("xiaoban_2023", "赵六")):
        one = gpd.GeoDataFrame({"小班编码": plots["小班编码"].astype(str), "林长": [chief]},
                               geometry=plots.geometry.to_numpy(), crs=plots.crs)
        one.to_file(folder / "清查.gpkg", layer=name)
    return [["import", "清查.gpkg", "--layer", "forest_plots"],
            ["import", "清查.gpkg", "--layer", "forest_plots", "--source-layer", "xiaoban_2023"]]


def _patrol_names(folder: Path) -> list[list[str]]:
    (folder / "巡河-0502.gpx").write_text(PATROL_GPX, encoding="utf-8")
    return [["import", "巡河-0502.gpx", "--layer", "patrols", "--lang", "zh"]]


def _renewal(folder: Path) -> list[list[str]]:
    (folder / "续签.csv").write_text("地块编号,终止日期,合同面积\nTZ-QX-0001,2045-01-31,12.00\n", encoding="utf-8")
    return [["import", "续签.csv", "--layer", "land_transfers"], ["import", "续签.csv", "--layer", "land_transfers"]]


def _outfall(folder: Path) -> list[list[str]]:
    text = "排污口编号,名称,X坐标,Y坐标\nPWK-13,竹山养殖废水排放口,39544120.5,3374410.2\n"
    (folder / "排污口-新增.csv").write_text(text, encoding="utf-8")
    return [["import", "排污口-新增.csv", "--layer", "outfalls"]]


EXAMPLES: dict[str, Callable[[Path], list[list[str]]]] = {
    "import-renewal": _renewal,
    "import-outfall": _outfall,
    "import-trees": _survey,
    "trees-history": _history,
    "import-source-layer": _source_layer,
    "import-patrol-names": _patrol_names,
}
"""Each example: the files it writes into the sample's copy, and the commands it runs there."""

QUIET = "(quiet)"
"""A command that starts with this runs without showing what it prints (an example's set-up)."""
IMPORT_ID = re.compile(r"\b\d{8}T\d{6}-[0-9a-f]{8}\b")


def main(name: str) -> int:
    """Run example ``name`` and print what its commands print; return the last exit code."""
    from click.testing import CliRunner

    from geo_township.cli import main as cli

    if name not in EXAMPLES:
        print(f"no example {name!r}; examples: {', '.join(EXAMPLES)}", file=sys.stderr)
        return 2
    os.environ.update(LOGNAME="clerk", USER="clerk")
    code = 0
    base = Path(tempfile.gettempdir()) / "geo-township-docs" / name  # one fixed folder per example: the
    shutil.rmtree(base, ignore_errors=True)                             # paths in a table read the same every run
    folder = base / "township"
    shutil.copytree(ROOT / "layers", folder)
    here = Path.cwd()
    os.chdir(folder)
    try:
        for args in EXAMPLES[name](folder):
            quiet = args[0] == QUIET
            done = CliRunner().invoke(cli, args[1:] if quiet else args,
                                      env={"COLUMNS": os.environ.get("COLUMNS", "100")})
            code = done.exit_code
            if quiet:
                continue
            lines = (done.stdout + done.stderr).splitlines(keepends=True)
            sys.stdout.write(IMPORT_ID.sub("IMPORT-ID", "".join(
                line if "│" in line else line.replace(f"{folder}/", "") for line in lines)))
    finally:
        os.chdir(here)
        shutil.rmtree(base, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
