"""Fixtures of the readiness tests: a small real PDF, and the demo enterprises' ids."""

import io

import pytest
from reportlab.pdfgen import canvas
from sqlalchemy import select

from rescue.models import User
from tests.dispatch.conftest import tiny, tiny_app, tiny_files, tiny_session, world  # noqa: F401  (the tiny world)


def make_pdf(text: str = "plan") -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue()


@pytest.fixture
def pdf() -> bytes:
    return make_pdf()


@pytest.fixture
def enterprise_ids(session) -> dict[str, int]:
    """username → enterprise id of the two demo enterprise admins."""
    rows = session.execute(select(User.username, User.enterprise_id).where(User.username.in_(["enterprise-a", "enterprise-b"])))
    return dict(rows.all())
