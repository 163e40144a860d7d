"""recurring mandatory training: expiry, reminders, re-enrolment (issue 15, point 4)

On each enrolment when its latest completion's validity ends (expires_at,
indexed for the daily task) and a fourth status, 'expired' (the CHECK is
recreated: batch mode copies the table on SQLite, keeping its indexes and
constraints); item_progress_rounds keeps the item progress of earlier rounds
when an expired enrolment starts over.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vle.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_THREE = "status IN ('not_started', 'in_progress', 'completed')"
_FOUR = "status IN ('not_started', 'in_progress', 'completed', 'expired')"


def upgrade() -> None:
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", vle.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_constraint(batch_op.f("ck_enrolments_status_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_enrolments_status_known"), _FOUR)
        batch_op.create_index("ix_enrolments_expires_at", ["expires_at", "id"], unique=False)

    op.create_table(
        "item_progress_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("completion_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("viewed_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["completion_id"],
            ["completions.id"],
            name=op.f("fk_item_progress_rounds_completion_id_completions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_item_progress_rounds_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_item_progress_rounds_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_progress_rounds")),
    )
    with op.batch_alter_table("item_progress_rounds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_item_progress_rounds_completion_id"), ["completion_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_item_progress_rounds_item_id"), ["item_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_item_progress_rounds_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("item_progress_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_progress_rounds_user_id"))
        batch_op.drop_index(batch_op.f("ix_item_progress_rounds_item_id"))
        batch_op.drop_index(batch_op.f("ix_item_progress_rounds_completion_id"))
    op.drop_table("item_progress_rounds")

    # An expired enrolment goes back to not started (its new round is empty).
    op.execute("UPDATE enrolments SET status = 'not_started' WHERE status = 'expired'")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index("ix_enrolments_expires_at")
        batch_op.drop_constraint(batch_op.f("ck_enrolments_status_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_enrolments_status_known"), _THREE)
        batch_op.drop_column("expires_at")
