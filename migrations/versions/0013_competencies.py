"""competency tracking (issue 16)

competency_frameworks and competencies (the tree, rules), related_competencies,
competency_links (course/lesson/quiz → competency with an outcome),
competency_evidence (kept forever) and user_competencies (the rating that
follows from it), plan_templates / plan_template_competencies /
plan_assignments / plans / plan_ratings, badges.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 20:07:39.566682
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vle.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "competency_frameworks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("scale", sa.JSON(), nullable=False),
        sa.Column("proficient", sa.JSON(), nullable=False),
        sa.Column("default_value", sa.String(length=100), nullable=False),
        sa.Column("taxonomies", sa.JSON(), nullable=False),
        sa.Column("created_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competency_frameworks")),
        sa.UniqueConstraint("code", name=op.f("uq_competency_frameworks_code")),
    )
    op.create_table(
        "competencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=True),
        sa.Column("rule_outcome", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "rule_outcome IN ('evidence', 'recommend', 'complete')",
            name=op.f("ck_competencies_rule_outcome_known"),
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["competency_frameworks.id"],
            name=op.f("fk_competencies_framework_id_competency_frameworks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["competencies.id"],
            name=op.f("fk_competencies_parent_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competencies")),
        sa.UniqueConstraint("code", name=op.f("uq_competencies_code")),
    )
    with op.batch_alter_table("competencies", schema=None) as batch_op:
        batch_op.create_index(
            "ix_competencies_framework_position", ["framework_id", "position"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_competencies_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "plan_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_plan_templates_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_plan_templates_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_templates")),
    )
    op.create_table(
        "related_competencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("related_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "competency_id < related_id", name=op.f("ck_related_competencies_ordered_pair")
        ),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_related_competencies_competency_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["related_id"],
            ["competencies.id"],
            name=op.f("fk_related_competencies_related_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_related_competencies")),
        sa.UniqueConstraint(
            "competency_id",
            "related_id",
            name=op.f("uq_related_competencies_competency_id_related_id"),
        ),
    )
    with op.batch_alter_table("related_competencies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_related_competencies_related_id"), ["related_id"], unique=False
        )

    op.create_table(
        "user_competencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=100), nullable=True),
        sa.Column("proficient", sa.Boolean(), nullable=False),
        sa.Column("rated_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rated_by_kind", sa.String(length=16), nullable=True),
        sa.Column("evidence_count", sa.Integer(), nullable=False),
        sa.Column("self_rating", sa.String(length=100), nullable=True),
        sa.Column("self_rated_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("self_note", sa.Text(), nullable=True),
        sa.Column("review_requested_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_user_competencies_competency_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_competencies_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_competencies")),
        sa.UniqueConstraint(
            "user_id", "competency_id", name=op.f("uq_user_competencies_user_id_competency_id")
        ),
    )
    with op.batch_alter_table("user_competencies", schema=None) as batch_op:
        batch_op.create_index(
            "ix_user_competencies_competency", ["competency_id", "user_id"], unique=False
        )
        batch_op.create_index("ix_user_competencies_review", ["review_requested_at"], unique=False)

    op.create_table(
        "badges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("competency_id", sa.Integer(), nullable=True),
        sa.Column("completion_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("recipient_salt", sa.String(length=64), nullable=False),
        sa.Column("recipient_hash", sa.String(length=100), nullable=False),
        sa.Column("issued_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(length=300), nullable=True),
        sa.CheckConstraint(
            "competency_id IS NULL OR completion_id IS NULL", name=op.f("ck_badges_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_badges_competency_id_competencies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["completion_id"],
            ["completions.id"],
            name=op.f("fk_badges_completion_id_completions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_badges_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badges")),
        sa.UniqueConstraint("completion_id", name=op.f("uq_badges_completion_id")),
        sa.UniqueConstraint("uid", name=op.f("uq_badges_uid")),
        sa.UniqueConstraint(
            "user_id", "competency_id", name=op.f("uq_badges_user_id_competency_id")
        ),
    )
    op.create_table(
        "competency_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('course_completed', 'item_completed', 'quiz_passed', 'rating', 'import', 'self_assessment', 'rule')",
            name=op.f("ck_competency_evidence_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["by_id"],
            ["users.id"],
            name=op.f("fk_competency_evidence_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_competency_evidence_competency_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_competency_evidence_course_id_courses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_competency_evidence_item_id_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_competency_evidence_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competency_evidence")),
        sa.UniqueConstraint(
            "user_id",
            "competency_id",
            "key",
            name=op.f("uq_competency_evidence_user_id_competency_id_key"),
        ),
    )
    with op.batch_alter_table("competency_evidence", schema=None) as batch_op:
        batch_op.create_index(
            "ix_competency_evidence_user_competency",
            ["user_id", "competency_id", "at"],
            unique=False,
        )

    op.create_table(
        "competency_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('evidence', 'recommend', 'complete')",
            name=op.f("ck_competency_links_outcome_known"),
        ),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_competency_links_competency_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_competency_links_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_competency_links_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competency_links")),
        sa.UniqueConstraint(
            "course_id",
            "item_id",
            "competency_id",
            name=op.f("uq_competency_links_course_id_item_id_competency_id"),
        ),
    )
    with op.batch_alter_table("competency_links", schema=None) as batch_op:
        batch_op.create_index("ix_competency_links_competency", ["competency_id"], unique=False)

    op.create_table(
        "plan_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (organisation_id IS NULL)",
            name=op.f("ck_plan_assignments_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"],
            ["users.id"],
            name=op.f("fk_plan_assignments_assigned_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_plan_assignments_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["plan_templates.id"],
            name=op.f("fk_plan_assignments_template_id_plan_templates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_plan_assignments_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_assignments")),
    )
    with op.batch_alter_table("plan_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_assignments_template_id"), ["template_id"], unique=False
        )

    op.create_table(
        "plan_template_competencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_plan_template_competencies_competency_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["plan_templates.id"],
            name=op.f("fk_plan_template_competencies_template_id_plan_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_template_competencies")),
        sa.UniqueConstraint(
            "template_id",
            "competency_id",
            name=op.f("uq_plan_template_competencies_template_id_competency_id"),
        ),
    )
    with op.batch_alter_table("plan_template_competencies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_template_competencies_competency_id"),
            ["competency_id"],
            unique=False,
        )

    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("created_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'complete')", name=op.f("ck_plans_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["plan_templates.id"],
            name=op.f("fk_plans_template_id_plan_templates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_plans_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("user_id", "template_id", name=op.f("uq_plans_user_id_template_id")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_template_id"), ["template_id"], unique=False)

    op.create_table(
        "plan_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=100), nullable=True),
        sa.Column("proficient", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_plan_ratings_competency_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_ratings_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_ratings")),
        sa.UniqueConstraint(
            "plan_id", "competency_id", name=op.f("uq_plan_ratings_plan_id_competency_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("plan_ratings")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_template_id"))

    op.drop_table("plans")
    with op.batch_alter_table("plan_template_competencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_template_competencies_competency_id"))

    op.drop_table("plan_template_competencies")
    with op.batch_alter_table("plan_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_assignments_template_id"))

    op.drop_table("plan_assignments")
    with op.batch_alter_table("competency_links", schema=None) as batch_op:
        batch_op.drop_index("ix_competency_links_competency")

    op.drop_table("competency_links")
    with op.batch_alter_table("competency_evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_competency_evidence_user_competency")

    op.drop_table("competency_evidence")
    op.drop_table("badges")
    with op.batch_alter_table("user_competencies", schema=None) as batch_op:
        batch_op.drop_index("ix_user_competencies_review")
        batch_op.drop_index("ix_user_competencies_competency")

    op.drop_table("user_competencies")
    with op.batch_alter_table("related_competencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_related_competencies_related_id"))

    op.drop_table("related_competencies")
    op.drop_table("plan_templates")
    with op.batch_alter_table("competencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_competencies_parent_id"))
        batch_op.drop_index("ix_competencies_framework_position")

    op.drop_table("competencies")
    op.drop_table("competency_frameworks")
