"""Attempt rules, as services: start/resume, autosave, deadline, idempotent submit,
one open attempt, shuffling and drawing, grading rules, essays, results."""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.quizzes.conftest import ESSAY, GIFT, MATCHING, RIGHT, by_title, question_ids
from vle import db
from vle.db import utcnow
from vle.errors import Conflict, Forbidden, Invalid, NotFound
from vle.learning.models import Enrolment, ItemProgress
from vle.quizzes import services
from vle.quizzes.models import Answer, Attempt
from vle.quizzes.questions import MAX_ANSWER_LENGTH


def answer_all(session, attempt, item, answers, now=None):
    ids = question_ids(session, item)
    for title, value in answers.items():
        services.save_answer(session, attempt, ids[title], value, now)
    session.commit()


def progress(session, user, item):
    session.expire_all()
    return session.scalar(
        select(ItemProgress).where(ItemProgress.user_id == user.id, ItemProgress.item_id == item.id)
    )


def test_start_then_start_again_resumes_the_same_attempt(session, make_quiz, make_user, enrol):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    first, created = services.start_attempt(session, learner, course, item)
    session.commit()
    again, created_again = services.start_attempt(session, learner, course, item)
    assert created and not created_again
    assert again.id == first.id and first.number == 1
    assert first.deadline is None and first.state == "open"


def test_starting_needs_an_enrolment(session, make_quiz, make_user):
    course, item = make_quiz()
    with pytest.raises(Forbidden):
        services.start_attempt(session, make_user(), course, item)


def test_the_database_allows_one_open_attempt_per_learner_and_quiz(
    session, make_quiz, make_user, enrol
):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    session.commit()
    session.add(Attempt(item_id=item.id, user_id=learner.id, number=2, state="open"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    # A finished attempt does not count: the next open one is allowed.
    services.submit(session, attempt, course, item)
    session.add(Attempt(item_id=item.id, user_id=learner.id, number=2, state="open"))
    session.commit()


def test_all_right_scores_100_passes_and_completes_the_course(session, make_quiz, make_user, enrol):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    answer_all(session, attempt, item, RIGHT)
    services.submit(session, attempt, course, item)
    session.commit()
    assert (attempt.state, attempt.score, attempt.passed) == ("graded", 100.0, True)
    assert progress(session, learner, item).passed is True
    enrolment = session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
    assert enrolment.status == "completed" and enrolment.progress == 100


def test_partial_credit_and_unanswered_questions(session, make_quiz, make_user, enrol):
    course, item = make_quiz(pass_mark=60)
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    # Capital right (1), Colours half (0.5), Baltic wrong (0), Year and River unanswered.
    answer_all(session, attempt, item, {"Capital": "c1", "Colours": ["c1"], "Baltic": "false"})
    services.submit(session, attempt, course, item)
    session.commit()
    assert attempt.score == 30.0 and attempt.passed is False
    # Every question asked has an answer row now, unanswered ones worth nothing.
    fractions = {
        a.question_id: a.fraction
        for a in session.scalars(select(Answer).where(Answer.attempt_id == attempt.id))
    }
    assert sorted(fractions.values()) == [0.0, 0.0, 0.0, 0.5, 1.0]
    assert progress(session, learner, item).passed is False


def test_a_malformed_number_is_saved_and_graded_wrong(session, make_quiz, make_user, enrol):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    answer_all(session, attempt, item, {**RIGHT, "Year": "two thousand and four"})
    services.submit(session, attempt, course, item)
    assert attempt.score == 80.0


def test_answers_are_checked_before_they_are_saved(session, make_quiz, make_user, enrol):
    course, item = make_quiz()
    other_course, other_item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    session.commit()
    ids = question_ids(session, item)
    with pytest.raises(Invalid):  # a choice the question does not have
        services.save_answer(session, attempt, ids["Capital"], "c9")
    with pytest.raises(Invalid):  # a list for a single choice
        services.save_answer(session, attempt, ids["Capital"], ["c1"])
    with pytest.raises(Invalid):  # oversized
        services.save_answer(session, attempt, ids["River"], "x" * (MAX_ANSWER_LENGTH + 1))
    with pytest.raises(Invalid):  # a question of another quiz
        services.save_answer(session, attempt, question_ids(session, other_item)["Capital"], "c1")
    session.rollback()
    assert session.scalar(select(func.count(Answer.id))) == 0


def test_saving_again_replaces_and_none_clears(session, make_quiz, make_user, enrol):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    ids = question_ids(session, item)
    services.save_answer(session, attempt, ids["Capital"], "c2")
    services.save_answer(session, attempt, ids["Capital"], "c1")
    services.save_answer(session, attempt, ids["River"], "Nemunas")
    services.save_answer(session, attempt, ids["River"], None)
    session.commit()
    saved = {a.question_id: a.value for a in session.scalars(select(Answer))}
    assert saved == {ids["Capital"]: "c1"}


def test_submitting_twice_grades_once_and_answers_are_then_refused(
    session, make_quiz, make_user, enrol
):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    answer_all(session, attempt, item, RIGHT)
    now = utcnow()
    services.submit(session, attempt, course, item, now)
    session.commit()
    graded_at = attempt.graded_at
    again = services.submit(session, attempt, course, item, now + timedelta(minutes=5))
    session.commit()
    assert again.graded_at == graded_at and again.score == 100.0
    assert session.scalar(select(func.count(Answer.id))) == 5
    with pytest.raises(Conflict):
        services.save_answer(session, attempt, question_ids(session, item)["Capital"], "c2")


def test_the_deadline_is_the_servers(session, make_quiz, make_user, enrol):
    course, item = make_quiz(time_limit_minutes=10)
    learner = make_user()
    enrol(learner, course)
    start = utcnow()
    attempt, _ = services.start_attempt(session, learner, course, item, now=start)
    session.commit()
    assert attempt.deadline == start + timedelta(minutes=10)
    ids = question_ids(session, item)
    services.save_answer(session, attempt, ids["Capital"], "c1", now=start + timedelta(minutes=9))
    # Within the grace after the deadline, a save that was on its way still counts.
    services.save_answer(
        session, attempt, ids["Baltic"], "true", now=attempt.deadline + timedelta(seconds=10)
    )
    session.commit()
    late = attempt.deadline + services.GRACE + timedelta(seconds=1)
    with pytest.raises(Conflict):
        services.save_answer(session, attempt, ids["Year"], "2004", now=late)
    session.rollback()
    # The overdue attempt is graded with what was saved when it is next touched.
    assert services.close_if_overdue(session, attempt, late, course, item)
    session.commit()
    assert attempt.state == "graded" and attempt.score == 40.0
    assert attempt.submitted_at == attempt.deadline
    # Starting again is a new attempt; the overdue one counted as used.
    fresh, created = services.start_attempt(session, learner, course, item, now=late)
    assert created and fresh.number == 2


def test_an_overdue_open_attempt_is_closed_when_the_learner_starts(
    session, make_quiz, make_user, enrol
):
    course, item = make_quiz(time_limit_minutes=5, attempts=1)
    learner = make_user()
    enrol(learner, course)
    start = utcnow() - timedelta(hours=1)
    attempt, _ = services.start_attempt(session, learner, course, item, now=start)
    session.commit()
    with pytest.raises(Conflict):  # the only attempt is used up by running out of time
        services.start_attempt(session, learner, course, item)
    session.rollback()
    session.expire_all()
    assert session.get(Attempt, attempt.id).state == "open"  # rolled back with the refusal
    assert services.close_if_overdue(session, attempt, utcnow())
    session.commit()
    assert session.get(Attempt, attempt.id).state == "graded"


class Writes:
    """A `writing` factory for start_attempt, as db.transaction behaves (the
    read transaction ends, the write commits), counting the transactions and
    running `meanwhile` (another request's work) before the first one."""

    def __init__(self, session, meanwhile=None):
        self.session, self.meanwhile, self.count = session, meanwhile, 0

    @contextmanager
    def __call__(self):
        self.session.commit()
        self.count += 1
        if self.meanwhile is not None:
            self.meanwhile()
            self.meanwhile = None
        try:
            yield self.session
            self.session.commit()
        except BaseException:
            self.session.rollback()
            raise


def another_request(app, learner, course, item, submit=False):
    """What a second request does between this one's reads and its write."""

    def run():
        with db.get_database(app).sessionmaker() as other:
            attempt, _ = services.start_attempt(other, learner, course, item)
            if submit:
                services.submit(other, attempt, course, item)
            other.commit()

    return run


def test_resuming_an_open_attempt_writes_nothing(session, make_quiz, make_user, enrol):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    writes = Writes(session)
    first, created = services.start_attempt(session, learner, course, item, writing=writes)
    assert created and writes.count == 1
    again, created = services.start_attempt(session, learner, course, item, writing=writes)
    assert again.id == first.id and not created
    assert writes.count == 1  # decided on what was read: no write transaction at all


def test_an_attempt_started_between_the_reads_and_the_write_is_resumed(
    app, session, make_quiz, make_user, enrol
):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    writes = Writes(session, another_request(app, learner, course, item))
    attempt, created = services.start_attempt(session, learner, course, item, writing=writes)
    assert not created and attempt.number == 1
    assert session.scalar(select(func.count(Attempt.id))) == 1


def test_the_last_attempt_used_between_the_reads_and_the_write_is_not_given_twice(
    app, session, make_quiz, make_user, enrol
):
    course, item = make_quiz(attempts=1)
    learner = make_user()
    enrol(learner, course)
    # The reads see no attempt; before the write, another request starts and
    # submits the only one allowed: no open attempt to conflict with.
    writes = Writes(session, another_request(app, learner, course, item, submit=True))
    with pytest.raises(Conflict):
        services.start_attempt(session, learner, course, item, writing=writes)
    session.expire_all()
    assert session.scalars(select(Attempt.state)).all() == ["graded"]


def test_an_overdue_attempt_is_graded_in_a_write_of_its_own_before_the_next_starts(
    session, make_quiz, make_user, enrol
):
    course, item = make_quiz(time_limit_minutes=5, attempts=1)
    learner = make_user()
    enrol(learner, course)
    old, _ = services.start_attempt(
        session, learner, course, item, now=utcnow() - timedelta(hours=1)
    )
    session.commit()
    writes = Writes(session)
    with pytest.raises(Conflict):  # the only attempt was used up by the clock
        services.start_attempt(session, learner, course, item, writing=writes)
    session.expire_all()
    assert session.get(Attempt, old.id).state == "graded"  # stands though starting was refused
    assert writes.count == 2


def test_attempts_allowed_and_extra_attempts(session, make_quiz, make_user, enrol):
    trainer = make_user("trainer")
    course, item = make_quiz(attempts=1, trainers=[trainer])
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    services.submit(session, attempt, course, item)
    session.commit()
    with pytest.raises(Conflict):
        services.start_attempt(session, learner, course, item)
    session.rollback()
    with pytest.raises(Forbidden):  # another learner cannot grant it
        services.set_accommodation(session, make_user(), course, item, learner, 0, 1)
    services.set_accommodation(session, trainer, course, item, learner, 15, 1, "dyslexia")
    session.commit()
    second, created = services.start_attempt(session, learner, course, item, now=utcnow())
    assert created and second.number == 2


def test_extra_time_lengthens_the_deadline_even_of_an_open_attempt(
    session, make_quiz, make_user, enrol
):
    trainer = make_user("trainer")
    course, item = make_quiz(time_limit_minutes=20, trainers=[trainer])
    learner = make_user()
    enrol(learner, course)
    start = utcnow()
    attempt, _ = services.start_attempt(session, learner, course, item, now=start)
    session.commit()
    services.set_accommodation(session, trainer, course, item, learner, 10, 0)
    session.commit()
    session.refresh(attempt)
    assert attempt.deadline == start + timedelta(minutes=30)


def test_shuffled_order_is_kept_for_the_attempt_and_grading_ignores_it(
    session, make_quiz, make_user, enrol
):
    course, item = make_quiz(shuffle=True)
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item, rng=random.Random(3))
    session.commit()
    bank = [q.id for q in services.questions_of(session, item)]
    assert sorted(attempt.question_ids) == sorted(bank)
    shown = services.shown_questions(session, attempt)
    resumed, _ = services.start_attempt(session, learner, course, item)
    assert [s.question.id for s in services.shown_questions(session, resumed)] == [
        s.question.id for s in shown
    ]
    capital = next(s for s in shown if s.question.title == "Capital")
    stored = attempt.choice_order[str(capital.question.id)]
    assert [c["id"] for c in capital.public["choices"]] == stored
    answer_all(session, attempt, item, RIGHT)
    services.submit(session, attempt, course, item)
    assert attempt.score == 100.0


def test_draw_n_questions_at_random(session, make_quiz, make_user, enrol):
    course, item = make_quiz(draw=2)
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item, rng=random.Random(7))
    session.commit()
    assert len(attempt.question_ids) == 2
    questions = {q.id: q for q in services.questions_of(session, item)}
    first = questions[attempt.question_ids[0]]
    services.save_answer(session, attempt, first.id, RIGHT[first.title])
    services.submit(session, attempt, course, item)
    assert attempt.score == 50.0  # one of the two drawn, right


@pytest.mark.parametrize(
    ("grading", "passed_after"), [("highest", True), ("last", False), ("average", False)]
)
def test_which_attempt_counts(session, make_quiz, make_user, enrol, grading, passed_after):
    course, item = make_quiz(grading=grading, pass_mark=60)
    learner = make_user()
    enrol(learner, course)
    first, _ = services.start_attempt(session, learner, course, item)
    answer_all(session, first, item, RIGHT)  # 100 %
    services.submit(session, first, course, item)
    session.commit()
    assert progress(session, learner, item).passed is True
    second, _ = services.start_attempt(session, learner, course, item)
    answer_all(session, second, item, {"Baltic": "false"})  # 0 %
    services.submit(session, second, course, item)
    session.commit()
    assert progress(session, learner, item).passed is passed_after
    expected = {"highest": 100.0, "last": 0.0, "average": 50.0}[grading]
    attempts = services.attempts_of(session, item, learner)
    assert services.counting_score(services.QuizSettings.of(item), attempts) == expected
    # Course completion, once reached, is never taken back.
    enrolment = session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
    assert enrolment.status == "completed"


def test_average_at_the_pass_mark_passes(session, make_quiz, make_user, enrol):
    course, item = make_quiz(grading="average", pass_mark=60)
    learner = make_user()
    enrol(learner, course)
    for answers in (RIGHT, {"Capital": "c1"}):
        attempt, _ = services.start_attempt(session, learner, course, item)
        answer_all(session, attempt, item, answers)
        services.submit(session, attempt, course, item)
        session.commit()
    assert progress(session, learner, item).passed is True  # (100 + 20) / 2 = 60


def test_essays_wait_for_a_trainer_of_the_course(app, session, make_quiz, make_user, enrol):
    trainer = make_user("trainer")
    course, item = make_quiz(GIFT + "\n" + ESSAY, trainers=[trainer])
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    answer_all(session, attempt, item, {**RIGHT, "Reflect": "I will declare my interests."})
    services.submit(session, attempt, course, item)
    session.commit()
    assert attempt.state == "awaiting_grading" and attempt.score is None
    assert progress(session, learner, item).passed is None
    queue = services.grading_queue(session, trainer)
    assert [(e.attempt.id, e.waiting) for e in queue] == [(attempt.id, 1)]
    assert services.grading_queue(session, make_user("trainer")) == []  # not their course
    essay = question_ids(session, item)["Reflect"]
    with pytest.raises(Forbidden):
        services.grade_essays(session, make_user("trainer"), attempt, {essay: (1.0, "")})
    session.rollback()
    with pytest.raises(Invalid) as refused:  # a mark over the whole, written as percentages are
        services.grade_essays(session, trainer, attempt, {essay: (1.5, "")})
    with app.test_request_context(headers={"Accept-Language": "lt"}):
        assert str(refused.value.message) == "Įvertinimas turi būti nuo 0 iki 100\xa0%."
    session.rollback()
    services.grade_essays(session, trainer, attempt, {essay: (0.5, "Be more specific.")})
    session.commit()
    assert attempt.state == "graded" and attempt.score == round(100 * 5.5 / 6, 2)
    assert progress(session, learner, item).passed is True
    assert services.grading_queue(session, trainer) == []


def test_an_empty_essay_needs_no_trainer(session, make_quiz, make_user, enrol):
    course, item = make_quiz(GIFT + "\n" + ESSAY)
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    answer_all(session, attempt, item, RIGHT)
    services.submit(session, attempt, course, item)
    assert attempt.state == "graded" and attempt.score == round(100 * 5 / 6, 2)


def test_review_settings(session, make_quiz, make_user, enrol):
    for review, expected_first, expected_after_pass in (
        ("after_submit", True, True),
        ("after_close", False, True),
        ("never", False, False),
    ):
        course, item = make_quiz(review=review, attempts=3)
        learner = make_user()
        enrol(learner, course)
        settings = services.QuizSettings.of(item)
        attempt, _ = services.start_attempt(session, learner, course, item)
        assert not services.review_allowed(settings, attempt, [attempt], None)  # open: never
        services.submit(session, attempt, course, item)  # nothing answered: 0 %
        session.commit()
        attempts = services.attempts_of(session, item, learner)
        assert services.review_allowed(settings, attempt, attempts, None) is expected_first
        second, _ = services.start_attempt(session, learner, course, item)
        answer_all(session, second, item, RIGHT)
        services.submit(session, second, course, item)
        session.commit()
        attempts = services.attempts_of(session, item, learner)
        assert services.review_allowed(settings, attempt, attempts, None) is expected_after_pass


def test_shown_questions_reveal_nothing_without_review(session, make_quiz, make_user, enrol):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    answer_all(session, attempt, item, RIGHT)
    shown = services.shown_questions(session, attempt)
    assert all(entry.review is None for entry in shown)
    text = repr([entry.public for entry in shown])
    assert "fraction" not in text and "Right." not in text and "feedback" not in text
    services.submit(session, attempt, course, item)
    reviewed = services.shown_questions(session, attempt, with_review=True)
    capital = next(e for e in reviewed if e.question.title == "Capital")
    assert capital.review.outcome == "correct" and capital.review.feedback_html == ["Right."]


def test_matching_is_answered_per_stem_with_partial_credit(session, make_quiz, make_user, enrol):
    course, item = make_quiz(MATCHING)
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    [entry] = services.shown_questions(session, attempt)
    stems = {s["text"]: s["id"] for s in entry.public["stems"]}
    options = {o["text"]: o["id"] for o in entry.public["options"]}
    services.save_answer(
        session,
        attempt,
        entry.question.id,
        {stems["Vilnius"]: options["Lithuania"], stems["Oslo"]: options["Poland"]},
    )
    services.submit(session, attempt, course, item)
    assert attempt.score == round(100 / 3, 2)


def test_attempts_of_others_are_not_found(session, make_quiz, make_user, enrol):
    course, item = make_quiz()
    learner, other = make_user(), make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    session.commit()
    with pytest.raises(NotFound):
        services.attempt_for(session, other, attempt.id)
    assert services.attempt_for(session, learner, attempt.id).id == attempt.id


def test_results_per_question_count_each_learners_latest_answer(
    session, make_quiz, make_user, enrol
):
    trainer = make_user("trainer")
    course, item = make_quiz(trainers=[trainer])
    ona, jonas = make_user(), make_user()
    for learner, attempts in ((ona, [{"Capital": "c2"}, RIGHT]), (jonas, [{"Capital": "c1"}])):
        enrol(learner, course)
        for answers in attempts:
            attempt, _ = services.start_attempt(session, learner, course, item)
            answer_all(session, attempt, item, answers)
            services.submit(session, attempt, course, item)
            session.commit()
    results = services.quiz_results(session, trainer, course, item)
    stats = {s.question.title: s for s in results.stats}
    assert (stats["Capital"].asked, stats["Capital"].right) == (2, 2)  # Ona's latest is right
    assert stats["Capital"].mean == pytest.approx(2 / 3)  # 0, 1, 1 over three answers
    assert (stats["River"].asked, stats["River"].right, stats["River"].share_right) == (2, 1, 50.0)
    assert results.learners == 2 and results.passed == 1
    assert len(results.attempts) == 3
    with pytest.raises(Forbidden):
        services.quiz_results(session, ona, course, item)


def test_save_answers_of_a_page_is_all_or_nothing(session, make_quiz, make_user, enrol):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    session.commit()
    questions = by_title(session, item)
    with pytest.raises(services.AnswersInvalid) as refused:
        services.save_answers(
            session,
            attempt,
            {questions["Capital"].id: "c1", questions["River"].id: "x" * (MAX_ANSWER_LENGTH + 1)},
        )
    assert list(refused.value.errors) == [questions["River"].id]
    session.rollback()
    assert session.scalar(select(func.count(Answer.id))) == 0
    changed = services.save_answers(
        session, attempt, {questions["Capital"].id: "c1", questions["River"].id: None}
    )
    session.commit()
    assert changed == 1
    assert services.save_answers(session, attempt, {questions["Capital"].id: "c1"}) == 0
