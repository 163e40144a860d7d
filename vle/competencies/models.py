"""Competency frameworks and what learners hold of them.

A framework has a scale and a tree of competencies; competencies are linked to
courses, lessons and quizzes with an outcome. Evidence is kept forever; the
rating of a learner in a competency (`UserCompetency`) follows from it and is
stored only so that pages and reports read it without recomputing. Plans are
made from templates; badges are public proof of a proficient competency or a
completed course.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vle.accounts.models import Organisation, User
from vle.catalog.models import Course, Item
from vle.db import Base, utcnow


class Outcome(StrEnum):
    """What a link (or a parent's rule) does when it fires, as Moodle's
    competency rule outcomes: log evidence, ask a trainer to review, or rate
    the competency with the scale's automatic value."""

    EVIDENCE = "evidence"
    RECOMMEND = "recommend"
    COMPLETE = "complete"


class EvidenceKind(StrEnum):
    COURSE_COMPLETED = "course_completed"
    ITEM_COMPLETED = "item_completed"
    QUIZ_PASSED = "quiz_passed"
    RATING = "rating"  # a trainer's rating, with a note
    IMPORT = "import"  # a rating brought in by a framework import
    SELF_ASSESSMENT = "self_assessment"  # kept beside, never counts as a rating
    RULE = "rule"  # a parent rated by its rule from its children


class Framework(Base):
    """A competency framework (Moodle's "competency framework"): its scale
    (ordered values, lowest first), which values count as proficient and which
    one an automatic rating gives."""

    __tablename__ = "competency_frameworks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    scale: Mapped[list[Any]] = mapped_column(default=list)
    proficient: Mapped[list[Any]] = mapped_column(default=list)
    default_value: Mapped[str] = mapped_column(String(100))
    # Moodle's taxonomy word per level of the tree (competency, domain, skill…).
    taxonomies: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    competencies: Mapped[list[Competency]] = relationship(
        back_populates="framework", order_by="Competency.position"
    )

    def is_proficient(self, value: str | None) -> bool:
        return value is not None and value in self.proficient


class Competency(Base):
    """One competency of a framework's tree. `code` (Moodle's ID number) is
    unique across all frameworks, so links name a competency by code alone.
    `rule`: None, "all" (every child proficient) or
    {"points": N, "children": {CODE: {"points": P, "required": bool}}};
    `rule_outcome`: what the rule does when met."""

    __tablename__ = "competencies"
    __table_args__ = (
        CheckConstraint(
            "rule_outcome IN ('evidence', 'recommend', 'complete')", name="rule_outcome_known"
        ),
        Index("ix_competencies_framework_position", "framework_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(
        ForeignKey("competency_frameworks.id", ondelete="CASCADE")
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("competencies.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    # Depth-first order within the framework (the file's order).
    position: Mapped[int] = mapped_column(default=0)
    rule: Mapped[Any | None] = mapped_column(JSON)
    rule_outcome: Mapped[str] = mapped_column(String(16), default=Outcome.COMPLETE)

    framework: Mapped[Framework] = relationship(back_populates="competencies")


class RelatedCompetency(Base):
    """Two related competencies (Moodle's "related competencies"), stored once
    with the smaller id first."""

    __tablename__ = "related_competencies"
    __table_args__ = (
        UniqueConstraint("competency_id", "related_id"),
        CheckConstraint("competency_id < related_id", name="ordered_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id", ondelete="CASCADE"))
    related_id: Mapped[int] = mapped_column(
        ForeignKey("competencies.id", ondelete="CASCADE"), index=True
    )


class CompetencyLink(Base):
    """A course (item_id None), a lesson or a quiz linked to a competency with
    an outcome, as declared in course.yaml, a lesson's front matter or a
    quiz's settings. Fires on course completion, lesson completion, quiz pass."""

    __tablename__ = "competency_links"
    __table_args__ = (
        UniqueConstraint("course_id", "item_id", "competency_id"),
        CheckConstraint("outcome IN ('evidence', 'recommend', 'complete')", name="outcome_known"),
        Index("ix_competency_links_competency", "competency_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(16), default=Outcome.COMPLETE)

    course: Mapped[Course] = relationship()
    item: Mapped[Item | None] = relationship()
    competency: Mapped[Competency] = relationship()


class Evidence(Base):
    """One piece of evidence, kept forever (even when the course, item or
    link it came from is gone: its words stay in `title`). `value`: the scale
    value it rates the competency with (None: logged only). `key` makes
    recording idempotent: the same event twice gives one row."""

    __tablename__ = "competency_evidence"
    __table_args__ = (
        UniqueConstraint("user_id", "competency_id", "key"),
        CheckConstraint(
            "kind IN ('course_completed', 'item_completed', 'quiz_passed', 'rating', 'import',"
            " 'self_assessment', 'rule')",
            name="kind_known",
        ),
        Index("ix_competency_evidence_user_competency", "user_id", "competency_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    value: Mapped[str | None] = mapped_column(String(100))
    # What the evidence asks of a trainer: "recommend" puts the competency in
    # the review queue.
    outcome: Mapped[str | None] = mapped_column(String(16))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    # What it rests on, in words and as a link (a course, a lesson, a quiz).
    title: Mapped[str] = mapped_column(String(300), default="")
    url: Mapped[str | None] = mapped_column(String(500))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    by: Mapped[User | None] = relationship(foreign_keys=[by_id])


class UserCompetency(Base):
    """A learner's standing in one competency: the rating that follows from
    their evidence (a trainer's latest rating overrides the automatic one),
    their own self-assessment beside it (never counted), and whether they
    asked for — or a `recommend` outcome asks for — a trainer's review."""

    __tablename__ = "user_competencies"
    __table_args__ = (
        UniqueConstraint("user_id", "competency_id"),
        Index("ix_user_competencies_competency", "competency_id", "user_id"),
        Index("ix_user_competencies_review", "review_requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id", ondelete="CASCADE"))
    rating: Mapped[str | None] = mapped_column(String(100))
    proficient: Mapped[bool] = mapped_column(default=False)
    rated_at: Mapped[datetime | None]
    # "trainer" when a trainer's rating decides it, "auto" otherwise.
    rated_by_kind: Mapped[str | None] = mapped_column(String(16))
    evidence_count: Mapped[int] = mapped_column(default=0)
    self_rating: Mapped[str | None] = mapped_column(String(100))
    self_rated_at: Mapped[datetime | None]
    self_note: Mapped[str | None] = mapped_column(Text)
    # Waiting for a trainer's review since then (a learner's request or a
    # `recommend` outcome); cleared when a trainer rates.
    review_requested_at: Mapped[datetime | None]
    review_reason: Mapped[str | None] = mapped_column(String(16))

    user: Mapped[User] = relationship()
    competency: Mapped[Competency] = relationship()


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    COMPLETE = "complete"


class PlanTemplate(Base):
    """A learning plan template ("municipal social worker"): a set of
    competencies with an optional due date, owned by an organisation (None:
    the whole network)."""

    __tablename__ = "plan_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    due: Mapped[date | None]
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()


class PlanTemplateCompetency(Base):
    __tablename__ = "plan_template_competencies"
    __table_args__ = (UniqueConstraint("template_id", "competency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("plan_templates.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("competencies.id", ondelete="CASCADE"), index=True
    )


class PlanAssignment(Base):
    """A template assigned to one user, or to everyone of an organisation
    subtree (optionally of one role), including people who join it later."""

    __tablename__ = "plan_assignments"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (organisation_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("plan_templates.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    role: Mapped[str | None] = mapped_column(String(20))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)


class Plan(Base):
    """A learner's learning plan, made from a template: draft, active or
    complete. A complete plan's ratings are frozen in `PlanRating`."""

    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("user_id", "template_id"),
        CheckConstraint("status IN ('draft', 'active', 'complete')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    template_id: Mapped[int] = mapped_column(
        ForeignKey("plan_templates.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=PlanStatus.ACTIVE)
    due: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    template: Mapped[PlanTemplate] = relationship()


class PlanRating(Base):
    """A complete plan's ratings as they stood when it completed."""

    __tablename__ = "plan_ratings"
    __table_args__ = (UniqueConstraint("plan_id", "competency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id", ondelete="CASCADE"))
    rating: Mapped[str | None] = mapped_column(String(100))
    proficient: Mapped[bool] = mapped_column(default=False)


class Badge(Base):
    """Public proof: a proficient competency (`competency_id`) or a completed
    course (`completion_id`). `uid` is the unguessable part of its URLs; the
    recipient is published as a salted hash of the e-mail. Revoked (HTTP 410)
    when the user is erased or the rating falls."""

    __tablename__ = "badges"
    __table_args__ = (
        # At most one subject: it is set NULL when the competency or the course
        # is deleted, and the badge stays, with its words fixed when issued.
        CheckConstraint("competency_id IS NULL OR completion_id IS NULL", name="one_subject"),
        UniqueConstraint("user_id", "competency_id"),
        UniqueConstraint("completion_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    competency_id: Mapped[int | None] = mapped_column(
        ForeignKey("competencies.id", ondelete="SET NULL")
    )
    completion_id: Mapped[int | None] = mapped_column(
        ForeignKey("completions.id", ondelete="SET NULL")
    )
    # What the badge says, fixed when issued (the subject may change or go).
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    # What earned it (the BadgeClass's criteria), in words fixed when issued.
    criteria: Mapped[str] = mapped_column(Text, default="")
    recipient_salt: Mapped[str] = mapped_column(String(64))
    recipient_hash: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(String(300))
