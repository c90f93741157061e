"""Migrations bring an empty database to a schema identical to the models, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import rescue.models  # noqa: F401
from rescue import migrations
from rescue.db import Base, make_engine


def test_upgrade_from_empty_matches_models_and_downgrades(templates, backend):
    engine = make_engine(templates.empty(backend))
    assert migrations.current(engine) == set()
    migrations.upgrade(engine)
    assert migrations.current(engine) == migrations.heads()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []
    migrations.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrations.upgrade(engine)
    assert "teams" in inspect(engine).get_table_names()
    engine.dispose()


def test_db_upgrade_command(templates, backend, tmp_path):
    from tests.conftest import make_app

    app = make_app(templates.empty(backend), tmp_path)
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "数据库已升级" in result.output
    assert migrations.current(app.extensions["db"].engine) == migrations.heads()
    app.extensions["db"].engine.dispose()
