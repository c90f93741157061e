"""channels: voice calls in the outbox, templates with their values, webhook items applied once

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=8), server_default="sms", nullable=False))
        batch_op.add_column(sa.Column("template", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
        # provider error codes such as isv.MOBILE_NUMBER_ILLEGAL are longer than Twilio's numbers
        batch_op.alter_column("error_code", existing_type=sa.String(length=16), type_=sa.String(length=64))

    with op.batch_alter_table("delivery_receipts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provider", sa.String(length=20), server_default="", nullable=False))
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reference", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("to_phone", sa.String(length=32), nullable=True))
        batch_op.alter_column("error_code", existing_type=sa.String(length=16), type_=sa.String(length=64))
        batch_op.create_unique_constraint(batch_op.f("uq_delivery_receipts_dedupe_key"), ["dedupe_key"])

    # a provider message id stored twice before this revision keeps its first row; the others lose the id
    op.execute(
        "UPDATE inbound_messages SET provider_id = NULL WHERE provider_id IS NOT NULL AND id NOT IN "
        "(SELECT min(id) FROM inbound_messages WHERE provider_id IS NOT NULL GROUP BY provider, provider_id)"
    )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_inbound_messages_provider_id", ["provider", "provider_id"])

    op.create_table(
        "call_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_dt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("digits", sa.String(length=8), nullable=True),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox_messages.id"], name=op.f("fk_call_events_outbox_id_outbox_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_events")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_call_events_dedupe_key")),
    )
    with op.batch_alter_table("call_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_events_outbox_id"), ["outbox_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_events_provider_id"), ["provider_id"], unique=False)


def downgrade():
    with op.batch_alter_table("call_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_events_provider_id"))
        batch_op.drop_index(batch_op.f("ix_call_events_outbox_id"))
    op.drop_table("call_events")
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_constraint("uq_inbound_messages_provider_id", type_="unique")
    with op.batch_alter_table("delivery_receipts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_delivery_receipts_dedupe_key"), type_="unique")
        batch_op.alter_column("error_code", existing_type=sa.String(length=64), type_=sa.String(length=16))
        batch_op.drop_column("to_phone")
        batch_op.drop_column("reference")
        batch_op.drop_column("dedupe_key")
        batch_op.drop_column("provider")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.alter_column("error_code", existing_type=sa.String(length=64), type_=sa.String(length=16))
        batch_op.drop_column("params")
        batch_op.drop_column("template")
        batch_op.drop_column("channel")
