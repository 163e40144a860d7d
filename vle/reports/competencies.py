"""The competency report: one row per (learner, competency) the learner has a
standing in — their stored rating (`UserCompetency`), with its learner,
organisation, competency and framework.

Rules (the completion report's, through `vle.reports.scope`, where they are shared):
- Rows: a learner's standing in a competency that rests on evidence (a rating, or
  evidence logged without one). A self-assessment alone makes no row: it is never
  a rating. Erased accounts' rows stay, as in the completion report.
- Scope. A network administrator reports on everyone; an administrator scoped to an
  organisation only on the people of that subtree; a trainer only on the learners
  enrolled in a course they train, and only in the frameworks linked to those
  courses (a course, lesson or quiz of theirs links one of the framework's
  competencies) — the frameworks a learner's profile shows their trainer, parents
  rated by a rule included; learners not at all. The operator at the command line
  sees everything. Applied in SQL to every query, whatever the filters say.
- Filters: organisation (its subtree), framework, competency, rating (a value of
  the scale, or `proficient` / `not_proficient`), period: rated on `since`..`until`
  (whole days, both included, in the reader's time zone — a standing with evidence
  but no rating has no rating time and falls outside any period).
- A download holds exactly the rows of the screen for the same filters and sort,
  every page, streamed; CSV with a BOM, formula-like text neutralised, headers and
  words in the reader's language; JSON `{"rows": [...], "total": N}`.
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
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from vle.accounts.models import Organisation, User
from vle.catalog.models import course_trainers
from vle.competencies.models import Competency, CompetencyLink, Framework, UserCompetency
from vle.errors import Invalid
from vle.inputs import has_control
from vle.learning.models import Enrolment
from vle.reports import scope as shared
from vle.reports import writers
from vle.reports.scope import (
    EXPORT_FORMATS,
    FilterErrors,
    OutOfScope,
    Scope,
    UtcText,
    iso,
    lazy,
    local_text,
    may_report_on,
    members_of,
    organisation_by_code,
    parse_period,
    period_bounds,
    within,
)

PROFICIENT = "proficient"
NOT_PROFICIENT = "not_proficient"
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_SORT = "learner"
EXPORT_CHUNK = 2000


# --- filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompetencyFilters:
    organisation: Organisation | None = None
    framework: Framework | None = None
    competency: Competency | None = None
    rating: str | None = None
    since: date | None = None
    until: date | None = None
    tz: tzinfo = UTC

    def period(self) -> tuple[datetime | None, datetime | None]:
        return period_bounds(self.since, self.until, self.tz)

    def as_args(self) -> dict[str, str]:
        """The filters as the query-string arguments every face of the report takes."""
        args = {
            "organisation": self.organisation.code if self.organisation else "",
            "framework": self.framework.code if self.framework else "",
            "competency": self.competency.code if self.competency else "",
            "rating": self.rating or "",
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {k: v for k, v in args.items() if v}


def _by_code(db_session: Session, model: Any, code: str | None) -> tuple[Any, str | None]:
    """(the row with this code or None, the code as typed — None when empty)."""
    if not code or not code.strip():
        return None, None
    code = code.strip()
    if has_control(code):  # no code holds one: unknown
        return None, code
    return db_session.scalar(select(model).where(model.code == code)), code


def resolve_filters(
    db_session: Session,
    scope: Scope,
    *,
    organisation: str | None = None,
    framework: str | None = None,
    competency: str | None = None,
    rating: str | None = None,
    since: Any = None,
    until: Any = None,
    tz: tzinfo = UTC,
) -> CompetencyFilters:
    """Filters from what a reader typed: organisation, framework and competency
    codes, a rating, dates (YYYY-MM-DD). Unknown codes, a competency of another
    framework than the one named, a rating on no scale, malformed or reversed dates
    raise FilterErrors (every problem at once); an organisation outside the
    reader's scope, or a framework (or a competency of one) outside a trainer's
    courses, raises OutOfScope."""
    errors: dict[str, str] = {}
    org = organisation_by_code(db_session, organisation, errors)
    framework_obj, framework_code = _by_code(db_session, Framework, framework)
    if framework_code is not None and framework_obj is None:
        errors["framework"] = str(
            _l("There is no competency framework with the code “%(code)s”.",
               code=framework_code[:100])
        )  # fmt: skip
    competency_obj, competency_code = _by_code(db_session, Competency, competency)
    if competency_code is not None and competency_obj is None:
        errors["competency"] = str(
            _l("There is no competency with the code “%(code)s”.", code=competency_code[:100])
        )
    elif (
        competency_obj is not None
        and framework_obj is not None
        and competency_obj.framework_id != framework_obj.id
    ):
        errors["competency"] = str(
            _l("The competency “%(code)s” is not in the framework “%(framework)s”.",
               code=competency_obj.code, framework=framework_obj.code)
        )  # fmt: skip
    rating = (rating or "").strip() or None
    if rating is not None and rating not in rating_choices(db_session, framework_obj):
        errors["rating"] = str(
            _l("Unknown rating “%(rating)s”: choose proficient, not_proficient or a value of "
               "the scale.", rating=rating[:100])
        )  # fmt: skip
    since_date, until_date = parse_period(since, until, errors)
    if errors:
        raise FilterErrors(errors)
    if org is not None and not may_report_on(scope, org):
        raise OutOfScope(
            _l("The organisation “%(code)s” is outside your scope.", code=org.code),
            "organisation",
        )
    if scope.trainer_id is not None:
        linked = set(db_session.scalars(_trainer_frameworks(scope.trainer_id)))
        if framework_obj is not None and framework_obj.id not in linked:
            raise OutOfScope(
                _l("None of the courses you train is linked to the framework “%(code)s”.",
                   code=framework_obj.code),
                "framework",
            )  # fmt: skip
        if competency_obj is not None and competency_obj.framework_id not in linked:
            raise OutOfScope(
                _l("None of the courses you train is linked to the framework of “%(code)s”.",
                   code=competency_obj.code),
                "competency",
            )  # fmt: skip
    return CompetencyFilters(
        organisation=org,
        framework=framework_obj,
        competency=competency_obj,
        rating=rating,
        since=since_date,
        until=until_date,
        tz=tz,
    )


def rating_choices(db_session: Session, framework: Framework | None = None) -> list[str]:
    """What the rating filter takes: proficient, not_proficient, then the values of
    the framework's scale (of every framework's, when none is named), each once."""
    choices = [PROFICIENT, NOT_PROFICIENT]
    query = select(Framework.scale).order_by(Framework.title, Framework.id)
    if framework is not None:
        query = query.where(Framework.id == framework.id)
    for scale in db_session.scalars(query):
        for value in scale or ():
            if str(value) not in choices:
                choices.append(str(value))
    return choices


def rating_label(value: str) -> str:
    """A rating filter's choice in the reader's language (scale values are data)."""
    if value == PROFICIENT:
        return _("Proficient")
    if value == NOT_PROFICIENT:
        return _("Not proficient")
    return value


# --- the query -----------------------------------------------------------------------------


def _trainer_frameworks(trainer_id: int) -> Select[Any]:
    """The frameworks linked (by a course, lesson or quiz) to a course the trainer trains."""
    return (
        select(Competency.framework_id)
        .join(CompetencyLink, CompetencyLink.competency_id == Competency.id)
        .where(
            CompetencyLink.course_id.in_(
                select(course_trainers.c.course_id).where(course_trainers.c.user_id == trainer_id)
            )
        )
        .distinct()
    )


def _learner_conditions(
    filters: CompetencyFilters, scope: Scope, user_id: Any
) -> list[ColumnElement[bool]]:
    """The conditions on who the learner is (scope and organisation filter), on any
    column holding a user id."""
    conditions: list[ColumnElement[bool]] = []
    if scope.organisation_path is not None:
        conditions.append(members_of(scope.organisation_path, user_id))
    if scope.trainer_id is not None:
        conditions.append(
            user_id.in_(
                select(Enrolment.user_id).where(
                    Enrolment.course_id.in_(
                        select(course_trainers.c.course_id).where(
                            course_trainers.c.user_id == scope.trainer_id
                        )
                    )
                )
            )
        )
    org = filters.organisation
    if org is not None and org.path != scope.organisation_path:
        conditions.append(members_of(org.path, user_id))
    return conditions


def _conditions(filters: CompetencyFilters, scope: Scope) -> list[ColumnElement[bool]]:
    """WHERE conditions on user_competencies (no join needed)."""
    return [
        *_standing_conditions(filters, scope),
        *_learner_conditions(filters, scope, UserCompetency.user_id),
    ]


def _standing_conditions(filters: CompetencyFilters, scope: Scope) -> list[ColumnElement[bool]]:
    """The conditions on the standing itself: what makes a row, a trainer's frameworks,
    the competency, framework, rating and period filters."""
    uc = UserCompetency
    conditions: list[ColumnElement[bool]] = [or_(uc.rating.is_not(None), uc.evidence_count > 0)]
    if scope.trainer_id is not None:
        conditions.append(
            uc.competency_id.in_(
                select(Competency.id).where(
                    Competency.framework_id.in_(_trainer_frameworks(scope.trainer_id))
                )
            )
        )
    if filters.competency is not None:
        conditions.append(uc.competency_id == filters.competency.id)
    elif filters.framework is not None:
        conditions.append(
            uc.competency_id.in_(
                select(Competency.id).where(Competency.framework_id == filters.framework.id)
            )
        )
    if filters.rating == PROFICIENT:
        conditions.append(uc.proficient.is_(True))
    elif filters.rating == NOT_PROFICIENT:
        conditions.append(uc.proficient.is_(False))
    elif filters.rating is not None:
        conditions.append(uc.rating == filters.rating)
    start, end = filters.period()
    if start is not None or end is not None:
        conditions.append(within(uc.rated_at, start, end))
    return conditions


SORT_COLUMNS: dict[str, Any] = {
    "learner": User.name,
    "email": User.email,
    "organisation": Organisation.code,
    "framework": Framework.code,
    "competency": Competency.code,
    "rating": UserCompetency.rating,
    "proficient": UserCompetency.proficient,
    "rated": UserCompetency.rated_at,
    "evidence": UserCompetency.evidence_count,
}


def parse_sort(value: str | None) -> str:
    """A sort key ("competency", "-rated"); anything unknown falls back to the default."""
    value = (value or "").strip()
    return value if value.lstrip("-") in SORT_COLUMNS else DEFAULT_SORT


def _order_by(sort: str) -> list[Any]:
    sort = parse_sort(sort)
    key, descending = sort.lstrip("-"), sort.startswith("-")
    column = SORT_COLUMNS[key]
    ordered = column.desc() if descending else column.asc()
    if key in ("rated", "rating"):
        ordered = ordered.nulls_last()  # the same on every database: unrated goes last
    # The learner, then the competency break ties, so pages never overlap or skip rows:
    # a learner's rows stay together in the order of the frameworks' trees.
    ties = [UserCompetency.user_id, UserCompetency.competency_id]
    return [ordered, *(tie.desc() if descending else tie.asc() for tie in ties)]


def _needs_joins(sort: str) -> tuple[bool, bool]:
    """Whether the sort needs organisations, competencies (and frameworks) joined."""
    key = sort.lstrip("-")
    return key == "organisation", key in ("framework", "competency")


def _rows_query(
    filters: CompetencyFilters,
    scope: Scope,
    sort: str,
    page: tuple[int, int] | None = None,
    utc_text: bool = False,
) -> Select[Any]:
    """The rows in `sort` order, all or one page as (limit, offset): learner name,
    email, organisation id, competency id, rating, proficient, rated at, evidence
    count. Organisations, competencies and frameworks are looked up once each (a few
    hundred), not joined to each of millions of rows — unless the sort needs them.
    `utc_text`: the rating time as UTC text made by the database, for the CSV."""
    uc = UserCompetency
    query: Any = select(
        User.name,
        User.email,
        User.organisation_id,
        uc.competency_id,
        uc.rating,
        uc.proficient,
        UtcText(uc.rated_at) if utc_text else uc.rated_at,
        uc.evidence_count,
        uc.user_id,
    ).select_from(uc)
    query = query.join(User, User.id == uc.user_id)
    organisation, competency = _needs_joins(sort)
    if organisation:
        query = query.join(Organisation, Organisation.id == User.organisation_id)
    if competency:
        query = query.join(Competency, Competency.id == uc.competency_id).join(
            Framework, Framework.id == Competency.framework_id
        )
    query = query.where(*_conditions(filters, scope)).order_by(*_order_by(sort))
    if page is not None:
        query = query.limit(page[0]).offset(page[1])
    return query


class CompetencyColumns(NamedTuple):
    framework: str
    framework_title: str
    code: str
    title: str


def _competencies(db_session: Session, ids: set[int] | None = None) -> dict[int, CompetencyColumns]:
    """The report's columns of competencies by id (all of them when `ids` is None)."""
    query = select(Competency.id, Framework.code, Framework.title, Competency.code,
                   Competency.title).join(Framework, Framework.id == Competency.framework_id)  # fmt: skip
    if ids is not None:
        query = query.where(Competency.id.in_(ids))
    return {row[0]: CompetencyColumns(*row[1:]) for row in db_session.execute(query)}


def _organisations(db_session: Session, ids: set[int] | None = None) -> dict[int, tuple[str, str]]:
    query = select(Organisation.id, Organisation.code, Organisation.name)
    if ids is not None:
        query = query.where(Organisation.id.in_(ids))
    return {org_id: (code, name) for org_id, code, name in db_session.execute(query)}


class CompetencyRow(NamedTuple):
    learner_name: str
    email: str
    organisation_code: str
    organisation_name: str
    framework: str
    framework_title: str
    competency: str
    competency_title: str
    rating: str | None
    proficient: bool
    rated_at: datetime | None
    evidence_count: int


def _row(
    raw: Sequence[Any],
    organisations: dict[int, tuple[str, str]],
    competencies: dict[int, CompetencyColumns],
) -> CompetencyRow:
    name, email, organisation_id, competency_id, rating, proficient, rated_at, count, _user = raw
    code, organisation_name = organisations[organisation_id]
    competency = competencies[competency_id]
    if rated_at is not None and rated_at.tzinfo is None:
        rated_at = rated_at.replace(tzinfo=UTC)
    return CompetencyRow(
        name, email, code, organisation_name, competency.framework, competency.framework_title,
        competency.code, competency.title, rating, bool(proficient), rated_at, int(count),
    )  # fmt: skip


def competency_total(db_session: Session, filters: CompetencyFilters, scope: Scope) -> int:
    """How many rows the filters select (one query)."""
    query = select(func.count()).select_from(UserCompetency).where(*_conditions(filters, scope))
    return int(db_session.scalar(query) or 0)


@dataclass(frozen=True)
class CompetencyPage:
    rows: list[CompetencyRow]
    total: int
    proficient: int
    page: int
    per_page: int
    sort: str

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def competency_page(
    db_session: Session,
    filters: CompetencyFilters,
    scope: Scope,
    sort: str = DEFAULT_SORT,
    page: int = 1,
    per_page: int = PAGE_SIZES[0],
) -> CompetencyPage:
    """One page with the totals (rows, proficient): four queries whatever the page
    size (the totals, the rows, their organisations, their competencies)."""
    sort = parse_sort(sort)
    per_page = per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]
    uc = UserCompetency
    total, proficient = db_session.execute(
        select(
            func.count(), func.coalesce(func.sum(case((uc.proficient.is_(True), 1), else_=0)), 0)
        )
        .select_from(uc)
        .where(*_conditions(filters, scope))
    ).one()
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    raw = db_session.execute(
        _rows_query(filters, scope, sort, page=(per_page, (page - 1) * per_page))
    ).all()
    rows = []
    if raw:
        organisations = _organisations(db_session, {r[2] for r in raw})
        competencies = _competencies(db_session, {r[3] for r in raw})
        rows = [_row(r, organisations, competencies) for r in raw]
    return CompetencyPage(rows, int(total), int(proficient), page, per_page, sort)


def iter_competency_rows(
    db_session: Session, filters: CompetencyFilters, scope: Scope, sort: str = DEFAULT_SORT
) -> Iterator[CompetencyRow]:
    """Every selected row in the page's order, fetched in chunks (a server-side
    cursor on PostgreSQL), so memory stays flat."""
    organisations, competencies = _organisations(db_session), _competencies(db_session)
    for raw_rows in _chunks(db_session, filters, scope, sort):
        for raw in raw_rows:
            yield _row(raw, organisations, competencies)


LEARNERS_PER_CHUNK = 500


def _chunks(
    db_session: Session,
    filters: CompetencyFilters,
    scope: Scope,
    sort: str,
    utc_text: bool = False,
) -> Iterator[Sequence[Any]]:
    """Every selected row in `sort` order, a chunk at a time.

    Sorted by learner (the default), the rows are not sorted as a whole — millions
    of rows through the database's sorter before the first comes out — but learner by
    learner: the learners in scope sorted by name (a hundred thousand, not millions),
    then each chunk of them with their ratings fetched through the ratings' (learner,
    competency) index (and their names and emails by id: no join that would walk
    every user again for each chunk), put in the learners' order. The same order as the page's
    ORDER BY name, learner, competency. Other sorts: one query, a server-side cursor."""
    sort = parse_sort(sort)
    connection = db_session.connection()
    if sort.lstrip("-") != "learner":
        query = _rows_query(filters, scope, sort, utc_text=utc_text)
        yield from connection.execute(query.execution_options(yield_per=EXPORT_CHUNK)).partitions()
        return
    descending = sort.startswith("-")
    learners = list(
        connection.scalars(
            select(User.id)
            .where(*_learner_conditions(filters, scope, User.id))
            .order_by(*(c.desc() if descending else c.asc() for c in (User.name, User.id)))
        )
    )
    uc = UserCompetency
    standings = select(
        uc.user_id,
        uc.competency_id,
        uc.rating,
        uc.proficient,
        UtcText(uc.rated_at) if utc_text else uc.rated_at,
        uc.evidence_count,
    ).where(*_standing_conditions(filters, scope))  # the learners are chosen already
    within_learner = uc.competency_id.desc() if descending else uc.competency_id.asc()
    for start in range(0, len(learners), LEARNERS_PER_CHUNK):
        chunk = learners[start : start + LEARNERS_PER_CHUNK]
        by_learner: dict[int, list[Any]] = {}
        people: dict[int, tuple[str, str, int]] = {}
        for user_id, competency_id, rating, proficient, rated_at, count in connection.execute(
            standings.where(uc.user_id.in_(chunk)).order_by(uc.user_id, within_learner)
        ):
            if not people:  # the chunk's names and emails, once it has a row
                people = {
                    person: (name, email, organisation_id)
                    for person, name, email, organisation_id in connection.execute(
                        select(User.id, User.name, User.email, User.organisation_id).where(
                            User.id.in_(chunk)
                        )
                    )
                }
            name, email, organisation_id = people[user_id]
            by_learner.setdefault(user_id, []).append(
                (name, email, organisation_id, competency_id, rating, proficient, rated_at,
                 count, user_id)
            )  # fmt: skip
        if by_learner:
            yield [raw for user_id in chunk for raw in by_learner.get(user_id, ())]


# --- rows for the writers ------------------------------------------------------------------

JSON_KEYS = (
    "learner_name", "email", "organisation_code", "organisation_name", "framework",
    "competency", "competency_title", "rating", "proficient", "rated_at", "evidence_count",
)  # fmt: skip


def json_row(row: CompetencyRow) -> dict[str, Any]:
    """A row as the API and the JSON download give it: fixed English keys, codes,
    ISO 8601 UTC times."""
    return {
        "learner_name": row.learner_name,
        "email": row.email,
        "organisation_code": row.organisation_code,
        "organisation_name": row.organisation_name,
        "framework": row.framework,
        "competency": row.competency,
        "competency_title": row.competency_title,
        "rating": row.rating,
        "proficient": row.proficient,
        "rated_at": iso(row.rated_at),
        "evidence_count": row.evidence_count,
    }


def spreadsheet_headers(tz: tzinfo) -> list[str]:
    """Column headers for CSV and XLSX, in the reader's language."""
    return [
        _("Learner"),
        _("Email"),
        _("Organisation code"),
        _("Organisation"),
        _("Framework"),
        _("Competency"),
        _("Competency title"),
        _("Rating"),
        _("Proficient"),
        _("Rated at (%(zone)s)", zone=str(tz)),
        _("Evidence"),
    ]


SPREADSHEET_WIDTHS = (28, 32, 14, 30, 14, 16, 40, 18, 10, 18, 10)


def proficient_word(proficient: bool) -> str:
    """The proficient column's cell in the reader's language."""
    return _("yes") if proficient else _("no")


def spreadsheet_rows(
    rows: Iterator[CompetencyRow], tz: tzinfo, text_times: bool = False
) -> Iterator[list[Any]]:
    """Rows as cells: words in the reader's language, the rating time in the reader's
    time zone — a date-time for XLSX, or (`text_times`, for CSV) text."""
    words = {True: proficient_word(True), False: proficient_word(False)}
    for row in rows:
        rated_at: datetime | str | None = None
        if row.rated_at is not None:
            local = row.rated_at.astimezone(tz)
            rated_at = local.isoformat(" ", "seconds")[:19] if text_times else local
        yield [
            row.learner_name,
            row.email,
            row.organisation_code,
            row.organisation_name,
            row.framework,
            row.competency,
            row.competency_title,
            row.rating,
            words[row.proficient],
            rated_at,
            row.evidence_count,
        ]


def export_chunks(
    fmt: str,
    session: Callable[[], Session],
    filters: CompetencyFilters,
    scope: Scope,
    sort: str,
    tz: tzinfo,
) -> Iterator[bytes]:
    """The report in `fmt` (csv, csv-excel, xlsx or json) as a stream of bytes: the rows the page
    shows for the same filters and sort, all of them. `session` is called when the
    first row is needed (the streaming context's session)."""
    if fmt == "json":
        return writers.json_chunks(
            json_row(row) for row in lazy(session, iter_competency_rows, filters, scope, sort)
        )
    if fmt not in EXPORT_FORMATS:
        raise Invalid(_l("Unknown format “%(format)s”: choose csv, xlsx or json.", format=fmt[:20]))
    headers = spreadsheet_headers(tz)
    if fmt == "xlsx":
        return writers.xlsx_chunks(
            headers,
            spreadsheet_rows(lazy(session, iter_competency_rows, filters, scope, sort), tz),
            sheet_name=_("Competency report"),
            widths=SPREADSHEET_WIDTHS,
        )
    flavour = writers.flavour_for(fmt, get_locale())
    return writers.csv_batches(
        headers, _csv_batches(session, filters, scope, sort, tz, flavour), flavour
    )


def _csv_batches(
    session: Callable[[], Session],
    filters: CompetencyFilters,
    scope: Scope,
    sort: str,
    tz: tzinfo,
    flavour: writers.CsvFlavour = writers.PLAIN,
) -> Iterator[list[tuple[str, ...]]]:
    """The CSV's fields a batch at a time, straight from the database rows: what
    `writers.csv_chunks` makes of `spreadsheet_rows(iter_competency_rows(...), tz,
    text_times=True)` (a test holds the two byte for byte equal), with as little work
    per row as can be. Each organisation's and competency's fields, the ratings and
    the yes/no words are made once; per row only the name, email and time."""
    db_session = session()
    field = flavour.field
    organisations = {
        org_id: (field(code), field(name))
        for org_id, (code, name) in _organisations(db_session).items()
    }
    competencies = {
        competency_id: (field(c.framework), field(c.code), field(c.title))
        for competency_id, c in _competencies(db_session).items()
    }
    ratings: dict[str | None, str] = {None: ""}
    words = {True: field(proficient_word(True)), False: field(proficient_word(False))}
    local = local_text(tz)
    # A learner's rows come together (sorted by learner, the default): their name's and
    # email's fields are made once for their thirty-odd rows.
    last_user, name_field, email_field = None, "", ""
    for raw_rows in _chunks(db_session, filters, scope, sort, utc_text=True):
        batch: list[tuple[str, ...]] = []
        append = batch.append
        for (name, email, organisation_id, competency_id, rating, proficient, rated_at, count,
             user_id) in raw_rows:  # fmt: skip
            if user_id != last_user:
                last_user, name_field, email_field = user_id, field(name), field(email)
            code, organisation_name = organisations[organisation_id]
            framework, competency, title = competencies[competency_id]
            shown = ratings.get(rating)
            if shown is None:
                shown = ratings[rating] = field(rating)
            if rated_at is None:
                rated_at = ""
            elif local is not None:
                rated_at = local(rated_at)
            append(
                (
                    name_field,
                    email_field,
                    code,
                    organisation_name,
                    framework,
                    competency,
                    title,
                    shown,
                    words[bool(proficient)],
                    rated_at,  # digits, "-", ":" and a space: nothing to neutralise or quote
                    str(count),
                )
            )
        yield batch


def export_filename(
    fmt: str, filters: CompetencyFilters | None = None, today: date | None = None
) -> str:
    """A name such as "competencies-lpt-psci-2026-01-01_2026-06-30.csv"."""
    return shared.export_filename("competencies", fmt, filters, today)


def record_export(
    db_session: Session,
    actor: User | None,
    address: str | None,
    fmt: str,
    filters: CompetencyFilters,
    scope: Scope,
    sort: str,
    via: str,
) -> None:
    """The audit entry of a download (the completion report's rule, `report` named)."""
    shared.record_export(
        db_session, actor, address, fmt, filters, scope, sort, via, report="competencies"
    )


def frameworks_in_scope(db_session: Session, scope: Scope) -> list[Framework]:
    """The frameworks a reader may filter by, by title: for a trainer those linked to
    the courses they train; every framework for administrators."""
    query = select(Framework).order_by(Framework.title, Framework.code)
    if scope.trainer_id is not None:
        query = query.where(Framework.id.in_(_trainer_frameworks(scope.trainer_id)))
    return list(db_session.scalars(query))


def competencies_in_scope(db_session: Session, scope: Scope) -> list[tuple[Competency, str]]:
    """The competencies a reader may filter by, with their framework's title, in the
    frameworks' order and each tree's order (one query)."""
    query = (
        select(Competency, Framework.title)
        .join(Framework, Framework.id == Competency.framework_id)
        .order_by(Framework.title, Framework.code, Competency.position, Competency.id)
    )
    if scope.trainer_id is not None:
        query = query.where(Framework.id.in_(_trainer_frameworks(scope.trainer_id)))
    return [(competency, title) for competency, title in db_session.execute(query)]
