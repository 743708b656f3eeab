"""Esri File Geodatabases (a ``.gdb`` folder, as ArcGIS writes them), read with GDAL's
OpenFileGDB driver: the layers they hold, the one township.toml names, and its fields'
aliases (ArcGIS keeps a Chinese alias such as 村名 for a field called CM).

:func:`geo_township.io.read.read_vector` reads a ``.gdb`` path through these.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd

from geo_township.errors import LayerReadError
from geo_township.io.failures import exception_text

GDB_SUFFIX = ".gdb"

_PLURAL = {"Point": "points", "MultiPoint": "points", "LineString": "lines", "MultiLineString": "lines",
           "Polygon": "polygons", "MultiPolygon": "polygons"}


def gdb_layers(path: Path) -> list[tuple[str, str | None]]:
    """The layers of a File Geodatabase: (name, geometry type or None for a table without
    geometry), in the geodatabase's order."""
    import pyogrio

    try:
        listed = pyogrio.list_layers(path)
    except Exception as exc:  # noqa: BLE001 - pyogrio raises DataSourceError for a folder GDAL cannot open
        raise LayerReadError(f"cannot open the File Geodatabase: {exception_text(exc)}", path=path,
                             hint="the .gdb folder may be damaged or only partly copied (copy the whole folder), "
                             "or come from a newer ArcGIS; export the layers again") from None
    return [(str(name), None if kind is None or str(kind) in ("", "None") else str(kind)) for name, kind in listed]


def gdb_listing(layers: list[tuple[str, str | None]]) -> str:
    """The geodatabase's layers for a message: 'villages (polygons), 林班 (polygons); tables
    without geometry: 权属'."""
    spatial = [f"{name} ({_PLURAL.get(kind.replace(' Z', '').replace(' M', ''), kind.lower())})"
               for name, kind in layers if kind is not None]
    tables = [name for name, kind in layers if kind is None]
    text = ", ".join(spatial) or "none with geometry"
    return text + ("; tables without geometry: " + ", ".join(tables) if tables else "")


def choose_gdb_layer(path: Path, layer: str | None) -> str:
    """The feature class to read: ``layer`` when the geodatabase has it, else its only
    feature class. A missing or wrong ``layer`` is an error that lists the layers."""
    layers = gdb_layers(path)
    spatial = [name for name, kind in layers if kind is not None]
    listing = gdb_listing(layers)
    if layer is None:
        if len(spatial) != 1:
            what = "no layer with geometry" if not spatial else f"{len(spatial)} layers"
            raise LayerReadError(
                f"the File Geodatabase holds {what} and township.toml does not say which to use", path=path,
                hint=f'add layer = "NAME" to this layer in township.toml; layers in it: {listing}')
        return spatial[0]
    if layer not in [name for name, _ in layers]:
        raise LayerReadError(f"no layer {layer!r} in the File Geodatabase", path=path,
                             hint=f"layers in it: {listing}")
    return layer


def read_gdb_layer(path: Path, layer: str) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """One layer of the geodatabase with the file's own field names, and each field's alias
    where it differs from the name."""
    import pyogrio

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = pyogrio.read_dataframe(path, layer=layer, use_arrow=True)
    except Exception as exc:  # noqa: BLE001 - any GDAL failure becomes a message naming the geodatabase
        raise LayerReadError(f"cannot read the File Geodatabase: {exception_text(exc)}", path=path,
                             where=f"layer {layer}",
                             hint="the .gdb folder may be damaged or only partly copied; export it again") from None
    return gdf, gdb_aliases(path, layer, [c for c in gdf.columns if c != gdf.geometry.name])


def gdb_aliases(path: Path, layer: str, columns: list[str]) -> dict[str, str]:
    """Each field's alias where it differs from the field's name (GDAL reports it as the
    field's alternative name, in the Arrow schema's field metadata)."""
    import pyogrio

    try:
        _, table = pyogrio.read_arrow(path, layer=layer, max_features=1, read_geometry=False)
    except Exception:  # noqa: BLE001 - aliases are a help, never a reason to refuse the layer
        return {}
    out = {}
    for f in table.schema:
        alias = (f.metadata or {}).get(b"GDAL:OGR:alternative_name", b"").decode("utf-8", errors="replace").strip()
        if f.name in columns and alias and alias != f.name:
            out[f.name] = alias
    return out
