"""The quiz item kind: what the item page shows for a quiz.

Learning owns the item page and knows nothing of quizzes; at start-up this module
registers the quiz kind with learning's registry (vle/learning/kinds.py), so no
import runs from learning up to quizzes.

With no open attempt the page shows the quiz's facts, the learner's attempts and
**Start attempt**; with one open, opening the quiz resumes it: the page shows the
attempt's questions (one page of them, for the one-per-page layout) with the
answers saved so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from babel.numbers import format_percent
from flask import Flask, request, url_for
from flask_babel import get_locale
from sqlalchemy.orm import Session

from vle import db
from vle.accounts.models import User
from vle.catalog.models import Course, Item
from vle.db import utcnow
from vle.learning.kinds import ItemKind, Progress
from vle.learning.kinds import register as register_kind
from vle.learning.models import Enrolment
from vle.quizzes import services
from vle.quizzes.models import Accommodation, Attempt
from vle.quizzes.questions import MAX_ANSWER_LENGTH, type_label


def percent(score: float | None) -> str:
    """A score 0..100 as the locale writes a percentage ("66.67%", "66,67 %")."""
    if score is None:
        return ""
    # Decimal, so that 91.67 shows as 91.67 and not as the float 0.9167000000000001 does.
    share = Decimal(str(round(score, 2))) / 100
    return format_percent(share, locale=get_locale(), decimal_quantization=False)


def _passed(progress: Progress | None) -> bool:
    return progress is not None and bool(progress.passed)


@dataclass
class AttemptPage:
    """An open attempt as the item page shows it."""

    attempt: Attempt
    shown: list[services.ShownQuestion]
    pages: list[list[services.ShownQuestion]]
    page: int  # 1-based
    errors: dict[int, str] = field(default_factory=dict)
    posted: dict[int, Any] = field(default_factory=dict)

    @property
    def current(self) -> list[services.ShownQuestion]:
        return self.pages[self.page - 1] if self.pages else []

    @property
    def flagged(self) -> set[int]:
        """The questions the learner flagged to come back to."""
        return set(self.attempt.flagged or [])

    @property
    def flagged_count(self) -> int:
        return sum(1 for q in self.gradable if q.question.id in self.flagged)

    @property
    def gradable(self) -> list[services.ShownQuestion]:
        return [q for q in self.shown if q.gradable]

    @property
    def answered(self) -> int:
        return sum(1 for q in self.gradable if q.answered)

    def page_of(self, question_id: int) -> int:
        for index, page in enumerate(self.pages, start=1):
            if any(q.question.id == question_id for q in page):
                return index
        return 1

    def value(self, entry: services.ShownQuestion) -> Any:
        """What the form shows: the posted value after a refused post, else the saved one."""
        return self.posted.get(entry.question.id, entry.value)


def attempt_page(
    db_session: Session,
    attempt: Attempt,
    settings: services.QuizSettings,
    page: int | None = None,
    errors: dict[int, str] | None = None,
    posted: dict[int, Any] | None = None,
) -> AttemptPage:
    """An open attempt at `page` (None: the page the learner was last on)."""
    shown = services.shown_questions(db_session, attempt)
    pages = services.pages(shown, settings)
    page = min(max(page or attempt.last_page or 1, 1), max(len(pages), 1))
    return AttemptPage(attempt, shown, pages, page, errors or {}, posted or {})


def _page_arg() -> int | None:
    """The page asked for (?page=), None when none was: the page last viewed."""
    try:
        return int(request.args["page"])
    except (KeyError, ValueError):
        return None


@dataclass
class QuizView:
    settings: services.QuizSettings
    attempts: list[Attempt]
    accommodation: Accommodation | None
    allowed: int | None
    time_limit: int | None
    question_count: int
    counting: float | None
    can_start: bool
    is_editor: bool
    sees_results: bool  # may see some learners' answers (AnswerScope): the results link
    open: AttemptPage | None
    reviewable: set[int]
    now: datetime

    @property
    def attempts_left(self) -> int | None:
        return None if self.allowed is None else max(0, self.allowed - len(self.attempts))

    @property
    def passed(self) -> bool | None:
        if self.counting is None:
            return None
        return self.counting >= self.settings.pass_mark


def quiz_view(
    db_session: Session,
    course: Course,
    item: Item,
    user: User,
    enrolment: Enrolment | None,
    page: int | None = None,
    errors: dict[int, str] | None = None,
    posted: dict[int, Any] | None = None,
) -> QuizView:
    now = utcnow()
    settings = services.QuizSettings.of(item)
    current = services.open_attempt(db_session, item, user) if enrolment else None
    if current is not None and services.is_overdue(current, now):
        # Graded for good (its own write transaction), whatever happens next.
        with db.transaction() as write_session:
            services.close_if_overdue(write_session, current, now, course, item)
        current = None
    attempts = services.attempts_of(db_session, item, user) if enrolment else []
    accommodation = services.accommodation_for(db_session, item, user) if enrolment else None
    allowed = services.attempts_allowed(settings, accommodation)
    bank = services.questions_of(db_session, item)
    gradable = sum(1 for q in bank if services.is_gradable(q))
    open_page = (
        attempt_page(db_session, current, settings, page, errors, posted) if current else None
    )
    if open_page is not None and open_page.attempt.last_page != open_page.page:
        # Opening the quiz again returns here; the write lock only for this write.
        with db.transaction():
            services.remember_page(open_page.attempt, open_page.page)
    return QuizView(
        settings=settings,
        attempts=attempts,
        accommodation=accommodation,
        allowed=allowed,
        time_limit=services.time_limit(settings, accommodation),
        question_count=min(gradable, settings.draw) if settings.draw else gradable,
        counting=services.counting_score(settings, attempts),
        can_start=enrolment is not None
        and gradable > 0
        and (allowed is None or len(attempts) < allowed),
        is_editor=course.can_edit(user),
        sees_results=not services.answer_scope(user, course).nobody,
        open=open_page,
        reviewable={
            a.id for a in attempts if services.review_allowed(settings, a, attempts, accommodation)
        },
        now=now,
    )


def context(
    db_session: Session, item: Item, user: User, enrolment: Enrolment | None
) -> dict[str, Any]:
    """Extra context of the item page for a quiz (learning calls this)."""
    course = item.module.course
    return {"quiz": quiz_view(db_session, course, item, user, enrolment, page=_page_arg())}


def template_helpers() -> dict[str, Any]:
    return {
        "quiz_percent": percent,
        "quiz_max_answer_length": MAX_ANSWER_LENGTH,
        "quiz_type_label": type_label,
        "quiz_word_count": word_count,
    }


def word_count(text: str | None) -> int:
    """Words in an essay answer, counted as quiz.js counts them: runs of non-space
    with a letter or digit in them (a dash or a lone "–" between words is none),
    in any alphabet ("ąžuolas", "żółw" and "blåbær" are one word each)."""
    return sum(1 for run in (text or "").split() if any(ch.isalnum() for ch in run))


def answer_url(course: Course, item: Item, attempt: Attempt) -> str:
    return url_for(
        "quizzes.save_answer_json",
        slug=course.slug,
        item_id=item.id,
        attempt_id=attempt.id,
        question_id=0,
    )


QUIZ_KIND = ItemKind(
    name="quiz",
    template="quizzes/kind.html",
    manual_completion=False,
    is_done=_passed,
    context=context,
    new_round=services.start_new_round,
    open_work=services.open_pages,
)


def register(app: Flask) -> None:
    """Plug the quiz kind into learning, and the quiz pages into the app."""
    from vle.quizzes.views import bp

    register_kind(QUIZ_KIND)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(template_helpers())
