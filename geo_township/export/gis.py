"""GeoPackage, shapefile and GeoParquet for desktop GIS and other systems, in the layer's
working CRS (projected metres, so QGIS and ArcGIS measure right).

A shapefile's field names hold at most 10 bytes *in its encoding*: longer names are
shortened here (unique, and listed in the summary's notes) rather than truncated by GDAL
behind the user's back. ``encoding="gbk"`` writes the text as GBK with a ``.cpg`` saying
936 (GBK's code page), which ArcGIS 9/10 and old Chinese desktop GIS read.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo_township.errors import UsageError
from geo_township.io.write import atomic_path, datetimes_as_dates, geoparquet_file

#: ``--encoding`` values for shapefiles → (Python codec, GDAL encoding, .cpg text).
SHAPEFILE_ENCODINGS: dict[str, tuple[str, str, str]] = {
    "utf-8": ("utf-8", "UTF-8", "UTF-8"),
    "gbk": ("gbk", "CP936", "936"),
    "gb18030": ("gb18030", "GB18030", "GB18030"),
}
MAX_FIELD_BYTES = 10


def shorten_names(columns: list[str], codec: str) -> dict[str, str]:
    """Field name → a name of at most 10 bytes in ``codec``, unique among them; only the
    names that change are returned."""
    taken = {c for c in columns if len(c.encode(codec, "replace")) <= MAX_FIELD_BYTES}
    out: dict[str, str] = {}
    for col in columns:
        if col in taken:
            continue
        base = _cut(col, codec, MAX_FIELD_BYTES)
        short, n = base, 1
        while short in taken:
            tail = f"_{n}"
            short, n = _cut(col, codec, MAX_FIELD_BYTES - len(tail)) + tail, n + 1
        taken.add(short)
        out[col] = short
    return out


def _cut(text: str, codec: str, limit: int) -> str:
    out = ""
    for ch in text:
        if len((out + ch).encode(codec, "replace")) > limit:
            break
        out += ch
    return out


def write_shapefile(gdf: gpd.GeoDataFrame, path: str | Path, *, encoding: str | None = None
                    ) -> list[tuple[str, str]]:
    """Write a shapefile (all its parts in a temporary folder first, then moved into
    place); return notes (English, Chinese), e.g. the field names shortened."""
    key = (encoding or "utf-8").lower().replace("_", "-")
    key = {"utf8": "utf-8", "cp936": "gbk", "936": "gbk"}.get(key, key)
    if key not in SHAPEFILE_ENCODINGS:
        raise UsageError(f"--encoding {encoding}: not an encoding for shapefiles",
                         hint="use " + ", ".join(SHAPEFILE_ENCODINGS) + " (gbk for old Chinese desktop GIS)",
                         message_zh=f"--encoding {encoding}：shapefile 不支持此编码",
                         hint_zh="可用：" + ", ".join(SHAPEFILE_ENCODINGS) + "（旧版国产桌面 GIS 用 gbk）")
    codec, gdal_encoding, cpg = SHAPEFILE_ENCODINGS[key]
    _check_encodable(gdf, codec, encoding or key)
    path = Path(path)
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    renames = shorten_names(columns, codec)
    out = datetimes_as_dates(gdf.rename(columns=renames))
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise UsageError(f"folder {folder} does not exist", hint="create it first or choose another -o path")
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=folder))
    try:
        out.to_file(tmpdir / path.name, driver="ESRI Shapefile", engine="pyogrio", encoding=gdal_encoding)
        (tmpdir / path.name).with_suffix(".cpg").write_text(cpg, encoding="ascii")
        for part in sorted(tmpdir.iterdir()):
            os.replace(part, path.with_suffix(part.suffix))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    notes = []
    if renames:
        pairs = ", ".join(f"{a} → {b}" for a, b in renames.items())
        notes.append((f"field names shortened to 10 bytes for the shapefile: {pairs}",
                      f"shapefile 字段名最长 10 字节，已缩短：{pairs}"))
    return notes


def _check_encodable(gdf: gpd.GeoDataFrame, codec: str, name: str) -> None:
    """Refuse text that the encoding cannot hold (it would be written as '?')."""
    for col in gdf.columns:
        if col == gdf.geometry.name or not (gdf[col].dtype == object or pd.api.types.is_string_dtype(gdf[col])):
            continue
        for i, value in enumerate(gdf[col].tolist()):
            if isinstance(value, str):
                try:
                    value.encode(codec)
                except UnicodeEncodeError:
                    raise UsageError(f"{col} of feature {i + 1} ({value!r}) cannot be written in {name}",
                                     hint="leave out --encoding (UTF-8 holds every character)",
                                     message_zh=f"第 {i + 1} 个要素的 {col}（{value!r}）无法用 {name} 编码写出",
                                     hint_zh="去掉 --encoding（UTF-8 可写出所有字符）") from None
        try:
            str(col).encode(codec)
        except UnicodeEncodeError:
            raise UsageError(f"field name {col!r} cannot be written in {name}",
                             hint="leave out --encoding (UTF-8 holds every character)") from None


def write_geopackage(sets: Mapping[str, gpd.GeoDataFrame], path: str | Path, *, keep_layers: bool = False) -> None:
    """Write each of ``sets`` as a layer named after its key to one GeoPackage, in the
    sets' own CRS, atomically (a temporary file renamed into place). ``keep_layers`` keeps
    the other layers of an existing file (a layer of the same name is replaced), so several
    runs can collect their layers in one file."""
    import pyogrio

    path = Path(path)
    with atomic_path(path) as tmp:
        if keep_layers and path.exists():
            shutil.copy2(path, tmp)
        for name, gdf in sets.items():
            pyogrio.write_dataframe(_plain_values(datetimes_as_dates(gdf)), tmp, layer=name, driver="GPKG")


def write_geojson(gdf: gpd.GeoDataFrame, path: str | Path) -> None:
    """Write GeoJSON (RFC 7946: WGS84 longitude/latitude), atomically."""
    import pyogrio

    out = gdf.to_crs(4326) if gdf.crs is not None else gdf
    with atomic_path(path) as tmp:
        pyogrio.write_dataframe(_plain_values(datetimes_as_dates(out)), tmp, driver="GeoJSON")


def _plain_values(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Text columns holding other objects (dates, lists) as text, which GDAL can write."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name and gdf[c].dtype == object
            and not gdf[c].map(lambda v: v is None or isinstance(v, (str, int, float, bool))).all()]
    if not cols:
        return gdf
    gdf = gdf.copy()
    for c in cols:
        gdf[c] = gdf[c].map(lambda v: v if v is None or isinstance(v, (str, int, float, bool))
                            else (v.isoformat() if hasattr(v, "isoformat") else str(v)))
    return gdf


def write_parquet(gdf: gpd.GeoDataFrame, path: str | Path) -> None:
    """Write GeoParquet (geometry as WKB with the CRS in the file's metadata), atomically."""
    with atomic_path(path) as tmp:
        geoparquet_file(gdf, tmp, index=False)
