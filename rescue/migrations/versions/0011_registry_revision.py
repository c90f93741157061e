"""registry revision: one counter, raised by triggers on every change to the tables dispatch reads

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00

Dispatch keeps the registry rows it ranks from in memory and reads them again when this revision
moves (rescue/dispatch/resources.py). The triggers make that hold for every writer: the service, a
spreadsheet import, the seed, a hand-made SQL fix. On PostgreSQL the bump is a deferred constraint
trigger, run once per transaction at commit, so the counter's row lock is held only for the commit
itself (two writers never wait on each other while holding it). Caution for later migrations: on
SQLite, ``batch_alter_table`` rebuilds a table and drops its triggers; re-create them with
``create_triggers`` (tests/test_migrations.py checks every watched table has them).
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WATCHED = (
    "capabilities",
    "enterprises",
    "depots",
    "teams",
    "team_capabilities",
    "experts",
    "expert_fields",
    "equipment",
    "equipment_capabilities",
    "supply_lots",
    "contact_people",
    "roster_shifts",
    "certificates",
)

_PG_FUNCTION = """
CREATE FUNCTION bump_registry_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('rescue.registry_bumped', true) IS DISTINCT FROM txid_current()::text THEN
        PERFORM set_config('rescue.registry_bumped', txid_current()::text, true);
        UPDATE registry_revision SET value = value + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END $$
"""


def create_triggers(tables=WATCHED) -> None:
    """The bump triggers on ``tables`` (idempotent: existing ones are replaced)."""
    drop_triggers(tables)
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in tables:
        if postgres:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER registry_revision_bump AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_registry_revision()"
            )
        else:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER registry_revision_{table}_{event.lower()} AFTER {event} ON {table} "
                    "BEGIN UPDATE registry_revision SET value = value + 1 WHERE id = 1; END"
                )


def drop_triggers(tables=WATCHED) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in tables:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS registry_revision_bump ON {table}")
        else:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS registry_revision_{table}_{event}")


def upgrade():
    table = op.create_table(
        "registry_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_revision")),
    )
    op.bulk_insert(table, [{"id": 1, "epoch": uuid.uuid4().hex, "value": 0}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
    create_triggers()


def downgrade():
    drop_triggers()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS bump_registry_revision()")
    op.drop_table("registry_revision")
