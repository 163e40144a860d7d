"""monitoring figures counted ahead of the page (issue 19)

monitoring_figures: one row per question the monitoring page or the network
picture asks (its filters and the reader's time zone), with the figures as
counted, when they were counted and when a page last read them. Refreshed by
the worker every five minutes (vle.monitoring.precomputed).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 05:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vle.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_figures",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("computed_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_monitoring_figures")),
    )


def downgrade() -> None:
    op.drop_table("monitoring_figures")
