"""Rivers: lengths against hand-worked lines, zones in metres checked by area, features in
zones, patrol coverage on hand-made tracks covering known fractions."""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _rivers_township import CRS, X0, Y0, lonlat, make_township
from pyproj import Geod
from shapely.geometry import LineString, box

from geo_township.errors import CRSError, FieldError, UsageError
from geo_township.export import export_sets
from geo_township.layers import load_township
from geo_township.patrols import match_chiefs, patrol_coverage
from geo_township.rivers import (
    features_in_zones,
    river_lengths,
    river_report,
)
from geo_township.units import M2_PER_MU
from geo_township.webmap.layers_rivers import river_overlays
from geo_township.webmap.registry import map_overlays
from geo_township.zones import management_zones, reach_keys

GEOD = Geod(ellps="GRS80")  # CGCS2000 and GRS80 share a and f to 1e-11


def geod_m(*points_xy) -> float:
    """Geodesic length of the polyline through GK points, computed by pyproj.Geod."""
    lon, lat = zip(*(lonlat(x, y) for x, y in points_xy), strict=True)
    return float(GEOD.line_length(lon, lat))


def row(table: pd.DataFrame, col: str, value) -> pd.Series:
    hits = table[table[col] == value]
    assert len(hits) == 1, (value, table)
    return hits.iloc[0]


@pytest.fixture
def township(tmp_path):
    return load_township(make_township(tmp_path / "t"))


@pytest.fixture
def loaded(township):
    return township.gdf("rivers"), township.gdf("villages")


# --------------------------------------------------------------------------- lengths


def test_straight_reach_split_at_a_village_boundary_planar(loaded):
    rivers, villages = loaded
    tables = river_lengths(rivers, villages, method="planar")
    by_village = tables["by_village"]
    # R1 runs 3000 m east; the boundary 甲村|乙村 is at +1000 and 乙村 ends at +2500.
    assert row(by_village, "village", "甲村")["length_km"] == pytest.approx(1.0 + 1.0, abs=1e-9)  # R1 + R3
    assert row(by_village, "village", "乙村")["length_km"] == pytest.approx(1.5 + 2.0, abs=1e-9)  # R1 + R2
    assert row(by_village, "village", "(outside)")["length_km"] == pytest.approx(0.5, abs=1e-9)
    assert row(by_village, "village", "Total")["length_km"] == pytest.approx(6.0, abs=1e-9)
    assert row(tables["by_reach"], "reach", "R1")["villages_crossed"] == "乙村、甲村"


def test_ellipsoidal_lengths_agree_with_geod_piece_by_piece(loaded):
    rivers, villages = loaded
    tables = river_lengths(rivers, villages, method="ellipsoidal")
    west = geod_m((X0, Y0), (X0 + 1000, Y0)) + geod_m((X0 - 500, Y0 + 2800), (X0 + 500, Y0 + 2800))
    east = geod_m((X0 + 1000, Y0), (X0 + 2500, Y0)) + geod_m((X0 + 1500, Y0 + 500), (X0 + 1500, Y0 + 2500))
    outside = geod_m((X0 + 2500, Y0), (X0 + 3000, Y0))
    by_village = tables["by_village"]
    assert row(by_village, "village", "甲村")["length_km"] * 1000 == pytest.approx(west, rel=1e-9)
    assert row(by_village, "village", "乙村")["length_km"] * 1000 == pytest.approx(east, rel=1e-9)
    assert row(by_village, "village", "(outside)")["length_km"] * 1000 == pytest.approx(outside, rel=1e-9)
    r1 = geod_m((X0, Y0), (X0 + 3000, Y0))
    assert row(tables["by_reach"], "reach", "R1")["length_km"] * 1000 == pytest.approx(r1, rel=1e-9)
    # near the central meridian the ellipsoid and the GK plane differ by < 1e-6 here
    assert r1 == pytest.approx(3000.0, rel=1e-5)


def test_lengths_per_chief_and_level(loaded):
    rivers, villages = loaded
    tables = river_lengths(rivers, villages, method="planar")
    by_chief = tables["by_chief"]
    assert row(by_chief, "river_chief", "张伟")["length_km"] == pytest.approx(4.0)
    assert row(by_chief, "river_chief", "张伟")["reaches"] == 2
    assert row(by_chief, "river_chief", "李娜")["length_km"] == pytest.approx(2.0)
    assert row(by_chief, "river_chief", "Total")["length_km"] == pytest.approx(6.0)
    by_level = tables["by_level"]
    assert list(by_level["chief_level"]) == ["township", "village", "Total"]
    assert row(by_level, "chief_level", "township")["length_km"] == pytest.approx(4.0)
    assert row(by_level, "chief_level", "Total")["chiefs"] == 2


def test_reach_key_falls_back_to_name_then_feature_number():
    gdf = gpd.GeoDataFrame({"reach_id": ["A", None, None], "name": ["x", "清溪", None]},
                           geometry=[LineString([(0, 0), (1, 0)])] * 3, crs=CRS)
    assert list(reach_keys(gdf)) == ["A", "清溪", "feature 3"]


def test_features_of_one_reach_are_summed_and_lakes_are_kept_apart():
    gdf = gpd.GeoDataFrame(
        {"reach_id": ["A", "A", "L"], "chief": ["甲", "甲", "乙"]},
        geometry=[LineString([(X0, Y0), (X0 + 100, Y0)]), LineString([(X0 + 100, Y0), (X0 + 300, Y0)]),
                  box(X0, Y0 + 1000, X0 + 100, Y0 + 1200)], crs=CRS)
    tables = river_lengths(gdf, method="planar")
    assert list(tables["by_reach"]["reach"]) == ["A", "Total"]
    assert row(tables["by_reach"], "reach", "A")["length_km"] == pytest.approx(0.3)
    lake = row(tables["lakes"], "reach", "L")
    assert lake["area_km2"] == pytest.approx(0.02)
    assert lake["shoreline_km"] == pytest.approx(0.6)


# --------------------------------------------------------------------------- zones


def test_zone_of_a_straight_segment_has_the_area_of_a_stadium_in_metres():
    # a 2 km reach given in lon/lat: the buffer must still be 30 m, not 30 degrees
    a, b = lonlat(X0 + 10_000, Y0), lonlat(X0 + 12_000, Y0)
    rivers = gpd.GeoDataFrame({"reach_id": ["A"]}, geometry=[LineString([a, b])], crs=4490)
    zones = management_zones(rivers, default_zone_m=30)
    assert zones.crs.to_epsg() == 4490  # handed back in the caller's CRS
    gk = zones.to_crs(4548).area.iloc[0]
    length = rivers.to_crs(4548).length.iloc[0]
    stadium = 2 * length * 30 + math.pi * 30 ** 2
    assert length == pytest.approx(2000.0, rel=1e-6)
    assert gk == pytest.approx(stadium, rel=2e-3 * math.pi * 900 / stadium)  # round ends within 0.2%
    # the ellipsoidal zone area agrees with pyproj.Geod on the returned polygon
    geod_area = abs(GEOD.geometry_area_perimeter(zones.geometry.iloc[0])[0])
    assert zones["zone_area_mu"].iloc[0] * M2_PER_MU == pytest.approx(geod_area, rel=1e-6)


def test_zone_width_per_reach_default_and_dissolve(loaded):
    rivers, _ = loaded
    zones = management_zones(rivers, default_zone_m=20, method="planar").set_index("reach")
    assert zones.loc["R1", "zone_m"] == 30 and zones.loc["R3", "zone_m"] == 10
    assert zones.loc["R2", "zone_m"] == 20  # blank zone_m takes the default
    for reach, length, width in (("R1", 3000, 30), ("R2", 2000, 20), ("R3", 1000, 10)):
        expected = (2 * length * width + math.pi * width ** 2) / M2_PER_MU
        assert zones.loc[reach, "zone_area_mu"] == pytest.approx(expected, rel=1e-3)
    # two features of one reach make one zone
    two = gpd.GeoDataFrame({"reach_id": ["A", "A"]}, geometry=[LineString([(X0, Y0), (X0 + 100, Y0)]),
                                                             LineString([(X0 + 100, Y0), (X0 + 100, Y0 + 100)])],
                           crs=CRS)
    zone = management_zones(two, default_zone_m=10)
    assert len(zone) == 1 and zone.geometry.iloc[0].geom_type == "Polygon"


def test_zone_errors():
    line = [LineString([(X0, Y0), (X0 + 100, Y0)])]
    with pytest.raises(FieldError, match="negative"):
        management_zones(gpd.GeoDataFrame({"reach_id": ["A"], "zone_m": [-5.0]}, geometry=line, crs=CRS),
                         default_zone_m=30)
    with pytest.raises(CRSError):
        management_zones(gpd.GeoDataFrame({"reach_id": ["A"]}, geometry=line), default_zone_m=30)
    with pytest.raises(UsageError):
        management_zones(gpd.GeoDataFrame({"reach_id": ["A"]}, geometry=line, crs=CRS), default_zone_m=-1)


# --------------------------------------------------------------------------- inside the zones


def test_features_in_zones_with_distance_and_area_inside(township):
    rivers = township.gdf("rivers")
    zones = management_zones(rivers, default_zone_m=30, method="planar")
    layers = {k: township.gdf(k) for k in ("sand_sites", "outfalls", "land_transfers", "forest_plots")}
    table, features = features_in_zones(zones, rivers, layers, method="planar", villages=township.gdf("villages"))
    got = {(r.layer, r.feature): r for r in table.itertuples()}
    assert set(got) == {("sand_sites", "S1"), ("sand_sites", "S2"), ("outfalls", "O1"), ("land_transfers", "P1"),
                        ("forest_plots", "F1")}
    assert got["sand_sites", "S1"].reach == "R1" and got["sand_sites", "S1"].distance_m == pytest.approx(20.0)
    assert got["sand_sites", "S2"].reach == "R2" and got["sand_sites", "S2"].distance_m == pytest.approx(0.0)
    assert got["outfalls", "O1"].river_chief == "张伟" and got["outfalls", "O1"].distance_m == pytest.approx(25.0)
    # P1 spans 20–60 m north of R1: 10 m × 100 m of it lies inside the 30 m zone
    assert got["land_transfers", "P1"].inside_mu == pytest.approx(1000 / M2_PER_MU, rel=1e-9)
    assert got["land_transfers", "P1"].distance_m == pytest.approx(20.0)
    assert list(features["in_zone_land_transfers"]["parcel_id"]) == ["P1"]
    # F1's south edge is 5 m from R3 (10 m zone): 5 m × 200 m inside, chief 张伟
    f1 = got["forest_plots", "F1"]
    assert (f1.reach, f1.river_chief, f1.village) == ("R3", "张伟", "甲村")
    assert f1.distance_m == pytest.approx(5.0)
    assert f1.inside_mu == pytest.approx(1000 / M2_PER_MU, rel=1e-9)  # along R3's straight side, clear of its ends
    assert list(features["in_zone_forest_plots"]["plot_id"]) == ["F1"]


def test_in_zone_villages_by_location_where_the_record_has_none(township):
    """Sand sites and outfalls of the hand-made township name no village: they get the one
    they lie in (甲村 west of x = +1000, 乙村 east of it); a blank in a village field too."""
    rivers = township.gdf("rivers")
    zones = management_zones(rivers, default_zone_m=30, method="planar")
    transfers = township.gdf("land_transfers").copy()
    transfers["village"] = None  # P1 (in 甲村) with its village left blank
    layers = {"sand_sites": township.gdf("sand_sites"), "outfalls": township.gdf("outfalls"),
              "land_transfers": transfers}
    assert "village" not in layers["sand_sites"].columns and "village" not in layers["outfalls"].columns
    table, features = features_in_zones(zones, rivers, layers, villages=township.gdf("villages"))
    village = dict(zip(table["feature"], table["village"], strict=True))
    assert village == {"S1": "甲村", "S2": "乙村", "O1": "乙村", "P1": "甲村"}
    assert table.attrs["villages_located"] == 4
    assert list(features["in_zone_sand_sites"]["village"]) == ["甲村", "乙村"]
    # without a villages layer the village stays blank rather than guessed
    table, _ = features_in_zones(zones, rivers, layers)
    assert table["village"].isna().all() and table.attrs["villages_located"] == 0
    # and the whole report says how many it located
    result = river_report(township)
    rows = result.tables["in_zone"].set_index("feature")
    assert rows.loc["S1", "village"] == "甲村" and rows.loc["O1", "village"] == "乙村"
    assert any("village by location for 3 feature(s)" in n for n in result.notes)


def test_in_zone_agrees_with_a_plain_sjoin_on_plain_buffers(tmp_path):
    """The report's in-zone features against zones built here: each raw river feature
    buffered by its 管理范围 (30 m where blank) with shapely's own buffer, then sjoin."""
    folder = make_township(tmp_path / "t")
    result = river_report(load_township(folder))
    got = {(r.layer, r.feature, r.reach) for r in result.tables["in_zone"].itertuples()}

    rivers = gpd.read_file(folder / "rivers.gpkg")
    zones = gpd.GeoDataFrame({"reach": rivers["河段编号"]},
                             geometry=rivers.geometry.buffer(rivers["管理范围"].fillna(30.0)), crs=rivers.crs)
    raw = {
        "sand_sites": pd.read_csv(folder / "sand.csv", encoding="utf-8-sig"),
        "outfalls": pd.read_csv(folder / "outfalls.csv", encoding="utf-8-sig"),
    }
    layers = {k: gpd.GeoDataFrame({"id": df.iloc[:, 0]}, geometry=gpd.points_from_xy(df["东坐标"], df["北坐标"]),
                                  crs=CRS) for k, df in raw.items()}
    transfers = gpd.read_file(folder / "transfers.gpkg")
    layers["land_transfers"] = transfers.rename(columns={"地块编号": "id"})[["id", "geometry"]]
    forest = gpd.read_file(folder / "forest.gpkg")
    layers["forest_plots"] = forest.rename(columns={"小班号": "id"})[["id", "geometry"]]
    want = set()
    for kind_name, gdf in layers.items():
        joined = gpd.sjoin(gdf, zones, predicate="intersects")
        want |= {(kind_name, i, r) for i, r in zip(joined["id"], joined["reach"], strict=True)}
    assert got == want
    assert {k for k, *_ in want} == {"sand_sites", "outfalls", "land_transfers", "forest_plots"}


# --------------------------------------------------------------------------- patrols


def test_patrol_coverage_on_tracks_covering_known_fractions(township):
    tables, findings, split = patrol_coverage(township.gdf("rivers"), township.gdf("patrols"), buffer_m=50,
                                              min_coverage_pct=80, method="planar")
    monthly = tables["patrol_monthly"].set_index(["river_chief", "month"])
    assert monthly.loc[("张伟", "2022-03"), "coverage_pct"] == pytest.approx(1500 / 4000 * 100)
    assert monthly.loc[("张伟", "2022-04"), "coverage_pct"] == 0
    assert monthly.loc[("李娜", "2022-03"), "coverage_pct"] == pytest.approx(50.0)  # "李娜巡河" is 李娜's
    assert monthly.loc[("李娜", "2022-04"), "coverage_pct"] == pytest.approx(50.0)
    chiefs = tables["patrol_chiefs"].set_index("river_chief")
    assert chiefs.loc["李娜", "coverage_pct"] == pytest.approx(100.0)  # both halves over the period
    assert chiefs.loc["李娜", "mean_monthly_pct"] == pytest.approx(50.0)
    assert chiefs.loc["张伟", "mean_monthly_pct"] == pytest.approx(18.75)
    assert chiefs.loc["张伟", "last_patrol"] == pd.Timestamp("2022-03-05")
    reaches = tables["patrol_reaches"].set_index("reach")
    assert reaches.loc["R1", "patrolled_km"] == pytest.approx(2.5)  # 张伟's 1500 m + 王五's 1000 m
    assert reaches.loc["R3", "patrolled_km"] == 0
    assert list(tables["unpatrolled"]["reach"]) == ["R3"]
    below = {f.feature for f in findings if f.check == "coverage_below_minimum"}
    assert below == {"张伟", "李娜"}
    assert any(f.check == "not_patrolled" and f.feature == "R3" for f in findings)
    assert any(f.check == "track_not_a_chief" and f.feature == "王五" for f in findings)
    # the patrolled and unpatrolled stretches add up to the river
    lengths = split.assign(m=split.length).groupby("status")["m"].sum()
    assert lengths["patrolled"] == pytest.approx(2500 + 2000)
    assert lengths["unpatrolled"] == pytest.approx(500 + 1000)


def test_patrol_period_and_minimum(township):
    tables, findings, _ = patrol_coverage(township.gdf("rivers"), township.gdf("patrols"), buffer_m=50,
                                          start=dt.date(2022, 4, 1), end=dt.date(2022, 4, 30),
                                          min_coverage_pct=40, method="planar")
    assert list(tables["patrol_monthly"]["month"].unique()) == ["2022-04"]
    reaches = tables["patrol_reaches"].set_index("reach")
    assert reaches.loc["R1", "patrolled_km"] == pytest.approx(1.0)  # only 王五's April track
    assert set(tables["unpatrolled"]["reach"]) == {"R3"}
    assert {f.feature for f in findings if f.check == "coverage_below_minimum"} == {"张伟"}  # 李娜 has 50%


def test_patrol_coverage_ellipsoidal_share_matches_planar(township):
    ell, _, _ = patrol_coverage(township.gdf("rivers"), township.gdf("patrols"), buffer_m=50, method="ellipsoidal")
    plan, _, _ = patrol_coverage(township.gdf("rivers"), township.gdf("patrols"), buffer_m=50, method="planar")
    assert np.allclose(ell["patrol_monthly"]["coverage_pct"], plan["patrol_monthly"]["coverage_pct"], atol=1e-3)


def test_a_track_beside_the_river_covers_its_length_plus_the_reach_of_the_buffer():
    rivers = gpd.GeoDataFrame({"reach_id": ["A"], "chief": ["甲"]},
                              geometry=[LineString([(X0, Y0), (X0 + 4000, Y0)])], crs=CRS)
    # 30 m off the bank: the 50 m buffer reaches sqrt(50² − 30²) = 40 m past each end
    patrols = gpd.GeoDataFrame({"chief": ["甲"], "date": [pd.Timestamp("2023-01-02")]},
                               geometry=[LineString([(X0 + 1000, Y0 + 30), (X0 + 2000, Y0 + 30)])], crs=CRS)
    tables, _, _ = patrol_coverage(rivers, patrols, buffer_m=50, method="planar")
    got = tables["patrol_chiefs"].iloc[0]["patrolled_km"] * 1000
    assert got == pytest.approx(1000 + 2 * 40, abs=0.2)  # the round ends are polygons: within 0.2 m


def test_crossing_or_touching_a_reach_is_not_patrolling_it():
    rivers = gpd.GeoDataFrame({"reach_id": ["main", "trib"], "chief": ["甲", "乙"]},
                              geometry=[LineString([(X0, Y0), (X0 + 3000, Y0)]),
                                        LineString([(X0 + 1500, Y0), (X0 + 1500, Y0 + 2000)])], crs=CRS)
    patrols = gpd.GeoDataFrame(
        {"chief": ["甲", "丙"], "date": [pd.Timestamp("2023-01-02"), pd.Timestamp("2023-01-09")]},
        geometry=[LineString([(X0, Y0), (X0 + 3000, Y0)]),                        # along main, past the confluence
                  LineString([(X0 + 2500, Y0 - 400), (X0 + 2500, Y0 + 400)])],  # across main
        crs=CRS)
    tables, findings, _ = patrol_coverage(rivers, patrols, buffer_m=50, method="planar")
    reaches = tables["patrol_reaches"].set_index("reach")
    assert reaches.loc["trib", "patrolled_km"] == pytest.approx(0.05)  # 50 m touched at the confluence …
    assert reaches.loc["trib", "tracks"] == 0                         # … is not a patrol of it
    assert reaches.loc["main", "tracks"] == 1                         # the crossing (100 m) is not either
    assert list(tables["unpatrolled"]["reach"]) == ["trib"]
    assert [f.feature for f in findings if f.check == "not_patrolled"] == ["trib"]


def test_patrol_coverage_per_reach_and_month_on_hand_made_tracks(township):
    """Worked by hand from the tracks (see _rivers_township): each covers its own extent
    plus 50 m at each end, on the river line."""
    tables, _, _ = patrol_coverage(township.gdf("rivers"), township.gdf("patrols"), buffer_m=50,
                                   method="planar")
    table = tables["patrol_reach_monthly"]
    assert list(table.columns) == ["reach", "river_chief", "month", "length_km", "tracks", "patrolled_km",
                                   "coverage_pct", "anyone_pct"]
    got = table.set_index(["reach", "month"])
    want = {  # (reach, month): chief, length km, own tracks, own km, own %, anyone's %
        ("R1", "2022-03"): ("张伟", 3.0, 1, 1.5, 50.0, 50.0),          # 张伟 0…1500 of 3000
        ("R1", "2022-04"): ("张伟", 3.0, 0, 0.0, 0.0, 100 / 3),        # only 王五 (no chief) 2000…3000
        ("R2", "2022-03"): ("李娜", 2.0, 1, 1.0, 50.0, 50.0),          # "李娜巡河" 500…1500 of 2000
        ("R2", "2022-04"): ("李娜", 2.0, 1, 1.0, 50.0, 50.0),          # 李娜 1500…2500
        ("R3", "2022-03"): ("张伟", 1.0, 0, 0.0, 0.0, 0.0),
        ("R3", "2022-04"): ("张伟", 1.0, 0, 0.0, 0.0, 0.0),
    }
    assert set(got.index) == set(want)
    for key, (chief, km, tracks, done, pct, anyone) in want.items():
        row = got.loc[key]
        assert row["river_chief"] == chief, key
        assert row["length_km"] == pytest.approx(km), key
        assert row["tracks"] == tracks, key
        assert row["patrolled_km"] == pytest.approx(done, abs=1e-6), key
        assert row["coverage_pct"] == pytest.approx(pct, abs=1e-6), key
        assert row["anyone_pct"] == pytest.approx(anyone, abs=1e-6), key
    # ellipsoidal shares agree with the planar ones (lengths scale alike along a line)
    ell, _, _ = patrol_coverage(township.gdf("rivers"), township.gdf("patrols"), buffer_m=50)
    assert np.allclose(ell["patrol_reach_monthly"]["coverage_pct"], table["coverage_pct"], atol=1e-3)


def test_match_chiefs_exact_then_contained():
    got = match_chiefs(pd.Series(["张伟", " 张 伟 ", "张伟2022-03-05巡河", "王五", None, "李娜"]), ["张伟", "李娜"])
    assert [None if pd.isna(v) else v for v in got] == ["张伟", "张伟", "张伟", None, None, "李娜"]


def test_period_backwards_is_refused(township):
    with pytest.raises(UsageError, match="before it starts"):
        patrol_coverage(township.gdf("rivers"), township.gdf("patrols"), buffer_m=50,
                        start=dt.date(2022, 5, 1), end=dt.date(2022, 4, 1))


def test_a_period_open_at_one_end_past_the_record_says_so(township):
    """The tracks run 2022-03-05 … 2022-04-20. Only --from after the last (or only --to
    before the first) leaves no tracks: the message says that, not "swap --from and --to"."""
    rivers, patrols = township.gdf("rivers"), township.gdf("patrols")
    with pytest.raises(UsageError, match="on or after 2022-05-01") as err:
        patrol_coverage(rivers, patrols, buffer_m=50, start=dt.date(2022, 5, 1))
    assert "2022-03-05 to 2022-04-20" in str(err.value) and "swap" not in (err.value.hint or "")
    with pytest.raises(UsageError, match="on or before 2022-02-28") as err:
        patrol_coverage(rivers, patrols, buffer_m=50, end=dt.date(2022, 2, 28))
    assert "swap" not in (err.value.hint or "")
    # with both ends given, an empty period is a period nobody patrolled
    tables, _, _ = patrol_coverage(rivers, patrols, buffer_m=50, start=dt.date(2022, 5, 1),
                                   end=dt.date(2022, 5, 31))
    assert sorted(tables["unpatrolled"]["reach"]) == ["R1", "R2", "R3"]
    assert (tables["patrol_monthly"]["coverage_pct"] == 0).all()
    # --from alone inside the record runs to the last track
    tables, _, _ = patrol_coverage(rivers, patrols, buffer_m=50, start=dt.date(2022, 4, 1), method="planar")
    assert list(tables["patrol_monthly"]["month"].unique()) == ["2022-04"]


# --------------------------------------------------------------------------- the whole report, map, GeoPackage


def test_report_tables_and_provenance(township):
    result = river_report(township)
    assert result.title.startswith("Rivers of 河湖测试乡")
    assert row(result.table, "river_chief", "Total")["length_km"] == pytest.approx(6.0, rel=1e-5)
    for name in ("by_level", "by_reach", "by_village", "in_zone", "patrol_chiefs", "patrol_monthly",
                 "patrol_reach_monthly", "patrol_reaches", "unpatrolled"):
        assert name in result.tables, name
    assert result.provenance["length_method"] == "ellipsoidal"
    assert any("ellipsoidal" in n for n in result.notes)
    assert not result.has_errors
    assert set(result.features) >= {"zones", "in_zone_sand_sites", "in_zone_outfalls", "in_zone_land_transfers",
                                    "in_zone_forest_plots", "patrol_coverage"}


def test_report_without_patrols_refuses_a_period(tmp_path):
    township = load_township(make_township(tmp_path / "t", patrols=False))
    result = river_report(township)
    assert "patrol_chiefs" not in result.tables
    with pytest.raises(UsageError, match="no patrols layer"):
        river_report(township, start=dt.date(2022, 1, 1))


def test_overlays_for_the_map(township):
    overlays = {o.key: o for o in river_overlays(river_report(township), township)}
    assert set(overlays) == {"river_zones", "river_zone_points", "river_zone_polygons", "patrol_coverage"}
    assert len(overlays["river_zones"].gdf) == 3
    assert set(overlays["river_zone_points"].gdf["feature"]) == {"S1", "S2", "O1"}
    polygons = overlays["river_zone_polygons"].gdf
    assert sorted(polygons["feature"]) == ["F1", "P1"]
    assert {c.code for c in overlays["river_zone_polygons"].categories} == {"land_transfers", "forest_plots"}
    assert {c.code for c in overlays["patrol_coverage"].categories} == {"patrolled", "unpatrolled"}


def test_overlays_empty_without_rivers(tiny_township):
    assert map_overlays(load_township(tiny_township), ["rivers"]).overlays == []


def test_river_features_make_a_geopackage_qgis_opens(township, tmp_path):
    import pyogrio

    result = river_report(township)
    path = tmp_path / "rivers.gpkg"
    written, _ = export_sets(result.features, path)
    names = [n for n, _ in pyogrio.list_layers(path)]
    assert names == written and "zones" in names
    zones = gpd.read_file(path, layer="zones")
    assert zones.crs.to_epsg() == 4548 and sorted(zones["reach"]) == ["R1", "R2", "R3"]
    with pytest.raises(UsageError):
        export_sets(result.features, tmp_path / "x.shp")



# --------------------------------------------------------------------------- the bundled sample


def test_sample_patrols_find_what_was_planted(sample_dir):
    from geo_township.sample import planted_truth

    truth = planted_truth()["river_work"]
    result = river_report(load_township(sample_dir))
    assert sorted(result.tables["unpatrolled"]["reach"]) == truth["unpatrolled_reaches"]
    below = sorted(f.feature for f in result.findings if f.check == "coverage_below_minimum")
    assert below == truth["chiefs_below_80pct"]
    walkers = {f.feature for f in result.findings if f.check == "track_not_a_chief"}
    assert all(any(w in name for w in truth["non_chief_walkers"]) for name in walkers) and walkers
    # monthly coverage against the generator's own computation (a union of 50 m buffers, planar)
    monthly = result.tables["patrol_monthly"].set_index(["river_chief", "month"])["coverage_pct"]
    months = sorted(result.tables["patrol_monthly"]["month"].unique())
    assert len(months) == 12
    for chief, plan in truth["patrol_plan"].items():
        for month, pct in zip(months, plan["monthly_pct"], strict=True):
            assert monthly[(chief, month)] == pytest.approx(pct, abs=0.02), (chief, month)


def test_sample_outfalls_in_zone_against_geopandas(sample_dir):
    from geo_township.sample import planted_truth

    result = river_report(load_township(sample_dir))
    in_zone = result.tables["in_zone"]
    got = sorted(in_zone.loc[in_zone["layer"] == "outfalls", "feature"])
    assert got == sorted(planted_truth()["river_work"]["outfalls_in_zone"])
    raw = pd.read_excel(sample_dir / "outfalls.xlsx", header=1)
    pts = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["东坐标"], raw["北坐标"]), crs=4548)
    rivers = gpd.read_file(sample_dir / "rivers.geojson").to_crs(4548)
    inside = [oid for oid, pt in zip(pts["排污口编号"], pts.geometry, strict=True)
              if (rivers.distance(pt) <= rivers["管理范围"]).any()]
    assert got == sorted(inside)


def test_sample_lengths_per_village_add_up_to_the_rivers(sample_dir):
    result = river_report(load_township(sample_dir))
    rivers = gpd.read_file(sample_dir / "rivers.geojson")
    geod_km = sum(GEOD.geometry_length(g) for g in rivers.geometry) / 1000
    total = result.table.set_index("river_chief").loc["Total", "length_km"]
    assert total == pytest.approx(geod_km, rel=1e-7)
    by_village = result.tables["by_village"].set_index("village")
    assert by_village.loc["Total", "length_km"] == pytest.approx(geod_km, abs=1e-3)
    assert by_village.drop(index="Total")["length_km"].sum() == pytest.approx(geod_km, abs=1e-3)


def test_sample_forest_plot_and_transfer_in_zone_against_geod(sample_dir):
    """The sample's riparian belt and its contract: the only polygons in a zone, with the
    part inside measured here from the raw files (plain buffer, pyproj.Geod)."""
    import pyogrio

    from geo_township.sample import planted_truth

    truth = planted_truth()["river_work"]
    result = river_report(load_township(sample_dir))
    in_zone = result.tables["in_zone"]
    counts = result.tables["in_zone_counts"].set_index("layer")["count"]
    assert counts["forest_plots"] == 1 and counts["land_transfers"] == 1
    rivers = gpd.read_file(sample_dir / "rivers.geojson").to_crs(4548)
    plots = pyogrio.read_dataframe(sample_dir / "forest_plots.shp", encoding="gbk").to_crs(4548)
    parcels = gpd.read_file(sample_dir / "township.gpkg", layer="land_transfers").to_crs(4548)
    for layer, planted, key, raw, id_col in (
        ("forest_plots", truth["forest_plots_in_zone"], "plot_id", plots, "小班编码"),
        ("land_transfers", truth["land_transfers_in_zone"], "parcel_id", parcels, "地块编号"),
    ):
        (want,) = planted
        (got,) = in_zone[in_zone["layer"] == layer].itertuples()
        assert (got.feature, got.reach, got.village) == (want[key], want["reach"], want["village"])
        assert got.river_chief == "叶丽萍"
        reach = rivers[rivers["河段编号"] == want["reach"]].iloc[0]
        shape = raw[raw[id_col] == got.feature].geometry.iloc[0]
        assert got.distance_m == pytest.approx(shape.distance(reach.geometry), abs=1e-3)
        inside = gpd.GeoSeries([shape.intersection(reach.geometry.buffer(reach["管理范围"], 64))], crs=4548)
        geod_mu = abs(GEOD.geometry_area_perimeter(inside.to_crs(4490).iloc[0])[0]) / M2_PER_MU
        assert got.inside_mu == pytest.approx(geod_mu, rel=1e-3)
        assert got.inside_mu == pytest.approx(want["inside_mu"], abs=0.01)
