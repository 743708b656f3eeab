"""The features behind one indicator (``report --explain ID``): every feature that counts
toward its headline number, with the amount it adds (``report_value``: 1 per feature, or
its area in mu, or its length in km), so the column sums to the number.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_township.errors import NotFoundError, UsageError
from geo_township.measure import length
from geo_township.report.indicators import (
    BY_ID,
    INDICATORS,
    Analyses,
    afforested,
    oil_tea,
    sand_closed_mask,
    transfer_masks,
    year_bounds,
)
from geo_township.tree_events import make_period
from geo_township.tree_plots import plot_table
from geo_township.trees import tally_trees

VALUE = "report_value"
"""The column whose sum is the indicator's headline number."""
SUFFIXES = (".gpkg", ".kml", ".kmz", ".geojson", ".csv", ".xlsx")


def _trees(a: Analyses, year: int, flag: str, *, since_first: bool = False) -> gpd.GeoDataFrame:
    start, end = year_bounds(year)
    period = make_period(a.township, start=None if since_first else start, end=end)
    tally = tally_trees(a.township, period)
    keep = tally.flags[flag].to_numpy(dtype=bool)
    out = tally.trees[keep].copy()
    out[VALUE] = 1
    return out


def _due(a: Analyses, year: int) -> gpd.GeoDataFrame:
    start, end = year_bounds(year)
    tally = tally_trees(a.township, make_period(a.township, start=start, end=end))
    due = tally.flags["due"].to_numpy(dtype=bool)
    out = tally.trees[due].copy()
    out["due_cleared"] = tally.flags["due_cleared"].to_numpy(dtype=bool)[due]
    out[VALUE] = np.where(out["due_cleared"], 100.0 / max(int(due.sum()), 1), 0.0)
    return out


def _infected_plots(a: Analyses, year: int) -> gpd.GeoDataFrame:
    start, end = year_bounds(year)
    tally = tally_trees(a.township, make_period(a.township, start=start, end=end))
    found = tally.flags["found"].to_numpy(dtype=bool)
    hit = set(pd.Series(tally.trees["plot_id"].to_numpy(dtype=object)[found]).dropna().astype(str))
    plots = plot_table(a.township)
    assert plots is not None  # the indicator needs forest_plots
    out = plots[plots["plot_id"].astype(str).isin(hit)].copy()
    out[VALUE] = 1
    return out


def _plots(a: Analyses, year: int, pick) -> gpd.GeoDataFrame:
    plots = plot_table(a.township)
    assert plots is not None
    layer = a.township.gdf("forest_plots")
    out = plots[pick(layer, year)].copy()
    out[VALUE] = out["area_mu"]
    return out


def _parcels(a: Analyses, year: int, mask: str) -> gpd.GeoDataFrame:
    parcels = a.audit().features["parcels"]
    out = parcels[transfer_masks(parcels, year)[mask]].copy()
    out[VALUE] = out["measured_mu"]
    return out


def _sites(a: Analyses, year: int, which: str) -> gpd.GeoDataFrame:
    sites = a.sand().features["sites"]
    mask = ((sites["sand_zone"] == "no_mining").to_numpy() if which == "no_mining"
            else sand_closed_mask(sites, year, cumulative=False))
    out = sites[mask].copy()
    out[VALUE] = 1
    return out


def _rivers(a: Analyses, year: int) -> gpd.GeoDataFrame:
    rivers = a.township.gdf("rivers")
    lines = rivers[rivers.geom_type.isin(["LineString", "MultiLineString"])].copy()
    lines[VALUE] = length(lines.geometry, unit="km", method=a.township.config.parameters["area_method"])
    return lines


def _outfalls(a: Analyses, year: int) -> gpd.GeoDataFrame:
    out = a.township.gdf("outfalls").copy()
    out[VALUE] = 1
    return out


def _findings(a: Analyses, year: int) -> gpd.GeoDataFrame:
    audit = a.audit()
    frame = audit.findings_frame()
    frame = frame[frame["severity"].isin(["error", "warning"]) & (frame["feature"] != "…")]
    parcels = audit.features["parcels"][["parcel_id", "geometry"]].drop_duplicates("parcel_id")
    first = frame["feature"].astype(str).str.split(r"\s*[,+&/]\s*", regex=True).str[0]
    geoms = parcels.set_index("parcel_id").geometry.reindex(first.to_numpy())
    out = gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=geoms.to_numpy(), crs=parcels.crs)
    out[VALUE] = 1
    return out


_EXPLAIN = {
    "cleared_trees": lambda a, y: _trees(a, y, "cleared"),
    "cleared_trees_cumulative": lambda a, y: _trees(a, y, "cleared", since_first=True),
    "found_trees": lambda a, y: _trees(a, y, "found"),
    "clearance_rate": _due,
    "infected_plots": _infected_plots,
    "new_afforestation_mu": lambda a, y: _plots(a, y, afforested),
    "oil_tea_mu": lambda a, y: _plots(a, y, oil_tea),
    "new_forest_transfer_mu": lambda a, y: _parcels(a, y, "forest_new"),
    "farmland_transfer_mu": lambda a, y: _parcels(a, y, "farmland_new"),
    "pv_transfer_mu": lambda a, y: _parcels(a, y, "pv_in_force"),
    "sand_closed": lambda a, y: _sites(a, y, "closed"),
    "sand_sites_in_no_mining_zones": lambda a, y: _sites(a, y, "no_mining"),
    "river_km": _rivers,
    "outfalls": _outfalls,
    "open_audit_findings": _findings,
}


def explain(township, year: int, indicator_id: str, analyses: Analyses | None = None) -> gpd.GeoDataFrame:
    """The features behind ``indicator_id`` for ``year``, with :data:`VALUE` summing to its
    headline number (the clearance rate: the due trees, each cleared one adding 100 ÷ due).
    Raises UsageError for an unknown id or an indicator without a feature listing, and
    NotFoundError for a missing layer (in a county, such a township is passed over)."""
    check_explainable(indicator_id)
    a = analyses or Analyses(township)
    missing = a.missing(BY_ID[indicator_id])
    if missing is not None:
        if township.has(missing.kind):
            township.layer(missing.kind)  # configured but unreadable: its own error, not "not here"
        raise NotFoundError(f"{indicator_id} needs the {missing.kind} layer, which the township does not have",
                            hint=f"add [layers.{missing.kind}] to township.toml",
                            message_zh=f"{indicator_id} 需要 {missing.kind} 图层，本乡镇没有",
                            hint_zh=f"在 township.toml 中添加 [layers.{missing.kind}]")
    return _EXPLAIN[indicator_id](a, year)


def check_explainable(indicator_id: str) -> None:
    """Refuse an unknown indicator id, or one without a feature listing (before any work)."""
    if indicator_id not in BY_ID:
        raise UsageError(f"no indicator {indicator_id!r}", hint="use one of: " + ", ".join(i.id for i in INDICATORS))
    if indicator_id not in _EXPLAIN:
        raise UsageError(f"{indicator_id} is a share of river length, not a sum of features",
                         hint="run `geo-township rivers --from YEAR-01-01 --to YEAR-12-31 --save FILE.gpkg` for "
                         "the patrolled stretches")


def county_explained(features: gpd.GeoDataFrame, indicator_id: str) -> gpd.GeoDataFrame:
    """Every township's features behind ``indicator_id`` (joined under a township column)
    with :data:`VALUE` summing to the county's number: the clearance rate's cleared trees
    each add 100 ÷ the county's due trees (a township's listing gives 100 ÷ its own); the
    other indicators are sums, which add up as they are."""
    if indicator_id != "clearance_rate" or not len(features):
        return features
    out = features.copy()
    out[VALUE] = np.where(out["due_cleared"].to_numpy(dtype=bool), 100.0 / len(out), 0.0)
    return out


def write_explained(features: gpd.GeoDataFrame, path: str | Path, *, indicator_id: str) -> None:
    """Write the features of :func:`explain` with the exporter, by suffix: GeoPackage
    (layer named after the indicator), KML/KMZ, GeoJSON, CSV or XLSX (attributes with
    lon/lat for points, WKT for lines and polygons)."""
    from geo_township.export import export_sets

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(f"cannot write the features behind an indicator as {suffix or 'a file without suffix'}",
                         hint="use a " + ", ".join(SUFFIXES[:-1]) + f" or {SUFFIXES[-1]} file name")
    export_sets({indicator_id: features}, path)
