"""The next ranking always reflects the registry as it is now: edits, commitments and dispatches."""

import pytest

from tests.dispatch.conftest import A


def _incident(api):
    res = api.post("/api/v1/incidents", json={"type": "tiny_leak", "level": "较大", "lat": A[0], "lon": A[1]})
    assert res.status_code == 201, res.json
    return res.json["id"]


def _teams(api, incident_id):
    ranking = api.get(f"/api/v1/incidents/{incident_id}/candidates").json
    need = next(n for n in ranking["needs"] if n["capability"] == "hazmat_leak_control")
    return [(c["name"], round(c["eta_s"])) for c in need["candidates"]]


def test_registry_edits_change_the_very_next_ranking(tiny, world):
    api = tiny()
    inc = _incident(api)
    assert _teams(api, inc)[:2] == [("队伍T1", 700), ("队伍T2", 800)]
    # a faster turnout for T2: it now arrives first
    assert api.patch(f"/api/v1/teams/{world.ids['T2']}", json={"turnout_min": 1}).status_code == 200
    assert _teams(api, inc)[:2] == [("队伍T2", 260), ("队伍T1", 700)]
    # T2 committed elsewhere: gone from the list at once
    assert api.patch(f"/api/v1/teams/{world.ids['T2']}", json={"status": "committed"}).status_code == 200
    assert [n for n, _ in _teams(api, inc)][:1] == ["队伍T1"] and "队伍T2" not in dict(_teams(api, inc))
    # a new team near the incident is a candidate on the next ranking
    new = api.post(
        "/api/v1/teams",
        json={
            "name": "队伍T9",
            "level": "county",
            "team_type": "hazmat",
            "turnout_min": 0,
            "capabilities": ["hazmat_leak_control"],
            "lat": A[0],
            "lon": A[1],
        },
    )
    assert new.status_code == 201, new.json
    assert _teams(api, inc)[0][0] == "队伍T9"


def test_a_dispatched_team_is_not_offered_again(tiny, world):
    api = tiny()
    first = _incident(api)
    assert _teams(api, first)[0][0] == "队伍T1"
    commander = {"name": "王队长", "phone": "13951009999", "role": "commander", "team_id": world.ids["T1"]}
    assert api.post("/api/v1/contacts", json=commander).status_code == 201
    res = api.post(f"/api/v1/incidents/{first}/dispatches", json={"resources": [{"kind": "team", "id": world.ids["T1"]}]})
    assert res.status_code == 201, res.json
    assert res.json["assignments"][0]["status"] == "notified"
    second = _incident(api)
    assert "队伍T1" not in dict(_teams(api, second))
    assert _teams(api, second)[0] == ("队伍T2", pytest.approx(800, abs=1))
