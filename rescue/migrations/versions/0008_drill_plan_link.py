"""drill plans name the emergency plan they exercise

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("drill_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("emergency_plan_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_drill_plans_emergency_plan_id"), ["emergency_plan_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_drill_plans_emergency_plan_id_emergency_plans"),
            "emergency_plans",
            ["emergency_plan_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("drill_plans", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_drill_plans_emergency_plan_id_emergency_plans"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_drill_plans_emergency_plan_id"))
        batch_op.drop_column("emergency_plan_id")
