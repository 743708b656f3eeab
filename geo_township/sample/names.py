"""Names used by the sample township: villages, people, companies, sites."""

from __future__ import annotations

import numpy as np

TOWNSHIP = "青溪乡"
TOWNSHIP_EN = "Qingxi Township"
DATA_DATE = "2023-04-30"

#: Village name, 12-digit code, seed position relative to the township centre (m), forest
#: chief (村级林长, usually the village Party secretary).
VILLAGES: tuple[tuple[str, str, tuple[float, float], str], ...] = (
    ("青溪村", "341702101201", (-700.0, 250.0), "汪德明"),
    ("石门村", "341702101202", (-2500.0, 2700.0), "程国华"),
    ("桃源村", "341702101203", (700.0, -2800.0), "方春生"),
    ("枫林村", "341702101204", (500.0, 2250.0), "胡永红"),
    ("竹山村", "341702101205", (-3300.0, -2700.0), "章立新"),
    ("河口村", "341702101206", (4900.0, 300.0), "吴海涛"),
    ("柏树村", "341702101207", (4000.0, -1500.0), "徐桂兰"),
    ("上庄村", "341702101208", (-4700.0, 300.0), "刘长青"),
    ("龙潭村", "341702101209", (3200.0, 2700.0), "陈学文"),
    ("新塘村", "341702101210", (2100.0, -300.0), "王金水"),
)

SURNAMES = "王张李陈刘汪程方胡吴章徐周杨黄朱叶江何余潘姚柯查鲍"
GIVEN = [
    "建国",
    "国华",
    "德胜",
    "永红",
    "志强",
    "春生",
    "秀英",
    "桂兰",
    "学文",
    "明华",
    "玉林",
    "长青",
    "小军",
    "海涛",
    "立新",
    "红梅",
    "家宝",
    "金水",
    "有才",
    "正清",
    "光明",
    "和平",
    "卫东",
    "新民",
    "美华",
    "丽萍",
    "宏伟",
    "春花",
    "冬梅",
    "建平",
    "文斌",
    "爱民",
    "福生",
    "来喜",
]

COOPERATIVES = (
    "{v}粮食种植专业合作社",
    "{v}蔬菜种植专业合作社",
    "{v}农机服务专业合作社",
    "{r}稻虾共作专业合作社",
)
FAMILY_FARM = "{p}家庭农场"
COMPANIES_FARM = (
    "安徽青溪现代农业发展有限公司",
    "池州绿源农业科技有限公司",
    "贵池区禾丰农业开发有限公司",
)
COMPANIES_FOREST = (
    "安徽山茶油茶开发有限公司",
    "池州青山苗木花卉有限公司",
    "{v}油茶种植专业合作社",
)
AQUA_OWNERS = ("{p}家庭渔场", "池州清水渔业有限公司")
LIVESTOCK_OWNERS = ("{p}家庭牧场", "安徽牧丰畜禽养殖有限公司")
PV_COMPANY = "阳光新能源开发有限公司"

#: River chiefs (河长): county level for the main river's first reach, township level for the
#: other main reaches and the larger tributaries, village level for the small ones.
COUNTY_CHIEF = "汪志远"
TOWNSHIP_CHIEFS = ("程建华", "方卫东", "叶丽萍")


def person(rng: np.random.Generator) -> str:
    """A plausible personal name (surname + two-character given name)."""
    return SURNAMES[int(rng.integers(len(SURNAMES)))] + GIVEN[int(rng.integers(len(GIVEN)))]


def short(village: str) -> str:
    """Village name without 村 (青溪村 → 青溪)."""
    return village.removesuffix("村")
