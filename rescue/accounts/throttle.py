"""Sign-in throttling: failed attempts counted per user and per address in the database, so every worker
process shares the count (a per-process counter would let an attacker spread guesses over the workers).

`USER_LIMIT` failures of one user, or `ADDRESS_LIMIT` from one address, within `WINDOW` lock further sign-ins of
that user / from that address for `LOCK` — even with the right password, or the lock would not slow guessing.
A successful sign-in clears the user's count (not the address's: one known account must not reset it).
"""

import math
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from rescue.accounts import accounts
from rescue.errors import AuthError, RescueError
from rescue.models import LoginThrottle, User

USER_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=5)


class ThrottledError(RescueError):
    """Too many failed sign-ins: wait `retry_after` seconds (also sent as the Retry-After header)."""

    code = "too_many_requests"
    status = 429

    def __init__(self, retry_after: int):
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(f"登录失败次数过多, 请在 {minutes} 分钟后重试")
        self.retry_after = retry_after

    @property
    def extra(self) -> dict:
        return {"retry_after": self.retry_after}


def _keys(username: str, address: str | None) -> tuple[str, str]:
    return f"user:{username.strip().lower()[:64]}", f"addr:{(address or 'unknown')[:100]}"


def check(session: Session, username: str, address: str | None, *, now: datetime) -> None:
    """ThrottledError if the user or the address is locked."""
    until = session.scalars(
        select(LoginThrottle.locked_until_dt).where(
            LoginThrottle.key.in_(_keys(username, address)), LoginThrottle.locked_until_dt > now
        )
    ).all()
    if until:
        raise ThrottledError(math.ceil((max(until) - now).total_seconds()))


def record_failure(session: Session, username: str, address: str | None, *, now: datetime) -> None:
    """Count one failure for the user and the address; lock either when it reaches its limit."""
    cutoff = now - WINDOW
    # forget what can no longer count (keeps the table as small as the last window's attempts)
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.first_dt < cutoff, or_(LoginThrottle.locked_until_dt.is_(None), LoginThrottle.locked_until_dt < now)
        )
    )
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    at = literal(now, LoginThrottle.first_dt.type)
    for key, limit in zip(_keys(username, address), (USER_LIMIT, ADDRESS_LIMIT), strict=True):
        # one atomic statement per key: concurrent failures in other workers are all counted
        stale = LoginThrottle.first_dt < cutoff
        stmt = insert(LoginThrottle).values(key=key, failures=1, first_dt=now, locked_until_dt=None)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "failures": case((stale, 1), else_=LoginThrottle.failures + 1),
                    "first_dt": case((stale, at), else_=LoginThrottle.first_dt),
                },
            )
        )
        session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key, LoginThrottle.failures >= limit)
            .values(failures=0, first_dt=now, locked_until_dt=now + LOCK)
        )


def sign_in(session: Session, username: str, password: str, address: str | None, *, now: datetime) -> User:
    """The user with these credentials, unless the user or address is locked (ThrottledError).
    A failure is counted before AuthError is raised; the caller commits in both cases."""
    check(session, username, address, now=now)
    try:
        user = accounts.authenticate(session, username, password)
    except AuthError:
        record_failure(session, username, address, now=now)
        raise
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == _keys(username, address)[0]))
    return user
