"""The landing page: what needs attention today, for the signed-in role; records placed far from the roads."""

from flask import Blueprint, current_app, render_template

from rescue.dispatch import coverage, incidents
from rescue.models import Role
from rescue.registry import registry
from rescue.registry.kinds import KINDS
from rescue.web.auth import current_user
from rescue.web.extensions import get_roads, get_session
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


# the far-from-roads service names record kinds in the singular; the portal's edit forms use the registry's names
FAR_KINDS = {"team": "teams", "depot": "depots", "expert": "experts", "enterprise": "enterprises"}


@bp.get("/data-quality/far-from-roads")
@page_roles()
def list_far_from_roads() -> str:
    """Registry records placed farther from the road network than the flag distance: an enterprise admin sees its
    own, the command center and the regulator every enterprise's (GET /api/v1/data-quality/far-from-roads)."""
    session, user = get_session(), current_user()
    scope = user.enterprise_id if user.role == Role.enterprise_admin else None
    items = coverage.far_from_roads(session, get_roads(), enterprise_id=scope)
    owners = {
        eid: (found.name if (found := registry.get_enterprise(session, eid)) else "")
        for eid in {item["enterprise_id"] for item in items}
    }
    rows = [
        item | {"kind_name": FAR_KINDS[item["kind"]], "owner": owners.get(item["enterprise_id"]) or "政府及社会力量"}
        for item in items
    ]
    return render_template(
        "pages/far_from_roads.html",
        rows=rows,
        limit_km=get_roads().settings.flag_offroad_m / 1000,
        labels={name: KINDS[name].label for name in FAR_KINDS.values()},
        can_edit=user.role in (Role.enterprise_admin, Role.command_center),
        show_owner=scope is None,
    )
