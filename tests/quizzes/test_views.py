"""The quiz pages as a learner and a trainer use them, without JavaScript."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import csrf_token, login, post_form
from tests.quizzes.conftest import ESSAY, GIFT, RIGHT, by_title, question_ids
from vle.db import utcnow
from vle.learning.models import Enrolment
from vle.quizzes import services
from vle.quizzes.models import Accommodation, Answer, Attempt
from vle.quizzes.questions import MAX_ANSWER_LENGTH


def item_url(course, item, page=None):
    return f"/courses/{course.slug}/items/{item.id}" + (f"?page={page}" if page else "")


def attempt_url(course, item, attempt_id):
    return f"{item_url(course, item)}/attempts/{attempt_id}"


def count(session, model):
    session.commit()
    return session.scalar(select(func.count(model.id)))


def start(client, course, item):
    response = post_form(client, f"{item_url(course, item)}/attempts", page=item_url(course, item))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(item_url(course, item))
    return response


def form_data(session, item, answers):
    """The attempt form's fields for `answers` (by question title)."""
    data: dict = {"shown": []}
    for question in services.questions_of(session, item):
        if question.title not in answers:
            continue
        data["shown"].append(str(question.id))
        value = answers[question.title]
        if isinstance(value, dict):
            for stem, option in value.items():
                data[f"q{question.id}-{stem}"] = option
        else:
            data[f"q{question.id}"] = value
    return data


def the_attempt(session, learner):
    session.commit()  # end the test's read transaction: see what the requests wrote
    session.expire_all()
    return session.scalar(select(Attempt).where(Attempt.user_id == learner.id))


def test_quiz_page_start_answer_confirm_submit_result(client, session, make_quiz, make_user, enrol):
    course, item = make_quiz(pass_mark=60)
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    page = client.get(item_url(course, item)).get_data(as_text=True)
    assert ">Start attempt<" in page and "Pass mark" in page and "60%" in page
    start(client, course, item)
    page = client.get(item_url(course, item)).get_data(as_text=True)
    assert "What is the capital of Lithuania?" in page
    assert ">Submit<" in page and ">Start attempt<" not in page
    assert 'role="status"' in page  # the save state
    assert "Right." not in page and "interwar" not in page  # no feedback before review
    attempt = the_attempt(session, learner)
    data = {**form_data(session, item, RIGHT), "action": "submit", "page": "1"}
    response = post_form(client, f"{attempt_url(course, item, attempt.id)}/answers", data)
    assert response.status_code == 303 and response.headers["Location"].endswith("/submit")
    assert count(session, Answer) == 5
    confirm = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Submit your answers?" in confirm and "You have answered 5 of 5 questions." in confirm
    assert the_attempt(session, learner).state == "open"  # not before the confirmation
    response = post_form(client, f"{attempt_url(course, item, attempt.id)}/submit")
    assert response.status_code == 303
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Score: 100%" in result and "Passed" in result
    assert "Right." in result  # review after submit shows feedback
    # The quiz page now lists the attempt and the grade.
    page = client.get(item_url(course, item)).get_data(as_text=True)
    assert "Your grade: 100%." in page and "Review attempt 1" in page


def test_failing_result_says_not_passed(client, session, make_quiz, make_user, enrol):
    course, item = make_quiz(pass_mark=80, review="never")
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    data = {**form_data(session, item, {"Capital": "c1", "Baltic": "true"}), "action": "save"}
    post_form(client, f"{attempt_url(course, item, attempt.id)}/answers", data)
    response = post_form(client, f"{attempt_url(course, item, attempt.id)}/submit")
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Score: 40%" in result and "Not passed" in result and "pass mark 80%" in result
    assert "Right." not in result and "Yes it is." not in result  # review: never


def test_reopening_the_quiz_resumes_with_every_answer(client, session, make_quiz, make_user, enrol):
    course, item = make_quiz(GIFT + "\n" + ESSAY)
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    answers = {**RIGHT, "Reflect": "Declare <interests> & withdraw."}
    post_form(
        client,
        f"{attempt_url(course, item, attempt.id)}/answers",
        form_data(session, item, answers),
    )
    # A new browser, signed in again.
    other = client.application.test_client()
    login(other, learner.email)
    page = other.get(item_url(course, item)).get_data(as_text=True)
    ids = question_ids(session, item)
    assert re.search(rf'id="q{ids["Capital"]}-c1" value="c1" checked', page)
    assert re.search(rf'id="q{ids["Colours"]}-c1" value="c1" checked', page)
    assert re.search(rf'id="q{ids["Colours"]}-c2" value="c2" checked', page)
    assert re.search(rf'id="q{ids["Baltic"]}-true" value="true" checked', page)
    assert 'value="2004"' in page and 'value="nemunas"' in page
    assert "Declare &lt;interests&gt; &amp; withdraw.</textarea>" in page
    assert "6 of 6 questions answered" in page
    # Start attempt again is the same attempt, not a second one.
    post_form(other, f"{item_url(course, item)}/attempts", page=item_url(course, item))
    assert count(session, Attempt) == 1


def test_one_question_per_page(client, session, make_quiz, make_user, enrol):
    course, item = make_quiz(layout="one_per_page")
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    page = client.get(item_url(course, item)).get_data(as_text=True)
    assert "What is the capital of Lithuania?" in page and "Baltic state" not in page
    assert "Page 1 of 5" in page and ">Next<" in page and ">Previous<" not in page
    attempt = the_attempt(session, learner)
    data = {**form_data(session, item, {"Capital": "c1"}), "action": "next", "page": "1"}
    response = post_form(client, f"{attempt_url(course, item, attempt.id)}/answers", data)
    assert response.headers["Location"].endswith(item_url(course, item, page=2))
    page = client.get(item_url(course, item, page=2)).get_data(as_text=True)
    assert "Which of these are colours" in page and "capital of Lithuania" not in page
    assert ">Previous<" in page
    # The question list tells which are answered.
    assert re.search(r"Question 1:\s*<span[^>]*>answered</span>", page)
    assert re.search(r"Question 2:\s*<span[^>]*>not answered</span>", page)


def test_clearing_an_answer_on_the_page(client, session, make_quiz, make_user, enrol):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    url = f"{attempt_url(course, item, attempt.id)}/answers"
    post_form(client, url, form_data(session, item, {"Colours": ["c1", "c2"], "River": "Neman"}))
    # Unticking every box and emptying the text clears them.
    post_form(client, url, form_data(session, item, {"Colours": [], "River": "  "}))
    assert count(session, Answer) == 0


def test_an_oversized_answer_is_refused_with_a_message_and_nothing_saved(
    client, session, make_quiz, make_user, enrol
):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    data = form_data(session, item, {"Capital": "c1", "River": "x" * (MAX_ANSWER_LENGTH + 5)})
    response = post_form(client, f"{attempt_url(course, item, attempt.id)}/answers", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "too long" in page and 'role="alert"' in page and 'aria-invalid="true"' in page
    assert count(session, Answer) == 0


def test_nobody_else_reaches_an_attempt(client, session, make_quiz, make_user, enrol):
    course, item = make_quiz()
    learner, other = make_user(), make_user()
    enrol(learner, course)
    enrol(other, course)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    intruder = client.application.test_client()
    login(intruder, other.email)
    url = attempt_url(course, item, attempt.id)
    assert intruder.get(url).status_code == 404
    assert intruder.get(f"{url}/submit").status_code == 404
    token = csrf_token(intruder, "/courses")
    assert intruder.post(f"{url}/submit", data={"csrf_token": token}).status_code == 404
    data = {**form_data(session, item, {"Capital": "c2"}), "csrf_token": token}
    assert intruder.post(f"{url}/answers", data=data).status_code == 404
    qid = question_ids(session, item)["Capital"]
    response = intruder.put(
        f"{url}/answers/{qid}", json={"answer": "c2"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 404
    assert the_attempt(session, learner).state == "open"
    assert count(session, Answer) == 0
    # The trainer pages are for trainers.
    assert intruder.get(f"/trainer/quizzes/{item.id}/results").status_code == 403
    assert intruder.get(f"/trainer/attempts/{attempt.id}").status_code == 403
    assert intruder.get("/trainer/grading").status_code == 403


def test_background_save_of_one_answer(client, session, make_quiz, make_user, enrol):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    token = csrf_token(client, item_url(course, item))
    ids = question_ids(session, item)
    url = f"{attempt_url(course, item, attempt.id)}/answers"
    response = client.put(
        f"{url}/{ids['Colours']}", json={"answer": ["c2"]}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200 and response.get_json()["saved_at"].endswith("Z")
    session.commit()
    assert session.scalar(select(Answer.value)) == ["c2"]
    # Without the CSRF header: refused.
    assert client.put(f"{url}/{ids['Colours']}", json={"answer": ["c1"]}).status_code == 400
    # Not in the attempt, or malformed: 422 JSON.
    response = client.put(f"{url}/999999", json={"answer": "c1"}, headers={"X-CSRFToken": token})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid"
    response = client.put(
        f"{url}/{ids['Capital']}", json={"answer": 7}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 422
    # After submitting: 409.
    post_form(client, f"{attempt_url(course, item, attempt.id)}/submit")
    response = client.put(
        f"{url}/{ids['Capital']}", json={"answer": "c1"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "conflict"


def test_double_submit_grades_once(client, session, make_quiz, make_user, enrol):
    course, item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    post_form(
        client, f"{attempt_url(course, item, attempt.id)}/answers", form_data(session, item, RIGHT)
    )
    first = post_form(client, f"{attempt_url(course, item, attempt.id)}/submit")
    graded_at = the_attempt(session, learner).graded_at
    second = post_form(client, f"{attempt_url(course, item, attempt.id)}/submit")
    assert first.headers["Location"] == second.headers["Location"]
    assert the_attempt(session, learner).graded_at == graded_at
    assert count(session, Answer) == 5


def test_time_is_up_saves_the_page_and_submits(client, session, make_quiz, make_user, enrol):
    course, item = make_quiz(time_limit_minutes=10)
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    page = client.get(item_url(course, item)).get_data(as_text=True)
    assert 'id="quiz-timer"' in page and "data-deadline=" in page
    attempt = the_attempt(session, learner)
    data = {**form_data(session, item, RIGHT), "action": "timeup"}
    response = post_form(client, f"{attempt_url(course, item, attempt.id)}/answers", data)
    assert response.headers["Location"].endswith(attempt_url(course, item, attempt.id))
    assert the_attempt(session, learner).score == 100.0


def test_an_overdue_attempt_is_graded_when_the_quiz_is_opened(
    client, session, make_quiz, make_user, enrol
):
    course, item = make_quiz(time_limit_minutes=10)
    learner = make_user()
    enrol(learner, course)
    attempt, _ = services.start_attempt(
        session, learner, course, item, now=utcnow() - timedelta(hours=1)
    )
    services.save_answer(
        session, attempt, question_ids(session, item)["Capital"], "c1", now=attempt.started_at
    )
    session.commit()
    login(client, learner.email)
    page = client.get(item_url(course, item)).get_data(as_text=True)
    assert "What is the capital" not in page and ">Start attempt<" in page
    assert the_attempt(session, learner).score == 20.0
    # A late post is not saved; the learner lands on the result.
    data = form_data(session, item, RIGHT)
    response = post_form(client, f"{attempt_url(course, item, attempt.id)}/answers", data)
    assert response.headers["Location"].endswith(attempt_url(course, item, attempt.id))
    assert the_attempt(session, learner).score == 20.0


def test_no_attempts_left(client, session, make_quiz, make_user, enrol):
    course, item = make_quiz(attempts=1)
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    post_form(client, f"{attempt_url(course, item, attempt.id)}/submit")
    page = client.get(item_url(course, item)).get_data(as_text=True)
    assert ">Start attempt<" not in page and "You have used your 1 attempt" in page
    response = post_form(client, f"{item_url(course, item)}/attempts")
    assert response.status_code == 303
    assert "You have used all 1 attempts" in client.get(item_url(course, item)).get_data(
        as_text=True
    )
    assert count(session, Attempt) == 1


def test_essay_waits_and_the_trainer_grades_it(client, session, make_quiz, make_user, enrol):
    trainer = make_user("trainer")
    course, item = make_quiz(GIFT + "\n" + ESSAY, trainers=[trainer])
    learner = make_user(name="Ona Onaitė")
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    answers = {**RIGHT, "Reflect": "I will ask before I accept."}
    post_form(
        client,
        f"{attempt_url(course, item, attempt.id)}/answers",
        form_data(session, item, answers),
    )
    result = client.get(
        post_form(client, f"{attempt_url(course, item, attempt.id)}/submit").headers["Location"]
    )
    text = result.get_data(as_text=True)
    assert "waiting for grading" in text and "1 essay answer waits for a trainer" in text
    staff = client.application.test_client()
    login(staff, trainer.email)
    queue = staff.get("/trainer/grading").get_data(as_text=True)
    assert "Ona Onaitė" in queue and "Grade attempt 1" in queue
    page = staff.get(f"/trainer/attempts/{attempt.id}").get_data(as_text=True)
    assert "I will ask before I accept." in page
    essay = question_ids(session, item)["Reflect"]
    bad = post_form(
        staff, f"/trainer/attempts/{attempt.id}", {f"mark-{essay}": "150"}, page="/trainer/grading"
    )
    assert bad.status_code == 422 and "from 0 to 100" in bad.get_data(as_text=True)
    response = post_form(
        staff, f"/trainer/attempts/{attempt.id}",
        {f"mark-{essay}": "100", f"comment-{essay}": "Good plan."}, page="/trainer/grading",
    )  # fmt: skip
    assert response.status_code == 303
    assert the_attempt(session, learner).score == 100.0
    assert "No answers are waiting" in staff.get("/trainer/grading").get_data(as_text=True)
    result = client.get(attempt_url(course, item, attempt.id)).get_data(as_text=True)
    assert "Score: 100%" in result and "Good plan." in result
    enrolment = session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
    session.refresh(enrolment)
    assert enrolment.status == "completed"


def test_trainer_results_page(client, session, make_quiz, make_user, enrol, count_queries):
    trainer = make_user("trainer")
    course, item = make_quiz(trainers=[trainer])

    def attempt_for(learner, answers):
        enrol(learner, course)
        attempt, _ = services.start_attempt(session, learner, course, item)
        for title, value in answers.items():
            services.save_answer(session, attempt, by_title(session, item)[title].id, value)
        services.submit(session, attempt, course, item)
        session.commit()

    attempt_for(make_user(name="Ona"), RIGHT)
    attempt_for(make_user(name="Jonas"), {"Capital": "c1"})
    login(client, trainer.email)
    url = f"/trainer/quizzes/{item.id}/results"
    with count_queries() as few:
        page = client.get(url).get_data(as_text=True)
    assert "Ona" in page and "Jonas" in page and "100%" in page and "20%" in page
    assert "2 learners have attempted this quiz" in page and "1 has passed" in page
    # Capital: both right; Baltic: one of two.
    assert re.search(r"Capital</th>\s*<td>Single choice</td>\s*<td>2</td>\s*<td>100% \(2\)", page)
    assert re.search(r"Baltic</th>\s*<td>True/false</td>\s*<td>2</td>\s*<td>50% \(1\)", page)
    for _n in range(3):
        attempt_for(make_user(), RIGHT)
    with count_queries() as more:
        client.get(url)
    assert more.count == few.count  # no query per attempt or per learner


def test_accommodations_page(client, session, make_quiz, make_user, enrol):
    trainer = make_user("trainer")
    course, item = make_quiz(trainers=[trainer], time_limit_minutes=20, attempts=1)
    learner = make_user(email="ona@example.org", name="Ona")
    enrol(learner, course)
    login(client, trainer.email)
    url = f"/trainer/quizzes/{item.id}/accommodations"
    assert "No learner has an accommodation" in client.get(url).get_data(as_text=True)
    response = post_form(
        client, url, {"learner": "nobody@example.org", "extra_minutes": "10"}, page=url
    )
    assert response.status_code == 422 and "no learner with this email" in response.get_data(
        as_text=True
    )
    response = post_form(
        client,
        url,
        {"learner": "ona@example.org", "extra_minutes": "10", "extra_attempts": "1"},
        page=url,
    )
    assert response.status_code == 303
    learner_client = client.application.test_client()
    login(learner_client, learner.email)
    page = learner_client.get(item_url(course, item)).get_data(as_text=True)
    assert "30 minutes" in page and "including your extra time" in page
    assert re.search(r"Attempts allowed</dt>\s*<dd>2", page)


def test_accommodations_name_only_the_courses_learners(
    client, session, make_quiz, make_org, make_user, enrol
):
    trainer = make_user("trainer")
    course, item = make_quiz(trainers=[trainer])
    other_course, _ = make_quiz()
    elsewhere = make_user(org=make_org(), email="zofia@example.org", name="Zofia Łącka")
    enrol(elsewhere, other_course)  # a learner, but not of this course
    login(client, trainer.email)
    url = f"/trainer/quizzes/{item.id}/accommodations"
    pages = [
        post_form(client, url, {"learner": email, "extra_minutes": "10"}, page=url)
        for email in ("zofia@example.org", "nobody@example.org")
    ]
    assert [page.status_code for page in pages] == [422, 422]
    texts = [page.get_data(as_text=True) for page in pages]
    assert "Zofia" not in texts[0] and "Łącka" not in texts[0]
    message = "There is no learner with this email address in this course."
    assert message in texts[0] and message in texts[1]
    assert count(session, Accommodation) == 0


def test_background_save_when_signed_out_is_not_a_save(
    client, session, make_quiz, make_user, enrol
):
    course, item = make_quiz()
    other_course, other_item = make_quiz()
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    token = csrf_token(client, item_url(course, item))
    qid = question_ids(session, item)["Capital"]
    # The attempt under another quiz's URL does not exist.
    wrong = f"{attempt_url(other_course, other_item, attempt.id)}/answers/{qid}"
    assert (
        client.put(wrong, json={"answer": "c1"}, headers={"X-CSRFToken": token}).status_code == 404
    )
    post_form(client, "/logout")
    url = f"{attempt_url(course, item, attempt.id)}/answers/{qid}"
    response = client.put(url, json={"answer": "c1"}, headers={"X-CSRFToken": token})
    assert response.status_code in (302, 400, 401)  # never a 200 that quiz.js would take as saved
    assert count(session, Answer) == 0


def test_percentages_are_written_as_the_locale_writes_them(app):
    from vle.quizzes.kind import percent

    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert [percent(s) for s in (91.67, 100.0, 0.0, 12.5)] == ["91.67%", "100%", "0%", "12.5%"]
    with app.test_request_context(headers={"Accept-Language": "lt"}):
        assert percent(round(100 * 5.5 / 6, 2)) == "91,67\xa0%"
