"""Drill plans name the emergency plan they exercise; compliance's "never exercised" follows that link."""

from datetime import timedelta

from tests.drills.conftest import T0, plan_data


def _unexercised(client) -> set[int]:
    return {p["id"] for p in client.get("/api/v1/emergency-plans/compliance").json["unexercised"]}


def test_held_drill_exercises_the_plan_it_names(api, session, enterprise_ids):
    a, b = api("enterprise-a"), api("enterprise-b")
    tank = a.post("/api/v1/emergency-plans", json={"level": "special_plan", "title": "储罐火灾专项应急预案"}).json
    leak = a.post("/api/v1/emergency-plans", json={"level": "special_plan", "title": "液氯泄漏专项应急预案"}).json
    foreign = b.post("/api/v1/emergency-plans", json={"level": "special_plan", "title": "别家的预案"}).json
    assert {tank["id"], leak["id"]} <= _unexercised(a)

    data = plan_data(session, enterprise_id=enterprise_ids["enterprise-a"], starts_at=(T0 + timedelta(days=400)).isoformat())
    bad = a.post("/api/v1/drills", json=data | {"emergency_plan_id": foreign["id"]})
    assert bad.status_code == 422 and "emergency_plan_id" in bad.json["fields"]
    bad = a.post("/api/v1/drills", json=data | {"emergency_plan_id": "储罐", "content": "大型"})
    assert bad.status_code == 422 and {"emergency_plan_id", "content"} <= set(bad.json["fields"])

    res = a.post("/api/v1/drills", json=data | {"emergency_plan_id": tank["id"]})
    assert res.status_code == 201, res.json
    drill_id = res.json["id"]
    assert res.json["emergency_plan_id"] == tank["id"]
    assert a.post(f"/api/v1/drills/{drill_id}/start", json={}).status_code == 201
    assert a.post(f"/api/v1/drills/{drill_id}/record", json={"status": "held", "headcount": 20}).status_code == 200

    left = _unexercised(a)
    assert tank["id"] not in left
    assert leak["id"] in left  # same enterprise and level, but the drill named the other plan
    assert tank["id"] not in _unexercised(api("regulator"))

    # relinking to a plan of another enterprise is refused; unlinking is allowed
    res = a.patch(f"/api/v1/drills/{drill_id}", json={"emergency_plan_id": foreign["id"]})
    assert res.status_code in (404, 422)
    assert a.patch(f"/api/v1/drills/{drill_id}", json={"emergency_plan_id": None}).json["emergency_plan_id"] is None
