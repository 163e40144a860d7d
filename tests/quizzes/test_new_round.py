"""Recurring training with a quiz: when a completion expires and the course starts
over, the old round's attempts stay in history but stop counting, so a learner who
used every attempt allowed can pass the quiz again and complete the new round."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.quizzes.conftest import RIGHT
from tests.quizzes.test_attempts import answer_all
from vle.db import utcnow
from vle.errors import Conflict
from vle.learning import expiry
from vle.learning.models import Enrolment
from vle.quizzes import services
from vle.quizzes.models import Attempt


def test_a_new_round_gives_the_quiz_its_attempts_again(app, session, make_quiz, make_user, enrol):
    course, item = make_quiz(attempts=1)
    course.validity_months = 12
    session.commit()
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    answer_all(session, attempt, item, RIGHT)
    services.submit(session, attempt, course, item)
    session.commit()
    enrolment = session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
    assert enrolment.status == "completed" and enrolment.expires_at is not None
    with pytest.raises(Conflict):  # the one attempt allowed is used
        services.start_attempt(session, learner, course, item)
    session.rollback()

    with app.app_context():
        expiry.expire_completions(session, now=enrolment.expires_at + timedelta(days=1))
        session.commit()

    session.expire_all()
    old = session.get(Attempt, attempt.id)
    assert old.reset_at is not None and old.score == 100.0  # kept, no longer counted
    again, created = services.start_attempt(session, learner, course, item, now=utcnow())
    assert created and again.number == 2
    answer_all(session, again, item, RIGHT)
    services.submit(session, again, course, item)
    session.commit()
    session.expire_all()
    assert session.get(Enrolment, enrolment.id).status == "completed"
