"""Layer kinds, their canonical fields, and the names officers give those fields.

Everything here is data: the loader, the checks, the tables and the map read these
tables instead of branching on names. To teach the tool a new field name, add it here
(or, for one township, in ``township.toml``). The words of coded values live in
``geo_township.vocabulary``, the labels of derived table columns in ``geo_township.labels``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from geo_township.labels import derived_label, has_cjk
from geo_township.vocabulary import LAYER_KIND, normalise_name

# --------------------------------------------------------------------------- fields and kinds


@dataclass(frozen=True)
class Field:
    """A canonical field: our name, its type, the names it goes by, and its labels.

    ``dtype`` is one of ``str``, ``int``, ``float``, ``date``. ``vocabulary`` names an
    entry of :data:`VOCABULARIES` whose words the loader maps to codes.
    """

    name: str
    dtype: str
    aliases: tuple[str, ...]
    en: str
    zh: str
    required: bool = False
    vocabulary: str | None = None


def _f(name: str, dtype: str, en: str, zh: str, *aliases: str, required: bool = False,
       vocabulary: str | None = None) -> Field:
    return Field(name, dtype, (name, *aliases), en, zh, required, vocabulary)


VILLAGE = _f("village", "str", "Village", "村", "村名", "村", "行政村", "村庄", "村委会", "所属村",
             "村名称", "village_name", "cun", "cm")
PLOT_ID = _f("plot_id", "str", "Plot", "小班", "小班编码", "小班号", "小班编号", "小班代码", "plot", "xbh", "xb")
DECLARED_MU = _f("declared_mu", "float", "Declared (mu)", "登记面积(亩)", "合同面积", "流转面积", "面积", "面积亩",
                 "面积(亩)", "合同面积(亩)", "流转面积(亩)", "小班面积", "area_mu", "mu", "mj")


@dataclass(frozen=True)
class Kind:
    """A layer kind: its geometry family, fields, id field and labels."""

    name: str
    geometry: tuple[str, ...]
    fields: tuple[Field, ...]
    en: str
    zh: str
    id_field: str | None = None
    optional: bool = False

    def field(self, name: str) -> Field:
        """The kind's field called ``name`` (KeyError when it has none)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        """The canonical names of the kind's fields, in order."""
        return tuple(f.name for f in self.fields)


def _kind(name: str, geometry: tuple[str, ...], fields: tuple[Field, ...], *, id_field: str | None = None,
          optional: bool = False) -> Kind:
    """A kind labelled as :data:`geo_township.vocabulary.LAYER_KIND` names it."""
    term = LAYER_KIND.term(name)
    if term is None:
        raise KeyError(f"layer kind {name!r} has no term in LAYER_KIND")
    return Kind(name, geometry, fields, term.en, term.zh, id_field=id_field, optional=optional)


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        _kind(
            "villages", ("Polygon",),
            (
                VILLAGE,
                _f("code", "str", "Code", "代码", "村代码", "代码", "行政区划代码", "区划代码", "xzqdm",
                   "village_code"),
            ),
            id_field="village",
        ),
        _kind(
            "forest_plots", ("Polygon",),
            (
                PLOT_ID,
                _f("compartment", "str", "Compartment", "林班", "林班号", "林班编号", "lbh"),
                VILLAGE,
                _f("species", "str", "Dominant species", "优势树种", "优势树种", "树种", "主要树种", "dominant_species",
                   "yssz", "优势树", vocabulary="species"),
                _f("origin", "str", "Origin", "起源", "起源", "qy", vocabulary="origin"),
                _f("planted_year", "int", "Planted", "造林年度", "造林年度", "造林年份", "造林年", "year_planted",
                   "zlnd"),
                _f("chief", "str", "Forest chief", "林长", "林长", "责任人", "forest_chief"),
                DECLARED_MU,
            ),
            id_field="plot_id",
        ),
        _kind(
            "infected_trees", ("Point",),
            (
                _f("tree_id", "str", "Tree", "疫木编号", "编号", "疫木编号", "树号", "株号", "枯死木编号", "id",
                   "tree", "bh", required=True),
                _f("status", "str", "Status", "状态", "状态", "当前状态", "除治状态", "处理状态", required=True,
                   vocabulary="tree_status"),
                _f("found_date", "date", "Found", "发现日期", "发现日期", "发现时间", "调查日期", "普查日期",
                   "date_found", "found"),
                _f("confirmed_date", "date", "Confirmed", "确认日期", "确认日期", "确诊日期", "取样日期"),
                _f("felled_date", "date", "Felled", "采伐日期", "采伐日期", "伐除日期", "砍伐日期", "采伐时间",
                   "felled"),
                _f("cleared_date", "date", "Cleared", "清理日期", "清理日期", "除治日期", "处理日期", "清理时间",
                   "cleared"),
                _f("verified_date", "date", "Verified", "核查日期", "核查日期", "验收日期", "复核日期", "verified"),
                _f("method", "str", "Method", "除治方式", "除治方式", "处理方式", "除治方法"),
                _f("survey", "str", "Survey", "调查方式", "调查方式", "发现方式", "survey_method"),
                VILLAGE,
                PLOT_ID,
            ),
            id_field="tree_id",
        ),
        _kind(
            "rivers", ("LineString", "Polygon"),
            (
                _f("name", "str", "River", "河流", "河流名称", "河流", "河名", "河湖名称", "名称", "river",
                   "river_name"),
                _f("reach_id", "str", "Reach", "河段", "河段编号", "河段", "河段代码", "reach"),
                _f("chief", "str", "River chief", "河长", "河长", "河长姓名", "river_chief"),
                _f("chief_level", "str", "Chief level", "河长级别", "河长级别", "级别", "level",
                   vocabulary="chief_level"),
                _f("zone_m", "float", "Zone (m)", "管理范围(米)", "管理范围", "管理范围宽度", "管理范围(米)", "zone",
                   "zone_width"),
            ),
            id_field="reach_id",
        ),
        _kind(
            "sand_sites", ("Point", "Polygon"),
            (
                _f("site_id", "str", "Site", "编号", "编号", "站点编号", "id"),
                _f("name", "str", "Name", "名称", "名称", "站点名称", "企业名称", "砂场名称"),
                _f("kind", "str", "Kind", "类型", "类型", "类别", "type", vocabulary="sand_kind"),
                _f("status", "str", "Status", "状态", "状态", "现状", required=True, vocabulary="sand_status"),
                _f("closed_date", "date", "Closed", "关停日期", "关停日期", "关停时间", "取缔日期"),
                _f("restored_date", "date", "Restored", "复绿日期", "复绿日期", "修复日期"),
                VILLAGE,
            ),
            id_field="site_id",
        ),
        _kind(
            "land_transfers", ("Polygon",),
            (
                _f("parcel_id", "str", "Parcel", "地块编号", "地块编号", "地块号", "宗地号", "地块代码", "dkbh",
                   "parcel", required=True),
                VILLAGE,
                _f("land_type", "str", "Land type", "地类", "地类", "土地类型", "土地性质", "type",
                   vocabulary="land_type"),
                _f("transferor", "str", "Transferor", "流出方", "流出方", "转出方", "出让方", "承包方"),
                _f("transferee", "str", "Transferee", "流入方", "流入方", "转入方", "受让方", "经营主体"),
                DECLARED_MU,
                _f("start_date", "date", "Start", "起始日期", "起始日期", "开始日期", "流转起始日期", "合同起始日期",
                   "start"),
                _f("end_date", "date", "End", "终止日期", "终止日期", "结束日期", "流转终止日期", "合同终止日期",
                   "end"),
                _f("use", "str", "Use", "用途", "用途", "流转用途", "经营项目", "产业", vocabulary="transfer_use"),
            ),
            id_field="parcel_id",
        ),
        _kind(
            "basic_farmland", ("Polygon",),
            (_f("patch_id", "str", "Patch", "图斑编号", "图斑编号", "图斑号", "tbbh", "id"), VILLAGE),
            id_field="patch_id", optional=True,
        ),
        _kind(
            "outfalls", ("Point",),
            (
                _f("outfall_id", "str", "Outfall", "排污口编号", "排污口编号", "编号", "id"),
                _f("name", "str", "Name", "名称", "名称", "排污口名称"),
                _f("kind", "str", "Kind", "类型", "类型", "排污口类型", "type"),
                _f("river", "str", "River", "受纳河流", "受纳河流", "所在河流", "河流"),
                VILLAGE,
            ),
            id_field="outfall_id", optional=True,
        ),
        _kind(
            "patrols", ("LineString",),
            (
                _f("chief", "str", "River chief", "河长", "河长", "巡河人", "巡查人", "name"),
                _f("date", "date", "Date", "巡河日期", "巡河日期", "日期", "巡查日期", "time"),
                _f("reach_id", "str", "Reach", "河段", "河段编号", "河段"),
            ),
            optional=True,
        ),
        _kind(
            "sand_zones", ("Polygon",),
            (
                _f("zone_id", "str", "Zone", "分区编号", "分区编号", "编号", "id"),
                _f("zone", "str", "Sand-mining zone", "采砂分区", "分区类型", "分区", "规划分区", "采砂分区", "类型",
                   "zone_type", "type", "kind", required=True, vocabulary="sand_zone"),
                _f("name", "str", "Name", "名称", "名称", "分区名称"),
                _f("river", "str", "River", "河流", "所在河流", "河流", "河流名称"),
            ),
            id_field="zone_id", optional=True,
        ),
    )
}


def kind(name: str) -> Kind:
    """The kind called ``name``; an unknown name lists the valid ones."""
    from geo_township.errors import ConfigError

    try:
        return KINDS[name]
    except KeyError:
        raise ConfigError(
            f"unknown layer kind {name!r}",
            hint="use one of: " + ", ".join(KINDS),
        ) from None


# --------------------------------------------------------------------------- name matching


@dataclass
class FieldMatch:
    """How a layer's columns map to canonical fields."""

    mapping: dict[str, str] = field(default_factory=dict)  # canonical -> source column
    explicit: set[str] = field(default_factory=set)  # canonical names mapped in township.toml


def match_fields(columns: list[str], kind_: Kind, explicit: dict[str, str] | None = None) -> FieldMatch:
    """Match a file's columns to a kind's canonical fields.

    Explicit mappings from township.toml win; then each canonical field takes the first
    column whose folded name equals one of its aliases (aliases are tried in order, so
    the most specific name wins). A column is used for at most one field.
    """
    explicit = explicit or {}
    match = FieldMatch()
    used: set[str] = set()
    for canon, source in explicit.items():
        match.mapping[canon] = source
        match.explicit.add(canon)
        used.add(source)
    folded: dict[str, str] = {}
    for col in columns:
        folded.setdefault(normalise_name(col), col)
    for f in kind_.fields:
        if f.name in match.mapping:
            continue
        for alias in f.aliases:
            found = folded.get(normalise_name(alias))
            if found is not None and found not in used:
                match.mapping[f.name] = found
                used.add(found)
                break
    return match


# --------------------------------------------------------------------------- column headings


def column_labels(name: str) -> tuple[str, str] | None:
    """The (en, zh) heading of a table column: a derived column's from
    :mod:`geo_township.labels`, else the first canonical field of that name; None when
    neither knows it."""
    found = derived_label(name)
    if found is not None:
        return found
    for k in KINDS.values():
        for f in k.fields:
            if f.name == name:
                return f.en, f.zh
    return None


def column_label(name: str, lang: str = "en") -> str:
    """A readable heading for a table column in the language (falls back to the name)."""
    found = column_labels(name)
    if found is None:
        return name
    return found[1 if lang == "zh" else 0]


def has_label(name: str) -> bool:
    """Whether the column has a heading in both languages: a non-empty English one and a
    Chinese one (with Chinese characters), so no table shows a bare code."""
    found = column_labels(name)
    return found is not None and bool(found[0].strip()) and has_cjk(found[1])


def missing_labels(names: Iterable[str]) -> list[str]:
    """The names among ``names`` without a heading in both languages, each once, in order."""
    return [n for n in dict.fromkeys(names) if not has_label(n)]
