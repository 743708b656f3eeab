"""Area and length, ellipsoidal or planar, vectorised, in m², mu, ha, km², m and km.

* **Ellipsoidal** (the default, as the Third National Land Survey, TD/T 1055-2019,
  reports parcel area): the area on the CGCS2000 ellipsoid. Computed by projecting to a
  Lambert azimuthal equal-area projection on that ellipsoid centred on the data, which
  preserves area exactly (a projection centred on each parcel gives the same areas to
  < 5e-9 on the sample). ``pyproj.Geod`` agrees to within its own floating-point noise,
  about 0.005 m² on any parcel (its sums run on the scale of the whole ellipsoid): 1e-9
  of a parcel above a few hectares, up to 1e-7 of a small one, 1e-10 of a township's
  total (tested). It runs vectorised: 100,000 parcels in about a second instead of a
  per-polygon geodesic loop.

  Layers are held in the township's Gauss–Krüger zone, so their vertices were projected
  once already on reading. A parcel no wider than :data:`SCALED_MAX_M` is measured there
  instead, its planar area divided by the projection's areal scale at its centroid
  (``pyproj`` ``get_factors``): the scale varies almost linearly across so small a
  parcel, and what is left is its variance over the parcel divided by the Earth's radius
  squared — under 2e-9 of a 1 km parcel, 2e-10 of a 300 m one (tested against the
  equal-area projection and ``pyproj.Geod``). Only wider parcels (villages) are projected
  again, densified to :data:`DENSIFY_M` first so that the polygon measured is the one held
  (edges straight in the layer's CRS); each vertex of a county's sub-compartments is
  projected once, not twice.
* **Planar**: the area in the township's 3-degree Gauss–Krüger zone, as a desktop GIS
  shows it in that CRS; larger than ellipsoidal by the zone's scale factor (2e-5–1.3e-4
  near the central meridian's neighbourhood).

Lengths: ellipsoidal = sum of geodesic distances between consecutive vertices (exact,
vectorised with ``pyproj.Geod.inv``); planar = length in the GK zone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod

from geo_township.crs import CGCS2000_A, CGCS2000_RF, equal_area_crs, working_crs_for
from geo_township.errors import CRSError, UsageError
from geo_township.labels import TOTAL_LABEL, UNASSIGNED_LABEL
from geo_township.units import area_unit, from_m, from_m2

Method = Literal["ellipsoidal", "planar"]
METHODS = ("ellipsoidal", "planar")
METHOD_NOTES = {
    "ellipsoidal": "ellipsoidal area on the CGCS2000 ellipsoid (as land surveys report, TD/T 1055-2019)",
    "planar": "planar area in the township's 3-degree Gauss–Krüger zone",
}
METHOD_NOTES_ZH = {
    "ellipsoidal": "CGCS2000 椭球面积（与国土调查一致，TD/T 1055-2019）",
    "planar": "高斯-克吕格 3 度带平面面积",
}
GEOD = Geod(a=CGCS2000_A, rf=CGCS2000_RF)


def _check(geoms: gpd.GeoSeries, method: str) -> None:
    if geoms.crs is None:
        raise CRSError("geometries without a coordinate system cannot be measured",
                       hint="set the layer's CRS (township.toml crs = \"EPSG:...\") before measuring")
    if method not in METHODS:
        raise UsageError(f"unknown area method {method!r}", hint="use ellipsoidal or planar")


def _lonlat_extent(geoms: gpd.GeoSeries) -> tuple[float, float, float, float]:
    box = gpd.GeoSeries([shapely.box(*geoms.total_bounds)], crs=geoms.crs).to_crs(4490)
    return tuple(box.total_bounds)


def planar_crs_for(geoms: gpd.GeoSeries) -> CRS:
    """The GK zone to measure ``geoms`` in: their own CRS when it is already a CGCS2000
    3-degree zone, else the zone of their centre (UTM outside China)."""
    crs = CRS(geoms.crs)
    epsg = crs.to_epsg()
    if epsg is not None and (4534 <= epsg <= 4554 or 4513 <= epsg <= 4533):
        return crs
    lon_min, lat_min, lon_max, lat_max = _lonlat_extent(geoms)
    return working_crs_for(lon_min, lon_max, (lat_min + lat_max) / 2.0)


AREA_CHUNK = 25_000
"""Geometries projected at a time to measure their area: the projected copies of a
county's 100,000 sub-compartments would otherwise all be held at once."""


def area_crs(geoms: gpd.GeoSeries, *, method: Method = "ellipsoidal") -> CRS:
    """The CRS :func:`area_m2` measures ``geoms`` in: the GK zone (planar), else an equal-area
    projection on CGCS2000 centred on their whole extent (so a part of the layer measured
    apart, e.g. on a cluster, gets the same numbers when given this CRS)."""
    _check(geoms, method)
    if method == "planar":
        return planar_crs_for(geoms)
    lon_min, lat_min, lon_max, lat_max = _lonlat_extent(geoms)
    return equal_area_crs((lon_min + lon_max) / 2.0, (lat_min + lat_max) / 2.0)


SCALED_MAX_M = 1_000.0
"""The widest parcel (the longer side of its bounding box, metres) whose ellipsoidal area is
its planar area in a transverse Mercator CRS divided by the areal scale at its centroid;
the error of that grows with the square of the width: < 2e-9 at 1 km."""


DENSIFY_M = 20.0
"""Wider parcels are projected to the equal-area CRS with vertices at most this far apart
(metres; 20 m ≈ 1.8e-4° in a longitude/latitude layer): an edge straight in the layer's CRS
is not straight in the equal-area plane, and projecting only its ends would measure another
polygon, by up to 4e-8 of the area per kilometre of edge 60 km off a zone's central meridian."""


def _scale_corrected(geoms: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray] | None:
    """Ellipsoidal areas (m²) of the parcels of ``geoms`` narrow enough to be measured in
    their own transverse Mercator CRS (Gauss–Krüger, UTM) with the areal-scale correction,
    and the mask of those parcels; None when the CRS is not transverse Mercator."""
    crs = CRS(geoms.crs)
    operation = crs.coordinate_operation
    if not crs.is_projected or operation is None or operation.method_name != "Transverse Mercator":
        return None
    from pyproj import Proj, Transformer

    arr = geoms.to_numpy()
    bounds = shapely.bounds(arr)
    width = np.fmax(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    small = width <= SCALED_MAX_M  # NaN (empty geometry) is not small
    out = np.zeros(int(small.sum()))
    if not len(out):
        return out, small
    parcels = arr[small]
    centres = shapely.centroid(parcels)
    lon, lat = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(
        shapely.get_x(centres), shapely.get_y(centres))
    scale = np.asarray(Proj(crs).get_factors(lon, lat).areal_scale, dtype="float64")
    out = shapely.area(parcels) / scale
    return out, small


def area_m2(geoms: gpd.GeoSeries, *, method: Method = "ellipsoidal", crs: CRS | None = None) -> np.ndarray:
    """Area of each geometry in square metres (0 for points and lines); ``crs``: the CRS to
    project to and measure in (default :func:`area_crs` of ``geoms``). Ellipsoidal areas of
    parcels narrower than :data:`SCALED_MAX_M` in a transverse Mercator CRS are measured
    where they are, with the areal-scale correction (the module's docstring): each parcel's
    area depends on it alone, so a layer measured in parts gives the whole's numbers."""
    _check(geoms, method)
    if len(geoms) == 0:
        return np.zeros(0)
    out = np.zeros(len(geoms))
    rest = np.ones(len(geoms), dtype=bool)
    if method == "ellipsoidal":
        scaled = _scale_corrected(geoms)
        if scaled is not None:
            out[scaled[1]] = scaled[0]
            rest = ~scaled[1]
            if not rest.any():
                return out
    target = crs if crs is not None else area_crs(geoms, method=method)
    others = geoms[rest] if not rest.all() else geoms
    if method == "ellipsoidal" and not CRS(geoms.crs).equals(target):
        # edges are straight where the layer is held: vertices at most DENSIFY_M apart, so the
        # equal-area plane measures the same polygon (not one with edges straight in it)
        step = DENSIFY_M / 111_000.0 if CRS(geoms.crs).is_geographic else DENSIFY_M
        others = gpd.GeoSeries(shapely.segmentize(others.to_numpy(), step), index=others.index, crs=others.crs)
    # one projection for all (chosen from the whole extent), applied a chunk at a time
    out[rest] = np.concatenate([others.iloc[i:i + AREA_CHUNK].to_crs(target).area.to_numpy()
                                for i in range(0, len(others), AREA_CHUNK)])
    return out


def length_m(geoms: gpd.GeoSeries, *, method: Method = "ellipsoidal") -> np.ndarray:
    """Length of each geometry in metres (perimeter for polygons)."""
    _check(geoms, method)
    if len(geoms) == 0:
        return np.zeros(0)
    if method == "planar":
        return geoms.to_crs(planar_crs_for(geoms)).length.to_numpy()
    lines = geoms.to_crs(4490).to_numpy()
    polys = np.isin(shapely.get_type_id(lines), (3, 6))
    if polys.any():
        lines = lines.copy()
        lines[polys] = shapely.boundary(lines[polys])
    # Explode to single parts so consecutive vertices of different parts are never joined.
    parts, part_of = shapely.get_parts(lines, return_index=True)
    coords, vertex_part = shapely.get_coordinates(parts, return_index=True)
    out = np.zeros(len(geoms))
    if len(coords) < 2:
        return out
    same = vertex_part[1:] == vertex_part[:-1]
    _, _, dist = GEOD.inv(coords[:-1, 0][same], coords[:-1, 1][same], coords[1:, 0][same], coords[1:, 1][same])
    seg_geom = part_of[vertex_part[:-1][same]]
    np.add.at(out, seg_geom, dist)
    return out


def area(geoms: gpd.GeoSeries, *, unit: str = "mu", method: Method = "ellipsoidal") -> np.ndarray:
    """Area of each geometry in ``unit`` (mu, ha, m2, km2)."""
    return from_m2(area_m2(geoms, method=method), unit)


def length(geoms: gpd.GeoSeries, *, unit: str = "km", method: Method = "ellipsoidal") -> np.ndarray:
    """Length of each geometry in ``unit`` (m, km)."""
    return from_m(length_m(geoms, method=method), unit)


def group_labels(values: pd.Series) -> pd.Series:
    """Group keys as text, with missing values shown as '(none)' rather than dropped."""
    codes, uniques = pd.factorize(values.astype(object).where(values.notna(), None), use_na_sentinel=True)
    # one label per distinct value (a county's 100,000 plots hold a few hundred villages); -1 (missing) → last
    labels = np.array([str(int(v)) if isinstance(v, float) and v.is_integer() else str(v) for v in uniques]
                      + [UNASSIGNED_LABEL["en"]], dtype=object)
    return pd.Series(labels[codes], index=values.index, dtype=object)


def area_by(gdf: gpd.GeoDataFrame, by: str | None = None, *, unit: str = "mu",
            method: Method = "ellipsoidal", area_of: Callable[..., np.ndarray] | None = None) -> pd.DataFrame:
    """Area per group: columns ``group``, ``count``, ``area_<unit>``, and a final Total row.

    Areas are summed per group (never dissolved: a dissolve merges overlaps and is slow).
    Features with no value in ``by`` form their own '(none)' group. ``area_of`` measures the
    geometries with :func:`area`'s contract (default :func:`area`; an engine may run it in parts).
    """
    unit_ = area_unit(unit)
    values = (area_of or area)(gdf.geometry, unit=unit, method=method)
    col = f"area_{unit_.code}"
    if by is None:
        table = pd.DataFrame({"group": [], "count": [], col: []})
    else:
        if by not in gdf.columns:
            raise UsageError(f"the layer has no field {by!r}",
                             hint="group by one of: " + ", ".join(c for c in gdf.columns if c != gdf.geometry.name))
        frame = pd.DataFrame({"group": group_labels(gdf[by]).to_numpy(), "area": values})
        grouped = frame.groupby("group", sort=True)["area"].agg(["count", "sum"]).reset_index()
        table = pd.DataFrame({"group": grouped["group"], "count": grouped["count"].astype(int), col: grouped["sum"]})
    total = pd.DataFrame({"group": [TOTAL_LABEL["en"]], "count": [len(gdf)], col: [float(values.sum())]})
    table = pd.concat([table, total], ignore_index=True)
    table["count"] = table["count"].astype(int)
    return table
