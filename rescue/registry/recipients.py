"""Who can be reached by SMS: mobile numbers of people, and whom an enterprise's notices go to."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts import is_mobile, normalize_phone
from contacts.errors import InvalidPhoneError
from rescue.models import ContactPerson
from rescue.models.enums import ContactRole


def sms_phone(raw: str | None) -> str | None:
    """E.164 of `raw` if it can receive SMS (duty landlines cannot), else None."""
    try:
        phone = normalize_phone(raw or "")
    except InvalidPhoneError:
        return None
    return phone if is_mobile(phone) else None


def enterprise_recipients(session: Session, enterprise_id: int) -> list[ContactPerson]:
    """Whom an enterprise's drill and compliance notices go to: its safety managers, else its liaisons."""
    rows = session.scalars(
        select(ContactPerson)
        .where(ContactPerson.enterprise_id == enterprise_id, ContactPerson.team_id.is_(None))
        .order_by(ContactPerson.id)
    ).all()
    for role in (ContactRole.manager, ContactRole.liaison, ContactRole.duty, ContactRole.commander):
        found = [c for c in rows if c.role == role and sms_phone(c.phone)]
        if found:
            return found[:1]
    return []
