"""Alibaba Cloud SMS and voice backends: the only module that imports the Alibaba Cloud SDKs.

SMS goes through `alibabacloud-dysmsapi20170525` (SendSms, SendBatchSms, QuerySendDetails),
calls through `alibabacloud-dyvmsapi20170525` (SingleCallByTts). Both send approved templates:
an `OutgoingSms` / `OutgoingCall` must carry `template` (a message kind) and `params`, and the
kind's template code comes from the config. The provider pushes replies (SmsUp), delivery
reports (SmsReport) and call reports (VoiceReport) as JSON arrays to URLs set in its console;
it does not sign them, so each URL carries `?token=<callback_token>`.
"""

import hmac
import json
import threading
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client as SmsClient
from alibabacloud_dyvmsapi20170525 import models as voice_models
from alibabacloud_dyvmsapi20170525.client import Client as VoiceClient
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.exceptions import UnretryableException
from darabonba.runtime import RuntimeOptions

from contacts.errors import GatewayConfigError, InvalidPhoneError, PermanentSendError, TransientSendError
from contacts.gateway import DeliveryReceipt, InboundSms, OutgoingSms, SendResult, check_config
from contacts.messages import CHINA_TZ, validate_signature
from contacts.phones import normalize_phone
from contacts.templating import sms_kinds, voice_kinds
from contacts.voice import CallEvent, CallResult, OutgoingCall, answer_for
from contacts.webhooks import WebhookBatch, WebhookFormError, WebhookReply, WebhookRequest

SMS_URL = "https://dysmsapi.aliyuncs.com"
VOICE_URL = "https://dyvmsapi.aliyuncs.com"
DEFAULT_TIMEOUT_S = 10.0
# The provider's expected answer to every push; anything else makes it push again.
PUSH_REPLY = WebhookReply(200, json.dumps({"code": 0, "msg": "成功"}, ensure_ascii=False), "application/json; charset=utf-8")
LOOKUP_SKEW = timedelta(minutes=5)
LOOKUP_PAGE_SIZE = 50  # the most QuerySendDetails returns per page
LOOKUP_MAX_PAGES = 10
BATCH_MAX = 100

# Error codes that mean "slow down": code → seconds to wait before the next try.
THROTTLED = {
    "isv.BUSINESS_LIMIT_CONTROL": 60.0,  # per-number frequency control (1/min, 5/h, 10/day by default)
    "isv.DAY_LIMIT_CONTROL": 3600.0,
    "Throttling": 1.0,
    "Throttling.User": 1.0,
    "Throttling.Api": 1.0,
    "isp.SYSTEM_BUSY": 5.0,
}
# Account-wide problems: every message would fail alike, so they stay queued until fixed.
ACCOUNT_WIDE = {
    "InvalidAccessKeyId.NotFound",
    "InvalidAccessKeyId.Inactive",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "Forbidden.RAM",
    "isp.RAM_PERMISSION_DENY",
    "isv.ACCOUNT_NOT_EXISTS",
    "isv.ACCOUNT_ABNORMAL",
    "isv.AMOUNT_NOT_ENOUGH",
    "isv.OUT_OF_SERVICE",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.SMS_SIGN_ILLEGAL",
    "isv.SIGN_NAME_ILLEGAL",
}
# Codes of a message that sending again will not help, with the reason shown to people.
PERMANENT = {
    "isv.MOBILE_NUMBER_ILLEGAL": "号码无效",
    "isv.CALLED_NUMBER_ILLEGAL": "号码无效",
    "isv.DOMESTIC_NUMBER_NOT_SUPPORTED": "不支持该号码",
    "isv.MOBILE_COUNT_OVER_LIMIT": "号码数量超限",
    "isv.SMS_TEMPLATE_ILLEGAL": "短信模板无效或未审核通过",
    "isv.TTS_TEMPLATE_ILLEGAL": "语音模板无效或未审核通过",
    "isv.TEMPLATE_MISSING_PARAMETERS": "模板变量缺失",
    "isv.TEMPLATE_PARAMS_ILLEGAL": "模板变量不合规",
    "isv.PARAM_LENGTH_LIMIT": "模板变量超长",
    "isv.INVALID_JSON_PARAM": "模板变量格式错误",
    "isv.INVALID_PARAMETERS": "参数错误",
    "isv.BLACK_KEY_CONTROL_LIMIT": "内容含禁用词",
    "isv.SMS_CONTENT_ILLEGAL": "内容不合规",
    "isv.PARAM_NOT_SUPPORT_URL": "变量不支持链接",
}
# SmsSendDetailDTO.SendStatus → DELIVERY_STATUSES.
_SEND_STATUS = {1: "sent", 2: "failed", 3: "delivered"}


def _map_error(code: str, message: str, *, http_status: int | None = None) -> Exception:
    """A provider error code → TransientSendError or PermanentSendError."""
    if code in THROTTLED:
        return TransientSendError(f"阿里云限流 ({code}): {message}", retry_after=THROTTLED[code])
    if code in ACCOUNT_WIDE:
        return TransientSendError(f"阿里云账号或签名配置问题 ({code}): {message}")
    if code in PERMANENT:
        return PermanentSendError(code, PERMANENT[code])
    if (http_status is not None and http_status >= 500) or code.startswith("isp."):
        return TransientSendError(f"阿里云服务错误 ({http_status or ''} {code}): {message}", maybe_sent=True)
    if code.startswith("isv."):
        return PermanentSendError(code, message or code)
    return TransientSendError(f"阿里云错误 ({http_status or ''} {code}): {message}", maybe_sent=True)


def _translate(exc: Exception) -> Exception:
    """An SDK exception → TransientSendError or PermanentSendError."""
    if isinstance(exc, AlibabaCloudException):
        data = exc.data if isinstance(exc.data, dict) else {}
        message = str(data.get("Message") or exc.message or "")
        mapped = _map_error(str(exc.code or data.get("Code") or ""), message, http_status=exc.status_code)
        if isinstance(mapped, TransientSendError) and exc.retry_after and mapped.retry_after is None:
            mapped.retry_after = float(exc.retry_after)
        return mapped
    inner = getattr(exc, "inner_exception", None) or exc
    name = type(inner).__name__
    if "ConnectTimeout" in name or "Connection refused" in str(inner):
        return TransientSendError(f"阿里云不可达: {inner}")
    # A read time-out or a dropped connection: the provider may have taken the message.
    return TransientSendError(f"阿里云请求失败: {inner}", maybe_sent=True)


def _json(params: Mapping[str, str] | None) -> str:
    return json.dumps(dict(params or {}), ensure_ascii=False, separators=(",", ":"))


def local_number(e164: str) -> str:
    """The number as Aliyun takes it: 11 digits for mainland China, country code + digits otherwise."""
    if e164.startswith("+86"):
        return e164[3:]
    return e164.lstrip("+")


def e164_number(raw: str) -> str:
    """A pushed phone number (mainland numbers come without +86) in E.164; unreadable ones as given."""
    text = str(raw or "").strip()
    try:
        return normalize_phone(text if text.startswith(("+", "00")) or len(text) == 11 else "+" + text)
    except InvalidPhoneError:
        return text


def _china_time(text: object) -> datetime | None:
    """ "2024-05-03 10:00:00" (China time) → aware UTC, None when absent or unreadable."""
    try:
        return datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ).astimezone(UTC)
    except ValueError:
        return None


def _endpoint(base_url: str) -> tuple[str, str]:
    """("https", "dysmsapi.aliyuncs.com") from a base URL; a local stand-in is plain http."""
    parsed = urllib.parse.urlsplit(base_url if "://" in base_url else "https://" + base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path not in ("", "/"):
        msg = f"Alibaba Cloud base URL must be scheme://host[:port], not {base_url!r}"
        raise GatewayConfigError(msg)
    return parsed.scheme, parsed.netloc


def _sdk_config(access_key_id: str, access_key_secret: str, base_url: str, timeout_s: float) -> Config:
    protocol, endpoint = _endpoint(base_url)
    millis = int(timeout_s * 1000)
    return Config(
        access_key_id=access_key_id,
        access_key_secret=access_key_secret,
        endpoint=endpoint,
        protocol=protocol,
        connect_timeout=millis,
        read_timeout=millis,
    )


def token_matches(url: str, token: str) -> bool:
    """True if `url`'s query has `token=<token>` (constant-time compare)."""
    given = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get("token", [""])[0]
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def parse_json_array(body: bytes | str) -> list:
    """The pushed JSON array, or `WebhookFormError` (malformed JSON, not an array)."""
    try:
        data = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except (UnicodeDecodeError, ValueError):
        msg = "push body is not JSON"
        raise WebhookFormError(msg) from None
    if not isinstance(data, list):
        msg = "push body is not a JSON array"
        raise WebhookFormError(msg)
    return data


def _items(body: bytes | str, read) -> WebhookBatch:
    items, problems = [], []
    for index, raw in enumerate(parse_json_array(body)):
        try:
            if not isinstance(raw, dict):
                msg = "item is not an object"
                raise WebhookFormError(msg)
            items.append(read(raw))
        except WebhookFormError as exc:
            problems.append((index, str(exc)))
    return WebhookBatch(tuple(items), tuple(problems))


def _need(item: Mapping, *names: str) -> None:
    missing = [n for n in names if item.get(n) in (None, "")]
    if missing:
        msg = f"item lacks {', '.join(missing)}"
        raise WebhookFormError(msg)


def parse_sms_up(item: Mapping) -> InboundSms:
    """One SmsUp item (phone_number, content, sign_name, send_time, sequence_id …) → InboundSms."""
    _need(item, "phone_number", "sequence_id")
    return InboundSms(
        from_=e164_number(item["phone_number"]),
        to=str(item.get("dest_code") or item.get("sign_name") or ""),
        body=str(item.get("content") or ""),
        provider_id=str(item["sequence_id"]),
        received_at=_china_time(item.get("send_time")) or datetime.now(UTC),
    )


def _truthy(value: object) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1")


def parse_sms_report(item: Mapping) -> DeliveryReceipt:
    """One SmsReport item (biz_id, success, err_code, out_id, phone_number …) → DeliveryReceipt."""
    _need(item, "biz_id", "success")
    ok = _truthy(item["success"])
    return DeliveryReceipt(
        provider_id=str(item["biz_id"]),
        status="delivered" if ok else "undelivered",
        error_code=None if ok else str(item.get("err_code") or "UNKNOWN"),
        reference=str(item["out_id"]) if item.get("out_id") not in (None, "") else None,
        to=e164_number(item["phone_number"]) if item.get("phone_number") else None,
    )


# VoiceReport status_code → CALL_STATUSES (200000: the callee listened to the end).
VOICE_STATUS = {
    "200000": "completed",
    "200001": "no-answer",
    "200002": "busy",
    "200003": "no-answer",
    "200004": "failed",
    "200005": "no-answer",
    "200010": "failed",
    "200011": "canceled",
}


def parse_voice_report(item: Mapping) -> CallEvent:
    """One VoiceReport item (call_id, status_code, out_id, duration, dtmf …) → CallEvent."""
    _need(item, "call_id", "status_code")
    code = str(item["status_code"])
    digits = str(item.get("dtmf") or "") or None
    try:
        duration = int(item.get("duration") or 0)
    except (TypeError, ValueError):
        duration = None
    return CallEvent(
        provider_id=str(item["call_id"]),
        status=VOICE_STATUS.get(code, "failed"),
        reference=str(item["out_id"]) if item.get("out_id") not in (None, "") else None,
        digits=digits,
        answer=answer_for(digits),
        duration_s=duration,
        error_code=None if code == "200000" else code,
        to=e164_number(item["callee"]) if item.get("callee") else None,
        at=_china_time(item.get("end_time")) or datetime.now(UTC),
    )


def _codes(config: Mapping, key: str, kinds: Iterable[str], setting: str) -> dict[str, str]:
    codes = config.get(key) or {}
    if isinstance(codes, str):  # the setting as written: JSON or "kind=code,kind=code"
        codes = parse_template_codes(codes)
    if not isinstance(codes, Mapping):
        msg = f"{key} must be a mapping of message kind → template code"
        raise GatewayConfigError(msg)
    known = set(sms_kinds()) | set(voice_kinds())
    unknown = sorted(set(codes) - known)
    missing = [kind for kind in kinds if not codes.get(kind)]
    problems = []
    if missing:
        problems.append(f"missing template code for {', '.join(missing)} ({setting})")
    if unknown:
        problems.append(f"unknown message kinds {', '.join(unknown)}")
    if problems:
        raise GatewayConfigError("; ".join(problems))
    return {str(k): str(v) for k, v in codes.items()}


def parse_template_codes(text: str | Mapping | None) -> dict[str, str]:
    """A template-code setting as a dict: JSON ({"dispatch": "SMS_1"}) or "dispatch=SMS_1,escalation=SMS_2"."""
    if text is None or isinstance(text, Mapping):
        return dict(text or {})
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            msg = f"template codes are not valid JSON: {exc}"
            raise GatewayConfigError(msg) from None
        return {str(k): str(v) for k, v in data.items()}
    out = {}
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        kind, sep, code = part.partition("=")
        if not sep or not kind.strip() or not code.strip():
            msg = f"template codes: {part!r} is not kind=code"
            raise GatewayConfigError(msg)
        out[kind.strip()] = code.strip()
    return out


class _PushWebhooks:
    """Token check and the fixed answer of Aliyun's pushes."""

    replies_inline = False  # a push answer cannot carry an SMS: send a reply_ack template instead

    def __init__(self, callback_token: str | None) -> None:
        self._token = callback_token or ""

    def verify_webhook(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> bool:
        """True if the push URL carries the callback token (the provider signs nothing)."""
        return token_matches(url, self._token)

    def webhook_reply(self, kind: str, message: str | None = None) -> WebhookReply:
        return PUSH_REPLY


class AliyunSmsGateway(_PushWebhooks):
    """Sends approved templates through dysmsapi; one SendSms per message, OutId = reference."""

    name = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        templates: Mapping[str, str],
        base_url: str = SMS_URL,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        callback_token: str | None = None,
    ) -> None:
        super().__init__(callback_token)
        self.sign_name = sign_name
        self.templates = dict(templates)
        self.client = SmsClient(_sdk_config(access_key_id, access_key_secret, base_url, timeout_s))
        self.runtime = RuntimeOptions(read_timeout=int(timeout_s * 1000), connect_timeout=int(timeout_s * 1000))
        self._lock = threading.Lock()

    def _code(self, sms: OutgoingSms) -> str:
        if not sms.template:
            raise PermanentSendError("no_template", "阿里云短信只能按模板发送, 该消息没有模板")
        code = self.templates.get(sms.template)
        if not code:
            raise PermanentSendError("no_template", f"未配置消息类型 {sms.template} 的模板编号")
        return code

    def send(self, sms: OutgoingSms) -> SendResult:
        request = sms_models.SendSmsRequest(
            phone_numbers=local_number(sms.to),
            sign_name=self.sign_name,
            template_code=self._code(sms),
            template_param=_json(sms.params),
            out_id=sms.reference,
        )
        try:
            body = self.client.send_sms_with_options(request, self.runtime).body
        except (AlibabaCloudException, UnretryableException) as exc:
            raise _translate(exc) from exc
        if body.code != "OK":
            raise _map_error(body.code or "", body.message or "")
        return SendResult(body.biz_id, "queued")

    def send_batch(self, messages: Sequence[OutgoingSms]) -> list[SendResult]:
        """Send up to 100 messages of one template kind in one SendBatchSms call.

        The provider gives one BizId for the batch (receipts tell recipients apart by `to`)
        and one OutId, the first message's reference.
        """
        if not messages:
            return []
        if len(messages) > BATCH_MAX:
            msg = f"at most {BATCH_MAX} messages per batch"
            raise ValueError(msg)
        codes = {self._code(m) for m in messages}
        if len(codes) != 1:
            msg = "a batch sends one template kind"
            raise ValueError(msg)
        request = sms_models.SendBatchSmsRequest(
            phone_number_json=json.dumps([local_number(m.to) for m in messages]),
            sign_name_json=json.dumps([self.sign_name] * len(messages), ensure_ascii=False),
            template_code=codes.pop(),
            template_param_json=json.dumps([dict(m.params or {}) for m in messages], ensure_ascii=False, separators=(",", ":")),
            out_id=messages[0].reference,
        )
        try:
            body = self.client.send_batch_sms_with_options(request, self.runtime).body
        except (AlibabaCloudException, UnretryableException) as exc:
            raise _translate(exc) from exc
        if body.code != "OK":
            raise _map_error(body.code or "", body.message or "")
        return [SendResult(body.biz_id, "queued") for _ in messages]

    def lookup(self, sms: OutgoingSms, *, since: datetime, provider_id: str | None = None) -> SendResult | None:
        """Find `sms` among messages sent to its number since `since` (QuerySendDetails).

        Matches on OutId (= `sms.reference`), else on the exact text. The details carry no BizId,
        so a message found without `provider_id` gets "out:<reference>" as its id; its later
        delivery report still names it through `DeliveryReceipt.reference`.
        """
        now = datetime.now(CHINA_TZ)
        day: date = (since - LOOKUP_SKEW).astimezone(CHINA_TZ).date()
        while day <= now.date():
            for page in range(1, LOOKUP_MAX_PAGES + 1):
                request = sms_models.QuerySendDetailsRequest(
                    phone_number=local_number(sms.to),
                    send_date=day.strftime("%Y%m%d"),
                    page_size=LOOKUP_PAGE_SIZE,
                    current_page=page,
                    biz_id=provider_id or None,
                )
                try:
                    body = self.client.query_send_details_with_options(request, self.runtime).body
                except (AlibabaCloudException, UnretryableException) as exc:
                    raise _map_lookup(_translate(exc)) from exc
                if body.code != "OK":
                    raise _map_lookup(_map_error(body.code or "", body.message or ""))
                dtos = body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else None
                for dto in dtos or []:
                    if dto.out_id == sms.reference or (
                        dto.out_id in (None, "") and dto.content and sms.body.endswith(dto.content)
                    ):
                        return SendResult(
                            provider_id or f"out:{sms.reference}", _SEND_STATUS.get(int(dto.send_status or 1), "sent")
                        )
                if not dtos or len(dtos) < LOOKUP_PAGE_SIZE:
                    break
            day += timedelta(days=1)
        return None

    def read_inbound(self, request: WebhookRequest) -> WebhookBatch:
        """The replies (上行) of one SmsUp push; dedupe on `provider_id` (sequence_id)."""
        return _items(request.body, parse_sms_up)

    def read_status(self, request: WebhookRequest) -> WebhookBatch:
        """The delivery reports of one SmsReport push; dedupe on `provider_id` (biz_id) and `to`."""
        return _items(request.body, parse_sms_report)

    def parse_inbound(self, params: Mapping[str, str] | bytes | str) -> InboundSms:
        """The first reply of a push body (for callers that take one item; prefer `read_inbound`)."""
        batch = _items(params if isinstance(params, (bytes, str)) else json.dumps([dict(params)]), parse_sms_up)
        if not batch.items:
            raise WebhookFormError(batch.problems[0][1] if batch.problems else "empty push")
        return batch.items[0]

    def parse_status(self, params: Mapping[str, str] | bytes | str) -> DeliveryReceipt:
        """The first report of a push body (prefer `read_status`)."""
        batch = _items(params if isinstance(params, (bytes, str)) else json.dumps([dict(params)]), parse_sms_report)
        if not batch.items:
            raise WebhookFormError(batch.problems[0][1] if batch.problems else "empty push")
        return batch.items[0]

    def close(self) -> None:
        """Nothing to release: the SDK pools connections per host itself."""


def _map_lookup(exc: Exception) -> Exception:
    # lookup only reads: whatever went wrong, it could not tell, so the caller tries later.
    if isinstance(exc, TransientSendError):
        return exc
    return TransientSendError(f"阿里云查询失败: {exc}")


def _timeout(config: Mapping, backend: str) -> float:
    try:
        timeout_s = float(config.get("timeout_s") or DEFAULT_TIMEOUT_S)
    except (TypeError, ValueError):
        timeout_s = 0
    if timeout_s <= 0:
        msg = f"{backend}: timeout_s must be a positive number, not {config.get('timeout_s')!r}"
        raise GatewayConfigError(msg)
    return timeout_s


SMS_REQUIRED = ("access_key_id", "access_key_secret", "sign_name", "callback_token")
SMS_OPTIONAL = ("templates", "kinds", "base_url", "timeout_s")


def create(config: dict) -> AliyunSmsGateway:
    """An AliyunSmsGateway from access_key_id, access_key_secret, sign_name, callback_token,
    templates ({kind: template code}; every kind in `kinds` must have one, default every SMS
    kind of `contacts/templates/aliyun_sms.json`), optionally base_url and timeout_s."""
    check_config("aliyun", config, required=SMS_REQUIRED, optional=SMS_OPTIONAL)
    kinds = tuple(config.get("kinds") or sms_kinds())
    problems = []
    try:
        templates = _codes(config, "templates", kinds, "RESCUE_ALIYUN_SMS_TEMPLATES")
    except GatewayConfigError as exc:
        problems.append(str(exc))
        templates = {}
    try:
        sign = validate_signature(str(config["sign_name"]))[1:-1]
    except ValueError as exc:
        problems.append(f"sign_name: {exc}")
        sign = ""
    try:
        base = config.get("base_url") or SMS_URL
        _endpoint(str(base))
        timeout_s = _timeout(config, "SMS backend 'aliyun'")
    except GatewayConfigError as exc:
        problems.append(str(exc))
    if problems:
        raise GatewayConfigError("SMS backend 'aliyun': " + "; ".join(problems))
    return AliyunSmsGateway(
        access_key_id=str(config["access_key_id"]),
        access_key_secret=str(config["access_key_secret"]),
        sign_name=sign,
        templates=templates,
        base_url=str(base),
        timeout_s=timeout_s,
        callback_token=str(config["callback_token"]),
    )


# -- voice -----------------------------------------------------------------------------------------


class AliyunVoiceGateway(_PushWebhooks):
    """Text-to-speech notification calls (SingleCallByTts); no keypress, the report is pushed."""

    name = "aliyun"
    supports_keypress = False
    enabled = True

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        templates: Mapping[str, str],
        base_url: str = VOICE_URL,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        callback_token: str | None = None,
        show_number: str | None = None,
        play_times: int = 2,
    ) -> None:
        super().__init__(callback_token)
        self.templates = dict(templates)
        self.show_number = show_number
        self.play_times = play_times
        self.client = VoiceClient(_sdk_config(access_key_id, access_key_secret, base_url, timeout_s))
        self.runtime = RuntimeOptions(read_timeout=int(timeout_s * 1000), connect_timeout=int(timeout_s * 1000))

    def call(self, call: OutgoingCall) -> CallResult:
        code = self.templates.get(call.template or "")
        if not code:
            raise PermanentSendError("no_template", f"未配置语音类型 {call.template} 的模板编号")
        request = voice_models.SingleCallByTtsRequest(
            called_number=local_number(call.to),
            called_show_number=self.show_number,
            tts_code=code,
            tts_param=_json(call.params),
            play_times=self.play_times,
            out_id=call.reference,
        )
        try:
            body = self.client.single_call_by_tts_with_options(request, self.runtime).body
        except (AlibabaCloudException, UnretryableException) as exc:
            raise _translate(exc) from exc
        if body.code != "OK":
            raise _map_error(body.code or "", body.message or "")
        return CallResult(body.call_id, "queued")

    def read_call_events(self, request: WebhookRequest) -> WebhookBatch:
        """The call reports of one VoiceReport push; dedupe on `provider_id` (call_id)."""
        return _items(request.body, parse_voice_report)


VOICE_REQUIRED = ("access_key_id", "access_key_secret", "callback_token")
VOICE_OPTIONAL = ("templates", "kinds", "base_url", "timeout_s", "show_number", "play_times")


def create_voice(config: dict) -> AliyunVoiceGateway:
    """An AliyunVoiceGateway from access_key_id, access_key_secret, callback_token, templates
    ({voice kind: TtsCode}, every voice kind needed), optionally base_url, timeout_s,
    show_number (the caller id shown) and play_times."""
    check_config("aliyun", config, required=VOICE_REQUIRED, optional=VOICE_OPTIONAL, what="voice backend")
    kinds = tuple(config.get("kinds") or voice_kinds())
    problems = []
    try:
        templates = _codes(config, "templates", kinds, "RESCUE_ALIYUN_VOICE_TEMPLATES")
    except GatewayConfigError as exc:
        problems.append(str(exc))
        templates = {}
    try:
        base = str(config.get("base_url") or VOICE_URL)
        _endpoint(base)
        timeout_s = _timeout(config, "voice backend 'aliyun'")
        play_times = int(config.get("play_times") or 2)
    except (GatewayConfigError, ValueError) as exc:
        problems.append(str(exc))
    if problems:
        raise GatewayConfigError("voice backend 'aliyun': " + "; ".join(problems))
    return AliyunVoiceGateway(
        access_key_id=str(config["access_key_id"]),
        access_key_secret=str(config["access_key_secret"]),
        templates=templates,
        base_url=base,
        timeout_s=timeout_s,
        callback_token=str(config["callback_token"]),
        show_number=str(config["show_number"]) if config.get("show_number") else None,
        play_times=play_times,
    )
