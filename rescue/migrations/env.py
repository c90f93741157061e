"""Alembic environment: runs against the engine handed over in the config's attributes."""

from alembic import context

import rescue.models  # noqa: F401  (registers every table)
from rescue.db import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
