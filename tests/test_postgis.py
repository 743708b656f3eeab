"""PostGIS layers and `export --to postgis`, against a real PostgreSQL + PostGIS server
(:mod:`pg_server`: GEO_TOWNSHIP_PG_URL, else a temporary cluster; skipped with the reason
when neither is possible, failed instead when GEO_TOWNSHIP_REQUIRE_POSTGIS=1).

The sample's villages go into the database by plain SQL (psycopg, WKB), not by the tool,
and what the tool reads back is compared with the sample's file layer; what the tool
writes is read back by plain SQL."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
import pyogrio
import pytest
import shapely
from pg_server import postgis_server

from geo_township.cli import main


@pytest.fixture(scope="module")
def server():
    with postgis_server() as found:
        if isinstance(found, str):
            if os.environ.get("GEO_TOWNSHIP_REQUIRE_POSTGIS") == "1":
                pytest.fail(f"PostGIS tests are required here but cannot run: {found}")
            pytest.skip(found)
        with pytest.MonkeyPatch.context() as mp:  # the password for the module's own SQL, restored after
            mp.setenv("PGPASSWORD", found.password)
            _load_villages(found.url, Path(__file__).resolve().parent.parent / "layers")
            yield found


@pytest.fixture
def pg(server, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", server.password)
    return server


def _load_villages(url: str, sample: Path) -> None:
    """The sample's villages as three tables: as in the file (CGCS2000, SRID 4490), in the
    Gauss–Krüger zone (SRID 4548) and in a schema of its own."""
    raw = pyogrio.read_dataframe(sample / "township.gpkg", layer="villages")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS forestry")
        for table, srid in (("public.villages_src", 4490), ("forestry.villages_gk", 4548)):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"CREATE TABLE {table} (gid serial PRIMARY KEY, 村名 text, 村代码 text, "
                         f"geom geometry(MultiPolygon, {srid}))")
            with conn.cursor() as cur:
                for name, code, geom in zip(raw["村名"], raw["村代码"], raw.geometry, strict=True):
                    multi = shapely.MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom
                    cur.execute(f"INSERT INTO {table} (村名, 村代码, geom) VALUES (%s, %s, "
                                f"ST_Multi(ST_Transform(ST_GeomFromWKB(%s, 4490), {srid})))",
                                (name, code, shapely.to_wkb(multi)))


def run(runner, *args):
    return runner.invoke(main, [str(a) for a in args])


def township_with(sample_dir: Path, tmp_path: Path, villages: str) -> Path:
    """A copy of the sample whose [layers.villages] section is ``villages``."""
    dest = tmp_path / "town"
    shutil.copytree(sample_dir, dest)
    toml = dest / "township.toml"
    text = toml.read_text(encoding="utf-8")
    old = '[layers.villages]\npath = "township.gpkg"\nlayer = "villages"'
    assert old in text
    toml.write_text(text.replace(old, "[layers.villages]\n" + villages), encoding="utf-8")
    return dest


def areas(runner, town: Path) -> pd.DataFrame:
    result = run(runner, "area", "villages", "--by", "village", "--format", "json", "--township", town)
    assert result.exit_code == 0, result.stderr
    import json

    tables = json.loads(result.stdout)["tables"]
    return pd.DataFrame(next(iter(tables.values())))


@pytest.mark.parametrize("section", [
    'table = "public.villages_src"',
    'sql = "SELECT 村名, 村代码, geom FROM forestry.villages_gk WHERE 村代码 IS NOT NULL"',
])
def test_villages_from_postgis_give_the_file_layers_areas(pg, runner, sample_dir, tmp_path, section):
    town = township_with(sample_dir, tmp_path, f'path = "{pg.url}"\n{section}')
    from_db = areas(runner, town)
    from_file = areas(runner, sample_dir)
    assert len(from_db) == len(from_file) == 11  # ten villages and the total
    pd.testing.assert_frame_equal(from_db, from_file, rtol=1e-9)
    info = run(runner, "info", "--township", town)
    assert info.exit_code == 0, info.stderr
    assert "EPSG:4490" in info.stdout if "src" in section else "EPSG:4548" in info.stdout
    check = run(runner, "check", "--township", town)
    assert check.exit_code in (0, 1) and "PostGIS" in check.stdout


def test_the_crs_is_the_geometry_columns_srid(pg):
    from geo_township.io.postgis import read_postgis

    gk = read_postgis(pg.url, table="forestry.villages_gk")
    src = read_postgis(pg.url, sql="SELECT 村名, geom AS shape FROM public.villages_src")
    assert gk.crs.to_epsg() == 4548 and src.crs.to_epsg() == 4490
    raw = pyogrio.read_dataframe(Path(__file__).resolve().parent.parent / "layers" / "township.gpkg",
                                 layer="villages").set_index("村名")
    for name, geom in zip(gk["村名"], gk.to_crs(4490).geometry, strict=True):
        assert shapely.hausdorff_distance(geom, raw.at[name, "geometry"]) < 1e-7


def test_big_tables_are_read_in_chunks(pg, monkeypatch):
    from geo_township.io import postgis

    chunks: list[int] = []
    real = gpd.read_postgis

    def counting(*args, **kwargs):
        for part in real(*args, **kwargs):
            chunks.append(len(part))
            yield part

    monkeypatch.setattr(postgis.gpd, "read_postgis", counting)
    gdf = postgis.read_postgis(pg.url, table="public.villages_src", chunksize=3)
    assert chunks == [3, 3, 3, 1] and len(gdf) == 10
    assert sorted(gdf["村名"]) == sorted(pyogrio.read_dataframe(
        Path(__file__).resolve().parent.parent / "layers" / "township.gpkg", layer="villages")["村名"])


def test_the_password_comes_from_pgpassword_or_pgpass(pg, runner, sample_dir, tmp_path, monkeypatch):
    town = township_with(sample_dir, tmp_path, f'path = "{pg.url}"\ntable = "public.villages_src"')
    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    result = run(runner, "area", "villages", "--township", town)
    assert result.exit_code == 2 and "PGPASSWORD" in result.stderr and "Traceback" not in result.stderr
    pgpass = tmp_path / "pgpass"
    host, port = pg.url.split("@")[1].split("/")[0].split(":")
    pgpass.write_text(f"{host}:{port}:*:{pg.url.split('//')[1].split('@')[0]}:{pg.password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert run(runner, "area", "villages", "--township", town).exit_code == 0


def test_a_password_in_township_toml_is_refused(pg, runner, sample_dir, tmp_path):
    with_password = pg.url.replace("@", ":secret@", 1)
    town = township_with(sample_dir, tmp_path, f'path = "{with_password}"\ntable = "public.villages_src"')
    result = run(runner, "info", "--township", town)
    assert result.exit_code == 2
    assert "password" in result.stderr and "PGPASSWORD" in result.stderr and "secret" not in result.stderr.replace(
        "password", "")
    town2 = township_with(sample_dir, tmp_path / "b", f'path = "{pg.url}"')
    result = run(runner, "info", "--township", town2)
    assert result.exit_code == 2 and "table" in result.stderr and "sql" in result.stderr


def test_export_to_postgis_reads_back_equal(pg, runner, sample_dir):
    result = run(runner, "export", "infected_trees", "--where", "status == 'confirmed'", "--to", "postgis", pg.url,
                 "--table", "forestry.confirmed_trees", "--township", sample_dir)
    assert result.exit_code == 0, result.stderr
    raw = pd.read_csv(sample_dir / "infected_trees.csv", dtype=str, encoding="utf-8-sig")
    raw = raw[raw["状态"] == "已确认"].set_index("编号")
    with psycopg.connect(pg.url) as conn:
        rows = conn.execute("SELECT tree_id, ST_X(ST_Transform(geometry, 4490)), ST_Y(ST_Transform(geometry, 4490)), "
                            "ST_SRID(geometry), status FROM forestry.confirmed_trees").fetchall()
    assert {r[0] for r in rows} == set(raw.index) and len(rows) == len(raw)
    for tree_id, x, y, _srid, status in rows:
        assert abs(x - float(raw.at[tree_id, "经度"])) < 1e-7 and abs(y - float(raw.at[tree_id, "纬度"])) < 1e-7
        assert status == "confirmed"
    assert {r[3] for r in rows} == {4548}


def test_a_failed_export_leaves_the_old_table(pg, runner, sample_dir):
    from geo_township.errors import LayerReadError
    from geo_township.export import export_features

    assert run(runner, "export", "villages", "--to", "postgis", pg.url, "--table", "public.keep",
               "--township", sample_dir).exit_code == 0
    with psycopg.connect(pg.url) as conn:
        before = conn.execute("SELECT village, ST_AsBinary(geometry) FROM public.keep ORDER BY village").fetchall()
    assert len(before) == 10
    bad = gpd.GeoDataFrame({"village": ["甲村", "乙村\x00"]},  # PostgreSQL refuses a NUL in text: the 2nd row fails
                           geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=4548)
    with pytest.raises(LayerReadError, match="left as it was"):
        export_features(bad, pg.url, name="keep", fmt="postgis", table="public.keep")
    with psycopg.connect(pg.url) as conn:
        after = conn.execute("SELECT village, ST_AsBinary(geometry) FROM public.keep ORDER BY village").fetchall()
        leftovers = conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'keep__new_%'").fetchall()
    assert after == before and leftovers == []


KILLED_WRITER = """
import sys
import geopandas as gpd
import numpy as np
import shapely
from geo_township.io.postgis import write_postgis

n = 400_000
gdf = gpd.GeoDataFrame({"village": np.char.add("v", np.arange(n).astype(str))},
                       geometry=shapely.points(np.linspace(500000, 510000, n), np.full(n, 3370000.0)), crs=4548)
write_postgis(gdf, sys.argv[1], "public.killed")
"""


def test_a_killed_export_leaves_the_old_table(pg, runner, sample_dir, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    assert run(runner, "export", "villages", "--to", "postgis", pg.url, "--table", "public.killed",
               "--township", sample_dir).exit_code == 0
    script = tmp_path / "writer.py"
    script.write_text(KILLED_WRITER, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), pg.url])
    seen = False
    try:
        deadline = time.monotonic() + 120
        with psycopg.connect(pg.url, autocommit=True) as conn:
            while time.monotonic() < deadline and proc.poll() is None:
                busy = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'COPY%killed__new_%' "
                                    "OR query ILIKE 'INSERT INTO%killed__new_%'").fetchone()[0]
                if busy:
                    seen = True
                    proc.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert seen, "the writer finished before it could be killed mid-write"
    time.sleep(0.5)  # the server notices the lost connection and rolls back
    with psycopg.connect(pg.url) as conn:
        rows = conn.execute("SELECT count(*), count(DISTINCT village) FROM public.killed").fetchone()
    assert rows == (10, 10)
