"""Who someone is: organisations, users, roles and API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vle.db import Base, utcnow


class Role(StrEnum):
    LEARNER = "learner"
    TRAINER = "trainer"
    ADMIN = "admin"


class Organisation(Base):
    """A node of the organisation tree. `path` ("/1/4/9/") holds the ids from the
    root down, so a subtree is one indexed prefix match, not a recursive query."""

    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint("code <> ''", name="code_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64), default="")
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    path: Mapped[str] = mapped_column(String(512), index=True, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The directory's profile (vle/community): ISO 3166-1 alpha-2 country, region,
    # contact, and a description per language ({"en": "…", "lt": "…"}).
    country: Mapped[str] = mapped_column(String(2), default="", server_default="", index=True)
    region: Mapped[str] = mapped_column(String(100), default="", server_default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="", server_default="")
    website: Mapped[str] = mapped_column(String(300), default="", server_default="")
    descriptions: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    # Images kept by vle/uploads.py (their SHA-256), printed on the certificates
    # of the courses this organisation issues; `signatory` names who signs.
    logo: Mapped[str | None] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(String(64))
    signatory: Mapped[str] = mapped_column(String(200), default="", server_default="")

    parent: Mapped[Organisation | None] = relationship(remote_side=[id])

    def contains(self, other: Organisation) -> bool:
        """Is `other` this organisation or one of its descendants?"""
        return other.path.startswith(self.path)

    def __repr__(self) -> str:
        return f"<Organisation {self.code}>"


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('learner', 'trainer', 'admin')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(16), default=Role.LEARNER)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    # An admin with network scope sees every organisation, not just their subtree.
    network: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when an administrator erased the account's personal data (GDPR): the
    # row stays, anonymised, so that enrolments and report totals keep counting.
    erased_at: Mapped[datetime | None]
    # Set by an administrator: after signing in, every page leads to Change
    # password until the person has chosen one of their own.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated users cannot sign in
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_network_admin(self) -> bool:
        return self.role == Role.ADMIN and self.network

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.TRAINER, Role.ADMIN)

    def administers(self, organisation: Organisation) -> bool:
        """May this user administer (and report on) `organisation`?"""
        if not self.is_admin:
            return False
        return self.network or self.organisation.contains(organisation)

    def manages(self, other: User) -> bool:
        """May this user administer the account `other`? Its organisation must be
        in scope, and only network administrators manage network administrators."""
        if not self.administers(other.organisation):
            return False
        return self.network or not other.network

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class ApiToken(Base):
    """A personal API token. Only its SHA-256 is stored; the token is shown once.
    It works until `expires_at`, until its owner or an administrator revokes it
    (the row is deleted), and until the owner's password changes or the account
    is deactivated (every token of theirs is deleted then)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class UserSession(Base):
    """A signed-in browser session, held on the server so that it can end
    there: at Log out, when the password changes, when the account is
    deactivated, after an idle time and after a lifetime in all. The browser's
    cookie holds a random key; only its SHA-256 is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Brought up to date at most every few minutes (accounts.services.SEEN_EVERY).
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignInCounter(Base):
    """Sign-in attempts per key (an account's e-mail, a client address) in the
    current minute and the one before: a sliding-window count that every
    worker and server shares through the database, bumped by one atomic
    statement before the password is checked (accounts.services.reserve_sign_in)."""

    __tablename__ = "sign_in_counters"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    # The current window's start, in whole seconds since the epoch.
    window: Mapped[int] = mapped_column(index=True)
    count: Mapped[int]
    previous: Mapped[int] = mapped_column(default=0)


class PasswordLink(Base):
    """A link mailed to someone to set their password: `reset` (Forgotten your
    password?) or `invitation` (a new account). Only the SHA-256 of its random
    token is stored. It works once (`used_at`), until `expires_at`, and only
    while it is the person's newest link of its purpose (issuing one voids the
    older ones; setting a password voids them all).

    A row rather than a token signed with the secret key and bound to the
    password hash: single use and "voided by a newer link" need state either
    way (an invitation's account has no password hash to bind to), and a row
    can be listed (the invitation's state on the user's page) and expires on
    its own date whatever the secret key does."""

    __tablename__ = "password_links"
    __table_args__ = (CheckConstraint("purpose IN ('reset', 'invitation')", name="purpose_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class SsoProvider(Base):
    """An organisation's own OpenID Connect identity provider: its people whose
    e-mail is on one of `domains` may sign in through it (accounts.sso). One
    provider per organisation. The client secret is stored encrypted with a
    key derived from the app's SECRET_KEY (accounts.sso.seal), and never
    shown back."""

    __tablename__ = "sso_providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), unique=True
    )
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret_sealed: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    domains: Mapped[list[SsoDomain]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="SsoDomain.domain"
    )


class SsoDomain(Base):
    """An e-mail domain ("vilnius.lt") whose addresses sign in through one
    provider. A domain belongs to at most one provider in the whole network,
    so an address leads to one organisation's sign-in, never a choice."""

    __tablename__ = "sso_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("sso_providers.id", ondelete="CASCADE"), index=True
    )
