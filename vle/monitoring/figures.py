"""The monitoring figures (issue 19 point 7): per month, for the people of an
organisation's subtree (and a country), how many learners were active, were
assigned courses and completed them, achieved competencies, wrote in the
forums, and how many events were held and attended and pairs began.

Each series is one grouped query (months cut in UTC); computed on request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import distinct, func, select, union_all
from sqlalchemy.orm import Session

from vle.accounts.models import Organisation, User
from vle.community.models import Event, EventAttendance, Post, event_organisers
from vle.competencies.models import UserCompetency
from vle.learning.models import AssignmentMember, Enrolment
from vle.monitoring import cooperation

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


def _month(db_session: Session, column: Any) -> Any:
    if db_session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _bounds(filters: Filters) -> tuple[datetime, datetime]:
    end = filters.until
    return (
        datetime(filters.since.year, filters.since.month, 1, tzinfo=UTC),
        datetime(end.year, end.month, end.day, 23, 59, 59, 999999, tzinfo=UTC),
    )


def _in_scope(query: Any, org_column: Any, filters: Filters) -> Any:
    query = query.join(Organisation, Organisation.id == org_column)
    if filters.organisation is not None:
        query = query.where(Organisation.path.startswith(filters.organisation.path))
    if filters.country:
        query = query.where(Organisation.country == filters.country)
    return query


def _people_series(db_session: Session, filters: Filters, column: Any, user_column: Any,
                   extra: Sequence[Any] = (), count: Any = None) -> dict[str, int]:  # fmt: skip
    start, end = _bounds(filters)
    month = _month(db_session, column)
    query = (
        select(month, count if count is not None else func.count())
        .select_from(column.table)
        .join(User, User.id == user_column)
        .where(column >= start, column <= end, *extra)
    )
    query = _in_scope(query, User.organisation_id, filters).group_by(month)
    return {m: n for m, n in db_session.execute(query)}


def _active(db_session: Session, filters: Filters) -> dict[str, int]:
    start, end = _bounds(filters)
    parts = []
    for column in (Enrolment.enrolled_at, Enrolment.completed_at):
        month = _month(db_session, column)
        part = (
            select(Enrolment.user_id.label("user_id"), month.label("month"))
            .join(User, User.id == Enrolment.user_id)
            .where(column >= start, column <= end)
        )
        parts.append(_in_scope(part, User.organisation_id, filters))
    both = union_all(*parts).subquery()
    query = select(both.c.month, func.count(distinct(both.c.user_id))).group_by(both.c.month)
    return {m: n for m, n in db_session.execute(query)}


def _events(db_session: Session, filters: Filters, attendance: bool) -> dict[str, int]:
    start, end = filters.since.replace(day=1), filters.until
    in_scope = _in_scope(
        select(event_organisers.c.event_id), event_organisers.c.organisation_id, filters
    )
    month = _month(db_session, Event.starts_on)
    query = select(month, func.count(EventAttendance.id if attendance else Event.id))
    if attendance:
        query = query.select_from(EventAttendance).join(Event)
    query = query.where(Event.starts_on >= start, Event.starts_on <= end, Event.id.in_(in_scope))
    return {m: n for m, n in db_session.execute(query.group_by(month))}


def _pairs(db_session: Session, filters: Filters) -> dict[str, int]:
    result: dict[str, int] = {}
    for pair in cooperation.cooperating_pairs(db_session, filters.until):
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


def monitoring(db_session: Session, filters: Filters) -> list[Series]:
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
        "pairs": _pairs(db_session, filters),
    }
    months = months_between(filters.since, filters.until)
    return [
        Series(key, str(SERIES[key]), [(m, int(counted[key].get(m, 0))) for m in months])
        for key in SERIES
    ]
