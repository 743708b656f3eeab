"""Rows whose coordinates cannot be right, left out of a loaded layer and named.

One mistyped longitude (17.449 for 117.449) among eighteen thousand trees must neither
stop the layer nor be counted in a village's totals. A feature is left out of every
count, and listed with its line (tables) or id and a fix, when its coordinates

* are not numbers (``not_numbers``);
* do not fit the coordinate system inferred from the other rows (``crs_misfit``);
* cannot be read in the layer's coordinate system (``impossible``);
* lie outside China while the rest of the layer lies in it (``outside_china``);
* lie further than ``max_outside_m`` (default 20 km) outside the township's extent
  (``outside_township``: the bounding box of its villages, else of its polygon layers,
  as the tree import measures it; the import's own limit for new trees,
  ``import_max_outside_m``, is smaller, so an imported tree is never left out here).
  Features nearer than that but outside the villages are only reported by ``check``
  (``outside_tolerance_m``): a tree 30 m over the boundary is a real tree.

:mod:`geo_township.layers` calls :func:`judge_rows` while reading a layer and
:func:`outside_extent` once it is in the working CRS; the table of rows left out
(:data:`COLUMNS`) is kept on the layer, summarised by :func:`summary_lines` and listed
by :func:`left_out_findings`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geo_township.crs import RowFit, in_china, is_plain_lonlat
from geo_township.io.xy import empty_points
from geo_township.results import Check, Finding, declare

OUTSIDE_PARAMETER = "max_outside_m"
"""The township parameter (metres) beyond which a feature outside the township's extent is
a bad row, left out of every count."""

COLUMNS = ["feature", "line", "x", "y", "reason", "detail", "detail_zh"]
"""The table of rows left out: label (id, with the line for tables), the line in the file
(tables; else missing), the coordinates as in the file (first vertex), the reason code,
and what is wrong in English and Chinese."""

SHOWN = 10
"""Lines or ids named in a summary line; the rest are counted."""

LEFT_OUT_CHECKS = declare(
    Check("row_left_out", "warning", "row left out of every count", "未计入任何统计的行",
          "{detail}: left out of every count; {fix}", "{detail_zh}：未计入任何统计；{fix_zh}"),
)


@dataclass(frozen=True)
class Reason:
    """Why rows are left out, in a summary (en, zh) and how to fix them (en, zh)."""

    summary: str
    summary_zh: str
    fix: str
    fix_zh: str


_DIGIT_FIX = ("fix the coordinates: a digit missing or mistyped?", "请更正坐标：是否漏输或输错了数字？")
REASONS: dict[str, Reason] = {
    "not_numbers": Reason("coordinates that are not numbers", "坐标不是数字",
                          "give the row coordinates that are numbers", "请填写数字坐标"),
    "crs_misfit": Reason("coordinates that do not fit the coordinate system of the other rows",
                         "坐标与其他行的坐标系不符", *_DIGIT_FIX),
    "impossible": Reason("coordinates impossible in the layer's coordinate system", "坐标在本图层的坐标系中不可能存在",
                         *_DIGIT_FIX),
    "outside_china": Reason("coordinates outside China", "坐标不在中国境内", *_DIGIT_FIX),
    "outside_township": Reason(
        "coordinates outside the township", "坐标位于本乡范围之外",
        f"fix the coordinates, or widen {OUTSIDE_PARAMETER} under [parameters] in township.toml if the "
        "township really reaches that far",
        f"请更正坐标；如本乡确实延伸到那里，可在 township.toml 的 [parameters] 中调大 {OUTSIDE_PARAMETER}"),
}


def empty_table() -> pd.DataFrame:
    """A table of rows left out with no rows."""
    return pd.DataFrame(columns=COLUMNS)


def coordinate_counts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All coordinates of ``geoms`` (n × 2), how many each feature has, and the index of
    each feature's first coordinate (−1 for features without any)."""
    if len(geoms) and bool((shapely.get_type_id(geoms) == 0).all()):  # points (most trees): x and y alone
        solid = ~shapely.is_empty(geoms)
        held = geoms if solid.all() else geoms[solid]  # an empty point has no x to ask for
        return _single_points(np.column_stack([shapely.get_x(held), shapely.get_y(held)]), solid)
    coords = shapely.get_coordinates(geoms)
    counts = shapely.get_num_coordinates(geoms)
    first = np.where(counts > 0, np.cumsum(counts) - counts, -1)
    return coords, counts, first


def _single_points(coords: np.ndarray, solid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`coordinate_counts` of single points, of which ``solid`` are not empty (one
    coordinate each, ``coords`` in their order; the empty ones none)."""
    counts = solid.astype("int64")
    first = np.where(solid, np.cumsum(counts) - counts, -1)
    return coords, counts, first


def coordinate_groups(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All coordinates of ``geoms`` (n × 2), the feature (0…) each belongs to, and the
    index of each feature's first coordinate (−1 for features without any)."""
    coords, counts, first = coordinate_counts(geoms)
    return coords, np.repeat(np.arange(len(geoms)), counts), first


def _fmt(x: float, y: float, geographic: bool) -> str:
    if not (np.isfinite(x) and np.isfinite(y)):
        return f"{x}, {y}"
    return f"{x:.6f}, {y:.6f}" if geographic else f"{x:.1f}, {y:.1f}"


def point_counts(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`coordinate_counts` of single points given as coordinates (n × 2; NaN, NaN: an
    empty point, without any)."""
    solid = ~empty_points(xy)
    return _single_points(xy if solid.all() else xy[solid], solid)


def judge_rows(geoms: np.ndarray, crs: CRS, fit: RowFit | None, *, xy: np.ndarray | None = None) -> pd.DataFrame:
    """The features of ``geoms`` (in ``crs``, the layer's own) whose coordinates cannot be
    right, indexed by position: columns ``x``, ``y`` (first vertex), ``reason``, ``detail``
    and ``detail_zh``. ``fit`` is the inference of ``crs`` from these coordinates (its
    ``fits`` one flag per coordinate of ``geoms``), or None when the CRS was given.
    ``xy``: single points given as coordinates (:func:`point_counts`) instead of ``geoms``.
    Features without geometry are left to the caller (they are dropped as empty)."""
    coords, counts, first = coordinate_counts(geoms) if xy is None else point_counts(xy)
    n = len(counts)
    has = first >= 0
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    x[has], y[has] = coords[first[has], 0], coords[first[has], 1]
    reason = np.full(n, "", dtype=object)

    def features_with(vertices: np.ndarray) -> np.ndarray:
        """Which features have any of the coordinates flagged in ``vertices``."""
        return np.bincount(np.repeat(np.arange(n), counts)[vertices], minlength=n) > 0

    with np.errstate(over="ignore"):  # one pass in the common case: a NaN or an infinity makes the sum so
        summed = coords.sum()
    if not np.isfinite(summed):
        reason[features_with(~np.isfinite(coords).all(axis=1))] = "not_numbers"
    if fit is not None and len(fit.fits) == len(coords) and not fit.fits.all():
        reason[features_with(~fit.fits) & (reason == "")] = "crs_misfit"
    lonlat = to_lonlat(x, y, crs)
    if lonlat is not None:
        lon, lat = lonlat
        todo = has & (reason == "")
        readable = todo & np.isfinite(lon) & np.isfinite(lat)
        reason[todo & ~readable] = "impossible"
        china = in_china(lon, lat)
        if readable.any() and china[readable].mean() > 0.5:  # a township in China: the rest must be too
            reason[readable & ~china] = "outside_china"
    bad = np.flatnonzero(reason != "")
    geographic = bool(crs.is_geographic)
    rule = (fit.rule, fit.rule_zh) if fit is not None else ("", "")
    details = [_detail(reason[i], _fmt(x[i], y[i], geographic), crs, rule) for i in bad]
    return pd.DataFrame({"x": x[bad], "y": y[bad], "reason": reason[bad],
                         "detail": [d[0] for d in details], "detail_zh": [d[1] for d in details]},
                        index=bad)


def to_lonlat(x: np.ndarray, y: np.ndarray, crs: CRS) -> tuple[np.ndarray, np.ndarray] | None:
    """Longitude/latitude of points given in ``crs`` (NaN where they cannot be read);
    None when ``crs`` cannot be transformed at all (nothing can then be said per row)."""
    if is_plain_lonlat(crs):
        lon, lat = x.copy(), y.copy()
        bad = (np.abs(lon) > 180) | (np.abs(lat) > 90)
        return np.where(bad, np.nan, lon), np.where(bad, np.nan, lat)
    with np.errstate(all="ignore"):
        try:
            lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
        except Exception:  # noqa: BLE001 - a CRS without a transform to lon/lat: leave the rows alone
            return None
    lon, lat = np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
    bad = (np.abs(lon) > 180) | (np.abs(lat) > 90)
    return np.where(bad, np.nan, lon), np.where(bad, np.nan, lat)


def _detail(code: str, where: str, crs: CRS, rule: tuple[str, str]) -> tuple[str, str]:
    """What is wrong with one row, in English and Chinese."""
    name = crs.to_string()
    if code == "not_numbers":
        return f"coordinates {where} are not numbers", f"坐标 {where} 不是数字"
    if code == "crs_misfit":
        return (f"coordinates {where} do not fit the coordinate system of the other rows ({rule[0]}, {name})",
                f"坐标 {where} 与其他行的坐标系（{rule[1]}，{name}）不符")
    if code == "impossible":
        return f"coordinates {where} are impossible in {name}", f"坐标 {where} 在 {name} 中不可能存在"
    return f"coordinates {where} are not in China (read in {name})", f"坐标 {where} 不在中国境内（按 {name} 读取）"


def boxes_within(bounds: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Which of the boxes ``bounds`` (n × 4: min x, min y, max x, max y) lie in ``box``
    (an empty geometry's box, NaN, does not)."""
    return ((bounds[:, 0] >= box[0]) & (bounds[:, 1] >= box[1]) & (bounds[:, 2] <= box[2])
            & (bounds[:, 3] <= box[3]))


def outside_extent(geoms: np.ndarray, extent: tuple[float, float, float, float], max_m: float, *,
                   what: str, what_zh: str) -> pd.DataFrame:
    """The features of ``geoms`` lying more than ``max_m`` metres outside ``extent`` (a
    bounding box in the same planar CRS), indexed by position: columns ``distance_m``,
    ``reason``, ``detail`` and ``detail_zh``."""
    # a feature whose own box lies in the extent is at distance 0: only the others are measured
    inside = boxes_within(shapely.bounds(geoms), extent)
    dist = np.zeros(len(geoms), dtype="float64")
    dist[~inside] = shapely.distance(geoms[~inside], shapely.box(*extent))
    far = np.flatnonzero(np.nan_to_num(dist, nan=np.inf) > max_m)
    km = dist[far] / 1000.0
    return pd.DataFrame({
        "distance_m": dist[far], "reason": "outside_township",
        "detail": [f"lies {d:,.1f} km outside the township ({what}; at most {max_m:g} m allowed, "
                   f"{OUTSIDE_PARAMETER})" for d in km],
        "detail_zh": [f"位于本乡范围（{what_zh}）外 {d:,.1f} 公里（允许至多 {max_m:g} 米，{OUTSIDE_PARAMETER}）"
                      for d in km],
    }, index=far)


def _names(table: pd.DataFrame, lang: str) -> tuple[str, list[str]]:
    """How the rows are named in a summary: 'line'/'行' and line numbers for tables, else ids."""
    lines = pd.to_numeric(table["line"], errors="coerce")
    if lines.notna().all():
        values = [int(v) for v in lines]
        return "line", [f"{v:,}" if lang == "en" else str(v) for v in values]
    return "feature", table["feature"].astype(str).tolist()


def summary_lines(table: pd.DataFrame, *, file_name: str, lang: str = "en") -> list[str]:
    """One line per reason: how many rows were left out, which, why and the fix, e.g.
    "trees.csv: 3 rows left out of every count: lines 12, 407, 9,001 — coordinates outside
    the township (fix the coordinates, or widen …)"."""
    out = []
    for code, rows in table.groupby("reason", sort=False):
        reason = REASONS[str(code)]
        unit, names = _names(rows, lang)
        n = len(rows)
        shown = names[:SHOWN]
        if lang == "zh":
            more = f" 等（另有 {n - SHOWN} 个）" if n > SHOWN else ""
            named = ("第 " + "、".join(shown) + " 行" if unit == "line" else "、".join(shown)) + more
            noun = "行" if unit == "line" else "个要素"
            out.append(f"{file_name}：{n} {noun}未计入任何统计：{named}——{reason.summary_zh}（{reason.fix_zh}）")
        else:
            more = f" and {n - SHOWN:,} more" if n > SHOWN else ""
            label = ("line" if n == 1 else "lines") if unit == "line" else ("feature" if n == 1 else "features")
            noun = ("row" if n == 1 else "rows") if unit == "line" else label
            out.append(f"{file_name}: {n:,} {noun} left out of every count: {label} {', '.join(shown)}{more} — "
                       f"{reason.summary} ({reason.fix})")
    return out


def left_out_findings(layer_name: str, table: pd.DataFrame) -> list[Finding]:
    """A warning per row left out, naming it (id and line), what is wrong and the fix."""
    out = []
    for row in table.itertuples(index=False):
        reason = REASONS[row.reason]
        out.append(LEFT_OUT_CHECKS.row_left_out.finding(layer_name, str(row.feature), detail=row.detail,
                                                        detail_zh=row.detail_zh, fix=reason.fix, fix_zh=reason.fix_zh))
    return out


def count_in_china(geoms: np.ndarray, crs: CRS) -> tuple[int, int]:
    """How many features (by first vertex) lie in China when read in ``crs``, of how many."""
    coords, _, first = coordinate_groups(geoms)
    first = first[first >= 0]
    lonlat = to_lonlat(coords[first, 0], coords[first, 1], crs) if len(first) else None
    return (0 if lonlat is None else int(in_china(*lonlat).sum())), len(first)
