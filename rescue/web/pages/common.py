"""What the page blueprints share: sign-in checks that redirect people, and safe "next" targets."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import redirect, request, url_for

from rescue.errors import ForbiddenError
from rescue.models import Role, User
from rescue.web.auth import current_user


def page_roles(*roles: Role) -> Callable[[Callable], Callable]:
    """Signed-in users with one of `roles` (any role when none is given); others are sent to the sign-in page."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: object, **kwargs: object) -> object:
            user = current_user(required=False)
            if user is None:
                return redirect(url_for("accounts.show_login", next=request.full_path.rstrip("?")))
            if roles and user.role not in roles:
                raise ForbiddenError("当前角色无权访问此页面")
            return view(*args, **kwargs)

        wrapped.roles = roles or tuple(Role)
        return wrapped

    return decorator


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site (never another host: no open redirect), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def home_for(user: User) -> str:
    """Where each role starts its day."""
    return {
        Role.command_center: url_for("console.show_console"),
        Role.enterprise_admin: url_for("portal.show_portal"),
        Role.regulator: url_for("regulator.show_compliance"),
    }.get(user.role, url_for("dashboard.show_dashboard"))


def field_label(path: str, names: dict[str, str]) -> str:
    """The Chinese name of a field path for a list of what was wrong: "substances.1.quantity_t" → "危险物质第2行
    在线量 (吨)"; a code without a name is left out rather than shown ("记录" when nothing is left)."""
    words: list[str] = []
    for part in str(path).split("."):
        if part.isdigit():
            words[-1:] = [f"{words[-1] if words else ''}第{int(part) + 1}行"]
        elif part in names:
            words.append(names[part])
    return " ".join(words) or "记录"
