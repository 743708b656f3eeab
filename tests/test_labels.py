"""Every table an officer sees is headed in English and in Chinese, and every check code
has a name in both: run every analysis the CLI offers on the bundled sample, collect the
columns, table names and check codes of what they return, and ask the labels for each.

A new column, table or check without a label makes this file fail; add the label to
``geo_township/labels.py`` (columns, tables), or give the check its names where it is
declared (``Check(code, severity, name_en, name_zh, message_en, message_zh)`` next to its
analysis, listed in ``geo_township.checklist.CHECK_MODULES``).
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from geo_township.checklist import CHECK_MODULES, all_checks
from geo_township.kinds import KINDS, column_label, column_labels, has_label, missing_labels
from geo_township.labels import TABLE_LABELS, has_cjk, table_label
from geo_township.results import Result, localise
from geo_township.vocabulary import LAYER_KIND, VOCABULARIES

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
    check = all_checks().get(code)
    return check is not None and both(check.name_en, check.name_zh)


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

# Receivers of .finding(...)/.more(...) and subscripts of a check set whose code is not
# written out (as ast.unparse writes them) → the codes they can take. A new expression
# fails test_every_computed_check_is_listed.
COMPUTED_CHECKS: dict[str, tuple[str, ...]] = {
    "TREE_CHECKS[f'{id_field}_mismatch']": ("plot_id_mismatch", "village_mismatch"),  # record ≠ location
    "TREE_CHECKS[f'outside_{what}s']": ("outside_plots", "outside_villages"),  # outside every plot / village
    "SAND_CHECKS[f'active_in_{code}']": ("active_in_no_mining", "active_in_reserved"),  # sand.BANNED_ZONES
    "CHECKS[code]": (),  # transfers: the keys of transfers.CHECKS, added in source_checks()
    "check": (),  # a check passed on: checks._cap, sand's rules, the audit's layer findings (all referenced by name)
}

NOT_YET_IN_CHINESE: set[str] = set()
"""Checks whose message has no Chinese wording (the English one would be shown): none, and
it must stay so — a new check is declared with its Chinese message template."""

_CHECK_METHODS = {"finding", "more", "reworded", "with_severity", "name", *dir(dict)}


def _is_check_set(node: ast.AST) -> bool:
    """A name like TREE_CHECKS or CHECKS: a set of declared checks."""
    return isinstance(node, ast.Name) and (node.id == "CHECKS" or node.id.endswith("_CHECKS"))


@functools.cache
def package_nodes() -> tuple[tuple[Path, ast.AST], ...]:
    """Every syntax node of the package's modules, with its file."""
    return tuple((path, node) for path in sorted(PACKAGE.rglob("*.py"))
                 for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))


def module_constants(path: Path) -> dict[str, ast.expr]:
    """The module-level ``NAME = expression`` assignments of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {t.id: node.value for node in tree.body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name)}


def check_expression(path: Path, node: ast.expr) -> ast.expr:
    """The expression naming a check, without ``.reworded(...)``/``.with_severity(...)``
    and with a module constant (``NO_CHIEF_FIELD = PATROL_CHECKS.no_chief_field.reworded(...)``)
    replaced by its value."""
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ("reworded", "with_severity"):
            node = node.func.value
        elif isinstance(node, ast.Name) and node.id in module_constants(path) and not node.id.endswith("CHECKS"):
            node = module_constants(path)[node.id]
        else:
            return node


def finding_sites() -> list[tuple[Path, ast.expr]]:
    """Every ``X.finding(...)`` and ``X.more(...)`` in the package with the expression naming its check."""
    return [(path, check_expression(path, node.func.value)) for path, node in package_nodes()
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("finding", "more") and not (isinstance(node.func.value, ast.Name)
                                                              and node.func.value.id == "self")]


def referenced_checks() -> set[str]:
    """Codes the package names through a check set (``SAND_CHECKS.illegal_not_closed``,
    ``RECORD_CHECKS["unreadable"]``)."""
    codes = set()
    for _, node in package_nodes():
        if isinstance(node, ast.Attribute) and _is_check_set(node.value) and node.attr not in _CHECK_METHODS:
            codes.add(node.attr)
        elif isinstance(node, ast.Subscript) and _is_check_set(node.value) and isinstance(node.slice, ast.Constant):
            codes.add(node.slice.value)
    return codes


def declared_in_source() -> dict[str, Path]:
    """Every ``Check("code", ...)`` written in the package, code → file."""
    return {node.args[0].value: path for path, node in package_nodes()
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Check"
            and node.args and isinstance(node.args[0], ast.Constant)}


def source_checks() -> set[str]:
    """Every check code the package can emit, whether or not the sample triggers it."""
    from geo_township.sand import BANNED_ZONES
    from geo_township.transfers import CHECKS

    codes = referenced_checks()
    for _, expr in finding_sites():
        if isinstance(expr, ast.Attribute) and _is_check_set(expr.value):
            codes.add(expr.attr)
    codes |= set(CHECKS) | set(declared_in_source())
    codes |= {code for listed in COMPUTED_CHECKS.values() for code in listed}
    assert {f"active_in_{z}" for z in BANNED_ZONES} <= codes
    return codes


def test_findings_are_built_only_by_checks():
    """No Finding(...) outside results.py: every finding comes from a declared Check."""
    built = [path.name for path, node in package_nodes() if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Name) and node.func.id == "Finding" and path.name != "results.py"]
    assert built == []


def test_every_computed_check_is_listed():
    computed = {ast.unparse(expr) for _, expr in finding_sites()
                if not (isinstance(expr, ast.Attribute) and _is_check_set(expr.value))}
    assert computed <= set(COMPUTED_CHECKS), "list the codes of the new expression in COMPUTED_CHECKS"


def test_every_module_that_declares_checks_is_listed():
    declaring = {".".join(("geo_township", *path.relative_to(PACKAGE).with_suffix("").parts))
                 for path, node in package_nodes() if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Name) and node.func.id == "declare"
                 and path.name != "results.py"}
    assert declaring == set(CHECK_MODULES)


def test_every_check_the_code_refers_to_is_declared():
    checks = all_checks()
    assert sorted(set(declared_in_source()) - set(checks)) == []
    assert sorted(referenced_checks() - set(checks)) == []
    assert sorted(c for listed in COMPUTED_CHECKS.values() for c in listed if c not in checks) == []


def test_every_check_the_code_can_emit_is_named_in_english_and_chinese(results):
    codes = source_checks()
    assert set(emitted_checks(results)) <= codes, "a check is emitted that the source scan misses"
    assert sorted(c for c in codes if not check_named(c)) == []


def test_every_named_check_is_named_in_both_languages():
    assert [c.code for c in all_checks().values() if not both(c.name_en, c.name_zh)] == []


def test_every_check_has_its_messages_in_english_and_chinese():
    checks = all_checks().values()
    assert [c.code for c in checks if not c.message_en.strip()] == []
    assert [c.code for c in checks if c.message_zh and not has_cjk(c.message_zh)] == []
    assert sorted(c.code for c in checks if not c.message_zh) == sorted(NOT_YET_IN_CHINESE)


def test_tables_and_the_map_name_every_check():
    """localise and the map's popups name every check through the vocabulary check_name;
    the audit's vocabulary audit_check names its own checks only."""
    from geo_township.transfers import CHECKS as AUDIT
    from geo_township.webmap.fields import vocabulary_words

    checks = all_checks()
    frame = localise(pd.DataFrame({"check": list(checks)}), "zh", headings=False)
    assert frame["check"].tolist() == [c.name_zh for c in checks.values()]
    for vocab, codes in (("check_name", list(checks)), ("audit_check", list(AUDIT))):
        words = vocabulary_words(pd.Series(["overlap, area_mismatch"]), VOCABULARIES[vocab], "en")
        assert words["overlap, area_mismatch"] == f"{checks['overlap'].name_en}; {checks['area_mismatch'].name_en}"
        assert [t.code for t in VOCABULARIES[vocab].terms] == codes
        assert [VOCABULARIES[vocab].label(code, "zh") for code in codes] == [checks[c].name_zh for c in codes]
    assert VOCABULARIES["audit_check"].label("illegal_not_closed") == "illegal_not_closed"


# --------------------------------------------------------------------------- the label functions


def test_column_label_still_falls_back_to_the_name():
    assert column_label("no_such_column") == "no_such_column"
    assert column_label("no_such_column", "zh") == "no_such_column"
    assert column_label("area_ha", "zh") == "面积(公顷)" and column_label("area_ha") == "Area (ha)"
    assert column_label("village", "zh") == "村" and column_label("patch_id") == "Patch"


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


def test_every_parameter_says_what_it_means_in_both_languages():
    """township.toml's parameters are documented in English and Chinese from one registry
    (the docs' parameter tables are drawn from it)."""
    from geo_township.config import PARAMETERS
    from geo_township.labels import has_cjk

    assert [p.name for p in PARAMETERS.values() if not p.doc or has_cjk(p.doc)] == []
    assert [p.name for p in PARAMETERS.values() if not has_cjk(p.doc_zh)] == []
