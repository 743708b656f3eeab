"""Village names that differ between layers: a record (a plot's, a tree's, a parcel's
village) that names another village than the one it lies in, and spellings that match
the villages layer's only once spaces and full-width forms are normalised.

The location decides where a feature is counted (:mod:`geo_township.locate`); the record's
name is kept. This module only reports, so that `check` names both names and the rows.
Names are compared by :data:`~geo_township.locate.NAME_RULE`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_township.labels import quoted_name
from geo_township.layers import Layer
from geo_township.locate import locate, match_place_names
from geo_township.results import Check, Finding, declare

MAX_FINDINGS = 200  # per layer and check; the rest are counted in one line

VILLAGE_NAME_CHECKS = declare(
    Check("village_differs", "warning", "village name ≠ where it lies", "村名与所在位置不符",
          "the record names village {said}, but the feature lies in village {lies} ({where}): it is counted in "
          "{lies} (where it lies decides) and the record is kept; correct the name or the geometry",
          "记录的村名为 {said}，但该要素位于 {lies}（{where}）：按所在位置计入 {lies}，记录保留；请更正村名或图形"),
    Check("village_normalised", "info", "village name normalised", "村名经规范化后一致",
          "village {said} matches {name} of the villages layer only once spaces and full-width forms are normalised "
          "({n} feature(s): {rows}); treated as {name}: write it as the villages layer does",
          "村名 {said} 经统一空格和全角/半角后才与村界图层的 {name} 一致（{n} 个：{rows}）；按 {name} 处理："
          "请按村界图层的写法填写"),
)


def _rows(labels: pd.Series) -> str:
    shown = ", ".join(labels.astype(str).head(5))
    return shown + (f" and {len(labels) - 5} more" if len(labels) > 5 else "")


def _labels(layer: Layer) -> pd.Series:
    """Each feature's id, with its line in the file for tables."""
    ids = layer.ids().reset_index(drop=True)
    if "source_row" in layer.gdf.columns:
        return ids + " (line " + layer.gdf["source_row"].astype(str).reset_index(drop=True) + ")"
    return ids


def village_name_findings(layer: Layer, villages: gpd.GeoDataFrame | None) -> list[Finding]:
    """For a layer whose records name a village (plots, trees, transfers): the spellings
    that matched only after normalising (info) and the records that name another village
    than the one the feature lies in (warning, both names and the row)."""
    gdf = layer.gdf
    if (villages is None or layer.name == "villages" or "village" not in gdf.columns
            or "village" not in villages.columns or not len(gdf)):
        return []
    match = match_place_names(gdf["village"].reset_index(drop=True), villages["village"])
    labels = _labels(layer)
    findings: list[Finding] = []
    if match.normalised.any():
        said = gdf["village"].reset_index(drop=True)[match.normalised].astype(str)
        for spelling, group in labels[match.normalised].groupby(said.to_numpy(), sort=False):
            name = match.values[match.normalised][said == spelling].iloc[0]
            findings.append(VILLAGE_NAME_CHECKS.village_normalised.finding(
                layer.name, str(group.iloc[0]).split(" (line ")[0], said=quoted_name(spelling), name=name, n=len(group),
                rows=_rows(group)))
    # a record differs when the village it names does not cover the feature (a feature on a shared edge
    # agrees with either village), and the feature lies in some village
    frame = gpd.GeoDataFrame({"village": match.values.to_numpy(dtype=object)},
                             geometry=gdf.geometry.reset_index(drop=True), crs=gdf.crs)
    at = locate(frame, villages, "village")
    lies = at.located.reset_index(drop=True)
    differ = np.array([i for i in at.disagree if lies.iloc[i] is not None], dtype="int64")
    ids = layer.ids().reset_index(drop=True)
    check = VILLAGE_NAME_CHECKS.village_differs
    for i in differ[:MAX_FINDINGS]:
        findings.append(check.finding(layer.name, str(ids.iloc[i]), said=gdf["village"].iloc[i], lies=lies.iloc[i],
                                      where=labels.iloc[i]))
    if len(differ) > MAX_FINDINGS:
        findings.append(check.more(layer.name, len(differ) - MAX_FINDINGS))
    return findings
