"""A :class:`~.plan.Proposal` as township.toml text, commented in Chinese and English.

Every decision is written as the loader will read it; what could not be decided is
written commented out, each marked ``请核对 CHECK`` so a user finds them all.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from geo_township.kinds import KINDS
from geo_township.propose.decide import Decision, Undecided
from geo_township.propose.plan import Proposal, RasterPlan
from geo_township.propose.scan import Source, Words

CHECK = "请核对 CHECK"
GEOMETRY_WORDS = {"Point": ("points", "点"), "LineString": ("lines", "线"), "Polygon": ("polygons", "面")}
MEASURE_WORDS = {"Point": "个", "LineString": "条", "Polygon": "个"}
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(str(text), ensure_ascii=False)


def toml_key(name: str) -> str:
    """A TOML key, quoted unless it is a bare key."""
    return name if _BARE_KEY.match(name) else toml_string(name)


def _inline(mapping: dict[str, str]) -> str:
    return "{ " + ", ".join(f"{toml_key(k)} = {toml_string(v)}" for k, v in mapping.items()) + " }"


def _check(words: Words) -> list[str]:
    return [f"# {CHECK}: {words.zh}", f"#   {words.en}"]


def proposal_toml(proposal: Proposal, today: dt.date | None = None) -> str:
    """The township.toml text of ``proposal``."""
    lines = _header(proposal, today or dt.date.today())
    for d in proposal.decisions:
        lines += ["", *_layer(d)]
    for u in proposal.undecided:
        lines += ["", *_undecided(u)]
    if proposal.rasters:
        lines += ["", "# 栅格（GeoTIFF），名称用于 --raster NAME / Rasters (GeoTIFF), named for --raster NAME"]
    for r in proposal.rasters:
        lines += ["", *_raster(r)]
    lines += _by_hand(proposal)
    lines += _other_kinds(proposal)
    lines += ["", "# 参数（可选，默认值见 README）/ Parameters (optional; defaults in the README), e.g.",
              "# [parameters]", "# clearance_target_pct = 98.0", "# zone_m = 30.0", ""]
    return "\n".join(lines)


def _header(proposal: Proposal, today: dt.date) -> list[str]:
    found = (f"由 `geo-township init` 根据本文件夹中的文件生成（{today.isoformat()}）",
             f"Written by `geo-township init` from the files in this folder ({today.isoformat()})")
    if proposal.empty:
        found = (f"由 `geo-township init` 生成的模板（{today.isoformat()}）：文件夹中没有找到 GIS 文件",
                 f"A template written by `geo-township init` ({today.isoformat()}): no GIS files were found")
    return [
        "# township.toml：乡镇配置文件 / the township file",
        f"# {found[0]}。",
        f"# {found[1]}.",
        f"# 请逐项核对，尤其是标有“{CHECK}”的行；然后运行 geo-township info 和 geo-township check。",
        f"# Check every table, above all the lines marked \"{CHECK}\"; then run geo-township info and check.",
        "# 路径相对于本文件；字段对应写作 本工具字段 = \"您文件中的字段名\"。",
        "# Paths are relative to this file; fields map ours = \"the name in your file\".",
        "",
        "[township]",
        f"name = {toml_string(proposal.name)}  # 乡镇名称（请修改）/ the township's name: change it",
        "# name_en = \"\"  # 英文名称 / English name",
        "crs = \"EPSG:4490\"  # 文件未注明坐标系且无法推断时采用 / "
        "for files that name no CRS when it cannot be inferred",
        "# data_date = \"2023-04-30\"  # 数据截止日期（默认今天）/ the date the data are as of (default: today)",
        *(_check(proposal.checks[0])),
    ]


def _describe(source: Source) -> tuple[str, str]:
    """How many features of what geometry, in which CRS (en, zh)."""
    en_geom, zh_geom = GEOMETRY_WORDS.get(source.family or "", ("features", "要素"))
    count = "?" if source.features is None else f"{source.features:,}"
    crs = source.crs or "no CRS in the file"
    crs_zh = source.crs or "文件未注明坐标系"
    return f"{count} {en_geom}, {crs}", f"{count} {MEASURE_WORDS.get(source.family or '', '个')}{zh_geom}，{crs_zh}"


def _table(kind: str, source: Source, fields: dict[str, str], crs: str | None) -> list[str]:
    """The ``[layers.KIND]`` lines (fields the reader derives are left to it)."""
    lines = [f"[layers.{kind}]", f"path = {toml_string(source.rel)}"]
    if source.layer:
        lines.append(f"layer = {toml_string(source.layer)}")
    written = {k: v for k, v in fields.items() if v not in source.derived}
    if written:
        lines.append(f"fields = {_inline(written)}")
    if crs:
        lines.append(f"crs = {toml_string(crs)}")
    if source.encoding:
        lines.append(f"encoding = {toml_string(source.encoding)}  # 文件不是 UTF-8 / the file is not UTF-8")
    return lines


def _layer(d: Decision) -> list[str]:
    kind_ = KINDS[d.kind]
    en, zh = _describe(d.source)
    lines = [f"# {kind_.zh} / {kind_.en} ← {d.source.label}：{zh} / {en}", *_table(d.kind, d.source, d.fields, d.crs)]
    for column, how in d.source.derived.items():
        mapped = [k for k, v in d.fields.items() if v == column]
        if mapped:
            lines.append(f"# {mapped[0]} ← {how.zh} / {how.en}")
    if d.unmapped:
        lines.append("# 未对应的字段（原样保留）/ fields not mapped (kept as they are): " + ", ".join(d.unmapped))
    if d.missing:
        lines.append("# 文件中未找到（如有，请在 fields 中添加）/ ours not found (add them to fields if the file has "
                     "them): " + ", ".join(f"{m}({kind_.field(m).zh})" for m in d.missing))
    for check in d.checks:
        lines += _check(check)
    return lines


def _undecided(u: Undecided) -> list[str]:
    lines = _check(u.reason)
    if u.candidates:
        best = u.candidates[0]
        lines += [f"# {line}" for line in _table(best.kind, u.source, best.fields, None)]
    else:
        lines += [f"# [layers.KIND]  # {' | '.join(k for k in KINDS)}", f"# path = {toml_string(u.source.rel)}"]
        if u.source.layer:
            lines.append(f"# layer = {toml_string(u.source.layer)}")
        lines.append("# 文件中的字段 / fields in the file: " + ", ".join(u.source.columns))
    return lines


def _raster(r: RasterPlan) -> list[str]:
    s = r.source
    unit = "°" if s.geographic else " m"
    lines = [f"# {s.rel}: {s.width} × {s.height} px, {s.res[0]:g}{unit}, {s.bands} band(s), {s.dtype}, {s.crs}",
             f"[rasters.{toml_key(r.name)}]", f"path = {toml_string(s.rel)}"]
    if r.categorical:
        lines.append("categorical = true  # 分类数据（各值为类别）/ values are classes")
        lines.append('# classes = { "1" = "林地", "2" = "耕地", "3" = "水域" }')
    lines.append('# description = ""  # 说明 / what it shows, e.g. "NDVI, August 2023"')
    for check in r.checks:
        lines += _check(check)
    return lines


def _by_hand(proposal: Proposal) -> list[str]:
    lines = []
    if proposal.unreadable:
        lines += ["", "# 需要手工处理的文件 / Files to map by hand:"]
        for u in proposal.unreadable:
            lines += _check(Words(f"{u.rel}: {u.reason.en}", f"{u.rel}：{u.reason.zh}"))
            if u.layers:
                lines.append("#   图层 / layers: " + ", ".join(u.layers))
    if proposal.skipped:
        lines += ["", "# 未使用的文件 / Files not used:"]
        lines += [f"# - {u.rel}: {u.reason.zh} / {u.reason.en}" for u in proposal.skipped]
    return lines


def _other_kinds(proposal: Proposal) -> list[str]:
    """The kinds not proposed, commented out, so a user sees what else the tool reads."""
    have = {d.kind for d in proposal.decisions}
    rest = [k for k in KINDS.values() if k.name not in have]
    if not rest:
        return []
    lines = ["", ("# 其他图层类型（如有这些文件，请取消注释并填写）/ Other layer kinds (uncomment and fill in if "
                  "you have them):")]
    for k in rest:
        en, zh = GEOMETRY_WORDS[k.geometry[0]]
        lines += [f"# [layers.{k.name}]  # {k.zh} / {k.en} ({zh} / {en})", "# path = \"\""]
    return lines
