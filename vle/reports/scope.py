"""What every report shares: who may read what (the scope), the filters' common
parts (organisation subtree, a period of whole days in the reader's time zone),
the export formats and their audit entry, and the pieces of the fast CSV path
(times as UTC text from the database, moved into the reader's zone an hour at a time).

The completion report (`services.py`) and the competency report (`competencies.py`)
both build on these, so that one rule is written once: a scoped administrator
never sees a row outside their subtree, a period means the same days, a download
is audited the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from vle import periods
from vle.accounts.models import Organisation, Role, User
from vle.accounts.services import tree_order
from vle.audit import audit
from vle.errors import Forbidden, Invalid
from vle.inputs import has_control
from vle.text import fold

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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


def may_report_on(scope: Scope, org: Organisation) -> bool:
    if scope.viewer is not None and scope.viewer.is_admin:
        return scope.viewer.administers(org)  # the permission answer on the model
    if scope.organisation_path is not None:
        return org.path.startswith(scope.organisation_path)
    return True  # operator; a trainer may narrow their courses to any organisation


def subtree(path: str) -> ColumnElement[bool]:
    return Organisation.path.startswith(path, autoescape=True)


def members_of(path: str, user_id: Any) -> ColumnElement[bool]:
    """`user_id` belongs to someone in the subtree at `path`. A semi-join rather than a
    join: the database can walk from the (few) organisations to their members'
    rows through the indexes, or check membership while it walks an index in sort
    order — whichever is cheaper."""
    return user_id.in_(
        select(User.id).where(
            User.organisation_id.in_(select(Organisation.id).where(subtree(path)))
        )
    )


def within(column: Any, start: datetime | None, end: datetime | None) -> ColumnElement[bool]:
    parts = []
    if start is not None:
        parts.append(column >= start)
    if end is not None:
        parts.append(column < end)
    return and_(*parts)


class UtcText(FunctionElement[str]):
    """A stored time as UTC text to the second, "YYYY-MM-DD HH:MM:SS", made by the
    database: cheaper than a datetime object per value when the time is only to
    be written out. On SQLite it is the stored text itself (SQLAlchemy stores
    "YYYY-MM-DD HH:MM:SS.ffffff", in UTC as vle gives it), cut after the seconds."""

    type = String()
    name = "utc_text"
    inherit_cache = True


@compiles(UtcText)
def _utc_text_sqlite(element: UtcText, compiler: Any, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 19)"


@compiles(UtcText, "postgresql")
def _utc_text_postgresql(element: UtcText, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    # format: (media type, file extension)
    "csv": ("text/csv; charset=utf-8", "csv"),
    # CSV for Excel in the reader's language (writers.excel_flavour): ";" and "," in lt, pl, nb.
    "csv-excel": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "json": ("application/json", "json"),
}


def export_filename(report: str, fmt: str, filters: Any, today: date | None = None) -> str:
    """A download's file name, carrying its filters in their query-string order,
    the period as since_until: "completion-lpt-ethics-2026-01-01_2026-06-30-completed.csv".
    Without a period, the day of the export ("completion-lpt-2026-12-07.csv"). Only
    letters a-z, digits, ".", "_" and "-": codes folded (vle.text.fold), anything
    else a "-", each part at most 40 characters."""
    return download_name(report, fmt, filters.as_args() if filters is not None else {}, today)


def download_name(report: str, fmt: str, args: dict[str, Any], today: date | None = None) -> str:
    """`export_filename` for any download: `args` are its filters by name (those
    empty left out), "since" and "until" the period."""
    args = {name: str(value) for name, value in args.items() if value}
    parts = [report]
    for name, value in args.items():
        if name == "since":
            parts.append(f"{value}_{args.get('until', '')}")
        elif name == "until":
            if "since" not in args:
                parts.append(f"_{value}")
        else:
            parts.append(re.sub(r"[^a-z0-9._]+", "-", fold(value)).strip("-._")[:40] or "-")
    if "since" not in args and "until" not in args:
        parts.append((today or datetime.now(UTC).date()).isoformat())
    return f"{'-'.join(parts)}.{EXPORT_FORMATS[fmt][1]}"


def attachment(filename: str) -> str:
    """A Content-Disposition for a download named `filename` (RFC 6266: an ASCII
    `filename` and the exact name as `filename*`)."""
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", filename)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def lazy(session: Callable[[], Session], rows: Callable[..., Iterator[Any]], *args: Any) -> Any:
    yield from rows(session(), *args)


def local_text(tz: tzinfo) -> Callable[[str], str] | None:
    """A function that moves a UTC time written "YYYY-MM-DD HH:MM:SS" into `tz`,
    written the same way; None for UTC, where the text is right as it is.

    The zone's offset is worked out once per UTC hour rather than once per value
    (a zone lookup for each of two million times costs seconds): in an hour whose
    offset is the same from its first second to its last and a whole number of
    hours — nearly every hour of nearly every zone — only the date and the hour
    change; in one whose offset is the same throughout but not whole hours (India,
    Newfoundland), the offset is added; an hour in which the offset changes is
    converted value by value."""
    if tz is UTC or str(tz) in ("UTC", "Etc/UTC"):
        return None
    # UTC "YYYY-MM-DD HH": the same hour in `tz` as text, or the offset, or None.
    hours: dict[str, str | timedelta | None] = {}
    last_second, one_hour, nothing = timedelta(seconds=3599), timedelta(hours=1), timedelta(0)

    def learn(hour: str) -> str | timedelta | None:
        if len(hours) >= 100_000:
            hours.clear()  # a bounded cache, however long the report's history
        start = datetime.fromisoformat(hour + ":00:00").replace(tzinfo=UTC)
        offset = start.astimezone(tz).utcoffset()
        known: str | timedelta | None = None
        if offset is not None and (start + last_second).astimezone(tz).utcoffset() == offset:
            known = (
                start.astimezone(tz).isoformat(" ")[:13] if offset % one_hour == nothing else offset
            )
        hours[hour] = known
        return known

    def local(text: str) -> str:
        hour = text[:13]
        known = hours[hour] if hour in hours else learn(hour)
        if type(known) is str:
            return known + text[13:]
        moment = datetime.fromisoformat(text)
        if known is not None:
            return (moment + known).isoformat(" ")  # type: ignore[operator]
        return moment.replace(tzinfo=UTC).astimezone(tz).isoformat(" ", "seconds")[:19]

    return local


def record_export(
    db_session: Session,
    actor: User | None,
    address: str | None,
    fmt: str,
    filters: Any,
    scope: Scope,
    sort: str,
    via: str,
    report: str = "completion",
) -> None:
    """Note in the audit log who exported the report, with which filters, from where
    (`via`: page, api or cli), and which report (`report`: completion, competencies);
    `filters` has `organisation` and `as_args()`. The entry belongs to the narrowest organisation the
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
        {"report": report, "format": fmt, "via": via, "filters": args, "sort": sort},
        organisation_id=organisation_id,
        label=" ".join([report, *(f"{k}={v}" for k, v in args.items())]),
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
        query = query.where(subtree(scope.organisation_path))
    orgs = list(db_session.scalars(query))
    return tree_order(orgs)


def parse_period(since: Any, until: Any, errors: dict[str, str]) -> tuple[date | None, date | None]:
    """The days `since` and `until` (YYYY-MM-DD text or dates), each problem added
    to `errors` under the filter's name: malformed, outside the days vle keeps, or
    an end before the start."""
    dates: dict[str, date | None] = {}
    for name, value in (("since", since), ("until", until)):
        try:
            dates[name] = parse_date(value)
        except ValueError:
            errors[name] = str(
                _l("“%(value)s” is not a date: write it as YYYY-MM-DD.", value=str(value)[:40])
            )
            continue
        day = dates[name]
        if day is not None and not periods.within_range(day):
            errors[name] = periods.out_of_range(day.isoformat())  # else a 500, or a broken file
            dates[name] = None
    since_date, until_date = dates.get("since"), dates.get("until")
    if since_date and until_date and until_date < since_date:
        errors["until"] = str(_l("The end of the period is before its start."))
    return since_date, until_date


def period_bounds(
    since: date | None, until: date | None, tz: tzinfo
) -> tuple[datetime | None, datetime | None]:
    """A period of whole days in `tz` as UTC instants: [start of `since`, start of the
    day after `until`)."""
    start = end = None
    if since is not None:
        start = datetime.combine(since, time.min, tz).astimezone(UTC)
    if until is not None:
        end = datetime.combine(until + timedelta(days=1), time.min, tz).astimezone(UTC)
    return start, end


def organisation_by_code(
    db_session: Session, code: str | None, errors: dict[str, str]
) -> Organisation | None:
    """The organisation a filter names by code (None when empty); an unknown code
    is added to `errors`."""
    if not code or not code.strip():
        return None
    code = code.strip()
    org = None
    if not has_control(code):  # no code holds one: unknown
        org = db_session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        errors["organisation"] = str(
            _l("There is no organisation with the code “%(code)s”.", code=code[:64])
        )
    return org
