"""What a township holds (``info``) and how much area it covers (``area``)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo_township.errors import TownshipError
from geo_township.layers import Township
from geo_township.kinds import column_label
from geo_township.measure import METHOD_NOTES, METHOD_NOTES_ZH, Method, area_by
from geo_township.results import Finding, Result
from geo_township.units import area_unit


def _extent(gdf: gpd.GeoDataFrame) -> str:
    lon_min, lat_min, lon_max, lat_max = gdf.to_crs(4326).total_bounds
    return f"{lon_min:.5f},{lat_min:.5f} – {lon_max:.5f},{lat_max:.5f}"


def describe_layers(township: Township) -> Result:
    """One row per configured layer: file, features, source CRS, extent (lon/lat), and how
    the file's fields map to ours. A layer that cannot be read is listed with the reason."""
    rows = []
    findings: list[Finding] = []
    for kind_name in township.kinds:
        spec = township.config.layers[kind_name]
        file = spec.path.name + (f":{spec.layer}" if spec.layer else "")
        try:
            layer = township.layer(kind_name)
        except TownshipError as exc:
            rows.append({"layer": kind_name, "file": file, "features": None, "crs": None, "extent": None,
                         "fields": f"cannot be read: {exc.message}"})
            findings.append(Finding(kind_name, "-", "error", "unreadable", str(exc)))
            continue
        mapped = ", ".join(f"{canon}←{src}" if canon != src else canon for canon, src in layer.field_map.items())
        others = [c for c in layer.gdf.columns if c not in layer.field_map and c != layer.gdf.geometry.name
                  and c != "source_row" and not c.endswith("_original")]
        crs = layer.source_crs.to_string()
        if layer.crs_note != "from the file":
            crs += f" ({layer.crs_note})"
        rows.append({
            "layer": kind_name, "file": file, "features": len(layer.gdf), "crs": crs, "extent": _extent(layer.gdf),
            "fields": mapped + (f"; also {', '.join(map(str, others))}" if others else ""),
        })
        for note in layer.notes:
            findings.append(Finding(kind_name, "-", "info", "loading", note))
    table = pd.DataFrame(rows, columns=["layer", "file", "features", "crs", "extent", "fields"])
    notes = []
    if township.loaded():
        notes.append(f"working CRS for planar work: {township.working_crs.to_string()} "
                     f"({township.working_crs.name})")
    return Result(f"Layers of {township.name}", table, findings=findings, notes=notes,
                  provenance=township.provenance())


def village_order(township: Township) -> list[str]:
    """Village names in the order officers list them: by village code, else as in the file."""
    villages = township.gdf("villages")
    if "code" in villages.columns and villages["code"].notna().all():
        villages = villages.sort_values("code", kind="stable")
    return [str(v) for v in villages["village"].dropna()]


def order_by_villages(table: pd.DataFrame, township: Township, column: str = "group") -> pd.DataFrame:
    """Rows of a per-village table in village order; other groups (none, outside, Total) after."""
    rank = {name: i for i, name in enumerate(village_order(township))}
    key = table[column].map(lambda g: rank.get(g, len(rank) + (1 if g == "Total" else 0)))
    return table.assign(_k=key).sort_values("_k", kind="stable").drop(columns="_k").reset_index(drop=True)


def area_summary(township: Township, kind_name: str, *, by: str | None = None, unit: str = "mu",
                 method: Method | None = None) -> Result:
    """Area of a layer per group (``by`` a field, canonical or the file's own), in ``unit``,
    measured by ``method`` (the township's ``area_method`` when None)."""
    method = method or township.config.parameters["area_method"]
    unit_ = area_unit(unit)
    layer = township.layer(kind_name)
    table = area_by(layer.gdf, by, unit=unit, method=method)
    if by == "village" and kind_name != "villages" and township.has("villages"):
        table = order_by_villages(table, township)
    vocab = {}
    if by and by in layer.kind.field_names and layer.kind.field(by).vocabulary:
        vocab["group"] = layer.kind.field(by).vocabulary
    note = f"method: {METHOD_NOTES[method]}; unit: {unit_.en} ({unit_.zh})"
    note_zh = f"面积算法：{METHOD_NOTES_ZH[method]}；单位：{unit_.zh}"
    if unit == "mu":
        note += ", 1 mu = 10000/15 m²"
        note_zh += "（1亩 = 10000/15 平方米）"
    labels = {}
    if by:
        labels["group"] = (column_label(by, "en"), column_label(by, "zh"))
    kind_ = layer.kind
    return Result(
        f"Area of {kind_.en.lower()}" + (f" by {labels['group'][0].lower()}" if by else ""), table,
        title_zh=f"{kind_.zh}面积" + (f"（按{labels['group'][1]}）" if by else ""),
        notes=[note], notes_zh=[note_zh], vocab=vocab, labels=labels,
        decimals={f"area_{unit_.code}": unit_.decimals},
        provenance=township.provenance(analysis="area", layer=kind_name, group_by=by, unit=unit,
                                       area_method=method, method_note=METHOD_NOTES[method]),
    )
