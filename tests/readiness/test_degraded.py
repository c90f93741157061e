"""A capability whose required certificate has lapsed for all of a team's on-duty people: shown as degraded in the
ranking's reasons, the team still a candidate; renewing clears it; people with no such certificate change nothing."""

from datetime import date, timedelta

from sqlalchemy import select

from rescue.clock import local_date
from rescue.db import utcnow
from rescue.models import Certificate, ContactPerson, RosterShift
from rescue.readiness.certificates import degraded_capabilities
from tests.dispatch.conftest import A

DEGRADED = "降级: 在岗人员的危化品安全培训合格证均已过期"


def _person(session, team_id, name, *, expires_on=None, kind="hazchem_safety"):
    c = ContactPerson(name=name, phone="13900000000", team_id=team_id)
    session.add(c)
    session.flush()
    if expires_on is not None:
        session.add(Certificate(contact_id=c.id, holder_name=name, kind=kind, issued_on=date(2020, 1, 1), expires_on=expires_on))
    session.commit()
    return c


def _hazmat_teams(api) -> dict[str, list[str]]:
    inc = api.post("/api/v1/incidents", json={"type": "tiny_leak", "level": "较大", "lat": A[0], "lon": A[1]})
    assert inc.status_code == 201, inc.json
    ranking = api.get(f"/api/v1/incidents/{inc.json['id']}/candidates?k=5")
    assert ranking.status_code == 200, ranking.json
    need = next(n for n in ranking.json["needs"] if n.get("capability") == "hazmat_leak_control")
    return {c["name"]: c["reasons"] for c in need["candidates"]}


def test_lapsed_certificate_degrades_but_keeps_the_team(tiny, world, tiny_session):
    api = tiny()
    today = local_date(utcnow())
    holder = _person(tiny_session, world.ids["T1"], "张伟", expires_on=today - timedelta(days=1))
    _person(tiny_session, world.ids["T2"], "李强")  # no certificate at all: nothing known, not degraded
    teams = _hazmat_teams(api)
    assert "队伍T1" in teams and DEGRADED in teams["队伍T1"]  # still listed, with the reason
    assert "队伍T2" in teams and not any("降级" in r for r in teams["队伍T2"])
    # renewed (valid through today): no longer degraded
    cert = tiny_session.scalars(select(Certificate).where(Certificate.contact_id == holder.id)).one()
    cert.expires_on = today
    tiny_session.commit()
    assert not any("降级" in r for r in _hazmat_teams(api)["队伍T1"])


def test_on_shift_people_count_before_the_contacts(tiny_app, world, tiny_session):
    s, t1 = tiny_session, world.ids["T1"]
    now = utcnow()
    today = local_date(now)
    _person(s, t1, "王芳", expires_on=today + timedelta(days=90))
    lapsed = _person(s, t1, "赵刚", expires_on=today - timedelta(days=3))
    # no shift covers now: all the team's contacts count, one holds a valid certificate
    assert degraded_capabilities(s, [t1], now=now) == {}
    # only the lapsed holder is on shift now (a shift that ended earlier does not count)
    s.add(RosterShift(team_id=t1, contact_id=lapsed.id, starts_dt=now - timedelta(hours=2), ends_dt=now + timedelta(hours=6)))
    valid_one = s.scalars(select(ContactPerson).where(ContactPerson.name == "王芳")).one()
    s.add(RosterShift(team_id=t1, contact_id=valid_one.id, starts_dt=now - timedelta(hours=9), ends_dt=now - timedelta(hours=2)))
    s.commit()
    assert degraded_capabilities(s, [t1, world.ids["T2"]], now=now) == {t1: {"hazmat_leak_control": DEGRADED}}
    # another kind: a lapsed first-aid certificate degrades medical first aid only
    s.add(
        Certificate(
            contact_id=lapsed.id,
            holder_name="赵刚",
            kind="first_aid",
            issued_on=date(2020, 1, 1),
            expires_on=today - timedelta(days=1),
        )
    )
    s.commit()
    got = degraded_capabilities(s, [t1], now=now)[t1]
    assert got == {"hazmat_leak_control": DEGRADED, "medical_first_aid": "降级: 在岗人员的急救证均已过期"}
    assert degraded_capabilities(s, [], now=now) == {}
