"""Pages for people: sign-in, dashboard, command-center console, enterprise portal and regulator view."""

from flask import Flask, g, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm.exc import DetachedInstanceError

from rescue.dispatch import incidents
from rescue.models import Role
from rescue.web.auth import current_user
from rescue.web.extensions import get_session

csrf = CSRFProtect()

ROLE_NAMES = {Role.command_center: "指挥中心", Role.regulator: "监管部门", Role.enterprise_admin: "企业管理员"}
# (endpoint, label, roles that see it)
NAVIGATION = (
    ("dashboard.show_dashboard", "首页", tuple(Role)),
    ("console.show_console", "指挥调度台", (Role.command_center,)),
    ("portal.show_portal", "企业资源", (Role.enterprise_admin, Role.command_center)),
    ("regulator.show_compliance", "演练合规", (Role.regulator, Role.command_center)),
    ("readiness.show_readiness", "应急准备", (Role.enterprise_admin, Role.command_center)),
    ("readiness.show_regulator", "预案备案", (Role.regulator, Role.command_center)),
    ("regulator.list_stale_records", "数据时效", (Role.regulator, Role.command_center)),
    ("regulator.show_coverage", "覆盖缺口", (Role.regulator, Role.command_center)),
    ("regulator.list_audit_entries", "审计日志", (Role.regulator, Role.command_center)),
)


def init_app(app: Flask) -> None:
    from rescue.web import responder, voice, webhooks
    from rescue.web.api import bp as api_bp
    from rescue.web.pages import (  # noqa: F401 - their views join those blueprints
        accounts,
        console,
        console_tools,
        dashboard,
        portal,
        portal_cards,
        portal_drills,
        readiness,
        regulator,
    )

    app.config.setdefault("MAP_TILE_URL", "")
    app.config.setdefault("MAP_TILE_ATTRIBUTION", "")
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the signed-in session, not one hour
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    if app.config.get("PERMANENT_SESSION_LIFETIME") and app.config.get("TOKEN_TTL_HOURS"):
        from datetime import timedelta

        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["TOKEN_TTL_HOURS"])
    csrf.init_app(app)
    from rescue.web import formatting

    formatting.init_app(app)  # Beijing time, Chinese phone numbers, names for codes
    # the API authenticates by bearer token (session calls are checked in rescue.web.auth), webhooks by
    # provider signature, the responder page by the key derived from its link
    for bp in (api_bp, webhooks.bp, voice.bp, responder.bp):
        csrf.exempt(bp)
    for module in (accounts, dashboard, console, portal, regulator, readiness):
        app.register_blueprint(module.bp)
    app.context_processor(_page_context)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(exc: CSRFError) -> tuple[str, int]:
        return render_template(
            "error.html", status=400, message="页面已过期或来源不明 (CSRF 校验失败), 请刷新页面后重试", fields={}
        ), 400


def _page_context() -> dict:
    """What every page's frame shows: who is signed in, their navigation and whether a drill is running."""
    try:
        user = current_user(required=False)
        _ = user.role if user is not None else None
    except DetachedInstanceError:
        # an error page: the request's session was rolled back and closed, read the user again
        g.pop("actor", None)
        user = current_user(required=False)
    except Exception:
        user = None
    nav = [(endpoint, label) for endpoint, label, roles in NAVIGATION if user is not None and user.role in roles]
    drills = 0
    if user is not None:
        try:
            drills = incidents.count_open(get_session(), drill=True)
        except Exception:
            drills = 0
    return {"user": user, "navigation": nav, "role_name": ROLE_NAMES.get(user.role, "") if user else "", "open_drills": drills}
