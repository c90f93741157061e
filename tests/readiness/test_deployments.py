"""Deployments: built from a closed incident's timeline, confirmed or corrected by the owner; the statement."""

import io

from openpyxl import load_workbook
from sqlalchemy import select

from rescue.models import Equipment, SupplyLot, Team


def _resources(session, enterprise_id):
    team = session.scalars(select(Team).where(Team.enterprise_id == enterprise_id).order_by(Team.id)).first()
    item = session.scalars(select(Equipment).where(Equipment.team_id == team.id).order_by(Equipment.id)).first()
    lot = session.scalars(
        select(SupplyLot).where(SupplyLot.enterprise_id == enterprise_id, SupplyLot.quantity >= 10).order_by(SupplyLot.id)
    ).first()
    return team, item, lot


def _closed_incident(api, team, item, lot):
    """An incident where the team and the item went, the team was released, and the lot was drawn; then closed."""
    cc = api("dispatcher")
    inc = cc.post(
        "/api/v1/incidents", json={"type": "chem_toxic_gas_leak", "level": "较大", "lat": team.lat + 0.01, "lon": team.lon + 0.01}
    ).json
    res = cc.post(
        f"/api/v1/incidents/{inc['id']}/dispatches",
        json={
            "resources": [
                {"kind": "team", "id": team.id},
                {"kind": "equipment", "id": item.id, "quantity": 1},
                {"kind": "supply", "id": lot.id, "quantity": 4},
            ]
        },
    )
    assert res.status_code == 201, res.json
    by_kind = {a["resource_kind"] if "resource_kind" in a else a["kind"]: a for a in res.json["assignments"]}
    for kind, status in (
        ("team", "accepted"),
        ("team", "on_scene"),
        ("team", "released"),
        ("equipment", "accepted"),
        ("supply", "accepted"),
    ):
        r = cc.patch(f"/api/v1/assignments/{by_kind[kind]['id']}", json={"status": status, "note": "电话确认"})
        assert r.status_code == 200, r.json
    assert cc.patch(f"/api/v1/incidents/{inc['id']}", json={"status": "closed"}).status_code == 200
    return inc["id"]


def test_records_from_the_timeline_confirmed_and_priced(api, session, enterprise_ids):
    team, item, lot = _resources(session, enterprise_ids["enterprise-a"])
    stock = lot.quantity
    incident_id = _closed_incident(api, team, item, lot)
    cc, a, b = api("dispatcher"), api("enterprise-a"), api("enterprise-b")
    built = cc.post("/api/v1/deployments/build", json={"incident_id": incident_id}).json
    assert built["created"] == 3
    again = cc.post("/api/v1/deployments/build", json={"incident_id": incident_id}).json
    assert again["created"] == 0  # idempotent
    mine = a.get(f"/api/v1/deployments?incident_id={incident_id}").json["items"]
    assert {d["resource_kind"] for d in mine} == {"team", "equipment", "supply"}
    assert b.get(f"/api/v1/deployments?incident_id={incident_id}").json["total"] == 0
    dep = {d["resource_kind"]: d for d in mine}
    assert dep["team"]["people"] == team.headcount and dep["team"]["state"] == "draft"
    assert dep["team"]["arrived_dt"] is not None
    assert dep["supply"]["consumables"][0]["lot_id"] == lot.id

    # the seeded demo rates apply until the command center sets its own
    assert a.get(f"/api/v1/deployments/statement.json?incident_id={incident_id}").json["rates"]["person_hour"] == 120
    assert a.put("/api/v1/deployments/rates", json={"person_hour": 80}).status_code == 403
    res = cc.put("/api/v1/deployments/rates", json={"person_hour": 80, "equipment_hour": {"*": 150}})
    assert res.status_code == 200
    assert cc.put("/api/v1/deployments/rates", json={"person_hour": -1}).status_code == 422

    # the owner confirms the team as built and corrects the item (2 pieces, 3 hours) and the supplies (with cost)
    assert a.post(f"/api/v1/deployments/{dep['team']['id']}/confirm").json["state"] == "confirmed"
    assert a.post(f"/api/v1/deployments/{dep['team']['id']}/confirm").status_code == 409
    start = dep["equipment"]["dispatched_dt"]
    from datetime import datetime, timedelta

    end = (datetime.fromisoformat(start) + timedelta(hours=3)).isoformat()
    res = a.patch(f"/api/v1/deployments/{dep['equipment']['id']}", json={"equipment_count": 2, "released_dt": end})
    assert res.status_code == 200 and res.json["state"] == "corrected" and res.json["hours"] == 3
    bad = a.patch(f"/api/v1/deployments/{dep['supply']['id']}", json={"consumables": [{"lot_id": lot.id, "quantity": 1e6}]})
    assert bad.status_code == 422 and "consumables.0.quantity" in bad.json["fields"]
    res = a.patch(
        f"/api/v1/deployments/{dep['supply']['id']}", json={"consumables": [{"lot_id": lot.id, "quantity": 3, "unit_cost": 25.5}]}
    )
    assert res.status_code == 200, res.json
    session.rollback()
    assert session.get(SupplyLot, lot.id).quantity == stock - 3  # drawn from the lot once, as corrected
    assert b.post(f"/api/v1/deployments/{dep['supply']['id']}/confirm").status_code == 404
    assert api("regulator").post(f"/api/v1/deployments/{dep['supply']['id']}/confirm").status_code == 403

    st = a.get(f"/api/v1/deployments/statement.json?incident_id={incident_id}").json
    lines = {ln["kind"]: ln for ln in st["lines"]}
    assert lines["equipment"]["equipment_amount"] == 2 * 3 * 150
    assert lines["supply"]["consumables_amount"] == 76.5
    assert lines["team"]["person_amount"] == round(team.headcount * lines["team"]["hours"] * 80, 2)
    assert st["total"] == round(sum(ln["amount"] for ln in st["lines"]), 2) and st["unconfirmed"] == 0
    # another enterprise cannot read a's statement
    eid = enterprise_ids["enterprise-a"]
    assert b.get(f"/api/v1/deployments/statement.json?incident_id={incident_id}&enterprise_id={eid}").status_code == 404

    xlsx = a.get(f"/api/v1/deployments/statement.xlsx?incident_id={incident_id}")
    assert xlsx.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    cells = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert "合计 (已确认)" in cells and st["total"] in cells
    pdf = a.get(f"/api/v1/deployments/statement.pdf?incident_id={incident_id}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-") and pdf.mimetype == "application/pdf"


def test_open_incidents_are_not_built_and_bad_queries_are_field_errors(api):
    cc = api("dispatcher")
    inc = cc.post("/api/v1/incidents", json={"type": "lift_entrapment", "level": "一般", "place": "银川"}).json
    assert cc.post("/api/v1/deployments/build", json={"incident_id": inc["id"]}).status_code == 409
    assert cc.post("/api/v1/deployments/build", json={"incident_id": "x"}).status_code == 422
    res = cc.get("/api/v1/deployments/statement.json?incident_id=abc")
    assert res.status_code == 422 and {"incident_id", "enterprise_id"} <= set(res.json["fields"])
