"""Enumerations of the domain, stored as their values with CHECK constraints."""

import enum

from sqlalchemy import Enum


class Industry(enum.StrEnum):
    road_traffic = "road_traffic"
    fire = "fire"
    coal_mine = "coal_mine"
    non_coal_mine = "non_coal_mine"
    hazardous_chemicals = "hazardous_chemicals"
    metallurgy_trade = "metallurgy_trade"
    construction = "construction"
    urban_safety = "urban_safety"
    special_equipment = "special_equipment"
    civil_explosives = "civil_explosives"
    oil_gas_pipeline = "oil_gas_pipeline"
    power = "power"
    other = "other"


INDUSTRY_NAMES = {
    "road_traffic": "道路交通",
    "fire": "消防",
    "coal_mine": "煤矿",
    "non_coal_mine": "非煤矿山",
    "hazardous_chemicals": "危险化学品",
    "metallurgy_trade": "冶金工贸",
    "construction": "建筑施工",
    "urban_safety": "城市安全",
    "special_equipment": "特种设备",
    "civil_explosives": "民用爆炸物品",
    "oil_gas_pipeline": "油气管道",
    "power": "电力",
    "other": "其他",
}

# 《生产安全事故应急条例》第八条: these operators drill at least every six months.
SIX_MONTH_DRILL_INDUSTRIES = frozenset(
    {
        "coal_mine",
        "non_coal_mine",
        "hazardous_chemicals",
        "metallurgy_trade",
        "construction",
        "civil_explosives",
        "oil_gas_pipeline",
    }
)


class Level(enum.StrEnum):
    national = "national"
    provincial = "provincial"
    city = "city"
    county = "county"
    enterprise = "enterprise"
    social = "social"


LEVEL_NAMES = {"national": "国家", "provincial": "省", "city": "市", "county": "县", "enterprise": "企业", "social": "社会"}


class TeamStatus(enum.StrEnum):
    available = "available"
    committed = "committed"
    off_duty = "off_duty"
    out_of_service = "out_of_service"


TEAM_STATUS_NAMES = {"available": "待命", "committed": "执行任务中", "off_duty": "休整", "out_of_service": "停用"}


class MineRescueGrade(enum.StrEnum):
    special = "special"
    grade1 = "grade1"
    grade2 = "grade2"
    grade3 = "grade3"


class EquipmentStatus(enum.StrEnum):
    operational = "operational"
    unserviceable = "unserviceable"
    deployed = "deployed"


class Availability(enum.StrEnum):
    available = "available"
    busy = "busy"
    unavailable = "unavailable"


class ContactRole(enum.StrEnum):
    commander = "commander"
    deputy = "deputy"
    duty = "duty"
    member = "member"
    manager = "manager"
    liaison = "liaison"


class Role(enum.StrEnum):
    command_center = "command_center"
    regulator = "regulator"
    enterprise_admin = "enterprise_admin"


def enum_type(cls: type[enum.Enum]) -> Enum:
    """A portable column type storing the enum's values with a CHECK constraint."""
    return Enum(
        cls,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        name=cls.__name__.lower(),
    )


class IncidentLevel(enum.StrEnum):
    """Accident levels of 《生产安全事故报告和调查处理条例》."""

    general = "general"
    larger = "larger"
    major = "major"
    especially_major = "especially_major"


INCIDENT_LEVEL_NAMES = {"general": "一般", "larger": "较大", "major": "重大", "especially_major": "特别重大"}


class IncidentStatus(enum.StrEnum):
    open = "open"
    closed = "closed"


class ResourceKind(enum.StrEnum):
    team = "team"
    expert = "expert"
    equipment = "equipment"
    supply = "supply"


class AssignmentStatus(enum.StrEnum):
    """notified → accepted | declined | no_answer | failed → en_route → on_scene → released."""

    notified = "notified"
    accepted = "accepted"
    declined = "declined"
    no_answer = "no_answer"
    failed = "failed"
    en_route = "en_route"
    on_scene = "on_scene"
    released = "released"
    cancelled = "cancelled"


ASSIGNMENT_STATUS_NAMES = {
    "notified": "已通知",
    "accepted": "已接受",
    "declined": "已拒绝",
    "no_answer": "未应答",
    "failed": "送达失败",
    "en_route": "途中",
    "on_scene": "已到达",
    "released": "已解除",
    "cancelled": "已取消",
}
# an assignment in one of these still holds its resource and its reply code
OPEN_ASSIGNMENT_STATUSES = ("notified", "accepted", "en_route", "on_scene")
