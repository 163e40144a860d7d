"""The network's half of vle: forums, announcements, events and agreements.

The directory's profile of an organisation lives on `accounts.Organisation`
(country, region, contact, descriptions per language, logo). Who cooperates
with whom is read from these tables and the courses' learners (monitoring).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vle.accounts.models import Organisation, User
from vle.catalog.models import Course
from vle.db import Base, utcnow


class ForumKind(StrEnum):
    STANDARD = "standard"
    # Questions and answers: a learner sees the others' answers once they posted their own.
    QA = "qa"


class SubscriptionPolicy(StrEnum):
    """A forum's rule for its readers' subscriptions (as Moodle's forums have)."""

    OPTIONAL = "optional"  # each reader subscribes if they wish
    AUTOMATIC = "automatic"  # everyone is subscribed and may unsubscribe
    FORCED = "forced"  # everyone is subscribed and may not unsubscribe
    OFF = "off"  # no subscriptions


class Delivery(StrEnum):
    """How a subscriber gets a forum's or a thread's posts."""

    EACH = "each"  # one mail a post
    DIGEST = "digest"  # one mail a day
    OFF = "off"  # unsubscribed (kept, so an automatic forum does not subscribe again)


class Forum(Base):
    """A course's forum (its learners and staff; one per course) or, with no
    course, a network-wide forum open to every signed-in user."""

    __tablename__ = "forums"
    __table_args__ = (
        CheckConstraint("kind IN ('standard', 'qa')", name="kind_known"),
        CheckConstraint(
            "subscription IN ('optional', 'automatic', 'forced', 'off')",
            name="subscription_known",
        ),
        CheckConstraint(
            "lock_after_days IS NULL OR lock_after_days > 0", name="lock_after_positive"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), unique=True
    )
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default=ForumKind.STANDARD)
    subscription: Mapped[str] = mapped_column(String(16), default=SubscriptionPolicy.OPTIONAL)
    # A thread with no post for this many days is locked (None: never).
    lock_after_days: Mapped[int | None]
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course | None] = relationship()


class Thread(Base):
    __tablename__ = "forum_threads"
    __table_args__ = (
        # A forum's page: its shown threads, pinned first, then the latest
        # activity — counted and paged (a deep page too) in the index alone.
        Index("ix_forum_threads_listing", "forum_id", "hidden", "pinned", "last_post_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(default=utcnow)
    post_count: Mapped[int] = mapped_column(default=0)
    pinned: Mapped[bool] = mapped_column(default=False, server_default=false())
    locked: Mapped[bool] = mapped_column(default=False, server_default=false())
    hidden: Mapped[bool] = mapped_column(default=False, server_default=false())

    forum: Mapped[Forum] = relationship()
    author: Mapped[User | None] = relationship()


class Post(Base):
    """What someone wrote: `source` as typed, `body_html` sanitised when written
    (vle/sanitize.py). A quote is a reference (`quote_id`), shown from the
    quoted post's own sanitised HTML, so sanitising never cuts it in half.
    Notifications leave at `notify_at` (30 minutes on: the author's edit window)."""

    __tablename__ = "forum_posts"
    __table_args__ = (
        # A thread's page, its unread counts, a search result's page: the
        # thread's posts in order, with what they are filtered on (migration 0019).
        Index(
            "ix_forum_posts_thread_order", "thread_id", "created_at", "id", "hidden", "author_id"
        ),
        Index("ix_forum_posts_notify", "notified", "notify_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("forum_threads.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("forum_posts.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    notify_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified: Mapped[bool] = mapped_column(default=False, server_default=false())
    hidden: Mapped[bool] = mapped_column(default=False, server_default=false())

    thread: Mapped[Thread] = relationship()
    author: Mapped[User | None] = relationship()
    quote: Mapped[Post | None] = relationship(remote_side=[id])
    attachments: Mapped[list[PostAttachment]] = relationship(
        back_populates="post", cascade="all, delete-orphan", passive_deletes=True
    )


class PostAttachment(Base):
    """A file attached to a post, kept by vle/uploads.py under the authoring rules."""

    __tablename__ = "forum_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("forum_posts.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]

    post: Mapped[Post] = relationship(back_populates="attachments")


class ThreadRead(Base):
    """Up to when a person has read a thread: posts after `read_at` are unread."""

    __tablename__ = "forum_thread_reads"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("forum_threads.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class Subscription(Base):
    """A person's choice for one forum or one thread (exactly one of the two)."""

    __tablename__ = "forum_subscriptions"
    __table_args__ = (
        UniqueConstraint("user_id", "forum_id", "thread_id"),
        CheckConstraint("(forum_id IS NULL) <> (thread_id IS NULL)", name="forum_or_thread"),
        CheckConstraint("delivery IN ('each', 'digest', 'off')", name="delivery_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    forum_id: Mapped[int | None] = mapped_column(
        ForeignKey("forums.id", ondelete="CASCADE"), index=True
    )
    thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_threads.id", ondelete="CASCADE"), index=True
    )
    delivery: Mapped[str] = mapped_column(String(16), default=Delivery.EACH)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostReport(Base):
    """A post a reader reported to the moderators; one report per reader and post."""

    __tablename__ = "forum_post_reports"
    __table_args__ = (
        UniqueConstraint("post_id", "reporter_id"),
        Index("ix_forum_post_reports_open", "resolved_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # What the moderator did: "hidden" or "kept".
    outcome: Mapped[str] = mapped_column(String(16), default="")

    post: Mapped[Post] = relationship()


class Announcement(Base):
    """For the whole network (no organisation, no course), an organisation's
    subtree, or one course's learners; on their home page from `starts_at`
    until `ends_at`; mailed once when `send_mail`."""

    __tablename__ = "announcements"
    __table_args__ = (
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("organisation_id IS NULL OR course_id IS NULL", name="one_audience"),
        Index("ix_announcements_period", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime | None]
    send_mail: Mapped[bool] = mapped_column(default=False, server_default=false())
    mailed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    course: Mapped[Course | None] = relationship()


event_organisers = Table(
    "event_organisers",
    Base.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "organisation_id",
        ForeignKey("organisations.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

agreement_parties = Table(
    "agreement_parties",
    Base.metadata,
    Column("agreement_id", ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "organisation_id",
        ForeignKey("organisations.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Event(Base):
    """A joint event: its organisers cooperate through it. `joint_action`: a
    network administrator counts it as a joint action for the indicators."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date] = mapped_column(index=True)
    ends_on: Mapped[date | None]
    place: Mapped[str] = mapped_column(String(300), default="")
    online: Mapped[bool] = mapped_column(default=False, server_default=false())
    # ISO 3166-1 alpha-2 codes of the countries taking part.
    countries: Mapped[list[Any]] = mapped_column(default=list)
    joint_action: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisers: Mapped[list[Organisation]] = relationship(secondary=event_organisers)
    attendances: Mapped[list[EventAttendance]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True
    )


class EventAttendance(Base):
    """Someone who attended an event: a user of vle, or a named guest of an organisation."""

    __tablename__ = "event_attendances"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )

    event: Mapped[Event] = relationship(back_populates="attendances")
    user: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class Agreement(Base):
    """A signed cooperation agreement between two or more organisations."""

    __tablename__ = "agreements"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= signed_on", name="ends_after_signing"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    signed_on: Mapped[date] = mapped_column(index=True)
    ends_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parties: Mapped[list[Organisation]] = relationship(secondary=agreement_parties)


class SearchDocument(Base):
    """One searchable thing (a post, a course, an organisation) as the search
    sees it: its terms already tokenised, lemmatised and folded by
    vle.community.search, and what deciding who may see it needs. The database
    only matches terms: an FTS5 table `search_fts` on SQLite, a GIN index on
    `to_tsvector('simple', terms)` on PostgreSQL (migration 0017)."""

    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id"),
        CheckConstraint("kind IN ('post', 'course', 'organisation')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[int]
    # The course's slug, the organisation's code; "" for a post.
    key: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    title: Mapped[str] = mapped_column(String(300))
    snippet: Mapped[str] = mapped_column(Text, default="")
    title_terms: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[str] = mapped_column(Text, default="")
    # A course: itself; a post: its forum's course (None in a network forum).
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    forum_id: Mapped[int | None] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_threads.id", ondelete="CASCADE")
    )
    author_id: Mapped[int | None]
    # A reply in a Q&A forum: seen by a learner only after posting in the thread.
    qa_reply: Mapped[bool] = mapped_column(default=False, server_default=false())
    hidden: Mapped[bool] = mapped_column(default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
