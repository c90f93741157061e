"""Who is calling: bearer tokens for the API, sessions for pages; role checks for every endpoint.

The session cookie carries only a random session id; the server keeps it (hashed, in `api_tokens`), so signing
out, deactivation and a password change end the session at once, whatever the cookie says."""

from collections.abc import Callable
from datetime import datetime
from functools import wraps

from flask import current_app, g, request, session

from rescue.accounts import accounts
from rescue.db import utcnow
from rescue.errors import AuthError, ForbiddenError
from rescue.models import Role, User
from rescue.web.extensions import get_session

SESSION_ID_KEY = "sid"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def now() -> datetime:
    """The current time (tests put a controllable clock in app.extensions["clock"])."""
    return current_app.extensions.get("clock", utcnow)()


def client_address() -> str | None:
    """The caller's address for sign-in throttling. Behind `RESCUE_TRUSTED_PROXIES` reverse proxies (e.g. 1 for
    one nginx) it is read from X-Forwarded-For as the last proxy saw it; otherwise the socket's peer (a header the
    client sets itself must not choose its own throttling bucket)."""
    try:
        hops = int(current_app.config.get("TRUSTED_PROXIES") or 0)
    except ValueError:
        hops = 0
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    if hops > 0 and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.remote_addr


def start_session(user: User) -> None:
    """Sign `user` in on this browser: a fresh cookie session holding a new server-side session id."""
    sid, _row = accounts.issue_token(
        get_session(), user, ttl_hours=current_app.config["TOKEN_TTL_HOURS"], now=now(), purpose=accounts.SESSION
    )
    session.clear()  # a fresh session (and CSRF token) on every sign-in: no session fixation
    session[SESSION_ID_KEY] = sid
    session.permanent = True


def end_credential() -> bool:
    """Revoke what authenticated this request (its bearer token, or its page session); the caller commits."""
    credential = g.get("credential")
    if credential is None:
        return False
    if g.get("auth_by") == "session":
        session.clear()
    return accounts.revoke_token(get_session(), credential)


def current_user(*, required: bool = True) -> User | None:
    """The caller: a bearer token wins over a signed-in session."""
    if "actor" in g:
        return g.actor
    user = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("Authorization 头应为 Bearer 令牌")
        user = accounts.user_for_token(get_session(), token.strip(), now=now())
        g.auth_by, g.credential = "token", token.strip()
    elif isinstance(sid := session.get(SESSION_ID_KEY), str):
        user = accounts.user_for_session(get_session(), sid, now=now())
        g.auth_by, g.credential = "session", sid
        if user is not None and request.method not in _SAFE_METHODS:
            _require_csrf()
    if user is None and required:
        raise AuthError("请先登录")
    g.actor = user
    return user


def _require_csrf() -> None:
    """A cookie rides along with any cross-site request: unsafe session-authenticated calls need the CSRF token
    (the X-CSRFToken header from JavaScript, or the form field that CSRFProtect has already checked)."""
    if g.get("csrf_valid") or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    from flask_wtf.csrf import validate_csrf
    from wtforms.validators import ValidationError as CsrfError

    try:
        validate_csrf(request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token"))
    except CsrfError:
        raise ForbiddenError("CSRF 令牌缺失或无效, 请刷新页面后重试") from None
    g.csrf_valid = True


def roles_required(*roles: Role) -> Callable[[Callable], Callable]:
    """Allow the view only to signed-in users with one of `roles` (all roles when none is given)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: object, **kwargs: object) -> object:
            user = current_user()
            if roles and user.role not in roles:
                raise ForbiddenError("当前角色无权访问")
            return view(*args, **kwargs)

        wrapped.roles = roles or tuple(Role)
        return wrapped

    return decorator
