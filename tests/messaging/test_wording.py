"""Every message the service queues is its template rendered (so the console and Twilio show what an Aliyun
phone receives), and the wording of issue 12: quantities apart from names, experts asked to call in."""

from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import select

from contacts.templating import render
from rescue import cards
from rescue.db import utcnow
from rescue.dispatch import assignments, dispatches
from rescue.drills import compliance
from rescue.models import Expert, OutboxMessage
from tests.alerts.conftest import make_incident
from tests.conftest import make_app


def test_quantity_is_set_apart_from_the_name():
    lot = SimpleNamespace(name="四合一气体检测仪")
    assert assignments.task_text(None, None, "equipment", lot, 3) == "调运四合一气体检测仪 ×3"
    assert assignments.task_text(None, None, "supply", lot, 1) == "调运四合一气体检测仪"


def test_every_queued_message_is_its_template_rendered_and_experts_are_asked_to_call(backend, templates, tmp_path):
    app = make_app(
        templates.copy(backend, seeded=True), tmp_path, SMS_BACKEND="fake", COMMAND_PHONE="0951-5010100", VOICE_BACKEND="console"
    )
    try:
        sf, settings = app.extensions["db"].session_factory, app.extensions["alert_settings"]
        now = utcnow()
        with sf() as s:
            incident = make_incident(s, needs=(("firefighting", 1),), number="NX-W0001")
            expert = s.scalars(select(Expert).order_by(Expert.id)).first()
            dispatches.create_dispatch(
                s, incident, resources=[{"kind": "expert", "id": expert.id, "need_id": None}], settings=settings, now=now
            )
            s.commit()
        compliance.send_compliance_reminders(sf, now=now, settings=settings)
        cards.send_review_reminders(sf, now=now + timedelta(days=400), settings=settings)
        with sf() as s:
            rows = s.scalars(select(OutboxMessage)).all()
            purposes = {r.purpose for r in rows}
            assert {"dispatch", "notice"} <= purposes, purposes
            for row in rows:
                assert row.template, row.body
                assert row.body == render(row.template, row.params, signature=settings.signature).text
            (page,) = [r for r in rows if r.purpose == "dispatch"]
            assert "请致电0951-5010100" in page.body and "分钟到达" not in page.body and "专家会商" in page.body
    finally:
        app.extensions["db"].engine.dispose()


def test_a_dispatch_sms_with_its_link_keeps_the_route_and_arrival_time():
    from contacts import DispatchNotice
    from rescue.dispatch.assignments import render_dispatch
    from rescue.messaging.gateway import AlertSettings

    notice = DispatchNotice(
        incident_no="NX-20261130-0001",
        event_type="危化品运输车辆泄漏",
        level="较大",
        town="宁东镇",
        task="危化品泄漏处置",
        reply_code="M3V",
        route="G307、G20",
        eta_min=31,
    )
    link = "http://127.0.0.1:5000/r/N5hLYXCAFtUsNLg8ekxQFg"
    rendered = render_dispatch(notice, settings=AlertSettings(responder_base_url="http://127.0.0.1:5000/r/"), link=link)
    assert rendered.kind == "dispatch_link" and not rendered.truncated
    assert "经G307、G20约31分钟到达" in rendered.text and rendered.text.endswith(link)
