"""Command-center console: the map, incidents, ranked candidates, dispatch and the live timeline."""

from flask import Blueprint, current_app, jsonify, render_template, request

from rescue.errors import ValidationError
from rescue.models import Role
from rescue.models.enums import ASSIGNMENT_STATUS_NAMES, INCIDENT_LEVEL_NAMES
from rescue.web.pages.common import page_roles

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.get("/")
@page_roles(Role.command_center)
def show_console():
    # the page is a shell: incidents, candidates, dispatches and the timeline come from the JSON API
    config = {
        "tileUrl": current_app.config.get("MAP_TILE_URL", ""),
        "tileAttribution": current_app.config.get("MAP_TILE_ATTRIBUTION", ""),
        "area": list(current_app.config["SERVICE_AREA"]),
        "levels": INCIDENT_LEVEL_NAMES,
        "statuses": ASSIGNMENT_STATUS_NAMES,
        "pollMs": int(current_app.config.get("CONSOLE_POLL_MS", 3000)),
    }
    return render_template("pages/console.html", console_config=config)


@bp.get("/wgs84")
@page_roles(Role.command_center)
def convert_to_wgs84():
    """A GCJ-02 point typed from a Chinese map app, as the WGS-84 point the service stores."""
    from routing.gcj02 import gcj02_to_wgs84

    try:
        lat, lon = float(request.args["lat"]), float(request.args["lon"])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError
    except (KeyError, ValueError):
        raise ValidationError({"lat": "应为 纬度,经度 数字"}) from None
    wlat, wlon = gcj02_to_wgs84(lat, lon)
    return jsonify({"lat": round(wlat, 7), "lon": round(wlon, 7)})
