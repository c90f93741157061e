"""Command-center console: the map, incidents, ranked candidates, dispatch and the live timeline."""

from flask import Blueprint, current_app, render_template

from rescue.db import utcnow
from rescue.dispatch import incidents, timeline
from rescue.models import Role
from rescue.models.enums import ASSIGNMENT_STATUS_NAMES, INCIDENT_LEVEL_NAMES
from rescue.web.auth import current_user
from rescue.web.extensions import get_session
from rescue.web.pages.common import page_roles

bp = Blueprint("console", __name__, url_prefix="/console")
CLOSED_SHOWN = 10  # the most recent closed incidents listed under the open ones

# timeline event kinds in the words of a dispatch record (the console's api.js EVENT_NAMES says the same)
EVENT_NAMES = {
    "dispatched": "已调派",
    "escalated": "升级改派",
    "chain_escalated": "逐级升级",
    "replaced": "已替换",
    "sms_sent": "短信已发出",
    "sms_delivered": "短信已送达",
    "sms_failed": "短信发送失败",
    "sms_undelivered": "短信未送达",
    "sms_possibly_duplicated": "短信可能重复",
    "reply": "收到回复",
    "reply_unclear": "回复无法识别",
    "opt_out": "退订",
    "note": "备注",
    "status": "状态变更",
    "correction": "调度员更正",
    "escalation_not_needed": "无需升级",
    "escalation_exhausted": "无人可再升级",
    "closed": "已结案",
    "reopened": "重新打开",
}


@bp.get("/")
@page_roles(Role.command_center)
def show_console() -> str:
    # the page is a shell: incidents, candidates, dispatches and the timeline come from the JSON API
    config = {
        "tileUrl": current_app.config.get("MAP_TILE_URL", ""),
        "tileAttribution": current_app.config.get("MAP_TILE_ATTRIBUTION", ""),
        "area": list(current_app.config["SERVICE_AREA"]),
        "levels": list(INCIDENT_LEVEL_NAMES.items()),  # a list: JSON objects lose their order
        "statuses": ASSIGNMENT_STATUS_NAMES,
        "pollMs": int(current_app.config.get("CONSOLE_POLL_MS", 3000)),
    }
    # closed incidents stay readable (timeline, dispatch record): a trainee learns from the past ones
    session = get_session()
    closed, closed_total = incidents.list_incidents(session, status="closed", limit=CLOSED_SHOWN)
    return render_template(
        "pages/console.html",
        console_config=config,
        closed_incidents=[incidents.serialize(session, i) for i in closed],
        closed_total=closed_total,
    )


@bp.get("/incidents/<int:incident_id>/record")
@page_roles(Role.command_center)
def show_dispatch_record(incident_id: int) -> str:
    """The dispatch record for the file (A4 print): incident, needs, who was sent, who answered, times."""
    session = get_session()
    user = current_user()
    incident = incidents.serialize(session, incidents.get_incident(session, incident_id))
    dispatch_rows = timeline.incident_dispatches(session, incident_id, user)
    events = timeline.incident_timeline(session, incident_id, user)
    answered = {e["assignment_id"]: e["at"] for e in events if e["to_status"] in ("accepted", "declined")}
    return render_template(
        "pages/dispatch_record.html",
        incident=incident,
        dispatches=dispatch_rows,
        events=events,
        answered=answered,
        statuses=ASSIGNMENT_STATUS_NAMES,
        event_names=EVENT_NAMES,
        printed_at=utcnow(),
    )
