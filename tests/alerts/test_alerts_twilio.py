"""The real twilio client against the local fake: dispatch → SMS once each → receipts and replies via signed webhooks."""

import time
import urllib.parse

from sqlalchemy import func, select

from contacts.standins.twilio import twilio_signature
from rescue.dispatch import outbox
from rescue.models import Assignment, AssignmentEvent, InboundMessage, OutboxMessage
from tests.alerts.conftest import make_incident, teams_with


def _wait(predicate, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def _dispatch(app, api, n=3):
    with app.extensions["db"].session_factory() as s:
        incident = make_incident(s)
        teams = teams_with(s, "firefighting", n)
        need_id = incident.needs[0].id
        s.commit()
        body = {"resources": [{"kind": "team", "id": t.id, "need_id": need_id} for t in teams], "wave_timeout_s": 600}
    res = api("dispatcher").post(f"/api/v1/incidents/{incident.id}/dispatches", json=body)
    assert res.status_code == 201, res.json
    return incident.id, res.json


def test_dispatch_reaches_fake_once_and_receipts_and_replies_update_timeline(twilio_app, fake_twilio):
    api = _api(twilio_app)
    incident_id, dispatch = _dispatch(twilio_app, api)
    for a in dispatch["assignments"]:
        assert a["messages"][0]["segments"] == 1 and a["reply_code"] in a["messages"][0]["text"]
    sf, gw = twilio_app.extensions["db"].session_factory, twilio_app.extensions["sms_gateway"]
    assert outbox.drain_outbox(sf, gw).sent == 3
    assert outbox.drain_outbox(sf, gw).sent == 0  # idempotent: nothing twice
    for a in dispatch["assignments"]:
        to = a["messages"][0]["to"]
        assert [m["body"] for m in fake_twilio.messages_to(to)] == [a["messages"][0]["text"]]

    # the fake posts signed "sent" then "delivered" callbacks to our status webhook
    def delivered():
        with sf() as s:
            return s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "delivered")) == 3

    assert _wait(delivered), fake_twilio.callbacks
    assert all(outcome == 204 for _, _, outcome in fake_twilio.callbacks)
    # a reply through the signed inbound webhook
    first = dispatch["assignments"][0]
    url = twilio_app.config["PUBLIC_URL"] + "/sms/twilio/inbound"
    assert fake_twilio.send_inbound(url, from_=first["messages"][0]["to"], body=f"{first['reply_code']} 1 20分钟") == 200
    second = dispatch["assignments"][1]
    assert fake_twilio.send_inbound(url, from_="+8613900000000", body=f"{second['reply_code'].lower()}2") == 200
    with sf() as s:
        a1, a2 = s.get(Assignment, first["id"]), s.get(Assignment, second["id"])
        assert a1.status.value == "accepted" and a1.reported_eta_min == 20
        assert a2.status.value == "declined"  # from another phone, by code
    timeline = api("regulator").get(f"/api/v1/incidents/{incident_id}/timeline").json["items"]
    kinds = [e["kind"] for e in timeline]
    for kind in ("dispatched", "sms_sent", "sms_delivered", "status"):
        assert kind in kinds, kinds
    # the decline moves on at once: to the next-ranked resource, or the dispatcher is told none is left
    assert "replaced" in kinds or "escalation_exhausted" in kinds
    messages = api("dispatcher").get(f"/api/v1/incidents/{incident_id}/messages").json["items"]
    assert sum(m["direction"] == "in" for m in messages) == 2


def test_status_callback_undelivered_escalates_in_chain(twilio_app, fake_twilio):
    api = _api(twilio_app)
    _, dispatch = _dispatch(twilio_app, api, n=1)
    sf, gw = twilio_app.extensions["db"].session_factory, twilio_app.extensions["sms_gateway"]
    outbox.drain_outbox(sf, gw)
    assert _wait(lambda: len(fake_twilio.callbacks) >= 2)
    first = dispatch["assignments"][0]["messages"][0]
    sid = fake_twilio.messages_to(first["to"])[0]["sid"]
    with sf() as s:
        s.execute(OutboxMessage.__table__.update().values(status="sent"))  # as if still awaiting the final receipt
        s.commit()
    fake_twilio.set_status(sid, "undelivered", error_code=30003)
    with sf() as s:
        row = s.get(OutboxMessage, first["id"])
        assert row.status == "undelivered" and row.error_code == "30003"
        nxt = s.scalars(select(OutboxMessage).where(OutboxMessage.id != row.id)).all()
        assert len(nxt) == 1 and nxt[0].chain_step == 1 and nxt[0].to_phone != row.to_phone


def _post_form(client, path, params, signature=None):
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return client.post(
        path, data=urllib.parse.urlencode(params), headers=headers, content_type="application/x-www-form-urlencoded"
    )


def test_forged_or_missing_signature_is_403_and_changes_nothing(twilio_app, fake_twilio):
    api = _api(twilio_app)
    _, dispatch = _dispatch(twilio_app, api, n=1)
    a = dispatch["assignments"][0]
    client = twilio_app.test_client()
    params = {"From": a["messages"][0]["to"], "To": "+15005550006", "Body": f"{a['reply_code']} 1", "MessageSid": "SM1"}
    url = twilio_app.config["PUBLIC_URL"] + "/sms/twilio/inbound"
    assert _post_form(client, "/sms/twilio/inbound", params).status_code == 403
    assert _post_form(client, "/sms/twilio/inbound", params, "bm90IGEgc2lnbmF0dXJl").status_code == 403
    forged = twilio_signature(url, params, "someone-elses-token")
    assert _post_form(client, "/sms/twilio/inbound", params, forged).status_code == 403
    # signed over a different URL (e.g. the proxy's internal one) does not count either
    wrong_url = twilio_signature("http://internal:8000/sms/twilio/inbound", params, fake_twilio.auth_token)
    assert _post_form(client, "/sms/twilio/inbound", params, wrong_url).status_code == 403
    status = {"MessageSid": "SMx", "MessageStatus": "failed", "ErrorCode": "30003"}
    assert _post_form(client, "/sms/twilio/status", status).status_code == 403
    sf = twilio_app.extensions["db"].session_factory
    with sf() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 0
        assert s.get(Assignment, a["id"]).status.value == "notified"
        assert s.scalar(select(func.count()).select_from(AssignmentEvent).where(AssignmentEvent.kind.like("reply%"))) == 0
    good = twilio_signature(url, params, fake_twilio.auth_token)
    res = _post_form(client, "/sms/twilio/inbound", params, good)
    assert res.status_code == 200 and res.mimetype == "application/xml" and b"<Response>" in res.data
    with sf() as s:
        assert s.get(Assignment, a["id"]).status.value == "accepted"


def _api(app):
    from tests.conftest import Api

    client = app.test_client()
    return lambda username="dispatcher": Api(client, username)
