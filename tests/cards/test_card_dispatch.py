"""The card's short form in the dispatch SMS (second segment only) and on the responder page."""

import re
from types import SimpleNamespace

from sqlalchemy import select

from contacts import count_segments
from rescue.cards import cards
from rescue.dispatch import assignments
from rescue.models import Enterprise, Incident, IncidentNeed, Team
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


def test_card_short_form_only_as_a_second_segment_after_a_one_segment_core():
    plain = assignments.compose_for(_incident(), task="灭火", reply_code="K7Q", eta_s=900, signature="【宁夏应急】")
    with_card = assignments.compose_for(
        _incident(), task="灭火", reply_code="K7Q", eta_s=900, signature="【宁夏应急】", card_short=CARD
    )
    assert plain.segments == 1 and "处置卡" not in plain.text
    assert with_card.text.startswith(plain.text) and with_card.text.endswith(f"处置卡：{CARD}")
    assert with_card.segments == 2
    # a core that needs cutting to fit one segment gets no card: the core stays whole in the first segment
    long_place = "宁东能源化工基地煤制油分公司东区罐区南侧道路"
    tight = assignments.compose_for(
        _incident(place=long_place),
        task="危化品泄漏控制与灭火",
        reply_code="K7Q",
        eta_s=900,
        via="G20青银高速转S203",
        muster_point="园区东门",
        signature="【宁夏应急】",
        card_short=CARD,
    )
    assert "处置卡" not in tight.text and count_segments(tight.text).segments == tight.segments


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
    return res.json["assignments"][0]["messages"][0]["text"], ids


def dispatches_now():
    from rescue.db import utcnow

    return utcnow()


def test_dispatch_sms_carries_the_card_when_it_fits_two_segments(app):
    text, (_, _, _, _, short) = _dispatch_enterprise_team(app)
    core, _, card = text.partition("。处置卡：")
    assert count_segments(core).segments == 1 and count_segments(text).segments == 2
    assert card == short


def test_responder_page_shows_the_card_and_links_the_live_card(backend, templates, tmp_path):
    app = make_app(templates.copy(backend, seeded=True), tmp_path, RESPONDER_LINKS=True)
    try:
        text, (_, _, _, card_id, short) = _dispatch_enterprise_team(app)
        token = re.search(r"/r/([A-Za-z0-9_-]{20,})", text)[1]
        client = app.test_client()
        page = client.get(f"/r/{token}")
        assert page.status_code == 200
        assert 'id="response-card"' in page.text and short.replace(">", "&gt;") in page.text
        live = re.search(rf'href="([^"]*/api/v1/cards/{card_id}/live\?k=[0-9a-f]+)"', page.text)[1]
        path = live.split("://", 1)[1].split("/", 1)[1]
        assert client.get("/" + path).status_code == 200  # the link opens the live card without signing in
    finally:
        app.extensions["db"].engine.dispose()
