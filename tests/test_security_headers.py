"""Security headers on every kind of response, the session cookie's Secure flag, and templates free of inline code."""

import re
from pathlib import Path

import pytest

from tests.conftest import make_app

TEMPLATES = Path(__file__).resolve().parents[1] / "rescue" / "templates"


@pytest.fixture
def make(templates, tmp_path):
    """make(**config): an app on a seeded SQLite copy; engines are disposed at the end."""
    made = []

    def build(**config):
        app = make_app(templates.copy("sqlite", seeded=True), tmp_path / f"app{len(made)}", **config)
        made.append(app)
        return app

    yield build
    for app in made:
        app.extensions["db"].engine.dispose()


def csp_directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_secure_headers(res, *, tile_host: str | None = None) -> None:
    assert res.headers.get("X-Content-Type-Options") == "nosniff"
    assert res.headers.get("X-Frame-Options") == "DENY"
    assert res.headers.get("Referrer-Policy") in {"same-origin", "strict-origin-when-cross-origin", "no-referrer"}
    csp = csp_directives(res.headers.get("Content-Security-Policy", ""))
    assert csp.get("default-src") == ["'self'"]
    assert csp.get("script-src") == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no other host
    assert csp.get("style-src") == ["'self'"]
    assert csp.get("object-src") == ["'none'"]
    assert csp.get("frame-ancestors") == ["'none'"]
    assert csp.get("base-uri") == ["'self'"]
    assert csp.get("form-action") == ["'self'"]
    img = csp.get("img-src", [])
    assert "'self'" in img and "data:" in img
    assert "*" not in img and "http:" not in img and "https:" not in img
    if tile_host:
        assert tile_host in img


def test_headers_on_html_json_static_and_error_responses(make):
    app = make()
    client = app.test_client()
    login = client.get("/login")
    assert login.status_code == 200 and login.mimetype == "text/html"
    assert_secure_headers(login)
    token = client.post("/api/v1/tokens", json={"username": "dispatcher", "password": "ningxia-demo"})
    assert token.status_code == 201
    assert_secure_headers(token)
    teams = client.get("/api/v1/teams?limit=1", headers={"Authorization": f"Bearer {token.json['token']}"})
    assert teams.status_code == 200 and teams.is_json
    assert_secure_headers(teams)
    static = client.get("/static/js/api.js")
    assert static.status_code == 200
    assert_secure_headers(static)
    static.close()
    assert_secure_headers(client.get("/api/v1/teams"))  # 401
    assert_secure_headers(client.get("/no-such-page"))  # 404
    assert_secure_headers(client.get("/health"))
    assert_secure_headers(client.get("/api/v1/docs"))


def test_the_tile_server_is_allowed_for_images_only(make):
    app = make(MAP_TILE_URL="https://tiles.example.cn/{z}/{x}/{y}.png")
    res = app.test_client().get("/login")
    assert_secure_headers(res, tile_host="https://tiles.example.cn")
    csp = csp_directives(res.headers["Content-Security-Policy"])
    assert "https://tiles.example.cn" not in csp["script-src"] + csp["style-src"] + csp.get("connect-src", [])


def _session_cookie(res) -> str:
    cookies = [c for c in res.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, res.headers
    return cookies[-1]


@pytest.mark.parametrize(("public_url", "secure"), [("https://rescue.example.cn", True), ("http://127.0.0.1:5000", False)])
def test_session_cookie_is_secure_when_the_public_url_is_https(make, public_url, secure):
    app = make(PUBLIC_URL=public_url, WTF_CSRF_ENABLED=False)
    res = app.test_client().post("/login", data={"username": "dispatcher", "password": "ningxia-demo"})
    assert res.status_code == 302
    flags = [f.strip().lower() for f in _session_cookie(res).split(";")]
    assert ("secure" in flags) is secure
    assert "httponly" in flags


def test_secure_cookie_can_be_asked_for_behind_a_plain_http_public_url(make):
    app = make(PUBLIC_URL="http://127.0.0.1:5000", SESSION_COOKIE_SECURE="1", WTF_CSRF_ENABLED=False)
    res = app.test_client().post("/login", data={"username": "dispatcher", "password": "ningxia-demo"})
    assert "secure" in [f.strip().lower() for f in _session_cookie(res).split(";")]


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style", re.I), "<style> element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_templates_have_no_inline_code_or_styles():
    found = []
    files = sorted(TEMPLATES.rglob("*.html"))
    assert len(files) >= 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            found += [f"{path.relative_to(TEMPLATES)}: {what}: {m.group(0)!r}" for m in pattern.finditer(text)]
    assert not found, "\n".join(found)


def test_the_api_docs_page_has_no_inline_script(make):
    body = make().test_client().get("/api/v1/docs").get_data(as_text=True)
    assert "SwaggerUIBundle" not in body
    assert not INLINE[0][0].search(body), body


SCRIPTS = Path(__file__).resolve().parents[1] / "rescue" / "static" / "js"
HTML_SINKS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|setAttribute\(\s*[\"']style|\beval\(|new Function\("
)
# Leaflet parses a string given as tooltip or popup content as HTML: content must be built by textTip (DOM text)
LEAFLET_SINKS = re.compile(
    r"\.(bindTooltip|bindPopup|setTooltipContent|setPopupContent|setContent)\(\s*(?!textTip\(|coverageTip\()"
)


def test_page_scripts_never_parse_data_as_html():
    found = []
    files = sorted(SCRIPTS.glob("*.js"))
    assert len(files) >= 6
    for path in files:
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for pattern in (HTML_SINKS, LEAFLET_SINKS):
                found += [f"{path.name}:{no}: {line.strip()}" for _ in pattern.finditer(line)]
    assert not found, "\n".join(found)
