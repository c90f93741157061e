"""server-side page sessions (api_tokens.purpose) and the sign-in throttle

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import rescue.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purpose", sa.String(length=10), server_default="api", nullable=False))
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_dt", rescue.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until_dt", rescue.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )


def downgrade():
    op.drop_table("login_throttle")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("purpose")
