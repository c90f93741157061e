"""Settings are validated at start-up with clear messages."""

import pytest

from rescue.config import ConfigError
from tests.conftest import make_app


def test_twilio_without_credentials_fails_fast(tmp_path):
    with pytest.raises(ConfigError, match="RESCUE_TWILIO_ACCOUNT_SID"):
        make_app(f"sqlite:///{tmp_path}/x.sqlite", tmp_path, SMS_BACKEND="twilio")


def test_production_needs_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="RESCUE_SECRET_KEY"):
        make_app(f"sqlite:///{tmp_path}/x.sqlite", tmp_path, DEMO=False, SECRET_KEY=None)


def test_environment_variables_are_read_and_bad_ones_named(tmp_path, monkeypatch):
    monkeypatch.setenv("RESCUE_FRESHNESS_DAYS", "30")
    app = make_app(f"sqlite:///{tmp_path}/x.sqlite", tmp_path)
    assert app.config["FRESHNESS_DAYS"] == 30
    monkeypatch.setenv("RESCUE_FRESHNESS_DAYS", "thirty")
    with pytest.raises(ConfigError, match="RESCUE_FRESHNESS_DAYS"):
        make_app(f"sqlite:///{tmp_path}/y.sqlite", tmp_path)


def test_demo_accounts_refused_outside_demo_mode(templates, backend, tmp_path):
    url = templates.copy(backend, seeded=True)
    with pytest.raises(ConfigError, match="演示账号"):
        make_app(url, tmp_path, DEMO=False, SECRET_KEY="a-real-secret")
