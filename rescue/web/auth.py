"""Who is calling: bearer tokens for the API, sessions for pages; role checks for every endpoint."""

from collections.abc import Callable
from functools import wraps

from flask import current_app, g, request, session

from rescue.accounts import accounts
from rescue.errors import AuthError, ForbiddenError
from rescue.models import Role, User
from rescue.web.extensions import get_session

SESSION_USER_KEY = "user_id"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


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
        user = accounts.user_for_token(get_session(), token.strip())
        g.auth_by = "token"
    elif (user_id := session.get(SESSION_USER_KEY)) is not None:
        user = accounts.active_user(get_session(), user_id)
        g.auth_by = "session"
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
