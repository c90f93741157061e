"""A record that references a team, depot or person is written only by who may write the referenced owner's
records (the command center for government ones), and an enterprise sees nothing that references another owner's."""

import csv
import io

import pytest
from sqlalchemy import func, select

from rescue.models import ContactPerson, Depot, EscalationChainEntry, RosterShift, Team, User

SHIFT = {"starts_dt": "2026-12-01T08:00:00+08:00", "ends_dt": "2026-12-01T20:00:00+08:00"}


def _mine(session, username="enterprise-a"):
    enterprise_id = session.scalar(select(User.enterprise_id).where(User.username == username))
    team = session.scalars(select(Team).where(Team.enterprise_id == enterprise_id).order_by(Team.id)).first()
    person = session.scalars(
        select(ContactPerson).where(ContactPerson.enterprise_id == enterprise_id).order_by(ContactPerson.id)
    ).first()
    depot = session.scalars(select(Depot).where(Depot.enterprise_id == enterprise_id).order_by(Depot.id)).first()
    return enterprise_id, team, person, depot


def _government(session):
    team = session.scalars(select(Team).where(Team.enterprise_id.is_(None)).order_by(Team.id)).first()
    person = session.scalars(
        select(ContactPerson).where(ContactPerson.enterprise_id.is_(None), ContactPerson.team_id == team.id)
    ).first()
    depot = session.scalars(select(Depot).where(Depot.enterprise_id.is_(None)).order_by(Depot.id)).first()
    return team, person, depot


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_enterprise_cannot_join_a_government_teams_chain_or_roster(api, session):
    _, _, person, _ = _mine(session)
    team, _, _ = _government(session)
    a = api("enterprise-a")
    chains, shifts = _count(session, EscalationChainEntry), _count(session, RosterShift)
    step = a.post("/api/v1/escalation-chains", json={"team_id": team.id, "position": 0, "contact_id": person.id})
    assert step.status_code == 422, step.json
    assert step.json["fields"] == {"team_id": "属于政府或社会力量, 只有指挥中心可以引用"}
    shift = a.post("/api/v1/roster-shifts", json={"team_id": team.id, "contact_id": person.id} | SHIFT)
    assert shift.status_code == 422 and set(shift.json["fields"]) == {"team_id"}
    assert (_count(session, EscalationChainEntry), _count(session, RosterShift)) == (chains, shifts)


def _government_reference_cases(session):
    team, person, depot = _government(session)
    _, own_team, _, _ = _mine(session)
    return [
        ("equipment", {"name": "借放装备", "quantity": 1, "depot_id": depot.id}, "depot_id"),
        ("equipment", {"name": "借放装备", "quantity": 1, "team_id": team.id}, "team_id"),
        ("supplies", {"code": "2010101", "name": "借放物资", "unit": "套", "quantity": 1, "depot_id": depot.id}, "depot_id"),
        ("contacts", {"name": "冒名队员", "phone": "13951007777", "team_id": team.id}, "team_id"),
        ("roster-shifts", {"team_id": own_team.id, "contact_id": person.id} | SHIFT, "contact_id"),
        ("escalation-chains", {"team_id": own_team.id, "position": 7, "contact_id": person.id}, "contact_id"),
    ]


@pytest.mark.parametrize("case", range(6))
def test_no_kind_lets_an_enterprise_reference_government_records(api, session, case):
    kind, data, field = _government_reference_cases(session)[case]
    a = api("enterprise-a")
    before = a.get(f"/api/v1/{kind}?limit=1").json["total"]
    res = a.post(f"/api/v1/{kind}", json=data)
    assert res.status_code == 422, (kind, res.status_code, res.json)
    assert field in res.json["fields"]
    assert a.get(f"/api/v1/{kind}?limit=1").json["total"] == before


def test_an_update_cannot_move_a_record_under_a_government_team(api, session):
    _, _, own_person, _ = _mine(session)
    team, _, _ = _government(session)
    a = api("enterprise-a")
    res = a.patch(f"/api/v1/contacts/{own_person.id}", json={"team_id": team.id})
    assert res.status_code == 422 and set(res.json["fields"]) == {"team_id"}
    session.expire_all()
    assert session.get(ContactPerson, own_person.id).team_id == own_person.team_id


def test_the_command_center_keeps_owner_and_references_consistent(api, session):
    enterprise_id, _, own_person, _ = _mine(session)
    team, person, _ = _government(session)
    d = api("dispatcher")
    ok = d.post("/api/v1/escalation-chains", json={"team_id": team.id, "position": 9, "contact_id": person.id})
    assert ok.status_code == 201 and ok.json["enterprise_id"] is None
    # an enterprise's person in a government brigade's chain would page the wrong people
    mixed = d.post("/api/v1/escalation-chains", json={"team_id": team.id, "position": 8, "contact_id": own_person.id})
    assert mixed.status_code == 422 and set(mixed.json["fields"]) == {"contact_id"}
    named = d.post(
        "/api/v1/contacts", json={"name": "错挂", "phone": "13951006666", "team_id": team.id, "enterprise_id": enterprise_id}
    )
    assert named.status_code == 422 and set(named.json["fields"]) == {"team_id"}


def test_spreadsheet_imports_follow_the_same_rule(api, session):
    team, _, _ = _government(session)
    a = api("enterprise-a")
    before = a.get("/api/v1/contacts?limit=1").json["total"]
    out = io.StringIO()
    csv.writer(out).writerows([["name", "phone", "team_id"], ["导入冒名", "13951008888", team.id]])
    res = a.post(
        "/api/v1/contacts/import",
        data={"file": (io.BytesIO(out.getvalue().encode()), "c.csv")},
        content_type="multipart/form-data",
    )
    assert res.status_code == 422, res.json
    assert [(r["row"], r["field"]) for r in res.json["rows"]] == [(2, "team_id")]
    assert a.get("/api/v1/contacts?limit=1").json["total"] == before


def test_an_enterprise_sees_nothing_that_references_another_owners_records(api, session):
    """Rows written before the rule (or by hand) that point at a government team stay invisible to the enterprise."""
    enterprise_id, _, own_person, _ = _mine(session)
    team, _, _ = _government(session)
    legacy = EscalationChainEntry(team_id=team.id, position=42, contact_id=own_person.id, enterprise_id=enterprise_id)
    session.add(legacy)
    session.commit()
    a = api("enterprise-a")
    listed = a.get("/api/v1/escalation-chains?limit=500").json["items"]
    assert legacy.id not in [i["id"] for i in listed]
    assert a.get(f"/api/v1/escalation-chains/{legacy.id}").status_code == 404
    assert a.delete(f"/api/v1/escalation-chains/{legacy.id}").status_code == 404
    assert api("dispatcher").get(f"/api/v1/escalation-chains/{legacy.id}").status_code == 200
