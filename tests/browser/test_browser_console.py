"""The dispatcher in a real browser: place an incident on the map, rank, dispatch, and watch a signed SMS reply arrive."""

import uuid

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.browser.conftest import login, shot, twilio_config

pytestmark = pytest.mark.browser
YINCHUAN = (38.4872, 106.2309)


def click_map_at(page, lat, lon):
    """A real mouse click on the map where (lat, lon) is drawn."""
    page.wait_for_function("() => window.rescueMap !== undefined")
    x, y = page.evaluate(
        "([lat, lon]) => { const p = window.rescueMap.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }", [lat, lon]
    )
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def signed_reply(live, fake, phone, body):
    """Post an inbound SMS as Twilio would: form-encoded, signed over PUBLIC_URL + path."""
    url = live.url + "/sms/twilio/inbound"
    params = {
        "From": phone,
        "To": "+15005550006",
        "Body": body,
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": fake.account_sid,
        "NumMedia": "0",
    }
    signature = RequestValidator(fake.auth_token).compute_signature(url, params)
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_dispatcher_places_ranks_dispatches_and_sees_a_reply(page, live_factory, fake_twilio, db):
    live = live_factory(db, **twilio_config(fake_twilio), CONSOLE_POLL_MS=1000)
    login(page, live, "dispatcher")
    assert page.url.endswith("/console/")
    page.wait_for_function("() => document.querySelectorAll('#type option').length > 1")
    page.wait_for_load_state("networkidle")
    shot(page, "console-empty", full_page=False)

    # place the incident by clicking the map, then choose its type (needs come from the template)
    click_map_at(page, *YINCHUAN)
    assert abs(float(page.input_value("#lat")) - YINCHUAN[0]) < 0.05
    assert abs(float(page.input_value("#lon")) - YINCHUAN[1]) < 0.05
    page.select_option("#type", "confined_space_asphyxiation")
    assert page.locator(".need-row").count() >= 1
    page.select_option("#level", "larger")
    page.click("#create-incident")

    # ranked candidates per need, with arrival times and their routes on the map
    page.wait_for_selector("#candidates tr.candidate", timeout=30_000)
    assert "分钟" in page.locator("#candidates td.eta").first.inner_text()
    page.wait_for_selector("path.route")
    assert page.locator("path.route").count() >= 1
    assert page.locator("#incident-list li").count() == 1
    shot(page, "console-candidates", full_page=False)

    # the automatic plan, then one click to dispatch
    page.click("#plan-button")
    page.wait_for_function("() => document.getElementById('plan-summary').textContent.startsWith('方案')")
    page.evaluate("() => { window.__sameDocument = true; }")
    page.click("#dispatch-button")
    # a summary first: how many SMS to whom; nothing is sent before the dispatcher confirms
    page.wait_for_selector("dialog.confirm-dialog[open]")
    summary = page.inner_text("dialog.confirm-dialog")
    assert "条短信" in summary and "→" in summary, summary
    shot(page, "console-dispatch-confirm", full_page=False)
    page.click("dialog.confirm-dialog [data-confirm-ok]")
    page.wait_for_selector("#assignments tr.assignment")
    incident_id = page.evaluate("() => Number(document.querySelector('#incident-list li.selected').dataset.id)")
    messages = page.request.get(f"{live.url}/api/v1/incidents/{incident_id}/messages").json()["items"]
    first = page.locator("#assignments tr.assignment").first
    code = first.locator("code").inner_text()
    phone = next(m["to"] for m in messages if m["direction"] == "out" and code in m["text"])

    # the reply arrives through the signed webhook; the timeline updates without a reload
    assert signed_reply(live, fake_twilio, phone, "X" + code + " 1").status_code in (200, 403)  # noise is harmless
    forged = requests.post(
        live.url + "/sms/twilio/inbound",
        data={"From": phone, "Body": f"{code} 1"},
        headers={"X-Twilio-Signature": "forged"},
        timeout=10,
    )
    assert forged.status_code == 403
    res = signed_reply(live, fake_twilio, phone, f"{code} 1")
    assert res.status_code == 200, res.text
    page.wait_for_selector("#assignments tr.assignment[data-status=accepted]", timeout=15_000)
    page.wait_for_selector("#timeline li[data-status=accepted]", timeout=15_000)
    assert page.evaluate("() => window.__sameDocument === true")
    shot(page, "console-accepted", full_page=False)

    # the dispatcher corrects an answer
    page.locator("#assignments tr.assignment[data-status=accepted] select").first.select_option("en_route")
    page.wait_for_selector("#assignments tr.assignment[data-status=en_route]", timeout=15_000)
    assert not page.js_errors, page.js_errors
    assert page.dialogs == []


def test_coverage_and_closures_on_the_console(page, live):
    with live.app.test_client() as client:
        token = client.post("/api/v1/tokens", json={"username": "dispatcher", "password": "ningxia-demo"}).json["token"]
        res = client.post(
            "/api/v1/road-closures",
            json={"reason": "测试封闭", "lat": 38.3, "lon": 106.3, "radius_m": 2000},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert res.status_code == 201, res.json
    login(page, live, "dispatcher")
    page.wait_for_function("() => document.querySelectorAll('#coverage-capability option').length > 1")
    page.select_option("#coverage-capability", "firefighting")
    page.fill("#coverage-minutes", "30")
    page.click("#coverage-form button[type=submit]")
    page.wait_for_function("() => /个地点/.test(document.getElementById('coverage-summary').textContent)", timeout=30_000)
    shot(page, "console-coverage", full_page=False)
    assert not page.js_errors, page.js_errors
