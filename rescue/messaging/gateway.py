"""The SMS gateway and alert settings of the app, built from its configuration by the app factory."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from contacts import GatewayConfigError, InvalidSignatureError, SmsGateway, create_gateway, validate_signature
from contacts.voice import VoiceGateway, create_voice_gateway
from rescue.config import ConfigError

STATUS_PATH = "/sms/{backend}/status"
INBOUND_PATH = "/sms/{backend}/inbound"
VOICE_STATUS_PATH = "/voice/{backend}/status"
VOICE_GATHER_PATH = "/voice/{backend}/gather"


@dataclass(frozen=True)
class AlertSettings:
    """What services need to word and pace alerts, read once from the app config."""

    signature: str = "【宁夏应急】"
    # base URL of responder links (None: no link in the SMS, the default: carriers often block links)
    responder_base_url: str | None = None
    responder_ttl_s: int = 24 * 3600
    rate_per_s: float = 10.0
    # the short text of the response card for (session, enterprise_id=, incident_type=); the cards feature sits
    # above dispatch, so the app factory hands its lookup in here (None: dispatch SMS carry no card text)
    card_short: Callable[..., str] | None = field(default=None, compare=False)
    # the command center's number, for callers to ring back (RESCUE_COMMAND_PHONE; shown where a template has it)
    command_phone: str = ""
    # voice escalation: whether calls can be placed, whether the callee can answer 1/2, from which position of a
    # chain an unanswered SMS is followed by a call (None: never) and how long the call's answer is waited for
    voice_enabled: bool = False
    voice_keypress: bool = False
    voice_step: int | None = 0
    voice_timeout_s: int = 120


def _aliyun(config: Mapping, *, url_key: str, templates_key: str) -> dict:
    return {
        "access_key_id": config.get("ALIYUN_ACCESS_KEY_ID"),
        "access_key_secret": config.get("ALIYUN_ACCESS_KEY_SECRET"),
        "callback_token": config.get("ALIYUN_CALLBACK_TOKEN"),
        "templates": config.get(templates_key) or None,
        "base_url": config.get(url_key) or None,
    }


def gateway_config(config: Mapping) -> tuple[str, dict]:
    """The SMS backend name and its config dict, from RESCUE_* settings."""
    name = config["SMS_BACKEND"]
    public = (config.get("PUBLIC_URL") or "").rstrip("/")
    if name == "twilio":
        return name, {
            "account_sid": config["TWILIO_ACCOUNT_SID"],
            "auth_token": config["TWILIO_AUTH_TOKEN"],
            "from": config.get("TWILIO_FROM"),
            "messaging_service_sid": config.get("TWILIO_MESSAGING_SERVICE_SID"),
            "base_url": config.get("TWILIO_BASE_URL"),
            "timeout_s": float(config.get("TWILIO_TIMEOUT_S") or 10),
            "status_callback": public + STATUS_PATH.format(backend=name) if public else None,
        }
    if name == "aliyun":
        options = _aliyun(config, url_key="ALIYUN_SMS_URL", templates_key="ALIYUN_SMS_TEMPLATES")
        return name, options | {"sign_name": config.get("ALIYUN_SMS_SIGN_NAME")}
    # other backends take their keys from SMS_OPTIONS (a dict), e.g. another domestic provider's credentials
    return name, dict(config.get("SMS_OPTIONS") or {})


def voice_config(config: Mapping) -> tuple[str, dict]:
    """The voice backend name and its config dict, from RESCUE_* settings."""
    name = config["VOICE_BACKEND"]
    public = (config.get("PUBLIC_URL") or "").rstrip("/")
    if name == "twilio":
        return name, {
            "account_sid": config["TWILIO_ACCOUNT_SID"],
            "auth_token": config["TWILIO_AUTH_TOKEN"],
            "from": config.get("TWILIO_FROM"),
            "base_url": config.get("TWILIO_BASE_URL"),
            "timeout_s": float(config.get("TWILIO_TIMEOUT_S") or 10),
            "status_callback": public + VOICE_STATUS_PATH.format(backend=name) if public else None,
            "gather_callback": public + VOICE_GATHER_PATH.format(backend=name) if public else None,
        }
    if name == "aliyun":
        options = _aliyun(config, url_key="ALIYUN_VOICE_URL", templates_key="ALIYUN_VOICE_TEMPLATES")
        return name, options | {"show_number": config.get("ALIYUN_VOICE_SHOW_NUMBER") or None}
    return name, dict(config.get("VOICE_OPTIONS") or {})


def voice_step(config: Mapping) -> int | None:
    """RESCUE_VOICE_CALL_STEP: a chain position (0: from the first person on), or "off"/"none" for no calls."""
    raw = _setting(config, "VOICE_CALL_STEP", 0)
    if isinstance(raw, str) and raw.strip().lower() in ("off", "none", "no", "-1", ""):
        return None
    step = int(raw)
    if step < 0:
        return None
    return step


def alert_settings(config, voice: VoiceGateway | None = None) -> AlertSettings:
    base = None
    if _flag(config.get("RESPONDER_LINKS")):
        base = (config.get("PUBLIC_URL") or "").rstrip("/") + "/r/"
    return AlertSettings(
        signature=config["SMS_SIGNATURE"],
        responder_base_url=base,
        responder_ttl_s=int(config.get("RESPONDER_TTL_S") or 24 * 3600),
        rate_per_s=float(_setting(config, "SMS_RATE_PER_S", 10.0)),
        command_phone=str(config.get("COMMAND_PHONE") or "").strip(),
        voice_enabled=bool(getattr(voice, "enabled", False)),
        voice_keypress=bool(getattr(voice, "supports_keypress", False)),
        voice_step=voice_step(config),
        voice_timeout_s=int(_setting(config, "VOICE_TIMEOUT_S", 120)),
    )


def _setting(config, key, default):
    value = config.get(key)
    return default if value is None or value == "" else value


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def build(config: Mapping) -> tuple[SmsGateway, VoiceGateway, AlertSettings]:
    """The configured SMS and voice gateways and alert settings; bad settings raise ConfigError naming every reason."""
    problems = []
    try:
        validate_signature(config["SMS_SIGNATURE"])
    except InvalidSignatureError as exc:
        problems.append(f"RESCUE_SMS_SIGNATURE: {exc}")
    try:
        float(_setting(config, "SMS_RATE_PER_S", 10.0))
    except (TypeError, ValueError):
        problems.append("RESCUE_SMS_RATE_PER_S 应为数字")
    try:
        voice_step(config)
    except (TypeError, ValueError):
        problems.append("RESCUE_VOICE_CALL_STEP 应为非负整数或 off")
    try:
        if int(_setting(config, "VOICE_TIMEOUT_S", 120)) <= 0:
            raise ValueError
    except (TypeError, ValueError):
        problems.append("RESCUE_VOICE_TIMEOUT_S 应为正整数(秒)")
    phone = str(config.get("COMMAND_PHONE") or "").strip()
    if phone and (len(phone) > 13 or not phone.replace("-", "").replace(" ", "").isdigit()):
        problems.append("RESCUE_COMMAND_PHONE 应为国内号码, 如 0951-5010100 (不超过13个字符, 短信模板变量有长度限制)")
    gateway = voice = None
    try:
        gateway = create_gateway(*gateway_config(config))
    except (GatewayConfigError, ValueError) as exc:
        problems.append(f"短信网关 (RESCUE_SMS_BACKEND={config['SMS_BACKEND']}): {exc}")
    try:
        voice = create_voice_gateway(*voice_config(config))
    except (GatewayConfigError, ValueError) as exc:
        problems.append(f"语音网关 (RESCUE_VOICE_BACKEND={config['VOICE_BACKEND']}): {exc}")
    if problems:
        raise ConfigError("配置错误: " + "; ".join(problems))
    return gateway, voice, alert_settings(config, voice)
