"""A learner's quiz answers and personal data: their data download holds every
attempt and answer; erasing the account (GDPR) removes what they typed while
attempts, scores and the quiz's results keep their counts."""

from __future__ import annotations

import html
import io
import json
import zipfile

import pytest
from sqlalchemy import select, text

from tests.conftest import csrf_token, login, post_form
from tests.quizzes.conftest import ESSAY, GIFT, RIGHT, question_ids
from vle.admin import services as admin
from vle.errors import Forbidden, Invalid
from vle.learning.models import ItemProgress
from vle.quizzes import services as quizzes
from vle.quizzes.models import Accommodation, Answer, Attempt

ESSAY_TEXT = "Aš, Ona Žemaitė iš Alytaus, kitą kartą pranešiu apie interesų konfliktą."
SHORT_TEXT = "  NEMAN  "  # right: case and spaces do not matter
NUMBER_TEXT = "2004 m."  # not a number: kept as typed, graded wrong
COMMENT = "Ačiū, Ona, gera mintis."
NOTE = "Ona: disleksija"


def _zip_json(response):
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        return json.loads(archive.read("vle-data.json").decode("utf-8"))


@pytest.fixture
def answered(session, make_quiz, make_user, enrol):
    """Ona and Jonas took the quiz (five questions and an essay), both graded."""
    trainer = make_user("trainer", email="trainer@example.org")
    course, item = make_quiz(GIFT + "\n" + ESSAY, trainers=[trainer])
    ona = make_user(email="ona@example.org", name="Ona Žemaitė")
    jonas = make_user(email="jonas@example.org", name="Jonas Jonaitis")
    enrol(ona, course)
    enrol(jonas, course)
    quizzes.set_accommodation(session, trainer, course, item, ona, 10, 0, NOTE)
    ids = question_ids(session, item)
    answers = {
        ona: {
            ids["Capital"]: "c1", ids["River"]: SHORT_TEXT, ids["Year"]: NUMBER_TEXT,
            ids["Reflect"]: ESSAY_TEXT,
        },
        jonas: {**{ids[t]: v for t, v in RIGHT.items()}, ids["Reflect"]: "Klausiu vadovo."},
    }  # fmt: skip
    attempts = {}
    for learner, values in answers.items():
        attempt, _created = quizzes.start_attempt(session, learner, course, item)
        quizzes.save_answers(session, attempt, values)
        quizzes.submit(session, attempt, course, item)
        session.commit()
        mark, comment = (0.5, COMMENT) if learner is ona else (1.0, "Puiku.")
        quizzes.grade_essays(session, trainer, attempt, {ids["Reflect"]: (mark, comment)})
        session.commit()
        attempts["ona" if learner is ona else "jonas"] = attempt.id
    return course, item, trainer, ona, jonas, attempts


def _state(session, course, item, trainer, ona):
    """What reports and results count, and Ona's attempt as graded."""
    session.rollback()
    session.expire_all()
    results = quizzes.quiz_results(session, trainer, course, item)
    attempt = session.scalar(select(Attempt).where(Attempt.user_id == ona.id))
    fractions = dict(
        session.execute(
            select(Answer.question_id, Answer.fraction).where(Answer.attempt_id == attempt.id)
        ).all()
    )
    return {
        "attempt": (attempt.state, attempt.score, attempt.passed, attempt.submitted_at),
        "fractions": fractions,
        "learners": results.learners,
        "passed": results.passed,
        "counting": results.counting,
        "stats": [(s.question.id, s.asked, s.right, s.mean) for s in results.stats],
        "item_passed": session.scalar(
            select(ItemProgress.passed).where(
                ItemProgress.user_id == ona.id, ItemProgress.item_id == item.id
            )
        ),
    }


def test_a_learners_data_download_holds_their_attempts_and_answers(client, session, answered):
    course, item, _trainer, ona, _jonas, attempts = answered
    login(client, ona.email)
    data = _zip_json(post_form(client, "/my/data", page="/my/data"))
    [attempt] = data["quiz_attempts"]
    assert attempt["id"] == attempts["ona"]
    assert attempt["course"] == course.slug and attempt["quiz_title"] == "Check your knowledge"
    assert attempt["state"] == "graded" and attempt["score"] == pytest.approx(41.67)
    assert attempt["passed"] is False
    by_title = {a["question_title"]: a for a in attempt["answers"]}
    assert by_title["Reflect"]["value"] == ESSAY_TEXT and by_title["Reflect"]["fraction"] == 0.5
    assert by_title["Reflect"]["comment"] == COMMENT
    assert by_title["River"]["value"] == SHORT_TEXT and by_title["River"]["question_type"] == (
        "short_answer"
    )
    assert by_title["Year"]["value"] == NUMBER_TEXT
    assert by_title["Capital"]["value"] == "c1"
    assert by_title["Colours"]["value"] is None  # unanswered, recorded when graded
    assert data["quiz_accommodations"][0]["note"] == NOTE
    assert "Klausiu vadovo." not in json.dumps(data, ensure_ascii=False)  # Jonas's, not hers


def test_erasing_a_learner_removes_what_they_typed_and_keeps_every_count(
    client, session, answered, make_user
):
    course, item, trainer, ona, jonas, attempts = answered
    admin_user = make_user("admin", network=True, email="net@example.org")
    before = _state(session, course, item, trainer, ona)
    assert before["attempt"][:3] == ("graded", pytest.approx(41.67), False)
    assert before["learners"] == 2 and before["passed"] == 1 and before["item_passed"] is False
    jonas_before = session.execute(
        select(Answer.question_id, Answer.value, Answer.comment)
        .where(Answer.attempt_id == attempts["jonas"])
        .order_by(Answer.question_id)
    ).all()

    login(client, admin_user.email)
    response = post_form(client, f"/admin/users/{ona.id}/erase", {"confirm": "y"})
    assert response.status_code == 302

    # What she typed is nowhere in the answers any more, nor the trainer's words to her.
    session.rollback()
    stored = json.dumps(
        [list(row) for row in session.execute(select(Answer.value, Answer.comment))],
        ensure_ascii=False,
    )
    raw = " ".join(map(str, session.execute(text("SELECT value, comment FROM quiz_answers"))))
    for typed in (ESSAY_TEXT, "NEMAN", NUMBER_TEXT, "Ona", "Žemaitė", "Alytaus"):
        assert typed not in stored and typed not in raw, typed
    assert "Klausiu vadovo." in stored and "nemunas" in stored  # Jonas's stay
    hers = session.scalars(
        select(Answer).where(Answer.attempt_id == attempts["ona"]).order_by(Answer.question_id)
    ).all()
    assert len(hers) == 6 and all(a.comment == "" for a in hers)
    assert [a.value for a in hers].count(None) == 2  # Colours and Baltic: never answered
    assert all(a.value in (None, quizzes.ERASED_ANSWER) for a in hers)
    assert session.scalar(select(Accommodation.note).where(Accommodation.user_id == ona.id)) == ""
    # Her attempt, its score and marks, and the quiz's results count as before.
    assert _state(session, course, item, trainer, ona) == before
    # Jonas's answers are untouched.
    assert (
        session.execute(
            select(Answer.question_id, Answer.value, Answer.comment)
            .where(Answer.attempt_id == attempts["jonas"])
            .order_by(Answer.question_id)
        ).all()
        == jonas_before
    )

    # The trainer sees the attempt, scored as before, with her answers marked erased.
    trainer_client = client.application.test_client()
    login(trainer_client, trainer.email)
    page = html.unescape(
        trainer_client.get(f"/trainer/attempts/{attempts['ona']}").get_data(as_text=True)
    )
    assert "Score: 41.67%" in page and "Not passed" in page
    assert page.count("Erased with the learner's personal data") == 4
    assert "Alytaus" not in page and "NEMAN" not in page and "Ačiū" not in page
    results = trainer_client.get(f"/trainer/quizzes/{item.id}/results").get_data(as_text=True)
    assert "2 learners have attempted this quiz" in results and "1 has passed" in results

    # What is left of her data says the same.
    token = csrf_token(client, "/courses")
    data = _zip_json(client.post(f"/admin/users/{ona.id}/data", data={"csrf_token": token}))
    [attempt] = data["quiz_attempts"]
    assert attempt["score"] == pytest.approx(41.67) and attempt["passed"] is False
    assert {json.dumps(a["value"]) for a in attempt["answers"]} == {"null", '{"erased": true}'}
    assert ESSAY_TEXT not in json.dumps(data, ensure_ascii=False)


def test_a_refused_erasure_leaves_the_answers(session, answered):
    _course, _item, _trainer, ona, jonas, attempts = answered
    with pytest.raises(Forbidden):
        admin.erase_user(session, jonas, ona)  # a learner manages nobody
    session.rollback()
    values = session.scalars(select(Answer.value).where(Answer.attempt_id == attempts["ona"]))
    assert ESSAY_TEXT in list(values)


def test_an_erased_answer_is_not_one_a_learner_can_send(
    client, session, make_quiz, make_user, enrol
):
    """The marker cannot be forged: no question takes {"erased": true} as an answer."""
    course, item = make_quiz(GIFT + "\n" + ESSAY)
    learner = make_user()
    enrol(learner, course)
    attempt, _created = quizzes.start_attempt(session, learner, course, item)
    session.commit()
    for question_id in question_ids(session, item).values():
        with pytest.raises(Invalid):
            quizzes.save_answer(session, attempt, question_id, dict(quizzes.ERASED_ANSWER))
        session.rollback()


def test_an_erased_learners_essays_leave_the_grading_queue(
    client, session, make_quiz, make_user, enrol
):
    """Her essay was erased with her: there is nothing left to mark, so the
    trainer's queue no longer lists it; another learner's stays."""
    trainer = make_user("trainer", email="trainer@example.org")
    admin_user = make_user("admin", network=True, email="net@example.org")
    course, item = make_quiz(GIFT + "\n" + ESSAY, trainers=[trainer])
    attempts = {}
    for name in ("ona", "jonas"):
        learner = make_user(email=f"{name}@example.org")
        enrol(learner, course)
        attempt, _ = quizzes.start_attempt(session, learner, course, item)
        essay = question_ids(session, item)["Reflect"]
        quizzes.save_answer(session, attempt, essay, f"{name.title()}'s thoughts.")
        quizzes.submit(session, attempt, course, item)
        attempts[name] = attempt.id
    session.commit()
    assert {e.attempt.id for e in quizzes.grading_queue(session, trainer)} == set(attempts.values())

    login(client, admin_user.email)
    ona = session.scalar(select(Attempt.user_id).where(Attempt.id == attempts["ona"]))
    assert post_form(client, f"/admin/users/{ona}/erase", {"confirm": "y"}).status_code == 302

    session.rollback()
    assert [e.attempt.id for e in quizzes.grading_queue(session, trainer)] == [attempts["jonas"]]
    trainer_client = client.application.test_client()
    login(trainer_client, trainer.email)
    page = trainer_client.get("/trainer/grading").get_data(as_text=True)
    assert f"/trainer/attempts/{attempts['jonas']}" in page
    assert f"/trainer/attempts/{attempts['ona']}" not in page
    # Her attempt is still there, waiting, as the quiz's results count it.
    assert session.get(Attempt, attempts["ona"]).state == "awaiting_grading"
