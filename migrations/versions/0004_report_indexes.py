"""report indexes: enrolments by enrolment time and by completion time

The completion report's default order (newest enrolment first) and its period
filter (enrolled or completed between two days) across the whole network: without
them the first page of a million-row report sorts every row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 04:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index("ix_enrolments_enrolled_at", ["enrolled_at", "id"], unique=False)
        batch_op.create_index("ix_enrolments_completed_at", ["completed_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index("ix_enrolments_completed_at")
        batch_op.drop_index("ix_enrolments_enrolled_at")
