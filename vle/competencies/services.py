"""Competency tracking's rules: evidence in, ratings out.

Evidence is kept forever and recorded idempotently: each piece has a key that
names the event it rests on ("course_completed:<completion id>",
"quiz_passed:<item id>", …), so the same event twice gives one piece.

A learner's rating in a competency follows from their evidence alone, whatever
the order it arrived in:
- a trainer's rating (kind `rating`) decides, the latest one (by time, then
  id) when there are several; an automatic rating never overwrites it;
- otherwise the highest scale value any automatic evidence gives (`complete`
  outcomes of links, a parent's rule, a framework import);
- evidence without a value (outcome `evidence`, `recommend`) is logged only;
  `recommend` puts the competency in the trainers' review queue;
- a self-assessment is kept beside the rating and never counts as one.

When a rating changes, the parent's rule is evaluated ("all": every child
proficient; points: the proficient children's points reach the threshold and
every required child is proficient) and, when met, the parent gets evidence of
kind `rule` with the rule's outcome — which cascades further up.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from vle import db
from vle.accounts.models import Role, User
from vle.audit import audit
from vle.catalog.models import Course, Item, course_trainers
from vle.competencies import badges, plans
from vle.competencies.models import (
    Competency,
    CompetencyLink,
    Evidence,
    EvidenceKind,
    Framework,
    Outcome,
    UserCompetency,
)
from vle.db import utcnow
from vle.errors import Forbidden, Invalid, NotFound
from vle.learning import events
from vle.learning.models import Enrolment

# Evidence that rates automatically when it carries a value.
AUTOMATIC = frozenset(
    {
        EvidenceKind.COURSE_COMPLETED,
        EvidenceKind.ITEM_COMPLETED,
        EvidenceKind.QUIZ_PASSED,
        EvidenceKind.IMPORT,
        EvidenceKind.RULE,
    }
)
# Parent rules cascade at most this deep (a tree deeper than this is refused
# by the framework reader long before).
MAX_DEPTH = 50


# --- reading the frameworks ----------------------------------------------------------------


def competency_by_code(db_session: Session, code: str) -> Competency:
    """The competency with this code (codes are unique across frameworks), or NotFound."""
    competency = db_session.scalar(select(Competency).where(Competency.code == code))
    if competency is None:
        raise NotFound(_l("There is no competency with the code %(code)s.", code=code))
    return competency


def framework_by_code(db_session: Session, code: str) -> Framework:
    framework = db_session.scalar(select(Framework).where(Framework.code == code))
    if framework is None:
        raise NotFound(_l("There is no competency framework with the code %(code)s.", code=code))
    return framework


def frameworks(db_session: Session) -> list[Framework]:
    return list(db_session.scalars(select(Framework).order_by(Framework.title, Framework.id)))


# --- recording evidence ------------------------------------------------------------------


def record_evidence(
    db_session: Session,
    user_id: int,
    competency: Competency,
    *,
    kind: str,
    key: str,
    value: str | None = None,
    outcome: str | None = None,
    by_id: int | None = None,
    note: str | None = None,
    title: str = "",
    url: str | None = None,
    course_id: int | None = None,
    item_id: int | None = None,
    at: datetime | None = None,
    depth: int = 0,
) -> int | None:
    """Keep one piece of evidence and bring the learner's rating (and, by the
    parents' rules, their parents' ratings) up to date; its id. The same key
    for the same learner and competency twice keeps the first: returns None
    then."""
    if value is not None:
        require_on_scale(competency, value)
    evidence_id = db_session.execute(
        db.insert_unless_exists(db_session, Evidence, ["user_id", "competency_id", "key"])
        .values(
            user_id=user_id,
            competency_id=competency.id,
            kind=kind,
            key=key[:200],
            value=value,
            outcome=outcome,
            by_id=by_id,
            note=note,
            title=title[:300],
            url=url,
            course_id=course_id,
            item_id=item_id,
            at=at or utcnow(),
        )
        .returning(Evidence.id)
    ).scalar()
    if evidence_id is None:  # this event was recorded before (or at once by another request)
        return None
    rederive(db_session, user_id, competency, depth)
    return evidence_id


def require_on_scale(competency: Competency, value: str) -> None:
    """Invalid unless `value` is one of the competency's scale values."""
    if value not in competency.framework.scale:
        raise Invalid(
            _l("“%(value)s” is not a value of the scale of %(framework)s.",
               value=value, framework=competency.framework.title)
        )  # fmt: skip


def _standing(db_session: Session, user_id: int, competency_id: int) -> UserCompetency:
    row = db_session.scalar(
        select(UserCompetency).where(
            UserCompetency.user_id == user_id, UserCompetency.competency_id == competency_id
        )
    )
    if row is None:
        db_session.execute(
            db.insert_unless_exists(
                db_session, UserCompetency, ["user_id", "competency_id"]
            ).values(user_id=user_id, competency_id=competency_id)
        )
        return _standing(db_session, user_id, competency_id)
    return row


@dataclass(frozen=True)
class Derived:
    rating: str | None
    rated_at: datetime | None
    by_trainer: bool
    review_since: datetime | None
    review_reason: str | None


def derive(scale: list[str], pieces: Iterable[Evidence]) -> Derived:
    """The rating that follows from a learner's evidence in one competency:
    the rule in this module's docstring. Pure: the same set of evidence, in
    any order, gives the same answer."""
    trainer: Evidence | None = None
    automatic: Evidence | None = None
    recommend: Evidence | None = None
    rank = {value: i for i, value in enumerate(scale)}
    for piece in pieces:
        if piece.kind == EvidenceKind.RATING:
            if trainer is None or (piece.at, piece.id) > (trainer.at, trainer.id):
                trainer = piece
        elif piece.kind in AUTOMATIC and piece.value in rank:
            if automatic is None or _stronger(piece, automatic, rank):
                automatic = piece
        if piece.outcome == Outcome.RECOMMEND and (
            recommend is None or (piece.at, piece.id) > (recommend.at, recommend.id)
        ):
            recommend = piece
    review_since = review_reason = None
    if recommend is not None and (trainer is None or trainer.at < recommend.at):
        review_since, review_reason = recommend.at, "recommend"
    if trainer is not None:
        return Derived(trainer.value, trainer.at, True, review_since, review_reason)
    if automatic is not None:
        return Derived(automatic.value, automatic.at, False, review_since, review_reason)
    return Derived(None, None, False, review_since, review_reason)


def _stronger(piece: Evidence, than: Evidence, rank: dict[str, int]) -> bool:
    """The higher value wins; among equal values the earliest decides when
    the rating was reached."""
    mine, theirs = rank[piece.value or ""], rank[than.value or ""]
    if mine != theirs:
        return mine > theirs
    return (piece.at, piece.id or 0) < (than.at, than.id or 0)


def rederive(db_session: Session, user_id: int, competency: Competency, depth: int = 0) -> None:
    """Bring the stored rating of one learner in one competency in line with
    their evidence; when its proficiency changed, evaluate the parent's rule."""
    pieces = list(
        db_session.scalars(
            select(Evidence).where(
                Evidence.user_id == user_id, Evidence.competency_id == competency.id
            )
        )
    )
    framework = competency.framework
    if competency.rule:
        # A parent's rule evidence counts while the rule holds: the history
        # keeps it, and the rating follows the children as they stand now, so
        # the order in which evidence arrived never changes the outcome.
        holds, _ = rule_state(db_session, user_id, competency)
        if not holds:
            pieces_counted = [p for p in pieces if p.kind != EvidenceKind.RULE]
        else:
            pieces_counted = pieces
    else:
        pieces_counted = pieces
    derived = derive(framework.scale, pieces_counted)
    row = _standing(db_session, user_id, competency.id)
    was_proficient = row.proficient
    row.rating = derived.rating
    row.rated_at = derived.rated_at
    row.proficient = framework.is_proficient(derived.rating)
    row.rated_by_kind = (
        None if derived.rating is None else ("trainer" if derived.by_trainer else "auto")
    )
    row.evidence_count = sum(1 for p in pieces if p.kind != EvidenceKind.SELF_ASSESSMENT)
    if derived.review_since is not None:
        # A learner's own request stays until a trainer rates.
        if row.review_requested_at is None or row.review_reason != "request":
            row.review_requested_at, row.review_reason = derived.review_since, derived.review_reason
    elif row.review_reason == "recommend":
        row.review_requested_at = row.review_reason = None
    db_session.flush()
    if row.proficient != was_proficient:
        # Proof of it: a badge issued (or reinstated) when it becomes proficient,
        # revoked when it falls (vle/competencies/badges.py).
        badges.competency_standing_changed(
            db_session, user_id, competency, row.proficient, row.rated_at
        )
    if row.proficient != was_proficient and competency.parent_id is not None and depth < MAX_DEPTH:
        parent = db_session.get(Competency, competency.parent_id)
        if parent is not None and parent.rule:
            evaluate_rule(db_session, user_id, parent, depth + 1)
    if row.proficient and not was_proficient:
        # A learning plan completes when its last competency becomes proficient.
        plans.proficiency_reached(db_session, user_id, competency.id)


def rule_met(rule: Any, children: list[Competency], proficient: set[int]) -> bool:
    """Is a parent's rule met, given which of its children are proficient?"""
    if not children:
        return False
    if rule == "all":
        return all(child.id in proficient for child in children)
    if isinstance(rule, dict) and "points" in rule:
        by_code = {child.code: child for child in children}
        points = 0
        for code, spec in (rule.get("children") or {}).items():
            child = by_code.get(code)
            if child is None:
                continue
            if child.id in proficient:
                points += int(spec.get("points", 0))
            elif spec.get("required"):
                return False
        return points >= int(rule["points"])
    return False


def rule_state(
    db_session: Session, user_id: int, parent: Competency
) -> tuple[bool, datetime | None]:
    """Does the parent's rule hold for the learner, and since when (the
    latest rating among the proficient children: the same moment whatever
    order the evidence came in)?"""
    children = list(db_session.scalars(select(Competency).where(Competency.parent_id == parent.id)))
    rows = db_session.execute(
        select(UserCompetency.competency_id, UserCompetency.rated_at).where(
            UserCompetency.user_id == user_id,
            UserCompetency.competency_id.in_([c.id for c in children]),
            UserCompetency.proficient.is_(True),
        )
    ).all()
    if not rule_met(parent.rule, children, {row.competency_id for row in rows}):
        return False, None
    return True, max((row.rated_at for row in rows if row.rated_at is not None), default=None)


def evaluate_rule(db_session: Session, user_id: int, parent: Competency, depth: int = 0) -> None:
    """A child's proficiency changed: when the parent's rule now holds, the
    parent gets evidence of kind `rule` (once: its key is "rule") and its
    rating is derived again; when it does not hold, only a parent whose rule
    held before (it has that evidence) has anything to derive again."""
    holds, at = rule_state(db_session, user_id, parent)
    if not holds:
        held_before = db_session.scalar(
            select(Evidence.id).where(
                Evidence.user_id == user_id,
                Evidence.competency_id == parent.id,
                Evidence.key == "rule",
            )
        )
        if held_before is None:
            return
    else:
        outcome = parent.rule_outcome
        recorded = record_evidence(
            db_session,
            user_id,
            parent,
            kind=EvidenceKind.RULE,
            key="rule",
            value=parent.framework.default_value if outcome == Outcome.COMPLETE else None,
            outcome=outcome,
            title=parent.title,
            at=at,
            depth=depth,
        )
        if recorded is not None:  # record_evidence derived it
            return
    rederive(db_session, user_id, parent, depth)


# --- what learning tells us -----------------------------------------------------------------


# The links' competencies and their frameworks, read with the links: not one
# query per link.
_WITH_COMPETENCY = selectinload(CompetencyLink.competency).joinedload(Competency.framework)


def _fire(
    db_session: Session,
    user_id: int,
    links: list[CompetencyLink],
    *,
    kind: str,
    key: str,
    title: str,
    url: str,
    course_id: int,
    item_id: int | None,
    at: datetime,
) -> None:
    for link in links:
        competency = link.competency
        record_evidence(
            db_session,
            user_id,
            competency,
            kind=kind,
            key=key,
            value=competency.framework.default_value if link.outcome == Outcome.COMPLETE else None,
            outcome=link.outcome,
            title=title,
            url=url,
            course_id=course_id,
            item_id=item_id,
            at=at,
        )


def on_course_completed(event: events.CourseCompleted) -> None:
    """A completed course fires its course-level links."""
    links = list(
        event.db_session.scalars(
            select(CompetencyLink)
            .where(CompetencyLink.course_id == event.course.id, CompetencyLink.item_id.is_(None))
            .options(_WITH_COMPETENCY)
        )
    )
    if not links:
        return
    _fire(
        event.db_session,
        event.user_id,
        links,
        kind=EvidenceKind.COURSE_COMPLETED,
        key=f"course_completed:{event.completion.id}",
        title=event.course.title,
        url=f"/courses/{event.course.slug}",
        course_id=event.course.id,
        item_id=None,
        at=event.completion.completed_at,
    )


def on_item_completed(event: events.ItemCompleted) -> None:
    """A completed lesson or a passed quiz fires the item's links (once per
    item: completing it again in a later round adds no evidence)."""
    links = list(
        event.db_session.scalars(
            select(CompetencyLink)
            .where(CompetencyLink.item_id == event.item_id)
            .options(_WITH_COMPETENCY)
        )
    )
    if not links:
        return
    kind = EvidenceKind.QUIZ_PASSED if event.kind == "quiz" else EvidenceKind.ITEM_COMPLETED
    item = event.db_session.get(Item, event.item_id)
    _fire(
        event.db_session,
        event.user_id,
        links,
        kind=kind,
        key=f"{kind}:{event.item_id}",
        title=item.title if item is not None else "",
        url=f"/courses/{event.course.slug}/items/{event.item_id}",
        course_id=event.course.id,
        item_id=event.item_id,
        at=event.at,
    )


def register() -> None:
    """Listen to learning's events (called once by create_app)."""
    events.listen(events.CourseCompleted, on_course_completed)
    events.listen(events.ItemCompleted, on_item_completed)
    badges.register()  # a badge at each course completion


# --- people acting on ratings ---------------------------------------------------------------


def learner_course_ids(db_session: Session, learner_id: int) -> set[int]:
    return set(
        db_session.scalars(select(Enrolment.course_id).where(Enrolment.user_id == learner_id))
    )


def can_view_profile(db_session: Session, viewer: User, learner: User) -> bool:
    """A learner's own profile; an administrator's for people in their scope;
    a trainer's for learners of the courses they train."""
    if viewer.id == learner.id:
        return True
    if viewer.role == Role.ADMIN:
        return viewer.manages(learner) or viewer.administers(learner.organisation)
    if viewer.role == Role.TRAINER:
        return _trains(db_session, viewer, learner)
    return False


def can_rate(db_session: Session, rater: User, learner: User) -> bool:
    """Trainers rate learners of their courses; administrators people in
    their scope. Nobody rates themselves (that is a self-assessment)."""
    if rater.id == learner.id:
        return False
    if rater.role == Role.ADMIN:
        return rater.administers(learner.organisation)
    if rater.role == Role.TRAINER:
        return _trains(db_session, rater, learner)
    return False


def _trains(db_session: Session, trainer: User, learner: User) -> bool:
    return (
        db_session.scalar(
            select(func.count())
            .select_from(Enrolment)
            .join(course_trainers, course_trainers.c.course_id == Enrolment.course_id)
            .where(Enrolment.user_id == learner.id, course_trainers.c.user_id == trainer.id)
        )
        or 0
    ) > 0


def require_profile(db_session: Session, viewer: User, learner_id: int) -> User:
    """The learner whose profile `viewer` reads: NotFound, or Forbidden when
    outside their courses or scope."""
    learner = db_session.get(User, learner_id)
    if learner is None or learner.is_erased:
        raise NotFound(_l("There is no such person."))
    if not can_view_profile(db_session, viewer, learner):
        raise Forbidden(
            _l("You can see the competencies only of learners in your courses or scope.")
        )
    return learner


def rate(
    db_session: Session,
    rater: User,
    learner: User,
    competency: Competency,
    value: str,
    note: str | None,
    address: str | None = None,
    now: datetime | None = None,
) -> UserCompetency:
    """A trainer's rating with a note: it overrides any automatic rating and
    clears the review request. Forbidden outside the rater's courses or scope;
    Invalid for a value not on the scale."""
    if not can_rate(db_session, rater, learner):
        raise Forbidden(_l("You can rate only learners of your courses or in your scope."))
    require_on_scale(competency, value)
    now = now or utcnow()
    before = _standing(db_session, learner.id, competency.id).rating
    record_evidence(
        db_session,
        learner.id,
        competency,
        kind=EvidenceKind.RATING,
        key=f"rating:{now.isoformat()}:{rater.id}:{secrets.token_hex(4)}",
        value=value,
        by_id=rater.id,
        note=(note or "").strip() or None,
        title=competency.title,
        at=now,
    )
    row = _standing(db_session, learner.id, competency.id)
    row.review_requested_at = row.review_reason = None
    db_session.flush()
    audit(
        db_session, rater, "competency.rate", "user", learner.id, address,
        {"competency": competency.code, "before": {"rating": before},
         "after": {"rating": row.rating}, "note": (note or "").strip()},
        organisation_id=learner.organisation_id, label=learner.email,
    )  # fmt: skip
    return row


def self_assess(
    db_session: Session,
    learner: User,
    competency: Competency,
    value: str,
    note: str | None,
    now: datetime | None = None,
    address: str | None = None,
) -> UserCompetency:
    """A learner's own view of their level: kept as evidence and beside the
    rating, never counted as one."""
    require_on_scale(competency, value)
    now = now or utcnow()
    record_evidence(
        db_session,
        learner.id,
        competency,
        kind=EvidenceKind.SELF_ASSESSMENT,
        key=f"self_assessment:{now.isoformat()}:{secrets.token_hex(4)}",
        value=value,
        by_id=learner.id,
        note=(note or "").strip() or None,
        title=competency.title,
        at=now,
    )
    row = _standing(db_session, learner.id, competency.id)
    before = row.self_rating
    row.self_rating, row.self_rated_at = value, now
    row.self_note = (note or "").strip() or None
    db_session.flush()
    audit(
        db_session, learner, "competency.self_assess", "user", learner.id, address,
        {"competency": competency.code, "before": {"rating": before},
         "after": {"rating": value}, "note": row.self_note or ""},
        organisation_id=learner.organisation_id, label=learner.email,
    )  # fmt: skip
    return row


def request_review(
    db_session: Session,
    learner: User,
    competency: Competency,
    now: datetime | None = None,
    address: str | None = None,
) -> UserCompetency:
    """The learner asks a trainer to review their rating: the competency
    joins the review queue of their trainers until one rates it (asking
    again while it waits changes nothing)."""
    row = _standing(db_session, learner.id, competency.id)
    if row.review_requested_at is None:
        row.review_requested_at, row.review_reason = now or utcnow(), "request"
        db_session.flush()
        audit(
            db_session, learner, "competency.review_request", "user", learner.id, address,
            {"competency": competency.code},
            organisation_id=learner.organisation_id, label=learner.email,
        )  # fmt: skip
    return row


def is_linked_to(db_session: Session, competency: Competency, course: Course) -> bool:
    return (
        db_session.scalar(
            select(func.count())
            .select_from(CompetencyLink)
            .where(
                CompetencyLink.competency_id == competency.id,
                CompetencyLink.course_id == course.id,
            )
        )
        or 0
    ) > 0
