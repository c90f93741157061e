"""Dispatch API, reply grammar through the webhook, responder links, start-up configuration."""

import re
import urllib.parse

import pytest
from sqlalchemy import select

from contacts import count_segments
from contacts.standins.twilio import twilio_signature
from rescue.config import ConfigError
from rescue.models import Assignment, InboundMessage, OutboxMessage, SmsOptOut, Team
from tests.alerts.conftest import make_incident, teams_with, twilio_config
from tests.conftest import make_app


def _incident(app, n=2, drill=False):
    with app.extensions["db"].session_factory() as s:
        incident = make_incident(s, drill=drill)
        teams = teams_with(s, "firefighting", n)
        s.commit()
        return incident.id, incident.needs[0].id, [(t.id, t.enterprise_id) for t in teams]


def test_preview_then_dispatch_with_segments_and_roles(app, api):
    incident_id, need_id, teams = _incident(app, drill=True)
    body = {
        "resources": [{"kind": "team", "id": t, "need_id": need_id} for t, _ in teams],
        "acks_needed": 1,
        "wave_timeout_s": 120,
        "max_waves": 2,
        "muster_point": "园区东门",
    }
    preview = api("dispatcher").post(f"/api/v1/incidents/{incident_id}/dispatches/preview", json=body)
    assert preview.status_code == 200 and preview.json["preview"]
    texts = [a["messages"][0]["text"] for a in preview.json["assignments"]]
    assert all(t.startswith("【宁夏应急】演练：") for t in texts)  # the drill_dispatch template
    assert all(a["messages"][0]["template"] == "drill_dispatch" for a in preview.json["assignments"])
    # the template fitted to one segment as far as its variables can shrink; the count is that of the text
    assert all(
        a["messages"][0]["segments"] == count_segments(a["messages"][0]["text"]).segments <= 2
        for a in preview.json["assignments"]
    )
    with app.extensions["db"].session_factory() as s:
        assert s.scalars(select(OutboxMessage)).first() is None  # a preview writes nothing
    assert api("regulator").post(f"/api/v1/incidents/{incident_id}/dispatches", json=body).status_code == 403
    res = api("dispatcher").post(f"/api/v1/incidents/{incident_id}/dispatches", json=body)
    assert res.status_code == 201
    assert res.json["acks_needed"] == 1 and res.json["wave_timeout_s"] == 120 and res.json["max_waves"] == 2
    assert api("dispatcher").post(f"/api/v1/incidents/{incident_id}/dispatches", json=body).status_code == 409
    bad = api("dispatcher").post(
        f"/api/v1/incidents/{incident_id}/dispatches",
        json={"resources": [{"kind": "team", "id": 999999}, {"kind": "x", "id": 1}], "max_waves": 0},
    )
    assert bad.status_code == 422 and {"resources[0].id", "resources[1].kind", "max_waves"} <= set(bad.json["fields"])
    assert api("dispatcher").post("/api/v1/incidents/999999/dispatches", json=body).status_code == 404
    # enterprise admins read only their own enterprise's assignments
    timeline = api("regulator").get(f"/api/v1/incidents/{incident_id}/timeline").json["items"]
    assert {e["assignment_id"] for e in timeline} == {a["id"] for a in res.json["assignments"]}
    with app.extensions["db"].session_factory() as s:
        from rescue.models import User

        admin = s.scalars(select(User).where(User.username == "enterprise-a")).one()
        own = {a["id"] for a in res.json["assignments"] if s.get(Team, a["resource_id"]).enterprise_id == admin.enterprise_id}
    seen = {e["assignment_id"] for e in api("enterprise-a").get(f"/api/v1/incidents/{incident_id}/timeline").json["items"]}
    assert seen == own
    messages = api("enterprise-a").get(f"/api/v1/incidents/{incident_id}/messages").json["items"]
    assert {m["assignment_id"] for m in messages} <= own
    spec = api("dispatcher").get("/api/v1/openapi.json").json["paths"]
    assert "post" in spec["/api/v1/incidents/{incident_id}/dispatches"]
    assert "/api/v1/incidents/{incident_id}/timeline" in spec and "/api/v1/assignments/{assignment_id}" in spec


REPLIES = [
    ("{code} 1", "accepted", "applied"),
    ("{code}1", "accepted", "applied"),
    ("收到{code}", "accepted", "applied"),
    ("{code} 确认，20分钟到", "accepted", "applied"),
    ("{code} 2", "declined", "applied"),
    ("{code} 不能去", "declined", "applied"),
    ("{code} 到达", "on_scene", "applied"),
    ("{code} 40分钟", "en_route", "applied"),
    ("{code} 3", "notified", "unclear"),
    ("{code} 什么意思", "notified", "unclear"),
    ("STOP", "notified", "opt_out"),
    ("退订", "notified", "opt_out"),
]


@pytest.mark.parametrize(("text", "status", "outcome"), REPLIES)
@pytest.mark.parametrize("backend", ["sqlite"])
def test_reply_grammar_through_the_webhook(backend, templates, tmp_path, fake_twilio, text, status, outcome, api):
    app = make_app(templates.copy(backend, seeded=True), tmp_path, **twilio_config(fake_twilio, 5000))
    incident_id, need_id, teams = _incident(app, n=1)
    client = app.test_client()
    from tests.conftest import Api

    res = Api(client, "dispatcher").post(
        f"/api/v1/incidents/{incident_id}/dispatches",
        json={"resources": [{"kind": "team", "id": teams[0][0], "need_id": need_id}]},
    )
    a = res.json["assignments"][0]
    params = {
        "From": a["messages"][0]["to"],
        "To": "+15005550006",
        "Body": text.format(code=a["reply_code"]),
        "MessageSid": "SM" + "0" * 32,
    }
    url = app.config["PUBLIC_URL"] + "/sms/twilio/inbound"
    r = client.post(
        "/sms/twilio/inbound",
        data=urllib.parse.urlencode(params),
        headers={"X-Twilio-Signature": twilio_signature(url, params, fake_twilio.auth_token)},
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 200 and r.data.startswith(b"<?xml")
    with app.extensions["db"].session_factory() as s:
        assert s.get(Assignment, a["id"]).status.value == status
        record = s.scalars(select(InboundMessage)).one()
        assert record.outcome == outcome
        assert record.needs_review == (outcome in ("unclear", "opt_out"))
        if outcome == "opt_out":
            assert s.get(SmsOptOut, a["messages"][0]["to"]) is not None
    app.extensions["db"].engine.dispose()


def test_unknown_number_is_recorded_and_flagged(app, api, client):
    app.config["PUBLIC_URL"] = "http://127.0.0.1:5000"
    res = client.post("/sms/console/inbound", data={"From": "+8613012345678", "Body": "你好"})
    assert res.status_code == 200
    with app.extensions["db"].session_factory() as s:
        record = s.scalars(select(InboundMessage)).one()
        assert record.outcome == "unknown_number" and record.needs_review
    flagged = api("dispatcher").get("/api/v1/inbound-messages?needs_review=1").json
    assert flagged["total"] == 1
    done = api("dispatcher").patch(f"/api/v1/inbound-messages/{record.id}", json={"note": "打错"})
    assert done.status_code == 200 and done.json["needs_review"] is False


def test_responder_link_page_accepts_with_form_key(backend, templates, tmp_path, api):
    app = make_app(templates.copy(backend, seeded=True), tmp_path, RESPONDER_LINKS=True)
    incident_id, need_id, teams = _incident(app, n=1)
    from tests.conftest import Api

    client = app.test_client()
    res = Api(client, "dispatcher").post(
        f"/api/v1/incidents/{incident_id}/dispatches",
        json={"resources": [{"kind": "team", "id": teams[0][0], "need_id": need_id}]},
    )
    # with links on, the SMS is the approved dispatch_link template: the link is in the text, never cut
    text = res.json["assignments"][0]["messages"][0]["text"]
    token = re.search(r"/r/([A-Za-z0-9_-]{20,})", text)[1]
    assert client.get("/r/not-a-token").status_code == 404
    page = client.get(f"/r/{token}")
    assert page.status_code == 200 and "接受" in page.text and page.headers["Referrer-Policy"] == "no-referrer"
    assert client.post(f"/r/{token}", data={"answer": "accept"}).status_code == 403  # no form key: a forged post
    form_key = re.search(r'name="form_key" value="([0-9a-f]+)"', page.text)[1]
    assert 'id="channels"' in page.text and "短信→" in page.text  # which channel reached whom
    answered = client.post(f"/r/{token}", data={"answer": "accept", "form_key": form_key})
    assert answered.status_code == 200 and "链接确认" in answered.text
    with app.extensions["db"].session_factory() as s:
        assert s.get(Assignment, res.json["assignments"][0]["id"]).status.value == "accepted"
    app.extensions["db"].engine.dispose()


def test_bad_sms_configuration_fails_at_start(templates, tmp_path):
    url = templates.copy("sqlite", seeded=False)
    with pytest.raises(ConfigError, match="SMS_SIGNATURE"):
        make_app(url, tmp_path, SMS_SIGNATURE="x")
    with pytest.raises(ConfigError, match="短信网关"):
        make_app(url, tmp_path, SMS_BACKEND="carrier-pigeon")
    with pytest.raises(ConfigError, match="TWILIO"):
        make_app(url, tmp_path, SMS_BACKEND="twilio")
