"""The dispatcher opens the demo's past incident in the console: read-only, its timeline dated, its counters."""

import pytest

from tests.browser.conftest import Live, login, shot

pytestmark = pytest.mark.browser


def test_the_past_incident_opens_read_only_with_its_dated_timeline(page, templates, tmp_path):
    live = Live(templates.copy("sqlite", seeded=True, past_incident=True), tmp_path / "live")
    try:
        login(page, live, "dispatcher")
        item = page.locator("#closed-list [data-incident]")
        assert item.count() == 1 and "有毒有害气体泄漏" in item.inner_text()
        item.click()
        page.wait_for_selector("#timeline li.kind-closed")
        assert "/console/" in page.url and "?incident" not in page.url  # opened in place
        assert "结案" in page.locator("#incident-meta").inner_text()
        assert "不再调派" in page.locator("#candidates").inner_text()
        assert page.locator("#dispatch-button").is_hidden() and page.locator("#plan-button").is_hidden()
        page.wait_for_selector("#assignments tr.assignment")
        counts = page.locator("#assignment-counts").inner_text()
        # the declined team is the sixth; the expert consulted by phone was released without coming to the scene
        assert "已接受 5 / 6" in counts and "途中 4 / 6" in counts and "到场 4 / 6" in counts, counts
        assert all(s.is_disabled() for s in page.locator("#assignments select").all())  # history is not corrected
        newest = page.locator("#timeline li time").first.inner_text()
        assert newest.endswith("16:52:00") and newest[:4].isdigit() and "-" in newest  # dated: not today's
        assert page.locator("#closed-list li.selected").count() == 1
        shot(page, "console-past-incident", full_page=False)
        assert page.js_errors == []
    finally:
        live.stop()
