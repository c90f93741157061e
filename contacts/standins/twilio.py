"""A local fake of Twilio's Messages and Calls REST APIs for development and tests (loopback only).

Start it in-process with ``with FakeTwilio() as fake: …`` (a free port on 127.0.0.1, served
from a thread) and point the twilio backend at ``fake.base_url``; or as its own process with
``python -m contacts.standins.twilio --port 8021 --sid AC… --token …`` and script it through the
control API under ``/_fake/``. It implements what `twilio.rest.Client` uses for SMS: create,
list (Twilio's paging shape) and fetch of Messages, Basic auth, Twilio-style error bodies,
and signed status callbacks (X-Twilio-Signature) after each accepted message. For calls:
create (Twiml or Url), fetch, signed status callbacks (initiated, ringing, answered, then the
outcome), the TwiML fetched from Url when answered, and `press(sid, digits)`, which posts the
signed <Gather> callback as if the callee pressed a key.
"""

import argparse
import base64
import email.utils
import hashlib
import hmac
import html
import itertools
import json
import queue
import re
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from contacts.segments import count_segments

API = "/2010-04-01/Accounts/<account>"
DEFAULT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_TOKEN = "fake-twilio-auth-token"
FINAL_STATUSES = ("delivered", "undelivered", "failed")
CALL_OUTCOMES = ("completed", "no-answer", "busy", "failed")

# Twilio error code → (HTTP status, message).
ERRORS = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    21205: (400, "Url or Twiml is required to make a call."),
    21211: (400, "The 'To' number is not a valid phone number."),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' or 'MessagingServiceSid' parameter is required to send a message."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
}
# What `fail_next` can script for the next message creations.
FAILURE_KINDS = {
    "server_error": 20500,
    "rate_limit": 20429,
    "invalid_number": 21211,
    "unsubscribed": 21610,
    "hang": None,  # accept the message, then answer too late (client times out)
    "hang_unaccepted": None,  # stall without accepting it
}
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def twilio_signature(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """X-Twilio-Signature of a form POST to `url`: HMAC-SHA1 over url + sorted key/values."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _rfc2822(moment):
    return email.utils.format_datetime(moment) if moment else None


def _parse_date(value):
    """A DateSent filter value: "YYYY-MM-DD" or an ISO-8601 datetime (the client sends both)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class FakeTwilio:
    """The fake server. Every accepted message is in `messages` (dicts shaped like Twilio's).

    Scripting (thread-safe, usable while the client runs): `fail_next(kind, count)`,
    `add_rule(suffix, error=… | outcome=…, error_code=…)`, `set_status(sid, status)`,
    `send_inbound(url, from_=…, body=…)`. `hang_s` bounds how long a hung request stalls.
    """

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_SID,
        auth_token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        auto_callbacks: bool = True,
        hang_s: float = 30.0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host, self.port = host, port
        self.auto_callbacks = auto_callbacks
        self.hang_s = hang_s
        self.messages = []
        self.calls = []  # dicts shaped like Twilio's Call resource, plus the TwiML it reads
        self.callbacks = []  # (url, params, HTTP status or error text), in posting order
        self._failures = []
        self._rules = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._callback_queue = queue.Queue()
        self._server = self._threads = None
        self._seq = itertools.count()
        self._urls = Map(
            [
                Rule(f"{API}/Messages.json", methods=["POST"], endpoint="create"),
                Rule(f"{API}/Messages.json", methods=["GET"], endpoint="list"),
                Rule(f"{API}/Messages/<sid>.json", methods=["GET"], endpoint="fetch"),
                Rule(f"{API}/Calls.json", methods=["POST"], endpoint="create_call"),
                Rule(f"{API}/Calls/<sid>.json", methods=["GET"], endpoint="fetch_call"),
                Rule("/_fake/calls/<sid>/press", methods=["POST"], endpoint="ctl_press"),
                Rule("/_fake/calls/<sid>/status", methods=["POST"], endpoint="ctl_call_status"),
                Rule("/_fake/failures", methods=["POST"], endpoint="ctl_fail"),
                Rule("/_fake/rules", methods=["POST"], endpoint="ctl_rule"),
                Rule("/_fake/messages", methods=["GET"], endpoint="ctl_messages"),
                Rule("/_fake/messages/<sid>/status", methods=["POST"], endpoint="ctl_status"),
                Rule("/_fake/inbound", methods=["POST"], endpoint="ctl_inbound"),
                Rule("/_fake/reset", methods=["POST"], endpoint="ctl_reset"),
            ]
        )

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Where to point the twilio backend (config "base_url")."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> "FakeTwilio":
        self._stopping.clear()
        self._server = make_server(self.host, self.port, self, threaded=True)
        self.port = self._server.server_port
        self._threads = [
            # A short poll interval makes stop() quick (tests start and stop many fakes).
            threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-twilio", daemon=True),
            threading.Thread(target=self._post_callbacks, name="fake-twilio-cb", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # releases hung requests
        self._callback_queue.put(None)
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> "FakeTwilio":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting -------------------------------------------------------------------------

    def fail_next(self, kind: str, count: int = 1) -> None:
        """Make the next `count` message creations fail: one of FAILURE_KINDS."""
        if kind not in FAILURE_KINDS:
            msg = f"unknown failure {kind!r}; one of {', '.join(FAILURE_KINDS)}"
            raise ValueError(msg)
        with self._lock:
            self._failures.extend([kind] * count)

    def add_rule(
        self, suffix: str, *, error: int | None = None, outcome: str | None = None, error_code: int | None = None
    ) -> None:
        """Numbers ending in `suffix` are refused with Twilio `error` (21211, 21610) or end in
        `outcome` ("undelivered"/"failed", with `error_code` e.g. 30003) instead of delivered."""
        if (error is None) == (outcome is None):
            msg = "give exactly one of error= or outcome="
            raise ValueError(msg)
        if error is not None and error not in ERRORS:
            msg = f"unknown Twilio error {error}; known: {sorted(ERRORS)}"
            raise ValueError(msg)
        if outcome is not None and outcome not in FINAL_STATUSES + CALL_OUTCOMES:
            msg = f"outcome must be one of {FINAL_STATUSES + CALL_OUTCOMES}"
            raise ValueError(msg)
        with self._lock:
            self._rules.append({"suffix": suffix, "error": error, "outcome": outcome, "error_code": error_code})

    def reset(self) -> None:
        """Forget messages, callbacks, scripted failures and rules."""
        with self._lock:
            self.messages.clear()
            self.calls.clear()
            self.callbacks.clear()
            self._failures.clear()
            self._rules.clear()

    def messages_to(self, number: str) -> list[dict]:
        """Accepted messages to `number`, oldest first."""
        with self._lock:
            return [dict(m) for m in self.messages if m["to"] == number]

    def set_status(self, sid: str, status: str, *, error_code: int | None = None) -> None:
        """Move message `sid` to `status` and post its signed status callback (if it has one)."""
        with self._lock:
            message = self._find(sid)
            if message is None:
                raise KeyError(sid)
            self._advance(message, status, error_code)
            job = self._callback_job(message)
        if job:
            self._post(*job)

    def send_inbound(self, url: str, *, from_: str, body: str, to: str | None = None) -> object:
        """Post a signed inbound-SMS webhook to `url`, as Twilio does; returns the HTTP status."""
        sid = "SM" + secrets.token_hex(16)
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "Body": body,
            "From": from_,
            "To": to or "+15005550006",
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "SmsStatus": "received",
            "NumMedia": "0",
            "NumSegments": "1",
        }
        return self._post(url, params)

    # -- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, args = self._urls.bind_to_environ(environ).match()
            if endpoint.startswith("ctl_"):
                response = getattr(self, f"_{endpoint}")(request, **args)
            elif not self._authorized(request):
                response = self._error(20003)
            elif args.pop("account") != self.account_sid:
                response = self._error(20404)
            else:
                response = getattr(self, f"_{endpoint}")(request, **args)
        except HTTPException as exc:
            response = exc.get_response()
        return response(environ, start_response)

    def _authorized(self, request):
        auth = request.authorization
        return bool(auth) and (auth.username, auth.password) == (self.account_sid, self.auth_token)

    @staticmethod
    def _json(payload, status=200, headers=None):
        return Response(json.dumps(payload), status=status, headers=headers, content_type="application/json")

    def _error(self, code, headers=None):
        status, message = ERRORS[code]
        return self._json(
            {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
            status,
            headers,
        )

    def _create(self, request):
        form = request.form
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure == "hang_unaccepted":
            self._stopping.wait(self.hang_s)
            return self._error(20500)
        if failure and FAILURE_KINDS[failure]:
            code = FAILURE_KINDS[failure]
            return self._error(code, {"Retry-After": "2"} if code == 20429 else None)
        to = form.get("To", "")
        if not _E164.match(to):
            return self._error(21211)
        if not form.get("Body"):
            return self._error(21602)
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return self._error(21603)
        with self._lock:
            rule = next((r for r in self._rules if to.endswith(r["suffix"])), None)
            if rule and rule["error"]:
                return self._error(rule["error"])
            message = self._new_message(form, rule)
            self.messages.append(message)
            public = self._public(message)
        if self.auto_callbacks:
            self._callback_queue.put(message["sid"])
        if failure == "hang":
            self._stopping.wait(self.hang_s)
        return self._json(public, 201)

    def _new_message(self, form, rule):
        now = datetime.now(UTC)
        sid = "SM" + secrets.token_hex(16)
        body = form["Body"]
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "to": form["To"],
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "body": body,
            "status": "queued",
            "direction": "outbound-api",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "num_media": "0",
            "num_segments": str(count_segments(body).segments),
            "price": None,
            "price_unit": "USD",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            # Not part of Twilio's JSON; kept for the callbacks.
            "_status_callback": form.get("StatusCallback") or None,
            "_outcome": (rule["outcome"], rule["error_code"]) if rule else ("delivered", None),
            "_seq": next(self._seq),
        }

    @staticmethod
    def _public(message):
        out = {k: v for k, v in message.items() if not k.startswith("_")}
        for key in ("date_created", "date_updated", "date_sent", "start_time", "end_time"):
            if key in out:
                out[key] = _rfc2822(out[key])
        return out

    def _find(self, sid):
        return next((m for m in self.messages if m["sid"] == sid), None)

    def _fetch(self, request, sid):
        with self._lock:
            message = self._find(sid)
            return self._json(self._public(message)) if message else self._error(20404)

    def _list(self, request):
        args = request.args
        try:
            page = int(args.get("Page", 0))
            size = max(1, min(int(args.get("PageSize", 50)), 1000))
            filters = [
                (op, _parse_date(args[key]))
                for key, op in (("DateSent", "="), ("DateSent>", ">="), ("DateSent<", "<="))
                if key in args
            ]
        except ValueError:
            return self._json({"code": 20001, "message": "Invalid parameter", "status": 400}, 400)
        with self._lock:
            found = [
                m
                for m in self.messages
                if args.get("To") in (None, m["to"])
                and args.get("From") in (None, m["from"])
                and all(self._date_matches(m["date_sent"], op, value) for op, value in filters)
            ]
            # Twilio lists newest first.
            found.sort(key=lambda m: (m["date_created"], m["_seq"]), reverse=True)
            items = [self._public(m) for m in found[page * size : (page + 1) * size]]
        base = {k: v for k, v in args.items() if k not in ("Page", "PageSize", "PageToken")}

        def uri(number):
            query = urllib.parse.urlencode(
                {**base, "PageSize": size, "Page": number, **({"PageToken": f"PA{number}"} if number else {})}
            )
            return f"/2010-04-01/Accounts/{self.account_sid}/Messages.json?{query}"

        has_next = (page + 1) * size < len(found)
        return self._json(
            {
                "messages": items,
                "page": page,
                "page_size": size,
                "start": page * size,
                "end": page * size + max(len(items) - 1, 0),
                "uri": uri(page),
                "first_page_uri": uri(0),
                "next_page_uri": uri(page + 1) if has_next else None,
                "previous_page_uri": uri(page - 1) if page else None,
            }
        )

    @staticmethod
    def _date_matches(date_sent, op, value):
        if date_sent is None:
            return False  # like Twilio: a queued message has no date_sent yet
        if op == "=":
            return date_sent.date() == value.date()
        return date_sent >= value if op == ">=" else date_sent <= value

    # -- status callbacks ------------------------------------------------------------------

    def _advance(self, message, status, error_code):
        now = datetime.now(UTC)
        message["status"] = status
        message["date_updated"] = now
        if status in ("sent", *FINAL_STATUSES) and message["date_sent"] is None:
            message["date_sent"] = now
        if error_code is not None:
            message["error_code"] = int(error_code)

    def _callback_job(self, message):
        url = message["_status_callback"]
        if not url:
            return None
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message["from"] or "",
            "To": message["to"],
            "MessageSid": message["sid"],
            "SmsSid": message["sid"],
            "MessageStatus": message["status"],
            "SmsStatus": message["status"],
        }
        if message["messaging_service_sid"]:
            params["MessagingServiceSid"] = message["messaging_service_sid"]
        if message["error_code"] is not None:
            params["ErrorCode"] = str(message["error_code"])
        return url, params

    def _post_callbacks(self):
        """Walk each accepted message through sent → its outcome, posting each step in order."""
        while (sid := self._callback_queue.get()) is not None:
            if sid.startswith("CA"):
                self._walk_call(sid)
                continue
            with self._lock:
                message = self._find(sid)
                if message is None:  # reset() meanwhile
                    continue
                status, error_code = message["_outcome"]
                jobs = []
                for step, code in (("sent", None), (status, error_code)):
                    self._advance(message, step, code)
                    jobs.append(self._callback_job(message))
            for job in jobs:
                if job and not self._stopping.is_set():
                    self._post(*job)

    # -- voice calls -------------------------------------------------------------------------

    def calls_to(self, number: str) -> list[dict]:
        """Created calls to `number`, oldest first."""
        with self._lock:
            return [dict(c) for c in self.calls if c["to"] == number]

    def _create_call(self, request):
        form = request.form
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure and FAILURE_KINDS[failure]:
            code = FAILURE_KINDS[failure]
            return self._error(code, {"Retry-After": "2"} if code == 20429 else None)
        to = form.get("To", "")
        if not _E164.match(to):
            return self._error(21211)
        if not form.get("From"):
            return self._error(21603)
        if not (form.get("Twiml") or form.get("Url")):
            return self._error(21205)
        now = datetime.now(UTC)
        sid = "CA" + secrets.token_hex(16)
        with self._lock:
            rule = next((r for r in self._rules if to.endswith(r["suffix"])), None)
            if rule and rule["error"]:
                return self._error(rule["error"])
            call = {
                "sid": sid,
                "account_sid": self.account_sid,
                "api_version": "2010-04-01",
                "to": to,
                "from": form["From"],
                "status": "queued",
                "direction": "outbound-api",
                "date_created": now,
                "date_updated": now,
                "start_time": None,
                "end_time": None,
                "duration": None,
                "price": None,
                "price_unit": "USD",
                "answered_by": None,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json",
                "subresource_uris": {},
                "_twiml": form.get("Twiml") or None,
                "_url": form.get("Url") or None,
                "_status_callback": form.get("StatusCallback") or None,
                "_events": set(form.getlist("StatusCallbackEvent")) or {"completed"},
                # A rule's outcome for calls: "no-answer", "busy", "failed"; default answered.
                "_outcome": rule["outcome"] if rule and rule["outcome"] in CALL_OUTCOMES else "completed",
                "_seq": next(self._seq),
            }
            self.calls.append(call)
            public = self._public(call)
        if self.auto_callbacks:
            self._callback_queue.put(sid)
        return self._json(public, 201)

    def _fetch_call(self, request, sid):
        with self._lock:
            call = next((c for c in self.calls if c["sid"] == sid), None)
            return self._json(self._public(call)) if call else self._error(20404)

    def _call_params(self, call, **extra):
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": call["sid"],
            "CallStatus": call["status"],
            "Direction": "outbound-api",
            "From": call["from"],
            "To": call["to"],
            "Called": call["to"],
            "Caller": call["from"],
        }
        if call["duration"] is not None:
            params["CallDuration"] = str(call["duration"])
        return params | extra

    def _walk_call(self, sid):
        """initiated → ringing → answered (fetching TwiML from Url) → its outcome, with callbacks."""
        for status in ("initiated", "ringing", "in-progress", "end"):
            if self._stopping.is_set():
                return
            with self._lock:
                call = next((c for c in self.calls if c["sid"] == sid), None)
                if call is None or call["status"] in CALL_OUTCOMES:
                    return
                event = {"initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}.get(status, "completed")
                if status == "end":
                    status = call["_outcome"]
                    if status == "completed":
                        # Answered calls end when the test presses a key or sets the status.
                        return
                if status == "in-progress" and call["_outcome"] != "completed":
                    continue
                self._set_call(call, status)
                job = (
                    (call["_status_callback"], self._call_params(call))
                    if call["_status_callback"] and (event in call["_events"] or status in CALL_OUTCOMES)
                    else None
                )
                url = call["_url"] if status == "in-progress" and not call["_twiml"] else None
            if url:
                self._fetch_twiml(sid, url)
            if job:
                self._post(*job)

    def _set_call(self, call, status):
        now = datetime.now(UTC)
        call["status"] = status
        call["date_updated"] = now
        if status == "in-progress":
            call["start_time"] = now
        if status in CALL_OUTCOMES:
            call["end_time"] = now
            call["duration"] = int((now - (call["start_time"] or now)).total_seconds()) if call["start_time"] else 0

    def _fetch_twiml(self, sid, url):
        with self._lock:
            call = next(c for c in self.calls if c["sid"] == sid)
            params = self._call_params(call)
        outcome, body = self._post(url, params, with_body=True)
        with self._lock:
            call["_twiml"] = body if outcome == 200 else None

    def press(self, sid: str, digits: str) -> tuple[object, str | None]:
        """The callee presses `digits`: posts the signed <Gather> callback to its action URL.

        Returns (HTTP status, TwiML answered). Raises KeyError for an unknown call and
        ValueError when the call's TwiML has no <Gather> with an action.
        """
        with self._lock:
            call = next((c for c in self.calls if c["sid"] == sid), None)
            if call is None:
                raise KeyError(sid)
            match = re.search(r"<Gather\b[^>]*\baction=\"([^\"]+)\"", call["_twiml"] or "")
            if not match:
                msg = f"call {sid} reads no <Gather action=…>"
                raise ValueError(msg)
            url = html.unescape(match[1])
            if call["status"] != "in-progress":
                self._set_call(call, "in-progress")
            params = self._call_params(call, Digits=digits)
        answer = self._post(url, params, with_body=True)
        # Twilio reads the action's TwiML, then hangs up: the call completes.
        self.set_call_status(sid, "completed")
        return answer

    def set_call_status(self, sid: str, status: str) -> None:
        """End call `sid` with `status` ("completed", "no-answer", "busy", "failed"), posting its callback."""
        if status not in CALL_OUTCOMES:
            msg = f"status must be one of {CALL_OUTCOMES}"
            raise ValueError(msg)
        with self._lock:
            call = next((c for c in self.calls if c["sid"] == sid), None)
            if call is None:
                raise KeyError(sid)
            self._set_call(call, status)
            job = (call["_status_callback"], self._call_params(call)) if call["_status_callback"] else None
        if job:
            self._post(*job)

    def _ctl_press(self, request, sid):
        body = request.get_json(force=True)
        status, twiml = self.press(sid, str(body["digits"]))
        return self._json({"status": status, "twiml": twiml})

    def _ctl_call_status(self, request, sid):
        self.set_call_status(sid, request.get_json(force=True)["status"])
        return self._json({"ok": True})

    def _post(self, url, params, *, with_body=False):
        data = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={
                "X-Twilio-Signature": twilio_signature(url, params, self.auth_token),
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "TwilioProxy/1.1",
            },
        )
        body = None
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                outcome = response.status
                body = response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            outcome = exc.code
        except OSError as exc:
            outcome = f"error: {exc}"  # Twilio would retry later; the fake only records it
        with self._lock:
            self.callbacks.append((url, params, outcome))
        return (outcome, body) if with_body else outcome

    # -- control API (JSON; for a fake running in another process) ---------------------------

    def _ctl_fail(self, request):
        body = request.get_json(force=True)
        self.fail_next(body["kind"], int(body.get("count", 1)))
        return self._json({"ok": True})

    def _ctl_rule(self, request):
        body = request.get_json(force=True)
        self.add_rule(body["suffix"], error=body.get("error"), outcome=body.get("outcome"), error_code=body.get("error_code"))
        return self._json({"ok": True})

    def _ctl_messages(self, request):
        with self._lock:
            return self._json(
                {"messages": [self._public(m) for m in self.messages], "callbacks": [[u, p, o] for u, p, o in self.callbacks]}
            )

    def _ctl_status(self, request, sid):
        body = request.get_json(force=True)
        self.set_status(sid, body["status"], error_code=body.get("error_code"))
        return self._json({"ok": True})

    def _ctl_inbound(self, request):
        body = request.get_json(force=True)
        status = self.send_inbound(body["url"], from_=body["from"], body=body["body"], to=body.get("to"))
        return self._json({"status": status})

    def _ctl_reset(self, request):
        self.reset()
        return self._json({"ok": True})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m contacts.standins.twilio", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8021, help="0 picks a free port")
    parser.add_argument("--sid", default=DEFAULT_SID)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument(
        "--rule", action="append", default=[], metavar="SUFFIX=WHAT", help="e.g. 0000=21211, 9999=undelivered:30003 (repeatable)"
    )
    parser.add_argument("--no-callbacks", action="store_true")
    args = parser.parse_args(argv)
    fake = FakeTwilio(
        account_sid=args.sid, auth_token=args.token, host=args.host, port=args.port, auto_callbacks=not args.no_callbacks
    )
    for rule in args.rule:
        suffix, _, what = rule.partition("=")
        if what.isdigit():
            fake.add_rule(suffix, error=int(what))
        else:
            outcome, _, code = what.partition(":")
            fake.add_rule(suffix, outcome=outcome, error_code=int(code) if code else None)
    fake.start()
    # The first line tells a parent process where we listen (useful with --port 0).
    print(f"fake twilio listening on {fake.base_url} (account {fake.account_sid})", flush=True)
    try:
        fake._threads[0].join()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
