"""assigned training (issue 15, point 3)

Assignments of a course to chosen people or to an organisation subtree
(assignments), who each one holds (assignment_members, kept with an end when
the assignment is withdrawn or the person unenrolled), and on each enrolment
its due date (the report reads and filters it without a join) and when the
learner was unenrolled (the row stays).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vle.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assigned", sa.Integer(), nullable=False),
        sa.Column("refused", sa.JSON(), nullable=False),
        sa.Column("withdrawn_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "role IS NULL OR role IN ('learner', 'trainer', 'admin')",
            name=op.f("ck_assignments_role_known"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done')", name=op.f("ck_assignments_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_assignments_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_assignments_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_assignments_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"],
            ["users.id"],
            name=op.f("fk_assignments_withdrawn_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_course_id"), ["course_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_assignments_created_by_id"), ["created_by_id"], unique=False
        )
        batch_op.create_index(
            "ix_assignments_organisation_withdrawn",
            ["organisation_id", "withdrawn_at"],
            unique=False,
        )

    op.create_table(
        "assignment_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("told_at", vle.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_assignment_members_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_assignment_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_members")),
        sa.UniqueConstraint(
            "assignment_id", "user_id", name=op.f("uq_assignment_members_assignment_id_user_id")
        ),
    )
    with op.batch_alter_table("assignment_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignment_members_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assignment_members_told_at"), ["told_at"], unique=False
        )

    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("ended_at", vle.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_enrolments_due", ["due", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index("ix_enrolments_due")
        batch_op.drop_column("ended_at")
        batch_op.drop_column("due")
    with op.batch_alter_table("assignment_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_members_told_at"))
        batch_op.drop_index(batch_op.f("ix_assignment_members_user_id"))
    op.drop_table("assignment_members")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_organisation_withdrawn")
        batch_op.drop_index(batch_op.f("ix_assignments_created_by_id"))
        batch_op.drop_index(batch_op.f("ix_assignments_course_id"))
    op.drop_table("assignments")
