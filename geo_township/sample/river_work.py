"""What the river chiefs' office adds to the sample: a year of patrol tracks, the sewage-outfall
ledger, the main river's sand-mining plan zones, and the restoration dates of sand sites.

* ``patrols.gpx`` — GPS tracks of river-chief patrols (巡河) from 2022-05 to 2023-04, one
  ``<trk>`` per patrol named like a phone app names it (``程建华巡河``, or just the name),
  with a point every 30 s and its time (UTC). The walker keeps to the bank path 5–20 m
  from the centre line and the fixes wander by a few metres (correlated GPS noise). Each
  chief has a habit: the county chief walks his reach once a quarter, one township chief
  walks only the upstream half of his, one village chief skips three months, one never
  patrols, and a township chief never visits the second of her two reaches; a river
  cleaner (not a chief) also walks the main river.
* ``outfalls.xlsx`` — 入河排污口台账: a title row, then 排污口编号, 名称, 类型, 受纳河流,
  村名, 东坐标, 北坐标 (Gauss–Krüger metres, EPSG:4548 without zone prefix); most on the
  bank inside the management zone, some recorded at the works' gate outside it.
* ``sand_zones.geojson`` — the main river's sand-mining plan (河道采砂规划 2021—2025):
  可采区 / 禁采区 / 保留区 stretches 50 m either side of the centre line. The plan puts a
  licensed site in a no-mining stretch and an illegal one in a reserved stretch.
* The sand sites gain 复绿日期 (restoration date) for restored sites; one was recorded
  restored before it was closed.

Everything random comes from this module's own RNG streams (40–43) of the main seed, so the
other layers stay identical; :func:`river_work` returns the planted truth and the layers.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point
from shapely.ops import substring

from .geometry import GEO_EPSG, WORK_EPSG, xy_to_lonlat
from .names import DATA_DATE, VILLAGES
from .terrain import landscape, rng_stream

GPX = "patrols.gpx"
XLSX = "outfalls.xlsx"
SAND_ZONES = "sand_zones.geojson"

TOML = """
[layers.patrols]
path = "patrols.gpx"

[layers.outfalls]
path = "outfalls.xlsx"
crs = "EPSG:4548"

[layers.sand_zones]
path = "sand_zones.geojson"
"""

PERIOD = (dt.date(2022, 5, 1), dt.date(2023, 4, 30))
MONTHS = pd.period_range("2022-05", "2023-04", freq="M")
LOG_INTERVAL_S = 30
PATROL_BUFFER_M = 50.0  # the tool's default patrol distance, for the truth

#: Who walks what: reaches (walked as one line), tracks per month, months (index into
#: MONTHS) walked, stretch of the merged line walked (fractions). The chief is whoever the
#: rivers layer names for the first reach.
HABITS: tuple[tuple[tuple[str, ...], tuple[int, int], tuple[int, ...], tuple[float, float]], ...] = (
    (("QXH-01",), (1, 1), (0, 3, 6, 9), (0.0, 1.0)),                 # county chief: quarterly
    (("QXH-02", "QXH-03"), (1, 2), tuple(i for i in range(12) if i != 8), (0.0, 1.0)),  # misses Jan
    (("QXH-04",), (1, 1), tuple(range(12)), (0.0, 0.5)),             # only the upstream half
    (("SMH-01",), (1, 1), tuple(range(12)), (0.0, 1.0)),             # …and never LTX-01
    (("ZSX-01",), (2, 4), tuple(range(12)), (0.0, 1.0)),             # a diligent village chief
    (("SMH-02",), (1, 2), tuple(range(12)), (0.0, 1.0)),
    (("TYX-01",), (1, 1), tuple(i for i in range(12) if i not in (2, 5, 8)), (0.0, 1.0)),
)
#: A river cleaner (保洁员) who is no chief walks part of the main river now and then.
CLEANER = ("李小军", ("QXH-02", "QXH-03"), (0, 1), (0.2, 0.7))
#: Sand-mining plan along the main river: (id, zone, kind word, from, to) as fractions of its
#: length (from its source), 50 m either side of the centre line.
PLAN_ZONES = (
    ("KC-01", "可采区", 0.06, 0.17),
    ("JC-01", "禁采区", 0.24, 0.38),
    ("BL-01", "保留区", 0.40, 0.50),
    ("KC-02", "可采区", 0.58, 0.70),
    ("JC-02", "禁采区", 0.76, 0.89),
)
PLAN_HALF_WIDTH_M = 50.0
#: Outfalls: reach, position along it, kind, inside the zone (on the bank) or recorded at
#: the works' gate (metres from the centre line).
OUTFALLS: tuple[tuple[str, float, str, str | float], ...] = (
    ("QXH-01", 0.35, "生活污水", "in"), ("QXH-01", 0.80, "农业退水", "in"),
    ("QXH-02", 0.40, "生活污水", "in"), ("QXH-02", 0.75, "工业废水", 75.0),
    ("QXH-03", 0.20, "雨污混排", "in"), ("QXH-03", 0.55, "工业废水", "in"),
    ("QXH-03", 0.85, "生活污水", 48.0), ("QXH-04", 0.50, "农业退水", "in"),
    ("ZSX-01", 0.60, "生活污水", "in"), ("SMH-02", 0.30, "生活污水", "in"),
    ("TYX-01", 0.70, "农业退水", 40.0), ("LTX-01", 0.45, "工业废水", "in"),
)
ACTIVE = ("已许可", "非法")
BANNED = ("禁采区", "保留区")


@dataclass
class RiverWork:
    """The extra layers (patrols as tracks of (x, y, time) in EPSG:4548) and their truth."""

    patrols: list[dict]
    outfalls: pd.DataFrame
    sand_zones: gpd.GeoDataFrame  # EPSG:4490
    sand_sites: gpd.GeoDataFrame  # the sites with 复绿日期, EPSG:4490
    truth: dict


def _reaches(rivers: gpd.GeoDataFrame) -> dict[str, LineString]:
    gk = rivers.to_crs(WORK_EPSG)
    return dict(zip(gk["河段编号"], gk.geometry, strict=True))


def _merged(reaches: dict[str, LineString], codes: tuple[str, ...]) -> LineString:
    """Consecutive reaches as one line, running the way the first reach runs."""
    line = shapely.line_merge(shapely.union_all([reaches[c] for c in codes]))
    if line.geom_type != "LineString":  # pragma: no cover - consecutive reaches always merge
        raise RuntimeError(f"reaches {codes} do not join into one line")
    first = Point(reaches[codes[0]].coords[0])
    if Point(line.coords[-1]).distance(first) < Point(line.coords[0]).distance(first):
        line = line.reverse()
    return line


def _walk(line: LineString, a: float, b: float, start: dt.datetime, rng: np.random.Generator
          ) -> tuple[np.ndarray, list[dt.datetime]]:
    """A walk along ``line`` from fraction a to b (either direction), on the bank path with
    correlated GPS noise; a fix every LOG_INTERVAL_S seconds."""
    if rng.uniform() < 0.5:
        a, b = b, a
    length = line.length
    speed = rng.uniform(1.0, 1.35)
    n = max(3, int(abs(b - a) * length / (speed * LOG_INTERVAL_S)) + 1)
    s = np.linspace(a * length, b * length, n)
    s[1:-1] += rng.normal(0, 3.0, n - 2)
    s = np.clip(s, 0, length)
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(line, np.clip(s + 8, 0, length)))
    behind = shapely.get_coordinates(shapely.line_interpolate_point(line, np.clip(s - 8, 0, length)))
    d = ahead - behind
    d /= np.hypot(d[:, 0], d[:, 1])[:, None]
    normal = np.column_stack([-d[:, 1], d[:, 0]])
    side = 1.0 if rng.uniform() < 0.5 else -1.0
    phase = rng.uniform(0, 2 * np.pi)
    offset = side * (12.0 + 6.0 * np.sin(phase + s / 400.0))  # the bank path, 6–18 m out
    noise = np.zeros((n, 2))
    for k in range(1, n):  # correlated GPS error, about 4 m
        noise[k] = 0.8 * noise[k - 1] + rng.normal(0, 2.4, 2)
    xy = shapely.get_coordinates(shapely.line_interpolate_point(line, s)) + normal * offset[:, None] + noise
    times = [start + dt.timedelta(seconds=LOG_INTERVAL_S * k + int(rng.integers(0, 3))) for k in range(n)]
    return xy, times


def _patrols(rivers: gpd.GeoDataFrame, reaches: dict[str, LineString], rng: np.random.Generator) -> list[dict]:
    chief_of = dict(zip(rivers["河段编号"], rivers["河长"], strict=True))
    tracks = []
    habits = [(chief_of[codes[0]], codes, per, months, stretch) for codes, per, months, stretch in HABITS]
    habits.append((CLEANER[0], CLEANER[1], CLEANER[2], (1, 4, 7, 10), CLEANER[3]))
    for walker, codes, (lo, hi), months, (a, b) in habits:
        line = _merged(reaches, codes)
        for mi in months:
            month = MONTHS[mi]
            n = int(rng.integers(lo, hi + 1))
            days = np.sort(rng.choice(month.days_in_month, size=n, replace=False)) + 1
            for day in days:
                local = dt.datetime(month.year, month.month, int(day), int(rng.integers(8, 16)),
                                    int(rng.integers(0, 60)))
                xy, times = _walk(line, a, b, local - dt.timedelta(hours=8), rng)  # GPS time is UTC
                style = rng.uniform()
                name = walker if style < 0.3 else f"{walker}巡河" if style < 0.8 else f"{local:%m月%d日}{walker}巡河"
                tracks.append({"name": name, "walker": walker, "reaches": list(codes), "xy": xy, "times": times,
                               "date": local.date().isoformat()})
    tracks.sort(key=lambda t: (t["times"][0], t["name"]))
    return tracks


def _outfalls(rivers: gpd.GeoDataFrame, reaches: dict[str, LineString], villages: list,
              rng: np.random.Generator) -> tuple[pd.DataFrame, list[str]]:
    zone_of = dict(zip(rivers["河段编号"], rivers["管理范围"], strict=True))
    river_of = dict(zip(rivers["河段编号"], rivers["河流名称"], strict=True))
    rows, inside = [], []
    zones = shapely.union_all([reaches[c].buffer(float(zone_of[c])) for c in reaches])
    for k, (code, frac, kind, where) in enumerate(OUTFALLS, start=1):
        line = reaches[code]
        s = (frac + rng.uniform(-0.03, 0.03)) * line.length
        p = np.asarray(line.interpolate(s).coords[0])
        q = np.asarray(line.interpolate(min(s + 8, line.length)).coords[0]) - np.asarray(
            line.interpolate(max(s - 8, 0)).coords[0])
        normal = np.array([-q[1], q[0]]) / np.hypot(*q)
        zone = float(zone_of[code])
        off = rng.uniform(4.0, zone - 4.0) if where == "in" else float(where) + rng.uniform(-3, 3)
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        x, y = p + side * off * normal
        pt = Point(x, y)
        vil = next((j for j, v in enumerate(villages) if v.contains(pt)), None)
        village = VILLAGES[vil][0] if vil is not None else ""
        oid = f"PWK-{k:02d}"
        if zones.contains(pt):
            inside.append(oid)
        rows.append({"排污口编号": oid, "名称": f"{village[:-1] if village else ''}{kind}排放口",
                     "类型": kind, "受纳河流": river_of[code], "村名": village,
                     "东坐标": round(float(x), 3), "北坐标": round(float(y), 3)})
    return pd.DataFrame(rows), inside


def _sand_zones(reaches: dict[str, LineString]) -> gpd.GeoDataFrame:
    main = _merged(reaches, ("QXH-01", "QXH-02", "QXH-03", "QXH-04"))
    rows = []
    for zid, word, a, b in PLAN_ZONES:
        part = substring(main, a, b, normalized=True)
        rows.append({"分区编号": zid, "分区类型": word, "名称": f"青溪河{zid}{word}", "河流": "青溪河",
                     "规划期": "2021—2025", "geometry": part.buffer(PLAN_HALF_WIDTH_M, cap_style="flat")})
    g = gpd.GeoDataFrame(rows, geometry="geometry", crs=WORK_EPSG)
    return g.to_crs(GEO_EPSG)


def _restored_dates(sand: gpd.GeoDataFrame, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, dict]:
    out = sand.copy()
    restored = out["状态"] == "已复绿"
    limit = dt.date.fromisoformat(DATA_DATE)
    dates = []
    for status, closed in zip(out["状态"], out["关停日期"], strict=True):
        if status != "已复绿":
            dates.append("")
            continue
        c = dt.date.fromisoformat(closed)
        dates.append(min(c + dt.timedelta(days=int(rng.integers(45, 300))), limit).isoformat())
    planted = out.index[restored][-1]  # the last restored site was recorded restored before it closed
    c = dt.date.fromisoformat(out.at[planted, "关停日期"])
    dates[list(out.index).index(planted)] = (c - dt.timedelta(days=int(rng.integers(60, 120)))).isoformat()
    cols = list(out.columns)
    out["复绿日期"] = dates
    out = out[cols[:cols.index("关停日期") + 1] + ["复绿日期"] + cols[cols.index("关停日期") + 1:]]
    fault = {"site_id": str(out.at[planted, "编号"]), "check": "restored_before_closed",
             "closed_date": out.at[planted, "关停日期"], "restored_date": out.at[planted, "复绿日期"]}
    return out, fault


def _coverage(line: LineString, tracks: list[np.ndarray]) -> float:
    """Share of ``line`` within PATROL_BUFFER_M of the tracks (planar), for the truth."""
    if not tracks:
        return 0.0
    cover = shapely.union_all([LineString(xy).buffer(PATROL_BUFFER_M) for xy in tracks])
    return float(line.intersection(cover).length / line.length)


def _layers(land, rivers: gpd.GeoDataFrame, seed: int) -> tuple[list[dict], pd.DataFrame, list[str],
                                                                 gpd.GeoDataFrame, dict[str, LineString]]:
    reaches = _reaches(rivers)
    patrols = _patrols(rivers, reaches, rng_stream(seed, 40))
    outfalls, inside = _outfalls(rivers, reaches, land.villages, rng_stream(seed, 41))
    return patrols, outfalls, inside, _sand_zones(reaches), reaches


def river_work(land, rivers: gpd.GeoDataFrame, sand: gpd.GeoDataFrame, seed: int) -> RiverWork:
    """Plan and draw the river-chief layers for the sample; ``rivers`` and ``sand`` are the
    sample's layers (EPSG:4490). The returned sand sites carry 复绿日期."""
    patrols, outfalls, inside, zones, reaches = _layers(land, rivers, seed)
    sites, history_fault = _restored_dates(sand, rng_stream(seed, 43))

    # truth: which sites lie in which plan zone, and which break the plan
    site_gk = sites.to_crs(WORK_EPSG)
    zone_gk = zones.to_crs(WORK_EPSG)
    in_zone = []
    for sid, status, pt in zip(site_gk["编号"], site_gk["状态"], site_gk.geometry, strict=True):
        for zid, word, poly in zip(zone_gk["分区编号"], zone_gk["分区类型"], zone_gk.geometry, strict=True):
            if poly.intersects(pt):
                in_zone.append({"site_id": str(sid), "zone_id": str(zid), "zone": word, "status": status,
                                "fault": status in ACTIVE and word in BANNED})
    # truth: coverage per chief and month, computed plainly here (planar, 50 m)
    chief_of = dict(zip(rivers["河段编号"], rivers["河长"], strict=True))
    chiefs: dict[str, list[str]] = {}
    for code, chief in chief_of.items():
        chiefs.setdefault(chief, []).append(code)
    walked = {c for t in patrols for c in t["reaches"] if t["walker"] in chiefs}
    plan: dict[str, dict[str, Any]] = {}
    for chief, codes in sorted(chiefs.items()):
        line = shapely.union_all([reaches[c] for c in codes])
        monthly = []
        for month in MONTHS:
            own = [t["xy"] for t in patrols if t["walker"] == chief and t["date"].startswith(str(month))]
            monthly.append(round(100 * _coverage(line, own), 2))
        plan[chief] = {"reaches": codes, "monthly_pct": monthly, "mean_monthly_pct": round(float(np.mean(monthly)), 2)}
    truth = {
        "patrol_period": [PERIOD[0].isoformat(), PERIOD[1].isoformat()],
        "patrol_tracks": len(patrols),
        "patrol_buffer_m": PATROL_BUFFER_M,
        "unpatrolled_reaches": sorted(set(chief_of) - walked - set(CLEANER[1])),
        "patrol_plan": plan,
        "chiefs_below_80pct": sorted(c for c, p in plan.items() if p["mean_monthly_pct"] < 80),
        "non_chief_walkers": [CLEANER[0]],
        "outfalls": len(outfalls),
        "outfalls_in_zone": inside,
        "sand_plan_zones": [dict(zip(("zone_id", "zone", "from", "to"), z, strict=True)) for z in PLAN_ZONES],
        "sand_sites_in_plan_zones": in_zone,
        "sand_zone_faults": [{k: z[k] for k in ("site_id", "zone_id", "zone", "status")} for z in in_zone
                             if z["fault"]],
        "sand_history_faults": [history_fault],
    }
    return RiverWork(patrols, outfalls, zones, sites, truth)


# --------------------------------------------------------------------------- writing


def gpx_text(patrols: list[dict]) -> str:
    """The tracks as GPX 1.1 (lon/lat WGS84 = CGCS2000 to centimetres, times in UTC)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<gpx version="1.1" creator="geo-township sample (青溪乡巡河)" xmlns="http://www.topografix.com/GPX/1/1">',
           "<metadata><name>青溪乡河长巡河轨迹 2022-05—2023-04</name></metadata>"]
    for t in patrols:
        lon, lat = xy_to_lonlat(t["xy"][:, 0], t["xy"][:, 1])
        out.append(f"<trk><name>{t['name']}</name><trkseg>")
        out += [f'<trkpt lat="{la:.7f}" lon="{lo:.7f}"><time>{tm:%Y-%m-%dT%H:%M:%SZ}</time></trkpt>'
                for lo, la, tm in zip(lon, lat, t["times"], strict=True)]
        out.append("</trkseg></trk>")
    out.append("</gpx>")
    return "\n".join(out) + "\n"


def _xlsx_bytes(table: pd.DataFrame) -> bytes:
    """The outfall ledger as an XLSX with a title row, byte-for-byte reproducible (the zip
    entries and the document properties carry the data date, not the time of writing)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "排污口台账"
    ws.append(["青溪乡入河排污口台账(坐标：CGCS2000 3度带 中央经线117°E，单位米)"])
    ws["A1"].font = Font(bold=True)
    ws.append(list(table.columns))
    for row in table.itertuples(index=False):
        ws.append(list(row))
    for col, width in zip("ABCDEFG", (12, 20, 10, 10, 10, 14, 14), strict=True):
        ws.column_dimensions[col].width = width
    raw = io.BytesIO()
    wb.save(raw)
    stamp = f"{DATA_DATE}T00:00:00Z".encode()
    y, m, d = (int(v) for v in DATA_DATE.split("-"))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in sorted(zin.infolist(), key=lambda i: i.filename):
            data = zin.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>" + stamp + rb"\g<2>", data)
            info = zipfile.ZipInfo(item.filename, date_time=(y, m, d, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, data)
    return out.getvalue()


def write_river_work(sample, folder: Path) -> list[Path]:
    """Write patrols.gpx, outfalls.xlsx and sand_zones.geojson for ``sample`` into
    ``folder`` (the sand sites, with 复绿日期, are written with the other layers)."""
    import pyogrio

    seed = sample.truth["seed"]
    patrols, outfalls, _, zones, _ = _layers(landscape(seed), sample.rivers, seed)  # the same streams again
    folder = Path(folder)
    (folder / GPX).write_text(gpx_text(patrols), encoding="utf-8")
    (folder / XLSX).write_bytes(_xlsx_bytes(outfalls))
    pyogrio.write_dataframe(zones, folder / SAND_ZONES, driver="GeoJSON", layer="sand_zones",
                            layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"})
    return [folder / GPX, folder / XLSX, folder / SAND_ZONES]


def readme_section(truth: dict) -> str:
    """The river-chief paragraph of layers/README.md."""
    t = truth["river_work"]
    faults = "; ".join(f"{f['site_id']} ({f['status']}) in {f['zone']} {f['zone_id']}" for f in t["sand_zone_faults"])
    h = t["sand_history_faults"][0]
    fp, tp = t["forest_plots_in_zone"][0], t["land_transfers_in_zone"][0]
    return f"""
## River chiefs: patrols, outfalls, sand-mining plan

| file | layer | features | format, CRS, quirks |
| --- | --- | ---: | --- |
| `patrols.gpx` | 巡河轨迹 | {t["patrol_tracks"]} | GPX 1.1 tracks, {t["patrol_period"][0]} – {t["patrol_period"][1]}; the walker in `<name>` (`程建华巡河`, `05月12日程建华巡河` or just the name), a fix every 30 s with its UTC time, bank path 6–18 m off the centre line, correlated GPS noise of about 4 m |
| `outfalls.xlsx` | 入河排污口 | {t["outfalls"]} | XLSX with a title row above the header; 排污口编号, 名称, 类型, 受纳河流, 村名, 东坐标/北坐标 in Gauss–Krüger metres (EPSG:4548, no zone prefix: township.toml names the CRS) |
| `sand_zones.geojson` | 采砂分区 | {len(t["sand_plan_zones"])} | GeoJSON; 分区编号, 分区类型 (可采区/禁采区/保留区), 名称, 河流, 规划期: the main river's sand-mining plan, 50 m either side of the centre line |

Planted (truth key `river_work`): reaches no chief patrolled in the year: {", ".join(t["unpatrolled_reaches"])};
chiefs whose mean monthly coverage (50 m) is below 80%: {", ".join(t["chiefs_below_80pct"])};
a river cleaner who is no chief ({", ".join(t["non_chief_walkers"])}); outfalls inside a management zone:
{", ".join(t["outfalls_in_zone"])}. Sand: active sites in a no-mining or reserved stretch of the plan: {faults};
{h["site_id"]} was recorded restored ({h["restored_date"]}) before it was closed ({h["closed_date"]}).

Inside a management zone on purpose (truth keys `forest_plots_in_zone`, `land_transfers_in_zone`):
forest plot {fp["plot_id"]} in {fp["village"]}, a planted {fp["species"]} riparian belt (护岸林) 20 m wide
and 300 m long along {fp["reach"]}, whose river-side edge lies {fp["distance_m"]:g} m from the centre line,
8 m inside the zone ({fp["inside_mu"]:.2f} 亩 inside); and its contract {tp["parcel_id"]} ({tp["use"]}, the
village collective to a nursery company; {tp["inside_mu"]:.2f} 亩 inside). Every other forest plot lies on the
slopes, well outside every zone. (The land-cover raster classes the belt's pixels with the valley floor.)
"""  # noqa: E501  (Markdown table rows of the generated README, one per line)
