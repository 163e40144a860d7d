"""what a new user trips over (issue 18)

quiz_attempts: `last_page` (resuming returns there) and `flagged` (questions
marked to come back to).
courses: `enrolment_key_hint`, `hours` (stated on the certificate) and
`issuer_id` (the organisation whose name, logo and signature it carries).
organisations: `logo`, `signature` (stored uploads) and `signatory`.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_page", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(sa.Column("flagged", sa.JSON(), server_default="[]", nullable=False))
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "enrolment_key_hint", sa.String(length=200), server_default="", nullable=False
            )
        )
        batch_op.add_column(sa.Column("hours", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("issuer_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_courses_issuer_id"), ["issuer_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_courses_issuer_id_organisations"),
            "organisations",
            ["issuer_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("logo", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("signature", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("signatory", sa.String(length=200), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("signatory")
        batch_op.drop_column("signature")
        batch_op.drop_column("logo")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_courses_issuer_id_organisations"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_courses_issuer_id"))
        batch_op.drop_column("issuer_id")
        batch_op.drop_column("hours")
        batch_op.drop_column("enrolment_key_hint")
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_column("flagged")
        batch_op.drop_column("last_page")
