"""the trainer's home: manual completions, attempt resets (issue 15, point 5)

A completion says how it was reached (`method`: "auto" or "manual") and why
(`reason`, for a manual one); an attempt a trainer reset keeps its row with
`reset_at` and `reset_reason`, and no longer counts.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vle.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("completions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("method", sa.String(length=16), server_default="auto", nullable=False)
        )
        batch_op.add_column(
            sa.Column("reason", sa.String(length=500), server_default="", nullable=False)
        )
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reset_at", vle.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("reset_reason", sa.String(length=500), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_column("reset_reason")
        batch_op.drop_column("reset_at")
    with op.batch_alter_table("completions", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("method")
