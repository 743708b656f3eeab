"""Pine-wilt tree counts: location and boundary rules, periods and seasons, deadline list,
infected plots, targets — on a hand-made township whose answers are worked out by hand,
and on the sample against a plain geopandas spatial join."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo_township.layers import load_township
from geo_township.locate import covering_lowest
from geo_township.tree_deadlines import deadline_cutoff, overdue_trees
from geo_township.tree_events import season_bounds
from geo_township.trees import tree_counts

# A township in GK zone CM 117°E (EPSG:4548), metres, so points on shared edges stay exactly on them.
X0, Y0 = 548_000.0, 3_374_000.0
VILLAGE_A, VILLAGE_B = "甲村", "乙村"  # text order: 乙村 (U+4E59) < 甲村 (U+7532)

# id, x, y, status, found, felled, cleared, verified, village (record), plot (record)
TREES = [
    ("T1", 100, 100, "已清理", "2021-10-05", "2021-12-01", "2022-03-10", "", "", ""),  # P01
    ("T2", 200, 200, "已确认", "2022-02-01", "", "", "", "", ""),  # P01, standing
    ("T3", 1200, 300, "已核查", "2022-10-10", "2022-11-01", "2023-02-01", "2023-04-15", "", ""),  # P03
    ("T4", 1700, 300, "已伐", "2022-11-20", "2023-03-01", "", "", "", ""),  # P04
    ("T5", 1800, 800, "疑似", "2021-11-11", "", "", "", "", ""),  # P04
    ("E1", 1000, 500, "已伐", "2022-12-01", "2022-12-20", "", "", "", ""),  # edge of P02/P03 and of A/B
    ("E2", 500, 1000, "已确认", "2022-12-05", "", "", "", "", ""),  # edge P01/P02 and the northern border
    ("O1", 3000, 500, "已清理", "2022-01-03", "2022-02-01", "2022-02-02", "", "", ""),  # outside everything
    ("R1", 300, 700, "已伐", "2022-10-20", "2022-12-30", "", "", "", "P04"),  # in P01, record says P04
]


def make_township(folder: Path, trees=TREES, *, extra_toml: str = "") -> Path:
    """Villages A (west) and B (east), 1 km × 1 km; plots P01/P02 in A, P03/P04 in B
    (each 500 m × 1000 m; P02 Chinese fir, the others Masson pine); trees in a CSV with
    Chinese headers and GK coordinates."""
    villages = gpd.GeoDataFrame({"村名": [VILLAGE_A, VILLAGE_B]},
                                geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000),
                                          box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)], crs=4548)
    villages.to_file(folder / "villages.gpkg", layer="villages")
    plots = gpd.GeoDataFrame(
        {"小班号": ["P01", "P02", "P03", "P04"], "村名": [VILLAGE_A, VILLAGE_A, VILLAGE_B, VILLAGE_B],
         "优势树种": ["马尾松", "杉木", "马尾松", "马尾松"]},
        geometry=[box(X0 + 500 * i, Y0, X0 + 500 * (i + 1), Y0 + 1000) for i in range(4)], crs=4548)
    plots.to_file(folder / "plots.gpkg", layer="plots")
    rows = [{"编号": t[0], "东坐标": X0 + t[1], "北坐标": Y0 + t[2], "状态": t[3], "发现日期": t[4],
             "采伐日期": t[5], "清理日期": t[6], "核查日期": t[7], "村名": t[8], "小班号": t[9]} for t in trees]
    pd.DataFrame(rows).to_csv(folder / "trees.csv", index=False, encoding="utf-8-sig")
    (folder / "township.toml").write_text(
        '[township]\nname = "测试乡"\ngk_zone = 117\ndata_date = 2023-05-01\n\n'
        '[layers.villages]\npath = "villages.gpkg"\n\n[layers.forest_plots]\npath = "plots.gpkg"\n\n'
        '[layers.infected_trees]\npath = "trees.csv"\n' + extra_toml, encoding="utf-8")
    return folder


@pytest.fixture
def town(tmp_path: Path):
    return load_township(make_township(tmp_path))


def row(table: pd.DataFrame, key: str, value: str) -> pd.Series:
    hit = table[table[key] == value]
    assert len(hit) == 1, f"no single row {key}={value} in\n{table}"
    return hit.iloc[0]


def test_season_bounds_default_and_custom():
    assert season_bounds(2022) == (dt.date(2022, 10, 1), dt.date(2023, 3, 31))
    assert season_bounds(2022, season_start="09-15", season_end="04-30") == (dt.date(2022, 9, 15),
                                                                             dt.date(2023, 4, 30))
    assert season_bounds(2022, season_start="01-01", season_end="12-31") == (dt.date(2022, 1, 1),
                                                                             dt.date(2022, 12, 31))


def test_covering_lowest_picks_lowest_id_on_a_shared_edge():
    polys = np.array([box(1, 0, 2, 1), box(0, 0, 1, 1)])
    pts = gpd.points_from_xy([1.0, 0.5, 1.5, 5.0], [0.5, 0.5, 0.5, 5.0])
    best, _, _ = covering_lowest(np.asarray(pts), polys, np.array(["B", "A"]))
    assert best.tolist() == [1, 1, 0, -1]  # the edge point goes to "A" (index 1); outside → -1


def test_all_records_by_village(town):
    r = tree_counts(town, hotspots=False)
    t = r.table
    # A: T1, T2, E2, R1 (E1 is on the A/B border in P02 by the plot rule → its plot's village A)
    a = row(t, "village", VILLAGE_A)
    assert (a.found, a.confirmed, a.felled, a.cleared, a.verified) == (5, 5, 3, 1, 0)
    assert (a.standing, a.not_cleared) == (2, 4)
    b = row(t, "village", VILLAGE_B)  # T3, T4, T5
    assert (b.found, b.confirmed, b.felled, b.cleared, b.verified, b.standing, b.not_cleared) == (3, 2, 2, 1, 1, 1, 2)
    out = row(t, "village", "(outside)")
    assert (out.found, out.cleared) == (1, 1)
    total = row(t, "village", "Total")
    assert total.found == len(TREES) == a.found + b.found + out.found
    # every tree was found before the last cut-off (2023-03-31) before the data date, so all 9 are due;
    # cleared by 2023-05-01: T1, T3, O1
    assert (total.due, total.due_cleared) == (9, 3)
    assert total.clearance_pct == pytest.approx(100 * 3 / 9, abs=0.01)
    assert a.clearance_pct == pytest.approx(100 * 1 / 5, abs=0.01)  # T1 of T1, T2, E1, E2, R1
    assert list(t["village"]) == [VILLAGE_A, VILLAGE_B, "(outside)", "Total"]
    assert r.provenance["boundary_rule"].startswith("a tree on the shared edge")


def test_by_plot_edges_records_and_outside(town):
    t = tree_counts(town, by="plot", hotspots=False).table
    # E1 on the P02/P03 edge → P02 (lowest id); E2 on the P01/P02 edge → P01; R1 record P04 wins.
    assert row(t, "plot_id", "P02").found == 1
    assert row(t, "plot_id", "P01").found == 3  # T1, T2, E2
    assert row(t, "plot_id", "P04").found == 3  # T4, T5, R1
    assert row(t, "plot_id", "P03").found == 1
    p01 = row(t, "plot_id", "P01")
    assert p01.village == VILLAGE_A
    assert p01.pine_mu == pytest.approx(500 * 1000 / (10000 / 15), rel=2e-4)  # ellipsoidal ≈ planar here
    assert row(t, "plot_id", "P02").pine_mu == 0.0  # Chinese fir
    assert p01.first_found == pd.Timestamp("2021-10-05") and p01.last_cleared == pd.Timestamp("2022-03-10")
    outside = t[t["village"] == "(outside)"]
    assert len(outside) == 1 and outside.iloc[0].found == 1
    assert t.iloc[-1]["village"] == "Total" and t.iloc[-1]["found"] == len(TREES)


def test_findings_for_records_outside_and_target(town):
    r = tree_counts(town, hotspots=False)
    checks = {(f.check, f.feature) for f in r.findings}
    assert ("plot_id_mismatch", "R1") in checks
    assert ("outside_plots", "O1") in checks and ("outside_villages", "O1") in checks
    assert ("clearance_below_target", VILLAGE_A) in checks
    assert not any(f.feature in ("E1", "E2") for f in r.findings)  # edge trees are inside, not mismatches


def test_period_selects_each_event_by_its_own_date(town):
    t = tree_counts(town, start=dt.date(2022, 1, 1), end=dt.date(2022, 12, 31), hotspots=False).table
    total = row(t, "village", "Total")
    # found in 2022: T2, T3, T4, E1, E2, O1, R1; T1 was found in 2021 but cleared 2022-03-10.
    assert total.found == 7
    # felled in 2022: T3 (11-01), E1 (12-20), O1 (02-01), R1 (12-30); T1 felled 2021, T4 in 2023
    assert total.felled == 4
    # cleared in 2022: T1 (2022-03-10), O1 (2022-02-02)
    assert total.cleared == 2
    assert total.verified == 0
    # at 2022-12-31, found by then and not felled: T2, T4 (felled 2023), T5, E2
    assert total.standing == 4
    # not cleared at 2022-12-31: T2, T3 (cleared 2023), T4, T5, E1, E2, R1
    assert total.not_cleared == 7
    assert row(t, "village", VILLAGE_A).cleared == 1


def test_season_2022(town):
    r = tree_counts(town, season=2022, hotspots=False)
    total = row(r.table, "village", "Total")
    # 2022-10-01 .. 2023-03-31: found T3, T4, E1, E2, R1; felled T3, T4, E1, R1; cleared T3; verified none
    assert (total.found, total.felled, total.cleared, total.verified) == (5, 4, 1, 0)
    assert r.provenance["period_start"] == "2022-10-01" and r.provenance["period_end"] == "2023-03-31"
    # 动态清零: at the season's end (2023-03-31) T2 (P01), T5 (P04), E2 (P01) still stand
    not_zeroed = {f.feature for f in r.findings if f.check == "not_zeroed"}
    assert not_zeroed == {"P01", "P04"}


def test_season_bounds_from_township_toml(tmp_path):
    town = load_township(make_township(tmp_path, extra_toml='\n[parameters]\nseason_start = "11-01"\n'
                                                          'season_end = "02-28"\n'))
    total = row(tree_counts(town, season=2022, hotspots=False).table, "village", "Total")
    # 2022-11-01 .. 2023-02-28: found T4, E1, E2; felled T3 (11-01), E1, R1; cleared T3 (2023-02-01)
    assert (total.found, total.felled, total.cleared) == (3, 3, 1)


# Two more trees for the deadline list: L1 cleared after the deadline 2023-03-31 (before the data date), L2 felled
# in April 2023 (standing at the deadline, felled by the data date).
LATE = [("L1", 1300, 600, "已清理", "2022-11-01", "2023-03-10", "2023-04-12", "", "", ""),  # P03, B
        ("L2", 1600, 600, "已伐", "2023-01-10", "2023-04-20", "", "", "", "")]  # P04, B


def _states(trees, deadline: dt.date, as_of: dt.date) -> dict[str, str]:
    """Worked out here from the raw rows: each tree found by the deadline (the season's cut-off
    here) and not cleared by it → its state on ``as_of``."""
    day = {"": None}
    out = {}
    for tid, _x, _y, status, found, felled, cleared, verified, _v, _p in trees:
        found_d, felled_d, cleared_d = (day.get(v, v) and dt.date.fromisoformat(v) for v in (found, felled, cleared))
        if verified and not cleared_d:
            cleared_d = dt.date.fromisoformat(verified)
        is_cleared = status in ("已清理", "已核查")
        is_felled = is_cleared or status == "已伐"
        if found_d > deadline or (is_cleared and cleared_d <= deadline):
            continue
        if is_cleared and cleared_d <= as_of:
            out[tid] = "cleared_late"
        elif is_felled and (felled_d or cleared_d) <= as_of:
            out[tid] = "felled_not_cleared"
        else:
            out[tid] = "standing"
    return out


def test_deadline_list_leaves_out_cleared_trees(tmp_path):
    town = load_township(make_township(tmp_path, TREES + LATE))
    deadline, as_of = dt.date(2023, 3, 31), dt.date(2023, 5, 1)
    expected = _states(TREES + LATE, deadline, as_of)
    assert expected == {"T2": "standing", "T4": "felled_not_cleared", "T5": "standing", "E1": "felled_not_cleared",
                        "E2": "standing", "R1": "felled_not_cleared", "L1": "cleared_late",
                        "L2": "felled_not_cleared"}
    r = overdue_trees(town, deadline=deadline)
    listing = r.tables["overdue_trees"].set_index("tree_id")
    # the list holds the trees still outstanding on the data date: no tree cleared, in time (T1, T3, O1) or late (L1)
    assert set(listing.index) == {t for t, s in expected.items() if s != "cleared_late"}
    assert set(listing["state"]) == {"standing", "felled_not_cleared"}
    assert listing["state"].to_dict() == {t: s for t, s in expected.items() if s != "cleared_late"}
    # to the data date, from each tree's own due date: T2 and T5 were found in season 2021, due 2022-03-31
    own_due = {t: dt.date(2022, 3, 31) if t in ("T2", "T5") else deadline for t in listing.index}
    assert listing["days_overdue"].to_dict() == {t: (as_of - d).days for t, d in own_due.items()}
    assert listing.loc["E1", "plot_id"] == "P02" and listing.loc["R1", "plot_id"] == "P04"
    assert listing.loc["T4", "village"] == VILLAGE_B
    lon, lat = gpd.GeoSeries(gpd.points_from_xy([X0 + 200], [Y0 + 200]), crs=4548).to_crs(4326).iloc[0].coords[0]
    assert listing.loc["T2", "lon"] == pytest.approx(lon, abs=1e-6)
    assert listing.loc["T2", "lat"] == pytest.approx(lat, abs=1e-6)
    # every column of the table has one reference date, and the counts add up
    total = row(r.table, "village", "Total")
    n = {s: sum(1 for v in expected.values() if v == s) for s in ("standing", "felled_not_cleared", "cleared_late")}
    assert total.not_cleared_by_deadline == len(expected) == 8
    assert (total.standing, total.felled_not_cleared, total.cleared_late) == (n["standing"], n["felled_not_cleared"],
                                                                                n["cleared_late"]) == (3, 4, 1)
    assert total.outstanding == total.standing + total.felled_not_cleared == len(listing) == 7
    assert total.not_cleared_by_deadline == total.outstanding + total.cleared_late
    b = row(r.table, "village", VILLAGE_B)  # T4, T5, L1, L2
    assert (b.not_cleared_by_deadline, b.outstanding, b.standing, b.felled_not_cleared, b.cleared_late) == \
        (4, 3, 1, 2, 1)
    assert r.labels["outstanding"][0] == "Outstanding on 2023-05-01"
    assert r.labels["not_cleared_by_deadline"][0] == "Not cleared by 2023-03-31"


def test_include_late_adds_the_trees_cleared_after_the_deadline_flagged(tmp_path):
    town = load_township(make_township(tmp_path, TREES + LATE))
    r = overdue_trees(town, deadline=dt.date(2023, 3, 31), include_late=True)
    listing = r.tables["overdue_trees"].set_index("tree_id")
    assert set(listing.index) == {"T2", "T4", "T5", "E1", "E2", "R1", "L1", "L2"}
    assert listing.loc["L1", "state"] == "cleared_late"
    assert listing.loc["L1", "days_overdue"] == 12  # cleared 2023-04-12
    assert listing.loc["L1", "cleared_date"] == pd.Timestamp("2023-04-12")
    assert "T1" not in listing.index and "T3" not in listing.index  # cleared in time


def test_as_of_moves_the_states_not_the_deadline(tmp_path):
    town = load_township(make_township(tmp_path, TREES + LATE))
    r = overdue_trees(town, deadline=dt.date(2023, 3, 31), as_of=dt.date(2023, 4, 15))
    total = row(r.table, "village", "Total")
    # on 2023-04-15 L1 is cleared (late) and L2 not yet felled (2023-04-20)
    assert (total.not_cleared_by_deadline, total.outstanding, total.standing, total.cleared_late) == (8, 7, 4, 1)
    # a deadline after the as-of date: what is still to clear; every tree listed was found in a season that
    # ended before the as-of date (2022-03-31 for T2 and T5, 2023-03-31 for the others), so each is overdue
    # from that end, not from the later deadline
    r = overdue_trees(town, deadline=dt.date(2023, 6, 30))
    listing = r.tables["overdue_trees"].set_index("tree_id")["days_overdue"].to_dict()
    as_of = dt.date(2023, 5, 1)
    assert listing == {t: (as_of - (dt.date(2022, 3, 31) if t in ("T2", "T5") else dt.date(2023, 3, 31))).days
                       for t in listing}
    assert any("days left" in n for n in r.notes)


def test_deadline_cut_off_leaves_out_next_seasons_finds(town):
    # Deadline 2022-03-31 (season 2021): T2 (found 2022-02-01) counts; T3 found 2022-10 does not.
    assert deadline_cutoff(town, dt.date(2022, 5, 15)) == dt.date(2022, 3, 31)
    r = overdue_trees(town, deadline=dt.date(2022, 5, 15))
    assert set(r.tables["overdue_trees"]["tree_id"]) == {"T2", "T5"}


def test_cleared_late_is_listed_with_its_delay_only_when_asked(town):
    r = overdue_trees(town, deadline=dt.date(2022, 3, 1))
    assert "T1" not in set(r.tables["overdue_trees"]["tree_id"])  # cleared 2022-03-10: no longer outstanding
    assert row(r.table, "village", "Total").cleared_late == 1
    listing = overdue_trees(town, deadline=dt.date(2022, 3, 1), include_late=True).tables["overdue_trees"]
    assert listing.set_index("tree_id").loc["T1", "days_overdue"] == 9


# Village A (P01) only: C3 is a spring find after the last cut-off, not yet due on the data date 2023-05-01;
# C1 and C5 were found in season 2021 and cleared in season 2022.
COHORT = [
    ("C1", 100, 100, "已清理", "2021-11-01", "2022-10-10", "2022-10-15", "", "", ""),
    ("C2", 150, 150, "已清理", "2022-10-05", "2022-11-20", "2022-12-01", "", "", ""),
    ("C3", 200, 200, "已确认", "2023-04-10", "", "", "", "", ""),
    ("C4", 250, 250, "已清理", "2023-03-01", "2023-03-20", "2023-04-20", "", "", ""),
    ("C5", 300, 300, "已清理", "2021-12-01", "2022-10-20", "2022-11-01", "", "", ""),
]


def test_clearance_rate_is_a_cohort_rate(tmp_path):
    town = load_township(make_township(tmp_path, COHORT))
    a = row(tree_counts(town, hotspots=False).table, "village", VILLAGE_A)
    # all records on 2023-05-01: due = found by the cut-off 2023-03-31 = C1, C2, C4, C5; all four cleared
    assert (a.found, a.cleared, a.due, a.due_cleared, a.clearance_pct) == (5, 4, 4, 4, 100.0)
    r = tree_counts(town, hotspots=False)
    assert not [f for f in r.findings if f.check == "clearance_below_target"]  # the spring find is not yet due
    assert r.provenance["clearance_cutoff"] == "2023-03-31" and "cohort" in r.provenance["rate_rule"]
    # on 2023-04-01 C4 (cleared 2023-04-20) is not yet cleared: 3 of 4
    a = row(tree_counts(town, hotspots=False, as_of=dt.date(2023, 4, 1)).table, "village", VILLAGE_A)
    assert (a.due, a.due_cleared, a.clearance_pct) == (4, 3, 75.0)


def test_period_rate_never_exceeds_100(tmp_path):
    town = load_township(make_township(tmp_path, COHORT))
    r = tree_counts(town, season=2022, hotspots=False)
    a = row(r.table, "village", VILLAGE_A)
    # season 2022 (2022-10-01 .. 2023-03-31): found C2, C4; cleared in it C1, C2, C5 (3 events for 2 finds)
    assert (a.found, a.cleared) == (2, 3)
    # of the 2 found in the season, cleared by its end: C2 only (C4 on 2023-04-20)
    assert (a.due, a.due_cleared, a.clearance_pct) == (2, 1, 50.0)
    below = [f for f in r.findings if f.check == "clearance_below_target"]
    assert [f.feature for f in below] == [VILLAGE_A] and "1 of the 2 trees due by 2023-03-31" in below[0].message
    # a period with no season cut-off in it: nothing found in it was due yet, so no rate and no target finding
    r = tree_counts(town, start=dt.date(2022, 10, 1), end=dt.date(2022, 12, 31), hotspots=False)
    a = row(r.table, "village", VILLAGE_A)
    assert a.found == 1 and a.due == 0 and pd.isna(a.clearance_pct)
    assert not [f for f in r.findings if f.check == "clearance_below_target"]
    # a calendar year: due are its finds up to the cut-off in it (2022-03-31) — none here (C1, C5 were 2021)
    a = row(tree_counts(town, start=dt.date(2021, 1, 1), end=dt.date(2021, 12, 31), hotspots=False).table,
            "village", VILLAGE_A)
    assert a.found == 2 and a.due == 0  # found Nov/Dec 2021, due by 2022-03-31, after the period


def test_infected_plots_and_pine_at_risk(town):
    r = tree_counts(town, season=2022, hotspots=False)
    ip = r.tables["infected_plots"]
    a, b = row(ip, "village", VILLAGE_A), row(ip, "village", VILLAGE_B)
    plot_mu = 500 * 1000 / (10000 / 15)
    # season 2022 finds: E1 → P02 and E2 → P01 (A); T3 → P03, T4 and R1 → P04 (B)
    assert a.infected_plots == 2 and b.infected_plots == 2
    assert a.infected_mu == pytest.approx(2 * plot_mu, rel=2e-4)
    assert a.infected_pine_mu == pytest.approx(plot_mu, rel=2e-4)  # P02 is fir
    assert b.pine_at_risk_mu == pytest.approx(2 * plot_mu, rel=2e-4)


def test_sample_counts_agree_with_a_plain_spatial_join(sample_dir):
    """Village/plot from the record when given, else by location (lowest plot_id covering the
    point; on a village border the plot's village): computed here with gpd.sjoin on the files."""
    town = load_township(sample_dir)
    cfg = town.config.layers
    raw = pd.read_csv(cfg["infected_trees"].path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    pts = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["经度"].astype(float), raw["纬度"].astype(float)),
                           crs=4490).to_crs(4548)
    plots = gpd.read_file(cfg["forest_plots"].path, encoding="gbk").to_crs(4548)
    villages = gpd.read_file(cfg["villages"].path, layer=cfg["villages"].layer).to_crs(4548)
    pj = gpd.sjoin(pts[["geometry"]], plots[["小班编码", "村名", "geometry"]], predicate="intersects", how="inner")
    located_plot = pj.groupby(level=0)["小班编码"].min()
    record_plot = raw["小班编码"].replace("", None)
    plot = record_plot.where(record_plot.notna(), located_plot)
    plot_village = plot.map(dict(zip(plots["小班编码"], plots["村名"], strict=True)))
    vj = gpd.sjoin(pts[["geometry"]], villages[["village" if "village" in villages.columns else "村名", "geometry"]],
                   predicate="intersects", how="inner")
    vcol = vj.columns[-1]
    covering = vj.groupby(level=0)[vcol].agg(set)
    located_village = pd.Series({i: (plot_village[i] if plot_village.get(i) in cov else min(cov))
                                 for i, cov in covering.items()}, dtype=object)
    record_village = raw["村名"].replace("", None)
    village = record_village.where(record_village.notna(), located_village.reindex(raw.index))
    village = village.where(village.notna(), plot_village)

    t = tree_counts(town, by="plot", hotspots=False).table
    got = t[t["village"] != "Total"].copy()
    got["plot_id"] = got["plot_id"].fillna("(outside)")
    assert got.set_index("plot_id")["found"].to_dict() == plot.fillna("(outside)").value_counts().to_dict()
    assert int(t.iloc[-1]["found"]) == len(raw)
    vt = tree_counts(town, hotspots=False).table
    got_v = vt[vt["village"] != "Total"].set_index("village")["found"]
    assert got_v[got_v > 0].to_dict() == village.fillna("(outside)").value_counts().to_dict()
    cleared = raw["状态"].isin(["已清理", "已核查"])
    assert int(vt.iloc[-1]["cleared"]) == int(cleared.sum())
    per_village_cleared = cleared.groupby(village.fillna("(outside)")).sum()
    assert vt.set_index("village")["cleared"].drop("Total").loc[per_village_cleared.index].tolist() == \
        per_village_cleared.tolist()


def test_sample_planted_oddities(sample_dir):
    """The sample's planted edge trees, trees outside every plot or the township, and
    trees felled but never cleared in the 2021 season are where the rules put them."""
    from geo_township.sample import planted_truth
    from geo_township.tree_places import locate_trees

    truth = planted_truth()
    town = load_township(sample_dir)
    trees, findings = locate_trees(town)
    trees = trees.set_index("tree_id")
    plots = town.gdf("forest_plots")
    edge = trees.loc[truth["edge_tree_ids"]]
    # Written with 6 decimals of a degree, an edge tree lies within a metre of both plots; it
    # is counted once, in one of them (the one covering it, or the lowest id when both do).
    near = gpd.sjoin(gpd.GeoDataFrame(geometry=edge.geometry.buffer(1.0).to_numpy(), index=edge.index,
                                      crs=edge.crs), plots[["plot_id", "geometry"]], predicate="intersects")
    near = near.groupby(level=0)["plot_id"].agg(set)
    assert (near.map(len) >= 2).all()
    assert all(edge.loc[i, "plot_id"] in near[i] for i in edge.index)
    on_edge = gpd.sjoin(gpd.GeoDataFrame(geometry=edge.geometry.to_numpy(), index=edge.index, crs=edge.crs),
                        plots[["plot_id", "geometry"]], predicate="intersects").groupby(level=0)["plot_id"].min()
    assert edge.loc[on_edge.index, "plot_id"].to_dict() == on_edge.to_dict()
    assert trees.loc[truth["outside_plot_tree_ids"], "plot_id"].isna().all()
    assert trees.loc[truth["outside_township_tree_ids"], "village"].isna().all()
    outside = {f.feature for f in findings if f.check == "outside_plots"}
    assert set(truth["outside_plot_tree_ids"]) <= outside
    listed = overdue_trees(town, deadline=dt.date(2022, 3, 31)).tables["overdue_trees"].set_index("tree_id")
    assert set(truth["felled_not_cleared_2021_tree_ids"]) <= set(listed.index)
    assert (listed.loc[truth["felled_not_cleared_2021_tree_ids"], "state"] == "felled_not_cleared").all()


def test_sample_deadline_list_against_the_raw_file(sample_dir):
    """The deadline list on the sample, worked out from the CSV with the core's date parser:
    found by 2023-03-31 and not cleared on the data date (2023-04-30) — no cleared tree in it."""
    from geo_township.values import to_date

    town = load_township(sample_dir)
    raw = pd.read_csv(town.config.layers["infected_trees"].path, dtype=str, keep_default_na=False,
                      encoding="utf-8-sig")
    found, _ = to_date(raw["发现日期"].replace("", None))
    cleared, _ = to_date(raw["清理日期"].replace("", None))
    verified, _ = to_date(raw["核查日期"].replace("", None))
    cleared = cleared.where(cleared.notna(), verified)
    done = raw["状态"].isin(["已清理", "已核查"])
    deadline, as_of = pd.Timestamp("2023-03-31"), pd.Timestamp("2023-04-30")
    due = found.isna() | (found <= deadline)
    late = due & ~(done & (cleared.isna() | (cleared <= deadline)))
    outstanding = late & ~(done & (cleared.isna() | (cleared <= as_of)))
    r = overdue_trees(town, deadline=deadline.date())
    assert set(r.tables["overdue_trees"]["tree_id"]) == set(raw.loc[outstanding, "编号"])
    assert not raw.set_index("编号").loc[r.tables["overdue_trees"]["tree_id"], "状态"].isin(["已清理", "已核查"]).any()
    total = row(r.table, "village", "Total")
    assert total.not_cleared_by_deadline == int(late.sum())
    assert total.outstanding == int(outstanding.sum())
    assert total.cleared_late == int((late & ~outstanding).sum())


# ------------------------------------------------------------------ county-scale shortcuts give the same answers


CELLS = ["2022-03-05", " 2022/3/5 ", "2022.3.5", "2022年3月5日", "20220305", "44000", "44000.4", "abc", "", " ",
         None, np.nan, "nan", "NaT", "None", "null", "２０２２－０３－０５", "2022-13-01", "2022-02-30",
         "2022-03-05T10:00", "0", "90000", "1,234.5", "１２", 5, 5.0, 312005.0]


def test_values_convert_each_distinct_text_as_each_cell_alone():
    """Dates, numbers and text are converted once per distinct text; every cell reads as
    it does converted on its own, in any mix and order."""
    from geo_township.values import to_date, to_number, to_text

    rng = np.random.default_rng(5)
    cells = pd.Series([CELLS[i] for i in rng.integers(0, len(CELLS), 400)], dtype=object,
                      index=rng.permutation(1000)[:400])
    for convert in (to_date, to_number, lambda s: to_number(s, integer=True)):
        values, bad = convert(cells)
        for j, (label, cell) in enumerate(cells.items()):
            one, one_bad = convert(pd.Series([cell], dtype=object, index=[label]))
            assert (pd.isna(values.iloc[j]) and pd.isna(one.iloc[0])) or values.iloc[j] == one.iloc[0]
            assert bad[j] == one_bad[0]
    text = to_text(cells)
    assert text.index.equals(cells.index)
    assert [to_text(pd.Series([c], dtype=object)).iloc[0] for c in cells] == text.tolist()


def test_a_text_column_of_ids_is_cleaned_as_one_of_names_is():
    """An Arrow text column of ids (cleaned cell by cell) reads as the same column cleaned
    once per distinct value, and as the column held as Python objects."""
    from geo_township.values import to_text

    rng = np.random.default_rng(11)
    odd = [" YM7 ", "", "  ", "nan", "NULL", "None", "NaT", None, "村\u3000", "ＹＭ８"]
    ids = [f" YM{i:05d}" if i % 3 else f"YM{i:05d}  " for i in range(3000)]
    ids = [odd[i % len(odd)] if i % 97 == 0 else v for i, v in enumerate(ids)]
    arrow = pd.Series(ids, dtype="string[pyarrow]", index=rng.permutation(9000)[:3000])
    got = to_text(arrow, ids=True)
    assert got.index.equals(arrow.index) and got.dtype == object
    for other in (to_text(arrow), to_text(arrow.astype(object), ids=True)):
        assert [None if pd.isna(v) else v for v in got] == [None if pd.isna(v) else v for v in other]


def test_status_ranks_as_a_map_gives_them():
    from geo_township.tree_events import STATUS_RANK, status_rank

    status = pd.Series(["suspected", "cleared", None, "verified", "unknown", "felled"], dtype=object)
    expected = status.map(STATUS_RANK).fillna(0).to_numpy()  # blank or unknown: found (rank 0)
    got = status_rank(pd.DataFrame({"status": status}))
    assert np.array_equal(got, expected)
    every = pd.DataFrame({"status": pd.Series(["confirmed", "felled"], dtype=object)})
    assert status_rank(every).dtype == every["status"].map(STATUS_RANK).dtype


def test_pine_at_risk_is_every_pine_plot_within_the_radius():
    """Each pine plot asks for its nearest infected tree only; the plots at risk are those
    with any infected tree within the radius (edges and exactly 100 m included)."""
    import shapely

    from geo_township.tree_plots import pine_at_risk

    rng = np.random.default_rng(9)
    i, j = np.divmod(np.arange(144), 12)
    plots = gpd.GeoDataFrame({"pine": rng.random(144) < 0.6},
                             geometry=shapely.box(j * 100.0, i * 100.0, j * 100.0 + 100, i * 100.0 + 100), crs=4548)
    xy = rng.uniform(-250, 1450, (300, 2))
    xy[:40, 0] = np.round(xy[:40, 0] / 100) * 100  # on plot edges
    xy[40:60, 0], xy[40:60, 1] = -100.0, rng.uniform(0, 1200, 20)  # exactly 100 m west of the first column
    points = shapely.points(xy)
    for radius in (100.0, 30.0, 0.0):
        near = np.zeros(len(plots), dtype=bool)
        for k, poly in enumerate(plots.geometry):
            near[k] = bool(plots["pine"].iloc[k]) and shapely.dwithin(poly, points, radius).any()
        assert np.array_equal(pine_at_risk(plots, points, radius), near)
        known = rng.random(144) < 0.3
        assert np.array_equal(pine_at_risk(plots, points, radius, known=known), near | (known & plots["pine"]))
