"""Quizzes: the question bank of a quiz item, attempts, grading and results.

The rules an attempt keeps:
- a learner has at most one open attempt per quiz (a partial unique index holds
  it whatever races); starting while one is open resumes it;
- what the attempt shows (which questions, in which order, each question's choice
  order) is fixed when it starts, so a resume shows the same quiz;
- every answer is written the moment it is given; nothing is kept in a session;
- the deadline is the server's: answers later than deadline + GRACE are refused,
  and an overdue attempt is graded with what was saved when it is next touched;
- submitting is idempotent: the first submit (a conditional UPDATE ... WHERE
  state = 'open') grades, every later one returns the same result;
- the counting attempt (highest, last or average of the graded ones) decides
  whether the quiz item is passed, which learning turns into course progress.
"""

from __future__ import annotations

import functools
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import CursorResult, Table, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from vle.accounts import services as accounts
from vle.accounts.models import User
from vle.audit import audit
from vle.catalog.models import Course, Item, Module
from vle.db import utcnow
from vle.errors import Conflict, Forbidden, Invalid, NotFound
from vle.formats import format_percent
from vle.learning import services as learning
from vle.learning.models import Enrolment
from vle.quizzes import gift, notices, questions
from vle.quizzes.models import (
    Accommodation,
    Answer,
    AnswerScope,
    Attempt,
    AttemptState,
    Question,
)
from vle.sanitize import clean_html, markdown_to_html

# Answers may arrive this long after the deadline: the request left the browser in
# time but the network or a queue held it up.
GRACE = timedelta(seconds=30)

LAYOUTS = ("all_on_one_page", "one_per_page")
REVIEWS = ("after_submit", "after_close", "never")
GRADINGS = ("highest", "last", "average")


# --------------------------------------------------------------------------- question bank


def render_text(text: str, text_format: str) -> str:
    """Question or answer text as safe HTML, by its GIFT format."""
    if text_format == "markdown":
        return markdown_to_html(text)
    if text_format == "plain":
        return str(escape(text)).replace("\n", "<br>")
    return clean_html(text)  # "moodle" and "html" both allow HTML


_render_cached = functools.lru_cache(maxsize=2048)(render_text)

_LONE_PARAGRAPH = re.compile(r"^<p>(?P<inner>(?:(?!</?p>).)*)</p>$", re.DOTALL)


@functools.lru_cache(maxsize=8192)
def render_inline(text: str, text_format: str) -> str:
    """Short text (a choice, a stem, a feedback line) as safe HTML without the
    paragraph Markdown wraps around it, so that it sits inside a label.
    Cached: every page and API answer of an attempt shows the same choices, and
    sanitising them again each time was most of the cost of showing a quiz."""
    html = render_text(text, text_format).strip()
    match = _LONE_PARAGRAPH.match(html)
    return match.group("inner") if match else html


def sync_questions(db_session: Session, item: Item, questions: list[gift.Question]) -> None:
    """Make the item's question bank match `questions`, keeping the ids of
    questions at the same position so that attempts keep their answers."""
    existing = {
        q.position: q
        for q in db_session.scalars(select(Question).where(Question.item_id == item.id))
    }
    for position, parsed in enumerate(questions, start=1):
        row = existing.get(position) or Question(item_id=item.id, position=position)
        row.type = parsed.type
        row.title = parsed.title or ""
        row.category = parsed.category or ""
        row.text_html = render_text(parsed.text, parsed.text_format)
        row.spec = parsed.to_dict()
        db_session.add(row)
    db_session.execute(
        delete(Question).where(Question.item_id == item.id, Question.position > len(questions))
    )
    db_session.flush()


# The statements an attempt's start, saves and pages run, built once: building
# a statement costs as much as running it on an indexed lookup.
_QUESTIONS_OF = (
    select(Question).where(Question.item_id == bindparam("item_id")).order_by(Question.position)
)
_QUESTIONS_ASKED = select(Question).where(Question.id.in_(bindparam("ids", expanding=True)))
_ANSWERS_OF = select(Answer).where(Answer.attempt_id == bindparam("attempt_id"))
_ACCOMMODATION = select(Accommodation).where(
    Accommodation.item_id == bindparam("item_id"), Accommodation.user_id == bindparam("user_id")
)
_OPEN_ATTEMPT = select(Attempt).where(
    Attempt.item_id == bindparam("item_id"),
    Attempt.user_id == bindparam("user_id"),
    Attempt.state == AttemptState.OPEN,
)
# The learner's attempts at a quiz: how many, and the last one's number.
# Attempts a trainer reset do not count (but keep their number).
_ATTEMPTS_COUNT = select(
    func.count(Attempt.id).filter(Attempt.reset_at.is_(None)), func.max(Attempt.number)
).where(Attempt.item_id == bindparam("item_id"), Attempt.user_id == bindparam("user_id"))


def questions_of(db_session: Session, item: Item) -> list[Question]:
    return list(db_session.scalars(_QUESTIONS_OF, {"item_id": item.id}))


def _questions_asked(db_session: Session, attempt: Attempt) -> dict[int, Question]:
    """The attempt's questions still in the bank, by id."""
    return {
        q.id: q for q in db_session.scalars(_QUESTIONS_ASKED, {"ids": list(attempt.question_ids)})
    }


def parsed(question: Question) -> gift.Question:
    return gift.Question.from_dict(question.spec)


def is_gradable(question: Question) -> bool:
    try:
        return questions.is_gradable(question.spec)
    except ValueError:  # a type this version does not know: shown, never counted
        return False


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class QuizSettings:
    """A quiz item's settings (Item.settings), with the defaults of the library format."""

    pass_mark: int = 60
    attempts: int | None = None  # None: unlimited
    time_limit_minutes: int | None = None
    shuffle: bool = False
    draw: int | None = None
    layout: str = "all_on_one_page"
    review: str = "after_submit"
    grading: str = "highest"

    @classmethod
    def of(cls, item: Item) -> QuizSettings:
        raw = item.settings or {}

        def positive(key: str) -> int | None:
            value = raw.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                return None
            return value

        def one_of(key: str, allowed: tuple[str, ...], default: str) -> str:
            value = raw.get(key)
            return value if value in allowed else default

        pass_mark = raw.get("pass_mark", 60)
        if isinstance(pass_mark, bool) or not isinstance(pass_mark, int | float):
            pass_mark = 60
        return cls(
            pass_mark=int(min(100, max(0, pass_mark))),
            attempts=positive("attempts"),
            time_limit_minutes=positive("time_limit_minutes"),
            shuffle=bool(raw.get("shuffle", False)),
            draw=positive("draw"),
            layout=one_of("layout", LAYOUTS, "all_on_one_page"),
            review=one_of("review", REVIEWS, "after_submit"),
            grading=one_of("grading", GRADINGS, "highest"),
        )


# --------------------------------------------------------------------------- accommodations


def accommodation_for(db_session: Session, item: Item, user: User) -> Accommodation | None:
    return db_session.scalar(_ACCOMMODATION, {"item_id": item.id, "user_id": user.id})


def accommodations_of(db_session: Session, item: Item) -> list[Accommodation]:
    return list(
        db_session.scalars(
            select(Accommodation)
            .where(Accommodation.item_id == item.id)
            .options(joinedload(Accommodation.user))
            .order_by(Accommodation.id)
        )
    )


# Said alike of an unknown address and of someone outside the course: the form
# tells a trainer nothing about people who are not the course's learners.
NO_SUCH_LEARNER = _l("There is no learner with this email address in this course.")


def course_learner(db_session: Session, course: Course, email: str) -> User:
    """The learner enrolled in `course` with this email address."""
    learner = accounts.user_by_email(db_session, email)
    if learner is None or learning.enrolment_for(db_session, learner, course) is None:
        raise NotFound(NO_SUCH_LEARNER)
    return learner


def set_accommodation(
    db_session: Session,
    editor: User,
    course: Course,
    item: Item,
    learner: User,
    extra_minutes: int,
    extra_attempts: int,
    note: str = "",
    address: str | None = None,
) -> Accommodation | None:
    """Give a learner extra time and/or extra attempts on one quiz. Only the
    course's editors may; the learner must be enrolled. Zero and zero removes
    the accommodation. An open attempt's deadline moves with the extra time."""
    if not course.can_edit(editor):
        raise Forbidden(_l("Only the course's trainers can change accommodations."))
    if learning.enrolment_for(db_session, learner, course) is None:
        raise NotFound(NO_SUCH_LEARNER)
    if not (0 <= extra_minutes <= 24 * 60) or not (0 <= extra_attempts <= 100):
        raise Invalid(_l("Extra time is 0 to 1440 minutes and extra attempts 0 to 100."))
    row = accommodation_for(db_session, item, learner)
    before = row.extra_minutes if row else 0
    before_attempts = row.extra_attempts if row else 0
    if extra_minutes == 0 and extra_attempts == 0:
        if row is not None:
            db_session.delete(row)
        row = None
    else:
        if row is None:
            row = Accommodation(item_id=item.id, user_id=learner.id)
            db_session.add(row)
        row.extra_minutes, row.extra_attempts, row.note = extra_minutes, extra_attempts, note[:500]
    current = open_attempt(db_session, item, learner)
    if current is not None and current.deadline is not None and extra_minutes != before:
        current.deadline += timedelta(minutes=extra_minutes - before)
    if (before, before_attempts) != (extra_minutes, extra_attempts):
        # The note is left out: it may say why (a health matter), not for the log.
        audit(
            db_session, editor, "accommodation.set", "user", learner.id, address,
            {"course": course.slug, "quiz": item.title,
             "extra_minutes": [before, extra_minutes],
             "extra_attempts": [before_attempts, extra_attempts]},
            organisation_id=learner.organisation_id, label=learner.email,
        )  # fmt: skip
    db_session.flush()
    return row


# --------------------------------------------------------------------------- attempts


def attempts_of(db_session: Session, item: Item, user: User) -> list[Attempt]:
    """A learner's attempts at a quiz, first to last."""
    return list(
        db_session.scalars(
            select(Attempt)
            .where(Attempt.item_id == item.id, Attempt.user_id == user.id)
            .order_by(Attempt.number)
        )
    )


def open_attempt(db_session: Session, item: Item, user: User) -> Attempt | None:
    return db_session.scalar(_OPEN_ATTEMPT, {"item_id": item.id, "user_id": user.id})


def attempts_allowed(settings: QuizSettings, accommodation: Accommodation | None) -> int | None:
    if settings.attempts is None:
        return None
    return settings.attempts + (accommodation.extra_attempts if accommodation else 0)


def time_limit(settings: QuizSettings, accommodation: Accommodation | None) -> int | None:
    """Minutes a learner has for one attempt (None: no limit)."""
    if settings.time_limit_minutes is None:
        return None
    return settings.time_limit_minutes + (accommodation.extra_minutes if accommodation else 0)


def _choose_questions(
    bank: list[Question], settings: QuizSettings, rng: random.Random
) -> list[Question]:
    """The questions of a new attempt, in the order it shows them. With a draw or
    shuffling, text-only items (descriptions) are left out: they introduce what
    follows them, and would introduce something else."""
    gradable = [q for q in bank if is_gradable(q)]
    if not settings.draw and not settings.shuffle:
        return bank
    chosen = gradable
    if settings.draw and settings.draw < len(gradable):
        chosen = sorted(rng.sample(gradable, settings.draw), key=lambda q: q.position)
    if settings.shuffle:
        chosen = list(chosen)
        rng.shuffle(chosen)
    return chosen


def _choice_order(chosen: list[Question], shuffle: bool, rng: random.Random) -> dict[str, Any]:
    if not shuffle:
        return {}
    order = {}
    for question in chosen:
        try:
            ids = questions.shuffle_ids(question.spec, rng)
        except ValueError:
            continue
        if ids:
            order[str(question.id)] = ids
    return order


@dataclass(frozen=True)
class _NewAttempt:
    """An attempt decided on (`_plan_start`) and not yet written: the new
    attempt, and what the decision read that a concurrent request could change."""

    attempt: Attempt
    enrolment: Enrolment
    used: int  # the learner's attempts at the quiz (the new one's number follows the last)


def start_attempt(
    db_session: Session,
    user: User,
    course: Course,
    item: Item,
    now: datetime | None = None,
    rng: random.Random | None = None,
    *,
    writing: Callable[[], AbstractContextManager[Session]] | None = None,
) -> tuple[Attempt, bool]:
    """Resume the learner's open attempt, or start a new one. Returns (attempt,
    created). Needs an enrolment and an attempt left; an overdue open attempt is
    graded first (so it counts as used).

    `writing`: how the caller opens a write transaction (the views pass
    `db.transaction`). Everything is then decided on reads made before it, and
    the write transaction only checks, in one query, that the learner's
    attempts are still as read, then inserts: on SQLite, whose writers take
    turns, a class starting a quiz at once holds the write lock a few
    statements each, and resuming an open attempt takes no write at all.
    Grading an overdue attempt is a transaction of its own, so that it stands
    even if starting is then refused. Without `writing`, all of it happens in
    `db_session` and the caller commits."""
    now = now or utcnow()
    rng = rng or random.SystemRandom()
    if writing is None:
        return _start(db_session, user, course, item, now, rng)
    planned = _plan_start(db_session, user, course, item, now, rng)
    if isinstance(planned, Attempt):
        if not is_overdue(planned, now):
            return planned, False
        with writing() as write_session:
            close_overdue_attempt_of(write_session, course, item, user, now)
    with writing() as write_session:
        if isinstance(planned, _NewAttempt) and _unchanged(write_session, user, item, planned):
            return _write_start(write_session, user, course, item, planned, now)
        # Another request started or finished an attempt meanwhile: decide again.
        return _start(write_session, user, course, item, now, rng)


def _start(
    db_session: Session, user: User, course: Course, item: Item, now: datetime, rng: random.Random
) -> tuple[Attempt, bool]:
    """`start_attempt` within one transaction."""
    planned = _plan_start(db_session, user, course, item, now, rng)
    if isinstance(planned, Attempt):
        if not close_if_overdue(db_session, planned, now, course, item):
            return planned, False
        planned = _plan_start(db_session, user, course, item, now, rng)
        if isinstance(planned, Attempt):  # pragma: no cover - the one open attempt was closed
            return planned, False
    return _write_start(db_session, user, course, item, planned, now)


def _plan_start(
    db_session: Session,
    user: User,
    course: Course,
    item: Item,
    now: datetime,
    rng: random.Random,
) -> Attempt | _NewAttempt:
    """Reads only: the learner's open attempt at the quiz, if any (overdue or
    not), or the attempt to start; raises when the learner may not start one."""
    if item.kind != "quiz":
        raise NotFound(_l("There is no such quiz."))
    enrolment = learning.enrolment_for(db_session, user, course)
    if enrolment is None:
        raise Forbidden(_l("Enrol in the course to take this quiz."))
    current = open_attempt(db_session, item, user)
    if current is not None:
        return current
    settings = QuizSettings.of(item)
    accommodation = accommodation_for(db_session, item, user)
    allowed = attempts_allowed(settings, accommodation)
    used, last_number = db_session.execute(
        _ATTEMPTS_COUNT, {"item_id": item.id, "user_id": user.id}
    ).one()
    if allowed is not None and used >= allowed:
        raise Conflict(_l("You have used all %(count)d attempts at this quiz.", count=allowed))
    bank = questions_of(db_session, item)
    if not any(is_gradable(q) for q in bank):
        raise Conflict(_l("This quiz has no questions yet."))
    chosen = _choose_questions(bank, settings, rng)
    minutes = time_limit(settings, accommodation)
    attempt = Attempt(
        item_id=item.id,
        user_id=user.id,
        number=(last_number or 0) + 1,
        state=AttemptState.OPEN,
        started_at=now,
        deadline=now + timedelta(minutes=minutes) if minutes else None,
        question_ids=[q.id for q in chosen],
        choice_order=_choice_order(chosen, settings.shuffle, rng),
    )
    return _NewAttempt(attempt, enrolment, used)


def _unchanged(db_session: Session, user: User, item: Item, planned: _NewAttempt) -> bool:
    """Are the learner's attempts at the quiz as they were when `planned` was
    decided? (Attempts are only ever added, and numbered in turn.)"""
    used, last_number = db_session.execute(
        _ATTEMPTS_COUNT, {"item_id": item.id, "user_id": user.id}
    ).one()
    return (used, (last_number or 0) + 1) == (planned.used, planned.attempt.number)


def _write_start(
    db_session: Session,
    user: User,
    course: Course,
    item: Item,
    planned: _NewAttempt,
    now: datetime,
) -> tuple[Attempt, bool]:
    attempt = planned.attempt
    try:
        with db_session.begin_nested():  # a double-clicked Start attempt starts one
            db_session.add(attempt)
    except IntegrityError:
        current = open_attempt(db_session, item, user)
        if current is None:
            raise
        return current, False
    learning.record_view(db_session, user, course, item, now, enrolment=planned.enrolment)
    return attempt, True


def attempt_for(db_session: Session, user: User, attempt_id: int) -> Attempt:
    """The user's own attempt. Anyone else's does not exist for them (404, so
    that guessing ids tells nothing)."""
    attempt = db_session.get(Attempt, attempt_id)
    if attempt is None or attempt.user_id != getattr(user, "id", None):
        raise NotFound(_l("There is no such attempt."))
    return attempt


def item_and_course(db_session: Session, attempt: Attempt) -> tuple[Item, Course]:
    item = db_session.scalar(
        select(Item)
        .where(Item.id == attempt.item_id)
        .options(joinedload(Item.module).joinedload(Module.course))
    )
    if item is None:  # pragma: no cover - the foreign key cascades
        raise NotFound(_l("There is no such quiz."))
    return item, item.module.course


def is_overdue(attempt: Attempt, now: datetime) -> bool:
    return attempt.is_open and attempt.deadline is not None and now > attempt.deadline + GRACE


def close_if_overdue(
    db_session: Session,
    attempt: Attempt,
    now: datetime | None = None,
    course: Course | None = None,
    item: Item | None = None,
) -> bool:
    """Grade an open attempt whose time ran out, with what was saved. True when
    it did (the caller commits)."""
    now = now or utcnow()
    if not is_overdue(attempt, now):
        return False
    if course is None or item is None:
        item, course = item_and_course(db_session, attempt)
    _finish(db_session, attempt, course, item, now, submitted_at=attempt.deadline)
    return True


def close_overdue_attempt_of(
    db_session: Session, course: Course, item: Item, user: User, now: datetime | None = None
) -> bool:
    """Grade the learner's open attempt at this quiz if its time ran out (before
    starting another, so that the grading stands even if starting is refused)."""
    current = open_attempt(db_session, item, user)
    return current is not None and close_if_overdue(db_session, current, now, course, item)


def close_overdue_of_item(db_session: Session, course: Course, item: Item, now: datetime) -> int:
    """Grade every overdue open attempt of a quiz (before a results page)."""
    overdue = list(
        db_session.scalars(
            select(Attempt).where(
                Attempt.item_id == item.id,
                Attempt.state == AttemptState.OPEN,
                Attempt.deadline.is_not(None),
                Attempt.deadline < now - GRACE,
            )
        )
    )
    for attempt in overdue:
        close_if_overdue(db_session, attempt, now, course, item)
    return len(overdue)


def _lock(db_session: Session, attempt: Attempt) -> Attempt:
    """Reload the attempt holding its row lock (PostgreSQL; SQLite's writers are
    serialised by BEGIN IMMEDIATE), so a save and a submit never interleave."""
    return db_session.execute(
        select(Attempt)
        .where(Attempt.id == attempt.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _check_writable(attempt: Attempt, now: datetime) -> None:
    if not attempt.is_open:
        raise Conflict(_l("This attempt has been submitted; its answers can no longer change."))
    if attempt.deadline is not None and now > attempt.deadline + GRACE:
        raise Conflict(_l("The time for this attempt is up; its answers can no longer change."))


def _normalise(spec: dict[str, Any], raw: Any) -> Any:
    if isinstance(raw, str) and len(raw) > questions.MAX_ANSWER_LENGTH:
        raise Invalid(
            _l(
                "This answer is too long: at most %(max)s characters, this one has %(length)s.",
                max=questions.number_text(questions.MAX_ANSWER_LENGTH, grouped=True),
                length=questions.number_text(len(raw), grouped=True),
            )
        )
    try:
        return questions.normalise(spec, raw)
    except questions.AnswerError as error:
        raise Invalid(
            _l("This answer cannot be saved: %(reason)s.", reason=error.message)
        ) from None
    except ValueError:
        raise Invalid(_l("This question takes no answer.")) from None


# Declarative classes map to a Table; SQLAlchemy types __table__ as the wider FromClause.
_QUESTIONS = cast(Table, Question.__table__)
_ANSWERS = cast(Table, Answer.__table__)
# The autosave's statements, built once (it is a quiz's hot path, and on SQLite
# it runs holding the write lock).
_QUESTION_SPEC = select(_QUESTIONS.c.spec).where(_QUESTIONS.c.id == bindparam("question_id"))
# (An UPDATE's parameters may not take its columns' names.)
_THE_ANSWER = (_ANSWERS.c.attempt_id == bindparam("of_attempt")) & (
    _ANSWERS.c.question_id == bindparam("of_question")
)
_UPDATE_ANSWER = (
    _ANSWERS.update()
    .where(_THE_ANSWER)
    .values(
        value=bindparam("new_value", type_=_ANSWERS.c.value.type),
        saved_at=bindparam("new_saved_at", type_=_ANSWERS.c.saved_at.type),
    )
)
_DELETE_ANSWER = _ANSWERS.delete().where(_THE_ANSWER)
_OWN_ATTEMPT_LOCKED = (
    select(Attempt)
    .where(Attempt.id == bindparam("attempt_id"), Attempt.user_id == bindparam("user_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def _question_spec(db_session: Session, attempt: Attempt, question_id: int) -> dict[str, Any]:
    """The spec of a question of the attempt (a plain column read: the autosave
    path builds no ORM objects it does not need)."""
    spec = None
    if question_id in attempt.question_ids:
        spec = db_session.execute(_QUESTION_SPEC, {"question_id": question_id}).scalar_one_or_none()
    if spec is None:
        raise Invalid(_l("Question %(id)s is not part of this attempt.", id=question_id))
    return spec


def _upsert(
    db_session: Session, attempt_id: int, question_id: int, value: Any, now: datetime
) -> None:
    """Replace or insert one answer. The caller holds the attempt's lock, so no
    other save of this attempt runs meanwhile and update-then-insert is safe."""
    the_answer = {"of_attempt": attempt_id, "of_question": question_id}
    # An UPDATE returns a CursorResult (which has rowcount); Session.execute is typed as Result.
    updated = cast(
        "CursorResult[Any]",
        db_session.execute(_UPDATE_ANSWER, {**the_answer, "new_value": value, "new_saved_at": now}),
    ).rowcount
    if not updated:
        db_session.execute(
            _ANSWERS.insert(),
            {
                "attempt_id": attempt_id,
                "question_id": question_id,
                "value": value,
                "saved_at": now,
                "comment": "",
            },
        )


def lock_own_attempt(db_session: Session, user: User, attempt_id: int) -> Attempt:
    """The user's own attempt, loaded holding its lock (one query); anyone
    else's does not exist for them."""
    attempt = db_session.execute(
        _OWN_ATTEMPT_LOCKED, {"attempt_id": attempt_id, "user_id": getattr(user, "id", None)}
    ).scalar_one_or_none()
    if attempt is None:
        raise NotFound(_l("There is no such attempt."))
    return attempt


def save_answer(
    db_session: Session,
    attempt: Attempt,
    question_id: int,
    raw: Any,
    now: datetime | None = None,
    locked: bool = False,
) -> datetime:
    """Save one answer of an open attempt the moment it is given; `raw` None
    clears it. Returns when it was saved. 409 once submitted or past the
    deadline, 422 for a question not in the attempt or a malformed answer.
    `locked`: the caller loaded the attempt with lock_own_attempt()."""
    now = now or utcnow()
    if not locked:
        attempt = _lock(db_session, attempt)
    _check_writable(attempt, now)
    value = _normalise(_question_spec(db_session, attempt, question_id), raw)
    if value is None:
        db_session.execute(_DELETE_ANSWER, {"of_attempt": attempt.id, "of_question": question_id})
    else:
        _upsert(db_session, attempt.id, question_id, value, now)
    return now


class AnswersInvalid(Invalid):
    """Some answers of a posted page have the wrong shape; `errors` by question id."""

    def __init__(self, errors: dict[int, str]):
        super().__init__(_l("Some answers could not be saved. Please correct them."))
        self.errors = errors


def save_answers(
    db_session: Session, attempt: Attempt, values: Mapping[int, Any], now: datetime | None = None
) -> int:
    """Save the answers of a posted page (question id → raw answer, None clears).
    All or nothing: if any answer is malformed none is saved (AnswersInvalid).
    Writes only what changed; returns how many answers changed."""
    now = now or utcnow()
    attempt = _lock(db_session, attempt)
    _check_writable(attempt, now)
    normalised: dict[int, Any] = {}
    errors: dict[int, str] = {}
    wanted = [qid for qid in values if qid in attempt.question_ids]
    bank = {q.id: q for q in db_session.scalars(select(Question).where(Question.id.in_(wanted)))}
    for question_id, raw in values.items():
        question = bank.get(question_id)
        if question is None:
            raise Invalid(_l("Question %(id)s is not part of this attempt.", id=question_id))
        try:
            normalised[question_id] = _normalise(question.spec, raw)
        except Invalid as error:
            errors[question_id] = str(error.message)
    if errors:
        raise AnswersInvalid(errors)
    saved = {
        a.question_id: a
        for a in db_session.scalars(
            select(Answer).where(Answer.attempt_id == attempt.id, Answer.question_id.in_(wanted))
        )
    }
    changed = 0
    for question_id, value in normalised.items():
        existing = saved.get(question_id)
        if value is None:
            if existing is not None:
                db_session.delete(existing)
                changed += 1
        elif existing is None:
            db_session.add(
                Answer(attempt_id=attempt.id, question_id=question_id, value=value, saved_at=now)
            )
            changed += 1
        elif existing.value != value:
            existing.value, existing.saved_at = value, now
            changed += 1
    db_session.flush()
    return changed


def remember_page(attempt: Attempt, page: int) -> bool:
    """Record the page of an open attempt the learner is on, so that opening the
    quiz again returns there. True when it changed (the caller commits)."""
    if not attempt.is_open or attempt.last_page == page:
        return False
    attempt.last_page = page
    return True


def set_flags(attempt: Attempt, on_page: Iterable[int], flagged: Iterable[int]) -> None:
    """The "flag for later" marks of a posted page: its questions (`on_page`)
    flagged as posted, the other pages' flags kept; in the attempt's order.
    The caller has checked that the attempt takes answers (save_answers)."""
    on_page, flagged = set(on_page), set(flagged)
    kept = {qid for qid in attempt.flagged if qid not in on_page} | (flagged & on_page)
    wanted = [qid for qid in attempt.question_ids if qid in kept]
    if wanted != list(attempt.flagged):
        attempt.flagged = wanted


def flag_question(
    db_session: Session,
    attempt: Attempt,
    question_id: int,
    flagged: bool,
    now: datetime | None = None,
    locked: bool = False,
) -> None:
    """Flag a question of an open attempt for later, or take the flag off (the
    autosave's way). 409 once submitted or past the deadline, 422 for a question
    not in the attempt. `locked`: the caller loaded the attempt with lock_own_attempt()."""
    now = now or utcnow()
    if not locked:
        attempt = _lock(db_session, attempt)
    _check_writable(attempt, now)
    if question_id not in attempt.question_ids:
        raise Invalid(_l("Question %(id)s is not part of this attempt.", id=question_id))
    set_flags(attempt, [question_id], [question_id] if flagged else [])
    db_session.flush()


def open_pages(db_session: Session, user: User, course: Course) -> dict[int, int]:
    """The learner's open attempts in a course: quiz item id → the page they
    were last on (one query; the course page's **Continue attempt**)."""
    rows = db_session.execute(
        select(Attempt.item_id, Attempt.last_page)
        .join(Item, Item.id == Attempt.item_id)
        .join(Module, Module.id == Item.module_id)
        .where(
            Module.course_id == course.id,
            Attempt.user_id == user.id,
            Attempt.state == AttemptState.OPEN,
        )
    ).all()
    return {item_id: page for item_id, page in rows}


def answers_of(db_session: Session, attempt: Attempt) -> dict[int, Answer]:
    return {a.question_id: a for a in db_session.scalars(_ANSWERS_OF, {"attempt_id": attempt.id})}


def submit(
    db_session: Session,
    attempt: Attempt,
    course: Course,
    item: Item,
    now: datetime | None = None,
) -> Attempt:
    """Submit an attempt and grade it. Idempotent: whoever flips the state from
    open first grades; a second submit (double click, second tab, retried request)
    returns the attempt as that one left it. An overdue attempt is graded with
    what was saved before the deadline."""
    now = now or utcnow()
    submitted_at = min(now, attempt.deadline + GRACE) if attempt.deadline else now
    return _finish(db_session, attempt, course, item, now, submitted_at=submitted_at)


def _finish(
    db_session: Session,
    attempt: Attempt,
    course: Course,
    item: Item,
    now: datetime,
    submitted_at: datetime | None,
) -> Attempt:
    flipped = cast(
        "CursorResult[Any]",
        db_session.execute(
            update(Attempt)
            .where(Attempt.id == attempt.id, Attempt.state == AttemptState.OPEN)
            .values(state=AttemptState.AWAITING_GRADING, submitted_at=submitted_at or now)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    db_session.refresh(attempt)
    if flipped != 1:
        return attempt  # someone else submitted it first: their result stands
    _grade(db_session, attempt, course, item, now)
    return attempt


def _grade(
    db_session: Session, attempt: Attempt, course: Course, item: Item, now: datetime
) -> None:
    """Machine-grade every answer; record unanswered questions as answers worth
    nothing (so results count every question asked). Essays with text wait for a
    trainer: then the attempt waits too."""
    bank = _questions_asked(db_session, attempt)
    saved = answers_of(db_session, attempt)
    for question_id in attempt.question_ids:
        question = bank.get(question_id)
        if question is None or not is_gradable(question):
            continue
        answer = saved.get(question_id)
        if answer is None:
            answer = Answer(
                attempt_id=attempt.id, question_id=question_id, value=None, saved_at=now
            )
            db_session.add(answer)
            saved[question_id] = answer
        answer.fraction = questions.grade(question.spec, answer.value)
        if answer.fraction is not None:
            answer.graded_at = now
    db_session.flush()
    _complete_if_graded(db_session, attempt, course, item, bank, saved, now)


def _complete_if_graded(
    db_session: Session,
    attempt: Attempt,
    course: Course,
    item: Item,
    bank: Mapping[int, Question],
    saved: Mapping[int, Answer],
    now: datetime,
) -> None:
    gradable = [qid for qid in attempt.question_ids if qid in bank and is_gradable(bank[qid])]
    fractions = [saved[qid].fraction if qid in saved else 0.0 for qid in gradable]
    if any(f is None for f in fractions):
        return  # an essay waits for a trainer
    total = sum(f or 0.0 for f in fractions)
    settings = QuizSettings.of(item)
    score = round(100 * total / len(gradable), 2) if gradable else 0.0
    attempt.score = min(100.0, max(0.0, score))
    attempt.passed = attempt.score >= settings.pass_mark
    attempt.state = AttemptState.GRADED
    attempt.graded_at = now
    db_session.flush()
    record_counting_result(db_session, attempt.user, course, item, now)


def counting_score(settings: QuizSettings, attempts: Iterable[Attempt]) -> float | None:
    """The score that counts for the quiz, by its grading rule, from the graded
    attempts (None: none graded yet)."""
    graded = sorted(
        (
            a
            for a in attempts
            if a.state == AttemptState.GRADED and a.score is not None and a.reset_at is None
        ),
        key=lambda a: a.number,
    )
    if not graded:
        return None
    scores = [a.score for a in graded if a.score is not None]
    if settings.grading == "last":
        return scores[-1]
    if settings.grading == "average":
        return round(sum(scores) / len(scores), 2)
    return max(scores)


def record_counting_result(
    db_session: Session, user: User, course: Course, item: Item, now: datetime
) -> None:
    """Tell learning whether the quiz is passed, by the counting attempt."""
    settings = QuizSettings.of(item)
    score = counting_score(settings, attempts_of(db_session, item, user))
    if score is None:
        return
    if learning.enrolment_for(db_session, user, course) is None:
        return  # unenrolled meanwhile: the attempt stands, there is no progress to feed
    learning.record_result(db_session, user, course, item, score >= settings.pass_mark, now)


# --------------------------------------------------------------------------- showing attempts


@dataclass
class ReviewOption:
    """One option of a multiple-answer question in review."""

    text_html: str
    chosen: bool
    correct: bool  # it earns credit: it should have been chosen
    feedback_html: str

    @property
    def right(self) -> bool:
        """Did the learner do the right thing with it (chose a right one, left a wrong one)?"""
        return self.chosen == self.correct


@dataclass
class Review:
    """What the review shows of one answer."""

    fraction: float | None  # None: waiting for a trainer
    outcome: str  # "correct" | "partial" | "incorrect" | "pending"
    feedback_html: list[str]
    general_feedback_html: str
    correct_answer_html: str
    comment: str
    # A multiple-answer question's every option, as shown (empty for other types).
    options: list[ReviewOption] = field(default_factory=list)
    # The right answer is said in the learner's words ("True", "3 to 5", "any answer
    # starting with “photo”"), not quoted from the course: its language is the learner's.
    in_words: bool = False


@dataclass
class ShownQuestion:
    """A question of an attempt as the pages and the API show it."""

    number: int  # 1-based among the gradable questions (0 for text-only items)
    question: Question
    public: dict[str, Any]  # questions.public() with texts as safe HTML
    value: Any  # the saved answer (None: not answered)
    answered: bool
    gradable: bool
    review: Review | None = None
    answer: Answer | None = field(default=None, repr=False)
    erased: bool = False  # the learner's answer was erased with their personal data
    # The most a wrong answer takes away, 0..1 of the question's mark (said before answering).
    penalty: float = 0.0


def _outcome(fraction: float | None) -> str:
    if fraction is None:
        return "pending"
    if fraction >= 1:
        return "correct"
    return "partial" if fraction > 0 else "incorrect"


def _options(spec: gift.Question, value: Any, shown: list[dict[str, Any]]) -> list[ReviewOption]:
    """A multiple-answer question's options in the order the attempt showed them,
    each chosen or not, right or not, with its feedback."""
    if spec.type != "multiple_choice" or is_erased_answer(value):
        return []
    by_id = dict(zip(questions.MultipleChoice.choice_ids(spec), spec.choices, strict=True))
    chosen = set(value) if isinstance(value, list) else set()
    return [
        ReviewOption(
            text_html=entry["text"],
            chosen=entry["id"] in chosen,
            correct=by_id[entry["id"]].fraction > 0,
            feedback_html=render_inline(
                by_id[entry["id"]].feedback,
                by_id[entry["id"]].feedback_format or spec.text_format,
            )
            if by_id[entry["id"]].feedback
            else "",
        )
        for entry in shown
        if entry["id"] in by_id
    ]


def _review(
    question: Question,
    spec: gift.Question,
    answer: Answer | None,
    shown: list[dict[str, Any]] | None = None,
) -> Review:
    value = answer.value if answer else None
    fraction = answer.fraction if answer else 0.0
    fmt = spec.text_format
    try:
        shows_feedback = value is not None and not is_erased_answer(value)
        feedback = questions.feedback(spec, value) if shows_feedback else []
        correct = questions.correct_answer(spec)
    except ValueError:
        feedback, correct = [], ""
    return Review(
        options=_options(spec, value, shown or []),
        fraction=fraction,
        outcome=_outcome(fraction),
        feedback_html=[render_inline(text, fmt) for text in feedback if text],
        general_feedback_html=_render_cached(
            spec.general_feedback, spec.general_feedback_format or fmt
        )
        if spec.general_feedback
        else "",
        correct_answer_html=clean_html(correct) if correct else "",
        comment=answer.comment if answer else "",
        in_words=_in_words(spec),
    )


def _in_words(spec: gift.Question) -> bool:
    """Whether the review's right answer is the learner's words rather than the course's
    text: true/false, a number range, a short answer accepting a `*` pattern."""
    if spec.type == "short_answer":
        return any(questions.is_pattern(c.text) for c in spec.choices if c.fraction == 1)
    return spec.type in ("true_false", "numerical")


def _public(question: Question, spec: gift.Question, order: list[str] | None) -> dict[str, Any]:
    try:
        shown = questions.public(spec, order)
    except ValueError:
        shown = {"type": question.type, "text": spec.text}
    shown = dict(shown)
    shown["text"] = question.text_html
    choice_formats = {f"c{i}": c.text_format for i, c in enumerate(spec.choices, start=1)}
    if "choices" in shown:
        shown["choices"] = [
            {
                "id": c["id"],
                "text": render_inline(c["text"], choice_formats.get(c["id"]) or spec.text_format)
                if question.type != "true_false"
                else c["text"],
            }
            for c in shown["choices"]
        ]
    for key in ("stems", "options"):
        if key in shown:
            shown[key] = [
                {"id": s["id"], "text": render_inline(s["text"], spec.text_format)}
                for s in shown[key]
            ]
    return shown


def shown_questions(
    db_session: Session, attempt: Attempt, with_review: bool = False
) -> list[ShownQuestion]:
    """The attempt's questions in its order, with the saved answers (two queries).
    Review data (correctness, marks, feedback) only when asked for: callers ask
    only when the review settings allow it."""
    bank = _questions_asked(db_session, attempt)
    saved = answers_of(db_session, attempt)
    shown: list[ShownQuestion] = []
    number = 0
    for question_id in attempt.question_ids:
        question = bank.get(question_id)
        if question is None:
            continue  # removed from the bank since the attempt started
        spec = parsed(question)
        gradable = is_gradable(question)
        if gradable:
            number += 1
        answer = saved.get(question_id)
        value = answer.value if answer else None
        public = _public(question, spec, attempt.choice_order.get(str(question_id)))
        shown.append(
            ShownQuestion(
                number=number if gradable else 0,
                question=question,
                public=public,
                value=value,
                answered=_is_answered(value),
                gradable=gradable,
                review=_review(question, spec, answer, public.get("choices"))
                if with_review and gradable
                else None,
                answer=answer,
                erased=is_erased_answer(value),
                penalty=_penalty(spec),
            )
        )
    return shown


def _penalty(spec: gift.Question) -> float:
    try:
        return questions.penalty(spec)
    except ValueError:  # a type this version does not know
        return 0.0


def preview_question(question: Question, number: int = 1) -> ShownQuestion:
    """A question as an attempt shows it before any answer, for the quiz
    editor's preview: the same public data, in the author's order."""
    gradable = is_gradable(question)
    return ShownQuestion(
        number=number if gradable else 0,
        question=question,
        public=_public(question, parsed(question), None),
        value=None,
        answered=False,
        gradable=gradable,
        penalty=_penalty(parsed(question)),
    )


def _is_answered(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | dict):
        return bool(value)
    return True


def review_allowed(
    settings: QuizSettings,
    attempt: Attempt,
    attempts: list[Attempt],
    accommodation: Accommodation | None,
) -> bool:
    """May the learner see correctness, marks and feedback of this attempt?
    `after_submit`: once it is submitted; `after_close`: once no further attempt
    is possible (all used, or the quiz passed); `never`: only the score."""
    if not attempt.finished or settings.review == "never":
        return False
    if settings.review == "after_submit":
        return True
    allowed = attempts_allowed(settings, accommodation)
    all_used = allowed is not None and len(attempts) >= allowed
    score = counting_score(settings, attempts)
    passed = score is not None and score >= settings.pass_mark
    return all_used or passed


def pages(shown: list[ShownQuestion], settings: QuizSettings) -> list[list[ShownQuestion]]:
    """The attempt's pages: one gradable question per page (a text-only item goes
    with the question after it), or everything on one page."""
    if settings.layout != "one_per_page":
        return [shown] if shown else []
    result: list[list[ShownQuestion]] = []
    pending: list[ShownQuestion] = []
    for entry in shown:
        pending.append(entry)
        if entry.gradable:
            result.append(pending)
            pending = []
    if pending:
        if result:
            result[-1].extend(pending)
        else:
            result.append(pending)
    return result


# --------------------------------------------------------------------------- trainers


def answer_scope(user: User, course: Course) -> AnswerScope:
    """Whose answers in `course` the user may see, and whether they grade
    (AnswerScope: the one place that decides)."""
    return AnswerScope.of(user, course)


def without_questions(db_session: Session, items: list[Item]) -> list[Item]:
    """The quizzes among `items` with no question that counts (a description
    alone does not): a learner could not take them, and their files would not
    import (one query)."""
    quiz_ids = [item.id for item in items if item.kind == "quiz"]
    if not quiz_ids:
        return []
    asked = set(
        db_session.scalars(
            select(Question.item_id)
            .where(Question.item_id.in_(quiz_ids), Question.type != "description")
            .distinct()
        )
    )
    return [item for item in items if item.kind == "quiz" and item.id not in asked]


def staff_scope(db_session: Session, user: Any, course: Course) -> AnswerScope:
    """Whose records `user` follows in `course` on the staff's pages (the
    trainer's desk, quiz results, the course's competencies): its trainers
    and network administrators everyone's; an administrator scoped to an
    organisation their subtree's, when it holds one of the course's learners;
    anyone else is Forbidden (one rule for every staff page of a course)."""
    scope = AnswerScope.of(user, course)
    if scope.nobody or (
        not scope.everyone
        and db_session.scalar(
            select(Enrolment.id)
            .where(Enrolment.course_id == course.id, scope.holds_sql(Enrolment.user_id))
            .limit(1)
        )
        is None
    ):
        raise Forbidden(_l("Only the course's trainers can see its learners."))
    return scope


def _require_grader(course: Course, user: User) -> None:
    # Scoped administrators see answers but do not mark them: see AnswerScope.
    if not answer_scope(user, course).grades:
        raise Forbidden(_l("Only the course's trainers can grade its learners' answers."))


def learners_attempt(
    db_session: Session, user: User, attempt_id: int
) -> tuple[Attempt, Item, Course, AnswerScope]:
    """A learner's attempt, for those who may see that learner's answers in its
    course (AnswerScope): NotFound when there is no such attempt, Forbidden
    when it is not theirs to see."""
    attempt = db_session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound(_l("There is no such attempt."))
    item, course = item_and_course(db_session, attempt)
    scope = answer_scope(user, course)
    if not scope.holds(attempt.user):
        raise Forbidden(_l("Only the course's trainers can see its learners' answers."))
    return attempt, item, course, scope


def readable_attempt(
    db_session: Session, user: User, attempt_id: int
) -> tuple[Attempt, Item, Course, bool]:
    """An attempt its owner, or someone who may see its learner's answers, reads.
    The last value says whether the reader is the owner. Anyone else gets
    NotFound, as if it did not exist (the API tells nothing of others')."""
    attempt = db_session.get(Attempt, attempt_id)
    if attempt is not None and attempt.user_id == getattr(user, "id", None):
        item, course = item_and_course(db_session, attempt)
        return attempt, item, course, True
    try:
        attempt, item, course, _scope = learners_attempt(db_session, user, attempt_id)
    except Forbidden:
        raise NotFound(_l("There is no such attempt.")) from None
    return attempt, item, course, False


def grade_essays(
    db_session: Session,
    grader: User,
    attempt: Attempt,
    grades: Mapping[int, tuple[float, str]],
    now: datetime | None = None,
    address: str | None = None,
) -> Attempt:
    """A trainer grades an attempt's essay answers: question id → (fraction 0..1,
    comment). When no answer waits any more, the attempt gets its score and the
    counting result goes to learning. Regrading a graded essay is allowed."""
    now = now or utcnow()
    item, course = item_and_course(db_session, attempt)
    _require_grader(course, grader)
    if attempt.is_open:
        raise Conflict(_l("This attempt has not been submitted yet."))
    attempt = _lock(db_session, attempt)
    bank = _questions_asked(db_session, attempt)
    saved = answers_of(db_session, attempt)
    for question_id, (fraction, comment) in grades.items():
        answer = saved.get(question_id)
        question = bank.get(question_id)
        if answer is None or question is None or question.type != "essay":
            raise Invalid(_l("Question %(id)s is not an essay of this attempt.", id=question_id))
        if not 0 <= fraction <= 1:
            # The whole as the reader writes a percentage, when the message is shown.
            raise Invalid(
                _l("A mark is between 0 and %(full)s.", full=LazyString(format_percent, 1))
            )
        if answer.fraction != fraction or answer.comment != comment[:5000]:
            audit(
                db_session, grader, "attempt.grade", "user", attempt.user_id, address,
                {"course": course.slug, "quiz": item.title, "attempt": attempt.number,
                 "question": question.title,
                 "mark": [_percent(answer.fraction), _percent(fraction)]},
                organisation_id=attempt.user.organisation_id, label=attempt.user.email,
            )  # fmt: skip
        answer.fraction = fraction
        answer.comment = comment[:5000]
        answer.graded_by_id = grader.id
        answer.graded_at = now
    db_session.flush()
    if attempt.state == AttemptState.AWAITING_GRADING:
        _complete_if_graded(db_session, attempt, course, item, bank, saved, now)
    else:  # a regrade of a graded attempt: rescore it
        attempt.state = AttemptState.AWAITING_GRADING
        _complete_if_graded(db_session, attempt, course, item, bank, saved, now)
    notices.essay_graded(db_session, attempt, item, course, now)
    return attempt


def _percent(fraction: float | None) -> float | None:
    return None if fraction is None else round(fraction * 100, 2)


@dataclass
class QueueEntry:
    attempt: Attempt
    item: Item
    course: Course
    waiting: int  # essay answers without a mark
    grades: bool = True  # may the user mark it? (a scoped administrator only sees it)


def grading_queue(db_session: Session, user: User) -> list[QueueEntry]:
    """Submitted attempts waiting for a trainer, oldest first, whose answers the
    user may see (AnswerScope): every course's for a network admin, their own
    courses' for a trainer, their subtree's learners' for a scoped admin, who
    sees what waits but leaves the marking to the course's trainers.
    An erased learner's attempts are not in it: their essays were erased with
    them (erase_personal_data), so nothing is left to mark. Such an attempt
    stays as it was, waiting, and counts as before."""
    query = (
        select(Attempt, Item, Course)
        .join(Item, Item.id == Attempt.item_id)
        .join(Module, Module.id == Item.module_id)
        .join(Course, Course.id == Module.course_id)
        .join(User, User.id == Attempt.user_id)
        .where(Attempt.state == AttemptState.AWAITING_GRADING, User.erased_at.is_(None))
        .where(AnswerScope.across_courses(user))
        .options(contains_eager(Attempt.user), selectinload(Course.trainers))
        .order_by(Attempt.submitted_at, Attempt.id)
    )
    rows = db_session.execute(query).all()
    waiting = (
        dict(
            db_session.execute(
                select(Answer.attempt_id, func.count(Answer.id))
                .where(
                    Answer.attempt_id.in_([row[0].id for row in rows]),
                    Answer.fraction.is_(None),
                )
                .group_by(Answer.attempt_id)
            ).all()
        )
        if rows
        else {}
    )
    return [
        QueueEntry(
            attempt=a,
            item=i,
            course=c,
            waiting=waiting.get(a.id, 0),
            grades=answer_scope(user, c).grades,
        )
        for a, i, c in rows
    ]


@dataclass
class QuestionStat:
    question: Question
    asked: int  # learners with a graded attempt holding the question
    right: int  # of those, how many got it fully right (in their latest such attempt)
    mean: float | None  # mean credit 0..1 over every graded answer

    @property
    def share_right(self) -> float | None:
        return 100 * self.right / self.asked if self.asked else None


@dataclass
class QuizResults:
    attempts: list[Attempt]
    stats: list[QuestionStat]
    learners: int
    passed: int
    counting: dict[int, float]  # learner id → counting score


def quiz_results(db_session: Session, user: User, course: Course, item: Item) -> QuizResults:
    """The attempts at a quiz, and per question the share of learners who got it
    right, over the learners whose answers the user may see (AnswerScope): all
    of them for the course's trainers, a scoped administrator's subtree for
    them. Forbidden for anyone who may see no one's. A fixed number of queries."""
    scope = answer_scope(user, course)
    if scope.nobody:
        raise Forbidden(_l("Only the course's trainers can see its learners' answers."))
    in_scope = scope.holds_sql(Attempt.user_id)
    attempts = list(
        db_session.scalars(
            select(Attempt)
            .where(Attempt.item_id == item.id, in_scope)
            .options(joinedload(Attempt.user))
            .order_by(Attempt.user_id, Attempt.number)
        )
    )
    rows = db_session.execute(
        select(Attempt.user_id, Attempt.number, Answer.question_id, Answer.fraction)
        .join(Attempt, Attempt.id == Answer.attempt_id)
        .where(Attempt.item_id == item.id, Attempt.state == AttemptState.GRADED, in_scope)
        .order_by(Attempt.user_id, Attempt.number)
    ).all()
    latest: dict[tuple[int, int], float] = {}
    sums: dict[int, list[float]] = defaultdict(list)
    for user_id, _number, question_id, fraction in rows:
        if fraction is None:
            continue
        latest[(question_id, user_id)] = fraction  # rows come in attempt order
        sums[question_id].append(fraction)
    asked: dict[int, int] = defaultdict(int)
    right: dict[int, int] = defaultdict(int)
    for (question_id, _user_id), fraction in latest.items():
        asked[question_id] += 1
        right[question_id] += fraction >= 1
    stats = [
        QuestionStat(
            question=q,
            asked=asked[q.id],
            right=right[q.id],
            mean=sum(sums[q.id]) / len(sums[q.id]) if sums[q.id] else None,
        )
        for q in questions_of(db_session, item)
        if is_gradable(q)
    ]
    settings = QuizSettings.of(item)
    by_user: dict[int, list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        by_user[attempt.user_id].append(attempt)
    counting = {
        user_id: score
        for user_id, own in by_user.items()
        if (score := counting_score(settings, own)) is not None
    }
    return QuizResults(
        attempts=attempts,
        stats=stats,
        learners=len(by_user),
        passed=sum(1 for score in counting.values() if score >= settings.pass_mark),
        counting=counting,
    )


# --------------------------------------------------------------------------- personal data

# What an erased learner's answers hold instead of what they gave. No answer a
# learner can save looks like it: matching answers are keyed by stem ids ("s1").
ERASED_ANSWER: dict[str, Any] = {"erased": True}


def is_erased_answer(value: Any) -> bool:
    return value == ERASED_ANSWER


def erase_personal_data(db_session: Session, user: User) -> int:
    """GDPR erasure, the quiz part (accounts erases the account itself): every
    answer the user gave is replaced by ERASED_ANSWER, with the trainers'
    comments on it, and the notes of their accommodations are emptied. Every
    answer, not only short answers and essays: a question edited since may have
    changed type, and a choice id means nothing without the person anyway.
    Attempts, their scores and pass/fail, and each answer's credit stay, so
    that quiz results and reports keep their counts. Returns how many answers
    were erased. The caller commits."""
    answers = db_session.scalars(
        select(Answer)
        .join(Attempt, Attempt.id == Answer.attempt_id)
        .where(Attempt.user_id == user.id)
    ).all()
    erased = 0
    for answer in answers:
        if answer.value is not None and not is_erased_answer(answer.value):
            answer.value = dict(ERASED_ANSWER)
            erased += 1
        answer.comment = ""
    db_session.execute(
        update(Accommodation).where(Accommodation.user_id == user.id).values(note="")
    )
    db_session.flush()
    return erased


NEW_ROUND_REASON = "A new round of recurring training"


def start_new_round(db_session: Session, user_id: int, items: Any, now: datetime) -> None:
    """Recurring training: the learner's completion expired and the course
    starts over. Their finished attempts at its quizzes stay in history but
    stop counting, as a trainer's reset does: against the attempts allowed
    and for the score; so a learner who used every attempt can pass again."""
    db_session.execute(
        update(Attempt)
        .where(
            Attempt.user_id == user_id,
            Attempt.item_id.in_(items),
            Attempt.reset_at.is_(None),
            Attempt.state != AttemptState.OPEN,
        )
        .values(reset_at=now, reset_reason=NEW_ROUND_REASON)
        .execution_options(synchronize_session=False)
    )
