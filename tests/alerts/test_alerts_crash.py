"""Crash safety: the sender process is SIGKILLed mid-batch and restarted; no message is lost or silently doubled."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from contacts.standins.twilio import FakeTwilio
from rescue.db import utcnow
from rescue.dispatch import dispatches
from rescue.models import OutboxMessage
from tests.alerts.conftest import make_incident, ranking_for, teams_with
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[2]


class HeldFake(FakeTwilio):
    """Takes messages at once, except that the answer to message number `hold_at` is held (taken, answer in
    flight) until `release` is set: the test kills the sender while it waits, at a known point, not a guessed time."""

    hold_at = 5

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.held = threading.Event()  # the sender is waiting for the held answer
        self.release = threading.Event()

    def _create(self, request):
        response = super()._create(request)
        if len(self.messages) == self.hold_at and not self.held.is_set():
            self.held.set()
            self.release.wait(60)
        return response


def _worker(url, fake, tmp_path, log):
    env = {
        **os.environ,
        "RESCUE_DATABASE_URL": url,
        "RESCUE_SECRET_KEY": "crash-test",
        "RESCUE_DEMO": "1",
        "RESCUE_SMS_BACKEND": "twilio",
        "RESCUE_TWILIO_ACCOUNT_SID": fake.account_sid,
        "RESCUE_TWILIO_AUTH_TOKEN": fake.auth_token,
        "RESCUE_TWILIO_FROM": "+15005550006",
        "RESCUE_TWILIO_BASE_URL": fake.base_url,
        "RESCUE_PUBLIC_URL": "http://127.0.0.1:9",
        "RESCUE_SMS_RATE_PER_S": "0",
        "RESCUE_INSTANCE_PATH": str(tmp_path / "worker-instance"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--exit-when-idle", "--interval-scale", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.parametrize("backend", ["postgres"])
def test_sigkill_mid_batch_then_restart_sends_each_message_once(backend, templates, tmp_path):
    url = templates.copy(backend, seeded=True)
    app = make_app(url, tmp_path)
    sf = app.extensions["db"].session_factory
    with sf() as s:
        incident = make_incident(s)
        teams = teams_with(s, "firefighting", 12)
        dispatches.create_dispatch(
            s,
            incident,
            resources=[{"kind": "team", "id": t.id, "need_id": incident.needs[0].id} for t in teams],
            ranking=ranking_for(incident, teams),
            now=utcnow(),
            wave_timeout_s=3600,
        )
        s.commit()
        total = len(s.scalars(select(OutboxMessage)).all())
    assert total == 12
    log_path = tmp_path / "worker.log"
    with HeldFake(auto_callbacks=False) as fake, open(log_path, "w") as log:
        first = _worker(url, fake, tmp_path, log)
        try:
            assert fake.held.wait(60), log_path.read_text()  # inside the call for message number hold_at
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            fake.release.set()  # the held answer goes to a dead connection
            if first.poll() is None:
                first.kill()
        reached_before = len(fake.messages)
        assert reached_before == HeldFake.hold_at < total, log_path.read_text()
        with sf() as s:
            in_flight = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "sending")).all()
            assert len(in_flight) == 1  # killed mid-call: exactly one row committed as "sending"
        second = _worker(url, fake, tmp_path, log)
        try:
            assert second.wait(60) == 0, log_path.read_text()
        finally:
            if second.poll() is None:
                second.kill()
        with sf() as s:
            # (the worker also runs other teams' jobs, e.g. drill and compliance reminders: check every row)
            rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
            bodies = [(m["to"], m["body"]) for m in fake.messages]
            for row in rows:
                assert row.status.value == "sent", (row.id, row.status, row.last_error)
                copies = bodies.count((row.to_phone, row.body))
                assert copies == 1 or (copies == 2 and row.possibly_duplicated), (row.id, copies)
            assert sum(r.possibly_duplicated for r in rows) <= 1
            assert len(bodies) == len(rows) + sum(bodies.count((r.to_phone, r.body)) - 1 for r in rows)
    app.extensions["db"].engine.dispose()
