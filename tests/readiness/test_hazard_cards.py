"""An incident placed at a major hazard source answers with the response cards of the posts there: the source's
enterprise's active cards covering the incident's type (not another enterprise's, not other types)."""

from geopy.distance import distance

from tests.cards.test_cards import _card_data
from tests.readiness.test_hazards import SITE, SOURCE


def test_incident_at_a_hazard_source_carries_its_cards(api, session, enterprise_ids):
    a, b, cc = api("enterprise-a"), api("enterprise-b"), api("dispatcher")
    src = a.post("/api/v1/hazard-sources", json=SOURCE | {"name": "液氯储罐区 (处置卡)"}).json
    assert src["enterprise_id"] == enterprise_ids["enterprise-a"]
    mine = _card_data(session, number="HZ-1", post="液氯罐区操作工", incident_types=["chem_toxic_gas_leak"])
    mine["enterprise_id"] = enterprise_ids["enterprise-a"]
    mine["short"] = "关阀、戴呼吸器、上风向撤离"
    card = a.post("/api/v1/cards", json=mine)
    assert card.status_code == 201, card.json
    other_type = a.post(
        "/api/v1/cards",
        json=mine | {"number": "HZ-2", "post": "装车工", "incident_types": ["chem_tank_fire"]},
    )
    assert other_type.status_code == 201, other_type.json
    theirs = b.post(
        "/api/v1/cards",
        json=mine
        | {"number": "HZ-3", "enterprise_id": enterprise_ids["enterprise-b"], "reporting": [{"label": "火警", "phone": "119"}]},
    )
    assert theirs.status_code == 201, theirs.json

    res = cc.post("/api/v1/incidents", json={"hazard_source_id": src["id"], "level": "较大"})
    assert res.status_code == 201, res.json
    assert res.json["type"] == "chem_toxic_gas_leak"
    ids = [c["id"] for c in res.json["cards"]]
    assert card.json["id"] in ids
    assert other_type.json["id"] not in ids and theirs.json["id"] not in ids
    entry = next(c for c in res.json["cards"] if c["id"] == card.json["id"])
    assert entry["short"] == "关阀、戴呼吸器、上风向撤离" and "液氯罐区操作工" in entry["title"]
    assert entry["hazard_source_id"] == src["id"]
    again = cc.get(f"/api/v1/incidents/{res.json['id']}").json
    assert [c["id"] for c in again["cards"]] == ids

    # far from any hazard source: no cards
    p = distance(kilometers=30).destination(SITE, bearing=90)
    far = cc.post(
        "/api/v1/incidents", json={"type": "chem_toxic_gas_leak", "level": "一般", "lat": p.latitude, "lon": p.longitude}
    )
    assert far.status_code == 201 and far.json["cards"] == []
