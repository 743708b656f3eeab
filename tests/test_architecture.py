"""Dependencies point one way: only the CLI imports click, only the map imports folium,
only the raster modules (and the sample generator) import rasterio."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "geo_township"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def modules():
    return [p for p in PACKAGE.rglob("*.py")]


def rel(p: Path) -> str:
    return p.relative_to(PACKAGE).as_posix()


def test_only_the_cli_imports_click():
    offenders = [rel(p) for p in modules() if "click" in imported_modules(p) and not rel(p).startswith("cli/")]
    assert offenders == []


def test_only_the_map_imports_folium():
    offenders = [rel(p) for p in modules() if {"folium", "branca"} & imported_modules(p)
                 and not (rel(p).startswith("webmap") or rel(p).startswith("cli/"))]
    assert offenders == []


def test_only_raster_modules_import_rasterio():
    allowed = ("raster", "candidates", "sample/")
    offenders = [rel(p) for p in modules() if {"rasterio", "exactextract"} & imported_modules(p)
                 and not rel(p).startswith(allowed)]
    assert offenders == []


def test_library_import_does_not_load_click():
    names = sorted("geo_township." + rel(p)[:-3].replace("/", ".").removesuffix(".__init__")
                   for p in modules() if not rel(p).startswith(("cli/", "__main__")) and not rel(p).endswith("__main__.py"))
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
