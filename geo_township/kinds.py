"""Layer kinds, their canonical fields, and the Chinese and English names officers use.

Everything here is data: the loader, the checks, the tables and the map read these
tables instead of branching on names. To teach the tool a new field name or status
word, add it here (or, for one township, in ``township.toml``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# --------------------------------------------------------------------------- vocabularies


@dataclass(frozen=True)
class Term:
    """One value of a vocabulary: its code, the words that mean it, and its labels."""

    code: str
    en: str
    zh: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Vocabulary:
    """A controlled list of values for a field (statuses, species, uses ...).

    ``closed`` vocabularies refuse unknown words (a status the tool does not understand
    would make every count wrong); open ones keep unknown words as they are.
    """

    name: str
    terms: tuple[Term, ...]
    closed: bool = False

    def lookup(self) -> dict[str, str]:
        """Normalised word → code, including the codes and both labels themselves."""
        table: dict[str, str] = {}
        for term in self.terms:
            for word in (term.code, term.en, term.zh, *term.words):
                table[normalise_name(word)] = term.code
        return table

    def label(self, code: object, lang: str = "en") -> str:
        """The label of a code in the language, or the value itself when unknown."""
        for term in self.terms:
            if term.code == code:
                return term.zh if lang == "zh" else term.en
        return "" if code is None else str(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.terms)


TREE_STATUS = Vocabulary(
    "tree_status",
    (
        Term("suspected", "suspected", "疑似", ("疑似疫木", "疑似感染", "待确认", "可疑")),
        Term("confirmed", "confirmed", "已确认", ("确认", "确诊", "已确诊", "感染", "疫木", "枯死", "待伐", "未伐", "未除治")),
        Term("felled", "felled", "已伐", ("已采伐", "采伐", "伐除", "已伐除", "已砍伐", "砍伐", "已伐未清理", "cut")),
        Term("cleared", "cleared", "已清理", ("已除治", "清理", "除治", "已粉碎", "已烧毁", "已处理", "完成除治", "removed")),
        Term("verified", "verified", "已核查", ("核查", "已验收", "验收", "已复核", "复核", "checked")),
    ),
    closed=True,
)
"""A pine-wilt tree's life, in order; a tree only ever moves forward along it."""

SAND_STATUS = Vocabulary(
    "sand_status",
    (
        Term("licensed", "licensed", "已许可", ("许可", "持证", "合法", "有证", "permitted")),
        Term("illegal", "illegal", "非法", ("未许可", "无证", "违法", "非法采砂", "在产非法")),
        Term("closed", "closed", "已关停", ("关停", "取缔", "已取缔", "停产", "已停产")),
        Term("restored", "restored", "已复绿", ("复绿", "已修复", "生态修复", "已复垦")),
    ),
    closed=True,
)

SAND_KIND = Vocabulary(
    "sand_kind",
    (
        Term("river_mining", "river sand mining", "河道采砂", ("采砂", "采砂点", "河砂", "采砂场")),
        Term("sand_plant", "manufactured-sand plant", "机制砂厂", ("机制砂", "砂厂", "洗砂厂", "制砂厂", "砂石厂")),
    ),
)

LAND_TYPE = Vocabulary(
    "land_type",
    (
        Term("farmland", "farmland", "耕地", ("农田", "水田", "旱地", "水浇地", "农地", "承包耕地")),
        Term("forest", "forest land", "林地", ("山林", "林", "承包林地", "山场")),
    ),
)

TRANSFER_USE = Vocabulary(
    "transfer_use",
    (
        Term("grain", "grain", "粮食种植", ("粮食", "水稻", "水稻种植", "小麦", "稻虾", "稻渔")),
        Term("vegetables", "vegetables", "蔬菜种植", ("蔬菜", "大棚蔬菜", "设施蔬菜")),
        Term("oil_tea", "oil-tea", "油茶种植", ("油茶",)),
        Term("tea", "tea", "茶叶种植", ("茶叶", "茶园")),
        Term("fruit", "orchard", "果园", ("水果", "水果种植", "果树")),
        Term("nursery", "nursery", "苗木花卉", ("苗木", "花卉", "苗圃")),
        Term("aquaculture", "fish ponds", "水产养殖", ("鱼塘", "养殖塘", "水产", "池塘")),
        Term("livestock", "livestock", "畜禽养殖", ("养殖", "养猪", "养鸡", "生猪养殖", "蛋鸡养殖")),
        Term("photovoltaic", "photovoltaic", "光伏发电", ("光伏", "光伏电站", "光伏项目", "pv", "solar")),
        Term("building", "buildings", "建设用地", ("建筑", "厂房", "建设", "设施用地")),
    ),
)

SPECIES = Vocabulary(
    "species",
    (
        Term("masson_pine", "Masson pine", "马尾松", ("马尾松林", "pinus massoniana")),
        Term("slash_pine", "slash pine", "湿地松", ("湿地松林", "pinus elliottii")),
        Term("black_pine", "Japanese black pine", "黑松", ("pinus thunbergii",)),
        Term("chinese_fir", "Chinese fir", "杉木", ("杉", "杉木林", "cunninghamia")),
        Term("oil_tea", "oil-tea camellia", "油茶", ("油茶林",)),
        Term("broadleaf", "broadleaf", "阔叶混交", ("阔叶", "阔叶林", "阔叶树", "硬阔", "软阔", "阔叶混交林")),
        Term("mixed", "conifer–broadleaf mix", "针阔混交", ("针阔混", "针阔混交林")),
        Term("bamboo", "bamboo", "毛竹", ("竹", "竹林", "毛竹林")),
    ),
)
PINE_SPECIES = frozenset({"masson_pine", "slash_pine", "black_pine"})
"""Species that host the pine-wood nematode."""

ORIGIN = Vocabulary(
    "origin",
    (
        Term("natural", "natural", "天然", ("天然林", "天然更新")),
        Term("planted", "planted", "人工", ("人工林", "人工造林", "飞播")),
    ),
)

CHIEF_LEVEL = Vocabulary(
    "chief_level",
    (
        Term("county", "county", "县级", ("县", "区级", "县(区)级")),
        Term("township", "township", "乡级", ("乡", "镇级", "乡镇级", "乡(镇)级")),
        Term("village", "village", "村级", ("村",)),
    ),
)

SAND_ZONE = Vocabulary(
    "sand_zone",
    (
        Term("no_mining", "no-mining zone", "禁采区", ("禁采", "禁止开采区", "禁采河段", "forbidden", "prohibited")),
        Term("reserved", "reserved zone", "保留区", ("保留", "保留开采区", "reserve")),
        Term("permitted", "permitted zone", "可采区", ("可采", "允许开采区", "开采区", "可采河段", "mining")),
    ),
    closed=True,
)
"""Zones of a river's sand-mining plan (河道采砂规划), strictest first."""

VOCABULARIES: dict[str, Vocabulary] = {
    v.name: v for v in (TREE_STATUS, SAND_STATUS, SAND_KIND, LAND_TYPE, TRANSFER_USE, SPECIES, ORIGIN, CHIEF_LEVEL)
}
VOCABULARIES[SAND_ZONE.name] = SAND_ZONE

AUDIT_CHECK = Vocabulary(
    "audit_check",
    (
        Term("area_mismatch", "declared area ≠ measured", "登记面积与实测不符"),
        Term("overlap", "counted twice (overlap)", "重复流转(地块重叠)"),
        Term("renewal", "renewal (overlap, not at once)", "续签(地块重叠、期限不重叠)"),
        Term("outside_village", "outside its village", "超出所属村界"),
        Term("on_basic_farmland", "non-farming use on basic farmland", "非农用途占用永久基本农田"),
        Term("on_forest_land", "farmland transfer on forest land", "耕地流转涉及林地"),
        Term("in_river_zone", "in a river management zone", "位于河道管理范围内"),
        Term("duplicate_id", "duplicate parcel id", "地块编号重复"),
        Term("missing_id", "no parcel id", "缺少地块编号"),
        Term("missing_declared", "no declared area", "缺少登记面积"),
        Term("end_before_start", "ends before it starts", "终止日期早于起始日期"),
        Term("contract_too_long", "contract too long", "流转期限超过上限"),
        Term("missing_dates", "no start or end date", "缺少起止日期"),
        Term("bad_date", "date not understood", "日期无法识别"),
        Term("bad_value", "value not understood", "取值无法识别"),
        Term("missing_village", "no village", "缺少村名"),
        Term("unknown_village", "unknown village", "村名不在行政村图层中"),
        Term("invalid_geometry", "invalid geometry (repaired copy)", "图形无效(已提供修复副本)"),
        Term("empty_geometry", "no geometry", "缺少图形"),
    ),
)
"""The land-transfer audit's checks (geo_township.transfers.CHECKS), for table labels."""
VOCABULARIES[AUDIT_CHECK.name] = AUDIT_CHECK

CHECK_NAME = Vocabulary(
    "check_name",
    AUDIT_CHECK.terms + (
        Term("unreadable", "file cannot be read", "文件无法读取"),
        Term("loading", "note on reading", "读取说明"),
        Term("crs", "coordinate system", "坐标系"),
        Term("crs_inferred", "coordinate system inferred", "坐标系为推断"),
        Term("duplicate_geometry", "identical geometry", "图形重复"),
        Term("missing_value", "required value missing", "缺少必填值"),
        Term("date_order", "dates out of order", "日期先后顺序错误"),
        Term("future_date", "date after the data date", "日期晚于数据日期"),
        Term("old_date", "date before 1950", "日期早于1950年"),
        Term("status_without_date", "status without its date", "状态缺少对应日期"),
        Term("encoding", "garbled text (encoding)", "文字乱码(编码错误)"),
        Term("outside_township", "outside the township", "位于乡镇范围外"),
        Term("gcj02_shift", "likely GCJ-02 (AMap) coordinates", "疑似火星坐标(GCJ-02)"),
        Term("overlapping_polygons", "polygons overlap", "图斑重叠"),
        Term("plot_id_mismatch", "record's plot ≠ location", "记录小班与位置不符"),
        Term("village_mismatch", "record's village ≠ location", "记录村名与位置不符"),
        Term("outside_plots", "outside every plot", "不在任何小班内"),
        Term("outside_villages", "outside every village", "不在任何村内"),
        Term("clearance_below_target", "clearance below target", "除治率未达标"),
        Term("not_zeroed", "trees still standing after the deadline", "未实现动态清零"),
        Term("status_backward", "status would move backwards", "状态倒退"),
        Term("date_before_previous_event", "date before the previous event", "日期早于上一环节"),
        Term("new_tree_without_date", "new tree without a find date", "新增疫木缺少发现日期"),
        Term("survey_location_differs", "survey location far from the stored one", "调查坐标与原坐标相距过远"),
        Term("date_after_status", "date of an event undone (left out)", "已撤销环节的日期(未导入)"),
        Term("history_repaired", "interrupted import removed from the history", "已从变更历史中删除中断的导入"),
        Term("skipped", "row skipped", "已跳过的行"),
        Term("refused", "change refused", "已拒绝的变更"),
        Term("coverage_below_minimum", "patrol coverage below minimum", "巡河覆盖率不足"),
        Term("not_patrolled", "reach not patrolled", "河段未巡查"),
        Term("no_chief", "reach without a chief", "河段无河长"),
        Term("no_chief_field", "tracks name no chief", "轨迹缺少河长字段"),
        Term("several_chiefs", "reach with several chiefs", "河段有多名河长"),
        Term("track_not_a_chief", "track of an unknown chief", "轨迹人员不是河长"),
        Term("track_without_date", "track without a date", "轨迹缺少日期"),
        Term("in_zone", "inside a management zone", "位于河道管理范围内"),
        Term("active_in_no_mining", "working site in a no-mining zone", "禁采区内仍在开采"),
        Term("active_in_reserved", "working site in a reserved zone", "保留区内仍在开采"),
        Term("illegal_not_closed", "illegal site not closed", "非法采砂点未关停"),
        Term("licensed_outside_plan", "licensed mining outside the plan", "许可采砂点不在可采区"),
        Term("closed_without_date", "closed without a closed date", "已关停但缺少关停日期"),
        Term("restored_before_closed", "restored before it was closed", "复绿日期早于关停日期"),
        Term("active_with_closed_date", "working site with a closed date", "在产但有关停日期"),
        Term("restored_without_date", "restored without a date", "已复绿但缺少复绿日期"),
        Term("closed_but_restored_date", "closed but with a restored date", "已关停但有复绿日期"),
        Term("outside_raster", "outside the raster", "位于栅格范围外"),
        Term("no_pixels", "no valid pixels", "无有效像元"),
        Term("not_polygon", "not a polygon (left out)", "不是面要素(未统计)"),
        Term("not_an_index", "not a vegetation index", "不像植被指数"),
        Term("index_ranges_differ", "the two rasters' values differ", "两期栅格取值范围不一致"),
    ),
)
"""Every check's name in en/zh, so findings tables show what was checked in the language."""
VOCABULARIES[CHECK_NAME.name] = CHECK_NAME

OVERDUE_STATE = Vocabulary(
    "overdue_state",
    (
        Term("standing", "still standing", "未伐"),
        Term("felled_not_cleared", "felled, not cleared", "已伐未清理"),
        Term("cleared_late", "cleared after the deadline", "逾期清理"),
    ),
)
"""Where a pine-wilt tree not cleared by the deadline stands on the as-of date (geo_township.trees)."""
VOCABULARIES[OVERDUE_STATE.name] = OVERDUE_STATE

LAND_COVER = Vocabulary(
    "land_cover",
    (
        Term("forest", "forest", "林地", ("有林地", "森林", "乔木林地", "tree cover", "trees", "woodland")),
        Term("shrub", "shrubland", "灌木林地", ("灌木林", "灌木", "灌丛", "shrub", "shrubs")),
        Term("grassland", "grassland", "草地", ("草", "草丛", "grass")),
        Term("farmland", "farmland", "耕地", ("农田", "水田", "旱地", "cropland", "crops", "cultivated")),
        Term("orchard", "orchard and tea", "园地", ("果园", "茶园", "plantation")),
        Term("water", "water", "水域", ("水体", "水面", "河流水面", "坑塘水面", "water body", "waterbody")),
        Term("wetland", "wetland", "湿地", ("沼泽",)),
        Term("built_up", "built-up", "建设用地", ("建筑", "城镇", "居民点", "村庄", "built", "urban", "settlement",
                                              "artificial surface")),
        Term("bare", "bare land", "裸地", ("未利用地", "裸土", "bare", "barren")),
        Term("nodata", "no data", "无数据", ("无数据区", "outside")),
    ),
)
"""Land-cover classes: names in ``[rasters.NAME] classes`` that match these get en/zh labels."""
VOCABULARIES[LAND_COVER.name] = LAND_COVER

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
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "villages", ("Polygon",),
            (
                VILLAGE,
                _f("code", "str", "Code", "代码", "村代码", "代码", "行政区划代码", "区划代码", "xzqdm", "village_code"),
            ),
            "Villages", "行政村", id_field="village",
        ),
        Kind(
            "forest_plots", ("Polygon",),
            (
                PLOT_ID,
                _f("compartment", "str", "Compartment", "林班", "林班号", "林班编号", "lbh"),
                VILLAGE,
                _f("species", "str", "Dominant species", "优势树种", "优势树种", "树种", "主要树种", "dominant_species",
                   "yssz", "优势树", vocabulary="species"),
                _f("origin", "str", "Origin", "起源", "起源", "qy", vocabulary="origin"),
                _f("planted_year", "int", "Planted", "造林年度", "造林年度", "造林年份", "造林年", "year_planted", "zlnd"),
                _f("chief", "str", "Forest chief", "林长", "林长", "责任人", "forest_chief"),
                DECLARED_MU,
            ),
            "Forest sub-compartments", "森林小班", id_field="plot_id",
        ),
        Kind(
            "infected_trees", ("Point",),
            (
                _f("tree_id", "str", "Tree", "疫木编号", "编号", "疫木编号", "树号", "株号", "枯死木编号", "id", "tree",
                   "bh", required=True),
                _f("status", "str", "Status", "状态", "状态", "当前状态", "除治状态", "处理状态", required=True,
                   vocabulary="tree_status"),
                _f("found_date", "date", "Found", "发现日期", "发现日期", "发现时间", "调查日期", "普查日期", "date_found",
                   "found"),
                _f("confirmed_date", "date", "Confirmed", "确认日期", "确认日期", "确诊日期", "取样日期"),
                _f("felled_date", "date", "Felled", "采伐日期", "采伐日期", "伐除日期", "砍伐日期", "采伐时间", "felled"),
                _f("cleared_date", "date", "Cleared", "清理日期", "清理日期", "除治日期", "处理日期", "清理时间", "cleared"),
                _f("verified_date", "date", "Verified", "核查日期", "核查日期", "验收日期", "复核日期", "verified"),
                _f("method", "str", "Method", "除治方式", "除治方式", "处理方式", "除治方法"),
                _f("survey", "str", "Survey", "调查方式", "调查方式", "发现方式", "survey_method"),
                VILLAGE,
                PLOT_ID,
            ),
            "Pine-wilt trees", "松材线虫病疫木", id_field="tree_id",
        ),
        Kind(
            "rivers", ("LineString", "Polygon"),
            (
                _f("name", "str", "River", "河流", "河流名称", "河流", "河名", "河湖名称", "名称", "river", "river_name"),
                _f("reach_id", "str", "Reach", "河段", "河段编号", "河段", "河段代码", "reach"),
                _f("chief", "str", "River chief", "河长", "河长", "河长姓名", "river_chief"),
                _f("chief_level", "str", "Chief level", "河长级别", "河长级别", "级别", "level",
                   vocabulary="chief_level"),
                _f("zone_m", "float", "Zone (m)", "管理范围(米)", "管理范围", "管理范围宽度", "管理范围(米)", "zone",
                   "zone_width"),
            ),
            "Rivers", "河流", id_field="reach_id",
        ),
        Kind(
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
            "Sand-mining sites", "采砂点", id_field="site_id",
        ),
        Kind(
            "land_transfers", ("Polygon",),
            (
                _f("parcel_id", "str", "Parcel", "地块编号", "地块编号", "地块号", "宗地号", "地块代码", "dkbh", "parcel",
                   required=True),
                VILLAGE,
                _f("land_type", "str", "Land type", "地类", "地类", "土地类型", "土地性质", "type", vocabulary="land_type"),
                _f("transferor", "str", "Transferor", "流出方", "流出方", "转出方", "出让方", "承包方"),
                _f("transferee", "str", "Transferee", "流入方", "流入方", "转入方", "受让方", "经营主体"),
                DECLARED_MU,
                _f("start_date", "date", "Start", "起始日期", "起始日期", "开始日期", "流转起始日期", "合同起始日期", "start"),
                _f("end_date", "date", "End", "终止日期", "终止日期", "结束日期", "流转终止日期", "合同终止日期", "end"),
                _f("use", "str", "Use", "用途", "用途", "流转用途", "经营项目", "产业", vocabulary="transfer_use"),
            ),
            "Land transfers", "土地流转", id_field="parcel_id",
        ),
        Kind(
            "basic_farmland", ("Polygon",),
            (_f("patch_id", "str", "Patch", "图斑编号", "图斑编号", "图斑号", "tbbh", "id"), VILLAGE),
            "Permanent basic farmland", "永久基本农田", id_field="patch_id", optional=True,
        ),
        Kind(
            "outfalls", ("Point",),
            (
                _f("outfall_id", "str", "Outfall", "排污口编号", "排污口编号", "编号", "id"),
                _f("name", "str", "Name", "名称", "名称", "排污口名称"),
                _f("kind", "str", "Kind", "类型", "类型", "排污口类型", "type"),
                _f("river", "str", "River", "受纳河流", "受纳河流", "所在河流", "河流"),
                VILLAGE,
            ),
            "Sewage outfalls", "入河排污口", id_field="outfall_id", optional=True,
        ),
        Kind(
            "patrols", ("LineString",),
            (
                _f("chief", "str", "River chief", "河长", "河长", "巡河人", "巡查人", "name"),
                _f("date", "date", "Date", "巡河日期", "巡河日期", "日期", "巡查日期", "time"),
                _f("reach_id", "str", "Reach", "河段", "河段编号", "河段"),
            ),
            "Patrol tracks", "巡河轨迹", optional=True,
        ),
        Kind(
            "sand_zones", ("Polygon",),
            (
                _f("zone_id", "str", "Zone", "分区编号", "分区编号", "编号", "id"),
                _f("zone", "str", "Sand-mining zone", "采砂分区", "分区类型", "分区", "规划分区", "采砂分区", "类型",
                   "zone_type", "type", "kind", required=True, vocabulary="sand_zone"),
                _f("name", "str", "Name", "名称", "名称", "分区名称"),
                _f("river", "str", "River", "河流", "所在河流", "河流", "河流名称"),
            ),
            "Sand-mining zones", "采砂分区", id_field="zone_id", optional=True,
        ),
    )
}


LAYER_KIND = Vocabulary("layer_kind", tuple(Term(k.name, k.en, k.zh) for k in KINDS.values()))
"""Layer kinds as a vocabulary, so tables that list layers show their names in en/zh."""
VOCABULARIES[LAYER_KIND.name] = LAYER_KIND


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

_SPACE = re.compile(r"[\s_\-·.:：]+")


def normalise_name(name: object) -> str:
    """Fold a field name or word for matching: width, case, spaces, punctuation and brackets."""
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    text = text.replace("（", "(").replace("）", ")")
    return _SPACE.sub("", text)


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
    folded = {}
    for col in columns:
        folded.setdefault(normalise_name(col), col)
    for f in kind_.fields:
        if f.name in match.mapping:
            continue
        for alias in f.aliases:
            col = folded.get(normalise_name(alias))
            if col is not None and col not in used:
                match.mapping[f.name] = col
                used.add(col)
                break
    return match


# --------------------------------------------------------------------------- labels for tables

COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "group": ("Group", "分组"),
    "count": ("Features", "个数"),
    "length_m": ("Length (m)", "长度(米)"),
    "length_km": ("Length (km)", "长度(公里)"),
    "layer": ("Layer", "图层"),
    "feature": ("Feature", "要素"),
    "severity": ("Severity", "级别"),
    "check": ("Check", "检查项"),
    "message": ("Message", "说明"),
    "file": ("File", "文件"),
    "features": ("Features", "要素数"),
    "crs": ("CRS", "坐标系"),
    "extent": ("Extent", "范围"),
    "fields": ("Our fields ← the file's", "字段对应(本工具←文件)"),
    "other_fields": ("Other fields, kept as they are", "其他字段(原样保留)"),
    "errors": ("Errors", "错误"),
    "description": ("Description", "说明"),
    "pixel": ("Pixel", "像元大小"),
    "size": ("Size (px)", "大小(像元)"),
    "raster": ("Raster", "栅格"),
    "warnings": ("Warnings", "警告"),
    # rivers and sand (geo_township.rivers, geo_township.sand)
    "river_chief": ("River chief", "河长"),
    "reach": ("Reach", "河段"),
    "river_name": ("River", "河流"),
    "reaches": ("Reaches", "河段数"),
    "chiefs": ("River chiefs", "河长人数"),
    "villages_crossed": ("Villages crossed", "流经村"),
    "zone_area_mu": ("Zone area (mu)", "管理范围面积(亩)"),
    "shoreline_km": ("Shoreline (km)", "岸线长度(公里)"),
    "distance_m": ("To river (m)", "距河道(米)"),
    "inside_mu": ("Inside zone (mu)", "管理范围内面积(亩)"),
    "month": ("Month", "月份"),
    "tracks": ("Tracks", "轨迹数"),
    "patrolled_km": ("Patrolled (km)", "已巡河长(公里)"),
    "coverage_pct": ("Coverage (%)", "巡河覆盖率(%)"),
    "mean_monthly_pct": ("Monthly mean (%)", "月均覆盖率(%)"),
    "anyone_pct": ("By anyone (%)", "含他人轨迹覆盖率(%)"),
    "months_below": ("Months below", "未达标月数"),
    "last_patrol": ("Last patrol", "最近巡河日期"),
    "sites": ("Sites", "采砂点数"),
    "site_name": ("Site name", "采砂点名称"),
    "sites_licensed": ("Licensed", "已许可"),
    "sites_illegal": ("Illegal", "非法"),
    "sites_closed": ("Closed", "已关停"),
    "sites_restored": ("Restored", "已复绿"),
    "closed_year": ("Year closed", "关停年份"),
    "in_zone_of": ("In zone of", "所在管理范围"),
    "sand_zone": ("Sand-mining zone", "采砂分区"),
    # land-transfer audit (geo_township.transfers)
    "findings": ("Findings", "问题数"),
    "parcels": ("Parcels", "地块数"),
    "concerned_mu": ("Area concerned (mu)", "涉及面积(亩)"),
    "measured_mu": ("Measured (mu)", "实测面积(亩)"),
    "diff_mu": ("Declared − measured (mu)", "登记减实测(亩)"),
    "diff_pct": ("Difference (% of measured)", "差额占实测(%)"),
    "parcel_a": ("Parcel A", "地块A"),
    "parcel_b": ("Parcel B", "地块B"),
    "village_a": ("Village A", "地块A所属村"),
    "village_b": ("Village B", "地块B所属村"),
    "overlap_mu": ("Overlap (mu)", "重叠面积(亩)"),
    "share_a_pct": ("Share of A (%)", "占地块A(%)"),
    "share_b_pct": ("Share of B (%)", "占地块B(%)"),
    "start_a": ("Start A", "地块A起始日期"),
    "end_a": ("End A", "地块A终止日期"),
    "start_b": ("Start B", "地块B起始日期"),
    "end_b": ("End B", "地块B终止日期"),
    "outside_mu": ("Outside its village (mu)", "超出村界面积(亩)"),
    "outside_pct": ("Outside its village (%)", "超出村界比例(%)"),
    "lies_in": ("Lies in", "实际所在"),
    "on_farmland_mu": ("On basic farmland (mu)", "占永久基本农田(亩)"),
    "on_farmland_pct": ("On basic farmland (%)", "占永久基本农田比例(%)"),
    "patches": ("Farmland patches", "涉及基本农田图斑"),
    "on_forest_mu": ("On forest land (mu)", "涉及林地面积(亩)"),
    "on_forest_pct": ("On forest land (%)", "涉及林地比例(%)"),
    "plots": ("Forest plots", "涉及小班"),
    "in_zone_mu": ("In river zone (mu)", "河道管理范围内面积(亩)"),
    "in_zone_pct": ("In river zone (%)", "河道管理范围内比例(%)"),
    "years": ("Years", "年限"),
    "reason": ("Reason", "原因"),
    "start_year": ("Start year", "起始年份"),
    "basic_farmland_mu": ("Basic farmland (mu)", "永久基本农田(亩)"),
    "transferred_farmland_mu": ("Basic farmland transferred (mu)", "已流转基本农田(亩)"),
    "farmland_share_pct": ("Share transferred (%)", "流转占比(%)"),
    "audit": ("Audit", "审计结果"),
    "checks": ("Checks", "问题类型"),
    "value": ("Value", "取值"),
    "double_counted_with": ("Counted twice with", "与之重复流转的地块"),
    "double_counted_mu": ("Counted twice (mu)", "重复流转面积(亩)"),
    "renewal_with": ("Renewal pair", "续签对应地块"),
    "bad_values": ("Values not understood", "无法识别的取值"),
    "details": ("What was found", "问题说明"),
    # pine-wilt trees (geo_township.trees, hotspots, treeimport)
    "found": ("Found", "发现(株)"),
    "confirmed": ("Confirmed", "确认(株)"),
    "felled": ("Felled", "已伐(株)"),
    "cleared": ("Cleared", "已清理(株)"),
    "verified": ("Verified", "已核查(株)"),
    "standing": ("Still standing", "未伐(株)"),
    "not_cleared": ("Not cleared", "未清理(株)"),
    "clearance_pct": ("Clearance (%)", "除治率(%)"),
    "pine_mu": ("Pine (mu)", "松林面积(亩)"),
    "first_found": ("First found", "首次发现日期"),
    "last_cleared": ("Last cleared", "最后清理日期"),
    "infected_plots": ("Infected plots", "疫情小班数"),
    "infected_mu": ("Infected plots (mu)", "疫情小班面积(亩)"),
    "infected_pine_mu": ("Pine in infected plots (mu)", "疫情小班松林面积(亩)"),
    "pine_at_risk_mu": ("Pine at risk (mu)", "受威胁松林面积(亩)"),
    "hotspot": ("Hotspot", "热点"),
    "trees": ("Trees", "株数"),
    "lon": ("Longitude", "经度"),
    "lat": ("Latitude", "纬度"),
    "x": ("X (m)", "东坐标(米)"),
    "y": ("Y (m)", "北坐标(米)"),
    "radius_m": ("Radius (m)", "半径(米)"),
    "plots_touched": ("Plots touched", "涉及小班数"),
    "villages": ("Villages", "涉及村"),
    "days_overdue": ("Days overdue", "超期天数"),
    "overdue": ("Overdue", "超期未除治(株)"),
    "felled_not_cleared": ("Felled, not cleared", "已伐未清理(株)"),
    "cleared_late": ("Cleared late", "逾期清理(株)"),
    "due": ("Due", "应除治(株)"),
    "due_cleared": ("Due and cleared", "应除治中已除治(株)"),
    "outstanding": ("Outstanding", "仍未清理(株)"),
    "not_cleared_by_deadline": ("Not cleared by the deadline", "期限内未清理(株)"),
    "state": ("State", "状态(截至核算日)"),
    "action": ("Action", "操作"),
    "field": ("Field", "字段"),
    "old": ("Old value", "原值"),
    "new": ("New value", "新值"),
    "time": ("Time", "时间"),
    "user": ("User", "操作人"),
    "source": ("Source file", "来源文件"),
    # the map's key statistics (geo_township.webmap.summary)
    "forest_mu": ("Forest (mu)", "林地面积(亩)"),
    "transferred_mu": ("Transferred (mu)", "流转面积(亩)"),
}
"""Column labels (en, zh) for table headings; canonical field labels come from KINDS."""
# rasters (geo_township.raster, geo_township.candidates)
COLUMN_LABELS.update({
    "pixels": ("Pixels (coverage-weighted)", "像元数(按覆盖比例)"),
    "valid_pct": ("With data (%)", "有效覆盖(%)"),
    "mean": ("Mean", "平均值"),
    "min": ("Min", "最小值"),
    "max": ("Max", "最大值"),
    "sum": ("Sum", "总和"),
    "std": ("Std dev", "标准差"),
    "median": ("Median", "中位数"),
    **{f"p{p}": (f"{p}th percentile", f"{p}%分位数") for p in (1, 5, 10, 20, 25, 75, 80, 90, 95, 99)},
    "nodata": ("No data", "无数据"),
    "class": ("Class", "类别"),
    "share_pct": ("Share (%)", "占比(%)"),
    **{f"lc_{t.code}": (t.en.capitalize(), t.zh) for t in LAND_COVER.terms},
    "patch_id": ("Candidate", "疑似斑块"),
    "candidates": ("Candidates", "疑似斑块数"),
    "drop_mean": ("Mean drop", "平均下降"),
    "drop_max": ("Largest drop", "最大下降"),
    "before_mean": ("Before (mean)", "前期均值"),
    "after_mean": ("After (mean)", "后期均值"),
    "excluded_small": ("Too small", "过小排除"),
    "excluded_large": ("Too large", "过大排除"),
})

TABLE_LABELS: dict[str, tuple[str, str]] = {
    "summary": ("Summary", "汇总"),
    "findings": ("Findings", "问题清单"),
    "layers": ("Layers", "图层"),
    "fields": ("How the files' fields map to ours", "字段对应"),
    "rasters": ("Rasters", "栅格"),
    "infected_plots": ("Infected sub-compartments", "疫情小班"),
    "hotspots": ("Hotspots of new infections", "新发疫情热点"),
    "overdue_trees": ("Trees not cleared by the deadline", "逾期未清理疫木"),
    "changes": ("Changes", "变更记录"),
    "history": ("History", "变更历史"),
    "area_mismatch": ("Declared vs measured area", "合同面积与实测面积不符"),
    "overlap": ("Overlapping contracts", "合同地块重叠"),
    "renewal": ("Renewals (same land, later contract)", "续签（同一地块，前后合同）"),
    "outside_village": ("Parcels outside their village", "地块超出所属村"),
    "on_basic_farmland": ("Non-farming use on basic farmland", "永久基本农田非农使用"),
    "on_forest": ("Farmland transfers on forest land", "耕地流转占用林地"),
    "in_river_zone": ("Parcels in river management zones", "位于河道管理范围内的地块"),
    "on_forest_land": ("Farmland transfers on forest land", "耕地流转占用林地"),
    "duplicate_id": ("Parcel ids used twice", "地块编号重复"),
    "missing_id": ("Parcels without an id", "缺少地块编号"),
    "missing_declared": ("No declared area", "缺少登记面积"),
    "end_before_start": ("Contracts ending before they start", "终止日期早于起始日期"),
    "contract_too_long": ("Contracts longer than allowed", "流转期限超过上限"),
    "missing_dates": ("No start or end date", "缺少起止日期"),
    "bad_date": ("Dates not understood", "日期无法识别"),
    "bad_value": ("Values not understood", "取值无法识别"),
    "missing_village": ("Parcels without a village", "缺少所属村"),
    "unknown_village": ("Villages not in the villages layer", "村名不在行政村图层中"),
    "invalid_geometry": ("Invalid geometries (repaired copy)", "图形无效(修复副本)"),
    "empty_geometry": ("Parcels without geometry", "缺少图形的地块"),
    "records": ("Record problems", "记录问题"),
    "by_village": ("By village", "按村"),
    "by_land_type": ("By land type", "按地类"),
    "by_use": ("By use", "按用途"),
    "by_start_year": ("By year of start", "按起始年份"),
    "by_level": ("By chief level", "按河长级别"),
    "by_reach": ("By reach", "按河段"),
    "in_zone": ("Inside the management zones", "河道管理范围内要素"),
    "in_zone_counts": ("Inside the zones, counts", "管理范围内要素数量"),
    "patrol_chiefs": ("Patrol coverage per chief", "各河长巡河覆盖率"),
    "patrol_monthly": ("Patrol coverage per chief and month", "各河长逐月巡河覆盖率"),
    "patrol_reaches": ("Patrol coverage per reach", "各河段巡河覆盖率"),
    "patrol_reach_monthly": ("Patrol coverage per reach and month", "各河段逐月巡河覆盖率"),
    "unpatrolled": ("Reaches not patrolled", "未巡河段"),
    "lakes": ("Lakes", "湖泊"),
    "sites": ("Sites", "采砂点"),
    "closures": ("Closures per year", "逐年关停"),
    "closures_by_village": ("Closures per village and year", "各村逐年关停"),
    "by_sand_zone": ("By sand-mining zone", "按采砂分区"),
    "by_plot": ("By plot", "按小班"),
    "totals": ("Totals", "合计"),
    "by_class": ("By class", "按类别"),
    "candidates": ("Candidate patches", "疑似疫木斑块"),
    "classes": ("Class totals", "各地类合计"),
}
"""Names of an analysis's tables (terminal sub-titles, XLSX sheet names) in en and zh."""


def table_label(name: str, lang: str = "en") -> str:
    """A readable name for a table in the language (falls back to the name, spaced)."""
    if name in TABLE_LABELS:
        return TABLE_LABELS[name][1 if lang == "zh" else 0]
    return name.replace("_", " ")


TOTAL_LABEL = {"en": "Total", "zh": "合计"}
UNASSIGNED_LABEL = {"en": "(none)", "zh": "(无)"}


def column_label(name: str, lang: str = "en") -> str:
    """A readable heading for a table column in the language (falls back to the name)."""
    idx = 1 if lang == "zh" else 0
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name][idx]
    from geo_township.units import AREA_UNITS

    if name.startswith("area_") and name[5:] in AREA_UNITS:
        unit = AREA_UNITS[name[5:]]
        return f"Area ({unit.en})" if lang == "en" else f"面积({unit.zh})"
    for k in KINDS.values():
        for f in k.fields:
            if f.name == name:
                return f.zh if lang == "zh" else f.en
    return name
