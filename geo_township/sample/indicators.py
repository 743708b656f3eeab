"""The work report's numbers for the sample, computed by the generator from the features it
wrote, with plain pandas and pyproj (never the library's analyses), so that the report's
indicators can be checked against them.

Each rule follows the definition the report states for the indicator: events counted by
their own date within the calendar year, areas in mu on the CGCS2000 ellipsoid, transfers
"in force" on 31 December when they started on or before it and end on or after it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from .geometry import GEO_EPSG, WORK_EPSG, geod_area_mu, xy_to_lonlat

if TYPE_CHECKING:
    from .build import Sample

YEARS = (2021, 2022)
"""The report years the sample is made for."""
CLEARED = ("已清理", "已核查")
"""The status words of a tree that has been cleared."""
SEASON_END = (3, 31)
"""The clearing season's cut-off (month, day): the township's default season_end."""
_GEOD = Geod(ellps="GRS80")


def _dates(values: pd.Series) -> pd.Series:
    """Dates written 2021-09-01 or 2021/9/1 (as the tree survey's rows are); "" is none."""
    def one(text: str) -> pd.Timestamp:
        if not text:
            return pd.NaT
        y, m, d = (int(p) for p in text.replace("/", "-").split("-"))
        return pd.Timestamp(dt.date(y, m, d))
    return pd.Series([one(str(v)) for v in values], index=values.index, dtype="datetime64[ns]")


def _r2(x: float) -> float:
    return round(float(x), 2)


def _trees(trees: pd.DataFrame, year: int) -> dict:
    end = pd.Timestamp(dt.date(year, 12, 31))
    start = pd.Timestamp(dt.date(year, 1, 1))
    cleared = trees["状态"].isin(CLEARED).to_numpy()
    when = _dates(trees["清理日期"]).fillna(_dates(trees["核查日期"]))
    found = _dates(trees["发现日期"])
    cutoff = pd.Timestamp(dt.date(year, *SEASON_END))  # the last cut-off on or before 31 December
    due = ((found >= start) & (found <= cutoff)).to_numpy()
    due_cleared = due & cleared & (when.isna() | (when <= end)).to_numpy()
    return {
        "cleared_trees": int((cleared & ((when >= start) & (when <= end)).to_numpy()).sum()),
        "cleared_trees_cumulative": int((cleared & (when <= end).to_numpy()).sum()),
        "found_trees": int(((found >= start) & (found <= end)).sum()),
        "clearance_rate": _r2(100.0 * due_cleared.sum() / due.sum()) if due.sum() else None,
    }


def _infected_plots(trees: pd.DataFrame, forest, year: int) -> dict:
    """Sub-compartments with a tree found in the year: the tree's recorded 小班编码, else the
    plot its point lies in; their number and area."""
    found = _dates(trees["发现日期"])
    hit = trees[((found >= pd.Timestamp(dt.date(year, 1, 1))) & (found <= pd.Timestamp(dt.date(year, 12, 31))))
                .to_numpy()]
    codes = set(hit.loc[hit["小班编码"] != "", "小班编码"])
    blank = hit[hit["小班编码"] == ""]
    plots_ll = forest.to_crs(GEO_EPSG)
    pts = shapely.points(blank["经度"].astype(float).to_numpy(), blank["纬度"].astype(float).to_numpy())
    tree_idx, plot_idx = plots_ll.sindex.query(pts, predicate="intersects")
    codes |= set(plots_ll["小班编码"].to_numpy()[plot_idx])
    mask = forest["小班编码"].isin(codes).to_numpy()
    mu = geod_area_mu(plots_ll.geometry.to_numpy()[mask])
    return {"infected_plots": {"plots": int(mask.sum()), "mu": _r2(mu.sum())}}


def _forest(forest, year: int) -> dict:
    ll = forest.geometry.to_crs(GEO_EPSG).to_numpy()
    mu = geod_area_mu(ll)
    new = ((forest["起源"] == "人工") & (forest["造林年度"] == year)).to_numpy()
    oil = ((forest["优势树种"] == "油茶") & (forest["造林年度"] <= year)).to_numpy()
    return {"new_afforestation_mu": {"mu": _r2(mu[new].sum()), "plots": int(new.sum())},
            "oil_tea_mu": {"mu": _r2(mu[oil].sum()), "plots": int(oil.sum())}}


def _transfers(transfers, year: int) -> dict:
    mu = geod_area_mu(transfers.geometry.to_numpy())
    declared = transfers["合同面积"].to_numpy(dtype=float)
    start = pd.to_datetime(transfers["起始日期"]).dt.date.to_numpy()
    end = pd.to_datetime(transfers["终止日期"]).dt.date.to_numpy()
    day = dt.date(year, 12, 31)
    new = np.array([s.year == year for s in start])
    in_force = np.array([s <= day <= e for s, e in zip(start, end, strict=True)])
    forest = (transfers["地类"] == "林地").to_numpy()
    farm = (transfers["地类"] == "耕地").to_numpy()
    pv = (transfers["用途"] == "光伏发电").to_numpy()

    def sums(mask: np.ndarray) -> dict:
        return {"declared": _r2(declared[mask].sum()), "measured": _r2(mu[mask].sum()),
                "difference": _r2(mu[mask].sum() - declared[mask].sum()), "parcels": int(mask.sum())}

    return {"new_forest_transfer_mu": sums(forest & new),
            "farmland_transfer_mu": {"new": sums(farm & new), "in_force": sums(farm & in_force)},
            "pv_transfer_mu": sums(pv & in_force)}


def _sand(sand, year: int) -> dict:
    """Sites closed in the year and by its end: all, the 机制砂厂 (counted as enterprises, 家)
    and the 河道采砂 sites (处), by the 类型 the generator wrote."""
    closed = _dates(sand["关停日期"].fillna("").astype(str)).dt.year
    plant = (sand["类型"] == "机制砂厂").to_numpy()
    mining = (sand["类型"] == "河道采砂").to_numpy()
    year_ = (closed == year).to_numpy()
    until = (closed <= year).to_numpy()
    return {"sand_closed": {"year": int(year_.sum()), "cumulative": int(until.sum()),
                            "plants": int((year_ & plant).sum()), "plants_cumulative": int((until & plant).sum()),
                            "mining_sites": int((year_ & mining).sum()),
                            "mining_sites_cumulative": int((until & mining).sum())}}


def _river_km(rivers) -> dict:
    km: dict[str, float] = {}
    for level, geom in zip(rivers["河长级别"], rivers.geometry, strict=True):
        km[level] = km.get(level, 0.0) + _GEOD.geometry_length(geom) / 1000.0
    return {level: _r2(v) for level, v in sorted(km.items())}


def _patrols(rivers, patrols: list[dict], year: int, buffer_m: float) -> dict:
    """Patrol coverage as the report defines it, in the generator's own geometry: per chief,
    the share of their reaches' length lying within ``buffer_m`` of their own tracks dated
    in the year (planar, EPSG:4548), summed over the chiefs ÷ the length of every chief's
    reaches × 100; and the kilometres the chiefs walked (each own track's length on the
    GRS80 ellipsoid). A walker who is no chief counts in neither."""
    lines = rivers.to_crs(WORK_EPSG)
    reaches: dict[str, list] = {}
    for chief, geom in zip(lines["河长"], lines.geometry, strict=True):
        reaches.setdefault(str(chief), []).append(geom)
    covered = total = walked = 0.0
    for chief, geoms in reaches.items():
        line = shapely.union_all(geoms)
        total += line.length
        own = [t["xy"] for t in patrols if t["walker"] == chief and t["date"].startswith(str(year))]
        if not own:
            continue
        near = shapely.union_all([shapely.buffer(shapely.linestrings(xy), buffer_m) for xy in own])
        covered += shapely.intersection(line, near).length
        for xy in own:
            lon, lat = xy_to_lonlat(xy[:, 0], xy[:, 1])
            walked += _GEOD.line_length(lon, lat)
    return {"patrol_coverage_pct": {"pct": _r2(100.0 * covered / total) if total else None,
                                    "walked_km": _r2(walked / 1000.0)}}


def expected_indicators(sample: Sample, patrols: list[dict], buffer_m: float) -> dict[str, dict]:
    """The expected value of each indicator per report year (keys: the years as text);
    ``patrols``: the river chiefs' tracks as the generator drew them (x, y in EPSG:4548),
    ``buffer_m``: the patrol distance the township uses."""
    out: dict[str, dict] = {}
    for year in YEARS:
        values: dict = {}
        values.update(_trees(sample.infected_trees, year))
        values.update(_forest(sample.forest_plots, year))
        values.update(_infected_plots(sample.infected_trees, sample.forest_plots, year))
        values.update(_transfers(sample.land_transfers, year))
        values.update(_sand(sample.sand_sites, year))
        values["river_km"] = _river_km(sample.rivers)
        values.update(_patrols(sample.rivers, patrols, year, buffer_m))
        out[str(year)] = values
    return out
