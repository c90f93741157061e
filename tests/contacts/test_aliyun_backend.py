"""The real Alibaba Cloud SDKs against the local stand-in (loopback only)."""

import json
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from contacts import (
    DispatchNotice,
    GatewayConfigError,
    OutgoingSms,
    PermanentSendError,
    ReplyKind,
    SmsGateway,
    TransientSendError,
    create_gateway,
    parse_reply,
)
from contacts.backends.aliyun import PUSH_REPLY, parse_template_codes
from contacts.standins.aliyun import AliyunStandIn, standin_template_codes
from contacts.templating import render_message, sms_kinds
from contacts.voice import OutgoingCall, VoiceGateway, create_voice_gateway
from contacts.webhooks import WebhookFormError, WebhookRequest

TO = "+8613800000001"
TOKEN = "push-token-123"


def notice(**overrides):
    fields = dict(
        incident_no="N2025-0012",
        event_type="危化品泄漏",
        level="较大",
        town="宁东镇",
        landmark="鸭子荡水库",
        task="堵漏",
        muster_point="宁东消防站",
        route="G6",
        eta_min=45,
        reply_code="K7Q",
    )
    return DispatchNotice(**(fields | overrides))


@pytest.fixture
def standin():
    with AliyunStandIn(hang_s=3) as server:
        yield server


def config(standin, **overrides):
    return {
        "access_key_id": standin.access_key_id,
        "access_key_secret": standin.access_key_secret,
        "sign_name": "宁夏应急",
        "callback_token": TOKEN,
        "base_url": standin.base_url,
        "templates": standin_template_codes(),
        "timeout_s": 0.5,
    } | overrides


@pytest.fixture
def gateway(standin):
    return create_gateway("aliyun", config(standin))


def dispatch_sms(reference="outbox-1", to=TO, **overrides):
    return render_message(notice(**overrides)).outgoing(to, reference)


def since():
    return datetime.now(UTC) - timedelta(seconds=5)


def test_sends_the_template_and_the_phone_gets_the_rendered_text(standin, gateway):
    assert isinstance(gateway, SmsGateway)
    sms = dispatch_sms()
    result = gateway.send(sms)
    assert result.status == "queued" and result.provider_id
    [message] = standin.messages_to(TO)
    assert message["phone"] == "13800000001"  # mainland numbers go without +86
    assert message["template_code"] == standin_template_codes()["dispatch"]
    assert message["sign_name"] == "宁夏应急" and message["out_id"] == "outbox-1"
    assert message["params"] == dict(sms.params)
    # What the provider renders is exactly what console/fake backends show.
    assert message["content"] == sms.body


def test_the_sdk_signs_and_a_wrong_secret_or_key_is_refused_as_account_wide(standin):
    for overrides in ({"access_key_secret": "wrong"}, {"access_key_id": "LTAIother"}):
        gateway = create_gateway("aliyun", config(standin, **overrides))
        with pytest.raises(TransientSendError) as info:
            gateway.send(dispatch_sms())
        assert not info.value.maybe_sent  # refused before anything was taken
    assert standin.messages == []


def test_business_limit_control_backs_off(standin, gateway):
    standin.fail_next("throttled")
    with pytest.raises(TransientSendError) as info:
        gateway.send(dispatch_sms())
    assert info.value.retry_after == 60 and not info.value.maybe_sent
    standin.fail_next("api_throttled")
    with pytest.raises(TransientSendError):
        gateway.send(dispatch_sms())
    assert standin.messages == []
    gateway.send(dispatch_sms())
    assert len(standin.messages) == 1


def test_invalid_number_and_template_fail_permanently(standin, gateway):
    standin.add_rule("0000", error="invalid_number")
    with pytest.raises(PermanentSendError) as info:
        gateway.send(dispatch_sms(to="+8613800000000"))
    assert info.value.code == "isv.MOBILE_NUMBER_ILLEGAL" and info.value.message == "号码无效"
    with pytest.raises(PermanentSendError) as info:
        gateway.send(dispatch_sms(to="+861380000"))  # too short: refused by the provider itself
    assert info.value.code == "isv.MOBILE_NUMBER_ILLEGAL"
    unapproved = create_gateway("aliyun", config(standin, templates=standin_template_codes() | {"dispatch": "SMS_999"}))
    with pytest.raises(PermanentSendError) as info:
        unapproved.send(dispatch_sms())
    assert info.value.code == "isv.SMS_TEMPLATE_ILLEGAL"
    with pytest.raises(PermanentSendError) as info:
        gateway.send(OutgoingSms(TO, "free text", "outbox-9"))
    assert info.value.code == "no_template"
    assert standin.messages == []


def test_server_error_may_have_been_sent(standin, gateway):
    standin.fail_next("server_error")
    with pytest.raises(TransientSendError) as info:
        gateway.send(dispatch_sms())
    assert info.value.maybe_sent


def test_time_out_after_acceptance_is_found_by_lookup_not_resent(standin, gateway):
    standin.fail_next("hang")
    sms = dispatch_sms("outbox-7")
    with pytest.raises(TransientSendError) as info:
        gateway.send(sms)
    assert info.value.maybe_sent
    found = gateway.lookup(sms, since=since())
    assert found is not None and found.status in ("sent", "delivered")
    assert len(standin.messages) == 1
    # Another message to the same number is not mistaken for it.
    assert gateway.lookup(dispatch_sms("outbox-8"), since=since()) is None


def test_stall_without_acceptance_is_not_found(standin, gateway):
    standin.fail_next("hang_unaccepted")
    sms = dispatch_sms("outbox-3")
    with pytest.raises(TransientSendError):
        gateway.send(sms)
    assert gateway.lookup(sms, since=since()) is None


def test_lookup_by_biz_id_and_lookup_failure_is_transient(standin, gateway):
    sms = dispatch_sms("outbox-4")
    result = gateway.send(sms)
    assert gateway.lookup(sms, since=since(), provider_id=result.provider_id).provider_id == result.provider_id
    standin.fail_next("server_error")
    with pytest.raises(TransientSendError):
        gateway.lookup(sms, since=since())


def test_batch_sends_one_template_to_many(standin, gateway):
    numbers = ["+8613800000011", "+8613800000012", "+8613800000013"]
    messages = [dispatch_sms(f"b-{i}", to=n, reply_code=f"K{i + 2}Q") for i, n in enumerate(numbers)]
    results = gateway.send_batch(messages)
    assert len(results) == 3 and len({r.provider_id for r in results}) == 1
    assert [m["content"] for m in standin.messages] == [m.body for m in messages]
    with pytest.raises(ValueError, match="one template kind"):
        gateway.send_batch([messages[0], render_message(notice(drill=True)).outgoing(TO, "d-1")])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"templates": {}}, "missing template code for dispatch, drill_dispatch"),
        ({"templates": {k: "SMS_1" for k in sms_kinds() if k != "card_review"}}, "missing template code for card_review"),
        (
            {"templates": {"dispatch": "SMS_1", "carrier_pigeon": "SMS_2"}, "kinds": ["dispatch"]},
            "unknown message kinds carrier_pigeon",
        ),
        ({"sign_name": "x"}, "sign_name"),
        ({"base_url": "ftp://127.0.0.1/x"}, "base URL"),
        ({"timeout_s": "soon"}, "timeout_s"),
        ({"callback_token": ""}, "missing callback_token"),
        ({"secret": "x"}, "unknown secret"),
    ],
)
def test_config_fails_fast_naming_the_problem(standin, overrides, message):
    with pytest.raises(GatewayConfigError, match=message):
        create_gateway("aliyun", config(standin, **overrides))


def test_only_the_kinds_that_can_be_sent_need_codes(standin):
    gateway = create_gateway("aliyun", config(standin, templates={"dispatch": "SMS_STANDIN_DISPATCH"}, kinds=["dispatch"]))
    assert gateway.send(dispatch_sms()).provider_id


def test_template_code_settings_read_json_or_pairs():
    assert parse_template_codes('{"dispatch": "SMS_1"}') == {"dispatch": "SMS_1"}
    assert parse_template_codes("dispatch=SMS_1, escalation=SMS_2;") == {"dispatch": "SMS_1", "escalation": "SMS_2"}
    with pytest.raises(GatewayConfigError):
        parse_template_codes("dispatch")


def push_url(receiver, path):
    return f"{receiver.url}{path}?token={TOKEN}"


def test_delivery_reports_are_pushed_and_read(standin, gateway, push_receiver):
    standin.report_url = push_url(push_receiver, "/sms/aliyun/status")
    standin.add_rule("9999", outcome="MK:0001")
    gateway.send(dispatch_sms("ok-1"))
    gateway.send(dispatch_sms("bad-1", to="+8613800009999"))
    for reference, status, error in (("ok-1", "delivered", None), ("bad-1", "undelivered", "MK:0001")):
        path, headers, body = push_receiver.posts.get(timeout=5)
        request = WebhookRequest(url=push_url(push_receiver, path.split("?")[0]), headers=headers, body=body)
        assert gateway.verify_webhook(request.url, {}, headers)
        [receipt] = gateway.read_status(request).items
        assert (receipt.reference, receipt.status, receipt.error_code) == (reference, status, error)
        assert receipt.provider_id == next(m["biz_id"] for m in standin.messages if m["out_id"] == reference)
    assert all(outcome == 200 for _, _, outcome in standin.pushes)


def test_replies_are_pushed_and_read_through_the_reply_grammar(standin, gateway, push_receiver):
    url = push_url(push_receiver, "/sms/aliyun/inbound")
    assert standin.push_reply("13800000001", "k7q1 20分钟", url=url) == 200
    _, headers, body = push_receiver.posts.get(timeout=5)
    [sms] = gateway.read_inbound(WebhookRequest(url=url, headers=headers, body=body)).items
    assert sms.from_ == TO and sms.provider_id and sms.received_at.tzinfo is not None
    reply = parse_reply(sms.body)
    assert (reply.kind, reply.code, reply.eta_min) == (ReplyKind.ACCEPT, "K7Q", 20)
    assert gateway.webhook_reply("inbound") == PUSH_REPLY
    assert json.loads(PUSH_REPLY.body) == {"code": 0, "msg": "成功"}
    assert gateway.replies_inline is False


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/sms/aliyun/inbound",
        "http://127.0.0.1/sms/aliyun/inbound?token=",
        "http://127.0.0.1/sms/aliyun/inbound?token=push-token-12",
        "http://127.0.0.1/sms/aliyun/inbound?token=push-token-1234",
    ],
)
def test_pushes_without_the_token_are_refused(gateway, url):
    assert not gateway.verify_webhook(url, {}, {})


def test_bad_pushes_are_reported_never_misapplied(gateway):
    def read(body):
        return gateway.read_inbound(WebhookRequest(url="", body=body))

    for body in (b"not json", b'{"phone_number": "13800000001"}', b"[", b"\xff\xfe"):
        with pytest.raises(WebhookFormError):
            read(body)
    assert read(b"[]").items == ()
    good = {"phone_number": "13800000001", "content": "K7Q 1", "sequence_id": 77, "send_time": "2025-05-03 10:00:00"}
    batch = read(json.dumps([good, good, {"content": "K7Q 2"}, "x", {**good, "sequence_id": 78, "phone_number": "abc"}]).encode())
    first, again, odd = batch.items
    # Duplicates keep one dedupe key; the caller applies each key once.
    assert first.provider_id == again.provider_id == "77"
    assert first.received_at == datetime(2025, 5, 3, 2, 0, tzinfo=UTC)
    assert odd.from_ == "abc"  # an unreadable number stays as given: it matches no contact, a person looks
    assert [index for index, _ in batch.problems] == [2, 3]
    reports = gateway.read_status(
        WebhookRequest(
            url="",
            body=json.dumps(
                [
                    {"biz_id": "1^2", "success": "false", "err_code": "MK:0001", "out_id": "", "phone_number": "13800000001"},
                    {"success": True},
                ]
            ).encode(),
        )
    )
    [receipt] = reports.items
    assert (receipt.status, receipt.error_code, receipt.reference, receipt.to) == ("undelivered", "MK:0001", None, TO)
    assert reports.problems == ((1, "item lacks biz_id"),)


def voice_config(standin, **overrides):
    return {
        "access_key_id": standin.access_key_id,
        "access_key_secret": standin.access_key_secret,
        "callback_token": TOKEN,
        "base_url": standin.base_url,
        "templates": standin_template_codes("voice"),
        "timeout_s": 0.5,
    } | overrides


def test_voice_call_reads_the_template_and_the_report_is_pushed(standin, push_receiver):
    from contacts.templating import render_call, voice_dispatch_params

    standin.voice_report_url = push_url(push_receiver, "/voice/aliyun/status")
    standin.add_rule("0005", outcome="no_answer")
    voice = create_voice_gateway("aliyun", voice_config(standin))
    assert isinstance(voice, VoiceGateway) and not voice.supports_keypress
    drill = notice(drill=True)
    kind, params = voice_dispatch_params(drill)
    script = render_call(drill, keypress=False)
    for to, reference in ((TO, "call-1"), ("+8613800000005", "call-2")):
        result = voice.call(OutgoingCall(to, script.text, reference, template=kind, params=params))
        assert result.provider_id
    assert standin.calls[0]["script"] == script.text and script.text.startswith("【演练】")
    outcomes = {}
    for _ in range(2):
        path, headers, body = push_receiver.posts.get(timeout=5)
        url = push_url(push_receiver, path.split("?")[0])
        assert voice.verify_webhook(url, {}, headers)
        [event] = voice.read_call_events(WebhookRequest(url=url, headers=headers, body=body)).items
        outcomes[event.reference] = event.status
    assert outcomes == {"call-1": "completed", "call-2": "no-answer"}


def test_voice_errors_and_config(standin):
    voice = create_voice_gateway("aliyun", voice_config(standin))
    with pytest.raises(PermanentSendError, match="no_template"):
        voice.call(OutgoingCall(TO, "x", "c-1"))
    standin.fail_next("server_error")
    with pytest.raises(TransientSendError):
        voice.call(
            OutgoingCall(
                TO,
                "x",
                "c-2",
                template="voice_dispatch",
                params={"event": "火灾", "level": "一般", "place": "镇", "task": "灭火", "code": "K7Q"},
            )
        )
    with pytest.raises(GatewayConfigError, match="voice_drill_dispatch"):
        create_voice_gateway("aliyun", voice_config(standin, templates={"voice_dispatch": "TTS_1"}))


def test_standin_runs_as_its_own_process(push_receiver):
    proc = subprocess.Popen(
        [sys.executable, "-m", "contacts.standins.aliyun", "--port", "0", "--rule", "0000=invalid_number"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        base = line.split(" on ")[1].split()[0]
        standin = type(
            "S",
            (),
            {"access_key_id": "LTAIstandin0000000000000", "access_key_secret": "standin-access-key-secret", "base_url": base},
        )
        gateway = create_gateway("aliyun", config(standin))
        gateway.send(dispatch_sms())
        with pytest.raises(PermanentSendError):
            gateway.send(dispatch_sms(to="+8613800000000"))

        def control(what, payload=None):
            req = urllib.request.Request(f"{base}/_standin/{what}", data=json.dumps(payload or {}).encode(), method="POST")
            with urllib.request.urlopen(req, timeout=5) as res:
                return json.load(res)

        state = control("messages")
        assert [m["out_id"] for m in state["messages"]] == ["outbox-1"]
        url = push_url(push_receiver, "/sms/aliyun/status")
        assert control("reports", {"biz_id": state["messages"][0]["biz_id"], "url": url}) == {"status": 200}
        assert b'"success": true' in push_receiver.posts.get(timeout=5)[2]
    finally:
        proc.terminate()
        proc.wait(timeout=5)
        proc.stdout.close()
