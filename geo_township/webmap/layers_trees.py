"""The map layers of the pine-wilt analyses: the hotspots of the trees Result
(:func:`geo_township.trees.tree_counts`) and the vegetation-loss candidates
(:func:`geo_township.candidates.find_candidates`)."""

from __future__ import annotations

from geo_township.layers import Township
from geo_township.overlay import Overlay
from geo_township.results import Result

HOTSPOT_NOTE = "hotspots: "
"""How the trees Result's note on its hotspots begins (it says which trees they are of)."""


def hotspot_overlays(result: Result, township: Township) -> list[Overlay]:
    """The hotspots of the trees Result (``features["hotspots"]``: by default those of the
    latest season) as circles, largest first; none when it has no hotspots."""
    spots = result.features.get("hotspots")
    if spots is None or len(spots) == 0:
        return []
    note = next((n for n in result.notes if n.startswith(HOTSPOT_NOTE)), HOTSPOT_NOTE + "trees")
    params = township.config.parameters
    eps_m = result.provenance.get("hotspot_eps_m", params["hotspot_eps_m"])
    min_trees = result.provenance.get("hotspot_min_trees", params["hotspot_min_trees"])
    return [Overlay(
        key="hotspots", en="Pine-wilt hotspots", zh="疫情热点", gdf=spots, geometry="polygon", color="#d7301f",
        fields=["hotspot", "trees", "radius_m", "plots_touched", "plots", "villages"], id_field="hotspot",
        label_field="hotspot", highlight=True, fill_opacity=0.15, dash="6 4",
        description=note.replace(HOTSPOT_NOTE, "Clusters of ") + f"; DBSCAN, {eps_m:g} m, ≥ {min_trees} trees",
        description_zh=f"新发现疫木聚集区（DBSCAN，{eps_m:g} 米，不少于 {min_trees} 株）",
        labels={"plots": ("Plots touched", "涉及小班"), "villages": ("Villages", "涉及村")},
        decimals={"radius_m": 0},
    )]


def candidate_overlays(result: Result, township: Township) -> list[Overlay]:
    """The vegetation-loss candidates of a Result of ``find_candidates``: the patches and
    their centre points, to navigate to."""
    before, after = result.provenance["before"], result.provenance["after"]
    min_drop = result.provenance.get("min_drop", township.config.parameters["candidate_min_drop"])
    fields = ["patch_id", "plot_id", "village", "area_m2", "drop_mean", "before_mean", "after_mean", "lon", "lat"]
    decimals = {"area_m2": 0, "drop_mean": 3, "before_mean": 3, "after_mean": 3, "lon": 6, "lat": 6}
    about = (f"where {before} → {after} NDVI fell by ≥ {min_drop:g} inside pine plots: places for the crews to check")
    about_zh = f"松林小班内 {before} → {after} 植被指数下降 ≥ {min_drop:g} 的斑块：需要实地核查的地点"
    return [
        Overlay("candidate_patches", "Vegetation-loss candidates", "植被减少疑似斑块", result.features["candidates"],
                "polygon", color="#e31a1c", fields=fields, id_field="patch_id", decimals=decimals,
                labels=result.labels, description=about, description_zh=about_zh, highlight=True, weight=2.0,
                fill_opacity=0.6),
        Overlay("candidate_points", "Candidate centres", "疑似斑块中心点", result.features["candidate_points"],
                "point", color="#e31a1c", fields=fields, id_field="patch_id", decimals=decimals, symbol="diamond",
                labels=result.labels,
                description="centre of each candidate, to navigate to",
                description_zh="各疑似斑块的中心点，供导航前往核查"),
    ]
