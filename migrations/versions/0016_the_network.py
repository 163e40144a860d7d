"""the network (issue 19): its tables, ahead of the pages that use them

forums, forum_threads, forum_posts, forum_attachments, forum_thread_reads,
forum_subscriptions, forum_post_reports; announcements; events (with
event_organisers, event_attendances) and agreements (agreement_parties);
indicator_snapshots and indicator_evidence. organisations: the directory's
profile (country, region, contact, website, descriptions per language).
courses: `joint_training` (counted by the indicators).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 02:22:46
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vle.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= signed_on", name=op.f("ck_agreements_ends_after_signing")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_agreements_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreements_signed_on"), ["signed_on"], unique=False)

    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("starts_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("send_mail", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("mailed_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ends_at IS NULL OR ends_at > starts_at", name=op.f("ck_announcements_ends_after_start")
        ),
        sa.CheckConstraint(
            "organisation_id IS NULL OR course_id IS NULL",
            name=op.f("ck_announcements_one_audience"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_announcements_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_announcements_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_announcements_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_announcements_course_id"), ["course_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_announcements_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index("ix_announcements_period", ["starts_at", "ends_at"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("online", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("joint_action", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_events_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_events_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_starts_on"), ["starts_on"], unique=False)

    op.create_table(
        "forums",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subscription", sa.String(length=16), nullable=False),
        sa.Column("lock_after_days", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('standard', 'qa')", name=op.f("ck_forums_kind_known")),
        sa.CheckConstraint(
            "subscription IN ('optional', 'automatic', 'forced', 'off')",
            name=op.f("ck_forums_subscription_known"),
        ),
        sa.CheckConstraint(
            "lock_after_days IS NULL OR lock_after_days > 0",
            name=op.f("ck_forums_lock_after_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_forums_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forums")),
        sa.UniqueConstraint("course_id", name=op.f("uq_forums_course_id")),
    )
    op.create_table(
        "indicator_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reporting_date", sa.Date(), nullable=False),
        sa.Column("taken_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("taken_by_id", sa.Integer(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["taken_by_id"],
            ["users.id"],
            name=op.f("fk_indicator_snapshots_taken_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_snapshots")),
        sa.UniqueConstraint("reporting_date", name=op.f("uq_indicator_snapshots_reporting_date")),
    )
    op.create_table(
        "agreement_parties",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_parties_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_agreement_parties_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "agreement_id", "organisation_id", name=op.f("pk_agreement_parties")
        ),
    )
    with op.batch_alter_table("agreement_parties", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_parties_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "event_attendances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_attendances_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_event_attendances_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_event_attendances_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_attendances")),
        sa.UniqueConstraint(
            "event_id", "user_id", name=op.f("uq_event_attendances_event_id_user_id")
        ),
    )
    with op.batch_alter_table("event_attendances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_attendances_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_event_attendances_user_id"), ["user_id"], unique=False)

    op.create_table(
        "event_organisers",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_organisers_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_event_organisers_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "organisation_id", name=op.f("pk_event_organisers")),
    )
    with op.batch_alter_table("event_organisers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_organisers_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "forum_threads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forum_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("created_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_post_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("post_count", sa.Integer(), nullable=False),
        sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("locked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_forum_threads_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["forum_id"],
            ["forums.id"],
            name=op.f("fk_forum_threads_forum_id_forums"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_threads")),
    )
    with op.batch_alter_table("forum_threads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forum_threads_author_id"), ["author_id"], unique=False)
        batch_op.create_index(
            "ix_forum_threads_listing", ["forum_id", "pinned", "last_post_at"], unique=False
        )

    op.create_table(
        "indicator_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=16), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["indicator_snapshots.id"],
            name=op.f("fk_indicator_evidence_snapshot_id_indicator_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_evidence")),
    )
    with op.batch_alter_table("indicator_evidence", schema=None) as batch_op:
        batch_op.create_index(
            "ix_indicator_evidence_snapshot", ["snapshot_id", "indicator"], unique=False
        )

    op.create_table(
        "forum_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("quote_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("created_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("edited_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notify_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notified", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_forum_posts_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["forum_posts.id"],
            name=op.f("fk_forum_posts_quote_id_forum_posts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["forum_threads.id"],
            name=op.f("fk_forum_posts_thread_id_forum_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_posts")),
    )
    with op.batch_alter_table("forum_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forum_posts_author_id"), ["author_id"], unique=False)
        batch_op.create_index("ix_forum_posts_notify", ["notified", "notify_at"], unique=False)
        batch_op.create_index(
            "ix_forum_posts_thread_created", ["thread_id", "created_at"], unique=False
        )

    op.create_table(
        "forum_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("forum_id", sa.Integer(), nullable=True),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        sa.Column("created_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "delivery IN ('each', 'digest', 'off')",
            name=op.f("ck_forum_subscriptions_delivery_known"),
        ),
        sa.CheckConstraint(
            "(forum_id IS NULL) <> (thread_id IS NULL)",
            name=op.f("ck_forum_subscriptions_forum_or_thread"),
        ),
        sa.ForeignKeyConstraint(
            ["forum_id"],
            ["forums.id"],
            name=op.f("fk_forum_subscriptions_forum_id_forums"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["forum_threads.id"],
            name=op.f("fk_forum_subscriptions_thread_id_forum_threads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_forum_subscriptions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_subscriptions")),
        sa.UniqueConstraint(
            "user_id",
            "forum_id",
            "thread_id",
            name=op.f("uq_forum_subscriptions_user_id_forum_id_thread_id"),
        ),
    )
    with op.batch_alter_table("forum_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_forum_subscriptions_forum_id"), ["forum_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_forum_subscriptions_thread_id"), ["thread_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_forum_subscriptions_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "forum_thread_reads",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("read_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["forum_threads.id"],
            name=op.f("fk_forum_thread_reads_thread_id_forum_threads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_forum_thread_reads_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "thread_id", name=op.f("pk_forum_thread_reads")),
    )
    with op.batch_alter_table("forum_thread_reads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_forum_thread_reads_thread_id"), ["thread_id"], unique=False
        )

    op.create_table(
        "forum_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["forum_posts.id"],
            name=op.f("fk_forum_attachments_post_id_forum_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_attachments")),
    )
    with op.batch_alter_table("forum_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forum_attachments_post_id"), ["post_id"], unique=False)

    op.create_table(
        "forum_post_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("created_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["forum_posts.id"],
            name=op.f("fk_forum_post_reports_post_id_forum_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_forum_post_reports_reporter_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["users.id"],
            name=op.f("fk_forum_post_reports_resolved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_post_reports")),
        sa.UniqueConstraint(
            "post_id", "reporter_id", name=op.f("uq_forum_post_reports_post_id_reporter_id")
        ),
    )
    with op.batch_alter_table("forum_post_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_forum_post_reports_open", ["resolved_at", "created_at"], unique=False
        )

    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("joint_training", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("country", sa.String(length=2), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("region", sa.String(length=100), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("contact_email", sa.String(length=254), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("contact_phone", sa.String(length=50), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("website", sa.String(length=300), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("descriptions", sa.JSON(), server_default="{}", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_organisations_country"), ["country"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisations_country"))
        batch_op.drop_column("descriptions")
        batch_op.drop_column("website")
        batch_op.drop_column("contact_phone")
        batch_op.drop_column("contact_email")
        batch_op.drop_column("region")
        batch_op.drop_column("country")

    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_column("joint_training")

    with op.batch_alter_table("forum_post_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_forum_post_reports_open")

    op.drop_table("forum_post_reports")
    with op.batch_alter_table("forum_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forum_attachments_post_id"))

    op.drop_table("forum_attachments")
    with op.batch_alter_table("forum_thread_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forum_thread_reads_thread_id"))

    op.drop_table("forum_thread_reads")
    with op.batch_alter_table("forum_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forum_subscriptions_user_id"))
        batch_op.drop_index(batch_op.f("ix_forum_subscriptions_thread_id"))
        batch_op.drop_index(batch_op.f("ix_forum_subscriptions_forum_id"))

    op.drop_table("forum_subscriptions")
    with op.batch_alter_table("forum_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_forum_posts_thread_created")
        batch_op.drop_index("ix_forum_posts_notify")
        batch_op.drop_index(batch_op.f("ix_forum_posts_author_id"))

    op.drop_table("forum_posts")
    with op.batch_alter_table("indicator_evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_indicator_evidence_snapshot")

    op.drop_table("indicator_evidence")
    with op.batch_alter_table("forum_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_forum_threads_listing")
        batch_op.drop_index(batch_op.f("ix_forum_threads_author_id"))

    op.drop_table("forum_threads")
    with op.batch_alter_table("event_organisers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_organisers_organisation_id"))

    op.drop_table("event_organisers")
    with op.batch_alter_table("event_attendances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_attendances_user_id"))
        batch_op.drop_index(batch_op.f("ix_event_attendances_organisation_id"))

    op.drop_table("event_attendances")
    with op.batch_alter_table("agreement_parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_parties_organisation_id"))

    op.drop_table("agreement_parties")
    op.drop_table("indicator_snapshots")
    op.drop_table("forums")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_starts_on"))

    op.drop_table("events")
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_index("ix_announcements_period")
        batch_op.drop_index(batch_op.f("ix_announcements_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_announcements_course_id"))

    op.drop_table("announcements")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreements_signed_on"))

    op.drop_table("agreements")
