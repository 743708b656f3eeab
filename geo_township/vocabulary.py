"""Controlled vocabularies: the codes of statuses, species, uses, zones and layer kinds,
the words officers write for them, and their English and Chinese labels.

Everything here is data. The loader maps the words of a field to codes through the
vocabulary its field names (``geo_township.kinds``); tables and the map show codes as
words through :data:`VOCABULARIES`. To teach the tool a new status word, add it here (or,
for one township, in ``township.toml``).

The names of the checks are not here: each check is declared once, with its names, next
to its analysis (:class:`geo_township.results.Check`); :mod:`geo_township.results` adds
the vocabulary ``check_name`` that reads them, the land-transfer audit ``audit_check``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_SPACE = re.compile(r"[\s_\-·.:：]+")


def normalise_name(name: object) -> str:
    """Fold a field name or word for matching: width, case, spaces, punctuation and brackets."""
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    text = text.replace("（", "(").replace("）", ")")
    return _SPACE.sub("", text)


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

    def term(self, code: str) -> Term | None:
        """The term of a code, or None when the vocabulary has no such code."""
        for term in self.terms:
            if term.code == code:
                return term
        return None

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of the vocabulary, in order."""
        return tuple(t.code for t in self.terms)


TREE_STATUS = Vocabulary(
    "tree_status",
    (
        Term("suspected", "suspected", "疑似", ("疑似疫木", "疑似感染", "待确认", "可疑")),
        Term("confirmed", "confirmed", "已确认",
             ("确认", "确诊", "已确诊", "感染", "疫木", "枯死", "待伐", "未伐", "未除治")),
        Term("felled", "felled", "已伐", ("已采伐", "采伐", "伐除", "已伐除", "已砍伐", "砍伐", "已伐未清理", "cut")),
        Term("cleared", "cleared", "已清理",
             ("已除治", "清理", "除治", "已粉碎", "已烧毁", "已处理", "完成除治", "removed")),
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

LAYER_KIND = Vocabulary(
    "layer_kind",
    (
        Term("villages", "Villages", "行政村"),
        Term("forest_plots", "Forest sub-compartments", "森林小班"),
        Term("infected_trees", "Pine-wilt trees", "松材线虫病疫木"),
        Term("rivers", "Rivers", "河流"),
        Term("sand_sites", "Sand-mining sites", "采砂点"),
        Term("land_transfers", "Land transfers", "土地流转"),
        Term("basic_farmland", "Permanent basic farmland", "永久基本农田"),
        Term("outfalls", "Sewage outfalls", "入河排污口"),
        Term("patrols", "Patrol tracks", "巡河轨迹"),
        Term("sand_zones", "Sand-mining zones", "采砂分区"),
    ),
)
"""Layer kinds as a vocabulary, so tables that list layers show their names in en/zh.

The one home of the kinds' names: ``geo_township.kinds.KINDS`` takes each kind's labels
from here, in this order."""
VOCABULARIES[LAYER_KIND.name] = LAYER_KIND

IMPORT_ACTION = Vocabulary(
    "import_action",
    (
        Term("added", "added", "新增"),
        Term("advanced", "advanced", "状态推进"),
        Term("updated", "updated", "已更新"),
        Term("renewed", "renewed", "已续签"),
        Term("regressed", "regressed", "状态回退"),
        Term("refused", "refused", "已拒绝"),
        Term("unchanged", "unchanged", "无变化"),
        Term("skipped", "skipped", "已跳过"),
    ),
)
"""What an import did to a feature (the rows of its summary, the action of a change)."""
VOCABULARIES[IMPORT_ACTION.name] = IMPORT_ACTION
