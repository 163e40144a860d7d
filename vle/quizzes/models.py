"""The question bank of a quiz item, and the learners' attempts at it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vle.accounts.models import Organisation, User
from vle.catalog.models import Course, CourseStatus, course_trainers
from vle.db import Base, utcnow


class Question(Base):
    """One question of a quiz, as read from GIFT. `spec` is the parsed question
    (vle.quizzes.gift.Question.to_dict()); `text_html` its sanitised rendering."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("item_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    category: Mapped[str] = mapped_column(String(300), default="")
    type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300), default="")
    text_html: Mapped[str] = mapped_column(Text, default="")
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AttemptState(StrEnum):
    OPEN = "open"
    AWAITING_GRADING = "awaiting_grading"  # submitted; an essay waits for a trainer
    GRADED = "graded"


OPEN_ONLY = text("state = 'open'")


class Attempt(Base):
    """One learner's attempt at a quiz item.

    The questions it holds, their order and each question's choice order are
    fixed when it starts (`question_ids`, `choice_order`), so a resumed attempt
    shows the same quiz. `deadline` is the server's time limit (None: untimed).
    `score` is a percentage, set when the attempt is graded."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'awaiting_grading', 'graded')", name="state_known"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_percent"),
        UniqueConstraint("user_id", "item_id", "number"),
        # At most one open attempt per learner and quiz, whatever races.
        Index(
            "uq_quiz_attempts_one_open",
            "user_id",
            "item_id",
            unique=True,
            sqlite_where=OPEN_ONLY,
            postgresql_where=OPEN_ONLY,
        ),
        # Trainer results per quiz and the grading queue.
        Index("ix_quiz_attempts_item_state", "item_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    number: Mapped[int]
    state: Mapped[str] = mapped_column(String(20), default=AttemptState.OPEN)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    graded_at: Mapped[datetime | None]
    score: Mapped[float | None]
    passed: Mapped[bool | None]
    question_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # {question_id (str): [choice ids in the order shown]}
    choice_order: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A trainer reset the attempt (migration 0011): it stays in the history but
    # no longer counts (neither towards the attempts allowed nor the score).
    reset_at: Mapped[datetime | None]
    reset_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # Where the learner was (resuming returns there) and the questions they
    # flagged to come back to (question ids).
    last_page: Mapped[int] = mapped_column(default=1, server_default="1")
    flagged: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")

    user: Mapped[User] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_open(self) -> bool:
        return self.state == AttemptState.OPEN

    @property
    def finished(self) -> bool:
        return self.state != AttemptState.OPEN


class Answer(Base):
    """A learner's answer to one question of an attempt, saved as it is given.

    `value` is the normalised answer (None: left unanswered, recorded when the
    attempt is graded). `fraction` is the credit 0..1, None until graded (an
    essay waits for a trainer, who may leave a `comment`)."""

    __tablename__ = "quiz_answers"
    __table_args__ = (
        UniqueConstraint("attempt_id", "question_id"),
        CheckConstraint(
            "fraction IS NULL OR (fraction >= 0 AND fraction <= 1)", name="fraction_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[Any | None] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    fraction: Mapped[float | None]
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    graded_at: Mapped[datetime | None]
    comment: Mapped[str] = mapped_column(Text, default="")

    attempt: Mapped[Attempt] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()


class Accommodation(Base):
    """Per-learner adjustments to one quiz: extra time and extra attempts."""

    __tablename__ = "quiz_accommodations"
    __table_args__ = (
        UniqueConstraint("item_id", "user_id"),
        CheckConstraint("extra_minutes >= 0", name="extra_minutes_positive"),
        CheckConstraint("extra_attempts >= 0", name="extra_attempts_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    extra_minutes: Mapped[int] = mapped_column(default=0)
    extra_attempts: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()


class AnswerScope:
    """Whose quiz answers in a course a user may see, and whether they may mark
    them: the one answer to PRODUCT.md §1, "a course has one or more trainers,
    and only they (and admins whose scope holds the course's learners) see its
    learners' answers". Every path asks it: the results page, a learner's
    attempt (page and API), the grading queue.

    - the course's trainers and network administrators: every learner's;
    - an administrator scoped to an organisation: the learners whose
      organisation is inside that subtree, in any course they can see (not
      drafts, which do not exist for them);
    - anyone else: no one's. A learner reads their own attempts as their
      owner (services.attempt_for), not through this.

    Seeing is not grading. Marking an essay is the course's teaching: only its
    editors (its trainers, and network administrators, who may edit any
    course) mark, as in other LMSs where graders are the course's teachers.
    A scoped administrator follows the answers and sees what waits, but a mark
    from someone outside the course would be a mark the trainers did not give."""

    __slots__ = ("_admin", "everyone", "grades")

    def __init__(self, everyone: bool = False, admin: User | None = None, grades: bool = False):
        self.everyone = everyone
        self._admin = admin  # a scoped administrator: their subtree's learners
        self.grades = grades

    @classmethod
    def of(cls, user: Any, course: Course) -> AnswerScope:
        if not getattr(user, "is_authenticated", False):
            return cls()
        if course.can_edit(user):
            return cls(everyone=True, grades=True)
        if user.is_admin and course.can_view(user):  # a draft is its editors' alone
            return cls(admin=user)
        return cls()

    @property
    def nobody(self) -> bool:
        return not self.everyone and self._admin is None

    def holds(self, learner: User) -> bool:
        """Are `learner`'s answers in this scope?"""
        if self.everyone:
            return True
        return self._admin is not None and self._admin.administers(learner.organisation)

    def holds_sql(self, user_id: Any) -> ColumnElement[bool]:
        """holds() in SQL, over a column of learner ids (Attempt.user_id)."""
        if self.everyone:
            return true()
        if self._admin is None:
            return false()
        return _in_subtree(user_id, self._admin)

    @staticmethod
    def across_courses(user: Any) -> ColumnElement[bool]:
        """holds() for lists of attempts that span courses (the grading queue):
        the rule of of() for every course, in SQL over Attempt and Course."""
        if not getattr(user, "is_authenticated", False):
            return false()
        if user.is_network_admin:
            return true()
        trained = Course.id.in_(
            select(course_trainers.c.course_id).where(course_trainers.c.user_id == user.id)
        )
        if user.is_admin:
            visible = Course.status != CourseStatus.DRAFT
            return or_(trained, and_(visible, _in_subtree(Attempt.user_id, user)))
        return trained


def _in_subtree(user_id: Any, admin: User) -> ColumnElement[bool]:
    """Learners whose organisation `admin` administers (Organisation.contains in SQL)."""
    if admin.network:
        return true()
    return user_id.in_(
        select(User.id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(Organisation.path.startswith(admin.organisation.path))
    )
