"""Command-line commands (`flask --app app …`) and start-up preparation of the database."""

import copy

import click
from flask import current_app
from flask.cli import AppGroup, NoAppException, with_appcontext

from rescue import migrations
from rescue.config import ConfigError
from rescue.web.extensions import get_db

db_cli = AppGroup("db", help="数据库结构迁移")


@db_cli.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
def db_upgrade(revision):
    """Bring the database to the latest schema."""
    migrations.upgrade(get_db().engine, revision)
    click.echo(f"数据库已升级: {', '.join(sorted(migrations.current(get_db().engine)))}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision):
    """Step the schema back to REVISION (e.g. base)."""
    migrations.downgrade(get_db().engine, revision)
    click.echo("已降级")


@click.command("seed")
@with_appcontext
def seed_command():
    """Load the Ningxia seed data (once) and, in demo mode, the demo accounts."""
    from seed import loader

    with get_db().session_factory() as session:
        result = loader.seed(session, area=current_app.config["SERVICE_AREA"], demo=current_app.config["DEMO"])
        session.commit()
    click.echo(result.summary())


def init_app(app) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(seed_command)
    from rescue.worker import worker_command

    app.cli.add_command(worker_command)
    from rescue.roads import cli as roads_cli

    roads_cli.init_app(app)


def from_command_line() -> bool:
    """Whether the `flask` command line is building the app (for a command, its help or the command list)."""
    return click.get_current_context(silent=True) is not None


def init_unconfigured(app, error: Exception) -> None:
    """Register every command on an app whose settings are incomplete; running one says what is missing.
    `flask run`/`shell`/`routes` must not get such an app: they stop with the same one line."""
    if click.get_current_context().info_name in {"run", "shell", "routes"}:
        raise NoAppException(f"{error} (设置见 README 的 Settings 一节)")
    init_app(app)
    for name, command in list(app.cli.commands.items()):
        app.cli.add_command(_refusing(command, str(error)), name)


def _refusing(command: click.Command, reason: str) -> click.Command:
    """A copy of `command` (and of a group's subcommands) that stops with `reason` in one line."""
    clone = copy.copy(command)
    if isinstance(command, click.Group):
        clone.commands = {name: _refusing(sub, reason) for name, sub in command.commands.items()}
    else:

        def refuse(*_args, **_kwargs):
            raise click.ClickException(f"{reason} (设置见 README 的 Settings 一节)")

        clone.callback = refuse
    return clone


def prepare_database(app) -> None:
    """Migrate and seed when configured to; refuse demo accounts outside demo mode."""
    from rescue.accounts import accounts

    db = app.extensions["db"]
    if app.config["AUTO_MIGRATE"]:
        migrations.upgrade(db.engine)
    if app.config["SEED_ON_START"]:
        from seed import loader

        with db.session_factory() as session:
            result = loader.seed(session, area=app.config["SERVICE_AREA"], demo=app.config["DEMO"])
            session.commit()
        app.logger.info("%s", result.summary())
    if not app.config["DEMO"] and migrations.current(db.engine):
        with db.session_factory() as session:
            if names := accounts.demo_users_present(session):
                msg = f"非演示模式下数据库中存在演示账号 {', '.join(names)}: 请删除后再启动, 或设置 RESCUE_DEMO=1"
                raise ConfigError(msg)
