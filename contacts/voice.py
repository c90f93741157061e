"""Voice calls: the VoiceGateway protocol, its value types and the registry of voice backends.

A call reads a script (a rendered voice template, see `contacts.templating.render_call`) and, where
the provider supports it, takes one keypress: 1 接受, 2 拒绝. Providers report the call's
progress (and the key pressed) to webhooks that the backend verifies and reads, like SMS ones.
"""

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from contacts.errors import GatewayConfigError, PermanentSendError
from contacts.gateway import _lazy, check_config
from contacts.webhooks import WebhookBatch, WebhookReply, WebhookRequest

# Provider call statuses are mapped to these.
CALL_STATUSES = ("queued", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled")
FINAL_CALL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
# A key pressed → what it means.
KEYPRESS_ANSWERS = {"1": "accept", "2": "decline"}


@dataclass(frozen=True)
class OutgoingCall:
    """One call to place: `script` is read aloud; `template`/`params` for template-only providers.

    `reference` is the caller's id (unique per call); `status_callback` and `gather_callback`
    are the public URLs the provider reports progress and the keypress to (where it takes them
    per call).
    """

    to: str
    script: str
    reference: str
    template: str | None = None
    params: Mapping[str, str] | None = None
    status_callback: str | None = None
    gather_callback: str | None = None


@dataclass(frozen=True)
class CallResult:
    """The provider's id of the call and its first status."""

    provider_id: str
    status: str


@dataclass(frozen=True)
class CallEvent:
    """A call's progress or outcome; `answer` "accept"/"decline" when a key was pressed."""

    provider_id: str
    status: str
    reference: str | None = None
    digits: str | None = None
    answer: str | None = None
    duration_s: int | None = None
    error_code: str | None = None
    to: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


def answer_for(digits: str | None) -> str | None:
    """ "accept" for 1, "decline" for 2, None for anything else (the first key counts)."""
    return KEYPRESS_ANSWERS.get((digits or "").strip()[:1])


@runtime_checkable
class VoiceGateway(Protocol):
    """How the application places calls and reads the provider's call webhooks.

    - `call(call)` returns a `CallResult` once the provider accepted it, or raises
      `TransientSendError` / `PermanentSendError` like an SMS send.
    - `verify_webhook(url, params, headers)` says whether a webhook comes from the provider.
    - `read_call_events(request)` reads a status, report or keypress webhook into `CallEvent`s.
    - `webhook_reply(kind, message=None)` is the answer the provider expects ("status" or
      "gather"; for a gather, `message` is read back to the caller where the provider can).
    - `supports_keypress`: whether the callee can answer 1/2 during the call.
    """

    name: str
    supports_keypress: bool

    def call(self, call: OutgoingCall) -> CallResult: ...

    def verify_webhook(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> bool: ...

    def read_call_events(self, request: WebhookRequest) -> WebhookBatch: ...

    def webhook_reply(self, kind: str, message: str | None = None) -> WebhookReply: ...


class NoVoiceGateway:
    """`none`: calls are switched off; `call` refuses, so the escalation chain skips the step."""

    name = "none"
    supports_keypress = False
    enabled = False

    def call(self, call: OutgoingCall) -> CallResult:
        raise PermanentSendError("voice_disabled", "未启用语音呼叫")

    def verify_webhook(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> bool:
        return False

    def read_call_events(self, request: WebhookRequest) -> WebhookBatch:
        return WebhookBatch()

    def webhook_reply(self, kind: str, message: str | None = None) -> WebhookReply:
        return WebhookReply(404, "", "text/plain")


logger = logging.getLogger("contacts.voice.console")


class ConsoleVoiceGateway:
    """`console`: logs each call (the embedded default); `press(call_id, digits)` fakes a keypress."""

    name = "console"
    supports_keypress = True
    enabled = True

    def __init__(self) -> None:
        self.calls: list[tuple[OutgoingCall, CallResult]] = []
        self._lock = threading.Lock()

    def call(self, call: OutgoingCall) -> CallResult:
        result = CallResult(f"console-call-{uuid.uuid4().hex}", "queued")
        with self._lock:
            self.calls.append((call, result))
        logger.info("CALL to %s [%s] id=%s: %s", call.to, call.reference, result.provider_id, call.script)
        return result

    def press(self, provider_id: str, digits: str) -> CallEvent:
        """The event a keypress on call `provider_id` would report."""
        with self._lock:
            found = next(((c, r) for c, r in self.calls if r.provider_id == provider_id), None)
        if found is None:
            raise KeyError(provider_id)
        call, _ = found
        return CallEvent(
            provider_id, "in-progress", reference=call.reference, digits=digits, answer=answer_for(digits), to=call.to
        )

    def verify_webhook(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> bool:
        # Nothing signs console webhooks; only used on a developer's machine.
        return True

    def read_call_events(self, request: WebhookRequest) -> WebhookBatch:
        form = request.form
        sid = form.get("CallSid")
        if not sid:
            return WebhookBatch((), ((0, "CallSid missing"),))
        digits = form.get("Digits") or None
        return WebhookBatch(
            (
                CallEvent(
                    sid,
                    (form.get("CallStatus") or "in-progress").lower(),
                    digits=digits,
                    answer=answer_for(digits),
                    to=form.get("To") or None,
                ),
            )
        )

    def webhook_reply(self, kind: str, message: str | None = None) -> WebhookReply:
        return WebhookReply(204, "", "text/plain")


VoiceFactory = Callable[[dict], VoiceGateway]


def _create_none(config: dict) -> NoVoiceGateway:
    check_config("none", config, what="voice backend")
    return NoVoiceGateway()


def _create_console(config: dict) -> ConsoleVoiceGateway:
    check_config("console", config, what="voice backend")
    return ConsoleVoiceGateway()


# The registry is data: backend name → factory(config); SDK-backed ones are imported on first use.
_BUILTIN_VOICE: dict[str, VoiceFactory] = {
    "none": _create_none,
    "console": _create_console,
    "twilio": _lazy("contacts.backends.twilio", "create_voice"),
    "aliyun": _lazy("contacts.backends.aliyun", "create_voice"),
}
_voice_registry: dict[str, VoiceFactory] = {}


def register_voice_backend(name: str, factory: VoiceFactory) -> None:
    """Make `create_voice_gateway(name, config)` call `factory(config)`."""
    _voice_registry[name] = factory


def available_voice_backends() -> list[str]:
    """Names `create_voice_gateway` accepts."""
    return sorted(set(_BUILTIN_VOICE) | set(_voice_registry))


def create_voice_gateway(name: str, config: Mapping[str, object] | None = None) -> VoiceGateway:
    """Create the voice gateway called `name` from `config`, or raise `GatewayConfigError`."""
    factory = _voice_registry.get(name) or _BUILTIN_VOICE.get(name)
    if factory is None:
        msg = f"unknown voice backend {name!r}; available: {', '.join(available_voice_backends())}"
        raise GatewayConfigError(msg)
    return factory(dict(config or {}))
