"""Spreadsheet templates, exports and all-or-nothing bulk imports, on both databases."""

import csv
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from rescue.models import AuditEntry
from rescue.registry import spreadsheets
from rescue.registry.kinds import KINDS

TEAM_HEADERS = ["名称", "级别", "队伍类型", "能力 (多个用 、 分隔)", "纬度", "经度", "人数", "骨干队伍", "状态"]


def xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], *, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def read_xlsx(data: bytes, sheet=0) -> list[list]:
    wb = load_workbook(io.BytesIO(data))
    return [list(r) for r in wb.worksheets[sheet].iter_rows(values_only=True)]


def upload(client, kind: str, data: bytes, filename: str, *, dry_run=False):
    path = f"/api/v1/{kind}/import" + ("?dry_run=1" if dry_run else "")
    return client.post(path, data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def total(client, kind: str) -> int:
    res = client.get(f"/api/v1/{kind}{'&' if '?' in kind else '?'}limit=1")
    assert res.status_code == 200, res.json
    return res.json["total"]


def audit_count(app, action: str) -> int:
    with app.app_context():
        from rescue.web.extensions import get_session

        return get_session().scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


@pytest.fixture
def dispatcher(api):
    return api("dispatcher")


@pytest.fixture
def codes(dispatcher) -> list[str]:
    return [c["code"] for c in dispatcher.get("/api/v1/capabilities?limit=500").json["items"]]


def team_row(name, codes, *, lat=38.48, lon=106.23, level="市", headcount=12, backbone="是", status="待命"):
    return [name, level, "综合救援", f"{codes[0]}；{codes[1]}", lat, lon, headcount, backbone, status]


# --- templates -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind_name", list(KINDS))
def test_xlsx_template_has_chinese_headers_and_a_help_sheet(api, kind_name):
    res = api("regulator").get(f"/api/v1/{kind_name}/template.xlsx")
    assert res.status_code == 200
    assert res.mimetype == spreadsheets.XLSX_MIMETYPE
    assert "attachment" in res.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(res.data))
    assert wb.sheetnames[1] == "填写说明"
    header = [c.value for c in wb.worksheets[0][1]]
    expected = [c.label for c in spreadsheets.columns(KINDS[kind_name])]
    assert header == expected
    assert "demo" not in header and "id" not in [h.lower() for h in header]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in h) for h in header), header
    help_rows = read_xlsx(res.data, sheet=1)
    assert help_rows[0][:4] == ["列名", "字段", "类型", "必填"]
    described = {r[1]: r for r in help_rows[1 : len(expected) + 1]}
    assert set(described) == {c.field for c in spreadsheets.columns(KINDS[kind_name])}


def test_template_help_names_enum_values_in_chinese(api):
    res = api("dispatcher").get("/api/v1/teams/template.xlsx")
    rows = {r[1]: r for r in read_xlsx(res.data, sheet=1)[1:] if r[1]}
    assert rows["level"][3] == "是"  # required
    assert "省 (provincial)" in rows["level"][4]
    assert "待命 (available)" in rows["status"][4]
    assert rows["capabilities"][2] == "名称列表"
    assert rows["capabilities"][1] == "capabilities"


def test_csv_template_is_utf8_with_bom(api):
    res = api("dispatcher").get("/api/v1/teams/template.csv")
    assert res.status_code == 200
    assert res.mimetype == "text/csv"
    assert res.data.startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(io.StringIO(res.data.decode("utf-8-sig"))))
    assert header[:3] == ["纬度", "经度", "名称"]
    assert "能力 (多个用 、 分隔)" in header


def test_labels_are_unique_and_column_types_follow_the_schema():
    for kind in KINDS.values():
        labels = [c.label for c in spreadsheets._export_columns(kind)]
        assert len(labels) == len(set(labels)), kind.name
        for col in spreadsheets.columns(kind):
            if col.field.endswith("_id"):
                # a reference is written and read by name, from the list of the kind it points at
                assert col.type == "ref" and col.ref in KINDS, (kind.name, col)
                assert KINDS[col.ref].model is (kind.references.get(col.field) or KINDS["enterprises"].model)
    types = {c.field: c.type for c in spreadsheets.columns(KINDS["teams"])}
    expected = {"capabilities": "codes", "lat": "float", "headcount": "int", "backbone": "bool", "status": "enum", "name": "text"}
    assert expected.items() <= types.items()
    assert {c.field: c.ref for c in spreadsheets.columns(KINDS["teams"])}["capabilities"] == "capabilities"


# --- export and round trip -------------------------------------------------------------------


def test_export_then_import_updates_changed_records(app, dispatcher):
    before = total(dispatcher, "teams")
    res = dispatcher.get("/api/v1/teams/export.xlsx")
    assert res.status_code == 200
    rows = read_xlsx(res.data)
    header = rows[0]
    assert header[0] == "ID" and "名称" in header
    assert len(rows) - 1 == before
    first = rows[1]
    team_id = first[0]
    first[header.index("人数")] = 77
    first[header.index("名称")] = "改名后的救援队"
    audits = audit_count(app, "update")

    res = upload(dispatcher, "teams", xlsx([header, first]), "队伍.xlsx")

    assert res.status_code == 200, res.json
    assert res.json == {"created": 0, "updated": 1, "dry_run": False}
    team = dispatcher.get(f"/api/v1/teams/{team_id}").json
    assert team["headcount"] == 77 and team["name"] == "改名后的救援队"
    assert total(dispatcher, "teams") == before
    assert audit_count(app, "update") == audits + 1
    assert audit_count(app, "import") == 1


def test_whole_export_reimports_unchanged(dispatcher):
    for kind in ("teams", "experts", "equipment", "supplies", "depots", "contacts", "enterprises"):
        before = total(dispatcher, kind)
        data = dispatcher.get(f"/api/v1/{kind}/export.xlsx").data
        res = upload(dispatcher, kind, data, "export.xlsx", dry_run=True)
        assert res.status_code == 200, (kind, res.json)
        assert res.json == {"created": 0, "updated": before, "dry_run": True}


def test_csv_export_round_trips(dispatcher):
    res = dispatcher.get("/api/v1/experts/export.csv")
    assert res.status_code == 200 and res.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(res.data.decode("utf-8-sig"))))
    assert rows[0][0] == "ID"
    # phones are E.164; the apostrophe keeps Excel from reading "+86..." as a formula
    phone = rows[1][rows[0].index("电话")]
    assert phone.startswith("'+86")
    expert_id = int(rows[1][0])
    rows[1][rows[0].index("职称")] = "正高级工程师"
    res = upload(dispatcher, "experts", csv_bytes(rows[:2]), "experts.csv")
    assert res.status_code == 200, res.json
    expert = dispatcher.get(f"/api/v1/experts/{expert_id}").json
    assert expert["title"] == "正高级工程师"
    assert expert["phone"] == phone[1:]


def test_export_uses_the_list_filters(dispatcher):
    res = dispatcher.get("/api/v1/teams/export.csv?backbone=true")
    assert res.status_code == 200
    rows = list(csv.reader(io.StringIO(res.data.decode("utf-8-sig"))))
    assert len(rows) - 1 == total(dispatcher, "teams?backbone=true")
    assert {r[rows[0].index("骨干队伍")] for r in rows[1:]} <= {"是"}
    assert dispatcher.get("/api/v1/teams/export.csv?nonsense=1").status_code == 422


def test_enterprise_admin_exports_only_own_records(api):
    client = api("enterprise-a")
    own = client.get("/api/v1/enterprises").json["items"][0]["name"]
    rows = read_xlsx(client.get("/api/v1/teams/export.xlsx").data)
    col = rows[0].index("所属企业")
    assert len(rows) > 1
    assert {r[col] for r in rows[1:]} == {own}


def test_regulator_may_export_but_not_import(api):
    regulator = api("regulator")
    res = regulator.get("/api/v1/teams/export.xlsx")
    assert res.status_code == 200
    assert upload(regulator, "teams", res.data, "t.xlsx").status_code == 403


# --- creating --------------------------------------------------------------------------------


def test_import_creates_from_csv_with_bom_and_chinese_headers(app, dispatcher, codes):
    before = total(dispatcher, "teams")
    data = csv_bytes([TEAM_HEADERS, team_row("新建队伍甲", codes), team_row("新建队伍乙", codes, backbone="否", status="休整")])
    res = upload(dispatcher, "teams", data, "teams.csv")
    assert res.status_code == 200, res.json
    assert res.json == {"created": 2, "updated": 0, "dry_run": False}
    assert total(dispatcher, "teams") == before + 2
    team = dispatcher.get("/api/v1/teams?q=新建队伍乙").json["items"][0]
    assert team["capabilities"] == sorted(codes[:2])
    assert team["level"] == "city" and team["status"] == "off_duty" and team["backbone"] is False
    assert team["headcount"] == 12


def test_import_accepts_english_headers_and_gbk_csv(dispatcher, codes):
    before = total(dispatcher, "teams")
    header = ["name", "level", "team_type", "capabilities", "lat", "lon", "backbone"]
    rows = [header, ["English header team", "county", "综合", f"{codes[0]},{codes[1]}", "38.5", "106.2", "true"]]
    res = upload(dispatcher, "teams", csv_bytes(rows, encoding="gb18030"), "teams.csv")
    assert res.status_code == 200, res.json
    assert total(dispatcher, "teams") == before + 1
    team = dispatcher.get("/api/v1/teams?q=English header").json["items"][0]
    assert team["backbone"] is True and team["level"] == "county"


def test_short_chinese_headers_and_xlsx_types(dispatcher, codes):
    depot = dispatcher.get("/api/v1/depots?limit=1").json["items"][0]
    header = ["名称", "能力代码", "数量", "储备库ID", "下次检验日期", "状态"]
    from datetime import datetime

    res = upload(
        dispatcher, "equipment", xlsx([header, ["排水泵", codes[0], 3.0, depot["id"], datetime(2027, 3, 1), "待修"]]), "e.xlsx"
    )
    assert res.status_code == 200, res.json
    item = dispatcher.get("/api/v1/equipment?q=排水泵&sort=-id").json["items"][0]
    assert item["quantity"] == 3 and item["next_inspection"] == "2027-03-01" and item["status"] == "unserviceable"


def test_incident_types_and_capabilities_import(api, codes):
    dispatcher = api("dispatcher")
    res = upload(
        dispatcher, "capabilities", xlsx([["代码", "名称", "类别"], ["drone_mapping", "无人机测绘", "support"]]), "c.xlsx"
    )
    assert res.status_code == 200, res.json
    assert res.json["created"] == 1
    rows = [
        ["代码", "名称", "行业", "所需能力 (代码:数量[:单位], 多个用 ; 分隔)"],
        ["test_type", "测试事件", "危险化学品", f"drone_mapping:2; {codes[0]}"],
    ]
    res = upload(dispatcher, "incident-types", xlsx(rows), "t.xlsx")
    assert res.status_code == 200, res.json
    it = dispatcher.get("/api/v1/incident-types/test_type").json
    assert it["industry"] == "hazardous_chemicals"
    assert [(r["capability"], r["quantity"]) for r in it["requirements"]] == [("drone_mapping", 2), (codes[0], 1)]
    # an existing code updates the record
    rows[1][1] = "测试事件 (改)"
    res = upload(dispatcher, "incident-types", xlsx(rows), "t.xlsx")
    assert res.json == {"created": 0, "updated": 1, "dry_run": False}
    assert upload(api("enterprise-a"), "capabilities", xlsx([["代码", "名称"], ["x_y", "x"]]), "c.xlsx").status_code == 403


def test_formula_like_text_is_kept_as_text(dispatcher, codes):
    res = upload(dispatcher, "teams", csv_bytes([TEAM_HEADERS, team_row("=HYPERLINK(1)", codes)]), "t.csv")
    assert res.status_code == 200, res.json
    data = dispatcher.get("/api/v1/teams/export.xlsx?q=HYPERLINK").data
    wb = load_workbook(io.BytesIO(data))
    cell = wb.worksheets[0].cell(row=2, column=[c.value for c in wb.worksheets[0][1]].index("名称") + 1)
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"
    text = dispatcher.get("/api/v1/teams/export.csv?q=HYPERLINK").data.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text


# --- all or nothing --------------------------------------------------------------------------


def test_bad_rows_are_all_reported_and_nothing_is_applied(app, dispatcher, codes):
    before = {k: total(dispatcher, k) for k in ("teams", "capabilities")}
    audits = audit_count(app, "create")
    rows = [
        TEAM_HEADERS,
        team_row("好队伍一", codes),
        team_row("", codes, lat=12.0, headcount="很多"),  # row 3: three bad cells
        team_row("好队伍二", codes),
        team_row("坏队伍", ["no_such_code", codes[0]], status="忙"),  # row 5: two bad cells
        team_row("好队伍三", codes),
    ]
    res = upload(dispatcher, "teams", xlsx(rows), "teams.xlsx")

    assert res.status_code == 422
    body = res.json
    assert body["error"] == "validation" and body["fields"] == {}
    assert "未导入" in body["message"]
    bad = {(e["row"], e["field"]): e for e in body["rows"]}
    assert set(bad) == {(3, "name"), (3, "lat"), (3, "headcount"), (5, "capabilities"), (5, "status")}
    assert bad[(3, "lat")]["column"] == "纬度" and "服务区域" in bad[(3, "lat")]["reason"]
    assert bad[(3, "headcount")]["reason"] == "应为整数"
    assert bad[(3, "name")]["column"] == "名称"
    assert "no_such_code" in bad[(5, "capabilities")]["reason"]
    assert bad[(5, "status")]["column"] == "状态" and "待命" in bad[(5, "status")]["reason"]
    assert [e["row"] for e in body["rows"]] == sorted(e["row"] for e in body["rows"])
    assert {k: total(dispatcher, k) for k in before} == before
    assert audit_count(app, "create") == audits
    assert audit_count(app, "import") == 0


def test_bad_update_row_leaves_good_updates_unapplied(dispatcher):
    rows = read_xlsx(dispatcher.get("/api/v1/teams/export.xlsx").data)
    header = rows[0]
    good, bad = rows[1], rows[2]
    old_name = good[header.index("名称")]
    good[header.index("名称")] = "不应保存的名称"
    bad[header.index("人数")] = -3
    missing = list(rows[3])
    missing[0] = 99_999_999
    garbled = list(rows[4])
    garbled[0] = "第五条"
    res = upload(dispatcher, "teams", xlsx([header, good, bad, missing, garbled]), "t.xlsx")
    assert res.status_code == 422
    errors = {(e["row"], e["column"]): e["reason"] for e in res.json["rows"]}
    assert set(errors) == {(3, "人数"), (4, "ID"), (5, "ID")}
    assert errors[(4, "ID")] == "救援队伍不存在" and errors[(5, "ID")] == "应为整数"
    assert dispatcher.get(f"/api/v1/teams/{good[0]}").json["name"] == old_name


def test_dry_run_validates_without_applying(app, dispatcher, codes):
    before = total(dispatcher, "teams")
    data = csv_bytes([TEAM_HEADERS, team_row("试导入甲", codes), team_row("试导入乙", codes)])
    res = upload(dispatcher, "teams", data, "t.csv", dry_run=True)
    assert res.status_code == 200, res.json
    assert res.json == {"created": 2, "updated": 0, "dry_run": True}
    assert total(dispatcher, "teams") == before
    assert audit_count(app, "import") == 0
    bad = csv_bytes([TEAM_HEADERS, team_row("试导入丙", codes, lat="北纬38")])
    res = upload(dispatcher, "teams", bad, "t.csv", dry_run=True)
    assert res.status_code == 422 and res.json["rows"][0]["reason"] == "应为数字"


# --- enterprise admins -----------------------------------------------------------------------


def test_enterprise_admin_cannot_import_into_another_enterprise(api, codes):
    a, b = api("enterprise-a"), api("enterprise-b")
    a_id = a.get("/api/v1/enterprises").json["items"][0]["id"]
    b_id = b.get("/api/v1/enterprises").json["items"][0]["id"]
    b_team = b.get("/api/v1/teams?limit=1").json["items"][0]
    before = {"a": total(a, "teams"), "b": total(b, "teams")}
    header = ["ID", *TEAM_HEADERS, "企业ID"]
    rows = [
        header,
        # enterprise_id filled in from the caller; backbone is the command center's to set
        ["", *team_row("本企业新队伍", codes, backbone="否"), ""],
        ["", *team_row("冒名队伍", codes, backbone="否"), b_id],
        [b_team["id"], *team_row("改别人的队伍", codes, backbone="否"), ""],
    ]
    res = upload(a, "teams", xlsx(rows), "t.xlsx")
    assert res.status_code == 422
    errors = {(e["row"], e["field"]) for e in res.json["rows"]}
    assert errors == {(3, "enterprise_id"), (4, "id")}
    assert {"a": total(a, "teams"), "b": total(b, "teams")} == before
    assert b.get(f"/api/v1/teams/{b_team['id']}").json["name"] == b_team["name"]

    res = upload(a, "teams", xlsx(rows[:2]), "t.xlsx")
    assert res.status_code == 200, res.json
    created = a.get("/api/v1/teams?q=本企业新队伍").json["items"][0]
    assert created["enterprise_id"] == a_id


# --- bad files -------------------------------------------------------------------------------


def _zip(name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(name, content)
    return out.getvalue()


GARBAGE = {
    "empty": (b"", "t.csv"),
    "random bytes": (bytes(range(256)) * 20, "t.bin"),
    "nul bytes": (b"\x00" * 100, "t.csv"),
    "zip but not xlsx": (_zip("hello.txt", b"hi"), "t.xlsx"),
    "truncated xlsx": (xlsx([TEAM_HEADERS])[:300], "t.xlsx"),
    "xlsx with broken xml": (_zip("[Content_Types].xml", b"<Types><oops"), "t.xlsx"),
    "old xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "t.xls"),
    "named xlsx but text": (b"name,level\n", "t.xlsx"),
    "utf-16 junk": (b"\xff\xfe\x00\xd8", "t.csv"),
    "json": (b'{"name": "x"}', "t.json"),
    "blank header": (b"\n\n,,\nfoo,bar\n", "t.csv"),
    "only header": (csv_bytes([TEAM_HEADERS]), "t.csv"),
    "unclosed quote": (b"\xef\xbb\xbf" + '名称,级别\n"abc,市\n'.encode() + b"x" * 200_000, "t.csv"),
    "unknown columns": (csv_bytes([[*TEAM_HEADERS, "颜色", "尺寸"], ["a"] * 11]), "t.csv"),
    "missing required columns": (csv_bytes([["名称", "人数"], ["某队", 3]]), "t.csv"),
    "duplicate columns": (csv_bytes([["名称", "name"], ["a", "b"]]), "t.csv"),
}


@pytest.mark.parametrize("case", list(GARBAGE))
def test_bad_files_answer_422_never_500(dispatcher, case):
    data, filename = GARBAGE[case]
    before = total(dispatcher, "teams")
    res = upload(dispatcher, "teams", data, filename)
    assert res.status_code == 422, (case, res.json)
    assert res.json["error"] == "validation"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in res.json["message"]), res.json
    assert total(dispatcher, "teams") == before


def test_file_errors_name_the_columns(dispatcher):
    res = upload(dispatcher, "teams", *GARBAGE["unknown columns"])
    assert "颜色" in res.json["message"] and "尺寸" in res.json["message"]
    res = upload(dispatcher, "teams", *GARBAGE["missing required columns"])
    assert "级别" in res.json["message"] and "能力" in res.json["message"]
    res = upload(dispatcher, "teams", *GARBAGE["old xls"])
    assert ".xlsx" in res.json["message"]


def test_missing_file_and_too_many_rows(app, dispatcher, codes):
    res = dispatcher.post("/api/v1/teams/import", data={}, content_type="multipart/form-data")
    assert res.status_code == 422 and "file" in res.json["fields"]
    app.config["IMPORT_MAX_ROWS"] = 3
    rows = [TEAM_HEADERS] + [team_row(f"队{i}", codes) for i in range(4)]
    res = upload(dispatcher, "teams", xlsx(rows), "t.xlsx")
    assert res.status_code == 422 and "3" in res.json["message"]
    assert upload(dispatcher, "teams", xlsx(rows[:4]), "t.xlsx").status_code == 200


def test_oversized_upload_is_413(app, dispatcher):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    res = upload(dispatcher, "teams", b"x" * 5000, "t.csv")
    assert res.status_code == 413


def test_cell_conversion():
    col = {c.field: c for c in spreadsheets.columns(KINDS["teams"])}
    assert spreadsheets.convert(col["capabilities"], "a；b, c、d ;") == (["a", "b", "c", "d"], None)
    assert spreadsheets.convert(col["backbone"], "否") == (False, None)
    assert spreadsheets.convert(col["backbone"], 1) == (True, None)
    assert spreadsheets.convert(col["backbone"], "也许")[1] == "应为 是/否"
    assert spreadsheets.convert(col["headcount"], "１２") == (12, None)
    assert spreadsheets.convert(col["headcount"], 3.5)[1] == "应为整数"
    assert spreadsheets.convert(col["lat"], "nan")[1] == "应为有限数字"
    assert spreadsheets.convert(col["duty_phone"], 13800000000.0) == ("13800000000", None)
    assert spreadsheets.convert(col["duty_phone"], "'+8613800000000") == ("+8613800000000", None)
    assert spreadsheets.convert(col["level"], "Provincial") == ("provincial", None)
    eq = {c.field: c for c in spreadsheets.columns(KINDS["equipment"])}
    assert str(spreadsheets.convert(eq["next_inspection"], "2027年3月1日")[0]) == "2027-03-01"
    assert str(spreadsheets.convert(eq["next_inspection"], "2027/3/1")[0]) == "2027-03-01"
    it = {c.field: c for c in spreadsheets.columns(KINDS["incident-types"])}
    assert spreadsheets.convert(it["requirements"], "a:2:person；b")[0] == [
        {"capability": "a", "quantity": 2, "unit": "person"},
        {"capability": "b"},
    ]
    assert spreadsheets.convert(it["supplies"], "1010101:5.5")[0] == [{"code": "1010101", "quantity": 5.5}]
    assert spreadsheets.convert(it["requirements"], "a:b:c:d")[1].startswith("格式应为")
    assert spreadsheets.convert(it["requirements"], "box_rescue：3")[0] == [{"capability": "box_rescue", "quantity": 3}]
