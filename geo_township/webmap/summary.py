"""The key numbers printed with the map: per village and in total, forest and pine area
(mu), pine-wilt trees found / outstanding / felled / cleared and the clearance rate,
land transferred (mu) and illegal sand sites; and each layer's feature count.

The same per-village functions colour the map's choropleth (:mod:`.indicators`), and the
tree columns are `geo-township trees`' own per-village table, so the table, the map, the
popups and the trees command show the same numbers. Rows follow the one village order
(:func:`geo_township.locate.village_order`).
"""

from __future__ import annotations

import pandas as pd

from geo_township.labels import TOTAL_LABEL
from geo_township.layers import Township
from geo_township.locate import village_order
from geo_township.measure import METHOD_NOTES
from geo_township.results import Result
from geo_township.webmap.indicators import INDICATORS, OUTSIDE, tree_rows

TOTAL = TOTAL_LABEL["en"]
SUMMARY_COLUMNS = ("forest_mu", "pine_mu", "found", "standing", "felled", "cleared", "clearance_pct",
                   "transferred_mu", "sites_illegal")
"""Indicator keys shown as columns, in order, when the township has their layer."""


def layer_counts(township: Township) -> pd.DataFrame:
    """One row per configured layer: kind code, file name and feature count."""
    rows = [{"layer": kind, "file": township.config.layers[kind].path.name,
             "features": len(township.gdf(kind))} for kind in township.kinds]
    return pd.DataFrame(rows, columns=["layer", "file", "features"])


def _row_order(township: Township, columns: dict[str, pd.Series], tree_names: list[str]) -> list[str]:
    """The summary's rows: every village in the village order, then names only records
    use (the trees table's first, in its order; then the others in text order), then
    "(outside)" when any column has it."""
    others = {g for s in columns.values() for g in s.index} - set(tree_names) - {OUTSIDE}
    present = [g for g in tree_names if g != OUTSIDE] + sorted(others)
    order = village_order(township.optional("villages"), present)
    if any(OUTSIDE in s.index for s in columns.values()):
        order.append(OUTSIDE)
    return order


def summary_table(township: Township, trees: Result | None = None) -> pd.DataFrame:
    """Per-village key numbers with a final Total row (see the module docstring); the tree
    columns from the trees Result ``trees`` when given."""
    keys = [k for k in SUMMARY_COLUMNS if township.has(INDICATORS[k].layer)]
    if any(INDICATORS[k].tree_column for k in keys):
        rows, tree_total = tree_rows(township, trees)
    else:
        rows, tree_total = pd.DataFrame(), pd.Series(dtype=float)
    columns: dict[str, pd.Series] = {}
    for key in keys:
        column = INDICATORS[key].tree_column
        columns[key] = rows[column].astype(float) if column else INDICATORS[key].compute(township)
    order = _row_order(township, columns, rows.index.tolist())
    table = pd.DataFrame({"village": order})
    total: dict[str, object] = {"village": TOTAL}
    for key, series in columns.items():
        values = series.reindex(order)
        table[key] = (values if key == "clearance_pct" else values.fillna(0.0)).to_numpy()
        column = INDICATORS[key].tree_column
        total[key] = float(tree_total[column]) if column else float(table[key].sum())
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    for key in keys:
        if INDICATORS[key].decimals == 0 and key in table:
            table[key] = table[key].round().astype(int)
    return table[["village", *keys]]


def map_summary(township: Township, trees: Result | None = None) -> Result:
    """The township's key statistics (per village and total) and its layers' sizes; the
    tree numbers from the trees Result ``trees`` when given (the one the map drew)."""
    table = summary_table(township, trees)
    method = township.config.parameters.get("area_method", "ellipsoidal")
    notes = [f"areas: {METHOD_NOTES[method]}, in mu (1 mu = 10000/15 m²)"]
    notes_zh = ["面积：" + ("CGCS2000椭球面积（与国土调查一致）" if method == "ellipsoidal"
                            else "高斯-克吕格投影平面面积")
                + "，单位亩（1亩 = 10000/15平方米）"]
    if "found" in table.columns:
        notes.append("trees by current status: standing = suspected or confirmed; felled = felled, cleared or "
                     "verified; cleared = cleared or verified; clearance = as `geo-township trees` reports it: "
                     "of the trees "
                     "due by the last season cut-off, the share cleared by the data date")
        notes_zh.append("疫木按当前状态统计：未伐 = 疑似或已确认；已伐 = 已伐、已清理或已核查；"
                        "已清理 = 已清理或已核查；"
                        "除治率与 `geo-township trees` 一致：截至最近一个除治期截止日应除治的疫木中，"
                        "至数据日期已清理的比例")
    notes.append("a tree belongs to the village it lies in, as `geo-township trees` counts it; any other feature "
                 "to the village its record names, else to the village polygon it lies in")
    notes_zh.append("疫木所属村按其位置（与 `geo-township trees` 一致）；"
                    "其他要素所属村：记录中填写的村，未填写时按所在村界判定")
    decimals = {k: INDICATORS[k].decimals for k in table.columns if k in INDICATORS}
    return Result(
        f"{township.config.display_name()}: key statistics", table,
        tables={"layers": layer_counts(township)}, notes=notes, vocab={"layer": "layer_kind"},
        decimals=decimals, provenance=township.provenance(analysis="map summary", area_method=method),
        title_zh=f"{township.config.name}主要指标", notes_zh=notes_zh,
        labels={"sites_illegal": ("Illegal sand sites", "非法采砂点(处)")},
    )
