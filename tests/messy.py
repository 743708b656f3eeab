"""Break one thing in a copy of the sample township, as real data arrive: a mistyped
coordinate in one row, a file missing, a KML exported empty."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from pyproj import Transformer

SAMPLE = Path(__file__).resolve().parent.parent / "layers"
TREES = "infected_trees.csv"


def copy_sample(tmp: Path, name: str = "township") -> Path:
    """A private copy of the sample's layers/ folder under ``tmp``."""
    dest = tmp / name
    shutil.copytree(SAMPLE, dest)
    return dest


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def _write_rows(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """Write the table as the sample's own CSV is written (BOM, CRLF), changed rows only differing."""
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows([header, *rows])
    path.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))


def csv_row(folder: Path, line: int, file: str = TREES) -> dict[str, str]:
    """The cells of ``line`` (as Excel numbers it: the header is line 1) by column name."""
    header, rows = _read_rows(folder / file)
    return dict(zip(header, rows[line - 2], strict=True))


def edit_csv_row(folder: Path, line: int, file: str = TREES, **cells: str) -> dict[str, str]:
    """Set cells of one row (``经度="17.449079"``); returns the row as it was."""
    header, rows = _read_rows(folder / file)
    before = dict(zip(header, rows[line - 2], strict=True))
    for column, value in cells.items():
        rows[line - 2][header.index(column)] = value
    _write_rows(folder / file, header, rows)
    return before


def delete_csv_row(folder: Path, line: int, file: str = TREES) -> None:
    """Remove one row, as if it had never been entered."""
    header, rows = _read_rows(folder / file)
    del rows[line - 2]
    _write_rows(folder / file, header, rows)


def delete_file(folder: Path, name: str) -> None:
    (folder / name).unlink()


def empty_file(folder: Path, name: str) -> None:
    """Truncate a file to nothing, as an interrupted export or copy leaves it."""
    (folder / name).write_bytes(b"")


def empty_kml(folder: Path, name: str) -> None:
    """Overwrite a KML with a valid document that holds no placemarks."""
    (folder / name).write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                               '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>empty</name>'
                               "</Document></kml>\n", encoding="utf-8")


def lonlat_beyond(folder: Path, km: float) -> tuple[float, float]:
    """A point ``km`` kilometres north of the villages' extent (in China), as lon/lat."""
    import geopandas as gpd

    villages = gpd.read_file(folder / "township.gpkg", layer="villages").to_crs(4548)
    west, _, east, north = villages.total_bounds
    to_lonlat = Transformer.from_crs(4548, 4490, always_xy=True)
    lon, lat = to_lonlat.transform((west + east) / 2.0, north + km * 1000.0)
    return float(lon), float(lat)


def truncate_file(folder: Path, name: str, keep: float = 0.5) -> int:
    """Cut a file short, as an interrupted copy leaves it: keep the first ``keep`` of its
    bytes. Returns the bytes kept."""
    path = folder / name
    data = path.read_bytes()
    kept = int(len(data) * keep)
    path.write_bytes(data[:kept])
    return kept


def save_csv_as(folder: Path, name: str = TREES, encoding: str = "gbk") -> None:
    """Save a UTF-8 CSV again in another encoding, without a BOM, as Chinese Excel's
    "CSV (comma delimited)" writes it (GBK)."""
    path = folder / name
    path.write_bytes(path.read_bytes().decode("utf-8-sig").encode(encoding))


def append_toml(folder: Path, text: str) -> None:
    """Add lines at the end of the township.toml (a new [rasters.NAME] table …)."""
    path = folder / "township.toml"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + text.strip("\n") + "\n", encoding="utf-8")


def point_layer_at(folder: Path, kind: str, path: str, layer: str | None = None) -> None:
    """Point ``[layers.KIND]`` of the township.toml at another file (and layer)."""
    toml = folder / "township.toml"
    text = toml.read_text(encoding="utf-8")
    head = f"[layers.{kind}]\n"
    start = text.index(head) + len(head)
    end = text.find("\n[", start)
    end = len(text) if end < 0 else end + 1
    body = f'path = "{path}"\n' + (f'layer = "{layer}"\n' if layer else "")
    toml.write_text(text[:start] + body + text[end:], encoding="utf-8")


def write_geotiff(path: Path, data, *, origin: tuple[float, float], res: float, crs: str = "EPSG:4548",
                  nodata: float | None = None) -> Path:
    """A one-band GeoTIFF of ``data`` (its dtype) with its top-left corner at ``origin``."""
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype=data.dtype, crs=crs, transform=from_origin(*origin, res, res), nodata=nodata) as ds:
        ds.write(data, 1)
    return path


def drop_shapefile_field(folder: Path, name: str, field: str) -> None:
    """Remove one attribute column from a shapefile (as an export that left it out)."""
    import geopandas as gpd

    path = folder / name
    gdf = gpd.read_file(path, encoding="gbk")
    gdf.drop(columns=[field]).to_file(path, encoding="gbk")


def set_gpkg_text(folder: Path, layer: str, column: str, values: dict[int, str], name: str = "township.gpkg") -> None:
    """Set a text column of some features of a GeoPackage table directly (by feature id),
    as an edit in another GIS does: no rewrite of the geometries."""
    import sqlite3

    with sqlite3.connect(folder / name) as db:
        # the spatial index's triggers call SpatiaLite functions plain SQLite lacks; the geometries do not
        # change, so the triggers are set aside for the edit and put back as they were
        triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                              (layer,)).fetchall()
        for trigger, _ in triggers:
            db.execute(f'DROP TRIGGER "{trigger}"')
        for fid, value in values.items():
            db.execute(f'UPDATE "{layer}" SET "{column}" = ? WHERE fid = ?', (value, fid))
        for _, sql in triggers:
            db.execute(sql)


def kill_when_writing(proc, marker: Path, timeout_s: float = 60) -> None:
    """SIGKILL ``proc`` (a subprocess.Popen with stderr piped) once it has created ``marker``
    — the moment it is inside a write —, as a power cut or a closed laptop would."""
    import signal
    import time

    try:
        deadline = time.monotonic() + timeout_s
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the process never reached the write"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def invoke(*args):
    """Run the command line in-process with ``args`` (any objects, as text)."""
    from click.testing import CliRunner

    from geo_township.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def tables(*args) -> dict:
    """The tables of a command's ``--format json`` output (it must end with exit code 0 or 1)."""
    import json

    result = invoke(*args, "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)["tables"]
