"""An enterprise invites only its own teams and itself to a drill; a joint drill with others is the command
center's. Nothing is queued to another enterprise's people, and their names and mobiles are never shown back."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from rescue.drills import plans
from rescue.models import DrillParticipant, DrillPlan, DrillRun, Team, User


def _ids(session):
    a = session.scalar(select(User.enterprise_id).where(User.username == "enterprise-a"))
    b = session.scalar(select(User.enterprise_id).where(User.username == "enterprise-b"))
    team_a = session.scalars(select(Team.id).where(Team.enterprise_id == a).order_by(Team.id)).first()
    team_b = session.scalars(select(Team.id).where(Team.enterprise_id == b).order_by(Team.id)).first()
    team_gov = session.scalars(select(Team.id).where(Team.enterprise_id.is_(None)).order_by(Team.id)).first()
    return a, b, team_a, team_b, team_gov


def _plan(enterprise_id, **extra) -> dict:
    starts = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    return {
        "name": "储罐火灾演练",
        "enterprise_id": enterprise_id,
        "content": "single",
        "form": "tabletop",
        "purpose": "inspection",
        "plan_level": "special_plan",
        "incident_type": "chem_tank_fire",
        "place": "厂区",
        "starts_at": starts,
    } | extra


def _counts(session):
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(DrillPlan)),
        session.scalar(select(func.count()).select_from(DrillParticipant)),
    )


@pytest.mark.parametrize("invite", ["enterprise_b", "team_b", "team_gov"])
def test_an_enterprise_invites_only_its_own(api, session, invite):
    a, b, team_a, team_b, team_gov = _ids(session)
    extra = {
        "enterprise_b": {"enterprise_ids": [b]},
        "team_b": {"team_ids": [team_a, team_b]},
        "team_gov": {"team_ids": [team_gov]},
    }[invite]
    before = _counts(session)
    res = api("enterprise-a").post("/api/v1/drills", json=_plan(a, **extra))
    assert res.status_code == 422, res.json
    assert set(res.json["fields"]) == set(extra)
    assert "指挥中心" in next(iter(res.json["fields"].values()))
    assert _counts(session) == before


def test_an_enterprise_cannot_widen_its_plan_later(api, session):
    a, b, team_a, _team_b, _ = _ids(session)
    ea = api("enterprise-a")
    made = ea.post("/api/v1/drills", json=_plan(a, team_ids=[team_a]))
    assert made.status_code == 201, made.json
    people = _counts(session)[1]
    res = ea.patch(f"/api/v1/drills/{made.json['id']}", json={"enterprise_ids": [a, b]})
    assert res.status_code == 422 and set(res.json["fields"]) == {"enterprise_ids"}
    assert _counts(session)[1] == people
    session.expire_all()
    theirs = (
        select(DrillParticipant.id).join(DrillRun).where(DrillRun.plan_id == made.json["id"], DrillParticipant.enterprise_id == b)
    )
    assert session.scalars(theirs).all() == []


def test_the_command_center_organises_joint_drills(api, session):
    a, b, team_a, team_b, team_gov = _ids(session)
    res = api("dispatcher").post("/api/v1/drills", json=_plan(a, enterprise_ids=[b], team_ids=[team_a, team_b, team_gov]))
    assert res.status_code == 201, res.json
    assert res.json["enterprise_ids"] == [b]


def test_the_plan_form_offers_an_enterprise_only_its_own(session):
    a, _b, _team_a, team_b, team_gov = _ids(session)
    admin = session.scalar(select(User).where(User.username == "enterprise-a"))
    choices = plans.form_choices(session, admin)
    assert {t for t, _ in choices["teams"]} == set(session.scalars(select(Team.id).where(Team.enterprise_id == a)))
    assert [e for e, _ in choices["enterprises"]] == [a]
    everything = plans.form_choices(session, session.scalar(select(User).where(User.username == "dispatcher")))
    assert {team_b, team_gov} <= {t for t, _ in everything["teams"]}
