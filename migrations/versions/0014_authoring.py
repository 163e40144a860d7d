"""authoring in the browser (issue 17)

courses, modules, items: `version`, raised by every save; a save based on an
older version is a conflict (vle/authoring/editing.py).
removed_item_progress: what learners had done on an item a trainer removed
(or a re-import dropped), kept as history.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 23:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vle.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

VERSIONED = ("courses", "modules", "items")


def upgrade() -> None:
    for table in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("version", sa.Integer(), server_default="1", nullable=False)
            )
    op.create_table(
        "removed_item_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("item_slug", sa.String(length=100), nullable=False),
        sa.Column("item_title", sa.String(length=300), nullable=False),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("viewed_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("removed_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_removed_item_progress_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_removed_item_progress_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_removed_item_progress")),
    )
    with op.batch_alter_table("removed_item_progress", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_removed_item_progress_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_removed_item_progress_course_id"), ["course_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("removed_item_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_removed_item_progress_course_id"))
        batch_op.drop_index(batch_op.f("ix_removed_item_progress_user_id"))
    op.drop_table("removed_item_progress")
    for table in reversed(VERSIONED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")
