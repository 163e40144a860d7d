"""The outbox (one row per mail, written with the change that causes it) and
the opt-outs (an address that wants no more notifications of one kind)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vle.db import Base, utcnow


class OutboxMail(Base):
    """A mail to send, rendered when it was queued (in the recipient's
    language). `key` says which event it is for ("password-reset:42:…"): a
    second mail with the same key is never written, so a retried request or
    task never sends twice. `next_attempt_at` is when the worker is to try
    (again); None once the mail is sent or given up."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # A notification carries the one-click unsubscribe headers (RFC 8058).
    notification: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)


class MailOptOut(Base):
    """No more notification mails of `kind` to `address` (lower-case), as asked
    through the unsubscribe link of one of them."""

    __tablename__ = "mail_opt_outs"
    __table_args__ = (UniqueConstraint("address", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailDigestChoice(Base):
    """Notifications of `kind` to `address` (lower-case) come in one mail a
    day (the daily digest) rather than one mail each."""

    __tablename__ = "mail_digest_choices"
    __table_args__ = (UniqueConstraint("address", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """A notification shown on the person's home page (/my), newest first.
    `key` names the event (one row per event and person); `title` is the
    mail's subject in the person's language. `digest_pending`: its mail waits
    for the daily digest (to `to_address`, in `locale`)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(1000))
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8))
    digest_pending: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
