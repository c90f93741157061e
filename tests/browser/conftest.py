"""Browser fixtures: the app served by a real server on 127.0.0.1, headless Debian Chromium driven by Playwright."""

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from contacts.standins.twilio import FakeTwilio
from tests.conftest import make_app

CHROMIUM = os.environ.get("RESCUE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "ningxia-demo"
TIMEOUT_MS = 15_000

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.exit(f"Chromium not found at {CHROMIUM} (set RESCUE_TEST_CHROMIUM)", returncode=3)
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=30_000)
        yield browser
        browser.close()


class Live:
    """The app behind a werkzeug server in a thread; the port is known before the app is built (webhook URLs)."""

    def __init__(self, url_for_db: str, tmp_path: Path, **config):
        self.app = None
        self.server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.app = make_app(url_for_db, tmp_path, PUBLIC_URL=self.url, WTF_CSRF_ENABLED=True, **config)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def _wsgi(self, environ, start_response):
        return self.app(environ, start_response)

    def session(self):
        return self.app.extensions["db"].session_factory()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        self.app.extensions["db"].engine.dispose()


@pytest.fixture
def fake_twilio():
    with FakeTwilio() as fake:
        yield fake


def twilio_config(fake) -> dict:
    return {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM": "+15005550006",
        "TWILIO_BASE_URL": fake.base_url,
        "TWILIO_TIMEOUT_S": 2,
    }


@pytest.fixture
def live_factory(templates, tmp_path):
    """live_factory(backend="sqlite", **config): a served app on a fresh copy of the seeded database."""
    started = []

    def start(backend="sqlite", **config):
        live = Live(templates.copy(backend, seeded=True), tmp_path / f"live{len(started)}", **config)
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture
def live(live_factory):
    return live_factory()


@pytest.fixture
def page(browser, request):
    """A fresh browser context and page; JavaScript errors fail the test, dialogs are recorded and dismissed."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    pg.js_errors = []
    pg.dialogs = []
    pg.on("pageerror", lambda exc: pg.js_errors.append(str(exc)))

    def on_dialog(dialog):
        pg.dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    yield pg
    context.close()


def login(page, live, username: str):
    page.goto(live.url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, page.content()[:2000]


def shot(page, name: str, *, full_page: bool = True) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
