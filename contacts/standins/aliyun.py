"""A local stand-in of Alibaba Cloud SMS and voice APIs for development and tests (loopback only).

Start it in-process with ``with AliyunStandIn() as standin: …`` (a free port on 127.0.0.1,
served from a thread) and point the aliyun backends' ``base_url`` at ``standin.base_url``; or
as its own process: ``python -m contacts.standins.aliyun --port 8022`` and script it through the
JSON control API under ``/_standin/``. It speaks what the official SDKs send (RPC style, V3
signature ``ACS3-HMAC-SHA256``, which it verifies with the secret it knows) for SendSms,
SendBatchSms, QuerySendDetails and SingleCallByTts; scripts errors (throttling, invalid number,
invalid template, 500, hangs); records messages and calls; and pushes delivery reports, replies
(上行) and call reports as JSON arrays to callback URLs, like the provider does.
"""

import argparse
import hashlib
import hmac
import itertools
import json
import queue
import re
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from contacts.templating import _fill, templates

DEFAULT_KEY_ID = "LTAIstandin0000000000000"
DEFAULT_KEY_SECRET = "standin-access-key-secret"
DEFAULT_SIGN_NAMES = ("宁夏应急",)
CHINA = timezone(timedelta(hours=8))
SIGN_ALGORITHM = "ACS3-HMAC-SHA256"

# Errors the stand-in can script: kind → (HTTP status, Code, Message). Business errors of the
# SMS API come back with HTTP 200 and a Code other than "OK", as the provider answers them.
ERRORS = {
    "throttled": (200, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"),
    "day_limit": (200, "isv.DAY_LIMIT_CONTROL", "触发日发送限额"),
    "invalid_number": (200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"),
    "invalid_template": (200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板"),
    "missing_params": (200, "isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量"),
    "invalid_sign": (200, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名"),
    "api_throttled": (400, "Throttling.User", "Request was denied due to user flow control."),
    "server_error": (500, "isp.SYSTEM_ERROR", "系统出现错误"),
    "bad_key": (404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."),
    "bad_signature": (400, "SignatureDoesNotMatch", "Specified signature does not match our calculation."),
}
FAILURE_KINDS = (*ERRORS, "hang", "hang_unaccepted")
# Voice report status codes a rule can give a call.
CALL_OUTCOMES = {
    "listened": ("200000", "用户听完"),
    "no_answer": ("200005", "用户未接听"),
    "busy": ("200002", "用户忙"),
    "failed": ("200010", "呼叫失败"),
}
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_INTL = re.compile(r"^(00)?[1-9]\d{6,14}$")


def standin_template_codes(channel: str = "sms") -> dict[str, str]:
    """Kind → template code the stand-in accepts, for every template in contacts/templates."""
    prefix = "SMS_STANDIN_" if channel == "sms" else "TTS_STANDIN_"
    return {kind: prefix + kind.upper() for kind, t in templates().items() if t.channel == channel}


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="~")


def acs3_signature(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], signed: list[str], payload_hash: str, secret: str
) -> str:
    """The ACS3-HMAC-SHA256 signature of a request, computed as the provider does."""
    canonical_query = "&".join(f"{_quote(k)}={_quote(query[k])}" for k in sorted(query))
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed)
    canonical = f"{method}\n{path or '/'}\n{canonical_query}\n{canonical_headers}\n{';'.join(signed)}\n{payload_hash}"
    to_sign = f"{SIGN_ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object) -> None:  # one line per request would drown test output
        pass


class AliyunStandIn:
    """The stand-in server. Accepted messages are in `messages`, calls in `calls` (dicts).

    Scripting (thread-safe): `fail_next(kind, count)`, `add_rule(suffix, error=… | outcome=…)`,
    `push_report(biz_id, …)`, `push_reply(phone, content)`, `push_call_report(call_id, …)`.
    `report_url`, `reply_url`, `voice_report_url` are where pushes go (None: not pushed);
    with `auto_reports`, each accepted message/call gets its report pushed right away.
    """

    def __init__(
        self,
        *,
        access_key_id: str = DEFAULT_KEY_ID,
        access_key_secret: str = DEFAULT_KEY_SECRET,
        host: str = "127.0.0.1",
        port: int = 0,
        sign_names: tuple[str, ...] = DEFAULT_SIGN_NAMES,
        check_templates: bool = True,
        verify_signatures: bool = True,
        auto_reports: bool = True,
        report_url: str | None = None,
        reply_url: str | None = None,
        voice_report_url: str | None = None,
        hang_s: float = 30.0,
    ) -> None:
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.host, self.port = host, port
        self.sign_names = set(sign_names)
        self.check_templates = check_templates
        self.verify_signatures = verify_signatures
        self.auto_reports = auto_reports
        self.report_url, self.reply_url, self.voice_report_url = report_url, reply_url, voice_report_url
        self.hang_s = hang_s
        self.sms_templates = {code: templates()[kind] for kind, code in standin_template_codes("sms").items()}
        self.tts_templates = {code: templates()[kind] for kind, code in standin_template_codes("voice").items()}
        self.messages: list[dict] = []
        self.calls: list[dict] = []
        self.pushes: list[tuple[str, list, object]] = []  # (url, items, HTTP status or error text)
        self.requests = 0
        self._failures: list[str] = []
        self._rules: list[dict] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._push_queue: queue.Queue = queue.Queue()
        self._ids = itertools.count(1)
        self._server = self._threads = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Where to point the aliyun backends (config "base_url")."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> "AliyunStandIn":
        self._stopping.clear()
        self._server = make_server(self.host, self.port, self, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        self._threads = [
            threading.Thread(target=self._server.serve_forever, args=(0.05,), name="aliyun-standin", daemon=True),
            threading.Thread(target=self._pusher, name="aliyun-standin-push", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._push_queue.put(None)
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> "AliyunStandIn":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting -------------------------------------------------------------------------

    def fail_next(self, kind: str, count: int = 1) -> None:
        """Make the next `count` API calls (send, batch, query or call) fail: one of FAILURE_KINDS."""
        if kind not in FAILURE_KINDS:
            msg = f"unknown failure {kind!r}; one of {', '.join(FAILURE_KINDS)}"
            raise ValueError(msg)
        with self._lock:
            self._failures.extend([kind] * count)

    def add_rule(self, suffix: str, *, error: str | None = None, outcome: str | None = None) -> None:
        """Numbers ending in `suffix` are refused with `error` (a key of ERRORS), or end in `outcome`:
        for SMS an err_code such as "MK:0001" (a failed delivery report), for calls a key of CALL_OUTCOMES."""
        if (error is None) == (outcome is None):
            msg = "give exactly one of error= or outcome="
            raise ValueError(msg)
        if error is not None and error not in ERRORS:
            msg = f"unknown error {error!r}; one of {', '.join(ERRORS)}"
            raise ValueError(msg)
        with self._lock:
            self._rules.append({"suffix": suffix, "error": error, "outcome": outcome})

    def reset(self) -> None:
        """Forget messages, calls, pushes, scripted failures and rules."""
        with self._lock:
            self.messages.clear()
            self.calls.clear()
            self.pushes.clear()
            self._failures.clear()
            self._rules.clear()

    def messages_to(self, number: str) -> list[dict]:
        """Accepted messages to `number` (11 digits or E.164), oldest first."""
        local = number.removeprefix("+86")
        with self._lock:
            return [dict(m) for m in self.messages if m["phone"] == local]

    def push_report(self, biz_id: str, *, success: bool = True, err_code: str = "DELIVERED", url: str | None = None) -> object:
        """Push the delivery report (SmsReport) of message `biz_id`; returns the HTTP status."""
        with self._lock:
            message = next((m for m in self.messages if m["biz_id"] == biz_id), None)
            if message is None:
                raise KeyError(biz_id)
            message["status"] = 3 if success else 2
            message["err_code"] = err_code
            item = self._report_item(message)
        return self._push(url or self.report_url, [item])

    def push_reply(
        self, phone: str, content: str, *, url: str | None = None, sign_name: str | None = None, sequence_id: int | None = None
    ) -> object:
        """Push a reply (SmsUp) from `phone` (11 digits, no +86); returns the HTTP status."""
        item = {
            "phone_number": phone.removeprefix("+86"),
            "content": content,
            "sign_name": sign_name or next(iter(self.sign_names)),
            "dest_code": "",
            "send_time": datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            "sequence_id": sequence_id if sequence_id is not None else next(self._ids) + 10**9,
        }
        return self._push(url or self.reply_url, [item])

    def push_items(self, url: str, items: list) -> object:
        """Push any JSON array (duplicates, malformed items …) to `url`; returns the HTTP status."""
        return self._push(url, items)

    def push_call_report(self, call_id: str, *, outcome: str = "listened", dtmf: str = "", url: str | None = None) -> object:
        """Push the call report (VoiceReport) of `call_id`; returns the HTTP status."""
        with self._lock:
            call = next((c for c in self.calls if c["call_id"] == call_id), None)
            if call is None:
                raise KeyError(call_id)
            call["outcome"] = outcome
            item = self._call_item(call, dtmf)
        return self._push(url or self.voice_report_url, [item])

    # -- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        path = request.path
        if path.startswith("/_standin/"):
            response = self._control(request, path.removeprefix("/_standin/"))
        elif request.method != "POST" or path != "/":
            response = self._json({"Code": "InvalidAction.NotFound", "Message": "Specified api is not found"}, 404)
        else:
            response = self._api(request)
        return response(environ, start_response)

    @staticmethod
    def _json(payload: object, status: int = 200) -> Response:
        return Response(json.dumps(payload, ensure_ascii=False), status=status, content_type="application/json;charset=utf-8")

    def _error(self, kind: str) -> Response:
        status, code, message = ERRORS[kind]
        return self._json({"Code": code, "Message": message, "RequestId": secrets.token_hex(8)}, status)

    def _authenticate(self, request: Request, params: dict[str, str]) -> str | None:
        """None if the request is signed by our key, else the failure kind."""
        auth = request.headers.get("Authorization", "")
        match = re.match(rf"^{SIGN_ALGORITHM} Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)$", auth)
        if not match:
            return "bad_signature"
        key_id, signed, signature = match.groups()
        if key_id != self.access_key_id:
            return "bad_key"
        if not self.verify_signatures:
            return None
        body = request.get_data()
        payload_hash = hashlib.sha256(body).hexdigest()
        headers = {k.lower(): v for k, v in request.headers.items()}
        if headers.get("x-acs-content-sha256") != payload_hash:
            return "bad_signature"
        query = {k: v for k, v in request.args.items()}
        expected = acs3_signature(
            request.method, request.path, query, headers, signed.split(";"), payload_hash, self.access_key_secret
        )
        return None if hmac.compare_digest(expected, signature) else "bad_signature"

    def _api(self, request: Request) -> Response:
        request.get_data()  # read (and cache) the raw body before the form parser consumes it
        params = {**request.args.to_dict(), **request.form.to_dict()}
        action = request.headers.get("x-acs-action") or params.get("Action", "")
        with self._lock:
            self.requests += 1
        refused = self._authenticate(request, params)
        if refused:
            return self._error(refused)
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure == "hang_unaccepted":
            self._stopping.wait(self.hang_s)
            return self._error("server_error")
        if failure and failure != "hang":
            return self._error(failure)
        handler = {
            "SendSms": self._send_sms,
            "SendBatchSms": self._send_batch,
            "QuerySendDetails": self._query,
            "SingleCallByTts": self._call,
        }.get(action)
        if handler is None:
            return self._json({"Code": "InvalidAction.NotFound", "Message": f"Specified api {action} is not found"}, 404)
        response = handler(params)
        if failure == "hang":
            self._stopping.wait(self.hang_s)  # accepted, but answered too late
        return response

    def _rule(self, phone: str) -> dict | None:
        return next((r for r in self._rules if phone.endswith(r["suffix"])), None)

    def _check_message(self, phone: str, sign: str, code: str, params: object) -> str | dict:
        """The error kind, or the template values as given."""
        if not (_CN_MOBILE.match(phone) or (_INTL.match(phone) and not phone.startswith("1"))):
            return "invalid_number"
        if sign not in self.sign_names:
            return "invalid_sign"
        template = self.sms_templates.get(code)
        if template is None and self.check_templates:
            return "invalid_template"
        if not isinstance(params, dict):
            return "missing_params"
        if template is not None and set(params) != {v.name for v in template.variables}:
            return "missing_params"
        rule = self._rule(phone)
        if rule and rule["error"]:
            return rule["error"]
        return params

    def _record(self, phone: str, sign: str, code: str, params: dict, out_id: str, biz_id: str) -> dict:
        template = self.sms_templates.get(code)
        content = f"【{sign}】" + (_fill(template.text, params) if template else json.dumps(params, ensure_ascii=False))
        rule = self._rule(phone)
        message = {
            "biz_id": biz_id,
            "phone": phone,
            "sign_name": sign,
            "template_code": code,
            "params": params,
            "content": content,
            "out_id": out_id,
            "status": 1,
            "err_code": "",
            "send_date": datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            "_outcome": rule["outcome"] if rule and rule["outcome"] else None,
        }
        self.messages.append(message)
        return message

    def _biz_id(self) -> str:
        return f"{next(self._ids):06d}^{secrets.randbelow(10**10):010d}"

    def _send_sms(self, params: dict[str, str]) -> Response:
        phones = [p.strip() for p in params.get("PhoneNumbers", "").split(",") if p.strip()]
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            values = None
        if not phones:
            return self._error("invalid_number")
        biz_id = self._biz_id()
        with self._lock:
            for phone in phones:
                checked = self._check_message(phone, params.get("SignName", ""), params.get("TemplateCode", ""), values)
                if isinstance(checked, str):
                    return self._error(checked)
            accepted = [
                self._record(phone, params["SignName"], params["TemplateCode"], values, params.get("OutId", ""), biz_id)
                for phone in phones
            ]
        self._auto_report(accepted)
        return self._json({"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": secrets.token_hex(8)})

    def _send_batch(self, params: dict[str, str]) -> Response:
        try:
            phones = json.loads(params.get("PhoneNumberJson") or "[]")
            signs = json.loads(params.get("SignNameJson") or "[]")
            values = json.loads(params.get("TemplateParamJson") or "[]")
        except ValueError:
            return self._error("missing_params")
        if not phones or len(phones) != len(signs) or len(values) not in (0, len(phones)):
            return self._error("missing_params")
        biz_id = self._biz_id()
        code = params.get("TemplateCode", "")
        with self._lock:
            for i, phone in enumerate(phones):
                checked = self._check_message(str(phone), signs[i], code, values[i] if values else {})
                if isinstance(checked, str):
                    return self._error(checked)
            accepted = [
                self._record(str(phone), signs[i], code, values[i] if values else {}, params.get("OutId", ""), biz_id)
                for i, phone in enumerate(phones)
            ]
        self._auto_report(accepted)
        return self._json({"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": secrets.token_hex(8)})

    def _query(self, params: dict[str, str]) -> Response:
        phone, day = params.get("PhoneNumber", ""), params.get("SendDate", "")
        try:
            size = int(params.get("PageSize", 10))
            page = int(params.get("CurrentPage", 1))
            when = datetime.strptime(day, "%Y%m%d").date()
        except ValueError:
            return self._json({"Code": "isv.INVALID_PARAMETERS", "Message": "参数异常"})
        if not 1 <= size <= 50 or page < 1 or not phone:
            return self._json({"Code": "isv.INVALID_PARAMETERS", "Message": "参数异常"})
        with self._lock:
            found = [
                m
                for m in self.messages
                if m["phone"] == phone
                and m["send_date"].startswith(when.isoformat())
                and params.get("BizId") in (None, "", m["biz_id"])
            ]
            items = [
                {
                    "PhoneNum": m["phone"],
                    "SendStatus": m["status"],
                    "ErrCode": m["err_code"] or "DELIVERED",
                    "TemplateCode": m["template_code"],
                    "Content": m["content"],
                    "SendDate": m["send_date"],
                    "ReceiveDate": m["send_date"] if m["status"] != 1 else "",
                    "OutId": m["out_id"],
                }
                for m in found[(page - 1) * size : page * size]
            ]
        return self._json(
            {
                "Code": "OK",
                "Message": "OK",
                "RequestId": secrets.token_hex(8),
                "TotalCount": len(found),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": items},
            }
        )

    def _call(self, params: dict[str, str]) -> Response:
        phone, code = params.get("CalledNumber", ""), params.get("TtsCode", "")
        if not (_CN_MOBILE.match(phone) or _INTL.match(phone)):
            return self._json({"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "号码格式非法"})
        template = self.tts_templates.get(code)
        if template is None and self.check_templates:
            return self._json({"Code": "isv.TTS_TEMPLATE_ILLEGAL", "Message": "模板不存在"})
        try:
            values = json.loads(params.get("TtsParam") or "{}")
        except ValueError:
            return self._json({"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法"})
        with self._lock:
            rule = self._rule(phone)
            if rule and rule["error"]:
                return self._error(rule["error"])
            call = {
                "call_id": f"{next(self._ids)}^{secrets.randbelow(10**12)}",
                "phone": phone,
                "tts_code": code,
                "params": values,
                "out_id": params.get("OutId", ""),
                "script": _fill(template.text, values) if template else json.dumps(values, ensure_ascii=False),
                "outcome": rule["outcome"] if rule and rule["outcome"] else "listened",
                "started": datetime.now(CHINA),
            }
            self.calls.append(call)
            item = self._call_item(call, "")
        if self.auto_reports and self.voice_report_url:
            self._push_queue.put((self.voice_report_url, [item]))
        return self._json({"Code": "OK", "Message": "OK", "CallId": call["call_id"], "RequestId": secrets.token_hex(8)})

    # -- pushes ----------------------------------------------------------------------------

    @staticmethod
    def _report_item(message: dict) -> dict:
        ok = message["status"] == 3
        now = datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")
        return {
            "phone_number": message["phone"],
            "send_time": message["send_date"],
            "report_time": now,
            "success": ok,
            "err_code": message["err_code"] or ("DELIVERED" if ok else "UNKNOWN"),
            "err_msg": "用户接收成功" if ok else "失败",
            "sms_size": "1",
            "biz_id": message["biz_id"],
            "out_id": message["out_id"],
        }

    @staticmethod
    def _call_item(call: dict, dtmf: str) -> dict:
        code, text = CALL_OUTCOMES.get(call["outcome"], CALL_OUTCOMES["failed"])
        start = call["started"]
        end = start + timedelta(seconds=20)
        return {
            "call_id": call["call_id"],
            "callee": call["phone"],
            "caller": "",
            "status_code": code,
            "status_msg": text,
            "start_time": start.strftime("%Y-%m-%d %H:%M:%S"),
            "end_time": end.strftime("%Y-%m-%d %H:%M:%S"),
            "duration": 20 if code == "200000" else 0,
            "out_id": call["out_id"],
            "dtmf": dtmf,
            "hangup_direction": 1,
            "toll_type": "LOCAL",
        }

    def _auto_report(self, accepted: list[dict]) -> None:
        if not (self.auto_reports and self.report_url):
            return
        with self._lock:
            items = []
            for message in accepted:
                outcome = message["_outcome"]
                message["status"], message["err_code"] = (2, outcome) if outcome else (3, "DELIVERED")
                items.append(self._report_item(message))
        self._push_queue.put((self.report_url, items))

    def _pusher(self) -> None:
        while (job := self._push_queue.get()) is not None:
            if not self._stopping.is_set():
                self._push(*job)

    def _push(self, url: str | None, items: list) -> object:
        if not url:
            msg = "no callback URL to push to"
            raise ValueError(msg)
        data = json.dumps(items, ensure_ascii=False).encode()
        request = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": "application/json;charset=utf-8"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                outcome = response.status
        except urllib.error.HTTPError as exc:
            outcome = exc.code
        except OSError as exc:
            outcome = f"error: {exc}"  # the provider would push again later; the stand-in only records it
        with self._lock:
            self.pushes.append((url, items, outcome))
        return outcome

    # -- control API (JSON; for a stand-in running in another process) ---------------------

    def _control(self, request: Request, what: str) -> Response:
        body = request.get_json(force=True, silent=True) or {}
        try:
            if what == "failures":
                self.fail_next(body["kind"], int(body.get("count", 1)))
            elif what == "rules":
                self.add_rule(body["suffix"], error=body.get("error"), outcome=body.get("outcome"))
            elif what == "config":
                for key in ("report_url", "reply_url", "voice_report_url"):
                    if key in body:
                        setattr(self, key, body[key] or None)
            elif what == "messages":
                with self._lock:
                    return self._json(
                        {
                            "messages": [{k: v for k, v in m.items() if not k.startswith("_")} for m in self.messages],
                            "calls": [
                                {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in c.items()} for c in self.calls
                            ],
                            "pushes": [list(p) for p in self.pushes],
                        }
                    )
            elif what == "reports":
                return self._json(
                    {
                        "status": self.push_report(
                            body["biz_id"],
                            success=body.get("success", True),
                            err_code=body.get("err_code", "DELIVERED"),
                            url=body.get("url"),
                        )
                    }
                )
            elif what == "replies":
                return self._json({"status": self.push_reply(body["phone"], body["content"], url=body.get("url"))})
            elif what == "call-reports":
                return self._json(
                    {
                        "status": self.push_call_report(
                            body["call_id"],
                            outcome=body.get("outcome", "listened"),
                            dtmf=body.get("dtmf", ""),
                            url=body.get("url"),
                        )
                    }
                )
            elif what == "reset":
                self.reset()
            else:
                return self._json({"error": f"unknown control {what!r}"}, 404)
        except (KeyError, ValueError, TypeError) as exc:
            return self._json({"error": str(exc)}, 400)
        return self._json({"ok": True})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m contacts.standins.aliyun", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8022, help="0 picks a free port")
    parser.add_argument("--key-id", default=DEFAULT_KEY_ID)
    parser.add_argument("--key-secret", default=DEFAULT_KEY_SECRET)
    parser.add_argument("--sign-name", action="append", default=[], help="accepted signature (repeatable)")
    parser.add_argument("--report-url", help="where delivery reports are pushed (with ?token=…)")
    parser.add_argument("--reply-url", help="where replies (上行) are pushed, for /_standin/replies")
    parser.add_argument("--voice-report-url", help="where call reports are pushed")
    parser.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="SUFFIX=WHAT",
        help="e.g. 0000=invalid_number, 9999=outcome:MK:0001 (repeatable)",
    )
    args = parser.parse_args(argv)
    standin = AliyunStandIn(
        access_key_id=args.key_id,
        access_key_secret=args.key_secret,
        host=args.host,
        port=args.port,
        sign_names=tuple(args.sign_name) or DEFAULT_SIGN_NAMES,
        report_url=args.report_url,
        reply_url=args.reply_url,
        voice_report_url=args.voice_report_url,
    )
    for rule in args.rule:
        suffix, _, what = rule.partition("=")
        if what.startswith("outcome:"):
            standin.add_rule(suffix, outcome=what.removeprefix("outcome:"))
        else:
            standin.add_rule(suffix, error=what)
    standin.start()
    codes = ",".join(f"{k}={v}" for k, v in standin_template_codes().items())
    # The first line tells a parent process where we listen (useful with --port 0).
    print(f"aliyun stand-in listening on {standin.base_url} (key {standin.access_key_id})", flush=True)
    print(f"template codes: {codes}", flush=True)
    try:
        standin._threads[0].join()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
