"""Voice-call escalation: an unanswered (or undelivered) SMS is followed by a call through the persistent call
queue, answered by keypress (Twilio <Gather>, signed webhooks) or reported by push (Aliyun, ?token=); calls are
placed at most once across crashes; drills read 【演练】 first; the channel shows in the API and statistics."""

import time
from datetime import timedelta

from sqlalchemy import select

from contacts.standins.twilio import twilio_signature
from rescue.db import utcnow
from rescue.dispatch import escalation, outbox
from rescue.models import AssignmentEvent, OutboxMessage
from tests.conftest import Api
from tests.messaging.conftest import TOKEN


def _wait(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _calls(setup, aid):
    with setup.sf() as s:
        rows = s.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.assignment_id == aid, OutboxMessage.channel == "voice")
            .order_by(OutboxMessage.id)
        ).all()
        for r in rows:
            s.expunge(r)
        return rows


def _kinds(setup, aid):
    with setup.sf() as s:
        return [
            e.kind
            for e in s.scalars(select(AssignmentEvent).where(AssignmentEvent.assignment_id == aid).order_by(AssignmentEvent.id))
        ]


def _silence(setup, aid, *, wave_timeout_s=300):
    """The SMS goes out and its wave timeout passes without an answer."""
    outbox.drain_outbox(setup.sf, setup.sms, settings=setup.settings)
    later = utcnow() + timedelta(seconds=wave_timeout_s + 1)
    # on PostgreSQL the job skips a row a delivery callback holds locked at that moment (the next tick takes it),
    # so ask again until it has escalated, as the worker would
    assert _wait(lambda: escalation.escalate_due(setup.sf, now=later, settings=setup.settings) == 1)
    return later


def test_unanswered_sms_is_followed_by_a_call_answered_by_keypress(twilio):
    api = Api(twilio.app.test_client(), "dispatcher")  # signed in before the fake's callbacks start
    (aid,) = twilio.dispatch()
    later = _silence(twilio, aid)
    (call,) = _calls(twilio, aid)
    assert call.status == "queued" and call.template == "voice_dispatch" and "接受请按1" in call.body
    assert twilio.assignment(aid).deadline_dt == later + timedelta(seconds=120)  # RESCUE_VOICE_TIMEOUT_S
    assert outbox.drain_calls(twilio.sf, now=later, voice_gateway=twilio.voice, settings=twilio.settings).sent == 1
    (placed,) = twilio.provider.calls_to(call.to_phone)
    assert "<Gather" in placed["_twiml"] and 'language="zh-CN"' in placed["_twiml"] and call.body in placed["_twiml"]
    status, twiml = twilio.provider.press(placed["sid"], "1")  # the signed <Gather> callback
    assert status == 200 and "已记录：接受" in twiml
    assert twilio.assignment(aid).status.value == "accepted"
    assert _wait(lambda: _calls(twilio, aid)[0].status == "delivered")  # the signed status callback: completed
    kinds = _kinds(twilio, aid)
    assert kinds.index("sms_sent") < kinds.index("call_queued") < kinds.index("call_placed") < kinds.index("call_answered")
    # the API says which channel reached whom and how the answer came
    incident_id = twilio.assignment(aid).incident_id
    (dispatch,) = api.get(f"/api/v1/incidents/{incident_id}/dispatches").json["items"]
    (assignment,) = dispatch["assignments"]
    assert [m["channel_name"] for m in assignment["messages"]] == ["短信", "语音"]
    assert assignment["ack_channel"] == "voice" and assignment["ack_channel_name"] == "语音"
    # from the call (queued at the simulated timeout) to the keypress (now)
    acked = twilio.assignment(aid).acknowledged_dt
    assert assignment["ack_s"] == round((acked - call.created_dt).total_seconds(), 1)
    stats = api.get("/api/v1/statistics").json["real"]["by_channel"]
    assert stats["voice"]["acknowledged"] == 1 and stats["voice"]["ack_rate"] == 1.0
    assert stats["sms"]["acknowledged"] == 0 and stats["sms"]["reached"] == 1 and stats["sms"]["ack_rate"] == 0.0


def test_gather_and_status_webhooks_are_signed_and_applied_once(twilio):
    (aid,) = twilio.dispatch()
    later = _silence(twilio, aid)
    outbox.drain_calls(twilio.sf, now=later, voice_gateway=twilio.voice, settings=twilio.settings)
    (call,) = _calls(twilio, aid)
    client = twilio.app.test_client()
    url = f"{twilio.url}/voice/twilio/gather?ref={call.id}"
    params = {"CallSid": call.provider_id, "CallStatus": "in-progress", "Digits": "2", "To": call.to_phone}
    assert client.post(f"/voice/twilio/gather?ref={call.id}", data=params).status_code == 403  # unsigned
    forged = {"X-Twilio-Signature": twilio_signature(url, params, "not-the-token")}
    assert client.post(f"/voice/twilio/gather?ref={call.id}", data=params, headers=forged).status_code == 403
    signed = {"X-Twilio-Signature": twilio_signature(url, params, twilio.provider.auth_token)}
    for _ in range(2):  # replayed: applied once
        assert client.post(f"/voice/twilio/gather?ref={call.id}", data=params, headers=signed).status_code == 200
    assert twilio.assignment(aid).status.value == "declined"
    assert _kinds(twilio, aid).count("call_answered") == 1


def test_no_answer_moves_the_chain_on_at_once(twilio):
    (aid,) = twilio.dispatch()
    later = _silence(twilio, aid)
    twilio.provider.add_rule("", outcome="no-answer")  # every call rings out
    outbox.drain_calls(twilio.sf, now=later, voice_gateway=twilio.voice, settings=twilio.settings)
    assert _wait(lambda: "call_unanswered" in _kinds(twilio, aid))
    kinds = _kinds(twilio, aid)
    assert "chain_escalated" in kinds or "replaced" in kinds  # the next person (or resource) is paged at once


def test_a_call_lost_in_a_crash_is_not_placed_again_and_escalates(twilio):
    (aid,) = twilio.dispatch()
    later = _silence(twilio, aid)
    row_id = outbox.claim_one(twilio.sf, now=later, channel="voice")  # "sending" committed, then the worker died
    assert outbox.recover_sending(twilio.sf, now=later, everything=True, settings=twilio.settings) == 1
    (call,) = _calls(twilio, aid)
    assert call.id == row_id and call.status == "failed" and call.error_code == "call_unknown"
    assert outbox.drain_calls(twilio.sf, now=later, voice_gateway=twilio.voice, settings=twilio.settings).sent == 0
    assert twilio.provider.calls_to(call.to_phone) == []
    assert "call_failed" in _kinds(twilio, aid)


def test_drill_calls_read_the_drill_notice_first(twilio):
    (aid,) = twilio.dispatch(drill=True)
    _silence(twilio, aid)
    (call,) = _calls(twilio, aid)
    assert call.template == "voice_drill_dispatch" and call.body.startswith("【演练】")


def test_aliyun_call_report_pushed_with_token_and_no_answer_escalates(aliyun):
    (aid,) = aliyun.dispatch()
    later = _silence(aliyun, aid)
    (call,) = _calls(aliyun, aid)
    assert call.template == "voice_dispatch" and "接受请按1" not in call.body  # no keypress: asks for an SMS reply
    aliyun.provider.add_rule("", outcome="no_answer")
    assert outbox.drain_calls(aliyun.sf, now=later, voice_gateway=aliyun.voice, settings=aliyun.settings).sent == 1
    assert _wait(lambda: "call_unanswered" in _kinds(aliyun, aid))  # pushed to /voice/aliyun/report?token=…
    (placed,) = aliyun.provider.calls
    assert placed["out_id"] == str(call.id) and placed["tts_code"] == "TTS_STANDIN_VOICE_DISPATCH"
    client = aliyun.app.test_client()
    assert client.post("/voice/aliyun/report?token=wrong", data=b"[]").status_code == 403
    assert client.post(f"/voice/aliyun/report?token={TOKEN}", data=b"{bad").status_code == 400
    # a replayed report changes nothing
    before = _kinds(aliyun, aid)
    aliyun.provider.push_call_report(placed["call_id"], outcome="no_answer")
    assert _kinds(aliyun, aid) == before


def test_voice_off_skips_the_step(backend, templates, tmp_path):
    from tests.conftest import make_app

    app = make_app(
        templates.copy(backend, seeded=True), tmp_path, SMS_BACKEND="fake", VOICE_CALL_STEP="off", VOICE_BACKEND="console"
    )
    try:
        from tests.messaging.conftest import Setup

        setup = Setup(app, None, "")
        (aid,) = setup.dispatch()
        outbox.drain_outbox(setup.sf, setup.sms, settings=setup.settings)
        escalation.escalate_due(setup.sf, now=utcnow() + timedelta(seconds=301), settings=setup.settings)
        assert _calls(setup, aid) == [] and "call_queued" not in _kinds(setup, aid)
    finally:
        app.extensions["db"].engine.dispose()
