#!/usr/bin/env python3
"""Generate the Ningxia demo seed data in seed/data/*.json (except places.json).

Deterministic: a fixed random seed and hand-written lists, so re-running produces identical
files. Important records (backbone teams, named enterprises, Zhongwei 2023 teams) are
hand-curated below; bulk records (experts, equipment, supply lots, contacts) are generated.

Everything here is DEMO data ("demo": true). Facts taken from public sources but not confirmed
by the data owner carry "verified": false. Names of real organisations are used only where
they are well known; their credit codes, addresses, phones and people are invented.

Usage:  python seed/tools/make_demo_data.py [--out DIR]   (default: writes seed/data/)
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "seed" / "data"
sys.path.insert(0, str(ROOT))

from rescue.codes import credit_check_char, credit_code_error, supply_code_error  # noqa: E402

RNG = random.Random(20261128)
TODAY = "2026-11-28"

# --------------------------------------------------------------------------------------
# Geography: 22 county-level units (centres from shared ningxia_places.json), towns per county,
# prefecture area codes for landlines.
# --------------------------------------------------------------------------------------
CITY_AREA = {"银川市": "951", "石嘴山市": "952", "吴忠市": "953", "固原市": "954", "中卫市": "955"}

# name: (prefecture, pinyin slug, lat, lon, [towns / streets])
COUNTIES = {
    "兴庆区": ("银川市", "xingqing", 38.48, 106.28, ["解放东街", "掌政镇", "大新镇", "丽景街", "胜利街"]),
    "西夏区": ("银川市", "xixia", 38.48, 106.18, ["贺兰山西路", "镇北堡镇", "兴泾镇", "怀远路"]),
    "金凤区": ("银川市", "jinfeng", 38.47, 106.25, ["北京中路", "良田镇", "宁安大街", "亲水大街"]),
    "永宁县": ("银川市", "yongning", 38.28, 106.25, ["杨和镇", "望远镇", "李俊镇", "闽宁镇"]),
    "贺兰县": ("银川市", "helan", 38.55, 106.35, ["习岗镇", "金贵镇", "立岗镇", "德胜工业园区"]),
    "灵武市": ("银川市", "lingwu", 38.10, 106.33, ["东塔镇", "宁东镇", "临河镇", "马家滩镇"]),
    "大武口区": ("石嘴山市", "dawukou", 39.02, 106.38, ["朝阳西街", "长胜街道", "石炭井街道", "星海镇"]),
    "惠农区": ("石嘴山市", "huinong", 39.25, 106.78, ["红果子镇", "尾闸镇", "河滨街道", "园艺镇"]),
    "平罗县": ("石嘴山市", "pingluo", 38.90, 106.53, ["城关镇", "崇岗镇", "头闸镇", "黄渠桥镇"]),
    "利通区": ("吴忠市", "litong", 37.98, 106.20, ["金星镇", "古城镇", "上桥镇", "金积镇"]),
    "红寺堡区": ("吴忠市", "hongsibu", 37.425, 106.062, ["红寺堡镇", "太阳山镇", "大河乡"]),
    "盐池县": ("吴忠市", "yanchi", 37.78, 107.40, ["花马池镇", "高沙窝镇", "惠安堡镇", "大水坑镇"]),
    "同心县": ("吴忠市", "tongxin", 36.98, 105.92, ["豫海镇", "韦州镇", "下马关镇", "河西镇"]),
    "青铜峡市": ("吴忠市", "qingtongxia", 38.02, 106.07, ["小坝镇", "大坝镇", "叶盛镇", "峡口镇"]),
    "原州区": ("固原市", "yuanzhou", 36.00, 106.28, ["南关街道", "三营镇", "开城镇", "官厅镇"]),
    "西吉县": ("固原市", "xiji", 35.97, 105.73, ["吉强镇", "兴隆镇", "将台堡镇"]),
    "隆德县": ("固原市", "longde", 35.62, 106.12, ["城关镇", "沙塘镇", "神林乡"]),
    "泾源县": ("固原市", "jingyuan", 35.48, 106.33, ["香水镇", "六盘山镇", "泾河源镇"]),
    "彭阳县": ("固原市", "pengyang", 35.85, 106.63, ["白阳镇", "王洼镇", "古城镇"]),
    "沙坡头区": ("中卫市", "shapotou", 37.52, 105.18, ["文昌镇", "滨河镇", "迎水桥镇", "镇罗镇"]),
    "中宁县": ("中卫市", "zhongning", 37.48, 105.67, ["宁安镇", "新堡镇", "石空镇", "恩和镇"]),
    "海原县": ("中卫市", "haiyuan", 36.57, 105.65, ["海城镇", "李旺镇", "三河镇", "西安镇"]),
}
# county adcodes (GB/T 2260), used as region code in credit codes
ADCODE = {
    "兴庆区": "640104",
    "西夏区": "640105",
    "金凤区": "640106",
    "永宁县": "640121",
    "贺兰县": "640122",
    "灵武市": "640181",
    "大武口区": "640202",
    "惠农区": "640205",
    "平罗县": "640221",
    "利通区": "640302",
    "红寺堡区": "640303",
    "盐池县": "640323",
    "同心县": "640324",
    "青铜峡市": "640381",
    "原州区": "640402",
    "西吉县": "640422",
    "隆德县": "640423",
    "泾源县": "640424",
    "彭阳县": "640425",
    "沙坡头区": "640502",
    "中宁县": "640521",
    "海原县": "640522",
}

LAT_MIN, LAT_MAX, LON_MIN, LON_MAX = 35.2, 39.4, 104.3, 107.7


def city_of(county: str) -> str:
    return COUNTIES[county][0]


def jitter(lat: float, lon: float, km: float = 2.5) -> tuple[float, float]:
    """Move a point by up to `km` in each direction (deterministic via RNG)."""
    dlat = RNG.uniform(-km, km) / 111.0
    dlon = RNG.uniform(-km, km) / 88.0
    la = min(max(lat + dlat, LAT_MIN + 0.01), LAT_MAX - 0.01)
    lo = min(max(lon + dlon, LON_MIN + 0.01), LON_MAX - 0.01)
    return round(la, 5), round(lo, 5)


def county_point(county: str, km: float = 3.0) -> tuple[float, float]:
    _, _, lat, lon, _ = COUNTIES[county]
    return jitter(lat, lon, km)


def town(county: str, i: int = 0) -> str:
    towns = COUNTIES[county][4]
    return towns[i % len(towns)]


def address(county: str, place: str) -> str:
    return f"宁夏回族自治区{city_of(county)}{county}{place}"


# --------------------------------------------------------------------------------------
# People and phones (clearly fake: +86 139 5100 xxxx / +86 138 0951 xxxx)
# --------------------------------------------------------------------------------------
SURNAMES = list("王李张刘陈杨马赵黄周吴徐孙胡朱高何郭罗田丁金冯杜贺苏白纳沙韩魏蒋汪郑谢邓曹许海余") + ["欧阳", "司马"]
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红文斌亮宁志飞鹏辉玲燕峰琳雪梅浩宇晨新海龙")
_used_names: set[str] = set()


def person_name() -> str:
    while True:
        given = "".join(RNG.sample(GIVEN, RNG.choice((1, 2, 2))))  # no repeated character
        n = RNG.choice(SURNAMES) + given
        if n not in _used_names:
            _used_names.add(n)
            return n


_mobile_counter = [0]


def next_mobile() -> str:
    i = _mobile_counter[0]
    _mobile_counter[0] += 1
    n = 100 + i // 2
    # 139 5100 nnnn  /  138 0951 nnnn
    return f"+861395100{n:04d}" if i % 2 == 0 else f"+861380951{n:04d}"


_landline_counter: dict[str, int] = {}


def duty_line(city: str) -> str:
    area = CITY_AREA[city]
    i = _landline_counter.get(area, 0)
    _landline_counter[area] = i + 1
    base = {"951": 5010000, "952": 2010000, "953": 2010000, "954": 2010000, "955": 7010000}[area]
    return f"+86{area}{base + 100 + i * 7}"


# --------------------------------------------------------------------------------------
# Credit codes (GB 32100-2015): 9 (market regulator) 1 (enterprise) + 6-digit county adcode
# + 9-char organisation code (8 digits + GB 11714 check) + overall check char.
# --------------------------------------------------------------------------------------
def _org_check(body8: str) -> str:
    w = (3, 7, 9, 10, 5, 8, 4, 2)
    s = sum(int(c) * wi for c, wi in zip(body8, w, strict=False))
    c = 11 - s % 11
    return "X" if c == 10 else ("0" if c == 11 else str(c))


_used_credit: set[str] = set()


def credit_code(county: str, org_type: str = "1") -> str:
    while True:
        body8 = "".join(RNG.choice("0123456789") for _ in range(8))
        first17 = "9" + org_type + ADCODE[county] + body8 + _org_check(body8)
        code = first17 + credit_check_char(first17)
        if code not in _used_credit:
            _used_credit.add(code)
            assert credit_code_error(code) is None
            return code


# --------------------------------------------------------------------------------------
# 1. Capabilities
# --------------------------------------------------------------------------------------
CAPABILITIES = [
    ("hazmat_leak_control", "危化品泄漏处置", "hazmat"),
    ("mine_rescue", "矿山救护", "rescue"),
    ("firefighting", "灭火", "fire"),
    ("chemical_fire", "化工火灾扑救", "fire"),
    ("gas_detection", "气体检测", "hazmat"),
    ("gas_protection", "气体防护", "hazmat"),
    ("confined_space_rescue", "有限空间救援", "rescue"),
    ("medical_first_aid", "医疗急救", "medical"),
    ("water_rescue", "水域救援", "rescue"),
    ("heavy_lifting", "重型吊装", "engineering"),
    ("power_restoration", "电力抢修", "utility"),
    ("pipeline_repair", "管道抢修", "utility"),
    ("gas_pipeline_repair", "燃气抢修", "utility"),
    ("road_rescue", "道路救援/清障", "rescue"),
    ("structural_collapse_rescue", "建筑坍塌搜救", "rescue"),
    ("high_angle_rescue", "高空救援", "rescue"),
    ("lift_rescue", "电梯救援", "rescue"),
    ("boiler_pressure_vessel", "锅炉压力容器处置", "expert_field"),
    ("explosives_disposal", "爆炸物处置", "hazmat"),
    ("decontamination", "洗消", "hazmat"),
    ("environmental_monitoring", "环境监测", "support"),
    ("drainage_pumping", "排水", "engineering"),
    ("earthmoving", "土方工程/挖掘", "engineering"),
    ("slope_stabilization", "边坡加固/滑坡处置", "engineering"),
    ("communications_support", "应急通信保障", "support"),
    ("lighting_support", "应急照明保障", "support"),
    ("logistics_support", "后勤保障", "support"),
    ("forest_fire", "森林草原火灾扑救", "fire"),
    ("mine_ventilation", "矿井通风与排烟", "rescue"),
    ("mine_drainage", "矿井排水/透水处置", "engineering"),
    ("drilling_rescue", "钻孔救援", "engineering"),
    ("molten_metal_handling", "高温熔融金属处置", "expert_field"),
    ("ammonia_leak_control", "液氨泄漏处置", "hazmat"),
    ("dust_explosion", "粉尘爆炸防治", "expert_field"),
    ("coal_mine_safety", "煤矿安全技术", "expert_field"),
    ("chemical_process_safety", "化工工艺安全", "expert_field"),
    ("structural_assessment", "建筑结构安全评估", "expert_field"),
    ("special_equipment_inspection", "特种设备检验", "expert_field"),
    ("blasting_engineering", "爆破工程技术", "expert_field"),
    ("psychological_support", "心理援助", "medical"),
]
CAP_CODES = {c for c, _, _ in CAPABILITIES}

# --------------------------------------------------------------------------------------
# 7 (codes). Supply catalogue, GB/T 38565-2020 structure 1+2+2+2. The concrete codes are
# plausible demo codes (structure valid), not copied from the standard's code table.
# code: (name, spec, unit, shelf_life_years or None)
# --------------------------------------------------------------------------------------
SUPPLY_CATALOG = {
    "1010101": ("救灾单帐篷", "12㎡ 单层 含支架", "顶", None),
    "1010102": ("救灾棉帐篷", "36㎡ 棉衬 冬季型", "顶", None),
    "1010201": ("棉被", "2.0m×2.3m 3kg", "床", None),
    "1010202": ("毛毯", "1.5m×2.0m", "条", None),
    "1010301": ("折叠床", "1.9m×0.7m 钢架", "张", None),
    "1010401": ("棉大衣", "军绿色 均码", "件", None),
    "1020101": ("瓶装饮用水", "550ml×24瓶", "箱", 1),
    "1020102": ("压缩干粮", "90g×50袋", "箱", 2),
    "1020103": ("自热米饭", "350g×12盒", "箱", 1),
    "1030101": ("移动照明灯组", "4×500W LED 升降式", "套", None),
    "1030201": ("应急发电机(小型)", "5kW 汽油", "台", None),
    "2010101": ("正压式空气呼吸器", "6.8L 碳纤维气瓶 30MPa", "套", None),
    "2010102": ("空气呼吸器备用气瓶", "6.8L 30MPa", "个", None),
    "2010201": ("重型防化服", "一级 全封闭 气密型", "套", 5),
    "2010202": ("轻型防化服", "二级 液密型", "套", 5),
    "2010301": ("过滤式防毒面具", "全面罩 配综合滤毒罐", "个", 5),
    "2010302": ("滤毒罐", "综合型 3号", "个", 3),
    "2010401": ("消防员灭火防护服", "3C认证 四层结构", "套", None),
    "2010501": ("隔绝式压缩氧自救器", "ZYX45 45min", "台", 5),
    "2010502": ("正压氧气呼吸器", "HYZ4 4h", "台", None),
    "2020101": ("吸油毡", "PP 50cm×40cm 200片/箱", "箱", None),
    "2020102": ("吸附拦油索", "Φ20cm×3m", "根", None),
    "2020201": ("水成膜泡沫灭火剂", "AFFF 3% 200kg/桶", "桶", 8),
    "2020202": ("抗溶性泡沫灭火剂", "AR-AFFF 3% 200kg/桶", "桶", 8),
    "2020301": ("ABC干粉灭火剂", "25kg/袋", "吨", 5),
    "2030101": ("洗消剂", "通用型 25kg/桶", "桶", 3),
    "2030102": ("酸碱中和剂", "25kg/袋", "袋", 3),
    "2040101": ("急救包", "单兵 含止血带", "个", 3),
    "2040102": ("铲式担架", "铝合金 可分离", "副", None),
    "2040103": ("医用防护口罩", "N95 50只/盒", "盒", 3),
    "2050101": ("便携式四合一气体检测仪", "CH4/CO/O2/H2S", "台", None),
    "2060101": ("卫星电话", "天通一号 手持", "部", None),
    "2070101": ("堵漏工具组", "磁压式+捆绑式 含木楔", "套", None),
    "2070102": ("注入式堵漏枪", "手动 含密封胶", "套", None),
    "2080101": ("生命探测仪", "音视频 探杆3m", "台", None),
    "2990101": ("警戒带", "100m/卷 红白", "卷", None),
    "3010101": ("防汛编织袋", "55cm×90cm", "条", None),
    "3010201": ("脚手架钢管", "Φ48×3.5mm 6m", "吨", None),
    "3010202": ("工字钢", "I20a 9m", "吨", None),
    "3010301": ("钢丝绳", "Φ20mm 6×37", "米", None),
    "3020101": ("土工布", "300g/㎡", "平方米", None),
    "3030101": ("水泥", "P.O 42.5 袋装", "吨", 0.25),
    "3040101": ("潜水排污泵", "200m³/h 380V", "台", None),
}
for _c in SUPPLY_CATALOG:
    assert supply_code_error(_c) is None, _c

# --------------------------------------------------------------------------------------
# 2. Incident types: (code, name, industry, [(capability, qty, unit)], [(supply code, qty)])
# --------------------------------------------------------------------------------------
INDUSTRIES = [
    "road_traffic",
    "fire",
    "coal_mine",
    "non_coal_mine",
    "hazardous_chemicals",
    "metallurgy_trade",
    "construction",
    "urban_safety",
    "special_equipment",
    "civil_explosives",
    "oil_gas_pipeline",
    "power",
]
T, P, I = "team", "person", "item"  # noqa: E741 - short unit names keep the table below readable
INCIDENT_TYPES = [
    # road traffic
    (
        "road_multi_vehicle_entrapment",
        "道路多车相撞(人员被困)",
        "road_traffic",
        [
            ("road_rescue", 2, T),
            ("firefighting", 1, T),
            ("medical_first_aid", 2, T),
            ("heavy_lifting", 1, I),
            ("lighting_support", 1, T),
        ],
        [("2040101", 20), ("2990101", 5)],
    ),
    (
        "road_hazmat_tanker_leak",
        "危化品运输车辆泄漏",
        "road_traffic",
        [
            ("hazmat_leak_control", 2, T),
            ("gas_detection", 2, I),
            ("decontamination", 1, T),
            ("road_rescue", 1, T),
            ("medical_first_aid", 1, T),
            ("environmental_monitoring", 1, T),
            ("chemical_process_safety", 1, P),
        ],
        [("2010201", 8), ("2020101", 10), ("2030101", 10), ("2070101", 2)],
    ),
    (
        "road_bus_rollover",
        "客车侧翻/坠沟",
        "road_traffic",
        [("road_rescue", 1, T), ("medical_first_aid", 3, T), ("heavy_lifting", 1, I), ("psychological_support", 2, P)],
        [("2040101", 50), ("2040102", 10), ("1010202", 60)],
    ),
    (
        "tunnel_fire",
        "公路隧道车辆火灾",
        "road_traffic",
        [
            ("firefighting", 2, T),
            ("road_rescue", 1, T),
            ("medical_first_aid", 1, T),
            ("lighting_support", 1, T),
            ("communications_support", 1, T),
        ],
        [("2010102", 20)],
    ),
    # fire
    (
        "high_rise_fire",
        "高层建筑火灾",
        "fire",
        [("firefighting", 3, T), ("high_angle_rescue", 1, T), ("medical_first_aid", 2, T), ("communications_support", 1, T)],
        [("2010102", 30), ("2040101", 30)],
    ),
    (
        "crowded_venue_fire",
        "人员密集场所火灾",
        "fire",
        [("firefighting", 2, T), ("medical_first_aid", 3, T), ("psychological_support", 2, P), ("logistics_support", 1, T)],
        [("2040101", 50), ("1010202", 100)],
    ),
    (
        "warehouse_fire",
        "仓储物流场所火灾",
        "fire",
        [("firefighting", 2, T), ("earthmoving", 1, I), ("environmental_monitoring", 1, T)],
        [("2020201", 10)],
    ),
    (
        "forest_grassland_fire",
        "森林草原火灾(贺兰山/六盘山)",
        "fire",
        [("forest_fire", 2, T), ("communications_support", 1, T), ("logistics_support", 1, T), ("medical_first_aid", 1, T)],
        [("1020101", 100), ("1020102", 50)],
    ),
    # coal mines
    (
        "coal_gas_explosion",
        "煤矿瓦斯爆炸",
        "coal_mine",
        [
            ("mine_rescue", 3, T),
            ("mine_ventilation", 1, T),
            ("gas_detection", 4, I),
            ("medical_first_aid", 2, T),
            ("coal_mine_safety", 2, P),
        ],
        [("2010501", 200), ("2050101", 20)],
    ),
    (
        "coal_water_inrush",
        "煤矿透水",
        "coal_mine",
        [
            ("mine_rescue", 2, T),
            ("mine_drainage", 2, T),
            ("drilling_rescue", 1, T),
            ("power_restoration", 1, T),
            ("coal_mine_safety", 1, P),
        ],
        [("3040101", 10), ("2010501", 100)],
    ),
    (
        "coal_roof_fall",
        "煤矿冒顶片帮",
        "coal_mine",
        [("mine_rescue", 2, T), ("structural_collapse_rescue", 1, T), ("medical_first_aid", 1, T), ("coal_mine_safety", 1, P)],
        [("2080101", 2)],
    ),
    (
        "coal_mine_fire",
        "煤矿井下火灾/煤层自燃",
        "coal_mine",
        [("mine_rescue", 3, T), ("mine_ventilation", 1, T), ("gas_detection", 4, I), ("firefighting", 1, T)],
        [("2010502", 20), ("2010501", 200)],
    ),
    (
        "open_pit_slope_failure",
        "露天煤矿边坡垮塌",
        "coal_mine",
        [("mine_rescue", 1, T), ("slope_stabilization", 1, T), ("earthmoving", 4, I), ("structural_assessment", 1, P)],
        [],
    ),
    # non-coal mines
    (
        "noncoal_goaf_collapse",
        "非煤矿山采空区坍塌",
        "non_coal_mine",
        [("mine_rescue", 2, T), ("drilling_rescue", 1, T), ("earthmoving", 2, I), ("structural_assessment", 1, P)],
        [("2080101", 2)],
    ),
    (
        "noncoal_poisoning",
        "非煤矿山中毒窒息",
        "non_coal_mine",
        [("mine_rescue", 1, T), ("gas_detection", 2, I), ("gas_protection", 1, T), ("medical_first_aid", 1, T)],
        [("2010101", 6)],
    ),
    (
        "quarry_blasting_accident",
        "露天采石场爆破事故",
        "non_coal_mine",
        [("explosives_disposal", 1, T), ("medical_first_aid", 1, T), ("blasting_engineering", 1, P)],
        [],
    ),
    (
        "oil_well_blowout",
        "油气井井喷失控",
        "non_coal_mine",
        [("firefighting", 2, T), ("gas_detection", 3, I), ("hazmat_leak_control", 1, T), ("environmental_monitoring", 1, T)],
        [("2020201", 20)],
    ),
    # hazardous chemicals
    (
        "chem_toxic_gas_leak",
        "有毒有害气体泄漏(氯气/硫化氢/氨)",
        "hazardous_chemicals",
        [
            ("hazmat_leak_control", 2, T),
            ("gas_protection", 1, T),
            ("gas_detection", 4, I),
            ("decontamination", 1, T),
            ("environmental_monitoring", 1, T),
            ("medical_first_aid", 2, T),
            ("chemical_process_safety", 1, P),
        ],
        [("2010201", 10), ("2010101", 20), ("2030101", 20)],
    ),
    (
        "chem_tank_fire",
        "储罐区火灾",
        "hazardous_chemicals",
        [("chemical_fire", 3, T), ("firefighting", 2, T), ("environmental_monitoring", 1, T), ("chemical_process_safety", 1, P)],
        [("2020201", 40), ("2020202", 20)],
    ),
    (
        "chem_unit_explosion",
        "化工装置爆炸",
        "hazardous_chemicals",
        [
            ("chemical_fire", 2, T),
            ("structural_collapse_rescue", 1, T),
            ("hazmat_leak_control", 1, T),
            ("medical_first_aid", 3, T),
            ("chemical_process_safety", 2, P),
        ],
        [("2040101", 50), ("2080101", 2)],
    ),
    (
        "coal_chemical_syngas_leak",
        "煤化工合成气/CO泄漏",
        "hazardous_chemicals",
        [("gas_protection", 1, T), ("gas_detection", 4, I), ("hazmat_leak_control", 1, T), ("medical_first_aid", 1, T)],
        [("2010101", 10)],
    ),
    # metallurgy & industry/trade
    (
        "molten_metal_spill",
        "高温熔融金属泄漏/喷溅",
        "metallurgy_trade",
        [("firefighting", 1, T), ("molten_metal_handling", 1, P), ("medical_first_aid", 2, T)],
        [("2040101", 20), ("2020301", 2)],
    ),
    (
        "blast_furnace_gas_poisoning",
        "煤气中毒(高炉/矿热炉煤气)",
        "metallurgy_trade",
        [("gas_protection", 1, T), ("gas_detection", 2, I), ("medical_first_aid", 1, T)],
        [("2010101", 6)],
    ),
    (
        "ammonia_refrigeration_leak",
        "涉氨制冷液氨泄漏",
        "metallurgy_trade",
        [
            ("ammonia_leak_control", 1, T),
            ("hazmat_leak_control", 1, T),
            ("gas_detection", 2, I),
            ("decontamination", 1, T),
            ("medical_first_aid", 1, T),
        ],
        [("2010201", 6), ("2030102", 20)],
    ),
    (
        "combustible_dust_explosion",
        "可燃粉尘爆炸",
        "metallurgy_trade",
        [("firefighting", 2, T), ("structural_collapse_rescue", 1, T), ("medical_first_aid", 2, T), ("dust_explosion", 1, P)],
        [("2040101", 30)],
    ),
    (
        "confined_space_asphyxiation",
        "有限空间中毒窒息",
        "metallurgy_trade",
        [("confined_space_rescue", 1, T), ("gas_detection", 1, I), ("medical_first_aid", 1, T)],
        [("2010101", 4)],
    ),
    # construction
    (
        "formwork_scaffold_collapse",
        "模板支撑/脚手架坍塌",
        "construction",
        [
            ("structural_collapse_rescue", 2, T),
            ("heavy_lifting", 1, I),
            ("medical_first_aid", 2, T),
            ("structural_assessment", 1, P),
        ],
        [("2080101", 2), ("3010201", 5)],
    ),
    (
        "excavation_collapse",
        "深基坑坍塌",
        "construction",
        [("structural_collapse_rescue", 1, T), ("earthmoving", 2, I), ("slope_stabilization", 1, T), ("drainage_pumping", 1, T)],
        [("3010101", 2000), ("3010201", 10)],
    ),
    (
        "tower_crane_collapse",
        "建筑塔吊倒塌",
        "construction",
        [
            ("heavy_lifting", 2, I),
            ("structural_collapse_rescue", 1, T),
            ("medical_first_aid", 1, T),
            ("special_equipment_inspection", 1, P),
        ],
        [],
    ),
    # urban safety
    (
        "curtain_wall_glass_fall",
        "玻璃幕墙坠落",
        "urban_safety",
        [("high_angle_rescue", 1, T), ("medical_first_aid", 1, T), ("structural_assessment", 1, P)],
        [("2990101", 10)],
    ),
    (
        "city_gas_explosion",
        "城镇燃气泄漏爆炸",
        "urban_safety",
        [
            ("gas_pipeline_repair", 1, T),
            ("firefighting", 2, T),
            ("structural_collapse_rescue", 1, T),
            ("gas_detection", 3, I),
            ("medical_first_aid", 2, T),
        ],
        [("1010101", 20), ("1010201", 100)],
    ),
    (
        "underground_pipe_burst_subsidence",
        "地下管网破裂/路面塌陷",
        "urban_safety",
        [("pipeline_repair", 1, T), ("drainage_pumping", 1, T), ("earthmoving", 2, I), ("road_rescue", 1, T)],
        [("3040101", 4), ("3010101", 500)],
    ),
    # special equipment
    (
        "boiler_explosion",
        "锅炉爆炸",
        "special_equipment",
        [
            ("boiler_pressure_vessel", 1, P),
            ("firefighting", 1, T),
            ("structural_collapse_rescue", 1, T),
            ("medical_first_aid", 2, T),
        ],
        [("2040101", 20)],
    ),
    ("lift_entrapment", "电梯困人", "special_equipment", [("lift_rescue", 1, T)], []),
    (
        "crane_overturn",
        "起重机械倾覆",
        "special_equipment",
        [
            ("heavy_lifting", 1, I),
            ("structural_collapse_rescue", 1, T),
            ("medical_first_aid", 1, T),
            ("special_equipment_inspection", 1, P),
        ],
        [],
    ),
    (
        "pressure_vessel_leak",
        "压力容器/气瓶泄漏",
        "special_equipment",
        [("boiler_pressure_vessel", 1, P), ("hazmat_leak_control", 1, T), ("gas_detection", 2, I)],
        [("2070101", 1)],
    ),
    # civil explosives
    (
        "explosives_plant_explosion",
        "民爆生产企业爆炸",
        "civil_explosives",
        [("explosives_disposal", 1, T), ("firefighting", 2, T), ("medical_first_aid", 2, T), ("blasting_engineering", 1, P)],
        [("2040101", 30)],
    ),
    (
        "explosives_transport_accident",
        "民爆物品运输车辆事故",
        "civil_explosives",
        [("explosives_disposal", 1, T), ("road_rescue", 1, T), ("firefighting", 1, T)],
        [("2990101", 10)],
    ),
    (
        "unexploded_charge",
        "盲炮/残留炸药处置",
        "civil_explosives",
        [("explosives_disposal", 1, T), ("blasting_engineering", 1, P)],
        [],
    ),
    # oil & gas pipelines
    (
        "gas_trunkline_rupture",
        "天然气长输管道破裂泄漏",
        "oil_gas_pipeline",
        [
            ("pipeline_repair", 1, T),
            ("gas_detection", 3, I),
            ("firefighting", 2, T),
            ("heavy_lifting", 1, I),
            ("environmental_monitoring", 1, T),
        ],
        [("2070102", 2)],
    ),
    (
        "oil_pipeline_leak_fire",
        "输油管道泄漏着火",
        "oil_gas_pipeline",
        [("pipeline_repair", 1, T), ("chemical_fire", 2, T), ("environmental_monitoring", 1, T), ("earthmoving", 1, I)],
        [("2020201", 20), ("2020101", 20), ("2020102", 50)],
    ),
    (
        "pipeline_third_party_damage",
        "第三方施工挖断管道",
        "oil_gas_pipeline",
        [("pipeline_repair", 1, T), ("gas_pipeline_repair", 1, T), ("gas_detection", 2, I)],
        [],
    ),
    # power
    ("substation_fire", "变电站火灾", "power", [("firefighting", 1, T), ("power_restoration", 1, T)], [("2020301", 2)]),
    (
        "large_area_blackout",
        "大面积停电",
        "power",
        [("power_restoration", 3, T), ("lighting_support", 2, T), ("communications_support", 1, T), ("logistics_support", 1, T)],
        [("1030201", 20), ("1030101", 10)],
    ),
    (
        "transmission_tower_collapse",
        "输电铁塔倒塌",
        "power",
        [("power_restoration", 2, T), ("heavy_lifting", 1, I), ("high_angle_rescue", 1, T)],
        [],
    ),
]

# --------------------------------------------------------------------------------------
# 3. Enterprises (key, name, industry, county, place, lat, lon | None = near county centre)
# Real names only for well-known organisations; all codes/addresses are invented.
# --------------------------------------------------------------------------------------
ENTERPRISES = [
    # demo accounts
    ("ningxia_petrochem", "中国石油宁夏石化公司", "hazardous_chemicals", "西夏区", "贺兰山西路宁夏石化厂区", 38.56, 106.13),
    ("ningxia_coal", "国家能源集团宁夏煤业有限责任公司", "coal_mine", "灵武市", "宁东镇宁东能源化工基地", 38.06, 106.58),
    # hazardous chemicals
    ("baofeng_energy", "宁夏宝丰能源集团股份有限公司", "hazardous_chemicals", "灵武市", "宁东镇宁东煤化工园区", 38.05, 106.55),
    ("yinglite_chem", "宁夏英力特化工股份有限公司", "hazardous_chemicals", "惠农区", "红果子镇惠农工业园区", 39.27, 106.78),
    ("tianyuan_petrochem", "宁夏天源石化有限责任公司", "hazardous_chemicals", "红寺堡区", "太阳山镇太阳山开发区", 37.56, 106.57),
    ("huayu_chem", "宁夏华御化工有限公司", "hazardous_chemicals", "沙坡头区", "镇罗镇中卫工业园区", 37.55, 105.08),
    ("ziguang_chem", "宁夏紫光天化蛋氨酸有限责任公司", "hazardous_chemicals", "沙坡头区", "镇罗镇中卫工业园区", 37.56, 105.06),
    ("yuguang_energy", "宁夏宇光能源实业有限公司", "hazardous_chemicals", "沙坡头区", "迎水桥镇中卫工业园区", 37.54, 105.10),
    ("pingluo_finechem", "宁夏太沙精细化工有限公司", "hazardous_chemicals", "平罗县", "平罗工业园区(太沙)", 38.95, 106.62),
    # coal / non-coal mines
    ("wangwa_coal", "宁夏王洼煤业有限公司", "coal_mine", "彭阳县", "王洼镇王洼煤矿", 36.18, 106.62),
    ("taixi_anthracite", "宁夏汝箕沟太西煤业有限公司", "coal_mine", "平罗县", "崇岗镇汝箕沟矿区", 38.96, 106.02),
    ("changqing_yanchi", "长庆油田盐池采油作业区", "non_coal_mine", "盐池县", "大水坑镇", 37.48, 107.02),
    ("qtx_cement", "宁夏青铜峡水泥股份有限公司", "non_coal_mine", "青铜峡市", "峡口镇石灰石矿区", 37.90, 105.95),
    ("xiji_gypsum", "西吉县兴隆石膏矿业有限公司", "non_coal_mine", "西吉县", "兴隆镇", None, None),
    ("longde_quarry", "隆德县六盘石料开采有限公司", "non_coal_mine", "隆德县", "沙塘镇", None, None),
    # metallurgy & industry/trade
    ("chalco_qingtongxia", "青铜峡铝业股份有限公司", "metallurgy_trade", "青铜峡市", "青铜峡工业园区", 37.93, 105.98),
    ("tianyuan_manganese", "宁夏天元锰业集团有限公司", "metallurgy_trade", "中宁县", "新堡镇中宁工业园区", 37.45, 105.72),
    ("ningxia_steel", "宁夏钢铁(集团)有限责任公司", "metallurgy_trade", "沙坡头区", "镇罗镇中卫工业园区", 37.55, 105.09),
    ("huinong_ferroalloy", "石嘴山市宏达硅铁有限公司", "metallurgy_trade", "惠农区", "河滨工业园区", 39.22, 106.74),
    ("wuzhong_coldchain", "吴忠市塞上乳品冷链物流有限公司", "metallurgy_trade", "利通区", "金积镇金积工业园区", None, None),
    ("yongning_flour", "宁夏永宁面粉加工有限公司", "metallurgy_trade", "永宁县", "望远镇望远工业园区", None, None),
    # power
    ("sgcc_ningxia", "国网宁夏电力有限公司", "power", "金凤区", "北京中路", 38.47, 106.25),
    ("huaneng_daba", "华能宁夏大坝发电有限责任公司", "power", "青铜峡市", "大坝镇", 37.99, 105.98),
    ("huadian_lingwu", "华电宁夏灵武发电有限公司", "power", "灵武市", "临河镇", 38.17, 106.42),
    ("zhongwei_thermal", "中卫热电有限公司", "power", "沙坡头区", "迎水桥镇", 37.50, 105.12),
    # oil & gas pipelines
    ("wepec_yinchuan", "国家管网集团西气东输银川输气分公司", "oil_gas_pipeline", "金凤区", "宁安大街", 38.47, 106.27),
    # urban safety (city gas, curtain walls)
    ("yinchuan_gas", "银川塞上燃气有限公司", "urban_safety", "兴庆区", "大新镇", None, None),
    ("wuzhong_gas", "吴忠市凯安燃气有限公司", "urban_safety", "利通区", "古城镇", None, None),
    ("guyuan_gas", "固原六盘燃气有限公司", "urban_safety", "原州区", "南关街道", None, None),
    ("yuehaiwan_property", "银川阅海湾商务区物业管理有限公司", "urban_safety", "金凤区", "亲水大街", None, None),
    # special equipment
    ("jieneng_elevator", "宁夏杰能电梯有限公司", "special_equipment", "沙坡头区", "文昌镇", None, None),
    ("tianji_elevator", "宁夏中卫市天际电梯工程有限公司", "special_equipment", "沙坡头区", "滨河镇", None, None),
    ("shengqilin_crane", "宁夏圣麒麟起重有限公司", "special_equipment", "沙坡头区", "迎水桥镇", None, None),
    ("tongda_elevator", "宁夏通达电梯维保有限公司", "special_equipment", "兴庆区", "丽景街", None, None),
    ("saibei_heating", "宁夏塞北供热有限公司", "special_equipment", "贺兰县", "习岗镇", None, None),
    # construction
    ("ningxia_construction", "宁夏建工集团有限公司", "construction", "金凤区", "宁安大街", None, None),
    ("shuofang_construction", "宁夏朔方建设工程有限公司", "construction", "原州区", "开城镇", None, None),
    # civil explosives
    ("helanshan_explosives", "宁夏贺兰山民爆器材有限公司", "civil_explosives", "大武口区", "星海镇", 39.06, 106.30),
    ("xibu_blasting", "宁夏西部爆破工程有限公司", "civil_explosives", "同心县", "河西镇", None, None),
    # road traffic
    ("ningxia_transport_invest", "宁夏交通投资集团有限公司", "road_traffic", "金凤区", "北京中路", None, None),
    ("guyuan_bus", "固原市六盘山客运有限公司", "road_traffic", "原州区", "南关街道", None, None),
    ("zhongwei_logistics", "中卫市沙坡头危货运输有限公司", "road_traffic", "沙坡头区", "迎水桥镇", None, None),
    # fire (crowded venues)
    ("xinhua_department", "银川新华百货商店股份有限公司", "fire", "兴庆区", "解放东街", None, None),
    ("haiyuan_mall", "海原县民和商贸综合体有限公司", "fire", "海原县", "海城镇", None, None),
]

# Well-known real organisations (name real; credit code, address, people invented).
REAL_ENTERPRISES = {
    "ningxia_petrochem",
    "ningxia_coal",
    "baofeng_energy",
    "yinglite_chem",
    "tianyuan_petrochem",
    "huayu_chem",
    "ziguang_chem",
    "yuguang_energy",
    "wangwa_coal",
    "qtx_cement",
    "chalco_qingtongxia",
    "tianyuan_manganese",
    "ningxia_steel",
    "sgcc_ningxia",
    "huaneng_daba",
    "huadian_lingwu",
    "wepec_yinchuan",
    "jieneng_elevator",
    "tianji_elevator",
    "ningxia_construction",
    "ningxia_transport_invest",
    "xinhua_department",
}
ENTERPRISE_NOTE_REAL = "企业名称为公开信息 (verified: false, 位置未核实); 信用代码、地址、联系人为演示数据"
ENTERPRISE_NOTE_DEMO = "虚构企业, 全部字段为演示数据"

# --------------------------------------------------------------------------------------
# 4. Depots (key, name, level, enterprise, county, place, lat, lon | None)
# --------------------------------------------------------------------------------------
DEPOTS = [
    ("nx_central_relief_yinchuan", "中央救灾物资银川代储点", "national", None, "兴庆区", "掌政镇物流园", None, None),
    ("nx_prov_reserve", "宁夏回族自治区应急物资储备库", "provincial", None, "兴庆区", "大新镇", None, None),
    ("nx_prov_reserve_guyuan", "自治区应急物资储备库固原分库", "provincial", None, "原州区", "官厅镇", None, None),
    ("nx_prov_reserve_zhongwei", "自治区应急物资储备库中卫分库", "provincial", None, "沙坡头区", "迎水桥镇", None, None),
    ("nx_redcross_center", "宁夏红十字会备灾救灾中心", "provincial", None, "金凤区", "良田镇", None, None),
    ("yinchuan_city_depot", "银川市应急物资储备库", "city", None, "西夏区", "兴泾镇", None, None),
    ("shizuishan_city_depot", "石嘴山市应急物资储备库", "city", None, "大武口区", "长胜街道", None, None),
    ("wuzhong_city_depot", "吴忠市应急物资储备库", "city", None, "利通区", "上桥镇", None, None),
    ("guyuan_city_depot", "固原市应急物资储备库", "city", None, "原州区", "南关街道", None, None),
    ("zhongwei_city_depot", "中卫市应急物资储备库", "city", None, "沙坡头区", "文昌镇", None, None),
    ("lingwu_county_depot", "灵武市应急物资储备库", "county", None, "灵武市", "东塔镇", None, None),
    ("pingluo_county_depot", "平罗县应急物资储备库", "county", None, "平罗县", "城关镇", None, None),
    ("huinong_county_depot", "惠农区应急物资储备库", "county", None, "惠农区", "河滨街道", None, None),
    ("yanchi_county_depot", "盐池县应急物资储备库", "county", None, "盐池县", "花马池镇", None, None),
    ("tongxin_county_depot", "同心县应急物资储备库", "county", None, "同心县", "豫海镇", None, None),
    ("xiji_county_depot", "西吉县应急物资储备库", "county", None, "西吉县", "吉强镇", None, None),
    ("jingyuan_county_depot", "泾源县应急物资储备库", "county", None, "泾源县", "香水镇", None, None),
    ("haiyuan_county_depot", "海原县应急物资储备库", "county", None, "海原县", "海城镇", None, None),
    ("petrochem_depot", "宁夏石化公司应急物资库", "enterprise", "ningxia_petrochem", "西夏区", "宁夏石化厂区", 38.555, 106.14),
    ("ningxia_coal_depot", "宁夏煤业宁东救援装备物资库", "enterprise", "ningxia_coal", "灵武市", "宁东镇", 38.07, 106.59),
    ("baofeng_depot", "宝丰能源宁东园区应急物资库", "enterprise", "baofeng_energy", "灵武市", "宁东煤化工园区", 38.045, 106.56),
    ("yinglite_depot", "英力特化工应急物资库", "enterprise", "yinglite_chem", "惠农区", "惠农工业园区", 39.265, 106.785),
    ("sgcc_depot", "国网宁夏电力应急物资库", "enterprise", "sgcc_ningxia", "永宁县", "望远镇", None, None),
    ("wepec_depot", "西气东输银川输气分公司抢修物资库", "enterprise", "wepec_yinchuan", "沙坡头区", "迎水桥镇", 37.53, 105.13),
]

# --------------------------------------------------------------------------------------
# 5. Teams
# --------------------------------------------------------------------------------------
TEAMS: list[dict] = []


def team(
    key,
    name,
    level,
    team_type,
    caps,
    county,
    place,
    ent=None,
    latlon=None,
    headcount=30,
    vehicles=5,
    grade=None,
    turnout=5,
    duty=True,
    backbone=False,
    verified=False,
    status="available",
):
    TEAMS.append(
        dict(
            key=key,
            name=name,
            level=level,
            team_type=team_type,
            capabilities=caps,
            enterprise=ent,
            county=county,
            place=place,
            latlon=latlon,
            headcount=headcount,
            vehicles=vehicles,
            mine_rescue_grade=grade,
            turnout_min=turnout,
            duty_24h=duty,
            backbone=backbone,
            verified=verified,
            status=status,
        )
    )


FIRE_CAPS = [
    "firefighting",
    "structural_collapse_rescue",
    "high_angle_rescue",
    "road_rescue",
    "lift_rescue",
    "confined_space_rescue",
]
HAZMAT_CAPS = [
    "firefighting",
    "chemical_fire",
    "hazmat_leak_control",
    "gas_detection",
    "gas_protection",
    "decontamination",
    "confined_space_rescue",
]
MINE_CAPS = ["mine_rescue", "mine_ventilation", "gas_detection", "gas_protection", "medical_first_aid", "confined_space_rescue"]

# --- 8 backbone enterprise teams (2017 guidance §22). Two named in the policy (verified);
#     the other six are plausible choices by industry (unverified).
team(
    "petrochem_rescue",
    "中石油宁夏石化公司救援队",
    "enterprise",
    "enterprise_fire",
    HAZMAT_CAPS + ["medical_first_aid"],
    "西夏区",
    "宁夏石化厂区消防站",
    ent="ningxia_petrochem",
    latlon=(38.56, 106.13),
    headcount=136,
    vehicles=19,
    turnout=2,
    backbone=True,
    verified=True,
)
team(
    "ningxia_coal_rescue",
    "神华宁煤集团应急救援队",
    "national",
    "mine_rescue",
    MINE_CAPS + ["mine_drainage", "firefighting", "chemical_fire", "structural_collapse_rescue", "slope_stabilization"],
    "灵武市",
    "宁东镇(救护消防大队)",
    ent="ningxia_coal",
    latlon=(38.06, 106.58),
    headcount=420,
    vehicles=48,
    grade="special",
    turnout=1,
    backbone=True,
    verified=True,
)
team(
    "baofeng_hazmat",
    "宁夏宝丰能源宁东园区危化品专职消防救援队",
    "enterprise",
    "hazmat",
    HAZMAT_CAPS,
    "灵武市",
    "宁东煤化工园区",
    ent="baofeng_energy",
    latlon=(38.05, 106.55),
    headcount=86,
    vehicles=12,
    turnout=2,
    backbone=True,
)
team(
    "sgcc_nx_core",
    "国网宁夏电力应急救援基干队",
    "enterprise",
    "power",
    ["power_restoration", "lighting_support", "communications_support", "high_angle_rescue", "logistics_support"],
    "金凤区",
    "北京中路国网宁夏电力",
    ent="sgcc_ningxia",
    latlon=(38.47, 106.25),
    headcount=60,
    vehicles=14,
    turnout=30,
    backbone=True,
)
team(
    "wepec_yinchuan_repair",
    "西气东输银川输气分公司维抢修队",
    "enterprise",
    "pipeline",
    ["pipeline_repair", "gas_detection", "heavy_lifting", "earthmoving"],
    "金凤区",
    "宁安大街维抢修中心",
    ent="wepec_yinchuan",
    latlon=(38.47, 106.27),
    headcount=45,
    vehicles=11,
    turnout=20,
    backbone=True,
)
team(
    "yinglite_fire",
    "宁夏英力特化工专职消防队",
    "enterprise",
    "enterprise_fire",
    HAZMAT_CAPS,
    "惠农区",
    "惠农工业园区",
    ent="yinglite_chem",
    latlon=(39.27, 106.78),
    headcount=58,
    vehicles=8,
    turnout=2,
    backbone=True,
)
team(
    "chalco_qtx_rescue",
    "中铝宁夏能源(青铜峡铝业)应急救援队",
    "enterprise",
    "enterprise_fire",
    [
        "firefighting",
        "molten_metal_handling",
        "gas_detection",
        "gas_protection",
        "confined_space_rescue",
        "medical_first_aid",
        "heavy_lifting",
    ],
    "青铜峡市",
    "青铜峡工业园区",
    ent="chalco_qingtongxia",
    latlon=(37.93, 105.98),
    headcount=64,
    vehicles=9,
    turnout=3,
    backbone=True,
)
team(
    "nx_expressway_rescue",
    "宁夏交通(高速公路)应急抢险救援队",
    "enterprise",
    "road",
    ["road_rescue", "heavy_lifting", "lighting_support", "earthmoving", "communications_support"],
    "永宁县",
    "望远镇(G6京藏高速养护基地)",
    ent="ningxia_transport_invest",
    latlon=(38.36, 106.24),
    headcount=72,
    vehicles=22,
    turnout=10,
    backbone=True,
)

# --- County fire and rescue brigades (one per county-level unit) — state teams, names follow
#     the usual pattern but are not individually confirmed.
for cty, (pref, slug, _la, _lo, _t) in COUNTIES.items():
    prefix = "" if cty.endswith(("市", "县")) else pref  # counties and county-level cities stand alone
    caps = list(FIRE_CAPS)
    if cty in ("沙坡头区", "中宁县", "青铜峡市", "利通区", "兴庆区", "平罗县", "惠农区", "灵武市", "永宁县", "贺兰县"):
        caps.append("water_rescue")  # along the Yellow River
    if cty in ("泾源县", "隆德县", "西夏区", "原州区"):
        caps.append("forest_fire")
    team(
        f"fire_{slug}",
        f"{prefix}{cty}消防救援大队",
        "county",
        "professional_fire",
        caps,
        cty,
        f"{town(cty)}消防救援站",
        headcount=RNG.randint(25, 60),
        vehicles=RNG.randint(4, 10),
        turnout=1,
    )

# --- Provincial / city special fire units
team(
    "nx_fire_special",
    "宁夏消防救援总队特勤支队",
    "provincial",
    "professional_fire",
    HAZMAT_CAPS + ["structural_collapse_rescue", "high_angle_rescue", "water_rescue"],
    "金凤区",
    "亲水大街特勤站",
    headcount=160,
    vehicles=28,
    turnout=1,
)
team(
    "ningdong_fire",
    "宁东能源化工基地消防救援支队",
    "city",
    "hazmat",
    HAZMAT_CAPS,
    "灵武市",
    "宁东镇",
    latlon=(38.10, 106.61),
    headcount=120,
    vehicles=20,
    turnout=1,
)

# --- Mine rescue squads
team(
    "ningxia_coal_shitanjing",
    "神华宁煤救护消防大队石炭井中队",
    "enterprise",
    "mine_rescue",
    MINE_CAPS,
    "大武口区",
    "石炭井街道",
    ent="ningxia_coal",
    latlon=(39.18, 106.38),
    headcount=42,
    vehicles=6,
    grade="grade1",
    turnout=1,
)
team(
    "ningxia_coal_rujigou",
    "神华宁煤救护消防大队汝箕沟中队",
    "enterprise",
    "mine_rescue",
    MINE_CAPS,
    "平罗县",
    "汝箕沟矿区",
    ent="ningxia_coal",
    latlon=(38.96, 106.02),
    headcount=36,
    vehicles=5,
    grade="grade2",
    turnout=1,
)
team(
    "ningxia_coal_yuanyanghu",
    "神华宁煤救护消防大队鸳鸯湖中队",
    "enterprise",
    "mine_rescue",
    MINE_CAPS + ["mine_drainage"],
    "灵武市",
    "鸳鸯湖矿区(梅花井)",
    ent="ningxia_coal",
    latlon=(37.95, 106.72),
    headcount=48,
    vehicles=7,
    grade="grade1",
    turnout=1,
)
team(
    "ningxia_coal_weizhou",
    "神华宁煤救护消防大队韦州中队",
    "enterprise",
    "mine_rescue",
    MINE_CAPS,
    "同心县",
    "韦州镇韦州矿区",
    ent="ningxia_coal",
    latlon=(37.27, 106.48),
    headcount=30,
    vehicles=4,
    grade="grade2",
    turnout=1,
    status="committed",
)
team(
    "wangwa_mine_rescue",
    "宁夏王洼煤业矿山救护队",
    "enterprise",
    "mine_rescue",
    MINE_CAPS,
    "彭阳县",
    "王洼镇",
    ent="wangwa_coal",
    latlon=(36.18, 106.62),
    headcount=38,
    vehicles=5,
    grade="grade2",
    turnout=1,
)
team(
    "shizuishan_mine_rescue",
    "石嘴山市矿山救护队",
    "city",
    "mine_rescue",
    MINE_CAPS + ["mine_drainage"],
    "大武口区",
    "长胜街道",
    headcount=34,
    vehicles=5,
    grade="grade3",
    turnout=2,
)
team(
    "coalfield_geology_drilling",
    "宁夏煤田地质局钻探救援队",
    "provincial",
    "drilling",
    ["drilling_rescue", "mine_drainage", "earthmoving"],
    "金凤区",
    "良田镇",
    headcount=40,
    vehicles=12,
    turnout=60,
    duty=False,
)

# --- Medical (120 emergency centres and hospital teams)
for key, name, cty, hc in [
    ("yinchuan_120", "银川市急救中心(120)", "金凤区", 180),
    ("shizuishan_120", "石嘴山市急救中心(120)", "大武口区", 90),
    ("wuzhong_120", "吴忠市急救中心(120)", "利通区", 85),
    ("guyuan_120", "固原市急救中心(120)", "原州区", 80),
    ("zhongwei_120", "中卫市急救中心(120)", "沙坡头区", 75),
]:
    team(
        key,
        name,
        "city",
        "medical",
        ["medical_first_aid", "psychological_support"],
        cty,
        f"{town(cty)}急救中心",
        headcount=hc,
        vehicles=hc // 6,
        turnout=3,
    )
team(
    "nxmu_general_emergency",
    "宁夏医科大学总医院紧急医学救援队",
    "provincial",
    "medical",
    ["medical_first_aid", "psychological_support", "logistics_support"],
    "兴庆区",
    "胜利街",
    headcount=65,
    vehicles=8,
    turnout=30,
)
team(
    "haiyuan_hospital_team",
    "海原县人民医院应急医疗队",
    "county",
    "medical",
    ["medical_first_aid"],
    "海原县",
    "海城镇",
    headcount=24,
    vehicles=4,
    turnout=10,
)

# --- Power (State Grid city companies)
for key, name, cty in [
    ("sgcc_yinchuan", "国网银川供电公司应急抢修队", "兴庆区"),
    ("sgcc_shizuishan", "国网石嘴山供电公司应急抢修队", "大武口区"),
    ("sgcc_wuzhong", "国网吴忠供电公司应急抢修队", "利通区"),
    ("sgcc_guyuan", "国网固原供电公司应急抢修队", "原州区"),
    ("sgcc_zhongwei", "国网中卫供电公司应急抢修队", "沙坡头区"),
]:
    team(
        key,
        name,
        "enterprise",
        "power",
        ["power_restoration", "lighting_support", "high_angle_rescue"],
        cty,
        f"{town(cty, 1)}供电服务中心",
        ent="sgcc_ningxia",
        headcount=RNG.randint(30, 55),
        vehicles=RNG.randint(6, 12),
        turnout=20,
    )

# --- City gas
team(
    "yinchuan_gas_repair",
    "银川塞上燃气抢修队",
    "enterprise",
    "gas",
    ["gas_pipeline_repair", "gas_detection"],
    "兴庆区",
    "大新镇燃气抢修中心",
    ent="yinchuan_gas",
    headcount=36,
    vehicles=8,
    turnout=10,
)
team(
    "wuzhong_gas_repair",
    "吴忠市凯安燃气抢修队",
    "enterprise",
    "gas",
    ["gas_pipeline_repair", "gas_detection"],
    "利通区",
    "古城镇",
    ent="wuzhong_gas",
    headcount=18,
    vehicles=4,
    turnout=10,
)
team(
    "guyuan_gas_repair",
    "固原六盘燃气抢修队",
    "enterprise",
    "gas",
    ["gas_pipeline_repair", "gas_detection"],
    "原州区",
    "南关街道",
    ent="guyuan_gas",
    headcount=16,
    vehicles=4,
    turnout=15,
)

# --- Road rescue
team(
    "guyuan_liupanshan_tunnel",
    "宁夏交投固原养护中心六盘山隧道应急队",
    "enterprise",
    "road",
    ["road_rescue", "firefighting", "lighting_support"],
    "泾源县",
    "六盘山镇(G22青兰高速)",
    ent="ningxia_transport_invest",
    latlon=(35.60, 106.22),
    headcount=22,
    vehicles=6,
    turnout=5,
)
team(
    "yanchi_road_rescue",
    "盐池县G20青银高速清障救援队",
    "enterprise",
    "road",
    ["road_rescue", "heavy_lifting"],
    "盐池县",
    "高沙窝镇",
    ent="ningxia_transport_invest",
    headcount=18,
    vehicles=6,
    turnout=15,
)
team(
    "tongxin_road_rescue",
    "同心县G70福银高速清障救援队",
    "enterprise",
    "road",
    ["road_rescue", "heavy_lifting"],
    "同心县",
    "河西镇",
    ent="ningxia_transport_invest",
    headcount=16,
    vehicles=5,
    turnout=15,
    status="off_duty",
    duty=False,
)

# --- Water rescue on the Yellow River
team(
    "qtx_yellow_river_rescue",
    "青铜峡市黄河水域救援队",
    "county",
    "water",
    ["water_rescue", "medical_first_aid"],
    "青铜峡市",
    "峡口镇黄河码头",
    headcount=20,
    vehicles=3,
    turnout=10,
)
team(
    "shapotou_water_rescue",
    "中卫市沙坡头黄河水上救援队",
    "social",
    "water",
    ["water_rescue"],
    "沙坡头区",
    "迎水桥镇沙坡头景区",
    latlon=(37.46, 105.00),
    headcount=26,
    vehicles=3,
    turnout=15,
    duty=False,
)

# --- Lift rescue / crane
team(
    "tongda_lift_rescue",
    "宁夏通达电梯维保应急救援队",
    "enterprise",
    "lift",
    ["lift_rescue"],
    "兴庆区",
    "丽景街",
    ent="tongda_elevator",
    headcount=24,
    vehicles=6,
    turnout=10,
)

# --- Forest fire
team(
    "liupanshan_forest_fire",
    "六盘山林业局森林消防专业队",
    "provincial",
    "forest_fire",
    ["forest_fire", "communications_support", "logistics_support"],
    "泾源县",
    "泾河源镇",
    headcount=45,
    vehicles=8,
    turnout=10,
)
team(
    "helanshan_forest_fire",
    "贺兰山国家级自然保护区森林消防队",
    "provincial",
    "forest_fire",
    ["forest_fire"],
    "西夏区",
    "镇北堡镇",
    latlon=(38.62, 106.02),
    headcount=30,
    vehicles=6,
    turnout=10,
)

# --- Construction / explosives / oilfield enterprise teams
team(
    "ningxia_construction_rescue",
    "宁夏建工集团应急抢险队",
    "enterprise",
    "construction",
    ["structural_collapse_rescue", "earthmoving", "heavy_lifting", "slope_stabilization"],
    "金凤区",
    "宁安大街",
    ent="ningxia_construction",
    headcount=80,
    vehicles=25,
    turnout=30,
    duty=False,
)
team(
    "helanshan_explosives_rescue",
    "宁夏贺兰山民爆器材公司应急救援队",
    "enterprise",
    "explosives",
    ["explosives_disposal", "firefighting"],
    "大武口区",
    "星海镇",
    ent="helanshan_explosives",
    latlon=(39.06, 106.30),
    headcount=15,
    vehicles=3,
    turnout=5,
)
team(
    "changqing_yanchi_fire",
    "长庆油田盐池作业区消防队",
    "enterprise",
    "enterprise_fire",
    ["firefighting", "chemical_fire", "gas_detection", "hazmat_leak_control"],
    "盐池县",
    "大水坑镇",
    ent="changqing_yanchi",
    latlon=(37.48, 107.02),
    headcount=28,
    vehicles=5,
    turnout=3,
)
team(
    "tianyuan_petrochem_fire",
    "宁夏天源石化专职消防队",
    "enterprise",
    "enterprise_fire",
    HAZMAT_CAPS,
    "红寺堡区",
    "太阳山开发区",
    ent="tianyuan_petrochem",
    latlon=(37.56, 106.57),
    headcount=32,
    vehicles=5,
    turnout=2,
)

# --- Social rescue teams
team(
    "yinchuan_blue_sky",
    "银川蓝天救援队",
    "social",
    "volunteer",
    ["water_rescue", "structural_collapse_rescue", "high_angle_rescue", "medical_first_aid", "communications_support"],
    "金凤区",
    "良田镇",
    headcount=85,
    vehicles=10,
    turnout=30,
    duty=False,
)
team(
    "guyuan_blue_sky",
    "固原蓝天救援队",
    "social",
    "volunteer",
    ["water_rescue", "medical_first_aid", "logistics_support"],
    "原州区",
    "开城镇",
    headcount=40,
    vehicles=5,
    turnout=40,
    duty=False,
)
team(
    "shizuishan_helanshan_volunteer",
    "石嘴山市贺兰山应急救援志愿队",
    "social",
    "volunteer",
    ["high_angle_rescue", "medical_first_aid"],
    "大武口区",
    "朝阳西街",
    headcount=35,
    vehicles=4,
    turnout=40,
    duty=False,
)
team(
    "wuzhong_redcross_rescue",
    "吴忠市红十字应急救援队",
    "social",
    "volunteer",
    ["medical_first_aid", "logistics_support", "psychological_support"],
    "利通区",
    "金星镇",
    headcount=30,
    vehicles=3,
    turnout=45,
    duty=False,
)
team(
    "xiji_volunteer",
    "西吉县应急救援志愿服务队",
    "social",
    "volunteer",
    ["logistics_support", "medical_first_aid"],
    "西吉县",
    "吉强镇",
    headcount=28,
    vehicles=2,
    turnout=45,
    duty=False,
    status="out_of_service",
)

# --- Zhongwei city-level teams, 2023 list (中卫日报): names from a public source.
team(
    "zw_eco_monitoring",
    "中卫市生态环境监测救援队",
    "city",
    "environment",
    ["environmental_monitoring", "gas_detection"],
    "沙坡头区",
    "文昌镇",
    headcount=18,
    vehicles=4,
    turnout=20,
    verified=True,
)
team(
    "zw_forest_fire",
    "中卫市森林消防专业队",
    "city",
    "forest_fire",
    ["forest_fire"],
    "沙坡头区",
    "迎水桥镇",
    headcount=40,
    vehicles=6,
    turnout=10,
    verified=True,
)
team(
    "zw_militia",
    "中卫市民兵应急营",
    "city",
    "militia",
    ["structural_collapse_rescue", "earthmoving", "logistics_support", "water_rescue"],
    "沙坡头区",
    "滨河镇",
    headcount=150,
    vehicles=15,
    turnout=60,
    duty=False,
    verified=True,
)
team(
    "zw_wepec_repair",
    "西气东输管道分公司银川输气分公司中卫维抢队",
    "enterprise",
    "pipeline",
    ["pipeline_repair", "gas_detection", "heavy_lifting", "earthmoving"],
    "沙坡头区",
    "迎水桥镇(中卫压气站)",
    ent="wepec_yinchuan",
    latlon=(37.53, 105.13),
    headcount=32,
    vehicles=9,
    turnout=15,
    verified=True,
)
team(
    "zw_jieneng_lift",
    "宁夏杰能电梯有限公司电梯应急救援队",
    "enterprise",
    "lift",
    ["lift_rescue"],
    "沙坡头区",
    "文昌镇",
    ent="jieneng_elevator",
    headcount=12,
    vehicles=3,
    turnout=10,
    verified=True,
)
team(
    "zw_tianji_lift",
    "宁夏中卫市天际电梯工程有限公司电梯应急救援队",
    "enterprise",
    "lift",
    ["lift_rescue"],
    "沙坡头区",
    "滨河镇",
    ent="tianji_elevator",
    headcount=10,
    vehicles=2,
    turnout=10,
    verified=True,
)
team(
    "zw_shengqilin_lifting",
    "宁夏圣麒麟起重公司吊装抢险救援队",
    "enterprise",
    "lifting",
    ["heavy_lifting", "road_rescue"],
    "沙坡头区",
    "迎水桥镇",
    ent="shengqilin_crane",
    headcount=20,
    vehicles=8,
    turnout=30,
    verified=True,
)
team(
    "zw_redcross_blue_sky",
    "中卫市红十字蓝天救援中心",
    "social",
    "volunteer",
    ["water_rescue", "structural_collapse_rescue", "medical_first_aid", "high_angle_rescue"],
    "沙坡头区",
    "文昌镇",
    headcount=60,
    vehicles=6,
    turnout=30,
    duty=False,
    verified=True,
)
team(
    "zw_shangwei_lighting",
    "深圳市尚为照明有限公司尚为照明救援队",
    "enterprise",
    "lighting",
    ["lighting_support"],
    "沙坡头区",
    "镇罗镇",
    headcount=8,
    vehicles=2,
    turnout=60,
    duty=False,
    verified=True,
)
team(
    "zw_shenzhong_repair",
    "宁夏深中维抢队",
    "enterprise",
    "pipeline",
    ["pipeline_repair", "power_restoration"],
    "中宁县",
    "石空镇",
    headcount=16,
    vehicles=4,
    turnout=30,
    verified=True,
)
team(
    "zw_tianyuan_manganese_fire",
    "宁夏天元锰业集团有限公司消防队",
    "enterprise",
    "enterprise_fire",
    ["firefighting", "molten_metal_handling", "gas_protection", "confined_space_rescue"],
    "中宁县",
    "新堡镇",
    ent="tianyuan_manganese",
    latlon=(37.45, 105.72),
    headcount=40,
    vehicles=6,
    turnout=2,
    verified=True,
)
team(
    "zw_thermal_rescue",
    "中卫热电救援队",
    "enterprise",
    "enterprise_fire",
    ["firefighting", "boiler_pressure_vessel", "power_restoration"],
    "沙坡头区",
    "迎水桥镇",
    ent="zhongwei_thermal",
    latlon=(37.50, 105.12),
    headcount=20,
    vehicles=3,
    turnout=3,
    verified=True,
)
team(
    "zw_ruitai_fire",
    "瑞泰科技消防专职队",
    "enterprise",
    "enterprise_fire",
    ["firefighting"],
    "沙坡头区",
    "镇罗镇",
    latlon=(37.56, 105.07),
    headcount=14,
    vehicles=2,
    turnout=3,
    verified=True,
)
team(
    "zw_huayu_fire",
    "宁夏华御化工有限公司专职消防队",
    "enterprise",
    "enterprise_fire",
    HAZMAT_CAPS,
    "沙坡头区",
    "中卫工业园区",
    ent="huayu_chem",
    latlon=(37.55, 105.08),
    headcount=22,
    vehicles=3,
    turnout=2,
    verified=True,
)
team(
    "zw_ziguang_fire",
    "宁夏紫光专职消防队",
    "enterprise",
    "enterprise_fire",
    HAZMAT_CAPS,
    "沙坡头区",
    "中卫工业园区",
    ent="ziguang_chem",
    latlon=(37.56, 105.06),
    headcount=26,
    vehicles=4,
    turnout=2,
    verified=True,
)
team(
    "zw_yuguang_fire",
    "宁夏宇光能源消防队",
    "enterprise",
    "enterprise_fire",
    ["firefighting", "chemical_fire", "gas_detection", "gas_protection"],
    "沙坡头区",
    "中卫工业园区",
    ent="yuguang_energy",
    latlon=(37.54, 105.10),
    headcount=18,
    vehicles=3,
    turnout=2,
    verified=True,
    status="committed",
)
team(
    "zw_ningsteel_rescue",
    "宁钢公司应急救援队",
    "enterprise",
    "enterprise_fire",
    ["firefighting", "molten_metal_handling", "gas_protection", "gas_detection", "confined_space_rescue"],
    "沙坡头区",
    "中卫工业园区",
    ent="ningxia_steel",
    latlon=(37.55, 105.09),
    headcount=35,
    vehicles=5,
    turnout=3,
    verified=True,
)

ZHONGWEI_2023 = "名称见中卫市2023年市级应急救援队伍名单(中卫日报)"


def team_note(t: dict) -> str | None:
    """Where a team's name comes from and what is not confirmed (file-only field, not loaded)."""
    if t["key"] in ("petrochem_rescue", "ningxia_coal_rescue"):
        return "名称见2017年《标本兼治遏制重特大事故工作指导意见》第22条; 驻地、人员、装备未核实"
    if t["backbone"]:
        return "8支骨干队伍中其余6支未公开, 此队按行业推定 (verified: false)"
    if t["verified"]:
        return ZHONGWEI_2023 + "; 驻地、人员、装备为演示数据"
    return None


# --------------------------------------------------------------------------------------
# 8. Equipment templates: (name, equipment_type, capabilities, model, qty range)
# --------------------------------------------------------------------------------------
E = {
    "fire_truck": ("水罐消防车", "fire_truck", ["firefighting"], "徐工 XZJ5190GXFSG80", (1, 3)),
    "foam_tender": ("泡沫消防车", "foam_tender", ["firefighting", "chemical_fire"], "中联重科 ZLF5300GXFPM150", (1, 3)),
    "aerial": ("举高喷射消防车", "aerial_platform", ["firefighting", "high_angle_rescue"], "三一 SYM5330JXFJP32", (1, 1)),
    "ladder": ("登高平台消防车", "aerial_platform", ["high_angle_rescue", "firefighting"], "徐工 XZJ5420JXFDG54", (1, 1)),
    "rescue_truck": (
        "抢险救援消防车",
        "rescue_truck",
        ["structural_collapse_rescue", "road_rescue"],
        "中联重科 ZLF5150TXFJY120",
        (1, 2),
    ),
    "hydraulic_kit": (
        "液压破拆工具组",
        "hydraulic_tools",
        ["road_rescue", "structural_collapse_rescue"],
        "霍马特 SP 333",
        (2, 4),
    ),
    "scba": ("正压式空气呼吸器", "scba", ["gas_protection", "firefighting"], "梅思安 AX2100 6.8L", (10, 40)),
    "gas4": ("便携式四合一气体检测仪", "gas_detector", ["gas_detection"], "华瑞 PGM-2400", (4, 12)),
    "gas_multi": ("复合式有毒气体检测仪", "gas_detector", ["gas_detection", "hazmat_leak_control"], "德尔格 X-am 8000", (2, 6)),
    "chem_suit": ("重型防化服", "protective_suit", ["hazmat_leak_control"], "雷克兰 Interceptor 一级", (6, 20)),
    "plug_kit": ("堵漏器材组", "leak_sealing", ["hazmat_leak_control"], "磁压式/捆绑式/注入式组合", (1, 3)),
    "decon_tent": ("公众洗消帐篷", "decontamination", ["decontamination"], "GXZ-60 充气式", (1, 2)),
    "decon_truck": ("洗消车", "decontamination", ["decontamination"], "MAN TGS 洗消消防车", (1, 1)),
    "hazmat_truck": (
        "防化救援消防车",
        "hazmat_truck",
        ["hazmat_leak_control", "gas_detection", "decontamination"],
        "奔驰 Atego 防化车",
        (1, 1),
    ),
    "ir_camera": ("热成像仪", "thermal_camera", ["firefighting", "structural_collapse_rescue"], "FLIR K55", (2, 4)),
    "life_detector": ("音视频生命探测仪", "life_detector", ["structural_collapse_rescue"], "SearchCam 3000", (1, 2)),
    "drone": ("侦察无人机", "drone", ["communications_support", "environmental_monitoring"], "大疆 M350 RTK", (1, 3)),
    "hyz4": ("正压氧气呼吸器", "closed_circuit_breathing_apparatus", ["mine_rescue", "gas_protection"], "HYZ4", (20, 60)),
    "mine_detector": ("矿用多参数气体测定器", "gas_detector", ["gas_detection", "mine_rescue"], "CD4(A) 本安型", (6, 15)),
    "mine_vehicle": ("矿山救护车", "mine_rescue_vehicle", ["mine_rescue"], "依维柯 NJ5046XJH", (2, 5)),
    "fan": ("局部通风机", "ventilation_fan", ["mine_ventilation"], "FBD No6.0/2×15", (2, 4)),
    "mine_pump": ("矿用潜水排沙电泵", "pump", ["mine_drainage", "drainage_pumping"], "BQS200-100/2-110/N", (2, 6)),
    "inert_gas": ("惰气灭火装置", "inert_gas_generator", ["mine_rescue", "firefighting"], "DQ-500 惰气发生装置", (1, 1)),
    "ambulance": ("负压救护车", "ambulance", ["medical_first_aid"], "福特全顺 V348 负压型", (4, 20)),
    "defib": ("自动体外除颤仪", "defibrillator", ["medical_first_aid"], "迈瑞 BeneHeart C1A", (6, 20)),
    "field_medical": ("移动医疗方舱", "mobile_hospital", ["medical_first_aid"], "方舱式 手术单元", (1, 1)),
    "gen_truck": ("应急发电车", "generator_vehicle", ["power_restoration", "lighting_support"], "500kW 康明斯 KTA19", (1, 3)),
    "gen_small": ("移动式柴油发电机", "generator", ["power_restoration", "lighting_support"], "100kW 玉柴 YC6B", (2, 5)),
    "bucket_truck": (
        "高空作业车",
        "aerial_work_platform",
        ["power_restoration", "high_angle_rescue"],
        "徐工 XGS5080JGKQ6 21m",
        (1, 3),
    ),
    "light_tower": ("移动照明灯塔", "light_tower", ["lighting_support"], "4×1000W LED 9m", (2, 6)),
    "comms_truck": ("应急通信指挥车", "communications_vehicle", ["communications_support"], "卫星便携站+4G/5G 布控", (1, 1)),
    "sat_phone": ("卫星电话", "satellite_phone", ["communications_support"], "天通一号 T900", (4, 10)),
    "gas_repair_truck": ("燃气抢修工程车", "gas_repair_vehicle", ["gas_pipeline_repair"], "江铃 特顺 抢修车", (1, 4)),
    "laser_methane": ("激光甲烷遥测仪", "gas_detector", ["gas_detection", "gas_pipeline_repair"], "HESAI HS-L1", (2, 4)),
    "pipe_repair_kit": ("管道带压封堵设备", "hot_tapping", ["pipeline_repair"], "TDW 开孔封堵机 DN600", (1, 2)),
    "welding_truck": ("管道抢修焊接车", "welding_vehicle", ["pipeline_repair"], "林肯 VANTAGE 500 车载", (1, 2)),
    "excavator": ("履带式挖掘机", "excavator", ["earthmoving"], "三一 SY215C", (1, 3)),
    "loader": ("装载机", "loader", ["earthmoving"], "柳工 CLG856H", (1, 2)),
    "crane25": ("汽车起重机 25t", "crane", ["heavy_lifting"], "徐工 QY25K5", (1, 2)),
    "crane100": ("汽车起重机 100t", "crane", ["heavy_lifting"], "中联重科 ZTC1000V", (1, 1)),
    "wrecker": ("重型清障车", "wrecker", ["road_rescue", "heavy_lifting"], "重汽豪沃 50t 拖吊联体", (1, 3)),
    "boat": ("冲锋舟", "boat", ["water_rescue"], "5.2m 铝合金 配雅马哈 40HP", (1, 4)),
    "rescue_boat_kit": ("水域救援装备组", "water_rescue_kit", ["water_rescue"], "抛投器+救生衣+干式服", (2, 6)),
    "lift_kit": ("电梯救援工具包", "lift_rescue_kit", ["lift_rescue"], "三角钥匙+松闸扳手+盘车轮", (3, 8)),
    "lift_van": ("电梯应急救援车", "service_vehicle", ["lift_rescue"], "五菱 宏光 工程车", (1, 3)),
    "forest_blower": ("风力灭火机", "forest_fire_blower", ["forest_fire"], "6MF-30", (10, 30)),
    "forest_pump": ("森林消防高压接力水泵", "forest_fire_pump", ["forest_fire"], "Mark-3", (2, 6)),
    "forest_truck": ("森林消防运兵车", "troop_carrier", ["forest_fire", "logistics_support"], "北汽 BJ2032 勇士", (2, 5)),
    "drill_rig": ("大口径钻机", "drilling_rig", ["drilling_rescue"], "RB-T90 全液压车载钻机", (1, 2)),
    "drain_truck": ("大流量排水抢险车", "pump_truck", ["drainage_pumping"], "龙吸水 3000m³/h", (1, 2)),
    "bomb_suit": ("排爆服", "bomb_suit", ["explosives_disposal"], "EOD-9 型", (1, 2)),
    "xray": ("便携式X射线检查仪", "xray_inspector", ["explosives_disposal"], "RTR-4", (1, 1)),
    "env_van": ("环境应急监测车", "monitoring_vehicle", ["environmental_monitoring", "gas_detection"], "FTIR+GC-MS 车载", (1, 1)),
    "field_kitchen": ("野战炊事车", "field_kitchen", ["logistics_support"], "XC-250 型", (1, 1)),
    "tent_set": ("宿营帐篷组", "camp_tent", ["logistics_support"], "12㎡ 班用", (5, 20)),
    "tripod": ("三脚架救援系统", "rope_rescue", ["confined_space_rescue", "high_angle_rescue"], "Petzl 救援三脚架套装", (1, 3)),
    "rope_kit": ("绳索救援装备组", "rope_rescue", ["high_angle_rescue"], "Petzl 绳索救援套装", (1, 3)),
    "airbag": ("起重气垫", "lifting_bag", ["structural_collapse_rescue", "road_rescue"], "保兰德 V 系列 12t", (1, 2)),
}

TEAM_EQUIPMENT = {
    "professional_fire": ["fire_truck", "rescue_truck", "hydraulic_kit", "scba", "ir_camera", "tripod"],
    "hazmat": ["foam_tender", "hazmat_truck", "scba", "gas_multi", "chem_suit", "plug_kit", "decon_tent"],
    "enterprise_fire": ["foam_tender", "fire_truck", "scba", "gas4", "chem_suit", "plug_kit"],
    "mine_rescue": ["hyz4", "mine_detector", "mine_vehicle", "fan", "mine_pump", "life_detector"],
    "medical": ["ambulance", "defib", "field_medical"],
    "power": ["gen_truck", "gen_small", "bucket_truck", "light_tower"],
    "gas": ["gas_repair_truck", "laser_methane", "gas4"],
    "pipeline": ["pipe_repair_kit", "welding_truck", "excavator", "gas4", "crane25"],
    "road": ["wrecker", "crane25", "light_tower", "hydraulic_kit"],
    "water": ["boat", "rescue_boat_kit"],
    "lift": ["lift_kit", "lift_van"],
    "lifting": ["crane100", "crane25"],
    "forest_fire": ["forest_blower", "forest_pump", "forest_truck", "drone"],
    "volunteer": ["rescue_boat_kit", "rope_kit", "drone", "life_detector"],
    "environment": ["env_van", "gas_multi", "drone"],
    "militia": ["excavator", "tent_set", "field_kitchen", "loader"],
    "lighting": ["light_tower"],
    "drilling": ["drill_rig", "mine_pump", "excavator"],
    "construction": ["excavator", "loader", "crane25", "airbag"],
    "explosives": ["bomb_suit", "xray", "fire_truck"],
}
# Extra equipment for specific teams (backbone and special units)
TEAM_EXTRA = {
    "petrochem_rescue": ["aerial", "decon_truck", "drone", "comms_truck"],
    "ningxia_coal_rescue": ["inert_gas", "comms_truck", "drone", "foam_tender", "ambulance"],
    "baofeng_hazmat": ["aerial", "decon_truck"],
    "sgcc_nx_core": ["comms_truck", "sat_phone", "drone"],
    "nx_fire_special": ["hazmat_truck", "ladder", "decon_truck", "boat", "life_detector", "comms_truck"],
    "ningdong_fire": ["aerial", "decon_truck", "drone"],
    "nx_expressway_rescue": ["excavator", "comms_truck"],
    "chalco_qtx_rescue": ["crane25"],
    "yinglite_fire": ["decon_tent"],
}
# Depot-held equipment (reserve equipment not assigned to a team)
DEPOT_EQUIPMENT = {
    "nx_prov_reserve": ["gen_small", "light_tower", "drain_truck", "sat_phone", "tent_set", "boat"],
    "nx_prov_reserve_guyuan": ["gen_small", "light_tower", "tent_set"],
    "nx_prov_reserve_zhongwei": ["gen_small", "drain_truck", "boat"],
    "yinchuan_city_depot": ["drain_truck", "gen_small", "light_tower", "excavator"],
    "shizuishan_city_depot": ["gen_small", "light_tower"],
    "wuzhong_city_depot": ["gen_small", "boat"],
    "guyuan_city_depot": ["gen_small", "light_tower"],
    "zhongwei_city_depot": ["gen_small", "light_tower"],
    "petrochem_depot": ["scba", "chem_suit", "plug_kit", "gas_multi"],
    "ningxia_coal_depot": ["hyz4", "mine_detector", "mine_pump", "fan"],
    "baofeng_depot": ["scba", "chem_suit", "gas4"],
    "yinglite_depot": ["chem_suit", "plug_kit"],
    "sgcc_depot": ["gen_truck", "gen_small", "light_tower"],
    "wepec_depot": ["pipe_repair_kit", "welding_truck", "laser_methane"],
    "nx_redcross_center": ["tent_set", "field_kitchen", "defib"],
}

# --------------------------------------------------------------------------------------
# 7. Supply lots: which catalogue codes each kind of depot holds
# --------------------------------------------------------------------------------------
GOV_LIVING = ["1010101", "1010102", "1010201", "1010202", "1010301", "1010401", "1020101", "1020102", "1020103"]
GOV_EQUIP = ["1030101", "1030201", "2040101", "2040102", "2060101", "2080101", "2990101", "2010401"]
GOV_ENG = ["3010101", "3010201", "3010301", "3020101", "3030101", "3040101", "3010202"]
DEPOT_SUPPLY_PICK = {
    "national": (GOV_LIVING, 7, GOV_EQUIP, 2, GOV_ENG, 2),
    "provincial": (GOV_LIVING, 6, GOV_EQUIP, 3, GOV_ENG, 3),
    "city": (GOV_LIVING, 4, GOV_EQUIP, 2, GOV_ENG, 2),
    "county": (GOV_LIVING, 3, GOV_EQUIP, 1, GOV_ENG, 2),
}
ENTERPRISE_SUPPLIES = {
    "petrochem_depot": [
        "2010101",
        "2010102",
        "2010201",
        "2010202",
        "2010301",
        "2010302",
        "2020101",
        "2020102",
        "2020201",
        "2020202",
        "2030101",
        "2070101",
        "2070102",
    ],
    "ningxia_coal_depot": ["2010501", "2010502", "2050101", "2040101", "2040102", "3040101", "3010202", "3010301"],
    "baofeng_depot": ["2010101", "2010201", "2010202", "2020201", "2020202", "2030101", "2030102", "2070101"],
    "yinglite_depot": ["2010101", "2010201", "2010301", "2010302", "2030102", "2020301", "2070101"],
    "sgcc_depot": ["1030101", "1030201", "3010301", "2990101", "1020102"],
    "wepec_depot": ["2070102", "3010201", "3010202", "2050101", "2990101", "2020301"],
}
REDCROSS_SUPPLIES = ["1010101", "1010201", "1010202", "1020101", "1020102", "2040101", "2040103", "1010401"]

BASE_QTY = {  # typical quantity per lot at a provincial depot
    "顶": 400,
    "床": 3000,
    "条": 2000,
    "张": 800,
    "件": 1500,
    "箱": 1200,
    "套": 30,
    "台": 20,
    "个": 60,
    "桶": 40,
    "吨": 30,
    "袋": 200,
    "根": 100,
    "副": 40,
    "盒": 300,
    "部": 10,
    "卷": 60,
    "米": 2000,
    "平方米": 5000,
}
LEVEL_SCALE = {"national": 2.0, "provincial": 1.0, "city": 0.5, "county": 0.25, "enterprise": 0.4}


def expiry_for(shelf_years, lot_index: int) -> str | None:
    if shelf_years is None:
        return None
    r = lot_index % 8
    if r == 0:  # already expired
        return RNG.choice(["2026-03-31", "2026-08-15", "2026-10-31", "2025-12-31"])
    if r == 1:  # expiring within ~6 weeks of 2026-11-28
        return RNG.choice(["2026-12-05", "2026-12-20", "2026-12-31", "2027-01-10"])
    year = 2027 + RNG.randint(0, max(1, int(shelf_years)) + 1)
    return f"{year}-{RNG.randint(1, 12):02d}-{RNG.choice((10, 15, 20, 28)):02d}"


# --------------------------------------------------------------------------------------
# 6. Experts: groups of (fields, titles, employers [(employer, county)], how many)
# --------------------------------------------------------------------------------------
EXPERT_GROUPS = [
    (
        ["coal_mine_safety", "mine_rescue", "mine_ventilation"],
        ["教授级高工", "高级工程师"],
        [
            ("国家能源集团宁夏煤业有限责任公司", "灵武市"),
            ("国家矿山安全监察局宁夏局", "金凤区"),
            ("宁夏王洼煤业有限公司", "彭阳县"),
        ],
        8,
    ),
    (
        ["mine_drainage", "drilling_rescue", "coal_mine_safety"],
        ["高级工程师", "教授级高工"],
        [("宁夏煤田地质局", "金凤区"), ("宁夏理工学院", "大武口区")],
        4,
    ),
    (
        ["chemical_process_safety", "hazmat_leak_control", "chemical_fire"],
        ["教授级高工", "高级工程师", "教授"],
        [
            ("中国石油宁夏石化公司", "西夏区"),
            ("宁夏宝丰能源集团股份有限公司", "灵武市"),
            ("宁夏大学化学化工学院", "西夏区"),
            ("宁夏英力特化工股份有限公司", "惠农区"),
            ("北方民族大学化学与化学工程学院", "西夏区"),
        ],
        9,
    ),
    (
        ["gas_detection", "gas_protection", "ammonia_leak_control"],
        ["高级工程师", "工程师"],
        [("宁夏安全生产技术服务中心", "金凤区"), ("吴忠市塞上乳品冷链物流有限公司", "利通区")],
        3,
    ),
    (
        ["environmental_monitoring"],
        ["高级工程师", "正高级工程师"],
        [("宁夏回族自治区生态环境监测中心", "金凤区"), ("中卫市生态环境监测站", "沙坡头区"), ("固原市生态环境监测站", "原州区")],
        4,
    ),
    (
        ["medical_first_aid"],
        ["主任医师", "副主任医师"],
        [
            ("宁夏医科大学总医院", "兴庆区"),
            ("宁夏回族自治区人民医院", "西夏区"),
            ("固原市人民医院", "原州区"),
            ("中卫市人民医院", "沙坡头区"),
            ("石嘴山市第一人民医院", "大武口区"),
            ("吴忠市人民医院", "利通区"),
        ],
        8,
    ),
    (["psychological_support", "medical_first_aid"], ["副主任医师", "主任医师"], [("宁夏回族自治区宁安医院", "西夏区")], 2),
    (
        ["structural_assessment", "structural_collapse_rescue"],
        ["教授", "教授级高工", "高级工程师"],
        [("宁夏大学土木与水利工程学院", "西夏区"), ("宁夏建工集团有限公司", "金凤区"), ("宁夏建筑设计研究院", "金凤区")],
        5,
    ),
    (
        ["special_equipment_inspection", "boiler_pressure_vessel", "lift_rescue"],
        ["高级工程师", "教授级高工"],
        [("宁夏回族自治区特种设备检验检测院", "金凤区"), ("中卫市特种设备检验所", "沙坡头区")],
        5,
    ),
    (
        ["molten_metal_handling", "dust_explosion", "confined_space_rescue"],
        ["高级工程师", "工程师"],
        [
            ("青铜峡铝业股份有限公司", "青铜峡市"),
            ("宁夏天元锰业集团有限公司", "中宁县"),
            ("宁夏钢铁(集团)有限责任公司", "沙坡头区"),
        ],
        5,
    ),
    (
        ["blasting_engineering", "explosives_disposal"],
        ["高级工程师", "高级爆破工程师"],
        [("宁夏贺兰山民爆器材有限公司", "大武口区"), ("宁夏西部爆破工程有限公司", "同心县")],
        3,
    ),
    (
        ["pipeline_repair", "gas_pipeline_repair"],
        ["高级工程师", "教授级高工"],
        [("国家管网集团西气东输银川输气分公司", "金凤区"), ("银川塞上燃气有限公司", "兴庆区")],
        4,
    ),
    (
        ["power_restoration"],
        ["高级工程师", "教授级高工"],
        [("国网宁夏电力有限公司", "金凤区"), ("华能宁夏大坝发电有限责任公司", "青铜峡市")],
        3,
    ),
    (
        ["road_rescue", "heavy_lifting"],
        ["高级工程师"],
        [("宁夏交通投资集团有限公司", "金凤区"), ("宁夏公路管理中心", "兴庆区")],
        2,
    ),
    (
        ["slope_stabilization", "earthmoving"],
        ["教授", "高级工程师"],
        [("宁夏回族自治区地质调查院", "金凤区"), ("宁夏大学地理科学与规划学院", "西夏区")],
        2,
    ),
    (
        ["forest_fire"],
        ["高级工程师", "林业高级工程师"],
        [("宁夏六盘山林业局", "泾源县"), ("宁夏贺兰山国家级自然保护区管理局", "西夏区")],
        2,
    ),
    (
        ["water_rescue", "drainage_pumping"],
        ["高级工程师"],
        [("宁夏水利厅黄河宁夏段防汛办", "兴庆区"), ("海原县水务局", "海原县")],
        2,
    ),
]


# --------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------
def build() -> dict[str, list]:
    out: dict[str, list] = {}
    out["capabilities"] = [{"code": c, "name": n, "category": cat} for c, n, cat in CAPABILITIES]

    out["incident_types"] = []
    for code, name, industry, reqs, sups in INCIDENT_TYPES:
        for cap, _, _ in reqs:
            assert cap in CAP_CODES, cap
        for sc, _ in sups:
            assert sc in SUPPLY_CATALOG, sc
        rec = {
            "code": code,
            "name": name,
            "industry": industry,
            "requirements": [{"capability": c, "quantity": q, "unit": u} for c, q, u in reqs],
        }
        if sups:
            rec["supplies"] = [{"code": sc, "quantity": q} for sc, q in sups]
        out["incident_types"].append(rec)  # reference data: the schema has no demo flag

    contacts: list[dict] = []

    # enterprises (+ safety manager contact each)
    enterprises = []
    for key, name, industry, county, place, lat, lon in ENTERPRISES:
        assert industry in INDUSTRIES, industry
        la, lo = jitter(lat, lon, 0.8) if lat is not None else county_point(county)
        enterprises.append(
            {
                "key": key,
                "name": name,
                "credit_code": credit_code(county),
                "industry": industry,
                "city": city_of(county),
                "county": county,
                "address": address(county, place),
                "lat": la,
                "lon": lo,
                "demo": True,
                "verified_note": ENTERPRISE_NOTE_REAL if key in REAL_ENTERPRISES else ENTERPRISE_NOTE_DEMO,
            }
        )
        mgr = person_name()
        contacts.append(
            {
                "key": f"c_{key}_safety",
                "name": mgr,
                "phone": next_mobile(),
                "role": "manager",
                "organisation": f"{name}安全环保部",
                "team": None,
                "enterprise": key,
                "demo": True,
            }
        )
        if key in ("ningxia_petrochem", "ningxia_coal"):
            contacts.append(
                {
                    "key": f"c_{key}_dispatch",
                    "name": person_name(),
                    "phone": next_mobile(),
                    "role": "liaison",
                    "organisation": f"{name}生产调度指挥中心",
                    "team": None,
                    "enterprise": key,
                    "demo": True,
                }
            )
    out["enterprises"] = enterprises
    ent_keys = {e["key"] for e in enterprises}

    # depots
    depots = []
    for key, name, level, ent, county, place, lat, lon in DEPOTS:
        assert ent is None or ent in ent_keys, ent
        la, lo = jitter(lat, lon, 0.5) if lat is not None else county_point(county)
        cname = person_name()
        cphone = next_mobile()
        depots.append(
            {
                "key": key,
                "name": name,
                "level": level,
                "enterprise": ent,
                "city": city_of(county),
                "county": county,
                "address": address(county, place),
                "lat": la,
                "lon": lo,
                "contact_name": cname,
                "contact_phone": cphone,
                "demo": True,
                "verified_note": "储备库名称、位置、联系人均为演示数据, 未经核实",
            }
        )
        contacts.append(
            {
                "key": f"c_{key}_keeper",
                "name": cname,
                "phone": cphone,
                "role": "manager",
                "organisation": name,
                "team": None,
                "enterprise": ent,
                "demo": True,
            }
        )
    out["depots"] = depots

    # teams (+ commander, deputy, duty contacts)
    teams = []
    for t in TEAMS:
        for c in t["capabilities"]:
            assert c in CAP_CODES, (t["key"], c)
        assert t["enterprise"] is None or t["enterprise"] in ent_keys, t["enterprise"]
        county = t["county"]
        la, lo = jitter(*t["latlon"], 0.6) if t["latlon"] else county_point(county, 2.5)
        city = city_of(county)
        cmd, cmd_phone = person_name(), next_mobile()
        duty_phone = duty_line(city)
        teams.append(
            {
                "key": t["key"],
                "name": t["name"],
                "level": t["level"],
                "team_type": t["team_type"],
                "capabilities": t["capabilities"],
                "enterprise": t["enterprise"],
                "city": city,
                "county": county,
                "place": t["place"],
                "lat": la,
                "lon": lo,
                "headcount": t["headcount"],
                "vehicles": t["vehicles"],
                "mine_rescue_grade": t["mine_rescue_grade"],
                "turnout_min": t["turnout_min"],
                "duty_24h": t["duty_24h"],
                "status": t["status"],
                "backbone": t["backbone"],
                "verified": t["verified"],
                "duty_phone": duty_phone,
                "commander_name": cmd,
                "commander_phone": cmd_phone,
                "demo": True,
            }
        )
        if note := team_note(t):
            teams[-1]["verified_note"] = note
        org = t["name"]
        contacts.append(
            {
                "key": f"c_{t['key']}_commander",
                "name": cmd,
                "phone": cmd_phone,
                "role": "commander",
                "organisation": org,
                "team": t["key"],
                "enterprise": t["enterprise"],
                "demo": True,
            }
        )
        contacts.append(
            {
                "key": f"c_{t['key']}_deputy",
                "name": person_name(),
                "phone": next_mobile(),
                "role": "deputy",
                "organisation": org,
                "team": t["key"],
                "enterprise": t["enterprise"],
                "demo": True,
            }
        )
        contacts.append(
            {
                "key": f"c_{t['key']}_duty",
                "name": f"{org}值班室",
                "phone": duty_phone,
                "role": "duty",
                "organisation": org,
                "team": t["key"],
                "enterprise": t["enterprise"],
                "demo": True,
            }
        )
        if t["backbone"]:
            contacts.append(
                {
                    "key": f"c_{t['key']}_member",
                    "name": person_name(),
                    "phone": next_mobile(),
                    "role": "member",
                    "organisation": org,
                    "team": t["key"],
                    "enterprise": t["enterprise"],
                    "demo": True,
                }
            )
    out["teams"] = teams

    # equipment
    equipment = []

    def add_equipment(prefix: str, items: list[str], team_key: str | None, depot_key: str | None, team_status: str = "available"):
        for i, tpl in enumerate(items, 1):
            name, etype, caps, model, (qmin, qmax) = E[tpl]
            r = RNG.random()
            status = "operational"
            if team_status == "committed" and i == 1:
                status = "deployed"
            elif r < 0.05:
                status = "unserviceable"
            elif r < 0.08 and team_key:
                status = "deployed"
            # inspections: mostly future, a few overdue
            if RNG.random() < 0.06:
                nxt = RNG.choice(["2026-09-30", "2026-10-15", "2026-11-20"])
            else:
                nxt = f"{RNG.choice((2026, 2027, 2027))}-{RNG.randint(1, 12):02d}-{RNG.choice((5, 15, 25)):02d}"
                if nxt <= TODAY:
                    nxt = f"2027-{RNG.randint(1, 12):02d}-15"
            equipment.append(
                {
                    "key": f"eq_{prefix}_{tpl}",
                    "name": name,
                    "equipment_type": etype,
                    "capabilities": caps,
                    "model": model,
                    "quantity": RNG.randint(qmin, qmax),
                    "status": status,
                    "team": team_key,
                    "depot": depot_key,
                    "next_inspection": nxt,
                    "demo": True,
                }
            )

    for t in TEAMS:
        base = TEAM_EQUIPMENT[t["team_type"]]
        items = list(base) if t["backbone"] or t["level"] in ("national", "provincial") else base[: max(2, len(base) - 2)]
        items += [x for x in TEAM_EXTRA.get(t["key"], []) if x not in items]
        add_equipment(t["key"], items, t["key"], None, t["status"])
    for dkey, items in DEPOT_EQUIPMENT.items():
        add_equipment(dkey, items, None, dkey)
    out["equipment"] = equipment

    # supplies
    supplies = []
    lot = 0
    for d in DEPOTS:
        dkey, level = d[0], d[2]
        if dkey in ENTERPRISE_SUPPLIES:
            codes = ENTERPRISE_SUPPLIES[dkey]
        elif dkey == "nx_redcross_center":
            codes = REDCROSS_SUPPLIES
        else:
            liv, nl, eq, ne, eng, ng = DEPOT_SUPPLY_PICK[level]
            codes = RNG.sample(liv, nl) + RNG.sample(eq, ne) + RNG.sample(eng, ng)
        for code in codes:
            name, spec, unit, shelf = SUPPLY_CATALOG[code]
            qty = max(1, int(BASE_QTY[unit] * LEVEL_SCALE[level] * RNG.uniform(0.6, 1.4)))
            supplies.append(
                {
                    "key": f"sup_{dkey}_{code}",
                    "code": code,
                    "name": name,
                    "spec": spec,
                    "unit": unit,
                    "quantity": qty,
                    "depot": dkey,
                    "expiry_date": expiry_for(shelf, lot),
                    "demo": True,
                }
            )
            lot += 1
    out["supplies"] = supplies

    # experts
    experts = []
    ent_by_name = {e["name"]: e["key"] for e in enterprises}
    n = 0
    for fields, titles, employers, count in EXPERT_GROUPS:
        for i in range(count):
            employer, county = employers[i % len(employers)]
            ent_key = ent_by_name.get(employer)
            n += 1
            la, lo = county_point(county, 3.0)
            r = RNG.random()
            experts.append(
                {
                    "key": f"expert_{n:03d}",
                    "name": person_name(),
                    "fields": fields[: RNG.randint(1, len(fields))],
                    "title": RNG.choice(titles),
                    "employer": employer,
                    "enterprise": ent_key,
                    "phone": next_mobile(),
                    "city": city_of(county),
                    "county": county,
                    "lat": la,
                    "lon": lo,
                    "availability": "available" if r < 0.8 else ("busy" if r < 0.93 else "unavailable"),
                    "remote_ok": RNG.random() < 0.7,
                    "demo": True,
                }
            )
    out["experts"] = experts

    out["contacts"] = contacts
    mark_stale(out)
    return out


def mark_stale(out: dict[str, list]) -> None:
    """Leave a few non-backbone records unconfirmed for months, so the regulator's 数据时效 list tells a story.
    A random generator of its own keeps every other value as it was."""
    rng = random.Random(20261130)
    for name, n in {"teams": 7, "equipment": 12, "experts": 5, "depots": 2, "supplies": 6}.items():
        for record in rng.sample([r for r in out[name] if not r.get("backbone")], n):
            record["confirmed_days_ago"] = rng.choice([104, 128, 151, 187, 233, 270])


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT, help="output directory (default: seed/data)")
    out_dir = ap.parse_args(argv).out
    data = build()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, records in data.items():
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{path.name}: {len(records)}")


if __name__ == "__main__":
    main()
