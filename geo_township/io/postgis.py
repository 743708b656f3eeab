"""Layers in a PostGIS database: read a table or a query, write a table atomically.

A layer's ``path`` may be ``postgresql://USER@HOST:PORT/DB`` with ``table = "schema.name"``
or ``sql = "SELECT …"``. The password never sits in township.toml: libpq takes it from
``PGPASSWORD`` or ``~/.pgpass`` (and a URL that holds one is refused). Reading goes through
SQLAlchemy + psycopg 3 and :func:`geopandas.read_postgis`, a chunk of rows at a time so a
county's table does not need two copies in memory; the CRS is the geometry column's SRID
(``geometry_columns``, else the SRID of the first geometry).

Writing (:func:`write_postgis`) loads the features into a new table first, then drops the
old table and renames the new one in one transaction: readers see the old table or the new
one, never a half-written one, and a failure leaves the old table as it was.
"""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import geopandas as gpd
import pandas as pd

from geo_township.errors import ConfigError, LayerReadError, UsageError
from geo_township.io.read import RawLayer

log = logging.getLogger(__name__)

URL_SCHEMES = ("postgresql://", "postgres://")
#: Rows read per chunk.
CHUNK_ROWS = 50_000
_NAME = re.compile(r"^[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_$\u4e00-\u9fff]*$")


def is_database_url(path: object) -> bool:
    """Whether a layer's ``path`` names a PostgreSQL database rather than a file."""
    return isinstance(path, str) and path.strip().lower().startswith(URL_SCHEMES)


def url_problem(url: str) -> tuple[str, str] | None:
    """What is wrong with a layer's database URL, and the fix; None when it is usable."""
    parts = urlsplit(url)
    if parts.password is not None:
        safe = url.replace(f":{parts.password}@", "@")
        return ("holds a password, which must not be written in township.toml",
                f'write path = "{safe}" and give the password in the PGPASSWORD environment variable '
                "or in ~/.pgpass (%APPDATA%\\postgresql\\pgpass.conf on Windows)")
    if not parts.hostname or not parts.path.strip("/"):
        return ("is not a database URL", 'write path = "postgresql://USER@HOST:5432/DATABASE"')
    return None


def split_table(table: str) -> tuple[str, str]:
    """``"schema.name"`` (or ``"name"``, schema ``public``) → (schema, name); names are
    checked, as they go into SQL text."""
    parts = table.split(".")
    if len(parts) == 1:
        parts = ["public", parts[0]]
    if len(parts) != 2 or not all(_NAME.match(p) for p in parts):
        raise UsageError(f"{table!r} is not a table name",
                         hint="write schema.name, letters, digits and _ only (e.g. forestry.infected_trees)")
    return parts[0], parts[1]


def engine(url: str) -> Any:
    """A SQLAlchemy engine on psycopg 3 (the password from PGPASSWORD or ~/.pgpass)."""
    problem = url_problem(url)
    if problem is not None:
        raise ConfigError(f"database URL {problem[0]}", hint=problem[1])
    try:
        import sqlalchemy
    except ImportError:  # a core dependency; only a broken installation lacks it
        raise LayerReadError("SQLAlchemy is not installed, which PostGIS layers need",
                             hint='pip install "sqlalchemy>=2" "psycopg[binary]>=3" geoalchemy2') from None
    scheme, rest = url.split("://", 1)
    return sqlalchemy.create_engine(f"postgresql+psycopg://{rest}", pool_pre_ping=True)


def _connection_error(url: str, exc: Exception) -> LayerReadError:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = ("check that the server runs and the URL's host, port, user and database are right; the password "
            "comes from PGPASSWORD or ~/.pgpass")
    if "password" in text.lower():
        hint = "set the PGPASSWORD environment variable, or add a line to ~/.pgpass (host:port:db:user:password)"
    return LayerReadError(f"cannot read from the database: {text}", path=Path(_safe(url)), hint=hint)


def _safe(url: str) -> str:
    parts = urlsplit(url)
    return url.replace(f":{parts.password}@", "@") if parts.password else url


def _geometry_column(conn: Any, schema: str, name: str) -> tuple[str, int]:
    """The geometry column of a table and its SRID, from PostGIS's geometry_columns."""
    from sqlalchemy import text

    row = conn.execute(text("SELECT f_geometry_column, srid FROM geometry_columns "
                            "WHERE f_table_schema = :s AND f_table_name = :n ORDER BY f_geometry_column"),
                       {"s": schema, "n": name}).first()
    if row is None:
        exists = conn.execute(text("SELECT to_regclass(:q)"), {"q": f'"{schema}"."{name}"'}).scalar()
        if exists is None:
            raise LayerReadError(f"the database has no table {schema}.{name}",
                                 hint="check table = \"schema.name\" in township.toml")
        raise LayerReadError(f"table {schema}.{name} has no geometry column",
                             hint="point the layer at a table with a PostGIS geometry column, or use sql = …")
    return str(row[0]), int(row[1] or 0)


def _query_geometry(conn: Any, sql: str) -> tuple[str, int]:
    """The geometry column of a query's result (the first of type geometry) and its SRID."""
    from sqlalchemy import text

    result = conn.execute(text(f"SELECT * FROM ({sql}) AS q LIMIT 0"))
    oid = conn.execute(text("SELECT oid FROM pg_type WHERE typname = 'geometry'")).scalar()
    types = {col.name: col.type_code for col in result.cursor.description}
    geom = next((name for name, code in types.items() if code == oid), None)
    if geom is None:
        raise LayerReadError("the layer's sql returns no geometry column",
                             hint="select the geometry too, e.g. SELECT id, geom FROM schema.table")
    srid = conn.execute(text(f'SELECT ST_SRID("{geom}") FROM ({sql}) AS q WHERE "{geom}" IS NOT NULL LIMIT 1')
                        ).scalar()
    return geom, int(srid or 0)


def _crs(conn: Any, srid: int) -> Any:
    """The CRS of an SRID: EPSG when it is one, else spatial_ref_sys' definition; None for 0."""
    from pyproj import CRS
    from sqlalchemy import text

    if srid <= 0:
        return None
    row = conn.execute(text("SELECT auth_name, auth_srid, srtext FROM spatial_ref_sys WHERE srid = :s"),
                       {"s": srid}).first()
    if row is not None and row[0] and str(row[0]).upper() == "EPSG":
        return CRS.from_epsg(int(row[1]))
    if row is not None and row[2]:
        return CRS.from_wkt(row[2])
    return CRS.from_epsg(srid)


def read_postgis(url: str, *, table: str | None = None, sql: str | None = None,
                 chunksize: int = CHUNK_ROWS) -> gpd.GeoDataFrame:
    """The features of ``table`` (``schema.name``) or of the query ``sql``, read
    ``chunksize`` rows at a time, with the CRS of the geometry column's SRID."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

    if (table is None) == (sql is None):
        raise ConfigError("a database layer needs table = \"schema.name\" or sql = \"SELECT …\" (one of them)")
    eng = engine(url)
    try:
        with eng.connect() as conn:
            if table is not None:
                schema, name = split_table(table)
                geom, srid = _geometry_column(conn, schema, name)
                query = f'SELECT * FROM "{schema}"."{name}"'
            else:
                query = str(sql).strip().rstrip(";")
                geom, srid = _query_geometry(conn, query)
            crs = _crs(conn, srid)
            chunks = gpd.read_postgis(text(query), conn, geom_col=geom, crs=crs, chunksize=chunksize)
            parts = list(chunks)
    except (LayerReadError, ConfigError, UsageError):
        raise
    except (sa_exc.SQLAlchemyError, _driver_error()) as exc:
        raise _connection_error(url, exc) from None
    finally:
        eng.dispose()
    if not parts:
        return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    gdf = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    gdf = gpd.GeoDataFrame(gdf, geometry=geom, crs=crs)
    if geom != "geometry":
        gdf = gdf.rename_geometry("geometry")
    log.debug("read %d features from %s in %d chunk(s)", len(gdf), _safe(url), len(parts))
    return gdf


def read_postgis_layer(url: str, *, table: str | None = None, sql: str | None = None,
                       chunksize: int = CHUNK_ROWS) -> RawLayer:
    """:func:`read_postgis` as the layer loader wants it (a :class:`RawLayer` with a note
    saying where the features came from)."""
    gdf = read_postgis(url, table=table, sql=sql, chunksize=chunksize)
    source = f"table {table}" if table else "sql query"
    return RawLayer(gdf, Path(_safe(url)), layer=table, encoding="UTF-8",
                    notes=[f"read from PostGIS ({source}), CRS from the geometry column's SRID"])


def write_postgis(gdf: gpd.GeoDataFrame, url: str, table: str) -> None:
    """Write ``gdf`` as ``table`` (``schema.name``), replacing it atomically: the rows go
    into a new table, then one transaction drops the old table and renames the new one.
    On any failure the new table is dropped and the old one is untouched."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

    schema, name = split_table(table)
    if gdf.crs is None:
        raise UsageError("the features have no CRS, which a PostGIS table needs", hint="set the layer's crs")
    staging = f"{name[:40]}__new_{uuid.uuid4().hex[:10]}"
    eng = engine(url)
    out = gdf.copy()
    for col in out.columns:  # datetimes without a time of day as dates
        if col != out.geometry.name and pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.date
    try:
        out.to_postgis(staging, eng, schema=schema, if_exists="fail", index=False)
        with eng.begin() as conn:  # one transaction: the old table or the new, never neither
            conn.execute(text(f'DROP TABLE IF EXISTS "{schema}"."{name}"'))
            conn.execute(text(f'ALTER TABLE "{schema}"."{staging}" RENAME TO "{name}"'))
            index = conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = :s AND tablename = :n"),
                                 {"s": schema, "n": name}).scalars().all()
            for old in index:
                if staging in old:
                    new = old.replace(staging, name)
                    conn.execute(text(f'DROP INDEX IF EXISTS "{schema}"."{new}"'))
                    conn.execute(text(f'ALTER INDEX "{schema}"."{old}" RENAME TO "{new}"'))
    except (sa_exc.SQLAlchemyError, _driver_error()) as exc:
        _drop_quietly(eng, schema, staging)
        message = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise LayerReadError(f"writing table {schema}.{name} failed, and it was left as it was: {message}",
                             path=Path(_safe(url)),
                             hint="check the message; the server, the user's rights on the schema, and the "
                             "password (PGPASSWORD or ~/.pgpass)") from None
    except BaseException:
        _drop_quietly(eng, schema, staging)
        raise
    finally:
        eng.dispose()


def _driver_error() -> type[Exception]:
    """psycopg's base error (COPY, which to_postgis uses, raises it outside SQLAlchemy)."""
    import psycopg

    return psycopg.Error


def _drop_quietly(eng: Any, schema: str, staging: str) -> None:
    """Remove a staging table after a failure (ignoring a server that is gone)."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

    try:
        with eng.begin() as conn:
            conn.execute(text(f'DROP TABLE IF EXISTS "{schema}"."{staging}"'))
    except sa_exc.SQLAlchemyError:
        log.warning("could not remove the unfinished table %s.%s; drop it by hand", schema, staging)
