"""The readiness page's forms: hazard sources with substances, certificates, training with attendees,
inspections, deployment corrections and plan deletion; a bad form comes back with every invalid field at once."""

import re

from sqlalchemy import select

from rescue.models import Certificate, EmergencyPlan, Equipment, HazardSource, InspectionRecord, TrainingSession
from tests.pages.test_pages import csrf_of, sign_in

SITE = (38.5560, 106.1290)


def _post(client, path, data, page="/readiness/", **kw):
    token = csrf_of(client.get(page).text)
    return client.post(path, data=data | {"csrf_token": token}, **kw)


def test_hazard_source_form_with_substances(client, session):
    before = len(session.scalars(select(HazardSource.id)).all())
    sign_in(client, "enterprise-a")
    bad = _post(
        client,
        "/readiness/hazard-sources",
        {
            "name": "",
            "level": "grade1",
            "lat": "31.2",
            "lon": "abc",
            "substance_0": "chlorine",
            "quantity_0": "-3",
            "substance_1": "",
            "quantity_1": "5",
        },
    )
    assert bad.status_code == 422
    errors = re.search(r'<div class="form-error" role="alert">(.*?)</div>', bad.text, re.S).group(1)
    for expected in ("名称", "纬度", "经度", "危险物质第1行 在线量 (吨)", "危险物质第2行 物质"):
        assert expected in errors, expected
    assert 'value="31.2"' in bad.text  # what was typed comes back
    assert len(session.scalars(select(HazardSource.id)).all()) == before

    ok = _post(
        client,
        "/readiness/hazard-sources",
        {
            "name": "液氯罐区",
            "level": "grade1",
            "place": "宁夏石化",
            "lat": str(SITE[0]),
            "lon": str(SITE[1]),
            "substance_0": "chlorine",
            "quantity_0": "40",
            "substance_2": "ammonia",
            "quantity_2": "5",
        },
        follow_redirects=True,
    )
    assert ok.status_code == 200 and "已登记重大危险源: 液氯罐区" in ok.text
    session.rollback()
    src = session.scalars(select(HazardSource).where(HazardSource.name == "液氯罐区")).one()
    assert src.substances == [{"code": "chlorine", "quantity_t": 40.0}, {"code": "ammonia", "quantity_t": 5.0}]
    # another enterprise cannot delete it; its owner can
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/readiness/").text)})
    sign_in(client, "enterprise-b")
    res = _post(client, f"/readiness/hazard-sources/{src.id}/delete", {}, follow_redirects=True)
    assert "重大危险源不存在" in res.text
    session.rollback()
    assert session.get(HazardSource, src.id) is not None


def test_certificate_and_training_forms(client, session):
    sign_in(client, "enterprise-a")
    bad = _post(
        client,
        "/readiness/certificates",
        {"holder_name": "", "kind": "nonsense", "issued_on": "2026-05-01", "expires_on": "2026-01-01"},
    )
    assert bad.status_code == 422
    for expected in ("持证人", "证书类别", "有效期至不能早于发证日期"):
        assert expected in bad.text
    ok = _post(
        client,
        "/readiness/certificates",
        {"holder_name": "马建国", "kind": "hazchem_safety", "issued_on": "2024-05-01", "expires_on": "2027-05-01"},
        follow_redirects=True,
    )
    assert "已登记证书: 马建国" in ok.text and "马建国" in ok.text
    session.rollback()
    cert = session.scalars(select(Certificate).where(Certificate.holder_name == "马建国")).one()
    assert cert.expires_on.isoformat() == "2027-05-01"

    bad = _post(client, "/readiness/training-sessions", {"title": "", "held_on": "昨天", "hours": "0"})
    assert bad.status_code == 422
    for expected in ("标题", "培训日期", "学时"):
        assert expected in bad.text
    ok = _post(
        client,
        "/readiness/training-sessions",
        {"title": "液氯泄漏处置培训", "held_on": "2026-03-02", "hours": "4", "attendees": "马建国\n李娟、王强\n"},
        follow_redirects=True,
    )
    assert "3 人参训" in ok.text
    session.rollback()
    training = session.scalars(select(TrainingSession).where(TrainingSession.title == "液氯泄漏处置培训")).one()
    assert [a["name"] for a in training.attendees] == ["马建国", "李娟", "王强"]
    res = _post(client, f"/readiness/training-sessions/{training.id}/delete", {}, follow_redirects=True)
    assert "培训已删除" in res.text


def test_inspection_form_marks_equipment_unserviceable(client, session, enterprise_ids):
    item = session.scalars(
        select(Equipment).where(Equipment.enterprise_id == enterprise_ids["enterprise-a"]).order_by(Equipment.id)
    ).first()
    sign_in(client, "enterprise-a")
    bad = _post(client, "/readiness/inspections", {"equipment_id": "", "inspected_on": "2999-01-01", "inspector": ""})
    assert bad.status_code == 422 and "装备" in bad.text and "检验人" in bad.text
    res = _post(
        client,
        "/readiness/inspections",
        {"equipment_id": str(item.id), "inspected_on": "2026-01-05", "result": "failed", "inspector": "周工"},
        follow_redirects=True,
    )
    assert "已登记检验记录" in res.text
    row = re.search(rf'<tr data-equipment-id="{item.id}">(.*?)</tr>', res.text, re.S).group(1)
    assert "停用" in row and "不合格" in row
    session.rollback()
    assert session.scalars(select(InspectionRecord).where(InspectionRecord.equipment_id == item.id)).all()[-1].inspector == "周工"


def test_plan_is_deleted_from_the_page(client, session, pdf):
    sign_in(client, "enterprise-a")
    _post(client, "/readiness/plans", {"level": "onsite_plan", "title": "待删除的方案", "version": "1.0"})
    session.rollback()
    plan_id = session.scalar(select(EmergencyPlan.id).where(EmergencyPlan.title == "待删除的方案"))
    page = client.get("/readiness/").text
    assert f'action="/readiness/plans/{plan_id}/delete"' in page and "data-confirm" in page
    res = _post(client, f"/readiness/plans/{plan_id}/delete", {}, follow_redirects=True)
    assert "预案已删除" in res.text
    session.rollback()
    assert session.scalar(select(EmergencyPlan.id).where(EmergencyPlan.id == plan_id)) is None
