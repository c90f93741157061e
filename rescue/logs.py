"""Log set-up of the service's processes: one line per event, third-party chatter kept down."""

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# what these say at INFO is noise for an operator: a line per scheduler tick, per provider HTTP request,
# per schema check on /health
QUIET = ("apscheduler", "twilio.http_client", "alembic")


def quiet_libraries() -> None:
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def setup(level: int = logging.INFO) -> None:
    """Log to stderr once (a second call adds no second handler), with third-party chatter kept down."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level, format=FORMAT)
    quiet_libraries()
