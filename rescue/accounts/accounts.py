"""Accounts: passwords, bearer tokens, server-side page sessions and the demo users of the embedded default.

A bearer token and a page session are both a random secret whose hash is a row of `api_tokens`: signing out
revokes the session's row, `DELETE /api/v1/tokens/current` the token's, and deactivating a user or changing
their password revokes every row they have (reactivating does not bring them back)."""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from rescue.db import utcnow
from rescue.errors import AuthError, ConflictError
from rescue.models import ApiToken, Enterprise, Role, User

DEMO_PASSWORD = "ningxia-demo"
# username, role, display name, seeded enterprise name (for enterprise admins)
DEMO_USERS = (
    ("dispatcher", Role.command_center, "指挥中心值班员", None),
    ("regulator", Role.regulator, "应急管理厅监管员", None),
    ("enterprise-a", Role.enterprise_admin, "宁夏石化应急管理员", "中国石油宁夏石化公司"),
    ("enterprise-b", Role.enterprise_admin, "宁夏煤业应急管理员", "国家能源集团宁夏煤业有限责任公司"),
)
# a real hash to compare against when the user does not exist, so timing does not reveal usernames
_DUMMY_HASH = generate_password_hash("not-a-password")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session, username: str, password: str, role: Role, *, enterprise_id=None, display_name="", demo=False
) -> User:
    if session.scalar(select(User).where(User.username == username)):
        raise ConflictError("用户名已存在", {"username": "已存在"})
    user = User(
        username=username,
        password_hash=generate_password_hash(password),
        role=role,
        enterprise_id=enterprise_id,
        display_name=display_name or username,
        demo=demo,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with these credentials, or AuthError."""
    user = session.scalar(select(User).where(User.username == username))
    if not check_password_hash(user.password_hash if user else _DUMMY_HASH, password) or not user or not user.active:
        raise AuthError("用户名或密码错误")
    return user


API, SESSION = "api", "session"


def issue_token(session: Session, user: User, *, ttl_hours: float, now=None, purpose: str = API) -> tuple[str, ApiToken]:
    """A new bearer token (or page session id) for `user`; only its hash is stored."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=_token_hash(token),
        created_dt=now,
        expires_dt=now + timedelta(hours=ttl_hours),
        purpose=purpose,
    )
    session.add(row)
    session.flush()
    return token, row


# every request runs this: one query, one entity, the token's checks in SQL (built once: building a
# statement costs about as much as running it)
_LIVE_USER = (
    select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.purpose == bindparam("purpose"),
        ApiToken.revoked.is_(False),
        ApiToken.expires_dt > bindparam("now", type_=ApiToken.__table__.c.expires_dt.type),
        User.active.is_(True),
    )
)


def _live_user(session: Session, token: str, purpose: str, now) -> User | None:
    return session.scalar(_LIVE_USER, {"token_hash": _token_hash(token), "purpose": purpose, "now": now or utcnow()})


def user_for_token(session: Session, token: str, *, now=None) -> User:
    """The user a bearer token belongs to, if it is valid, unexpired and unrevoked."""
    user = _live_user(session, token, API, now)
    if user is None:
        raise AuthError("令牌无效或已过期")
    return user


def user_for_session(session: Session, session_id: str, *, now=None) -> User | None:
    """The user of a page session, if it has not been ended, has not expired and the user is still active."""
    return _live_user(session, session_id, SESSION, now)


def revoke_token(session: Session, token: str) -> bool:
    """End one bearer token or page session; whether it was live."""
    result = session.execute(
        update(ApiToken).where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked.is_(False)).values(revoked=True)
    )
    return result.rowcount > 0


def revoke_all(session: Session, user: User) -> int:
    """End every token and page session of `user`; how many were live."""
    result = session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False)).values(revoked=True)
    )
    return result.rowcount


def set_password(session: Session, user: User, password: str) -> None:
    """A new password; every token and session of the user ends (the caller commits)."""
    user.password_hash = generate_password_hash(password)
    revoke_all(session, user)
    session.flush()


def check_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def set_active(session: Session, user: User, active: bool) -> None:
    """Deactivate (every token and session ends for good) or reactivate a user (the caller commits)."""
    user.active = active
    if not active:
        revoke_all(session, user)
    session.flush()


def ensure_demo_users(session: Session) -> list[User]:
    """Create the four demo accounts if missing (embedded default only)."""
    users = []
    for username, role, display, enterprise_name in DEMO_USERS:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            enterprise_id = None
            if enterprise_name:
                enterprise_id = session.scalar(select(Enterprise.id).where(Enterprise.name == enterprise_name))
                if enterprise_id is None:
                    continue
            user = create_user(
                session, username, DEMO_PASSWORD, role, enterprise_id=enterprise_id, display_name=display, demo=True
            )
        users.append(user)
    return users


def demo_users_present(session: Session) -> list[str]:
    """Usernames of demo accounts in this database (refused outside demo mode)."""
    return list(session.scalars(select(User.username).where(User.demo.is_(True))))
