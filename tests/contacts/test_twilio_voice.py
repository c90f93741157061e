"""Voice calls: the real twilio client against the Twilio stand-in, and the voice registry."""

import logging
import queue
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from contacts import DispatchNotice, GatewayConfigError, PermanentSendError, TransientSendError
from contacts.standins.twilio import FakeTwilio
from contacts.templating import render_call
from contacts.voice import (
    OutgoingCall,
    VoiceGateway,
    available_voice_backends,
    create_voice_gateway,
    register_voice_backend,
)
from contacts.webhooks import WebhookRequest

TO = "+8613800000001"
FROM = "+15005550006"
NOTICE = DispatchNotice(
    incident_no="N2025-0012", event_type="危化品泄漏", level="较大", town="宁东镇", task="堵漏", reply_code="K7Q", drill=True
)


@pytest.fixture
def fake():
    with FakeTwilio(hang_s=3) as server:
        yield server


@pytest.fixture
def app():
    """Stands in for the application's call webhooks: records each signed POST, answers a gather
    with the TwiML the voice gateway builds."""
    posts = queue.Queue()
    state = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
            url = state["url"] + self.path
            posts.put((url, dict(self.headers), form))
            reply = state["voice"].webhook_reply("gather" if "gather" in self.path else "status", "已记录：接受")
            data = reply.body.encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{server.server_port}"
    server.url, server.posts, server.state = state["url"], posts, state
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def voice_gateway(fake, app, **overrides):
    config = {
        "account_sid": fake.account_sid,
        "auth_token": fake.auth_token,
        "from": FROM,
        "base_url": fake.base_url,
        "timeout_s": 0.5,
        "status_callback": app.url + "/voice/twilio/status",
        "gather_callback": app.url + "/voice/twilio/gather",
    } | overrides
    gateway = create_voice_gateway("twilio", config)
    app.state["voice"] = gateway
    return gateway


def events_until(gateway, app, final):
    """Verified, parsed events posted to the app until one has status `final`."""
    seen = []
    while not seen or seen[-1].status != final:
        url, headers, form = app.posts.get(timeout=5)
        assert gateway.verify_webhook(url, form, headers)
        seen.extend(gateway.read_call_events(WebhookRequest(url=url, headers=headers, form=form)).items)
    return seen


def test_call_reads_chinese_and_takes_a_keypress(fake, app):
    gateway = voice_gateway(fake, app)
    assert isinstance(gateway, VoiceGateway) and gateway.supports_keypress
    script = render_call(NOTICE, keypress=True).text
    result = gateway.call(OutgoingCall(TO, script, "call-1"))
    assert result.provider_id.startswith("CA") and result.status == "queued"
    [call] = fake.calls_to(TO)
    assert '<Say language="zh-CN" loop="2">【演练】' in call["_twiml"] and 'numDigits="1"' in call["_twiml"]
    assert [e.status for e in events_until(gateway, app, "in-progress")] == ["queued", "ringing", "in-progress"]
    status, twiml = fake.press(result.provider_id, "1")
    assert status == 200 and "已记录：接受" in twiml and "<Hangup" in twiml
    events = events_until(gateway, app, "completed")
    gather = next(e for e in events if e.digits)
    assert (gather.provider_id, gather.digits, gather.answer) == (result.provider_id, "1", "accept")
    assert events[-1].status == "completed"


def test_decline_and_other_keys(fake, app):
    gateway = voice_gateway(fake, app)
    sid = gateway.call(OutgoingCall(TO, "通知", "call-2")).provider_id
    events_until(gateway, app, "in-progress")
    fake.press(sid, "2")
    assert next(e for e in events_until(gateway, app, "completed") if e.digits).answer == "decline"
    sid = gateway.call(OutgoingCall(TO, "通知", "call-3")).provider_id
    events_until(gateway, app, "in-progress")
    fake.press(sid, "9")
    assert next(e for e in events_until(gateway, app, "completed") if e.digits).answer is None


def test_unanswered_call_reports_no_answer(fake, app):
    gateway = voice_gateway(fake, app)
    fake.add_rule("0005", outcome="no-answer")
    gateway.call(OutgoingCall("+8613800000005", "通知", "call-4"))
    assert events_until(gateway, app, "no-answer")[-1].status == "no-answer"


def test_forged_callbacks_fail_verification(fake, app):
    gateway = voice_gateway(fake, app)
    form = {"CallSid": "CA" + "0" * 32, "Digits": "1", "CallStatus": "in-progress"}
    assert not gateway.verify_webhook(app.url + "/voice/twilio/gather", form, {"X-Twilio-Signature": "forged"})
    assert not gateway.verify_webhook(app.url + "/voice/twilio/gather", form, {})


def test_call_errors_map_like_sms(fake, app):
    gateway = voice_gateway(fake, app)
    with pytest.raises(PermanentSendError) as info:
        gateway.call(OutgoingCall("12345", "通知", "call-5"))
    assert info.value.code == 21211
    fake.fail_next("server_error")
    with pytest.raises(TransientSendError) as info:
        gateway.call(OutgoingCall(TO, "通知", "call-6"))
    assert info.value.maybe_sent


def test_registry_and_simple_backends(caplog):
    assert {"none", "console", "twilio", "aliyun"} <= set(available_voice_backends())
    with pytest.raises(GatewayConfigError, match="unknown voice backend 'pigeon'"):
        create_voice_gateway("pigeon")
    with pytest.raises(GatewayConfigError, match="missing from"):
        create_voice_gateway("twilio", {"account_sid": "AC" + "1" * 32, "auth_token": "t"})
    with pytest.raises(PermanentSendError, match="voice_disabled"):
        create_voice_gateway("none").call(OutgoingCall(TO, "通知", "c"))
    console = create_voice_gateway("console")
    with caplog.at_level(logging.INFO, logger="contacts.voice.console"):
        result = console.call(OutgoingCall(TO, "【演练】通知", "c-1"))
    assert "【演练】通知" in caplog.text and TO in caplog.text
    assert console.press(result.provider_id, "2").answer == "decline"
    register_voice_backend("pigeon", lambda config: console)
    assert create_voice_gateway("pigeon") is console
