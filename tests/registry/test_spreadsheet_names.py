"""Spreadsheets speak names: references and capabilities are written and read as the names a clerk knows, chosen
from drop-down lists built in the workbook from what the user may reference; every kind with spreadsheets
round-trips (export → import changes nothing; one edited name changes exactly that), on both databases."""

import csv
import io

import pytest
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries
from sqlalchemy import func, select

from rescue.models import (
    AuditEntry,
    Capability,
    Certificate,
    ContactPerson,
    Depot,
    Enterprise,
    Equipment,
    Expert,
    IncidentType,
    InspectionRecord,
    SupplyLot,
    Team,
    TrainingSession,
    User,
)
from rescue.readiness.kinds import CERTIFICATES, INSPECTIONS, TRAININGS
from rescue.registry import registry, spreadsheets
from rescue.registry.kinds import KINDS
from tests.test_spreadsheets import csv_bytes, upload, xlsx

SHEET_KINDS = {**KINDS, **{k.name: k for k in (INSPECTIONS, CERTIFICATES, TRAININGS)}}
SHARED = ("capabilities", "incident-types")  # reference data: the command center's alone
# edits only the command center may make (an enterprise's industry, a depot moved to another owner)
EDITED_BY_COMMAND_CENTER = (*SHARED, "enterprises", "depots")
GOVERNMENT = "政府或社会力量"


# --- helpers ---------------------------------------------------------------------------------


def read_rows(data: bytes, fmt: str) -> list[list]:
    if fmt == "csv":
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return [list(r) for r in load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True)]


def write_rows(rows: list[list], fmt: str) -> bytes:
    return csv_bytes(rows) if fmt == "csv" else xlsx(rows)


def drop_downs(data: bytes) -> dict[str, dict]:
    """Column header → its validation: the formula, whether Excel refuses other values, and the listed values
    (read back from the hidden sheet through the workbook name when the list is not inline)."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    out = {}
    for dv in ws.data_validations.dataValidation:
        first = str(dv.sqref).split()[0]
        min_col, min_row, max_col, max_row = range_boundaries(first)
        assert min_col == max_col and min_row == 2 and max_row >= 1000, first
        formula = dv.formula1
        if formula.startswith('"'):
            values, sheet = formula.strip('"').split(","), None
        else:
            (sheet, cells), *more = list(wb.defined_names[formula].destinations)
            assert not more
            values = [c.value for row in wb[sheet][cells.replace("$", "")] for c in row]
        out[header[min_col - 1]] = {
            "type": dv.type,
            "formula": formula,
            "strict": bool(dv.showErrorMessage),
            "values": values,
            "sheet": sheet,
            "hidden": wb[sheet].sheet_state == "hidden" if sheet else None,
        }
    return out


def enterprise_of(session, username: str) -> int:
    session.rollback()  # see what the requests committed
    return session.scalar(select(User.enterprise_id).where(User.username == username))


def snapshot(session, kind) -> dict:
    """Every record of `kind` as the API answers it."""
    session.rollback()
    session.expire_all()
    return {getattr(r, kind.key): registry.serialize(kind, r) for r in session.scalars(select(kind.model))}


def differences(before: dict, after: dict) -> dict:
    """{key: {field: (before, after)}} for every record that differs, and keys only on one side."""
    out = {k: "only after" for k in after.keys() - before.keys()} | {k: "only before" for k in before.keys() - after.keys()}
    for k in before.keys() & after.keys():
        changed = {
            f: (before[k].get(f), after[k].get(f))
            for f in before[k].keys() | after[k].keys()
            if before[k].get(f) != after[k].get(f)
        }
        if changed:
            out[k] = changed
    return out


def audit_max(session) -> int:
    session.rollback()
    return session.scalar(select(func.max(AuditEntry.id))) or 0


def audits_since(session, since: int) -> list[AuditEntry]:
    session.rollback()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.id > since).order_by(AuditEntry.id)))


def label(kind_name: str, field: str) -> str:
    return next(c.label for c in spreadsheets._export_columns(SHEET_KINDS[kind_name]) if c.field == field)


@pytest.fixture
def more(api, session) -> dict:
    """Records the seed lacks: enterprise A's second team, depot, contact and item of equipment with names of
    their own (targets of edits), two contacts sharing one name, a government team with A's team's name, a
    roster shift and an escalation step on both sides."""
    a, cc = api("enterprise-a"), api("dispatcher")
    own = enterprise_of(session, "enterprise-a")
    team = session.scalars(select(Team).where(Team.enterprise_id == own).order_by(Team.id)).first()
    out = {"enterprise": own, "team": team.id, "team_name": team.name}

    def made(res):
        assert res.status_code == 201, res.json
        return res.json["id"]

    place = {"lat": 38.12, "lon": 106.51}
    out["team2"] = made(
        a.post(
            "/api/v1/teams",
            json={
                "name": "石化公司第二救援队",
                "level": "enterprise",
                "team_type": "危化品救援",
                "capabilities": ["firefighting"],
            }
            | place,
        )
    )
    out["depot2"] = made(a.post("/api/v1/depots", json={"name": "石化公司第二物资库", "level": "enterprise"} | place))
    out["contact2"] = made(a.post("/api/v1/contacts", json={"name": "联络员 刘洋", "phone": "13995100001"}))
    out["item2"] = made(a.post("/api/v1/equipment", json={"name": "测试用四合一检测仪", "team_id": out["team2"]}))
    out["twins"] = [
        made(a.post("/api/v1/contacts", json={"name": "值班员 张伟", "phone": phone})) for phone in ("13995100002", "13995100003")
    ]
    out["gov_team"] = made(
        cc.post(
            "/api/v1/teams",
            json={"name": team.name, "level": "county", "team_type": "综合救援", "capabilities": ["firefighting"]} | place,
        )
    )
    out["gov_contact"] = made(cc.post("/api/v1/contacts", json={"name": "值班员 王磊", "phone": "13995100004"}))
    shift = {"starts_dt": "2026-12-01T08:00:00+08:00", "ends_dt": "2026-12-01T20:00:00+08:00"}
    made(a.post("/api/v1/roster-shifts", json={"team_id": team.id, "contact_id": out["twins"][0]} | shift))
    made(cc.post("/api/v1/roster-shifts", json={"team_id": out["gov_team"], "contact_id": out["gov_contact"]} | shift))
    made(a.post("/api/v1/escalation-chains", json={"team_id": team.id, "position": 0, "contact_id": out["twins"][1]}))
    made(cc.post("/api/v1/escalation-chains", json={"team_id": out["gov_team"], "position": 0, "contact_id": out["gov_contact"]}))
    return out


# --- drop-down lists -------------------------------------------------------------------------


def test_template_lists_only_the_enterprises_own_records(api, session, more):
    own, other = enterprise_of(session, "enterprise-a"), enterprise_of(session, "enterprise-b")
    res = api("enterprise-a").get("/api/v1/equipment/template.xlsx")
    assert res.status_code == 200
    lists = drop_downs(res.data)
    names = lambda model, owner: sorted(session.scalars(select(model.name).where(model.enterprise_id == owner)))  # noqa: E731
    assert sorted(lists["队伍"]["values"]) == names(Team, own)
    assert sorted(lists["储备库"]["values"]) == names(Depot, own)
    assert lists["所属企业"]["values"] == [session.get(Enterprise, own).name]
    # nothing of another owner, not even a name shared with one: the government team named like A's is absent
    listed = {v for col in lists.values() for v in col["values"]}
    for model in (Team, Depot, Enterprise):
        for owner in (other, None):
            theirs = (
                set(session.scalars(select(model.name).where(model.enterprise_id == owner))) if model is not Enterprise else set()
            )
            assert not (theirs & listed) - set(names(model, own)), model
    assert session.get(Enterprise, other).name not in listed
    # capabilities are shared reference data: all of them, by name, and no code
    capabilities = session.execute(select(Capability.code, Capability.name)).all()
    assert sorted(lists["能力 (多个用 、 分隔)"]["values"]) == sorted(n for _, n in capabilities)
    assert not {c for c, _ in capabilities} & listed
    # records and capabilities on the hidden sheet through workbook names; Excel refuses other values in single
    # cells, but lets a multi-valued cell hold several names typed after the one chosen
    for header in ("队伍", "储备库", "所属企业", "能力 (多个用 、 分隔)"):
        assert lists[header]["type"] == "list" and lists[header]["hidden"] is True, header
        assert lists[header]["formula"].startswith("list_")
    assert lists["队伍"]["strict"] and lists["所属企业"]["strict"]
    assert not lists["能力 (多个用 、 分隔)"]["strict"]
    assert lists["状态"]["values"] == ["完好", "待修", "已出动"] and lists["状态"]["strict"]


def test_long_lists_leave_the_inline_formula(api, session):
    """The command center's lists are far longer than the 255 characters Excel takes inline."""
    res = api("dispatcher").get("/api/v1/inspections/template.xlsx")
    lists = drop_downs(res.data)
    equipment = lists["装备"]
    assert equipment["hidden"] is True
    assert sum(len(v) + 1 for v in equipment["values"]) > 255
    assert len(equipment["values"]) == session.scalar(select(func.count()).select_from(Equipment))
    assert len(set(equipment["values"])) == len(equipment["values"])  # every choice names one item


@pytest.mark.parametrize("kind_name", list(SHEET_KINDS))
def test_every_reference_column_has_a_drop_down(api, kind_name, more):
    path = f"/api/v1/{kind_name}/template.xlsx"
    for user in ("dispatcher", "enterprise-a"):
        res = api(user).get(path)
        assert res.status_code == 200
        lists = drop_downs(res.data)
        for col in spreadsheets.columns(SHEET_KINDS[kind_name]):
            if col.ref is not None:
                assert col.label in lists, (user, col.label)
                assert lists[col.label]["values"], (user, col.label)
                assert lists[col.label]["hidden"] is True
            elif col.type in ("enum", "bool"):
                assert col.label in lists, (user, col.label)
        help_rows = [list(r) for r in load_workbook(io.BytesIO(res.data)).worksheets[1].iter_rows(values_only=True)]
        text = "\n".join(str(r[0]) for r in help_rows if r[0] and not r[1])
        assert "、" in text and "下拉列表" in text  # the separator and the lists explained


def test_same_names_are_told_apart(api, session, more):
    """The command center sees A's team and the government team of the same name by their owners; A sees its two
    contacts of the same name by number; every label names exactly one record."""
    teams = drop_downs(api("dispatcher").get("/api/v1/contacts/template.xlsx").data)["队伍"]["values"]
    owner = session.get(Enterprise, more["enterprise"]).name
    assert f"{more['team_name']}（{owner}）" in teams and f"{more['team_name']}（{GOVERNMENT}）" in teams
    assert more["team_name"] not in teams
    contacts = drop_downs(api("enterprise-a").get("/api/v1/roster-shifts/template.xlsx").data)["联系人"]["values"]
    assert {f"值班员 张伟（编号 {i}）" for i in more["twins"]} <= set(contacts)
    assert "联络员 刘洋" in contacts and len(set(contacts)) == len(contacts)
    items = drop_downs(api("dispatcher").get("/api/v1/inspections/template.xlsx").data)["装备"]["values"]
    same = [v for v in items if v.startswith("便携式四合一气体检测仪（")]
    assert len(same) > 1  # the item repeats across custodians and is told apart by them


# --- importing by name -----------------------------------------------------------------------


def test_import_by_name(api, session, more):
    a = api("enterprise-a")
    gas = session.scalars(select(Capability).where(Capability.code.in_(["gas_detection", "gas_protection", "firefighting"])))
    names = {c.code: c.name for c in gas}
    header = ["名称", "能力 (多个用 、 分隔)", "数量", "队伍", "状态"]
    cell = f"{names['gas_detection']}、{names['gas_protection']}，{names['firefighting']}"
    res = upload(a, "equipment", xlsx([header, ["按名称导入的检测仪", cell, 2, "石化公司第二救援队", "完好"]]), "e.xlsx")
    assert res.status_code == 200, res.json
    session.rollback()
    item = session.scalars(select(Equipment).where(Equipment.name == "按名称导入的检测仪")).one()
    assert item.team_id == more["team2"] and item.enterprise_id == more["enterprise"]
    assert sorted(c.code for c in item.capability_rows) == ["firefighting", "gas_detection", "gas_protection"]
    # a numbered label picks one of two same-named contacts; full-width or plain brackets alike
    twin = more["twins"][1]
    rows = [["队伍", "联系人", "开始时间", "结束时间"]]
    rows.append([more["team_name"], f"值班员 张伟 (编号 {twin})", "2026-12-02T08:00+08:00", "2026-12-02T20:00+08:00"])
    res = upload(a, "roster-shifts", csv_bytes(rows), "r.csv")
    assert res.status_code == 200, res.json
    shifts = a.get(f"/api/v1/roster-shifts?contact_id={twin}").json["items"]
    assert [s["team_id"] for s in shifts] == [more["team"]]


def test_codes_and_ids_of_other_systems_still_import(api, session, more):
    """Files made before names (headers 企业ID, 队伍ID, 能力代码; ids and codes in the cells) keep working."""
    cc = api("dispatcher")
    header = ["名称", "能力代码 (多个用 ; 分隔)", "队伍ID", "企业ID"]
    row = ["旧格式导入的装备", "gas_detection gas_protection", more["team2"], more["enterprise"]]
    res = upload(cc, "equipment", csv_bytes([header, row]), "old.csv")
    assert res.status_code == 200, res.json
    item = cc.get("/api/v1/equipment?q=旧格式导入的装备").json["items"][0]
    assert item["team_id"] == more["team2"] and item["capabilities"] == ["gas_detection", "gas_protection"]
    res = upload(
        cc, "equipment", csv_bytes([["name", "capabilities", "depot_id"], ["英文列名装备", "gas_detection", 999999]]), "x.csv"
    )
    assert res.status_code == 422 and res.json["rows"][0]["reason"] == "不存在"


def test_unknown_and_ambiguous_names_are_cell_errors(api, session, more):
    a = api("enterprise-a")
    other_team = session.scalars(select(Team).where(Team.enterprise_id == enterprise_of(session, "enterprise-b"))).first()
    before = a.get("/api/v1/roster-shifts").json["total"]
    rows = [
        ["队伍", "联系人", "开始时间", "结束时间"],
        [more["team_name"], "联络员 刘洋", "2026-12-03T08:00+08:00", "2026-12-03T20:00+08:00"],  # good
        [more["team_name"], "值班员 张伟", "2026-12-03T08:00+08:00", "2026-12-03T20:00+08:00"],  # two of them
        ["不存在的队伍", "联络员 刘洋", "2026-12-03T08:00+08:00", "2026-12-03T20:00+08:00"],
        [other_team.name, "联络员 刘洋", "2026-12-03T08:00+08:00", "2026-12-03T20:00+08:00"],  # another owner's
    ]
    res = upload(a, "roster-shifts", xlsx(rows), "r.xlsx")
    assert res.status_code == 422
    errors = {(e["row"], e["column"]): e["reason"] for e in res.json["rows"]}
    assert set(errors) == {(3, "联系人"), (4, "队伍"), (5, "队伍")}
    t1, t2 = more["twins"]
    assert errors[(3, "联系人")] == (
        f"有 2 个名为「值班员 张伟」的联系人, 请改用带括号说明的名称, 如「值班员 张伟（编号 {t1}）」或「值班员 张伟（编号 {t2}）」"
    )
    assert errors[(4, "队伍")] == "未找到本企业名为「不存在的队伍」的救援队伍, 请从下拉列表选择"
    # another enterprise's team is as unknown as a made-up one: its existence does not leak
    assert errors[(5, "队伍")] == f"未找到本企业名为「{other_team.name}」的救援队伍, 请从下拉列表选择"
    assert a.get("/api/v1/roster-shifts").json["total"] == before  # all or nothing
    # capabilities: every unknown name of a cell named in one reason; the enterprise cell takes only its own
    rows = [["名称", "级别", "队伍类型", "能力", "纬度", "经度", "所属企业"]]
    rows.append(["坏能力队", "企业", "综合", "灭火、会飞、隐身", 38.1, 106.5, "国家能源集团宁夏煤业有限责任公司"])
    res = upload(a, "teams", csv_bytes(rows), "t.csv")
    assert res.status_code == 422
    errors = {e["field"]: e["reason"] for e in res.json["rows"]}
    assert errors["capabilities"] == "未找到能力: 会飞、隐身, 请从下拉列表选择"
    assert errors["enterprise_id"] == f"只能填写本企业「{session.get(Enterprise, more['enterprise']).name}」或留空"


def test_command_center_plain_name_follows_the_rows_owner(api, session, more):
    """A plain name shared by A's team and a government team: the row's enterprise tells which is meant; without
    one the row is refused rather than guessed."""
    cc = api("dispatcher")
    owner = session.get(Enterprise, more["enterprise"]).name
    rows = [["名称", "电话", "队伍", "所属企业"]]
    rows.append(["归属明确的联系人", "13995100011", more["team_name"], owner])
    res = upload(cc, "contacts", xlsx(rows), "c.xlsx")
    assert res.status_code == 200, res.json
    assert cc.get("/api/v1/contacts?q=归属明确的联系人").json["items"][0]["team_id"] == more["team"]
    res = upload(cc, "contacts", xlsx([rows[0][:3], ["归属不明的联系人", "13995100012", more["team_name"]]]), "c.xlsx")
    assert res.status_code == 422
    reason = res.json["rows"][0]["reason"]
    assert reason.startswith(f"有 2 个名为「{more['team_name']}」的救援队伍") and f"（{GOVERNMENT}）" in reason


# --- round trips -----------------------------------------------------------------------------

# derived fields that follow an edited reference (an item is where its custodian is)
DERIVED = {"equipment": {"lat", "lon"}, "supplies": {"lat", "lon"}, "inspections": {"equipment"}}


def _edit(kind_name: str, session, more, header: list, rows: list[list]) -> tuple[object, dict]:
    """Change one name-valued cell of one exported row, as a clerk would: the record's key and what must change."""
    own = more["enterprise"]

    def row_of(key) -> list:
        return next(r for r in rows[1:] if str(r[0]) == str(key))

    def put(row, field, text):
        row[header.index(label(kind_name, field))] = text

    def cap_name(code):
        return session.get(Capability, code).name

    if kind_name == "enterprises":
        row = row_of(own)
        put(row, "industry", "冶金工贸")
        return own, {"industry": "metallurgy_trade"}
    if kind_name == "depots":
        put(row_of(more["depot2"]), "enterprise_id", "国家能源集团宁夏煤业有限责任公司")
        return more["depot2"], {"enterprise_id": enterprise_of(session, "enterprise-b")}
    if kind_name in ("teams", "experts"):
        field = "capabilities" if kind_name == "teams" else "fields"
        model = Team if kind_name == "teams" else Expert
        record = session.scalars(select(model).where(model.enterprise_id == own).order_by(model.id)).first()
        old = [c.code for c in getattr(record, "capability_rows" if kind_name == "teams" else "field_rows")]
        new = next(c for c in ("psychological_support", "drilling_rescue") if c not in old)
        row = row_of(record.id)
        cell = row[header.index(label(kind_name, field))]
        assert cell == "、".join(cap_name(c) for c in old)  # written as names, in the record's order
        put(row, field, f"{cell}、{cap_name(new)}")
        return record.id, {field: [*old, new]}
    if kind_name == "equipment":
        item = session.scalars(
            select(Equipment).where(Equipment.enterprise_id == own, Equipment.team_id == more["team"]).order_by(Equipment.id)
        ).first()
        put(row_of(item.id), "team_id", "石化公司第二救援队")
        return item.id, {"team_id": more["team2"]}
    if kind_name == "supplies":
        from rescue.models import SupplyLot

        lot = session.scalars(select(SupplyLot).where(SupplyLot.enterprise_id == own).order_by(SupplyLot.id)).first()
        put(row_of(lot.id), "depot_id", "石化公司第二物资库")
        return lot.id, {"depot_id": more["depot2"]}
    if kind_name == "contacts":
        person = session.scalars(
            select(ContactPerson).where(ContactPerson.team_id == more["team"]).order_by(ContactPerson.id)
        ).first()
        put(row_of(person.id), "team_id", "石化公司第二救援队")
        return person.id, {"team_id": more["team2"]}
    if kind_name in ("roster-shifts", "escalation-chains"):
        key = int(rows[1][0])
        put(row_of(key), "contact_id", "联络员 刘洋")
        return key, {"contact_id": more["contact2"]}
    if kind_name == "certificates":
        cert = session.scalars(
            select(Certificate)
            .where(Certificate.enterprise_id == own, Certificate.contact_id.is_not(None))
            .order_by(Certificate.id)
        ).first()
        put(row_of(cert.id), "contact_id", "联络员 刘洋")
        return cert.id, {"contact_id": more["contact2"]}
    if kind_name == "inspections":
        record = session.scalars(select(InspectionRecord).where(InspectionRecord.enterprise_id == own)).first()
        put(row_of(record.id), "equipment_id", "测试用四合一检测仪")
        return record.id, {"equipment_id": more["item2"]}
    if kind_name == "training-sessions":
        training = session.scalars(select(TrainingSession).where(TrainingSession.enterprise_id == own)).first()
        row = row_of(training.id)
        cell = row[header.index(label(kind_name, "attendees"))]
        unlinked = next(a for a in training.attendees if a["contact_id"] is None)["name"]
        assert f"; {unlinked}" in cell or cell.startswith(unlinked)
        put(row, "attendees", cell.replace(unlinked, f"{unlinked}:联络员 刘洋"))
        attendees = [a | {"contact_id": more["contact2"]} if a["name"] == unlinked else a for a in training.attendees]
        return training.id, {"attendees": attendees}
    if kind_name == "capabilities":
        put(row_of("gas_detection"), "name", "气体检测 (含有毒气体)")
        return "gas_detection", {"name": "气体检测 (含有毒气体)"}
    if kind_name == "incident-types":
        it = session.scalars(select(IncidentType).order_by(IncidentType.code)).first()
        requirements = [dict(r) for r in it.requirements]
        old = requirements[0]["capability"]
        new = next(c for c in ("psychological_support", "drilling_rescue") if c not in {r["capability"] for r in requirements})
        row = row_of(it.code)
        cell = row[header.index(label(kind_name, "requirements"))]
        assert cell.startswith(f"{cap_name(old)}:")
        put(row, "requirements", cell.replace(cap_name(old), cap_name(new), 1))
        requirements[0]["capability"] = new
        return it.code, {"requirements": requirements}
    raise AssertionError(kind_name)


def _round_trip(client, session, kind, fmt: str) -> list[list]:
    """Export, import the file unchanged, and check that nothing changed; the exported rows."""
    before = snapshot(session, kind)
    res = client.get(f"/api/v1/{kind.name}/export.{fmt}")
    assert res.status_code == 200
    rows = read_rows(res.data, fmt)
    since = audit_max(session)
    res = upload(client, kind.name, res.data, f"export.{fmt}")
    assert res.status_code == 200, res.json
    assert res.json == {"created": 0, "updated": len(rows) - 1, "dry_run": False}
    updates = [e for e in audits_since(session, since) if e.action == "update"]
    assert differences(before, snapshot(session, kind)) == {}, [
        e.changes for e in updates if e.changes
    ]  # no diffs, no duplicates
    # every row was an update that changed nothing (a record keyed by code names its key in the entry)
    assert len(updates) == len(rows) - 1
    assert [e.changes for e in updates if set(e.changes) - {"key"}] == []
    return rows


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("kind_name", list(SHEET_KINDS))
def test_export_import_round_trip(api, session, more, kind_name, fmt):
    kind = SHEET_KINDS[kind_name]
    cc = api("dispatcher")
    # the command center's whole export: every owner's records, same names told apart
    _round_trip(cc, session, kind, fmt)
    clerk = cc if kind_name in SHARED else api("enterprise-a")
    rows = _round_trip(clerk, session, kind, fmt)
    if kind_name not in SHARED:
        assert len(rows) > 1, "enterprise A has records of every kind"
    # one name-valued cell edited: exactly that change
    if kind_name in EDITED_BY_COMMAND_CENTER:
        clerk = cc
        rows = read_rows(cc.get(f"/api/v1/{kind_name}/export.{fmt}").data, fmt)
    before = snapshot(session, kind)
    header = rows[0]
    key, expected = _edit(kind_name, session, more, header, rows)
    edited = [header, next(r for r in rows[1:] if str(r[0]) == str(key))]
    res = upload(clerk, kind_name, write_rows(edited, fmt), f"edited.{fmt}")
    assert res.status_code == 200, res.json
    assert res.json == {"created": 0, "updated": 1, "dry_run": False}
    after = snapshot(session, kind)
    assert set(after) == set(before)
    for other in before:
        if other != key:
            assert after[other] == before[other], other
    changed = {f for f in before[key] if before[key][f] != after[key][f]} - {"updated_dt", "last_confirmed_dt"}
    assert {f: after[key][f] for f in expected} == expected
    assert set(expected) <= changed <= set(expected) | DERIVED.get(kind_name, set())


def test_incident_type_supplies_are_named_as_the_lots_name_them(api, session):
    """所需物资 reads 棉帐篷:100, not 1010101:100: exported by the name of the code's first lot, chosen from a list,
    imported by name (or by GB/T 38565 code); an unknown name is a cell error."""
    cc = api("dispatcher")
    it = next(t for t in session.scalars(select(IncidentType).order_by(IncidentType.code)) if t.supplies)
    code = it.supplies[0]["code"]
    lot_name = session.scalars(select(SupplyLot.name).where(SupplyLot.code == code).order_by(SupplyLot.id)).first()
    wb = load_workbook(io.BytesIO(cc.get("/api/v1/incident-types/export.xlsx").data))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    col = header.index("所需物资 (物资:数量, 多个用 ; 分隔)")
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[header.index("代码")] == it.code)
    assert row[col].startswith(f"{lot_name}:") and code not in row[col]
    assert "list_supply_codes" in wb.defined_names  # the drop-down list of supply names
    exported = list(csv.reader(io.StringIO(cc.get("/api/v1/incident-types/export.csv").data.decode("utf-8-sig"))))
    head, rows = exported[0], [r for r in exported[1:] if r[exported[0].index("代码")] == it.code]
    rows[0][col] = f"{lot_name}:77; {code}:5"  # by name, and by code as other systems send it
    res = upload(cc, "incident-types", csv_bytes([head, *rows]), "t.csv")
    assert res.status_code == 200, res.json
    session.rollback()  # a new read transaction: the import's commit
    got = [(s["code"], s["quantity"]) for s in session.get(IncidentType, it.code).supplies]
    assert got == [(code, 77), (code, 5)], got
    rows[0][col] = "不存在的物资:3"
    res = upload(cc, "incident-types", csv_bytes([head, *rows]), "t.csv")
    assert res.status_code == 422
    assert any("未找到名为「不存在的物资」的物资" in e["reason"] for e in res.json["rows"]), res.json
