"""Fixtures for drills: a fixed clock, plans made through the service, the seeded petrochemical team."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from rescue.drills import plans
from rescue.models import Enterprise, OutboxMessage, Team

T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
SIGNATURE = "【宁夏应急】"


def enterprise(session, name="中国石油宁夏石化公司") -> Enterprise:
    return session.scalars(select(Enterprise).where(Enterprise.name == name)).one()


def team(session, name="中石油宁夏石化公司救援队") -> Team:
    return session.scalars(select(Team).where(Team.name == name)).one()


def plan_data(session, **overrides) -> dict:
    data = {
        "name": "储罐火灾演练",
        "enterprise_id": enterprise(session).id,
        "content": "comprehensive",
        "form": "live",
        "purpose": "inspection",
        "plan_level": "special_plan",
        "incident_type": "chem_tank_fire",
        "place": "宁夏石化厂区",
        "muster_point": "厂消防站",
        "starts_at": (T0 + timedelta(days=10)).isoformat(),
        "team_ids": [team(session).id],
    }
    return data | overrides


def make_plan(session, *, now=T0, **overrides):
    plan = plans.create_plan(session, plan_data(session, **overrides), actor=None, now=now)
    session.commit()
    return plan


def fresh(session) -> None:
    """See what jobs committed in their own sessions: end the snapshot and reload every object."""
    session.rollback()
    session.expire_all()


def reminder_rows(session) -> list[OutboxMessage]:
    fresh(session)
    return session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "reminder").order_by(OutboxMessage.id)).all()


@pytest.fixture
def factory(app):
    return app.extensions["db"].session_factory
