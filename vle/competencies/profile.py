"""A learner's competency profile: what My competencies, a trainer's view of a
learner and the API show, read in a fixed number of queries whatever the
number of frameworks, competencies or pieces of evidence.

Which frameworks: every framework with a competency linked to one of the
learner's courses (their enrolments) or in one of their plans, and every
framework in which they already hold a rating or evidence (a trainer's
rating or an import kept after they left the course). Each framework comes
whole, as its tree, so a rating is always read in its place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.orm import Session, aliased

from vle.accounts.models import User
from vle.competencies.badges import BadgeLinks, badges_of
from vle.competencies.models import (
    Competency,
    CompetencyLink,
    Evidence,
    Framework,
    Plan,
    PlanTemplateCompetency,
    UserCompetency,
)
from vle.competencies.plans import PlanLine, plans_of
from vle.learning.models import Enrolment


@dataclass(frozen=True)
class EvidenceLine:
    """One piece of evidence as a reader sees it: what, when, by whom, why."""

    kind: str
    at: datetime
    value: str | None
    by: str | None  # the name of who rated or assessed; None for automatic evidence
    note: str | None
    url: str | None  # root-relative (a course, a lesson, a quiz)
    title: str
    outcome: str | None


@dataclass
class CompetencyLine:
    id: int
    code: str
    title: str
    description: str
    parent_code: str | None
    depth: int
    rating: str | None = None
    proficient: bool = False
    rated_at: datetime | None = None
    rated_by_kind: str | None = None  # "trainer" or "auto"
    self_rating: str | None = None
    self_rated_at: datetime | None = None
    self_note: str | None = None
    review_requested_at: datetime | None = None
    review_reason: str | None = None  # "request" or "recommend"
    evidence: list[EvidenceLine] = field(default_factory=list)
    badge: BadgeLinks | None = None
    children: list[CompetencyLine] = field(default_factory=list)

    @property
    def counted_evidence(self) -> list[EvidenceLine]:
        """The evidence the rating rests on (a self-assessment is kept beside it)."""
        return [e for e in self.evidence if e.kind != "self_assessment"]


@dataclass
class FrameworkLine:
    id: int
    code: str
    title: str
    description: str
    scale: list[str]
    proficient_values: list[str]
    competencies: list[CompetencyLine]  # depth-first, the file's order

    @property
    def roots(self) -> list[CompetencyLine]:
        return [c for c in self.competencies if c.parent_code is None]

    @property
    def proficient_count(self) -> int:
        return sum(1 for c in self.competencies if c.proficient)


@dataclass
class Profile:
    user_id: int
    frameworks: list[FrameworkLine]
    plans: list[PlanLine]

    def competency(self, code: str) -> CompetencyLine | None:
        for framework in self.frameworks:
            for line in framework.competencies:
                if line.code == code:
                    return line
        return None

    @property
    def waiting_review(self) -> int:
        return sum(
            1 for f in self.frameworks for c in f.competencies if c.review_requested_at is not None
        )


def framework_ids_of(user_id: int) -> Any:
    """The ids of the frameworks in a learner's profile, as a subquery."""
    linked = (
        select(Competency.framework_id)
        .join(CompetencyLink, CompetencyLink.competency_id == Competency.id)
        .join(Enrolment, Enrolment.course_id == CompetencyLink.course_id)
        .where(Enrolment.user_id == user_id)
    )
    planned = (
        select(Competency.framework_id)
        .join(PlanTemplateCompetency, PlanTemplateCompetency.competency_id == Competency.id)
        .join(Plan, Plan.template_id == PlanTemplateCompetency.template_id)
        .where(Plan.user_id == user_id)
    )
    held = (
        select(Competency.framework_id)
        .join(UserCompetency, UserCompetency.competency_id == Competency.id)
        .where(UserCompetency.user_id == user_id)
    )
    return union(linked, planned, held).subquery()


def profile(db_session: Session, user_id: int) -> Profile:
    """The learner's profile: frameworks (each its tree, with the learner's
    rating, self-assessment, review state, evidence and badge in each
    competency) and plans. Four queries here, plus badges_of's and plans_of's,
    whatever the data size."""
    ids = framework_ids_of(user_id)
    frameworks = list(
        db_session.scalars(
            select(Framework)
            .where(Framework.id.in_(select(ids.c.framework_id)))
            .order_by(Framework.title, Framework.id)
        )
    )
    if not frameworks:
        return Profile(user_id, [], plans_of(db_session, user_id))
    framework_ids = [f.id for f in frameworks]
    rows = db_session.execute(
        select(
            Competency.id,
            Competency.framework_id,
            Competency.parent_id,
            Competency.code,
            Competency.title,
            Competency.description,
        )
        .where(Competency.framework_id.in_(framework_ids))
        .order_by(Competency.framework_id, Competency.position, Competency.id)
    ).all()
    standings = {
        row.competency_id: row
        for row in db_session.scalars(
            select(UserCompetency).where(
                UserCompetency.user_id == user_id,
                UserCompetency.competency_id.in_([r.id for r in rows]),
            )
        )
    }
    by = aliased(User)
    evidence: dict[int, list[EvidenceLine]] = {}
    for piece, by_name in db_session.execute(
        select(Evidence, by.name)
        .outerjoin(by, by.id == Evidence.by_id)
        .where(Evidence.user_id == user_id, Evidence.competency_id.in_([r.id for r in rows]))
        .order_by(Evidence.at.desc(), Evidence.id.desc())
    ):
        evidence.setdefault(piece.competency_id, []).append(
            EvidenceLine(
                kind=piece.kind,
                at=piece.at,
                value=piece.value,
                by=by_name,
                note=piece.note,
                url=piece.url,
                title=piece.title,
                outcome=piece.outcome,
            )
        )
    badges = badges_of(db_session, user_id)

    code_of = {r.id: r.code for r in rows}
    parent_of = {r.id: r.parent_id for r in rows}
    lines: dict[int, CompetencyLine] = {}
    per_framework: dict[int, list[CompetencyLine]] = {f.id: [] for f in frameworks}
    for r in rows:
        standing = standings.get(r.id)
        line = CompetencyLine(
            id=r.id,
            code=r.code,
            title=r.title,
            description=r.description or "",
            parent_code=code_of.get(r.parent_id) if r.parent_id else None,
            depth=_depth(r.id, parent_of),
            evidence=evidence.get(r.id, []),
            badge=badges.get(r.id),
        )
        if standing is not None:
            line.rating = standing.rating
            line.proficient = standing.proficient
            line.rated_at = standing.rated_at
            line.rated_by_kind = standing.rated_by_kind
            line.self_rating = standing.self_rating
            line.self_rated_at = standing.self_rated_at
            line.self_note = standing.self_note
            line.review_requested_at = standing.review_requested_at
            line.review_reason = standing.review_reason
        lines[r.id] = line
    for r in rows:
        line = lines[r.id]
        parent = lines.get(r.parent_id) if r.parent_id else None
        if parent is not None:
            parent.children.append(line)
        per_framework[r.framework_id].append(line)
    for framework_id, flat in per_framework.items():
        per_framework[framework_id] = _depth_first(flat)
    return Profile(
        user_id,
        [
            FrameworkLine(
                id=f.id,
                code=f.code,
                title=f.title,
                description=f.description or "",
                scale=list(f.scale or []),
                proficient_values=list(f.proficient or []),
                competencies=per_framework[f.id],
            )
            for f in frameworks
        ],
        plans_of(db_session, user_id),
    )


def _depth(competency_id: int, parent_of: dict[int, int | None]) -> int:
    depth, seen, current = 0, {competency_id}, parent_of.get(competency_id)
    while current is not None and current not in seen:
        depth += 1
        seen.add(current)
        current = parent_of.get(current)
    return depth


def _depth_first(flat: list[CompetencyLine]) -> list[CompetencyLine]:
    """The tree in reading order: each competency followed by its children,
    whatever order positions gave."""
    roots = [line for line in flat if line.parent_code is None]
    ordered: list[CompetencyLine] = []
    stack = list(reversed(roots))
    seen: set[int] = set()
    while stack:
        line = stack.pop()
        if line.id in seen:
            continue
        seen.add(line.id)
        ordered.append(line)
        stack.extend(reversed(line.children))
    # Anything unreachable (a parent in another framework: not expected) stays visible.
    ordered.extend(line for line in flat if line.id not in seen)
    return ordered


def label(value: str | None) -> str | None:
    """A scale value in plain words: "not_yet_competent" → "Not yet competent"
    (values written with spaces are shown as they are)."""
    if value is None:
        return None
    text = value.replace("_", " ").strip() if " " not in value else value
    return text[:1].upper() + text[1:]
