"""accounts that look after themselves: reset and invitation links, must-change (issue 15, point 2)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 17:30:00
"""

from __future__ import annotations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
