"""Enterprises keep their own on-call rosters and escalation chains, with the registry's rules."""

from datetime import UTC

from sqlalchemy import select

from rescue.models import ContactPerson, Team, User


def _own_team_and_people(session, username):
    enterprise_id = session.scalar(select(User.enterprise_id).where(User.username == username))
    team = session.scalars(select(Team).where(Team.enterprise_id == enterprise_id)).first()
    people = session.scalars(select(ContactPerson).where(ContactPerson.team_id == team.id)).all()
    return enterprise_id, team, people


def test_enterprise_admin_keeps_its_roster_and_chain(api, session):
    enterprise_id, team, people = _own_team_and_people(session, "enterprise-a")
    a = api("enterprise-a")
    shift = a.post(
        "/api/v1/roster-shifts",
        json={
            "team_id": team.id,
            "contact_id": people[0].id,
            "starts_dt": "2026-12-01T08:00:00+08:00",
            "ends_dt": "2026-12-01T20:00:00+08:00",
        },
    )
    assert shift.status_code == 201, shift.json
    assert shift.json["enterprise_id"] == enterprise_id
    step = a.post("/api/v1/escalation-chains", json={"team_id": team.id, "position": 0, "contact_id": people[1].id})
    assert step.status_code == 201 and step.json["enterprise_id"] == enterprise_id
    listed = a.get(f"/api/v1/roster-shifts?team_id={team.id}").json
    assert [s["id"] for s in listed["items"]] == [shift.json["id"]]


def test_roster_rules(api, session):
    _, team, people = _own_team_and_people(session, "enterprise-a")
    _, other_team, other_people = _own_team_and_people(session, "enterprise-b")
    a = api("enterprise-a")
    bad = a.post(
        "/api/v1/roster-shifts",
        json={
            "team_id": team.id,
            "contact_id": people[0].id,
            "starts_dt": "2026-12-01T20:00:00+08:00",
            "ends_dt": "2026-12-01T08:00:00+08:00",
        },
    )
    assert bad.status_code == 422 and bad.json["fields"] == {"ends_dt": "结束时间应晚于开始时间"}
    naive = a.post(
        "/api/v1/roster-shifts",
        json={
            "team_id": team.id,
            "contact_id": people[0].id,
            "starts_dt": "2026-12-01T08:00:00",
            "ends_dt": "2026-12-01T20:00:00",
        },
    )
    assert naive.status_code == 422 and set(naive.json["fields"]) == {"starts_dt", "ends_dt"}
    theirs = a.post("/api/v1/escalation-chains", json={"team_id": other_team.id, "position": 0, "contact_id": other_people[0].id})
    assert theirs.status_code == 422
    assert theirs.json["fields"] == {"team_id": "属于其他企业", "contact_id": "属于其他企业"}
    mixed = a.post("/api/v1/escalation-chains", json={"team_id": team.id, "position": 0, "contact_id": other_people[0].id})
    assert mixed.status_code == 422 and mixed.json["fields"] == {"contact_id": "属于其他企业"}
    assert (
        api("regulator")
        .post("/api/v1/escalation-chains", json={"team_id": team.id, "position": 0, "contact_id": people[0].id})
        .status_code
        == 403
    )


def test_dispatcher_derives_the_owner_from_the_team(api, session):
    enterprise_id, team, people = _own_team_and_people(session, "enterprise-b")
    res = api("dispatcher").post(
        "/api/v1/escalation-chains", json={"team_id": team.id, "position": 3, "contact_id": people[0].id}
    )
    assert res.status_code == 201 and res.json["enterprise_id"] == enterprise_id
    assert api("enterprise-a").get(f"/api/v1/escalation-chains/{res.json['id']}").status_code == 404


def test_roster_spreadsheets_speak_beijing_time(api, session):
    """Shift times are written and read as people read them: Beijing wall time, no zone, no T."""
    import io
    from datetime import datetime

    from openpyxl import load_workbook

    _, team, people = _own_team_and_people(session, "enterprise-a")
    a = api("enterprise-a")
    made = a.post(
        "/api/v1/roster-shifts",
        json={
            "team_id": team.id,
            "contact_id": people[0].id,
            "starts_dt": "2026-12-01T00:00:00Z",
            "ends_dt": "2026-12-01T12:30:00Z",
        },
    )
    assert made.status_code == 201, made.json
    wb = load_workbook(io.BytesIO(a.get("/api/v1/roster-shifts/export.xlsx").data))
    header, *rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    row = next(r for r in rows if r[0] == made.json["id"])
    starts, ends = row[header.index("开始时间 (北京时间)")], row[header.index("结束时间 (北京时间)")]
    assert (starts, ends) == (datetime(2026, 12, 1, 8, 0), datetime(2026, 12, 1, 20, 30))
    text = a.get("/api/v1/roster-shifts/export.csv").data.decode("utf-8-sig")
    assert "2026-12-01 08:00,2026-12-01 20:30" in text and "T" not in text.split("\r\n")[1].split(",")[3]
    # typed as people write it: Beijing time; a time that is not one is named in Chinese
    csv_rows = "队伍,联系人,开始时间 (北京时间),结束时间 (北京时间)\r\n"
    csv_rows += f"{team.id},{people[1].id},2026/12/03 08:00,2026-12-03 20:00\r\n"
    csv_rows += f"{team.id},{people[1].id},明天早上,2026-12-04 20:00\r\n"
    res = a.post(
        "/api/v1/roster-shifts/import",
        data={"file": (io.BytesIO(csv_rows.encode("utf-8-sig")), "r.csv")},
        content_type="multipart/form-data",
    )
    assert res.status_code == 422, res.json
    assert any("北京时间" in e["reason"] and e["row"] == 3 for e in res.json["rows"]), res.json
    ok = a.post(
        "/api/v1/roster-shifts/import",
        data={"file": (io.BytesIO(csv_rows.rsplit("\r\n", 2)[0].encode("utf-8-sig") + b"\r\n"), "r.csv")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 200, ok.json
    shifts = a.get(f"/api/v1/roster-shifts?contact_id={people[1].id}").json["items"]
    starts = {datetime.fromisoformat(s["starts_dt"]) for s in shifts}
    assert starts == {datetime(2026, 12, 3, 0, 0, tzinfo=UTC)}  # 08:00 in Beijing
