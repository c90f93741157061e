"""Regulator view: drill compliance, stale data, coverage gaps and the audit log (read-only)."""

from flask import Blueprint, current_app, render_template, request

from rescue.db import utcnow
from rescue.dispatch import coverage
from rescue.drills import compliance
from rescue.models import Role
from rescue.registry import audit, registry, spreadsheets
from rescue.registry.kinds import KINDS
from rescue.web import formatting
from rescue.web.auth import current_user
from rescue.web.extensions import get_roads, get_session
from rescue.web.pages.common import page_roles

bp = Blueprint("regulator", __name__, url_prefix="/regulator")
READERS = (Role.regulator, Role.command_center)
AUDIT_PAGE = 50
ACTION_NAMES = {"create": "新增", "update": "修改", "delete": "删除", "import": "导入", "confirm": "确认"}


@bp.get("/compliance")
@page_roles(*READERS)
def show_compliance() -> str:
    report = compliance.report(get_session(), now=utcnow(), actor=current_user())
    summary = report["summary"]
    charts = {
        title: sorted(((name, c["overdue"]) for name, c in summary[key].items()), key=lambda kv: (-kv[1], kv[0]))
        for title, key in (("按市", "by_city"), ("按行业", "by_industry"))
    }
    biggest = max((n for rows in charts.values() for _, n in rows), default=0) or 1
    return render_template("pages/compliance.html", report=report, charts=charts, biggest=biggest)


@bp.get("/stale")
@page_roles(*READERS)
def list_stale_records() -> str:
    try:
        days = min(max(int(request.args.get("days", current_app.config["FRESHNESS_DAYS"])), 1), 3650)
    except ValueError:
        days = current_app.config["FRESHNESS_DAYS"]
    groups = registry.stale_records(get_session(), current_user(), days=days)
    labels = {k.name: k.label for k in KINDS.values()}
    return render_template(
        "pages/stale.html",
        groups=groups,
        days=days,
        labels=labels,
        total=sum(g["count"] for g in groups),
        biggest=max((g["count"] for g in groups), default=1),
        far_total=len(coverage.far_from_roads(get_session(), get_roads())),
    )


@bp.get("/coverage")
@page_roles(*READERS)
def show_coverage() -> str:
    # GET /api/v1/coverage draws the reachable area for a capability and a target time
    return render_template(
        "pages/coverage.html",
        tile_url=current_app.config.get("MAP_TILE_URL", ""),
        tile_attribution=current_app.config.get("MAP_TILE_ATTRIBUTION", ""),
    )


@bp.get("/audit")
@page_roles(*READERS)
def list_audit_entries() -> str:
    kind = request.args.get("kind") or None
    username = (request.args.get("username") or "").strip()[:64] or None
    try:
        page_no = max(int(request.args.get("page", 1)), 1)
    except ValueError:
        page_no = 1
    rows, total = audit.list_entries(
        get_session(),
        kind=kind if kind in KINDS else None,
        username=username,
        limit=AUDIT_PAGE,
        offset=(page_no - 1) * AUDIT_PAGE,
    )
    return render_template(
        "pages/audit.html",
        rows=rows,
        total=total,
        kinds=KINDS,
        kind=kind or "",
        username=username or "",
        page_no=page_no,
        pages=max((total + AUDIT_PAGE - 1) // AUDIT_PAGE, 1),
        actions=ACTION_NAMES,
        field_names=_field_names(),
        value_names=_value_names(),
    )


def _field_names() -> dict[str, str]:
    """Field → the Chinese label people know from the forms and spreadsheets (no explanations in brackets)."""
    names = {field: formatting.list_header(label) for field, label in spreadsheets.LABELS.items()}
    for kind in KINDS.values():
        for col in spreadsheets.columns(kind):
            names.setdefault(col.field, formatting.list_header(col.label))
    names |= {
        "capabilities": "能力",
        "fields": "专业领域",
        "last_confirmed_dt": "最近确认",
        "confirmed": "确认",
        "demo": "演示数据",
    }
    return names


def _value_names() -> dict[str, str]:
    """Stored codes → names: capabilities and every enumerated choice."""
    names: dict[str, str] = {}
    for kind in KINDS.values():
        for col in spreadsheets.columns(kind):
            names |= col.choices()
    return names | registry.capability_names(get_session())
