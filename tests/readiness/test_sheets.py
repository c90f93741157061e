"""Certificates and training sessions through the registry's spreadsheet machinery: template, import (all or
nothing, every bad cell named), export that imports back; attendees as "姓名[:联系人]; 姓名" (the contact by name)."""

import io

from openpyxl import load_workbook
from sqlalchemy import select

from rescue.models import Certificate, ContactPerson, TrainingSession


def _upload(client, path, text: str, name="sheet.csv", **query):
    suffix = "?dry_run=1" if query.get("dry_run") else ""
    return client.post(path + suffix, data={"file": (io.BytesIO(text.encode()), name)}, content_type="multipart/form-data")


def test_certificates_import_and_export(api, session, enterprise_ids):
    a, b = api("enterprise-a"), api("enterprise-b")
    template = a.get("/api/v1/certificates/template.xlsx")
    assert template.status_code == 200
    headers = [c.value for c in load_workbook(io.BytesIO(template.data)).active[1]]
    assert {"持证人", "证书类别", "发证日期", "有效期至"} <= set(headers)

    bad = "持证人,证书类别,发证日期,有效期至\n马建国,魔法证,2024-01-01,2023-01-01\n,急救证,昨天,\n"
    res = _upload(a, "/api/v1/certificates/import", bad)
    assert res.status_code == 422
    cells = {(r["row"], r["field"]) for r in res.json["rows"]}
    assert {(2, "kind"), (3, "holder_name"), (3, "issued_on")} <= cells
    assert any(r["row"] == 2 and r["field"] == "expires_on" for r in res.json["rows"])
    assert session.scalar(select(Certificate.id).where(Certificate.holder_name == "马建国")) is None

    good = "持证人,证书类别,证书编号,发证日期,有效期至\n马建国,急救证,JJ-01,2024-01-01,2027-01-01\n李娟,危化品安全培训合格证,WH-7,2025-03-01,2028-03-01\n"
    assert _upload(a, "/api/v1/certificates/import", good, dry_run=True).json == {"created": 2, "updated": 0, "dry_run": True}
    session.rollback()
    assert session.scalar(select(Certificate.id).where(Certificate.holder_name == "马建国")) is None
    res = _upload(a, "/api/v1/certificates/import", good)
    assert res.status_code == 200 and res.json["created"] == 2
    session.rollback()
    made = session.scalars(select(Certificate).where(Certificate.holder_name.in_(["马建国", "李娟"]))).all()
    assert {c.enterprise_id for c in made} == {enterprise_ids["enterprise-a"]}

    export = a.get("/api/v1/certificates/export.csv").data.decode("utf-8-sig")
    assert "马建国" in export and "急救证" in export
    assert "马建国" not in b.get("/api/v1/certificates/export.csv").data.decode("utf-8-sig")
    assert api("regulator").post("/api/v1/certificates/import").status_code == 403


def test_training_sessions_import_with_attendees_round_trip(api, session, enterprise_ids):
    a = api("enterprise-a")
    contact = session.scalars(
        select(ContactPerson).where(ContactPerson.enterprise_id == enterprise_ids["enterprise-a"]).order_by(ContactPerson.id)
    ).first()
    sheet = f"标题,培训日期,学时,参训人员\n液氯泄漏处置培训,2026-03-02,4,马建国；{contact.name}:{contact.name}、王强\n"
    res = _upload(a, "/api/v1/training-sessions/import", sheet)
    assert res.status_code == 200, res.json
    session.rollback()
    training = session.scalars(select(TrainingSession).where(TrainingSession.title == "液氯泄漏处置培训")).one()
    assert training.attendees == [
        {"name": "马建国", "contact_id": None},
        {"name": contact.name, "contact_id": contact.id},
        {"name": "王强", "contact_id": None},
    ]
    bad = "标题,培训日期,参训人员\n夜间应急演练培训,2026-03-02,张三:十二\n"
    res = _upload(a, "/api/v1/training-sessions/import", bad)
    assert res.status_code == 422 and res.json["rows"][0]["field"] == "attendees"
    assert res.json["rows"][0]["reason"] == "「张三」: 未找到本企业名为「十二」的联系人, 请填写联系人名单中的名称"
    # the contact's ID, as other systems wrote it, still links it
    res = _upload(
        a, "/api/v1/training-sessions/import", f"标题,培训日期,参训人员\n按编号关联的培训,2026-03-03,李四:{contact.id}\n"
    )
    assert res.status_code == 200, res.json
    session.rollback()
    linked = session.scalars(select(TrainingSession).where(TrainingSession.title == "按编号关联的培训")).one()
    assert linked.attendees == [{"name": "李四", "contact_id": contact.id}]

    export = a.get("/api/v1/training-sessions/export.xlsx")
    ws = load_workbook(io.BytesIO(export.data)).active
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[header.index("标题")] == "液氯泄漏处置培训")
    assert row[header.index("参训人员")] == f"马建国; {contact.name}:{contact.name}; 王强"
    # the exported file imports back as an update of the same record
    buf = io.BytesIO(export.data)
    res = a.post("/api/v1/training-sessions/import", data={"file": (buf, "back.xlsx")}, content_type="multipart/form-data")
    assert res.status_code == 200, res.json
    assert res.json["created"] == 0 and res.json["updated"] >= 1


def test_training_import_refuses_another_enterprises_contact(api, session, enterprise_ids):
    other = session.scalars(
        select(ContactPerson).where(ContactPerson.enterprise_id == enterprise_ids["enterprise-b"]).order_by(ContactPerson.id)
    ).first()
    sheet = f"标题,培训日期,参训人员\n跨企业培训,2026-03-02,{other.name}:{other.id}\n"
    res = _upload(api("enterprise-a"), "/api/v1/training-sessions/import", sheet)
    assert res.status_code == 422 and "属于其他企业" in res.json["fields"]["file"]
    session.rollback()
    assert session.scalar(select(TrainingSession.id).where(TrainingSession.title == "跨企业培训")) is None
    # by name it is simply not among the enterprise's contacts: the other enterprise's names stay unknown
    sheet = f"标题,培训日期,参训人员\n跨企业培训,2026-03-02,{other.name}:{other.name}\n"
    res = _upload(api("enterprise-a"), "/api/v1/training-sessions/import", sheet)
    assert res.status_code == 422 and res.json["rows"][0]["field"] == "attendees"
    assert f"未找到本企业名为「{other.name}」的联系人" in res.json["rows"][0]["reason"]
