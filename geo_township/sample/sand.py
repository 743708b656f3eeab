"""Sand-mining sites (采砂点 / 机制砂厂) along the rivers, in every status."""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely
from shapely.geometry import Point

from . import names
from .geometry import line_normals
from .terrain import Landscape

#: river index, position along it (fraction), type, status, where: "in" / "out" of the
#: management zone for river mining, or distance (m) from the river for a sand plant.
SITES: tuple[tuple[int, float, str, str, str | float], ...] = (
    (0, 0.12, "河道采砂", "已许可", "in"),
    (0, 0.20, "机制砂厂", "非法", 320.0),
    (0, 0.31, "河道采砂", "已许可", "in"),
    (0, 0.46, "河道采砂", "非法", "in"),
    (0, 0.55, "机制砂厂", "已关停", 450.0),
    (0, 0.64, "河道采砂", "已关停", "in"),
    (0, 0.81, "河道采砂", "已复绿", "out"),
    (0, 0.86, "机制砂厂", "已复绿", 380.0),
    (0, 0.93, "河道采砂", "非法", "out"),
    (1, 0.62, "机制砂厂", "已关停", 260.0),
    (2, 0.50, "河道采砂", "已关停", "out"),
    (3, 0.45, "河道采砂", "已复绿", "in"),
    (4, 0.30, "机制砂厂", "已复绿", 520.0),
    (4, 0.62, "河道采砂", "已许可", "out"),
)


def sand_sites(land: Landscape, rng: np.random.Generator) -> list[dict]:
    """Site records with a point geometry in EPSG:4548."""
    out: list[dict] = []
    inner = land.township.buffer(-60.0)
    plant_names: dict[str, int] = {}
    zone = shapely.union_all([r.line.buffer(r.spec.zone_m) for r in land.rivers])
    for k, (ri, frac, kind, status, where) in enumerate(SITES, start=1):
        river = land.rivers[ri]
        coords = np.asarray(river.line.coords)
        nrm = line_normals(coords, smooth=3)
        frac = frac + rng.uniform(-0.02, 0.02)
        i = int(np.clip(round(frac * (len(coords) - 1)), 1, len(coords) - 2))
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        for _ in range(2):
            if where == "in":
                off = rng.uniform(3.0, river.spec.zone_m - 8.0)
            elif where == "out":
                off = river.spec.zone_m + rng.uniform(6.0, 40.0)
            else:
                off = float(where) + rng.uniform(-40.0, 40.0)
            p = coords[i] + side * off * nrm[i]
            pt = Point(p)
            in_zone = zone.contains(pt)
            ok = inner.contains(pt) and (in_zone == (where == "in"))
            if ok:
                break
            side = -side
        else:  # pragma: no cover - fixed layout
            raise RuntimeError(f"could not place sand site {k}")
        vil = next(j for j, v in enumerate(land.villages) if v.contains(pt))
        vshort = names.short(names.VILLAGES[vil][0])
        base = f"{river.spec.name}{vshort}段" if kind == "河道采砂" else vshort
        n = plant_names.get(base + kind, 0) + 1
        plant_names[base + kind] = n
        nth = "" if n == 1 else "二三四五"[n - 2] + "号"
        name = f"{base}{nth}采砂点" if kind == "河道采砂" else f"{base}{nth}机制砂厂"
        closed = ""
        if status in ("已关停", "已复绿"):
            lo = dt.date(2021, 1, 1)
            hi = dt.date(2022, 6, 30) if status == "已复绿" else dt.date(2023, 3, 31)
            closed = (lo + dt.timedelta(days=int(rng.integers(0, (hi - lo).days + 1)))).isoformat()
        out.append(
            {
                "Name": name,
                "编号": f"SS-{k:02d}",
                "类型": kind,
                "状态": status,
                "关停日期": closed,
                "geometry": pt,
                "river": ri,
                "in_zone": where == "in",
            }
        )
    return out
