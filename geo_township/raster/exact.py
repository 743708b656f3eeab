"""exactextract plumbing: polygons as WKB features in the raster's pixel space, an open
dataset as a raster source, and the operations behind each statistic.

exactextract weights each pixel by the fraction of it that lies inside the polygon,
computed exactly from the polygon's edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from exactextract.feature import Feature, FeatureSource
from exactextract.operation import Operation
from exactextract.raster import RasterSource

from geo_township.raster.source import RasterInfo, read_masked

#: Statistics ``zonal`` can compute, in table order (``count`` is the coverage-weighted
#: number of valid pixels and appears as the column ``pixels``).
STATS: tuple[str, ...] = ("count", "mean", "min", "max", "sum", "std", "median")
_BASE_OPS = ("count", "mean", "min", "max", "sum", "stdev")

#: An exactextract operation as (statistic, field name, options).
OpSpec = tuple[str, str, dict[str, float]]


class _WkbFeature(Feature):
    """One polygon for exactextract, as WKB."""

    def __init__(self, wkb: bytes) -> None:
        Feature.__init__(self)
        self.wkb = wkb
        self.props: dict[str, Any] = {}

    def geometry(self) -> bytes:
        return self.wkb

    def set_geometry_format(self) -> str:
        return "wkb"

    def set_geometry(self, wkb: bytes) -> None:
        self.wkb = wkb

    def get(self, name: str) -> Any:
        return self.props[name]

    def set(self, name: str, value: Any) -> None:
        self.props[name] = value

    def fields(self) -> list[str]:
        return list(self.props)


class WkbSource(FeatureSource):
    """Polygons (in pixel space, see :func:`to_pixels`) as WKB features for exactextract:
    five times faster than its GeoJSON route."""

    def __init__(self, geoms: np.ndarray) -> None:
        super().__init__()
        self.wkbs = shapely.to_wkb(geoms)

    def count(self) -> int:
        return len(self.wkbs)

    def __iter__(self):
        for wkb in self.wkbs:
            yield _WkbFeature(wkb)

    def srs_wkt(self) -> None:
        return None


def to_pixels(geoms: np.ndarray, info: RasterInfo) -> np.ndarray:
    """Geometries in the raster's pixel space: x = column, y = −row (pixel edges on whole numbers).

    exactextract derives a grid's cell size from its extent; with real-world extents that
    size carries rounding (0.00019999999999999 for 0.0002°), which can shift a polygon's
    grid by a cell against a window and let cells beyond the data in. Whole-number pixel
    coordinates are exact, and coverage fractions do not change under this affine map.
    """
    t = info.transform
    return shapely.transform(geoms, lambda xy: np.column_stack([(xy[:, 0] - t.c) / t.a, (t.f - xy[:, 1]) / t.e]))


def exact_values(data: np.ma.MaskedArray) -> np.ma.MaskedArray:
    """A block as exactextract should see it: as float64.

    exactextract returns its median and quantiles in the raster's own data type, so on an
    integer raster a weighted median of 1.67 comes back as 1 (cut, not even rounded), and
    on a float32 raster it is rounded to float32; the Total row's quantiles, computed over
    the values in float64, would then differ from a row over the very same polygon. Given
    float64, exactextract's rows and :func:`~geo_township.raster.weighted_quantiles` follow
    one definition to the last digit. The other statistics are unchanged (exactextract sums
    in double precision either way)."""
    if data.dtype == np.float64:
        return data
    return np.ma.MaskedArray(np.ma.getdata(data).astype(np.float64), np.ma.getmaskarray(data))


class DatasetSource(RasterSource):
    """An exactextract raster source reading windows of an open dataset with our nodata
    rules, in pixel space (used for polygons too large for one block)."""

    def __init__(self, ds, info: RasterInfo) -> None:
        super().__init__()
        self.ds, self.info = ds, info

    def res(self):
        return 1.0, 1.0

    def extent(self):
        return 0.0, float(-self.info.height), float(self.info.width), 0.0

    def srs_wkt(self):
        return None

    def nodata_value(self):
        return None

    def read_window(self, x0, y0, nx, ny):
        from rasterio.windows import Window

        return exact_values(read_masked(self.ds, self.info, Window(x0, y0, nx, ny)))


def percentile_column(p: float) -> str:
    """The table column of percentile ``p`` (0–100): ``p10``, ``p2.5`` …"""
    return f"p{p:g}"


def operation_specs(stats: Sequence[str], percentiles: Sequence[float], categorical: bool) -> list[OpSpec]:
    """exactextract operations as (stat, field name, options)."""
    if categorical:
        return [("count", "count", {}), ("unique", "unique", {}), ("frac", "frac", {})]
    ops: list[OpSpec] = [(s, "std" if s == "stdev" else s, {}) for s in _BASE_OPS]
    if "median" in stats:
        ops.append(("median", "median", {}))
    # exactextract appends _<q×100> to a quantile's name: a distinct prefix per percentile
    ops += [("quantile", f"pct{i}", {"q": p / 100}) for i, p in enumerate(percentiles)]
    return ops


def operations(ops: list[OpSpec], source) -> list:
    """exactextract :class:`Operation` objects for ``ops`` on one raster source."""
    return [Operation(stat, name, source, None, options) for stat, name, options in ops]


def rename_percentiles(frame: pd.DataFrame, percentiles: Sequence[float]) -> pd.DataFrame:
    """exactextract's quantile columns (``pct<i>_<q×100>``) renamed ``p<N>``."""
    names = {}
    for i, p in enumerate(percentiles):
        for col in frame.columns:
            if col.startswith(f"pct{i}_"):
                names[col] = percentile_column(p)
    return frame.rename(columns=names)
