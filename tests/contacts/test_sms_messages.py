from datetime import UTC, datetime

import pytest

from contacts import (
    DispatchNotice,
    DrillReminder,
    EscalationNotice,
    InvalidSignatureError,
    compose_dispatch,
    compose_escalation,
    compose_reminder,
    count_segments,
    validate_signature,
)
from contacts.messages import DISPATCH_DROP_ORDER


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


def test_dispatch_parts_in_domain_order():
    sms = compose_dispatch(notice(), max_segments=None)
    text = sms.text
    order = [
        "【宁夏应急】",
        "危化品泄漏",
        "较大",
        "宁东镇鸭子荡水库",
        "堵漏",
        "宁东消防站",
        "经G6约45分钟",
        "回复 K7Q 1 接受 2 拒绝",
        "N2025-0012",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    assert text.startswith("【宁夏应急】")
    assert sms.dropped == ()
    assert sms.info == count_segments(text)


def test_drill_tag_follows_the_signature():
    text = compose_dispatch(notice(drill=True), max_segments=None).text
    assert text.startswith("【宁夏应急】【演练】")
    assert "【演练】" not in compose_dispatch(notice()).text


def test_short_dispatch_keeps_everything_in_one_segment():
    sms = compose_dispatch(notice(town="大武口区", landmark="", muster_point="石嘴山站", incident_no="12", eta_min=20))
    assert sms.segments == 1
    assert sms.dropped == ()
    assert "回复 K7Q 1 接受 2 拒绝" in sms.text


def test_long_dispatch_drops_optional_parts_in_order_until_one_segment():
    sms = compose_dispatch(notice(drill=True, card_short="发现泄漏→报告班长→关闭进料阀→佩戴空呼→设置警戒→上风向撤离"))
    assert sms.segments == 1
    assert sms.info.chars <= 70
    assert sms.dropped == DISPATCH_DROP_ORDER[: len(sms.dropped)]
    # Essentials survive: code with both digits, incident number, task, town.
    for essential in ("K7Q 1", "2拒绝", "N2025-0012", "堵漏", "宁东镇"):
        assert essential in sms.text


def test_card_short_form_included_when_two_segments_allowed():
    card = "发现泄漏→报告班长→关闭进料阀→佩戴空呼→设置警戒"
    sms = compose_dispatch(notice(card_short=card), max_segments=2)
    assert sms.text.endswith(card)
    assert sms.segments == 2


def test_core_too_long_reports_segments_instead_of_cutting():
    sms = compose_dispatch(notice(task="对泄漏储罐实施堵漏并组织下风向群众疏散" * 2))
    assert sms.segments == 2
    assert sms.dropped == DISPATCH_DROP_ORDER[1:]  # tried everything there was (no card)
    assert "对泄漏储罐实施堵漏" in sms.text


@pytest.mark.parametrize("signature", ["宁夏应急", "【宁夏应急】", "【宁东管委会应急办】"])
def test_signature_accepted(signature):
    inner = signature.strip("【】")
    assert validate_signature(signature) == f"【{inner}】"
    assert compose_dispatch(notice(), signature=signature).text.startswith(f"【{inner}】")


@pytest.mark.parametrize("signature", ["", "应急", "【NXEM】", "宁夏回族自治区应急管理厅", "【宁夏】应急】"])
def test_signature_rejected(signature):
    with pytest.raises(InvalidSignatureError):
        validate_signature(signature)
    with pytest.raises(InvalidSignatureError):
        compose_dispatch(notice(), signature=signature)


def test_reminder_shows_china_time_and_rsvp_code():
    reminder = DrillReminder(
        "危化品泄漏综合演练", datetime(2025, 6, 12, 1, 0, tzinfo=UTC), "宁东基地", "R7K", muster_point="东门广场"
    )
    sms = compose_reminder(reminder)
    assert sms.text.startswith("【宁夏应急】【演练】")
    assert "6月12日" in sms.text and "09:00" in sms.text  # 01:00 UTC is 09:00 in Ningxia
    assert "R7K 1" in sms.text.replace("回复", "")
    assert sms.segments == 1


def test_reminder_rejects_naive_time():
    with pytest.raises(ValueError, match="timezone"):
        compose_reminder(DrillReminder("演练", datetime(2025, 6, 12, 9), "宁东", "R7K"))


def test_escalation_names_both_resources_or_asks_for_a_human():
    base = dict(incident_no="N12", event_type="火灾", level="一般", place="大武口区", resource="神华宁煤救援队", reason="未应答")
    paged = compose_escalation(EscalationNotice(**base, next_resource="石嘴山消防支队"))
    assert "神华宁煤救援队未应答" in paged.text and "已改派石嘴山消防支队" in paged.text
    stuck = compose_escalation(EscalationNotice(**base))
    assert "请人工调度" in stuck.text
    assert paged.segments == 1
