"""Fixtures for alerting: incidents made with the ORM, a twilio-backed app served on loopback, a fake Twilio."""

import socket
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from contacts.standins.twilio import FakeTwilio
from rescue.models import ContactPerson, Incident, IncidentNeed, IncidentType, Team
from rescue.models.enums import ContactRole, IncidentLevel
from tests.conftest import make_app

T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_incident(session, *, drill=False, needs=(("firefighting", 1),), number=None, place="宁东镇煤化工园区"):
    itype = session.scalars(select(IncidentType).order_by(IncidentType.code)).first()
    count = session.query(Incident).count()
    incident = Incident(
        number=number or f"NX2026-{count + 1:04d}",
        type_code=itype.code,
        level=IncidentLevel.larger,
        lat=38.1,
        lon=106.5,
        place=place,
        drill=drill,
        created_dt=T0,
    )
    for i, (cap, qty) in enumerate(needs):
        incident.needs.append(IncidentNeed(position=i, capability_code=cap, quantity=qty))
    session.add(incident)
    session.flush()
    return incident


def teams_with(session, capability: str, n: int) -> list[Team]:
    teams = [t for t in session.scalars(select(Team).order_by(Team.id)) if capability in t.capabilities]
    assert len(teams) >= n, f"seed has {len(teams)} teams with {capability}"
    return teams[:n]


def chain_phones(session, team: Team) -> dict[str, str]:
    rows = session.scalars(select(ContactPerson).where(ContactPerson.team_id == team.id))
    return {c.role.value: c.phone for c in rows if c.role in (ContactRole.commander, ContactRole.deputy, ContactRole.duty)}


def ranking_for(incident, teams) -> dict:
    need = incident.needs[0]
    return {
        "needs": [
            {
                "need_id": need.id,
                "capability": need.capability_code,
                "quantity": need.quantity,
                "candidates": [
                    {"kind": "team", "id": t.id, "name": t.name, "eta_s": 1200 + 300 * i, "via": "G6"}
                    for i, t in enumerate(teams)
                ],
            }
        ]
    }


@pytest.fixture
def fake_twilio():
    with FakeTwilio() as fake:
        yield fake


class Served:
    """An app served over HTTP on 127.0.0.1 (so the fake Twilio can call its webhooks)."""

    def __init__(self, app, port):
        self.app = app
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.server.daemon_threads = False  # server_close() waits for requests in flight (no leaked connections)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{port}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def twilio_config(fake, port) -> dict:
    return {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM": "+15005550006",
        "TWILIO_BASE_URL": fake.base_url,
        "TWILIO_TIMEOUT_S": 2,
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
    }


@pytest.fixture
def twilio_app(backend, templates, tmp_path, fake_twilio):
    """The seeded app on the current backend, sending through the real twilio client to the fake, served on loopback."""
    port = free_port()
    app = make_app(templates.copy(backend, seeded=True), tmp_path, **twilio_config(fake_twilio, port))
    served = Served(app, port)
    yield app
    fake_twilio.stop()  # no more callbacks, then let the server finish the ones in flight
    served.stop()
    app.extensions["sms_gateway"].close()
    app.extensions["db"].engine.dispose()


@pytest.fixture
def fake_app(backend, templates, tmp_path):
    """The seeded app with the in-memory fake gateway (escalation and outbox logic without HTTP)."""
    app = make_app(templates.copy(backend, seeded=True), tmp_path, SMS_BACKEND="fake")
    yield app
    app.extensions["db"].engine.dispose()
