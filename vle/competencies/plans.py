"""Learning plans: templates of competencies assigned to learners.

A plan template ("municipal social worker") is a set of competencies with an
optional due date. Assigning it to a person, or to everyone of an organisation
subtree (optionally of one role, including people who join later), gives each
of them a Plan. A plan's progress is the share of its competencies the learner
is proficient in; it completes when every one is proficient (or by an
administrator's hand), and its ratings are then frozen in PlanRating.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from vle.competencies.models import (
    Competency,
    Framework,
    Plan,
    PlanRating,
    PlanStatus,
    PlanTemplate,
    PlanTemplateCompetency,
    UserCompetency,
)


@dataclass(frozen=True)
class PlanLine:
    """One of a learner's plans as My competencies and the API show it."""

    id: int
    name: str
    status: str
    due: date | None
    progress: int  # 0..100
    competency_codes: list[str]


def percent(done: int, total: int) -> int:
    """`done` of `total` as a whole percentage, rounded down (100 only when all are done)."""
    if total <= 0:
        return 0
    return done * 100 // total


def plans_of(db_session: Session, user_id: int) -> list[PlanLine]:
    """The learner's plans, active first, then draft, then complete; by due date and
    name within each. Four queries whatever the number of plans or competencies."""
    rows = db_session.execute(
        select(Plan.id, Plan.template_id, Plan.status, Plan.due, PlanTemplate.name)
        .join(PlanTemplate, PlanTemplate.id == Plan.template_id)
        .where(Plan.user_id == user_id)
    ).all()
    if not rows:
        return []
    template_ids = {row.template_id for row in rows}
    members: dict[int, list[tuple[int, str]]] = {}
    for template_id, competency_id, code in db_session.execute(
        select(PlanTemplateCompetency.template_id, Competency.id, Competency.code)
        .join(Competency, Competency.id == PlanTemplateCompetency.competency_id)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(PlanTemplateCompetency.template_id.in_(template_ids))
        .order_by(Framework.title, Framework.id, Competency.position, Competency.id)
    ):
        members.setdefault(template_id, []).append((competency_id, code))
    proficient_now = set(
        db_session.scalars(
            select(UserCompetency.competency_id).where(
                UserCompetency.user_id == user_id, UserCompetency.proficient.is_(True)
            )
        )
    )
    complete_ids = [row.id for row in rows if row.status == PlanStatus.COMPLETE]
    frozen: dict[int, set[int]] = {}
    if complete_ids:
        for plan_id, competency_id in db_session.execute(
            select(PlanRating.plan_id, PlanRating.competency_id).where(
                PlanRating.plan_id.in_(complete_ids), PlanRating.proficient.is_(True)
            )
        ):
            frozen.setdefault(plan_id, set()).add(competency_id)
    order = {PlanStatus.ACTIVE: 0, PlanStatus.DRAFT: 1, PlanStatus.COMPLETE: 2}
    lines = []
    for row in rows:
        competencies = members.get(row.template_id, [])
        held = frozen.get(row.id, set()) if row.status == PlanStatus.COMPLETE else proficient_now
        done = sum(1 for competency_id, _code in competencies if competency_id in held)
        lines.append(
            PlanLine(
                id=row.id,
                name=row.name,
                status=row.status,
                due=row.due,
                progress=percent(done, len(competencies)),
                competency_codes=[code for _id, code in competencies],
            )
        )
    lines.sort(
        key=lambda line: (order.get(line.status, 3), line.due or date.max, line.name, line.id)
    )
    return lines
