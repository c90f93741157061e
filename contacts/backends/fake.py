"""In-memory backend for tests: records sends and fails on request."""

import itertools
import threading
from collections.abc import Mapping
from datetime import datetime

from contacts.errors import PermanentSendError, TransientSendError
from contacts.gateway import DeliveryReceipt, InboundSms, OutgoingSms, SendResult, check_config
from contacts.webhooks import FormWebhooks, parse_inbound_form, parse_status_form


class FakeGateway(FormWebhooks):
    """Records every accepted message in `sent`; `fail_next()` scripts failures.

    Thread-safe, so an outbox drained by several threads can be tested against it.
    """

    name = "fake"

    def __init__(self, *, webhooks_valid: bool = True) -> None:
        self.sent = []
        self.webhooks_valid = webhooks_valid
        self._failures = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def fail_next(
        self,
        kind: str = "transient",
        count: int = 1,
        *,
        code: int | str = 21211,
        retry_after: float | None = None,
        accepted: bool = False,
    ) -> None:
        """Make the next `count` sends fail.

        `kind` "transient" or "permanent" (with `code`). `accepted=True` records the message
        anyway before raising a transient error with maybe_sent, like a time-out after the
        provider took it.
        """
        if kind not in ("transient", "permanent"):
            msg = f"kind must be 'transient' or 'permanent', not {kind!r}"
            raise ValueError(msg)
        with self._lock:
            self._failures.extend([(kind, code, retry_after, accepted)] * count)

    def send(self, sms: OutgoingSms) -> SendResult:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
            if failure and failure[0] == "permanent":
                raise PermanentSendError(failure[1], "fake permanent failure")
            if failure is None or failure[3]:
                result = SendResult(f"FAKE{next(self._ids):06d}", "queued")
                self.sent.append((sms, result))
            if failure:
                raise TransientSendError("fake transient failure", retry_after=failure[2], maybe_sent=failure[3])
            return result

    def sent_to(self, number: str) -> list[str]:
        """Bodies sent to `number`, oldest first."""
        with self._lock:
            return [sms.body for sms, _ in self.sent if sms.to == number]

    def lookup(self, sms: OutgoingSms, *, since: datetime, provider_id: str | None = None) -> SendResult | None:
        with self._lock:
            for sent, result in self.sent:
                if sent.reference == sms.reference or result.provider_id == provider_id:
                    return result
        return None

    def verify_webhook(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> bool:
        return self.webhooks_valid

    def parse_inbound(self, params: Mapping[str, str], *, now: datetime | None = None) -> InboundSms:
        return parse_inbound_form(params, now=now)

    def parse_status(self, params: Mapping[str, str]) -> DeliveryReceipt:
        return parse_status_form(params)


def create(config: dict) -> FakeGateway:
    check_config("fake", config, optional=("webhooks_valid",))
    return FakeGateway(webhooks_valid=config.get("webhooks_valid", True))
