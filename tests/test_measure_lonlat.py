"""Ellipsoidal area of parcels held in longitude/latitude, measured there (no projection),
against an equal-area projection centred on each parcel and against pyproj.Geod."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from geo_township.crs import equal_area_crs
from geo_township.measure import area_m2

GEOD = Geod(ellps="GRS80")  # CGCS2000 and GRS80 share a and f to 1e-11
DENSE_DEG = 2e-6
"""The references densify every edge to vertices 2e-6° (about 0.2 m) apart: an edge straight
in longitude/latitude, as the layer holds it, is then the same edge to well under 1e-10 of
the area in the equal-area plane and along geodesics."""


def _parcels(rng: np.random.Generator) -> list[Polygon | MultiPolygon]:
    """Irregular parcels 30 m to 990 m across at 18°–53°N, a hole, rings turning either
    way, and a parcel in two parts."""
    out: list[Polygon | MultiPolygon] = []
    for lat in (18.3, 29.4, 41.0, 53.2):
        for size in (30, 150, 500, 990):
            d = size / 111_000.0
            x, y = 100.0 + rng.uniform(0, 20), lat + rng.uniform(0, 0.5)
            out.append(Polygon([(x, y), (x + d * rng.uniform(0.5, 0.9), y + 0.1 * d),
                                (x + 0.8 * d, y + d * rng.uniform(0.6, 0.95)), (x + 0.3 * d, y + 0.7 * d),
                                (x - 0.1 * d, y + 0.4 * d)]))
    x, y, d = 119.6, 29.4, 600 / 111_000.0
    shell = [(x, y), (x + d, y), (x + d, y + d), (x, y + d)]
    hole = [(x + 0.2 * d, y + 0.2 * d), (x + 0.5 * d, y + 0.3 * d), (x + 0.4 * d, y + 0.6 * d)]
    out += [Polygon(shell, [hole]), Polygon(shell[::-1], [hole[::-1]]), Polygon(shell[::-1], [hole]),
            MultiPolygon([Polygon(shell, [hole]),
                          Polygon([(x + 1.2 * d, y), (x + 1.6 * d, y), (x + 1.4 * d, y + 0.5 * d)])])]
    return out


def _equal_area_reference(parcel) -> float:
    """The area of ``parcel`` (lon/lat) densified and projected to an equal-area projection
    centred on it."""
    c = parcel.centroid
    dense = gpd.GeoSeries([shapely.segmentize(parcel, DENSE_DEG)], crs=4490)
    return float(dense.to_crs(equal_area_crs(c.x, c.y)).area.iloc[0])


def _geod_reference(parcel) -> float:
    """The geodesic area of ``parcel`` densified, its shells turned anticlockwise and holes
    clockwise as Geod sums them."""
    return abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(shapely.segmentize(parcel, DENSE_DEG)))[0])


def test_lonlat_parcels_against_an_equal_area_projection_and_geod():
    parcels = _parcels(np.random.default_rng(3))
    ours = area_m2(gpd.GeoSeries(parcels, crs=4490))
    for parcel, mine in zip(parcels, ours, strict=True):
        assert mine == pytest.approx(_equal_area_reference(parcel), rel=1e-10)
        assert abs(mine - _geod_reference(parcel)) < 0.005  # m², Geod's own floating-point noise
    # the hole counts against its shell however either ring turns
    assert ours[16] == pytest.approx(ours[17], rel=1e-13) and ours[16] == pytest.approx(ours[18], rel=1e-13)
    shell_only = area_m2(gpd.GeoSeries([Polygon(parcels[16].exterior)], crs=4490))[0]
    assert shell_only - ours[16] == pytest.approx(area_m2(gpd.GeoSeries([Polygon(parcels[16].interiors[0])],
                                                                     crs=4490))[0], rel=1e-9)


def test_lonlat_areas_agree_with_the_same_polygons_measured_in_their_gk_zone():
    """The parcels densified (so that both measure one polygon) and projected to their
    Gauss–Krüger zone, where the areal-scale correction measures them: within its 2e-9."""
    rng = np.random.default_rng(8)
    x, y = rng.uniform(119.2, 120.4, 300), rng.uniform(29.0, 29.8, 300)
    parcels = gpd.GeoSeries(shapely.buffer(shapely.points(x, y), rng.uniform(2e-4, 4e-3, 300), quad_segs=3),
                            crs=4490)
    dense = gpd.GeoSeries(shapely.segmentize(parcels.to_numpy(), DENSE_DEG * 20), crs=4490)
    np.testing.assert_allclose(area_m2(parcels), area_m2(dense.to_crs(4549)), rtol=2e-9)


def test_a_lonlat_parcels_area_is_its_own():
    """Measured alone, among others, in chunks, or read as WGS 84: the same to the bit (the
    dask engine measures a layer in parts)."""
    from geo_township import measure

    parcels = gpd.GeoSeries(_parcels(np.random.default_rng(5)), crs=4490)
    whole = area_m2(parcels)
    assert np.array_equal(np.concatenate([area_m2(parcels.iloc[[i]]) for i in range(len(parcels))]), whole)
    assert np.array_equal(area_m2(parcels.set_crs(4326, allow_override=True)), whole)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(measure, "LONLAT_CHUNK", 3)
        assert np.array_equal(area_m2(parcels), whole)
    # many-sided parcels cut into parts at every offset: each ring's sums start anywhere in memory
    rng = np.random.default_rng(6)
    x, y = rng.uniform(117.0, 118.5, 400), rng.uniform(30.0, 31.5, 400)
    circles = gpd.GeoSeries(shapely.buffer(shapely.points(x, y), 0.002), crs=4490)  # 33 vertices each
    whole = area_m2(circles)
    for cut in range(1, 40):
        assert np.array_equal(np.concatenate([area_m2(circles.iloc[:cut]), area_m2(circles.iloc[cut:])]), whole)


def test_lonlat_points_lines_empty_and_wide_parcels():
    """What is not a narrow polygon is measured as before: points and lines 0, an empty
    polygon 0, a 5 km parcel through the equal-area projection, a collection by its polygon."""
    wide = box(119.5, 29.4, 119.55, 29.44)
    small = box(119.6, 29.4, 119.601, 29.401)
    geoms = gpd.GeoSeries([Point(119.6, 29.4), LineString([(119.6, 29.4), (119.61, 29.41)]), Polygon(), wide,
                           shapely.GeometryCollection([small, Point(119.7, 29.4)])], crs=4490)
    ours = area_m2(geoms)
    assert ours[:3].tolist() == [0.0, 0.0, 0.0]
    assert ours[3] == pytest.approx(_equal_area_reference(wide), rel=1e-9)
    assert ours[4] == pytest.approx(_equal_area_reference(small), rel=1e-9)
