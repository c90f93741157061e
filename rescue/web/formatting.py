"""How people read values on pages: Beijing time, Chinese phone numbers, codes turned into names.

Registered as Jinja filters (`bj`, `bj_date`, `bj_time`, `bj_input`, `phone`, `change_value`); static/js/api.js
has the same rules for the pages that draw from the JSON API.
"""

from datetime import UTC, date, datetime

import phonenumbers
from flask import Flask

from rescue.clock import CHINA


def _moment(value: object) -> datetime | None:
    """An aware datetime from a datetime or an ISO 8601 string (naive values are UTC, as the database keeps them)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=CHINA)
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def beijing(value: object, fmt: str = "%Y-%m-%d %H:%M", empty: str = "") -> str:
    """`value` (datetime or ISO string) as Beijing wall-clock time, e.g. "2025-03-01 14:05"; `empty` when missing."""
    moment = _moment(value)
    if moment is None:
        return empty if value in (None, "") else str(value)
    return moment.astimezone(CHINA).strftime(fmt)


def beijing_date(value: object, empty: str = "") -> str:
    """The Beijing calendar day, "2025-03-01"."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return beijing(value, "%Y-%m-%d", empty)


def beijing_input(value: object) -> str:
    """The value a `datetime-local` input takes: Beijing time "2025-03-01T14:05" (the browser shows it localised)."""
    return beijing(value, "%Y-%m-%dT%H:%M")


def phone(value: object) -> str:
    """An E.164 number written the Chinese way: mobile "139 5100 0170", landline "0951-5010100"."""
    raw = "" if value is None else str(value).strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        return raw
    if number.country_code != 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    national = str(number.national_number)
    if len(national) == 11 and national.startswith("1"):
        return f"{national[:3]} {national[3:7]} {national[7:]}"
    parts = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL).split(" ")
    if len(parts) > 1:
        return f"{parts[0]}-{''.join(parts[1:])}"
    return parts[0]


def tel(value: object) -> str:
    """The target of a tel: link (E.164 when the number parses)."""
    raw = "" if value is None else str(value).strip()
    try:
        return phonenumbers.format_number(phonenumbers.parse(raw, "CN"), phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return raw


# values the audit log and forms store as codes, shown by their Chinese names
VALUE_NAMES = {
    "operational": "正常",
    "standby": "待命",
    "deployed": "出动中",
    "maintenance": "维修中",
    "retired": "已退役",
    "unavailable": "不可用",
    "available": "可用",
    "live": "实战演练",
    "tabletop": "桌面演练",
    "functional": "功能演练",
    "comprehensive": "综合演练",
    "special": "专项演练",
    "enterprise_fire": "企业专职消防队",
    "professional": "专业救援队",
    "fire": "消防救援队",
    "volunteer": "志愿者队伍",
    "true": "是",
    "false": "否",
    "True": "是",
    "False": "否",
}


TEAM_TYPE_NAMES = {
    "professional_fire": "消防救援队",
    "enterprise_fire": "企业专职消防队",
    "mine_rescue": "矿山救护队",
    "medical": "医疗救护队",
    "power": "电力抢修队",
    "volunteer": "志愿者队伍",
    "road": "道路抢通队",
    "pipeline": "管道抢修队",
    "gas": "燃气抢修队",
    "lift": "电梯救援队",
    "forest_fire": "森林消防队",
    "hazmat": "危化品救援队",
    "water": "水域救援队",
    "drilling": "钻探救援队",
    "construction": "建筑施工救援队",
    "explosives": "排爆队",
    "environment": "环境监测队",
    "militia": "民兵应急分队",
    "lifting": "起重吊装队",
    "lighting": "应急照明队",
}
VALUE_NAMES |= TEAM_TYPE_NAMES


def list_header(label: str) -> str:
    """A column label for a table header: the unit stays ("出动准备时间(分钟)"), explanations go."""
    head, _, rest = label.partition(" (")
    unit = rest.rstrip(")")
    return f"{head}({unit})" if rest and len(unit) <= 4 else head


def change_value(value: object, names: dict[str, str] | None = None) -> str:
    """One side of an audit change as a person reads it: "—" for nothing, lists joined, codes named."""
    lookup = {**VALUE_NAMES, **(names or {})}
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple, set)):
        return "、".join(change_value(v, names) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{lookup.get(str(k), k)}: {change_value(v, names)}" for k, v in value.items())
    text = str(value)
    if text.startswith("+") and text[1:].isdigit():
        return phone(text)
    if len(text) >= 16 and text[4:5] == "-" and text[10:11] == "T":
        return beijing(text)
    return lookup.get(text, text)


# units stored as codes in incident type templates
UNIT_NAMES = {"team": "支", "item": "件", "person": "人", "set": "套", "vehicle": "辆", "unit": "台", "piece": "个"}


def unit(value: object) -> str:
    """A unit as people write it ("支" for team)."""
    return UNIT_NAMES.get(str(value or ""), str(value or ""))


def init_app(app: Flask) -> None:
    """Register the filters on the app's Jinja environment."""
    app.add_template_filter(beijing, "bj")
    app.add_template_filter(beijing_date, "bj_date")
    app.add_template_filter(lambda v: beijing(v, "%H:%M", "—"), "bj_time")
    app.add_template_filter(beijing_input, "bj_input")
    app.add_template_filter(phone, "phone")
    app.add_template_filter(tel, "tel")
    app.add_template_filter(change_value, "change_value")
    app.add_template_filter(unit, "unit")
