"""Names typed by an enterprise admin stay text in the dispatcher's and regulator's browsers; pages run under the CSP."""

import re

import pytest
import requests

from tests.browser.conftest import PASSWORD, login, shot
from tests.browser.test_browser_console import YINCHUAN, click_map_at

pytestmark = pytest.mark.browser

# each would set window.__xss if parsed as HTML (a <script> inserted by innerHTML does not run, the others do)
HOSTILE = {
    "team": "<img src=x onerror=window.__xss=1>危化救援队",
    "expert": "<script>window.__xss=2</script>张专家",
    "equipment": "<svg onload=window.__xss=3>气体检测仪",
    "depot": "<img src=x onerror=window.__xss=4>储备库",
    "supply": "<img src=x onerror=window.__xss=5>空气呼吸器",
    "enterprise": "<b onmouseover=window.__xss=6>宁夏石化</b><img src=x onerror=window.__xss=7>",
}
NEAR = (38.49, 106.24)  # next to where the incident is placed, so every one of them is a top candidate


def seed_hostile_names(live) -> None:
    """Create the records through the API as enterprise-a's admin, as an attacker with that account would."""
    s = requests.Session()
    res = s.post(live.url + "/api/v1/tokens", json={"username": "enterprise-a", "password": PASSWORD}, timeout=10)
    assert res.status_code == 201, res.text
    s.headers["Authorization"] = "Bearer " + res.json()["token"]

    def post(path, body):
        res = s.request(
            "PATCH" if path.startswith("/enterprises/") else "POST", live.url + "/api/v1" + path, json=body, timeout=10
        )
        assert res.status_code in (200, 201), (path, res.status_code, res.text)
        return res.json()

    lat, lon = NEAR
    enterprise = s.get(live.url + "/api/v1/enterprises", timeout=10).json()["items"][0]
    post(f"/enterprises/{enterprise['id']}", {"name": HOSTILE["enterprise"]})
    team = post(
        "/teams",
        {
            "name": HOSTILE["team"],
            "level": "county",
            "team_type": "hazmat",
            "lat": lat,
            "lon": lon,
            "capabilities": ["hazmat_leak_control"],
            "headcount": 12,
            "turnout_min": 0,
            "commander_phone": "13951001234",
        },
    )
    post(
        "/experts",
        # on site only, so it is ranked with a route on the map (a remote consultant has none)
        {
            "name": HOSTILE["expert"],
            "fields": ["gas_detection"],
            "phone": "13951004321",
            "lat": lat,
            "lon": lon,
            "remote_ok": False,
        },
    )
    post("/equipment", {"name": HOSTILE["equipment"], "capabilities": ["gas_detection"], "quantity": 4, "team_id": team["id"]})
    depot = post(
        "/depots", {"name": HOSTILE["depot"], "level": "county", "lat": lat, "lon": lon, "contact_phone": "0951-5012345"}
    )
    post("/supplies", {"code": "2010101", "name": HOSTILE["supply"], "unit": "套", "quantity": 40, "depot_id": depot["id"]})


# every map layer with a tooltip: a stable key (kind and position) and where it is drawn on screen
LAYERS_JS = """() => {
  const m = window.rescueMap, size = m.getSize(), out = [];
  m.eachLayer((l) => {
    if (!l.getTooltip || !l.getTooltip()) return;
    let ll = l.getLatLng ? l.getLatLng() : null;
    if (!ll && l.getLatLngs) { const pts = l.getLatLngs().flat(3); ll = pts[Math.floor(pts.length / 2)]; }
    if (!ll) return;
    const p = m.latLngToContainerPoint(ll);
    if (p.x < 2 || p.y < 2 || p.x > size.x - 2 || p.y > size.y - 2) return;
    const kind = l instanceof L.Polyline ? "line" : "point";
    out.push({key: `${kind}:${ll.lat.toFixed(5)},${ll.lng.toFixed(5)}`, x: p.x, y: p.y});
  });
  return out;
}"""

# open every tooltip once (overlapping markers hide each other from the mouse) and return what it shows as text
TOOLTIP_TEXTS_JS = """() => {
  const texts = [];
  window.rescueMap.eachLayer((l) => {
    if (!l.getTooltip || !l.getTooltip()) return;
    l.openTooltip();
    const node = l.getTooltip().getElement();
    texts.push(node ? node.textContent : "");
    l.closeTooltip();
  });
  return texts;
}"""


def hover_and_click_every_layer(page, *, click: bool = True) -> int:
    """Move the real mouse over every layer with a tooltip, then click each (the map may move after a click)."""
    box = page.locator("#map").bounding_box()
    layers = page.evaluate(LAYERS_JS)
    assert layers, "no map layers with tooltips"
    for layer in layers:
        page.mouse.move(box["x"] + layer["x"], box["y"] + layer["y"])
        page.wait_for_timeout(15)
    if not click:
        return len(layers)
    clicked: set[str] = set()
    for _ in range(400):  # bounded: positions are recomputed after every click
        todo = [layer for layer in page.evaluate(LAYERS_JS) if layer["key"] not in clicked]
        if not todo:
            break
        layer = todo[0]
        clicked.add(layer["key"])
        page.mouse.move(box["x"] + layer["x"], box["y"] + layer["y"])
        page.mouse.click(box["x"] + layer["x"], box["y"] + layer["y"])
        page.wait_for_timeout(30)
    return len(clicked)


def assert_nothing_ran(page) -> None:
    assert page.evaluate("() => window.__xss") is None
    assert not page.dialogs, page.dialogs
    assert not page.js_errors, page.js_errors


def test_hostile_names_stay_text_on_the_console_and_coverage_maps(page, live):
    violations = _collect_violations(page)  # candidates, routes and coverage drawn under the CSP too
    seed_hostile_names(live)
    login(page, live, "dispatcher")
    page.wait_for_function("() => document.querySelectorAll('#type option').length > 1")
    page.wait_for_load_state("networkidle")

    # an incident placed next to the records: they become candidates with routes and start markers on the map
    click_map_at(page, *YINCHUAN)
    page.select_option("#type", "chem_toxic_gas_leak")
    page.select_option("#level", "larger")
    page.click("#create-incident")
    page.wait_for_selector("#candidates tr.candidate", timeout=30_000)
    page.wait_for_selector("path.route")
    candidates = page.inner_text("#candidates")
    for what in ("team", "equipment", "supply", "enterprise"):
        assert HOSTILE[what] in candidates, (what, candidates[:3000])

    # the coverage overlay on the same map, for the hostile team's capability
    page.select_option("#coverage-capability", "hazmat_leak_control")
    page.fill("#coverage-minutes", "60")
    page.click("#coverage-form button[type=submit]")
    page.wait_for_function("() => /个地点/.test(document.getElementById('coverage-summary').textContent)", timeout=30_000)

    assert page.locator("path.route").count() >= 5
    touched = hover_and_click_every_layer(page)
    assert touched >= 20, touched
    texts = page.evaluate(TOOLTIP_TEXTS_JS)
    shot(page, "hostile-names-console", full_page=False)
    assert_nothing_ran(page)

    # a second incident (made through the API) asks for an expert on site: the hostile expert is a candidate
    token = requests.post(live.url + "/api/v1/tokens", json={"username": "dispatcher", "password": PASSWORD}, timeout=10)
    res = requests.post(
        live.url + "/api/v1/incidents",
        timeout=10,
        headers={"Authorization": "Bearer " + token.json()["token"]},
        json={
            "type": "chem_toxic_gas_leak",
            "level": "larger",
            "lat": NEAR[0] + 0.004,
            "lon": NEAR[1] + 0.004,
            "needs": [
                {"capability": "hazmat_leak_control", "quantity": 1},
                {"capability": "gas_detection", "quantity": 1, "unit": "person"},
                {"supply_code": "2010101", "quantity": 5},
            ],
        },
    )
    assert res.status_code == 201, res.text
    page.wait_for_selector(f"#incident-list li[data-id='{res.json()['id']}'] button", timeout=30_000)
    page.click(f"#incident-list li[data-id='{res.json()['id']}'] button")
    page.wait_for_function("() => /张专家/.test(document.getElementById('candidates').textContent)", timeout=30_000)
    candidates = page.inner_text("#candidates")
    for what in ("team", "expert", "supply", "enterprise"):
        assert HOSTILE[what] in candidates, (what, candidates[:3000])
    hover_and_click_every_layer(page)
    texts += page.evaluate(TOOLTIP_TEXTS_JS)
    joined = "\n".join(texts)
    for what in ("team", "expert", "equipment", "supply"):
        assert HOSTILE[what] in joined, (what, joined[:3000])
    assert_nothing_ran(page)

    # the regulator's coverage page: the covering resource is named, as text
    page.goto(live.url + "/regulator/coverage")
    page.wait_for_function("() => document.querySelectorAll('#coverage-capability option').length > 1")
    page.select_option("#coverage-capability", "hazmat_leak_control")
    page.fill("#coverage-minutes", "20")
    page.click("#coverage-form button[type=submit]")
    page.wait_for_function("() => /个地点/.test(document.getElementById('coverage-summary').textContent)", timeout=30_000)
    hover_and_click_every_layer(page)
    texts = page.evaluate(TOOLTIP_TEXTS_JS)
    assert any(HOSTILE["team"] in t for t in texts), texts
    shot(page, "hostile-names-coverage", full_page=False)
    assert_nothing_ran(page)
    assert not page.evaluate("() => window.__csp || []")

    # the enterprise's own portal lists show them as text as well
    context = page.context
    context.clear_cookies()
    login(page, live, "enterprise-a")
    for path, what in (("/portal/teams", "team"), ("/portal/depots", "depot"), ("/portal/experts", "expert")):
        page.goto(live.url + path)
        assert HOSTILE[what] in page.inner_text("main"), (path, page.inner_text("main")[:2000])
    assert_nothing_ran(page)
    assert not violations, violations


def _collect_violations(page) -> list[str]:
    page.violations = []
    page.on(
        "console",
        lambda msg: page.violations.append(msg.text) if msg.type == "error" and "Content Security Policy" in msg.text else None,
    )
    page.context.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => "
        "{ (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI); });"
    )
    return page.violations


def _visit(page, url: str, ready: str | None = None) -> None:
    res = page.goto(url)
    assert res.status == 200, (url, res.status)
    assert "script-src 'self'" in (res.headers.get("content-security-policy") or ""), (url, res.headers)
    page.wait_for_load_state("networkidle")
    if ready:
        page.wait_for_function(ready, timeout=30_000)
    caught = page.evaluate("() => window.__csp || []")
    assert not caught, (url, caught)


ROLE_PAGES = {
    "dispatcher": [
        ("/console/", "() => document.querySelectorAll('#type option').length > 1"),
        ("/console/closures", None),
        ("/console/replies", None),
        ("/console/drills", None),
    ],
    "enterprise-a": [
        ("/portal/", None),
        ("/portal/teams", None),
        ("/portal/teams/new", None),
        ("/portal/cards", None),
        ("/portal/drills", None),
    ],
    "regulator": [
        ("/regulator/compliance", None),
        ("/regulator/stale", None),
        ("/regulator/audit", None),
        ("/regulator/coverage", "() => document.querySelectorAll('#coverage-capability option').length > 1"),
    ],
}


@pytest.mark.parametrize("username", list(ROLE_PAGES))
def test_main_pages_of_each_role_run_without_csp_violations(page, live, username):
    violations = _collect_violations(page)
    _visit(page, live.url + "/login")
    login(page, live, username)
    for path, ready in ROLE_PAGES[username]:
        _visit(page, live.url + path, ready)
    assert not violations, violations
    assert not page.js_errors, page.js_errors
    assert not page.dialogs, page.dialogs


def test_api_docs_render_under_the_csp(page, live):
    violations = _collect_violations(page)
    _visit(page, live.url + "/api/v1/docs", "() => !!document.querySelector('.swagger-ui .info .title')")
    assert re.search(r"宁夏|API", page.inner_text(".swagger-ui .info .title"))
    # the operations were read from openapi.json (OpenAPI 3.1, which needs Swagger UI 5) and drawn, grouped by tag
    page.wait_for_function("() => document.querySelectorAll('.opblock-tag').length >= 2")
    page.click("#operations-tag-incidents")  # tags are listed closed; one opens to its operations
    page.wait_for_selector(".opblock")
    assert not violations, violations
    assert not page.js_errors, page.js_errors


def test_a_deleting_form_still_asks_for_confirmation(page, live):
    """The portal's delete button used an inline onsubmit handler; the confirmation now comes from a static script."""
    login(page, live, "enterprise-a")
    page.goto(live.url + "/portal/teams")
    page.locator("main a[href*='/edit']").first.click()
    page.wait_for_load_state("networkidle")
    url = page.url
    page.click("form[action*='delete'] button[type=submit]")
    page.wait_for_selector("dialog.confirm-dialog[open]")
    assert "删除" in page.inner_text("dialog.confirm-dialog")
    page.click("dialog.confirm-dialog [data-confirm-cancel]")
    page.wait_for_timeout(300)
    assert page.url == url  # dismissed: nothing was deleted, no navigation
