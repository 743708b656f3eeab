"""Area and length against hand-worked values and pyproj.Geod."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Polygon, box

from geo_township.errors import CRSError, UsageError
from geo_township.measure import area, area_by, area_m2, length, length_m
from geo_township.units import M2_PER_MU, from_m2, to_m2

GEOD = Geod(ellps="GRS80")  # CGCS2000 and GRS80 share a and f to 1e-11


def geod_area(geom_lonlat) -> float:
    return abs(GEOD.geometry_area_perimeter(geom_lonlat)[0])


def test_mu_is_a_fifteenth_of_a_hectare():
    assert M2_PER_MU == pytest.approx(666.6666666667)
    assert from_m2(10_000, "mu") == pytest.approx(15.0)
    assert to_m2(1, "ha") == 10_000
    assert from_m2(1_000_000, "km2") == 1


def test_100m_square_is_15_mu_planar_in_its_gk_zone():
    square = gpd.GeoSeries([box(500_000, 3_375_000, 500_100, 3_375_100)], crs=4548)
    assert area(square, unit="mu", method="planar")[0] == pytest.approx(15.0, abs=1e-9)
    assert area(square, unit="ha", method="planar")[0] == pytest.approx(1.0, abs=1e-12)
    assert area(square, unit="m2", method="planar")[0] == pytest.approx(10_000.0, abs=1e-7)


def test_ellipsoidal_agrees_with_geod_to_1e9():
    square = gpd.GeoSeries([box(512_345, 3_375_000, 512_445, 3_375_100)], crs=4548)
    expected = geod_area(square.to_crs(4490).iloc[0])
    assert area_m2(square)[0] == pytest.approx(expected, rel=1e-9)


def test_ellipsoidal_many_parcels_across_a_township():
    rng = np.random.default_rng(1)
    x0 = rng.uniform(490_000, 512_000, 200)
    y0 = rng.uniform(3_370_000, 3_380_000, 200)
    polys = [Polygon([(x, y), (x + rng.uniform(50, 300), y + 20), (x + 250, y + rng.uniform(80, 300)),
                      (x - 30, y + 200)]) for x, y in zip(x0, y0, strict=True)]
    parcels = gpd.GeoSeries(polys, crs=4548)
    expected = np.array([geod_area(p) for p in parcels.to_crs(4490)])
    # Edges drawn straight in the GK zone are not geodesics; over a 22 km township that
    # ambiguity stays below 5e-8 of the area (< 0.003 m² on a 100-mu parcel).
    np.testing.assert_allclose(area_m2(parcels), expected, rtol=5e-8)
    assert area_m2(parcels).sum() == pytest.approx(expected.sum(), rel=1e-8)


def test_planar_exceeds_ellipsoidal_by_the_zone_scale_factor():
    # 60 km east of the central meridian the GK scale factor is about 1 + (60/6371)²/2 ≈ 1 + 4.4e-5, areas twice that.
    square = gpd.GeoSeries([box(560_000, 3_375_000, 560_100, 3_375_100)], crs=4548)
    ratio = area_m2(square, method="planar")[0] / area_m2(square)[0]
    assert ratio - 1 == pytest.approx(2 * 0.5 * (60 / 6371.0) ** 2, rel=0.05)


def test_planar_area_of_lonlat_data_uses_the_gk_zone():
    square_gk = box(500_000, 3_375_000, 500_100, 3_375_100)
    lonlat = gpd.GeoSeries([square_gk], crs=4548).to_crs(4490)
    assert area_m2(lonlat, method="planar")[0] == pytest.approx(10_000.0, rel=1e-9)


def test_length_geodesic_and_planar():
    line = gpd.GeoSeries([LineString([(117.4, 30.4), (117.5, 30.45), (117.6, 30.5)])], crs=4490)
    _, _, d1 = GEOD.inv(117.4, 30.4, 117.5, 30.45)
    _, _, d2 = GEOD.inv(117.5, 30.45, 117.6, 30.5)
    assert length_m(line)[0] == pytest.approx(d1 + d2, rel=1e-12)
    assert length(line, unit="km")[0] == pytest.approx((d1 + d2) / 1000, rel=1e-12)
    straight = gpd.GeoSeries([LineString([(500_000, 3_375_000), (503_000, 3_379_000)])], crs=4548)
    assert length_m(straight, method="planar")[0] == pytest.approx(5000.0)


def test_length_does_not_join_parts_of_a_multiline():
    multi = gpd.GeoSeries([shapely.MultiLineString([[(500_000, 3_375_000), (500_100, 3_375_000)],
                                                    [(600_000, 3_375_000), (600_100, 3_375_000)]])], crs=4548)
    assert length_m(multi, method="planar")[0] == pytest.approx(200.0)
    assert length_m(multi)[0] == pytest.approx(200.0, rel=1e-3)


def test_area_by_groups_and_total():
    gdf = gpd.GeoDataFrame({"village": ["甲", "乙", "甲", None]},
                           geometry=[box(500_000, 3_375_000, 500_100, 3_375_100),
                                     box(500_200, 3_375_000, 500_300, 3_375_200),
                                     box(500_400, 3_375_000, 500_500, 3_375_050),
                                     box(500_600, 3_375_000, 500_700, 3_375_100)], crs=4548)
    table = area_by(gdf, "village", unit="mu", method="planar").set_index("group")
    assert table.loc["甲", "area_mu"] == pytest.approx(22.5)
    assert table.loc["乙", "area_mu"] == pytest.approx(30.0)
    assert table.loc["(none)", "area_mu"] == pytest.approx(15.0)
    assert table.loc["Total", "area_mu"] == pytest.approx(67.5)
    assert table.loc["Total", "count"] == 4
    assert list(table.index)[-1] == "Total"


def test_area_by_unknown_field():
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[box(0, 0, 1, 1)], crs=4548)
    with pytest.raises(UsageError, match="no field 'b'"):
        area_by(gdf, "b")


def test_naive_geometries_are_refused():
    with pytest.raises(CRSError):
        area_m2(gpd.GeoSeries([box(0, 0, 1, 1)]))


def test_100k_parcels_vectorised():
    """Not a timing assertion: proves the vectorised path handles 100,000 parcels."""
    rng = np.random.default_rng(0)
    x = rng.uniform(480_000, 520_000, 100_000)
    y = rng.uniform(3_360_000, 3_390_000, 100_000)
    parcels = gpd.GeoSeries(shapely.box(x, y, x + 50, y + 40), crs=4548)
    values = area(parcels, unit="mu")
    assert values.shape == (100_000,)
    assert np.allclose(values, 3.0, rtol=2e-4)  # 2000 m² = 3 mu, within the zone's scale


def test_sample_plots_against_local_projections_and_geod(sample_dir):
    """Every plot of the sample: against an equal-area projection centred on that plot, and
    against pyproj.Geod within Geod's own floating-point noise (sums on the scale of the
    ellipsoid, ≈ 0.005 m² per polygon).

    The file's edges are straight in its Gauss–Krüger zone, so the reference plot is
    densified to 1 m vertices there before it is projected: projecting only the corners
    would measure edges straight in the equal-area plane instead, a different polygon by up
    to 2.5e-7 of its area on these plots (the old reference's rel=1e-8 held only because the
    tool then measured that same second polygon)."""
    from geo_township.crs import equal_area_crs

    plots = gpd.read_file(sample_dir / "forest_plots.shp", encoding="gb18030")
    ours = area_m2(plots.geometry)
    lonlat = plots.geometry.to_crs(4490)
    geod = np.array([geod_area(g) for g in lonlat])
    assert np.abs(ours - geod).max() < 0.02  # m²
    assert ours.sum() == pytest.approx(geod.sum(), rel=1e-9)
    dense = gpd.GeoSeries(shapely.segmentize(plots.geometry.to_numpy(), 1.0), crs=plots.crs)
    for i in range(0, len(plots), 97):
        c = lonlat.iloc[i].centroid
        local = dense.iloc[[i]].to_crs(equal_area_crs(c.x, c.y)).area.iloc[0]
        assert ours[i] == pytest.approx(local, rel=1e-9)


@pytest.mark.parametrize(("epsg", "east"), [(4548, 440_000), (4549, 560_000), (32650, 680_000)])
def test_narrow_parcels_in_their_zone_against_a_densified_equal_area_projection(epsg, east):
    """Parcels up to 1 km wide (measured in their transverse Mercator CRS with the areal
    scale at the centroid) and wider ones (projected again), 60–180 km off the central
    meridian where the scale changes fastest: each within 2e-9 of the same polygon
    densified to 2 m vertices and projected to an equal-area projection centred on it,
    and within Geod's noise of the geodesic area of the densified polygon."""
    from geo_township.crs import equal_area_crs

    rng = np.random.default_rng(7)
    sizes = [100, 300, 700, 1000, 2500, 8000]
    x0, y0 = rng.uniform(east - 5_000, east + 5_000, len(sizes)), rng.uniform(3_300_000, 3_320_000, len(sizes))
    polys = [Polygon([(x, y), (x + s, y + 0.1 * s), (x + 0.8 * s, y + s), (x - 0.1 * s, y + 0.6 * s)])
             for x, y, s in zip(x0, y0, sizes, strict=True)]
    parcels = gpd.GeoSeries(polys, crs=epsg)
    ours = area_m2(parcels)
    dense = gpd.GeoSeries(shapely.segmentize(parcels.to_numpy(), 2.0), crs=epsg)
    for i, _ in enumerate(sizes):
        c = dense.iloc[[i]].to_crs(4490).iloc[0].centroid
        local = dense.iloc[[i]].to_crs(equal_area_crs(c.x, c.y)).area.iloc[0]
        assert ours[i] == pytest.approx(local, rel=2e-9)
        geod = geod_area(dense.iloc[[i]].to_crs(4490).iloc[0])
        assert abs(ours[i] - geod) < 0.02  # m², Geod's own noise
    # a narrow parcel's area is its own: measured alone or among others, the same to the bit
    assert np.array_equal(np.concatenate([area_m2(parcels.iloc[[i]]) for i in range(3)]), ours[:3])


@pytest.mark.parametrize("method", ["ellipsoidal", "planar"])
def test_area_in_chunks_is_the_area_all_at_once(method, monkeypatch):
    """Large layers are projected a chunk at a time, with the one projection chosen from the
    whole extent: every area is the same to the last bit."""
    from geo_township import measure

    rng = np.random.default_rng(4)
    x, y = rng.uniform(480_000, 520_000, 101), rng.uniform(3_340_000, 3_380_000, 101)
    parcels = gpd.GeoSeries(shapely.buffer(shapely.points(x, y), rng.uniform(10, 300, 101), quad_segs=5),
                            crs=4548)
    whole = area_m2(parcels, method=method)
    monkeypatch.setattr(measure, "AREA_CHUNK", 7)
    assert np.array_equal(area_m2(parcels, method=method), whole)


def test_group_labels_one_text_per_value_and_missing_as_none():
    import pandas as pd

    from geo_township.measure import group_labels

    values = pd.Series(["甲村", None, 1.0, 2.5, 3, np.nan, "甲村", pd.NA, "1"], index=range(10, 19))
    labels = group_labels(values)
    assert labels.tolist() == ["甲村", "(none)", "1", "2.5", "3", "(none)", "甲村", "(none)", "1"]
    assert labels.index.tolist() == list(range(10, 19))
