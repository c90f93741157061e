"""Composition root: create_app() builds the service; `python app.py` serves the embedded default."""

import os
from dataclasses import replace
from pathlib import Path

from flask import Flask

from rescue import cli, logs, web, worker
from rescue.cards import cards
from rescue.config import ConfigError, load_config
from rescue.db import Database
from rescue.messaging import gateway
from rescue.roads.active import RoadGraph, preload_wanted
from rescue.web import extensions

ROOT = Path(__file__).resolve().parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app from defaults, RESCUE_* environment variables and `test_config`."""
    instance_path = os.environ.get("RESCUE_INSTANCE_PATH") or (test_config or {}).get("INSTANCE_PATH")
    app = Flask("rescue", instance_path=str(Path(instance_path).resolve()) if instance_path else str(ROOT / "instance"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    try:
        _configure(app, test_config)
    except ConfigError as exc:
        if not cli.from_command_line():
            raise
        # `flask --app app …` without its settings: help and the command list work, each command says what is missing
        cli.init_unconfigured(app, exc)
    return app


def _configure(app: Flask, test_config: dict | None) -> None:
    logs.quiet_libraries()
    load_config(app, test_config)
    app.secret_key = app.config["SECRET_KEY"]
    app.extensions[extensions.DB] = Database(app.config["DATABASE_URL"])
    try:
        cli.prepare_database(app)
        sms_gateway, voice_gateway, alert_settings = gateway.build(app.config)
        alert_settings = replace(alert_settings, card_short=cards.short_for)  # dispatch SMS carry the card's text
        app.extensions[extensions.SMS_GATEWAY] = sms_gateway
        app.extensions[extensions.VOICE_GATEWAY] = voice_gateway
        app.extensions[extensions.ALERT_SETTINGS] = alert_settings
        # the active road network, loaded once per process from its .npz cache
        roads = app.extensions[extensions.ROAD_GRAPH] = RoadGraph(app.config, app.instance_path, log=app.logger)
        if preload_wanted(app.config, testing=app.testing):
            roads.get()
        web.init_app(app)
        cli.init_app(app)
        worker.init_app(app)  # the scheduler thread, only with RESCUE_RUN_SCHEDULER
    except Exception:
        app.extensions[extensions.DB].engine.dispose()  # a refused start leaves no connections behind
        raise


def main() -> None:
    """The embedded default: SQLite in instance/, seeded data, demo accounts, console SMS, scheduler thread."""
    logs.setup()
    for name, value in {
        "DEMO": "1",
        "AUTO_MIGRATE": "1",
        "SEED_ON_START": "1",
        "RUN_SCHEDULER": "1",
        "VOICE_BACKEND": "console",
    }.items():
        os.environ.setdefault(f"RESCUE_{name}", value)
    app = create_app()
    port = app.config["PORT"]
    app.logger.info("宁夏应急资源协同服务: http://127.0.0.1:%s", port)
    app.run(host="127.0.0.1", port=port, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
