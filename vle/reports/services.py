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
  `competencies`: the codes of the course's competencies once it is completed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, Select, and_, case, func, or_, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from vle.accounts.models import Organisation, Role, User
from vle.accounts.services import tree_order
from vle.audit import audit
from vle.catalog.models import Course, Item, Module, course_trainers
from vle.errors import Forbidden, Invalid
from vle.learning.models import Completion, Enrolment, EnrolmentStatus
from vle.quizzes.models import Attempt, AttemptState
from vle.reports import writers

STATUSES: tuple[str, ...] = tuple(EnrolmentStatus)
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_SORT = "-enrolled"
EXPORT_CHUNK = 2000
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def status_label(status: str) -> str:
    """A status in the reader's language."""
    return {
        EnrolmentStatus.NOT_STARTED: _("Not started"),
        EnrolmentStatus.IN_PROGRESS: _("In progress"),
        EnrolmentStatus.COMPLETED: _("Completed"),
    }.get(status, status)


# --- scope and filters -------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a reader may see: an organisation subtree (`organisation_path`), the
    courses one trainer trains (`trainer_id`), or — both None — everything."""

    organisation_path: str | None = None
    trainer_id: int | None = None
    viewer: User | None = field(default=None, compare=False)

    @property
    def is_everything(self) -> bool:
        return self.organisation_path is None and self.trainer_id is None


OPERATOR = Scope()  # the command line: operator-level, sees the whole network


def scope_for(user: Any) -> Scope:
    """The report scope of a signed-in user; Forbidden for learners."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "active", False):
        raise Forbidden(_l("Only administrators and trainers can see reports."))
    if user.role == Role.ADMIN:
        if user.network:
            return Scope(viewer=user)
        return Scope(organisation_path=user.organisation.path, viewer=user)
    if user.role == Role.TRAINER:
        return Scope(trainer_id=user.id, viewer=user)
    raise Forbidden(_l("Only administrators and trainers can see reports."))


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
        start = end = None
        if self.since is not None:
            start = datetime.combine(self.since, time.min, self.tz).astimezone(UTC)
        if self.until is not None:
            end = datetime.combine(self.until + timedelta(days=1), time.min, self.tz)
            end = end.astimezone(UTC)
        return start, end

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


class OutOfScope(Forbidden):
    """A filter names an organisation or course outside the reader's scope."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


class FilterErrors(Invalid):
    """Bad filters, each message keyed by the filter it is about."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def parse_date(value: Any) -> date | None:
    """A filter date from YYYY-MM-DD text (or a date); None when empty. ValueError otherwise."""
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    if not ISO_DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


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
    org = course_obj = None
    if organisation and organisation.strip():
        code = organisation.strip()
        org = db_session.scalar(select(Organisation).where(Organisation.code == code))
        if org is None:
            errors["organisation"] = str(
                _l("There is no organisation with the code “%(code)s”.", code=code[:64])
            )
    if course and course.strip():
        slug = course.strip()
        course_obj = db_session.scalar(select(Course).where(Course.slug == slug))
        if course_obj is None:
            errors["course"] = str(_l("There is no course “%(slug)s”.", slug=slug[:100]))
    dates: dict[str, date | None] = {}
    for name, value in (("since", since), ("until", until)):
        try:
            dates[name] = parse_date(value)
        except ValueError:
            errors[name] = str(
                _l("“%(value)s” is not a date: write it as YYYY-MM-DD.", value=str(value)[:40])
            )
    since_date, until_date = dates.get("since"), dates.get("until")
    if since_date and until_date and until_date < since_date:
        errors["until"] = str(_l("The end of the period is before its start."))
    status = (status or "").strip() or None
    if status is not None and status not in STATUSES:
        errors["status"] = str(
            _l(
                "Unknown status “%(status)s”: choose not_started, in_progress or completed.",
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


def _may_report_on(scope: Scope, org: Organisation) -> bool:
    if scope.viewer is not None and scope.viewer.is_admin:
        return scope.viewer.administers(org)  # the permission answer on the model
    if scope.organisation_path is not None:
        return org.path.startswith(scope.organisation_path)
    return True  # operator; a trainer may narrow their courses to any organisation


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


def _subtree(path: str) -> ColumnElement[bool]:
    return Organisation.path.startswith(path, autoescape=True)


def _members_of(path: str, user_id: Any) -> ColumnElement[bool]:
    """`user_id` belongs to someone in the subtree at `path`. A semi-join rather than a
    join: the database can walk from the (few) organisations to their members'
    rows through the indexes, or check membership while it walks an index in sort
    order — whichever is cheaper."""
    return user_id.in_(
        select(User.id).where(
            User.organisation_id.in_(select(Organisation.id).where(_subtree(path)))
        )
    )


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
    if filters.status is not None:
        conditions.append(Enrolment.status == filters.status)
    return conditions


def _within(column: Any, start: datetime | None, end: datetime | None) -> ColumnElement[bool]:
    parts = []
    if start is not None:
        parts.append(column >= start)
    if end is not None:
        parts.append(column < end)
    return and_(*parts)


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
    plain_times: bool = False,
) -> Select[Any]:
    """The report's rows in `sort` order: all of them, or one page as (limit, offset).
    `plain_times`: the two times as the driver gives them (naive UTC on SQLite, aware
    on PostgreSQL), without the per-value UTCDateTime step — for exports, which
    convert each time once anyway."""
    if page is None:
        conditions = _conditions(filters, scope)
        best = _best_scores()
        best_score: Any = best.c.best
    else:
        conditions = [Enrolment.id.in_(_page_ids(filters, scope, sort, *page))]
        best, best_score = None, _best_score()
    query = (
        select(
            Enrolment.id,
            User.name,
            User.email,
            Organisation.code,
            Organisation.name,
            Course.id,
            Course.slug,
            Course.title,
            Course.language,
            type_coerce(Enrolment.enrolled_at, DateTime())
            if plain_times
            else Enrolment.enrolled_at,
            Enrolment.status,
            Enrolment.progress,
            type_coerce(Enrolment.completed_at, DateTime())
            if plain_times
            else Enrolment.completed_at,
            best_score,
        )
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .join(Course, Course.id == Enrolment.course_id)
    )
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


_COMPLETED = EnrolmentStatus.COMPLETED.value
_NONE: list[str] = []


def _row(raw: Sequence[Any], competencies: dict[int, list[str]]) -> ReportRow:
    # Positional and branch-light: an export runs this a million times.
    (_id, name, email, org_code, org_name, course_id, slug, title, language,
     enrolled_at, status, progress, completed_at, best) = raw  # fmt: skip
    return ReportRow(
        name,
        email,
        org_code,
        org_name,
        slug,
        title,
        language,
        enrolled_at,
        status,
        progress,
        completed_at,
        None if best is None else round(float(best), 2),
        competencies.get(course_id, _NONE) if status == _COMPLETED else _NONE,
    )


def _competencies(db_session: Session, course_ids: set[int] | None = None) -> dict[int, list[str]]:
    """Competency codes of courses (all courses when `course_ids` is None), in one query."""
    query = select(Course.id, Course.competencies)
    if course_ids is not None:
        if not course_ids:
            return {}
        query = query.where(Course.id.in_(course_ids))
    return {
        course_id: [str(code) for code in codes]
        for course_id, codes in db_session.execute(query)
        if codes
    }


@dataclass(frozen=True)
class Totals:
    not_started: int = 0
    in_progress: int = 0
    completed: int = 0

    @property
    def enrolled(self) -> int:
        return self.not_started + self.in_progress + self.completed

    @property
    def completion_rate(self) -> float:
        """Completed / enrolled, 0..1 (0 when nobody is enrolled)."""
        return self.completed / self.enrolled if self.enrolled else 0.0


def completion_totals(db_session: Session, filters: ReportFilters, scope: Scope) -> Totals:
    """How many of the selected enrolments are in each status (one query)."""
    query = (
        select(Enrolment.status, func.count())
        .where(*_conditions(filters, scope))
        .group_by(Enrolment.status)
    )
    counts = dict(db_session.execute(query).all())
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
    """One page of the report with the totals: three queries whatever the page size."""
    sort = parse_sort(sort)
    per_page = per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]
    totals = completion_totals(db_session, filters, scope)
    pages = max(1, math.ceil(totals.enrolled / per_page))
    page = min(max(1, page), pages)
    raw = db_session.execute(
        _rows_query(filters, scope, sort, page=(per_page, (page - 1) * per_page))
    ).all()
    competencies = _competencies(
        db_session, {r[5] for r in raw if r[10] == EnrolmentStatus.COMPLETED}
    )
    rows = [_row(r, competencies) for r in raw]
    return ReportPage(rows=rows, totals=totals, page=page, per_page=per_page, sort=sort)


def iter_completion_rows(
    db_session: Session, filters: ReportFilters, scope: Scope, sort: str = DEFAULT_SORT
) -> Iterator[ReportRow]:
    """Every selected row in the page's order, fetched from the database in chunks
    (a server-side cursor on PostgreSQL), so memory stays flat."""
    competencies = _competencies(db_session)
    # Core, not the ORM: these are plain rows, and a million of them.
    query = _rows_query(filters, scope, sort).execution_options(yield_per=EXPORT_CHUNK)
    for raw in db_session.connection().execute(query):
        yield _row(raw, competencies)


# --- rows for the writers ----------------------------------------------------------------

JSON_KEYS = (
    "learner_name", "email", "organisation_code", "organisation_name", "course",
    "course_title", "enrolled_at", "status", "progress", "completed_at", "best_score",
    "competencies",
)  # fmt: skip


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


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
    ]


SPREADSHEET_WIDTHS = (28, 32, 14, 30, 24, 36, 18, 14, 10, 18, 12, 24)


def spreadsheet_rows(
    rows: Iterator[ReportRow], tz: tzinfo, text_times: bool = False
) -> Iterator[list[Any]]:
    """Rows as cells: status words in the reader's language, times in the reader's
    time zone — date-time values for XLSX, or (`text_times`, for CSV) text such as
    "2025-03-01 14:05:00", which every spreadsheet reads as a date and time. The
    zone is named in the header, not in the cells."""
    labels = {status: status_label(status) for status in STATUSES}
    for row in rows:
        enrolled_at = row.enrolled_at.astimezone(tz)
        completed_at = row.completed_at
        if completed_at is not None:
            completed_at = completed_at.astimezone(tz)
        if text_times:
            enrolled_at = enrolled_at.isoformat(" ", "seconds")[:19]
            if completed_at is not None:
                completed_at = completed_at.isoformat(" ", "seconds")[:19]
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
        ]


EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    # format: (media type, file extension)
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "json": ("application/json", "json"),
}


def export_chunks(
    fmt: str,
    session: Callable[[], Session],
    filters: ReportFilters,
    scope: Scope,
    sort: str,
    tz: tzinfo,
) -> Iterator[bytes]:
    """The report in `fmt` (csv, xlsx or json) as a stream of bytes: the rows the page
    shows for the same filters and sort, all of them. `session` is called when the
    first row is needed, so that a streamed response reads with the session of
    its own streaming context."""
    if fmt == "json":
        return writers.json_chunks(
            json_row(row) for row in _lazy(session, iter_completion_rows, filters, scope, sort)
        )
    if fmt not in ("csv", "xlsx"):
        raise Invalid(_l("Unknown format “%(format)s”: choose csv, xlsx or json.", format=fmt[:20]))
    headers = spreadsheet_headers(tz)
    cells = _export_cells(session, filters, scope, sort, tz, text_times=fmt == "csv")
    if fmt == "xlsx":
        return writers.xlsx_chunks(
            headers, cells, sheet_name=_("Completion report"), widths=SPREADSHEET_WIDTHS
        )
    return writers.csv_chunks(headers, cells)


def _lazy(session: Callable[[], Session], rows: Callable[..., Iterator[Any]], *args: Any) -> Any:
    yield from rows(session(), *args)


def _export_cells(
    session: Callable[[], Session],
    filters: ReportFilters,
    scope: Scope,
    sort: str,
    tz: tzinfo,
    text_times: bool,
) -> Iterator[list[Any]]:
    """The spreadsheet rows, straight from the database rows: the same cells as
    `spreadsheet_rows(iter_completion_rows(...))`, in one pass with no object per
    row in between — a million-row export spends most of its time here."""
    db_session = session()
    competencies = {k: ", ".join(v) for k, v in _competencies(db_session).items()}
    labels = {status: status_label(status) for status in STATUSES}
    completed_status, utc = _COMPLETED, UTC
    query = _rows_query(filters, scope, sort, plain_times=True).execution_options(
        yield_per=EXPORT_CHUNK
    )
    for raw in db_session.connection().execute(query):
        (_id, name, email, org_code, org_name, course_id, slug, title, _language,
         enrolled_at, status, progress, completed_at, best) = raw  # fmt: skip
        if enrolled_at.tzinfo is None:
            enrolled_at = enrolled_at.replace(tzinfo=utc)
        enrolled_at = enrolled_at.astimezone(tz)
        if completed_at is not None:
            if completed_at.tzinfo is None:
                completed_at = completed_at.replace(tzinfo=utc)
            completed_at = completed_at.astimezone(tz)
        if text_times:
            enrolled_at = enrolled_at.isoformat(" ", "seconds")[:19]
            if completed_at is not None:
                completed_at = completed_at.isoformat(" ", "seconds")[:19]
        yield [
            name,
            email,
            org_code,
            org_name,
            slug,
            title,
            enrolled_at,
            labels.get(status, status),
            progress,
            completed_at,
            None if best is None else round(float(best), 2),
            competencies.get(course_id, "") if status == completed_status else "",
        ]


def export_filename(fmt: str, today: date | None = None) -> str:
    today = today or datetime.now(UTC).date()
    return f"completion-report-{today.isoformat()}.{EXPORT_FORMATS[fmt][1]}"


def record_export(
    db_session: Session,
    actor: User | None,
    address: str | None,
    fmt: str,
    filters: ReportFilters,
    scope: Scope,
    sort: str,
    via: str,
) -> None:
    """Note in the audit log who exported the report, with which filters, from where
    (`via`: page, api or cli). The entry belongs to the narrowest organisation the
    export covers, so that the administrators of that subtree can read it; the
    caller commits."""
    organisation_id = None
    if filters.organisation is not None:
        organisation_id = filters.organisation.id
    elif scope.organisation_path is not None and scope.viewer is not None:
        organisation_id = scope.viewer.organisation_id
    args = filters.as_args()
    audit(
        db_session,
        actor,
        "report.export",
        "report",
        None,
        address,
        {"report": "completion", "format": fmt, "via": via, "filters": args, "sort": sort},
        organisation_id=organisation_id,
        label=" ".join(["completion", *(f"{k}={v}" for k, v in args.items())]),
    )


def zone(name: Any) -> tzinfo:
    """A time zone by name (pytz zones from Flask-Babel too), as zoneinfo, whose
    zones give the right offset when combined with a date."""
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


# --- choices for the filter form -----------------------------------------------------------


def organisations_in_scope(db_session: Session, scope: Scope) -> list[tuple[Organisation, int]]:
    """The organisations a reader may filter by, as (organisation, depth) in tree
    order, siblings by name (one query)."""
    query = select(Organisation)
    if scope.organisation_path is not None:
        query = query.where(_subtree(scope.organisation_path))
    orgs = list(db_session.scalars(query))
    return tree_order(orgs)


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


def dashboard(
    db_session: Session,
    scope: Scope,
    organisation: Organisation | None = None,
    months: int = 12,
    top_courses: int = 20,
    now: datetime | None = None,
) -> Dashboard:
    """Completion rate by organisation (the children of `organisation`, or of the
    reader's own organisation, each counting its whole subtree, plus the members
    of that organisation itself), by course (the `top_courses` with the most
    enrolments) and completions per calendar month (UTC) over the last `months`
    months, from the completion history (a recurring course counts each time).
    Four queries, whatever the size of the network."""
    if organisation is None and scope.organisation_path is not None and scope.viewer:
        organisation = scope.viewer.organisation
    conditions = _scope_conditions(scope, organisation)
    completed = func.sum(case((Enrolment.status == EnrolmentStatus.COMPLETED, 1), else_=0))

    per_org = {
        org_id: (enrolled, int(done or 0))
        for org_id, enrolled, done in db_session.execute(
            select(User.organisation_id, func.count(), completed)
            .select_from(Enrolment)
            .join(User, User.id == Enrolment.user_id)
            .where(*conditions)
            .group_by(User.organisation_id)
        )
    }
    orgs = [org for org, _depth in organisations_in_scope(db_session, scope)]
    by_organisation = _roll_up(orgs, per_org, organisation)
    total = RateRow(
        label="",
        code=organisation.code if organisation else "",
        enrolled=sum(n for n, _done in per_org.values()),
        completed=sum(done for _n, done in per_org.values()),
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

    now = now or datetime.now(UTC)
    first_month = _month_start(now, months - 1)
    month = _month_expression(db_session)
    counted = dict(
        db_session.execute(
            select(month, func.count())
            .select_from(Completion)
            .where(Completion.completed_at >= first_month)
            .where(
                *_scope_conditions(scope, organisation, Completion.course_id, Completion.user_id)
            )
            .group_by(month)
        ).all()
    )
    by_month = []
    for back in range(months - 1, -1, -1):
        start = _month_start(now, back)
        by_month.append(MonthCount(start.year, start.month, int(counted.get(f"{start:%Y-%m}", 0))))

    return Dashboard(
        root=organisation,
        total=total,
        by_organisation=by_organisation,
        by_course=by_course[:top_courses],
        courses_total=len(by_course),
        by_month=by_month,
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


def _month_start(now: datetime, months_back: int) -> datetime:
    index = now.year * 12 + now.month - 1 - months_back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _month_expression(db_session: Session) -> Any:
    """ "YYYY-MM" of a completion time (UTC), in the database's own dialect."""
    if db_session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Completion.completed_at), "YYYY-MM")
    return func.strftime("%Y-%m", Completion.completed_at)
