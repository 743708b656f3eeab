"""The coordinate system of a source that names none, when the loader could not tell it.

The loader infers longitude/latitude and zone-prefixed Gauss–Krüger eastings by itself;
6-digit eastings (a 3-degree zone without its prefix, common in county survey tables)
need the zone. It is taken from where the township's other layers lie, and marked to check.
"""

from __future__ import annotations

import numpy as np

from geo_township.crs import gk3_epsg, gk3_zone_epsg, infer_crs
from geo_township.errors import CRSError
from geo_township.propose.scan import Source, Words


def _coordinates(source: Source) -> tuple[np.ndarray, np.ndarray] | None:
    if source.sample_xy and source.sample_xy[0]:
        return np.asarray(source.sample_xy[0], dtype="float64"), np.asarray(source.sample_xy[1], dtype="float64")
    if source.bounds is not None:
        xmin, ymin, xmax, ymax = source.bounds
        return np.array([xmin, xmax]), np.array([ymin, ymax])
    return None


def _inferred(xy: tuple[np.ndarray, np.ndarray]):
    """What the loader infers, as (inferred, (x, y) in that order), or None (it tries
    either axis order, as the loader swaps them)."""
    for x, y in (xy, xy[::-1]):
        try:
            return infer_crs(x, y), (x, y)
        except CRSError:
            continue
    return None


def township_meridian(sources: list[Source]) -> int | None:
    """The central meridian (3-degree Gauss–Krüger) nearest to where the layers lie, from
    the first layer whose coordinate system is known or inferred."""
    from pyproj import CRS, Transformer

    for source in sources:
        xy = _coordinates(source)
        if xy is None or not np.isfinite(xy[0]).any():
            continue
        if source.crs:
            crs = CRS.from_user_input(source.crs)
        elif (found := _inferred(xy)) is not None:
            crs, xy = found[0].crs, found[1]
        else:
            continue
        try:
            lon, _ = Transformer.from_crs(crs, 4326, always_xy=True).transform(
                float(np.nanmean(xy[0])), float(np.nanmean(xy[1])))
            return 75 + 3 * (gk3_epsg(lon) - 4534)
        except Exception:  # noqa: BLE001, S112 - a layer whose CRS cannot be placed is passed over
            continue
    return None


def crs_for(source: Source, meridian: int | None) -> tuple[str | None, list[Words]]:
    """The ``crs`` to write for ``source`` (None: the file names one or the loader infers
    it) and what to check about it."""
    if source.crs:
        return None, []
    xy = _coordinates(source)
    if xy is None or not np.isfinite(xy[0]).any():
        return None, [Words(f"{source.label}: no coordinates were seen to tell its coordinate system; if the "
                            'commands refuse it, add crs = "EPSG:…" to its table',
                            f"{source.label}：未看到坐标，无法判断坐标系；如命令报错，请在其表中添加 crs = \"EPSG:…\"")]
    if _inferred(xy) is not None:
        return None, []
    x, y = xy
    if ((1e5 <= np.nanmin(x) and np.nanmax(x) < 1e6) or (1e5 <= np.nanmin(y) and np.nanmax(y) < 1e6)) \
            and meridian is not None:
        epsg = gk3_zone_epsg(meridian)
        return f"EPSG:{epsg}", [Words(
            f"{source.label}: x/y are metres without a zone; read as CGCS2000 3-degree Gauss–Krüger, central "
            f"meridian {meridian}°E (EPSG:{epsg}), where the other layers lie; check with whoever made the file",
            f"{source.label}：x/y 为不带带号的米制坐标；按其他图层所在位置取 CGCS2000 3度带、中央经线 {meridian}°E"
            f"（EPSG:{epsg}），请向制表单位核实")]
    return None, [Words(f"{source.label}: its coordinates name no coordinate system and none can be inferred; add "
                        'crs = "EPSG:…" to its table (e.g. EPSG:4490 for degrees, EPSG:4548 for metres, CM 117°E)',
                        f"{source.label}：坐标未注明坐标系且无法推断；请在其表中添加 crs = \"EPSG:…\""
                        "（如经纬度 EPSG:4490，中央经线117°E的米制坐标 EPSG:4548）")]
