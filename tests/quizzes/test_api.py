"""The attempt endpoints of /api/v1: shapes, every refusal, and that nothing
reveals correctness or anyone else's attempt."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.quizzes.conftest import ESSAY, GIFT, MATCHING, RIGHT, question_ids
from vle.db import utcnow
from vle.quizzes.models import Answer, Attempt
from vle.quizzes.questions import MAX_ANSWER_LENGTH, QUESTION_TYPES

ATTEMPT_KEYS = {"id", "quiz", "state", "deadline", "questions", "answers", "score", "passed"}


@pytest.fixture
def learner_quiz(session, make_quiz, make_user, enrol, token_for):
    """(course, item, learner, headers) for an enrolled learner; quiz settings by kwargs."""

    def make(text=GIFT, **settings):
        course, item = make_quiz(text, **settings)
        learner = make_user()
        enrol(learner, course)
        return course, item, learner, token_for(learner)

    return make


def assert_error(response, status, code=None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error", "request_id"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code


def start(client, item, headers):
    return client.post(f"/api/v1/quizzes/{item.id}/attempts", headers=headers)


def test_start_is_201_then_200_with_the_same_attempt(client, learner_quiz):
    course, item, learner, headers = learner_quiz(time_limit_minutes=15)
    first = start(client, item, headers)
    assert first.status_code == 201
    body = first.get_json()
    assert ATTEMPT_KEYS <= set(body)
    assert body["quiz"] == item.id and body["state"] == "open"
    assert body["score"] is None and body["passed"] is None and body["answers"] == {}
    assert body["deadline"].endswith("Z") and body["url"].startswith("http")
    again = start(client, item, headers)
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]


def test_question_shapes_reveal_no_answer(client, session, learner_quiz):
    course, item, learner, headers = learner_quiz(GIFT + "\n" + MATCHING + "\n" + ESSAY)
    body = start(client, item, headers).get_json()
    by_type = {q["type"]: q for q in body["questions"]}
    assert set(by_type) == {
        "single_choice", "multiple_choice", "true_false", "numerical", "short_answer",
        "matching", "essay",
    }  # fmt: skip
    for question in body["questions"]:
        assert {"id", "type", "text"} <= set(question)
    assert [c["id"] for c in by_type["true_false"]["choices"]] == ["true", "false"]
    assert [c["id"] for c in by_type["single_choice"]["choices"]] == ["c1", "c2", "c3"]
    assert {"id", "text"} == set(by_type["multiple_choice"]["choices"][0])
    assert len(by_type["matching"]["stems"]) == 3 and len(by_type["matching"]["options"]) == 3
    assert "choices" not in by_type["numerical"] and "choices" not in by_type["essay"]
    text = json.dumps(body)
    for secret in ("fraction", "feedback", "Right.", "interwar", "2004", "Nemunas", "correct"):
        assert secret not in text
    assert body["review"] is None


def test_save_submit_and_result(client, session, learner_quiz):
    course, item, learner, headers = learner_quiz(pass_mark=60)
    attempt = start(client, item, headers).get_json()
    ids = question_ids(session, item)
    for title, value in RIGHT.items():
        response = client.put(
            f"/api/v1/attempts/{attempt['id']}/answers/{ids[title]}",
            json={"answer": value},
            headers=headers,
        )
        assert response.status_code == 200 and set(response.get_json()) == {"saved_at"}
    # A numeric answer may also be a number.
    client.put(
        f"/api/v1/attempts/{attempt['id']}/answers/{ids['Year']}",
        json={"answer": 2004},
        headers=headers,
    )
    body = client.get(f"/api/v1/attempts/{attempt['id']}", headers=headers).get_json()
    assert body["answers"][str(ids["Colours"])] == ["c1", "c2"]
    assert body["answers"][str(ids["Year"])] == 2004
    submitted = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers)
    assert submitted.status_code == 200
    result = submitted.get_json()
    assert (result["state"], result["score"], result["passed"]) == ("graded", 100.0, True)
    assert result["review"][str(ids["Capital"])]["feedback"] == ["Right."]
    again = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers).get_json()
    assert again == result
    progress = client.get("/api/v1/me/enrolments", headers=headers).get_json()["enrolments"][0]
    assert progress["status"] == "completed"


def test_review_never_keeps_correctness_hidden_after_submit(client, session, learner_quiz):
    course, item, learner, headers = learner_quiz(review="never")
    attempt = start(client, item, headers).get_json()
    ids = question_ids(session, item)
    client.put(
        f"/api/v1/attempts/{attempt['id']}/answers/{ids['Capital']}",
        json={"answer": "c2"},
        headers=headers,
    )
    result = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers).get_json()
    assert result["score"] == 0.0 and result["passed"] is False and result["review"] is None
    text = json.dumps(result)
    assert "interwar" not in text and "fraction" not in text and "Right." not in text


def test_answer_refusals(client, session, learner_quiz, make_quiz):
    course, item, learner, headers = learner_quiz()
    _other_course, other_item = make_quiz()
    attempt = start(client, item, headers).get_json()
    ids = question_ids(session, item)
    url = f"/api/v1/attempts/{attempt['id']}/answers"
    # A question not in the attempt.
    foreign = question_ids(session, other_item)["Capital"]
    assert_error(client.put(f"{url}/{foreign}", json={"answer": "c1"}, headers=headers), 422)
    assert_error(client.put(f"{url}/987654", json={"answer": "c1"}, headers=headers), 422)
    # Malformed shapes.
    assert_error(
        client.put(f"{url}/{ids['Capital']}", json={"answer": ["c1"]}, headers=headers), 422
    )
    assert_error(client.put(f"{url}/{ids['Colours']}", json={"answer": "c1"}, headers=headers), 422)
    assert_error(client.put(f"{url}/{ids['Baltic']}", json={"answer": "yes"}, headers=headers), 422)
    too_long = "x" * (MAX_ANSWER_LENGTH + 1)
    response = client.put(f"{url}/{ids['River']}", json={"answer": too_long}, headers=headers)
    assert_error(response, 422, "invalid")
    assert "too long" in response.get_json()["error"]["message"]
    # No body, or no "answer" key.
    assert_error(client.put(f"{url}/{ids['Capital']}", headers=headers), 400)
    assert_error(client.put(f"{url}/{ids['Capital']}", json={"value": "c1"}, headers=headers), 400)
    assert_error(client.put(f"{url}/{ids['Capital']}", json={"answer": "c1"}), 401)
    # A malformed number is not an error: it is saved and graded wrong.
    response = client.put(f"{url}/{ids['Year']}", json={"answer": "20o4"}, headers=headers)
    assert response.status_code == 200
    session.commit()
    assert session.scalar(select(func.count(Answer.id))) == 1


def test_answers_after_submit_or_deadline_are_409(client, session, learner_quiz):
    course, item, learner, headers = learner_quiz(time_limit_minutes=5)
    ids = question_ids(session, item)
    attempt = start(client, item, headers).get_json()
    client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers)
    response = client.put(
        f"/api/v1/attempts/{attempt['id']}/answers/{ids['Capital']}",
        json={"answer": "c1"},
        headers=headers,
    )
    assert_error(response, 409, "conflict")
    # A second attempt whose deadline has passed.
    second = start(client, item, headers).get_json()
    client.put(
        f"/api/v1/attempts/{second['id']}/answers/{ids['Capital']}",
        json={"answer": "c1"},
        headers=headers,
    )
    session.commit()
    row = session.get(Attempt, second["id"])
    row.deadline = utcnow() - timedelta(minutes=2)
    session.commit()
    response = client.put(
        f"/api/v1/attempts/{second['id']}/answers/{ids['Baltic']}",
        json={"answer": "true"},
        headers=headers,
    )
    assert_error(response, 409)
    # It was graded with what was saved before the deadline.
    body = client.get(f"/api/v1/attempts/{second['id']}", headers=headers).get_json()
    assert body["state"] == "graded" and body["score"] == 20.0


def test_nobody_reads_or_changes_another_learners_attempt(
    client, session, learner_quiz, make_user, enrol, token_for
):
    course, item, learner, headers = learner_quiz()
    attempt = start(client, item, headers).get_json()
    ids = question_ids(session, item)
    other = make_user()
    enrol(other, course)
    network_admin = make_user("admin", network=True)
    assert_error(client.get(f"/api/v1/attempts/{attempt['id']}", headers=token_for(other)), 404)
    # A network admin may read it (tests/quizzes/test_staff_access.py), never change it.
    for intruder in (other, network_admin):
        theirs = token_for(intruder)
        response = client.put(
            f"/api/v1/attempts/{attempt['id']}/answers/{ids['Capital']}",
            json={"answer": "c2"},
            headers=theirs,
        )
        assert_error(response, 404)
        assert_error(client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=theirs), 404)
    session.commit()
    assert session.get(Attempt, attempt["id"]).state == "open"
    assert session.scalar(select(func.count(Answer.id))) == 0
    assert_error(client.get("/api/v1/attempts/424242", headers=headers), 404)


def test_starting_needs_enrolment_a_quiz_and_attempts_left(
    client, session, learner_quiz, make_user, make_course, token_for
):
    course, item, learner, headers = learner_quiz(attempts=1)
    assert_error(start(client, item, token_for(make_user())), 403, "forbidden")
    lesson = make_course().modules[0].items[0]
    assert_error(start(client, lesson, headers), 404)
    assert_error(client.post("/api/v1/quizzes/999999/attempts", headers=headers), 404)
    assert_error(client.post(f"/api/v1/quizzes/{item.id}/attempts"), 401)
    attempt = start(client, item, headers).get_json()
    client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers)
    assert_error(start(client, item, headers), 409)


def test_draft_quiz_does_not_exist_for_learners(client, make_quiz, make_user, token_for):
    _course, item = make_quiz(status="draft")
    assert_error(start(client, item, token_for(make_user())), 404)


def test_essay_attempt_waits_for_grading(client, session, learner_quiz):
    course, item, learner, headers = learner_quiz(GIFT + "\n" + ESSAY)
    attempt = start(client, item, headers).get_json()
    ids = question_ids(session, item)
    client.put(
        f"/api/v1/attempts/{attempt['id']}/answers/{ids['Reflect']}",
        json={"answer": "Ask first."},
        headers=headers,
    )
    result = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers).get_json()
    assert result["state"] == "awaiting_grading"
    assert result["score"] is None and result["passed"] is None
    assert result["review"][str(ids["Reflect"])]["outcome"] == "pending"


def test_concurrent_submits_grade_once(app, session, learner_quiz):
    course, item, learner, headers = learner_quiz()
    client = app.test_client()
    attempt = start(client, item, headers).get_json()
    ids = question_ids(session, item)
    for title, value in RIGHT.items():
        client.put(
            f"/api/v1/attempts/{attempt['id']}/answers/{ids[title]}",
            json={"answer": value},
            headers=headers,
        )
    results: list = []
    barrier = threading.Barrier(4)

    def submit() -> None:
        own = app.test_client()
        barrier.wait()
        response = own.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers)
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [status for status, _ in results] == [200] * 4
    assert {body["score"] for _, body in results} == {100.0}
    session.commit()
    assert session.scalar(select(func.count(Answer.id))) == 5
    graded = session.scalars(select(Attempt.graded_at)).all()
    assert len(graded) == 1 and graded[0] is not None


def test_concurrent_starts_make_one_attempt(app, session, learner_quiz):
    course, item, learner, headers = learner_quiz()
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def go() -> None:
        own = app.test_client()
        barrier.wait()
        statuses.append(
            own.post(f"/api/v1/quizzes/{item.id}/attempts", headers=headers).status_code
        )

    threads = [threading.Thread(target=go) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [200, 200, 200, 201]
    session.commit()
    assert session.scalar(select(func.count(Attempt.id))) == 1


def test_attempt_routes_are_documented(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/quizzes/{id}/attempts"]
    assert "get" in paths["/api/v1/attempts/{id}"]
    assert "put" in paths["/api/v1/attempts/{id}/answers/{question_id}"]
    assert "post" in paths["/api/v1/attempts/{id}/submit"]


def test_the_documented_question_types_are_the_ones_vle_has(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert set(schemas["Question"]["properties"]["type"]["enum"]) == set(QUESTION_TYPES)


def test_starting_again_after_the_time_ran_out_grades_the_old_attempt(
    client, session, learner_quiz
):
    course, item, learner, headers = learner_quiz(time_limit_minutes=5, attempts=1)
    attempt = start(client, item, headers).get_json()
    qid = question_ids(session, item)["Capital"]
    client.put(
        f"/api/v1/attempts/{attempt['id']}/answers/{qid}", json={"answer": "c1"}, headers=headers
    )
    session.commit()
    session.get(Attempt, attempt["id"]).deadline = utcnow() - timedelta(minutes=1)
    session.commit()
    # The only attempt was used up by the clock: no new one, and the old one is graded.
    assert_error(start(client, item, headers), 409)
    session.commit()
    session.expire_all()
    assert session.get(Attempt, attempt["id"]).state == "graded"  # by the refused start itself
    body = client.get(f"/api/v1/attempts/{attempt['id']}", headers=headers).get_json()
    assert body["state"] == "graded" and body["score"] == 20.0
    session.commit()
    assert session.scalar(select(func.count(Attempt.id))) == 1
