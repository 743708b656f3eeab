"""township.toml → validated objects with defaults.

A township is a folder with a ``township.toml`` that names the township, maps each layer
kind to a file, and sets parameters. Every mistake is collected and reported together,
each with the file, the key and a fix; unknown keys are refused so that a typo never
silently falls back to a default.
"""

from __future__ import annotations

import datetime as dt
import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyproj import CRS

from geo_township.errors import ConfigError
from geo_township.kinds import KINDS
from geo_township.vocabulary import VOCABULARIES

CONFIG_NAME = "township.toml"


@dataclass(frozen=True)
class Param:
    """A township parameter: name, type, default, and what it means (with units)."""

    name: str
    type: type
    default: Any
    doc: str
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    doc_zh: str = ""
    """What it means, in Chinese (for --lang zh and the Chinese docs)."""


PARAMETERS: dict[str, Param] = {
    p.name: p
    for p in (
        Param("area_method", str, "ellipsoidal",
              "how areas are measured: ellipsoidal (on the CGCS2000 ellipsoid, as land surveys "
              "report) or planar (in the township's Gauss–Krüger zone)",
              choices=("ellipsoidal", "planar"),
              doc_zh=("面积算法：ellipsoidal（在 CGCS2000 椭球面上计算，与国土调查一致）或 planar（在本乡镇所在的高斯"
                      "-克吕格投影带平面上计算）")),
        Param("tolerance_pct", float, 5.0,
              "declared vs measured area: difference (% of measured) beyond which a parcel is flagged",
              minimum=0.0, maximum=100.0,
              doc_zh="登记面积与实测面积：差值超过实测面积的这个百分比(%)时，该地块被标出"),
        Param("tolerance_mu", float, 0.0,
              "declared vs measured area: absolute difference (mu) beyond which a parcel is flagged; "
              "0 means only the percentage applies", minimum=0.0,
              doc_zh="登记面积与实测面积：差值超过这么多亩时，该地块被标出；0 表示只按百分比判断"),
        Param("tolerance_rule", str, "any",
              "declared vs measured area, when tolerance_mu is set: flag a parcel beyond either tolerance (any) "
              "or only beyond both the percentage and the mu (both)", choices=("any", "both"),
              doc_zh="设置了 tolerance_mu 时：超过任一容差即标出(any)，还是百分比和亩数都超过才标出(both)"),
        Param("overlap_min_mu", float, 0.1,
              "overlaps between parcels smaller than this (mu) are digitising slivers and ignored",
              minimum=0.0,
              doc_zh="地块之间重叠小于这么多亩的，视为数字化误差，忽略"),
        Param("max_contract_years", float, 30.0,
              "longest allowed land-transfer contract (years)", minimum=0.0,
              doc_zh="土地流转合同允许的最长期限（年）"),
        Param("non_farming_uses", list, ["photovoltaic", "building", "aquaculture"],
              "land-transfer uses that are prohibited on permanent basic farmland",
              doc_zh="永久基本农田上禁止的流转用途"),
        Param("season_start", str, "10-01",
              "first day (MM-DD) of the pine-wilt clearing season that starts in a given year",
              doc_zh="松材线虫病除治季开始的日期（月-日），即某年除治季的第一天"),
        Param("season_end", str, "03-31",
              "last day (MM-DD) of the clearing season, in the following year; also the default deadline",
              doc_zh="除治季结束的日期（月-日，在次年）；也是默认的除治期限"),
        Param("clearance_target_pct", float, 98.0,
              "clearance rate each village must reach (%): of the trees due for clearing (found by the last "
              "season cut-off), the share cleared", minimum=0.0, maximum=100.0,
              doc_zh="每个村应达到的除治率(%)：应除治（最近一个除治季截止日前发现）的疫木中已清理的比例"),
        Param("hotspot_eps_m", float, 250.0,
              "hotspots: trees within this distance (m) of each other belong to one cluster", minimum=1.0,
              doc_zh="疫情聚集区：彼此相距不超过这么多米的疫木属于同一群"),
        Param("hotspot_min_trees", int, 15,
              "hotspots: the fewest trees that make a cluster", minimum=2,
              doc_zh="疫情聚集区：构成一群的最少株数"),
        Param("risk_radius_m", float, 100.0,
              "pine plots within this distance (m) of an infected tree count as pine area at risk: the "
              "infected sub-compartments and their neighbours (0: only the infected plots themselves)",
              minimum=0.0,
              doc_zh="疫木周围这么多米以内的松林小班算作受威胁松林：疫情小班及其相邻小班（0：只算疫情小班本身）"),
        Param("import_max_outside_m", float, 5000.0,
              "import: a new tree further than this (m) outside the township's extent is a bad row "
              "(wrong coordinate system or a typo)", minimum=0.0,
              doc_zh="导入：新增疫木离乡镇范围超过这么多米的，视为错误行（坐标系不对或输错）"),
        Param("import_moved_warn_m", float, 100.0,
              "import: survey coordinates further than this (m) from a known tree's stored location are "
              "reported (the stored location is kept)", minimum=0.0,
              doc_zh="导入：调查坐标离已有疫木原位置超过这么多米的予以提示（保留原位置）"),
        Param("zone_m", float, 30.0,
              "river management zone width (m from the centreline) for reaches without their own",
              minimum=0.0,
              doc_zh="没有单独填写的河段，其河道管理范围宽度（离中心线的米数）"),
        Param("patrol_buffer_m", float, 50.0,
              "a river stretch counts as patrolled when a track passes within this distance (m)",
              minimum=0.0,
              doc_zh="巡河轨迹在这么多米以内经过的河段算作已巡"),
        Param("patrol_min_coverage_pct", float, 80.0,
              "chiefs whose patrol coverage (% of their reaches' length) is below this are listed",
              minimum=0.0, maximum=100.0,
              doc_zh="巡河覆盖率（占所管河段长度的%）低于这个值的河长会被列出"),
        Param("max_outside_m", float, 20000.0,
              "features further than this (m) outside the township's extent (the bounding box of its "
              "villages, else of its polygon layers) are left out of every count and named as bad rows "
              "(never less than import_max_outside_m)", minimum=0.0,
              doc_zh=("离乡镇范围（行政村的外包矩形，没有行政村则为各面图层的）超过这么多米的要素不计入任何统计，并作"
                      "为错误行列出（不小于 import_max_outside_m）")),
        Param("outside_tolerance_m", float, 10.0,
              "check: features further than this (m) outside the township's villages are reported",
              minimum=0.0,
              doc_zh="检查：离行政村边界超过这么多米的要素予以提示"),
        Param("candidate_min_drop", float, 0.15,
              "vegetation-loss candidates: a pixel counts when the index (e.g. NDVI) fell by at least this "
              "much between the two dates (before − after, in the index's units)", minimum=0.0, maximum=2.0,
              doc_zh="植被下降疑似区：两期之间指数（如 NDVI）下降至少这么多的像元才算（前期 − 后期，单位同指数）"),
        Param("candidate_min_m2", float, 20.0,
              "candidates: patches smaller than this (m²) are left out as noise (one pine crown is 20–50 m²)",
              minimum=0.0,
              doc_zh="疑似区：小于这么多平方米的斑块视为噪声去掉（一株松树的树冠约 20–50 平方米）"),
        Param("candidate_max_m2", float, 5000.0,
              "candidates: patches larger than this (m²) are left out as felling, fire or landslides rather "
              "than dying trees", minimum=0.0,
              doc_zh="疑似区：大于这么多平方米的斑块更可能是采伐、火烧或滑坡，而不是枯死木，去掉"),
        Param("candidate_rasters", list, [],
              "the before and after rasters the map's candidate layer compares, e.g. [\"ndvi_2022\", "
              "\"ndvi_2023\"]; empty: the first two rasters whose names contain ndvi, in name order",
              doc_zh=("地图上疑似区图层比较的前后两期栅格，如 [\"ndvi_2022\", \"ndvi_2023\"]；为空时取名称中含 ndvi "
                      "的前两个栅格（按名称排序）")),
    )
}


@dataclass
class LayerSpec:
    """One ``[layers.KIND]`` table: where the layer is and how to read it."""

    kind: str
    path: Path
    layer: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    crs: CRS | None = None
    encoding: str | None = None
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    map_app: str | None = None
    """``"gcj02"`` or ``"bd09"`` when township.toml declares the layer copied from a map app
    (``crs = "gcj02"``): its longitude/latitude are converted to CGCS2000 on load, and
    ``crs`` is then CGCS2000."""
    url: str | None = None
    """A PostGIS database (``postgresql://USER@HOST:PORT/DB``, no password) when the layer's
    ``path`` names one; then ``table`` (``schema.name``) or ``sql`` says what to read."""
    table: str | None = None
    sql: str | None = None


#: ``nodata = "none"`` in a ``[rasters.NAME]`` table: no value is nodata, every pixel counts.
NODATA_NONE = "none"


@dataclass
class RasterSpec:
    """One ``[rasters.NAME]`` table: a GeoTIFF and, for land cover, its class names.

    ``nodata`` overrides the file's nodata value: a number, :data:`NODATA_NONE` to keep
    every value (for a file that marks real data as nodata, e.g. 255 in an 8-bit band), or
    None to use the file's own."""

    name: str
    path: Path
    categorical: bool = False
    classes: dict[int, str] = field(default_factory=dict)
    nodata: float | str | None = None
    description: str = ""


def parse_nodata(value: Any) -> float | str | None:
    """A ``[rasters.NAME] nodata`` value: a number (or a number written as text), or
    ``"none"`` (any case) for no nodata at all. Raises ValueError for anything else."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        if value.strip().lower() == NODATA_NONE:
            return NODATA_NONE
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise ValueError(f"nodata must be a number or \"none\", not {value!r}")


@dataclass
class TownshipConfig:
    """The validated contents of a township.toml."""

    path: Path
    name: str
    name_en: str = ""
    crs: CRS | None = None
    gk_zone: int | None = None
    working_crs: CRS | None = None
    data_date: dt.date | None = None
    layers: dict[str, LayerSpec] = field(default_factory=dict)
    rasters: dict[str, RasterSpec] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        """The township folder (paths in the file are relative to it)."""
        return self.path.parent

    def display_name(self, lang: str = "en") -> str:
        """The township's name in the language (the Chinese name when no English one is set)."""
        return self.name_en if (lang == "en" and self.name_en) else self.name


START_HINT = (
    "to start, run `geo-township init DIR`: it writes DIR/township.toml for the GIS files you already have "
    "in DIR; or `geo-township init --sample DIR` to copy the bundled sample township into DIR and try the "
    "tool on it; or point at an existing township with --township PATH (its folder or its township.toml)"
)
START_HINT_ZH = (
    "运行 `geo-township init 文件夹`，为该文件夹中已有的 GIS 文件生成 township.toml；"
    "或运行 `geo-township init --sample 文件夹`，把自带的示例乡镇复制到该文件夹试用；"
    "已有乡镇文件夹时，用 --township 路径 指定它（该文件夹或其中的 township.toml）"
)


def find_config(path: str | Path | None = None, *, cwd: Path | None = None) -> Path:
    """Locate township.toml: ``path`` (a file or folder), else ./township.toml, else ./layers/township.toml.

    When there is none, the error says how to start (in English and, for ``--lang zh``,
    in Chinese): ``init`` for one's own files, ``init --sample`` for the sample, or
    ``--township``.
    """
    cwd = cwd or Path.cwd()
    if path is not None:
        p = Path(path)
        if p.is_dir():
            p = p / CONFIG_NAME
        if not p.exists():
            raise ConfigError("township file not found", path=p, hint=START_HINT,
                              message_zh=f"找不到乡镇配置文件 {CONFIG_NAME}", hint_zh=START_HINT_ZH)
        return p
    for candidate in (cwd / CONFIG_NAME, cwd / "layers" / CONFIG_NAME):
        if candidate.exists():
            return candidate
    raise ConfigError(
        f"no {CONFIG_NAME} in {cwd} or {cwd / 'layers'}: this is not a township folder",
        hint=START_HINT,
        message_zh=f"{cwd} 和 {cwd / 'layers'} 中都没有 {CONFIG_NAME}：这不是乡镇文件夹",
        hint_zh=START_HINT_ZH,
    )


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def _suggest_zh(word: str, choices) -> str:
    """"是不是 'x'？" for the closest of ``choices``, or nothing."""
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f"是不是 {close[0]!r}？" if close else ""


class _Problems:
    """Collects every mistake in the file so they are reported together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[str] = []
        self.items_zh: list[str] = []
        self.blocking = 0

    def add(self, key: str, what: str, fix: str, *, blocking: bool = True, what_zh: str | None = None,
            fix_zh: str | None = None) -> None:
        """Record a mistake (in Chinese too, when ``what_zh`` is given); one that is not
        ``blocking`` (a layer's missing file) is listed only with others, and otherwise left
        to the commands that read that layer."""
        self.items.append(f"[{key}] {what}. Fix: {fix}")
        self.items_zh.append(f"[{key}] {what_zh}。解决办法：{fix_zh or fix}" if what_zh else self.items[-1])
        self.blocking += blocking

    def raise_if_any(self) -> None:
        if self.blocking:
            n = len(self.items)
            raise ConfigError(
                f"{n} problem{'s' if n > 1 else ''} in the township file:\n  - " + "\n  - ".join(self.items),
                path=self.path,
                message_zh=f"乡镇配置文件中有 {n} 处问题：\n  - " + "\n  - ".join(self.items_zh),
            )


def _check_keys(table: dict, allowed, key: str, problems: _Problems) -> None:
    for k in table:
        if k not in allowed:
            problems.add(key, f"unknown key {k!r}",
                         _suggest(k, allowed) + "allowed keys: " + ", ".join(allowed),
                         what_zh=f"未知的键 {k!r}", fix_zh=_suggest_zh(k, allowed) + "可用的键：" + "、".join(allowed))


def _parse_date(value: Any, key: str, problems: _Problems) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.add(key, f"{value!r} is not a date", 'write it as "2023-04-30"', what_zh=f"{value!r} 不是日期",
                     fix_zh='请写成 "2023-04-30" 这样的格式')
        return None


def _parse_crs(value: Any, key: str, problems: _Problems) -> CRS | None:
    if value is None:
        return None
    from geo_township.crs import parse_crs
    from geo_township.errors import CRSError

    try:
        return parse_crs(str(value), where=key)
    except CRSError as exc:
        problems.add(key, exc.message, exc.hint or "", what_zh=f"{value!r} 不是坐标系",
                     fix_zh='请写成 EPSG 代码，例如 "EPSG:4490" 或 "EPSG:4548"')
        return None


def _layer_crs(value: Any, key: str, problems: _Problems) -> tuple[str | None, CRS | None]:
    """A layer's ``crs``: a map app's system (``"gcj02"``, ``"bd09"``: the layer is read as
    CGCS2000 longitude/latitude after converting it) or any coordinate system
    :func:`geo_township.crs.parse_crs` reads. Returns (map-app code or None, CRS or None)."""
    from geo_township.crs import CGCS2000, map_app_system, parse_crs
    from geo_township.errors import CRSError

    if value is None:
        return None, None
    system = map_app_system(value)
    if system is not None:
        return system, CGCS2000
    try:
        return None, parse_crs(str(value), where=key)
    except CRSError as exc:
        problems.add(key, exc.message, (exc.hint or "") + '; or "gcj02" (AMap, Tencent) or "bd09" (Baidu) for '
                     "coordinates copied from a map app", what_zh=f"{value!r} 不是坐标系",
                     fix_zh='请写成 EPSG 代码，例如 "EPSG:4490" 或 "EPSG:4548"；从地图软件抄来的坐标写 "gcj02"(高德、'
                     '腾讯)或 "bd09"(百度)')
        return None, None


def validate_parameter(name: str, value: Any) -> Any:
    """Check one parameter's value against its declaration; returns the value in its type."""
    p = PARAMETERS[name]
    if p.type is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if p.type is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{value!r} is not a list of words; write it as [\"photovoltaic\", \"building\"]")
    elif not isinstance(value, p.type) or isinstance(value, bool) and p.type is not bool:
        raise ValueError(f"{value!r} is not a {p.type.__name__}")
    if p.choices and value not in p.choices:
        raise ValueError(f"{value!r} is not one of {', '.join(map(str, p.choices))}")
    if p.minimum is not None and value < p.minimum:
        raise ValueError(f"{value} is below the minimum {p.minimum:g}")
    if p.maximum is not None and value > p.maximum:
        raise ValueError(f"{value} is above the maximum {p.maximum:g}")
    if name in ("season_start", "season_end"):
        try:
            dt.date.fromisoformat(f"2001-{value}")
        except ValueError:
            raise ValueError(f"{value!r} is not a month-day; write it as \"10-01\"") from None
    return value


def load_config(path: str | Path | None = None, *, cwd: Path | None = None) -> TownshipConfig:
    """Read and validate township.toml (found as in :func:`find_config`); every problem is
    reported together."""
    cfg_path = find_config(path, cwd=cwd).resolve()
    raw = read_toml(cfg_path)
    problems = _Problems(cfg_path)
    cfg = _township_section(raw, cfg_path, problems)
    for kind_name, spec in raw.get("layers", {}).items():
        layer = _layer_spec(kind_name, spec, cfg, problems)
        if layer is not None:
            cfg.layers[kind_name] = layer
    for rname, spec in raw.get("rasters", {}).items():
        raster = _raster_spec(rname, spec, cfg, problems)
        if raster is not None:
            cfg.rasters[rname] = raster
    cfg.parameters.update(_parameters(raw.get("parameters", {}), problems))
    problems.raise_if_any()
    return cfg


def read_toml(cfg_path: Path, *, what: str = "township file", what_zh: str = "乡镇配置文件",
              reference: str = "the township.toml reference in the README",
              reference_zh: str = "README 中 township.toml 的说明") -> dict[str, Any]:
    """A settings file's TOML (``what``: the township's or the county's file), or a clear
    error saying what is wrong with it (not UTF-8, not TOML, unreadable) and where to compare."""
    try:
        return tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"the {what} is not UTF-8 text", path=cfg_path,
                          hint="save it as UTF-8 (any editor's 'Save with encoding' menu)",
                          message_zh=f"{what_zh}不是 UTF-8 文本",
                          hint_zh="请用编辑器的“以指定编码保存”另存为 UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the {what} is not valid TOML: {exc}", path=cfg_path,
                          hint=f"compare it with {reference}",
                          message_zh=f"{what_zh}不是有效的 TOML：{exc}",
                          hint_zh=f"请对照{reference_zh}检查") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the {what}: {exc.strerror}", path=cfg_path,
                          message_zh=f"无法读取{what_zh}：{exc.strerror}") from None


def _township_section(raw: dict[str, Any], cfg_path: Path, problems: _Problems) -> TownshipConfig:
    """The [township] table checked, as a configuration still without layers and rasters."""
    _check_keys(raw, ("township", "layers", "rasters", "parameters"), "top level", problems)
    town = raw.get("township", {})
    _check_keys(town, ("name", "name_en", "crs", "gk_zone", "working_crs", "data_date"), "township", problems)
    name = town.get("name")
    if not name:
        problems.add("township", "no name", 'add name = "示范乡" under [township]', what_zh="没有乡镇名称",
                     fix_zh='请在 [township] 下加 name = "示范乡"')
    cfg = TownshipConfig(path=cfg_path, name=str(name or cfg_path.parent.name), name_en=str(town.get("name_en", "")))
    cfg.crs = _parse_crs(town.get("crs"), "township.crs", problems)
    cfg.working_crs = _parse_crs(town.get("working_crs"), "township.working_crs", problems)
    cfg.data_date = _parse_date(town.get("data_date"), "township.data_date", problems)
    if "gk_zone" in town:
        from geo_township.crs import gk3_zone_epsg
        from geo_township.errors import CRSError

        try:
            gk3_zone_epsg(town["gk_zone"])
            cfg.gk_zone = int(town["gk_zone"])
        except (CRSError, TypeError, ValueError) as exc:
            problems.add("township.gk_zone", getattr(exc, "message", str(exc)), getattr(exc, "hint", "") or "")
    return cfg


def _layer_spec(kind_name: str, spec: Any, cfg: TownshipConfig, problems: _Problems) -> LayerSpec | None:
    """One [layers.KIND] table checked (problems collected), or None when it cannot be used."""
    key = f"layers.{kind_name}"
    if kind_name not in KINDS:
        problems.add(key, f"unknown layer kind {kind_name!r}",
                     _suggest(kind_name, KINDS) + "layer kinds are: " + ", ".join(KINDS),
                     what_zh=f"未知的图层类型 {kind_name!r}",
                     fix_zh=_suggest_zh(kind_name, KINDS) + "图层类型有：" + "、".join(KINDS))
        return None
    if not isinstance(spec, dict):
        problems.add(key, "is not a table", f'write [{key}] followed by path = "file.gpkg"', what_zh="不是一个表",
                     fix_zh=f'请写 [{key}]，下一行写 path = "file.gpkg"')
        return None
    _check_keys(spec, ("path", "layer", "fields", "crs", "encoding", "values", "table", "sql"), key, problems)
    if "path" not in spec:
        problems.add(key, "no path", 'add path = "file.gpkg" (relative to township.toml)', what_zh="没有写路径",
                     fix_zh='请加 path = "file.gpkg"(相对于 township.toml)')
        return None
    url, table, sql = _database_source(spec, key, problems)
    file = Path(str(spec["path"])) if url else (cfg.root / str(spec["path"])).resolve()
    if url is None and not file.exists():  # stops only the commands that read this layer (see Township.layer)
        problems.add(f"{key}.path", f"file not found: {file}",
                     "correct the path (relative to township.toml) or remove the layer", blocking=False,
                     what_zh=f"找不到文件：{file}", fix_zh="请改正路径(相对于 township.toml)，或删去该图层")
    fields = spec.get("fields", {})
    kind_ = KINDS[kind_name]
    if not isinstance(fields, dict):
        problems.add(f"{key}.fields", "is not a table", 'write fields = { plot_id = "小班号" }', what_zh="不是一个表",
                     fix_zh='请写成 fields = { plot_id = "小班号" }')
        fields = {}
    for canon, source in fields.items():
        if canon not in kind_.field_names:
            problems.add(f"{key}.fields", f"unknown field {canon!r} for {kind_name}",
                         _suggest(canon, kind_.field_names) + "the left side names one of our fields: "
                         + ", ".join(kind_.field_names), what_zh=f"{kind_name} 没有字段 {canon!r}",
                         fix_zh=_suggest_zh(canon, kind_.field_names) + "等号左边是本工具的字段名之一："
                         + "、".join(kind_.field_names))
        elif not isinstance(source, str) or not source:
            problems.add(f"{key}.fields.{canon}", f"{source!r} is not a field name",
                         "the right side is the field's name in your file, in quotes",
                         what_zh=f"{source!r} 不是字段名", fix_zh="等号右边是你的文件中的字段名，加引号")
    values = spec.get("values", {})
    for canon, table in values.items() if isinstance(values, dict) else []:
        f = kind_.field(canon) if canon in kind_.field_names else None
        if f is None or f.vocabulary is None:
            coded = [x.name for x in kind_.fields if x.vocabulary]
            problems.add(f"{key}.values", f"{canon!r} is not a field with coded values",
                         "values can be given for: " + ", ".join(coded))
            return None
        vocab = VOCABULARIES[f.vocabulary]
        for word, code in (table.items() if isinstance(table, dict) else []):
            if code not in vocab.codes:
                problems.add(f"{key}.values.{canon}", f"{word!r} maps to unknown value {code!r}",
                             "use one of: " + ", ".join(vocab.codes))
    encoding = spec.get("encoding")
    if encoding is not None:
        import codecs

        try:
            codecs.lookup(str(encoding))
        except LookupError:
            problems.add(f"{key}.encoding", f"unknown encoding {encoding!r}", 'use e.g. "gbk" or "utf-8"',
                         what_zh=f"未知的编码 {encoding!r}", fix_zh='请写 "gbk" 或 "utf-8" 等')
            encoding = None
    map_app, layer_crs = _layer_crs(spec.get("crs"), f"{key}.crs", problems)
    return LayerSpec(
        kind=kind_name, path=file, layer=table if url else spec.get("layer"), fields=dict(fields),
        crs=layer_crs, encoding=encoding,
        values={k: dict(v) for k, v in values.items() if isinstance(v, dict)} if isinstance(values, dict) else {},
        map_app=map_app, url=url, table=table, sql=sql,
    )


def _database_source(spec: dict[str, Any], key: str, problems: _Problems
                     ) -> tuple[str | None, str | None, str | None]:
    """A layer's database URL and its ``table`` or ``sql`` (all None for a file): the URL
    must hold no password, and exactly one of table and sql is given."""
    from geo_township.io.postgis import is_database_url, url_problem

    path = str(spec["path"]).strip()
    table, sql = spec.get("table"), spec.get("sql")
    if not is_database_url(path):
        for name in ("table", "sql"):
            if name in spec:
                problems.add(f"{key}.{name}", "is only for a layer in a PostGIS database",
                             'remove it, or write path = "postgresql://USER@HOST:5432/DATABASE"')
        return None, None, None
    problem = url_problem(path)
    if problem is not None:
        problems.add(f"{key}.path", problem[0], problem[1])
        return path, None, None
    if (table is None) == (sql is None):
        problems.add(key, "a database layer needs table or sql (one of them)",
                     'add table = "schema.name", or sql = "SELECT id, geom FROM schema.name WHERE …"')
    for name, value in (("table", table), ("sql", sql)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            problems.add(f"{key}.{name}", f"{value!r} is not text", f'write {name} = "…" in quotes')
    return path, (str(table) if isinstance(table, str) else None), (str(sql) if isinstance(sql, str) else None)


def _raster_spec(rname: str, spec: Any, cfg: TownshipConfig, problems: _Problems) -> RasterSpec | None:
    """One [rasters.NAME] table checked (problems collected), or None without a path."""
    key = f"rasters.{rname}"
    if not isinstance(spec, dict) or "path" not in spec:
        problems.add(key, "no path", 'add path = "ndvi.tif" (relative to township.toml)', what_zh="没有写路径",
                     fix_zh='请加 path = "ndvi.tif"(相对于 township.toml)')
        return None
    _check_keys(spec, ("path", "categorical", "classes", "nodata", "description"), key, problems)
    file = (cfg.root / str(spec["path"])).resolve()
    if not file.exists():
        problems.add(f"{key}.path", f"file not found: {file}", "correct the path or remove the raster",
                     what_zh=f"找不到文件：{file}", fix_zh="请改正路径，或删去该栅格")
    classes = {}
    for k, v in spec.get("classes", {}).items():
        try:
            classes[int(k)] = str(v)
        except ValueError:
            problems.add(f"{key}.classes", f"class key {k!r} is not a whole number",
                         'write classes = { "1" = "forest", "2" = "farmland" }')
    try:
        nodata = parse_nodata(spec.get("nodata"))
    except ValueError as exc:
        problems.add(f"{key}.nodata", str(exc), 'write e.g. nodata = -9999 (the value that means no data), or '
                     'nodata = "none" to keep every value')
        nodata = None
    return RasterSpec(rname, file, bool(spec.get("categorical", bool(classes))), classes,
                                    nodata, str(spec.get("description", "")))


def _parameters(params: dict[str, Any], problems: _Problems) -> dict[str, Any]:
    """The [parameters] table checked, with every default filled in."""
    out: dict[str, Any] = {}
    for pname, value in params.items():
        if pname not in PARAMETERS:
            problems.add("parameters", f"unknown parameter {pname!r}",
                         _suggest(pname, PARAMETERS) + "see the parameter list in the README",
                         what_zh=f"未知的参数 {pname!r}", fix_zh=_suggest_zh(pname, PARAMETERS) + "参数列表见 README")
            continue
        try:
            out[pname] = validate_parameter(pname, value)
        except ValueError as exc:
            problems.add(f"parameters.{pname}", str(exc), PARAMETERS[pname].doc)
    for pname, p in PARAMETERS.items():
        out.setdefault(pname, p.default)
    return out
