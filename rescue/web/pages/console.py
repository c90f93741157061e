"""Command-center console: the map, incidents, ranked candidates, dispatch and the live timeline."""

from flask import Blueprint, current_app, render_template

from rescue.models import Role
from rescue.models.enums import ASSIGNMENT_STATUS_NAMES, INCIDENT_LEVEL_NAMES
from rescue.web.pages.common import page_roles

bp = Blueprint("console", __name__, url_prefix="/console")


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
    return render_template("pages/console.html", console_config=config)

