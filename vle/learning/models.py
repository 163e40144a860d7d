"""Enrolments, per-item progress and the history of course completions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vle.accounts.models import User
from vle.catalog.models import Course, Item
from vle.db import Base, utcnow


class EnrolmentStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class Enrolment(Base):
    """A learner in a course. `status`, `progress` and `completed_at` are stored,
    updated when progress is recorded, and never recomputed away."""

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        CheckConstraint(
            "status IN ('not_started', 'in_progress', 'completed')", name="status_known"
        ),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
        # Report filters: by course and period, by status.
        Index("ix_enrolments_course_enrolled", "course_id", "enrolled_at"),
        Index("ix_enrolments_course_completed", "course_id", "completed_at"),
        Index("ix_enrolments_status", "status"),
        # The whole network's report: newest enrolments first, and periods (migration 0004).
        Index("ix_enrolments_enrolled_at", "enrolled_at", "id"),
        Index("ix_enrolments_completed_at", "completed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=EnrolmentStatus.NOT_STARTED)
    progress: Mapped[int] = mapped_column(default=0)
    method: Mapped[str] = mapped_column(String(16), default="self")
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()


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


class Completion(Base):
    """One completion of a course, kept forever (recurring training adds more)."""

    __tablename__ = "completions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
