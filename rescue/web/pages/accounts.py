"""Signing in and out with a session cookie (the API's bearer tokens are separate)."""

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from rescue.accounts import accounts
from rescue.errors import AuthError
from rescue.web.auth import SESSION_USER_KEY, current_user
from rescue.web.extensions import get_session
from rescue.web.pages.common import home_for, safe_next

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
    try:
        user = accounts.authenticate(get_session(), username, request.form.get("password", ""))
    except AuthError as exc:
        return render_template("pages/login.html", next=target or "", error=exc.message, username=username), 401
    session.clear()  # a fresh session (and CSRF token) on every sign-in: no session fixation
    session[SESSION_USER_KEY] = user.id
    session.permanent = True
    return redirect(target or home_for(user))


@bp.post("/logout")
def log_out() -> Response:
    session.clear()
    return redirect(url_for("accounts.show_login"))
