"""The SmsGateway protocol, its value types and the registry of backends.

Adding a provider (Aliyun, Tencent, Huawei …) is one module in `contacts/backends/` with a
`create(config) -> SmsGateway` function, registered here or with `register_backend()`.
"""

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from contacts.errors import GatewayConfigError

# Provider statuses are mapped to these; anything else is kept as the provider spelt it.
DELIVERY_STATUSES = ("queued", "sent", "delivered", "undelivered", "failed")


@dataclass(frozen=True)
class OutgoingSms:
    """One SMS to send; `reference` is the caller's id (the outbox row), unique per message.

    `template` (a message kind, see `contacts.templating`) and `params` (its values) are what
    template-only providers (Aliyun) send; the others send `body`, the rendered text.
    """

    to: str
    body: str
    reference: str
    status_callback: str | None = None
    template: str | None = None
    params: Mapping[str, str] | None = None


@dataclass(frozen=True)
class SendResult:
    """What the provider said: its message id and status ("queued", "sent", …)."""

    provider_id: str
    status: str


@dataclass(frozen=True)
class InboundSms:
    """A reply as received; `from_` and `to` in E.164, `received_at` aware UTC."""

    from_: str
    to: str
    body: str
    provider_id: str | None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class DeliveryReceipt:
    """A status report for a message sent earlier; `status` one of DELIVERY_STATUSES."""

    provider_id: str
    status: str
    error_code: str | None = None
    # The caller's reference (OutgoingSms.reference) when the provider echoes it (Aliyun out_id).
    reference: str | None = None
    # The recipient in E.164 when the provider tells (Aliyun batches share one id).
    to: str | None = None


@runtime_checkable
class SmsGateway(Protocol):
    """How the application sends SMS and reads provider webhooks.

    - `send(sms)` returns a `SendResult` once the provider has accepted the message, or
      raises `TransientSendError` (try again later; look it up first if `maybe_sent`) or
      `PermanentSendError(code, message)` (never retry this message).
    - `lookup(sms, since=…, provider_id=None)` asks the provider whether `sms` was already
      accepted since `since` (e.g. the sender crashed between sending and recording);
      returns its `SendResult` or None. Raises `TransientSendError` when it cannot tell.
    - `verify_webhook(url, params, headers)` says whether a webhook really comes from the
      provider; `url` is the public URL the provider called.
    - `parse_inbound(params)` / `parse_status(params)` read the provider's webhook form into
      an `InboundSms` / `DeliveryReceipt`.
    """

    name: str

    def send(self, sms: OutgoingSms) -> SendResult: ...

    def lookup(self, sms: OutgoingSms, *, since: datetime, provider_id: str | None = None) -> SendResult | None: ...

    def verify_webhook(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> bool: ...

    def parse_inbound(self, params: Mapping[str, str]) -> InboundSms: ...

    def parse_status(self, params: Mapping[str, str]) -> DeliveryReceipt: ...


Factory = Callable[[dict], SmsGateway]


def _lazy(module: str, function: str = "create") -> Callable[[dict], object]:
    """A factory that imports `module` on first use, so a console-only setup never imports an SDK."""

    def factory(config: dict) -> object:
        return getattr(importlib.import_module(module), function)(config)

    factory.__qualname__ = f"{module}.{function}"
    return factory


# The registry is data: backend name → factory(config). `register_backend` adds to it.
_BUILTIN: dict[str, Factory] = {
    "console": _lazy("contacts.backends.console"),
    "fake": _lazy("contacts.backends.fake"),
    "twilio": _lazy("contacts.backends.twilio"),
    "aliyun": _lazy("contacts.backends.aliyun"),
}
_registry: dict[str, Factory] = {}


def register_backend(name: str, factory: Factory) -> None:
    """Make `create_gateway(name, config)` call `factory(config)`; replaces a backend of that name."""
    _registry[name] = factory


def available_backends() -> list[str]:
    """Names `create_gateway` accepts."""
    return sorted(set(_BUILTIN) | set(_registry))


def create_gateway(name: str, config: Mapping[str, object] | None = None) -> SmsGateway:
    """Create the gateway called `name` from `config`, or raise `GatewayConfigError`."""
    factory = _registry.get(name) or _BUILTIN.get(name)
    if factory is None:
        msg = f"unknown SMS backend {name!r}; available: {', '.join(available_backends())}"
        raise GatewayConfigError(msg)
    return factory(dict(config or {}))


def check_config(
    backend: str,
    config: Mapping[str, object],
    *,
    required: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
    what: str = "SMS backend",
) -> None:
    """Fail fast on missing or unknown keys (a typo must not silently fall back to defaults)."""
    missing = [key for key in required if not config.get(key)]
    unknown = sorted(set(config) - set(required) - set(optional))
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown {', '.join(unknown)}")
    if problems:
        msg = f"{what} {backend!r}: {'; '.join(problems)}"
        raise GatewayConfigError(msg)
