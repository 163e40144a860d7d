"""Who cooperates with whom across the network (PRODUCT.md §2, issue 19 point 2).

Two organisations cooperate when their people learn in one course (learners
of both enrolled in it), write in one forum thread (visible posts by members
of both), organise one joint event together, or are parties to one signed
agreement. Each source is one set-based query over the organisations that
users (or organisers, parties) belong to; the picture then groups every
organisation up to its *partner*: the topmost organisation in its line of
ancestors that has a country in the directory (an organisation with no
such ancestor stands for itself at its root). Pairs inside one partner are
not cooperation between partners and are left out.

Computed on request: each query reads an index-backed grouping, so the
pairs appear as soon as the activity is saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from vle.accounts.models import Organisation, User
from vle.community.models import (
    Agreement,
    Event,
    Post,
    Thread,
    agreement_parties,
    event_organisers,
)
from vle.learning.models import Enrolment

# What links a pair, in the order the picture names them.
SOURCES = ("course", "forum", "event", "agreement")


@dataclass
class CooperationPair:
    """Two partners (`org_a.id < org_b.id`) and, per source, since when."""

    org_a: Organisation
    org_b: Organisation
    links: dict[str, date] = field(default_factory=dict)

    @property
    def since(self) -> date:
        return min(self.links.values())

    @property
    def across_borders(self) -> bool:
        a, b = self.org_a.country, self.org_b.country
        return bool(a and b and a != b)


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def _self_join(grouped: Any) -> Any:
    """Pairs of organisations (a < b) sharing a `key`, since the later of their
    two first dates, earliest over all keys."""
    a, b = aliased(grouped), aliased(grouped)
    later = case((a.c.since > b.c.since, a.c.since), else_=b.c.since)
    return (
        select(a.c.org, b.c.org, func.min(later))
        .join(b, and_(a.c.key == b.c.key, a.c.org < b.c.org))
        .group_by(a.c.org, b.c.org)
    )


def _source_queries(until: date | None) -> dict[str, Any]:
    enrolled = select(
        Enrolment.course_id.label("key"),
        User.organisation_id.label("org"),
        func.min(Enrolment.enrolled_at).label("since"),
    ).join(User, User.id == Enrolment.user_id)
    posted = (
        select(
            Post.thread_id.label("key"),
            User.organisation_id.label("org"),
            func.min(Post.created_at).label("since"),
        )
        .join(User, User.id == Post.author_id)
        .join(Thread, Thread.id == Post.thread_id)
        .where(Post.hidden.is_(False), Thread.hidden.is_(False))
    )
    organised = select(
        event_organisers.c.event_id.label("key"),
        event_organisers.c.organisation_id.label("org"),
        func.min(Event.starts_on).label("since"),
    ).join(Event, Event.id == event_organisers.c.event_id)

    signed = select(
        agreement_parties.c.agreement_id.label("key"),
        agreement_parties.c.organisation_id.label("org"),
        func.min(Agreement.signed_on).label("since"),
    ).join(Agreement, Agreement.id == agreement_parties.c.agreement_id)
    if until is not None:
        # Up to and including the reporting date.
        end = datetime(until.year, until.month, until.day, 23, 59, 59, 999999, tzinfo=UTC)
        enrolled = enrolled.where(Enrolment.enrolled_at <= end)
        posted = posted.where(Post.created_at <= end)
        organised = organised.where(Event.starts_on <= until)
        signed = signed.where(Agreement.signed_on <= until)
    queries = {
        "course": enrolled.group_by(Enrolment.course_id, User.organisation_id),
        "forum": posted.group_by(Post.thread_id, User.organisation_id),
        "event": organised.group_by(
            event_organisers.c.event_id, event_organisers.c.organisation_id
        ),
        "agreement": signed.group_by(
            agreement_parties.c.agreement_id, agreement_parties.c.organisation_id
        ),
    }
    return {via: _self_join(query.subquery()) for via, query in queries.items()}


def partners(db_session: Session) -> dict[int, Organisation]:
    """Every organisation's id → its partner (see the module's docstring)."""
    organisations = {o.id: o for o in db_session.scalars(select(Organisation))}
    result: dict[int, Organisation] = {}
    for org in organisations.values():
        line = [organisations[int(i)] for i in org.path.strip("/").split("/") if i]
        line = [o for o in line if o is not None] or [org]
        result[org.id] = next((o for o in line if o.country), line[0])
    return result


def cooperating_pairs(
    db_session: Session, until: date | None = None, sources: Iterable[str] = SOURCES
) -> list[CooperationPair]:
    """The cooperating pairs of partners, by partners' ids; with `until`, as they
    stood at the end of that day."""
    partner = partners(db_session)
    pairs: dict[tuple[int, int], CooperationPair] = {}
    queries = _source_queries(until)
    for via in sources:
        for org_x, org_y, since in db_session.execute(queries[via]):
            x, y = partner[org_x], partner[org_y]
            if x.id == y.id:
                continue
            a, b = (x, y) if x.id < y.id else (y, x)
            pair = pairs.setdefault((a.id, b.id), CooperationPair(a, b))
            day = _as_date(since)
            if via not in pair.links or day < pair.links[via]:
                pair.links[via] = day
    for pair in pairs.values():
        pair.links = {via: pair.links[via] for via in SOURCES if via in pair.links}
    return [pairs[key] for key in sorted(pairs)]


def partners_of(pairs: Iterable[CooperationPair]) -> dict[int, list[Organisation]]:
    """Each partner's id → the partners it cooperates with, by name."""
    result: dict[int, list[Organisation]] = {}
    for pair in pairs:
        result.setdefault(pair.org_a.id, []).append(pair.org_b)
        result.setdefault(pair.org_b.id, []).append(pair.org_a)
    for organisations in result.values():
        organisations.sort(key=lambda o: o.name.casefold())
    return result
