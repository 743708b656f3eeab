"""The report's tables per village, one per topic, taken from the analyses' own tables."""

from __future__ import annotations

import pandas as pd

from geo_township.labels import TOTAL_LABEL
from geo_township.report.indicators import Analyses, transfer_masks


def village_tables(analyses: Analyses, year: int) -> dict[str, pd.DataFrame]:
    """Per village: trees (the `trees` table of the year), transfers started in the year
    (per land type), sand-site closures per year and river length; a topic whose layer is
    missing is left out."""
    township = analyses.township
    out: dict[str, pd.DataFrame] = {}
    if township.has("infected_trees"):
        out["trees_by_village"] = analyses.trees(year).table
    if township.has("land_transfers"):
        parcels = analyses.audit().features["parcels"]
        masks = transfer_masks(parcels, year)
        new = parcels[masks["forest_new"] | masks["farmland_new"]]
        table = (new.groupby(["village", "land_type"], sort=True, dropna=False)
                 .agg(parcels=("parcel_id", "size"), declared_mu=("declared_mu", "sum"),
                      measured_mu=("measured_mu", "sum")).reset_index())
        total = {"village": TOTAL_LABEL["en"], "land_type": None, "parcels": int(table["parcels"].sum()),
                 "declared_mu": float(table["declared_mu"].sum()), "measured_mu": float(table["measured_mu"].sum())}
        out["transfers_by_village"] = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    if township.has("sand_sites"):
        out["sand_by_village"] = analyses.sand().tables["closures_by_village"]
    if township.has("rivers"):
        out["rivers_by_village"] = analyses.rivers(year).tables.get("by_village", pd.DataFrame())
    return out
