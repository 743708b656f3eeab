"""Totals of the land-transfer audit — parcels, declared and measured mu per village, land
type, use and year of start, with the share of each village's permanent basic farmland
that transfers cover — and the per-parcel layer (worst finding, checks, their numbers and
messages) the map and the GeoPackage show.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_township.labels import TOTAL_LABEL
from geo_township.measure import Method, area, group_labels
from geo_township.overlaps import covered, intersection_pairs
from geo_township.transfers.findings import CHECKS, SEVERITY_ORDER, Collector, join_unique
from geo_township.transfers.land_checks import dissolve_villages
from geo_township.units import from_m2


def totals_tables(p: gpd.GeoDataFrame, villages: gpd.GeoDataFrame | None,
                  basic_farmland: gpd.GeoDataFrame | None, *, method: Method) -> dict[str, pd.DataFrame]:
    """The totals ``by_village`` (with the farmland share when the villages and basic
    farmland are known), ``by_land_type``, ``by_use`` and ``by_start_year``."""
    extra = None
    if villages is not None and len(villages) and basic_farmland is not None:
        extra = with_share_column(farmland_share(p, villages, basic_farmland, method=method))
    by_village = totals_by(p, p["village"], "village", extra)
    if extra is not None:
        last = by_village.index[-1]
        by_village.loc[last, "farmland_share_pct"] = (
            by_village.loc[last, "transferred_farmland_mu"] / by_village.loc[last, "basic_farmland_mu"] * 100.0
            if by_village.loc[last, "basic_farmland_mu"] > 0 else np.nan)
    start_year = p["start_date"].dt.year.astype("Int64")
    return {
        "by_village": by_village,
        "by_land_type": totals_by(p, p["land_type"], "land_type"),
        "by_use": totals_by(p, p["use"], "use"),
        "by_start_year": totals_by(p, start_year, "start_year"),
    }


def totals_by(p: gpd.GeoDataFrame, key: pd.Series, column: str, extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """Parcels, declared and measured mu per group, groups sorted, with a Total row."""
    frame = pd.DataFrame({column: group_labels(key).to_numpy(), "declared_mu": p["declared_mu"].to_numpy(),
                          "measured_mu": p["measured_mu"].to_numpy()})
    table = frame.groupby(column, sort=True).agg(parcels=("measured_mu", "size"), declared_mu=("declared_mu", "sum"),
                                                 measured_mu=("measured_mu", "sum"))
    if extra is not None:
        table = table.join(extra, how="outer").sort_index()
        table["parcels"] = table["parcels"].fillna(0)
        table[["declared_mu", "measured_mu"]] = table[["declared_mu", "measured_mu"]].fillna(0.0)
    table = table.reset_index().rename(columns={"index": column})
    total = {column: TOTAL_LABEL["en"], "parcels": len(p), "declared_mu": float(np.nansum(p["declared_mu"])),
             "measured_mu": float(p["measured_mu"].sum())}
    if extra is not None:
        for col in extra.columns:
            if col.endswith("_mu"):
                total[col] = float(table[col].sum())
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    table["parcels"] = table["parcels"].astype(int)
    return table


def farmland_share(p: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, farmland: gpd.GeoDataFrame, *,
                    method: Method) -> pd.DataFrame:
    """Per village (by location): its permanent basic farmland, the part of it that
    transfers cover (each piece of land once, however many contracts cover it), and the share."""
    dissolved = dissolve_villages(villages)
    pieces = intersection_pairs(farmland.geometry, dissolved.geometry)
    names = dissolved["village"].to_numpy()
    farm_mu = area(pieces.geometry, unit="mu", method=method) if len(pieces) else np.zeros(0)
    _, cov_m2, _ = covered(pieces.geometry, p.geometry, method=method)
    frame = pd.DataFrame({"village": names[pieces["right"].to_numpy()] if len(pieces) else [],
                          "basic_farmland_mu": farm_mu, "transferred_farmland_mu": from_m2(cov_m2, "mu")})
    table = frame.groupby("village").sum().reindex(names, fill_value=0.0)
    table.index.name = "village"
    return table


def with_share_column(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``farmland_share_pct``: transferred / basic farmland, in percent
    (blank where a village has no basic farmland)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = table["transferred_farmland_mu"] / table["basic_farmland_mu"] * 100.0
    table["farmland_share_pct"] = share.where(table["basic_farmland_mu"] > 0)
    return table


_PER_PARCEL = {  # column of the parcels layer → how a parcel's values from several findings combine
    "double_counted_with": "list", "double_counted_mu": "sum", "renewal_with": "list", "outside_mu": "sum",
    "on_farmland_mu": "sum", "on_forest_mu": "sum", "in_zone_mu": "sum", "bad_values": "list",
}


def parcels_layer(p: gpd.GeoDataFrame, out: Collector, where: np.ndarray) -> gpd.GeoDataFrame:
    """Every parcel with its worst finding (``audit``), its checks, the numbers behind them
    and the findings' messages (``details`` / ``details_zh``): what the map's popup and
    the GeoPackage's ``parcels`` layer show."""
    n = len(p)
    worst = np.full(n, SEVERITY_ORDER["ok"])
    listed: list[list[str]] = [[] for _ in range(n)]
    for code in CHECKS:  # in the order of CHECKS, so a parcel's checks read most serious first within a severity
        rows = [k for k in out.flags.get(code, ()) if not isinstance(k, str)]
        if not rows:
            continue
        idx = np.asarray(rows, dtype=int)
        worst[idx] = np.minimum(worst[idx], SEVERITY_ORDER[CHECKS[code].severity])
        for r in idx:
            listed[r].append(code)
    rank = {c: (SEVERITY_ORDER[CHECKS[c].severity], k) for k, c in enumerate(CHECKS)}
    names = {v: k for k, v in SEVERITY_ORDER.items()}
    parcels = p.copy()
    parcels.insert(1, "feature", where)
    parcels["diff_mu"] = parcels["declared_mu"] - parcels["measured_mu"]
    parcels["audit"] = [names[w] for w in worst]
    parcels["checks"] = [", ".join(sorted(c, key=lambda code: rank[code])) for c in listed]
    for column, how in _PER_PARCEL.items():
        slot = out.values.get(column, {})
        if how == "sum":
            values = np.full(n, np.nan)
            for r, v in slot.items():
                values[r] = float(np.sum(v))
        else:
            values = np.full(n, None, dtype=object)
            for r, v in slot.items():
                values[r] = join_unique(v)
        parcels[column] = values
    for column, k in (("details", 0), ("details_zh", 1)):
        values = np.full(n, None, dtype=object)
        for r, msgs in out.details.items():
            values[r] = (" | " if k == 0 else "｜").join(m[k] for m in msgs)
        parcels[column] = values
    return parcels
