"""Mandatory training: a course assigned to chosen people, to a CSV of e-mails or to
everyone of an organisation subtree (of one role, or all).

Rules:
- Who assigns: an administrator (any published course, to people and
  organisations in their scope: `User.administers`) or a trainer of the course
  (to people and organisations of their own organisation's subtree). Anyone else,
  or anything outside that scope, is Forbidden.
- Assigned people are enrolled at once (method "assigned"; an enrolment they
  already have is kept as it is, one that was ended is reopened with its
  progress) and told by mail, once per assignment and person (the outbox key).
- A due date is optional and may be in the past (overdue at once). An
  enrolment's `due` is the earliest due date of the assignments in force that
  hold its learner to the course, kept on the row for the report.
- An organisation assignment also holds everyone who joins the subtree later,
  while it is not withdrawn: `hold_newcomers` (a periodic task) adds them.
  Large subtrees are filled by a background task in batches, with its progress
  (`status`, `assigned`) on the assignment.
- Nothing is deleted: withdrawing an assignment or unenrolling a person ends
  the rows (`ended_at`, `withdrawn_at`); reports keep counting what happened.
- Every assignment, every person it enrols or holds, every withdrawal and every
  unenrolment is in the audit log.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased, selectinload

from vle import periods
from vle.accounts import bulk
from vle.accounts.models import Organisation, Role, User
from vle.accounts.services import fold_email
from vle.audit import audit
from vle.catalog.models import Course, CourseStatus
from vle.db import utcnow
from vle.errors import Forbidden, Invalid, NotFound
from vle.inputs import has_control
from vle.learning.models import (
    Assignment,
    AssignmentMember,
    AssignmentStatus,
    Enrolment,
    EnrolmentStatus,
    overdue_condition,
)
from vle.learning.services import shown_status_column
from vle.mail import services as mail

BATCH = 1000
STALLED_AFTER = timedelta(minutes=10)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_PEOPLE = bulk.MAX_ROWS
ROLES = tuple(Role)

mail.KIND_LABELS["course_assigned"] = _l("courses assigned to you")

# Why a line of people could not be assigned: the code (API, CLI) and its words.
REASONS: dict[str, Any] = {
    "invalid": _l("not an e-mail address"),
    "unknown": _l("no account has this e-mail address"),
    "duplicate": _l("listed more than once"),
    "inactive": _l("the account is deactivated"),
    "out_of_scope": _l("outside your scope"),
    "already_assigned": _l("already assigned this course"),
}


def reason_words(code: str) -> str:
    return str(REASONS.get(code, code))


# --- who may assign what -----------------------------------------------------------------


def may_assign(actor: Any, course: Course) -> bool:
    """Administrators and the course's trainers (the Assign link, every route)."""
    if not getattr(actor, "is_authenticated", False) or not getattr(actor, "active", False):
        return False
    return bool(actor.is_admin or course.can_edit(actor))


def require_may_assign(actor: Any, course: Course) -> None:
    if not may_assign(actor, course):
        raise Forbidden(_l("Only administrators and the course's trainers can assign it."))
    if course.status != CourseStatus.PUBLISHED:
        raise Invalid(_l("Only a published course can be assigned."))


def _organisation_in_scope(actor: User | None, organisation: Organisation) -> bool:
    if actor is None:  # the command line
        return True
    if actor.is_admin:
        return actor.administers(organisation)
    return actor.organisation.contains(organisation)


def _scope_condition(actor: User | None) -> Any:
    """SQL: the user's organisation is in the actor's scope."""
    if actor is None or actor.is_network_admin:
        return True
    return User.organisation_id.in_(
        select(Organisation.id).where(
            Organisation.path.startswith(actor.organisation.path, autoescape=True)
        )
    )


def find_people(db_session: Session, actor: User, search: str, limit: int = 20) -> list[User]:
    """Active people in the actor's scope whose name or e-mail holds `search`
    (at least two characters), by name: for choosing whom to assign."""
    text = search.strip().lower()[:200]
    if len(text) < 2 or has_control(text):
        return []
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = (
        select(User)
        .where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
            ),
            User.active.is_(True),
            User.erased_at.is_(None),
            _scope_condition(actor),
        )
        .order_by(User.name, User.id)
        .limit(limit)
    )
    return list(db_session.scalars(query))


def organisation_by_code(db_session: Session, code: str) -> Organisation:
    """NotFound (422 for callers that name it in a body) for an unknown code."""
    code = code.strip()
    found = None
    if code and not has_control(code):
        found = db_session.scalar(select(Organisation).where(Organisation.code == code))
    if found is None:
        raise Invalid(_l("There is no organisation with the code “%(code)s”.", code=code[:64]))
    return found


def parse_due(text: str) -> date | None:
    """A due date from YYYY-MM-DD text (None when empty); Invalid otherwise, or
    outside the days vle takes (vle.periods). A past day is allowed."""
    text = text.strip()
    if not text:
        return None
    try:
        if not ISO_DATE.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise Invalid(
            _l("“%(value)s” is not a date: write it as YYYY-MM-DD.", value=text[:40])
        ) from None
    if not periods.within_range(day):
        raise Invalid(periods.out_of_range(day.isoformat()))
    return day


class NobodyToAssign(Invalid):
    """No line of the list can be assigned; `plan` says why for each."""

    def __init__(self, plan: PeoplePlan):
        reasons = "; ".join(f"{line.email}: {line.reason_text}" for line in plan.refused[:20])
        super().__init__(
            str(_l("Nobody in the list can be assigned this course (%(reasons)s).",
                   reasons=reasons))
        )  # fmt: skip
        self.plan = plan


# --- people from a list or a CSV file: the dry run ----------------------------------------


@dataclass
class PeopleLine:
    line: int
    email: str
    reason: str | None = None  # None: will be assigned
    user: User | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def reason_text(self) -> str:
        return reason_words(self.reason) if self.reason else ""


@dataclass
class PeoplePlan:
    lines: list[PeopleLine]

    @property
    def valid(self) -> list[PeopleLine]:
        return [line for line in self.lines if line.ok]

    @property
    def refused(self) -> list[PeopleLine]:
        return [line for line in self.lines if not line.ok]


def read_emails_csv(data: bytes) -> list[tuple[int, str]]:
    """(line, e-mail) from a CSV with an `email` column, under the users file's
    rules (strict UTF-8 with or without BOM, comma or semicolon, formula guards
    removed); FileInvalid for what stops the whole file."""
    text = bulk.decode(data)
    if not text.strip():
        raise bulk.FileInvalid(_l("The file is empty."))
    first_line = text.splitlines()[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        columns = [name.strip().lstrip("\ufeff").lower() for name in next(reader)]
        if "email" not in columns:
            raise bulk.FileInvalid(_l("Line 1 must name the columns, one of them “email”."))
        index = columns.index("email")
        found = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            cell = bulk.unguard(cells[index].strip()) if index < len(cells) else ""
            found.append((reader.line_num, cell))
            if len(found) > MAX_PEOPLE:
                raise bulk.FileInvalid(
                    _l("The file has more than %(n)d rows; split it into smaller files.",
                       n=MAX_PEOPLE)
                )  # fmt: skip
    except csv.Error as error:
        raise bulk.FileInvalid(
            _l("Line %(line)d cannot be read as CSV: %(error)s", line=reader.line_num, error=error)
        ) from None
    return found


def lines_of(text: str) -> list[tuple[int, str]]:
    """(line, e-mail) from text with one e-mail a line (blank lines skipped)."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def plan_people(
    db_session: Session, actor: User | None, course: Course, entries: Sequence[tuple[int, str]]
) -> PeoplePlan:
    """Each line's outcome, writing nothing: assigned, or refused with its reason
    (not an e-mail, unknown, listed twice, deactivated, outside the actor's scope,
    already assigned the course by an assignment in force)."""
    if len(entries) > MAX_PEOPLE:
        raise Invalid(_l("At most %(n)d people at a time.", n=MAX_PEOPLE))
    lines = []
    seen: set[str] = set()
    for number, raw in entries:
        email = fold_email(raw)[:254]
        line = PeopleLine(number, email)
        if has_control(email) or "@" not in email:
            line.reason = "invalid"
        elif email in seen:
            line.reason = "duplicate"
        seen.add(email)
        lines.append(line)
    wanted = sorted({line.email for line in lines if line.ok})
    users: dict[str, User] = {}
    held: set[int] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found = list(db_session.scalars(select(User).where(User.email.in_(chunk))))
        users.update((user.email, user) for user in found)
        held.update(
            db_session.scalars(
                select(AssignmentMember.user_id)
                .join(Assignment, Assignment.id == AssignmentMember.assignment_id)
                .where(
                    Assignment.course_id == course.id,
                    Assignment.withdrawn_at.is_(None),
                    AssignmentMember.ended_at.is_(None),
                    AssignmentMember.user_id.in_([user.id for user in found]),
                )
            )
        )
    for line in lines:
        if not line.ok:
            continue
        user = users.get(line.email)
        if user is None or user.is_erased:
            line.reason = "unknown"
        elif not user.active:
            line.reason = "inactive"
        elif not _organisation_in_scope(actor, user.organisation):
            line.reason = "out_of_scope"
        elif user.id in held:
            line.reason = "already_assigned"
        else:
            line.user = user
    return PeoplePlan(lines)


# --- assigning ---------------------------------------------------------------------------


def assign_people(
    db_session: Session,
    actor: User | None,
    course: Course,
    entries: Sequence[tuple[int, str]],
    due: date | None = None,
    address: str | None = None,
) -> tuple[Assignment, PeoplePlan]:
    """Assign the course to the valid lines of `entries` (planned again now), at
    once; the refused lines are kept on the assignment with their reasons and
    nothing is written for them. Invalid when no line can be assigned."""
    if actor is not None:
        require_may_assign(actor, course)
    elif course.status != CourseStatus.PUBLISHED:
        raise Invalid(_l("Only a published course can be assigned."))
    plan = plan_people(db_session, actor, course, entries)
    if not plan.valid:
        raise NobodyToAssign(plan)
    assignment = _new_assignment(db_session, actor, course, None, None, due, address, plan)
    _hold(db_session, assignment, [line.user for line in plan.valid if line.user], actor, address)
    assignment.status = AssignmentStatus.DONE
    db_session.flush()
    return assignment, plan


def plan_organisation(
    db_session: Session,
    actor: User | None,
    course: Course,
    organisation: Organisation,
    role: str | None,
) -> int:
    """How many people an organisation assignment would enrol now (the dry run);
    Forbidden outside the actor's scope."""
    if actor is not None:
        require_may_assign(actor, course)
    _check_organisation(actor, organisation, role)
    query = _candidates(organisation, role).with_only_columns(func.count())
    query = query.where(~_held_by_course(course.id))
    return db_session.scalar(query) or 0


# How many of the people an organisation assignment would enrol its dry run names.
SAMPLE = 50


@dataclass(frozen=True)
class Candidate:
    """A person an organisation assignment would enrol, as its dry run lists them."""

    name: str
    email: str
    organisation: str


def organisation_sample(
    db_session: Session,
    actor: User | None,
    course: Course,
    organisation: Organisation,
    role: str | None,
    limit: int = SAMPLE,
) -> list[Candidate]:
    """The first `limit` of the people `plan_organisation` counts, by name (then
    e-mail): the dry run shows who, not only how many. One query; Forbidden
    outside the actor's scope."""
    if actor is not None:
        require_may_assign(actor, course)
    _check_organisation(actor, organisation, role)
    home = aliased(Organisation)  # not Organisation: _candidates' subquery would correlate to it
    query = (
        _candidates(organisation, role)
        .with_only_columns(User.name, User.email, home.name)
        .join(home, home.id == User.organisation_id)
        .where(~_held_by_course(course.id))
        .order_by(func.lower(User.name), User.email, User.id)
        .limit(limit)
    )
    return [Candidate(name, email, org) for name, email, org in db_session.execute(query)]


def assign_organisation(
    db_session: Session,
    actor: User | None,
    course: Course,
    organisation: Organisation,
    role: str | None = Role.LEARNER,
    due: date | None = None,
    address: str | None = None,
) -> Assignment:
    """Record an assignment of the course to everyone of the organisation's
    subtree (of `role`; None: every role), queued: `fill_assignment` (a
    background task) enrols them. Forbidden outside the actor's scope."""
    if actor is not None:
        require_may_assign(actor, course)
    elif course.status != CourseStatus.PUBLISHED:
        raise Invalid(_l("Only a published course can be assigned."))
    _check_organisation(actor, organisation, role)
    assignment = _new_assignment(db_session, actor, course, organisation, role, due, address)
    db_session.flush()
    return assignment


def _check_organisation(actor: User | None, organisation: Organisation, role: str | None) -> None:
    if role is not None and role not in ROLES:
        raise Invalid(_l("Unknown role “%(role)s”: choose learner, trainer or admin.",
                         role=str(role)[:20]))  # fmt: skip
    if not _organisation_in_scope(actor, organisation):
        raise Forbidden(
            _l("The organisation “%(code)s” is outside your scope.", code=organisation.code)
        )


def _new_assignment(
    db_session: Session,
    actor: User | None,
    course: Course,
    organisation: Organisation | None,
    role: str | None,
    due: date | None,
    address: str | None,
    plan: PeoplePlan | None = None,
) -> Assignment:
    refused = (
        [{"email": line.email, "reason": line.reason} for line in plan.refused] if plan else []
    )
    assignment = Assignment(
        course_id=course.id,
        organisation_id=organisation.id if organisation else None,
        role=role if organisation else None,
        due=due,
        created_by_id=actor.id if actor else None,
        created_at=utcnow(),
        status=AssignmentStatus.QUEUED,
        assigned=0,
        refused=refused,
    )
    db_session.add(assignment)
    db_session.flush()
    details: dict[str, Any] = {
        "assignment": assignment.id,
        "due": due.isoformat() if due else None,
    }
    if organisation is not None:
        details.update(organisation=organisation.code, role=role)
    else:
        details.update(people=len(plan.valid) if plan else 0, refused=len(refused))
    audit(
        db_session, actor, "assignment.create", "course", course.id, address, details,
        organisation_id=organisation.id if organisation else _actor_org(actor),
        label=course.slug,
    )  # fmt: skip
    return assignment


def _actor_org(actor: User | None) -> int | None:
    """Whose administrators read an entry about a course: the actor's subtree."""
    if actor is None or actor.is_network_admin:
        return None
    return actor.organisation_id


def _candidates(organisation: Organisation, role: str | None) -> Any:
    """Active people of the subtree (of `role`), by id."""
    query = select(User).where(
        User.organisation_id.in_(
            select(Organisation.id).where(
                Organisation.path.startswith(organisation.path, autoescape=True)
            )
        ),
        User.active.is_(True),
        User.erased_at.is_(None),
    )
    if role is not None:
        query = query.where(User.role == role)
    return query


def people_of(organisation: Organisation, role: str | None) -> Any:
    """SQL: the active people of the organisation's subtree (of `role`; None: every
    role), whom an organisation assignment holds; learning plans hold the same people."""
    return _candidates(organisation, role)


def _held_by_course(course_id: int) -> Any:
    return exists().where(
        AssignmentMember.user_id == User.id,
        AssignmentMember.ended_at.is_(None),
        AssignmentMember.assignment_id.in_(
            select(Assignment.id).where(
                Assignment.course_id == course_id, Assignment.withdrawn_at.is_(None)
            )
        ),
    )


def fill_assignment(db_session: Session, assignment: Assignment, limit: int = BATCH) -> int:
    """Enrol up to `limit` people of an organisation assignment's subtree that it
    does not hold yet (never someone it held before: an unenrolled person stays
    unenrolled); how many. The caller commits between calls: each batch is
    progress others can see."""
    if assignment.organisation is None or assignment.is_withdrawn:
        return 0
    query = (
        _candidates(assignment.organisation, assignment.role)
        .where(
            ~exists().where(
                AssignmentMember.assignment_id == assignment.id,
                AssignmentMember.user_id == User.id,
            )
        )
        .order_by(User.id)
        .limit(limit)
    )
    users = list(db_session.scalars(query))
    if users:
        actor = db_session.get(User, assignment.created_by_id) if assignment.created_by_id else None
        _hold(db_session, assignment, users, actor, None)
        db_session.flush()
    return len(users)


def set_status(db_session: Session, assignment_id: int, status: str) -> Assignment | None:
    """Note how far the background task has come (None: no such assignment)."""
    assignment = db_session.get(Assignment, assignment_id)
    if assignment is not None:
        assignment.status = status
    return assignment


def open_to_newcomers(db_session: Session) -> list[int]:
    """The organisation assignments in force, filled once: newcomers join them."""
    return list(
        db_session.scalars(
            select(Assignment.id).where(
                Assignment.organisation_id.is_not(None),
                Assignment.withdrawn_at.is_(None),
                Assignment.status == AssignmentStatus.DONE,
            )
        )
    )


def stalled(db_session: Session, now: datetime | None = None) -> list[int]:
    """Assignments in force that their task has not finished `STALLED_AFTER`
    after they were made (the queue could not take it, or a worker died) or
    whose people were not all told by then: the periodic task finishes them."""
    before = (now or utcnow()) - STALLED_AFTER
    unfinished = select(Assignment.id).where(
        Assignment.withdrawn_at.is_(None),
        Assignment.status != AssignmentStatus.DONE,
        Assignment.created_at < before,
    )
    untold = (
        select(AssignmentMember.assignment_id)
        .where(
            AssignmentMember.told_at.is_(None),
            AssignmentMember.ended_at.is_(None),
            AssignmentMember.assigned_at < before,
        )
        .distinct()
    )
    return sorted(set(db_session.scalars(unfinished)) | set(db_session.scalars(untold)))


def _hold(
    db_session: Session,
    assignment: Assignment,
    users: Iterable[User],
    actor: User | None,
    address: str | None,
) -> None:
    """Make `users` members of the assignment: enrol those not enrolled, reopen
    ended enrolments, set due dates, audit each person. Their mail is queued
    next, by `tell` (the background task), once everyone is enrolled."""
    users = list(users)
    if not users:
        return
    now = utcnow()
    course = assignment.course
    ids = [user.id for user in users]
    enrolments = {
        enrolment.user_id: enrolment
        for enrolment in db_session.scalars(
            select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.user_id.in_(ids))
        )
    }
    for user in users:
        enrolment = enrolments.get(user.id)
        enrolled = enrolment is None or enrolment.ended_at is not None
        if enrolment is None:
            enrolment = Enrolment(
                user_id=user.id,
                course_id=course.id,
                method="assigned",
                status=EnrolmentStatus.NOT_STARTED,
                progress=0,
                enrolled_at=now,
            )
            db_session.add(enrolment)
        elif enrolment.ended_at is not None:
            enrolment.ended_at = None
        db_session.add(AssignmentMember(assignment_id=assignment.id, user_id=user.id,
                                        assigned_at=now))  # fmt: skip
        audit(
            db_session, actor, "assignment.assign", "user", user.id, address,
            {"course": course.slug, "assignment": assignment.id, "enrolled": enrolled,
             "due": assignment.due.isoformat() if assignment.due else None},
            organisation_id=user.organisation_id, label=user.email,
        )  # fmt: skip
    assignment.assigned = (assignment.assigned or 0) + len(users)
    db_session.flush()  # the batch's rows as multi-row inserts
    refresh_due(db_session, course.id, ids)


def refresh_due(db_session: Session, course_id: int, user_ids: list[int]) -> None:
    """Set the enrolments' due date to the earliest of the assignments in force
    that hold each learner to the course (None when none does), in one statement."""
    earliest = (
        select(func.min(Assignment.due))
        .join(AssignmentMember, AssignmentMember.assignment_id == Assignment.id)
        .where(
            AssignmentMember.user_id == Enrolment.user_id,
            Assignment.course_id == Enrolment.course_id,
            AssignmentMember.ended_at.is_(None),
            Assignment.withdrawn_at.is_(None),
        )
        .correlate(Enrolment)
        .scalar_subquery()
    )
    for start in range(0, len(user_ids), 500):
        db_session.execute(
            update(Enrolment)
            .where(
                Enrolment.course_id == course_id,
                Enrolment.user_id.in_(user_ids[start : start + 500]),
            )
            .values(due=earliest)
            .execution_options(synchronize_session="fetch")
        )


def tell(db_session: Session, assignment: Assignment, limit: int = BATCH // 5) -> int:
    """Queue the "course assigned" mail of up to `limit` people the assignment
    holds and has not told yet; how many. (A mail is rendered for each person:
    smaller batches than enrolling, so that a transaction stays short.)"""
    members = list(
        db_session.execute(
            select(AssignmentMember, User)
            .join(User, User.id == AssignmentMember.user_id)
            .where(
                AssignmentMember.assignment_id == assignment.id,
                AssignmentMember.told_at.is_(None),
                AssignmentMember.ended_at.is_(None),
            )
            .order_by(AssignmentMember.id)
            .limit(limit)
        )
    )
    now = utcnow()
    mail.notify_many(
        db_session, [_told(assignment, assignment.course, user) for _member, user in members]
    )
    for member, _user in members:
        member.told_at = now
    db_session.flush()
    return len(members)


def _told(assignment: Assignment, course: Course, user: User) -> mail.Notice:
    """The "course assigned" notification (on My learning and by mail), once
    per assignment and person."""
    course_url = mail.external_url("learning.course", slug=course.slug)
    return mail.Notice(
        user_id=user.id,
        key=f"assigned:{assignment.id}:{user.id}",
        to_address=user.email,
        to_name=user.name,
        locale=user.locale,
        kind="course_assigned",
        context={"course_title": course.title, "course_url": course_url, "due": assignment.due},
        url=course_url,
    )


# --- withdrawing and unenrolling ---------------------------------------------------------


def withdraw(
    db_session: Session, actor: User | None, assignment: Assignment, address: str | None = None
) -> None:
    """End an assignment: it holds nobody from now on (newcomers included) and the
    due dates it set are recomputed; enrolments and progress stay."""
    if actor is not None:
        require_may_manage(actor, assignment)
    if assignment.is_withdrawn:
        return
    now = utcnow()
    assignment.withdrawn_at = now
    assignment.withdrawn_by_id = actor.id if actor else None
    db_session.execute(
        update(AssignmentMember)
        .where(AssignmentMember.assignment_id == assignment.id, AssignmentMember.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    db_session.flush()
    ids = list(
        db_session.scalars(
            select(AssignmentMember.user_id).where(AssignmentMember.assignment_id == assignment.id)
        )
    )
    refresh_due(db_session, assignment.course_id, ids)
    audit(
        db_session, actor, "assignment.withdraw", "course", assignment.course_id, address,
        {"assignment": assignment.id, "people": len(ids)},
        organisation_id=assignment.organisation_id or _actor_org(actor),
        label=assignment.course.slug,
    )  # fmt: skip


def unenrol(
    db_session: Session,
    actor: User | None,
    course: Course,
    user: User,
    address: str | None = None,
) -> Enrolment:
    """End a learner's enrolment (and the assignments that hold them to the
    course): the row, its progress and its history stay; the learner no longer
    sees the course as theirs. NotFound when they are not enrolled."""
    if actor is not None:
        require_may_assign(actor, course)
        if not _organisation_in_scope(actor, user.organisation):
            raise Forbidden(_l("This account is outside your scope."))
    enrolment = db_session.scalar(
        select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.user_id == user.id)
    )
    if enrolment is None or enrolment.ended_at is not None:
        raise NotFound(_l("This person is not enrolled in the course."))
    now = utcnow()
    enrolment.ended_at = now
    db_session.execute(
        update(AssignmentMember)
        .where(
            AssignmentMember.user_id == user.id,
            AssignmentMember.ended_at.is_(None),
            AssignmentMember.assignment_id.in_(
                select(Assignment.id).where(Assignment.course_id == course.id)
            ),
        )
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    db_session.flush()
    refresh_due(db_session, course.id, [user.id])
    audit(
        db_session, actor, "enrolment.end", "user", user.id, address,
        {"course": course.slug, "status": enrolment.status, "progress": enrolment.progress},
        organisation_id=user.organisation_id, label=user.email,
    )  # fmt: skip
    return enrolment


# --- reading -----------------------------------------------------------------------------


def assignment_for(db_session: Session, actor: User, assignment_id: int) -> Assignment:
    """An assignment its reader may see (its course's trainers, administrators whose
    scope holds its organisation or its author's); NotFound otherwise."""
    assignment = db_session.get(Assignment, assignment_id)
    if assignment is None or not may_manage(actor, assignment):
        raise NotFound(_l("There is no such assignment."))
    return assignment


def may_manage(actor: User, assignment: Assignment) -> bool:
    if not may_assign(actor, assignment.course):
        return False
    if assignment.organisation is not None:
        return _organisation_in_scope(actor, assignment.organisation)
    author = assignment.created_by
    return (
        actor.is_network_admin
        or assignment.created_by_id == actor.id
        or (author is not None and _organisation_in_scope(actor, author.organisation))
        or assignment.course.can_edit(actor)
    )


def require_may_manage(actor: User, assignment: Assignment) -> None:
    if not may_manage(actor, assignment):
        raise Forbidden(_l("This assignment is outside your scope."))


@dataclass(frozen=True)
class AssignmentLine:
    """An assignment of a course, with how far the people it holds have come."""

    assignment: Assignment
    held: int
    not_started: int
    in_progress: int
    completed: int
    overdue: int


def course_assignments(
    db_session: Session, actor: User, course: Course, today: date | None = None
) -> list[AssignmentLine]:
    """The course's assignments the actor may see, newest first, each with the
    statuses of the enrolments of the people it holds or held: a fixed number of
    queries whatever their number."""
    if not may_assign(actor, course):
        raise Forbidden(_l("Only administrators and the course's trainers can assign it."))
    today = today or utcnow().date()
    assignments = [
        a
        for a in db_session.scalars(
            select(Assignment)
            .where(Assignment.course_id == course.id)
            .options(selectinload(Assignment.organisation), selectinload(Assignment.created_by))
            .order_by(Assignment.created_at.desc(), Assignment.id.desc())
        )
        if may_manage(actor, a)
    ]
    if not assignments:
        return []
    late = case((overdue_condition(today), 1), else_=0)
    shown = shown_status_column(utcnow())  # a completion past its validity: expired at once
    rows = db_session.execute(
        select(AssignmentMember.assignment_id, shown, func.count(), func.sum(late))
        .join(
            Enrolment,
            (Enrolment.user_id == AssignmentMember.user_id) & (Enrolment.course_id == course.id),
        )
        .where(AssignmentMember.assignment_id.in_([a.id for a in assignments]))
        .group_by(AssignmentMember.assignment_id, shown)
    )
    counts: dict[int, dict[str, int]] = {}
    for assignment_id, status, n, n_late in rows:
        entry = counts.setdefault(assignment_id, {"overdue": 0})
        entry[status] = n
        entry["overdue"] += int(n_late or 0)
    lines = []
    for a in assignments:
        entry = counts.get(a.id, {"overdue": 0})
        lines.append(
            AssignmentLine(
                assignment=a,
                held=sum(entry.get(status, 0) for status in EnrolmentStatus),
                not_started=entry.get(EnrolmentStatus.NOT_STARTED, 0),
                in_progress=entry.get(EnrolmentStatus.IN_PROGRESS, 0),
                completed=entry.get(EnrolmentStatus.COMPLETED, 0),
                overdue=entry["overdue"],
            )
        )
    return lines


@dataclass(frozen=True)
class PersonLine:
    """A person an assignment holds (or held), with their enrolment in the course."""

    user: User
    member: AssignmentMember
    enrolment: Enrolment | None


def assignment_people(
    db_session: Session, assignment: Assignment, page: int = 1, per_page: int = 100
) -> tuple[list[PersonLine], int]:
    """One page of the people of an assignment, by name, with their enrolments,
    and how many there are in all: two queries."""
    total = db_session.scalar(
        select(func.count())
        .select_from(AssignmentMember)
        .where(AssignmentMember.assignment_id == assignment.id)
    )
    page = max(1, page)
    rows: Sequence[Any] = []
    if (page - 1) * per_page < (total or 0):
        rows = db_session.execute(
            select(User, AssignmentMember, Enrolment)
            .join(AssignmentMember, AssignmentMember.user_id == User.id)
            .outerjoin(
                Enrolment,
                (Enrolment.user_id == User.id) & (Enrolment.course_id == assignment.course_id),
            )
            .where(AssignmentMember.assignment_id == assignment.id)
            .order_by(User.name, User.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
    return [PersonLine(*row) for row in rows], total or 0
