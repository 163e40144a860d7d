"""Enrolments, per-item progress and the history of course completions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, and_, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from vle.accounts.models import Organisation, User
from vle.catalog.models import Course, Item
from vle.db import Base, utcnow


class EnrolmentStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    # Recurring training: the last completion's validity ran out; the learner
    # is enrolled for a new round that has not started yet.
    EXPIRED = "expired"


class Enrolment(Base):
    """A learner in a course. `status`, `progress` and `completed_at` are stored,
    updated when progress is recorded, and never recomputed away."""

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        CheckConstraint(
            "status IN ('not_started', 'in_progress', 'completed', 'expired')",
            name="status_known",
        ),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
        # Report filters: by course and period, by status.
        Index("ix_enrolments_course_enrolled", "course_id", "enrolled_at"),
        Index("ix_enrolments_course_completed", "course_id", "completed_at"),
        Index("ix_enrolments_status", "status"),
        # The whole network's report: newest enrolments first, and periods (migration 0004).
        Index("ix_enrolments_enrolled_at", "enrolled_at", "id"),
        Index("ix_enrolments_completed_at", "completed_at", "id"),
        # The overdue filter: assigned enrolments by due date (migration 0009).
        Index("ix_enrolments_due", "due", "id"),
        # Recurring training: the daily reminders and expiries (migration 0010).
        Index("ix_enrolments_expires_at", "expires_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=EnrolmentStatus.NOT_STARTED)
    progress: Mapped[int] = mapped_column(default=0)
    method: Mapped[str] = mapped_column(String(16), default="self")
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    # The earliest due date of the assignments that hold the learner to the
    # course (None: not assigned, or no due date), kept on the row so that the
    # report reads and filters it without a join (learning.assignments).
    due: Mapped[date | None]
    # When the learner was unenrolled: the row, its progress and its history
    # stay (reports keep counting what happened); enrolling again reopens it.
    ended_at: Mapped[datetime | None]
    # Recurring training: when the latest completion's validity ends (None:
    # the course has no validity period, or not completed yet). Kept after the
    # completion expired (status `expired`) until the next completion.
    expires_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()

    @property
    def is_ended(self) -> bool:
        return self.ended_at is not None

    def is_overdue(self, today: date) -> bool:
        return is_overdue(self.due, self.status, self.ended_at, today)

    def is_expired(self, now: datetime | None = None) -> bool:
        return is_expired(self.status, self.expires_at, now or utcnow())

    def shown_status(self, now: datetime | None = None) -> str:
        """The status pages, the API and reports show: `expired` as soon as
        the completion's validity has ended, before the daily task ran."""
        return EnrolmentStatus.EXPIRED if self.is_expired(now) else self.status


def is_expired(status: str, expires_at: datetime | None, now: datetime) -> bool:
    """Recurring training, the one rule: expired once its validity has ended,
    even before the daily task has started the enrolment over."""
    if status == EnrolmentStatus.EXPIRED:
        return True
    return status == EnrolmentStatus.COMPLETED and expires_at is not None and expires_at <= now


def expired_condition(now: datetime) -> ColumnElement[bool]:
    """`is_expired` as a WHERE condition on enrolments."""
    return or_(
        Enrolment.status == EnrolmentStatus.EXPIRED,
        and_(Enrolment.status == EnrolmentStatus.COMPLETED, Enrolment.expires_at <= now),
    )


def is_overdue(due: date | None, status: str, ended_at: datetime | None, today: date) -> bool:
    """The one rule, for a row read as plain columns: past its due date, not
    completed, not ended (`overdue_condition` says the same in SQL)."""
    return (
        due is not None and due < today and status != EnrolmentStatus.COMPLETED and ended_at is None
    )


def overdue_condition(today: date) -> ColumnElement[bool]:
    """`is_overdue` as a WHERE condition on enrolments (served by ix_enrolments_due)."""
    return and_(
        Enrolment.due < today,
        Enrolment.status != EnrolmentStatus.COMPLETED,
        Enrolment.ended_at.is_(None),
    )


class ItemProgress(Base):
    """What a learner has done with one item."""

    __tablename__ = "item_progress"
    __table_args__ = (UniqueConstraint("user_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    viewed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # Quizzes: whether the counting attempt passed (None until one is graded).
    passed: Mapped[bool | None]

    item: Mapped[Item] = relationship()


class ItemProgressRound(Base):
    """A learner's progress on an item in an earlier round of recurring
    training, moved here from `item_progress` when the round's completion
    expired (the live row is then deleted so the new round starts empty)."""

    __tablename__ = "item_progress_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    completion_id: Mapped[int] = mapped_column(
        ForeignKey("completions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    viewed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    passed: Mapped[bool | None]


class Completion(Base):
    """One completion of a course, kept forever (recurring training adds more)."""

    __tablename__ = "completions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    # How it was reached: "auto" (the course's items done) or "manual" (a trainer
    # recorded it by hand, e.g. face-to-face training, with `reason`; migration 0011).
    method: Mapped[str] = mapped_column(String(16), default="auto", server_default="auto")
    reason: Mapped[str] = mapped_column(String(500), default="", server_default="")


class AssignmentStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


class Assignment(Base):
    """Mandatory training: a course assigned by an administrator or a course's
    trainer to chosen people (`organisation_id` None) or to everyone of an
    organisation subtree, of one role or all (`role` None), newcomers included
    while it is not withdrawn. `status` and `assigned` show the progress of the
    background task that enrols a large subtree; `refused` lists the e-mails
    that could not be assigned, with the reason."""

    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done')", name="status_known"),
        CheckConstraint(
            "role IS NULL OR role IN ('learner', 'trainer', 'admin')", name="role_known"
        ),
        # The newcomers' task: the subtree assignments in force.
        Index("ix_assignments_organisation_withdrawn", "organisation_id", "withdrawn_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    role: Mapped[str | None] = mapped_column(String(16))
    due: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=AssignmentStatus.QUEUED)
    assigned: Mapped[int] = mapped_column(default=0)
    refused: Mapped[list[Any]] = mapped_column(default=list)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    course: Mapped[Course] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class AssignmentMember(Base):
    """A person an assignment holds to its course, since `assigned_at`; `ended_at`
    once the assignment was withdrawn or the person unenrolled (the row stays)."""

    __tablename__ = "assignment_members"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    # When the "course assigned" mail was queued (None: not yet; the task that
    # fills an assignment tells its people after enrolling them all).
    told_at: Mapped[datetime | None] = mapped_column(index=True)


class RemovedItemProgress(Base):
    """What a learner had done on an item that is no longer in its course (a
    trainer deleted it, or a re-import dropped it): kept as history, with the
    item's name as it was, while course completions already recorded stay."""

    __tablename__ = "removed_item_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    item_slug: Mapped[str] = mapped_column(String(100))
    item_title: Mapped[str] = mapped_column(String(300))
    item_kind: Mapped[str] = mapped_column(String(16))
    viewed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    passed: Mapped[bool | None]
    removed_at: Mapped[datetime] = mapped_column(default=utcnow)
