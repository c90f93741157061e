"""The demo's past incident (seed/story.py): closed, with the timeline a real run writes, left alone by the worker."""

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from rescue.accounts import accounts
from rescue.clock import CHINA
from rescue.db import utcnow
from rescue.dispatch import escalation, outbox
from rescue.models import (
    Assignment,
    AssignmentEvent,
    DeliveryReceiptEntry,
    Deployment,
    InboundMessage,
    Incident,
    OutboxMessage,
)
from rescue.readiness import deployments
from rescue.worker import Worker
from seed import story
from tests.conftest import Api, make_app

NINGDONG, BAOFENG, SHENHUA = "宁东能源化工基地消防救援支队", "宁夏宝丰能源宁东园区危化品专职消防救援队", "神华宁煤集团应急救援队"
PETROCHEM, AMBULANCE, EXPERT = "中石油宁夏石化公司救援队", "银川市急救中心(120)", "曹浩"


@pytest.fixture
def story_app(backend, templates, tmp_path):
    """The app on a database seeded as the embedded default seeds it in demo mode (past incident included)."""
    app = make_app(templates.copy(backend, seeded=True, past_incident=True), tmp_path)
    yield app
    app.extensions["db"].engine.dispose()


@pytest.fixture
def dispatcher(story_app):
    return Api(story_app.test_client(), "dispatcher")


def _past(dispatcher) -> dict:
    closed = dispatcher.get("/api/v1/incidents?status=closed").json
    assert closed["total"] == 1, closed
    return closed["items"][0]


def _beijing(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(CHINA)


def _subsequence(expected: list[tuple], actual: list[tuple]) -> list[tuple]:
    """The expected steps missing from `actual` in that order (empty: all there, in order)."""
    it = iter(actual)
    return [step for step in expected if not any(step == got for got in it)]


def test_seeded_past_incident_is_closed_with_its_timeline_in_order(dispatcher):
    incident = _past(dispatcher)
    assert dispatcher.get("/api/v1/incidents?status=open").json["total"] == 0  # nothing left to handle
    created, closed = _beijing(incident["created_at"]), _beijing(incident["closed_at"])
    days = (utcnow().astimezone(CHINA).date() - created.date()).days
    assert days == story.DAYS_AGO and created.strftime("%H:%M:%S") == "14:21:30" and closed.strftime("%H:%M") == "16:52"
    assert incident["number"] == f"NX-{created:%Y%m%d}-0001" and incident["place"] == "宁东煤化工园区"
    assert [n["capability"] for n in incident["needs"]] == [
        "hazmat_leak_control",
        "gas_protection",
        "medical_first_aid",
        "chemical_process_safety",
    ]

    events = dispatcher.get(f"/api/v1/incidents/{incident['id']}/timeline").json["items"]
    steps = [(e["kind"], e["to_status"], e["resource"]) for e in events]
    expected = [
        ("dispatched", "notified", NINGDONG),
        ("dispatched", "notified", BAOFENG),
        ("dispatched", "notified", SHENHUA),
        ("sms_sent", None, NINGDONG),
        ("sms_delivered", None, NINGDONG),
        ("status", "accepted", NINGDONG),
        ("status", "declined", BAOFENG),
        ("escalation_exhausted", None, BAOFENG),  # a manual dispatch ranks nobody else: the dispatcher sends one
        ("status", "accepted", AMBULANCE),
        ("status", "accepted", EXPERT),
        ("status", "en_route", NINGDONG),
        ("dispatched", "notified", PETROCHEM),
        ("chain_escalated", None, SHENHUA),  # its commander did not answer: the timer pages the deputy
        ("sms_sent", None, SHENHUA),
        ("sms_delivered", None, SHENHUA),
        ("status", "accepted", PETROCHEM),
        ("status", "accepted", SHENHUA),
        ("status", "en_route", PETROCHEM),
        ("status", "on_scene", SHENHUA),
        ("status", "on_scene", NINGDONG),
        ("status", "on_scene", AMBULANCE),
        ("status", "on_scene", PETROCHEM),
        ("correction", "released", EXPERT),
        ("correction", "released", NINGDONG),
        ("closed", None, None),
    ]
    assert _subsequence(expected, steps) == [], steps
    assert steps[-1] == ("closed", None, None)
    times = [datetime.fromisoformat(e["at"]) for e in events]
    assert times == sorted(times) and all(created <= t <= closed for t in times)
    # every SMS went out and was delivered before anyone answered it; the silent page was the commander's
    escalated = next(e for e in events if e["kind"] == "chain_escalated")
    assert "超时未应答" in escalated["message"] and "赵平宁" in escalated["message"]
    assert _beijing(escalated["at"]).strftime("%H:%M") == "14:29"  # the 5-minute timer of the 14:24 dispatch
    replies = [e for e in events if e["actor"].startswith("sms:")]
    answered = len([step for step in story.SCRIPT if step[1] == "reply"])
    assert len(replies) == answered == 12 and all(e["detail"]["channel"] == "sms" for e in replies)

    messages = dispatcher.get(f"/api/v1/incidents/{incident['id']}/messages").json["items"]
    out = [m for m in messages if m["direction"] == "out"]
    assert len(out) == 7 and {m["status"] for m in out} == {"delivered"}  # 6 pages and the deputy's
    assert all(m["sent_at"] < m["delivered_at"] for m in out)
    assert all(re.search(r"回复[A-Z0-9]{3} 1接受", m["text"]) for m in out)
    inbound = [m for m in messages if m["direction"] == "in"]
    assert len(inbound) == answered and {m["outcome"] for m in inbound} == {"applied"}

    dispatches = dispatcher.get(f"/api/v1/incidents/{incident['id']}/dispatches").json["items"]
    rows = {a["name"]: a for d in dispatches for a in d["assignments"]}
    assert {name: a["status"] for name, a in rows.items()} == {
        NINGDONG: "released",
        BAOFENG: "declined",
        SHENHUA: "released",
        AMBULANCE: "released",
        EXPERT: "released",
        PETROCHEM: "released",
    }
    # no road network while seeding: no arrival time was computed, so none is stored; the reported ones are
    assert {a["eta_s"] for a in rows.values()} == {None}
    assert {name: a["reported_eta_min"] for name, a in rows.items() if a["reported_eta_min"]} == {
        NINGDONG: 15,
        AMBULANCE: 40,
        PETROCHEM: 50,
    }


def test_the_worker_and_its_jobs_leave_the_past_incident_alone(story_app, dispatcher):
    """Now and a month on (reminders and notices of other records are queued and sent meanwhile), nothing of the
    past incident is sent, escalated, recorded or changed."""
    past = _past(dispatcher)["id"]
    factory = story_app.extensions["db"].session_factory

    def snapshot():
        with factory() as s:
            rows = select(OutboxMessage.id).where(OutboxMessage.incident_id == past)
            return {
                "events": s.execute(
                    select(AssignmentEvent.id, AssignmentEvent.kind).where(AssignmentEvent.incident_id == past)
                ).all(),
                "outbox": s.execute(
                    select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.status_dt).where(
                        OutboxMessage.incident_id == past
                    )
                ).all(),
                "assignments": s.execute(
                    select(Assignment.id, Assignment.status, Assignment.deadline_dt, Assignment.status_dt).where(
                        Assignment.incident_id == past
                    )
                ).all(),
                "deployments": s.execute(select(Deployment.id).where(Deployment.incident_id == past)).all(),
                "inbound": s.execute(select(InboundMessage.id).where(InboundMessage.incident_id == past)).all(),
                "receipts": s.scalar(
                    select(func.count()).select_from(DeliveryReceiptEntry).where(DeliveryReceiptEntry.outbox_id.in_(rows))
                ),
                "incident": s.execute(select(Incident.status, Incident.closed_dt).where(Incident.id == past)).all(),
            }

    before = snapshot()
    assert len(before["deployments"]) == 5  # drafted as the build_deployments job would, within a minute of the close
    assert {row.status for row in before["outbox"]} == {"delivered"} and before["receipts"] == len(before["outbox"])
    assert all(a.deadline_dt is None for a in before["assignments"])  # no timer left to run out
    gateway, settings = story_app.extensions["sms_gateway"], story_app.extensions["alert_settings"]
    ours = {row.id for row in before["outbox"]}
    for now in (utcnow(), utcnow() + timedelta(days=30)):
        assert escalation.escalate_due(factory, now=now, settings=settings) == 0
        assert deployments.build_due(factory, now=now) == 0
        drained = outbox.drain_outbox(factory, gateway, now=now, settings=settings)
        assert not ours & set(drained.ids) and drained.recovered == 0
        Worker(story_app).run_once(now=now)  # every registered job, as the scheduler runs them
    assert snapshot() == before


def test_console_lists_the_past_incident_and_prints_its_record(story_app, dispatcher):
    from tests.pages.test_pages import sign_in

    incident = _past(dispatcher)
    client = story_app.test_client()
    sign_in(client, "dispatcher")
    console = client.get("/console/")
    assert console.status_code == 200
    listed = console.text.split('id="closed-list"', 1)[1].split("</ul>", 1)[0]
    assert incident["number"] in listed and "有毒有害气体泄漏" in listed and "一般" in listed
    assert f'data-incident="{incident["id"]}"' in listed and f"/console/incidents/{incident['id']}/record" in listed
    created = _beijing(incident["created_at"])
    assert f"{created:%Y-%m-%d} 14:21 创建" in listed and "16:52 结案" in listed

    record = client.get(f"/console/incidents/{incident['id']}/record")
    assert record.status_code == 200
    text = record.text
    assert incident["number"] in text and f"已结案 {created:%Y-%m-%d} 16:52" in text
    assert "第 2 次调派" in text and PETROCHEM in text and BAOFENG in text
    for words in ("已拒绝", "逐级升级", "无人可再升级", "短信已送达", "已结案"):
        assert words in text, words
    assert "赵平宁 139 5100 0137" in text  # the deputy's page, numbers written the Chinese way
    body = text.split('id="dispatch-record"', 1)[1]
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d", body)  # Beijing times, never raw ISO
    assert "None" not in body and "+86" not in body


def test_statistics_count_the_past_incident(dispatcher):
    incident = _past(dispatcher)
    stats = dispatcher.get("/api/v1/statistics").json
    real = stats["real"]
    assert real["incidents"] == 1 and real["assignments"] == 6
    assert stats["drills"]["incidents"] == 0
    # the means as the timeline shows them: dispatched → first acknowledgement, dispatched → on scene
    events = dispatcher.get(f"/api/v1/incidents/{incident['id']}/timeline").json["items"]
    first: dict[int, dict[str, datetime]] = {}
    for e in events:
        if e["assignment_id"] is None:
            continue
        at = datetime.fromisoformat(e["at"])
        marks = first.setdefault(e["assignment_id"], {})
        if e["kind"] == "dispatched":
            marks["start"] = at
        if e["to_status"] in ("accepted", "en_route", "on_scene"):
            marks.setdefault("ack", at)
        if e["to_status"] == "on_scene":
            marks.setdefault("scene", at)
    acks = [(m["ack"] - m["start"]).total_seconds() for m in first.values() if "ack" in m]
    scene = [(m["scene"] - m["start"]).total_seconds() for m in first.values() if "scene" in m]
    assert len(acks) == 5 and len(scene) == 4
    assert real["mean_ack_s"] == pytest.approx(sum(acks) / len(acks), abs=0.1)
    assert real["mean_on_scene_s"] == pytest.approx(sum(scene) / len(scene), abs=0.1)
    assert real["by_channel"]["sms"]["reached"] == 6 and real["by_channel"]["sms"]["acknowledged"] == 5
    since = (datetime.fromisoformat(incident["created_at"]) + timedelta(hours=1)).isoformat()
    assert dispatcher.get("/api/v1/statistics", query_string={"since": since}).json["real"]["incidents"] == 0


def test_no_past_incident_outside_demo_mode(empty_app):
    """Outside demo mode it would count as a real incident in the statistics."""
    from seed import loader

    with empty_app.extensions["db"].session_factory() as session:
        result = loader.seed(session, area=empty_app.config["SERVICE_AREA"], demo=False)
        session.commit()
        assert result.seeded and result.past_incident == ""
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
        assert accounts.demo_users_present(session) == []  # nor demo accounts (the service would refuse to start)
