"""Finding, opening and reading a raster: its township.toml name, its grid and CRS, masked
reads with the file's nodata and scaling, and the table of the township's rasters.

A raster without a CRS whose bounds are longitude/latitude in China is read as CGCS2000.
Nodata is masked in every read: the file's nodata value and mask band, and NaN; ``nodata``
in the ``[rasters.NAME]`` table replaces the file's value (a number), or keeps every value
(``"none"``: only NaN and an explicit mask band stay masked).
"""

from __future__ import annotations

import contextlib
import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pyproj import CRS

from geo_township.config import NODATA_NONE, RasterSpec
from geo_township.errors import CRSError, GeometryError, TownshipError, UsageError
from geo_township.io.failures import read_failure
from geo_township.labels import Text

if TYPE_CHECKING:  # pragma: no cover
    from geo_township.layers import Township

#: The GDAL block cache while we read (MB); kept small because each block is read once.
GDAL_CACHE_MB = 64


def _rasterio():
    try:
        import rasterio
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise UsageError("rasterio is not installed", hint="pip install rasterio") from exc
    return rasterio


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
            same = [n for n, spec in rasters.items()
                    if candidate.is_file() and spec.path.resolve() == candidate.resolve()]
            if same:
                raise UsageError(f"rasters are named in township.toml, not given as files: {str(name)!r} is the raster "
                                 f"{same[0]}", hint=f"give its name: {same[0]}",
                                 message_zh=f"栅格用 township.toml 中的名称指定，而不是文件：{str(name)!r} "
                                 f"就是栅格 {same[0]}",
                                 hint_zh=f"请写它的名称：{same[0]}")
        absolute = path.resolve()
        shown = absolute.as_posix()
        with contextlib.suppress(ValueError):
            shown = absolute.relative_to(township.config.root.resolve()).as_posix()
        raise UsageError(f"rasters are named in township.toml, not given as files: {str(name)!r} is not a raster name",
                         hint=f'add [rasters.{stem}] with path = "{shown}" to {where}, then give the name {stem} '
                         f"(rasters now: {known})",
                         message_zh=f"栅格用 township.toml 中的名称指定，而不是文件：{str(name)!r} 不是栅格名称",
                         hint_zh=f'请在 {where} 中加 [rasters.{stem}]，写 path = "{shown}"，然后写名称 {stem}'
                         f"(现有栅格：{known})")
    close = difflib.get_close_matches(str(name), list(rasters), n=1)
    raise UsageError(
        f"no raster called {str(name)!r} in township.toml" + (f" (did you mean {close[0]}?)" if close else ""),
        hint=f'rasters in township.toml: {known}; to add one, write [rasters.{stem}] with path = "file.tif" in {where}',
        message_zh=f"township.toml 中没有名为 {str(name)!r} 的栅格" + (f"(是不是 {close[0]}？)" if close else ""),
        hint_zh=f'township.toml 中的栅格：{known}；如要添加，请在 {where} 中写 [rasters.{stem}] 和 path = "file.tif"')


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
    #: where ``nodata`` comes from: "file", "township.toml", or "none" (township.toml keeps every value)
    nodata_from: str = "file"
    file_nodata: float | None = None  # the file's own nodata value, whatever township.toml says

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
                "raster_size": Text(f"{self.width} × {self.height} px, band {self.band}, {self.dtype}",
                                    f"{self.width} × {self.height} 像元，第 {self.band} 波段，{self.dtype}"),
                "pixel_size": f"{self.res[0]:g}{unit} × {self.res[1]:g}{unit}", "nodata": self.nodata,
                "nodata_from": self.nodata_from}


def open_raster(spec: RasterSpec, *, band: int = 1):
    """Open a raster for reading; any failure becomes a clear :class:`LayerReadError`."""
    rasterio = _rasterio()
    try:
        ds = rasterio.open(spec.path)
    except rasterio.errors.RasterioIOError as exc:
        raise read_failure(spec.path, exc, prefix="cannot be read as a raster: ",
                           fallback_hint="give a GeoTIFF (or another raster GDAL reads); check the path in "
                           f"[rasters.{spec.name}] of township.toml") from None
    if not 1 <= band <= ds.count:
        ds.close()
        raise UsageError(f"the raster has {ds.count} band(s), not band {band}", hint=f"use --band 1 … {ds.count}",
                         message_zh=f"栅格只有 {ds.count} 个波段，没有第 {band} 波段",
                         hint_zh=f"请用 --band 1 … {ds.count}")
    return ds


def raster_info(ds, spec: RasterSpec, *, band: int = 1) -> RasterInfo:
    """Grid and CRS of an open dataset; refuses rotated grids and rasters without a usable CRS."""
    t = ds.transform
    if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
        raise GeometryError("the raster is rotated or stored bottom-up", path=spec.path,
                            hint="warp it north-up first, e.g. gdalwarp in.tif out.tif",
                            message_zh="栅格是旋转的或自下而上存储的",
                            hint_zh="请先重采样为正北朝上，例如 gdalwarp in.tif out.tif")
    file_nodata = ds.nodatavals[band - 1]
    if spec.nodata == NODATA_NONE:
        nodata, source = None, "none"
    elif spec.nodata is not None:
        nodata, source = float(spec.nodata), "township.toml"
    else:
        nodata, source = file_nodata, "file"
    grid = (ds.width, ds.height, t, band, ds.dtypes[band - 1], nodata, source, file_nodata)
    if ds.crs is not None:
        return RasterInfo(spec.path, CRS(ds.crs), Text("from the file", "取自文件"), *grid)
    from geo_township.crs import infer_crs

    left, bottom, right, top = ds.bounds
    try:
        inferred = infer_crs(np.array([left, right]), np.array([bottom, top]))
    except CRSError:
        raise CRSError("the raster has no coordinate system and its coordinates do not reveal one",
                       path=spec.path, hint="assign one, e.g. gdal_edit.py -a_srs EPSG:4548 file.tif, "
                       "or in QGIS: Raster > Projections > Assign Projection",
                       message_zh="栅格没有坐标系，从其坐标也看不出是哪一种",
                       hint_zh="请为它指定坐标系，例如 gdal_edit.py -a_srs EPSG:4548 file.tif，"
                       "或在 QGIS 中“栅格 > 投影 > 指定投影”") from None
    reason = inferred.reason
    note = Text("inferred: " + reason, f"按坐标数值推断({getattr(reason, 'zh', reason)})")
    return RasterInfo(spec.path, inferred.crs, note, *grid)


def gdal_env():
    """GDAL settings for reading: a small block cache (:data:`GDAL_CACHE_MB`)."""
    return _rasterio().Env(GDAL_CACHEMAX=GDAL_CACHE_MB)


@contextlib.contextmanager
def opened(spec: RasterSpec, *, band: int = 1):
    """Open a raster with a small GDAL block cache; yields ``(dataset, RasterInfo)``."""
    with gdal_env():
        ds = open_raster(spec, band=band)
        try:
            yield ds, raster_info(ds, spec, band=band)
        finally:
            ds.close()


def read_masked(ds, info: RasterInfo, window=None, *, out_shape: tuple[int, int] | None = None,
                resampling: str = "nearest") -> np.ma.MaskedArray:
    """Read a window of the band as a masked array: nodata, the mask band and NaN masked,
    scale and offset applied. ``out_shape`` reads it decimated (GDAL uses overviews when
    the file has them) with ``resampling`` (nearest, average …).

    With the file's own nodata GDAL masks it; with ``nodata`` from township.toml (a number,
    or "none") the band is read unmasked, so that the file's value counts as data, and only
    township.toml's value, an explicit mask band and NaN are masked. A file whose pixels
    cannot be read (cut short) is a :class:`LayerReadError` in plain words."""
    from rasterio.enums import Resampling
    from rasterio.errors import RasterioError

    kwargs: dict[str, Any] = {}
    if out_shape is not None:
        kwargs = {"out_shape": out_shape, "resampling": Resampling[resampling]}
    try:
        if info.nodata_from == "file":
            arr = ds.read(info.band, window=window, masked=True, **kwargs)
            mask = np.ma.getmaskarray(arr).copy()
        else:
            arr = ds.read(info.band, window=window, masked=False, **kwargs)
            mask = _explicit_mask(ds, info, window, kwargs, np.shape(arr))
    except RasterioError as exc:
        raise read_failure(info.path, _gdal_cause(exc), prefix="cannot be read as a raster: ") from None
    data = np.ma.getdata(arr)
    if info.nodata is not None and not (isinstance(info.nodata, float) and math.isnan(info.nodata)):
        mask |= data == info.nodata
    scale, offset = ds.scales[info.band - 1], ds.offsets[info.band - 1]
    if scale not in (None, 1.0) or offset not in (None, 0.0):
        data = data.astype("float64") * (scale or 1.0) + (offset or 0.0)
    if data.dtype.kind == "f":
        mask |= ~np.isfinite(data)
    return np.ma.MaskedArray(data, mask)


def _explicit_mask(ds, info: RasterInfo, window, kwargs: dict[str, Any], shape: tuple[int, ...]) -> np.ndarray:
    """The band's mask from an explicit mask band or alpha band (not from the file's
    nodata value, which township.toml replaced); all valid when it has none."""
    from rasterio.enums import MaskFlags

    flags = ds.mask_flag_enums[info.band - 1]
    if MaskFlags.per_dataset in flags or MaskFlags.alpha in flags:
        return ds.read_masks(info.band, window=window, **kwargs) == 0
    return np.zeros(shape, dtype=bool)


def _gdal_cause(exc: Exception) -> str:
    """GDAL's own words behind rasterio's "Read failed. See previous exception for details"."""
    cause = exc.__cause__ or exc.__context__
    return str(cause) if cause is not None else str(exc)


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


def raster_table(township: Township) -> pd.DataFrame:
    """One row per ``[rasters]`` entry: file, size in pixels, pixel size, CRS, bands, and
    what it is (its description, or its classes for a land-cover raster). Only the
    header is read, no pixels. ``info`` shows it next to the layers."""
    rows = []
    for name, spec in township.config.rasters.items():
        row = {"raster": name, "file": spec.path.name, "size": None, "pixel": None, "crs": None,
               "description": spec.description or ", ".join(f"{k}={v}" for k, v in spec.classes.items())}
        try:
            with opened(spec) as (_, info):
                described = info.describe()
            row.update(size=f"{info.width} × {info.height}", pixel=described["pixel_size"], crs=info.crs.to_string())
        except TownshipError as exc:
            row["description"] = f"cannot be read: {exc.message}"
        rows.append(row)
    return pd.DataFrame(rows, columns=["raster", "file", "size", "pixel", "crs", "description"])
