"""The HTTP surfaces: API, health, pages and webhooks, registered on the app."""

from flask import Flask, current_app

from rescue import migrations
from rescue.db import ping
from rescue.web.extensions import get_db


def init_app(app: Flask) -> None:
    from rescue.web import errors, extensions, security

    extensions.init_app(app)
    from rescue.web.api import bp as api_bp

    security.init_app(app)  # CSP and other headers on every response, Secure cookie behind https
    errors.init_app(app)
    app.register_blueprint(api_bp)
    from rescue.web import responder, voice, webhooks

    app.register_blueprint(webhooks.bp)
    app.register_blueprint(voice.bp)
    app.register_blueprint(responder.bp)
    from rescue.web import pages

    pages.init_app(app)  # sign-in, CSRF and the pages for people
    app.add_url_rule("/health", "health", health)


def health() -> tuple[dict, int]:
    """Service, database and schema version; 503 when the database is unreachable or behind."""
    db = get_db()
    body = {"service": "rescue", "status": "ok", "demo": current_app.config["DEMO"]}
    try:
        ping(db.engine)
        current = migrations.current(db.engine)
        head = migrations.heads()
        body["database"] = {"ok": True, "dialect": db.engine.dialect.name}
        body["schema"] = {"revision": sorted(current), "head": sorted(head), "up_to_date": current == head}
        if current != head:
            body["status"] = "degraded"
    except Exception as exc:  # noqa: BLE001 - health reports any database failure
        body["status"] = "error"
        body["database"] = {"ok": False, "error": type(exc).__name__}
    from rescue.roads.active import describe
    from rescue.web.extensions import get_roads

    try:
        body["roads"] = describe(get_roads())  # the active network: file, nodes, edges, built at
    except Exception as exc:  # noqa: BLE001 - health reports any road-network failure
        body["status"] = "error"
        body["roads"] = {"ok": False, "error": type(exc).__name__}
    return body, 200 if body["status"] == "ok" else 503
