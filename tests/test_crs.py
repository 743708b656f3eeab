"""CRS inference, zone choice and the GCJ-02/BD-09 formulas."""

import numpy as np
import pytest

from geo_township.crs import (
    bd09_to_gcj02,
    fit_rows,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    gk3_epsg,
    gk3_zone_epsg,
    infer_crs,
    wgs84_to_gcj02,
    working_crs_for,
)
from geo_township.errors import CRSError


@pytest.mark.parametrize("lon, epsg", [(117.5, 4548), (116.4, 4548), (115.4, 4547), (118.6, 4549), (75.2, 4534),
                                       (134.9, 4554), (113.9, 4547), (112.4, 4546)])
def test_gk3_zone_is_the_nearest_central_meridian(lon, epsg):
    # EPSG:4534 is CM 75°E; each next code is 3° further east.
    assert gk3_epsg(lon) == epsg


def test_gk3_outside_china_is_refused():
    with pytest.raises(CRSError):
        gk3_epsg(10.0)


def test_zone_numbers_and_central_meridians():
    assert gk3_zone_epsg(39) == 4527  # zone 39 with prefix, CM 117°E (4513 is zone 25)
    assert gk3_zone_epsg(117) == 4548
    with pytest.raises(CRSError, match="gk_zone"):
        gk3_zone_epsg(50)


def test_lonlat_in_china_is_cgcs2000():
    inferred = infer_crs(np.array([117.4, 117.6]), np.array([30.4, 30.6]))
    assert inferred.crs.to_epsg() == 4490


def test_zone_prefixed_eastings():
    inferred = infer_crs(np.array([39_512_345.0, 39_520_000.0]), np.array([3_375_000.0, 3_380_000.0]))
    assert inferred.crs.to_epsg() == 4527
    assert "zone 39" in inferred.reason
    assert inferred.crs.name.endswith("3-degree Gauss-Kruger zone 39")


def test_six_degree_zone_prefixed_eastings():
    inferred = infer_crs(np.array([20_512_345.0]), np.array([3_375_000.0]))
    assert inferred.crs.to_epsg() == 4498  # 6-degree zone 20 (CM 117°E)


def test_six_digit_eastings_need_a_named_zone():
    x, y = np.array([512_345.0, 520_000.0]), np.array([3_375_000.0, 3_380_000.0])
    with pytest.raises(CRSError) as err:
        infer_crs(x, y)
    assert "gk_zone" in err.value.hint
    assert infer_crs(x, y, gk_zone=117).crs.to_epsg() == 4548
    assert infer_crs(x, y, gk_zone=39).crs.to_epsg() == 4527


def test_unrecognisable_coordinates():
    with pytest.raises(CRSError, match="match no rule"):
        infer_crs(np.array([1e9]), np.array([1e9]))


def test_working_crs_outside_china_is_utm():
    assert working_crs_for(2.3, 2.4, 48.7).to_epsg() == 32631
    assert working_crs_for(117.4, 117.6, 30.5).to_epsg() == 4548


def test_gcj02_against_published_reference():
    # Reference pair used by the open-source coordtransform implementations' documentation
    # (wandergis/coordtransform README): WGS84 (116.404, 39.915) -> GCJ-02 (116.41024449916938, 39.91640428150164).
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert lon == pytest.approx(116.41024449916938, abs=1e-9)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)


def test_gcj02_round_trip_and_shift_size():
    lon = np.array([117.5, 119.8262467, 104.06])
    lat = np.array([30.5, 29.5441383, 30.67])
    glon, glat = wgs84_to_gcj02(lon, lat)
    # the shift is a few hundred metres in China
    shift_m = np.hypot((glon - lon) * 111_320 * np.cos(np.radians(lat)), (glat - lat) * 110_574)
    assert ((shift_m > 100) & (shift_m < 700)).all()
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert np.allclose(wlon, lon, atol=1e-8) and np.allclose(wlat, lat, atol=1e-8)


def test_gcj02_does_not_shift_outside_china():
    lon, lat = wgs84_to_gcj02(2.35, 48.85)
    assert (lon, lat) == (2.35, 48.85)


def test_bd09_round_trip():
    blon, blat = gcj02_to_bd09(116.41024449916938, 39.91640428150164)
    assert abs(blon - 116.41024449916938) > 0.005  # Baidu adds about 0.0065°
    glon, glat = bd09_to_gcj02(blon, blat)
    assert glon == pytest.approx(116.41024449916938, abs=2e-6)
    assert glat == pytest.approx(39.91640428150164, abs=2e-6)


def test_one_mistyped_row_does_not_hide_the_crs():
    lon = np.full(20, 117.45)
    lat = np.full(20, 30.48)
    lon[7] = 17.45  # the leading 1 dropped
    fit = fit_rows(lon, lat)
    assert fit.inferred.crs.to_epsg() == 4490
    assert np.flatnonzero(~fit.fits).tolist() == [7] and fit.misfits == 1 and fit.rows == 20
    assert fit.inferred.reason == ("longitude/latitude in China → CGCS2000 (EPSG:4490); 1 of 20 rows do not fit it "
                                   "and are left out")
    assert infer_crs(lon, lat).crs.to_epsg() == 4490
    assert infer_crs(lon[:7], lat[:7]).reason == "longitude/latitude in China → CGCS2000 (EPSG:4490)"  # as before


def test_no_clear_majority_is_still_an_error():
    lon = np.array([117.45] * 15 + [17.45] * 5)
    lat = np.full(20, 30.48)
    with pytest.raises(CRSError, match="match no rule") as err:
        infer_crs(lon, lat)
    assert "only 15 of 20 rows fit longitude/latitude in China" in err.value.message
    assert err.value.hint.startswith("if the other rows are typos, fix them") and 'crs = "EPSG:4490"' in err.value.hint


def test_majority_is_counted_in_rows_not_vertices():
    # ten squares of 5 vertices; one has a single bad vertex: 9 of 10 rows fit (not 49 of 50 vertices)
    x = np.tile([117.4, 117.5, 117.5, 117.4, 117.4], 10)
    y = np.tile([30.4, 30.4, 30.5, 30.5, 30.4], 10)
    x[12] = 1174.0
    groups = np.repeat(np.arange(10), 5)
    fit = fit_rows(x, y, groups=groups)
    assert fit.misfits == 1 and fit.rows == 10 and "1 of 10 rows" in fit.inferred.reason
    x[3] = 11.74  # a second square: 8 of 10 rows no longer make 90 %
    with pytest.raises(CRSError, match="only 8 of 10 rows"):
        fit_rows(x, y, groups=groups)


def test_zone_prefixed_eastings_by_majority():
    x = np.array([39_512_345.0] * 12 + [3_951_234.5])  # one easting with a digit lost
    y = np.full(13, 3_375_000.0)
    fit = fit_rows(x, y)
    assert fit.inferred.crs.to_epsg() == 4527 and fit.misfits == 1
    assert fit.rule == "Gauss–Krüger metres with zone prefix 39"


def test_in_a_small_file_all_rows_but_one_will_do():
    assert fit_rows(np.array([117.4, 117.5, 17.5]), np.array([30.4, 30.5, 30.5])).misfits == 1
    with pytest.raises(CRSError):
        infer_crs(np.array([117.4, 17.5]), np.array([30.4, 30.5]))  # one of two is no majority
