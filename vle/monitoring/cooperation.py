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

Each source is one grouped query (per course, thread, event or agreement:
each organisation's first date in it); the pairing of the partners within
each group is done here. A day is a day of the time zone asked for (an
enrolment or a post at 23:30 UTC on 31 March is on 1 April in Vilnius);
events and agreements have dates of their own. Measured: 100,000 learners in
300,000 enrolments take 1 s on PostgreSQL and 2.5 s on SQLite (1.8 s of it
SQLite's grouping of the enrolments), so the pages read the pairs as
counted ahead by `vle.monitoring.precomputed`; the indicators count afresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from itertools import combinations
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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
from vle.reports.scope import period_bounds

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


def _as_date(value: Any, tz: tzinfo) -> date:
    if not isinstance(value, datetime):
        return value
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return moment.astimezone(tz).date()


def _source_queries(until: date | None, tz: tzinfo) -> dict[str, Any]:
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
        # Up to and including the reporting date (to the end of that day in `tz`).
        end = period_bounds(None, until, tz)[1]
        enrolled = enrolled.where(Enrolment.enrolled_at < end)
        posted = posted.where(Post.created_at < end)
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
    return queries


def _by_id(member: tuple[Organisation, date]) -> int:
    return member[0].id


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
    db_session: Session,
    until: date | None = None,
    sources: Iterable[str] = SOURCES,
    tz: tzinfo = UTC,
) -> list[CooperationPair]:
    """The cooperating pairs of partners, by partners' ids, their days in `tz`;
    with `until`, as they stood at the end of that day."""
    partner = partners(db_session)
    pairs: dict[tuple[int, int], CooperationPair] = {}
    queries = _source_queries(until, tz)
    for via in sources:
        # Per course (thread, event, agreement): each partner's first date in it.
        firsts: dict[Any, dict[int, tuple[Organisation, date]]] = {}
        for key, org_id, since in db_session.execute(queries[via]):
            org, day = partner[org_id], _as_date(since, tz)
            known = firsts.setdefault(key, {}).get(org.id)
            if known is None or day < known[1]:
                firsts[key][org.id] = (org, day)
        for members in firsts.values():
            for (x, x_day), (y, y_day) in combinations(sorted(members.values(), key=_by_id), 2):
                pair = pairs.setdefault((x.id, y.id), CooperationPair(x, y))
                day = max(x_day, y_day)  # cooperating once both are in it
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
