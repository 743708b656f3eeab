"""The package's layering, as data, and the tests that hold the code to it.

:data:`ALLOWED` says which parts of the package each part may import (a part is a module,
or a sub-package taken whole: ``cli``, ``webmap``, ``io``, ``raster``, ``sample``). Every
import counts: at the top of a module, inside a function (lazy) and under
``TYPE_CHECKING``. An import that is not in the table fails :func:`test_every_import_is_allowed`;
a cycle between modules (inside a sub-package too) fails :func:`test_no_import_cycles`.
``python tests/test_architecture.py`` draws the table in docs/python.md, and a test checks
that the drawing there is the current one.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "geo_township"
SUBPACKAGES = ("cli", "export", "io", "layerimport", "printmap", "propose", "raster", "report", "sample",
               "transfers", "treeimport", "webmap")


def module_name(path: Path) -> str:
    """``geo_township/io/read.py`` → ``io.read``; a package's ``__init__`` is the package."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "__init__"


def part_of(module: str) -> str:
    """The part of the layering table a module belongs to."""
    head = module.split(".")[0]
    return head if head in SUBPACKAGES else module


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(target: str, known: dict[str, Path]) -> str | None:
    """The package module an import names (``geo_township.x.y`` → ``x.y``), or None outside."""
    if target == "geo_township":
        return "__init__"
    if not target.startswith("geo_township."):
        return None
    name = target.removeprefix("geo_township.")
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int, list[str]]]:
    """(imported module, line, names taken) for every import of the package in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found = _resolve(alias.name, known)
                if found:
                    yield found, node.lineno, []
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                found = _resolve(f"{node.module}.{alias.name}", known)
                if found and found != _resolve(node.module, known):
                    yield found, node.lineno, []  # a submodule imported by name
                elif found:
                    yield found, node.lineno, [alias.name]


def graph() -> dict[str, set[str]]:
    """Module → the package modules it imports (any import, anywhere in the file)."""
    known = modules()
    return {m: {t for t, _, _ in imports_of(p, known) if t != m} for m, p in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


def private_imports(path: Path, known: dict[str, Path]) -> list[str]:
    """Names starting with ``_`` that ``path`` takes from another package module: imported
    by name, or reached as an attribute of an imported module (``read._find``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = _resolve(f"{node.module}.{alias.name}", known)
                if sub and sub != _resolve(node.module, known):
                    aliases[alias.asname or alias.name] = sub
                elif (_resolve(node.module, known) and alias.name.startswith("_")
                      and not (alias.name.startswith("__") and alias.name.endswith("__"))):
                    found.append(f"line {node.lineno}: {alias.name} from {node.module}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and _resolve(alias.name, known):
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def levels(allowed: dict[str, set[str]]) -> dict[str, int]:
    """Each part's floor: 0 for a part that imports nothing of the package, else one above
    the highest part it may import."""
    out: dict[str, int] = {}

    def floor(part: str) -> int:
        if part not in out:
            out[part] = 0
            out[part] = 1 + max((floor(t) for t in allowed.get(part, ())), default=-1)
        return out[part]

    for part in allowed:
        floor(part)
    return out


def diagram(allowed: dict[str, set[str]]) -> str:
    """The layering as text, top floor first: a part may import only parts on lower floors
    (and only those :data:`ALLOWED` names for it)."""
    floors = levels(allowed)
    return "\n".join(f"floor {level:>2}: " + ", ".join(sorted(p for p, f in floors.items() if f == level))
                     for level in sorted(set(floors.values()), reverse=True))


#: Which parts of the package each part may import. A part missing here imports nothing of
#: the package. Read top-down: the CLI, then the map, then analyses that build on others,
#: then the analyses, the domain rules (location, zones, events), the layers, and at the
#: bottom the data (vocabularies, labels, kinds), units, coordinate systems and errors.
ALLOWED: dict[str, set[str]] = {
    # the command line and what only it uses
    "__main__": {"cli"},
    "cli": {"candidates", "checks", "convert", "county", "engine", "errors", "export", "inventory", "io", "labels",
            "layerimport", "layers", "printmap", "propose", "raster", "report", "results", "rivers", "sand",
            "scaffold", "transfers", "tree_deadlines", "tree_stream", "treeimport", "trees", "units", "webmap"},
    "printmap": {"errors", "io", "layers", "locate", "raster", "webmap"},
    # the year's report: the analyses' Results, the print map and the interactive map; a county's, joined
    "report": {"county", "errors", "io", "kinds", "labels", "layers", "measure", "printmap", "results", "rivers",
               "sand", "export", "transfers", "tree_events", "tree_plots", "trees", "vocabulary", "webmap"},
    "propose": {"config", "crs", "errors", "io", "kinds", "raster", "vocabulary"},
    "scaffold": {"config", "errors", "sample"},
    "convert": {"errors", "io", "layers"},
    # the interactive map
    "webmap": {"candidates", "checklist", "config", "county", "crs", "errors", "io", "kinds", "labels", "layers",
               "locate", "measure", "overlay", "raster", "results", "rivers", "sand", "transfers", "trees",
               "vocabulary", "zones"},
    "checklist": {"results"},
    # writing layers and analyses' features for phones, spreadsheets, GIS and PostGIS
    "export": {"errors", "io", "kinds", "layers", "locate", "vocabulary"},
    # a county: the analyses run on each of its townships, joined
    "county": {"config", "errors", "labels", "layers", "measure", "overlaps", "places", "results", "units"},
    # analyses that build on another analysis
    "tree_stream": {"config", "engine", "errors", "hotspots", "io", "kinds", "layerfile", "layers", "locate",
                    "parallel", "results", "tree_deadlines", "tree_events", "tree_places", "tree_plots", "trees"},
    "trees": {"engine", "errors", "hotspots", "io", "labels", "layers", "results", "tree_checks", "tree_deadlines",
              "tree_events", "tree_places", "tree_plots"},
    "hotspots": {"density", "errors", "labels", "layers", "tree_events"},
    "candidates": {"config", "errors", "export", "io", "labels", "layers", "measure", "raster", "results",
                   "vocabulary"},
    "rivers": {"errors", "kinds", "labels", "layers", "locate", "measure", "patrols", "results", "units", "zones"},
    # analyses
    "checks": {"crs", "engine", "errors", "layers", "leftout", "measure", "record_checks", "results", "shift_fit",
               "village_names", "vocabulary"},
    "inventory": {"crs", "engine", "errors", "kinds", "labels", "layers", "locate", "measure", "record_checks",
                  "results", "units"},
    "patrols": {"errors", "kinds", "labels", "layers", "measure", "results", "units", "vocabulary", "zones"},
    "raster": {"config", "crs", "engine", "errors", "export", "io", "kinds", "labels", "layers", "locate", "measure",
               "results", "units", "vocabulary"},
    "sand": {"errors", "kinds", "labels", "layers", "locate", "measure", "results", "vocabulary", "zones"},
    "transfers": {"config", "engine", "errors", "export", "io", "kinds", "labels", "layers", "measure", "overlaps",
                  "overlay", "record_checks", "results", "units", "vocabulary", "zones"},
    "layerimport": {"config", "crs", "errors", "io", "kinds", "labels", "layers", "results", "treeimport", "values",
                  "vocabulary"},
    "treeimport": {"config", "crs", "errors", "io", "kinds", "labels", "layers", "record_checks", "results",
                   "tree_events", "values", "vocabulary"},
    "tree_deadlines": {"errors", "export", "io", "kinds", "labels", "layers", "results", "tree_checks",
                       "tree_events", "tree_places", "vocabulary"},
    "tree_plots": {"engine", "layers", "locate", "measure", "tree_places", "vocabulary"},
    # domain rules and check declarations shared by the analyses
    "tree_events": {"errors", "layers", "vocabulary"},
    "tree_places": {"engine", "labels", "layers", "locate", "results", "tree_checks"},
    "tree_checks": {"results"},
    "record_checks": {"results"},
    "zones": {"errors", "measure"},
    "density": set(),
    "parallel": set(),
    "engine": {"errors", "locate", "measure", "overlaps", "parallel", "units"},
    "overlaps": {"errors", "measure"},
    "shift_fit": {"crs"},
    "locate": set(),
    "village_names": {"labels", "layers", "locate", "results"},
    # a township's layers
    "layers": {"config", "crs", "errors", "io", "kinds", "layerfile", "leftout", "places", "results"},
    "places": {"config", "errors"},
    "layerfile": {"config", "crs", "errors", "io", "kinds", "labels", "leftout", "rownumbers", "values", "vocabulary"},
    "rownumbers": set(),
    "leftout": {"crs", "io", "results"},
    "results": {"kinds", "labels", "vocabulary"},
    "config": {"crs", "errors", "io", "kinds", "vocabulary"},
    "io": {"crs", "errors", "kinds", "labels", "vocabulary"},
    "measure": {"crs", "errors", "labels", "units"},
    "values": {"vocabulary"},
    # data, units, coordinate systems, errors
    "kinds": {"errors", "labels", "vocabulary"},
    "labels": {"units", "vocabulary"},
    "vocabulary": set(),
    "overlay": {"errors"},
    "crs": {"errors", "labels"},
    "units": {"errors"},
    "errors": set(),
    "sample": {"units"},
}
#: Modules allowed past :data:`MAX_MODULE_LINES` (none today).
LONG_MODULES: set[str] = set()
MAX_MODULE_LINES = 600
LAYERING_DOC = PACKAGE.parent / "docs" / "python.md"
DIAGRAM = re.compile(r"(<!-- architecture -->\n```text\n)(.*?)(```\n<!-- /architecture -->)", re.DOTALL)


def test_every_import_is_allowed():
    known = modules()
    wrong = []
    for module, path in known.items():
        here = part_of(module)
        for target, line, _ in imports_of(path, known):
            there = part_of(target)
            if there != here and there not in ALLOWED.get(here, set()):
                may = ", ".join(sorted(ALLOWED.get(here, set()))) or "nothing of the package"
                wrong.append(f"geo_township/{path.relative_to(PACKAGE)}:{line} imports {target} "
                             f"({here} may import: {may})")
    assert wrong == [], "imports outside the layering table:\n" + "\n".join(wrong)


def test_every_part_is_in_the_table():
    parts = {part_of(m) for m in modules()} - {"__init__"}
    assert sorted(parts - set(ALLOWED)) == [], "add these parts to ALLOWED"
    assert sorted(set(ALLOWED) - parts) == [], "these parts of ALLOWED no longer exist"


def test_the_table_has_no_cycle():
    assert cycles(ALLOWED) == []


def test_no_import_cycles():
    assert cycles(graph()) == [], "modules that import each other (lazy imports count)"


def test_the_cycle_finder_finds_a_lazy_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_takes_a_private_name_from_another():
    known = modules()
    found = [f"geo_township/{p.relative_to(PACKAGE)} {hit}" for p in known.values()
             for hit in private_imports(p, known)]
    assert found == []


def test_no_module_is_too_long():
    long = {m: n for m, p in modules().items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES and m not in LONG_MODULES}
    assert long == {}


def test_the_docs_show_the_current_layering():
    match = DIAGRAM.search(LAYERING_DOC.read_text(encoding="utf-8"))
    assert match, "docs/python.md lacks the <!-- architecture --> block"
    assert match.group(2) == diagram(ALLOWED) + "\n", "run: python tests/test_architecture.py"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def python_files() -> list[Path]:
    return list(PACKAGE.rglob("*.py"))


def rel(p: Path) -> str:
    return p.relative_to(PACKAGE).as_posix()


def test_only_the_cli_imports_click():
    offenders = [rel(p) for p in python_files() if "click" in imported_modules(p) and not rel(p).startswith("cli/")]
    assert offenders == []


def test_only_the_map_imports_folium():
    offenders = [rel(p) for p in python_files() if {"folium", "branca"} & imported_modules(p)
                 and not (rel(p).startswith("webmap") or rel(p).startswith("cli/"))]
    assert offenders == []


def test_only_raster_modules_import_rasterio():
    allowed = ("raster", "candidates", "sample/")
    offenders = [rel(p) for p in python_files() if {"rasterio", "exactextract"} & imported_modules(p)
                 and not rel(p).startswith(allowed)]
    assert offenders == []


def test_library_import_does_not_load_click():
    names = sorted("geo_township." + rel(p)[:-3].replace("/", ".").removesuffix(".__init__")
                   for p in python_files()
                   if not rel(p).startswith(("cli/", "__main__")) and not rel(p).endswith("__main__.py"))
    code = ("import sys, importlib\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "    assert 'click' not in sys.modules, 'click imported by ' + name\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_help_does_not_import_geopandas():
    code = ("import sys\nfrom geo_township.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'geopandas' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


if __name__ == "__main__":  # rewrite the diagram in docs/python.md from ALLOWED
    text = LAYERING_DOC.read_text(encoding="utf-8")
    LAYERING_DOC.write_text(DIAGRAM.sub(lambda m: m.group(1) + diagram(ALLOWED) + "\n" + m.group(3), text),
                      encoding="utf-8")
