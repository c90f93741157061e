"""Map data on pages: the far-from-roads page for each role, and the road network behind a responder link."""

import gzip
import json
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from rescue.db import utcnow
from rescue.models import Enterprise, ResponderToken, Team
from tests.conftest import Api, make_app
from tests.pages.test_pages import sign_in

ROWS = re.compile(r'<tr class="far-record" data-kind="(\w+)" data-id="(\d+)">(.*?)</tr>', re.S)
YINCHUAN = (38.4872, 106.2309)  # on the road network


def page_rows(html: str) -> dict[tuple[str, int], str]:
    """(kind, id) → the row's HTML, for every record listed on the page."""
    return {(kind, int(rid)): body for kind, rid, body in ROWS.findall(html)}


def api_items(client, username: str) -> dict[tuple[str, int], dict]:
    items = Api(client, username).get("/api/v1/data-quality/far-from-roads").json["items"]
    return {(i["kind"], i["id"]): i for i in items}


class Form(HTMLParser):
    """The values a browser would post from the page's record form (inputs, selected options, ticked boxes)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self.select: str | None = None
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = "record-form" in (a.get("class") or "")
        if not self.inside:
            return
        if tag == "input" and a.get("name") and (a.get("type") != "checkbox" or "checked" in a):
            self.values.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and "selected" in a:
            self.values.append((self.select, a.get("value") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.inside = False


def form_values(html: str) -> list[tuple[str, str]]:
    parser = Form()
    parser.feed(html)
    return parser.values


def test_an_enterprise_sees_only_its_own_far_records_and_corrects_one(app, client, session):
    everything = api_items(client, "dispatcher")
    # give enterprise-a (which has none in the seed) a team 13 km from the road, where one of enterprise-b's stands
    far_b = max(everything.values(), key=lambda i: i["offroad_m"])
    admin_a = session.scalars(select(Enterprise).where(Enterprise.name.like("%宁夏石化%"))).first()
    mine = session.scalars(select(Team).where(Team.enterprise_id == admin_a.id)).first()
    mine.lat, mine.lon = far_b["lat"], far_b["lon"]
    session.commit()

    sign_in(client, "enterprise-a")
    rows = page_rows(client.get("/data-quality/far-from-roads").text)
    assert set(rows) == {("team", mine.id)} == set(api_items(client, "enterprise-a"))
    assert "所属单位" not in client.get("/data-quality/far-from-roads").text  # its own records: no owner column
    assert f"{far_b['offroad_m'] / 1000:.1f}" in rows[("team", mine.id)]
    assert f'href="/portal/teams/{mine.id}/edit#f-lat"' in rows[("team", mine.id)]
    portal = client.get("/portal/").text
    assert re.search(r'id="far-from-roads-link">.*1 条登记位置距路网过远.*href="/data-quality/far-from-roads"', portal)

    # the edit link opens the record's form; a location on the road takes it off the list
    form = client.get(f"/portal/teams/{mine.id}/edit")
    assert form.status_code == 200
    values = [(k, v) for k, v in form_values(form.text) if k not in ("lat", "lon")]
    moved = MultiDict([*values, ("lat", str(YINCHUAN[0])), ("lon", str(YINCHUAN[1]))])
    saved = client.post(f"/portal/teams/{mine.id}/edit", data=moved)
    assert saved.status_code == 302, saved.text[:3000]
    after = client.get("/data-quality/far-from-roads").text
    assert page_rows(after) == {} and "所有登记位置都在路网 5 km 以内" in after


def test_enterprise_b_sees_its_records_and_never_another_enterprises(client):
    everything = api_items(client, "dispatcher")
    b_id = Api(client, "enterprise-b").get("/api/v1/enterprises").json["items"][0]["id"]
    own = {key for key, item in everything.items() if item["enterprise_id"] == b_id}
    assert own and len(own) < len(everything)  # the seed has far records of several owners
    sign_in(client, "enterprise-b")
    rows = page_rows(client.get("/data-quality/far-from-roads").text)
    assert set(rows) == own
    assert ("enterprise", b_id) in rows  # its own enterprise record is editable from the portal too
    assert f'href="/portal/enterprises/{b_id}/edit#f-lat"' in rows[("enterprise", b_id)]
    form = client.get(f"/portal/enterprises/{b_id}/edit")
    assert form.status_code == 200 and 'id="f-lat"' in form.text
    assert 'name="industry"' not in form.text  # the command center's to set
    other = next(key for key in everything if key not in own and key[0] == "enterprise")
    assert client.get(f"/portal/enterprises/{other[1]}/edit").status_code == 404
    # the enterprise moves its own registered location next to the road: saved, back on the portal, off the list
    values = [(k, v) for k, v in form_values(form.text) if k not in ("lat", "lon")]
    moved = MultiDict([*values, ("lat", str(YINCHUAN[0])), ("lon", str(YINCHUAN[1]))])
    saved = client.post(f"/portal/enterprises/{b_id}/edit", data=moved)
    assert saved.status_code == 302 and saved.location == "/portal/", saved.text[:3000]
    assert set(page_rows(client.get("/data-quality/far-from-roads").text)) == own - {("enterprise", b_id)}


@pytest.mark.parametrize("username", ["regulator", "dispatcher"])
def test_command_center_and_regulator_see_every_far_record(client, username):
    everything = api_items(client, username)
    sign_in(client, username)
    html = client.get("/data-quality/far-from-roads").text
    rows = page_rows(html)
    assert set(rows) == set(everything) and len(rows) >= 10
    assert "所属单位" in html and "政府及社会力量" in html  # a county depot has no enterprise
    shown = {key: re.findall(r'<td class="num">([\d.]+)</td>', body)[0] for key, body in rows.items()}
    assert shown == {key: f"{item['offroad_m'] / 1000:.1f}" for key, item in everything.items()}
    distances = [float(km) for km in shown.values()]  # farthest first, as the service sorts them
    assert distances == sorted(distances, reverse=True) and min(distances) >= 5.0
    edits = [body for body in rows.values() if "修改位置" in body]
    assert len(edits) == (len(rows) if username == "dispatcher" else 0)  # the regulator reads, never edits
    stale = client.get("/regulator/stale").text
    assert re.search(rf'id="far-from-roads-link">.*另有 {len(rows)} 条.*href="/data-quality/far-from-roads"', stale)


def test_far_from_roads_page_needs_sign_in(client):
    res = client.get("/data-quality/far-from-roads")
    assert res.status_code == 302 and res.location.startswith("/login?next=")


@pytest.fixture
def linked_app(backend, templates, tmp_path):
    app = make_app(templates.copy(backend, seeded=True), tmp_path, RESPONDER_LINKS=True)
    yield app
    app.extensions["db"].engine.dispose()


def responder_token(app) -> str:
    api = Api(app.test_client(), "dispatcher")
    body = {"type": "confined_space_asphyxiation", "level": "larger", "lat": YINCHUAN[0], "lon": YINCHUAN[1]}
    incident = api.post("/api/v1/incidents", json=body)
    assert incident.status_code == 201, incident.json
    sent = api.post(f"/api/v1/incidents/{incident.json['id']}/dispatches", json={})
    assert sent.status_code == 201, sent.json
    text = sent.json["assignments"][0]["messages"][0]["text"]
    return re.search(r"/r/([A-Za-z0-9_-]{20,})", text)[1]


def test_the_responder_link_serves_the_road_network_without_sign_in(linked_app):
    token = responder_token(linked_app)
    phone = linked_app.test_client()  # no session, no token: only the link
    page = phone.get(f"/r/{token}")
    config = json.loads(re.search(r'<script type="application/json" id="responder-map">(.*?)</script>', page.text, re.S)[1])
    assert config["roadsUrl"] == f"/r/{token}/roads.geojson"
    assert 'type="module" src="/static/js/responder.js"' in page.text

    res = phone.get(config["roadsUrl"], headers={"Accept-Encoding": "gzip"})
    assert res.status_code == 200 and res.headers["Content-Encoding"] == "gzip"
    assert res.mimetype == "application/geo+json" and "'self'" in res.headers["Content-Security-Policy"]
    roads = json.loads(gzip.decompress(res.data))
    assert roads["type"] == "FeatureCollection" and len(roads["features"]) > 1000
    # exactly what a signed-in console gets: the public network, nothing of the incident
    console = Api(linked_app.test_client(), "dispatcher").get("/api/v1/roads.geojson").data
    assert gzip.decompress(res.data) == console
    assert phone.get(config["roadsUrl"], headers={"If-None-Match": res.headers["ETag"]}).status_code == 304

    assert phone.get("/r/not-a-real-token-at-all-000/roads.geojson").status_code == 404
    with linked_app.extensions["db"].session_factory() as s:
        for row in s.scalars(select(ResponderToken)):
            row.expires_dt = utcnow() - timedelta(minutes=1)
        s.commit()
    assert phone.get(config["roadsUrl"]).status_code == 410
