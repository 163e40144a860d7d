"""The audit log: who did what to which user, organisation, enrolment, course or
report, when, and from which address.

It sits on the bottom floor (it imports only `vle.db`) so that every domain —
accounts, learning, reports, admin — can write to it without an upward import.
Services write entries with `audit()`; they are handed the actor and the client
address by their caller (a view passes `current_user` and `request.remote_addr`,
which ProxyFix has already corrected), never reading the request themselves.

Entries hold no personal data beyond `target_label` (an email, a code, a slug at
the time of the action), which erasing a user replaces (see `forget_subject`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ForeignKey, Index, String, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from vle.db import Base, utcnow

# Actions written so far (a string column: later domains add their own). Each is
# shown in words by the audit log page: vle/admin/audit_words.py (a test checks).
ACTIONS = (
    "organisation.create",
    "organisation.update",
    "organisation.move",
    "organisation.sso",
    "organisation.sso_remove",
    "organisation.profile",
    "organisation.certificate",
    "user.create",
    "user.update",
    "user.deactivate",
    "user.reactivate",
    "user.erase",
    "user.sign_in_oidc",
    "user.export_data",
    "user.invite",
    "user.invitation_accept",
    "user.password_reset_request",
    "user.password_reset",
    "user.password_change",
    "token.create",
    "token.revoke",
    "users.import",
    "users.export",
    "enrolment.create",
    "enrolment.update",
    "enrolment.end",
    "assignment.create",
    "assignment.assign",
    "assignment.withdraw",
    "course.update",
    "report.export",
    "attempt.grade",
    "accommodation.set",
    "event.create",
    "event.update",
    "event.delete",
    "agreement.create",
    "agreement.update",
    "agreement.delete",
    "forum.create",
    "thread.pin",
    "thread.unpin",
    "thread.lock",
    "thread.unlock",
    "thread.hide",
    "thread.unhide",
    "thread.move",
    "post.hide",
    "post.unhide",
    "post.report",
    "post.report_resolve",
    "announcement.create",
    "announcement.update",
    "announcement.delete",
    "indicators.freeze",
    "course.joint_training",
)
TARGET_TYPES = (
    "user", "organisation", "enrolment", "course", "report", "event", "agreement",
    "forum", "forum_thread", "forum_post", "indicator_snapshot",
)  # fmt: skip


class HasId(Protocol):
    id: int


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_target", "target_type", "target_id"),
        Index("ix_audit_log_organisation_at", "organisation_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # None: the command line (or the system) did it.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None]
    target_label: Mapped[str] = mapped_column(String(300), default="")
    # The organisation the entry is about: scoped administrators see the entries
    # of their subtree. None: network-wide (a course, a whole-network report).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    address: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    # Strings, not imports: the audit log sits below accounts on the staircase.
    actor = relationship("User", foreign_keys=[actor_id], lazy="raise")
    organisation = relationship("Organisation", foreign_keys=[organisation_id], lazy="raise")


def audit(
    db_session: Session,
    actor: HasId | None,
    action: str,
    target_type: str,
    target_id: int | None,
    address: str | None,
    details: dict[str, Any] | None = None,
    *,
    organisation_id: int | None = None,
    label: str = "",
) -> AuditEntry:
    """Record that `actor` (None: the command line) did `action` to the target.

    `organisation_id` decides who may read the entry: administrators of that
    organisation's subtree (and network administrators); None means network
    administrators only. `details` must hold no personal data (names, emails):
    put the target's readable name in `label`, which erasure can scrub.
    The entry joins the caller's transaction (no commit here)."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=label[:300],
        organisation_id=organisation_id,
        address=(address or None) and address[:64],
        details=details or {},
    )
    db_session.add(entry)
    return entry


def forget_subject(db_session: Session, target_type: str, target_id: int, label: str) -> None:
    """Replace the readable label of every entry about one target (erasure)."""
    db_session.execute(
        update(AuditEntry)
        .where(AuditEntry.target_type == target_type, AuditEntry.target_id == target_id)
        .values(target_label=label)
        .execution_options(synchronize_session=False)
    )
