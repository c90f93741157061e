"""Fixtures: the app sending through the real Alibaba Cloud SDKs to their stand-in, or through the real twilio
client to the fake Twilio (SMS and calls), served on 127.0.0.1 so the stand-ins can push to its webhooks."""

import json

import pytest
from sqlalchemy import select

from contacts.standins.aliyun import AliyunStandIn, standin_template_codes
from contacts.standins.twilio import FakeTwilio
from rescue.db import utcnow
from rescue.dispatch import dispatches
from rescue.models import Assignment, Team
from tests.alerts.conftest import Served, free_port, make_incident, ranking_for, teams_with, twilio_config
from tests.conftest import make_app

TOKEN = "aliyun-callback-token-for-tests"


def aliyun_config(standin: AliyunStandIn, port: int, *, voice: bool = False) -> dict:
    config = {
        "SMS_BACKEND": "aliyun",
        "ALIYUN_ACCESS_KEY_ID": standin.access_key_id,
        "ALIYUN_ACCESS_KEY_SECRET": standin.access_key_secret,
        "ALIYUN_SMS_SIGN_NAME": "宁夏应急",
        "ALIYUN_SMS_URL": standin.base_url,
        "ALIYUN_SMS_TEMPLATES": json.dumps(standin_template_codes("sms")),
        "ALIYUN_CALLBACK_TOKEN": TOKEN,
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "COMMAND_PHONE": "0951-5010100",
    }
    if voice:
        config |= {
            "VOICE_BACKEND": "aliyun",
            "ALIYUN_VOICE_URL": standin.base_url,
            "ALIYUN_VOICE_TEMPLATES": json.dumps(standin_template_codes("voice")),
        }
    return config


class Setup:
    """An app served on loopback with its provider stand-in."""

    def __init__(self, app, provider, url):
        self.app, self.provider, self.url = app, provider, url
        self.sf = app.extensions["db"].session_factory
        self.sms = app.extensions["sms_gateway"]
        self.voice = app.extensions["voice_gateway"]
        self.settings = app.extensions["alert_settings"]

    def dispatch(self, *, n=1, drill=False, wave_timeout_s=300, capability="firefighting") -> list[int]:
        """One incident, `n` teams dispatched (each paging the first of its chain); the assignment ids."""
        with self.sf() as s:
            incident = make_incident(s, drill=drill, needs=((capability, n),), number=f"NX-M{utcnow():%H%M%S%f}")
            teams = teams_with(s, capability, n)
            d = dispatches.create_dispatch(
                s,
                incident,
                resources=[{"kind": "team", "id": t.id, "need_id": incident.needs[0].id} for t in teams],
                ranking=ranking_for(incident, teams),
                wave_timeout_s=wave_timeout_s,
                settings=self.settings,
                now=utcnow(),
            )
            s.commit()
            return [a.id for a in d.assignments]

    def assignment(self, assignment_id):
        with self.sf() as s:
            a = s.get(Assignment, assignment_id)
            s.expunge(a)
            return a


def _served(backend, templates, tmp_path, config, provider, port):
    app = make_app(templates.copy(backend, seeded=True), tmp_path, **config)
    served = Served(app, port)
    return app, served


@pytest.fixture
def aliyun(backend, templates, tmp_path):
    """The seeded app with RESCUE_SMS_BACKEND=aliyun and RESCUE_VOICE_BACKEND=aliyun against the stand-in."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with AliyunStandIn(
        report_url=f"{base}/sms/aliyun/status?token={TOKEN}",
        reply_url=f"{base}/sms/aliyun/inbound?token={TOKEN}",
        voice_report_url=f"{base}/voice/aliyun/report?token={TOKEN}",
    ) as standin:
        app, served = _served(backend, templates, tmp_path, aliyun_config(standin, port, voice=True), standin, port)
        try:
            yield Setup(app, standin, base)
        finally:
            standin.stop()
            served.stop()
            app.extensions["db"].engine.dispose()


@pytest.fixture
def twilio(backend, templates, tmp_path):
    """The seeded app with SMS and voice through the real twilio client to the fake Twilio."""
    port = free_port()
    with FakeTwilio() as fake:
        config = twilio_config(fake, port) | {"VOICE_BACKEND": "twilio", "COMMAND_PHONE": "0951-5010100"}
        app, served = _served(backend, templates, tmp_path, config, fake, port)
        try:
            yield Setup(app, fake, f"http://127.0.0.1:{port}")
        finally:
            fake.stop()
            served.stop()
            app.extensions["sms_gateway"].close()
            app.extensions["db"].engine.dispose()


def first_team_phone(setup: Setup, assignment_id: int) -> str:
    with setup.sf() as s:
        from rescue.models import OutboxMessage

        return s.scalars(
            select(OutboxMessage.to_phone).where(OutboxMessage.assignment_id == assignment_id).order_by(OutboxMessage.id)
        ).first()


__all__ = ["TOKEN", "Setup", "Team", "first_team_phone"]
