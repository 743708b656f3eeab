"""Prepared states for the docs' example runs: ``<!-- output setup=NAME: COMMAND -->``.

Some documented commands need files the repository does not hold, or write files that must not
land in the checkout: an ``--explain`` listing, a deadline list for the crews, a folder of the
user's own files to ``init``. Each scenario here prepares a fresh temporary folder from the
bundled sample (``layers/``), and the block's command runs in that folder, so it runs a real
command on real files; paths inside the folder are shown relative to it.

A scenario is a function ``prepare(folder, run)`` that fills ``folder``; ``run(args)`` runs a
geo-township command there (``args`` without the program name) and fails the tool when the
command fails, so a scenario that cannot be prepared stops the tool like a failed block.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "layers"

Runner = Callable[[list[str]], str]


def sample(folder: Path, run: Runner) -> None:
    """A copy of the sample township as ``layers/`` (found by default, as in the checkout)."""
    shutil.copytree(SAMPLE, folder / "layers")


def own_files(folder: Path, run: Runner) -> None:
    """The sample's GIS files in ``青溪乡/`` without their township.toml (or README): what a
    user who has only their own files brings to ``init``."""
    target = folder / "青溪乡"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("township.toml", "README.md"))


def overdue_list(folder: Path, run: Runner) -> None:
    """The sample copy with the crews' deadline list written as ``overdue.csv`` and
    ``overdue.kml`` (``trees --deadline 2023-03-31 --list …``)."""
    sample(folder, run)
    for name in ("overdue.csv", "overdue.kml"):
        run(["trees", "--deadline", "2023-03-31", "--no-hotspots", "--list", name, "--format", "csv"])


def forbidden_import(folder: Path, run: Runner) -> None:
    """A copy of the package and its layering test, with ``zones.py`` importing
    ``rivers`` (a module above it) right after its own imports of the package."""
    shutil.copytree(ROOT / "geo_township", folder / "geo_township", ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "tests").mkdir()
    shutil.copy2(ROOT / "tests" / "test_architecture.py", folder / "tests")
    zones = folder / "geo_township" / "zones.py"
    lines = zones.read_text(encoding="utf-8").split("\n")
    last = max(i for i, line in enumerate(lines) if line.startswith("from geo_township."))
    lines.insert(last + 1, "from geo_township.rivers import river_report  # noqa: F401")
    zones.write_text("\n".join(lines), encoding="utf-8")


# --------------------------------------------------------------------------- a crew's file to import
# The sample copy with a file a crew brought back written beside ``layers/`` (in the folder the
# command runs in), as the docs' ``geo-township import FILE`` shows it; ``…-imported``: that file
# already imported once, for a block that shows what follows an import.

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

RENEWAL_CSV = "地块编号,终止日期,合同面积\nTZ-QX-0001,2045-01-31,12.00\n"
"""A land-transfer contract renewed: a later end date and a new contract area."""

OUTFALL_CSV = "排污口编号,名称,X坐标,Y坐标\nPWK-13,竹山养殖废水排放口,39544120.5,3374410.2\n"
"""A new outfall in zone-prefixed Gauss–Krüger metres."""


SAND_CHECK_KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>奥维收藏夹</name>
<Folder><name>采砂点核查</name><Folder><name>2023年5月</name>
<Placemark><name>上庄机制砂厂</name><description><![CDATA[<table border="1"><tr><td>编号</td><td>SS-02</td></tr>\
<tr><td>状态</td><td>已关停</td></tr><tr><td>关停日期</td><td>2023-05-18</td></tr></table>]]></description>
<Point><coordinates>117.464015565908,30.5041819788536,0</coordinates></Point></Placemark>
<Placemark><name>龙潭溪新砂点</name><description><![CDATA[<table border="1"><tr><td>编号</td><td>SS-15</td></tr>\
<tr><td>状态</td><td>非法</td></tr><tr><td>类型</td><td>采砂点</td></tr></table>]]></description>
<Point><coordinates>117.5241,30.5112,0</coordinates></Point></Placemark>
<Placemark><name>SS-07</name><description><![CDATA[<table border="1"><tr><td>编号</td><td>SS-07</td></tr>\
<tr><td>状态</td><td>非法</td></tr></table>]]></description>
<Point><coordinates>117.545224545372,30.4979544470819,0</coordinates></Point></Placemark>
</Folder></Folder></Document></kml>
"""
"""A May check of the sand sites as 奥维 exports a favourites folder (Document > Folder > Folder,
fields in a description table): SS-02 closed, SS-15 new, SS-07 (restored) set back to illegal."""


def with_file(name: str, text: str) -> Callable[[Path, Runner], None]:
    """A scenario: the sample copy and a crew's file ``name`` holding ``text`` beside it."""
    def prepare(folder: Path, run: Runner) -> None:
        sample(folder, run)
        (folder / name).write_text(text, encoding="utf-8")
    return prepare


sand_check = with_file("核查-0520.kml", SAND_CHECK_KML)
survey = with_file("survey-0425.csv", SURVEY_0425)
patrol_track = with_file("巡河-0502.gpx", PATROL_GPX)
renewal = with_file("续签.csv", RENEWAL_CSV)
new_outfall = with_file("排污口-新增.csv", OUTFALL_CSV)


def survey_imported(folder: Path, run: Runner) -> None:
    """The survey (``survey-0425.csv``) imported into the trees (so the trees have a history)."""
    survey(folder, run)
    run(["import", "survey-0425.csv"])


def renewal_imported(folder: Path, run: Runner) -> None:
    """The renewal (``续签.csv``) imported once (a second import has nothing to change)."""
    renewal(folder, run)
    run(["import", "续签.csv", "--layer", "land_transfers"])


def two_survey_rounds(folder: Path, run: Runner) -> None:
    """The sample copy and ``清查.gpkg`` holding two layers, ``xiaoban_2022`` and
    ``xiaoban_2023``: the sample's first sub-compartment with chief 王五, then 赵六."""
    import geopandas as gpd

    sample(folder, run)
    plots = gpd.read_file(folder / "layers" / "forest_plots.shp", encoding="gbk").iloc[:1]
    for name, chief in (("xiaoban_2022", "王五"), ("xiaoban_2023", "赵六")):
        one = gpd.GeoDataFrame({"小班编码": plots["小班编码"].astype(str), "林长": [chief]},
                               geometry=plots.geometry.to_numpy(), crs=plots.crs)
        one.to_file(folder / "清查.gpkg", layer=name)


# --------------------------------------------------------------------------- broken files
# ``setup=HOW:FILE``: the sample copy with one of its files (in layers/) broken that way.


def gone(folder: Path, run: Runner, name: str) -> None:
    """The file deleted."""
    sample(folder, run)
    (folder / "layers" / name).unlink()


def empty(folder: Path, run: Runner, name: str) -> None:
    """The file emptied (0 bytes), as an interrupted export or copy leaves it."""
    sample(folder, run)
    (folder / "layers" / name).write_bytes(b"")


def cut(folder: Path, run: Runner, name: str) -> None:
    """The file cut short: its first half kept, as a copy to a full USB stick leaves it."""
    sample(folder, run)
    path = folder / "layers" / name
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def latin1_line(folder: Path, run: Runner, name: str) -> None:
    """A CSV with one more row at the end written in Latin-1: neither UTF-8 nor GBK text."""
    sample(folder, run)
    path = folder / "layers" / name
    path.write_bytes(path.read_bytes() + "Café,117.5,30.5\r\n".encode("latin-1"))


def gbk(folder: Path, run: Runner, name: str) -> None:
    """A CSV saved again by Chinese Excel or WPS: GBK, without a BOM."""
    sample(folder, run)
    path = folder / "layers" / name
    path.write_bytes(path.read_bytes().decode("utf-8-sig").encode("gbk"))


def mistyped_coordinates(folder: Path, run: Runner) -> None:
    """The trees' CSV with a longitude missing its first digit on line 13 (17.48… for
    117.48…) and a longitude of 0 on line 407."""
    sample(folder, run)
    path = folder / "layers" / "infected_trees.csv"
    lines = path.read_text(encoding="utf-8-sig").split("\n")
    lon = lines[0].split(",").index("经度")
    for number, fix in ((13, lambda v: v[1:]), (407, lambda v: "0")):
        cells = lines[number - 1].split(",")
        cells[lon] = fix(cells[lon])
        lines[number - 1] = ",".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8-sig")


def names_and_statuses(folder: Path, run: Runner) -> None:
    """The trees' CSV with the words people really write: status 待定 on line 2, village
    青溪一村 on line 3 (a tree lying in 石门村), a blank status on line 4 and 石　门村 (with an
    ideographic space) on line 5."""
    sample(folder, run)
    path = folder / "layers" / "infected_trees.csv"
    lines = path.read_text(encoding="utf-8-sig").split("\n")
    head = lines[0].split(",")
    edits = {2: ("状态", "待定"), 3: ("村名", "青溪一村"), 4: ("状态", ""), 5: ("村名", "石\u3000门村")}
    for number, (column, value) in edits.items():
        cells = lines[number - 1].split(",")
        cells[head.index(column)] = value
        lines[number - 1] = ",".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8-sig")


# --------------------------------------------------------------------------- a raster whose nodata is data

SCORE_ORIGIN, SCORE_RES, SCORE_SHAPE = (546_000.0, 3_376_000.0), 10.0, (40, 60)  # EPSG:4548, in the villages
SCORE_BLOCKS = {"A": (4, 5, 20, 25), "B": (10, 30, 35, 55)}  # basic-farmland patches: (row0, col0, row1, col1)


def score_raster(folder: Path, run: Runner, nodata: str = "") -> None:
    """The sample copy with ``score.tif`` (an 8-bit index 0–255 whose profile says 255 =
    nodata, while a fifth of its pixels really are 255 beside many 254s) registered as
    ``[rasters.score]`` (``nodata`` written there when given), and two rectangles as the
    basic-farmland layer (patches A and B)."""
    import geopandas as gpd
    import numpy as np
    import rasterio
    import shapely
    from rasterio.transform import from_origin

    sample(folder, run)
    layers = folder / "layers"
    rng = np.random.default_rng(7)
    data = rng.integers(180, 254, size=SCORE_SHAPE).astype("uint8")
    u = rng.random(data.shape)
    data[u < 0.20] = 255
    data[(u >= 0.20) & (u < 0.35)] = 254
    data[(u >= 0.35) & (u < 0.38)] = 0
    x0, y1 = SCORE_ORIGIN
    with rasterio.open(layers / "score.tif", "w", driver="GTiff", width=data.shape[1], height=data.shape[0],
                       count=1, dtype="uint8", crs="EPSG:4548", transform=from_origin(x0, y1, SCORE_RES, SCORE_RES),
                       nodata=255) as ds:
        ds.write(data, 1)
    boxes = [shapely.box(x0 + c0 * SCORE_RES, y1 - r1 * SCORE_RES, x0 + c1 * SCORE_RES, y1 - r0 * SCORE_RES)
             for r0, c0, r1, c1 in SCORE_BLOCKS.values()]
    gpd.GeoDataFrame({"patch_id": list(SCORE_BLOCKS)}, geometry=boxes, crs=4548).to_file(
        layers / "blocks.gpkg", layer="blocks")
    toml = layers / "township.toml"
    text = toml.read_text(encoding="utf-8")
    head = "[layers.basic_farmland]\n"
    start = text.index(head) + len(head)
    end = text.find("\n[", start)
    text = text[:start] + 'path = "blocks.gpkg"\nlayer = "blocks"\n' + (text[end + 1:] if end >= 0 else "")
    extra = f"nodata = {nodata}\n" if nodata else ""
    toml.write_text(text.rstrip("\n") + '\n\n[rasters.score]\npath = "score.tif"\n' + extra, encoding="utf-8")


def _township_toml(folder: Path, villages: str, plots: str) -> None:
    """The copy's township.toml with its villages' and forest plots' sections replaced."""
    toml = (folder / "township.toml").read_text(encoding="utf-8")
    toml = toml.replace('[layers.villages]\npath = "township.gpkg"\nlayer = "villages"\n', villages, 1)
    toml = toml.replace('[layers.forest_plots]\npath = "forest_plots.shp"\nfields = { plot_id = "小班编码" }\n',
                        plots, 1)
    (folder / "township.toml").write_text(toml, encoding="utf-8")


def geodatabase(folder: Path, run: Runner, plots_layer: bool = False) -> None:
    """``qingxi-gdb/``: the sample with its villages and forest plots copied into
    ``青溪乡.gdb`` (feature classes 村界 and 小班, written by GDAL's OpenFileGDB driver) and read
    from there; the forest plots' ``layer = "小班"`` forgotten unless ``plots_layer``."""
    import geopandas as gpd

    town = folder / "qingxi-gdb"
    shutil.copytree(SAMPLE, town)
    gdb = town / "青溪乡.gdb"
    gpd.read_file(town / "township.gpkg", layer="villages").to_file(gdb, driver="OpenFileGDB", layer="村界")
    plots = gpd.read_file(town / "forest_plots.shp", encoding="gb18030")
    plots.to_file(gdb, driver="OpenFileGDB", layer="小班")
    layer = 'layer = "小班"\n' if plots_layer else ""
    _township_toml(town, '[layers.villages]\npath = "青溪乡.gdb"\nlayer = "村界"\n',
                   f'[layers.forest_plots]\npath = "青溪乡.gdb"\n{layer}fields = {{ plot_id = "小班编码" }}\n')


def amap_villages(folder: Path, run: Runner, declared: bool = True) -> None:
    """``qingxi-amap/``: the sample with its villages as AMap shows them (shifted to GCJ-02 by
    the forward formulas) in ``villages_amap.geojson``, declared ``crs = "gcj02"`` when
    ``declared``."""
    import geopandas as gpd

    from geo_township.crs import geometries_to_map_app

    town = folder / "qingxi-amap"
    shutil.copytree(SAMPLE, town)
    villages = gpd.read_file(town / "township.gpkg", layer="villages").to_crs(4490)
    shifted = gpd.GeoSeries(geometries_to_map_app(villages.geometry.to_numpy(), "gcj02"), crs=4490)
    villages.set_geometry(shifted).to_file(town / "villages_amap.geojson")
    crs = 'crs = "gcj02"\n' if declared else ""
    _township_toml(town, f'[layers.villages]\npath = "villages_amap.geojson"\n{crs}',
                   '[layers.forest_plots]\npath = "forest_plots.shp"\nfields = { plot_id = "小班编码" }\n')


def crew_gk(folder: Path, run: Runner) -> None:
    """The sample copy and ``crew-gk.xlsx``: a crew's new tree in Gauss–Krüger metres with a
    6-digit easting (no zone prefix), so the zone cannot be told from the numbers."""
    import pandas as pd

    sample(folder, run)
    pd.DataFrame({"编号": ["SC2023-09002"], "状态": ["疑似"], "东坐标": [547630.0], "北坐标": [3376210.0]}).to_excel(
        folder / "crew-gk.xlsx", index=False)


SCENARIOS: dict[str, Callable[[Path, Runner], None]] = {
    "sample": sample,
    "survey": survey,
    "survey-imported": survey_imported,
    "patrol-track": patrol_track,
    "renewal": renewal,
    "renewal-imported": renewal_imported,
    "new-outfall": new_outfall,
    "two-survey-rounds": two_survey_rounds,
    "sand-check": sand_check,
    "crew-gk": crew_gk,
    "gdb-layer-forgotten": geodatabase,
    "gdb": lambda folder, run: geodatabase(folder, run, plots_layer=True),
    "amap-undeclared": lambda folder, run: amap_villages(folder, run, declared=False),
    "amap": amap_villages,
    "own-files": own_files,
    "overdue-list": overdue_list,
    "mistyped-coordinates": mistyped_coordinates,
    "forbidden-import": forbidden_import,
    "names-and-statuses": names_and_statuses,
    "score-raster": score_raster,
    "score-raster-nodata-none": lambda folder, run: score_raster(folder, run, '"none"'),
    "score-raster-nodata-missing": lambda folder, run: score_raster(folder, run, '"missing"'),
}
"""Each scenario's name (as written in ``setup=NAME``) and how it prepares its folder."""

BROKEN: dict[str, Callable[[Path, Runner, str], None]] = {
    "gone": gone, "empty": empty, "cut": cut, "latin1-line": latin1_line, "gbk": gbk,
}
"""``setup=HOW:FILE``: the sample copy with ``layers/FILE`` broken as HOW says."""


def prepare(name: str, folder: Path, run: Runner) -> None:
    """Prepare ``folder`` for scenario ``name`` (KeyError naming the known ones if none)."""
    how, _, arg = name.partition(":")
    if name in SCENARIOS:
        SCENARIOS[name](folder, run)
    elif arg and how in BROKEN:
        BROKEN[how](folder, run, arg)
    else:
        raise KeyError(f"no scenario called {name!r}; known: {', '.join(sorted(SCENARIOS))}, "
                       f"and {', '.join(f'{h}:FILE' for h in BROKEN)}")
