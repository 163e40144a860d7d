"""Property: an attempt's score depends on the answers only — not on the order
the attempt showed its questions and choices in, nor on which seed shuffled them."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.quizzes.conftest import GIFT, MATCHING
from vle.quizzes import questions, services


def pick_answer(question_type: str, shown: dict[str, Any], pick: int) -> Any:
    """What a learner picks at a position of the page as it was shown to them."""
    if question_type in ("single_choice", "true_false"):
        return shown["choices"][pick % len(shown["choices"])]["id"]
    if question_type == "multiple_choice":
        return [c["id"] for c in shown["choices"][: 1 + pick % len(shown["choices"])]]
    if question_type == "matching":
        options = [o["id"] for o in shown["options"]]
        return {s["id"]: options[(pick + i) % len(options)] for i, s in enumerate(shown["stems"])}
    if question_type == "numerical":
        return str(2002 + pick)
    return ["Nemunas", "neman", "Vilnia"][pick % 3]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    picks=st.lists(st.integers(min_value=0, max_value=5), min_size=6, max_size=6),
)
def test_score_is_independent_of_shuffling(session, make_quiz, make_user, enrol, seed, picks):
    answers: dict[str, Any] = {}
    scores = []
    for shuffle in (True, False):
        course, item = make_quiz(GIFT + "\n" + MATCHING, shuffle=shuffle)
        learner = make_user()
        enrol(learner, course)
        attempt, _ = services.start_attempt(session, learner, course, item, rng=random.Random(seed))
        shown = {e.question.id: e.public for e in services.shown_questions(session, attempt)}
        expected = 0.0
        for n, question in enumerate(services.questions_of(session, item)):
            if shuffle:  # chosen on the shuffled page, by position
                answers[question.title] = pick_answer(question.type, shown[question.id], picks[n])
            value = answers[question.title]  # the same answers, in the plain quiz
            services.save_answer(session, attempt, question.id, value)
            expected += questions.grade(question.spec, questions.normalise(question.spec, value))
        services.submit(session, attempt, course, item)
        session.commit()
        assert attempt.score == round(100 * expected / 6, 2)
        scores.append(attempt.score)
    assert scores[0] == scores[1]
