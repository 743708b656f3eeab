"""CSV and XLSX for Excel and for other systems: one row per feature, ``lon``/``lat``
(CGCS2000, 8 decimals) in front for points and ``wkt`` (CGCS2000 longitude/latitude) for
lines and polygons. CSV is UTF-8 with BOM, so Excel on Windows shows the Chinese; text
that Excel would run as a formula is defused (``io.write``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo_township.export.fields import labelled_table
from geo_township.io.write import write_csv, write_xlsx
from geo_township.kinds import Kind


def feature_table(gdf: gpd.GeoDataFrame, *, kind: Kind | None, lang: str = "en") -> pd.DataFrame:
    """The attribute table with the position in front: lon/lat for a point layer, WKT
    otherwise (both EPSG:4490)."""
    lonlat = gdf.to_crs(4490) if gdf.crs is not None else gdf
    table = labelled_table(lonlat, kind, lang).reset_index(drop=True)
    geoms = lonlat.geometry.to_numpy()
    if len(lonlat) and bool((shapely.get_type_id(geoms) == 0).all()):
        table.insert(0, "lat", shapely.get_y(geoms).round(8))
        table.insert(0, "lon", shapely.get_x(geoms).round(8))
    else:
        table.insert(0, "wkt", shapely.to_wkt(geoms, rounding_precision=8, trim=True))
    return table


def write_table(gdf: gpd.GeoDataFrame, path: str | Path, *, name: str, kind: Kind | None, lang: str = "en",
                xlsx: bool = False) -> None:
    """Write the layer as CSV (UTF-8 with BOM) or, with ``xlsx``, XLSX (one sheet named
    after the layer)."""
    table = feature_table(gdf, kind=kind, lang=lang)
    if xlsx:
        write_xlsx({name: table}, {}, path, about_title=None)
    else:
        write_csv(table, path)


def write_tables(sets: Mapping[str, gpd.GeoDataFrame], path: str | Path, *,
                 kinds: Mapping[str, Kind | None] | None = None, lang: str = "en") -> None:
    """Write several feature sets to one XLSX, a sheet per set (named after its key)."""
    write_xlsx({name: feature_table(gdf, kind=(kinds or {}).get(name), lang=lang) for name, gdf in sets.items()},
               {}, path, about_title=None)
