"""road closures have a kind: impassable (道路中断, default) or traffic_control (交通管制)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("road_closures", schema=None) as batch_op:
        # existing closures were all treated as impassable
        batch_op.add_column(sa.Column("kind", sa.String(length=20), server_default="impassable", nullable=False))


def downgrade():
    with op.batch_alter_table("road_closures", schema=None) as batch_op:
        batch_op.drop_column("kind")
