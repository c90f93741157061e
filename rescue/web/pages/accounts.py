"""Signing in and out with a session cookie (the API's bearer tokens are separate)."""

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from rescue.accounts import accounts, throttle
from rescue.errors import AuthError
from rescue.web.auth import client_address, current_user, end_credential, now, start_session
from rescue.web.extensions import get_session
from rescue.web.pages.common import home_for, page_roles, safe_next

MIN_PASSWORD = 10

bp = Blueprint("accounts", __name__)


@bp.get("/login")
def show_login() -> Response | str:
    user = current_user(required=False)
    if user is not None:
        return redirect(safe_next(request.args.get("next")) or home_for(user))
    return render_template("pages/login.html", next=safe_next(request.args.get("next")) or "", error=None, username="")


@bp.post("/login")
def log_in() -> Response | tuple[str, int]:
    username = request.form.get("username", "").strip()[:64]
    target = safe_next(request.form.get("next"))
    # a blank field is named (both at once) rather than counted as a failed sign-in
    blank = {
        name: reason
        for name, reason, value in (
            ("username", "请输入用户名", username),
            ("password", "请输入密码", request.form.get("password", "")),
        )
        if not value
    }
    if blank:
        page = render_template("pages/login.html", next=target or "", error="请填写用户名和密码", errors=blank, username=username)
        return page, 422
    db = get_session()
    try:
        user = throttle.sign_in(db, username, request.form.get("password", ""), client_address(), now=now())
    except throttle.ThrottledError as exc:
        page = render_template("pages/login.html", next=target or "", error=exc.message, username=username)
        return page, 429, {"Retry-After": str(exc.retry_after)}
    except AuthError as exc:
        db.commit()  # the failure counts although the sign-in fails
        return render_template("pages/login.html", next=target or "", error=exc.message, username=username), 401
    start_session(user)
    db.commit()
    return redirect(target or home_for(user))


@bp.post("/logout")
def log_out() -> Response:
    current_user(required=False)
    end_credential()  # the session ends on the server too: a copied cookie is worthless afterwards
    get_session().commit()
    return redirect(url_for("accounts.show_login"))


@bp.get("/account/password")
@page_roles()
def show_password_form() -> str:
    return render_template("pages/password.html", errors={})


@bp.post("/account/password")
@page_roles()
def change_password() -> Response | tuple[str, int]:
    """A new password ends every session and token of the user, this browser's too: sign in again."""
    user = current_user()
    form = request.form
    errors = {}
    if not accounts.check_password(user, form.get("current", "")):
        errors["current"] = "当前密码不正确"
    new = form.get("new", "")
    if not MIN_PASSWORD <= len(new) <= 200:
        errors["new"] = f"新密码长度应为 {MIN_PASSWORD}–200 个字符"
    if new != form.get("repeat", ""):
        errors["repeat"] = "两次输入的新密码不一致"
    if errors:
        return render_template("pages/password.html", errors=errors), 422
    db = get_session()
    accounts.set_password(db, user, new)
    end_credential()
    db.commit()
    return redirect(url_for("accounts.show_login"))
