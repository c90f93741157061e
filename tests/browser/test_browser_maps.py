"""The offline maps in a real browser: place names that never overlap, and the road network under a responder's route."""

import re

import pytest

from tests.browser.conftest import TIMEOUT_MS, login, shot

pytestmark = pytest.mark.browser
NINGDONG = (38.1, 106.61)

# every written place name with its box on screen: open tooltips, less those fading out (Leaflet removes a closed
# tooltip 200 ms after setting its opacity to 0)
LABEL_BOXES = """() => [...document.querySelectorAll('.leaflet-tooltip.place-label')]
  .filter((e) => e.style.opacity !== '0').map((e) => {
  const r = e.getBoundingClientRect();
  return { name: e.textContent, full: e.querySelector('[data-name]')?.dataset.name || '', kind: e.classList[2] || '',
           left: r.left, top: r.top, right: r.right, bottom: r.bottom };
})"""


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of names whose boxes share any area (touching edges do not count)."""
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]:
                pairs.append((a["name"], b["name"]))
    return pairs


def settle(page, zoom: float, center: tuple[float, float] | None = None) -> list[dict]:
    """Move the console's map and return the names written once the zoom has ended and the labels were placed."""
    page.evaluate(
        """([zoom, center]) => new Promise((done) => {
             const map = window.rescueMap;
             if (map.getZoom() === zoom && !center) return done();
             map.once('zoomend', () => setTimeout(done, 300));
             if (center) map.setView(center, zoom, { animate: false }); else map.setZoom(zoom, { animate: false });
           })""",
        [zoom, list(center) if center else None],
    )
    return page.evaluate(LABEL_BOXES)


def test_place_names_never_overlap_and_key_sites_are_named_first(page, live):
    login(page, live, "dispatcher")
    page.wait_for_function("() => document.querySelectorAll('.place-label.key_site').length > 0")
    page.wait_for_timeout(300)
    places = page.evaluate("() => fetch('/api/v1/places?limit=500').then((r) => r.json())")["items"]
    sites = {p["name"] for p in places if p["kind"] == "key_site"}
    cities = {p["name"] for p in places if p["kind"] == "prefecture_city"}

    boxes = page.evaluate(LABEL_BOXES)  # the default view: all of Ningxia
    assert not overlapping(boxes), overlapping(boxes)
    written = {b["full"] for b in boxes}
    assert cities <= written  # the five cities for orientation
    named_sites = written & sites
    assert len(named_sites) >= len(sites) // 2, sorted(sites - named_sites)
    assert "宁东能源化工基地(宁东镇/管委会)" in named_sites
    # at this scale a key site is written short, without its bracketed details
    assert "宁东能源化工基地" in {b["name"] for b in boxes}
    shot(page, "map-labels-default", full_page=False)

    for zoom in (7, 8, 8.5, 9, 9.5, 10, 11, 12):
        boxes = settle(page, zoom, NINGDONG)
        assert not overlapping(boxes), (zoom, overlapping(boxes))
        # the first key site keeps its name at every zoom: the towns and county seats beside it give way, not it
        assert "宁东能源化工基地(宁东镇/管委会)" in {b["full"] for b in boxes}, zoom

    # close in, every key site inside the map is named in full
    boxes = settle(page, 11, NINGDONG)
    inside = page.evaluate(
        """(names) => { const map = window.rescueMap, size = map.getSize();
             return names.filter(([, lat, lon]) => { const p = map.latLngToContainerPoint([lat, lon]);
               return p.x > 0 && p.y > 0 && p.x < size.x && p.y < size.y; }).map(([name]) => name); }""",
        [[p["name"], p["lat"], p["lon"]] for p in places if p["kind"] == "key_site"],
    )
    assert len(inside) >= 3
    assert set(inside) <= {b["name"] for b in boxes}
    shot(page, "map-labels-ningdong", full_page=False)
    assert not page.js_errors, page.js_errors


def test_responder_map_draws_the_road_network(browser, live_factory):
    from tests.browser.test_browser_ui_pass import new_incident

    live = live_factory(RESPONDER_LINKS=True)
    _, messages = new_incident(live, dispatch=True)
    link = next(m for m in (re.search(r"https?://\S+/r/[\w-]+", x.get("text", "")) for x in messages) if m).group(0)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    phone = context.new_page()
    errors, console = [], []
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    phone.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    try:
        with phone.expect_response(lambda r: r.url.endswith("/roads.geojson")) as roads:
            phone.goto(link)
        assert roads.value.status == 200 and roads.value.url == link + "/roads.geojson"
        assert roads.value.headers.get("content-encoding") == "gzip"
        phone.wait_for_selector("#route-map .leaflet-roads-pane canvas")
        # the road lines are painted on their own canvas, under the route (an SVG in the overlay pane)
        painted = """() => { const c = document.querySelector('#route-map .leaflet-roads-pane canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""
        phone.wait_for_function(f"() => ({painted})() > 500")
        assert phone.locator("#route-map .leaflet-overlay-pane path").count() >= 1  # the route itself
        shot(phone, "responder-roads", full_page=False)
        assert not errors, errors
        assert not console, console  # no CSP refusal, no failed request
    finally:
        context.close()
