"""Settings: defaults, then RESCUE_* environment variables, then test overrides; validated at start-up."""

import os
from pathlib import Path

DEFAULTS = {
    "DATABASE_URL": None,  # None: SQLite file in the instance folder
    "SECRET_KEY": None,
    "DEMO": False,
    "PORT": 5000,
    # Ningxia with a margin (the OSM backbone clip): south, west, north, east
    "SERVICE_AREA": (34.8, 103.6, 39.9, 108.2),
    "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
    "TOKEN_TTL_HOURS": 12,
    "FRESHNESS_DAYS": 90,
    "AUTO_MIGRATE": False,
    "SEED_ON_START": False,
    "RUN_SCHEDULER": False,
    "SMS_BACKEND": "console",
    "SMS_SIGNATURE": "【宁夏应急】",
    "TWILIO_ACCOUNT_SID": None,
    "TWILIO_AUTH_TOKEN": None,
    "TWILIO_FROM": None,
    "TWILIO_MESSAGING_SERVICE_SID": None,
    "TWILIO_BASE_URL": None,
    "TWILIO_TIMEOUT_S": 10.0,
    "SMS_RATE_PER_S": 10.0,  # per sender; 0: no limit
    # Alibaba Cloud SMS and voice (RESCUE_SMS_BACKEND=aliyun / RESCUE_VOICE_BACKEND=aliyun); template codes per
    # message kind as JSON or "kind=code,kind=code" (kinds: contacts/templates/aliyun_*.json)
    "ALIYUN_ACCESS_KEY_ID": None,
    "ALIYUN_ACCESS_KEY_SECRET": None,
    "ALIYUN_SMS_SIGN_NAME": None,
    "ALIYUN_SMS_URL": None,  # None: the public endpoint
    "ALIYUN_SMS_TEMPLATES": None,
    "ALIYUN_CALLBACK_TOKEN": None,
    "ALIYUN_VOICE_URL": None,
    "ALIYUN_VOICE_TEMPLATES": None,
    "ALIYUN_VOICE_SHOW_NUMBER": None,
    # outside demo mode the console/fake backends (nothing reaches a phone) are refused unless this says the
    # installation is a test one
    "TEST_INSTALLATION": False,
    "VOICE_BACKEND": "none",  # none | console | twilio | aliyun; the embedded default uses console
    # on: the SMS carries a link to the responder page (instruction, route, buttons); set RESCUE_RESPONDER_LINKS=0
    # where carriers block links in SMS, the reply codes then remain the only way to answer
    "RESPONDER_LINKS": True,
    "COMMAND_PHONE": "",  # the command center: shown (tap to call) on the responder page, rung back by experts; e.g. 0951-5010100
    "RESPONDER_TTL_S": 24 * 3600,
    "IMPORT_MAX_ROWS": 5000,
    "UPLOAD_DIR": None,  # None: <instance>/uploads (emergency plan documents)
    "TRUSTED_PROXIES": 0,  # reverse proxies in front of the service whose X-Forwarded-For is believed
    "MAP_TILE_URL": "",  # optional tile layer; the map works offline without one
    "MAP_TILE_ATTRIBUTION": "",
    "CONSOLE_POLL_MS": 3000,
    "PUBLIC_URL": None,  # None: http://127.0.0.1:<PORT>, what webhook signatures, replies and QR codes use
    "ROADS_FILE": None,  # None: the active network in the instance folder, else the seeded Ningxia one
    # the default network is a backbone of major roads: the straight "off-road" leg to it stands for
    # unmapped county and local roads (30 km/h with a typical detour), and mining areas such as
    # 汝箕沟 lie 13 km from it
    "OFFROAD_KMH": 20.0,
    "MAX_OFFROAD_M": 15000.0,
}

DEMO_SECRET = "embedded-demo-only-not-secret"


class ConfigError(Exception):
    """The service cannot start with these settings."""


def _coerce(default, raw: str):
    """Read an environment string as the type of its default."""
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, tuple):
        return tuple(float(x) for x in raw.split(","))
    return raw


def load_config(app, test_config: dict | None = None) -> None:
    """Fill app.config in layers: defaults → RESCUE_* environment → test overrides."""
    for key, default in DEFAULTS.items():
        if app.config.get(key) is None:  # Flask pre-sets some keys (MAX_CONTENT_LENGTH) to None
            app.config[key] = default
    for key, raw in os.environ.items():
        if not key.startswith("RESCUE_"):
            continue
        name = key.removeprefix("RESCUE_")
        if name == "INSTANCE_PATH":
            continue
        try:
            app.config[name] = _coerce(DEFAULTS.get(name), raw) if name in DEFAULTS else raw
        except ValueError as exc:
            msg = f"环境变量 {key} 的值无效: {raw!r}"
            raise ConfigError(msg) from exc
    if test_config:
        app.config.update(test_config)
    if not app.config["PUBLIC_URL"]:
        app.config["PUBLIC_URL"] = f"http://127.0.0.1:{app.config['PORT']}"
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = "sqlite:///" + str(Path(app.instance_path) / "rescue.sqlite")
    if app.config["DEMO"] and not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = DEMO_SECRET
    validate_config(app.config)


def validate_config(config) -> None:
    """Fail fast, with every problem named, when settings cannot work together."""
    problems = []
    if not config.get("SECRET_KEY"):
        problems.append("RESCUE_SECRET_KEY 未设置 (非演示模式必须设置随机密钥)")
    elif not config["DEMO"] and config["SECRET_KEY"] == DEMO_SECRET:
        problems.append("RESCUE_SECRET_KEY 不能使用演示密钥")
    if not 0 <= int(config.get("TRUSTED_PROXIES") or 0) <= 5:
        problems.append("RESCUE_TRUSTED_PROXIES 应为 0–5 之间的整数 (服务前面的反向代理层数)")
    south, west, north, east = config["SERVICE_AREA"]
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        problems.append("RESCUE_SERVICE_AREA 应为 南,西,北,东 (纬度/经度)")
    if config["SMS_BACKEND"] == "twilio":
        if not (config["TWILIO_ACCOUNT_SID"] and config["TWILIO_AUTH_TOKEN"]):
            problems.append("短信后端 twilio 需要 RESCUE_TWILIO_ACCOUNT_SID 和 RESCUE_TWILIO_AUTH_TOKEN")
        if not (config["TWILIO_FROM"] or config["TWILIO_MESSAGING_SERVICE_SID"]):
            problems.append("短信后端 twilio 需要 RESCUE_TWILIO_FROM 或 RESCUE_TWILIO_MESSAGING_SERVICE_SID")
    if not config["DEMO"] and not config["TEST_INSTALLATION"]:
        for key in ("SMS_BACKEND", "VOICE_BACKEND"):
            if config.get(key) in {"console", "fake"}:
                problems.append(
                    f"RESCUE_{key}={config[key]} 不会发送到任何手机: 生产环境请配置真实网关, "
                    "测试环境请设置 RESCUE_TEST_INSTALLATION=1"
                )
    if problems:
        raise ConfigError("配置错误: " + "; ".join(problems))
