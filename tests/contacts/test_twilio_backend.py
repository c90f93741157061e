"""The real twilio client against the local fake Twilio API (loopback only)."""

import json
import queue
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from contacts import OutgoingSms, PermanentSendError, TransientSendError, create_gateway
from contacts.backends.twilio import verify_signature
from contacts.standins.twilio import FakeTwilio

TO = "+8613800000001"
FROM = "+15005550006"


@pytest.fixture
def fake():
    with FakeTwilio(hang_s=3) as server:
        yield server


def make_gateway(fake, **overrides):
    config = {
        "account_sid": fake.account_sid,
        "auth_token": fake.auth_token,
        "from": FROM,
        "base_url": fake.base_url,
        "timeout_s": 0.5,
    } | overrides
    return create_gateway("twilio", config)


@pytest.fixture
def gateway(fake):
    gw = make_gateway(fake)
    yield gw
    gw.close()


@pytest.fixture
def receiver():
    """A webhook endpoint on loopback recording (path, headers, form) of each POST."""
    posts = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            form = dict(urllib.parse.parse_qsl(body))
            posts.put((self.path, dict(self.headers), form))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    server.posts = posts
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def sms(body="【宁夏应急】火灾（一般）回复 K7Q 1 接受 2 拒绝", to=TO, **kw):
    return OutgoingSms(to, body, "outbox-1", **kw)


def since():
    return datetime.now(UTC) - timedelta(seconds=1)


def test_send_succeeds(fake, gateway):
    result = gateway.send(sms())
    assert result.status == "queued"
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    [stored] = fake.messages_to(TO)
    assert (stored["sid"], stored["from"], stored["body"]) == (result.provider_id, FROM, sms().body)


def test_send_with_messaging_service(fake):
    gateway = make_gateway(fake, **{"from": None, "messaging_service_sid": "MG" + "2" * 32})
    try:
        gateway.send(sms())
    finally:
        gateway.close()
    [stored] = fake.messages_to(TO)
    assert stored["from"] is None and stored["messaging_service_sid"] == "MG" + "2" * 32


def test_server_error_is_transient_and_maybe_sent(fake, gateway):
    fake.fail_next("server_error")
    with pytest.raises(TransientSendError) as info:
        gateway.send(sms())
    assert info.value.maybe_sent
    assert fake.messages == []


def test_rate_limit_is_transient_with_retry_after(fake, gateway):
    fake.fail_next("rate_limit")
    with pytest.raises(TransientSendError) as info:
        gateway.send(sms())
    assert info.value.retry_after == 2.0 and not info.value.maybe_sent


def test_timeout_is_transient_and_lookup_prevents_a_duplicate(fake, gateway):
    start = since()
    fake.fail_next("hang")  # Twilio takes the message but answers too late
    # the fake answers 201 only after hang_s (3 s): an error here means the client's 0.5 s timeout gave up first,
    # without measuring the wall clock
    with pytest.raises(TransientSendError) as info:
        gateway.send(sms())
    assert info.value.maybe_sent
    found = gateway.lookup(sms(), since=start)
    assert found is not None
    assert [m["sid"] for m in fake.messages_to(TO)] == [found.provider_id]  # exactly once


def test_lookup_misses_unsent_and_old_messages(fake, gateway):
    gateway.send(sms())
    assert gateway.lookup(sms(body="another body"), since=since()) is None
    assert gateway.lookup(sms(to="+8613800000002"), since=since()) is None
    assert gateway.lookup(sms(), since=datetime.now(UTC) + timedelta(hours=1)) is None


def test_lookup_pages_through_the_list(fake, gateway):
    start = since()
    first = gateway.send(sms(body="第一条 K7Q"))
    for n in range(55):
        gateway.send(sms(body=f"后续 {n}"))
    assert gateway.lookup(sms(body="第一条 K7Q"), since=start).provider_id == first.provider_id


def test_lookup_by_provider_id(fake, gateway):
    result = gateway.send(sms())
    assert gateway.lookup(sms(), since=since(), provider_id=result.provider_id).provider_id == result.provider_id
    assert gateway.lookup(sms(), since=since(), provider_id="SM" + "0" * 32) is None


@pytest.mark.parametrize(("kind", "code"), [("invalid_number", 21211), ("unsubscribed", 21610)])
def test_refusals_are_permanent_with_the_code(fake, gateway, kind, code):
    fake.fail_next(kind)
    with pytest.raises(PermanentSendError) as info:
        gateway.send(sms())
    assert info.value.code == code


def test_per_number_rule_and_malformed_number(fake, gateway):
    fake.add_rule("0000", error=21211)
    with pytest.raises(PermanentSendError) as info:
        gateway.send(sms(to="+8613800000000"))
    assert info.value.code == 21211
    with pytest.raises(PermanentSendError, match="21211"):
        gateway.send(sms(to="13800000001"))  # not E.164
    gateway.send(sms())  # other numbers unaffected


def test_bad_credentials_stay_transient(fake):
    gateway = make_gateway(fake, auth_token="rotated")
    try:
        with pytest.raises(TransientSendError, match="credentials"):
            gateway.send(sms())
    finally:
        gateway.close()
    assert fake.messages == []


def test_provider_down_is_transient(fake):
    gateway = make_gateway(fake)
    fake.stop()
    try:
        with pytest.raises(TransientSendError):
            gateway.send(sms())
    finally:
        gateway.close()


def collect(receiver, count):
    return [receiver.posts.get(timeout=5) for _ in range(count)]


def test_status_callbacks_arrive_signed(fake, gateway, receiver):
    fake.add_rule("0009", outcome="undelivered", error_code=30003)
    url = receiver.url + "/sms/twilio/status?ref=outbox-1"
    delivered = gateway.send(sms(status_callback=url))
    undelivered = gateway.send(sms(to="+8613800000009", status_callback=url))
    posts = collect(receiver, 4)
    by_sid = {}
    for path, headers, form in posts:
        assert path == "/sms/twilio/status?ref=outbox-1"
        public_url = "https://rescue.example.cn" + path  # what RESCUE_PUBLIC_URL would give
        assert not verify_signature(public_url, form, headers["X-Twilio-Signature"], fake.auth_token)
        assert verify_signature(receiver.url + path, form, headers["X-Twilio-Signature"], fake.auth_token)
        assert gateway.verify_webhook(receiver.url + path, form, headers)
        by_sid.setdefault(form["MessageSid"], []).append(gateway.parse_status(form))
    assert [r.status for r in by_sid[delivered.provider_id]] == ["sent", "delivered"]
    assert [(r.status, r.error_code) for r in by_sid[undelivered.provider_id]] == [("sent", None), ("undelivered", "30003")]


def test_forged_callbacks_are_rejected(fake, gateway, receiver):
    url = receiver.url + "/sms/twilio/status"
    gateway.send(sms(status_callback=url))
    _path, headers, form = collect(receiver, 1)[0]
    signature = headers["X-Twilio-Signature"]
    assert verify_signature(url, form, signature, fake.auth_token)
    assert not verify_signature(url, form | {"MessageStatus": "failed"}, signature, fake.auth_token)
    assert not verify_signature(url, form, signature, "another-token")
    assert not verify_signature(url, form, "", fake.auth_token)
    assert not gateway.verify_webhook(url, form, {})


def test_inbound_webhook_is_signed(fake, gateway, receiver):
    url = receiver.url + "/sms/twilio/inbound"
    assert fake.send_inbound(url, from_=TO, body="K7Q 1") == 204
    _path, headers, form = collect(receiver, 1)[0]
    assert gateway.verify_webhook(url, form, headers)
    inbound = gateway.parse_inbound(form)
    assert (inbound.from_, inbound.body) == (TO, "K7Q 1")


def test_standalone_process_with_control_api(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "contacts.standins.twilio", "--port", "0", "--rule", "0000=21211"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline()
        base_url = line.split(" on ")[1].split()[0]
        fake = FakeTwilio()  # defaults match the process's sid and token
        gateway = create_gateway(
            "twilio",
            {"account_sid": fake.account_sid, "auth_token": fake.auth_token, "from": FROM, "base_url": base_url, "timeout_s": 2},
        )
        try:
            request = urllib.request.Request(
                base_url + "/_fake/failures", method="POST", data=json.dumps({"kind": "server_error"}).encode()
            )
            urllib.request.urlopen(request, timeout=2).close()
            with pytest.raises(TransientSendError):
                gateway.send(sms())
            with pytest.raises(PermanentSendError):
                gateway.send(sms(to="+8613800000000"))
            result = gateway.send(sms())
        finally:
            gateway.close()
        with urllib.request.urlopen(base_url + "/_fake/messages", timeout=2) as response:
            messages = json.load(response)["messages"]
        assert [m["sid"] for m in messages] == [result.provider_id]
    finally:
        process.terminate()
        process.wait(timeout=5)
        process.stdout.close()
