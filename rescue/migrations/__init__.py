"""Schema migrations (Alembic): bring any database to the latest schema."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

HERE = Path(__file__).parent


def alembic_config(engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine, revision: str = "heads") -> None:
    """Apply every migration not yet applied."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(None)).get_heads())


def current(engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())
