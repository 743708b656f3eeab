"""The land-transfer audit: every rule on hand-made parcels whose answers are worked out by
hand (Gauss–Krüger metres, so 100 m × 100 m is exactly 15 mu in planar area), ellipsoidal
areas against pyproj.Geod, totals against plain pandas, and the sample's planted faults."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import LineString, Polygon, box

from geo_township.errors import UsageError
from geo_township.layers import load_township
from geo_township.transfers import (
    CHECKS,
    audit_layers,
    audit_transfers,
    write_findings,
)
from geo_township.webmap.layers_audit import audit_overlays
from geo_township.zones import management_zones

CRS = "EPSG:4548"  # CGCS2000 3-degree GK, central meridian 117°E
X0, Y0 = 548_000.0, 3_375_000.0  # near 117.5°E 30.5°N
MU = 10000.0 / 15.0
GEOD = Geod(a=6378137.0, rf=298.257222101)
TO_LONLAT = Transformer.from_crs(CRS, "EPSG:4490", always_xy=True)


def sq(x: float, y: float, w: float, h: float | None = None) -> Polygon:
    """A w × h rectangle (metres) with its lower-left corner at (X0 + x, Y0 + y)."""
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + (w if h is None else h))


def villages() -> gpd.GeoDataFrame:
    """甲村 west of x = 1000 m, 乙村 east of it; each 1 km × 1 km."""
    return gpd.GeoDataFrame({"village": ["甲村", "乙村"]}, geometry=[sq(0, 0, 1000), sq(1000, 0, 1000)], crs=CRS)


def parcels(*rows: dict) -> gpd.GeoDataFrame:
    """Parcels with sensible defaults: farmland for grain in 甲村, 2020–2029, declared = drawn."""
    records = []
    for r in rows:
        rec = {"village": "甲村", "land_type": "farmland", "use": "grain", "start_date": "2020-01-01",
               "end_date": "2029-12-31", **r}
        rec.setdefault("declared_mu", rec["geometry"].area / MU)
        records.append(rec)
    gdf = gpd.GeoDataFrame(records, geometry="geometry", crs=CRS)
    for col in ("start_date", "end_date"):
        gdf[col] = pd.to_datetime(gdf[col])
    return gdf


def geod_mu(geom: Polygon) -> float:
    """Ellipsoidal area (mu) of a GK polygon by pyproj.Geod on its corners in lon/lat."""
    lon, lat = TO_LONLAT.transform(*np.asarray(geom.exterior.coords).T)
    area, _ = GEOD.polygon_area_perimeter(lon, lat)
    return abs(area) / MU


def findings(result, check: str) -> list:
    return [f for f in result.findings if f.check == check]


def errors(result) -> list[tuple[str, str]]:
    return sorted((f.check, f.feature) for f in result.findings if f.severity == "error")


# --------------------------------------------------------------------------- overlaps


def test_two_squares_overlapping_by_a_known_area():
    gdf = parcels({"parcel_id": "A", "geometry": sq(100, 100, 100)},
                  {"parcel_id": "B", "geometry": sq(150, 100, 100), "start_date": "2021-06-01"})
    result = audit_layers(gdf, method="planar")
    table = result.tables["overlap"]
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["parcel_a"], row["parcel_b"]) == ("A", "B")
    assert row["overlap_mu"] == pytest.approx(7.5, rel=1e-12)  # 50 m × 100 m
    assert row["share_a_pct"] == pytest.approx(50.0) and row["share_b_pct"] == pytest.approx(50.0)
    assert errors(result) == [("overlap", "A / B")]
    assert result.features["overlap"].geometry.iloc[0].equals(sq(150, 100, 50, 100))

    ellipsoidal = audit_layers(gdf)  # the default: measured like the parcels, on the ellipsoid
    assert ellipsoidal.tables["overlap"]["overlap_mu"].iloc[0] == pytest.approx(geod_mu(sq(150, 100, 50, 100)),
                                                                              rel=1e-7)


def test_renewal_overlaps_in_space_but_not_in_time():
    gdf = parcels({"parcel_id": "C", "geometry": sq(100, 100, 100), "start_date": "2010-01-01",
                   "end_date": "2019-12-31"},
                  {"parcel_id": "D", "geometry": sq(100, 100, 100), "start_date": "2020-01-01",
                   "end_date": "2029-12-31"})
    result = audit_layers(gdf, method="planar")
    assert "overlap" not in result.tables
    renewal = findings(result, "renewal")
    assert [(f.feature, f.severity) for f in renewal] == [("C / D", "info")]
    assert result.tables["renewal"]["overlap_mu"].iloc[0] == pytest.approx(15.0)
    assert not result.has_errors


def test_an_overlap_with_a_missing_date_is_counted_twice():
    gdf = parcels({"parcel_id": "C", "geometry": sq(100, 100, 100), "start_date": "2010-01-01", "end_date": None},
                  {"parcel_id": "D", "geometry": sq(100, 100, 100), "start_date": "2020-01-01"})
    result = audit_layers(gdf, method="planar")
    assert ("overlap", "C / D") in errors(result)
    assert "open-ended" in findings(result, "overlap")[0].message
    assert [f.feature for f in findings(result, "missing_dates")] == ["C"]


def test_slivers_and_touching_neighbours_are_not_overlaps():
    gdf = parcels({"parcel_id": "A", "geometry": sq(100, 100, 100)},
                  {"parcel_id": "B", "geometry": sq(199.5, 100, 100)},  # 0.5 m × 100 m = 0.075 mu
                  {"parcel_id": "C", "geometry": sq(100, 200, 100)})  # shares A's top edge
    assert "overlap" not in audit_layers(gdf, method="planar").tables
    found = audit_layers(gdf, method="planar", overlap_min_mu=0.05).tables["overlap"]
    assert found[["parcel_a", "parcel_b"]].values.tolist() == [["A", "B"]]
    assert found["overlap_mu"].iloc[0] == pytest.approx(0.075)


# --------------------------------------------------------------------------- villages


def test_a_parcel_crossing_its_village_boundary_by_a_known_share():
    gdf = parcels({"parcel_id": "F", "geometry": sq(925, 100, 100)})  # 25 m of 100 m lie in 乙村
    result = audit_layers(gdf, villages=villages(), method="planar")
    row = result.tables["outside_village"].iloc[0]
    assert row["parcel_id"] == "F"
    assert row["outside_mu"] == pytest.approx(3.75)
    assert row["outside_pct"] == pytest.approx(25.0)
    assert row["lies_in"] == "乙村 3.75 mu"
    assert errors(result) == [("outside_village", "F")]
    assert result.features["outside_village"].geometry.iloc[0].equals(sq(1000, 100, 25, 100))


def test_the_part_outside_every_village_is_named():
    gdf = parcels({"parcel_id": "G", "geometry": sq(100, -40, 100)})  # 40 m below the township
    row = audit_layers(gdf, villages=villages(), method="planar").tables["outside_village"].iloc[0]
    assert row["outside_mu"] == pytest.approx(6.0)
    assert row["lies_in"] == "outside every village 6.00 mu"


def test_missing_and_unknown_villages_are_warnings_saying_where_the_parcel_lies():
    gdf = parcels({"parcel_id": "M", "geometry": sq(1100, 100, 100), "village": None},
                  {"parcel_id": "U", "geometry": sq(100, 100, 100), "village": "丙村"})
    result = audit_layers(gdf, villages=villages(), method="planar")
    assert not result.has_errors
    (missing,) = findings(result, "missing_village")
    (unknown,) = findings(result, "unknown_village")
    assert (missing.feature, missing.severity) == ("M", "warning") and "乙村 15.00 mu" in missing.message
    assert (unknown.feature, unknown.severity) == ("U", "warning") and "甲村 15.00 mu" in unknown.message


# --------------------------------------------------------------------------- location


def test_photovoltaic_on_basic_farmland_is_prohibited_but_grain_is_not():
    farmland = gpd.GeoDataFrame({"patch_id": ["JB-1"]}, geometry=[sq(100, 100, 50, 300)], crs=CRS)
    gdf = parcels({"parcel_id": "PV", "geometry": sq(100, 100, 100), "use": "photovoltaic"},
                  {"parcel_id": "R", "geometry": sq(100, 300, 100), "use": "grain"})
    result = audit_layers(gdf, basic_farmland=farmland, method="planar")
    table = result.tables["on_basic_farmland"]
    assert table["parcel_id"].tolist() == ["PV"]
    assert table["on_farmland_mu"].iloc[0] == pytest.approx(7.5)  # 50 m × 100 m
    assert table["on_farmland_pct"].iloc[0] == pytest.approx(50.0)
    assert table["patches"].iloc[0] == "JB-1"
    assert errors(result) == [("on_basic_farmland", "PV")]
    # the list of non-farming uses is a parameter
    strict = audit_layers(gdf, basic_farmland=farmland, method="planar", non_farming_uses=["photovoltaic", "grain"])
    assert strict.tables["on_basic_farmland"]["parcel_id"].tolist() == ["PV", "R"]


def test_farmland_transfer_on_forest_land_is_a_warning():
    plots = gpd.GeoDataFrame({"plot_id": ["0101"]}, geometry=[sq(170, 0, 500)], crs=CRS)
    gdf = parcels({"parcel_id": "FL", "geometry": sq(100, 100, 100)},
                  {"parcel_id": "FO", "geometry": sq(300, 100, 100), "land_type": "forest", "use": "oil_tea"})
    result = audit_layers(gdf, forest_plots=plots, method="planar")
    (finding,) = findings(result, "on_forest_land")
    assert (finding.feature, finding.severity) == ("FL", "warning")
    row = result.tables["on_forest_land"].iloc[0]
    assert row["on_forest_mu"] == pytest.approx(4.5)  # 30 m × 100 m
    assert row["plots"] == "0101"
    assert not result.has_errors


def test_a_parcel_in_a_river_management_zone():
    rivers = gpd.GeoDataFrame({"reach_id": ["R1"], "name": ["青溪河"], "zone_m": [30.0]},
                              geometry=[LineString([(X0, Y0 + 500), (X0 + 1000, Y0 + 500)])], crs=CRS)
    zones = management_zones(rivers, default_zone_m=50.0)
    gdf = parcels({"parcel_id": "Z", "geometry": sq(400, 520, 100)},  # 10 m of it within 30 m of the river
                  {"parcel_id": "N", "geometry": sq(400, 540, 100)})  # 10 m clear of the zone
    result = audit_layers(gdf, river_zones=zones, method="planar")
    (finding,) = findings(result, "in_river_zone")
    assert (finding.feature, finding.severity) == ("Z", "warning")
    row = result.tables["in_river_zone"].iloc[0]
    assert row["in_zone_mu"] == pytest.approx(1.5, rel=1e-9)  # 10 m × 100 m
    assert row["in_zone_of"] == "R1"


# --------------------------------------------------------------------------- declared vs measured


def test_declared_against_measured_with_percentage_and_absolute_tolerances():
    gdf = parcels({"parcel_id": "P6", "geometry": sq(100, 100, 100), "declared_mu": 15.9},  # +6 %
                  {"parcel_id": "P3", "geometry": sq(300, 100, 100), "declared_mu": 15.5},  # +3.3 %
                  {"parcel_id": "M8", "geometry": sq(500, 100, 100), "declared_mu": 13.8})  # −8 %
    result = audit_layers(gdf, method="planar")
    table = result.tables["area_mismatch"].set_index("parcel_id")
    assert sorted(table.index) == ["M8", "P6"]
    assert table.loc["P6", "measured_mu"] == pytest.approx(15.0)
    assert table.loc["P6", "diff_mu"] == pytest.approx(0.9)
    assert table.loc["P6", "diff_pct"] == pytest.approx(6.0)
    assert table.loc["M8", "diff_pct"] == pytest.approx(-8.0)
    assert "more" in next(f for f in findings(result, "area_mismatch") if f.feature == "P6").message
    assert audit_layers(gdf, method="planar", tolerance_pct=10).tables.get("area_mismatch") is None
    both = audit_layers(gdf, method="planar", tolerance_mu=0.4).tables["area_mismatch"]
    assert sorted(both["parcel_id"]) == ["M8", "P3", "P6"]


def test_tolerance_rule_both_needs_the_share_and_the_mu_exceeded():
    # planar GK areas: 100 m × 100 m = 15 mu, 30 m × 30 m = 1.35 mu, 400 m × 400 m = 240 mu
    gdf = parcels({"parcel_id": "MID", "geometry": sq(0, 0, 100), "declared_mu": 16.5},  # +1.5 mu, +10 %
                  {"parcel_id": "SMALL", "geometry": sq(200, 0, 30), "declared_mu": 1.6},  # +0.25 mu, +18.5 %
                  {"parcel_id": "BIG", "geometry": sq(300, 0, 400), "declared_mu": 250.0})  # +10 mu, +4.2 %
    flagged = {rule: sorted(audit_layers(gdf, method="planar", tolerance_pct=5, tolerance_mu=1.0,
                                         tolerance_rule=rule).tables["area_mismatch"]["parcel_id"])
               for rule in ("any", "both")}
    assert flagged == {"any": ["BIG", "MID", "SMALL"], "both": ["MID"]}
    result = audit_layers(gdf, method="planar", tolerance_pct=5, tolerance_mu=1.0, tolerance_rule="both")
    assert "beyond the tolerance of 5% and 1 mu" in findings(result, "area_mismatch")[0].message
    assert "both must be exceeded" in result.notes[-1]
    # without an absolute tolerance the rule changes nothing
    assert sorted(audit_layers(gdf, method="planar", tolerance_rule="both").tables["area_mismatch"]["parcel_id"]) == [
        "MID", "SMALL"]
    with pytest.raises(UsageError, match="tolerance_rule"):
        audit_layers(gdf, tolerance_rule="either")


def test_ellipsoidal_measured_area_agrees_with_geod():
    geom = sq(100, 100, 300, 200)
    gdf = parcels({"parcel_id": "E", "geometry": geom})
    measured = audit_layers(gdf).features["parcels"]["measured_mu"].iloc[0]
    assert measured == pytest.approx(geod_mu(geom), rel=1e-7)
    assert measured < 90.0  # planar GK area exceeds the ellipsoidal one near 117.5°E


# --------------------------------------------------------------------------- records


def test_record_checks():
    gdf = parcels(
        {"parcel_id": "D1", "geometry": sq(0, 0, 50)},
        {"parcel_id": "D1", "geometry": sq(100, 0, 50)},
        {"parcel_id": None, "geometry": sq(200, 0, 50)},
        {"parcel_id": "N0", "geometry": sq(300, 0, 50), "declared_mu": None},
        {"parcel_id": "Z0", "geometry": sq(400, 0, 50), "declared_mu": 0.0},
        {"parcel_id": "BK", "geometry": sq(500, 0, 50), "start_date": "2021-05-01", "end_date": "2020-05-01"},
        {"parcel_id": "L30", "geometry": sq(600, 0, 50), "start_date": "2020-01-01", "end_date": "2050-01-01"},
        {"parcel_id": "L31", "geometry": sq(700, 0, 50), "start_date": "2020-01-01", "end_date": "2050-01-02"},
        {"parcel_id": "ND", "geometry": sq(800, 0, 50), "start_date": None},
    )
    result = audit_layers(gdf, method="planar")
    got = {check: sorted(f.feature for f in findings(result, check)) for check in CHECKS}
    assert got["duplicate_id"] == ["D1"]
    assert "used by 2 parcels" in findings(result, "duplicate_id")[0].message
    assert result.tables["duplicate_id"]["features"].tolist() == [2, 2]
    assert got["missing_id"] == ["feature 3"]
    assert got["missing_declared"] == ["N0", "Z0"]
    assert got["end_before_start"] == ["BK"]
    assert got["contract_too_long"] == ["L31"]  # exactly 30 calendar years is allowed
    assert result.tables["contract_too_long"]["years"].iloc[0] == pytest.approx(30.0, abs=0.01)
    assert got["missing_dates"] == ["ND"]
    assert findings(result, "missing_dates")[0].severity == "warning"
    assert got["area_mismatch"] == []  # parcels without a declared area are not compared
    assert audit_layers(gdf, method="planar", max_contract_years=40).tables.get("contract_too_long") is None


def test_two_features_sharing_an_id_keep_their_own_findings():
    gdf = parcels({"parcel_id": "A", "geometry": sq(0, 0, 100), "declared_mu": 20.0},  # 15 mu drawn: +33 %
                  {"parcel_id": "A", "geometry": sq(300, 0, 100)},  # clean, but overlaps B by 50 m × 100 m
                  {"parcel_id": "B", "geometry": sq(350, 0, 100)},
                  {"parcel_id": "C", "geometry": sq(600, 0, 100)})
    result = audit_layers(gdf, method="planar")
    assert [f.feature for f in findings(result, "area_mismatch")] == ["A (feature 1)"]
    assert [f.feature for f in findings(result, "overlap")] == ["A (feature 2) / B"]
    (dup,) = findings(result, "duplicate_id")
    assert dup.feature == "A" and "feature 1, feature 2" in dup.message
    parcels_ = result.features["parcels"].set_index("parcel_id")
    assert list(parcels_.index) == ["A (feature 1)", "A (feature 2)", "B", "C"]
    assert parcels_["checks"].to_dict() == {"A (feature 1)": "area_mismatch, duplicate_id",
                                            "A (feature 2)": "overlap, duplicate_id", "B": "overlap", "C": ""}
    assert parcels_["audit"].tolist() == ["error", "error", "error", "ok"]
    assert parcels_.loc["A (feature 2)", "double_counted_with"] == "B"
    assert parcels_.loc["B", "double_counted_with"] == "A (feature 2)"
    assert parcels_.loc["B", "double_counted_mu"] == pytest.approx(7.5)
    assert np.isnan(parcels_.loc["A (feature 1)", "double_counted_mu"])
    assert "declared 20.00 mu" in parcels_.loc["A (feature 1)", "details"]
    assert "overlap by 7.50 mu" in parcels_.loc["A (feature 2)", "details"]
    assert "重叠 7.50 亩" in parcels_.loc["A (feature 2)", "details_zh"]
    summary = result.table.set_index("check")
    assert summary.loc["area_mismatch", "parcels"] == 1 and summary.loc["overlap", "parcels"] == 2
    assert summary.loc["duplicate_id", "parcels"] == 2


def test_a_duplicated_id_is_shown_with_its_place_in_the_file(tmp_path):
    gdf = parcels({"parcel_id": "E", "geometry": sq(0, 0, 100)},
                  {"parcel_id": "A", "geometry": sq(300, 0, 100), "declared_mu": 20.0},
                  {"parcel_id": "A", "geometry": sq(600, 0, 100)})
    gdf.loc[0, "geometry"] = None  # feature 1 has no geometry: the two A are features 2 and 3 of the file
    result = audit_transfers(load_township(_write_township(tmp_path, gdf)), method="planar")
    assert [f.feature for f in findings(result, "area_mismatch")] == ["A (feature 2)"]
    assert "feature 2, feature 3" in findings(result, "duplicate_id")[0].message
    assert result.features["parcels"]["feature"].tolist() == ["feature 2", "feature 3"]


def test_a_field_the_layer_lacks_is_one_finding_not_one_per_parcel():
    gdf = parcels(*({"parcel_id": f"P{k}", "geometry": sq(k * 100, 0, 50)} for k in range(5)))
    gdf = gdf.drop(columns=["declared_mu", "start_date", "end_date"])
    result = audit_layers(gdf, method="planar")
    lacking = [(f.check, f.feature, f.severity) for f in result.findings]
    assert lacking == [("missing_declared", "-", "error"), ("missing_dates", "-", "warning")]
    assert "declared_mu = " in result.findings[0].message


def test_bad_parameters_are_refused_with_the_parameter_named():
    gdf = parcels({"parcel_id": "A", "geometry": sq(0, 0, 50)})
    with pytest.raises(UsageError, match="tolerance_pct"):
        audit_layers(gdf, tolerance_pct=-1)
    with pytest.raises(UsageError, match="overlap_min_mu"):
        audit_layers(gdf, overlap_min_mu=-0.1)


# --------------------------------------------------------------------------- a township folder


def _write_township(folder: Path, transfers: gpd.GeoDataFrame, *, farmland: gpd.GeoDataFrame | None = None) -> Path:
    villages().to_crs(4490).rename(columns={"village": "村名"}).to_file(folder / "villages.gpkg")
    out = transfers.copy()
    for col in ("start_date", "end_date"):
        out[col] = out[col].dt.strftime("%Y-%m-%d")
    out = out.rename(columns={"parcel_id": "地块编号", "village": "村名", "land_type": "地类", "use": "用途",
                              "declared_mu": "流转面积", "start_date": "起始日期", "end_date": "终止日期"})
    out.to_crs(4490).to_file(folder / "transfers.gpkg")
    toml = ('[township]\nname = "测试乡"\n\n[layers.villages]\npath = "villages.gpkg"\n\n'
            '[layers.land_transfers]\npath = "transfers.gpkg"\n')
    if farmland is not None:
        farmland.to_crs(4490).to_file(folder / "farmland.gpkg")
        toml += '\n[layers.basic_farmland]\npath = "farmland.gpkg"\n'
    (folder / "township.toml").write_text(toml, encoding="utf-8")
    return folder


def _write_raw_transfers(folder: Path, rows: list[dict]) -> Path:
    """A township whose transfers file holds the dates as typed (text), e.g. '2020-13-01'."""
    villages().to_crs(4490).rename(columns={"village": "村名"}).to_file(folder / "villages.gpkg")
    gpd.GeoDataFrame([{"地块编号": r["id"], "村名": "甲村", "地类": "耕地", "用途": "粮食种植",
                       "流转面积": r.get("declared", "15"), "起始日期": r.get("start", "2020-01-01"),
                       "终止日期": r.get("end", "2029-12-31"), "geometry": r["geometry"]} for r in rows],
                     geometry="geometry", crs=CRS).to_crs(4490).to_file(folder / "transfers.gpkg")
    (folder / "township.toml").write_text('[township]\nname = "测试乡"\n\n[layers.villages]\npath = "villages.gpkg"'
                                          '\n\n[layers.land_transfers]\npath = "transfers.gpkg"\n', encoding="utf-8")
    return folder


def test_the_lenient_read_lists_bad_cells_and_strict_reads_still_refuse(tmp_path):
    from geo_township.errors import FieldError

    _write_raw_transfers(tmp_path, [
        {"id": "OK", "geometry": sq(0, 0, 100)},
        {"id": "B", "geometry": sq(200, 0, 100), "start": "2020-13-01"},
        {"id": "C", "geometry": sq(400, 0, 100), "start": "not a date", "end": "2030-02-30", "declared": "twelve"},
    ])
    township = load_township(tmp_path)
    layer = township.layer("land_transfers", lenient=True)
    cells = layer.bad_cells.sort_values(["row", "field"]).reset_index(drop=True)
    assert cells[["row", "feature", "field", "value"]].values.tolist() == [
        [1, "B", "start_date", "2020-13-01"], [2, "C", "declared_mu", "twelve"],
        [2, "C", "end_date", "2030-02-30"], [2, "C", "start_date", "not a date"]]
    assert layer.gdf["start_date"].isna().tolist() == [False, True, True]
    assert layer.gdf.loc[1, "end_date"] == pd.Timestamp("2029-12-31")  # the readable cells are kept
    assert township.layer("land_transfers", lenient=True) is layer
    with pytest.raises(FieldError, match="2020-13-01"):  # other commands read strictly, as before
        township.layer("land_transfers")
    assert township.provenance()["inputs"][0]["layer"] == "land_transfers"  # the lenient read is recorded


def test_unreadable_dates_are_findings_and_the_audit_goes_on(tmp_path):
    _write_raw_transfers(tmp_path, [
        {"id": "B", "geometry": sq(100, 100, 100), "start": "2020-13-01"},
        {"id": "C", "geometry": sq(400, 100, 100), "start": "not a date", "end": ""},
        # D ends 2015, before B's (unreadable) start could be checked: open-ended, so counted twice
        {"id": "D", "geometry": sq(150, 100, 100), "start": "2010-01-01", "end": "2015-12-31"},
        {"id": "N", "geometry": sq(700, 100, 100), "declared": "twelve"},
    ])
    result = audit_transfers(load_township(tmp_path), method="planar")
    bad = result.tables["bad_date"]
    assert bad[["parcel_id", "field", "value"]].values.tolist() == [["B", "start_date", "2020-13-01"],
                                                                    ["C", "start_date", "not a date"]]
    assert [(f.feature, f.severity) for f in findings(result, "bad_date")] == [("B", "error"), ("C", "error")]
    assert "'2020-13-01' is not a date" in findings(result, "bad_date")[0].message
    assert "“2020-13-01”不是有效日期" in findings(result, "bad_date")[0].message_zh
    # a blank cell is a missing date; an unreadable one is reported once, as bad_date
    (undated,) = findings(result, "missing_dates")
    assert undated.feature == "C" and undated.message.startswith("no end date:")
    assert [f.feature for f in findings(result, "bad_value")] == ["N"]
    assert "'twelve'" in findings(result, "bad_value")[0].message
    assert "missing_declared" not in result.tables
    assert [f.feature for f in findings(result, "overlap")] == ["B / D"]
    assert result.tables["overlap"]["overlap_mu"].iloc[0] == pytest.approx(7.5)  # 50 m × 100 m
    assert result.tables["by_village"].set_index("village").loc["Total", "parcels"] == 4


def test_invalid_and_empty_geometries_are_reported_and_the_file_is_unchanged(tmp_path):
    bowtie = Polygon([(X0 + 100, Y0 + 100), (X0 + 200, Y0 + 200), (X0 + 200, Y0 + 100), (X0 + 100, Y0 + 200)])
    gdf = parcels({"parcel_id": "OK", "geometry": sq(300, 300, 100)},
                  {"parcel_id": "BOW", "geometry": bowtie, "declared_mu": 7.5},
                  {"parcel_id": "EMPTY", "geometry": sq(500, 500, 10), "declared_mu": 3.0})
    gdf.loc[2, "geometry"] = None
    _write_township(tmp_path, gdf)
    digest = hashlib.sha256((tmp_path / "transfers.gpkg").read_bytes()).hexdigest()
    result = audit_transfers(load_township(tmp_path), method="planar")
    assert errors(result) == [("empty_geometry", "EMPTY"), ("invalid_geometry", "BOW")]
    (invalid,) = findings(result, "invalid_geometry")
    assert "Self-intersection" in invalid.message and "repaired copy" in invalid.message
    repaired = result.features["invalid_geometry"].geometry.iloc[0]
    assert repaired.is_valid
    # two triangles of 50 m × 100 m / 2 each: 5000 m² = 7.5 mu, which is what was declared
    assert result.tables["invalid_geometry"]["measured_mu"].iloc[0] == pytest.approx(7.5, rel=1e-6)
    assert "declared 3.00 mu" in findings(result, "empty_geometry")[0].message
    layers = write_findings(result, tmp_path / "audit.gpkg")
    assert layers == ["parcels", "invalid_geometry", "empty_geometry"]
    assert gpd.read_file(tmp_path / "audit.gpkg", layer="empty_geometry")["parcel_id"].tolist() == ["EMPTY"]
    assert hashlib.sha256((tmp_path / "transfers.gpkg").read_bytes()).hexdigest() == digest


def test_totals_agree_with_an_independent_computation(tmp_path):
    rng = np.random.default_rng(7)
    rows = []
    uses = ["grain", "vegetables", "oil_tea", "aquaculture"]
    for k in range(24):
        x, y = 30 + (k % 6) * 160, 30 + (k // 6) * 230  # no overlaps, all inside 甲村 or 乙村
        x += 1000 if k % 2 else 0
        x = min(x, 1800)
        w, h = rng.uniform(40, 120), rng.uniform(40, 190)
        rows.append({"parcel_id": f"T{k:02d}", "geometry": sq(x, y, w, h), "village": "乙村" if x >= 1000 else "甲村",
                     "use": uses[k % 4], "land_type": "forest" if uses[k % 4] == "oil_tea" else "farmland",
                     "declared_mu": round(w * h / MU * rng.uniform(0.99, 1.01), 2),
                     "start_date": f"{2016 + k % 5}-03-01", "end_date": f"{2026 + k % 5}-02-28"})
    _write_township(tmp_path, parcels(*rows))
    result = audit_transfers(load_township(tmp_path))  # ellipsoidal, from a lon/lat (EPSG:4490) file

    raw = gpd.read_file(tmp_path / "transfers.gpkg")  # the file itself, in CGCS2000 lon/lat
    raw["geod_mu"] = [abs(GEOD.geometry_area_perimeter(g)[0]) / MU for g in raw.geometry]
    expected = raw.groupby("村名").agg(parcels=("地块编号", "size"), declared_mu=("流转面积", "sum"),
                                      measured_mu=("geod_mu", "sum"))
    table = result.tables["by_village"].set_index("village")
    for village in ("甲村", "乙村"):
        assert table.loc[village, "parcels"] == expected.loc[village, "parcels"]
        assert table.loc[village, "declared_mu"] == pytest.approx(expected.loc[village, "declared_mu"], rel=1e-12)
        assert table.loc[village, "measured_mu"] == pytest.approx(expected.loc[village, "measured_mu"], rel=1e-7)
    assert table.loc["Total", "measured_mu"] == pytest.approx(raw["geod_mu"].sum(), rel=1e-7)
    assert table.loc["Total", "parcels"] == 24

    by_use = result.tables["by_use"].set_index("use")
    codes = {"grain": "粮食种植", "vegetables": "蔬菜种植", "oil_tea": "油茶种植", "aquaculture": "水产养殖"}
    for use in codes:
        mine = raw[raw["用途"] == use]
        assert by_use.loc[use, "parcels"] == len(mine)
        assert by_use.loc[use, "measured_mu"] == pytest.approx(mine["geod_mu"].sum(), rel=1e-7)
    by_year = result.tables["by_start_year"].set_index("start_year")
    years = raw["起始日期"].str[:4].value_counts()
    for year, n in years.items():
        assert by_year.loc[year, "parcels"] == n
    by_type = result.tables["by_land_type"].set_index("land_type")
    assert by_type.loc["forest", "parcels"] == 6 and by_type.loc["farmland", "parcels"] == 18


def test_share_of_village_farmland_counts_each_piece_of_land_once():
    farmland = gpd.GeoDataFrame({"patch_id": ["J1", "Y1"]},
                                geometry=[sq(100, 100, 100, 200), sq(1100, 100, 100)], crs=CRS)  # 30 mu, 15 mu
    gdf = parcels({"parcel_id": "C", "geometry": sq(100, 100, 100), "start_date": "2010-01-01",
                   "end_date": "2019-12-31"},
                  {"parcel_id": "D", "geometry": sq(100, 100, 100)},  # the renewal of C: the same 15 mu
                  {"parcel_id": "E", "geometry": sq(1150, 100, 50, 100), "village": "乙村"})  # 7.5 mu of Y1
    result = audit_layers(gdf, villages=villages(), basic_farmland=farmland, method="planar")
    table = result.tables["by_village"].set_index("village")
    assert table.loc["甲村", "basic_farmland_mu"] == pytest.approx(30.0)
    assert table.loc["甲村", "transferred_farmland_mu"] == pytest.approx(15.0)
    assert table.loc["甲村", "farmland_share_pct"] == pytest.approx(50.0)
    assert table.loc["甲村", "measured_mu"] == pytest.approx(30.0)  # contracts are summed as recorded
    assert table.loc["乙村", "farmland_share_pct"] == pytest.approx(50.0)
    assert table.loc["Total", "farmland_share_pct"] == pytest.approx(22.5 / 45.0 * 100.0)


# --------------------------------------------------------------------------- outputs


def test_geopackage_has_one_layer_per_finding_type(tmp_path):
    farmland = gpd.GeoDataFrame({"patch_id": ["JB-1"]}, geometry=[sq(100, 500, 100)], crs=CRS)
    gdf = parcels({"parcel_id": "A", "geometry": sq(100, 100, 100)},
                  {"parcel_id": "B", "geometry": sq(150, 100, 100)},
                  {"parcel_id": "F", "geometry": sq(925, 300, 100)},
                  {"parcel_id": "PV", "geometry": sq(100, 500, 100), "use": "photovoltaic", "declared_mu": 20})
    result = audit_layers(gdf, villages=villages(), basic_farmland=farmland, method="planar")
    path = tmp_path / "audit.gpkg"
    names = write_findings(result, path)
    assert names == ["parcels", "area_mismatch", "overlap", "outside_village", "on_basic_farmland"]
    listed = {name: kind for name, kind in pyogrio.list_layers(path)}
    assert set(listed) == set(names)
    for name in names[1:]:
        back = gpd.read_file(path, layer=name)
        assert back.crs.to_epsg() == 4548
        assert len(back) == len(result.tables[name])
    parcels_back = gpd.read_file(path, layer="parcels").set_index("parcel_id")
    assert parcels_back.loc["PV", "audit"] == "error"
    assert parcels_back.loc["PV", "checks"] == "area_mismatch, on_basic_farmland"
    zh = write_findings(result, tmp_path / "zh.gpkg", lang="zh")
    assert zh == names
    back = gpd.read_file(tmp_path / "zh.gpkg", layer="overlap")
    assert "重叠面积(亩)" in back.columns
    # the same sets in a KML for crews: one folder each, which GDAL reads back as layers
    kml = tmp_path / "audit.kml"
    assert write_findings(result, kml) == names
    assert [name for name, _ in pyogrio.list_layers(kml)] == names
    for name in names:
        back = pyogrio.read_dataframe(kml, layer=name)
        assert len(back) == len(result.features[name])
    assert len(pyogrio.read_dataframe(kml, layer="parcels")) == 4
    parcels_kml = pyogrio.read_dataframe(kml, layer="parcels").set_index("parcel_id")
    assert parcels_kml.loc["PV", "audit"] == "error"
    assert parcels_kml.loc["PV", "checks"] == "area_mismatch, on_basic_farmland"


def test_map_overlays_highlight_parcels_with_findings(tmp_path):
    gdf = parcels({"parcel_id": "A", "geometry": sq(100, 100, 100)},
                  {"parcel_id": "B", "geometry": sq(150, 100, 100)},
                  {"parcel_id": "OK", "geometry": sq(500, 500, 100)})
    township = load_township(_write_township(tmp_path, gdf))
    overlays = audit_overlays(audit_transfers(township), township)
    assert [o.key for o in overlays] == ["land_transfer_audit", "land_transfer_double_counted"]
    audit, twice = overlays
    assert sorted(audit.gdf["parcel_id"]) == ["A", "B"]
    assert set(audit.gdf["audit"]) == {"error"}
    assert audit.gdf["check"].tolist() == ["overlap", "overlap"]
    # only the legend classes that occur; Chinese descriptions; check codes labelled by the vocabulary
    assert [c.code for c in audit.categories] == ["error"]
    assert audit.describe("zh").startswith("有审计问题的流转地块") and twice.describe("zh").startswith("两份")
    assert audit.vocab["checks"] == "audit_check" and audit.vocab["check"] == "audit_check"
    # a click tells the whole story: the other parcel, the mu counted twice, the messages
    row = audit.gdf.set_index("parcel_id").loc["A"]
    assert {"double_counted_with", "double_counted_mu", "details"} <= set(audit.fields)
    assert row["double_counted_with"] == "B"
    assert row["double_counted_mu"] == pytest.approx(geod_mu(sq(150, 100, 50, 100)), rel=1e-7)
    assert "the same land is counted twice" in row["details"]


def test_notes_name_the_non_farming_uses_as_the_tables_do():
    gdf = parcels({"parcel_id": "A", "geometry": sq(100, 100, 100)})
    result = audit_layers(gdf, method="planar")
    assert result.notes[-1].endswith("non-farming uses: photovoltaic, buildings, fish ponds")
    assert result.notes_zh[-1].endswith("非农用途：光伏发电、建设用地、水产养殖")


# --------------------------------------------------------------------------- the sample


@pytest.fixture(scope="module")
def sample_audit(sample_dir):
    return audit_transfers(load_township(sample_dir))


def test_sample_planted_faults_are_found_with_their_numbers(sample_audit):
    from geo_township.sample import planted_truth

    truth = planted_truth()
    faults = truth["transfer_faults"]
    result = sample_audit

    a, b = faults["overlap_pair"]
    overlap = result.tables["overlap"]
    assert overlap[["parcel_a", "parcel_b"]].values.tolist() == [sorted([a, b])]
    assert overlap["overlap_mu"].iloc[0] == pytest.approx(faults["overlap_mu"], abs=0.005)

    off = faults["area_off"]
    mismatch = result.tables["area_mismatch"].set_index("parcel_id")
    assert list(mismatch.index) == [off["parcel_id"]]
    assert mismatch.loc[off["parcel_id"], "declared_mu"] == pytest.approx(off["declared_mu"])
    assert mismatch.loc[off["parcel_id"], "measured_mu"] == pytest.approx(off["measured_mu"], abs=0.005)

    cross = faults["crosses_village"]
    outside = result.tables["outside_village"].set_index("parcel_id")
    assert list(outside.index) == [cross["parcel_id"]]
    assert outside.loc[cross["parcel_id"], "village"] == cross["recorded_village"]
    assert outside.loc[cross["parcel_id"], "outside_mu"] == pytest.approx(cross["outside_mu"], abs=0.005)
    assert outside.loc[cross["parcel_id"], "outside_pct"] == pytest.approx(cross["outside_share"] * 100, abs=0.01)

    pv = faults["pv_on_basic_farmland"]
    farmland = result.tables["on_basic_farmland"].set_index("parcel_id")
    assert list(farmland.index) == [pv["parcel_id"]]
    if pv.get("overlap_mu"):
        assert farmland.loc[pv["parcel_id"], "on_farmland_mu"] == pytest.approx(pv["overlap_mu"], abs=0.005)

    renewals = sorted(tuple(sorted(p)) for p in truth["renewal_pairs"])
    found = sorted(tuple(r) for r in result.tables["renewal"][["parcel_a", "parcel_b"]].values.tolist())
    assert found == renewals
    assert all(f.severity == "info" for f in findings(result, "renewal"))


def test_sample_nothing_else_is_an_error(sample_audit):
    from geo_township.sample import planted_truth

    faults = planted_truth()["transfer_faults"]
    expected = sorted([
        ("area_mismatch", faults["area_off"]["parcel_id"]),
        ("on_basic_farmland", faults["pv_on_basic_farmland"]["parcel_id"]),
        ("outside_village", faults["crosses_village"]["parcel_id"]),
        ("overlap", " / ".join(sorted(faults["overlap_pair"]))),
    ])
    assert errors(sample_audit) == expected
    assert sample_audit.has_errors


def test_sample_contracts_in_a_river_zone_are_the_only_warnings(sample_audit):
    from geo_township.sample import planted_truth

    planted = planted_truth()["river_work"]["land_transfers_in_zone"]
    warnings = sorted((f.check, f.feature) for f in sample_audit.findings if f.severity == "warning")
    assert warnings == sorted(("in_river_zone", t["parcel_id"]) for t in planted)
    table = sample_audit.tables["in_river_zone"].set_index("parcel_id")
    for t in planted:
        assert table.loc[t["parcel_id"], "in_zone_of"] == t["reach"]
        assert table.loc[t["parcel_id"], "in_zone_mu"] == pytest.approx(t["inside_mu"], abs=0.005)


# --------------------------------------------------------------------------- real data


def test_real_cadastre_declared_against_drawn(realdata, tmp_path):
    """4,241 real French cadastral parcels whose declared area (contenance, m²) was made
    apart from the drawing: the audit flags exactly the parcels an independent
    pyproj.Geod computation puts beyond 10%, and totals the declared area as published."""
    src = gpd.read_file(realdata / "cadastre-fr-91216" / "cadastre-91216-parcelles.json")
    # the audit reads declared areas in mu: a converted copy in the test's own folder
    table = gpd.GeoDataFrame({"parcel_id": src["id"], "declared_mu": src["contenance"] / MU},
                             geometry=src.geometry, crs=src.crs)
    table.to_file(tmp_path / "parcels.geojson")
    (tmp_path / "township.toml").write_text('[township]\nname = "Épinay-sur-Orge"\n\n[layers.land_transfers]\n'
                                            'path = "parcels.geojson"\n', encoding="utf-8")
    result = audit_transfers(load_township(tmp_path), tolerance_pct=10)

    geod_m2 = np.array([abs(GEOD.geometry_area_perimeter(g)[0]) for g in src.geometry])
    declared = src["contenance"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        off = np.abs(declared - geod_m2) / geod_m2 > 0.10
    expected = set(src["id"][off & np.isfinite(declared)])
    assert len(expected) > 150
    assert set(result.tables["area_mismatch"]["parcel_id"]) == expected
    assert list(result.tables["missing_declared"]["parcel_id"]) == list(src["id"][src["contenance"].isna()])
    total = result.tables["by_village"].iloc[-1]
    assert total["declared_mu"] * MU == pytest.approx(3_829_286, abs=0.01)  # PROVENANCE.md: sum of contenance
    assert total["measured_mu"] * MU == pytest.approx(geod_m2.sum(), rel=1e-7)
    # overlaps against a plain spatial join measured in the local UTM zone
    utm = src.to_crs(32631)
    pairs = gpd.sjoin(utm, utm, predicate="intersects")
    pairs = pairs[pairs.index < pairs["index_right"]]
    inter = [utm.geometry.iloc[a].intersection(utm.geometry.iloc[b]).area for a, b in
             zip(pairs.index, pairs["index_right"], strict=True)]
    planar = {tuple(sorted((src["id"].iloc[a], src["id"].iloc[b]))): m2 for a, b, m2 in
              zip(pairs.index, pairs["index_right"], inter, strict=True)}
    found = {tuple(sorted(p)) for p in result.tables.get("overlap", pd.DataFrame(columns=["parcel_a", "parcel_b"]))
             [["parcel_a", "parcel_b"]].values.tolist()}
    assert {k for k, m2 in planar.items() if m2 > 0.11 * MU} <= found
    assert all(planar[k] > 0.09 * MU for k in found)


def test_the_audit_takes_management_zones_from_zones_not_from_the_rivers_report():
    import ast

    import geo_township.transfers as package

    folder = Path(package.__file__).parent
    imported = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
    assert "geo_township.zones" in imported
    assert not {m for m in imported if m == "geo_township.rivers" or m.startswith("geo_township.rivers.")}
