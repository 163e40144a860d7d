"""Enrolment, progress and completion: the rules of a learner's way through a course."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, case, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, raiseload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement

from vle import db
from vle.accounts import services as accounts
from vle.accounts.models import User
from vle.audit import audit
from vle.catalog import services as catalog
from vle.catalog.models import Course, CourseStatus, Item, Module
from vle.catalog.services import ItemEntry, ModuleEntry
from vle.db import utcnow
from vle.errors import DomainError, Forbidden, Invalid
from vle.learning import events
from vle.learning.kinds import Progress, kind_of
from vle.learning.models import (
    Completion,
    Enrolment,
    EnrolmentStatus,
    ItemProgress,
    RemovedItemProgress,
    expired_condition,
    is_expired,
    is_overdue,
)

# The queries every learner's page runs, built once: building a statement
# costs as much as running it on an indexed lookup.
# An enrolment is read as the database has it now, even when the session
# holds it from an earlier transaction (a view that reads first and writes in
# a transaction of its own).
_ENROLMENT = (
    select(Enrolment)
    .where(Enrolment.user_id == bindparam("user_id"), Enrolment.course_id == bindparam("course_id"))
    .execution_options(populate_existing=True)
)
# A write to an enrolment's progress locks it first (PostgreSQL; SQLite's
# writers take turns anyway): two items completed at once in two tabs are then
# counted one after the other, and the second sees the first.
_ENROLMENT_TO_UPDATE = _ENROLMENT.with_for_update()
# The learner's progress rows on a course's items, to change one and recount:
# read by a statement of their own once the lock is held. Joined to the locking
# query they would come from its snapshot, taken before the wait: PostgreSQL
# re-reads only the locked row, and the other tab's new progress row is missed.
_PROGRESS_ROWS = (
    select(ItemProgress)
    .join(Item, Item.id == ItemProgress.item_id)
    .join(Module, Module.id == Item.module_id)
    .where(ItemProgress.user_id == bindparam("user_id"), Module.course_id == bindparam("course_id"))
)
# A page needs the course and the learner's enrolment in it together: one query.
_COURSE_AND_ENROLMENT = (
    select(Course, Enrolment)
    .outerjoin(
        Enrolment,
        (Enrolment.course_id == Course.id) & (Enrolment.user_id == bindparam("user_id")),
    )
    .where(Course.slug == bindparam("slug"))
    .options(raiseload(Course.modules))
    .execution_options(populate_existing=True)
)
# The table of contents with the learner's progress on each item, if any.
_CONTENTS_AND_PROGRESS = catalog.CONTENTS.add_columns(
    ItemProgress.item_id.label("progress_of"),
    ItemProgress.viewed_at,
    ItemProgress.completed_at,
    ItemProgress.passed,
).outerjoin(
    ItemProgress,
    (ItemProgress.item_id == Item.id) & (ItemProgress.user_id == bindparam("user_id")),
)
# The same rows as plain columns: what deciding "done" reads.
_PROGRESS = _PROGRESS_ROWS.with_only_columns(
    ItemProgress.item_id, ItemProgress.completed_at, ItemProgress.passed
)


def enrolment_for(db_session: Session, user: User, course: Course) -> Enrolment | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db_session.scalar(_ENROLMENT, {"user_id": user.id, "course_id": course.id})


def course_and_enrolment(
    db_session: Session, slug: str, user: User
) -> tuple[Course, Enrolment | None]:
    """Course `slug` as `catalog.course_for(..., with_items=False)` gives it
    (NotFound unless the user may see it) and the user's enrolment in it."""
    if not getattr(user, "is_authenticated", False):
        return catalog.course_for(db_session, slug, user, with_items=False), None
    row = db_session.execute(_COURSE_AND_ENROLMENT, {"slug": slug, "user_id": user.id}).first()
    enrolment = row[1] if row and row[1] is not None and row[1].ended_at is None else None
    return catalog.visible(row[0] if row else None, user), enrolment


def contents_and_progress(
    db_session: Session, user: User, course: Course
) -> tuple[list[ModuleEntry], dict[int, ItemProgressRow]]:
    """The course's table of contents (`catalog.contents`) and the user's
    progress on its items (as `progress_by_item`, with when each was first
    viewed), in one query."""
    rows = db_session.execute(
        _CONTENTS_AND_PROGRESS, {"course_id": course.id, "user_id": user.id}
    ).all()
    progress = {row.progress_of: row for row in rows if row.progress_of is not None}
    return catalog.contents_of(rows), progress  # type: ignore[return-value]


# Tries of enrolment keys a minute (a sliding window, in the counters sign-in
# uses): by one account, and from one client address (a training room behind
# one address enrols together, so that limit is higher).
KEY_TRIES_PER_ACCOUNT = 10
KEY_TRIES_PER_ADDRESS = 100


class TooManyKeyTries(DomainError):
    """Raised by the caller when `reserve_key_try` refuses a try."""

    code = "too_many_requests"
    status = 429

    def __init__(self) -> None:
        super().__init__(_l("Too many enrolment keys tried. Please wait a minute and try again."))


def reserve_key_try(
    db_session: Session, user: User, address: str | None, now: float | None = None
) -> bool:
    """Count one try of an enrolment key by `user` from `address`, before the
    key is compared, so that a key cannot be found by trying many: False when
    the account or the address is over its limit a minute, and the try is then
    refused unchecked (TooManyKeyTries). The caller commits the count on its
    own, before it raises or compares (a wrong key counts too)."""
    return accounts.reserve_attempts(
        db_session,
        [
            (f"enrolment-key:{user.id}", KEY_TRIES_PER_ACCOUNT),
            (f"enrolment-key-from:{address or ''}", KEY_TRIES_PER_ADDRESS),
        ],
        now,
    )


def can_self_enrol(course: Course, today: date | None = None) -> bool:
    today = today or utcnow().date()
    return (
        course.status == CourseStatus.PUBLISHED
        and (course.starts is None or course.starts <= today)
        and (course.ends is None or today <= course.ends)
    )


def enrol(
    db_session: Session,
    user: User,
    course: Course,
    key: str | None = None,
    method: str = "self",
    by: User | None = None,
    address: str | None = None,
) -> tuple[Enrolment, bool]:
    """Enrol `user` in `course`; returns (enrolment, created). Enrolling again is
    not an error and returns the existing enrolment. Self-enrolment needs a
    published course within its dates and, if the course has one, its key.
    An enrolment made `by` someone else (from `address`) is audited. An ended
    enrolment (unenrolled) is reopened, with its progress."""
    existing = enrolment_for(db_session, user, course)
    if existing is not None and existing.ended_at is None:
        return existing, False
    if method == "self":
        if not can_self_enrol(course):
            raise Forbidden(_l("This course is not open for enrolment."))
        if course.enrolment_key and not hmac.compare_digest(
            (key or "").strip().encode(), course.enrolment_key.encode()
        ):
            raise Invalid(_l("The enrolment key is not correct."))
    if existing is not None:
        existing.ended_at = None
        _audit_enrolment(db_session, by, user, course, method, address)
        return existing, True
    enrolment = Enrolment(user_id=user.id, course_id=course.id, method=method)
    try:
        with db_session.begin_nested():  # a concurrent double click enrols once
            db_session.add(enrolment)
    except IntegrityError:
        existing = enrolment_for(db_session, user, course)
        if existing is None:
            raise
        return existing, False
    _audit_enrolment(db_session, by, user, course, method, address)
    return enrolment, True


def _audit_enrolment(
    db_session: Session,
    by: User | None,
    user: User,
    course: Course,
    method: str,
    address: str | None,
) -> None:
    if by is not None and by.id != user.id:
        audit(
            db_session, by, "enrolment.create", "user", user.id, address,
            {"course": course.slug, "method": method},
            organisation_id=user.organisation_id, label=user.email,
        )  # fmt: skip


def progress_by_item(db_session: Session, user: User, course: Course) -> dict[int, Progress]:
    """The user's progress on every item of the course (when each was
    completed, whether a quiz was passed), in one query of plain columns."""
    if not getattr(user, "is_authenticated", False):
        return {}
    rows = db_session.execute(_PROGRESS, {"user_id": user.id, "course_id": course.id})
    return {row.item_id: row for row in rows}


class ItemProgressRow(Progress, Protocol):
    """A learner's progress on an item as `contents_and_progress` reads it."""

    @property
    def viewed_at(self) -> datetime | None: ...


def is_first_view(enrolment: Enrolment | None, progress: ItemProgressRow | None) -> bool:
    """Has `record_view` something to record? (Nothing for someone not
    enrolled, nor for an item already viewed in a course already started.)"""
    if enrolment is None:
        return False
    return (
        progress is None
        or progress.viewed_at is None
        or enrolment.status in (EnrolmentStatus.NOT_STARTED, EnrolmentStatus.EXPIRED)
    )


def _require_enrolment(db_session: Session, user: User, course: Course) -> Enrolment:
    """The user's enrolment in the course, locked for this transaction's update."""
    enrolment = db_session.scalar(
        _ENROLMENT_TO_UPDATE, {"user_id": user.id, "course_id": course.id}
    )
    if enrolment is None or enrolment.ended_at is not None:
        raise Forbidden(_l("You are not enrolled in this course."))
    return enrolment


# A row seen first now; a row that exists keeps its first view.
_RECORD_VIEW = db.Upsert(
    ItemProgress,
    ["user_id", "item_id"],
    ["user_id", "item_id", "viewed_at"],
    lambda excluded: {"viewed_at": func.coalesce(ItemProgress.viewed_at, excluded.viewed_at)},
)

# Opening an item starts the course, if nothing has started it meanwhile.
_START_ENROLMENT = (
    update(Enrolment)
    .where(
        Enrolment.id == bindparam("enrolment_id"),
        Enrolment.status.in_([EnrolmentStatus.NOT_STARTED, EnrolmentStatus.EXPIRED]),
    )
    .values(status=EnrolmentStatus.IN_PROGRESS)
    # record_view sets the loaded enrolment's status itself.
    .execution_options(synchronize_session=False)
)


def record_view(
    db_session: Session,
    user: User,
    course: Course,
    item: Item,
    now: datetime | None = None,
    *,
    enrolment: Enrolment | None = None,
) -> None:
    """Note the first time an enrolled learner opens an item; opening one starts
    the course. `enrolment`: the learner's enrolment, when the caller has it
    (read before this transaction: it is changed only if it is still not
    started)."""
    enrolment = enrolment or enrolment_for(db_session, user, course)
    if enrolment is None:
        return
    now = now or utcnow()
    _RECORD_VIEW(db_session, {"user_id": user.id, "item_id": item.id, "viewed_at": now})
    if enrolment.status in (EnrolmentStatus.NOT_STARTED, EnrolmentStatus.EXPIRED):
        db_session.execute(_START_ENROLMENT, {"enrolment_id": enrolment.id})
        set_committed_value(enrolment, "status", EnrolmentStatus.IN_PROGRESS)


def complete_item(
    db_session: Session,
    user: User,
    course: Course,
    item: Item | ItemEntry,
    now: datetime | None = None,
    *,
    contents: list[ModuleEntry] | None = None,
) -> Enrolment:
    """Mark an item complete for an enrolled learner and update the course's
    progress. Completing again changes nothing. Items whose completion is decided
    elsewhere (a quiz is complete when passed) cannot be marked by hand.
    `contents`: the course's table of contents, when the caller has read it
    (on SQLite, read before the write transaction, it shortens the write)."""
    enrolment = _require_enrolment(db_session, user, course)
    if not kind_of(item).manual_completion:
        raise Invalid(_l("This item is completed by passing it, not by marking it."))
    now = now or utcnow()
    rows, row = _progress_rows_with(db_session, user, course, item)
    row.viewed_at = row.viewed_at or now
    first = row.completed_at is None
    row.completed_at = row.completed_at or now
    _recount(db_session, enrolment, course, rows, now, contents)
    if first:
        events.emit(events.ItemCompleted(db_session, user.id, course, item.id, item.kind, now))
    return enrolment


def record_result(
    db_session: Session, user: User, course: Course, item: Item, passed: bool, now: datetime
) -> None:
    """Record the counting result of an item graded elsewhere (a quiz)."""
    enrolment = _require_enrolment(db_session, user, course)
    rows, row = _progress_rows_with(db_session, user, course, item)
    row.viewed_at = row.viewed_at or now
    row.passed = passed
    first = passed and row.completed_at is None
    if passed:
        row.completed_at = row.completed_at or now
    _recount(db_session, enrolment, course, rows, now)
    if first:
        events.emit(events.ItemCompleted(db_session, user.id, course, item.id, item.kind, now))


def _progress_rows_with(
    db_session: Session, user: User, course: Course, item: Item | ItemEntry
) -> tuple[dict[int, ItemProgress], ItemProgress]:
    """The learner's progress rows on the course, read once, and among them
    the one on `item` (added if new): the row to change, and all the recount
    needs."""
    rows = {
        row.item_id: row
        for row in db_session.scalars(_PROGRESS_ROWS, {"user_id": user.id, "course_id": course.id})
    }
    row = rows.get(item.id)
    if row is None:
        row = rows[item.id] = ItemProgress(user_id=user.id, item_id=item.id)
        db_session.add(row)
    return rows, row


def _add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _recount(
    db_session: Session,
    enrolment: Enrolment,
    course: Course,
    progress: Mapping[int, Progress],
    now: datetime,
    contents: list[ModuleEntry] | None = None,
) -> None:
    """Recount the enrolment's progress by the default completion rule: every
    required item done (lessons completed, quizzes passed). Completion, once
    reached, is recorded with its time and history and is never taken back.
    `contents`: the course's table of contents, when the caller has it."""
    required = _required_items(contents or catalog.contents(db_session, course))
    _apply_progress(db_session, enrolment, course, required, progress, now)
    db_session.flush()


def _required_items(contents: list[ModuleEntry]) -> list[ItemEntry]:
    return [item for module in contents for item in module.items if item.required]


def _apply_progress(
    db_session: Session,
    enrolment: Enrolment,
    course: Course,
    required: list[ItemEntry],
    progress: Mapping[int, Progress],
    now: datetime,
) -> None:
    done = sum(1 for item in required if kind_of(item).is_done(progress.get(item.id)))
    if enrolment.status == EnrolmentStatus.COMPLETED:
        return
    enrolment.progress = int(100 * done / len(required)) if required else 0
    if required and done == len(required):
        enrolment.status = EnrolmentStatus.COMPLETED
        enrolment.progress = 100
        enrolment.completed_at = now
        expires = _add_months(now, course.validity_months) if course.validity_months else None
        enrolment.expires_at = expires
        completion = Completion(
            user_id=enrolment.user_id, course_id=course.id, completed_at=now, expires_at=expires
        )
        db_session.add(completion)
        db_session.flush()
        events.emit(events.CourseCompleted(db_session, enrolment.user_id, course, completion))
    elif progress:
        enrolment.status = EnrolmentStatus.IN_PROGRESS


def completed_by_hand(
    db_session: Session, user_id: int, course: Course, completion: Completion
) -> None:
    """A trainer recorded a completion by hand (face-to-face training): what
    follows a completion (certificate notice, competency evidence) follows it
    too."""
    events.emit(events.CourseCompleted(db_session, user_id, course, completion))


def keep_removed_progress(
    db_session: Session, items: list[Item], course_id: int, now: datetime | None = None
) -> None:
    """Before `items` leave course `course_id` (a trainer deletes them, a
    re-import drops them), copy what learners had done on them into
    `removed_item_progress`: history keeps it with the item's name, while the
    live progress goes with the item. One INSERT … SELECT per call."""
    if not items:
        return
    now = now or utcnow()
    for item in items:
        db_session.execute(
            insert(RemovedItemProgress).from_select(
                [
                    "user_id",
                    "course_id",
                    "item_slug",
                    "item_title",
                    "item_kind",
                    "viewed_at",
                    "completed_at",
                    "passed",
                    "removed_at",
                ],  # fmt: skip
                select(
                    ItemProgress.user_id,
                    literal(course_id),
                    literal(item.slug),
                    literal(item.title),
                    literal(item.kind),
                    ItemProgress.viewed_at,
                    ItemProgress.completed_at,
                    ItemProgress.passed,
                    literal(now, db.UTCDateTime(timezone=True)),
                ).where(ItemProgress.item_id == item.id),
            )
        )


def removed_progress(
    db_session: Session, user_id: int, course_id: int
) -> list[RemovedItemProgress]:
    """A learner's progress on items since removed from a course, newest first."""
    return list(
        db_session.scalars(
            select(RemovedItemProgress)
            .where(
                RemovedItemProgress.user_id == user_id, RemovedItemProgress.course_id == course_id
            )
            .order_by(RemovedItemProgress.removed_at.desc(), RemovedItemProgress.id)
        )
    )


def recount_course(db_session: Session, course: Course, now: datetime | None = None) -> None:
    """After a course's content changed (a re-import), recount every enrolment
    not yet completed, in a fixed number of queries."""
    enrolments = list(
        db_session.scalars(
            select(Enrolment).where(
                Enrolment.course_id == course.id, Enrolment.status != EnrolmentStatus.COMPLETED
            )
        )
    )
    if not enrolments:
        return
    by_user: dict[int, dict[int, Progress]] = {}
    rows = db_session.execute(
        select(
            ItemProgress.user_id,
            ItemProgress.item_id,
            ItemProgress.completed_at,
            ItemProgress.passed,
        )
        .join(Enrolment, Enrolment.user_id == ItemProgress.user_id)
        .join(Item, Item.id == ItemProgress.item_id)
        .join(Module, Module.id == Item.module_id)
        .where(Enrolment.course_id == course.id, Module.course_id == course.id)
    )
    for row in rows:
        by_user.setdefault(row.user_id, {})[row.item_id] = row
    required = _required_items(catalog.contents(db_session, course))
    now = now or utcnow()
    for enrolment in enrolments:
        _apply_progress(
            db_session, enrolment, course, required, by_user.get(enrolment.user_id, {}), now
        )
    db_session.flush()


@dataclass(frozen=True)
class Neighbours:
    """Where an item stands in its course: the items before and after it, its
    module, its number among all the course's items (from 1) and how many
    there are, the table of contents itself, and the items done (None when
    there is no learner's progress to show)."""

    previous: ItemEntry | None
    next: ItemEntry | None
    module: ModuleEntry
    position: int
    total: int
    contents: list[ModuleEntry]
    done: frozenset[int] | None = None


def neighbours(
    contents: list[ModuleEntry],
    item_id: int,
    progress: Mapping[int, Progress | None] | None = None,
) -> Neighbours:
    """Item `item_id`'s place in a course's table of contents; with a
    learner's `progress`, also which items they have done."""
    items = [entry for module in contents for entry in module.items]
    index = next(i for i, candidate in enumerate(items) if candidate.id == item_id)
    module = next(m for m in contents if any(entry.id == item_id for entry in m.items))
    return Neighbours(
        previous=items[index - 1] if index > 0 else None,
        next=items[index + 1] if index + 1 < len(items) else None,
        module=module,
        position=index + 1,
        total=len(items),
        contents=contents,
        done=None if progress is None else done_items(contents, progress),
    )


def done_items(
    contents: list[ModuleEntry], progress: Mapping[int, Progress | None]
) -> frozenset[int]:
    """The items of a table of contents that a learner's `progress` shows done,
    each by its kind's rule."""
    return frozenset(
        entry.id
        for module in contents
        for entry in module.items
        if kind_of(entry).is_done(progress.get(entry.id))
    )


def shown_status_column(now: datetime) -> ColumnElement[str]:
    """The status every page, report, download and the API show, in SQL: `expired`
    the moment a completion's validity has ended, before the daily task
    (learning/expiry.py) has started the enrolment over; else the stored status.
    `Enrolment.shown_status` says the same in Python; both rest on
    `models.is_expired`/`expired_condition`. Count and group by this, never by
    `Enrolment.status`, wherever a person reads the status."""
    return case(
        (expired_condition(now), literal(EnrolmentStatus.EXPIRED.value)), else_=Enrolment.status
    )


def shown_status_condition(status: str, now: datetime) -> ColumnElement[bool]:
    """Enrolments whose shown status (`shown_status_column`) is `status`, as a
    WHERE condition that keeps the status and expiry indexes usable."""
    if status == EnrolmentStatus.EXPIRED:
        return expired_condition(now)
    if status == EnrolmentStatus.COMPLETED:
        return and_(
            Enrolment.status == EnrolmentStatus.COMPLETED,
            or_(Enrolment.expires_at.is_(None), Enrolment.expires_at > now),
        )
    return Enrolment.status == status


@dataclass(frozen=True, slots=True)
class EnrolmentLine:
    """A line of My learning: the course and where the learner stands in it."""

    slug: str
    title: str
    language: str
    status: str
    progress: int
    enrolled_at: datetime
    completed_at: datetime | None
    due: date | None
    expires_at: datetime | None = None

    def is_overdue(self, today: date) -> bool:
        return is_overdue(self.due, self.status, None, today)

    def is_expired(self, now: datetime | None = None) -> bool:
        """Recurring training: the completion's validity has ended."""
        return is_expired(self.status, self.expires_at, now or utcnow())

    def shown_status(self, now: datetime | None = None) -> str:
        """As `Enrolment.shown_status`: expired at once, before the daily task ran."""
        return EnrolmentStatus.EXPIRED if self.is_expired(now) else self.status


_MY_ENROLMENTS = (
    select(
        Course.slug,
        Course.title,
        Course.language,
        Enrolment.status,
        Enrolment.progress,
        Enrolment.enrolled_at,
        Enrolment.completed_at,
        Enrolment.due,
        Enrolment.expires_at,
    )
    .join(Course, Course.id == Enrolment.course_id)
    .where(Enrolment.user_id == bindparam("user_id"), Enrolment.ended_at.is_(None))
    .order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc())
)


def my_enrolments(db_session: Session, user: User) -> list[EnrolmentLine]:
    """A learner's enrolments with their courses, newest first: one query of
    plain columns (a learner has dozens; ORM objects for each cost more than
    the rest of the page)."""
    rows = db_session.execute(_MY_ENROLMENTS, {"user_id": user.id})
    return [EnrolmentLine(*row) for row in rows]
