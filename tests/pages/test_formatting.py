"""What people read: Beijing time, Chinese phone numbers, named codes; the audit log and roads.geojson as served."""

import gzip
import json
from datetime import UTC, date, datetime

from rescue.web import formatting
from tests.pages.test_pages import sign_in


def test_beijing_time_from_datetimes_and_iso_strings():
    moment = datetime(2026, 3, 1, 22, 5, tzinfo=UTC)
    assert formatting.beijing(moment) == "2026-03-02 06:05"
    assert formatting.beijing("2026-03-01T22:05:00+00:00") == "2026-03-02 06:05"
    assert formatting.beijing("2026-03-02T06:05:00+08:00") == "2026-03-02 06:05"
    assert formatting.beijing("2026-03-01T22:05:00") == "2026-03-02 06:05"  # naive: UTC, as stored
    assert formatting.beijing(None, empty="长期") == "长期"
    assert formatting.beijing_date("2026-03-01T22:05:00+00:00") == "2026-03-02"
    assert formatting.beijing_date(date(2026, 3, 1)) == "2026-03-01"
    assert formatting.beijing_input(moment) == "2026-03-02T06:05"


def test_phone_numbers_the_chinese_way():
    assert formatting.phone("+869515010100") == "0951-5010100"
    assert formatting.phone("+8613951000170") == "139 5100 0170"
    assert formatting.phone("+861012345678") == "010-12345678"
    assert formatting.phone("") == ""
    assert formatting.phone("not a number") == "not a number"
    assert formatting.tel("0951-5010100") == "+869515010100"


def test_codes_become_names():
    assert formatting.change_value(None) == "—"
    assert formatting.change_value(["gas_protection", "firefighting"], {"gas_protection": "气体防护"}) == "气体防护、firefighting"
    assert formatting.change_value("enterprise_fire") == "企业专职消防队"
    assert formatting.change_value("live") == "实战演练"
    assert formatting.change_value(True) == "是"
    assert formatting.change_value("+8613951000170") == "139 5100 0170"
    assert formatting.list_header("出动准备时间 (分钟)") == "出动准备时间(分钟)"
    assert formatting.list_header("能力代码 (多个用 ; 分隔)") == "能力代码"


def test_audit_log_shows_names_and_beijing_time(client):
    sign_in(client, "enterprise-a")
    page = client.get("/portal/teams").text
    assert "enterprise_fire" not in page
    assert "出动准备时间(分钟)" in page
    with client.session_transaction() as session:
        session.clear()
    sign_in(client, "regulator")
    text = client.get("/regulator/audit").text
    assert "时间 (北京时间)" in text
    for code in ("['", "— → operational", "<code>"):
        assert code not in text


def test_roads_geojson_is_gzipped_and_cached(client):
    sign_in(client, "dispatcher")
    res = client.get("/api/v1/roads.geojson", headers={"Accept-Encoding": "gzip"})
    assert res.status_code == 200 and res.headers["Content-Encoding"] == "gzip"
    data = json.loads(gzip.decompress(res.data))
    assert data["type"] == "FeatureCollection" and data["features"]
    plain = client.get("/api/v1/roads.geojson")
    assert len(res.data) * 4 < len(plain.data)
    again = client.get("/api/v1/roads.geojson", headers={"If-None-Match": res.headers["ETag"]})
    assert again.status_code == 304


def test_places_page_with_key_sites_first(client):
    sign_in(client, "dispatcher")
    first = client.get("/api/v1/places?q=宁东&limit=2").json
    assert first["total"] == 3 and len(first["items"]) == 2
    assert first["items"][0]["kind"] == "key_site"
    rest = client.get("/api/v1/places?q=宁东&limit=2&offset=2").json
    assert len(rest["items"]) == 1
    assert client.get("/api/v1/places?limit=500").json["total"] > 50


def test_dispatch_record_page(client):
    sign_in(client, "dispatcher")
    from tests.pages.test_pages import csrf_of

    csrf = csrf_of(client.get("/console/closures").text)
    res = client.post(
        "/api/v1/incidents",
        json={"type": "confined_space_asphyxiation", "level": "larger", "lat": 38.4872, "lon": 106.2309},
        headers={"X-CSRFToken": csrf},
    )
    assert res.status_code == 201, res.json
    page = client.get(f"/console/incidents/{res.json['id']}/record")
    assert page.status_code == 200
    assert "应急资源调派记录" in page.text and "尚未调派" in page.text
    assert client.get("/console/incidents/999999/record").status_code == 404


def test_responder_links_are_on_unless_turned_off():
    from rescue import config
    from rescue.messaging.gateway import alert_settings

    assert config.DEFAULTS["RESPONDER_LINKS"] is True
    assert config._coerce(True, "0") is False  # RESCUE_RESPONDER_LINKS=0 turns it off
    on = alert_settings({"RESPONDER_LINKS": True, "SMS_SIGNATURE": "宁夏应急", "PUBLIC_URL": "http://127.0.0.1:5000"})
    assert on.responder_base_url == "http://127.0.0.1:5000/r/"
    assert alert_settings({"RESPONDER_LINKS": False, "SMS_SIGNATURE": "宁夏应急"}).responder_base_url is None
