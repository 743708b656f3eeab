"""The peers the commands are measured against, each run as its own process by the
benchmark scripts: DuckDB with its spatial extension, loaded from the files of the
``duckdb`` and ``duckdb-extension-spatial`` packages (nothing is downloaded at run time).

    pip install --target /tmp/duckdb-env duckdb duckdb-extension-spatial
    python benchmarks/trees_command.py --duckdb-path /tmp/duckdb-env

Without ``--duckdb-path`` the packages are looked for in the running Python; when they
are missing, the DuckDB columns are left out and the scripts say so.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def duckdb_available(path: Path | None = None) -> str:
    """'' when DuckDB and its spatial extension can be loaded (from ``path`` when given),
    else why not."""
    try:
        connect(path)
    except (ImportError, OSError, RuntimeError) as exc:
        return str(exc)
    return ""


def connect(path: Path | None = None) -> Any:
    """A DuckDB connection with the spatial extension loaded from the installed package's
    file (automatic installs, which would download, are turned off)."""
    if path is not None and str(path) not in sys.path:
        sys.path.insert(0, str(path))
    import duckdb
    import duckdb_extension_spatial

    files = sorted(Path(duckdb_extension_spatial.__file__).parent.glob("extensions/*/spatial.duckdb_extension"))
    if not files:
        raise RuntimeError("the duckdb-extension-spatial package holds no spatial.duckdb_extension file")
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"LOAD '{files[-1]}'")
    return con


def duckdb_trees(township: Path, out: Path, path: Path | None = None) -> None:
    """Trees per plot and status, DuckDB's way: ``ST_Read`` both layers, a spatial join
    (a tree on a shared edge to the lowest plot id), ``PIVOT``, ``COPY`` to CSV (the
    same table as the geopandas baseline)."""
    con = connect(path)
    trees = str(township / "infected_trees.gpkg").replace("'", "''")
    plots = str(township / "forest_plots.gpkg").replace("'", "''")
    target = str(out).replace("'", "''")
    con.execute(f"""
        CREATE TABLE located AS
        WITH t AS (SELECT row_number() OVER () AS tid, "状态" AS status, geom FROM ST_Read('{trees}')),
             p AS (SELECT "小班号" AS plot, geom FROM ST_Read('{plots}'))
        SELECT coalesce(min(p.plot), '(outside)') AS plot, any_value(t.status) AS status
        FROM t LEFT JOIN p ON ST_Intersects(t.geom, p.geom)
        GROUP BY t.tid""")
    con.execute(f"COPY (PIVOT located ON status USING count(*) GROUP BY plot ORDER BY plot) TO '{target}' "
                "(HEADER, DELIMITER ',')")


def duckdb_area(township: Path, out: Path, target_epsg: int, path: Path | None = None) -> None:
    """Planar area of the plots per village, DuckDB's way: ``ST_Read``, ``ST_Transform`` to
    the Gauss–Krüger zone ``target_epsg``, ``ST_Area``, ``GROUP BY``, CSV (m²)."""
    con = connect(path)
    plots = str(township / "forest_plots.gpkg").replace("'", "''")
    target = str(out).replace("'", "''")
    con.execute(f"""
        COPY (SELECT coalesce("村名", '(none)') AS village, count(*) AS count,
                     sum(ST_Area(ST_Transform(geom, 'EPSG:4490', 'EPSG:{target_epsg}', always_xy := true))) AS area_m2
              FROM ST_Read('{plots}') GROUP BY village ORDER BY village) TO '{target}' (HEADER, DELIMITER ',')""")
