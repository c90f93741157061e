"""Console tool pages: road closures drawn on the map, flagged SMS replies, drills in progress."""

import json

from sqlalchemy import select

from rescue.db import utcnow
from rescue.models import Assignment, InboundMessage, RoadClosure
from tests.pages.test_pages import XSS, csrf_of, sign_in


def test_closure_point_and_polygon_then_lift(client, session):
    sign_in(client, "dispatcher")
    page = client.get("/console/closures")
    assert page.status_code == 200 and 'id="closure-map"' in page.text
    token = csrf_of(page.text)
    bad = client.post(
        "/console/closures",
        data={"csrf_token": token, "shape": "point", "reason": "", "lat": "31.2", "lon": "121.5", "radius_m": ""},
    )
    assert bad.status_code == 422 and "至少 1 个字符" in bad.text  # the API's wording
    far = client.post(
        "/console/closures",
        data={"csrf_token": token, "shape": "point", "reason": "上海", "lat": "31.2", "lon": "121.5", "radius_m": "500"},
    )
    assert far.status_code == 422 and "超出服务区域" in far.text and 'value="上海"' in far.text
    made = client.post(
        "/console/closures",
        data={
            "csrf_token": token,
            "shape": "point",
            "reason": XSS,
            "lat": "38.4871",
            "lon": "106.2309",
            "radius_m": "3000",
            "hours": "6",
        },
    )
    assert made.status_code == 302, made.text
    square = [[106.15, 38.42], [106.32, 38.42], [106.32, 38.55], [106.15, 38.55], [106.15, 38.42]]
    poly = client.post(
        "/console/closures",
        data={
            "csrf_token": token,
            "shape": "polygon",
            "reason": "塌方",
            "polygon": json.dumps({"type": "Polygon", "coordinates": [square]}),
        },
    )
    assert poly.status_code == 302, poly.text
    listing = client.get("/console/closures").text
    assert XSS not in listing.split('id="closures-config"')[0] and "&lt;script&gt;" in listing
    assert "<script>alert" not in listing
    assert "多边形 (5 点)" in listing
    rows = session.scalars(select(RoadClosure).order_by(RoadClosure.id)).all()
    assert len(rows) == 2 and rows[0].expires_dt is not None and rows[1].polygon
    assert client.post(f"/console/closures/{rows[0].id}/lift", data={}).status_code == 400  # CSRF
    lifted = client.post(f"/console/closures/{rows[0].id}/lift", data={"csrf_token": token})
    assert lifted.status_code == 302
    session.rollback()
    assert session.get(RoadClosure, rows[0].id).lifted_dt is not None


def test_console_tools_are_for_the_command_center(client):
    sign_in(client, "enterprise-a")
    for path in ("/console/closures", "/console/replies", "/console/drills"):
        assert client.get(path).status_code == 403


def _flagged(app, api, body="你好"):
    from tests.alerts.conftest import make_incident, teams_with

    with app.extensions["db"].session_factory() as s:
        incident = make_incident(s)
        team = teams_with(s, "firefighting", 1)[0]
        s.commit()
        ids = incident.id, incident.needs[0].id, team.id
    res = api("dispatcher").post(
        f"/api/v1/incidents/{ids[0]}/dispatches", json={"resources": [{"kind": "team", "id": ids[2], "need_id": ids[1]}]}
    )
    assert res.status_code == 201, res.json
    client = app.test_client()
    assert client.post("/sms/console/inbound", data={"From": "+8613012345678", "Body": body}).status_code == 200
    with app.extensions["db"].session_factory() as s:
        record = s.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
        return record.id, res.json["assignments"][0]["id"]


def test_flagged_reply_assigned_then_another_dismissed(app, api, client, session):
    message_id, assignment_id = _flagged(app, api, body=XSS)
    sign_in(client, "dispatcher")
    page = client.get("/console/replies")
    assert page.status_code == 200 and f'id="reply-{message_id}"' in page.text
    assert XSS not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "未知号码" in page.text
    token = csrf_of(page.text)
    done = client.post(
        f"/console/replies/{message_id}",
        data={
            "csrf_token": token,
            "action": "assign",
            "assignment_id": str(assignment_id),
            "status": "accepted",
            "note": "电话确认",
        },
    )
    assert done.status_code == 302
    session.rollback()
    record = session.get(InboundMessage, message_id)
    assert not record.needs_review and record.assignment_id == assignment_id and record.reviewed_by == "dispatcher"
    assert session.get(Assignment, assignment_id).status.value == "accepted"

    other, _ = _flagged(app, api, body="打错了")
    dismissed = client.post(f"/console/replies/{other}", data={"csrf_token": token, "action": "dismiss", "assignment_id": ""})
    assert dismissed.status_code == 302
    session.rollback()
    assert not session.get(InboundMessage, other).needs_review and session.get(InboundMessage, other).assignment_id is None
    assert "没有待处理的回复" in client.get("/console/replies").text


def test_drill_runs_view_shows_the_banner(client, session):
    from tests.pages.test_portal_cards_drills import _drill_form, _ids

    _, _, team = _ids(session)
    sign_in(client, "dispatcher")
    quiet = client.get("/console/drills").text
    token = csrf_of(quiet)
    res = client.post("/portal/drills/new", data=_drill_form(token, team.id) | {"enterprise_id": str(_ids(session)[0].id)})
    assert res.status_code == 302, res.text
    plan_id = int(res.location.rstrip("/").split("/")[-1])
    assert client.post(f"/portal/drills/{plan_id}/start", data={"csrf_token": token}).status_code == 302
    page = client.get("/console/drills").text
    assert 'class="drill-banner" role="status" hidden' not in page and "罐区火灾演练" in page and "【演练】" in page
    assert utcnow()
