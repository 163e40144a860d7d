"""forum indexes: a forum's page and a thread's page at a million posts

A forum's page counts and orders its shown threads (`hidden` false, pinned
first, then the latest activity): the listing index now holds `hidden` and the
id, so the count and the page — a deep one too — are read from the index alone.
A thread's page, its unread counts and the page a search result is on read the
thread's posts in order with `hidden` and the author: the posts' index holds
them all (PostgreSQL: index-only scans).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("forum_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_forum_threads_listing")
        batch_op.create_index(
            "ix_forum_threads_listing",
            ["forum_id", "hidden", "pinned", "last_post_at", "id"],
            unique=False,
        )
    with op.batch_alter_table("forum_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_forum_posts_thread_created")
        batch_op.create_index(
            "ix_forum_posts_thread_order",
            ["thread_id", "created_at", "id", "hidden", "author_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("forum_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_forum_posts_thread_order")
        batch_op.create_index(
            "ix_forum_posts_thread_created", ["thread_id", "created_at"], unique=False
        )
    with op.batch_alter_table("forum_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_forum_threads_listing")
        batch_op.create_index(
            "ix_forum_threads_listing", ["forum_id", "pinned", "last_post_at"], unique=False
        )
