"""The app's shared objects, made once by the app factory and read here by views, CLI commands and the worker.

The factory (``app.create_app``) builds the database, the SMS gateway, the alert settings and the road graph and
keeps them in ``app.extensions``; services never read them from Flask but get them as arguments.
"""

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.orm import Session

from contacts import SmsGateway
from contacts.voice import VoiceGateway
from rescue.db import Database
from rescue.messaging.gateway import AlertSettings
from rescue.roads.active import RoadGraph
from rescue.roads.network import ActiveRoads

DB, SMS_GATEWAY, VOICE_GATEWAY, ALERT_SETTINGS, ROAD_GRAPH = "db", "sms_gateway", "voice_gateway", "alert_settings", "road_graph"


def init_app(app: Flask) -> None:
    """Guard every route against hostile input; close each request's (or CLI command's) session at its end."""
    from rescue.web import inputs

    inputs.init_app(app)
    app.teardown_appcontext(_close_session)


def get_db() -> Database:
    return current_app.extensions[DB]


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_session() -> Session:
    """The session of the current request or CLI command; the boundary commits.

    A request that may write (POST, PUT, PATCH, DELETE) gets a session whose transactions take SQLite's write
    lock up front, so concurrent writers queue on the busy timeout instead of failing with "database is locked".
    """
    if "db_session" not in g:
        db = get_db()
        writes = has_request_context() and request.method in WRITE_METHODS
        g.db_session = (db.write_session_factory if writes else db.session_factory)()
    return g.db_session


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()


def get_gateway() -> SmsGateway:
    """The app's SMS gateway."""
    return current_app.extensions[SMS_GATEWAY]


def get_voice_gateway() -> VoiceGateway:
    """The app's voice-call gateway (`none` refuses every call)."""
    return current_app.extensions[VOICE_GATEWAY]


def get_alert_settings() -> AlertSettings:
    return current_app.extensions[ALERT_SETTINGS]


def get_road_graph() -> RoadGraph:
    return current_app.extensions[ROAD_GRAPH]


def get_roads() -> ActiveRoads:
    """The active network with its gazetteer, settings and caches (what services take as ``network``)."""
    return get_road_graph().get()
