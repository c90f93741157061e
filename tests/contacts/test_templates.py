"""Message templates: ready for the provider's console, rendered the same for every backend."""

import json
import logging
from datetime import UTC, date, datetime

import pytest

from contacts import DispatchNotice, DrillReminder, EscalationNotice, count_segments, create_gateway
from contacts.templating import (
    PARAM_BUILDERS,
    SMS_TEMPLATE_FILE,
    VOICE_TEMPLATE_FILE,
    CardReviewNotice,
    CertificateExpiry,
    ComplianceNotice,
    ReplyAck,
    ReplyUnclear,
    TemplateError,
    get_template,
    render,
    render_call,
    render_message,
    sms_kinds,
    templates,
    voice_kinds,
)

DISPATCH = DispatchNotice(
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
NOTICES = [
    DISPATCH,
    DrillReminder("年度综合演练", datetime(2025, 5, 3, 1, 0, tzinfo=UTC), "宁东基地", "R7K"),
    EscalationNotice("N2025-0012", "危化品泄漏", "较大", "宁东镇", "宁东消防队", "超时未回复", "灵武消防队"),
    CardReviewNotice("CK-2025-07", "中控室班长", date(2025, 6, 1)),
    ComplianceNotice("宁夏某化工有限公司", "半年度演练", date(2025, 6, 30)),
    ComplianceNotice("宁夏某化工有限公司", "半年度演练", None, overdue=True),
    CertificateExpiry("宁东危化救援队", "安全生产许可证", date(2025, 7, 1)),
    ReplyAck("接受", "N2025-0012"),
    ReplyUnclear("K7Q"),
]


def test_every_kind_we_send_has_a_console_ready_template():
    assert {
        "dispatch",
        "drill_dispatch",
        "escalation",
        "drill_reminder",
        "card_review",
        "compliance",
        "certificate_expiry",
        "reply_ack",
        "reply_unclear",
    } <= set(sms_kinds())
    assert set(voice_kinds()) == {"voice_dispatch", "voice_drill_dispatch"}
    for path in (SMS_TEMPLATE_FILE, VOICE_TEMPLATE_FILE):
        for entry in json.loads(path.read_text(encoding="utf-8"))["templates"]:
            assert {"TemplateName", "TemplateType", "TemplateContent", "TemplateRule", "Remark"} <= set(entry)
            assert len(entry["TemplateContent"]) <= 500
    for kind in sms_kinds():
        text = get_template(kind).text
        # The provider takes the signature separately; 【】 in the content would be refused.
        assert "【" not in text and "】" not in text, kind


def test_every_notice_renders_within_the_limits():
    assert set(PARAM_BUILDERS) == {type(n) for n in NOTICES}
    for item in NOTICES:
        rendered = render_message(item)
        template = get_template(rendered.kind)
        assert rendered.text.startswith("【宁夏应急】")
        assert rendered.info == count_segments(rendered.text)
        for variable in template.variables:
            assert 0 < len(rendered.params[variable.name]) <= variable.max_len
        assert "${" not in rendered.text


def test_drills_have_their_own_templates():
    assert render_message(DISPATCH).kind == "dispatch"
    drill = render_message(DispatchNotice(**{**DISPATCH.__dict__, "drill": True}))
    assert drill.kind == "drill_dispatch" and drill.text.startswith("【宁夏应急】演练：")


def test_long_values_are_cut_with_an_ellipsis_and_reported():
    rendered = render_message(
        DispatchNotice(**{**DISPATCH.__dict__, "town": "宁东能源化工基地临河综合工业园区", "landmark": "A区三号罐区"})
    )
    assert rendered.params["place"] == "宁东能源化工基地临河综合工业园区A区三…"
    assert len(rendered.params["place"]) == get_template("dispatch").variable("place").max_len
    assert rendered.truncated == ("place",)


def test_codes_and_numbers_are_never_cut():
    with pytest.raises(TemplateError, match="code longer than 4"):
        render_message(DispatchNotice(**{**DISPATCH.__dict__, "reply_code": "K7Q2X"}))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"answer": "接受"}, "missing incident"),
        ({"answer": "接受", "incident": "N1", "extra": "x"}, "unknown extra"),
        ({"answer": " ", "incident": "N1"}, "empty answer"),
    ],
)
def test_bad_values_are_refused_with_every_reason(params, message):
    with pytest.raises(TemplateError, match=message):
        render("reply_ack", params)


def test_unknown_kind_names_the_known_ones():
    with pytest.raises(TemplateError, match="dispatch"):
        render("carrier_pigeon", {})


def test_shrinking_fits_one_segment_keeping_code_and_incident():
    full = render_message(DISPATCH)
    assert full.segments == 2
    short = render_message(DISPATCH, max_segments=1)
    assert short.segments == 1 and short.info.chars <= 70
    assert short.params["code"] == "K7Q" and short.params["incident"] == "N2025-0012"
    assert set(short.truncated) <= set(get_template("dispatch").shrink)


def test_a_text_that_cannot_fit_is_not_cut_for_nothing():
    """Long names (the story's 有毒有害气体泄漏(氯气、氨气等) at 宁东煤化工园区): when cutting every shrinkable part
    cannot reach one segment, the text goes whole; when it saves a segment, it is cut only that far."""
    from dataclasses import replace

    long = replace(
        DISPATCH,
        event_type="有毒有害气体泄漏(氯气、氨气等)",
        town="宁东能源化工基地宁东煤化工园区",
        landmark="宁夏宝丰能源集团焦化厂东侧管廊",
        task="危险化学品泄漏控制与堵漏",
        muster_point="宁东煤化工园区东门应急集结广场",
    )
    whole = render_message(long)
    one = render_message(long, max_segments=1)
    assert whole.segments >= 2 and one.segments == whole.segments and one.text == whole.text
    assert one.truncated == whole.truncated  # only the provider's own per-variable limits
    assert one.params["event"] == "有毒有害气体泄漏"  # over its limit: the bracketed aside goes, not the words
    three = render_message(replace(long, landmark="宁夏宝丰能源集团焦化厂东侧管廊" * 3, route="G6、S203、宁东大道、古窑子路"))
    cut = render_message(
        replace(long, landmark="宁夏宝丰能源集团焦化厂东侧管廊" * 3, route="G6、S203、宁东大道、古窑子路"), max_segments=1
    )
    if three.segments > whole.segments:  # only a cut that saves a segment is made
        assert whole.segments <= cut.segments < three.segments and cut.truncated
    assert "集结点：宁东煤化工园区东门应急集结广场，经G6约45分钟到达" in one.text  # task, muster and arrival whole


def test_console_backend_shows_what_the_phone_receives(caplog):
    rendered = render_message(DISPATCH)
    sms = rendered.outgoing("+8613800000001", "outbox-1")
    assert (sms.template, dict(sms.params), sms.body) == ("dispatch", dict(rendered.params), rendered.text)
    gateway = create_gateway("console", {})
    with caplog.at_level(logging.INFO, logger="contacts.sms.console"):
        gateway.send(sms)
    assert rendered.text in caplog.text


def test_voice_scripts_read_the_drill_tag_first_and_offer_keys_where_possible():
    drill = DispatchNotice(**{**DISPATCH.__dict__, "drill": True})
    keypress = render_call(drill, keypress=True)
    assert keypress.text.startswith("【演练】") and "接受请按1，拒绝请按2" in keypress.text
    plain = render_call(DISPATCH, keypress=False)
    assert not plain.text.startswith("【演练】") and "回复K7Q加1接受" in plain.text
    assert all(t.channel in ("sms", "voice") for t in templates().values())
