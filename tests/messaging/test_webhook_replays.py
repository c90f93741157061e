"""Signed Twilio webhooks replayed (same MessageSid) are stored and applied once, even after a dispatcher's
correction; the console/fake webhooks exist only in demo mode; bad forms never give a 5xx."""

import time

from sqlalchemy import func, select

from contacts.standins.twilio import twilio_signature
from rescue.dispatch import outbox
from rescue.models import AssignmentEvent, InboundMessage, OutboxMessage
from tests.conftest import Api, make_app
from tests.messaging.conftest import first_team_phone


def _wait(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _status(setup, aid):
    with setup.sf() as s:
        return str(s.scalar(select(OutboxMessage.status).where(OutboxMessage.assignment_id == aid)))


def _signed_post(setup, path, params):
    url = setup.url + path
    headers = {"X-Twilio-Signature": twilio_signature(url, params, setup.provider.auth_token)}
    return setup.app.test_client().post(path, data=params, headers=headers)


def test_replayed_reply_after_a_correction_does_not_undo_it(twilio):
    dispatcher = Api(twilio.app.test_client(), "dispatcher")  # signed in before the fake's callbacks start
    (aid,) = twilio.dispatch()
    outbox.drain_outbox(twilio.sf, twilio.sms, settings=twilio.settings)
    # the fake's sent/delivered callbacks done first (the correction view does not yet take SQLite's lock up front)
    assert _wait(lambda: _status(twilio, aid) == "delivered")
    code = twilio.assignment(aid).reply_code
    reply = {"From": first_team_phone(twilio, aid), "To": "+15005550006", "Body": f"{code} 1", "MessageSid": "SM" + "a" * 32}
    res = _signed_post(twilio, "/sms/twilio/inbound", reply)
    assert res.status_code == 200 and "已记录您的回复：接受" in res.text  # the reply_ack template, inline as TwiML
    assert twilio.assignment(aid).status.value == "accepted"
    # the dispatcher learns by phone the team cannot go after all, and re-opens the page
    fix = dispatcher.patch(f"/api/v1/assignments/{aid}", json={"status": "notified", "note": "电话确认暂不能出动"})
    assert fix.status_code == 200, fix.json
    replay = _signed_post(twilio, "/sms/twilio/inbound", reply)
    assert replay.status_code == 200 and "<Message>" not in replay.text
    assert twilio.assignment(aid).status.value == "notified"
    with twilio.sf() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 1
        assert (
            s.scalar(
                select(func.count())
                .select_from(AssignmentEvent)
                .where(AssignmentEvent.assignment_id == aid, AssignmentEvent.to_status == "accepted")
            )
            == 1
        )


def test_bad_forms_are_400_and_forged_ones_403(twilio):
    assert _signed_post(twilio, "/sms/twilio/inbound", {"Body": "no sender"}).status_code == 400
    assert _signed_post(twilio, "/sms/twilio/status", {"MessageSid": "SMx"}).status_code == 400
    assert twilio.app.test_client().post("/sms/twilio/inbound", data={"From": "+8613800000001"}).status_code == 403
    assert _signed_post(twilio, "/voice/twilio/nonsense", {"CallSid": "CA1"}).status_code == 404
    assert _signed_post(twilio, "/voice/twilio/status", {"CallSid": "CA1", "CallStatus": "completed"}).status_code == 204


def test_console_webhooks_exist_only_in_demo_mode(backend, templates, tmp_path):
    for demo, expected in ((True, 200), (False, 404)):
        app = make_app(
            templates.copy(backend, seeded=False),
            tmp_path / str(demo),
            DEMO=demo,
            TEST_INSTALLATION=True,
            VOICE_BACKEND="console",
        )
        try:
            client = app.test_client()
            assert client.post("/sms/console/inbound", data={"From": "+8613012345678", "Body": "你好"}).status_code == expected
            assert client.post("/sms/console/status", data={"MessageSid": "x", "MessageStatus": "sent"}).status_code in (
                (204,) if demo else (404,)
            )
            assert client.post("/voice/console/status", data={"CallSid": "c", "CallStatus": "completed"}).status_code in (
                (204,) if demo else (404,)
            )
        finally:
            app.extensions["db"].engine.dispose()
