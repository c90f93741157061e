"""Settings are validated at start-up with clear messages."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rescue.config import ConfigError
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[1]


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
        make_app(url, tmp_path, DEMO=False, SECRET_KEY="a-real-secret", TEST_INSTALLATION=True)


def test_public_url_follows_the_port_unless_set(tmp_path, monkeypatch):
    monkeypatch.setenv("RESCUE_PORT", "5077")
    app = make_app(f"sqlite:///{tmp_path}/x.sqlite", tmp_path)
    assert app.config["PUBLIC_URL"] == "http://127.0.0.1:5077"
    monkeypatch.setenv("RESCUE_PUBLIC_URL", "https://yingji.example.cn")
    app = make_app(f"sqlite:///{tmp_path}/y.sqlite", tmp_path)
    assert app.config["PUBLIC_URL"] == "https://yingji.example.cn"


def _flask(*args, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESCUE_")} | {"RESCUE_INSTANCE_PATH": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_commands_without_settings_say_what_is_missing_in_one_line(tmp_path):
    listing = _flask("--help", tmp_path=tmp_path)
    assert listing.returncode == 0 and "Traceback" not in listing.stderr
    assert {"db", "seed", "worker", "roads", "coverage-map"} <= {
        line.split()[0] for line in listing.stdout.split("Commands:")[1].splitlines() if line.strip()
    }
    for command in (["seed"], ["db", "upgrade"], ["worker", "--once"], ["run"]):
        result = _flask(*command, tmp_path=tmp_path)
        assert result.returncode != 0, command
        assert "Traceback" not in result.stderr, result.stderr
        assert "RESCUE_SECRET_KEY" in result.stderr, (command, result.stderr)


def test_aliyun_settings_are_validated_at_start_up(tmp_path):
    from contacts.templating import sms_kinds

    base = {
        "SMS_BACKEND": "aliyun",
        "ALIYUN_ACCESS_KEY_ID": "LTAIdemo",
        "ALIYUN_ACCESS_KEY_SECRET": "secret",
        "ALIYUN_SMS_SIGN_NAME": "宁夏应急",
        "ALIYUN_CALLBACK_TOKEN": "tok",
        "ALIYUN_SMS_URL": "http://127.0.0.1:9",
    }
    codes = {kind: f"SMS_{i:06d}" for i, kind in enumerate(sms_kinds())}
    missing = dict(codes)
    missing.pop("dispatch")
    with pytest.raises(ConfigError, match="dispatch"):  # a kind that can be sent has no template: refuse to start
        make_app(f"sqlite:///{tmp_path}/a.sqlite", tmp_path, **base, ALIYUN_SMS_TEMPLATES=missing)
    with pytest.raises(ConfigError, match="RESCUE_VOICE_BACKEND=aliyun"):
        make_app(f"sqlite:///{tmp_path}/b.sqlite", tmp_path, **base, ALIYUN_SMS_TEMPLATES=codes, VOICE_BACKEND="aliyun")
    app = make_app(
        f"sqlite:///{tmp_path}/c.sqlite", tmp_path, **base, ALIYUN_SMS_TEMPLATES=",".join(f"{k}={v}" for k, v in codes.items())
    )
    assert app.extensions["sms_gateway"].name == "aliyun"
    assert app.extensions["voice_gateway"].name == "none"


def test_console_backend_refused_outside_demo_mode_unless_a_test_installation(tmp_path):
    with pytest.raises(ConfigError, match="RESCUE_SMS_BACKEND=console"):
        make_app(f"sqlite:///{tmp_path}/a.sqlite", tmp_path, DEMO=False, SECRET_KEY="a-real-secret")
    with pytest.raises(ConfigError, match="RESCUE_VOICE_BACKEND=console"):
        make_app(f"sqlite:///{tmp_path}/b.sqlite", tmp_path, DEMO=False, SECRET_KEY="a-real-secret", VOICE_BACKEND="console")
    app = make_app(f"sqlite:///{tmp_path}/c.sqlite", tmp_path, DEMO=False, SECRET_KEY="a-real-secret", TEST_INSTALLATION=True)
    assert app.config["SMS_BACKEND"] == "console"
