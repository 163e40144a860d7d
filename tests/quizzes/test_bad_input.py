"""Bad answers are refused when they are saved, never a 500 later (issue 14,
point 4): numbers no float can hold, NaN and Infinity, control characters,
JSON nested too deeply for the parser."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, login, post_form
from tests.quizzes.conftest import ESSAY, GIFT, RIGHT, question_ids
from tests.quizzes.test_views import attempt_url, form_data, item_url, start, the_attempt
from vle.quizzes.models import Answer

DEEP = "[" * 2000 + "]" * 2000


def saved(session):
    session.commit()
    return session.scalar(select(func.count(Answer.id)))


@pytest.fixture
def api_attempt(client, session, make_quiz, make_user, enrol, token_for):
    """(answers URL, question ids by title, headers) for an open attempt."""
    course, item = make_quiz(GIFT + "\n" + ESSAY)
    learner = make_user()
    enrol(learner, course)
    headers = token_for(learner)
    attempt = client.post(f"/api/v1/quizzes/{item.id}/attempts", headers=headers).get_json()
    return f"/api/v1/attempts/{attempt['id']}/answers", question_ids(session, item), headers


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ("1" + "0" * 500, 422),  # a whole number as digits: 10**500
        ("-1" + "0" * 500, 422),
        ("1e400", 422),  # JSON's number, beyond any float
        ('"1e400"', 422),
        ('"1' + "0" * 400 + '"', 422),
        ('"NaN"', 422),
        ('"Infinity"', 422),
        ('"-inf"', 422),
        ("NaN", 400),  # not JSON at all
        ("-Infinity", 400),
    ],
)
def test_a_number_no_float_holds_is_refused_and_the_attempt_still_submits(
    client, session, api_attempt, answer, status
):
    url, ids, headers = api_attempt
    response = client.put(
        f"{url}/{ids['Year']}",
        data=f'{{"answer": {answer}}}',
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["message"]
    assert saved(session) == 0
    # A number in range is still saved, as are malformed ones (graded wrong).
    for fine in ("2004", '"2004,0"', '"20o4"', "1e300"):
        response = client.put(
            f"{url}/{ids['Year']}",
            data=f'{{"answer": {fine}}}',
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == 200
    submitted = client.post(url.replace("/answers", "/submit"), headers=headers)
    assert submitted.status_code == 200 and submitted.get_json()["state"] == "graded"


def test_a_huge_number_on_the_page_is_a_form_error(client, session, make_quiz, make_user, enrol):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    data = form_data(session, item, {**RIGHT, "Year": "1" + "0" * 400})
    response = post_form(client, f"{attempt_url(course, item, attempt.id)}/answers", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "the number is too large" in page and 'aria-invalid="true"' in page
    assert saved(session) == 0


def test_control_characters_in_answers(client, session, api_attempt):
    url, ids, headers = api_attempt
    for question, answer in (("River", "Nem\x00unas"), ("River", "Nemunas\n"), ("Reflect", "\x1b")):
        response = client.put(f"{url}/{ids[question]}", json={"answer": answer}, headers=headers)
        assert response.status_code == 422, (question, answer)
        assert "control character" in response.get_json()["error"]["message"].lower()
    assert saved(session) == 0
    # An essay has lines and may have tabs.
    essay = "First,\n\tthen\r\nlast."
    response = client.put(f"{url}/{ids['Reflect']}", json={"answer": essay}, headers=headers)
    assert response.status_code == 200
    assert saved(session) == 1 and session.scalar(select(Answer.value)) == essay


def test_the_pages_background_save_refuses_deep_json_and_control_characters(
    client, session, make_quiz, make_user, enrol
):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    token = csrf_token(client, item_url(course, item))
    url = f"{attempt_url(course, item, attempt.id)}/answers/{question_ids(session, item)['River']}"
    response = client.put(
        url, data=DEEP, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"
    response = client.put(url, json={"answer": "a\x00"}, headers={"X-CSRFToken": token})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid"
    assert saved(session) == 0


def test_a_trainers_comment_with_a_nul_is_refused(client, session, make_quiz, make_user, enrol):
    trainer = make_user("trainer")
    course, item = make_quiz(ESSAY, trainers=[trainer])
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    data = form_data(session, item, {"Reflect": "I will ask first."})
    post_form(client, f"{attempt_url(course, item, attempt.id)}/answers", data)
    post_form(client, f"{attempt_url(course, item, attempt.id)}/submit")
    staff = client.application.test_client()
    login(staff, trainer.email)
    essay = question_ids(session, item)["Reflect"]
    response = post_form(
        staff, f"/trainer/attempts/{attempt.id}",
        {f"mark-{essay}": "100", f"comment-{essay}": "Good\x00plan."}, page="/trainer/grading",
    )  # fmt: skip
    assert response.status_code in (200, 422)
    assert "control character" in response.get_data(as_text=True)
    assert the_attempt(session, learner).state == "awaiting_grading"
