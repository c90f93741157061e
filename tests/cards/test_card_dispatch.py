"""The card's short form in the dispatch SMS (second segment only) and on the responder page."""

import re
from types import SimpleNamespace

from sqlalchemy import select

from contacts import count_segments
from rescue.cards import cards
from rescue.dispatch import assignments
from rescue.messaging.gateway import AlertSettings
from rescue.models import Assignment, Enterprise, Incident, IncidentNeed, Team
from rescue.models.enums import IncidentLevel
from tests.conftest import Api, make_app

CARD = "发现泄漏→报告班长→关闭进料阀→佩戴空呼→设置警戒→上风向撤离"


def _incident(**kw):
    base = {
        "number": "NX2026-0001",
        "type": SimpleNamespace(name="危化品储罐火灾"),
        "type_code": "chem_tank_fire",
        "level": IncidentLevel.larger,
        "place": "宁东镇",
        "drill": False,
    }
    return SimpleNamespace(**(base | kw))


def test_card_short_form_stays_out_of_an_sms_whose_template_has_no_card_variable():
    # what the console shows is what an Aliyun phone receives: the approved template, nothing appended
    notice = assignments.dispatch_notice(_incident(), task="灭火", reply_code="K7Q", eta_s=900)
    plain = assignments.render_dispatch(notice, settings=AlertSettings())
    with_card = assignments.render_dispatch(notice, settings=AlertSettings(), card_short=CARD)
    assert with_card.text == plain.text and "处置卡" not in plain.text and plain.kind == "dispatch"


def _dispatch_enterprise_team(app, *, links=False):
    with app.extensions["db"].session_factory() as s:
        ent = s.scalars(select(Enterprise).where(Enterprise.name == "中国石油宁夏石化公司")).one()
        team = s.scalars(select(Team).where(Team.enterprise_id == ent.id).order_by(Team.id)).first()
        incident = Incident(
            number="NX2026-0901",
            type_code="chem_tank_fire",
            level=IncidentLevel.general,
            lat=38.4,
            lon=106.3,
            place="石化",
            drill=False,
            created_dt=dispatches_now(),
        )
        incident.needs.append(IncidentNeed(position=0, capability_code=team.capabilities[0], quantity=1))
        s.add(incident)
        s.commit()
        card = cards.card_for(s, enterprise_id=ent.id, incident_type="chem_tank_fire")
        ids = (incident.id, incident.needs[0].id, team.id, card.id, cards.short_form(cards.current(card).content))
    res = Api(app.test_client(), "dispatcher").post(
        f"/api/v1/incidents/{ids[0]}/dispatches", json={"resources": [{"kind": "team", "id": ids[2], "need_id": ids[1]}]}
    )
    assert res.status_code == 201, res.json
    return res.json["assignments"][0], ids


def dispatches_now():
    from rescue.db import utcnow

    return utcnow()


def test_dispatch_sms_is_the_template_and_the_card_is_on_the_responder_page_only(app):
    assignment, _ = _dispatch_enterprise_team(app)
    text = assignment["messages"][0]["text"]
    assert "处置卡" not in text and assignment["messages"][0]["template"] == "dispatch"
    assert count_segments(text).segments == assignment["messages"][0]["segments"]


def test_responder_page_shows_the_card_and_links_the_live_card(backend, templates, tmp_path):
    app = make_app(templates.copy(backend, seeded=True), tmp_path, RESPONDER_LINKS=True)
    try:
        assignment, (_, _, _, card_id, short) = _dispatch_enterprise_team(app)
        with app.extensions["db"].session_factory() as s:
            url = assignments.issue_link(
                s, s.get(Assignment, assignment["id"]), settings=app.extensions["alert_settings"], now=dispatches_now()
            )
            s.commit()
        token = re.search(r"/r/([A-Za-z0-9_-]{20,})", url)[1]
        client = app.test_client()
        page = client.get(f"/r/{token}")
        assert page.status_code == 200
        assert 'id="response-card"' in page.text and short.replace(">", "&gt;") in page.text
        live = re.search(rf'href="([^"]*/api/v1/cards/{card_id}/live\?k=[0-9a-f]+)"', page.text)[1]
        path = live.split("://", 1)[1].split("/", 1)[1]
        assert client.get("/" + path).status_code == 200  # the link opens the live card without signing in
    finally:
        app.extensions["db"].engine.dispose()
