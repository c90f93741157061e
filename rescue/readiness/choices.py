"""Choices for the readiness forms' selects: the caller's equipment and contacts, the enterprises."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from rescue.models import ContactPerson, Enterprise, Equipment, Role, User
from rescue.registry import access
from rescue.registry.kinds import KINDS

MAX_CHOICES = 1000  # rows per select


def enterprises(session: Session) -> list[Row[Any]]:
    """Every enterprise as (id, name), by name."""
    return list(session.execute(select(Enterprise.id, Enterprise.name).order_by(Enterprise.name)).all())


def enterprises_for(session: Session, user: User) -> list[Row[Any]]:
    """The enterprises a command center may pick; nobody else picks one."""
    return enterprises(session) if user.role == Role.command_center else []


def form_options(session: Session, user: User) -> dict[str, list[Row[Any]]]:
    """Choices of the forms' selects: the caller's equipment and contacts, the enterprises for the command center."""
    equipment = session.execute(
        access.scope(select(Equipment.id, Equipment.name), user, KINDS["equipment"]).order_by(Equipment.name).limit(MAX_CHOICES)
    ).all()
    contacts = session.execute(
        access.scope(select(ContactPerson.id, ContactPerson.name), user, KINDS["contacts"])
        .order_by(ContactPerson.name)
        .limit(MAX_CHOICES)
    ).all()
    return {"equipment": list(equipment), "contacts": list(contacts), "enterprises": enterprises_for(session, user)}
