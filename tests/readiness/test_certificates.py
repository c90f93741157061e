"""Certificates: dates checked, holders owned, reminders 30 and 7 days before expiry (once each); training sessions."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from rescue.models import ContactPerson, Expert, OutboxMessage
from rescue.readiness.certificates import send_expiry_reminders


def _contact(session, enterprise_id):
    return session.scalars(
        select(ContactPerson).where(ContactPerson.enterprise_id == enterprise_id).order_by(ContactPerson.id)
    ).first()


def test_certificate_dates_and_holders(api, session, enterprise_ids):
    a = api("enterprise-a")
    contact = _contact(session, enterprise_ids["enterprise-a"])
    res = a.post(
        "/api/v1/certificates",
        json={
            "holder_name": contact.name,
            "contact_id": contact.id,
            "kind": "first_aid",
            "number": "JJ-2024-0012",
            "issued_on": "2024-06-01",
            "expires_on": "2027-06-01",
        },
    )
    assert res.status_code == 201, res.json
    assert res.json["enterprise_id"] == enterprise_ids["enterprise-a"] and res.json["kind_name"] == "急救证"
    # expiry before issue, unknown kind, empty holder: all at once
    res = a.post(
        "/api/v1/certificates", json={"holder_name": "", "kind": "wizard", "issued_on": "2025-01-10", "expires_on": "2024-01-10"}
    )
    assert res.status_code == 422
    assert {"holder_name", "kind", "expires_on"} <= set(res.json["fields"])
    assert "早于发证日期" in res.json["fields"]["expires_on"]
    # another enterprise's person
    other = _contact(session, enterprise_ids["enterprise-b"])
    res = a.post(
        "/api/v1/certificates", json={"holder_name": "x", "contact_id": other.id, "kind": "first_aid", "issued_on": "2024-01-01"}
    )
    assert res.status_code == 422 and "contact_id" in res.json["fields"]
    expert = session.scalars(select(Expert).where(Expert.enterprise_id == enterprise_ids["enterprise-b"])).first()
    if expert is not None:
        res = a.post(
            "/api/v1/certificates",
            json={"holder_name": "x", "expert_id": expert.id, "kind": "first_aid", "issued_on": "2024-01-01"},
        )
        assert res.status_code == 422 and "expert_id" in res.json["fields"]
    assert api("regulator").post("/api/v1/certificates", json={}).status_code == 403


def test_expiry_reminders_go_once_per_stage(api, app, session, enterprise_ids):
    a = api("enterprise-a")
    today = date.today()
    cert = a.post(
        "/api/v1/certificates",
        json={
            "holder_name": "马国强",
            "kind": "hazchem_safety",
            "issued_on": "2023-01-01",
            "expires_on": (today + timedelta(days=20)).isoformat(),
        },
    ).json
    assert cert["state"] == "expiring" and cert["days_left"] == 20
    assert cert["id"] in [c["id"] for c in a.get("/api/v1/certificates?expiring=1").json["items"]]
    assert cert["id"] not in [c["id"] for c in api("enterprise-b").get("/api/v1/certificates?expiring=1").json["items"]]

    factory = app.extensions["db"].session_factory
    now = datetime.now(UTC)

    def texts():
        with factory() as s:
            return [m.body for m in s.scalars(select(OutboxMessage).where(OutboxMessage.body.contains("马国强")))]

    assert send_expiry_reminders(factory, now=now) >= 1
    assert len(texts()) == 1 and "危化品安全培训合格证" in texts()[0] and "剩20天" in texts()[0]
    send_expiry_reminders(factory, now=now + timedelta(hours=1))
    assert len(texts()) == 1  # the same stage is not texted again
    send_expiry_reminders(factory, now=now + timedelta(days=14))
    assert len(texts()) == 2 and "剩6天" in texts()[1]
    assert a.get(f"/api/v1/certificates/{cert['id']}").json["reminded"] == [30, 7]
    # renewed: a new expiry is reminded afresh
    renewed = a.patch(f"/api/v1/certificates/{cert['id']}", json={"expires_on": (today + timedelta(days=25)).isoformat()})
    assert renewed.json["reminded"] == []
    send_expiry_reminders(factory, now=now)
    assert len(texts()) == 3


def test_training_sessions_with_attendees(api, session, enterprise_ids):
    a = api("enterprise-a")
    contact = _contact(session, enterprise_ids["enterprise-a"])
    other = _contact(session, enterprise_ids["enterprise-b"])
    res = a.post(
        "/api/v1/training-sessions",
        json={
            "title": "液氯泄漏处置岗位培训",
            "held_on": "2026-10-12",
            "hours": 4,
            "attendees": [{"name": contact.name, "contact_id": contact.id}, {"name": "临时工 李明"}],
        },
    )
    assert res.status_code == 201, res.json
    assert res.json["attendee_count"] == 2 and res.json["person_hours"] == 8
    res = a.post(
        "/api/v1/training-sessions",
        json={"title": "", "held_on": "2026-10-12", "hours": 0, "attendees": [{"name": "x", "contact_id": other.id}]},
    )
    assert res.status_code == 422
    assert {"title", "hours", "attendees.0.contact_id"} <= set(res.json["fields"])
    res = api("dispatcher").post("/api/v1/training-sessions", json={"title": "联合培训", "held_on": "2026-10-12"})
    assert res.status_code == 422 and "enterprise_id" in res.json["fields"]
