import logging
from datetime import UTC, datetime

import pytest

from contacts import (
    GatewayConfigError,
    OutgoingSms,
    PermanentSendError,
    SendResult,
    SmsGateway,
    TransientSendError,
    available_backends,
    create_gateway,
    register_backend,
)
from contacts.gateway import _registry
from contacts.webhooks import WebhookFormError

SMS = OutgoingSms("+8613800000001", "【宁夏应急】测试 回复 K7Q 1 接受 2 拒绝", "outbox-1")
SINCE = datetime(2025, 1, 1, tzinfo=UTC)
SID = "AC" + "1" * 32


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(GatewayConfigError, match="console, fake, twilio"):
        create_gateway("carrier-pigeon", {})


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "missing account_sid, auth_token"),
        ({"account_sid": SID, "auth_token": "t"}, "'from'"),
        ({"account_sid": "XX1", "auth_token": "t", "from": "+15005550006"}, "start with 'AC'"),
        ({"account_sid": SID, "auth_token": "t", "from": "+1", "timeout_s": "soon"}, "timeout_s"),
        ({"account_sid": SID, "auth_token": "t", "from": "+1", "tokn": "x"}, "unknown tokn"),
    ],
)
def test_twilio_config_fails_fast(config, message):
    with pytest.raises(GatewayConfigError, match=message):
        create_gateway("twilio", config)


def test_console_rejects_unknown_keys():
    with pytest.raises(GatewayConfigError, match="unknown account_sid"):
        create_gateway("console", {"account_sid": SID})


def test_register_backend_adds_a_provider():
    class Pigeon:
        name = "pigeon"

    register_backend("pigeon", lambda config: Pigeon())
    try:
        assert "pigeon" in available_backends()
        assert create_gateway("pigeon", {}).name == "pigeon"
    finally:
        _registry.pop("pigeon")


@pytest.mark.parametrize("name", ["console", "fake"])
def test_builtin_backends_satisfy_the_protocol(name):
    assert isinstance(create_gateway(name, {}), SmsGateway)


def test_console_logs_and_never_sends(caplog):
    gateway = create_gateway("console", {})
    with caplog.at_level(logging.INFO, logger="contacts.sms.console"):
        result = gateway.send(SMS)
    assert result.provider_id.startswith("console-")
    assert SMS.body in caplog.text and SMS.to in caplog.text
    assert gateway.lookup(SMS, since=SINCE) == result
    assert gateway.lookup(OutgoingSms(SMS.to, SMS.body, "other"), since=SINCE) is None


def test_fake_records_and_fails_on_request():
    gateway = create_gateway("fake", {})
    gateway.fail_next("transient", retry_after=3)
    with pytest.raises(TransientSendError) as info:
        gateway.send(SMS)
    assert info.value.retry_after == 3 and not info.value.maybe_sent
    assert gateway.lookup(SMS, since=SINCE) is None
    gateway.fail_next("permanent", code=21610)
    with pytest.raises(PermanentSendError) as info:
        gateway.send(SMS)
    assert info.value.code == 21610
    result = gateway.send(SMS)
    assert gateway.sent_to(SMS.to) == [SMS.body]
    assert gateway.lookup(SMS, since=SINCE) == result


def test_fake_can_accept_then_time_out():
    gateway = create_gateway("fake", {})
    gateway.fail_next("transient", accepted=True)
    with pytest.raises(TransientSendError) as info:
        gateway.send(SMS)
    assert info.value.maybe_sent
    assert isinstance(gateway.lookup(SMS, since=SINCE), SendResult)
    assert len(gateway.sent) == 1


def test_webhook_forms_are_normalised():
    gateway = create_gateway("fake", {})
    inbound = gateway.parse_inbound({"From": "+8613800000001", "To": "+15005550006", "Body": "K7Q 1", "MessageSid": "SM1"})
    assert (inbound.from_, inbound.body, inbound.provider_id) == ("+8613800000001", "K7Q 1", "SM1")
    assert inbound.received_at.tzinfo is not None
    receipt = gateway.parse_status({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"})
    assert (receipt.status, receipt.error_code) == ("undelivered", "30003")
    assert gateway.parse_status({"MessageSid": "SM1", "MessageStatus": "sending"}).status == "sent"
    with pytest.raises(WebhookFormError):
        gateway.parse_status({"MessageStatus": "sent"})
