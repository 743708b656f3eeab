"""The report's tables per village, one per topic, taken from the analyses' own tables."""

from __future__ import annotations

import pandas as pd

from geo_township.labels import TOTAL_LABEL
from geo_township.report.indicators import Analyses, transfer_masks, year_bounds


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


def chart_tables(analyses: Analyses, year: int) -> dict[str, pd.DataFrame]:
    """The numbers of the report's charts: trees found and cleared per month of the year
    (each event by its own date, as `trees` counts them, so the months sum to the year's
    indicators), transfers' measured area by use and start year, and sand sites by status."""
    from geo_township.tree_events import make_period
    from geo_township.trees import tally_trees

    township = analyses.township
    out: dict[str, pd.DataFrame] = {}
    if township.has("infected_trees"):
        start, end = year_bounds(year)
        tally = tally_trees(township, make_period(township, start=start, end=end))
        months = pd.period_range(f"{year}-01", f"{year}-12", freq="M").astype(str)
        frame = pd.DataFrame({"month": months})
        for stage in ("found", "cleared"):
            flagged = tally.flags[stage].to_numpy(dtype=bool)
            when = tally.dates[stage][flagged].dt.to_period("M").astype(str)
            frame[stage] = frame["month"].map(when.value_counts()).fillna(0).astype(int)
        out["trees_by_month"] = frame
    if township.has("land_transfers"):
        parcels = analyses.audit().features["parcels"]
        started = pd.to_datetime(parcels["start_date"], errors="coerce").dt.year
        table = (parcels.assign(start_year=started).dropna(subset=["start_year"])
                 .assign(start_year=lambda d: d["start_year"].astype(int))
                 .groupby(["start_year", "use"], dropna=False)["measured_mu"].sum().reset_index())
        out["transfers_by_use_year"] = table
    if township.has("sand_sites"):
        sites = analyses.sand().features["sites"]
        out["sand_by_status"] = sites["status"].value_counts(sort=False).rename_axis("status").rename(
            "sites").reset_index()
    return out
