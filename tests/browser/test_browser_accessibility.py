"""axe-core on the main pages of each role: no serious or critical violations, one h1, a main landmark, labelled
table headers (axe-core is vendored under tests/browser/vendor, so a fresh machine needs no network)."""

import json
from pathlib import Path

import pytest

from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
MODERATE_RULES = {
    "page-has-heading-one",
    "landmark-one-main",
    "empty-table-header",
    "th-has-data-cells",
    "heading-order",
    "region",
    "landmark-unique",
}
PAGES = {
    "dispatcher": ["/console/", "/console/closures", "/console/replies", "/console/drills"],
    "regulator": [
        "/regulator/compliance",
        "/regulator/stale",
        "/regulator/audit",
        "/regulator/coverage",
        "/",
        "/data-quality/far-from-roads",
    ],
    "enterprise-a": [
        "/portal/",
        "/portal/teams",
        "/portal/teams/new",
        "/portal/cards",
        "/portal/drills",
        "/data-quality/far-from-roads",
    ],
}


def axe_violations(page) -> list[dict]:
    # evaluated through DevTools, not a <script> tag: the page's CSP allows no inline script
    page.evaluate(AXE)
    result = page.evaluate("() => axe.run(document, { resultTypes: ['violations'] })")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:5]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical") or v["id"] in MODERATE_RULES
    ]


@pytest.mark.parametrize("username", sorted(PAGES))
def test_main_pages_pass_axe(page, live, username):
    login(page, live, username)
    found = {}
    for path in PAGES[username]:
        page.goto(live.url + path)
        page.wait_for_load_state("networkidle")
        violations = axe_violations(page)
        if violations:
            found[path] = violations
        assert page.locator("h1").count() == 1, path
        assert page.locator("main").count() == 1, path
    shot(page, f"axe-{username}")
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


def test_console_with_candidates_and_assignments_passes_axe(page, live):
    from tests.browser.test_browser_ui_pass import new_incident

    incident_id, _ = new_incident(live, dispatch=True)
    login(page, live, "dispatcher")
    page.goto(f"{live.url}/console/?incident={incident_id}")
    page.wait_for_selector("#candidates tr.candidate", timeout=30_000)
    page.wait_for_selector("#assignments tr.assignment")
    violations = axe_violations(page)
    shot(page, "axe-console-incident", full_page=False)
    assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)
    page.goto(f"{live.url}/console/incidents/{incident_id}/record")
    assert not axe_violations(page)
