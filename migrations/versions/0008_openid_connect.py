"""sign-in through an organisation's OpenID Connect provider (issue 15, point 2)

An organisation's identity provider (issuer, client id, the client secret
sealed with a key derived from SECRET_KEY) and the e-mail domains whose
addresses sign in through it; a domain belongs to one provider at most.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vle.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sso_providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret_sealed", sa.String(length=1000), nullable=False),
        sa.Column("created_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", vle.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_sso_providers_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_providers")),
        sa.UniqueConstraint("organisation_id", name=op.f("uq_sso_providers_organisation_id")),
    )
    op.create_table(
        "sso_domains",
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["sso_providers.id"],
            name=op.f("fk_sso_domains_provider_id_sso_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_sso_domains")),
    )
    with op.batch_alter_table("sso_domains", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_domains_provider_id"), ["provider_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sso_domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_domains_provider_id"))
    op.drop_table("sso_domains")
    op.drop_table("sso_providers")
