"""The trainer's home: the courses I teach, their learners' progress, quiz
results and responses for download, completions recorded by hand and attempts
reset (issue 15, point 5).

Who sees a course's learners is AnswerScope's one answer (quizzes.models): the
course's trainers and network administrators see all of them, an administrator
scoped to an organisation the learners of that subtree, anyone else no one.
Changing a learner's record (a completion by hand, an attempt reset) is the
course's teaching, like marking an essay: its trainers and network
administrators (AnswerScope.grades); a scoped administrator follows, but does
not change, what its trainers decide."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select, true
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.sql.elements import ColumnElement

from vle.accounts.models import Organisation, User
from vle.audit import audit
from vle.authoring.models import (
    MANUAL,
    Answer,
    AnswerScope,
    Attempt,
    AttemptState,
    Completion,
    Enrolment,
    EnrolmentStatus,
    ItemProgress,
    Question,
)
from vle.catalog import services as catalog
from vle.catalog.models import Course, CourseStatus, Item, Module, course_trainers
from vle.catalog.services import ItemEntry
from vle.db import utcnow
from vle.errors import Forbidden, Invalid, NotFound
from vle.learning import services as learning
from vle.learning.models import is_overdue, overdue_condition
from vle.learning.services import _add_months
from vle.quizzes import services as quizzes
from vle.reports import writers
from vle.reports.services import status_label

REASON_MAX = 500


class FieldError(Invalid):
    """Bad input on one field of a form (its name in `field`); nothing changed."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


# --------------------------------------------------------------------------- My courses


@dataclass(frozen=True)
class CourseLine:
    course: Course
    learners: int
    essays_waiting: int
    overdue: int


def _trained_ids(user: User) -> Any:
    return select(course_trainers.c.course_id).where(course_trainers.c.user_id == user.id)


def my_courses(db_session: Session, user: User, today: date) -> list[CourseLine]:
    """The courses `user` teaches, with how many learners are enrolled, how many
    essays wait for grading and how many learners are overdue: three queries."""
    if not getattr(user, "is_authenticated", False):
        return []
    courses = list(
        db_session.scalars(
            select(Course).where(Course.id.in_(_trained_ids(user))).order_by(Course.title)
        )
    )
    if not courses:
        return []
    ids = [c.id for c in courses]
    counts = dict(
        db_session.execute(
            select(Enrolment.course_id, func.count(Enrolment.id))
            .where(Enrolment.course_id.in_(ids), Enrolment.ended_at.is_(None))
            .group_by(Enrolment.course_id)
        ).all()
    )
    overdue = dict(
        db_session.execute(
            select(Enrolment.course_id, func.count(Enrolment.id))
            .where(Enrolment.course_id.in_(ids), overdue_condition(today))
            .group_by(Enrolment.course_id)
        ).all()
    )
    essays = dict(
        db_session.execute(
            select(Module.course_id, func.count(Attempt.id))
            .join(Item, Item.id == Attempt.item_id)
            .join(Module, Module.id == Item.module_id)
            .where(
                Module.course_id.in_(ids),
                Attempt.state == AttemptState.AWAITING_GRADING,
                Attempt.reset_at.is_(None),
            )
            .group_by(Module.course_id)
        ).all()
    )
    return [
        CourseLine(c, counts.get(c.id, 0), essays.get(c.id, 0), overdue.get(c.id, 0))
        for c in courses
    ]


# An administrator who teaches nothing still has a desk here. The permission
# model already says what they may do on it (AnswerScope, quizzes.models): an
# administrator scoped to an organisation follows the learners of that subtree
# in every course they can see (not drafts: Course.can_view), read-only; a
# network administrator edits every course (Course.can_edit), so follows and
# acts on all of them. The per-course pages (course_desk) have always let them
# in; what was missing was the way there. So /trainer/ lists, besides the
# courses they teach, the courses where their scope holds a learner, with the
# counts of those learners only, and the navigation offers it to them — as an
# LMS's organisation manager expects to follow their people's courses from
# the same desk the trainers use, not from an empty page.


def _followed_scope(user: Any) -> tuple[Any, ColumnElement[bool]]:
    """(whose learners, which courses) an administrator follows (see above)."""
    holds = AnswerScope(admin=user)  # network: everyone; scoped: the subtree
    visible = true() if user.is_network_admin else Course.status != CourseStatus.DRAFT
    return holds, visible


def followed_courses(db_session: Session, user: Any, today: date) -> list[CourseLine]:
    """An administrator's courses to follow (the comment above): those they can
    see where their scope holds an enrolled learner, other than those they
    teach (`my_courses` lists them), by title; learners, essays waiting and
    overdue learners counted in their scope only. Three queries."""
    if not getattr(user, "is_authenticated", False) or not user.is_admin:
        return []
    holds, visible = _followed_scope(user)
    counted = {
        course_id: (n, int(late or 0))
        for course_id, n, late in db_session.execute(
            select(
                Enrolment.course_id,
                func.count(Enrolment.id),
                func.sum(case((overdue_condition(today), 1), else_=0)),
            )
            .where(Enrolment.ended_at.is_(None), holds.holds_sql(Enrolment.user_id))
            .group_by(Enrolment.course_id)
        )
    }
    if not counted:
        return []
    courses = list(
        db_session.scalars(
            select(Course)
            .where(Course.id.in_(counted), visible, Course.id.not_in(_trained_ids(user)))
            .order_by(Course.title, Course.id)
        )
    )
    if not courses:
        return []
    essays = dict(
        db_session.execute(
            select(Module.course_id, func.count(Attempt.id))
            .join(Item, Item.id == Attempt.item_id)
            .join(Module, Module.id == Item.module_id)
            .where(
                Module.course_id.in_([c.id for c in courses]),
                Attempt.state == AttemptState.AWAITING_GRADING,
                Attempt.reset_at.is_(None),
                holds.holds_sql(Attempt.user_id),
            )
            .group_by(Module.course_id)
        ).all()
    )
    return [CourseLine(c, counted[c.id][0], essays.get(c.id, 0), counted[c.id][1]) for c in courses]


def desk_summary(db_session: Session, user: Any) -> tuple[bool, int]:
    """For the navigation: has `user` a desk here — every trainer and
    administrator has (My courses is where they create a course, issue 17) —
    and how many essays wait for grading in the courses they teach (one query)."""
    if not getattr(user, "is_authenticated", False) or user.role not in ("trainer", "admin"):
        return False, 0
    waiting = db_session.scalar(
        select(func.count(Attempt.id))
        .join(Item, Item.id == Attempt.item_id)
        .join(Module, Module.id == Item.module_id)
        .where(
            Module.course_id.in_(_trained_ids(user)),
            Attempt.state == AttemptState.AWAITING_GRADING,
            Attempt.reset_at.is_(None),
        )
    )
    return True, int(waiting or 0)


# --------------------------------------------------------------------------- one course


def course_desk(db_session: Session, slug: str, user: Any) -> tuple[Course, AnswerScope]:
    """The course and whose learners `user` sees in it: NotFound when there is no
    such course (or a draft they may not see), Forbidden when they see no one
    (quizzes.services.staff_scope: the staff's one rule)."""
    course = catalog.course_for(db_session, slug, user, with_items=False)
    return course, quizzes.staff_scope(db_session, user, course)


# A completion past its validity shows (and filters) as "expired" at once, by
# learning's one rule (shown_status_column), before the daily task ran.
GRID_STATUSES = ("not_started", "in_progress", "completed", "expired", "overdue")
GRID_SORTS = ("name", "organisation", "status", "progress", "last_access")


@dataclass
class Cell:
    state: str  # "" (not opened), "viewed", "done", "failed"

    @property
    def label(self) -> str:
        return cell_label(self.state)


def cell_label(state: str) -> str:
    return {
        "": _("Not started"),
        "viewed": _("Opened"),
        "done": _("Done"),
        "failed": _("Not passed"),
    }[state]


@dataclass
class Learner:
    user_id: int
    name: str
    email: str
    organisation: str
    organisation_code: str
    status: str
    progress: int
    due: date | None
    overdue: bool
    completed_at: datetime | None
    last_access: datetime | None
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Grid:
    items: list[ItemEntry]
    learners: list[Learner]
    organisations: list[tuple[str, str]]  # (code, name) of the learners in scope


def parse_grid_args(
    organisation: str | None, status: str | None, sort: str | None, direction: str | None
) -> tuple[str, str, str, str, dict[str, str]]:
    """The grid's filters and sort from the query string; errors by field name."""
    errors: dict[str, str] = {}
    organisation = (organisation or "").strip()
    status = (status or "").strip()
    if status and status not in GRID_STATUSES:
        errors["status"] = _("Choose a status from the list.")
        status = ""
    sort = sort if sort in GRID_SORTS else "name"
    direction = "desc" if direction == "desc" else "asc"
    return organisation, status, sort, direction, errors


def progress_grid(
    db_session: Session,
    course: Course,
    scope: AnswerScope,
    today: date,
    *,
    organisation: str = "",
    status: str = "",
    sort: str = "name",
    direction: str = "asc",
) -> Grid:
    """The learners (in `scope`) × the course's items: four queries whatever the
    number of learners or items. `organisation`: a code (unknown: nobody)."""
    items = [item for module in catalog.contents(db_session, course) for item in module.items]
    base = [
        Enrolment.course_id == course.id,
        Enrolment.ended_at.is_(None),
        User.erased_at.is_(None),
        scope.holds_sql(Enrolment.user_id),
    ]
    organisations = [
        (code, name)
        for code, name in db_session.execute(
            select(Organisation.code, Organisation.name)
            .join(User, User.organisation_id == Organisation.id)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(*base)
            .distinct()
            .order_by(Organisation.name, Organisation.code)
        )
    ]
    conditions = list(base)
    if organisation:
        conditions.append(Organisation.code == organisation)
    now = utcnow()
    if status == "overdue":
        conditions.append(overdue_condition(today))
    elif status:
        conditions.append(learning.shown_status_condition(status, now))
    rows = db_session.execute(
        select(
            Enrolment.user_id,
            User.name,
            User.email,
            Organisation.name,
            Organisation.code,
            learning.shown_status_column(now),
            Enrolment.progress,
            Enrolment.due,
            Enrolment.ended_at,
            Enrolment.completed_at,
            Enrolment.status,
        )
        .join(User, User.id == Enrolment.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(*conditions)
    ).all()
    learners = {
        r[0]: Learner(
            user_id=r[0],
            name=r[1],
            email=r[2],
            organisation=r[3],
            organisation_code=r[4],
            status=r[5],
            progress=r[6],
            due=r[7],
            overdue=is_overdue(r[7], r[10], r[8], today),  # the stored status, as the filter
            completed_at=r[9],
            last_access=None,
        )
        for r in rows
    }
    progress: dict[tuple[int, int], str] = {}
    if learners and items:
        enrolled = (
            select(Enrolment.user_id)
            .join(User, User.id == Enrolment.user_id)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(*conditions)
        )
        for user_id, item_id, viewed, completed, passed in db_session.execute(
            select(
                ItemProgress.user_id,
                ItemProgress.item_id,
                ItemProgress.viewed_at,
                ItemProgress.completed_at,
                ItemProgress.passed,
            ).where(
                ItemProgress.item_id.in_([i.id for i in items]),
                ItemProgress.user_id.in_(enrolled),
            )
        ):
            learner = learners.get(user_id)
            if learner is None:
                continue
            for moment in (viewed, completed):
                if moment is not None and (
                    learner.last_access is None or moment > learner.last_access
                ):
                    learner.last_access = moment
            if completed is not None:
                progress[(user_id, item_id)] = "done"
            elif passed is False:
                progress[(user_id, item_id)] = "failed"
            elif viewed is not None:
                progress[(user_id, item_id)] = "viewed"
    for learner in learners.values():
        learner.cells = [Cell(progress.get((learner.user_id, i.id), "")) for i in items]
    ordered = sorted(learners.values(), key=lambda x: (x.name.casefold(), x.user_id))
    keys: dict[str, Any] = {
        "organisation": lambda x: x.organisation.casefold(),
        "status": lambda x: GRID_STATUSES.index(x.status) if x.status in GRID_STATUSES else 9,
        "progress": lambda x: x.progress,
        "last_access": lambda x: (x.last_access is not None, x.last_access or datetime.min),
    }
    if sort in keys:
        ordered.sort(key=keys[sort])  # stable: by name within equal keys
    if direction == "desc":
        ordered.reverse()
    return Grid(items=items, learners=ordered, organisations=organisations)


def _local(moment: datetime | None, tz: Any) -> datetime | None:
    return moment.astimezone(tz) if moment is not None else None


def grid_headers(grid: Grid) -> list[str]:
    return [
        _("Learner"),
        _("Email"),
        _("Organisation"),
        _("Status"),
        _("Progress (%)"),
        _("Due"),
        _("Overdue"),
        _("Last access"),
        *[item.title for item in grid.items],
    ]


def grid_rows(grid: Grid, tz: Any) -> Iterator[list[writers.Cell]]:
    for x in grid.learners:
        yield [
            x.name,
            x.email,
            x.organisation,
            status_label(x.status),
            x.progress,
            x.due,
            _("Yes") if x.overdue else _("No"),
            _local(x.last_access, tz),
            *[cell.label for cell in x.cells],
        ]


def chunks(fmt: str, headers: Sequence[str], rows: Any, sheet: str) -> Iterator[bytes]:
    """A download through the one spreadsheet module (reports.writers): XLSX, plain
    CSV, or CSV for Excel in the reader's language ("csv-excel")."""
    return writers.spreadsheet_chunks(fmt, headers, rows, get_locale(), sheet)


def participants(grid: Grid) -> list[Learner]:
    return sorted(grid.learners, key=lambda x: (x.name.casefold(), x.user_id))


def record_download(
    db_session: Session,
    actor: User,
    address: str | None,
    course: Course,
    what: str,
    fmt: str,
    args: dict[str, str],
) -> None:
    """Note in the audit log who downloaded which of a course's learner data
    (`what`: progress, results, responses), as reports.record_export does for
    the completion report; the entry belongs to a scoped administrator's own
    organisation (None: network administrators read it). The caller commits."""
    organisation_id = None
    if getattr(actor, "is_admin", False) and not actor.network:
        organisation_id = actor.organisation_id
    audit(
        db_session, actor, "report.export", "report", None, address,
        {"report": what, "format": fmt, "via": "page", "course": course.slug, "filters": args},
        organisation_id=organisation_id,
        label=" ".join([what, course.slug, *(f"{k}={v}" for k, v in args.items())]),
    )  # fmt: skip


# --------------------------------------------------------------------------- quizzes


def quiz_items(grid_items: list[ItemEntry]) -> list[ItemEntry]:
    return [item for item in grid_items if item.kind == "quiz"]


def quiz_of(db_session: Session, course: Course, item_id: int) -> Item:
    item = catalog.item_of(db_session, course, item_id)
    if item.kind != "quiz":
        raise NotFound(_l("There is no such quiz."))
    return item


def _attempt_state(attempt: Attempt) -> str:
    if attempt.reset_at is not None:
        return _("Reset")
    words: dict[str, str] = {
        AttemptState.OPEN: _("In progress"),
        AttemptState.AWAITING_GRADING: _("Waiting for grading"),
        AttemptState.GRADED: _("Graded"),
    }
    return words.get(attempt.state, attempt.state)


def results_download(
    db_session: Session, user: User, course: Course, item: Item, tz: Any
) -> tuple[list[str], list[list[writers.Cell]]]:
    """Every attempt at the quiz the user may see, one row each."""
    results = quizzes.quiz_results(db_session, user, course, item)
    headers = [
        _("Learner"),
        _("Email"),
        _("Organisation"),
        _("Attempt"),
        _("State"),
        _("Started"),
        _("Submitted"),
        _("Score (%)"),
        _("Result"),
        _("Reset reason"),
    ]
    rows: list[list[writers.Cell]] = []
    for a in results.attempts:
        result = "" if a.passed is None else (_("Passed") if a.passed else _("Not passed"))
        rows.append(
            [
                a.user.name,
                a.user.email,
                a.user.organisation.name,
                a.number,
                _attempt_state(a),
                _local(a.started_at, tz),
                _local(a.submitted_at, tz),
                a.score,
                result,
                a.reset_reason,
            ]
        )
    return headers, rows


def _answer_text(value: Any) -> str:
    if value is None:
        return ""
    if quizzes.is_erased_answer(value):
        return _("(erased)")
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def responses_download(
    db_session: Session, user: User, course: Course, item: Item, scope: AnswerScope
) -> tuple[list[str], list[list[writers.Cell]]]:
    """Every answer given to the quiz by the learners the user may see: two queries."""
    if scope.nobody:
        raise Forbidden(_l("Only the course's trainers can see its learners' answers."))
    rows = db_session.execute(
        select(
            User.name,
            User.email,
            Attempt.number,
            Question.position,
            Question.title,
            Answer.value,
            Answer.fraction,
            Attempt.reset_at,
        )
        .join(Attempt, Attempt.id == Answer.attempt_id)
        .join(User, User.id == Attempt.user_id)
        .join(Question, Question.id == Answer.question_id)
        .where(Attempt.item_id == item.id, scope.holds_sql(Attempt.user_id))
        .order_by(User.name, User.id, Attempt.number, Question.position)
    ).all()
    headers = [
        _("Learner"),
        _("Email"),
        _("Attempt"),
        _("Question"),
        _("Answer"),
        _("Credit"),
        _("Reset"),
    ]
    out: list[list[writers.Cell]] = [
        [
            name,
            email,
            number,
            f"{position}. {title}" if title else str(position),
            _answer_text(value),
            fraction,
            _("Yes") if reset_at is not None else "",
        ]
        for name, email, number, position, title, value, fraction, reset_at in rows
    ]
    return headers, out


# --------------------------------------------------------------------------- changes


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise FieldError(_l("Give a reason."), field="reason")
    if len(text) > REASON_MAX:
        raise FieldError(_l("At most %(max)d characters.", max=REASON_MAX), field="reason")
    return text


def _require_teacher(scope: AnswerScope) -> None:
    if not scope.grades:
        raise Forbidden(_l("Only the course's trainers can change its learners' records."))


def _learner_enrolment(
    db_session: Session, course: Course, scope: AnswerScope, user_id: int
) -> tuple[User, Enrolment]:
    row = db_session.execute(
        select(User, Enrolment)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(
            Enrolment.course_id == course.id,
            Enrolment.user_id == user_id,
            Enrolment.ended_at.is_(None),
            User.erased_at.is_(None),
        )
        .with_for_update(of=Enrolment)
    ).one_or_none()
    if row is None or not scope.holds(row[0]):
        raise NotFound(_l("There is no such learner in this course."))
    return row[0], row[1]


def complete_by_hand(
    db_session: Session,
    actor: User,
    course: Course,
    scope: AnswerScope,
    user_id: int,
    reason: str | None,
    address: str | None,
    now: datetime | None = None,
) -> Completion:
    """Record that a learner completed the course elsewhere (face-to-face
    training): the enrolment completed, a Completion with method "manual" and
    the reason, an audit entry with before → after. Invalid without a reason;
    Conflict-free: a learner already completed is refused with a message."""
    _require_teacher(scope)
    text = _reason(reason)
    learner, enrolment = _learner_enrolment(db_session, course, scope, user_id)
    now = now or utcnow()
    # A completion past its validity is expired already (learning's one rule),
    # even before the daily task started it over: it may be recorded again.
    if enrolment.shown_status(now) == EnrolmentStatus.COMPLETED:
        raise FieldError(_l("This learner has already completed the course."), field="learner")
    before = {"status": enrolment.status, "progress": enrolment.progress}
    enrolment.status = EnrolmentStatus.COMPLETED
    enrolment.progress = 100
    enrolment.completed_at = now
    expires = _add_months(now, course.validity_months) if course.validity_months else None
    # The new completion's validity, as learning's own completion sets it: the
    # old date kept would show this completion expired at once.
    enrolment.expires_at = expires
    completion = Completion(
        user_id=learner.id,
        course_id=course.id,
        completed_at=now,
        expires_at=expires,
        method=MANUAL,
        reason=text,
    )
    db_session.add(completion)
    db_session.flush()
    learning.completed_by_hand(db_session, learner.id, course, completion)
    audit(
        db_session, actor, "completion.manual", "user", learner.id, address,
        {"course": course.slug, "before": before,
         "after": {"status": enrolment.status, "progress": 100}, "reason": text},
        organisation_id=learner.organisation_id, label=learner.email,
    )  # fmt: skip
    return completion


def resettable_attempts(
    db_session: Session, course: Course, scope: AnswerScope, item_ids: list[int]
) -> list[Attempt]:
    """The finished, counting attempts at the course's quizzes, of learners in scope."""
    if not item_ids:
        return []
    return list(
        db_session.scalars(
            select(Attempt)
            .join(User, User.id == Attempt.user_id)
            .join(
                Enrolment,
                and_(Enrolment.user_id == Attempt.user_id, Enrolment.course_id == course.id),
            )
            .where(
                Attempt.item_id.in_(item_ids),
                Attempt.reset_at.is_(None),
                Attempt.state != AttemptState.OPEN,
                Enrolment.ended_at.is_(None),
                User.erased_at.is_(None),
                scope.holds_sql(Attempt.user_id),
            )
            .options(contains_eager(Attempt.user))
            .order_by(User.name, Attempt.user_id, Attempt.item_id, Attempt.number)
        )
    )


def reset_attempt(
    db_session: Session,
    actor: User,
    course: Course,
    scope: AnswerScope,
    attempt_id: int,
    reason: str | None,
    address: str | None,
    now: datetime | None = None,
) -> Attempt:
    """Reset a learner's finished attempt at one of the course's quizzes: it stays
    in the history (`reset_at`, `reset_reason`) but no longer counts, so the
    learner may start again; the quiz's result is recounted from the attempts
    that still count. Audited with before → after."""
    _require_teacher(scope)
    text = _reason(reason)
    found = db_session.execute(
        select(Attempt, Item)
        .join(Item, Item.id == Attempt.item_id)
        .join(Module, Module.id == Item.module_id)
        .where(Attempt.id == attempt_id, Module.course_id == course.id)
        .with_for_update(of=Attempt)
    ).one_or_none()
    if found is None:
        raise NotFound(_l("There is no such attempt."))
    attempt, item = found
    learner = db_session.get(User, attempt.user_id)
    if learner is None or learner.erased_at is not None or not scope.holds(learner):
        raise NotFound(_l("There is no such attempt."))
    if attempt.reset_at is not None:
        raise FieldError(_l("This attempt has already been reset."), field="attempt")
    if attempt.state == AttemptState.OPEN:
        raise FieldError(
            _l("This attempt is still in progress: the learner can go on with it."),
            field="attempt",
        )
    now = now or utcnow()
    before = {"state": attempt.state, "score": attempt.score, "passed": attempt.passed}
    attempt.reset_at = now
    attempt.reset_reason = text
    db_session.flush()
    _recount_quiz(db_session, learner, course, item, now)
    audit(
        db_session, actor, "attempt.reset", "user", learner.id, address,
        {"course": course.slug, "item": item.id, "attempt": attempt.number,
         "before": before, "after": {"state": "reset"}, "reason": text},
        organisation_id=learner.organisation_id, label=learner.email,
    )  # fmt: skip
    return attempt


def _recount_quiz(
    db_session: Session, learner: User, course: Course, item: Item, now: datetime
) -> None:
    """The quiz's result from the attempts that still count: none left, the
    item is no longer passed (a course completion, once reached, stays)."""
    settings = quizzes.QuizSettings.of(item)
    score = quizzes.counting_score(settings, quizzes.attempts_of(db_session, item, learner))
    row = db_session.scalar(
        select(ItemProgress).where(
            ItemProgress.user_id == learner.id, ItemProgress.item_id == item.id
        )
    )
    if row is None:
        return
    if score is not None and score >= settings.pass_mark:
        quizzes.record_counting_result(db_session, learner, course, item, now)
        return
    row.completed_at = None
    if learning.enrolment_for(db_session, learner, course) is not None:
        # The course's progress recounted without the quiz (a completion stays).
        learning.record_result(db_session, learner, course, item, False, now)
    row.passed = None if score is None else False
