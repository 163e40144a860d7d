"""The monitoring figures (issue 19 point 7): per month, for the people of an
organisation's subtree (and a country), how many learners were active, were
assigned courses and completed them, achieved competencies, wrote in the
forums, and how many events were held and attended and pairs began.

Months are calendar months of the reader's time zone, as on the dashboard: a
moment counts in the month whose first local midnight it is at or after (a
completion at 23:30 UTC on 31 March is in April for a reader in Vilnius), by
comparison with the months' first instants — the same SQL on every database.
Events count by their own date, a new pair by the day it began in that zone.
Each series is one grouped query; the pages read them as counted ahead, per
question asked (`vle.monitoring.precomputed`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, distinct, func, select, union_all
from sqlalchemy.orm import Session

from vle.accounts.models import Organisation, User
from vle.community.models import Event, EventAttendance, Post, event_organisers
from vle.competencies.models import UserCompetency
from vle.learning.models import AssignmentMember, Enrolment
from vle.monitoring import cooperation
from vle.reports.scope import period_bounds, zone

SERIES: dict[str, Any] = {
    "active": _l("Active learners (enrolled or completed in the month)"),
    "assigned": _l("Course assignments"),
    "completed": _l("Completions"),
    "competencies": _l("Competencies achieved"),
    "posts": _l("Forum posts"),
    "events": _l("Events held"),
    "attendance": _l("Event attendances"),
    "pairs": _l("New cooperating pairs"),
}


@dataclass
class Filters:
    organisation: Organisation | None  # the subtree; None: the whole network
    country: str
    since: date
    until: date
    tz: tzinfo = UTC  # whose calendar months


@dataclass(frozen=True)
class Asked:
    """The figures as a reader asks for them: an organisation's code ("": the
    whole network), a country, the period as given (None: the last twelve
    months, to today) and the reader's time zone. Resolved against the day
    when they are counted (`resolve`)."""

    organisation: str
    country: str
    since: date | None
    until: date | None
    zone: str

    @property
    def key(self) -> str:
        days = [d.isoformat() if d else "" for d in (self.since, self.until)]
        return "figures " + json.dumps([self.organisation, self.country, *days, self.zone])

    @classmethod
    def from_key(cls, key: str) -> Asked:
        organisation, country, since, until, zone_name = json.loads(key.split(" ", 1)[1])
        days = [date.fromisoformat(d) if d else None for d in (since, until)]
        return cls(organisation, country, days[0], days[1], zone_name)


def resolve(db_session: Session, asked: Asked, today: date) -> tuple[Filters | None, str]:
    """The filters `asked` means on `today` (in the reader's zone), or None and
    why not."""
    organisation = None
    if asked.organisation:
        organisation = db_session.scalar(
            select(Organisation).where(Organisation.code == asked.organisation)
        )
        if organisation is None:
            return None, str(_l("There is no such organisation."))
    index = today.year * 12 + today.month - 1 - 11
    since = asked.since or date(index // 12, index % 12 + 1, 1)
    until = min(asked.until or today, today)
    if until < since:
        return None, str(_l("The period cannot end before it starts."))
    if (until.year - since.year) * 12 + until.month - since.month > 120:
        return None, str(_l("Choose a period of at most ten years."))
    return Filters(organisation, asked.country, since, until, zone(asked.zone)), ""


@dataclass
class Series:
    key: str
    title: str
    months: list[tuple[str, int]]

    @property
    def total(self) -> int:
        return sum(value for _month, value in self.months)

    @property
    def peak(self) -> int:
        return max((value for _month, value in self.months), default=0)


def months_between(since: date, until: date) -> list[str]:
    first, last = since.year * 12 + since.month - 1, until.year * 12 + until.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(first, last + 1)]


def _month(filters: Filters, column: Any, dates: bool = False) -> Any:
    """The month ("YYYY-MM") of `column` in the filters' period: the latest month
    whose first local midnight (for `dates`, first day) it is at or after."""
    branches = []
    for month in reversed(months_between(filters.since, filters.until)):
        first = date(int(month[:4]), int(month[5:]), 1)
        start = first if dates else datetime(first.year, first.month, 1, tzinfo=filters.tz)
        branches.append((column >= start, month))
    return case(*branches, else_=None)


def _bounds(filters: Filters) -> tuple[datetime, datetime]:
    """The period as UTC instants: [the first local midnight of `since`'s month,
    the local midnight after `until`)."""
    start, end = period_bounds(filters.since.replace(day=1), filters.until, filters.tz)
    assert start is not None and end is not None  # noqa: S101 - both days are given
    return start, end


def _in_scope(query: Any, org_column: Any, filters: Filters) -> Any:
    query = query.join(Organisation, Organisation.id == org_column)
    if filters.organisation is not None:
        query = query.where(Organisation.path.startswith(filters.organisation.path))
    if filters.country:
        query = query.where(Organisation.country == filters.country)
    return query


def _of_people(query: Any, user_column: Any, filters: Filters) -> Any:
    """`query` kept to the people of the filters' organisations; for the whole
    network, no join at all: everyone belongs to an organisation (a post whose
    author was deleted belongs to no one)."""
    if filters.organisation is None and not filters.country:
        return query.where(user_column.is_not(None))
    return _in_scope(query.join(User, User.id == user_column), User.organisation_id, filters)


def _people_series(db_session: Session, filters: Filters, column: Any, user_column: Any,
                   extra: Sequence[Any] = (), count: Any = None) -> dict[str, int]:  # fmt: skip
    start, end = _bounds(filters)
    month = _month(filters, column)
    query = (
        select(month, count if count is not None else func.count())
        .select_from(column.table)
        .where(column >= start, column < end, *extra)
    )
    query = _of_people(query, user_column, filters).group_by(month)
    return {m: n for m, n in db_session.execute(query)}


def _active(db_session: Session, filters: Filters) -> dict[str, int]:
    start, end = _bounds(filters)
    parts = []
    for column in (Enrolment.enrolled_at, Enrolment.completed_at):
        month = _month(filters, column)
        part = select(Enrolment.user_id.label("user_id"), month.label("month")).where(
            column >= start, column < end
        )
        parts.append(_of_people(part, Enrolment.user_id, filters))
    both = union_all(*parts).subquery()
    query = select(both.c.month, func.count(distinct(both.c.user_id))).group_by(both.c.month)
    return {m: n for m, n in db_session.execute(query)}


def _events(db_session: Session, filters: Filters, attendance: bool) -> dict[str, int]:
    start, end = filters.since.replace(day=1), filters.until
    in_scope = _in_scope(
        select(event_organisers.c.event_id), event_organisers.c.organisation_id, filters
    )
    month = _month(filters, Event.starts_on, dates=True)
    query = select(month, func.count(EventAttendance.id if attendance else Event.id))
    if attendance:
        query = query.select_from(EventAttendance).join(Event)
    query = query.where(Event.starts_on >= start, Event.starts_on <= end, Event.id.in_(in_scope))
    return {m: n for m, n in db_session.execute(query.group_by(month))}


def _pairs(
    db_session: Session, filters: Filters, pairs: list[cooperation.CooperationPair] | None
) -> dict[str, int]:
    """New pairs per month. `pairs`, when given, are all the pairs (days in the
    filters' zone) and stand for those as they stood at `until`: a pair's first
    day is the same whenever it is counted, once it has begun."""
    result: dict[str, int] = {}
    if pairs is None:
        pairs = cooperation.cooperating_pairs(db_session, filters.until, tz=filters.tz)
    for pair in pairs:
        if pair.since > filters.until:
            continue
        orgs = (pair.org_a, pair.org_b)
        if filters.organisation is not None and not any(
            filters.organisation.contains(o) or o.contains(filters.organisation) for o in orgs
        ):
            continue
        if filters.country and not any(o.country == filters.country for o in orgs):
            continue
        if pair.since >= filters.since.replace(day=1):
            key = pair.since.strftime("%Y-%m")
            result[key] = result.get(key, 0) + 1
    return result


def monitoring(
    db_session: Session,
    filters: Filters,
    pairs: list[cooperation.CooperationPair] | None = None,
) -> list[Series]:
    proficient = (UserCompetency.proficient.is_(True),)
    visible = (Post.hidden.is_(False),)
    counted = {
        "active": _active(db_session, filters),
        "assigned": _people_series(
            db_session, filters, AssignmentMember.assigned_at, AssignmentMember.user_id
        ),  # fmt: skip
        "completed": _people_series(
            db_session, filters, Enrolment.completed_at, Enrolment.user_id
        ),  # fmt: skip
        "competencies": _people_series(
            db_session, filters, UserCompetency.rated_at, UserCompetency.user_id, proficient
        ),  # fmt: skip
        "posts": _people_series(db_session, filters, Post.created_at, Post.author_id, visible),
        "events": _events(db_session, filters, False),
        "attendance": _events(db_session, filters, True),
        "pairs": _pairs(db_session, filters, pairs),
    }
    months = months_between(filters.since, filters.until)
    return [
        Series(key, str(SERIES[key]), [(m, int(counted[key].get(m, 0))) for m in months])
        for key in SERIES
    ]
