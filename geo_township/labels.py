"""Labels of the tables every analysis returns: column headings and table names in
English and Chinese, and the words of the total and unassigned rows.

Everything here is data; :func:`geo_township.kinds.column_label` reads it (and the
canonical fields' own labels) to head a column in the language. To label a new column
or table, add it here; ``tests/test_labels.py`` fails while any output lacks one.
"""

from __future__ import annotations

import re

from geo_township.units import AREA_UNITS
from geo_township.vocabulary import LAND_COVER

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
    "walked_km": ("Walked (km)", "巡河里程(公里)"),
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
    "candidates": ("Candidates", "疑似斑块数"),
    "drop_mean": ("Mean drop", "平均下降"),
    "drop_max": ("Largest drop", "最大下降"),
    "before_mean": ("Before (mean)", "前期均值"),
    "after_mean": ("After (mean)", "后期均值"),
    "excluded_small": ("Too small", "过小排除"),
    "excluded_large": ("Too large", "过大排除"),
})
# a county's tables (geo_township.county)
COLUMN_LABELS.update({
    "township": ("Township", "乡镇"),
    "township_a": ("Township", "乡镇"),
    "feature_a": ("Its feature", "本乡镇要素"),
    "township_b": ("Other township", "另一乡镇"),
    "feature_b": ("Other township's feature", "另一乡镇要素"),
})

TABLE_LABELS: dict[str, tuple[str, str]] = {
    "summary": ("Summary", "汇总"),
    # the year's report (geo_township.report)
    "indicators": ("Indicators", "指标"),
    "trees_by_village": ("Pine-wilt trees by village", "各村松材线虫病疫木"),
    "transfers_by_village": ("New land transfers by village", "各村新增土地流转"),
    "sand_by_village": ("Sand sites closed by village and year", "各村关停采砂场点(按年)"),
    "rivers_by_village": ("River length by village", "各村河道长度"),
    "trees_by_month": ("Pine-wilt trees found and cleared by month", "各月发现和清理疫木"),
    "transfers_by_use_year": ("Land transfers by use and start year", "土地流转(按用途和起始年份)"),
    "sand_by_status": ("Sand sites by status", "采砂场点(按状态)"),
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
    "claims": ("Land claimed by two townships", "两个乡镇重复划入的土地"),
}
"""Names of an analysis's tables (terminal sub-titles, XLSX sheet names) in en and zh."""


def table_label(name: str, lang: str = "en") -> str:
    """A readable name for a table in the language (falls back to the name, spaced)."""
    if name in TABLE_LABELS:
        return TABLE_LABELS[name][1 if lang == "zh" else 0]
    return name.replace("_", " ")


TOTAL_LABEL = {"en": "Total", "zh": "合计"}
PARTIAL_TOTAL_LABEL = {"en": "Total (townships left out)", "zh": "合计（有乡镇未计入）"}
"""A county's Total when a township could not be analysed: the sum is of the others only."""
UNASSIGNED_LABEL = {"en": "(none)", "zh": "(无)"}

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def has_cjk(text: object) -> bool:
    """Whether ``text`` holds Chinese characters (a Chinese label, not a copy of the English one)."""
    return isinstance(text, str) and _CJK.search(text) is not None


def derived_label(name: str) -> tuple[str, str] | None:
    """The (en, zh) heading of a column an analysis derives (counts, areas, rates …), or
    None when this module has none; canonical fields are labelled by their kinds."""
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    if name.startswith("area_") and name[5:] in AREA_UNITS:
        unit = AREA_UNITS[name[5:]]
        return f"Area ({unit.en})", f"面积({unit.zh})"
    return None


SAID: dict[str, str] = {}
"""Every :class:`Text` made so far, English → Chinese: a table cell loses a Text's Chinese
(pandas stores text columns as plain strings), so :func:`geo_township.results.localise`
finds it here."""
_SAID_MAX = 100_000


class Text(str):
    """A sentence for people in English that carries its Chinese twin: ``Text(en, zh)``.

    It is a ``str`` (the English), so code that stores, compares or searches notes and
    messages keeps working; whoever shows it picks the language with :func:`text_in`
    (a table cell, which keeps only the string, through :data:`SAID`).
    Library code builds every human sentence it hands upward (loading notes, CRS notes,
    result notes) as a Text; :meth:`geo_township.results.Check.finding` fills a check's
    Chinese template with the Chinese of the Text values it is given.
    """

    zh: str

    def __new__(cls, en: str, zh: str) -> Text:
        self = super().__new__(cls, en)
        self.zh = zh
        if len(SAID) < _SAID_MAX:
            SAID.setdefault(en, zh)
        return self

    def __reduce__(self) -> tuple[type, tuple[str, str]]:  # pickles (Dask, multiprocessing) keep the Chinese
        return (Text, (str(self), self.zh))

    def in_lang(self, lang: str) -> str:
        """The sentence in ``lang`` ('en' or 'zh')."""
        return self.zh if lang == "zh" else str(self)


def quoted_name(value: object) -> str:
    """A name or cell as its record writes it, in quotes so leading, trailing and
    full-width spaces show — never escaped as Python's ``repr`` would ('石\\u3000门村'):
    people read it, in either language."""
    return f"“{value}”"


def text_in(value: object, lang: str) -> object:
    """``value`` in ``lang``: a :class:`Text`'s Chinese under 'zh', anything else unchanged
    (names, numbers and the user's own words read the same in both languages)."""
    return value.in_lang(lang) if isinstance(value, Text) else value


def joined(parts: list[str], en_sep: str = "; ", zh_sep: str = "；") -> Text:
    """Several sentences (Texts, or plain names) as one, each language with its own separator."""
    return Text(en_sep.join(parts), zh_sep.join(p.zh if isinstance(p, Text) else p for p in parts))


PROVENANCE_LABELS: dict[str, tuple[str, str]] = {
    "tool": ("Tool", "软件"),
    "created": ("Made on", "生成时间"),
    "township": ("Township", "乡镇"),
    "county": ("County", "县"),
    "townships": ("Townships of the county", "全县各乡镇"),
    "township_file": ("Township file", "乡镇配置文件"),
    "analysis": ("Analysis", "分析"),
    "working_crs": ("Working CRS (metres)", "平面计算坐标系"),
    "data_date": ("Data date", "数据日期"),
    "data_date_used": ("Data date used", "采用的数据日期"),
    "inputs": ("Input layer", "输入图层"),
    "layer": ("Layer", "图层"),
    "file": ("File", "文件"),
    "bytes": ("Size (bytes)", "文件大小(字节)"),
    "modified": ("File modified", "文件修改时间"),
    "features": ("Features", "要素数"),
    "features_left_out": ("Features left out", "未计入的要素数"),
    "rows_left_out": ("Rows left out", "未计入的行数"),
    "geometries_repaired": ("Geometries repaired in memory", "内存中修复的图形"),
    "source_crs": ("CRS of the file", "文件坐标系"),
    "source_layer": ("Layer in the file", "文件内图层"),
    "crs_note": ("Where the CRS came from", "坐标系来源"),
    "area_method": ("Area method", "面积算法"),
    "method_note": ("Area method, explained", "面积算法说明"),
    "length_method": ("Length method", "长度算法"),
    "length_note": ("Length method, explained", "长度算法说明"),
    "ellipsoid": ("Ellipsoid", "椭球"),
    "unit": ("Unit", "单位"),
    "group_by": ("Grouped by", "分组字段"),
    "by": ("One row per", "统计单元"),
    "as_of": ("As of", "判定日期"),
    "cutoff": ("Season cut-off", "除治期截止日"),
    "clearance_cutoff": ("Season cut-off for the clearance rate", "除治率采用的除治期截止日"),
    "clearance_target_pct": ("Clearance target (%)", "除治率目标(%)"),
    "cleared_by": ("Cleared by", "清理截止日"),
    "deadline": ("Deadline", "期限"),
    "include_late": ("Trees cleared late listed", "列出逾期清理的疫木"),
    "season": ("Clearing season", "除治季"),
    "period_start": ("Period from", "统计起始日"),
    "period_end": ("Period to", "统计截止日"),
    "period_rule": ("Period rule", "时段统计规则"),
    "rate_rule": ("Clearance-rate rule", "除治率计算规则"),
    "record_rule": ("Record vs location rule", "记录与位置规则"),
    "boundary_rule": ("Boundary rule", "边界归属规则"),
    "hotspot_eps_m": ("Hotspot distance (m)", "热点聚类距离(米)"),
    "hotspot_min_trees": ("Hotspot minimum trees", "热点最少疫木数"),
    "risk_radius_m": ("Risk radius (m)", "风险半径(米)"),
    "tolerance_pct": ("Area tolerance (%)", "面积容差(%)"),
    "tolerance_mu": ("Area tolerance (mu)", "面积容差(亩)"),
    "tolerance_rule": ("Tolerance rule", "容差规则"),
    "overlap_min_mu": ("Smallest overlap (mu)", "最小重叠面积(亩)"),
    "max_contract_years": ("Longest contract (years)", "最长流转年限"),
    "non_farming_uses": ("Non-farming uses", "非农用途"),
    "zone_m_default": ("Default management zone (m)", "默认管理范围宽度(米)"),
    "patrol_buffer_m": ("Patrol buffer (m)", "巡河轨迹缓冲距离(米)"),
    "patrol_min_coverage_pct": ("Patrol coverage target (%)", "巡河覆盖率目标(%)"),
    "raster": ("Raster", "栅格"),
    "raster_file": ("Raster file", "栅格文件"),
    "raster_crs": ("Raster CRS", "栅格坐标系"),
    "raster_crs_note": ("Where the raster's CRS came from", "栅格坐标系来源"),
    "raster_size": ("Raster size", "栅格大小"),
    "pixel_size": ("Pixel size", "像元大小"),
    "nodata": ("Nodata value", "无数据值"),
    "nodata_from": ("Nodata value from", "无数据值来源"),
    "statistics": ("How pixels are counted", "像元统计方法"),
    "categorical": ("Classes (land cover)", "按类别统计(地类)"),
    "features_not_polygons": ("Features that are not polygons", "非面要素数"),
    "before": ("Before", "前期栅格"),
    "after": ("After", "后期栅格"),
    "before_file": ("Before (file)", "前期栅格文件"),
    "after_file": ("After (file)", "后期栅格文件"),
    "min_drop": ("Smallest drop", "最小下降幅度"),
    "min_m2": ("Smallest patch (m²)", "最小斑块面积(平方米)"),
    "max_m2": ("Largest patch (m²)", "最大斑块面积(平方米)"),
}
"""How the numbers were made (a Result's provenance), key by key: the rows of the About
(说明) sheet of an XLSX. A key without a label is shown as it is."""

PROVENANCE_WORDS: dict[str, tuple[str, str]] = {
    "ellipsoidal": ("ellipsoidal", "椭球面"),
    "planar": ("planar", "平面"),
    "file": ("the file", "文件"),
    "township.toml": ("township.toml", "township.toml"),
    "any": ("either tolerance", "任一容差"),
    "all": ("both tolerances", "两个容差都"),
    "village": ("village", "村"),
    "plot": ("plot", "小班"),
    "mu": ("mu", "亩"),
    "ha": ("ha", "公顷"),
    "m2": ("m²", "平方米"),
    "km2": ("km²", "平方公里"),
    "trees": ("pine-wilt trees", "松材线虫病疫木统计"),
    "overdue": ("trees not cleared by the deadline", "逾期未除治疫木"),
    "audit": ("land-transfer audit", "土地流转审计"),
    "rivers": ("river chiefs", "河长制统计"),
    "sand": ("sand mining", "采砂管理统计"),
    "area": ("area", "面积统计"),
    "zonal": ("raster statistics", "栅格分区统计"),
    "candidates": ("vegetation-loss candidates", "植被下降疑点"),
}
"""Codes that provenance values take (``area_method = "ellipsoidal"``), in words."""

PROVENANCE_NAMES = frozenset({"township", "county", "file", "source_layer", "raster", "before", "after", "layer_name"})
"""Provenance keys whose values are names the user chose (shown as they are, never read
as codes)."""


def provenance_label(key: str, lang: str = "en") -> str:
    """A provenance key in ``lang`` (the key itself when it has no label)."""
    pair = PROVENANCE_LABELS.get(key) or COLUMN_LABELS.get(key)
    return (pair[1] if lang == "zh" else pair[0]) if pair else key
