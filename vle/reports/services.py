"""The completion report: one row per (learner, course enrolment), filtered,
sorted, paged and totalled — and the dashboard's figures.

Rules:
- Scope. A network administrator reports on everyone; an administrator scoped
  to an organisation only ever on that organisation's subtree (`path` prefix);
  a trainer only on the courses they train (every learner of those courses, as
  PRODUCT.md lets a course's trainers follow its learners); learners not at all.
  The operator at the command line sees everything. The scope is applied in SQL
  to every query here, whatever the filters say, so no path can widen it.
- Filters: organisation (its subtree), course, period, status. A period
  `since`..`until` (whole days, both included, in the reader's time zone) holds
  an enrolment when the learner *enrolled or completed* in it: "what happened in
  the first quarter" is both who started and who finished then. Each row shows
  both dates, and the status filter narrows to completions when that is the
  question.
- Totals count the rows the filters select (so they always add up to the rows
  downloaded); the completion rate is completed / enrolled.
- `best_score`: the learner's best graded quiz attempt over the course's quizzes;
  `competencies`: what the learner is proficient in now among the competencies
  linked to the course (by the course, a lesson or a quiz of it) — `Proficiency`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any, NamedTuple

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from vle.accounts.models import Organisation, User
from vle.catalog.models import Course, Item, Module, course_trainers
from vle.competencies.models import Competency, CompetencyLink, UserCompetency
from vle.db import utcnow
from vle.errors import Invalid
from vle.inputs import has_control
from vle.learning.models import (
    Completion,
    Enrolment,
    EnrolmentStatus,
    overdue_condition,
)
from vle.learning.services import shown_status_column, shown_status_condition
from vle.quizzes.models import Attempt, AttemptState
from vle.reports import scope as shared
from vle.reports import writers
from vle.reports.scope import iso as _iso
from vle.reports.scope import lazy as _lazy
from vle.reports.scope import local_text as _local_text
from vle.reports.scope import may_report_on as _may_report_on
from vle.reports.scope import members_of as _members_of
from vle.reports.scope import organisation_by_code, parse_period, period_bounds
from vle.reports.scope import within as _within

# Shared with every report (vle.reports.scope); named here too, as they always were.
EXPORT_FORMATS = shared.EXPORT_FORMATS
OPERATOR = shared.OPERATOR
FilterErrors = shared.FilterErrors
OutOfScope = shared.OutOfScope
Scope = shared.Scope
UtcText = shared.UtcText
organisations_in_scope = shared.organisations_in_scope
parse_date = shared.parse_date
record_export = shared.record_export
scope_for = shared.scope_for
zone = shared.zone

STATUSES: tuple[str, ...] = tuple(EnrolmentStatus)
# What the status filter takes: a status, or "overdue" (past the due date of an
# assignment, not completed; whatever the status).
OVERDUE = "overdue"
FILTER_STATUSES: tuple[str, ...] = (*STATUSES, OVERDUE)
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_SORT = "-enrolled"
EXPORT_CHUNK = 2000


def status_label(status: str) -> str:
    """A status in the reader's language."""
    labels: dict[str, str] = {
        EnrolmentStatus.NOT_STARTED: _("Not started"),
        EnrolmentStatus.IN_PROGRESS: _("In progress"),
        EnrolmentStatus.COMPLETED: _("Completed"),
        EnrolmentStatus.EXPIRED: _("Expired"),
        OVERDUE: _("Overdue"),
    }
    return labels.get(status, status)


# --- scope and filters -------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilters:
    organisation: Organisation | None = None
    course: Course | None = None
    since: date | None = None
    until: date | None = None
    status: str | None = None
    tz: tzinfo = UTC

    def period(self) -> tuple[datetime | None, datetime | None]:
        """The period as UTC instants: [start of `since`, start of the day after `until`)."""
        return period_bounds(self.since, self.until, self.tz)

    def today(self) -> date:
        """Today in the reader's time zone: a due date before it is past."""
        return datetime.now(self.tz).date()

    def as_args(self) -> dict[str, str]:
        """The filters as the query-string arguments every face of the report takes."""
        args = {
            "organisation": self.organisation.code if self.organisation else "",
            "course": self.course.slug if self.course else "",
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "status": self.status or "",
        }
        return {k: v for k, v in args.items() if v}


def resolve_filters(
    db_session: Session,
    scope: Scope,
    *,
    organisation: str | None = None,
    course: str | None = None,
    since: Any = None,
    until: Any = None,
    status: str | None = None,
    tz: tzinfo = UTC,
) -> ReportFilters:
    """Filters from what a reader typed: organisation code, course slug, dates
    (YYYY-MM-DD) and status. Unknown names, malformed or reversed dates and
    unknown statuses raise FilterErrors (every problem at once); an organisation
    or course outside the reader's scope raises Forbidden."""
    errors: dict[str, str] = {}
    org = organisation_by_code(db_session, organisation, errors)
    course_obj = None
    if course and course.strip():
        slug = course.strip()
        if not has_control(slug):  # no slug holds one: unknown
            course_obj = db_session.scalar(select(Course).where(Course.slug == slug))
        if course_obj is None:
            errors["course"] = str(_l("There is no course “%(slug)s”.", slug=slug[:100]))
    since_date, until_date = parse_period(since, until, errors)
    status = (status or "").strip() or None
    if status is not None and status not in FILTER_STATUSES:
        errors["status"] = str(
            _l(
                "Unknown status “%(status)s”: choose not_started, in_progress, completed, "
                "expired or overdue.",
                status=status[:40],
            )
        )
    if errors:
        raise FilterErrors(errors)
    if org is not None and not _may_report_on(scope, org):
        raise OutOfScope(
            _l("The organisation “%(code)s” is outside your scope.", code=org.code),
            "organisation",
        )
    if course_obj is not None and not _may_report_on_course(db_session, scope, course_obj):
        raise OutOfScope(
            _l("You do not train the course “%(slug)s”.", slug=course_obj.slug), "course"
        )
    return ReportFilters(
        organisation=org,
        course=course_obj,
        since=since_date,
        until=until_date,
        status=status,
        tz=tz,
    )


def _may_report_on_course(db_session: Session, scope: Scope, course: Course) -> bool:
    if scope.trainer_id is None:
        return True
    return (
        db_session.scalar(
            select(course_trainers.c.course_id).where(
                course_trainers.c.course_id == course.id,
                course_trainers.c.user_id == scope.trainer_id,
            )
        )
        is not None
    )


# --- the query ---------------------------------------------------------------------------


def _scope_conditions(
    scope: Scope,
    organisation: Organisation | None,
    course_id: Any = Enrolment.course_id,
    user_id: Any = Enrolment.user_id,
) -> list[ColumnElement[bool]]:
    """The reader's scope and the organisation filter, on any rows that name a
    learner (`user_id`) and a course (`course_id`)."""
    conditions: list[ColumnElement[bool]] = []
    if scope.organisation_path is not None:
        conditions.append(_members_of(scope.organisation_path, user_id))
    if scope.trainer_id is not None:
        conditions.append(
            course_id.in_(
                select(course_trainers.c.course_id).where(
                    course_trainers.c.user_id == scope.trainer_id
                )
            )
        )
    if organisation is not None and organisation.path != scope.organisation_path:
        conditions.append(_members_of(organisation.path, user_id))
    return conditions


def _conditions(filters: ReportFilters, scope: Scope) -> list[ColumnElement[bool]]:
    """WHERE conditions on enrolments (no join needed)."""
    conditions = _scope_conditions(scope, filters.organisation)
    if filters.course is not None:
        conditions.append(Enrolment.course_id == filters.course.id)
    start, end = filters.period()
    if start is not None or end is not None:
        conditions.append(or_(_within(Enrolment.enrolled_at, start, end),
                              _within(Enrolment.completed_at, start, end)))  # fmt: skip
    if filters.status == OVERDUE:
        conditions.append(overdue_condition(filters.today()))
    elif filters.status is not None:
        # Recurring training: `expired` past its validity, even before the daily task ran.
        conditions.append(shown_status_condition(filters.status, utcnow()))
    return conditions


# The status column: `expired` for a completion past its validity (learning's one rule).
_shown_status = shown_status_column


STATUS_RANK = case(
    (Enrolment.status == EnrolmentStatus.NOT_STARTED, 0),
    (Enrolment.status == EnrolmentStatus.IN_PROGRESS, 1),
    else_=2,
)

SORT_COLUMNS: dict[str, Any] = {
    "learner": User.name,
    "email": User.email,
    "organisation": Organisation.code,
    "course": Course.title,
    "enrolled": Enrolment.enrolled_at,
    "status": STATUS_RANK,
    "progress": Enrolment.progress,
    "completed": Enrolment.completed_at,
}


def parse_sort(value: str | None) -> str:
    """A sort key ("course", "-enrolled"); anything unknown falls back to the default."""
    value = (value or "").strip()
    return value if value.lstrip("-") in SORT_COLUMNS else DEFAULT_SORT


def _order_by(sort: str) -> list[Any]:
    sort = parse_sort(sort)
    descending = sort.startswith("-")
    column = SORT_COLUMNS[sort.lstrip("-")]
    ordered = column.desc() if descending else column.asc()
    if sort.lstrip("-") == "completed":
        ordered = ordered.nulls_last()  # the same on every database: not completed goes last
    # The enrolment id breaks ties, so pages never overlap or skip rows.
    return [ordered, Enrolment.id.desc() if descending else Enrolment.id.asc()]


def _best_score() -> Any:
    """The learner's best graded attempt over the course's quizzes, per row (for a page)."""
    return (
        select(func.max(Attempt.score))
        .join(Item, Item.id == Attempt.item_id)
        .join(Module, Module.id == Item.module_id)
        .where(
            Attempt.user_id == Enrolment.user_id,
            Module.course_id == Enrolment.course_id,
            Attempt.state == AttemptState.GRADED,
        )
        .correlate(Enrolment)
        .scalar_subquery()
    )


def _best_scores() -> Any:
    """Best graded attempt per (learner, course), for all of them at once (for an export,
    where one pass over the attempts beats a lookup per row)."""
    return (
        select(
            Attempt.user_id.label("user_id"),
            Module.course_id.label("course_id"),
            func.max(Attempt.score).label("best"),
        )
        .join(Item, Item.id == Attempt.item_id)
        .join(Module, Module.id == Item.module_id)
        .where(Attempt.state == AttemptState.GRADED)
        .group_by(Attempt.user_id, Module.course_id)
        .subquery("best_scores")
    )


def _needs_joins(sort: str) -> tuple[bool, bool, bool]:
    """Which of users, organisations and courses the sort needs joined."""
    key = sort.lstrip("-")
    return key in ("learner", "email", "organisation"), key == "organisation", key == "course"


def _page_ids(filters: ReportFilters, scope: Scope, sort: str, limit: int, offset: int) -> Any:
    """The enrolment ids of one page: sorted and cut on the enrolments table alone (and
    only the joins the filters or sort need), so that an index can serve the order."""
    conditions = _conditions(filters, scope)
    user, organisation, course = _needs_joins(sort)
    query = select(Enrolment.id).select_from(Enrolment)
    if user:
        query = query.join(User, User.id == Enrolment.user_id)
    if organisation:
        query = query.join(Organisation, Organisation.id == User.organisation_id)
    if course:
        query = query.join(Course, Course.id == Enrolment.course_id)
    return query.where(*conditions).order_by(*_order_by(sort)).limit(limit).offset(offset)


def _rows_query(
    filters: ReportFilters,
    scope: Scope,
    sort: str,
    page: tuple[int, int] | None = None,
    utc_text: bool = False,
) -> Select[Any]:
    """The report's rows in `sort` order: all of them, or one page as (limit, offset).

    Each row: enrolment id, learner name, email, organisation id, course id, enrolled
    at, status, progress, completed at, best score, due date, overdue (1 or 0), expires at
    (recurring training). The organisation's and the
    course's own columns are looked up once per organisation and course (a few
    hundred of them), not joined to each of a million rows; they are joined only
    when the sort needs them. `utc_text`: the two times as UTC text ("YYYY-MM-DD
    HH:MM:SS") made by the database, for the CSV export, which writes them as text."""
    if page is None:
        conditions = _conditions(filters, scope)
        best = _best_scores()
        best_score: Any = best.c.best
    else:
        conditions = [Enrolment.id.in_(_page_ids(filters, scope, sort, *page))]
        best, best_score = None, _best_score()
    times: tuple[Any, Any, Any] = (
        Enrolment.enrolled_at,
        Enrolment.completed_at,
        Enrolment.expires_at,
    )
    if utc_text:
        times = (
            UtcText(Enrolment.enrolled_at),
            UtcText(Enrolment.completed_at),
            UtcText(Enrolment.expires_at),
        )
    query = select(
        Enrolment.id,
        User.name,
        User.email,
        User.organisation_id,
        Enrolment.course_id,
        times[0],
        _shown_status(utcnow()),
        Enrolment.progress,
        times[1],
        best_score,
        # The CSV writes the day as the database has it: no date object per row.
        cast(Enrolment.due, String) if utc_text else Enrolment.due,
        case((overdue_condition(filters.today()), 1), else_=0),
        times[2],
        Enrolment.user_id,  # for the learner's proficient competencies (`Proficiency`)
    ).select_from(Enrolment)
    _user, organisation, course = _needs_joins(sort)
    query = query.join(User, User.id == Enrolment.user_id)
    if organisation:
        query = query.join(Organisation, Organisation.id == User.organisation_id)
    if course:
        query = query.join(Course, Course.id == Enrolment.course_id)
    if best is not None:
        query = query.outerjoin(
            best, and_(best.c.user_id == Enrolment.user_id, best.c.course_id == Enrolment.course_id)
        )
    return query.where(*conditions).order_by(*_order_by(sort))


class ReportRow(NamedTuple):
    learner_name: str
    email: str
    organisation_code: str
    organisation_name: str
    course: str
    course_title: str
    course_language: str
    enrolled_at: datetime
    status: str
    progress: int
    completed_at: datetime | None
    best_score: float | None
    competencies: list[str]
    due: date | None = None
    overdue: bool = False
    expires_at: datetime | None = None


_NONE: list[str] = []


class CourseColumns(NamedTuple):
    slug: str
    title: str
    language: str


def _row(
    raw: Sequence[Any],
    organisations: dict[int, tuple[str, str]],
    courses: dict[int, CourseColumns],
    proficient: dict[tuple[int, int], list[str]],
) -> ReportRow:
    (_id, name, email, organisation_id, course_id, enrolled_at, status, progress,
     completed_at, best, due, overdue, expires_at, user_id) = raw  # fmt: skip
    code, organisation_name = organisations[organisation_id]
    course = courses[course_id]
    return ReportRow(
        name,
        email,
        code,
        organisation_name,
        course.slug,
        course.title,
        course.language,
        enrolled_at,
        status,
        progress,
        completed_at,
        None if best is None else round(float(best), 2),
        proficient.get((user_id, course_id), _NONE),
        due,
        overdue == 1,
        expires_at,
    )


def _organisations(db_session: Session, ids: set[int] | None = None) -> dict[int, tuple[str, str]]:
    """(code, name) of organisations by id (all of them when `ids` is None), in one query."""
    query = select(Organisation.id, Organisation.code, Organisation.name)
    if ids is not None:
        query = query.where(Organisation.id.in_(ids))
    return {org_id: (code, name) for org_id, code, name in db_session.execute(query)}


def _courses(db_session: Session, ids: set[int] | None = None) -> dict[int, CourseColumns]:
    """The report's columns of courses by id (all of them when `ids` is None), in one
    query."""
    query = select(Course.id, Course.slug, Course.title, Course.language)
    if ids is not None:
        query = query.where(Course.id.in_(ids))
    return {
        course_id: CourseColumns(slug, title, language)
        for course_id, slug, title, language in db_session.execute(query)
    }


@dataclass(frozen=True)
class Totals:
    not_started: int = 0
    in_progress: int = 0
    completed: int = 0
    expired: int = 0  # recurring training: started over, not started again yet

    @property
    def enrolled(self) -> int:
        return self.not_started + self.in_progress + self.completed + self.expired

    @property
    def completion_rate(self) -> float:
        """Completed / enrolled, 0..1 (0 when nobody is enrolled)."""
        return self.completed / self.enrolled if self.enrolled else 0.0


def completion_totals(db_session: Session, filters: ReportFilters, scope: Scope) -> Totals:
    """How many of the selected enrolments are in each status (one query)."""
    shown = _shown_status(utcnow())
    query = select(shown, func.count()).where(*_conditions(filters, scope)).group_by(shown)
    counts: dict[str, int] = {status: n for status, n in db_session.execute(query)}
    return Totals(**{status: counts.get(status, 0) for status in STATUSES})


@dataclass(frozen=True)
class ReportPage:
    rows: list[ReportRow]
    totals: Totals
    page: int
    per_page: int
    sort: str

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.totals.enrolled / self.per_page))

    @property
    def first(self) -> int:
        """Number of the first row shown (1-based; 0 when there are none)."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def completion_page(
    db_session: Session,
    filters: ReportFilters,
    scope: Scope,
    sort: str = DEFAULT_SORT,
    page: int = 1,
    per_page: int = PAGE_SIZES[0],
) -> ReportPage:
    """One page of the report with the totals: four queries whatever the page size
    (the totals, the rows, their organisations, their courses)."""
    sort = parse_sort(sort)
    per_page = per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]
    totals = completion_totals(db_session, filters, scope)
    pages = max(1, math.ceil(totals.enrolled / per_page))
    page = min(max(1, page), pages)
    raw = db_session.execute(
        _rows_query(filters, scope, sort, page=(per_page, (page - 1) * per_page))
    ).all()
    rows = []
    if raw:
        organisations = _organisations(db_session, {r[3] for r in raw})
        courses = _courses(db_session, {r[4] for r in raw})
        proficient = Proficiency(db_session).of(db_session, raw)
        rows = [_row(r, organisations, courses, proficient) for r in raw]
    return ReportPage(rows=rows, totals=totals, page=page, per_page=per_page, sort=sort)


def iter_completion_rows(
    db_session: Session, filters: ReportFilters, scope: Scope, sort: str = DEFAULT_SORT
) -> Iterator[ReportRow]:
    """Every selected row in the page's order, fetched from the database in chunks
    (a server-side cursor on PostgreSQL), so memory stays flat."""
    organisations, courses = _organisations(db_session), _courses(db_session)
    proficiency = Proficiency(db_session)
    # Core, not the ORM: these are plain rows, and a million of them.
    query = _rows_query(filters, scope, sort).execution_options(yield_per=EXPORT_CHUNK)
    for raw_rows in db_session.connection().execute(query).partitions():
        proficient = proficiency.of(db_session, raw_rows)
        for raw in raw_rows:
            yield _row(raw, organisations, courses, proficient)


class Proficiency:
    """The completion report's `competencies` column: the competencies linked to the
    course (by the course itself, a lesson or a quiz of it) that the learner is
    proficient in now — whatever the enrolment's status, since a learner may be
    proficient by another course or a trainer's rating. The links are read once;
    the learners' proficient ratings a chunk of rows at a time (one query per chunk,
    through the ratings' (learner, competency) index), never a query per row."""

    def __init__(self, db_session: Session):
        self.courses: dict[int, list[int]] = {}  # competency id → linked course ids
        self.codes: dict[int, str] = {}
        order: dict[int, tuple[Any, ...]] = {}
        for course_id, competency_id, code, framework_id, position in db_session.execute(
            select(CompetencyLink.course_id, Competency.id, Competency.code,
                   Competency.framework_id, Competency.position)
            .join(Competency, Competency.id == CompetencyLink.competency_id)
            .distinct()
        ):  # fmt: skip
            self.courses.setdefault(competency_id, []).append(course_id)
            self.codes[competency_id] = code
            order[competency_id] = (framework_id, position, code)
        self.order = order

    def of(self, db_session: Session, raw_rows: Sequence[Any]) -> dict[tuple[int, int], list[str]]:
        """(learner id, course id) → codes, in each framework's tree order, for the
        rows (the learner id last, the course id fifth in each)."""
        if not self.courses or not raw_rows:
            return {}
        wanted = {(raw[-1], raw[4]) for raw in raw_rows}
        found: dict[tuple[int, int], list[int]] = {}
        for user_id, competency_id in db_session.connection().execute(
            select(UserCompetency.user_id, UserCompetency.competency_id).where(
                UserCompetency.user_id.in_({user_id for user_id, _course in wanted}),
                UserCompetency.proficient.is_(True),
                UserCompetency.competency_id.in_(select(CompetencyLink.competency_id)),
            )
        ):
            for course_id in self.courses.get(competency_id, ()):
                if (user_id, course_id) in wanted:
                    found.setdefault((user_id, course_id), []).append(competency_id)
        return {
            pair: [self.codes[c] for c in sorted(ids, key=self.order.__getitem__)]
            for pair, ids in found.items()
        }


# --- rows for the writers ----------------------------------------------------------------

JSON_KEYS = (
    "learner_name", "email", "organisation_code", "organisation_name", "course",
    "course_title", "enrolled_at", "status", "progress", "completed_at", "best_score",
    "competencies", "due", "overdue", "expires_at",
)  # fmt: skip


def json_row(row: ReportRow) -> dict[str, Any]:
    """A row as the API and the JSON download give it: fixed English keys,
    status codes, ISO 8601 UTC times."""
    return {
        "learner_name": row.learner_name,
        "email": row.email,
        "organisation_code": row.organisation_code,
        "organisation_name": row.organisation_name,
        "course": row.course,
        "course_title": row.course_title,
        "enrolled_at": _iso(row.enrolled_at),
        "status": row.status,
        "progress": row.progress,
        "completed_at": _iso(row.completed_at),
        "best_score": row.best_score,
        "competencies": row.competencies,
        "due": row.due.isoformat() if row.due else None,
        "overdue": row.overdue,
        "expires_at": _iso(row.expires_at),
    }


def spreadsheet_headers(tz: tzinfo) -> list[str]:
    """Column headers for CSV and XLSX, in the reader's language; the time
    columns say which time zone they are in."""
    zone = str(tz)
    return [
        _("Learner"),
        _("Email"),
        _("Organisation code"),
        _("Organisation"),
        _("Course"),
        _("Course title"),
        _("Enrolled at (%(zone)s)", zone=zone),
        _("Status"),
        _("Progress %"),
        _("Completed at (%(zone)s)", zone=zone),
        _("Best quiz score %"),
        _("Competencies"),
        _("Due date"),
        _("Overdue"),
        _("Expires at (%(zone)s)", zone=zone),
    ]


SPREADSHEET_WIDTHS = (28, 32, 14, 30, 24, 36, 18, 14, 10, 18, 12, 24, 12, 10, 18)


def overdue_word(overdue: bool) -> str:
    """The overdue column's cell in the reader's language ("" when not overdue)."""
    return _("yes") if overdue else ""


def spreadsheet_rows(
    rows: Iterator[ReportRow], tz: tzinfo, text_times: bool = False
) -> Iterator[list[Any]]:
    """Rows as cells: status words in the reader's language, times in the reader's
    time zone — date-time values for XLSX, or (`text_times`, for CSV) text such as
    "2025-03-01 14:05:00", which every spreadsheet reads as a date and time. The
    zone is named in the header, not in the cells."""
    labels = {status: status_label(status) for status in STATUSES}
    late = overdue_word(True)
    for row in rows:
        # Date-times, or their text for CSV.
        enrolled_at: datetime | str
        completed_at: datetime | str | None
        expires_at: datetime | str | None
        enrolled_at = row.enrolled_at.astimezone(tz)
        completed_at = row.completed_at
        if completed_at is not None:
            completed_at = completed_at.astimezone(tz)
        expires_at = row.expires_at
        if expires_at is not None:
            expires_at = expires_at.astimezone(tz)
        if text_times:
            enrolled_at = enrolled_at.isoformat(" ", "seconds")[:19]
            if completed_at is not None:
                completed_at = completed_at.isoformat(" ", "seconds")[:19]
            if expires_at is not None:
                expires_at = expires_at.isoformat(" ", "seconds")[:19]
        yield [
            row.learner_name,
            row.email,
            row.organisation_code,
            row.organisation_name,
            row.course,
            row.course_title,
            enrolled_at,
            labels.get(row.status, row.status),
            row.progress,
            completed_at,
            row.best_score,
            ", ".join(row.competencies),
            (row.due.isoformat() if row.due else None) if text_times else row.due,
            late if row.overdue else "",
            expires_at,
        ]


def export_chunks(
    fmt: str,
    session: Callable[[], Session],
    filters: ReportFilters,
    scope: Scope,
    sort: str,
    tz: tzinfo,
) -> Iterator[bytes]:
    """The report in `fmt` (csv, csv-excel, xlsx or json) as a stream of bytes: the rows the page
    shows for the same filters and sort, all of them. `session` is called when the
    first row is needed, so that a streamed response reads with the session of
    its own streaming context."""
    if fmt == "json":
        return writers.json_chunks(
            json_row(row) for row in _lazy(session, iter_completion_rows, filters, scope, sort)
        )
    if fmt not in EXPORT_FORMATS:
        raise Invalid(_l("Unknown format “%(format)s”: choose csv, xlsx or json.", format=fmt[:20]))
    headers = spreadsheet_headers(tz)
    if fmt == "xlsx":
        return writers.xlsx_chunks(
            headers,
            spreadsheet_rows(_lazy(session, iter_completion_rows, filters, scope, sort), tz),
            sheet_name=_("Completion report"),
            widths=SPREADSHEET_WIDTHS,
        )
    flavour = writers.flavour_for(fmt, get_locale())
    return writers.csv_batches(
        headers, _csv_batches(session, filters, scope, sort, tz, flavour), flavour
    )


def _csv_batches(
    session: Callable[[], Session],
    filters: ReportFilters,
    scope: Scope,
    sort: str,
    tz: tzinfo,
    flavour: writers.CsvFlavour = writers.PLAIN,
) -> Iterator[list[tuple[str, ...]]]:
    """The CSV export's fields, a batch of rows at a time, straight from the database
    rows: what `writers.csv_chunks` makes of
    `spreadsheet_rows(iter_completion_rows(...), tz, text_times=True)` (a test holds
    the two files byte for byte equal), with as little work per row as can be — a
    million-row export spends most of its time here. The fields of each organisation
    and course, the status words and the competencies are made once each; per row,
    only the learner's name and email are looked at, and the times come as UTC text
    from the database, moved into the reader's zone an hour at a time."""
    db_session = session()
    field = flavour.field
    organisations = {
        org_id: (field(code), field(name))
        for org_id, (code, name) in _organisations(db_session).items()
    }
    courses = {
        course_id: (field(course.slug), field(course.title))
        for course_id, course in _courses(db_session).items()
    }
    labels = {status: field(status_label(status)) for status in STATUSES}
    local = _local_text(tz)
    late = field(overdue_word(True))
    query = _rows_query(filters, scope, sort, utc_text=True).execution_options(
        yield_per=EXPORT_CHUNK
    )
    proficiency = Proficiency(db_session)
    for raw_rows in db_session.connection().execute(query).partitions():
        batch: list[tuple[str, ...]] = []
        append = batch.append
        proficient = proficiency.of(db_session, raw_rows)
        for (_id, name, email, organisation_id, course_id, enrolled_at, status, progress,
             completed_at, best, due, overdue, expires_at, user_id) in raw_rows:  # fmt: skip
            code, organisation_name = organisations[organisation_id]
            slug, title = courses[course_id]
            codes = proficient.get((user_id, course_id)) if proficient else None
            if local is not None:
                enrolled_at = local(enrolled_at)
                if completed_at is not None:
                    completed_at = local(completed_at)
                if expires_at is not None:
                    expires_at = local(expires_at)
            append(
                (
                    field(name),
                    field(email),
                    code,
                    organisation_name,
                    slug,
                    title,
                    enrolled_at,  # digits, "-", ":" and a space: nothing to neutralise or quote
                    labels.get(status) or field(status),
                    str(progress),
                    completed_at or "",
                    "" if best is None else flavour.number(repr(round(float(best), 2))),
                    field(", ".join(codes)) if codes else "",
                    due or "",  # "YYYY-MM-DD" text
                    late if overdue == 1 else "",
                    expires_at or "",
                )
            )
        yield batch


def export_filename(
    fmt: str, filters: ReportFilters | None = None, today: date | None = None
) -> str:
    """A name such as "completion-lpt-ethics-2026-01-01_2026-06-30-completed.csv"."""
    return shared.export_filename("completion", fmt, filters, today)


def courses_in_scope(db_session: Session, scope: Scope) -> list[Course]:
    """The courses a reader may filter by, by title (one query): a trainer's own
    courses; every course for administrators."""
    query = select(Course).order_by(Course.title, Course.slug)
    if scope.trainer_id is not None:
        query = query.join(course_trainers, course_trainers.c.course_id == Course.id).where(
            course_trainers.c.user_id == scope.trainer_id
        )
    return list(db_session.scalars(query))


# --- the dashboard -----------------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    """Enrolments and completions of one organisation subtree or one course."""

    label: str
    code: str
    enrolled: int
    completed: int
    has_children: bool = False
    own_members_only: bool = False
    language: str | None = None
    overdue: int = 0  # past an assignment's due date, not completed
    expired: int = 0  # recurring training: a completion past its validity

    @property
    def rate(self) -> float:
        return self.completed / self.enrolled if self.enrolled else 0.0


@dataclass(frozen=True)
class MonthCount:
    year: int
    month: int
    completions: int

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)


@dataclass(frozen=True)
class Dashboard:
    root: Organisation | None
    total: RateRow
    by_organisation: list[RateRow]
    by_course: list[RateRow]
    courses_total: int
    by_month: list[MonthCount]
    zone: str = "UTC"  # the time zone whose months `by_month` counts


def dashboard(
    db_session: Session,
    scope: Scope,
    organisation: Organisation | None = None,
    months: int = 12,
    top_courses: int = 20,
    now: datetime | None = None,
    tz: tzinfo = UTC,
) -> Dashboard:
    """Completion rate by organisation (the children of `organisation`, or of the
    reader's own organisation, each counting its whole subtree, plus the members
    of that organisation itself), by course (the `top_courses` with the most
    enrolments) and completions per calendar month over the last `months`
    months — months of the reader's time zone `tz`, from local midnight on the first,
    as every other date vle shows — from the completion history (a recurring course counts each time).
    The total counts the overdue too. Four queries, whatever the size of the network."""
    if organisation is None and scope.organisation_path is not None and scope.viewer:
        organisation = scope.viewer.organisation
    conditions = _scope_conditions(scope, organisation)
    now = now or datetime.now(UTC)
    # A completion past its validity counts as expired at once, not completed.
    completed = func.sum(case((shown_status_condition(EnrolmentStatus.COMPLETED, now), 1), else_=0))
    n_expired = func.sum(case((shown_status_condition(EnrolmentStatus.EXPIRED, now), 1), else_=0))
    late = func.sum(case((overdue_condition(now.date()), 1), else_=0))

    per_org: dict[int, tuple[int, int]] = {}
    overdue = expired = 0
    for org_id, enrolled, done, n_late, n_gone in db_session.execute(
        select(User.organisation_id, func.count(), completed, late, n_expired)
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .where(*conditions)
        .group_by(User.organisation_id)
    ):
        per_org[org_id] = (enrolled, int(done or 0))
        overdue += int(n_late or 0)
        expired += int(n_gone or 0)
    orgs = [org for org, _depth in organisations_in_scope(db_session, scope)]
    by_organisation = _roll_up(orgs, per_org, organisation)
    total = RateRow(
        label="",
        code=organisation.code if organisation else "",
        enrolled=sum(n for n, _done in per_org.values()),
        completed=sum(done for _n, done in per_org.values()),
        overdue=overdue,
        expired=expired,
    )

    course_query = (
        select(Course.title, Course.slug, Course.language, func.count(), completed)
        .select_from(Enrolment)
        .join(Course, Course.id == Enrolment.course_id)
        .group_by(Course.id, Course.title, Course.slug, Course.language)
    )
    by_course = sorted(
        (
            RateRow(label=title, code=slug, language=language, enrolled=n,
                    completed=int(done or 0))
            for title, slug, language, n, done in db_session.execute(
                course_query.where(*conditions)
            )
        ),
        key=lambda r: (-r.enrolled, r.label.casefold()),
    )  # fmt: skip

    starts = [_month_start(now, back, tz) for back in range(months - 1, -1, -1)]
    # Each completion's month by comparison with the months' first instants (the
    # latest first), the same SQL on every database and in any time zone.
    month = case(
        *((Completion.completed_at >= starts[i], i) for i in range(months - 1, -1, -1)),
        else_=-1,
    )
    counted: dict[int, int] = dict(
        db_session.execute(
            select(month, func.count())
            .select_from(Completion)
            .where(Completion.completed_at >= starts[0])
            .where(
                *_scope_conditions(scope, organisation, Completion.course_id, Completion.user_id)
            )
            .group_by(month)
        ).all()
    )
    by_month = [
        MonthCount(start.year, start.month, int(counted.get(i, 0)))
        for i, start in enumerate(starts)
    ]

    return Dashboard(
        root=organisation,
        total=total,
        by_organisation=by_organisation,
        by_course=by_course[:top_courses],
        courses_total=len(by_course),
        by_month=by_month,
        zone=str(tz),
    )


def _roll_up(
    orgs: list[Organisation],
    per_org: dict[int, tuple[int, int]],
    root: Organisation | None,
) -> list[RateRow]:
    """One row per child of `root` (or per top organisation in view), counting its
    whole subtree, plus a row for the members of `root` itself."""
    ids = {org.id for org in orgs}
    if root is not None:
        level = [org for org in orgs if org.parent_id == root.id]
    else:
        level = [org for org in orgs if org.parent_id not in ids]
    has_children = {org.parent_id for org in orgs}
    rows = []
    for top in level:
        enrolled = completed = 0
        for org in orgs:
            if org.path.startswith(top.path):
                n, done = per_org.get(org.id, (0, 0))
                enrolled, completed = enrolled + n, completed + done
        rows.append(
            RateRow(label=top.name, code=top.code, enrolled=enrolled, completed=completed,
                    has_children=top.id in has_children)
        )  # fmt: skip
    rows.sort(key=lambda r: r.label.casefold())
    if root is not None:
        n, done = per_org.get(root.id, (0, 0))
        if n:
            rows.insert(
                0,
                RateRow(label=_("%(name)s (its own staff)", name=root.name), code=root.code,
                        enrolled=n, completed=done, own_members_only=True),
            )  # fmt: skip
    return rows


def _month_start(now: datetime, months_back: int, tz: tzinfo) -> datetime:
    """Midnight on the first of the month `months_back` before `now`'s, in `tz`."""
    local = now.astimezone(tz)
    index = local.year * 12 + local.month - 1 - months_back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=tz)
