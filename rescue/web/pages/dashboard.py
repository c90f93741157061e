"""The landing page: what needs attention today, for the signed-in role."""

from flask import Blueprint, current_app, render_template

from rescue.dispatch import incidents
from rescue.models import Role
from rescue.registry import registry
from rescue.registry.kinds import KINDS
from rescue.web.auth import current_user
from rescue.web.extensions import get_session
from rescue.web.pages.common import page_roles

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@page_roles()
def show_dashboard() -> str:
    session = get_session()
    user = current_user()
    open_incidents = incidents.count_open(session)
    stale = registry.stale_records(session, user, days=current_app.config["FRESHNESS_DAYS"])
    counts = {}
    for name in ("teams", "experts", "equipment", "supplies", "depots"):
        _, counts[KINDS[name].label] = registry.list_records(session, KINDS[name], user, registry.Query(filters={}, limit=1))
    return render_template(
        "pages/dashboard.html",
        open_incidents=open_incidents,
        stale_total=sum(g["count"] for g in stale),
        counts=counts,
        days=current_app.config["FRESHNESS_DAYS"],
        Role=Role,
    )
