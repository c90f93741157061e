"""Console backend: logs each SMS and never reaches a phone (the embedded default)."""

import logging
import threading
import uuid
from collections.abc import Mapping
from datetime import datetime

from contacts.gateway import DeliveryReceipt, InboundSms, OutgoingSms, SendResult, check_config
from contacts.webhooks import FormWebhooks, parse_inbound_form, parse_status_form

logger = logging.getLogger("contacts.sms.console")


class ConsoleGateway(FormWebhooks):
    """Logs messages at INFO; `lookup` knows only what this process sent."""

    name = "console"

    def __init__(self) -> None:
        self._sent = {}
        self._lock = threading.Lock()

    def send(self, sms: OutgoingSms) -> SendResult:
        result = SendResult(f"console-{uuid.uuid4().hex}", "sent")
        with self._lock:
            self._sent[sms.reference] = result
        logger.info("SMS to %s [%s] id=%s: %s", sms.to, sms.reference, result.provider_id, sms.body)
        return result

    def lookup(self, sms: OutgoingSms, *, since: datetime, provider_id: str | None = None) -> SendResult | None:
        with self._lock:
            return self._sent.get(sms.reference)

    def verify_webhook(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> bool:
        # Nothing signs console webhooks; only used on a developer's machine.
        return True

    def parse_inbound(self, params: Mapping[str, str], *, now: datetime | None = None) -> InboundSms:
        return parse_inbound_form(params, now=now)

    def parse_status(self, params: Mapping[str, str]) -> DeliveryReceipt:
        return parse_status_form(params)


def create(config: dict) -> ConsoleGateway:
    check_config("console", config)
    return ConsoleGateway()
