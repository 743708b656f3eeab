"""Writing a merged layer back, with its history, so that nothing is ever half-written.

Every file is written to a temporary file beside it and renamed into place. A GeoPackage
keeps its history in a table ``<layer>_history`` written in the same atomic step
(:func:`geo_township.treeimport.write_layer`). Other formats have a sidecar
``<file>.history.csv``, appended *before* the layer is renamed into place, with the
fingerprints of the layer file before and after, so an import killed between the two is
recognised and its rows removed by the next import
(:func:`geo_township.treeimport.reconcile_history`). A shapefile's parts are all written
under temporary names first, then renamed one after the other (a few microseconds).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

import geopandas as gpd
import pandas as pd
import shapely

from geo_township.io.write import atomic_path
from geo_township.layerimport.target import LayerTable
from geo_township.treeimport import LayerFile, sidecar_path, write_history_csv, write_layer

SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def _digest(path: Path) -> str:
    """A short fingerprint of a file's bytes (as the trees import records it)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def write_layer_table(lt: LayerTable, history: pd.DataFrame) -> Path:
    """Write the merged layer and its history; returns where the history went."""
    gdf = gpd.GeoDataFrame(lt.table.reset_index(drop=True), geometry=lt.geometry.to_numpy(), crs=lt.geometry.crs)
    if lt.fmt in ("GPKG", "GeoJSON", "FlatGeobuf", "Parquet"):
        lf = LayerFile(lt.path, lt.table, lt.mapping, lt.geometry.crs, geometry=lt.geometry, layer=lt.layer)
        return write_layer(lf, history)
    side = sidecar_path(lt.path)
    if lt.fmt == "ESRI Shapefile":
        _write_shapefile(lt, gdf, history, side)
        return side
    before = _digest(lt.path)
    with atomic_path(lt.path) as tmp:
        if lt.fmt == "XLSX":
            _write_sheet(lt, tmp)
        elif lt.fmt == "CSV":
            tmp.write_bytes(_csv_layer_bytes(lt))
        elif lt.fmt == "GPX":
            _write_gpx(lt, tmp)
        else:
            _write_kml(lt, gdf, tmp)
        write_history_csv(side, history.assign(layer_before=before, layer_after=_digest(tmp)))
    return side


def _write_shapefile(lt: LayerTable, gdf: gpd.GeoDataFrame, history: pd.DataFrame, side: Path) -> None:
    """All parts to a temporary folder beside the layer, the history, then the renames."""
    import pyogrio

    before = _digest(lt.path)
    folder = Path(tempfile.mkdtemp(prefix=f".{lt.path.stem}.", dir=lt.path.parent))
    try:
        tmp = folder / lt.path.name
        pyogrio.write_dataframe(gdf, tmp, driver="ESRI Shapefile", encoding=lt.encoding or "UTF-8")
        write_history_csv(side, history.assign(layer_before=before, layer_after=_digest(tmp)))
        for part in SHAPEFILE_PARTS:
            src = tmp.with_suffix(part)
            if src.exists():
                with open(src, "rb+") as fh:
                    os.fsync(fh.fileno())
        for part in SHAPEFILE_PARTS:
            src = tmp.with_suffix(part)
            if src.exists():
                os.replace(src, lt.path.with_suffix(part))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write_kml(lt: LayerTable, gdf: gpd.GeoDataFrame, tmp: Path) -> None:
    """A KML layer rewritten by GDAL's LIBKML driver: the placemark name and every field."""
    import pyogrio

    pyogrio.write_dataframe(gdf.to_crs("EPSG:4326"), tmp, driver="LIBKML", layer=lt.path.stem)


def _gpx_track(name: str | None, geom, start: pd.Timestamp | None, comment: str | None = None) -> str:
    """One ``<trk>``: its name (the chief), a comment (the track's whole name as the phone
    wrote it, when it was taken apart) and points, the first with the start time (UTC)."""
    lines = [geom] if geom.geom_type == "LineString" else list(geom.geoms)
    out = ["<trk>"] + ([f"<name>{escape(str(name))}</name>"] if name else [])
    if comment and not pd.isna(comment):
        out.append(f"<cmt>{escape(str(comment))}</cmt>")
    first = True
    for line in lines:
        out.append("<trkseg>")
        for x, y in shapely.get_coordinates(line):
            when = ""
            if first and start is not None and not pd.isna(start):
                utc = pd.Timestamp(start).tz_localize("Asia/Shanghai").tz_convert("UTC")
                when = f"<time>{utc:%Y-%m-%dT%H:%M:%SZ}</time>"
            out.append(f'<trkpt lat="{y:.7f}" lon="{x:.7f}">{when}</trkpt>')
            first = False
        out.append("</trkseg>")
    out.append("</trk>")
    return "\n".join(out)


def _write_gpx(lt: LayerTable, tmp: Path) -> None:
    """The GPX file as it is, with the new tracks appended before ``</gpx>``."""
    text = lt.path.read_text(encoding="utf-8")
    end = text.rfind("</gpx>")
    geoms = lt.geometry.to_crs("EPSG:4326")
    name_col = lt.mapping.get("chief", "name")
    raw = "track_name" if "track_name" in lt.table.columns else None
    tracks = [_gpx_track(lt.table.at[r, name_col] if name_col in lt.table.columns else None, geoms.iloc[r],
                         lt.starts.get(r), lt.table.at[r, raw] if raw else None) for r in lt.appended]
    tmp.write_text(text[:end] + "\n".join(tracks) + "\n" + text[end:], encoding="utf-8")


def _csv_layer_bytes(lt: LayerTable) -> bytes:
    """A CSV layer in its own header, encoding, BOM, separator and line ends; new points'
    coordinates with at least 6 decimals for degrees, 3 for metres."""
    fmt = lt.text
    table = lt.table.copy().astype(object)
    table = table.where(table.notna(), "")
    x_col, y_col = lt.coord_columns or ("", "")
    places = 7 if fmt.get("geographic") else 3
    for r in lt.appended:
        geom = lt.geometry.iloc[r]
        table.at[r, x_col], table.at[r, y_col] = f"{geom.x:.{places}f}", f"{geom.y:.{places}f}"
    header = list(fmt["header"]) + list(table.columns[len(fmt["header"]):])
    text = table.to_csv(index=False, header=header, sep=fmt["sep"], lineterminator=fmt["newline"])
    return (b"\xef\xbb\xbf" if fmt["bom"] else b"") + text.encode(fmt["encoding"])


def _write_sheet(lt: LayerTable, tmp: Path) -> None:
    """The workbook with the layer's sheet updated in place: changed cells rewritten, new
    rows appended under the table, title rows and other sheets kept."""
    import openpyxl

    book = openpyxl.load_workbook(lt.path)
    sheet = book[lt.layer] if lt.layer else book.worksheets[0]
    header = lt.sheet_header
    heads = {str(c.value).strip(): c.column for c in sheet[header] if c.value is not None}
    x_col, y_col = lt.coord_columns or ("", "")
    last = max(lt.sheet_lines or [header])

    def excel_row(r: int) -> int:
        return lt.sheet_lines[r] if r < len(lt.sheet_lines) else last + 1 + r - len(lt.sheet_lines)

    def column(col: str) -> int:
        if col not in heads:
            heads[col] = max(heads.values()) + 1
            sheet.cell(row=header, column=heads[col], value=col)
        return heads[col]

    cells = set(lt.touched) | {(r, c) for r in lt.appended for c in lt.table.columns if c not in (x_col, y_col)}
    for r, col in sorted(cells, key=lambda rc: (rc[0], str(rc[1]))):
        value = lt.table.at[r, col]
        blank = value is None or (not isinstance(value, str) and pd.isna(value))
        sheet.cell(row=excel_row(r), column=column(col), value=None if blank else value)
    decimals = 7 if lt.geometry.crs is not None and lt.geometry.crs.is_geographic else 3
    for r in lt.appended:
        geom = lt.geometry.iloc[r]
        sheet.cell(row=excel_row(r), column=column(x_col), value=round(geom.x, decimals))
        sheet.cell(row=excel_row(r), column=column(y_col), value=round(geom.y, decimals))
    book.save(tmp)
