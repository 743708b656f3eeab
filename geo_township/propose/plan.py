"""A proposed township: the decisions about every file of a folder, ready to be written
as township.toml (:mod:`.toml_text`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from geo_township.propose.crs_guess import crs_for, township_meridian
from geo_township.propose.decide import Decision, Undecided, decide
from geo_township.propose.scan import RasterSource, Unreadable, Words, scan_folder

#: Words in a raster's file name that suggest classes (land cover) rather than measurements.
CLASS_HINTS = ("landcover", "land_cover", "landuse", "land_use", "lulc", "classes", "classification",
               "地类", "土地利用", "土地覆盖", "覆盖类型", "分类")


@dataclass
class RasterPlan:
    """A GeoTIFF as a ``[rasters.NAME]`` table."""

    name: str
    source: RasterSource
    categorical: bool
    checks: list[Words] = field(default_factory=list)


@dataclass
class Proposal:
    """What ``geo-township init`` proposes for a folder, and what is left to check."""

    folder: Path
    name: str
    decisions: list[Decision]
    undecided: list[Undecided]
    rasters: list[RasterPlan]
    unreadable: list[Unreadable]
    skipped: list[Unreadable]
    meridian: int | None = None

    @property
    def checks(self) -> list[Words]:
        """Everything marked to check in the file, in its order."""
        items = [Words(f"[township] name is the folder's name ({self.name}): write the township's name",
                       f"[township] name 暂为文件夹名（{self.name}）：请改为乡镇名称")]
        for d in self.decisions:
            items += d.checks
        items += [u.reason for u in self.undecided if not u.taken]  # the rest is said at the kind chosen
        for r in self.rasters:
            items += r.checks
        items += [Words(f"{u.rel}: {u.reason.en}", f"{u.rel}：{u.reason.zh}") for u in self.unreadable]
        return items

    @property
    def empty(self) -> bool:
        """No GIS file was found: the file is a template to fill in."""
        return not (self.decisions or self.undecided or self.rasters or self.unreadable)


def build_proposal(folder: Path) -> Proposal:
    """Scan ``folder`` and decide a kind and field mapping for every file it holds."""
    scan = scan_folder(folder)
    decisions, undecided = decide(scan.sources)
    meridian = township_meridian([d.source for d in decisions] + [u.source for u in undecided])
    for d in decisions:
        d.crs, notes = crs_for(d.source, meridian)
        d.checks += notes
    return Proposal(folder, folder.resolve().name or "township", decisions, undecided, _raster_plans(scan.rasters),
                    scan.unreadable, scan.skipped, meridian)


def _raster_plans(rasters: list[RasterSource]) -> list[RasterPlan]:
    """One ``[rasters.NAME]`` per GeoTIFF, named after its file (made unique)."""
    plans: list[RasterPlan] = []
    used: set[str] = set()
    for r in sorted(rasters, key=lambda r: r.path.stem.lower()):
        base = re.sub(r"\s+", "_", r.path.stem.strip()) or "raster"
        name, n = base, 2
        while name in used:
            name, n = f"{base}_{n}", n + 1
        used.add(name)
        folded = r.path.stem.lower()
        categorical = r.dtype.startswith(("uint", "int")) and any(h in folded for h in CLASS_HINTS)
        checks = []
        if categorical:
            checks.append(Words(
                f"raster {name} looks like classes (land cover): name them, e.g. classes = "
                '{ "1" = "林地", "2" = "耕地" }',
                f"栅格 {name} 像是分类数据（土地覆盖）：请写出各类名称，如 classes = "
                '{ "1" = "林地", "2" = "耕地" }'))
        plans.append(RasterPlan(name, r, categorical, checks))
    return plans
