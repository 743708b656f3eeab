"""Copies of the sample township for county tests: renamed, and moved north so that two
copies side by side do not overlap (or left in place, so that they claim the same land).

Every vector layer of the moved copy is moved ``dlat`` degrees north (projected ones
through lon/lat), so the layers keep their places relative to each other. Rasters are
left out of copies (the county tests do not use them and they would no longer lie under
the moved layers).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
from pyproj import Transformer
from shapely import affinity

SAMPLE = Path(__file__).resolve().parent.parent / "layers"


def township_copy(dest: Path, name: str, *, dlat: float = 0.0, rasters: bool = False) -> Path:
    """A copy of the sample under ``dest`` named ``name`` ([township] name), its layers
    moved ``dlat`` degrees north, with its rasters only when asked (and not moved). Returns
    the folder."""
    if rasters and dlat:
        raise ValueError("rasters are copied only into a copy left in place")
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("README.md", *([] if rasters else ["*.tif"])))
    toml = (dest / "township.toml").read_text(encoding="utf-8")
    toml = re.sub(r'(?m)^name = ".*"$', f'name = "{name}"', toml, count=1)
    toml = re.sub(r'(?m)^name_en = ".*"$', f'name_en = "{name}"', toml, count=1)
    if not rasters:
        toml = toml[:toml.index("[rasters.")].rstrip() + "\n"
    (dest / "township.toml").write_text(toml, encoding="utf-8")
    if dlat:
        _move(dest, dlat)
    return dest


def _move(dest: Path, dlat: float) -> None:
    gpkg = dest / "township.gpkg"
    layers = {layer: gpd.read_file(gpkg, layer=layer) for layer, _ in pyogrio.list_layers(gpkg)}
    gpkg.unlink()
    for layer, gdf in layers.items():
        _translated(gdf, dlat).to_file(gpkg, layer=layer, driver="GPKG")
    plots = gpd.read_file(dest / "forest_plots.shp", encoding="gbk")
    for f in dest.glob("forest_plots.*"):
        f.unlink()
    _translated(plots, dlat).to_file(dest / "forest_plots.gpkg", driver="GPKG")
    toml = (dest / "township.toml").read_text(encoding="utf-8").replace('"forest_plots.shp"', '"forest_plots.gpkg"')
    (dest / "township.toml").write_text(toml, encoding="utf-8")
    for name in ("rivers.geojson", "sand_zones.geojson"):
        data = json.loads((dest / name).read_text(encoding="utf-8"))
        for feature in data["features"]:
            feature["geometry"] = _shift_coords(feature["geometry"], dlat)
        (dest / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    trees = pd.read_csv(dest / "infected_trees.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    trees["纬度"] = [f"{float(v) + dlat:.6f}" if v else v for v in trees["纬度"]]
    trees.to_csv(dest / "infected_trees.csv", index=False, encoding="utf-8-sig")
    kml = (dest / "sand_sites.kml").read_text(encoding="utf-8")
    kml = re.sub(r"<coordinates>(.*?)</coordinates>", lambda m: "<coordinates>" + " ".join(
        _shift_tuple(t, dlat) for t in m.group(1).split()) + "</coordinates>", kml, flags=re.S)
    (dest / "sand_sites.kml").write_text(kml, encoding="utf-8")
    gpx = (dest / "patrols.gpx").read_text(encoding="utf-8")
    gpx = re.sub(r'lat="([-\d.]+)"', lambda m: f'lat="{float(m.group(1)) + dlat:.7f}"', gpx)
    (dest / "patrols.gpx").write_text(gpx, encoding="utf-8")
    book = openpyxl.load_workbook(dest / "outfalls.xlsx")
    sheet = book.active
    columns: dict[str, int] = {}
    to_lonlat = Transformer.from_crs(4548, 4490, always_xy=True)
    for row in sheet.iter_rows():
        cells = {c.value: c.column for c in row if c.value in ("东坐标", "北坐标")}
        columns = columns or cells
        if len(columns) == 2 and not cells:
            east, north = row[columns["东坐标"] - 1], row[columns["北坐标"] - 1]
            if isinstance(east.value, (int, float)) and isinstance(north.value, (int, float)):
                lon, lat = to_lonlat.transform(east.value, north.value)
                east.value, north.value = to_lonlat.transform(lon, lat + dlat, direction="INVERSE")
    book.save(dest / "outfalls.xlsx")


def _translated(gdf: gpd.GeoDataFrame, dlat: float) -> gpd.GeoDataFrame:
    """``gdf`` moved ``dlat`` degrees north (through lon/lat when it is projected, so that
    every layer moves alike)."""
    out = gdf.to_crs(4490) if gdf.crs is not None and not gdf.crs.is_geographic else gdf.copy()
    out.geometry = out.geometry.map(lambda g: affinity.translate(g, yoff=dlat) if g is not None else g)
    return out.to_crs(gdf.crs) if gdf.crs is not None else out


def _shift_tuple(text: str, dlat: float) -> str:
    parts = text.split(",")
    parts[1] = f"{float(parts[1]) + dlat:.7f}"
    return ",".join(parts)


def _shift_coords(geometry: dict, dlat: float) -> dict:
    def walk(c):
        if isinstance(c[0], (int, float)):
            return [c[0], c[1] + dlat, *c[2:]]
        return [walk(x) for x in c]

    return {**geometry, "coordinates": walk(geometry["coordinates"])}


def county(tmp: Path, *, dlat: float = 0.5, names: tuple[str, str] = ("东岭乡", "西河乡"),
           townships: str = '["east", "west"]', rasters: bool = False) -> Path:
    """A county folder under ``tmp``: county.toml naming two copies of the sample, ``east``
    in place and ``west`` moved ``dlat`` degrees north (0: both claim the same land; only
    then may both keep the sample's rasters)."""
    root = tmp / "county"
    root.mkdir()
    township_copy(root / "east", names[0], rasters=rasters)
    township_copy(root / "west", names[1], dlat=dlat, rasters=rasters)
    (root / "county.toml").write_text(f'[county]\nname = "青山县"\ntownships = {townships}\n', encoding="utf-8")
    return root
