"""Beijing time: how people read and enter times (the database keeps aware UTC datetimes)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def local(moment: datetime | None) -> str | None:
    """An aware datetime shown in Beijing time (ISO 8601 with +08:00)."""
    return moment.astimezone(CHINA).isoformat() if moment is not None else None


def local_date(moment: datetime) -> date:
    """The calendar day of an aware datetime in Beijing."""
    return moment.astimezone(CHINA).date()
