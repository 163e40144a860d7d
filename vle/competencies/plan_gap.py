"""Who lacks what: the gap view of a learning plan template within an organisation
subtree — its learners × its competencies, proficient or not (a complete plan's
frozen ratings, the current ones otherwise), with totals per competency."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vle.accounts.models import Organisation, User
from vle.competencies import plans
from vle.competencies.models import (
    Competency,
    Plan,
    PlanRating,
    PlanStatus,
    PlanTemplate,
    UserCompetency,
)
from vle.errors import Forbidden


@dataclass(frozen=True)
class GapRow:
    user: User
    plan: Plan
    proficient: list[bool]  # one per competency of the template, in order


@dataclass(frozen=True)
class Gap:
    """Who lacks what: learners with a plan of the template in an organisation
    subtree × the template's competencies."""

    competencies: list[Competency]
    rows: list[GapRow]
    total: int  # learners in all (rows is one page of them)
    proficient_counts: list[int]  # per competency, over all learners

    def share(self, i: int) -> int:
        return plans.percent(self.proficient_counts[i], self.total)


def _gap_people(template: PlanTemplate, organisation: Organisation | None) -> Any:
    """SQL: (Plan, User) of the template's plans held by people of the subtree
    (None: the whole network)."""
    query = (
        select(Plan, User)
        .join(User, User.id == Plan.user_id)
        .where(Plan.template_id == template.id, User.erased_at.is_(None))
    )
    if organisation is not None:
        query = query.where(
            User.organisation_id.in_(
                select(Organisation.id).where(
                    Organisation.path.startswith(organisation.path, autoescape=True)
                )
            )
        )
    return query


def gap_scope(actor: User, organisation: Organisation | None) -> Organisation | None:
    """The subtree a gap view covers: the one asked for (Forbidden outside the
    administrator's scope), else their own organisation's (None: the network, for
    network administrators)."""
    if organisation is None:
        return None if actor.is_network_admin else actor.organisation
    if not actor.administers(organisation):
        raise Forbidden(
            _l("The organisation “%(code)s” is outside your scope.", code=organisation.code)
        )
    return organisation


def gap(
    db_session: Session,
    actor: User,
    template: PlanTemplate,
    organisation: Organisation | None,
    page: int = 1,
    per_page: int = 100,
) -> Gap:
    """One page of the gap table and its totals, for the subtree `gap_scope`
    gives: a fixed number of queries."""
    organisation = gap_scope(actor, organisation)
    competencies = plans.template_competencies(db_session, template.id)
    people = _gap_people(template, organisation)
    total = db_session.scalar(select(func.count()).select_from(people.subquery())) or 0
    counts = _gap_counts(db_session, template, organisation)
    page = max(1, page)
    pairs = list(
        db_session.execute(
            people.order_by(func.lower(User.name), User.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
    )
    rows = _gap_rows(db_session, competencies, pairs)
    return Gap(competencies, rows, total, [counts.get(c.id, 0) for c in competencies])


def _gap_counts(
    db_session: Session, template: PlanTemplate, organisation: Organisation | None
) -> dict[int, int]:
    """Per competency: how many learners of the subtree hold it proficient in their
    plan (the frozen rating for a complete plan, the current one otherwise)."""
    people = _gap_people(template, organisation).with_only_columns(Plan.id, Plan.user_id,
                                                                   Plan.status).subquery()  # fmt: skip
    counts: dict[int, int] = {}
    current = (
        select(UserCompetency.competency_id, func.count())
        .join(people, people.c.user_id == UserCompetency.user_id)
        .where(
            people.c.status != PlanStatus.COMPLETE,
            UserCompetency.proficient.is_(True),
            UserCompetency.competency_id.in_(plans.members_of(template.id)),
        )
        .group_by(UserCompetency.competency_id)
    )
    frozen = (
        select(PlanRating.competency_id, func.count())
        .join(people, people.c.id == PlanRating.plan_id)
        .where(PlanRating.proficient.is_(True))
        .group_by(PlanRating.competency_id)
    )
    for query in (current, frozen):
        for competency_id, n in db_session.execute(query):
            counts[competency_id] = counts.get(competency_id, 0) + n
    return counts


def _gap_rows(
    db_session: Session, competencies: list[Competency], pairs: Sequence[Any]
) -> list[GapRow]:
    ids = [c.id for c in competencies]
    live = {plan.user_id for plan, _user in pairs if plan.status != PlanStatus.COMPLETE}
    done = [plan.id for plan, _user in pairs if plan.status == PlanStatus.COMPLETE]
    proficient: set[tuple[int, int]] = set()
    if live:
        proficient.update(
            (row[0], row[1])
            for row in db_session.execute(
                select(UserCompetency.user_id, UserCompetency.competency_id).where(
                    UserCompetency.user_id.in_(live),
                    UserCompetency.competency_id.in_(ids),
                    UserCompetency.proficient.is_(True),
                )
            ).all()
        )
    frozen: set[tuple[int, int]] = set()
    if done:
        frozen.update(
            (row[0], row[1])
            for row in db_session.execute(
                select(PlanRating.plan_id, PlanRating.competency_id).where(
                    PlanRating.plan_id.in_(done), PlanRating.proficient.is_(True)
                )
            ).all()
        )
    rows = []
    for plan, user in pairs:
        if plan.status == PlanStatus.COMPLETE:
            flags = [(plan.id, i) in frozen for i in ids]
        else:
            flags = [(user.id, i) in proficient for i in ids]
        rows.append(GapRow(user, plan, flags))
    return rows


def gap_lines(
    db_session: Session,
    template: PlanTemplate,
    organisation: Organisation | None,
    chunk: int = 500,
) -> Iterator[tuple[list[Competency], list[GapRow]]]:
    """Every row of the gap table, a chunk at a time (the CSV download); the
    subtree checked by `gap_scope` first."""
    competencies = plans.template_competencies(db_session, template.id)
    people = _gap_people(template, organisation).order_by(User.id)
    after = 0
    while True:
        pairs = list(db_session.execute(people.where(User.id > after).limit(chunk)).all())
        if not pairs:
            return
        yield competencies, _gap_rows(db_session, competencies, pairs)
        after = pairs[-1][1].id
