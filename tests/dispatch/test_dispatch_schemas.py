"""The dispatch schemas describe what the views return and refuse what they should, every bad field at once."""

from rescue.dispatch.schemas import AssignmentOut, DispatchOut, EventOut, InboundOut, MessageOut
from tests.alerts.conftest import make_incident, teams_with


def _dispatched(app, api):
    with app.extensions["db"].session_factory() as s:
        incident = make_incident(s)
        teams = teams_with(s, "firefighting", 2)
        s.commit()
        ids = incident.id, incident.needs[0].id, [t.id for t in teams]
    res = api("dispatcher").post(
        f"/api/v1/incidents/{ids[0]}/dispatches",
        json={"resources": [{"kind": "team", "id": t, "need_id": ids[1]} for t in ids[2]]},
    )
    assert res.status_code == 201, res.json
    return ids[0], res.json


def test_responses_match_their_schemas(app, api, client):
    incident_id, body = _dispatched(app, api)
    DispatchOut.model_validate(body)
    assert body["assignments"] and all(a["messages"] for a in body["assignments"])
    listed = api("dispatcher").get(f"/api/v1/incidents/{incident_id}/dispatches").json["items"]
    assert [DispatchOut.model_validate(d).id for d in listed] == [body["id"]]
    events = api("dispatcher").get(f"/api/v1/incidents/{incident_id}/timeline").json["items"]
    assert events and all(EventOut.model_validate(e) for e in events)
    assert client.post("/sms/console/inbound", data={"From": "+8613012345678", "Body": "你好"}).status_code == 200
    inbound = api("dispatcher").get("/api/v1/inbound-messages?needs_review=1").json
    assert inbound["total"] == 1 and InboundOut.model_validate(inbound["items"][0]).needs_review
    messages = api("dispatcher").get(f"/api/v1/incidents/{incident_id}/messages").json["items"]
    assert messages and all(MessageOut.model_validate({k: v for k, v in m.items() if k != "direction"}) for m in messages)
    corrected = api("dispatcher").patch(f"/api/v1/assignments/{body['assignments'][0]['id']}", json={"note": "电话确认"})
    assert corrected.status_code == 200 and AssignmentOut.model_validate(corrected.json).status == "notified"


def test_bad_requests_report_every_field(app, api):
    incident_id, body = _dispatched(app, api)
    assignment_id = body["assignments"][0]["id"]
    bad = api("dispatcher").patch(
        f"/api/v1/assignments/{assignment_id}", json={"status": "lost", "note": "x" * 501, "escalate": "yes", "colour": 1}
    )
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"status", "note", "escalate", "colour"}
    empty = api("dispatcher").patch(f"/api/v1/assignments/{assignment_id}", json={})
    assert empty.status_code == 422 and empty.json["fields"] == {"status": "请提供 status 或 note"}
    assert api("dispatcher").patch("/api/v1/assignments/999999", json={"note": "x"}).status_code == 404
    options = api("dispatcher").post(
        f"/api/v1/incidents/{incident_id}/dispatches/preview",
        json={
            "acks_needed": True,
            "wave_timeout_s": 10,
            "task": "x" * 21,
            "resources": [{"kind": "team", "id": "1"}, {"kind": "team", "id": 1, "quantity": 0, "extra": 1}],
        },
    )
    assert options.status_code == 422
    assert {"acks_needed", "wave_timeout_s", "task", "resources[0].id", "resources[1].quantity", "resources[1].extra"} <= set(
        options.json["fields"]
    )
    missing = api("dispatcher").patch("/api/v1/inbound-messages/999999", json={})
    assert missing.status_code == 404


def test_review_links_a_reply_and_refuses_a_status_without_an_assignment(app, api, client):
    _, body = _dispatched(app, api)
    assert client.post("/sms/console/inbound", data={"From": "+8613012345678", "Body": "你好"}).status_code == 200
    message_id = api("dispatcher").get("/api/v1/inbound-messages?needs_review=1").json["items"][0]["id"]
    url = f"/api/v1/inbound-messages/{message_id}"
    assert api("dispatcher").patch(url, json={"status": "accepted"}).json["fields"] == {"status": "设置状态需要先选择指派"}
    assert api("dispatcher").patch(url, json={"assignment_id": 999999}).json["fields"] == {"assignment_id": "指派不存在"}
    assert api("regulator").patch(url, json={"note": "x"}).status_code == 403
    assignment_id = body["assignments"][0]["id"]
    done = api("dispatcher").patch(url, json={"assignment_id": assignment_id, "status": "accepted", "note": "电话确认"})
    assert done.status_code == 200 and done.json["assignment_id"] == assignment_id and not done.json["needs_review"]
    assert (
        api("dispatcher").get(f"/api/v1/incidents/{body['incident_id']}/dispatches").json["items"][0]["assignments"][0]["status"]
        == "accepted"
    )


def test_the_document_names_the_schemas(api):
    spec = api("dispatcher").get("/api/v1/openapi.json").json
    body = spec["paths"]["/api/v1/incidents/{incident_id}/dispatches"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/DispatchIn"}
    schemas = spec["components"]["schemas"]
    assert {"kind", "id", "need_id", "quantity"} <= set(schemas["ResourceIn"]["properties"])
    assert {"messages", "eta_s", "reply_code"} <= set(schemas["AssignmentOut"]["properties"])
    assert "from" in schemas["InboundOut"]["properties"]
