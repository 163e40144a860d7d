"""accounts that look after themselves: reset and invitation links, must-change (issue 15, point 2)

`password_links` holds the SHA-256 of each mailed link's token (reset or
invitation), its expiry and when it was used; `users.must_change_password`
sends a person to Change password after they sign in.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vle.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "password_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('reset', 'invitation')", name=op.f("ck_password_links_purpose_known")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_password_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_links_token_hash")),
    )
    with op.batch_alter_table("password_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_links_user_id"), ["user_id"], unique=False)

    # A plain ADD COLUMN with its default on SQLite too: the users table is not
    # copied (copying it would cascade deletes into every table that refers to it).
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    # In place, not in batch mode: SQLite (3.35 and later) drops the column without
    # copying the users table.
    op.drop_column("users", "must_change_password")
    with op.batch_alter_table("password_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_links_user_id"))
    op.drop_table("password_links")
