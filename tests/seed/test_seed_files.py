"""Checks on the Ningxia seed files in seed/data (no app or database needed)."""

import json
import math
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import phonenumbers
import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "seed" / "data"
sys.path.insert(0, str(ROOT))

from rescue.codes import credit_code_error, supply_code_error  # noqa: E402

FILES = ["capabilities", "incident_types", "enterprises", "depots", "teams", "experts", "equipment", "supplies", "contacts"]
KEYED = ["enterprises", "depots", "teams", "experts", "equipment", "supplies", "contacts"]
TODAY = date(2026, 11, 28)
LAT = (35.2, 39.4)
LON = (104.3, 107.7)

# The 5 prefecture cities and 22 county-level units of Ningxia with approximate centres (WGS-84).
COUNTIES = {
    "兴庆区": ("银川市", 38.48, 106.28),
    "西夏区": ("银川市", 38.48, 106.18),
    "金凤区": ("银川市", 38.47, 106.25),
    "永宁县": ("银川市", 38.28, 106.25),
    "贺兰县": ("银川市", 38.55, 106.35),
    "灵武市": ("银川市", 38.10, 106.33),
    "大武口区": ("石嘴山市", 39.02, 106.38),
    "惠农区": ("石嘴山市", 39.25, 106.78),
    "平罗县": ("石嘴山市", 38.90, 106.53),
    "利通区": ("吴忠市", 37.98, 106.20),
    "红寺堡区": ("吴忠市", 37.425, 106.062),
    "盐池县": ("吴忠市", 37.78, 107.40),
    "同心县": ("吴忠市", 36.98, 105.92),
    "青铜峡市": ("吴忠市", 38.02, 106.07),
    "原州区": ("固原市", 36.00, 106.28),
    "西吉县": ("固原市", 35.97, 105.73),
    "隆德县": ("固原市", 35.62, 106.12),
    "泾源县": ("固原市", 35.48, 106.33),
    "彭阳县": ("固原市", 35.85, 106.63),
    "沙坡头区": ("中卫市", 37.52, 105.18),
    "中宁县": ("中卫市", 37.48, 105.67),
    "海原县": ("中卫市", 36.57, 105.65),
}
CITIES = {"银川市", "石嘴山市", "吴忠市", "固原市", "中卫市"}
INDUSTRIES = {
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
}
LEVELS = {"national", "provincial", "city", "county", "enterprise", "social"}
CATEGORIES = {"rescue", "hazmat", "fire", "medical", "engineering", "utility", "support", "expert_field"}
# fields each file's records carry (the loader passes them to the registry schemas, which forbid others)
FIELDS = {
    "capabilities": {"code", "name", "category"},
    "incident_types": {"code", "name", "industry", "requirements", "supplies"},
    "enterprises": {"key", "name", "credit_code", "industry", "city", "county", "address", "lat", "lon", "demo", "verified_note"},
    "depots": {
        "key",
        "name",
        "level",
        "enterprise",
        "city",
        "county",
        "address",
        "lat",
        "lon",
        "contact_name",
        "contact_phone",
        "demo",
        "verified_note",
    },
    "teams": {
        "key",
        "name",
        "level",
        "team_type",
        "capabilities",
        "enterprise",
        "city",
        "county",
        "place",
        "lat",
        "lon",
        "headcount",
        "vehicles",
        "mine_rescue_grade",
        "turnout_min",
        "duty_24h",
        "status",
        "backbone",
        "verified",
        "duty_phone",
        "commander_name",
        "commander_phone",
        "demo",
        "verified_note",
    },
    "experts": {
        "key",
        "name",
        "fields",
        "title",
        "employer",
        "enterprise",
        "phone",
        "city",
        "county",
        "lat",
        "lon",
        "availability",
        "remote_ok",
        "demo",
    },
    "equipment": {
        "key",
        "name",
        "equipment_type",
        "capabilities",
        "model",
        "quantity",
        "status",
        "team",
        "depot",
        "next_inspection",
        "demo",
    },
    "supplies": {"key", "code", "name", "spec", "unit", "quantity", "depot", "expiry_date", "demo"},
    "contacts": {"key", "name", "phone", "role", "organisation", "team", "enterprise", "demo"},
}
REQUIRED_OPTIONAL = {
    "incident_types": {"supplies"},
    "enterprises": {"verified_note"},
    "depots": {"verified_note"},
    "teams": {"verified_note"},
}
# demo records not confirmed for months, so the regulator's 数据时效 list has something to show
STALE_CAPABLE = ("teams", "equipment", "experts", "depots", "supplies")
for _name in STALE_CAPABLE:
    FIELDS[_name] = FIELDS[_name] | {"confirmed_days_ago"}
    REQUIRED_OPTIONAL[_name] = REQUIRED_OPTIONAL.get(_name, set()) | {"confirmed_days_ago"}


def load(name):
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def d():
    return {name: load(name) for name in FILES}


def keys(records, field="key"):
    return {r[field] for r in records}


def km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(a))


def valid_phone(s, *, mobile=False):
    if not isinstance(s, str) or not s.startswith("+86"):
        return False
    n = phonenumbers.parse(s, None)
    if not phonenumbers.is_valid_number(n) or phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164) != s:
        return False
    return not mobile or phonenumbers.number_type(n) == phonenumbers.PhoneNumberType.MOBILE


# ---------------------------------------------------------------- structure


@pytest.mark.parametrize("name", FILES)
def test_file_parses_as_list_of_objects_with_known_fields(name):
    raw = (DATA / f"{name}.json").read_text(encoding="utf-8")
    records = json.loads(raw)
    assert isinstance(records, list) and records
    assert "\\u" not in raw, "write with ensure_ascii=False"
    for r in records:
        assert isinstance(r, dict)
        extra = set(r) - FIELDS[name]
        missing = FIELDS[name] - set(r) - REQUIRED_OPTIONAL.get(name, set())
        assert not extra, (name, r.get("key") or r.get("code"), extra)
        assert not missing, (name, r.get("key") or r.get("code"), missing)


@pytest.mark.parametrize("name", KEYED)
def test_keys_unique_ascii_and_records_are_demo(name, d):
    ks = [r["key"] for r in d[name]]
    dup = [k for k, n in Counter(ks).items() if n > 1]
    assert not dup, dup
    for r in d[name]:
        assert r["key"].isascii() and r["key"].replace("_", "").isalnum(), r["key"]
        assert r["demo"] is True, r["key"]


def test_codes_unique(d):
    for name in ("capabilities", "incident_types"):
        codes = [r["code"] for r in d[name]]
        assert len(codes) == len(set(codes)), name


# ---------------------------------------------------------------- counts


def test_counts(d):
    assert len(d["capabilities"]) >= 30
    assert len(d["enterprises"]) >= 30
    assert len(d["depots"]) >= 16
    assert len(d["teams"]) >= 48
    assert len([t for t in d["teams"] if not t["backbone"]]) >= 40
    assert len(d["experts"]) >= 60
    assert len(d["equipment"]) >= 150
    assert len(d["supplies"]) >= 100
    assert len({s["depot"] for s in d["supplies"]}) >= 15


def test_eight_backbone_teams(d):
    backbone = [t for t in d["teams"] if t["backbone"]]
    assert len(backbone) == 8
    names = {t["name"]: t for t in backbone}
    for named in ("中石油宁夏石化公司救援队", "神华宁煤集团应急救援队"):
        assert named in names, named
        assert names[named]["verified"] is True
    assert sum(t["verified"] for t in backbone) == 2, "only the two teams named in the 2017 guidance are verified"
    assert all(t["enterprise"] for t in backbone)


def test_demo_enterprise_accounts(d):
    ents = {e["key"]: e for e in d["enterprises"]}
    assert ents["ningxia_petrochem"]["name"] == "中国石油宁夏石化公司"
    assert ents["ningxia_coal"]["name"] == "国家能源集团宁夏煤业有限责任公司"
    teams = {t["key"]: t for t in d["teams"]}
    assert teams["petrochem_rescue"]["enterprise"] == "ningxia_petrochem"
    assert teams["ningxia_coal_rescue"]["enterprise"] == "ningxia_coal"


# ---------------------------------------------------------------- references


def test_references_resolve(d):
    ents, deps, teams = keys(d["enterprises"]), keys(d["depots"]), keys(d["teams"])
    for r in d["depots"] + d["teams"] + d["experts"] + d["contacts"]:
        assert r.get("enterprise") is None or r["enterprise"] in ents, r["key"]
    for e in d["equipment"]:
        assert (e["team"] is None) != (e["depot"] is None), f"{e['key']}: exactly one of team/depot"
        assert e["team"] is None or e["team"] in teams, e["key"]
        assert e["depot"] is None or e["depot"] in deps, e["key"]
    for s in d["supplies"]:
        assert s["depot"] in deps, s["key"]
    for c in d["contacts"]:
        assert c["team"] is None or c["team"] in teams, c["key"]


def test_capability_codes_known(d):
    caps = keys(d["capabilities"], "code")
    for c in d["capabilities"]:
        assert c["code"].isascii() and c["code"] == c["code"].lower(), c["code"]
        assert c["category"] in CATEGORIES, c
    for t in d["teams"]:
        assert t["capabilities"] and set(t["capabilities"]) <= caps, t["key"]
    for e in d["equipment"]:
        assert set(e["capabilities"]) <= caps, e["key"]
    for x in d["experts"]:
        assert x["fields"] and set(x["fields"]) <= caps, x["key"]
    for it in d["incident_types"]:
        assert it["requirements"], it["code"]
        for req in it["requirements"]:
            assert req["capability"] in caps, (it["code"], req)
            assert req["unit"] in {"team", "person", "item"} and isinstance(req["quantity"], int) and req["quantity"] >= 1


def test_incident_types_cover_every_industry(d):
    per = Counter(it["industry"] for it in d["incident_types"])
    assert set(per) == INDUSTRIES
    assert all(n >= 2 for n in per.values()), per
    for it in d["incident_types"]:
        for s in it.get("supplies", []):
            assert supply_code_error(s["code"]) is None, (it["code"], s)
            assert s["quantity"] > 0


def test_every_team_has_commander_and_deputy_every_enterprise_a_manager(d):
    by_team: dict[str, dict[str, list]] = {}
    for c in d["contacts"]:
        if c["team"]:
            by_team.setdefault(c["team"], {}).setdefault(c["role"], []).append(c)
    for t in d["teams"]:
        roles = by_team.get(t["key"], {})
        assert roles.get("deputy"), t["key"]
        cmd = roles.get("commander")
        assert cmd and len(cmd) == 1, t["key"]
        assert (cmd[0]["name"], cmd[0]["phone"]) == (t["commander_name"], t["commander_phone"]), t["key"]
    managers = {c["enterprise"] for c in d["contacts"] if c["role"] == "manager" and c["enterprise"]}
    assert keys(d["enterprises"]) <= managers
    roles = {"commander", "deputy", "duty", "member", "manager", "liaison"}
    assert all(c["role"] in roles for c in d["contacts"])


# ---------------------------------------------------------------- geography


def test_every_county_and_city_has_a_team(d):
    counties = {t["county"] for t in d["teams"]}
    assert set(COUNTIES) <= counties, set(COUNTIES) - counties
    assert {t["city"] for t in d["teams"]} == CITIES


@pytest.mark.parametrize("name", ["enterprises", "depots", "teams", "experts"])
def test_coordinates_inside_ningxia_and_near_their_county(name, d):
    for r in d[name]:
        assert LAT[0] <= r["lat"] <= LAT[1] and LON[0] <= r["lon"] <= LON[1], r["key"]
        assert r["county"] in COUNTIES, (r["key"], r["county"])
        city, clat, clon = COUNTIES[r["county"]]
        assert r["city"] == city, r["key"]
        assert km(r["lat"], r["lon"], clat, clon) < 80, r["key"]


def test_all_cities_have_depots_and_enterprises(d):
    assert {x["city"] for x in d["depots"]} == CITIES
    assert {x["city"] for x in d["enterprises"]} == CITIES
    assert {x["city"] for x in d["experts"]} == CITIES


# ---------------------------------------------------------------- codes and phones


def test_credit_codes_valid_and_in_ningxia(d):
    codes = [e["credit_code"] for e in d["enterprises"]]
    assert len(codes) == len(set(codes))
    for e in d["enterprises"]:
        assert credit_code_error(e["credit_code"]) is None, e["key"]
        assert e["credit_code"][2:4] == "64", e["key"]
        assert e["industry"] in INDUSTRIES, e["key"]


def test_supply_lots(d):
    for s in d["supplies"]:
        assert supply_code_error(s["code"]) is None, s["key"]
        assert s["quantity"] > 0 and s["unit"] and s["name"], s["key"]
    dates = [date.fromisoformat(s["expiry_date"]) for s in d["supplies"] if s["expiry_date"]]
    assert any(x < TODAY for x in dates), "some lots already expired"
    assert any(TODAY <= x <= date(2027, 1, 31) for x in dates), "some lots expiring soon"
    assert sum(x >= TODAY for x in dates) > len(dates) // 2


def test_phones_valid(d):
    mobiles = [t["commander_phone"] for t in d["teams"]] + [x["phone"] for x in d["experts"]]
    mobiles += [x["contact_phone"] for x in d["depots"]]
    mobiles += [c["phone"] for c in d["contacts"] if c["role"] != "duty"]
    for p in mobiles:
        assert valid_phone(p, mobile=True), p
    for t in d["teams"]:
        assert valid_phone(t["duty_phone"]), t["key"]
    for c in d["contacts"]:
        assert valid_phone(c["phone"]), c["key"]
    people = [c["phone"] for c in d["contacts"] if c["role"] != "duty"] + [x["phone"] for x in d["experts"]]
    assert len(people) == len(set(people)), "each person has their own number"


# ---------------------------------------------------------------- enums and values


def test_team_values(d):
    statuses = Counter(t["status"] for t in d["teams"])
    assert set(statuses) <= {"available", "committed", "off_duty", "out_of_service"}
    assert statuses["available"] > 0.8 * len(d["teams"])
    for t in d["teams"]:
        assert t["level"] in LEVELS, t["key"]
        assert t["mine_rescue_grade"] in {None, "special", "grade1", "grade2", "grade3"}, t["key"]
        if t["mine_rescue_grade"]:
            assert "mine_rescue" in t["capabilities"], t["key"]
        assert t["headcount"] > 0 and t["vehicles"] >= 0 and 0 <= t["turnout_min"] <= 24 * 60, t["key"]
        assert isinstance(t["duty_24h"], bool) and isinstance(t["verified"], bool)
    assert any(t["team_type"] == "mine_rescue" and t["county"] == "大武口区" for t in d["teams"])


def test_other_values(d):
    assert all(x["level"] in LEVELS for x in d["depots"])
    assert all(x["availability"] in {"available", "busy", "unavailable"} for x in d["experts"])
    eq_status = Counter(e["status"] for e in d["equipment"])
    assert set(eq_status) <= {"operational", "unserviceable", "deployed"}
    assert eq_status["operational"] > 0.8 * len(d["equipment"])
    for e in d["equipment"]:
        date.fromisoformat(e["next_inspection"])
        assert e["quantity"] >= 1, e["key"]


# ---------------------------------------------------------------- generator


def test_generator_reproduces_the_files(tmp_path):
    script = ROOT / "seed" / "tools" / "make_demo_data.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True, capture_output=True)
    for name in FILES:
        assert (tmp_path / f"{name}.json").read_bytes() == (DATA / f"{name}.json").read_bytes(), name
