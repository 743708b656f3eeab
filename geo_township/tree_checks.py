"""The checks of the pine-wilt tree analyses (:mod:`geo_township.trees` and the modules it
is built from): records that disagree with where a tree lies, trees outside every plot or
village, villages below the clearance target, plots not cleared by a deadline.

Declared once here, beside the analyses, with their severity, names and messages in
English and Chinese; the analyses build their findings with
:meth:`~geo_township.results.Check.finding`.
"""

from __future__ import annotations

from geo_township.results import Check, declare

TREE_CHECKS = declare(
    Check("plot_id_mismatch", "warning", "record's plot ≠ location", "记录小班与位置不符",
          "the record says plot {said}, but the tree lies {lies}; counted under {said} (the record wins): correct "
          "the record or the coordinates",
          "记录中的小班为 {said}，但该树{lies_zh}；按记录计入 {said}：请更正记录或坐标"),
    Check("village_mismatch", "warning", "record's village ≠ location", "记录村名与位置不符",
          "the record says village {said}, but the tree lies {lies}; counted under {counted} (where it lies decides; "
          "the record's name is kept in village_record): correct the record or the coordinates",
          "记录中的村为 {said}，但该树{lies_zh}；计入 {counted}（以位置为准，记录村名保留在“记录村名”列）："
          "请更正记录或坐标"),
    Check("village_spelling", "info", "village name normalised", "村名经规范化后一致",
          "the record's village {said} ({n} tree(s): {rows}) matches the villages layer's name only once spaces "
          "and full-width forms are normalised; counted as that village: write the name as the villages layer does",
          "记录中的村名 {said}（{n} 株：{rows}）经统一空格和全角/半角后才与村界图层的村名一致，按该村计："
          "请按村界图层的写法填写"),
    Check("outside_plots", "warning", "outside every plot", "不在任何小班内",
          "lies outside every plot and names none: counted in the '(outside)' row; check its coordinates (a GCJ-02 "
          "shift? a neighbouring township?)",
          "不在任何小班内且记录未填写：计入“(范围外)”行；请核对坐标（火星坐标偏移？邻乡的树？）"),
    Check("outside_villages", "warning", "outside every village", "不在任何村内",
          "lies outside every village and names none: counted in the '(outside)' row; check its coordinates (a "
          "GCJ-02 shift? a neighbouring township?)",
          "不在任何村内且记录未填写：计入“(范围外)”行；请核对坐标（火星坐标偏移？邻乡的树？）"),
    Check("status_not_understood", "warning", "status blank or not understood", "状态为空或无法识别",
          "status {value} at {row}: counted as found and still standing (not felled, not cleared); {fix}",
          "状态{value_zh}（{row}）：按已发现、未伐计入；{fix_zh}"),
    Check("clearance_below_target", "warning", "clearance below target", "除治率未达标",
          "clearance rate {rate:.2f}% ({cleared} of the {due} trees due by {cutoff} cleared by {by}) is below the "
          "target {target:g}%",
          "除治率 {rate:.2f}%（截至 {cutoff} 应除治 {due} 株，至 {by} 已清理 {cleared} 株），低于目标 {target:g}%"),
    Check("not_zeroed", "warning", "trees still standing after the deadline", "未实现动态清零",
          "{n} infected tree(s) still standing after the deadline {deadline} ({where}): 动态清零 not reached",
          "截止日期 {deadline} 后仍有 {n} 株疫木未伐（{where_zh}）：未实现动态清零"),
)
