"""Drill mode end to end: the real dispatch pipeline with 演练 first on every SMS, statistics without drills,
measured times feeding the team's turnout and so its ranking."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from contacts import InboundSms
from rescue.dispatch import candidates, incidents, replies, statistics
from rescue.drills import records, rsvp, runs
from rescue.models import Assignment, Incident, OutboxMessage, Team
from rescue.web.extensions import get_roads
from tests.drills.conftest import SIGNATURE, T0, fresh, make_plan, plan_data, team


def _network(app):
    with app.app_context():
        return get_roads()


def test_turnout_rule_is_a_bounded_ewma():
    assert runs.updated_turnout(10, 10) == 10
    assert runs.updated_turnout(10, 20) == pytest.approx(13.0)
    assert runs.updated_turnout(2, 60) == pytest.approx(0.7 * 2 + 0.3 * 16)  # one slow drill is bounded to 3x+10
    assert runs.updated_turnout(10, 0) == pytest.approx(0.7 * 10 + 0.3 * 10 / 3)
    assert runs.updated_turnout(1, 0) == 1.0  # never below a minute
    assert runs.updated_turnout(120, 400) == 120.0


def test_drill_runs_through_the_dispatch_pipeline(app, session):
    network = _network(app)
    area = app.config["SERVICE_AREA"]
    drilled = team(session)
    # a real incident to rank teams for, before and after the drill
    real = incidents.create_incident(
        session, network, {"type": "chem_tank_fire", "level": "general", "lat": 38.47, "lon": 106.27}, area=area, now=T0
    )
    session.commit()

    def ranked():
        result = candidates.rank_candidates(session, network, real, k=50, now=T0)
        need = next(n for n in result["needs"] if any(c["kind"] == "team" and c["id"] == drilled.id for c in n["candidates"]))
        return [c for c in need["candidates"] if c["kind"] == "team"]

    before = ranked()
    mine = next(c for c in before if c["id"] == drilled.id)
    # a rival whose road time leaves room to put it half a minute behind the drilled team
    rival = next(c for c in before if c["id"] != drilled.id and c["eta_s"] - c["turnout_s"] + 60 < mine["eta_s"] + 30)
    rival_team = session.get(Team, rival["id"])
    rival_team.turnout_min = (mine["eta_s"] + 30 - (rival["eta_s"] - rival["turnout_s"])) / 60
    session.commit()
    order = [c["id"] for c in ranked()]
    assert order.index(drilled.id) < order.index(rival_team.id)
    stats_before = statistics.response_statistics(session)

    plan = make_plan(session, starts_at=(T0 + timedelta(hours=1)).isoformat())
    run = runs.start_run(session, network, plan, actor=None, now=T0 + timedelta(hours=1), area=area)
    session.commit()
    incident = session.get(Incident, run.incident_id)
    assert incident.drill is True and run.status.value == "running"
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.incident_id == incident.id)).all()
    assert rows, "the drill paged its team through the outbox"
    for row in rows:
        assert row.body.startswith(SIGNATURE + "演练："), row.body  # the drill_dispatch template
    assignment = session.scalars(select(Assignment).where(Assignment.incident_id == incident.id)).one()
    assert assignment.resource_id == drilled.id

    # the team answers by SMS: accepts after 1 minute, reports mustered after 30
    phone = rows[0].to_phone
    started = T0 + timedelta(hours=1)
    for minutes, body in ((1, f"{assignment.reply_code} 1"), (30, f"{assignment.reply_code} 到达")):
        replies.handle_inbound(
            session,
            InboundSms(from_=phone, to="", body=body, provider_id=None),
            provider="fake",
            now=started + timedelta(minutes=minutes),
            unmatched=rsvp.apply_rsvp,
        )
    session.commit()
    old = drilled.turnout_min
    run = records.record_run(
        session,
        plan,
        {
            "status": "held",
            "evaluation": "集结偏慢",
            "rating": "pass",
            "findings": ["值班员未及时转呼指挥员"],
            "rectifications": [{"description": "完善值班转呼程序", "owner": "消防支队", "due_date": "2026-07-01"}],
        },
        actor=None,
        now=started + timedelta(hours=2),
    )
    session.commit()
    result = run.results[0]
    assert result.ack_s == 60 and result.muster_s == 1800
    assert drilled.turnout_min == runs.updated_turnout(old, 30) > old
    assert result.turnout_before_min == old and result.turnout_after_min == drilled.turnout_min
    assert session.get(Incident, incident.id).status.value == "closed"
    assert run.rectifications[0].status.value == "open"
    # recording again does not apply the measurement twice
    records.record_run(
        session, plan, {"run_id": run.id, "status": "held", "headcount": 40}, actor=None, now=started + timedelta(hours=3)
    )
    session.commit()
    assert drilled.turnout_min == runs.updated_turnout(old, 30)

    # the drill stays out of real statistics, and the slower turnout now ranks the rival first
    assert statistics.response_statistics(session) == stats_before
    assert statistics.response_statistics(session, drills=True)["incidents"] == 1
    fresh(session)
    after = ranked()
    order = [c["id"] for c in after]
    assert order.index(rival_team.id) < order.index(drilled.id)
    mine_after = next(c for c in after if c["id"] == drilled.id)
    assert mine_after["turnout_s"] == pytest.approx(drilled.turnout_min * 60)


def test_drill_api_plan_start_record(app, api, session):
    admin = api("enterprise-a")
    data = plan_data(session, starts_at=(T0 + timedelta(days=400)).isoformat())
    res = admin.post("/api/v1/drills", json=data)
    assert res.status_code == 201, res.json
    plan_id = res.json["id"]
    assert res.json["content_name"] == "综合演练" and res.json["next_run_at"] is None  # beyond the horizon
    other = api("enterprise-b")
    assert other.get(f"/api/v1/drills/{plan_id}").status_code == 404
    assert other.patch(f"/api/v1/drills/{plan_id}", json={"name": "别人的演练"}).status_code == 404
    assert api("regulator").post("/api/v1/drills", json=data).status_code == 403
    bad = admin.post("/api/v1/drills", json=data | {"content": "大型", "enterprise_id": 99999, "reminder_offsets_min": [5]})
    assert bad.status_code == 422 and {"content", "reminder_offsets_min"} <= set(bad.json["fields"])
    started = admin.post(f"/api/v1/drills/{plan_id}/start", json={})
    assert started.status_code == 201, started.json
    assert started.json["status"] == "running" and started.json["incident_id"]
    fresh(session)
    incident = session.get(Incident, started.json["incident_id"])
    assert incident.drill
    messages = api("dispatcher").get(f"/api/v1/incidents/{incident.id}/messages").json["items"]
    assert messages and all(m["text"].startswith(SIGNATURE + "演练：") for m in messages if m["direction"] == "out")
    recorded = admin.post(f"/api/v1/drills/{plan_id}/record", json={"status": "held", "headcount": 30, "findings": ["通讯不畅"]})
    assert recorded.status_code == 200, recorded.json
    assert recorded.json["status"] == "held" and recorded.json["findings"] == ["通讯不畅"]
    run = api("regulator").get(f"/api/v1/drills/{plan_id}/runs/{recorded.json['id']}")
    assert run.status_code == 200 and run.json["drill"] is True
    assert admin.get("/api/v1/openapi.json").json["paths"]["/api/v1/drills/{plan_id}/start"]["post"]


def test_statistics_api_keeps_drills_apart(api, session):
    d = api("dispatcher")
    res = d.get("/api/v1/statistics")
    assert res.status_code == 200 and set(res.json) == {"real", "drills"}
    none = {"reached": 0, "acknowledged": 0, "ack_rate": None, "median_ack_s": None}
    empty = {
        "incidents": 0,
        "assignments": 0,
        "mean_ack_s": None,
        "mean_on_scene_s": None,
        "by_channel": {"sms": none, "voice": none},
    }
    assert res.json == {"real": empty, "drills": empty}  # the seed holds no incidents
    # one drill started in drill mode (its one team paged) and one real incident with nobody sent yet
    admin = api("enterprise-a")
    plan = admin.post("/api/v1/drills", json=plan_data(session, starts_at=(T0 + timedelta(days=400)).isoformat()))
    assert plan.status_code == 201, plan.json
    started = admin.post(f"/api/v1/drills/{plan.json['id']}/start", json={})
    assert started.status_code == 201, started.json
    real = d.post("/api/v1/incidents", json={"type": "chem_tank_fire", "level": "general", "lat": 38.47, "lon": 106.27})
    assert real.status_code == 201, real.json
    res = d.get("/api/v1/statistics").json
    assert res["real"] == empty | {"incidents": 1}
    assert res["drills"] == empty | {"incidents": 1, "assignments": len(plan.json["team_ids"])} and plan.json["team_ids"]
    # `since` filters both the same way
    later = d.get("/api/v1/statistics", query_string={"since": "2999-01-01T00:00:00+08:00"}).json
    assert later == {"real": empty, "drills": empty}
    assert d.get("/api/v1/statistics?since=yesterday").status_code == 422
    assert api("enterprise-a").get("/api/v1/statistics").status_code == 403
