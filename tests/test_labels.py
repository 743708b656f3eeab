"""Every table an officer sees is headed in English and in Chinese, and every check code
has a name in both: run every analysis the CLI offers on the bundled sample, collect the
columns, table names and check codes of what they return, and ask the labels for each.

A new column, table or check without a label makes this file fail; add the label to
``geo_township/labels.py`` (columns, tables) or ``CHECK_NAME`` in
``geo_township/vocabulary.py`` (checks).
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import re
import shutil
from pathlib import Path

import pytest

from geo_township.kinds import KINDS, column_label, column_labels, has_label, missing_labels
from geo_township.labels import TABLE_LABELS, has_cjk, table_label
from geo_township.results import SEVERITIES, Result
from geo_township.vocabulary import CHECK_NAME, LAYER_KIND

PACKAGE = Path(__file__).resolve().parent.parent / "geo_township"
YEAR = re.compile(r"(19|20)\d\d")  # a pivot's year column (closures per village and year) reads the same in both


def both(en: object, zh: object) -> bool:
    """A non-empty English label and a Chinese one with Chinese characters."""
    return isinstance(en, str) and bool(en.strip()) and has_cjk(zh)


# --------------------------------------------------------------------------- the analyses


def _trees(town) -> dict[str, Result]:
    from geo_township.trees import overdue_trees, tree_counts

    deadline = dt.date(2023, 3, 31)
    return {
        "trees": tree_counts(town),
        "trees --by plot": tree_counts(town, by="plot"),
        "trees --season 2022": tree_counts(town, season=2022),
        "trees --from --to": tree_counts(town, start=dt.date(2022, 1, 1), end=dt.date(2022, 12, 31)),
        "trees --deadline": overdue_trees(town, deadline=deadline),
        "trees --deadline --by plot --include-late": overdue_trees(town, deadline=deadline, by="plot",
                                                                   include_late=True),
    }


def _rivers_sand_audit(town) -> dict[str, Result]:
    from geo_township.rivers import river_report
    from geo_township.sand import sand_report
    from geo_township.transfers import audit_transfers

    return {"rivers": river_report(town), "sand": sand_report(town), "audit": audit_transfers(town)}


def _areas(town) -> dict[str, Result]:
    from geo_township.inventory import area_summary
    from geo_township.units import AREA_UNITS

    out = {f"area forest_plots --unit {unit}": area_summary(town, "forest_plots", unit=unit) for unit in AREA_UNITS}
    for by in ("village", "species", "origin"):
        out[f"area forest_plots --by {by}"] = area_summary(town, "forest_plots", by=by)
    for layer in ("villages", "land_transfers", "basic_farmland", "sand_zones"):
        out[f"area {layer}"] = area_summary(town, layer)
    out["area land_transfers --by use"] = area_summary(town, "land_transfers", by="use")
    return out


def _rasters(town) -> dict[str, Result]:
    from geo_township.candidates import find_candidates
    from geo_township.raster import zonal_stats

    out = {}
    for raster in town.config.rasters:
        out[f"zonal {raster}"] = zonal_stats(town, raster)
        out[f"zonal {raster} --by village --percentiles 10,90"] = zonal_stats(town, raster, by="village",
                                                                              percentiles=(10, 90))
    out["zonal landcover --layer land_transfers --unit ha"] = zonal_stats(town, "landcover", layer="land_transfers",
                                                                          unit="ha")
    out["zonal landcover --continuous"] = zonal_stats(town, "landcover", categorical=False)
    out["candidates"] = find_candidates(town, "ndvi_2022", "ndvi_2023")
    return out


def _import(folder: Path) -> dict[str, Result]:
    """A survey that advances trees, adds one, tries to move one back and has a bad row."""
    from geo_township.layers import load_township
    from geo_township.treeimport import import_survey, tree_history

    town = load_township(folder / "township.toml")
    trees = town.layer("infected_trees").gdf.set_index("tree_id")
    standing = trees[trees["status"].isin(["suspected", "confirmed"])].index[:3].tolist()
    done = trees[trees["status"] == "verified"].index[0]
    lines = ["编号,状态,采伐日期,经度,纬度", *(f"{t},已伐,2023-04-20,," for t in standing),
             "NEW-0001,疑似,,117.50,30.50", f"{done},疑似,,,", "BAD,不知道,,,"]
    survey = folder / "survey.csv"
    survey.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = {"import --dry-run --skip-bad": import_survey(town, survey, dry_run=True, skip_bad=True),
           "import --skip-bad": import_survey(town, survey, skip_bad=True)}
    out["trees --history"] = tree_history(load_township(folder / "township.toml"), standing[0])
    return out


@pytest.fixture(scope="module")
def results(sample_dir, tmp_path_factory) -> dict[str, Result]:
    """What every command returns on the sample, with the CLI's defaults and its main options."""
    from geo_township.checks import check_township
    from geo_township.inventory import describe_layers
    from geo_township.layers import load_township
    from geo_township.webmap import map_summary

    town = load_township(sample_dir / "township.toml")
    copy = tmp_path_factory.mktemp("labels") / "sample"
    shutil.copytree(sample_dir, copy)
    return {**_trees(town), **_rivers_sand_audit(town), **_areas(town), **_rasters(town), **_import(copy),
            "check": check_township(town), "info": describe_layers(town), "map": map_summary(town)}


# --------------------------------------------------------------------------- what they show


def unlabelled_columns(results: dict[str, Result]) -> dict[str, list[str]]:
    """Column → where it appears, for every column with no label in both languages."""
    missing: dict[str, list[str]] = {}
    for run, result in results.items():
        for table, frame in result.all_tables().items():
            for column in map(str, frame.columns):
                own = result.labels.get(column)
                if (own is not None and both(*own)) or has_label(column) or YEAR.fullmatch(column):
                    continue
                missing.setdefault(column, []).append(f"{run}: {table}")
    return missing


def emitted_checks(results: dict[str, Result]) -> dict[str, str]:
    """Check code → the run that emitted it, from the findings and from the tables' check columns."""
    codes: dict[str, str] = {}
    for run, result in results.items():
        for f in result.findings:
            codes.setdefault(f.check, run)
        for frame in result.all_tables().values():
            for column in ("check", "checks"):
                if column in frame.columns:
                    for value in frame[column].dropna().astype(str):
                        for code in value.split(", "):
                            codes.setdefault(code, run)
    return codes


def check_named(code: str) -> bool:
    term = CHECK_NAME.term(code)
    return term is not None and both(term.en, term.zh)


def test_the_analyses_ran(results):
    assert len(results) > 30
    assert all(len(r.all_tables()) for r in results.values())


def test_every_output_column_is_labelled_in_english_and_chinese(results):
    assert unlabelled_columns(results) == {}


def test_every_output_table_is_named_in_english_and_chinese(results):
    names = {table for r in results.values() for table in r.all_tables()}
    assert sorted(n for n in names if n not in TABLE_LABELS or not both(*TABLE_LABELS[n])) == []


def test_every_check_the_sample_triggers_is_named_in_english_and_chinese(results):
    codes = emitted_checks(results)
    assert len(codes) > 10
    assert {c: run for c, run in codes.items() if not check_named(c)} == {}


# --------------------------------------------------------------------------- checks the sample does not trigger

# Finding(...) calls whose check is not a string literal: the expression (as ast.unparse
# writes it) → the codes it can take. A new expression fails test_every_computed_check_is_listed.
COMPUTED_CHECKS: dict[str, tuple[str, ...]] = {
    "f'{id_field}_mismatch'": ("plot_id_mismatch", "village_mismatch"),  # trees: record ≠ location
    "f'outside_{what}s'": ("outside_plots", "outside_villages"),  # trees: outside every plot / village
    "f'active_in_{code}'": ("active_in_no_mining", "active_in_reserved"),  # sand: sand.BANNED_ZONES
    "code": (),  # transfers: the keys of transfers.CHECKS, added in source_checks()
    "check": (),  # checks._cap passes its findings' own check on; sand's rules come from their tuples
}


@functools.cache
def package_nodes() -> tuple[tuple[Path, ast.AST], ...]:
    """Every syntax node of the package's modules, with its file."""
    return tuple((path, node) for path in sorted(PACKAGE.rglob("*.py"))
                 for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))


def finding_calls() -> list[tuple[Path, ast.expr]]:
    """Every Finding(...) construction in the package with the expression of its check."""
    calls = []
    for path, node in package_nodes():
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name != "Finding":
            continue
        check = node.args[3] if len(node.args) > 3 else next(
            (k.value for k in node.keywords if k.arg == "check"), None)
        if check is not None:
            calls.append((path, check))
    return calls


def rule_tuple_checks() -> set[str]:
    """Codes in rule tables written as (mask, severity, "code", message) tuples."""
    codes = set()
    for _, node in package_nodes():
        if (isinstance(node, ast.Tuple) and len(node.elts) >= 3
                and isinstance(node.elts[1], ast.Constant) and node.elts[1].value in SEVERITIES
                and isinstance(node.elts[2], ast.Constant) and isinstance(node.elts[2].value, str)
                and node.elts[2].value not in SEVERITIES):
            codes.add(node.elts[2].value)
    return codes


def source_checks() -> set[str]:
    """Every check code the package can emit, whether or not the sample triggers it."""
    from geo_township.sand import BANNED_ZONES
    from geo_township.transfers import CHECKS

    codes = {c.value for _, c in finding_calls() if isinstance(c, ast.Constant)}
    codes |= rule_tuple_checks() | set(CHECKS)
    codes |= {code for listed in COMPUTED_CHECKS.values() for code in listed}
    assert {f"active_in_{z}" for z in BANNED_ZONES} <= codes
    return codes


def test_every_computed_check_is_listed():
    computed = {ast.unparse(c) for _, c in finding_calls() if not isinstance(c, ast.Constant)}
    assert computed <= set(COMPUTED_CHECKS), "list the codes of the new expression in COMPUTED_CHECKS"


def test_every_check_the_code_can_emit_is_named_in_english_and_chinese(results):
    codes = source_checks()
    assert set(emitted_checks(results)) <= codes, "a check is emitted that the source scan misses"
    assert sorted(c for c in codes if not check_named(c)) == []


def test_every_named_check_is_named_in_both_languages():
    assert [t.code for t in CHECK_NAME.terms if not both(t.en, t.zh)] == []


# --------------------------------------------------------------------------- the label functions


def test_column_label_still_falls_back_to_the_name():
    assert column_label("no_such_column") == "no_such_column"
    assert column_label("no_such_column", "zh") == "no_such_column"
    assert column_label("area_ha", "zh") == "面积(公顷)" and column_label("area_ha") == "Area (ha)"
    assert column_label("village", "zh") == "村" and column_label("patch_id") == "Candidate"


def test_has_label_and_missing_labels():
    assert has_label("village") and has_label("area_mu") and has_label("clearance_pct")
    assert not has_label("no_such_column")
    assert column_labels("no_such_column") is None
    assert missing_labels(["village", "no_such_column", "zz", "no_such_column"]) == ["no_such_column", "zz"]


def test_table_label_falls_back_to_the_spaced_name():
    assert table_label("by_village", "zh") == "按村"
    assert table_label("no_such_table") == "no such table"


def test_kinds_take_their_names_from_the_layer_kind_vocabulary():
    assert tuple(KINDS) == LAYER_KIND.codes
    for term in LAYER_KIND.terms:
        assert (KINDS[term.code].en, KINDS[term.code].zh) == (term.en, term.zh)
        assert both(term.en, term.zh)


def test_vocabulary_and_labels_sit_below_the_kinds():
    """vocabulary and labels import nothing of the package above errors and units
    (labels may read the land-cover vocabulary for its class columns)."""
    allowed = {"vocabulary.py": {"geo_township.errors", "geo_township.units"},
               "labels.py": {"geo_township.errors", "geo_township.units", "geo_township.vocabulary"}}
    for name, ok in allowed.items():
        tree = ast.parse((PACKAGE / name).read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert {m for m in imported if m.startswith("geo_township")} <= ok, name
