"""Response cards: versions, access, "changed since printed", the one-page PDF and its QR code, review reminders."""

import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from rescue.cards import cards, pdf, reviews
from rescue.clock import CHINA
from rescue.models import ContactPerson, Enterprise, NoticeLog, OutboxMessage, ResponseCard

T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)


def _contact(session, key_phone="+8613951000100") -> ContactPerson:
    return session.scalars(select(ContactPerson).where(ContactPerson.phone == key_phone)).first()


def _card_data(session, **overrides) -> dict:
    ent = session.scalars(select(Enterprise).where(Enterprise.name == "中国石油宁夏石化公司")).one()
    safety = _contact(session)
    return {
        "enterprise_id": ent.id,
        "number": "TEST-001",
        "post": "罐区巡检工",
        "area": "成品油罐区",
        "incident_types": ["chem_tank_fire"],
        "risks": ["火灾爆炸"],
        "when_to_act": "发现泄漏或着火",
        "steps": ["发现泄漏，立即报告班长", "关闭罐根阀", "佩戴空气呼吸器", "设置警戒", "上风向撤离"],
        "reporting": [{"label": "安全环保部", "contact_id": safety.id}, {"label": "火警", "phone": "119"}],
        "ppe": [{"item": "灭火器", "location": "罐区入口"}],
        "prohibitions": ["严禁无防护进入"],
        "evacuation_route": "东侧通道",
        "assembly_point": "中控楼前",
        "review_date": "2027-01-01",
    } | overrides


def test_versions_and_access(app, api, session):
    admin = api("enterprise-a")
    res = admin.post("/api/v1/cards", json=_card_data(session))
    assert res.status_code == 201, res.json
    card_id = res.json["id"]
    assert res.json["version"] == 1 and res.json["reporting"][0]["phone"] == "+8613951000100"
    assert res.json["short"] == "发现泄漏→关闭罐根阀→佩戴空气呼吸器→设置警戒→上风向撤离"
    assert admin.post("/api/v1/cards", json=_card_data(session)).status_code == 422  # number taken
    edited = admin.patch(f"/api/v1/cards/{card_id}", json={"steps": ["发现泄漏立即报告", "关阀", "撤离"]})
    assert edited.status_code == 200 and edited.json["version"] == 2 and edited.json["current_version"] == 2
    unchanged = admin.patch(f"/api/v1/cards/{card_id}", json={"steps": ["发现泄漏立即报告", "关阀", "撤离"]})
    assert unchanged.json["version"] == 2
    versions = admin.get(f"/api/v1/cards/{card_id}/versions").json["items"]
    assert [v["version"] for v in versions] == [1, 2] and versions[1]["current"]
    old = admin.get(f"/api/v1/cards/{card_id}?version=1").json
    assert old["version"] == 1 and len(old["steps"]) == 5
    other = api("enterprise-b")
    assert other.get(f"/api/v1/cards/{card_id}").status_code == 404
    assert other.patch(f"/api/v1/cards/{card_id}", json={"post": "x"}).status_code == 404
    assert other.post("/api/v1/cards", json=_card_data(session, number="B-1")).status_code == 422
    assert api("regulator").post("/api/v1/cards", json=_card_data(session, number="R-1")).status_code == 403
    assert api("regulator").get(f"/api/v1/cards/{card_id}").status_code == 200
    coal_contact = session.scalars(select(ContactPerson).where(ContactPerson.phone == "+8613951000101")).first()
    bad = admin.post(
        "/api/v1/cards",
        json=_card_data(session, number="X-2", steps=[], reporting=[{"label": "煤业", "contact_id": coal_contact.id}]),
    )
    assert bad.status_code == 422 and "steps" in bad.json["fields"]
    bad = admin.post(
        "/api/v1/cards", json=_card_data(session, number="X-2", reporting=[{"label": "煤业", "contact_id": coal_contact.id}])
    )
    assert bad.status_code == 422 and "reporting.0.contact_id" in bad.json["fields"]


def test_changed_since_printed_when_a_linked_phone_changes(app, api, session):
    admin = api("enterprise-a")
    card_id = admin.post("/api/v1/cards", json=_card_data(session)).json["id"]
    assert admin.get(f"/api/v1/cards/{card_id}").json["printed"] is False
    pdf = admin.get(f"/api/v1/cards/{card_id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    state = admin.get(f"/api/v1/cards/{card_id}").json
    assert state["printed"] and not state["changed_since_printed"] and state["last_printed_version"] == 1
    contact_id = state["reporting"][0]["contact_id"]
    moved = admin.patch(f"/api/v1/contacts/{contact_id}", json={"phone": "+8613951000999"})
    assert moved.status_code == 200, moved.json
    state = admin.get(f"/api/v1/cards/{card_id}").json
    assert state["reporting"][0]["phone"] == "+8613951000999"  # live
    assert state["changed_since_printed"] and state["changes"] == ["报告电话或联系人已变更"]
    assert [c["id"] for c in admin.get("/api/v1/cards?changed=true").json["items"]] == [card_id]
    # the print stays viewable as printed, with the old number
    version = admin.get(f"/api/v1/cards/{card_id}/versions").json["items"][0]
    reprint = admin.get(f"/api/v1/cards/{card_id}/prints/{version['prints'][0]['id']}.pdf")
    assert reprint.status_code == 200
    # printing again clears the flag; a new version raises it again
    admin.get(f"/api/v1/cards/{card_id}.pdf")
    assert admin.get(f"/api/v1/cards/{card_id}").json["changed_since_printed"] is False
    admin.patch(f"/api/v1/cards/{card_id}", json={"assembly_point": "南门"})
    assert admin.get(f"/api/v1/cards/{card_id}").json["changed_since_printed"] is True


def _decode_qr(pdf: bytes, folder) -> list[str]:
    """Render the page with poppler's pdftoppm and decode every QR code on it with zxing-cpp."""
    import zxingcpp

    (folder / "card.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-singlefile", str(folder / "card.pdf"), str(folder / "card")],
        check=True,
        capture_output=True,
    )
    return [r.text for r in zxingcpp.read_barcodes(Image.open(folder / "card.png"))]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (tests/run.sh installs it)")
def test_pdf_is_one_page_with_a_qr_code_to_the_live_card(app, api, client, session, tmp_path):
    admin = api("dispatcher")
    for card in session.scalars(select(ResponseCard)).all():  # every seeded key post prints on one page
        for size in ("A6", "A5"):
            res = admin.get(f"/api/v1/cards/{card.id}.pdf?size={size}&preview=true")
            assert res.status_code == 200, (card.number, res.json)
            reader = PdfReader(io.BytesIO(res.data))
            assert len(reader.pages) == 1, card.number
    card = session.scalars(select(ResponseCard).order_by(ResponseCard.id)).first()
    url = admin.get(f"/api/v1/cards/{card.id}").json["live_url"]
    assert url.startswith(app.config["PUBLIC_URL"] + f"/api/v1/cards/{card.id}/live?k=")
    pdf = admin.get(f"/api/v1/cards/{card.id}.pdf").data
    assert _decode_qr(pdf, tmp_path) == [url]
    page = client.get(url.removeprefix(app.config["PUBLIC_URL"]))  # opens without signing in
    assert page.status_code == 200 and card.post in page.get_data(as_text=True)
    assert client.get(f"/api/v1/cards/{card.id}/live?k=wrong").status_code == 404
    assert client.get(f"/api/v1/cards/{card.id}/live?k=" + cards.link_key("s", card.id + 1)).status_code == 404


def test_long_card_still_fits_one_page():
    long = {
        "number": "L-1",
        "version": 1,
        "enterprise": "测试企业",
        "post": "岗位" * 20,
        "area": "区域" * 20,
        "incident_types": [],
        "risks": ["风险" * 30] * 10,
        "when_to_act": "条件" * 90,
        "steps": ["步骤" * 40] * 10,
        "reporting": [{"label": "班长", "name": "张三", "phone": "+8613900000000"}] * 8,
        "ppe": [{"item": "物品" * 20, "location": "位置" * 30}] * 10,
        "prohibitions": ["禁止" * 40] * 8,
        "evacuation_route": "路线" * 60,
        "assembly_point": "集合点" * 20,
        "review_date": "2027-01-01",
    }
    rendered = pdf.render(long, "http://127.0.0.1:5000/api/v1/cards/1/live?k=x")
    assert len(PdfReader(io.BytesIO(rendered)).pages) == 1


def test_short_form_fits_sms():
    content = {
        "steps": ["发现泄漏，立即报告班长和中控室", "关闭进料阀", "佩戴正压式空气呼吸器后方可进入", "设置警戒", "向上风向撤离"]
    }
    short = cards.short_form(content)
    assert short == "发现泄漏→关闭进料阀→佩戴正压式空气呼吸器后方可进入→设置警戒→向上风向撤离" and len(short) <= 60
    assert cards.short_form({"steps": ["很长的步骤" * 20]}) == ("很长的步骤" * 20)[:60]


def test_seeded_cards_and_short_form_for_dispatch(app, session):
    numbers = {c.number for c in session.scalars(select(ResponseCard))}
    assert {"NXSH-CZK-001", "NXMY-CZK-001", "WZLL-CZK-001", "QTLY-CZK-001"} <= numbers
    ent = session.scalars(select(Enterprise).where(Enterprise.name == "中国石油宁夏石化公司")).one()
    short = cards.short_for(session, enterprise_id=ent.id, incident_type="chem_tank_fire")
    assert short.startswith("发现泄漏") and len(short) <= 60


def test_review_reminders_once(app, session):
    factory = app.extensions["db"].session_factory
    now = datetime.now(UTC)
    today = now.astimezone(CHINA).date()
    made = {}
    for number, days in (("R-30", 20), ("R-7", 5), ("R-LATE", -3), ("R-OLD", -60), ("R-FAR", 100)):
        card = cards.create_card(
            session,
            _card_data(session, number=number, review_date=(today + timedelta(days=days)).isoformat()),
            actor=None,
            now=now,
        )
        made[number] = card.id
    session.commit()
    assert reviews.send_review_reminders(factory, now=now) == 3
    assert reviews.send_review_reminders(factory, now=now + timedelta(minutes=5)) == 0
    session.rollback()
    keys = session.scalars(select(NoticeLog.key).where(NoticeLog.kind == "card_review")).all()
    stages = {int(k.split(":")[1]): k.rsplit(":", 1)[1] for k in keys}
    assert stages == {made["R-30"]: "d30", made["R-7"]: "d7", made["R-LATE"]: "overdue"}
    bodies = session.scalars(select(OutboxMessage.body).where(OutboxMessage.purpose == "notice")).all()
    assert any("R-LATE" in b and "复核期为" in b for b in bodies) and not any("R-OLD" in b for b in bodies)
    # the 7-day reminder follows the 30-day one when its day comes, once
    assert reviews.send_review_reminders(factory, now=now + timedelta(days=14)) == 1
