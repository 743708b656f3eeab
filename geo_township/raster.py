"""Raster statistics per polygon, land-cover class areas, and rasters for the map.

The one module that imports rasterio and exactextract.

* **Coverage-weighted statistics.** Each pixel counts by the fraction of it that lies
  inside the polygon (exactextract computes that fraction exactly from the polygon's
  edges). A plot of 3 mu is 2,000 m², about two 30 m Landsat pixels: a rule that takes
  pixels whose centre falls inside would give it 1, 2 or 3 whole pixels, or none, depending
  on where the grid happens to fall. Weighting by coverage gives every polygon, even one
  smaller than a pixel, the value of the pixels it actually covers, and makes the pixel
  count an area.
* **CRS.** Polygons are reprojected to the raster's CRS; the raster is never resampled
  (resampling would change the very values being summarised). A raster without a CRS
  whose bounds are longitude/latitude in China is read as CGCS2000.
* **Nodata** (the file's nodata value, its mask band, NaN, or ``nodata`` in the
  ``[rasters.NAME]`` table) is left out of every statistic; ``valid_pct`` says how much of
  each polygon had valid pixels.
* **Memory.** The raster is read in blocks (``block`` × ``block`` pixels, 2048 by default):
  polygons are grouped by the block their box centre lies in and each block is read once,
  together with the margin its polygons reach into; polygons larger than half a block are
  streamed by exactextract in pieces of at most a block. Peak memory is a few blocks,
  whatever the raster's size (see ``benchmarks/zonal_memory.py``).

All areas are ellipsoidal (CGCS2000) unless the township's ``area_method`` says planar.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from exactextract.operation import Operation
from exactextract.raster import NumPyRasterSource, RasterSource
from pyproj import CRS

from geo_township.config import RasterSpec
from geo_township.errors import CRSError, GeometryError, LayerReadError, UsageError
from geo_township.kinds import KINDS, LAND_COVER, TOTAL_LABEL, column_label, normalise_name
from geo_township.measure import METHOD_NOTES, METHOD_NOTES_ZH, area_m2, group_labels
from geo_township.results import Finding, Result, localise
from geo_township.units import area_unit, from_m2

if TYPE_CHECKING:  # pragma: no cover
    from geo_township.layers import Township

log = logging.getLogger(__name__)

#: Statistics ``zonal`` can compute, in table order (``count`` is the coverage-weighted
#: number of valid pixels and appears as the column ``pixels``).
STATS: tuple[str, ...] = ("count", "mean", "min", "max", "sum", "std", "median")
_COLUMN = {"count": "pixels", "mean": "mean", "min": "min", "max": "max", "sum": "sum", "std": "std",
           "median": "median"}
_BASE_OPS = ("count", "mean", "min", "max", "sum", "stdev")
DEFAULT_BLOCK = 2048
#: The GDAL block cache while we read (MB); kept small because each block is read once.
GDAL_CACHE_MB = 64
MAX_CLASSES = 256

ProgressFn = Callable[[int, int], None]
"""``progress(done, total)``: features finished so far and in all."""

COVERAGE_NOTE = ("each pixel weighted by the fraction of it inside the polygon (exactextract), so polygons "
                 "smaller than a pixel still get a value")


def _rasterio():
    try:
        import rasterio
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise UsageError("rasterio is not installed", hint="pip install rasterio") from exc
    return rasterio


# --------------------------------------------------------------------------- finding and opening rasters


def raster_spec(township: Township, name: str) -> RasterSpec:
    """The raster called ``name`` under ``[rasters]`` in township.toml.

    Every command names rasters the same way (``zonal``, ``candidates``, ``map --raster``):
    by their township.toml name, which also carries their nodata value, classes and
    description. A file path is refused with the lines that register it.
    """
    rasters = township.config.rasters
    if name in rasters:
        return rasters[name]
    known = ", ".join(rasters) or "none yet"
    path = Path(str(name))
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", path.stem).strip("_").lower() or "my_raster"
    where = township.config.path
    if path.suffix or len(path.parts) > 1:  # a file, not a name
        for candidate in (path, township.config.root / path):
            same = [n for n, spec in rasters.items() if candidate.is_file() and spec.path.resolve() == candidate.resolve()]
            if same:
                raise UsageError(f"rasters are named in township.toml, not given as files: {str(name)!r} is the raster "
                                 f"{same[0]}", hint=f"give its name: {same[0]}")
        absolute = path.resolve()
        shown = absolute.as_posix()
        with contextlib.suppress(ValueError):
            shown = absolute.relative_to(township.config.root.resolve()).as_posix()
        raise UsageError(f"rasters are named in township.toml, not given as files: {str(name)!r} is not a raster name",
                         hint=f'add [rasters.{stem}] with path = "{shown}" to {where}, then give the name {stem} '
                         f"(rasters now: {known})")
    close = difflib.get_close_matches(str(name), list(rasters), n=1)
    raise UsageError(
        f"no raster called {str(name)!r} in township.toml" + (f" (did you mean {close[0]}?)" if close else ""),
        hint=f'rasters in township.toml: {known}; to add one, write [rasters.{stem}] with path = "file.tif" in {where}')


@dataclass(frozen=True)
class RasterInfo:
    """What a raster is: grid, CRS (with how it was found), band, nodata, scaling."""

    path: Path
    crs: CRS
    crs_note: str
    width: int
    height: int
    transform: Any  # affine.Affine
    band: int
    dtype: str
    nodata: float | None

    @property
    def res(self) -> tuple[float, float]:
        return abs(self.transform.a), abs(self.transform.e)

    @property
    def cell_area(self) -> float:
        """Area of one pixel in the raster CRS's units squared."""
        return self.res[0] * self.res[1]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        t = self.transform
        return t.c, t.f + t.e * self.height, t.c + t.a * self.width, t.f

    def describe(self) -> dict[str, Any]:
        unit = "°" if self.crs.is_geographic else " m"
        return {"raster_file": str(self.path), "raster_crs": self.crs.to_string(), "raster_crs_note": self.crs_note,
                "raster_size": f"{self.width} × {self.height} px, band {self.band}, {self.dtype}",
                "pixel_size": f"{self.res[0]:g}{unit} × {self.res[1]:g}{unit}", "nodata": self.nodata}


def open_raster(spec: RasterSpec, *, band: int = 1):
    """Open a raster for reading; any failure becomes a clear :class:`LayerReadError`."""
    rasterio = _rasterio()
    try:
        ds = rasterio.open(spec.path)
    except rasterio.errors.RasterioIOError as exc:
        raise LayerReadError(f"cannot be read as a raster: {exc}", path=spec.path,
                             hint="give a GeoTIFF (or another raster GDAL reads); check the path in "
                             f"[rasters.{spec.name}] of township.toml") from None
    if not 1 <= band <= ds.count:
        ds.close()
        raise UsageError(f"the raster has {ds.count} band(s), not band {band}", hint=f"use --band 1 … {ds.count}")
    return ds


def raster_info(ds, spec: RasterSpec, *, band: int = 1) -> RasterInfo:
    """Grid and CRS of an open dataset; refuses rotated grids and rasters without a usable CRS."""
    t = ds.transform
    if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
        raise GeometryError("the raster is rotated or stored bottom-up", path=spec.path,
                            hint="warp it north-up first, e.g. gdalwarp in.tif out.tif")
    nodata = spec.nodata if spec.nodata is not None else ds.nodatavals[band - 1]
    if ds.crs is not None:
        return RasterInfo(spec.path, CRS(ds.crs), "from the file", ds.width, ds.height, t, band,
                          ds.dtypes[band - 1], nodata)
    from geo_township.crs import infer_crs

    left, bottom, right, top = ds.bounds
    try:
        inferred = infer_crs(np.array([left, right]), np.array([bottom, top]))
    except CRSError:
        raise CRSError("the raster has no coordinate system and its coordinates do not reveal one",
                       path=spec.path, hint="assign one, e.g. gdal_edit.py -a_srs EPSG:4548 file.tif, "
                       "or in QGIS: Raster > Projections > Assign Projection") from None
    return RasterInfo(spec.path, inferred.crs, "inferred: " + inferred.reason, ds.width, ds.height, t, band,
                      ds.dtypes[band - 1], nodata)


def _gdal_env():
    return _rasterio().Env(GDAL_CACHEMAX=GDAL_CACHE_MB)


@contextlib.contextmanager
def opened(spec: RasterSpec, *, band: int = 1):
    """Open a raster with a small GDAL block cache; yields ``(dataset, RasterInfo)``."""
    with _gdal_env():
        ds = open_raster(spec, band=band)
        try:
            yield ds, raster_info(ds, spec, band=band)
        finally:
            ds.close()


def read_masked(ds, info: RasterInfo, window=None, *, out_shape: tuple[int, int] | None = None,
                resampling: str = "nearest") -> np.ma.MaskedArray:
    """Read a window of the band as a masked array: nodata, the mask band and NaN masked,
    scale and offset applied. ``out_shape`` reads it decimated (GDAL uses overviews when
    the file has them) with ``resampling`` (nearest, average …)."""
    from rasterio.enums import Resampling

    kwargs: dict[str, Any] = {}
    if out_shape is not None:
        kwargs = {"out_shape": out_shape, "resampling": Resampling[resampling]}
    arr = ds.read(info.band, window=window, masked=True, **kwargs)
    mask = np.ma.getmaskarray(arr).copy()
    data = np.ma.getdata(arr)
    if info.nodata is not None and not (isinstance(info.nodata, float) and math.isnan(info.nodata)):
        mask |= data == info.nodata
    scale, offset = ds.scales[info.band - 1], ds.offsets[info.band - 1]
    if scale not in (None, 1.0) or offset not in (None, 0.0):
        data = data.astype("float64") * (scale or 1.0) + (offset or 0.0)
    if data.dtype.kind == "f":
        mask |= ~np.isfinite(data)
    return np.ma.MaskedArray(data, mask)


def value_percentiles(spec: RasterSpec, qs: Sequence[float] = (2, 50, 98), *, band: int = 1,
                      max_size: int = 1024) -> np.ndarray | None:
    """Percentiles ``qs`` (0–100) of a raster's valid values, from a decimated read of at
    most ``max_size`` pixels a side (overviews when present; never the whole raster);
    None when it has no valid pixel. Enough to tell an NDVI from a DEM."""
    with opened(spec, band=band) as (ds, info):
        factor = max(1.0, max(info.width, info.height) / max_size)
        shape = (max(1, math.ceil(info.height / factor)), max(1, math.ceil(info.width / factor)))
        data = read_masked(ds, info, out_shape=shape)
    values = np.ma.compressed(data).astype("float64")
    return np.percentile(values, list(qs)) if len(values) else None


# --------------------------------------------------------------------------- exactextract plumbing


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


class _WkbSource(FeatureSource):
    """Polygons (in pixel space, see :func:`_to_pixels`) as WKB features for exactextract:
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


def _to_pixels(geoms: np.ndarray, info: RasterInfo) -> np.ndarray:
    """Geometries in the raster's pixel space: x = column, y = −row (pixel edges on whole numbers).

    exactextract derives a grid's cell size from its extent; with real-world extents that
    size carries rounding (0.00019999999999999 for 0.0002°), which can shift a polygon's
    grid by a cell against a window and let cells beyond the data in. Whole-number pixel
    coordinates are exact, and coverage fractions do not change under this affine map.
    """
    t = info.transform
    return shapely.transform(geoms, lambda xy: np.column_stack([(xy[:, 0] - t.c) / t.a, (t.f - xy[:, 1]) / t.e]))


class _DatasetSource(RasterSource):
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

        return read_masked(self.ds, self.info, Window(x0, y0, nx, ny))


def _percentile_column(p: float) -> str:
    return f"p{p:g}"


def _ops(stats: Sequence[str], percentiles: Sequence[float], categorical: bool
         ) -> list[tuple[str, str, dict[str, float]]]:
    """exactextract operations as (stat, field name, options)."""
    if categorical:
        return [("count", "count", {}), ("unique", "unique", {}), ("frac", "frac", {})]
    ops: list[tuple[str, str, dict[str, float]]] = [(s, "std" if s == "stdev" else s, {}) for s in _BASE_OPS]
    if "median" in stats:
        ops.append(("median", "median", {}))
    # exactextract appends _<q×100> to a quantile's name: a distinct prefix per percentile
    ops += [("quantile", f"pct{i}", {"q": p / 100}) for i, p in enumerate(percentiles)]
    return ops


def _operations(ops: list[tuple[str, str, dict[str, float]]], source) -> list:
    return [Operation(stat, name, source, None, options) for stat, name, options in ops]


def _rename_ops(frame: pd.DataFrame, percentiles: Sequence[float]) -> pd.DataFrame:
    names = {}
    for i, p in enumerate(percentiles):
        for col in frame.columns:
            if col.startswith(f"pct{i}_"):
                names[col] = _percentile_column(p)
    return frame.rename(columns=names)


# --------------------------------------------------------------------------- the block reader


def _pixel_boxes(geoms: np.ndarray, info: RasterInfo) -> np.ndarray:
    """Each geometry's bounding box in pixel space (row0, col0, row1, col1), rounded outward
    and clipped to the raster; empty boxes where a geometry misses the raster."""
    b = shapely.bounds(geoms)
    t = info.transform
    with np.errstate(invalid="ignore"):
        col0 = np.floor((b[:, 0] - t.c) / t.a)
        col1 = np.ceil((b[:, 2] - t.c) / t.a)
        row0 = np.floor((b[:, 3] - t.f) / t.e)
        row1 = np.ceil((b[:, 1] - t.f) / t.e)
    boxes = np.stack([row0, col0, row1, col1], axis=1)
    boxes = np.nan_to_num(boxes, nan=0.0)
    boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, info.height)
    boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, info.width)
    return boxes.astype(np.int64)


def extract(geoms: gpd.GeoSeries, raster: RasterSpec, *, categorical: bool = False,
            stats: Sequence[str] = STATS, percentiles: Sequence[float] = (), band: int = 1,
            block: int = DEFAULT_BLOCK, progress: ProgressFn | None = None) -> tuple[pd.DataFrame, RasterInfo]:
    """Coverage-weighted statistics of ``raster`` for each geometry, block by block.

    ``geoms`` may be in any CRS (it is reprojected to the raster's). Returns one row per
    geometry, in order, with ``count`` (coverage-weighted valid pixels), ``mean``, ``min``,
    ``max``, ``sum`` (Σ value × coverage), ``std`` (population, coverage-weighted),
    ``median`` and ``p<N>`` when asked; for ``categorical``, ``count``, ``unique`` (class
    values) and ``frac`` (each class's share of the valid coverage). Also ``poly_area``
    (area in the raster CRS) and ``inside_frac`` (share of the polygon inside the raster's
    extent). Geometries missing the raster get count 0 and NaN statistics.
    """
    if geoms.crs is None:
        raise CRSError("polygons without a coordinate system cannot be laid over a raster",
                       hint="give the layer its CRS in township.toml")
    if block < 16:
        raise UsageError(f"a block of {block} pixels is too small", hint="use --block 256 or more")
    ops = _ops(stats, percentiles, categorical)
    n = len(geoms)
    with _gdal_env():
        ds = open_raster(raster, band=band)
        try:
            info = raster_info(ds, raster, band=band)
            local = geoms.to_crs(info.crs).to_numpy() if not CRS(geoms.crs).equals(info.crs) else geoms.to_numpy()
            boxes = _pixel_boxes(local, info)
            hits = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1]) & ~shapely.is_empty(local)
            rows = boxes[:, 2] - boxes[:, 0]
            cols = boxes[:, 3] - boxes[:, 1]
            large = hits & ((rows > block // 2) | (cols > block // 2))
            small = hits & ~large
            parts: list[pd.DataFrame] = []
            done = 0
            total = int(hits.sum())
            pixels = _to_pixels(local, info)
            # Small polygons: one read per block, in row-major order.
            idx = np.flatnonzero(small)
            if len(idx):
                centre_r = (boxes[idx, 0] + boxes[idx, 2]) // 2 // block
                centre_c = (boxes[idx, 1] + boxes[idx, 3]) // 2 // block
                order = np.lexsort((centre_c, centre_r))
                idx, centre_r, centre_c = idx[order], centre_r[order], centre_c[order]
                key = centre_r * (info.width // block + 1) + centre_c
                starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
                ends = np.r_[starts[1:], len(idx)]
                from rasterio.windows import Window

                for s, e in zip(starts, ends, strict=True):
                    members = idx[s:e]
                    r0, c0 = boxes[members, 0].min(), boxes[members, 1].min()
                    r1, c1 = boxes[members, 2].max(), boxes[members, 3].max()
                    data = read_masked(ds, info, Window(c0, r0, c1 - c0, r1 - r0))
                    src = NumPyRasterSource(data, float(c0), float(-r1), float(c1), float(-r0))
                    frame = exact_extract(src, _WkbSource(pixels[members]), _operations(ops, src),
                                             output="pandas")
                    frame.index = members
                    parts.append(frame)
                    del data, src
                    done += len(members)
                    if progress:
                        progress(done, total)
            # Large polygons: exactextract streams each in pieces of at most block² pixels.
            for i in np.flatnonzero(large):
                src = _DatasetSource(ds, info)
                frame = exact_extract(src, _WkbSource(pixels[[i]]), _operations(ops, src),
                                         output="pandas", max_cells_in_memory=block * block)
                frame.index = [i]
                parts.append(frame)
                done += 1
                if progress:
                    progress(done, total)
        finally:
            ds.close()
    columns = [c for c in (parts[0].columns if parts else [])]
    out = pd.concat(parts).reindex(range(n)) if parts else pd.DataFrame(index=range(n), columns=columns)
    out = _rename_ops(out, percentiles)
    if "count" not in out.columns:
        out["count"] = 0.0
    out["count"] = pd.to_numeric(out["count"]).fillna(0.0)
    if not categorical:
        for col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce")
        stat_cols = [c for c in out.columns if c != "count"]
        out.loc[out["count"] <= 0, stat_cols] = np.nan
    out["poly_area"] = shapely.area(local)
    inside = shapely.area(shapely.clip_by_rect(local, *info.bounds))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["inside_frac"] = np.where(out["poly_area"] > 0, inside / out["poly_area"], 0.0)
    return out, info


# --------------------------------------------------------------------------- the analysis


_POLYGON_TYPES = ("Polygon", "MultiPolygon")
_TYPE_WORDS = {"Point": "points", "MultiPoint": "points", "LineString": "lines", "MultiLineString": "lines",
               "LinearRing": "lines", "Polygon": "polygons", "MultiPolygon": "polygons",
               "GeometryCollection": "collections"}


def _declared_family(spec) -> str | None:
    """The geometry family a vector file declares ('Polygon', 'Point', 'LineString'), or None
    when it declares none or a mix (KML, CSV, generic GeoPackage columns): then only reading
    the features tells."""
    import pyogrio

    try:
        declared = pyogrio.read_info(spec.path, layer=spec.layer).get("geometry_type")
    except Exception:  # noqa: BLE001 - any reader trouble: fall back to loading the layer
        return None
    base = str(declared or "").split(" ")[0].replace("Multi", "")
    return base if base in ("Polygon", "Point", "LineString") else None


def polygon_layers(township: Township, *, exclude: str | None = None) -> list[str]:
    """The township's layers that really hold polygons (at least one Polygon or MultiPolygon
    feature), in township.toml order. Layers already loaded are looked at; others are judged
    by the geometry type their file declares, and read only when the file does not say
    (a KML or CSV may hold anything). Layers that cannot be read are left out."""
    from geo_township.errors import TownshipError

    out = []
    for kind_name in township.kinds:
        if kind_name == exclude or kind_name not in KINDS or "Polygon" not in KINDS[kind_name].geometry:
            continue
        loaded = township.loaded().get(kind_name)
        family = None if loaded is not None else _declared_family(township.config.layers[kind_name])
        if family is None:
            try:
                gdf = township.gdf(kind_name)
            except TownshipError:
                continue
            if gdf.geom_type.isin(_POLYGON_TYPES).any():
                out.append(kind_name)
        elif family == "Polygon":
            out.append(kind_name)
    return out


@dataclass
class _Polygons:
    """What ``zonal`` summarises: one polygon per feature (or one union per group)."""

    frame: gpd.GeoDataFrame        # id column (+ village), geometry
    id_col: str
    vocab: dict[str, str]
    source: gpd.GeoDataFrame       # the layer's kept features with every field (for --join); groups with --by
    left_out: pd.Series            # the features that are not polygons: id → 'points' / 'lines' …


def _polygons(township: Township, layer: str, by: str | None) -> _Polygons:
    """The polygons to summarise (one per feature, or one union per group), the name of
    their id column, and its vocabulary (for coded groups such as species). Only real
    Polygon/MultiPolygon features count: points and lines of a mixed layer (sand sites,
    lakes among river lines) are left out and returned by id."""
    if layer in KINDS and "Polygon" not in KINDS[layer].geometry:  # refused before reading a million points
        holds = "/".join(g.lower() + "s" for g in KINDS[layer].geometry)
        raise UsageError(f"{layer} holds {holds}; statistics of a raster need polygons",
                         hint=_polygon_hint(township, layer))
    lay = township.layer(layer)
    gdf = lay.gdf
    is_poly = gdf.geom_type.isin(_POLYGON_TYPES).to_numpy()
    if not is_poly.any():
        found = sorted({_TYPE_WORDS.get(t, t) for t in gdf.geom_type.dropna().unique()})
        raise UsageError(f"{layer} holds no polygons: its {len(gdf)} feature(s) are {' and '.join(found)}; "
                         "statistics of a raster need polygons", path=lay.path, hint=_polygon_hint(township, layer))
    ids = lay.ids()
    left_out = pd.Series(gdf.geom_type[~is_poly].map(lambda t: _TYPE_WORDS.get(t, t)).to_numpy(),
                         index=ids[~is_poly].to_numpy(), dtype=object)
    gdf = gdf[is_poly]
    vocab: dict[str, str] = {f.name: f.vocabulary for f in lay.kind.fields if f.vocabulary}
    if by is None:
        id_col = lay.kind.id_field or "feature"
        out = gpd.GeoDataFrame({id_col: ids[is_poly].to_numpy()}, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
        if "village" in gdf.columns and id_col != "village":
            out.insert(1, "village", gdf["village"].to_numpy())
        return _Polygons(out, id_col, vocab, gdf.reset_index(drop=True), left_out)
    if by not in gdf.columns:
        fields = [c for c in gdf.columns if c != gdf.geometry.name and c != "source_row"]
        raise UsageError(f"{layer} has no field {by!r}", hint="group by one of: " + ", ".join(map(str, fields)))
    keys = group_labels(gdf[by])
    frame = gpd.GeoDataFrame({by: keys.to_numpy()}, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    out = frame.dissolve(by=by, sort=True).reset_index()[[by, "geometry"]]
    group_vocab = {by: vocab[by]} if by in vocab else {}
    return _Polygons(out, by, group_vocab, out, left_out)


def _polygon_hint(township: Township, layer: str) -> str:
    polys = polygon_layers(township, exclude=layer)
    if not polys:
        return "the township has no layer with polygons; add one (forest_plots, villages …) to township.toml"
    return "choose a layer that holds polygons with --layer: " + ", ".join(polys)


def _decimals(values: pd.DataFrame, columns: Iterable[str]) -> dict[str, int]:
    cols = [c for c in columns if c in values.columns]
    big = float(np.nanmax(np.abs(values[cols].to_numpy(dtype="float64")))) if cols and len(values) else 0.0
    places = 4 if not np.isfinite(big) or big < 10 else 2
    return dict.fromkeys(cols, places)


def zonal_stats(township: Township, raster: str, *, layer: str = "forest_plots", by: str | None = None,
                stats: Sequence[str] | None = None, percentiles: Sequence[float] = (),
                categorical: bool | None = None, unit: str = "mu", band: int = 1, block: int = DEFAULT_BLOCK,
                progress: ProgressFn | None = None) -> Result:
    """Statistics of a raster per polygon of ``layer`` (or per group of ``by``).

    Continuous rasters (NDVI, DEM …): coverage-weighted ``pixels``, ``valid_pct`` (share of
    the polygon with valid pixels), ``mean``, ``min``, ``max``, ``sum``, ``std``, ``median``
    and percentiles ``p<N>``, in the raster's units. Categorical rasters (land cover):
    the area of each class in ``unit`` (names from ``[rasters.NAME] classes``), plus
    ``nodata`` for the part with no valid pixel or outside the raster, so that each row sums
    to the polygon's area (ellipsoidal by default). ``features['zonal']`` holds the polygons
    with the statistics, for ``--join``.
    """
    spec = raster_spec(township, raster)
    stats = tuple(stats) if stats else STATS
    unknown = [s for s in stats if s not in STATS]
    if unknown:
        raise UsageError(f"unknown statistic {unknown[0]!r}", hint="use any of: " + ", ".join(STATS))
    bad = [p for p in percentiles if not 0 < p < 100]
    if bad:
        raise UsageError(f"percentile {bad[0]:g} is not between 0 and 100", hint="e.g. --percentiles 10,90")
    percentiles = tuple(dict.fromkeys(float(p) for p in percentiles))
    categorical = spec.categorical if categorical is None else categorical
    unit_ = area_unit(unit)
    method = township.config.parameters["area_method"]
    sel = _polygons(township, layer, by)
    polys, id_col, vocab = sel.frame, sel.id_col, sel.vocab
    frame, info = extract(polys.geometry, spec, categorical=categorical, stats=stats, percentiles=percentiles,
                          band=band, block=block, progress=progress)
    area = from_m2(area_m2(polys.geometry, method=method), unit)
    area_col = f"area_{unit_.code}"
    base = pd.DataFrame({c: polys[c].to_numpy() for c in polys.columns if c != "geometry"})
    base[area_col] = area
    findings = _coverage_findings(layer, base[id_col], frame, info)
    findings += [Finding(layer, str(fid), "info", "not_polygon",
                         f"{words.removesuffix('s')}: not a polygon, so no raster statistics; "
                         "left out") for fid, words in sel.left_out.items()]
    prov = township.provenance(analysis="zonal", raster=spec.name, layer=layer, group_by=by,
                               categorical=categorical, area_method=method, statistics=COVERAGE_NOTE,
                               features_not_polygons=len(sel.left_out), **info.describe())
    d = info.describe()
    moved = not CRS(polys.crs).equals(info.crs)
    notes = [f"raster {spec.name}: {d['raster_size']}, pixels {d['pixel_size']}, {info.crs.to_string()}"
             + (f"; polygons reprojected from {CRS(polys.crs).to_string()} to the raster's CRS (raster not resampled)"
                if moved else ""),
             f"statistics: {COVERAGE_NOTE}; nodata pixels left out"]
    notes_zh = [f"栅格 {spec.name}：{info.width} × {info.height} 像元（第 {band} 波段，{info.dtype}），像元大小 "
                f"{d['pixel_size']}，{info.crs.to_string()}"
                + (f"；图斑已从 {CRS(polys.crs).to_string()} 投影到栅格的坐标系（栅格未重采样）" if moved else ""),
                "统计方法：每个像元按其落在图斑内的面积比例加权（exactextract），小于一个像元的图斑也有值；无数据像元不计入"]
    if len(sel.left_out):
        kinds_en = " and ".join(sorted(set(sel.left_out)))
        kinds_zh = "、".join(sorted({_TYPE_WORDS_ZH.get(w, w) for w in sel.left_out}))
        notes.append(f"{len(sel.left_out)} feature(s) of {layer} left out: {kinds_en}, not polygons "
                     "(listed among the findings)")
        notes_zh.append(f"{layer} 中 {len(sel.left_out)} 个要素不是面（{kinds_zh}），未统计（见问题清单）")
    if categorical:
        table, classes = _class_table(base, frame, info, spec, area_col, id_col)
        notes.append(f"class areas in {unit_.en} ({unit_.zh}), {METHOD_NOTES[method]}; each class's share of the "
                     "polygon measured on the raster grid; nodata = no valid pixel or outside the raster")
        notes_zh.append(f"各类面积单位：{unit_.zh}，{METHOD_NOTES_ZH[method]}；各类所占比例在栅格格网上量算；"
                        "无数据 = 无有效像元或位于栅格范围外")
        decimals = dict.fromkeys([c for c in table.columns if c not in (id_col, "village")], unit_.decimals)
        decimals.update({"share_pct": 2})
        result_tables = {"classes": classes}
        vocab["class"] = LAND_COVER.name
    else:
        whole, note_en, note_zh = _total_quantiles(polys, frame, spec, stats, percentiles, band=band, block=block)
        table = _stats_table(base, frame, info, stats, percentiles, area_col, id_col, whole)
        if note_en:
            notes.append(note_en)
            notes_zh.append(note_zh)
        decimals = {area_col: unit_.decimals, "pixels": 2, "valid_pct": 1}
        decimals.update(_decimals(table, ["mean", "min", "max", "std", "median",
                                          *[_percentile_column(p) for p in percentiles]]))
        decimals["sum"] = decimals.get("mean", 2)
        result_tables = {}
    features = _joined(sel, table.iloc[: len(polys)], spec.name, area_col)
    if by == "village" and layer != "villages" and township.has("villages"):
        from geo_township.inventory import order_by_villages

        table = order_by_villages(table, township, column="village")
    kind_ = township.layer(layer).kind
    group_en, group_zh = (column_label(by, "en").lower(), column_label(by, "zh")) if by else (None, None)
    per_en, per_zh = group_en or kind_.en.lower().rstrip("s"), group_zh or kind_.zh
    if categorical:
        title, title_zh = f"Land-cover areas ({spec.name}) per {per_en}", f"各地类面积（{spec.name}，按{per_zh}）"
    else:
        title, title_zh = f"{spec.name} statistics per {per_en}", f"{spec.name} 统计（按{per_zh}）"
    return Result(title, table, tables=result_tables, findings=findings, features={"zonal": features},
                  provenance=prov, notes=notes, notes_zh=notes_zh, title_zh=title_zh, vocab=vocab,
                  decimals=decimals)


#: The Total row's median and percentiles are computed over the union of all polygons when
#: their pixels number at most this many (coverage-weighted): a weighted quantile keeps every
#: distinct value in memory, which a county of plots on a float raster would not fit.
TOTAL_QUANTILE_MAX_PIXELS = 5_000_000
_TYPE_WORDS_ZH = {"points": "点", "lines": "线", "collections": "几何集合"}


def _total_quantiles(polys: gpd.GeoDataFrame, frame: pd.DataFrame, spec: RasterSpec, stats: Sequence[str],
                     percentiles: Sequence[float], *, band: int, block: int
                     ) -> tuple[dict[str, float], str, str]:
    """Median and percentiles of the Total row, over the pixels under all the polygons
    together (their union, so a pixel under two overlapping polygons counts once), with a
    note; blank with a note saying why when there are too many pixels to hold."""
    wanted = (["median"] if "median" in stats else []) + [_percentile_column(p) for p in percentiles]
    pixels = float(frame["count"].sum())
    if not wanted or pixels <= 0:
        return {}, "", ""
    names_en = ", ".join(wanted)
    if pixels > TOTAL_QUANTILE_MAX_PIXELS:
        note_en = (f"Total: {names_en} left blank: over {pixels:,.0f} pixels they would need every value in memory "
                   f"at once (the other statistics are pooled from the rows exactly; each row has its own {names_en}; "
                   "--by a field gives them per group)")
        note_zh = (f"合计行的中位数和百分位数留空：{pixels:,.0f} 个像元需要同时把全部取值放入内存（其余统计量由各行精确汇总；"
                   "每行都有自己的中位数和百分位数；用 --by 可得到各组的值）")
        return {}, note_en, note_zh
    union = shapely.union_all(polys.geometry.to_numpy())
    values_, weights = _values_and_coverage(union, polys.crs, spec, band=band, block=block)
    qs = ([0.5] if "median" in stats else []) + [p / 100 for p in percentiles]
    values = dict(zip(wanted, weighted_quantiles(values_, weights, qs), strict=True))
    note_en = (f"Total: {names_en} over the pixels under all polygons together (their union: a pixel under two "
               "overlapping polygons counts once); the other statistics pooled from the rows")
    note_zh = "合计行的中位数和百分位数按全部图斑合并后覆盖的像元计算（重叠处的像元只计一次）；其余统计量由各行汇总"
    return values, note_en, note_zh


def _values_and_coverage(geom, crs, spec: RasterSpec, *, band: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """The valid values under one geometry and the fraction of each pixel it covers
    (exactextract, streamed in pieces of at most ``block``² pixels)."""
    with _gdal_env():
        ds = open_raster(spec, band=band)
        try:
            info = raster_info(ds, spec, band=band)
            local = gpd.GeoSeries([geom], crs=crs)
            local = local.to_crs(info.crs) if not CRS(crs).equals(info.crs) else local
            src = _DatasetSource(ds, info)
            ops: list[tuple[str, str, dict[str, float]]] = [("values", "values", {}), ("coverage", "coverage", {})]
            frame = exact_extract(src, _WkbSource(_to_pixels(local.to_numpy(), info)), _operations(ops, src),
                                  output="pandas", max_cells_in_memory=block * block)
        finally:
            ds.close()
    return (np.asarray(frame["values"].iloc[0], dtype="float64"),
            np.asarray(frame["coverage"].iloc[0], dtype="float64"))


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: Sequence[float]) -> list[float]:
    """Weighted quantiles (``qs`` in 0–1) exactly as exactextract computes its ``median`` and
    ``quantile``: equal values merged with their weights summed, then the weighted-percentile
    method — with the N distinct values x_k sorted, w_k their weights and
    S_k = k·w_k + (N−1)·Σ_{i<k} w_i (k from 0), the q-quantile is linear between the two
    values whose S bracket q·(N−1)·Σw. Vectorised (one sort), unlike exactextract's
    per-value map, which is slow on millions of distinct float values."""
    keep = weights > 0
    x, inverse = np.unique(values[keep], return_inverse=True)
    if len(x) == 0:
        return [math.nan] * len(qs)
    w = np.bincount(inverse.ravel(), weights=weights[keep], minlength=len(x))
    n = len(x)
    if n == 1:
        return [float(x[0])] * len(qs)
    cum = np.concatenate([[0.0], np.cumsum(w)[:-1]])
    s = np.arange(n) * w + (n - 1) * cum
    out = []
    for q in qs:
        target = q * (n - 1) * w.sum()
        k = int(np.searchsorted(s, target, side="right"))
        if k == 0:
            out.append(float(x[0]))
        elif k == n:
            out.append(float(x[-1]))
        else:
            out.append(float(x[k - 1] + (target - s[k - 1]) * (x[k] - x[k - 1]) / (s[k] - s[k - 1])))
    return out


def _joined(sel: _Polygons, stats: pd.DataFrame, raster: str, area_col: str) -> gpd.GeoDataFrame:
    """The layer's kept features with every field (or the groups' polygons with ``--by``)
    and their statistics as ``RASTER_<column>`` (the area as ``area_<unit>`` unless the layer
    has such a field), row for row."""
    out = sel.source.copy()
    own = [c for c in sel.frame.columns if c != "geometry"]
    for col in stats.columns:
        if col in own:
            continue
        name = col if col == area_col and col not in out.columns else f"{raster}_{col}"
        out[name] = stats[col].to_numpy()
    return out


def save_joined(result: Result, path: str | Path, *, lang: str = "en") -> str:
    """Write ``zonal``'s polygons with their statistics (``features['zonal']``: every field of
    the layer plus ``RASTER_<statistic>`` columns; the groups' polygons with ``--by``) to a
    GeoPackage as layer ``LAYER_RASTER`` (``FIELD_RASTER`` with ``--by``), next to any layers
    it already holds. Coded values (species, status …) are words with ``lang='zh'``, codes in
    English; field names are kept. Returns the layer name."""
    from geo_township.io.write import write_vector

    path = Path(path)
    prov = result.provenance
    name = f"{prov.get('group_by') or prov['layer']}_{prov['raster']}"
    gdf = result.features["zonal"]
    if lang == "zh":
        attrs = localise(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), lang, vocab=result.vocab, headings=False)
        gdf = gpd.GeoDataFrame(attrs, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    write_vector(gdf, path, layer=name, append_layers=path.exists())
    return name


def _coverage_findings(layer: str, ids: pd.Series, frame: pd.DataFrame, info: RasterInfo) -> list[Finding]:
    findings = []
    none = (frame["count"] <= 0).to_numpy()
    for fid in ids[none]:
        findings.append(Finding(layer, str(fid), "warning", "no_pixels",
                                "no valid pixel: outside the raster or only nodata there"))
    partly = (~none) & (frame["inside_frac"].to_numpy() < 0.999)
    for fid, frac in zip(ids[partly], frame["inside_frac"].to_numpy()[partly], strict=True):
        findings.append(Finding(layer, str(fid), "warning", "outside_raster",
                                f"{(1 - frac) * 100:.1f}% of it lies outside the raster; statistics cover the rest"))
    return findings


def _stats_table(base: pd.DataFrame, frame: pd.DataFrame, info: RasterInfo, stats: Sequence[str],
                 percentiles: Sequence[float], area_col: str, id_col: str,
                 whole: dict[str, float] | None = None) -> pd.DataFrame:
    table = base.copy()
    count = frame["count"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = np.where(frame["poly_area"] > 0, count * info.cell_area / frame["poly_area"] * 100, np.nan)
    for s in STATS:
        if s in stats:
            table[_COLUMN[s]] = count if s == "count" else frame[_COLUMN[s]].to_numpy(dtype="float64")
        if s == "count":
            table["valid_pct"] = np.minimum(valid, 100.0)
    for p in percentiles:
        table[_percentile_column(p)] = frame[_percentile_column(p)].to_numpy(dtype="float64")
    # The total over all polygons, pooled exactly from each polygon's sums; median and
    # percentiles cannot be pooled and come from ``whole`` (see _total_quantiles).
    mean = frame["mean"].to_numpy(dtype="float64")
    std = frame["std"].to_numpy(dtype="float64")
    ok = count > 0
    n_tot = count[ok].sum()
    s_tot = frame["sum"].to_numpy(dtype="float64")[ok].sum()
    total: dict[str, Any] = {c: np.nan for c in table.columns}
    if "village" in total:
        total["village"] = ""
    total[id_col] = TOTAL_LABEL["en"]
    total[area_col] = float(np.nansum(base[area_col]))
    if "pixels" in table.columns:
        total["pixels"] = n_tot
    poly_tot = frame["poly_area"].to_numpy()[ok].sum() + frame["poly_area"].to_numpy()[~ok].sum()
    if "valid_pct" in table.columns:
        total["valid_pct"] = min(n_tot * info.cell_area / poly_tot * 100, 100.0) if poly_tot > 0 else np.nan
    if n_tot > 0:
        m = s_tot / n_tot
        sq = (count[ok] * (std[ok] ** 2 + mean[ok] ** 2)).sum() / n_tot
        pooled = {"mean": m, "sum": s_tot, "min": np.nanmin(frame["min"].to_numpy(dtype="float64")[ok]),
                  "max": np.nanmax(frame["max"].to_numpy(dtype="float64")[ok]), "std": math.sqrt(max(sq - m * m, 0.0))}
        for k, v in {**pooled, **(whole or {})}.items():
            if k in table.columns:
                total[k] = v
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def class_columns(spec: RasterSpec, codes: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Class value → (table column, class code for the ``classes`` table).

    Names in ``[rasters.NAME] classes`` that are land-cover words (forest/林地, farmland/耕地,
    water/水域, built-up/建设用地 …, see :data:`geo_township.kinds.LAND_COVER`) become
    ``lc_<code>`` columns labelled in English and Chinese; any other name is used as it is
    written; values without a name become ``class N``.
    """
    lookup = LAND_COVER.lookup()
    out = {}
    for c in codes:
        name = spec.classes.get(int(c), f"class {int(c)}")
        code = lookup.get(normalise_name(name))
        out[int(c)] = (f"lc_{code}", code) if code else (name, name)
    return out


def _class_table(base: pd.DataFrame, frame: pd.DataFrame, info: RasterInfo, spec: RasterSpec, area_col: str,
                 id_col: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(frame)
    uniques = frame["unique"].to_numpy() if "unique" in frame.columns else np.array([None] * n, dtype=object)
    fracs = frame["frac"].to_numpy() if "frac" in frame.columns else np.array([None] * n, dtype=object)
    lens = np.array([0 if u is None or (isinstance(u, float) and math.isnan(u)) else len(u) for u in uniques])
    filled = lens > 0
    values = np.concatenate([np.asarray(u, dtype="float64") for u in uniques[filled]]) if filled.any() else np.zeros(0)
    shares = np.concatenate([np.asarray(f, dtype="float64") for f in fracs[filled]]) if filled.any() else np.zeros(0)
    owner = np.repeat(np.arange(n), lens)
    if len(values) and not np.allclose(values, np.round(values)):
        raise UsageError(f"{spec.name} holds values that are not whole numbers, so it is not a class map",
                         path=spec.path, hint="drop --categorical (and categorical/classes in township.toml) "
                         "to get statistics instead")
    codes = np.round(values).astype(np.int64)
    present = sorted(set(codes.tolist()) | set(spec.classes))
    if len(present) > MAX_CLASSES:
        raise UsageError(f"{spec.name} has {len(present)} distinct values; a land-cover map has a few classes",
                         path=spec.path, hint="drop --categorical to get statistics instead")
    count = frame["count"].to_numpy(dtype="float64")
    poly_area = frame["poly_area"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        # share of the polygon's area covered by each class's pixels (measured on the grid)
        part = np.where(poly_area[owner] > 0, shares * count[owner] * info.cell_area / poly_area[owner], 0.0)
    columns = class_columns(spec, present)
    ordered = list(dict.fromkeys(columns[c][0] for c in present))
    area = base[area_col].to_numpy(dtype="float64")
    table = base.copy()
    grid = np.zeros((n, len(ordered)))
    col_of = {c: ordered.index(columns[c][0]) for c in present}
    np.add.at(grid, (owner, np.array([col_of[c] for c in codes.tolist()], dtype=np.int64)), part)
    grid = np.minimum(grid, 1.0)
    covered = grid.sum(axis=1)
    scale = np.where(covered > 1.0, 1.0 / np.where(covered > 0, covered, 1.0), 1.0)  # rounding at the edges
    grid *= scale[:, None]
    for j, name in enumerate(ordered):
        table[name] = grid[:, j] * area
    table["nodata"] = np.clip(1.0 - grid.sum(axis=1), 0.0, 1.0) * area
    total = {c: (float(table[c].sum()) if c not in (id_col, "village") else "") for c in table.columns}
    total[id_col] = TOTAL_LABEL["en"]
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    grand = float(area.sum())
    first: dict[str, int] = {}
    for c in present:
        first.setdefault(columns[c][0], c)
    classes = pd.DataFrame({
        "class": [columns[first[col]][1] for col in ordered] + ["nodata"],
        "code": [str(first[col]) for col in ordered] + [""],
        area_col: [float(table[col].iloc[:-1].sum()) for col in ordered] + [float(table["nodata"].iloc[:-1].sum())],
    })
    classes["share_pct"] = classes[area_col] / grand * 100 if grand > 0 else np.nan
    classes = pd.concat([classes, pd.DataFrame([{"class": TOTAL_LABEL["en"], "code": "", area_col: grand,
                                                 "share_pct": 100.0 if grand > 0 else np.nan}])],
                        ignore_index=True)
    return table, classes


# --------------------------------------------------------------------------- pixel-wise work in blocks


def pixel_window(info: RasterInfo, bounds: Sequence[float]) -> tuple[int, int, int, int]:
    """The pixel window ``(row0, col0, row1, col1)`` covering ``bounds`` (minx, miny, maxx,
    maxy in the raster's CRS), rounded outward and clipped to the raster."""
    box = _pixel_boxes(np.array([shapely.box(*bounds)]), info)[0]
    return int(box[0]), int(box[1]), int(box[2]), int(box[3])


def blocks(window: tuple[int, int, int, int], block: int = DEFAULT_BLOCK) -> list[tuple[int, int, int, int]]:
    """Split a pixel window into blocks of at most ``block`` × ``block`` pixels, row by row."""
    r0, c0, r1, c1 = window
    return [(r, c, min(r + block, r1), min(c + block, c1))
            for r in range(r0, r1, block) for c in range(c0, c1, block)]


def window_transform(info: RasterInfo, row0: int, col0: int):
    """The affine transform of a window whose top-left pixel is (row0, col0)."""
    from affine import Affine

    return info.transform @ Affine.translation(col0, row0)


def same_grid(a: RasterInfo, b: RasterInfo) -> bool:
    """Do two rasters share CRS, pixel size, origin and size (to 1e-6 of a pixel)?"""
    return (a.crs.equals(b.crs) and a.width == b.width and a.height == b.height
            and a.transform.almost_equals(b.transform, precision=1e-6 * min(a.res)))


def read_block(ds, info: RasterInfo, window: tuple[int, int, int, int], *, grid: RasterInfo | None = None
               ) -> np.ma.MaskedArray:
    """A block of the raster on its own grid, or — when ``grid`` is another raster's grid —
    warped onto that grid's block (bilinear; nodata stays nodata)."""
    from rasterio.windows import Window

    r0, c0, r1, c1 = window
    if grid is None or same_grid(info, grid):
        return read_masked(ds, info, Window(c0, r0, c1 - c0, r1 - r0))
    from rasterio.warp import Resampling, reproject, transform_bounds

    dst_transform = window_transform(grid, r0, c0)
    left, top = dst_transform @ (0, 0)
    right, bottom = dst_transform @ (c1 - c0, r1 - r0)
    src_bounds = transform_bounds(grid.crs, info.crs, left, bottom, right, top, densify_pts=21)
    sr0, sc0, sr1, sc1 = pixel_window(info, src_bounds)
    sr0, sc0 = max(sr0 - 2, 0), max(sc0 - 2, 0)
    sr1, sc1 = min(sr1 + 2, info.height), min(sc1 + 2, info.width)
    out = np.full((r1 - r0, c1 - c0), np.nan, dtype="float64")
    if sr1 > sr0 and sc1 > sc0:
        src = read_masked(ds, info, Window(sc0, sr0, sc1 - sc0, sr1 - sr0))
        reproject(np.ma.filled(src.astype("float64"), np.nan), out, src_transform=window_transform(info, sr0, sc0),
                  src_crs=info.crs, src_nodata=np.nan, dst_transform=dst_transform, dst_crs=grid.crs,
                  dst_nodata=np.nan, resampling=Resampling.bilinear)
    return np.ma.MaskedArray(out, ~np.isfinite(out))


def rasterize_ids(geoms: np.ndarray, ids: np.ndarray, info: RasterInfo, window: tuple[int, int, int, int]
                  ) -> np.ndarray:
    """Burn polygons into a block (int32, 0 = none) by the pixel-centre rule: a pixel
    belongs to the polygon that holds its centre."""
    from rasterio.features import rasterize

    r0, c0, r1, c1 = window
    shape = (r1 - r0, c1 - c0)
    if len(geoms) == 0:
        return np.zeros(shape, dtype=np.int32)
    return rasterize(zip(geoms, ids.astype(np.int32), strict=True), out_shape=shape, fill=0,
                     transform=window_transform(info, r0, c0), dtype=np.int32)


def polygonize_ids(labels: np.ndarray, info: RasterInfo, window: tuple[int, int, int, int]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Polygons of the 4-connected regions of equal non-zero value in a block, with their
    values (in the raster's CRS; edges follow pixel edges)."""
    from rasterio.features import shapes

    r0, c0, _, _ = window
    geoms, values = [], []
    for geom, value in shapes(labels.astype(np.int32), mask=labels > 0, connectivity=4,
                              transform=window_transform(info, r0, c0)):
        geoms.append(shapely.geometry.shape(geom))
        values.append(int(value))
    return np.array(geoms, dtype=object), np.array(values, dtype=np.int64)


# --------------------------------------------------------------------------- rasters on the map

#: Colour ramps (low → high) for continuous rasters, chosen by the raster's name.
RAMPS: dict[str, tuple[str, ...]] = {
    "vegetation": ("#a6611a", "#dfc27d", "#f5f5c8", "#a6d96a", "#1a9641", "#0b5d2a"),
    "terrain": ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#c8a07a", "#8c6d55", "#f2f2f2"),
    "viridis": ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"),
}
_RAMP_WORDS = (("vegetation", ("ndvi", "evi", "savi", "veg", "植被")),
               ("terrain", ("dem", "dtm", "dsm", "elev", "height", "高程", "地形")))
#: Colours of land-cover classes (codes of geo_township.kinds.LAND_COVER).
CLASS_COLOURS: dict[str, str] = {
    "forest": "#1b7837", "shrub": "#7fbc41", "grassland": "#c7e9a0", "farmland": "#f6d55c",
    "orchard": "#d8a13a", "water": "#2c7fb8", "wetland": "#66c2a4", "built_up": "#d6604d",
    "bare": "#bdbdbd", "nodata": "#ffffff",
}
_PALETTE = ("#8dd3c7", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5", "#bc80bd",
            "#ccebc5", "#ffed6f")
_RAMP_ZH = {"vegetation": "植被", "terrain": "地形", "viridis": "连续"}
MAX_OVERLAY_PX = 1024


def ramp_for(name: str) -> str:
    """The colour ramp for a raster, by the words in its name (NDVI → vegetation, DEM → terrain)."""
    lowered = name.lower()
    for ramp, words in _RAMP_WORDS:
        if any(w in lowered for w in words):
            return ramp
    return "viridis"


def _hex_rgb(colours: Sequence[str]) -> np.ndarray:
    return np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in colours], dtype="float64")


def colour_ramp(values: np.ndarray, vmin: float, vmax: float, ramp: str) -> np.ndarray:
    """RGB bytes (…, 3) of ``values`` on a ramp from ``vmin`` to ``vmax`` (clipped)."""
    stops = _hex_rgb(RAMPS[ramp])
    span = vmax - vmin if vmax > vmin else 1.0
    t = np.clip((values - vmin) / span, 0.0, 1.0) * (len(stops) - 1)
    pos = np.arange(len(stops))
    return np.stack([np.interp(t, pos, stops[:, k]) for k in range(3)], axis=-1).round().astype(np.uint8)


def _display_grid(info: RasterInfo, max_size: int):
    """A Web Mercator grid over the raster, at most ``max_size`` pixels on its long side.

    Leaflet stretches a picture linearly in Web Mercator between its corner coordinates,
    so the picture is resampled onto a Mercator grid (not a lon/lat one) to sit exactly
    where the raster is, whatever the latitude span.
    """
    from affine import Affine
    from rasterio.warp import calculate_default_transform

    transform, width, height = calculate_default_transform(info.crs, "EPSG:3857", info.width, info.height,
                                                           *info.bounds)
    factor = max(width, height) / max_size
    if factor > 1:
        new_w, new_h = max(1, math.ceil(width / factor)), max(1, math.ceil(height / factor))
        transform = transform @ Affine.scale(width / new_w, height / new_h)
        width, height = new_w, new_h
    return transform, int(width), int(height)


def raster_picture(spec: RasterSpec, *, max_size: int = MAX_OVERLAY_PX, band: int = 1
                   ) -> tuple[np.ndarray, tuple[float, float, float, float], list[dict[str, Any]]]:
    """The raster as an RGBA picture on a Web Mercator grid (≤ ``max_size`` px a side),
    its (west, south, east, north) bounds in degrees, and legend entries
    (``{"code", "en", "zh", "color"}``). Nodata is transparent. Large rasters are read
    decimated (from overviews when present), never whole."""
    from pyproj import Transformer
    from rasterio.warp import Resampling, reproject

    with opened(spec, band=band) as (ds, info):
        factor = max(1.0, max(info.width, info.height) / (2 * max_size))
        shape = (max(1, math.ceil(info.height / factor)), max(1, math.ceil(info.width / factor)))
        averaging = not spec.categorical and spec.nodata is None and factor > 1
        data = read_masked(ds, info, out_shape=shape, resampling="average" if averaging else "nearest")
    from affine import Affine

    src_transform = info.transform @ Affine.scale(info.width / shape[1], info.height / shape[0])
    dst_transform, width, height = _display_grid(info, max_size)
    out = np.full((height, width), np.nan, dtype="float64")
    reproject(np.ma.filled(data.astype("float64"), np.nan), out, src_transform=src_transform, src_crs=info.crs,
              src_nodata=np.nan, dst_transform=dst_transform, dst_crs="EPSG:3857", dst_nodata=np.nan,
              resampling=Resampling.nearest if spec.categorical else Resampling.bilinear)
    valid = np.isfinite(out)
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    legend: list[dict[str, Any]] = []
    if spec.categorical:
        codes = sorted({int(v) for v in np.unique(out[valid])} | set(spec.classes))
        columns = class_columns(spec, codes)
        for i, code in enumerate(codes):
            lc = columns[code][0][3:] if columns[code][0].startswith("lc_") else None
            colour = CLASS_COLOURS.get(lc or "", _PALETTE[i % len(_PALETTE)])
            hit = valid & (np.round(np.where(valid, out, -1)) == code)
            if lc == "nodata":
                continue
            rgba[hit, :3] = _hex_rgb([colour])[0].astype(np.uint8)
            rgba[hit, 3] = 255
            name = spec.classes.get(code, f"class {code}")
            en = LAND_COVER.label(lc, "en") if lc else name
            zh = LAND_COVER.label(lc, "zh") if lc else name
            if hit.any() or code in spec.classes:
                legend.append({"code": code, "en": en, "zh": zh, "color": colour})
    elif valid.any():
        ramp = ramp_for(spec.name + " " + spec.description)
        vmin, vmax = (float(v) for v in np.percentile(out[valid], [2, 98]))
        if vmax <= vmin:
            vmin, vmax = float(out[valid].min()), float(out[valid].max())
        rgba[valid, :3] = colour_ramp(out[valid], vmin, vmax, ramp)
        rgba[valid, 3] = 255
        places = 2 if vmax - vmin < 10 else 0
        for k, v in enumerate(np.linspace(vmin, vmax, 5)):
            label = f"{v:.{places}f}"
            label = ("≤ " + label) if k == 0 else ("≥ " + label) if k == 4 else label
            r, g, b = colour_ramp(np.array([v]), vmin, vmax, ramp)[0]
            legend.append({"code": float(v), "en": label, "zh": label, "color": f"#{r:02x}{g:02x}{b:02x}"})
    to_lonlat = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    west, north = to_lonlat.transform(*(dst_transform @ (0, 0)))
    east, south = to_lonlat.transform(*(dst_transform @ (width, height)))
    return rgba, (west, south, east, north), legend


def raster_overlay(township: Township, name: str, *, max_size: int = MAX_OVERLAY_PX, opacity: float = 0.7):
    """The map layer of one of the township's rasters (``geo-township map --raster NAME``):
    a :class:`~geo_township.overlay.RasterOverlay` coloured by class (land cover) or on a
    colour ramp (NDVI, DEM …), with its legend. Registered in
    ``geo_township.webmap.RASTER_PROVIDERS``."""
    from geo_township.overlay import Category, RasterOverlay

    spec = township.config.rasters.get(name)
    if spec is None:
        return None
    image, bounds, legend = raster_picture(spec, max_size=max_size)
    ramp = ramp_for(spec.name + " " + spec.description)
    kind = "classes" if spec.categorical else f"2–98% range, {ramp} colours"
    kind_zh = "按类别着色" if spec.categorical else f"按 2%–98% 取值范围{_RAMP_ZH[ramp]}色带着色"
    return RasterOverlay(
        key=f"raster_{name}", en=f"Raster: {name}", zh=f"栅格: {name}", image=image, bounds=bounds,
        legend=[Category(e["code"], e["en"], e["zh"], e["color"]) for e in legend], opacity=opacity,
        show=True, description=spec.description or f"{name} ({kind}); transparent where there is no data",
        description_zh=spec.description or f"{name}（{kind_zh}）；无数据处透明",
    )
