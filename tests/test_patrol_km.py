"""Kilometres walked on patrol: per chief, per chief and month, and per reach (the track
within the patrol distance of the reach), against pyproj.Geod on hand-made tracks whose
part inside each buffer is known by construction, and on the sample."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import LineString

from geo_township.layers import load_township
from geo_township.patrols import match_chiefs, patrol_coverage

CRS = "EPSG:4548"  # CGCS2000 3-degree GK, CM 117°E
X0, Y0 = 500_000.0, 3_380_000.0
GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid to 1e-11
TO_LONLAT = Transformer.from_crs(CRS, 4490, always_xy=True)


def geod_km(*points) -> float:
    """Geodesic length (km) of the polyline through GK points, by pyproj.Geod."""
    lon, lat = TO_LONLAT.transform(*zip(*points, strict=True))
    return float(GEOD.line_length(lon, lat)) / 1000.0


# Two reaches: "east" along y = Y0 (x 0…4000) and "north" along x = X0 + 6000 (y 0…3000).
RIVERS = gpd.GeoDataFrame({"reach_id": ["east", "north"], "chief": ["甲", "乙"]},
                          geometry=[LineString([(X0, Y0), (X0 + 4000, Y0)]),
                                    LineString([(X0 + 6000, Y0), (X0 + 6000, Y0 + 3000)])], crs=CRS)
# walker, date, vertices. The buffer's straight sides are exact, so the part of a track
# inside the 50 m patrol distance is known by construction (never near a reach's round end).
A = [(X0 + 1000, Y0 + 20), (X0 + 2000, Y0 + 20), (X0 + 2000, Y0 + 1000)]  # along east, then away north
B = [(X0 + 3000, Y0 - 300), (X0 + 3000, Y0 + 300)]                         # across east
C = [(X0 + 6030, Y0 + 500), (X0 + 6030, Y0 + 2500), (X0 + 5000, Y0 + 2500)]  # along north, then away west
D = [(X0 + 500, Y0 - 10), (X0 + 1500, Y0 - 10)]                            # along east, by a non-chief
TRACKS = [("甲", "2023-03-02", A), ("甲", "2023-04-05", B), ("乙", "2023-03-20", C), ("丙", "2023-04-09", D)]
INSIDE = {  # the part of each track within 50 m of a reach
    ("east", "A"): [(X0 + 1000, Y0 + 20), (X0 + 2000, Y0 + 20), (X0 + 2000, Y0 + 50)],
    ("east", "B"): [(X0 + 3000, Y0 - 50), (X0 + 3000, Y0 + 50)],
    ("north", "C"): [(X0 + 6030, Y0 + 500), (X0 + 6030, Y0 + 2500), (X0 + 6000 - 50, Y0 + 2500)],
    ("east", "D"): D,
}


def patrols() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"chief": [w for w, _, _ in TRACKS], "date": [pd.Timestamp(d) for _, d, _ in TRACKS]},
                            geometry=[LineString(v) for *_, v in TRACKS], crs=CRS)


@pytest.fixture(scope="module")
def tables():
    return patrol_coverage(RIVERS, patrols(), buffer_m=50)[0]


def test_walked_per_chief_is_the_geodesic_length_of_their_tracks(tables):
    chiefs = tables["patrol_chiefs"].set_index("river_chief")
    assert chiefs.loc["甲", "walked_km"] == pytest.approx(geod_km(*A) + geod_km(*B), abs=1e-9)
    assert chiefs.loc["乙", "walked_km"] == pytest.approx(geod_km(*C), abs=1e-9)
    assert set(chiefs.index) == {"甲", "乙"}  # 丙 is chief of nothing: walks count for no chief


def test_walked_per_chief_and_month(tables):
    monthly = tables["patrol_monthly"].set_index(["river_chief", "month"])["walked_km"]
    assert monthly[("甲", "2023-03")] == pytest.approx(geod_km(*A), abs=1e-9)
    assert monthly[("甲", "2023-04")] == pytest.approx(geod_km(*B), abs=1e-9)
    assert monthly[("乙", "2023-03")] == pytest.approx(geod_km(*C), abs=1e-9)
    assert monthly[("乙", "2023-04")] == 0


def test_walked_per_reach_is_the_track_within_the_patrol_distance(tables):
    reaches = tables["patrol_reaches"].set_index("reach")["walked_km"]
    east = sum(geod_km(*v) for (reach, _), v in INSIDE.items() if reach == "east")  # A, B and 丙's D
    north = geod_km(*INSIDE[("north", "C")])
    assert reaches["east"] == pytest.approx(east, abs=1e-6)  # within a millimetre
    assert reaches["north"] == pytest.approx(north, abs=1e-6)
    # the check on the construction: the inside parts are shorter than the tracks
    assert north < geod_km(*C) and geod_km(*INSIDE[("east", "A")]) < geod_km(*A)


def test_walked_is_geodesic_whatever_the_method():
    planar = patrol_coverage(RIVERS, patrols(), buffer_m=50, method="planar")[0]
    ellipsoidal = patrol_coverage(RIVERS, patrols(), buffer_m=50, method="ellipsoidal")[0]
    for name in ("patrol_chiefs", "patrol_monthly", "patrol_reaches"):
        assert np.allclose(planar[name]["walked_km"], ellipsoidal[name]["walked_km"], atol=1e-12), name


def test_columns_sit_next_to_coverage(tables):
    assert list(tables["patrol_chiefs"].columns[:7]) == ["river_chief", "chief_level", "reaches", "length_km",
                                                         "tracks", "walked_km", "patrolled_km"]
    assert list(tables["patrol_monthly"].columns) == ["river_chief", "month", "tracks", "walked_km", "length_km",
                                                      "patrolled_km", "coverage_pct"]
    assert "walked_km" in tables["patrol_reaches"].columns


def test_a_period_counts_only_its_tracks():
    got = patrol_coverage(RIVERS, patrols(), buffer_m=50, start=pd.Timestamp("2023-04-01").date())[0]
    chiefs = got["patrol_chiefs"].set_index("river_chief")["walked_km"]
    assert chiefs["甲"] == pytest.approx(geod_km(*B), abs=1e-9) and chiefs["乙"] == 0
    reaches = got["patrol_reaches"].set_index("reach")["walked_km"]
    assert reaches["east"] == pytest.approx(geod_km(*INSIDE[("east", "B")]) + geod_km(*D), abs=1e-6)
    assert reaches["north"] == 0


def test_no_tracks_and_no_distance_walk_nothing():
    none = patrols().iloc[:0]
    got = patrol_coverage(RIVERS, none, buffer_m=50)[0]
    assert (got["patrol_reaches"]["walked_km"] == 0).all()
    zero = patrol_coverage(RIVERS, patrols(), buffer_m=0)[0]
    assert (zero["patrol_reaches"]["walked_km"] == 0).all()
    assert zero["patrol_chiefs"].set_index("river_chief").loc["乙", "walked_km"] == pytest.approx(geod_km(*C))


def test_sample_walked_km_per_chief_against_geod(sample_dir):
    town = load_township(sample_dir)
    rivers, tracks = town.gdf("rivers"), town.gdf("patrols")
    got = patrol_coverage(rivers, tracks, buffer_m=town.config.parameters["patrol_buffer_m"])[0]
    chiefs = got["patrol_chiefs"].set_index("river_chief")["walked_km"]
    lonlat = tracks.to_crs(4490)
    km = pd.Series([GEOD.geometry_length(g) / 1000.0 for g in lonlat.geometry], index=tracks.index)
    walker = match_chiefs(tracks["chief"], sorted({str(c) for c in rivers["chief"].dropna()}))
    want = km.groupby(walker).sum().reindex(chiefs.index, fill_value=0.0)
    assert np.allclose(chiefs.to_numpy(), want.to_numpy(), rtol=1e-9, atol=1e-9)
    assert chiefs.sum() > 100  # the sample's chiefs walk hundreds of kilometres in the year
