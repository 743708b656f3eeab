"""The year's report on the sample: every indicator equals the number the sample generator
computed from the features it planted (its own pandas/pyproj code, not the library's
analyses), for 2022 and 2021; the previous-year column is the 2021 report; the features of
--explain sum to their indicator; a missing layer says so instead of 0."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from openpyxl import load_workbook

from geo_township.cli import main
from geo_township.layers import load_township
from geo_township.report import values_of, year_report
from geo_township.sample import planted_truth

REPO = Path(__file__).resolve().parents[1]
LEVELS = {"县级": "county", "乡级": "township", "村级": "village"}


@pytest.fixture(scope="module")
def truth() -> dict:
    return planted_truth()["indicators"]


@pytest.fixture(scope="module")
def reports() -> dict[int, dict]:
    town = load_township(REPO / "layers" / "township.toml")
    return {year: values_of(year_report(town, year)) for year in (2021, 2022)}


def close_mu(got: float, want: float) -> bool:
    """Areas agree to 0.01 % (two ellipsoidal computations), or to the rounding of sums."""
    return math.isclose(got, want, rel_tol=1e-4, abs_tol=0.011)


@pytest.mark.parametrize("year", [2021, 2022])
def test_every_indicator_equals_the_generators_value(reports, truth, year):
    got, want = reports[year], truth[str(year)]
    value = {k: v["value"] for k, v in got.items() if "value" in v}
    for key in ("cleared_trees", "cleared_trees_cumulative", "found_trees"):
        assert value[key]["value"] == want[key], key
    assert value["clearance_rate"]["value"] == want["clearance_rate"]
    assert value["infected_plots"]["value"] == want["infected_plots"]["plots"]
    assert close_mu(value["infected_plots"]["mu"], want["infected_plots"]["mu"])
    for key in ("new_afforestation_mu", "oil_tea_mu"):
        assert close_mu(value[key]["value"], want[key]["mu"]), key
        assert value[key]["plots"] == want[key]["plots"], key
    for key in ("new_forest_transfer_mu", "pv_transfer_mu"):
        assert close_mu(value[key]["value"], want[key]["measured"]), key
        assert value[key]["declared"] == pytest.approx(want[key]["declared"], abs=0.005), key
        assert value[key]["difference"] == pytest.approx(want[key]["difference"], abs=0.011), key
        assert value[key]["parcels"] == want[key]["parcels"], key
    farm, farm_want = value["farmland_transfer_mu"], want["farmland_transfer_mu"]
    assert close_mu(farm["value"], farm_want["new"]["measured"])
    assert farm["declared"] == pytest.approx(farm_want["new"]["declared"], abs=0.005)
    assert close_mu(farm["in_force"], farm_want["in_force"]["measured"])
    assert farm["in_force_declared"] == pytest.approx(farm_want["in_force"]["declared"], abs=0.005)
    sand = want["sand_closed"]
    assert value["sand_closed"] == {"value": sand["year"], "cumulative": sand["cumulative"],
                                    "plants": sand["plants"], "plants_cumulative": sand["plants_cumulative"],
                                    "mining_sites": sand["mining_sites"],
                                    "mining_sites_cumulative": sand["mining_sites_cumulative"]}
    for level, km in want["river_km"].items():
        assert value["river_km"][LEVELS[level]] == pytest.approx(km, abs=0.011)
    assert value["river_km"]["value"] == pytest.approx(sum(want["river_km"].values()), abs=0.011)
    # coverage: the generator's planar buffers of each chief's own tracks against the report's
    # ellipsoidal, interval-based measure; the report rounds to 0.1 (% and km)
    patrols = want["patrol_coverage_pct"]
    assert value["patrol_coverage_pct"]["value"] == pytest.approx(patrols["pct"], abs=0.051)
    assert value["patrol_coverage_pct"]["walked_km"] == pytest.approx(patrols["walked_km"], abs=0.051)


def test_the_sample_has_two_years_of_everything(truth):
    """What the report years need is really in the sample (not zero by accident)."""
    for year in ("2021", "2022"):
        t = truth[year]
        assert t["new_afforestation_mu"]["plots"] > 0 and t["new_forest_transfer_mu"]["parcels"] > 0
        assert t["farmland_transfer_mu"]["new"]["parcels"] > 0 and t["sand_closed"]["year"] > 0
        assert t["sand_closed"]["plants"] > 0 and t["sand_closed"]["mining_sites"] > 0
        assert t["pv_transfer_mu"]["parcels"] > 0 and t["oil_tea_mu"]["plots"] > 0 and t["cleared_trees"] > 0
    # the patrol record runs 2022-05 to 2023-04: 2021 has no track, so its coverage is 0 by
    # the generator's count as well as the report's
    assert truth["2022"]["patrol_coverage_pct"]["pct"] > 50 and truth["2022"]["patrol_coverage_pct"]["walked_km"] > 0
    assert truth["2021"]["patrol_coverage_pct"] == {"pct": 0.0, "walked_km": 0.0}


def test_previous_year_is_the_previous_years_report(reports):
    for key, entry in reports[2022].items():
        before = reports[2021][key]
        if "missing" in entry:
            continue
        assert entry["previous"] == before["value"], key
        for part, v in entry["value"].items():
            p = entry["previous"].get(part)
            if v is not None and p is not None:
                assert entry["change"][part] == pytest.approx(v - p, abs=0.011), (key, part)


def test_audit_findings_are_the_planted_faults(reports):
    """The open findings by type are the faults the generator planted in the transfers."""
    faults = planted_truth()["transfer_faults"]
    got = reports[2022]["open_audit_findings"]["value"]
    assert got["overlap"] >= 1 and got["area_mismatch"] >= 1 and got["outside_village"] >= 1
    assert got["on_basic_farmland"] >= 1 and got["in_river_zone"] >= 1
    assert {"overlap_pair", "area_off", "crosses_village", "pv_on_basic_farmland", "in_river_zone"} <= set(faults)
    assert got["value"] == sum(v for k, v in got.items() if k != "value")
    # exactly one error or warning per planted fault, and nothing else open (renewals are info)
    planted = {"overlap": [faults["overlap_pair"]], "area_mismatch": [faults["area_off"]],
               "outside_village": [faults["crosses_village"]], "on_basic_farmland": [faults["pv_on_basic_farmland"]],
               "in_river_zone": [faults["in_river_zone"]]}
    for year in (2021, 2022):
        want = {check: len(found) for check, found in planted.items()}
        assert reports[year]["open_audit_findings"]["value"] == {"value": sum(want.values()), **want}


@pytest.mark.parametrize(("indicator", "suffix", "key"), [
    ("cleared_trees", ".csv", "value"),
    ("new_afforestation_mu", ".gpkg", "value"),
    ("pv_transfer_mu", ".xlsx", "value"),
    ("sand_closed", ".gpkg", "value"),
    ("river_km", ".gpkg", "value"),
    ("river_km", ".kml", "value"),
    ("sand_closed", ".kml", "value"),
    ("open_audit_findings", ".xlsx", "value"),
])
def test_explain_features_sum_to_the_indicator(runner, sample_dir, tmp_path, reports, indicator, suffix, key):
    out = tmp_path / f"{indicator}{suffix}"
    result = runner.invoke(main, ["report", "--township", str(sample_dir), "--year", "2022", "--explain", indicator,
                                  "-o", str(out)])
    assert result.exit_code == 0, result.output + result.stderr
    if suffix in (".gpkg", ".kml"):  # a GeoPackage layer or a KML folder named after the indicator
        table = pyogrio.read_dataframe(out, layer=indicator)
        table["report_value"] = table["report_value"].astype(float)
    elif suffix == ".csv":
        table = pd.read_csv(out, encoding="utf-8-sig")
    else:
        table = pd.read_excel(out, sheet_name=indicator)
    assert round(float(table["report_value"].sum()), 2) == pytest.approx(reports[2022][indicator]["value"][key],
                                                                          abs=0.011)
    if indicator == "sand_closed":  # the very sites the generator closed in 2022
        assert set(pd.to_datetime(table["closed_date"]).dt.year) == {2022}
    if indicator == "new_afforestation_mu":
        assert sorted(table["plot_id"].astype(str)) == planted_truth()["replanted_plots"]["2022"]


def test_a_missing_layer_says_so_not_zero(runner, sample_copy, tmp_path):
    toml = sample_copy / "township.toml"
    text = toml.read_text(encoding="utf-8")
    text = re.sub(r"\[layers\.sand_sites\]\npath = \"sand_sites.kml\"\n", "", text)
    toml.write_text(text, encoding="utf-8")
    values = values_of(year_report(load_township(toml), 2022))
    assert values["sand_closed"] == {**{k: values["sand_closed"][k] for k in ("name_en", "name_zh", "unit",
                                                                               "definition_en", "definition_zh")},
                                     "missing": "sand_sites"}
    assert values["cleared_trees"]["value"]["value"] > 0  # the others are still computed
    result = runner.invoke(main, ["report", "--township", str(sample_copy), "--year", "2022", "--format", "csv",
                                  "-o", str(tmp_path / "r.csv"), "--lang", "zh"])
    assert result.exit_code == 0, result.stderr
    rows = pd.read_csv(tmp_path / "r_indicators.csv" if (tmp_path / "r_indicators.csv").exists()
                       else tmp_path / "r.csv", encoding="utf-8-sig", dtype=str)
    sand = rows[rows["指标"] == "关停非法采砂场点"]
    assert list(sand["说明"]) == ["缺少图层 sand_sites"] and sand["2022年"].isna().all()
    json_out = tmp_path / "r.json"
    runner.invoke(main, ["report", "--township", str(sample_copy), "--year", "2022", "-o", str(json_out)])
    import json

    data = json.loads(json_out.read_text(encoding="utf-8"))
    assert data["indicators"]["sand_closed"]["missing"] == "sand_sites"
    assert "采砂" not in data["paragraph"]["zh"] and "sand" not in data["paragraph"]["en"]


def test_xlsx_paragraph_numbers_are_the_indicators(runner, sample_dir, tmp_path, reports):
    out = tmp_path / "report.xlsx"
    result = runner.invoke(main, ["report", "--township", str(sample_dir), "--year", "2022", "--lang", "zh",
                                  "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    wb = load_workbook(out)
    assert {"指标", "段落", "来源"} <= set(wb.sheetnames)
    text = wb["段落"]["A2"].value
    check_paragraph_zh(text, reports[2022])
    rows = {(r[0], r[1]): r[2] for r in wb["指标"].iter_rows(min_row=2, values_only=True)}
    sand = planted_truth()["indicators"]["2022"]["sand_closed"]
    assert rows[("关停非法采砂场点", "累计机制砂企业")] == sand["plants_cumulative"]
    assert rows[("关停非法采砂场点", "累计河道采砂点")] == sand["mining_sites_cumulative"]
    headings = [c.value for c in wb["指标"][1]]
    assert headings[:5] == ["指标", "分项", "2022年", "2021年", "变化"]


def check_paragraph_en(text: str, values: dict) -> None:
    """The English twin's numbers are the same indicators."""
    v = {k: e["value"] for k, e in values.items() if "value" in e}
    m = re.search(r"Closed so far: ([\d,]+) illegal manufactured-sand plants and ([\d,]+) illegal sand-mining sites",
                  text)
    assert m and number(m[1]) == v["sand_closed"]["plants_cumulative"]
    assert number(m[2]) == v["sand_closed"]["mining_sites_cumulative"]
    m = re.search(r"([\d,]+) in all", text)
    assert m and number(m[1]) == v["cleared_trees_cumulative"]["value"]


def test_sand_paragraph_counts_plants_and_sites_as_the_generator_does(reports, truth):
    """家 for the manufactured-sand plants, 处 for the river sand-mining sites, each the
    generator's own count of what it closed, in both languages."""
    from geo_township.report.paragraph import paragraph

    for year in (2021, 2022):
        sand = truth[str(year)]["sand_closed"]
        values = {k: {year: e["value"]} for k, e in reports[year].items() if "value" in e}
        zh = paragraph(values, year, "zh")
        plants, sites = sand["plants_cumulative"], sand["mining_sites_cumulative"]
        assert f"累计关停非法机制砂企业{plants}家，关停非法采砂点{sites}处" in zh
        en = paragraph(values, year, "en")
        assert (f"Closed so far: {sand['plants_cumulative']} illegal manufactured-sand plants and "
                f"{sand['mining_sites_cumulative']} illegal sand-mining sites.") in en



def test_closed_sites_of_no_recorded_kind_are_still_in_the_sand_sentence(reports):
    """Sites whose kind the layer does not say count in the sentence as a third part, so the
    sentence's numbers add up to the cumulative closures (hand-worked: 8 closed = 2 + 1 + 5)."""
    from geo_township.report.paragraph import paragraph

    values = {k: {2022: e["value"]} for k, e in reports[2022].items() if "value" in e}
    values["sand_closed"] = {2022: {**values["sand_closed"][2022], "cumulative": 8, "plants_cumulative": 2,
                                    "mining_sites_cumulative": 1}}
    assert "累计关停非法机制砂企业2家，关停非法采砂点1处，另关停未注明类型的场点5处。" in paragraph(values, 2022, "zh")
    assert ("Closed so far: 2 illegal manufactured-sand plants, 1 illegal sand-mining sites and 5 closed sites of "
            "unrecorded kind.") in paragraph(values, 2022, "en")

def number(text: str) -> float:
    return float(text.replace(",", ""))


def check_paragraph_zh(text: str, values: dict) -> None:
    """Each number of the Chinese paragraph is its indicator, written as officials write it."""
    v = {k: e["value"] for k, e in values.items() if "value" in e}
    m = re.search(r"新增林地流转(约?)([\d,]+)亩", text)
    assert m and number(m[2]) == round(v["new_forest_transfer_mu"]["value"])
    assert (m[1] == "约") == (round(v["new_forest_transfer_mu"]["value"]) != v["new_forest_transfer_mu"]["value"])
    m = re.search(r"新增人工造林约?([\d,]+)亩", text)
    assert m and number(m[1]) == round(v["new_afforestation_mu"]["value"])
    m = re.search(r"累计清理疫木([\d,]+)株", text)
    assert m and number(m[1]) == v["cleared_trees_cumulative"]["value"] and "," in m[1]
    m = re.search(r"清理疫木([\d,]+)株，除治率", text)
    assert m and number(m[1]) == v["cleared_trees"]["value"]
    m = re.search(r"累计关停非法机制砂企业([\d,]+)家，关停非法采砂点([\d,]+)处", text)
    assert m and number(m[1]) == v["sand_closed"]["plants_cumulative"]
    assert number(m[2]) == v["sand_closed"]["mining_sites_cumulative"]
    m = re.search(r"光伏电站项目已完成土地流转约([\d,]+)亩", text)
    assert m and number(m[1]) == round(v["pv_transfer_mu"]["value"])
    m = re.search(r"油茶种植基地([\d,]+)余亩", text)
    assert m and number(m[1]) == math.floor(v["oil_tea_mu"]["value"])
    m = re.search(r"已实现约?([\d,]+)亩农田流转", text)
    assert m and number(m[1]) == round(v["farmland_transfer_mu"]["in_force"])


def test_river_indicators_are_the_planted_outfalls_and_zones(reports):
    """Outfalls (all, and inside a management zone) and sand sites in a no-mining zone are
    the ones the generator placed there."""
    work = planted_truth()["river_work"]
    for year in (2021, 2022):
        assert reports[year]["outfalls"]["value"] == {"value": work["outfalls"],
                                                      "in_zone": len(work["outfalls_in_zone"])}
        no_mining = [s for s in work["sand_sites_in_plan_zones"] if s["zone"] == "禁采区"]
        assert reports[year]["sand_sites_in_no_mining_zones"]["value"] == {"value": len(no_mining)}
