"""Repeated failed sign-ins are slowed down per user and per address, counted in the database (shared by every
worker): 429 with the wait in Chinese and Retry-After; the right password works again once the wait is over."""

from datetime import UTC, datetime, timedelta

import pytest

from rescue.accounts import throttle
from tests.pages.test_pages import PASSWORD, csrf_of


class Clock:
    def __init__(self):
        self.now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(app):
    clock = Clock()
    app.extensions["clock"] = clock
    return clock


def _token(client, username, password, addr="10.0.0.1"):
    return client.post("/api/v1/tokens", json={"username": username, "password": password}, environ_base={"REMOTE_ADDR": addr})


def test_api_sign_in_is_throttled_per_user(client, clock):
    for _ in range(throttle.USER_LIMIT):
        assert _token(client, "dispatcher", "wrong").status_code == 401
    locked = _token(client, "dispatcher", PASSWORD)  # even the right password waits: no guessing through the lock
    assert locked.status_code == 429
    assert locked.json["error"] == "too_many_requests"
    wait = int(locked.headers["Retry-After"])
    assert wait == int(throttle.LOCK.total_seconds())
    assert locked.json["retry_after"] == wait
    assert "登录失败次数过多" in locked.json["message"] and "5 分钟" in locked.json["message"]
    # another address does not help: the count is the user's
    assert _token(client, "dispatcher", PASSWORD, addr="10.0.0.2").status_code == 429
    clock.now += timedelta(seconds=wait - 60)
    res = _token(client, "dispatcher", PASSWORD)
    assert res.status_code == 429 and int(res.headers["Retry-After"]) == 60
    clock.now += timedelta(seconds=61)
    assert _token(client, "dispatcher", PASSWORD).status_code == 201
    # success clears the user's count: one more mistake is just a mistake
    assert _token(client, "dispatcher", "wrong").status_code == 401
    assert _token(client, "dispatcher", PASSWORD).status_code == 201


def test_sign_in_is_throttled_per_address_across_users(client, clock):
    names = [f"nobody-{i}" for i in range(throttle.ADDRESS_LIMIT)]
    for name in names:
        assert _token(client, name, "wrong", addr="10.9.9.9").status_code == 401
    assert _token(client, "regulator", PASSWORD, addr="10.9.9.9").status_code == 429
    assert _token(client, "regulator", PASSWORD, addr="10.9.9.8").status_code == 201
    clock.now += throttle.LOCK + timedelta(seconds=1)
    assert _token(client, "regulator", PASSWORD, addr="10.9.9.9").status_code == 201


def test_old_failures_are_forgotten(client, clock):
    for _ in range(throttle.USER_LIMIT - 1):
        assert _token(client, "regulator", "wrong").status_code == 401
    clock.now += throttle.WINDOW + timedelta(seconds=1)
    assert _token(client, "regulator", "wrong").status_code == 401
    assert _token(client, "regulator", PASSWORD).status_code == 201


def test_the_sign_in_page_is_throttled_with_a_chinese_message(client, clock):
    for _ in range(throttle.USER_LIMIT):
        token = csrf_of(client.get("/login").text)
        assert client.post("/login", data={"username": "regulator", "password": "x", "csrf_token": token}).status_code == 401
    token = csrf_of(client.get("/login").text)
    res = client.post("/login", data={"username": "regulator", "password": PASSWORD, "csrf_token": token})
    assert res.status_code == 429
    assert res.headers["Retry-After"] == str(int(throttle.LOCK.total_seconds()))
    assert "登录失败次数过多" in res.text and "5 分钟" in res.text
    clock.now += throttle.LOCK
    token = csrf_of(client.get("/login").text)
    res = client.post("/login", data={"username": "regulator", "password": PASSWORD, "csrf_token": token})
    assert res.status_code == 302


def test_the_count_is_kept_in_the_database(app, client, clock, tmp_path):
    """A second app on the same database (another gunicorn worker) sees the same lock."""
    from tests.conftest import make_app

    for _ in range(throttle.USER_LIMIT):
        _token(client, "dispatcher", "wrong")
    other = make_app(str(app.extensions["db"].engine.url.render_as_string(hide_password=False)), tmp_path / "w2")
    other.extensions["clock"] = clock
    try:
        assert _token(other.test_client(), "dispatcher", PASSWORD).status_code == 429
    finally:
        other.extensions["db"].engine.dispose()


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(app, client, clock):
    def attempt(forwarded):
        return client.post(
            "/api/v1/tokens",
            json={"username": f"nobody-{forwarded}", "password": "x"},
            headers={"X-Forwarded-For": forwarded},
            environ_base={"REMOTE_ADDR": "10.0.0.9"},
        )

    # no proxy configured: a client cannot pick a fresh bucket by sending its own header
    for i in range(throttle.ADDRESS_LIMIT):
        assert attempt(f"192.0.2.{i}").status_code == 401
    assert attempt("192.0.2.200").status_code == 429
    app.config["TRUSTED_PROXIES"] = 1  # behind one proxy the header's last entry is the client
    assert attempt("198.51.100.7, 192.0.2.201").status_code == 401
