"""Sand-mining sites: counts against the hand-made records, nearest-river distances against
a brute-force computation, the zone rules and status histories, the sample against an
independent count."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _rivers_township import CRS, SITES, X0, Y0, make_township
from shapely.geometry import LineString, Point, box

from geo_township.layers import load_township
from geo_township.locate import village_by_location
from geo_township.sand import (
    nearest_reach,
    sand_report,
    sand_zone_of,
    status_history_findings,
)
from geo_township.webmap.layers_sand import sand_overlays
from geo_township.webmap.registry import map_overlays
from geo_township.zones import reach_keys


@pytest.fixture
def township(tmp_path):
    return load_township(make_township(tmp_path / "t"))


def cell(table: pd.DataFrame, key_col: str, key, col: str):
    hits = table.loc[table[key_col] == key, col]
    assert len(hits) == 1, (key, table)
    return hits.iloc[0]


# --------------------------------------------------------------------------- counts


def test_sites_by_kind_and_status(township):
    table = sand_report(township).table
    assert cell(table, "kind", "sand_plant", "sites_illegal") == 1
    assert cell(table, "kind", "sand_plant", "sites_closed") == 3
    assert cell(table, "kind", "sand_plant", "sites_restored") == 1
    assert cell(table, "kind", "river_mining", "sites_licensed") == 1
    assert cell(table, "kind", "river_mining", "sites_restored") == 1
    assert cell(table, "kind", "Total", "sites") == len(SITES)
    # the status columns add up to the sites column on every row
    status_cols = ["sites_licensed", "sites_illegal", "sites_closed", "sites_restored"]
    assert (table[status_cols].sum(axis=1) == table["sites"]).all()


def test_closures_per_year_count_closed_and_restored_sites_by_their_closed_date(township):
    closures = sand_report(township).tables["closures"]
    got = {(r.closed_year, r.kind): r.sites_closed for r in closures.itertuples()}
    # S4 (plant) and S6 (mining) closed in 2021, S3 and S7 (plants) in 2022; S5 has no date
    assert got == {("2021", "river_mining"): 1, ("2021", "sand_plant"): 1, ("2022", "sand_plant"): 2,
                   ("Total", None): 4}


def test_closures_per_village_and_year(township):
    """By hand: S4 (closed 2021, on the 甲村|乙村 boundary: the first village, 甲村), S3
    (2022, 甲村), S6 (2021, 乙村), S7 (2022, 乙村); S5 has no closed date; S1, S2 are open."""
    table = sand_report(township).tables["closures_by_village"]
    assert list(table.columns) == ["village", "2021", "2022", "sites_closed"]
    got = table.set_index("village")
    assert got.loc["甲村"].tolist() == [1, 1, 2]
    assert got.loc["乙村"].tolist() == [1, 1, 2]
    assert got.loc["Total"].tolist() == [2, 2, 4]


def test_closures_per_village_and_year_with_recorded_villages(tmp_path):
    """Recorded villages win over location; years come in order; a village with no closure
    has no row."""
    folder = make_township(tmp_path / "t", sand_zones=False, patrols=False)
    rows = [("A", "关停", "2020-05-01", "乙村"), ("B", "复绿", "2022-01-09", "乙村"),
            ("C", "关停", "2022-12-31", "甲村"),
            ("D", "关停", "2022-03-01", None), ("E", "非法", None, "丙村")]
    pd.DataFrame([{"编号": i, "类型": "机制砂厂", "状态": st, "关停日期": d,
                   "复绿日期": "2022-06-01" if st == "复绿" else None,
                   "村名": v, "东坐标": X0 + 100, "北坐标": Y0 + 500} for i, st, d, v in rows]).to_csv(
        folder / "sand.csv", index=False, encoding="utf-8-sig")
    table = sand_report(load_township(folder)).tables["closures_by_village"]
    assert list(table.columns) == ["village", "2020", "2022", "sites_closed"]
    got = table.set_index("village")
    assert got.loc["乙村"].tolist() == [1, 1, 2]   # A in 2020, B in 2022 — recorded 乙村 though they lie in 甲村
    assert got.loc["甲村"].tolist() == [0, 2, 2]   # C recorded, D located
    assert "丙村" not in got.index                  # E was never closed
    assert got.loc["Total"].tolist() == [1, 3, 4]


def test_village_by_location_agrees_with_sjoin_and_breaks_ties_by_layer_order(township):
    by_village = sand_report(township).tables["by_village"]
    sites, villages = township.gdf("sand_sites"), township.gdf("villages")
    assert "village" not in sites.columns  # the records name no village
    joined = gpd.sjoin(sites, villages[["village", "geometry"]], predicate="within")
    inside = joined.groupby("village")["site_id"].nunique()
    # S4 lies exactly on the 甲村|乙村 boundary (x = +1000): `within` finds no village, we take the first
    assert "S4" not in set(joined["site_id"])
    assert cell(by_village, "village", "甲村", "sites") == inside["甲村"] + 1
    assert cell(by_village, "village", "乙村", "sites") == inside["乙村"]
    assert list(village_by_location(np.array([Point(X0 + 1000, Y0 + 2000)]), villages)) == ["甲村"]


# --------------------------------------------------------------------------- nearest reach


def brute_force_nearest(points: np.ndarray, lines: dict[str, LineString]) -> tuple[list[str], np.ndarray]:
    """Nearest line and distance by checking every segment of every line with plain numpy."""
    best_d = np.full(len(points), np.inf)
    best = [None] * len(points)
    for name, line in lines.items():
        c = np.asarray(line.coords)
        a, b = c[:-1], c[1:]
        ab = b - a
        ap = points[:, None, :] - a[None, :, :]
        t = np.clip((ap * ab).sum(-1) / (ab * ab).sum(-1), 0, 1)
        foot = a[None] + t[..., None] * ab[None]
        d = np.hypot(*(points[:, None, :] - foot).transpose(2, 0, 1)).min(axis=1)
        for i in np.flatnonzero(d < best_d):
            best[i] = name
        best_d = np.minimum(best_d, d)
    return best, best_d


def test_nearest_reach_and_distance_against_brute_force():
    rng = np.random.default_rng(20240601)
    lines = {}
    for k in range(6):  # wiggly reaches with 40 vertices each
        x = X0 + k * 900 + np.cumsum(rng.normal(0, 60, 40))
        y = Y0 + np.linspace(0, 4000, 40) + rng.normal(0, 20, 40)
        lines[f"R{k}"] = LineString(np.column_stack([x, y]))
    rivers = gpd.GeoDataFrame({"reach_id": list(lines)}, geometry=list(lines.values()), crs=CRS)
    pts = np.column_stack([rng.uniform(X0 - 500, X0 + 5500, 500), rng.uniform(Y0 - 500, Y0 + 4500, 500)])
    reach, dist = nearest_reach(shapely.points(pts), rivers)
    want_reach, want_dist = brute_force_nearest(pts, lines)
    assert np.allclose(dist, want_dist, rtol=0, atol=1e-6)
    assert list(reach) == want_reach
    assert list(reach_keys(rivers)) == list(lines)


def test_sites_table_distances_and_order(township):
    sites = sand_report(township).tables["sites"]
    assert list(sites["site_id"][:2]) == ["S1", "S2"]  # illegal inside a zone, then active inside a zone
    assert cell(sites, "site_id", "S1", "distance_m") == pytest.approx(20.0)
    assert cell(sites, "site_id", "S1", "reach") == "R1"
    assert cell(sites, "site_id", "S1", "in_zone_of") == "R1"
    assert cell(sites, "site_id", "S3", "distance_m") == pytest.approx(200.0)
    assert pd.isna(cell(sites, "site_id", "S3", "in_zone_of"))
    assert cell(sites, "site_id", "S6", "distance_m") == pytest.approx(40.0)  # outside R1's 30 m zone
    assert cell(sites, "site_id", "S4", "reach") == "R2"  # 500 m from R2, 2000 m from R1
    assert cell(sites, "site_id", "S4", "distance_m") == pytest.approx(500.0)


# --------------------------------------------------------------------------- rules


def test_zone_rules_and_status_history(township):
    result = sand_report(township)
    errors = {(f.feature, f.check) for f in result.findings if f.severity == "error"}
    assert errors == {("S2", "active_in_no_mining"), ("S1", "active_in_reserved"),
                      ("S5", "closed_without_date"), ("S6", "restored_before_closed")}
    warnings = {(f.feature, f.check) for f in result.findings if f.severity == "warning"}
    assert warnings == {("S1", "illegal_not_closed")}
    assert result.has_errors
    sites = result.tables["sites"]
    assert cell(sites, "site_id", "S2", "sand_zone") == "no_mining"
    assert cell(sites, "site_id", "S6", "sand_zone") == "permitted"
    by_zone = result.tables["by_sand_zone"]
    assert list(by_zone["sand_zone"]) == ["no_mining", "reserved", "permitted", "(none)", "Total"]


def test_status_history_rules_one_by_one():
    t = pd.Timestamp
    sites = gpd.GeoDataFrame({
        "site_id": ["a", "b", "c", "d", "e", "f"],
        "status": ["closed", "restored", "licensed", "restored", "closed", "closed"],
        "closed_date": [pd.NaT, t("2022-05-01"), t("2021-01-01"), t("2020-01-01"), t("2022-01-01"), t("2022-01-01")],
        "restored_date": [pd.NaT, t("2022-04-01"), pd.NaT, pd.NaT, t("2022-06-01"), pd.NaT],
    }, geometry=[Point(0, 0)] * 6, crs=CRS)
    found = {(f.feature, f.check, f.severity) for f in status_history_findings(sites, sites["site_id"])}
    assert found == {("a", "closed_without_date", "error"), ("b", "restored_before_closed", "error"),
                     ("c", "active_with_closed_date", "warning"), ("d", "restored_without_date", "warning"),
                     ("e", "closed_but_restored_date", "warning")}


def test_strictest_sand_zone_wins_where_zones_overlap():
    zones = gpd.GeoDataFrame({"zone_id": ["P", "N"], "zone": ["permitted", "no_mining"]},
                             geometry=[box(0, 0, 100, 100), box(50, 0, 150, 100)], crs=CRS)
    code, zone_id = sand_zone_of(np.array([Point(25, 50), Point(75, 50), Point(500, 500)]), zones)
    assert list(code) == ["permitted", "no_mining", None]
    assert list(zone_id) == ["P", "N", None]


def test_without_sand_zones_or_rivers(tmp_path):
    folder = make_township(tmp_path / "t", sand_zones=False, patrols=False)
    result = sand_report(load_township(folder))
    assert "by_sand_zone" not in result.tables
    assert {f.check for f in result.findings if f.severity == "error"} == {"closed_without_date",
                                                                           "restored_before_closed"}
    toml = (folder / "township.toml").read_text(encoding="utf-8")
    (folder / "township.toml").write_text(toml.replace('[layers.rivers]\npath = "rivers.gpkg"\n', ""),
                                          encoding="utf-8")
    result = sand_report(load_township(folder))
    assert result.tables["sites"]["distance_m"].isna().all()
    assert any("no rivers layer" in n for n in result.notes)


def test_overlays_for_the_map(township):
    overlays = {o.key: o for o in sand_overlays(sand_report(township), township)}
    assert set(overlays) == {"sand_zones", "sand_findings"}
    findings = overlays["sand_findings"].gdf.set_index("site_id")
    assert set(findings.index) == {"S1", "S2", "S5", "S6"}
    assert findings.loc["S2", "severity"] == "error"
    assert {c.code for c in overlays["sand_zones"].categories} == {"no_mining", "reserved", "permitted"}


def test_overlays_empty_without_sand_sites(tiny_township):
    assert map_overlays(load_township(tiny_township), ["sand"]).overlays == []


# --------------------------------------------------------------------------- the bundled sample

SAND_KIND_WORDS = {"河道采砂": "river_mining", "机制砂厂": "sand_plant"}
SAND_STATUS_WORDS = {"已许可": "licensed", "非法": "illegal", "已关停": "closed", "已复绿": "restored"}


def test_sample_counts_against_the_kml_read_directly(sample_dir):
    import pyogrio

    raw = pyogrio.read_dataframe(sample_dir / "sand_sites.kml")
    result = sand_report(load_township(sample_dir))
    table = result.table.set_index("kind")
    expected = pd.crosstab(raw["类型"].map(SAND_KIND_WORDS), raw["状态"].map(SAND_STATUS_WORDS))
    for kind, row in expected.iterrows():
        for status, n in row.items():
            assert table.loc[kind, f"sites_{status}"] == n, (kind, status)
    assert table.loc["Total", "sites"] == len(raw)
    # closures per year: closed and restored sites by the year of 关停日期
    done = raw[raw["状态"].isin(["已关停", "已复绿"])]
    per_year = done.groupby([done["关停日期"].str[:4], done["类型"].map(SAND_KIND_WORDS)]).size()
    got = result.tables["closures"].set_index(["closed_year", "kind"])["sites_closed"]
    for key, n in per_year.items():
        assert got[key] == n, key
    assert got.index[-1][0] == "Total" and got.iloc[-1] == len(done)


def test_sample_closures_per_village_and_year_against_a_plain_join(sample_dir):
    """The sample's sites record no village: count closed and restored sites per village
    (by a plain sjoin of the KML's points with the villages) and year of 关停日期."""
    import pyogrio

    raw = pyogrio.read_dataframe(sample_dir / "sand_sites.kml")
    villages = gpd.read_file(sample_dir / "township.gpkg", layer="villages")
    done = raw[raw["状态"].isin(["已关停", "已复绿"])].set_crs(villages.crs, allow_override=True)  # KML: WGS84
    joined = gpd.sjoin(done, villages[["村名", "geometry"]], predicate="within")
    assert len(joined) == len(done)  # every site lies inside exactly one village
    want = joined.groupby(["村名", joined["关停日期"].str[:4]]).size()
    table = sand_report(load_township(sample_dir)).tables["closures_by_village"].set_index("village")
    years = [c for c in table.columns if c != "sites_closed"]
    assert years == sorted(set(done["关停日期"].str[:4]))
    for village in table.index.drop("Total"):
        for year in years:
            assert table.loc[village, year] == want.get((village, year), 0), (village, year)
    assert set(table.index.drop("Total")) == set(joined["村名"])
    assert table.loc["Total", "sites_closed"] == len(done)


def test_sample_in_zone_and_distances_against_geopandas(sample_dir):
    import pyogrio

    sites = pyogrio.read_dataframe(sample_dir / "sand_sites.kml").to_crs(4548)
    rivers = gpd.read_file(sample_dir / "rivers.geojson").to_crs(4548)
    table = sand_report(load_township(sample_dir)).tables["sites"].set_index("site_id")
    for sid, pt in zip(sites["编号"], sites.geometry, strict=True):
        d = rivers.distance(pt)
        assert table.loc[sid, "distance_m"] == pytest.approx(d.min(), abs=1e-3)
        assert table.loc[sid, "reach"] == rivers.loc[d.idxmin(), "河段编号"]
        inside = (d <= rivers["管理范围"]).any()
        assert pd.notna(table.loc[sid, "in_zone_of"]) == inside, sid


def test_sample_planted_sand_faults_found_and_nothing_else_is_an_error(sample_dir):
    from geo_township.sample import planted_truth

    truth = planted_truth()["river_work"]
    result = sand_report(load_township(sample_dir))
    errors = {(f.feature, f.check) for f in result.findings if f.severity == "error"}
    zone_code = {"禁采区": "no_mining", "保留区": "reserved"}
    expected = {(f["site_id"], f"active_in_{zone_code[f['zone']]}") for f in truth["sand_zone_faults"]}
    expected |= {(f["site_id"], f["check"]) for f in truth["sand_history_faults"]}
    assert errors == expected
    assert len(expected) == 3  # a licensed site in a no-mining stretch, an illegal one in a reserved one, SS-13


def test_sand_takes_management_zones_from_zones_not_from_the_rivers_report():
    import ast
    from pathlib import Path

    import geo_township.sand as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "geo_township.zones" in imported and "geo_township.rivers" not in imported
