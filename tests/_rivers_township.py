"""A hand-made township for the rivers and sand tests, in Gauss–Krüger metres (EPSG:4548,
central meridian 117°E) so every length, distance and share can be worked out by hand.

Origin (X0, Y0) = (500000, 3380000)::

    甲村 x 499000–501000, 乙村 x 501000–502500 (both y 3379000–3383000)
    R1 清溪  张伟 township  zone 30 m : (X0, Y0) → (X0+3000, Y0)        1000 in 甲村, 1500 in 乙村, 500 outside
    R2 支流  李娜 village   zone —    : (X0+1500, Y0+500) → (X0+1500, Y0+2500)   2000 in 乙村
    R3 小溪  张伟 township  zone 10 m : (X0-500, Y0+2800) → (X0+500, Y0+2800)    1000 in 甲村

Patrol tracks (GPX, lon/lat, dated by their first point's time) lie on the river line, so
with a 50 m patrol distance each covers exactly its own extent plus 50 m at each end:

    张伟        2022-03-05  R1 x +50…+1450   → R1 0…1500
    李娜巡河    2022-03-10  R2 y +550…+1450  → R2 500…1500 (half of R2)
    李娜        2022-04-12  R2 y +1550…+2450 → R2 1500…2500 (the other half)
    王五        2022-04-20  R1 x +2050…+2950 → R1 2000…3000 (not a chief)
    R3 is never patrolled.

Forest plots (小班): F1 box x −400…−200, y +2805…+2900 (甲村): its south edge 5 m from R3,
so 5 m × 200 m = 1,000 m² of it lies in R3's 10 m zone; F2 box x −900…−700, y +1500…+1700
(甲村) is far from every river.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import Transformer
from shapely.geometry import LineString, box

X0, Y0 = 500_000.0, 3_380_000.0
CRS = "EPSG:4548"
TO_LONLAT = Transformer.from_crs(4548, 4490, always_xy=True)

REACHES = {
    "R1": ((X0, Y0), (X0 + 3000, Y0)),
    "R2": ((X0 + 1500, Y0 + 500), (X0 + 1500, Y0 + 2500)),
    "R3": ((X0 - 500, Y0 + 2800), (X0 + 500, Y0 + 2800)),
}
TRACKS = [
    ("张伟", "2022-03-05T01:00:00Z", ((X0 + 50, Y0), (X0 + 1450, Y0))),
    ("李娜巡河", "2022-03-10T02:00:00Z", ((X0 + 1500, Y0 + 550), (X0 + 1500, Y0 + 1450))),
    ("李娜", "2022-04-12T03:00:00Z", ((X0 + 1500, Y0 + 1550), (X0 + 1500, Y0 + 2450))),
    ("王五", "2022-04-20T04:00:00Z", ((X0 + 2050, Y0), (X0 + 2950, Y0))),
]
# site, name, kind, status, closed, restored, x, y
SITES = [
    ("S1", "东沙场", "机制砂厂", "非法", None, None, X0 + 200, Y0 + 20),          # 20 m from R1: inside its zone
    ("S2", "河心采砂点", "河道采砂", "许可", None, None, X0 + 1500, Y0 + 1000),   # on R2, in the no-mining zone
    ("S3", "西砂厂", "机制砂厂", "关停", "2022-05-01", None, X0 + 300, Y0 + 200),  # 200 m from R1
    ("S4", "北砂厂", "机制砂厂", "复绿", "2021-03-01", "2022-01-01", X0 + 1000, Y0 + 2000),
    ("S5", "南砂厂", "机制砂厂", "关停", None, None, X0 + 2000, Y0 - 600),         # closed without a date
    ("S6", "老采砂点", "河道采砂", "复绿", "2021-06-01", "2021-01-01", X0 + 2400, Y0 + 40),  # restored first
    ("S7", "中砂厂", "机制砂厂", "关停", "2022-08-15", None, X0 + 2200, Y0 + 1500),
]


def lonlat(x: float, y: float) -> tuple[float, float]:
    return TO_LONLAT.transform(x, y)


def gpx_text(tracks=TRACKS) -> str:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<gpx version="1.1" creator="geo-township tests" xmlns="http://www.topografix.com/GPX/1/1">']
    for name, time, (a, b) in tracks:
        parts.append(f"<trk><name>{name}</name><trkseg>")
        for x, y in (a, b):
            lon, lat = lonlat(x, y)
            parts.append(f'<trkpt lat="{lat:.10f}" lon="{lon:.10f}"><time>{time}</time></trkpt>')
        parts.append("</trkseg></trk>")
    parts.append("</gpx>")
    return "\n".join(parts) + "\n"


def rivers_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "河段编号": ["R1", "R2", "R3"], "河流名称": ["清溪", "清溪支流", "小溪"], "河长": ["张伟", "李娜", "张伟"],
        "河长级别": ["乡级", "村级", "乡级"], "管理范围": [30.0, None, 10.0],
    }, geometry=[LineString(REACHES[k]) for k in ("R1", "R2", "R3")], crs=CRS)


def villages_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"村名": ["甲村", "乙村"]},
                            geometry=[box(X0 - 1000, Y0 - 1000, X0 + 1000, Y0 + 3000),
                                      box(X0 + 1000, Y0 - 1000, X0 + 2500, Y0 + 3000)], crs=CRS)


FOREST = [  # plot, village, species, box (x0, y0, x1, y1) relative to the origin
    ("F1", "甲村", "阔叶混交", (-400, 2805, -200, 2900)),
    ("F2", "甲村", "马尾松", (-900, 1500, -700, 1700)),
]


def make_township(folder: Path, *, patrols: bool = True, sand_zones: bool = True, zone_m: float = 30.0) -> Path:
    """Write the hand-made township into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    villages_gdf().to_file(folder / "villages.gpkg")
    rivers_gdf().to_file(folder / "rivers.gpkg")
    pd.DataFrame([{"编号": s[0], "名称": s[1], "类型": s[2], "状态": s[3], "关停日期": s[4], "复绿日期": s[5],
                   "东坐标": s[6], "北坐标": s[7]} for s in SITES]).to_csv(folder / "sand.csv", index=False,
                                                                        encoding="utf-8-sig")
    pd.DataFrame({"排污口编号": ["O1", "O2"], "名称": ["一号排污口", "二号排污口"],
                  "东坐标": [X0 + 2000, X0 + 2000], "北坐标": [Y0 + 25, Y0 + 100]}).to_csv(
        folder / "outfalls.csv", index=False, encoding="utf-8-sig")
    gpd.GeoDataFrame({"地块编号": ["P1", "P2"], "村名": ["甲村", "乙村"], "流转面积": [6.0, 15.0]},
                     geometry=[box(X0 + 600, Y0 + 20, X0 + 700, Y0 + 60),      # 10 m × 100 m inside R1's zone
                               box(X0 + 1800, Y0 + 400, X0 + 1900, Y0 + 500)],  # 300 m from R2: outside
                     crs=CRS).to_file(folder / "transfers.gpkg")
    gpd.GeoDataFrame({"小班号": [f[0] for f in FOREST], "村名": [f[1] for f in FOREST],
                      "优势树种": [f[2] for f in FOREST]},
                     geometry=[box(X0 + a, Y0 + b, X0 + c, Y0 + d) for *_, (a, b, c, d) in FOREST],
                     crs=CRS).to_file(folder / "forest.gpkg")
    toml = ['[township]', 'name = "河湖测试乡"', 'name_en = "River Test Township"', "",
            '[layers.villages]', 'path = "villages.gpkg"', "",
            '[layers.rivers]', 'path = "rivers.gpkg"', "",
            '[layers.sand_sites]', 'path = "sand.csv"', 'crs = "EPSG:4548"', "",
            '[layers.outfalls]', 'path = "outfalls.csv"', 'crs = "EPSG:4548"', "",
            '[layers.land_transfers]', 'path = "transfers.gpkg"', "",
            '[layers.forest_plots]', 'path = "forest.gpkg"', ""]
    if sand_zones:
        gpd.GeoDataFrame({"分区编号": ["Z1", "Z2", "Z3"], "分区类型": ["禁采区", "可采区", "保留区"]},
                         geometry=[box(X0 + 1400, Y0 + 900, X0 + 1600, Y0 + 1100),
                                   box(X0 + 2300, Y0 - 100, X0 + 2600, Y0 + 100),
                                   box(X0 + 100, Y0 - 100, X0 + 400, Y0 + 100)], crs=CRS).to_file(
            folder / "sand_zones.gpkg")
        toml += ['[layers.sand_zones]', 'path = "sand_zones.gpkg"', ""]
    if patrols:
        (folder / "patrols.gpx").write_text(gpx_text(), encoding="utf-8")
        toml += ['[layers.patrols]', 'path = "patrols.gpx"', ""]
    toml += ["[parameters]", f"zone_m = {zone_m}", ""]
    (folder / "township.toml").write_text("\n".join(toml), encoding="utf-8")
    return folder
