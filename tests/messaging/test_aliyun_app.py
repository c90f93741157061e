"""The app on Alibaba Cloud SMS: templates with their values, pushed replies and reports applied once, bad pushes,
throttling and refused messages through the real outbox, and the crash-recovery lookup by OutId."""

import json
import time
import urllib.request
from datetime import timedelta

from sqlalchemy import func, select

from rescue.db import utcnow
from rescue.dispatch import outbox
from rescue.models import AssignmentEvent, DeliveryReceiptEntry, InboundMessage, OutboxMessage
from tests.messaging.conftest import TOKEN, first_team_phone


def _wait(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _post(url, body: bytes, content_type="application/json"):
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _rows(setup, **where):
    with setup.sf() as s:
        rows = s.scalars(select(OutboxMessage).filter_by(**where).order_by(OutboxMessage.id)).all()
        for r in rows:
            s.expunge(r)
        return rows


def test_dispatch_sends_template_code_and_params_and_the_phone_reads_the_stored_text(aliyun):
    (aid,) = aliyun.dispatch()
    assert outbox.drain_outbox(aliyun.sf, aliyun.sms).sent == 1
    (row,) = _rows(aliyun, assignment_id=aid)
    assert row.template == "dispatch" and row.params["code"] == aliyun.assignment(aid).reply_code
    (message,) = aliyun.provider.messages_to(row.to_phone)
    assert message["template_code"] == "SMS_STANDIN_DISPATCH" and message["params"] == row.params
    assert message["content"] == row.body  # what the console shows is exactly what the phone receives
    assert message["out_id"] == str(row.id)
    # the stand-in pushes the delivery report to /sms/aliyun/status?token=…, maybe before the sender recorded "sent"
    assert _wait(lambda: _rows(aliyun, id=row.id)[0].status == "delivered"), aliyun.provider.pushes


def test_pushed_reply_applied_once_and_answered_with_the_reply_ack_template(aliyun):
    (aid,) = aliyun.dispatch()
    outbox.drain_outbox(aliyun.sf, aliyun.sms)
    phone, code = first_team_phone(aliyun, aid), aliyun.assignment(aid).reply_code
    for _ in range(2):  # the provider pushes again when unsure: same sequence_id
        assert aliyun.provider.push_reply(phone, f"{code} 1", sequence_id=777001) == 200
    assert aliyun.assignment(aid).status.value == "accepted"
    with aliyun.sf() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 1
        accepts = s.scalar(
            select(func.count())
            .select_from(AssignmentEvent)
            .where(AssignmentEvent.assignment_id == aid, AssignmentEvent.to_status == "accepted")
        )
        assert accepts == 1
    (ack,) = _rows(aliyun, purpose="reply")
    assert ack.template == "reply_ack" and ack.to_phone == phone and "已记录您的回复：接受" in ack.body


def test_push_token_checked_and_answer_is_the_providers(aliyun):
    body = json.dumps([{"phone_number": "13800000001", "content": "hi", "sequence_id": 1}]).encode()
    assert _post(f"{aliyun.url}/sms/aliyun/inbound", body)[0] == 403
    assert _post(f"{aliyun.url}/sms/aliyun/inbound?token=wrong", body)[0] == 403
    assert _post(f"{aliyun.url}/sms/aliyun/status?token={TOKEN}x", b"[]")[0] == 403
    status, text = _post(f"{aliyun.url}/sms/aliyun/inbound?token={TOKEN}", b"[]")
    assert status == 200 and json.loads(text) == {"code": 0, "msg": "成功"}
    # another backend's path is not this one
    assert _post(f"{aliyun.url}/sms/twilio/inbound?token={TOKEN}", b"[]")[0] == 404


def test_bad_pushes_never_5xx_never_applied_to_the_wrong_assignment_and_flagged(aliyun):
    first, second = aliyun.dispatch(n=2)
    outbox.drain_outbox(aliyun.sf, aliyun.sms)
    url = f"{aliyun.url}/sms/aliyun/inbound?token={TOKEN}"
    assert _post(url, b"{not json")[0] == 400
    assert _post(url, b'{"an": "object"}')[0] == 400
    other_code = aliyun.assignment(second).reply_code
    items = [
        {"phone_number": "13012345678", "content": "你好", "sequence_id": 9001},  # unknown number
        {"content": "no number"},  # unreadable
        # the first team's phone answers with the second team's code: a mix-up, not an answer for them
        {"phone_number": first_team_phone(aliyun, first)[3:], "content": f"{other_code} 1", "sequence_id": 9002},
        {"phone_number": "13012345678", "content": "你好", "sequence_id": 9001},  # duplicate item
    ]
    status, text = _post(url, json.dumps(items).encode())
    assert status == 200 and json.loads(text)["code"] == 0
    assert aliyun.assignment(first).status.value == "notified"
    assert aliyun.assignment(second).status.value == "notified"
    with aliyun.sf() as s:
        records = s.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        assert sorted(r.outcome for r in records) == ["code_mismatch", "unknown_number", "unreadable"]
        assert all(r.needs_review and r.assignment_id is None for r in records)
        assert next(r for r in records if r.outcome == "unknown_number").from_phone == "+8613012345678"  # E.164
    assert _post(f"{aliyun.url}/sms/aliyun/status?token={TOKEN}", b"[{}]")[0] == 200  # unreadable report: logged


def test_replayed_report_is_applied_once(aliyun):
    aliyun.provider.auto_reports = False
    (aid,) = aliyun.dispatch()
    outbox.drain_outbox(aliyun.sf, aliyun.sms)
    (row,) = _rows(aliyun, assignment_id=aid)
    for _ in range(2):
        assert aliyun.provider.push_report(row.provider_id, success=False, err_code="MK:0001") == 200
    assert _rows(aliyun, id=row.id)[0].status == "undelivered"
    with aliyun.sf() as s:
        assert s.scalar(select(func.count()).select_from(DeliveryReceiptEntry)) == 1
        undelivered = s.scalar(
            select(func.count())
            .select_from(AssignmentEvent)
            .where(AssignmentEvent.assignment_id == aid, AssignmentEvent.kind == "sms_undelivered")
        )
        assert undelivered == 1


def test_throttled_backs_off_then_sends(aliyun):
    (aid,) = aliyun.dispatch()
    aliyun.provider.fail_next("throttled")
    now = utcnow()
    result = outbox.drain_outbox(aliyun.sf, aliyun.sms, now=now)
    assert result.throttled and result.sent == 0
    (row,) = _rows(aliyun, assignment_id=aid)
    assert row.status == "queued" and row.next_attempt_dt >= now + timedelta(seconds=60)  # isv.BUSINESS_LIMIT_CONTROL
    assert outbox.drain_outbox(aliyun.sf, aliyun.sms, now=now + timedelta(seconds=30)).sent == 0
    assert outbox.drain_outbox(aliyun.sf, aliyun.sms, now=row.next_attempt_dt).sent == 1
    assert len(aliyun.provider.messages_to(row.to_phone)) == 1


def test_invalid_number_and_template_fail_and_escalate(aliyun):
    first, second = aliyun.dispatch(n=2)
    aliyun.provider.fail_next("invalid_number")
    aliyun.provider.fail_next("invalid_template")
    result = outbox.drain_outbox(aliyun.sf, aliyun.sms, settings=aliyun.settings)
    assert result.failed == 2
    with aliyun.sf() as s:
        failed = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")).all()
        assert sorted(r.error_code for r in failed) == ["isv.MOBILE_NUMBER_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL"]
        kinds = {e.kind for e in s.scalars(select(AssignmentEvent).where(AssignmentEvent.assignment_id.in_((first, second))))}
    # each failed page moved on at once: the voice step calls the same person (the number may still ring)
    assert {"sms_failed", "call_queued"} <= kinds


def test_crash_after_the_provider_took_it_is_found_by_out_id_not_resent(aliyun):
    aliyun.provider.auto_reports = False  # no report to tell us: only the lookup can
    aliyun.dispatch()
    now = utcnow()
    row_id = outbox.claim_one(aliyun.sf, now=now)  # "sending", committed …
    (row,) = _rows(aliyun, id=row_id)
    aliyun.sms.send(outbox._sms(row))  # … the provider took it, then the sender died
    result = outbox.drain_outbox(aliyun.sf, aliyun.sms, now=now + outbox.LEASE + timedelta(seconds=1))
    assert result.recovered == 1 and result.found_by_lookup == 1
    assert len(aliyun.provider.messages_to(row.to_phone)) == 1
    assert _rows(aliyun, id=row_id)[0].status in ("sent", "delivered")
