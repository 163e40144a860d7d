"""The trainer's side of competencies: the review queue (competencies waiting
for a trainer's rating) and, per course, how many of its learners are
proficient in each linked competency.

Whose learners: a trainer's are the learners enrolled in the courses they
train; an administrator's, the people of their organisation subtree (every
one for a network administrator) — the same rule as services.can_rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, false, func, select, true
from sqlalchemy.orm import Session

from vle.accounts.models import Organisation, Role, User
from vle.catalog.models import Course, course_trainers
from vle.competencies.models import Competency, CompetencyLink, Framework, UserCompetency
from vle.errors import Forbidden
from vle.learning.models import Enrolment
from vle.quizzes import services as quizzes
from vle.quizzes.models import AnswerScope

QUEUE_LIMIT = 500


def learners_of(user: Any, user_id: Any) -> ColumnElement[bool]:
    """SQL: is the person whose id is the column `user_id` one `user` may rate?"""
    if not getattr(user, "is_authenticated", False):
        return false()
    if user.role == Role.ADMIN:
        if user.network:
            return user_id != user.id
        return user_id.in_(
            select(User.id)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(Organisation.path.startswith(user.organisation.path), User.id != user.id)
        )
    if user.role == Role.TRAINER:
        return user_id.in_(
            select(Enrolment.user_id)
            .join(course_trainers, course_trainers.c.course_id == Enrolment.course_id)
            .where(course_trainers.c.user_id == user.id, Enrolment.user_id != user.id)
        )
    return false()


@dataclass(frozen=True)
class ReviewLine:
    user_id: int
    name: str
    email: str
    code: str
    title: str
    framework: str
    rating: str | None
    since: datetime
    reason: str | None  # "request" (the learner asked) or "recommend" (a course or quiz asks)


def review_queue(db_session: Session, user: Any) -> list[ReviewLine]:
    """Competencies waiting for review of the learners `user` may rate,
    oldest first (at most QUEUE_LIMIT): one query."""
    if not user.is_staff:
        raise Forbidden(_l("Only trainers and administrators review competencies."))
    rows = db_session.execute(
        select(
            UserCompetency.user_id,
            User.name,
            User.email,
            Competency.code,
            Competency.title,
            Framework.title.label("framework"),
            UserCompetency.rating,
            UserCompetency.review_requested_at,
            UserCompetency.review_reason,
        )
        .join(User, User.id == UserCompetency.user_id)
        .join(Competency, Competency.id == UserCompetency.competency_id)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(
            UserCompetency.review_requested_at.is_not(None),
            User.erased_at.is_(None),
            learners_of(user, UserCompetency.user_id),
        )
        .order_by(UserCompetency.review_requested_at, UserCompetency.id)
        .limit(QUEUE_LIMIT)
    ).all()
    return [
        ReviewLine(r.user_id, r.name, r.email, r.code, r.title, r.framework, r.rating,
                   r.review_requested_at, r.review_reason)
        for r in rows
    ]  # fmt: skip


def reviews_waiting(db_session: Session, user: Any) -> int:
    """How many competencies wait for `user`'s review (the navigation's count)."""
    if not getattr(user, "is_authenticated", False) or not user.is_staff:
        return 0
    return int(
        db_session.scalar(
            select(func.count())
            .select_from(UserCompetency)
            .join(User, User.id == UserCompetency.user_id)
            .where(
                UserCompetency.review_requested_at.is_not(None),
                User.erased_at.is_(None),
                learners_of(user, UserCompetency.user_id),
            )
        )
        or 0
    )


@dataclass
class CourseCompetencyLine:
    code: str
    title: str
    framework: str
    outcome: str
    proficient: int
    learners: int
    # What links it: True for the course itself, and the titles of its lessons or quizzes.
    by_course: bool = False
    items: list[str] = field(default_factory=list)


def course_scope(db_session: Session, user: Any, course: Course) -> AnswerScope:
    """Whose figures `user` sees in a course: the staff's one rule
    (quizzes.services.staff_scope); Forbidden for anyone else."""
    return quizzes.staff_scope(db_session, user, course)


def course_competencies(
    db_session: Session, course: Course, scope: AnswerScope
) -> list[CourseCompetencyLine]:
    """For each competency linked to `course` (by the course, a lesson or a
    quiz): how many of its learners in `scope` are proficient, out of how
    many. Three queries: the links, the learners, the proficient counts (one
    grouped query)."""
    links = db_session.execute(
        select(
            CompetencyLink.competency_id,
            CompetencyLink.item_id,
            CompetencyLink.outcome,
            Competency.code,
            Competency.title,
            Framework.title.label("framework"),
        )
        .join(Competency, Competency.id == CompetencyLink.competency_id)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(CompetencyLink.course_id == course.id)
        .order_by(Framework.title, Competency.position, Competency.id, CompetencyLink.id)
    ).all()
    if not links:
        return []
    learners = int(
        db_session.scalar(
            select(func.count())
            .select_from(Enrolment)
            .where(Enrolment.course_id == course.id, scope.holds_sql(Enrolment.user_id))
        )
        or 0
    )
    ids = list(dict.fromkeys(link.competency_id for link in links))
    proficient = dict(
        db_session.execute(
            select(UserCompetency.competency_id, func.count())
            .join(
                Enrolment,
                (Enrolment.user_id == UserCompetency.user_id) & (Enrolment.course_id == course.id),
            )
            .where(
                UserCompetency.competency_id.in_(ids),
                UserCompetency.proficient.is_(True),
                scope.holds_sql(Enrolment.user_id) if not scope.everyone else true(),
            )
            .group_by(UserCompetency.competency_id)
        ).all()
    )
    titles = {i.id: i.title for m in course.modules for i in m.items}
    lines: dict[int, CourseCompetencyLine] = {}
    for link in links:
        line = lines.get(link.competency_id)
        if line is None:
            line = lines[link.competency_id] = CourseCompetencyLine(
                link.code, link.title, link.framework, link.outcome,
                int(proficient.get(link.competency_id, 0)), learners,
            )  # fmt: skip
        if link.item_id is None:
            line.by_course = True
            line.outcome = link.outcome
        elif link.item_id in titles:
            line.items.append(titles[link.item_id])
    return list(lines.values())
