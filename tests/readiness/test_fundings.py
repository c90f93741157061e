"""一企主建、多企供养: the command center records a backbone team's funders; the regulator sees the support each
team received (compensation for confirmed deployments) and gave (deployments). Owners confirm or correct their
deployments on the readiness page."""

import re

import pytest
from sqlalchemy import select

from rescue.models import Deployment, Enterprise, Team, TeamFunding
from rescue.models.enums import ResourceKind
from tests.pages.test_pages import csrf_of, sign_in
from tests.readiness.test_deployments import _closed_incident, _resources


def _backbone(session, enterprise_id) -> Team:
    team = session.scalars(select(Team).where(Team.enterprise_id == enterprise_id).order_by(Team.id)).first()
    team.backbone = True
    session.commit()
    return team


def test_fundings_are_set_by_the_command_center_with_every_error_at_once(api, session, enterprise_ids):
    a_id, b_id = enterprise_ids["enterprise-a"], enterprise_ids["enterprise-b"]
    team = _backbone(session, a_id)
    cc, a, reg = api("dispatcher"), api("enterprise-a"), api("regulator")
    body = {"fundings": [{"enterprise_id": a_id, "share": 0.6}, {"enterprise_id": b_id, "share": 0.4}]}
    assert a.put(f"/api/v1/deployments/fundings/{team.id}", json=body).status_code == 403
    assert reg.put(f"/api/v1/deployments/fundings/{team.id}", json=body).status_code == 403
    bad = cc.put(
        f"/api/v1/deployments/fundings/{team.id}",
        json={
            "fundings": [
                {"enterprise_id": a_id, "share": 0.7},
                {"enterprise_id": a_id, "share": 0.5},
                {"enterprise_id": 999999, "share": 0.1},
            ]
        },
    )
    assert bad.status_code == 422
    assert set(bad.json["fields"]) == {"fundings.1.enterprise_id", "fundings.2.enterprise_id", "fundings"}
    assert "不能超过 1" in bad.json["fields"]["fundings"]
    shape = cc.put(f"/api/v1/deployments/fundings/{team.id}", json={"fundings": [{"enterprise_id": "x", "share": 2}]})
    assert shape.status_code == 422 and {"fundings.0.enterprise_id", "fundings.0.share"} <= set(shape.json["fields"])
    assert cc.put("/api/v1/deployments/fundings/999999", json=body).status_code == 404

    res = cc.put(f"/api/v1/deployments/fundings/{team.id}", json=body)
    assert res.status_code == 200, res.json
    assert [(f["enterprise_id"], f["share"]) for f in res.json["funders"]] == [(a_id, 0.6), (b_id, 0.4)]
    # replacing drops the old funders
    res = cc.put(f"/api/v1/deployments/fundings/{team.id}", json={"fundings": [{"enterprise_id": b_id, "share": 1}]})
    assert [f["enterprise_id"] for f in res.json["funders"]] == [b_id]
    session.rollback()
    assert session.scalars(select(TeamFunding.enterprise_id).where(TeamFunding.team_id == team.id)).all() == [b_id]
    # the funding enterprise sees the team it funds; the listing filters by team
    listed = api("enterprise-b").get(f"/api/v1/deployments/fundings?team_id={team.id}").json["items"]
    assert listed[0]["team_id"] == team.id and listed[0]["funded_share"] == 1
    assert cc.get("/api/v1/deployments/fundings?team_id=x").status_code == 422


def test_support_received_and_given_per_team(api, session, enterprise_ids):
    a_id = enterprise_ids["enterprise-a"]
    team, item, lot = _resources(session, a_id)
    team = _backbone(session, a_id)
    incident_id = _closed_incident(api, team, item, lot)
    cc, a = api("dispatcher"), api("enterprise-a")
    cc.post("/api/v1/deployments/build", json={"incident_id": incident_id})
    assert cc.put("/api/v1/deployments/rates", json={"person_hour": 100}).status_code == 200

    def support():
        items = api("regulator").get("/api/v1/deployments/support").json["items"]
        return next(t for t in items if t["team_id"] == team.id)

    before = support()
    assert before["received"]["pending"] >= 1
    session.rollback()
    dep = session.scalars(
        select(Deployment).where(
            Deployment.incident_id == incident_id,
            Deployment.resource_kind == ResourceKind.team,
            Deployment.resource_id == team.id,
        )
    ).one()
    # the owner confirms: the team's compensation now counts
    assert a.post(f"/api/v1/deployments/{dep.id}/confirm").status_code == 200
    after = support()
    session.rollback()
    dep = session.get(Deployment, dep.id)
    expected = round(dep.people * round(dep.hours, 2) * 100, 2)
    assert after["received"]["amount"] == before["received"]["amount"] + expected
    assert after["received"]["confirmed"] == before["received"]["confirmed"] + 1
    assert after["gave"]["deployments"] == before["gave"]["deployments"]
    # given: the person-hours of its deployments (the test's incident lasts seconds, so they may round to 0)
    assert after["gave"]["incidents"] >= 1
    assert after["gave"]["person_hours"] == pytest.approx(before["gave"]["person_hours"], abs=0.01 + dep.people * dep.hours)
    # enterprise-b neither keeps nor funds the team: it does not see it
    others = api("enterprise-b").get("/api/v1/deployments/support").json["items"]
    assert team.id not in {t["team_id"] for t in others}


def test_regulator_page_shows_support_and_command_center_sets_funders(client, session, enterprise_ids):
    a_id, b_id = enterprise_ids["enterprise-a"], enterprise_ids["enterprise-b"]
    team = _backbone(session, a_id)
    sign_in(client, "dispatcher")
    page = client.get("/readiness/regulator")
    assert page.status_code == 200 and f'id="funding-{team.id}"' in page.text
    token = csrf_of(page.text)
    res = client.post(
        f"/readiness/fundings/{team.id}",
        data={"csrf_token": token, "enterprise_id": [str(a_id), str(b_id), ""], "percent": ["70", "50", ""]},
        follow_redirects=True,
    )
    assert "出资比例合计" in res.text  # 120 % refused
    res = client.post(
        f"/readiness/fundings/{team.id}",
        data={"csrf_token": token, "enterprise_id": [str(a_id), str(b_id), ""], "percent": ["70", "30", ""]},
        follow_redirects=True,
    )
    assert "出资企业已更新" in res.text
    row = re.search(rf'<tr data-team-id="{team.id}">(.*?)</tr>', res.text, re.S).group(1)
    b_name = session.get(Enterprise, b_id).name
    assert "70.0%" in row and f"{b_name} 30.0%" in row


def test_owner_confirms_and_corrects_deployments_on_the_page(api, client, session, enterprise_ids):
    team, item, lot = _resources(session, enterprise_ids["enterprise-a"])
    incident_id = _closed_incident(api, team, item, lot)
    api("dispatcher").post("/api/v1/deployments/build", json={"incident_id": incident_id})
    session.rollback()
    deps = {d.resource_kind.value: d.id for d in session.scalars(select(Deployment).where(Deployment.incident_id == incident_id))}
    sign_in(client, "enterprise-a")
    page = client.get("/readiness/")
    assert f'data-deployment-id="{deps["team"]}"' in page.text
    token = csrf_of(page.text)
    bad = client.post(
        f"/readiness/deployments/{deps['equipment']}/correct",
        data={"csrf_token": token, "people": "-2", "equipment_count": "很多"},
    )
    assert bad.status_code == 422 and "人数" in bad.text and "装备台数" in bad.text
    res = client.post(
        f"/readiness/deployments/{deps['equipment']}/correct",
        data={"csrf_token": token, "people": "2", "equipment_count": "1", "note": "实际两人操作"},
        follow_redirects=True,
    )
    assert "出动记录已更正并确认" in res.text
    res = client.post(f"/readiness/deployments/{deps['team']}/confirm", data={"csrf_token": token}, follow_redirects=True)
    assert "出动记录已确认" in res.text
    assert f'data-deployment-id="{deps["team"]}"' not in res.text  # no longer waiting
    session.rollback()
    assert session.get(Deployment, deps["equipment"]).people == 2
    assert session.get(Deployment, deps["team"]).state.value == "confirmed"
