"""Exceptions raised by the contacts package."""


class ContactsError(Exception):
    """Base class of every error raised by `contacts`."""


class InvalidPhoneError(ContactsError, ValueError):
    """A phone number that cannot be normalised; `reason` is shown to people (Chinese)."""

    def __init__(self, raw: object, reason: str) -> None:
        self.raw = raw
        self.reason = reason
        super().__init__(f"{reason}: {raw!r}")


class InvalidSignatureError(ContactsError, ValueError):
    """An SMS signature that domestic gateways would reject."""


class GatewayConfigError(ContactsError):
    """A gateway that cannot be created from the given configuration."""


class SendError(ContactsError):
    """A message the provider did not accept."""


class TransientSendError(SendError):
    """Try again later.

    `retry_after` (seconds) is the provider's hint, if any. `maybe_sent` is True when the
    provider may have accepted the message anyway (a read time-out, a 5xx): call
    `gateway.lookup()` before sending again, or the responder gets the SMS twice.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, maybe_sent: bool = False) -> None:
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent
        super().__init__(message)


class PermanentSendError(SendError):
    """Sending again will not help (invalid number, unsubscribed, rejected content)."""

    def __init__(self, code: int | str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")
