"""A big layer described without reading it whole: its count, CRS, extent and fields from
the file's metadata (``pyogrio.read_info``), and a bounded, spread sample of its rows on
which to judge what needs the rows themselves (encoding, an inferred CRS, the field mapping).

``geo-township info`` lists a township of a million trees in about a second this way. The
sample follows the rules of every read (:func:`geo_township.io.read.open_gdal`: a
shapefile's parts and encoding, the layer to read); only files GDAL reads one layer of at a
time, with a fast count, are sampled (GeoPackage, Shapefile, GeoJSON, FlatGeobuf …).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import CRS

from geo_township.io.failures import read_failure
from geo_township.io.read import GdalSource, RawLayer, open_gdal

SAMPLED_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".fgb", ".gml", ".tab", ".mif"}
"""Files a layer can be sampled from: one GDAL layer each, read from any row onwards."""

BLOCKS = 5
"""A sample is read as this many runs of rows spread evenly through the file (start, end and
between), so rows appended at the end of a layer are seen as well as the first ones."""


@dataclass(frozen=True)
class LayerInfo:
    """What a file says about a layer without reading its rows: how many features, its CRS
    (None when it has none), its box in that CRS (min x, min y, max x, max y) and its fields."""

    features: int
    crs: CRS | None
    bounds: tuple[float, float, float, float] | None
    fields: list[str]


def can_sample(path: Path) -> bool:
    """Whether the layer in ``path`` can be described from metadata and a sample."""
    return path.is_file() and path.suffix.lower() in SAMPLED_SUFFIXES


def layer_info(path: Path, *, layer: str | None = None, encoding: str | None = None,
               geometry: str | None = None) -> LayerInfo:
    """The metadata of the layer a full read would read (:func:`open_gdal`'s choice)."""
    return _info(path, open_gdal(path, layer=layer, encoding=encoding, geometry=geometry))


def _info(path: Path, opened: GdalSource) -> LayerInfo:
    import pyogrio

    name = opened.layers[0] if opened.layers else None
    try:
        info = pyogrio.read_info(opened.source, layer=name, encoding=opened.encoding, force_feature_count=True,
                                 force_total_bounds=True)
    except Exception as exc:  # noqa: BLE001 - any GDAL/driver failure becomes a message naming the file
        raise read_failure(path, exc, prefix="cannot open the file: ") from None
    bounds = info.get("total_bounds")
    box = None if bounds is None or not np.all(np.isfinite(bounds)) else tuple(float(v) for v in bounds)
    return LayerInfo(int(info["features"]), CRS(info["crs"]) if info.get("crs") else None,
                     box,  # type: ignore[arg-type]
                     [str(f) for f in info["fields"]])


def sample_offsets(features: int, rows: int, blocks: int = BLOCKS) -> list[tuple[int, int]]:
    """(first row, how many) of each run of a sample of at most ``rows`` of ``features`` rows,
    spread evenly from the first row to the last; runs never overlap."""
    if features <= rows:
        return [(0, features)]
    size = max(1, rows // blocks)
    starts = np.linspace(0, features - size, blocks).astype(int)
    return [(int(start), size) for start in np.unique(starts)]


def read_sample(path: Path, *, rows: int, layer: str | None = None, encoding: str | None = None,
                geometry: str | None = None) -> tuple[RawLayer, LayerInfo]:
    """At most ``rows`` features of the layer, in :data:`BLOCKS` runs spread through the file,
    with the file's metadata. The frame's index is each row's 0-based position in the file,
    so messages about a sampled row name the feature a full read would."""
    import pyogrio

    opened = open_gdal(path, layer=layer, encoding=encoding, geometry=geometry)
    info = _info(path, opened)
    name = opened.layers[0] if opened.layers else None
    frames = []
    for start, count in sample_offsets(info.features, rows):
        try:
            frame = pyogrio.read_dataframe(opened.source, layer=name, encoding=opened.encoding,
                                           skip_features=start, max_features=count, use_arrow=False)
        except Exception as exc:  # noqa: BLE001 - any GDAL/driver failure becomes a message naming the file
            raise read_failure(path, exc, prefix="cannot read the file: ",
                               where=f"layer {name}" if name else None) from None
        frame.index = pd.RangeIndex(start, start + len(frame))
        frames.append(frame)
    gdf = frames[0] if len(frames) == 1 else pd.concat(frames)
    return RawLayer(gdf, path, name, opened.encoding, list(opened.notes)), info
