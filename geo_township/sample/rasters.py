"""The sample township's rasters: a DEM, an NDVI pair with planted loss, and a land-cover map.

Each comes in the CRS such products arrive in, so the tool must handle CRSs other than the
layers':

* ``dem.tif`` — elevation (m) from :func:`~geo_township.sample.terrain.elevation`, the terrain
  the rivers, valleys and plots follow; 20 m pixels, EPSG:4548.
* ``ndvi_2022.tif``, ``ndvi_2023.tif`` — NDVI of late summer on a Sentinel-2-like 20 m grid in
  UTM zone 50N (EPSG:32650), from the land cover and each plot's species, with smooth
  variation and pixel noise. Between the dates: planted loss patches in pine plots (dying
  pines, many near the infected-tree foci), a clear-cut in a pine plot (too large to be dying
  trees), a felling in a Chinese-fir plot (not pine), fallow farmland, and a cloud masked as
  nodata (-9999) in 2023.
* ``landcover.tif`` — classes 1 林地 (forest plots), 2 耕地 (valley farmland), 3 水域 (river
  channels), 4 建设用地 (one hamlet per village, off the contracted and basic farmland),
  5 草地 (the rest of the township and a 60 m rim), 0 nodata beyond; 0.0002° pixels in EPSG:4490.

:func:`plan_rasters` decides everything random (its own RNG streams from the main seed, so
the vector layers stay identical) and returns it as the ``rasters`` part of the planted
truth; :func:`write_rasters` only draws that plan.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from .geometry import GEO_EPSG, WORK_EPSG, lonlat_to_xy
from .terrain import Landscape, elevation, landscape, rng_stream

RES_M = 20.0
RES_DEG = 0.0002
NDVI_EPSG = 32650  # WGS 84 / UTM zone 50N, as Sentinel-2 tiles here
NDVI_NODATA = -9999.0
MARGIN_M = 300.0
CLASSES = {1: "林地", 2: "耕地", 3: "水域", 4: "建设用地", 5: "草地"}
#: Late-summer NDVI by dominant species (sample codes as written in the shapefile) and class.
NDVI_SPECIES = {"马尾松": 0.74, "湿地松": 0.76, "杉木": 0.80, "阔叶混交": 0.84, "油茶": 0.66}
NDVI_CLASS = {2: 0.58, 3: 0.03, 4: 0.18, 5: 0.62}
PINES = ("马尾松", "湿地松")
RIVER_WIDTH_M = {"青溪河": 40.0}  # tributaries: 20 m

TOML = """
[rasters.dem]
path = "dem.tif"
description = "elevation (m) of the sample's terrain, 20 m, EPSG:4548"

[rasters.ndvi_2022]
path = "ndvi_2022.tif"
description = "NDVI, August 2022, Sentinel-2-like 20 m grid in UTM 50N"

[rasters.ndvi_2023]
path = "ndvi_2023.tif"
description = "NDVI, August 2023, Sentinel-2-like 20 m grid in UTM 50N; a cloud masked as nodata"

[rasters.landcover]
path = "landcover.tif"
classes = { "1" = "林地", "2" = "耕地", "3" = "水域", "4" = "建设用地", "5" = "草地" }
description = "land cover, 0.0002° grid, EPSG:4490"
"""
"""The ``[rasters]`` tables of the sample's township.toml."""


def _transformer(src: int, dst: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def _snap_grid(bounds: tuple[float, float, float, float], res: float, margin: float) -> dict:
    minx, miny, maxx, maxy = bounds
    x0 = np.floor((minx - margin) / res) * res
    y1 = np.ceil((maxy + margin) / res) * res
    width = int(np.ceil((maxx + margin - x0) / res))
    height = int(np.ceil((y1 - (miny - margin)) / res))
    return {"x0": float(x0), "y1": float(y1), "res": res, "width": width, "height": height}


def _grids(land: Landscape) -> dict[str, dict]:
    township = land.township
    ll = shapely.transform(
        township,
        lambda c: np.column_stack(_transformer(WORK_EPSG, GEO_EPSG).transform(c[:, 0], c[:, 1])),
    )
    utm = shapely.transform(
        township,
        lambda c: np.column_stack(_transformer(WORK_EPSG, NDVI_EPSG).transform(c[:, 0], c[:, 1])),
    )
    return {
        "dem": {**_snap_grid(township.bounds, RES_M, MARGIN_M), "epsg": WORK_EPSG},
        "ndvi": {**_snap_grid(utm.bounds, RES_M, MARGIN_M), "epsg": NDVI_EPSG},
        "landcover": {**_snap_grid(ll.bounds, RES_DEG, 0.002), "epsg": GEO_EPSG},
    }


def _centres(grid: dict) -> tuple[np.ndarray, np.ndarray]:
    cols = grid["x0"] + (np.arange(grid["width"]) + 0.5) * grid["res"]
    rows = grid["y1"] - (np.arange(grid["height"]) + 0.5) * grid["res"]
    return np.meshgrid(cols, rows)


def _transform(grid: dict):
    from rasterio.transform import from_origin

    return from_origin(grid["x0"], grid["y1"], grid["res"], grid["res"])


def _to(geoms, epsg: int) -> np.ndarray:
    if epsg == WORK_EPSG:
        return np.asarray(geoms, dtype=object)
    t = _transformer(WORK_EPSG, epsg)
    return shapely.transform(
        np.asarray(geoms, dtype=object), lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1]))
    )


def _water(land: Landscape):
    return shapely.union_all(
        [r.line.buffer(RIVER_WIDTH_M.get(r.spec.name, 20.0) / 2) for r in land.rivers]
    )


# --------------------------------------------------------------------------- the plan (truth)


def plan_rasters(
    land: Landscape,
    forest: gpd.GeoDataFrame,
    transfers: gpd.GeoDataFrame,
    basic_farmland: gpd.GeoDataFrame,
    tree_foci: list[dict],
    seed: int,
) -> dict:
    """Everything random about the rasters, as the ``rasters`` entry of the planted truth.

    ``forest`` as written (EPSG:4527, 小班编码, 优势树种), ``transfers`` and ``basic_farmland``
    in EPSG:4490. Loss patches are listed with their NDVI-grid cells (row, col), plot, centre
    (lon/lat) and drop.
    """
    grids = _grids(land)
    plots = forest.to_crs(WORK_EPSG)
    hamlets = _hamlets(land, transfers, basic_farmland, rng_stream(seed, 30))
    loss = _loss(land, plots, grids["ndvi"], tree_foci, rng_stream(seed, 31))
    farmland = transfers.loc[transfers["地类"] == "耕地", "地块编号"].to_numpy()
    rng = rng_stream(seed, 32)
    fallow = sorted(str(v) for v in rng.choice(farmland, size=6, replace=False))
    grid = grids["ndvi"]
    planted = np.zeros((grid["height"], grid["width"]), dtype=bool)
    for patch in [*loss["ndvi_loss_patches"], loss["ndvi_clearcut"], loss["ndvi_loss_not_pine"]]:
        rr, cc = np.array(patch["cells"]).T
        planted[rr, cc] = True
    rows, cols = 40, 55
    while True:  # a cloud over forest, clear of every planted change (and 3 cells around it)
        r = int(rng.integers(0, grid["height"] - rows))
        c = int(rng.integers(0, grid["width"] - cols))
        if not planted[max(r - 3, 0) : r + rows + 3, max(c - 3, 0) : c + cols + 3].any():
            break
    return {
        "grids": grids,
        "hamlets": hamlets,
        "fallow_parcels": fallow,
        "cloud_2023": {"row": r, "col": c, "rows": rows, "cols": cols},
        **loss,
    }


def _hamlets(
    land: Landscape, transfers: gpd.GeoDataFrame, basic: gpd.GeoDataFrame, rng: np.random.Generator
) -> list[dict]:
    """One hamlet (built-up disc) per village on valley floor that is neither contracted nor
    basic farmland nor river."""
    taken = shapely.union_all(
        np.concatenate(
            [
                transfers.to_crs(WORK_EPSG).geometry.to_numpy(),
                basic.to_crs(WORK_EPSG).geometry.to_numpy(),
            ]
        )
    )
    free = shapely.difference(land.valley, shapely.union_all([taken, _water(land).buffer(15)]))
    out = []
    for vi, village in enumerate(land.villages):
        room = shapely.intersection(free, village).buffer(-40)
        if room.is_empty:
            continue
        part = max(shapely.get_parts(room), key=lambda g: g.area)
        p = part.point_on_surface()
        out.append(
            {
                "village": vi,
                "x": round(p.x, 1),
                "y": round(p.y, 1),
                "radius_m": round(float(rng.uniform(70.0, 130.0)), 1),
            }
        )
    return out


def _grow(
    rng: np.random.Generator, allowed: np.ndarray, start: tuple[int, int], n: int
) -> list[tuple[int, int]]:
    cells = [start]
    inside = {start}
    while len(cells) < n:
        options = sorted(
            {
                (r + dr, c + dc)
                for r, c in cells
                for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1))
                if 0 <= r + dr < allowed.shape[0]
                and 0 <= c + dc < allowed.shape[1]
                and allowed[r + dr, c + dc]
                and (r + dr, c + dc) not in inside
            }
        )
        if not options:
            break
        pick = options[int(rng.integers(len(options)))]
        cells.append(pick)
        inside.add(pick)
    return cells


class _LossGrid:
    """The NDVI grid cells that may take loss, by plot, and the cells already taken."""

    def __init__(
        self, land: Landscape, plots: gpd.GeoDataFrame, grid: dict, rng: np.random.Generator
    ):
        from rasterio.features import rasterize

        self.grid, self.rng = grid, rng
        self.species = plots["优势树种"].to_numpy()
        self.codes = plots["小班编码"].to_numpy()
        self.is_pine = np.isin(self.species, PINES)
        self.shape = shape = (grid["height"], grid["width"])
        utm = _to(plots.geometry.to_numpy(), NDVI_EPSG)
        # a cell may take loss when its centre lies 8 m or more inside its plot
        inner = shapely.buffer(utm, -8.0)
        ok = ~shapely.is_empty(inner)
        self.plot_of = (
            rasterize(
                zip(inner[ok], np.flatnonzero(ok) + 1, strict=True),
                out_shape=shape,
                fill=0,
                transform=_transform(grid),
                dtype="int32",
            )
            - 1
        )
        river = _to([_water(land).buffer(20.0)], NDVI_EPSG)[0]
        self.plot_of[
            rasterize(
                [(river, 1)], out_shape=shape, fill=0, transform=_transform(grid), dtype="uint8"
            )
            > 0
        ] = -1
        self.blocked = np.zeros(shape, dtype=bool)  # cells of a patch and two cells around it
        self.to_ll = _transformer(NDVI_EPSG, GEO_EPSG)

    def place(self, plot: int, n: int, start=None) -> list[tuple[int, int]] | None:
        """Grow a patch of n free cells in a plot (from a random free cell unless `start`) and
        block it with a two-cell rim; None when the plot has no room."""
        allowed = (self.plot_of == plot) & ~self.blocked
        cand = np.argwhere(allowed)
        if len(cand) < n:
            return None
        if start is None:
            start = tuple(int(v) for v in cand[int(self.rng.integers(len(cand)))])
        cells = _grow(self.rng, allowed, start, n)
        if len(cells) < n:
            return None
        rr, cc = np.array(cells).T
        h, w = self.shape
        for dr in range(-2, 3):
            for dc in range(-2, 3):
                self.blocked[np.clip(rr + dr, 0, h - 1), np.clip(cc + dc, 0, w - 1)] = True
        return cells

    def describe(self, plot: int, cells: list[tuple[int, int]], drop: float) -> dict:
        """A patch as the truth lists it: plot, species, centre (lon/lat), size, drop, cells."""
        grid = self.grid
        rr, cc = np.array(cells, dtype=float).T
        x = grid["x0"] + (cc.mean() + 0.5) * grid["res"]
        y = grid["y1"] - (rr.mean() + 0.5) * grid["res"]
        lon, lat = self.to_ll.transform(x, y)
        return {
            "plot_id": str(self.codes[plot]),
            "species": str(self.species[plot]),
            "lon": round(float(lon), 6),
            "lat": round(float(lat), 6),
            "pixels": len(cells),
            "drop": round(drop, 3),
            "cells": [[int(r), int(c)] for r, c in cells],
        }

    def roomiest(self, eligible: np.ndarray) -> int:
        """The eligible plot with the most free cells."""
        room = np.bincount(
            self.plot_of[(self.plot_of >= 0) & ~self.blocked], minlength=len(self.species)
        )
        room[~eligible] = 0
        return int(np.argmax(room))


def _loss(
    land: Landscape,
    plots: gpd.GeoDataFrame,
    grid: dict,
    tree_foci: list[dict],
    rng: np.random.Generator,
) -> dict:
    """Loss patches in pine plots (2–3 near each tree focus, a few elsewhere), a clear-cut in a
    large pine plot, a felling in a Chinese-fir plot."""
    lg = _LossGrid(land, plots, grid, rng)
    patches = _focus_patches(lg, tree_foci)
    pine_ids = np.flatnonzero(lg.is_pine)
    while len(patches) < len(tree_foci) * 2 + 4:
        plot = int(pine_ids[int(rng.integers(len(pine_ids)))])
        cells = lg.place(plot, int(rng.integers(1, 6)))
        if cells:
            patches.append(lg.describe(plot, cells, float(rng.uniform(0.2, 0.4))))
    # a clear-cut: 8 × 8 cells in the pine plot with the most room
    big = lg.roomiest(lg.is_pine)
    clear = _square(lg.plot_of == big, lg.blocked, 8)
    for r, c in clear:
        lg.blocked[max(r - 2, 0) : r + 3, max(c - 2, 0) : c + 3] = True
    # a felling in the Chinese-fir plot with the most room
    fir = lg.roomiest(lg.species == "杉木")
    felled = _square(lg.plot_of == fir, lg.blocked, 3)
    return {
        "ndvi_loss_patches": patches,
        "ndvi_clearcut": lg.describe(big, clear, 0.45),
        "ndvi_loss_not_pine": lg.describe(fir, felled, 0.35),
    }


def _focus_patches(lg: _LossGrid, tree_foci: list[dict]) -> list[dict]:
    """Two or three loss patches in pine plots within each tree focus's radius."""
    rng, grid = lg.rng, lg.grid
    patches = []
    for focus in tree_foci:
        fx, fy = lonlat_to_xy(focus["lon"], focus["lat"])
        ux, uy = _transformer(WORK_EPSG, NDVI_EPSG).transform(fx, fy)
        r0 = int((grid["y1"] - uy) // grid["res"])
        c0 = int((ux - grid["x0"]) // grid["res"])
        reach = int(focus["radius_m"] // grid["res"])
        window = lg.plot_of[
            max(r0 - reach, 0) : r0 + reach + 1, max(c0 - reach, 0) : c0 + reach + 1
        ]
        near = [p for p in np.unique(window[window >= 0]) if lg.is_pine[p]]
        for _ in range(int(rng.integers(2, 4))):
            if not near:
                break
            plot = int(near[int(rng.integers(len(near)))])
            cells = lg.place(plot, int(rng.integers(1, 8)))
            if cells:
                patches.append(lg.describe(plot, cells, float(rng.uniform(0.2, 0.45))))
    return patches


def _square(allowed: np.ndarray, blocked: np.ndarray, k: int) -> list[tuple[int, int]]:
    """The first k × k block of cells (row-major) that is allowed and not blocked."""
    free = (allowed & ~blocked).astype(np.int32)
    s = np.pad(free, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    full = s[k:, k:] - s[:-k, k:] - s[k:, :-k] + s[:-k, :-k]
    r, c = np.argwhere(full == k * k)[0]
    return [(int(r + i), int(c + j)) for i in range(k) for j in range(k)]


# --------------------------------------------------------------------------- drawing the plan


def _write(path: Path, data: np.ndarray, grid: dict, nodata=None) -> None:
    import rasterio

    profile = {
        "driver": "GTiff",
        "width": grid["width"],
        "height": grid["height"],
        "count": 1,
        "dtype": data.dtype.name,
        "crs": f"EPSG:{grid['epsg']}",
        "transform": _transform(grid),
        "nodata": nodata,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "predictor": 3 if data.dtype.kind == "f" else 2,
        "zlevel": 9,
    }
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data, 1)


def _classes(land: Landscape, grid: dict, plots: np.ndarray, hamlets: list[dict]) -> np.ndarray:
    """Land-cover classes on a grid (pixel-centre rule), later burns over earlier ones."""
    from rasterio.features import rasterize

    discs = [shapely.Point(h["x"], h["y"]).buffer(h["radius_m"]) for h in hamlets]
    layers = [
        (land.township.buffer(60.0), 5),
        (shapely.union_all(plots), 1),
        (land.valley, 2),
        (shapely.intersection(shapely.union_all(discs), land.valley), 4),
        (shapely.intersection(_water(land), land.township), 3),
    ]
    shapes = [
        (g, v)
        for g, v in zip(
            _to([g for g, _ in layers], grid["epsg"]), [v for _, v in layers], strict=True
        )
        if not shapely.is_empty(g)
    ]
    return rasterize(
        shapes,
        out_shape=(grid["height"], grid["width"]),
        fill=0,
        transform=_transform(grid),
        dtype="uint8",
    )


def _waves(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, amplitude: float) -> np.ndarray:
    out = np.zeros(x.shape)
    for _ in range(6):
        ang, wl, ph = rng.uniform(0, np.pi), rng.uniform(800, 4000), rng.uniform(0, 2 * np.pi)
        out += amplitude / 3 * np.sin(2 * np.pi * (x * np.cos(ang) + y * np.sin(ang)) / wl + ph)
    return out


def write_rasters(sample, folder: Path) -> list[Path]:
    """Draw the raster plan of ``sample.truth['rasters']`` into ``folder``: dem.tif,
    ndvi_2022.tif, ndvi_2023.tif, landcover.tif."""
    truth = sample.truth
    plan = truth["rasters"]
    seed = truth["seed"]
    land = landscape(seed)
    grids = plan["grids"]
    folder = Path(folder)
    written = []

    # DEM
    g = grids["dem"]
    x, y = _centres(g)
    dem = elevation(x, y, seed=seed).astype("float32")
    _write(folder / "dem.tif", np.round(dem, 1), g)
    written.append(folder / "dem.tif")

    plots = sample.forest_plots.to_crs(WORK_EPSG)
    plot_geoms = plots.geometry.to_numpy()

    # land cover
    g = grids["landcover"]
    _write(folder / "landcover.tif", _classes(land, g, plot_geoms, plan["hamlets"]), g, nodata=0)
    written.append(folder / "landcover.tif")

    # NDVI pair; three decimals, as NDVI products are stored; keeps the files small
    g = grids["ndvi"]
    before, after = _ndvi_pair(sample, land, plots, seed)
    for name, data in (("ndvi_2022", before), ("ndvi_2023", after)):
        data = np.where(data == NDVI_NODATA, data, np.round(data, 3)).astype("float32")
        _write(folder / f"{name}.tif", data, g, nodata=NDVI_NODATA)
        written.append(folder / f"{name}.tif")
    return written


def _ndvi_pair(
    sample, land: Landscape, plots: gpd.GeoDataFrame, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The two NDVI grids: base values with smooth variation and pixel noise, then the planted
    loss, fallow farmland, water capped, and the 2023 cloud as nodata."""
    from rasterio.features import rasterize

    plan = sample.truth["rasters"]
    g = plan["grids"]["ndvi"]
    shape = (g["height"], g["width"])
    plot_geoms = plots.geometry.to_numpy()
    cls = _classes(land, g, plot_geoms, plan["hamlets"])
    utm = _to(plot_geoms, NDVI_EPSG)
    plot_of = (
        rasterize(
            zip(utm, np.arange(1, len(utm) + 1), strict=True),
            out_shape=shape,
            fill=0,
            transform=_transform(g),
            dtype="int32",
        )
        - 1
    )
    base = np.full(shape, NDVI_CLASS[5])
    for c, v in NDVI_CLASS.items():
        base[cls == c] = v
    values = np.array([NDVI_SPECIES.get(s, 0.78) for s in plots["优势树种"]])
    forest = (cls == 1) & (plot_of >= 0)
    base[forest] = values[plot_of[forest]]
    x, y = _centres(g)
    rng = rng_stream(seed, 33)
    before = base + _waves(rng, x, y, 0.04) + rng.normal(0.0, 0.02, shape)
    after = before - 0.01 + _waves(rng, x, y, 0.01) + rng.normal(0.0, 0.012, shape)
    for patch in plan["ndvi_loss_patches"] + [plan["ndvi_clearcut"], plan["ndvi_loss_not_pine"]]:
        rr, cc = np.array(patch["cells"]).T
        after[rr, cc] -= patch["drop"] + rng.uniform(-0.03, 0.03, len(rr))
    fallow = sample.land_transfers[sample.land_transfers["地块编号"].isin(plan["fallow_parcels"])]
    fallow_mask = rasterize(
        ((geom, 1) for geom in fallow.to_crs(NDVI_EPSG).geometry),
        out_shape=shape,
        fill=0,
        transform=_transform(g),
        dtype="uint8",
    ).astype(bool)
    after[fallow_mask] -= 0.3
    water = cls == 3
    before[water] = np.minimum(before[water], 0.1)
    after[water] = np.minimum(after[water], 0.1)
    before, after = (
        np.clip(before, -1, 1).astype("float32"),
        np.clip(after, -1, 1).astype("float32"),
    )
    cloud = plan["cloud_2023"]
    after[
        cloud["row"] : cloud["row"] + cloud["rows"], cloud["col"] : cloud["col"] + cloud["cols"]
    ] = NDVI_NODATA
    return before, after


def readme_section(truth: dict) -> str:
    """The rasters paragraph of layers/README.md."""
    plan = truth["rasters"]
    n = len(plan["ndvi_loss_patches"])
    px = sum(p["pixels"] for p in plan["ndvi_loss_patches"])
    clear, fir = plan["ndvi_clearcut"], plan["ndvi_loss_not_pine"]
    return f"""
## Rasters

| file | what | grid |
| --- | --- | --- |
| `dem.tif` | elevation (m) of the terrain the rivers, valleys and plots follow | 20 m, EPSG:4548 |
| `ndvi_2022.tif`, `ndvi_2023.tif` | late-summer NDVI (three decimals; -9999 = nodata) | 20 m, EPSG:32650 (UTM 50N, as Sentinel-2) |
| `landcover.tif` | 1 林地, 2 耕地, 3 水域, 4 建设用地, 5 草地 (0 = outside the township) | 0.0002°, EPSG:4490 |

Planted between the NDVI dates (truth key `rasters`): {n} loss patches ({px} pixels of 400 m²)
in pine plots, most near the infected-tree foci, with drops of 0.2–0.45; a clear-cut of
{clear["pixels"]} pixels in pine plot {clear["plot_id"]} (too large to be dying trees); a felling
of {fir["pixels"]} pixels in Chinese-fir plot {fir["plot_id"]} (not pine); six fallow farmland
parcels; and a cloud masked as nodata in 2023. `geo-township candidates ndvi_2022 ndvi_2023`
should list exactly the {n} patches.
"""  # noqa: E501  (Markdown table rows of the generated README, one per line)
