"""Single points as coordinate arrays: decoded from WKB without a geometry per point, and
made into points once, in the CRS they are worked in.

A million trees read from a GeoPackage used to become points twice: once in the file's
longitude/latitude (GEOS objects from the WKB), then again in the township's Gauss–Krüger
zone. Making a GEOS point costs about half a second per million, and the first set was
thrown away at once. :func:`wkb_point_xy` reads x and y straight out of the WKB bytes
(one view of the Arrow buffer), and :func:`points_in` makes the points in the CRS they are
wanted in: the same transformation as ``GeoDataFrame.to_crs`` (always x, y order), so the
coordinates are the same to the last bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer

POINT_WKB_BYTES = 21
"""A 2-D point in WKB: byte order (1), geometry type (4), x and y (8 each)."""


def wkb_point_xy(wkb: Any) -> np.ndarray | None:
    """x, y (n × 2, float64) of an Arrow binary array of WKB when every value is a 2-D
    little-endian point (the GeoPackage and GDAL's Arrow output) or missing; None when any
    is not (an empty collection, Z, big-endian, another type): read those as geometries.
    An empty point (``POINT EMPTY``) is written as NaN, NaN, and a missing one is read so."""
    import pyarrow as pa

    if isinstance(wkb, pa.ChunkedArray):
        wkb = wkb.combine_chunks()
    if not isinstance(wkb, pa.Array):
        return None
    if isinstance(wkb, pa.ExtensionArray):
        wkb = wkb.storage
    n = len(wkb)
    if n == 0 or not (pa.types.is_binary(wkb.type) or pa.types.is_large_binary(wkb.type)):
        return None
    _, offset_buffer, data_buffer = wkb.buffers()
    width = np.int64 if pa.types.is_large_binary(wkb.type) else np.int32
    offsets = np.frombuffer(offset_buffer, dtype=width)[wkb.offset:wkb.offset + n + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    if not wkb.null_count and int(offsets[-1] - offsets[0]) == n * POINT_WKB_BYTES and (
            lengths == POINT_WKB_BYTES).all():  # the usual case: one view of the buffer
        records = data[int(offsets[0]):int(offsets[-1])].reshape(n, POINT_WKB_BYTES)
        present = None
    else:
        present = wkb.is_valid().to_numpy(zero_copy_only=False)
        if not (lengths[present] == POINT_WKB_BYTES).all():
            return None
        records = data[offsets[:-1][present].astype(np.int64)[:, None] + np.arange(POINT_WKB_BYTES)]
    if not (records[:, :5] == np.array([1, 1, 0, 0, 0], dtype=np.uint8)).all():  # little-endian Point, 2-D
        return None
    xy = np.ascontiguousarray(records[:, 5:]).view("<f8").astype("float64", copy=False)
    if present is None:
        return xy
    out = np.full((n, 2), np.nan)
    out[present] = xy
    return out


def empty_points(xy: np.ndarray) -> np.ndarray:
    """Per row of ``xy``: an empty point (both coordinates NaN, as WKB writes ``POINT EMPTY``)."""
    return np.isnan(xy[:, 0]) & np.isnan(xy[:, 1])


def points_in(xy: np.ndarray, source: CRS | None = None, target: CRS | None = None) -> np.ndarray:
    """Points (object array) at ``xy`` given in ``source``, made in ``target`` (transformed
    as ``to_crs`` does, always x, y order; as given without both); an empty point becomes
    None (a missing geometry)."""
    x, y = xy[:, 0], xy[:, 1]
    if source is not None and target is not None and not CRS(source).equals(target):
        x, y = Transformer.from_crs(source, target, always_xy=True).transform(x, y)
    points = shapely.points(np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64"))
    empty = empty_points(xy)
    if empty.any():
        points[empty] = None
    return points
