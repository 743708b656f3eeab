"""Vegetation-loss candidates for the pine-wilt survey: patches inside pine plots where a
vegetation index (NDVI or any other) fell between two dates.

A pine killed by pine wilt turns red and grey within months, and its crown's NDVI falls.
Given the index at two dates (``before`` and ``after``, on the same or different grids),
a pixel is a loss pixel when

* it lies in a pine plot (Masson, slash or black pine; by the pixel-centre rule),
* both dates have a value there (nodata, clouds masked as nodata, are skipped), and
* ``before − after ≥ candidate_min_drop`` (township.toml, default 0.15).

Loss pixels that touch along an edge (4-connected) within one plot form a patch. Patches
smaller than ``candidate_min_m2`` (noise) or larger than ``candidate_max_m2`` (felling,
fire, landslides — not dying trees) are left out and counted. Each patch keeps its
ellipsoidal area, pixel count, mean and largest drop, the index before and after, the plot
it lies in, and a centre point inside it with longitude/latitude for a handheld GPS. Patch
outlines follow pixel edges, clipped to their plot.

Limits: a candidate is a place to look, not a diagnosis. The index also falls for
felling, thinning, fire, drought, disease of other kinds, cloud or cloud shadow left in
the data, a different season or sun angle between the dates, and misregistration at
field edges. One dead crown (20–50 m²) is a fraction of a 10 m Sentinel-2 pixel and is
only seen when several trees die together; drone imagery (≤ 0.5 m) sees single trees.
Only pine plots as drawn are searched: a dying pine in a plot recorded as another
species is missed. Crews confirm every candidate on the ground (and record it as a
``suspected`` tree when they find one).

Pixels are read block by block (:func:`geo_township.raster.blocks`); a patch cut by a block
edge is joined back together, so the result does not depend on the block size.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_township.config import RasterSpec
from geo_township.errors import LayerReadError, UsageError
from geo_township.labels import TOTAL_LABEL
from geo_township.measure import Method, area_m2
from geo_township.raster import (
    DEFAULT_BLOCK,
    RASTER_CHECKS,
    ProgressFn,
    blocks,
    opened,
    pixel_window,
    polygonize_ids,
    raster_spec,
    rasterize_ids,
    read_block,
    same_grid,
    value_percentiles,
    window_transform,
)
from geo_township.results import Check, Finding, Result, declare, localise
from geo_township.vocabulary import PINE_SPECIES, SPECIES

if TYPE_CHECKING:  # pragma: no cover
    from geo_township.layers import Township

log = logging.getLogger(__name__)

CANDIDATE_LABELS: dict[str, tuple[str, str]] = {"patch_id": ("Candidate", "疑似斑块"),
                                                "loss_pixels": ("Loss pixels", "减少像元数")}
"""Headings of the candidates' own columns: ``patch_id`` here numbers a candidate (C001), not a
basic-farmland 图斑 as the field of that name elsewhere, so it is labelled by the Result."""
COLUMNS = ("patch_id", "plot_id", "village", "species", "area_m2", "loss_pixels", "drop_mean", "drop_max",
           "before_mean", "after_mean", "lon", "lat")
_SUMS = ("pixels", "sum_drop", "sum_before", "sum_after")

CANDIDATE_CHECKS = declare(
    Check("not_an_index", "warning", "not a vegetation index", "不像植被指数",
          "{name}'s values run from {low:.4g} to {high:.4g} (2nd–98th percentile); a vegetation index such as NDVI "
          "lies between −1 and 1: is this the index, and not a DEM or an index stored ×10,000 without a scale factor?",
          "{name} 的取值在 {low:.4g} 到 {high:.4g} 之间(第 2–98 百分位)；NDVI 等植被指数应在 −1 到 1 之间："
          "请确认这是植被指数，而不是 DEM，或放大了 10000 倍却没有写比例系数的指数"),
    Check("index_ranges_differ", "warning", "the two rasters' values differ", "两期栅格取值范围不一致",
          "{after}'s values ({after_low:.4g} to {after_high:.4g}) are nothing like {before}'s ({before_low:.4g} to "
          "{before_high:.4g}, 2nd–98th percentiles): the drops are meaningless unless both are the same index, "
          "scaled the same way",
          "{after} 的取值({after_low:.4g} 到 {after_high:.4g})与 {before}({before_low:.4g} 到 {before_high:.4g}，"
          "第 2–98 百分位)相差很大：两期须是同一种植被指数、按同样比例存储，下降幅度才有意义"),
)
NO_PINE_ON_RASTER = RASTER_CHECKS.outside_raster.reworded("no pine plot lies on {raster}: nothing could be searched")
"""No pine plot lies on the BEFORE raster (the raster check, worded for the search)."""


def _pine_plots(township: Township) -> gpd.GeoDataFrame:
    if not township.has("forest_plots"):
        raise LayerReadError("candidates are searched in pine plots, and the township has no forest_plots layer",
                             path=township.config.path,
                             hint='add [layers.forest_plots] with path = "..." to township.toml')
    plots = township.layer("forest_plots")
    if "species" not in plots.gdf.columns:
        raise UsageError("the forest_plots layer has no species field, so pine plots cannot be told apart",
                         hint='map the dominant-species field in township.toml, e.g. fields = { species = "优势树种" }')
    gdf = plots.gdf
    pine = gdf[gdf["species"].isin(PINE_SPECIES).to_numpy()].copy()
    pine["plot_id"] = plots.ids()[pine.index].to_numpy()
    return pine.reset_index(drop=True)


def _scan(pine: gpd.GeoDataFrame, before, after, *, min_drop: float, block: int,
          progress: ProgressFn | None) -> tuple[pd.DataFrame, object, bool, bool]:
    """Loss patches (raster CRS) with their pixel sums, block by block; patches cut by a
    block edge are joined afterwards. Also: was ``after`` warped onto ``before``'s grid, and
    does any pine plot lie on the raster."""
    with opened(before) as (bds, binfo), opened(after) as (ads, ainfo):
        warped = not same_grid(binfo, ainfo)
        zones = pine.geometry.to_crs(binfo.crs).to_numpy()
        window = pixel_window(binfo, shapely.total_bounds(zones))
        covered = window[2] > window[0] and window[3] > window[1]
        tree = shapely.STRtree(zones)
        parts: list[pd.DataFrame] = []
        todo = blocks(window, block)
        for k, blk in enumerate(todo):
            r0, c0, r1, c1 = blk
            t = window_transform(binfo, r0, c0)
            x0, y1 = t @ (0, 0)
            x1, y0 = t @ (c1 - c0, r1 - r0)
            near = tree.query(shapely.box(x0, y0, x1, y1))
            if len(near):
                zone = rasterize_ids(zones[near], near + 1, binfo, blk)
                if (zone > 0).any():
                    b = read_block(bds, binfo, blk)
                    a = read_block(ads, ainfo, blk, grid=binfo)
                    drop = np.ma.getdata(b).astype("float64") - np.ma.getdata(a).astype("float64")
                    hit = (zone > 0) & ~np.ma.getmaskarray(b) & ~np.ma.getmaskarray(a) & (drop >= min_drop)
                    if hit.any():
                        parts.append(_patches(np.where(hit, zone, 0), hit, drop, b, a, binfo, blk, window))
            if progress:
                progress(k + 1, len(todo))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {"geometry": [], "zone": [], "edge": [], "pixels": [], "sum_drop": [], "max_drop": [], "sum_before": [],
         "sum_after": []})
    return _join_edges(frame), binfo.crs, warped, covered


def _patches(labels: np.ndarray, hit: np.ndarray, drop: np.ndarray, b, a, info, blk, window) -> pd.DataFrame:
    geoms, zones = polygonize_ids(labels, info, blk)
    seq = rasterize_ids(geoms, np.arange(1, len(geoms) + 1), info, blk)
    which = seq[hit]
    n = len(geoms) + 1
    frame = pd.DataFrame({
        "geometry": geoms,
        "zone": zones - 1,
        "pixels": np.bincount(which, minlength=n)[1:].astype("float64"),
        "sum_drop": np.bincount(which, weights=drop[hit], minlength=n)[1:],
        "sum_before": np.bincount(which, weights=np.ma.getdata(b)[hit].astype("float64"), minlength=n)[1:],
        "sum_after": np.bincount(which, weights=np.ma.getdata(a)[hit].astype("float64"), minlength=n)[1:],
    })
    max_drop = np.full(n, -np.inf)
    np.maximum.at(max_drop, which, drop[hit])
    frame["max_drop"] = max_drop[1:]
    # patches touching an inner block edge may continue in the next block
    r0, c0, r1, c1 = blk
    t = window_transform(info, r0, c0)
    x0, y1 = t @ (0, 0)
    x1, y0 = t @ (c1 - c0, r1 - r0)
    bounds = shapely.bounds(geoms)
    eps = 1e-6 * abs(t.a)
    frame["edge"] = (((bounds[:, 0] <= x0 + eps) & (c0 > window[1]))
                     | ((bounds[:, 2] >= x1 - eps) & (c1 < window[3]))
                     | ((bounds[:, 3] >= y1 - eps) & (r0 > window[0]))
                     | ((bounds[:, 1] <= y0 + eps) & (r1 < window[2])))
    return frame


def _join_edges(frame: pd.DataFrame) -> pd.DataFrame:
    """Join pieces of one patch that a block edge cut apart: pieces of the same plot that
    share an edge (not just a corner) become one patch."""
    edge = np.flatnonzero(frame["edge"].to_numpy(dtype=bool)) if len(frame) else np.zeros(0, dtype=int)
    if len(edge) < 2:
        return frame.drop(columns="edge")
    geoms = frame["geometry"].to_numpy()[edge]
    zones = frame["zone"].to_numpy()[edge]
    left, right = shapely.STRtree(geoms).query(geoms, predicate="touches")
    keep = (left < right) & (zones[left] == zones[right])
    left, right = left[keep], right[keep]
    shared = shapely.length(shapely.intersection(geoms[left], geoms[right])) > 0
    left, right = left[shared], right[shared]
    group = np.arange(len(edge))
    while len(left):  # label propagation: every piece takes the smallest label it is joined to
        low = np.minimum(group[left], group[right])
        new = group.copy()
        np.minimum.at(new, left, low)
        np.minimum.at(new, right, low)
        new = new[new]
        if np.array_equal(new, group):
            break
        group = new
    labels = np.arange(len(frame))
    labels[edge] = edge[group]
    sums = frame.groupby(labels)[list(_SUMS)].sum()
    maxes = frame.groupby(labels)["max_drop"].max()
    zone = frame.groupby(labels)["zone"].first()
    geom = pd.Series(frame["geometry"].to_numpy(), index=labels).groupby(level=0).agg(
        lambda g: g.iloc[0] if len(g) == 1 else shapely.union_all(g.to_numpy()))
    out = sums.join(maxes).join(zone)
    out["geometry"] = geom
    return out.reset_index(drop=True)


def find_candidates(township: Township, before: str, after: str, *, min_drop: float | None = None,
                    min_m2: float | None = None, max_m2: float | None = None, block: int = DEFAULT_BLOCK,
                    progress: ProgressFn | None = None) -> Result:
    """Patches inside pine plots where the vegetation index fell from ``before`` to ``after``.

    ``before``/``after`` name rasters under ``[rasters]`` in township.toml. Thresholds default
    to the township's ``candidate_min_drop`` (index units), ``candidate_min_m2`` and
    ``candidate_max_m2`` (m², ellipsoidal). The table has one row per candidate, worst drop
    first; ``features['candidates']`` holds the patch polygons and
    ``features['candidate_points']`` their centre points (working CRS), ready for the map
    and a GeoPackage; ``features['excluded']`` the patches left out by size. A warning
    finding says when either raster's values do not look like a vegetation index (outside
    −1…1) or the two rasters' value ranges are nothing alike (e.g. an NDVI against a DEM).
    """
    params = township.config.parameters
    min_drop, min_m2, max_m2 = _thresholds(params, min_drop, min_m2, max_m2)
    b_spec, a_spec = _raster_pair(township, before, after)
    method = params["area_method"]
    pine = _pine_plots(township)
    working = township.working_crs
    findings: list[Finding] = _range_findings(b_spec, a_spec)
    notes = [(f"loss pixel: in a pine plot, valid at both dates, {b_spec.name} − {a_spec.name} ≥ {min_drop:g}; "
              f"patches of 4-connected loss pixels in one plot, kept when {min_m2:g}–{max_m2:g} m² "
              f"({'ellipsoidal' if method == 'ellipsoidal' else 'planar'})")]
    notes_zh = [(f"减少像元：位于松林小班内、两期均有值、{b_spec.name} − {a_spec.name} ≥ {min_drop:g}；"
                f"同一小班内四邻接的"
                f"减少像元组成斑块，面积在 {min_m2:g}–{max_m2:g} 平方米之间的保留"
                f"（{'椭球面积' if method == 'ellipsoidal' else '平面面积'}）")]
    if len(pine):
        frame, crs, warped, covered = _scan(pine, b_spec, a_spec, min_drop=min_drop, block=block,
                                            progress=progress)
        if warped:
            notes.append(f"{a_spec.name} is on another grid than {b_spec.name}: it was warped onto "
                         f"{b_spec.name}'s pixels (bilinear) before comparing")
            notes_zh.append(f"{a_spec.name} 与 {b_spec.name} 格网不同，"
                            f"已按双线性插值重采样到 {b_spec.name} 的格网后再比较")
        if not covered:
            findings.append(NO_PINE_ON_RASTER.finding("forest_plots", "-", raster=b_spec.name))
    else:
        frame, crs = pd.DataFrame({"geometry": [], "zone": [], **{c: [] for c in (*_SUMS, "max_drop")}}), working
        notes.append("the township has no pine plots (Masson, slash or black pine), so nothing was searched")
        notes_zh.append("本乡没有松林小班（马尾松、湿地松、黑松），未作搜索")
    patches = _clipped_patches(frame, crs, pine, working, method)
    size_ok = (patches["area_m2"] >= min_m2) & (patches["area_m2"] <= max_m2)
    small = int((patches["area_m2"] < min_m2).sum())
    large = int((patches["area_m2"] > max_m2).sum())
    table, polys, points = _describe(patches, pine, size_ok.to_numpy())
    excluded = _excluded(patches, pine, size_ok, min_m2, working)
    _add_count_notes(notes, notes_zh, table, small, large, min_m2, max_m2)
    by_plot = _by_plot(table)
    summary = pd.DataFrame({"candidates": [len(table)], "area_m2": [float(table["area_m2"].sum())],
                            "excluded_small": [small], "excluded_large": [large]})
    prov = township.provenance(analysis="candidates", before=b_spec.name, after=a_spec.name,
                               before_file=str(b_spec.path), after_file=str(a_spec.path), min_drop=min_drop,
                               min_m2=min_m2, max_m2=max_m2, area_method=method)
    return Result(f"Vegetation-loss candidates in pine plots: {b_spec.name} → {a_spec.name}", table,
                  title_zh=f"松林植被减少疑似斑块：{b_spec.name} → {a_spec.name}", notes_zh=notes_zh,
                  labels=CANDIDATE_LABELS,
                  tables={"by_plot": by_plot, "totals": summary}, findings=findings,
                  features={"candidates": polys, "candidate_points": points, "excluded": excluded},
                  provenance=prov, notes=notes, vocab={"species": "species"},
                  decimals={"area_m2": 0, "loss_pixels": 0, "drop_mean": 3, "drop_max": 3, "before_mean": 3,
                            "after_mean": 3, "lon": 6, "lat": 6})


def _thresholds(params: dict, min_drop: float | None, min_m2: float | None, max_m2: float | None
                ) -> tuple[float, float, float]:
    """The smallest drop and the patch size range: as given, else the township's
    ``candidate_min_drop``, ``candidate_min_m2`` and ``candidate_max_m2``; refused when they
    would flag every pixel or keep no patch."""
    min_drop = params["candidate_min_drop"] if min_drop is None else float(min_drop)
    min_m2 = params["candidate_min_m2"] if min_m2 is None else float(min_m2)
    max_m2 = params["candidate_max_m2"] if max_m2 is None else float(max_m2)
    if min_drop <= 0:
        raise UsageError(f"a minimum drop of {min_drop:g} would flag every pixel", hint="use e.g. --min-drop 0.15")
    if min_m2 < 0 or max_m2 <= min_m2:
        raise UsageError(f"the size range {min_m2:g}–{max_m2:g} m² is empty",
                         hint="the smallest patch size must be below the largest, e.g. --min-m2 20 --max-m2 5000")
    return min_drop, min_m2, max_m2


def _raster_pair(township: Township, before: str, after: str) -> tuple[RasterSpec, RasterSpec]:
    """The two dates' rasters by their township.toml names: two different files, neither
    a class map."""
    b_spec, a_spec = raster_spec(township, before), raster_spec(township, after)
    if b_spec.path == a_spec.path:
        raise UsageError(f"{b_spec.name} is given as both dates", hint="give the earlier raster, then the later one")
    for spec in (b_spec, a_spec):
        if spec.categorical:
            raise UsageError(f"{spec.name} is a class map, not a vegetation index",
                             hint="give two NDVI (or other index) rasters of the same area at two dates")
    return b_spec, a_spec


def _clipped_patches(frame: pd.DataFrame, crs, pine: gpd.GeoDataFrame, working, method: Method) -> gpd.GeoDataFrame:
    """The patches in the working CRS, each clipped to its plot, with their area in m²."""
    patches = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=list(frame["geometry"]), crs=crs)
    patches = patches.to_crs(working)
    if len(patches):  # pixel squares at a plot's edge reach past it by up to half a pixel: keep the plot's part
        zone = patches["zone"].to_numpy(dtype=int)
        patches = patches.set_geometry(shapely.intersection(patches.geometry.to_numpy(),
                                                            pine.geometry.to_numpy()[zone]), crs=working)
    patches["area_m2"] = area_m2(patches.geometry, method=method)
    return patches


def _excluded(patches: gpd.GeoDataFrame, pine: gpd.GeoDataFrame, size_ok: pd.Series, min_m2: float, working
              ) -> gpd.GeoDataFrame:
    """The patches left out by size, with their plot and why."""
    return gpd.GeoDataFrame(
        {"plot_id": pine["plot_id"].to_numpy()[patches["zone"].to_numpy(dtype=int)[~size_ok.to_numpy()]]
         if len(patches) else [],
         "area_m2": patches["area_m2"][~size_ok].to_numpy(),
         "reason": np.where(patches["area_m2"][~size_ok] < min_m2, "too small", "too large")},
        geometry=patches.geometry[~size_ok].to_numpy(), crs=working)


def _add_count_notes(notes: list[str], notes_zh: list[str], table: pd.DataFrame, small: int, large: int,
                     min_m2: float, max_m2: float) -> None:
    """Notes on how many candidates were found and left out, and what a candidate is."""
    notes.append(f"{len(table)} candidate(s) in {table['plot_id'].nunique()} pine plot(s); left out: {small} smaller "
                 f"than {min_m2:g} m², {large} larger than {max_m2:g} m²")
    notes.append("a candidate is a place to look, not a diagnosis: felling, fire, cloud, shadow and season also "
                 "lower the index; confirm each on the ground")
    notes_zh.append(f"共 {len(table)} 个疑似斑块，涉及 {table['plot_id'].nunique()} 个松林小班；排除：小于 {min_m2:g} "
                    f"平方米 {small} 个，大于 {max_m2:g} 平方米 {large} 个")
    notes_zh.append("疑似斑块只是需要核查的地点，不是诊断：采伐、火烧、云、阴影和季节差异同样会使指数下降，请逐一实地核实")


#: A vegetation index (NDVI, EVI, SAVI …) lies in −1…1; a little slack for rounding and odd pixels.
INDEX_RANGE = (-1.05, 1.05)


def _range_findings(before: RasterSpec, after: RasterSpec) -> list[Finding]:
    """Warnings when a raster does not look like a vegetation index, or when AFTER's values
    are nothing like BEFORE's (ranges apart, or one spread five times the other): comparing
    an NDVI with a DEM, or an index scaled by 10,000 with one that is not, runs without error
    and finds nonsense."""
    ranges = {spec.name: value_percentiles(spec) for spec in (before, after)}
    findings = []
    for name, r in ranges.items():
        if r is not None and (r[0] < INDEX_RANGE[0] or r[2] > INDEX_RANGE[1]):
            findings.append(CANDIDATE_CHECKS.not_an_index.finding(name, "-", name=name, low=r[0], high=r[2]))
    b, a = ranges[before.name], ranges[after.name]
    if b is not None and a is not None:
        spread_b, spread_a = max(b[2] - b[0], 1e-9), max(a[2] - a[0], 1e-9)
        apart = a[0] > b[2] or b[0] > a[2]
        if apart or max(spread_a / spread_b, spread_b / spread_a) > 5:
            findings.append(CANDIDATE_CHECKS.index_ranges_differ.finding(
                after.name, "-", after=after.name, after_low=a[0], after_high=a[2], before=before.name,
                before_low=b[0], before_high=b[2]))
    return findings


def _describe(patches: gpd.GeoDataFrame, pine: gpd.GeoDataFrame, keep: np.ndarray
              ) -> tuple[pd.DataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    kept = patches[keep]
    zone = kept["zone"].to_numpy(dtype=int)
    px = kept["pixels"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame({
            "plot_id": pine["plot_id"].to_numpy()[zone],
            "village": pine["village"].to_numpy()[zone] if "village" in pine.columns else None,
            "species": pine["species"].to_numpy()[zone],
            "area_m2": kept["area_m2"].to_numpy(),
            "loss_pixels": px.astype(int),
            "drop_mean": kept["sum_drop"].to_numpy() / px,
            "drop_max": kept["max_drop"].to_numpy(dtype="float64"),
            "before_mean": kept["sum_before"].to_numpy() / px,
            "after_mean": kept["sum_after"].to_numpy() / px,
        })
    geoms = kept.geometry.to_numpy()
    centre = shapely.centroid(geoms)
    inside = shapely.contains(geoms, centre) if len(geoms) else np.zeros(0, dtype=bool)
    centre = np.where(inside, centre, shapely.point_on_surface(geoms)) if len(geoms) else centre
    lonlat = gpd.GeoSeries(centre, crs=patches.crs).to_crs(4326)
    table["lon"] = lonlat.x.round(6).to_numpy() if len(geoms) else []
    table["lat"] = lonlat.y.round(6).to_numpy() if len(geoms) else []
    order = np.lexsort((-table["area_m2"].to_numpy(), -table["drop_mean"].to_numpy()))
    table = table.iloc[order].reset_index(drop=True)
    geoms, centre = geoms[order], centre[order]
    table.insert(0, "patch_id", [f"C{i + 1:03d}" for i in range(len(table))])
    table = table[list(COLUMNS)]
    polys = gpd.GeoDataFrame(table.copy(), geometry=list(geoms), crs=patches.crs)
    points = gpd.GeoDataFrame(table.copy(), geometry=list(centre), crs=patches.crs)
    return table, polys, points


def _by_plot(table: pd.DataFrame) -> pd.DataFrame:
    grouped = table.groupby("plot_id", sort=True).agg(
        village=("village", "first"), species=("species", "first"), candidates=("patch_id", "count"),
        area_m2=("area_m2", "sum"), drop_max=("drop_max", "max")).reset_index()
    total = pd.DataFrame([{"plot_id": TOTAL_LABEL["en"], "village": "", "species": None,
                           "candidates": int(grouped["candidates"].sum()), "area_m2": float(grouped["area_m2"].sum()),
                           "drop_max": float(grouped["drop_max"].max()) if len(grouped) else np.nan}])
    return pd.concat([grouped, total], ignore_index=True)


# --------------------------------------------------------------------------- files for crews, and the map

POINT_SUFFIXES = (".kml", ".geojson", ".csv", ".gpx", ".shp")


def for_crews(gdf: gpd.GeoDataFrame, result: Result, lang: str = "en", *, headings: bool | None = None
              ) -> gpd.GeoDataFrame:
    """A copy of the candidates' features as crews read them: species (and any coded value)
    as words in ``lang``, numbers rounded as in the table (areas to the m², drops and index
    values to 0.001, longitude/latitude to 1e-6°, about 0.1 m), and with ``headings`` (default:
    when ``lang`` is 'zh') Chinese field names."""
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    for col, places in result.decimals.items():
        if col in attrs.columns and pd.api.types.is_float_dtype(attrs[col]):
            whole = places == 0 and bool(attrs[col].notna().all())
            attrs[col] = attrs[col].round(places).astype("int64") if whole else attrs[col].round(places)
    attrs = localise(attrs, lang, vocab=result.vocab, labels=result.labels,
                     headings=(lang == "zh") if headings is None else headings)
    return gpd.GeoDataFrame(attrs, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)


def _waypoint_names(points: gpd.GeoDataFrame) -> pd.Series:
    """Names for a handheld: the patch id, after its township on a county (ids restart in
    each township, so "C001" alone would name two places)."""
    ids = points["patch_id"].astype(str)
    return points["township"].astype(str) + " " + ids if "township" in points.columns else ids


def _waypoint_text(points: gpd.GeoDataFrame, result: Result, lang: str) -> list[str]:
    species = points["species"].map(lambda c: SPECIES.label(c, lang))
    if lang == "zh":
        return [f"小班 {p}，{s}，{a:.0f} 平方米，指数下降 {d:.2f}" for p, s, a, d in
                zip(points["plot_id"], species, points["area_m2"], points["drop_mean"], strict=True)]
    return [f"plot {p}, {s}, {a:.0f} m2, index drop {d:.2f}" for p, s, a, d in
            zip(points["plot_id"], species, points["area_m2"], points["drop_mean"], strict=True)]


def save_candidates(result: Result, path: str | Path, *, lang: str = "en") -> list[str]:
    """Write the candidates for GIS or a handheld: a GeoPackage gets two layers
    (``candidate_patches`` polygons, ``candidate_points`` centres); KML, GPX, GeoJSON, CSV
    (lon/lat) or a shapefile get the centre points. Values are words in ``lang`` and
    rounded (see :func:`for_crews`); with ``lang='zh'`` field names are Chinese too, except
    in a shapefile, whose field names hold 10 bytes. KML placemarks and GPX waypoints are
    named C001 … (on a county, after their township) with a one-line description. Returns
    the lines to show the user: which file was written (and what it holds), then any notes,
    in ``lang``."""
    from geo_township.export import export_features, export_sets
    from geo_township.io.write import ensure_writable

    path = Path(path)
    ensure_writable(path)
    suffix = path.suffix.lower()
    polys, points = result.features["candidates"], result.features["candidate_points"]
    if suffix == ".gpkg":
        export_sets({"candidate_patches": for_crews(polys, result, lang),
                     "candidate_points": for_crews(points, result, lang)}, path)
        return [_wrote(path, f"layers candidate_patches, candidate_points: {len(points)} each",
                       f"图层 candidate_patches、candidate_points，各 {len(points)} 个", lang)]
    if suffix == ".gpx":
        export_features(points, path, name="candidates", fmt="gpx", lang=lang, names=_waypoint_names(points),
                        descriptions=pd.Series(_waypoint_text(points, result, lang)))
        return [_wrote(path, f"{len(points)} waypoints", f"{len(points)} 个航点", lang)]
    if suffix not in POINT_SUFFIXES:
        raise UsageError(f"cannot write candidates as {suffix or 'a file without suffix'}",
                         hint="use .gpkg (patches and points), or .kml, .gpx, .geojson, .csv, .shp (points)")
    # a CSV gets lon/lat columns from the points themselves (the exporter puts them first)
    source = points.drop(columns=["lon", "lat"]) if suffix == ".csv" else points
    out = for_crews(source, result, lang, headings=lang == "zh" and suffix != ".shp")
    if suffix == ".kml":  # placemarks named C001 … with a description; the folder named for people
        folder = "疑似斑块" if lang == "zh" else "candidates"
        export_features(out, path, name=folder, fmt="kml", lang=lang, names=_waypoint_names(points),
                        descriptions=pd.Series(_waypoint_text(points, result, lang)), folder=folder)
    elif suffix == ".shp":  # field names shortened by the exporter, which says which
        notes = export_features(out, path, name="candidates", fmt="shp", lang=lang)
        return [_wrote(path, f"{len(points)} points", f"{len(points)} 个点", lang),
                *(zh if lang == "zh" else en for en, zh in notes)]
    else:
        export_features(out, path, name="candidates")
    return [_wrote(path, f"{len(points)} points", f"{len(points)} 个点", lang)]


def _wrote(path: Path, what: str, what_zh: str, lang: str) -> str:
    """The line saying which file was written and what it holds, in ``lang``."""
    return f"已写入 {path}（{what_zh}）" if lang == "zh" else f"wrote {path} ({what})"


def default_pair(township: Township) -> tuple[str, str] | None:
    """The before/after rasters for the map's candidate layer: ``candidate_rasters`` in
    township.toml, else the first two rasters whose names contain 'ndvi', in name order."""
    chosen = list(township.config.parameters.get("candidate_rasters") or [])
    if not chosen:
        chosen = sorted(n for n, s in township.config.rasters.items() if "ndvi" in n.lower() and not s.categorical)
    if len(chosen) < 2:
        return None
    return chosen[0], chosen[1]
