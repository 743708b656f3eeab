"""Checks several analyses report, each in its own words: a layer that cannot be read,
notes on reading it, repaired and missing geometries, duplicate and missing ids, a tree
status without its date.

Declared once here, below the analyses, so the layer check (:mod:`geo_township.checks`),
the land-transfer audit, the layer listing and the survey import share one code,
severity and name without importing one another; the wording here is the layer check's,
the others word their findings with :meth:`~geo_township.results.Check.reworded`.
"""

from __future__ import annotations

from geo_township.results import Check, declare

RECORD_CHECKS = declare(
    Check("unreadable", "error", "file cannot be read", "文件无法读取",
          "{error}", "图层无法读取，其他图层照常检查：{error}"),
    Check("loading", "info", "note on reading", "读取说明", "{note}", "读取时：{note}"),
    Check("invalid_geometry", "error", "invalid geometry (repaired copy)", "图形无效(已提供修复副本)",
          "invalid geometry ({reason}); analyses use a repaired copy, the file is unchanged: fix it in your GIS "
          "(e.g. QGIS 'Fix geometries')",
          "图形无效（{reason}）；统计时使用修复后的副本，原文件未改动：请在 GIS 中修复（如 QGIS“修复几何图形”）"),
    Check("empty_geometry", "error", "no geometry", "缺少图形",
          "{reason}: the feature is left out of every count; draw it or give it coordinates",
          "缺少图形：该要素未计入任何统计；请补绘图形或补填坐标"),
    Check("duplicate_id", "error", "duplicate parcel id", "地块编号重复",
          "{id_field} {value} is used by {n} features; give each its own id",
          "编号 {value} 被 {n} 个要素重复使用；请给每个要素唯一编号"),
    Check("missing_id", "error", "no parcel id", "缺少地块编号", "no {id_field}; give the feature an id",
          "缺少编号；请补填"),
    Check("status_without_date", "warning", "status without its date", "状态缺少对应日期",
          "status is {status} but {field} is empty", "状态为{status_zh}，但{field_zh}为空"),
)
