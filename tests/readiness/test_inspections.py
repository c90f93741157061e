"""Equipment inspections: records move an item's due date; overdue or failed items leave the ranking, with the reason."""

from datetime import date, timedelta

from sqlalchemy import select

from rescue.models import Equipment


def _item(session, enterprise_id):
    """An item of the enterprise kept by a team, with its first capability."""
    item = session.scalars(
        select(Equipment).where(Equipment.enterprise_id == enterprise_id, Equipment.team_id.is_not(None)).order_by(Equipment.id)
    ).first()
    return item.id, item.capabilities[0], item.team.lat, item.team.lon


def _ranking(api, incident_id, item_id):
    need = api("dispatcher").get(f"/api/v1/incidents/{incident_id}/candidates?k=50&explain=1").json["needs"][0]
    ranked = {c["id"] for c in need["candidates"] if c["kind"] == "equipment"}
    excluded = {e["id"]: " ".join(e["reasons"]) for e in need.get("excluded", []) if e["kind"] == "equipment"}
    return item_id in ranked, excluded.get(item_id)


def test_failed_or_overdue_items_are_excluded_with_the_reason(api, session, enterprise_ids):
    a = api("enterprise-a")
    item_id, cap, lat, lon = _item(session, enterprise_ids["enterprise-a"])
    res = api("dispatcher").post(
        "/api/v1/incidents",
        json={
            "type": "chem_toxic_gas_leak",
            "level": "较大",
            "lat": lat + 0.01,
            "lon": lon + 0.01,
            "needs": [{"capability": cap, "quantity": 1, "unit": "item"}],
        },
    )
    assert res.status_code == 201, res.json
    incident_id = res.json["id"]
    assert _ranking(api, incident_id, item_id) == (True, None)

    today = date.today()
    res = a.post(
        "/api/v1/inspections",
        json={
            "equipment_id": item_id,
            "inspected_on": (today - timedelta(days=3)).isoformat(),
            "result": "failed",
            "inspector": "王工",
            "note": "压力表失准",
        },
    )
    assert res.status_code == 201, res.json
    ranked, why = _ranking(api, incident_id, item_id)
    assert not ranked and "检验不合格" in why

    # a passing re-inspection puts it back
    a.post(
        "/api/v1/inspections",
        json={"equipment_id": item_id, "inspected_on": today.isoformat(), "result": "passed", "inspector": "王工"},
    )
    assert _ranking(api, incident_id, item_id) == (True, None)
    item = a.get(f"/api/v1/equipment/{item_id}").json
    assert item["last_inspection_passed"] is True and item["last_inspection_on"] == today.isoformat()

    # an interval: the last inspection 40 days ago with a 30-day interval is overdue
    a.patch(f"/api/v1/equipment/{item_id}", json={"inspection_interval_days": 30})
    failed, passed = a.get(f"/api/v1/inspections?equipment_id={item_id}&sort=inspected_on").json["items"]
    assert a.delete(f"/api/v1/inspections/{failed['id']}").status_code == 204
    old = passed
    res = a.patch(f"/api/v1/inspections/{old['id']}", json={"inspected_on": (today - timedelta(days=40)).isoformat()})
    assert res.status_code == 200, res.json
    ranked, why = _ranking(api, incident_id, item_id)
    assert not ranked and "超期未检验" in why
    listed = a.get("/api/v1/inspections/equipment?unserviceable=1").json["items"]
    assert item_id in [i["equipment_id"] for i in listed]
    assert a.get(f"/api/v1/equipment/{item_id}").json["next_inspection"] == (today - timedelta(days=10)).isoformat()


def test_inspection_ownership_and_bad_input(api, session, enterprise_ids):
    a, b = api("enterprise-a"), api("enterprise-b")
    item_id, *_ = _item(session, enterprise_ids["enterprise-a"])
    # another enterprise's item
    res = b.post(
        "/api/v1/inspections",
        json={"equipment_id": item_id, "inspected_on": "2026-01-05", "result": "passed", "inspector": "李工"},
    )
    assert res.status_code == 422 and "equipment_id" in res.json["fields"]
    # every bad field at once; a date in the future
    res = a.post(
        "/api/v1/inspections", json={"equipment_id": 10**9, "inspected_on": "2026-13-40", "result": "maybe", "inspector": ""}
    )
    assert res.status_code == 422 and set(res.json["fields"]) >= {"equipment_id", "inspected_on", "result", "inspector"}
    future = (date.today() + timedelta(days=5)).isoformat()
    res = a.post(
        "/api/v1/inspections", json={"equipment_id": item_id, "inspected_on": future, "result": "passed", "inspector": "李工"}
    )
    assert res.status_code == 422 and "inspected_on" in res.json["fields"]
    assert a.patch(f"/api/v1/equipment/{item_id}", json={"inspection_interval_days": 0}).status_code == 422
    rec = a.post(
        "/api/v1/inspections",
        json={"equipment_id": item_id, "inspected_on": "2026-01-05", "result": "passed", "inspector": "李工"},
    ).json
    assert b.get(f"/api/v1/inspections/{rec['id']}").status_code == 404
    assert rec["id"] not in [r["id"] for r in b.get("/api/v1/inspections").json["items"]]
    assert api("regulator").post("/api/v1/inspections", json={}).status_code == 403


def test_records_round_trip_through_a_spreadsheet(api, session, enterprise_ids):
    a = api("enterprise-a")
    item_id, *_ = _item(session, enterprise_ids["enterprise-a"])
    csv = f"装备ID,检验日期,检验结果,检验人,备注\n{item_id},2026-02-01,不合格,赵工,漏气\n".encode()
    res = a.post(
        "/api/v1/inspections/import",
        data={"file": (__import__("io").BytesIO(csv), "records.csv")},
        content_type="multipart/form-data",
    )
    assert res.status_code == 200, res.json
    assert res.json["created"] == 1
    item = a.get(f"/api/v1/equipment/{item_id}").json
    assert item["last_inspection_passed"] is False
    export = a.get("/api/v1/inspections/export.csv")
    assert export.status_code == 200 and "赵工" in export.data.decode("utf-8-sig")
    # a bad row names its cell
    bad = f"装备ID,检验日期,检验结果,检验人\n{item_id},明天,也许,\n".encode()
    res = a.post(
        "/api/v1/inspections/import",
        data={"file": (__import__("io").BytesIO(bad), "bad.csv")},
        content_type="multipart/form-data",
    )
    assert res.status_code == 422 and {r["field"] for r in res.json["rows"]} >= {"inspected_on", "result"}
