"""New plantations of the report years: Chinese-fir sub-compartments felled at the end of
their rotation and replanted (采伐迹地更新) in 2021 and 2022.

A replanted sub-compartment keeps its outline, species and origin (人工); only its planting
year (造林年度) becomes the year it was replanted, as a forest inventory update records it.
The plots are drawn from the old fir plantations (planted up to 1995) with their own random
stream, so the other layers of the sample are unchanged.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

REPLANTED = {2021: 7, 2022: 11}
"""How many sub-compartments were replanted in each year."""
OLDEST_ROTATION_END = 1995
"""Fir plantations planted up to this year are old enough to be felled and replanted."""


def replant(forest: gpd.GeoDataFrame, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, dict[str, list[str]]]:
    """``forest`` (the table as written) with the replanted plots' 造林年度 set to the year
    they were replanted, and the codes (小班编码) of those plots per year."""
    old_fir = np.flatnonzero(((forest["优势树种"] == "杉木") & (forest["起源"] == "人工")
                              & (forest["造林年度"] <= OLDEST_ROTATION_END)).to_numpy())
    chosen = rng.choice(old_fir, size=sum(REPLANTED.values()), replace=False)
    out = forest.copy()
    years = out["造林年度"].to_numpy().copy()
    codes: dict[str, list[str]] = {}
    start = 0
    for year, n in REPLANTED.items():
        picked = np.sort(chosen[start:start + n])
        start += n
        years[picked] = year
        codes[str(year)] = sorted(str(c) for c in out["小班编码"].to_numpy()[picked])
    out["造林年度"] = years.astype(np.int32)
    return out, codes
